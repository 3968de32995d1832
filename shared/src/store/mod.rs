//! DynamoDB access. All items of an account share its partition; every access pattern is
//! a GetItem or a Query (never a Scan), and every write that could race is conditional.

pub mod accounts;
pub mod keys;
pub mod tokens;

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;

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

/// Any failure to reach or use DynamoDB: the caller gets 503, the log gets the cause.
pub(crate) fn unavailable<E, R>(err: SdkError<E, R>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    Error::Unavailable {
        what: "the token store",
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
