//! What a token may do. Every token carries a set of scopes (default: all of them); a
//! read-only token is simply the `:read` half.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    CustomersRead,
    CustomersWrite,
    AgentsRead,
    AgentsWrite,
    CreditsRead,
    CreditsWrite,
    AnalyticsRead,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::CustomersRead,
        Scope::CustomersWrite,
        Scope::AgentsRead,
        Scope::AgentsWrite,
        Scope::CreditsRead,
        Scope::CreditsWrite,
        Scope::AnalyticsRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::CustomersRead => "customers:read",
            Scope::CustomersWrite => "customers:write",
            Scope::AgentsRead => "agents:read",
            Scope::AgentsWrite => "agents:write",
            Scope::CreditsRead => "credits:read",
            Scope::CreditsWrite => "credits:write",
            Scope::AnalyticsRead => "analytics:read",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope \"{0}\"; valid scopes are: customers:read customers:write agents:read agents:write credits:read credits:write analytics:read")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Scope, UnknownScope> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

/// A deduplicated set of scopes in canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    pub fn all() -> Scopes {
        Scopes::from_iter(Scope::ALL)
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & bit(scope) != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    pub fn to_strings(self) -> Vec<String> {
        self.iter().map(|s| s.as_str().to_owned()).collect()
    }

    /// Parses names as given by a caller or read back from the store.
    pub fn parse<I, S>(names: I) -> Result<Scopes, UnknownScope>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        names
            .into_iter()
            .map(|name| name.as_ref().parse::<Scope>())
            .collect()
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The scopes both sets hold: what a token may do under a narrower policy.
    pub fn intersection(self, other: Scopes) -> Scopes {
        Scopes(self.0 & other.0)
    }

    /// This set and `scope`.
    pub fn with(self, scope: Scope) -> Scopes {
        Scopes(self.0 | bit(scope))
    }

    /// The scopes of this set that `other` lacks.
    pub fn without(self, other: Scopes) -> Scopes {
        Scopes(self.0 & !other.0)
    }
}

fn bit(scope: Scope) -> u8 {
    1 << (scope as u8)
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<T: IntoIterator<Item = Scope>>(iter: T) -> Scopes {
        Scopes(iter.into_iter().fold(0, |acc, s| acc | bit(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_round_trips_through_its_name() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
        }
    }

    #[test]
    fn unknown_scope_names_the_valid_ones() {
        let err = Scopes::parse(["customers:read", "customers:delete"]).unwrap_err();
        assert_eq!(err, UnknownScope("customers:delete".into()));
        assert!(err.to_string().contains("analytics:read"));
    }

    #[test]
    fn scopes_are_deduplicated_and_kept_in_canonical_order() {
        let scopes = Scopes::parse(["analytics:read", "customers:read", "analytics:read"]).unwrap();
        assert_eq!(scopes.to_strings(), ["customers:read", "analytics:read"]);
    }
}
