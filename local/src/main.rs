//! `make dev`: creates the table, seeds the demo data, makes a token for `acct_demo`, and
//! serves the management API and the MCP endpoint on localhost (see the crate docs).

use std::net::SocketAddr;
use std::sync::Arc;

use knotie::api::client_configs::client_configs;
use knotie::model::ids::AccountId;
use knotie::model::roles::Identity;
use knotie::model::time::Timestamp;
use knotie::model::token::Token;
use knotie::model::tokens::NewToken;
use knotie::rules::lifecycle;
use knotie_local::server::serve;
use knotie_local::{gateway, seed, BoxError, Local};
use tokio::net::TcpListener;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    knotie::logging::init();
    let local = Local::from_env().await?;
    let store = &local.app.store;
    store.create_table_if_missing().await?;
    seed::demo(store, Timestamp::now()).await?;

    // A fresh token for the demo account, so a client can connect right away.
    let identity = Identity {
        account: AccountId::parse(gateway::DEFAULT_ACCOUNT).expect("a valid account id"),
        user: gateway::DEV_USER.into(),
        role: knotie::model::roles::Role::Owner,
    };
    let new = NewToken::from_json(br#"{"name": "make dev"}"#)?;
    let pepper = local.app.pepper.get().await?;
    let token = lifecycle::generate(store, pepper, &identity, new, Timestamp::now())
        .await?
        .token;

    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], local.port))).await?;
    print_usage(&local, &token);
    tokio::select! {
        served = serve(Arc::new(local), listener) => served?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}

fn print_usage(local: &Local, token: &Token) {
    let base = format!("http://127.0.0.1:{}", local.port);
    let mcp_url = local.app.config.mcp_url.as_deref().unwrap_or_default();
    let configs = client_configs(mcp_url, token, false);
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    println!(
        r#"
Knotie MCP tokens — local stack
  Settings page   {base}/            (Settings → MCP Tokens; ?account=acct_noapi for an account without API access)
  MCP endpoint    {mcp_url}
  management API  {base}/mcp-tokens   (identity: headers x-dev-account, x-dev-user, x-dev-role; defaults acct_demo, user_dev, owner)
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

Or connect without a token (MCP authorization): add {mcp_url} as a custom connector in
an MCP client that signs in with OAuth (VS Code, the MCP Inspector, the MCP SDKs); it
sends you to {base}/oauth/authorize, where the dev identity allows it.

Try the management API:
  # generate a token (shown once)
  curl -s -X POST {base}/mcp-tokens -H 'content-type: application/json' -d '{{"name": "Cursor Development"}}'
  # a read-only token that expires in 30 days
  curl -s -X POST {base}/mcp-tokens -d '{{"name": "Read only", "scopes": ["customers:read", "agents:read", "credits:read", "analytics:read"], "expires_in_days": 30}}'
  # list active tokens, newest first (?status=inactive|all, ?unused_for_days=90, ?limit=5&cursor=...)
  curl -s {base}/mcp-tokens
  # rotate one: a new token; the old one works 60 more minutes, or 5 after the new one's first use
  curl -s -X POST {base}/mcp-tokens/tok_.../rotate -d '{{"overlap_minutes": 60}}'
  # revoke one (use an id from the list); DELETE it again to remove the revoked row
  curl -s -i -X DELETE {base}/mcp-tokens/tok_...
  # act as the account without API access
  curl -s -X POST {base}/mcp-tokens -H 'x-dev-account: acct_noapi' -d '{{"name": "Blocked"}}'

And the MCP endpoint by hand:
  curl -s {mcp_url} -H 'authorization: Bearer {token}' -H 'content-type: application/json' \
    -d '{{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {{"name": "get_usage_analytics", "arguments": {{"group_by": "agent"}}}}}}'

Ctrl-C stops the server and DynamoDB Local.
"#,
        dynamodb = local.dynamodb,
        table = local.app.store.table(),
        token = token.expose(),
        cursor = pretty(&configs["cursor"]),
        claude = pretty(&configs["claude_desktop"]),
        claude_code = configs["claude_code"].as_str().unwrap_or_default(),
    );
}
