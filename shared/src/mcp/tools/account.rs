use rmcp::model::CallToolResult;
use rmcp::{tool, tool_router, ErrorData as McpError};
use serde_json::json;

use super::{answer, Tools};
use crate::auth::Caller;
use crate::error::Error;

#[tool_router(router = account_tools, vis = "pub(super)")]
impl Tools {
    /// The account this token acts for: its name, plan, whether API access is enabled,
    /// the credit pool (credits bought and not yet allocated to customers), and what this
    /// token may do (its scopes). A good first call.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_account(&self, caller: Caller) -> Result<CallToolResult, McpError> {
        // Read (strongly consistent) by this very request's authentication.
        let a = &caller.profile;
        answer(Ok::<_, Error>(json!({
            "account_id": a.id.as_str(),
            "name": a.name,
            "plan": a.plan,
            "api_access": a.api_access,
            "credit_pool": a.credit_pool,
            "token": { "id": caller.token_id.as_str(), "scopes": caller.scopes.to_strings() },
        })))
    }
}
