//! Knotie AI Pro MCP tokens: everything the Lambda functions and the local server share,
//! in layers that point one way — each imports only from the layers before it.
//!
//! 1. [`model`] and [`error`]: the nouns as plain values — the token format, hashing, ids,
//!    the one timestamp type, text rules, paging, scopes, tokens, the account's data —
//!    and the one error type. No I/O.
//! 2. [`store`]: DynamoDB, and nothing else names it. Typed methods per item kind; where
//!    an item is shaped (`store::customers`, …) and the table layout ([`store::keys`]).
//! 3. [`rules`]: what the product does — the token [`lifecycle`](rules::lifecycle) and the
//!    account's customers, agents, credits and analytics — as read → decide → write.
//! 4. The wiring a function is built from: [`config`] (read once), [`aws`] (SDK clients),
//!    [`secrets`] (the pepper), [`kept`] (what an instance keeps between requests, bounded
//!    and for a while), [`logging`] (never a secret, at any level), [`metrics`]
//!    (the one EMF line per request), [`app`] (config, store and pepper, built once),
//!    [`lambda`] (the runtime loop that answers first and finishes after) and, with the
//!    `fetch` feature, `fetch` (documents read from elsewhere, bounded; public addresses
//!    only for a URL a stranger chose).
//! 5. The edges, which turn requests into calls of the rules and the store, built from
//!    the wiring: [`browser`] (the Origin and Host allow-lists, checked first), [`api`]
//!    (the management routes, the caller from JWT claims), with the `leaks` feature,
//!    [`leaks`] (the public leak routes, answering through `api`'s replies) and, with the
//!    `mcp` feature, [`mcp`] (the endpoint, bearer-token authentication — where
//!    revocation is checked on every call — and the tools, each declaring its scope),
//!    and with `oauth`, `oauth` (MCP authorization: the server's public routes beside
//!    `/mcp`, and the consent page's API).

// Library code may not unwrap, expect, panic or index unchecked (tests may): a panic fails
// the invocation it happens in. The release profile unwinds (panic = "unwind", see the
// workspace Cargo.toml), so the Lambda runtime catches a panic — ours or a dependency's —
// as that one invocation's error and the instance lives on; these lints keep our own
// code from relying on that.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

pub mod api;
pub mod app;
pub mod aws;
pub mod browser;
pub mod config;
pub mod error;
#[cfg(feature = "fetch")]
pub mod fetch;
pub mod kept;
pub mod lambda;
#[cfg(feature = "leaks")]
pub mod leaks;
pub mod logging;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod metrics;
pub mod model;
#[cfg(feature = "oauth")]
pub mod oauth;
pub mod rules;
pub mod secrets;
pub mod store;

pub use app::App;
pub use error::Error;
