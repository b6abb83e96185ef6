//! The change feed: every hazard event, enterprise event and assessment,
//! every change of the risk register and every check record,
//! numbered in commit order by the database's own triggers (see the
//! `changes` migration of each backend), so a consumer that keeps the last
//! number it saw misses nothing and sees nothing twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::columns::Id;
use super::schema::changes;
use super::DbConnection;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = changes)]
pub struct Change {
    pub seq: i64,
    /// `hazard_event`, `enterprise_event`, `assessment`, `register` or
    /// `check_record`.
    pub kind: String,
    pub ref_id: Id,
    pub enterprise_id: Id,
    pub hazard_id: Option<Id>,
    pub action: String,
    pub recorded_at: NaiveDateTime,
}

/// Up to `limit` changes of `kinds` after `after`, oldest first; of one
/// enterprise when given.
pub fn after(
    conn: &mut DbConnection,
    after: i64,
    (enterprise_id, kinds): (Option<Id>, &[&str]),
    limit: i64,
) -> Result<Vec<Change>, AppError> {
    let mut query = changes::table
        .filter(changes::seq.gt(after))
        .filter(changes::kind.eq_any(kinds))
        .select(Change::as_select())
        .order(changes::seq.asc())
        .limit(limit)
        .into_boxed();
    if let Some(enterprise_id) = enterprise_id {
        query = query.filter(changes::enterprise_id.eq(enterprise_id));
    }
    Ok(query.load(conn)?)
}
