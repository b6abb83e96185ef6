//! Check records' photos over HTTP: adding one (multipart, judged by its
//! bytes, stored once), listing a record's and downloading one.

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::app::checklists::NewPhoto;
use crate::app::record_photos;
use crate::db::record_photos::RecordPhotoRow;
use crate::domain::access::{Caller, Capability};
use crate::error::AppError;
use crate::http::attachments::{self, FileLimit, FormParts, StoredFile};
use crate::http::checklists::PhotoForm;
use crate::http::state::AppState;
use crate::http::Created;

/// A photo of a check record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordPhotoView {
    pub id: Uuid,
    pub record_id: Uuid,
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

impl From<RecordPhotoRow> for RecordPhotoView {
    fn from(p: RecordPhotoRow) -> RecordPhotoView {
        RecordPhotoView {
            download_url: format!("/api/v1/check-record-photos/{}", p.id),
            id: p.id.uuid(),
            record_id: p.record_id.uuid(),
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

/// What the fingerprint of an idempotent photo upload covers.
#[derive(Debug, Serialize)]
struct PhotoFingerprint<'a> {
    record: Uuid,
    caption: Option<&'a str>,
    file_name: &'a str,
    sha256: &'a str,
}

/// Adds a photo to a check record — normal or abnormal: what was seen is
/// the evidence that the check was made — by the person who made the
/// record (or a supervisor or admin). Photos are kept with the record
/// (never removed). The file is refused with `413` past the per-file limit
/// or the record's (`attachments.max_hazard_bytes`), with `415` when its
/// bytes show a type that is not allowed.
#[utoipa::path(
    post,
    path = "/api/v1/check-records/{id}/photos",
    operation_id = "upload_check_record_photo",
    tag = "risk",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The check record"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")
    ),
    request_body(content = PhotoForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = RecordPhotoView, headers(("Location" = String))),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Malformed or truncated multipart body"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn upload_record_photo(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::RecordChecks)?;
    let record = path.into_inner();
    let held = state
        .db
        .run(move |conn| record_photos::room_for_photo(conn, &caller, record))
        .await?;
    let limit = FileLimit::new(
        &state,
        held,
        ("the record's photo limit", "该排查记录照片的存储上限"),
    );
    let form = attachments::receive_form(&state, payload, &limit, FormParts::Photo).await?;
    let now = state.park.now();
    attachments::to_the_end(async move {
        let fingerprint = serde_json::to_value(PhotoFingerprint {
            record,
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
        let max_record_bytes = state.settings.attachments.max_hazard_bytes;
        let received = form.file.received;
        attachments::store_with_row(&state, &req, caller, received, &fingerprint, move |conn| {
            let photo =
                record_photos::add_photo(conn, &caller, record, new, max_record_bytes, now.utc)?;
            let view = RecordPhotoView::from(photo);
            let location = view.download_url.clone();
            Created::new(&view, location, None)
        })
        .await
    })
    .await
}

/// A check record's photos, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/check-records/{id}/photos",
    tag = "risk",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The check record")),
    responses(
        (status = 200, body = Vec<RecordPhotoView>),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_record_photos(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadRiskRegister)?;
    let record = path.into_inner();
    let photos = state
        .db
        .run(move |conn| record_photos::photos_of(conn, &caller, record))
        .await?;
    Ok(HttpResponse::Ok().json(
        photos
            .into_iter()
            .map(RecordPhotoView::from)
            .collect::<Vec<_>>(),
    ))
}

/// Downloads a check record's photo, with its detected `Content-Type`,
/// its name, and its SHA-256 as `ETag` (`If-None-Match` → `304`).
#[utoipa::path(
    get,
    path = "/api/v1/check-record-photos/{id}",
    tag = "risk",
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
pub async fn download_record_photo(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadRiskRegister)?;
    let id = path.into_inner();
    let photo = state
        .db
        .run(move |conn| record_photos::visible_photo(conn, &caller, id))
        .await?;
    let file = StoredFile {
        what: format!("check record photo {}", photo.id),
        sha256: photo.sha256,
        content_type: photo.content_type,
        file_name: photo.file_name,
    };
    attachments::file_response(&state, &req, file).await
}
