//! Faults injected between the functions and DynamoDB — throttling, 500s, latency, reset
//! connections, responses lost after the write committed — while tokens are generated,
//! used and revoked, customers changed and credits allocated, all at once. Afterwards
//! nothing is lost, duplicated or misreported: every request that failed said 503 (or
//! its MCP equivalent), and the data obeys its invariants.

use std::collections::BTreeSet;
use std::sync::Arc;

use http::StatusCode;
use knotie::model::customers::CustomerFields;
use knotie::model::hashing::Pepper;
use knotie::model::page::PageRequest;
use knotie::model::time::Timestamp;
use knotie::model::tokens::TokenStatus;
use knotie::rules::lifecycle::Listed;
use knotie::rules::{credits, customers, lifecycle};
use knotie::secrets::PepperSource;
use knotie::{App, Error};
use knotie_local::proxy::{Faults, Proxy};
use serde_json::Value;
use tokio::task::JoinSet;

use crate::common::mcp::{self as harness, McpCaller};
use crate::common::{self, Caller};

const GRANTED: i64 = 100_000;
/// Three requests in ten meet a fault: far worse than any real day.
const FAULTS: Faults = Faults::Random {
    per_mille: 300,
    seed: 0x6b6e_6f74,
};

enum Outcome {
    Generated(StatusCode, Value),
    Revoked(String, StatusCode),
    Called {
        live: bool,
        status: StatusCode,
        body: Value,
    },
    Allocated(String, Result<i64, Error>),
    Renamed(Result<String, Error>),
}

fn unavailable(e: &Error) -> bool {
    matches!(e, Error::Unavailable { .. })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_injected_faults_nothing_is_lost_duplicated_or_misreported() {
    let proxy = Proxy::start(&common::env("KNOTIE_TEST_DYNAMODB"))
        .await
        .unwrap();
    let clean = Arc::new(common::app().await);
    let faulty = Arc::new(App {
        config: common::config(),
        store: common::store_at(&proxy.url()).await,
        pepper: PepperSource::Fixed(Pepper::new(common::PEPPER).unwrap()),
    });
    let account = common::account(&clean, true).await;
    let mut profile = clean.store.account(&account).await.unwrap().unwrap();
    profile.credit_pool = GRANTED;
    clean
        .store
        .put_account(&profile, Timestamp::now())
        .await
        .unwrap();
    let mut customer_ids = Vec::new();
    for name in ["Acme", "Globex", "Initech"] {
        let fields = CustomerFields {
            name: Some(name.into()),
            ..Default::default()
        };
        let c = customers::create(&clean.store, &account, fields, Timestamp::now(), None);
        customer_ids.push(c.await.unwrap().customer_id.to_string());
    }
    let live = harness::token(&clean, &account, None).await;
    let dead = harness::token(&clean, &account, None).await;
    let mut to_revoke = Vec::new();
    for _ in 0..8 {
        let (status, body) = Caller {
            app: &clean,
            account: account.clone(),
        }
        .generate_named("to revoke")
        .await;
        assert_eq!(status, StatusCode::CREATED);
        to_revoke.push(body["id"].as_str().unwrap().to_owned());
    }
    let dead_id = revoke_by_token(&clean, &account, &dead).await;
    let faulty_mcp = Arc::new(harness::mcp(Arc::clone(&faulty)));

    proxy.set(FAULTS);
    let mut tasks = JoinSet::new();
    for i in 0..16 {
        let (app, account) = (Arc::clone(&faulty), account.clone());
        tasks.spawn(async move {
            let caller = Caller { app: &app, account };
            let (status, body) = caller.generate_named(&format!("under faults {i}")).await;
            Outcome::Generated(status, body)
        });
    }
    for id in to_revoke.clone() {
        let (app, account) = (Arc::clone(&faulty), account.clone());
        tasks.spawn(async move {
            let (status, _) = Caller { app: &app, account }.revoke(&id).await;
            Outcome::Revoked(id, status)
        });
    }
    for (i, token) in std::iter::repeat_n(live.clone(), 12)
        .chain(std::iter::repeat_n(dead.clone(), 4))
        .enumerate()
    {
        let mcp = Arc::clone(&faulty_mcp);
        let is_live = token == live;
        tasks.spawn(async move {
            let answer = McpCaller { mcp: &mcp, token }.send(|_| ()).await;
            let _ = i;
            Outcome::Called {
                live: is_live,
                status: answer.status,
                body: answer.body,
            }
        });
    }
    // Each key is sent twice at once: a client retrying while its first try is in flight.
    for key in 0..10 {
        for _ in 0..2 {
            let (app, account) = (Arc::clone(&faulty), account.clone());
            let customer = customer_ids[key % customer_ids.len()].clone();
            tasks.spawn(async move {
                let key = format!("fault-key-{key}");
                let request = allocation(&customer, &key);
                let allocated = credits::allocate(
                    &app.store,
                    &account,
                    "test",
                    request,
                    Timestamp::now(),
                    None,
                );
                let allocated = allocated.await.map(|a| a.transaction.amount);
                Outcome::Allocated(key, allocated)
            });
        }
    }
    for i in 0..9 {
        let (app, account) = (Arc::clone(&faulty), account.clone());
        let customer = customer_ids[i % customer_ids.len()].clone();
        tasks.spawn(async move {
            let name = format!("Renamed {i}");
            let fields = CustomerFields {
                name: Some(name.clone()),
                ..Default::default()
            };
            let renamed = customers::update(
                &app.store,
                &account,
                &customer,
                fields,
                Timestamp::now(),
                None,
            );
            Outcome::Renamed(renamed.await.map(|c| c.name))
        });
    }
    let outcomes = tasks.join_all().await;
    proxy.set(Faults::None);
    let injected = proxy.injected();
    eprintln!("faults injected: {injected:?}");
    assert!(
        injected.values().sum::<usize>() >= 20,
        "too few faults: {injected:?}"
    );

    // Every answer was right, or a 503.
    let mut generated = Vec::new();
    let mut revoked = BTreeSet::new();
    let mut allocation_keys = BTreeSet::new();
    let mut failures = 0;
    for outcome in &outcomes {
        match outcome {
            Outcome::Generated(status, body) => match *status {
                StatusCode::CREATED => generated.push(body["token"].as_str().unwrap().to_owned()),
                StatusCode::SERVICE_UNAVAILABLE => failures += 1,
                other => panic!("generate answered {other}: {body}"),
            },
            Outcome::Revoked(id, status) => match *status {
                StatusCode::NO_CONTENT => {
                    revoked.insert(id.clone());
                }
                StatusCode::SERVICE_UNAVAILABLE => failures += 1,
                other => panic!("revoke answered {other}"),
            },
            Outcome::Called { live, status, body } => match (*live, *status) {
                (_, StatusCode::SERVICE_UNAVAILABLE) => failures += 1,
                (true, StatusCode::OK) if body.get("result").is_some() => {}
                (true, StatusCode::OK) => {
                    let message = body["error"]["message"].as_str().unwrap_or_default();
                    assert!(
                        message.contains("unavailable"),
                        "a live token's call: {body}"
                    );
                    failures += 1;
                }
                (false, StatusCode::UNAUTHORIZED) => {}
                (live, status) => panic!("live={live}: {status} {body}"),
            },
            Outcome::Allocated(key, result) => match result {
                Ok(amount) => {
                    assert_eq!(*amount, 100 + key_amount(key));
                    allocation_keys.insert(key.clone());
                }
                Err(e) if unavailable(e) => failures += 1,
                Err(e) => panic!("allocate {key}: {e:?}"),
            },
            Outcome::Renamed(result) => match result {
                Ok(name) => assert!(name.starts_with("Renamed")),
                Err(e) if unavailable(e) => failures += 1,
                Err(e) => panic!("rename: {e:?}"),
            },
        }
    }
    eprintln!("{} requests, {failures} answered 503", outcomes.len());

    // What was said to be done, is.
    let mcp = harness::mcp(Arc::clone(&clean));
    for token in &generated {
        let answer = McpCaller {
            mcp: &mcp,
            token: token.clone(),
        }
        .send(|_| ())
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    let caller = Caller {
        app: &clean,
        account: account.clone(),
    };
    // The revokes that answered 503, again (one that was done anyway is now deleted from
    // the list, its record kept).
    for id in to_revoke.iter().filter(|id| !revoked.contains(*id)) {
        let (status, _) = caller.revoke(id).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    for id in revoked.iter().chain(&to_revoke).chain([&dead_id]) {
        let id = knotie::model::ids::TokenId::parse(id).unwrap();
        let record = clean.store.token(&account, &id).await.unwrap().unwrap();
        assert!(record.revoked_at.is_some(), "{id}");
    }
    let records = all_tokens(&clean, &account).await;

    // The counter is the number of active tokens, and both items of a token agree.
    let active = records
        .iter()
        .filter(|r| r.standing.status() == TokenStatus::Active)
        .count();
    assert_eq!(common::active_counter(&account).await, active as i64);
    for Listed { record, .. } in &records {
        let grant = clean.store.find_token(&record.hash).await.unwrap();
        let grant = grant.unwrap_or_else(|| panic!("{} has no lookup item", record.id));
        assert_eq!(grant.revoked, record.revoked_at.is_some(), "{}", record.id);
        assert_eq!(grant.token_id, record.id);
    }

    // Every key, sent once more, moved its credits exactly once; credits are conserved.
    for key in 0..10 {
        let key = format!("fault-key-{key}");
        let customer = &customer_ids[key_index(&key) % customer_ids.len()];
        let request = allocation(customer, &key);
        let again = credits::allocate(
            &clean.store,
            &account,
            "test",
            request,
            Timestamp::now(),
            None,
        );
        let again = again.await.unwrap();
        assert!(
            again.replayed || !allocation_keys.contains(&key),
            "{key} said done but allocated again"
        );
    }
    let balances = credits::balances(&clean.store, &account).await.unwrap();
    let expected: i64 = (0..10)
        .map(|k| 100 + key_amount(&format!("fault-key-{k}")))
        .sum();
    assert_eq!(
        balances.allocated, expected,
        "credits moved twice or not at all"
    );
    assert_eq!(
        balances.pool + balances.allocated,
        GRANTED,
        "credits not conserved"
    );
    let pepper = clean.pepper.get().await.unwrap();
    let request = PageRequest {
        limit: Some(100),
        cursor: None,
    };
    let ledger = credits::transactions(&clean.store, pepper, &account, None, &request);
    assert_eq!(
        ledger.await.unwrap().items.len(),
        10,
        "one ledger entry per key"
    );
}

/// What each fault-test key allocates: its own amount, so a key moved twice shows.
fn allocation<'a>(customer: &'a str, key: &'a str) -> credits::AllocationRequest<'a> {
    credits::AllocationRequest {
        customer_id: customer,
        amount: 100 + key_amount(key),
        idempotency_key: key,
        note: None,
    }
}

fn key_index(key: &str) -> usize {
    key.rsplit('-').next().unwrap().parse().unwrap()
}

fn key_amount(key: &str) -> i64 {
    key_index(key) as i64
}

async fn all_tokens(app: &App, account: &knotie::model::ids::AccountId) -> Vec<Listed> {
    let identity = knotie::model::roles::Identity {
        account: account.clone(),
        user: "user_test".into(),
        role: knotie::model::roles::Role::Owner,
    };
    let pepper = app.pepper.get().await.unwrap();
    let mut records = Vec::new();
    let mut cursor = None;
    loop {
        let request = PageRequest {
            limit: Some(100),
            cursor,
        };
        let (all, now) = (lifecycle::Filter::ALL, Timestamp::now());
        let page = lifecycle::list(&app.store, pepper, &identity, &request, all, now)
            .await
            .unwrap();
        records.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return records,
        }
    }
}

/// Revokes the token with this secret (found through the listing by its hint).
async fn revoke_by_token(
    app: &App,
    account: &knotie::model::ids::AccountId,
    token: &str,
) -> String {
    let hint = knotie::model::token::Token::parse(token).unwrap().hint();
    let records = all_tokens(app, account).await;
    let id = records
        .iter()
        .find(|r| r.record.hint == hint)
        .unwrap()
        .record
        .id
        .to_string();
    let (status, _) = Caller {
        app,
        account: account.clone(),
    }
    .revoke(&id)
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    id
}

/// The same key sent twice at once, on a pool that holds one allocation: whichever call
/// loses the race answers with the winner's result, not "not enough credits".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_sent_twice_at_once_answers_both_with_one_allocation() {
    let app = Arc::new(common::app().await);
    for round in 0..8 {
        let account = common::account(&app, true).await;
        let mut profile = app.store.account(&account).await.unwrap().unwrap();
        profile.credit_pool = 150;
        app.store
            .put_account(&profile, Timestamp::now())
            .await
            .unwrap();
        let fields = CustomerFields {
            name: Some("Acme".into()),
            ..Default::default()
        };
        let customer = customers::create(&app.store, &account, fields, Timestamp::now(), None);
        let customer = customer.await.unwrap().customer_id.to_string();
        let mut tasks = JoinSet::new();
        for _ in 0..2 {
            let (app, account, customer) = (Arc::clone(&app), account.clone(), customer.clone());
            tasks.spawn(async move {
                let request = credits::AllocationRequest {
                    customer_id: &customer,
                    amount: 100,
                    idempotency_key: "twice",
                    note: None,
                };
                credits::allocate(
                    &app.store,
                    &account,
                    "test",
                    request,
                    Timestamp::now(),
                    None,
                )
                .await
            });
        }
        let answers = tasks.join_all().await;
        let ids: BTreeSet<String> = answers
            .iter()
            .map(|a| match a {
                Ok(a) => a.transaction.transaction_id.to_string(),
                Err(e) => panic!("round {round}: {e:?}"),
            })
            .collect();
        assert_eq!(ids.len(), 1, "round {round}: two allocations for one key");
        let balances = credits::balances(&app.store, &account).await.unwrap();
        assert_eq!((balances.pool, balances.allocated), (50, 100));
    }
}
