//! The wall screen's two dual-prevention panels, in one read: 双重预防运行
//! (the park's check completion today and this month, missed checks, units
//! by level and the 重大/较大 units) and 重大危险源包保 (sources by grade,
//! each kind of 包保责任人's completion this month, the sources whose
//! persons are missing or behind). Aggregates and names of enterprises,
//! units and sources only: no person's name or phone.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::app::check_figures::{self, ByLevel, Completion};
use crate::app::checks::RecordContext;
use crate::app::duty_figures::{self, KindFigures};
use crate::app::major_sources::with_persons;
use crate::app::reports::DualPrevention;
use crate::db::major_sources as sources_store;
use crate::db::risk as store;
use crate::db::{stats, DbConnection, Id};
use crate::domain::major_source::PersonKind;
use crate::domain::risk::RiskLevel;
use crate::error::AppError;

/// The most units and sources a panel lists.
pub const LISTED: usize = 8;

/// A 重大 or 较大 unit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitLine {
    pub enterprise_name: String,
    pub unit_name: String,
    pub level: RiskLevel,
}

/// A source whose persons are missing or behind this month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SourceLine {
    pub enterprise_name: String,
    pub code: String,
    pub name: String,
    pub grade: i32,
    pub missing: Vec<PersonKind>,
    pub behind: Vec<PersonKind>,
}

/// 双重预防运行.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChecksPanel {
    /// Occurrences that started today.
    pub today: Completion,
    /// Occurrences that started this month.
    pub month: Completion,
    /// Of this month's missed, those on 重大 or 较大 units.
    pub missed_on_serious_units: u64,
    pub units_by_level: ByLevel,
    /// Up to eight 重大 units, then 较大 ones, by enterprise.
    pub serious_units: Vec<UnitLine>,
}

/// 重大危险源包保.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SourcesPanel {
    pub sources: u64,
    /// 一级, 二级, 三级, 四级.
    pub sources_by_grade: [u64; 4],
    /// Each kind's duty checks this month (principal, technical,
    /// operational).
    pub kinds: Vec<KindFigures>,
    pub sources_missing_persons: u64,
    pub sources_behind: u64,
    /// Up to eight sources missing a person or behind, highest grade first.
    pub attention: Vec<SourceLine>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PreventionBoard {
    pub today: NaiveDate,
    pub checks: ChecksPanel,
    pub major_sources: SourcesPanel,
}

/// The board as of the context's now.
pub fn board(
    conn: &mut DbConnection,
    behind_below_rate: f64,
    context: &RecordContext,
) -> Result<PreventionBoard, AppError> {
    let today = context.lifecycle.now.park_today;
    let first = today.with_day(1).unwrap_or(today);
    let day = check_figures::figures(conn, None, (today, today), context)?;
    let month = check_figures::figures(conn, None, (first, today), context)?;
    let names: HashMap<Id, String> = stats::enterprise_names(conn)?.into_iter().collect();

    let mut levels: HashMap<Id, (Id, RiskLevel)> = HashMap::new();
    for store::EventLevel {
        enterprise,
        unit,
        level,
        ..
    } in store::event_levels(conn, None)?
        .into_iter()
        .filter(|e| e.live)
    {
        levels
            .entry(unit)
            .and_modify(|(_, l)| *l = l.max(level))
            .or_insert((enterprise, level));
    }
    let mut serious: Vec<(Id, Id, RiskLevel)> = levels
        .into_iter()
        .filter(|(_, (_, level))| matches!(level, RiskLevel::Major | RiskLevel::Serious))
        .map(|(unit, (enterprise, level))| (enterprise, unit, level))
        .collect();
    let units: Vec<Id> = serious.iter().map(|(_, unit, _)| *unit).collect();
    let unit_names: HashMap<Id, String> = store::unit_names(conn, &units)?.into_iter().collect();
    let name_of = |id: &Id| names.get(id).cloned().unwrap_or_default();
    serious.sort_by_key(|(enterprise, unit, level)| {
        (
            level.rank(),
            name_of(enterprise),
            unit_names.get(unit).cloned().unwrap_or_default(),
        )
    });
    let serious_units = serious
        .iter()
        .take(LISTED)
        .map(|(enterprise, unit, level)| UnitLine {
            enterprise_name: name_of(enterprise),
            unit_name: unit_names.get(unit).cloned().unwrap_or_default(),
            level: *level,
        })
        .collect();

    let sources = sources_store::sources(conn, None)?;
    let records = with_persons(conn, sources)?;
    let duties = duty_figures::figures(conn, &records, (first, today), behind_below_rate, context)?;
    let mut attention: Vec<SourceLine> = duties
        .sources
        .iter()
        .filter(|s| !s.missing.is_empty() || !s.behind.is_empty())
        .map(|s| SourceLine {
            enterprise_name: s.enterprise_name.clone().unwrap_or_default(),
            code: s.code.clone(),
            name: s.name.clone(),
            grade: s.grade,
            missing: s.missing.clone(),
            behind: s.behind.clone(),
        })
        .collect();
    attention.sort_by(|a, b| (a.grade, &a.enterprise_name).cmp(&(b.grade, &b.enterprise_name)));
    attention.truncate(LISTED);

    Ok(PreventionBoard {
        today,
        checks: ChecksPanel {
            today: day.park.occurrences,
            month: month.park.occurrences,
            missed_on_serious_units: month.park.missed_on_serious_units,
            units_by_level: month.park.units_by_level,
            serious_units,
        },
        major_sources: SourcesPanel {
            sources: duties.park.sources,
            sources_by_grade: duties.park.sources_by_grade,
            kinds: duties.park.kinds,
            sources_missing_persons: duties.park.sources_missing_persons,
            sources_behind: duties.park.sources_behind,
            attention,
        },
    })
}

/// A report's dual-prevention section for `[from, to]`, now, if the park
/// runs the mechanism at all (a check task or a major hazard source).
pub fn report_section(
    conn: &mut DbConnection,
    (from, to): (NaiveDate, NaiveDate),
    behind_below_rate: f64,
    context: &RecordContext,
) -> Result<Option<DualPrevention>, AppError> {
    let checks = check_figures::figures(conn, None, (from, to), context)?;
    let sources = sources_store::sources(conn, None)?;
    if checks.park.tasks == 0 && sources.is_empty() {
        return Ok(None);
    }
    let records = with_persons(conn, sources)?;
    let duties = duty_figures::figures(conn, &records, (from, to), behind_below_rate, context)?;
    Ok(Some(DualPrevention {
        checks: checks.park.occurrences,
        check_tasks: checks.park.tasks,
        hazards_from_tasks: checks.park.hazards_from_tasks,
        hazards_other: checks.park.hazards_other,
        units_by_level: checks.park.units_by_level,
        major_sources: duties.park.sources,
        sources_by_grade: duties.park.sources_by_grade,
        sources_missing_persons: duties.park.sources_missing_persons,
        duties: duties.park.kinds,
    }))
}
