//! Importing a risk register over HTTP:
//! `POST /api/v1/enterprises/{id}/risk-register/import` (multipart `file`,
//! `?dry_run=true` to check only) and the template. The rules and the
//! transaction are `app::register_import`'s.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::app;
use crate::app::imports::LedgerFile;
use crate::app::ledger_file::FileLimits;
use crate::app::register_import::RegisterImportReport;
use crate::domain::access::{Caller, Capability};
use crate::error::AppError;
use crate::http::imports::{receive, ImportForm};
use crate::http::state::AppState;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RegisterImportQuery {
    /// Check every row and answer what would happen; write nothing.
    pub dry_run: Option<bool>,
}

/// Imports a risk register (安全风险分级管控清单) into an enterprise's, or
/// with `dry_run=true` checks it row by row and writes nothing. One row
/// per measure, as the register's export writes it: 风险分析对象, 对象类型,
/// 重大危险源编号, 风险分析单元, 责任部门, 责任人, 安全风险事件, 可能后果,
/// 评价方法, 评价取值 (`L=3，S=4`, or L, S, E, C columns), 管控措施,
/// 管控措施分类, 管控方式, 排查内容. A blank object, unit or event cell
/// takes the one above (merged cells). Levels are worked out from the
/// method and inputs, never read. Nodes are matched by name within their
/// parent: what exists is unchanged (a row giving it other attributes has a
/// note), so the same file again adds nothing. All or nothing: any row in
/// error is `422` naming each row and column.
#[utoipa::path(
    post,
    path = "/api/v1/enterprises/{id}/risk-register/import",
    operation_id = "import_risk_register",
    tag = "risk",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), RegisterImportQuery),
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "A dry run's report", body = RegisterImportReport),
        (status = 201, description = "Imported", body = RegisterImportReport, headers(("Location" = String))),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 408, body = crate::error::Problem, content_type = "application/problem+json", description = "The body stalled past `server.body_idle_timeout_secs`"),
        (status = 413, body = crate::error::Problem, content_type = "application/problem+json", description = "Over the byte, row or unzipped-size limit"),
        (status = 415, body = crate::error::Problem, content_type = "application/problem+json", description = "Neither a workbook nor CSV text"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "A header or rows break the rules; nothing written")
    )
)]
pub async fn import_register(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<RegisterImportQuery>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageRiskRegister)?;
    let enterprise = path.into_inner();
    let dry_run = query.dry_run.unwrap_or(false);
    let (file_name, bytes) = receive(&state, payload, FileLimits::default().max_bytes).await?;
    let bands = state.settings.risk.bands;
    let now = state.park.now().utc;
    let report = state
        .db
        .write(move |conn| {
            let file = LedgerFile {
                file_name: &file_name,
                bytes: &bytes,
            };
            app::register_import::import_register(
                conn, &caller, enterprise, file, dry_run, &bands, now,
            )
        })
        .await?;
    if dry_run {
        return Ok(HttpResponse::Ok().json(report));
    }
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/enterprises/{enterprise}/risk-register"),
        ))
        .json(report))
}

/// The register import's template: its columns and a 填写说明 sheet.
#[utoipa::path(
    get,
    path = "/api/v1/risk-register/template.xlsx",
    operation_id = "get_risk_register_template",
    tag = "risk",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The template workbook",
         content(
             (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
             (Vec<u8> = "application/octet-stream")
         )),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_template(caller: Caller) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageRiskRegister)?;
    Ok(HttpResponse::Ok()
        .content_type(XLSX)
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"risk-register-template.xlsx\"",
        ))
        .body(app::register_import::template()?))
}
