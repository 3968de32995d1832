//! The agents toolset: the AI voice agents that answer customers' calls.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{needs, Tools};
use crate::error::Error;
use crate::model::admission::Caller;
use crate::model::agents::{Agent, AgentFields, AgentStatus, Language, Voice};
use crate::model::page::{Page, PageRequest};
use crate::model::scope::Scope;
use crate::rules::agents;

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
    /// The voice the agent speaks with.
    pub voice: Voice,
    /// The language the agent speaks, as a BCP 47 tag.
    pub language: Language,
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
    /// New voice.
    pub voice: Option<Voice>,
    /// New language (BCP 47).
    pub language: Option<Language>,
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
    #[tool(
        meta = needs(Scope::AgentsRead),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_agents(
        &self,
        caller: Caller,
        Parameters(p): Parameters<ListAgents>,
    ) -> Result<Json<Page<Agent>>, Error> {
        let request = PageRequest {
            limit: p.limit,
            cursor: p.cursor,
        };
        let page = agents::list(
            &self.app.store,
            self.pepper()?,
            &caller.account,
            p.customer_id.as_deref(),
            p.status,
            &request,
        );
        page.await.map(Json)
    }

    /// One voice agent by id, with its full prompt.
    #[tool(
        meta = needs(Scope::AgentsRead),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_agent(
        &self,
        caller: Caller,
        Parameters(p): Parameters<AgentId>,
    ) -> Result<Json<Agent>, Error> {
        let agent = agents::get(&self.app.store, &caller.account, &p.agent_id);
        agent.await.map(Json)
    }

    /// Create an AI voice agent for a customer: its name, voice, language and prompt.
    #[tool(
        meta = needs(Scope::AgentsWrite),
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_agent(
        &self,
        caller: Caller,
        Parameters(p): Parameters<CreateAgent>,
    ) -> Result<Json<Agent>, Error> {
        let fields = AgentFields {
            name: Some(p.name),
            voice: Some(p.voice),
            language: Some(p.language),
            prompt: Some(p.prompt),
            status: p.status,
        };
        let via = caller.acting_with("create_agent");
        let agent = agents::create(
            &self.app.store,
            &caller.account,
            &p.customer_id,
            fields,
            caller.at,
            Some(&via),
        );
        agent.await.map(Json)
    }

    /// Change an agent's name, voice, language, prompt or status (pause or resume it).
    /// Only the given fields change.
    #[tool(
        meta = needs(Scope::AgentsWrite),
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_agent(
        &self,
        caller: Caller,
        Parameters(p): Parameters<UpdateAgent>,
    ) -> Result<Json<Agent>, Error> {
        let fields = AgentFields {
            name: p.name,
            voice: p.voice,
            language: p.language,
            prompt: p.prompt,
            status: p.status,
        };
        let via = caller.acting_with("update_agent");
        let agent = agents::update(
            &self.app.store,
            &caller.account,
            &p.agent_id,
            fields,
            caller.at,
            Some(&via),
        );
        agent.await.map(Json)
    }
}
