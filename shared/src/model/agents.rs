//! Voice agents: each serves one customer, speaks with a voice and a language, and follows
//! a prompt. Voices and languages are closed sets, so they are enums: the input schema
//! lists them and a model can only choose among them.

use serde::{Deserialize, Deserializer, Serialize};

use super::ids::{AgentId, CustomerId};
use super::page::Listing;
use super::text::TextRule;
use super::time::Timestamp;
use crate::error::Error;

pub const NAME: TextRule = TextRule::line(100);
pub const PROMPT: TextRule = TextRule::lines(8000);
pub const LISTING: Listing = Listing {
    name: "agent",
    default_size: 25,
    max_size: 100,
};

/// A closed set of names: parsed forgivingly (trimmed, any case), shown canonically.
macro_rules! catalogue {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        #[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(s))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| {
                    let all: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    serde::de::Error::custom(format!(
                        "unknown {} {s:?}; choose one of: {}",
                        $what,
                        all.join(", ")
                    ))
                })
            }
        }
    };
}

catalogue!(
    /// The voices agents can speak with.
    Voice, "voice" {
        Aria = "aria", Atlas = "atlas", Ember = "ember", Juniper = "juniper",
        Nova = "nova", Orion = "orion", Sage = "sage", Willow = "willow",
    }
);

catalogue!(
    /// The languages agents can speak, as BCP 47 tags.
    Language, "language" {
        EnUs = "en-US", EnGb = "en-GB", EnAu = "en-AU", EsEs = "es-ES", EsMx = "es-MX",
        FrFr = "fr-FR", DeDe = "de-DE", ItIt = "it-IT", PtBr = "pt-BR", NlNl = "nl-NL",
    }
);

catalogue!(
    AgentStatus, "status" {
        Active = "active",
        Paused = "paused",
        Draft = "draft",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
pub struct Agent {
    pub agent_id: AgentId,
    pub customer_id: CustomerId,
    pub name: String,
    pub voice: Voice,
    pub language: Language,
    pub prompt: String,
    /// `active` takes calls; `paused` and `draft` do not.
    pub status: AgentStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a caller asks to set on an agent, unchecked; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct AgentFields {
    pub name: Option<String>,
    pub voice: Option<Voice>,
    pub language: Option<Language>,
    pub prompt: Option<String>,
    pub status: Option<AgentStatus>,
}

/// The same, checked: what the store writes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AgentChanges {
    pub name: Option<String>,
    pub voice: Option<Voice>,
    pub language: Option<Language>,
    pub prompt: Option<String>,
    pub status: Option<AgentStatus>,
}

impl AgentFields {
    pub fn check(self) -> Result<AgentChanges, Error> {
        Ok(AgentChanges {
            name: self.name.map(|n| NAME.check("name", &n)).transpose()?,
            voice: self.voice,
            language: self.language,
            prompt: self
                .prompt
                .map(|p| PROMPT.check("prompt", &p))
                .transpose()?,
            status: self.status,
        })
    }
}

impl AgentChanges {
    pub fn is_empty(&self) -> bool {
        *self == AgentChanges::default()
    }

    /// A new agent for `customer`; name, voice, language and prompt are required.
    pub fn create(self, id: AgentId, customer: CustomerId, now: Timestamp) -> Result<Agent, Error> {
        let required =
            |field: &str| Error::bad_request("invalid_input", format!("{field} is required"));
        Ok(Agent {
            agent_id: id,
            customer_id: customer,
            name: self.name.ok_or_else(|| required("name"))?,
            voice: self.voice.ok_or_else(|| required("voice"))?,
            language: self.language.ok_or_else(|| required("language"))?,
            prompt: self.prompt.ok_or_else(|| required("prompt"))?,
            status: self.status.unwrap_or(AgentStatus::Active),
            created_at: now,
            updated_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voices_and_languages_parse_in_any_case_and_show_canonically() {
        assert_eq!(Voice::parse(" Nova "), Some(Voice::Nova));
        assert_eq!(Language::parse("en-us"), Some(Language::EnUs));
        assert_eq!(Language::EnUs.as_str(), "en-US");
        let err = serde_json::from_str::<Voice>(r#""robot""#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("choose one of: aria, atlas"), "{err}");
        assert_eq!(serde_json::to_value(Language::PtBr).unwrap(), "pt-BR");
    }

    #[test]
    fn a_new_agent_needs_every_field_but_status() {
        let now = Timestamp::now();
        let (id, customer) = (AgentId::new(now).unwrap(), CustomerId::new(now).unwrap());
        let fields = AgentFields {
            name: Some("Max".into()),
            voice: Some(Voice::Orion),
            language: Some(Language::EnUs),
            prompt: Some("Be brief.\nBe kind.".into()),
            status: None,
        };
        let agent = fields
            .clone()
            .check()
            .unwrap()
            .create(id.clone(), customer.clone(), now);
        assert_eq!(agent.unwrap().status, AgentStatus::Active);
        let no_voice = AgentFields {
            voice: None,
            ..fields
        };
        let err = no_voice
            .check()
            .unwrap()
            .create(id, customer, now)
            .unwrap_err();
        assert!(err.to_string().contains("voice is required"));
    }
}
