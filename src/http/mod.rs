//! HTTP: every route is registered here, in one `configure`. Handlers
//! extract, authorize, call the domain and storage, and shape the response.
//! This module also owns what all handlers share: pagination, ETags,
//! idempotent creation, and problem+json for actix's own errors.

pub mod analytics;
pub mod attachments;
pub mod auth;
pub mod body;
pub mod changes;
pub mod checklists;
pub mod client_address;
pub mod conditional;
pub mod disclosure;
pub mod display_keys;
pub mod enterprises;
pub mod exchange;
pub mod extract;
pub mod filings;
pub mod grading;
pub mod hazards;
pub mod headers;
pub mod health;
pub mod imports;
pub mod inspections;
pub mod language;
pub mod ledger;
pub mod listing;
pub mod login_throttle;
pub mod major_sources;
pub mod metric_series;
pub mod metrics;
pub mod notifications;
pub mod openapi;
pub mod record_photos;
pub mod reference;
pub mod register_edit;
pub mod register_import;
pub mod request_log;
pub mod revalidation;
pub mod risk;
pub mod state;
pub mod stats;
pub mod users;
pub mod webhooks;
pub mod workspace;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, Resource};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::Id;
use crate::db::{idempotency, write_transaction, DbConnection};
use crate::domain::access::Caller;
use crate::error::{problem_response, AppError};
use crate::http::state::AppState;
use crate::messages::{Detail, Rule};

/// Where the API's routes live.
pub const API_ROOT: &str = "/api/v1";

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;

/// Registers every route. `max_body_bytes` bounds JSON bodies.
///
/// Routes are grouped in one scope per collection: actix tries the
/// resources of a scope in order and matches patterns with parameters by
/// regular expression, so a flat list made every request to
/// `/hazards/{id}` run the expressions of every earlier `{id}` route.
/// A scope's fixed prefix is a plain string comparison.
pub fn configure(cfg: &mut web::ServiceConfig, max_body_bytes: usize) {
    cfg.app_data(json_config(max_body_bytes))
        .app_data(web::QueryConfig::default().error_handler(|err, _| {
            AppError::bad_request(Detail::QueryStringInvalid.because(err.to_string())).into()
        }))
        .app_data(
            web::PathConfig::default().error_handler(|_, _| AppError::NotFound("resource").into()),
        )
        .service(resource("/healthz", "GET").route(web::get().to(health::healthz)))
        .service(resource("/readyz", "GET").route(web::get().to(health::readyz)))
        .service(resource("/metrics", "GET").route(web::get().to(metrics::metrics)))
        .service(resource("/app/", "GET").route(web::get().to(workspace::workspace)))
        .service(resource("/app", "GET").route(web::get().to(workspace::to_workspace)))
        .service(resource("/app/dashboard", "GET").route(web::get().to(workspace::dashboard)))
        .service(
            resource("/app/assets/workspace.js", "GET")
                .route(web::get().to(workspace::workspace_js)),
        )
        .service(resource("/app/sw.js", "GET").route(web::get().to(workspace::service_worker)))
        .service(
            resource("/app/manifest.webmanifest", "GET").route(web::get().to(workspace::manifest)),
        )
        .service(resource("/app/assets/icon.svg", "GET").route(web::get().to(workspace::icon)))
        .service(
            resource("/app/assets/dashboard.js", "GET")
                .route(web::get().to(workspace::dashboard_js)),
        )
        .service(resource("/app/assets/app.css", "GET").route(web::get().to(workspace::app_css)))
        .service(resource("/app/assets/terms.json", "GET").route(web::get().to(workspace::terms)))
        .service(
            web::scope(API_ROOT)
                // The routes wall screens poll first: actix tries routes in
                // order, testing each pattern with parameters on the way.
                .service(
                    resource(stats::OVERVIEW_PATH, "GET").route(web::get().to(stats::overview)),
                )
                .service(analytics_routes())
                .service(hazard_routes())
                .service(enterprise_routes())
                .service(inspection_routes())
                .service(checklist_routes())
                .service(filing_routes())
                .service(risk_routes())
                .service(
                    resource("/exchange/{table}", "GET")
                        .route(web::get().to(exchange::exchange_document)),
                )
                .service(register_edit_routes())
                .service(major_source_routes())
                .service(resource("/changes", "GET").route(web::get().to(changes::list_changes)))
                .service(
                    resource("/display-keys", "GET, POST")
                        .route(web::get().to(display_keys::list_display_keys))
                        .route(web::post().to(display_keys::create_display_key)),
                )
                .service(
                    resource("/webhooks", "GET, POST")
                        .route(web::get().to(webhooks::list_webhooks))
                        .route(web::post().to(webhooks::create_webhook)),
                )
                .service(
                    resource("/webhooks/{id}", "PATCH")
                        .route(web::patch().to(webhooks::update_webhook)),
                )
                .service(
                    resource("/webhooks/{id}/deliveries", "GET")
                        .route(web::get().to(webhooks::list_deliveries)),
                )
                .service(resource("/imports", "POST").route(web::post().to(imports::create_import)))
                .service(
                    resource("/imports/template.xlsx", "GET")
                        .route(web::get().to(imports::get_template)),
                )
                .service(resource("/imports/{id}", "GET").route(web::get().to(imports::get_import)))
                .service(
                    resource("/checklist-photos/{id}", "GET")
                        .route(web::get().to(checklists::download_photo)),
                )
                .service(
                    resource("/display-keys/{id}", "DELETE")
                        .route(web::delete().to(display_keys::revoke_display_key)),
                )
                .service(
                    web::scope("/attachments").service(
                        resource("/{id}", "GET, DELETE")
                            .route(web::get().to(attachments::download_attachment))
                            .route(web::delete().to(attachments::delete_attachment)),
                    ),
                )
                .service(
                    web::scope("/auth")
                        .service(
                            resource("/token", "POST").route(web::post().to(auth::issue_token)),
                        )
                        .service(resource("/me", "GET").route(web::get().to(auth::me))),
                )
                .service(
                    web::scope("/users")
                        .service(
                            resource("", "GET, POST")
                                .route(web::get().to(users::list_users))
                                .route(web::post().to(users::create_user)),
                        )
                        .service(
                            resource("/{id}", "GET, PATCH")
                                .route(web::get().to(users::get_user))
                                .route(web::patch().to(users::update_user)),
                        )
                        .service(
                            resource("/{id}/revoke-tokens", "POST")
                                .route(web::post().to(users::revoke_tokens)),
                        ),
                )
                .service(
                    resource("/stats/dual-prevention", "GET")
                        .route(web::get().to(major_sources::prevention_board)),
                )
                .service(
                    web::scope("/reports")
                        .service(
                            resource("/yearly/{year}", "GET").route(web::get().to(stats::yearly)),
                        )
                        .service(
                            resource("/quarterly/{year}/{quarter}", "GET")
                                .route(web::get().to(stats::quarterly)),
                        ),
                )
                .service(
                    resource("/notifications", "GET")
                        .route(web::get().to(notifications::list_notifications)),
                )
                .service(
                    web::scope("/reference")
                        .service(
                            resource("/calendar", "GET")
                                .route(web::get().to(reference::calendar_years)),
                        )
                        .service(
                            resource("/calendar/{year}", "PUT")
                                .route(web::put().to(reference::load_calendar)),
                        )
                        .service(
                            resource("/direct-red-triggers", "GET")
                                .route(web::get().to(grading::direct_red_triggers)),
                        )
                        .service(
                            resource("/major-hazard-criteria", "GET")
                                .route(web::get().to(reference::major_hazard_criteria)),
                        )
                        .service(
                            resource("/vocabularies", "GET")
                                .route(web::get().to(reference::vocabularies)),
                        )
                        .service(
                            resource("/baobao-duties", "GET")
                                .route(web::get().to(major_sources::duty_lists)),
                        ),
                ),
        );
}

/// `/analytics`: one read-only analysis per path.
fn analytics_routes() -> actix_web::Scope {
    web::scope("/analytics")
        .service(resource("/checks", "GET").route(web::get().to(risk::check_figures)))
        .service(
            resource("/checks/hazards", "GET").route(web::get().to(risk::check_hazards_by_node)),
        )
        .service(
            resource("/major-sources", "GET").route(web::get().to(major_sources::duty_figures)),
        )
        .service(resource("/evaluation", "GET").route(web::get().to(risk::evaluation)))
        .service(
            resource("/rectification-time", "GET")
                .route(web::get().to(analytics::rectification_time)),
        )
        .service(resource("/ageing", "GET").route(web::get().to(analytics::ageing)))
        .service(resource("/scorecard", "GET").route(web::get().to(analytics::scorecard)))
        .service(resource("/recurring", "GET").route(web::get().to(analytics::recurring)))
        .service(resource("/trends", "GET").route(web::get().to(analytics::trends)))
        .service(resource("/locations", "GET").route(web::get().to(analytics::locations)))
}

/// `/hazards`: the hazard itself first, the most read route of all.
fn hazard_routes() -> actix_web::Scope {
    web::scope("/hazards")
        .service(
            resource("", "GET, POST")
                .route(web::get().to(hazards::list_hazards))
                .route(web::post().to(hazards::create_hazard)),
        )
        // Before `/{id}`, which would take it.
        .service(resource("/export", "GET").route(web::get().to(ledger::export_hazards)))
        .service(resource("/{id}", "GET").route(web::get().to(hazards::get_hazard)))
        .service(resource("/{id}/events", "GET").route(web::get().to(hazards::list_events)))
        .service(resource("/{id}/check-origin", "GET").route(web::get().to(risk::get_check_origin)))
        .service(
            resource("/{id}/dossier", "GET, PUT")
                .route(web::get().to(hazards::get_dossier))
                .route(web::put().to(listing::record_dossier)),
        )
        .service(
            resource("/{id}/listing", "GET, POST")
                .route(web::get().to(listing::get_listing))
                .route(web::post().to(listing::list)),
        )
        .service(action(
            "/{id}/listing/assessment",
            listing::record_assessment,
        ))
        .service(action(
            "/{id}/listing/resumption",
            listing::record_resumption,
        ))
        .service(action("/{id}/listing/delisting", listing::delist))
        .service(
            resource("/{id}/attachments", "GET, POST")
                .route(web::get().to(attachments::list_attachments))
                .route(web::post().to(attachments::upload_attachment)),
        )
        .service(action("/{id}/plan", hazards::plan))
        .service(action("/{id}/submit", hazards::submit))
        .service(action("/{id}/accept", hazards::accept))
        .service(action("/{id}/reject", hazards::reject))
        .service(action("/{id}/void", hazards::void))
        .service(action("/{id}/reopen", hazards::reopen))
        .service(
            resource("/{id}/extensions", "GET, POST")
                .route(web::get().to(hazards::list_extensions))
                .route(web::post().to(hazards::request_extension)),
        )
        .service(action(
            "/{id}/extensions/{ext_id}/approve",
            hazards::approve_extension,
        ))
        .service(action(
            "/{id}/extensions/{ext_id}/refuse",
            hazards::refuse_extension,
        ))
}

/// A `POST`-only action on a hazard.
fn action<F, Args>(path: &str, handler: F) -> Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    resource(path, "POST").route(web::post().to(handler))
}

fn enterprise_routes() -> actix_web::Scope {
    web::scope("/enterprises")
        .service(
            resource("", "GET, POST")
                .route(web::get().to(enterprises::list_enterprises))
                .route(web::post().to(enterprises::create_enterprise)),
        )
        // Fixed paths before `/{id}`, which would take them.
        .service(resource("/due", "GET").route(web::get().to(grading::due)))
        .service(resource("/grade-counts", "GET").route(web::get().to(grading::grade_counts)))
        .service(
            resource("/{id}", "GET, PATCH")
                .route(web::get().to(enterprises::get_enterprise))
                .route(web::patch().to(enterprises::update_enterprise)),
        )
        .service(
            resource("/{id}/assessments", "GET, POST")
                .route(web::get().to(grading::list_assessments))
                .route(web::post().to(grading::create_assessment)),
        )
        .service(resource("/{id}/events", "GET").route(web::get().to(grading::list_events)))
        .service(resource("/{id}/risk-register", "GET").route(web::get().to(risk::get_register)))
        .service(
            resource("/{id}/risk-register/import", "POST")
                .route(web::post().to(register_import::import_register)),
        )
        .service(
            resource("/{id}/risk-register/revisions", "GET")
                .route(web::get().to(register_edit::list_revisions)),
        )
}

/// The risk register and its check tasks (双重预防).
fn risk_routes() -> impl actix_web::dev::HttpServiceFactory {
    (
        resource("/risk-objects", "POST").route(web::post().to(risk::create_object)),
        resource("/risk-register/template.xlsx", "GET")
            .route(web::get().to(register_import::get_template)),
        resource("/risk-units", "POST").route(web::post().to(risk::create_unit)),
        resource("/risk-units/{id}/pauses", "POST").route(web::post().to(risk::create_pause)),
        resource("/risk-events", "POST").route(web::post().to(risk::create_event)),
        resource("/control-measures", "POST").route(web::post().to(risk::create_measure)),
        resource("/check-tasks", "POST").route(web::post().to(risk::create_task)),
        resource("/check-tasks/{id}/occurrences", "GET")
            .route(web::get().to(risk::list_occurrences)),
        resource("/check-tasks/{id}/records", "POST").route(web::post().to(risk::create_record)),
        resource("/check-duties", "GET").route(web::get().to(risk::list_duties)),
        resource("/check-records/{id}/photos", "GET, POST")
            .route(web::get().to(record_photos::list_record_photos))
            .route(web::post().to(record_photos::upload_record_photo)),
        resource("/check-record-photos/{id}", "GET")
            .route(web::get().to(record_photos::download_record_photo)),
    )
}

/// Editing and retiring the risk register.
fn register_edit_routes() -> impl actix_web::dev::HttpServiceFactory {
    (
        resource("/risk-objects/{id}", "PATCH").route(web::patch().to(register_edit::edit_object)),
        resource("/risk-units/{id}", "PATCH").route(web::patch().to(register_edit::edit_unit)),
        resource("/risk-events/{id}", "PATCH").route(web::patch().to(register_edit::edit_event)),
        resource("/control-measures/{id}", "PATCH")
            .route(web::patch().to(register_edit::edit_measure)),
        resource("/risk-objects/{id}/retire", "POST")
            .route(web::post().to(register_edit::retire_object)),
        resource("/risk-units/{id}/retire", "POST")
            .route(web::post().to(register_edit::retire_unit)),
        resource("/risk-events/{id}/retire", "POST")
            .route(web::post().to(register_edit::retire_event)),
        resource("/control-measures/{id}/retire", "POST")
            .route(web::post().to(register_edit::retire_measure)),
        resource("/check-tasks/{id}/retire", "POST")
            .route(web::post().to(register_edit::retire_task)),
    )
}

/// Major hazard sources and their 包保责任人.
fn major_source_routes() -> impl actix_web::dev::HttpServiceFactory {
    (
        resource("/major-sources", "GET, POST")
            .route(web::get().to(major_sources::list_sources))
            .route(web::post().to(major_sources::create_source)),
        resource("/major-sources/{id}", "GET").route(web::get().to(major_sources::get_source)),
        resource("/major-sources/{id}/inputs", "PUT")
            .route(web::put().to(major_sources::change_inputs)),
        resource("/major-sources/{id}/persons", "POST")
            .route(web::post().to(major_sources::appoint_person)),
        resource("/major-sources/{id}/drills", "POST")
            .route(web::post().to(major_sources::record_drill)),
        resource("/major-sources/{id}/assessments", "POST")
            .route(web::post().to(major_sources::record_assessment)),
        resource("/major-source-assessments/{id}", "GET")
            .route(web::get().to(major_sources::download_assessment)),
        resource("/major-sources/{id}/placard", "GET").route(web::get().to(major_sources::placard)),
    )
}

fn inspection_routes() -> actix_web::Scope {
    web::scope("/inspections")
        .service(
            resource("", "GET, POST")
                .route(web::get().to(inspections::list_inspections))
                .route(web::post().to(inspections::create_inspection)),
        )
        .service(resource("/{id}", "GET").route(web::get().to(inspections::get_inspection)))
        .service(
            resource("/{id}/checklist-results", "GET, POST")
                .route(web::get().to(checklists::get_results))
                .route(web::post().to(checklists::record_results)),
        )
        .service(
            resource("/{id}/checklist-results/{item_id}/photos", "POST")
                .route(web::post().to(checklists::upload_photo)),
        )
}

fn filing_routes() -> actix_web::Scope {
    web::scope("/filings")
        .service(resource("", "GET").route(web::get().to(filings::list_filings)))
        .service(resource("/{id}", "GET").route(web::get().to(filings::get_filing)))
        .service(resource("/{id}/file", "POST").route(web::post().to(filings::file_filing)))
}

fn checklist_routes() -> actix_web::Scope {
    web::scope("/checklists")
        .service(
            resource("", "GET, POST")
                .route(web::get().to(checklists::list_checklists))
                .route(web::post().to(checklists::create_checklist)),
        )
        .service(resource("/{id}", "GET").route(web::get().to(checklists::get_checklist)))
}

/// A resource whose other methods answer `405` with `Allow`.
fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move || async move {
        let mut response = problem_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this resource allows {allow}"),
            None,
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static(allow));
        response
    }))
}

/// The answer for paths no route matches.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    problem_response(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no resource at {}", req.path()),
        None,
    )
}

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |err, _req| json_error(err, limit).into())
}

fn json_error(err: actix_web::error::JsonPayloadError, limit: usize) -> AppError {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => {
            AppError::payload_too_large(Detail::BodyTooLarge.with("limit", limit))
        }
        E::ContentType => AppError::unsupported_media_type(
            Detail::NotJsonContentType.with("content_type", "application/json"),
        ),
        E::Deserialize(e) if e.is_data() => schema_mismatch(&e),
        E::Deserialize(e) => AppError::bad_request(Detail::BodyNotJson.because(e.to_string())),
        other => AppError::bad_request(Detail::BodyUnreadable.because(other.to_string())),
    }
}

/// A body that is JSON but not of the request's type.
fn schema_mismatch(e: &serde_json::Error) -> AppError {
    AppError::Validation {
        detail: format!("the request body does not match the schema: {e}"),
        errors: missing_field(&e.to_string())
            .map(|field| [(field.to_owned(), Rule::Required.into())].into())
            .unwrap_or_default(),
    }
}

/// The field serde names in "missing field `reason` at line 1 column 2", so
/// a form can show the refusal beside it.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    let field = &rest[..rest.find('`')?];
    (!field.is_empty()).then_some(field)
}

/// `?limit=&cursor=` as every list takes them.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
}

impl Page {
    pub fn new(limit: Option<u32>) -> Result<Page, AppError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if limit == 0 || limit > MAX_PAGE_SIZE {
            return Err(AppError::invalid(
                "limit",
                crate::error::FieldError::new(Rule::OutOfRange)
                    .with("min", 1)
                    .with("max", MAX_PAGE_SIZE),
            ));
        }
        Ok(Page {
            limit: i64::from(limit),
        })
    }

    /// One row more than the page, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts the extra row off and makes the cursor from the last kept one.
    pub fn finish<R, T>(
        &self,
        mut rows: Vec<R>,
        cursor_of: impl Fn(&R) -> String,
        shape: impl FnMut(R) -> T,
    ) -> Paginated<T> {
        let has_more = rows.len() as i64 > self.limit;
        rows.truncate(usize::try_from(self.limit).unwrap_or(usize::MAX));
        let next_cursor = if has_more {
            rows.last().map(|r| encode_cursor(&cursor_of(r)))
        } else {
            None
        };
        Paginated {
            items: rows.into_iter().map(shape).collect(),
            next_cursor,
        }
    }
}

/// A page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Paginated<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A page whose items are JSON texts already: `Paginated`'s own envelope,
/// serialized with no items, with `write_items` writing the items (comma
/// separated) into its list. `size`: about how long the items are.
pub fn json_page_of_raw(
    next_cursor: Option<String>,
    size: usize,
    write_items: impl FnOnce(&mut Vec<u8>) -> Result<(), AppError>,
) -> Result<web::Bytes, AppError> {
    const OPEN: &[u8] = br#"{"items":["#;
    let envelope = serde_json::to_vec(&Paginated::<()> {
        items: Vec::new(),
        next_cursor,
    })
    .map_err(|e| AppError::Internal(e.into()))?;
    let Some(close) = envelope.strip_prefix(OPEN) else {
        return Err(AppError::Internal(anyhow::anyhow!(
            "a page's envelope no longer opens with its items"
        )));
    };
    let mut body = Vec::with_capacity(envelope.len() + size);
    body.extend_from_slice(OPEN);
    write_items(&mut body)?;
    body.extend_from_slice(close);
    Ok(body.into())
}

/// A cursor is the position itself: the last row's id (a UUID) or its
/// sequence number. Clients treat it as opaque; the document gives each
/// list's cursor a `pattern`, and every text matching it is a position.
pub fn encode_cursor(position: &str) -> String {
    position.to_owned()
}

/// Reads a cursor back into the position type of its list (an id or a
/// sequence number); anything else is `422`.
pub fn decode_cursor<T: std::str::FromStr>(cursor: Option<&str>) -> Result<Option<T>, AppError> {
    cursor
        .map(|c| {
            c.parse::<T>()
                .map_err(|_| AppError::invalid("cursor", Rule::NotCursor))
        })
        .transpose()
}

/// A cursor holding a row id, as text for the query.
pub fn decode_id_cursor(cursor: Option<&str>) -> Result<Option<Id>, AppError> {
    Ok(decode_cursor::<uuid::Uuid>(cursor)?.map(Id::from))
}

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// A value as the bytes of a JSON body.
pub fn json_bytes<T: Serialize>(value: &T) -> Result<web::Bytes, AppError> {
    // Started at a few pages of memory rather than serde_json's 128 bytes
    // (a page of hazards is tens of kilobytes, grown by doubling
    // otherwise), and trimmed when much smaller, as the read cache keeps it.
    let mut body = Vec::with_capacity(16 * 1024);
    serde_json::to_writer(&mut body, value).map_err(|e| AppError::Internal(e.into()))?;
    if body.capacity() > 2 * body.len() {
        body.shrink_to_fit();
    }
    Ok(web::Bytes::from(body))
}

/// A `200` with a finished JSON body (and its `ETag` if it has a version),
/// whether just computed or from the read cache.
pub fn cached_json(answer: crate::cache::reads::Cached) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response.content_type("application/json");
    if let Some(version) = answer.version {
        response.insert_header((header::ETAG, etag(version)));
    }
    response.body(answer.body)
}

/// A JSON response with the resource's `ETag`.
pub fn with_etag<T: Serialize>(status: StatusCode, version: i64, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// What a creating handler produced, in a form that can be stored and
/// replayed for a retried request.
pub struct Created {
    pub body: serde_json::Value,
    pub location: String,
    pub version: Option<i64>,
    /// What a replay answers instead of `body` (a secret left out), when
    /// it differs.
    replay_body: Option<serde_json::Value>,
}

impl Created {
    pub fn new<T: Serialize>(
        body: &T,
        location: String,
        version: Option<i64>,
    ) -> Result<Created, AppError> {
        let body = serde_json::to_value(body).map_err(|e| AppError::Internal(e.into()))?;
        Ok(Created {
            body,
            location,
            version,
            replay_body: None,
        })
    }

    /// `field` holds a secret shown once: the response kept for a replay
    /// (`Idempotency-Key`) answers it `null`, with `{field}_shown_once:
    /// true`, so the secret is never stored.
    pub fn shown_once(mut self, field: &str) -> Created {
        let mut kept = self.body.clone();
        if let Some(object) = kept.as_object_mut() {
            object.insert(field.to_owned(), serde_json::Value::Null);
            object.insert(format!("{field}_shown_once"), serde_json::Value::Bool(true));
        }
        self.replay_body = Some(kept);
        self
    }

    fn into_response(self, replayed: bool) -> HttpResponse {
        let mut builder = HttpResponse::Created();
        builder.insert_header((header::LOCATION, self.location));
        if let Some(version) = self.version {
            builder.insert_header((header::ETAG, etag(version)));
        }
        if replayed {
            builder.insert_header(("Idempotent-Replayed", "true"));
        }
        builder.json(self.body)
    }
}

const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    // The documented pattern exactly: no space, nothing trimmed.
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > 255 || !bytes.iter().all(|b| (b'!'..=b'~').contains(b)) {
        return Err(AppError::bad_request(
            Detail::IdempotencyKeyMalformed.with("header", IDEMPOTENCY_KEY),
        ));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// Runs a creating request once per `Idempotency-Key`: a retry with the
/// same body replays the first response; with another body it is `422`.
/// The stored response is written in the same transaction as the creation.
pub async fn create_idempotently<B, F>(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    body: &B,
    create: F,
) -> Result<HttpResponse, AppError>
where
    B: Serialize,
    F: FnOnce(&mut DbConnection) -> Result<Created, AppError> + Send + 'static,
{
    let key = idempotency_key(req)?;
    let fingerprint = {
        let mut hasher = Sha256::new();
        hasher.update(req.method().as_str());
        hasher.update(b" ");
        hasher.update(req.path());
        hasher.update(b"\n");
        hasher.update(serde_json::to_vec(body).map_err(|e| AppError::Internal(e.into()))?);
        crate::domain::hex::hex(&hasher.finalize())
    };
    let user_id = Id::from(caller.user_id);
    let now = crate::clock::now_utc();
    let cutoff = now
        .checked_sub_signed(state.settings.server.idempotency_retention())
        .unwrap_or(chrono::NaiveDateTime::MIN);
    let (created, replayed) = state
        .db
        .write(move |conn| {
            let Some(key) = key else {
                return write_transaction(conn, create).map(|created| (created, false));
            };
            idempotency::forget_before(conn, cutoff)?;
            if let Some(stored) = idempotency::find(conn, user_id, &key)? {
                return replay(stored, &fingerprint);
            }
            let outcome = write_transaction(conn, |conn| {
                let created = create(conn)?;
                let stored = idempotency::StoredResponse {
                    user_id,
                    idempotency_key: key.clone(),
                    request_fingerprint: fingerprint.clone(),
                    response_status: 201,
                    response_body: created
                        .replay_body
                        .as_ref()
                        .unwrap_or(&created.body)
                        .to_string(),
                    location: Some(created.location.clone()),
                    created_at: now,
                };
                if !idempotency::insert(conn, &stored)? {
                    return Err(AppError::IdempotencyRace);
                }
                Ok(created)
            });
            match outcome {
                Ok(created) => Ok((created, false)),
                // Another request with this key committed first: answer as it did.
                Err(AppError::IdempotencyRace) => match idempotency::find(conn, user_id, &key)? {
                    Some(stored) => replay(stored, &fingerprint),
                    None => Err(AppError::IdempotencyRace),
                },
                Err(other) => Err(other),
            }
        })
        .await?;
    Ok(created.into_response(replayed))
}

fn replay(
    stored: idempotency::StoredResponse,
    fingerprint: &str,
) -> Result<(Created, bool), AppError> {
    if stored.request_fingerprint != fingerprint {
        return Err(AppError::idempotency_mismatch(Detail::IdempotencyKeyReused));
    }
    let body: serde_json::Value =
        serde_json::from_str(&stored.response_body).map_err(|e| AppError::Internal(e.into()))?;
    let version = body.get("version").and_then(serde_json::Value::as_i64);
    Ok((
        Created {
            body,
            location: stored.location.unwrap_or_default(),
            version,
            replay_body: None,
        },
        true,
    ))
}

#[cfg(test)]
mod tests {
    use super::missing_field;

    #[test]
    fn a_missing_field_is_named_for_its_form() {
        assert_eq!(
            missing_field("missing field `reason` at line 1 column 2"),
            Some("reason")
        );
        assert_eq!(missing_field("invalid type: integer `5`"), None);
        assert_eq!(missing_field("missing field ``"), None);
    }
}
