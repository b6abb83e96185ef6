//! The statutory steps of a major hazard, carried out inside the lifecycle
//! transaction of `app::hazards` (so each is version-checked, dated and
//! recorded as an event like any other step): the dossier (Art. 14–16)
//! and 挂牌督办 from listing to 摘牌 (Art. 18), with the gates they put on
//! planning and closing.

use chrono::NaiveDate;
use serde_json::{json, Map, Value};

use crate::clock::Now;
use crate::db::hazards::Hazard;
use crate::db::regulation::{self as store, DossierRow, ListingRow};
use crate::db::{attachments, DbConnection, Id};
use crate::domain::access::Caller;
use crate::domain::hazard::listing::{
    self as rules, AssessmentInput, DelistingInput, Dossier, Listing, ListingStep, ResumptionInput,
    StopScope,
};
use crate::domain::hazard::HazardLevel;
use crate::domain::text::{optional_text, required_text, MAX_LINE, MAX_TEXT};
use crate::error::{AppError, FieldError};
use crate::messages::{Detail, Rule};

/// What a step adds to its event: a note and details.
pub type Recorded = (Option<String>, Map<String, Value>);

/// Records (or replaces) the dossier of a major hazard.
pub fn record_dossier(
    conn: &mut DbConnection,
    caller: &Caller,
    hazard: &Hazard,
    dossier: Dossier,
    now: Now,
) -> Result<Recorded, AppError> {
    let row = DossierRow {
        hazard_id: hazard.id,
        state_and_cause: dossier.state_and_cause,
        danger_and_difficulty: dossier.danger_and_difficulty,
        goals_and_tasks: dossier.goals_and_tasks,
        materials: dossier.materials,
        responsible_body: dossier.responsible_body,
        requirements: dossier.requirements,
        stop_scope: dossier.stop.scope,
        stop_from: dossier.stop.from,
        stop_until: dossier.stop.until,
        updated_by: caller.user_id.into(),
        updated_at: now.utc,
    };
    store::save_dossier(conn, &row)?;
    let mut details = Map::new();
    details.insert(
        "production_stop".into(),
        json!({"scope": row.stop_scope, "from": row.stop_from, "until": row.stop_until}),
    );
    Ok((None, details))
}

/// A major hazard is planned only once its Art. 14 report contents are on
/// record, where the park's configuration enforces it.
pub fn check_report_before_plan(
    conn: &mut DbConnection,
    hazard: &Hazard,
    required: bool,
) -> Result<(), AppError> {
    if required && hazard.level == HazardLevel::Major && store::dossier(conn, hazard.id)?.is_none()
    {
        return Err(AppError::invalid(
            "dossier",
            FieldError::new(Rule::DossierRequiredFirst).with(
                "dossier_path",
                format!("/api/v1/hazards/{}/dossier", hazard.id),
            ),
        ));
    }
    Ok(())
}

/// Lists a major hazard for supervision, or amends the listing before any
/// later step was recorded. The hazard's `supervised_listing` label follows.
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    hazard: &mut Hazard,
    listing: Listing,
) -> Result<Recorded, AppError> {
    if let Some(existing) = store::listing(conn, hazard.id)? {
        let progress = existing.progress();
        if progress.assessed || progress.resumption_applied || progress.delisted {
            return Err(AppError::conflict(Detail::ListingSettled));
        }
    }
    let row = ListingRow {
        authority_level: Some(listing.authority_level),
        document_number: Some(listing.document_number.clone()),
        due_on: Some(listing.due_on),
        responsible_leader: Some(listing.responsible_leader.clone()),
        ..ListingRow::new(
            hazard.id,
            listing.authority_name.clone(),
            listing.listed_on,
            caller.user_id.into(),
        )
    };
    store::save_listing(conn, &row)?;
    hazard.listing_ordering_body = Some(listing.authority_name.clone());
    hazard.listing_listed_on = Some(listing.listed_on);
    let mut details = Map::new();
    details.insert(
        "listing".into(),
        json!({
            "authority_level": listing.authority_level,
            "authority_name": listing.authority_name,
            "document_number": listing.document_number,
            "listed_on": listing.listed_on,
            "due_on": listing.due_on,
            "responsible_leader": listing.responsible_leader,
        }),
    );
    Ok((None, details))
}

/// The listing a later step is recorded on, and where it stands.
fn listing_for(
    conn: &mut DbConnection,
    hazard: &Hazard,
    step: ListingStep,
) -> Result<ListingRow, AppError> {
    let listing =
        store::listing(conn, hazard.id)?.ok_or_else(|| AppError::conflict(Detail::NotListed))?;
    let stop = store::stop_scope(conn, hazard.id)?;
    let missing = rules::missing_before(step, listing.progress(), stop)?;
    if !missing.is_empty() {
        let (what, what_zh) = match step {
            ListingStep::Assessment => ("the assessment", "记录评估"),
            ListingStep::Resumption => ("the application to resume production", "申请复产"),
            ListingStep::Delisting => ("the 摘牌", "摘牌"),
        };
        return Err(rules::out_of_order(what, what_zh, &missing));
    }
    Ok(listing)
}

/// Records the assessment of a listed hazard's remediation, with its report
/// as one of the hazard's evidence files.
pub fn record_assessment(
    conn: &mut DbConnection,
    caller: &Caller,
    hazard: &Hazard,
    input: AssessmentInput,
    today: NaiveDate,
) -> Result<Recorded, AppError> {
    let assessor = required_text("assessor", &input.assessor, MAX_LINE)?;
    let conclusion = required_text("conclusion", &input.conclusion, MAX_TEXT)?;
    let mut listing = listing_for(conn, hazard, ListingStep::Assessment)?;
    rules::step_day("assessed_on", input.assessed_on, listing.listed_on, today)?;
    let report: Id = input.report_attachment_id.into();
    if attachments::find(conn, report)?.is_none_or(|a| a.hazard_id != hazard.id) {
        return Err(AppError::invalid(
            "report_attachment_id",
            Rule::NotEvidenceOfHazard,
        ));
    }
    listing.assessor = Some(assessor.clone());
    listing.assessor_kind = Some(input.assessor_kind);
    listing.assessment_conclusion = Some(conclusion.clone());
    listing.assessment_attachment_id = Some(report);
    listing.assessed_on = Some(input.assessed_on);
    listing.assessed_by = Some(caller.user_id.into());
    store::save_listing(conn, &listing)?;
    let mut details = Map::new();
    details.insert(
        "assessment".into(),
        json!({
            "assessor": assessor,
            "assessor_kind": input.assessor_kind,
            "assessed_on": input.assessed_on,
            "report_attachment_id": report,
        }),
    );
    Ok((Some(conclusion), details))
}

/// Records the enterprise's written application to resume production.
pub fn record_resumption(
    conn: &mut DbConnection,
    caller: &Caller,
    hazard: &Hazard,
    input: ResumptionInput,
    today: NaiveDate,
) -> Result<Recorded, AppError> {
    let applicant = required_text("applicant", &input.applicant, MAX_LINE)?;
    let note = optional_text("note", input.note.as_deref(), MAX_TEXT)?;
    let mut listing = listing_for(conn, hazard, ListingStep::Resumption)?;
    let assessed_on = listing.assessed_on.unwrap_or(listing.listed_on);
    rules::step_day("applied_on", input.applied_on, assessed_on, today)?;
    listing.resumption_applicant = Some(applicant.clone());
    listing.resumption_applied_on = Some(input.applied_on);
    listing.resumption_note = note.clone();
    listing.resumption_by = Some(caller.user_id.into());
    store::save_listing(conn, &listing)?;
    let mut details = Map::new();
    details.insert(
        "resumption".into(),
        json!({"applicant": applicant, "applied_on": input.applied_on}),
    );
    Ok((note, details))
}

/// Records the authority's approval that ends the listing (摘牌).
pub fn delist(
    conn: &mut DbConnection,
    caller: &Caller,
    hazard: &Hazard,
    input: DelistingInput,
    today: NaiveDate,
) -> Result<Recorded, AppError> {
    let document_number = required_text("document_number", &input.document_number, MAX_LINE)?;
    let mut listing = listing_for(conn, hazard, ListingStep::Delisting)?;
    let previous = [listing.resumption_applied_on, listing.assessed_on]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(listing.listed_on);
    rules::step_day("delisted_on", input.delisted_on, previous, today)?;
    listing.delisting_document_number = Some(document_number.clone());
    listing.delisted_on = Some(input.delisted_on);
    listing.delisted_by = Some(caller.user_id.into());
    store::save_listing(conn, &listing)?;
    let mut details = Map::new();
    details.insert(
        "delisting".into(),
        json!({"document_number": document_number, "delisted_on": input.delisted_on}),
    );
    Ok((None, details))
}

/// The listing of a hazard, and the production stop its dossier records;
/// `404` when it is not listed.
pub fn listing_of(
    conn: &mut DbConnection,
    hazard: &Hazard,
) -> Result<(ListingRow, StopScope), AppError> {
    let listing = store::listing(conn, hazard.id)?.ok_or(AppError::NotFound("listing"))?;
    Ok((listing, store::stop_scope(conn, hazard.id)?))
}

/// A listing given when the hazard was reported starts its 挂牌督办 record:
/// only the ordering body and the day are known.
pub fn carry_over_reported_listing(
    conn: &mut DbConnection,
    hazard: &Hazard,
    found_on: NaiveDate,
) -> Result<(), AppError> {
    let Some(authority_name) = hazard.listing_ordering_body.clone() else {
        return Ok(());
    };
    let listed_on = hazard.listing_listed_on.unwrap_or(found_on);
    store::save_listing(
        conn,
        &ListingRow::new(hazard.id, authority_name, listed_on, hazard.found_by),
    )
}

/// A listed hazard closes only after its assessment, its application to
/// resume (where production stopped) and its 摘牌 are recorded.
pub fn check_closable(conn: &mut DbConnection, hazard: &Hazard) -> Result<(), AppError> {
    let Some(listing) = store::listing(conn, hazard.id)? else {
        return Ok(());
    };
    let stop = store::stop_scope(conn, hazard.id)?;
    let missing = rules::missing_before_close(listing.progress(), stop);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(rules::out_of_order(
            "closing a hazard listed for supervision (挂牌督办)",
            "挂牌督办的隐患销号",
            &missing,
        ))
    }
}
