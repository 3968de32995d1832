//! `make dev`'s server over real HTTP: the README's curl lines, as a test.

use serde_json::Value;

use crate::common::server::{call, start};

#[test]
fn the_local_server_generates_lists_and_revokes_over_http() {
    let server = start("knotie-local-server-test");
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
