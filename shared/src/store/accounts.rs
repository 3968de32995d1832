//! Account profiles: written by the Knotie platform (here: the seed), read on every MCP
//! call to know whether the account may use its tokens, and by allocations for the pool.

use super::item::{Item, ItemExt};
use super::{keys, Store};
use crate::error::Error;
use crate::model::account::Account;
use crate::model::ids::AccountId;

impl Store {
    /// The profile, strongly consistent: a change of plan applies to the next call.
    pub async fn account(&self, id: &AccountId) -> Result<Option<Account>, Error> {
        self.get(keys::account(id), keys::PROFILE.into())
            .await?
            .map(|item| account_from_item(id, &item))
            .transpose()
    }
}

pub(super) fn account_from_item(id: &AccountId, item: &Item) -> Result<Account, Error> {
    Ok(Account {
        id: id.clone(),
        name: item.string("name")?,
        plan: item.string("plan")?,
        api_access: item.flag("api_access"),
        credit_pool: item.opt_int("credit_pool").unwrap_or(0),
    })
}
