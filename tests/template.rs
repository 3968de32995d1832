//! `template.yaml` deploys the table the code expects: its key schema is the one of
//! `store::keys`, the layout the local stack and these tests create.

use serde_norway::Value;

fn template() -> Value {
    let path = format!("{}/../template.yaml", env!("CARGO_MANIFEST_DIR"));
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_deployed_table_has_the_key_schema_of_store_keys() {
    let template = template();
    let table = &template["Resources"]["TokenTable"]["Properties"];
    let keys: Vec<(String, String)> = table["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap().into(),
                k["KeyType"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = knotie::store::keys::KEY_SCHEMA
        .iter()
        .map(|(a, t)| (a.to_string(), t.to_string()))
        .collect();
    assert_eq!(keys, expected);
    let attributes = table["AttributeDefinitions"].as_sequence().unwrap();
    assert_eq!(
        attributes.len(),
        expected.len(),
        "only key attributes are declared"
    );
    for (name, _) in &expected {
        assert!(
            attributes
                .iter()
                .any(|a| a["AttributeName"].as_str() == Some(name)
                    && a["AttributeType"].as_str() == Some("S")),
            "{name} is a string key"
        );
    }
    assert_eq!(table["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
}

#[test]
fn the_pepper_is_generated_by_secrets_manager_not_written_in_the_template() {
    let template = template();
    let secret = &template["Resources"]["PepperSecret"];
    assert_eq!(secret["Type"].as_str(), Some("AWS::SecretsManager::Secret"));
    assert!(secret["Properties"]["GenerateSecretString"].is_mapping());
    assert!(secret["Properties"]["SecretString"].is_null());
}

#[test]
fn history_expires_by_the_ttl_attribute_the_store_writes() {
    let template = template();
    let ttl = &template["Resources"]["TokenTable"]["Properties"]["TimeToLiveSpecification"];
    assert_eq!(
        ttl["AttributeName"].as_str(),
        Some(knotie::store::keys::TTL)
    );
    assert_eq!(ttl["Enabled"].as_bool(), Some(true));
}

#[test]
fn the_leak_routes_are_public_and_every_other_route_has_the_authorizer() {
    let template = template();
    let resources = template["Resources"].as_mapping().unwrap();
    let mut public = Vec::new();
    for (_, resource) in resources {
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (_, event) in events {
            if event["Properties"]["Auth"]["Authorizer"].as_str() == Some("NONE") {
                public.push(event["Properties"]["Path"].as_str().unwrap().to_owned());
            }
        }
    }
    public.sort();
    assert_eq!(public, ["/credentials/revoke", "/secret-scanning/github"]);
}

#[test]
fn logs_are_json_and_the_alarms_read_the_metrics_the_functions_write() {
    let template = template();
    let logging = &template["Globals"]["Function"]["LoggingConfig"];
    assert_eq!(logging["LogFormat"].as_str(), Some("JSON"));
    assert_eq!(logging["ApplicationLogLevel"].as_str(), Some("INFO"));
    let resources = template["Resources"].as_mapping().unwrap();
    let mut ours = Vec::new();
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::CloudWatch::Alarm") {
            continue;
        }
        let p = &resource["Properties"];
        assert!(!p["AlarmActions"].is_null(), "{name:?} notifies the topic");
        let stats = std::iter::once(p.clone()).chain(
            p["Metrics"]
                .as_sequence()
                .into_iter()
                .flatten()
                .map(|m| m["MetricStat"]["Metric"].clone()),
        );
        for metric in stats {
            if let Some(namespace) = metric["Namespace"].as_str() {
                if namespace.starts_with("Knotie") {
                    assert_eq!(namespace, knotie::metrics::NAMESPACE, "{name:?}");
                    ours.push(metric["MetricName"].as_str().unwrap().to_owned());
                }
            }
        }
    }
    ours.sort();
    ours.dedup();
    assert_eq!(ours, ["LeakedTokens", "Requests"]);
    let dashboard = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"].clone();
    let body = format!("{dashboard:?}");
    for metric in [
        "Requests",
        "Latency",
        "DynamoDbRequests",
        "ToolCalls",
        "LeakReports",
    ] {
        assert!(body.contains(metric), "the dashboard shows {metric}");
    }
}

#[test]
fn app_origins_must_be_given_and_limits_are_parameters() {
    let template = template();
    let origins = &template["Parameters"]["AppOrigins"];
    assert!(origins["Default"].is_null(), "no default, least of all *");
    let mcp = &template["Resources"]["McpFunction"]["Properties"];
    assert_eq!(
        mcp["Environment"]["Variables"]["MCP_RATE_LIMIT_PER_MINUTE"],
        template_ref("McpRateLimitPerMinute")
    );
    assert_eq!(
        mcp["ReservedConcurrentExecutions"],
        template_ref("McpReservedConcurrency")
    );
}

fn template_ref(name: &str) -> Value {
    let text = format!("!Ref {name}");
    let parsed: Value = serde_norway::from_str(&text).unwrap();
    parsed
}

#[test]
fn the_public_routes_are_throttled_and_their_function_has_its_own_concurrency() {
    let template = template();
    let routes = &template["Resources"]["ManagementApi"]["Properties"]["RouteSettings"];
    for route in ["POST /secret-scanning/github", "POST /credentials/revoke"] {
        let settings = &routes[route];
        for limit in ["ThrottlingRateLimit", "ThrottlingBurstLimit"] {
            assert_eq!(
                settings[limit],
                template_ref("PublicRouteRatePerSecond"),
                "{route} {limit}"
            );
        }
    }
    assert_eq!(
        template["Resources"]["LeaksFunction"]["Properties"]["ReservedConcurrentExecutions"],
        template_ref("LeaksReservedConcurrency")
    );
}

#[test]
fn mcp_authorization_is_off_until_a_consent_page_is_given_and_its_page_api_is_signed_in() {
    let template = template();
    let parameter = &template["Parameters"]["OAuthConsentUrl"];
    assert_eq!(parameter["Default"].as_str(), Some(""));
    let consent_url = &template["Resources"]["McpFunction"]["Properties"]["Environment"]
        ["Variables"]["OAUTH_CONSENT_URL"];
    let expected: Value =
        serde_norway::from_str("!If [HasOAuth, !Ref OAuthConsentUrl, !Ref AWS::NoValue]").unwrap();
    assert_eq!(consent_url, &expected);
    let events = template["Resources"]["ConsentFunction"]["Properties"]["Events"]
        .as_mapping()
        .unwrap();
    assert_eq!(events.len(), 2);
    for (_, event) in events {
        assert_eq!(event["Properties"]["Path"].as_str(), Some("/oauth/consent"));
        assert!(
            event["Properties"]["Auth"].is_null(),
            "the default authorizer: the person is the signed-in user"
        );
    }
}
