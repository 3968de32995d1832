//! Settings, read from the environment once per cold start and nowhere else.

use std::time::Duration;

use crate::error::BoxError;

pub const DEFAULT_ACCOUNT_CLAIM: &str = "custom:account_id";
pub const DEFAULT_ROLE_CLAIM: &str = "custom:role";
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 120;
/// A change to an account (API access turned off, a tighter policy) reaches every MCP
/// instance within this.
pub const DEFAULT_ACCOUNT_CACHE: Duration = Duration::from_secs(30);
pub const DEFAULT_SECRET_SCANNING_KEYS_URL: &str =
    "https://api.github.com/meta/public_keys/secret_scanning";
/// The local development server's table when `TABLE_NAME` is unset.
pub const LOCAL_TABLE: &str = "knotie-local";

#[derive(Debug, Clone)]
pub struct Config {
    /// The DynamoDB table (`TABLE_NAME`).
    pub table: String,
    /// The JWT claim naming the user's account (`ACCOUNT_CLAIM`).
    pub account_claim: String,
    /// The JWT claim naming the user's role in the account (`ROLE_CLAIM`).
    pub role_claim: String,
    /// Calls a minute each MCP token may make (`MCP_RATE_LIMIT_PER_MINUTE`).
    pub rate_limit_per_minute: u32,
    /// How long an MCP instance keeps an account profile that grants access
    /// (`MCP_ACCOUNT_CACHE_SECONDS`, 0–30, default 30; 0: read on every call).
    pub account_cache: Duration,
    /// The MCP endpoint (`MCP_URL`): for the ready-to-paste client configurations, and the
    /// one resource MCP authorization's tokens are for. The MCP function itself needs it
    /// only behind a domain of its own; unset, it is the function URL's.
    pub mcp_url: Option<String>,
    /// The Secrets Manager secret holding the pepper (`PEPPER_SECRET_ID`); revoke gets none.
    pub pepper_secret_id: Option<String>,
    /// Browser origins allowed to call the MCP endpoint (`MCP_ALLOWED_ORIGINS`,
    /// comma-separated); a request with any other `Origin` gets 403. Desktop clients send
    /// none.
    pub allowed_origins: Vec<String>,
    /// `Host` values the MCP endpoint serves (`MCP_ALLOWED_HOSTS`); `None` serves any (a
    /// function URL routes by host already); the local server lists loopback names only,
    /// against DNS rebinding.
    pub allowed_hosts: Option<Vec<String>>,
    /// GitHub's secret scanning public keys (`SECRET_SCANNING_KEYS_URL`).
    pub secret_scanning_keys_url: String,
    /// Whether requests write their CloudWatch EMF line: in Lambda
    /// (`AWS_LAMBDA_FUNCTION_NAME` is set), not on the local server.
    pub emit_metrics: bool,
    /// MCP authorization's consent page (`OAUTH_CONSENT_URL`): the web app's page that
    /// mounts the consent section, where a signed-in user allows or denies an app. Set,
    /// the MCP endpoint's origin is an authorization server too (its issuer): it serves
    /// the protected resource and server metadata, registration, tokens and revocation,
    /// and points clients that come without a token there; unset, it has no OAuth.
    pub oauth_consent_url: Option<String>,
    /// Whether client metadata documents are also read from this machine over plain
    /// HTTP: only the local server's (its tests serve documents on loopback). Deployed,
    /// only https from public addresses.
    pub oauth_local_documents: bool,
}

/// The settings of a deployment that sets nothing but its table.
impl Default for Config {
    fn default() -> Config {
        Config {
            table: String::new(),
            account_claim: DEFAULT_ACCOUNT_CLAIM.into(),
            role_claim: DEFAULT_ROLE_CLAIM.into(),
            rate_limit_per_minute: DEFAULT_RATE_LIMIT_PER_MINUTE,
            account_cache: DEFAULT_ACCOUNT_CACHE,
            mcp_url: None,
            pepper_secret_id: None,
            allowed_origins: Vec::new(),
            allowed_hosts: None,
            secret_scanning_keys_url: DEFAULT_SECRET_SCANNING_KEYS_URL.into(),
            emit_metrics: false,
            oauth_consent_url: None,
            oauth_local_documents: false,
        }
    }
}

impl Config {
    pub fn from_env() -> Result<Config, BoxError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// The settings from any source of variables; empty values count as unset.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Config, BoxError> {
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        let list = |name: &str| {
            var(name).map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
        };
        // What an OAuth client is sent to must not be readable or changeable on the way.
        let url = |name: &str| -> Result<Option<String>, BoxError> {
            match var(name) {
                Some(url) if !is_https_or_loopback(&url) => {
                    Err(format!("{name} must be an https:// URL").into())
                }
                other => Ok(other),
            }
        };
        Ok(Config {
            table: var("TABLE_NAME").ok_or("the environment variable TABLE_NAME must be set")?,
            account_claim: var("ACCOUNT_CLAIM").unwrap_or_else(|| DEFAULT_ACCOUNT_CLAIM.into()),
            role_claim: var("ROLE_CLAIM").unwrap_or_else(|| DEFAULT_ROLE_CLAIM.into()),
            rate_limit_per_minute: match var("MCP_RATE_LIMIT_PER_MINUTE") {
                None => DEFAULT_RATE_LIMIT_PER_MINUTE,
                Some(v) => v.trim().parse().ok().filter(|n| *n > 0).ok_or(
                    "MCP_RATE_LIMIT_PER_MINUTE must be a whole number of calls, at least 1",
                )?,
            },
            account_cache: match var("MCP_ACCOUNT_CACHE_SECONDS") {
                None => DEFAULT_ACCOUNT_CACHE,
                Some(v) => v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|s| *s <= DEFAULT_ACCOUNT_CACHE.as_secs())
                    .map(Duration::from_secs)
                    .ok_or(
                        "MCP_ACCOUNT_CACHE_SECONDS must be a whole number of seconds from 0 to 30",
                    )?,
            },
            mcp_url: var("MCP_URL"),
            pepper_secret_id: var("PEPPER_SECRET_ID"),
            allowed_origins: list("MCP_ALLOWED_ORIGINS").unwrap_or_default(),
            allowed_hosts: list("MCP_ALLOWED_HOSTS"),
            secret_scanning_keys_url: match var("SECRET_SCANNING_KEYS_URL") {
                None => DEFAULT_SECRET_SCANNING_KEYS_URL.into(),
                Some(url) if is_https_or_loopback(&url) => url,
                Some(_) => return Err(
                    "SECRET_SCANNING_KEYS_URL must be an https:// URL: the keys that say a leak report is GitHub's must not be readable by anyone on the way".into(),
                ),
            },
            emit_metrics: var("AWS_LAMBDA_FUNCTION_NAME").is_some(),
            oauth_consent_url: url("OAUTH_CONSENT_URL")?,
            oauth_local_documents: false,
        })
    }

    /// The local development server's settings (serving on `port`): the same variables,
    /// parsing and bounds as a function's, so a value a deployment would refuse is refused
    /// here too. What differs on a developer's machine: the table defaults to
    /// [`LOCAL_TABLE`] and `MCP_URL` to the server's own endpoint; there is no pepper
    /// secret (the server passes a fixed pepper); `Origin` and `Host` are loopback only,
    /// whatever the environment says, against DNS rebinding — browsers on this machine
    /// may call it (the Settings page, the MCP Inspector); and no metrics, which are
    /// CloudWatch's, so the terminal stays readable.
    pub fn local(port: u16, var: impl Fn(&str) -> Option<String>) -> Result<Config, BoxError> {
        let set = |name: &str| var(name).filter(|v| !v.is_empty());
        let config = Config::from_lookup(|name| {
            set(name).or_else(|| match name {
                "TABLE_NAME" => Some(LOCAL_TABLE.to_owned()),
                "MCP_URL" => Some(format!("http://127.0.0.1:{port}/mcp")),
                "OAUTH_CONSENT_URL" => Some(format!("http://127.0.0.1:{port}/oauth/authorize")),
                _ => None,
            })
        })?;
        Ok(Config {
            pepper_secret_id: None,
            allowed_origins: vec!["http://127.0.0.1:*".into(), "http://localhost:*".into()],
            allowed_hosts: Some(vec!["127.0.0.1".into(), "localhost".into(), "::1".into()]),
            emit_metrics: false,
            oauth_local_documents: true,
            ..config
        })
    }
}

/// `https://…`, or plain HTTP to this very machine (the local stack's and the tests' key
/// servers): nothing can read or change it on the way.
fn is_https_or_loopback(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..host_end];
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => authority,
    };
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_from_the_variables_with_defaults() {
        let vars = |name: &str| match name {
            "TABLE_NAME" => Some("t".to_owned()),
            "MCP_URL" => Some(String::new()),
            "MCP_ALLOWED_ORIGINS" => Some(" https://a.example , ,https://b.example".to_owned()),
            _ => None,
        };
        let config = Config::from_lookup(vars).unwrap();
        assert_eq!(config.table, "t");
        assert_eq!(config.account_claim, DEFAULT_ACCOUNT_CLAIM);
        assert_eq!(config.role_claim, DEFAULT_ROLE_CLAIM);
        assert_eq!(config.rate_limit_per_minute, 120);
        assert_eq!(config.account_cache, Duration::from_secs(30));
        assert_eq!(config.mcp_url, None);
        assert_eq!(
            config.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(config.allowed_hosts, None);
        let zero = Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some("t".to_owned()),
            "MCP_RATE_LIMIT_PER_MINUTE" => Some("0".to_owned()),
            _ => None,
        });
        assert!(zero.unwrap_err().to_string().contains("at least 1"));
        let missing = Config::from_lookup(|_| None).unwrap_err().to_string();
        assert!(missing.contains("TABLE_NAME"), "{missing}");
    }

    fn only(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_account_cache_is_bounded_to_30_seconds() {
        let at = |seconds: &'static str| {
            Config::from_lookup(move |name| match name {
                "TABLE_NAME" => Some("t".to_owned()),
                "MCP_ACCOUNT_CACHE_SECONDS" => Some(seconds.to_owned()),
                _ => None,
            })
        };
        assert_eq!(at("0").unwrap().account_cache, Duration::ZERO);
        assert_eq!(at(" 30 ").unwrap().account_cache, Duration::from_secs(30));
        for refused in ["31", "-1", "ten"] {
            let message = at(refused).unwrap_err().to_string();
            assert!(message.contains("from 0 to 30"), "{refused}: {message}");
        }
    }

    #[test]
    fn the_local_server_defaults_to_its_own_table_endpoint_and_loopback() {
        let config = Config::local(3000, |_| None).unwrap();
        assert_eq!(config.table, LOCAL_TABLE);
        assert_eq!(config.mcp_url.as_deref(), Some("http://127.0.0.1:3000/mcp"));
        assert_eq!(config.account_claim, DEFAULT_ACCOUNT_CLAIM);
        assert_eq!(config.role_claim, DEFAULT_ROLE_CLAIM);
        assert_eq!(config.rate_limit_per_minute, DEFAULT_RATE_LIMIT_PER_MINUTE);
        assert_eq!(config.account_cache, DEFAULT_ACCOUNT_CACHE);
        assert_eq!(
            config.secret_scanning_keys_url,
            DEFAULT_SECRET_SCANNING_KEYS_URL
        );
        assert_eq!(config.pepper_secret_id, None);
        assert_eq!(
            config.allowed_origins,
            ["http://127.0.0.1:*", "http://localhost:*"]
        );
        assert_eq!(
            config.allowed_hosts.as_deref(),
            Some(&["127.0.0.1".to_owned(), "localhost".into(), "::1".into()][..])
        );
        assert!(!config.emit_metrics);
        let other_port = Config::local(4100, |_| None).unwrap();
        assert_eq!(
            other_port.mcp_url.as_deref(),
            Some("http://127.0.0.1:4100/mcp")
        );
    }

    #[test]
    fn the_local_server_reads_the_variables_a_function_reads() {
        let config = Config::local(
            3000,
            only(&[
                ("TABLE_NAME", "mine"),
                ("MCP_URL", "http://127.0.0.1:9/mcp"),
                ("ACCOUNT_CLAIM", "custom:org"),
                ("ROLE_CLAIM", "custom:org_role"),
                ("MCP_RATE_LIMIT_PER_MINUTE", "5"),
                ("MCP_ACCOUNT_CACHE_SECONDS", "0"),
                ("SECRET_SCANNING_KEYS_URL", "http://127.0.0.1:9/keys"),
                // What a developer's machine never takes from its environment:
                ("PEPPER_SECRET_ID", "prod-pepper"),
                ("MCP_ALLOWED_ORIGINS", "https://evil.example"),
                ("MCP_ALLOWED_HOSTS", "evil.example"),
                ("AWS_LAMBDA_FUNCTION_NAME", "mcp"),
            ]),
        )
        .unwrap();
        assert_eq!(config.table, "mine");
        assert_eq!(config.mcp_url.as_deref(), Some("http://127.0.0.1:9/mcp"));
        assert_eq!(config.account_claim, "custom:org");
        assert_eq!(config.role_claim, "custom:org_role");
        assert_eq!(config.rate_limit_per_minute, 5);
        assert_eq!(config.account_cache, Duration::ZERO);
        assert_eq!(config.secret_scanning_keys_url, "http://127.0.0.1:9/keys");
        assert_eq!(config.pepper_secret_id, None);
        assert_eq!(
            config.allowed_origins,
            ["http://127.0.0.1:*", "http://localhost:*"]
        );
        assert!(!config
            .allowed_hosts
            .unwrap()
            .contains(&"evil.example".to_owned()));
        assert!(!config.emit_metrics);
        // An empty value is unset, as for a function.
        let empty = Config::local(3000, only(&[("TABLE_NAME", "")])).unwrap();
        assert_eq!(empty.table, LOCAL_TABLE);
    }

    #[test]
    fn the_local_server_refuses_what_a_function_refuses() {
        let cache = Config::local(3000, only(&[("MCP_ACCOUNT_CACHE_SECONDS", "120")]));
        assert!(cache.unwrap_err().to_string().contains("from 0 to 30"));
        let rate = Config::local(3000, only(&[("MCP_RATE_LIMIT_PER_MINUTE", "0")]));
        assert!(rate.unwrap_err().to_string().contains("at least 1"));
    }

    #[test]
    fn the_keys_url_is_https_or_this_machine() {
        for ok in [
            "https://api.github.com/meta/public_keys/secret_scanning",
            "http://127.0.0.1:4000/keys",
            "http://localhost/keys",
            "http://[::1]:80/keys",
        ] {
            assert!(is_https_or_loopback(ok), "{ok}");
        }
        for bad in [
            "http://api.github.com/meta/public_keys/secret_scanning",
            "http://127.0.0.1.evil.example/keys",
            "http://localhost@evil.example/keys",
            "ftp://127.0.0.1/keys",
            "api.github.com",
        ] {
            assert!(!is_https_or_loopback(bad), "{bad}");
        }
        let refused = Config::from_lookup(only(&[
            ("TABLE_NAME", "t"),
            ("SECRET_SCANNING_KEYS_URL", "http://api.github.com/keys"),
        ]))
        .unwrap_err();
        assert!(refused.to_string().contains("https://"), "{refused}");
    }
}
