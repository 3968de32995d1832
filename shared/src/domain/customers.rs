//! Customers: the agency's clients, each with a status and a credit balance.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use time::OffsetDateTime;

use super::{matches, rfc3339, text, Page, Record};
use crate::error::Error;
use crate::hashing::Pepper;
use crate::identity::AccountId;
use crate::ids;
use crate::store::{keys, n, s, Item, ItemExt, Store};

pub const ID_PREFIX: &str = "cus_";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
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

    fn parse(s: &str) -> Option<CustomerStatus> {
        match s {
            "active" => Some(CustomerStatus::Active),
            "paused" => Some(CustomerStatus::Paused),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Customer {
    pub customer_id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: CustomerStatus,
    /// Credits allocated to this customer and not yet used.
    pub credits: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// What a caller may set on a customer; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct CustomerFields {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: Option<CustomerStatus>,
}

impl CustomerFields {
    /// Validated attribute assignments.
    fn assignments(self) -> Result<Vec<(&'static str, AttributeValue)>, Error> {
        let mut sets = Vec::new();
        if let Some(name) = self.name {
            sets.push(("name", s(text("name", &name, 100, false)?)));
        }
        if let Some(email) = self.email {
            sets.push(("email", s(email_address(&email)?)));
        }
        if let Some(phone) = self.phone {
            sets.push(("phone", s(phone_number(&phone)?)));
        }
        if let Some(status) = self.status {
            sets.push(("status", s(status.as_str())));
        }
        Ok(sets)
    }
}

pub async fn create(
    store: &Store,
    account: &AccountId,
    fields: CustomerFields,
    now: OffsetDateTime,
) -> Result<Customer, Error> {
    if fields.name.is_none() {
        return Err(Error::bad_request("invalid_input", "name is required"));
    }
    let id = ids::new(ID_PREFIX, now)?;
    let status = fields.status.unwrap_or(CustomerStatus::Active);
    let mut item = Item::from([
        (keys::PK.into(), s(keys::account(account))),
        (keys::SK.into(), s(keys::customer(&id))),
        ("customer_id".into(), s(&id)),
        ("status".into(), s(status.as_str())),
        ("credits".into(), n(0)),
        ("created_at".into(), n(now.unix_timestamp())),
        ("updated_at".into(), n(now.unix_timestamp())),
    ]);
    item.extend(
        fields
            .assignments()?
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v)),
    );
    store.create(item.clone()).await?;
    Customer::from_item(&item)
}

pub async fn get(store: &Store, account: &AccountId, id: &str) -> Result<Customer, Error> {
    super::get(store, account, id).await
}

pub async fn update(
    store: &Store,
    account: &AccountId,
    id: &str,
    fields: CustomerFields,
    now: OffsetDateTime,
) -> Result<Customer, Error> {
    let sets = fields.assignments()?;
    super::update(store, account, id, sets, "name, email, phone, status", now).await
}

pub async fn list(
    store: &Store,
    pepper: &Pepper,
    account: &AccountId,
    status: Option<CustomerStatus>,
    limit: Option<u32>,
    page_cursor: Option<&str>,
) -> Result<Page<Customer>, Error> {
    let status = status.map(CustomerStatus::as_str);
    super::page(store, pepper, account, (limit, page_cursor), |item| {
        matches(item, "status", status)
    })
    .await
}

/// Every customer of the account (balances, names for analytics).
pub async fn all(store: &Store, account: &AccountId) -> Result<Vec<Customer>, Error> {
    super::all(store, account).await
}

pub(crate) fn not_found(id: &str) -> Error {
    Customer::not_found(id)
}

impl Record for Customer {
    const KIND: &'static str = "customer";
    const ID_PREFIX: &'static str = ID_PREFIX;
    const SK_PREFIX: &'static str = keys::CUSTOMER_PREFIX;
    const HINT: &'static str = "; list_customers shows the customer ids";

    fn sort_key(id: &str) -> String {
        keys::customer(id)
    }

    fn from_item(item: &Item) -> Result<Customer, Error> {
        Ok(Customer {
            customer_id: item.string("customer_id")?,
            name: item.string("name")?,
            email: item.opt_string("email"),
            phone: item.opt_string("phone"),
            status: CustomerStatus::parse(&item.string("status")?)
                .unwrap_or(CustomerStatus::Paused),
            credits: item.int("credits")?,
            created_at: rfc3339(item.int("created_at")?),
            updated_at: rfc3339(item.int("updated_at")?),
        })
    }

    fn id(&self) -> &str {
        &self.customer_id
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
    fn an_update_with_nothing_to_change_is_refused() {
        assert!(CustomerFields::default().assignments().unwrap().is_empty());
    }
}
