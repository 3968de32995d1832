//! Roles and the account's token policy, through the management routes as API Gateway
//! delivers them (the sample events, with the user and role claims of the test's choosing)
//! and through the MCP endpoint that enforces the policy on every call.

use std::sync::Arc;

use http::StatusCode;
use knotie::model::ids::AccountId;
use knotie::App;
use serde_json::json;

use crate::common::mcp::{self as harness, McpCaller};
use crate::common::users::User;
use crate::common::{self, error_code, reply, request};

async fn team(app: &App) -> (User<'_>, User<'_>, User<'_>, User<'_>) {
    let account = common::account(app, true).await;
    let user = |sub, role| User {
        app,
        account: account.clone(),
        sub,
        role,
    };
    (
        user("olga", Some("owner")),
        user("adam", Some("admin")),
        user("mia", Some("member")),
        // No role claim at all: a member.
        user("nico", None),
    )
}

#[tokio::test]
async fn members_see_and_revoke_only_their_own_tokens_and_a_colleagues_is_404() {
    let app = common::app().await;
    let (owner, admin, mia, nico) = team(&app).await;
    let olgas = owner.generated_id("Olga's").await;
    let mias = mia.generated_id("Mia's").await;
    let nicos = nico.generated_id("Nico's").await;

    assert_eq!(mia.listed_names().await, ["Mia's"]);
    assert_eq!(nico.listed_names().await, ["Nico's"]);
    let (_, listed) = mia.list().await;
    assert_eq!(listed["viewer"], json!({ "user": "mia", "role": "member" }));
    for id in [&olgas, &nicos] {
        assert_eq!(mia.revoke(id).await.0, StatusCode::NOT_FOUND);
        let (status, body) = mia.history(id).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(error_code(&body), "token_not_found", "as for an unknown id");
    }
    assert_eq!(mia.history(&mias).await.0, StatusCode::OK);
    assert_eq!(mia.revoke(&mias).await.0, StatusCode::NO_CONTENT);

    // Owners and admins see every token, with who made it, and revoke any.
    let (_, listed) = admin.list_with(&[("status", "all")]).await;
    let creators: Vec<(&str, &str)> = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["created_by"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        creators,
        [("Nico's", "nico"), ("Mia's", "mia"), ("Olga's", "olga")]
    );
    assert_eq!(listed["viewer"]["role"], "admin");
    assert_eq!(admin.revoke(&nicos).await.0, StatusCode::NO_CONTENT);
    assert_eq!(owner.history(&nicos).await.0, StatusCode::OK);
    assert_eq!(owner.listed_names().await.len(), 3);
    // Still none of Olga's for Mia, revoked or not.
    assert_eq!(mia.listed_names().await, ["Mia's"]);
}

#[tokio::test]
async fn a_member_reads_the_policy_but_changing_it_is_403_and_changes_nothing() {
    let app = common::app().await;
    let (owner, _, mia, nico) = team(&app).await;
    let default = json!({
        "max_lifetime_days": null,
        "allowed_scopes": ["customers:read", "customers:write", "agents:read", "agents:write",
                           "credits:read", "credits:write", "analytics:read"],
        "member_scopes": ["customers:read", "customers:write", "agents:read", "agents:write",
                          "credits:read", "credits:write", "analytics:read"],
        "members_may_create": true,
        "revoke_unused_after_days": null,
    });
    assert_eq!(mia.policy().await, (StatusCode::OK, default.clone()));
    let strict = json!({ "max_lifetime_days": 7, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": false, "revoke_unused_after_days": null });
    for member in [&mia, &nico] {
        let (status, body) = member.set_policy(strict.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(error_code(&body), "forbidden");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("owners and admins"));
    }
    assert_eq!(owner.policy().await, (StatusCode::OK, default));
    assert_eq!(
        owner.set_policy(strict.clone()).await,
        (StatusCode::OK, strict.clone())
    );
    assert_eq!(mia.policy().await, (StatusCode::OK, strict));
}

#[tokio::test]
async fn a_policy_body_that_is_not_whole_and_valid_is_400_and_changes_nothing() {
    let app = common::app().await;
    let (owner, ..) = team(&app).await;
    let (_, before) = owner.policy().await;
    for body in [
        json!({ "max_lifetime_days": 30 }),
        json!({ "max_lifetime_days": 400, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": true, "revoke_unused_after_days": null }),
        json!({ "max_lifetime_days": null, "allowed_scopes": [], "member_scopes": [], "members_may_create": true, "revoke_unused_after_days": null }),
        json!({ "max_lifetime_days": null, "allowed_scopes": ["customers:delete"], "member_scopes": ["customers:delete"], "members_may_create": true, "revoke_unused_after_days": null }),
        json!([1, 2]),
    ] {
        let (status, reply) = owner.set_policy(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {reply}");
        assert_eq!(error_code(&reply), "invalid_policy");
    }
    assert_eq!(owner.policy().await.1, before);
}

#[tokio::test]
async fn generate_beyond_the_policy_is_400_naming_the_policy() {
    let app = common::app().await;
    let (owner, admin, mia, _) = team(&app).await;
    let policy = json!({ "max_lifetime_days": 30, "allowed_scopes": ["customers:read", "analytics:read"], "member_scopes": ["customers:read", "analytics:read"], "members_may_create": false, "revoke_unused_after_days": null });
    assert_eq!(owner.set_policy(policy).await.0, StatusCode::OK);
    let cases = [
        (&admin, json!({ "name": "forever" }), "requires an expiry"),
        (
            &admin,
            json!({ "name": "long", "expires_in_days": 31 }),
            "at most 30 days",
        ),
        (
            &admin,
            json!({ "name": "writer", "expires_in_days": 30, "scopes": ["customers:read", "customers:write"] }),
            "does not allow the scope customers:write",
        ),
        (
            &mia,
            json!({ "name": "mine", "expires_in_days": 30 }),
            "only owners and admins",
        ),
    ];
    for (user, body, says) in cases {
        let (status, reply) = user.generate(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {reply}");
        assert_eq!(error_code(&reply), "token_policy");
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("token policy") && message.contains(says),
            "{message}"
        );
    }
    assert_eq!(
        owner.listed_names().await,
        Vec::<String>::new(),
        "nothing was made"
    );
    // Within it: scopes left out are the policy's.
    let (status, made) = admin
        .generate(json!({ "name": "ok", "expires_in_days": 30 }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["scopes"], json!(["customers:read", "analytics:read"]));
}

#[tokio::test]
async fn a_policy_change_applies_to_existing_tokens_from_their_next_call() {
    let app = Arc::new(common::app().await);
    let (owner, ..) = team(&app).await;
    let token = owner.token(json!({ "name": "everything" })).await;
    let mcp = harness::mcp(Arc::clone(&app));
    let c = McpCaller {
        mcp: &mcp,
        token: token.clone(),
    };
    let tools = |answer: harness::Answer| -> Vec<String> {
        answer.body["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(tools(c.rpc("tools/list", json!({})).await).contains(&"create_customer".to_owned()));

    let read_only = json!({ "max_lifetime_days": null, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": true, "revoke_unused_after_days": null });
    assert_eq!(owner.set_policy(read_only).await.0, StatusCode::OK);
    // The very next call: no cache stands between the policy and the call.
    let listed = tools(c.rpc("tools/list", json!({})).await);
    assert!(listed.contains(&"list_customers".to_owned()), "{listed:?}");
    assert!(
        !listed.contains(&"create_customer".to_owned()),
        "{listed:?}"
    );
    assert!(
        !listed.contains(&"get_usage_analytics".to_owned()),
        "{listed:?}"
    );
    let refused = c
        .rpc(
            "tools/call",
            json!({ "name": "create_customer", "arguments": { "name": "X" } }),
        )
        .await;
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("customers:write"),
        "{}",
        refused.body
    );
    let account = c.ok("get_account", json!({})).await;
    assert_eq!(account["token"]["scopes"], json!(["customers:read"]));

    // A maximum lifetime the token is already older than: refused as expired.
    let made_long_ago = common::token_made_days_ago(&app, &owner.account, 10).await;
    let old = McpCaller {
        mcp: &mcp,
        token: made_long_ago,
    };
    assert_eq!(
        old.rpc("tools/list", json!({})).await.status,
        StatusCode::OK
    );
    let week = json!({ "max_lifetime_days": 7, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": true, "revoke_unused_after_days": null });
    assert_eq!(owner.set_policy(week).await.0, StatusCode::OK);
    let answer = old.rpc("tools/list", json!({})).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("expired") && message.contains("at most 7 days"),
        "{message}"
    );
    // The token made just now is within the week, and says when it ends.
    let account = c.ok("get_account", json!({})).await;
    assert!(account["token"]["expires_at"].is_string(), "{account}");
}

#[tokio::test]
async fn a_token_expiring_within_a_week_says_so_in_every_tool_result() {
    let app = Arc::new(common::app().await);
    let (owner, ..) = team(&app).await;
    let mcp = harness::mcp(Arc::clone(&app));
    let soon = McpCaller {
        mcp: &mcp,
        token: owner
            .token(json!({ "name": "soon", "expires_in_days": 3 }))
            .await,
    };
    let result = soon.tool("get_account", json!({})).await;
    let notice = result["content"].as_array().unwrap().last().unwrap()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        notice.contains("expires in 2 days") || notice.contains("expires in 3 days"),
        "{notice}"
    );
    assert!(notice.contains("Settings → MCP Tokens"), "{notice}");
    let expires_at = result["_meta"]["ai.knotie/token_expires_at"]
        .as_str()
        .unwrap();
    assert_eq!(
        result["structuredContent"]["token"]["expires_at"],
        expires_at
    );
    // A tool error carries it too: the model relays it whatever happened.
    let failed = soon
        .tool(
            "get_customer",
            json!({ "customer_id": "cus_00000000000000000000000000" }),
        )
        .await;
    assert_eq!(failed["isError"], true);
    assert_eq!(failed["_meta"]["ai.knotie/token_expires_at"], expires_at);

    let later = McpCaller {
        mcp: &mcp,
        token: owner
            .token(json!({ "name": "later", "expires_in_days": 8 }))
            .await,
    };
    let result = later.tool("get_account", json!({})).await;
    assert_eq!(result["content"].as_array().unwrap().len(), 1, "{result}");
    assert!(result.get("_meta").is_none(), "{result}");
}

#[tokio::test]
async fn with_profiles_kept_per_instance_a_change_arrives_within_the_cache_time_and_a_grant_at_once(
) {
    const KEPT: std::time::Duration = std::time::Duration::from_secs(2);
    let mut app = common::app().await;
    app.config.account_cache = KEPT;
    let app = Arc::new(app);
    let account = common::account(&app, false).await;
    let owner = User {
        app: &app,
        account: account.clone(),
        sub: "olga",
        role: Some("owner"),
    };
    let mcp = harness::mcp(Arc::clone(&app));
    let c = McpCaller {
        mcp: &mcp,
        token: owner.token(json!({ "name": "kept" })).await,
    };
    let set_access = |on: bool| {
        let app = Arc::clone(&app);
        let account = account.clone();
        async move {
            let mut profile = app.store.account(&account).await.unwrap().unwrap();
            profile.api_access = on;
            let now = knotie::model::time::Timestamp::now();
            app.store.put_account(&profile, now).await.unwrap();
        }
    };
    let status = || async { c.rpc("tools/list", json!({})).await.status };
    // A denial is never kept: API access turned on works on the very next call.
    assert_eq!(status().await, StatusCode::FORBIDDEN);
    set_access(true).await;
    assert_eq!(status().await, StatusCode::OK);

    // Kept now: a tighter policy reaches this instance within the cache time.
    let read_only = json!({ "max_lifetime_days": null, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": true, "revoke_unused_after_days": null });
    assert_eq!(owner.set_policy(read_only).await.0, StatusCode::OK);
    let writes = || async {
        c.rpc("tools/list", json!({})).await.body["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "create_customer")
    };
    let changed = std::time::Instant::now();
    assert!(
        writes().await,
        "the instance still holds the profile it read"
    );
    while writes().await {
        assert!(
            changed.elapsed() < KEPT + std::time::Duration::from_millis(500),
            "still the old policy after the cache time"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // And API access turned off, likewise.
    set_access(false).await;
    let changed = std::time::Instant::now();
    assert_eq!(status().await, StatusCode::OK, "held until the cache time");
    while status().await == StatusCode::OK {
        assert!(
            changed.elapsed() < KEPT + std::time::Duration::from_millis(500),
            "still served after the cache time"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status().await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn member_scopes_bound_what_members_tokens_do_at_generate_and_on_every_call() {
    let app = Arc::new(common::app().await);
    let (owner, _, mia, _) = team(&app).await;
    // Made while members could do everything.
    let mias_early = mia.token(json!({ "name": "early" })).await;
    let owners = owner.token(json!({ "name": "owner's" })).await;
    let narrowed = json!({ "max_lifetime_days": null, "allowed_scopes": ["customers:read", "customers:write", "analytics:read"], "member_scopes": ["customers:read"], "members_may_create": true, "revoke_unused_after_days": null });
    assert_eq!(owner.set_policy(narrowed).await.0, StatusCode::OK);

    let (status, refused) = mia
        .generate(json!({ "name": "writer", "scopes": ["customers:read", "customers:write"] }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("members' tokens the scope customers:write"),
        "{refused}"
    );
    let (status, made) = mia.generate(json!({ "name": "default" })).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(
        made["scopes"],
        json!(["customers:read"]),
        "a member gets the member scopes"
    );

    let mcp = harness::mcp(Arc::clone(&app));
    let scopes_of = |token: String| {
        let mcp = &mcp;
        async move {
            let c = McpCaller { mcp, token };
            c.ok("get_account", json!({})).await["token"]["scopes"].clone()
        }
    };
    assert_eq!(
        scopes_of(mias_early).await,
        json!(["customers:read"]),
        "a member's token made before is narrowed on its next call"
    );
    assert_eq!(
        scopes_of(owners).await,
        json!(["customers:read", "customers:write", "analytics:read"]),
        "an owner's token keeps what the account allows"
    );
}

#[tokio::test]
async fn the_policy_survives_the_platform_rewriting_the_profile_and_needs_no_profile_to_be_set() {
    let app = Arc::new(common::app().await);
    let (owner, ..) = team(&app).await;
    let strict = json!({ "max_lifetime_days": 7, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": false, "revoke_unused_after_days": null });
    assert_eq!(owner.set_policy(strict.clone()).await.0, StatusCode::OK);
    // The platform writes the whole profile item, as `make dev`'s seed does.
    let profile = app.store.account(&owner.account).await.unwrap().unwrap();
    let rewritten = knotie::model::account::Account {
        plan: "enterprise".into(),
        policy: knotie::model::policy::Policy::default(),
        ..profile
    };
    app.store
        .put_account(&rewritten, knotie::model::time::Timestamp::now())
        .await
        .unwrap();
    assert_eq!(owner.policy().await, (StatusCode::OK, strict.clone()));
    let (status, refused) = owner.generate(json!({ "name": "forever" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "still enforced: {refused}");

    // An account the platform has not made a profile for yet.
    let newcomer = User {
        app: &app,
        account: AccountId::parse(&format!("acct_new{}", std::process::id())).unwrap(),
        sub: "olga",
        role: Some("owner"),
    };
    let (status, saved) = newcomer.set_policy(strict.clone()).await;
    assert_eq!((status, saved), (StatusCode::OK, strict.clone()));
    assert_eq!(newcomer.policy().await, (StatusCode::OK, strict));
}

#[tokio::test]
async fn one_request_offboards_a_user_and_each_token_says_so_in_its_history() {
    let app = Arc::new(common::app().await);
    let (owner, admin, mia, nico) = team(&app).await;
    let mias: Vec<String> = {
        let mut ids = Vec::new();
        for name in ["laptop", "desktop", "ci"] {
            ids.push(mia.generated_id(name).await);
        }
        ids
    };
    let already = mias[2].clone();
    assert_eq!(mia.revoke(&already).await.0, StatusCode::NO_CONTENT);
    let token = mia.token(json!({ "name": "in use" })).await;
    let nicos = nico.generated_id("nico's").await;

    // A member may not offboard anyone, not even a colleague with fewer rights.
    let (status, body) = nico.revoke_user("mia").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, body) = admin.revoke_user("mia").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "user": "mia", "revoked": 3 }),
        "the three live ones"
    );
    let listed = owner.list().await.1;
    for t in listed["tokens"].as_array().unwrap() {
        let expected = if t["created_by"] == "mia" {
            "revoked"
        } else {
            "active"
        };
        assert_eq!(t["status"], expected, "{t}");
    }
    let (_, history) = owner.history(&mias[0]).await;
    assert_eq!(history["events"][0]["type"], "revoked");
    assert_eq!(history["events"][0]["reason"], "offboarded");
    assert_eq!(history["events"][0]["by"], "adam");
    let (_, history) = owner.history(&already).await;
    assert_eq!(
        history["events"][0]["reason"], "user",
        "a revoked token keeps its reason"
    );

    let mcp = harness::mcp(Arc::clone(&app));
    let answer = McpCaller { mcp: &mcp, token }
        .rpc("tools/list", json!({}))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the person who made it left"),
        "{}",
        answer.body
    );
    // Again: nothing left to revoke. Nico's token was never touched.
    assert_eq!(admin.revoke_user("mia").await.1["revoked"], 0);
    let (_, history) = owner.history(&nicos).await;
    assert_eq!(history["events"].as_array().unwrap().len(), 1);
    for bad in [
        json!({}),
        json!({ "user": "" }),
        json!({ "user": "mia", "also": "nico" }),
    ] {
        let mut event = owner.event("revoke-user.json");
        event["body"] = bad.to_string().into();
        let (status, _) = reply(knotie::api::revokes(&app, request(&event)).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn a_members_listing_reads_no_colleagues_item_and_its_cursor_names_only_theirs() {
    let proxy = knotie_local::proxy::Proxy::start(&common::env("KNOTIE_TEST_DYNAMODB"))
        .await
        .unwrap();
    let clean = common::app().await;
    let app = App {
        store: common::store_at(&proxy.url()).await,
        ..clean
    };
    let (owner, _, mia, _) = team(&app).await;
    for i in 0..30 {
        owner.generated_id(&format!("owner {i}")).await;
    }
    let mine = [
        mia.generated_id("mine 1").await,
        mia.generated_id("mine 2").await,
    ];
    for i in 0..5 {
        owner.generated_id(&format!("later {i}")).await;
    }
    proxy.take_counts();
    proxy.take_items_read();
    let mut event = mia.event("list.json");
    event["rawQueryString"] = "limit=1".into();
    event["queryStringParameters"] = json!({ "limit": "1" });
    let (status, page) = reply(knotie::api::list(&app, request(&event)).await).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["tokens"][0]["id"], mine[1].as_str(), "newest first");
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    event["rawQueryString"] = format!("limit=1&cursor={cursor}").into();
    event["queryStringParameters"] = json!({ "limit": "1", "cursor": cursor });
    let (_, page) = reply(knotie::api::list(&app, request(&event)).await).await;
    assert_eq!(page["tokens"][0]["id"], mine[0].as_str());
    assert!(page["next_cursor"].is_null(), "{page}");
    // Each page: one Query of mia's index items, one BatchGetItem of her records (and of
    // the policy, beside them): 35 tokens of the owner's, none of them read.
    let counts = proxy.take_counts();
    assert_eq!(counts.get("Query"), Some(&2), "{counts:?}");
    assert_eq!(counts.get("BatchGetItem"), Some(&4), "{counts:?}");
    // Every token item read is one of mia's two: her index items (a page of 1 reads 2, to
    // know whether another follows) and her records; the rest is the profile and policy.
    let read = proxy.take_items_read();
    let tokens_read: usize = read
        .iter()
        .filter(|(kind, _)| kind.contains("TOKEN#") || kind.contains("MADEBY#"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(read.get("ACCT#* / TOKEN#*"), Some(&2), "{read:?}");
    assert_eq!(read.get("ACCT#* / MADEBY#*"), Some(&3), "{read:?}");
    assert_eq!(tokens_read, 5, "no colleague's token among {read:?}");
    let decoded = String::from_utf8_lossy(&base64_url_decode(&cursor)).into_owned();
    assert!(
        decoded.contains("MADEBY#") && !decoded.contains("TOKEN#"),
        "the cursor holds a key of mia's index, no token's key: {decoded:?}"
    );
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap_or_default()
}
