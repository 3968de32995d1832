//! `POST /secret-scanning/github` and `POST /credentials/revoke`, the public routes for
//! leaked tokens: see [`knotie::leaks`]. A holder's revokes run after the answer.

use std::sync::Arc;

use knotie::leaks::Leaks;
use lambda_http::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    knotie::logging::init();
    let leaks = Leaks::new(Arc::new(knotie::App::from_env().await?));
    leaks.run().await
}
