//! The hazard ledger (隐患排查治理台账) as a park keeps it in a spreadsheet:
//! one row per hazard with Chinese headers, the layout of the export
//! (`GET /hazards/export`) and of the import template.

use std::collections::HashMap;

use crate::app::analytics::{Cell, Table};
use crate::db::hazards::{self as store, Hazard, HazardFilter};
use crate::db::{enterprises, DbConnection, Id};
use crate::domain::park::{CodeLabel, Park};
use crate::error::{AppError, FieldError};
use crate::messages::Rule;

/// The ledger's columns, in order (a column added later goes last, so a
/// reader by position keeps working).
pub const COLUMNS: [&str; 21] = [
    "隐患编号",
    "企业名称",
    "统一社会信用代码",
    "检查类型",
    "隐患级别",
    "重大隐患判定依据",
    "隐患类别",
    "专业",
    "隐患名称",
    "隐患描述",
    "隐患部位",
    "发现时间",
    "整改期限",
    "整改措施",
    "整改责任人",
    "资金(元)",
    "应急预案",
    "状态",
    "整改完成时间",
    "验收日期",
    "检查单位",
];

/// The most rows one export holds: narrow the filters beyond.
pub const MAX_ROWS: usize = 200_000;

/// Rows read from the database at a time.
const BATCH: i64 = 1000;

fn label(list: &[CodeLabel], code: &str) -> String {
    list.iter()
        .find(|c| c.code == code)
        .map_or_else(|| code.to_owned(), |c| c.label.clone())
}

/// The hazards `filter` selects, oldest first, as ledger rows.
pub fn export(
    conn: &mut DbConnection,
    filter: &HazardFilter,
    park: &Park,
) -> Result<Table, AppError> {
    let names: HashMap<Id, (String, String)> = enterprises::all(conn)?
        .into_iter()
        .map(|e| (e.id, (e.name, e.credit_code)))
        .collect();
    let mut hazards: Vec<Hazard> = Vec::new();
    let mut before = None;
    loop {
        let batch = store::list(conn, filter, before, BATCH)?;
        let full = batch.len() as i64 == BATCH;
        before = batch.last().map(|h| h.id);
        hazards.extend(batch);
        if hazards.len() > MAX_ROWS {
            return Err(AppError::invalid(
                "filters",
                FieldError::new(Rule::ExportTooLarge).with("max", MAX_ROWS),
            ));
        }
        if !full {
            break;
        }
    }
    hazards.reverse();
    let rows = hazards.into_iter().map(|h| row(h, &names, park)).collect();
    Ok(Table {
        title: "隐患台账",
        columns: crate::app::analytics::names(&COLUMNS),
        rows,
    })
}

fn row(h: Hazard, names: &HashMap<Id, (String, String)>, park: &Park) -> Vec<Cell> {
    let (name, credit_code) = names.get(&h.enterprise_id).cloned().unwrap_or_default();
    let text = |t: Option<String>| t.map_or(Cell::Empty, Cell::Text);
    let day = |at: Option<chrono::NaiveDateTime>| Cell::from(at.map(|t| park.local_date(t)));
    vec![
        Cell::Text(h.number),
        Cell::Text(name),
        Cell::Text(credit_code),
        Cell::Text(h.source.label_zh().to_owned()),
        Cell::Text(h.level.label_zh().to_owned()),
        h.major_basis_code
            .map_or(Cell::Empty, |c| Cell::from(i64::from(c))),
        Cell::Text(label(&park.categories, &h.category)),
        text(h.specialty.map(|s| label(&park.specialties, &s))),
        Cell::Text(h.title),
        Cell::Text(h.description),
        Cell::Text(h.location),
        Cell::from(Some(park.local_date(h.found_at))),
        Cell::from(Some(h.deadline)),
        text(h.plan_measures),
        text(h.plan_responsible_person),
        Cell::from(h.plan_funds_fen.map(|fen| fen as f64 / 100.0)),
        text(h.plan_contingency),
        Cell::Text(h.state.label_zh().to_owned()),
        day(h.submitted_at),
        day(h.closed_at),
        text(
            h.checking_enterprise_id
                .and_then(|id| names.get(&id))
                .map(|(name, _)| name.clone()),
        ),
    ]
}
