//! Art. 14 statistical filings: for each enterprise and each quarter and
//! year, the figures prepared from its hazards, who has filed and who is
//! late, and filing (a new version, its figures frozen as filed; a
//! correction is another version, every version kept).

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::reports::{percent, Period};
use crate::db::enterprises;
use crate::db::filings::{self as store, FilingRow};
use crate::db::stats::{self, GroupFilter, HazardGroup};
use crate::db::{write_transaction, DbConnection, Id};
use crate::domain::access::Caller;
use crate::domain::enterprise::EnterpriseStatus;
use crate::domain::filing::{self, FileRequest, FilingStatus};
use crate::domain::hazard::{CheckSource, HazardLevel, HazardState};
use crate::domain::tally::{CheckSummary, DutySummary};
use crate::error::AppError;
use crate::messages::{Detail, Rule};

/// One line of a breakdown in a filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FilingCount {
    pub key: String,
    pub label: String,
    pub found: i64,
    pub closed: i64,
}

/// The statistical analysis of an enterprise's hazard work in a period:
/// hazards found in it, and how they stand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FilingFigures {
    pub found: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    pub still_open: i64,
    pub voided: i64,
    /// closed / found, in percent with two decimals; 100 when nothing was found.
    pub rectification_rate: f64,
    pub major_found: i64,
    pub major_closed: i64,
    pub by_source: Vec<FilingCount>,
    pub by_level: Vec<FilingCount>,
    /// The enterprise's major hazard sources and their 包保责任人's duty
    /// checks in the period (三类包保责任人分类统计); absent when it keeps
    /// none, and in versions filed before the figures existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major_sources: Option<DutySummary>,
    /// The enterprise's check tasks in the period (双重预防运行情况); absent
    /// when it has neither a register nor tasks, and in versions filed
    /// before the figures existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<CheckSummary>,
}

impl FilingFigures {
    /// Adds up the groups of one enterprise's hazards found in `months`.
    fn of<'a>(groups: impl Iterator<Item = &'a HazardGroup>) -> FilingFigures {
        let mut f = FilingFigures {
            found: 0,
            closed: 0,
            closed_on_time: 0,
            still_open: 0,
            voided: 0,
            rectification_rate: 0.0,
            major_found: 0,
            major_closed: 0,
            by_source: CheckSource::ALL
                .iter()
                .map(|s| count(s.as_str(), s.label_zh()))
                .collect(),
            by_level: HazardLevel::ALL
                .iter()
                .map(|l| count(l.as_str(), l.label_zh()))
                .collect(),
            major_sources: None,
            checks: None,
        };
        for g in groups {
            if g.state == HazardState::Voided {
                f.voided += g.hazards;
                continue;
            }
            let closed = if g.state == HazardState::Closed {
                g.hazards
            } else {
                0
            };
            f.found += g.hazards;
            f.closed += closed;
            f.still_open += g.hazards - closed;
            if g.on_time == 1 {
                f.closed_on_time += closed;
            }
            if g.level == HazardLevel::Major {
                f.major_found += g.hazards;
                f.major_closed += closed;
            }
            for (list, key) in [
                (&mut f.by_source, g.source.as_str()),
                (&mut f.by_level, g.level.as_str()),
            ] {
                if let Some(line) = list.iter_mut().find(|c| c.key == key) {
                    line.found += g.hazards;
                    line.closed += closed;
                }
            }
        }
        f.rectification_rate = percent(f.closed, f.found);
        f
    }
}

fn count(key: &str, label: &str) -> FilingCount {
    FilingCount {
        key: key.to_owned(),
        label: label.to_owned(),
        found: 0,
        closed: 0,
    }
}

/// An enterprise's filing for one period, as it stands.
#[derive(Debug, Clone)]
pub struct Filing {
    pub id: Uuid,
    pub enterprise_id: Uuid,
    pub enterprise_name: String,
    pub period: Period,
    pub due_on: NaiveDate,
    pub status: FilingStatus,
    /// The latest filed version's figures, or, before any, the figures as
    /// prepared now.
    pub figures: FilingFigures,
    /// Every version filed, oldest first.
    pub versions: Vec<FilingRow>,
}

/// Which filings a list covers.
#[derive(Debug, Clone, Default)]
pub struct FilingQuery {
    pub year: i32,
    /// One quarter; `None`: the four quarters and the year.
    pub quarter: Option<u32>,
    /// Only the year's filing.
    pub yearly_only: bool,
    /// Only the quarters' filings.
    pub quarterly_only: bool,
    pub enterprise_id: Option<Uuid>,
    pub status: Option<FilingStatus>,
}

/// The periods of `year` a query asks for, quarters first.
fn periods(query: &FilingQuery) -> Vec<Period> {
    let year = query.year;
    let quarters = (1..=4).filter_map(|q| Period::quarter(year, q));
    match (query.quarter, query.yearly_only) {
        (Some(q), _) => Period::quarter(year, q).into_iter().collect(),
        (None, true) => Period::year(year).into_iter().collect(),
        (None, false) if query.quarterly_only => quarters.collect(),
        (None, false) => quarters.chain(Period::year(year)).collect(),
    }
}

/// The filings of `query`, ordered by enterprise and period; for an
/// enterprise contact, its own. An enterprise is listed for a period it
/// must file (not closed, registered by the period's end) or did file.
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    query: &FilingQuery,
    today: NaiveDate,
) -> Result<Vec<Filing>, AppError> {
    if !(2000..=2100).contains(&query.year) {
        return Err(AppError::invalid("year", Rule::Year));
    }
    if query.quarter.is_some_and(|q| !(1..=4).contains(&q)) {
        return Err(AppError::invalid("quarter", Rule::Quarter));
    }
    let scope = match (caller.scope(), query.enterprise_id) {
        (Some(own), Some(asked)) if own != asked => return Ok(Vec::new()),
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    list_in(conn, scope, query, today)
}

/// The filings of `query` for one enterprise, or for all.
fn list_in(
    conn: &mut DbConnection,
    scope: Option<Uuid>,
    query: &FilingQuery,
    today: NaiveDate,
) -> Result<Vec<Filing>, AppError> {
    let mut listed: Vec<(Id, String, EnterpriseStatus, NaiveDate)> = enterprises::all(conn)?
        .into_iter()
        .filter(|e| scope.is_none_or(|id| e.id.uuid() == id))
        .map(|e| (e.id, e.name, e.status, e.created_at.date()))
        .collect();
    listed.sort_by_key(|(id, ..)| *id);
    let groups = stats::hazard_groups(
        conn,
        &GroupFilter {
            found_year: Some(query.year),
            months: None,
            enterprise_id: scope.map(Id::from),
        },
    )?;
    let mut filed: HashMap<Id, Vec<FilingRow>> = HashMap::new();
    for row in store::of_year(conn, query.year, scope.map(Id::from))? {
        filed.entry(row.period_id).or_default().push(row);
    }
    let periods = periods(query);
    let mut out = Vec::new();
    for (enterprise_id, name, status, registered_on) in listed {
        for period in &periods {
            let id = filing::period_id(enterprise_id.uuid(), period.year, period.quarter);
            let versions = filed.remove(&Id::from(id)).unwrap_or_default();
            let required = status != EnterpriseStatus::Closed && registered_on <= period.last_day;
            if !required && versions.is_empty() {
                continue;
            }
            let filing = assemble(
                (id, enterprise_id, name.clone()),
                *period,
                versions,
                &groups,
                today,
            )?;
            if query.status.is_none_or(|s| s == filing.status) {
                out.push(filing);
            }
        }
    }
    Ok(out)
}

fn assemble(
    (id, enterprise_id, enterprise_name): (Uuid, Id, String),
    period: Period,
    versions: Vec<FilingRow>,
    groups: &[HazardGroup],
    today: NaiveDate,
) -> Result<Filing, AppError> {
    let due_on = filing::due_on(period.year, period.quarter)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no due day for {period:?}")))?;
    let status = filing::status(
        period.last_day,
        due_on,
        versions.first().map(|v| v.filed_on),
        today,
    );
    let figures = match versions.last() {
        Some(latest) => serde_json::from_str(&latest.figures)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("filing {}: {e}", latest.id)))?,
        None => prepare(groups, enterprise_id, &period),
    };
    Ok(Filing {
        id,
        enterprise_id: enterprise_id.uuid(),
        enterprise_name,
        period,
        due_on,
        status,
        figures,
        versions,
    })
}

/// The figures of an enterprise's hazards found in the period, from the
/// year's groups.
fn prepare(groups: &[HazardGroup], enterprise_id: Id, period: &Period) -> FilingFigures {
    let (first, last) = (
        chrono::Datelike::month(&period.first_day) as i32,
        chrono::Datelike::month(&period.last_day) as i32,
    );
    FilingFigures::of(
        groups.iter().filter(|g| {
            g.enterprise_id == enterprise_id && (first..=last).contains(&g.found_month)
        }),
    )
}

/// The filing with this id, if the caller may see it: found among the
/// periods of 2000 up to this year, for the enterprises in the caller's
/// scope.
pub fn find(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    today: NaiveDate,
) -> Result<Filing, AppError> {
    let ours = |e: Uuid| caller.scope().is_none_or(|own| own == e);
    let (enterprise, year, quarter) = match store::of_period(conn, id.into())?.first() {
        Some(row) => (
            row.enterprise_id.uuid(),
            row.year,
            row.quarter.map(|q| q as u32),
        ),
        None => search(conn, id, today)?.ok_or(AppError::NotFound("filing"))?,
    };
    if !ours(enterprise) {
        return Err(AppError::NotFound("filing"));
    }
    let query = FilingQuery {
        year,
        quarter,
        yearly_only: quarter.is_none(),
        quarterly_only: false,
        enterprise_id: Some(enterprise),
        status: None,
    };
    list(conn, caller, &query, today)?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or(AppError::NotFound("filing"))
}

/// The (enterprise, year, quarter) whose period id is `id`.
fn search(
    conn: &mut DbConnection,
    id: Uuid,
    today: NaiveDate,
) -> Result<Option<(Uuid, i32, Option<u32>)>, AppError> {
    let this_year = chrono::Datelike::year(&today);
    let quarters = [Some(1), Some(2), Some(3), Some(4), None];
    for enterprise in enterprises::all(conn)? {
        let e = enterprise.id.uuid();
        for year in 2000..=this_year {
            if let Some(q) = quarters
                .iter()
                .find(|q| filing::period_id(e, year, **q) == id)
            {
                return Ok(Some((e, year, *q)));
            }
        }
    }
    Ok(None)
}

/// Files the period's analysis as it stands now, signed by the principal:
/// its first version, or a correction (a new version; the earlier ones
/// stay as filed). `extras` adds the period's figures kept elsewhere (the
/// 包保 and check tasks' figures), frozen with the rest.
pub fn file(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    request: &FileRequest,
    now: crate::clock::Now,
    extras: impl FnOnce(&mut DbConnection, Id, &Period, &mut FilingFigures) -> Result<(), AppError>,
) -> Result<Filing, AppError> {
    let today = now.park_today;
    write_transaction(conn, |conn| {
        let current = find(conn, caller, id, today)?;
        filing::check_period_ended(current.period.last_day, today)?;
        let signed = request.parse(current.versions.len())?;
        let groups = stats::hazard_groups(
            conn,
            &GroupFilter {
                found_year: Some(current.period.year),
                months: None,
                enterprise_id: Some(current.enterprise_id.into()),
            },
        )?;
        let mut figures = prepare(&groups, current.enterprise_id.into(), &current.period);
        extras(
            conn,
            current.enterprise_id.into(),
            &current.period,
            &mut figures,
        )?;
        let row = FilingRow {
            id: Uuid::now_v7().into(),
            period_id: id.into(),
            enterprise_id: current.enterprise_id.into(),
            year: current.period.year,
            quarter: current.period.quarter.map(|q| q as i32),
            version: current.versions.len() as i32 + 1,
            figures: serde_json::to_string(&figures).map_err(|e| AppError::Internal(e.into()))?,
            principal_name: signed.principal_name,
            note: signed.note,
            correction_reason: signed.correction_reason,
            filed_by: caller.user_id.into(),
            filed_at: now.utc,
            filed_on: today,
        };
        if !store::insert(conn, &row)? {
            return Err(AppError::conflict(Detail::FilingCollided));
        }
        find(conn, caller, id, today)
    })
}

/// The enterprises late with a filing whose due day ended more than
/// `days_after` days before `today`, among periods of the last two years.
pub fn late(
    conn: &mut DbConnection,
    today: NaiveDate,
    days_after: u32,
) -> Result<Vec<Filing>, AppError> {
    let this_year = chrono::Datelike::year(&today);
    let mut out = Vec::new();
    for year in this_year - 2..=this_year {
        let query = FilingQuery {
            year,
            status: Some(FilingStatus::Late),
            ..FilingQuery::default()
        };
        out.extend(
            list_in(conn, None, &query, today)?
                .into_iter()
                .filter(|f| f.due_on + chrono::Days::new(u64::from(days_after)) < today),
        );
    }
    Ok(out)
}
