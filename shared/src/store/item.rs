//! Attribute values in and out of items: the few conversions every item mapping uses. A
//! missing or mistyped attribute on a stored item is a corrupt item, reported, never
//! guessed.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::Error;
use crate::model::time::Timestamp;

pub(crate) type Item = HashMap<String, AttributeValue>;

#[derive(Debug, thiserror::Error)]
#[error("stored item lacks a valid `{0}` attribute")]
pub(crate) struct CorruptItem(pub String);

pub(crate) fn corrupt(name: &str) -> Error {
    Error::Internal(Box::new(CorruptItem(name.into())))
}

pub(crate) trait ItemExt {
    fn string(&self, name: &str) -> Result<String, Error>;
    fn opt_string(&self, name: &str) -> Option<String>;
    fn int(&self, name: &str) -> Result<i64, Error>;
    fn opt_int(&self, name: &str) -> Option<i64>;
    fn time(&self, name: &str) -> Result<Timestamp, Error>;
    fn opt_time(&self, name: &str) -> Option<Timestamp>;
    fn flag(&self, name: &str) -> bool;
    fn strings(&self, name: &str) -> Vec<String>;
    /// A string attribute parsed into a type (an id, an enum).
    fn parsed<T>(&self, name: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, Error>;
    fn opt_parsed<T>(&self, name: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T>;
}

impl ItemExt for Item {
    fn string(&self, name: &str) -> Result<String, Error> {
        self.opt_string(name).ok_or_else(|| corrupt(name))
    }

    fn opt_string(&self, name: &str) -> Option<String> {
        self.get(name)?.as_s().ok().cloned()
    }

    fn int(&self, name: &str) -> Result<i64, Error> {
        self.opt_int(name).ok_or_else(|| corrupt(name))
    }

    fn opt_int(&self, name: &str) -> Option<i64> {
        self.get(name)?.as_n().ok()?.parse().ok()
    }

    fn time(&self, name: &str) -> Result<Timestamp, Error> {
        self.opt_time(name).ok_or_else(|| corrupt(name))
    }

    fn opt_time(&self, name: &str) -> Option<Timestamp> {
        self.opt_int(name).and_then(Timestamp::from_unix)
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

    fn parsed<T>(&self, name: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, Error> {
        self.opt_parsed(name, parse).ok_or_else(|| corrupt(name))
    }

    fn opt_parsed<T>(&self, name: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        self.get(name)?.as_s().ok().and_then(|s| parse(s))
    }
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn time(at: Timestamp) -> AttributeValue {
    n(at.unix())
}

pub(crate) fn flag(value: bool) -> AttributeValue {
    AttributeValue::Bool(value)
}

/// Adds `name` to an item when the value is there.
pub(crate) fn put_opt(item: &mut Item, name: &str, value: Option<AttributeValue>) {
    if let Some(value) = value {
        item.insert(name.to_owned(), value);
    }
}
