//! Risk levels (重大 / 较大 / 一般 / 低风险, shown red / orange / yellow /
//! blue) and the two methods they are worked out by: the risk matrix (LS,
//! R = L × S) and the working-conditions method (LEC, D = L × E × C). A
//! level is never typed in: it is the band the method's score falls in,
//! and the bands are configuration (`[risk]`).
//!
//! Scores are kept exact, in hundredths: every LEC factor is a multiple of
//! 0.1, so L (in tenths) × E (in tenths) × C is D × 100.

use serde::{Deserialize, Serialize};

use crate::domain::vocabulary::vocabulary;
use crate::error::AppError;
use crate::messages::Rule;

vocabulary! {
    /// A risk's level, highest first.
    pub enum RiskLevel {
        /// 重大风险, red
        Major => "major",
        /// 较大风险, orange
        Serious => "serious",
        /// 一般风险, yellow
        General => "general",
        /// 低风险, blue
        Low => "low",
    }
}

impl RiskLevel {
    /// The level's name in Chinese, 重大风险 to 低风险: the glossary's
    /// name of the risk its [colour](Self::colour) stands for
    /// (`grade_risks`), the grades and the levels sharing their colours.
    pub fn label_zh(self) -> &'static str {
        crate::domain::terms::name("grade_risks", self.colour())
    }

    /// The colour it is shown in.
    pub fn colour(self) -> &'static str {
        match self {
            Self::Major => "red",
            Self::Serious => "orange",
            Self::General => "yellow",
            Self::Low => "blue",
        }
    }

    /// 0 for the highest level.
    pub fn rank(self) -> usize {
        Self::ALL
            .iter()
            .position(|l| *l == self)
            .unwrap_or(Self::ALL.len())
    }

    /// The higher of two levels.
    pub fn max(self, other: RiskLevel) -> RiskLevel {
        if other.rank() < self.rank() {
            other
        } else {
            self
        }
    }
}

/// The method a level was worked out by, with its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Assessment {
    /// 风险矩阵法: R = L × S; L (likelihood) and S (severity) each 1–5.
    Ls { l: u8, s: u8 },
    /// 作业条件危险性分析法: D = L × E × C; L one of 10, 6, 3, 1, 0.5, 0.2,
    /// 0.1; E one of 10, 6, 3, 2, 1, 0.5; C one of 100, 40, 15, 7, 3, 1.
    Lec { l: f64, e: f64, c: f64 },
    /// 重大危险源直接判定: the event of a major hazard source's 包保 duties,
    /// levelled by the source's grade (一级/二级 重大, 三级/四级 较大) and
    /// scored by its R. Set only by the major hazard source registry.
    MajorSource { grade: u8, r_centi: i64 },
}

/// The LEC method's permitted values, in tenths.
const LEC_L: [i64; 7] = [100, 60, 30, 10, 5, 2, 1];
const LEC_E: [i64; 6] = [100, 60, 30, 20, 10, 5];
const LEC_C: [i64; 6] = [100, 40, 15, 7, 3, 1];

/// `value` in tenths, when it is one of `allowed` (tenths).
fn tenths_of(value: f64, allowed: &[i64]) -> Option<i64> {
    allowed
        .iter()
        .copied()
        .find(|tenths| (value * 10.0 - *tenths as f64).abs() < 1e-6)
}

/// Where a method's levels begin: a score at or above `major` is 重大, at
/// or above `serious` 较大, at or above `general` 一般, else 低.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LevelBands {
    pub major: u32,
    pub serious: u32,
    pub general: u32,
}

impl LevelBands {
    /// The level of a score in hundredths.
    pub fn level_of(&self, score_centi: i64) -> RiskLevel {
        let at_least = |threshold: u32| score_centi >= i64::from(threshold) * 100;
        if at_least(self.major) {
            RiskLevel::Major
        } else if at_least(self.serious) {
            RiskLevel::Serious
        } else if at_least(self.general) {
            RiskLevel::General
        } else {
            RiskLevel::Low
        }
    }

    /// Bands rise strictly from above zero.
    pub fn validate(&self) -> Result<(), String> {
        if 0 < self.general && self.general < self.serious && self.serious < self.major {
            Ok(())
        } else {
            Err(format!(
                "bands must rise strictly from above zero (general {} < serious {} < major {})",
                self.general, self.serious, self.major
            ))
        }
    }
}

/// Both methods' bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    pub ls: LevelBands,
    pub lec: LevelBands,
}

impl Default for Bands {
    /// The bands commonly published with the two methods: LS 20–25 重大,
    /// 15–16 较大, 9–12 一般, 1–8 低; LEC D ≥ 320 重大 (极其危险), 160–320
    /// 较大 (高度危险), 70–160 一般 (显著危险), below 70 低.
    fn default() -> Self {
        Bands {
            ls: LevelBands {
                major: 20,
                serious: 15,
                general: 9,
            },
            lec: LevelBands {
                major: 320,
                serious: 160,
                general: 70,
            },
        }
    }
}

impl Assessment {
    /// The score in hundredths and its level; inputs outside the method's
    /// scales are refused, each by name.
    pub fn score(&self, bands: &Bands) -> Result<(i64, RiskLevel), AppError> {
        match *self {
            Assessment::Ls { l, s } => {
                let mut errors = crate::error::FieldErrors::new();
                for (name, value) in [("assessment.l", l), ("assessment.s", s)] {
                    if !(1..=5).contains(&value) {
                        errors.insert(name.into(), Rule::LsScale.into());
                    }
                }
                if !errors.is_empty() {
                    return Err(AppError::invalid_fields(errors));
                }
                let score = i64::from(l) * i64::from(s) * 100;
                Ok((score, bands.ls.level_of(score)))
            }
            Assessment::Lec { l, e, c } => {
                let mut errors = crate::error::FieldErrors::new();
                let l = tenths_of(l, &LEC_L);
                let e = tenths_of(e, &LEC_E);
                let c = tenths_of(c, &LEC_C.map(|c| c * 10));
                if l.is_none() {
                    errors.insert("assessment.l".into(), Rule::LecLikelihood.into());
                }
                if e.is_none() {
                    errors.insert("assessment.e".into(), Rule::LecExposure.into());
                }
                if c.is_none() {
                    errors.insert("assessment.c".into(), Rule::LecConsequence.into());
                }
                match (l, e, c) {
                    (Some(l), Some(e), Some(c)) => {
                        // c is in tenths too: L·E·C·1000 / 10 = D·100.
                        let score = l * e * c / 10;
                        Ok((score, bands.lec.level_of(score)))
                    }
                    _ => Err(AppError::invalid_fields(errors)),
                }
            }
            Assessment::MajorSource { grade, r_centi } => Ok((
                r_centi.max(1),
                crate::domain::major_source::risk_level_of_grade(grade),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(assessment: Assessment) -> (i64, RiskLevel) {
        assessment.score(&Bands::default()).unwrap()
    }

    #[test]
    fn the_risk_matrix_bands() {
        let ls = |l, s| level(Assessment::Ls { l, s });
        assert_eq!(ls(5, 5), (2500, RiskLevel::Major));
        assert_eq!(ls(4, 5), (2000, RiskLevel::Major));
        assert_eq!(ls(4, 4), (1600, RiskLevel::Serious));
        assert_eq!(ls(3, 5), (1500, RiskLevel::Serious));
        assert_eq!(ls(3, 4), (1200, RiskLevel::General));
        assert_eq!(ls(3, 3), (900, RiskLevel::General));
        assert_eq!(ls(2, 4), (800, RiskLevel::Low));
        assert_eq!(ls(1, 1), (100, RiskLevel::Low));
        let refused = Assessment::Ls { l: 0, s: 6 }.score(&Bands::default());
        let Err(AppError::Validation { errors, .. }) = refused else {
            panic!("refused");
        };
        assert_eq!(errors.len(), 2, "both inputs named: {errors:?}");
    }

    #[test]
    fn the_working_conditions_method_is_exact_in_hundredths() {
        let lec = |l, e, c| level(Assessment::Lec { l, e, c });
        assert_eq!(lec(10.0, 10.0, 100.0), (1_000_000, RiskLevel::Major));
        assert_eq!(lec(3.0, 6.0, 40.0), (72_000, RiskLevel::Major));
        assert_eq!(lec(3.0, 6.0, 15.0), (27_000, RiskLevel::Serious));
        assert_eq!(lec(1.0, 10.0, 7.0), (7_000, RiskLevel::General));
        assert_eq!(lec(1.0, 6.0, 7.0), (4_200, RiskLevel::Low));
        assert_eq!(lec(0.1, 0.5, 1.0), (5, RiskLevel::Low));
        assert_eq!(lec(0.2, 0.5, 3.0), (30, RiskLevel::Low));
        let refused = Assessment::Lec {
            l: 2.0,
            e: 4.0,
            c: f64::NAN,
        }
        .score(&Bands::default());
        let Err(AppError::Validation { errors, .. }) = refused else {
            panic!("refused");
        };
        assert_eq!(errors.len(), 3, "every input named: {errors:?}");
    }

    #[test]
    fn bands_are_configurable_and_must_rise() {
        let strict = Bands {
            ls: LevelBands {
                major: 16,
                serious: 12,
                general: 6,
            },
            ..Bands::default()
        };
        assert_eq!(
            Assessment::Ls { l: 4, s: 4 }.score(&strict).unwrap().1,
            RiskLevel::Major
        );
        assert!(Bands::default().ls.validate().is_ok());
        assert!(Bands::default().lec.validate().is_ok());
        let flat = LevelBands {
            major: 9,
            serious: 9,
            general: 1,
        };
        assert!(flat.validate().is_err());
    }

    #[test]
    fn the_higher_level_wins() {
        assert_eq!(RiskLevel::Low.max(RiskLevel::Serious), RiskLevel::Serious);
        assert_eq!(RiskLevel::Major.max(RiskLevel::General), RiskLevel::Major);
        assert_eq!(RiskLevel::Major.colour(), "red");
    }
}
