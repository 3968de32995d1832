//! The rate limit across instances, simulated in one process against DynamoDB Local: `n`
//! instances of the MCP function's [`Limiter`], each with its own memory, share one
//! token's counts through the store as deployed instances do. Each serves one call at a
//! time as a Lambda instance does: the limiter's check, the token's read, the admission,
//! then the counts' send (which Lambda runs after the answer and before the next event).
//! The clock stands still early in a minute, so every call falls in it: a burst from
//! every instance at once, the limiter's worst case.

use std::sync::Arc;

use knotie::mcp::limiter::Limiter;
use knotie::model::account::Account;
use knotie::model::ids::AccountId;
use knotie::model::roles::{Identity, Role};
use knotie::model::time::Timestamp;
use knotie::model::tokens::NewToken;
use knotie::rules::lifecycle;
use knotie::store::Store;
use knotie_local::{BoxError, Local};
use serde_json::{json, Value};

/// Instances, and limits a minute, simulated.
pub const INSTANCES: [usize; 3] = [10, 50, 100];
pub const LIMITS: [u32; 3] = [60, 120, 600];
/// An instance stops once refused this many times in a row: the minute is spent.
const REFUSALS: u32 = 3;

/// Every instance count against every limit: calls admitted in the minute.
pub async fn simulate(local: &Local) -> Result<Value, BoxError> {
    let store = Arc::new(local.app.store.clone());
    let pepper = local.app.pepper.get().await?;
    let mut rows = Vec::new();
    for (i, &limit) in LIMITS.iter().enumerate() {
        // An account per limit: each holds one token per instance count.
        let account = AccountId::parse(&format!("acct_limits_{i}")).ok_or("account id")?;
        store
            .put_account(
                &Account {
                    id: account.clone(),
                    name: "Limits".into(),
                    plan: "pro".into(),
                    api_access: true,
                    credit_pool: 0,
                    policy: Default::default(),
                },
                Timestamp::now(),
            )
            .await?;
        for &instances in &INSTANCES {
            let identity = Identity {
                account: account.clone(),
                user: "limits".into(),
                role: Role::Owner,
            };
            let new = NewToken::from_json(br#"{"name": "limits"}"#)?;
            let token = lifecycle::generate(&store, pepper, &identity, new, Timestamp::now())
                .await?
                .token;
            let hash = pepper.hash(&token);
            let admitted = burst(&store, &hash, instances, limit).await?;
            let batch = u64::from((limit / 20).max(1));
            rows.push(json!({
                "instances": instances,
                "limit": limit,
                "admitted": admitted,
                "over": admitted.saturating_sub(u64::from(limit)),
                "over_pct": ((admitted as f64 / f64::from(limit) - 1.0) * 1000.0).round() / 10.0,
                "stated_bound": u64::from(limit) + instances as u64 * batch,
            }));
        }
    }
    Ok(Value::Array(rows))
}

/// One minute's burst of `instances` calling one token as fast as each can: the calls
/// admitted.
async fn burst(
    store: &Arc<Store>,
    hash: &knotie::model::hashing::TokenHash,
    instances: usize,
    limit: u32,
) -> Result<u64, BoxError> {
    // One second into a minute, the same for every instance.
    let now = Timestamp::now().unix();
    let now_unix = now - now.rem_euclid(60) + 61;
    let now_ms = now_unix * 1000;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..instances {
        let (store, hash) = (Arc::clone(store), hash.clone());
        tasks.spawn(async move {
            let limiter = Limiter::new(limit);
            let (mut admitted, mut refused) = (0u64, 0u32);
            while refused < REFUSALS {
                if limiter.check(&hash, now_ms).is_err() {
                    refused += 1;
                    continue;
                }
                let Some(grant) = store.find_token(&hash).await? else {
                    return Err("the token is gone".into());
                };
                match limiter
                    .admit_with(&store, &hash, &grant.token_id, now_ms)
                    .await
                {
                    Ok((_, send)) => {
                        admitted += 1;
                        refused = 0;
                        limiter.send(&store, send, now_unix).await;
                    }
                    Err(_) => refused += 1,
                }
            }
            Ok::<u64, BoxError>(admitted)
        });
    }
    let mut admitted = 0;
    while let Some(done) = tasks.join_next().await {
        admitted += done??;
    }
    Ok(admitted)
}
