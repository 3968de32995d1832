//! The measurements: servers as child processes, a keep-alive HTTP client, CPU and RSS
//! from `/proc`, and a counting proxy in front of DynamoDB Local.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use knotie::model::account::Account;
use knotie::model::ids::AccountId;
use knotie::model::roles::Identity;
use knotie::model::tokens::NewToken;
use knotie::rules::lifecycle;
use knotie::store::keys;
use knotie_local::emulator::{Function, Outcome};
use knotie_local::{BoxError, Local, DEV_PEPPER};
use serde_json::{json, Value};

const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_account","arguments":{}}}"#;
/// The function URL event the bootstrap is given: the project's sample, carrying `CALL`.
const EVENT: &str = include_str!("../../events/mcp-tools-call.json");
/// The bootstrap's pepper, in moto's Secrets Manager: the local server's, so one token
/// serves both.
const PEPPER_SECRET: &str = "knotie-bench-pepper";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Rust = 0,
    Node = 1,
}

impl Kind {
    pub const BOTH: [Kind; 2] = [Kind::Rust, Kind::Node];
}

/// Where a cold Node.js peer takes its pepper from.
#[derive(Debug, Clone, Copy)]
pub enum PepperFrom {
    SecretsManager,
    Env,
}

/// The rate limit the servers get: one token makes every measured call, far faster than
/// the default 120 a minute; the limiter runs (it counts every call) but never refuses.
const UNLIMITED: &str = "1000000000";

/// Whether `CALL` was answered as it should be: the bench account, 200.
fn expected(status: u16, answer: &Value) -> Result<(), BoxError> {
    if status != 200 || answer["result"]["structuredContent"]["name"] != "Bench Agency" {
        return Err(format!("unexpected answer {status}: {answer}").into());
    }
    Ok(())
}

fn required(name: &str) -> Result<String, BoxError> {
    std::env::var(name).map_err(|_| format!("{name} must be set (scripts/bench.sh sets it)").into())
}

pub fn percentile(samples: &[Duration], p: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted
        .get((sorted.len().saturating_sub(1)) * p / 100)
        .copied()
        .unwrap_or_default()
}

/// One server's warm run at one concurrency.
pub struct Sample {
    pub kind: Kind,
    pub concurrency: usize,
    latencies: Vec<Duration>,
    wall: Duration,
    cpu_ticks: u64,
    pub peak_rss_mb: f64,
}

impl Sample {
    pub fn p(&self, p: usize) -> Duration {
        percentile(&self.latencies, p)
    }

    pub fn rps(&self) -> f64 {
        (self.latencies.len() as f64 / self.wall.as_secs_f64()).round()
    }

    pub fn cpu_us_per_call(&self) -> f64 {
        self.cpu_ticks as f64 * 1e6 / clock_ticks() as f64 / self.latencies.len() as f64
    }
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub struct Bench {
    dynamodb: String,
    /// moto's Secrets Manager.
    secrets: String,
    /// The `mcp` Lambda bootstrap.
    bootstrap: PathBuf,
    /// `EVENT` with the bench's token.
    event: Value,
    table: String,
    token: String,
    /// A connected app's access token for the same account, got through MCP
    /// authorization's own steps (registration, consent, code exchange).
    oauth_token: String,
    client: HttpClient,
    hash_key: (String, String),
    store_client: aws_sdk_dynamodb::Client,
}

/// What a cold start costs before the function's own work (see [`Bench::cold_floor`]).
pub struct ColdFloor {
    /// Exec to exit of an empty program.
    pub exec: Duration,
    /// The pepper's read by a new client in a warm process.
    pub pepper: Duration,
    /// The cold start's requests alone, exec to exit of a fresh process.
    pub requests: Duration,
}

/// A server under test; killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Bench {
    /// The table, an account with API access, and a token for it, made with the library.
    pub async fn set_up() -> Result<Bench, BoxError> {
        // The same settings the servers get: TABLE_NAME, DYNAMODB_ENDPOINT, DEV_PEPPER.
        let local = Local::from_env().await?;
        let store = &local.app.store;
        store.create_table_if_missing().await?;
        let account = AccountId::parse("acct_bench").ok_or("account id")?;
        let profile = Account {
            id: account.clone(),
            name: "Bench Agency".into(),
            plan: "pro".into(),
            api_access: true,
            credit_pool: 1000,
            policy: knotie::model::policy::Policy::default(),
        };
        store
            .put_account(&profile, knotie::model::time::Timestamp::now())
            .await?;
        let pepper = local.app.pepper.get().await?;
        let identity = Identity {
            account,
            user: "bench".into(),
            role: knotie::model::roles::Role::Owner,
        };
        let new = NewToken::from_json(br#"{"name": "bench"}"#)?;
        let token = lifecycle::generate(
            store,
            pepper,
            &identity,
            new,
            knotie::model::time::Timestamp::now(),
        )
        .await?
        .token;
        let oauth_token = connected_app(&local, &identity).await?;
        let hash = pepper.hash(&token);
        let sdk = knotie::aws::local_sdk_config().await;
        let secrets = required("SECRETS_ENDPOINT")?;
        let secrets_client = knotie::aws::secretsmanager_at(&sdk, &secrets);
        let created = secrets_client
            .create_secret()
            .name(PEPPER_SECRET)
            .secret_string(DEV_PEPPER)
            .send()
            .await;
        if created.is_err() {
            // Already there from an earlier run against the same moto.
            secrets_client
                .put_secret_value()
                .secret_id(PEPPER_SECRET)
                .secret_string(DEV_PEPPER)
                .send()
                .await?;
        }
        let mut event: Value = serde_json::from_str(EVENT)?;
        event["headers"]["authorization"] = format!("Bearer {}", token.expose()).into();
        event["body"] = CALL.into();
        Ok(Bench {
            secrets,
            bootstrap: required("MCP_BOOTSTRAP")?.into(),
            event,
            store_client: knotie::aws::dynamodb_at(&sdk, &local.dynamodb),
            hash_key: (keys::token_hash(&hash), keys::TOKEN_HASH_SK.into()),
            token: token.expose().to_owned(),
            oauth_token,
            client: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(64)
                .build_http(),
            dynamodb: local.dynamodb.clone(),
            table: store.table().to_owned(),
        })
    }

    pub fn machine(&self) -> Value {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name") || l.starts_with("CPU part"))
            .and_then(|l| l.split(':').nth(1))
            .map_or("unknown CPU".to_owned(), |m| m.trim().to_owned());
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        let node = Command::new("node")
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
        json!({
            "cpus": cpus,
            "model": model,
            "node": node.unwrap_or_default(),
            "summary": format!("{cpus} vCPU ({model}), Linux, DynamoDB Local on loopback"),
        })
    }

    /// A bare strongly consistent GetItem from a client, after warming DynamoDB Local's JIT.
    pub async fn floor(&self, warmup: usize, samples: usize) -> Result<Vec<Duration>, BoxError> {
        let get = || {
            self.store_client
                .get_item()
                .table_name(&self.table)
                .key("PK", AttributeValue::S(self.hash_key.0.clone()))
                .key("SK", AttributeValue::S(self.hash_key.1.clone()))
                .consistent_read(true)
                .send()
        };
        for _ in 0..warmup {
            get().await?;
        }
        // A first call now also writes (its rate decision): warm that path of the JVM too.
        for i in 0..warmup / 5 {
            self.store_client
                .update_item()
                .table_name(&self.table)
                .key("PK", AttributeValue::S("WARMUP#bench".into()))
                .key("SK", AttributeValue::S((i % 16).to_string()))
                .update_expression("ADD n :one")
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .send()
                .await?;
        }
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            let start = Instant::now();
            get().await?;
            times.push(start.elapsed());
        }
        Ok(times)
    }

    /// A new personal token of the bench's account.
    async fn fresh_token(&self) -> Result<String, BoxError> {
        let local = Local::from_env().await?;
        let pepper = local.app.pepper.get().await?;
        let identity = Identity {
            account: AccountId::parse("acct_bench").ok_or("account id")?,
            user: "bench".into(),
            role: knotie::model::roles::Role::Owner,
        };
        let new = NewToken::from_json(br#"{"name": "bench, counted"}"#)?;
        let now = knotie::model::time::Timestamp::now();
        let made = lifecycle::generate(&local.app.store, pepper, &identity, new, now).await?;
        Ok(made.token.expose().to_owned())
    }

    /// The parts of a cold start that are not the function's own work, each timed alone
    /// against the same stand-ins: exec to exit of an empty program built like the
    /// bootstrap, and the pepper's first read from Secrets Manager by a new client (new
    /// connection); and the cold start's requests alone, made by a fresh process
    /// (`knotie-bare`). One sample of each, taken beside a cold start so that both meet
    /// the same load.
    pub async fn cold_floor(&self) -> Result<ColdFloor, BoxError> {
        let bin = |name: &str| -> Result<PathBuf, BoxError> {
            Ok(std::path::Path::new(&std::env::var("RUST_SERVER")?).with_file_name(name))
        };
        // Exec to exit with nothing to read back, as lean as a floor should be; a failure
        // is run again to say why.
        let timed = |command: &mut Command| -> Result<Duration, BoxError> {
            let start = Instant::now();
            let status = command
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()?;
            let elapsed = start.elapsed();
            if !status.success() {
                let output = command.stderr(Stdio::piped()).output()?;
                let said = String::from_utf8_lossy(&output.stderr);
                return Err(format!("{command:?} failed: {said}").into());
            }
            Ok(elapsed)
        };
        let exec = timed(&mut Command::new(bin("knotie-empty")?))?;
        let sdk = knotie::aws::local_sdk_config().await;
        let secrets = knotie::aws::secretsmanager_at(&sdk, &self.secrets);
        let start = Instant::now();
        secrets
            .get_secret_value()
            .secret_id(PEPPER_SECRET)
            .send()
            .await?;
        let pepper = start.elapsed();
        // As the emulator starts the bootstrap: its environment and nothing else.
        let requests = timed(
            Command::new(bin("knotie-bare")?)
                .env_clear()
                .envs(Function::aws_env())
                .envs(self.bootstrap_env())
                .env("TOKEN_KEY", &self.hash_key.0)
                .env("ACCOUNT_ID", "acct_bench"),
        )?;
        Ok(ColdFloor {
            exec,
            pepper,
            requests,
        })
    }

    fn start(&self, kind: Kind, dynamodb: &str, env: &[(&str, String)]) -> Server {
        let port = free_port();
        let mut command = match kind {
            Kind::Rust => Command::new(std::env::var("RUST_SERVER").expect("RUST_SERVER")),
            Kind::Node => {
                let peer = std::env::var("NODE_PEER").expect("NODE_PEER");
                if peer.ends_with(".mjs") {
                    let mut node = Command::new("node");
                    node.arg(peer);
                    node
                } else {
                    Command::new(peer)
                }
            }
        };
        let child = command
            .env("PORT", port.to_string())
            .env("TABLE_NAME", &self.table)
            .env("DYNAMODB_ENDPOINT", dynamodb)
            .env("PEPPER", DEV_PEPPER)
            .env("RUST_LOG", "error")
            .env("MCP_RATE_LIMIT_PER_MINUTE", UNLIMITED)
            // Node's AWS SDK warns that it will want Node 22 from 2027; not news here.
            .env("NODE_NO_WARNINGS", "1")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .spawn()
            .expect("the server starts");
        Server { child, port }
    }

    /// What the deployed `mcp` function is given (`template.yaml`), pointed at loopback.
    fn bootstrap_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("TABLE_NAME", self.table.clone()),
            ("PEPPER_SECRET_ID", PEPPER_SECRET.into()),
            ("AWS_ENDPOINT_URL_DYNAMODB", self.dynamodb.clone()),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", self.secrets.clone()),
            ("MCP_RATE_LIMIT_PER_MINUTE", UNLIMITED.into()),
        ]
    }

    /// One authenticated tools/call get_account; its latency if it succeeded.
    async fn call(&self, port: u16) -> Result<Duration, BoxError> {
        self.call_with(port, &self.token).await
    }

    async fn call_with(&self, port: u16, token: &str) -> Result<Duration, BoxError> {
        let request = http::Request::post(format!("http://127.0.0.1:{port}/mcp"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25")
            .header("authorization", format!("Bearer {token}"))
            .body(Full::new(Bytes::from_static(CALL.as_bytes())))?;
        let start = Instant::now();
        let response = self.client.request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let elapsed = start.elapsed();
        let answer: Value = serde_json::from_slice(&body)?;
        expected(status.as_u16(), &answer)?;
        Ok(elapsed)
    }

    /// The `mcp` bootstrap as deployed, cold, under the Runtime API emulator with a
    /// tools/call already waiting: from exec to its answer, and to its first poll for an
    /// event (its init). Its pepper comes from Secrets Manager (moto), as deployed.
    pub async fn cold_start_rust(&self) -> Result<(Duration, Duration), BoxError> {
        self.cold_start_bootstrap(&self.bootstrap).await
    }

    /// Another build's `mcp` bootstrap, cold, as [`Bench::cold_start_rust`] times this one.
    pub async fn cold_start_bootstrap(
        &self,
        bootstrap: &std::path::Path,
    ) -> Result<(Duration, Duration), BoxError> {
        let cold = Function::cold_start(bootstrap, &self.bootstrap_env(), &self.event).await?;
        let answer = match &cold.outcome {
            Outcome::Response(response) => response,
            other => return Err(format!("the bootstrap failed: {other:?}").into()),
        };
        let body: Value = serde_json::from_str(answer["body"].as_str().unwrap_or(""))?;
        let status = answer["statusCode"].as_u64().unwrap_or(0);
        expected(u16::try_from(status).unwrap_or(0), &body)?;
        Ok((cold.answered, cold.init))
    }

    /// The Node.js peer, cold: from exec to its first successful tools/call over HTTP,
    /// its pepper read from Secrets Manager before it listens (as the Rust bootstrap's
    /// init does) or given in its environment.
    pub async fn cold_start_node(&self, pepper: PepperFrom) -> Result<Duration, BoxError> {
        let from_secrets = [
            ("PEPPER_SECRET_ID", PEPPER_SECRET.to_owned()),
            ("SECRETS_ENDPOINT", self.secrets.clone()),
        ];
        let env: &[(&str, String)] = match pepper {
            PepperFrom::SecretsManager => &from_secrets,
            PepperFrom::Env => &[],
        };
        let exec = Instant::now();
        let server = self.start(Kind::Node, &self.dynamodb, env);
        loop {
            match self.call(server.port).await {
                Ok(_) => return Ok(exec.elapsed()),
                Err(_) if exec.elapsed() < Duration::from_secs(30) => {
                    tokio::time::sleep(Duration::from_millis(1)).await
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The `mcp` bootstrap warm under the Runtime API emulator: each call from its event
    /// handed out to the bootstrap's next poll — what Lambda bills, the bookkeeping after
    /// the answer included — after `warmup` calls.
    pub async fn billed_rust(
        &self,
        warmup: usize,
        calls: usize,
    ) -> Result<Vec<Duration>, BoxError> {
        let mut function = Function::start(&self.bootstrap, &self.bootstrap_env()).await?;
        let mut billed = Vec::with_capacity(calls);
        for i in 0..warmup + calls {
            let start = Instant::now();
            let outcome = function.invoke(&self.event).await?;
            function.idle().await?;
            if !matches!(outcome, Outcome::Response(_)) {
                return Err(format!("the bootstrap failed: {outcome:?}").into());
            }
            if i >= warmup {
                billed.push(start.elapsed());
            }
        }
        Ok(billed)
    }

    /// `calls` calls per server at concurrency 1, then 16, in alternating rounds.
    pub async fn warm(&self, calls: usize) -> Result<Vec<Sample>, BoxError> {
        let servers = [
            self.start(Kind::Rust, &self.dynamodb, &[]),
            self.start(Kind::Node, &self.dynamodb, &[]),
        ];
        for server in &servers {
            wait_until_up(self, server).await?;
            for _ in 0..300 {
                self.call(server.port).await?;
            }
        }
        let rounds = 6;
        let mut samples = Vec::new();
        for concurrency in [1, 16] {
            let mut runs: Vec<Sample> = Kind::BOTH
                .iter()
                .map(|&kind| Sample {
                    kind,
                    concurrency,
                    latencies: Vec::new(),
                    wall: Duration::ZERO,
                    cpu_ticks: 0,
                    peak_rss_mb: 0.0,
                })
                .collect();
            for _ in 0..rounds {
                for (run, server) in runs.iter_mut().zip(&servers) {
                    let pid = server.child.id();
                    let cpu_before = cpu_ticks(pid);
                    let start = Instant::now();
                    let per_task = (calls / rounds).div_ceil(concurrency);
                    let tasks = (0..concurrency).map(|_| async move {
                        let mut latencies = Vec::with_capacity(per_task);
                        for _ in 0..per_task {
                            latencies.push(self.call(server.port).await?);
                        }
                        Ok::<_, BoxError>(latencies)
                    });
                    for latencies in futures::future::join_all(tasks).await {
                        run.latencies.extend(latencies?);
                    }
                    run.wall += start.elapsed();
                    run.cpu_ticks += cpu_ticks(pid) - cpu_before;
                    run.peak_rss_mb = peak_rss_mb(pid);
                }
            }
            samples.extend(runs);
        }
        Ok(samples)
    }

    /// DynamoDB requests per tools/call, by operation, and the capacity units they
    /// consumed as DynamoDB reports them, through a counting proxy, each call made with
    /// `token`; with `rate_limit`, the server limits each token so (its rate counts are
    /// then written as deployed).
    pub async fn count_requests(
        &self,
        kind: Kind,
        calls: usize,
        token: Caller,
        rate_limit: Option<u32>,
    ) -> Result<Value, BoxError> {
        let proxy = knotie_local::proxy::Proxy::start(&self.dynamodb).await?;
        proxy.measure_capacity();
        let limit: Vec<(&str, String)> = rate_limit
            .map(|l| ("MCP_RATE_LIMIT_PER_MINUTE", l.to_string()))
            .into_iter()
            .collect();
        let server = self.start(kind, &proxy.url(), &limit);
        wait_until_up(self, &server).await?;
        let fresh;
        let token = match token {
            Caller::Personal => &self.token,
            Caller::ConnectedApp => &self.oauth_token,
            Caller::Fresh => {
                fresh = self.fresh_token().await?;
                &fresh
            }
        };
        // A token's first calls on an instance read its account, record a use and ask the
        // rate counts before they are admitted: not warm calls.
        for _ in 0..2 {
            self.call_with(server.port, token).await?;
        }
        proxy.take_counts();
        proxy.take_capacity();
        for _ in 0..calls {
            self.call_with(server.port, token).await?;
        }
        // What the server writes once the answers are out, done too.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let counts = proxy.take_counts();
        let units = proxy.take_capacity().unwrap_or_default();
        let total: usize = counts.values().sum();
        let mut per_call = serde_json::Map::new();
        per_call.insert("total".into(), json!(total as f64 / calls as f64));
        for (op, n) in counts {
            per_call.insert(op, json!(n as f64 / calls as f64));
        }
        per_call.insert("read_units".into(), json!(units.read / calls as f64));
        per_call.insert("write_units".into(), json!(units.write / calls as f64));
        Ok(Value::Object(per_call))
    }
}

/// Whose token a counted call carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The bench's personal token, which every other measurement uses.
    Personal,
    /// A connected app's OAuth access token.
    ConnectedApp,
    /// A token made for this count alone: its rate counts hold only its own calls, as
    /// a token served by one instance has them (the bench's token has been called by
    /// every server and bootstrap of the run, and its limiter knows it).
    Fresh,
}

/// An app connected to the bench's account the way MCP authorization connects one —
/// registered, allowed by the owner, its code exchanged with PKCE — and its access token.
async fn connected_app(local: &Local, identity: &Identity) -> Result<String, BoxError> {
    use knotie::model::oauth::{AuthorizationRequest, Registration, TokenRequest};
    use knotie::model::time::Timestamp;
    use knotie::rules::oauth::{self, ClientRequest, Server};

    const REDIRECT: &str = "http://127.0.0.1:9/callback";
    // RFC 7636's example verifier and its S256 challenge.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let store = &local.app.store;
    let pepper = local.app.pepper.get().await?;
    let mcp_url = local.app.config.mcp_url.as_deref().ok_or("MCP_URL")?;
    let server = Server::of(mcp_url).ok_or("MCP_URL is not a URL")?;
    let now = Timestamp::now();
    let registration = Registration::from_json(
        json!({ "client_name": "bench app", "redirect_uris": [REDIRECT] })
            .to_string()
            .as_bytes(),
    )?;
    let client = oauth::register(store, registration, "bench", now).await?;
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let request = AuthorizationRequest::parse(query.as_bytes())?;
    let client_id = client.id.clone();
    let asked = ClientRequest {
        client,
        request: &request,
    };
    let to = oauth::decide(store, pepper, server, identity, asked, true, now).await?;
    let (_, answer) = to.split_once('?').ok_or("no code")?;
    let code = form_urlencoded::parse(answer.as_bytes())
        .find(|(k, _)| k == "code")
        .ok_or("no code")?
        .1
        .into_owned();
    let form: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .finish();
    let issued = oauth::token(
        store,
        pepper,
        server,
        TokenRequest::parse(form.as_bytes())?,
        now,
    )
    .await?;
    Ok(issued.access_token.expose().to_owned())
}

async fn wait_until_up(bench: &Bench, server: &Server) -> Result<(), BoxError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while bench.call(server.port).await.is_err() {
        if Instant::now() > deadline {
            return Err("a server did not come up".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// utime + stime of a process, in clock ticks (`/proc/<pid>/stat` fields 14 and 15).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name (field 2) may hold spaces; count fields after its closing paren.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(14) + field(15)
}

fn clock_ticks() -> u64 {
    // USER_HZ is 100 on every Linux this runs on; getconf says so without a libc binding.
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100)
}

fn peak_rss_mb(pid: u32) -> f64 {
    rss_mb(pid, "VmHWM:")
}

/// A memory figure of `/proc/<pid>/status` (`VmRSS:` now, `VmHWM:` the peak), in MB.
pub fn rss_mb(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    (kb / 102.4).round() / 10.0
}
