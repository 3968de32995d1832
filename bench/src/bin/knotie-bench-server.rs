//! The Rust side of the benchmark: `make dev`'s server without its setup — configuration,
//! clients and pepper, then serve — as a Lambda function starts.

use std::net::SocketAddr;
use std::sync::Arc;

use knotie_local::server::serve;
use knotie_local::{BoxError, Local};
use tokio::net::TcpListener;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let local = Local::from_env().await?;
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], local.port))).await?;
    serve(Arc::new(local), listener).await?;
    Ok(())
}
