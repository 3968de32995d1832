//! MCP authorization (OAuth 2.1 as MCP 2025-11-25 uses it), whose grants are tokens: a
//! signed-in user approves a client's request on the consent page; the code that gives
//! the client is exchanged for a grant — an MCP token of kind `oauth`, in the list like
//! any other, whose access token works for an hour — and a refresh token that renews it,
//! once. A code or refresh token used a second time ends the grant: one of the two users
//! is not the client.
//!
//! Read → decide → write, like [`super::lifecycle`]: the decisions are
//! [`crate::model::oauth`]'s and [`granted_scopes`], [`new_grant`] and [`renewed`] below.

use ring::rand::{SecureRandom, SystemRandom};

use super::lifecycle::revoke_record;
use crate::error::Error;
use crate::model::events::{Revocation, RevokedReason};
use crate::model::hashing::Pepper;
use crate::model::ids::TokenId;
use crate::model::oauth::{
    is_document_client, resource_is, split_origin, AuthorizationRequest, Client, Code, OAuthError,
    Refresh, Registration, TokenRequest, ACCESS_LIFETIME, CODE_LIFETIME,
};
use crate::model::policy::Policy;
use crate::model::roles::Identity;
use crate::model::scope::Scopes;
use crate::model::time::Timestamp;
use crate::model::token::Token;
use crate::model::tokens::{ConnectedApp, TokenRecord, MAX_ACTIVE_TOKENS};
use crate::store::oauth::Exchanged;
use crate::store::{Store, Written};

/// Registrations one source address may make in an hour: a client registers once per
/// install, so more is a script.
pub const REGISTRATIONS_PER_HOUR: u32 = 20;

/// Who this authorization server is and what its tokens are for.
#[derive(Debug, Clone, Copy)]
pub struct Server<'a> {
    /// The issuer (RFC 8414), sent back with every authorization response (RFC 9207).
    pub issuer: &'a str,
    /// The one resource its tokens are for: the MCP endpoint.
    pub mcp_url: &'a str,
}

impl Server<'_> {
    /// The authorization server of the MCP endpoint at `mcp_url`: its origin, which serves
    /// the metadata, registration, token and revocation routes beside `/mcp`.
    pub fn of(mcp_url: &str) -> Option<Server<'_>> {
        let (issuer, _) = split_origin(mcp_url)?;
        Some(Server { issuer, mcp_url })
    }
}

/// Registers a public client (RFC 7591) for `source`.
pub async fn register(
    store: &Store,
    registration: Registration,
    source: &str,
    now: Timestamp,
) -> Result<Client, Error> {
    let mut bytes = [0_u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Internal("the system random generator failed".into()))?;
    let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let id = format!("mcpc_{id}");
    match store
        .register_client(&id, &registration, source, REGISTRATIONS_PER_HOUR, now)
        .await?
    {
        Written::Yes => Ok(Client {
            id,
            name: registration.name,
            redirect_uris: registration.redirect_uris,
        }),
        Written::Refused => Err(Error::TooMany {
            message: format!("this address registered {REGISTRATIONS_PER_HOUR} clients in the last hour, the most allowed: register once and keep the client_id"),
            retry_after_secs: 3600,
        }),
    }
}

/// The client of `client_id`, or `invalid_client`.
pub async fn client(store: &Store, client_id: &str, now: Timestamp) -> Result<Client, Error> {
    store.client(client_id, now).await?.ok_or_else(|| {
        OAuthError::invalid_client(format!(
            "client_id {client_id:?} is not registered here (or its registration expired unused): register again"
        ))
        .into()
    })
}

/// What the consent page shows, or where the request's error goes.
#[derive(Debug)]
pub enum Review {
    /// Ask the person.
    Consent(Consent),
    /// The request is wrong in a way its client must hear: send the person there.
    Redirect(String),
}

/// An authorization request, checked, as the person deciding it sees it.
#[derive(Debug)]
pub struct Consent {
    pub client: Client,
    /// Where the answer goes: one of the client's redirect URIs.
    pub redirect_uri: String,
    /// What the grant would allow: what was asked, narrowed by the account's policy and
    /// the user's role.
    pub scopes: Scopes,
    /// What was asked and cannot be granted.
    pub withheld: Scopes,
    /// Why this user cannot approve it at all, if they cannot.
    pub refusal: Option<String>,
}

/// An authorization request and the client it names (registered here, or described by
/// its metadata document).
pub struct ClientRequest<'a> {
    pub client: Client,
    pub request: &'a AuthorizationRequest,
}

/// Checks an authorization request for the signed-in `identity`. An unknown client or a
/// redirect URI it did not register is an error shown to the person, never a redirect
/// (that would be an open redirect); any other mistake goes back to the client.
pub async fn review(
    store: &Store,
    server: Server<'_>,
    identity: &Identity,
    asked: ClientRequest<'_>,
) -> Result<Review, Error> {
    let ClientRequest { client, request } = asked;
    let redirect_uri = client
        .redirect(request.redirect_uri.as_deref())
        .ok_or_else(|| {
            OAuthError::invalid_request(match &request.redirect_uri {
                Some(uri) => format!("redirect_uri {uri:?} is not one this client registered"),
                None => "redirect_uri is required: the client registered more than one".into(),
            })
        })?;
    let asked = match request.asked(server.mcp_url) {
        Ok(asked) => asked,
        Err(e) => {
            let error = [("error", e.code), ("error_description", &e.description)];
            return Ok(Review::Redirect(request.answer(
                &redirect_uri,
                server.issuer,
                &error,
            )));
        }
    };
    let policy = store.policy(&identity.account).await?;
    let (scopes, withheld, refusal) = granted_scopes(&policy, identity, asked.scopes);
    Ok(Review::Consent(Consent {
        client,
        redirect_uri,
        scopes,
        withheld,
        refusal,
    }))
}

/// What a grant to `identity` may allow of what was `asked` (`None`: all), what it
/// withholds, and why the user may grant nothing, if so.
pub fn granted_scopes(
    policy: &Policy,
    identity: &Identity,
    asked: Option<Scopes>,
) -> (Scopes, Scopes, Option<String>) {
    let allowed = policy.scopes_for(identity.role);
    let asked = asked.unwrap_or(allowed);
    let scopes = asked.intersection(allowed);
    let withheld = asked.without(allowed);
    let refusal = if !policy.members_may_create && !identity.role.manages_account() {
        Some("the account's token policy lets only owners and admins connect apps".to_owned())
    } else if scopes.is_empty() {
        Some(format!(
            "the account's token policy allows you none of the scopes asked ({})",
            withheld.to_strings().join(", ")
        ))
    } else {
        None
    };
    (scopes, withheld, refusal)
}

/// The person's answer: where to send them — with a code if they allowed it, with
/// `access_denied` if not.
pub async fn decide(
    store: &Store,
    pepper: &Pepper,
    server: Server<'_>,
    identity: &Identity,
    asked: ClientRequest<'_>,
    allow: bool,
    now: Timestamp,
) -> Result<String, Error> {
    let request = asked.request;
    let consent = match review(store, server, identity, asked).await? {
        Review::Redirect(to) => return Ok(to),
        Review::Consent(consent) => consent,
    };
    let denied = match (&consent.refusal, allow) {
        (Some(why), _) => Some(why.as_str()),
        (None, false) => Some("the user did not allow access"),
        (None, true) => None,
    };
    if let Some(why) = denied {
        let error = [("error", "access_denied"), ("error_description", why)];
        return Ok(request.answer(&consent.redirect_uri, server.issuer, &error));
    }
    let asked = request.asked(server.mcp_url)?;
    let token = Token::generate(&SystemRandom::new())
        .map_err(|_| Error::Internal("the system random generator failed".into()))?;
    let code = Code {
        account: identity.account.clone(),
        user: identity.user.clone(),
        role: identity.role,
        client_id: consent.client.id.clone(),
        client_name: consent.client.name.clone(),
        redirect_uri: consent.redirect_uri.clone(),
        challenge: asked.challenge,
        scopes: consent.scopes,
        expires_at: later(now, CODE_LIFETIME)?,
        grant: None,
    };
    // A registered client is kept while it is used; a document's client is not ours.
    let registered = !is_document_client(&code.client_id);
    store
        .put_code(&pepper.hash(&token), &code, registered, now)
        .await?;
    tracing::info!(account = %identity.account, client_id = %code.client_id, "app authorized");
    Ok(request.answer(
        &consent.redirect_uri,
        server.issuer,
        &[("code", token.expose())],
    ))
}

/// What the token endpoint gives: the access token, the refresh token that renews it,
/// and what it allows.
#[derive(Debug)]
pub struct Issued {
    pub access_token: Token,
    pub refresh_token: Token,
    pub scopes: Scopes,
    pub expires_in: i64,
    pub token_id: TokenId,
}

/// The token endpoint: a code exchanged, or a grant renewed.
pub async fn token(
    store: &Store,
    pepper: &Pepper,
    server: Server<'_>,
    request: TokenRequest,
    now: Timestamp,
) -> Result<Issued, Error> {
    let store = &store.in_call();
    match request {
        TokenRequest::Code {
            code,
            redirect_uri,
            client_id,
            verifier,
            resource,
        } => {
            resource_is(resource.as_deref(), server.mcp_url)?;
            let code_hash = pepper.hash(&secret(&code, "authorization code")?);
            let kept = store
                .code(&code_hash)
                .await?
                .ok_or_else(|| OAuthError::invalid_grant("the authorization code is not valid"))?;
            if let Some(grant) = &kept.grant {
                return Err(replayed(store, &kept, grant, now).await);
            }
            kept.check(
                client_id.as_deref(),
                redirect_uri.as_deref(),
                verifier.as_deref(),
                now,
            )?;
            let policy = store.policy(&kept.account).await?;
            let (access, refresh) = (new_secret()?, new_secret()?);
            let record = new_grant(&kept, &policy, &access, pepper, now)?;
            match store
                .exchange_code(
                    &code_hash,
                    &record,
                    &pepper.hash(&refresh),
                    MAX_ACTIVE_TOKENS,
                    now,
                )
                .await?
            {
                Exchanged::Granted => {}
                Exchanged::CodeSpent => {
                    let again = store.code(&code_hash).await?;
                    let grant = again.as_ref().and_then(|c| c.grant.clone());
                    return Err(match (again, grant) {
                        (Some(again), Some(grant)) => replayed(store, &again, &grant, now).await,
                        _ => {
                            OAuthError::invalid_grant("the authorization code is not valid").into()
                        }
                    });
                }
                Exchanged::AtLimit => {
                    return Err(OAuthError::invalid_grant(
                        Error::TokenLimit {
                            limit: MAX_ACTIVE_TOKENS,
                        }
                        .to_string(),
                    )
                    .into())
                }
            }
            tracing::info!(account = %record.account, token_id = %record.id, client_id = %kept.client_id, "app connected");
            Ok(issued(&record, access, refresh, now))
        }
        TokenRequest::Refresh {
            refresh_token,
            client_id,
            scope: _,
            resource,
        } => {
            resource_is(resource.as_deref(), server.mcp_url)?;
            let hash = pepper.hash(&secret(&refresh_token, "refresh token")?);
            let kept = store
                .refresh_token(&hash)
                .await?
                .ok_or_else(|| OAuthError::invalid_grant("the refresh token is not valid"))?;
            if client_id.is_some_and(|id| id != kept.client_id) {
                return Err(OAuthError::invalid_grant(
                    "the refresh token was issued to another client",
                )
                .into());
            }
            if now >= kept.expires_at {
                return Err(OAuthError::invalid_grant(
                    "the refresh token expired: connect the app again",
                )
                .into());
            }
            renew(store, pepper, &kept, now).await
        }
    }
}

/// Renews the grant of refresh token `kept`, unless it was spent already (then the grant
/// ends) or the grant ended.
async fn renew(
    store: &Store,
    pepper: &Pepper,
    kept: &Refresh,
    now: Timestamp,
) -> Result<Issued, Error> {
    let gone = || OAuthError::invalid_grant("the grant was revoked: connect the app again");
    loop {
        let record = store
            .token(&kept.account, &kept.token_id)
            .await?
            .filter(|r| {
                r.revoked_at.is_none() && !r.deleted && r.expires_at.is_none_or(|at| now < at)
            })
            .ok_or_else(gone)?;
        let app = record.app.as_ref().ok_or_else(gone)?;
        if app.generation != kept.generation {
            let reused = "this refresh token was used already, so a copy of it is in other hands: the grant is revoked; connect the app again";
            revoke_record(
                store,
                record,
                &Revocation::because(RevokedReason::Replayed),
                now,
            )
            .await?;
            tracing::warn!(account = %kept.account, token_id = %kept.token_id, "a refresh token was replayed; grant revoked");
            return Err(OAuthError::invalid_grant(reused).into());
        }
        let (access, refresh) = (new_secret()?, new_secret()?);
        let new = renewed(&record, &access, pepper, now)?;
        if store
            .renew_grant(&record, &new, &pepper.hash(&refresh), now)
            .await?
            == Written::Yes
        {
            return Ok(issued(&new, access, refresh, now));
        }
        store
            .wait_to_retry("the grant kept changing during its refresh")
            .await?;
    }
}

/// A code used a second time: the grant its first use made ends.
async fn replayed(store: &Store, code: &Code, grant: &TokenId, now: Timestamp) -> Error {
    let revoked = async {
        if let Some(record) = store.token(&code.account, grant).await? {
            revoke_record(
                store,
                record,
                &Revocation::because(RevokedReason::Replayed),
                now,
            )
            .await?;
        }
        Ok::<_, Error>(())
    };
    if let Err(e) = revoked.await {
        return e;
    }
    tracing::warn!(account = %code.account, token_id = %grant, "an authorization code was replayed; grant revoked");
    OAuthError::invalid_grant(
        "the authorization code was used already: the tokens it gave are revoked; authorize again",
    )
    .into()
}

/// RFC 7009: the app gives up its grant, by its access or its refresh token. Whatever
/// the token is — unknown, another kind, revoked already — the answer is the same.
pub async fn revoke(
    store: &Store,
    pepper: &Pepper,
    token: &str,
    now: Timestamp,
) -> Result<(), Error> {
    let Ok(token) = Token::parse(token.trim()) else {
        return Ok(());
    };
    let store = &store.in_call();
    let hash = pepper.hash(&token);
    let (access, refresh) = tokio::join!(store.find_token(&hash), store.refresh_token(&hash));
    let grant = match (access?, refresh?) {
        (Some(found), _) if found.connected => Some((found.account, found.token_id)),
        (_, Some(kept)) => Some((kept.account, kept.token_id)),
        _ => None,
    };
    if let Some((account, id)) = grant {
        if let Some(record) = store.token(&account, &id).await? {
            revoke_record(store, record, &Revocation::because(RevokedReason::App), now).await?;
        }
    }
    Ok(())
}

/// The grant a code's exchange makes: a connected app's token, its first access token
/// `access`, bound by the account's policy on token lifetime.
fn new_grant(
    code: &Code,
    policy: &Policy,
    access: &Token,
    pepper: &Pepper,
    now: Timestamp,
) -> Result<TokenRecord, Error> {
    let expires_at = policy
        .max_lifetime_days
        .map(|days| later(now, time::Duration::days(days)))
        .transpose()?;
    Ok(TokenRecord {
        id: TokenId::new(now)?,
        account: code.account.clone(),
        name: code.client_name.clone(),
        hint: access.hint(),
        scopes: code.scopes,
        created_by: code.user.clone(),
        creator_role: code.role,
        created_at: now,
        expires_at,
        last_used_at: None,
        last_used_ip: None,
        revoked_at: None,
        revocation: None,
        hash: pepper.hash(access),
        counted: true,
        allowed_ips: None,
        replacement: None,
        replaces: None,
        deleted: false,
        app: Some(ConnectedApp {
            client_id: code.client_id.clone(),
            client_name: code.client_name.clone(),
            access_until: access_until(now, expires_at)?,
            generation: 0,
        }),
    })
}

/// Grant `record` renewed with access token `access`: its next generation.
fn renewed(
    record: &TokenRecord,
    access: &Token,
    pepper: &Pepper,
    now: Timestamp,
) -> Result<TokenRecord, Error> {
    let app = record
        .app
        .as_ref()
        .ok_or_else(|| Error::Internal("a personal token is not renewed".into()))?;
    Ok(TokenRecord {
        hint: access.hint(),
        hash: pepper.hash(access),
        last_used_at: Some(now),
        app: Some(ConnectedApp {
            access_until: access_until(now, record.expires_at)?,
            generation: app.generation.saturating_add(1),
            ..app.clone()
        }),
        ..record.clone()
    })
}

/// An access token's end: an hour from now, or the grant's end if that is sooner.
fn access_until(now: Timestamp, grant_ends: Option<Timestamp>) -> Result<Timestamp, Error> {
    let hour = later(now, ACCESS_LIFETIME)?;
    Ok(grant_ends.map_or(hour, |end| end.min(hour)))
}

fn issued(record: &TokenRecord, access: Token, refresh: Token, now: Timestamp) -> Issued {
    let until = record.app.as_ref().map_or(now, |a| a.access_until);
    Issued {
        access_token: access,
        refresh_token: refresh,
        scopes: record.scopes,
        expires_in: until.unix().saturating_sub(now.unix()).max(0),
        token_id: record.id.clone(),
    }
}

/// A code or refresh token as sent: one of ours has the token format, so a damaged one
/// is refused before any read.
fn secret(value: &str, what: &str) -> Result<Token, Error> {
    Token::parse(value.trim())
        .map_err(|e| OAuthError::invalid_grant(format!("the {what} is not valid: {e}")).into())
}

fn new_secret() -> Result<Token, Error> {
    Token::generate(&SystemRandom::new())
        .map_err(|_| Error::Internal("the system random generator failed".into()))
}

fn later(now: Timestamp, by: time::Duration) -> Result<Timestamp, Error> {
    now.checked_add(by)
        .ok_or_else(|| Error::Internal("a time out of range".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::AccountId;
    use crate::model::roles::Role;

    fn identity(role: Role) -> Identity {
        Identity {
            account: AccountId::parse("acct_a").unwrap(),
            user: "user_a".into(),
            role,
        }
    }

    #[test]
    fn a_grant_is_what_was_asked_narrowed_by_policy_and_role() {
        let read = Scopes::parse(["customers:read", "analytics:read"]).unwrap();
        let policy = Policy {
            member_scopes: read,
            ..Policy::default()
        };
        let (all, withheld, refusal) = granted_scopes(&policy, &identity(Role::Owner), None);
        assert_eq!((all, refusal), (Scopes::all(), None));
        assert!(withheld.is_empty());
        let asked = Scopes::parse(["customers:read", "credits:write"]).unwrap();
        let (granted, withheld, refusal) =
            granted_scopes(&policy, &identity(Role::Member), Some(asked));
        assert_eq!(granted, Scopes::parse(["customers:read"]).unwrap());
        assert_eq!(withheld, Scopes::parse(["credits:write"]).unwrap());
        assert_eq!(refusal, None);
        let only_writes = Scopes::parse(["credits:write"]).unwrap();
        let (_, _, refusal) = granted_scopes(&policy, &identity(Role::Member), Some(only_writes));
        assert!(refusal.unwrap().contains("none of the scopes"));
        let closed = Policy {
            members_may_create: false,
            ..Policy::default()
        };
        let (_, _, refusal) = granted_scopes(&closed, &identity(Role::Member), None);
        assert!(refusal.unwrap().contains("only owners and admins"));
        assert_eq!(
            granted_scopes(&closed, &identity(Role::Admin), None).2,
            None
        );
    }

    #[test]
    fn an_access_token_lasts_an_hour_or_until_its_grant_ends() {
        let now = Timestamp::from_unix(1_767_225_600).unwrap();
        let hour = now.checked_add(ACCESS_LIFETIME).unwrap();
        assert_eq!(access_until(now, None).unwrap(), hour);
        let soon = now.checked_add(time::Duration::minutes(5)).unwrap();
        assert_eq!(access_until(now, Some(soon)).unwrap(), soon);
        let later = now.checked_add(time::Duration::days(3)).unwrap();
        assert_eq!(access_until(now, Some(later)).unwrap(), hour);
    }
}
