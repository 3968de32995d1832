//! Client ID Metadata Documents (feature `consent`): a client whose id is a URL is
//! described by the JSON document there, read when its request reaches the consent page
//! — over https from a public address, within [`TIMEOUT`] and [`MAX_BYTES`] — and kept
//! for [`KEEP`] per instance, so the page's two requests read it once.

use std::time::{Duration, Instant};

use crate::error::Error;
use crate::fetch::{Fetcher, Reach};
use crate::kept::Kept;
use crate::model::oauth::{document_url, Client, OAuthError, Registration};

/// The longest a document may take to arrive.
pub const TIMEOUT: Duration = Duration::from_secs(3);
/// The largest document read (the draft suggests 5 KB; names and a few redirect URIs
/// fit many times over).
pub const MAX_BYTES: usize = 16 * 1024;
/// How long a document read is believed.
pub const KEEP: Duration = Duration::from_secs(300);
/// Documents kept at once; past it, the oldest goes.
const MAX_KEPT: usize = 256;

pub struct Documents {
    fetcher: Fetcher,
    kept: Kept<String, Client>,
}

impl Documents {
    pub fn new(reach: Reach) -> Documents {
        Documents {
            fetcher: Fetcher::new(reach, TIMEOUT, MAX_BYTES),
            kept: Kept::new(KEEP, MAX_KEPT),
        }
    }

    /// The client the document at `client_id` describes, or `invalid_client` saying why
    /// it cannot be used.
    pub async fn client(&self, client_id: &str) -> Result<Client, Error> {
        let url = document_url(client_id)?;
        let now = Instant::now();
        if let Some(client) = self.kept.get(url, now) {
            return Ok(client);
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
        self.kept.put(url.to_owned(), client.clone(), now);
        Ok(client)
    }
}
