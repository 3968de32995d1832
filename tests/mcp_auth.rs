//! Every MCP request is authenticated before any tool runs.

use std::sync::Arc;

use http::StatusCode;
use serde_json::json;

use crate::common::mcp::{self as harness, McpCaller};
use crate::common::{self, Caller};

fn message(answer: &harness::Answer) -> String {
    answer.body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn assert_bearer_challenge(answer: &harness::Answer) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    let challenge = answer.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert!(
        !challenge.contains("resource_metadata"),
        "no OAuth metadata: clients would drop the static token"
    );
}

#[tokio::test]
async fn a_damaged_token_gets_a_precise_401_without_touching_the_database() {
    // The store is unreachable: any database call would turn into a 503.
    let app = knotie::App {
        store: common::store_at(common::DEAD_ENDPOINT).await,
        ..common::app().await
    };
    let mcp = harness::mcp(Arc::new(app));
    let valid = "kmcp_000000000000000000000000000000000000000001W9ct";
    let cases = [
        (String::new(), "no token"),
        (valid[..30].to_owned(), "incomplete"),
        (format!("{valid}xyz"), "extra characters"),
        (valid.replace("01W9ct", "01W9cu"), "mistyped"),
        ("sk-live-1234".to_owned(), "not a Knotie MCP token"),
    ];
    for (token, says) in cases {
        let answer = McpCaller {
            mcp: &mcp,
            token: token.clone(),
        }
        .rpc("tools/list", json!({}))
        .await;
        assert_bearer_challenge(&answer);
        assert!(
            message(&answer).contains(says),
            "{token:?}: {}",
            message(&answer)
        );
        assert_eq!(answer.body["error"]["code"], -32001);
        assert_eq!(answer.body["id"], 7, "the error answers the request's id");
    }
    let basic = McpCaller {
        mcp: &mcp,
        token: String::new(),
    }
    .send(|e| e["headers"]["authorization"] = "Basic dXNlcjpwYXNz".into())
    .await;
    assert_bearer_challenge(&basic);
}

#[tokio::test]
async fn whitespace_around_the_header_is_tolerated() {
    let app = Arc::new(common::app().await);
    let account = common::account(&app, true).await;
    let token = harness::token(&app, &account, None).await;
    let mcp = harness::mcp(app);
    let padded = McpCaller {
        mcp: &mcp,
        token: String::new(),
    }
    .send(|e| e["headers"]["authorization"] = format!("  Bearer   {token} ").into())
    .await;
    assert_eq!(padded.status, StatusCode::OK, "{}", padded.body);
}

#[tokio::test]
async fn an_unknown_token_is_401() {
    let app = Arc::new(common::app().await);
    let mcp = harness::mcp(app);
    let stranger = knotie::model::token::Token::generate(&ring::rand::SystemRandom::new()).unwrap();
    let answer = McpCaller {
        mcp: &mcp,
        token: stranger.expose().into(),
    }
    .rpc("tools/list", json!({}))
    .await;
    assert_bearer_challenge(&answer);
    assert!(message(&answer).contains("not recognized"));
}

#[tokio::test]
async fn a_revoked_token_is_refused_on_the_very_next_call() {
    let app = Arc::new(common::app().await);
    let management = Caller {
        app: &app,
        account: common::account(&app, true).await,
    };
    let (_, generated) = management.generate_named("Cursor").await;
    let mcp = harness::mcp(Arc::clone(&app));
    let client = McpCaller {
        mcp: &mcp,
        token: generated["token"].as_str().unwrap().into(),
    };

    assert_eq!(
        client.ok("get_account", json!({})).await["api_access"],
        true
    );
    assert_eq!(
        management.revoke(generated["id"].as_str().unwrap()).await.0,
        StatusCode::NO_CONTENT
    );
    let refused = client
        .rpc(
            "tools/call",
            json!({ "name": "get_account", "arguments": {} }),
        )
        .await;
    assert_bearer_challenge(&refused);
    assert!(
        message(&refused).contains("revoked"),
        "{}",
        message(&refused)
    );
}

#[tokio::test]
async fn an_expired_token_is_401() {
    let app = Arc::new(common::app().await);
    let account = common::account(&app, true).await;
    let identity = knotie::model::roles::Identity {
        account,
        user: "user_test".into(),
        role: knotie::model::roles::Role::Owner,
    };
    let new =
        knotie::model::tokens::NewToken::from_json(br#"{"name": "old", "expires_in_days": 1}"#)
            .unwrap();
    let two_days_ago = knotie::model::time::Timestamp::from_datetime(
        time::OffsetDateTime::now_utc() - time::Duration::days(2),
    );
    let pepper = app.pepper.get().await.unwrap();
    let old = knotie::rules::lifecycle::generate(&app.store, pepper, &identity, new, two_days_ago)
        .await
        .unwrap();
    let mcp = harness::mcp(Arc::clone(&app));
    let answer = McpCaller {
        mcp: &mcp,
        token: old.token.expose().into(),
    }
    .rpc("tools/list", json!({}))
    .await;
    assert_bearer_challenge(&answer);
    assert!(message(&answer).contains("expired"));
}

#[tokio::test]
async fn an_account_without_api_access_gets_403_saying_so() {
    let app = Arc::new(common::app().await);
    let account = common::account(&app, false).await;
    let token = harness::token(&app, &account, None).await;
    let mcp = harness::mcp(app);
    let answer = McpCaller { mcp: &mcp, token }
        .rpc("tools/list", json!({}))
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(message(&answer).contains("API access is not enabled for this account"));
}

#[tokio::test]
async fn dynamodb_down_is_503_never_a_guess() {
    let healthy = common::app().await;
    let account = common::account(&healthy, true).await;
    let token = harness::token(&healthy, &account, None).await;
    let down = knotie::App {
        store: common::store_at(common::DEAD_ENDPOINT).await,
        ..common::app().await
    };
    let mcp = harness::mcp(Arc::new(down));
    let answer = McpCaller { mcp: &mcp, token }
        .rpc("tools/list", json!({}))
        .await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn last_use_is_recorded_once_per_five_minutes() {
    let app = Arc::new(common::app().await);
    let management = Caller {
        app: &app,
        account: common::account(&app, true).await,
    };
    let (_, generated) = management.generate_named("Cursor").await;
    let mcp = harness::mcp(Arc::clone(&app));
    let client = McpCaller {
        mcp: &mcp,
        token: generated["token"].as_str().unwrap().into(),
    };
    assert_eq!(
        management.list_all().await[0]["last_used_at"],
        serde_json::Value::Null
    );

    client.ok("get_account", json!({})).await;
    let first = management.list_all().await[0]["last_used_at"].clone();
    assert!(first.is_string(), "recorded: {first}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    client.ok("get_account", json!({})).await;
    assert_eq!(
        management.list_all().await[0]["last_used_at"],
        first,
        "not rewritten within 5 minutes"
    );
}

#[tokio::test]
async fn a_read_only_token_sees_and_calls_only_read_tools() {
    let app = Arc::new(common::app().await);
    let account = common::account(&app, true).await;
    let read_only = [
        "customers:read",
        "agents:read",
        "credits:read",
        "analytics:read",
    ];
    let token = harness::token(&app, &account, Some(&read_only)).await;
    let mcp = harness::mcp(app);
    let client = McpCaller { mcp: &mcp, token };
    let listed = client.rpc("tools/list", json!({})).await.body;
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"list_customers")
            && names.contains(&"get_usage_analytics")
            && names.contains(&"get_account")
    );
    for write in [
        "create_customer",
        "update_customer",
        "create_agent",
        "update_agent",
        "allocate_credits",
    ] {
        assert!(!names.contains(&write), "{write} is hidden");
    }
    let refused = client
        .rpc(
            "tools/call",
            json!({ "name": "create_customer", "arguments": { "name": "Sneaky" } }),
        )
        .await;
    assert_eq!(refused.body["error"]["code"], -32602);
    assert!(
        message(&refused).contains("customers:write"),
        "{}",
        message(&refused)
    );
    assert!(
        client.ok("list_customers", json!({})).await["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing was created"
    );
}
