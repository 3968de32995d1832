use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{tool, tool_router, ErrorData as McpError};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use super::{answer, Tools};
use crate::auth::Caller;
use crate::domain::analytics::{self, GroupBy};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UsageQuery {
    /// First day, YYYY-MM-DD (UTC), inclusive. Default: 6 days before end_date.
    pub start_date: Option<String>,
    /// Last day, YYYY-MM-DD (UTC), inclusive. Default: today. At most 366 days in all.
    pub end_date: Option<String>,
    /// Group the figures by `day`, `agent` or `customer` (default `day`).
    pub group_by: Option<GroupBy>,
    /// Only this customer's calls (cus_…).
    pub customer_id: Option<String>,
    /// Only this agent's calls (agt_…).
    pub agent_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RecentCalls {
    /// How many calls, 1 to 50 (default 10).
    pub limit: Option<u32>,
    /// Only this customer's calls (cus_…).
    pub customer_id: Option<String>,
    /// Only this agent's calls (agt_…).
    pub agent_id: Option<String>,
}

#[tool_router(router = analytics_tools, vis = "pub(super)")]
impl Tools {
    /// Call analytics over a date range: number of calls, minutes, credits used and success
    /// rate (completed or transferred calls ÷ all calls), in total and grouped by day, agent
    /// or customer. The answer states the range it covers. Use it for questions like "how
    /// many calls did my agents take last week?".
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_usage_analytics(
        &self,
        caller: Caller,
        Parameters(p): Parameters<UsageQuery>,
    ) -> Result<CallToolResult, McpError> {
        let today = OffsetDateTime::now_utc().date();
        let usage = async {
            let range =
                analytics::date_range(p.start_date.as_deref(), p.end_date.as_deref(), today)?;
            let group_by = p.group_by.unwrap_or(GroupBy::Day);
            analytics::usage(
                &self.app.store,
                &caller.account,
                range,
                group_by,
                p.customer_id.as_deref(),
                p.agent_id.as_deref(),
            )
            .await
        };
        answer(usage.await)
    }

    /// The most recent calls, newest first: when, which agent and customer, duration,
    /// outcome (completed, transferred, voicemail, no_answer, failed), credits used and a
    /// one-line summary.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn list_recent_calls(
        &self,
        caller: Caller,
        Parameters(p): Parameters<RecentCalls>,
    ) -> Result<CallToolResult, McpError> {
        let calls = analytics::recent_calls(
            &self.app.store,
            &caller.account,
            p.limit,
            p.customer_id.as_deref(),
            p.agent_id.as_deref(),
        );
        answer(calls.await.map(|calls| json!({ "calls": calls })))
    }
}
