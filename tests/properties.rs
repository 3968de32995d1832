//! Generated inputs against the real endpoints, on DynamoDB Local behind a counting proxy:
//! each tool's arguments generated from the input schema it advertises — valid values at
//! their extremes and invalid ones — management bodies, query strings and cursors, and
//! API Gateway / function URL events with odd claims and headers. The property each time:
//! an answer of the documented shape, never a panic, no 5xx for the caller's input, and a
//! bounded number of DynamoDB requests.

use std::sync::Arc;

use http::StatusCode;
use knotie_local::proxy::Proxy;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};

use crate::common::mcp::{self as harness, McpCaller};
use crate::common::{self, Caller};

/// More than any one request may make: authentication (2), recording a use (1), and a
/// whole-set read of at most 10 pages.
const MOST_REQUESTS: usize = 13;

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Strings as a model or an attacker might send them.
fn any_string(known: Vec<String>) -> BoxedStrategy<Value> {
    let mut choices: Vec<BoxedStrategy<String>> = vec![
        "\\PC{0,40}".boxed(),
        Just(String::new()).boxed(),
        Just("x".repeat(10_000)).boxed(),
        Just("\u{202e}\u{0}\u{1f600}\n\t".to_owned()).boxed(),
        prop_oneof![
            Just("-9999-01-01"),
            Just("9999-12-31"),
            Just("+10000-01-01"),
            Just("-0001-02-29"),
            Just("2024-02-29"),
            Just("2023-02-29"),
            Just("0000-00-00"),
        ]
        .prop_map(str::to_owned)
        .boxed(),
        "(cus|agt|txn|call|tok)_[0-9A-Z]{0,30}".boxed(),
    ];
    if !known.is_empty() {
        choices.push(proptest::sample::select(known).boxed());
    }
    proptest::strategy::Union::new(choices)
        .prop_map(Value::from)
        .boxed()
}

fn any_integer() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0),
        Just(-1),
        Just(1),
        Just(i64::from(u32::MAX) + 1),
        Just(1_000_000),
        Just(1_000_001),
        -100i64..200,
    ]
    .prop_map(Value::from)
    .boxed()
}

/// Anything at all, for a field of the wrong type.
fn any_json() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!([1, "two"])),
        Just(json!({ "nested": true })),
        any_integer(),
        "\\PC{0,10}".prop_map(Value::from),
    ]
    .boxed()
}

/// Values for a JSON Schema: mostly of its type (at the extremes), sometimes not.
fn value_for(schema: &Value, defs: &Value, known: &[String]) -> BoxedStrategy<Value> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return value_for(&defs[name], defs, known);
    }
    if let Some(options) = schema["anyOf"].as_array() {
        let options: Vec<BoxedStrategy<Value>> =
            options.iter().map(|o| value_for(o, defs, known)).collect();
        return proptest::strategy::Union::new(options).boxed();
    }
    let typed = if let Some(values) = schema["enum"].as_array() {
        proptest::sample::select(values.clone()).boxed()
    } else {
        match schema["type"].as_str() {
            Some("string") => any_string(known.to_vec()),
            Some("integer") => any_integer(),
            Some("null") => Just(Value::Null).boxed(),
            Some("boolean") => any::<bool>().prop_map(Value::from).boxed(),
            _ => any_json(),
        }
    };
    prop_oneof![9 => typed, 1 => any_json()].boxed()
}

/// Arguments for a tool: each property present or not, plus now and then one it does not
/// know.
fn arguments_for(schema: &Value, known: &[String]) -> BoxedStrategy<Value> {
    let defs = schema["$defs"].clone();
    let properties = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = properties
        .into_iter()
        .map(|(name, property)| {
            proptest::option::weighted(0.7, value_for(&property, &defs, known))
                .prop_map(move |v| v.map(|v| (name.clone(), v)))
                .boxed()
        })
        .collect();
    (fields, proptest::option::weighted(0.1, "[a-z]{1,8}"))
        .prop_map(|(fields, extra)| {
            let mut arguments: Map<String, Value> = fields.into_iter().flatten().collect();
            if let Some(extra) = extra {
                arguments.insert(extra, json!("unexpected"));
            }
            Value::Object(arguments)
        })
        .boxed()
}

/// The documented shape of a tools/call answer: a tool result (an error the model can act
/// on, or structured content), or a JSON-RPC invalid-params error — never an internal one.
fn check_tool_answer(tool: &str, status: StatusCode, body: &Value) -> Result<(), TestCaseError> {
    prop_assert_eq!(status, StatusCode::OK, "{}: {}", tool, body);
    if let Some(error) = body.get("error") {
        prop_assert_eq!(&error["code"], -32602, "{}: {}", tool, body);
        return Ok(());
    }
    let result = &body["result"];
    prop_assert!(result["content"].is_array(), "{}: {}", tool, body);
    if result["isError"] == true {
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        prop_assert!(!text.is_empty(), "{}: {}", tool, body);
    } else {
        prop_assert!(
            result["structuredContent"].is_object(),
            "{}: {}",
            tool,
            body
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_answers_generated_arguments_in_shape_within_bounds() {
    let proxy = Proxy::start(&common::env("KNOTIE_TEST_DYNAMODB"))
        .await
        .unwrap();
    let (app, _, token) = harness::seeded_through(&proxy, 50).await;
    let mcp = harness::mcp(Arc::clone(&app));
    let c = McpCaller { mcp: &mcp, token };
    let mut known = Vec::new();
    for (tool, field) in [
        ("list_customers", "customer_id"),
        ("list_agents", "agent_id"),
    ] {
        let page = c.ok(tool, json!({ "limit": 100 })).await;
        for item in page["items"].as_array().unwrap() {
            known.push(item[field].as_str().unwrap().to_owned());
        }
    }
    let tools = c.rpc("tools/list", json!({})).await.body["result"]["tools"].clone();
    let handle = tokio::runtime::Handle::current();
    let calls = std::sync::atomic::AtomicUsize::new(0);
    for tool in tools.as_array().unwrap() {
        let name = tool["name"].as_str().unwrap().to_owned();
        let strategy = arguments_for(&tool["inputSchema"], &known);
        let result = tokio::task::block_in_place(|| {
            runner(48).run(&strategy, |arguments| {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                proxy.take_counts();
                let body = json!({ "name": name, "arguments": arguments });
                let answer = handle.block_on(c.rpc("tools/call", body));
                check_tool_answer(&name, answer.status, &answer.body)?;
                let made: usize = proxy.take_counts().values().sum();
                prop_assert!(made <= MOST_REQUESTS, "{} made {} requests", name, made);
                Ok(())
            })
        });
        if let Err(e) = result {
            panic!("{name}: {e}");
        }
    }
    eprintln!("{} generated tools/call", calls.into_inner());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_management_routes_answer_any_body_query_or_id_without_a_5xx() {
    let app = common::app().await;
    let account = common::account(&app, true).await;
    let caller = Caller { app: &app, account };
    let handle = tokio::runtime::Handle::current();
    let body = prop_oneof![
        any_json().prop_map(|v| v.to_string()),
        (any_string(vec![]), any_json(), any_json()).prop_map(|(name, scopes, days)| {
            json!({ "name": name, "scopes": scopes, "expires_in_days": days }).to_string()
        }),
        "\\PC{0,100}",
    ];
    let query = (
        proptest::option::of("\\PC{0,12}|-?[0-9]{1,12}"),
        proptest::option::of("[A-Za-z0-9_-]{0,80}|\\PC{0,30}"),
        "[a-z_]{0,8}|tok_[0-9A-Z]{26}|\\PC{0,20}",
    );
    tokio::task::block_in_place(|| {
        runner(96)
            .run(&(body, query), |(body, (limit, cursor, id))| {
                let (status, reply) = handle.block_on(caller.generate(&body));
                prop_assert!(
                    [
                        StatusCode::CREATED,
                        StatusCode::BAD_REQUEST,
                        StatusCode::CONFLICT
                    ]
                    .contains(&status),
                    "generate {}: {} {}",
                    body,
                    status,
                    reply
                );
                let mut params = Vec::new();
                if let Some(limit) = &limit {
                    params.push(("limit", limit.as_str()));
                }
                if let Some(cursor) = &cursor {
                    params.push(("cursor", cursor.as_str()));
                }
                let (status, reply) = handle.block_on(caller.list(&params));
                prop_assert!(
                    status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
                    "list {:?}: {} {}",
                    params,
                    status,
                    reply
                );
                let (status, _) = handle.block_on(caller.revoke(&id));
                prop_assert!(
                    status == StatusCode::NO_CONTENT || status == StatusCode::NOT_FOUND,
                    "revoke {:?}: {}",
                    id,
                    status
                );
                Ok(())
            })
            .unwrap();
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_claims_and_headers_get_a_client_answer_never_a_5xx() {
    let app = Arc::new(common::app().await);
    let account = common::account(&app, true).await;
    let token = harness::token(&app, &account, None).await;
    let mcp = harness::mcp(Arc::clone(&app));
    let handle = tokio::runtime::Handle::current();
    let claim = proptest::option::of(prop_oneof![
        Just(account.to_string()),
        "\\PC{0,40}",
        "acct#[a-z]{1,5}",
        Just("x".repeat(300)),
    ]);
    let header = proptest::option::of(prop_oneof![
        Just(format!("Bearer {token}")),
        Just(format!("bearer  {token} ")),
        "Bearer [!-~]{0,60}",
        "[!-~][ -~]{0,80}",
    ]);
    let origin = proptest::option::of(prop_oneof![
        Just(harness::ALLOWED_ORIGIN.to_owned()),
        "[!-~]{1,40}",
    ]);
    let mcp_body = prop_oneof![
        Just(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#.to_owned()),
        "\\PC{0,80}",
        any_json().prop_map(|v| v.to_string()),
    ];
    tokio::task::block_in_place(|| {
        runner(96)
            .run(
                &(claim.clone(), claim, header, origin, mcp_body),
                |(sub, account_claim, authorization, origin, body)| {
                    let mut event = common::event("list.json", &account);
                    let claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
                        .as_object_mut()
                        .unwrap();
                    for (name, value) in [("sub", sub), ("custom:account_id", account_claim)] {
                        match value {
                            Some(value) => claims.insert(name.into(), value.into()),
                            None => claims.remove(name),
                        };
                    }
                    let response =
                        handle.block_on(knotie::api::list(&app, common::request(&event)));
                    let (status, reply) = handle.block_on(common::reply(response));
                    prop_assert!(
                        status == StatusCode::OK || status == StatusCode::UNAUTHORIZED,
                        "{} {}",
                        status,
                        reply
                    );
                    let caller = McpCaller {
                        mcp: &mcp,
                        token: String::new(),
                    };
                    let answer = handle.block_on(caller.send(|e| {
                        let headers = e["headers"].as_object_mut().unwrap();
                        match authorization {
                            Some(value) => headers.insert("authorization".into(), value.into()),
                            None => headers.remove("authorization"),
                        };
                        if let Some(origin) = origin {
                            headers.insert("origin".into(), origin.into());
                        }
                        e["body"] = body.into();
                    }));
                    prop_assert!(
                        !answer.status.is_server_error(),
                        "{} {}",
                        answer.status,
                        answer.body
                    );
                    Ok(())
                },
            )
            .unwrap();
    });
}
