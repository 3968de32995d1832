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
//!   query, conditional update, transactions retried on conflict);
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
mod ops;
pub mod rates;
#[cfg(feature = "seed")]
pub mod seed;
pub mod table;
pub mod tokens;

use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::{BoxError, SdkError};
use aws_sdk_dynamodb::Client;

use crate::error::Error;

/// The DynamoDB client and the table it works on; built once per cold start.
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Store {
        let counted = client.config().to_builder().interceptor(CountRequests);
        Store {
            client: Client::from_conf(counted.build()),
            table: table.into(),
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
