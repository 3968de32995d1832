//! The MCP endpoint: MCP Streamable HTTP, stateless, one JSON answer per POST.
//!
//! rmcp's `StreamableHttpService` speaks the protocol — both eras: the `initialize`
//! handshake of 2025-03-26 … 2025-11-25 and the handshake-free 2026-07-28 revision with
//! `server/discover`, per-request `_meta` and `Mcp-Method`/`Mcp-Name` headers. This layer
//! in front of it does what rmcp leaves to the host: only `POST /mcp`, the bearer token
//! checked on every request ([`auth`]) before any tool runs, each token's rate limit
//! ([`limiter`]), a 1 MiB body limit, JSON-RPC error bodies for malformed input (rmcp
//! answers those in plain text), and 202 for responses a client posts.
//!
//! A request's writes that its caller does not need — the token's last use, the shared
//! rate counts — and its log line are [`Bookkeeping`], done once the answer is out: on
//! Lambda after the answer is posted ([`Mcp::run`], with [`crate::lambda`]).
//!
//! - [`screen`]: the HTTP around the protocol — route, body, messages rmcp would
//!   misreport, refusals as JSON-RPC errors;
//! - [`auth`]: the bearer token, its rate and its admission ([`crate::model::admission`]);
//! - [`bookkeeping`]: what is left once the answer is out.

pub mod auth;
pub mod bookkeeping;
pub mod limiter;
pub mod profiles;
pub mod screen;
pub mod tools;

use std::sync::Arc;
use std::time::Instant;

use http::{header, StatusCode};
use http_body_util::BodyExt;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::Value;

use crate::app::App;
use crate::browser;
use crate::metrics;
use crate::model::oauth::{carries_token, resource_metadata, split_origin, NOT_FOR_PASTED_TOKENS};
use crate::model::time::Clock;
use crate::oauth::OAuth;
pub use bookkeeping::Bookkeeping;
use limiter::Limiter;
use profiles::Profiles;
use screen::{rpc_error, INVALID_REQUEST, MAX_BODY_BYTES};
use tools::Tools;

/// The endpoint, built once per cold start.
pub struct Mcp {
    app: Arc<App>,
    /// The tools, for the scope a call needs before it reaches rmcp (step-up).
    tools: Tools,
    /// MCP authorization's server, when a consent page is configured.
    oauth: Option<OAuth>,
    service: StreamableHttpService<Tools, NeverSessionManager>,
    limiter: Arc<Limiter>,
    profiles: Arc<Profiles>,
    clock: Clock,
}

impl Mcp {
    pub fn new(app: Arc<App>) -> Mcp {
        Mcp::with_clock(app, Clock::default())
    }

    /// The endpoint reading the time from `clock`: the system's, or one a test moves.
    pub fn with_clock(app: Arc<App>, clock: Clock) -> Mcp {
        let mut config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None)
            .with_max_request_body_bytes(MAX_BODY_BYTES)
            .with_allowed_origins(app.config.allowed_origins.clone())
            .enforce_origin_validation();
        config = match app.config.allowed_hosts.clone() {
            Some(hosts) => config.with_allowed_hosts(hosts),
            None => config.disable_allowed_hosts(),
        };
        let profiles = Arc::new(Profiles::new(app.config.account_cache));
        let tools = Tools::new(Arc::clone(&app), Arc::clone(&profiles));
        // Stateless: rmcp asks for a handler per request; a clone is two Arc bumps.
        let handler = tools.clone();
        let service = StreamableHttpService::new(
            move || Ok(handler.clone()),
            Arc::new(NeverSessionManager::default()),
            config,
        );
        let limiter = Arc::new(Limiter::new(app.config.rate_limit_per_minute));
        let oauth = app
            .config
            .oauth_consent_url
            .is_some()
            .then(|| OAuth::new(Arc::clone(&app)));
        Mcp {
            app,
            tools,
            oauth,
            service,
            limiter,
            profiles,
            clock,
        }
    }

    /// Serves the endpoint on the Lambda runtime: each request's bookkeeping after its
    /// answer is posted.
    pub async fn run(self) -> Result<(), lambda_http::Error> {
        let mcp = Arc::new(self);
        crate::lambda::run(move |req| {
            let mcp = Arc::clone(&mcp);
            async move {
                let (response, bookkeeping) = mcp.answer(req).await;
                let later: crate::lambda::Later = Box::pin(bookkeeping.run());
                (response, Some(later))
            }
        })
        .await
    }

    /// Answers one request and does its bookkeeping.
    pub async fn handle(&self, req: Request) -> Result<Response<Body>, std::convert::Infallible> {
        let (response, bookkeeping) = self.answer(req).await;
        bookkeeping.run().await;
        Ok(response)
    }

    /// Answers one request, and gives back what is left to do once the answer is out.
    pub async fn answer(&self, req: Request) -> (Response<Body>, Bookkeeping) {
        let started = Instant::now();
        // The request's one reading of the time: its admission, its rate, its writes.
        let now = self.clock.now();
        let mut bookkeeping = Bookkeeping::new(&self.app, &self.limiter, now);
        let response = self.serve(req, &mut bookkeeping).await;
        bookkeeping.answered(started.elapsed());
        (response, bookkeeping)
    }

    async fn serve(&self, mut req: Request, after: &mut Bookkeeping) -> Response<Body> {
        let report = &mut after.report;
        if let Some(answer) = self.authorization(&req).await {
            report.outcome = "authorization";
            return answer;
        }
        if let Some(refused) = screen::check_route(&req) {
            report.outcome = "bad_request";
            return refused;
        }
        // Before authentication, which records a use: a refused browser writes nothing.
        if let Err(refused) = browser::check(req.headers(), &self.app.config) {
            report.outcome = "forbidden_origin";
            let message = format!("forbidden: {refused}");
            return rpc_error(StatusCode::FORBIDDEN, Value::Null, INVALID_REQUEST, message);
        }
        let message = serde_json::from_slice::<Value>(req.body().as_ref());
        let id = message
            .as_ref()
            .ok()
            .and_then(|m| m.get("id"))
            .cloned()
            .unwrap_or(Value::Null);
        report.read(message.as_ref().ok());
        after.source = crate::api::source_ip(&req);
        let authenticated = match self.authenticate(&req, after.source, after.now).await {
            Ok(authenticated) => authenticated,
            Err(refused) => {
                after.report.outcome = metrics::outcome(&refused.error);
                let came_without = matches!(
                    refused.error,
                    crate::error::Error::InvalidToken(crate::error::TokenRefusal::Missing, _)
                );
                let invite = (came_without || refused.connected)
                    .then(|| self.resource_metadata_url(&req))
                    .flatten();
                let answer = screen::refusal(&refused.error, id, invite.as_deref());
                after.refused(refused.then);
                return answer;
            }
        };
        let report = &mut after.report;
        report.token_id = Some(authenticated.caller.token_id.to_string());
        if let Some(answer) = self.step_up(&req, message.as_ref().ok(), &authenticated, &id) {
            report.outcome = "insufficient_scope";
            after.admitted(authenticated.record_use, authenticated.send);
            return answer;
        }
        if let Some(answer) = screen::check_message(message, id) {
            if answer.status() != StatusCode::ACCEPTED {
                report.outcome = "bad_request";
            }
            return answer;
        }

        screen::accept_json(req.headers_mut());
        req.extensions_mut().insert(authenticated.caller);
        req.extensions_mut().insert(report.tool_outcome.clone());
        after.admitted(authenticated.record_use, authenticated.send);
        let (parts, body) = self.service.handle(req).await.into_parts();
        let bytes = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_else(|e| match e {});
        let is_json = parts
            .headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if parts.status.is_client_error() && !is_json {
            // rmcp's own refusals (bad protocol version header, foreign Origin, …) are plain
            // text; clients expect JSON-RPC.
            let message = String::from_utf8_lossy(&bytes);
            return rpc_error(parts.status, Value::Null, INVALID_REQUEST, message.trim());
        }
        let body = match String::from_utf8(bytes.to_vec()) {
            Ok(text) if text.is_empty() => Body::Empty,
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        };
        let mut response = Response::from_parts(parts, body);
        screen::quota_headers(response.headers_mut(), authenticated.quota);
        response
    }

    /// This endpoint's URL: the configured one, or the function URL's own (a function
    /// cannot be given its own URL: the URL is made after the function).
    fn own_url(&self, req: &Request) -> Option<String> {
        if let Some(url) = &self.app.config.mcp_url {
            return Some(url.clone());
        }
        match req.request_context_ref()? {
            RequestContext::ApiGatewayV2(context) => context
                .domain_name
                .as_deref()
                .map(|domain| format!("https://{domain}/mcp")),
            _ => None,
        }
    }

    /// Where this endpoint's protected resource metadata is, when MCP authorization is
    /// on: the path form for `/mcp` (RFC 9728 §3.1).
    fn resource_metadata_url(&self, req: &Request) -> Option<String> {
        self.oauth.as_ref()?;
        let url = self.own_url(req)?;
        let (origin, path) = split_origin(&url)?;
        Some(format!(
            "{origin}/.well-known/oauth-protected-resource{path}"
        ))
    }

    /// MCP authorization's routes beside `/mcp`, when it is on: the protected resource
    /// metadata (`GET /.well-known/oauth-protected-resource[/mcp]`), and the authorization
    /// server's ([`OAuth::protocol`]). `None`: the request is for none of them.
    async fn authorization(&self, req: &Request) -> Option<Response<Body>> {
        let oauth = self.oauth.as_ref()?;
        let path = req.uri().path().trim_end_matches('/');
        if !path.starts_with("/.well-known/") && !path.starts_with("/oauth/") {
            return None;
        }
        let url = self.own_url(req)?;
        let resource = matches!(
            path,
            "/.well-known/oauth-protected-resource" | "/.well-known/oauth-protected-resource/mcp"
        );
        if !resource || req.method() != http::Method::GET {
            return oauth.protocol(req, &url).await;
        }
        if carries_token(req.headers()) {
            return Some(rpc_error(
                StatusCode::NOT_FOUND,
                Value::Null,
                INVALID_REQUEST,
                NOT_FOR_PASTED_TOKENS.trim_start_matches("; "),
            ));
        }
        let (issuer, _) = split_origin(&url)?;
        let metadata = resource_metadata(&url, issuer);
        let mut response = Response::new(Body::Text(metadata.to_string()));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::CACHE_CONTROL,
            http::HeaderValue::from_static("max-age=300"),
        );
        Some(response)
    }

    /// 403 `insufficient_scope` for a connected app's tool call that needs a scope its
    /// person could grant it (MCP's step-up authorization: the client asks them again);
    /// `None` otherwise — a pasted token's call, or a scope no consent could give, gets
    /// the tool's own refusal, which names the scope.
    fn step_up(
        &self,
        req: &Request,
        message: Option<&Value>,
        authenticated: &auth::Authenticated,
        id: &Value,
    ) -> Option<Response<Body>> {
        let message = message?;
        if message.get("method").and_then(Value::as_str) != Some("tools/call") {
            return None;
        }
        let name = message.get("params")?.get("name")?.as_str()?;
        let needed = self.tools.scope_needed(name)?;
        let scopes = authenticated.caller.step_up(needed)?;
        let metadata = self.resource_metadata_url(req)?;
        Some(screen::insufficient_scope(
            id.clone(),
            name,
            needed,
            scopes,
            &metadata,
        ))
    }

    /// The admitted caller, or why the request is refused.
    async fn authenticate(
        &self,
        req: &Request,
        source: Option<std::net::IpAddr>,
        now: crate::model::time::Timestamp,
    ) -> Result<auth::Authenticated, auth::Refused> {
        let pepper = self.app.pepper.get().await?;
        let authorization = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let hash = auth::credential(pepper, authorization)?;
        auth::authenticate(
            &self.app.store,
            &self.profiles,
            &self.limiter,
            &hash,
            source,
            now,
        )
        .await
    }
}
