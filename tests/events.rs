//! The sample events in `events/` are real API Gateway HTTP API v2 shapes: each drives its
//! handler as deployed (they are also what `sam local invoke -e` uses).

use http::StatusCode;

use crate::common::{self, error_code};

#[tokio::test]
async fn every_sample_event_drives_its_handler() {
    let app = common::app().await;
    let account = common::account(&app, true).await;

    let generated = knotie::api::generate(
        &app,
        common::request(&common::event("generate.json", &account)),
    )
    .await;
    let (status, body) = common::reply(generated).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["name"], "Cursor Development");

    let listed =
        knotie::api::list(&app, common::request(&common::event("list.json", &account))).await;
    let (status, body) = common::reply(listed).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["tokens"].as_array().unwrap().len(), 1);

    // The sample's id belongs to no one here.
    let revoked = knotie::api::revoke(
        &app,
        common::request(&common::event("revoke.json", &account)),
    )
    .await;
    let (status, body) = common::reply(revoked).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "token_not_found");

    // The sample's user made nothing here: nothing to revoke, and said so.
    let offboarded = knotie::api::revokes(
        &app,
        common::request(&common::event("revoke-user.json", &account)),
    )
    .await;
    let (status, body) = common::reply(offboarded).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            serde_json::json!({ "user": "user_b", "revoked": 0 })
        )
    );
}

#[tokio::test]
async fn the_sample_events_act_for_the_demo_account_as_written() {
    for name in [
        "generate.json",
        "list.json",
        "revoke.json",
        "oauth-consent.json",
    ] {
        let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
        let event: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let claims = &event["requestContext"]["authorizer"]["jwt"]["claims"];
        assert_eq!(claims["custom:account_id"], "acct_demo", "{name}");
        assert!(claims["sub"].is_string(), "{name}");
        let request = common::request(&event);
        let identity =
            knotie::model::roles::Identity::from_request(&request, &common::config()).unwrap();
        assert_eq!(identity.account.as_str(), "acct_demo");
    }
}
