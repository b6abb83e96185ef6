//! Drives a hazard through its lifecycle: each change is load → decide
//! (the transition function and the step's rules, in `domain::hazard`) →
//! persist (the changed hazard, version-checked, and its one event,
//! together with the mails it causes) in one transaction. Every handler
//! that changes a hazard comes through here; evidence changes go through
//! `app::evidence`, which shares [`record_change`].

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::app::escalation::Escalation;
use crate::app::listing;
use crate::app::webhooks;
use crate::clock::Now;
use crate::db::hazards::rendered::{self, RenderedRow};
use crate::db::hazards::{self as store, Extension, Hazard, HazardEvent};
use crate::db::Id;
use crate::db::{enterprises, inspections, write_transaction, DbConnection};
use crate::domain::access::{Caller, Capability};
use crate::domain::hazard::listing::{
    AssessmentInput, DelistingInput, Dossier, Listing, ResumptionInput,
};
use crate::domain::hazard::new::NewHazard;
use crate::domain::hazard::rules::{self, PlanInput, PlanTarget, RecordPolicy};
use crate::domain::hazard::{
    hazard_number, transition, ExtensionState, HazardAction, HazardState, TransitionContext,
    TransitionError,
};
use crate::domain::version::{self, ExpectedVersion};
use crate::domain::webhook::EventType;
use crate::error::{AppError, FieldError};
use crate::messages::{Detail, Rule};

/// Records a new hazard and its first event; a major one reaches the
/// supervisors by mail in the same transaction.
pub fn report_hazard(
    conn: &mut DbConnection,
    caller: &Caller,
    new: NewHazard,
    now: Now,
    policy: RecordPolicy,
    escalation: &Escalation,
) -> Result<Hazard, AppError> {
    // A listing for supervision (挂牌督办) comes with the capability to
    // make one, whichever path it arrives by.
    if new.listing_ordering_body.is_some() {
        caller.require(Capability::SuperviseListings)?;
    }
    let entered_late = rules::entered_late(caller.role, new.found_at, now.utc, policy, "found_at")?;
    write_transaction(conn, |conn| {
        check_references(conn, caller, &new)?;
        let seq = store::next_number_in_year(conn, new.found_year)?;
        let hazard = new_hazard_row(new, seq, caller, now);
        store::insert(conn, &hazard)?;
        listing::carry_over_reported_listing(conn, &hazard, now.local_date(hazard.found_at))?;
        store::append_event(conn, &first_event(&hazard, caller, now, entered_late))?;
        escalation.on_reported(conn, &hazard, now.utc)?;
        let data = webhooks::hazard_data(&hazard);
        webhooks::publish(conn, EventType::HazardReported, data.clone(), now.utc)?;
        if hazard.level == crate::domain::hazard::HazardLevel::Major {
            webhooks::publish(conn, EventType::HazardMajorReported, data, now.utc)?;
        }
        Ok(hazard)
    })
}

/// The enterprises and the inspection a new hazard names exist, and the
/// inspection checked that enterprise with that source.
fn check_references(
    conn: &mut DbConnection,
    caller: &Caller,
    new: &NewHazard,
) -> Result<(), AppError> {
    if !enterprises::exists(conn, new.enterprise_id.into())? {
        return Err(AppError::invalid("enterprise_id", Rule::UnknownEnterprise));
    }
    if let Some(checking) = new.checking_enterprise_id {
        if !enterprises::exists(conn, checking.into())? {
            return Err(AppError::invalid(
                "checking_enterprise_id",
                Rule::UnknownEnterprise,
            ));
        }
    }
    if let Some(inspection_id) = new.inspection_id {
        let inspection = inspections::find(conn, inspection_id.into())?
            .filter(|i| caller.can_see_enterprise(i.enterprise_id.uuid()))
            .ok_or_else(|| AppError::invalid("inspection_id", Rule::UnknownInspection))?;
        if inspection.enterprise_id != new.enterprise_id {
            return Err(AppError::invalid(
                "inspection_id",
                Rule::InspectionOfAnotherEnterprise,
            ));
        }
        if inspection.source != new.source {
            return Err(AppError::invalid(
                "inspection_id",
                FieldError::new(Rule::InspectionOfOtherSource)
                    .with("inspection_source", inspection.source.to_string())
                    .with("source", new.source.to_string()),
            ));
        }
    }
    Ok(())
}

/// The row of a hazard just reported, numbered `seq` in its year.
pub(crate) fn new_hazard_row(new: NewHazard, seq: i32, caller: &Caller, now: Now) -> Hazard {
    Hazard {
        id: Uuid::now_v7().into(),
        number: hazard_number(new.found_year, seq),
        found_year: new.found_year,
        enterprise_id: new.enterprise_id.into(),
        source: new.source,
        checking_enterprise_id: new.checking_enterprise_id.map(Id::from),
        inspection_id: new.inspection_id.map(Id::from),
        title: new.title,
        description: new.description,
        location: new.location,
        category: new.category,
        specialty: new.specialty,
        level: new.level,
        major_basis_code: new.major_basis_code,
        listing_ordering_body: new.listing_ordering_body,
        listing_listed_on: new.listing_listed_on,
        found_at: new.found_at,
        found_by: caller.user_id.into(),
        deadline: new.deadline,
        state: HazardState::Reported,
        version: 1,
        plan_measures: None,
        plan_responsible_person: None,
        plan_funds_fen: None,
        plan_contingency: None,
        planned_at: None,
        planned_by: None,
        submitted_at: None,
        closed_at: None,
        voided_at: None,
        created_at: now.utc,
        updated_at: now.utc,
        evidence_before: 0,
        evidence_after: 0,
        found_month: i32::try_from(chrono::Datelike::month(&now.local_date(new.found_at)))
            .unwrap_or(0),
        closed_on_time: None,
    }
}

/// The first event of a hazard's history: its report.
fn first_event(hazard: &Hazard, caller: &Caller, now: Now, entered_late: bool) -> HazardEvent {
    HazardEvent {
        id: Uuid::now_v7().into(),
        hazard_id: hazard.id,
        seq: 1,
        action: "report".to_owned(),
        actor_id: caller.user_id.into(),
        actor_role: caller.role,
        from_state: None,
        to_state: hazard.state,
        occurred_at: hazard.found_at,
        recorded_at: now.utc,
        note: None,
        details: json!({
            "number": hazard.number,
            "level": hazard.level,
            "source": hazard.source,
            "deadline": hazard.deadline,
        })
        .to_string(),
        entered_late,
    }
}

/// One change to a hazard's lifecycle.
#[derive(Debug, Clone)]
pub enum Command {
    Plan {
        plan: PlanInput,
        /// The park's policy: a major hazard's Art. 14 report comes first.
        report_required: bool,
    },
    Submit {
        notes: Option<String>,
        /// The park's policy: general hazards, too, need an `after` file.
        after_evidence_for_general: bool,
    },
    Accept {
        notes: Option<String>,
    },
    Reject {
        reason: String,
    },
    Void {
        reason: String,
    },
    Reopen {
        reason: String,
    },
    RequestExtension {
        requested_deadline: NaiveDate,
        reason: String,
    },
    ApproveExtension {
        extension_id: Uuid,
        granted_deadline: Option<NaiveDate>,
        note: Option<String>,
    },
    RefuseExtension {
        extension_id: Uuid,
        /// Why; required (see `rules::refusal_reason`).
        reason: String,
    },
    RecordDossier(Dossier),
    List(Listing),
    RecordAssessment(AssessmentInput),
    RecordResumption(ResumptionInput),
    Delist(DelistingInput),
}

impl Command {
    /// The day a statutory step names as its own (`listed_on`, …), with its
    /// field: the step happened that day, whenever it is entered.
    fn own_day(&self) -> Option<(&'static str, NaiveDate)> {
        match self {
            Command::List(input) => Some(("listed_on", input.listed_on)),
            Command::RecordAssessment(input) => Some(("assessed_on", input.assessed_on)),
            Command::RecordResumption(input) => Some(("applied_on", input.applied_on)),
            Command::Delist(input) => Some(("delisted_on", input.delisted_on)),
            _ => None,
        }
    }

    pub fn action(&self) -> HazardAction {
        match self {
            Command::Plan { .. } => HazardAction::Plan,
            Command::Submit { .. } => HazardAction::Submit,
            Command::Accept { .. } => HazardAction::Accept,
            Command::Reject { .. } => HazardAction::Reject,
            Command::Void { .. } => HazardAction::Void,
            Command::Reopen { .. } => HazardAction::Reopen,
            Command::RequestExtension { .. } => HazardAction::RequestExtension,
            Command::ApproveExtension { .. } => HazardAction::ApproveExtension,
            Command::RefuseExtension { .. } => HazardAction::RefuseExtension,
            Command::RecordDossier(_) => HazardAction::RecordDossier,
            Command::List(_) => HazardAction::List,
            Command::RecordAssessment(_) => HazardAction::RecordAssessment,
            Command::RecordResumption(_) => HazardAction::RecordResumption,
            Command::Delist(_) => HazardAction::Delist,
        }
    }
}

/// Preconditions the client stated.
#[derive(Debug, Clone, Default)]
pub struct Preconditions {
    /// The versions `If-Match` admits; another → `412`.
    pub if_match: Option<ExpectedVersion>,
    /// When it really happened; defaults to now.
    pub occurred_at: Option<NaiveDateTime>,
}

impl Preconditions {
    /// When the step happened, checked against the history, and whether it
    /// is an entered record (refused to roles that may not enter them).
    ///
    /// A statutory step that names its own day (`own_day`) and no
    /// `occurred_at` is dated that day: now when it is today, else the
    /// day's start in park time, or the previous step's time when that fell
    /// on the same day. Its order against the previous step is judged by
    /// day, and it is an entered record as any step dated then would be.
    fn dating(
        &self,
        caller: &Caller,
        history: &History,
        own_day: Option<(&'static str, NaiveDate)>,
        now: Now,
        policy: RecordPolicy,
    ) -> Result<(NaiveDateTime, bool), AppError> {
        if let (None, Some((field, day))) = (self.occurred_at, own_day) {
            if day >= now.park_today {
                // A day in the future is refused by the step's own rules.
                return Ok((now.utc.max(history.last_step), false));
            }
            let previous_day = now.local_date(history.last_step);
            if day < previous_day {
                return Err(AppError::invalid(
                    field,
                    FieldError::new(Rule::BeforePreviousDay)
                        .with("previous_day", previous_day.to_string()),
                ));
            }
            let at = now.day_start(day).max(history.last_step);
            let late = rules::entered_late(caller.role, at, now.utc, policy, field)?;
            return Ok((at, late));
        }
        let at = rules::occurred_at(self.occurred_at, now.utc, history.last_step)?;
        let late = match self.occurred_at {
            Some(given) => rules::entered_late(caller.role, given, now.utc, policy, "occurred_at")?,
            None => false,
        };
        Ok((at, late))
    }
}

/// The outcome of a command: the hazard as it now is, and the extension the
/// command created or decided, if any.
pub struct Applied {
    pub hazard: Hazard,
    pub extension: Option<Extension>,
}

/// Loads a hazard the caller may see; another enterprise's is not found.
pub fn visible_hazard(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Hazard, AppError> {
    let hazard = store::find(conn, id.into())?.ok_or(AppError::NotFound("hazard"))?;
    if !caller.can_see_enterprise(hazard.enterprise_id.uuid()) {
        return Err(AppError::NotFound("hazard"));
    }
    Ok(hazard)
}

/// [`visible_hazard`] as the row's rendering (`db::hazards::rendered`), or whole if
/// the row carries none yet.
pub fn visible_rendered(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Result<RenderedRow, Hazard>, AppError> {
    let row = rendered::find(conn, id.into())?.ok_or(AppError::NotFound("hazard"))?;
    if !caller.can_see_enterprise(row.enterprise_id.uuid()) {
        return Err(AppError::NotFound("hazard"));
    }
    if row.usable_wire().is_some() {
        return Ok(Ok(row));
    }
    Ok(Err(visible_hazard(conn, caller, id)?))
}

/// Renders every hazard row that carries no rendering yet (rows from
/// before `db::hazards::rendered`), 500 to a transaction; returns how many.
pub fn render_missing(conn: &mut DbConnection) -> Result<usize, AppError> {
    let mut total = 0;
    loop {
        let written = write_transaction(conn, |conn| rendered::fill_missing(conn, 500))?;
        if written == 0 {
            return Ok(total);
        }
        total += written;
    }
}

/// The hazards whose stored rendering differs from their row rendered
/// afresh (none, when all is well), and how many rows carry none yet.
pub fn verify_renderings(conn: &mut DbConnection) -> Result<(Vec<Uuid>, u64), AppError> {
    let (differing, missing) =
        crate::db::snapshot_transaction(conn, |conn| rendered::differing(conn, 2000))?;
    Ok((differing.into_iter().map(Id::uuid).collect(), missing))
}

/// Renders the rows `ids` afresh, and any carrying none.
pub fn rerender(conn: &mut DbConnection, ids: &[Uuid]) -> Result<usize, AppError> {
    let ids: Vec<Id> = ids.iter().copied().map(Id::from).collect();
    write_transaction(conn, |conn| rendered::forget(conn, &ids))?;
    render_missing(conn)
}

/// Refuses (`412`) a change made against a version that is not current.
pub fn check_version(hazard: &Hazard, if_match: Option<&ExpectedVersion>) -> Result<(), AppError> {
    version::check_version(if_match, hazard.version)
}

/// What a change is made under besides the command: the time, the park's
/// policy for entered records, and the escalation policy.
#[derive(Clone)]
pub struct Context {
    pub now: Now,
    pub policy: RecordPolicy,
    pub escalation: std::sync::Arc<Escalation>,
}

/// Takes `command` on a hazard the caller may see: load → decide → persist.
pub fn apply(
    conn: &mut DbConnection,
    caller: &Caller,
    hazard_id: Uuid,
    command: Command,
    preconditions: Preconditions,
    context: &Context,
) -> Result<Applied, AppError> {
    let Context {
        now,
        policy,
        ref escalation,
    } = *context;
    write_transaction(conn, |conn| {
        let mut hazard = visible_hazard(conn, caller, hazard_id)?;
        check_version(&hazard, preconditions.if_match.as_ref())?;
        let action = command.action();
        let from = hazard.state;
        let next = decide(caller, &hazard, action)?;
        let history = History::of(conn, &hazard)?;
        let own_day = command.own_day();
        let (occurred_at, entered_late) =
            preconditions.dating(caller, &history, own_day, now, policy)?;
        let previous_deadline = hazard.deadline;
        let outcome = carry_out(conn, caller, &mut hazard, command, occurred_at, now)?;
        hazard.state = next;
        let step = Step {
            action: action.event_name(),
            from,
            occurred_at,
            note: outcome.note,
            details: outcome.details,
            entered_late,
        };
        record_change(conn, caller, &mut hazard, &history, step, now)?;
        escalation.on_changed(conn, &hazard, previous_deadline, now.utc)?;
        if hazard.state != from {
            let mut data = webhooks::hazard_data(&hazard);
            data["from_state"] = json!(from);
            data["action"] = json!(action.event_name());
            webhooks::publish(conn, EventType::HazardStateChanged, data, now.utc)?;
        }
        Ok(Applied {
            hazard,
            extension: outcome.extension,
        })
    })
}

/// The state `action` leaves the hazard in, by the transition function:
/// `403` when the caller's role may never take it, `409` when not now.
fn decide(caller: &Caller, hazard: &Hazard, action: HazardAction) -> Result<HazardState, AppError> {
    let state = hazard.state;
    let ctx = TransitionContext {
        role: caller.role,
        level: hazard.level,
        source: hazard.source,
    };
    transition(state, action, ctx).map_err(|e| match e {
        TransitionError::Forbidden => AppError::forbidden(e.explain(state, action, ctx)),
        TransitionError::NotAllowedInState | TransitionError::MajorOnly => {
            AppError::InvalidTransition(e.explain(state, action, ctx))
        }
    })
}

/// Where a hazard's history stands: the last event's number, and the time
/// of its last lifecycle step, which a new step may not precede.
pub struct History {
    last_seq: i32,
    pub last_step: NaiveDateTime,
}

impl History {
    pub fn of(conn: &mut DbConnection, hazard: &Hazard) -> Result<History, AppError> {
        let (last_seq, last_step) = store::last_event(conn, hazard.id)?.ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("hazard {} has no history", hazard.id))
        })?;
        Ok(History {
            last_seq,
            last_step,
        })
    }
}

/// The event a change records.
pub struct Step {
    pub action: &'static str,
    pub from: HazardState,
    pub occurred_at: NaiveDateTime,
    pub note: Option<String>,
    pub details: Map<String, Value>,
    pub entered_late: bool,
}

/// Persists a decided change: the hazard with its version moved, written
/// only if nobody changed it meanwhile (else `409`), and its event. Every
/// change to an existing hazard, lifecycle and evidence alike, ends here.
pub fn record_change(
    conn: &mut DbConnection,
    caller: &Caller,
    hazard: &mut Hazard,
    history: &History,
    step: Step,
    now: Now,
) -> Result<(), AppError> {
    let expected_version = hazard.version;
    hazard.version += 1;
    hazard.updated_at = now.utc;
    if !store::update(conn, hazard, expected_version)? {
        return Err(AppError::conflict(Detail::HazardChanged));
    }
    store::append_event(
        conn,
        &HazardEvent {
            id: Uuid::now_v7().into(),
            hazard_id: hazard.id,
            seq: history.last_seq + 1,
            action: step.action.to_owned(),
            actor_id: caller.user_id.into(),
            actor_role: caller.role,
            from_state: Some(step.from),
            to_state: hazard.state,
            occurred_at: step.occurred_at,
            recorded_at: now.utc,
            note: step.note,
            details: Value::Object(step.details).to_string(),
            entered_late: step.entered_late,
        },
    )
}

/// What carrying out a command adds to its event, and the extension it
/// created or decided.
#[derive(Default)]
struct Outcome {
    note: Option<String>,
    details: Map<String, Value>,
    extension: Option<Extension>,
}

impl Outcome {
    fn noted(note: Option<String>) -> Outcome {
        Outcome {
            note,
            ..Outcome::default()
        }
    }
}

/// Applies the command's own effects to the hazard (the state is set by
/// the caller).
fn carry_out(
    conn: &mut DbConnection,
    caller: &Caller,
    hazard: &mut Hazard,
    command: Command,
    occurred_at: NaiveDateTime,
    now: Now,
) -> Result<Outcome, AppError> {
    match command {
        Command::Plan {
            plan,
            report_required,
        } => {
            listing::check_report_before_plan(conn, hazard, report_required)?;
            plan_rectification(caller, hazard, plan, occurred_at, now)
        }
        Command::Submit {
            notes,
            after_evidence_for_general,
        } => submit_rectification(hazard, notes, after_evidence_for_general, occurred_at),
        Command::Accept { notes } => accept_rectification(conn, hazard, notes, occurred_at, now),
        Command::Reject { reason } => {
            hazard.submitted_at = None;
            Ok(Outcome::noted(Some(reason)))
        }
        Command::Void { reason } => {
            hazard.voided_at = Some(occurred_at);
            withdraw_pending_extension(conn, hazard.id, now.utc, "the hazard was voided")?;
            Ok(Outcome::noted(Some(reason)))
        }
        Command::Reopen { reason } => {
            hazard.closed_at = None;
            hazard.closed_on_time = None;
            hazard.submitted_at = None;
            Ok(Outcome::noted(Some(reason)))
        }
        Command::RequestExtension {
            requested_deadline,
            reason,
        } => request_extension(
            conn,
            caller,
            hazard,
            requested_deadline,
            reason,
            occurred_at,
        ),
        Command::ApproveExtension {
            extension_id,
            granted_deadline,
            note,
        } => {
            let decision = (extension_id, Decision::Approve(granted_deadline), note);
            decide_extension(conn, caller, hazard, decision, occurred_at)
        }
        Command::RefuseExtension {
            extension_id,
            reason,
        } => {
            let decision = (extension_id, Decision::Refuse, Some(reason));
            decide_extension(conn, caller, hazard, decision, occurred_at)
        }
        statutory => statutory_step(conn, caller, hazard, statutory, now).map(Outcome::from),
    }
}

/// A step of a major hazard's statutory record (`app::listing`).
fn statutory_step(
    conn: &mut DbConnection,
    caller: &Caller,
    hazard: &mut Hazard,
    command: Command,
    now: Now,
) -> Result<listing::Recorded, AppError> {
    let today = now.park_today;
    match command {
        Command::RecordDossier(dossier) => {
            listing::record_dossier(conn, caller, hazard, dossier, now)
        }
        Command::List(input) => listing::list(conn, caller, hazard, input),
        Command::RecordAssessment(input) => {
            listing::record_assessment(conn, caller, hazard, input, today)
        }
        Command::RecordResumption(input) => {
            listing::record_resumption(conn, caller, hazard, input, today)
        }
        Command::Delist(input) => listing::delist(conn, caller, hazard, input, today),
        other => Err(AppError::Internal(anyhow::anyhow!(
            "{:?} is not a statutory step",
            other.action()
        ))),
    }
}

impl From<listing::Recorded> for Outcome {
    fn from((note, details): listing::Recorded) -> Outcome {
        Outcome {
            note,
            details,
            extension: None,
        }
    }
}

fn submit_rectification(
    hazard: &mut Hazard,
    notes: Option<String>,
    after_evidence_for_general: bool,
    occurred_at: NaiveDateTime,
) -> Result<Outcome, AppError> {
    rules::check_submission(
        hazard.level,
        after_evidence_for_general,
        hazard.evidence_after,
    )?;
    hazard.submitted_at = Some(occurred_at);
    let mut outcome = Outcome::noted(notes);
    outcome
        .details
        .insert("deadline".into(), json!(hazard.deadline));
    Ok(outcome)
}

/// Closes the hazard (销号), settling whether it was rectified on time.
fn accept_rectification(
    conn: &mut DbConnection,
    hazard: &mut Hazard,
    notes: Option<String>,
    occurred_at: NaiveDateTime,
    now: Now,
) -> Result<Outcome, AppError> {
    listing::check_closable(conn, hazard)?;
    hazard.closed_at = Some(occurred_at);
    let submitted_on = hazard.submitted_at.map(|at| now.local_date(at));
    let submit = store::last_event_of(conn, hazard.id, "submit")?;
    let recorded_in_time = submit.is_none_or(|e| {
        rules::submission_recorded_in_time(
            now.local_date(e.recorded_at),
            hazard.deadline,
            e.actor_role,
        )
    });
    hazard.closed_on_time =
        Some(rules::closed_on_time(submitted_on, hazard.deadline) && recorded_in_time);
    withdraw_pending_extension(conn, hazard.id, now.utc, "the hazard was closed")?;
    Ok(Outcome::noted(notes))
}

/// 五到位: the plan's rules decide the deadline it leaves; the plan is kept
/// on the hazard and in the event.
fn plan_rectification(
    caller: &Caller,
    hazard: &mut Hazard,
    plan: PlanInput,
    occurred_at: NaiveDateTime,
    now: Now,
) -> Result<Outcome, AppError> {
    let target = PlanTarget {
        level: hazard.level,
        deadline: hazard.deadline,
        found_on: now.local_date(hazard.found_at),
    };
    let deadline = rules::plan_deadline(caller.role, target, &plan)?;
    let mut outcome = Outcome::default();
    outcome
        .details
        .insert("previous_deadline".into(), json!(hazard.deadline));
    hazard.plan_measures = plan.measures;
    hazard.plan_responsible_person = plan.responsible_person;
    hazard.plan_funds_fen = plan.funds_fen;
    hazard.plan_contingency = plan.contingency_plan;
    hazard.deadline = deadline;
    hazard.planned_at = Some(occurred_at);
    hazard.planned_by = Some(caller.user_id.into());
    outcome.details.insert(
        "plan".into(),
        json!({
            "measures": hazard.plan_measures,
            "responsible_person": hazard.plan_responsible_person,
            "funds_fen": hazard.plan_funds_fen,
            "deadline": hazard.deadline,
            "contingency_plan": hazard.plan_contingency,
        }),
    );
    Ok(outcome)
}

fn request_extension(
    conn: &mut DbConnection,
    caller: &Caller,
    hazard: &Hazard,
    requested_deadline: NaiveDate,
    reason: String,
    occurred_at: NaiveDateTime,
) -> Result<Outcome, AppError> {
    rules::check_extension_request(hazard.deadline, requested_deadline)?;
    if store::pending_extension(conn, hazard.id)?.is_some() {
        return Err(AppError::conflict(Detail::ExtensionPending));
    }
    let request = Extension {
        id: Uuid::now_v7().into(),
        hazard_id: hazard.id,
        requested_deadline,
        previous_deadline: hazard.deadline,
        reason: reason.clone(),
        state: ExtensionState::Pending,
        requested_by: caller.user_id.into(),
        requested_at: occurred_at,
        decided_by: None,
        decided_at: None,
        granted_deadline: None,
        decision_note: None,
    };
    store::insert_extension(conn, &request)?;
    let mut outcome = Outcome::noted(Some(reason));
    outcome
        .details
        .insert("extension_id".into(), json!(request.id));
    outcome
        .details
        .insert("requested_deadline".into(), json!(requested_deadline));
    outcome.extension = Some(request);
    Ok(outcome)
}

enum Decision {
    /// With the day granted, if not the one asked for.
    Approve(Option<NaiveDate>),
    Refuse,
}

fn decide_extension(
    conn: &mut DbConnection,
    caller: &Caller,
    hazard: &mut Hazard,
    (extension_id, decision, note): (Uuid, Decision, Option<String>),
    occurred_at: NaiveDateTime,
) -> Result<Outcome, AppError> {
    let mut request = store::extensions(conn, hazard.id)?
        .into_iter()
        .find(|e| e.id == extension_id)
        .ok_or(AppError::NotFound("extension request"))?;
    rules::ensure_undecided(request.state)?;
    let note = match decision {
        Decision::Refuse => Some(rules::refusal_reason(note.as_deref())?),
        Decision::Approve(_) => note,
    };
    let mut outcome = Outcome::noted(note.clone());
    outcome
        .details
        .insert("extension_id".into(), json!(request.id));
    match decision {
        Decision::Approve(granted) => {
            let granted =
                rules::granted_deadline(hazard.deadline, request.requested_deadline, granted)?;
            outcome
                .details
                .insert("previous_deadline".into(), json!(hazard.deadline));
            outcome
                .details
                .insert("granted_deadline".into(), json!(granted));
            request.state = ExtensionState::Approved;
            request.granted_deadline = Some(granted);
            hazard.deadline = granted;
        }
        Decision::Refuse => request.state = ExtensionState::Refused,
    }
    request.decided_by = Some(caller.user_id.into());
    request.decided_at = Some(occurred_at);
    request.decision_note = note;
    store::update_extension(conn, &request)?;
    outcome.extension = Some(request);
    Ok(outcome)
}

fn withdraw_pending_extension(
    conn: &mut DbConnection,
    hazard_id: Id,
    now: NaiveDateTime,
    why: &str,
) -> Result<(), AppError> {
    if let Some(mut request) = store::pending_extension(conn, hazard_id)? {
        request.state = ExtensionState::Withdrawn;
        request.decided_at = Some(now);
        request.decision_note = Some(why.to_owned());
        store::update_extension(conn, &request)?;
    }
    Ok(())
}
