//! A stand-in for GitHub's secret scanning: key pairs made here, a keys document served
//! on loopback (which can change or go down), and reports signed as GitHub signs them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http_body_util::Full;
use hyper::body::Bytes;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// The DER prefix of a P-256 SubjectPublicKeyInfo.
const SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

pub struct SigningKey {
    pub id: String,
    pair: EcdsaKeyPair,
}

impl SigningKey {
    /// A new key pair named as GitHub names its keys: 64 hex digits (here the SHA-256 of
    /// `label`, so a test can make two keys of the same name).
    pub fn generate(label: &str) -> SigningKey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let digest = ring::digest::digest(&ring::digest::SHA256, label.as_bytes());
        let id = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        SigningKey { id, pair }
    }

    /// The public key as GitHub publishes it: PEM SubjectPublicKeyInfo.
    pub fn pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(self.pair.public_key().as_ref());
        let body = STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----",
            lines.join("\n")
        )
    }

    /// The signature header: base64 DER ECDSA P-256 SHA-256 over the raw body.
    pub fn sign(&self, body: &[u8]) -> String {
        STANDARD.encode(self.pair.sign(&SystemRandom::new(), body).unwrap().as_ref())
    }
}

/// The keys document on loopback: what it holds can change, and it can be down.
#[derive(Clone)]
pub struct KeyServer {
    pub url: String,
    state: Arc<Mutex<(Value, bool, usize)>>,
}

impl KeyServer {
    pub async fn start(keys: &[&SigningKey]) -> KeyServer {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let server = KeyServer {
            url: format!(
                "http://{}/meta/public_keys/secret_scanning",
                listener.local_addr().unwrap()
            ),
            state: Arc::new(Mutex::new((document(keys), true, 0))),
        };
        let state = Arc::clone(&server.state);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |_req| {
                        let (status, body) = {
                            let mut s = state.lock().unwrap();
                            s.2 += 1;
                            match s.1 {
                                true => (200, s.0.to_string()),
                                false => (503, "down".to_owned()),
                            }
                        };
                        let mut response = http::Response::new(Full::new(Bytes::from(body)));
                        *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
                        async move { Ok::<_, std::convert::Infallible>(response) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        server
    }

    /// A server of a document given as it is.
    pub async fn serving(document: &str) -> KeyServer {
        let server = KeyServer::start(&[]).await;
        server.state.lock().unwrap().0 = serde_json::from_str(document).unwrap();
        server
    }

    pub fn publish(&self, keys: &[&SigningKey]) {
        self.state.lock().unwrap().0 = document(keys);
    }

    pub fn set_up(&self, up: bool) {
        self.state.lock().unwrap().1 = up;
    }

    /// How many times the document was read.
    pub fn reads(&self) -> usize {
        self.state.lock().unwrap().2
    }
}

fn document(keys: &[&SigningKey]) -> Value {
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| json!({ "key_identifier": k.id, "key": k.pem(), "is_current": true }))
        .collect();
    json!({ "public_keys": keys })
}
