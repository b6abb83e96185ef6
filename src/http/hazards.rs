//! Hazards: reporting, reading, listing, and every lifecycle action. The
//! rules live in `domain::hazard` and the transaction in `lifecycle`; this
//! module turns HTTP into commands and hazards into JSON.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app;
use crate::app::hazards::{Command, Preconditions};
use crate::cache::reads::Cached;
use crate::db::hazards::rendered::{HazardRecord, RenderedRow};
use crate::db::hazards::{self as store, Extension, Hazard, HazardEvent, HazardFilter};
use crate::db::like_pattern;
use crate::db::wire_time;
use crate::db::{DbConnection, Id};
use crate::domain::access::Role;
use crate::domain::access::{Caller, Capability};
use crate::domain::hazard::new::CreateHazard;
use crate::domain::hazard::rules::PlanInput;
use crate::domain::hazard::{
    allowed_actions, CheckSource, HazardAction, HazardLevel, HazardState, TransitionContext,
};
use crate::domain::inspection::check_source_rules;
use crate::domain::park::Park;
use crate::domain::text::{optional_text, required_text, MAX_LINE, MAX_TEXT};
use crate::error::{AppError, FieldError, FieldErrors};
use crate::http::body::Body;
use crate::http::conditional::IfMatch;
use crate::http::state::AppState;
use crate::http::{
    cached_json, create_idempotently, decode_cursor, decode_id_cursor, json_bytes,
    json_page_of_raw, with_etag, Created, Page, Paginated,
};
use crate::messages::Rule;

/// Funds above this (in yuan) are taken for a typing error.
const MAX_FUNDS_YUAN: f64 = 1.0e11;

/// What a hazard shows that depends on the day and on who asks; the rest
/// is its `HazardRecord`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HazardStanding {
    /// Not yet submitted and the deadline day has ended (park time).
    pub overdue: bool,
    /// What the caller may do next.
    pub allowed_actions: Vec<HazardAction>,
}

impl HazardStanding {
    fn of(key: StandingKey, caller: &Caller) -> HazardStanding {
        HazardStanding {
            overdue: key.overdue,
            allowed_actions: allowed_actions(
                key.state,
                TransitionContext {
                    role: caller.role,
                    level: key.level,
                    source: key.source,
                },
            ),
        }
    }

    /// The JSON object's text open for more fields: `{…,` — written before
    /// the fields of a row's rendering (a JSON object, its `{` left off),
    /// the two merge into the bytes [`HazardView`] serializes to.
    fn opening(&self) -> Result<Vec<u8>, AppError> {
        let mut text = serde_json::to_vec(self).map_err(|e| AppError::Internal(e.into()))?;
        text.pop();
        text.push(b',');
        Ok(text)
    }
}

/// What a hazard's [`HazardStanding`] depends on, the caller aside: the
/// one list of its inputs. A page writes each distinct one once.
#[derive(Clone, Copy, PartialEq, Eq)]
struct StandingKey {
    state: HazardState,
    level: HazardLevel,
    source: CheckSource,
    overdue: bool,
}

impl StandingKey {
    fn new(
        state: HazardState,
        level: HazardLevel,
        source: CheckSource,
        deadline: NaiveDate,
        park_today: NaiveDate,
    ) -> StandingKey {
        StandingKey {
            state,
            level,
            source,
            overdue: state.overdue_on(deadline, park_today),
        }
    }

    fn of_row(row: &RenderedRow, park_today: NaiveDate) -> StandingKey {
        StandingKey::new(row.state, row.level, row.source, row.deadline, park_today)
    }
}

/// Writes the view of a hazard whose row carries its rendering `wire`.
fn write_view(opening: &[u8], wire: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(opening);
    out.extend_from_slice(&wire.as_bytes()[1..]);
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HazardView {
    #[serde(flatten)]
    pub standing: HazardStanding,
    #[serde(flatten)]
    pub record: HazardRecord,
}

impl HazardView {
    pub fn build(
        h: Hazard,
        caller: &Caller,
        park_today: NaiveDate,
    ) -> Result<HazardView, AppError> {
        Ok(HazardView {
            standing: HazardStanding::of(
                StandingKey::new(h.state, h.level, h.source, h.deadline, park_today),
                caller,
            ),
            record: HazardRecord::of(&h),
        })
    }
}

/// The page's body from rows that carry their rendering; `None` if one
/// does not yet.
fn rendered_page(
    page: &Page,
    rows: Vec<RenderedRow>,
    caller: &Caller,
    park_today: NaiveDate,
) -> Result<Option<web::Bytes>, AppError> {
    if rows.iter().any(|row| row.usable_wire().is_none()) {
        return Ok(None);
    }
    let page = page.finish(rows, |row| row.id.to_string(), |row| row);
    let size = page
        .items
        .iter()
        .map(|row| row.wire.as_ref().map_or(0, |w| w.0.len()) + 64)
        .sum();
    // A page holds few distinct standings (state, level, source, overdue):
    // each is written once and its text reused.
    let mut openings: Vec<(StandingKey, Vec<u8>)> = Vec::new();
    let body = json_page_of_raw(page.next_cursor, size, |out| {
        for (i, row) in page.items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let key = StandingKey::of_row(row, park_today);
            let known = openings.iter().position(|(k, _)| *k == key);
            let at = match known {
                Some(at) => at,
                None => {
                    let opening = HazardStanding::of(key, caller).opening()?;
                    openings.push((key, opening));
                    openings.len() - 1
                }
            };
            write_view(&openings[at].1, row.usable_wire().unwrap_or("{}"), out);
        }
        Ok(())
    })?;
    Ok(Some(body))
}

/// Reports a hazard. Enterprise contacts report their own self-checks.
#[utoipa::path(
    post,
    path = "/api/v1/hazards",
    tag = "hazards",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = CreateHazard,
    responses(
        (status = 201, body = HazardView, headers(("ETag" = String), ("Location" = String))),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_hazard(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Body<CreateHazard>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReportHazards)?;
    let body = body.into_inner();
    check_source_rules(
        &caller,
        body.source,
        body.enterprise_id,
        body.checking_enterprise_id,
    )?;
    let now = state.park.now();
    let new = body.parse(&state.park, &now)?;
    let policy = state.record_policy();
    let escalation = state.escalation.clone();
    create_idempotently(&state, &req, &caller, &body, move |conn| {
        let hazard = app::hazards::report_hazard(conn, &caller, new, now, policy, &escalation)?;
        let view = HazardView::build(hazard, &caller, now.park_today)?;
        Created::new(
            &view,
            format!("/api/v1/hazards/{}", view.record.id),
            Some(view.record.version),
        )
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListHazardsQuery {
    pub state: Option<HazardState>,
    pub level: Option<HazardLevel>,
    pub source: Option<CheckSource>,
    pub enterprise_id: Option<Uuid>,
    #[param(pattern = r"^[^\u0000]*(?![\s\S])")]
    pub category: Option<String>,
    #[param(pattern = r"^[^\u0000]*(?![\s\S])")]
    pub specialty: Option<String>,
    pub inspection_id: Option<Uuid>,
    /// `true`: only overdue hazards; `false`: only those not overdue.
    pub overdue: Option<bool>,
    /// `true`: only hazards with an extension request awaiting a decision;
    /// `false`: only those without one.
    pub pending_extension: Option<bool>,
    /// `true`: only hazards sent back at acceptance (驳回) and not yet
    /// submitted again; `false`: only the others.
    pub rejected: Option<bool>,
    /// The year found, in park time.
    pub found_year: Option<i32>,
    /// Text in the number, title, description or location.
    #[param(max_length = 100, pattern = r"^[^\u0000]*(?![\s\S])")]
    pub q: Option<String>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\s\S])")]
    pub cursor: Option<String>,
}

impl ListHazardsQuery {
    /// The storage filter this query asks for, confined to the caller's
    /// enterprise; categories and specialties may be given by label.
    pub(crate) fn filter(
        &self,
        caller: &Caller,
        park: &Park,
        today: NaiveDate,
    ) -> Result<HazardFilter, AppError> {
        if self.q.as_deref().is_some_and(|q| q.chars().count() > 100) {
            return Err(AppError::invalid(
                "q",
                FieldError::new(Rule::TooLong).with("max", 100),
            ));
        }
        for (field, value) in [
            ("q", &self.q),
            ("category", &self.category),
            ("specialty", &self.specialty),
        ] {
            if value.as_deref().is_some_and(|v| v.contains('\0')) {
                return Err(AppError::invalid(field, Rule::NulCharacter));
            }
        }
        let text = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        let category = self
            .category
            .as_deref()
            .map(|c| park.category_code(c).unwrap_or(c).to_owned());
        let specialty = self
            .specialty
            .as_deref()
            .map(|s| park.specialty_code(s).unwrap_or(s).to_owned());
        Ok(HazardFilter {
            only_enterprise: caller.scope().map(Id::from),
            enterprise_id: self.enterprise_id.map(Id::from),
            state: self.state,
            level: self.level,
            source: self.source,
            category,
            specialty,
            inspection_id: self.inspection_id.map(Id::from),
            found_year: self.found_year,
            overdue: self.overdue.map(|overdue| (overdue, today)),
            pending_extension: self.pending_extension,
            rejected: self.rejected,
            text: text.map(like_pattern),
        })
    }
}

/// Lists hazards, newest first; an enterprise contact sees its own only.
#[utoipa::path(
    get,
    path = "/api/v1/hazards",
    tag = "hazards",
    security(("bearer" = [])),
    params(ListHazardsQuery),
    responses(
        (status = 200, body = Paginated<HazardView>),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_hazards(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    query: web::Query<ListHazardsQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadHazards)?;
    let query = query.into_inner();
    let page = Page::new(query.limit)?;
    let before = decode_id_cursor(query.cursor.as_deref())?;
    let now = state.park.now();
    let filter = query.filter(&caller, &state.park, now.park_today)?;
    let key = list_key(&caller, &req);
    if let Some(hit) = state.reads.get(&req, &key, now.park_today) {
        return Ok(cached_json(hit));
    }
    let generation = state.reads.generation();
    let bounded = filter.index_bounded();
    let rendered = {
        let filter = filter.clone();
        move |conn: &mut DbConnection| store::list_rendered(conn, &filter, before, page.fetch())
    };
    let rows = if bounded {
        state.db.read_bounded(rendered).await?
    } else {
        state.db.run(rendered).await?
    };
    let body = match rendered_page(&page, rows, &caller, now.park_today)? {
        Some(body) => body,
        None => {
            let read =
                move |conn: &mut DbConnection| store::list(conn, &filter, before, page.fetch());
            let rows = state.db.run(read).await?;
            let views = rows
                .into_iter()
                .map(|h| HazardView::build(h, &caller, now.park_today))
                .collect::<Result<Vec<_>, _>>()?;
            json_bytes(&page.finish(views, |h| h.record.id.to_string(), |h| h))?
        }
    };
    let answer = Cached {
        body,
        version: None,
        enterprise_id: None,
        day: now.park_today,
    };
    state.reads.put(generation, key, answer.clone());
    Ok(cached_json(answer))
}

/// The read cache's key for a page of the list. The page depends on the
/// query, on who asks (their enterprise, and their role for
/// `allowed_actions`) and on the day (`overdue`, checked by the cache).
fn list_key(caller: &Caller, req: &HttpRequest) -> String {
    format!(
        "hazards/{}/{}?{}",
        caller.role,
        caller.scope().map(|id| id.to_string()).unwrap_or_default(),
        req.query_string()
    )
}

/// One hazard with its plan, `overdue` and `version` (also the `ETag`).
#[utoipa::path(
    get,
    path = "/api/v1/hazards/{id}",
    tag = "hazards",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = HazardView, headers(("ETag" = String))),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_hazard(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadHazards)?;
    let id = path.into_inner();
    let today = state.park.now().park_today;
    // The view depends on the role (`allowed_actions`) and the day
    // (`overdue`); who may see it is checked on every answer.
    let key = format!("hazard/{id}/{}", caller.role);
    if let Some(hit) = state.reads.get(&req, &key, today) {
        if !hit
            .enterprise_id
            .is_some_and(|e| caller.can_see_enterprise(e))
        {
            return Err(AppError::NotFound("hazard"));
        }
        return Ok(cached_json(hit));
    }
    let generation = state.reads.generation();
    let read = state
        .db
        .read_bounded(move |conn| app::hazards::visible_rendered(conn, &caller, id))
        .await?;
    let answer = match read {
        Ok(row) => {
            let mut body = Vec::with_capacity(row.wire.as_ref().map_or(0, |w| w.0.len()) + 64);
            let opening =
                HazardStanding::of(StandingKey::of_row(&row, today), &caller).opening()?;
            write_view(&opening, row.usable_wire().unwrap_or("{}"), &mut body);
            Cached {
                body: body.into(),
                version: Some(row.version),
                enterprise_id: Some(row.enterprise_id.uuid()),
                day: today,
            }
        }
        Err(hazard) => {
            let view = HazardView::build(hazard, &caller, today)?;
            Cached {
                body: json_bytes(&view)?,
                version: Some(view.record.version),
                enterprise_id: Some(view.record.enterprise_id),
                day: today,
            }
        }
    };
    state.reads.put(generation, key, answer.clone());
    Ok(cached_json(answer))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub id: Uuid,
    pub hazard_id: Uuid,
    /// 1 for the report, then one more per change.
    pub seq: i32,
    /// `report`, `plan`, `submit`, `accept`, `reject`, `void`, `reopen`,
    /// `extension_requested`, `extension_approved`, `extension_refused`,
    /// `evidence_added`, `evidence_removed` (state unchanged).
    pub action: String,
    pub actor_id: Uuid,
    pub actor_role: Role,
    /// The actor's name, in the hazard's history (`GET
    /// /hazards/{id}/events`); absent elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    pub from_state: Option<HazardState>,
    pub to_state: HazardState,
    /// When it happened (may be earlier than `recorded_at` for paper records).
    #[serde(serialize_with = "wire_time::utc")]
    pub occurred_at: DateTime<Utc>,
    /// When the service recorded it.
    #[serde(serialize_with = "wire_time::utc")]
    pub recorded_at: DateTime<Utc>,
    /// Dated more than `records.backdate_tolerance_minutes` before it was
    /// recorded: an entered record (补录), by the actor named.
    pub entered_late: bool,
    pub note: Option<String>,
    /// What the action carried: plan, deadlines, extension ids; for
    /// evidence, the file (`attachment_id`, `phase`, `sha256`, …) and the
    /// new `evidence` counts.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl TryFrom<HazardEvent> for EventView {
    type Error = AppError;

    fn try_from(e: HazardEvent) -> Result<EventView, AppError> {
        let bad =
            |what: &str| AppError::Internal(anyhow::anyhow!("event {} has a bad {what}", e.id));
        Ok(EventView {
            id: e.id.uuid(),
            hazard_id: e.hazard_id.uuid(),
            seq: e.seq,
            actor_id: e.actor_id.uuid(),
            actor_role: e.actor_role,
            actor_name: None,
            from_state: e.from_state,
            to_state: e.to_state,
            occurred_at: e.occurred_at.and_utc(),
            recorded_at: e.recorded_at.and_utc(),
            entered_late: e.entered_late,
            details: serde_json::from_str(&e.details).map_err(|_| bad("details"))?,
            action: e.action,
            note: e.note,
        })
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^(0|[1-9][0-9]{0,8})(?![\s\S])")]
    pub cursor: Option<String>,
}

/// The hazard's append-only history, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/hazards/{id}/events",
    tag = "hazards",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), PageQuery),
    responses(
        (status = 200, body = Paginated<EventView>),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_events(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadHazards)?;
    let page = Page::new(query.limit)?;
    let after = decode_cursor::<i32>(query.cursor.as_deref())?;
    let id = path.into_inner();
    let rows = state
        .db
        .run(move |conn| {
            let hazard = app::hazards::visible_hazard(conn, &caller, id)?;
            let events = store::events(conn, hazard.id, after, page.fetch())?;
            let mut actors: Vec<Id> = events.iter().map(|e| e.actor_id).collect();
            actors.sort_unstable();
            actors.dedup();
            let names = crate::db::users::names_of(conn, &actors)?;
            Ok((events, names))
        })
        .await?;
    let (rows, names) = rows;
    let views = rows
        .into_iter()
        .map(|event| {
            let name = names
                .iter()
                .find(|(id, _)| *id == event.actor_id)
                .map(|(_, name)| name.clone());
            EventView::try_from(event).map(|view| EventView {
                actor_name: name,
                ..view
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(page.finish(views, |e| e.seq.to_string(), |e| e)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExtensionView {
    pub id: Uuid,
    pub hazard_id: Uuid,
    pub requested_deadline: NaiveDate,
    pub previous_deadline: NaiveDate,
    pub reason: String,
    /// `pending`, `approved`, `refused`, or `withdrawn` (the hazard was
    /// closed or voided before a decision).
    pub state: String,
    pub requested_by: Uuid,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub granted_deadline: Option<NaiveDate>,
    pub decision_note: Option<String>,
}

impl TryFrom<Extension> for ExtensionView {
    type Error = AppError;

    fn try_from(e: Extension) -> Result<ExtensionView, AppError> {
        Ok(ExtensionView {
            id: e.id.uuid(),
            hazard_id: e.hazard_id.uuid(),
            requested_deadline: e.requested_deadline,
            previous_deadline: e.previous_deadline,
            reason: e.reason,
            state: e.state.as_str().to_owned(),
            requested_by: e.requested_by.uuid(),
            requested_at: e.requested_at.and_utc(),
            decided_by: e.decided_by.map(Id::uuid),
            decided_at: e.decided_at.map(|t| t.and_utc()),
            granted_deadline: e.granted_deadline,
            decision_note: e.decision_note,
        })
    }
}

/// The hazard's extension requests and their decisions.
#[utoipa::path(
    get,
    path = "/api/v1/hazards/{id}/extensions",
    tag = "hazards",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Paginated<ExtensionView>),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_extensions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadHazards)?;
    let id = path.into_inner();
    let rows = state
        .db
        .run(move |conn| {
            let hazard = app::hazards::visible_hazard(conn, &caller, id)?;
            store::extensions(conn, hazard.id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated {
        items: rows
            .into_iter()
            .map(ExtensionView::try_from)
            .collect::<Result<Vec<_>, _>>()?,
        next_cursor: None,
    }))
}

/// The 五到位 plan. A major hazard's plan needs all five.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// 措施
    #[schema(max_length = 10000)]
    pub measures: Option<String>,
    /// 责任人
    #[schema(max_length = 200)]
    pub responsible_person: Option<String>,
    /// 资金, in yuan (up to two decimals).
    #[schema(minimum = 0, maximum = 100000000000.0)]
    pub funds: Option<f64>,
    /// 时限. An enterprise contact may not move it later: that is an
    /// extension request.
    pub deadline: Option<NaiveDate>,
    /// 预案
    #[schema(max_length = 10000)]
    pub contingency_plan: Option<String>,
    /// When it happened; default now.
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotesRequest {
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    /// Why; required.
    #[schema(min_length = 1, max_length = 10000)]
    pub reason: String,
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRequest {
    /// Later than the current deadline.
    pub requested_deadline: NaiveDate,
    #[schema(min_length = 1, max_length = 10000)]
    pub reason: String,
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveExtension {
    /// Grant another date than the one requested.
    pub granted_deadline: Option<NaiveDate>,
    #[schema(max_length = 10000)]
    pub note: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseExtension {
    /// Why the extension is refused; required, not blank. Also accepted
    /// under its former name `note`.
    #[serde(alias = "note")]
    #[schema(required = true, min_length = 1, max_length = 10000)]
    pub reason: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
}

/// Runs one lifecycle command and answers with the hazard as it now is.
pub(crate) async fn run_command(
    state: web::Data<AppState>,
    caller: Caller,
    if_match: IfMatch,
    hazard_id: Uuid,
    command: Command,
    occurred_at: Option<DateTime<Utc>>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadHazards)?;
    let preconditions = Preconditions {
        if_match: if_match.0,
        occurred_at: occurred_at.map(|t| t.naive_utc()),
    };
    let context = state.lifecycle_context();
    let today = context.now.park_today;
    let applied = state
        .db
        .write(move |conn| {
            app::hazards::apply(conn, &caller, hazard_id, command, preconditions, &context)
        })
        .await?;
    let view = HazardView::build(applied.hazard, &caller, today)?;
    Ok(with_etag(StatusCode::OK, view.record.version, &view))
}

fn funds_in_fen(funds: Option<f64>) -> Result<Option<i64>, AppError> {
    let Some(yuan) = funds else { return Ok(None) };
    if !yuan.is_finite() || !(0.0..=MAX_FUNDS_YUAN).contains(&yuan) {
        return Err(AppError::invalid("funds", Rule::AmountYuan));
    }
    let fen = (yuan * 100.0).round();
    if (yuan * 100.0 - fen).abs() > 1e-6 {
        return Err(AppError::invalid("funds", Rule::FenDecimals));
    }
    // In range by the check above.
    Ok(Some(fen as i64))
}

/// Documents a lifecycle action handler: they all answer alike.
macro_rules! hazard_action {
    ($path:literal, $body:ty, $doc:literal, method = $method:ident, $handler:item) => {
        #[doc = $doc]
        #[utoipa::path(
            $method,
            path = $path,
            tag = "hazards",
            security(("bearer" = [])),
            params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag read; stale → 412")),
            request_body = $body,
            responses(
                (status = 200, body = HazardView, headers(("ETag" = String))),
                (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
                (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
                (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
                (status = 412, body = crate::error::Problem, content_type = "application/problem+json"),
                (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
            )
        )]
        $handler
    };
    ($path:literal, $body:ty, $doc:literal, $handler:item) => {
        hazard_action!($path, $body, $doc, method = post, $handler);
    };
}
pub(crate) use hazard_action;

hazard_action!(
    "/api/v1/hazards/{id}/plan",
    PlanRequest,
    "Sets the 五到位 plan: reported → rectifying.",
    pub async fn plan(
        state: web::Data<AppState>,
        caller: Caller,
        if_match: IfMatch,
        path: web::Path<Uuid>,
        body: Body<PlanRequest>,
    ) -> Result<HttpResponse, AppError> {
        let body = body.into_inner();
        let mut errors = FieldErrors::new();
        let mut text = |field: &str, value: &Option<String>, max: usize| {
            let text = optional_text(field, value.as_deref(), max);
            AppError::gather(&mut errors, field, text)
        };
        let measures = text("measures", &body.measures, MAX_TEXT);
        let responsible_person = text("responsible_person", &body.responsible_person, MAX_LINE);
        let contingency_plan = text("contingency_plan", &body.contingency_plan, MAX_TEXT);
        let funds_fen = AppError::gather(&mut errors, "funds", funds_in_fen(body.funds));
        let (Some(measures), Some(responsible_person), Some(contingency_plan), Some(funds_fen)) =
            (measures, responsible_person, contingency_plan, funds_fen)
        else {
            return Err(AppError::invalid_fields(errors));
        };
        let plan = PlanInput {
            measures,
            responsible_person,
            funds_fen,
            deadline: body.deadline,
            contingency_plan,
        };
        let report_required = state.settings.regulation.major_report_before_plan;
        let command = Command::Plan {
            plan,
            report_required,
        };
        run_command(
            state,
            caller,
            if_match,
            path.into_inner(),
            command,
            body.occurred_at,
        )
        .await
    }
);

hazard_action!(
    "/api/v1/hazards/{id}/submit",
    NotesRequest,
    "Reports the rectification done: rectifying → pending_acceptance. A major hazard (and a general one, if configured) needs an `after` evidence file first (422).",
    pub async fn submit(
        state: web::Data<AppState>,
        caller: Caller,
        if_match: IfMatch,
        path: web::Path<Uuid>,
        body: Body<NotesRequest>,
    ) -> Result<HttpResponse, AppError> {
        let body = body.into_inner();
        let notes = optional_text("notes", body.notes.as_deref(), MAX_TEXT)?;
        let command = Command::Submit {
            notes,
            after_evidence_for_general: state.settings.attachments.require_after_for_general,
        };
        run_command(
            state,
            caller,
            if_match,
            path.into_inner(),
            command,
            body.occurred_at,
        )
        .await
    }
);

hazard_action!(
    "/api/v1/hazards/{id}/accept",
    NotesRequest,
    "Accepts the rectification (验收): pending_acceptance → closed.",
    pub async fn accept(
        state: web::Data<AppState>,
        caller: Caller,
        if_match: IfMatch,
        path: web::Path<Uuid>,
        body: Body<NotesRequest>,
    ) -> Result<HttpResponse, AppError> {
        let body = body.into_inner();
        let notes = optional_text("notes", body.notes.as_deref(), MAX_TEXT)?;
        run_command(
            state,
            caller,
            if_match,
            path.into_inner(),
            Command::Accept { notes },
            body.occurred_at,
        )
        .await
    }
);

/// A lifecycle action whose body is a reason: the same handler for each,
/// taking the command its variant names.
macro_rules! reason_action {
    ($path:literal, $doc:literal, $name:ident, $variant:ident) => {
        hazard_action!(
            $path,
            ReasonRequest,
            $doc,
            pub async fn $name(
                state: web::Data<AppState>,
                caller: Caller,
                if_match: IfMatch,
                path: web::Path<Uuid>,
                body: Body<ReasonRequest>,
            ) -> Result<HttpResponse, AppError> {
                let body = body.into_inner();
                let reason = required_text("reason", &body.reason, MAX_TEXT)?;
                let command = Command::$variant { reason };
                run_command(
                    state,
                    caller,
                    if_match,
                    path.into_inner(),
                    command,
                    body.occurred_at,
                )
                .await
            }
        );
    };
}

reason_action!(
    "/api/v1/hazards/{id}/reject",
    "Sends it back: pending_acceptance → rectifying.",
    reject,
    Reject
);
reason_action!(
    "/api/v1/hazards/{id}/void",
    "Voids a false report or duplicate (supervisor).",
    void,
    Void
);
reason_action!(
    "/api/v1/hazards/{id}/reopen",
    "Reopens a closed hazard found not fixed (supervisor).",
    reopen,
    Reopen
);

/// Asks for a later deadline (enterprise contact).
#[utoipa::path(
    post,
    path = "/api/v1/hazards/{id}/extensions",
    tag = "hazards",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header), ("If-Match" = Option<String>, Header)),
    request_body = ExtensionRequest,
    responses(
        (status = 201, body = ExtensionView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn request_extension(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    if_match: IfMatch,
    path: web::Path<Uuid>,
    body: Body<ExtensionRequest>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadHazards)?;
    let body = body.into_inner();
    let reason = required_text("reason", &body.reason, MAX_TEXT)?;
    let preconditions = Preconditions {
        if_match: if_match.0,
        occurred_at: body.occurred_at.map(|t| t.naive_utc()),
    };
    let command = Command::RequestExtension {
        requested_deadline: body.requested_deadline,
        reason,
    };
    let hazard_id = path.into_inner();
    let context = state.lifecycle_context();
    create_idempotently(&state, &req, &caller, &body, move |conn| {
        let applied =
            app::hazards::apply(conn, &caller, hazard_id, command, preconditions, &context)?;
        let extension = applied
            .extension
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no extension was recorded")))?;
        let view = ExtensionView::try_from(extension)?;
        Created::new(
            &view,
            format!("/api/v1/hazards/{hazard_id}/extensions"),
            None,
        )
    })
    .await
}

hazard_action!(
    "/api/v1/hazards/{id}/extensions/{ext_id}/approve",
    ApproveExtension,
    "Approves a pending extension: the deadline moves (supervisor).",
    pub async fn approve_extension(
        state: web::Data<AppState>,
        caller: Caller,
        if_match: IfMatch,
        path: web::Path<(Uuid, Uuid)>,
        body: Body<ApproveExtension>,
    ) -> Result<HttpResponse, AppError> {
        let (hazard_id, extension_id) = path.into_inner();
        let body = body.into_inner();
        let command = Command::ApproveExtension {
            extension_id,
            granted_deadline: body.granted_deadline,
            note: optional_text("note", body.note.as_deref(), MAX_TEXT)?,
        };
        run_command(
            state,
            caller,
            if_match,
            hazard_id,
            command,
            body.occurred_at,
        )
        .await
    }
);

hazard_action!(
    "/api/v1/hazards/{id}/extensions/{ext_id}/refuse",
    RefuseExtension,
    "Refuses a pending extension (supervisor).",
    pub async fn refuse_extension(
        state: web::Data<AppState>,
        caller: Caller,
        if_match: IfMatch,
        path: web::Path<(Uuid, Uuid)>,
        body: Body<RefuseExtension>,
    ) -> Result<HttpResponse, AppError> {
        let (hazard_id, extension_id) = path.into_inner();
        let body = body.into_inner();
        let command = Command::RefuseExtension {
            extension_id,
            // Checked by the service, after who may refuse.
            reason: body.reason.unwrap_or_default(),
        };
        run_command(
            state,
            caller,
            if_match,
            hazard_id,
            command,
            body.occurred_at,
        )
        .await
    }
);

/// How a dossier is sent.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DossierFormat {
    #[default]
    Md,
    Html,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DossierQuery {
    /// `md` (default) or `html`, a page ready to print.
    pub format: Option<DossierFormat>,
}

/// The 重大事故隐患报告 of a major hazard: the Art. 14 report contents and
/// the six parts of an Art. 15 plan (filled from the 五到位 plan), the
/// supervised listing, evidence and history. A general hazard has none
/// (`409`).
#[utoipa::path(
    get,
    path = "/api/v1/hazards/{id}/dossier",
    tag = "hazards",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), DossierQuery),
    responses(
        (status = 200, description = "Markdown, or HTML with `?format=html`",
         content((String = "text/markdown"), (String = "text/html"))),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_dossier(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<DossierQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadHazards)?;
    let id = path.into_inner();
    let park = state.park.clone();
    let dossier = state
        .db
        .run(move |conn| app::dossier::load(conn, &caller, &park, id))
        .await?;
    let format = query.format.unwrap_or_default();
    let (content_type, body) = match format {
        DossierFormat::Md => (
            "text/markdown; charset=utf-8",
            app::dossier::markdown(&dossier),
        ),
        DossierFormat::Html => ("text/html; charset=utf-8", app::dossier::html(&dossier)?),
    };
    let mut answer = HttpResponse::Ok();
    answer
        .content_type(content_type)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-cache"));
    if let DossierFormat::Html = format {
        answer.insert_header((
            actix_web::http::header::CONTENT_SECURITY_POLICY,
            app::dossier::html_policy(),
        ));
    }
    Ok(answer.body(body))
}
