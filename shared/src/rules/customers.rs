//! Customers: listed, read, created and changed by MCP tools. The decisions (which id,
//! which changes) are pure functions, unit-tested below; the rest reads and writes.

use crate::error::Error;
use crate::model::customers::{Customer, CustomerChanges, CustomerFields, CustomerStatus, LISTING};
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
    let changes = update_of(fields)?;
    let id_ = parse_id(id)?;
    let event = via.map(|a| a.changed(id_.as_str(), now));
    let updated = store
        .update_customer(account, &id_, &changes, now, event.as_ref())
        .await?;
    updated.ok_or_else(|| not_found(id))
}

/// The changes an update asks for, checked, or why there are none to make.
fn update_of(fields: CustomerFields) -> Result<CustomerChanges, Error> {
    let changes = fields.check()?;
    if changes.is_empty() {
        return Err(Error::bad_request(
            "invalid_input",
            "nothing to update: give at least one of name, email, phone, status",
        ));
    }
    Ok(changes)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_of_the_wrong_shape_is_not_found_with_where_to_look() {
        for id in [
            "",
            "cus_",
            "agt_01KB3X7Q9ZJ4M2V8N6P0R5S1TW",
            "cus_01KB3X7Q9ZJ4M2V8N6P0R5S1T!",
        ] {
            let err = parse_id(id).unwrap_err();
            assert_eq!(err.status(), 404, "{id}");
            assert!(err
                .to_string()
                .ends_with("list_customers shows the customer ids"));
        }
        assert!(parse_id(CustomerId::new(Timestamp::now()).unwrap().as_str()).is_ok());
    }

    #[test]
    fn an_update_must_change_something_valid() {
        let nothing = update_of(CustomerFields::default()).unwrap_err();
        assert_eq!(nothing.status(), 400);
        assert!(nothing.to_string().starts_with("nothing to update"));
        let bad = update_of(CustomerFields {
            email: Some("not an address".into()),
            ..CustomerFields::default()
        })
        .unwrap_err();
        assert_eq!(bad.status(), 400);
        let paused = update_of(CustomerFields {
            status: Some(CustomerStatus::Paused),
            ..CustomerFields::default()
        })
        .unwrap();
        assert_eq!(paused.status, Some(CustomerStatus::Paused));
        assert_eq!(paused.name, None, "what is not given is left as it is");
    }
}
