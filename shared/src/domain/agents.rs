//! Voice agents: each serves one customer, speaks with a voice and a language, and follows
//! a prompt.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};
use serde::Serialize;
use time::OffsetDateTime;

use super::{customers, matches, rfc3339, text, Page, Record};
use crate::error::Error;
use crate::hashing::Pepper;
use crate::identity::AccountId;
use crate::ids;
use crate::store::{keys, n, s, Item, ItemExt, Store};

pub const ID_PREFIX: &str = "agt_";

/// The voices agents can speak with.
pub const VOICES: [&str; 8] = [
    "aria", "atlas", "ember", "juniper", "nova", "orion", "sage", "willow",
];
/// The languages agents can speak, as BCP 47 tags.
pub const LANGUAGES: [&str; 10] = [
    "en-US", "en-GB", "en-AU", "es-ES", "es-MX", "fr-FR", "de-DE", "it-IT", "pt-BR", "nl-NL",
];
const MAX_PROMPT_CHARS: usize = 8000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    /// Takes calls.
    Active,
    /// Takes no calls until set active again.
    Paused,
    /// Being set up; takes no calls.
    Draft,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Active => "active",
            AgentStatus::Paused => "paused",
            AgentStatus::Draft => "draft",
        }
    }

    fn parse(s: &str) -> Option<AgentStatus> {
        [AgentStatus::Active, AgentStatus::Paused, AgentStatus::Draft]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agent {
    pub agent_id: String,
    pub customer_id: String,
    pub name: String,
    pub voice: String,
    pub language: String,
    pub prompt: String,
    pub status: AgentStatus,
    pub created_at: String,
    pub updated_at: String,
}

/// What a caller may set on an agent; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct AgentFields {
    pub name: Option<String>,
    pub voice: Option<String>,
    pub language: Option<String>,
    pub prompt: Option<String>,
    pub status: Option<AgentStatus>,
}

impl AgentFields {
    fn assignments(self) -> Result<Vec<(&'static str, AttributeValue)>, Error> {
        let mut sets = Vec::new();
        if let Some(name) = self.name {
            sets.push(("name", s(text("name", &name, 100, false)?)));
        }
        if let Some(voice) = self.voice {
            sets.push(("voice", s(one_of("voice", &voice, &VOICES)?)));
        }
        if let Some(language) = self.language {
            sets.push(("language", s(one_of("language", &language, &LANGUAGES)?)));
        }
        if let Some(prompt) = self.prompt {
            sets.push((
                "prompt",
                s(text("prompt", &prompt, MAX_PROMPT_CHARS, true)?),
            ));
        }
        if let Some(status) = self.status {
            sets.push(("status", s(status.as_str())));
        }
        Ok(sets)
    }
}

/// Creates an agent for an existing customer; the customer's existence is checked in the
/// same transaction as the write, so an agent never points at nobody.
pub async fn create(
    store: &Store,
    account: &AccountId,
    customer_id: &str,
    fields: AgentFields,
    now: OffsetDateTime,
) -> Result<Agent, Error> {
    for (field, given) in [
        ("name", fields.name.is_some()),
        ("voice", fields.voice.is_some()),
        ("language", fields.language.is_some()),
        ("prompt", fields.prompt.is_some()),
    ] {
        if !given {
            return Err(Error::bad_request(
                "invalid_input",
                format!("{field} is required"),
            ));
        }
    }
    if !ids::is_valid(customers::ID_PREFIX, customer_id) {
        return Err(customers::not_found(customer_id));
    }
    let id = ids::new(ID_PREFIX, now)?;
    let status = fields.status.unwrap_or(AgentStatus::Active);
    let mut item = Item::from([
        (keys::PK.into(), s(keys::account(account))),
        (keys::SK.into(), s(keys::agent(&id))),
        ("agent_id".into(), s(&id)),
        ("customer_id".into(), s(customer_id)),
        ("status".into(), s(status.as_str())),
        ("created_at".into(), n(now.unix_timestamp())),
        ("updated_at".into(), n(now.unix_timestamp())),
    ]);
    item.extend(
        fields
            .assignments()?
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v)),
    );
    let customer_exists = ConditionCheck::builder()
        .table_name(store.table())
        .key(keys::PK, s(keys::account(account)))
        .key(keys::SK, s(keys::customer(customer_id)))
        .condition_expression("attribute_exists(PK)")
        .build()
        .map_err(|e| Error::Internal(e.into()))?;
    let writes = vec![
        TransactWriteItem::builder()
            .condition_check(customer_exists)
            .build(),
        TransactWriteItem::builder()
            .put(store.create_op(item.clone())?)
            .build(),
    ];
    match store.transact(writes).await? {
        None => Agent::from_item(&item),
        Some(0) => Err(customers::not_found(customer_id)),
        Some(_) => Err(Error::Internal("a new agent id collided".into())),
    }
}

pub async fn get(store: &Store, account: &AccountId, id: &str) -> Result<Agent, Error> {
    super::get(store, account, id).await
}

pub async fn update(
    store: &Store,
    account: &AccountId,
    id: &str,
    fields: AgentFields,
    now: OffsetDateTime,
) -> Result<Agent, Error> {
    let sets = fields.assignments()?;
    super::update(
        store,
        account,
        id,
        sets,
        "name, voice, language, prompt, status",
        now,
    )
    .await
}

/// The account's agents, optionally only one customer's or one status.
pub async fn list(
    store: &Store,
    pepper: &Pepper,
    account: &AccountId,
    customer_id: Option<&str>,
    status: Option<AgentStatus>,
    limit: Option<u32>,
    page_cursor: Option<&str>,
) -> Result<Page<Agent>, Error> {
    let status = status.map(AgentStatus::as_str);
    // Agents per account are few (tens), so filtering a Query of them beats an index.
    super::page(store, pepper, account, (limit, page_cursor), |item| {
        matches(item, "customer_id", customer_id) && matches(item, "status", status)
    })
    .await
}

/// Every agent of the account (names for analytics).
pub async fn all(store: &Store, account: &AccountId) -> Result<Vec<Agent>, Error> {
    super::all(store, account).await
}

impl Record for Agent {
    const KIND: &'static str = "agent";
    const ID_PREFIX: &'static str = ID_PREFIX;
    const SK_PREFIX: &'static str = keys::AGENT_PREFIX;
    const HINT: &'static str = "; list_agents shows the agent ids";

    fn sort_key(id: &str) -> String {
        keys::agent(id)
    }

    fn from_item(item: &Item) -> Result<Agent, Error> {
        Ok(Agent {
            agent_id: item.string("agent_id")?,
            customer_id: item.string("customer_id")?,
            name: item.string("name")?,
            voice: item.string("voice")?,
            language: item.string("language")?,
            prompt: item.string("prompt")?,
            status: AgentStatus::parse(&item.string("status")?).unwrap_or(AgentStatus::Paused),
            created_at: rfc3339(item.int("created_at")?),
            updated_at: rfc3339(item.int("updated_at")?),
        })
    }

    fn id(&self) -> &str {
        &self.agent_id
    }
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<String, Error> {
    let value = value.trim();
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(value))
        .map(|a| (*a).to_owned())
        .ok_or_else(|| {
            Error::bad_request(
                "invalid_input",
                format!(
                    "unknown {field} {value:?}; choose one of: {}",
                    allowed.join(", ")
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voices_and_languages_come_from_the_catalogue_in_canonical_case() {
        assert_eq!(one_of("voice", " Nova ", &VOICES).unwrap(), "nova");
        assert_eq!(one_of("language", "en-us", &LANGUAGES).unwrap(), "en-US");
        let err = one_of("voice", "robot", &VOICES).unwrap_err().to_string();
        assert!(err.contains("aria, atlas"), "{err}");
    }
}
