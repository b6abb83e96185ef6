//! The hazard tracker: a REST service that tracks hidden safety hazards in a
//! chemical-industry park from discovery to closure.
//!
//! The folders are the layers, and each imports only those below it:
//!
//! - `domain`: the rules — states and transitions, creation rules, who may
//!   do what, grading — as plain data and pure functions;
//! - `db`: storage — the connection for both backends, schema, typed rows
//!   and every query; `storage` (evidence bytes) and `email` (delivery) sit
//!   beside it;
//! - `app`: the services, one transaction per use case;
//! - `cache`: answers kept in memory until the data changes;
//! - `http`: extract, authorize, call `app`, respond;
//! - `startup` builds the server and `cli` the command line on top.
//!
//! Under them all: `error` (the one error type), `clock`, `settings` and
//! `telemetry`. `tests/api/layering.rs` keeps this shape true.

pub mod app;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod db;
pub mod domain;
pub mod email;
pub mod error;
pub mod http;
pub mod messages;
pub mod settings;
pub mod startup;
pub mod storage;
pub mod telemetry;
