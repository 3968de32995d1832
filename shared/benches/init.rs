//! Where a cold start's init goes: an AWS SDK client's first request builds its HTTPS
//! connector, and with the SDK's default that loads the system's whole trust store;
//! `knotie::aws` gives it only the roots AWS endpoints chain to. Each iteration is a new
//! client's first request (to a closed port: the connector is built, nothing answers).
//! `cargo bench -p knotie --bench init`.

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};
use criterion::{criterion_group, criterion_main, Criterion};

const AWS_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

fn first_request(runtime: &tokio::runtime::Runtime, http: SharedHttpClient) {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .endpoint_url("https://127.0.0.1:9")
        .retry_config(RetryConfig::disabled())
        .http_client(http)
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let answer = runtime.block_on(client.list_tables().send());
    assert!(answer.is_err(), "nothing listens on port 9");
}

fn init(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("an AWS client's first request");
    group.sample_size(20);
    group.bench_function("with the system's trust store", |b| {
        b.iter(|| {
            let http = aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .build_https();
            first_request(&runtime, http)
        })
    });
    group.bench_function("with Amazon Trust Services' roots only", |b| {
        b.iter(|| {
            let roots = TrustStore::empty()
                .with_native_roots(false)
                .with_pem_certificate(AWS_ROOTS);
            let tls = TlsContext::builder()
                .with_trust_store(roots)
                .build()
                .unwrap();
            let http = aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .tls_context(tls)
                .build_https();
            first_request(&runtime, http)
        })
    });
    group.finish();
}

criterion_group!(benches, init);
criterion_main!(benches);
