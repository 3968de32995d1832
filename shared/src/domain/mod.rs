//! The account's data that MCP tools act on: customers, voice agents, credits and call
//! analytics. Each function takes the store and the account it may touch, nothing more,
//! and checks its input before any write.

pub mod agents;
pub mod analytics;
pub mod credits;
pub mod customers;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::cursor;
use crate::error::Error;
use crate::hashing::Pepper;
use crate::identity::AccountId;
use crate::ids;
use crate::store::{keys, n, Item, Store};

/// A page of a listing and the opaque cursor of the next one.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// What customers, agents and ledger transactions share: items in the account's
/// partition, addressed by a public id, listed in sort-key order.
pub(crate) trait Record: Sized {
    /// What it is called in messages, and the name of its listing's cursors.
    const KIND: &'static str;
    const ID_PREFIX: &'static str;
    /// Of the sort keys of all records of this kind (see `store::keys`).
    const SK_PREFIX: &'static str;
    /// Where to find valid ids, for not-found messages.
    const HINT: &'static str;
    const NEWEST_FIRST: bool = false;

    fn sort_key(id: &str) -> String;
    fn from_item(item: &Item) -> Result<Self, Error>;
    fn id(&self) -> &str;

    fn not_found(id: &str) -> Error {
        Error::NotFound {
            what: Self::KIND,
            id: id.to_owned(),
            hint: Self::HINT,
        }
    }
}

/// One record by id; an id of the wrong shape is simply not found.
pub(crate) async fn get<R: Record>(
    store: &Store,
    account: &AccountId,
    id: &str,
) -> Result<R, Error> {
    let item = match ids::is_valid(R::ID_PREFIX, id) {
        true => store.get(keys::account(account), R::sort_key(id)).await?,
        false => None,
    };
    item.as_ref()
        .map(R::from_item)
        .transpose()?
        .ok_or_else(|| R::not_found(id))
}

/// Sets validated fields (and `updated_at`) on an existing record; `fields` lists what
/// may be set, for the message when nothing is.
pub(crate) async fn update<R: Record>(
    store: &Store,
    account: &AccountId,
    id: &str,
    mut sets: Vec<(&'static str, AttributeValue)>,
    fields: &str,
    now: OffsetDateTime,
) -> Result<R, Error> {
    if sets.is_empty() {
        let message = format!("nothing to update: give at least one of {fields}");
        return Err(Error::bad_request("invalid_input", message));
    }
    if !ids::is_valid(R::ID_PREFIX, id) {
        return Err(R::not_found(id));
    }
    sets.push(("updated_at", n(now.unix_timestamp())));
    let item = store
        .update_existing(keys::account(account), R::sort_key(id), sets)
        .await?;
    item.as_ref()
        .map(R::from_item)
        .transpose()?
        .ok_or_else(|| R::not_found(id))
}

/// A page of records that `keep` accepts, and the cursor of the next one, sealed for this
/// account and this kind of record.
pub(crate) async fn page<R: Record>(
    store: &Store,
    pepper: &Pepper,
    account: &AccountId,
    (limit, page_cursor): (Option<u32>, Option<&str>),
    keep: impl Fn(&Item) -> bool,
) -> Result<Page<R>, Error> {
    let limit = page_size(limit, 25, 100)?;
    let after = page_cursor
        .map(|c| cursor::open(pepper, account, R::KIND, c))
        .transpose()?;
    let pk = keys::account(account);
    let (items, more) = store
        .page(
            &pk,
            R::SK_PREFIX,
            R::NEWEST_FIRST,
            limit,
            after.as_deref(),
            keep,
        )
        .await?;
    let items = items
        .iter()
        .map(R::from_item)
        .collect::<Result<Vec<R>, _>>()?;
    let next_cursor = match items.last() {
        Some(last) if more => Some(cursor::seal(
            pepper,
            account,
            R::KIND,
            &R::sort_key(last.id()),
        )),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

/// Every record of this kind in the account.
pub(crate) async fn all<R: Record>(store: &Store, account: &AccountId) -> Result<Vec<R>, Error> {
    store
        .all(&keys::account(account), R::SK_PREFIX)
        .await?
        .iter()
        .map(R::from_item)
        .collect()
}

/// Whether an item's string attribute is `wanted` (or nothing is wanted): list filters.
pub(crate) fn matches(item: &Item, attribute: &str, wanted: Option<&str>) -> bool {
    use crate::store::ItemExt;
    wanted.is_none_or(|w| item.opt_string(attribute).as_deref() == Some(w))
}

/// Unix seconds as RFC 3339 (UTC), the form every API answer uses.
pub fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Trimmed text of 1..=`max` characters without control characters (`allow_newlines` for
/// prompts).
pub(crate) fn text(
    field: &str,
    value: &str,
    max: usize,
    allow_newlines: bool,
) -> Result<String, Error> {
    let value = value.trim();
    let invalid = |message: String| Err(Error::bad_request("invalid_input", message));
    if value.is_empty() {
        return invalid(format!("{field} must not be empty"));
    }
    if value.chars().count() > max {
        return invalid(format!("{field} must be at most {max} characters"));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\t')))
    {
        return invalid(format!("{field} must not contain control characters"));
    }
    Ok(value.to_owned())
}

/// A page size given by a caller, or the default.
pub(crate) fn page_size(limit: Option<u32>, default: usize, max: usize) -> Result<usize, Error> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&(n as usize)) => Ok(n as usize),
        Some(_) => Err(Error::bad_request(
            "invalid_limit",
            format!("limit must be a whole number from 1 to {max}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(text("name", "  Acme  ", 10, false).unwrap(), "Acme");
        assert!(text("name", "   ", 10, false).is_err());
        assert!(text("name", "12345678901", 10, false).is_err());
        assert!(text("name", "a\nb", 10, false).is_err());
        assert_eq!(text("prompt", "a\nb", 10, true).unwrap(), "a\nb");
        assert!(text("prompt", "a\u{7}b", 10, true).is_err());
    }
}
