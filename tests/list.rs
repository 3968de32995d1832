use http::StatusCode;

use crate::common::{self, error_code, Caller};

#[tokio::test]
async fn a_generated_token_is_listed_by_the_very_next_get_without_its_secret() {
    let app = common::app().await;
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let (_, generated) = caller.generate_named("Cursor Development").await;
    let (status, body) = caller.list(&[]).await;
    assert_eq!(status, StatusCode::OK);
    let tokens = body["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    let listed = &tokens[0];
    for field in ["id", "name", "hint", "scopes", "created_at", "expires_at"] {
        assert_eq!(listed[field], generated[field], "{field}");
    }
    assert_eq!(listed["status"], "active");
    assert_eq!(listed["last_used_at"], serde_json::Value::Null);
    assert_eq!(
        listed["created_by"], "7d3f9a62-1b24-4c4a-9e56-0c8f2d1e4a77",
        "the JWT's sub"
    );
    let secret = generated["token"].as_str().unwrap();
    assert!(
        !body.to_string().contains(&secret[5..]),
        "the list never shows the token"
    );
    assert_eq!(body["next_cursor"], serde_json::Value::Null);
}

#[tokio::test]
async fn the_list_is_newest_first_and_pages_with_an_opaque_cursor() {
    let app = common::app().await;
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let mut ids = Vec::new();
    for i in 0..5 {
        let (_, body) = caller.generate_named(&format!("token {i}")).await;
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    ids.reverse();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params = vec![("limit", "2")];
        if let Some(c) = &cursor {
            params.push(("cursor", c));
        }
        let (status, body) = caller.list(&params).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages += 1;
        seen.extend(
            body["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_owned()),
        );
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3, "2 + 2 + 1, and no empty page at the end");
    assert_eq!(seen, ids, "newest first, each once");
}

#[tokio::test]
async fn a_tampered_or_foreign_cursor_is_400() {
    let app = common::app().await;
    let mine = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let theirs = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    for _ in 0..3 {
        mine.generate_named("mine").await;
        theirs.generate_named("theirs").await;
    }
    let (_, page) = theirs.list(&[("limit", "1")]).await;
    let foreign = page["next_cursor"].as_str().unwrap().to_owned();
    let mut tampered = foreign.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();

    for cursor in [foreign.as_str(), tampered.as_str(), "garbage", ""] {
        let (status, body) = mine.list(&[("cursor", cursor)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "cursor {cursor:?}: {body}");
        assert_eq!(error_code(&body), "invalid_cursor");
    }
}

#[tokio::test]
async fn a_limit_outside_1_to_100_is_400() {
    let app = common::app().await;
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    for limit in ["0", "101", "-1", "ten"] {
        let (status, body) = caller.list(&[("limit", limit)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit {limit}");
        assert_eq!(error_code(&body), "invalid_limit");
    }
}
