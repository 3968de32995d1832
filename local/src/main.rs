//! `make dev`: the deployed routes on localhost, over the same handler functions, against
//! DynamoDB Local. Only the JWT authorizer is stood in for (see [`gateway`]).

mod gateway;
mod seed;

use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use knotie::config::{Config, DEFAULT_ACCOUNT_CLAIM};
use knotie::hashing::Pepper;
use knotie::secrets::PepperSource;
use knotie::store::Store;
use knotie::App;
use tokio::net::TcpListener;

use gateway::Route;

/// What API Gateway would accept; the handlers apply their own, smaller limits.
const GATEWAY_MAX_BODY: usize = 10 * 1024 * 1024;
/// Local development only: deployed functions read their pepper from Secrets Manager.
const DEV_PEPPER: &str = "knotie-local-development-pepper-not-a-secret";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    lambda_http::tracing::init_default_subscriber();
    let port: u16 = env_or("PORT", "3000").parse()?;
    let base = format!("http://127.0.0.1:{port}");
    let config = Config {
        table: env_or("TABLE_NAME", "knotie-local"),
        account_claim: env_or("ACCOUNT_CLAIM", DEFAULT_ACCOUNT_CLAIM),
        mcp_url: env_or("MCP_URL", &format!("{base}/mcp")),
    };
    let sdk = knotie::aws::local_sdk_config().await;
    let dynamodb = env_or("DYNAMODB_ENDPOINT", "http://127.0.0.1:8000");
    let store = Store::new(knotie::aws::dynamodb_at(&sdk, &dynamodb), &config.table);
    store.create_table_if_missing().await?;
    seed::demo(&store, time::OffsetDateTime::now_utc()).await?;
    let pepper = Pepper::new(env_or("DEV_PEPPER", DEV_PEPPER).as_bytes())?;
    let app = Arc::new(App {
        config,
        store,
        pepper: PepperSource::Fixed(pepper),
    });

    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    print_usage(&base, &dynamodb, app.store.table());
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            let service = service_fn(move |req| serve(Arc::clone(&app), req));
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
}

async fn serve(
    app: Arc<App>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = req.into_parts();
    let Some((route, id)) = Route::matching(&parts.method, parts.uri.path()) else {
        return Ok(json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no route here: try /mcp-tokens",
        ));
    };
    let body = match Limited::new(body, GATEWAY_MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return Ok(json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
            ))
        }
    };
    let request = gateway::to_lambda_request(
        route,
        id,
        parts.uri.path(),
        parts.uri.query(),
        &parts.headers,
        &body,
        &app.config.account_claim,
    );
    let Ok(request) = request else {
        return Ok(json_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the request could not be read",
        ));
    };
    let response = match route {
        Route::Generate => knotie::api::generate(&app, request).await,
        Route::List => knotie::api::list(&app, request).await,
        Route::Revoke => knotie::api::revoke(&app, request).await,
    };
    let Ok(response) = response;
    let (parts, body) = response.into_parts();
    Ok(Response::from_parts(
        parts,
        Full::new(Bytes::copy_from_slice(body.as_ref())),
    ))
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

fn print_usage(base: &str, dynamodb: &str, table: &str) {
    println!(
        r#"
Knotie MCP tokens — local stack
  management API  {base}/mcp-tokens   (identity: header x-dev-account, default acct_demo)
  DynamoDB Local  {dynamodb}   table {table}
  demo accounts   acct_demo (API access on), acct_noapi (API access off), acct_other

Try it:
  # generate a token (shown once)
  curl -s -X POST {base}/mcp-tokens -H 'content-type: application/json' -d '{{"name": "Cursor Development"}}'
  # a read-only token that expires in 30 days
  curl -s -X POST {base}/mcp-tokens -d '{{"name": "Read only", "scopes": ["customers:read", "agents:read", "credits:read", "analytics:read"], "expires_in_days": 30}}'
  # list tokens, newest first (add ?limit=5&cursor=... to page)
  curl -s {base}/mcp-tokens
  # revoke one (use an id from the list)
  curl -s -i -X DELETE {base}/mcp-tokens/tok_...
  # act as the account without API access
  curl -s -X POST {base}/mcp-tokens -H 'x-dev-account: acct_noapi' -d '{{"name": "Blocked"}}'

Ctrl-C stops the server and DynamoDB Local.
"#
    );
}
