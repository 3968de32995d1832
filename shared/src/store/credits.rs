//! Credit items: the pool on the account's profile, each customer's balance on its item,
//! the ledger (`LEDGER#<id>`, newest first) and idempotency records (`IDEMP#<key>`).

use aws_sdk_dynamodb::types::Update;

use super::ops::{collided, Condition, Write};

use super::customers::customer_from_item;
use super::item::{n, put_opt, s, time, Item, ItemExt};
use super::{internal, keys, Store};
use crate::error::Error;
use crate::model::credits::{
    Change, IdempotencyKey, IdempotencyRecord, Transaction, TransactionKind,
};
use crate::model::customers::Customer;
use crate::model::events::TokenEvent;
use crate::model::ids::{AccountId, CustomerId, TransactionId};
use crate::model::page::{Position, Slice};

/// How an allocation's transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    Yes,
    /// A balance changed since it was read (another allocation): nothing was written.
    BalanceChanged,
    /// The idempotency key was used meanwhile: nothing was written.
    KeyUsed,
}

impl Store {
    /// What an allocation decides on, in one batch read (strongly consistent): the pool,
    /// the customer, and what the key already did, if anything.
    pub async fn allocation_state(
        &self,
        account: &AccountId,
        customer: &CustomerId,
        key: &IdempotencyKey,
    ) -> Result<(i64, Option<Customer>, Option<IdempotencyRecord>), Error> {
        let pk = keys::account(account);
        let items = self
            .get_many(vec![
                (pk.clone(), keys::PROFILE.to_owned()),
                (pk.clone(), keys::customer(customer)),
                (pk, keys::idempotency(key)),
            ])
            .await?;
        let by_sk = |sk: &str| {
            items
                .iter()
                .find(|i| i.opt_string(keys::SK).as_deref() == Some(sk))
        };
        let pool = by_sk(keys::PROFILE)
            .and_then(|p| p.opt_int("credit_pool"))
            .unwrap_or(0);
        let found = by_sk(&keys::customer(customer))
            .map(customer_from_item)
            .transpose()?;
        let done = by_sk(&keys::idempotency(key))
            .map(idempotency_from_item)
            .transpose()?;
        Ok((pool, found, done))
    }

    pub async fn idempotency(
        &self,
        account: &AccountId,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, Error> {
        self.get(keys::account(account), keys::idempotency(key))
            .await?
            .as_ref()
            .map(idempotency_from_item)
            .transpose()
    }

    pub async fn transaction(
        &self,
        account: &AccountId,
        id: &TransactionId,
    ) -> Result<Option<Transaction>, Error> {
        self.get(keys::account(account), keys::ledger(id))
            .await?
            .as_ref()
            .map(transaction_from_item)
            .transpose()
    }

    /// Moves credits from the pool to a customer in one transaction: both balances (each
    /// only if unchanged since read), the ledger entry and the idempotency record (only if
    /// the key is unused).
    pub async fn commit_allocation(
        &self,
        account: &AccountId,
        (pool, balance): (Change, Change),
        t: &Transaction,
        key: &IdempotencyKey,
        event: Option<&TokenEvent>,
    ) -> Result<Committed, Error> {
        let pk = keys::account(account);
        let customer = t
            .customer_id
            .as_ref()
            .ok_or_else(|| Error::Internal("an allocation names no customer".into()))?;
        let mut writes = vec![
            self.set_if_unchanged(&pk, keys::PROFILE, "credit_pool", pool)?,
            self.set_if_unchanged(&pk, &keys::customer(customer), "credits", balance)?,
            self.create_op(ledger_item(account, t))?,
            Write {
                condition: Condition::KeyUnused,
                ..self.create_op(Item::from([
                    (keys::PK.into(), s(&pk)),
                    (keys::SK.into(), s(keys::idempotency(key))),
                    ("transaction_id".into(), s(t.transaction_id.as_str())),
                    ("customer_id".into(), s(customer.as_str())),
                    ("amount".into(), n(t.amount)),
                ]))?
            },
        ];
        if let Some(event) = event {
            writes.push(self.event_op(account, event)?);
        }
        match self.transact(writes).await? {
            None => Ok(Committed::Yes),
            Some(Condition::BalanceAsRead) => Ok(Committed::BalanceChanged),
            Some(Condition::KeyUnused) => Ok(Committed::KeyUsed),
            Some(other) => Err(collided(other)),
        }
    }

    /// The ledger, newest first, optionally one customer's transactions only.
    pub async fn transactions(
        &self,
        account: &AccountId,
        size: usize,
        after: Option<&Position>,
        customer: Option<&CustomerId>,
    ) -> Result<Slice<Transaction>, Error> {
        let of_customer =
            customer.map(|c| move |t: &Transaction| t.customer_id.as_ref() == Some(c));
        self.page(
            &keys::account(account),
            keys::LEDGER_PREFIX,
            true,
            size,
            after,
            transaction_from_item,
            of_customer.as_ref().map(|f| f as _),
        )
        .await
    }

    pub(super) fn set_if_unchanged(
        &self,
        pk: &str,
        sk: &str,
        field: &str,
        change: Change,
    ) -> Result<Write, Error> {
        let update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .update_expression("SET #f = :new")
            .condition_expression("#f = :old")
            .expression_attribute_names("#f", field)
            .expression_attribute_values(":old", n(change.from))
            .expression_attribute_values(":new", n(change.to))
            .build()
            .map_err(internal)?;
        Ok(Write::update(Condition::BalanceAsRead, update))
    }
}

fn idempotency_from_item(item: &Item) -> Result<IdempotencyRecord, Error> {
    Ok(IdempotencyRecord {
        transaction_id: item.parsed("transaction_id", TransactionId::parse)?,
        customer_id: item.parsed("customer_id", CustomerId::parse)?,
        amount: item.int("amount")?,
    })
}

pub(super) fn ledger_item(account: &AccountId, t: &Transaction) -> Item {
    let mut item = Item::from([
        (keys::PK.into(), s(keys::account(account))),
        (keys::SK.into(), s(keys::ledger(&t.transaction_id))),
        ("transaction_id".into(), s(t.transaction_id.as_str())),
        ("kind".into(), s(t.kind.as_str())),
        ("amount".into(), n(t.amount)),
        ("pool_balance".into(), n(t.pool_balance)),
        ("created_by".into(), s(&t.created_by)),
        ("created_at".into(), time(t.created_at)),
    ]);
    put_opt(
        &mut item,
        "customer_id",
        t.customer_id.as_ref().map(|c| s(c.as_str())),
    );
    put_opt(&mut item, "customer_balance", t.customer_balance.map(n));
    put_opt(&mut item, "note", t.note.as_deref().map(s));
    item
}

fn transaction_from_item(item: &Item) -> Result<Transaction, Error> {
    Ok(Transaction {
        transaction_id: item.parsed("transaction_id", TransactionId::parse)?,
        kind: item.parsed("kind", TransactionKind::parse)?,
        customer_id: item.opt_parsed("customer_id", CustomerId::parse),
        amount: item.int("amount")?,
        pool_balance: item.int("pool_balance")?,
        customer_balance: item.opt_int("customer_balance"),
        note: item.opt_string("note"),
        created_by: item.string("created_by")?,
        created_at: item.time("created_at")?,
    })
}
