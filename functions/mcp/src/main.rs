//! The MCP endpoint (function URL, `POST /mcp`): see [`knotie::mcp`].
//!
//! What a cold start does, in order: configuration and AWS clients (the region and
//! credentials named from the Lambda environment, trusting only Amazon's roots); then, at
//! once, the pepper's round trip to Secrets Manager, two reads that open two connections
//! to DynamoDB, and the MCP tools' schemas built on another thread; then the first call —
//! the token read, then at once the account profile read and the token's rate decision
//! (its count added to the shared one) — answered. Its bookkeeping writes (the token's
//! last use) and its log line come after the answer is posted:
//! Lambda returns the answer then and freezes the function only when it asks for its next
//! event. `make bench` times it (see the README's Performance).

use knotie::mcp::Mcp;
use lambda_http::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    knotie::logging::init();
    let mcp = knotie::App::start(Mcp::new).await?;
    mcp.run().await
}
