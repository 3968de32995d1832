//! Stands in for API Gateway and the function URL: turns an HTTP request into the payload
//! v2 event Lambda would receive — route key, path parameters, and for the management
//! routes the JWT authorizer's claims. The claims are the one thing faked: the account,
//! user and role named by `x-dev-account`, `x-dev-user` and `x-dev-role` (defaults
//! `acct_demo`, `user_dev`, `owner`). Deployed functions never read them; the MCP
//! endpoint, like its function URL, gets no claims and checks its bearer token.

use http::{HeaderMap, Method};
use lambda_http::Request;
use serde_json::{json, Map, Value};

pub const DEV_ACCOUNT_HEADER: &str = "x-dev-account";
pub const DEFAULT_ACCOUNT: &str = "acct_demo";
pub const DEV_USER_HEADER: &str = "x-dev-user";
pub const DEV_USER: &str = "user_dev";
pub const DEV_ROLE_HEADER: &str = "x-dev-role";
pub const DEV_ROLE: &str = "owner";

/// What a request is for, as API Gateway and the function URL would route it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// A management route, and its `{id}` path parameter.
    Api(Api, Option<&'a str>),
    /// The MCP endpoint, any method: its handler answers GET and DELETE itself (405).
    Mcp,
    /// The public leak routes (no authorizer): GitHub's reports, holders' reports.
    Leaks,
    /// A file of the Settings page (`web/dist`), with its content type.
    Page(&'static str, &'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Generate,
    Rotate,
    List,
    Revoke,
    RevokeUser,
    Events,
    Policy,
    /// The consent page's API (`GET`/`POST /oauth/consent`), served by the consent function.
    Consent,
}

impl Route<'_> {
    /// The route of a request, or `None` for a path nothing serves.
    pub fn matching<'a>(method: &Method, path: &'a str) -> Option<Route<'a>> {
        let path = path.trim_end_matches('/');
        match (method, path) {
            // The function URL's origin is MCP authorization's server too: the metadata,
            // registration, tokens and revocation beside /mcp.
            (_, "/mcp")
            | (
                _,
                "/.well-known/oauth-protected-resource"
                | "/.well-known/oauth-protected-resource/mcp"
                | "/.well-known/oauth-authorization-server",
            )
            | (&Method::POST, "/oauth/register" | "/oauth/token" | "/oauth/revoke") => {
                Some(Route::Mcp)
            }
            (&Method::GET | &Method::POST, "/oauth/consent") => {
                Some(Route::Api(Api::Consent, None))
            }
            // The web app's page that mounts the consent section.
            (&Method::GET, "/oauth/authorize") => {
                Some(Route::Page("consent.html", "text/html; charset=utf-8"))
            }
            (&Method::GET, "/consent.js") => {
                Some(Route::Page("consent.js", "text/javascript; charset=utf-8"))
            }
            (&Method::POST, "/secret-scanning/github" | "/credentials/revoke") => {
                Some(Route::Leaks)
            }
            (&Method::GET, "" | "/index.html") => {
                Some(Route::Page("index.html", "text/html; charset=utf-8"))
            }
            (&Method::GET, "/mcp-tokens.js") => Some(Route::Page(
                "mcp-tokens.js",
                "text/javascript; charset=utf-8",
            )),
            (&Method::GET, "/mcp-tokens.css") => {
                Some(Route::Page("mcp-tokens.css", "text/css; charset=utf-8"))
            }
            (&Method::POST, "/mcp-tokens") => Some(Route::Api(Api::Generate, None)),
            (&Method::POST, "/mcp-tokens/revoke-user") => Some(Route::Api(Api::RevokeUser, None)),
            (&Method::GET, "/mcp-tokens") => Some(Route::Api(Api::List, None)),
            (&Method::GET | &Method::PUT, "/mcp-tokens/policy") => {
                Some(Route::Api(Api::Policy, None))
            }
            (&Method::POST, p) => {
                let id = p.strip_prefix("/mcp-tokens/")?.strip_suffix("/rotate")?;
                (!id.is_empty() && !id.contains('/')).then_some(Route::Api(Api::Rotate, Some(id)))
            }
            (&Method::GET, p) => {
                let id = p.strip_prefix("/mcp-tokens/")?.strip_suffix("/events")?;
                (!id.is_empty() && !id.contains('/')).then_some(Route::Api(Api::Events, Some(id)))
            }
            (&Method::DELETE, p) => {
                let id = p.strip_prefix("/mcp-tokens/")?;
                (!id.is_empty() && !id.contains('/')).then_some(Route::Api(Api::Revoke, Some(id)))
            }
            _ => None,
        }
    }
}

impl Api {
    fn key(self) -> &'static str {
        match self {
            Api::Generate => "POST /mcp-tokens",
            Api::Rotate => "POST /mcp-tokens/{id}/rotate",
            Api::List => "GET /mcp-tokens",
            Api::Revoke => "DELETE /mcp-tokens/{id}",
            Api::RevokeUser => "POST /mcp-tokens/revoke-user",
            Api::Events => "GET /mcp-tokens/{id}/events",
            Api::Policy => "ANY /mcp-tokens/policy",
            Api::Consent => "ANY /oauth/consent",
        }
    }
}

/// Builds the event API Gateway would send and parses it the way `lambda_http` does.
#[allow(clippy::too_many_arguments)]
pub fn to_lambda_request(
    route: Api,
    id: Option<&str>,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    config: &knotie::config::Config,
) -> Result<Request, serde_json::Error> {
    let mut header_map = Map::new();
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            header_map.insert(name.as_str().to_owned(), value.into());
        }
    }
    let dev = |name: &str, default: &'static str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(default)
            .to_owned()
    };
    let mut claims = Map::new();
    claims.insert("sub".into(), dev(DEV_USER_HEADER, DEV_USER).into());
    claims.insert(
        config.account_claim.clone(),
        dev(DEV_ACCOUNT_HEADER, DEFAULT_ACCOUNT).into(),
    );
    claims.insert(
        config.role_claim.clone(),
        dev(DEV_ROLE_HEADER, DEV_ROLE).into(),
    );
    let query_params: Map<String, Value> = query
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), Value::from(v.into_owned())))
                .collect()
        })
        .unwrap_or_default();
    let (body, is_base64) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => {
            use base64::Engine;
            (base64::engine::general_purpose::STANDARD.encode(body), true)
        }
    };
    let event = json!({
        "version": "2.0",
        "routeKey": route.key(),
        "rawPath": path,
        "rawQueryString": query.unwrap_or_default(),
        "headers": header_map,
        "queryStringParameters": if query_params.is_empty() { Value::Null } else { query_params.into() },
        "pathParameters": id.map(|id| json!({ "id": id })),
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "authorizer": { "jwt": { "claims": claims, "scopes": null } },
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method.as_str(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or(""),
            },
            "requestId": "local",
            "routeKey": route.key(),
            "stage": "$default",
            "time": "",
            "timeEpoch": 0,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    });
    lambda_http::request::from_str(&event.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_like_the_http_api_and_the_function_url() {
        let api = |api, id| Some(Route::Api(api, id));
        assert_eq!(
            Route::matching(&Method::POST, "/mcp-tokens"),
            api(Api::Generate, None)
        );
        assert_eq!(
            Route::matching(&Method::GET, "/mcp-tokens/"),
            api(Api::List, None)
        );
        assert_eq!(
            Route::matching(&Method::DELETE, "/mcp-tokens/tok_1"),
            api(Api::Revoke, Some("tok_1"))
        );
        assert_eq!(
            Route::matching(&Method::POST, "/mcp-tokens/tok_1/rotate"),
            api(Api::Rotate, Some("tok_1"))
        );
        assert_eq!(Route::matching(&Method::POST, "/mcp-tokens//rotate"), None);
        assert_eq!(
            Route::matching(&Method::POST, "/mcp-tokens/a/b/rotate"),
            None
        );
        assert_eq!(Route::matching(&Method::DELETE, "/mcp-tokens/"), None);
        assert_eq!(Route::matching(&Method::PUT, "/mcp-tokens"), None);
        assert_eq!(
            Route::matching(&Method::PUT, "/mcp-tokens/policy"),
            api(Api::Policy, None)
        );
        assert_eq!(
            Route::matching(&Method::GET, "/mcp-tokens/policy"),
            api(Api::Policy, None)
        );
        assert_eq!(Route::matching(&Method::GET, "/mcp"), Some(Route::Mcp));
        assert!(matches!(
            Route::matching(&Method::GET, "/"),
            Some(Route::Page("index.html", _))
        ));
        assert_eq!(Route::matching(&Method::GET, "/../Cargo.toml"), None);
        assert_eq!(
            Route::matching(&Method::GET, "/.well-known/oauth-protected-resource/mcp"),
            Some(Route::Mcp)
        );
        assert_eq!(
            Route::matching(&Method::POST, "/oauth/token"),
            Some(Route::Mcp)
        );
        assert_eq!(Route::matching(&Method::GET, "/oauth/token"), None);
        assert_eq!(
            Route::matching(&Method::POST, "/oauth/consent"),
            api(Api::Consent, None)
        );
    }
}
