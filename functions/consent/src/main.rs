//! The consent page's API on the HTTP API, behind the JWT authorizer: `GET` and `POST
//! /oauth/consent`, where a signed-in Knotie user allows or denies an app that asks to
//! connect. The rest of MCP authorization is the MCP function's: see [`knotie::oauth`].

use std::sync::Arc;

use knotie::oauth::OAuth;
use lambda_http::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    knotie::logging::init();
    let oauth = OAuth::new(Arc::new(knotie::App::from_env().await?));
    oauth.run().await
}
