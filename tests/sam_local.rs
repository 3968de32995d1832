//! `sam local` against DynamoDB Local and moto: `local/sam-env.json` gives each function of
//! `template.yaml` the variables it reads and no other, SAM CLI would pass them all, and
//! the built functions answer their sample events with exactly that environment — the
//! Docker host's addresses in it pointed at the test's DynamoDB Local and moto.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use knotie::config::Config;
use knotie::store::Store;
use knotie::App;

use crate::common::runtime::{Function, Outcome};
use crate::common::{self, event};

/// The AWS SDK's service-specific endpoints (aws-config reads `AWS_ENDPOINT_URL_<service
/// id>`): the only variables in the file that the functions' own code does not read.
const DYNAMODB_ENDPOINT: &str = "AWS_ENDPOINT_URL_DYNAMODB";
const SECRETS_ENDPOINT: &str = "AWS_ENDPOINT_URL_SECRETS_MANAGER";
const SDK_VARIABLES: [&str; 2] = [DYNAMODB_ENDPOINT, SECRETS_ENDPOINT];
/// Where a Lambda container finds services listening on the machine that runs Docker.
const DOCKER_HOST: &str = "http://host.docker.internal:";

type Env = BTreeMap<String, String>;

fn read(path: &str) -> String {
    let path = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `local/sam-env.json`: the variables of each function, by logical id.
fn env_file() -> BTreeMap<String, Env> {
    serde_json::from_str(&read("local/sam-env.json"))
        .unwrap_or_else(|e| panic!("local/sam-env.json: {e} (string values only)"))
}

/// A function of `template.yaml`: its binary and the variables it is given (Globals and
/// its own).
struct Deployed {
    binary: String,
    variables: BTreeSet<String>,
}

fn template_functions() -> BTreeMap<String, Deployed> {
    let template: serde_norway::Value = serde_norway::from_str(&read("template.yaml")).unwrap();
    let names = |variables: &serde_norway::Value| -> BTreeSet<String> {
        variables
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(name, _)| name.as_str().map(String::from))
            .collect()
    };
    let globals = names(&template["Globals"]["Function"]["Environment"]["Variables"]);
    template["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(id, r)| {
            let own = names(&r["Properties"]["Environment"]["Variables"]);
            let binary = r["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
            let deployed = Deployed {
                binary: binary.into(),
                variables: globals.union(&own).cloned().collect(),
            };
            (id.as_str().unwrap().to_owned(), deployed)
        })
        .collect()
}

/// Every variable `Config::from_lookup` reads, from its source: the names it passes to its
/// lookups (`var("…")`, `list("…")`), so that a setting added there is required here.
fn config_variables() -> BTreeSet<String> {
    let source = read("shared/src/config.rs");
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    let is_name = |s: &&str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    let names: BTreeSet<String> = code
        .split("(\"")
        .skip(1)
        .filter_map(|rest| rest.split_once("\")").map(|(name, _)| name))
        .filter(is_name)
        .map(String::from)
        .collect();
    assert!(names.contains("TABLE_NAME"), "config.rs read: {names:?}");
    names
}

#[test]
fn the_sam_env_file_gives_each_function_what_it_reads_and_nothing_else() {
    let file = env_file();
    let template = template_functions();
    let reads = config_variables();
    assert_eq!(
        file.keys().collect::<Vec<_>>(),
        template.keys().collect::<Vec<_>>(),
        "local/sam-env.json has one entry per function of template.yaml"
    );
    let mut problems = Vec::new();
    for (id, deployed) in &template {
        let env = &file[id];
        for name in deployed
            .variables
            .difference(&SDK_VARIABLES.map(String::from).into())
        {
            if !reads.contains(name) {
                problems.push(format!(
                    "{id}: template.yaml sets {name}, which shared/src/config.rs never reads"
                ));
            }
            if !env.contains_key(name) {
                problems.push(format!(
                    "{id}: template.yaml sets {name}, the file does not"
                ));
            }
        }
        for name in env.keys() {
            if !reads.contains(name) && !SDK_VARIABLES.contains(&name.as_str()) {
                problems.push(format!("{id}: nothing reads {name}"));
            }
        }
        // Revoke and policy are given no pepper, so no Secrets Manager client.
        let needs_secrets = env.contains_key("PEPPER_SECRET_ID");
        for (name, needed) in [(DYNAMODB_ENDPOINT, true), (SECRETS_ENDPOINT, needs_secrets)] {
            match env.get(name) {
                Some(url) if url.starts_with(DOCKER_HOST) => {}
                None if !needed => {}
                other => problems.push(format!(
                    "{id}: {name} must point at {DOCKER_HOST}<port>, not {other:?}"
                )),
            }
        }
        if let Err(e) = Config::from_lookup(|name| env.get(name).cloned()) {
            problems.push(format!("{id}: {e}"));
        }
    }
    // scripts/sam-local.sh makes one table and one pepper secret, and starts DynamoDB
    // Local and moto, where the file says (it reads GenerateFunction's entry).
    for shared in [
        "TABLE_NAME",
        "PEPPER_SECRET_ID",
        DYNAMODB_ENDPOINT,
        SECRETS_ENDPOINT,
    ] {
        let values: BTreeSet<_> = file.values().filter_map(|env| env.get(shared)).collect();
        if values.len() != 1 {
            problems.push(format!(
                "the functions name different {shared}s: {values:?}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "local/sam-env.json:\n  {}",
        problems.join("\n  ")
    );
}

/// SAM CLI gives a function only the variables its template declares: `--env-vars` changes
/// their values and silently drops any other name (aws/aws-sam-cli#1553, #6145), and a
/// declared variable the file does not set arrives empty.
#[test]
fn sam_local_passes_each_variable_of_the_env_file_because_the_template_declares_it() {
    let file = env_file();
    let mut problems = Vec::new();
    for (id, deployed) in template_functions() {
        let set: BTreeSet<String> = file[&id].keys().cloned().collect();
        for name in set.difference(&deployed.variables) {
            problems.push(format!("{id}: {name} is not declared, so SAM CLI drops it"));
        }
        for name in deployed.variables.difference(&set) {
            problems.push(format!(
                "{id}: {name} is declared but not set: it arrives empty"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "template.yaml and local/sam-env.json:\n  {}\n\
         (declare the endpoints in template.yaml's Globals as `!Ref AWS::NoValue`: absent \
         when deployed, settable by sam local)",
        problems.join("\n  ")
    );
}

/// A function's answer as an HTTP status and JSON body.
fn http(outcome: Outcome) -> (u16, Value) {
    let Outcome::Response(response) = outcome else {
        panic!("the function failed: {outcome:?}");
    };
    let status = response["statusCode"].as_u64().unwrap() as u16;
    let body = match response["body"].as_str() {
        Some(text) if !text.is_empty() => serde_json::from_str(text).unwrap(),
        _ => Value::Null,
    };
    (status, body)
}

/// The file's variables for one function, with the Docker host's services replaced by
/// the test's DynamoDB Local and moto.
fn on_test_services(env: &Env) -> Vec<(&str, String)> {
    env.iter()
        .map(|(name, value)| {
            let value = match name.as_str() {
                DYNAMODB_ENDPOINT => common::env("KNOTIE_TEST_DYNAMODB"),
                SECRETS_ENDPOINT => common::env("KNOTIE_TEST_SECRETS"),
                _ => value.clone(),
            };
            (name.as_str(), value)
        })
        .collect()
}

#[tokio::test]
async fn each_function_answers_its_sample_event_with_only_the_sam_env_file() {
    let file = env_file();
    let template = template_functions();
    let generate_env = &file["GenerateFunction"];

    // What scripts/sam-local.sh makes before `sam local`: the table and the pepper secret
    // the file names (kept when an earlier run against the same services made them).
    let sdk = knotie::aws::local_sdk_config().await;
    let table = &generate_env["TABLE_NAME"];
    let store = Store::new(
        knotie::aws::dynamodb_at(&sdk, &common::env("KNOTIE_TEST_DYNAMODB")),
        table,
    );
    store.create_table_if_missing().await.unwrap();
    let secret = &generate_env["PEPPER_SECRET_ID"];
    let secrets = knotie::aws::secretsmanager_at(&sdk, &common::env("KNOTIE_TEST_SECRETS"));
    if secrets
        .describe_secret()
        .secret_id(secret)
        .send()
        .await
        .is_err()
    {
        secrets
            .create_secret()
            .name(secret)
            .secret_string("a-sam-local-pepper-0123456789abcdefghijklmnopqrstuvwxyz")
            .send()
            .await
            .unwrap();
    }
    let account = common::account(
        &App {
            store,
            ..common::app().await
        },
        true,
    )
    .await;

    let mut functions = BTreeMap::new();
    for (id, deployed) in &template {
        let env = on_test_services(&file[id]);
        functions.insert(id.clone(), Function::start(&deployed.binary, &env).await);
    }
    let mut answer = async |id: &str, event: &Value| {
        let function = functions.get_mut(id).unwrap();
        http(function.invoke(event).await)
    };

    let (status, created) = answer("GenerateFunction", &event("generate.json", &account)).await;
    assert_eq!(status, 201, "{created}");
    let (token, id) = (
        created["token"].as_str().unwrap(),
        created["id"].as_str().unwrap(),
    );

    let (status, listed) = answer("ListFunction", &event("list.json", &account)).await;
    assert_eq!(
        (status, &listed["tokens"][0]["id"]),
        (200, &id.into()),
        "{listed}"
    );

    let (status, policy) = answer("PolicyFunction", &event("policy-get.json", &account)).await;
    assert_eq!(status, 200, "{policy}");

    let mut calling = event("mcp-tools-list.json", &account);
    calling["headers"]["authorization"] = format!("Bearer {token}").into();
    let (status, tools) = answer("McpFunction", &calling).await;
    let count = tools["result"]["tools"].as_array().map_or(0, Vec::len);
    assert!(status == 200 && count > 0, "{status} {tools}");

    let mut revoking = event("revoke.json", &account);
    revoking["pathParameters"]["id"] = id.into();
    let (status, revoked) = answer("RevokeFunction", &revoking).await;
    assert_eq!(status, 204, "{revoked}");
    // The revoke reached the table the MCP function reads.
    let (status, refused) = answer("McpFunction", &calling).await;
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(status == 401 && message.contains("revoked"), "{refused}");

    let (status, reported) =
        answer("LeaksFunction", &event("credentials-revoke.json", &account)).await;
    assert_eq!(status, 202, "{reported}");

    // MCP authorization: a client registers beside /mcp; the consent sample names a
    // client no one registered here, which the page is told.
    let (status, client) = answer("McpFunction", &event("oauth-register.json", &account)).await;
    assert_eq!(status, 201, "{client}");
    let (status, refused) = answer("ConsentFunction", &event("oauth-consent.json", &account)).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("invalid_client")),
        "{refused}"
    );
}
