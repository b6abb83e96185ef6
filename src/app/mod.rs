//! The services: one function per use case, each one transaction that loads,
//! decides by the domain's rules and persists. Everything that changes data
//! comes through here; HTTP handlers and the command line only call it.

pub mod analytics;
pub mod auth;
pub mod calendar;
pub mod check_figures;
pub mod check_hazards;
pub mod checklists;
pub mod checks;
pub mod demo;
pub mod display_keys;
pub mod dossier;
pub mod duty_figures;
pub mod enterprises;
pub mod escalation;
pub mod evaluation;
pub mod evidence;
pub mod exchange;
pub mod filings;
pub mod grading;
pub mod hazards;
pub mod imports;
pub mod inspections;
pub mod ledger;
pub mod ledger_file;
pub mod listing;
pub mod major_sources;
pub mod occurrences;
pub mod prevention_board;
pub mod record_photos;
pub mod register_edit;
pub mod register_import;
pub mod reports;
pub mod risk;
pub mod stats;
pub mod users;
pub mod webhooks;
pub mod workers;
