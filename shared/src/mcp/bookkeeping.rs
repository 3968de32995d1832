//! What a request leaves to do once it is answered: record the token's use and share its
//! rate counts — or what its refusal leaves (a disused token's revoke, a replaced token's
//! reuse alert) — writes whose failure is logged, never the caller's problem; then write
//! its one log line with its metrics. On Lambda it runs after the answer is posted and
//! before the next event is asked for ([`crate::lambda`]).

use std::sync::Arc;
use std::time::Duration;

use super::auth;
use super::limiter::{self, Limiter};
use super::tools::ToolOutcome;
use crate::app::App;
use crate::metrics::{self, Unit};
use crate::model::time::Timestamp;
use crate::model::tokens::Grant;
use crate::store;
use serde_json::Value;

/// What a request leaves to do once it is answered: record the token's use and share its
/// rate counts (writes whose failure is logged, never the caller's problem), then write
/// its one log line with its metrics.
#[must_use = "a request's bookkeeping must be run"]
pub struct Bookkeeping {
    app: Arc<App>,
    limiter: Arc<Limiter>,
    /// The request's one reading of the time.
    pub(super) now: Timestamp,
    /// Until the answer was ready.
    latency: Duration,
    sent_before: u64,
    pub(super) report: Report,
    /// Where the call came from, as its use is recorded.
    pub(super) source: Option<std::net::IpAddr>,
    writes: Option<Writes>,
    aftermath: Option<auth::Aftermath>,
}

/// The writes of an admitted request.
struct Writes {
    record_use: Option<Grant>,
    send: Option<limiter::Send>,
}

impl Bookkeeping {
    pub(super) fn new(app: &Arc<App>, limiter: &Arc<Limiter>, now: Timestamp) -> Bookkeeping {
        Bookkeeping {
            app: Arc::clone(app),
            limiter: Arc::clone(limiter),
            now,
            latency: Duration::ZERO,
            sent_before: store::requests_sent(),
            report: Report::default(),
            source: None,
            writes: None,
            aftermath: None,
        }
    }

    /// The request was admitted: these are its writes.
    pub(super) fn admitted(&mut self, record_use: Option<Grant>, send: Option<limiter::Send>) {
        self.writes = Some(Writes { record_use, send });
    }

    /// The request was refused, leaving this to write.
    pub(super) fn refused(&mut self, then: Option<auth::Aftermath>) {
        self.aftermath = then;
    }

    pub(super) fn answered(&mut self, latency: Duration) {
        self.latency = latency;
    }

    pub async fn run(self) {
        if let Some(writes) = self.writes {
            tokio::join!(
                auth::record_use(&self.app.store, writes.record_use, self.source, self.now),
                self.limiter
                    .send(&self.app.store, writes.send, self.now.unix()),
            );
        }
        if let Some(then) = self.aftermath {
            auth::after_refusal(&self.app.store, then, self.source, self.now).await;
        }
        if self.app.config.emit_metrics {
            let requests = store::requests_sent().saturating_sub(self.sent_before);
            self.report.emit(self.latency, requests, self.now);
        }
    }
}

/// What a request did, for its one log line and its metrics.
#[derive(Debug)]
pub(super) struct Report {
    pub(super) outcome: &'static str,
    /// As the caller wrote it (a log field, never a dimension).
    method: Option<String>,
    pub(super) tool_outcome: ToolOutcome,
    pub(super) token_id: Option<String>,
}

impl Default for Report {
    fn default() -> Report {
        Report {
            outcome: "ok",
            method: None,
            tool_outcome: ToolOutcome::default(),
            token_id: None,
        }
    }
}

impl Report {
    pub(super) fn read(&mut self, message: Option<&Value>) {
        self.method = message
            .and_then(|m| m.get("method"))
            .and_then(Value::as_str)
            .map(|s| s.chars().take(64).collect());
    }

    fn emit(&self, latency: Duration, dynamodb_requests: u64, now: Timestamp) {
        let mut line = metrics::Line::new();
        line.metrics(
            &[("Outcome", self.outcome)],
            &[&["Outcome"], &[]],
            &[
                ("Requests", 1.0, Unit::Count),
                (
                    "Latency",
                    latency.as_secs_f64() * 1000.0,
                    Unit::Milliseconds,
                ),
                ("DynamoDbRequests", dynamodb_requests as f64, Unit::Count),
            ],
        );
        if let Some((tool, outcome)) = self.tool_outcome.get() {
            line.metrics(
                &[("Tool", &tool), ("ToolOutcome", outcome)],
                &[&["Tool", "ToolOutcome"]],
                &[("ToolCalls", 1.0, Unit::Count)],
            );
        }
        line.property("message", "mcp request");
        if let Some(method) = &self.method {
            line.property("method", method.as_str());
        }
        if let Some(token_id) = &self.token_id {
            line.property("token_id", token_id.as_str());
        }
        line.emit(now.unix_millis());
    }
}
