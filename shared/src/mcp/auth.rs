//! Who is calling the MCP endpoint, checked on every request before any tool runs: the
//! bearer token's format and checksum (no database call for a damaged token), then one
//! strongly consistent read of the token — revoked, expired or unknown tokens are refused —
//! then where the call comes from (the token's allowlist), then the account: its API
//! access and its token policy (a maximum lifetime, the scopes tokens may use).

use std::net::IpAddr;

use time::Duration;

use super::profiles::Profiles;
use crate::error::{Error, TokenRefusal};
use crate::model::account::Account;
use crate::model::allowlist::AllowedIps;
use crate::model::events::{Actor, RevokedReason};
use crate::model::hashing::{Pepper, TokenHash};
use crate::model::ids::{AccountId, TokenId};
use crate::model::scope::{Scope, Scopes};
use crate::model::time::Timestamp;
use crate::model::token::Token;
use crate::model::tokens::Grant;
use crate::store::Store;

/// A use is recorded at most once per token in this long.
pub const LAST_USED_RESOLUTION: Duration = Duration::minutes(5);
const GENERATE_HINT: &str = "generate a new one in Settings → MCP Tokens";

/// An authenticated MCP caller, with the account profile read to authenticate it (tools
/// that describe the account use it instead of reading it again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: AccountId,
    pub token_id: TokenId,
    /// What the token may do under the account's policy today.
    pub scopes: Scopes,
    /// When the token stops working: its own expiry or the policy's maximum lifetime,
    /// whichever comes first.
    pub expires_at: Option<Timestamp>,
    pub profile: Account,
}

impl Caller {
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(scope)
    }

    /// This token, making a change with `tool`: what its history records.
    pub fn acting_with(&self, tool: &'static str) -> Actor {
        Actor {
            token_id: self.token_id.clone(),
            tool,
        }
    }
}

/// A successful check, and the use to record if the last one is stale.
#[derive(Debug)]
pub struct Authenticated {
    pub caller: Caller,
    pub record_use: Option<Grant>,
}

/// The token of an `Authorization` header value, as its hash: what identifies it before
/// any read (a damaged token is refused here, with no database call).
pub fn credential(pepper: &Pepper, authorization: Option<&str>) -> Result<TokenHash, Error> {
    Ok(pepper.hash(&bearer(authorization)?))
}

/// Checks a token, by its hash, used from `source`: read it (one strongly consistent
/// read: a revoke must be seen by the very next call), decide, then take the account's
/// profile (read at most every few seconds per instance, see [`Profiles`]) and apply its
/// policy.
pub async fn authenticate(
    store: &Store,
    profiles: &Profiles,
    hash: &TokenHash,
    source: Option<IpAddr>,
    now: Timestamp,
) -> Result<Authenticated, Error> {
    let grant = store.find_token(hash).await?;
    let grant = admit(grant, now)?;
    if let Some(allowed) = &grant.allowed_ips {
        check_source(allowed, source)?;
    }
    let Some(profile) = profiles.granting(store, &grant.account).await? else {
        return Err(Error::ApiAccessDisabled);
    };
    let policy = profile.policy;
    let lifetime_end = policy.lifetime_end(grant.created_at);
    if let Some(end) = lifetime_end.filter(|end| *end <= now) {
        return Err(Error::InvalidToken(TokenRefusal::Expired, format!(
            "this token expired at {end}: the account's token policy lets tokens live at most {} days; {GENERATE_HINT}",
            policy.max_lifetime_days.unwrap_or_default()
        )));
    }
    let stale = grant.last_used_at.is_none_or(|at| {
        now.checked_sub(LAST_USED_RESOLUTION)
            .is_some_and(|s| at < s)
    });
    let expires_at = match (grant.expires_at, lifetime_end) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(Authenticated {
        caller: Caller {
            account: grant.account.clone(),
            token_id: grant.token_id.clone(),
            scopes: policy.effective_scopes(grant.scopes),
            expires_at,
            profile,
        },
        record_use: stale.then_some(grant),
    })
}

/// A pinned token works only from its allowlist; a request whose address is unknown is
/// refused too, never waved through.
fn check_source(allowed: &AllowedIps, source: Option<IpAddr>) -> Result<(), Error> {
    if source.is_some_and(|ip| allowed.permits(ip)) {
        return Ok(());
    }
    let from = source.map_or("an unknown address".to_owned(), |ip| {
        ip.to_canonical().to_string()
    });
    Err(Error::AddressNotAllowed(format!(
        "this token may only be used from {}; this request came from {from}",
        allowed.to_strings().join(", ")
    )))
}

/// Where revocation and expiry are checked: the token as found by its hash, or why it is
/// refused.
fn admit(grant: Option<Grant>, now: Timestamp) -> Result<Grant, Error> {
    let grant = grant.ok_or_else(|| {
        Error::InvalidToken(TokenRefusal::Unknown, format!(
            "this token is not recognized — it may belong to another environment or have been deleted; {GENERATE_HINT}"
        ))
    })?;
    if grant.revoked {
        let message = match (grant.revoked_reason, grant.leak_url.as_deref()) {
            (Some(RevokedReason::Leaked), Some(url)) => format!(
                "this token was found in public at {url} and revoked automatically; {GENERATE_HINT}, and keep it out of code you share"
            ),
            (Some(RevokedReason::Leaked), None) => format!(
                "this token was found in public and revoked automatically; {GENERATE_HINT}, and keep it out of code you share"
            ),
            (Some(RevokedReason::ReportedByHolder), _) => format!(
                "this token was reported as leaked and revoked; {GENERATE_HINT}"
            ),
            _ => format!("this token was revoked; {GENERATE_HINT}"),
        };
        let why = match grant.revoked_reason {
            Some(RevokedReason::Leaked | RevokedReason::ReportedByHolder) => TokenRefusal::Leaked,
            _ => TokenRefusal::Revoked,
        };
        return Err(Error::InvalidToken(why, message));
    }
    if let Some(at) = grant.expires_at.filter(|at| *at <= now) {
        return Err(Error::InvalidToken(
            TokenRefusal::Expired,
            format!("this token expired at {at}; {GENERATE_HINT}"),
        ));
    }
    Ok(grant)
}

/// Records a use (see [`authenticate`]); a failure is logged, never the caller's problem.
pub async fn record_use(store: &Store, grant: Option<Grant>, now: Timestamp) {
    let Some(grant) = grant else { return };
    let stale_before = now.checked_sub(LAST_USED_RESOLUTION).unwrap_or(now);
    if let Err(e) = store.touch_token(&grant, now, stale_before).await {
        tracing::warn!(error = %e, token_id = %grant.token_id, "last use not recorded");
    }
}

/// The token of `Bearer <token>`, tolerating whitespace around either part.
fn bearer(header: Option<&str>) -> Result<Token, Error> {
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or_else(|| {
        Error::InvalidToken(TokenRefusal::Missing,
            "no token: send the header `Authorization: Bearer kmcp_…` with a token from Settings → MCP Tokens".into(),
        )
    })?;
    let (scheme, token) = header
        .split_once(char::is_whitespace)
        .unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Error::InvalidToken(
            TokenRefusal::Malformed,
            "the Authorization header must be `Bearer ` followed by the token (kmcp_…)".into(),
        ));
    }
    Token::parse(token.trim())
        .map_err(|e| Error::InvalidToken(TokenRefusal::Malformed, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::token::TokenError;

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

    fn grant(expires_at: Option<i64>, revoked: bool) -> Option<Grant> {
        let at = |s| Timestamp::from_unix(s).unwrap();
        let token = Token::parse(TOKEN).unwrap();
        Some(Grant {
            account: AccountId::parse("acct_a").unwrap(),
            token_id: TokenId::new(at(0)).unwrap(),
            hash: Pepper::new(&[1; 32]).unwrap().hash(&token),
            scopes: Scopes::all(),
            created_at: at(0),
            expires_at: expires_at.map(at),
            allowed_ips: None,
            revoked,
            revoked_reason: None,
            leak_url: None,
            last_used_at: None,
        })
    }

    #[test]
    fn unknown_revoked_and_expired_tokens_are_refused_with_what_to_do() {
        let now = Timestamp::from_unix(1_000).unwrap();
        let refusal = |g| admit(g, now).unwrap_err().to_string();
        assert!(refusal(None).contains("not recognized"));
        assert!(refusal(grant(None, true)).contains("was revoked"));
        assert!(refusal(grant(Some(1_000), false)).contains("expired at 1970-01-01T00:16:40Z"));
        assert!(admit(grant(Some(1_001), false), now).is_ok());
        assert!(admit(grant(None, false), now).is_ok());
    }

    #[test]
    fn a_pinned_token_works_only_from_its_networks() {
        let allowed = AllowedIps::parse(&["203.0.113.0/24", "2001:db8::/32"])
            .unwrap()
            .unwrap();
        let from = |ip: &str| check_source(&allowed, Some(ip.parse().unwrap()));
        assert!(from("203.0.113.77").is_ok());
        assert!(from("2001:db8::5").is_ok());
        assert!(from("::ffff:203.0.113.5").is_ok());
        let refused = from("198.51.100.1").unwrap_err();
        assert_eq!(refused.status(), 403);
        assert_eq!(
            refused.to_string(),
            "this token may only be used from 203.0.113.0/24, 2001:db8::/32; this request came from 198.51.100.1"
        );
        let unknown = check_source(&allowed, None).unwrap_err().to_string();
        assert!(
            unknown.ends_with("came from an unknown address"),
            "{unknown}"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_authorization_header_is_read_or_refused_with_a_message(h in "\\PC{0,80}") {
                match bearer(Some(&h)) {
                    Ok(token) => prop_assert!(h.contains(token.expose())),
                    Err(e) => prop_assert!(matches!(e, Error::InvalidToken(_, ref m) if !m.is_empty())),
                }
            }

            #[test]
            fn a_valid_token_is_found_behind_any_spacing_and_scheme_case(
                before in "[ \t]{0,3}", between in "[ \t]{1,3}", after in "[ \t]{0,3}",
                upper in any::<bool>(),
            ) {
                let scheme = if upper { "BEARER" } else { "bearer" };
                let header = format!("{before}{scheme}{between}{TOKEN}{after}");
                let token = bearer(Some(&header)).unwrap();
                prop_assert_eq!(token.expose(), TOKEN);
            }
        }
    }
}
