//! A Lambda Runtime API emulator: runs a function binary the way Lambda does — the binary
//! polls `GET /runtime/invocation/next` for events and posts each answer back — so the
//! built bootstraps themselves are tested, not only the library behind them.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};

#[derive(Default)]
struct Shared {
    events: Mutex<VecDeque<(String, Value)>>,
    event_ready: Notify,
    first_poll: Mutex<Option<Instant>>,
}

/// What the function answered: its response, its invocation error, or its init error.
#[derive(Debug)]
pub enum Outcome {
    Response(Value),
    Error(Value),
    InitError(Value),
}

/// One function process under the emulator.
pub struct Function {
    shared: Arc<Shared>,
    outcomes: mpsc::UnboundedReceiver<Outcome>,
    child: Child,
    started: Instant,
    next_id: u32,
    log: std::path::PathBuf,
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Function {
    /// Starts the binary `name` (from `KNOTIE_BIN_DIR`) with the Lambda environment and
    /// `env`, served by a fresh emulator.
    pub async fn start(name: &str, env: &[(&str, String)]) -> Function {
        let shared = Arc::new(Shared::default());
        let (tx, outcomes) = mpsc::unbounded_channel();
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let api = listener.local_addr().unwrap();
        tokio::spawn(serve(listener, Arc::clone(&shared), tx));
        let binary = format!("{}/{name}", super::env("KNOTIE_BIN_DIR"));
        let log = std::env::temp_dir().join(format!("knotie-{name}-{}.log", api.port()));
        let output = std::fs::File::create(&log).unwrap();
        let started = Instant::now();
        let child = Command::new(&binary)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "emulator")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "local")
            .env("AWS_SECRET_ACCESS_KEY", "local")
            .env("AWS_LAMBDA_LOG_LEVEL", "warn")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap_or_else(|e| panic!("{binary}: {e}"));
        Function {
            shared,
            outcomes,
            child,
            started,
            next_id: 0,
            log,
        }
    }

    /// Sends one event and waits for what the function makes of it.
    pub async fn invoke(&mut self, event: &Value) -> Outcome {
        self.next_id += 1;
        let id = format!("req-{}", self.next_id);
        self.shared
            .events
            .lock()
            .unwrap()
            .push_back((id, event.clone()));
        self.shared.event_ready.notify_one();
        tokio::time::timeout(Duration::from_secs(30), self.outcomes.recv())
            .await
            .expect("the function answered within 30 s")
            .expect("the emulator is running")
    }

    /// Everything the process printed so far, stdout and stderr.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for the process to end (a failed init) and returns its status and output.
    pub async fn exit(mut self) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the function did not exit");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        (
            status,
            std::fs::read_to_string(&self.log).unwrap_or_default(),
        )
    }

    /// From exec to the function's first poll for an event: its cold init.
    pub async fn init_time(&self) -> Duration {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(at) = *self.shared.first_poll.lock().unwrap() {
                return at - self.started;
            }
            assert!(
                Instant::now() < deadline,
                "the function never polled for an event"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, tx: mpsc::UnboundedSender<Outcome>) {
    while let Ok((stream, _)) = listener.accept().await {
        let (shared, tx) = (Arc::clone(&shared), tx.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req| route(Arc::clone(&shared), tx.clone(), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn route(
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<Outcome>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path = req.uri().path().to_owned();
    let body = req.into_body().collect().await?.to_bytes();
    let json = || serde_json::from_slice(&body).unwrap_or(Value::Null);
    if path.ends_with("/invocation/next") {
        shared
            .first_poll
            .lock()
            .unwrap()
            .get_or_insert_with(Instant::now);
        let (id, event) = loop {
            if let Some(next) = shared.events.lock().unwrap().pop_front() {
                break next;
            }
            shared.event_ready.notified().await;
        };
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            + Duration::from_secs(30);
        let response = Response::builder()
            .header("lambda-runtime-aws-request-id", id)
            .header(
                "lambda-runtime-deadline-ms",
                deadline.as_millis().to_string(),
            )
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:emulated",
            )
            .header(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000",
            )
            .body(Full::new(Bytes::from(event.to_string())))
            .unwrap();
        return Ok(response);
    }
    let outcome = if path.ends_with("/response") {
        Outcome::Response(json())
    } else if path.ends_with("/init/error") {
        Outcome::InitError(json())
    } else {
        Outcome::Error(json())
    };
    let _ = tx.send(outcome);
    Ok(Response::builder()
        .status(202)
        .body(Full::new(Bytes::new()))
        .unwrap())
}
