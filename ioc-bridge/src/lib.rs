//! The IOC bridge: the service an Intelligent Operations Centre runs.
//!
//! It owns MQTT ingest (an MQTT 5 shared subscription; validate each envelope against the wire
//! contract, store in batches, then acknowledge), the event store (SQLite or PostgreSQL through
//! one schema; snapshots content-addressed; quarantine for bad messages; alerts with their
//! history; per-minute gate counts), the JSON HTTP API with its OpenAPI document, the web UI
//! for operators, traffic police and gate security, users and sessions, the audit log of
//! access to personal data, retention, and enrolment (embeddings computed with the `models`
//! crate, pushed to the edges, and the whole gallery synced to each edge that comes online). It never links GStreamer: the only contract with the edges is
//! the `wire` crate.

pub mod auth;
pub mod broker;
pub mod config;
pub mod faces;
pub mod gallery_sync;
pub mod http;
pub mod ingest;
pub mod retention;
pub mod store;
