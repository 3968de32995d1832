//! Writes that are not this service's to make in production — account profiles (the
//! Knotie platform's), credit purchases (billing's), calls and their usage (the voice
//! platform's) — for the local stack's demo data and the tests. Compiled only with the
//! `seed` feature, which no function enables.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};

use super::calls::call_items;
use super::credits::ledger_item;
use super::item::{flag, n, s, time, Item};
use super::retry::Budget;
use super::{internal, keys, unavailable, Store};
use crate::error::Error;
use crate::model::account::Account;
use crate::model::calls::{format_date, Call};
use crate::model::credits::{Change, Transaction, TransactionKind};
use crate::model::ids::{AccountId, AgentId, CustomerId, TransactionId};
use crate::model::time::Timestamp;

impl Store {
    /// Creates or replaces a profile, whole, as the platform does; the account's token
    /// policy is an item of its own and stays as it is (`account.policy` is not written).
    pub async fn put_account(&self, account: &Account, now: Timestamp) -> Result<(), Error> {
        let item = Item::from([
            (keys::PK.into(), s(keys::account(&account.id))),
            (keys::SK.into(), s(keys::PROFILE)),
            ("name".into(), s(&account.name)),
            ("plan".into(), s(&account.plan)),
            ("api_access".into(), flag(account.api_access)),
            ("credit_pool".into(), n(account.credit_pool)),
            ("updated_at".into(), time(now)),
        ]);
        self.put_all(vec![item]).await
    }

    /// Ledger entries written as they are (purchases into the pool).
    pub async fn put_transactions(
        &self,
        account: &AccountId,
        transactions: &[Transaction],
    ) -> Result<(), Error> {
        let items = transactions.iter().map(|t| ledger_item(account, t));
        self.put_all(items.collect()).await
    }

    /// Stores calls and adds them to the daily rollups, one atomic ADD per rollup per
    /// batch, not one per call.
    pub async fn record_calls(&self, account: &AccountId, calls: &[Call]) -> Result<(), Error> {
        let items = calls.iter().flat_map(|c| call_items(account, c));
        self.put_all(items.collect()).await?;
        let mut rollups: BTreeMap<(String, &AgentId), (&CustomerId, [i64; 4])> = BTreeMap::new();
        for c in calls {
            let (_, sums) = rollups
                .entry((format_date(c.started_at.date()), &c.agent_id))
                .or_insert((&c.customer_id, [0; 4]));
            let figures = [
                1,
                c.duration_seconds,
                c.credits_used,
                i64::from(c.outcome.is_success()),
            ];
            for (sum, value) in sums.iter_mut().zip(figures) {
                *sum = sum.saturating_add(value);
            }
        }
        for ((date, agent), (customer, sums)) in rollups {
            self.client
                .update_item()
                .table_name(&self.table)
                .key(keys::PK, s(keys::usage(account)))
                .key(keys::SK, s(keys::usage_day(&date, agent)))
                .update_expression(
                    "ADD calls :c, seconds :s, credits :k, successes :w \
                     SET #date = :date, agent_id = :agent, customer_id = :customer",
                )
                .expression_attribute_names("#date", "date")
                .expression_attribute_values(":c", n(sums[0]))
                .expression_attribute_values(":s", n(sums[1]))
                .expression_attribute_values(":k", n(sums[2]))
                .expression_attribute_values(":w", n(sums[3]))
                .expression_attribute_values(":date", s(&date))
                .expression_attribute_values(":agent", s(agent.as_str()))
                .expression_attribute_values(":customer", s(customer.as_str()))
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    /// Charges a customer for credits its calls used, as a ledger entry; the balance never
    /// goes below zero (a larger charge is refused).
    pub async fn charge_usage(
        &self,
        account: &AccountId,
        customer: &CustomerId,
        used: i64,
        note: &str,
        now: Timestamp,
    ) -> Result<Transaction, Error> {
        let pk = keys::account(account);
        let store = self.in_call();
        loop {
            let (profile, found) =
                tokio::try_join!(self.account(account), self.customer(account, customer))?;
            let pool = profile.map_or(0, |p| p.credit_pool);
            let balance = found
                .ok_or_else(|| Error::Internal("usage for an unknown customer".into()))?
                .credits;
            if balance < used {
                return Err(Error::InsufficientCredits {
                    available: balance,
                    requested: used,
                });
            }
            let t = Transaction {
                transaction_id: TransactionId::new(now)?,
                kind: TransactionKind::Usage,
                customer_id: Some(customer.clone()),
                amount: 0_i64.saturating_sub(used),
                pool_balance: pool,
                customer_balance: Some(balance.saturating_sub(used)),
                note: Some(note.to_owned()),
                created_by: "usage".into(),
                created_at: now,
            };
            let change = Change {
                from: balance,
                to: balance.saturating_sub(used),
            };
            let writes = vec![
                self.set_if_unchanged(&pk, &keys::customer(customer), "credits", change)?,
                self.create_op(ledger_item(account, &t))?,
            ];
            if store.transact(writes).await?.is_none() {
                return Ok(t);
            }
            store
                .wait_to_retry("balances kept changing while recording usage")
                .await?;
        }
    }

    /// Writes many items, 25 per request, resending what DynamoDB leaves over.
    async fn put_all(&self, items: Vec<Item>) -> Result<(), Error> {
        for chunk in items.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    let put = PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map_err(internal)?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<_, Error>>()?;
            // Each chunk is a call of its own: seeding writes thousands of them.
            let budget = Budget::default();
            loop {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(unavailable)?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                budget.wait("writes kept being throttled").await?;
            }
        }
        Ok(())
    }
}
