//! The account, as the Knotie platform keeps it: read on every MCP call to know whether
//! its tokens may be used, and under what policy.

use super::ids::AccountId;
use super::policy::Policy;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub plan: String,
    /// A plan feature: without it every MCP call with the account's tokens is refused.
    pub api_access: bool,
    /// Credits bought and not yet allocated to a customer.
    pub credit_pool: i64,
    /// What the account's owners and admins allow its tokens; it rides on the profile so
    /// that the read authentication already makes enforces it.
    pub policy: Policy,
}

#[cfg(test)]
impl Account {
    /// An account `acct_a` for unit tests of what is decided on a profile.
    pub fn sample(api_access: bool, policy: Policy) -> Account {
        Account {
            id: AccountId::parse("acct_a").unwrap(),
            name: "Demo".into(),
            plan: "pro".into(),
            api_access,
            credit_pool: 0,
            policy,
        }
    }
}
