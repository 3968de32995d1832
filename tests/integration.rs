//! Integration tests: the management handlers against DynamoDB Local, the pepper from
//! moto's Secrets Manager, and the local server over real HTTP. `make test` starts the
//! dependencies and points the tests at them.

mod common;

mod allowlist;
mod binaries;
mod bounds;
mod events;
mod faults;
mod generate;
mod iam;
mod leaks;
mod limits;
mod list;
mod local_server;
mod mcp_auth;
mod mcp_clients;
mod mcp_protocol;
mod mcp_tools;
mod oauth;
mod outages;
mod properties;
mod rate_limit;
mod revoke;
mod roles;
mod rotation;
mod sam_local;
mod template;
