//! prepbot: a Discord bot for interview-practice servers.
//!
//! The crate is a pure core with a thin Discord edge (see ARCHITECTURE.md):
//! [`bank`], [`daily`], [`practice`], [`quiz`] and [`text`] know nothing of Discord; [`store`] is
//! the one place with SQL; [`discord`] translates between Discord and the core. [`metrics`]
//! names what is measured, for both.

// One error policy: a `Result` is handled or logged, never dropped with `let _ =`
// (tests may). See `discord::errors`.
#![cfg_attr(not(test), deny(clippy::let_underscore_must_use))]

pub mod bank;
pub mod config;
pub mod daily;
pub mod discord;
pub mod logging;
pub mod memory;
pub mod metrics;
pub mod practice;
pub mod quiz;
pub mod redact;
pub mod shards;
pub mod store;
pub mod text;
