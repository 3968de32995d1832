//! `GET /mcp-tokens` and `GET /mcp-tokens/{id}/events`: see [`knotie::api::reads`].

use lambda_http::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    knotie::logging::init();
    let app = knotie::App::from_env().await?;
    run(service_fn(|req| knotie::api::reads(&app, req))).await
}
