//! Answers kept in memory: finished reads of hazards (`reads`), dropped
//! when the data changes, and dashboard figures (`figures`), keyed by the
//! data's change marker.

pub mod figures;
pub mod reads;
