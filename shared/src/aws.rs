//! The AWS SDK configuration shared by every client: rustls with ring (no OpenSSL, no
//! second hyper), and timeouts short enough that a dead dependency becomes a prompt 503
//! instead of a Lambda timeout.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

/// A deployed function: region and credentials from the Lambda environment.
pub async fn sdk_config() -> SdkConfig {
    loader().load().await
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
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(timeouts)
}
