//! The rate limiter's shared state: one item per token holding how many calls every
//! instance admitted in each recent minute, one number attribute per minute (`m<minute>`),
//! and which instances added to each (a string set per minute, `i<minute>`), from which
//! an instance learns how many share the token. Instances add what they admitted with an
//! atomic ADD and read back the totals in the same request; there is never a
//! read-modify-write race to lose a count.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::item::{n, s, ItemExt};
use super::{keys, unavailable, Store};
use crate::error::Error;
use crate::model::ids::TokenId;

/// The counts are worthless after two minutes; DynamoDB's TTL removes an idle token's item.
const KEPT_SECS: i64 = 24 * 3600;

/// The shared counts after an addition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shared {
    /// Every minute's total calls.
    pub totals: Vec<(i64, u64)>,
    /// How many instances added to the minutes kept: those calling the token lately.
    pub instances: usize,
}

impl Store {
    /// Adds `(minute, calls)` to the token's shared counts, `instance` to the instances
    /// of `minute`, removes the minutes in `forget`, and returns the counts as they stand
    /// after.
    pub async fn add_calls(
        &self,
        token: &TokenId,
        instance: &str,
        minute: i64,
        adds: &[(i64, u64)],
        forget: &[i64],
        now_unix: i64,
    ) -> Result<Shared, Error> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::rate(token)))
            .key(keys::SK, s(keys::RATE_SK))
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":ttl", n(now_unix.saturating_add(KEPT_SECS)))
            .return_values(ReturnValue::AllNew);
        let mut added = Vec::new();
        for (i, (minute, calls)) in adds.iter().enumerate() {
            update = update
                .expression_attribute_names(format!("#a{i}"), minute_attribute(*minute))
                .expression_attribute_values(format!(":a{i}"), n(calls));
            added.push(format!("#a{i} :a{i}"));
        }
        update = update
            .expression_attribute_names("#me", instances_attribute(minute))
            .expression_attribute_values(":me", AttributeValue::Ss(vec![instance.to_owned()]));
        added.push("#me :me".into());
        let mut expression = format!("SET #ttl = :ttl ADD {}", added.join(", "));
        let forget: Vec<i64> = forget
            .iter()
            .filter(|m| !adds.iter().any(|(a, _)| a == *m))
            .copied()
            .collect();
        if !forget.is_empty() {
            let mut names = Vec::new();
            for (i, old) in forget.iter().enumerate() {
                update = update
                    .expression_attribute_names(format!("#r{i}"), minute_attribute(*old))
                    .expression_attribute_names(format!("#s{i}"), instances_attribute(*old));
                names.push(format!("#r{i}, #s{i}"));
            }
            expression.push_str(&format!(" REMOVE {}", names.join(", ")));
        }
        let out = update
            .update_expression(expression)
            .send()
            .await
            .map_err(unavailable)?;
        let item = out.attributes.unwrap_or_default();
        let totals = item
            .keys()
            .filter_map(|name| {
                let minute = name.strip_prefix('m')?.parse::<i64>().ok()?;
                let calls = u64::try_from(item.opt_int(name)?).ok()?;
                Some((minute, calls))
            })
            .collect();
        let instances: HashSet<&String> = item
            .iter()
            .filter(|(name, _)| name.starts_with('i'))
            .filter_map(|(_, value)| value.as_ss().ok())
            .flatten()
            .collect();
        Ok(Shared {
            totals,
            instances: instances.len(),
        })
    }
}

fn minute_attribute(minute: i64) -> String {
    format!("m{minute}")
}

fn instances_attribute(minute: i64) -> String {
    format!("i{minute}")
}
