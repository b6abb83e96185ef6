//! Hazards, their append-only event history, extension requests, and the
//! per-year counter behind the human-readable numbers; each row carries its
//! rendering (`rendered`), written here with every insert and update.

pub mod rendered;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use self::rendered::RenderedRow;
use super::columns::{Id, Parsed};
use super::schema::{hazard_events, hazard_extensions, hazards};
use super::{on_backend, DbConnection};
use crate::domain::access::Role;
use crate::domain::hazard::{CheckSource, ExtensionState, HazardLevel, HazardState};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable, AsChangeset)]
#[diesel(table_name = hazards, treat_none_as_null = true)]
pub struct Hazard {
    pub id: Id,
    pub number: String,
    pub found_year: i32,
    pub enterprise_id: Id,
    pub source: CheckSource,
    pub checking_enterprise_id: Option<Id>,
    pub inspection_id: Option<Id>,
    pub title: String,
    pub description: String,
    pub location: String,
    pub category: String,
    pub specialty: Option<String>,
    pub level: HazardLevel,
    pub major_basis_code: Option<i32>,
    pub listing_ordering_body: Option<String>,
    #[diesel(deserialize_as = Parsed<Option<NaiveDate>>)]
    pub listing_listed_on: Option<NaiveDate>,
    #[diesel(deserialize_as = Parsed<NaiveDateTime>)]
    pub found_at: NaiveDateTime,
    pub found_by: Id,
    #[diesel(deserialize_as = Parsed<NaiveDate>)]
    pub deadline: NaiveDate,
    pub state: HazardState,
    pub version: i64,
    pub plan_measures: Option<String>,
    pub plan_responsible_person: Option<String>,
    pub plan_funds_fen: Option<i64>,
    pub plan_contingency: Option<String>,
    #[diesel(deserialize_as = Parsed<Option<NaiveDateTime>>)]
    pub planned_at: Option<NaiveDateTime>,
    pub planned_by: Option<Id>,
    #[diesel(deserialize_as = Parsed<Option<NaiveDateTime>>)]
    pub submitted_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = Parsed<Option<NaiveDateTime>>)]
    pub closed_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = Parsed<Option<NaiveDateTime>>)]
    pub voided_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = Parsed<NaiveDateTime>)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Parsed<NaiveDateTime>)]
    pub updated_at: NaiveDateTime,
    /// Evidence files attached, by phase; kept with the rows they count.
    pub evidence_before: i32,
    pub evidence_after: i32,
    /// The park-local month `found_at` falls in.
    pub found_month: i32,
    /// Set at acceptance: submitted by the end of the deadline day.
    pub closed_on_time: Option<bool>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = hazard_events)]
pub struct HazardEvent {
    pub id: Id,
    pub hazard_id: Id,
    pub seq: i32,
    pub action: String,
    pub actor_id: Id,
    pub actor_role: Role,
    pub from_state: Option<HazardState>,
    pub to_state: HazardState,
    pub occurred_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub note: Option<String>,
    /// JSON object with what the action carried (plan, deadlines, …).
    pub details: String,
    /// Dated more than the park's tolerance before it was recorded (补录).
    pub entered_late: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = hazard_extensions, treat_none_as_null = true)]
pub struct Extension {
    pub id: Id,
    pub hazard_id: Id,
    pub requested_deadline: NaiveDate,
    pub previous_deadline: NaiveDate,
    pub reason: String,
    pub state: ExtensionState,
    pub requested_by: Id,
    pub requested_at: NaiveDateTime,
    pub decided_by: Option<Id>,
    pub decided_at: Option<NaiveDateTime>,
    pub granted_deadline: Option<NaiveDate>,
    pub decision_note: Option<String>,
}

#[derive(QueryableByName)]
struct NextSeq {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    last_seq: i32,
}

/// Takes the next sequence number of `year`. The upsert holds the counter
/// row's lock until the surrounding transaction ends, so concurrent
/// creations get distinct, increasing numbers on both backends.
pub fn next_number_in_year(conn: &mut DbConnection, year: i32) -> Result<i32, AppError> {
    reserve_numbers_in_year(conn, year, 1)
}

/// Takes the next `count` numbers of `year` at once; returns the last.
pub fn reserve_numbers_in_year(
    conn: &mut DbConnection,
    year: i32,
    count: i32,
) -> Result<i32, AppError> {
    const UPSERT: &str =
        "INSERT INTO hazard_number_counters (year, last_seq) VALUES ({year}, {count}) \
         ON CONFLICT (year) DO UPDATE SET last_seq = hazard_number_counters.last_seq + {count} \
         RETURNING last_seq";
    let (pg_sql, sqlite_sql) = (
        UPSERT.replace("{year}", "$1").replace("{count}", "$2"),
        UPSERT.replace("{year}", "?1").replace("{count}", "?2"),
    );
    let row: NextSeq = match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(pg_sql)
            .bind::<diesel::sql_types::Integer, _>(year)
            .bind::<diesel::sql_types::Integer, _>(count)
            .get_result(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(sqlite_sql)
            .bind::<diesel::sql_types::Integer, _>(year)
            .bind::<diesel::sql_types::Integer, _>(count)
            .get_result(c)?,
    };
    Ok(row.last_seq)
}

/// Inserts `hazard` with its rendering.
pub fn insert(conn: &mut DbConnection, hazard: &Hazard) -> Result<(), AppError> {
    diesel::insert_into(hazards::table)
        .values((hazard, hazards::wire.eq(rendered::render(hazard))))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: Id) -> Result<Option<Hazard>, AppError> {
    Ok(on_backend!(conn, |conn| hazards::table
        .find(id)
        .select(Hazard::as_select())
        .first(conn)
        .optional())?)
}

/// Takes the hazard's row lock for the rest of the transaction, so changes
/// that must not fail on a concurrent one (evidence uploads from several
/// phones at once) queue instead of answering `409`. On SQLite the
/// immediate transaction holds the lock already. False: no such hazard.
pub fn lock(conn: &mut DbConnection, id: Id) -> Result<bool, AppError> {
    let locked = diesel::update(hazards::table.filter(hazards::id.eq(id)))
        .set(hazards::version.eq(hazards::version))
        .execute(conn)?;
    Ok(locked == 1)
}

/// Writes `hazard` back, with its rendering, if nobody changed it since
/// `expected_version`.
pub fn update(
    conn: &mut DbConnection,
    hazard: &Hazard,
    expected_version: i64,
) -> Result<bool, AppError> {
    let updated = diesel::update(
        hazards::table
            .filter(hazards::id.eq(&hazard.id))
            .filter(hazards::version.eq(expected_version)),
    )
    .set((hazard, hazards::wire.eq(rendered::render(hazard))))
    .execute(conn)?;
    Ok(updated == 1)
}

#[derive(Debug, Default, Clone)]
pub struct HazardFilter {
    /// Confines the list to one enterprise (an enterprise contact's own).
    pub only_enterprise: Option<Id>,
    pub enterprise_id: Option<Id>,
    pub state: Option<HazardState>,
    pub level: Option<HazardLevel>,
    pub source: Option<CheckSource>,
    pub category: Option<String>,
    pub specialty: Option<String>,
    pub inspection_id: Option<Id>,
    pub found_year: Option<i32>,
    /// `(true, today)`: only hazards overdue on the park-local date `today`
    /// (not yet submitted and the deadline day has ended); `(false, today)`:
    /// only those that are not.
    pub overdue: Option<(bool, NaiveDate)>,
    /// Only hazards with (`true`) or without (`false`) an extension request
    /// awaiting a decision.
    pub pending_extension: Option<bool>,
    /// Only hazards sent back at acceptance (驳回) and not submitted again
    /// (`true`), or all others (`false`).
    pub rejected: Option<bool>,
    /// Lower-cased LIKE pattern over number, title, description, location.
    pub text: Option<String>,
}

/// [`sent_back`](crate::domain::hazard::sent_back) in SQL both backends
/// read: in its state, with a sending back no clearing step came after.
fn sent_back_sql() -> &'static str {
    use crate::domain::hazard::sent_back::{CLEARED_BY, SENT_BY, STATE};
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "(hazards.state = '{state}' AND hazards.id IN (\
             SELECT r.hazard_id FROM hazard_events r WHERE r.action = '{sent}' AND NOT EXISTS (\
             SELECT 1 FROM hazard_events o WHERE o.hazard_id = r.hazard_id \
             AND o.action = '{cleared}' AND o.seq > r.seq)))",
            state = STATE.as_str(),
            sent = SENT_BY.event_name(),
            cleared = CLEARED_BY.event_name(),
        )
    })
}

impl HazardFilter {
    /// Whether an index bounds a page under this filter whatever the data:
    /// no condition but the enterprise (`(enterprise_id, id)`) or the year
    /// (`(found_year, id)`), so a page of n reads about n rows. Any other
    /// condition may scan far for a rare value, and text every row.
    pub fn index_bounded(&self) -> bool {
        let HazardFilter {
            only_enterprise,
            enterprise_id,
            state: None,
            level: None,
            source: None,
            category: None,
            specialty: None,
            inspection_id: None,
            found_year,
            overdue: None,
            pending_extension: None,
            rejected: None,
            text: None,
        } = self
        else {
            return false;
        };
        found_year.is_none() || (only_enterprise.is_none() && enterprise_id.is_none())
    }
}

/// Hazards not yet closed or voided, and those of them overdue on the
/// park-local date `today`: two counts on the `(state, deadline)` index.
pub fn count_open_and_overdue(
    conn: &mut DbConnection,
    today: NaiveDate,
) -> Result<(i64, i64), AppError> {
    let open = hazards::table
        .filter(hazards::state.eq_any(HazardState::open()))
        .count()
        .get_result(conn)?;
    let overdue = hazards::table
        .filter(hazards::state.eq_any(HazardState::counting_toward_overdue()))
        .filter(hazards::deadline.lt(today))
        .count()
        .get_result(conn)?;
    Ok((open, overdue))
}

/// A page of hazards under `filter`, newest first (ids are time-ordered,
/// UUIDv7, so the cursor is the last id), as `selection`.
macro_rules! filtered_page {
    ($conn:expr, $filter:expr, $before:expr, $limit:expr, $selection:expr) => {{
        use super::sql::{lower, LiteralLimit};
        on_backend!($conn, |conn| {
            let mut query = hazards::table
                .select($selection)
                .order(hazards::id.desc())
                .into_boxed();
            if let Some(v) = &$filter.only_enterprise {
                query = query.filter(hazards::enterprise_id.eq(v));
            }
            if let Some(v) = &$filter.enterprise_id {
                query = query.filter(hazards::enterprise_id.eq(v));
            }
            if let Some(v) = $filter.state {
                query = query.filter(hazards::state.eq(v));
            }
            if let Some(v) = $filter.level {
                query = query.filter(hazards::level.eq(v));
            }
            if let Some(v) = $filter.source {
                query = query.filter(hazards::source.eq(v));
            }
            if let Some(v) = &$filter.category {
                query = query.filter(hazards::category.eq(v.clone()));
            }
            if let Some(v) = &$filter.specialty {
                query = query.filter(hazards::specialty.eq(v.clone()));
            }
            if let Some(v) = &$filter.inspection_id {
                query = query.filter(hazards::inspection_id.eq(v));
            }
            if let Some(v) = $filter.found_year {
                query = query.filter(hazards::found_year.eq(v));
            }
            match $filter.overdue {
                Some((true, today)) => {
                    query = query
                        .filter(hazards::state.eq_any(HazardState::counting_toward_overdue()))
                        .filter(hazards::deadline.lt(today));
                }
                Some((false, today)) => {
                    query = query.filter(
                        hazards::state
                            .ne_all(HazardState::counting_toward_overdue())
                            .or(hazards::deadline.ge(today)),
                    );
                }
                None => {}
            }
            if let Some(pending) = $filter.pending_extension {
                let awaiting = hazard_extensions::table
                    .filter(hazard_extensions::state.eq(ExtensionState::Pending))
                    .select(hazard_extensions::hazard_id);
                query = if pending {
                    query.filter(hazards::id.eq_any(awaiting))
                } else {
                    query.filter(hazards::id.ne_all(awaiting))
                };
            }
            if let Some(rejected) = $filter.rejected {
                let sent_back = diesel::dsl::sql::<diesel::sql_types::Bool>(sent_back_sql());
                query = if rejected {
                    query.filter(sent_back)
                } else {
                    query.filter(diesel::dsl::not(sent_back))
                };
            }
            if let Some(pattern) = &$filter.text {
                query = query.filter(
                    lower(hazards::title)
                        .like(pattern.clone())
                        .escape('\\')
                        .or(lower(hazards::description)
                            .like(pattern.clone())
                            .escape('\\'))
                        .or(lower(hazards::location).like(pattern.clone()).escape('\\'))
                        .or(lower(hazards::number).like(pattern.clone()).escape('\\')),
                );
            }
            if let Some(before) = $before {
                query = query.filter(hazards::id.lt(before));
            }
            if $filter.index_bounded() {
                // One plan serves every such page (see `LiteralLimit`).
                LiteralLimit::new(query, $limit).load(conn)
            } else {
                query.limit($limit).load(conn)
            }
        })
    }};
}

pub fn list(
    conn: &mut DbConnection,
    filter: &HazardFilter,
    before: Option<Id>,
    limit: i64,
) -> Result<Vec<Hazard>, AppError> {
    Ok(filtered_page!(
        conn,
        filter,
        before,
        limit,
        Hazard::as_select()
    )?)
}

/// [`list`] as rendered rows (`db::hazards::rendered`).
pub fn list_rendered(
    conn: &mut DbConnection,
    filter: &HazardFilter,
    before: Option<Id>,
    limit: i64,
) -> Result<Vec<RenderedRow>, AppError> {
    Ok(filtered_page!(
        conn,
        filter,
        before,
        limit,
        RenderedRow::as_select()
    )?)
}

/// Events that attach or remove an evidence file: they record a file, not
/// a step of the lifecycle.
pub const EVIDENCE_ACTIONS: [&str; 2] = ["evidence_added", "evidence_removed"];

/// The sequence number of the hazard's latest event, and the time of its
/// latest lifecycle step, which a new event may not precede. Evidence events
/// are left out of the latter: a clerk entering a paper ledger may attach
/// its scans today and then enter the steps with their earlier dates.
pub fn last_event(
    conn: &mut DbConnection,
    hazard_id: Id,
) -> Result<Option<(i32, NaiveDateTime)>, AppError> {
    let last_seq: Option<i32> = hazard_events::table
        .filter(hazard_events::hazard_id.eq(hazard_id))
        .order(hazard_events::seq.desc())
        .select(hazard_events::seq)
        .first(conn)
        .optional()?;
    let Some(last_seq) = last_seq else {
        return Ok(None);
    };
    let last_step: Option<NaiveDateTime> = hazard_events::table
        .filter(hazard_events::hazard_id.eq(hazard_id))
        .filter(hazard_events::action.ne_all(EVIDENCE_ACTIONS))
        .order(hazard_events::seq.desc())
        .select(hazard_events::occurred_at)
        .first(conn)
        .optional()?;
    Ok(last_step.map(|occurred_at| (last_seq, occurred_at)))
}

pub fn append_event(conn: &mut DbConnection, event: &HazardEvent) -> Result<(), AppError> {
    diesel::insert_into(hazard_events::table)
        .values(event)
        .execute(conn)?;
    Ok(())
}

pub fn events(
    conn: &mut DbConnection,
    hazard_id: Id,
    after_seq: Option<i32>,
    limit: i64,
) -> Result<Vec<HazardEvent>, AppError> {
    let mut query = hazard_events::table
        .filter(hazard_events::hazard_id.eq(hazard_id))
        .select(HazardEvent::as_select())
        .order(hazard_events::seq.asc())
        .into_boxed();
    if let Some(after) = after_seq {
        query = query.filter(hazard_events::seq.gt(after));
    }
    Ok(query.limit(limit).load(conn)?)
}

pub fn insert_extension(conn: &mut DbConnection, extension: &Extension) -> Result<(), AppError> {
    diesel::insert_into(hazard_extensions::table)
        .values(extension)
        .execute(conn)?;
    Ok(())
}

pub fn update_extension(conn: &mut DbConnection, extension: &Extension) -> Result<(), AppError> {
    diesel::update(hazard_extensions::table.filter(hazard_extensions::id.eq(&extension.id)))
        .set(extension)
        .execute(conn)?;
    Ok(())
}

pub fn extensions(conn: &mut DbConnection, hazard_id: Id) -> Result<Vec<Extension>, AppError> {
    Ok(hazard_extensions::table
        .filter(hazard_extensions::hazard_id.eq(hazard_id))
        .select(Extension::as_select())
        .order((
            hazard_extensions::requested_at.asc(),
            hazard_extensions::id.asc(),
        ))
        .load(conn)?)
}

pub fn pending_extension(
    conn: &mut DbConnection,
    hazard_id: Id,
) -> Result<Option<Extension>, AppError> {
    Ok(hazard_extensions::table
        .filter(hazard_extensions::hazard_id.eq(hazard_id))
        .filter(hazard_extensions::state.eq(ExtensionState::Pending))
        .select(Extension::as_select())
        .first(conn)
        .optional()?)
}

/// Which deadlines an escalation rule is due for on a park-local day.
#[derive(Debug, Clone, Copy)]
pub enum DeadlineWindow {
    /// Deadlines on these days, inclusive (reminders before the deadline).
    Between(NaiveDate, NaiveDate),
    /// Deadlines before this day (overdue by the rule's days).
    Before(NaiveDate),
}

/// Hazards still to be acted on by the enterprise whose deadline falls in
/// `window` and that have no outbox message of `rule` for that deadline
/// yet; earliest deadline first, at most `limit`.
pub fn awaiting_rule(
    conn: &mut DbConnection,
    rule: &str,
    window: DeadlineWindow,
    limit: i64,
) -> Result<Vec<Hazard>, AppError> {
    use super::schema::outbox;
    use diesel::dsl::{exists, not};
    let mut query = hazards::table
        .filter(hazards::state.eq_any(HazardState::counting_toward_overdue()))
        .filter(not(exists(
            outbox::table
                .filter(outbox::hazard_id.eq(hazards::id.nullable()))
                .filter(outbox::rule.eq(rule))
                .filter(outbox::deadline.eq(hazards::deadline.nullable())),
        )))
        .select(Hazard::as_select())
        .order(hazards::deadline.asc())
        .limit(limit)
        .into_boxed();
    query = match window {
        DeadlineWindow::Between(from, to) => query
            .filter(hazards::deadline.ge(from))
            .filter(hazards::deadline.le(to)),
        DeadlineWindow::Before(day) => query.filter(hazards::deadline.lt(day)),
    };
    Ok(query.load(conn)?)
}

/// The hazard's latest event of `action`.
pub fn last_event_of(
    conn: &mut DbConnection,
    hazard_id: Id,
    action: &str,
) -> Result<Option<HazardEvent>, AppError> {
    Ok(hazard_events::table
        .filter(hazard_events::hazard_id.eq(hazard_id))
        .filter(hazard_events::action.eq(action))
        .order(hazard_events::seq.desc())
        .select(HazardEvent::as_select())
        .first(conn)
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_enterprise_or_year_pages_are_index_bounded() {
        let enterprise = Id::from(uuid::Uuid::nil());
        let bounded = |filter: HazardFilter| filter.index_bounded();
        assert!(bounded(HazardFilter::default()));
        assert!(bounded(HazardFilter {
            only_enterprise: Some(enterprise),
            enterprise_id: Some(enterprise),
            ..HazardFilter::default()
        }));
        assert!(bounded(HazardFilter {
            found_year: Some(2024),
            ..HazardFilter::default()
        }));
        assert!(!bounded(HazardFilter {
            enterprise_id: Some(enterprise),
            found_year: Some(2024),
            ..HazardFilter::default()
        }));
        assert!(!bounded(HazardFilter {
            state: Some(HazardState::Reported),
            ..HazardFilter::default()
        }));
        assert!(!bounded(HazardFilter {
            text: Some("%leak%".into()),
            ..HazardFilter::default()
        }));
        assert!(!bounded(HazardFilter {
            pending_extension: Some(false),
            ..HazardFilter::default()
        }));
    }
}
