//! `make dev`'s server over real HTTP: the README's curl lines, as a test.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common;

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(common::env("KNOTIE_LOCAL_BIN"))
        .env("PORT", port.to_string())
        .env("DYNAMODB_ENDPOINT", common::env("KNOTIE_TEST_DYNAMODB"))
        .env("TABLE_NAME", common::TABLE)
        .stdout(Stdio::null())
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
fn call(method: &str, url: &str, account: &str, body: Option<&str>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let request = http::Request::builder()
        .method(method)
        .uri(url)
        .header("x-dev-account", account);
    let response = match body {
        Some(body) => agent.run(
            request
                .header("content-type", "application/json")
                .body(body.to_owned())
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

#[test]
fn the_local_server_generates_lists_and_revokes_over_http() {
    let server = start();
    let tokens = format!("{}/mcp-tokens", server.base);

    let (status, created) = call(
        "POST",
        &tokens,
        "acct_other",
        Some(r#"{"name": "Cursor Development"}"#),
    );
    assert_eq!(status, 201, "{created}");
    assert!(created["token"].as_str().unwrap().starts_with("kmcp_"));
    assert!(created["client_configs"]["cursor"]
        .to_string()
        .contains(&format!("{}/mcp", server.base)));
    let id = created["id"].as_str().unwrap();

    let (status, list) = call("GET", &format!("{tokens}?limit=100"), "acct_other", None);
    assert_eq!(status, 200);
    assert!(list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == id));

    let (status, _) = call("DELETE", &format!("{tokens}/{id}"), "acct_demo", None);
    assert_eq!(
        status, 404,
        "the dev identity header scopes requests to an account"
    );
    let (status, body) = call("DELETE", &format!("{tokens}/{id}"), "acct_other", None);
    assert_eq!((status, body), (204, Value::Null));

    let (status, warned) = call(
        "POST",
        &tokens,
        "acct_noapi",
        Some(r#"{"name": "Blocked"}"#),
    );
    assert_eq!(status, 201);
    assert!(warned["warning"]
        .as_str()
        .unwrap()
        .contains("API access is not enabled"));

    let (status, body) = call("POST", &tokens, "acct_demo", Some("not json"));
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid_body");
    let (status, _) = call(
        "GET",
        &format!("{}/nowhere", server.base),
        "acct_demo",
        None,
    );
    assert_eq!(status, 404);
}
