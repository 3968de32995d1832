//! Call items (`CALLS#<account>`, one per call, by start time) and daily usage rollups
//! (`USAGE#<account>`, one per agent and day). Both partitions grow with traffic; the
//! account's own partition does not.

#[cfg(feature = "seed")]
use super::item::{n, s, time};
use super::item::{Item, ItemExt};
use super::{keys, Store};
use crate::error::Error;
use crate::model::calls::{format_date, Call, DateRange, Outcome, Rollup};
use crate::model::ids::{AccountId, AgentId, CallId, CustomerId};
use crate::model::page::{Position, Slice};

impl Store {
    /// A page of the latest calls, newest first: the account's, or one agent's or one
    /// customer's from its own partition — one Query, whatever the rest of the history.
    /// Given both, the agent's calls are read and kept only if they are the customer's
    /// (an agent serves one customer: all are, or none).
    pub async fn recent_calls(
        &self,
        account: &AccountId,
        size: usize,
        after: Option<&Position>,
        customer: Option<&CustomerId>,
        agent: Option<&AgentId>,
    ) -> Result<Slice<Call>, Error> {
        let pk = match (agent, customer) {
            (Some(agent), _) => keys::calls_of_agent(account, agent),
            (None, Some(customer)) => keys::calls_of_customer(account, customer),
            (None, None) => keys::calls(account),
        };
        let of_customer = customer
            .filter(|_| agent.is_some())
            .map(|c| move |call: &Call| &call.customer_id == c);
        let mut slice = self
            .page(
                &pk,
                keys::CALL_PREFIX,
                true,
                size,
                after,
                call_from_item,
                of_customer.as_ref().map(|f| f as _),
            )
            .await?;
        if of_customer.is_some() && slice.items.is_empty() {
            // The agent serves another customer: no later page can match either.
            slice.next = None;
        }
        Ok(slice)
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
        let too_many = "the range holds more usage than one answer can: narrow it";
        self.query_all("PK = :pk AND SK BETWEEN :from AND :to", &values, too_many)
            .await?
            .iter()
            .map(rollup_from_item)
            .collect()
    }
}

/// The call's items: the same attributes in the account's, the agent's and the customer's
/// partitions.
#[cfg(feature = "seed")]
pub(super) fn call_items(account: &AccountId, c: &Call) -> [Item; 3] {
    [
        keys::calls(account),
        keys::calls_of_agent(account, &c.agent_id),
        keys::calls_of_customer(account, &c.customer_id),
    ]
    .map(|pk| call_item(pk, c))
}

#[cfg(feature = "seed")]
fn call_item(pk: String, c: &Call) -> Item {
    Item::from([
        (keys::PK.into(), s(pk)),
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
        // The voice platform may report outcomes this version does not know yet.
        outcome: item
            .opt_parsed("outcome", Outcome::parse)
            .unwrap_or(Outcome::Failed),
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
