//! Voice agents: listed, read, created and changed by MCP tools.

use super::customers;
use crate::error::Error;
use crate::model::agents::{Agent, AgentFields, AgentStatus, LISTING};
use crate::model::events::Actor;
use crate::model::hashing::Pepper;
use crate::model::ids::{self, AccountId, AgentId, CustomerId};
use crate::model::page::{Page, PageRequest};
use crate::model::time::Timestamp;
use crate::store::{Store, Written};

pub fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: "agent",
        id: id.to_owned(),
        hint: "; list_agents shows the agent ids",
    }
}

fn parse_id(id: &str) -> Result<AgentId, Error> {
    AgentId::parse(id).ok_or_else(|| not_found(id))
}

/// Creates an agent for an existing customer (checked in the same write).
pub async fn create(
    store: &Store,
    account: &AccountId,
    customer_id: &str,
    fields: AgentFields,
    now: Timestamp,
    via: Option<&Actor>,
) -> Result<Agent, Error> {
    let changes = fields.check()?;
    let customer = customers::parse_id(customer_id)?;
    let agent = changes.create(AgentId::new(now)?, customer, now)?;
    let event = via.map(|a| a.changed(agent.agent_id.as_str(), now));
    match store.insert_agent(account, &agent, event.as_ref()).await? {
        Written::Yes => Ok(agent),
        Written::Refused => Err(customers::not_found(customer_id)),
    }
}

pub async fn get(store: &Store, account: &AccountId, id: &str) -> Result<Agent, Error> {
    let found = store.agent(account, &parse_id(id)?).await?;
    found.ok_or_else(|| not_found(id))
}

pub async fn update(
    store: &Store,
    account: &AccountId,
    id: &str,
    fields: AgentFields,
    now: Timestamp,
    via: Option<&Actor>,
) -> Result<Agent, Error> {
    let changes = fields.check()?;
    if changes.is_empty() {
        return Err(Error::bad_request(
            "invalid_input",
            "nothing to update: give at least one of name, voice, language, prompt, status",
        ));
    }
    let id_ = parse_id(id)?;
    let event = via.map(|a| a.changed(id_.as_str(), now));
    let updated = store
        .update_agent(account, &id_, &changes, now, event.as_ref())
        .await?;
    updated.ok_or_else(|| not_found(id))
}

/// The account's agents, optionally only one customer's or one status. A customer id of
/// the wrong shape matches no agent.
pub async fn list(
    store: &Store,
    pepper: &Pepper,
    account: &AccountId,
    customer_id: Option<&str>,
    status: Option<AgentStatus>,
    request: &PageRequest,
) -> Result<Page<Agent>, Error> {
    let start = LISTING.start(pepper, account, request)?;
    let Some(customer) = ids::filter(customer_id, CustomerId::parse) else {
        return Ok(Page::empty());
    };
    let slice = store
        .agents(
            account,
            start.size,
            start.after.as_ref(),
            customer.as_ref(),
            status,
        )
        .await?;
    Ok(LISTING.page(pepper, account, slice))
}
