//! Which browsers may call: the `Origin` and `Host` allow-lists, checked before anything
//! else — before authentication and before any write — by the MCP endpoint, and by the
//! local server on every route (a page on another site, or a DNS-rebound name, gets 403).
//! Desktop clients send no `Origin`, and are not refused for lacking one.

use http::{header, HeaderMap, Uri};

use crate::config::Config;

/// Why a request is refused, for the 403's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("this origin may not call this endpoint")]
    Origin,
    #[error("this host name is not served here")]
    Host,
}

/// Checks the request's `Origin` (when sent) against the allowed origins and its `Host`
/// against the allowed hosts (when the configuration lists them).
pub fn check(headers: &HeaderMap, config: &Config) -> Result<(), Refused> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().ok().map(str::trim);
        // Sandboxed pages and file URLs send `null`: only an explicit `null` admits them.
        let allowed = match origin {
            Some("null") => config.allowed_origins.iter().any(|a| a.trim() == "null"),
            other => other
                .and_then(Endpoint::parse)
                .is_some_and(|o| config.allowed_origins.iter().any(|a| o.matches(a))),
        };
        if !allowed {
            return Err(Refused::Origin);
        }
    }
    if let Some(hosts) = &config.allowed_hosts {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.parse::<http::uri::Authority>().ok());
        let allowed = host.is_some_and(|h| {
            let name = h.host().trim_matches(['[', ']']);
            hosts
                .iter()
                .any(|a| host_name(a).eq_ignore_ascii_case(name))
        });
        if !allowed {
            return Err(Refused::Host);
        }
    }
    Ok(())
}

/// The name of an allowed host as configured: `::1`, `[::1]`, `localhost:3000` → the
/// name alone (any port is served).
fn host_name(allowed: &str) -> &str {
    let allowed = allowed.trim();
    if let Some(rest) = allowed.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match allowed.split_once(':') {
        Some((name, port)) if !port.contains(':') => name,
        // A bare name, or an IPv6 address without brackets.
        _ => allowed,
    }
}

/// An origin as scheme, host and port (the scheme's default when not written).
#[derive(Debug, PartialEq, Eq)]
struct Endpoint {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Endpoint {
    fn parse(origin: &str) -> Option<Endpoint> {
        let uri: Uri = origin.trim().parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let authority = uri.authority()?;
        // An origin is scheme://host[:port] and nothing else.
        if uri
            .path_and_query()
            .is_some_and(|p| !matches!(p.as_str(), "" | "/"))
            || authority.as_str().contains('@')
        {
            return None;
        }
        let port = authority.port_u16().or(match scheme.as_str() {
            "https" => Some(443),
            "http" => Some(80),
            _ => None,
        });
        Some(Endpoint {
            host: authority.host().to_ascii_lowercase(),
            scheme,
            port,
        })
    }

    /// Whether an allow-list entry admits this origin; `scheme://host:*` admits any port.
    fn matches(&self, allowed: &str) -> bool {
        let allowed = allowed.trim();
        match allowed.strip_suffix(":*") {
            Some(base) => Endpoint::parse(base)
                .is_some_and(|a| a.scheme == self.scheme && a.host == self.host),
            None => Endpoint::parse(allowed).is_some_and(|a| a == *self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn config(origins: &[&str], hosts: Option<&[&str]>) -> Config {
        Config {
            allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
            allowed_hosts: hosts.map(|h| h.iter().map(|h| h.to_string()).collect()),
            ..Config::default()
        }
    }

    fn headers(origin: Option<&str>, host: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in [(header::ORIGIN, origin), (header::HOST, host)] {
            if let Some(value) = value {
                headers.insert(name, HeaderValue::from_str(value).unwrap());
            }
        }
        headers
    }

    #[test]
    fn origins_match_exactly_or_by_any_port() {
        let c = config(&["https://app.knotie.example", "http://127.0.0.1:*"], None);
        let check = |origin| check(&headers(Some(origin), None), &c);
        assert_eq!(check("https://app.knotie.example"), Ok(()));
        assert_eq!(check("https://APP.knotie.example:443"), Ok(()));
        assert_eq!(check("http://127.0.0.1:3000"), Ok(()));
        for refused in [
            "https://evil.example",
            "http://app.knotie.example",
            "https://app.knotie.example:8443",
            "https://app.knotie.example.evil.example",
            "http://localhost:3000",
            "null",
            "",
            "https://app.knotie.example/path",
        ] {
            assert_eq!(check(refused), Err(Refused::Origin), "{refused}");
        }
    }

    #[test]
    fn no_origin_is_a_desktop_client_and_passes() {
        assert_eq!(check(&headers(None, None), &config(&[], None)), Ok(()));
        let sandboxed = config(&["null"], None);
        assert_eq!(check(&headers(Some("null"), None), &sandboxed), Ok(()));
        let c = config(&[], None);
        assert_eq!(
            check(&headers(Some("https://a.example"), None), &c),
            Err(Refused::Origin)
        );
    }

    #[test]
    fn hosts_are_checked_only_when_listed() {
        let c = config(&[], Some(&["127.0.0.1", "localhost", "::1"]));
        let check = |host| check(&headers(None, host), &c);
        assert_eq!(check(Some("127.0.0.1:3000")), Ok(()));
        assert_eq!(check(Some("LOCALHOST")), Ok(()));
        assert_eq!(check(Some("[::1]:3000")), Ok(()));
        assert_eq!(check(Some("rebound.evil.example:3000")), Err(Refused::Host));
        assert_eq!(check(None), Err(Refused::Host));
        let any = config(&[], None);
        assert_eq!(
            super::check(&headers(None, Some("x.lambda-url.on.aws")), &any),
            Ok(())
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_origin_or_host_is_judged_without_panicking(origin in "[ -~]{0,60}", host in "[ -~]{0,60}") {
                let c = config(&["https://app.knotie.example", "http://127.0.0.1:*"], Some(&["127.0.0.1"]));
                let result = check(&headers(Some(&origin), Some(&host)), &c);
                if result.is_ok() {
                    prop_assert!(origin.to_ascii_lowercase().contains("app.knotie.example") || origin.contains("127.0.0.1"));
                }
            }
        }
    }
}
