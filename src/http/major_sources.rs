//! Major hazard sources and their 包保责任人 over HTTP: registering a
//! source, changing its inputs, appointing a person, reading one source or
//! all, its printable 包保责任公示牌, the published duties, and the
//! 三类包保责任人分类统计 of a period.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::duty_figures::{self, DutyFigures};
use crate::app::major_sources::{self as service, SourceRecord};
use crate::app::prevention_board::PreventionBoard;
use crate::db::major_sources::{AssessmentRow, PersonRow};
use crate::domain::access::{Caller, Capability};
use crate::domain::major_source::{
    duties, risk_level_of_grade, AssessmentCause, Chemical, DrillKind, DutyList, NewDrill,
    NewPerson, NewSource, PersonKind, SourceInputs, SourceUnitKind,
};
use crate::domain::text::escape_html;
use crate::error::AppError;
use crate::http::attachments::{self, FileLimit, FormParts, StoredFile};
use crate::http::body::Body;
use crate::http::risk::{figures_answer, CheckFiguresQuery, LevelView};
use crate::http::state::AppState;
use crate::http::{create_idempotently, Created};
use crate::settings::MajorSourceSettings;
use actix_multipart::Multipart;

/// A 包保责任人, as shown to those who may read the register.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    pub id: Uuid,
    pub kind: PersonKind,
    /// 主要负责人 / 技术负责人 / 操作负责人
    pub kind_label: String,
    pub name: String,
    pub post: String,
    pub phone: String,
    pub user_id: Option<Uuid>,
    pub since: NaiveDate,
    /// The check task their duty checks are occurrences of.
    pub task_id: Uuid,
    /// When they were replaced; absent while in office.
    pub replaced_at: Option<DateTime<Utc>>,
}

impl From<&PersonRow> for PersonView {
    fn from(row: &PersonRow) -> Self {
        PersonView {
            id: row.id.uuid(),
            kind: row.kind,
            kind_label: row.kind.label_zh().to_owned(),
            name: row.name.clone(),
            post: row.post.clone(),
            phone: row.phone.clone(),
            user_id: row.user_id.map(|u| u.uuid()),
            since: row.since,
            task_id: row.task_id.uuid(),
            replaced_at: row.replaced_at.map(|at| at.and_utc()),
        }
    }
}

/// A major hazard source with its level, persons and what is due.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceView {
    pub id: Uuid,
    pub enterprise_id: Uuid,
    /// 备案编号
    pub code: String,
    pub name: String,
    pub unit_kind: SourceUnitKind,
    /// 生产单元 / 储存单元
    pub unit_kind_label: String,
    pub alpha: f64,
    pub chemicals: Vec<Chemical>,
    /// S = Σ q/Q (≥ 1).
    pub s: f64,
    /// R = α·Σ β·q/Q.
    pub r: f64,
    /// 1 (一级) to 4 (四级), from R (GB 18218-2018).
    pub grade: i32,
    pub grade_label: String,
    /// The register's level of its 包保 duties: 一级/二级 重大, 三级/四级 较大.
    pub risk_level: LevelView,
    pub assessed_on: Option<NaiveDate>,
    /// The next safety assessment: `major_sources.assessment_every_years`
    /// after the last, or `reassessment_within_days` after a change of
    /// inputs that moved R (or a registration without one), when no
    /// assessment followed it (《危险化学品重大危险源监督管理暂行规定》 Art. 11).
    pub next_assessment_due: Option<NaiveDate>,
    /// Why it is due then.
    pub assessment_cause: Option<AssessmentCause>,
    /// The next assessment's day is today or past (the park's day).
    pub assessment_due: bool,
    /// The persons in office, principal, technical, operational.
    pub persons: Vec<PersonView>,
    /// The kinds nobody holds.
    pub missing: Vec<PersonKind>,
    /// Everyone who held a duty, oldest first.
    pub history: Vec<PersonView>,
    /// Its two emergency drills: when last held and when next due.
    pub drills: Vec<DrillView>,
    /// Its safety assessments with their reports, latest first (one
    /// source read alone; absent in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessments: Option<Vec<SourceAssessmentView>>,
    /// The newest fifty hazards its duty checks found (one source read
    /// alone; absent in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hazards: Option<Vec<SourceHazardView>>,
    /// The register object and the unit holding the 包保 duties.
    pub object_id: Uuid,
    pub unit_id: Uuid,
    pub updated_at: DateTime<Utc>,
}

/// What the views read besides the record: the rules and the park's day.
type Rules<'a> = (&'a MajorSourceSettings, NaiveDate);

fn view(record: &SourceRecord, (settings, today): Rules) -> Result<SourceView, AppError> {
    let source = &record.source;
    let inputs: SourceInputs = serde_json::from_str(&source.inputs).map_err(|e| {
        AppError::Internal(anyhow::anyhow!("source {} has bad inputs: {e}", source.id))
    })?;
    let grade = u8::try_from(source.grade).unwrap_or(4);
    Ok(SourceView {
        id: source.id.uuid(),
        enterprise_id: source.enterprise_id.uuid(),
        code: source.code.clone(),
        name: source.name.clone(),
        unit_kind: source.unit_kind,
        unit_kind_label: source.unit_kind.label_zh().to_owned(),
        alpha: inputs.alpha,
        chemicals: inputs.chemicals,
        s: source.s_centi as f64 / 100.0,
        r: source.r_centi as f64 / 100.0,
        grade: source.grade,
        grade_label: record.grade_label().to_owned(),
        risk_level: risk_level_of_grade(grade).into(),
        assessed_on: source.assessed_on,
        next_assessment_due: record.next_assessment(settings).map(|(on, _)| on),
        assessment_cause: record.next_assessment(settings).map(|(_, cause)| cause),
        assessment_due: record
            .next_assessment(settings)
            .is_some_and(|(next, _)| next <= today),
        persons: PersonKind::ALL
            .into_iter()
            .filter_map(|kind| record.current(kind))
            .map(PersonView::from)
            .collect(),
        missing: record.missing(),
        history: record.persons.iter().map(PersonView::from).collect(),
        drills: DrillKind::ALL
            .into_iter()
            .map(|kind| DrillView {
                kind,
                label: kind.label_zh().to_owned(),
                last_held_on: record.last_drill(kind),
                next_due: record.next_drill(kind, settings.drill_months(kind), today),
                due: record.next_drill(kind, settings.drill_months(kind), today) <= today,
            })
            .collect(),
        assessments: None,
        hazards: None,
        object_id: source.object_id.uuid(),
        unit_id: source.unit_id.uuid(),
        updated_at: source.updated_at.and_utc(),
    })
}

/// A kind of drill of a source.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DrillView {
    pub kind: DrillKind,
    /// 专项应急预案演练 / 现场处置方案演练
    pub label: String,
    pub last_held_on: Option<NaiveDate>,
    /// `major_sources.special_plan_drill_months` (12) or
    /// `onsite_plan_drill_months` (6) after the last; the day the source
    /// was registered when none is recorded.
    pub next_due: NaiveDate,
    /// `next_due` is today or past (the park's day).
    pub due: bool,
}

/// A hazard a source's duty checks found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceHazardView {
    pub id: Uuid,
    pub number: String,
    pub title: String,
    pub state: crate::domain::hazard::HazardState,
    pub deadline: NaiveDate,
    pub found_at: DateTime<Utc>,
}

/// One source with the hazards its duty checks found.
fn full_view(
    conn: &mut crate::db::DbConnection,
    record: &SourceRecord,
    rules: Rules,
) -> Result<SourceView, AppError> {
    let mut source = view(record, rules)?;
    source.assessments = Some(
        crate::db::major_sources::assessments_of(conn, record.source.id)?
            .into_iter()
            .map(SourceAssessmentView::from)
            .collect(),
    );
    let found = crate::db::major_sources::hazards_of_unit(conn, record.source.unit_id, 50)?;
    source.hazards = Some(
        found
            .into_iter()
            .map(|h| SourceHazardView {
                id: h.id.uuid(),
                number: h.number,
                title: h.title,
                state: h.state,
                deadline: h.deadline,
                found_at: h.found_at.and_utc(),
            })
            .collect(),
    );
    Ok(source)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceList {
    pub items: Vec<SourceView>,
}

fn source_location(id: Uuid) -> String {
    format!("/api/v1/major-sources/{id}")
}

/// Registers a major hazard source (重大危险源) of an enterprise: its code,
/// name, unit kind, exposure factor α and dangerous chemicals (q, Q, β).
/// S, R and the grade are worked out (GB 18218-2018); a set of chemicals
/// with S below 1 is refused. The source becomes a risk analysis object
/// of the register with a unit holding its 包保 duties.
#[utoipa::path(
    post,
    path = "/api/v1/major-sources",
    operation_id = "create_major_source",
    tag = "major-sources",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = NewSource,
    responses(
        (status = 201, body = SourceView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_source(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Body<NewSource>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageRiskRegister)?;
    let body = body.into_inner();
    let (now, today) = {
        let now = state.park.now();
        (now.utc, now.park_today)
    };
    let sent = serde_json::to_value(&body).map_err(|e| AppError::Internal(e.into()))?;
    let settings = state.settings.major_sources.clone();
    create_idempotently(&state, &req, &caller, &sent, move |conn| {
        let row = service::register_source(conn, &caller, &body, &settings, (now, today))?;
        let record = service::source(conn, &caller, row.id.uuid())?;
        Created::new(
            &view(&record, (&settings, today))?,
            source_location(row.id.uuid()),
            None,
        )
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SourcesQuery {
    /// Only this enterprise's (an enterprise contact always gets its own).
    pub enterprise_id: Option<Uuid>,
}

/// The major hazard sources the caller may see, by enterprise and code,
/// each with its persons and the kinds nobody holds.
#[utoipa::path(
    get,
    path = "/api/v1/major-sources",
    operation_id = "list_major_sources",
    tag = "major-sources",
    security(("bearer" = [])),
    params(SourcesQuery),
    responses(
        (status = 200, body = SourceList),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_sources(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<SourcesQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadRiskRegister)?;
    let settings = state.settings.major_sources.clone();
    let today = state.park.now().park_today;
    let enterprise = query.enterprise_id;
    let items = state
        .db
        .run(move |conn| {
            service::sources(conn, &caller, enterprise)?
                .iter()
                .map(|r| view(r, (&settings, today)))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(SourceList { items }))
}

/// One major hazard source with its persons, current and past.
#[utoipa::path(
    get,
    path = "/api/v1/major-sources/{id}",
    operation_id = "get_major_source",
    tag = "major-sources",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = SourceView),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_source(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadRiskRegister)?;
    let settings = state.settings.major_sources.clone();
    let today = state.park.now().park_today;
    let id = path.into_inner();
    let source = state
        .db
        .run(move |conn| {
            let record = service::source(conn, &caller, id)?;
            full_view(conn, &record, (&settings, today))
        })
        .await?;
    Ok(HttpResponse::Ok().json(source))
}

/// New inputs of a source.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InputsChange {
    /// α: the exposure factor (2.0, 1.5, 1.2, 1.0 or 0.5).
    pub alpha: f64,
    #[schema(min_items = 1, max_items = 200)]
    pub chemicals: Vec<Chemical>,
    /// The day of the safety assessment these come from; the last one is
    /// kept when absent.
    pub assessed_on: Option<NaiveDate>,
}

/// Changes a source's inputs (α, the chemicals): S, R, the grade and the
/// level of its 包保 duties are worked out again; the change is an event of
/// the enterprise with the grade before and after.
#[utoipa::path(
    put,
    path = "/api/v1/major-sources/{id}/inputs",
    operation_id = "change_major_source_inputs",
    tag = "major-sources",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = InputsChange,
    responses(
        (status = 200, body = SourceView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn change_inputs(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Body<InputsChange>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageRiskRegister)?;
    let id = path.into_inner();
    let body = body.into_inner();
    let inputs = SourceInputs {
        alpha: body.alpha,
        chemicals: body.chemicals,
    };
    let (now, today) = {
        let now = state.park.now();
        (now.utc, now.park_today)
    };
    let settings = state.settings.major_sources.clone();
    let source = state
        .db
        .run(move |conn| {
            service::change_inputs(
                conn,
                &caller,
                id,
                (&inputs, body.assessed_on),
                &settings,
                (now, today),
            )?;
            view(&service::source(conn, &caller, id)?, (&settings, today))
        })
        .await?;
    Ok(HttpResponse::Ok().json(source))
}

/// Appoints a 包保责任人 of a kind for a source, replacing whoever held it
/// (kept in the history). Their duty checks become a check task on the
/// kind's frequency (`major_sources.duty_frequency`), given to them when
/// they have an account, else to the enterprise's contacts; the
/// predecessor's task is retired.
#[utoipa::path(
    post,
    path = "/api/v1/major-sources/{id}/persons",
    operation_id = "appoint_major_source_person",
    tag = "major-sources",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = NewPerson,
    responses(
        (status = 201, body = PersonView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn appoint_person(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Body<NewPerson>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageRiskRegister)?;
    let id = path.into_inner();
    let body = body.into_inner();
    let now = state.park.now();
    let sent = serde_json::to_value(&body).map_err(|e| AppError::Internal(e.into()))?;
    let settings = state.settings.major_sources.clone();
    create_idempotently(&state, &req, &caller, &sent, move |conn| {
        let row = service::appoint(
            conn,
            &caller,
            id,
            &body,
            &settings,
            (now.utc, now.park_today),
        )?;
        Created::new(&PersonView::from(&row), source_location(id), None)
    })
    .await
}

/// A drill recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DrillRecordView {
    pub id: Uuid,
    pub source_id: Uuid,
    pub kind: DrillKind,
    pub held_on: NaiveDate,
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// Records a drill of a source's special emergency plan (专项应急预案,
/// due every `major_sources.special_plan_drill_months`, 12) or its on-site
/// plan (现场处置方案, every `onsite_plan_drill_months`, 6), held on a past
/// day; the next one falls due from it (《生产安全事故应急预案管理办法》 Art.
/// 33).
#[utoipa::path(
    post,
    path = "/api/v1/major-sources/{id}/drills",
    operation_id = "record_major_source_drill",
    tag = "major-sources",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = NewDrill,
    responses(
        (status = 201, body = DrillRecordView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn record_drill(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Body<NewDrill>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageRiskRegister)?;
    let id = path.into_inner();
    let body = body.into_inner();
    let now = state.park.now();
    let sent = serde_json::to_value(&body).map_err(|e| AppError::Internal(e.into()))?;
    create_idempotently(&state, &req, &caller, &sent, move |conn| {
        let row = service::record_drill(conn, &caller, id, &body, (now.utc, now.park_today))?;
        Created::new(
            &DrillRecordView {
                id: row.id.uuid(),
                source_id: row.source_id.uuid(),
                kind: row.kind,
                held_on: row.held_on,
                note: row.note,
                recorded_at: row.recorded_at.and_utc(),
            },
            source_location(id),
            None,
        )
    })
    .await
}

/// The published duties of each kind of 包保责任人 (应急厅〔2021〕12号
/// articles 4–6), numbered as published: what each kind's duty check
/// covers and what `failed_items` numbers refer to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DutyLists {
    pub principal: DutyList,
    pub technical: DutyList,
    pub operational: DutyList,
}

#[utoipa::path(
    get,
    path = "/api/v1/reference/baobao-duties",
    operation_id = "get_baobao_duties",
    tag = "reference",
    security(("bearer" = [])),
    responses((status = 200, body = DutyLists))
)]
pub async fn duty_lists(_caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(DutyLists {
        principal: duties(PersonKind::Principal).clone(),
        technical: duties(PersonKind::Technical).clone(),
        operational: duties(PersonKind::Operational).clone(),
    })
}

/// The 包保责任公示牌 of a source: a printable page with its name, code,
/// grade and the three persons with their posts and phones.
#[utoipa::path(
    get,
    path = "/api/v1/major-sources/{id}/placard",
    operation_id = "get_major_source_placard",
    tag = "major-sources",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, content_type = "text/html", body = String),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn placard(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadRiskRegister)?;
    let id = path.into_inner();
    let record = state
        .db
        .run(move |conn| service::source(conn, &caller, id))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_SECURITY_POLICY,
            placard_policy(),
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-cache"))
        .body(placard_html(&record)))
}

fn placard_html(record: &SourceRecord) -> String {
    let source = &record.source;
    let rows: String = PersonKind::ALL
        .into_iter()
        .map(|kind| match record.current(kind) {
            Some(p) => format!(
                "<tr><th scope=\"row\">{}</th><td data-label=\"姓名\">{}</td><td data-label=\"职务\">{}</td><td data-label=\"联系电话\">{}</td></tr>",
                kind.label_zh(),
                escape_html(&p.name),
                escape_html(&p.post),
                escape_html(&p.phone)
            ),
            None => format!(
                "<tr class=\"missing\"><th scope=\"row\">{}</th><td colspan=\"3\">未明确</td></tr>",
                kind.label_zh()
            ),
        })
        .collect();
    format!(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>重大危险源安全包保责任公示牌 · {name}</title>
<style>{style}</style></head>
<body><main class="board">
<h1>重大危险源安全包保责任公示牌</h1>
<p class="meta"><span>名称：{name}</span><span>编号：{code}</span><span class="grade">等级：{grade}</span><span>{kind}</span></p>
<table><thead><tr><th scope="col">包保责任</th><th scope="col">姓名</th><th scope="col">职务</th><th scope="col">联系电话</th></tr></thead>
<tbody>{rows}</tbody></table>
<footer>依据《危险化学品企业重大危险源安全包保责任制办法（试行）》（应急厅〔2021〕12号）</footer>
</main></body></html>
"#,
        name = escape_html(&source.name),
        code = escape_html(&source.code),
        grade = record.grade_label(),
        kind = source.unit_kind.label_zh(),
        style = PLACARD_STYLE,
    )
}

/// The placard's stylesheet, inline so the page prints alone.
const PLACARD_STYLE: &str = r#"body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", sans-serif; margin: 0; padding: 24px; color: #111; }
.board { max-width: 900px; margin: 0 auto; border: 6px solid #b71c1c; padding: 24px 32px; }
h1 { margin: 0 0 8px; font-size: 2.2rem; text-align: center; color: #b71c1c; letter-spacing: .1em; }
.meta { display: flex; flex-wrap: wrap; gap: 8px 24px; justify-content: center; font-size: 1.25rem; margin: 16px 0 24px; }
.grade { font-weight: bold; color: #b71c1c; }
table { width: 100%; border-collapse: collapse; font-size: 1.3rem; }
th, td { border: 2px solid #333; padding: 12px; text-align: center; }
thead th { background: #fbe9e7; }
tr.missing td { color: #b71c1c; font-weight: bold; }
footer { margin-top: 16px; font-size: 1rem; color: #444; text-align: center; }
@media print { body { padding: 0; } }
@media (max-width: 600px) {
  body { padding: 8px; }
  .board { padding: 16px; border-width: 4px; }
  h1 { font-size: 1.3rem; letter-spacing: 0; }
  .meta { font-size: 1.05rem; flex-direction: column; align-items: center; gap: 4px; }
  table, tbody, tr, th, td { display: block; width: auto; }
  thead { display: none; }
  tr { border: 2px solid #333; margin-bottom: 12px; }
  th, td { border: 0; padding: 6px 12px; text-align: left; font-size: 1.1rem; }
  tbody th { background: #fbe9e7; font-size: 1.2rem; }
  td[data-label]::before { content: attr(data-label) "："; color: #555; }
}
"#;

/// The placard's stylesheet as a CSP source: its hash.
pub fn placard_style_source() -> String {
    use base64::Engine;
    use sha2::Digest;
    let hash =
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(PLACARD_STYLE));
    format!("'sha256-{hash}'")
}

/// The placard's `Content-Security-Policy`: nothing may load or run, but
/// its own stylesheet (by its hash) applies.
pub fn placard_policy() -> &'static str {
    static POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| {
        format!(
            "default-src 'none'; style-src {}; frame-ancestors 'none'; \
             base-uri 'none'; form-action 'none'",
            placard_style_source()
        )
    })
}

/// 三类包保责任人分类统计: per major hazard source, enterprise and the
/// park, for each kind of 包保责任人 (主要 / 技术 / 操作), duty checks
/// planned so far, done on time, done late, missed, paused and due, the
/// completion rate, hazards found and rectified; the sources whose
/// persons are missing or behind. No person's name or phone is in it.
#[utoipa::path(
    get,
    path = "/api/v1/analytics/major-sources",
    operation_id = "get_major_source_duty_figures",
    tag = "analytics",
    security(("bearer" = [])),
    params(CheckFiguresQuery, ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, headers(("ETag" = String)),
         description = "JSON by default; `?format=csv|xlsx` for a table",
         content(
             (DutyFigures = "application/json"),
             (String = "text/csv"),
             (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 304, description = "Nothing changed since the ETag sent"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn duty_figures(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    query: web::Query<CheckFiguresQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadAnalytics)?;
    let scope = caller.figures_scope(query.enterprise_id)?;
    let (from, to) = query.period(state.park.now().park_today);
    let format = query.format.unwrap_or_default();
    let behind = state.settings.major_sources.behind_below_rate;
    let key = format!("major-sources|{scope:?}|{from}|{to}");
    figures_answer(state, req, key, format, move |conn, context| {
        let sources = crate::db::major_sources::sources(conn, scope.map(Into::into))?;
        let records = service::with_persons(conn, sources)?;
        let figures: DutyFigures =
            duty_figures::figures(conn, &records, (from, to), behind, context)?;
        Ok((serde_json::to_vec(&figures), figures.table()))
    })
    .await
}

/// The wall screen's dual-prevention panels: 双重预防运行 (the park's check
/// completion today and this month, missed checks on 重大/较大 units, units
/// by level and the first eight 重大/较大 units) and 重大危险源包保 (sources
/// by grade, each kind of 包保责任人's completion this month, the sources
/// whose persons are missing or behind). Aggregates only, for display keys
/// too; the `ETag` changes with the data and every minute: send it back in
/// `If-None-Match` for a `304`.
#[utoipa::path(
    get,
    path = "/api/v1/stats/dual-prevention",
    operation_id = "get_dual_prevention_board",
    tag = "stats",
    security(("bearer" = [])),
    responses(
        (status = 200, headers(("ETag" = String)), body = PreventionBoard),
        (status = 304, description = "Nothing changed since the ETag sent")
    )
)]
pub async fn prevention_board(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadParkFigures)?;
    let behind = state.settings.major_sources.behind_below_rate;
    figures_answer(
        state,
        req,
        "dual-prevention".to_owned(),
        crate::http::analytics::TableFormat::Json,
        move |conn, context| {
            let board = crate::app::prevention_board::board(conn, behind, context)?;
            let table = crate::app::analytics::Table {
                title: "双重预防运行",
                columns: Vec::new(),
                rows: Vec::new(),
            };
            Ok((serde_json::to_vec(&board), table))
        },
    )
    .await
}

/// A safety assessment of a source, with its report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceAssessmentView {
    pub id: Uuid,
    pub source_id: Uuid,
    pub assessed_on: NaiveDate,
    pub file_name: String,
    /// Detected from the bytes.
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub caption: Option<String>,
    pub uploaded_at: DateTime<Utc>,
    /// Where the report's bytes are.
    pub download_url: String,
}

impl From<AssessmentRow> for SourceAssessmentView {
    fn from(row: AssessmentRow) -> Self {
        SourceAssessmentView {
            id: row.id.uuid(),
            source_id: row.source_id.uuid(),
            download_url: format!("/api/v1/major-source-assessments/{}", row.id.uuid()),
            assessed_on: row.assessed_on,
            file_name: row.file_name,
            content_type: row.content_type,
            size_bytes: row.size_bytes,
            sha256: row.sha256,
            caption: row.caption,
            uploaded_at: row.uploaded_at.and_utc(),
        }
    }
}

/// The multipart form of an assessment report (for the documentation: the
/// handler reads the parts as they stream in).
#[derive(Debug, utoipa::ToSchema)]
#[expect(dead_code, reason = "describes the form for OpenAPI; never built")]
pub struct SourceAssessmentForm {
    /// The report. PDF, or a photo of it, by default
    /// (`attachments.allowed_types`), judged from the bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The day of the assessment (park-local), not in the future.
    #[schema(value_type = String, format = Date)]
    assessed_on: NaiveDate,
    /// A short description (the assessing body, the report's number), up
    /// to 500 characters.
    #[schema(max_length = 500)]
    caption: Option<String>,
}

/// What the fingerprint of an idempotent report upload covers.
#[derive(Debug, Serialize)]
struct AssessmentFingerprint<'a> {
    assessed_on: NaiveDate,
    caption: Option<&'a str>,
    file_name: &'a str,
    sha256: &'a str,
}

/// Records a safety assessment (安全评估) of a source with its report as
/// a file: the source's last assessment moves to its day when later, and
/// the next falls due `major_sources.assessment_every_years` (3) after it
/// (《危险化学品重大危险源监督管理暂行规定》 Art. 11). The file is refused
/// with `413` past the per-file limit or the source's limit
/// (`attachments.max_hazard_bytes`), with `415` when its bytes show a type
/// that is not allowed.
#[utoipa::path(
    post,
    path = "/api/v1/major-sources/{id}/assessments",
    operation_id = "record_major_source_assessment",
    tag = "major-sources",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")
    ),
    request_body(content = SourceAssessmentForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = SourceAssessmentView, headers(("Location" = String))),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Malformed or truncated multipart body"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn record_assessment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageRiskRegister)?;
    let id = path.into_inner();
    let held = state
        .db
        .run(move |conn| service::room_for_assessment(conn, &caller, id))
        .await?;
    let limit = FileLimit::new(
        &state,
        held,
        (
            "the source's report limit",
            "该重大危险源评估报告的存储上限",
        ),
    );
    let form = attachments::receive_form(&state, payload, &limit, FormParts::Assessment).await?;
    let now = state.park.now();
    attachments::to_the_end(async move {
        let assessed_on = form
            .assessed_on
            .ok_or_else(|| AppError::invalid("assessed_on", crate::messages::Rule::Required))?;
        let fingerprint = serde_json::to_value(AssessmentFingerprint {
            assessed_on,
            caption: form.caption.as_deref(),
            file_name: &form.file.file_name,
            sha256: &form.file.received.sha256,
        })
        .map_err(|e| AppError::Internal(e.into()))?;
        let new = service::NewAssessment {
            assessed_on,
            sha256: form.file.received.sha256.clone(),
            size_bytes: form.file.received.size,
            content_type: form.file.content_type.to_owned(),
            file_name: form.file.file_name.clone(),
            caption: form.caption.clone(),
        };
        let max_bytes = state.settings.attachments.max_hazard_bytes;
        let received = form.file.received;
        attachments::store_with_row(&state, &req, caller, received, &fingerprint, move |conn| {
            let row = service::record_assessment(
                conn,
                &caller,
                id,
                new,
                (max_bytes, now.utc, now.park_today),
            )?;
            let view = SourceAssessmentView::from(row);
            let location = view.download_url.clone();
            Created::new(&view, location, None)
        })
        .await
    })
    .await
}

/// Downloads an assessment report's bytes, with its detected
/// `Content-Type`, its name, and its SHA-256 as `ETag` (`If-None-Match` →
/// `304`).
#[utoipa::path(
    get,
    path = "/api/v1/major-source-assessments/{id}",
    operation_id = "download_major_source_assessment",
    tag = "major-sources",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path),
        ("If-None-Match" = Option<String>, Header, description = "The ETag held; unchanged → 304")
    ),
    responses(
        (status = 200, description = "The report's bytes", content_type = "application/octet-stream", body = Vec<u8>,
         headers(("ETag" = String, description = "The SHA-256 of the bytes"))),
        (status = 304, description = "Unchanged"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn download_assessment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadRiskRegister)?;
    let id = path.into_inner();
    let row = state
        .db
        .run(move |conn| service::visible_assessment(conn, &caller, id))
        .await?;
    let file = StoredFile {
        what: format!("assessment report {}", row.id),
        sha256: row.sha256,
        content_type: row.content_type,
        file_name: row.file_name,
    };
    attachments::file_response(&state, &req, file).await
}
