//! The occurrences of stored check tasks: a task's schedule as stored,
//! the pauses of its unit as a set, park-local and UTC times, and the
//! occurrences missed on units of a watched level (for the escalation
//! scanner). Reads the database, imports no service that changes it, so
//! the escalation policy may use it.

use std::collections::HashMap;

use chrono::{NaiveDateTime, TimeDelta, TimeZone};

use crate::db::risk::{self as store, PauseRow, TaskRow};
use crate::db::{DbConnection, Id};
use crate::domain::calendar::WorkCalendar;
use crate::domain::risk::RiskLevel;
use crate::domain::schedule::{Occurrence, Pause, PauseSet, Schedule, ScheduleSpec, Status};
use crate::error::AppError;

/// A task's schedule, as stored.
pub fn schedule_of(task: &TaskRow) -> Result<Schedule, AppError> {
    serde_json::from_str::<ScheduleSpec>(&task.schedule)
        .map_err(anyhow::Error::from)
        .and_then(|spec| Schedule::try_from(spec).map_err(anyhow::Error::from))
        .map_err(|e| AppError::Internal(e.context(format!("task {} has a bad schedule", task.id))))
}

pub fn pause_set(rows: &[&PauseRow]) -> Result<PauseSet, AppError> {
    let pauses: Vec<Pause> = rows
        .iter()
        .map(|p| Pause {
            from: p.starts_at,
            until: p.ends_at,
            reason: p.reason.clone(),
        })
        .collect();
    PauseSet::new(&pauses).map_err(|e| AppError::Internal(e.into()))
}

/// The park-local wall time of a stored UTC instant.
pub fn local(tz: chrono_tz::Tz, utc: NaiveDateTime) -> NaiveDateTime {
    tz.from_utc_datetime(&utc).naive_local()
}

/// The UTC instant of a park-local wall time (its earliest, should a
/// time-zone change repeat it; the wall time itself, should one skip it).
pub fn utc_of(tz: chrono_tz::Tz, local: NaiveDateTime) -> NaiveDateTime {
    tz.from_local_datetime(&local)
        .earliest()
        .map_or(local, |t| t.naive_utc())
}

/// An occurrence missed on a unit of a watched level.
pub struct MissedCheck {
    pub task: TaskRow,
    pub unit_name: String,
    pub level: RiskLevel,
    pub occurrence: Occurrence,
}

/// The occurrences of tasks on units of `levels` that are missed at `now`
/// (UTC) and whose on-time limit passed `delay` or more ago but less than
/// `delay + window` ago: what a scanner running at least every `window`
/// has not seen missed before.
pub fn missed_on_units(
    conn: &mut DbConnection,
    tz: chrono_tz::Tz,
    calendar: &WorkCalendar,
    tolerance: TimeDelta,
    (now, delay, window): (NaiveDateTime, TimeDelta, TimeDelta),
    levels: &[RiskLevel],
    keep: impl Fn(&TaskRow) -> bool,
) -> Result<Vec<MissedCheck>, AppError> {
    let mut unit_levels: HashMap<Id, RiskLevel> = HashMap::new();
    for store::EventLevel { unit, level, .. } in store::event_levels(conn, None)? {
        unit_levels
            .entry(unit)
            .and_modify(|l| *l = l.max(level))
            .or_insert(level);
    }
    unit_levels.retain(|_, level| levels.contains(level));
    if unit_levels.is_empty() {
        return Ok(Vec::new());
    }
    let now_local = local(tz, now);
    // Missed when the limit (end + tolerance) passed; look at limits in
    // (now - delay - window, now - delay].
    let newest = now_local - delay;
    let oldest = newest - window;
    let tasks: Vec<TaskRow> = store::tasks_of(conn, None)?
        .into_iter()
        .filter(|t| t.active && unit_levels.contains_key(&t.unit_id) && keep(t))
        .collect();
    let watched: Vec<Id> = unit_levels.keys().copied().collect();
    let unit_names: HashMap<Id, String> = store::unit_names(conn, &watched)?.into_iter().collect();
    let mut missed = Vec::new();
    for chunk in tasks.chunks(500) {
        let ids: Vec<Id> = chunk.iter().map(|t| t.id).collect();
        let units: Vec<Id> = chunk.iter().map(|t| t.unit_id).collect();
        let pauses = store::pauses_of(conn, &units)?;
        let mut plans = Vec::with_capacity(chunk.len());
        for task in chunk {
            let schedule = schedule_of(task)?;
            // The occurrence whose limit is the oldest looked at started a
            // whole slot before its end.
            let from = schedule
                .slot_containing(oldest - tolerance)
                .and_then(|k| schedule.slot_start(k))
                .unwrap_or(oldest - tolerance);
            plans.push((task, schedule, from));
        }
        let Some(earliest) = plans.iter().map(|(_, _, from)| *from).min() else {
            continue;
        };
        let checked: HashMap<(Id, i64), NaiveDateTime> =
            store::checked_since(conn, &ids, utc_of(tz, earliest))?
                .into_iter()
                .map(|(task, occurrence, at)| ((task, occurrence), local(tz, at)))
                .collect();
        for (task, schedule, from) in plans {
            let of_unit: Vec<&PauseRow> = pauses
                .iter()
                .filter(|p| p.unit_id == task.unit_id)
                .collect();
            let pauses = pause_set(&of_unit)?;
            for occurrence in schedule.occurrences(from, newest, calendar, &pauses) {
                let limit = occurrence.deadline(tolerance);
                if limit <= oldest || limit > newest {
                    continue;
                }
                let at: Vec<NaiveDateTime> = checked
                    .get(&(task.id, i64::from(occurrence.id)))
                    .copied()
                    .into_iter()
                    .collect();
                if occurrence.status(&at, now_local, tolerance) == Status::Missed {
                    missed.push(MissedCheck {
                        task: task.clone(),
                        unit_name: unit_names.get(&task.unit_id).cloned().unwrap_or_default(),
                        level: unit_levels
                            .get(&task.unit_id)
                            .copied()
                            .unwrap_or(RiskLevel::Low),
                        occurrence,
                    });
                }
            }
        }
    }
    Ok(missed)
}

/// How occurrences are judged: in which zone, on which calendar, with
/// which tolerance, at which park-local moment.
#[derive(Clone, Copy)]
pub struct Judge<'a> {
    pub tz: chrono_tz::Tz,
    pub calendar: &'a WorkCalendar,
    pub tolerance: TimeDelta,
    pub now_local: NaiveDateTime,
}

/// What [`walk`] reports: every record of the tasks checked at or after
/// the period's start, then every occurrence of each task starting within
/// the period (up to now) with where it stands.
pub trait Walker {
    /// A record of the walk that raised a hazard.
    fn record(&mut self, task: &TaskRow, record: &store::FoundRecord);
    fn occurrence(&mut self, task: &TaskRow, occurrence: &Occurrence, status: Status);
}

/// Walks the occurrences of `tasks` starting in `[start, end)` (park-local),
/// a few hundred tasks at a time so memory follows the tasks, not the
/// records. A retired task plans nothing from its retirement on: an
/// occurrence still running (or not begun) when it was retired, and not
/// recorded, is dropped, as it was never missed.
pub fn walk(
    conn: &mut DbConnection,
    tasks: &[TaskRow],
    (start, end): (NaiveDateTime, NaiveDateTime),
    judge: Judge,
    walker: &mut impl Walker,
) -> Result<(), AppError> {
    let end = end.min(judge.now_local);
    // Two hundred tasks at a time: their occurrences of the period are
    // worked out first, then only those occurrences' records are read (a
    // month of a year's records, not every record since the month began).
    for chunk in tasks.chunks(200) {
        let ids: Vec<Id> = chunk.iter().map(|t| t.id).collect();
        let units: Vec<Id> = chunk.iter().map(|t| t.unit_id).collect();
        let pauses = store::pauses_of(conn, &units)?;
        let by_id: HashMap<Id, &TaskRow> = chunk.iter().map(|t| (t.id, t)).collect();
        let since = utc_of(judge.tz, start);
        for record in store::found_since(conn, &ids, since)? {
            if let Some(task) = by_id.get(&record.task_id) {
                walker.record(task, &record);
            }
        }
        let mut planned = Vec::with_capacity(chunk.len());
        for task in chunk {
            let schedule = schedule_of(task)?;
            let of_unit: Vec<&PauseRow> = pauses
                .iter()
                .filter(|p| p.unit_id == task.unit_id)
                .collect();
            let pauses = pause_set(&of_unit)?;
            let retired = task.retired_at.map(|at| local(judge.tz, at));
            let until = retired.map_or(end, |r| r.min(end));
            let occurrences: Vec<Occurrence> = schedule
                .occurrences(start, until, judge.calendar, &pauses)
                .collect();
            planned.push((task, retired, occurrences));
        }
        let ranges: Vec<(Id, i64, i64)> = planned
            .iter()
            .filter_map(|(task, _, occurrences)| {
                let first = i64::from(occurrences.first()?.id);
                let last = i64::from(occurrences.last()?.id);
                Some((task.id, first, last))
            })
            .collect();
        // When each occurrence was checked, a slot per occurrence of the
        // task's range (sized by the schedule, never by what is read).
        let mut slots: Vec<Vec<Option<NaiveDateTime>>> = planned
            .iter()
            .map(
                |(_, _, occurrences)| match (occurrences.first(), occurrences.last()) {
                    // Ids skip the days a schedule leaves out: slots run first
                    // to last.
                    (Some(first), Some(last)) => {
                        let span = i64::from(last.id) - i64::from(first.id) + 1;
                        vec![None; usize::try_from(span).unwrap_or(0)]
                    }
                    _ => Vec::new(),
                },
            )
            .collect();
        let place: HashMap<Id, usize> = planned
            .iter()
            .enumerate()
            .map(|(i, (task, _, _))| (task.id, i))
            .collect();
        let firsts: Vec<i64> = planned
            .iter()
            .map(|(_, _, o)| o.first().map_or(0, |o| i64::from(o.id)))
            .collect();
        for (task, occurrence, at) in store::checked_in(conn, &ranges)? {
            let Some(&i) = place.get(&task) else {
                continue;
            };
            let slot = usize::try_from(occurrence - firsts[i])
                .ok()
                .and_then(|k| slots[i].get_mut(k));
            if let Some(slot) = slot {
                *slot = Some(local(judge.tz, at));
            }
        }
        for (i, (task, retired, occurrences)) in planned.into_iter().enumerate() {
            let judged_at = retired.map_or(judge.now_local, |r| r.min(judge.now_local));
            for occurrence in &occurrences {
                let at: Vec<NaiveDateTime> = usize::try_from(i64::from(occurrence.id) - firsts[i])
                    .ok()
                    .and_then(|k| slots[i].get(k).copied().flatten())
                    .into_iter()
                    .collect();
                let status = occurrence.status(&at, judged_at, judge.tolerance);
                if retired.is_some() && matches!(status, Status::Due | Status::Upcoming) {
                    continue;
                }
                walker.occurrence(task, occurrence, status);
            }
        }
    }
    Ok(())
}
