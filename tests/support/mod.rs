//! Test support: a fake Discord for end-to-end tests of the real serenity client.
//!
//! - `fake`: the server (REST + gateway), its recorded requests, store and fault injection;
//! - `payloads`: the JSON shapes it sends, and the ids/users of the test world;
//! - `schema`: request-body validation against Discord's OpenAPI spec.
//!
//! Typical use:
//! ```ignore
//! let fake = FakeDiscord::start().await;
//! let http = HttpBuilder::new(TOKEN).proxy(fake.api_base()).ratelimiter_disabled(true).build();
//! // … build and start the client with `ClientBuilder::new_with_http(http, intents)` …
//! fake.wait_ready(Duration::from_secs(10)).await;
//! let cmd = fake.slash_command("ask", &[], json!({"topic": "rust"}), &MEMBER, CHANNEL_ID);
//! fake.dispatch("INTERACTION_CREATE", cmd.clone());
//! let reply = fake.wait_callback(&cmd, Duration::from_secs(5)).await;
//! fake.assert_no_schema_violations();
//! ```
// The fake is Discord, not the bot: it keeps real time (clippy.toml's clock rule is the bot's).
#![allow(dead_code, unused_imports, clippy::disallowed_methods)]

pub mod bot;
pub mod fake;
pub mod payloads;
pub mod pg;
pub mod schema;

pub use fake::{Delivery, FakeDiscord, Recorded, Violation};
pub use payloads::*;
