//! Each check task's settled months, counted once (`check_tallies`): the
//! figures of a long period read a row per task and month instead of
//! every record. A record moves its month's generation in its own
//! transaction ([`touch`]); counts worked out meanwhile are not kept
//! ([`keep`] stores only where the generation read still stands), so a
//! row never holds what a committed record contradicts.

use diesel::prelude::*;

use super::columns::Id;
use super::schema::check_tallies;
use super::DbConnection;
use crate::error::AppError;

/// A task's counts of one month, and what they were worked out on.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = check_tallies)]
pub struct TallyRow {
    pub task_id: Id,
    /// `2026-11`: the park-local month the occurrences start in.
    pub month: String,
    pub generation: i64,
    /// What the counts depend on besides records; `None`: not counted.
    pub basis: Option<String>,
    pub paused: i64,
    pub done_on_time: i64,
    pub done_late: i64,
    pub missed: i64,
}

/// Marks a task's month as changed by a record: call in the record's own
/// transaction.
pub fn touch(conn: &mut DbConnection, task: Id, month: &str) -> Result<(), AppError> {
    use check_tallies::dsl as t;
    let upsert = diesel::insert_into(check_tallies::table)
        .values((
            t::task_id.eq(task),
            t::month.eq(month),
            t::generation.eq(1_i64),
        ))
        .on_conflict((t::task_id, t::month))
        .do_update()
        .set((
            t::generation.eq(t::generation + 1_i64),
            t::basis.eq(None::<String>),
        ));
    match conn {
        DbConnection::Postgresql(c) => upsert.execute(c)?,
        DbConnection::Sqlite(c) => upsert.execute(c)?,
    };
    Ok(())
}

/// The rows of these tasks for these months.
pub fn of(
    conn: &mut DbConnection,
    tasks: &[Id],
    months: &[String],
) -> Result<Vec<TallyRow>, AppError> {
    if months.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = Vec::new();
    for chunk in tasks.chunks(500) {
        rows.extend(
            check_tallies::table
                .filter(check_tallies::task_id.eq_any(chunk))
                .filter(check_tallies::month.eq_any(months))
                .select(TallyRow::as_select())
                .load(conn)?,
        );
    }
    Ok(rows)
}

/// Keeps counts worked out: each row with the generation it was read at
/// (`None`: no row was there). A row whose generation moved meanwhile,
/// or that a record created meanwhile, is left as it is. One
/// transaction.
pub fn keep(conn: &mut DbConnection, rows: &[(TallyRow, Option<i64>)]) -> Result<(), AppError> {
    use check_tallies::dsl as t;
    if rows.is_empty() {
        return Ok(());
    }
    super::write_transaction(conn, |conn| {
        let new: Vec<&TallyRow> = rows
            .iter()
            .filter(|(_, read)| read.is_none())
            .map(|(row, _)| row)
            .collect();
        match conn {
            // One statement per hundred rows over the network.
            DbConnection::Postgresql(c) => {
                for chunk in new.chunks(100) {
                    let rows: Vec<TallyRow> = chunk.iter().map(|r| (*r).clone()).collect();
                    diesel::insert_into(check_tallies::table)
                        .values(rows)
                        .on_conflict_do_nothing()
                        .execute(c)?;
                }
            }
            // In process, a row at a time within the transaction.
            DbConnection::Sqlite(c) => {
                for row in new {
                    diesel::insert_into(check_tallies::table)
                        .values(row.clone())
                        .on_conflict_do_nothing()
                        .execute(c)?;
                }
            }
        }
        for (row, read) in rows {
            let Some(generation) = read else {
                continue;
            };
            diesel::update(
                check_tallies::table
                    .filter(t::task_id.eq(row.task_id))
                    .filter(t::month.eq(&row.month))
                    .filter(t::generation.eq(generation)),
            )
            .set((
                t::basis.eq(&row.basis),
                t::paused.eq(row.paused),
                t::done_on_time.eq(row.done_on_time),
                t::done_late.eq(row.done_late),
                t::missed.eq(row.missed),
            ))
            .execute(conn)?;
        }
        Ok(())
    })
}
