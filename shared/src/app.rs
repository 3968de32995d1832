//! What a function holds from cold start to shutdown: configuration, the store and the
//! pepper, built once and borrowed by every request.

use crate::config::Config;
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
    /// A deployed function: AWS clients from the Lambda environment, and the pepper from
    /// Secrets Manager when the function is given one (`PEPPER_SECRET_ID`) — revoke needs
    /// none, so it gets neither the variable nor the permission.
    pub async fn from_env() -> Result<App, BoxError> {
        let config = Config::from_env()?;
        let sdk = crate::aws::sdk_config().await;
        let pepper = match &config.pepper_secret_id {
            Some(id) => {
                let client = aws_sdk_secretsmanager::Client::new(&sdk);
                // Loaded during init, where the time is cheapest; a failure is retried by
                // the first request, which answers 503 if it fails again.
                let pepper = PepperSource::secrets_manager(client, id.clone());
                if let Err(e) = pepper.get().await {
                    tracing::error!(error = %e, "pepper not loaded at cold start");
                }
                pepper
            }
            None => PepperSource::None,
        };
        let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), &config.table);
        Ok(App {
            config,
            store,
            pepper,
        })
    }
}
