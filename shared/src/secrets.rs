//! Where the pepper comes from. Deployed functions read it from Secrets Manager once per
//! cold start; if that fails, each request retries and gets 503 until it succeeds — never
//! a default pepper. Only the local development server passes a fixed one.

use aws_sdk_secretsmanager::Client;
use tokio::sync::OnceCell;

use crate::error::{BoxError, Error};
use crate::model::hashing::Pepper;

#[derive(Debug)]
pub enum PepperSource {
    /// This function has no use for the pepper (revoke).
    None,
    Fixed(Pepper),
    SecretsManager {
        client: Client,
        secret_id: String,
        pepper: OnceCell<Pepper>,
    },
}

impl PepperSource {
    pub fn secrets_manager(client: Client, secret_id: impl Into<String>) -> PepperSource {
        PepperSource::SecretsManager {
            client,
            secret_id: secret_id.into(),
            pepper: OnceCell::new(),
        }
    }

    /// The pepper if it is already at hand, without loading it.
    pub fn try_loaded(&self) -> Option<&Pepper> {
        match self {
            PepperSource::None => None,
            PepperSource::Fixed(pepper) => Some(pepper),
            PepperSource::SecretsManager { pepper, .. } => pepper.get(),
        }
    }

    /// Loads the pepper during init, where the time is cheapest. A failure is logged and
    /// retried by the first request, which answers 503 if it fails again.
    pub async fn preload(&self) {
        if matches!(self, PepperSource::SecretsManager { .. }) {
            if let Err(e) = self.get().await {
                tracing::error!(error = %e, "pepper not loaded at cold start");
            }
        }
    }

    pub async fn get(&self) -> Result<&Pepper, Error> {
        match self {
            PepperSource::None => Err(Error::Internal(
                "this function is not given the pepper".into(),
            )),
            PepperSource::Fixed(pepper) => Ok(pepper),
            PepperSource::SecretsManager {
                client,
                secret_id,
                pepper,
            } => pepper
                .get_or_try_init(|| load(client, secret_id))
                .await
                .map_err(|source| Error::Unavailable {
                    what: "the secret store",
                    source,
                }),
        }
    }
}

async fn load(client: &Client, secret_id: &str) -> Result<Pepper, BoxError> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await?;
    let secret = out
        .secret_string()
        .ok_or("the pepper secret has no string value")?;
    Ok(Pepper::new(secret.as_bytes())?)
}
