//! The per-token rate limit: at most `limit` calls in any minute, bursts allowed up to the
//! whole minute's worth, enforced across Lambda instances approximately and without a
//! DynamoDB request in front of any call.
//!
//! The rule is a sliding-window counter (as Cloudflare counts): the calls of this minute
//! plus those of the previous minute weighted by how much of it the sliding minute still
//! covers. A call is admitted while that estimate stays below the limit.
//!
//! Each instance decides alone, from the counts it knows: the totals of every instance as
//! it last read them from the token's item (see [`Store::add_calls`]), plus the calls it
//! admitted since. It sends what it admitted — adding it to the shared totals and reading
//! them back in the same request — on a token's first call on the instance, every
//! `limit / 20` calls, and on every call once the estimate passes half the limit. That
//! request runs beside the call, never in front of it. What an instance does not know is
//! only what the others admitted since their last send — under a batch each below half the
//! limit, a call or two each above it — so the limit is passed by about a call per
//! instance while `instances × limit / 20` fits in the half kept as room (up to 10
//! instances), and by at most `instances × limit / 20` beyond. `tests/rate_limit.rs`
//! measures it with 4 instances.
//! Counts only ever grow, so an instance never refuses a call the limit allows.
//!
//! A token over its limit is known by its hash, so its calls are refused before the
//! token is even read: a runaway client costs no DynamoDB request per call.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::error::Error;
use crate::model::hashing::TokenHash;
use crate::model::ids::TokenId;
use crate::store::Store;

const MINUTE_MS: i64 = 60_000;
/// Tokens tracked per instance; beyond, the one idle longest is forgotten.
const MAX_TRACKED: usize = 10_000;
/// Past this share of the limit, every admitted call is sent at once: the other half is
/// the room for what other instances admitted and have not sent yet.
const NEAR_LIMIT: f64 = 0.5;

pub struct Limiter {
    limit: u32,
    tokens: Mutex<HashMap<TokenHash, Entry>>,
}

/// Calls in the previous and the current minute.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Counts {
    prev: u64,
    cur: u64,
}

impl Counts {
    fn total(self) -> u64 {
        self.prev.saturating_add(self.cur)
    }

    fn plus(self, other: Counts) -> Counts {
        Counts {
            prev: self.prev.saturating_add(other.prev),
            cur: self.cur.saturating_add(other.cur),
        }
    }

    /// The same counts a minute later.
    fn shifted(self, by: i64) -> Counts {
        match by {
            0 => self,
            1 => Counts {
                prev: self.cur,
                cur: 0,
            },
            _ => Counts::default(),
        }
    }
}

#[derive(Debug, Default)]
struct Entry {
    /// The newest minute (Unix minutes) the counts are about.
    minute: i64,
    /// Every instance's calls, as last read from the store.
    shared: Counts,
    /// Calls admitted here and not yet sent.
    pending: Counts,
    /// Calls being sent: counted until the store's totals include them.
    in_flight: Counts,
    /// Whether the shared counts were ever read: a token's first call on an instance is
    /// sent at once, so a new instance learns what the others did.
    synced: bool,
    /// A send is in flight (the local server serves calls concurrently).
    sending: bool,
    /// Minutes the stored item still holds and nobody needs.
    forget: Vec<i64>,
    last_seen_ms: i64,
}

impl Entry {
    fn roll(&mut self, minute: i64) {
        if minute > self.minute {
            let by = minute.saturating_sub(self.minute);
            self.shared = self.shared.shifted(by);
            self.pending = self.pending.shifted(by);
            self.in_flight = self.in_flight.shifted(by);
            self.minute = minute;
        }
    }

    /// Every call this instance knows of, as of the minute of `now_ms` (the entry is not
    /// moved: a look ahead must not change what later calls see).
    fn known(&self, now_ms: i64) -> Counts {
        let by = minute_of(now_ms).saturating_sub(self.minute).max(0);
        self.shared
            .plus(self.pending)
            .plus(self.in_flight)
            .shifted(by)
    }

    /// The sliding minute's calls, as far as this instance knows.
    fn estimate(&self, now_ms: i64) -> f64 {
        estimate(self.known(now_ms), now_ms)
    }
}

fn estimate(known: Counts, now_ms: i64) -> f64 {
    let covered = 1.0 - elapsed_ms(now_ms) as f64 / MINUTE_MS as f64;
    known.prev as f64 * covered + known.cur as f64
}

fn minute_of(now_ms: i64) -> i64 {
    now_ms.div_euclid(MINUTE_MS)
}

fn elapsed_ms(now_ms: i64) -> i64 {
    now_ms.rem_euclid(MINUTE_MS)
}

/// What the caller is told of its limit (the `RateLimit-*` headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the current minute ends.
    pub reset_secs: u64,
}

/// Counts to send for a token: what the admitted call asks of the store.
#[derive(Debug)]
pub struct Send {
    hash: TokenHash,
    token: TokenId,
    minute: i64,
    counts: Counts,
    forget: Vec<i64>,
}

impl Limiter {
    pub fn new(limit_per_minute: u32) -> Limiter {
        Limiter {
            limit: limit_per_minute.max(1),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    fn tokens(&self) -> MutexGuard<'_, HashMap<TokenHash, Entry>> {
        // A panic elsewhere while holding the lock leaves counts, not broken invariants.
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Before the token is read: refuses a token this instance already knows is over its
    /// limit.
    pub fn check(&self, hash: &TokenHash, now_ms: i64) -> Result<(), Error> {
        match self.tokens().get(hash) {
            Some(entry) => self.refuse_if_over(entry, now_ms),
            None => Ok(()),
        }
    }

    /// After the token is authenticated: counts the call, or refuses it. The [`Send`], if
    /// any, is for [`Limiter::send`] to run beside the call.
    pub fn admit(
        &self,
        hash: &TokenHash,
        token: &TokenId,
        now_ms: i64,
    ) -> Result<(Quota, Option<Send>), Error> {
        let mut tokens = self.tokens();
        let entry = seen(&mut tokens, hash, now_ms);
        self.refuse_if_over(entry, now_ms)?;
        entry.pending.cur = entry.pending.cur.saturating_add(1);
        let estimate = entry.estimate(now_ms);
        let limit = f64::from(self.limit);
        let batch = u64::from((self.limit / 20).max(1));
        let due = !entry.synced || entry.pending.total() >= batch || estimate >= limit * NEAR_LIMIT;
        let send = (due && !entry.sending).then(|| {
            entry.sending = true;
            entry.in_flight = std::mem::take(&mut entry.pending);
            Send {
                hash: hash.clone(),
                token: token.clone(),
                minute: entry.minute,
                counts: entry.in_flight,
                forget: std::mem::take(&mut entry.forget),
            }
        });
        let quota = Quota {
            limit: self.limit,
            remaining: (limit - estimate).floor().max(0.0) as u32,
            reset_secs: secs_ceil(MINUTE_MS.saturating_sub(elapsed_ms(now_ms))),
        };
        Ok((quota, send))
    }

    /// A call refused after its token was read (from the wrong address, revoked, its
    /// account without API access): counted here alone, so that a client that keeps
    /// trying is soon refused before the read, at no DynamoDB request.
    pub fn count_refused(&self, hash: &TokenHash, now_ms: i64) {
        let mut tokens = self.tokens();
        let entry = seen(&mut tokens, hash, now_ms);
        entry.pending.cur = entry.pending.cur.saturating_add(1);
    }

    fn refuse_if_over(&self, entry: &Entry, now_ms: i64) -> Result<(), Error> {
        let room = f64::from(self.limit) - 1.0;
        if entry.estimate(now_ms) <= room {
            return Ok(());
        }
        let known = entry.known(now_ms);
        Err(Error::RateLimited {
            limit: self.limit,
            retry_after_secs: secs_ceil(wait_ms(known, elapsed_ms(now_ms), room)).max(1),
        })
    }

    /// Sends the admitted calls and takes in every instance's totals. A failure keeps the
    /// counts for the next send: the call itself was authenticated and goes on.
    pub async fn send(&self, store: &Store, send: Option<Send>, now_unix: i64) {
        let Some(send) = send else { return };
        let adds: Vec<(i64, u64)> = [
            (send.minute.saturating_sub(1), send.counts.prev),
            (send.minute, send.counts.cur),
        ]
        .into_iter()
        .filter(|(_, calls)| *calls > 0)
        .collect();
        let result = store
            .add_calls(&send.token, &adds, &send.forget, now_unix)
            .await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, token_id = %send.token, "rate counts not shared; kept for the next call");
        }
        self.settle(send, result.ok());
    }

    /// Takes in the store's totals after a send (`None`: it failed, and the counts go
    /// back to be sent again).
    fn settle(&self, send: Send, totals: Option<Vec<(i64, u64)>>) {
        let mut tokens = self.tokens();
        let Some(entry) = tokens.get_mut(&send.hash) else {
            return;
        };
        entry.sending = false;
        let in_flight = std::mem::take(&mut entry.in_flight);
        let Some(totals) = totals else {
            entry.pending = entry.pending.plus(in_flight);
            entry.forget = send.forget;
            return;
        };
        let total = |minute: i64| {
            totals
                .iter()
                .find(|(m, _)| *m == minute)
                .map_or(0, |(_, calls)| *calls)
        };
        let shared = Counts {
            prev: total(send.minute.saturating_sub(1)),
            cur: total(send.minute),
        }
        .shifted(entry.minute.saturating_sub(send.minute));
        // Counts only grow: a reply that crossed a newer one never lowers them.
        entry.shared = Counts {
            prev: entry.shared.prev.max(shared.prev),
            cur: entry.shared.cur.max(shared.cur),
        };
        entry.synced = true;
        let oldest = entry.minute.saturating_sub(1);
        entry.forget = totals
            .iter()
            .map(|(m, _)| *m)
            .filter(|m| *m < oldest)
            .collect();
    }
}

/// Milliseconds until the estimate drops to `room`, if no call comes meanwhile.
fn wait_ms(known: Counts, elapsed_ms: i64, room: f64) -> i64 {
    let (prev, cur) = (known.prev as f64, known.cur as f64);
    let minute = MINUTE_MS as f64;
    let wait = if cur <= room && prev > 0.0 {
        // Within this minute, as the previous minute's weight fades.
        (1.0 - (room - cur) / prev) * minute - elapsed_ms as f64
    } else {
        // After this minute ends, as this minute's calls fade in turn.
        (minute - elapsed_ms as f64) + (1.0 - room / cur.max(1.0)) * minute
    };
    wait.ceil().clamp(0.0, 2.0 * minute) as i64
}

fn secs_ceil(ms: i64) -> u64 {
    u64::try_from(ms.saturating_add(999).div_euclid(1000)).unwrap_or(0)
}

/// The token's entry, made if it is new (forgetting the idlest one when full), moved on to
/// the minute of `now_ms`.
fn seen<'a>(
    tokens: &'a mut HashMap<TokenHash, Entry>,
    hash: &TokenHash,
    now_ms: i64,
) -> &'a mut Entry {
    if !tokens.contains_key(hash) && tokens.len() >= MAX_TRACKED {
        forget_idlest(tokens);
    }
    let entry = tokens.entry(hash.clone()).or_default();
    entry.roll(minute_of(now_ms));
    entry.last_seen_ms = now_ms;
    entry
}

fn forget_idlest(tokens: &mut HashMap<TokenHash, Entry>) {
    let idlest = tokens
        .iter()
        .filter(|(_, e)| !e.sending)
        .min_by_key(|(_, e)| e.last_seen_ms)
        .map(|(hash, _)| hash.clone());
    if let Some(hash) = idlest {
        tokens.remove(&hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::hashing::Pepper;
    use crate::model::time::Timestamp;
    use crate::model::token::Token;

    const TOKEN: &str = "kmcp_000000000000000000000000000000000000000001W9ct";

    fn hash() -> TokenHash {
        Pepper::new(&[3; 32])
            .unwrap()
            .hash(&Token::parse(TOKEN).unwrap())
    }

    fn id() -> TokenId {
        TokenId::new(Timestamp::from_unix(0).unwrap()).unwrap()
    }

    /// What the store answers an instance that stands alone: its own calls.
    fn alone(limiter: &Limiter, send: Option<Send>) {
        let Some(send) = send else { return };
        let totals = {
            let tokens = limiter.tokens();
            let entry = &tokens[&hash()];
            let held = entry
                .shared
                .plus(entry.in_flight)
                .shifted(entry.minute - send.minute);
            vec![(send.minute - 1, held.prev), (send.minute, held.cur)]
        };
        limiter.settle(send, Some(totals));
    }

    /// Admits calls at `at_ms` as long as they are allowed; returns how many were.
    fn burst(limiter: &Limiter, at_ms: i64, max: u32) -> u32 {
        let mut admitted = 0;
        for _ in 0..max {
            match limiter.admit(&hash(), &id(), at_ms) {
                Ok((_, send)) => {
                    admitted += 1;
                    alone(limiter, send);
                }
                Err(_) => break,
            }
        }
        admitted
    }

    #[test]
    fn a_burst_of_the_whole_limit_is_admitted_then_refused_with_a_wait() {
        let limiter = Limiter::new(120);
        let start = 10 * MINUTE_MS + 1_000;
        assert_eq!(burst(&limiter, start, 500), 120);
        let refused = limiter.admit(&hash(), &id(), start).unwrap_err();
        let Error::RateLimited {
            limit,
            retry_after_secs,
        } = refused
        else {
            panic!("{refused:?}")
        };
        assert_eq!(limit, 120);
        // All 120 calls fall in one minute: the next is allowed once the sliding minute
        // has let go of one of them, a little after this minute ends.
        assert_eq!(retry_after_secs, 59 + 1);
        assert!(
            limiter.check(&hash(), start).is_err(),
            "the hash alone is refused"
        );
        let after = start + i64::try_from(retry_after_secs).unwrap() * 1000;
        assert!(limiter.admit(&hash(), &id(), after).is_ok());
    }

    #[test]
    fn a_steady_caller_at_the_limit_waits_about_one_interval() {
        let limiter = Limiter::new(120);
        // A minute of calls at the limit, then the next minute at the same pace.
        let base = 100 * MINUTE_MS;
        let mut admitted = 0;
        for i in 0..240 {
            if let Ok((_, send)) = limiter.admit(&hash(), &id(), base + i * 500) {
                admitted += 1;
                alone(&limiter, send);
            }
        }
        // 120 in the first minute, and at most the limit again over the sliding minute.
        assert!((230..=240).contains(&admitted), "{admitted}");
        let quota = limiter.admit(&hash(), &id(), base + 240 * 500 + 5_000);
        if let Err(Error::RateLimited {
            retry_after_secs, ..
        }) = quota
        {
            assert!(retry_after_secs <= 2, "{retry_after_secs}");
        }
    }

    #[test]
    fn the_quota_counts_down_and_tells_when_the_minute_ends() {
        let limiter = Limiter::new(10);
        let at = 5 * MINUTE_MS + 45_500;
        let (first, send) = limiter.admit(&hash(), &id(), at).unwrap();
        assert_eq!(
            first,
            Quota {
                limit: 10,
                remaining: 9,
                reset_secs: 15
            }
        );
        alone(&limiter, send);
        let (second, _) = limiter.admit(&hash(), &id(), at).unwrap();
        assert_eq!(second.remaining, 8);
    }

    #[test]
    fn calls_are_sent_first_then_in_batches_then_each_near_the_limit() {
        let limiter = Limiter::new(100);
        let at = 7 * MINUTE_MS;
        let mut sent = Vec::new();
        for i in 0..100 {
            let (_, send) = limiter.admit(&hash(), &id(), at).unwrap();
            if let Some(send) = &send {
                sent.push((i, send.counts.cur));
            }
            alone(&limiter, send);
        }
        assert_eq!(sent[0], (0, 1), "the first call is sent at once");
        assert_eq!(sent[1], (5, 5), "then every limit/20 calls");
        let near: Vec<_> = sent.iter().filter(|(i, _)| *i >= 50).collect();
        assert_eq!(
            near.len(),
            50,
            "each call past half the limit is sent: {sent:?}"
        );
        let total: u64 = sent.iter().map(|(_, n)| n).sum();
        assert_eq!(total, 100, "every admitted call is sent exactly once");
    }

    #[test]
    fn what_other_instances_admitted_counts_against_this_one() {
        let limiter = Limiter::new(10);
        let at = 3 * MINUTE_MS;
        let (_, send) = limiter.admit(&hash(), &id(), at).unwrap();
        let send = send.unwrap();
        assert_eq!(send.counts.cur, 1);
        // The store answers: with ours, 10 calls this minute.
        limiter.settle(send, Some(vec![(minute_of(at), 10)]));
        assert!(matches!(
            limiter.admit(&hash(), &id(), at),
            Err(Error::RateLimited { .. })
        ));
    }

    #[test]
    fn refusals_after_the_read_count_so_a_persistent_client_is_stopped_before_it() {
        let limiter = Limiter::new(3);
        let at = 9 * MINUTE_MS;
        for _ in 0..3 {
            assert!(limiter.check(&hash(), at).is_ok());
            limiter.count_refused(&hash(), at);
        }
        assert!(matches!(
            limiter.check(&hash(), at),
            Err(Error::RateLimited { .. })
        ));
    }

    #[test]
    fn the_previous_minute_fades_as_the_sliding_minute_moves_on() {
        let mut entry = Entry {
            minute: 1,
            shared: Counts { prev: 0, cur: 60 },
            ..Entry::default()
        };
        entry.roll(2);
        assert_eq!(entry.shared, Counts { prev: 60, cur: 0 });
        assert_eq!(entry.estimate(2 * MINUTE_MS), 60.0);
        assert_eq!(entry.estimate(2 * MINUTE_MS + 30_000), 30.0);
        entry.roll(4);
        assert_eq!(entry.shared, Counts::default());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Alone, an instance never admits more than the limit in any sliding minute
            /// by more than the window's rounding, and a refusal's wait is enough: a call
            /// right after it is admitted.
            #[test]
            fn one_instance_keeps_the_limit_and_its_retry_after_is_true(
                limit in 1u32..50,
                gaps in proptest::collection::vec(0i64..4_000, 1..300),
            ) {
                let limiter = Limiter::new(limit);
                let mut now = 50 * MINUTE_MS;
                let mut admitted_at: Vec<i64> = Vec::new();
                for gap in gaps {
                    now += gap;
                    match limiter.admit(&hash(), &id(), now) {
                        Ok((_, send)) => {
                            admitted_at.push(now);
                            alone(&limiter, send);
                        }
                        Err(Error::RateLimited { retry_after_secs, .. }) => {
                            let later = now + i64::try_from(retry_after_secs).unwrap() * 1000;
                            prop_assert!(limiter.check(&hash(), later).is_ok());
                        }
                        Err(e) => prop_assert!(false, "{e:?}"),
                    }
                    // Fixed minutes never hold more than the limit.
                    let this_minute = admitted_at.iter().filter(|t| minute_of(**t) == minute_of(now)).count();
                    prop_assert!(this_minute <= limit as usize);
                }
            }
        }
    }
}
