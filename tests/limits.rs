use std::sync::Arc;

use http::StatusCode;
use knotie::model::tokens::NewToken;
use knotie::rules::lifecycle;

use crate::common::{self, error_code, Caller};

fn count(replies: &[common::Reply], status: StatusCode) -> usize {
    replies.iter().filter(|(s, _)| *s == status).count()
}

#[tokio::test]
async fn the_51st_active_token_is_409_until_one_is_revoked() {
    let app = common::app().await;
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let mut first = None;
    for i in 0..50 {
        let (status, body) = caller.generate_named(&format!("token {i}")).await;
        assert_eq!(status, StatusCode::CREATED, "token {i}: {body}");
        first.get_or_insert_with(|| body["id"].as_str().unwrap().to_owned());
    }
    let (status, body) = caller.generate_named("one too many").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "token_limit_reached");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("revoke"));

    assert_eq!(
        caller.revoke(first.as_deref().unwrap()).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        caller.generate_named("fits again").await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        caller.generate_named("full again").await.0,
        StatusCode::CONFLICT
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_racing_generates_create_exactly_fifty_and_revokes_keep_the_count_right() {
    let app = Arc::new(common::app().await);
    let account = common::account(&app, true).await;
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..60 {
        let (app, account) = (Arc::clone(&app), account.clone());
        racers.spawn(async move {
            Caller { app: &app, account }
                .generate_named(&format!("racer {i}"))
                .await
        });
    }
    let replies: Vec<common::Reply> = racers.join_all().await;
    assert_eq!(count(&replies, StatusCode::CREATED), 50, "{replies:?}");
    assert_eq!(count(&replies, StatusCode::CONFLICT), 10);

    let caller = Caller { app: &app, account };
    let tokens = caller.list_all().await;
    assert_eq!(tokens.len(), 50, "no token lost or duplicated");
    // Three revokes, each raced by a duplicate: three places free up, not six.
    let mut revokes = tokio::task::JoinSet::new();
    for token in tokens.iter().take(3) {
        for _ in 0..2 {
            let (app, account, id) = (
                Arc::clone(&app),
                caller.account.clone(),
                token["id"].as_str().unwrap().to_owned(),
            );
            revokes.spawn(async move { Caller { app: &app, account }.revoke(&id).await });
        }
    }
    assert!(revokes
        .join_all()
        .await
        .iter()
        .all(|(s, _)| *s == StatusCode::NO_CONTENT));
    let mut again = Vec::new();
    for i in 0..4 {
        again.push(caller.generate_named(&format!("after revoke {i}")).await);
    }
    assert_eq!(count(&again, StatusCode::CREATED), 3);
    assert_eq!(again[3].0, StatusCode::CONFLICT);
}

#[tokio::test]
async fn expired_tokens_are_listed_as_expired_and_free_their_places() {
    let app = common::app().await;
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let pepper = app.pepper.get().await.unwrap();
    let identity = knotie::model::roles::Identity {
        account: caller.account.clone(),
        user: "user_test".into(),
        role: knotie::model::roles::Role::Owner,
    };
    // Ten tokens made two days ago with a one-day expiry, and forty live ones.
    let two_days_ago = knotie::model::time::Timestamp::from_datetime(
        time::OffsetDateTime::now_utc() - time::Duration::days(2),
    );
    for i in 0..10 {
        let new = NewToken::from_json(
            format!(r#"{{"name": "old {i}", "expires_in_days": 1}}"#).as_bytes(),
        )
        .unwrap();
        lifecycle::generate(&app.store, pepper, &identity, new, two_days_ago)
            .await
            .unwrap();
    }
    for i in 0..40 {
        assert_eq!(
            caller.generate_named(&format!("live {i}")).await.0,
            StatusCode::CREATED
        );
    }
    let tokens = caller.list_all().await;
    assert_eq!(
        tokens.iter().filter(|t| t["status"] == "expired").count(),
        10
    );

    let mut replies = Vec::new();
    for i in 0..11 {
        replies.push(caller.generate_named(&format!("new {i}")).await);
    }
    assert_eq!(
        count(&replies, StatusCode::CREATED),
        10,
        "each expired token's place is reused once"
    );
    assert_eq!(replies[10].0, StatusCode::CONFLICT);
    // Revoking an expired token that no longer counts frees nothing more.
    let expired = tokens.iter().find(|t| t["status"] == "expired").unwrap();
    assert_eq!(
        caller.revoke(expired["id"].as_str().unwrap()).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        caller.generate_named("still full").await.0,
        StatusCode::CONFLICT
    );
}
