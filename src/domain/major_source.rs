//! Major hazard sources (危险化学品重大危险源) and their three 包保责任人:
//! what a source is registered with, how its level follows from its
//! dangerous chemicals (GB 18218-2018: S = Σ q/Q, a source only when
//! S ≥ 1; R = α·Σ β·q/Q; 一级 R ≥ 100, 二级 ≥ 50, 三级 ≥ 10, 四级 below),
//! the three kinds of responsible person and each kind's published duties
//! (应急厅〔2021〕12号 articles 4–6, `reference/baobao-duties.json`) and
//! how often each kind checks. Pure rules; `app::major_sources` keeps them.

use std::sync::LazyLock;

use chrono::{Datelike, Days, NaiveDate, NaiveTime, TimeDelta};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::risk::RiskLevel;
use crate::domain::schedule::{DayRule, ScheduleSpec, Unit};
use crate::domain::text::{optional_text, required_text, MAX_LINE};
use crate::domain::vocabulary::vocabulary;
use crate::error::{AppError, FieldError, FieldErrors};
use crate::messages::Rule;

/// The most chemicals one source lists.
pub const MAX_CHEMICALS: usize = 200;
/// The exposure factors α of GB 18218-2018 table 4, by the number of
/// people who may be exposed outside the plant: 100 or more 2.0, 50–99
/// 1.5, 30–49 1.2, 1–29 1.0, none 0.5.
pub const ALPHAS: [f64; 5] = [2.0, 1.5, 1.2, 1.0, 0.5];
/// The correction factors β of GB 18218-2018 run from 1 (most classes)
/// to 20 (e.g. phosgene).
pub const BETA_RANGE: (f64, f64) = (1.0, 20.0);
/// Quantities are tonnes, at most this.
pub const MAX_TONNES: f64 = 1.0e9;
/// Sums are compared with this much slack, so that S = 1 or R = 100
/// written in decimals are not lost to binary rounding.
const SLACK: f64 = 1e-9;

vocabulary! {
    /// 生产单元 or 储存单元.
    pub enum SourceUnitKind {
        Production => "production",
        Storage => "storage",
    }
}

impl SourceUnitKind {
    /// The unit's kind in Chinese (the glossary's, `unit_kinds`).
    pub fn label_zh(self) -> &'static str {
        crate::domain::terms::name("unit_kinds", self.as_str())
    }
}

vocabulary! {
    /// The three kinds of 包保责任人.
    pub enum PersonKind {
        /// 主要负责人: overall management.
        Principal => "principal",
        /// 技术负责人: technical management.
        Technical => "technical",
        /// 操作负责人: operations.
        Operational => "operational",
    }
}

impl PersonKind {
    /// The person's title in Chinese (the glossary's, `persons`).
    pub fn label_zh(self) -> &'static str {
        crate::domain::terms::name("persons", self.as_str())
    }
}

vocabulary! {
    /// The emergency plans of a source that are drilled.
    pub enum DrillKind {
        /// 专项应急预案: yearly by default.
        SpecialPlan => "special_plan",
        /// 现场处置方案: half-yearly by default.
        OnsitePlan => "onsite_plan",
    }
}

impl DrillKind {
    /// The drill's name in Chinese (the glossary's, `drills`).
    pub fn label_zh(self) -> &'static str {
        crate::domain::terms::name("drills", self.as_str())
    }
}

/// A drill held, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDrill {
    pub kind: DrillKind,
    /// The day it was held (park-local), not in the future.
    pub held_on: NaiveDate,
    #[schema(max_length = 10000)]
    pub note: Option<String>,
}

/// One dangerous chemical of a source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Chemical {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// CAS number, when it has one.
    #[schema(max_length = 32)]
    pub cas: Option<String>,
    /// q: the actual (maximum) quantity, tonnes.
    pub quantity_t: f64,
    /// Q: the critical quantity of GB 18218-2018 tables 1–2, tonnes.
    pub critical_t: f64,
    /// β: the correction factor of GB 18218-2018 table 3 (1–20).
    pub beta: f64,
}

/// What a source's level is computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceInputs {
    /// α: the exposure factor (2.0, 1.5, 1.2, 1.0 or 0.5).
    pub alpha: f64,
    #[schema(min_items = 1, max_items = 200)]
    pub chemicals: Vec<Chemical>,
}

/// The grade thresholds on R (`[major_sources.grades]`): R at or above
/// `first` is 一级, at or above `second` 二级, at or above `third` 三级,
/// else 四级.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeThresholds {
    pub first: f64,
    pub second: f64,
    pub third: f64,
}

impl Default for GradeThresholds {
    /// GB 18218-2018 section 4.3.
    fn default() -> Self {
        GradeThresholds {
            first: 100.0,
            second: 50.0,
            third: 10.0,
        }
    }
}

impl GradeThresholds {
    pub fn validate(&self) -> Result<(), String> {
        if 0.0 < self.third && self.third < self.second && self.second < self.first {
            Ok(())
        } else {
            Err("grade thresholds must fall strictly: first > second > third > 0".into())
        }
    }

    /// 1 (一级) to 4 (四级).
    pub fn grade_of(&self, r: f64) -> u8 {
        if r + SLACK >= self.first {
            1
        } else if r + SLACK >= self.second {
            2
        } else if r + SLACK >= self.third {
            3
        } else {
            4
        }
    }
}

/// The register's risk level of a source of `grade`: 一级 and 二级 are
/// 重大, 三级 and 四级 较大.
pub fn risk_level_of_grade(grade: u8) -> RiskLevel {
    if grade <= 2 {
        RiskLevel::Major
    } else {
        RiskLevel::Serious
    }
}

pub fn grade_label(grade: u8) -> &'static str {
    match grade {
        1 => "一级",
        2 => "二级",
        3 => "三级",
        _ => "四级",
    }
}

/// A source's computed figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rating {
    /// S = Σ q/Q, in hundredths (rounded).
    pub s_centi: i64,
    /// R = α·Σ β·q/Q, in hundredths (rounded).
    pub r_centi: i64,
    pub grade: u8,
}

impl SourceInputs {
    /// Checks every input, naming each bad one, then rates the source; a
    /// set of chemicals with S below 1 is not a major hazard source.
    pub fn rate(&self, thresholds: &GradeThresholds) -> Result<Rating, AppError> {
        let mut errors = FieldErrors::new();
        if !ALPHAS.iter().any(|a| (a - self.alpha).abs() < 1e-9) {
            errors.insert(
                "alpha".into(),
                FieldError::new(Rule::NotExposureFactor).with("allowed", "2.0, 1.5, 1.2, 1.0, 0.5"),
            );
        }
        if self.chemicals.is_empty() || self.chemicals.len() > MAX_CHEMICALS {
            errors.insert(
                "chemicals".into(),
                FieldError::new(Rule::OutOfRange)
                    .with("min", 1)
                    .with("max", MAX_CHEMICALS),
            );
        }
        let mut s = 0.0;
        let mut weighted = 0.0;
        for (i, chemical) in self.chemicals.iter().take(MAX_CHEMICALS).enumerate() {
            let at = |field: &str| format!("chemicals[{i}].{field}");
            if let Err(e) = required_text(&at("name"), &chemical.name, MAX_LINE) {
                merge(&mut errors, e);
            }
            if let Err(e) = optional_text(&at("cas"), chemical.cas.as_deref(), 32) {
                merge(&mut errors, e);
            }
            let tonnes = |v: f64, min_exclusive: bool| {
                v.is_finite() && v <= MAX_TONNES && if min_exclusive { v > 0.0 } else { v >= 0.0 }
            };
            let mut good = true;
            if !tonnes(chemical.quantity_t, false) {
                good = false;
                errors.insert(
                    at("quantity_t"),
                    FieldError::new(Rule::OutOfRange)
                        .with("min", 0)
                        .with("max", MAX_TONNES),
                );
            }
            if !tonnes(chemical.critical_t, true) {
                good = false;
                errors.insert(
                    at("critical_t"),
                    FieldError::new(Rule::MustBePositive).with("max", MAX_TONNES),
                );
            }
            if !(chemical.beta.is_finite()
                && chemical.beta >= BETA_RANGE.0
                && chemical.beta <= BETA_RANGE.1)
            {
                good = false;
                errors.insert(
                    at("beta"),
                    FieldError::new(Rule::OutOfRange)
                        .with("min", BETA_RANGE.0)
                        .with("max", BETA_RANGE.1),
                );
            }
            if good {
                let ratio = chemical.quantity_t / chemical.critical_t;
                s += ratio;
                weighted += chemical.beta * ratio;
            }
        }
        if !errors.is_empty() {
            return Err(AppError::invalid_fields(errors));
        }
        if s + SLACK < 1.0 {
            return Err(AppError::invalid(
                "chemicals",
                FieldError::new(Rule::NotMajorSource).with("s", format!("{s:.2}")),
            ));
        }
        let r = self.alpha * weighted;
        Ok(Rating {
            s_centi: centi(s),
            r_centi: centi(r),
            grade: thresholds.grade_of(r),
        })
    }
}

fn centi(value: f64) -> i64 {
    // Bounded: at most 200 chemicals × 1e9 t / tiny Q is still finite but
    // may be huge; saturate rather than wrap.
    let scaled = (value * 100.0).round();
    if scaled >= i64::MAX as f64 {
        i64::MAX
    } else {
        scaled as i64
    }
}

fn merge(errors: &mut FieldErrors, error: AppError) {
    if let AppError::Validation { errors: more, .. } = error {
        errors.extend(more);
    }
}

/// A new major hazard source, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSource {
    pub enterprise_id: Uuid,
    /// The code the source is registered under with the authority (备案编号).
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub unit_kind: SourceUnitKind,
    /// α: the exposure factor (2.0, 1.5, 1.2, 1.0 or 0.5).
    pub alpha: f64,
    #[schema(min_items = 1, max_items = 200)]
    pub chemicals: Vec<Chemical>,
    /// The day of its last safety assessment (安全评估).
    pub assessed_on: Option<NaiveDate>,
}

/// A checked new source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFields {
    pub code: String,
    pub name: String,
    pub rating: Rating,
}

impl NewSource {
    /// What its level is computed from.
    pub fn inputs(&self) -> SourceInputs {
        SourceInputs {
            alpha: self.alpha,
            chemicals: self.chemicals.clone(),
        }
    }

    pub fn check(&self, thresholds: &GradeThresholds) -> Result<SourceFields, AppError> {
        let mut errors = FieldErrors::new();
        let code = AppError::gather(&mut errors, "code", required_text("code", &self.code, 64));
        let name = AppError::gather(
            &mut errors,
            "name",
            required_text("name", &self.name, MAX_LINE),
        );
        let rating = AppError::gather(&mut errors, "inputs", self.inputs().rate(thresholds));
        match (code, name, rating) {
            (Some(code), Some(name), Some(rating)) if errors.is_empty() => {
                Ok(SourceFields { code, name, rating })
            }
            _ => Err(AppError::invalid_fields(errors)),
        }
    }
}

/// A 包保责任人 taking a kind of duty for a source, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    pub kind: PersonKind,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// 职务
    #[schema(min_length = 1, max_length = 200)]
    pub post: String,
    #[schema(min_length = 5, max_length = 32, pattern = r"^[0-9+\- ()]{5,32}$")]
    pub phone: String,
    /// Their account, when they have one: an active contact of the
    /// source's enterprise. The duty checks are then theirs; without one,
    /// the enterprise's contacts record them.
    pub user_id: Option<Uuid>,
    /// The day they took the duty; today when absent.
    pub since: Option<NaiveDate>,
}

/// A checked person.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonFields {
    pub name: String,
    pub post: String,
    pub phone: String,
}

impl NewPerson {
    pub fn check(&self) -> Result<PersonFields, AppError> {
        let mut errors = FieldErrors::new();
        let name = AppError::gather(&mut errors, "name", required_text("name", &self.name, 100));
        let post = AppError::gather(
            &mut errors,
            "post",
            required_text("post", &self.post, MAX_LINE),
        );
        let phone = AppError::gather(
            &mut errors,
            "phone",
            required_text("phone", &self.phone, 32),
        );
        if let Some(phone) = &phone {
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            if digits < 5
                || !phone
                    .chars()
                    .all(|c| c.is_ascii_digit() || "+-() ".contains(c))
            {
                errors.insert("phone".into(), FieldError::new(Rule::NotPhone));
            }
        }
        match (name, post, phone) {
            (Some(name), Some(post), Some(phone)) if errors.is_empty() => {
                Ok(PersonFields { name, post, phone })
            }
            _ => Err(AppError::invalid_fields(errors)),
        }
    }
}

/// How often one kind of person checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frequency {
    pub every: u32,
    pub unit: Unit,
}

/// How often each kind checks (`[major_sources.duty_frequency]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DutyFrequencies {
    pub principal: Frequency,
    pub technical: Frequency,
    pub operational: Frequency,
}

impl Default for DutyFrequencies {
    /// 技术负责人 每季度至少一次 (article 5 (五)); 操作负责人 每周至少一次
    /// (article 6 (三), as commonly quoted); article 4 sets 主要负责人 no
    /// frequency, so quarterly, as the technical person, is the default.
    fn default() -> Self {
        DutyFrequencies {
            principal: Frequency {
                every: 3,
                unit: Unit::Month,
            },
            technical: Frequency {
                every: 3,
                unit: Unit::Month,
            },
            operational: Frequency {
                every: 7,
                unit: Unit::Day,
            },
        }
    }
}

impl DutyFrequencies {
    pub fn of(&self, kind: PersonKind) -> Frequency {
        match kind {
            PersonKind::Principal => self.principal,
            PersonKind::Technical => self.technical,
            PersonKind::Operational => self.operational,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        for kind in PersonKind::ALL {
            let f = self.of(kind);
            if f.every == 0 || f.every > 1000 || f.unit == Unit::Hour {
                return Err(format!(
                    "the {kind} duty frequency must be every 1 to 1000 days, months or years"
                ));
            }
        }
        Ok(())
    }
}

impl Frequency {
    /// The schedule of a duty taken on `today` (park-local): periods
    /// aligned to the calendar — quarters start in January, April, July
    /// and October, weeks on Monday, years on 1 January — so that the
    /// period running today is the first, due by its end.
    pub fn schedule_from(self, today: NaiveDate) -> ScheduleSpec {
        let start = match self.unit {
            Unit::Month if 12 % self.every == 0 => {
                let month0 = (today.month0() / self.every) * self.every;
                NaiveDate::from_ymd_opt(today.year(), month0 + 1, 1).unwrap_or(today)
            }
            Unit::Month => today.with_day(1).unwrap_or(today),
            Unit::Day if self.every == 7 => {
                today - TimeDelta::days(i64::from(today.weekday().num_days_from_monday()))
            }
            Unit::Year => NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today),
            Unit::Day | Unit::Hour => today,
        };
        ScheduleSpec {
            every: self.every,
            unit: self.unit,
            starts: start.and_time(NaiveTime::MIN),
            window: None,
            days: DayRule::EveryDay,
        }
    }
}

/// One published duty of a kind of person.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DutyItem {
    /// As published: （一）, （二）, …
    pub number: String,
    pub text: String,
    /// False where the text could not be checked against the published
    /// one (see `reference/baobao-duties.json`).
    pub verified: bool,
}

/// A kind's duties.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DutyList {
    pub label: String,
    /// The article of 应急厅〔2021〕12号 listing them.
    pub article: String,
    pub items: Vec<DutyItem>,
}

#[derive(Debug, Deserialize)]
struct DutyFile {
    kinds: DutyKinds,
}

#[derive(Debug, Deserialize)]
struct DutyKinds {
    principal: DutyList,
    technical: DutyList,
    operational: DutyList,
}

const DUTY_FILE: &str = include_str!("../../reference/baobao-duties.json");

static DUTIES: LazyLock<DutyKinds> = LazyLock::new(|| {
    // The file is part of the build and a test reads it; it cannot be
    // malformed in a binary that passed the tests.
    serde_json::from_str::<DutyFile>(DUTY_FILE)
        .map(|f| f.kinds)
        .unwrap_or_else(|_| DutyKinds {
            principal: empty_list(),
            technical: empty_list(),
            operational: empty_list(),
        })
});

fn empty_list() -> DutyList {
    DutyList {
        label: String::new(),
        article: String::new(),
        items: Vec::new(),
    }
}

/// A kind's published duties.
pub fn duties(kind: PersonKind) -> &'static DutyList {
    match kind {
        PersonKind::Principal => &DUTIES.principal,
        PersonKind::Technical => &DUTIES.technical,
        PersonKind::Operational => &DUTIES.operational,
    }
}

/// The duties as a check's content: one numbered line each.
pub fn check_content(kind: PersonKind) -> String {
    let list = duties(kind);
    list.items
        .iter()
        .map(|item| format!("{}{}", item.number, item.text))
        .collect::<Vec<_>>()
        .join("\n")
}

vocabulary! {
    /// Why a source's next safety assessment falls due when it does
    /// (《危险化学品重大危险源监督管理暂行规定》 Art. 11).
    pub enum AssessmentCause {
        /// Three years (`assessment_every_years`) after the last.
        Periodic => "periodic",
        /// Its inputs moved R after the last assessment.
        InputsChanged => "inputs_changed",
        /// Registered without an assessment.
        NeverAssessed => "never_assessed",
    }
}

/// The rule for a source's next safety assessment.
#[derive(Debug, Clone, Copy)]
pub struct AssessmentRule {
    /// Due again this many years after the last.
    pub every_years: u32,
    /// Due this many days after a change of inputs (or a registration
    /// without one) not followed by an assessment.
    pub after_change_days: u32,
}

impl AssessmentRule {
    /// When the next assessment is due and why: `changed_on` is the day
    /// the inputs last moved R, `registered_on` the day the source was
    /// registered (from which one never assessed falls due).
    pub fn next(
        self,
        last: Option<NaiveDate>,
        changed_on: Option<NaiveDate>,
        registered_on: Option<NaiveDate>,
    ) -> Option<(NaiveDate, AssessmentCause)> {
        let after = |day: NaiveDate| day.checked_add_days(Days::new(self.after_change_days.into()));
        match (last, changed_on) {
            (None, _) => Some((after(registered_on?)?, AssessmentCause::NeverAssessed)),
            (Some(last), Some(changed)) if changed > last => {
                Some((after(changed)?, AssessmentCause::InputsChanged))
            }
            (Some(last), _) => Some((
                last.checked_add_months(chrono::Months::new(self.every_years.saturating_mul(12)))?,
                AssessmentCause::Periodic,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chemical(q: f64, critical: f64, beta: f64) -> Chemical {
        Chemical {
            name: "液氨".into(),
            cas: Some("7664-41-7".into()),
            quantity_t: q,
            critical_t: critical,
            beta,
        }
    }

    #[test]
    fn the_duty_file_reads_and_numbers_every_kinds_duties() {
        assert_eq!(duties(PersonKind::Principal).items.len(), 7);
        assert_eq!(duties(PersonKind::Technical).items.len(), 6);
        assert_eq!(duties(PersonKind::Operational).items.len(), 4);
        assert!(check_content(PersonKind::Technical).contains("（五）每季度至少"));
        assert_eq!(duties(PersonKind::Operational).label, "操作负责人");
    }

    #[test]
    fn r_and_the_grade_follow_gb_18218() {
        // Ammonia 100 t of Q 10 t, β 2: S = 10, R = α × 20.
        let inputs = SourceInputs {
            alpha: 2.0,
            chemicals: vec![chemical(100.0, 10.0, 2.0)],
        };
        let rating = inputs.rate(&GradeThresholds::default()).unwrap();
        assert_eq!(rating.s_centi, 1000);
        assert_eq!(rating.r_centi, 4000);
        assert_eq!(rating.grade, 3);
        // Exactly at a threshold counts as reaching it: 0.1 + 0.2 style
        // decimals do not drop a grade.
        let at_fifty = SourceInputs {
            alpha: 1.0,
            chemicals: vec![chemical(0.1, 0.1, 10.0), chemical(40.0, 1.0, 1.0)],
        };
        assert_eq!(at_fifty.rate(&GradeThresholds::default()).unwrap().grade, 2);
        let first = SourceInputs {
            alpha: 2.0,
            chemicals: vec![chemical(50.0, 1.0, 1.0)],
        };
        assert_eq!(first.rate(&GradeThresholds::default()).unwrap().grade, 1);
        let fourth = SourceInputs {
            alpha: 0.5,
            chemicals: vec![chemical(1.0, 1.0, 1.0)],
        };
        assert_eq!(fourth.rate(&GradeThresholds::default()).unwrap().grade, 4);
        assert_eq!(risk_level_of_grade(2), RiskLevel::Major);
        assert_eq!(risk_level_of_grade(3), RiskLevel::Serious);
    }

    #[test]
    fn below_one_is_no_major_source_and_every_bad_input_is_named() {
        let below = SourceInputs {
            alpha: 1.0,
            chemicals: vec![chemical(0.4, 1.0, 1.0), chemical(0.5, 1.0, 1.0)],
        };
        let Err(AppError::Validation { errors, .. }) = below.rate(&GradeThresholds::default())
        else {
            panic!("refused");
        };
        assert_eq!(errors["chemicals"].rule, Rule::NotMajorSource);
        let bad = SourceInputs {
            alpha: 0.7,
            chemicals: vec![chemical(f64::NAN, 0.0, 30.0)],
        };
        let Err(AppError::Validation { errors, .. }) = bad.rate(&GradeThresholds::default()) else {
            panic!("refused");
        };
        for field in [
            "alpha",
            "chemicals[0].quantity_t",
            "chemicals[0].critical_t",
            "chemicals[0].beta",
        ] {
            assert!(errors.contains_key(field), "{field}: {errors:?}");
        }
    }

    #[test]
    fn duty_periods_align_to_quarters_and_weeks() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap(); // a Sunday
        let quarter = DutyFrequencies::default()
            .principal
            .schedule_from(day)
            .starts;
        assert_eq!(quarter.to_string(), "2026-10-01 00:00:00");
        let week = DutyFrequencies::default()
            .operational
            .schedule_from(day)
            .starts;
        assert_eq!(week.to_string(), "2026-11-30 00:00:00");
    }

    #[test]
    fn an_assessment_falls_due_three_years_on_or_soon_after_a_change() {
        let rule = AssessmentRule {
            every_years: 3,
            after_change_days: 90,
        };
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let feb29 = day("2028-02-29");
        let registered = Some(day("2026-01-10"));
        assert_eq!(
            rule.next(Some(feb29), None, registered),
            Some((day("2031-02-28"), AssessmentCause::Periodic))
        );
        // A change before the last assessment is covered by it.
        assert_eq!(
            rule.next(Some(day("2026-06-01")), Some(day("2026-05-01")), registered),
            Some((day("2029-06-01"), AssessmentCause::Periodic))
        );
        assert_eq!(
            rule.next(Some(day("2026-06-01")), Some(day("2026-06-01")), registered),
            Some((day("2029-06-01"), AssessmentCause::Periodic))
        );
        assert_eq!(
            rule.next(Some(day("2026-06-01")), Some(day("2026-07-01")), registered),
            Some((day("2026-09-29"), AssessmentCause::InputsChanged))
        );
        assert_eq!(
            rule.next(None, Some(day("2026-07-01")), registered),
            Some((day("2026-04-10"), AssessmentCause::NeverAssessed))
        );
        assert_eq!(rule.next(None, None, None), None);
    }

    #[test]
    fn a_person_needs_a_name_a_post_and_a_phone_all_named_at_once() {
        let person = NewPerson {
            kind: PersonKind::Technical,
            name: " ".into(),
            post: String::new(),
            phone: "abc".into(),
            user_id: None,
            since: None,
        };
        let Err(AppError::Validation { errors, .. }) = person.check() else {
            panic!("refused");
        };
        assert_eq!(errors.len(), 3, "{errors:?}");
    }
}
