//! The analytics toolset: usage over a date range, and the latest calls.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{needs, Tools};
use crate::error::Error;
use crate::model::admission::Caller;
use crate::model::calls::{Call, DateRange, GroupBy, Usage};
use crate::model::page::PageRequest;
use crate::model::scope::Scope;
use crate::rules::analytics::{self, CallFilter};

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
    /// The next_cursor of the previous page, to continue a listing.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Calls {
    /// Newest first.
    pub calls: Vec<Call>,
    /// Pass it back as `cursor` for older calls; null when there are none.
    pub next_cursor: Option<String>,
}

#[tool_router(router = analytics_tools, vis = "pub(super)")]
impl Tools {
    /// Call analytics over a date range: number of calls, minutes, credits used and success
    /// rate (completed or transferred calls ÷ all calls), in total and grouped by day, agent
    /// or customer. The answer states the range it covers. Use it for questions like "how
    /// many calls did my agents take last week?".
    #[tool(
        meta = needs(Scope::AnalyticsRead),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_usage_analytics(
        &self,
        caller: Caller,
        Parameters(p): Parameters<UsageQuery>,
    ) -> Result<Json<Usage>, Error> {
        let today = caller.at.date();
        let range = DateRange::parse(p.start_date.as_deref(), p.end_date.as_deref(), today)?;
        let filter = CallFilter {
            customer_id: p.customer_id.as_deref(),
            agent_id: p.agent_id.as_deref(),
        };
        let group_by = p.group_by.unwrap_or_default();
        let usage = analytics::usage(&self.app.store, &caller.account, range, group_by, filter);
        usage.await.map(Json)
    }

    /// The most recent calls, newest first: when, which agent and customer, duration,
    /// outcome (completed, transferred, voicemail, no_answer, failed), credits used and a
    /// one-line summary. Paginated: pass next_cursor back as cursor for older calls.
    #[tool(
        meta = needs(Scope::AnalyticsRead),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_recent_calls(
        &self,
        caller: Caller,
        Parameters(p): Parameters<RecentCalls>,
    ) -> Result<Json<Calls>, Error> {
        let filter = CallFilter {
            customer_id: p.customer_id.as_deref(),
            agent_id: p.agent_id.as_deref(),
        };
        let request = PageRequest {
            limit: p.limit,
            cursor: p.cursor,
        };
        let page = analytics::recent_calls(
            &self.app.store,
            self.pepper()?,
            &caller.account,
            filter,
            &request,
        );
        let page = page.await?;
        Ok(Json(Calls {
            calls: page.items,
            next_cursor: page.next_cursor,
        }))
    }
}
