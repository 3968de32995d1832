//! Who is calling the MCP endpoint, checked on every request before any tool runs: the
//! bearer token's format and checksum (no database call for a damaged token), the token's
//! rate (a token over it is refused before it is read), one strongly consistent read of
//! the token, the account's profile when the token is fine on its own, and the decision
//! of [`admission::admit`] — the one place that says whether a token may act.

use std::net::IpAddr;

use time::Duration;

use super::limiter::{self, Limiter, Quota};
use super::profiles::Profiles;
use crate::error::{Error, TokenRefusal};
use crate::model::admission::{self, Admission, Caller, Profile, Refusal};
use crate::model::hashing::{Pepper, TokenHash};
use crate::model::time::Timestamp;
use crate::model::token::Token;
use crate::model::tokens::{Grant, GRACE_AFTER_FIRST_USE};
use crate::rules::lifecycle;
use crate::store::Store;

/// A use (when, and from where) is recorded at most once per token in this long; so is a
/// replaced token's reuse.
pub const LAST_USED_RESOLUTION: Duration = Duration::minutes(10);

/// An admitted call: who calls, what it is told of its rate, and what is left to write
/// once it is answered (its use, if the last one recorded is stale; its rate counts).
#[derive(Debug)]
pub struct Authenticated {
    pub caller: Caller,
    pub quota: Quota,
    pub record_use: Option<Grant>,
    pub send: Option<limiter::Send>,
}

/// A refused call: why, and what its refusal leaves to write once it is answered.
#[derive(Debug)]
pub struct Refused {
    pub error: Error,
    pub then: Option<Aftermath>,
    /// The token was a connected app's (MCP authorization): its client, not a person,
    /// holds it, and authorizing again is how it gets another.
    pub connected: bool,
}

impl From<Error> for Refused {
    fn from(error: Error) -> Refused {
        Refused {
            error,
            then: None,
            connected: false,
        }
    }
}

/// What a refusal leaves to write.
#[derive(Debug)]
pub enum Aftermath {
    /// Unused for longer than the policy allows: revoke it, reason `unused`, so that the
    /// list says so and its place is freed.
    RetireUnused(Grant),
    /// A replaced token used after its overlap: an alert in both tokens' histories.
    RecordReuse(Grant),
}

/// The token of an `Authorization` header value, as its hash: what identifies it before
/// any read (a damaged token is refused here, with no database call).
pub fn credential(pepper: &Pepper, authorization: Option<&str>) -> Result<TokenHash, Error> {
    Ok(pepper.hash(&bearer(authorization)?))
}

/// Admits the call with the token of hash `hash`, from `source`, at `now`, or says why
/// not. A refused call of a real token counts against its rate too, so that a client
/// that keeps trying is soon refused before the read, at no DynamoDB request.
pub async fn authenticate(
    store: &Store,
    profiles: &Profiles,
    limiter: &Limiter,
    hash: &TokenHash,
    source: Option<IpAddr>,
    now: Timestamp,
) -> Result<Authenticated, Refused> {
    let now_ms = i64::try_from(now.unix_millis()).unwrap_or(i64::MAX);
    limiter.check(hash, now_ms)?;
    let elsewhere = hash.from_elsewhere(source);
    limiter.check(&elsewhere, now_ms)?;
    // Strongly consistent: a revoke must be seen by the very next call.
    let grant = store.find_token(hash).await?;
    // The rate decision, when it was made beside the profile's read.
    let mut rate = None;
    let decision = match (
        admission::admit(grant.as_ref(), Profile::Unread, source, now),
        &grant,
    ) {
        (Admission::NeedsProfile, Some(found)) => {
            // A token that passed its own checks: its account's profile (not cached
            // here) and its rate decision (which may ask the store) at once, so that a
            // first call's two round trips overlap.
            let (profile, admitted) = tokio::join!(
                profiles.get(store, &found.account),
                limiter.admit_with(store, hash, &found.token_id, now_ms)
            );
            rate = Some(admitted);
            let profile = profile?;
            let profile = profile.as_ref().map_or(Profile::Missing, Profile::Read);
            admission::admit(grant.as_ref(), profile, source, now)
        }
        (decided, _) => decided,
    };
    let caller = match decision {
        Admission::Admitted(caller) => caller,
        Admission::Refused(refusal) => {
            match refusal {
                // Unknown hashes are anyone's to make up: they are not tracked.
                Refusal::Unknown => {}
                Refusal::Address { .. } => limiter.count_refused(&elsewhere, now_ms),
                // Counted already, beside the profile's read.
                _ if rate.is_some() => {}
                _ => limiter.count_refused(hash, now_ms),
            }
            let connected = grant.as_ref().is_some_and(|g| g.connected);
            let then = match (&refusal, grant) {
                (Refusal::Unused { .. }, Some(grant)) => Some(Aftermath::RetireUnused(grant)),
                (Refusal::Replaced { .. }, Some(grant)) => Some(Aftermath::RecordReuse(grant)),
                _ => None,
            };
            return Err(Refused {
                error: refusal.into(),
                then,
                connected,
            });
        }
        Admission::NeedsProfile => {
            return Err(
                Error::Internal("admission asked again for the profile it had".into()).into(),
            )
        }
    };
    let (quota, send) = match rate {
        Some(admitted) => admitted?,
        None => {
            limiter
                .admit_with(store, hash, &caller.token_id, now_ms)
                .await?
        }
    };
    let stale = grant
        .as_ref()
        .and_then(|g| g.last_used_at)
        .is_none_or(|at| {
            now.checked_sub(LAST_USED_RESOLUTION)
                .is_some_and(|s| at < s)
        });
    Ok(Authenticated {
        caller,
        quota,
        record_use: grant.filter(|_| stale),
        send,
    })
}

/// Records a use from `source` (see [`authenticate`]); a token's first use also ends the
/// overlap of the token it replaced, [`GRACE_AFTER_FIRST_USE`] from now. A failure is
/// logged, never the caller's problem.
pub async fn record_use(
    store: &Store,
    grant: Option<Grant>,
    source: Option<IpAddr>,
    now: Timestamp,
) {
    let Some(grant) = grant else { return };
    let stale_before = now.checked_sub(LAST_USED_RESOLUTION).unwrap_or(now);
    let from = source.map(|ip| ip.to_canonical().to_string());
    let touch = async {
        if let Err(e) = store
            .touch_token(&grant, from.as_deref(), now, stale_before)
            .await
        {
            tracing::warn!(error = %e, token_id = %grant.token_id, "last use not recorded");
        }
    };
    let end_overlap = async {
        let first_use = grant.last_used_at.is_none();
        let (Some(replaced), true) = (&grant.replaces, first_use) else {
            return;
        };
        let Some(until) = now.checked_add(GRACE_AFTER_FIRST_USE) else {
            return;
        };
        if let Err(e) = store.end_overlap(&grant.account, replaced, until).await {
            tracing::warn!(error = %e, token_id = %replaced.0, "replaced token's overlap not shortened");
        }
    };
    tokio::join!(touch, end_overlap);
}

/// Writes what a refusal left (see [`Aftermath`]); a failure is logged, never the
/// caller's problem.
pub async fn after_refusal(store: &Store, then: Aftermath, source: Option<IpAddr>, now: Timestamp) {
    let (written, grant) = match &then {
        Aftermath::RetireUnused(grant) => {
            (lifecycle::retire_unused(store, grant, now).await, grant)
        }
        Aftermath::RecordReuse(grant) => {
            let from = source.map(|ip| ip.to_canonical().to_string());
            let stale_before = now.checked_sub(LAST_USED_RESOLUTION).unwrap_or(now);
            if let Some(replacement) = &grant.replacement {
                tracing::warn!(
                    token_id = %grant.token_id,
                    replaced_by = %replacement.by,
                    from = from.as_deref().unwrap_or("unknown"),
                    "a replaced token was used after its overlap"
                );
            }
            let recorded = store.record_reuse(grant, from.as_deref(), now, stale_before);
            (recorded.await, grant)
        }
    };
    if let Err(e) = written {
        tracing::warn!(error = %e, token_id = %grant.token_id, "a refusal's aftermath not written");
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
