//! The `make dev` server as a child process, and plain HTTP calls to it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Server {
    child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `make dev` server binary on a free port, with its own table (it seeds the demo
/// data there, so servers started side by side never seed the same table).
pub fn start(table: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(super::env("KNOTIE_LOCAL_BIN"))
        .env("PORT", port.to_string())
        .env("DYNAMODB_ENDPOINT", super::env("KNOTIE_TEST_DYNAMODB"))
        .env("TABLE_NAME", table)
        .env("WEB_DIR", super::env("KNOTIE_WEB_DIR"))
        .stdout(Stdio::null())
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("the local server binary runs");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the local server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// One request; any status comes back as a value, not an error.
pub fn call(method: &str, url: &str, account: &str, body: Option<&str>) -> (u16, Value) {
    send(
        method,
        url,
        &[("x-dev-account", account)],
        body.map(str::to_owned),
    )
}

/// One request with these headers and a JSON body, if any.
pub fn call_as(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    send(method, url, headers, body.map(|b| b.to_string()))
}

fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Option<String>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = match body {
        Some(body) => agent.run(
            request
                .header("content-type", "application/json")
                .body(body)
                .unwrap(),
        ),
        None => agent.run(request.body(()).unwrap()),
    }
    .expect("the server answers");
    let status = response.status().as_u16();
    let text = response.into_body().read_to_string().unwrap();
    (
        status,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        },
    )
}
