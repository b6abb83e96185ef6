//! The occurrences of stored check tasks: a task's schedule as stored,
//! the pauses of its unit as a set, park-local and UTC times, and the
//! occurrences missed on units of a watched level (for the escalation
//! scanner). Reads the database, imports no service that changes it, so
//! the escalation policy may use it.

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDateTime, NaiveTime, TimeDelta, TimeZone};

use crate::db::risk::{self as store, PauseRow, TaskRow};
use crate::db::tallies::{self, TallyRow};
use crate::db::{DbConnection, Id};
use crate::domain::calendar::WorkCalendar;
use crate::domain::risk::RiskLevel;
use crate::domain::schedule::{Occurrence, Pause, PauseSet, Schedule, ScheduleSpec, Status};
use crate::domain::tally::Completion;
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
/// the period's start that raised a hazard, then the occurrences of each
/// task starting within the period (up to now) counted by where they
/// stand, in one or more parts (a kept month's counts, the rest walked).
pub trait Walker {
    /// A record of the walk that raised a hazard.
    fn record(&mut self, task: &TaskRow, record: &store::FoundRecord);
    fn occurrences(&mut self, task: &TaskRow, counted: &Completion);
}

/// `2026-11`: the park-local month a wall time is in.
pub fn month_key(at: NaiveDateTime) -> String {
    format!("{:04}-{:02}", at.year(), at.month())
}

/// The whole months within `[start, end)`: key, first instant and the
/// next month's first instant.
fn whole_months(
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> Vec<(String, NaiveDateTime, NaiveDateTime)> {
    let Some(mut first) = start.date().with_day(1) else {
        return Vec::new();
    };
    if first.and_time(NaiveTime::MIN) < start {
        first = match first.checked_add_months(Months::new(1)) {
            Some(next) => next,
            None => return Vec::new(),
        };
    }
    let mut months = Vec::new();
    while let Some(next) = first.checked_add_months(Months::new(1)) {
        let (from, until) = (
            first.and_time(NaiveTime::MIN),
            next.and_time(NaiveTime::MIN),
        );
        if until > end {
            break;
        }
        months.push((month_key(from), from, until));
        first = next;
    }
    months
}

/// A task's occurrences of one month (or of the part of it within the
/// period) walked against the records.
struct Piece {
    /// The task's place in its chunk.
    task: usize,
    month: String,
    /// The whole month lies within the period: its counts may be kept.
    whole: bool,
    occurrences: Vec<Occurrence>,
    /// When each occurrence was checked, first to last (ids skip the days
    /// a schedule leaves out: slots run first to last, sized by the
    /// schedule, never by what is read).
    slots: Vec<Option<NaiveDateTime>>,
}

impl Piece {
    fn first(&self) -> i64 {
        self.occurrences.first().map_or(0, |o| i64::from(o.id))
    }

    fn last(&self) -> i64 {
        self.occurrences.last().map_or(-1, |o| i64::from(o.id))
    }
}

/// Walks the occurrences of `tasks` starting in `[start, end)` (park-local),
/// a few hundred tasks at a time so memory follows the tasks, not the
/// records. A retired task plans nothing from its retirement on: an
/// occurrence still running (or not begun) when it was retired, and not
/// recorded, is dropped, as it was never missed.
///
/// A whole month of a task whose occurrences are all settled is counted
/// once and kept (`db::tallies`): later walks read its counts while
/// nothing it depends on moved — no record of the month since (a record
/// moves its month's generation), the same time zone, tolerance and
/// calendar, the same pauses of the unit and the same retirement. Counts
/// are kept only outside a caller's transaction (a read-only snapshot
/// cannot write); inside one, kept counts are still read.
pub fn walk(
    conn: &mut DbConnection,
    tasks: &[TaskRow],
    (start, end): (NaiveDateTime, NaiveDateTime),
    judge: Judge,
    walker: &mut impl Walker,
) -> Result<(), AppError> {
    let end = end.min(judge.now_local);
    let months = whole_months(start, end);
    let keys: Vec<String> = months.iter().map(|(key, _, _)| key.clone()).collect();
    let may_keep = !keys.is_empty() && !crate::db::in_transaction(conn);
    let settings = format!(
        "{}|{}|{}",
        judge.tz,
        judge.tolerance.num_seconds(),
        judge.calendar.fingerprint()
    );
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
        let kept: HashMap<(Id, String), TallyRow> = tallies::of(conn, &ids, &keys)?
            .into_iter()
            .map(|row| ((row.task_id, row.month.clone()), row))
            .collect();
        let mut pieces: Vec<Piece> = Vec::new();
        let mut bases: Vec<(Option<NaiveDateTime>, String)> = Vec::with_capacity(chunk.len());
        for (t, task) in chunk.iter().enumerate() {
            let schedule = schedule_of(task)?;
            let of_unit: Vec<&PauseRow> = pauses
                .iter()
                .filter(|p| p.unit_id == task.unit_id)
                .collect();
            let pause_set = pause_set(&of_unit)?;
            let retired = task.retired_at.map(|at| local(judge.tz, at));
            let until = retired.map_or(end, |r| r.min(end));
            let basis = format!(
                "{settings}|{}|{}",
                of_unit
                    .iter()
                    .map(|p| p.id.uuid())
                    .max()
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                task.retired_at.map(|at| at.to_string()).unwrap_or_default()
            );
            // Kept months are counted as kept; the rest is walked.
            let mut spans = Vec::new();
            let mut from = start;
            for (key, first, next) in &months {
                let Some(row) = kept.get(&(task.id, key.clone())) else {
                    continue;
                };
                if row.basis.as_deref() != Some(basis.as_str()) {
                    continue;
                }
                walker.occurrences(task, &counted_of(row));
                if from < *first {
                    spans.push((from, (*first).min(until)));
                }
                from = *next;
            }
            spans.push((from, until));
            for (from, until) in spans {
                if from >= until {
                    continue;
                }
                for occurrence in schedule.occurrences(from, until, judge.calendar, &pause_set) {
                    let month = month_key(occurrence.start);
                    match pieces.last_mut() {
                        Some(piece) if piece.task == t && piece.month == month => {
                            piece.occurrences.push(occurrence);
                        }
                        _ => pieces.push(Piece {
                            task: t,
                            whole: keys.contains(&month),
                            month,
                            occurrences: vec![occurrence],
                            slots: Vec::new(),
                        }),
                    }
                }
            }
            bases.push((retired, basis));
        }
        for piece in &mut pieces {
            let span = piece.last() - piece.first() + 1;
            piece.slots = vec![None; usize::try_from(span).unwrap_or(0)];
        }
        let ranges: Vec<(Id, i64, i64)> = pieces
            .iter()
            .map(|p| (chunk[p.task].id, p.first(), p.last()))
            .collect();
        let mut of_task: HashMap<Id, Vec<usize>> = HashMap::new();
        for (i, piece) in pieces.iter().enumerate() {
            of_task.entry(chunk[piece.task].id).or_default().push(i);
        }
        for (task, occurrence, at) in store::checked_in(conn, &ranges)? {
            let Some(place) = of_task.get(&task) else {
                continue;
            };
            let Some(&i) = place
                .iter()
                .find(|&&i| (pieces[i].first()..=pieces[i].last()).contains(&occurrence))
            else {
                continue;
            };
            let first = pieces[i].first();
            let slot = usize::try_from(occurrence - first)
                .ok()
                .and_then(|k| pieces[i].slots.get_mut(k));
            if let Some(slot) = slot {
                *slot = Some(local(judge.tz, at));
            }
        }
        let mut keep = Vec::new();
        for piece in &pieces {
            let task = &chunk[piece.task];
            let (retired, basis) = &bases[piece.task];
            let judged_at = retired.map_or(judge.now_local, |r| r.min(judge.now_local));
            let mut counted = Completion::default();
            let mut settled = true;
            for occurrence in &piece.occurrences {
                let at: Vec<NaiveDateTime> =
                    usize::try_from(i64::from(occurrence.id) - piece.first())
                        .ok()
                        .and_then(|k| piece.slots.get(k).copied().flatten())
                        .into_iter()
                        .collect();
                let status = occurrence.status(&at, judged_at, judge.tolerance);
                if matches!(status, Status::Due | Status::Upcoming) {
                    settled = false;
                    if retired.is_some() {
                        continue;
                    }
                }
                counted.count(status);
            }
            walker.occurrences(task, &counted);
            if may_keep && piece.whole && settled {
                let read = kept.get(&(task.id, piece.month.clone()));
                keep.push((
                    tally_of(task.id, &piece.month, basis, &counted),
                    read.map(|row| row.generation),
                ));
            }
        }
        tallies::keep(conn, &keep)?;
    }
    Ok(())
}

/// A kept month's counts.
fn counted_of(row: &TallyRow) -> Completion {
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    let mut counted = Completion {
        paused: n(row.paused),
        done_on_time: n(row.done_on_time),
        done_late: n(row.done_late),
        missed: n(row.missed),
        ..Completion::default()
    };
    counted.planned = counted.paused + counted.done_on_time + counted.done_late + counted.missed;
    counted
}

/// A month's counts to keep (read at no generation yet: 0).
fn tally_of(task: Id, month: &str, basis: &str, counted: &Completion) -> TallyRow {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    TallyRow {
        task_id: task,
        month: month.to_owned(),
        generation: 0,
        basis: Some(basis.to_owned()),
        paused: n(counted.paused),
        done_on_time: n(counted.done_on_time),
        done_late: n(counted.done_late),
        missed: n(counted.missed),
    }
}
