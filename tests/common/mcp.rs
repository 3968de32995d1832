//! Calling the MCP endpoint as a function URL would: the sample events of `events/` with
//! a token and a body of the test's choosing.

use std::sync::{Arc, OnceLock};

use http::{HeaderMap, StatusCode};
use knotie::mcp::Mcp;
use knotie::model::ids::AccountId;
use knotie::model::roles::Identity;
use knotie::model::tokens::NewToken;
use knotie::rules::lifecycle;
use knotie::App;
use knotie_local::proxy::Proxy;
use serde_json::{json, Value};

pub const ALLOWED_ORIGIN: &str = "https://app.knotie.example";
pub const LEGACY: &str = "2025-11-25";
pub const MODERN: &str = "2026-07-28";

/// The endpoint; [`super::config`] allows [`ALLOWED_ORIGIN`] as a browser origin.
pub fn mcp(app: Arc<App>) -> Mcp {
    Mcp::new(app)
}

/// The endpoint on a clock the test sets and moves.
pub fn mcp_at(app: Arc<App>, clock: &knotie::model::time::Clock) -> Mcp {
    Mcp::with_clock(app, clock.clone())
}

/// The endpoint and a full-access token for a fresh, empty account with API access.
pub async fn fresh() -> (Mcp, String) {
    let app = Arc::new(super::app().await);
    let account = super::account(&app, true).await;
    let token = token(&app, &account, None).await;
    (mcp(app), token)
}

/// A new token for `account`, with `scopes` (all when `None`).
pub async fn token(app: &App, account: &AccountId, scopes: Option<&[&str]>) -> String {
    let body = match scopes {
        Some(scopes) => json!({ "name": "test", "scopes": scopes }),
        None => json!({ "name": "test" }),
    };
    let new = NewToken::from_json(body.to_string().as_bytes()).unwrap();
    let identity = Identity {
        account: account.clone(),
        user: "user_test".into(),
        role: knotie::model::roles::Role::Owner,
    };
    let pepper = app.pepper.get().await.unwrap();
    let generated = lifecycle::generate(
        &app.store,
        pepper,
        &identity,
        new,
        knotie::model::time::Timestamp::now(),
    )
    .await;
    generated.unwrap().token.expose().to_owned()
}

/// A fresh account seeded with `calls` calls of demo data, the app reading it through
/// `proxy` (which counts, or fails, its requests), and a full-access token.
pub async fn seeded_through(proxy: &Proxy, calls: usize) -> (Arc<App>, AccountId, String) {
    let clean = super::app().await;
    let account = super::account(&clean, true).await;
    let profile = clean.store.account(&account).await.unwrap().unwrap();
    let now = knotie::model::time::Timestamp::now();
    knotie_local::seed::account_data(&clean.store, &profile, calls, now)
        .await
        .unwrap();
    let app = Arc::new(App {
        store: super::store_at(&proxy.url()).await,
        ..clean
    });
    let token = token(&app, &account, None).await;
    (app, account, token)
}

/// An account with the demo data (customers, agents, credits, 400 calls), made once per
/// test run on its own runtime and shared by the tests that only read it.
pub fn demo_account() -> AccountId {
    static ACCOUNT: OnceLock<AccountId> = OnceLock::new();
    ACCOUNT
        .get_or_init(|| {
            std::thread::spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let app = super::app().await;
                    let id = super::account(&app, true).await;
                    let profile = app.store.account(&id).await.unwrap().unwrap();
                    knotie_local::seed::account_data(
                        &app.store,
                        &profile,
                        400,
                        knotie::model::time::Timestamp::now(),
                    )
                    .await
                    .unwrap();
                    id
                })
            })
            .join()
            .unwrap()
        })
        .clone()
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// Posts to the MCP endpoint with a bearer token.
pub struct McpCaller<'a> {
    pub mcp: &'a Mcp,
    pub token: String,
}

impl McpCaller<'_> {
    /// The `mcp-tools-call.json` event with its body, token and headers changed by `edit`.
    pub async fn send(&self, edit: impl FnOnce(&mut Value)) -> Answer {
        let path = format!(
            "{}/../events/mcp-tools-call.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut event: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        event["headers"]["authorization"] = format!("Bearer {}", self.token).into();
        edit(&mut event);
        let request =
            lambda_http::request::from_str(&event.to_string()).expect("a function URL event");
        let Ok(response) = self.mcp.handle(request).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.body().as_ref();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(bytes).expect("a JSON body")
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// A JSON-RPC request as a 2025-11-25 client sends it after `initialize`.
    pub async fn rpc(&self, method: &str, params: Value) -> Answer {
        let body = json!({ "jsonrpc": "2.0", "id": 7, "method": method, "params": params });
        self.send(|e| {
            e["body"] = body.to_string().into();
            e["headers"]["mcp-protocol-version"] = LEGACY.into();
        })
        .await
    }

    /// A tool call that must succeed at the protocol level; returns the tool result.
    pub async fn tool(&self, name: &str, arguments: Value) -> Value {
        let answer = self
            .rpc(
                "tools/call",
                json!({ "name": name, "arguments": arguments }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{name}: {}", answer.body);
        assert!(
            answer.body.get("error").is_none(),
            "{name}: {}",
            answer.body
        );
        answer.body["result"].clone()
    }

    /// A tool call that must succeed; returns its structured content.
    pub async fn ok(&self, name: &str, arguments: Value) -> Value {
        let result = self.tool(name, arguments).await;
        assert_ne!(result["isError"], true, "{name}: {result}");
        result["structuredContent"].clone()
    }

    /// A tool call that must fail as a tool (isError); returns the error's message.
    pub async fn tool_error(&self, name: &str, arguments: Value) -> String {
        let result = self.tool(name, arguments).await;
        assert_eq!(result["isError"], true, "{name} should fail: {result}");
        result["content"][0]["text"].as_str().unwrap().to_owned()
    }
}
