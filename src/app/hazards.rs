//! Drives a hazard through its lifecycle: checks a command against the
//! domain rules, then writes the changed hazard and its one event in one
//! transaction. Every handler that changes a hazard comes through here.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::json;
use uuid::Uuid;

use crate::app::escalation::Escalation;
use crate::clock::Now;
use crate::db::attachments::{self as evidence_store, Attachment};
use crate::db::hazards::{self as store, Extension, Hazard, HazardEvent};
use crate::db::{enterprises, inspections, write_transaction, DbConnection};
use crate::domain::access::Role;
use crate::domain::access::{Caller, Capability};
use crate::domain::evidence::{self, EvidencePhase};
use crate::domain::hazard::{
    self as rules, CheckSource, ExtensionState, HazardAction, HazardLevel, HazardState,
    RectificationPlan, TransitionContext, TransitionError,
};
use crate::error::AppError;

/// A validated request to report a hazard.
#[derive(Debug, Clone)]
pub struct NewHazard {
    pub enterprise_id: Uuid,
    pub source: CheckSource,
    pub checking_enterprise_id: Option<Uuid>,
    pub inspection_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub location: String,
    pub category: String,
    pub specialty: Option<String>,
    pub level: HazardLevel,
    pub major_basis_code: Option<i32>,
    pub listing_ordering_body: Option<String>,
    pub listing_listed_on: Option<NaiveDate>,
    pub found_at: NaiveDateTime,
    /// The calendar year of `found_at` in the park's time zone.
    pub found_year: i32,
    pub deadline: NaiveDate,
}

pub fn report_hazard(
    conn: &mut DbConnection,
    caller: &Caller,
    new: NewHazard,
    now: Now,
    escalation: &Escalation,
) -> Result<Hazard, AppError> {
    write_transaction(conn, |conn| {
        if !enterprises::exists(conn, &new.enterprise_id.to_string())? {
            return Err(AppError::invalid("enterprise_id", "no such enterprise"));
        }
        if let Some(checking) = new.checking_enterprise_id {
            if !enterprises::exists(conn, &checking.to_string())? {
                return Err(AppError::invalid(
                    "checking_enterprise_id",
                    "no such enterprise",
                ));
            }
        }
        if let Some(inspection_id) = new.inspection_id {
            let inspection = inspections::find(conn, &inspection_id.to_string())?
                .filter(|i| caller.can_see_enterprise(parse_id(&i.enterprise_id)))
                .ok_or_else(|| AppError::invalid("inspection_id", "no such inspection"))?;
            if inspection.enterprise_id != new.enterprise_id.to_string() {
                return Err(AppError::invalid(
                    "inspection_id",
                    "the inspection checked another enterprise",
                ));
            }
            if inspection.source != new.source {
                return Err(AppError::invalid(
                    "inspection_id",
                    format!(
                        "the inspection is a {} check, not {}",
                        inspection.source, new.source
                    ),
                ));
            }
        }
        let seq = store::next_number_in_year(conn, new.found_year)?;
        let hazard = Hazard {
            id: Uuid::now_v7().to_string(),
            number: format!("YH-{}-{seq:06}", new.found_year),
            found_year: new.found_year,
            enterprise_id: new.enterprise_id.to_string(),
            source: new.source,
            checking_enterprise_id: new.checking_enterprise_id.map(|id| id.to_string()),
            inspection_id: new.inspection_id.map(|id| id.to_string()),
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
            found_by: caller.user_id.to_string(),
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
        };
        store::insert(conn, &hazard)?;
        store::append_event(
            conn,
            &HazardEvent {
                id: Uuid::now_v7().to_string(),
                hazard_id: hazard.id.clone(),
                seq: 1,
                action: "report".to_owned(),
                actor_id: caller.user_id.to_string(),
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
            },
        )?;
        escalation.on_reported(conn, &hazard, now.utc)?;
        Ok(hazard)
    })
}

/// The 五到位 plan as the client sent it.
#[derive(Debug, Clone)]
pub struct PlanInput {
    pub measures: Option<String>,
    pub responsible_person: Option<String>,
    pub funds_fen: Option<i64>,
    pub deadline: Option<NaiveDate>,
    pub contingency_plan: Option<String>,
}

/// One change to a hazard's lifecycle.
#[derive(Debug, Clone)]
pub enum Command {
    Plan(PlanInput),
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
        note: Option<String>,
    },
}

impl Command {
    pub fn action(&self) -> HazardAction {
        match self {
            Command::Plan(_) => HazardAction::Plan,
            Command::Submit { .. } => HazardAction::Submit,
            Command::Accept { .. } => HazardAction::Accept,
            Command::Reject { .. } => HazardAction::Reject,
            Command::Void { .. } => HazardAction::Void,
            Command::Reopen { .. } => HazardAction::Reopen,
            Command::RequestExtension { .. } => HazardAction::RequestExtension,
            Command::ApproveExtension { .. } => HazardAction::ApproveExtension,
            Command::RefuseExtension { .. } => HazardAction::RefuseExtension,
        }
    }
}

/// Preconditions the client stated.
#[derive(Debug, Clone, Copy, Default)]
pub struct Preconditions {
    /// The version from `If-Match`; stale → `412`.
    pub if_match: Option<i64>,
    /// When it really happened; defaults to now.
    pub occurred_at: Option<NaiveDateTime>,
}

/// The outcome of a command: the hazard as it now is, and the extension the
/// command created or decided, if any.
pub struct Applied {
    pub hazard: Hazard,
    pub extension: Option<Extension>,
}

pub fn parse_id(text: &str) -> Uuid {
    Uuid::parse_str(text).unwrap_or(Uuid::nil())
}

/// Loads a hazard the caller may see; another enterprise's is not found.
pub fn visible_hazard(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Hazard, AppError> {
    store::find(conn, &id.to_string())?
        .filter(|h| caller.can_see_enterprise(parse_id(&h.enterprise_id)))
        .ok_or(AppError::NotFound("hazard"))
}

fn parse_stored<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, AppError> {
    text.parse()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("stored {what} {text:?} is not valid")))
}

pub fn apply(
    conn: &mut DbConnection,
    caller: &Caller,
    hazard_id: Uuid,
    command: Command,
    preconditions: Preconditions,
    now: Now,
    escalation: &Escalation,
) -> Result<Applied, AppError> {
    write_transaction(conn, |conn| {
        let mut hazard = visible_hazard(conn, caller, hazard_id)?;
        let previous_deadline = hazard.deadline;
        if preconditions.if_match.is_some_and(|v| v != hazard.version) {
            return Err(AppError::PreconditionFailed);
        }
        let state = hazard.state;
        let ctx = TransitionContext {
            role: caller.role,
            level: hazard.level,
            source: hazard.source,
        };
        let action = command.action();
        let next = rules::transition(state, action, ctx).map_err(|e| match e {
            TransitionError::Forbidden => AppError::forbidden(e.explain(state, action, ctx)),
            TransitionError::NotAllowedInState => {
                AppError::InvalidTransition(e.explain(state, action, ctx))
            }
        })?;

        let (last_seq, last_occurred) = store::last_event(conn, &hazard.id)?.ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("hazard {} has no history", hazard.id))
        })?;
        let occurred_at = preconditions.occurred_at.unwrap_or(now.utc);
        if occurred_at > now.utc {
            return Err(AppError::invalid(
                "occurred_at",
                "must not be in the future",
            ));
        }
        if occurred_at < last_occurred {
            return Err(AppError::invalid(
                "occurred_at",
                format!("must not be before the previous event ({last_occurred} UTC)"),
            ));
        }

        let mut note = None;
        let mut details = serde_json::Map::new();
        let mut extension = None;
        match command {
            Command::Plan(plan) => {
                let level = ctx.level;
                let effective_deadline = plan.deadline.unwrap_or(hazard.deadline);
                let missing = rules::missing_plan_fields(
                    level,
                    &RectificationPlan {
                        measures: plan.measures.as_deref(),
                        responsible_person: plan.responsible_person.as_deref(),
                        funds: plan.funds_fen,
                        // A major hazard's plan states its time limit itself.
                        deadline: match level {
                            HazardLevel::Major => plan.deadline,
                            HazardLevel::General => Some(effective_deadline),
                        },
                        contingency_plan: plan.contingency_plan.as_deref(),
                    },
                );
                if !missing.is_empty() {
                    let errors = missing
                        .iter()
                        .map(|field| {
                            let message = if level == HazardLevel::Major {
                                "a major hazard's plan needs all five of 五到位 (措施, 责任人, 资金, 时限, 预案)"
                            } else {
                                "is required"
                            };
                            ((*field).to_owned(), message.to_owned())
                        })
                        .collect();
                    return Err(AppError::invalid_fields(errors));
                }
                if effective_deadline < hazard.found_at.date() {
                    return Err(AppError::invalid(
                        "deadline",
                        "must not be before the day the hazard was found",
                    ));
                }
                if caller.role == Role::Enterprise && effective_deadline > hazard.deadline {
                    return Err(AppError::invalid(
                        "deadline",
                        format!(
                            "must not be later than the current deadline {}; request an extension instead",
                            hazard.deadline
                        ),
                    ));
                }
                details.insert("previous_deadline".into(), json!(hazard.deadline));
                hazard.plan_measures = plan.measures;
                hazard.plan_responsible_person = plan.responsible_person;
                hazard.plan_funds_fen = plan.funds_fen;
                hazard.plan_contingency = plan.contingency_plan;
                hazard.deadline = effective_deadline;
                hazard.planned_at = Some(occurred_at);
                hazard.planned_by = Some(caller.user_id.to_string());
                details.insert(
                    "plan".into(),
                    json!({
                        "measures": hazard.plan_measures,
                        "responsible_person": hazard.plan_responsible_person,
                        "funds_fen": hazard.plan_funds_fen,
                        "deadline": hazard.deadline,
                        "contingency_plan": hazard.plan_contingency,
                    }),
                );
            }
            Command::Submit {
                notes,
                after_evidence_for_general,
            } => {
                if evidence::after_evidence_required(ctx.level, after_evidence_for_general)
                    && hazard.evidence_after == 0
                {
                    return Err(AppError::invalid(
                        "evidence",
                        format!(
                            "a {} hazard is submitted for acceptance only with at least one \"after\" evidence file (a photo or document of the rectification): upload it first",
                            ctx.level
                        ),
                    ));
                }
                hazard.submitted_at = Some(occurred_at);
                details.insert("deadline".into(), json!(hazard.deadline));
                note = notes;
            }
            Command::Accept { notes } => {
                hazard.closed_at = Some(occurred_at);
                // 按期整改: submitted by the end of the (extended) deadline day.
                hazard.closed_on_time = Some(
                    hazard
                        .submitted_at
                        .is_some_and(|at| now.local_date(at) <= hazard.deadline),
                );
                note = notes;
                withdraw_pending_extension(conn, &hazard.id, now.utc, "the hazard was closed")?;
            }
            Command::Reject { reason } => {
                hazard.submitted_at = None;
                note = Some(reason);
            }
            Command::Void { reason } => {
                hazard.voided_at = Some(occurred_at);
                note = Some(reason);
                withdraw_pending_extension(conn, &hazard.id, now.utc, "the hazard was voided")?;
            }
            Command::Reopen { reason } => {
                hazard.closed_at = None;
                hazard.closed_on_time = None;
                hazard.submitted_at = None;
                note = Some(reason);
            }
            Command::RequestExtension {
                requested_deadline,
                reason,
            } => {
                if requested_deadline <= hazard.deadline {
                    return Err(AppError::invalid(
                        "requested_deadline",
                        format!(
                            "must be later than the current deadline {}",
                            hazard.deadline
                        ),
                    ));
                }
                if store::pending_extension(conn, &hazard.id)?.is_some() {
                    return Err(AppError::conflict(
                        "an extension request for this hazard is already pending a decision",
                    ));
                }
                let request = Extension {
                    id: Uuid::now_v7().to_string(),
                    hazard_id: hazard.id.clone(),
                    requested_deadline,
                    previous_deadline: hazard.deadline,
                    reason: reason.clone(),
                    state: ExtensionState::Pending,
                    requested_by: caller.user_id.to_string(),
                    requested_at: occurred_at,
                    decided_by: None,
                    decided_at: None,
                    granted_deadline: None,
                    decision_note: None,
                };
                store::insert_extension(conn, &request)?;
                details.insert("extension_id".into(), json!(request.id));
                details.insert("requested_deadline".into(), json!(requested_deadline));
                note = Some(reason);
                extension = Some(request);
            }
            Command::ApproveExtension {
                extension_id,
                granted_deadline,
                note: decision,
            } => {
                let mut request = pending_extension_named(conn, &hazard.id, extension_id)?;
                let granted = granted_deadline.unwrap_or(request.requested_deadline);
                if granted <= hazard.deadline {
                    return Err(AppError::invalid(
                        "granted_deadline",
                        format!(
                            "must be later than the current deadline {}",
                            hazard.deadline
                        ),
                    ));
                }
                details.insert("extension_id".into(), json!(request.id));
                details.insert("previous_deadline".into(), json!(hazard.deadline));
                details.insert("granted_deadline".into(), json!(granted));
                request.state = ExtensionState::Approved;
                request.decided_by = Some(caller.user_id.to_string());
                request.decided_at = Some(occurred_at);
                request.granted_deadline = Some(granted);
                request.decision_note = decision.clone();
                store::update_extension(conn, &request)?;
                hazard.deadline = granted;
                note = decision;
                extension = Some(request);
            }
            Command::RefuseExtension {
                extension_id,
                note: decision,
            } => {
                let mut request = pending_extension_named(conn, &hazard.id, extension_id)?;
                details.insert("extension_id".into(), json!(request.id));
                request.state = ExtensionState::Refused;
                request.decided_by = Some(caller.user_id.to_string());
                request.decided_at = Some(occurred_at);
                request.decision_note = decision.clone();
                store::update_extension(conn, &request)?;
                note = decision;
                extension = Some(request);
            }
        }

        let expected_version = hazard.version;
        hazard.state = next;
        hazard.version += 1;
        hazard.updated_at = now.utc;
        if !store::update(conn, &hazard, expected_version)? {
            return Err(AppError::conflict(
                "the hazard was changed concurrently; reload it and retry",
            ));
        }
        store::append_event(
            conn,
            &HazardEvent {
                id: Uuid::now_v7().to_string(),
                hazard_id: hazard.id.clone(),
                seq: last_seq + 1,
                action: action_event_name(action).to_owned(),
                actor_id: caller.user_id.to_string(),
                actor_role: caller.role,
                from_state: Some(state),
                to_state: hazard.state,
                occurred_at,
                recorded_at: now.utc,
                note,
                details: serde_json::Value::Object(details).to_string(),
            },
        )?;
        escalation.on_changed(conn, &hazard, previous_deadline, now.utc)?;
        Ok(Applied { hazard, extension })
    })
}

/// The name an action has in the event history.
pub fn action_event_name(action: HazardAction) -> &'static str {
    match action {
        HazardAction::Plan => "plan",
        HazardAction::Submit => "submit",
        HazardAction::Accept => "accept",
        HazardAction::Reject => "reject",
        HazardAction::Void => "void",
        HazardAction::Reopen => "reopen",
        HazardAction::RequestExtension => "extension_requested",
        HazardAction::ApproveExtension => "extension_approved",
        HazardAction::RefuseExtension => "extension_refused",
    }
}

fn pending_extension_named(
    conn: &mut DbConnection,
    hazard_id: &str,
    extension_id: Uuid,
) -> Result<Extension, AppError> {
    let all = store::extensions(conn, hazard_id)?;
    let request = all
        .into_iter()
        .find(|e| e.id == extension_id.to_string())
        .ok_or(AppError::NotFound("extension request"))?;
    if request.state != ExtensionState::Pending {
        return Err(AppError::conflict(format!(
            "the extension request was already {}",
            request.state
        )));
    }
    Ok(request)
}

fn withdraw_pending_extension(
    conn: &mut DbConnection,
    hazard_id: &str,
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

/// An evidence file whose bytes have been received and checked, about to
/// become part of a hazard's record.
#[derive(Debug, Clone)]
pub struct NewEvidence {
    pub phase: EvidencePhase,
    pub sha256: String,
    pub size_bytes: u64,
    pub content_type: String,
    pub file_name: String,
    pub caption: Option<String>,
}

/// What an evidence change left behind: the hazard as it now is (counts and
/// version moved) and the file added or removed.
#[derive(Debug, Clone)]
pub struct EvidenceChange {
    pub hazard: Hazard,
    pub attachment: Attachment,
}

/// Attaches evidence to a hazard: the row, the hazard's counter and version,
/// and an `evidence_added` event, in one transaction. Storing the bytes is
/// the caller's part (see `routes::attachments`), inside the same
/// transaction.
pub fn add_evidence(
    conn: &mut DbConnection,
    caller: &Caller,
    hazard_id: Uuid,
    new: NewEvidence,
    max_hazard_bytes: u64,
    preconditions: Preconditions,
    now: Now,
) -> Result<EvidenceChange, AppError> {
    write_transaction(conn, |conn| {
        caller.require(Capability::HandleEvidence)?;
        let mut hazard = lock_visible_hazard(conn, caller, hazard_id)?;
        if preconditions.if_match.is_some_and(|v| v != hazard.version) {
            return Err(AppError::PreconditionFailed);
        }
        ensure_evidence_may_change(&hazard)?;
        let held = evidence_store::bytes_of_hazard(conn, &hazard.id)?;
        if held.saturating_add(new.size_bytes) > max_hazard_bytes {
            return Err(AppError::PayloadTooLarge(format!(
                "the hazard holds {held} bytes of evidence; with this file it would exceed its limit of {max_hazard_bytes} bytes"
            )));
        }
        let attachment = Attachment {
            id: Uuid::now_v7().to_string(),
            hazard_id: hazard.id.clone(),
            phase: new.phase.as_str().to_owned(),
            sha256: new.sha256,
            size_bytes: i64::try_from(new.size_bytes)
                .map_err(|_| AppError::PayloadTooLarge("the file is too large".into()))?,
            content_type: new.content_type,
            file_name: new.file_name,
            caption: new.caption,
            uploaded_by: caller.user_id.to_string(),
            uploaded_at: now.utc,
        };
        evidence_store::insert(conn, &attachment)?;
        match new.phase {
            EvidencePhase::Before => hazard.evidence_before += 1,
            EvidencePhase::After => hazard.evidence_after += 1,
        }
        let occurred_at = preconditions.occurred_at;
        record_evidence_change(
            conn,
            caller,
            hazard,
            attachment,
            "evidence_added",
            occurred_at,
            now,
        )
    })
}

/// Removes an evidence file from its hazard (its uploader, or supervision,
/// while the hazard is not closed or voided): the row goes, the counter and
/// version move, and an `evidence_removed` event keeps what it was. Whether
/// the bytes themselves can go is decided afterwards, under the content lock.
pub fn remove_evidence(
    conn: &mut DbConnection,
    caller: &Caller,
    attachment_id: Uuid,
    now: Now,
) -> Result<EvidenceChange, AppError> {
    write_transaction(conn, |conn| {
        caller.require(Capability::HandleEvidence)?;
        let not_found = AppError::NotFound("attachment");
        let Some(attachment) = evidence_store::find(conn, &attachment_id.to_string())? else {
            return Err(not_found);
        };
        let mut hazard = lock_visible_hazard(conn, caller, parse_id(&attachment.hazard_id))
            .map_err(|e| match e {
                AppError::NotFound(_) => AppError::NotFound("attachment"),
                other => other,
            })?;
        if !evidence::may_remove(
            caller.role,
            attachment.uploaded_by == caller.user_id.to_string(),
        ) {
            return Err(AppError::forbidden(
                "only the uploader, a supervisor or an admin may remove an evidence file",
            ));
        }
        ensure_evidence_may_change(&hazard)?;
        // Another request may have removed it while this one waited.
        if !evidence_store::delete(conn, &attachment.id)? {
            return Err(not_found);
        }
        let phase: EvidencePhase = parse_stored(&attachment.phase, "evidence phase")?;
        match phase {
            EvidencePhase::Before => hazard.evidence_before = (hazard.evidence_before - 1).max(0),
            EvidencePhase::After => hazard.evidence_after = (hazard.evidence_after - 1).max(0),
        }
        record_evidence_change(
            conn,
            caller,
            hazard,
            attachment,
            "evidence_removed",
            None,
            now,
        )
    })
}

/// Loads a hazard the caller may see and holds its row until the
/// transaction ends, so concurrent evidence changes queue rather than fail.
fn lock_visible_hazard(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Hazard, AppError> {
    // Checked before locking: another enterprise's row is not even locked.
    visible_hazard(conn, caller, id)?;
    if !store::lock(conn, &id.to_string())? {
        return Err(AppError::NotFound("hazard"));
    }
    visible_hazard(conn, caller, id)
}

/// Refuses (`409`) to change the evidence of a closed or voided hazard.
pub fn ensure_evidence_may_change(hazard: &Hazard) -> Result<(), AppError> {
    let state = hazard.state;
    if evidence::evidence_may_change(state) {
        Ok(())
    } else {
        Err(AppError::conflict(format!(
            "the hazard is {state}: its evidence files can no longer change"
        )))
    }
}

/// Writes the hazard's new counts and version and the event; the state
/// stays as it is (`from_state` = `to_state`). `occurred_at`, when given,
/// is checked as for any change: not in the future, not before the
/// previous lifecycle step.
fn record_evidence_change(
    conn: &mut DbConnection,
    caller: &Caller,
    mut hazard: Hazard,
    attachment: Attachment,
    action: &str,
    occurred_at: Option<NaiveDateTime>,
    now: Now,
) -> Result<EvidenceChange, AppError> {
    let (last_seq, last_step) = store::last_event(conn, &hazard.id)?.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("hazard {} has no history", hazard.id))
    })?;
    let occurred_at = match occurred_at {
        Some(at) if at > now.utc => {
            return Err(AppError::invalid(
                "occurred_at",
                "must not be in the future",
            ));
        }
        Some(at) if at < last_step => {
            return Err(AppError::invalid(
                "occurred_at",
                format!("must not be before the previous event ({last_step} UTC)"),
            ));
        }
        Some(at) => at,
        // Never before the last step, even if this clock is behind the
        // instance that recorded it.
        None => now.utc.max(last_step),
    };
    let expected_version = hazard.version;
    hazard.version += 1;
    hazard.updated_at = now.utc;
    if !store::update(conn, &hazard, expected_version)? {
        return Err(AppError::conflict(
            "the hazard was changed concurrently; reload it and retry",
        ));
    }
    store::append_event(
        conn,
        &HazardEvent {
            id: Uuid::now_v7().to_string(),
            hazard_id: hazard.id.clone(),
            seq: last_seq + 1,
            action: action.to_owned(),
            actor_id: caller.user_id.to_string(),
            actor_role: caller.role,
            from_state: Some(hazard.state),
            to_state: hazard.state,
            occurred_at,
            recorded_at: now.utc,
            note: None,
            details: json!({
                "attachment_id": attachment.id,
                "phase": attachment.phase,
                "sha256": attachment.sha256,
                "size_bytes": attachment.size_bytes,
                "content_type": attachment.content_type,
                "file_name": attachment.file_name,
                "caption": attachment.caption,
                "evidence": {
                    "before": hazard.evidence_before,
                    "after": hazard.evidence_after,
                },
            })
            .to_string(),
        },
    )?;
    Ok(EvidenceChange { hazard, attachment })
}
