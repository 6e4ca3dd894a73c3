//! Flightdeck's server: configuration, storage, sign-in, the event bus and websocket, REST, and the
//! Leptos SSR of the `app` crate, all in one axum router.

// serde_json::json! expands recursively; the OpenAPI document (openapi.rs) needs more than 128 levels.
#![recursion_limit = "256"]

pub mod alerts;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod builds;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod deploy;
pub mod error;
pub mod events;
pub mod flags;
pub mod jobs;
pub mod json_body;
pub mod maintenance;
pub mod memory;
pub mod metrics;
pub mod ofrep;
pub mod openapi;
pub mod probes;
pub mod reachability;
pub mod read_cache;
pub mod remote;
pub mod rest;
pub mod runtime_config;
pub mod security;
pub mod serve;
pub mod shutdown;
pub mod slos;
pub mod state;
pub mod store;
pub mod system;
pub mod web;
pub mod webhooks;
pub mod ws;

/// Wall-clock time in Unix milliseconds, the one time format stored in the database.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// RFC 3339 text (`2026-12-01T22:00:00Z`) as Unix milliseconds.
pub fn rfc3339_ms(text: &str) -> Option<i64> {
    let at =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some((at.unix_timestamp_nanos() / 1_000_000) as i64)
}
