//! The promlite server: HTTP API (Prometheus query API, remote-write/read), config,
//! and the bench subcommands. The binary in `main.rs` is a thin CLI over this library
//! so end-to-end tests can build the router in-process.

pub mod bench;
mod civil;
pub mod config;
pub mod http;
pub mod ingest;
pub mod metadata;
pub mod metrics;
pub mod server;
pub mod storage;
