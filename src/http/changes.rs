//! The change feed over HTTP: `GET /api/v1/changes?after=&limit=` for a
//! system that syncs by polling.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::changes::{self, Change};
use crate::db::Id;
use crate::domain::access::{Caller, Capability};
use crate::error::{AppError, FieldError};
use crate::http::state::AppState;
use crate::http::{decode_cursor, Page, Paginated};
use crate::messages::Rule;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A step in a hazard's history (`GET /hazards/{hazard_id}/events`).
    HazardEvent,
    /// A change of an enterprise (`GET /enterprises/{enterprise_id}/events`).
    EnterpriseEvent,
    /// A safety-risk assessment (`GET /enterprises/{enterprise_id}/assessments`).
    Assessment,
    /// A change of the risk register (asked for with `kinds`): a node
    /// added (`object_added`, `unit_added`, `event_added`,
    /// `measure_added`, `task_added`, `unit_paused`; `id` is the node's),
    /// or edited or retired (`unit_edited`, `task_retired`, …; `id` is the
    /// revision's, `GET /enterprises/{enterprise_id}/risk-register/revisions`).
    Register,
    /// A check record (asked for with `kinds`): `normal` or `abnormal`,
    /// with the hazard an abnormal one raised.
    CheckRecord,
}

impl ChangeKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::HazardEvent => "hazard_event",
            Self::EnterpriseEvent => "enterprise_event",
            Self::Assessment => "assessment",
            Self::Register => "register",
            Self::CheckRecord => "check_record",
        }
    }

    /// What the feed lists when `kinds` is not given: the kinds it has
    /// always listed, so a client written before the others keeps working.
    const DEFAULT: [ChangeKind; 3] = [Self::HazardEvent, Self::EnterpriseEvent, Self::Assessment];
    const ALL: [ChangeKind; 5] = [
        Self::HazardEvent,
        Self::EnterpriseEvent,
        Self::Assessment,
        Self::Register,
        Self::CheckRecord,
    ];
}

/// One change, in commit order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangeView {
    /// The change's place in commit order; pass the last one seen as
    /// `?after=` to continue.
    pub seq: i64,
    pub kind: ChangeKind,
    /// The event's or the assessment's id.
    pub id: Uuid,
    pub enterprise_id: Uuid,
    /// For a hazard event.
    pub hazard_id: Option<Uuid>,
    /// The event's action (`report`, `plan`, `accept`, …; `assessed`).
    pub action: String,
    pub recorded_at: DateTime<Utc>,
}

impl TryFrom<Change> for ChangeView {
    type Error = AppError;

    fn try_from(c: Change) -> Result<ChangeView, AppError> {
        let Some(kind) = ChangeKind::ALL.into_iter().find(|k| k.as_str() == c.kind) else {
            return Err(AppError::Internal(anyhow::anyhow!(
                "change {} has kind {}",
                c.seq,
                c.kind
            )));
        };
        Ok(ChangeView {
            seq: c.seq,
            kind,
            id: c.ref_id.uuid(),
            enterprise_id: c.enterprise_id.uuid(),
            hazard_id: c.hazard_id.map(Id::uuid),
            action: c.action,
            recorded_at: c.recorded_at.and_utc(),
        })
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChangesQuery {
    /// The last `seq` (or `next_cursor`) seen; absent: from the start.
    #[param(pattern = r"^(0|[1-9][0-9]{0,17})(?![\s\S])")]
    pub after: Option<String>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The kinds to list, comma-separated (`hazard_event`,
    /// `enterprise_event`, `assessment`, `register`, `check_record`);
    /// absent: the first three.
    #[param(
        pattern = r"^(hazard_event|enterprise_event|assessment|register|check_record)(,(hazard_event|enterprise_event|assessment|register|check_record))*(?![\s\S])"
    )]
    pub kinds: Option<String>,
}

impl ChangesQuery {
    fn kinds(&self) -> Result<Vec<&'static str>, AppError> {
        let Some(list) = &self.kinds else {
            return Ok(ChangeKind::DEFAULT.map(ChangeKind::as_str).to_vec());
        };
        list.split(',')
            .map(|name| {
                ChangeKind::ALL
                    .into_iter()
                    .find(|k| k.as_str() == name.trim())
                    .map(ChangeKind::as_str)
                    .ok_or_else(|| {
                        AppError::invalid(
                            "kinds",
                            FieldError::new(Rule::NotAChangeKind).with("kind", name),
                        )
                    })
            })
            .collect()
    }
}

/// Every hazard event, enterprise change and assessment (and on request
/// every change of the risk register and every check record) in commit order,
/// numbered so that a consumer keeping the last number it saw misses
/// nothing and sees nothing twice, across restarts and with several
/// instances writing. An enterprise contact sees its own enterprise's.
/// `next_cursor` is the last `seq` of the page (`null` when the page is
/// empty: keep the cursor you have and poll again).
#[utoipa::path(
    get,
    path = "/api/v1/changes",
    tag = "changes",
    security(("bearer" = [])),
    params(ChangesQuery),
    responses(
        (status = 200, body = Paginated<ChangeView>),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_changes(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ChangesQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadHazards)?;
    let page = Page::new(query.limit)?;
    let after = decode_cursor::<i64>(query.after.as_deref())?.unwrap_or(0);
    if after < 0 {
        return Err(AppError::invalid("after", Rule::NotFeedPosition));
    }
    let scope = caller.scope().map(Id::from);
    let kinds = query.kinds()?;
    let rows = state
        .db
        .run(move |conn| changes::after(conn, after, (scope, &kinds), page.limit))
        .await?;
    let next_cursor = rows.last().map(|c| c.seq.to_string());
    let items = rows
        .into_iter()
        .map(ChangeView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(Paginated { items, next_cursor }))
}
