//! Dependencies down: fail closed with 503, never a guess, never half a write.

use http::StatusCode;
use knotie::model::hashing::Pepper;
use knotie::model::token::Token;
use knotie::secrets::PepperSource;
use knotie::App;

use crate::common::{self, error_code, Caller};

async fn secrets_at(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    knotie::aws::secretsmanager_at(&knotie::aws::local_sdk_config().await, endpoint)
}

#[tokio::test]
async fn dynamodb_unreachable_is_503_on_every_route() {
    let healthy = common::app().await;
    let account = common::account(&healthy, true).await;
    let down = App {
        store: common::store_at(common::DEAD_ENDPOINT).await,
        ..common::app().await
    };
    let caller = Caller {
        app: &down,
        account: account.clone(),
    };
    for (route, (status, body)) in [
        ("generate", caller.generate_named("during outage").await),
        ("list", caller.list(&[]).await),
        (
            "revoke",
            caller.revoke("tok_01KB3X7Q9ZJ4M2V8N6P0R5S1TW").await,
        ),
    ] {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{route}: {body}");
        assert_eq!(error_code(&body), "service_unavailable");
    }
    let after = Caller {
        app: &healthy,
        account,
    };
    assert!(
        after.list_all().await.is_empty(),
        "nothing was half-written"
    );
}

#[tokio::test]
async fn the_pepper_comes_from_secrets_manager() {
    let secrets = secrets_at(&common::env("KNOTIE_TEST_SECRETS")).await;
    let name = format!(
        "knotie-pepper-{}",
        time::OffsetDateTime::now_utc().unix_timestamp_nanos()
    );
    let secret = "a-generated-64-character-pepper-from-secrets-manager-0123456789ab";
    secrets
        .create_secret()
        .name(&name)
        .secret_string(secret)
        .send()
        .await
        .unwrap();

    let app = App {
        pepper: PepperSource::secrets_manager(secrets, &name),
        ..common::app().await
    };
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let (status, body) = caller.generate_named("Peppered").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The stored hash is keyed by exactly that secret: a lookup item exists under it.
    let token = Token::parse(body["token"].as_str().unwrap()).unwrap();
    let hash = Pepper::new(secret.as_bytes()).unwrap().hash(&token);
    let client = knotie::aws::dynamodb_at(
        &knotie::aws::local_sdk_config().await,
        &common::env("KNOTIE_TEST_DYNAMODB"),
    );
    let item = client
        .get_item()
        .table_name(common::TABLE)
        .key(
            "PK",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("TOKENHASH#{}", hash.as_str())),
        )
        .key(
            "SK",
            aws_sdk_dynamodb::types::AttributeValue::S("TOKENHASH".into()),
        )
        .send()
        .await
        .unwrap();
    assert!(item.item.is_some());
}

#[tokio::test]
async fn secrets_manager_unreachable_is_503_and_no_default_pepper_is_used() {
    let app = App {
        pepper: PepperSource::secrets_manager(
            secrets_at(common::DEAD_ENDPOINT).await,
            "knotie-pepper",
        ),
        ..common::app().await
    };
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    for _ in 0..2 {
        let (status, body) = caller.generate_named("no pepper").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("secret store"));
    }
    let healthy = common::app().await;
    let after = Caller {
        app: &healthy,
        account: caller.account.clone(),
    };
    assert!(
        after.list_all().await.is_empty(),
        "nothing was written without a pepper"
    );
}

#[tokio::test]
async fn a_missing_secret_is_503_too() {
    let secrets = secrets_at(&common::env("KNOTIE_TEST_SECRETS")).await;
    let app = App {
        pepper: PepperSource::secrets_manager(secrets, "knotie-no-such-secret"),
        ..common::app().await
    };
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    assert_eq!(
        caller.generate_named("x").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
}
