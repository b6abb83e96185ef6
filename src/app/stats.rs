//! Dashboard figures: the park's hazards counted by state, level, source,
//! category, grade and enterprise, with the overdue ones and the
//! rectification rate, computed from the summary rows the database keeps
//! in each change's transaction (and a check of those rows against the
//! hazards).

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use uuid::Uuid;

use crate::app::check_figures;
use crate::app::checks::RecordContext;
use crate::app::grading::{self, GradeCounts};
use crate::app::reports::percent;
use crate::db::grading::Assessment;
use crate::db::stats::{self, GroupFilter, OverdueGroup, TallyGroup};
use crate::db::DbConnection;
use crate::db::Id;
use crate::domain::grading::Grade;
use crate::domain::hazard::{HazardLevel, HazardState};
use crate::domain::tally::Completion;
use crate::error::AppError;

/// Counts of one slice of the park's hazards.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub reported: i64,
    pub rectifying: i64,
    pub pending_acceptance: i64,
    pub closed: i64,
    pub voided: i64,
    /// reported + rectifying + pending_acceptance.
    pub open: i64,
    /// Not yet submitted and past the deadline day (park time).
    pub overdue: i64,
}

impl Counts {
    fn add_state(&mut self, state: HazardState, n: i64) {
        match state {
            HazardState::Reported => self.reported += n,
            HazardState::Rectifying => self.rectifying += n,
            HazardState::PendingAcceptance => self.pending_acceptance += n,
            HazardState::Closed => self.closed += n,
            HazardState::Voided => self.voided += n,
        }
        if state.is_open() {
            self.open += n;
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnterpriseCounts {
    pub enterprise_id: Uuid,
    pub name: String,
    pub grade: Option<Grade>,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overview {
    /// The park-local day the overdue figures are for.
    pub today: NaiveDate,
    pub year: Option<i32>,
    pub enterprise_id: Option<Uuid>,
    #[serde(flatten)]
    pub totals: Counts,
    /// closed / (all but voided), in percent.
    pub rectification_rate: f64,
    /// Open major hazards: the national target (动态清零) is zero.
    pub major_open: i64,
    /// Closures entered after the fact (补录).
    pub entered_late_closures: i64,
    pub by_level: BTreeMap<String, Counts>,
    pub by_source: BTreeMap<String, Counts>,
    pub by_category: BTreeMap<String, Counts>,
    /// By the enterprises' current grade (`not_assessed` for none).
    pub by_grade: BTreeMap<String, Counts>,
    pub by_enterprise: Vec<EnterpriseCounts>,
    /// Enterprises per grade today (the park's figures; absent for an
    /// enterprise contact).
    pub enterprises_per_grade: Option<GradeCounts>,
    /// Hazards found in each month (January first, voided ones excluded)
    /// of `year`, or of the current year when no year is asked for.
    pub found_per_month: FoundPerMonth,
    /// The five newest major hazards (voided ones excluded), newest first.
    pub newest_major: Vec<MajorHazardBrief>,
    /// The scheduled checks (双重预防) of the park or the enterprise today
    /// and this month so far, whatever `year` asks, as
    /// `/analytics/checks` counts them when the overview was last worked
    /// out: again on any change of the hazards or the checks and each day
    /// (occurrences falling due meanwhile show at the next change; the
    /// minute-fresh view is `/stats/dual-prevention`).
    pub checks: Option<OverviewChecks>,
}

/// The checks of today and of this month so far.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OverviewChecks {
    pub today: Completion,
    pub month: Completion,
    /// This month's missed occurrences on 重大 or 较大 units.
    pub month_missed_on_serious_units: u64,
}

/// [`OverviewChecks`] of `today` (park-local), of one enterprise or all.
pub fn overview_checks(
    conn: &mut DbConnection,
    scope: Option<Uuid>,
    today: NaiveDate,
    context: &RecordContext,
) -> Result<OverviewChecks, AppError> {
    // Today, and the month's days before it: two walks, none counted twice.
    let first = today.with_day(1).unwrap_or(today);
    let mut periods = vec![(today, today)];
    if let Some(yesterday) = today.pred_opt().filter(|day| *day >= first) {
        periods.push((first, yesterday));
    }
    let counts = check_figures::occurrences_in(conn, scope, &periods, context)?;
    let (day, mut month, mut missed) = (counts[0].0, Completion::default(), 0);
    for (counted, missed_on_serious) in &counts {
        month.add(counted);
        missed += missed_on_serious;
    }
    Ok(OverviewChecks {
        today: day.rated(),
        month: month.rated(),
        month_missed_on_serious_units: missed,
    })
}

/// Hazards found per month of one year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FoundPerMonth {
    pub year: i32,
    /// Twelve counts, January to December.
    pub months: Vec<i64>,
}

/// A major hazard as a wall screen shows it: no description, no people.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MajorHazardBrief {
    pub number: String,
    pub enterprise_name: String,
    /// The park-local day it was found.
    pub found_on: NaiveDate,
    pub state: HazardState,
    /// The category code.
    pub category: String,
}

/// The overview of the hazards found in `year` (all years when `None`) of
/// one enterprise or the whole park, as of the park-local day `today`.
/// `park_wide` adds the enterprises per grade.
pub fn overview(
    conn: &mut DbConnection,
    today: NaiveDate,
    park_zone: chrono_tz::Tz,
    year: Option<i32>,
    enterprise_id: Option<Uuid>,
    park_wide: bool,
) -> Result<Overview, AppError> {
    let filter = GroupFilter {
        found_year: year,
        months: None,
        enterprise_id: enterprise_id.map(Id::from),
    };
    let groups = stats::tally_groups(conn, year, filter.enterprise_id)?;
    let overdue = stats::overdue_groups(conn, today, &filter)?;
    let names: HashMap<Id, String> = stats::enterprise_names(conn)?.into_iter().collect();
    // Only the grades: review flags would cost two more passes over the hazards.
    let grades = crate::db::grading::grades_as_of(conn, today, None)?;
    let per_grade = if park_wide {
        Some(grading::grade_counts(conn, today)?)
    } else {
        None
    };

    let month_year = year.unwrap_or_else(|| today.year());
    let mut months = vec![0i64; 12];
    let in_year = GroupFilter {
        found_year: Some(month_year),
        ..filter.clone()
    };
    for (month, n) in stats::found_per_month(conn, &in_year)? {
        if let Some(slot) = usize::try_from(month - 1)
            .ok()
            .and_then(|i| months.get_mut(i))
        {
            *slot += n;
        }
    }
    let newest_major = stats::newest_major(conn, &filter, 5)?
        .into_iter()
        .map(|m| MajorHazardBrief {
            number: m.number,
            enterprise_name: names.get(&m.enterprise_id).cloned().unwrap_or_default(),
            found_on: local_day(m.found_at, park_zone),
            state: m.state,
            category: m.category,
        })
        .collect();

    let mut tally = Tally::default();
    let mut entered_late_closures = 0;
    for g in &groups {
        tally.add_group(g, grade_key(&grades, g.enterprise_id));
        if g.state != HazardState::Voided {
            entered_late_closures += g.late_closures;
        }
    }
    for o in &overdue {
        tally.add_overdue(o, grade_key(&grades, o.enterprise_id));
    }
    let Tally {
        totals,
        by_level,
        by_source,
        by_category,
        by_grade,
        by_enterprise,
        major_open,
    } = tally;
    Ok(Overview {
        today,
        year,
        enterprise_id,
        rectification_rate: percent(totals.closed, totals.open + totals.closed),
        totals,
        major_open,
        entered_late_closures,
        by_level,
        by_source,
        by_category,
        by_grade,
        by_enterprise: enterprise_list(by_enterprise, &names, &grades)?,
        enterprises_per_grade: per_grade,
        found_per_month: FoundPerMonth {
            year: month_year,
            months,
        },
        newest_major,
        checks: None,
    })
}

/// The park-local day of a UTC instant.
fn local_day(at: chrono::NaiveDateTime, zone: chrono_tz::Tz) -> NaiveDate {
    use chrono::TimeZone;
    zone.from_utc_datetime(&at).date_naive()
}

/// The current grade of the enterprise `id`, if assessed.
fn grade_of(grades: &HashMap<Id, Assessment>, id: Id) -> Option<Grade> {
    grades.get(&id).map(|a| a.grade)
}

/// The `by_grade` key of the enterprise `id`: its grade, or `not_assessed`.
fn grade_key(grades: &HashMap<Id, Assessment>, id: Id) -> String {
    grade_of(grades, id).map_or("not_assessed".to_owned(), |g| g.as_str().to_owned())
}

/// The overview's counts, in total and by every cut, by code.
#[derive(Default)]
struct Tally {
    totals: Counts,
    by_level: BTreeMap<String, Counts>,
    by_source: BTreeMap<String, Counts>,
    by_category: BTreeMap<String, Counts>,
    by_grade: BTreeMap<String, Counts>,
    by_enterprise: BTreeMap<Id, Counts>,
    major_open: i64,
}

impl Tally {
    /// Counts one group of hazards by state in every cut it belongs to;
    /// `grade` is its enterprise's [`grade_key`].
    fn add_group(&mut self, g: &TallyGroup, grade: String) {
        self.totals.add_state(g.state, g.hazards);
        self.by_level
            .entry(g.level.as_str().to_owned())
            .or_default()
            .add_state(g.state, g.hazards);
        self.by_source
            .entry(g.source.as_str().to_owned())
            .or_default()
            .add_state(g.state, g.hazards);
        self.by_category
            .entry(g.category.clone())
            .or_default()
            .add_state(g.state, g.hazards);
        self.by_grade
            .entry(grade)
            .or_default()
            .add_state(g.state, g.hazards);
        self.by_enterprise
            .entry(g.enterprise_id)
            .or_default()
            .add_state(g.state, g.hazards);
        if g.level == HazardLevel::Major && g.state.is_open() {
            self.major_open += g.hazards;
        }
    }

    /// Counts one group of overdue hazards in every cut it belongs to;
    /// `grade` is its enterprise's [`grade_key`].
    fn add_overdue(&mut self, o: &OverdueGroup, grade: String) {
        let n = o.hazards;
        self.totals.overdue += n;
        self.by_level
            .entry(o.level.as_str().to_owned())
            .or_default()
            .overdue += n;
        self.by_source
            .entry(o.source.as_str().to_owned())
            .or_default()
            .overdue += n;
        self.by_category
            .entry(o.category.clone())
            .or_default()
            .overdue += n;
        self.by_grade.entry(grade).or_default().overdue += n;
        self.by_enterprise
            .entry(o.enterprise_id)
            .or_default()
            .overdue += n;
    }
}

/// The enterprises with hazards, with their names and grades: most open
/// hazards first, then by name.
fn enterprise_list(
    by_enterprise: BTreeMap<Id, Counts>,
    names: &HashMap<Id, String>,
    grades: &HashMap<Id, Assessment>,
) -> Result<Vec<EnterpriseCounts>, AppError> {
    let mut enterprises = by_enterprise
        .into_iter()
        .map(|(id, counts)| {
            Ok(EnterpriseCounts {
                enterprise_id: id.uuid(),
                name: names.get(&id).cloned().unwrap_or_default(),
                grade: grade_of(grades, id),
                counts,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    enterprises.sort_by(|a, b| {
        b.counts
            .open
            .cmp(&a.counts.open)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(enterprises)
}

/// A summary row that does not match the hazards it counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryDifference {
    /// The summary table.
    pub table: &'static str,
    /// The row's key, its columns joined by `/`.
    pub key: String,
    /// What the hazards and their events say.
    pub counted: i64,
    /// What the summary row holds.
    pub kept: i64,
}

/// Recomputes every summary row from the hazards and their events and
/// lists each one the triggers left different (none, when all is well).
pub fn verify_summary(conn: &mut DbConnection) -> Result<Vec<SummaryDifference>, AppError> {
    // All reads against one snapshot, not several moments, without holding
    // up writers.
    let checks = crate::db::snapshot_transaction(conn, stats::summary_checks)?;
    let mut differences = Vec::new();
    for check in checks {
        let as_map = |rows: Vec<stats::SummaryRow>| -> BTreeMap<String, i64> {
            rows.into_iter().map(|r| (r.key, r.n)).collect()
        };
        let counted = as_map(check.counted);
        let kept = as_map(check.kept);
        let keys: std::collections::BTreeSet<&String> = counted.keys().chain(kept.keys()).collect();
        for key in keys {
            let counted = counted.get(key).copied().unwrap_or(0);
            let kept = kept.get(key).copied().unwrap_or(0);
            if counted != kept {
                differences.push(SummaryDifference {
                    table: check.table,
                    key: key.clone(),
                    counted,
                    kept,
                });
            }
        }
    }
    Ok(differences)
}

/// Rewrites the summary rows from the hazards and their events, in one
/// transaction, then compacts them.
pub fn rebuild_summary(conn: &mut DbConnection) -> Result<(), AppError> {
    crate::db::write_transaction(conn, stats::rebuild_summaries)?;
    stats::compact_summaries(conn)
}
