//! A token's life — generate, list, revoke — for a signed-in user of an account, and the
//! account's token policy. Members see and revoke their own tokens; owners and admins all
//! of the account's, and they alone set the policy.
//!
//! Each route is read → decide → write: the decisions are pure functions of what was read
//! (`new_record`, `decide`, `visible`, `may_set_policy`, …), unit-tested below; the async
//! functions only read and write around them.

use ring::rand::SystemRandom;

use crate::error::Error;
use crate::model::account::Account;
use crate::model::admission::{self, Standing};
use crate::model::events::{self, Revocation, TokenEvent};
use crate::model::hashing::Pepper;
use crate::model::ids::TokenId;
use crate::model::page::{Page, PageRequest};
use crate::model::policy::Policy;
use crate::model::roles::Identity;
use crate::model::time::Timestamp;
use crate::model::token::Token;
use crate::model::tokens::{NewToken, TokenRecord, TokenStatus, LISTING, MAX_ACTIVE_TOKENS};
use crate::store::{Store, Written};

pub const API_ACCESS_WARNING: &str =
    "API access is not enabled for this account: this token will be refused until it is";

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
    now: Timestamp,
) -> Result<Generated, Error> {
    // Read before the write: if it fails, nothing was made that the caller never sees.
    let profile = store.account(&identity.account).await?;
    let token = Token::generate(&SystemRandom::new())
        .map_err(|_| Error::Internal("the system random generator failed".into()))?;
    let record = new_record(identity, profile.as_ref(), new, &token, pepper, now)?;
    let insert = async {
        if store.insert_token(&record, MAX_ACTIVE_TOKENS).await? == Written::Yes {
            return Ok(());
        }
        // Expired tokens still hold places until something retires them: do so, once.
        if store.retire_expired(&record.account, now).await? > 0
            && store.insert_token(&record, MAX_ACTIVE_TOKENS).await? == Written::Yes
        {
            return Ok(());
        }
        Err(Error::TokenLimit {
            limit: MAX_ACTIVE_TOKENS,
        })
    };
    insert.await?;
    Ok(Generated {
        token,
        record,
        warning: warning(profile.as_ref()),
    })
}

/// The record of the token `new` asks for, if the account's policy lets `identity` make
/// it (an account without a profile has the default policy).
fn new_record(
    identity: &Identity,
    profile: Option<&Account>,
    new: NewToken,
    token: &Token,
    pepper: &Pepper,
    now: Timestamp,
) -> Result<TokenRecord, Error> {
    let policy = profile.map(|a| a.policy).unwrap_or_default();
    let scopes = policy.admit(identity, &new)?;
    Ok(TokenRecord {
        id: TokenId::new(now)?,
        account: identity.account.clone(),
        expires_at: new.expires_at(now)?,
        name: new.name,
        hint: token.hint(),
        scopes,
        created_by: identity.user.clone(),
        creator_role: identity.role,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
        revocation: None,
        hash: pepper.hash(token),
        counted: true,
        allowed_ips: new.allowed_ips,
    })
}

/// What the generate response warns of: a token the account cannot use yet.
fn warning(profile: Option<&Account>) -> Option<&'static str> {
    (!profile.is_some_and(|a| a.api_access)).then_some(API_ACCESS_WARNING)
}

/// A listed token, and where it stands under the account's policy.
#[derive(Debug)]
pub struct Listed {
    pub record: TokenRecord,
    pub status: TokenStatus,
}

/// A page of the tokens the user may see, newest first, each with its status as the MCP
/// endpoint would decide it now (the policy's maximum lifetime included: the profile is
/// read beside the page).
pub async fn list(
    store: &Store,
    pepper: &Pepper,
    identity: &Identity,
    request: &PageRequest,
    now: Timestamp,
) -> Result<Page<Listed>, Error> {
    let account = &identity.account;
    let start = LISTING.start(pepper, account, request)?;
    let (slice, profile) = tokio::join!(
        store.list_tokens(account, start.size, start.after.as_ref(), creator(identity)),
        store.account(account)
    );
    let policy = profile?.map(|a| a.policy).unwrap_or_default();
    let page = LISTING.page(pepper, account, slice?);
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|record| Listed {
                status: admission::standing(record.life(), Some(&policy), now).status(),
                record,
            })
            .collect(),
        next_cursor: page.next_cursor,
    })
}

/// A page of a token's history, newest first; another account's token, or for a member a
/// colleague's, is not found.
pub async fn events(
    store: &Store,
    pepper: &Pepper,
    identity: &Identity,
    id: &str,
    request: &PageRequest,
) -> Result<Page<TokenEvent>, Error> {
    let account = &identity.account;
    let id = TokenId::parse(id).ok_or(Error::TokenNotFound)?;
    let start = events::LISTING.start(pepper, account, request)?;
    visible(identity, store.token(account, &id).await?)?;
    let slice = store
        .token_events(account, &id, start.size, start.after.as_ref())
        .await?;
    Ok(events::LISTING.page(pepper, account, slice))
}

/// What a revoke does with the record it read.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    AlreadyRevoked,
    Revoke,
}

/// Revoked already, or to revoke — an expired token too, so that it frees its place.
fn decide(record: &TokenRecord, now: Timestamp) -> Decision {
    match admission::standing(record.life(), None, now) {
        Standing::Revoked => Decision::AlreadyRevoked,
        Standing::Live { .. } | Standing::Expired { .. } => Decision::Revoke,
    }
}

/// Revokes a token of the caller's account. Unknown ids, other accounts' ids and, for a
/// member, colleagues' ids are the same 404; revoking a revoked token succeeds again.
pub async fn revoke(
    store: &Store,
    identity: &Identity,
    id: &str,
    now: Timestamp,
) -> Result<(), Error> {
    let id = TokenId::parse(id).ok_or(Error::TokenNotFound)?;
    let store = &store.in_call();
    let record = visible(identity, store.token(&identity.account, &id).await?)?;
    revoke_record(store, record, &Revocation::by_user(&identity.user), now).await?;
    Ok(())
}

/// Offboarding: revokes every live token `user` made in the caller's account (reason
/// `offboarded`, by the caller), for owners and admins; how many it revoked.
pub async fn revoke_user(
    store: &Store,
    identity: &Identity,
    user: &str,
    now: Timestamp,
) -> Result<usize, Error> {
    may_offboard(identity)?;
    let store = &store.in_call();
    let revocation = Revocation::offboarded_by(&identity.user);
    let mut revoked = 0_usize;
    for record in store.tokens_made_by(&identity.account, user).await? {
        if revoke_record(store, record, &revocation, now).await? {
            revoked = revoked.saturating_add(1);
        }
    }
    tracing::info!(account = %identity.account, by = %identity.user, revoked, "user offboarded");
    Ok(revoked)
}

/// Revokes the token `record` was read of, unless it is revoked already; whether this
/// revoked it. A race with another revoke (or a retire) costs a re-read, within the
/// call's retry budget.
async fn revoke_record(
    store: &Store,
    mut record: TokenRecord,
    revocation: &Revocation,
    now: Timestamp,
) -> Result<bool, Error> {
    loop {
        if decide(&record, now) == Decision::AlreadyRevoked {
            return Ok(false);
        }
        if store.revoke_token(&record, revocation, now).await? == Written::Yes {
            return Ok(true);
        }
        store
            .wait_to_retry("the token kept changing during the revoke")
            .await?;
        match store.token(&record.account, &record.id).await? {
            Some(again) => record = again,
            None => return Ok(false),
        }
    }
}

/// Whose tokens `identity` lists: a member only their own, owners and admins everyone's.
fn creator(identity: &Identity) -> Option<&str> {
    (!identity.role.manages_account()).then_some(identity.user.as_str())
}

/// The token if this user may see it; otherwise the same 404 as an unknown id, so that a
/// member cannot tell a colleague's token from none.
fn visible(identity: &Identity, record: Option<TokenRecord>) -> Result<TokenRecord, Error> {
    record
        .filter(|r| identity.may_manage(&r.created_by))
        .ok_or(Error::TokenNotFound)
}

/// The account's token policy; an account that never set one has the default.
pub async fn policy(store: &Store, identity: &Identity) -> Result<Policy, Error> {
    store.policy(&identity.account).await
}

/// Replaces the account's token policy: owners and admins only. It applies to tokens
/// already made from their next call on.
pub async fn set_policy(
    store: &Store,
    identity: &Identity,
    policy: Policy,
) -> Result<Policy, Error> {
    may_set_policy(identity)?;
    store.set_policy(&identity.account, &policy).await?;
    Ok(policy)
}

fn may_offboard(identity: &Identity) -> Result<(), Error> {
    only_managers(identity, "revoke another user's tokens")
}

fn may_set_policy(identity: &Identity) -> Result<(), Error> {
    only_managers(identity, "change its token policy")
}

/// Owners and admins only: a member asking to `what` gets 403 saying so.
fn only_managers(identity: &Identity, what: &str) -> Result<(), Error> {
    match identity.role.manages_account() {
        true => Ok(()),
        false => Err(Error::Forbidden(format!(
            "only the account's owners and admins may {what}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::AccountId;
    use crate::model::roles::Role;
    use crate::model::scope::Scopes;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_unix(s).unwrap()
    }

    fn identity(user: &str, role: Role) -> Identity {
        Identity {
            account: AccountId::parse("acct_a").unwrap(),
            user: user.into(),
            role,
        }
    }

    fn profile(api_access: bool, policy: Policy) -> Account {
        Account::sample(api_access, policy)
    }

    fn new(body: &str) -> NewToken {
        NewToken::from_json(body.as_bytes()).unwrap()
    }

    fn token() -> Token {
        Token::parse("kmcp_000000000000000000000000000000000000000001W9ct").unwrap()
    }

    fn pepper() -> Pepper {
        Pepper::new(&[3; 32]).unwrap()
    }

    fn record(ana: &Identity) -> TokenRecord {
        let open = profile(true, Policy::default());
        new_record(
            ana,
            Some(&open),
            new(r#"{"name": "x"}"#),
            &token(),
            &pepper(),
            at(100),
        )
        .unwrap()
    }

    #[test]
    fn a_new_record_is_the_creators_counted_and_holds_only_the_hash() {
        let ana = identity("ana", Role::Member);
        let open = profile(true, Policy::default());
        let made = new_record(
            &ana,
            Some(&open),
            new(r#"{"name": " Cursor ", "expires_in_days": 30, "scopes": ["customers:read"]}"#),
            &token(),
            &pepper(),
            at(100),
        )
        .unwrap();
        assert_eq!(made.name, "Cursor");
        assert_eq!(made.created_by, "ana");
        assert_eq!(made.created_at, at(100));
        assert_eq!(made.expires_at, Some(at(100 + 30 * 86_400)));
        assert_eq!(made.scopes, Scopes::parse(["customers:read"]).unwrap());
        assert_eq!(made.hint, "kmcp_…W9ct");
        assert_eq!(made.hash, pepper().hash(&token()));
        assert!(made.counted && made.revoked_at.is_none() && made.last_used_at.is_none());
    }

    #[test]
    fn a_new_record_follows_the_policy_or_its_absence() {
        let strict = Policy {
            allowed_scopes: Scopes::parse(["analytics:read"]).unwrap(),
            members_may_create: false,
            ..Policy::default()
        };
        let closed = profile(true, strict);
        let refused = new_record(
            &identity("ana", Role::Member),
            Some(&closed),
            new(r#"{"name": "x"}"#),
            &token(),
            &pepper(),
            at(0),
        )
        .unwrap_err();
        assert_eq!(refused.code(), "token_policy");
        let admin = new_record(
            &identity("bo", Role::Admin),
            Some(&closed),
            new(r#"{"name": "x"}"#),
            &token(),
            &pepper(),
            at(0),
        )
        .unwrap();
        assert_eq!(
            admin.scopes, strict.allowed_scopes,
            "no scopes asked: all allowed"
        );
        let unprofiled = new_record(
            &identity("ana", Role::Member),
            None,
            new(r#"{"name": "x"}"#),
            &token(),
            &pepper(),
            at(0),
        )
        .unwrap();
        assert_eq!(
            unprofiled.scopes,
            Scopes::all(),
            "no profile: the default policy"
        );
    }

    #[test]
    fn the_generate_response_warns_when_the_account_cannot_use_the_token() {
        assert_eq!(warning(None), Some(API_ACCESS_WARNING));
        assert_eq!(
            warning(Some(&profile(false, Policy::default()))),
            Some(API_ACCESS_WARNING)
        );
        assert_eq!(warning(Some(&profile(true, Policy::default()))), None);
    }

    #[test]
    fn members_list_and_see_their_own_tokens_owners_and_admins_all() {
        let ana = identity("ana", Role::Member);
        assert_eq!(creator(&ana), Some("ana"));
        assert_eq!(creator(&identity("bo", Role::Admin)), None);
        assert_eq!(creator(&identity("cy", Role::Owner)), None);
        let anas = record(&ana);
        assert!(visible(&ana, Some(anas.clone())).is_ok());
        let bos = visible(&identity("bo", Role::Member), Some(anas.clone())).unwrap_err();
        let unknown = visible(&identity("bo", Role::Member), None).unwrap_err();
        assert_eq!(
            (bos.status(), bos.to_string()),
            (unknown.status(), unknown.to_string()),
            "a colleague's token looks like none"
        );
        assert!(visible(&identity("bo", Role::Admin), Some(anas)).is_ok());
    }

    #[test]
    fn a_revoke_revokes_live_and_expired_tokens_and_leaves_revoked_ones() {
        let mut t = record(&identity("ana", Role::Owner));
        assert_eq!(decide(&t, at(200)), Decision::Revoke);
        t.expires_at = Some(at(150));
        assert_eq!(decide(&t, at(200)), Decision::Revoke, "frees its place");
        t.revoked_at = Some(at(160));
        assert_eq!(decide(&t, at(200)), Decision::AlreadyRevoked);
    }

    #[test]
    fn only_owners_and_admins_offboard() {
        assert!(may_offboard(&identity("a", Role::Owner)).is_ok());
        assert!(may_offboard(&identity("a", Role::Admin)).is_ok());
        assert_eq!(
            may_offboard(&identity("a", Role::Member))
                .unwrap_err()
                .status(),
            403
        );
    }

    #[test]
    fn only_owners_and_admins_set_the_policy() {
        assert!(may_set_policy(&identity("a", Role::Owner)).is_ok());
        assert!(may_set_policy(&identity("a", Role::Admin)).is_ok());
        let member = may_set_policy(&identity("a", Role::Member)).unwrap_err();
        assert_eq!(member.status(), 403);
    }
}
