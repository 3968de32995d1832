//! The tools over an account's data, through the MCP endpoint.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::common::mcp::{self as harness, McpCaller};
use crate::common::{self};

/// A caller for the shared account with demo data (read-only tests).
async fn demo_account() -> (knotie::mcp::Mcp, String) {
    let account = harness::demo_account();
    let app = Arc::new(common::app().await);
    let token = harness::token(&app, &account, None).await;
    (harness::mcp(app), token)
}

#[tokio::test]
async fn every_tool_has_a_description_an_object_schema_and_annotations() {
    let (mcp, token) = harness::fresh().await;
    let listed = McpCaller { mcp: &mcp, token }
        .rpc("tools/list", json!({}))
        .await
        .body;
    let tools = listed["result"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 14);
    for tool in tools {
        let name = tool["name"].as_str().unwrap();
        assert!(
            tool["description"].as_str().is_some_and(|d| d.len() > 30),
            "{name}"
        );
        assert_eq!(tool["inputSchema"]["type"], "object", "{name}");
        let read_only = tool["annotations"]["readOnlyHint"]
            .as_bool()
            .unwrap_or_else(|| panic!("{name}"));
        let writes = name.starts_with("create_")
            || name.starts_with("update_")
            || name == "allocate_credits";
        assert_eq!(read_only, !writes, "{name}");
    }
}

#[tokio::test]
async fn customers_are_created_listed_updated_paused_and_resumed() {
    let (mcp, token) = harness::fresh().await;
    let c = McpCaller { mcp: &mcp, token };
    let created = c.ok("create_customer", json!({ "name": "  Acme Dental ", "email": "hi@acme.example", "phone": "+1 (415) 555-0100" })).await;
    let id = created["customer_id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            created["name"].clone(),
            created["phone"].clone(),
            created["status"].clone()
        ),
        (json!("Acme Dental"), json!("+14155550100"), json!("active"))
    );
    assert_eq!(created["credits"], 0);

    let paused = c
        .ok(
            "update_customer",
            json!({ "customer_id": id, "status": "paused" }),
        )
        .await;
    assert_eq!(
        (paused["status"].clone(), paused["name"].clone()),
        (json!("paused"), json!("Acme Dental"))
    );
    assert_eq!(
        c.ok("list_customers", json!({ "status": "active" })).await["items"],
        json!([])
    );
    assert_eq!(
        c.ok("list_customers", json!({ "status": "paused" })).await["items"][0]["customer_id"],
        id.as_str()
    );
    let resumed = c
        .ok(
            "update_customer",
            json!({ "customer_id": id, "status": "active", "name": "Acme Dental Group" }),
        )
        .await;
    assert_eq!(
        (resumed["status"].clone(), resumed["name"].clone()),
        (json!("active"), json!("Acme Dental Group"))
    );
    assert_eq!(
        c.ok("get_customer", json!({ "customer_id": id })).await,
        resumed
    );
}

#[tokio::test]
async fn customer_mistakes_are_tool_errors_the_model_can_act_on() {
    let (mcp, token) = harness::fresh().await;
    let c = McpCaller { mcp: &mcp, token };
    assert!(c
        .tool_error(
            "get_customer",
            json!({ "customer_id": "cus_01KB3X7Q9ZJ4M2V8N6P0R5S1TW" })
        )
        .await
        .contains("list_customers"));
    assert!(c
        .tool_error("get_customer", json!({ "customer_id": "Acme" }))
        .await
        .contains("no customer"));
    assert!(c
        .tool_error("create_customer", json!({ "name": "" }))
        .await
        .contains("must not be empty"));
    assert!(c
        .tool_error("create_customer", json!({ "name": "X", "email": "nope" }))
        .await
        .contains("email"));
    assert!(c
        .tool_error(
            "update_customer",
            json!({ "customer_id": "cus_01KB3X7Q9ZJ4M2V8N6P0R5S1TW", "status": "paused" })
        )
        .await
        .contains("no customer"));
    assert!(c
        .tool_error(
            "update_customer",
            json!({ "customer_id": "cus_01KB3X7Q9ZJ4M2V8N6P0R5S1TW" })
        )
        .await
        .contains("nothing to update"));
    let status = c
        .tool_error(
            "update_customer",
            json!({ "customer_id": "cus_01KB3X7Q9ZJ4M2V8N6P0R5S1TW", "status": "deleted" }),
        )
        .await;
    assert!(
        status.contains("deleted") || status.contains("variant"),
        "{status}"
    );
}

#[tokio::test]
async fn agents_belong_to_an_existing_customer_and_can_be_paused() {
    let (mcp, token) = harness::fresh().await;
    let c = McpCaller { mcp: &mcp, token };
    let customer = c
        .ok("create_customer", json!({ "name": "Oak Realty" }))
        .await["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = c
        .ok("create_customer", json!({ "name": "Elm Realty" }))
        .await["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let agent = c
        .ok("create_agent", json!({ "customer_id": customer, "name": "Max", "voice": "Orion", "language": "en-us", "prompt": "Qualify buyer leads.\nBe brief." }))
        .await;
    assert_eq!(
        (
            agent["voice"].clone(),
            agent["language"].clone(),
            agent["status"].clone()
        ),
        (json!("orion"), json!("en-US"), json!("active"))
    );
    let id = agent["agent_id"].as_str().unwrap().to_owned();
    c.ok("create_agent", json!({ "customer_id": other, "name": "Eve", "voice": "nova", "language": "fr-FR", "prompt": "Bonjour." })).await;

    let mine = c
        .ok("list_agents", json!({ "customer_id": customer }))
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        c.ok("list_agents", json!({})).await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let paused = c
        .ok(
            "update_agent",
            json!({ "agent_id": id, "status": "paused", "prompt": "New prompt." }),
        )
        .await;
    assert_eq!(
        (
            paused["status"].clone(),
            paused["prompt"].clone(),
            paused["name"].clone()
        ),
        (json!("paused"), json!("New prompt."), json!("Max"))
    );
    assert_eq!(c.ok("get_agent", json!({ "agent_id": id })).await, paused);

    let unknown = c.tool_error("create_agent", json!({ "customer_id": "cus_01KB3X7Q9ZJ4M2V8N6P0R5S1TW", "name": "X", "voice": "nova", "language": "en-US", "prompt": "p" })).await;
    assert!(unknown.contains("no customer"), "{unknown}");
    assert!(c.tool_error("create_agent", json!({ "customer_id": customer, "name": "X", "voice": "robot", "language": "en-US", "prompt": "p" })).await.contains("aria"));
    assert!(c
        .tool_error(
            "update_agent",
            json!({ "agent_id": id, "language": "klingon" })
        )
        .await
        .contains("en-US"));
    assert!(c
        .tool_error(
            "get_agent",
            json!({ "agent_id": "agt_01KB3X7Q9ZJ4M2V8N6P0R5S1TW" })
        )
        .await
        .contains("list_agents"));
}

/// A fresh account with a pool of `pool` credits and one customer.
async fn funded(pool: i64) -> (Arc<knotie::App>, knotie::mcp::Mcp, String, String) {
    let app = Arc::new(common::app().await);
    let account = common::account(&app, true).await;
    let mut profile = app.store.account(&account).await.unwrap().unwrap();
    profile.credit_pool = pool;
    app.store
        .put_account(&profile, knotie::model::time::Timestamp::now())
        .await
        .unwrap();
    let token = harness::token(&app, &account, None).await;
    let mcp = harness::mcp(Arc::clone(&app));
    let customer = McpCaller {
        mcp: &mcp,
        token: token.clone(),
    }
    .ok("create_customer", json!({ "name": "Lumen Law" }))
    .await;
    (
        app,
        mcp,
        token,
        customer["customer_id"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn allocating_credits_moves_them_once_per_idempotency_key() {
    let (_app, mcp, token, customer) = funded(1_000).await;
    let c = McpCaller { mcp: &mcp, token };
    let args = json!({ "customer_id": customer, "amount": 300, "idempotency_key": "k-1", "note": "November" });
    let first = c.ok("allocate_credits", args.clone()).await;
    assert_eq!(
        (
            first["pool_balance"].clone(),
            first["customer_balance"].clone(),
            first["replayed"].clone()
        ),
        (json!(700), json!(300), json!(false))
    );
    let retried = c.ok("allocate_credits", args).await;
    assert_eq!(retried["transaction_id"], first["transaction_id"]);
    assert_eq!(retried["replayed"], true);

    let balances = c.ok("get_credit_balances", json!({})).await;
    assert_eq!(
        (balances["pool"].clone(), balances["allocated"].clone()),
        (json!(700), json!(300))
    );
    let ledger = c
        .ok(
            "list_credit_transactions",
            json!({ "customer_id": customer }),
        )
        .await;
    assert_eq!(
        ledger["items"].as_array().unwrap().len(),
        1,
        "the retry wrote nothing"
    );

    let reused = c
        .tool_error(
            "allocate_credits",
            json!({ "customer_id": customer, "amount": 5, "idempotency_key": "k-1" }),
        )
        .await;
    assert!(reused.contains("already used"), "{reused}");
    let short = c
        .tool_error(
            "allocate_credits",
            json!({ "customer_id": customer, "amount": 701, "idempotency_key": "k-2" }),
        )
        .await;
    assert!(short.contains("the pool has 700"), "{short}");
    for amount in [0, -5] {
        c.tool_error(
            "allocate_credits",
            json!({ "customer_id": customer, "amount": amount, "idempotency_key": "k-3" }),
        )
        .await;
    }
    assert_eq!(
        c.ok("get_credit_balances", json!({})).await["pool"],
        700,
        "failed allocations moved nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_allocations_never_overdraw_the_pool() {
    let (_app, mcp, token, customer) = funded(1_000).await;
    let mcp = Arc::new(mcp);
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..12 {
        let (mcp, token, customer) = (Arc::clone(&mcp), token.clone(), customer.clone());
        racers.spawn(async move {
            let c = McpCaller { mcp: &mcp, token };
            let args = json!({ "customer_id": customer, "amount": 100, "idempotency_key": format!("race-{i}") });
            c.tool("allocate_credits", args).await
        });
    }
    let results: Vec<Value> = racers.join_all().await;
    let succeeded = results.iter().filter(|r| r["isError"] != true).count();
    assert_eq!(succeeded, 10, "exactly the pool's worth: {results:?}");
    let c = McpCaller { mcp: &mcp, token };
    let balances = c.ok("get_credit_balances", json!({})).await;
    assert_eq!(
        (balances["pool"].clone(), balances["allocated"].clone()),
        (json!(0), json!(1000))
    );
    assert_eq!(
        c.ok("list_credit_transactions", json!({ "limit": 100 }))
            .await["items"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
}

#[tokio::test]
async fn usage_analytics_answer_how_many_calls_last_week() {
    let (mcp, token) = demo_account().await;
    let c = McpCaller { mcp: &mcp, token };
    let today = time::OffsetDateTime::now_utc().date();
    let week_ago = today - time::Duration::days(6);
    let by_day = c.ok("get_usage_analytics", json!({})).await;
    assert_eq!(
        by_day["start_date"],
        knotie::model::calls::format_date(week_ago)
    );
    assert_eq!(by_day["end_date"], knotie::model::calls::format_date(today));
    let total = by_day["totals"]["calls"].as_i64().unwrap();
    assert!(total > 0, "the demo account took calls last week");
    let sum: i64 = by_day["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["calls"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, total);
    let rate = by_day["totals"]["success_rate"].as_f64().unwrap();
    assert!((0.5..=1.0).contains(&rate), "{rate}");

    for group_by in ["agent", "customer"] {
        let grouped = c
            .ok("get_usage_analytics", json!({ "group_by": group_by }))
            .await;
        assert_eq!(
            grouped["totals"], by_day["totals"],
            "{group_by}: same calls, grouped differently"
        );
        assert!(
            grouped["groups"][0]["name"].is_string(),
            "{group_by} groups carry names"
        );
    }

    // The whole 30 days hold every seeded call.
    let month = c.ok("get_usage_analytics", json!({ "start_date": knotie::model::calls::format_date(today - time::Duration::days(31)) })).await;
    assert_eq!(month["totals"]["calls"], 400);
    assert!(c
        .tool_error(
            "get_usage_analytics",
            json!({ "start_date": "2026-12-01", "end_date": "2026-11-01" })
        )
        .await
        .contains("after"));
    assert!(c
        .tool_error("get_usage_analytics", json!({ "start_date": "last week" }))
        .await
        .contains("YYYY-MM-DD"));
}

#[tokio::test]
async fn recent_calls_are_newest_first_and_filter_by_agent() {
    let (mcp, token) = demo_account().await;
    let c = McpCaller { mcp: &mcp, token };
    let calls = c.ok("list_recent_calls", json!({ "limit": 20 })).await["calls"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(calls.len(), 20);
    let times: Vec<&str> = calls
        .iter()
        .map(|c| c["started_at"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    let agent = calls[0]["agent_id"].as_str().unwrap();
    let theirs = c
        .ok(
            "list_recent_calls",
            json!({ "agent_id": agent, "limit": 5 }),
        )
        .await["calls"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!theirs.is_empty() && theirs.iter().all(|call| call["agent_id"] == agent));
}

#[tokio::test]
async fn one_account_never_sees_another_accounts_data() {
    let (demo_mcp, demo_token) = demo_account().await;
    let demo = McpCaller {
        mcp: &demo_mcp,
        token: demo_token,
    };
    let customer = demo.ok("list_customers", json!({ "limit": 1 })).await["items"][0]
        ["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (mcp, token) = harness::fresh().await;
    let stranger = McpCaller { mcp: &mcp, token };
    assert!(stranger
        .tool_error("get_customer", json!({ "customer_id": customer }))
        .await
        .contains("no customer"));
    assert_eq!(
        stranger.ok("list_customers", json!({})).await["items"],
        json!([])
    );
    assert_eq!(
        stranger.ok("get_usage_analytics", json!({})).await["totals"]["calls"],
        0
    );
}

#[tokio::test]
async fn listings_page_with_cursors_bound_to_the_listing() {
    let (mcp, token) = demo_account().await;
    let c = McpCaller { mcp: &mcp, token };
    let first = c.ok("list_customers", json!({ "limit": 4 })).await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = c
        .ok("list_customers", json!({ "limit": 4, "cursor": cursor }))
        .await;
    assert_eq!(
        first["items"].as_array().unwrap().len() + second["items"].as_array().unwrap().len(),
        6
    );
    assert_eq!(second["next_cursor"], Value::Null);
    assert!(
        c.tool_error("list_agents", json!({ "cursor": cursor }))
            .await
            .contains("cursor"),
        "a customers cursor can't page agents"
    );
}
