//! Where GitHub's keys come from: the document at `SECRET_SCANNING_KEYS_URL`, read when a
//! report names a key this instance does not have — and at most once a minute whatever is
//! sent, a failed read included, so reports with made-up key identifiers cannot make us
//! hammer GitHub (or burn its unauthenticated quota from Lambda's shared addresses).
//!
//! A report signed with a key we may not have read yet (GitHub rotated it since) is never
//! refused: until a read has been possible it gets 503 with `Retry-After`, which GitHub
//! redelivers, and 401 only once a document read after it still lacks the key. A key
//! identifier that is not GitHub's shape (64 hex digits, the SHA-256 of the key) is 401
//! before anything is read.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::github::{PublicKeys, Verdict};
use crate::error::{BoxError, Error};
use crate::fetch::{Fetcher, Reach};

const READ_AT_MOST_EVERY: Duration = Duration::from_secs(60);
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// GitHub's document is a few KiB.
const MAX_DOCUMENT: usize = 256 * 1024;
/// Identifiers remembered as missing from the latest document.
const MAX_ABSENT: usize = 1_000;

pub struct KeySource {
    url: String,
    fetcher: Fetcher,
    state: Mutex<State>,
    read_every: Duration,
}

#[derive(Default)]
struct State {
    keys: Option<Arc<PublicKeys>>,
    /// When the document was last read, or a read was tried.
    last_read: Option<Instant>,
    /// Identifiers a document read after they were first named lacks.
    absent: HashSet<String>,
}

impl KeySource {
    pub fn new(url: impl Into<String>) -> KeySource {
        KeySource {
            url: url.into(),
            fetcher: Fetcher::new(Reach::Configured, FETCH_TIMEOUT, MAX_DOCUMENT),
            state: Mutex::new(State::default()),
            read_every: READ_AT_MOST_EVERY,
        }
    }

    /// Another bound on reading (tests, which rotate keys and take the document down).
    pub fn reading_at_most_every(mut self, interval: Duration) -> KeySource {
        self.read_every = interval;
        self
    }

    /// Whether the body is signed by GitHub: 401 if not (or if the headers are missing or
    /// malformed), 503 with a wait if the keys cannot be read yet.
    pub async fn check(
        &self,
        key_identifier: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<(), Error> {
        let (Some(key_identifier), Some(signature)) = (key_identifier, signature) else {
            return Err(Error::BadSignature);
        };
        if !is_github_key_identifier(key_identifier) {
            return Err(Error::BadSignature);
        }
        let Some(keys) = self.keys_with(key_identifier).await? else {
            return Err(Error::BadSignature);
        };
        match keys.verify(key_identifier, signature, body) {
            Verdict::Valid => Ok(()),
            Verdict::UnknownKey | Verdict::Invalid => Err(Error::BadSignature),
        }
    }

    /// Keys that hold `key_identifier`, read again if need be and if allowed; `None` when a
    /// document read after the identifier was named lacks it.
    async fn keys_with(&self, key_identifier: &str) -> Result<Option<Arc<PublicKeys>>, Error> {
        let mut state = self.state.lock().await;
        if let Some(keys) = state.keys.as_ref().filter(|k| k.has(key_identifier)) {
            return Ok(Some(Arc::clone(keys)));
        }
        if state.absent.contains(key_identifier) {
            return Ok(None);
        }
        let now = Instant::now();
        if let Some(last) = state.last_read {
            let since = now.saturating_duration_since(last);
            if since < self.read_every {
                return Err(not_yet(self.read_every.saturating_sub(since)));
            }
        }
        state.last_read = Some(now);
        let keys = match self.fetch().await {
            Ok(keys) => Arc::new(keys),
            Err(e) => {
                tracing::warn!(error = %e, "GitHub's public keys could not be read");
                return Err(not_yet(self.read_every));
            }
        };
        state.absent.retain(|id| !keys.has(id));
        state.keys = Some(Arc::clone(&keys));
        if keys.has(key_identifier) {
            return Ok(Some(keys));
        }
        if state.absent.len() < MAX_ABSENT {
            state.absent.insert(key_identifier.to_owned());
        }
        Ok(None)
    }

    async fn fetch(&self) -> Result<PublicKeys, BoxError> {
        let body = self.fetcher.get(&self.url, "application/json").await?;
        Ok(PublicKeys::from_document(&body)?)
    }
}

fn not_yet(wait: Duration) -> Error {
    Error::NotYet {
        what: "GitHub's public keys",
        retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
    }
}

/// GitHub names its keys by the SHA-256 of the key, in hex.
fn is_github_key_identifier(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_64_hex_digits_name_a_key() {
        let github = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a";
        assert!(is_github_key_identifier(github));
        assert!(is_github_key_identifier(&github.to_uppercase()));
        for bad in [
            "",
            "key-a",
            &github[1..],
            &format!("{github}0"),
            &github.replace('a', "g"),
        ] {
            assert!(!is_github_key_identifier(bad), "{bad}");
        }
    }
}
