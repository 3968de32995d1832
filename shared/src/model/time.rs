//! The one timestamp type: an instant in UTC, stored as Unix seconds, shown as RFC 3339.
//! Arithmetic is checked: a date far in the past or future is an error, never a panic.

use std::fmt;

use serde::{Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime};

/// Where a request's one reading of the time comes from: the system's clock, or one a test
/// sets and moves (a rate limit's minute need not be waited out in real time).
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<std::sync::Arc<std::sync::Mutex<Timestamp>>>);

impl Clock {
    /// A clock that stands at `at` until it is moved.
    pub fn set_at(at: Timestamp) -> Clock {
        Clock(Some(std::sync::Arc::new(std::sync::Mutex::new(at))))
    }

    pub fn now(&self) -> Timestamp {
        match &self.0 {
            None => Timestamp::now(),
            Some(set) => *set.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Moves a set clock on by `by` (the system's clock moves by itself).
    pub fn advance(&self, by: Duration) {
        if let Some(set) = &self.0 {
            let mut at = set.lock().unwrap_or_else(|e| e.into_inner());
            *at = at.checked_add(by).unwrap_or(*at);
        }
    }
}

/// An instant, UTC. Keeps sub-second precision for ids made from it; what is stored and
/// shown is whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn now() -> Timestamp {
        Timestamp(OffsetDateTime::now_utc())
    }

    /// `None` outside the years time can represent (±9999).
    pub fn from_unix(seconds: i64) -> Option<Timestamp> {
        OffsetDateTime::from_unix_timestamp(seconds)
            .ok()
            .map(Timestamp)
    }

    pub fn from_datetime(at: OffsetDateTime) -> Timestamp {
        Timestamp(at.to_offset(time::UtcOffset::UTC))
    }

    pub fn as_datetime(self) -> OffsetDateTime {
        self.0
    }

    /// Whole Unix seconds: what the store keeps.
    pub fn unix(self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Milliseconds since the epoch (ids sort by them); 0 before 1970.
    pub fn unix_millis(self) -> u64 {
        u64::try_from(self.0.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
    }

    pub fn date(self) -> Date {
        self.0.date()
    }

    pub fn checked_add(self, by: Duration) -> Option<Timestamp> {
        self.0.checked_add(by).map(Timestamp)
    }

    pub fn checked_sub(self, by: Duration) -> Option<Timestamp> {
        self.0.checked_sub(by).map(Timestamp)
    }

    /// RFC 3339 in UTC to the second, e.g. `2026-11-24T09:30:00Z`.
    pub fn rfc3339(self) -> String {
        self.0
            .replace_nanosecond(0)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

#[cfg(feature = "mcp")]
impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "format": "date-time" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_as_rfc3339_to_the_second() {
        let t = Timestamp::from_unix(1_764_000_000).unwrap();
        assert_eq!(t.rfc3339(), "2025-11-24T16:00:00Z");
        assert_eq!(serde_json::to_value(t).unwrap(), "2025-11-24T16:00:00Z");
        assert_eq!(Timestamp::from_unix(t.unix()), Some(t));
    }

    #[test]
    fn out_of_range_instants_are_none_not_panics() {
        assert_eq!(Timestamp::from_unix(i64::MAX), None);
        assert_eq!(Timestamp::from_unix(i64::MIN), None);
        let t = Timestamp::from_unix(0).unwrap();
        assert_eq!(t.checked_add(Duration::days(i64::MAX / 86_400)), None);
        assert_eq!(t.checked_sub(Duration::MAX), None);
    }
}
