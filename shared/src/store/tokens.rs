//! Token items. A token lives in two items written and revoked together in one
//! transaction: its metadata in the account's partition (listed newest first, strongly
//! consistent) and a lookup item keyed by its hash (one GetItem verifies a token). A
//! counter item beside the metadata holds the number of active tokens, so the limit holds
//! under any number of concurrent generates. An index item per token under its maker
//! (`MADEBY#…`, written in the same transaction, never changed) lists one user's tokens
//! without reading a colleague's.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};

use super::ops::{collided, Condition, Write};

use super::item::{corrupt, flag, n, put_opt, s, time, Item, ItemExt};
use super::{internal, keys, unavailable, Store, Written};
use crate::error::Error;
use crate::model::allowlist::AllowedIps;
use crate::model::events::{EventKind, Revocation, RevokedReason, TokenEvent};
use crate::model::hashing::TokenHash;
use crate::model::ids::{AccountId, TokenId};
use crate::model::page::{Position, Slice};
use crate::model::roles::Role;
use crate::model::scope::Scopes;
use crate::model::time::Timestamp;
use crate::model::tokens::{ConnectedApp, Grant, Replacement, TokenRecord};

impl Store {
    /// Writes a new token's two items and counts it, unless the account already has
    /// `limit` counted tokens (then [`Written::Refused`]).
    pub async fn insert_token(&self, record: &TokenRecord, limit: u32) -> Result<Written, Error> {
        match self.insert_token_with(record, limit, Vec::new()).await? {
            None => Ok(Written::Yes),
            Some(Condition::UnderLimit) => Ok(Written::Refused),
            // A 238-bit token or a ULID colliding is not going to happen; if it does, say so.
            Some(_) => Err(internal(Collision)),
        }
    }

    /// [`Store::insert_token`] with `more` writes in the same transaction; which
    /// condition failed, if one did.
    pub(super) async fn insert_token_with(
        &self,
        record: &TokenRecord,
        limit: u32,
        more: Vec<Write>,
    ) -> Result<Option<Condition>, Error> {
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
        let mut items = vec![Write::update(Condition::UnderLimit, counter)];
        items.extend(self.new_token_writes(record, None)?);
        items.extend(more);
        self.transact(items).await
    }

    /// The items of a new token — metadata, lookup, its maker's index item, its expiry
    /// item — and its `created` event; with `replaces`, the token it replaces, which the
    /// new items name (the list shows it; the first use ends its overlap).
    fn new_token_writes(
        &self,
        record: &TokenRecord,
        replaces: Option<&TokenRecord>,
    ) -> Result<Vec<Write>, Error> {
        let pk = keys::account(&record.account);
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
        if let Some(app) = &record.app {
            meta.extend([
                ("client_id".into(), s(&app.client_id)),
                ("client_name".into(), s(&app.client_name)),
                ("access_until".into(), time(app.access_until)),
                ("generation".into(), n(app.generation)),
            ]);
        }
        let mut lookup = lookup_item(record);
        if let Some(old) = replaces {
            meta.insert("replaces_id".into(), s(old.id.as_str()));
            meta.insert("replaces_hint".into(), s(&old.hint));
            lookup.insert("replaces_id".into(), s(old.id.as_str()));
            lookup.insert("replaces_hash".into(), s(old.hash.as_str()));
        }
        let created = TokenEvent {
            token_id: record.id.clone(),
            at: record.created_at,
            kind: EventKind::created(&record.created_by, record.scopes, record.expires_at),
        };
        let made_by = Item::from([
            (keys::PK.into(), s(&pk)),
            (
                keys::SK.into(),
                s(keys::made_by(&record.created_by, &record.id)),
            ),
            ("token_id".into(), s(record.id.as_str())),
        ]);
        let mut items = vec![
            self.create_op(meta)?,
            self.create_op(lookup)?,
            self.create_op(made_by)?,
            self.event_op(&record.account, &created)?,
        ];
        if let Some(at) = record.expires_at {
            items.push(self.create_op(Item::from([
                (keys::PK.into(), s(&pk)),
                (keys::SK.into(), s(keys::expiry(at, &record.id))),
                ("token_id".into(), s(record.id.as_str())),
            ]))?);
        }
        Ok(items)
    }

    /// Rotates `old` into `new` in one transaction: the new token takes the old one's
    /// place in the count, the old one's items say what replaced it and until when it
    /// works, and both histories record the rotation by `by`. [`Written::Refused`] when
    /// `old` changed since it was read (revoked, rotated or retired meanwhile).
    pub async fn rotate_token(
        &self,
        old: &TokenRecord,
        new: &TokenRecord,
        replacement: &Replacement,
        by: &str,
        overlap_minutes: i64,
    ) -> Result<Written, Error> {
        let pk = keys::account(&old.account);
        let replaced = |update: aws_sdk_dynamodb::types::builders::UpdateBuilder| {
            update
                .expression_attribute_values(":by", s(new.id.as_str()))
                .expression_attribute_values(":hint", s(&new.hint))
                .expression_attribute_values(":at", time(replacement.at))
                .expression_attribute_values(":until", time(replacement.works_until))
        };
        const SET: &str =
            "SET replaced_by = :by, replaced_hint = :hint, replaced_at = :at, works_until = :until";
        // A live token counts; its place passes to the new one.
        let meta = replaced(Update::builder())
            .table_name(&self.table)
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(keys::token(&old.id)))
            .update_expression(format!("{SET}, counted = :false"))
            .condition_expression(
                "attribute_exists(PK) AND revoked = :false AND counted = :true AND attribute_not_exists(replaced_by) AND attribute_not_exists(deleted)",
            )
            .expression_attribute_values(":true", flag(true))
            .expression_attribute_values(":false", flag(false))
            .build()
            .map_err(internal)?;
        let lookup = replaced(Update::builder())
            .table_name(&self.table)
            .key(keys::PK, s(keys::token_hash(&old.hash)))
            .key(keys::SK, s(keys::TOKEN_HASH_SK))
            .update_expression(SET)
            .build()
            .map_err(internal)?;
        let rotated = |token_id: &TokenId, replaced_by, replaces| TokenEvent {
            token_id: token_id.clone(),
            at: replacement.at,
            kind: EventKind::Rotated {
                by: by.to_owned(),
                overlap_minutes,
                replaced_by,
                replaces,
            },
        };
        let mut items = vec![
            Write::update(Condition::Rotatable, meta),
            Write::update(Condition::Always, lookup),
            self.event_op(&old.account, &rotated(&old.id, Some(new.id.clone()), None))?,
            self.event_op(&old.account, &rotated(&new.id, None, Some(old.id.clone())))?,
        ];
        if let Some(at) = old.expires_at {
            items.push(self.delete_op(&pk, &keys::expiry(at, &old.id))?);
        }
        items.extend(self.new_token_writes(new, Some(old))?);
        match self.transact(items).await? {
            None => Ok(Written::Yes),
            Some(Condition::Rotatable) => Ok(Written::Refused),
            Some(_) => Err(internal(Collision)),
        }
    }

    /// Brings a replaced token's end forward to `until`, unless it ends sooner: its
    /// replacement was used. A token deleted meanwhile is left alone.
    pub async fn end_overlap(
        &self,
        account: &AccountId,
        (id, hash): &(TokenId, TokenHash),
        until: Timestamp,
    ) -> Result<(), Error> {
        let update = |pk: String, sk: String, condition: &str| {
            Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(pk))
                .key(keys::SK, s(sk))
                .update_expression("SET works_until = :until")
                .condition_expression(condition)
                .expression_attribute_values(":until", time(until))
                .build()
                .map_err(internal)
        };
        let sooner = "attribute_exists(PK) AND works_until > :until";
        let items = vec![
            Write::update(
                Condition::EndsLater,
                update(keys::token_hash(hash), keys::TOKEN_HASH_SK.into(), sooner)?,
            ),
            Write::update(
                Condition::EndsLater,
                update(keys::account(account), keys::token(id), sooner)?,
            ),
        ];
        // Ending sooner already is the only way it fails, and then there is nothing to do.
        self.transact(items).await.map(|_| ())
    }

    /// Records that the replaced token of `grant` was used after its overlap, from
    /// `from`, in its history and its replacement's — at most once per token since
    /// `stale_before`, so that a client stuck on it does not fill either history.
    pub async fn record_reuse(
        &self,
        grant: &Grant,
        from: Option<&str>,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> Result<(), Error> {
        let Some(replacement) = &grant.replacement else {
            return Ok(());
        };
        let seen = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::token_hash(&grant.hash)))
            .key(keys::SK, s(keys::TOKEN_HASH_SK))
            .update_expression("SET reuse_recorded_at = :now")
            .condition_expression("attribute_exists(PK) AND (attribute_not_exists(reuse_recorded_at) OR reuse_recorded_at < :stale)")
            .expression_attribute_values(":now", time(now))
            .expression_attribute_values(":stale", time(stale_before))
            .build()
            .map_err(internal)?;
        let reused = |token_id: &TokenId, replaced_by, replaces| TokenEvent {
            token_id: token_id.clone(),
            at: now,
            kind: EventKind::ReusedAfterRotation {
                from: from.map(str::to_owned),
                replaced_by,
                replaces,
            },
        };
        let old = &grant.token_id;
        let items = vec![
            Write::update(Condition::UseStale, seen),
            self.event_op(
                &grant.account,
                &reused(old, Some(replacement.by.clone()), None),
            )?,
            self.event_op(
                &grant.account,
                &reused(&replacement.by, None, Some(old.clone())),
            )?,
        ];
        // Recorded lately already, or the token is gone: nothing to add.
        self.transact(items).await.map(|_| ())
    }

    /// Deletes an inactive token's row from the list, for `by`: its metadata stays,
    /// marked, for its history; its lookup item goes, so that nothing — not a looser
    /// policy either — can make it work again; a place it still held is freed.
    /// [`Written::Refused`] when it changed since it was read.
    pub async fn hide_token(
        &self,
        record: &TokenRecord,
        by: &str,
        now: Timestamp,
    ) -> Result<Written, Error> {
        let pk = keys::account(&record.account);
        let counted = if record.counted {
            " AND counted = :true"
        } else {
            " AND counted = :false"
        };
        let meta = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(keys::token(&record.id)))
            .update_expression("SET deleted = :true, counted = :false")
            .condition_expression(format!(
                "attribute_exists(PK) AND attribute_not_exists(deleted){counted}"
            ))
            .expression_attribute_values(":true", flag(true))
            .expression_attribute_values(":false", flag(false))
            .build()
            .map_err(internal)?;
        let deleted = TokenEvent {
            token_id: record.id.clone(),
            at: now,
            kind: EventKind::Deleted { by: by.to_owned() },
        };
        let mut items = vec![
            Write::update(Condition::AsRead, meta),
            self.delete_op(&keys::token_hash(&record.hash), keys::TOKEN_HASH_SK)?,
            self.event_op(&record.account, &deleted)?,
        ];
        items.extend(self.freeing(record)?);
        match self.transact(items).await? {
            None => Ok(Written::Yes),
            Some(Condition::AsRead) => Ok(Written::Refused),
            Some(other) => Err(collided(other)),
        }
    }

    /// The token behind a hash, read strongly consistent: a revoke must be seen by the
    /// very next call.
    pub async fn find_token(&self, hash: &TokenHash) -> Result<Option<Grant>, Error> {
        self.get(keys::token_hash(hash), keys::TOKEN_HASH_SK.into())
            .await?
            .map(|item| grant_from_item(hash, &item))
            .transpose()
    }

    /// The tokens behind many hashes (a leak report), read strongly consistent, 100 keys
    /// a request; unknown hashes are simply absent.
    pub async fn find_tokens(&self, hashes: &[TokenHash]) -> Result<Vec<Grant>, Error> {
        let keys: Vec<(String, String)> = hashes
            .iter()
            .map(|h| (keys::token_hash(h), keys::TOKEN_HASH_SK.to_owned()))
            .collect();
        let items = self.get_many(keys).await?;
        items
            .iter()
            .filter_map(|item| {
                let pk = item.opt_string(keys::PK)?;
                let hash = hashes.iter().find(|h| keys::token_hash(h) == pk)?;
                Some(grant_from_item(hash, item))
            })
            .collect()
    }

    /// The records of the tokens behind grants (what a revoke needs), 100 a request.
    pub async fn tokens_of(&self, grants: &[Grant]) -> Result<Vec<TokenRecord>, Error> {
        let keys: Vec<(String, String)> = grants
            .iter()
            .map(|g| (keys::account(&g.account), keys::token(&g.token_id)))
            .collect();
        let items = self.get_many(keys).await?;
        items
            .iter()
            .filter_map(|item| {
                let (account, id) = (item.opt_string(keys::PK)?, item.opt_string("token_id")?);
                let grant = grants
                    .iter()
                    .find(|g| g.token_id.as_str() == id && keys::account(&g.account) == account)?;
                Some(record_from_item(&grant.account, item))
            })
            .collect()
    }

    /// Records a use of the token on both its items, unless one was recorded since
    /// `stale_before`: concurrent calls from any number of instances write it once.
    pub async fn touch_token(
        &self,
        grant: &Grant,
        from: Option<&str>,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> Result<(), Error> {
        // An unknown address is recorded as none: not as the previous use's.
        let set = match from {
            Some(_) => "SET last_used_at = :now, last_used_ip = :ip",
            None => "SET last_used_at = :now REMOVE last_used_ip",
        };
        let update = |pk: String, sk: String, condition: &str, stale: Option<Timestamp>| {
            let mut values = Item::from([(":now".into(), time(now))]);
            put_opt(&mut values, ":stale", stale.map(time));
            put_opt(&mut values, ":ip", from.map(s));
            Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(pk))
                .key(keys::SK, s(sk))
                .update_expression(set)
                .condition_expression(condition)
                .set_expression_attribute_values(Some(values))
                .build()
                .map_err(internal)
        };
        let lookup = update(
            keys::token_hash(&grant.hash),
            keys::TOKEN_HASH_SK.into(),
            "attribute_exists(PK) AND (attribute_not_exists(last_used_at) OR last_used_at < :stale)",
            Some(stale_before),
        )?;
        let meta = update(
            keys::account(&grant.account),
            keys::token(&grant.token_id),
            "attribute_exists(PK)",
            None,
        )?;
        let items = vec![
            Write::update(Condition::UseStale, lookup),
            Write::update(Condition::Exists, meta),
        ];
        // Another call recorded the use first, or the token is gone: nothing to do.
        self.transact(items).await.map(|_| ())
    }

    /// One page of the account's tokens that `keep` keeps, newest first; with `creator`,
    /// only the tokens that user made (a member's view), read through their index items —
    /// one Query and one BatchGetItem, never a colleague's item, and a cursor that names
    /// only theirs. A page may hold fewer than `size` tokens when `keep` drops some.
    pub async fn list_tokens(
        &self,
        account: &AccountId,
        size: usize,
        after: Option<&Position>,
        creator: Option<&str>,
        keep: &(dyn Fn(&TokenRecord) -> bool + Sync),
    ) -> Result<Slice<TokenRecord>, Error> {
        let pk = keys::account(account);
        let Some(creator) = creator else {
            let record = |item: &Item| record_from_item(account, item);
            return self
                .page(
                    &pk,
                    keys::TOKEN_PREFIX,
                    true,
                    size,
                    after,
                    record,
                    Some(keep),
                )
                .await;
        };
        // Index pages of what is still wanted, until the page is full: at most a few.
        let prefix = keys::made_by_prefix(creator);
        let ids = |item: &Item| item.parsed("token_id", TokenId::parse);
        let mut items = Vec::new();
        let mut next = after.cloned();
        for _ in 0..MEMBER_PAGE_ROUNDS {
            let wanted = size.saturating_sub(items.len());
            let slice = self
                .page(&pk, &prefix, true, wanted, next.as_ref(), ids, None)
                .await?;
            let mut records = self.tokens(account, &slice.items).await?;
            records.retain(|record| keep(record));
            items.extend(records);
            next = slice.next;
            if items.len() >= size || next.is_none() {
                break;
            }
        }
        Ok(Slice { items, next })
    }

    /// Every token `user` made in the account, oldest first (an offboarding's list).
    pub async fn tokens_made_by(
        &self,
        account: &AccountId,
        user: &str,
    ) -> Result<Vec<TokenRecord>, Error> {
        let pk = keys::account(account);
        let index = self
            .all(
                &pk,
                &keys::made_by_prefix(user),
                "this user made more tokens than one request can go through",
            )
            .await?;
        let ids: Vec<TokenId> = index
            .iter()
            .map(|item| item.parsed("token_id", TokenId::parse))
            .collect::<Result<_, _>>()?;
        self.tokens(account, &ids).await
    }

    /// The records of these tokens of the account, in the same order (one BatchGetItem
    /// per 100, strongly consistent); a token with no record is left out.
    async fn tokens(
        &self,
        account: &AccountId,
        ids: &[TokenId],
    ) -> Result<Vec<TokenRecord>, Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let pk = keys::account(account);
        let items = self
            .get_many(ids.iter().map(|id| (pk.clone(), keys::token(id))).collect())
            .await?;
        let mut records: Vec<TokenRecord> = items
            .iter()
            .map(|item| record_from_item(account, item))
            .collect::<Result<_, _>>()?;
        records.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
        Ok(records)
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
        revocation: &Revocation,
        now: Timestamp,
    ) -> Result<Written, Error> {
        let pk = keys::account(&record.account);
        let counted = if record.counted {
            " AND counted = :true"
        } else {
            ""
        };
        // Both items say why; only the metadata says by whom and from where.
        let why = [
            ("revoked_reason", Some(revocation.reason.as_str())),
            ("leak_url", revocation.url.as_deref()),
        ];
        let more = [
            ("revoked_by", revocation.by.as_deref()),
            ("leak_source", revocation.source.as_deref()),
        ];
        let mut meta = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(keys::token(&record.id)))
            // The hash as read: a connected app's refresh replaces it, and the revoke must
            // reach the access token that works now.
            .condition_expression(format!(
                "attribute_exists(PK) AND revoked = :false AND token_hash = :hash{counted}"
            ))
            .expression_attribute_values(":true", flag(true))
            .expression_attribute_values(":false", flag(false))
            .expression_attribute_values(":hash", s(record.hash.as_str()))
            .expression_attribute_values(":now", time(now));
        let mut lookup = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::token_hash(&record.hash)))
            .key(keys::SK, s(keys::TOKEN_HASH_SK))
            .expression_attribute_values(":true", flag(true))
            .expression_attribute_values(":now", time(now));
        let mut meta_sets = vec!["revoked = :true, revoked_at = :now, counted = :false".to_owned()];
        let mut lookup_sets = vec!["revoked = :true, revoked_at = :now".to_owned()];
        for (name, value) in why.into_iter().chain(more) {
            let Some(value) = value else { continue };
            meta = meta.expression_attribute_values(format!(":{name}"), s(value));
            meta_sets.push(format!("{name} = :{name}"));
            if why.iter().any(|(n, _)| *n == name) {
                lookup = lookup.expression_attribute_values(format!(":{name}"), s(value));
                lookup_sets.push(format!("{name} = :{name}"));
            }
        }
        let meta = meta
            .update_expression(format!("SET {}", meta_sets.join(", ")))
            .build()
            .map_err(internal)?;
        let lookup = lookup
            .update_expression(format!("SET {}", lookup_sets.join(", ")))
            .build()
            .map_err(internal)?;
        let revoked = TokenEvent {
            token_id: record.id.clone(),
            at: now,
            kind: EventKind::revoked(revocation),
        };
        let mut items = vec![
            Write::update(Condition::NotRevoked, meta),
            Write::update(Condition::Always, lookup),
            self.event_op(&record.account, &revoked)?,
        ];
        items.extend(self.freeing(record)?);
        match self.transact(items).await? {
            None => Ok(Written::Yes),
            Some(Condition::NotRevoked) => Ok(Written::Refused),
            Some(other) => Err(collided(other)),
        }
    }

    /// Stops counting the account's expired tokens against the limit; returns how many
    /// places were freed. Runs only when the limit is reached, so its Query is rare.
    pub async fn retire_expired(&self, account: &AccountId, now: Timestamp) -> Result<u32, Error> {
        let pk = keys::account(account);
        // Counted tokens with an expiry each have an item sorted by it: the expired ones
        // are one range, however many tokens the account ever made.
        let (from, to) = keys::expiries_until(now);
        let expired = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":to", s(to))
            .limit(RETIRE_AT_ONCE)
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?
            .items
            .unwrap_or_default();
        let mut freed: u32 = 0;
        for item in expired {
            let id = item.parsed("token_id", TokenId::parse)?;
            let expiry = self.delete_op(&pk, &item.string(keys::SK)?)?;
            let retire = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(&pk))
                .key(keys::SK, s(keys::token(&id)))
                .update_expression("SET counted = :false")
                .condition_expression("counted = :true")
                .expression_attribute_values(":true", flag(true))
                .expression_attribute_values(":false", flag(false))
                .build()
                .map_err(internal)?;
            let items = vec![
                Write::update(Condition::StillCounted, retire),
                Write::update(Condition::Always, self.uncount(&pk)?),
                expiry.clone(),
            ];
            match self.transact(items).await? {
                None => freed = freed.saturating_add(1),
                // A concurrent revoke or retire freed it already: only the expiry item is
                // left to tidy.
                Some(Condition::StillCounted) => {
                    self.transact(vec![expiry]).await?;
                }
                Some(other) => return Err(collided(other)),
            }
        }
        Ok(freed)
    }

    pub(super) fn delete_op(&self, pk: &str, sk: &str) -> Result<Write, Error> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .build()
            .map_err(internal)?;
        Ok(Write::new(
            Condition::Always,
            TransactWriteItem::builder().delete(delete).build(),
        ))
    }

    /// What frees a place the token still holds: the counter down, its expiry item gone.
    fn freeing(&self, record: &TokenRecord) -> Result<Vec<Write>, Error> {
        if !record.counted {
            return Ok(Vec::new());
        }
        let pk = keys::account(&record.account);
        let mut items = vec![Write::update(Condition::Always, self.uncount(&pk)?)];
        if let Some(at) = record.expires_at {
            items.push(self.delete_op(&pk, &keys::expiry(at, &record.id))?);
        }
        Ok(items)
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

/// Index pages a member's filtered listing reads to fill one page (each a Query and a
/// BatchGetItem); then the page ends early, with a cursor.
const MEMBER_PAGE_ROUNDS: usize = 3;

/// Expired tokens one retire frees: enough for the generate that needed a place.
const RETIRE_AT_ONCE: i32 = 5;

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
        ("creator_role".into(), s(record.creator_role.as_str())),
        ("revoked".into(), flag(false)),
    ]);
    if record.app.is_some() {
        item.insert("kind".into(), s(OAUTH_KIND));
    }
    put_opt(&mut item, "expires_at", record.expires_at.map(time));
    put_opt(
        &mut item,
        "allowed_ips",
        record
            .allowed_ips
            .as_ref()
            .map(|ips| AttributeValue::L(ips.to_strings().into_iter().map(s).collect())),
    );
    item
}

/// The item a token is found by: what it grants, keyed by its hash. A connected app's
/// access token works until its hour is up (or its grant ends, if that is sooner).
pub(super) fn lookup_item(record: &TokenRecord) -> Item {
    let mut lookup = common_attributes(record);
    lookup.extend([
        (keys::PK.into(), s(keys::token_hash(&record.hash))),
        (keys::SK.into(), s(keys::TOKEN_HASH_SK)),
        ("account".into(), s(record.account.as_str())),
    ]);
    if let Some(app) = &record.app {
        let until = record
            .expires_at
            .map_or(app.access_until, |at| at.min(app.access_until));
        lookup.insert("expires_at".into(), time(until));
        put_opt(&mut lookup, "last_used_at", record.last_used_at.map(time));
    }
    lookup
}

/// `kind` of a connected app's items; a personal token's have none.
const OAUTH_KIND: &str = "oauth";

/// The app of a grant's metadata item, if it is one.
fn connected_app(item: &Item) -> Result<Option<ConnectedApp>, Error> {
    if item.opt_string("kind").as_deref() != Some(OAUTH_KIND) {
        return Ok(None);
    }
    Ok(Some(ConnectedApp {
        client_id: item.string("client_id")?,
        client_name: item.string("client_name")?,
        access_until: item.time("access_until")?,
        generation: u32::try_from(item.int("generation")?).map_err(|_| corrupt("generation"))?,
    }))
}

/// The allowlist as stored; written validated, so an entry that no longer parses is a
/// corrupt item, never a looser list.
fn allowed_ips(item: &Item) -> Result<Option<AllowedIps>, Error> {
    AllowedIps::parse(&item.strings("allowed_ips")).map_err(|_| corrupt("allowed_ips"))
}

/// The token's lookup item, as what it grants.
fn grant_from_item(hash: &TokenHash, item: &Item) -> Result<Grant, Error> {
    Ok(Grant {
        account: item.parsed("account", AccountId::parse)?,
        token_id: item.parsed("token_id", TokenId::parse)?,
        hash: hash.clone(),
        scopes: Scopes::parse(item.strings("scopes")).map_err(|_| corrupt("scopes"))?,
        creator_role: creator_role(item),
        created_at: item.time("created_at")?,
        expires_at: item.opt_time("expires_at"),
        allowed_ips: allowed_ips(item)?,
        revoked: item.flag("revoked"),
        revoked_reason: item.opt_parsed("revoked_reason", RevokedReason::parse),
        leak_url: item.opt_string("leak_url"),
        last_used_at: item.opt_time("last_used_at"),
        replacement: replacement(item)?,
        replaces: item
            .opt_parsed("replaces_id", TokenId::parse)
            .zip(item.opt_string("replaces_hash").map(TokenHash::from_stored)),
        connected: item.opt_string("kind").as_deref() == Some(OAUTH_KIND),
    })
}

/// What a rotation left on either of the old token's items.
fn replacement(item: &Item) -> Result<Option<Replacement>, Error> {
    let Some(by) = item.opt_parsed("replaced_by", TokenId::parse) else {
        return Ok(None);
    };
    Ok(Some(Replacement {
        by,
        hint: item.string("replaced_hint")?,
        at: item.time("replaced_at")?,
        works_until: item.time("works_until")?,
    }))
}

/// The maker's role; tokens made before roles were kept count as members' (the member
/// scopes can only narrow them).
fn creator_role(item: &Item) -> Role {
    Role::from_claim(item.opt_string("creator_role").as_deref())
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
        creator_role: creator_role(item),
        created_at: item.time("created_at")?,
        expires_at: item.opt_time("expires_at"),
        last_used_at: item.opt_time("last_used_at"),
        last_used_ip: item.opt_string("last_used_ip"),
        revoked_at: item.opt_time("revoked_at"),
        revocation: item
            .opt_parsed("revoked_reason", RevokedReason::parse)
            .map(|reason| Revocation {
                reason,
                by: item.opt_string("revoked_by"),
                url: item.opt_string("leak_url"),
                source: item.opt_string("leak_source"),
            }),
        hash: TokenHash::from_stored(item.string("token_hash")?),
        counted: item.flag("counted"),
        allowed_ips: allowed_ips(item)?,
        replacement: replacement(item)?,
        replaces: item
            .opt_parsed("replaces_id", TokenId::parse)
            .zip(item.opt_string("replaces_hint")),
        deleted: item.flag("deleted"),
        app: connected_app(item)?,
    })
}
