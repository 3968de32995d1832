//! A token's whole life as the page advises it: rotate with an overlap (ended early by the
//! new token's first use, its reuse afterwards an alert), delete from the list, the list's
//! filters, and tokens retired for disuse — against DynamoDB Local, through the management
//! handlers and the MCP endpoint on a clock the test moves.

use std::sync::Arc;

use http::StatusCode;
use knotie::model::time::{Clock, Timestamp};
use knotie::App;
use serde_json::{json, Value};
use time::Duration;

use crate::common::mcp::{self as harness, McpCaller};
use crate::common::users::User;
use crate::common::{self, error_code};

/// The sample MCP event's caller address.
const FROM: &str = "203.0.113.7";

fn owner<'a>(app: &'a App, account: &knotie::model::ids::AccountId) -> User<'a> {
    User {
        app,
        account: account.clone(),
        sub: "olga",
        role: Some("owner"),
    }
}

/// A new token through the API: its id and secret.
async fn made(user: &User<'_>, body: Value) -> (String, String) {
    let (status, created) = user.generate(body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (
        created["id"].as_str().unwrap().to_owned(),
        created["token"].as_str().unwrap().to_owned(),
    )
}

/// Every listed token with these query parameters, by id.
async fn listed(user: &User<'_>, params: &[(&str, &str)]) -> Vec<Value> {
    let (status, body) = user.list_with(params).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["tokens"].as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [Value], id: &str) -> Option<&'a Value> {
    rows.iter().find(|t| t["id"] == id)
}

/// The types of a token's history, newest first.
async fn history(user: &User<'_>, id: &str) -> Vec<Value> {
    let (status, body) = user.history(id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["events"].as_array().unwrap().clone()
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

/// Calls `get_account` with `token` at the clock's time: the status, and the message of a
/// refusal.
async fn call(mcp: &knotie::mcp::Mcp, token: &str) -> (StatusCode, String) {
    let caller = McpCaller {
        mcp,
        token: token.to_owned(),
    };
    let answer = caller
        .rpc(
            "tools/call",
            json!({ "name": "get_account", "arguments": {} }),
        )
        .await;
    let message = answer.body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (answer.status, message)
}

fn at(rfc3339: &Value) -> Timestamp {
    let parsed = time::OffsetDateTime::parse(
        rfc3339.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    Timestamp::from_datetime(parsed)
}

#[tokio::test]
async fn both_tokens_work_during_the_overlap_then_only_the_new_one() {
    let app = Arc::new(common::app().await);
    let account = common::account(&app, true).await;
    let olga = owner(&app, &account);
    let (old_id, old) = made(
        &olga,
        json!({ "name": "Cursor", "scopes": ["customers:read", "analytics:read"], "expires_in_days": 30, "allowed_ips": ["203.0.113.0/24"] }),
    )
    .await;
    let before = common::active_counter(&account).await;

    let (status, rotated) = olga.rotate(&old_id, json!({ "overlap_minutes": 60 })).await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    let (new_id, new) = (
        rotated["id"].as_str().unwrap().to_owned(),
        rotated["token"].as_str().unwrap().to_owned(),
    );
    assert_ne!(new, old);
    assert_eq!(rotated["name"], "Cursor");
    assert_eq!(
        rotated["scopes"],
        json!(["customers:read", "analytics:read"])
    );
    assert_eq!(rotated["allowed_ips"], json!(["203.0.113.0/24"]));
    assert!(rotated["client_configs"]["cursor"].is_object(), "{rotated}");
    assert_eq!(rotated["replaces"]["id"], old_id.as_str());
    let (made_at, until) = (
        at(&rotated["created_at"]),
        at(&rotated["replaces"]["works_until"]),
    );
    assert_eq!(until, made_at.checked_add(Duration::minutes(60)).unwrap());
    assert_eq!(
        at(&rotated["expires_at"]),
        made_at.checked_add(Duration::days(30)).unwrap(),
        "the same lifetime, counted from now"
    );
    assert_eq!(
        common::active_counter(&account).await,
        before,
        "the new token takes the old one's place"
    );

    // Both rows say it.
    let rows = listed(&olga, &[]).await;
    let (old_row, new_row) = (row(&rows, &old_id).unwrap(), row(&rows, &new_id).unwrap());
    assert_eq!(old_row["status"], "active");
    assert_eq!(old_row["replaced_by"]["id"], new_id.as_str());
    assert_eq!(old_row["replaced_by"]["hint"], rotated["hint"]);
    assert_eq!(at(&old_row["replaced_by"]["works_until"]), until);
    assert_eq!(new_row["replaces"]["id"], old_id.as_str());
    assert_eq!(new_row["replaces"]["hint"], old_row["hint"]);

    // During the overlap both work; after it only the new one, and the old one says why.
    let clock = Clock::set_at(made_at.checked_add(Duration::minutes(59)).unwrap());
    let mcp = harness::mcp_at(Arc::clone(&app), &clock);
    assert_eq!(call(&mcp, &old).await.0, StatusCode::OK);
    clock.advance(Duration::minutes(1));
    let (status, message) = call(&mcp, &old).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let hint = rotated["hint"].as_str().unwrap();
    assert_eq!(
        message,
        format!(
            "this token was replaced by {hint} on {}; use the new one",
            made_at.date()
        )
    );
    assert_eq!(call(&mcp, &new).await.0, StatusCode::OK);

    // Both histories record the rotation, by whom and with what overlap.
    let old_history = history(&olga, &old_id).await;
    let rotation = of_type(&old_history, "rotated");
    assert_eq!(rotation.len(), 1, "{old_history:?}");
    assert_eq!(rotation[0]["by"], "olga");
    assert_eq!(rotation[0]["overlap_minutes"], 60);
    assert_eq!(rotation[0]["replaced_by"], new_id.as_str());
    let new_history = history(&olga, &new_id).await;
    assert_eq!(
        of_type(&new_history, "rotated")[0]["replaces"],
        old_id.as_str()
    );
    assert_eq!(of_type(&new_history, "created").len(), 1);

    // A replaced token does not rotate again; the list shows it replaced once it ended.
    let (status, body) = olga.rotate(&old_id, Value::Null).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "not_rotatable");
    assert!(body["error"]["message"].as_str().unwrap().contains(hint));
}

#[tokio::test]
async fn the_new_tokens_first_use_leaves_the_old_one_five_minutes() {
    let app = Arc::new(common::app().await);
    let account = common::account(&app, true).await;
    let olga = owner(&app, &account);
    let (old_id, old) = made(&olga, json!({ "name": "Windsurf" })).await;
    let (status, rotated) = olga
        .rotate(&old_id, json!({ "overlap_minutes": 10080 }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    let new = rotated["token"].as_str().unwrap();
    let made_at = at(&rotated["created_at"]);
    assert_eq!(
        at(&rotated["replaces"]["works_until"]),
        made_at.checked_add(Duration::days(7)).unwrap()
    );

    let clock = Clock::set_at(made_at.checked_add(Duration::hours(1)).unwrap());
    let mcp = harness::mcp_at(Arc::clone(&app), &clock);
    assert_eq!(
        call(&mcp, &old).await.0,
        StatusCode::OK,
        "a day of overlap left"
    );
    assert_eq!(
        call(&mcp, new).await.0,
        StatusCode::OK,
        "the new one's first use"
    );
    let first_use = clock.now();
    let rows = listed(&olga, &[]).await;
    let ends = at(&row(&rows, &old_id).unwrap()["replaced_by"]["works_until"]);
    assert_eq!(ends, first_use.checked_add(Duration::minutes(5)).unwrap());
    clock.advance(Duration::minutes(4));
    assert_eq!(call(&mcp, &old).await.0, StatusCode::OK, "within the grace");
    clock.advance(Duration::minutes(1));
    assert_eq!(call(&mcp, &old).await.0, StatusCode::UNAUTHORIZED);
    // A later use of the new token never lengthens it again.
    assert_eq!(call(&mcp, new).await.0, StatusCode::OK);
    assert_eq!(call(&mcp, &old).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_replaced_tokens_reuse_is_recorded_in_both_histories_and_locks_nobody_out() {
    let app = Arc::new(common::app().await);
    let account = common::account(&app, true).await;
    let olga = owner(&app, &account);
    let (old_id, old) = made(&olga, json!({ "name": "Claude Desktop" })).await;
    let (status, rotated) = olga.rotate(&old_id, json!({ "overlap_minutes": 0 })).await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    let (new_id, new) = (
        rotated["id"].as_str().unwrap(),
        rotated["token"].as_str().unwrap(),
    );
    let mcp = harness::mcp(Arc::clone(&app));
    for _ in 0..3 {
        let (status, message) = call(&mcp, &old).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(message.contains("was replaced by"), "{message}");
    }
    assert_eq!(
        call(&mcp, new).await.0,
        StatusCode::OK,
        "the new token still works"
    );

    for (id, other) in [
        (old_id.as_str(), ("replaced_by", new_id)),
        (new_id, ("replaces", old_id.as_str())),
    ] {
        let events = history(&olga, id).await;
        let reused = of_type(&events, "reused_after_rotation");
        assert_eq!(
            reused.len(),
            1,
            "three reuses, one alert per ten minutes: {events:?}"
        );
        assert_eq!(reused[0]["from"], FROM);
        assert_eq!(reused[0][other.0], other.1);
    }
    let rows = listed(&olga, &[("status", "all")]).await;
    assert_eq!(row(&rows, new_id).unwrap()["status"], "active");
    assert_eq!(row(&rows, &old_id).unwrap()["status"], "replaced");
    assert_eq!(row(&rows, &old_id).unwrap()["revoked_reason"], Value::Null);
}

#[tokio::test]
async fn delete_revokes_an_active_token_and_removes_an_inactive_row_keeping_its_history() {
    let app = Arc::new(common::app().await);
    let account = common::account(&app, true).await;
    let olga = owner(&app, &account);
    let (id, token) = made(
        &olga,
        json!({ "name": "Old laptop", "expires_in_days": 30 }),
    )
    .await;
    let (kept, _) = made(&olga, json!({ "name": "Kept" })).await;
    let counted = common::active_counter(&account).await;

    // Active: DELETE revokes it, and the row stays, revoked, among the inactive ones.
    assert_eq!(olga.revoke(&id).await.0, StatusCode::NO_CONTENT);
    let mcp = harness::mcp(Arc::clone(&app));
    assert_eq!(call(&mcp, &token).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(common::active_counter(&account).await, counted - 1);
    let ids = |rows: Vec<Value>| -> Vec<String> {
        rows.iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(listed(&olga, &[]).await),
        [kept.as_str()],
        "active by default"
    );
    assert_eq!(
        ids(listed(&olga, &[("status", "inactive")]).await),
        [id.as_str()]
    );
    assert_eq!(
        ids(listed(&olga, &[("status", "all")]).await),
        [kept.as_str(), id.as_str()]
    );

    // Inactive: DELETE removes the row; the history stays readable by id; again is harmless.
    assert_eq!(olga.revoke(&id).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        ids(listed(&olga, &[("status", "all")]).await),
        [kept.as_str()]
    );
    assert_eq!(
        common::active_counter(&account).await,
        counted - 1,
        "the count is unchanged"
    );
    let events = history(&olga, &id).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["deleted", "revoked", "created"]);
    assert_eq!(events[0]["by"], "olga");
    assert_eq!(olga.revoke(&id).await.0, StatusCode::NO_CONTENT);
    assert_eq!(call(&mcp, &token).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = olga.rotate(&id, Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // A replaced token whose overlap is over is inactive too, and deletes the same way.
    let (status, rotated) = olga.rotate(&kept, json!({ "overlap_minutes": 0 })).await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    assert_eq!(
        ids(listed(&olga, &[("status", "inactive")]).await),
        [kept.as_str()]
    );
    assert_eq!(olga.revoke(&kept).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        ids(listed(&olga, &[("status", "all")]).await),
        [rotated["id"].as_str().unwrap()]
    );
}

#[tokio::test]
async fn a_rotation_is_for_live_tokens_their_makers_and_the_accounts_managers_and_says_what_is_wrong(
) {
    let app = Arc::new(common::app().await);
    let account = common::account(&app, true).await;
    let olga = owner(&app, &account);
    let mia = User {
        sub: "mia",
        role: Some("member"),
        ..owner(&app, &account)
    };
    let nico = User {
        sub: "nico",
        role: Some("member"),
        ..owner(&app, &account)
    };
    let (mias, _) = made(&mia, json!({ "name": "Mia's" })).await;

    for (body, code) in [
        (json!({ "overlap_minutes": -1 }), "invalid_overlap"),
        (json!({ "overlap_minutes": 10081 }), "invalid_overlap"),
        (json!({ "overlap_minutes": 1.5 }), "invalid_body"),
        (json!({ "overlap": 5 }), "invalid_body"),
        (json!("soon"), "invalid_body"),
    ] {
        let (status, reply) = mia.rotate(&mias, body.clone()).await;
        assert_eq!(
            (status, error_code(&reply)),
            (StatusCode::BAD_REQUEST, code),
            "{body}"
        );
    }
    let (status, _) = nico.rotate(&mias, Value::Null).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a colleague's token looks like none"
    );
    let (status, _) = mia
        .rotate("tok_01KB3X7Q9ZJ4M2V8N6P0R5S1TW", Value::Null)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // No body: an hour of overlap. A member rotates their own; the new one is theirs.
    let (status, rotated) = mia.rotate(&mias, Value::Null).await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    assert_eq!(
        at(&rotated["replaces"]["works_until"]),
        at(&rotated["created_at"])
            .checked_add(Duration::hours(1))
            .unwrap()
    );
    let theirs = rotated["id"].as_str().unwrap().to_owned();
    // An owner rotates a member's token: it stays the member's.
    let (status, again) = olga.rotate(&theirs, Value::Null).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    let rows = listed(&mia, &[]).await;
    let row = row(&rows, again["id"].as_str().unwrap()).expect("in the member's list");
    assert_eq!(row["created_by"], "mia");
    let events = history(&mia, again["id"].as_str().unwrap()).await;
    assert_eq!(of_type(&events, "rotated")[0]["by"], "olga");

    // Revoked: refused. A policy that keeps members from making tokens keeps them from
    // rotating (which makes one).
    let (revoked, _) = made(&olga, json!({ "name": "Gone" })).await;
    assert_eq!(olga.revoke(&revoked).await.0, StatusCode::NO_CONTENT);
    let (status, body) = olga.rotate(&revoked, Value::Null).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "not_rotatable")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{body}"
    );
    let (status, body) = olga
        .set_policy(json!({ "max_lifetime_days": null, "allowed_scopes": ["customers:read", "customers:write", "agents:read", "agents:write", "credits:read", "credits:write", "analytics:read"], "member_scopes": ["customers:read"], "members_may_create": false, "revoke_unused_after_days": null }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let current = again["id"].as_str().unwrap();
    let (status, body) = mia.rotate(current, Value::Null).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "token_policy"),
        "{body}"
    );
}

#[tokio::test]
async fn a_token_unused_for_the_policys_days_is_refused_on_its_next_call_and_revoked_by_it() {
    let app = Arc::new(common::app().await);
    let account = common::account(&app, true).await;
    let olga = owner(&app, &account);
    let idle = common::token_made_days_ago(&app, &account, 40).await;
    let used = common::token_made_days_ago(&app, &account, 40).await;
    let (fresh_id, _) = made(&olga, json!({ "name": "Fresh" })).await;
    // One of the old tokens was used 20 days ago: its use is what counts.
    let twenty_days_ago = Timestamp::now().checked_sub(Duration::days(20)).unwrap();
    let past = harness::mcp_at(Arc::clone(&app), &Clock::set_at(twenty_days_ago));
    assert_eq!(call(&past, &used).await.0, StatusCode::OK);

    // Unused for 30 days: the two old ones by creation, only one by its last use.
    let unused = listed(&olga, &[("unused_for_days", "30")]).await;
    assert_eq!(unused.len(), 1, "{unused:?}");
    assert!(unused[0]["last_used_at"].is_null());
    let idle_id = unused[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(listed(&olga, &[("unused_for_days", "19")]).await.len(), 2);
    assert!(row(&listed(&olga, &[("unused_for_days", "1")]).await, &fresh_id).is_none());
    let rows = listed(&olga, &[("status", "all")]).await;
    let used_row = rows.iter().find(|t| !t["last_used_at"].is_null()).unwrap();
    assert_eq!(used_row["last_used_ip"], FROM);

    let counted = common::active_counter(&account).await;
    let (status, body) = olga
        .set_policy(json!({ "max_lifetime_days": null, "allowed_scopes": ["customers:read", "customers:write", "agents:read", "agents:write", "credits:read", "credits:write", "analytics:read"], "member_scopes": ["customers:read"], "members_may_create": true, "revoke_unused_after_days": 30 }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["revoke_unused_after_days"], 30);
    // Listed as its next call will leave it, before any call.
    let rows = listed(&olga, &[("status", "inactive")]).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (&rows[0]["status"], &rows[0]["revoked_reason"]),
        (&json!("revoked"), &json!("unused"))
    );

    let mcp = harness::mcp(Arc::clone(&app));
    let (status, message) = call(&mcp, &idle).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        message.contains("not used for 30 days; the account's policy retires unused tokens"),
        "{message}"
    );
    assert_eq!(
        call(&mcp, &used).await.0,
        StatusCode::OK,
        "used 20 days ago"
    );
    // That call revoked it: its place is free, its history says why.
    assert_eq!(common::active_counter(&account).await, counted - 1);
    let revoked = of_type(&history(&olga, &idle_id).await, "revoked")
        .first()
        .map(|e| e["reason"].clone());
    assert_eq!(revoked, Some(json!("unused")));
    assert_eq!(call(&mcp, &idle).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_lists_filters_are_checked_and_fill_a_members_page_past_inactive_rows() {
    let app = common::app().await;
    let account = common::account(&app, true).await;
    let olga = owner(&app, &account);
    // A member's page is read through their index: newer revoked tokens are skipped.
    let mia = User {
        sub: "mia",
        role: Some("member"),
        ..owner(&app, &account)
    };
    let (active, _) = made(&mia, json!({ "name": "Active" })).await;
    for name in ["Revoked 1", "Revoked 2"] {
        let (id, _) = made(&mia, json!({ "name": name })).await;
        assert_eq!(mia.revoke(&id).await.0, StatusCode::NO_CONTENT);
    }
    let page = listed(&mia, &[("limit", "1")]).await;
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["id"], active.as_str());
    assert_eq!(listed(&mia, &[("status", "inactive")]).await.len(), 2);
    for (params, code) in [
        (vec![("status", "revoked")], "invalid_status"),
        (vec![("status", "")], "invalid_status"),
        (vec![("unused_for_days", "0")], "invalid_unused_for_days"),
        (vec![("unused_for_days", "3651")], "invalid_unused_for_days"),
        (vec![("unused_for_days", "ten")], "invalid_unused_for_days"),
    ] {
        let (status, body) = olga.list_with(&params).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, code),
            "{params:?}"
        );
    }
}
