//! The local stack behind `make dev`: the deployed routes on localhost over the same
//! handler functions, against DynamoDB Local, with demo data.

pub mod emulator;
pub mod gateway;
pub mod proxy;
pub mod seed;
pub mod server;

use std::sync::Arc;

use knotie::config::Config;
use knotie::leaks::Leaks;
use knotie::mcp::Mcp;
use knotie::model::hashing::Pepper;
use knotie::oauth::OAuth;
use knotie::secrets::PepperSource;
use knotie::store::Store;
use knotie::App;

/// Local development only: deployed functions read their pepper from Secrets Manager.
pub const DEV_PEPPER: &str = "knotie-local-development-pepper-not-a-secret";

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// What the local server serves, configured from the environment: `PORT` (3000),
/// `DYNAMODB_ENDPOINT`, `DEV_PEPPER`, `WEB_DIR`, and the variables a function reads, parsed
/// and checked as a function parses them ([`Config::local`]): `TABLE_NAME`
/// (`knotie-local`), `ACCOUNT_CLAIM`, `ROLE_CLAIM`, `MCP_URL` (this server's `/mcp`),
/// `SECRET_SCANNING_KEYS_URL` (a test points it at a key server of its own),
/// `MCP_RATE_LIMIT_PER_MINUTE` (a test sets a low limit to see 429s quickly) and
/// `MCP_ACCOUNT_CACHE_SECONDS`.
pub struct Local {
    pub port: u16,
    /// The built Settings page (`WEB_DIR`, default `web/dist`).
    pub web_dir: std::path::PathBuf,
    pub dynamodb: String,
    pub app: Arc<App>,
    pub mcp: Mcp,
    pub leaks: Leaks,
    pub oauth: OAuth,
}

impl Local {
    pub async fn from_env() -> Result<Local, BoxError> {
        let port = env_or("PORT", "3000");
        let port: u16 = port
            .trim()
            .parse()
            .map_err(|_| format!("PORT must be a port number from 0 to 65535, not {port:?}"))?;
        let config = Config::local(port, |name| std::env::var(name).ok())?;
        let dynamodb = env_or("DYNAMODB_ENDPOINT", "http://127.0.0.1:8000");
        let sdk = knotie::aws::local_sdk_config().await;
        let store = Store::new(knotie::aws::dynamodb_at(&sdk, &dynamodb), &config.table);
        let pepper = PepperSource::Fixed(Pepper::new(env_or("DEV_PEPPER", DEV_PEPPER).as_bytes())?);
        let app = Arc::new(App {
            config,
            store,
            pepper,
        });
        Ok(Local {
            port,
            web_dir: env_or("WEB_DIR", "web/dist").into(),
            dynamodb,
            mcp: Mcp::new(Arc::clone(&app)),
            leaks: Leaks::new(Arc::clone(&app)),
            oauth: OAuth::new(Arc::clone(&app)),
            app,
        })
    }
}
