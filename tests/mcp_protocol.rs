//! The MCP transport and protocol rules, through the function URL events.

use std::sync::Arc;

use http::StatusCode;
use serde_json::{json, Value};

use crate::common::mcp::{self as harness, McpCaller, MODERN};
use crate::common::{self};

fn initialize(version: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": { "protocolVersion": version, "capabilities": {}, "clientInfo": { "name": "test", "version": "1" } } })
}

fn error_code(body: &Value) -> i64 {
    body["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not a JSON-RPC error: {body}"))
}

#[tokio::test]
async fn initialize_echoes_each_supported_version_and_offers_the_latest_otherwise() {
    let (mcp, token) = harness::fresh().await;
    let c = McpCaller { mcp: &mcp, token };
    for (asked, answered) in [
        ("2025-11-25", "2025-11-25"),
        ("2025-06-18", "2025-06-18"),
        ("2025-03-26", "2025-03-26"),
        ("1999-01-01", "2025-11-25"),
    ] {
        let body = initialize(asked);
        // Clients send initialize without a version header (they have none yet).
        let a = c
            .send(|e| {
                e["body"] = body.to_string().into();
                e["headers"]
                    .as_object_mut()
                    .unwrap()
                    .remove("mcp-protocol-version");
            })
            .await;
        assert_eq!(a.status, StatusCode::OK, "{asked}: {}", a.body);
        assert_eq!(a.body["result"]["protocolVersion"], answered, "{asked}");
        assert_eq!(a.body["result"]["serverInfo"]["name"], "knotie");
        assert!(a.body["result"]["capabilities"]["tools"].is_object());
        assert!(
            a.headers.get("mcp-session-id").is_none(),
            "stateless: no session is minted"
        );
        assert_eq!(a.headers["content-type"], "application/json");
    }
}

#[tokio::test]
async fn an_unsupported_protocol_version_header_is_400_with_a_json_rpc_error() {
    let (mcp, token) = harness::fresh().await;
    let c = McpCaller { mcp: &mcp, token };
    let a = c
        .send(|e| e["headers"]["mcp-protocol-version"] = "1999-01-01".into())
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1999-01-01"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn the_2026_revision_works_without_a_handshake() {
    let (mcp, token) = harness::fresh().await;
    let c = McpCaller { mcp: &mcp, token };
    let meta = json!({ "io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {} });
    let modern = |method: &str, params: Value, name: Option<&str>| {
        let body = json!({ "jsonrpc": "2.0", "id": 9, "method": method, "params": params });
        let (method, name) = (method.to_owned(), name.map(str::to_owned));
        move |e: &mut Value| {
            e["body"] = body.to_string().into();
            e["headers"]["mcp-protocol-version"] = MODERN.into();
            e["headers"]["mcp-method"] = method.into();
            if let Some(name) = name {
                e["headers"]["mcp-name"] = name.into();
            }
        }
    };

    let discovered = c
        .send(modern("server/discover", json!({ "_meta": meta }), None))
        .await;
    assert_eq!(discovered.status, StatusCode::OK, "{}", discovered.body);
    let versions = discovered.body["result"]["supportedVersions"]
        .as_array()
        .unwrap();
    for v in [MODERN, "2025-11-25", "2025-06-18", "2025-03-26"] {
        assert!(versions.iter().any(|x| x == v), "{v} in {versions:?}");
    }

    let listed = c
        .send(modern("tools/list", json!({ "_meta": meta }), None))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(
        listed.body["result"]["cacheScope"], "private",
        "the list depends on the token"
    );
    assert!(listed.body["result"]["ttlMs"].as_u64().is_some());

    let called = c
        .send(modern(
            "tools/call",
            json!({ "name": "get_account", "arguments": {}, "_meta": meta }),
            Some("get_account"),
        ))
        .await;
    assert_eq!(called.status, StatusCode::OK, "{}", called.body);
    assert_eq!(
        called.body["result"]["structuredContent"]["api_access"],
        true
    );

    let mismatched = c
        .send(modern(
            "tools/call",
            json!({ "name": "get_account", "arguments": {}, "_meta": meta }),
            Some("list_customers"),
        ))
        .await;
    assert_eq!(mismatched.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_code(&mismatched.body),
        -32020,
        "Mcp-Name must match the body"
    );
}

#[tokio::test]
async fn ping_answers_empty() {
    let (mcp, token) = harness::fresh().await;
    let a = McpCaller { mcp: &mcp, token }.rpc("ping", json!({})).await;
    assert_eq!(
        (a.status, a.body["result"].clone()),
        (StatusCode::OK, json!({}))
    );
}

#[tokio::test]
async fn get_and_delete_are_405_even_before_authentication() {
    let (mcp, _) = harness::fresh().await;
    for token in ["", "kmcp_not-a-token"] {
        let c = McpCaller {
            mcp: &mcp,
            token: token.into(),
        };
        for method in ["GET", "DELETE"] {
            let a = c
                .send(|e| e["requestContext"]["http"]["method"] = method.into())
                .await;
            assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
            assert_eq!(a.headers["allow"], "POST");
        }
    }
}

#[tokio::test]
async fn other_paths_and_oauth_discovery_are_404() {
    let (mcp, token) = harness::fresh().await;
    let c = McpCaller { mcp: &mcp, token };
    for path in [
        "/.well-known/oauth-protected-resource",
        "/mcp/.well-known/openid-configuration",
        "/",
    ] {
        let a = c
            .send(|e| {
                e["rawPath"] = path.into();
                e["requestContext"]["http"]["path"] = path.into();
            })
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn malformed_json_is_400_parse_error_and_batches_are_invalid_requests() {
    let (mcp, token) = harness::fresh().await;
    let c = McpCaller { mcp: &mcp, token };
    let event = |name: &str| -> Value {
        let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let malformed = event("mcp-malformed-body.json")["body"].clone();
    let a = c.send(|e| e["body"] = malformed).await;
    assert_eq!(
        (a.status, error_code(&a.body)),
        (StatusCode::BAD_REQUEST, -32700)
    );
    for body in [
        r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
        r#"{"id":1,"method":"ping"}"#,
        "42",
    ] {
        let a = c.send(|e| e["body"] = body.into()).await;
        assert_eq!(
            (a.status, error_code(&a.body)),
            (StatusCode::BAD_REQUEST, -32600),
            "{body}"
        );
    }
}

#[tokio::test]
async fn unknown_methods_and_tools_are_json_rpc_errors() {
    let (mcp, token) = harness::fresh().await;
    let c = McpCaller { mcp: &mcp, token };
    assert_eq!(
        error_code(&c.rpc("resources/destroy", json!({})).await.body),
        -32601
    );
    assert_eq!(
        error_code(
            &c.rpc(
                "tools/call",
                json!({ "name": "drop_tables", "arguments": {} })
            )
            .await
            .body
        ),
        -32602
    );
    assert_eq!(
        error_code(&c.rpc("tools/call", json!({ "arguments": {} })).await.body),
        -32602,
        "no tool name"
    );
}

#[tokio::test]
async fn arguments_of_the_wrong_type_are_a_tool_error_the_model_can_correct() {
    let (mcp, token) = harness::fresh().await;
    let c = McpCaller { mcp: &mcp, token };
    let message = c
        .tool_error("list_customers", json!({ "limit": "many" }))
        .await;
    assert!(
        message.contains("limit") || message.contains("invalid type"),
        "{message}"
    );
}

#[tokio::test]
async fn notifications_and_client_responses_are_202_with_no_body() {
    let (mcp, token) = harness::fresh().await;
    let c = McpCaller { mcp: &mcp, token };
    for body in [
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        json!({ "jsonrpc": "2.0", "id": 3, "result": {} }),
    ] {
        let a = c.send(|e| e["body"] = body.to_string().into()).await;
        assert_eq!(
            (a.status, a.body.clone()),
            (StatusCode::ACCEPTED, Value::Null),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_foreign_origin_is_403_and_an_allowed_one_is_served() {
    let (mcp, token) = harness::fresh().await;
    let c = McpCaller { mcp: &mcp, token };
    let a = c
        .send(|e| e["headers"]["origin"] = "https://evil.example".into())
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert!(a.body["error"].is_object());
    let a = c
        .send(|e| e["headers"]["origin"] = harness::ALLOWED_ORIGIN.into())
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

#[tokio::test]
async fn a_foreign_origin_is_refused_before_the_token_is_read_or_its_use_recorded() {
    let app = Arc::new(common::app().await);
    let account = common::account(&app, true).await;
    let token = harness::token(&app, &account, None).await;
    let mcp = harness::mcp(Arc::clone(&app));
    let evil = |e: &mut Value| e["headers"]["origin"] = "https://evil.example".into();
    for token in ["kmcp_not-a-token".to_owned(), token] {
        let a = McpCaller { mcp: &mcp, token }.send(evil).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    }
    let identity = knotie::model::roles::Identity {
        account,
        user: "user_test".into(),
        role: knotie::model::roles::Role::Owner,
    };
    let pepper = app.pepper.get().await.unwrap();
    let request = knotie::model::page::PageRequest::default();
    let now = knotie::model::time::Timestamp::now();
    let all = knotie::rules::lifecycle::Filter::ALL;
    let page = knotie::rules::lifecycle::list(&app.store, pepper, &identity, &request, all, now);
    let listed = page.await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(
        listed.items[0].record.last_used_at, None,
        "a refused call recorded a use"
    );
}

#[tokio::test]
async fn a_body_over_1_mib_is_413() {
    let (mcp, token) = harness::fresh().await;
    let c = McpCaller { mcp: &mcp, token };
    let huge = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": { "name": "get_account", "arguments": { "pad": "x".repeat(1024 * 1024) } } });
    let a = c.send(|e| e["body"] = huge.to_string().into()).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn clients_that_accept_anything_get_json() {
    let (mcp, token) = harness::fresh().await;
    let c = McpCaller { mcp: &mcp, token };
    for accept in ["*/*", "application/json"] {
        let a = c.send(|e| e["headers"]["accept"] = accept.into()).await;
        assert_eq!(a.status, StatusCode::OK, "Accept: {accept}: {}", a.body);
    }
    let a = c
        .send(|e| e["headers"]["accept"] = "text/html".into())
        .await;
    assert_eq!(a.status, StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn the_sample_mcp_events_are_answered_as_documented() {
    // Each sample event, as `sam local invoke -e` would send it, with a real token.
    let app = Arc::new(common::app().await);
    let account = common::account(&app, true).await;
    let token = harness::token(&app, &account, None).await;
    let mcp = harness::mcp(Arc::clone(&app));
    let load = |name: &str| -> Value {
        let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    for (name, status) in [
        ("mcp-initialize.json", StatusCode::OK),
        ("mcp-tools-list.json", StatusCode::OK),
        ("mcp-tools-call.json", StatusCode::OK),
        ("mcp-malformed-body.json", StatusCode::BAD_REQUEST),
        ("mcp-revoked-token.json", StatusCode::UNAUTHORIZED),
    ] {
        let mut event = load(name);
        if name == "mcp-revoked-token.json" {
            revoke_sample_token(&app, &account).await;
        } else {
            event["headers"]["authorization"] = format!("Bearer {token}").into();
        }
        let Ok(response) = mcp
            .handle(lambda_http::request::from_str(&event.to_string()).unwrap())
            .await;
        assert_eq!(response.status(), status, "{name}");
        if name == "mcp-revoked-token.json" {
            assert!(std::str::from_utf8(response.body().as_ref())
                .unwrap()
                .contains("revoked"));
        }
    }
}

/// Makes the token written in `mcp-revoked-token.json` exist, revoked, in `account`.
async fn revoke_sample_token(app: &knotie::App, account: &knotie::model::ids::AccountId) {
    use knotie::model::ids::TokenId;
    use knotie::model::tokens::TokenRecord;
    let sample = "kmcp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd22kIYR";
    let token = knotie::model::token::Token::parse(sample).unwrap();
    let record = TokenRecord {
        id: TokenId::parse("tok_01KB3X7Q9ZJ4M2V8N6P0R5S1TW").unwrap(),
        account: account.clone(),
        name: "sample".into(),
        hint: token.hint(),
        scopes: knotie::model::scope::Scopes::all(),
        created_by: "user_test".into(),
        creator_role: knotie::model::roles::Role::Owner,
        created_at: knotie::model::time::Timestamp::from_unix(1_764_000_000).unwrap(),
        expires_at: None,
        last_used_at: None,
        last_used_ip: None,
        revoked_at: None,
        revocation: None,
        hash: app.pepper.get().await.unwrap().hash(&token),
        counted: true,
        allowed_ips: None,
        replacement: None,
        replaces: None,
        deleted: false,
        app: None,
    };
    app.store.insert_token(&record, 50).await.unwrap();
    let identity = knotie::model::roles::Identity {
        account: account.clone(),
        user: "user_test".into(),
        role: knotie::model::roles::Role::Owner,
    };
    knotie::rules::lifecycle::delete(
        &app.store,
        &identity,
        record.id.as_str(),
        knotie::model::time::Timestamp::now(),
    )
    .await
    .unwrap();
}
