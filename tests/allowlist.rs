//! Tokens pinned to addresses: validated at generate, listed, and enforced on every MCP
//! call against the function URL's `sourceIp` (the local server: the peer address).

use std::sync::Arc;

use http::StatusCode;
use serde_json::{json, Value};

use crate::common::mcp::{self as harness, McpCaller};
use crate::common::server::{self, call};
use crate::common::{self, error_code, Caller};

#[tokio::test]
async fn allowed_ips_are_validated_at_generate_and_listed_with_the_token() {
    let app = common::app().await;
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let too_many: Vec<String> = (0..21).map(|i| format!("10.0.0.{i}")).collect();
    for bad in [
        json!(["203.0.113.0/33"]),
        json!(["example.com"]),
        json!(["2001:db8::/129"]),
        json!([""]),
        json!("203.0.113.0/24"),
        json!(too_many),
    ] {
        let body = json!({ "name": "pinned", "allowed_ips": bad });
        let (status, reply) = caller.generate(&body.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {reply}");
        if bad.is_array() {
            assert_eq!(error_code(&reply), "invalid_allowed_ips", "{reply}");
        }
    }
    assert!(caller.list_all().await.is_empty(), "nothing was made");

    let body = json!({ "name": "office", "allowed_ips": ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"] });
    let (status, created) = caller.generate(&body.to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let pinned = json!(["203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32"]);
    assert_eq!(created["allowed_ips"], pinned);
    let (_, open) = caller.generate_named("anywhere").await;
    assert_eq!(open["allowed_ips"], Value::Null);
    let listed = caller.list_all().await;
    assert_eq!(listed[1]["allowed_ips"], pinned);
    assert_eq!(listed[0]["allowed_ips"], Value::Null);
}

#[tokio::test]
async fn a_pinned_token_works_from_its_networks_and_is_403_from_anywhere_else() {
    let app = Arc::new(common::app().await);
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let body = json!({ "name": "office", "allowed_ips": ["203.0.113.0/24", "2001:db8::/32"] });
    let (_, created) = caller.generate(&body.to_string()).await;
    let mcp = harness::mcp(Arc::clone(&app));
    let c = McpCaller {
        mcp: &mcp,
        token: created["token"].as_str().unwrap().to_owned(),
    };
    let from = |ip: Option<&'static str>| tools_list_from(&c, ip);
    for inside in [
        "203.0.113.7",
        "203.0.113.255",
        "2001:db8::1",
        "2001:db8:ffff::9",
    ] {
        let answer = from(Some(inside)).await;
        assert_eq!(answer.status, StatusCode::OK, "{inside}: {}", answer.body);
    }
    for outside in [
        Some("198.51.100.1"),
        Some("203.0.114.1"),
        Some("2001:db9::1"),
        None,
    ] {
        let answer = from(outside).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{outside:?}: {}",
            answer.body
        );
        assert_eq!(answer.body["id"], 3);
        assert_eq!(answer.body["error"]["code"], -32003);
        // The caller learns its own address is not allowed, never which networks are.
        let message = answer.body["error"]["message"].as_str().unwrap();
        let from = outside.unwrap_or("an unknown address");
        assert_eq!(
            message,
            format!("this token may not be used from {from}: its owner allows it only from other addresses")
        );
        assert!(
            !message.contains("203.0.113") && !message.contains("2001:db8"),
            "{message}"
        );
    }
}

#[test]
fn the_local_server_takes_the_dev_identity_headers_and_pins_to_the_peer_address() {
    let server = server::start("knotie-local-roles-test");
    let tokens = format!("{}/mcp-tokens", server.base);
    let as_user = |method: &str, url: &str, user: &str, role: &str, body: Option<Value>| {
        server::call_as(
            method,
            url,
            &[
                ("x-dev-account", "acct_other"),
                ("x-dev-user", user),
                ("x-dev-role", role),
            ],
            body,
        )
    };
    let (status, made) = as_user(
        "POST",
        &tokens,
        "lena",
        "member",
        Some(json!({ "name": "Lena's", "allowed_ips": ["127.0.0.1"] })),
    );
    assert_eq!(status, 201, "{made}");
    let (_, elsewhere) = as_user(
        "POST",
        &tokens,
        "lena",
        "member",
        Some(json!({ "name": "elsewhere", "allowed_ips": ["10.0.0.0/8", "::ffff:10.0.0.1"] })),
    );
    let (_, theirs) = call(
        "POST",
        &tokens,
        "acct_other",
        Some(r#"{"name": "the dev user's"}"#),
    );
    let (status, mine) = as_user(
        "GET",
        &format!("{tokens}?limit=100"),
        "lena",
        "member",
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(mine["viewer"], json!({ "user": "lena", "role": "member" }));
    assert!(
        mine["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["created_by"] == "lena"),
        "{mine}"
    );
    let (status, _) = as_user(
        "DELETE",
        &format!("{tokens}/{}", theirs["id"].as_str().unwrap()),
        "lena",
        "member",
        None,
    );
    assert_eq!(status, 404, "a colleague's token");
    let (status, _) = as_user(
        "PUT",
        &format!("{tokens}/policy"),
        "lena",
        "member",
        Some(
            json!({ "max_lifetime_days": null, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": true, "revoke_unused_after_days": null }),
        ),
    );
    assert_eq!(status, 403);
    // Without the role header the dev user is an owner, as `make dev` prints.
    let (_, all) = call("GET", &format!("{tokens}?limit=100"), "acct_other", None);
    assert_eq!(
        all["viewer"],
        json!({ "user": "user_dev", "role": "owner" })
    );
    assert!(all["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["created_by"] == "lena"));

    let mcp = |token: &Value| {
        let auth = format!("Bearer {}", token["token"].as_str().unwrap());
        server::call_as(
            "POST",
            &format!("{}/mcp", server.base),
            &[
                ("authorization", &auth),
                ("accept", "application/json, text/event-stream"),
                ("mcp-protocol-version", "2025-11-25"),
            ],
            Some(json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" })),
        )
    };
    let (status, body) = mcp(&made);
    assert_eq!(
        status, 200,
        "pinned to the loopback address it is called from: {body}"
    );
    let (status, body) = mcp(&elsewhere);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("this token may not be used from 127.0.0.1:"),
        "{body}"
    );
}

#[tokio::test]
async fn calls_refused_by_the_allowlist_never_use_up_the_owners_quota() {
    let mut app = common::app().await;
    app.config.rate_limit_per_minute = 10;
    let app = Arc::new(app);
    let caller = Caller {
        account: common::account(&app, true).await,
        app: &app,
    };
    let body = json!({ "name": "office", "allowed_ips": ["203.0.113.0/24"] });
    let (_, created) = caller.generate(&body.to_string()).await;
    let mcp = harness::mcp(Arc::clone(&app));
    let c = McpCaller {
        mcp: &mcp,
        token: created["token"].as_str().unwrap().to_owned(),
    };
    let from = |ip: &'static str| tools_list_from(&c, Some(ip));
    // Whoever holds the leaked token elsewhere: 403s, then 429s — for them.
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(from("198.51.100.1").await.status);
    }
    assert!(
        statuses[..10].iter().all(|s| *s == StatusCode::FORBIDDEN),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // The owner, from the office, has the whole quota.
    let owner = from("203.0.113.7").await;
    assert_eq!(owner.status, StatusCode::OK, "{}", owner.body);
    assert_eq!(owner.headers["ratelimit-remaining"], "9");
}

/// `tools/list` as the function URL delivers it from `ip` (none: no source address).
async fn tools_list_from(c: &McpCaller<'_>, ip: Option<&str>) -> harness::Answer {
    c.send(|e| {
        e["body"] = json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/list" })
            .to_string()
            .into();
        e["headers"]["mcp-protocol-version"] = harness::LEGACY.into();
        // A header a caller writes is no source address.
        e["headers"]["x-forwarded-for"] = "203.0.113.9".into();
        match ip {
            Some(ip) => e["requestContext"]["http"]["sourceIp"] = ip.into(),
            None => {
                e["requestContext"]["http"]
                    .as_object_mut()
                    .unwrap()
                    .remove("sourceIp");
            }
        }
    })
    .await
}
