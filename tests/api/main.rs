//! Integration tests through the real HTTP app. Every test runs twice: on a
//! fresh SQLite file and on a fresh PostgreSQL database.

// A failed unwrap is a failed test, with its line: exactly what tests want.
#![allow(clippy::unwrap_used)]

mod helpers;

mod analytics;
mod attachments;
mod calendar;
mod capabilities;
mod changes;
mod checklists;
mod cli;
mod contract;
mod display_keys;
mod escalation;
mod exchange;
mod faults;
mod filings;
mod grading;
mod imports;
mod layering;
mod ledger;
mod lifecycle;
mod limits;
mod major_sources;
mod messages;
mod operations;
mod read_cache;
mod register_edit;
mod register_import;
mod regulation;
mod renderings;
mod reports;
mod revalidation;
mod risk;
mod robustness;
mod route_walk;
mod security;
mod smtp;
mod summaries;
mod typography;
mod webhooks;
mod workspace;
