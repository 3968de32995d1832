//! The one error type of the service and the one place that classifies it: an HTTP status
//! and a machine-readable code for every edge, a JSON-RPC code for MCP refusals, and
//! whether a failure is the caller's to fix (an MCP tool error the model can act on) or
//! ours (a protocol error). Messages are written for the person who will read them.

use http::StatusCode;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a bearer token was refused: what the metrics count (the message says it to the
/// person).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    Missing,
    Malformed,
    Unknown,
    Revoked,
    Leaked,
    Expired,
    /// Rotated, and its overlap is over.
    Replaced,
    /// Retired by the account's policy for disuse.
    Unused,
}

impl TokenRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenRefusal::Missing => "missing_token",
            TokenRefusal::Malformed => "malformed_token",
            TokenRefusal::Unknown => "unknown_token",
            TokenRefusal::Revoked => "revoked_token",
            TokenRefusal::Leaked => "leaked_token",
            TokenRefusal::Expired => "expired_token",
            TokenRefusal::Replaced => "replaced_token",
            TokenRefusal::Unused => "unused_token",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's request is malformed or breaks a rule; the message says which.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("the request carries no signed-in user; sign in again")]
    Unauthenticated,
    /// An MCP request whose bearer token is missing, malformed, unknown, revoked or expired.
    #[error("{1}")]
    InvalidToken(TokenRefusal, String),
    /// A leak report that is not signed by GitHub's current keys.
    #[error("the report is not signed by GitHub: send Github-Public-Key-Identifier and Github-Public-Key-Signature")]
    BadSignature,
    #[error("API access is not enabled for this account: enable it in your plan, then this token will work")]
    ApiAccessDisabled,
    /// A signed-in user asking for what their role does not allow.
    #[error("{0}")]
    Forbidden(String),
    /// An MCP call from an address the token is not allowed to be used from.
    #[error("{0}")]
    AddressNotAllowed(String),
    /// An MCP token that made more calls than its rate allows; try again after the wait.
    #[error("this token made more than {limit} calls in a minute; wait {retry_after_secs} s before the next call")]
    RateLimited { limit: u32, retry_after_secs: u64 },
    /// A caller over a limit that is not a token's rate (client registrations).
    #[error("{message}")]
    TooMany {
        message: String,
        retry_after_secs: u64,
    },
    #[error("no token with this id exists in this account")]
    TokenNotFound,
    /// A customer, agent, … the caller named does not exist in the account.
    #[error("no {what} with id {id} exists in this account{hint}")]
    NotFound {
        what: &'static str,
        id: String,
        hint: &'static str,
    },
    #[error("not enough credits: the pool has {available}, the allocation needs {requested}")]
    InsufficientCredits { available: i64, requested: i64 },
    /// The request is valid but clashes with the state it would change.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("this account already has {limit} active tokens, the most allowed; revoke one you no longer use")]
    TokenLimit { limit: u32 },
    #[error("the request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// A dependency (DynamoDB, Secrets Manager) failed: fail closed, never guess.
    #[error("{what} is unavailable right now; try again shortly")]
    Unavailable {
        what: &'static str,
        #[source]
        source: BoxError,
    },
    /// A dependency that may not be asked again yet (GitHub's keys, read at most once a
    /// minute): 503 with `Retry-After`.
    #[error("{what} are unavailable right now; try again in {retry_after_secs} s")]
    NotYet {
        what: &'static str,
        retry_after_secs: u64,
    },
    /// A bug or a misconfiguration; details go to the log, not to the caller.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl Error {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Error {
        Error::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::Unauthenticated | Error::InvalidToken(..) | Error::BadSignature => {
                StatusCode::UNAUTHORIZED
            }
            Error::ApiAccessDisabled | Error::Forbidden(_) | Error::AddressNotAllowed(_) => {
                StatusCode::FORBIDDEN
            }
            Error::RateLimited { .. } | Error::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::TokenNotFound | Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::InsufficientCredits { .. } | Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::TokenLimit { .. } => StatusCode::CONFLICT,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Unavailable { .. } | Error::NotYet { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Error::BadRequest { code, .. } => code,
            Error::Unauthenticated => "unauthenticated",
            Error::BadSignature => "bad_signature",
            Error::InvalidToken(..) => "invalid_token",
            Error::ApiAccessDisabled => "api_access_disabled",
            Error::Forbidden(_) => "forbidden",
            Error::AddressNotAllowed(_) => "address_not_allowed",
            Error::RateLimited { .. } | Error::TooMany { .. } => "rate_limited",
            Error::TokenNotFound => "token_not_found",
            Error::NotFound { .. } => "not_found",
            Error::InsufficientCredits { .. } => "insufficient_credits",
            Error::Conflict { code, .. } => code,
            Error::TokenLimit { .. } => "token_limit_reached",
            Error::TooLarge { .. } => "payload_too_large",
            Error::Unavailable { .. } | Error::NotYet { .. } => "service_unavailable",
            Error::Internal(_) => "internal_error",
        }
    }

    /// The caller's mistake, which the caller can fix: as an MCP tool result it is
    /// `isError: true` with this message. Everything else is the service's failure.
    pub fn is_callers(&self) -> bool {
        !self.status().is_server_error()
    }

    /// The JSON-RPC error code when this ends an MCP request: the implementation-defined
    /// range for the HTTP-level refusals, the standard codes otherwise.
    pub fn rpc_code(&self) -> i64 {
        match self {
            Error::InvalidToken(..) | Error::Unauthenticated | Error::BadSignature => -32001,
            Error::ApiAccessDisabled | Error::AddressNotAllowed(_) | Error::Forbidden(_) => -32003,
            Error::RateLimited { .. } => -32029,
            Error::Unavailable { .. } | Error::NotYet { .. } => -32004,
            Error::Internal(_) => -32603,
            _ => -32602,
        }
    }

    /// When to try again, for a `Retry-After` header.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Error::RateLimited {
                retry_after_secs, ..
            }
            | Error::NotYet {
                retry_after_secs, ..
            }
            | Error::TooMany {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// `{"error": {"code": ..., "message": ...}}`
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "error": { "code": self.code(), "message": self.to_string() } })
    }
}
