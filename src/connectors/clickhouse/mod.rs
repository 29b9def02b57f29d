//! ClickHouse sink: ClickHouse's Kafka Connect sink config (`com.clickhouse.kafka.connect`),
//! Debezium envelopes into `ReplacingMergeTree` staging tables, RowBinary encoded from Arrow
//! batches, and exactly-once through a state table in ClickHouse (no KeeperMap needed).
//!
//! Modules: `config` (typed config), `types` (ClickHouse type parser), `encode` (Arrow →
//! RowBinary), `batch` (record batches → table rows, Debezium unwrapping, metadata columns),
//! `schema` (table columns from `system.columns`, cached), `ddl` (`auto.create`/`auto.evolve`),
//! `client` (HTTP client, capabilities, retries), `state` (exactly-once state table), `task`
//! (the `SinkTask`), `connector` (the `SinkConnector`, offsets API).

pub mod batch;
pub mod client;
pub mod config;
pub mod connector;
pub mod ddl;
pub mod encode;
pub mod schema;
pub mod state;
pub mod task;
pub mod types;

pub use connector::ClickHouseSinkConnector;
