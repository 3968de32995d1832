use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{tool, tool_router, ErrorData as McpError};
use schemars::JsonSchema;
use serde::Deserialize;
use time::OffsetDateTime;

use super::{answer, Tools};
use crate::auth::Caller;
use crate::domain::agents::{self, AgentFields, AgentStatus};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListAgents {
    /// Only this customer's agents (cus_…).
    pub customer_id: Option<String>,
    /// Only agents with this status.
    pub status: Option<AgentStatus>,
    /// How many to return, 1 to 100 (default 25).
    pub limit: Option<u32>,
    /// The next_cursor of the previous page, to continue a listing.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AgentId {
    /// The agent's id (agt_…).
    pub agent_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateAgent {
    /// The customer the agent answers calls for (cus_…).
    pub customer_id: String,
    /// The agent's name, 1 to 100 characters, e.g. "Sofia — Reception".
    pub name: String,
    /// The voice: aria, atlas, ember, juniper, nova, orion, sage or willow.
    pub voice: String,
    /// The language as a BCP 47 tag: en-US, en-GB, en-AU, es-ES, es-MX, fr-FR, de-DE, it-IT, pt-BR or nl-NL.
    pub language: String,
    /// The instructions the agent follows on calls, up to 8000 characters.
    pub prompt: String,
    /// `active` (default) takes calls; `draft` or `paused` do not.
    pub status: Option<AgentStatus>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateAgent {
    /// The agent's id (agt_…).
    pub agent_id: String,
    /// New name.
    pub name: Option<String>,
    /// New voice: aria, atlas, ember, juniper, nova, orion, sage or willow.
    pub voice: Option<String>,
    /// New language (BCP 47, e.g. en-US).
    pub language: Option<String>,
    /// New instructions, replacing the old ones.
    pub prompt: Option<String>,
    /// `active` takes calls; `paused` or `draft` stop it.
    pub status: Option<AgentStatus>,
}

#[tool_router(router = agent_tools, vis = "pub(super)")]
impl Tools {
    /// List the account's AI voice agents, optionally only one customer's or one status,
    /// with their voice, language, prompt and status. Paginated: pass next_cursor back as
    /// cursor.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn list_agents(
        &self,
        caller: Caller,
        Parameters(p): Parameters<ListAgents>,
    ) -> Result<CallToolResult, McpError> {
        let page = agents::list(
            &self.app.store,
            self.pepper()?,
            &caller.account,
            p.customer_id.as_deref(),
            p.status,
            p.limit,
            p.cursor.as_deref(),
        );
        answer(page.await)
    }

    /// One voice agent by id, with its full prompt.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_agent(
        &self,
        caller: Caller,
        Parameters(p): Parameters<AgentId>,
    ) -> Result<CallToolResult, McpError> {
        answer(agents::get(&self.app.store, &caller.account, &p.agent_id).await)
    }

    /// Create an AI voice agent for a customer: its name, voice, language and prompt.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    async fn create_agent(
        &self,
        caller: Caller,
        Parameters(p): Parameters<CreateAgent>,
    ) -> Result<CallToolResult, McpError> {
        let fields = AgentFields {
            name: Some(p.name),
            voice: Some(p.voice),
            language: Some(p.language),
            prompt: Some(p.prompt),
            status: p.status,
        };
        answer(
            agents::create(
                &self.app.store,
                &caller.account,
                &p.customer_id,
                fields,
                OffsetDateTime::now_utc(),
            )
            .await,
        )
    }

    /// Change an agent's name, voice, language, prompt or status (pause or resume it).
    /// Only the given fields change.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn update_agent(
        &self,
        caller: Caller,
        Parameters(p): Parameters<UpdateAgent>,
    ) -> Result<CallToolResult, McpError> {
        let fields = AgentFields {
            name: p.name,
            voice: p.voice,
            language: p.language,
            prompt: p.prompt,
            status: p.status,
        };
        answer(
            agents::update(
                &self.app.store,
                &caller.account,
                &p.agent_id,
                fields,
                OffsetDateTime::now_utc(),
            )
            .await,
        )
    }
}
