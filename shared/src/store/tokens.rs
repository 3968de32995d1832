//! Token items. A token lives in two items written and revoked together in one
//! transaction: its metadata in the account's partition (listed newest first, strongly
//! consistent) and a lookup item keyed by its hash (one GetItem verifies a token). A
//! counter item beside the metadata holds the number of active tokens, so the limit holds
//! under any number of concurrent generates.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::{internal, keys, n, s, unavailable, Item, ItemExt, Store};
use crate::error::Error;
use crate::hashing::TokenHash;
use crate::identity::AccountId;
use crate::lifecycle::{TokenId, TokenRecord};
use crate::scope::Scopes;

/// What a token grants, as its lookup item says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub account: AccountId,
    pub token_id: TokenId,
    pub scopes: Scopes,
    pub expires_at: Option<i64>,
    pub revoked: bool,
    pub last_used_at: Option<i64>,
}

pub enum Inserted {
    Yes,
    LimitReached,
}

pub enum Revoked {
    Yes,
    /// The item changed between our read and our write (revoked or retired meanwhile).
    Raced,
}

impl Store {
    /// Writes a new token's two items and counts it, unless the account already has
    /// `limit` counted tokens.
    pub async fn insert_token(&self, record: &TokenRecord, limit: u32) -> Result<Inserted, Error> {
        let pk = keys::account(&record.account);
        let counter = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(keys::TOKEN_COUNTER))
            .update_expression("SET active = if_not_exists(active, :zero) + :one")
            .condition_expression("attribute_not_exists(active) OR active < :limit")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .build()
            .map_err(internal)?;
        let mut meta = common_attributes(record);
        meta.extend([
            (keys::PK.into(), s(&pk)),
            (keys::SK.into(), s(keys::token(&record.id))),
            ("name".into(), s(&record.name)),
            ("hint".into(), s(&record.hint)),
            ("created_by".into(), s(&record.created_by)),
            ("token_hash".into(), s(record.hash.as_str())),
            ("counted".into(), AttributeValue::Bool(true)),
        ]);
        let mut lookup = common_attributes(record);
        lookup.extend([
            (keys::PK.into(), s(keys::token_hash(&record.hash))),
            (keys::SK.into(), s(keys::TOKEN_HASH_SK)),
            ("account".into(), s(record.account.as_str())),
        ]);
        let items = vec![
            TransactWriteItem::builder().update(counter).build(),
            TransactWriteItem::builder()
                .put(self.create_op(meta)?)
                .build(),
            TransactWriteItem::builder()
                .put(self.create_op(lookup)?)
                .build(),
        ];
        match self.transact(items).await? {
            None => Ok(Inserted::Yes),
            Some(0) => Ok(Inserted::LimitReached),
            // A 238-bit token or a ULID colliding is not going to happen; if it does, say so.
            Some(_) => Err(internal(Collision)),
        }
    }

    /// The token behind a hash, read strongly consistent: a revoke must be seen by the
    /// very next call.
    pub async fn find_token(&self, hash: &TokenHash) -> Result<Option<Grant>, Error> {
        let Some(item) = self
            .get(keys::token_hash(hash), keys::TOKEN_HASH_SK.into())
            .await?
        else {
            return Ok(None);
        };
        let account = item.string("account")?;
        let token_id = item.string("token_id")?;
        Ok(Some(Grant {
            account: AccountId::parse(&account)
                .ok_or_else(|| internal(super::CorruptItem("account".into())))?,
            token_id: TokenId::parse(&token_id)
                .ok_or_else(|| internal(super::CorruptItem("token_id".into())))?,
            scopes: Scopes::parse(item.strings("scopes")).map_err(internal)?,
            expires_at: item.opt_int("expires_at"),
            revoked: item.flag("revoked"),
            last_used_at: item.opt_int("last_used_at"),
        }))
    }

    /// Records a use of the token on both its items, unless one was recorded since
    /// `stale_before`: concurrent calls from any number of instances write it once.
    pub async fn touch_token(
        &self,
        grant: &Grant,
        hash: &TokenHash,
        now: i64,
        stale_before: i64,
    ) -> Result<(), Error> {
        let lookup = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::token_hash(hash)))
            .key(keys::SK, s(keys::TOKEN_HASH_SK))
            .update_expression("SET last_used_at = :now")
            .condition_expression("attribute_exists(PK) AND (attribute_not_exists(last_used_at) OR last_used_at < :stale)")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":stale", n(stale_before))
            .build()
            .map_err(internal)?;
        let meta = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::account(&grant.account)))
            .key(keys::SK, s(keys::token(&grant.token_id)))
            .update_expression("SET last_used_at = :now")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":now", n(now))
            .build()
            .map_err(internal)?;
        let items = vec![
            TransactWriteItem::builder().update(lookup).build(),
            TransactWriteItem::builder().update(meta).build(),
        ];
        // A failed condition means another call recorded the use first: nothing to do.
        self.transact(items).await.map(|_| ())
    }

    /// One page of the account's tokens, newest first, starting after `after`.
    /// Returns whether more follow.
    pub async fn list_tokens(
        &self,
        account: &AccountId,
        limit: usize,
        after: Option<&TokenId>,
    ) -> Result<(Vec<TokenRecord>, bool), Error> {
        let after = after.map(keys::token);
        let pk = keys::account(account);
        let (items, more) = self
            .page(
                &pk,
                keys::TOKEN_PREFIX,
                true,
                limit,
                after.as_deref(),
                |_| true,
            )
            .await?;
        let records = items
            .iter()
            .map(|item| record_from_item(account, item))
            .collect::<Result<_, _>>()?;
        Ok((records, more))
    }

    pub async fn get_token(
        &self,
        account: &AccountId,
        id: &TokenId,
    ) -> Result<Option<TokenRecord>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::account(account)))
            .key(keys::SK, s(keys::token(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        out.item
            .map(|item| record_from_item(account, &item))
            .transpose()
    }

    /// Marks both items revoked and, if the token still counted, frees its place. The
    /// condition on the metadata makes a concurrent second revoke a no-op, not a double count.
    pub async fn revoke_token(
        &self,
        record: &TokenRecord,
        by: &str,
        now: i64,
    ) -> Result<Revoked, Error> {
        let pk = keys::account(&record.account);
        let counted = if record.counted {
            " AND counted = :true"
        } else {
            ""
        };
        let meta = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(keys::token(&record.id)))
            .update_expression(
                "SET revoked = :true, revoked_at = :now, revoked_by = :by, counted = :false",
            )
            .condition_expression(format!(
                "attribute_exists(PK) AND revoked = :false{counted}"
            ))
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":by", s(by))
            .build()
            .map_err(internal)?;
        let lookup = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::token_hash(&record.hash)))
            .key(keys::SK, s(keys::TOKEN_HASH_SK))
            .update_expression("SET revoked = :true, revoked_at = :now")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":now", n(now))
            .build()
            .map_err(internal)?;
        let mut items = vec![
            TransactWriteItem::builder().update(meta).build(),
            TransactWriteItem::builder().update(lookup).build(),
        ];
        if record.counted {
            items.push(
                TransactWriteItem::builder()
                    .update(self.uncount(&pk)?)
                    .build(),
            );
        }
        Ok(match self.transact(items).await? {
            None => Revoked::Yes,
            Some(_) => Revoked::Raced,
        })
    }

    /// Stops counting the account's expired tokens against the limit; returns how many
    /// places were freed. Runs only when the limit is reached, so its Query is rare.
    pub async fn retire_expired(&self, account: &AccountId, now: i64) -> Result<u32, Error> {
        let pk = keys::account(account);
        let expired = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .filter_expression("counted = :true AND expires_at <= :now")
            .projection_expression("SK")
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":prefix", s(keys::TOKEN_PREFIX))
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":now", n(now))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(unavailable)?;
        let mut freed = 0;
        for item in expired {
            let retire = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(&pk))
                .key(keys::SK, s(item.string(keys::SK)?))
                .update_expression("SET counted = :false")
                .condition_expression("counted = :true")
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .build()
                .map_err(internal)?;
            let items = vec![
                TransactWriteItem::builder().update(retire).build(),
                TransactWriteItem::builder()
                    .update(self.uncount(&pk)?)
                    .build(),
            ];
            // A failed condition means a concurrent revoke or retire already freed it.
            if self.transact(items).await?.is_none() {
                freed += 1;
            }
        }
        Ok(freed)
    }

    fn uncount(&self, pk: &str) -> Result<Update, Error> {
        Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(keys::TOKEN_COUNTER))
            .update_expression("SET active = active - :one")
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(internal)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("a new token collided with an existing item")]
struct Collision;

/// Attributes both items of a token carry.
fn common_attributes(record: &TokenRecord) -> Item {
    let mut item = Item::from([
        ("token_id".into(), s(record.id.as_str())),
        (
            "scopes".into(),
            AttributeValue::L(record.scopes.iter().map(|sc| s(sc.as_str())).collect()),
        ),
        ("created_at".into(), n(record.created_at)),
        ("revoked".into(), AttributeValue::Bool(false)),
    ]);
    if let Some(expires_at) = record.expires_at {
        item.insert("expires_at".into(), n(expires_at));
    }
    item
}

fn record_from_item(account: &AccountId, item: &Item) -> Result<TokenRecord, Error> {
    let id = item.string("token_id")?;
    Ok(TokenRecord {
        id: TokenId::parse(&id).ok_or_else(|| internal(super::CorruptItem("token_id".into())))?,
        account: account.clone(),
        name: item.string("name")?,
        hint: item.string("hint")?,
        scopes: Scopes::parse(item.strings("scopes")).map_err(internal)?,
        created_by: item.string("created_by")?,
        created_at: item.int("created_at")?,
        expires_at: item.opt_int("expires_at"),
        last_used_at: item.opt_int("last_used_at"),
        revoked_at: item.opt_int("revoked_at"),
        hash: TokenHash::from_stored(item.string("token_hash")?),
        counted: item.flag("counted"),
    })
}
