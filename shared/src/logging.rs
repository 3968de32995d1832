//! Logs as Lambda's logging controls ask (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else
//! INFO; `AWS_LAMBDA_LOG_FORMAT=JSON` for JSON lines) — except where a dependency would
//! print a secret: at TRACE the Lambda runtime logs every raw event (bearer tokens and
//! session JWTs), and the AWS SDK and the HTTP stack log what they send and receive
//! (token hashes in keys, the pepper in a secret's value). Those targets are capped, at
//! every level, whatever the configuration says.

use std::str::FromStr;

use lambda_http::tracing::subscriber::filter::{Directive, EnvFilter, LevelFilter};

/// Targets that would log secrets, and the most verbose level each may use.
const CAPPED: [&str; 6] = [
    "lambda_runtime::layers::api_response=debug",
    "lambda_runtime=debug",
    "aws_smithy_runtime=debug",
    "aws_smithy_runtime_api=debug",
    "hyper=info",
    "h2=info",
];

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|l| LevelFilter::from_str(&l).ok())
        .unwrap_or(LevelFilter::INFO);
    let mut filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy();
    for cap in CAPPED {
        if let Ok(directive) = Directive::from_str(cap) {
            filter = filter.add_directive(directive);
        }
    }
    let logs = lambda_http::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        logs.json().init();
    } else {
        logs.init();
    }
}
