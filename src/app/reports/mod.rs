//! The yearly and quarterly figures for the park's Responsible Care report
//! and the statutory quarterly statistics: what was found in the period,
//! what was rectified and how fast, by every cut the report uses — read from
//! the hazards as they are, or as they stood on a given day.

pub mod render;

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate, TimeZone};
use serde::Serialize;

use crate::app::grading::GradeCounts;
use crate::db::regulation::{self, ListingCounts};
use crate::db::stats::{self, GroupFilter, HazardGroup};
use crate::db::{DbConnection, Id};
use crate::domain::hazard::{CheckSource, HazardLevel, HazardState};
use crate::error::AppError;
use crate::settings::CodeLabel;

/// The stretch of time a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Period {
    pub year: i32,
    /// 1–4 for a quarterly report.
    pub quarter: Option<u32>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

impl Period {
    pub fn year(year: i32) -> Option<Period> {
        Period::months(year, None, 1, 12)
    }

    pub fn quarter(year: i32, quarter: u32) -> Option<Period> {
        if !(1..=4).contains(&quarter) {
            return None;
        }
        let first = (quarter - 1) * 3 + 1;
        Period::months(year, Some(quarter), first, first + 2)
    }

    fn months(year: i32, quarter: Option<u32>, first: u32, last: u32) -> Option<Period> {
        if !(2000..=2100).contains(&year) {
            return None;
        }
        let first_day = NaiveDate::from_ymd_opt(year, first, 1)?;
        let last_day = if last == 12 {
            NaiveDate::from_ymd_opt(year, 12, 31)?
        } else {
            NaiveDate::from_ymd_opt(year, last + 1, 1)?.pred_opt()?
        };
        Some(Period {
            year,
            quarter,
            first_day,
            last_day,
        })
    }

    /// The period's first and last days.
    pub fn days(&self) -> Option<(NaiveDate, NaiveDate)> {
        let (first, last) = self.month_range();
        let start = NaiveDate::from_ymd_opt(self.year, first, 1)?;
        let end = if last == 12 {
            NaiveDate::from_ymd_opt(self.year, 12, 31)?
        } else {
            NaiveDate::from_ymd_opt(self.year, last + 1, 1)?.pred_opt()?
        };
        Some((start, end))
    }

    fn month_range(&self) -> (u32, u32) {
        (self.first_day.month(), self.last_day.month())
    }

    pub fn label_zh(&self) -> String {
        match self.quarter {
            Some(q) => format!("{}年第{}季度", self.year, q),
            None => format!("{}年", self.year),
        }
    }
}

/// Found and closed counts of one slice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Tally {
    pub found: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    pub open: i64,
}

impl Tally {
    fn add(&mut self, group: &HazardGroup) {
        self.found += group.hazards;
        if group.state == HazardState::Closed {
            self.closed += group.hazards;
            if group.on_time == 1 {
                self.closed_on_time += group.hazards;
            }
        } else {
            self.open += group.hazards;
        }
    }
}

/// One row of a breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Slice {
    /// A stable code (`self_check`, `major`, a category or specialty code,
    /// a month `1`–`12`, an enterprise id).
    pub key: String,
    /// What the report prints.
    pub label: String,
    #[serde(flatten)]
    pub tally: Tally,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub period: Period,
    /// The figures as they stood at the end of this day (park time), read
    /// from the event history; `null`: as they are now.
    pub as_of: Option<NaiveDate>,
    /// Hazards found in the period, voided ones excluded.
    pub found: i64,
    /// Of those, closed (销号).
    pub closed: i64,
    /// Of those, submitted by the end of the (extended) deadline day and accepted.
    pub closed_on_time: i64,
    /// Of those closed, closures entered after the fact (补录): how much of
    /// the figures rests on paper records.
    pub entered_late_closures: i64,
    pub still_open: i64,
    /// Found in the period and voided as false or duplicate: not counted as found.
    pub voided: i64,
    /// closed / found, in percent with two decimals; 100 when nothing was found.
    pub rectification_rate: f64,
    pub on_time_rate: f64,
    pub major_found: i64,
    pub major_closed: i64,
    /// Hazards found in the period and listed for supervision (挂牌督办):
    /// listed, delisted (摘牌) and still listed.
    pub supervised_listings: ListingCounts,
    pub by_source: Vec<Slice>,
    pub by_level: Vec<Slice>,
    pub by_category: Vec<Slice>,
    pub by_specialty: Vec<Slice>,
    pub by_month: Vec<Slice>,
    pub by_enterprise: Vec<Slice>,
    /// Inspections per kind of check with their date in the period.
    pub inspections_by_source: Vec<InspectionCount>,
    /// Enterprises per grade at the end of the period (or on `as_of`, if earlier).
    pub enterprises_by_grade: GradeCounts,
    pub grades_on: NaiveDate,
    /// The dual prevention mechanism in the period (check tasks, the
    /// register's units, major hazard sources and their 包保责任人'
    /// duties), as it stands now; `null` for a report as of a past day, or
    /// when the park keeps no check task and no major hazard source.
    pub dual_prevention: Option<DualPrevention>,
}

/// The dual prevention mechanism's figures in a report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DualPrevention {
    /// Occurrences of check tasks that started in the period, up to now.
    pub checks: crate::domain::tally::Completion,
    pub check_tasks: u64,
    /// Hazards found in the period by check tasks, and otherwise.
    pub hazards_from_tasks: u64,
    pub hazards_other: u64,
    pub units_by_level: crate::domain::tally::ByLevel,
    pub major_sources: u64,
    /// 一级, 二级, 三级, 四级.
    pub sources_by_grade: [u64; 4],
    pub sources_missing_persons: u64,
    /// Each kind of 包保责任人's duty checks (principal, technical,
    /// operational).
    pub duties: Vec<crate::domain::tally::KindFigures>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InspectionCount {
    pub source: String,
    pub label: String,
    pub inspections: i64,
}

/// What a report needs to know besides the database.
pub struct Vocabulary<'a> {
    pub categories: &'a [CodeLabel],
    pub specialties: &'a [CodeLabel],
    pub time_zone: chrono_tz::Tz,
}

fn label_of(list: &[CodeLabel], code: &str) -> String {
    list.iter()
        .find(|c| c.code == code)
        .map_or_else(|| code.to_owned(), |c| c.label.clone())
}

pub fn percent(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        return 100.0;
    }
    (part as f64 * 10_000.0 / whole as f64).round() / 100.0
}

/// Builds the report of `period`, now or as it stood at the end of `as_of`.
pub fn build(
    conn: &mut DbConnection,
    period: Period,
    as_of: Option<NaiveDate>,
    vocabulary: &Vocabulary,
) -> Result<Report, AppError> {
    let (first_month, last_month) = period.month_range();
    let groups = hazard_groups(conn, &period, as_of, vocabulary)?;
    let names: HashMap<Id, String> = stats::enterprise_names(conn)?.into_iter().collect();
    let Tallies {
        voided,
        total,
        major,
        by_source,
        by_level,
        by_category,
        by_specialty,
        by_month,
        by_enterprise,
    } = Tallies::of(&groups);
    let inspections_by_source = inspection_counts(conn, &period, as_of)?;
    let until = as_of.map(|day| end_of_day(day, vocabulary));
    let entered_late_closures = stats::entered_late_closures(conn, &period_filter(period), until)?;
    let filter = period_filter(period);
    let supervised_listings = regulation::listing_counts(conn, period.year, filter.months, as_of)?;
    let grades_on = as_of.map_or(period.last_day, |d| d.min(period.last_day));
    let enterprises_by_grade = super::grading::grade_counts(conn, grades_on)?;

    Ok(Report {
        period,
        as_of,
        found: total.found,
        closed: total.closed,
        closed_on_time: total.closed_on_time,
        entered_late_closures,
        still_open: total.open,
        voided,
        rectification_rate: percent(total.closed, total.found),
        on_time_rate: percent(total.closed_on_time, total.closed),
        major_found: major.found,
        major_closed: major.closed,
        supervised_listings,
        by_source: source_slices(by_source),
        by_level: level_slices(by_level),
        by_category: category_slices(vocabulary, by_category),
        by_specialty: specialty_slices(vocabulary, by_specialty),
        by_month: month_slices(first_month, last_month, by_month),
        by_enterprise: enterprise_slices(by_enterprise, &names),
        inspections_by_source,
        enterprises_by_grade,
        grades_on,
        dual_prevention: None,
    })
}

/// The hazards found in `period`, grouped: as they are now, or as they
/// stood at the end of the park-local day `as_of`.
fn hazard_groups(
    conn: &mut DbConnection,
    period: &Period,
    as_of: Option<NaiveDate>,
    vocabulary: &Vocabulary,
) -> Result<Vec<HazardGroup>, AppError> {
    let filter = period_filter(*period);
    match as_of {
        None => stats::hazard_groups(conn, &filter),
        Some(day) => stats::hazard_groups_as_of(conn, &filter, end_of_day(day, vocabulary)),
    }
}

/// The hazards found in `period`.
fn period_filter(period: Period) -> GroupFilter {
    let (first_month, last_month) = period.month_range();
    GroupFilter {
        found_year: Some(period.year),
        months: period
            .quarter
            .map(|_| (first_month as i32, last_month as i32)),
        enterprise_id: None,
    }
}

/// The end of the park-local `day`, in UTC.
fn end_of_day(day: NaiveDate, vocabulary: &Vocabulary) -> chrono::NaiveDateTime {
    let end_local = day
        .succ_opt()
        .unwrap_or(day)
        .and_time(chrono::NaiveTime::MIN);
    vocabulary
        .time_zone
        .from_local_datetime(&end_local)
        .earliest()
        .map_or(end_local, |t| t.naive_utc())
}

/// The groups added up by every cut of the report, by code; voided hazards
/// only counted as such.
#[derive(Default)]
struct Tallies {
    voided: i64,
    total: Tally,
    major: Tally,
    by_source: BTreeMap<String, Tally>,
    by_level: BTreeMap<String, Tally>,
    by_category: BTreeMap<String, Tally>,
    by_specialty: BTreeMap<String, Tally>,
    by_month: BTreeMap<i32, Tally>,
    by_enterprise: BTreeMap<Id, Tally>,
}

impl Tallies {
    /// Adds up `groups`.
    fn of(groups: &[HazardGroup]) -> Tallies {
        let mut tallies = Tallies::default();
        for group in groups {
            tallies.add(group);
        }
        tallies
    }

    /// Counts one group in every cut it belongs to.
    fn add(&mut self, group: &HazardGroup) {
        if group.state == HazardState::Voided {
            self.voided += group.hazards;
            return;
        }
        self.total.add(group);
        if group.level == HazardLevel::Major {
            self.major.add(group);
        }
        bump(&mut self.by_source, group.source.as_str(), group);
        bump(&mut self.by_level, group.level.as_str(), group);
        bump(&mut self.by_category, &group.category, group);
        let specialty = group.specialty.as_deref().unwrap_or("unspecified");
        bump(&mut self.by_specialty, specialty, group);
        self.by_month
            .entry(group.found_month)
            .or_default()
            .add(group);
        self.by_enterprise
            .entry(group.enterprise_id)
            .or_default()
            .add(group);
    }
}

/// Counts `group` in `key`'s tally, naming the key only the first time.
fn bump(map: &mut BTreeMap<String, Tally>, key: &str, group: &HazardGroup) {
    match map.get_mut(key) {
        Some(tally) => tally.add(group),
        None => map.entry(key.to_owned()).or_default().add(group),
    }
}

/// Removes `key`'s tally from `map`; an empty one when it has none.
fn take(map: &mut BTreeMap<String, Tally>, key: &str) -> Tally {
    map.remove(key).unwrap_or_default()
}

/// One slice per kind of check, in the order of [`CheckSource::ALL`].
fn source_slices(mut by_source: BTreeMap<String, Tally>) -> Vec<Slice> {
    CheckSource::ALL
        .iter()
        .map(|s| Slice {
            key: s.as_str().to_owned(),
            label: s.label_zh().to_owned(),
            tally: take(&mut by_source, s.as_str()),
        })
        .collect()
}

/// One slice per hazard level, in the order of [`HazardLevel::ALL`].
fn level_slices(mut by_level: BTreeMap<String, Tally>) -> Vec<Slice> {
    HazardLevel::ALL
        .iter()
        .map(|l| Slice {
            key: l.as_str().to_owned(),
            label: l.label_zh().to_owned(),
            tally: take(&mut by_level, l.as_str()),
        })
        .collect()
}

/// One slice per configured category, then any other codes found.
fn category_slices(
    vocabulary: &Vocabulary,
    mut by_category: BTreeMap<String, Tally>,
) -> Vec<Slice> {
    let mut categories: Vec<Slice> = vocabulary
        .categories
        .iter()
        .map(|c| Slice {
            key: c.code.clone(),
            label: c.label.clone(),
            tally: take(&mut by_category, &c.code),
        })
        .collect();
    // Codes no longer configured still count.
    categories.extend(by_category.into_iter().map(|(k, t)| Slice {
        label: k.clone(),
        key: k,
        tally: t,
    }));
    categories
}

/// One slice per configured specialty, then any other codes found (and
/// `unspecified`, for hazards without one).
fn specialty_slices(
    vocabulary: &Vocabulary,
    mut by_specialty: BTreeMap<String, Tally>,
) -> Vec<Slice> {
    let mut specialties: Vec<Slice> = vocabulary
        .specialties
        .iter()
        .map(|c| Slice {
            key: c.code.clone(),
            label: c.label.clone(),
            tally: take(&mut by_specialty, &c.code),
        })
        .collect();
    specialties.extend(by_specialty.into_iter().map(|(k, t)| {
        let label = if k == "unspecified" {
            "未分专业".to_owned()
        } else {
            label_of(vocabulary.specialties, &k)
        };
        Slice {
            key: k,
            label,
            tally: t,
        }
    }));
    specialties
}

/// One slice per month of the period, `first` to `last`.
fn month_slices(first: u32, last: u32, mut by_month: BTreeMap<i32, Tally>) -> Vec<Slice> {
    (first..=last)
        .map(|m| Slice {
            key: m.to_string(),
            label: format!("{m}月"),
            tally: by_month.remove(&(m as i32)).unwrap_or_default(),
        })
        .collect()
}

/// One slice per enterprise with hazards, by name; most found first.
fn enterprise_slices(
    by_enterprise: BTreeMap<Id, Tally>,
    names: &HashMap<Id, String>,
) -> Vec<Slice> {
    let mut enterprises: Vec<Slice> = by_enterprise
        .into_iter()
        .map(|(id, tally)| Slice {
            label: names.get(&id).cloned().unwrap_or_else(|| id.to_string()),
            key: id.to_string(),
            tally,
        })
        .collect();
    enterprises.sort_by(|a, b| {
        b.tally
            .found
            .cmp(&a.tally.found)
            .then_with(|| a.label.cmp(&b.label))
    });
    enterprises
}

/// Inspections per kind of check dated in the period (up to `as_of`).
fn inspection_counts(
    conn: &mut DbConnection,
    period: &Period,
    as_of: Option<NaiveDate>,
) -> Result<Vec<InspectionCount>, AppError> {
    let inspected: HashMap<String, i64> = stats::inspections_by_source(
        conn,
        period.first_day,
        as_of.map_or(period.last_day, |d| d.min(period.last_day)),
        None,
    )?
    .into_iter()
    .collect();
    Ok(CheckSource::ALL
        .iter()
        .map(|s| InspectionCount {
            source: s.as_str().to_owned(),
            label: s.label_zh().to_owned(),
            inspections: inspected.get(s.as_str()).copied().unwrap_or(0),
        })
        .collect())
}
