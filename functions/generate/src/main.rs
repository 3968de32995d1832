//! `POST /mcp-tokens`: see [`knotie::api::generate`].

use lambda_http::{run, service_fn, tracing, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = knotie::App::from_env().await?;
    run(service_fn(|req| knotie::api::generate(&app, req))).await
}
