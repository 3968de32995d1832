//! Call items (`CALLS#<account>`, one per call, by start time) and daily usage rollups
//! (`USAGE#<account>`, one per agent and day). Both partitions grow with traffic; the
//! account's own partition does not.

use super::item::{n, s, time, Item, ItemExt};
use super::{keys, Store};
use crate::error::Error;
use crate::model::calls::{format_date, Call, DateRange, Outcome, Rollup};
use crate::model::ids::{AccountId, AgentId, CallId, CustomerId};

impl Store {
    /// The latest calls, newest first, optionally one customer's or agent's.
    pub async fn recent_calls(
        &self,
        account: &AccountId,
        size: usize,
        customer: Option<&CustomerId>,
        agent: Option<&AgentId>,
    ) -> Result<Vec<Call>, Error> {
        let (calls, _) = self
            .page(
                &keys::calls(account),
                keys::CALL_PREFIX,
                true,
                size,
                None,
                call_from_item,
                |c| {
                    customer.is_none_or(|id| &c.customer_id == id)
                        && agent.is_none_or(|id| &c.agent_id == id)
                },
            )
            .await?;
        Ok(calls)
    }

    /// The daily rollups of every agent over a range: one Query of at most
    /// days × agents small items.
    pub async fn rollups(
        &self,
        account: &AccountId,
        range: DateRange,
    ) -> Result<Vec<Rollup>, Error> {
        let (from, to) = keys::usage_days(&format_date(range.start), &format_date(range.end));
        let pk = keys::usage(account);
        let values = [
            (":pk", pk.as_str()),
            (":from", from.as_str()),
            (":to", to.as_str()),
        ];
        self.query_all("PK = :pk AND SK BETWEEN :from AND :to", &values)
            .await?
            .iter()
            .map(rollup_from_item)
            .collect()
    }
}

#[cfg(feature = "seed")]
pub(super) fn call_item(account: &AccountId, c: &Call) -> Item {
    Item::from([
        (keys::PK.into(), s(keys::calls(account))),
        (keys::SK.into(), s(keys::call(c.started_at, &c.call_id))),
        ("call_id".into(), s(c.call_id.as_str())),
        ("agent_id".into(), s(c.agent_id.as_str())),
        ("customer_id".into(), s(c.customer_id.as_str())),
        ("started_at".into(), time(c.started_at)),
        ("duration_seconds".into(), n(c.duration_seconds)),
        ("outcome".into(), s(c.outcome.as_str())),
        ("credits_used".into(), n(c.credits_used)),
        ("caller".into(), s(&c.caller)),
        ("summary".into(), s(&c.summary)),
    ])
}

fn call_from_item(item: &Item) -> Result<Call, Error> {
    Ok(Call {
        call_id: item.parsed("call_id", CallId::parse)?,
        agent_id: item.parsed("agent_id", AgentId::parse)?,
        customer_id: item.parsed("customer_id", CustomerId::parse)?,
        started_at: item.time("started_at")?,
        duration_seconds: item.int("duration_seconds")?,
        outcome: item.parsed("outcome", Outcome::parse)?,
        credits_used: item.int("credits_used")?,
        caller: item.string("caller")?,
        summary: item.string("summary")?,
    })
}

fn rollup_from_item(item: &Item) -> Result<Rollup, Error> {
    Ok(Rollup {
        date: item.string("date")?,
        agent_id: item.parsed("agent_id", AgentId::parse)?,
        customer_id: item.parsed("customer_id", CustomerId::parse)?,
        calls: item.int("calls")?,
        seconds: item.int("seconds")?,
        credits: item.int("credits")?,
        successes: item.int("successes")?,
    })
}
