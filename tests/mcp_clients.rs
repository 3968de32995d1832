//! Real MCP clients no one here wrote, against `make dev`'s server over HTTP: the official
//! Python SDK (both protocol eras), the official TypeScript SDK, and mcp-remote — the
//! stdio bridge Claude Desktop runs — launched as the generated configuration says.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::common::env;
use crate::common::server::{call, start, Server};

/// A fresh token for the demo account, through the management API.
fn token(server: &Server) -> (String, String) {
    let (status, body) = call(
        "POST",
        &format!("{}/mcp-tokens", server.base),
        "acct_demo",
        Some(r#"{"name": "client test"}"#),
    );
    assert_eq!(status, 201, "{body}");
    (
        body["token"].as_str().unwrap().to_owned(),
        body["id"].as_str().unwrap().to_owned(),
    )
}

/// Runs a client script and collects the JSON objects it prints, one per line.
fn steps(mut command: Command) -> Vec<Value> {
    let output = command
        .stderr(Stdio::piped())
        .output()
        .expect("the client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn step<'a>(steps: &'a [Value], name: &str) -> &'a Value {
    steps
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no {name} step in {steps:?}"))
}

fn calls(steps: &[Value]) -> Vec<&Value> {
    steps.iter().filter(|s| s["step"] == "call").collect()
}

#[test]
fn the_python_sdk_works_in_both_eras_and_a_revoked_token_fails_on_its_next_call() {
    let server = start("knotie-python-client-test");
    let url = format!("{}/mcp", server.base);
    for (mode, protocol) in [("auto", "2026-07-28"), ("legacy", "2025-11-25")] {
        let (token, id) = token(&server);
        let mut child = Command::new(env("KNOTIE_PYTHON"))
            .arg(format!("{}/python_client.py", env("KNOTIE_CLIENTS")))
            .args([&url, &token, mode])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let step: Value = serde_json::from_str(&line.unwrap()).unwrap();
            let waiting = step["step"] == "waiting";
            seen.push(step);
            if waiting {
                break;
            }
        }
        assert_eq!(
            step(&seen, "connected")["protocol"],
            protocol,
            "{mode}: {seen:?}"
        );
        assert_eq!(step(&seen, "connected")["server"], "knotie");
        assert_eq!(step(&seen, "tools")["names"].as_array().unwrap().len(), 14);
        let results = calls(&seen);
        assert_eq!(results.len(), 3);
        assert!(
            results.iter().all(|c| c["is_error"] == false),
            "{results:?}"
        );
        assert_eq!(results[0]["structured"]["name"], "Demo Agency");
        assert!(
            results[1]["structured"]["totals"]["calls"]
                .as_i64()
                .unwrap()
                > 0
        );
        assert_eq!(
            results[2]["structured"]["items"].as_array().unwrap().len(),
            3
        );

        // In the auto run the token is revoked between two calls; the legacy run keeps it.
        let revoke = mode == "auto";
        if revoke {
            let (status, _) = call(
                "DELETE",
                &format!("{}/mcp-tokens/{id}", server.base),
                "acct_demo",
                None,
            );
            assert_eq!(status, 204);
        }
        child.stdin.take().unwrap().write_all(b"go\n").unwrap();
        let after: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        assert_eq!(after["refused"], revoke, "{mode}: {after}");
        assert!(child.wait().unwrap().success());
    }
}

#[test]
fn the_typescript_sdk_connects_lists_and_calls_tools() {
    let server = start("knotie-ts-client-test");
    let (token, _) = token(&server);
    let mut node = Command::new("node");
    node.arg(format!("{}/ts_client.mjs", env("KNOTIE_CLIENTS")))
        .args([format!("{}/mcp", server.base), token]);
    let steps = steps(node);
    assert_eq!(step(&steps, "connected")["protocol"], "2025-11-25");
    assert_eq!(step(&steps, "tools")["names"].as_array().unwrap().len(), 14);
    let results = calls(&steps);
    assert_eq!(results.len(), 3);
    assert!(
        results.iter().all(|c| c["is_error"] == false),
        "{results:?}"
    );
    assert!(results[1]["structured"]["pool"].as_i64().unwrap() > 0);
    assert_eq!(
        results[2]["structured"]["calls"].as_array().unwrap().len(),
        3
    );
}

#[test]
fn mcp_remote_bridges_stdio_as_claude_desktop_runs_it() {
    let server = start("knotie-mcp-remote-test");
    let (token, _) = token(&server);
    let mut python = Command::new(env("KNOTIE_PYTHON"));
    python
        .arg(format!("{}/mcp_remote.py", env("KNOTIE_CLIENTS")))
        .args([
            format!("{}/node_modules/.bin/mcp-remote", env("KNOTIE_CLIENTS")),
            format!("{}/mcp", server.base),
            token,
        ]);
    let steps = steps(python);
    let initialized = &step(&steps, "initialize")["message"]["result"];
    assert_eq!(initialized["protocolVersion"], "2025-06-18", "{steps:?}");
    assert_eq!(
        step(&steps, "tools")["message"]["result"]["tools"]
            .as_array()
            .unwrap()
            .len(),
        14
    );
    let results = calls(&steps);
    assert_eq!(results.len(), 3);
    for c in &results {
        assert!(
            c["message"]["result"]["isError"] != json!(true) && c["message"].get("error").is_none(),
            "{c}"
        );
    }
    assert_eq!(
        results[1]["message"]["result"]["structuredContent"]["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// A pasted token that stopped working, in Claude Desktop's mcp-remote: the bridge gives
/// up with an error, and never opens a sign-in no one can finish — the discovery requests
/// it sends with the pasted header find no OAuth.
#[test]
fn mcp_remote_with_a_revoked_pasted_token_ends_without_asking_anyone_to_sign_in() {
    let server = start("knotie-mcp-remote-revoked-test");
    let (token, id) = token(&server);
    let (status, _) = call(
        "DELETE",
        &format!("{}/mcp-tokens/{id}", server.base),
        "acct_demo",
        None,
    );
    assert_eq!(status, 204);
    let mut python = Command::new(env("KNOTIE_PYTHON"));
    python
        .arg(format!("{}/mcp_remote.py", env("KNOTIE_CLIENTS")))
        .args([
            format!("{}/node_modules/.bin/mcp-remote", env("KNOTIE_CLIENTS")),
            format!("{}/mcp", server.base),
            token,
            "refused".to_owned(),
        ]);
    let steps = steps(python);
    let ended = step(&steps, "ended");
    assert_eq!(ended["asked_to_authorize"], false, "{ended}");
    assert!(ended["exit"].as_i64().is_some_and(|c| c != 0), "{ended}");
}
