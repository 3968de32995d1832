//! The store: the only code that speaks DynamoDB. It takes and gives the model's types —
//! every attribute name, key and expression stays in here — with one typed method per
//! thing the rules need, and one mapping per item kind.
//!
//! All items of an account share its partition (calls and usage have their own); every
//! access pattern is a GetItem or a Query, never a Scan; every write that could race is
//! conditional, so concurrent requests never lose or duplicate data.
//!
//! - [`keys`]: the table layout, every `PK`/`SK`;
//! - `item`, `ops`: attribute conversions, and the primitives (consistent get, paged
//!   query, conditional update, transactions whose failed conditions are named);
//! - [`retry`]: the one retry policy, one budget per call;
//! - [`table`]: creating the table (local stack and tests);
//! - one module per item kind: [`tokens`], [`events`], [`accounts`], [`customers`],
//!   [`agents`], [`credits`], [`calls`], [`rates`] (the rate limiter's shared counts);
//! - `seed` (feature `seed`): writes that belong to the platform or the voice side —
//!   account profiles, purchases, calls, usage — for the local stack and tests only.

pub mod accounts;
pub mod agents;
pub mod calls;
pub mod credits;
pub mod customers;
pub mod events;
mod item;
pub mod keys;
pub mod oauth;
mod ops;
pub mod rates;
pub mod retry;
#[cfg(feature = "seed")]
pub mod seed;
pub mod table;
pub mod tokens;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::{BoxError, SdkError};
use aws_sdk_dynamodb::Client;

use crate::error::Error;
use retry::Budget;

/// The DynamoDB client and the table it works on; built once per cold start.
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
    /// The retry budget of the call this copy serves ([`Store::in_call`]); none: each
    /// primitive has its own.
    budget: Option<Arc<Budget>>,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Store {
        let counted = client.config().to_builder().interceptor(CountRequests);
        Store {
            client: Client::from_conf(counted.build()),
            table: table.into(),
            budget: None,
        }
    }

    /// This store for one call: every retry under it, in the store or in the rules,
    /// draws from one [`Budget`]. A copy already in a call stays in it.
    pub fn in_call(&self) -> Store {
        Store {
            budget: Some(self.budget()),
            ..self.clone()
        }
    }

    /// The call's retry budget, or a fresh one for a store in no call.
    fn budget(&self) -> Arc<Budget> {
        self.budget.clone().unwrap_or_default()
    }

    /// Waits before the rules try again what another writer changed under them (see
    /// [`retry`]); an error once the call has retried enough. Only in a call: a loop on a
    /// store in none would have no bound.
    pub async fn wait_to_retry(&self, why: &'static str) -> Result<(), Error> {
        match &self.budget {
            Some(budget) => budget.wait(why).await,
            None => Err(Error::Internal(
                "a rule retried outside a call: take Store::in_call first".into(),
            )),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

/// Requests sent to DynamoDB by this process, retries included: a request's metrics take
/// the difference (a Lambda instance serves one request at a time).
pub fn requests_sent() -> u64 {
    REQUESTS_SENT.load(Ordering::Relaxed)
}

static REQUESTS_SENT: AtomicU64 = AtomicU64::new(0);

#[derive(Debug)]
struct CountRequests;

impl Intercept for CountRequests {
    fn name(&self) -> &'static str {
        "CountRequests"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        REQUESTS_SENT.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Any failure to reach or use DynamoDB: the caller gets 503, the log gets the cause.
fn unavailable<E, R>(err: SdkError<E, R>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    Error::Unavailable {
        what: "the data store",
        source: Box::new(err),
    }
}

fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Internal(Box::new(err))
}

/// What a conditional write found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Yes,
    /// Its condition failed: the state it was based on changed (or a limit was reached);
    /// nothing was written.
    Refused,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_dynamodb::config::Region::new("eu-west-1"))
            .build();
        Store::new(Client::from_conf(config), "t")
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_shares_one_retry_budget_and_a_rule_cannot_retry_outside_one() {
        let outside = store().wait_to_retry("contention").await.unwrap_err();
        assert_eq!(outside.status(), 500, "a bug, not a 503: {outside:?}");
        let call = store().in_call();
        let same_call = call.in_call();
        let mut retries = 0;
        while call.wait_to_retry("contention").await.is_ok() {
            retries += 1;
        }
        assert!(retries > 0 && retries <= retry::MAX_RETRIES);
        let spent = same_call.wait_to_retry("contention").await.unwrap_err();
        assert_eq!(spent.status(), 503, "the copy draws from the same budget");
    }
}
