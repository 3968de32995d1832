//! Credits: the account's pool, bought by the agency, and what it allocates to each
//! customer. Every movement is a ledger transaction.

use serde::Serialize;

use super::ids::{CustomerId, TransactionId};
use super::page::Listing;
use super::text::TextRule;
use super::time::Timestamp;
use crate::error::Error;

pub const MAX_ALLOCATION: i64 = 1_000_000;
pub const NOTE: TextRule = TextRule::line(500);
pub const LISTING: Listing = Listing {
    name: "credit transaction",
    default_size: 25,
    max_size: 100,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
pub struct Balances {
    /// Credits bought and not yet allocated.
    pub pool: i64,
    /// Sum of all customers' balances.
    pub allocated: i64,
    pub customers: Vec<CustomerBalance>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
pub struct CustomerBalance {
    pub customer_id: CustomerId,
    pub name: String,
    pub credits: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum TransactionKind {
    /// Credits bought, into the pool.
    Purchase,
    /// Pool → customer.
    Allocation,
    /// Credits the customer's calls used.
    Usage,
}

impl TransactionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionKind::Purchase => "purchase",
            TransactionKind::Allocation => "allocation",
            TransactionKind::Usage => "usage",
        }
    }

    pub fn parse(s: &str) -> Option<TransactionKind> {
        [Self::Purchase, Self::Allocation, Self::Usage]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
pub struct Transaction {
    pub transaction_id: TransactionId,
    pub kind: TransactionKind,
    pub customer_id: Option<CustomerId>,
    pub amount: i64,
    /// The pool after this transaction.
    pub pool_balance: i64,
    /// The customer's balance after this transaction, for allocations and usage.
    pub customer_balance: Option<i64>,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
pub struct Allocation {
    #[serde(flatten)]
    pub transaction: Transaction,
    /// True when this idempotency key had already allocated: nothing moved this time.
    pub replayed: bool,
}

/// A caller's key that makes an allocation happen at most once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(s: &str) -> Result<IdempotencyKey, Error> {
        let key = s.trim();
        if key.is_empty() || key.len() > 100 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Error::bad_request(
                "invalid_input",
                "idempotency_key must be 1 to 100 visible ASCII characters, unique per allocation (e.g. a UUID)",
            ));
        }
        Ok(IdempotencyKey(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an idempotency key is remembered with: the allocation it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub transaction_id: TransactionId,
    pub customer_id: CustomerId,
    pub amount: i64,
}

/// A balance as read and as it is to be written; the store writes it only if it is still
/// `from`, so a concurrent change makes the write fail instead of being lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub from: i64,
    pub to: i64,
}

/// An allocation amount: whole credits, 1 to [`MAX_ALLOCATION`].
pub fn check_amount(amount: i64) -> Result<i64, Error> {
    if (1..=MAX_ALLOCATION).contains(&amount) {
        Ok(amount)
    } else {
        Err(Error::bad_request(
            "invalid_input",
            format!("amount must be a whole number of credits from 1 to {MAX_ALLOCATION}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_whole_credits_within_bounds() {
        for bad in [0, -1, MAX_ALLOCATION + 1, i64::MIN, i64::MAX] {
            assert!(check_amount(bad).is_err(), "{bad}");
        }
        assert_eq!(check_amount(MAX_ALLOCATION).unwrap(), MAX_ALLOCATION);
    }

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert_eq!(IdempotencyKey::parse(" k-1 ").unwrap().as_str(), "k-1");
        for bad in ["", "   ", "a b", "ключ", &"k".repeat(101)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
