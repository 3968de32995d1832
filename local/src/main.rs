//! `make dev`: see the crate docs.

use std::net::SocketAddr;
use std::sync::Arc;

use knotie::config::{Config, DEFAULT_ACCOUNT_CLAIM};
use knotie::hashing::Pepper;
use knotie::identity::{AccountId, Identity};
use knotie::lifecycle::{self, NewToken};
use knotie::mcp::{Mcp, Settings};
use knotie::secrets::PepperSource;
use knotie::store::Store;
use knotie::App;
use knotie_local::server::{serve, Local};
use knotie_local::{gateway, seed};
use time::OffsetDateTime;
use tokio::net::TcpListener;

/// Local development only: deployed functions read their pepper from Secrets Manager.
const DEV_PEPPER: &str = "knotie-local-development-pepper-not-a-secret";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    lambda_http::tracing::init_default_subscriber();
    let port: u16 = env_or("PORT", "3000").parse()?;
    let base = format!("http://127.0.0.1:{port}");
    let mcp_url = env_or("MCP_URL", &format!("{base}/mcp"));
    let config = Config {
        table: env_or("TABLE_NAME", "knotie-local"),
        account_claim: env_or("ACCOUNT_CLAIM", DEFAULT_ACCOUNT_CLAIM),
        mcp_url: Some(mcp_url.clone()),
    };
    let sdk = knotie::aws::local_sdk_config().await;
    let dynamodb = env_or("DYNAMODB_ENDPOINT", "http://127.0.0.1:8000");
    let store = Store::new(knotie::aws::dynamodb_at(&sdk, &dynamodb), &config.table);
    store.create_table_if_missing().await?;
    seed::demo(&store, OffsetDateTime::now_utc()).await?;
    let pepper = Pepper::new(env_or("DEV_PEPPER", DEV_PEPPER).as_bytes())?;

    // A fresh token for the demo account, so a client can connect right away.
    let identity = Identity {
        account: AccountId::parse(gateway::DEFAULT_ACCOUNT).expect("valid"),
        user: gateway::DEV_USER.into(),
    };
    let new = NewToken::from_json(br#"{"name": "make dev"}"#)?;
    let token = lifecycle::generate(&store, &pepper, &identity, new, OffsetDateTime::now_utc())
        .await?
        .token;

    let app = Arc::new(App {
        config,
        store,
        pepper: PepperSource::Fixed(pepper),
    });
    // Loopback only, as rmcp defaults, against DNS rebinding; browsers on this machine
    // may call it (the settings page, the MCP Inspector).
    let settings = Settings {
        allowed_origins: ["http://127.0.0.1", "http://localhost"]
            .iter()
            .map(|o| format!("{o}:*"))
            .collect(),
        allowed_hosts: Some(vec!["127.0.0.1".into(), "localhost".into(), "::1".into()]),
    };
    let local = Arc::new(Local {
        mcp: Mcp::new(Arc::clone(&app), settings),
        app,
    });
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    print_usage(
        &base,
        &mcp_url,
        &dynamodb,
        local.app.store.table(),
        token.expose(),
    );
    tokio::select! {
        served = serve(local, listener) => served?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}

fn print_usage(base: &str, mcp_url: &str, dynamodb: &str, table: &str, token: &str) {
    let configs = knotie::client_configs::client_configs(
        mcp_url,
        &knotie::token::Token::parse(token).expect("fresh"),
    );
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    println!(
        r#"
Knotie MCP tokens — local stack
  MCP endpoint    {mcp_url}
  management API  {base}/mcp-tokens   (identity: header x-dev-account, default acct_demo)
  DynamoDB Local  {dynamodb}   table {table}
  demo accounts   acct_demo (API access on, demo data), acct_noapi (API access off), acct_other

A token for acct_demo, made just now (it is shown only here):
  {token}

Cursor (~/.cursor/mcp.json):
{cursor}

Claude Desktop (claude_desktop_config.json):
{claude}

Claude Code:
  {claude_code}

Try the management API:
  # generate a token (shown once)
  curl -s -X POST {base}/mcp-tokens -H 'content-type: application/json' -d '{{"name": "Cursor Development"}}'
  # a read-only token that expires in 30 days
  curl -s -X POST {base}/mcp-tokens -d '{{"name": "Read only", "scopes": ["customers:read", "agents:read", "credits:read", "analytics:read"], "expires_in_days": 30}}'
  # list tokens, newest first (add ?limit=5&cursor=... to page)
  curl -s {base}/mcp-tokens
  # revoke one (use an id from the list)
  curl -s -i -X DELETE {base}/mcp-tokens/tok_...
  # act as the account without API access
  curl -s -X POST {base}/mcp-tokens -H 'x-dev-account: acct_noapi' -d '{{"name": "Blocked"}}'

And the MCP endpoint by hand:
  curl -s {mcp_url} -H 'authorization: Bearer {token}' -H 'content-type: application/json' \
    -d '{{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {{"name": "get_usage_analytics", "arguments": {{"group_by": "agent"}}}}}}'

Ctrl-C stops the server and DynamoDB Local.
"#,
        cursor = pretty(&configs["cursor"]),
        claude = pretty(&configs["claude_desktop"]),
        claude_code = configs["claude_code"].as_str().unwrap_or_default(),
    );
}
