//! What the analytics' fact table is read from: one row of facts per
//! hazard (no texts but the location), read in pages by id or for the
//! hazards named in the change feed since a number, which of them carry an
//! entered record, and the summary rows' totals per state that the table
//! checks itself against.

use std::collections::HashSet;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::max;
use diesel::prelude::*;

use super::columns::Id;
use super::schema::{changes, hazard_events, hazards};
use super::DbConnection;
use crate::domain::hazard::{CheckSource, HazardLevel, HazardState};
use crate::error::AppError;

/// How many ids go into one `IN (…)` list.
const CHUNK: usize = 500;

/// The facts of one hazard that the analyses cut by.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = hazards)]
pub struct HazardFact {
    pub id: Id,
    pub enterprise_id: Id,
    pub source: CheckSource,
    pub level: HazardLevel,
    pub category: String,
    pub specialty: Option<String>,
    pub location: String,
    pub found_at: NaiveDateTime,
    pub deadline: NaiveDate,
    pub state: HazardState,
    pub closed_at: Option<NaiveDateTime>,
    pub closed_on_time: Option<bool>,
}

/// Up to `limit` hazards' facts in id order, after `after` when given.
pub fn hazard_facts_page(
    conn: &mut DbConnection,
    after: Option<Id>,
    limit: i64,
) -> Result<Vec<HazardFact>, AppError> {
    let mut query = hazards::table
        .select(HazardFact::as_select())
        .order(hazards::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(hazards::id.gt(after));
    }
    Ok(query.load(conn)?)
}

/// The facts of the hazards among `ids` that exist.
pub fn hazard_facts_of(conn: &mut DbConnection, ids: &[Id]) -> Result<Vec<HazardFact>, AppError> {
    let mut facts = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        facts.extend(
            hazards::table
                .select(HazardFact::as_select())
                .filter(hazards::id.eq_any(chunk))
                .load(conn)?,
        );
    }
    Ok(facts)
}

/// Hazards with at least one step entered after the fact (补录): all of
/// them, or those among `ids`.
pub fn hazards_with_entered_records(
    conn: &mut DbConnection,
    ids: Option<&[Id]>,
) -> Result<HashSet<Id>, AppError> {
    let query = || {
        hazard_events::table
            .filter(hazard_events::entered_late.eq(true))
            .select(hazard_events::hazard_id)
            .distinct()
    };
    let Some(ids) = ids else {
        return Ok(query().load::<Id>(conn)?.into_iter().collect());
    };
    let mut found = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        found.extend(
            query()
                .filter(hazard_events::hazard_id.eq_any(chunk))
                .load::<Id>(conn)?,
        );
    }
    Ok(found)
}

/// The number of the newest change in the feed (0 before any).
pub fn last_change(conn: &mut DbConnection) -> Result<i64, AppError> {
    let last: Option<i64> = changes::table.select(max(changes::seq)).first(conn)?;
    Ok(last.unwrap_or(0))
}

/// The hazards named in the changes after change number `after`, when
/// there are at most `limit` changes (`None` when there are more). Read in
/// change order with a limit, so the database walks the newest entries of
/// its key, whatever it guesses of the table's size.
pub fn hazards_changed_since(
    conn: &mut DbConnection,
    after: i64,
    limit: i64,
) -> Result<Option<Vec<Id>>, AppError> {
    let named: Vec<Option<Id>> = changes::table
        .filter(changes::seq.gt(after))
        .order(changes::seq.asc())
        .select(changes::hazard_id)
        .limit(limit + 1)
        .load(conn)?;
    if named.len() as i64 > limit {
        return Ok(None);
    }
    let mut ids: Vec<Id> = named.into_iter().flatten().collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(Some(ids))
}

/// Hazards per state, from the summary rows the triggers keep; states with
/// none are left out.
pub fn hazards_per_state(conn: &mut DbConnection) -> Result<Vec<(HazardState, i64)>, AppError> {
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back in SQL.
    let sql = "SELECT state, CAST(SUM(n) AS BIGINT) AS n FROM hazard_tallies GROUP BY state";
    let rows: Vec<StateCount> = match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(sql).load(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c)?,
    };
    Ok(rows
        .into_iter()
        .filter(|r| r.n != 0)
        .map(|r| (r.state, r.n))
        .collect())
}

#[derive(QueryableByName)]
struct StateCount {
    #[diesel(sql_type = diesel::sql_types::Text)]
    state: HazardState,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}
