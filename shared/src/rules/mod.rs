//! The rules of the product, each as read → decide → write: read through the store,
//! decide with a plain function over model values (unit-tested here, without a database),
//! then a conditional write through the store that keeps the decision safe under races.
//! Independent of HTTP and MCP: the management API, the MCP tools and the local server
//! all call these.
//!
//! - [`lifecycle`]: generate, list and revoke a token, and its history;
//! - [`leaks`]: revoke tokens found in public (GitHub's secret scanning) or reported by
//!   whoever holds them;
//! - [`customers`], [`agents`], [`credits`], [`analytics`]: what MCP tools do to the
//!   account's data.

pub mod agents;
pub mod analytics;
pub mod credits;
pub mod customers;
pub mod leaks;
pub mod lifecycle;
pub mod oauth;
