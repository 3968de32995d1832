//! Customer items: one per customer in the account's partition, `CUST#<id>`.

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::{n, put_opt, s, time, Item, ItemExt};
use super::{keys, Store};
use crate::error::Error;
use crate::model::customers::{Customer, CustomerChanges, CustomerStatus};
use crate::model::events::TokenEvent;
use crate::model::ids::{AccountId, CustomerId};
use crate::model::page::{Position, Slice};
use crate::model::time::Timestamp;

impl Store {
    pub async fn customer(
        &self,
        account: &AccountId,
        id: &CustomerId,
    ) -> Result<Option<Customer>, Error> {
        self.get(keys::account(account), keys::customer(id))
            .await?
            .as_ref()
            .map(customer_from_item)
            .transpose()
    }

    /// Writes a new customer, and the history event of the token that made it, if any.
    pub async fn insert_customer(
        &self,
        account: &AccountId,
        c: &Customer,
        event: Option<&TokenEvent>,
    ) -> Result<(), Error> {
        let mut writes = vec![self.create_op(customer_item(account, c))?];
        if let Some(event) = event {
            writes.push(self.event_op(account, event)?);
        }
        match self.transact(writes).await? {
            None => Ok(()),
            Some(other) => Err(super::ops::collided(other)),
        }
    }

    /// Applies the changes to an existing customer; `None` if there is none with that id.
    pub async fn update_customer(
        &self,
        account: &AccountId,
        id: &CustomerId,
        changes: &CustomerChanges,
        now: Timestamp,
        event: Option<&TokenEvent>,
    ) -> Result<Option<Customer>, Error> {
        let mut sets: Vec<(&str, AttributeValue)> = vec![("updated_at", time(now))];
        let c = changes.clone();
        sets.extend(c.name.map(|v| ("name", s(v))));
        sets.extend(c.email.map(|v| ("email", s(v))));
        sets.extend(c.phone.map(|v| ("phone", s(v))));
        sets.extend(c.status.map(|v| ("status", s(v.as_str()))));
        let key = (keys::account(account), keys::customer(id));
        let updated = match event {
            Some(event) => {
                self.update_existing_recorded(key, sets, account, event)
                    .await?
            }
            None => self.update_existing(key.0, key.1, sets).await?,
        };
        updated.as_ref().map(customer_from_item).transpose()
    }

    /// A page of customers, oldest first, optionally of one status.
    pub async fn customers(
        &self,
        account: &AccountId,
        size: usize,
        after: Option<&Position>,
        status: Option<CustomerStatus>,
    ) -> Result<Slice<Customer>, Error> {
        let of_status = status.map(|s| move |c: &Customer| c.status == s);
        self.page(
            &keys::account(account),
            keys::CUSTOMER_PREFIX,
            false,
            size,
            after,
            customer_from_item,
            of_status.as_ref().map(|f| f as _),
        )
        .await
    }

    /// Every customer of the account (balances, names for analytics).
    pub async fn all_customers(&self, account: &AccountId) -> Result<Vec<Customer>, Error> {
        let too_many = "this account has more customers than one answer can hold";
        self.all(&keys::account(account), keys::CUSTOMER_PREFIX, too_many)
            .await?
            .iter()
            .map(customer_from_item)
            .collect()
    }
}

fn customer_item(account: &AccountId, c: &Customer) -> Item {
    let mut item = Item::from([
        (keys::PK.into(), s(keys::account(account))),
        (keys::SK.into(), s(keys::customer(&c.customer_id))),
        ("customer_id".into(), s(c.customer_id.as_str())),
        ("name".into(), s(&c.name)),
        ("status".into(), s(c.status.as_str())),
        ("credits".into(), n(c.credits)),
        ("created_at".into(), time(c.created_at)),
        ("updated_at".into(), time(c.updated_at)),
    ]);
    put_opt(&mut item, "email", c.email.as_deref().map(s));
    put_opt(&mut item, "phone", c.phone.as_deref().map(s));
    item
}

pub(super) fn customer_from_item(item: &Item) -> Result<Customer, Error> {
    Ok(Customer {
        customer_id: item.parsed("customer_id", CustomerId::parse)?,
        name: item.string("name")?,
        email: item.opt_string("email"),
        phone: item.opt_string("phone"),
        status: item.parsed("status", CustomerStatus::parse)?,
        credits: item.int("credits")?,
        created_at: item.time("created_at")?,
        updated_at: item.time("updated_at")?,
    })
}
