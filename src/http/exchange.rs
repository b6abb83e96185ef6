//! The province's exchange documents over HTTP: `GET
//! /api/v1/exchange/{table}`, one table of the dual prevention interface at
//! a time, along the change feed.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::app::exchange::{self, ExchangeDocument, Writer};
use crate::db::Id;
use crate::domain::access::{Caller, Capability};
use crate::domain::exchange::ExchangeTable;
use crate::error::AppError;
use crate::http::state::AppState;
use crate::http::{decode_cursor, Page};
use crate::messages::Rule;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExchangeQuery {
    /// The `cursor` of the last document taken; absent: from the start
    /// (everything the table holds, in the order it was made).
    #[param(pattern = r"^(0|[1-9][0-9]{0,17})(?![\s\S])")]
    pub after: Option<String>,
    /// How many changes a document covers, 1–500 (default 50). A
    /// retirement brings everything below its node, so a document may
    /// hold more rows.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Only this enterprise (an enterprise contact always gets its own).
    pub enterprise_id: Option<Uuid>,
}

/// One table of the province's dual prevention interface
/// (双重预防机制数据交换), in its table and field names and codes: the
/// register's units, events and measures, the check tasks, their records,
/// the units' stops and the hazards (`risk_unit`, `risk_event`,
/// `control_measure`, `check_task`, `check_record`, `stop_record`,
/// `hazard`). A document holds the rows the next `limit` changes after
/// `after` touched, as they stand now (a retired node, and everything
/// below it, with `deleted` 1; a voided hazard too); keep its `cursor`
/// and ask again — at once while `more`, later otherwise — to send each
/// change once (一次性输入、多处调用). Times are park-local in
/// `[exchange] time_format`; our kinds of check map onto the interface's
/// hazard sources by `[exchange.danger_sources]`. An enterprise contact
/// gets its own enterprise's.
#[utoipa::path(
    get,
    path = "/api/v1/exchange/{table}",
    operation_id = "get_exchange_document",
    tag = "risk",
    security(("bearer" = [])),
    params(("table" = ExchangeTable, Path), ExchangeQuery),
    responses(
        (status = 200, body = ExchangeDocument),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn exchange_document(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ExchangeTable>,
    query: web::Query<ExchangeQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadRiskRegister)?;
    let table = path.into_inner();
    let after = decode_cursor::<i64>(query.after.as_deref())?.unwrap_or(0);
    if after < 0 {
        return Err(AppError::invalid("after", Rule::NotFeedPosition));
    }
    let limit = Page::new(query.limit)?.limit;
    let scope = caller.figures_scope(query.enterprise_id)?.map(Id::from);
    let zone = state.park.time_zone;
    let settings = state.settings.clone();
    let document = state
        .db
        .run(move |conn| {
            let writer = Writer {
                zone,
                settings: &settings.exchange,
            };
            exchange::document(conn, table, (after, limit), scope, &writer)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(document))
}
