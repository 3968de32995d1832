//! The management API: one function per route, each turning an API Gateway request into
//! a call of [`rules::lifecycle`](crate::rules::lifecycle) and its result into JSON. Errors
//! become responses here, in one place.
//!
//! - [`identity`]: the caller, from the JWT authorizer's claims;
//! - [`client_configs`]: the ready-to-paste MCP client configurations of a new token.

pub mod client_configs;
pub mod identity;

use std::convert::Infallible;

use http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{json, Value};

use crate::app::App;
use crate::error::Error;
use crate::model::admission::Standing;
use crate::model::events;
use crate::model::events::RevokedReason;
use crate::model::page::{Listing, PageRequest};
use crate::model::policy::Policy;
use crate::model::roles::Identity;
use crate::model::roles::Offboarding;
use crate::model::time::Timestamp;
use crate::model::token::Token;
use crate::model::tokens::{
    parse_unused_for_days, NewToken, Rotation, StatusFilter, TokenRecord, LISTING,
};
use crate::rules::lifecycle::{self, Deletion, Filter, Listed};
use client_configs::client_configs;

/// Management requests are small JSON documents; anything bigger is a mistake.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// `POST /mcp-tokens` → 201 with the token, shown this once.
pub async fn generate(app: &App, req: Request) -> Result<Response<Body>, Infallible> {
    Ok(reply(
        async {
            let identity = Identity::from_request(&req, &app.config)?;
            let body = bounded(&req, MAX_BODY_BYTES)?;
            let new = NewToken::from_json(body)?;
            let mcp_url = mcp_url(app)?;
            let pepper = app.pepper.get().await?;
            let now = Timestamp::now();
            let generated = lifecycle::generate(&app.store, pepper, &identity, new, now).await?;
            let record = &generated.record;
            tracing::info!(account = %identity.account, token_id = %record.id, "token generated");
            let by_url = app.config.oauth_consent_url.is_some();
            let body = issued(mcp_url, by_url, record, &generated.token, generated.warning);
            Ok((StatusCode::CREATED, Some(body)))
        }
        .await,
    ))
}

/// `POST /mcp-tokens/{id}/rotate {"overlap_minutes": …}` → 201 with the new token, shown
/// this once, and until when the old one works.
pub async fn rotate(app: &App, req: Request) -> Result<Response<Body>, Infallible> {
    Ok(reply(
        async {
            let identity = Identity::from_request(&req, &app.config)?;
            let id = path_id(&req)?;
            let rotation = Rotation::from_json(bounded(&req, MAX_BODY_BYTES)?)?;
            let mcp_url = mcp_url(app)?;
            let pepper = app.pepper.get().await?;
            let now = Timestamp::now();
            let rotated =
                lifecycle::rotate(&app.store, pepper, &identity, id, rotation, now).await?;
            let record = &rotated.record;
            tracing::info!(
                account = %identity.account,
                token_id = %record.id,
                replaced = %rotated.replaced,
                overlap_minutes = rotation.overlap_minutes,
                "token rotated"
            );
            let by_url = app.config.oauth_consent_url.is_some();
            let mut body = issued(mcp_url, by_url, record, &rotated.token, rotated.warning);
            if let Some(fields) = body.as_object_mut() {
                fields.insert(
                    "replaces".into(),
                    json!({ "id": rotated.replaced.as_str(), "works_until": rotated.works_until }),
                );
            }
            Ok((StatusCode::CREATED, Some(body)))
        }
        .await,
    ))
}

/// The routes that issue a token, one function: `POST /mcp-tokens` and
/// `POST /mcp-tokens/{id}/rotate`.
pub async fn issues(app: &App, req: Request) -> Result<Response<Body>, Infallible> {
    match path_id(&req) {
        Ok(_) => rotate(app, req).await,
        Err(_) => generate(app, req).await,
    }
}

fn mcp_url(app: &App) -> Result<&str, Error> {
    app.config
        .mcp_url
        .as_deref()
        .ok_or_else(|| Error::Internal("MCP_URL is not set".into()))
}

/// A token just made, as its maker sees it this once: with the secret and the
/// ready-to-paste client configurations.
fn issued(
    mcp_url: &str,
    by_url: bool,
    record: &TokenRecord,
    token: &Token,
    warning: Option<&str>,
) -> Value {
    let mut body = json!({
        "id": record.id.as_str(),
        "name": record.name,
        "token": token.expose(),
        "hint": record.hint,
        "scopes": record.scopes.to_strings(),
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "allowed_ips": record.allowed_ips.as_ref().map(|ips| ips.to_strings()),
        "client_configs": client_configs(mcp_url, token, by_url),
    });
    if let (Some(warning), Some(fields)) = (warning, body.as_object_mut()) {
        fields.insert("warning".into(), warning.into());
    }
    body
}

/// `GET /mcp-tokens?status=&unused_for_days=&limit=&cursor=` → 200 with a page, newest
/// first: a member's own tokens, or for owners and admins every token of the account
/// (active ones unless `status` says otherwise); and who is looking.
pub async fn list(app: &App, req: Request) -> Result<Response<Body>, Infallible> {
    Ok(reply(
        async {
            let identity = Identity::from_request(&req, &app.config)?;
            let request = page_request(&req, LISTING)?;
            let filter = filter(&req)?;
            let pepper = app.pepper.get().await?;
            let now = Timestamp::now();
            let page =
                lifecycle::list(&app.store, pepper, &identity, &request, filter, now).await?;
            let tokens: Vec<Value> = page.items.iter().map(listed).collect();
            let viewer = json!({ "user": identity.user, "role": identity.role.as_str() });
            Ok((
                StatusCode::OK,
                Some(
                    json!({ "tokens": tokens, "next_cursor": page.next_cursor, "viewer": viewer }),
                ),
            ))
        }
        .await,
    ))
}

/// The read routes, one function: `GET /mcp-tokens` and `GET /mcp-tokens/{id}/events`.
pub async fn reads(app: &App, req: Request) -> Result<Response<Body>, Infallible> {
    match path_id(&req) {
        Ok(_) => events(app, req).await,
        Err(_) => list(app, req).await,
    }
}

/// `GET /mcp-tokens/{id}/events?limit=&cursor=` → 200 with a page of its history.
pub async fn events(app: &App, req: Request) -> Result<Response<Body>, Infallible> {
    Ok(reply(
        async {
            let identity = Identity::from_request(&req, &app.config)?;
            let request = page_request(&req, events::LISTING)?;
            let pepper = app.pepper.get().await?;
            let page =
                lifecycle::events(&app.store, pepper, &identity, path_id(&req)?, &request).await?;
            Ok((
                StatusCode::OK,
                Some(json!({ "events": page.items, "next_cursor": page.next_cursor })),
            ))
        }
        .await,
    ))
}

/// `DELETE /mcp-tokens/{id}` → 204: a token that works is revoked (its row stays, marked
/// revoked); one that no longer works leaves the list (its history stays). Again → 204.
pub async fn revoke(app: &App, req: Request) -> Result<Response<Body>, Infallible> {
    Ok(reply(
        async {
            let identity = Identity::from_request(&req, &app.config)?;
            let id = path_id(&req)?;
            let done = lifecycle::delete(&app.store, &identity, id, Timestamp::now()).await?;
            let what = match done {
                Deletion::Revoked => "token revoked",
                Deletion::Removed => "token deleted from the list",
            };
            tracing::info!(account = %identity.account, token_id = %id, "{what}");
            Ok((StatusCode::NO_CONTENT, None))
        }
        .await,
    ))
}

/// The revoke routes, one function: `DELETE /mcp-tokens/{id}` and
/// `POST /mcp-tokens/revoke-user`.
pub async fn revokes(app: &App, req: Request) -> Result<Response<Body>, Infallible> {
    match req.method() {
        &http::Method::POST => revoke_user(app, req).await,
        _ => revoke(app, req).await,
    }
}

/// `POST /mcp-tokens/revoke-user {"user": …}` → 200 `{user, revoked}`: offboarding, every
/// token that user made revoked at once (owners and admins).
pub async fn revoke_user(app: &App, req: Request) -> Result<Response<Body>, Infallible> {
    Ok(reply(
        async {
            let identity = Identity::from_request(&req, &app.config)?;
            let body = bounded(&req, MAX_BODY_BYTES)?;
            let user = Offboarding::from_json(body)?.user;
            let revoked =
                lifecycle::revoke_user(&app.store, &identity, &user, Timestamp::now()).await?;
            Ok((
                StatusCode::OK,
                Some(json!({ "user": user, "revoked": revoked })),
            ))
        }
        .await,
    ))
}

/// `GET /mcp-tokens/policy` → 200 with the account's token policy (any role);
/// `PUT /mcp-tokens/policy` replaces it → 200 (owners and admins; members get 403).
pub async fn policy(app: &App, req: Request) -> Result<Response<Body>, Infallible> {
    Ok(reply(
        async {
            let identity = Identity::from_request(&req, &app.config)?;
            let policy = if req.method() == http::Method::PUT {
                let body = bounded(&req, MAX_BODY_BYTES)?;
                let policy = Policy::from_json(body)?;
                let saved = lifecycle::set_policy(&app.store, &identity, policy).await?;
                tracing::info!(
                    account = %identity.account,
                    by = %identity.user,
                    policy = %saved.to_json(),
                    "token policy changed"
                );
                saved
            } else {
                lifecycle::policy(&app.store, &identity).await?
            };
            Ok((StatusCode::OK, Some(policy.to_json())))
        }
        .await,
    ))
}

/// The caller's address, as API Gateway or the function URL saw it
/// (`requestContext.http.sourceIp`; the local server puts the peer's there). Never a
/// header: those are the caller's to write.
pub fn source_ip(req: &Request) -> Option<std::net::IpAddr> {
    match req.request_context_ref()? {
        lambda_http::request::RequestContext::ApiGatewayV2(context) => {
            context.http.source_ip.as_deref()?.parse().ok()
        }
        _ => None,
    }
}

/// The request's body, if it is at most `limit` bytes (413 otherwise).
pub(crate) fn bounded(req: &Request, limit: usize) -> Result<&[u8], Error> {
    let body = req.body().as_ref();
    if body.len() > limit {
        return Err(Error::TooLarge { limit });
    }
    Ok(body)
}

/// The `{id}` of the route.
fn path_id(req: &Request) -> Result<&str, Error> {
    req.path_parameters_ref()
        .and_then(|p| p.first("id"))
        .ok_or(Error::TokenNotFound)
}

/// `?status=&unused_for_days=` of the token listing.
fn filter(req: &Request) -> Result<Filter, Error> {
    let query = req.query_string_parameters_ref();
    let param = |name| query.and_then(|q| q.first(name));
    Ok(Filter {
        status: StatusFilter::parse(param("status"))?,
        unused_for_days: param("unused_for_days")
            .map(parse_unused_for_days)
            .transpose()?,
    })
}

/// `?limit=&cursor=` of a listing.
fn page_request(req: &Request, listing: Listing) -> Result<PageRequest, Error> {
    let query = req.query_string_parameters_ref();
    let param = |name| query.and_then(|q| q.first(name));
    Ok(PageRequest {
        limit: param("limit").map(|l| listing.parse_limit(l)).transpose()?,
        cursor: param("cursor").map(str::to_owned),
    })
}

/// How a token appears in a listing: metadata and hint, never the secret or its hash.
/// A token retired for disuse by the policy is listed as its next call leaves it:
/// revoked, reason `unused`.
fn listed(listed: &Listed) -> Value {
    let t = &listed.record;
    let reason = match listed.standing {
        Standing::Unused { .. } => Some(RevokedReason::Unused),
        _ => t.revocation.as_ref().map(|r| r.reason),
    };
    json!({
        "id": t.id.as_str(),
        "name": t.name,
        "hint": t.hint,
        "scopes": t.scopes.to_strings(),
        "created_by": t.created_by,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "last_used_at": t.last_used_at,
        "last_used_ip": t.last_used_ip,
        "status": listed.standing.status(),
        "revoked_reason": reason,
        "revoked_by": t.revocation.as_ref().and_then(|r| r.by.as_deref()),
        "leak_url": t.revocation.as_ref().and_then(|r| r.url.as_deref()),
        "allowed_ips": t.allowed_ips.as_ref().map(|ips| ips.to_strings()),
        "replaced_by": t.replacement.as_ref().map(|r| json!({
            "id": r.by.as_str(),
            "hint": r.hint,
            "at": r.at,
            "works_until": r.works_until,
        })),
        "replaces": t.replaces.as_ref().map(|(id, hint)| json!({ "id": id.as_str(), "hint": hint })),
        "connected_app": t.app.as_ref().map(|a| json!({ "client_id": a.client_id, "name": a.client_name })),
    })
}

/// The one place a result becomes a response. Server-side failures are logged with their
/// cause; the caller sees only the JSON error.
pub(crate) fn reply(result: Result<(StatusCode, Option<Value>), Error>) -> Response<Body> {
    let mut retry_after = None;
    let (status, body) = match result {
        Ok(ok) => ok,
        Err(err) => {
            if err.status().is_server_error() {
                tracing::error!(code = err.code(), error = ?err, "request failed");
            }
            retry_after = err.retry_after_secs();
            (err.status(), Some(err.to_json()))
        }
    };
    let mut builder = Response::builder()
        .status(status)
        // Responses can carry a token; no cache along the way may keep one.
        .header(http::header::CACHE_CONTROL, "no-store");
    if let Some(secs) = retry_after {
        builder = builder.header(http::header::RETRY_AFTER, secs);
    }
    let response = match body {
        Some(body) => builder
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Body::Text(body.to_string())),
        None => builder.body(Body::Empty),
    };
    response.unwrap_or_else(|_| Response::new(Body::Empty))
}
