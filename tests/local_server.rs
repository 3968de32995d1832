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

/// One request written by hand (to set `Host` and `Origin` as an attacker would), and the
/// status line of the answer.
fn raw_status(base: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let address = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn the_local_server_refuses_other_sites_rebound_names_and_half_sent_requests() {
    let server = start("knotie-local-server-guard-test");
    let host = server.base.trim_start_matches("http://").to_owned();
    let get = |host: &str, origin: Option<&str>| {
        let origin = origin
            .map(|o| format!("Origin: {o}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET /mcp-tokens HTTP/1.1\r\nHost: {host}\r\n{origin}Connection: close\r\n\r\n"
        );
        raw_status(&server.base, &request)
    };
    assert!(get(&host, None).contains(" 200 "), "{}", get(&host, None));
    let same_site = format!("http://{host}");
    assert!(get(&host, Some(&same_site)).contains(" 200 "));
    // DNS rebinding: a name of the attacker's that resolves to 127.0.0.1.
    assert!(get("rebound.evil.example:3000", None).contains(" 403 "));
    // A page on another site calling with the visitor's browser.
    assert!(get(&host, Some("https://evil.example")).contains(" 403 "));
    let post = format!(
        "POST /mcp-tokens HTTP/1.1\r\nHost: {host}\r\nOrigin: https://evil.example\r\n\
         Content-Length: 13\r\nConnection: close\r\n\r\n{{\"name\":\"x\"}}"
    );
    assert!(raw_status(&server.base, &post).contains(" 403 "));

    // Headers that never end, then a body that never comes: the server lets go.
    let started = std::time::Instant::now();
    let half = raw_status(
        &server.base,
        &format!("GET /mcp-tokens HTTP/1.1\r\nHost: {host}\r\n"),
    );
    assert!(!half.contains(" 200 "), "{half}");
    let body =
        format!("POST /mcp-tokens HTTP/1.1\r\nHost: {host}\r\nContent-Length: 100\r\n\r\n{{\"na");
    assert!(raw_status(&server.base, &body).contains(" 408 "));
    assert!(started.elapsed() < std::time::Duration::from_secs(25));
}

#[test]
fn the_pages_may_not_be_framed_by_another_site() {
    let server = start("knotie-local-frames-test");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    for page in ["/", "/oauth/authorize"] {
        let response = agent
            .run(
                http::Request::get(format!("{}{page}", server.base))
                    .body(())
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(response.status(), 200, "{page}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(
            header("content-security-policy").as_deref(),
            Some("frame-ancestors 'none'"),
            "{page}"
        );
        assert_eq!(header("x-frame-options").as_deref(), Some("DENY"), "{page}");
    }
}
