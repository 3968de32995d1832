//! A function on the Lambda runtime that answers first and finishes after: the MCP
//! function's bookkeeping, the leak function's revokes of a holder's report.
//!
//! Lambda hands the answer to the caller as soon as the function posts it, and freezes
//! the function only when it asks for the next event. So what a request leaves for later
//! runs between the two: billed, never waited for by the caller, and always finished
//! before the next request (or a freeze) could overtake it.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use lambda_http::lambda_runtime::layers::TracingLayer;
use lambda_http::lambda_runtime::{LambdaInvocation, Runtime};
use lambda_http::tower::{Layer, Service};
use lambda_http::{service_fn, Adapter, Body, Error, Request, Response};

/// What a request leaves to do once its answer is out.
pub type Later = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Serves `answer` until the runtime stops, running each request's [`Later`] after its
/// answer is posted.
pub async fn run<A, F>(answer: A) -> Result<(), Error>
where
    A: Fn(Request) -> F + Send + Sync + 'static,
    F: Future<Output = (Response<Body>, Option<Later>)> + Send + 'static,
{
    let answer = Arc::new(answer);
    let pending = Pending::default();
    let handler = {
        let pending = pending.clone();
        service_fn(move |req: Request| {
            let (answer, pending) = (Arc::clone(&answer), pending.clone());
            async move {
                let (response, later) = answer(req).await;
                if let Some(later) = later {
                    pending.put(later);
                }
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

/// What the request being answered left for later, from the handler to [`AfterAnswer`].
#[derive(Clone, Default)]
struct Pending(Arc<Mutex<Vec<Later>>>);

impl Pending {
    fn put(&self, later: Later) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(later);
    }

    async fn run(&self) {
        let due = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        for later in due {
            later.await;
        }
    }
}

/// Around the whole invocation, the answer's post included: then what was left for later.
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
