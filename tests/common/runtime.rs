//! The built bootstraps under the Runtime API emulator (`knotie_local::emulator`), found in
//! `KNOTIE_BIN_DIR`; a test fails where the emulator reports an error.

use std::path::PathBuf;

use knotie_local::emulator;
use serde_json::Value;

pub use knotie_local::emulator::Outcome;

/// One function process under the emulator.
pub struct Function(emulator::Function);

impl Function {
    /// Starts the binary `name` with the Lambda environment and `env`.
    pub async fn start(name: &str, env: &[(&str, String)]) -> Function {
        let binary = PathBuf::from(super::env("KNOTIE_BIN_DIR")).join(name);
        Function(emulator::Function::start(&binary, env).await.unwrap())
    }

    /// Sends one event and waits for what the function makes of it.
    pub async fn invoke(&mut self, event: &Value) -> Outcome {
        self.0.invoke(event).await.unwrap()
    }

    /// Waits until the function asks for its next event: done with everything sent so far.
    pub async fn idle(&self) {
        self.0.idle().await.unwrap()
    }

    /// Everything the process printed so far, stdout and stderr.
    pub fn output(&self) -> String {
        self.0.output()
    }

    /// Waits for the process to end (a failed init) and returns its status and output.
    pub async fn exit(self) -> (std::process::ExitStatus, String) {
        self.0.exit().await.unwrap()
    }
}

/// A sample event of `events/`, as it is.
pub fn event(name: &str) -> Value {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A function URL / HTTP API response: status and JSON body.
pub fn http(outcome: Outcome) -> (u16, Value) {
    let response = match outcome {
        Outcome::Response(response) => response,
        Outcome::Error(e) | Outcome::InitError(e) => panic!("the function failed: {e}"),
    };
    let status = response["statusCode"].as_u64().unwrap() as u16;
    let body = match response["body"].as_str() {
        Some(text) if !text.is_empty() => serde_json::from_str(text).unwrap(),
        _ => Value::Null,
    };
    (status, body)
}

/// The pepper a [`Deployment`] keeps in (moto's) Secrets Manager.
pub const DEPLOYED_PEPPER: &str =
    "an-emulated-deployment-pepper-0123456789abcdefghijklmnopqrstuvwx";

/// A deployment on the local stand-ins: the functions' environment (the table, a pepper
/// in Secrets Manager, the endpoints) and the account its sample events act for.
pub struct Deployment {
    pub env: Vec<(&'static str, String)>,
    pub account: String,
}

pub async fn deployment() -> Deployment {
    let app = super::app().await;
    let account = super::account(&app, true).await;
    let secrets = knotie::aws::secretsmanager_at(
        &knotie::aws::local_sdk_config().await,
        &super::env("KNOTIE_TEST_SECRETS"),
    );
    let secret = format!("knotie-pepper-{}", account.as_str());
    secrets
        .create_secret()
        .name(&secret)
        .secret_string(DEPLOYED_PEPPER)
        .send()
        .await
        .unwrap();
    Deployment {
        env: vec![
            ("TABLE_NAME", super::TABLE.into()),
            ("PEPPER_SECRET_ID", secret),
            ("MCP_URL", super::MCP_URL.into()),
            (
                "AWS_ENDPOINT_URL_DYNAMODB",
                super::env("KNOTIE_TEST_DYNAMODB"),
            ),
            (
                "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                super::env("KNOTIE_TEST_SECRETS"),
            ),
        ],
        account: account.as_str().to_owned(),
    }
}

impl Deployment {
    /// A token made by the generate bootstrap for the deployment's account: the 201 body.
    pub async fn generated(&self, generate: &mut Function) -> Value {
        let creating = for_account(event("generate.json"), &self.account);
        let (status, created) = http(generate.invoke(&creating).await);
        assert_eq!(status, 201, "{created}");
        created
    }
}

/// `event` acting for `account`, as the JWT authorizer's claims say.
pub fn for_account(mut event: Value, account: &str) -> Value {
    event["requestContext"]["authorizer"]["jwt"]["claims"]["custom:account_id"] = account.into();
    event
}

/// `event` carrying `Authorization: Bearer <token>`.
pub fn with_token(mut event: Value, token: &str) -> Value {
    event["headers"]["authorization"] = format!("Bearer {token}").into();
    event
}
