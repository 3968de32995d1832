//! The credits toolset: the pool, balances, allocations and the ledger.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{needs, Tools};
use crate::error::Error;
use crate::model::admission::Caller;
use crate::model::credits::{Allocation, Balances, Transaction};
use crate::model::page::{Page, PageRequest};
use crate::model::scope::Scope;
use crate::rules::credits::{self, AllocationRequest};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AllocateCredits {
    /// The customer receiving the credits (cus_…).
    pub customer_id: String,
    /// Whole credits to move from the pool to the customer, 1 to 1,000,000.
    pub amount: i64,
    /// A unique key for this allocation (e.g. a UUID). Retrying with the same key returns
    /// the first result instead of allocating twice.
    pub idempotency_key: String,
    /// Why, for the ledger (optional, up to 500 characters).
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListTransactions {
    /// Only this customer's transactions (cus_…).
    pub customer_id: Option<String>,
    /// How many to return, 1 to 100 (default 25).
    pub limit: Option<u32>,
    /// The next_cursor of the previous page, to continue a listing.
    pub cursor: Option<String>,
}

#[tool_router(router = credit_tools, vis = "pub(super)")]
impl Tools {
    /// Credit balances: the account's pool (bought, not yet allocated), the total allocated,
    /// and each customer's balance. Calls consume one credit per started minute.
    #[tool(
        meta = needs(Scope::CreditsRead),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_credit_balances(&self, caller: Caller) -> Result<Json<Balances>, Error> {
        credits::balances(&self.app.store, &caller.account)
            .await
            .map(Json)
    }

    /// Move credits from the account's pool to a customer, atomically. Fails without
    /// change if the pool has too few credits. Give a fresh idempotency_key per allocation;
    /// repeating a call with the same key is safe and allocates only once.
    #[tool(
        meta = needs(Scope::CreditsWrite),
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn allocate_credits(
        &self,
        caller: Caller,
        Parameters(p): Parameters<AllocateCredits>,
    ) -> Result<Json<Allocation>, Error> {
        let request = AllocationRequest {
            customer_id: &p.customer_id,
            amount: p.amount,
            idempotency_key: &p.idempotency_key,
            note: p.note.as_deref(),
        };
        let via = caller.acting_with("allocate_credits");
        let allocation = credits::allocate(
            &self.app.store,
            &caller.account,
            caller.token_id.as_str(),
            request,
            caller.at,
            Some(&via),
        );
        let allocation = allocation.await;
        // The pool changed: this instance's copy of the profile (get_account) is stale.
        self.profiles.forget(&caller.account);
        allocation.map(Json)
    }

    /// The credit ledger, newest first: purchases into the pool, allocations to customers
    /// and usage, each with the balances after it. Paginated: pass next_cursor back as
    /// cursor.
    #[tool(
        meta = needs(Scope::CreditsRead),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_credit_transactions(
        &self,
        caller: Caller,
        Parameters(p): Parameters<ListTransactions>,
    ) -> Result<Json<Page<Transaction>>, Error> {
        let request = PageRequest {
            limit: p.limit,
            cursor: p.cursor,
        };
        let page = credits::transactions(
            &self.app.store,
            self.pepper()?,
            &caller.account,
            p.customer_id.as_deref(),
            &request,
        );
        page.await.map(Json)
    }
}
