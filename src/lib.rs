//! Sluice: a Kafka Connect-compatible sink connector host.
//!
//! One binary serves the Kafka Connect REST API, runs native sink connectors with offsets
//! managed per task, and keeps connector configs in a local state directory.
#![warn(missing_docs)]

pub mod configdef;
pub mod connectors;
pub mod data;
pub mod herder;
pub mod kafka;
pub mod logging;
pub mod metrics;
pub mod rest;
pub mod runtime;
pub mod sample;
pub mod store;
pub mod transforms;
pub mod worker;

/// Sluice's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
