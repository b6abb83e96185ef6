//! The domain: hazard states and transitions, enterprise identity, the
//! national major-hazard criteria, the park's working calendar, the risk
//! register, the schedules of check tasks and the values users type in.
//! No actix, no diesel: everything here is plain data and pure rules.

pub mod access;
pub mod calendar;
pub mod check_task;
pub mod checklist;
pub mod credit_code;
pub mod criteria;
pub mod delivery;
pub mod email;
pub mod enterprise;
pub mod evaluation;
pub mod evidence;
pub mod exchange;
pub mod filing;
pub mod grading;
pub mod hazard;
pub mod hex;
pub mod inspection;
pub mod ledger;
pub mod major_source;
pub mod network;
pub mod park;
pub mod risk;
pub mod schedule;
pub mod tally;
pub mod terms;
pub mod text;
pub mod version;
pub mod vocabulary;
pub mod webhook;
