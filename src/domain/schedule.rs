//! Check-task schedules (隐患排查任务的排查周期) of the dual prevention
//! mechanism (双重预防机制), and their occurrences.
//!
//! This module owns the schedule arithmetic: when each occurrence of a check
//! task starts and ends, which occurrences a pause (停用/检修) suspends,
//! and what state an occurrence is in given the records made for it. It
//! stores nothing and reads no clock: callers pass "now", the records, the
//! pauses and the [`WorkCalendar`].
//!
//! # Time
//!
//! Every time here is a park-local wall-clock [`NaiveDateTime`]: callers
//! convert stored UTC instants with the park's time zone
//! (`crate::clock::Now`) before asking, and back after. Hourly cycles count
//! wall-clock hours. China Standard Time has had no daylight saving time
//! since 1991, so every local day has 24 hours; in a zone with DST an
//! hourly cycle would still step the wall clock, so an occurrence could fall
//! in a skipped hour, and a repeated hour would hold one occurrence, not two.
//!
//! # Occurrences
//!
//! A schedule's slots are anchored to its start: slot `k` (k = 0, 1, 2, …)
//! starts at `starts + k·every unit`, computed directly from the anchor
//! (never by stepping from the previous slot and never from when the last
//! check was done), and ends where slot `k + 1` starts. An occurrence is a
//! slot that the schedule's window and day rule admit; it must be checked
//! within `[start, end)`. Its [`OccurrenceId`] is `k`, stable for as long as
//! the anchor and the cycle stay the same, so records can be stored against
//! it without storing future occurrences.
//!
//! - **Months and years** keep the anchor's day, clamped to the month's
//!   last day: a monthly task from 31 January runs on 28 (or 29) February,
//!   then 31 March, never drifting to the 28th. A yearly task from 29
//!   February runs on 28 February in common years and on 29 February in
//!   leap years (2100 is a common year).
//! - **Windows** (hourly cycles only): an occurrence starts only at a slot
//!   whose time of day lies in `[from, until)`. A window whose `until` is
//!   not after its `from` wraps midnight: 20:00–08:00 admits 20:00 to 23:59
//!   and 00:00 to 07:59. A window that no slot of the cycle can ever start
//!   in is refused. The occurrence still ends at the next slot, in the
//!   window or not.
//! - **Day rules** (hourly and daily cycles only): working days or
//!   non-working days, judged by the [`WorkCalendar`] on the park-local
//!   date of the occurrence's start (an occurrence at 02:00 on a Saturday
//!   belongs to Saturday, even in a night shift that began on Friday). A
//!   skipped slot is not moved to another day: a Friday's daily occurrence
//!   still ends at Saturday's slot. Monthly and yearly cycles refuse a day
//!   rule, since their interval spans many days: skipping a whole month
//!   because its first day is a holiday would leave a month unchecked.
//! - **Pauses**: an occurrence is paused when the pauses of its task,
//!   merged, cover its whole interval `[start, end)`. Maintenance from 10:00
//!   to 14:00 does not pause a daily check (it can be done outside those
//!   hours); a shutdown spanning the whole day does. A pause may be open
//!   (no end yet).
//!
//! # Status
//!
//! Given the times at which records were made for an occurrence, "now" and
//! a tolerance (like `records.backdate_tolerance_minutes`); records made
//! before the occurrence's start or after now do not count:
//!
//! 1. a record in `[start, end + tolerance)`: [`Status::Done`] (paused or not);
//! 2. else paused: [`Status::Paused`];
//! 3. else `now < start`: [`Status::Upcoming`];
//! 4. else a record at or after `end + tolerance`: [`Status::DoneLate`];
//! 5. else `now < end + tolerance`: [`Status::Due`] (past `end` but within
//!    the tolerance a record still counts as on time);
//! 6. else [`Status::Missed`].
//!
//! # Bounds
//!
//! Finding the slot at or after a time is arithmetic (an integer division of
//! the elapsed time, or of the elapsed months, then at most three checks),
//! however far from the anchor. Listing and counting take a range
//! `[from, until)` of start times and stop at its end; listing also stops at
//! a cap. Their cost is the number of slots in the range, skipped or not
//! (8,760 a year for an hourly task).

use std::fmt;

use chrono::{Datelike, Months, NaiveDateTime, NaiveTime, TimeDelta};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::calendar::WorkCalendar;

/// The unit of a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Hour,
    Day,
    Month,
    Year,
}

impl Unit {
    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::Hour => "hour",
            Unit::Day => "day",
            Unit::Month => "month",
            Unit::Year => "year",
        }
    }

    /// The largest `every` a cycle of this unit takes: a hundred years.
    pub const fn max_every(self) -> u32 {
        match self {
            Unit::Hour => 876_600,
            Unit::Day => 36_525,
            Unit::Month => 1_200,
            Unit::Year => 100,
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every `every` units, `every` between 1 and [`Unit::max_every`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cycle {
    every: u32,
    unit: Unit,
}

impl Cycle {
    pub fn new(every: u32, unit: Unit) -> Result<Self, ScheduleError> {
        if every == 0 || every > unit.max_every() {
            return Err(ScheduleError::EveryOutOfRange { every, unit });
        }
        Ok(Cycle { every, unit })
    }

    pub const fn every(self) -> u32 {
        self.every
    }

    pub const fn unit(self) -> Unit {
        self.unit
    }

    /// The length of a slot, for hours and days.
    fn fixed_seconds(self) -> Option<i64> {
        match self.unit {
            Unit::Hour => Some(i64::from(self.every) * 3_600),
            Unit::Day => Some(i64::from(self.every) * 86_400),
            Unit::Month | Unit::Year => None,
        }
    }

    /// The months of a slot, for months and years.
    fn months(self) -> Option<u32> {
        match self.unit {
            Unit::Hour | Unit::Day => None,
            Unit::Month => Some(self.every),
            Unit::Year => Some(self.every * 12),
        }
    }
}

/// A time-of-day window `[from, until)`; wraps midnight when `until` is not
/// after `from` (20:00–08:00 is a night shift). `from == until` is refused:
/// a task with no window runs around the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "WindowSpec", into = "WindowSpec")]
pub struct TimeWindow {
    from: NaiveTime,
    until: NaiveTime,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowSpec {
    #[serde(deserialize_with = "wall_time::time")]
    from: NaiveTime,
    #[serde(deserialize_with = "wall_time::time")]
    until: NaiveTime,
}

impl TryFrom<WindowSpec> for TimeWindow {
    type Error = ScheduleError;
    fn try_from(spec: WindowSpec) -> Result<Self, ScheduleError> {
        TimeWindow::new(spec.from, spec.until)
    }
}

impl From<TimeWindow> for WindowSpec {
    fn from(window: TimeWindow) -> Self {
        WindowSpec {
            from: window.from,
            until: window.until,
        }
    }
}

impl TimeWindow {
    pub fn new(from: NaiveTime, until: NaiveTime) -> Result<Self, ScheduleError> {
        if from == until {
            return Err(ScheduleError::EmptyWindow);
        }
        Ok(TimeWindow { from, until })
    }

    pub const fn from(self) -> NaiveTime {
        self.from
    }

    pub const fn until(self) -> NaiveTime {
        self.until
    }

    pub fn wraps_midnight(self) -> bool {
        self.until < self.from
    }

    /// Whether an occurrence may start at this time of day.
    pub fn contains(self, time: NaiveTime) -> bool {
        if self.wraps_midnight() {
            time >= self.from || time < self.until
        } else {
            self.from <= time && time < self.until
        }
    }
}

/// On which days a task occurs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayRule {
    #[default]
    EveryDay,
    /// Working days of the [`WorkCalendar`], make-up working days included.
    WorkingDays,
    /// Weekends and holidays of the [`WorkCalendar`].
    NonWorkingDays,
}

impl DayRule {
    pub const fn as_str(self) -> &'static str {
        match self {
            DayRule::EveryDay => "every_day",
            DayRule::WorkingDays => "working_days",
            DayRule::NonWorkingDays => "non_working_days",
        }
    }
}

/// Why a schedule or a pause was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScheduleError {
    #[error("every {every} {unit}: every must be between 1 and {}", unit.max_every())]
    EveryOutOfRange { every: u32, unit: Unit },
    #[error("a window must not begin and end at the same time; leave it out for a task around the clock")]
    EmptyWindow,
    #[error("a time-of-day window applies to hourly cycles only, not to a cycle in {0}s")]
    WindowNeedsHours(Unit),
    #[error("no occurrence of this cycle ever starts inside the window")]
    WindowNeverReached,
    #[error("{} applies to hourly and daily cycles only: a cycle in {unit}s spans many days", rule.as_str())]
    DayRuleNeedsHoursOrDays { rule: DayRule, unit: Unit },
    #[error("a pause must end after it begins (from {from}, until {until})")]
    PauseEndsBeforeItBegins {
        from: NaiveDateTime,
        until: NaiveDateTime,
    },
}

/// A schedule as a client sends it or a row holds it, before its checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    pub every: u32,
    pub unit: Unit,
    /// The anchor, park-local: the first slot starts here.
    #[serde(deserialize_with = "wall_time::date_time")]
    pub starts: NaiveDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<TimeWindow>,
    /// Absent or null: every day.
    #[serde(default, deserialize_with = "day_rule_or_every_day")]
    pub days: DayRule,
}

fn day_rule_or_every_day<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DayRule, D::Error> {
    Ok(Option::<DayRule>::deserialize(d)?.unwrap_or_default())
}

/// A check task's schedule, checked: see the module docs for its rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ScheduleSpec", into = "ScheduleSpec")]
pub struct Schedule {
    cycle: Cycle,
    starts: NaiveDateTime,
    window: Option<TimeWindow>,
    days: DayRule,
}

impl TryFrom<ScheduleSpec> for Schedule {
    type Error = ScheduleError;
    fn try_from(spec: ScheduleSpec) -> Result<Self, ScheduleError> {
        Schedule::new(
            Cycle::new(spec.every, spec.unit)?,
            spec.starts,
            spec.window,
            spec.days,
        )
    }
}

impl From<Schedule> for ScheduleSpec {
    fn from(schedule: Schedule) -> Self {
        ScheduleSpec {
            every: schedule.cycle.every,
            unit: schedule.cycle.unit,
            starts: schedule.starts,
            window: schedule.window,
            days: schedule.days,
        }
    }
}

/// The index `k` of a slot: slot `k` starts at `starts + k·every unit`.
/// Stable while the schedule's anchor and cycle stay the same; a changed
/// anchor or cycle is a new schedule, whose indexes mean other times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OccurrenceId(pub u32);

impl OccurrenceId {
    pub const fn index(self) -> u32 {
        self.0
    }
}

impl From<OccurrenceId> for i64 {
    fn from(id: OccurrenceId) -> i64 {
        i64::from(id.0)
    }
}

impl TryFrom<i64> for OccurrenceId {
    type Error = std::num::TryFromIntError;
    fn try_from(index: i64) -> Result<Self, Self::Error> {
        u32::try_from(index).map(OccurrenceId)
    }
}

impl fmt::Display for OccurrenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One occurrence: to be checked within `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    pub id: OccurrenceId,
    pub start: NaiveDateTime,
    /// Where the next slot starts.
    pub end: NaiveDateTime,
    /// Whether the task's pauses cover the whole interval.
    pub paused: bool,
}

/// Where an occurrence stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Starts after now.
    Upcoming,
    /// Open, not yet recorded: a record now counts as on time.
    Due,
    /// First recorded at `at`, before `end + tolerance`.
    Done { at: NaiveDateTime },
    /// First recorded at `at`, at or after `end + tolerance`.
    DoneLate { at: NaiveDateTime },
    /// Not recorded, and `end + tolerance` has passed.
    Missed,
    /// The task was paused for the whole interval.
    Paused,
}

impl Occurrence {
    /// `end + tolerance`: a record from then on is late. A negative
    /// tolerance counts as none.
    pub fn deadline(&self, tolerance: TimeDelta) -> NaiveDateTime {
        self.end
            .checked_add_signed(tolerance.max(TimeDelta::zero()))
            .unwrap_or(NaiveDateTime::MAX)
    }

    /// The occurrence's status given the times records were made for it
    /// (in any order), now and the tolerance; the rules are in the module
    /// docs.
    pub fn status(
        &self,
        records: &[NaiveDateTime],
        now: NaiveDateTime,
        tolerance: TimeDelta,
    ) -> Status {
        let deadline = self.deadline(tolerance);
        let counted = || {
            records
                .iter()
                .copied()
                .filter(move |at| self.start <= *at && *at <= now)
        };
        if let Some(at) = counted().filter(|at| *at < deadline).min() {
            return Status::Done { at };
        }
        if self.paused {
            return Status::Paused;
        }
        if now < self.start {
            return Status::Upcoming;
        }
        if let Some(at) = counted().filter(|at| *at >= deadline).min() {
            return Status::DoneLate { at };
        }
        if now < deadline {
            Status::Due
        } else {
            Status::Missed
        }
    }
}

/// A shutdown or maintenance of the unit a task checks (停用/检修).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub from: NaiveDateTime,
    /// `None` while the pause has no end yet.
    pub until: Option<NaiveDateTime>,
    pub reason: String,
}

/// A task's pauses merged into disjoint spans, to ask whether they cover an
/// interval.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PauseSet {
    /// Sorted, disjoint and not touching; an open span can only be last.
    spans: Vec<(NaiveDateTime, Option<NaiveDateTime>)>,
}

impl PauseSet {
    /// Merges the pauses; overlapping and touching ones join. Refuses a
    /// pause that does not end after it begins.
    pub fn new<'a>(pauses: impl IntoIterator<Item = &'a Pause>) -> Result<Self, ScheduleError> {
        let mut spans = Vec::new();
        for pause in pauses {
            if let Some(until) = pause.until {
                if until <= pause.from {
                    return Err(ScheduleError::PauseEndsBeforeItBegins {
                        from: pause.from,
                        until,
                    });
                }
            }
            spans.push((pause.from, pause.until));
        }
        spans.sort_by_key(|span| span.0);
        let mut merged: Vec<(NaiveDateTime, Option<NaiveDateTime>)> =
            Vec::with_capacity(spans.len());
        for (from, until) in spans {
            if let Some(last) = merged.last_mut() {
                match last.1 {
                    // An open pause covers everything after it.
                    None => continue,
                    Some(last_until) if from <= last_until => {
                        last.1 = until.map(|until| until.max(last_until));
                        continue;
                    }
                    Some(_) => {}
                }
            }
            merged.push((from, until));
        }
        Ok(PauseSet { spans: merged })
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Whether the pauses cover all of `[start, end)`.
    pub fn covers(&self, start: NaiveDateTime, end: NaiveDateTime) -> bool {
        // Merged spans neither overlap nor touch, so one span covers the
        // interval or none does: the last one beginning at or before start.
        let after = self.spans.partition_point(|(from, _)| *from <= start);
        after
            .checked_sub(1)
            .and_then(|i| self.spans.get(i))
            .is_some_and(|(_, until)| until.is_none_or(|until| until >= end))
    }
}

/// Occurrences listed up to a cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    pub occurrences: Vec<Occurrence>,
    /// Whether the range holds more occurrences than the cap let through.
    pub truncated: bool,
}

/// How many occurrences start in a range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// All occurrences the schedule plans, paused ones included.
    pub planned: u64,
    /// Of those, the paused ones.
    pub paused: u64,
}

impl Counts {
    /// The occurrences to be checked: planned, less paused.
    pub fn to_check(self) -> u64 {
        self.planned - self.paused
    }
}

impl Schedule {
    /// A schedule, checked: a window only on an hourly cycle, and one that
    /// some slot can start in; a day rule only on an hourly or daily cycle.
    pub fn new(
        cycle: Cycle,
        starts: NaiveDateTime,
        window: Option<TimeWindow>,
        days: DayRule,
    ) -> Result<Self, ScheduleError> {
        if let Some(window) = window {
            if cycle.unit != Unit::Hour {
                return Err(ScheduleError::WindowNeedsHours(cycle.unit));
            }
            if !window_reached(starts.time(), cycle.every, window) {
                return Err(ScheduleError::WindowNeverReached);
            }
        }
        if days != DayRule::EveryDay && matches!(cycle.unit, Unit::Month | Unit::Year) {
            return Err(ScheduleError::DayRuleNeedsHoursOrDays {
                rule: days,
                unit: cycle.unit,
            });
        }
        Ok(Schedule {
            cycle,
            starts,
            window,
            days,
        })
    }

    pub const fn cycle(&self) -> Cycle {
        self.cycle
    }

    pub const fn starts(&self) -> NaiveDateTime {
        self.starts
    }

    pub const fn window(&self) -> Option<TimeWindow> {
        self.window
    }

    pub const fn days(&self) -> DayRule {
        self.days
    }

    /// Where slot `id` starts: `starts + k·every unit`, from the anchor;
    /// `None` past the last date chrono represents.
    pub fn slot_start(&self, id: OccurrenceId) -> Option<NaiveDateTime> {
        let k = id.0;
        match self.cycle.unit {
            Unit::Hour => self.starts.checked_add_signed(TimeDelta::try_hours(
                i64::from(self.cycle.every) * i64::from(k),
            )?),
            Unit::Day => self.starts.checked_add_signed(TimeDelta::try_days(
                i64::from(self.cycle.every) * i64::from(k),
            )?),
            Unit::Month | Unit::Year => {
                let months = self.cycle.months()?.checked_mul(k)?;
                self.starts.checked_add_months(Months::new(months))
            }
        }
    }

    /// The first slot starting at or after `at`, found arithmetically
    /// however far `at` lies from the anchor (window and day rule aside).
    pub fn slot_at_or_after(&self, at: NaiveDateTime) -> Option<OccurrenceId> {
        if at <= self.starts {
            return Some(OccurrenceId(0));
        }
        // An estimate at or just below the answer: the answer is it, or one
        // or two slots after it.
        let estimate = if let Some(seconds) = self.cycle.fixed_seconds() {
            (at - self.starts).num_seconds() / seconds
        } else {
            let months = i64::from(self.cycle.months()?);
            let elapsed = i64::from(at.year() - self.starts.year()) * 12 + i64::from(at.month0())
                - i64::from(self.starts.month0());
            (elapsed / months - 1).max(0)
        };
        let mut k = u32::try_from(estimate).ok()?;
        for _ in 0..3 {
            if self.slot_start(OccurrenceId(k))? >= at {
                return Some(OccurrenceId(k));
            }
            k = k.checked_add(1)?;
        }
        None
    }

    /// The slot whose interval holds `at`: the last one starting at or
    /// before it. `None` before the anchor.
    pub fn slot_containing(&self, at: NaiveDateTime) -> Option<OccurrenceId> {
        if at < self.starts {
            return None;
        }
        let next = self.slot_at_or_after(at)?;
        if self.slot_start(next)? == at {
            Some(next)
        } else {
            next.0.checked_sub(1).map(OccurrenceId)
        }
    }

    /// Occurrence `id`, or `None` if the window or the day rule skips that
    /// slot (or it lies past the last date chrono represents).
    pub fn occurrence(
        &self,
        id: OccurrenceId,
        calendar: &WorkCalendar,
        pauses: &PauseSet,
    ) -> Option<Occurrence> {
        let start = self.slot_start(id)?;
        if !self.admits(start, calendar) {
            return None;
        }
        let end = self.slot_start(OccurrenceId(id.0.checked_add(1)?))?;
        Some(Occurrence {
            id,
            start,
            end,
            paused: pauses.covers(start, end),
        })
    }

    /// The occurrences starting in `[from, until)`, in order, lazily.
    pub fn occurrences<'a>(
        &'a self,
        from: NaiveDateTime,
        until: NaiveDateTime,
        calendar: &'a WorkCalendar,
        pauses: &'a PauseSet,
    ) -> Occurrences<'a> {
        let next = self
            .slot_at_or_after(from)
            .and_then(|id| Some((id.0, self.slot_start(id)?)));
        Occurrences {
            schedule: self,
            calendar,
            pauses,
            next,
            until,
        }
    }

    /// The first occurrence starting in `[at, before)`.
    pub fn first_at_or_after(
        &self,
        at: NaiveDateTime,
        before: NaiveDateTime,
        calendar: &WorkCalendar,
        pauses: &PauseSet,
    ) -> Option<Occurrence> {
        self.occurrences(at, before, calendar, pauses).next()
    }

    /// At most `cap` occurrences starting in `[from, until)`, and whether
    /// the range holds more.
    pub fn list(
        &self,
        from: NaiveDateTime,
        until: NaiveDateTime,
        calendar: &WorkCalendar,
        pauses: &PauseSet,
        cap: usize,
    ) -> Listing {
        let mut all = self.occurrences(from, until, calendar, pauses);
        let occurrences: Vec<Occurrence> = all.by_ref().take(cap).collect();
        Listing {
            occurrences,
            truncated: all.next().is_some(),
        }
    }

    /// How many occurrences start in `[from, until)`, and how many of them
    /// are paused, without collecting them.
    pub fn count(
        &self,
        from: NaiveDateTime,
        until: NaiveDateTime,
        calendar: &WorkCalendar,
        pauses: &PauseSet,
    ) -> Counts {
        self.occurrences(from, until, calendar, pauses).fold(
            Counts::default(),
            |mut counts, occurrence| {
                counts.planned += 1;
                counts.paused += u64::from(occurrence.paused);
                counts
            },
        )
    }

    /// Whether the window and the day rule let an occurrence start here.
    fn admits(&self, start: NaiveDateTime, calendar: &WorkCalendar) -> bool {
        let in_window = self
            .window
            .is_none_or(|window| window.contains(start.time()));
        in_window
            && match self.days {
                DayRule::EveryDay => true,
                DayRule::WorkingDays => calendar.is_working_day(start.date()),
                DayRule::NonWorkingDays => !calendar.is_working_day(start.date()),
            }
    }
}

/// Whether some slot of an hourly cycle starting at `start` begins inside
/// the window: the slots' times of day repeat within 24 slots.
fn window_reached(start: NaiveTime, every_hours: u32, window: TimeWindow) -> bool {
    let step = every_hours % 24;
    (0..24u32).any(|j| {
        let hours = i64::from(j * step % 24);
        let (time, _) = start.overflowing_add_signed(TimeDelta::hours(hours));
        window.contains(time)
    })
}

/// The occurrences of a range; see [`Schedule::occurrences`].
#[derive(Debug, Clone)]
pub struct Occurrences<'a> {
    schedule: &'a Schedule,
    calendar: &'a WorkCalendar,
    pauses: &'a PauseSet,
    /// The next slot to look at and its start.
    next: Option<(u32, NaiveDateTime)>,
    until: NaiveDateTime,
}

impl Iterator for Occurrences<'_> {
    type Item = Occurrence;

    fn next(&mut self) -> Option<Occurrence> {
        // Each turn moves to a later slot, so the loop ends by `until`.
        loop {
            let (k, start) = self.next.take()?;
            if start >= self.until {
                return None;
            }
            let following = k.checked_add(1)?;
            let end = self.schedule.slot_start(OccurrenceId(following))?;
            self.next = Some((following, end));
            if self.schedule.admits(start, self.calendar) {
                return Some(Occurrence {
                    id: OccurrenceId(k),
                    start,
                    end,
                    paused: self.pauses.covers(start, end),
                });
            }
        }
    }
}

/// Park-local wall times as the API writes them, read strictly: a date and
/// time `2026-12-01T08:00:00` and a time of day `08:00:00`, to the second,
/// with no offset and nothing else (what the OpenAPI document's patterns
/// say, so that nothing the document refuses is accepted).
pub mod wall_time {
    use chrono::{NaiveDateTime, NaiveTime};
    use serde::{de, Deserialize, Deserializer};

    /// Whether `text` is digits where `shape` has `9` and the same byte
    /// elsewhere.
    fn shaped(text: &str, shape: &str) -> bool {
        text.len() == shape.len()
            && text.bytes().zip(shape.bytes()).all(|(t, s)| {
                if s == b'9' {
                    t.is_ascii_digit()
                } else {
                    t == s
                }
            })
    }

    pub fn parse_date_time(text: &str) -> Option<NaiveDateTime> {
        shaped(text, "9999-99-99T99:99:99")
            .then(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").ok())
            .flatten()
    }

    pub fn parse_time(text: &str) -> Option<NaiveTime> {
        shaped(text, "99:99:99")
            .then(|| NaiveTime::parse_from_str(text, "%H:%M:%S").ok())
            .flatten()
    }

    pub fn date_time<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        let text = String::deserialize(d)?;
        parse_date_time(&text).ok_or_else(|| {
            de::Error::custom(format!(
                "{text:?} is not a park-local date and time like 2026-12-01T08:00:00"
            ))
        })
    }

    pub fn optional_date_time<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<NaiveDateTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => parse_date_time(&text).map(Some).ok_or_else(|| {
                de::Error::custom(format!(
                    "{text:?} is not a park-local date and time like 2026-12-01T08:00:00"
                ))
            }),
        }
    }

    pub fn time<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(d)?;
        parse_time(&text).ok_or_else(|| {
            de::Error::custom(format!("{text:?} is not a time of day like 08:00:00"))
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn only_the_documented_shapes_are_read() {
            assert!(parse_date_time("2026-12-01T08:00:00").is_some());
            for refused in [
                "2026-12-01T08:00",
                "2026-12-01T08:00:00Z",
                "2026-12-01T08:00:00.5",
                "+2026-12-01T08:00:00",
                "2026-13-01T08:00:00",
                "2026-12-01 08:00:00",
            ] {
                assert!(parse_date_time(refused).is_none(), "{refused}");
            }
            assert!(parse_time("23:59:59").is_some());
            assert!(parse_time("24:00:00").is_none());
            assert!(parse_time("8:00:00").is_none());
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    fn hm(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap()
    }

    fn every(n: u32, unit: Unit, starts: &str) -> Schedule {
        Schedule::new(
            Cycle::new(n, unit).unwrap(),
            at(starts),
            None,
            DayRule::EveryDay,
        )
        .unwrap()
    }

    fn windowed(n: u32, starts: &str, from: &str, until: &str, days: DayRule) -> Schedule {
        let window = TimeWindow::new(hm(from), hm(until)).unwrap();
        Schedule::new(
            Cycle::new(n, Unit::Hour).unwrap(),
            at(starts),
            Some(window),
            days,
        )
        .unwrap()
    }

    fn daily_on(days: DayRule, starts: &str) -> Schedule {
        Schedule::new(Cycle::new(1, Unit::Day).unwrap(), at(starts), None, days).unwrap()
    }

    fn calendar() -> &'static WorkCalendar {
        WorkCalendar::shipped().unwrap()
    }

    fn none() -> PauseSet {
        PauseSet::default()
    }

    fn starts(schedule: &Schedule, from: &str, until: &str) -> Vec<String> {
        schedule
            .occurrences(at(from), at(until), calendar(), &none())
            .map(|o| o.start.format("%Y-%m-%d %H:%M").to_string())
            .collect()
    }

    fn slot(schedule: &Schedule, k: u32) -> NaiveDateTime {
        schedule.slot_start(OccurrenceId(k)).unwrap()
    }

    fn pause(from: &str, until: Option<&str>) -> Pause {
        Pause {
            from: at(from),
            until: until.map(at),
            reason: "检修".to_owned(),
        }
    }

    #[test]
    fn a_monthly_task_on_the_31st_clamps_and_returns_to_the_31st() {
        let monthly = every(1, Unit::Month, "2025-01-31 08:00");
        let days: Vec<String> = (0..14)
            .map(|k| slot(&monthly, k).format("%m-%d").to_string())
            .collect();
        assert_eq!(
            days,
            [
                "01-31", "02-28", "03-31", "04-30", "05-31", "06-30", "07-31", "08-31", "09-30",
                "10-31", "11-30", "12-31", "01-31", "02-28"
            ]
        );
        assert_eq!(slot(&monthly, 13), at("2026-02-28 08:00"));
        // February's occurrence runs until March's slot, the 31st.
        let feb = monthly
            .occurrence(OccurrenceId(1), calendar(), &none())
            .unwrap();
        assert_eq!(
            (feb.start, feb.end),
            (at("2025-02-28 08:00"), at("2025-03-31 08:00"))
        );
        // In a leap year, the 29th; 2100 is not one.
        let leap = every(1, Unit::Month, "2024-01-31 08:00");
        assert_eq!(slot(&leap, 1), at("2024-02-29 08:00"));
        assert_eq!(slot(&leap, 2), at("2024-03-31 08:00"));
        assert_eq!(slot(&leap, 12 * 76 + 1), at("2100-02-28 08:00"));
        assert_eq!(slot(&leap, 12 * 76 + 2), at("2100-03-31 08:00"));
        // Every two months from 31 December.
        let bimonthly = every(2, Unit::Month, "2023-12-31 00:00");
        let days: Vec<String> = (0..7)
            .map(|k| slot(&bimonthly, k).format("%Y-%m-%d").to_string())
            .collect();
        assert_eq!(
            days,
            [
                "2023-12-31",
                "2024-02-29",
                "2024-04-30",
                "2024-06-30",
                "2024-08-31",
                "2024-10-31",
                "2024-12-31"
            ]
        );
    }

    #[test]
    fn a_yearly_task_from_29_february_runs_on_the_28th_in_common_years() {
        let yearly = every(1, Unit::Year, "2024-02-29 09:00");
        let days: Vec<String> = (0..5)
            .map(|k| slot(&yearly, k).format("%Y-%m-%d").to_string())
            .collect();
        assert_eq!(
            days,
            [
                "2024-02-29",
                "2025-02-28",
                "2026-02-28",
                "2027-02-28",
                "2028-02-29"
            ]
        );
        assert_eq!(slot(&yearly, 76), at("2100-02-28 09:00"));
        assert_eq!(slot(&yearly, 80), at("2104-02-29 09:00"));
        let o = yearly
            .occurrence(OccurrenceId(1), calendar(), &none())
            .unwrap();
        assert_eq!(
            (o.start, o.end),
            (at("2025-02-28 09:00"), at("2026-02-28 09:00"))
        );
        // Every four years from a leap day stays on leap days, except 2100.
        let quadrennial = every(4, Unit::Year, "2024-02-29 09:00");
        assert_eq!(slot(&quadrennial, 1), at("2028-02-29 09:00"));
        assert_eq!(slot(&quadrennial, 19), at("2100-02-28 09:00"));
        assert_eq!(slot(&quadrennial, 20), at("2104-02-29 09:00"));
    }

    #[test]
    fn a_daily_task_steps_over_leap_days() {
        let daily = every(1, Unit::Day, "2024-02-28 07:30");
        assert_eq!(slot(&daily, 1), at("2024-02-29 07:30"));
        assert_eq!(slot(&daily, 2), at("2024-03-01 07:30"));
        let o = daily
            .first_at_or_after(
                at("2100-02-28 08:00"),
                at("2101-01-01 00:00"),
                calendar(),
                &none(),
            )
            .unwrap();
        assert_eq!(o.start, at("2100-03-01 07:30"));
        assert_eq!(o.end, at("2100-03-02 07:30"));
        assert_eq!(daily.slot_start(o.id), Some(o.start));
    }

    #[test]
    fn a_working_day_task_skips_the_2025_national_day_holidays_and_works_the_make_up_days() {
        let daily = daily_on(DayRule::WorkingDays, "2025-09-01 09:00");
        assert_eq!(
            starts(&daily, "2025-09-26 00:00", "2025-10-13 00:00"),
            [
                "2025-09-26 09:00", // Friday
                "2025-09-28 09:00", // Sunday, make-up working day
                "2025-09-29 09:00",
                "2025-09-30 09:00",
                "2025-10-09 09:00", // 10-01..08 are holidays
                "2025-10-10 09:00",
                "2025-10-11 09:00", // Saturday, make-up working day
            ]
        );
        // A Friday's occurrence ends at Saturday's slot, not Monday's.
        let friday = daily
            .first_at_or_after(
                at("2025-09-26 00:00"),
                at("2025-09-27 00:00"),
                calendar(),
                &none(),
            )
            .unwrap();
        assert_eq!(friday.end, at("2025-09-27 09:00"));
        assert!(daily
            .occurrence(
                daily.slot_containing(at("2025-10-01 12:00")).unwrap(),
                calendar(),
                &none()
            )
            .is_none());
        // The Spring Festival of 2026, and its two Saturday make-up days.
        assert_eq!(
            starts(&daily, "2026-02-13 00:00", "2026-03-02 00:00"),
            [
                "2026-02-13 09:00",
                "2026-02-14 09:00",
                "2026-02-24 09:00",
                "2026-02-25 09:00",
                "2026-02-26 09:00",
                "2026-02-27 09:00",
                "2026-02-28 09:00",
            ]
        );
        // The 2026 Mid-Autumn Festival falls before National Day.
        assert_eq!(
            starts(&daily, "2026-09-19 00:00", "2026-09-29 00:00"),
            [
                "2026-09-20 09:00", // Sunday, make-up working day
                "2026-09-21 09:00",
                "2026-09-22 09:00",
                "2026-09-23 09:00",
                "2026-09-24 09:00",
                "2026-09-28 09:00", // 09-25..27 are holidays
            ]
        );
    }

    #[test]
    fn a_non_working_day_task_runs_on_holidays_and_weekends_only() {
        let daily = daily_on(DayRule::NonWorkingDays, "2025-01-01 10:00");
        assert_eq!(
            starts(&daily, "2025-09-27 00:00", "2025-10-13 00:00"),
            [
                "2025-09-27 10:00",
                "2025-10-01 10:00",
                "2025-10-02 10:00",
                "2025-10-03 10:00",
                "2025-10-04 10:00",
                "2025-10-05 10:00",
                "2025-10-06 10:00",
                "2025-10-07 10:00",
                "2025-10-08 10:00",
                "2025-10-12 10:00",
            ]
        );
    }

    #[test]
    fn a_year_of_occurrences_counts_without_listing() {
        let hourly = every(1, Unit::Hour, "2020-01-01 00:00");
        let count = |s: &Schedule, from: &str, until: &str| {
            s.count(at(from), at(until), calendar(), &none())
        };
        assert_eq!(
            count(&hourly, "2025-01-01 00:00", "2026-01-01 00:00").planned,
            8_760
        );
        assert_eq!(
            count(&hourly, "2024-01-01 00:00", "2025-01-01 00:00").planned,
            8_784
        );
        let working = daily_on(DayRule::WorkingDays, "2024-12-30 08:00");
        assert_eq!(
            count(&working, "2025-01-01 00:00", "2026-01-01 00:00").planned,
            248
        );
        assert_eq!(
            count(&working, "2026-01-01 00:00", "2027-01-01 00:00").planned,
            248
        );
        let resting = daily_on(DayRule::NonWorkingDays, "2024-12-30 08:00");
        assert_eq!(
            count(&resting, "2025-01-01 00:00", "2026-01-01 00:00").planned,
            365 - 248
        );
        // Counting where nothing starts.
        assert_eq!(
            count(&hourly, "2025-01-01 00:00", "2025-01-01 00:00"),
            Counts::default()
        );
        assert_eq!(
            count(&hourly, "2025-01-02 00:00", "2025-01-01 00:00"),
            Counts::default()
        );
        assert_eq!(
            count(&hourly, "2010-01-01 00:00", "2020-01-01 00:00"),
            Counts::default()
        );
    }

    #[test]
    fn an_hourly_task_in_a_day_window_starts_inside_it_only() {
        let shift = windowed(1, "2025-03-03 00:00", "08:00", "20:00", DayRule::EveryDay);
        let day = shift.list(
            at("2025-03-03 00:00"),
            at("2025-03-04 00:00"),
            calendar(),
            &none(),
            100,
        );
        let hours: Vec<u32> = day
            .occurrences
            .iter()
            .map(|o| chrono::Timelike::hour(&o.start))
            .collect();
        assert_eq!(hours, (8..20).collect::<Vec<_>>());
        let last = day.occurrences.last().unwrap();
        assert_eq!(
            (last.start, last.end),
            (at("2025-03-03 19:00"), at("2025-03-03 20:00"))
        );
        assert_eq!(
            shift
                .count(
                    at("2025-03-03 00:00"),
                    at("2025-03-10 00:00"),
                    calendar(),
                    &none()
                )
                .planned,
            7 * 12
        );
        // Every two hours anchored at 07:00: 09:00 to 19:00.
        let odd = windowed(2, "2025-03-03 07:00", "08:00", "20:00", DayRule::EveryDay);
        assert_eq!(
            starts(&odd, "2025-03-03 00:00", "2025-03-04 00:00"),
            [
                "2025-03-03 09:00",
                "2025-03-03 11:00",
                "2025-03-03 13:00",
                "2025-03-03 15:00",
                "2025-03-03 17:00",
                "2025-03-03 19:00",
            ]
        );
    }

    #[test]
    fn a_night_window_wraps_midnight() {
        let window = TimeWindow::new(hm("20:00"), hm("08:00")).unwrap();
        assert!(window.wraps_midnight());
        assert!(window.contains(hm("20:00")) && window.contains(hm("23:59")));
        assert!(window.contains(hm("00:00")) && window.contains(hm("07:59")));
        assert!(!window.contains(hm("08:00")) && !window.contains(hm("19:59")));
        let night = windowed(1, "2025-03-03 00:00", "20:00", "08:00", DayRule::EveryDay);
        let got = starts(&night, "2025-03-03 06:00", "2025-03-04 09:00");
        let mut expected = vec!["2025-03-03 06:00".to_owned(), "2025-03-03 07:00".to_owned()];
        expected.extend((20..24).map(|h| format!("2025-03-03 {h}:00")));
        expected.extend((0..8).map(|h| format!("2025-03-04 0{h}:00")));
        assert_eq!(got, expected);
        // Every two hours anchored at 01:00.
        let rounds = windowed(2, "2025-03-03 01:00", "20:00", "08:00", DayRule::EveryDay);
        assert_eq!(
            starts(&rounds, "2025-03-03 12:00", "2025-03-04 12:00"),
            [
                "2025-03-03 21:00",
                "2025-03-03 23:00",
                "2025-03-04 01:00",
                "2025-03-04 03:00",
                "2025-03-04 05:00",
                "2025-03-04 07:00",
            ]
        );
        // A working-day night shift: the hours after midnight belong to the
        // date they fall on, so Friday night stops at midnight and Sunday
        // night starts at midnight. 2025-03-07 is a Friday.
        let weekday_nights = windowed(
            1,
            "2025-03-03 00:00",
            "20:00",
            "08:00",
            DayRule::WorkingDays,
        );
        let got = starts(&weekday_nights, "2025-03-07 12:00", "2025-03-10 12:00");
        assert_eq!(got.first().map(String::as_str), Some("2025-03-07 20:00"));
        assert_eq!(got[3], "2025-03-07 23:00");
        assert_eq!(got[4], "2025-03-10 00:00");
        assert_eq!(got.len(), 4 + 8);
    }

    #[test]
    fn schedules_that_cannot_work_are_refused() {
        let cycle = |n, unit| Cycle::new(n, unit);
        assert_eq!(
            cycle(0, Unit::Day),
            Err(ScheduleError::EveryOutOfRange {
                every: 0,
                unit: Unit::Day
            })
        );
        assert!(cycle(101, Unit::Year).is_err());
        assert!(cycle(100, Unit::Year).is_ok());
        assert_eq!(
            TimeWindow::new(hm("08:00"), hm("08:00")),
            Err(ScheduleError::EmptyWindow)
        );
        let day_shift = TimeWindow::new(hm("08:00"), hm("20:00")).unwrap();
        let daily = Cycle::new(1, Unit::Day).unwrap();
        let start = at("2025-01-01 07:00");
        assert_eq!(
            Schedule::new(daily, start, Some(day_shift), DayRule::EveryDay),
            Err(ScheduleError::WindowNeedsHours(Unit::Day))
        );
        // Every 24 hours at 07:00 never starts between 08:00 and 20:00,
        // nor every two hours from 01:00 between 08:00 and 09:00.
        assert_eq!(
            Schedule::new(
                Cycle::new(24, Unit::Hour).unwrap(),
                start,
                Some(day_shift),
                DayRule::EveryDay
            ),
            Err(ScheduleError::WindowNeverReached)
        );
        let narrow = TimeWindow::new(hm("08:00"), hm("09:00")).unwrap();
        let two_hourly = Cycle::new(2, Unit::Hour).unwrap();
        assert_eq!(
            Schedule::new(
                two_hourly,
                at("2025-01-01 01:00"),
                Some(narrow),
                DayRule::EveryDay
            ),
            Err(ScheduleError::WindowNeverReached)
        );
        assert!(Schedule::new(
            two_hourly,
            at("2025-01-01 02:00"),
            Some(narrow),
            DayRule::EveryDay
        )
        .is_ok());
        // Every 25 hours reaches every hour of the day in turn.
        assert!(Schedule::new(
            Cycle::new(25, Unit::Hour).unwrap(),
            start,
            Some(narrow),
            DayRule::EveryDay
        )
        .is_ok());
        let monthly = Cycle::new(1, Unit::Month).unwrap();
        let err = Schedule::new(monthly, start, None, DayRule::WorkingDays).unwrap_err();
        assert_eq!(
            err,
            ScheduleError::DayRuleNeedsHoursOrDays {
                rule: DayRule::WorkingDays,
                unit: Unit::Month
            }
        );
        assert_eq!(
            err.to_string(),
            "working_days applies to hourly and daily cycles only: a cycle in months spans many days"
        );
    }

    #[test]
    fn every_n_days_stays_anchored_across_long_gaps() {
        let every3 = every(3, Unit::Day, "2025-01-01 06:00");
        // 2025-01-01 to 2031-07-15 is 2,386 days; 2,388 is the next multiple of 3.
        let o = every3
            .first_at_or_after(
                at("2031-07-15 00:00"),
                at("2032-01-01 00:00"),
                calendar(),
                &none(),
            )
            .unwrap();
        assert_eq!(o.id, OccurrenceId(796));
        assert_eq!(
            (o.start, o.end),
            (at("2031-07-17 06:00"), at("2031-07-20 06:00"))
        );
        assert_eq!(
            every3.slot_containing(at("2031-07-15 00:00")),
            Some(OccurrenceId(795))
        );
        assert_eq!(
            every3.slot_start(OccurrenceId(795)),
            Some(at("2031-07-14 06:00"))
        );
        assert_eq!(
            every3.slot_containing(at("2031-07-17 06:00")),
            Some(OccurrenceId(796))
        );
        assert_eq!(every3.slot_containing(at("2024-12-31 23:59")), None);
        assert_eq!(
            every3.slot_at_or_after(at("1999-01-01 00:00")),
            Some(OccurrenceId(0))
        );
    }

    #[test]
    fn a_two_hourly_task_over_a_week() {
        let two_hourly = every(2, Unit::Hour, "2025-03-03 00:00");
        let week = two_hourly.list(
            at("2025-03-03 00:00"),
            at("2025-03-10 00:00"),
            calendar(),
            &none(),
            1_000,
        );
        assert!(!week.truncated);
        assert_eq!(week.occurrences.len(), 84);
        assert_eq!(week.occurrences[83].start, at("2025-03-09 22:00"));
        assert_eq!(week.occurrences[83].end, at("2025-03-10 00:00"));
        for pair in week.occurrences.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
            assert_eq!(pair[0].end - pair[0].start, TimeDelta::hours(2));
            assert_eq!(pair[0].id.0 + 1, pair[1].id.0);
        }
        // A range starting mid-slot begins at the next slot.
        assert_eq!(
            starts(&two_hourly, "2025-03-05 13:30", "2025-03-05 18:00"),
            ["2025-03-05 14:00", "2025-03-05 16:00"]
        );
    }

    #[test]
    fn a_pause_covering_part_of_an_interval_does_not_pause_it() {
        let daily = every(1, Unit::Day, "2025-03-01 00:00");
        let paused = |pauses: &[Pause], day: &str| {
            let set = PauseSet::new(pauses).unwrap();
            let id = daily.slot_containing(at(&format!("{day} 12:00"))).unwrap();
            daily.occurrence(id, calendar(), &set).unwrap().paused
        };
        // Maintenance from 10:00 to 14:00: the day's check can be done outside it.
        let maintenance = [pause("2025-03-10 10:00", Some("2025-03-10 14:00"))];
        assert!(!paused(&maintenance, "2025-03-10"));
        // The whole day, exactly.
        let day = [pause("2025-03-10 00:00", Some("2025-03-11 00:00"))];
        assert!(paused(&day, "2025-03-10"));
        assert!(!paused(&day, "2025-03-09") && !paused(&day, "2025-03-11"));
        // Starting mid-interval: that day runs, the next ones are paused.
        let shutdown = [pause("2025-03-10 12:00", Some("2025-03-13 00:00"))];
        assert!(!paused(&shutdown, "2025-03-10"));
        assert!(paused(&shutdown, "2025-03-11") && paused(&shutdown, "2025-03-12"));
        assert!(!paused(&shutdown, "2025-03-13"));
        // Ending mid-interval: that day runs.
        let ends_mid = [pause("2025-03-20 00:00", Some("2025-03-21 06:00"))];
        assert!(paused(&ends_mid, "2025-03-20"));
        assert!(!paused(&ends_mid, "2025-03-21"));
        let set = PauseSet::new(&shutdown).unwrap();
        assert_eq!(
            daily.count(
                at("2025-03-01 00:00"),
                at("2025-04-01 00:00"),
                calendar(),
                &set
            ),
            Counts {
                planned: 31,
                paused: 2
            }
        );
    }

    #[test]
    fn pauses_merge_before_covering() {
        let daily = every(1, Unit::Day, "2025-03-01 00:00");
        let paused = |pauses: &[Pause]| {
            let set = PauseSet::new(pauses).unwrap();
            daily
                .occurrence(OccurrenceId(9), calendar(), &set)
                .unwrap()
                .paused
        };
        // Touching halves of 2025-03-10.
        assert!(paused(&[
            pause("2025-03-10 12:00", Some("2025-03-11 00:00")),
            pause("2025-03-10 00:00", Some("2025-03-10 12:00")),
        ]));
        // Overlapping, and one inside another.
        assert!(paused(&[
            pause("2025-03-09 18:00", Some("2025-03-10 13:00")),
            pause("2025-03-10 11:00", Some("2025-03-11 01:00")),
            pause("2025-03-10 02:00", Some("2025-03-10 03:00")),
        ]));
        // A minute's gap leaves the check possible.
        assert!(!paused(&[
            pause("2025-03-10 00:00", Some("2025-03-10 12:00")),
            pause("2025-03-10 12:01", Some("2025-03-11 00:00")),
        ]));
        assert!(!paused(&[]));
        assert_eq!(
            PauseSet::new(&[pause("2025-03-10 12:00", Some("2025-03-10 12:00"))]),
            Err(ScheduleError::PauseEndsBeforeItBegins {
                from: at("2025-03-10 12:00"),
                until: at("2025-03-10 12:00")
            })
        );
        assert!(PauseSet::new(&[pause("2025-03-10 12:00", Some("2025-03-10 11:00"))]).is_err());
    }

    #[test]
    fn an_open_pause_pauses_everything_after_it() {
        let daily = every(1, Unit::Day, "2025-06-01 00:00");
        let open = PauseSet::new(&[pause("2025-06-15 08:00", None)]).unwrap();
        let june = daily.list(
            at("2025-06-01 00:00"),
            at("2025-07-01 00:00"),
            calendar(),
            &open,
            100,
        );
        let paused: Vec<u32> = june
            .occurrences
            .iter()
            .filter(|o| o.paused)
            .map(|o| o.start.day())
            .collect();
        assert_eq!(paused, (16..=30).collect::<Vec<_>>());
        assert_eq!(
            daily.count(
                at("2025-06-01 00:00"),
                at("2025-07-01 00:00"),
                calendar(),
                &open
            ),
            Counts {
                planned: 30,
                paused: 15
            }
        );
        // An open pause swallows later ones; one before it stays apart.
        let set = PauseSet::new(&[
            pause("2025-06-20 00:00", Some("2025-06-22 00:00")),
            pause("2025-06-15 00:00", None),
            pause("2025-06-03 00:00", Some("2025-06-04 00:00")),
        ])
        .unwrap();
        let counts = daily.count(
            at("2025-06-01 00:00"),
            at("2025-07-01 00:00"),
            calendar(),
            &set,
        );
        assert_eq!(
            counts,
            Counts {
                planned: 30,
                paused: 17
            }
        );
        assert_eq!(counts.to_check(), 13);
        assert!(set.covers(at("2090-01-01 00:00"), at("2090-01-02 00:00")));
    }

    #[test]
    fn the_status_changes_at_exact_boundaries() {
        let daily = every(1, Unit::Day, "2025-03-01 08:00");
        let o = daily
            .occurrence(OccurrenceId(9), calendar(), &none())
            .unwrap();
        assert_eq!(
            (o.start, o.end),
            (at("2025-03-10 08:00"), at("2025-03-11 08:00"))
        );
        let hour = TimeDelta::minutes(60);
        let second = TimeDelta::seconds(1);
        let status = |now: NaiveDateTime, tolerance| o.status(&[], now, tolerance);
        assert_eq!(status(o.start - second, hour), Status::Upcoming);
        assert_eq!(status(o.start, hour), Status::Due);
        assert_eq!(status(o.end - second, hour), Status::Due);
        assert_eq!(status(o.end, hour), Status::Due);
        assert_eq!(status(o.end + hour - second, hour), Status::Due);
        assert_eq!(status(o.end + hour, hour), Status::Missed);
        assert_eq!(o.deadline(hour), at("2025-03-11 09:00"));
        // No tolerance: missed from the end on; a negative one counts as none.
        assert_eq!(status(o.end - second, TimeDelta::zero()), Status::Due);
        assert_eq!(status(o.end, TimeDelta::zero()), Status::Missed);
        assert_eq!(status(o.end, -hour), Status::Missed);
        assert_eq!(o.deadline(-hour), o.end);
    }

    #[test]
    fn records_count_on_time_until_the_tolerance_ends() {
        let daily = every(1, Unit::Day, "2025-03-01 08:00");
        let o = daily
            .occurrence(OccurrenceId(9), calendar(), &none())
            .unwrap();
        let hour = TimeDelta::minutes(60);
        let second = TimeDelta::seconds(1);
        let later = at("2025-03-20 00:00");
        let status = |records: &[NaiveDateTime]| o.status(records, later, hour);
        assert_eq!(status(&[o.start]), Status::Done { at: o.start });
        let in_grace = o.end + hour - second;
        assert_eq!(status(&[in_grace]), Status::Done { at: in_grace });
        let late = o.end + hour;
        assert_eq!(status(&[late]), Status::DoneLate { at: late });
        // The first on-time record counts, whatever the order given.
        let noon = at("2025-03-10 12:00");
        assert_eq!(
            status(&[late, at("2025-03-10 15:00"), noon]),
            Status::Done { at: noon }
        );
        assert_eq!(
            status(&[at("2025-03-13 00:00"), late]),
            Status::DoneLate { at: late }
        );
        // A record before the start does not check this occurrence.
        assert_eq!(status(&[o.start - second]), Status::Missed);
        // Nor does one after now: the status is what was known at now.
        assert_eq!(o.status(&[noon], at("2025-03-10 11:00"), hour), Status::Due);
        assert_eq!(o.status(&[noon], noon, hour), Status::Done { at: noon });
        assert_eq!(o.status(&[late], late - second, hour), Status::Due);
        assert_eq!(o.status(&[late], late, hour), Status::DoneLate { at: late });
    }

    #[test]
    fn a_paused_occurrence_is_paused_unless_checked_on_time() {
        let daily = every(1, Unit::Day, "2025-03-01 08:00");
        let set = PauseSet::new(&[pause("2025-03-10 00:00", Some("2025-03-12 00:00"))]).unwrap();
        let o = daily.occurrence(OccurrenceId(9), calendar(), &set).unwrap();
        assert!(o.paused);
        let hour = TimeDelta::minutes(60);
        // Planned maintenance shows ahead of time.
        assert_eq!(o.status(&[], at("2025-03-01 00:00"), hour), Status::Paused);
        assert_eq!(o.status(&[], at("2025-03-10 09:00"), hour), Status::Paused);
        assert_eq!(o.status(&[], at("2025-04-01 00:00"), hour), Status::Paused);
        let noon = at("2025-03-10 12:00");
        assert_eq!(
            o.status(&[noon], at("2025-04-01 00:00"), hour),
            Status::Done { at: noon }
        );
        assert_eq!(
            o.status(&[at("2025-03-30 00:00")], at("2025-04-01 00:00"), hour),
            Status::Paused
        );
    }

    #[test]
    fn the_first_occurrence_far_in_the_future_is_found_arithmetically() {
        let hourly = every(1, Unit::Hour, "2025-01-01 00:00");
        // 2025 to 2100: 75 years, 18 of them leap years.
        let hours = (75 * 365 + 18) * 24;
        assert_eq!(
            hourly.slot_at_or_after(at("2100-01-01 00:00")),
            Some(OccurrenceId(hours))
        );
        let o = hourly
            .first_at_or_after(
                at("2100-01-01 00:00"),
                at("2100-01-02 00:00"),
                calendar(),
                &none(),
            )
            .unwrap();
        assert_eq!(
            (o.id, o.start, o.end),
            (
                OccurrenceId(hours),
                at("2100-01-01 00:00"),
                at("2100-01-01 01:00")
            )
        );
        let half_past = every(1, Unit::Hour, "2025-01-01 00:30");
        let o = half_past
            .first_at_or_after(
                at("2100-01-01 00:00"),
                at("2100-01-02 00:00"),
                calendar(),
                &none(),
            )
            .unwrap();
        assert_eq!(
            (o.id, o.start),
            (OccurrenceId(hours), at("2100-01-01 00:30"))
        );
        // With a window and working days: 2100-01-01 is a Friday and no
        // notice for 2100 is loaded.
        let shift = windowed(
            1,
            "2025-01-01 00:00",
            "08:00",
            "20:00",
            DayRule::WorkingDays,
        );
        let o = shift
            .first_at_or_after(
                at("2100-01-01 00:00"),
                at("2100-01-02 00:00"),
                calendar(),
                &none(),
            )
            .unwrap();
        assert_eq!(o.start, at("2100-01-01 08:00"));
        // 2100-01-02 is a Saturday: nothing that day.
        assert_eq!(
            shift.first_at_or_after(
                at("2100-01-02 00:00"),
                at("2100-01-03 00:00"),
                calendar(),
                &none()
            ),
            None
        );
        let monthly = every(1, Unit::Month, "2025-01-31 08:00");
        let o = monthly
            .first_at_or_after(
                at("2100-02-01 00:00"),
                at("2101-01-01 00:00"),
                calendar(),
                &none(),
            )
            .unwrap();
        assert_eq!(
            (o.id, o.start),
            (OccurrenceId(75 * 12 + 1), at("2100-02-28 08:00"))
        );
        // At the far end of chrono's range there is no slot, and no panic.
        assert_eq!(hourly.slot_at_or_after(NaiveDateTime::MAX), None);
        assert_eq!(hourly.slot_start(OccurrenceId(u32::MAX)), None);
        assert_eq!(monthly.slot_start(OccurrenceId(u32::MAX)), None);
        assert_eq!(
            hourly.count(NaiveDateTime::MAX, NaiveDateTime::MAX, calendar(), &none()),
            Counts::default()
        );
    }

    #[test]
    fn listing_stops_at_the_cap() {
        let daily = every(1, Unit::Day, "2025-03-01 08:00");
        let list = |cap| {
            daily.list(
                at("2025-03-01 00:00"),
                at("2025-04-01 00:00"),
                calendar(),
                &none(),
                cap,
            )
        };
        let five = list(5);
        assert_eq!(five.occurrences.len(), 5);
        assert!(five.truncated);
        assert_eq!(five.occurrences[4].start, at("2025-03-05 08:00"));
        let all = list(31);
        assert_eq!(all.occurrences.len(), 31);
        assert!(!all.truncated);
        let zero = list(0);
        assert!(zero.occurrences.is_empty() && zero.truncated);
        let empty = daily.list(
            at("2025-04-01 00:00"),
            at("2025-03-01 00:00"),
            calendar(),
            &none(),
            10,
        );
        assert!(empty.occurrences.is_empty() && !empty.truncated);
        // An hourly task over a century, capped.
        let hourly = every(1, Unit::Hour, "2025-01-01 00:00");
        let capped = hourly.list(
            at("2025-01-01 00:00"),
            at("2125-01-01 00:00"),
            calendar(),
            &none(),
            3,
        );
        assert_eq!(capped.occurrences.len(), 3);
        assert!(capped.truncated);
    }

    #[test]
    fn a_schedule_reads_and_writes_as_its_spec() {
        let json = r#"{"every": 2, "unit": "hour", "starts": "2025-03-03T01:00:00",
                       "window": {"from": "20:00:00", "until": "08:00:00"}, "days": "working_days"}"#;
        let schedule: Schedule = serde_json::from_str(json).unwrap();
        assert_eq!(schedule.cycle(), Cycle::new(2, Unit::Hour).unwrap());
        assert!(schedule.window().unwrap().wraps_midnight());
        assert_eq!(schedule.days(), DayRule::WorkingDays);
        let again: Schedule =
            serde_json::from_value(serde_json::to_value(&schedule).unwrap()).unwrap();
        assert_eq!(again, schedule);
        let daily: Schedule =
            serde_json::from_str(r#"{"every": 1, "unit": "day", "starts": "2025-03-03T08:00:00"}"#)
                .unwrap();
        assert_eq!(daily.days(), DayRule::EveryDay);
        let err = serde_json::from_str::<Schedule>(
            r#"{"every": 0, "unit": "day", "starts": "2025-03-03T08:00:00"}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("every must be between 1 and 36525"),
            "{err}"
        );
        let status = serde_json::to_value(Status::DoneLate {
            at: at("2025-03-11 09:00"),
        })
        .unwrap();
        assert_eq!(
            status,
            serde_json::json!({"status": "done_late", "at": "2025-03-11T09:00:00"})
        );
        assert_eq!(
            serde_json::to_value(OccurrenceId(7)).unwrap(),
            serde_json::json!(7)
        );
        assert_eq!(
            OccurrenceId::try_from(i64::from(OccurrenceId(7))),
            Ok(OccurrenceId(7))
        );
        assert!(OccurrenceId::try_from(-1_i64).is_err());
    }

    mod properties {
        use chrono::Timelike;
        use proptest::prelude::*;

        use super::*;

        fn days_in_month(year: i32, month: u32) -> u32 {
            let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap();
            let next = first.checked_add_months(Months::new(1)).unwrap();
            u32::try_from((next - first).num_days()).unwrap()
        }

        fn any_cycle() -> impl Strategy<Value = Cycle> {
            prop_oneof![
                (1u32..=100).prop_map(|n| Cycle::new(n, Unit::Hour).unwrap()),
                (1u32..=400).prop_map(|n| Cycle::new(n, Unit::Day).unwrap()),
                (1u32..=40).prop_map(|n| Cycle::new(n, Unit::Month).unwrap()),
                (1u32..=5).prop_map(|n| Cycle::new(n, Unit::Year).unwrap()),
            ]
        }

        /// A time between 1990 and 2090, to the second.
        fn any_time() -> impl Strategy<Value = NaiveDateTime> {
            (0i64..100 * 366 * 86_400).prop_map(|s| at("1990-01-01 00:00") + TimeDelta::seconds(s))
        }

        fn schedule(cycle: Cycle, starts: NaiveDateTime) -> Schedule {
            Schedule::new(cycle, starts, None, DayRule::EveryDay).unwrap()
        }

        proptest! {
            #[test]
            fn slots_strictly_increase_and_keep_the_anchor(
                cycle in any_cycle(), starts in any_time(), k in 0u32..3_000,
            ) {
                let s = schedule(cycle, starts);
                let this = s.slot_start(OccurrenceId(k)).unwrap();
                let next = s.slot_start(OccurrenceId(k + 1)).unwrap();
                prop_assert!(this < next);
                if cycle.unit() == Unit::Hour {
                    prop_assert_eq!(
                        (this.minute(), this.second()),
                        (starts.minute(), starts.second())
                    );
                } else {
                    prop_assert_eq!(this.time(), starts.time());
                }
                if cycle.unit() == Unit::Month || cycle.unit() == Unit::Year {
                    let clamped = starts.day().min(days_in_month(this.year(), this.month()));
                    prop_assert_eq!(this.day(), clamped);
                }
            }

            #[test]
            fn the_slot_at_or_after_a_time_is_the_first_not_before_it(
                cycle in any_cycle(), starts in any_time(), t in any_time(),
            ) {
                let s = schedule(cycle, starts);
                let k = s.slot_at_or_after(t).unwrap();
                prop_assert!(s.slot_start(k).unwrap() >= t);
                if let Some(before) = k.0.checked_sub(1) {
                    prop_assert!(s.slot_start(OccurrenceId(before)).unwrap() < t);
                }
                if let Some(c) = s.slot_containing(t) {
                    prop_assert!(s.slot_start(c).unwrap() <= t);
                    prop_assert!(t < s.slot_start(OccurrenceId(c.0 + 1)).unwrap());
                } else {
                    prop_assert!(t < starts);
                }
            }

            #[test]
            fn occurrences_follow_each_other_without_gaps(
                cycle in any_cycle(), starts in any_time(), from in any_time(), cap in 1usize..50,
            ) {
                let s = schedule(cycle, starts);
                let until = from + TimeDelta::days(3 * 366);
                let calendar = WorkCalendar::default();
                let none = PauseSet::default();
                let listing = s.list(from, until, &calendar, &none, cap);
                for pair in listing.occurrences.windows(2) {
                    prop_assert_eq!(pair[0].end, pair[1].start);
                    prop_assert_eq!(pair[0].id.0 + 1, pair[1].id.0);
                }
                for o in &listing.occurrences {
                    prop_assert!(from <= o.start && o.start < until && o.start < o.end);
                    prop_assert_eq!(Some(o.start), s.slot_start(o.id));
                }
                let count = s.count(from, until, &calendar, &none).planned;
                prop_assert_eq!(listing.truncated, count > cap as u64);
                prop_assert_eq!(listing.occurrences.len() as u64, count.min(cap as u64));
            }
        }
    }
}
