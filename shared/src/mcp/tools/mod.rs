//! The MCP tools over the account's data. Each tool is scoped to the caller's account and
//! needs one scope; `tools/list` shows only the tools the token's scopes allow and
//! `tools/call` refuses the others. Domain failures (unknown customer, not enough credits,
//! invalid input) are tool results with `isError: true`; failures of the service itself
//! are JSON-RPC errors.

mod account;
mod agents;
mod analytics;
mod credits;
mod customers;

use std::sync::Arc;

use rmcp::handler::server::common::{AsRequestContext, FromContextPart};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, ListToolsResult,
    PaginatedRequestParams, ProtocolVersion, ResultType,
};
use rmcp::service::RequestContext;
use rmcp::{tool_handler, ErrorData as McpError, RoleServer, ServerHandler};
use serde::Serialize;
use serde_json::json;

use crate::app::App;
use crate::auth::Caller;
use crate::error::Error;
use crate::scope::Scope;

const INSTRUCTIONS: &str = "Tools for a Knotie AI Pro agency account: its customers (the agency's clients), \
the AI voice agents that answer their calls, the credits calls consume (a pool the agency buys, allocated to \
customers), and analytics over the calls. Ids look like cus_…, agt_…, txn_…; list tools return them. Dates \
are YYYY-MM-DD in UTC.";

/// Every tool and the scope it needs; get_account, which only describes the account
/// and the token itself, is open to any token.
const REQUIRED_SCOPES: [(&str, Option<Scope>); 14] = [
    ("get_account", None),
    ("list_customers", Some(Scope::CustomersRead)),
    ("get_customer", Some(Scope::CustomersRead)),
    ("create_customer", Some(Scope::CustomersWrite)),
    ("update_customer", Some(Scope::CustomersWrite)),
    ("list_agents", Some(Scope::AgentsRead)),
    ("get_agent", Some(Scope::AgentsRead)),
    ("create_agent", Some(Scope::AgentsWrite)),
    ("update_agent", Some(Scope::AgentsWrite)),
    ("get_credit_balances", Some(Scope::CreditsRead)),
    ("list_credit_transactions", Some(Scope::CreditsRead)),
    ("allocate_credits", Some(Scope::CreditsWrite)),
    ("get_usage_analytics", Some(Scope::AnalyticsRead)),
    ("list_recent_calls", Some(Scope::AnalyticsRead)),
];

fn required_scope(tool: &str) -> Option<Scope> {
    REQUIRED_SCOPES
        .iter()
        .find(|(name, _)| *name == tool)
        .and_then(|(_, scope)| *scope)
}

/// The tool handler rmcp instantiates per request: cheap to clone.
#[derive(Clone)]
pub struct Tools {
    app: Arc<App>,
    router: Arc<ToolRouter<Tools>>,
}

impl Tools {
    pub fn new(app: Arc<App>) -> Tools {
        let router = Self::account_tools()
            + Self::customer_tools()
            + Self::agent_tools()
            + Self::credit_tools()
            + Self::analytics_tools();
        Tools {
            app,
            router: Arc::new(router),
        }
    }

    fn pepper(&self) -> Result<&crate::hashing::Pepper, McpError> {
        // The transport layer loaded it to authenticate this very request.
        self.app
            .pepper
            .try_loaded()
            .ok_or_else(|| McpError::internal_error("the pepper is not loaded", None))
    }
}

#[tool_handler(router = self.router)]
impl ServerHandler for Tools {
    fn get_info(&self) -> rmcp::model::ServerConfig {
        let mut info = rmcp::model::ServerConfig::default();
        info.capabilities = rmcp::model::ServerCapabilities::builder()
            .enable_tools()
            .build();
        info.server_info = rmcp::model::Implementation::new("knotie", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(INSTRUCTIONS.into());
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let caller = caller_of(&context)?;
        let tools = self
            .router
            .list_all()
            .into_iter()
            .filter(|t| required_scope(&t.name).is_none_or(|s| caller.may(s)))
            .collect();
        let modern = context
            .protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
        Ok(ListToolsResult {
            result_type: Some(ResultType::COMPLETE),
            tools,
            meta: None,
            next_cursor: None,
            // The list depends on the token's scopes: cache it per token, briefly.
            ttl_ms: modern.then_some(60_000),
            cache_scope: modern.then_some(CacheScope::Private),
        })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let caller = caller_of(&context)?;
        if let Some(scope) = required_scope(&request.name).filter(|s| !caller.may(*s)) {
            return Err(McpError::invalid_params(
                format!(
                    "the tool {} needs the {scope} scope, which this token does not have",
                    request.name
                ),
                None,
            ));
        }
        self.router
            .call(ToolCallContext::new(self, request, context))
            .await
    }
}

fn caller_of(context: &RequestContext<RoleServer>) -> Result<Caller, McpError> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>())
        .cloned()
        .ok_or_else(|| McpError::internal_error("the request was not authenticated", None))
}

/// Lets a tool take the authenticated `Caller` as an argument.
impl<C: AsRequestContext> FromContextPart<C> for Caller {
    fn from_context_part(context: &mut C) -> Result<Self, McpError> {
        caller_of(context.as_request_context())
    }
}

/// A domain result as a tool result: the value as `structuredContent` plus its JSON as
/// text; the caller's mistakes as `isError` results the model can act on; the service's
/// own failures as JSON-RPC errors.
fn answer<T: Serialize>(result: Result<T, Error>) -> Result<CallToolResult, McpError> {
    match result {
        Ok(value) => {
            let value = serde_json::to_value(value)
                .map_err(|e| McpError::internal_error(e.to_string(), None))?;
            Ok(CallToolResult::structured(value))
        }
        Err(
            e @ (Error::BadRequest { .. }
            | Error::NotFound { .. }
            | Error::InsufficientCredits { .. }
            | Error::Conflict { .. }),
        ) => Ok(CallToolResult::structured_error(
            json!({ "error": { "code": e.code(), "message": e.to_string() } }),
        )),
        Err(e) => {
            tracing::error!(error = ?e, "tool failed");
            Err(McpError::internal_error(e.to_string(), None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_is_in_the_scope_table_and_under_cursors_limit_of_40() {
        let router = Tools::account_tools()
            + Tools::customer_tools()
            + Tools::agent_tools()
            + Tools::credit_tools()
            + Tools::analytics_tools();
        let names: Vec<String> = router
            .list_all()
            .into_iter()
            .map(|t| t.name.to_string())
            .collect();
        assert!(names.len() < 40);
        assert_eq!(names.len(), REQUIRED_SCOPES.len());
        for name in &names {
            assert!(
                REQUIRED_SCOPES.iter().any(|(n, _)| n == name),
                "{name} has no scope entry"
            );
        }
    }
}
