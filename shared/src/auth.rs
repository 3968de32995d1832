//! Who is calling the MCP endpoint, checked on every request before any tool runs: the
//! bearer token's format and checksum (no database call for a damaged token), then one
//! strongly consistent read of the token — revoked, expired or unknown tokens are refused —
//! then the account's API access.

use time::OffsetDateTime;

use crate::domain::rfc3339;
use crate::error::Error;
use crate::hashing::{Pepper, TokenHash};
use crate::identity::AccountId;
use crate::lifecycle::TokenId;
use crate::scope::{Scope, Scopes};
use crate::store::accounts::Account;
use crate::store::tokens::Grant;
use crate::store::Store;
use crate::token::Token;

/// A use is recorded at most once per token in this many seconds.
pub const LAST_USED_RESOLUTION_SECS: i64 = 300;
const GENERATE_HINT: &str = "generate a new one in Settings → MCP Tokens";

/// An authenticated MCP caller, with the account profile read to authenticate it (tools
/// that describe the account use it instead of reading it again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: AccountId,
    pub token_id: TokenId,
    pub scopes: Scopes,
    pub profile: Account,
}

impl Caller {
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(scope)
    }
}

/// A successful check, and the use to record if the last one is stale.
#[derive(Debug)]
pub struct Authenticated {
    pub caller: Caller,
    pub record_use: Option<(Grant, TokenHash)>,
}

/// Checks an `Authorization` header value.
pub async fn authenticate(
    store: &Store,
    pepper: &Pepper,
    authorization: Option<&str>,
    now: OffsetDateTime,
) -> Result<Authenticated, Error> {
    let token = bearer(authorization)?;
    let hash = pepper.hash(&token);
    let grant = store.find_token(&hash).await?.ok_or_else(|| {
        Error::InvalidToken(format!(
            "this token is not recognized — it may belong to another environment or have been deleted; {GENERATE_HINT}"
        ))
    })?;
    let now = now.unix_timestamp();
    if grant.revoked {
        return Err(Error::InvalidToken(format!(
            "this token was revoked; {GENERATE_HINT}"
        )));
    }
    if let Some(at) = grant.expires_at.filter(|at| *at <= now) {
        return Err(Error::InvalidToken(format!(
            "this token expired at {}; {GENERATE_HINT}",
            rfc3339(at)
        )));
    }
    let profile = store.get_account(&grant.account).await?;
    let Some(profile) = profile.filter(|a| a.api_access) else {
        return Err(Error::ApiAccessDisabled);
    };
    let stale = grant
        .last_used_at
        .is_none_or(|at| at < now - LAST_USED_RESOLUTION_SECS);
    Ok(Authenticated {
        caller: Caller {
            account: grant.account.clone(),
            token_id: grant.token_id.clone(),
            scopes: grant.scopes,
            profile,
        },
        record_use: stale.then_some((grant, hash)),
    })
}

/// Records a use (see [`authenticate`]); a failure is logged, never the caller's problem.
pub async fn record_use(store: &Store, record: Option<(Grant, TokenHash)>, now: OffsetDateTime) {
    let Some((grant, hash)) = record else { return };
    let now = now.unix_timestamp();
    if let Err(e) = store
        .touch_token(&grant, &hash, now, now - LAST_USED_RESOLUTION_SECS)
        .await
    {
        tracing::warn!(error = %e, token_id = %grant.token_id, "last use not recorded");
    }
}

/// The token of `Bearer <token>`, tolerating whitespace around either part.
fn bearer(header: Option<&str>) -> Result<Token, Error> {
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or_else(|| {
        Error::InvalidToken(
            "no token: send the header `Authorization: Bearer kmcp_…` with a token from Settings → MCP Tokens".into(),
        )
    })?;
    let (scheme, token) = header
        .split_once(char::is_whitespace)
        .unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Error::InvalidToken(
            "the Authorization header must be `Bearer ` followed by the token (kmcp_…)".into(),
        ));
    }
    Token::parse(token.trim()).map_err(|e| Error::InvalidToken(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenError;

    const TOKEN: &str = "kmcp_000000000000000000000000000000000000000001W9ct";

    #[test]
    fn bearer_tolerates_whitespace_and_scheme_case() {
        for header in [
            format!("Bearer {TOKEN}"),
            format!("  bearer   {TOKEN}  "),
            format!("BEARER\t{TOKEN}"),
        ] {
            assert_eq!(bearer(Some(&header)).unwrap().expose(), TOKEN, "{header:?}");
        }
    }

    #[test]
    fn bearer_explains_what_is_wrong() {
        let message = |h: Option<&str>| bearer(h).unwrap_err().to_string();
        assert!(message(None).contains("Authorization: Bearer"));
        assert!(message(Some("   ")).contains("Authorization: Bearer"));
        assert!(message(Some(&format!("Basic {TOKEN}"))).contains("must be `Bearer `"));
        assert_eq!(
            message(Some(&format!("Bearer {}", &TOKEN[..40]))),
            TokenError::Truncated.to_string()
        );
        assert_eq!(
            message(Some(&format!("Bearer {TOKEN}x"))),
            TokenError::Padded.to_string()
        );
        assert_eq!(message(Some("Bearer")), TokenError::Missing.to_string());
    }
}
