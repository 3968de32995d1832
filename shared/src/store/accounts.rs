//! Account profiles: written by the Knotie platform (here: the seed), read on every MCP
//! call to know whether the account may use its tokens and under what policy, and by
//! allocations for the pool. The token policy is one attribute of the profile, so the read
//! that authenticates a call brings it at no extra request.

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::{corrupt, flag, n, s, Item, ItemExt};
use super::{keys, Store};
use crate::error::Error;
use crate::model::account::Account;
use crate::model::ids::AccountId;
use crate::model::policy::Policy;
use crate::model::tokens::MAX_EXPIRY_DAYS;

impl Store {
    /// The profile, strongly consistent: a change of plan applies to the next call.
    pub async fn account(&self, id: &AccountId) -> Result<Option<Account>, Error> {
        self.get(keys::account(id), keys::PROFILE.into())
            .await?
            .map(|item| account_from_item(id, &item))
            .transpose()
    }

    /// Replaces the account's token policy; `None` when the account has no profile.
    pub async fn set_policy(
        &self,
        id: &AccountId,
        policy: &Policy,
    ) -> Result<Option<Account>, Error> {
        self.update_existing(
            keys::account(id),
            keys::PROFILE.into(),
            vec![(POLICY, policy_value(policy))],
        )
        .await?
        .map(|item| account_from_item(id, &item))
        .transpose()
    }
}

const POLICY: &str = "policy";

pub(super) fn account_from_item(id: &AccountId, item: &Item) -> Result<Account, Error> {
    Ok(Account {
        id: id.clone(),
        name: item.string("name")?,
        plan: item.string("plan")?,
        api_access: item.flag("api_access"),
        credit_pool: item.opt_int("credit_pool").unwrap_or(0),
        policy: match item.get(POLICY) {
            None => Policy::default(),
            Some(value) => policy_from_value(value).ok_or_else(|| corrupt(POLICY))?,
        },
    })
}

/// The policy as the profile's `policy` map.
pub(super) fn policy_value(policy: &Policy) -> AttributeValue {
    let scopes = policy.allowed_scopes.iter().map(|sc| s(sc.as_str()));
    AttributeValue::M(Item::from([
        (
            "max_lifetime_days".into(),
            policy
                .max_lifetime_days
                .map_or(AttributeValue::Null(true), n),
        ),
        ("allowed_scopes".into(), AttributeValue::L(scopes.collect())),
        ("members_may_create".into(), flag(policy.members_may_create)),
    ]))
}

/// A stored policy that does not read back whole is corrupt: guessing could loosen it. A
/// scope name this version does not know (one retired since) is left out: that narrows.
fn policy_from_value(value: &AttributeValue) -> Option<Policy> {
    let map: &Item = value.as_m().ok()?;
    let max_lifetime_days = match map.get("max_lifetime_days")? {
        AttributeValue::Null(_) => None,
        days => Some(
            days.as_n()
                .ok()?
                .parse::<i64>()
                .ok()
                .filter(|d| (1..=MAX_EXPIRY_DAYS).contains(d))?,
        ),
    };
    let allowed_scopes = map
        .strings("allowed_scopes")
        .iter()
        .filter_map(|name| name.parse().ok())
        .collect();
    Some(Policy {
        max_lifetime_days,
        allowed_scopes,
        members_may_create: *map.get("members_may_create")?.as_bool().ok()?,
    })
}
