//! The evaluation of how an enterprise runs the dual prevention mechanism
//! in a month: E = (A + B) × α, where A scores the check tasks done
//! against those that fell due, B the hazards accepted against those to
//! rectify, and α is 0 when a veto item holds. Each deduction and veto is
//! named with its reason. The weights and rules are configuration
//! (`[risk.evaluation]`); the defaults are this service's choice, since
//! the published model's own numbers were not found (docs/FEATURES.md).

use serde::{Deserialize, Serialize};

/// The weights and rules of the evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluationRules {
    /// A's full score: A = a_weight × (done ÷ settled), less deductions.
    pub a_weight: f64,
    /// B's full score: B = b_weight × (accepted ÷ to rectify), less
    /// deductions.
    pub b_weight: f64,
    /// Points off A for each missed check on a 重大 or 较大 unit.
    pub missed_serious_deduction: f64,
    /// Points off A for each missed duty check of a major hazard source's
    /// 包保责任人 (counted here, not as a missed check on a serious unit).
    pub missed_duty_deduction: f64,
    /// Fewer hazards found in the month than this is implausibly few …
    pub min_hazards_per_month: u64,
    /// … and takes these points off B.
    pub few_hazards_deduction: f64,
    /// α = 0 when a major hazard (重大事故隐患) is past its deadline.
    pub veto_major_overdue: bool,
    /// α = 0 when the enterprise has no check task at all.
    pub veto_no_check_tasks: bool,
}

impl Default for EvaluationRules {
    fn default() -> Self {
        EvaluationRules {
            a_weight: 50.0,
            b_weight: 50.0,
            missed_serious_deduction: 1.0,
            missed_duty_deduction: 2.0,
            min_hazards_per_month: 1,
            few_hazards_deduction: 10.0,
            veto_major_overdue: true,
            veto_no_check_tasks: true,
        }
    }
}

impl EvaluationRules {
    pub fn validate(&self) -> Result<(), String> {
        let finite = [
            self.a_weight,
            self.b_weight,
            self.missed_serious_deduction,
            self.missed_duty_deduction,
            self.few_hazards_deduction,
        ];
        if finite.iter().all(|v| v.is_finite() && *v >= 0.0) {
            Ok(())
        } else {
            Err("weights and deductions must be numbers of 0 or more".to_owned())
        }
    }
}

/// What a month's evaluation is worked out from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EvaluationInputs {
    /// Check tasks the enterprise has.
    pub check_tasks: u64,
    /// Occurrences settled in the month: done (on time or late) or missed.
    pub settled: u64,
    /// Of those, done.
    pub done: u64,
    /// Missed occurrences of tasks on 重大 or 较大 units, duty checks left
    /// out.
    pub missed_on_serious_units: u64,
    /// Missed duty checks of major hazard sources' 包保责任人.
    pub missed_duty_checks: u64,
    /// Hazards whose deadline fell in the month or before and that were
    /// still open when it began.
    pub to_rectify: u64,
    /// Of those, closed (验收销号) by the month's end.
    pub accepted: u64,
    /// Hazards found in the month (voided ones left out).
    pub found: u64,
    /// Major hazards past their deadline and still open at the month's
    /// end (or now, for this month).
    pub major_overdue: u64,
}

/// A deduction or a veto, with why.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Finding {
    /// `A`, `B` or `α`.
    pub part: &'static str,
    pub code: &'static str,
    /// Why, in Chinese.
    pub reason: String,
    /// Points taken off (0 for a veto).
    pub points: f64,
}

/// A month's evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Evaluation {
    pub a: f64,
    pub b: f64,
    /// 1, or 0 when a veto item holds.
    pub alpha: u8,
    pub e: f64,
    pub findings: Vec<Finding>,
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// E = (A + B) × α from `inputs` by `rules`.
pub fn evaluate(inputs: &EvaluationInputs, rules: &EvaluationRules) -> Evaluation {
    let mut findings = Vec::new();
    let share = |part: u64, whole: u64| {
        if whole == 0 {
            1.0
        } else {
            part.min(whole) as f64 / whole as f64
        }
    };
    let mut a = rules.a_weight * share(inputs.done, inputs.settled);
    if inputs.missed_on_serious_units > 0 {
        let points = rules.missed_serious_deduction * inputs.missed_on_serious_units as f64;
        findings.push(Finding {
            part: "A",
            code: "missed_on_serious_units",
            reason: format!("重大、较大风险单元漏查{}次", inputs.missed_on_serious_units),
            points,
        });
        a -= points;
    }
    if inputs.missed_duty_checks > 0 {
        let points = rules.missed_duty_deduction * inputs.missed_duty_checks as f64;
        findings.push(Finding {
            part: "A",
            code: "missed_duty_checks",
            reason: format!(
                "重大危险源包保责任人履职排查漏查{}次",
                inputs.missed_duty_checks
            ),
            points,
        });
        a -= points;
    }
    let mut b = rules.b_weight * share(inputs.accepted, inputs.to_rectify);
    if inputs.found < rules.min_hazards_per_month {
        findings.push(Finding {
            part: "B",
            code: "few_hazards",
            reason: format!(
                "本月发现隐患{}项，少于{}项",
                inputs.found, rules.min_hazards_per_month
            ),
            points: rules.few_hazards_deduction,
        });
        b -= rules.few_hazards_deduction;
    }
    let mut alpha = 1;
    if rules.veto_major_overdue && inputs.major_overdue > 0 {
        alpha = 0;
        findings.push(Finding {
            part: "α",
            code: "major_hazard_overdue",
            reason: format!("重大事故隐患逾期未整改{}项", inputs.major_overdue),
            points: 0.0,
        });
    }
    if rules.veto_no_check_tasks && inputs.check_tasks == 0 {
        alpha = 0;
        findings.push(Finding {
            part: "α",
            code: "no_check_tasks",
            reason: "未建立隐患排查任务".to_owned(),
            points: 0.0,
        });
    }
    let a = round2(a.max(0.0));
    let b = round2(b.max(0.0));
    Evaluation {
        a,
        b,
        alpha,
        e: round2((a + b) * f64::from(alpha)),
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> EvaluationInputs {
        EvaluationInputs {
            check_tasks: 3,
            settled: 60,
            done: 54,
            missed_on_serious_units: 2,
            missed_duty_checks: 0,
            to_rectify: 8,
            accepted: 6,
            found: 5,
            major_overdue: 0,
        }
    }

    #[test]
    fn a_missed_duty_check_costs_its_own_points() {
        let found = evaluate(
            &EvaluationInputs {
                missed_duty_checks: 3,
                ..inputs()
            },
            &EvaluationRules::default(),
        );
        assert_eq!(found.a, 37.0, "50 × 54/60 − 2 × 1 − 3 × 2");
        assert!(found
            .findings
            .iter()
            .any(|f| f.code == "missed_duty_checks" && f.reason.contains("3次")));
    }

    #[test]
    fn each_part_is_its_share_less_its_deductions() {
        let found = evaluate(&inputs(), &EvaluationRules::default());
        assert_eq!(found.a, 43.0, "50 × 54/60 − 2 × 1");
        assert_eq!(found.b, 37.5, "50 × 6/8");
        assert_eq!((found.alpha, found.e), (1, 80.5));
        assert_eq!(found.findings.len(), 1);
        assert_eq!(found.findings[0].code, "missed_on_serious_units");
    }

    #[test]
    fn nothing_due_scores_in_full_and_too_few_hazards_cost_b() {
        let quiet = EvaluationInputs {
            settled: 0,
            done: 0,
            missed_on_serious_units: 0,
            to_rectify: 0,
            accepted: 0,
            found: 0,
            ..inputs()
        };
        let found = evaluate(&quiet, &EvaluationRules::default());
        assert_eq!((found.a, found.b, found.e), (50.0, 40.0, 90.0));
        assert_eq!(found.findings[0].code, "few_hazards");
    }

    #[test]
    fn a_veto_makes_e_nought_and_parts_never_go_below_nought() {
        let bad = EvaluationInputs {
            check_tasks: 0,
            major_overdue: 1,
            missed_on_serious_units: 500,
            ..inputs()
        };
        let found = evaluate(&bad, &EvaluationRules::default());
        assert_eq!((found.a, found.alpha, found.e), (0.0, 0, 0.0));
        let codes: Vec<&str> = found.findings.iter().map(|f| f.code).collect();
        assert_eq!(
            codes,
            [
                "missed_on_serious_units",
                "major_hazard_overdue",
                "no_check_tasks"
            ]
        );
        let lenient = EvaluationRules {
            veto_major_overdue: false,
            veto_no_check_tasks: false,
            ..EvaluationRules::default()
        };
        assert_eq!(evaluate(&bad, &lenient).alpha, 1);
        for reason in found.findings.iter().map(|f| &f.reason) {
            assert!(!reason.chars().any(|c| c.is_ascii_alphabetic()), "{reason}");
        }
    }
}
