//! Calls the account's agents took, and usage figures over them: a daily rollup per agent
//! (calls, seconds, credits, successes) makes any date range a few small items, however
//! many calls there were.

use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::Date;

use super::ids::{AgentId, CallId, CustomerId};
use super::page::Listing;
use super::time::Timestamp;
use crate::error::Error;

pub const MAX_RANGE_DAYS: i64 = 366;
/// The latest calls: 10 a page by default, at most 50.
pub const RECENT_CALLS: Listing = Listing {
    name: "calls",
    default_size: 10,
    max_size: 50,
};
const DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// What the success rate counts as a success.
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Completed | Outcome::Transferred)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
pub struct Call {
    pub call_id: CallId,
    pub agent_id: AgentId,
    pub customer_id: CustomerId,
    pub started_at: Timestamp,
    pub duration_seconds: i64,
    pub outcome: Outcome,
    pub credits_used: i64,
    /// The caller's number, partly masked.
    pub caller: String,
    pub summary: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    #[default]
    Day,
    Agent,
    Customer,
}

/// One agent's calls on one day, summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollup {
    pub date: String,
    pub agent_id: AgentId,
    pub customer_id: CustomerId,
    pub calls: i64,
    pub seconds: i64,
    pub credits: i64,
    pub successes: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
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
    /// Adds a rollup; sums saturate rather than overflow (they never get near).
    pub fn add(&mut self, r: &Rollup) {
        self.calls = self.calls.saturating_add(r.calls);
        self.seconds = self.seconds.saturating_add(r.seconds);
        self.credits_used = self.credits_used.saturating_add(r.credits);
        self.successes = self.successes.saturating_add(r.successes);
        self.minutes = (self.seconds as f64 / 6.0).round() / 10.0;
        self.success_rate = (self.calls > 0)
            .then(|| (self.successes as f64 * 1000.0 / self.calls as f64).round() / 1000.0);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
pub struct Usage {
    pub start_date: String,
    pub end_date: String,
    pub group_by: GroupBy,
    pub totals: Figures,
    pub groups: Vec<Group>,
}

/// Whole UTC days, first and last included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub start: Date,
    pub end: Date,
}

impl DateRange {
    /// A range checked and defaulted: the last 7 days up to `today` when not given.
    pub fn parse(start: Option<&str>, end: Option<&str>, today: Date) -> Result<DateRange, Error> {
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
            // The earliest representable date has no week before it: start there.
            None => end
                .checked_sub(time::Duration::days(6))
                .unwrap_or(Date::MIN),
        };
        if start > end {
            return Err(Error::bad_request(
                "invalid_input",
                "start_date must not be after end_date",
            ));
        }
        let days = i64::from(end.to_julian_day()).saturating_sub(start.to_julian_day().into());
        if days >= MAX_RANGE_DAYS {
            return Err(Error::bad_request(
                "invalid_input",
                format!("the range can span at most {MAX_RANGE_DAYS} days"),
            ));
        }
        Ok(DateRange { start, end })
    }
}

/// `YYYY-MM-DD`, the form of every date in answers and keys.
pub fn format_date(date: Date) -> String {
    date.format(DATE).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        Date::parse(s, DATE).unwrap()
    }

    #[test]
    fn the_default_range_is_the_last_seven_days() {
        let range = DateRange::parse(None, None, day("2026-11-25")).unwrap();
        assert_eq!(
            (format_date(range.start), format_date(range.end)),
            ("2026-11-19".into(), "2026-11-25".into())
        );
    }

    #[test]
    fn bad_ranges_are_explained() {
        let today = day("2026-11-25");
        let err = |s, e| DateRange::parse(s, e, today).unwrap_err().to_string();
        assert!(err(Some("2026-11-30"), Some("2026-11-01")).contains("after"));
        assert!(err(Some("24/11/2026"), None).contains("YYYY-MM-DD"));
        assert!(err(Some("2024-01-01"), Some("2026-01-01")).contains("at most"));
    }

    #[test]
    fn ranges_at_the_ends_of_the_calendar_do_not_overflow() {
        let today = day("2026-11-25");
        let first = format_date(Date::MIN);
        let range = DateRange::parse(None, Some(&first), today).unwrap();
        assert_eq!(range.start, Date::MIN);
        assert!(DateRange::parse(Some(&format_date(Date::MAX)), None, today).is_err());
    }

    #[test]
    fn figures_round_minutes_and_success_rate() {
        let now = Timestamp::from_unix(0).unwrap();
        let mut f = Figures::default();
        f.add(&Rollup {
            date: "2026-11-25".into(),
            agent_id: AgentId::new(now).unwrap(),
            customer_id: CustomerId::new(now).unwrap(),
            calls: 3,
            seconds: 200,
            credits: 4,
            successes: 2,
        });
        assert_eq!(f.minutes, 3.3);
        assert_eq!(f.success_rate, Some(0.667));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Dates as a model might write them: any year (signed, five digits), any month
        /// and day, leap days, and text that is no date at all.
        fn date_like() -> impl Strategy<Value = String> {
            prop_oneof![
                (-99_999i32..=99_999, 0u8..=13, 0u8..=32)
                    .prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
                (-99_999i32..=99_999, 0u8..=13, 0u8..=32)
                    .prop_map(|(y, m, d)| format!("{y:+05}-{m:02}-{d:02}")),
                (1900i32..=2100).prop_map(|y| format!("{y}-02-29")),
                Just(format_date(Date::MIN)),
                Just(format_date(Date::MAX)),
                "\\PC{0,30}",
            ]
        }

        proptest! {
            #[test]
            fn any_range_is_checked_without_panicking(
                start in proptest::option::of(date_like()),
                end in proptest::option::of(date_like()),
                today in prop_oneof![
                    Just(Date::MIN.to_julian_day()),
                    Just(Date::MAX.to_julian_day()),
                    Date::MIN.to_julian_day()..=Date::MAX.to_julian_day(),
                ],
            ) {
                let today = Date::from_julian_day(today).unwrap();
                if let Ok(range) = DateRange::parse(start.as_deref(), end.as_deref(), today) {
                    prop_assert!(range.start <= range.end);
                    let days = range.end.to_julian_day() - range.start.to_julian_day();
                    prop_assert!(i64::from(days) < MAX_RANGE_DAYS);
                }
            }
        }
    }
}
