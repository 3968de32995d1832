//! A token's history: one item per event in the account's partition,
//! `EVENT#<token>#<event id>`, written in the same transaction as what it records, and
//! removed by DynamoDB's TTL after 400 days.

use aws_sdk_dynamodb::types::AttributeValue;

use super::ops::Write;

use super::item::{n, put_opt, s, time, Item, ItemExt};
use super::{keys, Store};
use crate::error::Error;
use crate::model::events::{EventKind, RevokedReason, TokenEvent, KEPT_DAYS};
use crate::model::ids::{AccountId, EventId, TokenId};
use crate::model::page::{Position, Slice};
use crate::model::time::Timestamp;

impl Store {
    /// The put that records `event`, for the transaction that makes it happen.
    pub(super) fn event_op(&self, account: &AccountId, event: &TokenEvent) -> Result<Write, Error> {
        let id = EventId::new(event.at)?;
        self.create_op(event_item(account, &id, event))
    }

    /// A page of a token's history, newest first.
    pub async fn token_events(
        &self,
        account: &AccountId,
        token: &TokenId,
        size: usize,
        after: Option<&Position>,
    ) -> Result<Slice<TokenEvent>, Error> {
        self.page(
            &keys::account(account),
            &keys::events_of(token),
            true,
            size,
            after,
            event_from_item,
            None,
        )
        .await
    }
}

fn event_item(account: &AccountId, id: &EventId, e: &TokenEvent) -> Item {
    let expires =
        e.at.checked_add(time::Duration::days(KEPT_DAYS))
            .map_or(i64::MAX, Timestamp::unix);
    let mut item = Item::from([
        (keys::PK.into(), s(keys::account(account))),
        (keys::SK.into(), s(keys::event(&e.token_id, id))),
        ("token_id".into(), s(e.token_id.as_str())),
        ("at".into(), time(e.at)),
        (keys::TTL.into(), n(expires)),
    ]);
    let put = |item: &mut Item, name: &str, value: Option<&str>| put_opt(item, name, value.map(s));
    match &e.kind {
        EventKind::Created {
            by,
            scopes,
            expires_at,
        } => {
            put(&mut item, "type", Some("created"));
            put(&mut item, "by", Some(by));
            let scopes = scopes.iter().map(s).collect();
            item.insert("scopes".into(), AttributeValue::L(scopes));
            put_opt(&mut item, "expires_at", expires_at.map(time));
        }
        EventKind::Revoked {
            reason,
            by,
            url,
            source,
        } => {
            put(&mut item, "type", Some("revoked"));
            put(&mut item, "reason", Some(reason.as_str()));
            put(&mut item, "by", by.as_deref());
            put(&mut item, "url", url.as_deref());
            put(&mut item, "source", source.as_deref());
        }
        EventKind::Changed { tool, target } => {
            put(&mut item, "type", Some("changed"));
            put(&mut item, "tool", Some(tool));
            put(&mut item, "target", Some(target));
        }
        EventKind::Rotated {
            by,
            overlap_minutes,
            replaced_by,
            replaces,
        } => {
            put(&mut item, "type", Some("rotated"));
            put(&mut item, "by", Some(by));
            item.insert("overlap_minutes".into(), n(*overlap_minutes));
            put_rotation(&mut item, replaced_by, replaces);
        }
        EventKind::ReusedAfterRotation {
            from,
            replaced_by,
            replaces,
        } => {
            put(&mut item, "type", Some("reused_after_rotation"));
            put(&mut item, "from", from.as_deref());
            put_rotation(&mut item, replaced_by, replaces);
        }
        EventKind::Deleted { by } => {
            put(&mut item, "type", Some("deleted"));
            put(&mut item, "by", Some(by));
        }
    }
    item
}

/// The other token of a rotation's events: the one that replaced this, or that this
/// replaced.
fn put_rotation(item: &mut Item, replaced_by: &Option<TokenId>, replaces: &Option<TokenId>) {
    for (name, id) in [("replaced_by", replaced_by), ("replaces", replaces)] {
        put_opt(item, name, id.as_ref().map(|id| s(id.as_str())));
    }
}

fn event_from_item(item: &Item) -> Result<TokenEvent, Error> {
    let kind = match item.string("type")?.as_str() {
        "created" => EventKind::Created {
            by: item.string("by")?,
            scopes: item.strings("scopes"),
            expires_at: item.opt_time("expires_at"),
        },
        "revoked" => EventKind::Revoked {
            reason: item.parsed("reason", RevokedReason::parse)?,
            by: item.opt_string("by"),
            url: item.opt_string("url"),
            source: item.opt_string("source"),
        },
        "changed" => EventKind::Changed {
            tool: item.string("tool")?,
            target: item.string("target")?,
        },
        "rotated" => EventKind::Rotated {
            by: item.string("by")?,
            overlap_minutes: item.opt_int("overlap_minutes").unwrap_or(0),
            replaced_by: item.opt_parsed("replaced_by", TokenId::parse),
            replaces: item.opt_parsed("replaces", TokenId::parse),
        },
        "reused_after_rotation" => EventKind::ReusedAfterRotation {
            from: item.opt_string("from"),
            replaced_by: item.opt_parsed("replaced_by", TokenId::parse),
            replaces: item.opt_parsed("replaces", TokenId::parse),
        },
        "deleted" => EventKind::Deleted {
            by: item.string("by")?,
        },
        _ => return Err(super::item::corrupt("type")),
    };
    Ok(TokenEvent {
        token_id: item.parsed("token_id", TokenId::parse)?,
        at: item.time("at")?,
        kind,
    })
}
