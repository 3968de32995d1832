//! A token's life — generate, list, revoke — for a signed-in user of an account, and the
//! account's token policy. Members see and revoke their own tokens; owners and admins all
//! of the account's, and they alone set the policy.

use ring::rand::SystemRandom;

use crate::error::Error;
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
    let policy = profile.as_ref().map(|a| a.policy).unwrap_or_default();
    let scopes = policy.admit(identity, &new)?;
    let token = Token::generate(&SystemRandom::new())
        .map_err(|_| Error::Internal("the system random generator failed".into()))?;
    let record = TokenRecord {
        id: TokenId::new(now)?,
        account: identity.account.clone(),
        expires_at: new.expires_at(now)?,
        name: new.name,
        hint: token.hint(),
        scopes,
        created_by: identity.user.clone(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
        revocation: None,
        hash: pepper.hash(&token),
        counted: true,
        allowed_ips: new.allowed_ips,
    };
    let api_access = profile.is_some_and(|a| a.api_access);
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
        warning: (!api_access).then_some(API_ACCESS_WARNING),
    })
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
    let creator = (!identity.role.manages_account()).then_some(identity.user.as_str());
    let (slice, profile) = tokio::join!(
        store.list_tokens(account, start.size, start.after.as_ref(), creator),
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
    // A race with another revoke (or a retire) costs a re-read, within the call's retry
    // budget.
    let store = &store.in_call();
    loop {
        let record = visible(identity, store.token(&identity.account, &id).await?)?;
        if decide(&record, now) == Decision::AlreadyRevoked
            || store
                .revoke_token(&record, &Revocation::by_user(&identity.user), now)
                .await?
                == Written::Yes
        {
            return Ok(());
        }
        store
            .wait_to_retry("the token kept changing during the revoke")
            .await?;
    }
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
    let profile = store.account(&identity.account).await?;
    Ok(profile.map(|a| a.policy).unwrap_or_default())
}

/// Replaces the account's token policy: owners and admins only. It applies to tokens
/// already made from their next call on.
pub async fn set_policy(
    store: &Store,
    identity: &Identity,
    policy: Policy,
) -> Result<Policy, Error> {
    if !identity.role.manages_account() {
        return Err(Error::Forbidden(
            "only the account's owners and admins may change its token policy".into(),
        ));
    }
    store
        .set_policy(&identity.account, &policy)
        .await?
        .map(|a| a.policy)
        .ok_or(Error::NotFound {
            what: "account profile",
            id: identity.account.to_string(),
            hint: ": the Knotie platform creates it with the account",
        })
}
