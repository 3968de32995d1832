//! What the endpoint answers around the protocol, before and beside rmcp: only `POST /mcp`
//! of at most 1 MiB, the messages rmcp would misreport, and every refusal as a JSON-RPC
//! error body with its status and headers (`WWW-Authenticate`, `Retry-After`,
//! `RateLimit-*`). It also reads where a call comes from.

use http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};

use super::limiter::Quota;
use crate::error::{Error, TokenRefusal};
use crate::model::scope::{Scope, Scopes};

pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
const INVALID_PARAMS: i64 = -32602;

/// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds), as the IETF
/// draft names them.
pub fn quota_headers(headers: &mut http::HeaderMap, quota: Quota) {
    for (name, value) in [
        ("ratelimit-limit", u64::from(quota.limit)),
        ("ratelimit-remaining", u64::from(quota.remaining)),
        ("ratelimit-reset", quota.reset_secs),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}

/// Only `POST /mcp`, at most 1 MiB: the refusal otherwise.
pub fn check_route(req: &Request) -> Option<Response<Body>> {
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
pub fn check_message(
    message: Result<Value, serde_json::Error>,
    id: Value,
) -> Option<Response<Body>> {
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
pub fn accept_json(headers: &mut http::HeaderMap) {
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
/// A refusal, as JSON-RPC. A 401 `invite`s MCP authorization when `resource_metadata`
/// (RFC 9728) is given: clients that see it start an OAuth flow and drop any header they
/// were given, so only a call that came without a token or with a connected app's gets
/// it — a person's pasted token that no longer works gets its message, not a browser
/// window asking to sign in.
pub fn refusal(err: &Error, id: Value, resource_metadata: Option<&str>) -> Response<Body> {
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
        // RFC 6750 §3.1: a request that carried no token gets no error code.
        let came_without = matches!(err, Error::InvalidToken(TokenRefusal::Missing, _));
        let mut challenge = match came_without {
            true => "Bearer".to_owned(),
            false => "Bearer error=\"invalid_token\"".to_owned(),
        };
        if let Some(url) = resource_metadata {
            let scopes = Scopes::all().to_strings().join(" ");
            let sep = if came_without { " " } else { ", " };
            challenge = format!("{challenge}{sep}resource_metadata=\"{url}\", scope=\"{scopes}\"");
        }
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

/// 403 for a call that needs `needed`, with the challenge that asks for `scopes`
/// (RFC 6750 §3.1, MCP's step-up authorization).
pub fn insufficient_scope(
    id: Value,
    tool: &str,
    needed: Scope,
    scopes: Scopes,
    resource_metadata: &str,
) -> Response<Body> {
    let message = format!(
        "the tool {tool} needs the {needed} scope, which this app was not given: connect it again and allow {needed}"
    );
    let mut response = rpc_error(StatusCode::FORBIDDEN, id, -32003, message);
    let challenge = format!(
        "Bearer error=\"insufficient_scope\", scope=\"{}\", resource_metadata=\"{resource_metadata}\"",
        scopes.to_strings().join(" ")
    );
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

pub fn rpc_error(
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

pub fn empty(status: StatusCode) -> Response<Body> {
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
