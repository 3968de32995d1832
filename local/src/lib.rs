//! The local stack behind `make dev`: the deployed routes on localhost over the same
//! handler functions, against DynamoDB Local, with demo data.

pub mod emulator;
pub mod gateway;
pub mod proxy;
pub mod seed;
pub mod server;

use std::sync::Arc;

use knotie::config::{Config, DEFAULT_ACCOUNT_CLAIM};
use knotie::leaks::Leaks;
use knotie::mcp::Mcp;
use knotie::model::hashing::Pepper;
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
/// `TABLE_NAME`, `DYNAMODB_ENDPOINT`, `DEV_PEPPER`, `ACCOUNT_CLAIM`, `ROLE_CLAIM`, `MCP_URL`,
/// `WEB_DIR`, `SECRET_SCANNING_KEYS_URL`, `MCP_RATE_LIMIT_PER_MINUTE`.
pub struct Local {
    pub port: u16,
    /// The built Settings page (`WEB_DIR`, default `web/dist`).
    pub web_dir: std::path::PathBuf,
    pub dynamodb: String,
    pub app: Arc<App>,
    pub mcp: Mcp,
    pub leaks: Leaks,
}

impl Local {
    pub async fn from_env() -> Result<Local, BoxError> {
        let port: u16 = env_or("PORT", "3000").parse()?;
        let config = Config {
            table: env_or("TABLE_NAME", "knotie-local"),
            account_claim: env_or("ACCOUNT_CLAIM", DEFAULT_ACCOUNT_CLAIM),
            role_claim: env_or("ROLE_CLAIM", knotie::config::DEFAULT_ROLE_CLAIM),
            // A test sets a low limit to see 429s quickly.
            rate_limit_per_minute: env_or("MCP_RATE_LIMIT_PER_MINUTE", "120").parse()?,
            account_cache: std::time::Duration::from_secs(
                env_or("MCP_ACCOUNT_CACHE_SECONDS", "30").parse()?,
            ),
            mcp_url: Some(env_or("MCP_URL", &format!("http://127.0.0.1:{port}/mcp"))),
            pepper_secret_id: None,
            // Loopback only, against DNS rebinding; browsers on this machine may call it
            // (the settings page, the MCP Inspector).
            allowed_origins: vec!["http://127.0.0.1:*".into(), "http://localhost:*".into()],
            allowed_hosts: Some(vec!["127.0.0.1".into(), "localhost".into(), "::1".into()]),
            // A test can point this at a key server of its own.
            secret_scanning_keys_url: env_or(
                "SECRET_SCANNING_KEYS_URL",
                knotie::config::DEFAULT_SECRET_SCANNING_KEYS_URL,
            ),
            // Metrics are CloudWatch's; the local server's terminal stays readable.
            emit_metrics: false,
        };
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
            app,
        })
    }
}
