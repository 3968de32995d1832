//! The built function binaries, run the way Lambda runs them (under the Runtime API
//! emulator of `common::runtime`), fed every sample event of `events/`, against DynamoDB
//! Local and moto's Secrets Manager.

use serde_json::{json, Value};

use knotie_local::proxy::{Faults, Proxy};

use crate::common::runtime::{
    deployment, event, for_account, http, with_token, Function, DEPLOYED_PEPPER as PEPPER,
};
use crate::common::{self, DEAD_ENDPOINT};
#[tokio::test]
async fn each_binary_answers_its_sample_events_under_the_runtime_api() {
    let d = deployment().await;
    let mut generate = Function::start("generate", &d.env).await;
    let mut list = Function::start("list", &d.env).await;
    let revoke_env: Vec<_> = d
        .env
        .iter()
        .filter(|(k, _)| *k != "PEPPER_SECRET_ID")
        .cloned()
        .collect();
    let mut revoke = Function::start("revoke", &revoke_env).await;
    let mut mcp = Function::start("mcp", &d.env).await;

    let created = d.generated(&mut generate).await;
    let (token, id) = (
        created["token"].as_str().unwrap().to_owned(),
        created["id"].as_str().unwrap().to_owned(),
    );

    let (status, listed) = http(
        list.invoke(&for_account(event("list.json"), &d.account))
            .await,
    );
    assert_eq!(status, 200);
    assert_eq!(listed["tokens"][0]["id"], id.as_str());

    let (status, init) = http(
        mcp.invoke(&with_token(event("mcp-initialize.json"), &token))
            .await,
    );
    assert_eq!(
        (status, init["result"]["protocolVersion"].clone()),
        (200, "2025-11-25".into()),
        "{init}"
    );
    let (status, tools) = http(
        mcp.invoke(&with_token(event("mcp-tools-list.json"), &token))
            .await,
    );
    assert_eq!(
        (status, tools["result"]["tools"].as_array().map(Vec::len)),
        (200, Some(14)),
        "{tools}"
    );
    let (status, usage) = http(
        mcp.invoke(&with_token(event("mcp-tools-call.json"), &token))
            .await,
    );
    assert_eq!(status, 200, "{usage}");
    assert_eq!(
        usage["result"]["structuredContent"]["group_by"], "agent",
        "{usage}"
    );
    let (status, malformed) = http(
        mcp.invoke(&with_token(event("mcp-malformed-body.json"), &token))
            .await,
    );
    assert_eq!(
        (status, malformed["error"]["code"].clone()),
        (400, (-32700).into())
    );

    let mut revoking = for_account(event("revoke.json"), &d.account);
    revoking["pathParameters"]["id"] = id.as_str().into();
    let (status, _) = http(revoke.invoke(&revoking).await);
    assert_eq!(status, 204);
    let (status, refused) = http(
        mcp.invoke(&with_token(event("mcp-revoked-token.json"), &token))
            .await,
    );
    assert_eq!(status, 401);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{refused}"
    );
}

/// Everything a secret could be logged as: the token whole and without its prefix, the
/// session JWT, the pepper, and the token's stored hash.
fn secrets(token: &str, jwt: &str) -> Vec<(&'static str, String)> {
    let parsed = knotie::model::token::Token::parse(token).unwrap();
    let hash = knotie::model::hashing::Pepper::new(PEPPER.as_bytes())
        .unwrap()
        .hash(&parsed);
    vec![
        ("token", token.to_owned()),
        ("token body", token["kmcp_".len()..].to_owned()),
        ("session JWT", jwt.to_owned()),
        ("JWT signature", jwt.rsplit('.').next().unwrap().to_owned()),
        ("pepper", PEPPER.to_owned()),
        ("token hash", hash.as_str().to_owned()),
    ]
}

#[tokio::test]
async fn no_secret_is_logged_at_any_level_the_runtime_trace_included() {
    let mut d = deployment().await;
    d.env.push(("AWS_LAMBDA_LOG_LEVEL", "trace".into()));
    // Directives aimed at the very targets that would leak, too.
    let aimed = "trace,lambda_runtime::layers::api_response=trace,\
                 aws_smithy_runtime::client::orchestrator=trace,hyper::proto=trace";
    d.env.push(("RUST_LOG", aimed.into()));
    let revoke_env: Vec<_> = d
        .env
        .iter()
        .filter(|(k, _)| *k != "PEPPER_SECRET_ID")
        .cloned()
        .collect();
    let mut generate = Function::start("generate", &d.env).await;
    let mut list = Function::start("list", &d.env).await;
    let mut revoke = Function::start("revoke", &revoke_env).await;
    let mut mcp = Function::start("mcp", &d.env).await;
    let mut leaks = Function::start("leaks", &d.env).await;

    let creating = for_account(event("generate.json"), &d.account);
    let jwt = creating["headers"]["authorization"].as_str().unwrap()["Bearer ".len()..].to_owned();
    let (status, created) = http(generate.invoke(&creating).await);
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, _) = http(
        list.invoke(&for_account(event("list.json"), &d.account))
            .await,
    );
    assert_eq!(status, 200);
    for name in [
        "mcp-initialize.json",
        "mcp-tools-list.json",
        "mcp-tools-call.json",
    ] {
        let (status, body) = http(mcp.invoke(&with_token(event(name), &token)).await);
        assert_eq!(status, 200, "{name}: {body}");
    }
    let mut revoking = for_account(event("revoke.json"), &d.account);
    revoking["pathParameters"]["id"] = id.as_str().into();
    assert_eq!(http(revoke.invoke(&revoking).await).0, 204);
    let refused = mcp
        .invoke(&with_token(event("mcp-tools-list.json"), &token))
        .await;
    assert_eq!(http(refused).0, 401);
    // A holder's report carries the token in its body.
    let mut reported = event("credentials-revoke.json");
    reported["body"] = json!({ "credentials": [token] }).to_string().into();
    assert_eq!(http(leaks.invoke(&reported).await).0, 202);

    for f in [&generate, &list, &revoke, &mcp, &leaks] {
        let output = f.output();
        assert!(
            output.contains("TRACE") || output.contains("DEBUG"),
            "not logging at trace"
        );
        for (what, secret) in secrets(&token, &jwt) {
            let leaks: Vec<String> = output
                .lines()
                .filter(|line| line.contains(&secret))
                .map(|line| line.replace(&secret, "<THE SECRET>"))
                .collect();
            assert!(
                leaks.is_empty(),
                "the {what} is in the log:\n{}",
                leaks.join("\n")
            );
        }
    }
}

/// GitHub's documented example key, which signed `secret-scanning-github.json`.
pub(crate) const GITHUB_EXAMPLE_KEYS: &str = r#"{"public_keys": [{"key_identifier": "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a", "key": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9MJJHnMfn2+H4xL4YaPDA4RpJqUq\nkCmRCBnYERxZanmcpzQSXs1X/AljlKkbJ8qpVIW4clayyef9gWhFbNHWAA==\n-----END PUBLIC KEY-----", "is_current": true}]}"#;

#[tokio::test]
async fn the_leaks_binary_answers_its_sample_events() {
    let mut d = deployment().await;
    let keys = crate::common::keys::KeyServer::serving(GITHUB_EXAMPLE_KEYS).await;
    d.env.push(("SECRET_SCANNING_KEYS_URL", keys.url.clone()));
    let mut leaks = Function::start("leaks", &d.env).await;
    let (status, labels) = http(leaks.invoke(&event("secret-scanning-github.json")).await);
    assert_eq!(status, 200, "{labels}");
    assert_eq!(labels[0]["label"], "false_positive");
    assert_eq!(labels[0]["token_type"], "some_type");
    let (status, body) = http(leaks.invoke(&event("credentials-revoke.json")).await);
    assert_eq!(status, 202, "{body}");
    let mut unsigned = event("secret-scanning-github.json");
    unsigned["headers"]["github-public-key-signature"] = "MEUCIQ==".into();
    assert_eq!(http(leaks.invoke(&unsigned).await).0, 401);
}

#[tokio::test]
async fn secrets_manager_down_at_cold_start_gives_503_not_a_crash() {
    let d = deployment().await;
    let env: Vec<_> = d
        .env
        .iter()
        .map(|(k, v)| {
            (
                *k,
                if *k == "AWS_ENDPOINT_URL_SECRETS_MANAGER" {
                    DEAD_ENDPOINT.to_owned()
                } else {
                    v.clone()
                },
            )
        })
        .collect();
    let mut generate = Function::start("generate", &env).await;
    let (status, body) = http(
        generate
            .invoke(&for_account(event("generate.json"), &d.account))
            .await,
    );
    assert_eq!(status, 503, "{body}");
    let mut mcp = Function::start("mcp", &env).await;
    let (status, _) = http(
        mcp.invoke(&with_token(
            event("mcp-tools-list.json"),
            "kmcp_000000000000000000000000000000000000000001W9ct",
        ))
        .await,
    );
    assert_eq!(status, 503);
}

#[tokio::test]
async fn secrets_manager_back_after_a_cold_start_without_it_serves_without_a_restart() {
    let d = deployment().await;
    let secrets = Proxy::start(&common::env("KNOTIE_TEST_SECRETS"))
        .await
        .unwrap();
    secrets.set(Faults::Down);
    let env: Vec<_> = d
        .env
        .iter()
        .map(|(k, v)| match *k {
            "AWS_ENDPOINT_URL_SECRETS_MANAGER" => (*k, secrets.url()),
            _ => (*k, v.clone()),
        })
        .collect();
    let mut generate = Function::start("generate", &env).await;
    let creating = for_account(event("generate.json"), &d.account);
    let (status, body) = http(generate.invoke(&creating).await);
    assert_eq!(status, 503, "{body}");
    secrets.set(Faults::None);
    let (status, body) = http(generate.invoke(&creating).await);
    assert_eq!(status, 201, "the same instance recovers: {body}");
}

/// The bootstrap records a call's use after posting its answer (`knotie::lambda`), but always
/// before it asks for the next event — the moment Lambda could freeze it.
#[tokio::test]
async fn the_mcp_bootstrap_records_a_use_before_it_asks_for_its_next_event() {
    let d = deployment().await;
    let mut generate = Function::start("generate", &d.env).await;
    let mut list = Function::start("list", &d.env).await;
    let mut mcp = Function::start("mcp", &d.env).await;
    let created = d.generated(&mut generate).await;
    let last_used = |listed: &Value| listed["tokens"][0]["last_used_at"].clone();
    let (_, listed) = http(
        list.invoke(&for_account(event("list.json"), &d.account))
            .await,
    );
    assert_eq!(last_used(&listed), Value::Null, "{listed}");

    let token = created["token"].as_str().unwrap();
    let (status, _) = http(
        mcp.invoke(&with_token(event("mcp-tools-list.json"), token))
            .await,
    );
    assert_eq!(status, 200);
    mcp.idle().await;
    let (_, listed) = http(
        list.invoke(&for_account(event("list.json"), &d.account))
            .await,
    );
    assert!(last_used(&listed).is_string(), "{listed}");
}

#[tokio::test]
async fn a_function_without_its_configuration_exits_saying_what_is_missing() {
    let list = Function::start("list", &[]).await;
    let (status, stderr) = list.exit().await;
    assert!(!status.success());
    assert!(stderr.contains("TABLE_NAME"), "{stderr}");
}

#[tokio::test]
async fn at_info_each_mcp_request_writes_one_line_its_valid_emf_metrics() {
    let d = deployment().await;
    let mut generate = Function::start("generate", &d.env).await;
    let created = d.generated(&mut generate).await;
    let token = created["token"].as_str().unwrap();
    let mut mcp = Function::start("mcp", &d.env).await;
    let before = mcp.output().lines().count();
    let calls = [
        ("mcp-initialize.json", token),
        ("mcp-tools-list.json", token),
        ("mcp-tools-call.json", token),
        (
            "mcp-tools-list.json",
            "kmcp_000000000000000000000000000000000000000001W9ct",
        ),
    ];
    for (name, token) in calls {
        mcp.invoke(&with_token(event(name), token)).await;
    }
    // A tool name a caller makes up never becomes a metric dimension.
    let mut made_up = with_token(event("mcp-tools-call.json"), token);
    let mut body: Value = serde_json::from_str(made_up["body"].as_str().unwrap()).unwrap();
    body["params"]["name"] = "drop_all_tables_please".into();
    made_up["body"] = body.to_string().into();
    mcp.invoke(&made_up).await;
    // Each line is written after its answer is posted, before the next event is asked for.
    mcp.idle().await;
    let output = mcp.output();
    let lines: Vec<&str> = output.lines().skip(before).collect();
    assert_eq!(
        lines.len(),
        calls.len() + 1,
        "one line a request:\n{}",
        lines.join("\n")
    );
    let metrics: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for line in &metrics {
        assert_eq!(
            common::emf::violations(line),
            Vec::<String>::new(),
            "{line}"
        );
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            knotie::metrics::NAMESPACE
        );
        assert_eq!(line["Requests"], 1.0);
    }
    let outcomes: Vec<&str> = metrics
        .iter()
        .map(|l| l["Outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["ok", "ok", "ok", "unknown_token", "ok"]);
    assert_eq!(metrics[4]["Tool"], "unknown_tool", "{}", metrics[4]);
    assert_eq!(metrics[4]["ToolOutcome"], "error");
    let call = &metrics[2];
    assert_eq!(
        (&call["Tool"], &call["ToolOutcome"], &call["ToolCalls"]),
        (&json!("get_usage_analytics"), &json!("ok"), &json!(1.0))
    );
    assert_eq!(call["method"], "tools/call");
    // The token read and, on a first call, the rate count: never more.
    assert!(
        (1.0..=3.0).contains(&call["DynamoDbRequests"].as_f64().unwrap()),
        "{call}"
    );
    assert_eq!(
        metrics[3]["DynamoDbRequests"], 1.0,
        "an unknown token costs its one read"
    );
    assert!(metrics[3].get("token_id").is_none());
    assert!(!output.contains(token), "no token in the output");
}
