//! The month's evaluation of each enterprise's dual prevention mechanism
//! (E = (A + B) × α, `domain::evaluation`): its inputs gathered from the
//! check figures of the month and the hazards open in it.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveTime, TimeDelta, TimeZone};
use serde::Serialize;
use uuid::Uuid;

use crate::app::analytics::ScoreChecks;
use crate::app::analytics::{Cell, Table};
use crate::app::check_figures;
use crate::app::checks::RecordContext;
use crate::db::{enterprises, risk as store, DbConnection, Id};
use crate::domain::evaluation::{evaluate, Evaluation, EvaluationInputs, EvaluationRules};
use crate::domain::hazard::HazardLevel;
use crate::error::AppError;
use crate::messages::Rule;

/// One enterprise's evaluation of a month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnterpriseEvaluation {
    pub enterprise_id: Uuid,
    pub enterprise_name: String,
    pub inputs: EvaluationInputs,
    #[serde(flatten)]
    pub evaluation: Evaluation,
}

/// Every enterprise's evaluation of a month, lowest E first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthEvaluation {
    /// `2026-12`
    pub month: String,
    pub items: Vec<EnterpriseEvaluation>,
}

/// The first day of `month` and of the next.
fn month_bounds(year: i32, month: u32) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    Some((first, next))
}

/// The month a request names (`2026-12`), or `today`'s: its first day and
/// the next month's.
pub fn month_of(asked: Option<&str>, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), AppError> {
    match asked {
        None => month_bounds(today.year(), today.month()),
        Some(text) => text
            .split_once('-')
            .filter(|(y, m)| y.len() == 4 && m.len() == 2)
            .and_then(|(y, m)| Some((y.parse().ok()?, m.parse().ok()?)))
            .and_then(|(y, m)| month_bounds(y, m)),
    }
    .ok_or_else(|| AppError::invalid("month", Rule::NotMonth))
}

/// The evaluation of `[first, next)` for every active enterprise (or one).
pub fn month(
    conn: &mut DbConnection,
    scope: Option<Uuid>,
    (first, next): (NaiveDate, NaiveDate),
    rules: &EvaluationRules,
    context: &RecordContext,
) -> Result<MonthEvaluation, AppError> {
    let last = next - TimeDelta::days(1);
    let figures = check_figures::figures(conn, scope, (first, last), context)?;
    month_of_figures(conn, scope, (first, next), rules, context, &figures)
}

/// [`month`] from the month's check figures, worked out already.
fn month_of_figures(
    conn: &mut DbConnection,
    scope: Option<Uuid>,
    (first, next): (NaiveDate, NaiveDate),
    rules: &EvaluationRules,
    context: &RecordContext,
    figures: &check_figures::CheckFigures,
) -> Result<MonthEvaluation, AppError> {
    let last = next - TimeDelta::days(1);
    let tz = context.park.time_zone;
    let utc = |day: NaiveDate| {
        let local = day.and_time(NaiveTime::MIN);
        tz.from_local_datetime(&local)
            .earliest()
            .map_or(local, |t| t.naive_utc())
    };
    let (start, end) = (utc(first), utc(next));
    let today = context.lifecycle.now.park_today;
    // Overdue is judged at the month's end, or today for this month.
    let judged_on = last.min(today);
    let mut inputs: HashMap<Id, EvaluationInputs> = HashMap::new();
    for row in &figures.enterprises {
        let Some(id) = row.enterprise_id else {
            continue;
        };
        let o = &row.occurrences;
        inputs.insert(
            id.into(),
            EvaluationInputs {
                check_tasks: row.tasks,
                settled: o.done_on_time + o.done_late + o.missed,
                done: o.done_on_time + o.done_late,
                missed_on_serious_units: row
                    .missed_on_serious_units
                    .saturating_sub(row.missed_duty_checks),
                missed_duty_checks: row.missed_duty_checks,
                ..EvaluationInputs::default()
            },
        );
    }
    for h in store::hazards_open_in(conn, scope.map(Id::from), (start, end))? {
        let entry = inputs.entry(h.enterprise_id).or_default();
        if h.found_at >= start {
            entry.found += 1;
        }
        let closed_by_end = h.closed_at.is_some_and(|at| at < end);
        if h.deadline <= last {
            entry.to_rectify += 1;
            entry.accepted += u64::from(closed_by_end);
        }
        if h.level == HazardLevel::Major && h.deadline < judged_on && !closed_by_end {
            entry.major_overdue += 1;
        }
    }
    let mut items: Vec<EnterpriseEvaluation> = enterprises::all_active(conn)?
        .into_iter()
        .filter(|e| scope.is_none_or(|own| e.id.uuid() == own))
        .map(|e| {
            let inputs = inputs.remove(&e.id).unwrap_or_default();
            EnterpriseEvaluation {
                enterprise_id: e.id.uuid(),
                enterprise_name: e.name,
                evaluation: evaluate(&inputs, rules),
                inputs,
            }
        })
        .collect();
    items.sort_by(|a, b| {
        a.evaluation
            .e
            .total_cmp(&b.evaluation.e)
            .then_with(|| a.enterprise_name.cmp(&b.enterprise_name))
    });
    Ok(MonthEvaluation {
        month: format!("{}-{:02}", first.year(), first.month()),
        items,
    })
}

/// Each enterprise's checks of the month `day` is in, for the scorecard,
/// with its evaluation E of that month (and the month, `2026-12`): the
/// month's occurrences are walked once for both.
pub fn score_checks(
    conn: &mut DbConnection,
    scope: Option<Uuid>,
    day: NaiveDate,
    rules: &EvaluationRules,
    context: &RecordContext,
) -> Result<(HashMap<Uuid, ScoreChecks>, String), AppError> {
    let (first, next) = month_of(None, day)?;
    let figures = check_figures::figures(conn, scope, (first, next - TimeDelta::days(1)), context)?;
    let mut checks: HashMap<Uuid, ScoreChecks> = figures
        .enterprises
        .iter()
        .filter_map(|row| {
            let o = &row.occurrences;
            Some((
                row.enterprise_id?,
                ScoreChecks {
                    planned: o.planned,
                    done: o.done_on_time + o.done_late,
                    missed: o.missed,
                    completion_rate: o.completion_rate,
                    hazards_from_tasks: row.hazards_from_tasks,
                    evaluation: None,
                },
            ))
        })
        .collect();
    let evaluated = month_of_figures(conn, scope, (first, next), rules, context, &figures)?;
    for item in evaluated.items {
        // E is only read beside checks: an enterprise without any has none.
        if let Some(row) = checks.get_mut(&item.enterprise_id) {
            row.evaluation = Some(item.evaluation.e);
        }
    }
    Ok((checks, evaluated.month))
}

impl MonthEvaluation {
    /// One row per enterprise.
    pub fn table(&self) -> Table {
        let columns = ["企业", "E", "A", "B", "α", "扣分与否决"];
        let rows = self
            .items
            .iter()
            .map(|item| {
                let e = &item.evaluation;
                let findings: Vec<String> = e
                    .findings
                    .iter()
                    .map(|f| {
                        if f.points > 0.0 {
                            format!("{}：{}（扣{}分）", f.part, f.reason, f.points)
                        } else {
                            format!("{}：{}（否决）", f.part, f.reason)
                        }
                    })
                    .collect();
                vec![
                    Cell::Text(item.enterprise_name.clone()),
                    Cell::Number(e.e),
                    Cell::Number(e.a),
                    Cell::Number(e.b),
                    Cell::Number(f64::from(e.alpha)),
                    Cell::Text(findings.join("；")),
                ]
            })
            .collect();
        Table {
            title: "双重预防机制运行效果评估",
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows,
        }
    }
}
