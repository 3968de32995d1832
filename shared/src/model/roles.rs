//! Who acts for an account in the management API: a signed-in user and their role.
//! Members manage their own tokens; owners and admins every token of the account, and
//! they alone set its policy.

use super::ids::AccountId;

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
}
