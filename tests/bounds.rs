//! Every request does bounded work: each tool, given the arguments that cost it most (a
//! filter that matches nothing, a listing of everything), makes at most the DynamoDB
//! requests the README lists, counted by a proxy — however much history the account has.

use std::sync::Arc;

use knotie::model::time::Timestamp;
use knotie_local::proxy::Proxy;
use serde_json::{json, Value};

use crate::common::mcp::{self as harness, McpCaller};
use crate::common::{self};

/// Authentication: the token by its hash, then the account.
const AUTH: usize = 2;

#[tokio::test]
async fn each_tool_makes_at_most_its_listed_dynamodb_requests() {
    let proxy = Proxy::start(&common::env("KNOTIE_TEST_DYNAMODB"))
        .await
        .unwrap();
    let (app, _, token) = harness::seeded_through(&proxy, 400).await;
    let mcp = harness::mcp(Arc::clone(&app));
    let c = McpCaller { mcp: &mcp, token };
    // The first call also records the token's use; later ones within five minutes do not.
    c.ok("get_account", json!({})).await;

    let customers = c.ok("list_customers", json!({ "limit": 100 })).await;
    let customer = customers["items"][0]["customer_id"].clone();
    let agents = c
        .ok("list_agents", json!({ "customer_id": customer }))
        .await;
    let agent = agents["items"][0]["agent_id"].clone();
    let lonely = c
        .ok("create_customer", json!({ "name": "No calls yet" }))
        .await;
    let lonely = lonely["customer_id"].clone();
    let other_agent = c.ok("list_agents", json!({ "limit": 100 })).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["customer_id"] != customer)
        .unwrap()["agent_id"]
        .clone();

    let year_ago =
        knotie::model::calls::format_date(Timestamp::now().date() - time::Duration::days(365));
    let cases: Vec<(&str, Value, usize)> = vec![
        ("get_account", json!({}), 0),
        ("list_customers", json!({}), 3),
        (
            "list_customers",
            json!({ "status": "paused", "limit": 1 }),
            3,
        ),
        ("get_customer", json!({ "customer_id": customer }), 1),
        ("create_customer", json!({ "name": "Bounded" }), 1),
        (
            "update_customer",
            json!({ "customer_id": customer, "phone": "+1 415 555 0100" }),
            2,
        ),
        (
            "list_agents",
            json!({ "customer_id": lonely, "status": "draft" }),
            3,
        ),
        ("get_agent", json!({ "agent_id": agent }), 1),
        (
            "create_agent",
            json!({ "customer_id": lonely, "name": "B", "voice": "nova", "language": "en-US", "prompt": "Hi." }),
            1,
        ),
        (
            "update_agent",
            json!({ "agent_id": agent, "voice": "sage" }),
            2,
        ),
        ("get_credit_balances", json!({}), 2),
        (
            "allocate_credits",
            json!({ "customer_id": customer, "amount": 1, "idempotency_key": "bounded-1" }),
            4,
        ),
        (
            "allocate_credits",
            json!({ "customer_id": customer, "amount": 1, "idempotency_key": "bounded-1" }),
            2,
        ),
        (
            "list_credit_transactions",
            json!({ "customer_id": lonely }),
            3,
        ),
        (
            "get_usage_analytics",
            json!({ "start_date": year_ago, "group_by": "customer" }),
            2,
        ),
        ("get_usage_analytics", json!({ "customer_id": lonely }), 1),
        ("list_recent_calls", json!({ "limit": 50 }), 1),
        ("list_recent_calls", json!({ "customer_id": lonely }), 1),
        (
            "list_recent_calls",
            json!({ "agent_id": other_agent, "customer_id": customer }),
            3,
        ),
        (
            "list_recent_calls",
            json!({ "customer_id": "cus_not-an-id" }),
            0,
        ),
    ];
    proxy.take_counts();
    for (tool, arguments, most) in cases {
        let result = c.tool(tool, arguments.clone()).await;
        assert_ne!(result["isError"], true, "{tool} {arguments}: {result}");
        let counts = proxy.take_counts();
        let made: usize = counts.values().sum();
        assert!(
            made <= AUTH + most,
            "{tool} {arguments} made {made} DynamoDB requests (at most {}): {counts:?}",
            AUTH + most
        );
    }
}

/// A measurement, not a check (ignored by default): the same calls on an account with
/// 3,000 calls of history and on one with 100,000 — median time and DynamoDB requests.
/// `bash scripts/test.sh history -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn history_does_not_change_what_a_call_costs() {
    let proxy = Proxy::start(&common::env("KNOTIE_TEST_DYNAMODB"))
        .await
        .unwrap();
    for calls in [3_000, 100_000] {
        let seeding = std::time::Instant::now();
        let (app, _, token) = harness::seeded_through(&proxy, calls).await;
        eprintln!("seeded {calls} calls in {:?}", seeding.elapsed());
        let mcp = harness::mcp(Arc::clone(&app));
        let c = McpCaller { mcp: &mcp, token };
        c.ok("get_account", json!({})).await;
        let lonely =
            c.ok("create_customer", json!({ "name": "No calls" })).await["customer_id"].clone();
        for (tool, arguments) in [
            ("list_recent_calls", json!({})),
            ("list_recent_calls", json!({ "customer_id": lonely })),
            ("get_usage_analytics", json!({ "group_by": "agent" })),
        ] {
            let mut times = Vec::new();
            proxy.take_counts();
            for _ in 0..50 {
                let started = std::time::Instant::now();
                c.ok(tool, arguments.clone()).await;
                times.push(started.elapsed());
            }
            times.sort();
            let requests: usize = proxy.take_counts().values().sum();
            eprintln!(
                "{calls:>7} calls of history: {tool} {arguments}: median {:?}, {} DynamoDB requests per call",
                times[times.len() / 2],
                requests as f64 / 50.0
            );
        }
    }
}
