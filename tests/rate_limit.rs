//! Each token's rate limit: 429 with `Retry-After` and `RateLimit-*` past it, service again
//! after the wait, one count shared by every instance, and no DynamoDB request for a call
//! that is refused. The endpoint runs on a clock the tests set: a minute's wait is a
//! move of the clock, not a minute of the run.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use knotie::mcp::Mcp;
use knotie::App;
use knotie_local::proxy::Proxy;
use serde_json::json;

use knotie::model::time::{Clock, Timestamp};

use crate::common::mcp::{self as harness, Answer, McpCaller};
use crate::common::{self};

async fn limited_app(limit: u32) -> App {
    let mut app = common::app().await;
    app.config.rate_limit_per_minute = limit;
    app
}

fn header(answer: &Answer, name: &str) -> u64 {
    answer.headers[name].to_str().unwrap().parse().unwrap()
}

async fn ping(mcp: &Mcp, token: &str) -> Answer {
    McpCaller {
        mcp,
        token: token.to_owned(),
    }
    .rpc("tools/list", json!({}))
    .await
}

/// A clock standing 5 s into the next minute.
fn early_in_a_minute() -> Clock {
    let now = Timestamp::now().unix();
    Clock::set_at(Timestamp::from_unix(now - now % 60 + 65).unwrap())
}

#[tokio::test]
async fn a_token_past_its_rate_gets_429_with_retry_after_and_is_served_again_after_it() {
    let app = Arc::new(limited_app(30).await);
    let account = common::account(&app, true).await;
    let token = harness::token(&app, &account, None).await;
    let clock = early_in_a_minute();
    let mcp = harness::mcp_at(Arc::clone(&app), &clock);
    for i in 0..30 {
        let answer = ping(&mcp, &token).await;
        assert_eq!(answer.status, StatusCode::OK, "call {i}: {}", answer.body);
        assert_eq!(header(&answer, "ratelimit-limit"), 30);
        assert_eq!(header(&answer, "ratelimit-remaining"), 29 - i);
        assert!((1..=60).contains(&header(&answer, "ratelimit-reset")));
    }
    let refused = ping(&mcp, &token).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    // The 30 calls fill this minute: the next is allowed a 30th of a minute after it
    // ends, when the sliding minute has let go of one of them.
    let retry_after = header(&refused, "retry-after");
    let rest_of_minute = 55;
    assert!(
        (rest_of_minute..=rest_of_minute + 3).contains(&retry_after),
        "{retry_after} s, {rest_of_minute} s left in the minute"
    );
    assert_eq!(header(&refused, "ratelimit-remaining"), 0);
    assert_eq!(header(&refused, "ratelimit-reset"), retry_after);
    assert_eq!(
        refused.body["id"], 7,
        "a JSON-RPC error answering the request"
    );
    assert_eq!(refused.body["error"]["code"], -32029);
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("more than 30 calls in a minute")
            && message.contains(&format!("wait {retry_after} s")),
        "{message}"
    );
    // Still refused shortly before the wait is over, served once it is.
    clock.advance(time::Duration::seconds(retry_after as i64 - 2));
    assert_eq!(
        ping(&mcp, &token).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    clock.advance(time::Duration::seconds(2));
    let again = ping(&mcp, &token).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    // Another token of the account has its own count.
    let other = harness::token(&app, &account, None).await;
    assert_eq!(ping(&mcp, &other).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_count_is_shared_by_every_instance_and_a_refusal_costs_no_dynamodb_request() {
    let proxy = Proxy::start(&common::env("KNOTIE_TEST_DYNAMODB"))
        .await
        .unwrap();
    let clean = limited_app(10).await;
    let account = common::account(&clean, true).await;
    let app = Arc::new(App {
        store: common::store_at(&proxy.url()).await,
        ..clean
    });
    let token = harness::token(&app, &account, None).await;
    // Two instances of the function, each with its own memory, one table.
    let (a, b) = (
        harness::mcp(Arc::clone(&app)),
        harness::mcp(Arc::clone(&app)),
    );
    for _ in 0..10 {
        assert_eq!(ping(&a, &token).await.status, StatusCode::OK);
    }
    // B has not seen the token: its first call asks the store before it is admitted,
    // which holds A's ten — the limit — so it is refused, and B knows the count.
    assert_eq!(ping(&b, &token).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(ping(&b, &token).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(ping(&a, &token).await.status, StatusCode::TOO_MANY_REQUESTS);
    proxy.take_counts();
    for mcp in [&a, &b, &a] {
        assert_eq!(
            ping(mcp, &token).await.status,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    let counts = proxy.take_counts();
    assert!(counts.is_empty(), "refused before any read: {counts:?}");
}

/// Four instances calling with one token as fast as they can, until each is refused:
/// how far past the limit the calls admitted in the minute go — within a twentieth of it
/// (`make bench` simulates 10 to 100 instances).
#[tokio::test]
async fn four_instances_stay_within_a_twentieth_of_the_limit() {
    const CAP: Duration = Duration::from_secs(30);
    // Every admitted call falls in one minute: the clock stands still in it.
    let clock = early_in_a_minute();
    let started = tokio::time::Instant::now();
    let mut runs = tokio::task::JoinSet::new();
    for limit in [60u32, 120] {
        let clock = clock.clone();
        runs.spawn(async move {
            let app = Arc::new(limited_app(limit).await);
            let account = common::account(&app, true).await;
            let token = harness::token(&app, &account, None).await;
            let mut instances = tokio::task::JoinSet::new();
            for _ in 0..4 {
                let (mcp, token) = (harness::mcp_at(Arc::clone(&app), &clock), token.clone());
                instances.spawn(async move {
                    // One call at a time, as a Lambda instance serves them.
                    let (mut admitted, mut refused) = (0u32, 0u32);
                    while refused < 5 && started.elapsed() < CAP {
                        match ping(&mcp, &token).await.status {
                            StatusCode::OK => admitted += 1,
                            StatusCode::TOO_MANY_REQUESTS => refused += 1,
                            other => panic!("{other}"),
                        }
                    }
                    admitted
                });
            }
            let mut admitted = 0;
            while let Some(done) = instances.join_next().await {
                admitted += done.unwrap();
            }
            (limit, admitted)
        });
    }
    while let Some(run) = runs.join_next().await {
        let (limit, admitted) = run.unwrap();
        let bound = limit + (limit / 20).max(1);
        eprintln!(
            "rate limit {limit}/min, 4 instances: {admitted} admitted in {:?} (+{} over the limit); bound {bound}",
            started.elapsed(),
            admitted.saturating_sub(limit)
        );
        assert!(admitted >= limit, "the limit itself is served: {admitted}");
        assert!(admitted <= bound, "{admitted} admitted, more than {bound}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(34),
        "the run stopped at its cap"
    );
}
