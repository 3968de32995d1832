//! Knotie AI Pro MCP tokens: everything the Lambda functions and the local server share.
//!
//! - [`token`]: the token format (prefix, randomness, checksum) and its parsing;
//! - [`hashing`]: the pepper, the stored HMAC of a token, cursor MACs;
//! - [`secrets`]: where the pepper comes from;
//! - [`scope`]: what a token may do;
//! - [`identity`]: the caller, from the JWT authorizer's claims;
//! - [`store`]: DynamoDB items and their keys ([`store::keys`]);
//! - [`lifecycle`]: generate, list and revoke, as rules independent of HTTP;
//! - [`api`]: the management routes over API Gateway;
//! - [`client_configs`]: ready-to-paste MCP client configurations;
//! - [`app`], [`config`], [`aws`], [`error`]: what a function is built from.

pub mod api;
pub mod app;
pub mod auth;
pub mod aws;
pub mod client_configs;
pub mod config;
pub mod cursor;
pub mod domain;
pub mod error;
pub mod hashing;
pub mod identity;
pub mod ids;
pub mod lifecycle;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod scope;
pub mod secrets;
pub mod store;
pub mod token;

pub use app::App;
pub use error::Error;
