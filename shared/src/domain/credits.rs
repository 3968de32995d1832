//! Credits: the account's pool, bought by the agency, and what it allocates to each
//! customer. Every movement is a ledger transaction; balances never go negative.

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use serde::Serialize;
use time::OffsetDateTime;

use super::{customers, matches, rfc3339, Page, Record};
use crate::error::Error;
use crate::hashing::Pepper;
use crate::identity::AccountId;
use crate::ids;
use crate::store::{keys, n, s, Item, ItemExt, Store};

pub const TRANSACTION_PREFIX: &str = "txn_";
pub const MAX_ALLOCATION: i64 = 1_000_000;
/// Concurrent allocations make the optimistic write retry; past this, report contention.
const MAX_ROUNDS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balances {
    /// Credits bought and not yet allocated.
    pub pool: i64,
    /// Sum of all customers' balances.
    pub allocated: i64,
    pub customers: Vec<CustomerBalance>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerBalance {
    pub customer_id: String,
    pub name: String,
    pub credits: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transaction {
    pub transaction_id: String,
    /// `purchase` (into the pool), `allocation` (pool → customer) or `usage` (calls).
    pub kind: String,
    pub customer_id: Option<String>,
    pub amount: i64,
    /// The pool after this transaction.
    pub pool_balance: i64,
    /// The customer's balance after this transaction, for allocations.
    pub customer_balance: Option<i64>,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allocation {
    #[serde(flatten)]
    pub transaction: Transaction,
    /// True when this idempotency key had already allocated: nothing moved this time.
    pub replayed: bool,
}

pub async fn balances(store: &Store, account: &AccountId) -> Result<Balances, Error> {
    let (profile, all) =
        tokio::try_join!(store.get_account(account), customers::all(store, account))?;
    let customers: Vec<CustomerBalance> = all
        .into_iter()
        .map(|c| CustomerBalance {
            customer_id: c.customer_id,
            name: c.name,
            credits: c.credits,
        })
        .collect();
    Ok(Balances {
        pool: profile.map_or(0, |p| p.credit_pool),
        allocated: customers.iter().map(|c| c.credits).sum(),
        customers,
    })
}

/// Moves `amount` credits from the pool to a customer, atomically and at most once per
/// idempotency key: a retried call returns the first result instead of moving twice.
#[allow(clippy::too_many_arguments)]
pub async fn allocate(
    store: &Store,
    account: &AccountId,
    actor: &str,
    customer_id: &str,
    amount: i64,
    idempotency_key: &str,
    note: Option<&str>,
    now: OffsetDateTime,
) -> Result<Allocation, Error> {
    if !(1..=MAX_ALLOCATION).contains(&amount) {
        return Err(Error::bad_request(
            "invalid_input",
            format!("amount must be a whole number of credits from 1 to {MAX_ALLOCATION}"),
        ));
    }
    let key = idempotency_key.trim();
    if key.is_empty() || key.len() > 100 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::bad_request(
            "invalid_input",
            "idempotency_key must be 1 to 100 visible ASCII characters, unique per allocation (e.g. a UUID)",
        ));
    }
    let note = note
        .map(|t| super::text("note", t, 500, false))
        .transpose()?;
    if !ids::is_valid(customers::ID_PREFIX, customer_id) {
        return Err(customers::not_found(customer_id));
    }
    let pk = keys::account(account);
    for _ in 0..MAX_ROUNDS {
        if let Some(done) = store.get(pk.clone(), keys::idempotency(key)).await? {
            return replay(store, account, &done, customer_id, amount).await;
        }
        let (pool, customer) = pool_and_customer(store, &pk, customer_id).await?;
        if pool < amount {
            return Err(Error::InsufficientCredits {
                available: pool,
                requested: amount,
            });
        }
        let balance = customer.int("credits")?;
        let transaction = Transaction {
            transaction_id: ids::new(TRANSACTION_PREFIX, now)?,
            kind: "allocation".into(),
            customer_id: Some(customer_id.to_owned()),
            amount,
            pool_balance: pool - amount,
            customer_balance: Some(balance + amount),
            note: note.clone(),
            created_by: actor.to_owned(),
            created_at: rfc3339(now.unix_timestamp()),
        };
        // Each balance is written only if it is still what was read: a concurrent
        // allocation makes this round fail, and the next one reads afresh.
        let writes = vec![
            set_if_unchanged(
                store,
                &pk,
                keys::PROFILE,
                "credit_pool",
                pool,
                pool - amount,
            )?,
            set_if_unchanged(
                store,
                &pk,
                &keys::customer(customer_id),
                "credits",
                balance,
                balance + amount,
            )?,
            TransactWriteItem::builder()
                .put(store.create_op(ledger_item(account, &transaction, now))?)
                .build(),
            TransactWriteItem::builder()
                .put(store.create_op(Item::from([
                    (keys::PK.into(), s(&pk)),
                    (keys::SK.into(), s(keys::idempotency(key))),
                    ("transaction_id".into(), s(&transaction.transaction_id)),
                    ("customer_id".into(), s(customer_id)),
                    ("amount".into(), n(amount)),
                ]))?)
                .build(),
        ];
        match store.transact(writes).await? {
            None => {
                return Ok(Allocation {
                    transaction,
                    replayed: false,
                })
            }
            Some(2) => return Err(Error::Internal("a new transaction id collided".into())),
            // A balance changed or the key was used meanwhile: read again.
            Some(_) => continue,
        }
    }
    Err(Error::Unavailable {
        what: "the credit ledger",
        source: "balances kept changing during the allocation".into(),
    })
}

/// Charges a customer for credits its calls used (the voice platform reports usage; here
/// the demo seed does). The balance never goes below zero: a larger charge is refused.
pub async fn record_usage(
    store: &Store,
    account: &AccountId,
    customer_id: &str,
    used: i64,
    note: &str,
    now: OffsetDateTime,
) -> Result<Transaction, Error> {
    let pk = keys::account(account);
    for _ in 0..MAX_ROUNDS {
        let (pool, customer) = pool_and_customer(store, &pk, customer_id).await?;
        let balance = customer.int("credits")?;
        if balance < used {
            return Err(Error::InsufficientCredits {
                available: balance,
                requested: used,
            });
        }
        let transaction = Transaction {
            transaction_id: ids::new(TRANSACTION_PREFIX, now)?,
            kind: "usage".into(),
            customer_id: Some(customer_id.to_owned()),
            amount: -used,
            pool_balance: pool,
            customer_balance: Some(balance - used),
            note: Some(note.to_owned()),
            created_by: "usage".into(),
            created_at: rfc3339(now.unix_timestamp()),
        };
        let writes = vec![
            set_if_unchanged(
                store,
                &pk,
                &keys::customer(customer_id),
                "credits",
                balance,
                balance - used,
            )?,
            TransactWriteItem::builder()
                .put(store.create_op(ledger_item(account, &transaction, now))?)
                .build(),
        ];
        if store.transact(writes).await?.is_none() {
            return Ok(transaction);
        }
    }
    Err(Error::Unavailable {
        what: "the credit ledger",
        source: "balances kept changing while recording usage".into(),
    })
}

/// The account's pool and a customer's item, read together (strongly consistent).
async fn pool_and_customer(
    store: &Store,
    pk: &str,
    customer_id: &str,
) -> Result<(i64, Item), Error> {
    let (profile, customer) = tokio::try_join!(
        store.get(pk.to_owned(), keys::PROFILE.to_owned()),
        store.get(pk.to_owned(), keys::customer(customer_id)),
    )?;
    let customer = customer.ok_or_else(|| customers::not_found(customer_id))?;
    Ok((
        profile.and_then(|p| p.opt_int("credit_pool")).unwrap_or(0),
        customer,
    ))
}

fn set_if_unchanged(
    store: &Store,
    pk: &str,
    sk: &str,
    field: &str,
    old: i64,
    new: i64,
) -> Result<TransactWriteItem, Error> {
    let update = Update::builder()
        .table_name(store.table())
        .key(keys::PK, s(pk))
        .key(keys::SK, s(sk))
        .update_expression("SET #f = :new")
        .condition_expression("#f = :old")
        .expression_attribute_names("#f", field)
        .expression_attribute_values(":old", n(old))
        .expression_attribute_values(":new", n(new))
        .build()
        .map_err(|e| Error::Internal(e.into()))?;
    Ok(TransactWriteItem::builder().update(update).build())
}

async fn replay(
    store: &Store,
    account: &AccountId,
    done: &Item,
    customer_id: &str,
    amount: i64,
) -> Result<Allocation, Error> {
    if done.opt_string("customer_id").as_deref() != Some(customer_id)
        || done.opt_int("amount") != Some(amount)
    {
        return Err(Error::Conflict {
            code: "idempotency_key_reused",
            message: "this idempotency_key was already used for a different allocation; use a new key for a new allocation".into(),
        });
    }
    let id = done.string("transaction_id")?;
    let item = store.get(keys::account(account), keys::ledger(&id)).await?;
    let item =
        item.ok_or_else(|| Error::Internal(format!("ledger transaction {id} is missing").into()))?;
    Ok(Allocation {
        transaction: Transaction::from_item(&item)?,
        replayed: true,
    })
}

/// The ledger, newest first, optionally one customer's transactions only.
pub async fn transactions(
    store: &Store,
    pepper: &Pepper,
    account: &AccountId,
    customer_id: Option<&str>,
    limit: Option<u32>,
    page_cursor: Option<&str>,
) -> Result<Page<Transaction>, Error> {
    super::page(store, pepper, account, (limit, page_cursor), |item| {
        matches(item, "customer_id", customer_id)
    })
    .await
}

impl Record for Transaction {
    const KIND: &'static str = "credit transaction";
    const ID_PREFIX: &'static str = TRANSACTION_PREFIX;
    const SK_PREFIX: &'static str = keys::LEDGER_PREFIX;
    const HINT: &'static str = "; list_credit_transactions shows the transaction ids";
    const NEWEST_FIRST: bool = true;

    fn sort_key(id: &str) -> String {
        keys::ledger(id)
    }

    fn from_item(item: &Item) -> Result<Transaction, Error> {
        Ok(Transaction {
            transaction_id: item.string("transaction_id")?,
            kind: item.string("kind")?,
            customer_id: item.opt_string("customer_id"),
            amount: item.int("amount")?,
            pool_balance: item.int("pool_balance")?,
            customer_balance: item.opt_int("customer_balance"),
            note: item.opt_string("note"),
            created_by: item.string("created_by")?,
            created_at: rfc3339(item.int("created_at")?),
        })
    }

    fn id(&self) -> &str {
        &self.transaction_id
    }
}

/// The item of a ledger transaction (also used by the demo seed).
pub fn ledger_item(account: &AccountId, t: &Transaction, at: OffsetDateTime) -> Item {
    let mut item = Item::from([
        (keys::PK.into(), s(keys::account(account))),
        (keys::SK.into(), s(keys::ledger(&t.transaction_id))),
        ("transaction_id".into(), s(&t.transaction_id)),
        ("kind".into(), s(&t.kind)),
        ("amount".into(), n(t.amount)),
        ("pool_balance".into(), n(t.pool_balance)),
        ("created_by".into(), s(&t.created_by)),
        ("created_at".into(), n(at.unix_timestamp())),
    ]);
    if let Some(c) = &t.customer_id {
        item.insert("customer_id".into(), s(c));
    }
    if let Some(b) = t.customer_balance {
        item.insert("customer_balance".into(), n(b));
    }
    if let Some(note) = &t.note {
        item.insert("note".into(), s(note));
    }
    item
}
