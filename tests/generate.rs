use http::StatusCode;
use knotie::model::token::Token;
use serde_json::Value;

use crate::common::{self, error_code, Caller};

#[tokio::test]
async fn generate_returns_the_token_once_with_its_metadata_and_client_configs() {
    let app = common::app().await;
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let (status, body) = caller
        .generate(r#"{"name": "  Cursor Development  "}"#)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let token = Token::parse(body["token"].as_str().unwrap()).expect("a well-formed token");
    assert_eq!(body["name"], "Cursor Development");
    assert_eq!(body["hint"], token.hint());
    assert!(body["id"].as_str().unwrap().starts_with("tok_"));
    assert_eq!(body["scopes"].as_array().unwrap().len(), 7);
    assert_eq!(body["expires_at"], Value::Null);
    assert!(body.get("warning").is_none(), "API access is on: {body}");
    for client in [
        "cursor",
        "windsurf",
        "claude_desktop",
        "vscode",
        "claude_code",
    ] {
        let config = body["client_configs"][client].to_string();
        assert!(
            config.contains(token.expose()) && config.contains(common::MCP_URL),
            "{client}: {config}"
        );
    }
}

#[tokio::test]
async fn the_token_is_stored_only_as_its_hmac() {
    let app = common::app().await;
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let (_, body) = caller.generate_named("Hashed").await;
    let token = Token::parse(body["token"].as_str().unwrap()).unwrap();
    let pepper = knotie::model::hashing::Pepper::new(common::PEPPER).unwrap();

    let items = raw_items(&app, &caller.account).await;
    let dump = format!("{items:?}");
    assert!(
        !dump.contains(token.expose()),
        "the token itself is never stored"
    );
    assert!(dump.contains(pepper.hash(&token).as_str()), "its HMAC is");
}

async fn raw_items(
    app: &knotie::App,
    account: &knotie::model::ids::AccountId,
) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let sdk = knotie::aws::local_sdk_config().await;
    let client = knotie::aws::dynamodb_at(&sdk, &common::env("KNOTIE_TEST_DYNAMODB"));
    let out = client
        .query()
        .table_name(app.store.table())
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("ACCT#{account}")),
        )
        .send()
        .await
        .unwrap();
    out.items.unwrap_or_default()
}

#[tokio::test]
async fn a_read_only_token_that_expires_carries_its_scopes_and_expiry() {
    let app = common::app().await;
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let body = r#"{"name": "Read only", "scopes": ["analytics:read", "customers:read", "analytics:read"], "expires_in_days": 30}"#;
    let (status, body) = caller.generate(body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["scopes"],
        serde_json::json!(["customers:read", "analytics:read"])
    );
    let created = time::OffsetDateTime::parse(
        body["created_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expires = time::OffsetDateTime::parse(
        body["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(expires - created, time::Duration::days(30));
}

#[tokio::test]
async fn an_account_without_api_access_can_generate_but_is_warned() {
    let app = common::app().await;
    let caller = Caller {
        account: common::account(&app, false).await,
        app: &app,
    };
    let (status, body) = caller.generate_named("Blocked for now").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["warning"],
        "API access is not enabled for this account: this token will be refused until it is"
    );
    let id = body["id"].as_str().unwrap();
    assert_eq!(caller.list_all().await.len(), 1);
    assert_eq!(caller.revoke(id).await.0, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn bad_input_gets_a_clear_400_and_stores_nothing() {
    let app = common::app().await;
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let long_name = format!(r#"{{"name": "{}"}}"#, "x".repeat(65));
    let cases: [(&str, &str, &str); 12] = [
        ("not json", "invalid_body", "must be JSON"),
        ("", "invalid_body", "must be JSON"),
        (r#"{"name": 42}"#, "invalid_body", "invalid type"),
        (
            r#"{"name": "x", "expires_in_days": "30"}"#,
            "invalid_body",
            "invalid type",
        ),
        ("{}", "invalid_body", "missing field `name`"),
        (r#"{"name": ""}"#, "invalid_name", "must not be empty"),
        (&long_name, "invalid_name", "at most 64 characters"),
        (
            r#"{"name": "tab\there"}"#,
            "invalid_name",
            "control characters",
        ),
        (
            r#"{"name": "x", "scopes": ["customers:read", "billing:write"]}"#,
            "invalid_scope",
            "unknown scope \"billing:write\"",
        ),
        (
            r#"{"name": "x", "scopes": []}"#,
            "invalid_scope",
            "at least one scope",
        ),
        (
            r#"{"name": "x", "expires_in_days": 0}"#,
            "invalid_expiry",
            "between 1 and 365",
        ),
        (
            r#"{"name": "x", "expires_in_days": 366}"#,
            "invalid_expiry",
            "between 1 and 365",
        ),
    ];
    for (body, code, message) in cases {
        let (status, reply) = caller.generate(body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {reply}");
        assert_eq!(error_code(&reply), code, "{body}");
        let text = reply["error"]["message"].as_str().unwrap();
        assert!(
            text.contains(message),
            "{body}: {text:?} should say {message:?}"
        );
    }
    assert!(caller.list_all().await.is_empty(), "nothing was stored");
}

#[tokio::test]
async fn a_body_over_16_kib_is_413() {
    let app = common::app().await;
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let body = format!(
        r#"{{"name": "big", "padding": "{}"}}"#,
        "x".repeat(16 * 1024)
    );
    let (status, reply) = caller.generate(&body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&reply), "payload_too_large");
    assert!(caller.list_all().await.is_empty());
}

#[tokio::test]
async fn requests_without_jwt_claims_are_401_on_every_route() {
    let app = common::app().await;
    let account = common::account(&app, true).await;
    for (name, handler) in [("generate.json", 0), ("list.json", 1), ("revoke.json", 2)] {
        for strip in ["authorizer", "claims"] {
            let mut event = common::event(name, &account);
            match strip {
                "authorizer" => event["requestContext"]
                    .as_object_mut()
                    .unwrap()
                    .remove("authorizer"),
                _ => event["requestContext"]["authorizer"]["jwt"]["claims"]
                    .as_object_mut()
                    .unwrap()
                    .remove("custom:account_id"),
            };
            let request = common::request(&event);
            let response = match handler {
                0 => knotie::api::generate(&app, request).await,
                1 => knotie::api::list(&app, request).await,
                _ => knotie::api::revoke(&app, request).await,
            };
            let (status, body) = common::reply(response).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{name} without {strip}");
            assert_eq!(error_code(&body), "unauthenticated");
        }
    }
}
