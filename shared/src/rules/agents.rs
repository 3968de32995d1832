//! Voice agents: listed, read, created and changed by MCP tools. The decisions (which id,
//! which changes, what a refused write means) are pure functions, unit-tested below; the
//! rest reads and writes.

use super::customers;
use crate::error::Error;
use crate::model::agents::{Agent, AgentChanges, AgentFields, AgentStatus, LISTING};
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
    let written = store.insert_agent(account, &agent, event.as_ref()).await?;
    created(written, agent, customer_id)
}

/// The agent made, or — its customer's existence checked in the same write — that the
/// customer is not found.
fn created(written: Written, agent: Agent, customer_id: &str) -> Result<Agent, Error> {
    match written {
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
    let changes = update_of(fields)?;
    let id_ = parse_id(id)?;
    let event = via.map(|a| a.changed(id_.as_str(), now));
    let updated = store
        .update_agent(account, &id_, &changes, now, event.as_ref())
        .await?;
    updated.ok_or_else(|| not_found(id))
}

/// The changes an update asks for, checked, or why there are none to make.
fn update_of(fields: AgentFields) -> Result<AgentChanges, Error> {
    let changes = fields.check()?;
    if changes.is_empty() {
        return Err(Error::bad_request(
            "invalid_input",
            "nothing to update: give at least one of name, voice, language, prompt, status",
        ));
    }
    Ok(changes)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::agents::{Language, Voice};

    fn fields() -> AgentFields {
        AgentFields {
            name: Some("Front desk".into()),
            voice: Some(Voice::Aria),
            language: Some(Language::EnUs),
            prompt: Some("Answer politely.".into()),
            status: None,
        }
    }

    #[test]
    fn an_agent_for_a_customer_that_is_gone_is_that_customer_not_found() {
        let now = Timestamp::now();
        let customer = CustomerId::new(now).unwrap();
        let agent = fields()
            .check()
            .unwrap()
            .create(AgentId::new(now).unwrap(), customer.clone(), now)
            .unwrap();
        assert_eq!(
            created(Written::Yes, agent.clone(), customer.as_str()).unwrap(),
            agent
        );
        let gone = created(Written::Refused, agent, customer.as_str()).unwrap_err();
        assert_eq!(gone.status(), 404);
        assert!(gone
            .to_string()
            .contains(&format!("no customer with id {customer}")));
    }

    #[test]
    fn an_update_must_change_something_valid_and_ids_must_be_agents() {
        assert!(update_of(AgentFields::default())
            .unwrap_err()
            .to_string()
            .starts_with("nothing to update"));
        let long = update_of(AgentFields {
            name: Some("x".repeat(500)),
            ..AgentFields::default()
        })
        .unwrap_err();
        assert_eq!(long.status(), 400);
        assert_eq!(update_of(fields()).unwrap().voice, Some(Voice::Aria));
        let err = parse_id("cus_01KB3X7Q9ZJ4M2V8N6P0R5S1TW").unwrap_err();
        assert!(err.to_string().ends_with("list_agents shows the agent ids"));
    }
}
