//! `POST /mcp-tokens` and `POST /mcp-tokens/{id}/rotate`: see [`knotie::api::issues`].

use lambda_http::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    knotie::logging::init();
    let app = knotie::App::from_env().await?;
    run(service_fn(|req| knotie::api::issues(&app, req))).await
}
