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

use serde::Deserialize;

use super::ids::{AccountId, TokenId};
use super::roles::Role;
use super::scope::Scopes;
use super::text::TextRule;
use super::time::Timestamp;

/// An OAuth error, as the RFCs name it: its `error` code and a description a developer
/// can act on. Never a 5xx: these are the caller's mistakes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    pub code: &'static str,
    pub description: String,
}

/// An OAuth endpoint's refusal: a 400 with the RFC's error code, which the OAuth routes
/// answer as `{"error", "error_description"}`.
impl From<OAuthError> for crate::error::Error {
    fn from(e: OAuthError) -> crate::error::Error {
        crate::error::Error::bad_request(e.code, e.description)
    }
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

    pub fn invalid_client(description: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_client", description)
    }

    pub fn access_denied(description: impl Into<String>) -> OAuthError {
        OAuthError::new("access_denied", description)
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
        // One audience only: a request that names none cannot widen it.
        None => Ok(()),
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

/// The longest value of any one parameter of an authorization or token request; URIs
/// are the longest legitimate ones.
pub const MAX_PARAM: usize = 2048;
/// The most redirect URIs a client may register.
pub const MAX_REDIRECT_URIS: usize = 5;
/// A client's name, as the consent page and the token list show it.
pub const CLIENT_NAME: TextRule = TextRule {
    max_chars: 64,
    multiline: false,
    code: "invalid_client_metadata",
};

/// How long an authorization code may wait for its exchange (RFC 6749 recommends at most
/// ten minutes; a client exchanges it within seconds).
pub const CODE_LIFETIME: time::Duration = time::Duration::minutes(5);
/// How long an access token works: an hour, then the client refreshes it.
pub const ACCESS_LIFETIME: time::Duration = time::Duration::hours(1);
/// How long a refresh token waits for its use; each use issues a new one.
pub const REFRESH_LIFETIME: time::Duration = time::Duration::days(90);
/// How long a registration is kept when no one authorizes with it.
pub const UNUSED_CLIENT_LIFETIME: time::Duration = time::Duration::days(30);

/// A public client (no secret, PKCE instead): who it says it is and where its codes may
/// go. Registered here (RFC 7591) or described by the document its id names (a Client ID
/// Metadata Document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub redirect_uris: Vec<RedirectUri>,
}

impl Client {
    /// Where this client's answer goes: the request's `redirect_uri` if it is one of the
    /// client's, or its only one when the request names none. `None`: nowhere — the
    /// error is shown to the person, never sent to a URI the client did not register.
    pub fn redirect(&self, asked: Option<&str>) -> Option<String> {
        match (asked, self.redirect_uris.as_slice()) {
            (Some(asked), uris) => uris
                .iter()
                .any(|u| u.matches(asked))
                .then(|| asked.to_owned()),
            (None, [only]) => Some(only.as_str().to_owned()),
            (None, _) => None,
        }
    }
}

/// Whether a client id is a URL: the client is described by the Client ID Metadata
/// Document there, not registered here.
pub fn is_document_client(client_id: &str) -> bool {
    client_id.starts_with("https://") || client_id.starts_with("http://")
}

/// A client id that names its metadata document, checked as the Client ID Metadata
/// Document draft asks: https, a path, no fragment, no credentials, no dot segments, at
/// most 2048 characters. (The local server also reads `http://` on loopback; the
/// fetcher decides which schemes and addresses it reaches.)
pub fn document_url(client_id: &str) -> Result<&str, OAuthError> {
    let bad = |why: &str| {
        Err(OAuthError::invalid_client(format!(
            "client_id {client_id:?} is not a usable client metadata document URL: {why}"
        )))
    };
    if client_id.len() > MAX_PARAM {
        return bad("it is too long");
    }
    let Ok(uri) = client_id.parse::<http::Uri>() else {
        return bad("it is not a URL");
    };
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    let path = uri.path();
    if client_id.contains('#') {
        return bad("it has a fragment");
    }
    if authority.is_empty() || authority.contains('@') {
        return bad("it must name a host, without credentials");
    }
    if path.is_empty() || path == "/" {
        return bad("it must have a path");
    }
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return bad("it has dot segments");
    }
    Ok(client_id)
}

/// What a client says of itself: a registration request (RFC 7591) or a metadata
/// document. Unknown fields are ignored, as RFC 7591 asks.
#[derive(Deserialize)]
struct ClientMetadata {
    client_id: Option<String>,
    redirect_uris: Option<Vec<String>>,
    client_name: Option<String>,
    token_endpoint_auth_method: Option<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
}

/// A client's description, validated: its name and redirect URIs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub name: String,
    pub redirect_uris: Vec<RedirectUri>,
}

impl Registration {
    /// A dynamic registration request (RFC 7591 §2): a public client using the
    /// authorization code grant.
    pub fn from_json(body: &[u8]) -> Result<Registration, OAuthError> {
        let metadata: ClientMetadata = serde_json::from_slice(body).map_err(|e| {
            OAuthError::new(
                "invalid_client_metadata",
                format!("the registration must be a JSON object of client metadata: {e}"),
            )
        })?;
        Registration::from_metadata(metadata)
    }

    /// A Client ID Metadata Document fetched from `url`: it must name itself by that URL.
    pub fn from_document(url: &str, body: &[u8]) -> Result<Registration, OAuthError> {
        let metadata: ClientMetadata = serde_json::from_slice(body).map_err(|e| {
            OAuthError::invalid_client(format!(
                "the client metadata document at {url} is not a JSON object of client metadata: {e}"
            ))
        })?;
        if metadata.client_id.as_deref() != Some(url) {
            return Err(OAuthError::invalid_client(format!(
                "the client metadata document at {url} must name itself: its client_id must be {url}"
            )));
        }
        Registration::from_metadata(metadata).map_err(|e| {
            OAuthError::invalid_client(format!(
                "the client metadata document at {url} is not usable: {}",
                e.description
            ))
        })
    }

    fn from_metadata(m: ClientMetadata) -> Result<Registration, OAuthError> {
        let invalid = |d: String| OAuthError::new("invalid_client_metadata", d);
        match m.token_endpoint_auth_method.as_deref() {
            None | Some("none") => {}
            Some(other) => {
                return Err(invalid(format!(
                    "token_endpoint_auth_method {other:?} is not supported: clients here are public (\"none\") and prove themselves with PKCE"
                )))
            }
        }
        let grants = m.grant_types.unwrap_or_default();
        if let Some(g) = grants
            .iter()
            .find(|g| !matches!(g.as_str(), "authorization_code" | "refresh_token"))
        {
            return Err(invalid(format!(
                "grant type {g:?} is not supported: authorization_code and refresh_token are"
            )));
        }
        if let Some(r) = m
            .response_types
            .unwrap_or_default()
            .iter()
            .find(|r| *r != "code")
        {
            return Err(invalid(format!(
                "response type {r:?} is not supported: code is"
            )));
        }
        let uris = m.redirect_uris.unwrap_or_default();
        if uris.is_empty() || uris.len() > MAX_REDIRECT_URIS {
            return Err(OAuthError::new(
                "invalid_redirect_uri",
                format!("redirect_uris must list 1 to {MAX_REDIRECT_URIS} URIs"),
            ));
        }
        let redirect_uris = uris
            .iter()
            .map(|u| RedirectUri::parse(u))
            .collect::<Result<Vec<_>, _>>()?;
        let name = match m.client_name {
            None => "MCP client".to_owned(),
            Some(name) => CLIENT_NAME
                .check("client_name", &name)
                .map_err(|e| invalid(e.to_string()))?,
        };
        Ok(Registration {
            name,
            redirect_uris,
        })
    }
}

/// An authorization request's parameters, read from its query string (RFC 6749 §4.1.1
/// with PKCE and RFC 8707's `resource`): which client, where its answer goes, and what it
/// asks for. The client and redirect URI are checked first, against the client, for an
/// error then must not be redirected; the rest decides what the redirect carries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    pub response_type: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub scope: Option<String>,
    pub resource: Option<String>,
}

/// What an authorization request asks for, once it is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub challenge: CodeChallenge,
    /// `None`: whatever the user may grant.
    pub scopes: Option<Scopes>,
}

impl AuthorizationRequest {
    /// The request of a query string or form; a parameter given twice, or longer than
    /// [`MAX_PARAM`], is an error no redirect may carry.
    pub fn parse(query: &[u8]) -> Result<AuthorizationRequest, OAuthError> {
        let mut req = AuthorizationRequest::default();
        let mut client_id = None;
        for (name, value) in single_params(query)? {
            let slot = match name.as_str() {
                "client_id" => &mut client_id,
                "redirect_uri" => &mut req.redirect_uri,
                "state" => &mut req.state,
                "response_type" => &mut req.response_type,
                "code_challenge" => &mut req.code_challenge,
                "code_challenge_method" => &mut req.code_challenge_method,
                "scope" => &mut req.scope,
                "resource" => &mut req.resource,
                _ => continue,
            };
            *slot = Some(value);
        }
        req.client_id =
            client_id.ok_or_else(|| OAuthError::invalid_request("client_id is required"))?;
        Ok(req)
    }

    /// What the request asks for, or the error its redirect carries.
    pub fn asked(&self, mcp_url: &str) -> Result<Asked, OAuthError> {
        match self.response_type.as_deref() {
            Some("code") => {}
            Some(other) => {
                return Err(OAuthError::new(
                    "unsupported_response_type",
                    format!("response_type {other:?} is not supported: use code"),
                ))
            }
            None => {
                return Err(OAuthError::invalid_request(
                    "response_type=code is required",
                ))
            }
        }
        let challenge = CodeChallenge::parse(
            self.code_challenge.as_deref(),
            self.code_challenge_method.as_deref(),
        )?;
        resource_is(self.resource.as_deref(), mcp_url)?;
        Ok(Asked {
            challenge,
            scopes: parse_scope(self.scope.as_deref())?,
        })
    }

    /// Where the answer to this request goes, with `params` and the state and issuer
    /// (RFC 9207) added to the redirect URI's own query.
    pub fn answer(&self, redirect: &str, issuer: &str, params: &[(&str, &str)]) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in params {
            query.append_pair(name, value);
        }
        if let Some(state) = &self.state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer);
        let separator = if redirect.contains('?') { '&' } else { '?' };
        format!("{redirect}{separator}{}", query.finish())
    }
}

/// A token request (RFC 6749 §4.1.3 and §6), form-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    Code {
        code: String,
        redirect_uri: Option<String>,
        client_id: Option<String>,
        verifier: Option<String>,
        resource: Option<String>,
    },
    Refresh {
        refresh_token: String,
        client_id: Option<String>,
        scope: Option<String>,
        resource: Option<String>,
    },
}

impl TokenRequest {
    pub fn parse(form: &[u8]) -> Result<TokenRequest, OAuthError> {
        let params = single_params(form)?;
        let take = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let required = |name: &str| {
            take(name).ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
        };
        match take("grant_type").as_deref() {
            Some("authorization_code") => Ok(TokenRequest::Code {
                code: required("code")?,
                redirect_uri: take("redirect_uri"),
                client_id: take("client_id"),
                verifier: take("code_verifier"),
                resource: take("resource"),
            }),
            Some("refresh_token") => Ok(TokenRequest::Refresh {
                refresh_token: required("refresh_token")?,
                client_id: take("client_id"),
                scope: take("scope"),
                resource: take("resource"),
            }),
            Some(other) => Err(OAuthError::new(
                "unsupported_grant_type",
                format!("grant_type {other:?} is not supported: authorization_code and refresh_token are"),
            )),
            None => Err(OAuthError::invalid_request("grant_type is required")),
        }
    }
}

/// The parameters of a query string or form body, each at most once and at most
/// [`MAX_PARAM`] long (RFC 6749 §3.1: parameters must not repeat).
fn single_params(input: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let mut params: Vec<(String, String)> = Vec::new();
    for (name, value) in form_urlencoded::parse(input) {
        if value.len() > MAX_PARAM || name.len() > MAX_PARAM {
            return Err(OAuthError::invalid_request(format!(
                "{name} is longer than {MAX_PARAM} bytes"
            )));
        }
        if params.iter().any(|(n, _)| *n == name) {
            return Err(OAuthError::invalid_request(format!(
                "{name} is given more than once"
            )));
        }
        params.push((name.into_owned(), value.into_owned()));
    }
    Ok(params)
}

/// An authorization code, as kept until its exchange: who approved what for which
/// client, and the PKCE challenge its exchange must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub account: AccountId,
    pub user: String,
    pub role: Role,
    pub client_id: String,
    pub client_name: String,
    pub redirect_uri: String,
    pub challenge: CodeChallenge,
    pub scopes: Scopes,
    pub expires_at: Timestamp,
    /// The grant its exchange made: set once, so that a second exchange is seen — and
    /// ends that grant.
    pub grant: Option<TokenId>,
}

impl Code {
    /// Whether a token request may exchange this code, at `now`: unexpired, unused, by
    /// its client, for its redirect URI, with the verifier of its challenge.
    pub fn check(
        &self,
        client_id: Option<&str>,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        now: Timestamp,
    ) -> Result<(), OAuthError> {
        if now >= self.expires_at {
            return Err(OAuthError::invalid_grant(
                "the authorization code expired: authorize again",
            ));
        }
        if client_id.is_some_and(|id| id != self.client_id) {
            return Err(OAuthError::invalid_grant(
                "the authorization code was issued to another client",
            ));
        }
        if redirect_uri != Some(self.redirect_uri.as_str()) {
            return Err(OAuthError::invalid_grant(
                "redirect_uri must be the one the authorization request named",
            ));
        }
        match verifier {
            None => Err(OAuthError::invalid_request(
                "code_verifier is required (PKCE)",
            )),
            Some(v) if !self.challenge.verifies(v) => Err(OAuthError::invalid_grant(
                "code_verifier does not match the code_challenge",
            )),
            Some(_) => Ok(()),
        }
    }
}

/// A refresh token, as kept: the grant it renews and which of its generations it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refresh {
    pub account: AccountId,
    pub token_id: TokenId,
    pub client_id: String,
    pub generation: u32,
    pub expires_at: Timestamp,
}

/// Whether a request carries a bearer token of ours (`Authorization: Bearer kmcp_…`).
/// A discovery request that does comes from a client configured with a pasted token
/// (mcp-remote sends its `--header` with every request, metadata included): it is
/// answered 404, as if there were no OAuth here, so that a pasted token that stopped
/// working ends in its own message — never in a browser window asking someone to sign
/// in for a client that will go on sending the pasted header. OAuth clients discover
/// without a token.
pub fn carries_token(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(http::header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            let mut parts = v.split_whitespace();
            parts
                .next()
                .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
                && parts
                    .next()
                    .is_some_and(|t| t.starts_with(crate::model::token::PREFIX))
        })
}

/// What a discovery request that carries a token is told.
pub const NOT_FOR_PASTED_TOKENS: &str =
    "; this client was given a token (Authorization: Bearer kmcp_…): MCP authorization is for clients that come without one";

/// The authorization server's metadata (RFC 8414), for `issuer` with its consent page at
/// `authorize`: the code grant with PKCE S256, public clients, registration (RFC 7591).
pub fn server_metadata(issuer: &str, authorize: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": authorize,
        "token_endpoint": format!("{issuer}/oauth/token"),
        "registration_endpoint": format!("{issuer}/oauth/register"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "scopes_supported": Scopes::all().to_strings(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": true,
    })
}

/// `https://host:port` and `/path` of a URL.
pub fn split_origin(url: &str) -> Option<(&str, &str)> {
    let after_scheme = url.find("://")?.checked_add(3)?;
    let path_at = url
        .get(after_scheme..)?
        .find('/')
        .and_then(|i| i.checked_add(after_scheme))
        .unwrap_or(url.len());
    Some((
        url.get(..path_at)?,
        url.get(path_at..)?.trim_end_matches('/'),
    ))
}

/// The MCP endpoint's protected resource metadata (RFC 9728): which server authorizes
/// it, the scopes its tools need, and that tokens go in the Authorization header.
pub fn resource_metadata(mcp_url: &str, issuer: &str) -> Value {
    json!({
        "resource": mcp_url,
        "authorization_servers": [issuer],
        "scopes_supported": Scopes::all().to_strings(),
        "bearer_methods_supported": ["header"],
        "resource_name": "Knotie AI Pro",
    })
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

    mod exchange {
        use super::*;
        use proptest::prelude::*;

        fn code() -> Code {
            Code {
                account: AccountId::parse("acct_a").unwrap(),
                user: "u".into(),
                role: Role::Owner,
                client_id: "mcpc_1".into(),
                client_name: "App".into(),
                redirect_uri: "http://127.0.0.1:9/cb".into(),
                challenge: CodeChallenge::parse(Some(CHALLENGE), Some("S256")).unwrap(),
                scopes: Scopes::all(),
                expires_at: Timestamp::from_unix(1_000).unwrap(),
                grant: None,
            }
        }

        proptest! {
            /// A code is exchanged only before it expires, by its client (or one that
            /// does not say), for its redirect URI, with its verifier; every other
            /// combination is an RFC error, never a panic.
            #[test]
            fn only_the_right_request_in_time_exchanges_a_code(
                client in proptest::option::of(prop_oneof![Just("mcpc_1".to_owned()), "[a-z_0-9]{0,12}"]),
                redirect in proptest::option::of(prop_oneof![Just("http://127.0.0.1:9/cb".to_owned()), ".{0,20}"]),
                verifier in proptest::option::of(prop_oneof![Just(VERIFIER.to_owned()), "[A-Za-z0-9_~.-]{0,80}"]),
                at in 0_i64..2_000,
            ) {
                let now = Timestamp::from_unix(at).unwrap();
                let result = code().check(client.as_deref(), redirect.as_deref(), verifier.as_deref(), now);
                let right = at < 1_000
                    && client.as_deref().is_none_or(|c| c == "mcpc_1")
                    && redirect.as_deref() == Some("http://127.0.0.1:9/cb")
                    && verifier.as_deref() == Some(VERIFIER);
                prop_assert_eq!(result.is_ok(), right, "{:?}", result);
                if let Err(e) = result {
                    prop_assert!(matches!(e.code, "invalid_grant" | "invalid_request"));
                    if at >= 1_000 {
                        prop_assert!(e.description.contains("expired"));
                    }
                }
            }
        }
    }

    #[test]
    fn a_document_client_id_is_an_https_url_with_a_path_and_nothing_hidden() {
        for good in [
            "https://claude.ai/oauth/mcp-client-metadata.json",
            "https://app.example.com/clients/vscode?v=1",
        ] {
            assert!(is_document_client(good));
            assert_eq!(document_url(good).unwrap(), good);
        }
        for bad in [
            "https://example.com",
            "https://example.com/",
            "https://user:pw@example.com/client.json",
            "https://example.com/client.json#x",
            "https://example.com/a/../client.json",
            "https://example.com/./client.json",
            "https:///client.json",
            &format!("https://example.com/{}", "a".repeat(2048)),
        ] {
            let err = document_url(bad).unwrap_err();
            assert_eq!(err.code, "invalid_client", "{bad}");
        }
        assert!(!is_document_client("mcpc_0123456789abcdef0123456789abcdef"));
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
        assert!(resource_is(None, mcp).is_ok(), "the one audience there is");
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
