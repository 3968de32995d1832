//! The table layout, defined once: every partition and sort key is built here, and the
//! key schema below is what the local stack and the tests create and what a test checks
//! `template.yaml` against.
//!
//! | item                  | PK                  | SK              |
//! |-----------------------|---------------------|-----------------|
//! | account profile       | `ACCT#<account>`    | `PROFILE`       |
//! | active-token counter  | `ACCT#<account>`    | `TOKENS`        |
//! | token metadata        | `ACCT#<account>`    | `TOKEN#<id>`    |
//! | token by hash         | `TOKENHASH#<hash>`  | `TOKENHASH`     |
//!
//! Token ids are ULIDs, so `TOKEN#…` sort keys read newest first with a reverse Query.

use crate::hashing::TokenHash;
use crate::identity::AccountId;
use crate::lifecycle::TokenId;

pub const PK: &str = "PK";
pub const SK: &str = "SK";

/// `(attribute, key type)`; both attributes are strings.
pub const KEY_SCHEMA: [(&str, &str); 2] = [(PK, "HASH"), (SK, "RANGE")];

pub const PROFILE: &str = "PROFILE";
pub const TOKEN_COUNTER: &str = "TOKENS";
pub const TOKEN_PREFIX: &str = "TOKEN#";
pub const TOKEN_HASH_SK: &str = "TOKENHASH";

pub fn account(account: &AccountId) -> String {
    format!("ACCT#{account}")
}

pub fn token(id: &TokenId) -> String {
    format!("{TOKEN_PREFIX}{id}")
}

pub fn token_hash(hash: &TokenHash) -> String {
    format!("TOKENHASH#{}", hash.as_str())
}
