//! The rate limiter's shared state: one item per token holding how many calls every
//! instance admitted in each recent minute, one number attribute per minute (`m<minute>`).
//! Instances add what they admitted with an atomic ADD and read back the totals in the
//! same request; there is never a read-modify-write race to lose a count.

use aws_sdk_dynamodb::types::ReturnValue;

use super::item::{n, s, ItemExt};
use super::{keys, unavailable, Store};
use crate::error::Error;
use crate::model::ids::TokenId;

/// The counts are worthless after two minutes; DynamoDB's TTL removes an idle token's item.
const KEPT_SECS: i64 = 24 * 3600;

impl Store {
    /// Adds `(minute, calls)` to the token's shared counts, removes the minutes in
    /// `forget`, and returns every minute's total as it stands after the addition.
    pub async fn add_calls(
        &self,
        token: &TokenId,
        adds: &[(i64, u64)],
        forget: &[i64],
        now_unix: i64,
    ) -> Result<Vec<(i64, u64)>, Error> {
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
        let mut expression = String::from("SET #ttl = :ttl");
        if !added.is_empty() {
            expression.push_str(&format!(" ADD {}", added.join(", ")));
        }
        let forget: Vec<i64> = forget
            .iter()
            .filter(|m| !adds.iter().any(|(a, _)| a == *m))
            .copied()
            .collect();
        if !forget.is_empty() {
            let names: Vec<String> = (0..forget.len()).map(|i| format!("#r{i}")).collect();
            for (i, minute) in forget.iter().enumerate() {
                update =
                    update.expression_attribute_names(format!("#r{i}"), minute_attribute(*minute));
            }
            expression.push_str(&format!(" REMOVE {}", names.join(", ")));
        }
        let out = update
            .update_expression(expression)
            .send()
            .await
            .map_err(unavailable)?;
        let item = out.attributes.unwrap_or_default();
        Ok(item
            .keys()
            .filter_map(|name| {
                let minute = name.strip_prefix('m')?.parse::<i64>().ok()?;
                let calls = u64::try_from(item.opt_int(name)?).ok()?;
                Some((minute, calls))
            })
            .collect())
    }
}

fn minute_attribute(minute: i64) -> String {
    format!("m{minute}")
}
