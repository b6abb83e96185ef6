//! The hazard tracker: a REST service that tracks hidden safety hazards in a
//! chemical-industry park from discovery to closure.
//!
//! Layout: `domain` holds the rules (no I/O), `db` the storage, `lifecycle`
//! the transactions that change hazards, `routes` the HTTP surface, `auth`
//! tokens and passwords, `startup` the server, `cli` the command line.

pub mod auth;
pub mod cli;
pub mod clock;
pub mod db;
pub mod demo;
pub mod domain;
pub mod email;
pub mod error;
pub mod escalation;
pub mod lifecycle;
pub mod login_throttle;
pub mod metrics;
pub mod openapi;
pub mod read_cache;
pub mod report;
pub mod response_headers;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod state;
pub mod storage;
pub mod supervision;
pub mod telemetry;
