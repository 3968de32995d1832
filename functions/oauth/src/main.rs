//! MCP authorization's routes on the HTTP API — server metadata, client registration,
//! tokens and revocation (public, throttled) and the consent page's API (behind the JWT
//! authorizer): see [`knotie::oauth`].

use std::sync::Arc;

use knotie::oauth::OAuth;
use lambda_http::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    knotie::logging::init();
    let oauth = OAuth::new(Arc::new(knotie::App::from_env().await?));
    oauth.run().await
}
