//! The rules of MCP authorization (OAuth 2.1 as the MCP specification of 2025-11-25 uses
//! it) that need no storage: PKCE with S256 only (RFC 7636), the redirect URIs a public
//! client may use and how one is matched (RFC 8252: https, or loopback with any port), the
//! `resource` a token is bound to (RFC 8707), the scopes asked for, and the errors the
//! RFCs name. The endpoints that use them are issue #21's next slices; each decision here
//! is what they call.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::digest::{digest, SHA256};
use serde_json::{json, Value};

use super::scope::Scopes;

/// An OAuth error, as the RFCs name it: its `error` code and a description a developer
/// can act on. Never a 5xx: these are the caller's mistakes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    pub code: &'static str,
    pub description: String,
}

impl OAuthError {
    fn new(code: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            code,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_request", description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_grant", description)
    }

    /// The body of an error response (RFC 6749 §5.2).
    pub fn to_json(&self) -> Value {
        json!({ "error": self.code, "error_description": self.description })
    }
}

/// A PKCE code challenge, S256 only: the plain method lets whoever sees the authorization
/// request redeem the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// `code_challenge` and `code_challenge_method` of an authorization request.
    pub fn parse(
        challenge: Option<&str>,
        method: Option<&str>,
    ) -> Result<CodeChallenge, OAuthError> {
        match method {
            Some("S256") => {}
            None | Some("plain") => return Err(OAuthError::invalid_request(
                "code_challenge_method must be S256: PKCE is required, and plain is not accepted",
            )),
            Some(other) => {
                return Err(OAuthError::invalid_request(format!(
                    "code_challenge_method {other:?} is not supported; use S256"
                )))
            }
        }
        let challenge = challenge.ok_or_else(|| {
            OAuthError::invalid_request("code_challenge is required (PKCE, S256)")
        })?;
        // A SHA-256 digest, base64url without padding: 43 characters of that alphabet.
        let decoded = URL_SAFE_NO_PAD.decode(challenge).ok();
        if challenge.len() != 43 || decoded.is_none_or(|d| d.len() != 32) {
            return Err(OAuthError::invalid_request(
                "code_challenge must be the base64url SHA-256 of the code verifier (43 characters)",
            ));
        }
        Ok(CodeChallenge(challenge.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `verifier` (the token request's `code_verifier`) is the one this challenge
    /// was made from; a malformed verifier is not.
    pub fn verifies(&self, verifier: &str) -> bool {
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        // Challenges are public (they travel in the authorization request): no secret
        // is compared here.
        well_formed && URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes())) == self.0
    }
}

/// The longest redirect URI accepted.
const MAX_REDIRECT_URI: usize = 2000;

/// A redirect URI a public client may register: https, or http to a loopback address
/// (a native app's local listener, RFC 8252 §7.3); never a fragment or user info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(uri: &str) -> Result<RedirectUri, OAuthError> {
        let bad = |why: &str| OAuthError::new("invalid_redirect_uri", format!("{uri:?} {why}"));
        if uri.len() > MAX_REDIRECT_URI {
            return Err(bad("is too long"));
        }
        if uri.contains('#') {
            return Err(bad("has a fragment, which a redirect URI must not have"));
        }
        let parsed: http::Uri = uri.parse().map_err(|_| bad("is not an absolute URI"))?;
        let authority = parsed
            .authority()
            .ok_or_else(|| bad("is not an absolute URI"))?;
        if authority.as_str().contains('@') {
            return Err(bad("carries user info"));
        }
        match parsed.scheme_str() {
            Some("https") => {}
            Some("http") if is_loopback(authority.host()) => {}
            Some("http") => return Err(bad("must be https, or http to a loopback address")),
            _ => return Err(bad("must be https, or http to a loopback address")),
        }
        Ok(RedirectUri(uri.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether an authorization request's `redirect_uri` is this registered one: the
    /// same string, except that a loopback URI may name any port (the client's listener
    /// gets one when it starts).
    pub fn matches(&self, asked: &str) -> bool {
        if asked == self.0 {
            return true;
        }
        let (Ok(registered), Ok(asked)) = (self.0.parse::<http::Uri>(), asked.parse::<http::Uri>())
        else {
            return false;
        };
        let loopback =
            |u: &http::Uri| u.scheme_str() == Some("http") && u.host().is_some_and(is_loopback);
        loopback(&registered)
            && loopback(&asked)
            && registered.host() == asked.host()
            && registered.path_and_query() == asked.path_and_query()
            && !asked.to_string().contains('#')
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a request's `resource` (RFC 8707) names this server's MCP endpoint: the tokens
/// it issues are for `mcp_url` and nothing else. A trailing slash is the same resource.
pub fn resource_is(asked: Option<&str>, mcp_url: &str) -> Result<(), OAuthError> {
    let trim = |s: &str| s.trim_end_matches('/').to_owned();
    match asked {
        Some(asked) if trim(asked) == trim(mcp_url) => Ok(()),
        Some(asked) => Err(OAuthError::new(
            "invalid_target",
            format!("resource {asked:?} is not this server; tokens here are for {mcp_url}"),
        )),
        None => Err(OAuthError::invalid_request(format!(
            "resource is required: {mcp_url}"
        ))),
    }
}

/// The `scope` of a request: scope names separated by spaces; absent or empty asks for
/// all (what is granted is then narrowed by the account's policy and the user's role).
pub fn parse_scope(scope: Option<&str>) -> Result<Option<Scopes>, OAuthError> {
    let names: Vec<&str> = scope
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return Ok(None);
    }
    Scopes::parse(names)
        .map(Some)
        .map_err(|e| OAuthError::new("invalid_scope", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636, Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn pkce_is_s256_and_verifies_the_rfcs_example() {
        let challenge = CodeChallenge::parse(Some(CHALLENGE), Some("S256")).unwrap();
        assert!(challenge.verifies(VERIFIER));
        assert!(!challenge.verifies(&VERIFIER.replace('d', "e")));
        assert!(!challenge.verifies(""));
        assert!(
            !challenge.verifies(CHALLENGE),
            "the challenge is not its own verifier"
        );
        for (c, m) in [
            (Some(CHALLENGE), None),
            (Some(CHALLENGE), Some("plain")),
            (Some(CHALLENGE), Some("s256")),
            (None, Some("S256")),
            (Some("short"), Some("S256")),
            (Some(&CHALLENGE[1..]), Some("S256")),
            (
                Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"),
                Some("S256"),
            ),
        ] {
            let err = CodeChallenge::parse(c, m).unwrap_err();
            assert_eq!(err.code, "invalid_request", "{c:?} {m:?}");
        }
    }

    #[test]
    fn redirect_uris_are_https_or_loopback_and_loopback_ports_may_vary() {
        for good in [
            "https://claude.ai/api/mcp/auth_callback",
            "http://127.0.0.1:33418/callback",
            "http://localhost:8080/cb?x=1",
            "http://[::1]:9000/",
        ] {
            assert!(RedirectUri::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "http://example.com/cb",
            "https://example.com/cb#frag",
            "https://user@example.com/cb",
            "javascript:alert(1)",
            "/relative",
            "custom-scheme://cb",
            "",
        ] {
            assert_eq!(
                RedirectUri::parse(bad).unwrap_err().code,
                "invalid_redirect_uri",
                "{bad}"
            );
        }
        let loopback = RedirectUri::parse("http://127.0.0.1:33418/callback").unwrap();
        assert!(loopback.matches("http://127.0.0.1:51000/callback"));
        assert!(!loopback.matches("http://127.0.0.1:51000/other"));
        assert!(
            !loopback.matches("http://localhost:51000/callback"),
            "the same host"
        );
        let https = RedirectUri::parse("https://claude.ai/api/mcp/auth_callback").unwrap();
        assert!(https.matches("https://claude.ai/api/mcp/auth_callback"));
        for other in [
            "https://claude.ai/api/mcp/auth_callback/",
            "https://claude.ai.evil.example/api/mcp/auth_callback",
            "https://claude.ai:444/api/mcp/auth_callback",
        ] {
            assert!(!https.matches(other), "{other}");
        }
    }

    #[test]
    fn the_resource_is_this_servers_mcp_endpoint_and_scopes_are_known_names() {
        let mcp = "https://abc.lambda-url.eu-west-1.on.aws/mcp";
        assert!(resource_is(Some(mcp), mcp).is_ok());
        assert!(resource_is(Some(&format!("{mcp}/")), mcp).is_ok());
        assert_eq!(
            resource_is(Some("https://other.example/mcp"), mcp)
                .unwrap_err()
                .code,
            "invalid_target"
        );
        assert_eq!(resource_is(None, mcp).unwrap_err().code, "invalid_request");
        assert_eq!(parse_scope(None).unwrap(), None);
        assert_eq!(parse_scope(Some("  ")).unwrap(), None);
        assert_eq!(
            parse_scope(Some("customers:read  analytics:read")).unwrap(),
            Some(Scopes::parse(["customers:read", "analytics:read"]).unwrap())
        );
        assert_eq!(
            parse_scope(Some("customers:read admin")).unwrap_err().code,
            "invalid_scope"
        );
        let body = OAuthError::invalid_grant("the code was used already").to_json();
        assert_eq!(
            body,
            json!({ "error": "invalid_grant", "error_description": "the code was used already" })
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever a client sends, each rule answers or names the RFC's error; only
            /// the verifier a challenge was made from verifies it.
            #[test]
            fn any_input_is_decided_without_a_panic(
                challenge in "\\PC{0,60}", method in "\\PC{0,8}", uri in "\\PC{0,80}",
                verifier in "[A-Za-z0-9._~-]{43,128}", other in "\\PC{0,130}",
            ) {
                if let Ok(c) = CodeChallenge::parse(Some(&challenge), Some(&method)) {
                    prop_assert_eq!(c.as_str().len(), 43);
                }
                if let Ok(r) = RedirectUri::parse(&uri) {
                    prop_assert!(r.as_str().starts_with("https://") || r.as_str().starts_with("http://"));
                    prop_assert!(!r.as_str().contains('#'));
                    prop_assert!(r.matches(&uri));
                }
                let made = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
                let challenge = CodeChallenge::parse(Some(&made), Some("S256")).unwrap();
                prop_assert!(challenge.verifies(&verifier));
                prop_assert_eq!(challenge.verifies(&other), other == verifier);
                let _ = parse_scope(Some(&other));
            }
        }
    }
}
