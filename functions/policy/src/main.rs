//! `GET /mcp-tokens/policy` and `PUT /mcp-tokens/policy`: see [`knotie::api::policy`].

use lambda_http::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    knotie::logging::init();
    let app = knotie::App::from_env().await?;
    run(service_fn(|req| knotie::api::policy(&app, req))).await
}
