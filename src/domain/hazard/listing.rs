//! A major hazard's statutory record beyond 五到位 (《安全生产事故隐患排查治理暂行规定》,
//! 原国家安监总局令第16号): the Art. 14 report contents, the Art. 15 plan parts
//! the 五到位 fields do not hold, the Art. 16 production stop, and the
//! Art. 18 挂牌督办 steps from listing to 摘牌 — what each step must hold,
//! in which order the steps come, and what still stands between a listed
//! hazard and its closing. Pure rules; the records are kept by `db::regulation`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::text::{optional_text, required_text, MAX_LINE, MAX_TEXT};
use crate::domain::vocabulary::vocabulary;
use crate::error::{AppError, FieldError, FieldErrors};
use crate::messages::{Detail, Rule};

vocabulary! {
    /// The level of government that listed a hazard for supervision.
    pub enum AuthorityLevel {
        /// 省级
        Province => "province",
        /// 市级
        City => "city",
        /// 县级
        County => "county",
        /// 园区
        Park => "park",
    }
}

impl AuthorityLevel {
    /// The level's name in Chinese (the glossary's, `authority_levels`).
    pub fn label_zh(self) -> &'static str {
        crate::domain::terms::name("authority_levels", self.as_str())
    }
}

vocabulary! {
    /// Who assessed the remediation of a listed hazard (Art. 18).
    pub enum AssessorKind {
        /// The enterprise's own technical staff or experts.
        EnterpriseExperts => "enterprise_experts",
        /// A qualified safety-assessment body.
        AssessmentBody => "assessment_body",
    }
}

impl AssessorKind {
    /// Who assessed, in Chinese (the glossary's, `assessors`).
    pub fn label_zh(self) -> &'static str {
        crate::domain::terms::name("assessors", self.as_str())
    }
}

vocabulary! {
    /// How much production stopped while the hazard could not be kept safe
    /// (Art. 16).
    pub enum StopScope {
        /// Production went on.
        None => "none",
        /// 局部停产停业
        Partial => "partial",
        /// 全部停产停业
        Full => "full",
    }
}

impl StopScope {
    /// The stop's scope in Chinese (the glossary's, `stop_scopes`).
    pub fn label_zh(self) -> &'static str {
        crate::domain::terms::name("stop_scopes", self.as_str())
    }
}

/// The production stop (Art. 16).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductionStop {
    pub scope: StopScope,
    /// First day stopped.
    pub from: Option<NaiveDate>,
    /// Last day stopped; absent while it lasts.
    pub until: Option<NaiveDate>,
}

/// The Art. 14 report contents and the Art. 15 plan parts the 五到位 plan
/// does not hold, as sent; `PUT /hazards/{id}/dossier` records them.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DossierInput {
    /// Art. 14 (一): the hazard's present state and how it came about.
    #[schema(min_length = 1, max_length = 10000)]
    pub state_and_cause: String,
    /// Art. 14 (二): the degree of danger and how hard it is to rectify.
    #[schema(min_length = 1, max_length = 10000)]
    pub danger_and_difficulty: String,
    /// Art. 15 (一): the goals and tasks of the remediation.
    #[schema(max_length = 10000)]
    pub goals_and_tasks: Option<String>,
    /// Art. 15 (三): the materials beside the funds.
    #[schema(max_length = 10000)]
    pub materials: Option<String>,
    /// Art. 15 (四): the responsible body beside the responsible person.
    #[schema(max_length = 200)]
    pub responsible_body: Option<String>,
    /// Art. 15 (五): the requirements beside the time limit.
    #[schema(max_length = 10000)]
    pub requirements: Option<String>,
    /// Art. 16; absent means production went on.
    pub production_stop: Option<ProductionStop>,
}

/// The dossier, checked.
#[derive(Debug, Clone)]
pub struct Dossier {
    pub state_and_cause: String,
    pub danger_and_difficulty: String,
    pub goals_and_tasks: Option<String>,
    pub materials: Option<String>,
    pub responsible_body: Option<String>,
    pub requirements: Option<String>,
    pub stop: ProductionStop,
}

impl DossierInput {
    /// Checks every field at once and gives the dossier to record.
    pub fn parse(&self) -> Result<Dossier, AppError> {
        let mut errors = FieldErrors::new();
        let mut required = |field: &str, value: &str| {
            AppError::gather(&mut errors, field, required_text(field, value, MAX_TEXT))
        };
        let state_and_cause = required("state_and_cause", &self.state_and_cause);
        let danger_and_difficulty = required("danger_and_difficulty", &self.danger_and_difficulty);
        let mut optional = |field: &str, value: &Option<String>, max: usize| {
            let text = optional_text(field, value.as_deref(), max);
            AppError::gather(&mut errors, field, text).flatten()
        };
        let goals_and_tasks = optional("goals_and_tasks", &self.goals_and_tasks, MAX_TEXT);
        let materials = optional("materials", &self.materials, MAX_TEXT);
        let responsible_body = optional("responsible_body", &self.responsible_body, MAX_LINE);
        let requirements = optional("requirements", &self.requirements, MAX_TEXT);
        let stop = self.production_stop.unwrap_or(ProductionStop {
            scope: StopScope::None,
            from: None,
            until: None,
        });
        if let Err((field, message)) = check_stop(&stop) {
            errors.insert(field.to_owned(), message.into());
        }
        if !errors.is_empty() {
            return Err(AppError::invalid_fields(errors));
        }
        Ok(Dossier {
            state_and_cause: state_and_cause.unwrap_or_default(),
            danger_and_difficulty: danger_and_difficulty.unwrap_or_default(),
            goals_and_tasks,
            materials,
            responsible_body,
            requirements,
            stop,
        })
    }
}

/// A stop names when it began; no stop names no days; it ends after it
/// begins.
fn check_stop(stop: &ProductionStop) -> Result<(), (&'static str, &'static str)> {
    match (stop.scope, stop.from, stop.until) {
        (StopScope::None, None, None) => Ok(()),
        (StopScope::None, _, _) => Err((
            "production_stop.scope",
            "a stop with days is partial or full; \"none\" names no days",
        )),
        (_, None, _) => Err((
            "production_stop.from",
            "is required when production stopped",
        )),
        (_, Some(from), Some(until)) if until < from => Err((
            "production_stop.until",
            "must not be before the first day stopped",
        )),
        _ => Ok(()),
    }
}

/// 挂牌督办: the listing as sent.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingInput {
    pub authority_level: AuthorityLevel,
    /// The listing authority (挂牌督办单位).
    #[schema(min_length = 1, max_length = 200)]
    pub authority_name: String,
    /// The listing document's number (督办文号).
    #[schema(min_length = 1, max_length = 200)]
    pub document_number: String,
    pub listed_on: NaiveDate,
    /// 督办期限: the day the authority expects the hazard remedied.
    pub due_on: NaiveDate,
    /// The enterprise's leader answerable for it.
    #[schema(min_length = 1, max_length = 200)]
    pub responsible_leader: String,
}

/// The listing, checked.
#[derive(Debug, Clone)]
pub struct Listing {
    pub authority_level: AuthorityLevel,
    pub authority_name: String,
    pub document_number: String,
    pub listed_on: NaiveDate,
    pub due_on: NaiveDate,
    pub responsible_leader: String,
}

impl ListingInput {
    pub fn parse(&self, today: NaiveDate) -> Result<Listing, AppError> {
        let mut errors = FieldErrors::new();
        let mut line = |field: &str, value: &str| {
            AppError::gather(&mut errors, field, required_text(field, value, MAX_LINE))
                .unwrap_or_default()
        };
        let authority_name = line("authority_name", &self.authority_name);
        let document_number = line("document_number", &self.document_number);
        let responsible_leader = line("responsible_leader", &self.responsible_leader);
        if self.listed_on > today {
            errors.insert("listed_on".into(), Rule::DateInFuture.into());
        }
        if self.due_on < self.listed_on {
            errors.insert("due_on".into(), Rule::BeforeListed.into());
        }
        if !errors.is_empty() {
            return Err(AppError::invalid_fields(errors));
        }
        Ok(Listing {
            authority_level: self.authority_level,
            authority_name,
            document_number,
            listed_on: self.listed_on,
            due_on: self.due_on,
            responsible_leader,
        })
    }
}

/// The assessment of a listed hazard's remediation, as sent.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    /// Who assessed: the experts' names or the assessment body.
    #[schema(min_length = 1, max_length = 200)]
    pub assessor: String,
    pub assessor_kind: AssessorKind,
    #[schema(min_length = 1, max_length = 10000)]
    pub conclusion: String,
    /// The assessment report: an evidence file of this hazard.
    pub report_attachment_id: uuid::Uuid,
    pub assessed_on: NaiveDate,
}

/// The enterprise's written application to resume production, as sent.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumptionInput {
    /// Who applied, for the enterprise.
    #[schema(min_length = 1, max_length = 200)]
    pub applicant: String,
    pub applied_on: NaiveDate,
    #[schema(max_length = 10000)]
    pub note: Option<String>,
}

/// The authority's approval that ends the listing (摘牌), as sent.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelistingInput {
    /// The approval's document number.
    #[schema(min_length = 1, max_length = 200)]
    pub document_number: String,
    pub delisted_on: NaiveDate,
}

/// A day of a step: not in the future, not before the step before it.
pub fn step_day(
    field: &str,
    day: NaiveDate,
    not_before: NaiveDate,
    today: NaiveDate,
) -> Result<(), AppError> {
    if day > today {
        return Err(AppError::invalid(field, Rule::DateInFuture));
    }
    if day < not_before {
        return Err(AppError::invalid(
            field,
            FieldError::new(Rule::BeforePreviousStep).with("not_before", not_before.to_string()),
        ));
    }
    Ok(())
}

/// Where a listing stands, as far as its order of steps cares.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListingProgress {
    pub assessed: bool,
    pub resumption_applied: bool,
    pub delisted: bool,
}

/// A step of Art. 18 after the listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingStep {
    Assessment,
    Resumption,
    Delisting,
}

/// The recorded steps that must come before `step` and are missing, in
/// the order Art. 18 takes them. An application to resume is needed only
/// where production stopped; nothing follows the 摘牌.
pub fn missing_before(
    step: ListingStep,
    progress: ListingProgress,
    stop: StopScope,
) -> Result<Vec<&'static str>, AppError> {
    if progress.delisted {
        return Err(AppError::conflict(Detail::AlreadyDelisted));
    }
    let mut missing = Vec::new();
    match step {
        ListingStep::Assessment => {}
        ListingStep::Resumption => {
            if stop == StopScope::None {
                return Err(AppError::conflict(Detail::NoProductionStop));
            }
            if !progress.assessed {
                missing.push("assessment");
            }
        }
        ListingStep::Delisting => {
            if !progress.assessed {
                missing.push("assessment");
            }
            if stop != StopScope::None && !progress.resumption_applied {
                missing.push("resumption");
            }
        }
    }
    Ok(missing)
}

/// What still stands between a listed hazard and its closing: every step
/// up to and including the 摘牌.
pub fn missing_before_close(progress: ListingProgress, stop: StopScope) -> Vec<&'static str> {
    if progress.delisted {
        return Vec::new();
    }
    let mut missing = missing_before(ListingStep::Delisting, progress, stop).unwrap_or_default();
    missing.push("delisting");
    missing
}

/// The `409` for steps taken out of order: `what` (in English and in
/// Chinese) needs the `missing` steps first.
pub fn out_of_order(what: &str, what_zh: &str, missing: &[&str]) -> AppError {
    let missing_zh: Vec<&str> = missing.iter().map(|step| step_zh(step)).collect();
    AppError::conflict(
        Detail::ListingStepsFirst
            .with("what", what)
            .with("what_zh", what_zh)
            .with("missing", missing.join(", "))
            .with("missing_zh", missing_zh.join("、")),
    )
}

/// A step [`missing_before`] names, in Chinese.
fn step_zh(step: &str) -> &'static str {
    match step {
        "assessment" => "评估",
        "resumption" => "复产申请",
        "delisting" => "摘牌",
        _ => "其他步骤",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(assessed: bool, resumption_applied: bool) -> ListingProgress {
        ListingProgress {
            assessed,
            resumption_applied,
            delisted: false,
        }
    }

    #[test]
    fn closing_a_listed_hazard_needs_every_step_in_order() {
        assert_eq!(
            missing_before_close(progress(false, false), StopScope::Full),
            ["assessment", "resumption", "delisting"]
        );
        assert_eq!(
            missing_before_close(progress(false, false), StopScope::None),
            ["assessment", "delisting"]
        );
        assert_eq!(
            missing_before_close(progress(true, true), StopScope::Partial),
            ["delisting"]
        );
        let done = ListingProgress {
            delisted: true,
            ..progress(true, true)
        };
        assert!(missing_before_close(done, StopScope::Full).is_empty());
    }

    #[test]
    fn a_resumption_follows_the_assessment_and_needs_a_stop() {
        assert!(missing_before(
            ListingStep::Resumption,
            progress(true, false),
            StopScope::None
        )
        .is_err());
        assert_eq!(
            missing_before(
                ListingStep::Resumption,
                progress(false, false),
                StopScope::Full
            )
            .unwrap(),
            ["assessment"]
        );
        assert!(missing_before(
            ListingStep::Delisting,
            progress(true, false),
            StopScope::None
        )
        .unwrap()
        .is_empty());
    }

    #[test]
    fn a_stop_is_dated_and_none_has_no_days() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let stop = |scope, from, until| ProductionStop { scope, from, until };
        assert!(check_stop(&stop(StopScope::None, None, None)).is_ok());
        assert!(check_stop(&stop(StopScope::None, Some(day), None)).is_err());
        assert!(check_stop(&stop(StopScope::Full, None, None)).is_err());
        assert!(check_stop(&stop(StopScope::Partial, Some(day), None)).is_ok());
        let before = day.pred_opt().unwrap();
        assert!(check_stop(&stop(StopScope::Full, Some(day), Some(before))).is_err());
    }
}
