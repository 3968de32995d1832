//! Logs as Lambda's logging controls ask (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else
//! INFO; `AWS_LAMBDA_LOG_FORMAT=JSON` for JSON lines) — except where a dependency would
//! print a secret: at TRACE the Lambda runtime logs every raw event (bearer tokens and
//! session JWTs), and the AWS SDK and the HTTP stack log what they send and receive
//! (token hashes in keys, the pepper in a secret's value). Those targets are capped, at
//! every level, by a second filter that no configured directive can loosen. At INFO, rmcp's
//! per-request chatter is left out.

use std::str::FromStr;

use lambda_http::tracing::subscriber::filter::{EnvFilter, FilterExt, LevelFilter, Targets};
use lambda_http::tracing::subscriber::layer::SubscriberExt;
use lambda_http::tracing::subscriber::util::SubscriberInitExt;
use lambda_http::tracing::subscriber::{fmt, Layer, Registry};

/// Targets that would log secrets, and the most verbose level each may use.
const CAPPED: [(&str, LevelFilter); 6] = [
    ("lambda_runtime", LevelFilter::DEBUG),
    ("lambda_runtime_api_client", LevelFilter::DEBUG),
    ("aws_smithy_runtime", LevelFilter::DEBUG),
    ("aws_smithy_runtime_api", LevelFilter::DEBUG),
    ("hyper", LevelFilter::INFO),
    ("h2", LevelFilter::INFO),
];

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|l| LevelFilter::from_str(&l).ok())
        .unwrap_or(LevelFilter::INFO);
    let mut configured = EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy();
    if level <= LevelFilter::INFO {
        // rmcp logs three INFO lines for every stateless request (service initialized,
        // input stream terminated, serve finished) and a WARN for every JSON-RPC error it
        // answers (a caller's unknown tool): at INFO a request writes one line, its
        // metrics line, and CloudWatch bills by the byte.
        if let Ok(quiet) = "rmcp=error".parse() {
            configured = configured.add_directive(quiet);
        }
    }
    let caps = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(CAPPED);
    let filter = configured.and(caps);
    let lines = fmt::layer().with_target(false).without_time();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let registry = Registry::default();
    if json {
        registry.with(lines.json().with_filter(filter)).init();
    } else {
        registry.with(lines.with_filter(filter)).init();
    }
}
