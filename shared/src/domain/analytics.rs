//! Calls and usage analytics. Each call is stored once; a daily rollup per agent (calls,
//! seconds, credits, successes) makes any date range a single Query over at most
//! days × agents small items, however many calls there were.

use std::collections::BTreeMap;

use serde::Serialize;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use super::{agents, customers, page_size, rfc3339};
use crate::error::Error;
use crate::identity::AccountId;
use crate::store::{keys, n, s, Item, ItemExt, Store};

pub const MAX_RANGE_DAYS: i64 = 366;
const DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The caller's need was handled.
    Completed,
    /// Handed to a person, as the agent was told to.
    Transferred,
    Voicemail,
    NoAnswer,
    /// Dropped or errored.
    Failed,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Completed,
        Outcome::Transferred,
        Outcome::Voicemail,
        Outcome::NoAnswer,
        Outcome::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Transferred => "transferred",
            Outcome::Voicemail => "voicemail",
            Outcome::NoAnswer => "no_answer",
            Outcome::Failed => "failed",
        }
    }

    /// What the success rate counts as a success.
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Completed | Outcome::Transferred)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Call {
    pub call_id: String,
    pub agent_id: String,
    pub customer_id: String,
    /// Unix seconds; shown as RFC 3339.
    #[serde(serialize_with = "as_rfc3339")]
    pub started_at: i64,
    pub duration_seconds: i64,
    pub outcome: Outcome,
    pub credits_used: i64,
    /// The caller's number, partly masked.
    pub caller: String,
    pub summary: String,
}

fn as_rfc3339<S: serde::Serializer>(unix: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*unix))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Day,
    Agent,
    Customer,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub calls: i64,
    pub minutes: f64,
    pub credits_used: i64,
    /// Completed or transferred calls ÷ all calls, 0 to 1 (null without calls).
    pub success_rate: Option<f64>,
    #[serde(skip)]
    seconds: i64,
    #[serde(skip)]
    successes: i64,
}

impl Figures {
    fn add(&mut self, calls: i64, seconds: i64, credits: i64, successes: i64) {
        self.calls += calls;
        self.seconds += seconds;
        self.credits_used += credits;
        self.successes += successes;
        self.minutes = (self.seconds as f64 / 6.0).round() / 10.0;
        self.success_rate = (self.calls > 0)
            .then(|| (self.successes as f64 * 1000.0 / self.calls as f64).round() / 1000.0);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The day (`YYYY-MM-DD`), agent id or customer id.
    pub key: String,
    /// The agent's or customer's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Usage {
    pub start_date: String,
    pub end_date: String,
    pub group_by: GroupBy,
    pub totals: Figures,
    pub groups: Vec<Group>,
}

/// A date range checked and defaulted: the last 7 days up to `today` when not given.
pub fn date_range(
    start: Option<&str>,
    end: Option<&str>,
    today: Date,
) -> Result<(Date, Date), Error> {
    let parse = |field: &str, value: &str| {
        Date::parse(value.trim(), DATE).map_err(|_| {
            Error::bad_request(
                "invalid_input",
                format!("{field} {value:?} is not a date like 2026-11-24 (YYYY-MM-DD)"),
            )
        })
    };
    let end = end
        .map(|e| parse("end_date", e))
        .transpose()?
        .unwrap_or(today);
    let start = match start {
        Some(s) => parse("start_date", s)?,
        None => end - time::Duration::days(6),
    };
    if start > end {
        return Err(Error::bad_request(
            "invalid_input",
            "start_date must not be after end_date",
        ));
    }
    if (end - start).whole_days() >= MAX_RANGE_DAYS {
        return Err(Error::bad_request(
            "invalid_input",
            format!("the range can span at most {MAX_RANGE_DAYS} days"),
        ));
    }
    Ok((start, end))
}

pub fn format_date(date: Date) -> String {
    date.format(DATE).unwrap_or_default()
}

/// Usage from `start` to `end` inclusive (UTC days), grouped, optionally for one customer
/// or agent.
pub async fn usage(
    store: &Store,
    account: &AccountId,
    (start, end): (Date, Date),
    group_by: GroupBy,
    customer_id: Option<&str>,
    agent_id: Option<&str>,
) -> Result<Usage, Error> {
    let (from, to) = keys::usage_days(&format_date(start), &format_date(end));
    let rollups = store.range(&keys::usage(account), &from, &to).await?;
    let mut totals = Figures::default();
    let mut groups: BTreeMap<String, Figures> = BTreeMap::new();
    for r in &rollups {
        let (agent, customer) = (r.string("agent_id")?, r.string("customer_id")?);
        if customer_id.is_some_and(|c| c != customer) || agent_id.is_some_and(|a| a != agent) {
            continue;
        }
        let figures = (
            r.int("calls")?,
            r.int("seconds")?,
            r.int("credits")?,
            r.int("successes")?,
        );
        let key = match group_by {
            GroupBy::Day => r.string("date")?,
            GroupBy::Agent => agent,
            GroupBy::Customer => customer,
        };
        for f in [&mut totals, groups.entry(key).or_default()] {
            f.add(figures.0, figures.1, figures.2, figures.3);
        }
    }
    let names: BTreeMap<String, String> = match group_by {
        GroupBy::Day => BTreeMap::new(),
        GroupBy::Agent => agents::all(store, account)
            .await?
            .into_iter()
            .map(|a| (a.agent_id, a.name))
            .collect(),
        GroupBy::Customer => customers::all(store, account)
            .await?
            .into_iter()
            .map(|c| (c.customer_id, c.name))
            .collect(),
    };
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
    Ok(Usage {
        start_date: format_date(start),
        end_date: format_date(end),
        group_by,
        totals,
        groups,
    })
}

/// The latest calls, newest first, optionally one customer's or agent's.
pub async fn recent_calls(
    store: &Store,
    account: &AccountId,
    limit: Option<u32>,
    customer_id: Option<&str>,
    agent_id: Option<&str>,
) -> Result<Vec<Call>, Error> {
    let limit = page_size(limit, 10, 50)?;
    let (items, _) = store
        .page(
            &keys::calls(account),
            keys::CALL_PREFIX,
            true,
            limit,
            None,
            |item| {
                customer_id.is_none_or(|c| item.opt_string("customer_id").as_deref() == Some(c))
                    && agent_id.is_none_or(|a| item.opt_string("agent_id").as_deref() == Some(a))
            },
        )
        .await?;
    items.iter().map(call_from_item).collect()
}

/// Stores calls and adds them to the daily rollups. Calls come from the voice platform
/// (here: the demo seed); each rollup gets one atomic ADD per batch, not one per call.
pub async fn record_calls(store: &Store, account: &AccountId, calls: &[Call]) -> Result<(), Error> {
    let items = calls.iter().map(|c| call_item(account, c)).collect();
    store.put_all(items).await?;
    let mut rollups: BTreeMap<(String, &str), (&str, [i64; 4])> = BTreeMap::new();
    for c in calls {
        let date = OffsetDateTime::from_unix_timestamp(c.started_at)
            .map(|t| format_date(t.date()))
            .unwrap_or_default();
        let (_, sums) = rollups
            .entry((date, &c.agent_id))
            .or_insert((&c.customer_id, [0; 4]));
        for (sum, value) in sums.iter_mut().zip([
            1,
            c.duration_seconds,
            c.credits_used,
            i64::from(c.outcome.is_success()),
        ]) {
            *sum += value;
        }
    }
    for ((date, agent), (customer, [calls, seconds, credits, successes])) in rollups {
        store
            .add_to(
                keys::usage(account),
                keys::usage_day(&date, agent),
                &[
                    ("calls", calls),
                    ("seconds", seconds),
                    ("credits", credits),
                    ("successes", successes),
                ],
                &[
                    ("date", s(&date)),
                    ("agent_id", s(agent)),
                    ("customer_id", s(customer)),
                ],
            )
            .await?;
    }
    Ok(())
}

fn call_item(account: &AccountId, c: &Call) -> Item {
    Item::from([
        (keys::PK.into(), s(keys::calls(account))),
        (
            keys::SK.into(),
            s(keys::call(&rfc3339(c.started_at), &c.call_id)),
        ),
        ("call_id".into(), s(&c.call_id)),
        ("agent_id".into(), s(&c.agent_id)),
        ("customer_id".into(), s(&c.customer_id)),
        ("started_at".into(), n(c.started_at)),
        ("duration_seconds".into(), n(c.duration_seconds)),
        ("outcome".into(), s(c.outcome.as_str())),
        ("credits_used".into(), n(c.credits_used)),
        ("caller".into(), s(&c.caller)),
        ("summary".into(), s(&c.summary)),
    ])
}

fn call_from_item(item: &Item) -> Result<Call, Error> {
    let outcome = item.string("outcome")?;
    Ok(Call {
        call_id: item.string("call_id")?,
        agent_id: item.string("agent_id")?,
        customer_id: item.string("customer_id")?,
        started_at: item.int("started_at")?,
        duration_seconds: item.int("duration_seconds")?,
        outcome: Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == outcome)
            .unwrap_or(Outcome::Failed),
        credits_used: item.int("credits_used")?,
        caller: item.string("caller")?,
        summary: item.string("summary")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        Date::parse(s, DATE).unwrap()
    }

    #[test]
    fn the_default_range_is_the_last_seven_days() {
        let (start, end) = date_range(None, None, day("2026-11-25")).unwrap();
        assert_eq!(
            (format_date(start), format_date(end)),
            ("2026-11-19".into(), "2026-11-25".into())
        );
    }

    #[test]
    fn bad_ranges_are_explained() {
        let today = day("2026-11-25");
        assert!(date_range(Some("2026-11-30"), Some("2026-11-01"), today)
            .unwrap_err()
            .to_string()
            .contains("after"));
        assert!(date_range(Some("24/11/2026"), None, today)
            .unwrap_err()
            .to_string()
            .contains("YYYY-MM-DD"));
        assert!(date_range(Some("2024-01-01"), Some("2026-01-01"), today).is_err());
    }

    #[test]
    fn figures_round_minutes_and_success_rate() {
        let mut f = Figures::default();
        f.add(3, 200, 4, 2);
        assert_eq!(f.minutes, 3.3);
        assert_eq!(f.success_rate, Some(0.667));
    }
}
