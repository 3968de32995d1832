//! The customers toolset: the agency's clients.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{needs, Tools};
use crate::error::Error;
use crate::model::admission::Caller;
use crate::model::customers::{Customer, CustomerFields, CustomerStatus};
use crate::model::page::{Page, PageRequest};
use crate::model::scope::Scope;
use crate::rules::customers;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListCustomers {
    /// Only customers with this status.
    pub status: Option<CustomerStatus>,
    /// How many to return, 1 to 100 (default 25).
    pub limit: Option<u32>,
    /// The next_cursor of the previous page, to continue a listing.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CustomerId {
    /// The customer's id (cus_…).
    pub customer_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateCustomer {
    /// The customer's business name, 1 to 100 characters.
    pub name: String,
    /// Contact email address.
    pub email: Option<String>,
    /// Contact phone number in international form, e.g. +1 415 555 0142.
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateCustomer {
    /// The customer's id (cus_…).
    pub customer_id: String,
    /// New business name.
    pub name: Option<String>,
    /// New contact email address.
    pub email: Option<String>,
    /// New contact phone number in international form.
    pub phone: Option<String>,
    /// `paused` stops the customer's agents from taking calls; `active` resumes them.
    pub status: Option<CustomerStatus>,
}

#[tool_router(router = customer_tools, vis = "pub(super)")]
impl Tools {
    /// List the account's customers (the agency's clients), oldest first, with their
    /// status and credit balance. Paginated: pass next_cursor back as cursor.
    #[tool(
        meta = needs(Scope::CustomersRead),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_customers(
        &self,
        caller: Caller,
        Parameters(p): Parameters<ListCustomers>,
    ) -> Result<Json<Page<Customer>>, Error> {
        let request = PageRequest {
            limit: p.limit,
            cursor: p.cursor,
        };
        let page = customers::list(
            &self.app.store,
            self.pepper()?,
            &caller.account,
            p.status,
            &request,
        );
        page.await.map(Json)
    }

    /// One customer by id: name, contact details, status and credit balance.
    #[tool(
        meta = needs(Scope::CustomersRead),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_customer(
        &self,
        caller: Caller,
        Parameters(p): Parameters<CustomerId>,
    ) -> Result<Json<Customer>, Error> {
        let customer = customers::get(&self.app.store, &caller.account, &p.customer_id);
        customer.await.map(Json)
    }

    /// Add a customer to the account. It starts active, with no credits: use
    /// allocate_credits to give it some.
    #[tool(
        meta = needs(Scope::CustomersWrite),
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_customer(
        &self,
        caller: Caller,
        Parameters(p): Parameters<CreateCustomer>,
    ) -> Result<Json<Customer>, Error> {
        let fields = CustomerFields {
            name: Some(p.name),
            email: p.email,
            phone: p.phone,
            status: None,
        };
        let via = caller.acting_with("create_customer");
        let customer = customers::create(
            &self.app.store,
            &caller.account,
            fields,
            caller.at,
            Some(&via),
        );
        customer.await.map(Json)
    }

    /// Change a customer's name, contact details or status. Set status to `paused` to stop
    /// all its agents from taking calls, `active` to resume. Only the given fields change.
    #[tool(
        meta = needs(Scope::CustomersWrite),
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_customer(
        &self,
        caller: Caller,
        Parameters(p): Parameters<UpdateCustomer>,
    ) -> Result<Json<Customer>, Error> {
        let fields = CustomerFields {
            name: p.name,
            email: p.email,
            phone: p.phone,
            status: p.status,
        };
        let via = caller.acting_with("update_customer");
        let customer = customers::update(
            &self.app.store,
            &caller.account,
            &p.customer_id,
            fields,
            caller.at,
            Some(&via),
        );
        customer.await.map(Json)
    }
}
