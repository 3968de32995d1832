//! Where GitHub's keys come from: the document at `SECRET_SCANNING_KEYS_URL`, read once
//! per instance and read again when a report names a key it does not have — at most once
//! a minute, so reports with made-up key identifiers cannot make us hammer GitHub.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Mutex;

use super::github::{PublicKeys, Verdict};
use crate::error::{BoxError, Error};

const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(60);
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// GitHub's document is a few KiB.
const MAX_DOCUMENT: usize = 256 * 1024;

pub struct KeySource {
    url: String,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    cached: Mutex<Option<(Arc<PublicKeys>, Instant)>>,
    refetch_every: Duration,
}

impl KeySource {
    pub fn new(url: impl Into<String>) -> KeySource {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        KeySource {
            url: url.into(),
            client: Client::builder(TokioExecutor::new()).build(https),
            cached: Mutex::new(None),
            refetch_every: REFETCH_AT_MOST_EVERY,
        }
    }

    /// Another bound on refetching (tests, which rotate keys at once).
    pub fn refetching_at_most_every(mut self, interval: Duration) -> KeySource {
        self.refetch_every = interval;
        self
    }

    /// Whether the body is signed by GitHub: 401 if not (or if the headers are missing),
    /// 503 if the keys cannot be read.
    pub async fn check(
        &self,
        key_identifier: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<(), Error> {
        let (Some(key_identifier), Some(signature)) = (key_identifier, signature) else {
            return Err(Error::BadSignature);
        };
        let (keys, fresh) = self.keys(false).await?;
        let verdict = match keys.verify(key_identifier, signature, body) {
            Verdict::UnknownKey if !fresh => {
                let (keys, _) = self.keys(true).await?;
                keys.verify(key_identifier, signature, body)
            }
            verdict => verdict,
        };
        match verdict {
            Verdict::Valid => Ok(()),
            Verdict::UnknownKey | Verdict::Invalid => Err(Error::BadSignature),
        }
    }

    /// The keys, and whether they were just read. `again` reads them anew unless that was
    /// done within the last minute.
    async fn keys(&self, again: bool) -> Result<(Arc<PublicKeys>, bool), Error> {
        let mut cached = self.cached.lock().await;
        if let Some((keys, at)) = cached.as_ref() {
            if !again || at.elapsed() < self.refetch_every {
                return Ok((Arc::clone(keys), false));
            }
        }
        let keys = Arc::new(self.fetch().await.map_err(|source| Error::Unavailable {
            what: "GitHub's public keys",
            source,
        })?);
        *cached = Some((Arc::clone(&keys), Instant::now()));
        Ok((keys, true))
    }

    async fn fetch(&self) -> Result<PublicKeys, BoxError> {
        let request = http::Request::get(&self.url)
            .header(http::header::USER_AGENT, "knotie-mcp-tokens")
            .header(http::header::ACCEPT, "application/json")
            .body(Empty::new())?;
        let response = tokio::time::timeout(FETCH_TIMEOUT, self.client.request(request)).await??;
        if !response.status().is_success() {
            return Err(format!("the keys document answered {}", response.status()).into());
        }
        let body = Limited::new(response.into_body(), MAX_DOCUMENT);
        let body = tokio::time::timeout(FETCH_TIMEOUT, body.collect()).await??;
        Ok(PublicKeys::from_document(&body.to_bytes())?)
    }
}
