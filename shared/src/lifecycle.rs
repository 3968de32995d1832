//! The rules of a token's life — generate, list, revoke — independent of HTTP: the
//! management functions and the local server call these with an identity and a store.

use std::fmt;

use ring::rand::SystemRandom;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::cursor;
use crate::error::Error;
use crate::hashing::{Pepper, TokenHash};
use crate::identity::{AccountId, Identity};
use crate::ids;
use crate::scope::Scopes;
use crate::store::tokens::{Inserted, Revoked};
use crate::store::Store;
use crate::token::Token;

pub const MAX_ACTIVE_TOKENS: u32 = 50;
pub const MAX_NAME_CHARS: usize = 64;
pub const MAX_EXPIRY_DAYS: i64 = 365;
/// Cursors of the token listing are valid for it alone.
const LISTING: &str = "tokens";
pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;
pub const API_ACCESS_WARNING: &str =
    "API access is not enabled for this account: this token will be refused until it is";

/// The public id of a token: `tok_` + a ULID, so ids sort by creation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenId(String);

impl TokenId {
    const PREFIX: &'static str = "tok_";

    fn new(now: OffsetDateTime) -> Result<TokenId, Error> {
        ids::new(Self::PREFIX, now).map(TokenId)
    }

    pub fn parse(s: &str) -> Option<TokenId> {
        ids::is_valid(Self::PREFIX, s).then(|| TokenId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything known about a token except the token itself. Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub account: AccountId,
    pub name: String,
    pub hint: String,
    pub scopes: Scopes,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub hash: TokenHash,
    /// Whether it takes one of the account's places; expired tokens are retired lazily.
    pub counted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Revoked,
    Expired,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Revoked => "revoked",
            TokenStatus::Expired => "expired",
        }
    }
}

impl TokenRecord {
    /// Computed at read time: expiry needs no write to take effect.
    pub fn status(&self, now: i64) -> TokenStatus {
        if self.revoked_at.is_some() {
            TokenStatus::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }
}

/// A validated request for a new token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub scopes: Scopes,
    pub expires_in_days: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTokenBody {
    name: String,
    scopes: Option<Vec<String>>,
    expires_in_days: Option<i64>,
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
        let name = validate_name(&body.name)?;
        let scopes = match body.scopes {
            None => Scopes::all(),
            Some(names) => {
                let scopes = Scopes::parse(&names)
                    .map_err(|e| Error::bad_request("invalid_scope", e.to_string()))?;
                if scopes.is_empty() {
                    return Err(Error::bad_request(
                        "invalid_scope",
                        "scopes must list at least one scope (or be left out for all)",
                    ));
                }
                scopes
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
        Ok(NewToken {
            name,
            scopes,
            expires_in_days: body.expires_in_days,
        })
    }
}

fn validate_name(raw: &str) -> Result<String, Error> {
    let name = raw.trim();
    let invalid = |message: String| Err(Error::bad_request("invalid_name", message));
    if name.is_empty() {
        return invalid(
            "name must not be empty: give the token a name like \"Cursor Development\"".into(),
        );
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return invalid(format!("name must be at most {MAX_NAME_CHARS} characters"));
    }
    if name.chars().any(char::is_control) {
        return invalid(
            "name must not contain control characters (such as newlines or tabs)".into(),
        );
    }
    Ok(name.to_owned())
}

/// A new token: shown to its creator once, never again.
#[derive(Debug)]
pub struct Generated {
    pub token: Token,
    pub record: TokenRecord,
    pub warning: Option<&'static str>,
}

pub async fn generate(
    store: &Store,
    pepper: &Pepper,
    identity: &Identity,
    new: NewToken,
    now: OffsetDateTime,
) -> Result<Generated, Error> {
    let token = Token::generate(&SystemRandom::new())
        .map_err(|_| Error::Internal("the system random generator failed".into()))?;
    let created_at = now.unix_timestamp();
    let record = TokenRecord {
        id: TokenId::new(now)?,
        account: identity.account.clone(),
        name: new.name,
        hint: token.hint(),
        scopes: new.scopes,
        created_by: identity.user.clone(),
        created_at,
        expires_at: new.expires_in_days.map(|days| created_at + days * 86_400),
        last_used_at: None,
        revoked_at: None,
        hash: pepper.hash(&token),
        counted: true,
    };
    // The profile read only shapes the warning, so it runs beside the write.
    let insert = async {
        match store.insert_token(&record, MAX_ACTIVE_TOKENS).await? {
            Inserted::Yes => Ok(()),
            // Expired tokens still hold places until something retires them: do so, once.
            Inserted::LimitReached
                if store.retire_expired(&record.account, created_at).await? > 0 =>
            {
                match store.insert_token(&record, MAX_ACTIVE_TOKENS).await? {
                    Inserted::Yes => Ok(()),
                    Inserted::LimitReached => Err(Error::TokenLimit {
                        limit: MAX_ACTIVE_TOKENS,
                    }),
                }
            }
            Inserted::LimitReached => Err(Error::TokenLimit {
                limit: MAX_ACTIVE_TOKENS,
            }),
        }
    };
    let (account, ()) = tokio::try_join!(store.get_account(&identity.account), insert)?;
    let api_access = account.is_some_and(|a| a.api_access);
    Ok(Generated {
        token,
        record,
        warning: (!api_access).then_some(API_ACCESS_WARNING),
    })
}

/// A page of a listing and the opaque cursor of the next one.
#[derive(Debug)]
pub struct Page {
    pub tokens: Vec<TokenRecord>,
    pub next_cursor: Option<String>,
}

pub async fn list(
    store: &Store,
    pepper: &Pepper,
    identity: &Identity,
    limit: Option<&str>,
    page_cursor: Option<&str>,
) -> Result<Page, Error> {
    let limit = limit
        .map(|raw| {
            raw.parse::<u32>().map_err(|_| {
                let message = format!("limit must be a whole number from 1 to {MAX_PAGE_SIZE}");
                Error::bad_request("invalid_limit", message)
            })
        })
        .transpose()?;
    let limit = crate::domain::page_size(limit, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let after = match page_cursor {
        None => None,
        Some(c) => Some(
            TokenId::parse(&cursor::open(pepper, &identity.account, LISTING, c)?)
                .ok_or_else(|| Error::Internal("a sealed token cursor holds no token id".into()))?,
        ),
    };
    let (tokens, more) = store
        .list_tokens(&identity.account, limit, after.as_ref())
        .await?;
    let next_cursor = match tokens.last() {
        Some(last) if more => Some(cursor::seal(
            pepper,
            &identity.account,
            LISTING,
            last.id.as_str(),
        )),
        _ => None,
    };
    Ok(Page {
        tokens,
        next_cursor,
    })
}

/// Revokes a token of the caller's account. Unknown ids and other accounts' ids are the
/// same 404; revoking a revoked token succeeds again.
pub async fn revoke(
    store: &Store,
    identity: &Identity,
    id: &str,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let id = TokenId::parse(id).ok_or(Error::TokenNotFound)?;
    // A race with another revoke (or a retire) costs a re-read; three rounds are plenty.
    for _ in 0..3 {
        let record = store
            .get_token(&identity.account, &id)
            .await?
            .ok_or(Error::TokenNotFound)?;
        if record.revoked_at.is_some() {
            return Ok(());
        }
        if let Revoked::Yes = store
            .revoke_token(&record, &identity.user, now.unix_timestamp())
            .await?
        {
            return Ok(());
        }
    }
    Err(Error::Unavailable {
        what: "the data store",
        source: "the token kept changing during the revoke".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_request_gets_every_scope_and_no_expiry() {
        let new = NewToken::from_json(br#"{"name": "  Cursor Development "}"#).unwrap();
        assert_eq!(
            new,
            NewToken {
                name: "Cursor Development".into(),
                scopes: Scopes::all(),
                expires_in_days: None
            }
        );
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
        for bad in ["0", "366", "-1"] {
            let body = format!(r#"{{"name": "x", "expires_in_days": {bad}}}"#);
            assert!(NewToken::from_json(body.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("between 1 and 365"));
        }
        assert!(NewToken::from_json(br#"{"name": "x", "expires_in_days": 365}"#).is_ok());
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
}
