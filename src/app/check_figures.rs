//! The figures of the dual prevention mechanism over a period, per
//! enterprise and for the park: occurrences of check tasks planned (so
//! far), done on time, done late, missed, paused and still due; the
//! completion and on-time rates; hazards found by check tasks against
//! those found otherwise; and units and events by risk level. Occurrences
//! are worked out from the schedules, records read a few hundred tasks at
//! a time, so memory follows the tasks, not the records.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone};
use serde::Serialize;
use uuid::Uuid;

use crate::app::analytics::{Cell, Table};
use crate::app::checks::RecordContext;
use crate::app::filings::Filing;
use crate::app::occurrences::{walk, Judge, Walker};
use crate::db::risk::{self as store, FoundRecord, TaskRow};
use crate::db::{stats, DbConnection, Id};
use crate::domain::risk::RiskLevel;
pub use crate::domain::tally::{ByLevel, CheckSummary, Completion};
use crate::error::{AppError, FieldError};
use crate::messages::Rule;

/// The longest period the figures cover.
pub const MAX_PERIOD_DAYS: i64 = 400;

/// One enterprise's figures, or the park's.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct CheckFiguresRow {
    /// Absent on the park's row.
    pub enterprise_id: Option<Uuid>,
    pub enterprise_name: Option<String>,
    pub tasks: u64,
    pub occurrences: Completion,
    /// Of the missed occurrences, those of tasks on 重大 or 较大 units.
    pub missed_on_serious_units: u64,
    /// Of the missed occurrences, duty checks of major hazard sources'
    /// 包保责任人.
    pub missed_duty_checks: u64,
    /// Hazards found in the period by check tasks' abnormal records.
    pub hazards_from_tasks: u64,
    /// The same, by the level of the unit whose measure failed.
    pub hazards_from_tasks_by_level: ByLevel,
    /// Hazards found in the period otherwise (voided ones left out).
    pub hazards_other: u64,
    /// Units by their level (the highest of their events').
    pub units_by_level: ByLevel,
    pub events_by_level: ByLevel,
}

/// The figures of a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckFigures {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub park: CheckFiguresRow,
    /// One row per enterprise with a register or a task, by name.
    pub enterprises: Vec<CheckFiguresRow>,
}

/// The park-local day range `[from, to]` as UTC instants `[start, end)`.
pub(crate) fn utc_range(
    context: &RecordContext,
    from: NaiveDate,
    to: NaiveDate,
) -> (NaiveDateTime, NaiveDateTime) {
    let tz = context.park.time_zone;
    let at = |day: NaiveDate| {
        let local = day.and_time(NaiveTime::MIN);
        tz.from_local_datetime(&local)
            .earliest()
            .map_or(local, |t| t.naive_utc())
    };
    (at(from), at(to + TimeDelta::days(1)))
}

/// A period of figures: `to` on or after `from`, at most
/// [`MAX_PERIOD_DAYS`] days.
pub fn check_period(from: NaiveDate, to: NaiveDate) -> Result<(), AppError> {
    if to < from || (to - from).num_days() >= MAX_PERIOD_DAYS {
        return Err(AppError::invalid(
            "to",
            FieldError::new(Rule::PeriodTooLong).with("max_days", MAX_PERIOD_DAYS),
        ));
    }
    Ok(())
}

/// How occurrences are judged now, by the park's zone, calendar and
/// tolerance.
pub fn judge<'a>(context: &RecordContext<'a>) -> Judge<'a> {
    let tz = context.park.time_zone;
    Judge {
        tz,
        calendar: context.calendar,
        tolerance: context.lifecycle.policy.backdate_tolerance,
        now_local: tz
            .from_utc_datetime(&context.lifecycle.now.utc)
            .naive_local(),
    }
}

/// The figures of `[from, to]` (park-local days), of one enterprise or all.
pub fn figures(
    conn: &mut DbConnection,
    scope: Option<Uuid>,
    (from, to): (NaiveDate, NaiveDate),
    context: &RecordContext,
) -> Result<CheckFigures, AppError> {
    check_period(from, to)?;
    let scope = scope.map(Id::from);
    let mut rows: BTreeMap<Id, CheckFiguresRow> = BTreeMap::new();

    // The register's levels: those in it now are counted; a retired
    // event's still judges its unit's past occurrences.
    let mut unit_level: HashMap<Id, RiskLevel> = HashMap::new();
    let mut live_units: HashMap<Id, (Id, RiskLevel)> = HashMap::new();
    for event in store::event_levels(conn, scope)? {
        let higher = |l: &mut RiskLevel| *l = l.max(event.level);
        unit_level
            .entry(event.unit)
            .and_modify(higher)
            .or_insert(event.level);
        if !event.live {
            continue;
        }
        rows.entry(event.enterprise)
            .or_insert_with(|| blank(event.enterprise))
            .events_by_level
            .count(event.level);
        live_units
            .entry(event.unit)
            .and_modify(|(_, l)| higher(l))
            .or_insert((event.enterprise, event.level));
    }
    for (enterprise, level) in live_units.into_values() {
        rows.entry(enterprise)
            .or_insert_with(|| blank(enterprise))
            .units_by_level
            .count(level);
    }

    // Occurrences up to now.
    let judge = judge(context);
    let start = from.and_time(NaiveTime::MIN);
    let end = (to + TimeDelta::days(1)).and_time(NaiveTime::MIN);
    let (start_utc, end_utc) = utc_range(context, from, to);
    let tasks = store::tasks_of(conn, scope)?;
    for task in &tasks {
        rows.entry(task.enterprise_id)
            .or_insert_with(|| blank(task.enterprise_id))
            .tasks += 1;
    }
    struct Counter<'a> {
        rows: &'a mut BTreeMap<Id, CheckFiguresRow>,
        unit_level: &'a HashMap<Id, RiskLevel>,
        end_utc: NaiveDateTime,
    }
    impl Walker for Counter<'_> {
        fn record(&mut self, task: &TaskRow, record: &FoundRecord) {
            if record.checked_at < self.end_utc {
                let entry = self
                    .rows
                    .entry(record.enterprise_id)
                    .or_insert_with(|| blank(record.enterprise_id));
                entry.hazards_from_tasks += 1;
                if let Some(level) = self.unit_level.get(&task.unit_id) {
                    entry.hazards_from_tasks_by_level.count(*level);
                }
            }
        }

        fn occurrences(&mut self, task: &TaskRow, counted: &Completion) {
            let serious = on_serious_unit(self.unit_level, task);
            let entry = self
                .rows
                .entry(task.enterprise_id)
                .or_insert_with(|| blank(task.enterprise_id));
            if serious {
                entry.missed_on_serious_units += counted.missed;
            }
            if task.kind.duty_of().is_some() {
                entry.missed_duty_checks += counted.missed;
            }
            entry.occurrences.add(counted);
        }
    }
    walk(
        conn,
        &tasks,
        (start, end),
        judge,
        &mut Counter {
            rows: &mut rows,
            unit_level: &unit_level,
            end_utc,
        },
    )?;

    // Hazards found otherwise: all found in the period, less the tasks'.
    for (enterprise, found) in store::hazards_found(conn, scope, (start_utc, end_utc))? {
        if let Some(entry) = rows.get_mut(&enterprise) {
            entry.hazards_other = found.saturating_sub(entry.hazards_from_tasks);
        }
    }

    let names: HashMap<Id, String> = stats::enterprise_names(conn)?.into_iter().collect();
    let mut park = CheckFiguresRow::default();
    let mut enterprises: Vec<CheckFiguresRow> = rows
        .into_iter()
        .map(|(id, mut row)| {
            row.enterprise_name = names.get(&id).cloned();
            park.tasks += row.tasks;
            park.missed_on_serious_units += row.missed_on_serious_units;
            park.missed_duty_checks += row.missed_duty_checks;
            park.occurrences.add(&row.occurrences);
            park.hazards_from_tasks += row.hazards_from_tasks;
            park.hazards_from_tasks_by_level
                .add(&row.hazards_from_tasks_by_level);
            park.hazards_other += row.hazards_other;
            park.units_by_level.add(&row.units_by_level);
            park.events_by_level.add(&row.events_by_level);
            row.occurrences = row.occurrences.rated();
            row
        })
        .collect();
    park.occurrences = park.occurrences.rated();
    enterprises.sort_by(|a, b| a.enterprise_name.cmp(&b.enterprise_name));
    Ok(CheckFigures {
        from,
        to,
        park,
        enterprises,
    })
}

/// Whether `task` checks a 重大 or 较大 unit.
fn on_serious_unit(unit_level: &HashMap<Id, RiskLevel>, task: &TaskRow) -> bool {
    unit_level
        .get(&task.unit_id)
        .is_some_and(|l| matches!(l, RiskLevel::Major | RiskLevel::Serious))
}

/// Each period's occurrences (not yet rated) and, of those missed, the ones
/// on 重大 or 较大 units: the part of the figures the overview shows, read
/// without the register's counts, the hazards found or the names.
pub fn occurrences_in(
    conn: &mut DbConnection,
    scope: Option<Uuid>,
    periods: &[(NaiveDate, NaiveDate)],
    context: &RecordContext,
) -> Result<Vec<(Completion, u64)>, AppError> {
    let scope = scope.map(Id::from);
    let mut unit_level: HashMap<Id, RiskLevel> = HashMap::new();
    for event in store::event_levels(conn, scope)? {
        unit_level
            .entry(event.unit)
            .and_modify(|l| *l = (*l).max(event.level))
            .or_insert(event.level);
    }
    let tasks = store::tasks_of(conn, scope)?;
    struct Counter<'a> {
        unit_level: &'a HashMap<Id, RiskLevel>,
        counted: Completion,
        missed_on_serious_units: u64,
    }
    impl Walker for Counter<'_> {
        fn record(&mut self, _: &TaskRow, _: &FoundRecord) {}

        fn occurrences(&mut self, task: &TaskRow, counted: &Completion) {
            if on_serious_unit(self.unit_level, task) {
                self.missed_on_serious_units += counted.missed;
            }
            self.counted.add(counted);
        }
    }
    let mut counts = Vec::with_capacity(periods.len());
    for &(from, to) in periods {
        check_period(from, to)?;
        let mut counter = Counter {
            unit_level: &unit_level,
            counted: Completion::default(),
            missed_on_serious_units: 0,
        };
        let period = (
            from.and_time(NaiveTime::MIN),
            (to + TimeDelta::days(1)).and_time(NaiveTime::MIN),
        );
        walk(conn, &tasks, period, judge(context), &mut counter)?;
        counts.push((counter.counted, counter.missed_on_serious_units));
    }
    Ok(counts)
}

/// One enterprise's figures of `[from, to]` as its filing carries them;
/// `None` when it has neither a register nor tasks.
pub fn summary_of(
    conn: &mut DbConnection,
    enterprise: Id,
    period: (NaiveDate, NaiveDate),
    context: &RecordContext,
) -> Result<Option<CheckSummary>, AppError> {
    let figures = figures(conn, Some(enterprise.uuid()), period, context)?;
    Ok(figures
        .enterprises
        .into_iter()
        .next()
        .map(|row| CheckSummary {
            tasks: row.tasks,
            occurrences: row.occurrences,
            missed_on_serious_units: row.missed_on_serious_units,
            hazards_from_tasks: row.hazards_from_tasks,
            hazards_other: row.hazards_other,
            units_by_level: row.units_by_level,
            events_by_level: row.events_by_level,
        }))
}

/// Adds the check figures to the filings not yet filed (a filed version
/// carries its own, frozen).
pub fn with_checks(
    conn: &mut DbConnection,
    filings: &mut [Filing],
    context: &RecordContext,
) -> Result<(), AppError> {
    for filing in filings.iter_mut().filter(|f| f.versions.is_empty()) {
        let period = (filing.period.first_day, filing.period.last_day);
        filing.figures.checks = summary_of(conn, filing.enterprise_id.into(), period, context)?;
    }
    Ok(())
}

fn blank(enterprise: Id) -> CheckFiguresRow {
    CheckFiguresRow {
        enterprise_id: Some(enterprise.uuid()),
        ..CheckFiguresRow::default()
    }
}

impl CheckFigures {
    /// The figures as a table: a row per enterprise, then the park's.
    pub fn table(&self) -> Table {
        let columns = [
            "企业",
            "排查任务",
            "应排查",
            "停用检修",
            "按时完成",
            "逾期完成",
            "未排查",
            "进行中",
            "完成率",
            "按时率",
            "任务发现隐患",
            "其他来源隐患",
            "重大风险单元",
            "较大风险单元",
            "一般风险单元",
            "低风险单元",
        ];
        let cells = |name: String, row: &CheckFiguresRow| -> Vec<Cell> {
            let o = &row.occurrences;
            let n = |v: u64| Cell::Number(v as f64);
            let rate = |r: Option<f64>| r.map_or(Cell::Empty, Cell::Number);
            vec![
                Cell::Text(name),
                n(row.tasks),
                n(o.planned),
                n(o.paused),
                n(o.done_on_time),
                n(o.done_late),
                n(o.missed),
                n(o.due),
                rate(o.completion_rate),
                rate(o.on_time_rate),
                n(row.hazards_from_tasks),
                n(row.hazards_other),
                n(row.units_by_level.major),
                n(row.units_by_level.serious),
                n(row.units_by_level.general),
                n(row.units_by_level.low),
            ]
        };
        let mut rows: Vec<Vec<Cell>> = self
            .enterprises
            .iter()
            .map(|row| cells(row.enterprise_name.clone().unwrap_or_default(), row))
            .collect();
        rows.push(cells("全园区".to_owned(), &self.park));
        Table {
            title: "双重预防运行情况",
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows,
        }
    }
}

/// Enterprises whose completion rate over the last `days` days (today
/// included) is below `alert_rate`, each with why.
pub fn behind(
    conn: &mut DbConnection,
    context: &RecordContext,
    alert_rate: f64,
    days: u32,
) -> Result<HashMap<Id, String>, AppError> {
    let today = context.lifecycle.now.park_today;
    let from = today - TimeDelta::days(i64::from(days.max(1)) - 1);
    let figures = figures(conn, None, (from, today), context)?;
    Ok(figures
        .enterprises
        .into_iter()
        .filter_map(|row| {
            let rate = row.occurrences.completion_rate?;
            let id = row.enterprise_id?;
            (rate < alert_rate).then(|| {
                (
                    Id::from(id),
                    format!(
                        "check tasks completed at {:.0}% over the last {days} days (below {:.0}%)",
                        rate * 100.0,
                        alert_rate * 100.0
                    ),
                )
            })
        })
        .collect())
}
