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
//! Lambda after the answer is posted ([`lambda`]).

pub mod auth;
pub mod lambda;
pub mod limiter;
pub mod profiles;
pub mod tools;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{header, HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::{json, Value};

use crate::app::App;
use crate::browser;
use crate::error::{Error, TokenRefusal};
use crate::metrics::{self, Unit};
use crate::model::time::Timestamp;
use crate::model::tokens::Grant;
use crate::store;
use limiter::{Limiter, Quota};
use profiles::Profiles;
use tools::{ToolOutcome, Tools};

pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const INVALID_PARAMS: i64 = -32602;

/// The endpoint, built once per cold start.
pub struct Mcp {
    app: Arc<App>,
    service: StreamableHttpService<Tools, NeverSessionManager>,
    limiter: Arc<Limiter>,
    profiles: Arc<Profiles>,
}

impl Mcp {
    pub fn new(app: Arc<App>) -> Mcp {
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
        let service = StreamableHttpService::new(
            move || Ok(tools.clone()),
            Arc::new(NeverSessionManager::default()),
            config,
        );
        let limiter = Arc::new(Limiter::new(app.config.rate_limit_per_minute));
        Mcp {
            app,
            service,
            limiter,
            profiles,
        }
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
        let mut bookkeeping = Bookkeeping {
            app: Arc::clone(&self.app),
            limiter: Arc::clone(&self.limiter),
            latency: Duration::ZERO,
            sent_before: store::requests_sent(),
            report: Report::default(),
            writes: None,
        };
        let response = self.serve(req, &mut bookkeeping).await;
        bookkeeping.latency = started.elapsed();
        (response, bookkeeping)
    }

    async fn serve(&self, mut req: Request, after: &mut Bookkeeping) -> Response<Body> {
        let report = &mut after.report;
        if let Some(refused) = check_route(&req) {
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
        let now = Timestamp::now();
        let (authenticated, quota, send) = match self.authenticate(&req, now).await {
            Ok(admitted) => admitted,
            Err(e) => {
                report.outcome = metrics::outcome(&e);
                return refusal(&e, id);
            }
        };
        report.token_id = Some(authenticated.caller.token_id.to_string());
        if let Some(answer) = check_message(message, id) {
            if answer.status() != StatusCode::ACCEPTED {
                report.outcome = "bad_request";
            }
            return answer;
        }

        accept_json(req.headers_mut());
        req.extensions_mut().insert(authenticated.caller);
        req.extensions_mut().insert(report.tool_outcome.clone());
        after.writes = Some(Writes {
            record_use: authenticated.record_use,
            send,
            now,
        });
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
        quota_headers(response.headers_mut(), quota);
        response
    }

    /// The caller, its quota and the counts to share, or why the request is refused: a
    /// token over its rate is refused before it is read.
    async fn authenticate(
        &self,
        req: &Request,
        now: Timestamp,
    ) -> Result<(auth::Authenticated, Quota, Option<limiter::Send>), Error> {
        let pepper = self.app.pepper.get().await?;
        let authorization = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let hash = auth::credential(pepper, authorization)?;
        let now_ms = i64::try_from(now.unix_millis()).unwrap_or(i64::MAX);
        self.limiter.check(&hash, now_ms)?;
        let authenticated =
            auth::authenticate(&self.app.store, &self.profiles, &hash, source_ip(req), now)
                .await
                .inspect_err(|e| {
                    // A real token refused after its read: each retry would cost a read.
                    if matches!(
                        e,
                        Error::AddressNotAllowed(_)
                            | Error::ApiAccessDisabled
                            | Error::InvalidToken(
                                TokenRefusal::Revoked
                                    | TokenRefusal::Leaked
                                    | TokenRefusal::Expired,
                                _
                            )
                    ) {
                        self.limiter.count_refused(&hash, now_ms);
                    }
                })?;
        let (quota, send) = self
            .limiter
            .admit(&hash, &authenticated.caller.token_id, now_ms)?;
        Ok((authenticated, quota, send))
    }
}

/// The caller's address, as the function URL saw it (`requestContext.http.sourceIp`; the
/// local server puts the peer's there). Never a header: those are the caller's to write.
fn source_ip(req: &Request) -> Option<IpAddr> {
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => context.http.source_ip.as_deref()?.parse().ok(),
        _ => None,
    }
}

/// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds), as the IETF
/// draft names them.
fn quota_headers(headers: &mut http::HeaderMap, quota: Quota) {
    for (name, value) in [
        ("ratelimit-limit", u64::from(quota.limit)),
        ("ratelimit-remaining", u64::from(quota.remaining)),
        ("ratelimit-reset", quota.reset_secs),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}

/// What a request leaves to do once it is answered: record the token's use and share its
/// rate counts (writes whose failure is logged, never the caller's problem), then write
/// its one log line with its metrics.
#[must_use = "a request's bookkeeping must be run"]
pub struct Bookkeeping {
    app: Arc<App>,
    limiter: Arc<Limiter>,
    /// Until the answer was ready.
    latency: Duration,
    sent_before: u64,
    report: Report,
    writes: Option<Writes>,
}

/// The writes of an admitted request.
struct Writes {
    record_use: Option<Grant>,
    send: Option<limiter::Send>,
    now: Timestamp,
}

impl Bookkeeping {
    pub async fn run(self) {
        if let Some(writes) = self.writes {
            tokio::join!(
                auth::record_use(&self.app.store, writes.record_use, writes.now),
                self.limiter
                    .send(&self.app.store, writes.send, writes.now.unix()),
            );
        }
        if self.app.config.emit_metrics {
            let requests = store::requests_sent().saturating_sub(self.sent_before);
            self.report.emit(self.latency, requests);
        }
    }
}

/// What a request did, for its one log line and its metrics.
#[derive(Debug)]
struct Report {
    outcome: &'static str,
    /// As the caller wrote it (a log field, never a dimension).
    method: Option<String>,
    tool_outcome: ToolOutcome,
    token_id: Option<String>,
}

impl Default for Report {
    fn default() -> Report {
        Report {
            outcome: "ok",
            method: None,
            tool_outcome: ToolOutcome::default(),
            token_id: None,
        }
    }
}

impl Report {
    fn read(&mut self, message: Option<&Value>) {
        self.method = message
            .and_then(|m| m.get("method"))
            .and_then(Value::as_str)
            .map(|s| s.chars().take(64).collect());
    }

    fn emit(&self, latency: Duration, dynamodb_requests: u64) {
        let mut line = metrics::Line::new();
        line.metrics(
            &[("Outcome", self.outcome)],
            &[&["Outcome"], &[]],
            &[
                ("Requests", 1.0, Unit::Count),
                (
                    "Latency",
                    latency.as_secs_f64() * 1000.0,
                    Unit::Milliseconds,
                ),
                ("DynamoDbRequests", dynamodb_requests as f64, Unit::Count),
            ],
        );
        if let Some((tool, outcome)) = self.tool_outcome.get() {
            line.metrics(
                &[("Tool", &tool), ("ToolOutcome", outcome)],
                &[&["Tool", "ToolOutcome"]],
                &[("ToolCalls", 1.0, Unit::Count)],
            );
        }
        line.property("message", "mcp request");
        if let Some(method) = &self.method {
            line.property("method", method.as_str());
        }
        if let Some(token_id) = &self.token_id {
            line.property("token_id", token_id.as_str());
        }
        line.emit(Timestamp::now().unix_millis());
    }
}

/// Only `POST /mcp`, at most 1 MiB: the refusal otherwise.
fn check_route(req: &Request) -> Option<Response<Body>> {
    if req.uri().path().trim_end_matches('/') != "/mcp" {
        // Includes /.well-known/*: there is no OAuth here, and saying so early stops
        // clients from starting an OAuth flow that cannot succeed.
        return Some(rpc_error(
            StatusCode::NOT_FOUND,
            Value::Null,
            INVALID_REQUEST,
            "not found: the MCP endpoint is /mcp",
        ));
    }
    if req.method() != Method::POST {
        // Before authentication: clients probe GET with their token and take a 401 as a
        // sign to start OAuth.
        let message = "this stateless MCP endpoint answers POST only";
        let mut response = rpc_error(
            StatusCode::METHOD_NOT_ALLOWED,
            Value::Null,
            INVALID_REQUEST,
            message,
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Some(response);
    }
    if req.body().as_ref().len() > MAX_BODY_BYTES {
        let message = "the request body is larger than 1 MiB";
        return Some(rpc_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            Value::Null,
            INVALID_REQUEST,
            message,
        ));
    }
    None
}

/// What rmcp would misreport: not JSON (it says 415), batches and non-JSON-RPC, a
/// response posted by the client (202), a tools/call without a tool name (it says
/// unknown method; it is bad params). The answer to give instead, if any.
fn check_message(message: Result<Value, serde_json::Error>, id: Value) -> Option<Response<Body>> {
    let bad = |code, message: &str| {
        Some(rpc_error(
            StatusCode::BAD_REQUEST,
            id.clone(),
            code,
            message,
        ))
    };
    let message = match message {
        Err(_) => {
            return Some(rpc_error(
                StatusCode::BAD_REQUEST,
                Value::Null,
                PARSE_ERROR,
                "parse error: the body is not JSON",
            ))
        }
        Ok(Value::Array(_)) => {
            return bad(
                INVALID_REQUEST,
                "batches are not supported: send one JSON-RPC message per request",
            )
        }
        Ok(Value::Object(m)) if m.get("jsonrpc").and_then(Value::as_str) == Some("2.0") => m,
        Ok(_) => {
            return bad(
                INVALID_REQUEST,
                "invalid request: not a JSON-RPC 2.0 message",
            )
        }
    };
    let method = message.get("method").and_then(Value::as_str);
    if method.is_none() && (message.contains_key("result") || message.contains_key("error")) {
        return Some(empty(StatusCode::ACCEPTED));
    }
    let tool = message.get("params").and_then(|p| p.get("name"));
    if method == Some("tools/call") && !tool.is_some_and(Value::is_string) {
        let message = "invalid params: tools/call needs params.name, the tool to call";
        return Some(rpc_error(StatusCode::OK, id, INVALID_PARAMS, message));
    }
    None
}

/// rmcp insists on an `Accept` listing both JSON and SSE; this endpoint only ever answers
/// JSON, so any client that takes JSON (or anything) is served.
fn accept_json(headers: &mut http::HeaderMap) {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("*/*");
    if accept.contains("application/json") || accept.contains("*/*") {
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
    }
}

/// A request refused before the protocol: 401 (token), 403 (API access, address), 429
/// (rate), 503.
fn refusal(err: &Error, id: Value) -> Response<Body> {
    if err.status().is_server_error() {
        tracing::error!(error = ?err, "MCP request refused");
    }
    let mut response = rpc_error(err.status(), id, err.rpc_code(), err.to_string());
    if let Error::RateLimited {
        limit,
        retry_after_secs,
    } = *err
    {
        let headers = response.headers_mut();
        headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        let quota = Quota {
            limit,
            remaining: 0,
            reset_secs: retry_after_secs,
        };
        quota_headers(headers, quota);
    }
    if err.status() == StatusCode::UNAUTHORIZED {
        // No resource_metadata: clients that see OAuth metadata drop the static header.
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    response
}

fn rpc_error(
    status: StatusCode,
    id: Value,
    code: i64,
    message: impl Into<String>,
) -> Response<Body> {
    let body =
        json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message.into() } });
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Into::into),
            any::<i64>().prop_map(Into::into),
            "\\PC{0,20}".prop_map(Into::into),
            Just("2.0".into()),
            Just("tools/call".into()),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(Into::into),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("jsonrpc".to_owned()),
                        Just("method".to_owned()),
                        Just("id".to_owned()),
                        Just("params".to_owned()),
                        Just("name".to_owned()),
                        Just("result".to_owned()),
                        "[a-z]{1,6}",
                    ],
                    inner,
                    0..5,
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever a client posts, the screening either passes it on or answers with a
        /// client error (or 202 for a response), a JSON-RPC body and no panic.
        #[test]
        fn any_message_is_screened_to_a_client_answer_or_passed_on(message in json(), text in "\\PC{0,40}") {
            for parsed in [Ok(message.clone()), serde_json::from_str::<Value>(&text)] {
                let id = parsed.as_ref().ok().and_then(|m| m.get("id")).cloned().unwrap_or(Value::Null);
                if let Some(answer) = check_message(parsed, id) {
                    let status = answer.status();
                    prop_assert!(status == StatusCode::ACCEPTED || status == StatusCode::OK || status.is_client_error());
                    if status != StatusCode::ACCEPTED {
                        let body: Value = serde_json::from_slice(answer.body().as_ref()).unwrap();
                        prop_assert_eq!(&body["jsonrpc"], "2.0");
                        prop_assert!(body["error"]["code"].is_i64());
                    }
                }
            }
        }
    }
}
