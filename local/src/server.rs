//! The HTTP server: each request becomes the Lambda event its deployed function would get
//! (see [`gateway`](crate::gateway)) and goes to that function's handler.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use tokio::net::TcpListener;

use crate::gateway::{self, Api, Route};
use crate::Local;

/// What API Gateway would accept; the handlers apply their own, smaller limits.
const GATEWAY_MAX_BODY: usize = 10 * 1024 * 1024;
/// A client that has not sent its headers, or its body, by then is dropped: a half-sent
/// request must not hold a connection open.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves until the future is dropped.
pub async fn serve(local: Arc<Local>, listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let local = Arc::clone(&local);
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(Arc::clone(&local), req, peer.ip()));
            if let Err(e) = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
}

async fn answer(
    local: Arc<Local>,
    req: Request<Incoming>,
    peer: IpAddr,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = req.into_parts();
    // Every route, as the deployed MCP endpoint does: a page on another site, or a name
    // rebound to this machine, gets nothing from the local stack.
    if let Err(refused) = knotie::browser::check(&parts.headers, &local.app.config) {
        return Ok(json_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            &refused.to_string(),
        ));
    }
    let Some(route) = Route::matching(&parts.method, parts.uri.path()) else {
        return Ok(json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no route here: try /mcp-tokens or /mcp",
        ));
    };
    let body = Limited::new(body, GATEWAY_MAX_BODY).collect();
    let body = match tokio::time::timeout(READ_TIMEOUT, body).await {
        Ok(Ok(body)) => body.to_bytes(),
        Ok(Err(_)) => {
            return Ok(json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
            ))
        }
        Err(_) => {
            return Ok(json_error(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the request body did not arrive in time",
            ))
        }
    };
    let response = match route {
        // A function URL has no authorizer context to stand in for: the MCP handler reads
        // the request as it came.
        Route::Mcp => {
            let mut request =
                http::Request::from_parts(parts, lambda_http::Body::Binary(body.to_vec()));
            request.extensions_mut().insert(from_address(peer));
            local.mcp.handle(request).await
        }
        Route::Leaks => {
            let request =
                http::Request::from_parts(parts, lambda_http::Body::Binary(body.to_vec()));
            local.leaks.handle(request).await
        }
        Route::Page(file, content_type) => return Ok(page(&local, file, content_type)),
        Route::Api(api, id) => {
            let request = gateway::to_lambda_request(
                api,
                id,
                &parts.method,
                parts.uri.path(),
                parts.uri.query(),
                &parts.headers,
                &body,
                &local.app.config,
            );
            let Ok(request) = request else {
                return Ok(json_error(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "the request could not be read",
                ));
            };
            match api {
                Api::Generate | Api::Rotate => knotie::api::issues(&local.app, request).await,
                Api::List | Api::Events => knotie::api::reads(&local.app, request).await,
                Api::Revoke | Api::RevokeUser => knotie::api::revokes(&local.app, request).await,
                Api::Policy => knotie::api::policy(&local.app, request).await,
                Api::Consent => local.oauth.handle(request).await,
            }
        }
    };
    let Ok(response) = response;
    let (parts, body) = response.into_parts();
    Ok(Response::from_parts(
        parts,
        Full::new(Bytes::copy_from_slice(body.as_ref())),
    ))
}

/// What a function URL tells its function of the caller: the address the request came
/// from (`requestContext.http.sourceIp`), here the peer of the connection.
fn from_address(peer: IpAddr) -> lambda_http::request::RequestContext {
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http.source_ip = Some(peer.to_canonical().to_string());
    lambda_http::request::RequestContext::ApiGatewayV2(context)
}

/// A file of the built Settings page; `make dev` builds it first.
fn page(local: &Local, file: &str, content_type: &'static str) -> Response<Full<Bytes>> {
    match std::fs::read(local.web_dir.join(file)) {
        Ok(bytes) => {
            let mut response = Response::new(Full::new(Bytes::from(bytes)));
            let headers = response.headers_mut();
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(content_type),
            );
            // No other site may frame these pages and steer a click (an app's consent
            // most of all): what DEPLOY.md asks of the web app that serves them.
            headers.insert(
                http::header::CONTENT_SECURITY_POLICY,
                http::HeaderValue::from_static("frame-ancestors 'none'"),
            );
            headers.insert(
                http::header::X_FRAME_OPTIONS,
                http::HeaderValue::from_static("DENY"),
            );
            response
        }
        Err(_) => json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "the Settings page is not built: run make dev",
        ),
    }
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}
