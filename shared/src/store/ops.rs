//! The primitives every item kind is built on: a consistent get, a paged Query, an update
//! of an existing item, and transactions whose failed conditions are named, retried on
//! conflict within the call's budget ([`super::retry`]).

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValue, TransactWriteItem, Update,
};

use super::item::{s, Item, ItemExt};
use super::{internal, keys, unavailable, Store};
use crate::error::Error;
use crate::model::events::TokenEvent;
use crate::model::ids::AccountId;
use crate::model::page::{Position, Slice};

/// Queries one page of a listing may take.
const MAX_QUERIES_PER_PAGE: usize = 3;
/// Items a Query reads when a filter drops some: more per request, the same bound.
const FILTERED_QUERY_LIMIT: usize = 100;
/// Query pages (1 MB each) one read of a whole set may take.
const MAX_PAGES_PER_READ: usize = 10;

/// What a write's condition asks, by name: a cancelled transaction reports which one
/// failed by this name, never by the write's place in it, so reordering a transaction
/// cannot change what its outcome means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Condition {
    /// None: the write always applies.
    Always,
    /// A new item: no item has its key (a new id, a new history event).
    New,
    /// The item exists.
    Exists,
    /// The account holds fewer active tokens than its limit.
    UnderLimit,
    /// The token is not revoked (and, if it counted, still counts).
    NotRevoked,
    /// An expired token still holds one of the account's places.
    StillCounted,
    /// No use of the token was recorded since the stale moment.
    UseStale,
    /// The token is live as read, unrotated, and holds its place: it may be rotated.
    Rotatable,
    /// A replaced token's overlap ends later than the new end.
    EndsLater,
    /// The item is still as read (not deleted, counted as it was).
    AsRead,
    /// A balance is still what was read.
    BalanceAsRead,
    /// The idempotency key is unused.
    KeyUnused,
}

/// One write of a transaction, and the name of its condition.
#[derive(Debug, Clone)]
pub(super) struct Write {
    pub(super) op: TransactWriteItem,
    pub(super) condition: Condition,
}

impl Write {
    pub(super) fn new(condition: Condition, op: TransactWriteItem) -> Write {
        Write { op, condition }
    }

    pub(super) fn update(condition: Condition, update: Update) -> Write {
        Write::new(
            condition,
            TransactWriteItem::builder().update(update).build(),
        )
    }
}

impl Store {
    /// One item by key, strongly consistent: callers act on what they read.
    pub(super) async fn get(&self, pk: String, sk: String) -> Result<Option<Item>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }

    /// Writes an item whole, replacing what has its key.
    pub(super) async fn put(&self, item: Item) -> Result<(), Error> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Opens two connections to DynamoDB, and pays the client's first-request costs, with
    /// reads of an item that never exists: the MCP function's cold start does it while the
    /// pepper loads, so its first call does not (on Lambda, a TLS handshake). Eventually
    /// consistent: half the read capacity. A failure is the first request's to meet.
    pub async fn warm_up(&self) {
        // Two reads at once open two connections: a token's first call reads its
        // account's profile and asks for its rate decision at the same time.
        let read = || {
            self.client
                .get_item()
                .table_name(&self.table)
                .key(keys::PK, s(keys::WARM_UP))
                .key(keys::SK, s(keys::WARM_UP))
                .send()
        };
        let (first, second) = tokio::join!(read(), read());
        if let Err(e) = first.and(second) {
            tracing::debug!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "warm-up read failed");
        }
    }

    /// A page of the items under `pk` whose sort key starts with `prefix`, in sort-key
    /// order (or reversed), after `after`, decoded, keeping those `keep` accepts (all when
    /// there is no filter). At most [`MAX_QUERIES_PER_PAGE`] Queries: a filter that
    /// matches little returns a short page and where to go on, never a long walk.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn page<T>(
        &self,
        pk: &str,
        prefix: &str,
        newest_first: bool,
        size: usize,
        after: Option<&Position>,
        decode: impl Fn(&Item) -> Result<T, Error>,
        keep: Option<&(dyn Fn(&T) -> bool + Sync)>,
    ) -> Result<Slice<T>, Error> {
        let mut start = match after {
            None => None,
            Some(Position(sk)) if sk.starts_with(prefix) => Some(sk.clone()),
            Some(_) => return Err(foreign_cursor()),
        };
        // One extra item tells whether another page exists, without an empty last page.
        let wanted = size.saturating_add(1);
        let limit = match keep {
            Some(_) => wanted.max(FILTERED_QUERY_LIMIT),
            None => wanted,
        };
        let mut kept: Vec<(String, T)> = Vec::new();
        for _ in 0..MAX_QUERIES_PER_PAGE {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .scan_index_forward(!newest_first)
                .consistent_read(true)
                .limit(i32::try_from(limit).unwrap_or(i32::MAX));
            if let Some(sk) = &start {
                query = query
                    .exclusive_start_key(keys::PK, s(pk))
                    .exclusive_start_key(keys::SK, s(sk));
            }
            let out = query.send().await.map_err(unavailable)?;
            for item in out.items.unwrap_or_default() {
                let value = decode(&item)?;
                if keep.is_none_or(|keep| keep(&value)) {
                    kept.push((item.string(keys::SK)?, value));
                }
            }
            start = out
                .last_evaluated_key
                .and_then(|k| k.get(keys::SK)?.as_s().ok().cloned());
            if kept.len() >= wanted || start.is_none() {
                break;
            }
        }
        let next = if kept.len() > size {
            kept.truncate(size);
            kept.last().map(|(sk, _)| sk.clone())
        } else {
            start
        };
        Ok(Slice {
            items: kept.into_iter().map(|(_, value)| value).collect(),
            next: next.map(Position),
        })
    }

    /// Every item matching a key condition, through the pages of a consistent Query — at
    /// most [`MAX_PAGES_PER_READ`] of them (1 MB each); past that the caller is told
    /// `too_many`.
    pub(super) async fn query_all(
        &self,
        key_condition: &str,
        values: &[(&str, &str)],
        too_many: &'static str,
    ) -> Result<Vec<Item>, Error> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        for _ in 0..MAX_PAGES_PER_READ {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(key_condition)
                .consistent_read(true)
                .set_exclusive_start_key(start.take());
            for (name, value) in values {
                query = query.expression_attribute_values(*name, s(*value));
            }
            let out = query.send().await.map_err(unavailable)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(items),
            }
        }
        Err(Error::bad_request("too_much_data", too_many))
    }

    /// Every item under `pk` whose sort key starts with `prefix` (within the same bound).
    pub(super) async fn all(
        &self,
        pk: &str,
        prefix: &str,
        too_many: &'static str,
    ) -> Result<Vec<Item>, Error> {
        let values = [(":pk", pk), (":prefix", prefix)];
        self.query_all("PK = :pk AND begins_with(SK, :prefix)", &values, too_many)
            .await
    }

    /// Applies `SET name = value, …` to an existing item and returns it as it now is;
    /// `None` if no item has that key.
    pub(super) async fn update_existing(
        &self,
        pk: String,
        sk: String,
        sets: Vec<(&str, AttributeValue)>,
    ) -> Result<Option<Item>, Error> {
        let assignments: Vec<String> = (0..sets.len()).map(|i| format!("#f{i} = :v{i}")).collect();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .update_expression(format!("SET {}", assignments.join(", ")))
            .condition_expression("attribute_exists(PK)")
            .return_values(ReturnValue::AllNew);
        for (i, (name, value)) in sets.into_iter().enumerate() {
            update = update
                .expression_attribute_names(format!("#f{i}"), name)
                .expression_attribute_values(format!(":v{i}"), value);
        }
        match update.send().await {
            Ok(out) => Ok(out.attributes),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// The same, with `event` recorded in the same transaction as the change. A
    /// transaction does not return the item, so it is read after: two requests.
    pub(super) async fn update_existing_recorded(
        &self,
        (pk, sk): (String, String),
        sets: Vec<(&str, AttributeValue)>,
        account: &AccountId,
        event: &TokenEvent,
    ) -> Result<Option<Item>, Error> {
        let assignments: Vec<String> = (0..sets.len()).map(|i| format!("#f{i} = :v{i}")).collect();
        let mut update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(&sk))
            .update_expression(format!("SET {}", assignments.join(", ")))
            .condition_expression("attribute_exists(PK)");
        for (i, (name, value)) in sets.into_iter().enumerate() {
            update = update
                .expression_attribute_names(format!("#f{i}"), name)
                .expression_attribute_values(format!(":v{i}"), value);
        }
        let update = Write::update(Condition::Exists, update.build().map_err(internal)?);
        match self
            .transact(vec![update, self.event_op(account, event)?])
            .await?
        {
            None => self.get(pk, sk).await,
            Some(Condition::Exists) => Ok(None),
            Some(other) => Err(collided(other)),
        }
    }

    /// Many items by key, strongly consistent, 100 a request; what DynamoDB leaves
    /// unprocessed is asked for again within the call's retry budget, then it is a 503.
    /// Absent items are simply not returned.
    pub(super) async fn get_many(&self, keys: Vec<(String, String)>) -> Result<Vec<Item>, Error> {
        let budget = self.budget();
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let mut wanted: Vec<Item> = chunk
                .iter()
                .map(|(pk, sk)| Item::from([(keys::PK.into(), s(pk)), (keys::SK.into(), s(sk))]))
                .collect();
            loop {
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(wanted))
                    .consistent_read(true)
                    .build()
                    .map_err(internal)?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(unavailable)?;
                found.extend(
                    out.responses
                        .and_then(|mut r| r.remove(&self.table))
                        .unwrap_or_default(),
                );
                wanted = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
                if wanted.is_empty() {
                    break;
                }
                budget.wait("reads kept being throttled").await?;
            }
        }
        Ok(found)
    }

    /// A put, for a transaction, that fails rather than overwrite an item.
    pub(super) fn create_op(&self, item: Item) -> Result<Write, Error> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(internal)?;
        Ok(Write::new(
            Condition::New,
            TransactWriteItem::builder().put(put).build(),
        ))
    }

    /// Runs a transaction, retrying conflicts with other transactions within the call's
    /// budget. `Ok(None)` when it committed, `Ok(Some(condition))` when that condition
    /// failed and nothing was written.
    pub(super) async fn transact(&self, writes: Vec<Write>) -> Result<Option<Condition>, Error> {
        let items: Vec<TransactWriteItem> = writes.iter().map(|w| w.op.clone()).collect();
        let budget = self.budget();
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            match result.map_err(cancelled) {
                Ok(_) => return Ok(None),
                Err(Ok(Cancelled::Condition(i))) => {
                    let failed = writes.get(i).map(|w| w.condition);
                    return failed.map(Some).ok_or_else(|| {
                        Error::Internal("DynamoDB named a write the transaction had not".into())
                    });
                }
                Err(Ok(Cancelled::Conflict)) => {
                    budget
                        .wait("too many concurrent changes to this account")
                        .await?
                }
                Err(Err(e)) => return Err(e),
            }
        }
    }
}

/// A condition no other writer could have broken (a new random id already taken): a bug
/// or a freak, and said so.
pub(super) fn collided(condition: Condition) -> Error {
    Error::Internal(
        format!(
            "a transaction's condition {condition:?} failed where nothing could have broken it"
        )
        .into(),
    )
}

/// How one cancelled transaction ended, from its per-item cancellation reasons.
enum Cancelled {
    /// The condition on the item at this index failed.
    Condition(usize),
    /// Another transaction held an item: try again.
    Conflict,
}

fn cancelled<R>(err: SdkError<TransactWriteItemsError, R>) -> Result<Cancelled, Error>
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if let Some(TransactWriteItemsError::TransactionCanceledException(e)) = err.as_service_error() {
        let codes: Vec<&str> = e
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or("None"))
            .collect();
        if let Some(i) = codes.iter().position(|c| *c == "ConditionalCheckFailed") {
            return Ok(Cancelled::Condition(i));
        }
        if codes.contains(&"TransactionConflict") {
            return Ok(Cancelled::Conflict);
        }
    }
    Err(unavailable(err))
}

/// A position from another listing's cursor (the MAC makes this a bug, not an attack).
fn foreign_cursor() -> Error {
    Error::bad_request(
        "invalid_cursor",
        "the cursor is not valid for this listing; start again without one",
    )
}
