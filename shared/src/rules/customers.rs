//! Customers: listed, read, created and changed by MCP tools.

use crate::error::Error;
use crate::model::customers::{Customer, CustomerFields, CustomerStatus, LISTING};
use crate::model::events::Actor;
use crate::model::hashing::Pepper;
use crate::model::ids::{AccountId, CustomerId};
use crate::model::page::{Page, PageRequest};
use crate::model::time::Timestamp;
use crate::store::Store;

/// No such customer here; an id of the wrong shape is simply not found.
pub fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: "customer",
        id: id.to_owned(),
        hint: "; list_customers shows the customer ids",
    }
}

/// The id of a customer the caller named, or why there is none.
pub fn parse_id(id: &str) -> Result<CustomerId, Error> {
    CustomerId::parse(id).ok_or_else(|| not_found(id))
}

pub async fn create(
    store: &Store,
    account: &AccountId,
    fields: CustomerFields,
    now: Timestamp,
    via: Option<&Actor>,
) -> Result<Customer, Error> {
    let customer = fields.check()?.create(CustomerId::new(now)?, now)?;
    let event = via.map(|a| a.changed(customer.customer_id.as_str(), now));
    store
        .insert_customer(account, &customer, event.as_ref())
        .await?;
    Ok(customer)
}

pub async fn get(store: &Store, account: &AccountId, id: &str) -> Result<Customer, Error> {
    let found = store.customer(account, &parse_id(id)?).await?;
    found.ok_or_else(|| not_found(id))
}

pub async fn update(
    store: &Store,
    account: &AccountId,
    id: &str,
    fields: CustomerFields,
    now: Timestamp,
    via: Option<&Actor>,
) -> Result<Customer, Error> {
    let changes = fields.check()?;
    if changes.is_empty() {
        return Err(Error::bad_request(
            "invalid_input",
            "nothing to update: give at least one of name, email, phone, status",
        ));
    }
    let id_ = parse_id(id)?;
    let event = via.map(|a| a.changed(id_.as_str(), now));
    let updated = store
        .update_customer(account, &id_, &changes, now, event.as_ref())
        .await?;
    updated.ok_or_else(|| not_found(id))
}

pub async fn list(
    store: &Store,
    pepper: &Pepper,
    account: &AccountId,
    status: Option<CustomerStatus>,
    request: &PageRequest,
) -> Result<Page<Customer>, Error> {
    let start = LISTING.start(pepper, account, request)?;
    let slice = store
        .customers(account, start.size, start.after.as_ref(), status)
        .await?;
    Ok(LISTING.page(pepper, account, slice))
}
