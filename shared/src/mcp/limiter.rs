//! The per-token rate limit: at most `limit` calls in any minute, bursts allowed up to the
//! whole minute's worth, enforced across Lambda instances with a DynamoDB request in
//! front of a call only where deciding alone could pass the limit.
//!
//! The rule is a sliding-window counter (as Cloudflare counts): the calls of this minute
//! plus those of the previous minute weighted by how much of it the sliding minute still
//! covers. A call is admitted while that estimate stays below the limit.
//!
//! Each instance knows the totals of every instance as it last read them from the token's
//! item (see [`Store::add_calls`]), how many instances share the token (the item keeps
//! who added to each minute), and the calls it admitted since. It decides alone while its
//! share of the room left — `(limit − known) / instances` — is at least 2, and sends what
//! it admitted (adding it to the shared totals and reading them back in one request)
//! beside the call, every `min(limit / 20, share / 2)` calls: what the instances have
//! not told each other then always fits in the room. Otherwise — a token's first call on
//! the instance, or a token near its limit — the call's count goes to the store first and
//! the call is decided from the totals it returns, which include it: those calls cannot
//! pass the limit however many instances call at once. Measured with 10, 50 and 100
//! instances by `make bench` (bench/RESULTS.md), and with 4 in `tests/rate_limit.rs`.
//! Counts only ever grow, so an instance never refuses a call the limit allows.
//!
//! A token over its limit is known by its hash, so its calls are refused before the
//! token is even read: a runaway client costs no DynamoDB request per call.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::error::Error;
use crate::model::hashing::TokenHash;
use crate::model::ids::TokenId;
use crate::store::rates::Shared;
use crate::store::Store;

const MINUTE_MS: i64 = 60_000;
/// Tokens tracked per instance; beyond, the one idle longest is forgotten.
const MAX_TRACKED: usize = 10_000;
/// An instance decides alone while its share of the room left is at least this many calls.
const ALONE_FROM: f64 = 2.0;

pub struct Limiter {
    limit: u32,
    /// This instance, among those that share a token's counts.
    instance: String,
    tokens: Mutex<HashMap<TokenHash, Entry>>,
}

/// How a call is admitted.
#[derive(Debug)]
pub enum Decision {
    /// From what this instance knows; the counts to send beside the call, if due.
    Admitted(Quota, Option<Send>),
    /// Not alone: the counts go to the store first, and [`Limiter::decide`] decides from
    /// the totals it returns.
    Ask(Send),
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
    /// Whether the shared counts were ever read: a token's first call on an instance
    /// asks the store, so a new instance learns what the others did before it admits.
    synced: bool,
    /// Instances that called the token lately, as last read (this one included), and as
    /// read the time before: an instance decides alone only once the number stopped
    /// growing — while instances are still arriving, each one's view is behind.
    instances: usize,
    instances_before: usize,
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
    instance: String,
    minute: i64,
    counts: Counts,
    forget: Vec<i64>,
}

impl Limiter {
    pub fn new(limit_per_minute: u32) -> Limiter {
        let mut id = [0_u8; 8];
        // Any distinct name will do; without randomness, the time and process tell apart.
        if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut id).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            id = (u64::from(std::process::id()) << 32 | u64::from(nanos)).to_be_bytes();
        }
        Limiter {
            limit: limit_per_minute.max(1),
            instance: id.iter().map(|b| format!("{b:02x}")).collect(),
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

    /// After the token is authenticated: counts the call and admits it, from this
    /// instance's counts or from the store's, or refuses it.
    pub async fn admit_with(
        &self,
        store: &Store,
        hash: &TokenHash,
        token: &TokenId,
        now_ms: i64,
    ) -> Result<(Quota, Option<Send>), Error> {
        match self.admit(hash, token, now_ms)? {
            Decision::Admitted(quota, send) => Ok((quota, send)),
            Decision::Ask(send) => {
                self.send(store, Some(send), now_ms.div_euclid(1000)).await;
                self.decide(hash, now_ms).map(|quota| (quota, None))
            }
        }
    }

    /// Counts the call, and admits it from what this instance knows, or says to ask the
    /// store first; or refuses it.
    pub fn admit(&self, hash: &TokenHash, token: &TokenId, now_ms: i64) -> Result<Decision, Error> {
        let mut tokens = self.tokens();
        let entry = seen(&mut tokens, hash, now_ms);
        self.refuse_if_over(entry, now_ms)?;
        let limit = f64::from(self.limit);
        let room = limit - 1.0 - entry.estimate(now_ms);
        let share = room / entry.instances.max(1) as f64;
        entry.pending.cur = entry.pending.cur.saturating_add(1);
        let settled = entry.synced && entry.instances == entry.instances_before;
        let alone = settled && share >= ALONE_FROM;
        // With a send in flight (the local server serves calls at once), this call does
        // not wait for it: it is decided from what is known.
        if !alone && !entry.sending {
            return Ok(Decision::Ask(self.take_send(entry, hash, token)));
        }
        let batch = ((share / 2.0).floor() as u64).clamp(1, u64::from((self.limit / 20).max(1)));
        let due = !entry.synced || entry.pending.total() >= batch;
        let send = (due && !entry.sending).then(|| self.take_send(entry, hash, token));
        Ok(Decision::Admitted(self.quota(entry, now_ms), send))
    }

    /// After an [`Decision::Ask`]'s send: whether the call, counted in the totals (or
    /// here, if the store could not be reached), is within the limit.
    pub fn decide(&self, hash: &TokenHash, now_ms: i64) -> Result<Quota, Error> {
        let tokens = self.tokens();
        let Some(entry) = tokens.get(hash) else {
            return Err(Error::Internal(
                "the limiter forgot a token mid-call".into(),
            ));
        };
        if entry.estimate(now_ms) > f64::from(self.limit) {
            return Err(self.refusal(entry, now_ms));
        }
        Ok(self.quota(entry, now_ms))
    }

    fn take_send(&self, entry: &mut Entry, hash: &TokenHash, token: &TokenId) -> Send {
        entry.sending = true;
        entry.in_flight = std::mem::take(&mut entry.pending);
        Send {
            hash: hash.clone(),
            token: token.clone(),
            instance: self.instance.clone(),
            minute: entry.minute,
            counts: entry.in_flight,
            forget: std::mem::take(&mut entry.forget),
        }
    }

    fn quota(&self, entry: &Entry, now_ms: i64) -> Quota {
        Quota {
            limit: self.limit,
            remaining: (f64::from(self.limit) - entry.estimate(now_ms))
                .floor()
                .max(0.0) as u32,
            reset_secs: secs_ceil(MINUTE_MS.saturating_sub(elapsed_ms(now_ms))),
        }
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
        if entry.estimate(now_ms) <= f64::from(self.limit) - 1.0 {
            return Ok(());
        }
        Err(self.refusal(entry, now_ms))
    }

    fn refusal(&self, entry: &Entry, now_ms: i64) -> Error {
        let room = f64::from(self.limit) - 1.0;
        let known = entry.known(now_ms);
        Error::RateLimited {
            limit: self.limit,
            retry_after_secs: secs_ceil(wait_ms(known, elapsed_ms(now_ms), room)).max(1),
        }
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
            .add_calls(
                &send.token,
                &send.instance,
                send.minute,
                &adds,
                &send.forget,
                now_unix,
            )
            .await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, token_id = %send.token, "rate counts not shared; kept for the next call");
        }
        self.settle(send, result.ok());
    }

    /// Takes in the store's totals after a send (`None`: it failed, and the counts go
    /// back to be sent again).
    fn settle(&self, send: Send, shared: Option<Shared>) {
        let mut tokens = self.tokens();
        let Some(entry) = tokens.get_mut(&send.hash) else {
            return;
        };
        entry.sending = false;
        let in_flight = std::mem::take(&mut entry.in_flight);
        let Some(Shared { totals, instances }) = shared else {
            entry.pending = entry.pending.plus(in_flight);
            entry.forget = send.forget;
            return;
        };
        entry.instances_before = std::mem::replace(&mut entry.instances, instances);
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
        let shared = Shared {
            totals,
            instances: 1,
        };
        limiter.settle(send, Some(shared));
    }

    /// One call as an instance that stands alone makes it: the store asked when the
    /// limiter says so. The quota, and the counts left to send beside the call.
    fn call(limiter: &Limiter, at_ms: i64) -> Result<(Quota, Option<Send>), Error> {
        match limiter.admit(&hash(), &id(), at_ms)? {
            Decision::Admitted(quota, send) => Ok((quota, send)),
            Decision::Ask(send) => {
                alone(limiter, Some(send));
                limiter.decide(&hash(), at_ms).map(|quota| (quota, None))
            }
        }
    }

    /// Admits calls at `at_ms` as long as they are allowed; returns how many were.
    fn burst(limiter: &Limiter, at_ms: i64, max: u32) -> u32 {
        let mut admitted = 0;
        for _ in 0..max {
            match call(limiter, at_ms) {
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
        let refused = call(&limiter, start).unwrap_err();
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
        assert!(call(&limiter, after).is_ok());
    }

    #[test]
    fn a_steady_caller_at_the_limit_waits_about_one_interval() {
        let limiter = Limiter::new(120);
        // A minute of calls at the limit, then the next minute at the same pace.
        let base = 100 * MINUTE_MS;
        let mut admitted = 0;
        for i in 0..240 {
            if let Ok((_, send)) = call(&limiter, base + i * 500) {
                admitted += 1;
                alone(&limiter, send);
            }
        }
        // 120 in the first minute, and at most the limit again over the sliding minute.
        assert!((230..=240).contains(&admitted), "{admitted}");
        let quota = call(&limiter, base + 240 * 500 + 5_000);
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
        let (first, send) = call(&limiter, at).unwrap();
        assert_eq!(
            first,
            Quota {
                limit: 10,
                remaining: 9,
                reset_secs: 15
            }
        );
        alone(&limiter, send);
        let (second, _) = call(&limiter, at).unwrap();
        assert_eq!(second.remaining, 8);
    }

    #[test]
    fn the_first_call_asks_then_batches_go_beside_then_each_call_asks_near_the_limit() {
        let limiter = Limiter::new(100);
        let at = 7 * MINUTE_MS;
        let (mut asked, mut beside) = (Vec::new(), Vec::new());
        for i in 0..100 {
            match limiter.admit(&hash(), &id(), at).unwrap() {
                Decision::Ask(send) => {
                    asked.push((i, send.counts.cur));
                    alone(&limiter, Some(send));
                    limiter.decide(&hash(), at).unwrap();
                }
                Decision::Admitted(_, send) => {
                    if let Some(send) = &send {
                        beside.push((i, send.counts.cur));
                    }
                    alone(&limiter, send);
                }
            }
        }
        assert_eq!(
            asked[..2],
            [(0, 1), (1, 1)],
            "the first two calls ask the store (the second: are instances still arriving?)"
        );
        assert_eq!(beside[0], (6, 5), "then every limit/20 calls, beside");
        assert!(
            asked.iter().skip(2).all(|(i, n)| *i >= 95 && *n == 1),
            "only the last calls, one by one: {asked:?}"
        );
        assert!(asked.len() > 2, "near the limit, calls ask: {asked:?}");
        let total: u64 = asked.iter().chain(&beside).map(|(_, n)| n).sum();
        assert_eq!(total, 100, "every admitted call is sent exactly once");
        assert!(call(&limiter, at).is_err());
    }

    #[test]
    fn with_many_instances_each_decides_alone_only_within_its_share() {
        let limiter = Limiter::new(600);
        let at = 8 * MINUTE_MS;
        // Two calls ask: 100 instances share the token, and no more arrive; 100 calls
        // so far. Each may then hold (599 - 100) / 100 / 2 = 2 calls unsent.
        for total in [99, 100] {
            let Decision::Ask(send) = limiter.admit(&hash(), &id(), at).unwrap() else {
                panic!("the first two calls ask");
            };
            let shared = Shared {
                totals: vec![(minute_of(at), total)],
                instances: 100,
            };
            limiter.settle(send, Some(shared));
            limiter.decide(&hash(), at).unwrap();
        }
        let Decision::Admitted(_, None) = limiter.admit(&hash(), &id(), at).unwrap() else {
            panic!("the first of a batch of 2 is not sent");
        };
        let Decision::Admitted(_, Some(send)) = limiter.admit(&hash(), &id(), at).unwrap() else {
            panic!("the second is");
        };
        assert_eq!(send.counts.cur, 2);
        // The others called meanwhile: 450 calls, less than 2 each left of the room.
        let shared = Shared {
            totals: vec![(minute_of(at), 450)],
            instances: 100,
        };
        limiter.settle(send, Some(shared));
        assert!(matches!(
            limiter.admit(&hash(), &id(), at).unwrap(),
            Decision::Ask(_)
        ));
    }

    #[test]
    fn what_other_instances_admitted_counts_against_this_one() {
        let limiter = Limiter::new(10);
        let at = 3 * MINUTE_MS;
        let Decision::Ask(send) = limiter.admit(&hash(), &id(), at).unwrap() else {
            panic!("a first call asks");
        };
        assert_eq!(send.counts.cur, 1);
        // The store answers: with ours, 10 calls this minute — ours is the 10th.
        let shared = Shared {
            totals: vec![(minute_of(at), 10)],
            instances: 2,
        };
        limiter.settle(send, Some(shared));
        assert!(limiter.decide(&hash(), at).is_ok());
        assert!(matches!(call(&limiter, at), Err(Error::RateLimited { .. })));
        // Had there been 11, ours would be refused.
        let other = Limiter::new(10);
        let Decision::Ask(send) = other.admit(&hash(), &id(), at).unwrap() else {
            panic!("a first call asks");
        };
        let shared = Shared {
            totals: vec![(minute_of(at), 11)],
            instances: 2,
        };
        other.settle(send, Some(shared));
        assert!(matches!(
            other.decide(&hash(), at),
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
                    match call(&limiter, now) {
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
