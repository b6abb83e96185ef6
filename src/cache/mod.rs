//! Answers kept in memory: finished reads of hazards (`reads`), dropped
//! when the data changes, dashboard figures (`figures`), keyed by the
//! data's change marker, and the analytics' facts (`facts`), kept up to
//! date from the change feed.

pub mod facts;
pub mod figures;
pub mod reads;
