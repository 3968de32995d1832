//! Client ID Metadata Documents (feature `consent`): a client whose id is a URL is
//! described by the JSON document there, read when its request reaches the consent page
//! — over https from a public address, within [`TIMEOUT`] and [`MAX_BYTES`] — and kept
//! for [`KEEP`] per instance, so the page's two requests read it once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::error::Error;
use crate::fetch::{Fetcher, Reach};
use crate::model::oauth::{document_url, Client, OAuthError, Registration};

/// The longest a document may take to arrive.
pub const TIMEOUT: Duration = Duration::from_secs(3);
/// The largest document read (the draft suggests 5 KB; names and a few redirect URIs
/// fit many times over).
pub const MAX_BYTES: usize = 16 * 1024;
/// How long a document read is believed.
pub const KEEP: Duration = Duration::from_secs(300);
/// Documents kept at once; past it, the expired ones go, or else all.
const MAX_KEPT: usize = 256;

pub struct Documents {
    fetcher: Fetcher,
    kept: Mutex<HashMap<String, (Instant, Client)>>,
}

impl Documents {
    pub fn new(reach: Reach) -> Documents {
        Documents {
            fetcher: Fetcher::new(reach, TIMEOUT, MAX_BYTES),
            kept: Mutex::new(HashMap::new()),
        }
    }

    /// The client the document at `client_id` describes, or `invalid_client` saying why
    /// it cannot be used.
    pub async fn client(&self, client_id: &str) -> Result<Client, Error> {
        let url = document_url(client_id)?;
        let now = Instant::now();
        if let Some((_, client)) = self
            .kept
            .lock()
            .await
            .get(url)
            .filter(|(read, _)| now.saturating_duration_since(*read) < KEEP)
        {
            return Ok(client.clone());
        }
        let body = self
            .fetcher
            .get(url, "application/json")
            .await
            .map_err(|e| {
                OAuthError::invalid_client(format!(
                    "the client metadata document at {url} could not be read: {e}"
                ))
            })?;
        let registration = Registration::from_document(url, &body)?;
        let client = Client {
            id: url.to_owned(),
            name: registration.name,
            redirect_uris: registration.redirect_uris,
        };
        let mut kept = self.kept.lock().await;
        if kept.len() >= MAX_KEPT {
            kept.retain(|_, (read, _)| now.saturating_duration_since(*read) < KEEP);
            if kept.len() >= MAX_KEPT {
                kept.clear();
            }
        }
        kept.insert(url.to_owned(), (now, client.clone()));
        Ok(client)
    }
}
