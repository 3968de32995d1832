//! The two public routes for leaked tokens, with no authorizer — one Lambda function
//! serves both (feature `leaks`):
//!
//! - `POST /secret-scanning/github`: GitHub's secret scanning partner protocol; the
//!   report must be signed with GitHub's current key ([`github`], [`keys`]);
//! - `POST /credentials/revoke`: anyone holding a token can kill it; the answer is the
//!   same whatever the tokens were, and given before any of them is even looked up —
//!   the revokes come after it ([`crate::lambda`]), so its time cannot tell either.

pub mod github;
pub mod keys;

use std::convert::Infallible;
use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use crate::api::{bounded, reply};
use crate::app::App;
use crate::error::Error;
use crate::lambda::Later;
use crate::metrics::{Line, Unit};
use crate::model::time::Timestamp;
use crate::rules::leaks;
use keys::KeySource;

/// A full report of 1,000 matches is a few hundred KiB.
pub const MAX_REPORT_BYTES: usize = 2 * 1024 * 1024;
pub const MAX_HOLDER_BYTES: usize = 64 * 1024;

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

    /// Either route, by path, and what it leaves for later done too (the local server,
    /// tests).
    pub async fn handle(&self, req: Request) -> Result<Response<Body>, Infallible> {
        let (response, later) = self.answer(req).await;
        if let Some(later) = later {
            later.await;
        }
        Ok(response)
    }

    /// Either route, by path: the answer, and what is left to do once it is out.
    pub async fn answer(&self, req: Request) -> (Response<Body>, Option<Later>) {
        match req.uri().path().trim_end_matches('/') {
            "/secret-scanning/github" => (self.github(req).await, None),
            "/credentials/revoke" => self.holder(req).await,
            _ => (
                reply(Err(Error::NotFound {
                    what: "route",
                    id: req.uri().path().to_owned(),
                    hint: "; this function serves /secret-scanning/github and /credentials/revoke",
                })),
                None,
            ),
        }
    }

    /// Serves both routes on the Lambda runtime, a holder's revokes after the answer.
    pub async fn run(self) -> Result<(), lambda_http::Error> {
        let leaks = Arc::new(self);
        crate::lambda::run(move |req| {
            let leaks = Arc::clone(&leaks);
            async move { leaks.answer(req).await }
        })
        .await
    }

    /// `POST /secret-scanning/github` → 200 with a label per match.
    async fn github(&self, req: Request) -> Response<Body> {
        reply(
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
                count_report(&self.app, "github", found);
                Ok((
                    StatusCode::OK,
                    Some(serde_json::to_value(labels).map_err(|e| Error::Internal(e.into()))?),
                ))
            }
            .await,
        )
    }

    /// `POST /credentials/revoke` → 202, always the same answer, given once the report
    /// is read and before any token is looked up; the revokes are left for later.
    async fn holder(&self, req: Request) -> (Response<Body>, Option<Later>) {
        let credentials = match bounded(&req, MAX_HOLDER_BYTES).and_then(leaks::parse_credentials) {
            Ok(credentials) => credentials,
            Err(e) => return (reply(Err(e)), None),
        };
        let app = Arc::clone(&self.app);
        let later: Later = Box::pin(async move {
            let revoked = async {
                let pepper = app.pepper.get().await?;
                leaks::holder_report(&app.store, pepper, &credentials, Timestamp::now()).await
            };
            match revoked.await {
                Ok(live) => count_report(&app, "holder", live),
                // The holder was answered already: the operators hear of it.
                Err(e) => tracing::error!(error = ?e, "a holder's report was not carried out"),
            }
        });
        let message = "thank you: any of these tokens that still worked no longer does";
        let answer = reply(Ok((
            StatusCode::ACCEPTED,
            Some(json!({ "message": message })),
        )));
        (answer, Some(later))
    }
}

/// A leak report's metrics (`LeakReports`, and `LeakedTokens`: the live tokens it named,
/// now revoked), for the alarm that tells operators someone's tokens are out.
fn count_report(app: &App, source: &str, live: usize) {
    if !app.config.emit_metrics {
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
