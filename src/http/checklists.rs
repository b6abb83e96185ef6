//! Inspection templates (检查表) and an inspection's item results over
//! HTTP. The rules live in `domain::checklist`, the transaction in
//! `app::checklists`.

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app;
use crate::app::checklists::{InspectionResults, NewPhoto};
use crate::db::checklists::PhotoRow;
use crate::db::Id;
use crate::domain::access::{Caller, Capability};
use crate::domain::checklist::{
    coverage_percent, Checklist, CreateChecklist, ItemOutcome, RecordResults,
};
use crate::error::AppError;
use crate::http::attachments::{self, FileLimit, FormParts, StoredFile};
use crate::http::body::Body;
use crate::http::state::AppState;
use crate::http::{create_idempotently, decode_id_cursor, Created, Page, Paginated};

/// A template and its items.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChecklistView {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// The built-in "重大事故隐患判定" template, generated from the 121号
    /// criteria: a failed item is a major hazard with that basis.
    pub built_in: bool,
    pub items: Vec<ChecklistItemView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChecklistItemView {
    pub id: Uuid,
    /// 1, 2, … in the template's order.
    pub position: i32,
    pub text: String,
    /// The clause it checks (依据).
    pub basis: Option<String>,
    pub specialty: Option<String>,
    /// For an item of the built-in template: the 121号 item it is.
    pub major_basis_code: Option<i32>,
}

impl From<Checklist> for ChecklistView {
    fn from(c: Checklist) -> ChecklistView {
        ChecklistView {
            id: c.id,
            name: c.name,
            description: c.description,
            built_in: c.built_in,
            items: c
                .items
                .into_iter()
                .map(|i| ChecklistItemView {
                    id: i.id,
                    position: i.position,
                    text: i.text,
                    basis: i.basis,
                    specialty: i.specialty,
                    major_basis_code: i.major_basis_code,
                })
                .collect(),
        }
    }
}

/// What an inspection found item by item, and how much of its template it
/// has checked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InspectionResultsView {
    pub inspection_id: Uuid,
    /// The template the inspection runs; absent before a first result.
    pub checklist_id: Option<Uuid>,
    pub checklist_name: Option<String>,
    /// Items with a result.
    pub checked: i64,
    /// Items in the template.
    pub total: i64,
    /// checked / total, in percent with one decimal.
    pub coverage_percent: f64,
    /// In the template's order.
    pub results: Vec<ChecklistResultView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChecklistResultView {
    pub item_id: Uuid,
    pub position: i32,
    pub text: String,
    pub outcome: ItemOutcome,
    pub note: Option<String>,
    /// The hazard a failed item became.
    pub hazard_id: Option<Uuid>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
    /// Photos of what the item's check saw, oldest first.
    pub photos: Vec<ChecklistPhotoView>,
}

/// A photo of an item's result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChecklistPhotoView {
    pub id: Uuid,
    pub inspection_id: Uuid,
    pub item_id: Uuid,
    /// The name the file was uploaded with (folders removed).
    pub file_name: String,
    pub caption: Option<String>,
    /// Detected from the file's bytes, not taken from the client.
    pub content_type: String,
    pub size_bytes: i64,
    /// Lower-case hex SHA-256 of the bytes; also the download's `ETag`.
    pub sha256: String,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
    /// Where the bytes are downloaded.
    pub download_url: String,
}

impl From<PhotoRow> for ChecklistPhotoView {
    fn from(p: PhotoRow) -> ChecklistPhotoView {
        ChecklistPhotoView {
            download_url: format!("/api/v1/checklist-photos/{}", p.id),
            id: p.id.uuid(),
            inspection_id: p.inspection_id.uuid(),
            item_id: p.item_id.uuid(),
            file_name: p.file_name,
            caption: p.caption,
            content_type: p.content_type,
            size_bytes: p.size_bytes,
            sha256: p.sha256,
            uploaded_by: p.uploaded_by.uuid(),
            uploaded_at: p.uploaded_at.and_utc(),
        }
    }
}

impl From<InspectionResults> for InspectionResultsView {
    fn from(r: InspectionResults) -> InspectionResultsView {
        let total = r.checklist.as_ref().map_or(0, |c| c.items.len());
        let mut photos = r.photos;
        let mut results: Vec<ChecklistResultView> = r
            .results
            .into_iter()
            .map(|row| {
                let item = r
                    .checklist
                    .as_ref()
                    .and_then(|c| c.items.iter().find(|i| i.id == row.item_id.uuid()));
                ChecklistResultView {
                    item_id: row.item_id.uuid(),
                    position: item.map_or(0, |i| i.position),
                    text: item.map(|i| i.text.clone()).unwrap_or_default(),
                    outcome: row.outcome,
                    note: row.note,
                    hazard_id: row.hazard_id.map(Id::uuid),
                    recorded_by: row.recorded_by.uuid(),
                    recorded_at: row.recorded_at.and_utc(),
                    photos: {
                        let (its, rest) = photos
                            .drain(..)
                            .partition(|p: &PhotoRow| p.item_id == row.item_id);
                        photos = rest;
                        its.into_iter().map(ChecklistPhotoView::from).collect()
                    },
                }
            })
            .collect();
        results.sort_by_key(|r| r.position);
        InspectionResultsView {
            inspection_id: r.inspection_id,
            checklist_id: r.checklist.as_ref().map(|c| c.id),
            checklist_name: r.checklist.map(|c| c.name),
            checked: results.len() as i64,
            total: total as i64,
            coverage_percent: coverage_percent(results.len(), total),
            results,
        }
    }
}

/// Records an inspection template (expert, supervisor, admin).
#[utoipa::path(
    post,
    path = "/api/v1/checklists",
    tag = "checklists",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = CreateChecklist,
    responses(
        (status = 201, body = ChecklistView, headers(("Location" = String))),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_checklist(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Body<CreateChecklist>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageChecklists)?;
    let body = body.into_inner();
    let new = body.parse(&state.park)?;
    let now = state.park.now().utc;
    create_idempotently(&state, &req, &caller, &body, move |conn| {
        let checklist = app::checklists::create(conn, &caller, new, now)?;
        let location = format!("/api/v1/checklists/{}", checklist.id);
        Created::new(&ChecklistView::from(checklist), location, None)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListChecklistsQuery {
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\s\S])")]
    pub cursor: Option<String>,
}

/// Lists the templates: the built-in one first, then the park's, newest
/// first.
#[utoipa::path(
    get,
    path = "/api/v1/checklists",
    tag = "checklists",
    security(("bearer" = [])),
    params(ListChecklistsQuery),
    responses(
        (status = 200, body = Paginated<ChecklistView>),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_checklists(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListChecklistsQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadInspections)?;
    let page = Page::new(query.limit)?;
    let before = decode_id_cursor(query.cursor.as_deref())?.map(Id::uuid);
    let lists = state
        .db
        .run(move |conn| app::checklists::list(conn, before, page.fetch()))
        .await?;
    let views: Vec<ChecklistView> = lists.into_iter().map(ChecklistView::from).collect();
    Ok(HttpResponse::Ok().json(page.finish(views, |c| c.id.to_string(), |c| c)))
}

/// One template with its items.
#[utoipa::path(
    get,
    path = "/api/v1/checklists/{id}",
    tag = "checklists",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ChecklistView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_checklist(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadInspections)?;
    let id = path.into_inner();
    let checklist = state
        .db
        .run(move |conn| app::checklists::find(conn, id))
        .await?;
    Ok(HttpResponse::Ok().json(ChecklistView::from(checklist)))
}

/// Records item results of an inspection against one template, all or
/// nothing: each item once; a failed item becomes a hazard of the
/// inspection (major, with its basis, for the built-in template), whose
/// id the answer gives so photos can be attached to it.
#[utoipa::path(
    post,
    path = "/api/v1/inspections/{id}/checklist-results",
    tag = "checklists",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = RecordResults,
    responses(
        (status = 201, body = InspectionResultsView, headers(("Location" = String))),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn record_results(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Body<RecordResults>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReportHazards)?;
    let inspection_id = path.into_inner();
    let body = body.into_inner();
    let park = state.park.clone();
    let context = state.lifecycle_context();
    let request = serde_json::to_value(&body).map_err(|e| AppError::Internal(e.into()))?;
    create_idempotently(&state, &req, &caller, &request, move |conn| {
        let recorded =
            app::checklists::record_results(conn, &caller, inspection_id, &body, &park, &context)?;
        let location = format!("/api/v1/inspections/{inspection_id}/checklist-results");
        Created::new(&InspectionResultsView::from(recorded), location, None)
    })
    .await
}

/// What an inspection has recorded against its template, with its
/// coverage (items checked / total).
#[utoipa::path(
    get,
    path = "/api/v1/inspections/{id}/checklist-results",
    tag = "checklists",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = InspectionResultsView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_results(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadInspections)?;
    let id = path.into_inner();
    let results = state
        .db
        .run(move |conn| app::checklists::results(conn, &caller, id))
        .await?;
    Ok(HttpResponse::Ok().json(InspectionResultsView::from(results)))
}

/// The multipart form of a checklist photo (for the OpenAPI document; the
/// handler reads the parts as they stream in).
#[derive(Debug, utoipa::ToSchema)]
#[expect(dead_code, reason = "describes the form for OpenAPI; never built")]
pub struct PhotoForm {
    /// The photo. JPEG, PNG, WebP, HEIC or PDF by default
    /// (`attachments.allowed_types`), judged from the bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// A short description, up to 500 characters.
    #[schema(max_length = 500)]
    caption: Option<String>,
}

/// What the fingerprint of an idempotent photo upload covers.
#[derive(Debug, Serialize)]
struct PhotoFingerprint<'a> {
    caption: Option<&'a str>,
    file_name: &'a str,
    sha256: &'a str,
}

/// Adds a photo to an item's result — passed, failed or not applicable —
/// by whoever may record the inspection's results. Record the result
/// first; photos are kept with the inspection (they are not removed). The
/// file is refused with `413` past the per-file limit or the item's limit
/// (`attachments.max_hazard_bytes`), with `415` when its bytes show a type
/// that is not allowed.
#[utoipa::path(
    post,
    path = "/api/v1/inspections/{id}/checklist-results/{item_id}/photos",
    tag = "checklists",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The inspection"),
        ("item_id" = Uuid, Path, description = "The template item whose result the photo shows"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")
    ),
    request_body(content = PhotoForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = ChecklistPhotoView, headers(("Location" = String))),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Malformed or truncated multipart body"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such inspection, or the item has no result yet"),
        (status = 413, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn upload_photo(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReportHazards)?;
    let (inspection_id, item_id) = path.into_inner();
    let held = state
        .db
        .run(move |conn| app::checklists::room_for_photo(conn, &caller, inspection_id, item_id))
        .await?;
    let limit = FileLimit::new(
        &state,
        held,
        ("the item's photo limit", "该检查项照片的存储上限"),
    );
    let form = attachments::receive_form(&state, payload, &limit, FormParts::Photo).await?;
    let now = state.park.now();
    attachments::to_the_end(async move {
        let fingerprint = serde_json::to_value(PhotoFingerprint {
            caption: form.caption.as_deref(),
            file_name: &form.file.file_name,
            sha256: &form.file.received.sha256,
        })
        .map_err(|e| AppError::Internal(e.into()))?;
        let new = NewPhoto {
            sha256: form.file.received.sha256.clone(),
            size_bytes: form.file.received.size,
            content_type: form.file.content_type.to_owned(),
            file_name: form.file.file_name.clone(),
            caption: form.caption.clone(),
        };
        let max_result_bytes = state.settings.attachments.max_hazard_bytes;
        let received = form.file.received;
        attachments::store_with_row(&state, &req, caller, received, &fingerprint, move |conn| {
            let photo = app::checklists::add_photo(
                conn,
                &caller,
                (inspection_id, item_id),
                new,
                max_result_bytes,
                now.utc,
            )?;
            let view = ChecklistPhotoView::from(photo);
            let location = view.download_url.clone();
            Created::new(&view, location, None)
        })
        .await
    })
    .await
}

/// Downloads a checklist photo's bytes, with its detected `Content-Type`,
/// its name, and its SHA-256 as `ETag` (`If-None-Match` → `304`).
#[utoipa::path(
    get,
    path = "/api/v1/checklist-photos/{id}",
    tag = "checklists",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path),
        ("If-None-Match" = Option<String>, Header, description = "The ETag held; unchanged → 304")
    ),
    responses(
        (status = 200, description = "The photo's bytes", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("ETag" = String), ("Content-Disposition" = String))),
        (status = 304, description = "Not modified"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn download_photo(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadInspections)?;
    let id = path.into_inner();
    let photo = state
        .db
        .run(move |conn| app::checklists::visible_photo(conn, &caller, id))
        .await?;
    let file = StoredFile {
        what: format!("checklist photo {}", photo.id),
        sha256: photo.sha256,
        content_type: photo.content_type,
        file_name: photo.file_name,
    };
    attachments::file_response(&state, &req, file).await
}
