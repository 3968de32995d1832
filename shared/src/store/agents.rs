//! Voice agent items: one per agent in the account's partition, `AGENT#<id>`.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};

use super::ops::{collided, Condition, Write};

use super::item::{s, time, Item, ItemExt};
use super::{internal, keys, Store, Written};
use crate::error::Error;
use crate::model::agents::{Agent, AgentChanges, AgentStatus, Language, Voice};
use crate::model::events::TokenEvent;
use crate::model::ids::{AccountId, AgentId, CustomerId};
use crate::model::page::{Position, Slice};
use crate::model::time::Timestamp;

impl Store {
    pub async fn agent(&self, account: &AccountId, id: &AgentId) -> Result<Option<Agent>, Error> {
        self.get(keys::account(account), keys::agent(id))
            .await?
            .as_ref()
            .map(agent_from_item)
            .transpose()
    }

    /// Writes a new agent if its customer exists, checked in the same transaction, so an
    /// agent never points at nobody; [`Written::Refused`] if the customer does not.
    pub async fn insert_agent(
        &self,
        account: &AccountId,
        a: &Agent,
        event: Option<&TokenEvent>,
    ) -> Result<Written, Error> {
        let customer_exists = ConditionCheck::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::account(account)))
            .key(keys::SK, s(keys::customer(&a.customer_id)))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(internal)?;
        let mut writes = vec![
            Write::new(
                Condition::Exists,
                TransactWriteItem::builder()
                    .condition_check(customer_exists)
                    .build(),
            ),
            self.create_op(agent_item(account, a))?,
        ];
        if let Some(event) = event {
            writes.push(self.event_op(account, event)?);
        }
        match self.transact(writes).await? {
            None => Ok(Written::Yes),
            Some(Condition::Exists) => Ok(Written::Refused),
            Some(other) => Err(collided(other)),
        }
    }

    /// Applies the changes to an existing agent; `None` if there is none with that id.
    pub async fn update_agent(
        &self,
        account: &AccountId,
        id: &AgentId,
        changes: &AgentChanges,
        now: Timestamp,
        event: Option<&TokenEvent>,
    ) -> Result<Option<Agent>, Error> {
        let mut sets: Vec<(&str, AttributeValue)> = vec![("updated_at", time(now))];
        let c = changes.clone();
        sets.extend(c.name.map(|v| ("name", s(v))));
        sets.extend(c.voice.map(|v| ("voice", s(v.as_str()))));
        sets.extend(c.language.map(|v| ("language", s(v.as_str()))));
        sets.extend(c.prompt.map(|v| ("prompt", s(v))));
        sets.extend(c.status.map(|v| ("status", s(v.as_str()))));
        let key = (keys::account(account), keys::agent(id));
        let updated = match event {
            Some(event) => {
                self.update_existing_recorded(key, sets, account, event)
                    .await?
            }
            None => self.update_existing(key.0, key.1, sets).await?,
        };
        updated.as_ref().map(agent_from_item).transpose()
    }

    /// A page of agents, oldest first, optionally one customer's or of one status.
    pub async fn agents(
        &self,
        account: &AccountId,
        size: usize,
        after: Option<&Position>,
        customer: Option<&CustomerId>,
        status: Option<AgentStatus>,
    ) -> Result<Slice<Agent>, Error> {
        // Agents per account are few (tens), so filtering a Query of them beats an index;
        // the page's read bound holds either way.
        let matches = |a: &Agent| {
            customer.is_none_or(|c| &a.customer_id == c) && status.is_none_or(|s| a.status == s)
        };
        let filtered = customer.is_some() || status.is_some();
        self.page(
            &keys::account(account),
            keys::AGENT_PREFIX,
            false,
            size,
            after,
            agent_from_item,
            filtered.then_some(&matches as _),
        )
        .await
    }

    /// Every agent of the account (names for analytics).
    pub async fn all_agents(&self, account: &AccountId) -> Result<Vec<Agent>, Error> {
        let too_many = "this account has more agents than one answer can hold";
        self.all(&keys::account(account), keys::AGENT_PREFIX, too_many)
            .await?
            .iter()
            .map(agent_from_item)
            .collect()
    }
}

fn agent_item(account: &AccountId, a: &Agent) -> Item {
    Item::from([
        (keys::PK.into(), s(keys::account(account))),
        (keys::SK.into(), s(keys::agent(&a.agent_id))),
        ("agent_id".into(), s(a.agent_id.as_str())),
        ("customer_id".into(), s(a.customer_id.as_str())),
        ("name".into(), s(&a.name)),
        ("voice".into(), s(a.voice.as_str())),
        ("language".into(), s(a.language.as_str())),
        ("prompt".into(), s(&a.prompt)),
        ("status".into(), s(a.status.as_str())),
        ("created_at".into(), time(a.created_at)),
        ("updated_at".into(), time(a.updated_at)),
    ])
}

fn agent_from_item(item: &Item) -> Result<Agent, Error> {
    Ok(Agent {
        agent_id: item.parsed("agent_id", AgentId::parse)?,
        customer_id: item.parsed("customer_id", CustomerId::parse)?,
        name: item.string("name")?,
        voice: item.parsed("voice", Voice::parse)?,
        language: item.parsed("language", Language::parse)?,
        prompt: item.string("prompt")?,
        status: item.parsed("status", AgentStatus::parse)?,
        created_at: item.time("created_at")?,
        updated_at: item.time("updated_at")?,
    })
}
