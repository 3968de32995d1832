//! Credits: balances, allocations from the pool to a customer (atomic, never negative, at
//! most once per idempotency key), and the ledger.

use super::customers;
use crate::error::Error;
use crate::model::credits::{
    check_amount, Allocation, Balances, Change, CustomerBalance, IdempotencyKey, IdempotencyRecord,
    Transaction, TransactionKind, LISTING, NOTE,
};
use crate::model::events::Actor;
use crate::model::hashing::Pepper;
use crate::model::ids::{self, AccountId, CustomerId, TransactionId};
use crate::model::page::{Page, PageRequest};
use crate::model::time::Timestamp;
use crate::store::credits::Committed;
use crate::store::Store;

pub async fn balances(store: &Store, account: &AccountId) -> Result<Balances, Error> {
    let (profile, all) = tokio::try_join!(store.account(account), store.all_customers(account))?;
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
        allocated: customers
            .iter()
            .fold(0_i64, |sum, c| sum.saturating_add(c.credits)),
        customers,
    })
}

/// What the caller asks to allocate.
#[derive(Debug, Clone)]
pub struct AllocationRequest<'a> {
    pub customer_id: &'a str,
    pub amount: i64,
    pub idempotency_key: &'a str,
    pub note: Option<&'a str>,
}

/// Moves credits from the pool to a customer, atomically and at most once per
/// idempotency key: a retried call returns the first result instead of moving twice.
pub async fn allocate(
    store: &Store,
    account: &AccountId,
    actor: &str,
    request: AllocationRequest<'_>,
    now: Timestamp,
    via: Option<&Actor>,
) -> Result<Allocation, Error> {
    let amount = check_amount(request.amount)?;
    let key = IdempotencyKey::parse(request.idempotency_key)?;
    let note = request.note.map(|t| NOTE.check("note", t)).transpose()?;
    let customer = customers::parse_id(request.customer_id)?;
    // Concurrent allocations make the optimistic write try again, within the call's one
    // retry budget (store::retry): a round is 1 batch read and 1 transaction.
    let store = &store.in_call();
    loop {
        // One read of the pool, the customer and the key: a retry of this very allocation
        // may have committed meanwhile, and then its result is the answer.
        let (pool, found, done) = store.allocation_state(account, &customer, &key).await?;
        if let Some(done) = done {
            return replay(store, account, &done, &customer, amount).await;
        }
        let balance = found
            .ok_or_else(|| customers::not_found(request.customer_id))?
            .credits;
        let (pool_change, balance_change) = match decide(pool, balance, amount) {
            Ok(changes) => changes,
            // Not enough credits — unless this very key was allocated between the key
            // check and the pool read (a retry racing its first try): then that is the
            // answer.
            Err(refused) => match store.idempotency(account, &key).await? {
                Some(done) => return replay(store, account, &done, &customer, amount).await,
                None => return Err(refused),
            },
        };
        let transaction = Transaction {
            transaction_id: TransactionId::new(now)?,
            kind: TransactionKind::Allocation,
            customer_id: Some(customer.clone()),
            amount,
            pool_balance: pool_change.to,
            customer_balance: Some(balance_change.to),
            note: note.clone(),
            created_by: actor.to_owned(),
            created_at: now,
        };
        let event = via.map(|a| a.changed(customer.as_str(), now));
        let committed = store
            .commit_allocation(
                account,
                (pool_change, balance_change),
                &transaction,
                &key,
                event.as_ref(),
            )
            .await?;
        match committed {
            Committed::Yes => {
                return Ok(Allocation {
                    transaction,
                    replayed: false,
                })
            }
            // Another allocation won the race for the pool: read again, after a pause
            // that spreads the racers out.
            Committed::BalanceChanged => {
                store
                    .wait_to_retry("balances kept changing during the allocation")
                    .await?
            }
            // A retry of this very allocation committed first: the next round answers
            // with its result.
            Committed::KeyUsed => {}
        }
    }
}

/// The balances after moving `amount` from the pool to a customer: never negative, never
/// overflowing.
fn decide(pool: i64, balance: i64, amount: i64) -> Result<(Change, Change), Error> {
    let insufficient = || Error::InsufficientCredits {
        available: pool,
        requested: amount,
    };
    let new_pool = pool
        .checked_sub(amount)
        .filter(|p| *p >= 0)
        .ok_or_else(insufficient)?;
    let new_balance = balance.checked_add(amount).ok_or_else(|| {
        Error::bad_request(
            "invalid_input",
            "the customer's balance cannot hold that many credits",
        )
    })?;
    Ok((
        Change {
            from: pool,
            to: new_pool,
        },
        Change {
            from: balance,
            to: new_balance,
        },
    ))
}

/// A key already used: the same allocation is answered with its first result; a
/// different one is refused.
fn same_allocation(done: &IdempotencyRecord, customer: &CustomerId, amount: i64) -> bool {
    &done.customer_id == customer && done.amount == amount
}

async fn replay(
    store: &Store,
    account: &AccountId,
    done: &IdempotencyRecord,
    customer: &CustomerId,
    amount: i64,
) -> Result<Allocation, Error> {
    if !same_allocation(done, customer, amount) {
        return Err(Error::Conflict {
            code: "idempotency_key_reused",
            message: "this idempotency_key was already used for a different allocation; use a new key for a new allocation".into(),
        });
    }
    let transaction = store
        .transaction(account, &done.transaction_id)
        .await?
        .ok_or_else(|| {
            Error::Internal(format!("ledger transaction {} is missing", done.transaction_id).into())
        })?;
    Ok(Allocation {
        transaction,
        replayed: true,
    })
}

/// The ledger, newest first, optionally one customer's transactions only.
pub async fn transactions(
    store: &Store,
    pepper: &Pepper,
    account: &AccountId,
    customer_id: Option<&str>,
    request: &PageRequest,
) -> Result<Page<Transaction>, Error> {
    let start = LISTING.start(pepper, account, request)?;
    let Some(customer) = ids::filter(customer_id, CustomerId::parse) else {
        return Ok(Page::empty());
    };
    let slice = store
        .transactions(account, start.size, start.after.as_ref(), customer.as_ref())
        .await?;
    Ok(LISTING.page(pepper, account, slice))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allocation_never_takes_the_pool_below_zero() {
        let (pool, balance) = decide(1_000, 5, 1_000).unwrap();
        assert_eq!((pool.from, pool.to), (1_000, 0));
        assert_eq!((balance.from, balance.to), (5, 1_005));
        let err = decide(999, 5, 1_000).unwrap_err();
        assert_eq!(err.code(), "insufficient_credits");
        assert!(err.to_string().contains("the pool has 999"));
    }

    #[test]
    fn extreme_balances_are_refused_not_overflowed() {
        assert!(decide(i64::MIN, 0, 1).is_err());
        assert!(decide(10, i64::MAX, 1).is_err());
        assert!(decide(-5, 0, 1).is_err());
    }

    #[test]
    fn a_reused_key_matches_only_the_same_allocation() {
        let now = Timestamp::from_unix(0).unwrap();
        let customer = CustomerId::new(now).unwrap();
        let done = IdempotencyRecord {
            transaction_id: TransactionId::new(now).unwrap(),
            customer_id: customer.clone(),
            amount: 10,
        };
        assert!(same_allocation(&done, &customer, 10));
        assert!(!same_allocation(&done, &customer, 11));
        assert!(!same_allocation(&done, &CustomerId::new(now).unwrap(), 10));
    }
}
