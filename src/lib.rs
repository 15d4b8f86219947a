//! prepbot: a Discord bot for interview-practice servers.
//!
//! The crate is a pure core with a thin Discord edge (see ARCHITECTURE.md):
//! [`bank`], [`daily`], [`quiz`] and [`text`] know nothing of Discord; [`store`] is the one
//! place with SQL; [`discord`] translates between Discord and the core.

pub mod bank;
pub mod config;
pub mod daily;
pub mod discord;
pub mod quiz;
pub mod store;
pub mod text;
