//! What is known about a token besides the secret itself: its record, its status, what it
//! grants, and a validated request for a new one.

use serde::{Deserialize, Serialize};

use super::allowlist::AllowedIps;
use super::events::{Revocation, RevokedReason};
use super::hashing::TokenHash;
use super::ids::{AccountId, TokenId};
use super::page::Listing;
use super::roles::Role;
use super::scope::Scopes;
use super::text::TextRule;
use super::time::Timestamp;
use crate::error::Error;

pub const MAX_ACTIVE_TOKENS: u32 = 50;
pub const MAX_EXPIRY_DAYS: i64 = 365;
pub const NAME: TextRule = TextRule {
    max_chars: 64,
    multiline: false,
    code: "invalid_name",
};
pub const LISTING: Listing = Listing {
    name: "tokens",
    default_size: 20,
    max_size: 100,
};

/// Everything known about a token except the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub account: AccountId,
    pub name: String,
    pub hint: String,
    pub scopes: Scopes,
    pub created_by: String,
    /// The maker's role when it was made: what the policy lets members' tokens do binds
    /// tokens members made.
    pub creator_role: Role,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// Why, by whom, where it leaked: set with `revoked_at`.
    pub revocation: Option<Revocation>,
    pub hash: TokenHash,
    /// Whether it takes one of the account's places; expired tokens are retired lazily.
    pub counted: bool,
    /// Where it may be used from; `None`: anywhere.
    pub allowed_ips: Option<AllowedIps>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStatus {
    Active,
    Revoked,
    Expired,
}

/// What both of a token's items say of its life: whether it was revoked, when it was made
/// and when it expires. Where that leaves the token is [`admission::standing`]'s to say
/// (computed at read time: expiry needs no write to take effect).
///
/// [`admission::standing`]: super::admission::standing
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Life {
    pub revoked: bool,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

impl TokenRecord {
    pub fn life(&self) -> Life {
        Life {
            revoked: self.revoked_at.is_some(),
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

/// What a token grants, as the item found by its hash says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub account: AccountId,
    pub token_id: TokenId,
    pub hash: TokenHash,
    pub scopes: Scopes,
    /// The maker's role when it was made (see [`TokenRecord::creator_role`]).
    pub creator_role: Role,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub allowed_ips: Option<AllowedIps>,
    pub revoked: bool,
    /// Why it was revoked and, for a leak, where it was found.
    pub revoked_reason: Option<RevokedReason>,
    pub leak_url: Option<String>,
    pub last_used_at: Option<Timestamp>,
}

impl Grant {
    pub fn life(&self) -> Life {
        Life {
            revoked: self.revoked,
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

/// A validated request for a new token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    /// `None`: every scope the account's policy allows.
    pub scopes: Option<Scopes>,
    pub expires_in_days: Option<i64>,
    pub allowed_ips: Option<AllowedIps>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTokenBody {
    name: String,
    scopes: Option<Vec<String>>,
    expires_in_days: Option<i64>,
    allowed_ips: Option<Vec<String>>,
}

impl NewToken {
    pub fn from_json(body: &[u8]) -> Result<NewToken, Error> {
        let body: NewTokenBody = serde_json::from_slice(body).map_err(|e| {
            let message = if e.is_syntax() || e.is_eof() {
                r#"the request body must be JSON like {"name": "Cursor Development"}"#.to_owned()
            } else {
                format!("the request body is not valid: {e}")
            };
            Error::bad_request("invalid_body", message)
        })?;
        let name = NAME.check("name", &body.name)?;
        let scopes = match body.scopes {
            None => None,
            Some(names) => {
                let scopes = Scopes::parse(&names)
                    .map_err(|e| Error::bad_request("invalid_scope", e.to_string()))?;
                if scopes.is_empty() {
                    return Err(Error::bad_request(
                        "invalid_scope",
                        "scopes must list at least one scope (or be left out for all)",
                    ));
                }
                Some(scopes)
            }
        };
        if let Some(days) = body.expires_in_days {
            if !(1..=MAX_EXPIRY_DAYS).contains(&days) {
                return Err(Error::bad_request(
                    "invalid_expiry",
                    format!("expires_in_days must be between 1 and {MAX_EXPIRY_DAYS} (or left out for a token that does not expire)"),
                ));
            }
        }
        let allowed_ips = AllowedIps::parse(&body.allowed_ips.unwrap_or_default())?;
        Ok(NewToken {
            name,
            scopes,
            expires_in_days: body.expires_in_days,
            allowed_ips,
        })
    }

    /// When a token made at `created_at` expires.
    pub fn expires_at(&self, created_at: Timestamp) -> Result<Option<Timestamp>, Error> {
        self.expires_in_days
            .map(|days| {
                created_at
                    .checked_add(time::Duration::days(days))
                    .ok_or_else(|| {
                        Error::bad_request("invalid_expiry", "the expiry is out of range")
                    })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_request_leaves_scopes_to_the_policy_and_has_no_expiry() {
        let new = NewToken::from_json(br#"{"name": "  Cursor Development "}"#).unwrap();
        assert_eq!(
            new,
            NewToken {
                name: "Cursor Development".into(),
                scopes: None,
                expires_in_days: None,
                allowed_ips: None,
            }
        );
        let pinned =
            NewToken::from_json(br#"{"name": "x", "allowed_ips": ["203.0.113.0/24"]}"#).unwrap();
        assert_eq!(
            pinned.allowed_ips.map(|a| a.to_strings()),
            Some(vec!["203.0.113.0/24".to_owned()])
        );
        let err = NewToken::from_json(br#"{"name": "x", "allowed_ips": ["nowhere"]}"#).unwrap_err();
        assert_eq!(err.code(), "invalid_allowed_ips");
    }

    #[test]
    fn names_are_checked_after_trimming() {
        let err = |body: &str| {
            NewToken::from_json(body.as_bytes())
                .unwrap_err()
                .to_string()
        };
        assert!(err(r#"{"name": "   "}"#).contains("must not be empty"));
        assert!(err(&format!(r#"{{"name": "{}"}}"#, "é".repeat(65))).contains("at most 64"));
        assert!(
            NewToken::from_json(format!(r#"{{"name": "{}"}}"#, "é".repeat(64)).as_bytes()).is_ok()
        );
        assert!(err(r#"{"name": "a\nb"}"#).contains("control characters"));
    }

    #[test]
    fn expiry_must_be_one_to_365_days() {
        for bad in ["0", "366", "-1", "9223372036854775807"] {
            let body = format!(r#"{{"name": "x", "expires_in_days": {bad}}}"#);
            assert!(NewToken::from_json(body.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("between 1 and 365"));
        }
        let new = NewToken::from_json(br#"{"name": "x", "expires_in_days": 365}"#).unwrap();
        let now = Timestamp::from_unix(1_700_000_000).unwrap();
        assert_eq!(
            new.expires_at(now).unwrap().map(Timestamp::unix),
            Some(1_700_000_000 + 365 * 86_400)
        );
    }

    #[test]
    fn malformed_bodies_are_bad_requests() {
        for body in [
            "",
            "not json",
            "[1]",
            r#"{"name": 5}"#,
            r#"{"nom": "x"}"#,
            r#"{"name": "x", "scopes": "all"}"#,
        ] {
            let err = NewToken::from_json(body.as_bytes()).unwrap_err();
            assert_eq!(err.status(), 400, "{body}");
        }
    }

    #[test]
    fn empty_scope_list_is_refused() {
        let err = NewToken::from_json(br#"{"name": "x", "scopes": []}"#).unwrap_err();
        assert_eq!(err.code(), "invalid_scope");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn json() -> impl Strategy<Value = serde_json::Value> {
            let leaf = prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(Into::into),
                any::<i64>().prop_map(Into::into),
                any::<f64>().prop_map(|f| serde_json::json!(f)),
                "\\PC{0,70}".prop_map(Into::into),
            ];
            leaf.prop_recursive(3, 16, 4, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..4).prop_map(Into::into),
                    proptest::collection::btree_map(
                        prop_oneof![
                            Just("name".to_owned()),
                            Just("scopes".to_owned()),
                            Just("expires_in_days".to_owned()),
                            Just("allowed_ips".to_owned()),
                            "[a-z]{1,8}"
                        ],
                        inner,
                        0..4,
                    )
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
                ]
            })
        }

        proptest! {
            #[test]
            fn any_body_is_a_new_token_or_a_400(body in json(), raw in proptest::collection::vec(any::<u8>(), 0..64)) {
                for bytes in [body.to_string().into_bytes(), raw] {
                    match NewToken::from_json(&bytes) {
                        Ok(new) => {
                            prop_assert!(NAME.check("name", &new.name).is_ok());
                            prop_assert!(new.scopes.is_none_or(|s| !s.is_empty()));
                            prop_assert!(new.expires_in_days.is_none_or(|d| (1..=MAX_EXPIRY_DAYS).contains(&d)));
                        }
                        Err(e) => prop_assert_eq!(e.status(), 400),
                    }
                }
            }
        }
    }
}
