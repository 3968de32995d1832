//! Whether a token may act, decided in one place. Where a token stands ([`standing`]:
//! live, revoked, replaced once its rotation's overlap is over, expired by its own date or
//! by its account's maximum lifetime, or retired for disuse by its account's policy) serves
//! the list's status, the leak reports and the revoke; whether an MCP call is admitted
//! ([`admit`]: that, then where the call comes from, the account's API access and what the
//! policy lets the token do today) serves the MCP endpoint. Pure: the callers read, this
//! decides.

use std::net::IpAddr;

use super::account::Account;
use super::events::{Actor, RevokedReason};
use super::ids::{AccountId, TokenId};
use super::policy::Policy;
use super::scope::{Scope, Scopes};
use super::time::Timestamp;
use super::tokens::{Grant, Life, TokenStatus};
use crate::error::{Error, TokenRefusal};

const GENERATE_HINT: &str = "generate a new one in Settings → MCP Tokens";

/// Where a token stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// It works, until `ends` if it ends (its own expiry or the policy's maximum lifetime,
    /// whichever comes first).
    Live {
        ends: Option<Timestamp>,
    },
    Revoked,
    /// A rotation replaced it, and its overlap ended at `at`.
    Replaced {
        at: Timestamp,
    },
    /// It stopped working at `at`; `max_days` when the policy's maximum lifetime ended it.
    Expired {
        at: Timestamp,
        max_days: Option<i64>,
    },
    /// The account's policy retires tokens unused for `days` days, and this one was not
    /// used since `since` (its last use, or its creation).
    Unused {
        days: i64,
        since: Timestamp,
    },
}

impl Standing {
    pub fn is_live(self) -> bool {
        matches!(self, Standing::Live { .. })
    }

    pub fn status(self) -> TokenStatus {
        match self {
            Standing::Live { .. } => TokenStatus::Active,
            // Listed as what its next call makes it: revoked, reason `unused`.
            Standing::Revoked | Standing::Unused { .. } => TokenStatus::Revoked,
            Standing::Replaced { .. } => TokenStatus::Replaced,
            Standing::Expired { .. } => TokenStatus::Expired,
        }
    }
}

/// Where a token stands at `now`, under `policy` when it is known (a leak report reads no
/// policy: it revokes what is live by the token's own items). Revoked outranks replaced,
/// which outranks expired, which outranks unused. A disused token's end is not one of its
/// `ends`: any call moves it.
pub fn standing(life: Life, policy: Option<&Policy>, now: Timestamp) -> Standing {
    if life.revoked {
        return Standing::Revoked;
    }
    if let Some(at) = life.works_until.filter(|until| *until <= now) {
        return Standing::Replaced { at };
    }
    let lifetime_end = policy.and_then(|p| p.lifetime_end(life.created_at));
    let by_policy = lifetime_end.is_some_and(|end| life.expires_at.is_none_or(|own| end < own));
    let (ends, max_days) = match by_policy {
        true => (lifetime_end, policy.and_then(|p| p.max_lifetime_days)),
        false => (life.expires_at, None),
    };
    if let Some(at) = ends.filter(|at| *at <= now) {
        return Standing::Expired { at, max_days };
    }
    let since = life.last_used_at.unwrap_or(life.created_at);
    if let Some(policy) = policy.filter(|p| p.unused_end(since).is_some_and(|end| end <= now)) {
        let days = policy.revoke_unused_after_days.unwrap_or_default();
        return Standing::Unused { days, since };
    }
    let ends = match (ends, life.works_until) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Standing::Live { ends }
}

/// An MCP caller admitted on its token: its account, what it may do and until when, and
/// the account's profile read to admit it (tools that describe the account use it instead
/// of reading it again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: AccountId,
    pub token_id: TokenId,
    /// What the token may do under the account's policy today.
    pub scopes: Scopes,
    /// What a connected app's person could grant it if asked again — what the policy
    /// lets its maker's role have; none for a person's pasted token, which no
    /// authorization flow can widen.
    pub grantable: Scopes,
    /// When the token stops working, if it does.
    pub expires_at: Option<Timestamp>,
    /// The hint of the token a rotation replaced it with: it works only for its overlap.
    pub replaced_by: Option<String>,
    pub profile: Account,
    /// When the call was admitted: the request's one reading of the clock, which its
    /// writes are stamped with too.
    pub at: Timestamp,
}

impl Caller {
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(scope)
    }

    /// The scopes to ask the person for when a call needs `scope` this token lacks, if
    /// asking can get it (step-up authorization): the ones it has, and that one.
    pub fn step_up(&self, scope: Scope) -> Option<Scopes> {
        (!self.may(scope) && self.grantable.contains(scope)).then(|| self.scopes.with(scope))
    }

    /// This token, making a change with `tool`: what its history records.
    pub fn acting_with(&self, tool: &'static str) -> Actor {
        Actor {
            token_id: self.token_id.clone(),
            tool,
        }
    }
}

/// What the account's profile is, to an admission.
#[derive(Debug, Clone, Copy)]
pub enum Profile<'a> {
    /// Not read yet: an admission refuses what it can without it.
    Unread,
    /// The account has no profile.
    Missing,
    Read(&'a Account),
}

/// The decision on one MCP call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Admitted(Caller),
    Refused(Refusal),
    /// The token is fine on its own: decide again with the account's profile. A refused
    /// token costs no profile read.
    NeedsProfile,
}

/// Why an MCP call is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No token has this hash.
    Unknown,
    Revoked {
        reason: Option<RevokedReason>,
        leak_url: Option<String>,
    },
    Expired {
        at: Timestamp,
        max_days: Option<i64>,
    },
    /// Rotated: replaced by the token of hint `by`, at `at`, and its overlap is over.
    Replaced {
        by: String,
        at: Timestamp,
    },
    /// Not used for `days` days: the account's policy retires such tokens.
    Unused {
        days: i64,
    },
    /// Not from an address the token's allowlist holds (or from an unknown one).
    Address {
        from: Option<IpAddr>,
    },
    ApiAccessDisabled,
}

/// Whether the call with the token behind `grant` (`None`: no token has its hash), from
/// `source`, may go on at `now`.
pub fn admit(
    grant: Option<&Grant>,
    profile: Profile<'_>,
    source: Option<IpAddr>,
    now: Timestamp,
) -> Admission {
    let Some(grant) = grant else {
        return Admission::Refused(Refusal::Unknown);
    };
    let policy = match profile {
        Profile::Read(account) => Some(&account.policy),
        Profile::Unread | Profile::Missing => None,
    };
    let ends = match standing(grant.life(), policy, now) {
        Standing::Live { ends } => ends,
        Standing::Revoked => {
            return Admission::Refused(Refusal::Revoked {
                reason: grant.revoked_reason,
                leak_url: grant.leak_url.clone(),
            })
        }
        Standing::Expired { at, max_days } => {
            return Admission::Refused(Refusal::Expired { at, max_days })
        }
        Standing::Replaced { at } => {
            let by = grant.replacement.as_ref();
            return Admission::Refused(Refusal::Replaced {
                by: by.map_or_else(String::new, |r| r.hint.clone()),
                at: by.map_or(at, |r| r.at),
            });
        }
        Standing::Unused { days, .. } => return Admission::Refused(Refusal::Unused { days }),
    };
    let permitted =
        |allowed: &super::allowlist::AllowedIps| source.is_some_and(|ip| allowed.permits(ip));
    if grant
        .allowed_ips
        .as_ref()
        .is_some_and(|allowed| !permitted(allowed))
    {
        return Admission::Refused(Refusal::Address { from: source });
    }
    let account = match profile {
        Profile::Unread => return Admission::NeedsProfile,
        Profile::Read(account) if account.api_access => account,
        Profile::Read(_) | Profile::Missing => {
            return Admission::Refused(Refusal::ApiAccessDisabled)
        }
    };
    Admission::Admitted(Caller {
        account: grant.account.clone(),
        token_id: grant.token_id.clone(),
        scopes: account
            .policy
            .effective_scopes(grant.scopes, grant.creator_role),
        grantable: match grant.connected {
            true => account.policy.scopes_for(grant.creator_role),
            false => Scopes::from_iter([]),
        },
        expires_at: ends,
        replaced_by: grant.replacement.as_ref().map(|r| r.hint.clone()),
        profile: account.clone(),
        at: now,
    })
}

/// The error the caller gets: the status, and a message that says what to do.
impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Error {
        match refusal {
            Refusal::Unknown => Error::InvalidToken(TokenRefusal::Unknown, format!(
                "this token is not recognized — it may belong to another environment or have been deleted; {GENERATE_HINT}"
            )),
            Refusal::Revoked { reason, leak_url } => {
                let counted = match reason {
                    Some(RevokedReason::Leaked | RevokedReason::ReportedByHolder) => TokenRefusal::Leaked,
                    _ => TokenRefusal::Revoked,
                };
                Error::InvalidToken(counted, match (reason, leak_url.as_deref()) {
                (Some(RevokedReason::Leaked), Some(url)) => format!(
                    "this token was found in public at {url} and revoked automatically; {GENERATE_HINT}, and keep it out of code you share"
                ),
                (Some(RevokedReason::Leaked), None) => format!(
                    "this token was found in public and revoked automatically; {GENERATE_HINT}, and keep it out of code you share"
                ),
                (Some(RevokedReason::Offboarded), _) => format!(
                    "this token was revoked when the person who made it left the account; {GENERATE_HINT}"
                ),
                (Some(RevokedReason::ReportedByHolder), _) => {
                    format!("this token was reported as leaked and revoked; {GENERATE_HINT}")
                }
                _ => format!("this token was revoked; {GENERATE_HINT}"),
            })
            }
            Refusal::Expired { at, max_days: None } => Error::InvalidToken(
                TokenRefusal::Expired,
                format!("this token expired at {at}; {GENERATE_HINT}"),
            ),
            Refusal::Expired { at, max_days: Some(days) } => Error::InvalidToken(TokenRefusal::Expired, format!(
                "this token expired at {at}: the account's token policy lets tokens live at most {days} days; {GENERATE_HINT}"
            )),
            Refusal::Replaced { by, at } => Error::InvalidToken(TokenRefusal::Replaced, format!(
                "this token was replaced by {by} on {}; use the new one", at.date()
            )),
            Refusal::Unused { days } => Error::InvalidToken(TokenRefusal::Unused, format!(
                "this token was not used for {days} days; the account's policy retires unused tokens, so {GENERATE_HINT}"
            )),
            Refusal::Address { from } => {
                let from = from.map_or("an unknown address".to_owned(), |ip| {
                    ip.to_canonical().to_string()
                });
                Error::AddressNotAllowed(format!(
                    "this token may not be used from {from}: its owner allows it only from other addresses"
                ))
            }
            Refusal::ApiAccessDisabled => Error::ApiAccessDisabled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::allowlist::AllowedIps;
    use crate::model::hashing::Pepper;
    use crate::model::token::Token;
    use crate::model::tokens::TokenRecord;

    const DAY: i64 = 86_400;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_unix(s).unwrap()
    }

    /// A live, full-access token made at day 0, usable from anywhere.
    fn grant() -> Grant {
        let token = Token::parse("kmcp_000000000000000000000000000000000000000001W9ct").unwrap();
        Grant {
            account: AccountId::parse("acct_a").unwrap(),
            token_id: TokenId::new(at(0)).unwrap(),
            hash: Pepper::new(&[1; 32]).unwrap().hash(&token),
            scopes: Scopes::all(),
            creator_role: crate::model::roles::Role::Owner,
            created_at: at(0),
            expires_at: None,
            allowed_ips: None,
            revoked: false,
            revoked_reason: None,
            leak_url: None,
            last_used_at: None,
            replacement: None,
            replaces: None,
            connected: false,
        }
    }

    fn account(api_access: bool, policy: Policy) -> Account {
        Account::sample(api_access, policy)
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    /// A case: its name, the token found, the profile, where the call came from, and the
    /// status and message it must be refused with.
    type Row<'a> = (
        &'a str,
        Option<Grant>,
        Profile<'a>,
        Option<IpAddr>,
        u16,
        &'a str,
    );

    /// Every refusal, with its status and the message the caller reads.
    #[test]
    fn every_refusal_says_what_to_do() {
        let open = account(true, Policy::default());
        let closed = account(false, Policy::default());
        let thirty_days = account(
            true,
            Policy {
                max_lifetime_days: Some(30),
                ..Policy::default()
            },
        );
        let pinned = Grant {
            allowed_ips: AllowedIps::parse(&["203.0.113.0/24"]).unwrap(),
            ..grant()
        };
        let revoked = |reason, url: Option<&str>| Grant {
            revoked: true,
            revoked_reason: reason,
            leak_url: url.map(Into::into),
            ..grant()
        };
        let expiring = Grant {
            expires_at: Some(at(10 * DAY)),
            ..grant()
        };
        let replaced = Grant {
            replacement: Some(crate::model::tokens::Replacement {
                by: TokenId::new(at(3 * DAY)).unwrap(),
                hint: "kmcp_…Zq7x".into(),
                at: at(3 * DAY),
                works_until: at(4 * DAY),
            }),
            ..grant()
        };
        let thirty_unused = account(
            true,
            Policy {
                revoke_unused_after_days: Some(30),
                ..Policy::default()
            },
        );
        let used_on_day_9 = Grant {
            last_used_at: Some(at(9 * DAY)),
            ..grant()
        };
        let now = at(40 * DAY);
        let table: Vec<Row> = vec![
            ("unknown", None, Profile::Unread, None, 401,
             "this token is not recognized — it may belong to another environment or have been deleted; generate a new one in Settings → MCP Tokens"),
            ("revoked by a user", Some(revoked(Some(RevokedReason::User), None)), Profile::Unread, None, 401,
             "this token was revoked; generate a new one in Settings → MCP Tokens"),
            ("revoked before reasons were kept", Some(revoked(None, None)), Profile::Unread, None, 401,
             "this token was revoked; generate a new one in Settings → MCP Tokens"),
            ("leaked, with where", Some(revoked(Some(RevokedReason::Leaked), Some("https://github.com/o/r/blob/x"))), Profile::Unread, None, 401,
             "this token was found in public at https://github.com/o/r/blob/x and revoked automatically; generate a new one in Settings → MCP Tokens, and keep it out of code you share"),
            ("leaked", Some(revoked(Some(RevokedReason::Leaked), None)), Profile::Unread, None, 401,
             "this token was found in public and revoked automatically; generate a new one in Settings → MCP Tokens, and keep it out of code you share"),
            ("its maker offboarded", Some(revoked(Some(RevokedReason::Offboarded), None)), Profile::Unread, None, 401,
             "this token was revoked when the person who made it left the account; generate a new one in Settings → MCP Tokens"),
            ("reported by its holder", Some(revoked(Some(RevokedReason::ReportedByHolder), None)), Profile::Unread, None, 401,
             "this token was reported as leaked and revoked; generate a new one in Settings → MCP Tokens"),
            ("expired by its date", Some(expiring.clone()), Profile::Unread, None, 401,
             "this token expired at 1970-01-11T00:00:00Z; generate a new one in Settings → MCP Tokens"),
            ("expired by the policy", Some(grant()), Profile::Read(&thirty_days), None, 401,
             "this token expired at 1970-01-31T00:00:00Z: the account's token policy lets tokens live at most 30 days; generate a new one in Settings → MCP Tokens"),
            ("its own date first, under the policy", Some(expiring), Profile::Read(&thirty_days), None, 401,
             "this token expired at 1970-01-11T00:00:00Z; generate a new one in Settings → MCP Tokens"),
            ("replaced, its overlap over", Some(replaced), Profile::Unread, None, 401,
             "this token was replaced by kmcp_…Zq7x on 1970-01-04; use the new one"),
            ("not used for the policy's days", Some(used_on_day_9), Profile::Read(&thirty_unused), None, 401,
             "this token was not used for 30 days; the account's policy retires unused tokens, so generate a new one in Settings → MCP Tokens"),
            ("from elsewhere", Some(pinned.clone()), Profile::Unread, ip("198.51.100.1"), 403,
             "this token may not be used from 198.51.100.1: its owner allows it only from other addresses"),
            ("from an unknown address", Some(pinned), Profile::Unread, None, 403,
             "this token may not be used from an unknown address: its owner allows it only from other addresses"),
            ("API access disabled", Some(grant()), Profile::Read(&closed), None, 403,
             "API access is not enabled for this account: enable it in your plan, then this token will work"),
            ("no profile", Some(grant()), Profile::Missing, None, 403,
             "API access is not enabled for this account: enable it in your plan, then this token will work"),
        ];
        for (case, grant, profile, source, status, message) in table {
            let Admission::Refused(refusal) = admit(grant.as_ref(), profile, source, now) else {
                panic!("{case}: not refused");
            };
            let error = Error::from(refusal);
            assert_eq!(
                (error.status().as_u16(), error.to_string().as_str()),
                (status, message),
                "{case}"
            );
        }
        assert_eq!(
            admit(Some(&grant()), Profile::Unread, None, now),
            Admission::NeedsProfile,
            "a token fine on its own needs the profile"
        );
        assert!(matches!(
            admit(Some(&grant()), Profile::Read(&open), None, now),
            Admission::Admitted(_)
        ));
    }

    #[test]
    fn metrics_count_leaks_apart_from_revokes() {
        let counted = |reason| match Error::from(Refusal::Revoked {
            reason,
            leak_url: None,
        }) {
            Error::InvalidToken(counted, _) => counted,
            other => panic!("{other:?}"),
        };
        assert_eq!(counted(Some(RevokedReason::Leaked)), TokenRefusal::Leaked);
        assert_eq!(
            counted(Some(RevokedReason::ReportedByHolder)),
            TokenRefusal::Leaked
        );
        assert_eq!(counted(Some(RevokedReason::User)), TokenRefusal::Revoked);
    }

    #[test]
    fn only_a_connected_app_is_asked_to_step_up_and_only_for_what_its_person_can_grant() {
        let policy = Policy {
            allowed_scopes: Scopes::parse(["customers:read", "analytics:read"]).unwrap(),
            ..Policy::default()
        };
        let profile = account(true, policy);
        let narrow = Scopes::parse(["customers:read"]).unwrap();
        let admitted = |connected| {
            let made = Grant {
                scopes: narrow,
                connected,
                ..grant()
            };
            match admit(Some(&made), Profile::Read(&profile), None, at(DAY)) {
                Admission::Admitted(caller) => caller,
                _ => panic!("refused"),
            }
        };
        let app = admitted(true);
        assert_eq!(
            app.step_up(Scope::AnalyticsRead),
            Some(Scopes::parse(["customers:read", "analytics:read"]).unwrap())
        );
        assert_eq!(app.step_up(Scope::CustomersRead), None, "it has it");
        assert_eq!(
            app.step_up(Scope::CreditsWrite),
            None,
            "the policy forbids it"
        );
        let pasted = admitted(false);
        assert_eq!(pasted.step_up(Scope::AnalyticsRead), None);
    }

    #[test]
    fn an_admitted_caller_may_do_what_the_policy_allows_today_until_its_first_end() {
        let policy = Policy {
            max_lifetime_days: Some(30),
            allowed_scopes: Scopes::parse(["customers:read", "analytics:read"]).unwrap(),
            ..Policy::default()
        };
        let profile = account(true, policy);
        let made = Grant {
            scopes: Scopes::parse(["customers:read", "customers:write"]).unwrap(),
            expires_at: Some(at(60 * DAY)),
            ..grant()
        };
        let Admission::Admitted(caller) =
            admit(Some(&made), Profile::Read(&profile), None, at(DAY))
        else {
            panic!("refused");
        };
        assert_eq!(caller.scopes, Scopes::parse(["customers:read"]).unwrap());
        assert_eq!(caller.expires_at, Some(at(30 * DAY)));
        assert!(caller.may(Scope::CustomersRead) && !caller.may(Scope::CustomersWrite));
        let pinned = Grant {
            allowed_ips: AllowedIps::parse(&["203.0.113.0/24", "2001:db8::/32"]).unwrap(),
            ..grant()
        };
        for from in ["203.0.113.77", "2001:db8::5", "::ffff:203.0.113.5"] {
            assert!(
                matches!(
                    admit(Some(&pinned), Profile::Read(&profile), ip(from), at(DAY)),
                    Admission::Admitted(_)
                ),
                "{from}"
            );
        }
    }

    #[test]
    fn a_token_stands_live_until_the_first_of_its_ends() {
        let life = |revoked, expires: Option<i64>| Life {
            revoked,
            created_at: at(0),
            expires_at: expires.map(at),
            works_until: None,
            last_used_at: None,
        };
        let ninety = Policy {
            max_lifetime_days: Some(90),
            ..Policy::default()
        };
        assert_eq!(
            standing(life(false, None), None, at(DAY)),
            Standing::Live { ends: None }
        );
        assert_eq!(
            standing(life(false, None), Some(&ninety), at(DAY)),
            Standing::Live {
                ends: Some(at(90 * DAY))
            }
        );
        assert_eq!(
            standing(life(false, Some(DAY)), Some(&ninety), at(DAY - 1)),
            Standing::Live {
                ends: Some(at(DAY))
            }
        );
        assert_eq!(
            standing(life(false, Some(DAY)), Some(&ninety), at(DAY)),
            Standing::Expired {
                at: at(DAY),
                max_days: None
            },
            "expired at the very second"
        );
        assert_eq!(
            standing(life(false, Some(100 * DAY)), Some(&ninety), at(90 * DAY)),
            Standing::Expired {
                at: at(90 * DAY),
                max_days: Some(90)
            }
        );
        assert_eq!(standing(life(true, None), None, at(0)), Standing::Revoked);
        // A rotation's overlap is an end like any other, until it is over.
        let replaced = Life {
            works_until: Some(at(5 * DAY)),
            ..life(false, Some(10 * DAY))
        };
        assert_eq!(
            standing(replaced, None, at(DAY)),
            Standing::Live {
                ends: Some(at(5 * DAY))
            }
        );
        assert_eq!(
            standing(replaced, None, at(5 * DAY)),
            Standing::Replaced { at: at(5 * DAY) }
        );
        assert_eq!(
            standing(replaced, None, at(20 * DAY)).status(),
            TokenStatus::Replaced,
            "replaced outranks expired"
        );
        // Disuse counts from the last use, or from creation; a use moves it.
        let unused = Policy {
            revoke_unused_after_days: Some(30),
            ..Policy::default()
        };
        assert!(standing(life(false, None), Some(&unused), at(30 * DAY - 1)).is_live());
        assert_eq!(
            standing(life(false, None), Some(&unused), at(30 * DAY)),
            Standing::Unused {
                days: 30,
                since: at(0)
            }
        );
        let used = Life {
            last_used_at: Some(at(20 * DAY)),
            ..life(false, None)
        };
        assert_eq!(
            standing(used, Some(&unused), at(49 * DAY)),
            Standing::Live { ends: None },
            "a disused token's end is not announced: the call itself is a use"
        );
        assert_eq!(
            standing(used, Some(&unused), at(50 * DAY)).status(),
            TokenStatus::Revoked
        );
        assert_eq!(
            standing(life(true, Some(1)), None, at(2)).status(),
            TokenStatus::Revoked,
            "revoked outranks expired"
        );
    }

    #[test]
    fn status_is_computed_from_the_record_at_read_time() {
        let at = |s| Timestamp::from_unix(s).unwrap();
        let hash = crate::model::hashing::Pepper::new(&[7; 32]).unwrap().hash(
            &crate::model::token::Token::parse(
                "kmcp_000000000000000000000000000000000000000001W9ct",
            )
            .unwrap(),
        );
        let mut record = TokenRecord {
            id: TokenId::new(at(100)).unwrap(),
            account: AccountId::parse("acct_a").unwrap(),
            name: "x".into(),
            hint: "kmcp_…W9ct".into(),
            scopes: Scopes::all(),
            created_by: "u".into(),
            creator_role: crate::model::roles::Role::Member,
            created_at: at(100),
            expires_at: Some(at(200)),
            last_used_at: None,
            last_used_ip: None,
            revoked_at: None,
            revocation: None,
            hash,
            counted: true,
            allowed_ips: None,
            replacement: None,
            replaces: None,
            deleted: false,
            app: None,
        };
        assert_eq!(
            standing(record.life(), None, at(199)).status(),
            TokenStatus::Active
        );
        assert_eq!(
            standing(record.life(), None, at(200)).status(),
            TokenStatus::Expired
        );
        record.revoked_at = Some(at(150));
        assert_eq!(
            standing(record.life(), None, at(160)).status(),
            TokenStatus::Revoked
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever a token's items say and whatever the policy, a token is never live
            /// at or past any of its ends, and a live token's announced end is its first.
            #[test]
            fn a_token_is_never_live_past_an_end(
                revoked in any::<bool>(), expires in proptest::option::of(0i64..400),
                until in proptest::option::of(0i64..400), used in proptest::option::of(0i64..400),
                max in proptest::option::of(1i64..=365), unused in proptest::option::of(30i64..=365),
                now in 0i64..800,
            ) {
                let day = |d: i64| at(d * DAY);
                let life = Life {
                    revoked,
                    created_at: day(0),
                    expires_at: expires.map(day),
                    works_until: until.map(day),
                    last_used_at: used.map(day),
                };
                let policy = Policy { max_lifetime_days: max, revoke_unused_after_days: unused, ..Policy::default() };
                let standing = standing(life, Some(&policy), day(now));
                let ends = [expires, until, max].into_iter().flatten().min();
                let idle = unused.map(|u| used.unwrap_or(0) + u);
                let dead = revoked || ends.is_some_and(|e| e <= now) || idle.is_some_and(|i| i <= now);
                prop_assert_eq!(standing.is_live(), !dead, "{:?}", standing);
                if let Standing::Live { ends: announced } = standing {
                    prop_assert_eq!(announced, ends.map(day));
                }
                if revoked {
                    prop_assert_eq!(standing, Standing::Revoked);
                }
            }
        }
    }
}
