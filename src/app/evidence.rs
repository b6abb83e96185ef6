//! Evidence files on a hazard's record: attaching and removing them moves
//! the hazard's counts and version and appends an event, in one
//! transaction, through the same [`record_change`] as lifecycle steps.
//! The bytes themselves are `storage`'s.

use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::app::hazards::{
    check_version, record_change, visible_hazard, History, Preconditions, Step,
};
use crate::clock::Now;
use crate::db::attachments::{self as evidence_store, Attachment};
use crate::db::hazards::{self as store, Hazard};
use crate::db::{write_transaction, DbConnection};
use crate::domain::access::{Caller, Capability};
use crate::domain::evidence::{self, EvidencePhase};
use crate::domain::hazard::rules;
use crate::error::AppError;
use crate::messages::Detail;

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

/// How much evidence one hazard, and all of one enterprise's hazards
/// together, may hold.
#[derive(Debug, Clone, Copy)]
pub struct EvidenceLimits {
    pub per_hazard: u64,
    pub per_enterprise: u64,
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
/// the caller's part (see `http::attachments`), inside the same
/// transaction.
pub fn add_evidence(
    conn: &mut DbConnection,
    caller: &Caller,
    hazard_id: Uuid,
    new: NewEvidence,
    limits: EvidenceLimits,
    preconditions: Preconditions,
    now: Now,
) -> Result<EvidenceChange, AppError> {
    write_transaction(conn, |conn| {
        caller.require(Capability::HandleEvidence)?;
        let mut hazard = lock_visible_hazard(conn, caller, hazard_id)?;
        check_version(&hazard, preconditions.if_match.as_ref())?;
        ensure_evidence_may_change(&hazard)?;
        let held = evidence_store::bytes_of_hazard(conn, hazard.id)?;
        if held.saturating_add(new.size_bytes) > limits.per_hazard {
            return Err(AppError::payload_too_large(
                Detail::HazardEvidenceFull
                    .with("held", held)
                    .with("max_bytes", limits.per_hazard),
            ));
        }
        let shared = evidence_store::bytes_of_enterprise(conn, hazard.enterprise_id)?;
        if shared.saturating_add(new.size_bytes) > limits.per_enterprise {
            return Err(AppError::quota_exceeded(
                Detail::EnterpriseEvidenceQuota
                    .with("held", shared)
                    .with("max_bytes", limits.per_enterprise),
            ));
        }
        let attachment = Attachment {
            id: Uuid::now_v7().into(),
            hazard_id: hazard.id,
            phase: new.phase,
            sha256: new.sha256,
            size_bytes: i64::try_from(new.size_bytes)
                .map_err(|_| AppError::payload_too_large(Detail::FileSizeOverflow))?,
            content_type: new.content_type,
            file_name: new.file_name,
            caption: new.caption,
            uploaded_by: caller.user_id.into(),
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
        let Some(attachment) = evidence_store::find(conn, attachment_id.into())? else {
            return Err(not_found);
        };
        let mut hazard = lock_visible_hazard(conn, caller, attachment.hazard_id.uuid()).map_err(
            |e| match e {
                AppError::NotFound(_) => AppError::NotFound("attachment"),
                other => other,
            },
        )?;
        if !evidence::may_remove(caller.role, attachment.uploaded_by == caller.user_id) {
            return Err(AppError::forbidden(Detail::EvidenceRemover));
        }
        ensure_evidence_may_change(&hazard)?;
        if crate::db::regulation::listing(conn, hazard.id)?
            .is_some_and(|l| l.assessment_attachment_id == Some(attachment.id))
        {
            return Err(AppError::conflict(Detail::AssessmentReportStays));
        }
        // Another request may have removed it while this one waited.
        if !evidence_store::delete(conn, attachment.id)? {
            return Err(not_found);
        }
        match attachment.phase {
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
    if !store::lock(conn, id.into())? {
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
        Err(AppError::conflict(
            Detail::EvidenceFrozen
                .with("state", state.as_str())
                .with("state_zh", state.label_zh()),
        ))
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
    action: &'static str,
    occurred_at: Option<NaiveDateTime>,
    now: Now,
) -> Result<EvidenceChange, AppError> {
    let history = History::of(conn, &hazard)?;
    let occurred_at = rules::occurred_at(occurred_at, now.utc, history.last_step)?;
    let details = json!({
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
    });
    let step = Step {
        action,
        from: hazard.state,
        occurred_at,
        note: None,
        // Evidence is dated as the file was taken; it does not date the
        // lifecycle, so it is never an entered step.
        entered_late: false,
        details: match details {
            Value::Object(map) => map,
            _ => Map::new(),
        },
    };
    record_change(conn, caller, &mut hazard, &history, step, now)?;
    Ok(EvidenceChange { hazard, attachment })
}
