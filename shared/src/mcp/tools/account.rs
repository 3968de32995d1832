//! The account the token acts for, and the token itself.

use rmcp::handler::server::wrapper::Json;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Serialize;

use super::Tools;
use crate::error::Error;
use crate::model::admission::Caller;
use crate::model::ids::{AccountId, TokenId};
use crate::model::time::Timestamp;

#[derive(Debug, Serialize, JsonSchema)]
pub struct AccountView {
    pub account_id: AccountId,
    pub name: String,
    pub plan: String,
    pub api_access: bool,
    /// Credits bought and not yet allocated to customers.
    pub credit_pool: i64,
    pub token: TokenView,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TokenView {
    pub id: TokenId,
    /// What this token may do (under the account's token policy).
    pub scopes: Vec<String>,
    /// When this token stops working (its expiry, or the account's maximum token
    /// lifetime); null if it does not expire.
    pub expires_at: Option<Timestamp>,
}

#[tool_router(router = account_tools, vis = "pub(super)")]
impl Tools {
    /// The account this token acts for: its name, plan, whether API access is enabled,
    /// the credit pool (credits bought and not yet allocated to customers), and this token:
    /// what it may do (its scopes) and when it expires. A good first call.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_account(&self, caller: Caller) -> Result<Json<AccountView>, Error> {
        // As this request's authentication took it: read at most 30 s ago on this
        // instance (see mcp::profiles); the balances tool reads the pool itself.
        let a = caller.profile;
        Ok(Json(AccountView {
            account_id: a.id,
            name: a.name,
            plan: a.plan,
            api_access: a.api_access,
            credit_pool: a.credit_pool,
            token: TokenView {
                id: caller.token_id,
                scopes: caller.scopes.to_strings(),
                expires_at: caller.expires_at,
            },
        }))
    }
}
