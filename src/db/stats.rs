//! Aggregate queries for dashboards and reports: the summary rows the
//! triggers keep (`hazard_counts`, `hazard_tallies`, `hazard_month_counts`,
//! see their migration) and their recomputation from the hazards, hazard
//! counts grouped in the database (never row by row in the service), the
//! cheap change marker that lets pollers get `304`, and the as-of
//! reconstruction from history.

use chrono::{NaiveDate, NaiveDateTime};

use diesel::dsl::{count_star, max};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use super::columns::Id;
use super::schema::{enterprise_assessments, enterprises, hazards, inspections};
use super::DbConnection;
use crate::domain::hazard::{CheckSource, HazardLevel, HazardState};
use crate::error::AppError;

/// Hazards sharing every attribute a figure is cut by. A list of groups
/// may hold one key more than once: figures add them up.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct HazardGroup {
    #[diesel(sql_type = Text)]
    pub enterprise_id: Id,
    #[diesel(sql_type = Text)]
    pub source: CheckSource,
    #[diesel(sql_type = Text)]
    pub level: HazardLevel,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub specialty: Option<String>,
    #[diesel(sql_type = Text)]
    pub state: HazardState,
    #[diesel(sql_type = Integer)]
    pub found_month: i32,
    /// 1 when closed and submitted by the end of the deadline day.
    #[diesel(sql_type = Integer)]
    pub on_time: i32,
    #[diesel(sql_type = BigInt)]
    pub hazards: i64,
}

/// Which hazards a grouping covers.
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    pub found_year: Option<i32>,
    /// Inclusive park-local months of `found_year`.
    pub months: Option<(i32, i32)>,
    pub enterprise_id: Option<Id>,
}

fn where_clause(filter: &GroupFilter, alias: &str) -> String {
    let mut conditions = vec!["1 = 1".to_owned()];
    if let Some(year) = filter.found_year {
        conditions.push(format!("{alias}.found_year = {year}"));
    }
    if let Some((first, last)) = filter.months {
        conditions.push(format!("{alias}.found_month BETWEEN {first} AND {last}"));
    }
    if let Some(id) = filter.enterprise_id {
        // An `Id` is a UUID's text: nothing in it needs quoting.
        conditions.push(format!("{alias}.enterprise_id = '{id}'"));
    }
    conditions.join(" AND ")
}

fn load_groups(conn: &mut DbConnection, sql: &str) -> Result<Vec<HazardGroup>, AppError> {
    Ok(match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(sql).load(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c)?,
    })
}

/// Hazards as they are now, grouped: read from the summary rows the
/// triggers keep (`hazard_counts`), never from the hazards themselves.
pub fn hazard_groups(
    conn: &mut DbConnection,
    filter: &GroupFilter,
) -> Result<Vec<HazardGroup>, AppError> {
    // Not grouped again in SQL (sorting the rows costs more than reading
    // them): a key may come twice, once per `late_closure`.
    let sql = format!(
        "SELECT c.enterprise_id, c.source, c.level, c.category, NULLIF(c.specialty, '') AS specialty, \
         c.state, c.found_month, c.on_time, c.n AS hazards \
         FROM hazard_counts c WHERE {} AND c.n <> 0",
        where_clause(filter, "c")
    );
    load_groups(conn, &sql)
}

/// A table of summary rows the triggers keep: its key columns, each with
/// the expression that computes it from a hazard (`h`) and its events.
struct Summary {
    table: &'static str,
    key: &'static [(&'static str, &'static str)],
}

const LATE_CLOSURE: &str =
    "CASE WHEN EXISTS (SELECT 1 FROM hazard_events e WHERE e.hazard_id = h.id \
     AND e.action = 'accept' AND e.entered_late) THEN 1 ELSE 0 END";

const SUMMARIES: [Summary; 3] = [
    Summary {
        table: "hazard_counts",
        key: &[
            ("found_year", "h.found_year"),
            ("enterprise_id", "h.enterprise_id"),
            ("source", "h.source"),
            ("level", "h.level"),
            ("category", "h.category"),
            ("specialty", "COALESCE(h.specialty, '')"),
            ("state", "h.state"),
            ("found_month", "h.found_month"),
            ("on_time", "CASE WHEN h.closed_on_time THEN 1 ELSE 0 END"),
            ("late_closure", LATE_CLOSURE),
        ],
    },
    Summary {
        table: "hazard_tallies",
        key: &[
            ("found_year", "h.found_year"),
            ("enterprise_id", "h.enterprise_id"),
            ("source", "h.source"),
            ("level", "h.level"),
            ("category", "h.category"),
            ("state", "h.state"),
            ("late_closure", LATE_CLOSURE),
        ],
    },
    Summary {
        table: "hazard_month_counts",
        key: &[
            ("found_year", "h.found_year"),
            ("found_month", "h.found_month"),
            ("enterprise_id", "h.enterprise_id"),
            ("state", "h.state"),
        ],
    },
];

/// One summary row, its key written out as text.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct SummaryRow {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// The rows of one summary table: as kept, and as computed from the hazards.
pub struct SummaryCheck {
    pub table: &'static str,
    pub kept: Vec<SummaryRow>,
    pub counted: Vec<SummaryRow>,
}

/// `a/b/c` of the given expressions, as text on both backends.
fn key_text<'a>(expressions: impl Iterator<Item = &'a str>) -> String {
    expressions
        .map(|e| format!("CAST({e} AS TEXT)"))
        .collect::<Vec<_>>()
        .join(" || '/' || ")
}

/// Every summary table's rows as the triggers keep them (empty ones left
/// out) beside the same rows computed from the hazards and their events.
pub fn summary_checks(conn: &mut DbConnection) -> Result<Vec<SummaryCheck>, AppError> {
    SUMMARIES
        .iter()
        .map(|summary| {
            let kept = format!(
                "SELECT {} AS key, n FROM {} WHERE n <> 0",
                key_text(summary.key.iter().map(|(column, _)| *column)),
                summary.table
            );
            let counted = format!(
                "SELECT {} AS key, COUNT(*) AS n FROM hazards h GROUP BY 1",
                key_text(summary.key.iter().map(|(_, expression)| *expression))
            );
            Ok(SummaryCheck {
                table: summary.table,
                kept: load_summary(conn, &kept)?,
                counted: load_summary(conn, &counted)?,
            })
        })
        .collect()
}

/// Rewrites each hazard's late-closure mark and every summary table from
/// the hazards and their events. Run inside a write transaction.
pub fn rebuild_summaries(conn: &mut DbConnection) -> Result<(), AppError> {
    let mut statements = vec![format!(
        "UPDATE hazards SET closure_entered_late = (id IN \
         (SELECT hazard_id FROM hazard_events WHERE action = 'accept' AND entered_late))"
    )];
    for summary in &SUMMARIES {
        let columns: Vec<&str> = summary.key.iter().map(|(c, _)| *c).collect();
        let expressions: Vec<&str> = summary.key.iter().map(|(_, e)| *e).collect();
        let positions: Vec<String> = (1..=columns.len()).map(|i| i.to_string()).collect();
        statements.push(format!("DELETE FROM {}", summary.table));
        statements.push(format!(
            "INSERT INTO {} ({}, n) SELECT {}, COUNT(*) FROM hazards h GROUP BY {}",
            summary.table,
            columns.join(", "),
            expressions.join(", "),
            positions.join(", ")
        ));
    }
    for sql in &statements {
        match conn {
            DbConnection::Postgresql(c) => diesel::sql_query(sql).execute(c)?,
            DbConnection::Sqlite(c) => diesel::sql_query(sql).execute(c)?,
        };
    }
    Ok(())
}

/// Rewrites the summary tables compactly after a bulk write (the demo
/// loader, a rebuild). On PostgreSQL a bulk write in one transaction
/// leaves a dead version of a summary row per statement that touched it —
/// a few thousand live rows in tens of megabytes — which every figure would
/// otherwise read past until autovacuum and ordinary churn reclaimed them.
/// Runs outside a transaction; SQLite updates rows in place and needs none.
pub fn compact_summaries(conn: &mut DbConnection) -> Result<(), AppError> {
    if let DbConnection::Postgresql(c) = conn {
        diesel::sql_query(
            "VACUUM (FULL, ANALYZE) hazard_counts, hazard_tallies, hazard_month_counts",
        )
        .execute(c)?;
    }
    Ok(())
}

fn load_summary(conn: &mut DbConnection, sql: &str) -> Result<Vec<SummaryRow>, AppError> {
    Ok(match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(sql).load(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c)?,
    })
}

/// Hazards sharing the attributes the dashboard's overview cuts by.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct TallyGroup {
    #[diesel(sql_type = Text)]
    pub enterprise_id: Id,
    #[diesel(sql_type = Text)]
    pub source: CheckSource,
    #[diesel(sql_type = Text)]
    pub level: HazardLevel,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = Text)]
    pub state: HazardState,
    /// Of them, those whose closure was entered after the fact.
    #[diesel(sql_type = BigInt)]
    pub late_closures: i64,
    #[diesel(sql_type = BigInt)]
    pub hazards: i64,
}

/// Hazards found in `found_year` (every year when `None`) of one
/// enterprise or all, grouped as the overview cuts them: read from the
/// summary rows (`hazard_tallies`), a few thousand at most.
pub fn tally_groups(
    conn: &mut DbConnection,
    found_year: Option<i32>,
    enterprise_id: Option<Id>,
) -> Result<Vec<TallyGroup>, AppError> {
    let filter = GroupFilter {
        found_year,
        months: None,
        enterprise_id,
    };
    let sql = format!(
        "SELECT c.enterprise_id, c.source, c.level, c.category, c.state, \
         CAST(SUM(c.n * c.late_closure) AS BIGINT) AS late_closures, CAST(SUM(c.n) AS BIGINT) AS hazards \
         FROM hazard_tallies c WHERE {} AND c.n <> 0 \
         GROUP BY c.enterprise_id, c.source, c.level, c.category, c.state",
        where_clause(&filter, "c")
    );
    Ok(match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(sql).load(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c)?,
    })
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Hazards covered by `filter`, not voided, whose closure (an `accept`
/// step, by `until` when given) was entered after the fact (补录): from the
/// summary rows for now, from the events for an earlier instant.
pub fn entered_late_closures(
    conn: &mut DbConnection,
    filter: &GroupFilter,
    until: Option<NaiveDateTime>,
) -> Result<i64, AppError> {
    let sql = match until {
        None => format!(
            "SELECT CAST(COALESCE(SUM(c.n), 0) AS BIGINT) AS n FROM hazard_counts c \
             WHERE {} AND c.state <> 'voided' AND c.late_closure = 1",
            where_clause(filter, "c")
        ),
        Some(at) => format!(
            "SELECT COUNT(DISTINCT h.id) AS n FROM hazards h JOIN hazard_events e ON e.hazard_id = h.id \
             WHERE {} AND h.state <> 'voided' AND e.action = 'accept' AND e.entered_late \
             AND e.occurred_at <= '{}'",
            where_clause(filter, "h"),
            at.format("%Y-%m-%d %H:%M:%S%.6f")
        ),
    };
    let row: Count = match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(sql).get_result(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(sql).get_result(c)?,
    };
    Ok(row.n)
}

/// Hazards as they stood at `instant` (UTC): only those reported by then,
/// each in the state its last event by then left it in.
pub fn hazard_groups_as_of(
    conn: &mut DbConnection,
    filter: &GroupFilter,
    instant: NaiveDateTime,
) -> Result<Vec<HazardGroup>, AppError> {
    let at = instant.format("%Y-%m-%d %H:%M:%S%.6f");
    let sql = format!(
        "SELECT h.enterprise_id, h.source, h.level, h.category, h.specialty, e.to_state AS state, h.found_month, \
         CASE WHEN e.to_state = 'closed' AND h.closed_on_time THEN 1 ELSE 0 END AS on_time, COUNT(*) AS hazards \
         FROM hazards h JOIN hazard_events e ON e.hazard_id = h.id \
         WHERE {} AND e.seq = (SELECT MAX(l.seq) FROM hazard_events l \
                               WHERE l.hazard_id = h.id AND l.occurred_at <= '{at}') \
         GROUP BY h.enterprise_id, h.source, h.level, h.category, h.specialty, e.to_state, h.found_month, \
         CASE WHEN e.to_state = 'closed' AND h.closed_on_time THEN 1 ELSE 0 END",
        where_clause(filter, "h")
    );
    load_groups(conn, &sql)
}

/// Open hazards past their deadline day sharing enterprise, level, source
/// and category.
#[derive(Debug, Clone, Queryable)]
pub struct OverdueGroup {
    pub enterprise_id: Id,
    pub level: HazardLevel,
    pub source: CheckSource,
    pub category: String,
    pub hazards: i64,
}

/// Open hazards past their deadline day, per enterprise, level, source and
/// category.
pub fn overdue_groups(
    conn: &mut DbConnection,
    today: NaiveDate,
    filter: &GroupFilter,
) -> Result<Vec<OverdueGroup>, AppError> {
    let mut query = hazards::table
        .filter(hazards::state.eq_any(HazardState::counting_toward_overdue()))
        .filter(hazards::deadline.lt(today))
        .group_by((
            hazards::enterprise_id,
            hazards::level,
            hazards::source,
            hazards::category,
        ))
        .select((
            hazards::enterprise_id,
            hazards::level,
            hazards::source,
            hazards::category,
            count_star(),
        ))
        .into_boxed();
    if let Some(year) = filter.found_year {
        query = query.filter(hazards::found_year.eq(year));
    }
    if let Some(id) = &filter.enterprise_id {
        query = query.filter(hazards::enterprise_id.eq(id));
    }
    Ok(query.load(conn)?)
}

/// Inspections per source with `inspected_on` in `[from, to]`.
pub fn inspections_by_source(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
    enterprise_id: Option<Id>,
) -> Result<Vec<(String, i64)>, AppError> {
    let mut query = inspections::table
        .filter(inspections::inspected_on.ge(from))
        .filter(inspections::inspected_on.le(to))
        .group_by(inspections::source)
        .select((inspections::source, count_star()))
        .into_boxed();
    if let Some(id) = enterprise_id {
        query = query.filter(inspections::enterprise_id.eq(id));
    }
    Ok(query.load(conn)?)
}

pub fn enterprise_names(conn: &mut DbConnection) -> Result<Vec<(Id, String)>, AppError> {
    Ok(enterprises::table
        .select((enterprises::id, enterprises::name))
        .order(enterprises::name.asc())
        .load(conn)?)
}

/// Changes whenever a figure could: the latest change to a hazard, an
/// enterprise or an assessment. Three index lookups, no counting.
pub fn change_marker(conn: &mut DbConnection) -> Result<String, AppError> {
    let hazard: Option<NaiveDateTime> = hazards::table
        .select(max(hazards::updated_at))
        .first(conn)?;
    let enterprise: Option<NaiveDateTime> = enterprises::table
        .select(max(enterprises::updated_at))
        .first(conn)?;
    let assessment: Option<NaiveDateTime> = enterprise_assessments::table
        .select(max(enterprise_assessments::recorded_at))
        .first(conn)?;
    let show = |t: Option<NaiveDateTime>| t.map(|t| t.and_utc().timestamp_micros()).unwrap_or(0);
    Ok(format!(
        "{}-{}-{}",
        show(hazard),
        show(enterprise),
        show(assessment)
    ))
}

#[derive(QueryableByName)]
struct MonthCount {
    #[diesel(sql_type = Integer)]
    found_month: i32,
    #[diesel(sql_type = BigInt)]
    hazards: i64,
}

/// Hazards found in each park-local month of `filter.found_year` (voided
/// ones excluded): (month 1–12, count), months without any left out.
pub fn found_per_month(
    conn: &mut DbConnection,
    filter: &GroupFilter,
) -> Result<Vec<(i32, i64)>, AppError> {
    let sql = format!(
        "SELECT c.found_month, CAST(SUM(c.n) AS BIGINT) AS hazards FROM hazard_month_counts c \
         WHERE {} AND c.state <> 'voided' GROUP BY c.found_month",
        where_clause(filter, "c")
    );
    let rows: Vec<MonthCount> = match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(sql).load(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c)?,
    };
    Ok(rows
        .into_iter()
        .map(|r| (r.found_month, r.hazards))
        .collect())
}

/// What a wall screen shows of a major hazard.
#[derive(Debug, Clone, Queryable)]
pub struct MajorBrief {
    pub number: String,
    pub enterprise_id: Id,
    pub found_at: NaiveDateTime,
    pub state: HazardState,
    pub category: String,
}

/// The newest major hazards `filter` covers (voided ones excluded).
pub fn newest_major(
    conn: &mut DbConnection,
    filter: &GroupFilter,
    limit: i64,
) -> Result<Vec<MajorBrief>, AppError> {
    let mut query = hazards::table
        .filter(hazards::level.eq(HazardLevel::Major))
        .filter(hazards::state.ne(HazardState::Voided))
        .select((
            hazards::number,
            hazards::enterprise_id,
            hazards::found_at,
            hazards::state,
            hazards::category,
        ))
        .order((hazards::found_at.desc(), hazards::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(year) = filter.found_year {
        query = query.filter(hazards::found_year.eq(year));
    }
    if let Some(id) = filter.enterprise_id {
        query = query.filter(hazards::enterprise_id.eq(id));
    }
    Ok(query.load(conn)?)
}
