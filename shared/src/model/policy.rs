//! An account's token policy, set by its owners and admins: how long a token may live,
//! which scopes tokens may have, which of those members' tokens may have, whether members
//! may create tokens. Enforced when a token is generated and again on every MCP call, so
//! tightening it reaches tokens made before.

use serde_json::{json, Map, Value};

use super::roles::{Identity, Role};
use super::scope::Scopes;
use super::time::Timestamp;
use super::tokens::{NewToken, MAX_EXPIRY_DAYS};
use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Tokens older than this many days are refused; new ones must expire within it.
    pub max_lifetime_days: Option<i64>,
    pub allowed_scopes: Scopes,
    /// What tokens made by members may do, within `allowed_scopes` (owners' and admins'
    /// tokens have all of those).
    pub member_scopes: Scopes,
    pub members_may_create: bool,
    /// A token not used for this many days (counting from its creation if it never was)
    /// is refused on its next call and revoked, reason `unused`.
    pub revoke_unused_after_days: Option<i64>,
}

/// The range of `revoke_unused_after_days`.
pub const UNUSED_DAYS: std::ops::RangeInclusive<i64> = 30..=365;

/// An account that never set a policy: what tokens could do before policies existed.
impl Default for Policy {
    fn default() -> Policy {
        Policy {
            max_lifetime_days: None,
            allowed_scopes: Scopes::all(),
            member_scopes: Scopes::all(),
            members_may_create: true,
            revoke_unused_after_days: None,
        }
    }
}

const FIELDS: [&str; 5] = [
    "max_lifetime_days",
    "allowed_scopes",
    "member_scopes",
    "members_may_create",
    "revoke_unused_after_days",
];
const EXAMPLE: &str = r#"{"max_lifetime_days": 90, "allowed_scopes": ["customers:read", "customers:write"], "member_scopes": ["customers:read"], "members_may_create": true, "revoke_unused_after_days": null}"#;

impl Policy {
    /// A `PUT /mcp-tokens/policy` body. It replaces the policy, so every field is
    /// required (`max_lifetime_days` may be `null`): a forgotten field must not silently
    /// loosen a rule.
    pub fn from_json(body: &[u8]) -> Result<Policy, Error> {
        let bad = |message: String| Error::bad_request("invalid_policy", message);
        let fields: Map<String, Value> = serde_json::from_slice(body)
            .map_err(|_| bad(format!("the request body must be JSON like {EXAMPLE}")))?;
        if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(bad(format!(
                "unknown field \"{unknown}\"; a policy has max_lifetime_days, allowed_scopes, member_scopes, members_may_create and revoke_unused_after_days"
            )));
        }
        let field = |name: &str| {
            fields.get(name).ok_or_else(|| {
                bad(format!(
                    "{name} is required: a policy is replaced whole, like {EXAMPLE}"
                ))
            })
        };
        let max_lifetime_days = match field("max_lifetime_days")? {
            Value::Null => None,
            days => Some(
                days.as_i64()
                    .filter(|d| (1..=MAX_EXPIRY_DAYS).contains(d))
                    .ok_or_else(|| {
                        bad(format!(
                            "max_lifetime_days must be a whole number of days from 1 to {MAX_EXPIRY_DAYS}, or null for no maximum"
                        ))
                    })?,
            ),
        };
        let scopes = |name: &str| -> Result<Scopes, Error> {
            let names = field(name)?
                .as_array()
                .and_then(|a| a.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
                .ok_or_else(|| bad(format!("{name} must be a list of scope names")))?;
            let scopes = Scopes::parse(names).map_err(|e| bad(e.to_string()))?;
            if scopes.is_empty() {
                return Err(bad(format!(
                    "{name} must list at least one scope: a policy that allows none would refuse every such token"
                )));
            }
            Ok(scopes)
        };
        let allowed_scopes = scopes("allowed_scopes")?;
        let member_scopes = scopes("member_scopes")?;
        let beyond = member_scopes.without(allowed_scopes);
        if !beyond.is_empty() {
            return Err(bad(format!(
                "member_scopes must be among allowed_scopes; {} is not",
                beyond.to_strings().join(", ")
            )));
        }
        let members_may_create = field("members_may_create")?
            .as_bool()
            .ok_or_else(|| bad("members_may_create must be true or false".into()))?;
        let revoke_unused_after_days = match field("revoke_unused_after_days")? {
            Value::Null => None,
            days => Some(
                days.as_i64()
                    .filter(|d| UNUSED_DAYS.contains(d))
                    .ok_or_else(|| {
                        bad(format!(
                            "revoke_unused_after_days must be a whole number of days from {} to {}, or null to keep unused tokens",
                            UNUSED_DAYS.start(),
                            UNUSED_DAYS.end()
                        ))
                    })?,
            ),
        };
        Ok(Policy {
            max_lifetime_days,
            allowed_scopes,
            member_scopes,
            members_may_create,
            revoke_unused_after_days,
        })
    }

    pub fn to_json(&self) -> Value {
        json!({
            "max_lifetime_days": self.max_lifetime_days,
            "allowed_scopes": self.allowed_scopes.to_strings(),
            "member_scopes": self.member_scopes.to_strings(),
            "members_may_create": self.members_may_create,
            "revoke_unused_after_days": self.revoke_unused_after_days,
        })
    }

    /// Whether `identity` may make the token `new` asks for, and with which scopes: a
    /// request that leaves scopes out gets every scope the policy allows its maker.
    pub fn admit(&self, identity: &Identity, new: &NewToken) -> Result<Scopes, Error> {
        let refuse = |message: String| Error::bad_request("token_policy", message);
        if !self.members_may_create && !identity.role.manages_account() {
            return Err(refuse(
                "the account's token policy lets only owners and admins create tokens".into(),
            ));
        }
        if let Some(max) = self.max_lifetime_days {
            match new.expires_in_days {
                None => {
                    return Err(refuse(format!(
                        "the account's token policy requires an expiry: set expires_in_days to at most {max}"
                    )))
                }
                Some(days) if days > max => {
                    return Err(refuse(format!(
                        "the account's token policy allows tokens to live at most {max} days; expires_in_days is {days}"
                    )))
                }
                Some(_) => {}
            }
        }
        let allowed = self.scopes_for(identity.role);
        let scopes = new.scopes.unwrap_or(allowed);
        let beyond = scopes.without(allowed);
        if !beyond.is_empty() {
            let whose = match identity.role {
                Role::Member => "members' tokens ",
                Role::Owner | Role::Admin => "",
            };
            return Err(refuse(format!(
                "the account's token policy does not allow {whose}the scope{} {}; allowed: {}",
                if beyond.iter().count() > 1 { "s" } else { "" },
                beyond.to_strings().join(", "),
                allowed.to_strings().join(", ")
            )));
        }
        Ok(scopes)
    }

    /// What a token made by someone of role `maker` may have under this policy.
    pub fn scopes_for(&self, maker: Role) -> Scopes {
        match maker {
            Role::Member => self.allowed_scopes.intersection(self.member_scopes),
            Role::Owner | Role::Admin => self.allowed_scopes,
        }
    }

    /// When a token made at `created_at` stops working under this policy, if it does.
    pub fn lifetime_end(&self, created_at: Timestamp) -> Option<Timestamp> {
        let days = self.max_lifetime_days?;
        created_at.checked_add(time::Duration::seconds(days.checked_mul(86_400)?))
    }

    /// When a token last used (or, never used, made) at `last` is retired as unused under
    /// this policy, if it is.
    pub fn unused_end(&self, last: Timestamp) -> Option<Timestamp> {
        let days = self.revoke_unused_after_days?;
        last.checked_add(time::Duration::seconds(days.checked_mul(86_400)?))
    }

    /// What a token with `scopes`, made by someone of role `maker`, may do now: never
    /// more than the policy allows such a token today.
    pub fn effective_scopes(&self, scopes: Scopes, maker: Role) -> Scopes {
        scopes.intersection(self.scopes_for(maker))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::AccountId;
    use crate::model::roles::Role;
    use crate::model::scope::Scope;

    fn identity(role: Role) -> Identity {
        Identity {
            account: AccountId::parse("acct_a").unwrap(),
            user: "ana".into(),
            role,
        }
    }

    fn new(scopes: Option<&[&str]>, days: Option<i64>) -> NewToken {
        NewToken {
            name: "x".into(),
            scopes: scopes.map(|s| Scopes::parse(s).unwrap()),
            expires_in_days: days,
            allowed_ips: None,
        }
    }

    fn strict() -> Policy {
        Policy {
            max_lifetime_days: Some(30),
            allowed_scopes: Scopes::parse(["customers:read", "analytics:read"]).unwrap(),
            member_scopes: Scopes::parse(["analytics:read"]).unwrap(),
            members_may_create: false,
            revoke_unused_after_days: Some(90),
        }
    }

    #[test]
    fn the_default_policy_allows_what_tokens_always_could() {
        let scopes = Policy::default()
            .admit(&identity(Role::Member), &new(None, None))
            .unwrap();
        assert_eq!(scopes, Scopes::all());
    }

    #[test]
    fn generate_beyond_the_policy_is_refused_naming_the_rule() {
        let admin = identity(Role::Admin);
        let refusal = |p: &Policy, i: &Identity, n: NewToken| {
            let err = p.admit(i, &n).unwrap_err();
            assert_eq!((err.status().as_u16(), err.code()), (400, "token_policy"));
            err.to_string()
        };
        assert!(
            refusal(&strict(), &identity(Role::Member), new(None, Some(1)))
                .contains("only owners and admins")
        );
        assert!(refusal(&strict(), &admin, new(None, None)).contains("requires an expiry"));
        assert!(refusal(&strict(), &admin, new(None, Some(31))).contains("at most 30 days"));
        let beyond = refusal(
            &strict(),
            &admin,
            new(Some(&["customers:read", "credits:write"]), Some(30)),
        );
        assert!(beyond.contains("scope credits:write;"), "{beyond}");
        assert_eq!(
            strict().admit(&admin, &new(None, Some(30))).unwrap(),
            strict().allowed_scopes
        );
        // Members' tokens: within the member scopes, which is what they get by default.
        let open_to_members = Policy {
            members_may_create: true,
            ..strict()
        };
        let member = identity(Role::Member);
        let beyond = refusal(
            &open_to_members,
            &member,
            new(Some(&["customers:read"]), Some(30)),
        );
        assert!(
            beyond.contains(
                "does not allow members' tokens the scope customers:read; allowed: analytics:read"
            ),
            "{beyond}"
        );
        assert_eq!(
            open_to_members
                .admit(&member, &new(None, Some(30)))
                .unwrap(),
            Scopes::parse(["analytics:read"]).unwrap()
        );
    }

    #[test]
    fn a_narrower_policy_narrows_existing_tokens_and_their_lifetime() {
        let policy = strict();
        let effective = policy.effective_scopes(Scopes::all(), Role::Admin);
        assert!(effective.contains(Scope::CustomersRead));
        assert!(!effective.contains(Scope::CustomersWrite));
        let members = policy.effective_scopes(Scopes::all(), Role::Member);
        assert_eq!(members, Scopes::parse(["analytics:read"]).unwrap());
        let made = Timestamp::from_unix(0).unwrap();
        assert_eq!(
            policy.lifetime_end(made).map(Timestamp::unix),
            Some(30 * 86_400)
        );
        assert_eq!(Policy::default().lifetime_end(made), None);
        // Whatever a stored item says, never a panic.
        for days in [i64::MAX, i64::MIN, 1_000_000_000_000_000] {
            let odd = Policy {
                max_lifetime_days: Some(days),
                ..Policy::default()
            };
            assert_eq!(odd.lifetime_end(made), None, "{days}");
        }
    }

    #[test]
    fn a_policy_body_is_whole_and_valid_or_a_400() {
        let policy = Policy::from_json(
            br#"{"max_lifetime_days": 30, "allowed_scopes": ["customers:read", "analytics:read"], "member_scopes": ["analytics:read"], "members_may_create": false, "revoke_unused_after_days": 90}"#,
        )
        .unwrap();
        assert_eq!(policy, strict());
        assert_eq!(
            Policy::from_json(policy.to_json().to_string().as_bytes()).unwrap(),
            policy
        );
        for (body, says) in [
            ("", "must be JSON"),
            ("[]", "must be JSON"),
            (
                r#"{"allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": true}"#,
                "max_lifetime_days is required",
            ),
            (
                r#"{"max_lifetime_days": 0, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": true}"#,
                "from 1 to 365",
            ),
            (
                r#"{"max_lifetime_days": 1.5, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": true}"#,
                "from 1 to 365",
            ),
            (
                r#"{"max_lifetime_days": null, "allowed_scopes": [], "member_scopes": ["customers:read"], "members_may_create": true}"#,
                "at least one scope",
            ),
            (
                r#"{"max_lifetime_days": null, "allowed_scopes": ["all"], "member_scopes": ["customers:read"], "members_may_create": true}"#,
                "unknown scope",
            ),
            (
                r#"{"max_lifetime_days": null, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": "yes"}"#,
                "true or false",
            ),
            (
                r#"{"max_lifetime_days": null, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": true, "role": "owner"}"#,
                "unknown field",
            ),
            (
                r#"{"max_lifetime_days": null, "allowed_scopes": ["customers:read"], "members_may_create": true}"#,
                "member_scopes is required",
            ),
            (
                r#"{"max_lifetime_days": null, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:write"], "members_may_create": true}"#,
                "member_scopes must be among allowed_scopes; customers:write is not",
            ),
            (
                r#"{"max_lifetime_days": null, "allowed_scopes": ["customers:read"], "member_scopes": [], "members_may_create": true}"#,
                "member_scopes must list at least one scope",
            ),
            (
                r#"{"max_lifetime_days": null, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": true}"#,
                "revoke_unused_after_days is required",
            ),
            (
                r#"{"max_lifetime_days": null, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": true, "revoke_unused_after_days": 29}"#,
                "from 30 to 365",
            ),
            (
                r#"{"max_lifetime_days": null, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": true, "revoke_unused_after_days": 366}"#,
                "from 30 to 365",
            ),
            (
                r#"{"max_lifetime_days": null, "allowed_scopes": ["customers:read"], "member_scopes": ["customers:read"], "members_may_create": true, "revoke_unused_after_days": "90"}"#,
                "from 30 to 365",
            ),
        ] {
            let err = Policy::from_json(body.as_bytes()).unwrap_err();
            assert_eq!(err.status(), 400, "{body}");
            assert!(err.to_string().contains(says), "{body}: {err}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn scopes() -> impl Strategy<Value = Scopes> {
            (0u8..128).prop_map(|bits| {
                Scope::ALL
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| bits & (1 << i) != 0)
                    .map(|(_, s)| s)
                    .collect()
            })
        }

        proptest! {
            /// Whatever is asked and whatever the policy, a token that is admitted has only
            /// allowed scopes and a lifetime within the maximum; a refusal is a 400.
            #[test]
            fn an_admitted_token_never_exceeds_the_policy(
                asked in proptest::option::of(scopes()), days in proptest::option::of(1i64..=365),
                allowed in scopes(), member_scopes in scopes(), max in proptest::option::of(1i64..=365), members in any::<bool>(),
                role in prop_oneof![Just(Role::Owner), Just(Role::Admin), Just(Role::Member)],
            ) {
                let policy = Policy { max_lifetime_days: max, allowed_scopes: allowed, member_scopes, members_may_create: members, revoke_unused_after_days: None };
                let asked = NewToken { name: "x".into(), scopes: asked, expires_in_days: days, allowed_ips: None };
                match policy.admit(&identity(role), &asked) {
                    Ok(granted) => {
                        prop_assert!(granted.without(allowed).is_empty());
                        prop_assert!(role != Role::Member || granted.without(member_scopes).is_empty());
                        prop_assert!(max.is_none_or(|m| days.is_some_and(|d| d <= m)));
                        prop_assert!(members || role != Role::Member);
                    }
                    Err(e) => prop_assert_eq!(e.status(), 400),
                }
                prop_assert!(policy.effective_scopes(Scopes::all(), role).without(allowed).is_empty());
                if role == Role::Member {
                    prop_assert!(policy.effective_scopes(Scopes::all(), role).without(member_scopes).is_empty());
                }
            }
        }
    }
}
