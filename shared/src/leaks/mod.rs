//! The two public routes for leaked tokens, with no authorizer — one Lambda function
//! serves both (feature `leaks`):
//!
//! - `POST /secret-scanning/github`: GitHub's secret scanning partner protocol; the
//!   report must be signed with GitHub's current key ([`github`], [`keys`]);
//! - `POST /credentials/revoke`: anyone holding a token can kill it; the answer is the
//!   same, and takes the same time, whatever the tokens were.

pub mod github;
pub mod keys;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use crate::api::reply;
use crate::app::App;
use crate::error::Error;
use crate::metrics::{Line, Unit};
use crate::model::time::Timestamp;
use crate::rules::leaks;
use keys::KeySource;

/// A full report of 1,000 matches is a few hundred KiB.
pub const MAX_REPORT_BYTES: usize = 2 * 1024 * 1024;
pub const MAX_HOLDER_BYTES: usize = 64 * 1024;
/// Every holder's report is answered this long after it arrived, so the time does not
/// tell whether a token was live.
const HOLDER_ANSWER_AFTER: Duration = Duration::from_millis(500);

/// What the leaks function holds from cold start: the app and GitHub's keys.
pub struct Leaks {
    pub app: Arc<App>,
    keys: KeySource,
}

impl Leaks {
    pub fn new(app: Arc<App>) -> Leaks {
        let keys = KeySource::new(app.config.secret_scanning_keys_url.clone());
        Leaks::with_keys(app, keys)
    }

    pub fn with_keys(app: Arc<App>, keys: KeySource) -> Leaks {
        Leaks { app, keys }
    }

    /// Either route, by path.
    pub async fn handle(&self, req: Request) -> Result<Response<Body>, Infallible> {
        match req.uri().path().trim_end_matches('/') {
            "/secret-scanning/github" => self.github(req).await,
            "/credentials/revoke" => self.holder(req).await,
            _ => Ok(reply(Err(Error::NotFound {
                what: "route",
                id: req.uri().path().to_owned(),
                hint: "; this function serves /secret-scanning/github and /credentials/revoke",
            }))),
        }
    }

    /// `POST /secret-scanning/github` → 200 with a label per match.
    pub async fn github(&self, req: Request) -> Result<Response<Body>, Infallible> {
        Ok(reply(
            async {
                let body = bounded(&req, MAX_REPORT_BYTES)?;
                let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
                self.keys
                    .check(
                        header("github-public-key-identifier"),
                        header("github-public-key-signature"),
                        body,
                    )
                    .await?;
                let matches = leaks::parse_report(body)?;
                let pepper = self.app.pepper.get().await?;
                let labels =
                    leaks::github_report(&self.app.store, pepper, &matches, Timestamp::now())
                        .await?;
                let found = labels.iter().filter(|l| l.label == "true_positive").count();
                tracing::info!(matches = matches.len(), found, "secret scanning report");
                self.count_report("github", found);
                Ok((
                    StatusCode::OK,
                    Some(serde_json::to_value(labels).map_err(|e| Error::Internal(e.into()))?),
                ))
            }
            .await,
        ))
    }

    /// `POST /credentials/revoke` → 202, always the same answer.
    pub async fn holder(&self, req: Request) -> Result<Response<Body>, Infallible> {
        let started = Instant::now();
        let result = async {
            let credentials = leaks::parse_credentials(bounded(&req, MAX_HOLDER_BYTES)?)?;
            let pepper = self.app.pepper.get().await?;
            let live =
                leaks::holder_report(&self.app.store, pepper, &credentials, Timestamp::now())
                    .await?;
            self.count_report("holder", live);
            let message = "thank you: any of these tokens that still worked no longer does";
            Ok((StatusCode::ACCEPTED, Some(json!({ "message": message }))))
        }
        .await;
        tokio::time::sleep(HOLDER_ANSWER_AFTER.saturating_sub(started.elapsed())).await;
        Ok(reply(result))
    }
}

impl Leaks {
    /// A leak report's metrics (`LeakReports`, and `LeakedTokens`: the live tokens it
    /// named, now revoked), for the alarm that tells operators someone's tokens are out.
    fn count_report(&self, source: &str, live: usize) {
        if !self.app.config.emit_metrics {
            return;
        }
        let mut line = Line::new();
        line.metrics(
            &[("Source", source)],
            &[&["Source"], &[]],
            &[
                ("LeakReports", 1.0, Unit::Count),
                ("LeakedTokens", live as f64, Unit::Count),
            ],
        );
        line.emit(Timestamp::now().unix_millis());
    }
}

fn bounded(req: &Request, limit: usize) -> Result<&[u8], Error> {
    let body = req.body().as_ref();
    if body.len() > limit {
        return Err(Error::TooLarge { limit });
    }
    Ok(body)
}
