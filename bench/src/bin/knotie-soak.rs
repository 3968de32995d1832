//! `make soak`: a bounded mixed load on the local stack — concurrent clients calling every
//! tool, generating, using and revoking tokens, and allocating credits (retrying some
//! allocations with the same key) — for a fixed time, then the invariants: no unexpected
//! 5xx, no call accepted with a token after its revoke's 204, the active-token counter
//! equal to the active tokens, every key allocated once, credits conserved, and the
//! server's memory at the end beside its memory at the start.
//!
//! Settings (environment): `SOAK_SECONDS` (180), `SOAK_CLIENTS` (32), `RUST_SERVER`
//! (the `knotie-bench-server` binary), `DYNAMODB_ENDPOINT`, `TABLE_NAME`, `OUT_DIR`.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use knotie::model::account::Account;
use knotie::model::customers::CustomerFields;
use knotie::model::ids::AccountId;
use knotie::model::page::PageRequest;
use knotie::model::roles::Identity;
use knotie::model::time::Timestamp;
use knotie::model::tokens::NewToken;
use knotie::rules::{credits, customers, lifecycle};
use knotie::store::keys;
use knotie_bench::measure::{free_port, percentile, rss_mb};
use knotie_local::{BoxError, Local};
use serde_json::{json, Value};

const ACCOUNT: &str = "acct_soak";
const POOL: i64 = 100_000_000;
const READS: [(&str, &str); 8] = [
    ("get_account", "{}"),
    ("list_customers", "{}"),
    ("list_agents", "{}"),
    ("get_credit_balances", "{}"),
    ("list_credit_transactions", r#"{"limit": 5}"#),
    ("get_usage_analytics", r#"{"group_by": "customer"}"#),
    ("list_recent_calls", "{}"),
    ("get_customer", "CUSTOMER"),
];

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What the clients saw.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    requests: usize,
    unexpected: Vec<String>,
    accepted_after_revoke: usize,
    tokens_revoked: usize,
    /// Each key that allocated, and its amount.
    allocated: BTreeMap<String, i64>,
    replays: usize,
    /// Allocations answered "busy, try again" (and then sent again).
    busy: usize,
}

struct Client_ {
    http: Client<HttpConnector, Full<Bytes>>,
    base: String,
    token: String,
    customers: Vec<String>,
    tally: Mutex<Tally>,
}

impl Client_ {
    async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> Result<(u16, Value, Duration), BoxError> {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25")
            .header("x-dev-account", ACCOUNT);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        let started = Instant::now();
        let response = self.http.request(request).await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        let elapsed = started.elapsed();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let mut tally = self.tally.lock().unwrap_or_else(|p| p.into_inner());
        tally.requests += 1;
        if status >= 500 {
            tally
                .unexpected
                .push(format!("{method} {path}: {status} {value}"));
        }
        Ok((status, value, elapsed))
    }

    async fn tool(
        &self,
        token: &str,
        name: &str,
        arguments: Value,
    ) -> Result<(u16, Value), BoxError> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                           "params": { "name": name, "arguments": arguments } });
        let (status, value, elapsed) = self
            .send("POST", "/mcp", Some(token), Some(body.to_string()))
            .await?;
        self.tally().latencies.push(elapsed);
        Ok((status, value))
    }

    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn unexpected(&self, what: String) {
        self.tally().unexpected.push(what);
    }

    /// One client's loop until the deadline.
    async fn run(&self, index: u64, deadline: Instant) -> Result<(), BoxError> {
        let mut rng = fastrand::Rng::with_seed(index);
        let mut n = 0;
        let mut last_key: Option<(String, String, i64)> = None;
        while Instant::now() < deadline {
            n += 1;
            match rng.u8(0..100) {
                0..70 => {
                    let (name, arguments) = READS[rng.usize(0..READS.len())];
                    let arguments = match arguments {
                        "CUSTOMER" => {
                            json!({ "customer_id": self.customers[rng.usize(0..self.customers.len())] })
                        }
                        other => serde_json::from_str(other)?,
                    };
                    let (status, value) = self.tool(&self.token, name, arguments).await?;
                    if status != 200
                        || value["result"]["isError"] == true
                        || value.get("error").is_some()
                    {
                        self.unexpected(format!("{name}: {status} {value}"));
                    }
                }
                70..80 => self.churn_a_token(index, n).await?,
                _ => {
                    // A quarter of the time, the previous allocation again, as a client
                    // that lost the answer would: it must be a replay, not a second move.
                    let (key, customer, amount) = match (&last_key, rng.u8(0..4)) {
                        (Some(last), 0) => last.clone(),
                        _ => (
                            format!("soak-{index}-{n}"),
                            self.customers[rng.usize(0..self.customers.len())].clone(),
                            rng.i64(1..=10),
                        ),
                    };
                    let arguments = json!({ "customer_id": customer, "amount": amount, "idempotency_key": key });
                    let (status, value) = self.allocate(arguments).await?;
                    let result = &value["result"]["structuredContent"];
                    if status != 200 || !result.is_object() || value["result"]["isError"] == true {
                        self.unexpected(format!("allocate {key}: {status} {value}"));
                    } else {
                        let mut tally = self.tally();
                        let first = !tally.allocated.contains_key(&key);
                        if result["replayed"] == first {
                            tally.unexpected.push(format!(
                                "allocate {key}: replayed={} the first time={first}",
                                result["replayed"]
                            ));
                        }
                        if first {
                            tally.allocated.insert(key.clone(), amount);
                        } else {
                            tally.replays += 1;
                        }
                    }
                    last_key = Some((key, customer, amount));
                }
            }
        }
        Ok(())
    }

    /// An allocation, sent again with the same key (as the answer asks) when it says the
    /// ledger is busy: a 503 for contention, never for a wrong answer.
    async fn allocate(&self, arguments: Value) -> Result<(u16, Value), BoxError> {
        for _ in 0..5 {
            let (status, value) = self
                .tool(&self.token, "allocate_credits", arguments.clone())
                .await?;
            let busy = value["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("try again"));
            if !busy {
                return Ok((status, value));
            }
            self.tally().busy += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.tool(&self.token, "allocate_credits", arguments).await
    }

    /// Generate a token, use it, revoke it, and use it again: refused, every time.
    async fn churn_a_token(&self, index: u64, n: u64) -> Result<(), BoxError> {
        let body = json!({ "name": format!("soak {index}-{n}"), "scopes": ["customers:read"] });
        let (status, created, _) = self
            .send("POST", "/mcp-tokens", None, Some(body.to_string()))
            .await?;
        if status != 201 {
            self.unexpected(format!("generate: {status} {created}"));
            return Ok(());
        }
        let token = created["token"].as_str().unwrap_or_default().to_owned();
        let id = created["id"].as_str().unwrap_or_default().to_owned();
        let (status, value) = self
            .tool(&token, "list_customers", json!({ "limit": 1 }))
            .await?;
        if status != 200 {
            self.unexpected(format!("a new token: {status} {value}"));
        }
        let (status, _, _) = self
            .send("DELETE", &format!("/mcp-tokens/{id}"), None, None)
            .await?;
        if status != 204 {
            self.unexpected(format!("revoke: {status}"));
            return Ok(());
        }
        let (status, _) = self
            .tool(&token, "list_customers", json!({ "limit": 1 }))
            .await?;
        let mut tally = self.tally();
        tally.tokens_revoked += 1;
        if status != 401 {
            tally.accepted_after_revoke += 1;
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let seconds = setting("SOAK_SECONDS", 180);
    let clients = setting("SOAK_CLIENTS", 32);
    let local = Local::from_env().await?;
    let store = &local.app.store;
    store.create_table_if_missing().await?;
    let account = AccountId::parse(ACCOUNT).ok_or("account id")?;
    let profile = Account {
        id: account.clone(),
        name: "Soak Agency".into(),
        plan: "pro".into(),
        api_access: true,
        credit_pool: POOL,
        policy: knotie::model::policy::Policy::default(),
    };
    store.put_account(&profile, Timestamp::now()).await?;
    knotie_local::seed::account_data(store, &profile, 300, Timestamp::now()).await?;
    // The seed funds the pool with what it allocates; the clients need far more.
    store.put_account(&profile, Timestamp::now()).await?;
    let pepper = local.app.pepper.get().await?;
    let mut customer_ids = Vec::new();
    for name in ["Soak One", "Soak Two", "Soak Three"] {
        let fields = CustomerFields {
            name: Some(name.into()),
            ..Default::default()
        };
        let customer = customers::create(store, &account, fields, Timestamp::now(), None).await?;
        customer_ids.push(customer.customer_id.to_string());
    }
    let identity = Identity {
        account: account.clone(),
        user: "soak".into(),
        role: knotie::model::roles::Role::Owner,
    };
    let new = NewToken::from_json(br#"{"name": "soak"}"#)?;
    let token = lifecycle::generate(store, pepper, &identity, new, Timestamp::now())
        .await?
        .token;
    let before = credits::balances(store, &account).await?;

    let port = free_port();
    let mut server = Command::new(std::env::var("RUST_SERVER")?)
        .env("PORT", port.to_string())
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .spawn()?;
    let client = Arc::new(Client_ {
        http: Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(256)
            .build_http(),
        base: format!("http://127.0.0.1:{port}"),
        token: token.expose().to_owned(),
        customers: customer_ids,
        tally: Mutex::default(),
    });
    let up = Instant::now() + Duration::from_secs(30);
    while client
        .tool(&client.token, "get_account", json!({}))
        .await
        .is_err()
    {
        if Instant::now() > up {
            return Err("the server did not come up".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("soak: {clients} clients for {seconds} s");
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..clients {
        let client = Arc::clone(&client);
        tasks.spawn(async move { client.run(index, deadline).await });
    }
    // Memory once the load is under way, then every few seconds until the end.
    let mut rss = Vec::new();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(seconds.clamp(1, 50) / 10 + 1)).await;
        rss.push(rss_mb(server.id(), "VmRSS:"));
    }
    for result in tasks.join_all().await {
        result?;
    }
    let wall = started.elapsed();
    let _ = server.kill();
    let _ = server.wait();

    // The invariants, read straight from the store.
    let mut violations = Vec::new();
    let tally = std::mem::take(&mut *client.tally());
    if !tally.unexpected.is_empty() {
        violations.push(format!(
            "{} unexpected answers, first: {}",
            tally.unexpected.len(),
            tally.unexpected[0]
        ));
    }
    if tally.accepted_after_revoke > 0 {
        violations.push(format!(
            "{} calls accepted after their token's revoke",
            tally.accepted_after_revoke
        ));
    }
    let mut active = 0;
    let mut request = PageRequest {
        limit: Some(100),
        cursor: None,
    };
    loop {
        let (active_only, now) = (lifecycle::Filter::ACTIVE, Timestamp::now());
        let page = lifecycle::list(store, pepper, &identity, &request, active_only, now).await?;
        active += page.items.len();
        match page.next_cursor {
            Some(next) => request.cursor = Some(next),
            None => break,
        }
    }
    let counter = counter(&local, &account).await?;
    if counter != active as i64 {
        violations.push(format!(
            "the active-token counter says {counter}, the tokens {active}"
        ));
    }
    let after = credits::balances(store, &account).await?;
    if after.pool + after.allocated != before.pool + before.allocated {
        violations.push(format!(
            "credits not conserved: {} + {} before, {} + {} after",
            before.pool, before.allocated, after.pool, after.allocated
        ));
    }
    // Every key that said it allocated left its idempotency record: sent again for another
    // customer, it is refused as reused, not allocated anew.
    let mut missing = Vec::new();
    for (key, amount) in &tally.allocated {
        let request = credits::AllocationRequest {
            customer_id: "cus_00000000000000000000000000",
            amount: *amount,
            idempotency_key: key,
            note: None,
        };
        // A different customer: refused if the key is there, an error naming it if not.
        match credits::allocate(store, &account, "soak", request, Timestamp::now(), None).await {
            Err(knotie::Error::Conflict { .. }) => {}
            other => missing.push(format!("{key}: {other:?}")),
        }
    }
    if !missing.is_empty() {
        violations.push(format!(
            "{} allocations left no record, first: {}",
            missing.len(),
            missing[0]
        ));
    }
    let moved: i64 = tally.allocated.values().sum();
    if before.pool - after.pool != moved {
        violations.push(format!(
            "the pool gave {} credits, the clients allocated {moved} (each key once)",
            before.pool - after.pool
        ));
    }

    let summary = json!({
        "clients": clients,
        "seconds": wall.as_secs_f64().round(),
        "requests": tally.requests,
        "tools_calls": tally.latencies.len(),
        "p50_ms": percentile(&tally.latencies, 50).as_secs_f64() * 1e3,
        "p99_ms": percentile(&tally.latencies, 99).as_secs_f64() * 1e3,
        "tokens_generated_used_and_revoked": tally.tokens_revoked,
        "accepted_after_revoke": tally.accepted_after_revoke,
        "allocations": tally.allocated.len(),
        "allocation_replays": tally.replays,
        "allocations_busy_then_retried": tally.busy,
        "unexpected": tally.unexpected.len(),
        "rss_mb_start": rss.first(),
        "rss_mb_end": rss.last(),
        "rss_mb_samples": rss,
        "active_tokens": active,
        "violations": violations,
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    if let Ok(dir) = std::env::var("OUT_DIR") {
        std::fs::write(
            format!("{dir}/soak.json"),
            serde_json::to_string_pretty(&summary)? + "\n",
        )?;
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!("soak failed: {}", violations.join("; ")).into())
    }
}

/// The active-token counter as stored.
async fn counter(local: &Local, account: &AccountId) -> Result<i64, BoxError> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let client = knotie::aws::dynamodb_at(&knotie::aws::local_sdk_config().await, &local.dynamodb);
    let item = client
        .get_item()
        .table_name(local.app.store.table())
        .key(keys::PK, AttributeValue::S(keys::account(account)))
        .key(keys::SK, AttributeValue::S(keys::TOKEN_COUNTER.into()))
        .consistent_read(true)
        .send()
        .await?
        .item
        .ok_or("no counter")?;
    Ok(item
        .get("active")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0))
}
