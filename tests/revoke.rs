use http::StatusCode;

use crate::common::{self, Caller};

#[tokio::test]
async fn a_revoked_token_is_listed_as_revoked_and_deleting_it_then_is_harmless() {
    let app = common::app().await;
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let (_, body) = caller.generate_named("Short lived").await;
    let id = body["id"].as_str().unwrap();

    let (status, reply) = caller.revoke(id).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(reply, serde_json::Value::Null, "204 has no body");
    let tokens = caller.list_all().await;
    assert_eq!(tokens[0]["status"], "revoked");
    assert_eq!(tokens[0]["revoked_reason"], "user");
    // A second DELETE removes the revoked row (see rotation.rs); a third changes nothing.
    for _ in 0..2 {
        assert_eq!(caller.revoke(id).await.0, StatusCode::NO_CONTENT);
        assert!(caller.list_all().await.is_empty());
    }
}

#[tokio::test]
async fn unknown_and_foreign_ids_are_the_same_404() {
    let app = common::app().await;
    let owner = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let stranger = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let (_, body) = owner.generate_named("Private").await;
    let id = body["id"].as_str().unwrap();

    let foreign = stranger.revoke(id).await;
    let unknown = stranger.revoke("tok_01KB3X7Q9ZJ4M2V8N6P0R5S1TW").await;
    let malformed = stranger.revoke("not-a-token-id").await;
    assert_eq!(foreign.0, StatusCode::NOT_FOUND);
    assert_eq!(
        foreign, unknown,
        "nothing tells another account's id from an unknown one"
    );
    assert_eq!(foreign, malformed);
    assert_eq!(
        owner.list_all().await[0]["status"],
        "active",
        "the owner's token is untouched"
    );
}
