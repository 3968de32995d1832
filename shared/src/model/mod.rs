//! The bottom layer: the nouns of the product as plain values, with the rules that need
//! nothing but the values themselves (formats, text, limits, paging, expiry). No I/O and
//! no imports from the layers above — the store, the rules and the edges all speak these.
//!
//! - [`token`]: the token format (prefix, randomness, checksum) and its parsing;
//! - [`hashing`]: the pepper and what it keys: token hashes and cursor MACs;
//! - [`ids`], [`time`], [`text`], [`page`]: ids as types, the one timestamp type, the one
//!   text rule, the one way to page a listing;
//! - [`scope`]: what a token may do;
//! - [`tokens`], [`events`]: a token's record, grant and history;
//! - [`account`], [`roles`]: the account, and who acts for it;
//! - [`policy`], [`allowlist`]: what an account allows its tokens, where a token may be used;
//! - [`admission`]: whether a token may act — its standing, and an MCP call's admission;
//! - [`oauth`]: MCP authorization's rules that need no storage (PKCE, redirect URIs, the
//!   resource a token is for, requested scopes);
//! - [`customers`], [`agents`], [`credits`], [`calls`]: the account's data.

pub mod account;
pub mod admission;
pub mod agents;
pub mod allowlist;
pub mod calls;
pub mod credits;
pub mod customers;
pub mod events;
pub mod hashing;
pub mod ids;
pub mod oauth;
pub mod page;
pub mod policy;
pub mod roles;
pub mod scope;
pub mod text;
pub mod time;
pub mod token;
pub mod tokens;
