//! What a function holds from cold start to shutdown: configuration, the store and the
//! pepper, built once and borrowed by every request.

use crate::config::{required, Config};
use crate::error::BoxError;
use crate::secrets::PepperSource;
use crate::store::Store;

#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub store: Store,
    pub pepper: PepperSource,
}

impl App {
    /// A deployed function: AWS clients from the Lambda environment, the pepper from
    /// Secrets Manager (`PEPPER_SECRET_ID`).
    pub async fn from_env() -> Result<App, BoxError> {
        let config = Config::from_env()?;
        let secret_id = required("PEPPER_SECRET_ID")?;
        let sdk = crate::aws::sdk_config().await;
        let app = App {
            store: Store::new(aws_sdk_dynamodb::Client::new(&sdk), &config.table),
            pepper: PepperSource::secrets_manager(
                aws_sdk_secretsmanager::Client::new(&sdk),
                secret_id,
            ),
            config,
        };
        // Load the pepper during init, where the time is cheapest; a failure is retried
        // by the first request, which answers 503 if it fails again.
        if let Err(e) = app.pepper.get().await {
            tracing::error!(error = %e, "pepper not loaded at cold start");
        }
        Ok(app)
    }
}
