//! Creating the table with the layout of [`keys`](super::keys), for the local stack and
//! tests; deployed tables come from `template.yaml`, which a test checks against it.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

use super::{internal, keys, unavailable, Store};
use crate::error::Error;

impl Store {
    /// Creates the table unless it exists.
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
