//! The park's working calendar as it stands: the years shipped with the
//! service (`reference/calendar/`) and the years the park loads itself as
//! each year's notice comes out, a loaded year replacing a shipped one.
//! Every file loaded is kept; the newest of a year is in force.
//!
//! The calendar in force is built once per change and kept for the
//! process: [`current`] compares the loaded files' marker (one indexed
//! query) and rebuilds only when a file was loaded, by this process or
//! another. A superseded calendar stays in memory (a few kilobytes per
//! load, a load or two a year), which lets every reader hold it by
//! reference for as long as it likes.

use std::sync::RwLock;

use chrono::NaiveDateTime;
use serde::Serialize;
use uuid::Uuid;

use crate::db::calendar::{self as store, CalendarFileRow};
use crate::db::{write_transaction, DbConnection, Id};
use crate::domain::calendar::{
    parse_year_file, CalendarError, DayKind, WorkCalendar, YearFile, SHIPPED_FILES,
};
use crate::error::{AppError, FieldError};
use crate::messages::Rule;

/// Where a year's calendar in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CalendarOrigin {
    /// Shipped with the service.
    Shipped,
    /// Loaded by the park.
    Loaded,
}

/// One year of the calendar in force.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CalendarYear {
    pub year: i32,
    pub origin: CalendarOrigin,
    /// The notice the dates come from.
    pub title: String,
    pub document_number: Option<String>,
    pub issued_on: Option<String>,
    /// Whether every date was checked against the published notice.
    pub verified: bool,
    /// Dates off work (放假), weekend days inside a span included.
    pub holidays: usize,
    /// Make-up working days (调休上班).
    pub working_days: usize,
    /// When and by whom the file in force was loaded (a loaded year).
    pub loaded_at: Option<NaiveDateTime>,
    pub loaded_by: Option<Uuid>,
    /// How many files of the year were loaded, the one in force included.
    pub versions: usize,
}

type Kept = Option<(Option<Id>, &'static WorkCalendar)>;
static CURRENT: RwLock<Kept> = RwLock::new(None);

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("the park's calendar: {e}"))
}

/// The calendar in force: the shipped years, with the loaded ones.
pub fn current(conn: &mut DbConnection) -> Result<&'static WorkCalendar, AppError> {
    let marker = store::marker(conn)?;
    if marker.is_none() {
        return WorkCalendar::shipped().map_err(internal);
    }
    if let Ok(kept) = CURRENT.read() {
        if let Some((kept_marker, calendar)) = *kept {
            if kept_marker == marker {
                return Ok(calendar);
            }
        }
    }
    let files: Vec<YearFile> = in_force(conn)?.into_iter().map(|(file, _)| file).collect();
    let calendar: &'static WorkCalendar = Box::leak(Box::new(
        WorkCalendar::from_files(&files).map_err(internal)?,
    ));
    if let Ok(mut kept) = CURRENT.write() {
        *kept = Some((marker, calendar));
    }
    Ok(calendar)
}

/// The year files in force, by year, each with its loaded row (none for a
/// shipped year).
fn in_force(conn: &mut DbConnection) -> Result<Vec<(YearFile, Option<CalendarFileRow>)>, AppError> {
    let mut files: Vec<(YearFile, Option<CalendarFileRow>)> = SHIPPED_FILES
        .iter()
        .map(|text| parse_year_file(text).map(|file| (file, None)))
        .collect::<Result<_, _>>()
        .map_err(internal)?;
    for row in store::in_force(conn)? {
        let file = parse_year_file(&row.file).map_err(internal)?;
        files.retain(|(shipped, _)| shipped.year != row.year);
        files.push((file, Some(row)));
    }
    files.sort_by_key(|(file, _)| file.year);
    Ok(files)
}

/// The years of the calendar in force.
pub fn years(conn: &mut DbConnection) -> Result<Vec<CalendarYear>, AppError> {
    let versions = store::versions(conn)?;
    Ok(in_force(conn)?
        .into_iter()
        .map(|(file, row)| {
            let count = |kind| file.days.iter().filter(|d| d.kind == kind).count();
            CalendarYear {
                year: file.year,
                origin: if row.is_some() {
                    CalendarOrigin::Loaded
                } else {
                    CalendarOrigin::Shipped
                },
                holidays: count(DayKind::Holiday),
                working_days: count(DayKind::WorkingDay),
                title: file.source.title,
                document_number: file.source.document_number,
                issued_on: file.source.issued_on,
                verified: file.verified,
                loaded_at: row.as_ref().map(|r| r.loaded_at),
                loaded_by: row.as_ref().map(|r| r.loaded_by.uuid()),
                versions: versions
                    .iter()
                    .find(|(year, _)| *year == file.year)
                    .map_or(0, |(_, n)| *n),
            }
        })
        .collect())
}

/// A calendar file refused: its fault under a code of its own, with the
/// file's own dates and fields as parameters.
fn refused(error: &CalendarError) -> FieldError {
    use CalendarError as E;
    match error {
        E::Syntax(reason) => FieldError::new(Rule::CalendarFileInvalid)
            .with("reason", reason.clone())
            .with("reason_zh", crate::messages::cause_zh(reason)),
        E::BadYear(year) => FieldError::new(Rule::CalendarBadYear).with("year", *year),
        E::NoSource { year } => FieldError::new(Rule::CalendarNoSource).with("year", *year),
        E::BadDate { index, text } => FieldError::new(Rule::CalendarBadDate)
            .with("index", *index)
            .with("text", text.clone()),
        E::BadKind { index, date, text } => FieldError::new(Rule::CalendarBadKind)
            .with("index", *index)
            .with("date", date.to_string())
            .with("text", text.clone()),
        E::OutsideYear { index, date, year } => FieldError::new(Rule::CalendarOutsideYear)
            .with("index", *index)
            .with("date", date.to_string())
            .with("year", *year),
        E::WorkingDayOnWeekday { date, weekday } => {
            FieldError::new(Rule::CalendarWorkingDayOnWeekday)
                .with("date", date.to_string())
                .with("weekday", weekday.to_string())
        }
        E::DuplicateDate { date, kind } => FieldError::new(Rule::CalendarDuplicateDate)
            .with("date", date.to_string())
            .with("day_kind", kind.to_string()),
        E::ConflictingKinds {
            date,
            first,
            second,
        } => FieldError::new(Rule::CalendarConflictingKinds)
            .with("date", date.to_string())
            .with("first_kind", first.to_string())
            .with("second_kind", second.to_string()),
        E::DuplicateYear { year } => {
            FieldError::new(Rule::CalendarDuplicateYear).with("year", *year)
        }
    }
}

/// Loads `year`'s file (the shape of `reference/calendar/`), checked on
/// its own and with the other years in force (a date may be listed in one
/// year's file only); it replaces the year's file in force from now on.
pub fn load(
    conn: &mut DbConnection,
    year: i32,
    text: &str,
    (by, now): (Id, NaiveDateTime),
) -> Result<Vec<CalendarYear>, AppError> {
    let file = parse_year_file(text).map_err(|e| AppError::invalid("file", refused(&e)))?;
    if file.year != year {
        return Err(AppError::invalid(
            "year",
            FieldError::new(Rule::CalendarYearMismatch)
                .with("file_year", file.year)
                .with("year", year),
        ));
    }
    write_transaction(conn, |conn| {
        let mut files: Vec<YearFile> = in_force(conn)?
            .into_iter()
            .map(|(file, _)| file)
            .filter(|other| other.year != year)
            .collect();
        files.push(file.clone());
        WorkCalendar::from_files(&files).map_err(|e| AppError::invalid("file", refused(&e)))?;
        store::insert(
            conn,
            &CalendarFileRow {
                id: Uuid::now_v7().into(),
                year,
                file: text.to_owned(),
                loaded_by: by,
                loaded_at: now,
            },
        )?;
        years(conn)
    })
}
