//! The analytics' fact table, shared by every request of this instance:
//! read whole the first time an analysis asks (or when the server starts),
//! then brought up to date from the change feed before each analysis, so
//! an analysis right after a change reads only what changed.

use std::sync::{PoisonError, RwLock};

use crate::app::analytics::FactTable;
use crate::db::DbConnection;
use crate::domain::park::Park;
use crate::error::AppError;

#[derive(Debug, Default)]
pub struct FactStore {
    table: RwLock<Option<FactTable>>,
}

impl FactStore {
    /// Brings the table up to date and runs `f` on it; analyses run side
    /// by side, a catch-up waits for them.
    pub fn with<T>(
        &self,
        conn: &mut DbConnection,
        park: &Park,
        f: impl FnOnce(&mut DbConnection, &FactTable) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        {
            let mut table = self.table.write().unwrap_or_else(|poisoned| {
                // A catch-up that panicked may have left the table half done.
                let mut table = poisoned.into_inner();
                *table = None;
                table
            });
            self.table.clear_poison();
            match table.as_mut() {
                Some(table) => table.catch_up(conn, park)?,
                None => *table = Some(FactTable::load(conn, park)?),
            }
        }
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        match table.as_ref() {
            Some(table) => f(conn, table),
            None => Err(AppError::Unavailable),
        }
    }
}
