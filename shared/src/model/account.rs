//! The account, as the Knotie platform keeps it: read on every MCP call to know whether
//! its tokens may be used.

use super::ids::AccountId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub plan: String,
    /// A plan feature: without it every MCP call with the account's tokens is refused.
    pub api_access: bool,
    /// Credits bought and not yet allocated to a customer.
    pub credit_pool: i64,
}

/// A signed-in user of the management API and the account they act for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: AccountId,
    pub user: String,
}
