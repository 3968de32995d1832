//! MCP authorization against `make dev`'s server over HTTP: the Python and TypeScript
//! SDKs' OAuth clients through the whole flow, and each mistake a client (or an attacker)
//! can make answered with the RFC's error, never a 5xx.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::digest::{digest, SHA256};
use serde_json::{json, Value};

use crate::common::env;
use crate::common::server::{call, call_as, start, Server};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const REDIRECT: &str = "http://127.0.0.1:33418/callback";

/// A form POST; the status and the JSON answer.
fn form(url: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let request = http::Request::builder()
        .method("POST")
        .uri(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .unwrap();
    let response = agent.run(request).expect("the server answers");
    let status = response.status().as_u16();
    let text = response.into_body().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn register(server: &Server, uris: &[&str]) -> String {
    let body = json!({ "client_name": "Test App", "redirect_uris": uris });
    let (status, client) = call_as(
        "POST",
        &format!("{}/oauth/register", server.base),
        &[],
        Some(body),
    );
    assert_eq!(status, 201, "{client}");
    client["client_id"].as_str().unwrap().to_owned()
}

fn authorization(client: &str, redirect: &str, extra: &[(&str, &str)]) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(digest(&SHA256, VERIFIER.as_bytes()));
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs([
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", redirect),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("state", "s-1"),
    ]);
    query.extend_pairs(extra);
    query.finish()
}

/// The person allows the request; where the consent page sends them.
fn approve(server: &Server, query: &str, account: &str) -> (u16, Value) {
    call_as(
        "POST",
        &format!("{}/oauth/consent", server.base),
        &[("x-dev-account", account)],
        Some(json!({ "request": query, "allow": true })),
    )
}

fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// A client registered and a code issued for it: `(client_id, code)`.
fn code(server: &Server, account: &str) -> (String, String) {
    let client = register(server, &[REDIRECT]);
    let (status, answer) = approve(server, &authorization(&client, REDIRECT, &[]), account);
    assert_eq!(status, 200, "{answer}");
    let to = answer["redirect_to"].as_str().unwrap();
    assert!(to.starts_with(REDIRECT), "{to}");
    assert_eq!(param(to, "state").as_deref(), Some("s-1"));
    assert_eq!(param(to, "iss").as_deref(), Some(server.base.as_str()));
    (client, param(to, "code").unwrap())
}

fn exchange(server: &Server, client: &str, code: &str, verifier: Option<&str>) -> (u16, Value) {
    let mut params = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", client),
        ("redirect_uri", REDIRECT),
    ];
    if let Some(v) = verifier {
        params.push(("code_verifier", v));
    }
    form(&format!("{}/oauth/token", server.base), &params)
}

fn mcp_status(server: &Server, token: &str) -> u16 {
    let (status, _) = call_as(
        "POST",
        &format!("{}/mcp", server.base),
        &[
            ("authorization", &format!("Bearer {token}")),
            ("accept", "application/json, text/event-stream"),
        ],
        Some(json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" })),
    );
    status
}

fn grant_row(server: &Server, account: &str, id: &str) -> Value {
    listed(server, account, |t| t["id"] == id)
}

/// The first row of the account's Settings list (every status) that `is` picks, or null.
fn listed(server: &Server, account: &str, is: impl Fn(&Value) -> bool) -> Value {
    let (_, list) = call(
        "GET",
        &format!("{}/mcp-tokens?status=all&limit=100", server.base),
        account,
        None,
    );
    list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| is(t))
        .cloned()
        .unwrap_or(Value::Null)
}

/// An SDK's OAuth client script run against the server: the steps it printed so far.
struct Driven {
    child: std::process::Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    steps: Vec<Value>,
}

impl Driven {
    fn start(mut command: Command) -> Driven {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the client runs");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Driven {
            child,
            lines,
            steps: Vec::new(),
        }
    }

    fn next(&mut self) -> Value {
        let line = self.lines.next().expect("a step").unwrap();
        let step: Value = serde_json::from_str(&line).unwrap();
        assert_ne!(step["step"], "failed", "{:?} {step}", self.steps);
        self.steps.push(step.clone());
        step
    }

    fn until(&mut self, name: &str) -> Value {
        loop {
            let step = self.next();
            if step["step"] == name {
                return step;
            }
        }
    }

    fn step(&self, name: &str) -> Value {
        let found = self.steps.iter().find(|s| s["step"] == name);
        found
            .unwrap_or_else(|| panic!("no {name} in {:?}", self.steps))
            .clone()
    }

    /// Lets the script go on from its `waiting` step.
    fn resume(&mut self) {
        writeln!(self.child.stdin.as_mut().unwrap()).unwrap();
    }

    /// Through the flow to `waiting`: discovery, registration, PKCE, the consent, the
    /// tokens, calls and a refresh, each as MCP authorization has them. The grant's id.
    fn connected(&mut self, server: &Server, app: &str) -> String {
        self.until("waiting");
        let authorize = self.step("authorize");
        assert_eq!(
            authorize["endpoint"],
            format!("{}/oauth/authorize", server.base)
        );
        // (`state` is the client's choice: PKCE is what binds the code to it.)
        for p in ["code_challenge", "code_challenge_method", "resource"] {
            assert!(
                authorize["params"].as_array().unwrap().contains(&json!(p)),
                "{authorize}"
            );
        }
        assert_eq!(self.step("consent")["body"]["client"]["name"], app);
        let connected = self.step("connected");
        assert_eq!(connected["access_prefix"], "kmcp_");
        assert_eq!(connected["expires_in"], 3600);
        assert_eq!(self.step("tools")["names"].as_array().unwrap().len(), 14);
        let call_step = self.step("call");
        assert_eq!(call_step["is_error"], false, "{call_step}");
        let refreshed = self.step("refreshed");
        assert_eq!(
            (
                refreshed["is_error"].clone(),
                refreshed["access_changed"].clone(),
                refreshed["refresh_changed"].clone()
            ),
            (json!(false), json!(true), json!(true))
        );
        let grant = call_step["structured"]["token"]["id"].as_str().unwrap();
        // The grant is a row of Settings → MCP Tokens, named for the app.
        let row = grant_row(server, "acct_demo", grant);
        assert_eq!(row["name"], app, "{row}");
        assert_eq!(row["status"], "active");
        grant.to_owned()
    }

    /// Once the grant ended: the next call refused, and the SDK asking a person to
    /// authorize again (which the script refuses).
    fn refused_after(mut self) {
        self.resume();
        let after = loop {
            let step = self.next();
            if step["step"] == "after_revoke" {
                break step;
            }
            assert_eq!(step["step"], "authorize", "{step}");
        };
        assert_eq!(after["refused"], true, "{after}");
        assert_eq!(
            after["authorizations"], 2,
            "the SDK asked for a new authorization: {after}"
        );
        self.child.wait().unwrap();
    }
}

#[test]
fn the_python_sdk_connects_by_oauth_refreshes_and_a_replayed_refresh_token_ends_the_grant() {
    let server = start("knotie-oauth-python-test");
    let mut python = Command::new(env("KNOTIE_PYTHON"));
    python
        .arg(format!("{}/python_oauth.py", env("KNOTIE_CLIENTS")))
        .arg(format!("{}/mcp", server.base));
    let mut client = Driven::start(python);
    let grant = client.connected(&server, "Python SDK test app");

    // The spent refresh token, replayed: refused, and the grant ends for everyone.
    let spent = client.step("refreshed")["spent_refresh"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = form(
        &format!("{}/oauth/token", server.base),
        &[("grant_type", "refresh_token"), ("refresh_token", &spent)],
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let row = grant_row(&server, "acct_demo", &grant);
    assert_eq!(
        (row["status"].as_str(), row["revoked_reason"].as_str()),
        (Some("revoked"), Some("replayed")),
        "{row}"
    );
    client.refused_after();
}

#[test]
fn the_typescript_sdk_connects_by_oauth_and_a_revoke_in_settings_ends_it() {
    let server = start("knotie-oauth-typescript-test");
    let mut node = Command::new("node");
    node.arg(format!("{}/ts_oauth.mjs", env("KNOTIE_CLIENTS")))
        .arg(format!("{}/mcp", server.base));
    let mut client = Driven::start(node);
    let grant = client.connected(&server, "TypeScript SDK test app");
    let (status, _) = call(
        "DELETE",
        &format!("{}/mcp-tokens/{grant}", server.base),
        "acct_demo",
        None,
    );
    assert_eq!(status, 204);
    let row = grant_row(&server, "acct_demo", &grant);
    assert_eq!(row["status"], "revoked", "{row}");
    client.refused_after();
}

#[test]
fn a_settings_revoke_ends_a_grants_access_token_at_once() {
    let server = start("knotie-oauth-revoke-test");
    let (client, code) = code(&server, "acct_other");
    let (status, tokens) = exchange(&server, &client, &code, Some(VERIFIER));
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(mcp_status(&server, access), 200);
    let row = listed(&server, "acct_other", |t| {
        t["connected_app"]["client_id"] == client.as_str()
    });
    let id = row["id"].as_str().unwrap().to_owned();
    assert_eq!(row["connected_app"]["name"], "Test App", "{row}");
    assert!(row["connected_app"]["client_id"]
        .as_str()
        .unwrap()
        .starts_with("mcpc_"));
    // It renews itself: never rotated into a pasted token.
    let rotate = format!("{}/mcp-tokens/{id}/rotate", server.base);
    let (status, body) = call("POST", &rotate, "acct_other", None);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("connected_app")),
        "{body}"
    );
    let (status, _) = call(
        "DELETE",
        &format!("{}/mcp-tokens/{id}", server.base),
        "acct_other",
        None,
    );
    assert_eq!(status, 204);
    assert_eq!(mcp_status(&server, access), 401);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, body) = form(
        &format!("{}/oauth/token", server.base),
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[test]
fn pkce_codes_and_redirects_are_checked_with_the_rfcs_errors() {
    let server = start("knotie-oauth-errors-test");

    // Missing and wrong verifiers: refused, and the code is still unspent.
    let (client, code1) = code(&server, "acct_demo");
    let (status, body) = exchange(&server, &client, &code1, None);
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    let wrong = VERIFIER.replace('d', "e");
    let (status, body) = exchange(&server, &client, &code1, Some(&wrong));
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    // Used twice: the second use is refused and the tokens of the first stop working.
    let (status, tokens) = exchange(&server, &client, &code1, Some(VERIFIER));
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(mcp_status(&server, access), 200);
    let (status, body) = exchange(&server, &client, &code1, Some(VERIFIER));
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert_eq!(
        mcp_status(&server, access),
        401,
        "the first use's token is revoked"
    );

    // A made-up or damaged code.
    for bad in [
        "nonsense",
        "kmcp_000000000000000000000000000000000000000001W9ct",
    ] {
        let (status, body) = exchange(&server, &client, bad, Some(VERIFIER));
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{bad}: {body}"
        );
    }

    // A redirect URI the client did not register: an error for the person, no redirect.
    let other = authorization(&client, "https://evil.example/cb", &[]);
    let (status, body) = approve(&server, &other, "acct_demo");
    assert_eq!(status, 400, "{body}");
    assert!(body.get("redirect_to").is_none(), "{body}");
    let (status, body) = call(
        "GET",
        &format!("{}/oauth/consent?{other}", server.base),
        "acct_demo",
        None,
    );
    assert_eq!(status, 400, "{body}");
    // An unknown client: the same.
    let unknown = authorization("mcpc_unknown", REDIRECT, &[]);
    let (status, body) = approve(&server, &unknown, "acct_demo");
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_client", "{body}");

    // Another server's resource, plain PKCE: back to the client with the error, state kept.
    for (extra, error) in [
        (
            vec![("resource", "https://other.example/mcp")],
            "invalid_target",
        ),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
    ] {
        let mut query = authorization(&client, REDIRECT, &[]);
        if extra[0].0 == "code_challenge_method" {
            query = query.replace("code_challenge_method=S256", "code_challenge_method=plain");
        } else {
            query = format!(
                "{query}&{}",
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&extra)
                    .finish()
            );
        }
        let (status, body) = approve(&server, &query, "acct_demo");
        assert_eq!(status, 200, "{body}");
        let to = body["redirect_to"].as_str().unwrap();
        assert!(to.starts_with(REDIRECT), "{to}");
        assert_eq!(param(to, "error").as_deref(), Some(error), "{to}");
        assert_eq!(param(to, "state").as_deref(), Some("s-1"));
    }

    // A state that tries to add parameters or a fragment to the answer stays one value.
    let forged = "s&code=forged&iss=https://evil.example#frag";
    let query = authorization(&client, REDIRECT, &[]).replace(
        "state=s-1",
        &form_urlencoded::Serializer::new(String::new())
            .append_pair("state", forged)
            .finish(),
    );
    let (status, body) = approve(&server, &query, "acct_demo");
    assert_eq!(status, 200, "{body}");
    let to = body["redirect_to"].as_str().unwrap();
    assert!(
        to.starts_with(&format!("{REDIRECT}?")) && !to.contains('#'),
        "{to}"
    );
    let (_, answer) = to.split_once('?').unwrap();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(answer.as_bytes())
        .into_owned()
        .collect();
    let named = |n: &str| pairs.iter().filter(|(k, _)| k == n).count();
    assert_eq!(
        (named("code"), named("iss"), named("state")),
        (1, 1, 1),
        "{to}"
    );
    assert_eq!(param(to, "state").as_deref(), Some(forged));
    assert_eq!(param(to, "iss").as_deref(), Some(server.base.as_str()));
    assert_ne!(param(to, "code").as_deref(), Some("forged"));

    // A parameter given twice is refused outright.
    let twice = format!(
        "{}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
        authorization(&client, REDIRECT, &[])
    );
    let (status, body) = approve(&server, &twice, "acct_demo");
    assert_eq!(status, 400, "{body}");

    // Registration: only https or loopback redirect URIs, only public clients.
    for body in [
        json!({ "redirect_uris": ["http://evil.example/cb"] }),
        json!({ "redirect_uris": [] }),
        json!({ "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_basic" }),
        json!("not an object"),
    ] {
        let (status, answer) = call_as(
            "POST",
            &format!("{}/oauth/register", server.base),
            &[],
            Some(body.clone()),
        );
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
}

#[test]
fn only_calls_without_a_token_are_pointed_at_authorization() {
    let server = start("knotie-oauth-discovery-test");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |authorization: Option<&str>| {
        let mut request = http::Request::builder()
            .method("POST")
            .uri(format!("{}/mcp", server.base))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        if let Some(a) = authorization {
            request = request.header("authorization", a);
        }
        let response = agent
            .run(
                request
                    .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.to_owned())
                    .unwrap(),
            )
            .unwrap();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (response.status().as_u16(), challenge)
    };
    let (status, challenge) = post(None);
    assert_eq!(status, 401);
    let metadata = format!("{}/.well-known/oauth-protected-resource/mcp", server.base);
    assert!(
        challenge.contains(&format!("resource_metadata=\"{metadata}\"")),
        "{challenge}"
    );
    // A person's pasted token that does not work: its message, and no metadata.
    let (status, challenge) = post(Some(
        "Bearer kmcp_000000000000000000000000000000000000000001W9ct",
    ));
    assert_eq!(status, 401);
    assert!(!challenge.contains("resource_metadata"), "{challenge}");

    let (status, prm) = call_as("GET", &metadata, &[], None);
    assert_eq!(status, 200);
    assert_eq!(prm["resource"], format!("{}/mcp", server.base));
    assert_eq!(prm["authorization_servers"], json!([server.base]));
    // Discovery by a client configured with a pasted token finds no OAuth.
    let pasted = [(
        "authorization",
        "Bearer kmcp_000000000000000000000000000000000000000001W9ct",
    )];
    assert_eq!(call_as("GET", &metadata, &pasted, None).0, 404);
    let server_metadata = format!("{}/.well-known/oauth-authorization-server", server.base);
    assert_eq!(call_as("GET", &server_metadata, &pasted, None).0, 404);
    let (status, asm) = call_as("GET", &server_metadata, &[], None);
    assert_eq!(status, 200);
    assert_eq!(asm["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(asm["issuer"], server.base);
}

/// A JSON-RPC POST to `/mcp` with `token`: the status, the `WWW-Authenticate` challenge
/// and the answer.
fn mcp_post(server: &Server, token: &str, message: Value) -> (u16, String, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("{}/mcp", server.base))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("authorization", format!("Bearer {token}"))
        .body(message.to_string())
        .unwrap();
    let response = agent.run(request).unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.into_body().read_to_string().unwrap();
    (
        status,
        challenge,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

#[test]
fn a_connected_app_lacking_a_scope_is_asked_to_step_up_and_a_pasted_token_is_told() {
    let server = start("knotie-oauth-step-up-test");
    let client = register(&server, &[REDIRECT]);
    let asked = authorization(&client, REDIRECT, &[("scope", "customers:read")]);
    let (status, answer) = approve(&server, &asked, "acct_demo");
    assert_eq!(status, 200, "{answer}");
    let code = param(answer["redirect_to"].as_str().unwrap(), "code").unwrap();
    let (status, tokens) = exchange(&server, &client, &code, Some(VERIFIER));
    assert_eq!(
        (status, tokens["scope"].as_str()),
        (200, Some("customers:read"))
    );
    let access = tokens["access_token"].as_str().unwrap();
    let calling = |tool: &str| {
        json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call",
                "params": { "name": tool, "arguments": {} } })
    };
    let (status, _, body) = mcp_post(&server, access, calling("list_customers"));
    assert_eq!(status, 200, "{body}");
    let (status, challenge, body) = mcp_post(&server, access, calling("get_usage_analytics"));
    assert_eq!(status, 403, "{body}");
    let metadata = format!("{}/.well-known/oauth-protected-resource/mcp", server.base);
    assert_eq!(
        challenge,
        format!(
            "Bearer error=\"insufficient_scope\", scope=\"customers:read analytics:read\", resource_metadata=\"{metadata}\""
        )
    );
    assert_eq!(body["id"], 7);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("analytics:read"), "{message}");
    // The grant still works for what it has.
    assert_eq!(mcp_post(&server, access, calling("list_customers")).0, 200);

    // A person's pasted token lacking the scope: the tool's refusal, no invitation.
    let (status, made) = call(
        "POST",
        &format!("{}/mcp-tokens", server.base),
        "acct_demo",
        Some(r#"{"name": "narrow", "scopes": ["customers:read"]}"#),
    );
    assert_eq!(status, 201, "{made}");
    let pasted = made["token"].as_str().unwrap();
    let (status, challenge, body) = mcp_post(&server, pasted, calling("get_usage_analytics"));
    assert_eq!((status, challenge.as_str()), (200, ""), "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("needs the analytics:read scope"),
        "{message}"
    );
}

/// Client ID Metadata Documents on loopback: what each path answers, and the base URL.
fn document_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let own = base.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let own = own.clone();
            std::thread::spawn(move || {
                let mut line = String::new();
                BufReader::new(&stream).read_line(&mut line).unwrap();
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let document = |id: &str, padding: usize| {
                    json!({
                        "client_id": id,
                        "client_name": "Document App",
                        "redirect_uris": [REDIRECT],
                        "padding": "x".repeat(padding),
                    })
                    .to_string()
                };
                let (status, body) = match path.as_str() {
                    "/good.json" => ("200 OK", document(&format!("{own}/good.json"), 0)),
                    "/unsigned.json" => ("200 OK", document("https://elsewhere.example/c.json", 0)),
                    "/big.json" => ("200 OK", document(&format!("{own}/big.json"), 20_000)),
                    "/moved.json" => ("302 Found", String::new()),
                    "/slow.json" => {
                        std::thread::sleep(std::time::Duration::from_secs(5));
                        ("200 OK", document(&format!("{own}/slow.json"), 0))
                    }
                    _ => ("404 Not Found", String::new()),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nlocation: /good.json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    base
}

#[test]
fn a_client_named_by_its_metadata_document_connects_and_bad_documents_are_refused() {
    let server = start("knotie-oauth-documents-test");
    let documents = document_server();
    let (status, asm) = call_as(
        "GET",
        &format!("{}/.well-known/oauth-authorization-server", server.base),
        &[],
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(asm["client_id_metadata_document_supported"], true);

    let client = format!("{documents}/good.json");
    let asked = authorization(&client, REDIRECT, &[]);
    let review = |query: &str| {
        call_as(
            "GET",
            &format!("{}/oauth/consent?{query}", server.base),
            &[],
            None,
        )
    };
    let (status, shown) = review(&asked);
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["client"]["name"], "Document App");
    assert_eq!(shown["client"]["redirect_host"], "127.0.0.1:33418");
    let (status, answer) = approve(&server, &asked, "acct_demo");
    assert_eq!(status, 200, "{answer}");
    let code = param(answer["redirect_to"].as_str().unwrap(), "code").unwrap();
    let (status, tokens) = exchange(&server, &client, &code, Some(VERIFIER));
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(
        mcp_status(&server, tokens["access_token"].as_str().unwrap()),
        200
    );
    let row = listed(&server, "acct_demo", |t| {
        t["connected_app"]["client_id"] == client.as_str()
    });
    assert_eq!(row["name"], "Document App", "the grant is listed: {row}");

    // A redirect URI the document does not list is the person's error, never a redirect.
    let (status, refused) = review(&authorization(&client, "http://127.0.0.1:9/elsewhere", &[]));
    assert_eq!(status, 400, "{refused}");
    for (path, says) in [
        ("/unsigned.json", "must name itself"),
        ("/big.json", "over 16384 bytes"),
        ("/moved.json", "302"),
        ("/slow.json", "within"),
        ("/missing.json", "404"),
    ] {
        let (status, refused) =
            review(&authorization(&format!("{documents}{path}"), REDIRECT, &[]));
        assert_eq!(
            (status, refused["error"]["code"].as_str()),
            (400, Some("invalid_client")),
            "{path}: {refused}"
        );
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{path}: {message}");
    }
    // Not read from a private address, nor with a URL the draft refuses.
    for (id, says) in [
        ("https://10.0.0.1/client.json", "public"),
        ("https://example.com/", "path"),
        ("https://user@example.com/c.json", "credentials"),
    ] {
        let (status, refused) = review(&authorization(id, REDIRECT, &[]));
        assert_eq!(status, 400, "{id}: {refused}");
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{id}: {message}");
    }
}
