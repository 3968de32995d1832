//! Token items. A token lives in two items written and revoked together in one
//! transaction: its metadata in the account's partition (listed newest first, strongly
//! consistent) and a lookup item keyed by its hash (one GetItem verifies a token). A
//! counter item beside the metadata holds the number of active tokens, so the limit holds
//! under any number of concurrent generates.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::item::{corrupt, flag, n, put_opt, s, time, Item, ItemExt};
use super::{internal, keys, unavailable, Store, Written};
use crate::error::Error;
use crate::model::hashing::TokenHash;
use crate::model::ids::{AccountId, TokenId};
use crate::model::page::{Position, Slice};
use crate::model::scope::Scopes;
use crate::model::time::Timestamp;
use crate::model::tokens::{Grant, TokenRecord};

impl Store {
    /// Writes a new token's two items and counts it, unless the account already has
    /// `limit` counted tokens (then [`Written::Refused`]).
    pub async fn insert_token(&self, record: &TokenRecord, limit: u32) -> Result<Written, Error> {
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
            ("counted".into(), flag(true)),
        ]);
        let mut lookup = common_attributes(record);
        lookup.extend([
            (keys::PK.into(), s(keys::token_hash(&record.hash))),
            (keys::SK.into(), s(keys::TOKEN_HASH_SK)),
            ("account".into(), s(record.account.as_str())),
        ]);
        let items = vec![
            TransactWriteItem::builder().update(counter).build(),
            self.create_op(meta)?,
            self.create_op(lookup)?,
        ];
        match self.transact(items).await? {
            None => Ok(Written::Yes),
            Some(0) => Ok(Written::Refused),
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
        Ok(Some(Grant {
            account: item.parsed("account", AccountId::parse)?,
            token_id: item.parsed("token_id", TokenId::parse)?,
            hash: hash.clone(),
            scopes: Scopes::parse(item.strings("scopes")).map_err(internal)?,
            expires_at: item.opt_time("expires_at"),
            revoked: item.flag("revoked"),
            last_used_at: item.opt_time("last_used_at"),
        }))
    }

    /// Records a use of the token on both its items, unless one was recorded since
    /// `stale_before`: concurrent calls from any number of instances write it once.
    pub async fn touch_token(
        &self,
        grant: &Grant,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> Result<(), Error> {
        let lookup = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::token_hash(&grant.hash)))
            .key(keys::SK, s(keys::TOKEN_HASH_SK))
            .update_expression("SET last_used_at = :now")
            .condition_expression("attribute_exists(PK) AND (attribute_not_exists(last_used_at) OR last_used_at < :stale)")
            .expression_attribute_values(":now", time(now))
            .expression_attribute_values(":stale", time(stale_before))
            .build()
            .map_err(internal)?;
        let meta = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::account(&grant.account)))
            .key(keys::SK, s(keys::token(&grant.token_id)))
            .update_expression("SET last_used_at = :now")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":now", time(now))
            .build()
            .map_err(internal)?;
        let items = vec![
            TransactWriteItem::builder().update(lookup).build(),
            TransactWriteItem::builder().update(meta).build(),
        ];
        // A failed condition means another call recorded the use first: nothing to do.
        self.transact(items).await.map(|_| ())
    }

    /// One page of the account's tokens, newest first.
    pub async fn list_tokens(
        &self,
        account: &AccountId,
        size: usize,
        after: Option<&Position>,
    ) -> Result<Slice<TokenRecord>, Error> {
        self.page(
            &keys::account(account),
            keys::TOKEN_PREFIX,
            true,
            size,
            after,
            |item| record_from_item(account, item),
            None,
        )
        .await
    }

    pub async fn token(
        &self,
        account: &AccountId,
        id: &TokenId,
    ) -> Result<Option<TokenRecord>, Error> {
        self.get(keys::account(account), keys::token(id))
            .await?
            .map(|item| record_from_item(account, &item))
            .transpose()
    }

    /// Marks both items revoked and, if the token still counted, frees its place. The
    /// condition on the metadata makes a concurrent second revoke a no-op, not a double count.
    /// [`Written::Refused`] when the item changed since it was read (revoked or retired
    /// meanwhile).
    pub async fn revoke_token(
        &self,
        record: &TokenRecord,
        by: &str,
        now: Timestamp,
    ) -> Result<Written, Error> {
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
            .expression_attribute_values(":true", flag(true))
            .expression_attribute_values(":false", flag(false))
            .expression_attribute_values(":now", time(now))
            .expression_attribute_values(":by", s(by))
            .build()
            .map_err(internal)?;
        let lookup = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::token_hash(&record.hash)))
            .key(keys::SK, s(keys::TOKEN_HASH_SK))
            .update_expression("SET revoked = :true, revoked_at = :now")
            .expression_attribute_values(":true", flag(true))
            .expression_attribute_values(":now", time(now))
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
            None => Written::Yes,
            Some(_) => Written::Refused,
        })
    }

    /// Stops counting the account's expired tokens against the limit; returns how many
    /// places were freed. Runs only when the limit is reached, so its Query is rare.
    pub async fn retire_expired(&self, account: &AccountId, now: Timestamp) -> Result<u32, Error> {
        let pk = keys::account(account);
        // Oldest first, where expired tokens are; a bounded read even for an account with
        // years of revoked tokens (what it does not reach is retired by a later generate).
        let mut expired = Vec::new();
        let mut start = None;
        for _ in 0..RETIRE_PAGES {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .filter_expression("counted = :true AND expires_at <= :now")
                .projection_expression("SK")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":prefix", s(keys::TOKEN_PREFIX))
                .expression_attribute_values(":true", flag(true))
                .expression_attribute_values(":now", time(now))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            expired.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() || expired.len() >= RETIRE_AT_ONCE {
                break;
            }
        }
        expired.truncate(RETIRE_AT_ONCE);
        let mut freed: u32 = 0;
        for item in expired {
            let retire = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(&pk))
                .key(keys::SK, s(item.string(keys::SK)?))
                .update_expression("SET counted = :false")
                .condition_expression("counted = :true")
                .expression_attribute_values(":true", flag(true))
                .expression_attribute_values(":false", flag(false))
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
                freed = freed.saturating_add(1);
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

/// Query pages (1 MB of token keys each) one retire may read.
const RETIRE_PAGES: usize = 2;
/// Expired tokens one retire frees: enough for the generate that needed a place.
const RETIRE_AT_ONCE: usize = 5;

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
        ("created_at".into(), time(record.created_at)),
        ("revoked".into(), flag(false)),
    ]);
    put_opt(&mut item, "expires_at", record.expires_at.map(time));
    item
}

/// The token's metadata item, as a record.
fn record_from_item(account: &AccountId, item: &Item) -> Result<TokenRecord, Error> {
    Ok(TokenRecord {
        id: item.parsed("token_id", TokenId::parse)?,
        account: account.clone(),
        name: item.string("name")?,
        hint: item.string("hint")?,
        scopes: Scopes::parse(item.strings("scopes")).map_err(|_| corrupt("scopes"))?,
        created_by: item.string("created_by")?,
        created_at: item.time("created_at")?,
        expires_at: item.opt_time("expires_at"),
        last_used_at: item.opt_time("last_used_at"),
        revoked_at: item.opt_time("revoked_at"),
        hash: TokenHash::from_stored(item.string("token_hash")?),
        counted: item.flag("counted"),
    })
}
