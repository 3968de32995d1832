//! The account's data that MCP tools act on: customers, voice agents, credits and call
//! analytics. Each function takes the store and the account it may touch, nothing more,
//! and checks its input before any write.

pub mod agents;
pub mod analytics;
pub mod credits;
pub mod customers;

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::Error;

/// A page of a listing and the opaque cursor of the next one.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Unix seconds as RFC 3339 (UTC), the form every API answer uses.
pub fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Trimmed text of 1..=`max` characters without control characters (`allow_newlines` for
/// prompts).
pub(crate) fn text(
    field: &str,
    value: &str,
    max: usize,
    allow_newlines: bool,
) -> Result<String, Error> {
    let value = value.trim();
    let invalid = |message: String| Err(Error::bad_request("invalid_input", message));
    if value.is_empty() {
        return invalid(format!("{field} must not be empty"));
    }
    if value.chars().count() > max {
        return invalid(format!("{field} must be at most {max} characters"));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\t')))
    {
        return invalid(format!("{field} must not contain control characters"));
    }
    Ok(value.to_owned())
}

/// A page size given by a caller, or the default.
pub(crate) fn page_size(limit: Option<u32>, default: usize, max: usize) -> Result<usize, Error> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&(n as usize)) => Ok(n as usize),
        Some(_) => Err(Error::bad_request(
            "invalid_limit",
            format!("limit must be from 1 to {max}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(text("name", "  Acme  ", 10, false).unwrap(), "Acme");
        assert!(text("name", "   ", 10, false).is_err());
        assert!(text("name", "12345678901", 10, false).is_err());
        assert!(text("name", "a\nb", 10, false).is_err());
        assert_eq!(text("prompt", "a\nb", 10, true).unwrap(), "a\nb");
        assert!(text("prompt", "a\u{7}b", 10, true).is_err());
    }
}
