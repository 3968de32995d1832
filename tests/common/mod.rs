//! The harness: an [`App`] on DynamoDB Local, a fresh account per test, and requests built
//! from the sample events in `events/`, as API Gateway would deliver them.

pub mod emf;
pub mod keys;
pub mod mcp;
pub mod runtime;
pub mod server;
pub mod users;

use std::sync::atomic::{AtomicU32, Ordering};

use http::StatusCode;
use knotie::config::{Config, DEFAULT_ACCOUNT_CLAIM};
use knotie::model::account::Account;
use knotie::model::hashing::Pepper;
use knotie::model::ids::AccountId;
use knotie::secrets::PepperSource;
use knotie::store::Store;
use knotie::App;
use lambda_http::Request;
use serde_json::Value;

pub const TABLE: &str = "knotie-test";
pub const PEPPER: &[u8] = b"integration-test-pepper-0123456789abcdef";
pub const MCP_URL: &str = "https://abc123.lambda-url.eu-west-1.on.aws/mcp";
/// Nothing listens here: a dependency that is down.
pub const DEAD_ENDPOINT: &str = "http://127.0.0.1:9";

pub fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the tests with `make test`"))
}

pub fn config() -> Config {
    Config {
        table: TABLE.into(),
        account_claim: DEFAULT_ACCOUNT_CLAIM.into(),
        mcp_url: Some(MCP_URL.into()),
        allowed_origins: vec![mcp::ALLOWED_ORIGIN.into()],
        // Tests make many calls with one token; the rate limit has tests of its own,
        // which set their limit.
        rate_limit_per_minute: 1_000_000,
        // Tests change accounts between calls and expect the next call to see it; the
        // cache has tests of its own, which set it.
        account_cache: std::time::Duration::ZERO,
        ..Config::default()
    }
}

pub async fn store_at(endpoint: &str) -> Store {
    Store::new(
        knotie::aws::dynamodb_at(&knotie::aws::local_sdk_config().await, endpoint),
        TABLE,
    )
}

/// The app as a deployed function holds it, on DynamoDB Local with a fixed pepper.
pub async fn app() -> App {
    let store = store_at(&env("KNOTIE_TEST_DYNAMODB")).await;
    store
        .create_table_if_missing()
        .await
        .expect("DynamoDB Local is reachable");
    App {
        config: config(),
        store,
        pepper: PepperSource::Fixed(Pepper::new(PEPPER).unwrap()),
    }
}

/// A new account, so tests never see each other's tokens.
pub async fn account(app: &App, api_access: bool) -> AccountId {
    static N: AtomicU32 = AtomicU32::new(0);
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let id = format!("acct_t{stamp}_{}", N.fetch_add(1, Ordering::Relaxed));
    let id = AccountId::parse(&id).unwrap();
    let profile = Account {
        id: id.clone(),
        name: "Test Agency".into(),
        plan: "pro".into(),
        api_access,
        credit_pool: 0,
        policy: knotie::model::policy::Policy::default(),
    };
    app.store
        .put_account(&profile, knotie::model::time::Timestamp::now())
        .await
        .unwrap();
    id
}

/// A sample event from `events/`, acting for `account`.
pub fn event(name: &str, account: &AccountId) -> Value {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["requestContext"]["authorizer"]["jwt"]["claims"][DEFAULT_ACCOUNT_CLAIM] =
        account.as_str().into();
    event
}

pub fn request(event: &Value) -> Request {
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event")
}

/// A response as status and JSON (Null for an empty body).
pub type Reply = (StatusCode, Value);

pub async fn reply(
    response: Result<http::Response<lambda_http::Body>, std::convert::Infallible>,
) -> Reply {
    let Ok(response) = response;
    let status = response.status();
    let body = response.body().as_ref();
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body).expect("JSON body")
    };
    (status, json)
}

/// Gives `event` these query parameters, as API Gateway delivers them: percent-encoded in
/// `rawQueryString`, decoded in `queryStringParameters`.
pub fn with_query(event: &mut Value, params: &[(&str, &str)]) {
    let query: serde_json::Map<String, Value> = params
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(*v)))
        .collect();
    event["rawQueryString"] = params
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into();
    event["queryStringParameters"] = match query.is_empty() {
        true => Value::Null,
        false => query.into(),
    };
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Calls the management routes for one account, through the sample events.
pub struct Caller<'a> {
    pub app: &'a App,
    pub account: AccountId,
}

impl Caller<'_> {
    pub async fn generate(&self, body: &str) -> Reply {
        let mut event = event("generate.json", &self.account);
        event["body"] = body.into();
        reply(knotie::api::generate(self.app, request(&event)).await).await
    }

    pub async fn generate_named(&self, name: &str) -> Reply {
        self.generate(&serde_json::json!({ "name": name }).to_string())
            .await
    }

    pub async fn list(&self, params: &[(&str, &str)]) -> Reply {
        let mut event = event("list.json", &self.account);
        with_query(&mut event, params);
        reply(knotie::api::list(self.app, request(&event)).await).await
    }

    pub async fn revoke(&self, id: &str) -> Reply {
        let mut event = event("revoke.json", &self.account);
        let path = format!("/mcp-tokens/{}", percent_encode(id));
        event["rawPath"] = path.clone().into();
        event["requestContext"]["http"]["path"] = path.into();
        event["pathParameters"] = serde_json::json!({ "id": id });
        reply(knotie::api::revoke(self.app, request(&event)).await).await
    }

    /// A token's history, through the sample event.
    pub async fn events(&self, id: &str) -> Reply {
        let mut event = event("token-events.json", &self.account);
        let path = format!("/mcp-tokens/{}/events", percent_encode(id));
        event["rawPath"] = path.clone().into();
        event["requestContext"]["http"]["path"] = path.into();
        event["pathParameters"] = serde_json::json!({ "id": id });
        reply(knotie::api::reads(self.app, request(&event)).await).await
    }

    /// Revokes the token with this secret, found in the list by its hint.
    pub async fn revoke_by_hint(&self, token: &str) {
        let hint = knotie::model::token::Token::parse(token).unwrap().hint();
        let listed = self.list_all().await;
        let id = listed
            .iter()
            .find(|t| t["hint"] == hint.as_str())
            .and_then(|t| t["id"].as_str())
            .unwrap()
            .to_owned();
        let (status, _) = self.revoke(&id).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }

    /// Every token of the account, active or not, all pages.
    pub async fn list_all(&self) -> Vec<Value> {
        let mut tokens = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut params = vec![("limit", "100"), ("status", "all")];
            if let Some(c) = &cursor {
                params.push(("cursor", c));
            }
            let (status, body) = self.list(&params).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            tokens.extend(body["tokens"].as_array().unwrap().iter().cloned());
            match body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return tokens,
            }
        }
    }
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error body: {body}"))
}

/// A token of `account` made `days` ago, by the library as generate makes it.
pub async fn token_made_days_ago(app: &App, account: &AccountId, days: i64) -> String {
    let identity = knotie::model::roles::Identity {
        account: account.clone(),
        user: "olga".into(),
        role: knotie::model::roles::Role::Owner,
    };
    let new = knotie::model::tokens::NewToken::from_json(br#"{"name": "old"}"#).unwrap();
    let made = knotie::model::time::Timestamp::from_datetime(
        time::OffsetDateTime::now_utc() - time::Duration::days(days),
    );
    let pepper = app.pepper.get().await.unwrap();
    knotie::rules::lifecycle::generate(&app.store, pepper, &identity, new, made)
        .await
        .unwrap()
        .token
        .expose()
        .to_owned()
}

/// The active-token counter as stored.
pub async fn active_counter(account: &knotie::model::ids::AccountId) -> i64 {
    use knotie::store::keys;
    let client = knotie::aws::dynamodb_at(
        &knotie::aws::local_sdk_config().await,
        &env("KNOTIE_TEST_DYNAMODB"),
    );
    let item = client
        .get_item()
        .table_name(TABLE)
        .key(
            keys::PK,
            aws_sdk_dynamodb::types::AttributeValue::S(keys::account(account)),
        )
        .key(
            keys::SK,
            aws_sdk_dynamodb::types::AttributeValue::S(keys::TOKEN_COUNTER.into()),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    item["active"].as_n().unwrap().parse().unwrap()
}
