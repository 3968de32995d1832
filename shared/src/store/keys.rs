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
//! | a counted token's expiry | `ACCT#<account>` | `EXPIRY#<expires at, RFC 3339>#<id>` |
//! | customer              | `ACCT#<account>`    | `CUST#<id>`     |
//! | voice agent           | `ACCT#<account>`    | `AGENT#<id>`    |
//! | credit transaction    | `ACCT#<account>`    | `LEDGER#<id>`   |
//! | idempotency record    | `ACCT#<account>`    | `IDEMP#<key>`   |
//! | token history event   | `ACCT#<account>`    | `EVENT#<token id>#<event id>` |
//! | call                  | `CALLS#<account>`   | `CALL#<started at, RFC 3339>#<id>` |
//! | … by agent            | `CALLS#<account>#AGENT#<agent>` | the same |
//! | … by customer         | `CALLS#<account>#CUST#<customer>` | the same |
//! | daily usage per agent | `USAGE#<account>`   | `DAY#<date>#AGENT#<id>` |
//! | a token's call counts | `RATE#<token id>`   | `RATE`          |
//! | none: the MCP cold start's warm-up read | `WARMUP` | `WARMUP`  |
//!
//! Ids are ULIDs, so `TOKEN#…` and `LEDGER#…` sort keys read newest first with a reverse
//! Query. Calls and usage live in partitions of their own: they grow with traffic, the
//! account's partition does not. Each call is written to three partitions — the
//! account's, its agent's and its customer's — so the latest calls of one agent or one
//! customer are one Query, however many calls the others took.

use crate::model::credits::IdempotencyKey;
use crate::model::hashing::TokenHash;
use crate::model::ids::{AccountId, AgentId, CallId, CustomerId, EventId, TokenId, TransactionId};
use crate::model::time::Timestamp;

pub const PK: &str = "PK";
pub const SK: &str = "SK";

/// `(attribute, key type)`; both attributes are strings.
pub const KEY_SCHEMA: [(&str, &str); 2] = [(PK, "HASH"), (SK, "RANGE")];

/// The attribute DynamoDB's TTL reads (Unix seconds): history expires by it.
pub const TTL: &str = "expires_ttl";

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

/// Sorted by when the token expires, so the expired ones are one range.
pub fn expiry(at: Timestamp, id: &TokenId) -> String {
    format!("EXPIRY#{}#{id}", at.rfc3339())
}

/// The sort-key range of the expiries up to `now`.
pub fn expiries_until(now: Timestamp) -> (String, String) {
    ("EXPIRY#".into(), format!("EXPIRY#{}#~", now.rfc3339()))
}

/// A token's calls per minute, shared by every instance that serves it; in a partition
/// of its own, away from the account's.
pub fn rate(token: &TokenId) -> String {
    format!("RATE#{token}")
}

pub const RATE_SK: &str = "RATE";

/// The key a cold start reads to open its connection; never written.
pub const WARM_UP: &str = "WARMUP";

pub fn token_hash(hash: &TokenHash) -> String {
    format!("TOKENHASH#{}", hash.as_str())
}

pub const CUSTOMER_PREFIX: &str = "CUST#";
pub const AGENT_PREFIX: &str = "AGENT#";
pub const LEDGER_PREFIX: &str = "LEDGER#";
pub const CALL_PREFIX: &str = "CALL#";

pub fn customer(id: &CustomerId) -> String {
    format!("{CUSTOMER_PREFIX}{id}")
}

pub fn agent(id: &AgentId) -> String {
    format!("{AGENT_PREFIX}{id}")
}

pub fn ledger(id: &TransactionId) -> String {
    format!("{LEDGER_PREFIX}{id}")
}

pub fn idempotency(key: &IdempotencyKey) -> String {
    format!("IDEMP#{}", key.as_str())
}

/// The sort-key prefix of one token's history.
pub fn events_of(token: &TokenId) -> String {
    format!("EVENT#{token}#")
}

pub fn event(token: &TokenId, id: &EventId) -> String {
    format!("EVENT#{token}#{id}")
}

pub fn calls(account: &AccountId) -> String {
    format!("CALLS#{account}")
}

pub fn calls_of_agent(account: &AccountId, agent: &AgentId) -> String {
    format!("CALLS#{account}#AGENT#{agent}")
}

pub fn calls_of_customer(account: &AccountId, customer: &CustomerId) -> String {
    format!("CALLS#{account}#CUST#{customer}")
}

/// `started_at` as RFC 3339 in UTC, so the keys sort in time order.
pub fn call(started_at: Timestamp, id: &CallId) -> String {
    format!("{CALL_PREFIX}{}#{id}", started_at.rfc3339())
}

pub fn usage(account: &AccountId) -> String {
    format!("USAGE#{account}")
}

/// `date` is `YYYY-MM-DD`; a day's items sort together, days in order.
pub fn usage_day(date: &str, agent: &AgentId) -> String {
    format!("DAY#{date}#AGENT#{agent}")
}

/// The sort-key range of the days from `from` to `to`, inclusive.
pub fn usage_days(from: &str, to: &str) -> (String, String) {
    (format!("DAY#{from}#"), format!("DAY#{to}#~"))
}
