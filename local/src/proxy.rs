//! A proxy in front of a local AWS endpoint (DynamoDB Local, moto): it counts requests by
//! operation and can inject the faults a real dependency has — throttling, 500s, latency,
//! reset connections, a response lost after the write committed, or being down — so
//! tests, `make bench` and `make soak` see what a deployed function would. It also records
//! the IAM permission each request needs ([`Access`]), so a test can hold what a function
//! does against what its policy in `template.yaml` grants: DynamoDB Local and moto enforce
//! no IAM, AWS does.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use serde_json::Value;

use crate::BoxError;

/// What can go wrong with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// 400 ProvisionedThroughputExceededException, the request not forwarded.
    Throttle,
    /// 500 InternalServerError, not forwarded.
    ServerError,
    /// Forwarded after a delay.
    Latency(Duration),
    /// The connection dropped before the request was forwarded.
    Reset,
    /// Forwarded and carried out, then the connection dropped before the answer.
    LoseResponse,
}

/// Which requests fail: none, all (the dependency is down), or each with a probability,
/// drawn from a seeded generator so a failing run can be replayed.
#[derive(Debug, Clone, Default)]
pub enum Faults {
    #[default]
    None,
    Down,
    Random {
        per_mille: u16,
        seed: u64,
    },
}

#[derive(Default)]
struct State {
    faults: Faults,
    rng: Option<fastrand::Rng>,
    counts: BTreeMap<String, usize>,
    /// Items DynamoDB returned, by the partition family they live in.
    items_read: BTreeMap<String, usize>,
    accesses: BTreeSet<Access>,
    injected: BTreeMap<Fault, usize>,
    /// Whether DynamoDB is asked what each request consumed, and the units so far.
    capacity: Option<Capacity>,
}

/// DynamoDB capacity units consumed, as DynamoDB reports them (`ConsumedCapacity`): what
/// on-demand mode bills as read and write request units.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Capacity {
    pub read: f64,
    pub write: f64,
}

/// One permission a request needs, as IAM names it: the action (`dynamodb:PutItem` for a
/// Put inside TransactWriteItems: a transaction is authorised item by item) and, for
/// DynamoDB, the family of partition keys it touches as a `dynamodb:LeadingKeys` pattern
/// names it (`ACCT#*`; a key without `#` as it is), `None` for a request on no item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Access {
    pub action: String,
    pub partition: Option<String>,
}

/// A running proxy; it serves until the process ends.
#[derive(Clone)]
pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Proxy {
    pub async fn start(upstream: &str) -> Result<Proxy, BoxError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let proxy = Proxy {
            addr: listener.local_addr()?,
            state: Arc::default(),
        };
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let (state, upstream) = (
            Arc::clone(&proxy.state),
            upstream.trim_end_matches('/').to_owned(),
        );
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (client, state, upstream) =
                    (client.clone(), Arc::clone(&state), upstream.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        forward(client.clone(), Arc::clone(&state), upstream.clone(), req)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(proxy)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set(&self, faults: Faults) {
        let mut state = self.lock();
        state.rng = match &faults {
            Faults::Random { seed, .. } => Some(fastrand::Rng::with_seed(*seed)),
            _ => None,
        };
        state.faults = faults;
    }

    /// Requests seen since the last call, by operation (`GetItem`, `Query`, …).
    pub fn take_counts(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut self.lock().counts)
    }

    /// Items read since the last call (what Query, GetItem and BatchGetItem returned), by
    /// the family of their partition and sort keys (`ACCT#*` / `TOKEN#*`).
    pub fn take_items_read(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut self.lock().items_read)
    }

    /// The permissions the requests since the last call needed.
    pub fn take_accesses(&self) -> BTreeSet<Access> {
        std::mem::take(&mut self.lock().accesses)
    }

    /// Asks DynamoDB what each request consumes from now on (`ReturnConsumedCapacity`),
    /// and starts counting the units.
    pub fn measure_capacity(&self) {
        self.lock().capacity = Some(Capacity::default());
    }

    /// The units consumed since the last call, if they are measured.
    pub fn take_capacity(&self) -> Option<Capacity> {
        let mut state = self.lock();
        let taken = state.capacity;
        if taken.is_some() {
            state.capacity = Some(Capacity::default());
        }
        taken
    }

    /// Faults injected so far, by kind (latencies counted together).
    pub fn injected(&self) -> BTreeMap<String, usize> {
        let mut by_kind = BTreeMap::new();
        for (fault, n) in &self.lock().injected {
            let kind = match fault {
                Fault::Latency(_) => "latency".to_owned(),
                other => format!("{other:?}"),
            };
            *by_kind.entry(kind).or_default() += n;
        }
        by_kind
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The fault for the next request, if any.
fn draw(state: &mut State) -> Option<Fault> {
    let per_mille = match state.faults {
        Faults::None => return None,
        Faults::Down => return Some(Fault::Reset),
        Faults::Random { per_mille, .. } => per_mille,
    };
    let rng = state.rng.as_mut()?;
    if rng.u16(0..1000) >= per_mille {
        return None;
    }
    Some(match rng.u8(0..5) {
        0 => Fault::Throttle,
        1 => Fault::ServerError,
        2 => Fault::Latency(Duration::from_millis(rng.u64(50..1_500))),
        3 => Fault::Reset,
        _ => Fault::LoseResponse,
    })
}

async fn forward(
    client: Client<HttpConnector, Full<Bytes>>,
    state: Arc<Mutex<State>>,
    upstream: String,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, BoxError> {
    let operation = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(|t| t.rsplit('.').next().unwrap_or(t).to_owned())
        .unwrap_or_else(|| "?".into());
    let (mut parts, body) = req.into_parts();
    let mut body = body.collect().await?.to_bytes();
    let measuring = lock(&state).capacity.is_some() && parts.headers.contains_key("x-amz-target");
    if measuring {
        if let Some(asked) = asking_capacity(&body) {
            parts
                .headers
                .insert(hyper::header::CONTENT_LENGTH, asked.len().into());
            body = asked;
        }
    }
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("?")
        .to_owned();
    let needed = accesses(&target, &body);
    let fault = {
        let mut state = lock(&state);
        *state.counts.entry(operation).or_default() += 1;
        state.accesses.extend(needed);
        let fault = draw(&mut state);
        if let Some(fault) = fault {
            *state.injected.entry(fault).or_default() += 1;
        }
        fault
    };
    match fault {
        Some(Fault::Throttle) => {
            return Ok(aws_error(
                StatusCode::BAD_REQUEST,
                "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            ))
        }
        Some(Fault::ServerError) => {
            return Ok(aws_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "com.amazonaws.dynamodb.v20120810#InternalServerError",
            ))
        }
        Some(Fault::Reset) => return Err("connection reset by the fault proxy".into()),
        Some(Fault::Latency(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::LoseResponse) | None => {}
    }
    let uri = format!(
        "{upstream}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut forwarded = Request::from_parts(parts, Full::new(body));
    *forwarded.uri_mut() = uri.parse()?;
    let response = client.request(forwarded).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    let read = items_returned(&body);
    if !read.is_empty() {
        let mut state = lock(&state);
        for item in read {
            *state.items_read.entry(item).or_default() += 1;
        }
    }
    if measuring {
        let units = consumed(&body);
        let writes = matches!(
            operation_of(&target),
            "PutItem" | "UpdateItem" | "DeleteItem" | "BatchWriteItem" | "TransactWriteItems"
        );
        if let Some(capacity) = lock(&state).capacity.as_mut() {
            match writes {
                true => capacity.write += units,
                false => capacity.read += units,
            }
        }
    }
    if fault == Some(Fault::LoseResponse) {
        return Err("response lost by the fault proxy".into());
    }
    Ok(Response::from_parts(parts, Full::new(body)))
}

fn operation_of(target: &str) -> &str {
    target.rsplit('.').next().unwrap_or(target)
}

/// A DynamoDB request's body asking for its consumed capacity, unless it already does.
fn asking_capacity(body: &[u8]) -> Option<Bytes> {
    let mut request: serde_json::Map<String, Value> = serde_json::from_slice(body).ok()?;
    if request.contains_key("ReturnConsumedCapacity") {
        return None;
    }
    request.insert("ReturnConsumedCapacity".into(), "TOTAL".into());
    serde_json::to_vec(&request).ok().map(Bytes::from)
}

/// The capacity units a DynamoDB answer reports (one table, or one per table).
fn consumed(body: &[u8]) -> f64 {
    let Ok(answer) = serde_json::from_slice::<Value>(body) else {
        return 0.0;
    };
    let units = |c: &Value| c["CapacityUnits"].as_f64().unwrap_or(0.0);
    match &answer["ConsumedCapacity"] {
        Value::Array(each) => each.iter().map(units).sum(),
        one => units(one),
    }
}

/// The permissions one request needs, from its `X-Amz-Target` (`DynamoDB_20120810.Query`,
/// `secretsmanager.GetSecretValue`) and its body.
pub fn accesses(target: &str, body: &[u8]) -> Vec<Access> {
    let (service, operation) = target.split_once('.').unwrap_or(("?", target));
    let service = match service {
        "DynamoDB_20120810" => "dynamodb",
        other => other,
    };
    let access = |action: &str, partition: Option<String>| Access {
        action: format!("{service}:{action}"),
        partition,
    };
    if service != "dynamodb" {
        return vec![access(operation, None)];
    }
    let body: Value = serde_json::from_slice(body).unwrap_or_default();
    let pk = |item: &Value| {
        item.get(knotie::store::keys::PK)
            .and_then(|v| v.get("S"))
            .and_then(Value::as_str)
            .map(family)
            .or_else(|| Some("?".to_owned()))
    };
    let in_every_table = |per_table: &Value| -> Vec<Value> {
        per_table
            .as_object()
            .into_iter()
            .flat_map(|tables| tables.values().cloned())
            .collect()
    };
    match operation {
        "TransactWriteItems" | "TransactGetItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .flat_map(|item| item.iter())
            .map(|(kind, op)| {
                let action = match kind.as_str() {
                    "ConditionCheck" => "ConditionCheckItem".to_owned(),
                    other => format!("{other}Item"),
                };
                let key = op.get("Key").or_else(|| op.get("Item"));
                access(&action, key.and_then(pk))
            })
            .collect(),
        "BatchGetItem" => in_every_table(&body["RequestItems"])
            .iter()
            .flat_map(|request| request["Keys"].as_array().cloned().unwrap_or_default())
            .map(|key| access(operation, pk(&key)))
            .collect(),
        "BatchWriteItem" => in_every_table(&body["RequestItems"])
            .iter()
            .flat_map(|writes| writes.as_array().cloned().unwrap_or_default())
            .map(|write| {
                let key = write["PutRequest"]
                    .get("Item")
                    .or_else(|| write["DeleteRequest"].get("Key"));
                access(operation, key.and_then(pk))
            })
            .collect(),
        "Query" => vec![access(operation, queried_partition(&body))],
        "GetItem" | "UpdateItem" | "DeleteItem" => {
            vec![access(operation, body.get("Key").and_then(pk))]
        }
        "PutItem" => vec![access(operation, body.get("Item").and_then(pk))],
        _ => vec![access(operation, None)],
    }
}

/// The partition a Query reads: the value its key condition gives the partition key
/// (`PK = :pk`).
fn queried_partition(body: &Value) -> Option<String> {
    let condition = body["KeyConditionExpression"].as_str().unwrap_or_default();
    let placeholder = condition
        .split(" AND ")
        .filter_map(|clause| clause.split_once('='))
        .find(|(name, _)| name.trim() == knotie::store::keys::PK)
        .map(|(_, value)| value.trim());
    let value = placeholder.and_then(|p| body["ExpressionAttributeValues"][p]["S"].as_str());
    Some(value.map_or_else(|| "?".to_owned(), family))
}

/// The keys, as `PK family / SK family`, of the items a DynamoDB answer returns.
fn items_returned(body: &[u8]) -> Vec<String> {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let in_tables = body["Responses"]
        .as_object()
        .into_iter()
        .flat_map(|tables| tables.values())
        .filter_map(Value::as_array)
        .flatten();
    let items = body["Items"].as_array().into_iter().flatten();
    let item = body.get("Item").into_iter();
    items
        .chain(in_tables)
        .chain(item)
        .map(|item| {
            let key = |name: &str| {
                item[name]["S"]
                    .as_str()
                    .map_or_else(|| "?".to_owned(), family)
            };
            format!(
                "{} / {}",
                key(knotie::store::keys::PK),
                key(knotie::store::keys::SK)
            )
        })
        .collect()
}

/// `ACCT#acct_1#…` → `ACCT#*`: what a `dynamodb:LeadingKeys` pattern names.
fn family(pk: &str) -> String {
    match pk.split_once('#') {
        Some((kind, _)) => format!("{kind}#*"),
        None => pk.to_owned(),
    }
}

fn aws_error(status: StatusCode, kind: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "__type": kind, "message": "injected by the fault proxy" });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(target: &str, body: Value) -> Vec<(String, Option<String>)> {
        accesses(target, body.to_string().as_bytes())
            .into_iter()
            .map(|a| (a.action, a.partition))
            .collect()
    }

    fn of(action: &str, partition: &str) -> (String, Option<String>) {
        (action.to_owned(), Some(partition.to_owned()))
    }

    #[test]
    fn a_transaction_needs_the_action_of_each_of_its_items() {
        let body = serde_json::json!({ "TransactItems": [
            { "Update": { "Key": { "PK": { "S": "ACCT#a" }, "SK": { "S": "TOKENS" } } } },
            { "Put": { "Item": { "PK": { "S": "TOKENHASH#h" }, "SK": { "S": "TOKENHASH" } } } },
            { "ConditionCheck": { "Key": { "PK": { "S": "ACCT#a" }, "SK": { "S": "CUST#c" } } } },
            { "Delete": { "Key": { "PK": { "S": "ACCT#a" }, "SK": { "S": "EXPIRY#x" } } } },
        ]});
        assert_eq!(
            needs("DynamoDB_20120810.TransactWriteItems", body),
            [
                of("dynamodb:UpdateItem", "ACCT#*"),
                of("dynamodb:PutItem", "TOKENHASH#*"),
                of("dynamodb:ConditionCheckItem", "ACCT#*"),
                of("dynamodb:DeleteItem", "ACCT#*"),
            ]
        );
    }

    #[test]
    fn reads_name_the_partitions_they_touch() {
        let get =
            serde_json::json!({ "Key": { "PK": { "S": "WARMUP" }, "SK": { "S": "WARMUP" } } });
        assert_eq!(
            needs("DynamoDB_20120810.GetItem", get),
            [of("dynamodb:GetItem", "WARMUP")]
        );
        let query = serde_json::json!({
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": { ":pk": { "S": "CALLS#a#AGENT#g" }, ":prefix": { "S": "CALL#" } },
        });
        assert_eq!(
            needs("DynamoDB_20120810.Query", query),
            [of("dynamodb:Query", "CALLS#*")]
        );
        let batch = serde_json::json!({ "RequestItems": { "t": { "Keys": [
            { "PK": { "S": "TOKENHASH#h" }, "SK": { "S": "TOKENHASH" } },
        ]}}});
        assert_eq!(
            needs("DynamoDB_20120810.BatchGetItem", batch),
            [of("dynamodb:BatchGetItem", "TOKENHASH#*")]
        );
    }

    #[test]
    fn a_key_it_cannot_read_is_a_partition_no_policy_grants() {
        let query = serde_json::json!({ "KeyConditionExpression": "#p = :v" });
        assert_eq!(
            needs("DynamoDB_20120810.Query", query),
            [of("dynamodb:Query", "?")]
        );
        assert_eq!(
            needs("secretsmanager.GetSecretValue", serde_json::json!({})),
            [("secretsmanager:GetSecretValue".to_owned(), None)]
        );
    }
}
