//! Account profiles: written by the Knotie platform (here: the seed), read on every MCP
//! call to know whether the account may use its tokens and under what policy, and by
//! allocations for the pool. The token policy is an item of its own beside the profile —
//! the platform may rewrite the profile whole without resetting it — read with it in one
//! BatchGetItem, so the read that authenticates a call brings both.

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::{corrupt, flag, n, s, Item, ItemExt};
use super::{keys, Store};
use crate::error::Error;
use crate::model::account::Account;
use crate::model::ids::AccountId;
use crate::model::policy::{Policy, UNUSED_DAYS};
use crate::model::scope::Scopes;
use crate::model::tokens::MAX_EXPIRY_DAYS;

impl Store {
    /// The profile with its policy, strongly consistent: a change of plan or policy
    /// applies to the next call. `None` when the account has no profile.
    pub async fn account(&self, id: &AccountId) -> Result<Option<Account>, Error> {
        let (profile, policy) = self.profile_and_policy(id).await?;
        let Some(profile) = profile else {
            return Ok(None);
        };
        let mut account = account_from_item(id, &profile)?;
        if let Some(policy) = policy {
            account.policy = stored_policy(&policy)?.unwrap_or_default();
        }
        Ok(Some(account))
    }

    /// The account's token policy, with or without a profile; the default when none was
    /// set.
    pub async fn policy(&self, id: &AccountId) -> Result<Policy, Error> {
        let (profile, policy) = self.profile_and_policy(id).await?;
        // Earlier versions kept the policy on the profile.
        let kept = policy.or(profile);
        Ok(kept
            .map(|item| stored_policy(&item))
            .transpose()?
            .flatten()
            .unwrap_or_default())
    }

    /// The profile item and the policy item, in one request.
    async fn profile_and_policy(
        &self,
        id: &AccountId,
    ) -> Result<(Option<Item>, Option<Item>), Error> {
        let pk = keys::account(id);
        let mut items = self
            .get_many(vec![
                (pk.clone(), keys::PROFILE.into()),
                (pk, keys::POLICY.into()),
            ])
            .await?;
        let mut take = |sk: &str| {
            let at = items
                .iter()
                .position(|i| i.opt_string(keys::SK).as_deref() == Some(sk))?;
            Some(items.swap_remove(at))
        };
        let profile = take(keys::PROFILE);
        Ok((profile, take(keys::POLICY)))
    }

    /// Replaces the account's token policy, whether or not the platform made the
    /// account's profile yet.
    pub async fn set_policy(&self, id: &AccountId, policy: &Policy) -> Result<(), Error> {
        self.put(Item::from([
            (keys::PK.into(), s(keys::account(id))),
            (keys::SK.into(), s(keys::POLICY)),
            (POLICY.into(), policy_value(policy)),
        ]))
        .await
    }
}

const POLICY: &str = "policy";

/// The profile item; its `policy` attribute is where earlier versions kept the policy,
/// read when the account has no policy item yet.
pub(super) fn account_from_item(id: &AccountId, item: &Item) -> Result<Account, Error> {
    Ok(Account {
        id: id.clone(),
        name: item.string("name")?,
        plan: item.string("plan")?,
        api_access: item.flag("api_access"),
        credit_pool: item.opt_int("credit_pool").unwrap_or(0),
        policy: stored_policy(item)?.unwrap_or_default(),
    })
}

/// The `policy` attribute of an item, if it has one.
fn stored_policy(item: &Item) -> Result<Option<Policy>, Error> {
    item.get(POLICY)
        .map(|value| policy_from_value(value).ok_or_else(|| corrupt(POLICY)))
        .transpose()
}

/// The policy as the profile's `policy` map.
fn policy_value(policy: &Policy) -> AttributeValue {
    let scopes = policy.allowed_scopes.iter().map(|sc| s(sc.as_str()));
    AttributeValue::M(Item::from([
        (
            "max_lifetime_days".into(),
            policy
                .max_lifetime_days
                .map_or(AttributeValue::Null(true), n),
        ),
        ("allowed_scopes".into(), AttributeValue::L(scopes.collect())),
        (
            "member_scopes".into(),
            AttributeValue::L(
                policy
                    .member_scopes
                    .iter()
                    .map(|sc| s(sc.as_str()))
                    .collect(),
            ),
        ),
        ("members_may_create".into(), flag(policy.members_may_create)),
        (
            "revoke_unused_after_days".into(),
            policy
                .revoke_unused_after_days
                .map_or(AttributeValue::Null(true), n),
        ),
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
    // Kept before members had scopes of their own: members could do what all could.
    let member_scopes = match map.get("member_scopes") {
        None => Scopes::all(),
        Some(_) => map
            .strings("member_scopes")
            .iter()
            .filter_map(|name| name.parse().ok())
            .collect(),
    };
    // Kept before disuse retired tokens: none was retired.
    let revoke_unused_after_days = match map.get("revoke_unused_after_days") {
        None | Some(AttributeValue::Null(_)) => None,
        Some(days) => Some(
            days.as_n()
                .ok()?
                .parse::<i64>()
                .ok()
                .filter(|d| UNUSED_DAYS.contains(d))?,
        ),
    };
    Some(Policy {
        max_lifetime_days,
        allowed_scopes,
        member_scopes,
        members_may_create: *map.get("members_may_create")?.as_bool().ok()?,
        revoke_unused_after_days,
    })
}
