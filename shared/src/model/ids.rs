//! Ids, as types: an account id as the platform gives it, and public ids — a short prefix
//! naming the kind (`tok_`, `cus_`, `agt_`, `txn_`, `call_`) and a ULID, so ids sort by
//! creation time and sort keys built from them read newest first. A string becomes an id
//! only by parsing, at the edge.

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;

use super::time::Timestamp;
use crate::error::Error;

/// An account id as it appears in keys; `#` is the key separator so it is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(s: &str) -> Option<AccountId> {
        let ok =
            (1..=128).contains(&s.len()) && s.chars().all(|c| c.is_ascii_graphic() && c != '#');
        ok.then(|| AccountId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! public_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh id that sorts after every id made before `now`.
            pub fn new(now: Timestamp) -> Result<$name, Error> {
                new_ulid(Self::PREFIX, now).map($name)
            }

            /// The id in canonical form, or `None` if `s` is not an id of this kind.
            pub fn parse(s: &str) -> Option<$name> {
                is_valid(Self::PREFIX, s).then(|| $name(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

public_id!(
    /// A token's public id: shown in lists, used to revoke.
    TokenId,
    "tok_"
);
public_id!(CustomerId, "cus_");
public_id!(AgentId, "agt_");
public_id!(
    /// A credit ledger transaction.
    TransactionId,
    "txn_"
);
public_id!(CallId, "call_");
public_id!(
    /// An entry of a token's history.
    EventId,
    "evt_"
);

/// An id a caller filters a listing by, or no filter; `None` when the id has the wrong
/// shape, so nothing can match and nothing need be read.
pub fn filter<T>(given: Option<&str>, parse: impl Fn(&str) -> Option<T>) -> Option<Option<T>> {
    match given {
        None => Some(None),
        Some(id) => parse(id).map(Some),
    }
}

fn new_ulid(prefix: &str, now: Timestamp) -> Result<String, Error> {
    let mut random = [0u8; 16];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| Error::Internal("the system random generator failed".into()))?;
    let ulid = ulid::Ulid::from_parts(now.unix_millis(), u128::from_be_bytes(random));
    Ok(format!("{prefix}{ulid}"))
}

fn is_valid(prefix: &str, s: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|u| {
            ulid::Ulid::from_string(u)
                .ok()
                .filter(|p| p.to_string() == u)
        })
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_creation_time_and_round_trip() {
        let at = |s| Timestamp::from_unix(s).unwrap();
        let earlier = CustomerId::new(at(1_700_000_000)).unwrap();
        let later = CustomerId::new(at(1_700_000_001)).unwrap();
        assert!(earlier < later);
        assert_eq!(CustomerId::parse(later.as_str()), Some(later.clone()));
        assert_eq!(AgentId::parse(later.as_str()), None);
        assert_eq!(CustomerId::parse("cus_nope"), None);
        assert_eq!(CustomerId::parse(&later.as_str().to_lowercase()), None);
    }

    #[test]
    fn account_ids_refuse_the_key_separator_and_odd_lengths() {
        assert!(AccountId::parse("acct_demo").is_some());
        assert!(AccountId::parse("acct#demo").is_none());
        assert!(AccountId::parse("").is_none());
        assert!(AccountId::parse(&"a".repeat(129)).is_none());
        assert!(AccountId::parse("acct demo").is_none());
    }
}
