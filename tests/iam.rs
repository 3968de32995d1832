//! Each function's IAM policy in `template.yaml` grants exactly what the function does.
//! DynamoDB Local and moto enforce no IAM; AWS does, and one missing action fails every
//! request that needs it. So each bootstrap runs under the Runtime API emulator with
//! recording proxies of its own as its AWS endpoints, serves every route and tool it has,
//! and what it needed — each action, and the partitions it touched — is held against its
//! policy both ways: needed but not granted fails, granted but never needed fails (least
//! privilege), and every DynamoDB grant names its partitions (`dynamodb:LeadingKeys`).

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue::{N, S};
use knotie::store::keys;

use knotie::model::account::Account;
use knotie::model::ids::{AccountId, TokenId};
use knotie::model::scope::Scopes;
use knotie::model::time::Timestamp;
use knotie::model::token::Token;
use knotie::model::tokens::{TokenRecord, MAX_ACTIVE_TOKENS};
use knotie_local::proxy::{Access, Proxy};
use serde_json::{json, Value};

use crate::common::runtime::{
    deployment, event, for_account, http, with_token, Deployment, Function, DEPLOYED_PEPPER,
};
use crate::common::{self, keys::KeyServer};

/// One statement of a function's policy: these actions, on the partitions its
/// `dynamodb:LeadingKeys` condition names (on any partition without one).
#[derive(Debug, Clone)]
struct Statement {
    actions: Vec<String>,
    partitions: Option<Vec<String>>,
}

fn template() -> serde_norway::Value {
    let path = format!("{}/../template.yaml", env!("CARGO_MANIFEST_DIR"));
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The environment variables `template.yaml` gives the function resource `name`: a
/// function is tested with those alone, as it runs deployed.
fn environment(name: &str) -> BTreeSet<String> {
    let template = template();
    [
        &template["Globals"]["Function"],
        &template["Resources"][name]["Properties"],
    ]
    .into_iter()
    .filter_map(|p| p["Environment"]["Variables"].as_mapping())
    .flat_map(|vars| vars.keys())
    .map(|k| k.as_str().unwrap().to_owned())
    .collect()
}

/// The policy `template.yaml` gives the function resource `name`.
fn policy(name: &str) -> Vec<Statement> {
    let template = template();
    let strings = |v: &serde_norway::Value| -> Vec<String> {
        match v {
            serde_norway::Value::Sequence(items) => items
                .iter()
                .map(|i| i.as_str().unwrap().to_owned())
                .collect(),
            other => vec![other.as_str().unwrap().to_owned()],
        }
    };
    let policies = template["Resources"][name]["Properties"]["Policies"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{name} has no Policies"));
    policies
        .iter()
        .flat_map(|p| p["Statement"].as_sequence().unwrap().clone())
        .map(|s| {
            assert_eq!(s["Effect"].as_str(), Some("Allow"), "{name}: {s:?}");
            let condition = &s["Condition"];
            let keys = &condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
            assert!(
                condition.is_null() || !keys.is_null(),
                "{name}: a condition other than the leading keys: {condition:?}"
            );
            Statement {
                actions: strings(&s["Action"]),
                partitions: (!keys.is_null()).then(|| strings(keys)),
            }
        })
        .collect()
}

/// What is wrong with `policy` for a function that needed `needed`: nothing when it
/// grants exactly that.
fn mismatches(policy: &[Statement], needed: &BTreeSet<Access>) -> Vec<String> {
    let mut wrong = Vec::new();
    for access in needed {
        let granted = policy.iter().any(|s| {
            s.actions.contains(&access.action)
                && match (&s.partitions, &access.partition) {
                    (None, _) => true,
                    (Some(allowed), Some(p)) => allowed.contains(p),
                    (Some(_), None) => false,
                }
        });
        if !granted {
            wrong.push(format!(
                "needs {} on {} but is not granted it",
                access.action,
                access.partition.as_deref().unwrap_or("no item")
            ));
        }
    }
    for s in policy {
        for action in &s.actions {
            let used = |partition: Option<&str>| {
                needed.iter().any(|a| {
                    a.action == *action
                        && partition.is_none_or(|p| a.partition.as_deref() == Some(p))
                })
            };
            match &s.partitions {
                None if action.starts_with("dynamodb:") => wrong.push(format!(
                    "is granted {action} on every partition: name them with dynamodb:LeadingKeys"
                )),
                None if !used(None) => {
                    wrong.push(format!("is granted {action} but never needs it"))
                }
                None => {}
                Some(partitions) => {
                    for p in partitions.iter().filter(|p| !used(Some(p))) {
                        wrong.push(format!("is granted {action} on {p} but never needs it"));
                    }
                }
            }
        }
    }
    wrong
}

/// A function under the emulator whose AWS endpoints are proxies of its own, with the
/// environment its template resource declares.
struct Recorded {
    resource: &'static str,
    function: Function,
    dynamodb: Proxy,
    secrets: Proxy,
}

impl Recorded {
    async fn start(
        (binary, resource): (&str, &'static str),
        d: &Deployment,
        more: &[(&'static str, String)],
    ) -> Recorded {
        let dynamodb = Proxy::start(&common::env("KNOTIE_TEST_DYNAMODB"))
            .await
            .unwrap();
        let secrets = Proxy::start(&common::env("KNOTIE_TEST_SECRETS"))
            .await
            .unwrap();
        let mut env: Vec<(&str, String)> = d
            .env
            .iter()
            .map(|(k, v)| match *k {
                "AWS_ENDPOINT_URL_DYNAMODB" => (*k, dynamodb.url()),
                "AWS_ENDPOINT_URL_SECRETS_MANAGER" => (*k, secrets.url()),
                _ => (*k, v.clone()),
            })
            .collect();
        env.extend(more.iter().cloned());
        let declared = environment(resource);
        env.retain(|(k, _)| declared.contains(*k));
        Recorded {
            resource,
            function: Function::start(binary, &env).await,
            dynamodb,
            secrets,
        }
    }

    async fn call(&mut self, event: &Value) -> (u16, Value) {
        http(self.function.invoke(event).await)
    }

    /// Its template resource, and everything it needed once done with its bookkeeping too.
    async fn needed(&self) -> (&'static str, BTreeSet<Access>) {
        self.function.idle().await;
        let mut needed = self.dynamodb.take_accesses();
        needed.extend(self.secrets.take_accesses());
        (self.resource, needed)
    }
}

/// The MCP endpoint of the sample events' function URL, and MCP authorization's sample
/// values that the story replaces with real ones.
const SAMPLE_MCP_URL: &str =
    "https://x7k2m4p9q1r8s5t3v6w0y2z4a6b8c0d2.lambda-url.eu-west-1.on.aws/mcp";
const SAMPLE_CLIENT: &str = "mcpc_5e1f0c2b9a8d4e7f6a3b2c1d0e9f8a7b";
const SAMPLE_CODE: &str = "kmcp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd22kIYR";
const CONSENT_PAGE: &str = "https://app.knotie.ai/oauth/authorize";

fn rpc(token: &str, id: u32, method: &str, params: Value) -> Value {
    let mut call = with_token(event("mcp-tools-call.json"), token);
    call["body"] = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
        .to_string()
        .into();
    call
}

/// A counted token made `days_ago` days ago that expires `lives` days after, never used,
/// written straight to the table (no function can make one in the past); its secret.
async fn old_token(account: &AccountId, days_ago: i64, lives: i64) -> String {
    let app = common::app().await;
    let token = Token::generate(&ring::rand::SystemRandom::new()).unwrap();
    let created_at = Timestamp::now()
        .checked_sub(time::Duration::days(days_ago))
        .unwrap();
    let record = TokenRecord {
        id: TokenId::new(created_at).unwrap(),
        account: account.clone(),
        name: "old".into(),
        hint: token.hint(),
        scopes: Scopes::all(),
        created_by: "user_test".into(),
        creator_role: knotie::model::roles::Role::Owner,
        created_at,
        expires_at: created_at.checked_add(time::Duration::days(lives)),
        last_used_at: None,
        last_used_ip: None,
        revoked_at: None,
        revocation: None,
        hash: knotie::model::hashing::Pepper::new(DEPLOYED_PEPPER.as_bytes())
            .unwrap()
            .hash(&token),
        counted: true,
        allowed_ips: None,
        replacement: None,
        replaces: None,
        deleted: false,
        app: None,
    };
    app.store
        .insert_token(&record, MAX_ACTIVE_TOKENS)
        .await
        .unwrap();
    token.expose().to_owned()
}

/// Fills the account's active-token count to the limit, as 50 live tokens would.
async fn fill_to_the_limit(account: &AccountId) {
    let client = knotie::aws::dynamodb_at(
        &knotie::aws::local_sdk_config().await,
        &common::env("KNOTIE_TEST_DYNAMODB"),
    );
    client
        .update_item()
        .table_name(common::TABLE)
        .key(keys::PK, S(keys::account(account)))
        .key(keys::SK, S(keys::TOKEN_COUNTER.into()))
        .update_expression("SET active = :limit")
        .expression_attribute_values(":limit", N(MAX_ACTIVE_TOKENS.to_string()))
        .send()
        .await
        .unwrap();
}

/// Every route of the management functions and every tool of the MCP function, in one
/// story, each function recorded on its own.
async fn story() -> Vec<(&'static str, BTreeSet<Access>)> {
    let d = deployment().await;
    let account = AccountId::parse(&d.account).unwrap();
    let app = common::app().await;
    app.store
        .put_account(
            &Account {
                credit_pool: 10_000,
                ..app.store.account(&account).await.unwrap().unwrap()
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let as_owner = |name: &str| for_account(event(name), &d.account);

    // Generate: a token that expires (with its expiry item), then one at the limit, which
    // retires an expired token to make room.
    let mut generate = Recorded::start(("generate", "GenerateFunction"), &d, &[]).await;
    let mut creating = as_owner("generate.json");
    creating["body"] = json!({ "name": "Cursor", "expires_in_days": 30 })
        .to_string()
        .into();
    let (status, created) = generate.call(&creating).await;
    assert_eq!(status, 201, "{created}");
    let (token, id) = (
        created["token"].as_str().unwrap().to_owned(),
        created["id"].as_str().unwrap().to_owned(),
    );
    // Rotate: a token that expires (its expiry item moves to the new one); its successor
    // is rotated again below, once used. A token unused for 40 days, for the policy below
    // to retire.
    let rotating = |id: &str, overlap: i64| {
        let mut rotating = as_owner("rotate.json");
        rotating["pathParameters"]["id"] = id.into();
        rotating["rawPath"] = format!("/mcp-tokens/{id}/rotate").into();
        rotating["body"] = json!({ "overlap_minutes": overlap }).to_string().into();
        rotating
    };
    let (status, old) = generate.call(&creating).await;
    assert_eq!(status, 201, "{old}");
    let (status, second) = generate
        .call(&rotating(old["id"].as_str().unwrap(), 60))
        .await;
    assert_eq!(status, 201, "{second}");
    let unused = old_token(&account, 40, 365).await;
    old_token(&account, 3, 1).await;
    fill_to_the_limit(&account).await;
    let (status, body) = generate.call(&as_owner("generate.json")).await;
    assert_eq!(status, 201, "an expired token made room: {body}");

    // List: the tokens, and a token's history.
    let mut list = Recorded::start(("list", "ListFunction"), &d, &[]).await;
    let (status, listed) = list.call(&as_owner("list.json")).await;
    assert_eq!(status, 200, "{listed}");
    let mut history = as_owner("token-events.json");
    history["pathParameters"]["id"] = id.as_str().into();
    history["rawPath"] = format!("/mcp-tokens/{id}/events").into();
    let (status, events) = list.call(&history).await;
    assert_eq!(status, 200, "{events}");

    // Policy: read and replace.
    let mut policy_fn = Recorded::start(("policy", "PolicyFunction"), &d, &[]).await;
    assert_eq!(policy_fn.call(&as_owner("policy-get.json")).await.0, 200);
    let mut replacing = as_owner("policy-put.json");
    let retiring = knotie::model::policy::Policy {
        revoke_unused_after_days: Some(30),
        ..Default::default()
    };
    replacing["body"] = retiring.to_json().to_string().into();
    let (status, body) = policy_fn.call(&replacing).await;
    assert_eq!(status, 200, "{body}");

    // MCP: every tool, writes included, and the bookkeeping after the answers.
    let mut mcp = Recorded::start(
        ("mcp", "McpFunction"),
        &d,
        &[("OAUTH_CONSENT_URL", CONSENT_PAGE.into())],
    )
    .await;
    let mut n = 0;
    let mut tool = async |mcp: &mut Recorded, name: &str, arguments: Value| -> Value {
        n += 1;
        let call = rpc(
            &token,
            n,
            "tools/call",
            json!({ "name": name, "arguments": arguments }),
        );
        let (status, body) = mcp.call(&call).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_ne!(body["result"]["isError"], true, "{name}: {body}");
        body["result"]["structuredContent"].clone()
    };
    let (status, body) = mcp
        .call(&with_token(event("mcp-initialize.json"), &token))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = mcp
        .call(&with_token(event("mcp-tools-list.json"), &token))
        .await;
    assert_eq!(status, 200, "{body}");
    tool(&mut mcp, "get_account", json!({})).await;
    // A rotated token's first use ends its predecessor's overlap; a replaced token used
    // after its end leaves an alert; a token unused past the policy's days is retired.
    let secret = |body: &Value| body["token"].as_str().unwrap().to_owned();
    let listing = |token: &str| rpc(token, 1, "tools/list", json!({}));
    assert_eq!(mcp.call(&listing(&secret(&second))).await.0, 200);
    let (status, newest) = generate
        .call(&rotating(second["id"].as_str().unwrap(), 0))
        .await;
    assert_eq!(status, 201, "{newest}");
    assert_eq!(mcp.call(&listing(&secret(&second))).await.0, 401);
    assert_eq!(mcp.call(&listing(&secret(&newest))).await.0, 200);
    let (status, body) = mcp.call(&listing(&unused)).await;
    assert_eq!(status, 401, "{body}");
    let customer = tool(
        &mut mcp,
        "create_customer",
        json!({ "name": "Acme Dental" }),
    )
    .await;
    let customer = customer["customer_id"].as_str().unwrap().to_owned();
    tool(&mut mcp, "get_customer", json!({ "customer_id": customer })).await;
    tool(
        &mut mcp,
        "update_customer",
        json!({ "customer_id": customer, "status": "paused" }),
    )
    .await;
    tool(&mut mcp, "list_customers", json!({})).await;
    let agent = tool(
        &mut mcp,
        "create_agent",
        json!({ "customer_id": customer, "name": "Front desk", "voice": "aria", "language": "en-US", "prompt": "Answer politely." }),
    )
    .await;
    let agent = agent["agent_id"].as_str().unwrap().to_owned();
    tool(&mut mcp, "get_agent", json!({ "agent_id": agent })).await;
    tool(
        &mut mcp,
        "update_agent",
        json!({ "agent_id": agent, "status": "paused" }),
    )
    .await;
    tool(&mut mcp, "list_agents", json!({ "customer_id": customer })).await;
    tool(&mut mcp, "list_agents", json!({})).await;
    tool(&mut mcp, "get_credit_balances", json!({})).await;
    let allocation = json!({ "customer_id": customer, "amount": 100, "idempotency_key": "iam-1" });
    tool(&mut mcp, "allocate_credits", allocation.clone()).await;
    tool(&mut mcp, "allocate_credits", allocation).await;
    tool(&mut mcp, "list_credit_transactions", json!({})).await;
    tool(
        &mut mcp,
        "list_credit_transactions",
        json!({ "customer_id": customer }),
    )
    .await;
    for group_by in ["day", "agent", "customer"] {
        tool(
            &mut mcp,
            "get_usage_analytics",
            json!({ "group_by": group_by }),
        )
        .await;
    }
    tool(&mut mcp, "list_recent_calls", json!({})).await;
    tool(&mut mcp, "list_recent_calls", json!({ "agent_id": agent })).await;
    tool(
        &mut mcp,
        "list_recent_calls",
        json!({ "customer_id": customer }),
    )
    .await;

    // Delete: the token that expires, revoked (its expiry item goes too), then removed
    // from the list (its lookup item goes).
    let mut revoke = Recorded::start(("revoke", "RevokeFunction"), &d, &[]).await;
    let mut revoking = as_owner("revoke.json");
    revoking["pathParameters"]["id"] = id.as_str().into();
    assert_eq!(revoke.call(&revoking).await.0, 204);
    assert_eq!(revoke.call(&revoking).await.0, 204);
    // Offboarding: every token the sample's user made, through the index of their tokens:
    // the one made at the limit, and the rotated three (the first in its grace, the second
    // replaced — revoked all the same — and the newest).
    let mut offboarding = as_owner("revoke-user.json");
    let maker = offboarding["requestContext"]["authorizer"]["jwt"]["claims"]["sub"].clone();
    offboarding["body"] = json!({ "user": maker }).to_string().into();
    let (status, body) = revoke.call(&offboarding).await;
    assert_eq!((status, body["revoked"].clone()), (200, json!(4)), "{body}");

    // MCP authorization (in the places the offboarding freed): a client registers with the
    // MCP function, the user allows it on the consent page, and the code becomes a connected app's tokens, which call, renew
    // and end (a replayed code or refresh token ends its grant; the revocation endpoint).
    let mut consent = Recorded::start(
        ("consent", "ConsentFunction"),
        &d,
        &[("MCP_URL", SAMPLE_MCP_URL.into())],
    )
    .await;
    let (status, client) = mcp.call(&event("oauth-register.json")).await;
    assert_eq!(status, 201, "{client}");
    let client = client["client_id"].as_str().unwrap().to_owned();
    let connect = async |consent: &mut Recorded, mcp: &mut Recorded| -> (Value, String) {
        let mut allowing = as_owner("oauth-consent.json");
        let mut decision: Value = serde_json::from_str(allowing["body"].as_str().unwrap()).unwrap();
        let request = decision["request"]
            .as_str()
            .unwrap()
            .replace(SAMPLE_CLIENT, &client);
        let mut reviewing = allowing.clone();
        reviewing["requestContext"]["http"]["method"] = "GET".into();
        reviewing["routeKey"] = "GET /oauth/consent".into();
        reviewing["rawQueryString"] = request.as_str().into();
        reviewing["body"] = Value::Null;
        let (status, shown) = consent.call(&reviewing).await;
        assert_eq!(status, 200, "{shown}");
        decision["request"] = request.into();
        allowing["body"] = decision.to_string().into();
        let (status, answer) = consent.call(&allowing).await;
        assert_eq!(status, 200, "{answer}");
        let to = answer["redirect_to"].as_str().unwrap();
        let (_, query) = to.split_once('?').unwrap();
        let code = form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "code")
            .unwrap()
            .1;
        let mut exchanging = event("oauth-token.json");
        let form = exchanging["body"]
            .as_str()
            .unwrap()
            .replace(SAMPLE_CLIENT, &client)
            .replace(SAMPLE_CODE, &code);
        exchanging["body"] = form.into();
        let (status, tokens) = mcp.call(&exchanging).await;
        assert_eq!(status, 200, "{tokens}");
        (tokens, exchanging["body"].as_str().unwrap().to_owned())
    };
    let (tokens, exchange) = connect(&mut consent, &mut mcp).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(mcp.call(&listing(access)).await.0, 200);
    let form = |body: String| {
        let mut posting = event("oauth-token.json");
        posting["body"] = body.into();
        posting
    };
    let renewing = |refresh: &Value| {
        form(format!(
            "grant_type=refresh_token&client_id={client}&refresh_token={}",
            refresh.as_str().unwrap()
        ))
    };
    let (status, renewed) = mcp.call(&renewing(&tokens["refresh_token"])).await;
    assert_eq!(status, 200, "{renewed}");
    assert_eq!(
        mcp.call(&listing(renewed["access_token"].as_str().unwrap()))
            .await
            .0,
        200
    );
    let (status, replayed) = mcp.call(&renewing(&tokens["refresh_token"])).await;
    assert_eq!((status, &replayed["error"]), (400, &json!("invalid_grant")));
    let (tokens, _) = connect(&mut consent, &mut mcp).await;
    let (status, again) = mcp.call(&form(exchange)).await;
    assert_eq!(
        (status, &again["error"]),
        (400, &json!("invalid_grant")),
        "a spent code"
    );
    let (tokens_b, _) = connect(&mut consent, &mut mcp).await;
    let mut revoking = event("oauth-token.json");
    revoking["rawPath"] = "/oauth/revoke".into();
    revoking["requestContext"]["http"]["path"] = "/oauth/revoke".into();
    revoking["body"] = format!("token={}", tokens_b["refresh_token"].as_str().unwrap()).into();
    assert_eq!(mcp.call(&revoking).await.0, 200);
    assert_eq!(
        mcp.call(&listing(tokens_b["access_token"].as_str().unwrap()))
            .await
            .0,
        401
    );
    assert_eq!(
        mcp.call(&listing(tokens["access_token"].as_str().unwrap()))
            .await
            .0,
        200
    );

    // Leaks: GitHub's sample report, and a holder reporting a live token that expires.
    let keys = KeyServer::serving(crate::binaries::GITHUB_EXAMPLE_KEYS).await;
    let mut leaks = Recorded::start(
        ("leaks", "LeaksFunction"),
        &d,
        &[("SECRET_SCANNING_KEYS_URL", keys.url.clone())],
    )
    .await;
    let (status, labels) = leaks.call(&event("secret-scanning-github.json")).await;
    assert_eq!(status, 200, "{labels}");
    let (status, live) = generate.call(&creating).await;
    assert_eq!(status, 201, "{live}");
    let mut reported = event("credentials-revoke.json");
    reported["body"] = json!({ "credentials": [live["token"]] }).to_string().into();
    assert_eq!(leaks.call(&reported).await.0, 202);
    // The revokes run after the answer, before the function asks for its next event.
    leaks.function.idle().await;
    let (status, gone) = mcp
        .call(&rpc(
            live["token"].as_str().unwrap(),
            1,
            "tools/list",
            json!({}),
        ))
        .await;
    assert_eq!(status, 401, "the report revoked it: {gone}");

    let mut recorded = Vec::new();
    for function in [
        &generate, &list, &policy_fn, &mcp, &consent, &revoke, &leaks,
    ] {
        recorded.push(function.needed().await);
    }
    recorded
}

#[tokio::test]
async fn each_function_is_granted_exactly_what_it_does_and_loses_a_path_without_any_grant() {
    let recorded = story().await;
    let functions: BTreeSet<String> = template()["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(name, _)| name.as_str().unwrap().to_owned())
        .collect();
    let told: BTreeSet<String> = recorded.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(
        functions, told,
        "the story serves every function of the template"
    );
    let mut wrong = Vec::new();
    for (function, needed) in &recorded {
        let policy = policy(function);
        wrong.extend(
            mismatches(&policy, needed)
                .into_iter()
                .map(|m| format!("{function} {m}")),
        );
        // Every grant is needed: without any one of them, some request of the story fails.
        for (i, statement) in policy.iter().enumerate() {
            for action in &statement.actions {
                let mut narrowed = policy.clone();
                narrowed[i].actions.retain(|a| a != action);
                assert!(
                    mismatches(&narrowed, needed)
                        .iter()
                        .any(|m| m.contains("not granted")),
                    "{function} would lose no request without {action}"
                );
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "template.yaml and the code disagree:\n{}\n\nwhat each function needed:\n{}",
        wrong.join("\n"),
        recorded
            .iter()
            .map(|(f, needed)| format!("{f}: {needed:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_policy_is_checked_both_ways_and_by_partition() {
    let access = |action: &str, partition: &str| Access {
        action: action.into(),
        partition: Some(partition.into()),
    };
    let needed: BTreeSet<Access> = [
        access("dynamodb:GetItem", "ACCT#*"),
        access("dynamodb:GetItem", "TOKENHASH#*"),
    ]
    .into();
    let statement = |actions: &[&str], partitions: Option<&[&str]>| Statement {
        actions: actions.iter().map(|a| a.to_string()).collect(),
        partitions: partitions.map(|ps| ps.iter().map(|p| p.to_string()).collect()),
    };
    let exact = [statement(
        &["dynamodb:GetItem"],
        Some(&["ACCT#*", "TOKENHASH#*"]),
    )];
    assert_eq!(mismatches(&exact, &needed), Vec::<String>::new());
    let narrow = [statement(&["dynamodb:GetItem"], Some(&["ACCT#*"]))];
    assert_eq!(
        mismatches(&narrow, &needed),
        ["needs dynamodb:GetItem on TOKENHASH#* but is not granted it"]
    );
    let wide = [statement(
        &["dynamodb:GetItem", "dynamodb:PutItem"],
        Some(&["ACCT#*", "TOKENHASH#*", "RATE#*"]),
    )];
    assert_eq!(
        mismatches(&wide, &needed),
        [
            "is granted dynamodb:GetItem on RATE#* but never needs it",
            "is granted dynamodb:PutItem on ACCT#* but never needs it",
            "is granted dynamodb:PutItem on TOKENHASH#* but never needs it",
            "is granted dynamodb:PutItem on RATE#* but never needs it",
        ]
    );
    let anywhere = [statement(&["dynamodb:GetItem"], None)];
    assert_eq!(
        mismatches(&anywhere, &needed),
        ["is granted dynamodb:GetItem on every partition: name them with dynamodb:LeadingKeys"]
    );
}
