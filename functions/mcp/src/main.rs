//! The MCP endpoint (function URL, `POST /mcp`): see [`knotie::mcp`].

use std::sync::Arc;

use knotie::mcp::Mcp;
use lambda_http::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    knotie::logging::init();
    let app = Arc::new(knotie::App::from_env().await?);
    let mcp = Mcp::new(app);
    run(service_fn(|req| mcp.handle(req))).await
}
