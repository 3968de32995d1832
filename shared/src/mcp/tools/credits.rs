use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{tool, tool_router, ErrorData as McpError};
use schemars::JsonSchema;
use serde::Deserialize;
use time::OffsetDateTime;

use super::{answer, Tools};
use crate::auth::Caller;
use crate::domain::credits;

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
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_credit_balances(&self, caller: Caller) -> Result<CallToolResult, McpError> {
        answer(credits::balances(&self.app.store, &caller.account).await)
    }

    /// Move credits from the account's pool to a customer, atomically. Fails without
    /// change if the pool has too few credits. Give a fresh idempotency_key per allocation;
    /// repeating a call with the same key is safe and allocates only once.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn allocate_credits(
        &self,
        caller: Caller,
        Parameters(p): Parameters<AllocateCredits>,
    ) -> Result<CallToolResult, McpError> {
        let allocation = credits::allocate(
            &self.app.store,
            &caller.account,
            caller.token_id.as_str(),
            &p.customer_id,
            p.amount,
            &p.idempotency_key,
            p.note.as_deref(),
            OffsetDateTime::now_utc(),
        );
        answer(allocation.await)
    }

    /// The credit ledger, newest first: purchases into the pool, allocations to customers
    /// and usage, each with the balances after it. Paginated: pass next_cursor back as
    /// cursor.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn list_credit_transactions(
        &self,
        caller: Caller,
        Parameters(p): Parameters<ListTransactions>,
    ) -> Result<CallToolResult, McpError> {
        let page = credits::transactions(
            &self.app.store,
            self.pepper()?,
            &caller.account,
            p.customer_id.as_deref(),
            p.limit,
            p.cursor.as_deref(),
        );
        answer(page.await)
    }
}
