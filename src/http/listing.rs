//! A major hazard's statutory record over HTTP: the dossier's contents
//! (`PUT /hazards/{id}/dossier`) and 挂牌督办 from listing to 摘牌
//! (`/hazards/{id}/listing…`). The rules live in `domain::hazard::listing`
//! and the steps in `app::listing`; each runs as a lifecycle command.

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use crate::app;
use crate::app::hazards::Command;
use crate::db::regulation::ListingRow;
use crate::db::Id;
use crate::domain::access::{Caller, Capability};
use crate::domain::hazard::listing::{
    AssessmentInput, AssessorKind, AuthorityLevel, DelistingInput, DossierInput, ListingInput,
    ResumptionInput, StopScope,
};
use crate::error::AppError;
use crate::http::body::Body;
use crate::http::conditional::IfMatch;
use crate::http::hazards::{hazard_action, run_command, HazardView};
use crate::http::state::AppState;

hazard_action!(
    "/api/v1/hazards/{id}/dossier",
    DossierInput,
    "Records a major hazard's report (16号令 Art. 14: present state and cause, danger and difficulty), the Art. 15 plan parts the 五到位 plan does not hold, and the Art. 16 production stop; replaces what was recorded before. Read it back with `GET` as a printable report.",
    method = put,
    pub async fn record_dossier(
        state: web::Data<AppState>,
        caller: Caller,
        if_match: IfMatch,
        path: web::Path<Uuid>,
        body: Body<DossierInput>,
    ) -> Result<HttpResponse, AppError> {
        let dossier = body.parse()?;
        let command = Command::RecordDossier(dossier);
        run_command(state, caller, if_match, path.into_inner(), command, None).await
    }
);

hazard_action!(
    "/api/v1/hazards/{id}/listing",
    ListingInput,
    "Lists a major hazard for supervision (挂牌督办, supervisor or admin), or amends the listing until a later step is recorded. While listed it closes only after its assessment, the application to resume (where production stopped) and the 摘牌 are recorded.",
    pub async fn list(
        state: web::Data<AppState>,
        caller: Caller,
        if_match: IfMatch,
        path: web::Path<Uuid>,
        body: Body<ListingInput>,
    ) -> Result<HttpResponse, AppError> {
        let listing = body.parse(state.park.now().park_today)?;
        let command = Command::List(listing);
        run_command(state, caller, if_match, path.into_inner(), command, None).await
    }
);

hazard_action!(
    "/api/v1/hazards/{id}/listing/assessment",
    AssessmentInput,
    "Records the assessment of a listed hazard's remediation (Art. 18), by the enterprise's experts or an assessment body, with its report as an evidence file of the hazard.",
    pub async fn record_assessment(
        state: web::Data<AppState>,
        caller: Caller,
        if_match: IfMatch,
        path: web::Path<Uuid>,
        body: Body<AssessmentInput>,
    ) -> Result<HttpResponse, AppError> {
        let command = Command::RecordAssessment(body.into_inner());
        run_command(state, caller, if_match, path.into_inner(), command, None).await
    }
);

hazard_action!(
    "/api/v1/hazards/{id}/listing/resumption",
    ResumptionInput,
    "Records the enterprise's written application to resume production after the assessment; only where production stopped.",
    pub async fn record_resumption(
        state: web::Data<AppState>,
        caller: Caller,
        if_match: IfMatch,
        path: web::Path<Uuid>,
        body: Body<ResumptionInput>,
    ) -> Result<HttpResponse, AppError> {
        let command = Command::RecordResumption(body.into_inner());
        run_command(state, caller, if_match, path.into_inner(), command, None).await
    }
);

hazard_action!(
    "/api/v1/hazards/{id}/listing/delisting",
    DelistingInput,
    "Records the authority's approval that ends the listing (摘牌, supervisor or admin), after the assessment and any application to resume.",
    pub async fn delist(
        state: web::Data<AppState>,
        caller: Caller,
        if_match: IfMatch,
        path: web::Path<Uuid>,
        body: Body<DelistingInput>,
    ) -> Result<HttpResponse, AppError> {
        let command = Command::Delist(body.into_inner());
        run_command(state, caller, if_match, path.into_inner(), command, None).await
    }
);

/// A hazard's 挂牌督办 and its steps so far.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListingView {
    pub hazard_id: Uuid,
    /// Absent for a listing carried over from the hazard's report.
    pub authority_level: Option<AuthorityLevel>,
    pub authority_name: String,
    pub document_number: Option<String>,
    pub listed_on: NaiveDate,
    /// 督办期限
    pub due_on: Option<NaiveDate>,
    pub responsible_leader: Option<String>,
    pub listed_by: Uuid,
    pub assessment: Option<ListingAssessmentView>,
    pub resumption: Option<ListingResumptionView>,
    pub delisting: Option<ListingDelistingView>,
    /// The production stop the dossier records.
    pub production_stop: StopScope,
    /// The steps still missing before the hazard may close, in order;
    /// empty once delisted.
    pub steps_missing: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListingAssessmentView {
    pub assessor: String,
    pub assessor_kind: AssessorKind,
    pub conclusion: String,
    pub report_attachment_id: Option<Uuid>,
    pub assessed_on: NaiveDate,
    pub recorded_by: Option<Uuid>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListingResumptionView {
    pub applicant: String,
    pub applied_on: NaiveDate,
    pub note: Option<String>,
    pub recorded_by: Option<Uuid>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListingDelistingView {
    pub document_number: String,
    pub delisted_on: NaiveDate,
    pub recorded_by: Option<Uuid>,
}

impl ListingView {
    fn build(row: ListingRow, stop: StopScope) -> ListingView {
        let progress = row.progress();
        let assessment = match (row.assessor, row.assessor_kind, row.assessed_on) {
            (Some(assessor), Some(assessor_kind), Some(assessed_on)) => {
                Some(ListingAssessmentView {
                    assessor,
                    assessor_kind,
                    conclusion: row.assessment_conclusion.unwrap_or_default(),
                    report_attachment_id: row.assessment_attachment_id.map(Id::uuid),
                    assessed_on,
                    recorded_by: row.assessed_by.map(Id::uuid),
                })
            }
            _ => None,
        };
        let resumption = match (row.resumption_applicant, row.resumption_applied_on) {
            (Some(applicant), Some(applied_on)) => Some(ListingResumptionView {
                applicant,
                applied_on,
                note: row.resumption_note,
                recorded_by: row.resumption_by.map(Id::uuid),
            }),
            _ => None,
        };
        let delisting = match (row.delisting_document_number, row.delisted_on) {
            (Some(document_number), Some(delisted_on)) => Some(ListingDelistingView {
                document_number,
                delisted_on,
                recorded_by: row.delisted_by.map(Id::uuid),
            }),
            _ => None,
        };
        ListingView {
            hazard_id: row.hazard_id.uuid(),
            authority_level: row.authority_level,
            authority_name: row.authority_name,
            document_number: row.document_number,
            listed_on: row.listed_on,
            due_on: row.due_on,
            responsible_leader: row.responsible_leader,
            listed_by: row.listed_by.uuid(),
            assessment,
            resumption,
            delisting,
            production_stop: stop,
            steps_missing: crate::domain::hazard::listing::missing_before_close(progress, stop)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// A hazard's 挂牌督办: the listing, its steps so far and what is still
/// missing before it may close; `404` when it is not listed.
#[utoipa::path(
    get,
    path = "/api/v1/hazards/{id}/listing",
    tag = "hazards",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ListingView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_listing(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadHazards)?;
    let id = path.into_inner();
    let (row, stop) = state
        .db
        .run(move |conn| {
            let hazard = app::hazards::visible_hazard(conn, &caller, id)?;
            app::listing::listing_of(conn, &hazard)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-cache"))
        .json(ListingView::build(row, stop)))
}
