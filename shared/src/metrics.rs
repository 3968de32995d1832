//! Metrics as CloudWatch's embedded metric format (EMF): one JSON line on stdout per
//! request, which CloudWatch Logs turns into metrics with no agent, no API call and no
//! added latency — and which is also the request's one log line at INFO.
//!
//! What the functions emit (namespace [`NAMESPACE`]):
//!
//! | metric | dimensions | from |
//! |---|---|---|
//! | `Requests`, `Latency` (ms), `DynamoDbRequests` | `Outcome`; none | every MCP request |
//! | `ToolCalls` | `Tool`, `ToolOutcome` | every MCP `tools/call` |
//! | `LeakReports`, `LeakedTokens` (the live tokens a report named, now revoked) | `Source` (`github`, `holder`); none | every leak report |
//!
//! `Outcome` is `ok`, or why a request was refused: `missing_token`, `malformed_token`,
//! `unknown_token`, `revoked_token`, `leaked_token`, `expired_token`,
//! `api_access_disabled`, `address_not_allowed`, `rate_limited`, `forbidden_origin`,
//! `bad_request`, `unavailable`, `internal_error`.

use serde_json::{json, Map, Value};

use crate::error::Error;

pub const NAMESPACE: &str = "Knotie/McpTokens";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One EMF line: metric directives over dimension sets, and the values and properties
/// they read from the top level.
#[derive(Debug, Default)]
pub struct Line {
    root: Map<String, Value>,
    directives: Vec<Value>,
}

impl Line {
    pub fn new() -> Line {
        Line::default()
    }

    /// Metrics recorded under each of `dimension_sets` (an empty set: without
    /// dimensions), the dimensions' values given once in `dimensions`.
    pub fn metrics(
        &mut self,
        dimensions: &[(&'static str, &str)],
        dimension_sets: &[&[&'static str]],
        metrics: &[(&'static str, f64, Unit)],
    ) -> &mut Line {
        for (name, value) in dimensions {
            self.root.insert((*name).into(), (*value).into());
        }
        for (name, value, _) in metrics {
            self.root.insert((*name).into(), json!(value));
        }
        let metrics: Vec<Value> = metrics
            .iter()
            .map(|(name, _, unit)| json!({ "Name": name, "Unit": unit.as_str() }))
            .collect();
        self.directives.push(json!({
            "Namespace": NAMESPACE,
            "Dimensions": dimension_sets,
            "Metrics": metrics,
        }));
        self
    }

    /// A value logged with the metrics but not one (a token id, a method).
    pub fn property(&mut self, name: &'static str, value: impl Into<Value>) -> &mut Line {
        self.root.insert(name.into(), value.into());
        self
    }

    pub fn to_json(&self, timestamp_ms: u64) -> Value {
        let mut line = self.root.clone();
        line.insert(
            "_aws".into(),
            json!({ "Timestamp": timestamp_ms, "CloudWatchMetrics": self.directives }),
        );
        Value::Object(line)
    }

    /// Writes the line to stdout, where Lambda hands it to CloudWatch Logs.
    pub fn emit(&self, timestamp_ms: u64) {
        println!("{}", self.to_json(timestamp_ms));
    }
}

/// Why an MCP request ended before any tool ran: the `Outcome` dimension.
pub fn outcome(err: &Error) -> &'static str {
    match err {
        Error::InvalidToken(why, _) => why.as_str(),
        Error::ApiAccessDisabled => "api_access_disabled",
        Error::AddressNotAllowed(_) => "address_not_allowed",
        Error::RateLimited { .. } => "rate_limited",
        Error::Unavailable { .. } => "unavailable",
        Error::Internal(_) => "internal_error",
        _ => "bad_request",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TokenRefusal;

    #[test]
    fn a_line_names_its_dimensions_and_metrics_at_the_top() {
        let mut line = Line::new();
        line.metrics(
            &[("Outcome", "ok")],
            &[&["Outcome"], &[]],
            &[
                ("Requests", 1.0, Unit::Count),
                ("Latency", 3.5, Unit::Milliseconds),
                ("DynamoDbRequests", 1.0, Unit::Count),
            ],
        )
        .metrics(
            &[("Tool", "get_account"), ("ToolOutcome", "ok")],
            &[&["Tool", "ToolOutcome"]],
            &[("ToolCalls", 1.0, Unit::Count)],
        )
        .property("token_id", "tok_1");
        let json = line.to_json(1_764_000_000_000);
        assert_eq!(json["_aws"]["Timestamp"], 1_764_000_000_000u64);
        let directives = &json["_aws"]["CloudWatchMetrics"];
        assert_eq!(directives[0]["Namespace"], NAMESPACE);
        assert_eq!(directives[0]["Dimensions"], json!([["Outcome"], []]));
        assert_eq!(
            directives[0]["Metrics"][1],
            json!({ "Name": "Latency", "Unit": "Milliseconds" })
        );
        assert_eq!(
            directives[1]["Dimensions"],
            json!([["Tool", "ToolOutcome"]])
        );
        assert_eq!(json["Outcome"], "ok");
        assert_eq!(json["Latency"], 3.5);
        assert_eq!(json["Tool"], "get_account");
        assert_eq!(json["token_id"], "tok_1");
    }

    #[test]
    fn refusals_are_counted_by_their_reason() {
        let revoked = Error::InvalidToken(TokenRefusal::Revoked, "x".into());
        assert_eq!(outcome(&revoked), "revoked_token");
        let limited = Error::RateLimited {
            limit: 1,
            retry_after_secs: 1,
        };
        assert_eq!(outcome(&limited), "rate_limited");
        assert_eq!(outcome(&Error::ApiAccessDisabled), "api_access_disabled");
    }
}
