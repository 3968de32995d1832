//! What a function holds from cold start to shutdown: configuration, the store and the
//! pepper, built once and borrowed by every request.

use std::sync::Arc;

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
        let app = App::unloaded().await?;
        app.pepper.preload().await;
        Ok(app)
    }

    /// [`App::from_env`] for the MCP endpoint, whose cold start a caller waits for: what
    /// it serves is built from the app (`build`) on another thread while the pepper is on
    /// its way — that round trip is the longest step of a cold start, and the CPU work of
    /// `build` (the tools' schemas) fits inside it — and meanwhile reads open the
    /// connections to DynamoDB, so the first call does not (on Lambda, a TLS handshake).
    pub async fn start<T: Send + 'static>(
        build: impl FnOnce(Arc<App>) -> T + Send + 'static,
    ) -> Result<T, BoxError> {
        let app = Arc::new(App::unloaded().await?);
        let built = tokio::task::spawn_blocking({
            let app = Arc::clone(&app);
            move || build(app)
        });
        tokio::join!(app.pepper.preload(), app.store.warm_up());
        Ok(built.await?)
    }

    async fn unloaded() -> Result<App, BoxError> {
        let config = Config::from_env()?;
        let sdk = crate::aws::sdk_config().await;
        let pepper = match &config.pepper_secret_id {
            Some(id) => {
                let client = aws_sdk_secretsmanager::Client::new(&sdk);
                PepperSource::secrets_manager(client, id.clone())
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
