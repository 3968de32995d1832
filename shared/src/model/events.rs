//! A token's history: when it was created and by whom, when and why it was revoked, and
//! every change made through MCP with it — the tool and the target, never the arguments.
//! Kept 400 days.

use serde::Serialize;

use super::ids::TokenId;
use super::page::Listing;
use super::scope::Scopes;
use super::time::Timestamp;

/// How long history is kept (DynamoDB TTL).
pub const KEPT_DAYS: i64 = 400;
pub const LISTING: Listing = Listing {
    name: "token events",
    default_size: 25,
    max_size: 100,
};

/// Why a token was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokedReason {
    /// A user of the account revoked it.
    User,
    /// GitHub's secret scanning found it in public.
    Leaked,
    /// Someone holding it asked for it to be revoked.
    ReportedByHolder,
    /// Its maker left the account: an owner or admin revoked every token they made.
    Offboarded,
    /// Not used for as long as the account's policy lets a token go unused.
    Unused,
    /// A connected app's authorization code or refresh token was used twice: one of the
    /// two users is not the app, so the grant ends for both.
    Replayed,
    /// The connected app itself gave the grant up (RFC 7009 revocation).
    App,
}

impl RevokedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokedReason::User => "user",
            RevokedReason::Leaked => "leaked",
            RevokedReason::ReportedByHolder => "reported_by_holder",
            RevokedReason::Offboarded => "offboarded",
            RevokedReason::Unused => "unused",
            RevokedReason::Replayed => "replayed",
            RevokedReason::App => "app",
        }
    }

    pub fn parse(s: &str) -> Option<RevokedReason> {
        [
            Self::User,
            Self::Leaked,
            Self::ReportedByHolder,
            Self::Offboarded,
            Self::Unused,
            Self::Replayed,
            Self::App,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// Who or what revoked a token, and where a leak was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub reason: RevokedReason,
    /// The user, for [`RevokedReason::User`].
    pub by: Option<String>,
    /// Where a leak report found it, and what kind of place that is.
    pub url: Option<String>,
    pub source: Option<String>,
}

impl Revocation {
    pub fn by_user(user: &str) -> Revocation {
        Revocation {
            reason: RevokedReason::User,
            by: Some(user.to_owned()),
            url: None,
            source: None,
        }
    }

    /// Revoked by the account's policy: not used for as long as it allows.
    pub fn unused() -> Revocation {
        Revocation {
            reason: RevokedReason::Unused,
            by: None,
            url: None,
            source: None,
        }
    }

    /// Revoked for `reason`, by no user.
    pub fn because(reason: RevokedReason) -> Revocation {
        Revocation {
            reason,
            by: None,
            url: None,
            source: None,
        }
    }

    /// Revoked by `user` (an owner or admin) because the token's maker left.
    pub fn offboarded_by(user: &str) -> Revocation {
        Revocation {
            reason: RevokedReason::Offboarded,
            ..Revocation::by_user(user)
        }
    }
}

/// What happened to a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Created {
        by: String,
        scopes: Vec<String>,
        expires_at: Option<Timestamp>,
    },
    Revoked {
        reason: RevokedReason,
        #[serde(skip_serializing_if = "Option::is_none")]
        by: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        source: Option<String>,
    },
    /// A change made through MCP with the token.
    Changed { tool: String, target: String },
    /// `by` rotated a token: recorded on the token it replaced (`replaced_by`) and on the
    /// new one (`replaces`), with the overlap the old one was given.
    Rotated {
        by: String,
        overlap_minutes: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        replaced_by: Option<TokenId>,
        #[serde(skip_serializing_if = "Option::is_none")]
        replaces: Option<TokenId>,
    },
    /// A replaced token was used after its overlap ended: recorded on it and on the token
    /// that replaced it, with where the call came from.
    ReusedAfterRotation {
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        replaced_by: Option<TokenId>,
        #[serde(skip_serializing_if = "Option::is_none")]
        replaces: Option<TokenId>,
    },
    /// `by` deleted the token's row from the list; its history stays.
    Deleted { by: String },
}

impl EventKind {
    pub fn created(by: &str, scopes: Scopes, expires_at: Option<Timestamp>) -> EventKind {
        EventKind::Created {
            by: by.to_owned(),
            scopes: scopes.to_strings(),
            expires_at,
        }
    }

    pub fn revoked(revocation: &Revocation) -> EventKind {
        EventKind::Revoked {
            reason: revocation.reason,
            by: revocation.by.clone(),
            url: revocation.url.clone(),
            source: revocation.source.clone(),
        }
    }
}

/// One entry of a token's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenEvent {
    pub token_id: TokenId,
    pub at: Timestamp,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Who makes a change through MCP: the token and the tool; recorded with the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub token_id: TokenId,
    pub tool: &'static str,
}

impl Actor {
    /// The history entry of this change to `target` (an id, never the arguments).
    pub fn changed(&self, target: &str, at: Timestamp) -> TokenEvent {
        TokenEvent {
            token_id: self.token_id.clone(),
            at,
            kind: EventKind::Changed {
                tool: self.tool.to_owned(),
                target: target.to_owned(),
            },
        }
    }
}
