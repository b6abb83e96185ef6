//! Evidence files over HTTP: upload (multipart, streamed to a temporary
//! file and refused at the limit as the bytes arrive), list, download and
//! remove, with exactly the hazard's access rules. The metadata, counts and
//! events are `lifecycle`'s; the bytes are `storage`'s; this module holds
//! the order in which the two meet:
//!
//! 1. receive the file into a temporary file (counted, hashed, its type
//!    judged from its first bytes);
//! 2. stage it in the blob store (the slow part, outside any transaction);
//! 3. in one transaction holding the content lock: the row, the counts, the
//!    event, and the blob made visible under its hash (unless it exists);
//! 4. whatever happened, the staging and the temporary file go; a blob this
//!    request stored whose row did not commit is removed again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app;
use crate::app::evidence::{EvidenceLimits, NewEvidence};
use crate::app::hazards::Preconditions;
use crate::db::attachments::{self as store, Attachment};
use crate::db::{write_transaction, DbConnection};
use crate::domain::access::{Caller, Capability};
use crate::domain::evidence::{clean_file_name, detect_media_type, EvidencePhase, SNIFF_BYTES};
use crate::domain::text::optional_text;
use crate::error::{AppError, FieldError};
use crate::http::conditional::{expected_version, none_match};
use crate::http::state::AppState;
use crate::http::{create_idempotently, decode_id_cursor, Created, Page, Paginated};
use crate::messages::{Detail, Rule};
use crate::storage::{BlobStore, IncomingFile, ReceiveError, ReceivedFile};

const MAX_CAPTION_CHARS: usize = 500;
/// Bytes read of a text field before it is refused (a caption in Chinese
/// is three bytes a character).
const MAX_TEXT_FIELD_BYTES: usize = 4 * MAX_CAPTION_CHARS;

/// An evidence file attached to a hazard.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    pub id: Uuid,
    pub hazard_id: Uuid,
    pub phase: EvidencePhase,
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

impl TryFrom<Attachment> for AttachmentView {
    type Error = AppError;

    fn try_from(a: Attachment) -> Result<AttachmentView, AppError> {
        let phase = a.phase;
        Ok(AttachmentView {
            download_url: format!("/api/v1/attachments/{}", a.id),
            id: a.id.uuid(),
            hazard_id: a.hazard_id.uuid(),
            phase,
            file_name: a.file_name,
            caption: a.caption,
            content_type: a.content_type,
            size_bytes: a.size_bytes,
            sha256: a.sha256,
            uploaded_by: a.uploaded_by.uuid(),
            uploaded_at: a.uploaded_at.and_utc(),
        })
    }
}

/// The multipart form of an upload (for the OpenAPI document; the handler
/// reads the parts as they stream in).
#[derive(Debug, utoipa::ToSchema)]
#[expect(dead_code, reason = "describes the form for OpenAPI; never built")]
pub struct UploadForm {
    /// The photo or document. JPEG, PNG, WebP, HEIC or PDF by default
    /// (`attachments.allowed_types`), judged from the bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `before` (the hazard as found) or `after` (the rectification done).
    phase: EvidencePhase,
    /// A short description, up to 500 characters.
    #[schema(max_length = 500)]
    caption: Option<String>,
    /// When the file was handed in (RFC 3339), for paper records entered
    /// later; default now, never in the future nor before the hazard's
    /// previous step.
    occurred_at: Option<DateTime<Utc>>,
}

/// What the fingerprint of an idempotent upload covers.
#[derive(Debug, Serialize)]
struct UploadFingerprint<'a> {
    phase: EvidencePhase,
    caption: Option<&'a str>,
    occurred_at: Option<chrono::NaiveDateTime>,
    file_name: &'a str,
    sha256: &'a str,
}

/// Attaches an evidence file to a hazard. The file is refused with `413`
/// as soon as it passes the size limit, with `415` as soon as its first
/// bytes show a type that is not allowed; a failed upload leaves nothing
/// behind. The hazard's `version` moves and an `evidence_added` event is
/// recorded.
#[utoipa::path(
    post,
    path = "/api/v1/hazards/{id}/attachments",
    tag = "evidence",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path),
        ("If-Match" = Option<String>, Header, description = "The hazard's ETag; stale → 412"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")
    ),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = AttachmentView, headers(("Location" = String))),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Malformed or truncated multipart body"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The hazard is closed or voided"),
        (status = 412, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 408, body = crate::error::Problem, content_type = "application/problem+json", description = "The body stalled past `server.body_idle_timeout_secs`"),
        (status = 413, body = crate::error::Problem, content_type = "application/problem+json", description = "Over the per-file or per-hazard limit"),
        (status = 415, body = crate::error::Problem, content_type = "application/problem+json", description = "Not an allowed type"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn upload_attachment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::HandleEvidence)?;
    let hazard_id = path.into_inner();
    let preconditions = Preconditions {
        if_match: expected_version(&req)?,
        occurred_at: None,
    };
    let limit = room_for_upload(&state, caller, hazard_id, &preconditions).await?;
    let form = receive_form(&state, payload, &limit, FormParts::Evidence).await?;
    let preconditions = Preconditions {
        occurred_at: form.occurred_at,
        ..preconditions
    };

    let now = state.park.now();
    to_the_end(
        async move { attach(&state, &req, caller, hazard_id, form, preconditions, now).await },
    )
    .await
}

/// Runs the rest of an upload (storing the bytes and committing their
/// row) to its end even if the client hangs up: a dropped future could
/// otherwise leave a stored blob without its row.
pub(crate) async fn to_the_end<F>(rest: F) -> Result<HttpResponse, AppError>
where
    F: std::future::Future<Output = Result<HttpResponse, AppError>> + 'static,
{
    actix_web::rt::spawn(rest)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("the upload task failed: {e}")))?
}

/// How large a file the hazard still has room for. Refuses before a byte
/// is read when the answer cannot change: a hazard the caller may not
/// see, a stale `If-Match`, or evidence that is final.
async fn room_for_upload(
    state: &AppState,
    caller: Caller,
    hazard_id: Uuid,
    preconditions: &Preconditions,
) -> Result<FileLimit, AppError> {
    let expected = preconditions.if_match.clone();
    let held = state
        .db
        .run(move |conn| {
            let hazard = app::hazards::visible_hazard(conn, &caller, hazard_id)?;
            app::hazards::check_version(&hazard, expected.as_ref())?;
            app::evidence::ensure_evidence_may_change(&hazard)?;
            store::bytes_of_hazard(conn, hazard.id)
        })
        .await?;
    Ok(FileLimit::new(
        state,
        held,
        ("the hazard's evidence limit", "该隐患证据文件的存储上限"),
    ))
}

/// The largest file this upload may be, and why.
pub(crate) struct FileLimit {
    bytes: u64,
    /// The holder's remaining room, not the per-file limit, is what binds.
    by_holder: bool,
    max_file_bytes: u64,
    max_holder_bytes: u64,
    /// What the holder's limit is called in a refusal, in English and in
    /// Chinese.
    holder_limit: (&'static str, &'static str),
}

impl FileLimit {
    /// The room left beside `held` bytes, under the per-file limit and the
    /// per-holder one (`attachments.max_hazard_bytes`, which binds a
    /// hazard's evidence and a checklist item's photos alike).
    pub(crate) fn new(
        state: &AppState,
        held: u64,
        holder_limit: (&'static str, &'static str),
    ) -> FileLimit {
        let limits = &state.settings.attachments;
        let room = limits.max_hazard_bytes.saturating_sub(held);
        FileLimit {
            bytes: limits.max_file_bytes.min(room),
            by_holder: room < limits.max_file_bytes,
            max_file_bytes: limits.max_file_bytes,
            max_holder_bytes: limits.max_hazard_bytes,
            holder_limit,
        }
    }

    fn exceeded(&self) -> AppError {
        AppError::payload_too_large(if self.by_holder {
            let (holder_limit, holder_limit_zh) = self.holder_limit;
            Detail::FileExceedsHolderLimit
                .with("holder_limit", holder_limit)
                .with("holder_limit_zh", holder_limit_zh)
                .with("max_bytes", self.max_holder_bytes)
        } else {
            Detail::FileTooLarge.with("max_bytes", self.max_file_bytes)
        })
    }
}

pub(crate) struct UploadedFile {
    pub(crate) received: ReceivedFile,
    pub(crate) content_type: &'static str,
    pub(crate) file_name: String,
}

pub(crate) struct UploadedForm {
    pub(crate) file: UploadedFile,
    /// Always given for evidence; never for a photo.
    pub(crate) phase: Option<EvidencePhase>,
    pub(crate) caption: Option<String>,
    pub(crate) occurred_at: Option<chrono::NaiveDateTime>,
    /// Always given for an assessment report: the day it was assessed.
    pub(crate) assessed_on: Option<chrono::NaiveDate>,
}

/// Which parts a form has besides `file` and `caption`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormParts {
    /// A hazard's evidence: `phase` (required) and `occurred_at`.
    Evidence,
    /// A checklist item's photo: nothing more.
    Photo,
    /// A major hazard source's assessment report: `assessed_on`
    /// (required).
    Assessment,
}

impl FormParts {
    fn names(self) -> &'static str {
        match self {
            FormParts::Evidence => "file, phase, caption, occurred_at",
            FormParts::Photo => "file, caption",
            FormParts::Assessment => "file, assessed_on, caption",
        }
    }
}

/// Reads the multipart body: the file into a temporary file, the other
/// parts as short text. Any error drops the temporary file with it.
pub(crate) async fn receive_form(
    state: &AppState,
    mut payload: Multipart,
    limit: &FileLimit,
    kind: FormParts,
) -> Result<UploadedForm, AppError> {
    let allowed_types = &state.settings.attachments.allowed_types;
    let mut file = None;
    let mut phase = None;
    let mut caption = None;
    let mut occurred_at = None;
    let mut assessed_on = None;
    let idle = idle_limit(state);
    let mut parts = 0;
    while let Some(field) = within(idle, payload.next()).await? {
        let field = field.map_err(multipart_error)?;
        parts += 1;
        if parts > state.settings.attachments.max_form_parts {
            return Err(AppError::bad_request(
                Detail::TooManyParts
                    .with("max_parts", state.settings.attachments.max_form_parts)
                    .with("parts", kind.names()),
            ));
        }
        let name = field.name().unwrap_or_default().to_owned();
        let evidence = kind == FormParts::Evidence;
        match name.as_str() {
            "file" if file.is_some() => {
                return Err(AppError::invalid("file", Rule::OneFilePerUpload));
            }
            "file" => file = Some(receive_file(state, field, limit, allowed_types).await?),
            "phase" if evidence => {
                let text = read_text(field, "phase", idle).await?;
                phase = Some(
                    text.trim()
                        .parse::<EvidencePhase>()
                        .map_err(|_| AppError::invalid("phase", Rule::NotAPhase))?,
                );
            }
            "caption" => {
                let text = read_text(field, "caption", idle).await?;
                caption = optional_text("caption", Some(&text), MAX_CAPTION_CHARS)?;
            }
            "occurred_at" if evidence => {
                let text = read_text(field, "occurred_at", idle).await?;
                let at = DateTime::parse_from_rfc3339(text.trim())
                    .map_err(|_| AppError::invalid("occurred_at", Rule::NotRfc3339))?;
                occurred_at = Some(at.naive_utc());
            }
            "assessed_on" if kind == FormParts::Assessment => {
                let text = read_text(field, "assessed_on", idle).await?;
                assessed_on = Some(
                    text.trim()
                        .parse::<chrono::NaiveDate>()
                        .map_err(|_| AppError::invalid("assessed_on", Rule::NotADate))?,
                );
            }
            other => {
                return Err(AppError::invalid(
                    other,
                    FieldError::new(Rule::NotUploadPart).with("parts", kind.names()),
                ));
            }
        }
    }
    let mut errors = crate::error::FieldErrors::new();
    if file.is_none() {
        errors.insert("file".into(), Rule::Required.into());
    }
    if phase.is_none() && kind == FormParts::Evidence {
        errors.insert("phase".into(), Rule::PhaseRequired.into());
    }
    if assessed_on.is_none() && kind == FormParts::Assessment {
        errors.insert("assessed_on".into(), Rule::Required.into());
    }
    match file {
        Some(file) if errors.is_empty() => Ok(UploadedForm {
            file,
            phase,
            caption,
            occurred_at,
            assessed_on,
        }),
        _ => Err(AppError::invalid_fields(errors)),
    }
}

/// How long an upload's body may stall (`server.body_idle_timeout_secs`).
pub(crate) fn idle_limit(state: &AppState) -> Duration {
    Duration::from_secs(state.settings.server.body_idle_timeout_secs.max(1))
}

/// The next piece of a body, unless the client stalls longer than `idle`:
/// then `408`, and whatever was received is dropped with the request.
pub(crate) async fn within<T>(
    idle: Duration,
    next: impl std::future::Future<Output = T>,
) -> Result<T, AppError> {
    tokio::time::timeout(idle, next).await.map_err(|_| {
        AppError::request_timeout(Detail::UploadTimedOut.with("seconds", idle.as_secs()))
    })
}

/// Streams the file part to disk, refusing it the moment it passes the
/// limit or its first bytes show a type that is not allowed.
async fn receive_file(
    state: &AppState,
    mut field: Field,
    limit: &FileLimit,
    allowed_types: &[String],
) -> Result<UploadedFile, AppError> {
    let file_name = clean_file_name(field_file_name(&field).as_deref());
    let mut incoming = state.evidence.receive(limit.bytes).await.map_err(|e| {
        AppError::Internal(anyhow::Error::new(e).context("creating a temporary file"))
    })?;
    let mut content_type = None;
    let idle = idle_limit(state);
    while let Some(chunk) = within(idle, field.next()).await? {
        let chunk = chunk.map_err(multipart_error)?;
        incoming.write(&chunk).await.map_err(|e| match e {
            ReceiveError::TooLarge => limit.exceeded(),
            ReceiveError::Io(e) => {
                AppError::Internal(anyhow::Error::new(e).context("writing an upload to disk"))
            }
        })?;
        if content_type.is_none() && incoming.head().len() >= SNIFF_BYTES {
            content_type = Some(allowed_type(&incoming, allowed_types)?);
        }
    }
    if incoming.size() == 0 {
        return Err(AppError::invalid("file", Rule::Empty));
    }
    let content_type = match content_type {
        Some(known) => known,
        None => allowed_type(&incoming, allowed_types)?,
    };
    let received = incoming
        .finish()
        .await
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("saving an upload")))?;
    Ok(UploadedFile {
        received,
        content_type,
        file_name,
    })
}

fn allowed_type(
    incoming: &IncomingFile,
    allowed_types: &[String],
) -> Result<&'static str, AppError> {
    let allowed = || allowed_types.join(", ");
    match detect_media_type(incoming.head()) {
        Some(detected)
            if allowed_types
                .iter()
                .any(|t| t.eq_ignore_ascii_case(detected)) =>
        {
            Ok(detected)
        }
        Some(detected) => Err(AppError::unsupported_media_type(
            Detail::FileTypeNotAllowed
                .with("detected", detected)
                .with("allowed", allowed()),
        )),
        None => Err(AppError::unsupported_media_type(
            Detail::FileTypeUnknown.with("allowed", allowed()),
        )),
    }
}

/// The part's file name: `filename*` (RFC 5987, UTF-8) or `filename`.
fn field_file_name(field: &Field) -> Option<String> {
    let disposition = field.content_disposition()?;
    disposition
        .get_filename_ext()
        .and_then(|ext| String::from_utf8(ext.value.clone()).ok())
        .or_else(|| disposition.get_filename().map(str::to_owned))
}

async fn read_text(mut field: Field, name: &str, idle: Duration) -> Result<String, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = within(idle, field.next()).await? {
        let chunk = chunk.map_err(multipart_error)?;
        if bytes.len() + chunk.len() > MAX_TEXT_FIELD_BYTES {
            return Err(AppError::invalid(name, Rule::TooLongText));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| AppError::invalid(name, Rule::NotUtf8))
}

fn multipart_error(error: MultipartError) -> AppError {
    match error {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => AppError::unsupported_media_type(
            Detail::NotMultipart
                .with("content_type", "multipart/form-data")
                .with("parts", "file, phase and caption"),
        ),
        other => AppError::bad_request(Detail::MultipartMalformed.because(other.to_string())),
    }
}

/// Steps 2–4 of the module's list, for a file received whole.
async fn attach(
    state: &AppState,
    req: &HttpRequest,
    caller: Caller,
    hazard_id: Uuid,
    form: UploadedForm,
    preconditions: Preconditions,
    now: crate::clock::Now,
) -> Result<HttpResponse, AppError> {
    let Some(phase) = form.phase else {
        return Err(AppError::invalid("phase", Rule::Required));
    };
    let new = NewEvidence {
        phase,
        sha256: form.file.received.sha256.clone(),
        size_bytes: form.file.received.size,
        content_type: form.file.content_type.to_owned(),
        file_name: form.file.file_name.clone(),
        caption: form.caption.clone(),
    };
    let fingerprint = UploadFingerprint {
        phase,
        caption: form.caption.as_deref(),
        occurred_at: form.occurred_at,
        file_name: &form.file.file_name,
        sha256: &form.file.received.sha256,
    };
    let limits = EvidenceLimits {
        per_hazard: state.settings.attachments.max_hazard_bytes,
        per_enterprise: state.settings.attachments.max_enterprise_bytes,
    };
    let fingerprint =
        serde_json::to_value(&fingerprint).map_err(|e| AppError::Internal(e.into()))?;
    store_with_row(
        state,
        req,
        caller,
        form.file.received,
        &fingerprint,
        move |conn| {
            let change = app::evidence::add_evidence(
                conn,
                &caller,
                hazard_id,
                new,
                limits,
                preconditions,
                now,
            )?;
            let view = AttachmentView::try_from(change.attachment)?;
            let location = view.download_url.clone();
            Created::new(&view, location, None)
        },
    )
    .await
}

/// Stores a received file's bytes and commits the row that names them
/// (`record`, run in the create's transaction under the content lock), as
/// an idempotent create: steps 2–4 of the module's list.
pub(crate) async fn store_with_row<F>(
    state: &AppState,
    req: &HttpRequest,
    caller: Caller,
    received: ReceivedFile,
    fingerprint: &serde_json::Value,
    record: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(&mut DbConnection) -> Result<Created, AppError> + Send + 'static,
{
    let blobs = state.evidence.blobs().clone();
    let staged = Arc::new(
        blobs
            .stage(&received)
            .await
            .map_err(|e| AppError::Internal(e.context("staging an upload")))?,
    );
    let sha256 = received.sha256.clone();
    let stored_new_blob = Arc::new(AtomicBool::new(false));
    let outcome = {
        let (blobs, staged, sha256, stored) = (
            blobs.clone(),
            staged.clone(),
            sha256.clone(),
            stored_new_blob.clone(),
        );
        create_idempotently(state, req, &caller, fingerprint, move |conn| {
            store::lock_content(conn, &sha256)?;
            let created = record(conn)?;
            // Last, so a refused upload never stores a blob; still inside
            // the transaction, so the lock covers it.
            let stored_now = blobs
                .promote(&staged, &sha256)
                .map_err(|e| AppError::Internal(e.context("storing an evidence blob")))?;
            stored.store(stored_now, Ordering::SeqCst);
            Ok(created)
        })
        .await
    };
    let committed = outcome
        .as_ref()
        .is_ok_and(|response| !response.headers().contains_key("idempotent-replayed"));
    if stored_new_blob.load(Ordering::SeqCst) && !committed {
        release_uncommitted_blob(state, &blobs, &sha256).await;
    }
    if let Ok(staged) = Arc::try_unwrap(staged) {
        blobs.discard(staged).await;
    }
    drop(received);
    outcome
}

/// A blob this request stored, whose row did not commit (an error, or a
/// concurrent retry with the same key that won), must not stay.
async fn release_uncommitted_blob(state: &AppState, blobs: &Arc<dyn BlobStore>, sha256: &str) {
    let (blobs, sha256) = (blobs.clone(), sha256.to_owned());
    let released = state
        .db
        .write(move |conn| release_if_unreferenced(conn, blobs.as_ref(), &sha256))
        .await;
    if let Err(e) = released {
        tracing::warn!(error = %e, "could not remove the blob of a failed upload");
    }
}

/// Removes the blob `sha256` if no committed row names it, under the
/// content lock so that no upload is relying on it meanwhile.
fn release_if_unreferenced(
    conn: &mut DbConnection,
    blobs: &dyn BlobStore,
    sha256: &str,
) -> Result<(), AppError> {
    write_transaction(conn, |conn| {
        store::lock_content(conn, sha256)?;
        if !store::is_referenced(conn, sha256)? {
            blobs
                .remove(sha256)
                .map_err(|e| AppError::Internal(e.context("removing an evidence blob")))?;
        }
        Ok(())
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListAttachmentsQuery {
    /// Only the files of this phase.
    pub phase: Option<EvidencePhase>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\s\S])")]
    pub cursor: Option<String>,
}

/// The hazard's evidence files, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/hazards/{id}/attachments",
    tag = "evidence",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ListAttachmentsQuery),
    responses(
        (status = 200, body = Paginated<AttachmentView>),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_attachments(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<ListAttachmentsQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::HandleEvidence)?;
    let query = query.into_inner();
    let page = Page::new(query.limit)?;
    let after = decode_id_cursor(query.cursor.as_deref())?;
    let phase = query.phase;
    let id = path.into_inner();
    let rows = state
        .db
        .run(move |conn| {
            let hazard = app::hazards::visible_hazard(conn, &caller, id)?;
            store::list(conn, hazard.id, phase, after, page.fetch())
        })
        .await?;
    let views = rows
        .into_iter()
        .map(AttachmentView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(page.finish(views, |a| a.id.to_string(), |a| a)))
}

/// Loads an attachment whose hazard the caller may see; any other is not
/// found.
fn visible_attachment(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Attachment, AppError> {
    let attachment = store::find(conn, id.into())?.ok_or(AppError::NotFound("attachment"))?;
    app::hazards::visible_hazard(conn, caller, attachment.hazard_id.uuid())
        .map_err(|_| AppError::NotFound("attachment"))?;
    Ok(attachment)
}

/// Downloads an evidence file's bytes, with its detected `Content-Type`, its
/// name in `Content-Disposition`, and its SHA-256 as `ETag` (`If-None-Match`
/// → `304`).
#[utoipa::path(
    get,
    path = "/api/v1/attachments/{id}",
    tag = "evidence",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path),
        ("If-None-Match" = Option<String>, Header, description = "The ETag held; unchanged → 304")
    ),
    responses(
        (status = 200, description = "The file's bytes", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("ETag" = String), ("Content-Disposition" = String))),
        (status = 304, description = "Not modified"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn download_attachment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::HandleEvidence)?;
    let id = path.into_inner();
    let attachment = state
        .db
        .run(move |conn| visible_attachment(conn, &caller, id))
        .await?;
    let file = StoredFile {
        what: format!("attachment {}", attachment.id),
        sha256: attachment.sha256,
        content_type: attachment.content_type,
        file_name: attachment.file_name,
    };
    file_response(&state, &req, file).await
}

/// A file in the blob store as a record names it.
pub(crate) struct StoredFile {
    /// The record, for the error when the bytes are missing.
    pub(crate) what: String,
    pub(crate) sha256: String,
    pub(crate) content_type: String,
    pub(crate) file_name: String,
}

/// The bytes a record names, with their type, name and their SHA-256 as
/// `ETag` (`If-None-Match` → `304`). A record whose blob is missing is an
/// internal error, never a `404`: the record says the file exists.
pub(crate) async fn file_response(
    state: &AppState,
    req: &HttpRequest,
    file: StoredFile,
) -> Result<HttpResponse, AppError> {
    let etag = format!("\"{}\"", file.sha256);
    if none_match(req, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let blob = state
        .evidence
        .blobs()
        .open(&file.sha256)
        .await
        .map_err(|e| AppError::Internal(e.context("reading an evidence blob")))?
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "{} names blob {}, which is not stored",
                file.what,
                file.sha256
            ))
        })?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.content_type.clone()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            disposition(
                &crate::domain::evidence::download_name(&file.file_name, &file.content_type),
                &file.content_type,
            ),
        ))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .no_chunking(blob.size)
        .streaming(blob.stream))
}

/// Photos open in place; anything else is saved. The name is sent both as
/// plain ASCII and, when it needs it, as UTF-8 (RFC 6266).
fn disposition(file_name: &str, content_type: &str) -> ContentDisposition {
    let disposition = if content_type.starts_with("image/") {
        DispositionType::Inline
    } else {
        DispositionType::Attachment
    };
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut parameters = vec![DispositionParam::Filename(ascii)];
    if !file_name.is_ascii() {
        parameters.push(DispositionParam::FilenameExt(ExtendedValue {
            charset: Charset::Ext("UTF-8".to_owned()),
            language_tag: None,
            value: file_name.as_bytes().to_vec(),
        }));
    }
    ContentDisposition {
        disposition,
        parameters,
    }
}

/// Removes an evidence file (its uploader, a supervisor or an admin) while
/// the hazard is neither closed nor voided. The hazard's `version` moves and
/// an `evidence_removed` event keeps what the file was; the bytes go once no
/// other file names them.
#[utoipa::path(
    delete,
    path = "/api/v1/attachments/{id}",
    tag = "evidence",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The hazard is closed or voided")
    )
)]
pub async fn delete_attachment(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::HandleEvidence)?;
    let id = path.into_inner();
    let now = state.park.now();
    let blobs = state.evidence.blobs().clone();
    state
        .db
        .write(move |conn| {
            let change = app::evidence::remove_evidence(conn, &caller, id, now)?;
            // The row is gone for good; a blob that cannot be removed now
            // is only wasted space, never a broken record.
            if let Err(e) = release_if_unreferenced(conn, blobs.as_ref(), &change.attachment.sha256)
            {
                tracing::warn!(error = %e, sha256 = %change.attachment.sha256, "could not remove an unreferenced evidence blob");
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::build(StatusCode::NO_CONTENT).finish())
}
