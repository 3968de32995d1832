//! The `mcp` function on the Lambda runtime, bookkeeping after the answer.
//!
//! Lambda hands the answer to the caller as soon as the function posts it, and freezes
//! the function only when it asks for the next event. So each request's [`Bookkeeping`]
//! — up to two writes, a few milliseconds — runs between the two: billed, never waited
//! for, and always finished before the next request (or a freeze) could overtake it.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use lambda_http::lambda_runtime::layers::TracingLayer;
use lambda_http::lambda_runtime::{LambdaInvocation, Runtime};
use lambda_http::tower::{Layer, Service};
use lambda_http::{service_fn, Adapter, Error, Request};

use super::{Bookkeeping, Mcp};

/// Serves `mcp` until the runtime stops.
pub async fn run(mcp: Mcp) -> Result<(), Error> {
    let mcp = Arc::new(mcp);
    let pending = Pending::default();
    let handler = {
        let pending = pending.clone();
        service_fn(move |req: Request| {
            let (mcp, pending) = (Arc::clone(&mcp), pending.clone());
            async move {
                let (response, bookkeeping) = mcp.answer(req).await;
                pending.put(bookkeeping);
                Ok::<_, Infallible>(response)
            }
        })
    };
    Runtime::new(Adapter::from(handler))
        .layer(TracingLayer::new())
        .layer(AfterAnswer { pending })
        .run()
        .await
}

/// The bookkeeping of the request being answered, from the handler to [`AfterAnswer`].
#[derive(Clone, Default)]
struct Pending(Arc<Mutex<Vec<Bookkeeping>>>);

impl Pending {
    fn put(&self, bookkeeping: Bookkeeping) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(bookkeeping);
    }

    async fn run(&self) {
        let due = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        for bookkeeping in due {
            bookkeeping.run().await;
        }
    }
}

/// Around the whole invocation, the answer's post included: then the bookkeeping.
struct AfterAnswer {
    pending: Pending,
}

impl<S> Layer<S> for AfterAnswer {
    type Service = AfterAnswerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AfterAnswerService {
            inner,
            pending: self.pending.clone(),
        }
    }
}

struct AfterAnswerService<S> {
    inner: S,
    pending: Pending,
}

impl<S> Service<LambdaInvocation> for AfterAnswerService<S>
where
    S: Service<LambdaInvocation, Response = (), Error = Error>,
    S::Future: Send + 'static,
{
    type Response = ();
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        let answered = self.inner.call(invocation);
        let pending = self.pending.clone();
        Box::pin(async move {
            let result = answered.await;
            pending.run().await;
            result
        })
    }
}
