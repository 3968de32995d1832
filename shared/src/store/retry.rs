//! The one retry policy: what a call does when another writer got in its way — a
//! transaction cancelled by a conflicting one, a batch DynamoDB left partly unprocessed, an
//! optimistic write that lost its race (a balance or a token changed since it was read).
//!
//! Each wait is random below a ceiling that doubles from 8 ms to 256 ms ("full jitter":
//! racers spread out and take turns instead of colliding again), and one [`Budget`] bounds
//! a whole call, whichever layer retries — the store's primitives and the rules' rounds
//! draw from the same one (see [`Store::in_call`]). Worst case per call: [`MAX_RETRIES`]
//! retries and [`MAX_WAITING`] of waiting in all, then a 503 the caller may retry. (The
//! SDK's own retries of throttling and 5xx, up to 3 attempts a request, are apart.)
//!
//! [`Store::in_call`]: super::Store::in_call

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};

use crate::error::Error;

/// Retries one call may make.
pub const MAX_RETRIES: u32 = 24;
/// Waiting one call may do between its tries, in all.
pub const MAX_WAITING: Duration = Duration::from_secs(3);
const FIRST_CEILING_MS: u64 = 8;
const LAST_CEILING_MS: u64 = 256;

/// What one call has spent of its retries.
#[derive(Debug, Default)]
pub struct Budget {
    retries: AtomicU32,
    waited_ms: AtomicU64,
}

impl Budget {
    /// Waits before the next try, or says the call has tried enough (`why`: what kept
    /// getting in the way, for the log).
    pub async fn wait(&self, why: &'static str) -> Result<(), Error> {
        let retry = self.retries.fetch_add(1, Ordering::Relaxed);
        let ms = jitter(ceiling_ms(retry));
        let waited = self.waited_ms.fetch_add(ms, Ordering::Relaxed);
        let within_time = u128::from(waited.saturating_add(ms)) <= MAX_WAITING.as_millis();
        if retry >= MAX_RETRIES || !within_time {
            return Err(Error::Unavailable {
                what: "the data store",
                source: why.into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(())
    }
}

/// The ceiling of the wait before retry number `retry` (from 0).
fn ceiling_ms(retry: u32) -> u64 {
    FIRST_CEILING_MS
        .checked_shl(retry)
        .unwrap_or(LAST_CEILING_MS)
        .min(LAST_CEILING_MS)
}

/// A wait drawn uniformly below `ceiling`.
fn jitter(ceiling: u64) -> u64 {
    let mut bytes = [0u8; 2];
    let _ = SystemRandom::new().fill(&mut bytes);
    u64::from(u16::from_be_bytes(bytes))
        .checked_rem(ceiling)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_from_8_to_256_ms_and_stay_there() {
        let ceilings: Vec<u64> = (0..8).map(ceiling_ms).collect();
        assert_eq!(ceilings, [8, 16, 32, 64, 128, 256, 256, 256]);
        assert_eq!(ceiling_ms(u32::MAX), 256);
        for _ in 0..1_000 {
            assert!(jitter(8) < 8);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_retries_at_most_its_budget_then_is_unavailable() {
        let budget = Budget::default();
        let started = tokio::time::Instant::now();
        let mut retries = 0;
        while budget.wait("contention").await.is_ok() {
            retries += 1;
        }
        assert!(retries <= MAX_RETRIES, "{retries}");
        assert!(started.elapsed() <= MAX_WAITING, "{:?}", started.elapsed());
        let again = budget.wait("contention").await.unwrap_err();
        assert_eq!(again.status(), 503);
    }
}
