//! `DELETE /mcp-tokens/{id}` and `POST /mcp-tokens/revoke-user`: see
//! [`knotie::api::revokes`].

use lambda_http::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    knotie::logging::init();
    let app = knotie::App::from_env().await?;
    run(service_fn(|req| knotie::api::revokes(&app, req))).await
}
