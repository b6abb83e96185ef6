//! Four-colour enterprise risk grading (红橙黄蓝): the grade follows from an
//! assessment's score and direct-red triggers under a versioned set of
//! thresholds, and decides how closely the park supervises the enterprise.
//! Scores are kept in hundredths of a point so boundaries such as 59.99 and
//! 60 compare exactly.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::access::Caller;
use crate::domain::park::CodeLabel;
use crate::domain::text::{optional_text, MAX_LINE, MAX_TEXT};
use crate::error::{AppError, FieldError, FieldErrors};
use crate::messages::Rule;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// 红: 重大风险 — 整治淘汰
    Red,
    /// 橙: 较大风险 — 帮扶管控
    Orange,
    /// 黄: 一般风险 — 规范提升
    Yellow,
    /// 蓝: 低风险 — 夯实巩固
    Blue,
}

impl Grade {
    pub const ALL: [Grade; 4] = [Grade::Red, Grade::Orange, Grade::Yellow, Grade::Blue];

    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Red => "red",
            Grade::Orange => "orange",
            Grade::Yellow => "yellow",
            Grade::Blue => "blue",
        }
    }

    pub fn label_zh(self) -> &'static str {
        crate::domain::terms::name("grades", self.as_str())
    }

    /// The park's policy for the grade.
    pub fn policy_zh(self) -> &'static str {
        match self {
            Grade::Red => "整治淘汰",
            Grade::Orange => "帮扶管控",
            Grade::Yellow => "规范提升",
            Grade::Blue => "夯实巩固",
        }
    }
}

impl std::str::FromStr for Grade {
    type Err = String;

    fn from_str(s: &str) -> Result<Grade, String> {
        Grade::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| format!("unknown grade {s:?}"))
    }
}

impl std::fmt::Display for Grade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Score boundaries, in hundredths of a point: below `red_below` is red,
/// below `orange_below` orange, below `yellow_below` yellow, else blue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Names this set, stored with every assessment graded by it.
    pub version: String,
    pub red_below: i32,
    pub orange_below: i32,
    pub yellow_below: i32,
}

impl Thresholds {
    /// Refuses boundaries that are not increasing within 0–100 points.
    pub fn check(&self) -> Result<(), String> {
        let ordered = 0 < self.red_below
            && self.red_below < self.orange_below
            && self.orange_below < self.yellow_below
            && self.yellow_below <= MAX_SCORE_CENTI;
        if ordered && !self.version.trim().is_empty() {
            Ok(())
        } else {
            Err("grading thresholds must rise within 0–100 (red < orange < yellow) and carry a version".into())
        }
    }

    /// The grade of a score; any direct-red trigger makes it red whatever
    /// the score.
    pub fn grade(&self, score_centi: i32, has_direct_red_trigger: bool) -> Grade {
        if has_direct_red_trigger || score_centi < self.red_below {
            Grade::Red
        } else if score_centi < self.orange_below {
            Grade::Orange
        } else if score_centi < self.yellow_below {
            Grade::Yellow
        } else {
            Grade::Blue
        }
    }
}

pub const MAX_SCORE_CENTI: i32 = 10_000;

/// Converts a score in points (at most two decimals) to hundredths.
pub fn score_to_centi(score: f64) -> Result<i32, FieldError> {
    if !score.is_finite() || !(0.0..=100.0).contains(&score) {
        return Err(Rule::Score.into());
    }
    let centi = (score * 100.0).round();
    if (score * 100.0 - centi).abs() > 1e-6 {
        return Err(Rule::TwoDecimals.into());
    }
    // Within 0..=10000 by the range check.
    Ok(centi as i32)
}

/// How closely the park supervises an enterprise of one grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisionIntervals {
    /// Days between the park's supervision inspections.
    pub inspection_interval_days: u32,
    /// Days until the enterprise must be assessed again (at most 3 years).
    pub reassessment_interval_days: u32,
}

/// The longest reassessment interval the rules allow.
pub const MAX_REASSESSMENT_DAYS: u32 = 3 * 365;

/// Why an enterprise appears in the due list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DueReason {
    /// Never assessed: it has no grade yet.
    FirstAssessment,
    /// The grade's reassessment interval has run out.
    Reassessment,
    /// The grade's supervision inspection interval has run out.
    SupervisionInspection,
    /// A producing enterprise's own self-check (企业自查) is overdue.
    SelfCheck,
    /// Its check tasks' completion rate over the last days
    /// (`risk.completion_window_days`) is below `risk.completion_alert_rate`.
    CheckCompletion,
    /// A major hazard source of it lacks one of its three 包保责任人.
    MajorSourcePersons,
    /// A major hazard source's safety assessment falls due
    /// (`major_sources.assessment_every_years` after the last).
    MajorSourceAssessment,
    /// A major hazard source's emergency drill falls due (its plan's
    /// interval after the last; today when none is recorded).
    MajorSourceDrill,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueItem {
    pub reason: DueReason,
    pub due_on: NaiveDate,
}

/// What is known about an enterprise for its due list.
#[derive(Debug, Clone, Copy)]
pub struct SupervisionFacts {
    pub grade: Option<Grade>,
    pub last_assessed_on: Option<NaiveDate>,
    pub last_supervision_on: Option<NaiveDate>,
    /// The day it was registered: a first assessment is due from then.
    pub registered_on: NaiveDate,
}

/// What falls due on or before `horizon`, earliest first.
pub fn due_items(
    facts: SupervisionFacts,
    intervals: impl Fn(Grade) -> SupervisionIntervals,
    horizon: NaiveDate,
) -> Vec<DueItem> {
    let mut items = Vec::new();
    match (facts.grade, facts.last_assessed_on) {
        (Some(grade), Some(assessed_on)) => {
            let every = intervals(grade);
            let reassess_on =
                assessed_on + chrono::Days::new(u64::from(every.reassessment_interval_days));
            items.push(DueItem {
                reason: DueReason::Reassessment,
                due_on: reassess_on,
            });
            // Never inspected since being graded: the first visit is due at once.
            let inspect_on = match facts.last_supervision_on {
                Some(last) => last + chrono::Days::new(u64::from(every.inspection_interval_days)),
                None => assessed_on,
            };
            items.push(DueItem {
                reason: DueReason::SupervisionInspection,
                due_on: inspect_on,
            });
        }
        _ => items.push(DueItem {
            reason: DueReason::FirstAssessment,
            due_on: facts.registered_on,
        }),
    }
    items.retain(|item| item.due_on <= horizon);
    items.sort_by_key(|item| item.due_on);
    items
}

/// When a producing enterprise's next self-check inspection is due: one
/// interval after its last, or after it was registered if it has none.
/// Others (and a park with the cadence off, `every_days` 0) owe none.
pub fn self_check_due(
    producing: bool,
    last_self_check_on: Option<NaiveDate>,
    registered_on: NaiveDate,
    every_days: u32,
    horizon: NaiveDate,
) -> Option<DueItem> {
    if !producing || every_days == 0 {
        return None;
    }
    let since = last_self_check_on.unwrap_or(registered_on);
    let due_on = since + chrono::Days::new(u64::from(every_days));
    (due_on <= horizon).then_some(DueItem {
        reason: DueReason::SelfCheck,
        due_on,
    })
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAssessment {
    /// Points out of 100, at most two decimals.
    #[schema(minimum = 0, maximum = 100, multiple_of = 0.01)]
    pub score: f64,
    /// Codes from the configured catalogue; any one makes the grade red.
    #[serde(default)]
    pub direct_red_triggers: Vec<String>,
    /// The day of the assessment; not in the future.
    pub assessed_on: NaiveDate,
    /// Who assessed (person or organisation); defaults to the caller's account.
    #[schema(max_length = 200)]
    pub assessor: Option<String>,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub notes: String,
}

/// A checked assessment, ready to grade and record.
#[derive(Debug, Clone)]
pub struct NewAssessment {
    pub score_centi: i32,
    pub direct_red_triggers: Vec<String>,
    pub assessed_on: NaiveDate,
    pub assessor: String,
    pub notes: String,
}

impl CreateAssessment {
    /// Checks every rule an assessment must meet (all at once, by field):
    /// a score of 0–100 with at most two decimals, triggers from the
    /// catalogue (each once), a day not in the future, bounded texts.
    pub fn parse(
        &self,
        caller: &Caller,
        catalogue: &[CodeLabel],
        today: NaiveDate,
    ) -> Result<NewAssessment, AppError> {
        let mut errors = FieldErrors::new();
        let score_centi = score_to_centi(self.score)
            .map_err(|m| errors.insert("score".into(), m))
            .ok();
        let mut triggers: Vec<String> = Vec::new();
        for code in &self.direct_red_triggers {
            let code = code.as_str();
            if !catalogue.iter().any(|t| t.code == code) {
                let known: Vec<&str> = catalogue.iter().map(|t| t.code.as_str()).collect();
                errors.insert(
                    "direct_red_triggers".into(),
                    FieldError::new(Rule::UnknownTrigger)
                        .with("trigger", code)
                        .with("known", known.join(", ")),
                );
            } else if !triggers.iter().any(|t| t == code) {
                triggers.push(code.to_owned());
            }
        }
        if self.assessed_on > today {
            errors.insert("assessed_on".into(), Rule::DateInFuture.into());
        }
        let assessor = optional_text("assessor", self.assessor.as_deref(), MAX_LINE)
            .map_err(|e| AppError::gather::<()>(&mut errors, "assessor", Err(e)))
            .ok()
            .flatten();
        if self.notes.contains('\0') {
            errors.insert("notes".into(), Rule::NulCharacter.into());
        } else if self.notes.chars().count() > MAX_TEXT {
            errors.insert(
                "notes".into(),
                FieldError::new(Rule::TooLong).with("max", MAX_TEXT),
            );
        }
        let (Some(score_centi), true) = (score_centi, errors.is_empty()) else {
            return Err(AppError::invalid_fields(errors));
        };
        Ok(NewAssessment {
            score_centi,
            direct_red_triggers: triggers,
            assessed_on: self.assessed_on,
            assessor: assessor.unwrap_or_else(|| caller.user_id.to_string()),
            notes: self.notes.trim().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_thresholds() -> Thresholds {
        Thresholds {
            version: "t1".into(),
            red_below: 6000,
            orange_below: 7500,
            yellow_below: 9000,
        }
    }

    #[test]
    fn boundary_scores_grade_exactly() {
        let t = default_thresholds();
        let cases = [
            (0.0, Grade::Red),
            (59.99, Grade::Red),
            (60.0, Grade::Orange),
            (74.99, Grade::Orange),
            (75.0, Grade::Yellow),
            (89.99, Grade::Yellow),
            (90.0, Grade::Blue),
            (100.0, Grade::Blue),
        ];
        for (score, grade) in cases {
            assert_eq!(
                t.grade(score_to_centi(score).unwrap(), false),
                grade,
                "score {score}"
            );
        }
    }

    #[test]
    fn a_producing_enterprise_owes_a_self_check_each_interval() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
        let horizon = day(31);
        let due = self_check_due(true, Some(day(1)), day(1), 20, horizon).unwrap();
        assert_eq!((due.reason, due.due_on), (DueReason::SelfCheck, day(21)));
        assert_eq!(
            self_check_due(true, Some(day(15)), day(1), 20, horizon),
            None
        );
        assert_eq!(
            self_check_due(true, None, day(5), 20, horizon).map(|d| d.due_on),
            Some(day(25))
        );
        assert_eq!(self_check_due(false, None, day(1), 20, horizon), None);
        assert_eq!(self_check_due(true, None, day(1), 0, horizon), None);
    }

    #[test]
    fn a_trigger_makes_any_score_red() {
        assert_eq!(default_thresholds().grade(10_000, true), Grade::Red);
    }

    #[test]
    fn scores_out_of_range_or_too_precise_are_refused() {
        for bad in [-0.01, 100.01, f64::NAN, f64::INFINITY, 59.999] {
            assert!(score_to_centi(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn thresholds_must_rise() {
        assert!(default_thresholds().check().is_ok());
        let bad = Thresholds {
            version: "x".into(),
            red_below: 7500,
            orange_below: 6000,
            yellow_below: 9000,
        };
        assert!(bad.check().is_err());
    }

    fn intervals(grade: Grade) -> SupervisionIntervals {
        let (inspection, reassessment) = match grade {
            Grade::Red => (30, 180),
            Grade::Orange => (60, 365),
            Grade::Yellow => (90, 730),
            Grade::Blue => (180, 1095),
        };
        SupervisionIntervals {
            inspection_interval_days: inspection,
            reassessment_interval_days: reassessment,
        }
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn due_dates_follow_the_grade() {
        let facts = SupervisionFacts {
            grade: Some(Grade::Red),
            last_assessed_on: Some(date("2024-01-01")),
            last_supervision_on: Some(date("2024-03-01")),
            registered_on: date("2020-01-01"),
        };
        assert!(due_items(facts, intervals, date("2024-03-30")).is_empty());
        assert_eq!(
            due_items(facts, intervals, date("2024-03-31")),
            vec![DueItem {
                reason: DueReason::SupervisionInspection,
                due_on: date("2024-03-31")
            }]
        );
        let both = due_items(facts, intervals, date("2024-12-31"));
        assert_eq!(both[0].reason, DueReason::SupervisionInspection);
        assert_eq!(
            both[1],
            DueItem {
                reason: DueReason::Reassessment,
                due_on: date("2024-06-29")
            }
        );
    }

    #[test]
    fn never_assessed_is_due_for_a_first_assessment() {
        let facts = SupervisionFacts {
            grade: None,
            last_assessed_on: None,
            last_supervision_on: None,
            registered_on: date("2024-05-01"),
        };
        assert_eq!(
            due_items(facts, intervals, date("2024-05-01")),
            vec![DueItem {
                reason: DueReason::FirstAssessment,
                due_on: date("2024-05-01")
            }]
        );
    }
}
