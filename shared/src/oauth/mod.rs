//! MCP authorization's routes (feature `oauth`), in two places:
//!
//! - the authorization server's public routes, served by the MCP function beside `/mcp`
//!   (its origin is the issuer, so a client finds everything where the endpoint is):
//!   `GET /.well-known/oauth-authorization-server` (RFC 8414), `POST /oauth/register`
//!   (RFC 7591), `POST /oauth/token`, `POST /oauth/revoke` (RFC 7009) — their errors are
//!   the RFCs' `{"error", "error_description"}`: [`OAuth::protocol`];
//! - the consent page's API, a function behind the HTTP API's JWT authorizer (the person
//!   is the signed-in user of the web app that mounts the page): `GET
//!   /oauth/consent?<the authorization request>` → what to show, and `POST /oauth/consent`
//!   `{"request", "allow"}` → where to send the person: [`OAuth::answer`].
//!
//! The rules are [`crate::rules::oauth`]'s; this module reads requests and writes answers.
//! With the `consent` feature, [`documents`] reads the clients that name themselves by
//! a metadata document's URL.

#[cfg(feature = "consent")]
pub mod documents;

use std::convert::Infallible;
use std::sync::Arc;

use http::{header, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::{bounded, reply, source_ip};
use crate::app::App;
use crate::error::Error;
use crate::model::oauth::{
    carries_token, is_document_client, server_metadata, AuthorizationRequest, Client, OAuthError,
    Registration, TokenRequest, NOT_FOR_PASTED_TOKENS,
};
use crate::model::roles::Identity;
use crate::model::time::Timestamp;
use crate::rules::oauth::{self as rules, ClientRequest, Review, Server};

/// Client metadata, token and revocation requests are small forms and documents.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The routes, built once per cold start.
pub struct OAuth {
    pub app: Arc<App>,
    #[cfg(feature = "consent")]
    documents: documents::Documents,
}

impl OAuth {
    pub fn new(app: Arc<App>) -> OAuth {
        OAuth {
            #[cfg(feature = "consent")]
            documents: documents::Documents::new(match app.config.oauth_local_documents {
                true => crate::fetch::Reach::PublicAndLoopback,
                false => crate::fetch::Reach::Public,
            }),
            app,
        }
    }

    /// Serves the consent API on the Lambda runtime.
    pub async fn run(self) -> Result<(), lambda_http::Error> {
        let oauth = Arc::new(self);
        crate::lambda::run(move |req| {
            let oauth = Arc::clone(&oauth);
            async move { (oauth.answer(req).await, None) }
        })
        .await
    }

    pub async fn handle(&self, req: Request) -> Result<Response<Body>, Infallible> {
        Ok(self.answer(req).await)
    }

    /// The consent API, by method and path.
    pub async fn answer(&self, req: Request) -> Response<Body> {
        let path = req.uri().path().trim_end_matches('/').to_owned();
        match (req.method(), path.as_str()) {
            (&Method::GET, "/oauth/consent") => reply(self.review(&req).await),
            (&Method::POST, "/oauth/consent") => reply(self.decide(&req).await),
            _ => reply(Err(Error::NotFound {
                what: "route",
                id: path,
                hint: "; this function serves the consent page's API: GET and POST /oauth/consent",
            })),
        }
    }

    /// The authorization server's public routes for the MCP endpoint at `mcp_url`, or
    /// `None` when `req` is for none of them.
    pub async fn protocol(&self, req: &Request, mcp_url: &str) -> Option<Response<Body>> {
        let path = req.uri().path().trim_end_matches('/');
        let ours = matches!(
            (req.method(), path),
            (&Method::GET, "/.well-known/oauth-authorization-server")
                | (
                    &Method::POST,
                    "/oauth/register" | "/oauth/token" | "/oauth/revoke"
                )
        );
        if !ours {
            return None;
        }
        if req.method() == Method::GET && carries_token(req.headers()) {
            return Some(reply(Err(Error::NotFound {
                what: "route",
                id: path.to_owned(),
                hint: NOT_FOR_PASTED_TOKENS,
            })));
        }
        let Some(server) = Server::of(mcp_url) else {
            let unknown =
                Error::Internal(format!("the MCP endpoint's URL {mcp_url:?} is not a URL").into());
            return Some(protocol(Err(unknown)));
        };
        Some(protocol(match path {
            "/oauth/register" => self.register(req).await,
            "/oauth/token" => self.token(req, server).await,
            "/oauth/revoke" => self.revoke(req).await,
            _ => self.metadata(server).map(|m| (StatusCode::OK, m)),
        }))
    }

    /// The client of an authorization request: registered here, or described by the
    /// metadata document its id names.
    async fn client(&self, client_id: &str) -> Result<Client, Error> {
        if !is_document_client(client_id) {
            return rules::client(&self.app.store, client_id, Timestamp::now()).await;
        }
        #[cfg(feature = "consent")]
        return self.documents.client(client_id).await;
        #[cfg(not(feature = "consent"))]
        Err(OAuthError::invalid_client(
            "client metadata documents are read by the consent function",
        )
        .into())
    }

    /// The consent API's server: the MCP endpoint its tokens are for (`MCP_URL`).
    fn consent_server(&self) -> Result<Server<'_>, Error> {
        self.app
            .config
            .mcp_url
            .as_deref()
            .and_then(Server::of)
            .ok_or_else(|| {
                Error::Internal(
                    "MCP_URL must be set to the MCP endpoint for MCP authorization".into(),
                )
            })
    }

    fn metadata(&self, server: Server<'_>) -> Result<Value, Error> {
        let consent = self
            .app
            .config
            .oauth_consent_url
            .as_deref()
            .ok_or_else(|| Error::Internal("OAUTH_CONSENT_URL is not set".into()))?;
        Ok(server_metadata(server.issuer, consent))
    }

    /// `POST /oauth/register` → 201 with the client's id and metadata.
    async fn register(&self, req: &Request) -> Result<(StatusCode, Value), Error> {
        let registration = Registration::from_json(bounded(req, MAX_BODY_BYTES)?)?;
        let source =
            source_ip(req).map_or_else(|| "unknown".into(), |ip| ip.to_canonical().to_string());
        let now = Timestamp::now();
        let client = rules::register(&self.app.store, registration, &source, now).await?;
        tracing::info!(client_id = %client.id, client_name = %client.name, "client registered");
        Ok((
            StatusCode::CREATED,
            json!({
                "client_id": client.id,
                "client_id_issued_at": now.unix(),
                "client_name": client.name,
                "redirect_uris": client.redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
            }),
        ))
    }

    /// `POST /oauth/token` → 200 with an access token and a refresh token.
    async fn token(&self, req: &Request, server: Server<'_>) -> Result<(StatusCode, Value), Error> {
        let request = TokenRequest::parse(bounded(req, MAX_BODY_BYTES)?)?;
        let pepper = self.app.pepper.get().await?;
        let issued =
            rules::token(&self.app.store, pepper, server, request, Timestamp::now()).await?;
        Ok((
            StatusCode::OK,
            json!({
                "access_token": issued.access_token.expose(),
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
                "refresh_token": issued.refresh_token.expose(),
                "scope": issued.scopes.to_strings().join(" "),
            }),
        ))
    }

    /// `POST /oauth/revoke` → 200, whatever the token was (RFC 7009 §2.2).
    async fn revoke(&self, req: &Request) -> Result<(StatusCode, Value), Error> {
        let body = bounded(req, MAX_BODY_BYTES)?;
        let token = form_urlencoded::parse(body)
            .find(|(name, _)| name == "token")
            .map(|(_, value)| value.into_owned())
            .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
        let pepper = self.app.pepper.get().await?;
        rules::revoke(&self.app.store, pepper, &token, Timestamp::now()).await?;
        Ok((StatusCode::OK, json!({})))
    }

    /// `GET /oauth/consent?…` → 200 with what the consent page shows, or with where to
    /// send the person when the request's error is its client's to hear.
    async fn review(&self, req: &Request) -> Result<(StatusCode, Option<Value>), Error> {
        let identity = Identity::from_request(req, &self.app.config)?;
        let request = AuthorizationRequest::parse(req.uri().query().unwrap_or("").as_bytes())?;
        let client = self.client(&request.client_id).await?;
        let review = rules::review(
            &self.app.store,
            self.consent_server()?,
            &identity,
            ClientRequest {
                client,
                request: &request,
            },
        )
        .await?;
        let body = match review {
            Review::Redirect(to) => json!({ "redirect_to": to }),
            Review::Consent(consent) => {
                let host = consent
                    .redirect_uri
                    .parse::<http::Uri>()
                    .ok()
                    .and_then(|u| u.authority().map(|a| a.to_string()))
                    .unwrap_or_default();
                json!({
                    "client": {
                        "id": consent.client.id,
                        "name": consent.client.name,
                        "redirect_host": host,
                    },
                    "account": identity.account.as_str(),
                    "user": identity.user,
                    "role": identity.role.as_str(),
                    "scopes": consent.scopes.to_strings(),
                    "withheld": consent.withheld.to_strings(),
                    "refusal": consent.refusal,
                })
            }
        };
        Ok((StatusCode::OK, Some(body)))
    }

    /// `POST /oauth/consent {"request": "<the authorization request's query>", "allow":
    /// bool}` → 200 `{"redirect_to"}`: back to the app, with a code or `access_denied`.
    async fn decide(&self, req: &Request) -> Result<(StatusCode, Option<Value>), Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Decision {
            request: String,
            allow: bool,
        }
        let identity = Identity::from_request(req, &self.app.config)?;
        let decision: Decision = serde_json::from_slice(bounded(req, MAX_BODY_BYTES)?)
            .map_err(|_| {
                Error::bad_request(
                    "invalid_body",
                    r#"the body must be {"request": "<the authorization request's query string>", "allow": true|false}"#,
                )
            })?;
        let request =
            AuthorizationRequest::parse(decision.request.trim_start_matches('?').as_bytes())?;
        let client = self.client(&request.client_id).await?;
        let pepper = self.app.pepper.get().await?;
        let to = rules::decide(
            &self.app.store,
            pepper,
            self.consent_server()?,
            &identity,
            ClientRequest {
                client,
                request: &request,
            },
            decision.allow,
            Timestamp::now(),
        )
        .await?;
        Ok((StatusCode::OK, Some(json!({ "redirect_to": to }))))
    }
}

/// An OAuth protocol endpoint's answer: errors as the RFCs shape them, never cached.
fn protocol(result: Result<(StatusCode, Value), Error>) -> Response<Body> {
    let (status, body) = match result {
        Ok(ok) => ok,
        Err(err) => {
            if err.status().is_server_error() {
                tracing::error!(code = err.code(), error = ?err, "OAuth request failed");
            }
            let body = json!({ "error": err.code(), "error_description": err.to_string() });
            (err.status(), body)
        }
    };
    Response::builder()
        .status(status)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::Empty))
}
