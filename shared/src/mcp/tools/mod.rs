//! The MCP tools over the account's data. Each tool is scoped to the caller's account and
//! declares, where it is defined, the scope it needs (`meta = needs(Scope::…)`; none for
//! `get_account`); `tools/list` shows only the tools the token's scopes allow and
//! `tools/call` refuses the others. Each returns `Result<Json<T>, Error>`: `T` gives the
//! tool its output schema, and [`Error::is_callers`] decides whether a failure is a tool
//! result with `isError: true` the model can act on, or a JSON-RPC error.

mod account;
mod agents;
mod analytics;
mod credits;
mod customers;

use std::sync::{Arc, Mutex};

use rmcp::handler::server::common::{AsRequestContext, FromContextPart};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::{IntoCallToolResult, ToolCallContext};
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, JsonObject,
    ListToolsResult, MetaObject, PaginatedRequestParams, ProtocolVersion, ResultType, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{tool_handler, ErrorData as McpError, RoleServer, ServerHandler};

use super::profiles::Profiles;
use crate::app::App;
use crate::error::Error;
use crate::model::admission::Caller;
use crate::model::hashing::Pepper;
use crate::model::scope::Scope;

const INSTRUCTIONS: &str = "Tools for a Knotie AI Pro agency account: its customers (the agency's clients), \
the AI voice agents that answer their calls, the credits calls consume (a pool the agency buys, allocated to \
customers), and analytics over the calls. Ids look like cus_…, agt_…, txn_…; list tools return them. Dates \
are YYYY-MM-DD in UTC.";

/// The `_meta` key under which a tool declares the scope it needs.
const SCOPE_KEY: &str = "ai.knotie/scope";

/// A tool's declaration that it needs `scope`: `#[tool(meta = needs(Scope::…))]`.
fn needs(scope: Scope) -> MetaObject {
    let mut meta = JsonObject::new();
    meta.insert(SCOPE_KEY.into(), scope.as_str().into());
    MetaObject(meta)
}

/// The scope a tool declared; `None` for a tool open to every token.
fn required_scope(tool: &Tool) -> Option<Scope> {
    let meta = tool.meta.as_ref()?;
    meta.0.get(SCOPE_KEY)?.as_str()?.parse().ok()
}

/// The tool handler rmcp instantiates per request: cheap to clone.
#[derive(Clone)]
pub struct Tools {
    app: Arc<App>,
    /// The instance's account profiles: a tool that changes what they show forgets one.
    profiles: Arc<Profiles>,
    router: Arc<ToolRouter<Tools>>,
}

impl Tools {
    pub fn new(app: Arc<App>, profiles: Arc<Profiles>) -> Tools {
        Tools {
            app,
            profiles,
            router: Arc::new(Self::router()),
        }
    }

    /// Every tool, from each toolset.
    /// The scope the tool `name` needs, if it is a tool and needs one.
    pub fn scope_needed(&self, name: &str) -> Option<Scope> {
        self.router.get(name).and_then(required_scope)
    }

    pub fn router() -> ToolRouter<Tools> {
        let mut router = Self::account_tools();
        for toolset in [
            Self::customer_tools(),
            Self::agent_tools(),
            Self::credit_tools(),
            Self::analytics_tools(),
        ] {
            router.merge(toolset);
        }
        router
    }

    fn pepper(&self) -> Result<&Pepper, Error> {
        // The transport layer loaded it to authenticate this very request.
        self.app
            .pepper
            .try_loaded()
            .ok_or_else(|| Error::Internal("the pepper is not loaded".into()))
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
            .filter(|t| required_scope(t).is_none_or(|s| caller.may(s)))
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
        let scope = self.router.get(&request.name).and_then(required_scope);
        if let Some(scope) = scope.filter(|s| !caller.may(*s)) {
            return Err(McpError::invalid_params(
                format!(
                    "the tool {} needs the {scope} scope, which this token does not have",
                    request.name
                ),
                None,
            ));
        }
        let outcome = from_transport::<ToolOutcome>(&context).unwrap_or_default();
        // A metric dimension: only the names of real tools, never what a caller made up.
        let tool = match self.router.get(&request.name) {
            Some(_) => request.name.to_string(),
            None => "unknown_tool".to_owned(),
        };
        let response = self
            .router
            .call(ToolCallContext::new(self, request, context))
            .await;
        outcome.set(
            tool,
            match &response {
                Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => "tool_error",
                Ok(_) => "ok",
                Err(_) => "error",
            },
        );
        Ok(with_expiry_notice(response?, &caller))
    }
}

/// Which tool a call ran and how it ended (`ok`, `tool_error`, `error`), for the
/// request's metrics: the transport puts one in the request, the tool handler fills it.
#[derive(Debug, Clone, Default)]
pub struct ToolOutcome(Arc<Mutex<Option<(String, &'static str)>>>);

impl ToolOutcome {
    fn set(&self, tool: String, outcome: &'static str) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((tool, outcome));
    }

    pub fn get(&self) -> Option<(String, &'static str)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A token is said to expire soon this long before it does.
const EXPIRY_NOTICE: time::Duration = time::Duration::days(7);
/// The `_meta` key of a result whose token expires soon.
const EXPIRES_KEY: &str = "ai.knotie/token_expires_at";

/// A result of a token that expires within [`EXPIRY_NOTICE`] ends with a line the model
/// will pass on, and says when in `_meta`, so that nobody learns of it from a 401: what
/// to do — rotate it, or, replaced already, switch to the new one.
fn with_expiry_notice(response: CallToolResponse, caller: &Caller) -> CallToolResponse {
    let now = caller.at;
    let soon = now.checked_add(EXPIRY_NOTICE);
    let Some(at) = caller
        .expires_at
        .filter(|at| soon.is_some_and(|soon| *at <= soon))
    else {
        return response;
    };
    let CallToolResponse::Complete(mut result) = response else {
        return response;
    };
    let days = (at.unix().saturating_sub(now.unix()) / 86_400).max(0);
    let when = match days {
        0 => "within a day".to_owned(),
        1 => "in 1 day".to_owned(),
        n => format!("in {n} days"),
    };
    let todo = match &caller.replaced_by {
        Some(hint) => format!("It was replaced by {hint}: put the new token in this assistant's configuration before then."),
        None => "Rotate it in Settings → MCP Tokens (the old token keeps working for the overlap you choose) and put the new one in this assistant's configuration before then.".to_owned(),
    };
    result.content.push(ContentBlock::text(format!(
        "Note for the user: this Knotie MCP token expires {when} ({at}). {todo}"
    )));
    result
        .meta
        .get_or_insert_with(MetaObject::default)
        .0
        .insert(EXPIRES_KEY.into(), at.rfc3339().into());
    CallToolResponse::Complete(result)
}

fn caller_of(context: &RequestContext<RoleServer>) -> Result<Caller, McpError> {
    from_transport::<Caller>(context)
        .ok_or_else(|| McpError::internal_error("the request was not authenticated", None))
}

/// What the transport layer put in the HTTP request for the tools (the caller, the slot
/// for the call's outcome).
fn from_transport<T: Clone + Send + Sync + 'static>(
    context: &RequestContext<RoleServer>,
) -> Option<T> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<T>())
        .cloned()
}

/// Lets a tool take the authenticated `Caller` as an argument.
impl<C: AsRequestContext> FromContextPart<C> for Caller {
    fn from_context_part(context: &mut C) -> Result<Self, McpError> {
        caller_of(context.as_request_context())
    }
}

/// A failed tool call: the caller's mistake (unknown customer, not enough credits,
/// invalid input) as a tool result with `isError: true` and a message the model can act
/// on; the service's own failure as a JSON-RPC error.
impl IntoCallToolResult for Error {
    fn into_call_tool_result(self) -> Result<CallToolResponse, McpError> {
        if self.is_callers() {
            Ok(CallToolResult::structured_error(self.to_json()).into())
        } else {
            tracing::error!(error = ?self, "tool failed");
            Err(McpError::internal_error(self.to_string(), None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What models see of every tool, one file each under `tools/snapshots/`, as
    /// github-mcp-server keeps its `__toolsnaps__`: a change to a name, description,
    /// schema or annotation fails here until the snapshot is updated on purpose
    /// (`UPDATE_TOOLSNAPS=1 cargo test -p knotie --features mcp`) and reviewed in the diff.
    #[test]
    fn every_tool_matches_its_snapshot() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/mcp/tools/snapshots");
        let update = std::env::var_os("UPDATE_TOOLSNAPS").is_some();
        let mut names = Vec::new();
        for tool in Tools::router().list_all() {
            let path = dir.join(format!("{}.json", tool.name));
            let shown = serde_json::to_string_pretty(&tool).unwrap() + "\n";
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &shown).unwrap();
            }
            let snapshot = std::fs::read_to_string(&path).unwrap_or_else(|_| {
                panic!("no snapshot of {}: run with UPDATE_TOOLSNAPS=1", tool.name)
            });
            assert_eq!(
                shown, snapshot,
                "{} changed: review, then UPDATE_TOOLSNAPS=1",
                tool.name
            );
            names.push(format!("{}.json", tool.name));
        }
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        names.sort();
        assert_eq!(files, names, "a snapshot without a tool, or the reverse");
    }

    #[test]
    fn every_tool_but_get_account_declares_a_scope_and_an_output_schema() {
        let tools = Tools::router().list_all();
        // Cursor stops offering tools past 40.
        assert!(tools.len() < 40);
        for tool in &tools {
            assert_eq!(
                required_scope(tool).is_none(),
                tool.name == "get_account",
                "{}",
                tool.name
            );
            assert!(
                tool.output_schema.is_some(),
                "{} has no output schema",
                tool.name
            );
            assert!(
                tool.annotations.is_some(),
                "{} has no annotations",
                tool.name
            );
        }
    }
}
