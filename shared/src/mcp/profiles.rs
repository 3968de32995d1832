//! Account profiles as the MCP endpoint reads them: the token is read strongly consistent
//! on every call (a revoke takes effect on the very next one), the account's profile at
//! most every `ttl` per instance — so that a warm call is one DynamoDB round trip.
//!
//! Only a profile that grants access is kept. A denial is never cached: enabling API
//! access works on the next call, while disabling it, or tightening the token policy,
//! reaches an instance that holds the profile within `ttl` (30 s deployed).

use std::time::{Duration, Instant};

use crate::error::Error;
use crate::kept::Kept;
use crate::model::account::Account;
use crate::model::ids::AccountId;
use crate::store::Store;

/// Accounts kept per instance; beyond, the oldest is dropped.
const MAX_KEPT: usize = 10_000;

pub struct Profiles {
    kept: Kept<AccountId, Account>,
}

impl Profiles {
    /// `ttl` zero: read on every call.
    pub fn new(ttl: Duration) -> Profiles {
        Profiles {
            kept: Kept::new(ttl, MAX_KEPT),
        }
    }

    /// The account's profile, from this instance's copy while it is fresh; `None` if the
    /// account has none. Only a profile that grants API access is kept.
    pub async fn get(&self, store: &Store, id: &AccountId) -> Result<Option<Account>, Error> {
        let now = Instant::now();
        if let Some(account) = self.kept.get(id, now) {
            return Ok(Some(account));
        }
        let read = store.account(id).await?;
        match &read {
            Some(account) if account.api_access => self.kept.put(id.clone(), account.clone(), now),
            _ => self.kept.forget(id),
        }
        Ok(read)
    }

    /// Forgets the account's copy: this instance just changed what it shows (the pool).
    pub fn forget(&self, id: &AccountId) {
        self.kept.forget(id);
    }
}
