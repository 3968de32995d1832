//! Customers: the agency's clients, each with a status and a credit balance.

use serde::{Deserialize, Serialize};

use super::ids::CustomerId;
use super::page::Listing;
use super::text::TextRule;
use super::time::Timestamp;
use crate::error::Error;

pub const NAME: TextRule = TextRule::line(100);
pub const LISTING: Listing = Listing {
    name: "customer",
    default_size: 25,
    max_size: 100,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum CustomerStatus {
    /// Agents take calls.
    Active,
    /// Agents stop taking calls until resumed.
    Paused,
}

impl CustomerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerStatus::Active => "active",
            CustomerStatus::Paused => "paused",
        }
    }

    pub fn parse(s: &str) -> Option<CustomerStatus> {
        [CustomerStatus::Active, CustomerStatus::Paused]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
pub struct Customer {
    pub customer_id: CustomerId,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: CustomerStatus,
    /// Credits allocated to this customer and not yet used.
    pub credits: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a caller asks to set on a customer, unchecked; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct CustomerFields {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: Option<CustomerStatus>,
}

/// The same, checked and normalised: what the store writes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CustomerChanges {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: Option<CustomerStatus>,
}

impl CustomerFields {
    pub fn check(self) -> Result<CustomerChanges, Error> {
        Ok(CustomerChanges {
            name: self.name.map(|n| NAME.check("name", &n)).transpose()?,
            email: self.email.as_deref().map(email_address).transpose()?,
            phone: self.phone.as_deref().map(phone_number).transpose()?,
            status: self.status,
        })
    }
}

impl CustomerChanges {
    pub fn is_empty(&self) -> bool {
        *self == CustomerChanges::default()
    }

    /// A new customer with these fields; the name is required.
    pub fn create(self, id: CustomerId, now: Timestamp) -> Result<Customer, Error> {
        let name = self
            .name
            .ok_or_else(|| Error::bad_request("invalid_input", "name is required"))?;
        Ok(Customer {
            customer_id: id,
            name,
            email: self.email,
            phone: self.phone,
            status: self.status.unwrap_or(CustomerStatus::Active),
            credits: 0,
            created_at: now,
            updated_at: now,
        })
    }
}

fn email_address(email: &str) -> Result<String, Error> {
    let email = email.trim();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if valid {
        Ok(email.to_owned())
    } else {
        Err(Error::bad_request(
            "invalid_input",
            format!("{email:?} is not an email address like name@example.com"),
        ))
    }
}

/// E.164: `+`, then 8 to 15 digits; spaces, dashes, dots and parentheses are dropped.
fn phone_number(phone: &str) -> Result<String, Error> {
    let compact: String = phone
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(compact)
    } else {
        Err(Error::bad_request(
            "invalid_input",
            format!("{phone:?} is not a phone number in international form like +1 415 555 0142"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_phone_numbers_are_checked_and_normalised() {
        assert_eq!(
            email_address(" ops@acme.example ").unwrap(),
            "ops@acme.example"
        );
        assert!(email_address("ops@acme").is_err());
        assert!(email_address("ops acme@x.io").is_err());
        assert_eq!(phone_number("+1 (415) 555-0142").unwrap(), "+14155550142");
        assert!(phone_number("415 555 0142").is_err());
        assert!(phone_number("+1 415 CALL ME").is_err());
    }

    #[test]
    fn an_update_with_nothing_to_change_is_empty() {
        assert!(CustomerFields::default().check().unwrap().is_empty());
    }

    #[test]
    fn a_new_customer_needs_a_name_and_starts_active_without_credits() {
        let id = CustomerId::new(Timestamp::now()).unwrap();
        let now = Timestamp::now();
        assert!(CustomerChanges::default().create(id.clone(), now).is_err());
        let fields = CustomerFields {
            name: Some(" Acme ".into()),
            ..Default::default()
        };
        let customer = fields.check().unwrap().create(id, now).unwrap();
        assert_eq!(customer.name, "Acme");
        assert_eq!(customer.status, CustomerStatus::Active);
        assert_eq!(customer.credits, 0);
    }
}
