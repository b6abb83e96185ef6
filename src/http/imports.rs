//! Ledger imports over HTTP: `POST /api/v1/imports` (multipart, the file
//! read into memory up to its limit), `GET /api/v1/imports/{id}` and the
//! template. The rules and the transaction are `app::imports`'.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use uuid::Uuid;

use crate::app;
use crate::app::imports::{ImportKind, ImportReport, LedgerFile};
use crate::app::ledger_file::FileLimits;
use crate::domain::access::{Caller, Capability};
use crate::error::AppError;
use crate::http::attachments;
use crate::http::state::AppState;
use crate::messages::{Detail, Rule};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// How a dry run answers.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportAnswer {
    /// The row-by-row report.
    #[default]
    Json,
    /// The file as sent, with 导入结果 and 错误原因 columns added.
    Xlsx,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// What the file lists: `hazards` (default) or `enterprises`.
    pub kind: Option<ImportKind>,
    /// Check every row and answer what would happen; write nothing.
    pub dry_run: Option<bool>,
    /// For a dry run: `json` (default) or `xlsx`.
    pub format: Option<ImportAnswer>,
}

/// The multipart form of an import (for the OpenAPI document).
#[derive(Debug, utoipa::ToSchema)]
#[expect(dead_code, reason = "describes the form for OpenAPI; never built")]
pub struct ImportForm {
    /// The ledger: an XLSX workbook (its first sheet) or CSV (UTF-8 or
    /// GB18030), at most 20 MiB and 50,000 rows.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Imports a hazard ledger (隐患台账), or with `dry_run=true` checks it row
/// by row and writes nothing. Headers are matched tolerantly (隐患内容 for
/// 隐患描述, 排查日期 for 发现时间, …) below any title rows; dates may be
/// written 2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日 or as Excel dates. A
/// real run is all or nothing (any row in error: `422` naming each row and
/// column, nothing written) and idempotent: the same file again creates
/// nothing, and says so per row. A rectified row becomes a closed hazard
/// with its history at its dates, marked as entered records of the import.
/// With `kind=enterprises` the file lists enterprises (企业名称,
/// 统一社会信用代码 with its check digit, 企业状态, 联系人邮箱), registered
/// as `POST /enterprises` would; a known credit code is `unchanged`.
#[utoipa::path(
    post,
    path = "/api/v1/imports",
    tag = "imports",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "A dry run's report (or, format=xlsx, the annotated workbook)",
         content(
             (ImportReport = "application/json"),
             (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
         )),
        (status = 201, description = "Imported", body = ImportReport, headers(("Location" = String))),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 408, body = crate::error::Problem, content_type = "application/problem+json", description = "The body stalled past `server.body_idle_timeout_secs`"),
        (status = 413, body = crate::error::Problem, content_type = "application/problem+json", description = "Over the byte, row or unzipped-size limit"),
        (status = 415, body = crate::error::Problem, content_type = "application/problem+json", description = "Neither a workbook nor CSV text"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "A header or rows break the rules; nothing written")
    )
)]
pub async fn create_import(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ImportQuery>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ImportLedgers)?;
    let dry_run = query.dry_run.unwrap_or(false);
    let kind = query.kind.unwrap_or_default();
    let answer = query.format.unwrap_or_default();
    let (file_name, bytes) = receive(&state, payload, FileLimits::default().max_bytes).await?;
    let park = state.park.clone();
    let now = state.park.now();
    let (report, bytes) = state
        .db
        .write(move |conn| {
            let file = LedgerFile {
                file_name: &file_name,
                bytes: &bytes,
            };
            let report = match kind {
                ImportKind::Hazards => {
                    app::imports::import_hazards(conn, &caller, file, dry_run, &park, now)?
                }
                ImportKind::Enterprises => {
                    app::imports::import_enterprises(conn, &caller, file, dry_run, now)?
                }
            };
            Ok((report, bytes))
        })
        .await?;
    if dry_run {
        return match answer {
            ImportAnswer::Json => Ok(HttpResponse::Ok().json(report)),
            ImportAnswer::Xlsx => {
                let table = app::imports::annotated(&bytes, &report)?;
                Ok(HttpResponse::Ok()
                    .content_type(XLSX)
                    .insert_header((
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"import-check.xlsx\"",
                    ))
                    .body(table.xlsx()?))
            }
        };
    }
    let location = report
        .id
        .map(|id| format!("/api/v1/imports/{id}"))
        .unwrap_or_default();
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(report))
}

/// Reads the one `file` part into memory, refusing it past `limit` bytes;
/// a body that stalls is cut with `408`, as an attachment's is.
pub(crate) async fn receive(
    state: &AppState,
    mut payload: Multipart,
    limit: usize,
) -> Result<(String, Vec<u8>), AppError> {
    let idle = attachments::idle_limit(state);
    let mut file = None;
    while let Some(field) = attachments::within(idle, payload.next()).await? {
        let mut field = field.map_err(|e| {
            AppError::bad_request(Detail::MultipartMalformed.because(e.to_string()))
        })?;
        if field.name() != Some("file") || file.is_some() {
            return Err(AppError::invalid(
                field.name().unwrap_or("part"),
                Rule::OneImportPart,
            ));
        }
        let name = field
            .content_disposition()
            .and_then(|d| d.get_filename().map(str::to_owned))
            .unwrap_or_else(|| "ledger".to_owned());
        let mut bytes = Vec::new();
        while let Some(chunk) = attachments::within(idle, field.next()).await? {
            let chunk = chunk.map_err(|e| {
                AppError::bad_request(Detail::MultipartMalformed.because(e.to_string()))
            })?;
            if bytes.len() + chunk.len() > limit {
                return Err(AppError::payload_too_large(
                    Detail::LedgerTooLarge.with("max_bytes", limit),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        file = Some((crate::domain::evidence::clean_file_name(Some(&name)), bytes));
    }
    file.ok_or_else(|| AppError::invalid("file", Rule::Required))
}

/// A committed import's row-by-row report.
#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}",
    tag = "imports",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ImportReport),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_import(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ImportLedgers)?;
    let id = path.into_inner();
    let report = state
        .db
        .run(move |conn| app::imports::find(conn, &caller, id))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The import template: the export's twenty-one columns and a 填写说明 sheet.
#[utoipa::path(
    get,
    path = "/api/v1/imports/template.xlsx",
    tag = "imports",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The template workbook (an XLSX file; clients that only know files may read it as application/octet-stream)",
         content(
             (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
             (Vec<u8> = "application/octet-stream")
         )),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_template(caller: Caller) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ImportLedgers)?;
    Ok(HttpResponse::Ok()
        .content_type(XLSX)
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"hazard-ledger-template.xlsx\"",
        ))
        .body(app::imports::template()?))
}
