//! A Lambda Runtime API emulator: runs a function binary the way Lambda does — the binary
//! polls `GET /runtime/invocation/next` for events and posts each answer back — so the
//! built bootstraps themselves are tested (`tests/binaries.rs`) and their cold start is
//! measured (`make bench`), not only the library behind them.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};

use crate::BoxError;

/// How long a function may take to init or to answer one event.
const PATIENCE: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Shared {
    events: Mutex<VecDeque<(String, Value)>>,
    event_ready: Notify,
    first_poll: Mutex<Option<Instant>>,
    /// Polls for an event so far, and a wake-up for each.
    polls: Mutex<usize>,
    polled: Notify,
}

/// What the function answered: its response, its invocation error, or its init error.
#[derive(Debug)]
pub enum Outcome {
    Response(Value),
    Error(Value),
    InitError(Value),
}

/// One cold invocation, timed from exec.
#[derive(Debug)]
pub struct ColdStart {
    /// To the first poll for an event: the bootstrap's own init.
    pub init: Duration,
    /// To the first answer posted back.
    pub answered: Duration,
    pub outcome: Outcome,
}

/// One function process under the emulator.
pub struct Function {
    shared: Arc<Shared>,
    /// Each outcome with the moment the function posted it.
    outcomes: mpsc::UnboundedReceiver<(Instant, Outcome)>,
    child: Child,
    started: Instant,
    next_id: u32,
    log: PathBuf,
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Function {
    /// Starts `binary` with the Lambda environment and `env`, served by a fresh emulator.
    pub async fn start(binary: &Path, env: &[(&str, String)]) -> Result<Function, BoxError> {
        Function::start_with(binary, env, None).await
    }

    /// The region and credentials Lambda gives a function, as the emulator gives them:
    /// what the AWS SDK reads from the environment.
    pub fn aws_env() -> [(&'static str, &'static str); 3] {
        [
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "local"),
            ("AWS_SECRET_ACCESS_KEY", "local"),
        ]
    }

    /// A cold Lambda invocation: `event` is already waiting when the process starts, so
    /// the time to its answer is the bootstrap's init plus its first answer.
    pub async fn cold_start(
        binary: &Path,
        env: &[(&str, String)],
        event: &Value,
    ) -> Result<ColdStart, BoxError> {
        let mut function = Function::start_with(binary, env, Some(event)).await?;
        let (at, outcome) = function.next_outcome().await?;
        Ok(ColdStart {
            init: function.init_time().await?,
            answered: at - function.started,
            outcome,
        })
    }

    async fn start_with(
        binary: &Path,
        env: &[(&str, String)],
        first: Option<&Value>,
    ) -> Result<Function, BoxError> {
        let name = binary
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("the binary has no file name")?;
        let shared = Arc::new(Shared::default());
        let mut next_id = 0;
        if let Some(event) = first {
            next_id += 1;
            shared
                .events
                .lock()
                .unwrap()
                .push_back((format!("req-{next_id}"), event.clone()));
        }
        let (tx, outcomes) = mpsc::unbounded_channel();
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let api = listener.local_addr()?;
        tokio::spawn(serve(listener, Arc::clone(&shared), tx));
        let log = std::env::temp_dir().join(format!("knotie-{name}-{}.log", api.port()));
        let output = std::fs::File::create(&log)?;
        let started = Instant::now();
        let child = Command::new(binary)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "emulator")
            .envs(Function::aws_env())
            .env("AWS_LAMBDA_LOG_LEVEL", "warn")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(output.try_clone()?)
            .stderr(output)
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        Ok(Function {
            shared,
            outcomes,
            child,
            started,
            next_id,
            log,
        })
    }

    /// Sends one event and waits for what the function makes of it.
    pub async fn invoke(&mut self, event: &Value) -> Result<Outcome, BoxError> {
        self.next_id += 1;
        let id = format!("req-{}", self.next_id);
        self.shared
            .events
            .lock()
            .unwrap()
            .push_back((id, event.clone()));
        self.shared.event_ready.notify_one();
        Ok(self.next_outcome().await?.1)
    }

    async fn next_outcome(&mut self) -> Result<(Instant, Outcome), BoxError> {
        match tokio::time::timeout(PATIENCE, self.outcomes.recv()).await {
            Ok(Some(outcome)) => Ok(outcome),
            Ok(None) => Err("the emulator stopped".into()),
            Err(_) => Err(format!(
                "the function did not answer within {PATIENCE:?}; it printed:\n{}",
                self.output()
            )
            .into()),
        }
    }

    /// Waits until the function asks for its next event: done with every event sent so far,
    /// including what it does after posting an answer (Lambda freezes it only then).
    pub async fn idle(&self) -> Result<(), BoxError> {
        let done = tokio::time::timeout(PATIENCE, async {
            loop {
                let polled = self.shared.polled.notified();
                if *self.shared.polls.lock().unwrap() > self.next_id as usize {
                    return;
                }
                polled.await;
            }
        });
        done.await
            .map_err(|_| "the function did not ask for its next event".into())
    }

    /// Everything the process printed so far, stdout and stderr.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for the process to end (a failed init) and returns its status and output.
    pub async fn exit(mut self) -> Result<(ExitStatus, String), BoxError> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok((status, self.output()));
            }
            if Instant::now() > deadline {
                return Err("the function did not exit".into());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// From exec to the function's first poll for an event: its cold init.
    pub async fn init_time(&self) -> Result<Duration, BoxError> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(at) = *self.shared.first_poll.lock().unwrap() {
                return Ok(at - self.started);
            }
            if Instant::now() > deadline {
                return Err("the function never polled for an event".into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<(Instant, Outcome)>,
) {
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
    tx: mpsc::UnboundedSender<(Instant, Outcome)>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, BoxError> {
    let path = req.uri().path().to_owned();
    let body = req.into_body().collect().await?.to_bytes();
    let answered = Instant::now();
    let json = || serde_json::from_slice(&body).unwrap_or(Value::Null);
    if path.ends_with("/invocation/next") {
        shared
            .first_poll
            .lock()
            .unwrap()
            .get_or_insert_with(Instant::now);
        *shared.polls.lock().unwrap() += 1;
        shared.polled.notify_waiters();
        let (id, event) = loop {
            if let Some(next) = shared.events.lock().unwrap().pop_front() {
                break next;
            }
            shared.event_ready.notified().await;
        };
        let deadline = SystemTime::now().duration_since(UNIX_EPOCH)? + PATIENCE;
        return Ok(Response::builder()
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
            .body(Full::new(Bytes::from(event.to_string())))?);
    }
    let outcome = if path.ends_with("/response") {
        Outcome::Response(json())
    } else if path.ends_with("/init/error") {
        Outcome::InitError(json())
    } else {
        Outcome::Error(json())
    };
    let _ = tx.send((answered, outcome));
    Ok(Response::builder()
        .status(202)
        .body(Full::new(Bytes::new()))?)
}
