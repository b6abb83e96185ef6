//! Bulk inserts: many rows of a table in a few multi-row `INSERT`s, per
//! backend. The multi-backend connection cannot batch-insert on SQLite, so
//! each insert here matches on the backend and runs on that backend's own
//! connection, a fixed number of rows to a statement. The demo park is
//! written this way.

use diesel::prelude::*;

use super::enterprises::NewEnterprise;
use super::grading::{Assessment, EnterpriseEvent};
use super::hazards::rendered;
use super::hazards::{Hazard, HazardEvent};
use super::inspections::Inspection;
use super::schema::{
    enterprise_assessments, enterprise_events, enterprises, hazard_events, hazards, inspections,
};
use super::DbConnection;
use crate::error::AppError;

/// Inserts `$rows` (a slice) into `$table` in one statement, on whichever
/// backend `$conn` speaks.
macro_rules! batch_insert {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            DbConnection::Postgresql(c) => diesel::insert_into($table)
                .values($rows)
                .execute(c)
                .map(|_| ()),
            DbConnection::Sqlite(c) => diesel::insert_into($table)
                .values($rows)
                .execute(c)
                .map(|_| ()),
        }
    };
}

/// Runs `insert` on consecutive slices of at most `chunk` rows.
fn insert_chunked<T, F>(
    conn: &mut DbConnection,
    rows: &[T],
    chunk: usize,
    mut insert: F,
) -> Result<(), AppError>
where
    F: FnMut(&mut DbConnection, &[T]) -> Result<(), AppError>,
{
    for part in rows.chunks(chunk) {
        insert(conn, part)?;
    }
    Ok(())
}

/// Inserts enterprises, 200 to a statement.
pub fn enterprises(conn: &mut DbConnection, rows: &[NewEnterprise<'_>]) -> Result<(), AppError> {
    insert_chunked(conn, rows, 200, |c, part| {
        Ok(batch_insert!(c, enterprises::table, part)?)
    })
}

/// Inserts grading assessments, 200 to a statement.
pub fn assessments(conn: &mut DbConnection, rows: &[Assessment]) -> Result<(), AppError> {
    insert_chunked(conn, rows, 200, |c, part| {
        Ok(batch_insert!(c, enterprise_assessments::table, part)?)
    })
}

/// Inserts enterprise history events, 200 to a statement.
pub fn enterprise_events(
    conn: &mut DbConnection,
    rows: &[EnterpriseEvent],
) -> Result<(), AppError> {
    insert_chunked(conn, rows, 200, |c, part| {
        Ok(batch_insert!(c, enterprise_events::table, part)?)
    })
}

/// How many rows of each kind a [`HazardBatch`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub inspections: usize,
    pub hazards: usize,
    pub events: usize,
}

impl std::ops::AddAssign for Written {
    fn add_assign(&mut self, other: Written) {
        self.inspections += other.inspections;
        self.hazards += other.hazards;
        self.events += other.events;
    }
}

/// Inspections, the hazards found in them and the hazards' events, gathered
/// to be written together (in that order, so every row's references exist).
#[derive(Debug, Default)]
pub struct HazardBatch {
    pub inspections: Vec<Inspection>,
    pub hazards: Vec<Hazard>,
    pub events: Vec<HazardEvent>,
}

impl HazardBatch {
    /// An empty batch with room for `hazards` hazards and four events each.
    pub fn with_capacity(hazards: usize) -> HazardBatch {
        HazardBatch {
            inspections: Vec::new(),
            hazards: Vec::with_capacity(hazards),
            events: Vec::with_capacity(hazards * 4),
        }
    }

    /// Writes every gathered row (inspections and hazards 400 to a
    /// statement, events 1000; hazards with their rendering) and empties
    /// the batch.
    pub fn flush(&mut self, conn: &mut DbConnection) -> Result<Written, AppError> {
        insert_chunked(conn, &self.inspections, 400, |c, part| {
            Ok(batch_insert!(c, inspections::table, part)?)
        })?;
        insert_chunked(conn, &self.hazards, 400, |c, part| {
            let rows: Vec<_> = part
                .iter()
                .map(|h| (h, hazards::wire.eq(rendered::render(h))))
                .collect();
            Ok(batch_insert!(c, hazards::table, rows)?)
        })?;
        insert_chunked(conn, &self.events, 1000, |c, part| {
            Ok(batch_insert!(c, hazard_events::table, part)?)
        })?;
        let written = Written {
            inspections: self.inspections.len(),
            hazards: self.hazards.len(),
            events: self.events.len(),
        };
        self.inspections.clear();
        self.hazards.clear();
        self.events.clear();
        Ok(written)
    }
}
