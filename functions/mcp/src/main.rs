//! The MCP endpoint (function URL, `POST /mcp`): see [`knotie::mcp`].

use knotie::mcp::{lambda, Mcp};
use lambda_http::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    knotie::logging::init();
    let mcp = knotie::App::start(Mcp::new).await?;
    lambda::run(mcp).await
}
