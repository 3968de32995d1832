//! Leaked tokens: GitHub's secret scanning reports (signed, verified against a key server
//! of our own), holders' reports, what the owner sees — the list says why, the history
//! says what happened — and what the holder of a leaked token sees on the next call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use knotie::leaks::keys::KeySource;
use knotie::leaks::Leaks;
use knotie::App;
use knotie_local::proxy::Proxy;
use serde_json::{json, Value};

use crate::common::keys::{KeyServer, SigningKey};
use crate::common::mcp::{self as harness, McpCaller};
use crate::common::{self, Caller};

struct Setup {
    app: Arc<App>,
    leaks: Leaks,
    keys: KeyServer,
    key: SigningKey,
    account: knotie::model::ids::AccountId,
}

async fn setup(store_via: Option<&Proxy>) -> Setup {
    setup_reading_every(store_via, Duration::ZERO).await
}

/// A setup whose key source reads GitHub's document at most once per `interval`.
async fn setup_reading_every(store_via: Option<&Proxy>, interval: Duration) -> Setup {
    let key = SigningKey::generate("key-a");
    let keys = KeyServer::start(&[&key]).await;
    let mut app = common::app().await;
    if let Some(proxy) = store_via {
        app.store = common::store_at(&proxy.url()).await;
    }
    let app = Arc::new(app);
    let account = common::account(&app, true).await;
    let source = KeySource::new(keys.url.clone()).reading_at_most_every(interval);
    let leaks = Leaks::with_keys(Arc::clone(&app), source);
    Setup {
        app,
        leaks,
        keys,
        key,
        account,
    }
}

/// A report as GitHub sends it: the body, and headers naming the key and the signature.
fn report(body: &str, key_id: Option<&str>, signature: Option<String>) -> lambda_http::Request {
    let path = format!(
        "{}/../events/secret-scanning-github.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let headers = event["headers"].as_object_mut().unwrap();
    headers.remove("github-public-key-identifier");
    headers.remove("github-public-key-signature");
    if let Some(id) = key_id {
        headers.insert("github-public-key-identifier".into(), id.into());
    }
    if let Some(signature) = signature {
        headers.insert("github-public-key-signature".into(), signature.into());
    }
    headers.insert("content-length".into(), body.len().to_string().into());
    event["body"] = body.into();
    common::request(&event)
}

async fn send(setup: &Setup, request: lambda_http::Request) -> (StatusCode, Value) {
    common::reply(setup.leaks.handle(request).await).await
}

fn matches(tokens: &[&str]) -> String {
    let entries: Vec<Value> = tokens
        .iter()
        .map(|t| json!({ "token": t, "type": "knotie_mcp_token", "url": "https://github.com/octo/app/blob/main/.env", "source": "Content" }))
        .collect();
    Value::from(entries).to_string()
}

fn sha256(s: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, s.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_signed_report_revokes_the_live_token_and_its_next_call_says_where_it_leaked() {
    let s = setup(None).await;
    let token = harness::token(&s.app, &s.account, None).await;
    let body = matches(&[&token]);
    let (status, labels) = send(
        &s,
        report(&body, Some(&s.key.id), Some(s.key.sign(body.as_bytes()))),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{labels}");
    assert_eq!(
        labels,
        json!([{ "token_hash": sha256(&token), "token_type": "knotie_mcp_token", "label": "true_positive" }])
    );
    assert!(
        !labels.to_string().contains(&token),
        "a report's answer never echoes a token"
    );

    let mcp = harness::mcp(Arc::clone(&s.app));
    let answer = McpCaller {
        mcp: &mcp,
        token: token.clone(),
    }
    .send(|_| ())
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("found in public at https://github.com/octo/app/blob/main/.env"),
        "{message}"
    );

    let caller = Caller {
        app: &s.app,
        account: s.account.clone(),
    };
    let listed = caller.list_all().await;
    let leaked = listed.iter().find(|t| t["status"] == "revoked").unwrap();
    assert_eq!(leaked["revoked_reason"], "leaked");
    assert_eq!(
        leaked["leak_url"],
        "https://github.com/octo/app/blob/main/.env"
    );
    let (status, history) = caller.events(leaked["id"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let kinds: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["revoked", "created"], "newest first: {history}");
    assert_eq!(history["events"][0]["reason"], "leaked");
    assert_eq!(history["events"][0]["source"], "content");
    assert_eq!(
        history["events"][0]["url"],
        "https://github.com/octo/app/blob/main/.env"
    );
}

#[tokio::test]
async fn unsigned_wrongly_signed_or_tampered_reports_are_401_and_change_nothing() {
    let s = setup(None).await;
    let token = harness::token(&s.app, &s.account, None).await;
    let body = matches(&[&token]);
    let stranger = SigningKey::generate("key-a");
    let tampered = body.replace("main/.env", "main/.env2");
    for request in [
        report(&body, None, None),
        report(&body, Some(&s.key.id), None),
        report(&body, Some(&s.key.id), Some("bm90IGEgc2lnbmF0dXJl".into())),
        report(&body, Some(&s.key.id), Some(stranger.sign(body.as_bytes()))),
        report(
            &tampered,
            Some(&s.key.id),
            Some(s.key.sign(body.as_bytes())),
        ),
        report(
            &body,
            Some("key-unknown"),
            Some(s.key.sign(body.as_bytes())),
        ),
    ] {
        let (status, answer) = send(&s, request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
        assert_eq!(answer["error"]["code"], "bad_signature");
    }
    let mcp = harness::mcp(Arc::clone(&s.app));
    let answer = McpCaller { mcp: &mcp, token }.send(|_| ()).await;
    assert_eq!(answer.status, StatusCode::OK, "the token still works");
}

#[tokio::test]
async fn a_key_that_appears_after_a_refetch_is_accepted_and_the_keys_down_is_503() {
    let s = setup(None).await;
    let body = matches(&["kmcp_not_ours"]);
    let (status, _) = send(
        &s,
        report(&body, Some(&s.key.id), Some(s.key.sign(body.as_bytes()))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let rotated = SigningKey::generate("key-b");
    s.keys.publish(&[&s.key, &rotated]);
    let reads = s.keys.reads();
    let (status, labels) = send(
        &s,
        report(
            &body,
            Some(&rotated.id),
            Some(rotated.sign(body.as_bytes())),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{labels}");
    assert_eq!(
        s.keys.reads(),
        reads + 1,
        "read again once for the new identifier"
    );
    assert_eq!(labels[0]["label"], "false_positive");

    let down = setup(None).await;
    down.keys.set_up(false);
    let (status, answer) = send(
        &down,
        report(
            &body,
            Some(&down.key.id),
            Some(down.key.sign(body.as_bytes())),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
}

/// A report's status and its `Retry-After`, if any.
async fn status_and_wait(
    leaks: &Leaks,
    request: lambda_http::Request,
) -> (StatusCode, Option<u64>) {
    let response = leaks.handle(request).await.unwrap();
    let wait = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (response.status(), wait)
}

fn signed(key: &SigningKey, body: &str) -> lambda_http::Request {
    report(body, Some(&key.id), Some(key.sign(body.as_bytes())))
}

#[tokio::test]
async fn with_the_keys_document_down_garbage_reports_cost_one_read_a_period_and_say_when_to_retry()
{
    const PERIOD: Duration = Duration::from_secs(2);
    let s = setup_reading_every(None, PERIOD).await;
    s.keys.set_up(false);
    let body = matches(&["kmcp_not_ours"]);
    let started = std::time::Instant::now();
    // Identifiers of GitHub's shape (64 hex digits), signatures that are garbage.
    for n in 0..20 {
        let id = format!("{n:064x}");
        let garbage = report(&body, Some(&id), Some("MEUCIQ==".into()));
        let (status, wait) = status_and_wait(&s.leaks, garbage).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(wait.is_some_and(|w| (1..=2).contains(&w)), "{wait:?}");
    }
    let periods = started.elapsed().as_secs_f64() / PERIOD.as_secs_f64();
    assert!(
        (s.keys.reads() as f64) <= periods.floor() + 1.0,
        "{} reads of the keys document for 20 reports in {:?}",
        s.keys.reads(),
        started.elapsed()
    );
    // An identifier not of GitHub's shape is refused before anything is read.
    let before = s.keys.reads();
    for id in ["key-a", "../../etc/passwd", ""] {
        let (status, _) = send(&s, report(&body, Some(id), Some("MEUCIQ==".into()))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{id:?}");
    }
    assert_eq!(s.keys.reads(), before);
}

#[tokio::test]
async fn a_report_signed_with_a_key_rotated_since_the_last_read_is_503_then_revokes_on_resend() {
    const PERIOD: Duration = Duration::from_secs(2);
    let s = setup_reading_every(None, PERIOD).await;
    let first = matches(&["kmcp_not_ours"]);
    assert_eq!(send(&s, signed(&s.key, &first)).await.0, StatusCode::OK);
    // GitHub rotates its key just after that read.
    let rotated = SigningKey::generate("key-rotated");
    s.keys.publish(&[&s.key, &rotated]);
    let token = harness::token(&s.app, &s.account, None).await;
    let body = matches(&[&token]);
    let (status, wait) = status_and_wait(&s.leaks, signed(&rotated, &body)).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "not 401: GitHub does not redeliver a 4xx"
    );
    tokio::time::sleep(Duration::from_secs(wait.expect("Retry-After"))).await;
    let (status, labels) = send(&s, signed(&rotated, &body)).await;
    assert_eq!(status, StatusCode::OK, "{labels}");
    assert_eq!(labels[0]["label"], "true_positive");
    let mcp = harness::mcp(Arc::clone(&s.app));
    let caller = McpCaller {
        mcp: &mcp,
        token: token.clone(),
    };
    assert_eq!(
        caller.send(|_| ()).await.status,
        StatusCode::UNAUTHORIZED,
        "revoked by the resend"
    );
    // A key the fresh document still lacks is 401 — once a read has been possible.
    let stranger = SigningKey::generate("never-published");
    let (status, wait) = status_and_wait(&s.leaks, signed(&stranger, &body)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    tokio::time::sleep(Duration::from_secs(wait.unwrap())).await;
    let reads = s.keys.reads();
    assert_eq!(
        send(&s, signed(&stranger, &body)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&s, signed(&stranger, &body)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.keys.reads(),
        reads + 1,
        "one read decided it, the next report none"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_match_report_is_labelled_and_revoked_in_batches() {
    let proxy = Proxy::start(&common::env("KNOTIE_TEST_DYNAMODB"))
        .await
        .unwrap();
    let s = setup(Some(&proxy)).await;
    let mut live = Vec::new();
    for _ in 0..20 {
        live.push(harness::token(&s.app, &s.account, None).await);
    }
    let revoked = harness::token(&s.app, &s.account, None).await;
    Caller {
        app: &s.app,
        account: s.account.clone(),
    }
    .revoke_by_hint(&revoked)
    .await;
    // A well-formed token of nobody's (its checksum is right), and random matches.
    let foreign = knotie::model::token::Token::generate(&ring::rand::SystemRandom::new()).unwrap();
    let foreign = foreign.expose().to_owned();
    let mut tokens: Vec<String> = live.clone();
    tokens.push(revoked.clone());
    tokens.push(foreign.clone());
    while tokens.len() < 1_000 {
        tokens.push(format!("kmcp_{:046}", tokens.len()));
    }
    let mut entries: Vec<Value> = tokens
        .iter()
        .map(|t| json!({ "token": t, "type": "knotie_mcp_token", "url": "", "source": "commit" }))
        .collect();
    entries[999] = json!({ "type": 7 });
    let body = Value::from(entries).to_string();
    proxy.take_counts();
    let started = Instant::now();
    let (status, labels) = send(
        &s,
        report(&body, Some(&s.key.id), Some(s.key.sign(body.as_bytes()))),
    )
    .await;
    let took = started.elapsed();
    let requests = proxy.take_counts();
    assert_eq!(status, StatusCode::OK, "{labels}");
    let labels = labels.as_array().unwrap();
    assert_eq!(labels.len(), 1_000);
    let positives: Vec<usize> = labels
        .iter()
        .enumerate()
        .filter(|(_, l)| l["label"] == "true_positive")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        positives,
        (0..=20).collect::<Vec<_>>(),
        "live and revoked are ours, the rest not"
    );
    assert_eq!(labels[0]["token_hash"], sha256(&live[0]));
    let mcp = harness::mcp(Arc::clone(&s.app));
    for token in &live {
        let answer = McpCaller {
            mcp: &mcp,
            token: token.clone(),
        }
        .send(|_| ())
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    eprintln!("1,000 matches: {took:?}, DynamoDB requests {requests:?}");
    let total: usize = requests.values().sum();
    assert!(total <= 2 + 20 + 2, "{requests:?}");
}

#[tokio::test]
async fn a_holders_report_gets_the_same_answer_whatever_the_tokens_were() {
    let proxy = Proxy::start(&common::env("KNOTIE_TEST_DYNAMODB"))
        .await
        .unwrap();
    let s = setup(Some(&proxy)).await;
    let live = harness::token(&s.app, &s.account, None).await;
    let revoked = harness::token(&s.app, &s.account, None).await;
    Caller {
        app: &s.app,
        account: s.account.clone(),
    }
    .revoke_by_hint(&revoked)
    .await;
    let unknown = knotie::model::token::Token::generate(&ring::rand::SystemRandom::new()).unwrap();
    let path = format!(
        "{}/../events/credentials-revoke.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let kinds = [
        ("unknown", unknown.expose().to_owned()),
        ("revoked", revoked.clone()),
        ("garbage", "not a token at all".to_owned()),
        ("live", live.clone()),
    ];
    let mut answers = Vec::new();
    let mut times: Vec<(&str, Duration)> = Vec::new();
    for (kind, token) in &kinds {
        let mut event = sample.clone();
        event["body"] = json!({ "credentials": [token] }).to_string().into();
        // Repeats of the live token find it revoked already: time all kinds the same way.
        let mut took = Vec::new();
        for _ in 0..15 {
            proxy.take_counts();
            let started = Instant::now();
            let (response, later) = s.leaks.answer(common::request(&event)).await;
            took.push(started.elapsed());
            assert!(
                proxy.take_counts().is_empty(),
                "{kind}: answered before any token was looked up"
            );
            answers.push(common::reply(Ok(response)).await);
            later.expect("the revokes come after the answer").await;
        }
        took.sort();
        times.push((kind, took[took.len() / 2]));
    }
    for answer in &answers {
        assert_eq!(answer, &answers[0], "the same answer for every token");
        assert_eq!(answer.0, StatusCode::ACCEPTED);
    }
    let fastest = times.iter().map(|(_, t)| *t).min().unwrap();
    let slowest = times.iter().map(|(_, t)| *t).max().unwrap();
    eprintln!(
        "holder's report, median answer time by kind: {times:?}; spread {:?}",
        slowest - fastest
    );
    let mcp = harness::mcp(Arc::clone(&s.app));
    let answer = McpCaller {
        mcp: &mcp,
        token: live,
    }
    .send(|_| ())
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("reported as leaked"));

    let mut event = sample.clone();
    event["body"] = "{\"credentials\": []}".into();
    let (status, _) = common::reply(s.leaks.handle(common::request(&event)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    event["body"] = json!({ "credentials": ["x".repeat(70_000)] })
        .to_string()
        .into();
    let (status, _) = common::reply(s.leaks.handle(common::request(&event)).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_tokens_history_records_its_changes_and_is_the_accounts_alone() {
    let proxy = Proxy::start(&common::env("KNOTIE_TEST_DYNAMODB"))
        .await
        .unwrap();
    let s = setup(Some(&proxy)).await;
    let token = harness::token(&s.app, &s.account, None).await;
    let mcp = harness::mcp(Arc::clone(&s.app));
    let c = McpCaller {
        mcp: &mcp,
        token: token.clone(),
    };
    // A token's first two calls on an instance also ask for its rate decision.
    c.ok("get_account", json!({})).await;
    c.ok("get_account", json!({})).await;
    proxy.take_counts();
    c.ok("list_customers", json!({})).await;
    let read: usize = proxy.take_counts().values().sum();
    assert_eq!(
        read, 3,
        "a read-only call: authentication and its Query, no history write"
    );
    let customer = c
        .ok(
            "create_customer",
            json!({ "name": "Acme", "phone": "+1 415 555 0100" }),
        )
        .await;
    let made: usize = proxy.take_counts().values().sum();
    assert_eq!(
        made, 3,
        "the history event rides in the change's own transaction"
    );
    let id = customer["customer_id"].as_str().unwrap();
    c.ok(
        "update_customer",
        json!({ "customer_id": id, "status": "paused" }),
    )
    .await;

    let caller = Caller {
        app: &s.app,
        account: s.account.clone(),
    };
    let listed = caller.list_all().await;
    let token_id = listed[0]["id"].as_str().unwrap();
    let (status, history) = caller.events(token_id).await;
    assert_eq!(status, StatusCode::OK);
    let events = history["events"].as_array().unwrap();
    let tools: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["type"] == "changed")
        .map(|e| (e["tool"].as_str().unwrap(), e["target"].as_str().unwrap()))
        .collect();
    assert_eq!(tools, [("update_customer", id), ("create_customer", id)]);
    assert!(!history.to_string().contains("415"), "never the arguments");
    assert_eq!(events.last().unwrap()["type"], "created");

    let other = Caller {
        app: &s.app,
        account: common::account(&s.app, true).await,
    };
    let (status, _) = other.events(token_id).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another account's token is not found"
    );
}
