//! Enterprises: registration with a checked credit code, status, contacts.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app;
use crate::app::enterprises::{DirectoryQuery, Registration};
use crate::app::grading::Standing;
use crate::db::enterprises::{self, Enterprise, EnterpriseChanges};
use crate::db::Id;
use crate::domain::access::{Caller, Capability};
use crate::domain::credit_code::CreditCode;
use crate::domain::enterprise::EnterpriseStatus;
use crate::domain::grading::Grade;
use crate::domain::text::{required_text, MAX_LINE};
use crate::error::{AppError, FieldErrors};
use crate::http::body::Body;
use crate::http::conditional::IfMatch;
use crate::http::disclosure::Disclose;
use crate::http::state::AppState;
use crate::http::{create_idempotently, decode_id_cursor, with_etag, Created, Page, Paginated};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnterpriseView {
    pub id: Uuid,
    pub name: String,
    /// 统一社会信用代码 (GB 32100-2015).
    pub credit_code: String,
    pub status: EnterpriseStatus,
    /// Personal data: absent for roles that read the directory only
    /// (viewers).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub contact_emails: Option<Vec<String>>,
    /// Four-colour risk grade from the assessment in force on `grade_as_of`;
    /// `null` when the enterprise had not been assessed by then.
    pub grade: Option<Grade>,
    /// `assessed`, or `not_assessed` when `grade` is `null`.
    pub grade_status: &'static str,
    /// The day the grade is read for (today unless `?as_of=` was given).
    pub grade_as_of: NaiveDate,
    pub last_assessed_on: Option<NaiveDate>,
    pub current_assessment_id: Option<Uuid>,
    /// An open major hazard, or more overdue hazards than configured: the
    /// grade deserves a review (it changes only through an assessment).
    pub review_suggested: bool,
    pub review_reasons: Vec<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Disclose for EnterpriseView {
    /// The contacts' addresses go.
    fn aggregate_only(mut self) -> EnterpriseView {
        self.contact_emails = None;
        self
    }
}

impl EnterpriseView {
    pub fn build(
        e: Enterprise,
        standing: Option<&Standing>,
        as_of: NaiveDate,
    ) -> Result<EnterpriseView, AppError> {
        let corrupt = |what: &str| {
            AppError::Internal(anyhow::anyhow!("enterprise {} has a bad {what}", e.id))
        };
        let assessment = standing.and_then(|s| s.assessment.as_ref());
        let grade = standing.and_then(Standing::grade);
        let review_reasons = standing
            .map(|s| s.review_reasons.clone())
            .unwrap_or_default();
        Ok(EnterpriseView {
            id: e.id.uuid(),
            status: e.status,
            contact_emails: Some(
                serde_json::from_str(&e.contact_emails).map_err(|_| corrupt("contact_emails"))?,
            ),
            name: e.name,
            credit_code: e.credit_code,
            grade,
            grade_status: if grade.is_some() {
                "assessed"
            } else {
                "not_assessed"
            },
            grade_as_of: as_of,
            last_assessed_on: assessment.map(|a| a.assessed_on),
            current_assessment_id: assessment.map(|a| a.id.uuid()),
            review_suggested: !review_reasons.is_empty(),
            review_reasons,
            version: e.version,
            created_at: e.created_at.and_utc(),
            updated_at: e.updated_at.and_utc(),
        })
    }
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEnterprise {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// 18 characters; the check character is verified.
    #[schema(
        pattern = r"^[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy]{18}[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?![\s\S])"
    )]
    pub credit_code: String,
    pub status: EnterpriseStatus,
    #[serde(default)]
    pub contact_emails: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEnterprise {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(
        pattern = r"^[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy]{18}[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?![\s\S])"
    )]
    pub credit_code: Option<String>,
    pub status: Option<EnterpriseStatus>,
    pub contact_emails: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListEnterprisesQuery {
    pub status: Option<EnterpriseStatus>,
    /// Only enterprises of this grade on `as_of`.
    pub grade: Option<Grade>,
    /// Read grades as of this day (default today, park time).
    pub as_of: Option<NaiveDate>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\s\S])")]
    pub cursor: Option<String>,
}

fn parse_credit_code(input: &str) -> Result<CreditCode, AppError> {
    CreditCode::parse(input).map_err(|e| AppError::invalid("credit_code", e))
}

/// Registers an enterprise (admin, supervisor).
#[utoipa::path(
    post,
    path = "/api/v1/enterprises",
    tag = "enterprises",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = CreateEnterprise,
    responses(
        (status = 201, body = EnterpriseView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_enterprise(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Body<CreateEnterprise>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageEnterprises)?;
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    let name = required_text("name", &body.name, MAX_LINE);
    let name = AppError::gather(&mut errors, "name", name);
    let credit_code = parse_credit_code(&body.credit_code);
    let credit_code = AppError::gather(&mut errors, "credit_code", credit_code);
    let contact_emails = app::enterprises::contact_emails(&body.contact_emails);
    let contact_emails = AppError::gather(&mut errors, "contact_emails", contact_emails);
    let (Some(name), Some(credit_code), Some(contact_emails)) = (name, credit_code, contact_emails)
    else {
        return Err(AppError::invalid_fields(errors));
    };
    let registration = Registration {
        name,
        credit_code,
        status: body.status,
        contact_emails,
    };
    let today = state.park.now().park_today;
    create_idempotently(&state, &req, &caller, &body, move |conn| {
        let row = app::enterprises::register(conn, &caller, registration, crate::clock::now_utc())?;
        let view = EnterpriseView::build(row, None, today)?;
        let location = format!("/api/v1/enterprises/{}", view.id);
        Created::new(&view, location, Some(view.version))
    })
    .await
}

/// Lists enterprises; an enterprise contact sees only its own.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises",
    tag = "enterprises",
    security(("bearer" = [])),
    params(ListEnterprisesQuery),
    responses((status = 200, body = Paginated<EnterpriseView>))
)]
pub async fn list_enterprises(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListEnterprisesQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadEnterprises)?;
    let page = Page::new(query.limit)?;
    let after = decode_id_cursor(query.cursor.as_deref())?;
    let today = state.park.now().park_today;
    let as_of = query.as_of.unwrap_or(today);
    let asked = DirectoryQuery {
        only: caller.scope().map(Id::from),
        status: query.status,
        grade: query.grade,
        as_of,
        today,
    };
    let grading = state.settings.grading.clone();
    let (rows, standings) = state
        .db
        .run(move |conn| {
            app::enterprises::directory_page(conn, &grading, &asked, after, page.fetch())
        })
        .await?;
    let views = rows
        .into_iter()
        .map(|e| {
            let standing = standings.get(&e.id);
            EnterpriseView::build(e, standing, as_of).map(|v| v.seen_by(&caller))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(page.finish(views, |e| e.id.to_string(), |e| e)))
}

/// One enterprise; another enterprise's is `404` to an enterprise contact.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{id}",
    tag = "enterprises",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), AsOfQuery),
    responses(
        (status = 200, body = EnterpriseView, headers(("ETag" = String))),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_enterprise(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<AsOfQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadEnterprises)?;
    let id = path.into_inner();
    if !caller.can_see_enterprise(id) {
        return Err(AppError::NotFound("enterprise"));
    }
    let today = state.park.now().park_today;
    let as_of = query.as_of.unwrap_or(today);
    let view = load_view(&state, id, as_of, today).await?.seen_by(&caller);
    Ok(with_etag(StatusCode::OK, view.version, &view))
}

async fn load_view(
    state: &AppState,
    id: Uuid,
    as_of: NaiveDate,
    today: NaiveDate,
) -> Result<EnterpriseView, AppError> {
    let grading = state.settings.grading.clone();
    let (row, standing) = state
        .db
        .run(move |conn| {
            let id = Id::from(id);
            let row = enterprises::find(conn, id)?.ok_or(AppError::NotFound("enterprise"))?;
            let mut standings = app::grading::standings(conn, &grading, as_of, today, Some(id))?;
            Ok((row, standings.remove(&id)))
        })
        .await?;
    EnterpriseView::build(row, standing.as_ref(), as_of)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    /// Read the grade as of this day (default today, park time).
    pub as_of: Option<NaiveDate>,
}

/// Changes an enterprise (admin, supervisor); honours `If-Match`.
#[utoipa::path(
    patch,
    path = "/api/v1/enterprises/{id}",
    tag = "enterprises",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateEnterprise,
    responses(
        (status = 200, body = EnterpriseView),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn update_enterprise(
    state: web::Data<AppState>,
    caller: Caller,
    if_match: IfMatch,
    path: web::Path<Uuid>,
    body: Body<UpdateEnterprise>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageEnterprises)?;
    let if_match = if_match.0;
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    let name = body
        .name
        .as_deref()
        .map(|n| required_text("name", n, MAX_LINE))
        .transpose();
    let name = AppError::gather(&mut errors, "name", name);
    let credit_code = body
        .credit_code
        .as_deref()
        .map(|c| parse_credit_code(c).map(|code| code.as_str().to_owned()))
        .transpose();
    let credit_code = AppError::gather(&mut errors, "credit_code", credit_code);
    let contact_emails = body
        .contact_emails
        .as_deref()
        .map(app::enterprises::contact_emails)
        .transpose();
    let contact_emails = AppError::gather(&mut errors, "contact_emails", contact_emails);
    let (Some(name), Some(credit_code), Some(contact_emails)) = (name, credit_code, contact_emails)
    else {
        return Err(AppError::invalid_fields(errors));
    };
    let changes = EnterpriseChanges {
        name,
        credit_code,
        status: body.status,
        contact_emails,
    };
    let enterprise_id = path.into_inner();
    let now = crate::clock::now_utc();
    state
        .db
        .write(move |conn| {
            app::enterprises::update(conn, &caller, enterprise_id, if_match, changes, now)
        })
        .await?;
    let today = state.park.now().park_today;
    let view = load_view(&state, enterprise_id, today, today).await?;
    Ok(with_etag(StatusCode::OK, view.version, &view))
}
