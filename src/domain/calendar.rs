//! The park's working calendar: which park-local dates are working days.
//!
//! This module owns the statutory holidays (法定节假日) and make-up working
//! days (调休上班日) as the State Council General Office publishes them each
//! year, loaded as data, and the one rule built on them:
//!
//! - a listed make-up working day is a working day;
//! - a listed holiday is not;
//! - any other date follows the week: Monday to Friday are working days,
//!   Saturday and Sunday are not.
//!
//! The calendars of 2025 and 2026 ship with the service
//! (`reference/calendar/<year>.json`, embedded at compile time); further
//! years are loaded the same way from files of the same shape, read by
//! [`parse_year_file`] and combined with [`WorkCalendar::from_files`]. A year
//! with no file loaded follows the week alone: [`WorkCalendar::covers_year`]
//! says whether a year's notice is known.
//!
//! A year file is JSON:
//!
//! ```json
//! {
//!   "year": 2025,
//!   "source": {
//!     "title": "国务院办公厅关于2025年部分节假日安排的通知",
//!     "document_number": "国办发明电〔2024〕12号",
//!     "issued_on": "2024-11-12",
//!     "checked_against": ["where the text was read"]
//!   },
//!   "verified": true,
//!   "note": "optional free text",
//!   "days": [
//!     {"date": "2025-01-01", "kind": "holiday", "name": "元旦"},
//!     {"date": "2025-01-26", "kind": "working_day", "name": "春节"}
//!   ]
//! }
//! ```
//!
//! Every day of a holiday span is listed, weekend days inside it included.
//! A date may be listed once only, in one file only; a `working_day` must be
//! a Saturday or Sunday (a weekday already is one); a date lies in the
//! file's year or in the December before it (a notice may bridge New Year's
//! Day with the last days of December).
//!
//! Pure: no I/O beyond the `include_str!` of the shipped files.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The shipped year files, oldest first.
pub const SHIPPED_FILES: [&str; 2] = [
    include_str!("../../reference/calendar/2025.json"),
    include_str!("../../reference/calendar/2026.json"),
];

/// What a listed date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A statutory holiday or a rest day of a holiday span (放假).
    Holiday,
    /// A Saturday or Sunday worked in exchange for a holiday (调休上班).
    WorkingDay,
}

impl DayKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::WorkingDay => "working_day",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "holiday" => Some(DayKind::Holiday),
            "working_day" => Some(DayKind::WorkingDay),
            _ => None,
        }
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One listed date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEntry {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// The holiday it belongs to, as the notice names it (元旦, 春节, …).
    pub name: Option<String>,
}

/// Where a year's dates come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSource {
    /// The notice's title, e.g. 国务院办公厅关于2025年部分节假日安排的通知.
    pub title: String,
    /// Its document number, e.g. 国办发明电〔2024〕12号, where known.
    #[serde(default)]
    pub document_number: Option<String>,
    /// The day it was issued, YYYY-MM-DD, where known.
    #[serde(default)]
    pub issued_on: Option<String>,
    /// Where the dates were checked against the published text.
    #[serde(default)]
    pub checked_against: Vec<String>,
}

/// One year's file, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearFile {
    pub year: i32,
    pub source: CalendarSource,
    /// Whether every date was checked against the published notice.
    pub verified: bool,
    pub note: Option<String>,
    pub days: Vec<CalendarEntry>,
}

/// Why calendar data was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    #[error("the calendar file is not of the expected shape: {0}")]
    Syntax(String),
    #[error("the calendar file's year {0} is not a year between 1950 and 9999")]
    BadYear(i32),
    #[error("the calendar file for {year} names no source: source.title must name the notice the dates come from")]
    NoSource { year: i32 },
    #[error("days[{index}]: {text:?} is not a date written YYYY-MM-DD")]
    BadDate { index: usize, text: String },
    #[error("days[{index}] ({date}): kind {text:?} is neither \"holiday\" nor \"working_day\"")]
    BadKind {
        index: usize,
        date: NaiveDate,
        text: String,
    },
    #[error("days[{index}] ({date}): outside the file's year {year} (only that year and the December before it may be listed)")]
    OutsideYear {
        index: usize,
        date: NaiveDate,
        year: i32,
    },
    #[error("{date} is a {weekday}: a make-up working day (working_day) must be a Saturday or Sunday, Monday to Friday already are working days")]
    WorkingDayOnWeekday { date: NaiveDate, weekday: Weekday },
    #[error("{date} is listed twice (both times as {kind}): list each date once")]
    DuplicateDate { date: NaiveDate, kind: DayKind },
    #[error("{date} is listed both as {first} and as {second}")]
    ConflictingKinds {
        date: NaiveDate,
        first: DayKind,
        second: DayKind,
    },
    #[error("the calendar for {year} is loaded twice")]
    DuplicateYear { year: i32 },
}

/// Which dates are working days in the park.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    days: BTreeMap<NaiveDate, CalendarEntry>,
    years: BTreeSet<i32>,
}

impl WorkCalendar {
    /// A calendar of listed dates. Refuses a date listed twice (with the
    /// same kind or not) and a make-up working day on Monday to Friday.
    /// No year counts as covered (see [`WorkCalendar::from_files`]).
    pub fn from_entries(
        entries: impl IntoIterator<Item = CalendarEntry>,
    ) -> Result<Self, CalendarError> {
        let mut days = BTreeMap::new();
        for entry in entries {
            if entry.kind == DayKind::WorkingDay && !is_weekend(entry.date) {
                return Err(CalendarError::WorkingDayOnWeekday {
                    date: entry.date,
                    weekday: entry.date.weekday(),
                });
            }
            if let Some(first) = days.get(&entry.date).map(|e: &CalendarEntry| e.kind) {
                return Err(if first == entry.kind {
                    CalendarError::DuplicateDate {
                        date: entry.date,
                        kind: first,
                    }
                } else {
                    CalendarError::ConflictingKinds {
                        date: entry.date,
                        first,
                        second: entry.kind,
                    }
                });
            }
            days.insert(entry.date, entry);
        }
        Ok(WorkCalendar {
            days,
            years: BTreeSet::new(),
        })
    }

    /// A calendar of whole years' files; each file's year counts as covered.
    /// Refuses a year loaded twice and a date listed in two files.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = &'a YearFile>,
    ) -> Result<Self, CalendarError> {
        let mut years = BTreeSet::new();
        let mut entries = Vec::new();
        for file in files {
            if !years.insert(file.year) {
                return Err(CalendarError::DuplicateYear { year: file.year });
            }
            entries.extend(file.days.iter().cloned());
        }
        let mut calendar = Self::from_entries(entries)?;
        calendar.years = years;
        Ok(calendar)
    }

    /// The calendar of the shipped years (2025 and 2026), parsed once. The
    /// files are part of the binary and checked by tests, so an error here
    /// is a build defect; callers should refuse to start on it.
    pub fn shipped() -> Result<&'static WorkCalendar, CalendarError> {
        static SHIPPED: OnceLock<Result<WorkCalendar, CalendarError>> = OnceLock::new();
        SHIPPED
            .get_or_init(|| {
                let files = SHIPPED_FILES
                    .iter()
                    .map(|text| parse_year_file(text))
                    .collect::<Result<Vec<_>, _>>()?;
                WorkCalendar::from_files(&files)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// A digest of what decides working days (each listed date and its
    /// kind): equal for calendars that judge every day alike. Figures kept
    /// across requests name the calendar they were worked out on by it.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for (date, entry) in &self.days {
            let kind = match entry.kind {
                DayKind::Holiday => 'h',
                DayKind::WorkingDay => 'w',
            };
            hash.update(format!("{date}{kind};"));
        }
        hash.finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether `date` is a working day in the park.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.days.get(&date).map(|entry| entry.kind) {
            Some(DayKind::WorkingDay) => true,
            Some(DayKind::Holiday) => false,
            None => !is_weekend(date),
        }
    }

    /// The listing of `date`, if it is a listed holiday or make-up day.
    pub fn entry(&self, date: NaiveDate) -> Option<&CalendarEntry> {
        self.days.get(&date)
    }

    /// Whether a year's notice is loaded; a year without one follows the
    /// week alone.
    pub fn covers_year(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The years whose notices are loaded, oldest first.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYearFile {
    year: i32,
    source: CalendarSource,
    verified: bool,
    #[serde(default)]
    note: Option<String>,
    days: Vec<RawDay>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDay {
    date: String,
    kind: String,
    #[serde(default)]
    name: Option<String>,
}

/// Reads one year's file (the JSON shape in the module docs) and checks it:
/// its year, its source, each date (strictly YYYY-MM-DD, in the file's year
/// or the December before), each kind, and the rules of
/// [`WorkCalendar::from_entries`].
pub fn parse_year_file(text: &str) -> Result<YearFile, CalendarError> {
    let raw: RawYearFile =
        serde_json::from_str(text).map_err(|e| CalendarError::Syntax(e.to_string()))?;
    if !(1950..=9999).contains(&raw.year) {
        return Err(CalendarError::BadYear(raw.year));
    }
    if raw.source.title.trim().is_empty() {
        return Err(CalendarError::NoSource { year: raw.year });
    }
    let mut days = Vec::with_capacity(raw.days.len());
    for (index, day) in raw.days.into_iter().enumerate() {
        let date = parse_date(&day.date).ok_or_else(|| CalendarError::BadDate {
            index,
            text: day.date.clone(),
        })?;
        let kind = DayKind::parse(&day.kind).ok_or_else(|| CalendarError::BadKind {
            index,
            date,
            text: day.kind.clone(),
        })?;
        let in_year =
            date.year() == raw.year || (date.year() == raw.year - 1 && date.month() == 12);
        if !in_year {
            return Err(CalendarError::OutsideYear {
                index,
                date,
                year: raw.year,
            });
        }
        days.push(CalendarEntry {
            date,
            kind,
            name: day.name,
        });
    }
    // The same checks as a calendar built from the entries.
    WorkCalendar::from_entries(days.iter().cloned())?;
    Ok(YearFile {
        year: raw.year,
        source: raw.source,
        verified: raw.verified,
        note: raw.note,
        days,
    })
}

/// Exactly `YYYY-MM-DD`: four-digit year, two-digit month and day.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn shipped() -> &'static WorkCalendar {
        WorkCalendar::shipped().unwrap()
    }

    fn file(days: &str) -> String {
        format!(
            r#"{{"year": 2030, "source": {{"title": "国务院办公厅关于2030年部分节假日安排的通知"}},
               "verified": false, "days": [{days}]}}"#
        )
    }

    #[test]
    fn the_fingerprint_follows_the_days_and_their_kinds_only() {
        let entry = |date, kind, name: &str| CalendarEntry {
            date,
            kind,
            name: Some(name.to_owned()),
        };
        let holiday = |name| {
            WorkCalendar::from_entries([entry(d(2030, 1, 1), DayKind::Holiday, name)]).unwrap()
        };
        // The holiday's name decides nothing.
        assert_eq!(holiday("元旦").fingerprint(), holiday("新年").fingerprint());
        let other_day =
            WorkCalendar::from_entries([entry(d(2030, 1, 2), DayKind::Holiday, "元旦")]).unwrap();
        assert_ne!(holiday("元旦").fingerprint(), other_day.fingerprint());
        let worked =
            WorkCalendar::from_entries([entry(d(2030, 1, 5), DayKind::WorkingDay, "元旦")])
                .unwrap();
        let rested =
            WorkCalendar::from_entries([entry(d(2030, 1, 5), DayKind::Holiday, "元旦")]).unwrap();
        assert_ne!(worked.fingerprint(), rested.fingerprint());
        assert_eq!(shipped().fingerprint(), shipped().clone().fingerprint());
    }

    #[test]
    fn the_shipped_files_parse_and_name_their_sources() {
        let files: Vec<YearFile> = SHIPPED_FILES
            .iter()
            .map(|text| parse_year_file(text).unwrap())
            .collect();
        assert_eq!(
            files.iter().map(|f| f.year).collect::<Vec<_>>(),
            [2025, 2026]
        );
        for f in &files {
            assert!(f.verified, "{} is marked unverified", f.year);
            assert!(f.source.title.contains(&f.year.to_string()));
            assert!(f.source.title.starts_with("国务院办公厅关于"));
            assert!(!f.source.checked_against.is_empty());
            for entry in &f.days {
                assert!(entry.name.is_some(), "{} has no holiday name", entry.date);
            }
        }
        assert_eq!(
            files[0].source.document_number.as_deref(),
            Some("国办发明电〔2024〕12号")
        );
        let calendar = shipped();
        assert!(calendar.covers_year(2025) && calendar.covers_year(2026));
        assert!(!calendar.covers_year(2027));
        assert_eq!(calendar.years().collect::<Vec<_>>(), [2025, 2026]);
    }

    /// Each holiday span as published, every day of it.
    #[test]
    fn the_2025_holidays_are_as_published() {
        let calendar = shipped();
        let spans = [
            ((1, 1), (1, 1), "元旦"),
            ((1, 28), (2, 4), "春节"),
            ((4, 4), (4, 6), "清明节"),
            ((5, 1), (5, 5), "劳动节"),
            ((5, 31), (6, 2), "端午节"),
            ((10, 1), (10, 8), "国庆节、中秋节"),
        ];
        let mut listed = 0;
        for ((m0, d0), (m1, d1), name) in spans {
            for date in d(2025, m0, d0)
                .iter_days()
                .take_while(|x| *x <= d(2025, m1, d1))
            {
                let entry = calendar.entry(date).unwrap();
                assert_eq!(entry.kind, DayKind::Holiday, "{date}");
                assert_eq!(entry.name.as_deref(), Some(name), "{date}");
                assert!(!calendar.is_working_day(date), "{date}");
                listed += 1;
            }
        }
        assert_eq!(listed, 1 + 8 + 3 + 5 + 3 + 8);
        for (m, day) in [(1, 26), (2, 8), (4, 27), (9, 28), (10, 11)] {
            let date = d(2025, m, day);
            assert_eq!(calendar.entry(date).unwrap().kind, DayKind::WorkingDay);
            assert!(calendar.is_working_day(date), "{date}");
        }
        // Nothing else is listed.
        let all = calendar
            .days
            .keys()
            .filter(|date| date.year() == 2025)
            .count();
        assert_eq!(all, listed + 5);
    }

    #[test]
    fn the_2026_holidays_are_as_published() {
        let calendar = shipped();
        let spans = [
            ((1, 1), (1, 3), "元旦"),
            ((2, 15), (2, 23), "春节"),
            ((4, 4), (4, 6), "清明节"),
            ((5, 1), (5, 5), "劳动节"),
            ((6, 19), (6, 21), "端午节"),
            ((9, 25), (9, 27), "中秋节"),
            ((10, 1), (10, 7), "国庆节"),
        ];
        let mut listed = 0;
        for ((m0, d0), (m1, d1), name) in spans {
            for date in d(2026, m0, d0)
                .iter_days()
                .take_while(|x| *x <= d(2026, m1, d1))
            {
                let entry = calendar.entry(date).unwrap();
                assert_eq!(entry.kind, DayKind::Holiday, "{date}");
                assert_eq!(entry.name.as_deref(), Some(name), "{date}");
                assert!(!calendar.is_working_day(date), "{date}");
                listed += 1;
            }
        }
        assert_eq!(listed, 3 + 9 + 3 + 5 + 3 + 3 + 7);
        for (m, day) in [(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)] {
            let date = d(2026, m, day);
            assert_eq!(calendar.entry(date).unwrap().kind, DayKind::WorkingDay);
            assert!(calendar.is_working_day(date), "{date}");
        }
        let all = calendar
            .days
            .keys()
            .filter(|date| date.year() == 2026)
            .count();
        assert_eq!(all, listed + 6);
    }

    /// 2025 and 2026 have 248 working days each: 261 weekdays, less the
    /// weekday holidays (18 and 19), plus the make-up days (5 and 6).
    #[test]
    fn each_shipped_year_has_248_working_days() {
        let calendar = shipped();
        for year in [2025, 2026] {
            let working = d(year, 1, 1)
                .iter_days()
                .take_while(|date| date.year() == year)
                .filter(|date| calendar.is_working_day(*date))
                .count();
            assert_eq!(working, 248, "{year}");
        }
    }

    #[test]
    fn unlisted_dates_follow_the_week() {
        let calendar = shipped();
        // 2025-03-10 is a Monday; 2027 has no notice loaded.
        assert!(calendar.is_working_day(d(2025, 3, 10)));
        assert!(calendar.is_working_day(d(2025, 3, 14)));
        assert!(!calendar.is_working_day(d(2025, 3, 15)));
        assert!(!calendar.is_working_day(d(2025, 3, 16)));
        assert!(calendar.is_working_day(d(2027, 1, 1)));
        assert!(!calendar.is_working_day(d(2027, 1, 2)));
        let empty = WorkCalendar::default();
        assert!(empty.is_working_day(d(2025, 10, 1)));
        assert!(!empty.is_working_day(d(2025, 9, 28)));
    }

    #[test]
    fn a_further_year_loads_from_its_file() {
        let text = file(
            r#"{"date": "2029-12-31", "kind": "holiday", "name": "元旦"},
               {"date": "2030-01-01", "kind": "holiday"},
               {"date": "2030-01-05", "kind": "working_day"}"#,
        );
        let year = parse_year_file(&text).unwrap();
        assert_eq!(year.year, 2030);
        assert!(!year.verified);
        assert_eq!(year.days.len(), 3);
        let shipped_files: Vec<YearFile> = SHIPPED_FILES
            .iter()
            .map(|t| parse_year_file(t).unwrap())
            .collect();
        let calendar =
            WorkCalendar::from_files(shipped_files.iter().chain(std::iter::once(&year))).unwrap();
        assert!(calendar.covers_year(2030));
        assert!(!calendar.is_working_day(d(2029, 12, 31)));
        assert!(calendar.is_working_day(d(2030, 1, 5)));
        assert!(!calendar.is_working_day(d(2025, 10, 1)));
        assert_eq!(
            WorkCalendar::from_files([&year, &year]),
            Err(CalendarError::DuplicateYear { year: 2030 })
        );
    }

    #[test]
    fn bad_dates_are_refused_with_their_place() {
        for bad in [
            "2030-1-1",
            "2030/01/01",
            "2030-02-30",
            "20300101",
            "2030-01-01T00:00",
            "",
        ] {
            let text = file(&format!(
                r#"{{"date": "2030-01-01", "kind": "holiday"}}, {{"date": "{bad}", "kind": "holiday"}}"#
            ));
            assert_eq!(
                parse_year_file(&text),
                Err(CalendarError::BadDate {
                    index: 1,
                    text: bad.to_owned()
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn duplicate_and_conflicting_dates_are_refused() {
        let twice = file(
            r#"{"date": "2030-01-01", "kind": "holiday"}, {"date": "2030-01-01", "kind": "holiday"}"#,
        );
        assert_eq!(
            parse_year_file(&twice),
            Err(CalendarError::DuplicateDate {
                date: d(2030, 1, 1),
                kind: DayKind::Holiday
            })
        );
        // 2030-01-05 is a Saturday.
        let conflicting = file(
            r#"{"date": "2030-01-05", "kind": "holiday"}, {"date": "2030-01-05", "kind": "working_day"}"#,
        );
        let err = parse_year_file(&conflicting).unwrap_err();
        assert_eq!(
            err,
            CalendarError::ConflictingKinds {
                date: d(2030, 1, 5),
                first: DayKind::Holiday,
                second: DayKind::WorkingDay
            }
        );
        assert_eq!(
            err.to_string(),
            "2030-01-05 is listed both as holiday and as working_day"
        );
        // Across files too.
        let a = parse_year_file(&file(r#"{"date": "2030-01-01", "kind": "holiday"}"#)).unwrap();
        let mut b = a.clone();
        b.year = 2031;
        assert!(matches!(
            WorkCalendar::from_files([&a, &b]),
            Err(CalendarError::DuplicateDate { .. })
        ));
    }

    #[test]
    fn other_bad_input_is_refused_clearly() {
        // 2030-01-07 is a Monday.
        let weekday = file(r#"{"date": "2030-01-07", "kind": "working_day"}"#);
        let err = parse_year_file(&weekday).unwrap_err();
        assert_eq!(
            err,
            CalendarError::WorkingDayOnWeekday {
                date: d(2030, 1, 7),
                weekday: Weekday::Mon
            }
        );
        assert!(err.to_string().contains("must be a Saturday or Sunday"));
        let kind = file(r#"{"date": "2030-01-01", "kind": "holday"}"#);
        assert_eq!(
            parse_year_file(&kind),
            Err(CalendarError::BadKind {
                index: 0,
                date: d(2030, 1, 1),
                text: "holday".to_owned()
            })
        );
        let outside = file(r#"{"date": "2031-01-01", "kind": "holiday"}"#);
        assert!(matches!(
            parse_year_file(&outside),
            Err(CalendarError::OutsideYear {
                index: 0,
                year: 2030,
                ..
            })
        ));
        let november = file(r#"{"date": "2029-11-30", "kind": "holiday"}"#);
        assert!(matches!(
            parse_year_file(&november),
            Err(CalendarError::OutsideYear { .. })
        ));
        let no_source =
            r#"{"year": 2030, "source": {"title": " "}, "verified": false, "days": []}"#;
        assert_eq!(
            parse_year_file(no_source),
            Err(CalendarError::NoSource { year: 2030 })
        );
        let bad_year = r#"{"year": 30, "source": {"title": "x"}, "verified": false, "days": []}"#;
        assert_eq!(parse_year_file(bad_year), Err(CalendarError::BadYear(30)));
        for shape in [
            "",
            "[]",
            r#"{"year": 2030, "days": []}"#,
            r#"{"year": 2030, "source": {"title": "x"}, "verified": true, "days": [], "extra": 1}"#,
        ] {
            assert!(
                matches!(parse_year_file(shape), Err(CalendarError::Syntax(_))),
                "{shape}"
            );
        }
    }
}
