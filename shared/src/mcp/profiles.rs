//! Account profiles as the MCP endpoint reads them: the token is read strongly consistent
//! on every call (a revoke takes effect on the very next one), the account's profile at
//! most every `ttl` per instance — so that a warm call is one DynamoDB round trip.
//!
//! Only a profile that grants access is kept. A denial is never cached: enabling API
//! access works on the next call, while disabling it, or tightening the token policy,
//! reaches an instance that holds the profile within `ttl` (30 s deployed).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::model::account::Account;
use crate::model::ids::AccountId;
use crate::store::Store;

/// Accounts kept per instance; beyond, the oldest is dropped.
const MAX_KEPT: usize = 10_000;

pub struct Profiles {
    ttl: Duration,
    kept: Mutex<HashMap<AccountId, (Account, Instant)>>,
}

impl Profiles {
    /// `ttl` zero: read on every call.
    pub fn new(ttl: Duration) -> Profiles {
        Profiles {
            ttl,
            kept: Mutex::new(HashMap::new()),
        }
    }

    fn kept(&self) -> MutexGuard<'_, HashMap<AccountId, (Account, Instant)>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The account's profile, from this instance's copy while it is fresh; `None` if the
    /// account has none. Only a profile that grants API access is kept.
    pub async fn get(&self, store: &Store, id: &AccountId) -> Result<Option<Account>, Error> {
        let now = Instant::now();
        if let Some((account, at)) = self.kept().get(id) {
            if now.duration_since(*at) < self.ttl {
                return Ok(Some(account.clone()));
            }
        }
        let read = store.account(id).await?;
        let mut kept = self.kept();
        match &read {
            Some(account) if account.api_access && !self.ttl.is_zero() => {
                if kept.len() >= MAX_KEPT && !kept.contains_key(id) {
                    let oldest = kept
                        .iter()
                        .min_by_key(|(_, (_, at))| *at)
                        .map(|(k, _)| k.clone());
                    if let Some(oldest) = oldest {
                        kept.remove(&oldest);
                    }
                }
                kept.insert(id.clone(), (account.clone(), now));
            }
            _ => {
                kept.remove(id);
            }
        }
        Ok(read)
    }

    /// Forgets the account's copy: this instance just changed what it shows (the pool).
    pub fn forget(&self, id: &AccountId) {
        self.kept().remove(id);
    }
}
