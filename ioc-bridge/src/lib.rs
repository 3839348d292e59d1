//! The IOC bridge: the service an Intelligent Operations Centre runs.
//!
//! It owns MQTT ingest (validate each envelope against the wire contract, store, then
//! acknowledge), the event store (SQLite; snapshots content-addressed; quarantine for bad
//! messages), the JSON HTTP API and the operators' web page. It never links GStreamer or ONNX
//! Runtime: the only contract with the edges is the `wire` crate.

pub mod broker;
pub mod config;
pub mod http;
pub mod ingest;
pub mod store;
