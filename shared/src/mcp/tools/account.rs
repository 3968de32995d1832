//! The account the token acts for, and the token itself.

use rmcp::handler::server::wrapper::Json;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Serialize;

use super::Tools;
use crate::error::Error;
use crate::mcp::auth::Caller;
use crate::model::ids::{AccountId, TokenId};

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
    /// What this token may do.
    pub scopes: Vec<String>,
}

#[tool_router(router = account_tools, vis = "pub(super)")]
impl Tools {
    /// The account this token acts for: its name, plan, whether API access is enabled,
    /// the credit pool (credits bought and not yet allocated to customers), and what this
    /// token may do (its scopes). A good first call.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_account(&self, caller: Caller) -> Result<Json<AccountView>, Error> {
        // Read (strongly consistent) by this very request's authentication.
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
            },
        }))
    }
}
