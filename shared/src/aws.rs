//! The AWS SDK configuration shared by every client: rustls with ring (no OpenSSL, no
//! second hyper), trusting only the roots AWS endpoints chain to, and timeouts short
//! enough that a dead dependency becomes a prompt 503 instead of a Lambda timeout.

use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};

/// Amazon Trust Services' roots (Amazon Root CA 1–4, Starfield Services Root CA G2, from
/// amazontrust.com/repository): every AWS endpoint's certificate chains to one of them.
/// Loading the system's whole trust store instead (~150 certificates read and parsed) was
/// the largest part of a cold start's init.
const AWS_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// A deployed function: region and credentials from the Lambda environment. Lambda
/// always sets `AWS_REGION` and the credential variables; naming their source skips
/// building the default chains (profiles, SSO, containers, instance metadata), most of
/// what loading the configuration cost a cold start (0.47 → 0.11 ms).
pub async fn sdk_config() -> SdkConfig {
    let mut loader = loader();
    if let Some(region) = std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty()) {
        loader = loader.region(Region::new(region));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    loader.load().await
}

/// For the local stack and tests: a fixed region and dummy credentials; each client then
/// gets its own loopback endpoint (DynamoDB Local, moto).
pub async fn local_sdk_config() -> SdkConfig {
    loader()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "local"))
        .load()
        .await
}

pub fn dynamodb_at(sdk: &SdkConfig, endpoint: &str) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::config::Builder::from(sdk).endpoint_url(endpoint);
    aws_sdk_dynamodb::Client::from_conf(conf.build())
}

pub fn secretsmanager_at(sdk: &SdkConfig, endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let conf = aws_sdk_secretsmanager::config::Builder::from(sdk).endpoint_url(endpoint);
    aws_sdk_secretsmanager::Client::from_conf(conf.build())
}

fn loader() -> ConfigLoader {
    let roots = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AWS_ROOTS);
    let mut http =
        aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring));
    match TlsContext::builder().with_trust_store(roots).build() {
        Ok(tls) => http = http.tls_context(tls),
        // Not reachable with the roots above; the system store is the safe fallback.
        Err(e) => tracing::error!(error = %e, "AWS roots not loaded; using the system's"),
    }
    let http = http.build_https();
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(timeouts)
}
