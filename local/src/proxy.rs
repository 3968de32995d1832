//! A proxy in front of a local AWS endpoint (DynamoDB Local, moto): it counts requests by
//! operation and can inject the faults a real dependency has — throttling, 500s, latency,
//! reset connections, a response lost after the write committed, or being down — so
//! tests, `make bench` and `make soak` see what a deployed function would.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use crate::BoxError;

/// What can go wrong with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// 400 ProvisionedThroughputExceededException, the request not forwarded.
    Throttle,
    /// 500 InternalServerError, not forwarded.
    ServerError,
    /// Forwarded after a delay.
    Latency(Duration),
    /// The connection dropped before the request was forwarded.
    Reset,
    /// Forwarded and carried out, then the connection dropped before the answer.
    LoseResponse,
}

/// Which requests fail: none, all (the dependency is down), or each with a probability,
/// drawn from a seeded generator so a failing run can be replayed.
#[derive(Debug, Clone, Default)]
pub enum Faults {
    #[default]
    None,
    Down,
    Random {
        per_mille: u16,
        seed: u64,
    },
}

#[derive(Default)]
struct State {
    faults: Faults,
    rng: Option<fastrand::Rng>,
    counts: BTreeMap<String, usize>,
    injected: BTreeMap<Fault, usize>,
}

/// A running proxy; it serves until the process ends.
#[derive(Clone)]
pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Proxy {
    pub async fn start(upstream: &str) -> Result<Proxy, BoxError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let proxy = Proxy {
            addr: listener.local_addr()?,
            state: Arc::default(),
        };
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let (state, upstream) = (
            Arc::clone(&proxy.state),
            upstream.trim_end_matches('/').to_owned(),
        );
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (client, state, upstream) =
                    (client.clone(), Arc::clone(&state), upstream.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        forward(client.clone(), Arc::clone(&state), upstream.clone(), req)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(proxy)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set(&self, faults: Faults) {
        let mut state = self.lock();
        state.rng = match &faults {
            Faults::Random { seed, .. } => Some(fastrand::Rng::with_seed(*seed)),
            _ => None,
        };
        state.faults = faults;
    }

    /// Requests seen since the last call, by operation (`GetItem`, `Query`, …).
    pub fn take_counts(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut self.lock().counts)
    }

    /// Faults injected so far, by kind (latencies counted together).
    pub fn injected(&self) -> BTreeMap<String, usize> {
        let mut by_kind = BTreeMap::new();
        for (fault, n) in &self.lock().injected {
            let kind = match fault {
                Fault::Latency(_) => "latency".to_owned(),
                other => format!("{other:?}"),
            };
            *by_kind.entry(kind).or_default() += n;
        }
        by_kind
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The fault for the next request, if any.
fn draw(state: &mut State) -> Option<Fault> {
    let per_mille = match state.faults {
        Faults::None => return None,
        Faults::Down => return Some(Fault::Reset),
        Faults::Random { per_mille, .. } => per_mille,
    };
    let rng = state.rng.as_mut()?;
    if rng.u16(0..1000) >= per_mille {
        return None;
    }
    Some(match rng.u8(0..5) {
        0 => Fault::Throttle,
        1 => Fault::ServerError,
        2 => Fault::Latency(Duration::from_millis(rng.u64(50..1_500))),
        3 => Fault::Reset,
        _ => Fault::LoseResponse,
    })
}

async fn forward(
    client: Client<HttpConnector, Full<Bytes>>,
    state: Arc<Mutex<State>>,
    upstream: String,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, BoxError> {
    let operation = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(|t| t.rsplit('.').next().unwrap_or(t).to_owned())
        .unwrap_or_else(|| "?".into());
    let fault = {
        let mut state = lock(&state);
        *state.counts.entry(operation).or_default() += 1;
        let fault = draw(&mut state);
        if let Some(fault) = fault {
            *state.injected.entry(fault).or_default() += 1;
        }
        fault
    };
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    match fault {
        Some(Fault::Throttle) => {
            return Ok(aws_error(
                StatusCode::BAD_REQUEST,
                "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            ))
        }
        Some(Fault::ServerError) => {
            return Ok(aws_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "com.amazonaws.dynamodb.v20120810#InternalServerError",
            ))
        }
        Some(Fault::Reset) => return Err("connection reset by the fault proxy".into()),
        Some(Fault::Latency(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::LoseResponse) | None => {}
    }
    let uri = format!(
        "{upstream}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut forwarded = Request::from_parts(parts, Full::new(body));
    *forwarded.uri_mut() = uri.parse()?;
    let response = client.request(forwarded).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    if fault == Some(Fault::LoseResponse) {
        return Err("response lost by the fault proxy".into());
    }
    Ok(Response::from_parts(parts, Full::new(body)))
}

fn aws_error(status: StatusCode, kind: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "__type": kind, "message": "injected by the fault proxy" });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    response
}
