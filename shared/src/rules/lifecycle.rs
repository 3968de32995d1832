//! A token's life — generate, list, rotate, revoke, delete — for a signed-in user of an
//! account, and the account's token policy. Members see, rotate and revoke their own
//! tokens; owners and admins all of the account's, and they alone set the policy.
//!
//! Each route is read → decide → write: the decisions are pure functions of what was read
//! (`new_record`, `rotated_record`, `decide`, `decide_delete`, `shown`, `visible`,
//! `may_set_policy`, …), unit-tested below; the async
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
use crate::model::tokens::{
    Grant, NewToken, Replacement, Rotation, StatusFilter, TokenRecord, TokenStatus, LISTING,
    MAX_ACTIVE_TOKENS,
};
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
        last_used_ip: None,
        revoked_at: None,
        revocation: None,
        hash: pepper.hash(token),
        counted: true,
        allowed_ips: new.allowed_ips,
        replacement: None,
        replaces: None,
        deleted: false,
        app: None,
    })
}

/// A rotation: the new token, shown to whoever rotated once, and until when the old one
/// still works.
#[derive(Debug)]
pub struct Rotated {
    pub token: Token,
    pub record: TokenRecord,
    pub replaced: TokenId,
    pub works_until: Timestamp,
    pub warning: Option<&'static str>,
}

/// Rotates a token of the caller's account: a new token with its name, scopes, allowlist
/// and maker, living as long from now as it did from its making (within the policy),
/// takes its place; the old one works until the overlap ends. Only live tokens rotate.
pub async fn rotate(
    store: &Store,
    pepper: &Pepper,
    identity: &Identity,
    id: &str,
    rotation: Rotation,
    now: Timestamp,
) -> Result<Rotated, Error> {
    let id = TokenId::parse(id).ok_or(Error::TokenNotFound)?;
    let store = &store.in_call();
    let (record, profile) = tokio::join!(
        store.token(&identity.account, &id),
        store.account(&identity.account)
    );
    let mut old = visible(identity, record?)?;
    let profile = profile?;
    if let Some(app) = &old.app {
        // Its access token is replaced every hour already; a pasted token cannot stand in.
        return Err(Error::Conflict {
            code: "connected_app",
            message: format!(
                "{} connected itself by authorization and renews its own access: revoke it, then connect the app again, to replace it",
                app.client_name
            ),
        });
    }
    let token = Token::generate(&SystemRandom::new())
        .map_err(|_| Error::Internal("the system random generator failed".into()))?;
    let works_until = rotation.works_until(now)?;
    loop {
        let new = rotated_record(identity, profile.as_ref(), &old, &token, pepper, now)?;
        let replacement = Replacement {
            by: new.id.clone(),
            hint: new.hint.clone(),
            at: now,
            works_until,
        };
        let by = &identity.user;
        if store
            .rotate_token(&old, &new, &replacement, by, rotation.overlap_minutes)
            .await?
            == Written::Yes
        {
            return Ok(Rotated {
                token,
                record: new,
                replaced: old.id,
                works_until,
                warning: warning(profile.as_ref()),
            });
        }
        // Revoked, rotated or retired meanwhile: decide again on what it is now.
        store
            .wait_to_retry("the token kept changing during the rotation")
            .await?;
        old = store
            .token(&identity.account, &id)
            .await?
            .ok_or(Error::TokenNotFound)?;
    }
}

/// The record of the token that replaces `old`, if `identity` may rotate it now.
fn rotated_record(
    identity: &Identity,
    profile: Option<&Account>,
    old: &TokenRecord,
    token: &Token,
    pepper: &Pepper,
    now: Timestamp,
) -> Result<TokenRecord, Error> {
    let policy = profile.map(|a| a.policy).unwrap_or_default();
    let refuse = |message: String| Error::Conflict {
        code: "not_rotatable",
        message,
    };
    if old.deleted {
        return Err(Error::TokenNotFound);
    }
    if let Some(replaced) = &old.replacement {
        return Err(refuse(format!(
            "this token was already replaced by {}; rotate that one instead",
            replaced.hint
        )));
    }
    match admission::standing(old.life(), Some(&policy), now) {
        Standing::Live { .. } => {}
        Standing::Revoked | Standing::Unused { .. } => {
            return Err(refuse(
                "this token is revoked: generate a new one instead".into(),
            ))
        }
        Standing::Expired { .. } | Standing::Replaced { .. } => {
            return Err(refuse(
                "this token has expired: generate a new one instead".into(),
            ))
        }
    }
    if !policy.members_may_create && !identity.role.manages_account() {
        return Err(Error::bad_request(
            "token_policy",
            "the account's token policy lets only owners and admins create tokens, and rotating makes one",
        ));
    }
    Ok(TokenRecord {
        id: TokenId::new(now)?,
        account: old.account.clone(),
        name: old.name.clone(),
        hint: token.hint(),
        scopes: old.scopes,
        // The maker's token still: their list shows it, their offboarding revokes it.
        created_by: old.created_by.clone(),
        creator_role: old.creator_role,
        created_at: now,
        expires_at: rotated_expiry(old, &policy, now),
        last_used_at: None,
        last_used_ip: None,
        revoked_at: None,
        revocation: None,
        hash: pepper.hash(token),
        counted: true,
        allowed_ips: old.allowed_ips.clone(),
        replacement: None,
        replaces: Some((old.id.clone(), old.hint.clone())),
        deleted: false,
        app: None,
    })
}

/// When a token rotated from `old` at `now` expires: as long after now as `old` lived,
/// never longer than the policy's maximum lifetime (which a token without an expiry gets
/// when there is one).
fn rotated_expiry(old: &TokenRecord, policy: &Policy, now: Timestamp) -> Option<Timestamp> {
    let lived = old
        .expires_at
        .map(|end| time::Duration::seconds(end.unix().saturating_sub(old.created_at.unix())));
    let most = policy.max_lifetime_days.map(time::Duration::days);
    let lifetime = match (lived, most) {
        (Some(lived), Some(most)) => Some(lived.min(most)),
        (lived, most) => lived.or(most),
    }?;
    now.checked_add(lifetime)
}

/// What the generate response warns of: a token the account cannot use yet.
fn warning(profile: Option<&Account>) -> Option<&'static str> {
    (!profile.is_some_and(|a| a.api_access)).then_some(API_ACCESS_WARNING)
}

/// A listed token, and where it stands under the account's policy.
#[derive(Debug)]
pub struct Listed {
    pub record: TokenRecord,
    pub standing: Standing,
}

/// Which of the tokens a user may see a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    pub status: StatusFilter,
    /// Only active tokens unused for at least this many days.
    pub unused_for_days: Option<i64>,
}

impl Filter {
    /// What the page lists first.
    pub const ACTIVE: Filter = Filter {
        status: StatusFilter::Active,
        unused_for_days: None,
    };
    pub const ALL: Filter = Filter {
        status: StatusFilter::All,
        unused_for_days: None,
    };
}

/// A page of the tokens the user may see that `filter` shows, newest first, each with its
/// status as the MCP endpoint would decide it now (the policy's maximum lifetime and
/// disuse included: the policy is read first, the page filtered as it is read). A
/// filtered page may hold fewer than asked, with a cursor to go on.
pub async fn list(
    store: &Store,
    pepper: &Pepper,
    identity: &Identity,
    request: &PageRequest,
    filter: Filter,
    now: Timestamp,
) -> Result<Page<Listed>, Error> {
    let account = &identity.account;
    let start = LISTING.start(pepper, account, request)?;
    let policy = store.policy(account).await?;
    let keep = |record: &TokenRecord| shown(record, &policy, filter, now);
    let slice = store
        .list_tokens(
            account,
            start.size,
            start.after.as_ref(),
            creator(identity),
            &keep,
        )
        .await?;
    let page = LISTING.page(pepper, account, slice);
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|record| Listed {
                standing: admission::standing(record.life(), Some(&policy), now),
                record,
            })
            .collect(),
        next_cursor: page.next_cursor,
    })
}

/// Whether a listing with `filter` shows `record` at `now`. A deleted token is never
/// shown.
fn shown(record: &TokenRecord, policy: &Policy, filter: Filter, now: Timestamp) -> bool {
    let status = admission::standing(record.life(), Some(policy), now).status();
    let unused_long_enough = filter.unused_for_days.is_none_or(|days| {
        let since = record.last_used_at.unwrap_or(record.created_at);
        status == TokenStatus::Active
            && now
                .checked_sub(time::Duration::days(days))
                .is_some_and(|cutoff| since <= cutoff)
    });
    !record.deleted && filter.status.shows(status) && unused_long_enough
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

/// Revoked already, or to revoke — an expired or replaced token too, so that it frees
/// any place it holds.
fn decide(record: &TokenRecord, now: Timestamp) -> Decision {
    match admission::standing(record.life(), None, now) {
        Standing::Revoked => Decision::AlreadyRevoked,
        _ => Decision::Revoke,
    }
}

/// What `DELETE /mcp-tokens/{id}` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// The token worked (a replaced one in its overlap too): it is revoked, its row stays.
    Revoked,
    /// It no longer worked (revoked, expired, replaced, retired for disuse): its row is
    /// gone from the list, its history stays.
    Removed,
}

/// What a delete does with the record it read, under the account's policy, at `now`.
fn decide_delete(record: &TokenRecord, policy: &Policy, now: Timestamp) -> Deletion {
    match admission::standing(record.life(), Some(policy), now) {
        Standing::Live { .. } if !record.deleted => Deletion::Revoked,
        _ => Deletion::Removed,
    }
}

/// `DELETE /mcp-tokens/{id}`: revokes a token that works, removes from the list one
/// that does not. Unknown ids, other accounts' ids and, for a member, colleagues' ids
/// are the same 404; deleting again succeeds again.
pub async fn delete(
    store: &Store,
    identity: &Identity,
    id: &str,
    now: Timestamp,
) -> Result<Deletion, Error> {
    let id = TokenId::parse(id).ok_or(Error::TokenNotFound)?;
    let store = &store.in_call();
    let (record, policy) = tokio::join!(
        store.token(&identity.account, &id),
        store.policy(&identity.account)
    );
    let (mut record, policy) = (visible(identity, record?)?, policy?);
    loop {
        match decide_delete(&record, &policy, now) {
            Deletion::Revoked => {
                revoke_record(store, record, &Revocation::by_user(&identity.user), now).await?;
                return Ok(Deletion::Revoked);
            }
            Deletion::Removed if record.deleted => return Ok(Deletion::Removed),
            Deletion::Removed => {
                if store.hide_token(&record, &identity.user, now).await? == Written::Yes {
                    return Ok(Deletion::Removed);
                }
            }
        }
        store
            .wait_to_retry("the token kept changing during the delete")
            .await?;
        match store.token(&identity.account, &id).await? {
            Some(again) => record = again,
            None => return Ok(Deletion::Removed),
        }
    }
}

/// Revokes the token of `grant` for its disuse (the MCP endpoint, once it refused a call
/// for it): what the list then shows, and its place freed.
pub async fn retire_unused(store: &Store, grant: &Grant, now: Timestamp) -> Result<(), Error> {
    let store = &store.in_call();
    if let Some(record) = store.token(&grant.account, &grant.token_id).await? {
        revoke_record(store, record, &Revocation::unused(), now).await?;
    }
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
pub(crate) async fn revoke_record(
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

    const DAY: i64 = 86_400;

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
    fn a_rotation_keeps_the_token_and_its_maker_and_lives_as_long_within_the_policy() {
        let mia = identity("mia", Role::Member);
        let olga = identity("olga", Role::Owner);
        let mut old = record(&mia);
        old.expires_at = Some(at(100 + 10 * DAY));
        old.allowed_ips = crate::model::allowlist::AllowedIps::parse(&["203.0.113.0/24"]).unwrap();
        let open = profile(true, Policy::default());
        let other = Token::generate(&SystemRandom::new()).unwrap();
        let now = at(100 + 5 * DAY);
        let new = rotated_record(&olga, Some(&open), &old, &other, &pepper(), now).unwrap();
        assert_eq!(
            (new.name.as_str(), new.scopes),
            (old.name.as_str(), old.scopes)
        );
        assert_eq!(new.allowed_ips, old.allowed_ips);
        assert_eq!(
            (new.created_by.as_str(), new.creator_role),
            ("mia", Role::Member),
            "still Mia's"
        );
        assert_eq!(
            new.expires_at,
            Some(at(100 + 15 * DAY)),
            "ten days from now, as before"
        );
        assert_eq!(new.replaces, Some((old.id.clone(), old.hint.clone())));
        assert_eq!(new.hash, pepper().hash(&other));
        // Within the policy: at most its maximum, which a token without expiry gets too.
        let week = Policy {
            max_lifetime_days: Some(7),
            ..Policy::default()
        };
        assert_eq!(rotated_expiry(&old, &week, now), Some(at(100 + 12 * DAY)));
        old.expires_at = None;
        assert_eq!(rotated_expiry(&old, &week, now), Some(at(100 + 12 * DAY)));
        assert_eq!(rotated_expiry(&old, &Policy::default(), now), None);
    }

    #[test]
    fn only_a_live_unrotated_token_rotates_and_members_only_if_they_may_create() {
        let mia = identity("mia", Role::Member);
        let open = profile(true, Policy::default());
        let other = Token::generate(&SystemRandom::new()).unwrap();
        let refusal = |t: &TokenRecord, who: &Identity, p: &Account| {
            let e = rotated_record(who, Some(p), t, &other, &pepper(), at(200)).unwrap_err();
            (e.status().as_u16(), e.code(), e.to_string())
        };
        let mut revoked = record(&mia);
        revoked.revoked_at = Some(at(150));
        assert_eq!(refusal(&revoked, &mia, &open).1, "not_rotatable");
        let mut expired = record(&mia);
        expired.expires_at = Some(at(150));
        assert!(refusal(&expired, &mia, &open).2.contains("expired"));
        let mut replaced = record(&mia);
        replaced.replacement = Some(crate::model::tokens::Replacement {
            by: TokenId::new(at(120)).unwrap(),
            hint: "kmcp_…dXrK".into(),
            at: at(120),
            works_until: at(900),
        });
        let (status, code, message) = refusal(&replaced, &mia, &open);
        assert_eq!((status, code), (409, "not_rotatable"));
        assert!(message.contains("kmcp_…dXrK"), "{message}");
        let mut deleted = record(&mia);
        deleted.deleted = true;
        assert_eq!(refusal(&deleted, &mia, &open).0, 404);
        let owners_only = profile(
            true,
            Policy {
                members_may_create: false,
                ..Policy::default()
            },
        );
        assert_eq!(refusal(&record(&mia), &mia, &owners_only).1, "token_policy");
        let admin = identity("bo", Role::Admin);
        assert!(rotated_record(
            &admin,
            Some(&owners_only),
            &record(&mia),
            &other,
            &pepper(),
            at(200)
        )
        .is_ok());
    }

    #[test]
    fn delete_revokes_what_works_and_removes_what_does_not() {
        let ana = identity("ana", Role::Owner);
        let policy = Policy::default();
        let live = record(&ana);
        assert_eq!(decide_delete(&live, &policy, at(200)), Deletion::Revoked);
        let mut replaced = record(&ana);
        replaced.replacement = Some(crate::model::tokens::Replacement {
            by: TokenId::new(at(120)).unwrap(),
            hint: "h".into(),
            at: at(120),
            works_until: at(300),
        });
        assert_eq!(
            decide_delete(&replaced, &policy, at(200)),
            Deletion::Revoked,
            "in its overlap"
        );
        assert_eq!(
            decide_delete(&replaced, &policy, at(300)),
            Deletion::Removed
        );
        let mut revoked = record(&ana);
        revoked.revoked_at = Some(at(150));
        assert_eq!(decide_delete(&revoked, &policy, at(200)), Deletion::Removed);
        let unused = Policy {
            revoke_unused_after_days: Some(30),
            ..Policy::default()
        };
        assert_eq!(
            decide_delete(&live, &unused, at(100 + 30 * DAY)),
            Deletion::Removed
        );
    }

    #[test]
    fn the_list_shows_what_its_filter_asks_and_never_a_deleted_row() {
        let ana = identity("ana", Role::Owner);
        let policy = Policy::default();
        let filter = |status, unused_for_days| Filter {
            status,
            unused_for_days,
        };
        let live = record(&ana);
        let mut revoked = record(&ana);
        revoked.revoked_at = Some(at(150));
        let now = at(100 + 40 * DAY);
        for (t, active, inactive) in [(&live, true, false), (&revoked, false, true)] {
            assert_eq!(shown(t, &policy, Filter::ACTIVE, now), active);
            assert_eq!(
                shown(t, &policy, filter(StatusFilter::Inactive, None), now),
                inactive
            );
            assert!(shown(t, &policy, Filter::ALL, now));
        }
        let mut deleted = revoked.clone();
        deleted.deleted = true;
        assert!(!shown(&deleted, &policy, Filter::ALL, now));
        // Unused for N days: active ones, by their last use or else their making.
        let unused = |days| filter(StatusFilter::All, Some(days));
        assert!(shown(&live, &policy, unused(40), now));
        assert!(!shown(&live, &policy, unused(41), now));
        assert!(
            !shown(&revoked, &policy, unused(1), now),
            "active ones only"
        );
        let mut used = record(&ana);
        used.last_used_at = Some(at(100 + 35 * DAY));
        assert!(shown(&used, &policy, unused(5), now));
        assert!(!shown(&used, &policy, unused(6), now));
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
