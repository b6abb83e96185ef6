//! The hazard lifecycle rules: the closed vocabularies a hazard is described
//! with (state, level, check source, role, action), the single pure function
//! that decides what an action does to a hazard's state and who may take it,
//! and the 五到位 completeness rule for rectification plans.
//!
//! Nothing here touches storage or HTTP; handlers translate
//! [`TransitionError::Forbidden`] to 403 and
//! [`TransitionError::NotAllowedInState`] to 409.

pub mod listing;
pub mod new;
pub mod rules;
pub mod sent_back;

use std::fmt;

use crate::domain::access::Capability;
use crate::domain::access::Role;
use crate::domain::vocabulary::vocabulary;
pub use crate::domain::vocabulary::UnknownValue;
use crate::messages::{Detail, DetailText};

vocabulary! {
    /// Where a hazard is in its lifecycle.
    pub enum HazardState {
        /// Found and recorded; no rectification plan yet.
        Reported => "reported",
        /// A plan exists and the enterprise is working on it.
        Rectifying => "rectifying",
        /// The enterprise says the work is done; awaiting sign-off.
        PendingAcceptance => "pending_acceptance",
        /// Signed off as rectified.
        Closed => "closed",
        /// Withdrawn by supervision (duplicate, recorded in error, ...).
        Voided => "voided",
    }
}

impl HazardState {
    /// Still needs someone to do something about it.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Self::Reported | Self::Rectifying | Self::PendingAcceptance
        )
    }

    /// Whether a passed deadline makes this hazard overdue. Once the
    /// enterprise has submitted, the wait is on the acceptor, not on the
    /// enterprise, so pending acceptance does not count.
    pub fn counts_toward_overdue(self) -> bool {
        matches!(self, Self::Reported | Self::Rectifying)
    }

    /// Whether a hazard in this state with this `deadline` (its last day)
    /// is overdue on the park-local date `today`.
    pub fn overdue_on(self, deadline: chrono::NaiveDate, today: chrono::NaiveDate) -> bool {
        self.counts_toward_overdue() && deadline < today
    }

    /// The name used in the park's mails and on its screens.
    pub fn label_zh(self) -> &'static str {
        crate::domain::terms::name("states", self.as_str())
    }

    /// The states that are [open](Self::is_open), for queries.
    pub fn open() -> Vec<HazardState> {
        Self::ALL.into_iter().filter(|s| s.is_open()).collect()
    }

    /// The states that [count toward overdue](Self::counts_toward_overdue),
    /// for queries.
    pub fn counting_toward_overdue() -> Vec<HazardState> {
        Self::ALL
            .into_iter()
            .filter(|s| s.counts_toward_overdue())
            .collect()
    }
}

vocabulary! {
    /// Severity grade; a major hazard needs a full 五到位 plan and
    /// supervision-level sign-off.
    pub enum HazardLevel {
        General => "general",
        Major => "major",
    }
}

impl HazardLevel {
    /// The level's name in the ledger: 一般隐患 or 重大隐患.
    pub fn label_zh(self) -> &'static str {
        crate::domain::terms::name("levels", self.as_str())
    }
}

vocabulary! {
    /// Which kind of inspection found the hazard.
    pub enum CheckSource {
        SelfCheck => "self_check",
        MutualCheck => "mutual_check",
        ResidentExpert => "resident_expert",
        NationalExpert => "national_expert",
        ParkSupervision => "park_supervision",
    }
}

impl CheckSource {
    /// The name used on the park's paper forms and reports.
    pub fn label_zh(self) -> &'static str {
        crate::domain::terms::name("sources", self.as_str())
    }
}

vocabulary! {
    /// Where a request for a later deadline stands.
    pub enum ExtensionState {
        /// Waiting for a supervisor's decision.
        Pending => "pending",
        Approved => "approved",
        Refused => "refused",
        /// Closed without a decision: the hazard was closed or voided.
        Withdrawn => "withdrawn",
    }
}

impl ExtensionState {
    /// The request's state in Chinese, as a refusal names it: the
    /// glossary's (`web/terms.json`, `extension_states`).
    pub fn label_zh(self) -> &'static str {
        crate::domain::terms::name("extension_states", self.as_str())
    }
}

vocabulary! {
    /// Something a user can do to a hazard.
    pub enum HazardAction {
        /// Record or revise the rectification plan.
        Plan => "plan",
        /// Declare the rectification finished.
        Submit => "submit",
        /// Sign off the rectification; closes the hazard.
        Accept => "accept",
        /// Send the rectification back for more work.
        Reject => "reject",
        /// Withdraw the hazard.
        Void => "void",
        /// Bring a closed hazard back into rectification.
        Reopen => "reopen",
        /// Ask for a later deadline.
        RequestExtension => "request_extension",
        /// Grant a pending extension request.
        ApproveExtension => "approve_extension",
        /// Turn down a pending extension request.
        RefuseExtension => "refuse_extension",
        /// Record a major hazard's Art. 14 report contents, Art. 15 plan
        /// parts and production stop.
        RecordDossier => "record_dossier",
        /// List a major hazard for supervision (挂牌督办).
        List => "list",
        /// Record the assessment of a listed hazard's remediation.
        RecordAssessment => "record_assessment",
        /// Record the enterprise's application to resume production.
        RecordResumption => "record_resumption",
        /// Record the authority's approval that ends the listing (摘牌).
        Delist => "delist",
    }
}

impl HazardAction {
    /// The statutory record of a major hazard (16号令 Art. 14–18).
    pub fn is_major_only(self) -> bool {
        matches!(
            self,
            Self::RecordDossier
                | Self::List
                | Self::RecordAssessment
                | Self::RecordResumption
                | Self::Delist
        )
    }

    /// Verb phrase for error sentences ("cannot {verb} a hazard ...").
    fn verb_phrase(self) -> &'static str {
        match self {
            Self::Plan => "plan the rectification of",
            Self::Submit => "submit the rectification of",
            Self::Accept => "accept",
            Self::Reject => "reject",
            Self::Void => "void",
            Self::Reopen => "reopen",
            Self::RequestExtension => "request a deadline extension for",
            Self::ApproveExtension => "approve a deadline extension for",
            Self::RefuseExtension => "refuse a deadline extension for",
            Self::RecordDossier => "record the dossier of",
            Self::List => "list",
            Self::RecordAssessment => "record the assessment of",
            Self::RecordResumption => "record the resumption application of",
            Self::Delist => "delist",
        }
    }

    /// The name the step has in a hazard's history (`GET
    /// /hazards/{id}/events`) and in webhooks: the verb's wire code for
    /// the lifecycle's own steps, a past participle for the others.
    pub fn event_name(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Submit => "submit",
            Self::Accept => "accept",
            Self::Reject => "reject",
            Self::Void => "void",
            Self::Reopen => "reopen",
            Self::RequestExtension => "extension_requested",
            Self::ApproveExtension => "extension_approved",
            Self::RefuseExtension => "extension_refused",
            Self::RecordDossier => "dossier_recorded",
            Self::List => "listed",
            Self::RecordAssessment => "listing_assessed",
            Self::RecordResumption => "resumption_applied",
            Self::Delist => "delisted",
        }
    }

    /// The action's name in Chinese, as a refusal names it
    /// (“不能进行‘作废’操作”): the glossary's (`web/terms.json`,
    /// `actions`), which names each step by its [event name](Self::event_name).
    pub fn label_zh(self) -> &'static str {
        crate::domain::terms::name("actions", self.event_name())
    }

    /// A refusal's detail naming this action, in English and Chinese.
    fn named(self, detail: Detail) -> DetailText {
        detail
            .with("action", self.verb_phrase())
            .with("action_zh", self.label_zh())
    }
}

/// Whether `role` may record a check of `source` (and report hazards from
/// it): an enterprise contact records only its own self-checks; the park's
/// roles that report at all record any source.
pub fn may_record_source(role: Role, source: CheckSource) -> bool {
    role.may(Capability::ReportHazards)
        && (role != Role::Enterprise || source == CheckSource::SelfCheck)
}

/// A hazard's number in the park's ledger: `YH-<year>-<6 digits>`, the
/// sequence counted per year found.
pub fn hazard_number(year: i32, seq: i32) -> String {
    format!("YH-{year}-{seq:06}")
}

/// Who is acting, on what kind of hazard.
///
/// The caller must already have established that an enterprise-role caller
/// owns the hazard; this module does not know about ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitionContext {
    pub role: Role,
    pub level: HazardLevel,
    pub source: CheckSource,
}

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionError {
    /// The role may never take this action on this hazard (HTTP 403).
    Forbidden,
    /// The role may take it, but not from the hazard's current state (HTTP 409).
    NotAllowedInState,
    /// The action is for major hazards only (HTTP 409).
    MajorOnly,
}

impl TransitionError {
    /// A sentence for the API client naming the specific rule that refused
    /// the action, more useful than the generic [`Display`](fmt::Display);
    /// in English and in Chinese.
    pub fn explain(
        self,
        state: HazardState,
        action: HazardAction,
        ctx: TransitionContext,
    ) -> DetailText {
        match self {
            Self::Forbidden => forbidden_reason(action, ctx),
            Self::MajorOnly => action.named(Detail::MajorOnly),
            Self::NotAllowedInState => {
                let from_states: Vec<HazardState> = HazardState::ALL
                    .into_iter()
                    .filter(|from| next_state(*from, action).is_some())
                    .collect();
                let codes: Vec<&str> = from_states.iter().map(|s| s.as_str()).collect();
                // “甲”、“乙”或“丙”
                let mut names: Vec<String> = from_states
                    .iter()
                    .map(|s| format!("“{}”", s.label_zh()))
                    .collect();
                let last = names.pop().unwrap_or_default();
                let names = match names.is_empty() {
                    true => last,
                    false => format!("{}或{last}", names.join("、")),
                };
                action
                    .named(Detail::NotInState)
                    .with("state", state.as_str())
                    .with("state_zh", state.label_zh())
                    .with("allowed", codes.join(" or "))
                    .with("allowed_zh", names)
            }
        }
    }
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Forbidden => "your role is not permitted to take this action on this hazard",
            Self::NotAllowedInState => {
                "this action is not possible while the hazard is in its current state"
            }
            Self::MajorOnly => "this action is for major hazards only",
        })
    }
}

impl std::error::Error for TransitionError {}

/// The state `state` moves to when `action` is taken in context `ctx`.
///
/// The role check comes first so that a caller who could never take the
/// action learns that (403) rather than being told to wait for a different
/// state (409) that would not help them.
pub fn transition(
    state: HazardState,
    action: HazardAction,
    ctx: TransitionContext,
) -> Result<HazardState, TransitionError> {
    if !role_may_take(action, ctx) {
        return Err(TransitionError::Forbidden);
    }
    if action.is_major_only() && ctx.level != HazardLevel::Major {
        return Err(TransitionError::MajorOnly);
    }
    next_state(state, action).ok_or(TransitionError::NotAllowedInState)
}

/// The actions that [`transition`] would accept right now, in
/// [`HazardAction::ALL`] order, so a client can show only usable buttons.
pub fn allowed_actions(state: HazardState, ctx: TransitionContext) -> Vec<HazardAction> {
    HazardAction::ALL
        .into_iter()
        .filter(|action| transition(state, *action, ctx).is_ok())
        .collect()
}

/// Whether the role may take the action on this kind of hazard in any state,
/// by the capability table.
fn role_may_take(action: HazardAction, ctx: TransitionContext) -> bool {
    let role = ctx.role;
    match action {
        HazardAction::Plan | HazardAction::Submit => role.may(Capability::RectifyHazards),
        HazardAction::Accept | HazardAction::Reject => may_sign_off(ctx),
        HazardAction::Void => role.may(Capability::VoidHazards),
        HazardAction::Reopen => role.may(Capability::ReopenHazards),
        HazardAction::ApproveExtension | HazardAction::RefuseExtension => {
            role.may(Capability::DecideExtensions)
        }
        HazardAction::RequestExtension => role.may(Capability::RequestExtensions),
        HazardAction::RecordDossier => role.may(Capability::RectifyHazards),
        HazardAction::List | HazardAction::Delist => role.may(Capability::SuperviseListings),
        HazardAction::RecordAssessment | HazardAction::RecordResumption => {
            role.may(Capability::RecordListingSteps)
        }
    }
}

/// Who may accept or reject a rectification. An enterprise may only mark its
/// own homework where it also set the exercise (its self-check) and the
/// stakes are low; a major hazard needs supervision, not just an expert.
fn may_sign_off(ctx: TransitionContext) -> bool {
    match ctx.level {
        HazardLevel::Major => ctx.role.may(Capability::AcceptMajorHazards),
        HazardLevel::General => {
            ctx.role.may(Capability::AcceptGeneralHazards)
                || (ctx.role.may(Capability::AcceptOwnSelfCheckHazards)
                    && ctx.source == CheckSource::SelfCheck)
        }
    }
}

/// The state-machine edges, ignoring who is acting.
fn next_state(state: HazardState, action: HazardAction) -> Option<HazardState> {
    use HazardAction as A;
    use HazardState as S;
    match (action, state) {
        (A::Plan, S::Reported | S::Rectifying) => Some(S::Rectifying),
        (A::Submit, S::Rectifying) => Some(S::PendingAcceptance),
        (A::Accept, S::PendingAcceptance) => Some(S::Closed),
        (A::Reject, S::PendingAcceptance) => Some(S::Rectifying),
        (A::Void, S::Reported | S::Rectifying | S::PendingAcceptance) => Some(S::Voided),
        (A::Reopen, S::Closed) => Some(S::Rectifying),
        // Extensions move the deadline, not the state.
        (A::RequestExtension, S::Reported | S::Rectifying) => Some(state),
        (
            A::ApproveExtension | A::RefuseExtension,
            S::Reported | S::Rectifying | S::PendingAcceptance,
        ) => Some(state),
        // A major hazard's statutory record: it moves no state either.
        (A::RecordDossier | A::List, S::Reported | S::Rectifying | S::PendingAcceptance) => {
            Some(state)
        }
        (
            A::RecordAssessment | A::RecordResumption | A::Delist,
            S::Rectifying | S::PendingAcceptance,
        ) => Some(state),
        _ => None,
    }
}

fn forbidden_reason(action: HazardAction, ctx: TransitionContext) -> DetailText {
    let role = ctx.role;
    let of_role = |detail: DetailText| {
        detail
            .with("role", role.as_str())
            .with("role_zh", role.label_zh())
    };
    if !role.may(Capability::ReadHazards) {
        return of_role(Detail::RoleMayNotTouchHazards.into());
    }
    match action {
        HazardAction::Accept | HazardAction::Reject => match (role, ctx.level) {
            (_, HazardLevel::Major) => action.named(Detail::SignOffMajor),
            (Role::Enterprise, HazardLevel::General) => action
                .named(Detail::SignOffOwnSelfCheck)
                .with("source", ctx.source.as_str())
                .with("source_zh", ctx.source.label_zh()),
            _ => of_role(action.named(Detail::RoleMayNotThisHazard)),
        },
        HazardAction::RequestExtension => Detail::ExtensionByEnterprise.into(),
        HazardAction::Void
        | HazardAction::Reopen
        | HazardAction::ApproveExtension
        | HazardAction::RefuseExtension => action.named(Detail::SupervisorOnly),
        HazardAction::Plan | HazardAction::Submit | HazardAction::RecordDossier => {
            of_role(action.named(Detail::RoleMayNotHazard))
        }
        HazardAction::List | HazardAction::Delist => action.named(Detail::ListingByAuthority),
        HazardAction::RecordAssessment | HazardAction::RecordResumption => {
            action.named(Detail::ListingStepRoles)
        }
    }
}

/// A rectification plan as submitted, borrowed from whatever request or row
/// holds it. `None` means the field was not supplied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RectificationPlan<'a> {
    /// 措施到位: what will be done.
    pub measures: Option<&'a str>,
    /// 责任到位: who answers for it.
    pub responsible_person: Option<&'a str>,
    /// 资金到位: budget in fen (0.01 yuan).
    pub funds: Option<i64>,
    /// 时限到位: when it will be done.
    pub deadline: Option<chrono::NaiveDate>,
    /// 预案到位: what happens if the hazard materialises before then.
    pub contingency_plan: Option<&'a str>,
}

/// The 五到位 fields `plan` lacks for a hazard of `level`, by their field
/// names, in declaration order; empty means the plan is complete.
///
/// A major hazard needs all five. A general hazard is usually fixed on the
/// spot, so only the measures are demanded. Whitespace-only text counts as
/// missing because a form submitted with blank boxes is not a plan. Only
/// presence is judged here: the amount of funds and whether the deadline is
/// in the future are for the caller, who knows the clock.
pub fn missing_plan_fields(level: HazardLevel, plan: &RectificationPlan) -> Vec<&'static str> {
    fn blank(text: Option<&str>) -> bool {
        text.is_none_or(|text| text.trim().is_empty())
    }

    let checks = [
        ("measures", blank(plan.measures)),
        ("responsible_person", blank(plan.responsible_person)),
        ("funds", plan.funds.is_none()),
        ("deadline", plan.deadline.is_none()),
        ("contingency_plan", blank(plan.contingency_plan)),
    ];
    let required: &[&str] = match level {
        HazardLevel::Major => &[
            "measures",
            "responsible_person",
            "funds",
            "deadline",
            "contingency_plan",
        ],
        HazardLevel::General => &["measures"],
    };
    checks
        .into_iter()
        .filter(|(name, missing)| *missing && required.contains(name))
        .map(|(name, _)| name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::str::FromStr;

    fn ctx(role: Role, level: HazardLevel, source: CheckSource) -> TransitionContext {
        TransitionContext {
            role,
            level,
            source,
        }
    }

    /// Roles permitted per action, spelled out as lists for each kind of
    /// hazard, independently of the match-based implementation.
    struct RoleRule {
        action: HazardAction,
        general_self_check: &'static [Role],
        general_other_source: &'static [Role],
        major: &'static [Role],
    }

    const EVERYONE_WHO_WORKS: &[Role] = &[
        Role::Admin,
        Role::Supervisor,
        Role::Expert,
        Role::Enterprise,
    ];
    const SUPERVISION: &[Role] = &[Role::Admin, Role::Supervisor];
    const SIGN_OFF_GENERAL_OTHER: &[Role] = &[Role::Admin, Role::Supervisor, Role::Expert];

    const LISTING_STEPS: &[Role] = &[Role::Supervisor, Role::Expert, Role::Enterprise];

    /// A statutory step of a major hazard: the roles' rule is the same for
    /// every kind of hazard; a general one then refuses it for its level.
    const fn statutory(action: HazardAction, roles: &'static [Role]) -> RoleRule {
        RoleRule {
            action,
            general_self_check: roles,
            general_other_source: roles,
            major: roles,
        }
    }

    const ROLE_RULES: [RoleRule; 14] = [
        statutory(HazardAction::RecordDossier, EVERYONE_WHO_WORKS),
        statutory(HazardAction::List, SUPERVISION),
        statutory(HazardAction::RecordAssessment, LISTING_STEPS),
        statutory(HazardAction::RecordResumption, LISTING_STEPS),
        statutory(HazardAction::Delist, SUPERVISION),
        RoleRule {
            action: HazardAction::Plan,
            general_self_check: EVERYONE_WHO_WORKS,
            general_other_source: EVERYONE_WHO_WORKS,
            major: EVERYONE_WHO_WORKS,
        },
        RoleRule {
            action: HazardAction::Submit,
            general_self_check: EVERYONE_WHO_WORKS,
            general_other_source: EVERYONE_WHO_WORKS,
            major: EVERYONE_WHO_WORKS,
        },
        RoleRule {
            action: HazardAction::Accept,
            general_self_check: EVERYONE_WHO_WORKS,
            general_other_source: SIGN_OFF_GENERAL_OTHER,
            major: SUPERVISION,
        },
        RoleRule {
            action: HazardAction::Reject,
            general_self_check: EVERYONE_WHO_WORKS,
            general_other_source: SIGN_OFF_GENERAL_OTHER,
            major: SUPERVISION,
        },
        RoleRule {
            action: HazardAction::Void,
            general_self_check: SUPERVISION,
            general_other_source: SUPERVISION,
            major: SUPERVISION,
        },
        RoleRule {
            action: HazardAction::Reopen,
            general_self_check: SUPERVISION,
            general_other_source: SUPERVISION,
            major: SUPERVISION,
        },
        RoleRule {
            action: HazardAction::RequestExtension,
            general_self_check: &[Role::Enterprise],
            general_other_source: &[Role::Enterprise],
            major: &[Role::Enterprise],
        },
        RoleRule {
            action: HazardAction::ApproveExtension,
            general_self_check: SUPERVISION,
            general_other_source: SUPERVISION,
            major: SUPERVISION,
        },
        RoleRule {
            action: HazardAction::RefuseExtension,
            general_self_check: SUPERVISION,
            general_other_source: SUPERVISION,
            major: SUPERVISION,
        },
    ];

    /// Every legal (action, from, to) edge; anything absent is illegal.
    const EDGES: &[(HazardAction, HazardState, HazardState)] = {
        use HazardAction as A;
        use HazardState as S;
        &[
            (A::Plan, S::Reported, S::Rectifying),
            (A::Plan, S::Rectifying, S::Rectifying),
            (A::Submit, S::Rectifying, S::PendingAcceptance),
            (A::Accept, S::PendingAcceptance, S::Closed),
            (A::Reject, S::PendingAcceptance, S::Rectifying),
            (A::Void, S::Reported, S::Voided),
            (A::Void, S::Rectifying, S::Voided),
            (A::Void, S::PendingAcceptance, S::Voided),
            (A::Reopen, S::Closed, S::Rectifying),
            (A::RequestExtension, S::Reported, S::Reported),
            (A::RequestExtension, S::Rectifying, S::Rectifying),
            (A::ApproveExtension, S::Reported, S::Reported),
            (A::ApproveExtension, S::Rectifying, S::Rectifying),
            (
                A::ApproveExtension,
                S::PendingAcceptance,
                S::PendingAcceptance,
            ),
            (A::RefuseExtension, S::Reported, S::Reported),
            (A::RefuseExtension, S::Rectifying, S::Rectifying),
            (
                A::RefuseExtension,
                S::PendingAcceptance,
                S::PendingAcceptance,
            ),
            (A::RecordDossier, S::Reported, S::Reported),
            (A::RecordDossier, S::Rectifying, S::Rectifying),
            (A::RecordDossier, S::PendingAcceptance, S::PendingAcceptance),
            (A::List, S::Reported, S::Reported),
            (A::List, S::Rectifying, S::Rectifying),
            (A::List, S::PendingAcceptance, S::PendingAcceptance),
            (A::RecordAssessment, S::Rectifying, S::Rectifying),
            (
                A::RecordAssessment,
                S::PendingAcceptance,
                S::PendingAcceptance,
            ),
            (A::RecordResumption, S::Rectifying, S::Rectifying),
            (
                A::RecordResumption,
                S::PendingAcceptance,
                S::PendingAcceptance,
            ),
            (A::Delist, S::Rectifying, S::Rectifying),
            (A::Delist, S::PendingAcceptance, S::PendingAcceptance),
        ]
    };

    fn expected(
        state: HazardState,
        action: HazardAction,
        c: TransitionContext,
    ) -> Result<HazardState, TransitionError> {
        let rule = ROLE_RULES
            .iter()
            .find(|rule| rule.action == action)
            .expect("every action has a role rule");
        let permitted = match (c.level, c.source) {
            (HazardLevel::Major, _) => rule.major,
            (HazardLevel::General, CheckSource::SelfCheck) => rule.general_self_check,
            (HazardLevel::General, _) => rule.general_other_source,
        };
        if !permitted.contains(&c.role) {
            return Err(TransitionError::Forbidden);
        }
        let major_only = matches!(
            action,
            HazardAction::RecordDossier
                | HazardAction::List
                | HazardAction::RecordAssessment
                | HazardAction::RecordResumption
                | HazardAction::Delist
        );
        if major_only && c.level == HazardLevel::General {
            return Err(TransitionError::MajorOnly);
        }
        let edges: HashMap<(HazardAction, HazardState), HazardState> = EDGES
            .iter()
            .map(|(action, from, to)| ((*action, *from), *to))
            .collect();
        edges
            .get(&(action, state))
            .copied()
            .ok_or(TransitionError::NotAllowedInState)
    }

    #[test]
    fn every_combination_matches_the_expected_table() {
        let mut checked = 0;
        for state in HazardState::ALL {
            for action in HazardAction::ALL {
                for role in Role::ALL {
                    for level in HazardLevel::ALL {
                        for source in CheckSource::ALL {
                            let c = ctx(role, level, source);
                            assert_eq!(
                                transition(state, action, c),
                                expected(state, action, c),
                                "{state} --{action}--> as {role}, {level}, {source}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 5 * 14 * 6 * 2 * 5);
    }

    #[test]
    fn the_table_covers_every_action_once() {
        for action in HazardAction::ALL {
            assert_eq!(
                ROLE_RULES.iter().filter(|r| r.action == action).count(),
                1,
                "{action}"
            );
        }
    }

    #[test]
    fn allowed_actions_lists_exactly_the_successful_ones() {
        for state in HazardState::ALL {
            for role in Role::ALL {
                for level in HazardLevel::ALL {
                    for source in CheckSource::ALL {
                        let c = ctx(role, level, source);
                        let expected: Vec<HazardAction> = HazardAction::ALL
                            .into_iter()
                            .filter(|a| expected(state, *a, c).is_ok())
                            .collect();
                        assert_eq!(allowed_actions(state, c), expected);
                    }
                }
            }
        }
    }

    #[test]
    fn allowed_actions_for_enterprise_on_pending_general_self_check() {
        let c = ctx(
            Role::Enterprise,
            HazardLevel::General,
            CheckSource::SelfCheck,
        );
        assert_eq!(
            allowed_actions(HazardState::PendingAcceptance, c),
            vec![HazardAction::Accept, HazardAction::Reject]
        );
    }

    #[test]
    fn enterprise_cannot_accept_a_major_self_check_hazard() {
        let c = ctx(Role::Enterprise, HazardLevel::Major, CheckSource::SelfCheck);
        assert_eq!(
            transition(HazardState::PendingAcceptance, HazardAction::Accept, c),
            Err(TransitionError::Forbidden)
        );
        assert_eq!(
            transition(HazardState::PendingAcceptance, HazardAction::Reject, c),
            Err(TransitionError::Forbidden)
        );
    }

    #[test]
    fn enterprise_cannot_accept_a_general_resident_expert_hazard() {
        let c = ctx(
            Role::Enterprise,
            HazardLevel::General,
            CheckSource::ResidentExpert,
        );
        assert_eq!(
            transition(HazardState::PendingAcceptance, HazardAction::Accept, c),
            Err(TransitionError::Forbidden)
        );
    }

    #[test]
    fn enterprise_accepts_its_own_general_self_check_hazard() {
        let c = ctx(
            Role::Enterprise,
            HazardLevel::General,
            CheckSource::SelfCheck,
        );
        assert_eq!(
            transition(HazardState::PendingAcceptance, HazardAction::Accept, c),
            Ok(HazardState::Closed)
        );
    }

    #[test]
    fn expert_cannot_accept_a_major_hazard() {
        for source in CheckSource::ALL {
            let c = ctx(Role::Expert, HazardLevel::Major, source);
            assert_eq!(
                transition(HazardState::PendingAcceptance, HazardAction::Accept, c),
                Err(TransitionError::Forbidden)
            );
        }
        let general = ctx(
            Role::Expert,
            HazardLevel::General,
            CheckSource::NationalExpert,
        );
        assert_eq!(
            transition(
                HazardState::PendingAcceptance,
                HazardAction::Accept,
                general
            ),
            Ok(HazardState::Closed)
        );
    }

    #[test]
    fn a_closed_hazard_cannot_be_voided() {
        for role in [Role::Supervisor, Role::Admin] {
            let c = ctx(role, HazardLevel::Major, CheckSource::ParkSupervision);
            assert_eq!(
                transition(HazardState::Closed, HazardAction::Void, c),
                Err(TransitionError::NotAllowedInState)
            );
        }
    }

    #[test]
    fn a_voided_hazard_is_final() {
        let c = ctx(Role::Admin, HazardLevel::Major, CheckSource::SelfCheck);
        assert!(allowed_actions(HazardState::Voided, c).is_empty());
    }

    #[test]
    fn viewer_is_forbidden_everything_everywhere() {
        for state in HazardState::ALL {
            for action in HazardAction::ALL {
                for level in HazardLevel::ALL {
                    for source in CheckSource::ALL {
                        let c = ctx(Role::Viewer, level, source);
                        assert_eq!(
                            transition(state, action, c),
                            Err(TransitionError::Forbidden)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn role_check_precedes_state_check() {
        // Wrong role and wrong state at once: the role is what is reported.
        let enterprise = ctx(
            Role::Enterprise,
            HazardLevel::General,
            CheckSource::SelfCheck,
        );
        assert_eq!(
            transition(HazardState::Closed, HazardAction::Void, enterprise),
            Err(TransitionError::Forbidden)
        );
        let supervisor = ctx(Role::Supervisor, HazardLevel::Major, CheckSource::SelfCheck);
        assert_eq!(
            transition(
                HazardState::Closed,
                HazardAction::RequestExtension,
                supervisor
            ),
            Err(TransitionError::Forbidden)
        );
    }

    #[test]
    fn plan_can_be_revised_while_rectifying() {
        let c = ctx(Role::Enterprise, HazardLevel::Major, CheckSource::SelfCheck);
        assert_eq!(
            transition(HazardState::Rectifying, HazardAction::Plan, c),
            Ok(HazardState::Rectifying)
        );
    }

    #[test]
    fn explanations_name_the_rule() {
        let enterprise = ctx(
            Role::Enterprise,
            HazardLevel::General,
            CheckSource::ResidentExpert,
        );
        let text = TransitionError::Forbidden.explain(
            HazardState::PendingAcceptance,
            HazardAction::Accept,
            enterprise,
        );
        assert!(text.to_string().contains("self-check"), "{text}");
        assert!(text.to_string().contains("resident_expert"), "{text}");
        assert_eq!(
            text.chinese().as_deref(),
            Some("企业联系人只能对本企业自查发现的一般隐患进行“验收销号”操作，不能对常驻专家检查发现的隐患进行此操作。")
        );

        let supervisor = ctx(Role::Supervisor, HazardLevel::Major, CheckSource::SelfCheck);
        let text = TransitionError::NotAllowedInState.explain(
            HazardState::Closed,
            HazardAction::Void,
            supervisor,
        );
        assert_eq!(
            text.to_string(),
            "cannot void a hazard that is closed; this is only possible when it is \
             reported or rectifying or pending_acceptance"
        );
        assert_eq!(
            text.chinese().as_deref(),
            Some("隐患处于“已销号”状态，不能进行“作废”操作；只有处于“待制定整改方案”、“整改中”或“待验收”状态时才可以。")
        );

        // Every refusal has a non-empty explanation.
        for state in HazardState::ALL {
            for action in HazardAction::ALL {
                for role in Role::ALL {
                    let c = ctx(role, HazardLevel::Major, CheckSource::MutualCheck);
                    if let Err(error) = transition(state, action, c) {
                        let text = error.explain(state, action, c);
                        assert!(!text.to_string().is_empty());
                        let chinese = text.chinese().unwrap_or_default();
                        assert!(!chinese.is_empty(), "{text}");
                        assert!(
                            !chinese.chars().any(|c| c.is_ascii_alphabetic()),
                            "{chinese}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn state_predicates() {
        let open: Vec<_> = HazardState::ALL
            .into_iter()
            .filter(|s| s.is_open())
            .collect();
        assert_eq!(
            open,
            [
                HazardState::Reported,
                HazardState::Rectifying,
                HazardState::PendingAcceptance
            ]
        );
        let overdue: Vec<_> = HazardState::ALL
            .into_iter()
            .filter(|s| s.counts_toward_overdue())
            .collect();
        assert_eq!(overdue, [HazardState::Reported, HazardState::Rectifying]);
    }

    /// `as_str`, `FromStr`, `Display` and serde must agree for every member.
    fn assert_names_agree<T>(all: &[T], as_str: fn(&T) -> &'static str)
    where
        T: FromStr<Err = UnknownValue>
            + fmt::Display
            + fmt::Debug
            + PartialEq
            + serde::Serialize
            + serde::de::DeserializeOwned,
    {
        for value in all {
            let name = as_str(value);
            assert_eq!(name.parse::<T>().as_ref(), Ok(value));
            assert_eq!(value.to_string(), name);
            let json = serde_json::to_string(value).expect("serialises");
            assert_eq!(json, format!("\"{name}\""));
            let back: T = serde_json::from_str(&json).expect("deserialises");
            assert_eq!(&back, value);
        }
    }

    #[test]
    fn names_agree_across_as_str_parse_display_and_serde() {
        assert_names_agree(&HazardState::ALL, |v| v.as_str());
        assert_names_agree(&HazardLevel::ALL, |v| v.as_str());
        assert_names_agree(&CheckSource::ALL, |v| v.as_str());
        assert_names_agree(&Role::ALL, |v| v.as_str());
        assert_names_agree(&HazardAction::ALL, |v| v.as_str());
    }

    #[test]
    fn specific_names() {
        assert_eq!(
            HazardState::PendingAcceptance.as_str(),
            "pending_acceptance"
        );
        assert_eq!(CheckSource::SelfCheck.as_str(), "self_check");
        assert_eq!(CheckSource::MutualCheck.as_str(), "mutual_check");
        assert_eq!(CheckSource::ResidentExpert.as_str(), "resident_expert");
        assert_eq!(CheckSource::NationalExpert.as_str(), "national_expert");
        assert_eq!(CheckSource::ParkSupervision.as_str(), "park_supervision");
        assert_eq!(HazardAction::RequestExtension.as_str(), "request_extension");
        assert_eq!(CheckSource::SelfCheck.label_zh(), "企业自查");
        assert_eq!(CheckSource::MutualCheck.label_zh(), "企业互查");
        assert_eq!(CheckSource::ResidentExpert.label_zh(), "常驻专家检查");
        assert_eq!(
            CheckSource::NationalExpert.label_zh(),
            "聘请国家级专家查隐患"
        );
        assert_eq!(CheckSource::ParkSupervision.label_zh(), "园区督导检查");
    }

    #[test]
    fn unknown_names_are_rejected() {
        assert_eq!(
            "Reported".parse::<HazardState>(),
            Err(UnknownValue("Reported".to_owned()))
        );
        assert!("".parse::<Role>().is_err());
        assert!("self-check".parse::<CheckSource>().is_err());
        assert_eq!(
            UnknownValue("x".to_owned()).to_string(),
            "unknown value \"x\""
        );
    }

    fn complete_plan() -> RectificationPlan<'static> {
        RectificationPlan {
            measures: Some("replace the corroded flange"),
            responsible_person: Some("张三"),
            funds: Some(1_200_000),
            deadline: chrono::NaiveDate::from_ymd_opt(2025, 6, 30),
            contingency_plan: Some("isolate the line and post a watch"),
        }
    }

    #[test]
    fn complete_plan_is_complete_for_both_levels() {
        for level in HazardLevel::ALL {
            assert!(missing_plan_fields(level, &complete_plan()).is_empty());
        }
    }

    #[test]
    fn empty_plan_misses_all_five_for_major_and_measures_for_general() {
        let empty = RectificationPlan::default();
        assert_eq!(
            missing_plan_fields(HazardLevel::Major, &empty),
            [
                "measures",
                "responsible_person",
                "funds",
                "deadline",
                "contingency_plan"
            ]
        );
        assert_eq!(
            missing_plan_fields(HazardLevel::General, &empty),
            ["measures"]
        );
    }

    #[test]
    fn whitespace_only_text_counts_as_missing() {
        let plan = RectificationPlan {
            measures: Some(" \t\n"),
            responsible_person: Some(""),
            contingency_plan: Some("\u{3000}"), // full-width space
            ..complete_plan()
        };
        assert_eq!(
            missing_plan_fields(HazardLevel::Major, &plan),
            ["measures", "responsible_person", "contingency_plan"]
        );
        assert_eq!(
            missing_plan_fields(HazardLevel::General, &plan),
            ["measures"]
        );
    }

    #[test]
    fn general_hazard_needs_only_measures() {
        let plan = RectificationPlan {
            measures: Some("tighten the bolt"),
            ..RectificationPlan::default()
        };
        assert!(missing_plan_fields(HazardLevel::General, &plan).is_empty());
        assert_eq!(
            missing_plan_fields(HazardLevel::Major, &plan),
            [
                "responsible_person",
                "funds",
                "deadline",
                "contingency_plan"
            ]
        );
    }

    #[test]
    fn zero_funds_are_present() {
        let plan = RectificationPlan {
            funds: Some(0),
            ..complete_plan()
        };
        assert!(missing_plan_fields(HazardLevel::Major, &plan).is_empty());
    }

    #[test]
    fn each_major_field_is_reported_alone() {
        let cases: [(&str, RectificationPlan); 5] = [
            (
                "measures",
                RectificationPlan {
                    measures: None,
                    ..complete_plan()
                },
            ),
            (
                "responsible_person",
                RectificationPlan {
                    responsible_person: None,
                    ..complete_plan()
                },
            ),
            (
                "funds",
                RectificationPlan {
                    funds: None,
                    ..complete_plan()
                },
            ),
            (
                "deadline",
                RectificationPlan {
                    deadline: None,
                    ..complete_plan()
                },
            ),
            (
                "contingency_plan",
                RectificationPlan {
                    contingency_plan: None,
                    ..complete_plan()
                },
            ),
        ];
        for (name, plan) in cases {
            assert_eq!(missing_plan_fields(HazardLevel::Major, &plan), [name]);
        }
    }

    #[test]
    fn enterprise_contacts_record_only_self_checks() {
        for source in CheckSource::ALL {
            assert_eq!(
                may_record_source(Role::Enterprise, source),
                source == CheckSource::SelfCheck
            );
            assert!(may_record_source(Role::Expert, source));
            assert!(!may_record_source(Role::Viewer, source));
        }
    }
}
