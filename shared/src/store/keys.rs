//! The table layout, defined once: every partition and sort key is built here, and the
//! key schema below is what the local stack and the tests create and what a test checks
//! `template.yaml` against.
//!
//! | item                     | PK                                   | SK                                          |
//! |--------------------------|--------------------------------------|---------------------------------------------|
//! | account profile          | `ACCT#<account>`                     | `PROFILE`                                   |
//! | account token policy     | `ACCT#<account>`                     | `POLICY`                                    |
//! | active-token counter     | `ACCT#<account>`                     | `TOKENS`                                    |
//! | token metadata           | `ACCT#<account>`                     | `TOKEN#<token id>`                          |
//! | token by hash            | `TOKENHASH#<hash>`                   | `TOKENHASH`                                 |
//! | token by its maker       | `ACCT#<account>`                     | `MADEBY#<user, hex>#<token id>`             |
//! | a counted token's expiry | `ACCT#<account>`                     | `EXPIRY#<expires at, RFC 3339>#<token id>`  |
//! | customer                 | `ACCT#<account>`                     | `CUST#<customer id>`                        |
//! | voice agent              | `ACCT#<account>`                     | `AGENT#<agent id>`                          |
//! | credit transaction       | `ACCT#<account>`                     | `LEDGER#<transaction id>`                   |
//! | idempotency record       | `ACCT#<account>`                     | `IDEMP#<key>`                               |
//! | token history event      | `ACCT#<account>`                     | `EVENT#<token id>#<event id>`               |
//! | call                     | `CALLS#<account>`                    | `CALL#<started at, RFC 3339>#<call id>`     |
//! | … by agent               | `CALLS#<account>#AGENT#<agent id>`   | the same                                    |
//! | … by customer            | `CALLS#<account>#CUST#<customer id>` | the same                                    |
//! | daily usage per agent    | `USAGE#<account>`                    | `DAY#<date>#AGENT#<agent id>`               |
//! | a token's call counts    | `RATE#<token id>`                    | `RATE`                                      |
//! | registered OAuth client  | `OAUTHCLIENT#<client id>`            | `CLIENT`                                    |
//! | registrations per source | `OAUTHREGS#<source>`                 | `HOUR#<hour>`                               |
//! | authorization code       | `OAUTHCODE#<hash>`                   | `CODE`                                      |
//! | refresh token            | `REFRESH#<hash>`                     | `REFRESH`                                   |
//! | none: the MCP cold start's warm-up read | `WARMUP`              | `WARMUP`                                    |
//!
//! `<hash>` is the token's HMAC (lowercase hex), `<user, hex>` the maker's user id (the
//! JWT's `sub`) in lowercase hex of its UTF-8 — any character may be in a `sub`, and
//! none then reads as the `#` separator —, `<key>` the caller's idempotency key,
//! `<date>` `YYYY-MM-DD`, `<hour>` `YYYY-MM-DDTHH`, `<source>` a caller's IP address;
//! an authorization code and a refresh token are keyed by their HMAC like a token. A test reads this table and checks every row against the
//! functions below, and that every key they build has a row: change both together.
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
/// The account's token policy: an item of its own, so that the platform rewriting the
/// profile whole never resets it.
pub const POLICY: &str = "POLICY";
pub const TOKEN_COUNTER: &str = "TOKENS";
pub const TOKEN_PREFIX: &str = "TOKEN#";
pub const TOKEN_HASH_SK: &str = "TOKENHASH";

pub fn account(account: &AccountId) -> String {
    format!("ACCT#{account}")
}

pub fn token(id: &TokenId) -> String {
    format!("{TOKEN_PREFIX}{id}")
}

/// A token, in the list of the tokens one user made: what a member's listing and an
/// offboarding read, strongly consistent and never a colleague's item.
pub fn made_by(user: &str, id: &TokenId) -> String {
    format!("{}{id}", made_by_prefix(user))
}

/// The sort-key prefix of the tokens `user` made, newest last (ids are ULIDs).
pub fn made_by_prefix(user: &str) -> String {
    let hex: String = user.bytes().map(|b| format!("{b:02x}")).collect();
    format!("MADEBY#{hex}#")
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

/// A client registered by dynamic client registration (RFC 7591).
pub fn oauth_client(id: &str) -> String {
    format!("OAUTHCLIENT#{id}")
}

pub const OAUTH_CLIENT_SK: &str = "CLIENT";

/// The registrations from one source address, counted per hour.
pub fn registrations(source: &str) -> String {
    format!("OAUTHREGS#{source}")
}

/// `hour` is `YYYY-MM-DDTHH`.
pub fn registrations_hour(hour: &str) -> String {
    format!("HOUR#{hour}")
}

pub fn oauth_code(hash: &TokenHash) -> String {
    format!("OAUTHCODE#{}", hash.as_str())
}

pub const OAUTH_CODE_SK: &str = "CODE";

pub fn refresh(hash: &TokenHash) -> String {
    format!("REFRESH#{}", hash.as_str())
}

pub const REFRESH_SK: &str = "REFRESH";

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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use ring::rand::SystemRandom;
    use time::Duration;

    use crate::model::calls::format_date;
    use crate::model::credits::IdempotencyKey;
    use crate::model::hashing::Pepper;
    use crate::model::ids::{
        AccountId, AgentId, CallId, CustomerId, EventId, TokenId, TransactionId,
    };
    use crate::model::time::Timestamp;
    use crate::model::token::Token;
    use crate::store::keys;

    /// The module's own source: its doc table is what the test checks, and its `pub`
    /// items are what the table must cover.
    const SOURCE: &str = include_str!("keys.rs");

    /// Names of this module that are attribute names, not key values: no row for them.
    const NOT_KEYS: [&str; 4] = ["PK", "SK", "KEY_SCHEMA", "TTL"];

    /// The table's rows as `(item, PK pattern, SK pattern)`, "the same" resolved to the
    /// row above's SK.
    fn documented_rows() -> Vec<(String, String, String)> {
        let mut rows: Vec<(String, String, String)> = Vec::new();
        for line in SOURCE.lines() {
            let Some(row) = line.strip_prefix("//! |") else {
                continue;
            };
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            assert!(
                cells.len() >= 3,
                "the key table's row {line:?} has fewer than 3 cells"
            );
            let (item, pk, sk) = (cells[0], cells[1], cells[2]);
            if pk == "PK" || pk.starts_with('-') {
                continue; // the header and its rule
            }
            let sk = match sk {
                "the same" => match rows.last() {
                    Some((_, _, above)) => above.clone(),
                    None => panic!("the key table's first row says \"the same\""),
                },
                sk => sk.trim_matches('`').to_owned(),
            };
            rows.push((item.to_owned(), pk.trim_matches('`').to_owned(), sk));
        }
        rows
    }

    /// Every `pub fn` and `pub const` of the module, by name.
    fn public_names() -> BTreeSet<&'static str> {
        SOURCE
            .lines()
            .filter_map(|line| {
                line.strip_prefix("pub fn ")
                    .or_else(|| line.strip_prefix("pub const "))
            })
            .map(|rest| {
                let end = rest.find(['(', ':', '<']).unwrap_or(rest.len());
                rest[..end].trim()
            })
            .collect()
    }

    #[test]
    fn the_key_table_is_what_the_functions_build_and_covers_them_all() {
        // Sample values, each made through its real type.
        let started = Timestamp::from_unix(1_767_225_600).unwrap(); // 2026-01-01T00:00:00Z
        let expires = started.checked_add(Duration::days(30)).unwrap();
        let account = AccountId::parse("acct_demo").unwrap();
        let token_id = TokenId::new(started).unwrap();
        let event_id = EventId::new(started).unwrap();
        let customer_id = CustomerId::new(started).unwrap();
        let agent_id = AgentId::new(started).unwrap();
        let transaction_id = TransactionId::new(started).unwrap();
        let call_id = CallId::new(started).unwrap();
        let key = IdempotencyKey::parse("order-7").unwrap();
        let token = Token::generate(&SystemRandom::new()).unwrap();
        let hash = Pepper::new(&[7; 32]).unwrap().hash(&token);
        let date = format_date(started.date());

        let placeholders = [
            ("<account>", account.to_string()),
            ("<token id>", token_id.to_string()),
            ("<event id>", event_id.to_string()),
            ("<customer id>", customer_id.to_string()),
            ("<agent id>", agent_id.to_string()),
            ("<transaction id>", transaction_id.to_string()),
            ("<call id>", call_id.to_string()),
            ("<key>", key.as_str().to_owned()),
            ("<hash>", hash.as_str().to_owned()),
            ("<expires at, RFC 3339>", expires.rfc3339()),
            ("<started at, RFC 3339>", started.rfc3339()),
            ("<date>", date.clone()),
            ("<user, hex>", "757365725f62".to_owned()),
            ("<client id>", "mcpc_1".to_owned()),
            ("<source>", "192.0.2.1".to_owned()),
            ("<hour>", "2026-01-01T00".to_owned()),
        ];
        let fill = |pattern: &str| {
            let filled = placeholders
                .iter()
                .fold(pattern.to_owned(), |s, (name, value)| {
                    s.replace(name, value)
                });
            assert!(
                !filled.contains('<'),
                "the key table's pattern {pattern:?} has a placeholder this test does not know: \
                 add it to `placeholders`"
            );
            filled
        };

        // Every item kind, as the functions build it, with the names that build it.
        let built: Vec<(&[&str], String, String)> = vec![
            (
                &["account", "PROFILE"],
                keys::account(&account),
                keys::PROFILE.into(),
            ),
            (&["POLICY"], keys::account(&account), keys::POLICY.into()),
            (
                &["TOKEN_COUNTER"],
                keys::account(&account),
                keys::TOKEN_COUNTER.into(),
            ),
            (&["token"], keys::account(&account), keys::token(&token_id)),
            (
                &["made_by"],
                keys::account(&account),
                keys::made_by("user_b", &token_id),
            ),
            (
                &["token_hash", "TOKEN_HASH_SK"],
                keys::token_hash(&hash),
                keys::TOKEN_HASH_SK.into(),
            ),
            (
                &["expiry"],
                keys::account(&account),
                keys::expiry(expires, &token_id),
            ),
            (
                &["customer"],
                keys::account(&account),
                keys::customer(&customer_id),
            ),
            (&["agent"], keys::account(&account), keys::agent(&agent_id)),
            (
                &["ledger"],
                keys::account(&account),
                keys::ledger(&transaction_id),
            ),
            (
                &["idempotency"],
                keys::account(&account),
                keys::idempotency(&key),
            ),
            (
                &["event"],
                keys::account(&account),
                keys::event(&token_id, &event_id),
            ),
            (
                &["calls", "call"],
                keys::calls(&account),
                keys::call(started, &call_id),
            ),
            (
                &["calls_of_agent"],
                keys::calls_of_agent(&account, &agent_id),
                keys::call(started, &call_id),
            ),
            (
                &["calls_of_customer"],
                keys::calls_of_customer(&account, &customer_id),
                keys::call(started, &call_id),
            ),
            (
                &["usage", "usage_day"],
                keys::usage(&account),
                keys::usage_day(&date, &agent_id),
            ),
            (
                &["rate", "RATE_SK"],
                keys::rate(&token_id),
                keys::RATE_SK.into(),
            ),
            (&["WARM_UP"], keys::WARM_UP.into(), keys::WARM_UP.into()),
            (
                &["oauth_client", "OAUTH_CLIENT_SK"],
                keys::oauth_client("mcpc_1"),
                keys::OAUTH_CLIENT_SK.into(),
            ),
            (
                &["registrations", "registrations_hour"],
                keys::registrations("192.0.2.1"),
                keys::registrations_hour("2026-01-01T00"),
            ),
            (
                &["oauth_code", "OAUTH_CODE_SK"],
                keys::oauth_code(&hash),
                keys::OAUTH_CODE_SK.into(),
            ),
            (
                &["refresh", "REFRESH_SK"],
                keys::refresh(&hash),
                keys::REFRESH_SK.into(),
            ),
        ];

        // Each row is exactly one item kind; each item kind has a row.
        let rows = documented_rows();
        assert_eq!(
            rows.len(),
            built.len(),
            "the key table has {} rows, the test knows {} item kinds",
            rows.len(),
            built.len()
        );
        let mut documented = vec![false; built.len()];
        for (item, pk, sk) in &rows {
            let (pk, sk) = (fill(pk), fill(sk));
            let Some(at) = built
                .iter()
                .position(|(_, bpk, bsk)| *bpk == pk && *bsk == sk)
            else {
                panic!(
                    "the key table's row {item:?} reads PK {pk:?}, SK {sk:?}: no key function \
                     builds that; the functions build {:?}",
                    built.iter().map(|(_, pk, sk)| (pk, sk)).collect::<Vec<_>>()
                );
            };
            assert!(
                !documented[at],
                "the key table's row {item:?} repeats another row"
            );
            documented[at] = true;
        }

        // The prefixes and ranges a query uses are those of documented keys.
        let mut covered: BTreeSet<&str> = built
            .iter()
            .flat_map(|(names, ..)| names.iter().copied())
            .collect();
        let prefixes = [
            ("TOKEN_PREFIX", keys::TOKEN_PREFIX, keys::token(&token_id)),
            (
                "CUSTOMER_PREFIX",
                keys::CUSTOMER_PREFIX,
                keys::customer(&customer_id),
            ),
            ("AGENT_PREFIX", keys::AGENT_PREFIX, keys::agent(&agent_id)),
            (
                "LEDGER_PREFIX",
                keys::LEDGER_PREFIX,
                keys::ledger(&transaction_id),
            ),
            (
                "CALL_PREFIX",
                keys::CALL_PREFIX,
                keys::call(started, &call_id),
            ),
        ];
        for (name, prefix, key) in prefixes {
            assert!(
                key.starts_with(prefix),
                "{name} {prefix:?} does not begin {key:?}"
            );
            covered.insert(name);
        }
        assert!(keys::made_by("user_b", &token_id).starts_with(&keys::made_by_prefix("user_b")));
        assert!(!keys::made_by("user_b#x", &token_id).starts_with(&keys::made_by_prefix("user_b")));
        covered.insert("made_by_prefix");
        let history = keys::events_of(&token_id);
        assert!(keys::event(&token_id, &event_id).starts_with(&history));
        assert!(!keys::event(&TokenId::new(started).unwrap(), &event_id).starts_with(&history));
        covered.insert("events_of");
        let in_range = |(from, to): &(String, String), key: &String| from <= key && key <= to;
        let expiry_key = keys::expiry(expires, &token_id);
        assert!(in_range(&keys::expiries_until(expires), &expiry_key));
        assert!(!in_range(&keys::expiries_until(started), &expiry_key));
        covered.insert("expiries_until");
        let day = keys::usage_day(&date, &agent_id);
        assert!(in_range(&keys::usage_days(&date, &date), &day));
        let next_day = format_date(started.checked_add(Duration::days(1)).unwrap().date());
        assert!(!in_range(&keys::usage_days(&next_day, &next_day), &day));
        covered.insert("usage_days");

        // A key kind added to the module must be added above, and so to the table.
        let names = public_names();
        assert!(
            names.contains("account") && names.contains("WARM_UP"),
            "the module's names were not read: {names:?}"
        );
        for name in names {
            assert!(
                covered.contains(name) || NOT_KEYS.contains(&name),
                "keys::{name} is not checked against the key table: add its item kind to the \
                 table in the module doc and to this test"
            );
        }
    }
}
