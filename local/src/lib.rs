//! The local stack behind `make dev`: the deployed routes on localhost over the same
//! handler functions, against DynamoDB Local, with demo data.

pub mod gateway;
pub mod seed;
pub mod server;
