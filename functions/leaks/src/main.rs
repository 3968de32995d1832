//! `POST /secret-scanning/github` and `POST /credentials/revoke`, the public routes for
//! leaked tokens: see [`knotie::leaks`].

use std::sync::Arc;

use knotie::leaks::Leaks;
use lambda_http::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    knotie::logging::init();
    let leaks = Leaks::new(Arc::new(knotie::App::from_env().await?));
    run(service_fn(|req| leaks.handle(req))).await
}
