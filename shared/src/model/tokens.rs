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
    /// Where the last recorded use came from.
    pub last_used_ip: Option<String>,
    pub revoked_at: Option<Timestamp>,
    /// Why, by whom, where it leaked: set with `revoked_at`.
    pub revocation: Option<Revocation>,
    pub hash: TokenHash,
    /// Whether it takes one of the account's places; expired tokens are retired lazily.
    pub counted: bool,
    /// Where it may be used from; `None`: anywhere.
    pub allowed_ips: Option<AllowedIps>,
    /// The token a rotation replaced it with, and until when it still works.
    pub replacement: Option<Replacement>,
    /// The token this one replaced, by id and hint.
    pub replaces: Option<(TokenId, String)>,
    /// Deleted from the list: only its history is still read.
    pub deleted: bool,
    /// The app it was issued to by MCP authorization (OAuth), when it is a grant: its
    /// token is then the grant's current access token, replaced at each refresh.
    pub app: Option<ConnectedApp>,
}

/// An app a user connected by MCP authorization, as its grant records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedApp {
    /// The OAuth client id: a registration's, or the URL of the app's metadata document.
    pub client_id: String,
    pub client_name: String,
    /// When the current access token stops working (an hour after its issue).
    pub access_until: Timestamp,
    /// How many times the grant was refreshed: the refresh token of this generation is
    /// the one that works.
    pub generation: u32,
}

/// What a rotation left on the token it replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    pub by: TokenId,
    /// The new token's hint, for the message a call with the old one gets.
    pub hint: String,
    pub at: Timestamp,
    /// The end of the overlap: brought forward when the new token is first used.
    pub works_until: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStatus {
    Active,
    Revoked,
    Expired,
    /// Rotated, and its overlap is over.
    Replaced,
}

/// Which tokens a listing shows (`?status=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Active,
    /// Revoked, expired or replaced: what the page's toggle shows.
    Inactive,
    All,
}

impl StatusFilter {
    pub fn parse(value: Option<&str>) -> Result<StatusFilter, Error> {
        match value {
            None | Some("active") => Ok(StatusFilter::Active),
            Some("inactive") => Ok(StatusFilter::Inactive),
            Some("all") => Ok(StatusFilter::All),
            Some(_) => Err(Error::bad_request(
                "invalid_status",
                "status must be active, inactive or all",
            )),
        }
    }

    pub fn shows(self, status: TokenStatus) -> bool {
        match self {
            StatusFilter::Active => status == TokenStatus::Active,
            StatusFilter::Inactive => status != TokenStatus::Active,
            StatusFilter::All => true,
        }
    }
}

/// The longest `?unused_for_days=` asks about: ten years.
pub const MAX_UNUSED_FOR_DAYS: i64 = 3650;

/// `?unused_for_days=N`: active tokens whose last use (or, never used, their creation)
/// is at least N days old.
pub fn parse_unused_for_days(value: &str) -> Result<i64, Error> {
    value
        .parse::<i64>()
        .ok()
        .filter(|d| (1..=MAX_UNUSED_FOR_DAYS).contains(d))
        .ok_or_else(|| {
            Error::bad_request(
                "invalid_unused_for_days",
                format!("unused_for_days must be a whole number of days from 1 to {MAX_UNUSED_FOR_DAYS}"),
            )
        })
}

/// What both of a token's items say of its life: whether it was revoked, when it was made,
/// when it expires, until when a rotation lets it work and when it was last used. Where
/// that leaves the token is [`admission::standing`]'s to say (computed at read time:
/// expiry, an overlap's end and disuse need no write to take effect).
///
/// [`admission::standing`]: super::admission::standing
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Life {
    pub revoked: bool,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub works_until: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

impl TokenRecord {
    pub fn life(&self) -> Life {
        Life {
            revoked: self.revoked_at.is_some(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            works_until: self.replacement.as_ref().map(|r| r.works_until),
            last_used_at: self.last_used_at,
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
    /// What a rotation left on it (see [`TokenRecord::replacement`]).
    pub replacement: Option<Replacement>,
    /// The token this one replaced: its first use ends that one's overlap early.
    pub replaces: Option<(TokenId, TokenHash)>,
    /// An access token a connected app got by MCP authorization: a refusal then points
    /// the app to authorization again (a person's pasted token never does).
    pub connected: bool,
}

impl Grant {
    pub fn life(&self) -> Life {
        Life {
            revoked: self.revoked,
            created_at: self.created_at,
            expires_at: self.expires_at,
            works_until: self.replacement.as_ref().map(|r| r.works_until),
            last_used_at: self.last_used_at,
        }
    }
}

/// How long a replaced token keeps working when no overlap is asked for.
pub const DEFAULT_OVERLAP_MINUTES: i64 = 60;
/// The longest overlap: a week.
pub const MAX_OVERLAP_MINUTES: i64 = 7 * 24 * 60;
/// A replaced token stops this long after its replacement is first used, if its overlap
/// would end later: the client that switched no longer needs it.
pub const GRACE_AFTER_FIRST_USE: time::Duration = time::Duration::minutes(5);

/// A validated request to rotate a token: `{"overlap_minutes": 0–10080}`, or no body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub overlap_minutes: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RotationBody {
    overlap_minutes: Option<i64>,
}

impl Rotation {
    pub fn from_json(body: &[u8]) -> Result<Rotation, Error> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Rotation {
                overlap_minutes: DEFAULT_OVERLAP_MINUTES,
            });
        }
        let range = format!("overlap_minutes must be a whole number of minutes from 0 (the old token stops now) to {MAX_OVERLAP_MINUTES} (7 days)");
        let example = r#"the request body must be JSON like {"overlap_minutes": 60}"#;
        let invalid = |message: String| Error::bad_request("invalid_body", message);
        // An object: serde would also read a struct from a list.
        let fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(body).map_err(|_| invalid(example.to_owned()))?;
        let body: RotationBody = serde_json::from_value(fields.into())
            .map_err(|e| invalid(format!("{example}: {e}")))?;
        let overlap_minutes = body.overlap_minutes.unwrap_or(DEFAULT_OVERLAP_MINUTES);
        if !(0..=MAX_OVERLAP_MINUTES).contains(&overlap_minutes) {
            return Err(Error::bad_request("invalid_overlap", range));
        }
        Ok(Rotation { overlap_minutes })
    }

    /// Until when the old token works, rotated at `now`.
    pub fn works_until(self, now: Timestamp) -> Result<Timestamp, Error> {
        now.checked_add(time::Duration::minutes(self.overlap_minutes))
            .ok_or_else(|| Error::bad_request("invalid_overlap", "the overlap is out of range"))
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

    #[test]
    fn a_rotation_asks_for_an_overlap_of_up_to_a_week_or_gets_an_hour() {
        let overlap = |body: &str| Rotation::from_json(body.as_bytes()).map(|r| r.overlap_minutes);
        assert_eq!(overlap("").unwrap(), 60);
        assert_eq!(overlap("  ").unwrap(), 60);
        assert_eq!(overlap("{}").unwrap(), 60);
        assert_eq!(overlap(r#"{"overlap_minutes": 0}"#).unwrap(), 0);
        assert_eq!(overlap(r#"{"overlap_minutes": 10080}"#).unwrap(), 10080);
        for (body, code) in [
            (r#"{"overlap_minutes": 10081}"#, "invalid_overlap"),
            (r#"{"overlap_minutes": -1}"#, "invalid_overlap"),
            (r#"{"overlap_minutes": 1.5}"#, "invalid_body"),
            (r#"{"overlap_minutes": "60"}"#, "invalid_body"),
            (r#"{"overlap": 60}"#, "invalid_body"),
            ("[60]", "invalid_body"),
            ("nope", "invalid_body"),
        ] {
            let err = overlap(body).unwrap_err();
            assert_eq!((err.status().as_u16(), err.code()), (400, code), "{body}");
        }
        let now = Timestamp::from_unix(1_700_000_000).unwrap();
        let until = Rotation {
            overlap_minutes: 90,
        }
        .works_until(now)
        .unwrap();
        assert_eq!(until.unix(), 1_700_000_000 + 90 * 60);
    }

    #[test]
    fn the_list_filters_parse_or_say_what_they_take() {
        assert_eq!(StatusFilter::parse(None).unwrap(), StatusFilter::Active);
        assert_eq!(
            StatusFilter::parse(Some("inactive")).unwrap(),
            StatusFilter::Inactive
        );
        assert_eq!(StatusFilter::parse(Some("all")).unwrap(), StatusFilter::All);
        assert_eq!(
            StatusFilter::parse(Some("Active")).unwrap_err().code(),
            "invalid_status"
        );
        assert!(StatusFilter::Inactive.shows(TokenStatus::Replaced));
        assert!(!StatusFilter::Active.shows(TokenStatus::Expired));
        assert_eq!(parse_unused_for_days("90").unwrap(), 90);
        for bad in ["0", "-3", "3651", "1e2", ""] {
            assert_eq!(
                parse_unused_for_days(bad).unwrap_err().code(),
                "invalid_unused_for_days"
            );
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_rotation_body_is_an_overlap_within_a_week_or_a_400(
                minutes in any::<i64>(), raw in "\\PC{0,40}",
            ) {
                let bodies = [format!(r#"{{"overlap_minutes": {minutes}}}"#), raw];
                for body in bodies {
                    match Rotation::from_json(body.as_bytes()) {
                        Ok(r) => prop_assert!((0..=MAX_OVERLAP_MINUTES).contains(&r.overlap_minutes)),
                        Err(e) => prop_assert_eq!(e.status(), 400),
                    }
                }
            }
        }

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
