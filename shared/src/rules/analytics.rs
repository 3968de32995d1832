//! Call analytics: usage over a date range from the daily rollups, and the latest calls.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::model::calls::{
    format_date, Call, DateRange, Figures, Group, GroupBy, Rollup, Usage, RECENT_CALLS,
};
use crate::model::hashing::Pepper;
use crate::model::ids::{self, AccountId, AgentId, CustomerId};
use crate::model::page::{Page, PageRequest};
use crate::store::Store;

/// Which calls a question is about.
#[derive(Debug, Clone, Default)]
pub struct CallFilter<'a> {
    pub customer_id: Option<&'a str>,
    pub agent_id: Option<&'a str>,
}

/// The filter as ids; `None` when an id of the wrong shape means nothing can match.
struct Ids {
    customer: Option<CustomerId>,
    agent: Option<AgentId>,
}

impl CallFilter<'_> {
    fn ids(&self) -> Option<Ids> {
        Some(Ids {
            customer: ids::filter(self.customer_id, CustomerId::parse)?,
            agent: ids::filter(self.agent_id, AgentId::parse)?,
        })
    }
}

/// Usage over `range` (UTC days), grouped, optionally for one customer or agent.
pub async fn usage(
    store: &Store,
    account: &AccountId,
    range: DateRange,
    group_by: GroupBy,
    filter: CallFilter<'_>,
) -> Result<Usage, Error> {
    let rollups = match filter.ids() {
        Some(ids) => store
            .rollups(account, range)
            .await?
            .into_iter()
            .filter(|r| {
                ids.customer.as_ref().is_none_or(|c| &r.customer_id == c)
                    && ids.agent.as_ref().is_none_or(|a| &r.agent_id == a)
            })
            .collect(),
        None => Vec::new(),
    };
    let names: BTreeMap<String, String> = match group_by {
        GroupBy::Day => BTreeMap::new(),
        GroupBy::Agent => store
            .all_agents(account)
            .await?
            .into_iter()
            .map(|a| (a.agent_id.to_string(), a.name))
            .collect(),
        GroupBy::Customer => store
            .all_customers(account)
            .await?
            .into_iter()
            .map(|c| (c.customer_id.to_string(), c.name))
            .collect(),
    };
    Ok(summarize(range, group_by, &rollups, &names))
}

/// The figures of a set of rollups: in total and per group, busiest group first (days in
/// order).
fn summarize(
    range: DateRange,
    group_by: GroupBy,
    rollups: &[Rollup],
    names: &BTreeMap<String, String>,
) -> Usage {
    let mut totals = Figures::default();
    let mut groups: BTreeMap<String, Figures> = BTreeMap::new();
    for r in rollups {
        let key = match group_by {
            GroupBy::Day => r.date.clone(),
            GroupBy::Agent => r.agent_id.to_string(),
            GroupBy::Customer => r.customer_id.to_string(),
        };
        totals.add(r);
        groups.entry(key).or_default().add(r);
    }
    let mut groups: Vec<Group> = groups
        .into_iter()
        .map(|(key, figures)| Group {
            name: names.get(&key).cloned(),
            key,
            figures,
        })
        .collect();
    if group_by != GroupBy::Day {
        groups.sort_by_key(|g| std::cmp::Reverse(g.figures.calls));
    }
    Usage {
        start_date: format_date(range.start),
        end_date: format_date(range.end),
        group_by,
        totals,
        groups,
    }
}

/// The latest calls, newest first, optionally one customer's or agent's; paged.
pub async fn recent_calls(
    store: &Store,
    pepper: &Pepper,
    account: &AccountId,
    filter: CallFilter<'_>,
    request: &PageRequest,
) -> Result<Page<Call>, Error> {
    let start = RECENT_CALLS.start(pepper, account, request)?;
    let Some(ids) = filter.ids() else {
        return Ok(Page::empty());
    };
    let slice = store
        .recent_calls(
            account,
            start.size,
            start.after.as_ref(),
            ids.customer.as_ref(),
            ids.agent.as_ref(),
        )
        .await?;
    Ok(RECENT_CALLS.page(pepper, account, slice))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::Timestamp;
    use time::macros::date;

    fn rollup(date: &str, agent: &AgentId, customer: &CustomerId, calls: i64) -> Rollup {
        Rollup {
            date: date.into(),
            agent_id: agent.clone(),
            customer_id: customer.clone(),
            calls,
            seconds: calls * 60,
            credits: calls,
            successes: calls / 2,
        }
    }

    #[test]
    fn usage_is_totalled_and_grouped_busiest_first() {
        let now = Timestamp::from_unix(0).unwrap();
        let (a1, a2) = (AgentId::new(now).unwrap(), AgentId::new(now).unwrap());
        let c = CustomerId::new(now).unwrap();
        let rollups = [
            rollup("2026-11-01", &a1, &c, 2),
            rollup("2026-11-01", &a2, &c, 5),
            rollup("2026-11-02", &a1, &c, 4),
        ];
        let range = DateRange {
            start: date!(2026 - 11 - 01),
            end: date!(2026 - 11 - 02),
        };
        let names = BTreeMap::from([(a2.to_string(), "Max".to_owned())]);
        let by_agent = summarize(range, GroupBy::Agent, &rollups, &names);
        assert_eq!(by_agent.totals.calls, 11);
        assert_eq!(by_agent.groups[0].key, a1.to_string());
        assert_eq!(by_agent.groups[0].figures.calls, 6);
        assert_eq!(by_agent.groups[1].name.as_deref(), Some("Max"));
        let by_day = summarize(range, GroupBy::Day, &rollups, &names);
        let days: Vec<&str> = by_day.groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(days, ["2026-11-01", "2026-11-02"]);
        assert_eq!(by_day.start_date, "2026-11-01");
    }

    #[test]
    fn a_malformed_id_in_a_filter_matches_nothing() {
        let filter = CallFilter {
            customer_id: Some("cus_nope"),
            agent_id: None,
        };
        assert!(filter.ids().is_none());
        assert!(CallFilter::default().ids().is_some());
    }
}
