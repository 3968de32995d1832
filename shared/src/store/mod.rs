//! DynamoDB access. All items of an account share its partition; every access pattern is
//! a GetItem or a Query (never a Scan), and every write that could race is conditional.

pub mod accounts;
pub mod keys;
pub mod tokens;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, Put, PutRequest,
    ReturnValue, ScalarAttributeType, TransactWriteItem, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::Error;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// The DynamoDB client and the table it works on; built once per cold start.
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Store {
        Store {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table with the layout of [`keys`] unless it exists. For the local stack
    /// and tests; deployed tables come from `template.yaml`.
    pub async fn create_table_if_missing(&self) -> Result<(), Error> {
        if self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        let mut create = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest);
        for (name, key_type) in keys::KEY_SCHEMA {
            create = create
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(name)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .map_err(internal)?,
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(name)
                        .key_type(KeyType::from(key_type))
                        .build()
                        .map_err(internal)?,
                );
        }
        match create.send().await {
            Ok(_) => Ok(()),
            // Another process created it first: the table is there, which is all we want.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}

impl Store {
    /// One item by key, strongly consistent: callers act on what they read.
    pub(crate) async fn get(&self, pk: String, sk: String) -> Result<Option<Item>, Error> {
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

    /// A page of the items under `pk` whose sort key starts with `prefix`, in sort-key
    /// order (or reversed), after the sort key `after`, keeping those `keep` accepts.
    /// Returns the page and whether more follow.
    pub(crate) async fn page(
        &self,
        pk: &str,
        prefix: &str,
        newest_first: bool,
        limit: usize,
        after: Option<&str>,
        keep: impl Fn(&Item) -> bool,
    ) -> Result<(Vec<Item>, bool), Error> {
        let mut kept = Vec::new();
        let mut start = after.map(str::to_owned);
        // One extra item tells whether another page exists, without an empty last page.
        while kept.len() <= limit {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .scan_index_forward(!newest_first)
                .consistent_read(true)
                .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX).max(25));
            if let Some(sk) = &start {
                query = query
                    .exclusive_start_key(keys::PK, s(pk))
                    .exclusive_start_key(keys::SK, s(sk));
            }
            let out = query.send().await.map_err(unavailable)?;
            kept.extend(
                out.items
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|item| keep(item)),
            );
            match out
                .last_evaluated_key
                .and_then(|k| k.get(keys::SK)?.as_s().ok().cloned())
            {
                Some(sk) => start = Some(sk),
                None => break,
            }
        }
        let more = kept.len() > limit;
        kept.truncate(limit);
        Ok((kept, more))
    }

    /// Every item under `pk` with a sort key from `from` to `to`, inclusive.
    pub(crate) async fn range(&self, pk: &str, from: &str, to: &str) -> Result<Vec<Item>, Error> {
        let values = [(":pk", pk), (":from", from), (":to", to)];
        self.query_all("PK = :pk AND SK BETWEEN :from AND :to", &values)
            .await
    }

    /// Applies `SET name = value, …` to an existing item and returns it as it now is;
    /// `None` if no item has that key.
    pub(crate) async fn update_existing(
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

    /// Atomically adds to counters of an item (creating it at zero) and sets attributes.
    pub(crate) async fn add_to(
        &self,
        pk: String,
        sk: String,
        counters: &[(&str, i64)],
        sets: &[(&str, AttributeValue)],
    ) -> Result<(), Error> {
        let adds: Vec<String> = (0..counters.len())
            .map(|i| format!("#a{i} :a{i}"))
            .collect();
        let assignments: Vec<String> = (0..sets.len()).map(|i| format!("#s{i} = :s{i}")).collect();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .update_expression(format!(
                "ADD {} SET {}",
                adds.join(", "),
                assignments.join(", ")
            ));
        for (i, (name, value)) in counters.iter().enumerate() {
            update = update
                .expression_attribute_names(format!("#a{i}"), *name)
                .expression_attribute_values(format!(":a{i}"), n(value));
        }
        for (i, (name, value)) in sets.iter().enumerate() {
            update = update
                .expression_attribute_names(format!("#s{i}"), *name)
                .expression_attribute_values(format!(":s{i}"), value.clone());
        }
        update.send().await.map_err(unavailable)?;
        Ok(())
    }

    /// Every item under `pk` whose sort key starts with `prefix`.
    pub(crate) async fn all(&self, pk: &str, prefix: &str) -> Result<Vec<Item>, Error> {
        let values = [(":pk", pk), (":prefix", prefix)];
        self.query_all("PK = :pk AND begins_with(SK, :prefix)", &values)
            .await
    }

    /// Every page of a strongly consistent Query.
    async fn query_all(
        &self,
        key_condition: &str,
        values: &[(&str, &str)],
    ) -> Result<Vec<Item>, Error> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(key_condition)
            .consistent_read(true);
        for (name, value) in values {
            query = query.expression_attribute_values(*name, s(*value));
        }
        query
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(unavailable)
    }

    /// A put, for a transaction, that fails rather than overwrite an item.
    pub(crate) fn create_op(&self, item: Item) -> Result<Put, Error> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(internal)
    }

    /// Writes a new item; an item with its key already there is a collision of fresh
    /// ids, which does not happen — and is reported, not overwritten, if it does.
    pub(crate) async fn create(&self, item: Item) -> Result<(), Error> {
        match self
            .transact(vec![TransactWriteItem::builder()
                .put(self.create_op(item)?)
                .build()])
            .await?
        {
            None => Ok(()),
            Some(_) => Err(Error::Internal(
                "a new item collided with an existing one".into(),
            )),
        }
    }

    /// Writes many items (seeding), 25 per request, resending what DynamoDB leaves over.
    pub async fn put_all(&self, items: Vec<Item>) -> Result<(), Error> {
        for chunk in items.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    let put = PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map_err(internal)?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<_, Error>>()?;
            for attempt in 1..=MAX_ATTEMPTS {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(unavailable)?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                backoff(attempt).await;
            }
            if !requests.is_empty() {
                return Err(Error::Unavailable {
                    what: "the data store",
                    source: "writes kept being throttled".into(),
                });
            }
        }
        Ok(())
    }

    /// Runs a transaction, retrying conflicts with other transactions. `Ok(None)` when it
    /// committed, `Ok(Some(i))` when the condition on item `i` failed.
    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Option<usize>, Error> {
        for attempt in 1..=MAX_ATTEMPTS {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            match result.map_err(cancelled) {
                Ok(_) => return Ok(None),
                Err(Ok(Cancelled::Condition(i))) => return Ok(Some(i)),
                Err(Ok(Cancelled::Conflict)) if attempt < MAX_ATTEMPTS => backoff(attempt).await,
                Err(Ok(Cancelled::Conflict)) => break,
                Err(Err(e)) => return Err(e),
            }
        }
        Err(Error::Unavailable {
            what: "the data store",
            source: "too many concurrent changes to this account".into(),
        })
    }
}

/// Conflicting transactions are retried; each retry waits a little longer, with jitter so
/// racers spread out.
const MAX_ATTEMPTS: u32 = 40;

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

async fn backoff(attempt: u32) {
    let mut jitter = [0u8; 1];
    let _ = SystemRandom::new().fill(&mut jitter);
    let ms = u64::from(attempt.min(10)) * 5 + u64::from(jitter[0] % 20);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Any failure to reach or use DynamoDB: the caller gets 503, the log gets the cause.
pub(crate) fn unavailable<E, R>(err: SdkError<E, R>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    Error::Unavailable {
        what: "the data store",
        source: Box::new(err),
    }
}

pub(crate) fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Internal(Box::new(err))
}

/// Typed reads of item attributes; a missing or mistyped attribute is a corrupt item.
pub(crate) trait ItemExt {
    fn string(&self, name: &str) -> Result<String, Error>;
    fn opt_string(&self, name: &str) -> Option<String>;
    fn int(&self, name: &str) -> Result<i64, Error>;
    fn opt_int(&self, name: &str) -> Option<i64>;
    fn flag(&self, name: &str) -> bool;
    fn strings(&self, name: &str) -> Vec<String>;
}

#[derive(Debug, thiserror::Error)]
#[error("stored item lacks a valid `{0}` attribute")]
pub(crate) struct CorruptItem(String);

impl ItemExt for Item {
    fn string(&self, name: &str) -> Result<String, Error> {
        self.opt_string(name)
            .ok_or_else(|| internal(CorruptItem(name.into())))
    }

    fn opt_string(&self, name: &str) -> Option<String> {
        self.get(name)?.as_s().ok().cloned()
    }

    fn int(&self, name: &str) -> Result<i64, Error> {
        self.opt_int(name)
            .ok_or_else(|| internal(CorruptItem(name.into())))
    }

    fn opt_int(&self, name: &str) -> Option<i64> {
        self.get(name)?.as_n().ok()?.parse().ok()
    }

    fn flag(&self, name: &str) -> bool {
        self.get(name)
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false)
    }

    fn strings(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(AttributeValue::L(list)) => {
                list.iter().filter_map(|v| v.as_s().ok().cloned()).collect()
            }
            _ => Vec::new(),
        }
    }
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
