//! Who acts for an account in the management API: a signed-in user and their role.
//! Members manage their own tokens; owners and admins every token of the account, and
//! they alone set its policy.

use serde::Deserialize;

use super::ids::AccountId;
use super::text::TextRule;
use crate::error::Error;

/// What a signed-in user may do with the account's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    /// The role claim as the identity provider sent it; missing or unknown is the least
    /// privileged role, so a misconfigured claim never grants more.
    pub fn from_claim(claim: Option<&str>) -> Role {
        match claim.map(|c| c.trim().to_ascii_lowercase()).as_deref() {
            Some("owner") => Role::Owner,
            Some("admin") => Role::Admin,
            _ => Role::Member,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Owners and admins see, revoke and govern every token of the account; members only
    /// their own.
    pub fn manages_account(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// A signed-in user of the management API and the account they act for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: AccountId,
    pub user: String,
    pub role: Role,
}

impl Identity {
    /// Whether this user may see and revoke a token created by `creator`.
    pub fn may_manage(&self, creator: &str) -> bool {
        self.role.manages_account() || self.user == creator
    }
}

/// A user id as the identity provider writes it (the JWT's `sub`).
pub const USER: TextRule = TextRule {
    max_chars: 256,
    multiline: false,
    code: "invalid_user",
};

/// A `POST /mcp-tokens/revoke-user` body: whose tokens to revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offboarding {
    pub user: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OffboardingBody {
    user: String,
}

impl Offboarding {
    pub fn from_json(body: &[u8]) -> Result<Offboarding, Error> {
        let body: OffboardingBody = serde_json::from_slice(body).map_err(|_| {
            Error::bad_request(
                "invalid_body",
                r#"the request body must be JSON like {"user": "<the user's id, as Created by shows it>"}"#,
            )
        })?;
        Ok(Offboarding {
            user: USER.check("user", &body.user)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_unknown_role_is_a_member() {
        assert_eq!(Role::from_claim(Some("owner")), Role::Owner);
        assert_eq!(Role::from_claim(Some(" Admin ")), Role::Admin);
        for claim in [None, Some(""), Some("root"), Some("owners"), Some("member")] {
            assert_eq!(Role::from_claim(claim), Role::Member, "{claim:?}");
        }
    }

    #[test]
    fn members_manage_only_their_own_tokens() {
        let identity = |role| Identity {
            account: AccountId::parse("acct_a").unwrap(),
            user: "ana".into(),
            role,
        };
        assert!(identity(Role::Member).may_manage("ana"));
        assert!(!identity(Role::Member).may_manage("bob"));
        assert!(identity(Role::Admin).may_manage("bob"));
        assert!(identity(Role::Owner).may_manage("bob"));
    }

    #[test]
    fn an_offboarding_names_one_user() {
        assert_eq!(
            Offboarding::from_json(br#"{"user": " user_b "}"#)
                .unwrap()
                .user,
            "user_b"
        );
        for bad in [
            "",
            "{}",
            r#"{"user": ""}"#,
            r#"{"user": 7}"#,
            r#"{"user": "a", "all": true}"#,
            r#"{"user": "a\nb"}"#,
        ] {
            let err = Offboarding::from_json(bad.as_bytes()).unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
        }
    }
}
