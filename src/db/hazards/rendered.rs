//! Each hazard row carries its rendering (`hazards.wire`): the JSON of every
//! field the API shows that depends on the row alone — all of a hazard but
//! `overdue`, which depends on the day, and `allowed_actions`, on who asks.
//! It is written with the row by every insert and update (`hazards::insert`,
//! `hazards::update`, `bulk::HazardBatch`), so a page of hazards is read as
//! a few columns and fifty texts instead of fifty rows of thirty-six
//! columns, each parsed and serialized again on every request.
//!
//! [`HazardRecord`] is the one definition of those fields: the API's
//! `HazardView` is it with the two others beside it, and this module writes
//! it into the row. Rows from before the column (or written by hand) have
//! none: [`fill_missing`] renders them when the service starts, and until
//! then they are read whole. `stats verify` renders every row afresh and
//! compares ([`differing`]).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::Hazard;
use crate::clock;
use crate::db::columns::{Id, LongText, Parsed};
use crate::db::schema::hazards;
use crate::db::{on_backend, wire_time, DbConnection};
use crate::domain::hazard::new::SupervisedListing;
use crate::domain::hazard::{CheckSource, HazardLevel, HazardState};
use crate::error::AppError;

/// The 五到位 rectification plan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    /// 措施
    pub measures: Option<String>,
    /// 责任人
    pub responsible_person: Option<String>,
    /// 资金, in yuan.
    pub funds: Option<f64>,
    /// 时限: the hazard's deadline.
    #[serde(serialize_with = "wire_time::day")]
    pub deadline: NaiveDate,
    /// 预案
    pub contingency_plan: Option<String>,
    #[serde(serialize_with = "wire_time::utc_opt")]
    pub planned_at: Option<DateTime<Utc>>,
    pub planned_by: Option<Uuid>,
}

/// Evidence files attached to a hazard, by phase.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct EvidenceCounts {
    /// The hazard as found.
    pub before: i32,
    /// The rectification done.
    pub after: i32,
}

/// A hazard as the API shows it, but for what depends on the day and on who
/// asks.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HazardRecord {
    pub id: Uuid,
    /// `YH-<year>-<6 digits>`, unique and increasing within a year.
    pub number: String,
    pub enterprise_id: Uuid,
    pub source: CheckSource,
    pub checking_enterprise_id: Option<Uuid>,
    pub inspection_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub location: String,
    pub category: String,
    pub specialty: Option<String>,
    pub level: HazardLevel,
    /// Item 1–20 of the national criteria, for major hazards.
    pub major_basis_code: Option<i32>,
    pub supervised_listing: Option<SupervisedListing>,
    #[serde(serialize_with = "wire_time::utc")]
    pub found_at: DateTime<Utc>,
    pub found_by: Uuid,
    /// The last day for rectification, in park time.
    #[serde(serialize_with = "wire_time::day")]
    pub deadline: NaiveDate,
    pub state: HazardState,
    /// Changes with every change; also the `ETag`.
    pub version: i64,
    pub plan: Option<PlanView>,
    #[serde(serialize_with = "wire_time::utc_opt")]
    pub submitted_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "wire_time::utc_opt")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "wire_time::utc_opt")]
    pub voided_at: Option<DateTime<Utc>>,
    /// How many evidence files are attached, by phase.
    pub evidence: EvidenceCounts,
    #[serde(serialize_with = "wire_time::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "wire_time::utc")]
    pub updated_at: DateTime<Utc>,
}

impl HazardRecord {
    /// `h` as shown. Times are shown to the microsecond both backends
    /// store, whatever a client sent: a row rendered as written reads the
    /// same as the row read back.
    pub fn of(h: &Hazard) -> HazardRecord {
        let at = |time: NaiveDateTime| clock::stored_precision(time).and_utc();
        let plan = h.planned_at.map(|planned_at| PlanView {
            measures: h.plan_measures.clone(),
            responsible_person: h.plan_responsible_person.clone(),
            funds: h.plan_funds_fen.map(|fen| fen as f64 / 100.0),
            deadline: h.deadline,
            contingency_plan: h.plan_contingency.clone(),
            planned_at: Some(at(planned_at)),
            planned_by: h.planned_by.map(Id::uuid),
        });
        HazardRecord {
            id: h.id.uuid(),
            number: h.number.clone(),
            enterprise_id: h.enterprise_id.uuid(),
            source: h.source,
            checking_enterprise_id: h.checking_enterprise_id.map(Id::uuid),
            inspection_id: h.inspection_id.map(Id::uuid),
            title: h.title.clone(),
            description: h.description.clone(),
            location: h.location.clone(),
            category: h.category.clone(),
            specialty: h.specialty.clone(),
            level: h.level,
            major_basis_code: h.major_basis_code,
            supervised_listing: h.listing_ordering_body.as_ref().map(|ordering_body| {
                SupervisedListing {
                    ordering_body: ordering_body.clone(),
                    listed_on: h.listing_listed_on,
                }
            }),
            found_at: at(h.found_at),
            found_by: h.found_by.uuid(),
            deadline: h.deadline,
            state: h.state,
            version: h.version,
            plan,
            submitted_at: h.submitted_at.map(at),
            closed_at: h.closed_at.map(at),
            voided_at: h.voided_at.map(at),
            evidence: EvidenceCounts {
                before: h.evidence_before,
                after: h.evidence_after,
            },
            created_at: at(h.created_at),
            updated_at: at(h.updated_at),
        }
    }
}

/// The rendering stored with `h`: a JSON object.
pub fn render(h: &Hazard) -> String {
    serde_json::to_string(&HazardRecord::of(h)).expect("a hazard record serializes")
}

/// What a list or a single read takes from a hazard's row when the row
/// carries its rendering: the rendering, and what the fields beside it and
/// the caller's scope are worked out from.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = hazards)]
pub struct RenderedRow {
    pub id: Id,
    pub enterprise_id: Id,
    pub source: CheckSource,
    pub level: HazardLevel,
    pub state: HazardState,
    #[diesel(deserialize_as = Parsed<NaiveDate>)]
    pub deadline: NaiveDate,
    pub version: i64,
    /// `None` for a row not rendered yet: read it whole.
    pub wire: Option<LongText>,
}

impl RenderedRow {
    /// The rendering, if the row carries one that can stand for it (a JSON
    /// object with fields).
    pub fn usable_wire(&self) -> Option<&str> {
        self.wire
            .as_ref()
            .map(|w| w.0.as_str())
            .filter(|w| w.len() > 2 && w.starts_with('{') && w.ends_with('}'))
    }
}

pub fn find(conn: &mut DbConnection, id: Id) -> Result<Option<RenderedRow>, AppError> {
    Ok(on_backend!(conn, |conn| hazards::table
        .find(id)
        .select(RenderedRow::as_select())
        .first(conn)
        .optional())?)
}

/// Renders up to `batch` rows that carry no rendering; returns how many it
/// wrote. Each is written only if unchanged since it was read (a change
/// renders the row itself). Run inside a write transaction.
pub fn fill_missing(conn: &mut DbConnection, batch: i64) -> Result<usize, AppError> {
    let rows: Vec<Hazard> = on_backend!(conn, |conn| hazards::table
        .filter(hazards::wire.is_null())
        .select(Hazard::as_select())
        .limit(batch)
        .load(conn))?;
    let mut written = 0;
    for h in &rows {
        written += diesel::update(
            hazards::table
                .filter(hazards::id.eq(&h.id))
                .filter(hazards::version.eq(h.version))
                .filter(hazards::wire.is_null()),
        )
        .set(hazards::wire.eq(render(h)))
        .execute(conn)?;
    }
    Ok(written)
}

/// Drops the rendering of the rows `ids`, for [`fill_missing`] to write
/// afresh.
pub fn forget(conn: &mut DbConnection, ids: &[Id]) -> Result<(), AppError> {
    for part in ids.chunks(500) {
        diesel::update(hazards::table.filter(hazards::id.eq_any(part)))
            .set(hazards::wire.eq(None::<String>))
            .execute(conn)?;
    }
    Ok(())
}

/// Rows whose rendering differs from the row rendered afresh, reading
/// `batch` rows at a time: their ids, and how many rows carry none yet.
pub fn differing(conn: &mut DbConnection, batch: i64) -> Result<(Vec<Id>, u64), AppError> {
    let mut differing = Vec::new();
    let mut missing = 0;
    let mut after: Option<Id> = None;
    loop {
        let rows: Vec<(Hazard, Option<String>)> = on_backend!(conn, |conn| {
            let mut query = hazards::table
                .select((Hazard::as_select(), hazards::wire))
                .order(hazards::id.asc())
                .limit(batch)
                .into_boxed();
            if let Some(after) = &after {
                query = query.filter(hazards::id.gt(*after));
            }
            query.load(conn)
        })?;
        let Some((last, _)) = rows.last() else {
            return Ok((differing, missing));
        };
        after = Some(last.id);
        for (h, wire) in &rows {
            match wire {
                None => missing += 1,
                Some(wire) if *wire != render(h) => differing.push(h.id),
                Some(_) => {}
            }
        }
    }
}
