//! Account profiles: written by the Knotie platform (here: the local seed), read to know
//! whether an account may use its tokens.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{keys, n, s, unavailable, ItemExt, Store};
use crate::error::Error;
use crate::identity::AccountId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub plan: String,
    /// A plan feature: without it every MCP call with the account's tokens is refused.
    pub api_access: bool,
    /// Credits bought and not yet allocated to a customer.
    pub credit_pool: i64,
}

impl Store {
    pub async fn get_account(&self, id: &AccountId) -> Result<Option<Account>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::account(id)))
            .key(keys::SK, s(keys::PROFILE))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        Ok(Some(Account {
            id: id.clone(),
            name: item.string("name")?,
            plan: item.string("plan")?,
            api_access: item.flag("api_access"),
            credit_pool: item.opt_int("credit_pool").unwrap_or(0),
        }))
    }

    /// Creates or replaces a profile (seeding and tests).
    pub async fn put_account(&self, account: &Account) -> Result<(), Error> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(keys::PK, s(keys::account(&account.id)))
            .item(keys::SK, s(keys::PROFILE))
            .item("name", s(&account.name))
            .item("plan", s(&account.plan))
            .item("api_access", AttributeValue::Bool(account.api_access))
            .item("credit_pool", n(account.credit_pool))
            .item(
                "updated_at",
                n(time::OffsetDateTime::now_utc().unix_timestamp()),
            )
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
