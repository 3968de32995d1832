//! What an instance keeps between requests for a while: values by key, each believed for
//! `fresh` after it was put, at most `most` at once — past that, putting a new key drops
//! the oldest, so memory stays bounded whatever keys callers make up.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub struct Kept<K, V> {
    fresh: Duration,
    most: usize,
    map: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> Kept<K, V> {
    /// `fresh` zero keeps nothing.
    pub fn new(fresh: Duration, most: usize) -> Kept<K, V> {
        Kept {
            fresh,
            most,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> MutexGuard<'_, HashMap<K, (V, Instant)>> {
        // A panic elsewhere while holding it leaves a map that is still whole.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value kept for `key`, if it was put less than `fresh` before `now`.
    pub fn get<Q>(&self, key: &Q, now: Instant) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.map()
            .get(key)
            .filter(|(_, at)| now.saturating_duration_since(*at) < self.fresh)
            .map(|(value, _)| value.clone())
    }

    /// Keeps `value` for `key` from `now`, in place of what was kept for it.
    pub fn put(&self, key: K, value: V, now: Instant) {
        if self.fresh.is_zero() || self.most == 0 {
            return;
        }
        let mut map = self.map();
        if map.len() >= self.most && !map.contains_key(&key) {
            let oldest = map
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                map.remove(&oldest);
            }
        }
        map.insert(key, (value, now));
    }

    /// Forgets what was kept for `key`.
    pub fn forget<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.map().remove(key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FRESH: Duration = Duration::from_secs(30);

    #[test]
    fn a_value_is_believed_until_it_is_stale() {
        let kept = Kept::new(FRESH, 8);
        let start = Instant::now();
        kept.put("acct", 1, start);
        assert_eq!(
            kept.get("acct", start + FRESH - Duration::from_millis(1)),
            Some(1)
        );
        assert_eq!(kept.get("acct", start + FRESH), None);
        kept.forget("acct");
        assert_eq!(kept.get("acct", start), None);
    }

    #[test]
    fn zero_freshness_keeps_nothing() {
        let kept = Kept::new(Duration::ZERO, 8);
        kept.put("acct", 1, Instant::now());
        assert_eq!(kept.len(), 0);
    }

    proptest! {
        /// Whatever keys come, at most `most` are kept; the last put is always there and
        /// fresh; and a key dropped for room was the oldest.
        #[test]
        fn bounded_newest_kept(most in 1usize..8, keys in prop::collection::vec(0u8..16, 1..64)) {
            let kept = Kept::new(FRESH, most);
            let start = Instant::now();
            let mut model: Vec<(u8, usize)> = Vec::new();
            for (i, key) in keys.iter().enumerate() {
                let now = start + Duration::from_millis(i as u64);
                kept.put(*key, i, now);
                model.retain(|(k, _)| k != key);
                if model.len() >= most {
                    model.remove(0);
                }
                model.push((*key, i));
                prop_assert!(kept.len() <= most);
                prop_assert_eq!(kept.get(key, now), Some(i));
            }
            let end = start + Duration::from_millis(keys.len() as u64);
            for key in 0u8..16 {
                let expected = model.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
                prop_assert_eq!(kept.get(&key, end), expected);
            }
        }
    }
}
