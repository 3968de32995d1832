//! Settings read from the environment once per cold start.

use crate::error::BoxError;

pub const DEFAULT_ACCOUNT_CLAIM: &str = "custom:account_id";

#[derive(Debug, Clone)]
pub struct Config {
    /// The DynamoDB table (`TABLE_NAME`).
    pub table: String,
    /// The JWT claim naming the user's account (`ACCOUNT_CLAIM`).
    pub account_claim: String,
    /// The MCP endpoint, for the ready-to-paste client configurations (`MCP_URL`); only
    /// the generate function needs it.
    pub mcp_url: Option<String>,
}

impl Config {
    pub fn from_env() -> Result<Config, BoxError> {
        Ok(Config {
            table: required("TABLE_NAME")?,
            account_claim: std::env::var("ACCOUNT_CLAIM")
                .unwrap_or_else(|_| DEFAULT_ACCOUNT_CLAIM.into()),
            mcp_url: std::env::var("MCP_URL").ok().filter(|v| !v.is_empty()),
        })
    }
}

fn required(name: &str) -> Result<String, BoxError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("the environment variable {name} must be set").into())
}
