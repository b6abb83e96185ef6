//! Importing a hazard ledger: every row checked by the rules any reported
//! hazard meets (`CreateHazard::parse`) plus the ledger's own (dates,
//! sources, a rectified row's dates), answered row by row as would
//! create / unchanged / skipped / error. A dry run writes nothing; a real
//! run writes all its rows or none, in one transaction, and is idempotent:
//! a row whose key (the ledger's own number, or a fingerprint of the row)
//! an earlier import created, or that names a hazard by this service's
//! number (an exported ledger), is unchanged. A rectified row becomes a
//! closed hazard with its history at its dates (reported → planned →
//! submitted → accepted), each step an entered record (补录) carrying the
//! import's id, by whoever ran it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::app::analytics::{Cell, Table};
use crate::app::hazards;
use crate::app::ledger_file::{self, FileLimits, HeaderRule, Sheet, HAZARD_HEADER};
use crate::clock::Now;
use crate::db::bulk::HazardBatch;
use crate::db::hazards::{self as hazard_store, Hazard, HazardEvent};
use crate::db::imports::{self as store, ImportKey, ImportRow};
use crate::db::{enterprises, write_transaction, DbConnection};
use crate::domain::access::{Caller, Capability};
use crate::domain::hazard::new::CreateHazard;
use crate::domain::hazard::rules::closed_on_time;
use crate::domain::hazard::{hazard_number, HazardLevel, HazardState};
use crate::domain::inspection::check_source_rules;
use crate::domain::ledger::{self, column_name, CellValue, Field, Layout};
use crate::domain::park::Park;
use crate::error::AppError;

/// What became, or would become, of one row.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// A dry run: the row would become a hazard.
    WouldCreate,
    /// The row became a hazard.
    Created,
    /// An earlier import (or this service, by number) has it already.
    Unchanged,
    /// Not imported, for the reason given (a voided row).
    Skipped,
    /// The row breaks a rule; see `errors`.
    Error,
}

/// A problem with one cell of a row.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CellError {
    /// The column's name (as the template names it).
    pub column: String,
    /// Why, in Chinese.
    pub reason: String,
}

/// One row's outcome.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowReport {
    /// The row number as the file shows it.
    pub row: usize,
    pub status: RowStatus,
    /// The row's key: the ledger's own number, or `fp:` and a fingerprint.
    pub key: Option<String>,
    /// The hazard's number here (created or unchanged).
    pub hazard_number: Option<String>,
    pub hazard_id: Option<Uuid>,
    /// An enterprise list's row: the enterprise (created or unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<Uuid>,
    pub errors: Vec<CellError>,
    pub note: Option<String>,
}

/// What a file lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    /// A hazard ledger (隐患台账).
    #[default]
    Hazards,
    /// An enterprise list: 企业名称, 统一社会信用代码, 企业状态, 联系人邮箱.
    Enterprises,
}

impl ImportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Hazards => "hazards",
            ImportKind::Enterprises => "enterprises",
        }
    }

    fn header(self) -> HeaderRule {
        match self {
            ImportKind::Hazards => HAZARD_HEADER,
            ImportKind::Enterprises => ENTERPRISE_HEADER,
        }
    }
}

/// An enterprise list's header: its name and credit code columns.
const ENTERPRISE_HEADER: HeaderRule = HeaderRule {
    known: |h| ledger::enterprise_field_of(h).is_some(),
    at_least: 2,
    example: "企业名称和统一社会信用代码",
};

/// The answer to an import.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// The committed import; absent for a dry run or a refused one.
    pub id: Option<Uuid>,
    pub kind: ImportKind,
    pub dry_run: bool,
    pub file_name: String,
    pub sha256: String,
    pub rows: usize,
    pub created: usize,
    pub unchanged: usize,
    pub skipped: usize,
    pub errors: usize,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub results: Vec<RowReport>,
}

/// A file to import.
pub struct LedgerFile<'a> {
    pub file_name: &'a str,
    pub bytes: &'a [u8],
}

/// A row ready to be written: the hazard and its history.
struct Prepared {
    hazard: Hazard,
    events: Vec<HazardEvent>,
    key: String,
}

/// Imports (or, `dry_run`, checks) a hazard ledger. A real run with any
/// row in error is refused (`422`, with the report) and writes nothing.
pub fn import_hazards(
    conn: &mut DbConnection,
    caller: &Caller,
    file: LedgerFile<'_>,
    dry_run: bool,
    park: &Park,
    now: Now,
) -> Result<ImportReport, AppError> {
    caller.require(Capability::ImportLedgers)?;
    let sheet = ledger_file::read(file.bytes, FileLimits::default(), HAZARD_HEADER)?;
    let layout = Layout::of(&sheet.headers).map_err(|problems| {
        AppError::invalid("file", format!("表头不符合要求:{}", problems.join(";")))
    })?;
    let import_id = Uuid::now_v7();
    let sha256 = crate::domain::hex::hex(&Sha256::digest(file.bytes));
    write_transaction(conn, |conn| {
        let (mut results, prepared) =
            check_rows(conn, caller, &sheet, &layout, park, now, import_id)?;
        let errors = results
            .iter()
            .filter(|r| matches!(r.status, RowStatus::Error))
            .count();
        let mut report = ImportReport {
            id: None,
            kind: ImportKind::Hazards,
            dry_run,
            file_name: file.file_name.to_owned(),
            sha256,
            rows: results.len(),
            created: 0,
            unchanged: count(&results, |s| matches!(s, RowStatus::Unchanged)),
            skipped: count(&results, |s| matches!(s, RowStatus::Skipped)),
            errors,
            created_by: caller.user_id,
            created_at: now.utc.and_utc(),
            results: Vec::new(),
        };
        if !dry_run && errors > 0 {
            return Err(refusal(&results, errors));
        }
        if dry_run {
            report.results = results;
            return Ok(report);
        }
        let prepared = number(conn, prepared)?;
        let written: HashMap<&str, &Hazard> = prepared
            .iter()
            .map(|p| (p.key.as_str(), &p.hazard))
            .collect();
        for r in &mut results {
            if let Some(hazard) = r.key.as_deref().and_then(|k| written.get(k)) {
                r.status = RowStatus::Created;
                r.hazard_number = Some(hazard.number.clone());
                r.hazard_id = Some(hazard.id.uuid());
            }
        }
        report.created = prepared.len();
        report.id = Some(import_id);
        report.results = results;
        record(conn, &report, now)?;
        let keys: Vec<ImportKey> = prepared
            .iter()
            .map(|p| ImportKey {
                key: p.key.clone(),
                hazard_id: p.hazard.id,
                import_id: import_id.into(),
            })
            .collect();
        let mut batch = HazardBatch::with_capacity(prepared.len());
        for p in prepared {
            batch.hazards.push(p.hazard);
            batch.events.extend(p.events);
        }
        batch.flush(conn)?;
        store::insert_keys(conn, &keys)?;
        Ok(report)
    })
}

/// A committed import's report.
pub fn find(conn: &mut DbConnection, caller: &Caller, id: Uuid) -> Result<ImportReport, AppError> {
    caller.require(Capability::ImportLedgers)?;
    let row = store::find(conn, id.into())?.ok_or(AppError::NotFound("import"))?;
    let results: Vec<RowReport> =
        serde_json::from_str(&row.report).map_err(|e| AppError::Internal(e.into()))?;
    let kind = match row.kind.as_str() {
        "enterprises" => ImportKind::Enterprises,
        _ => ImportKind::Hazards,
    };
    Ok(ImportReport {
        id: Some(row.id.uuid()),
        kind,
        dry_run: false,
        file_name: row.file_name,
        sha256: row.sha256,
        rows: usize::try_from(row.rows_total).unwrap_or(0),
        created: usize::try_from(row.created).unwrap_or(0),
        unchanged: usize::try_from(row.unchanged).unwrap_or(0),
        skipped: usize::try_from(row.skipped).unwrap_or(0),
        errors: 0,
        created_by: row.created_by.uuid(),
        created_at: row.created_at.and_utc(),
        results,
    })
}

/// Keeps a committed import's report.
fn record(conn: &mut DbConnection, report: &ImportReport, now: Now) -> Result<(), AppError> {
    let id = report
        .id
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("an import is recorded with its id")))?;
    store::insert(
        conn,
        &ImportRow {
            id: id.into(),
            kind: report.kind.as_str().into(),
            file_name: report.file_name.clone(),
            sha256: report.sha256.clone(),
            created_by: report.created_by.into(),
            created_at: now.utc,
            rows_total: as_i32(report.rows),
            created: as_i32(report.created),
            unchanged: as_i32(report.unchanged),
            skipped: as_i32(report.skipped),
            report: serde_json::to_string(&report.results)
                .map_err(|e| AppError::Internal(e.into()))?,
        },
    )
}

/// Imports (or, `dry_run`, checks) an enterprise list: each row registered
/// as `POST /enterprises` would (its credit code's check digit, its
/// contacts' addresses), with its `registered` event; a credit code the
/// park has already is `unchanged`. All rows or none.
pub fn import_enterprises(
    conn: &mut DbConnection,
    caller: &Caller,
    file: LedgerFile<'_>,
    dry_run: bool,
    now: Now,
) -> Result<ImportReport, AppError> {
    use crate::domain::ledger::{enterprise_column_name, enterprise_field_of, EnterpriseField};
    caller.require(Capability::ImportLedgers)?;
    caller.require(Capability::ManageEnterprises)?;
    let sheet = ledger_file::read(file.bytes, FileLimits::default(), ENTERPRISE_HEADER)?;
    let index = |field: EnterpriseField| {
        sheet
            .headers
            .iter()
            .position(|h| enterprise_field_of(&h.text()) == Some(field))
    };
    let (Some(name_at), Some(code_at)) = (
        index(EnterpriseField::Name),
        index(EnterpriseField::CreditCode),
    ) else {
        return Err(AppError::invalid(
            "file",
            "表头须有企业名称和统一社会信用代码两列",
        ));
    };
    let (status_at, contacts_at) = (
        index(EnterpriseField::Status),
        index(EnterpriseField::Contacts),
    );
    let import_id = Uuid::now_v7();
    let sha256 = crate::domain::hex::hex(&Sha256::digest(file.bytes));
    write_transaction(conn, |conn| {
        let directory = Directory::load(conn)?;
        let mut results = Vec::with_capacity(sheet.rows.len());
        let mut registrations = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (number, cells) in &sheet.rows {
            let text = |at: Option<usize>| {
                at.and_then(|i| cells.get(i))
                    .map(CellValue::text)
                    .unwrap_or_default()
            };
            let mut report = RowReport {
                row: *number,
                status: RowStatus::WouldCreate,
                key: None,
                hazard_number: None,
                hazard_id: None,
                enterprise_id: None,
                errors: Vec::new(),
                note: None,
            };
            let mut problem = |field: EnterpriseField, reason: String| {
                report.errors.push(CellError {
                    column: enterprise_column_name(field).into(),
                    reason,
                });
            };
            let name = text(Some(name_at));
            if name.is_empty() {
                problem(EnterpriseField::Name, "不能为空".into());
            } else if name.chars().count() > crate::domain::text::MAX_LINE {
                problem(EnterpriseField::Name, "过长".into());
            }
            let code = match crate::domain::credit_code::CreditCode::parse(&text(Some(code_at))) {
                Ok(code) => Some(code),
                Err(e) => {
                    problem(
                        EnterpriseField::CreditCode,
                        format!("不是有效的统一社会信用代码({e})"),
                    );
                    None
                }
            };
            let status_text = text(status_at);
            let status = ledger::parse_enterprise_status(&status_text);
            if status.is_none() {
                problem(
                    EnterpriseField::Status,
                    format!("“{status_text}”应为在产、试生产、在建或关停"),
                );
            }
            let contacts = ledger::split_contacts(&text(contacts_at));
            let contacts = match crate::app::enterprises::contact_emails(&contacts) {
                Ok(json) => Some(json),
                Err(AppError::Validation { errors, .. }) => {
                    for message in errors.into_values() {
                        problem(
                            EnterpriseField::Contacts,
                            format!("邮箱地址无效({message})"),
                        );
                    }
                    None
                }
                Err(other) => return Err(other),
            };
            if let Some(code) = &code {
                let key = code.as_str().to_owned();
                report.key = Some(key.clone());
                if let Some(first) = seen.insert(key.clone(), *number) {
                    problem(
                        EnterpriseField::CreditCode,
                        format!("与第{first}行的信用代码相同"),
                    );
                } else if let Some(existing) = directory.by_code.get(&key) {
                    report.status = RowStatus::Unchanged;
                    report.enterprise_id = Some(*existing);
                } else if let Some(other) = directory.by_name.get(&name) {
                    problem(
                        EnterpriseField::Name,
                        format!("园区已有同名企业(编号 {other}),其信用代码不同"),
                    );
                }
            }
            if !report.errors.is_empty() {
                report.status = RowStatus::Error;
            } else if let (RowStatus::WouldCreate, Some(code), Some(status), Some(contacts)) =
                (&report.status, code, status, contacts)
            {
                registrations.push((
                    results.len(),
                    crate::app::enterprises::Registration {
                        name,
                        credit_code: code,
                        status,
                        contact_emails: contacts,
                    },
                ));
            }
            results.push(report);
        }
        let errors = count(&results, |s| matches!(s, RowStatus::Error));
        if !dry_run && errors > 0 {
            return Err(refusal(&results, errors));
        }
        let mut report = ImportReport {
            id: None,
            kind: ImportKind::Enterprises,
            dry_run,
            file_name: file.file_name.to_owned(),
            sha256,
            rows: results.len(),
            created: 0,
            unchanged: count(&results, |s| matches!(s, RowStatus::Unchanged)),
            skipped: 0,
            errors,
            created_by: caller.user_id,
            created_at: now.utc.and_utc(),
            results: Vec::new(),
        };
        if !dry_run {
            for (at, registration) in registrations {
                let enterprise =
                    crate::app::enterprises::register(conn, caller, registration, now.utc)?;
                results[at].status = RowStatus::Created;
                results[at].enterprise_id = Some(enterprise.id.uuid());
                report.created += 1;
            }
            report.id = Some(import_id);
        }
        report.results = results;
        if !dry_run {
            record(conn, &report, now)?;
        }
        Ok(report)
    })
}

/// A real run with rows in error: nothing is written, and each problem is
/// named by row and column (`第5行.发现时间`).
fn refusal(results: &[RowReport], errors: usize) -> AppError {
    refusal_of(results.iter().map(|r| (r.row, r.errors.as_slice())), errors)
}

/// The refusal of a file with `errors` rows in error, each problem named
/// by its row and column.
pub fn refusal_of<'a>(
    rows: impl Iterator<Item = (usize, &'a [CellError])>,
    errors: usize,
) -> AppError {
    AppError::Validation {
        detail: format!(
            "{errors} 行有错误,整个文件未导入:改正后重新导入(可先试导入 dry_run 查看逐行结果)"
        ),
        errors: rows
            .flat_map(|(row, problems)| {
                problems
                    .iter()
                    .map(move |e| (format!("第{row}行.{}", e.column), e.reason.clone().into()))
            })
            .collect(),
    }
}

fn count(results: &[RowReport], which: impl Fn(&RowStatus) -> bool) -> usize {
    results.iter().filter(|r| which(&r.status)).count()
}

fn as_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Checks every row; answers each row's report and the hazards to write.
fn check_rows(
    conn: &mut DbConnection,
    caller: &Caller,
    sheet: &Sheet,
    layout: &Layout,
    park: &Park,
    now: Now,
    import_id: Uuid,
) -> Result<(Vec<RowReport>, Vec<Prepared>), AppError> {
    let directory = Directory::load(conn)?;
    let mut results = Vec::with_capacity(sheet.rows.len());
    let mut prepared = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (row_number, cells) in &sheet.rows {
        let row = RowInput {
            number: *row_number,
            cells,
            layout,
        };
        let mut report = RowReport {
            row: *row_number,
            status: RowStatus::WouldCreate,
            key: None,
            hazard_number: None,
            hazard_id: None,
            enterprise_id: None,
            errors: Vec::new(),
            note: None,
        };
        match prepare(&row, &directory, caller, park, now, import_id) {
            Ok(Outcome::Skip(reason)) => {
                report.status = RowStatus::Skipped;
                report.note = Some(reason);
            }
            Ok(Outcome::Hazard(p)) => {
                report.key = Some(p.key.clone());
                if let Some(first) = seen.insert(p.key.clone(), *row_number) {
                    report.status = RowStatus::Error;
                    report.errors.push(CellError {
                        column: column_name(Field::Number).into(),
                        reason: format!("与第{first}行是同一条隐患(编号或内容相同)"),
                    });
                } else {
                    prepared.push(*p);
                }
            }
            Err(errors) => {
                report.status = RowStatus::Error;
                report.errors = errors;
            }
        }
        results.push(report);
    }
    // Rows an earlier import (or this service) has already.
    let keys: Vec<String> = prepared.iter().map(|p| p.key.clone()).collect();
    let known: HashMap<String, String> = store::known(conn, &keys)?.into_iter().collect();
    prepared.retain(|p| !known.contains_key(&p.key));
    for report in &mut results {
        if let Some(number) = report.key.as_ref().and_then(|k| known.get(k)) {
            if matches!(report.status, RowStatus::WouldCreate) {
                report.status = RowStatus::Unchanged;
                report.hazard_number = Some(number.clone());
            }
        }
    }
    Ok((results, prepared))
}

/// The enterprises, by credit code and by name.
struct Directory {
    by_code: HashMap<String, Uuid>,
    by_name: HashMap<String, Uuid>,
}

impl Directory {
    /// An enterprise by credit code, else by name.
    fn find(&self, named: &str) -> Option<Uuid> {
        self.by_code
            .get(&named.to_uppercase())
            .or_else(|| self.by_name.get(named))
            .copied()
    }

    fn load(conn: &mut DbConnection) -> Result<Directory, AppError> {
        let all = enterprises::all(conn)?;
        Ok(Directory {
            by_code: all
                .iter()
                .map(|e| (e.credit_code.to_uppercase(), e.id.uuid()))
                .collect(),
            by_name: all.iter().map(|e| (e.name.clone(), e.id.uuid())).collect(),
        })
    }
}

struct RowInput<'a> {
    number: usize,
    cells: &'a [CellValue],
    layout: &'a Layout,
}

impl RowInput<'_> {
    fn text(&self, field: Field) -> String {
        self.layout.cell(self.cells, field).text()
    }

    fn cell(&self, field: Field) -> &CellValue {
        self.layout.cell(self.cells, field)
    }
}

enum Outcome {
    Hazard(Box<Prepared>),
    Skip(String),
}

/// Collects a row's problems, each under its column.
#[derive(Default)]
struct Problems(Vec<CellError>);

impl Problems {
    fn add(&mut self, field: Field, reason: impl Into<String>) {
        self.0.push(CellError {
            column: column_name(field).to_owned(),
            reason: reason.into(),
        });
    }

    fn day(&mut self, row: &RowInput<'_>, field: Field, required: bool) -> Option<NaiveDate> {
        match ledger::parse_day(row.cell(field)) {
            Ok(Some(day)) => Some(day),
            Ok(None) => {
                if required {
                    self.add(field, "不能为空");
                }
                None
            }
            Err(reason) => {
                self.add(field, reason);
                None
            }
        }
    }
}

/// Turns one row into its hazard and history, or its problems.
fn prepare(
    row: &RowInput<'_>,
    directory: &Directory,
    caller: &Caller,
    park: &Park,
    now: Now,
    import_id: Uuid,
) -> Result<Outcome, Vec<CellError>> {
    if ledger::says_voided(&row.text(Field::State)) {
        return Ok(Outcome::Skip("已作废的隐患不导入".into()));
    }
    let mut problems = Problems::default();
    let enterprise = find_enterprise(row, directory, &mut problems);
    let source_text = row.text(Field::Source);
    let source = if source_text.is_empty() {
        problems.add(
            Field::Source,
            "不能为空(企业自查、企业互查、常驻专家检查、聘请国家级专家查隐患、园区督导检查)",
        );
        None
    } else {
        let source = ledger::parse_source(&source_text);
        if source.is_none() {
            problems.add(Field::Source, format!("“{source_text}”不是五类检查之一(企业自查、企业互查、常驻专家检查、聘请国家级专家查隐患、园区督导检查)"));
        }
        source
    };
    let level_text = row.text(Field::Level);
    let level = if level_text.is_empty() {
        Some(HazardLevel::General)
    } else {
        let level = ledger::parse_level(&level_text);
        if level.is_none() {
            problems.add(Field::Level, format!("“{level_text}”应为一般或重大"));
        }
        level
    };
    let basis_text = row.text(Field::MajorBasis);
    let major_basis_code = if basis_text.is_empty() {
        None
    } else {
        let code = basis_text
            .trim_start_matches('第')
            .trim_end_matches('条')
            .trim_end_matches('项')
            .parse::<i32>()
            .ok();
        if code.is_none() {
            problems.add(
                Field::MajorBasis,
                format!("“{basis_text}”应为判定标准的条目号 1–20"),
            );
        }
        code
    };
    let found_on = problems.day(row, Field::FoundOn, true);
    let deadline = problems.day(row, Field::Deadline, true);
    let completed_on = problems.day(row, Field::CompletedOn, false);
    let accepted_on = problems.day(row, Field::AcceptedOn, false);
    let funds_field = if row.layout.columns.contains(&Some(Field::FundsTenThousands)) {
        Field::FundsTenThousands
    } else {
        Field::Funds
    };
    let funds = ledger::parse_funds(
        row.cell(funds_field),
        funds_field == Field::FundsTenThousands,
    )
    .unwrap_or_else(|reason| {
        problems.add(funds_field, reason);
        None
    });
    let rectified = completed_on.or(accepted_on);
    if rectified.is_none() && ledger::says_rectified(&row.text(Field::State)) {
        problems.add(
            Field::CompletedOn,
            "状态为已整改,但整改完成时间与验收日期都为空",
        );
    }
    if let (Some(found), Some(done)) = (found_on, rectified) {
        if done < found {
            problems.add(Field::CompletedOn, "早于发现时间");
        }
    }
    if let (Some(done), Some(accepted)) = (completed_on, accepted_on) {
        if accepted < done {
            problems.add(Field::AcceptedOn, "早于整改完成时间");
        }
    }
    for (field, day) in [
        (Field::FoundOn, found_on),
        (Field::CompletedOn, completed_on),
        (Field::AcceptedOn, accepted_on),
    ] {
        if day.is_some_and(|d| d > now.park_today) {
            problems.add(field, "不能晚于今天");
        }
    }
    let description = row.text(Field::Description);
    // A ledger's cells may break lines (Alt+Enter); a title and a place are
    // one line, so their breaks become spaces.
    let title = match one_line(row.text(Field::Title)) {
        t if t.is_empty() => one_line(description.chars().take(50).collect()),
        t => t,
    };
    let category = row.text(Field::Category);
    if category.is_empty() {
        problems.add(Field::Category, "不能为空");
    }
    let checking = match row.text(Field::CheckingEnterprise) {
        named if named.is_empty() => Ok(None),
        named => directory.find(&named).map(Some).ok_or(named),
    };
    let checking = checking.unwrap_or_else(|named| {
        problems.add(
            Field::CheckingEnterprise,
            format!("园区没有名为或信用代码为“{named}”的企业"),
        );
        None
    });
    let (Some(enterprise), Some(source), Some(level), Some(found_on), Some(deadline)) =
        (enterprise, source, level, found_on, deadline)
    else {
        return Err(problems.0);
    };
    if let Err(AppError::Validation { errors, .. }) =
        check_source_rules(caller, source, enterprise, checking)
    {
        for message in errors.into_values().map(|m| m.to_string()) {
            let reason = if message.starts_with("is required") {
                "企业互查须写明做检查的企业".to_owned()
            } else if message.starts_with("must differ") {
                "做互查的企业须是另一家企业".to_owned()
            } else {
                "只有企业互查才填检查单位".to_owned()
            };
            problems.add(Field::CheckingEnterprise, reason);
        }
    }
    let found_at = at_noon(park, found_on).min(now.utc);
    let request = CreateHazard {
        enterprise_id: enterprise,
        source,
        checking_enterprise_id: checking,
        inspection_id: None,
        title,
        description: description.clone(),
        location: one_line(row.text(Field::Location)),
        category,
        specialty: Some(row.text(Field::Specialty)).filter(|s| !s.is_empty()),
        level,
        major_basis_code,
        supervised_listing: None,
        found_at: Some(found_at.and_utc()),
        deadline,
    };
    let new = match request.parse(park, &now) {
        Ok(new) => new,
        Err(AppError::Validation { errors, .. }) => {
            for (field, message) in errors {
                let column = match field.as_str() {
                    "title" => Field::Title,
                    "description" => Field::Description,
                    "location" => Field::Location,
                    "category" => Field::Category,
                    "specialty" => Field::Specialty,
                    "level" => Field::Level,
                    "major_basis_code" => Field::MajorBasis,
                    "found_at" => Field::FoundOn,
                    "deadline" => Field::Deadline,
                    "source" | "checking_enterprise_id" => Field::Source,
                    _ => Field::Description,
                };
                problems.add(column, translate(&field, &message.to_string()));
            }
            return Err(problems.0);
        }
        Err(other) => {
            problems.add(Field::Description, other.to_string());
            return Err(problems.0);
        }
    };
    if !problems.0.is_empty() {
        return Err(problems.0);
    }
    let ledger_number = row.text(Field::Number);
    let key = if ledger_number.is_empty() {
        ledger::fingerprint(
            &enterprise.to_string(),
            found_on,
            &new.location,
            &description,
        )
    } else {
        ledger_number.clone()
    };
    let plan = PlanColumns {
        measures: Some(row.text(Field::Measures)).filter(|s| !s.is_empty()),
        responsible: Some(row.text(Field::Responsible)).filter(|s| !s.is_empty()),
        funds,
        contingency: Some(row.text(Field::Contingency)).filter(|s| !s.is_empty()),
    };
    let dates = Dates {
        found_at,
        submitted_at: completed_on
            .or(accepted_on)
            .map(|d| at_noon(park, d).min(now.utc).max(found_at)),
        closed_at: accepted_on
            .or(completed_on)
            .map(|d| at_noon(park, d).min(now.utc).max(found_at)),
    };
    let origin = json!({
        "import_id": import_id,
        "row": row.number,
        "ledger_key": key,
    });
    let acceptor = Some(row.text(Field::Acceptor)).filter(|s| !s.is_empty());
    let (hazard, events) = history(new, plan, dates, acceptor, caller, now, origin);
    Ok(Outcome::Hazard(Box::new(Prepared {
        hazard,
        events,
        key,
    })))
}

/// A rule's message from `CreateHazard::parse`, said in Chinese where it is
/// one a ledger commonly breaks.
fn translate(field: &str, message: &str) -> String {
    match field {
        "category" => format!("不是园区的隐患类别之一({message})"),
        "specialty" => format!("不是园区的专业之一({message})"),
        "major_basis_code" => {
            format!("重大隐患须写明判定依据(121号文第1–20条),一般隐患不写({message})")
        }
        "deadline" => format!("整改期限不能早于发现时间({message})"),
        "found_at" => format!("发现时间不能晚于现在({message})"),
        _ => message.to_owned(),
    }
}

fn find_enterprise(
    row: &RowInput<'_>,
    directory: &Directory,
    problems: &mut Problems,
) -> Option<Uuid> {
    let code = row.text(Field::CreditCode).to_uppercase();
    let name = row.text(Field::Enterprise);
    if !code.is_empty() {
        if let Some(id) = directory.by_code.get(&code) {
            return Some(*id);
        }
        if name.is_empty() {
            problems.add(
                Field::CreditCode,
                format!("没有统一社会信用代码为 {code} 的企业"),
            );
            return None;
        }
    }
    if name.is_empty() {
        problems.add(Field::Enterprise, "企业名称与统一社会信用代码都为空");
        return None;
    }
    match directory.by_name.get(&name) {
        Some(id) => Some(*id),
        None => {
            problems.add(
                Field::Enterprise,
                format!("园区没有名为“{name}”的企业:请先登记企业"),
            );
            None
        }
    }
}

/// Noon of a park-local day, in UTC: a ledger's day without a time.
fn at_noon(park: &Park, day: NaiveDate) -> NaiveDateTime {
    let local = day.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN));
    park.time_zone
        .from_local_datetime(&local)
        .earliest()
        .map_or(local, |at| at.naive_utc())
}

struct PlanColumns {
    measures: Option<String>,
    responsible: Option<String>,
    funds: Option<i64>,
    contingency: Option<String>,
}

struct Dates {
    found_at: NaiveDateTime,
    submitted_at: Option<NaiveDateTime>,
    closed_at: Option<NaiveDateTime>,
}

/// The hazard row (number assigned later) and its events: reported; planned
/// when the row has measures or is rectified; submitted and accepted when
/// rectified.
fn history(
    new: crate::domain::hazard::new::NewHazard,
    plan: PlanColumns,
    dates: Dates,
    acceptor: Option<String>,
    caller: &Caller,
    now: Now,
    origin: serde_json::Value,
) -> (Hazard, Vec<HazardEvent>) {
    let closed = dates.closed_at.is_some();
    let planned = closed || plan.measures.is_some();
    let mut steps: Vec<(
        &str,
        Option<HazardState>,
        HazardState,
        NaiveDateTime,
        serde_json::Value,
    )> = vec![(
        "report",
        None,
        HazardState::Reported,
        dates.found_at,
        json!({"level": new.level, "source": new.source, "deadline": new.deadline}),
    )];
    if planned {
        steps.push((
            "plan",
            Some(HazardState::Reported),
            HazardState::Rectifying,
            dates.found_at,
            json!({
                "measures": plan.measures,
                "responsible_person": plan.responsible,
                "funds_fen": plan.funds,
                "contingency": plan.contingency,
            }),
        ));
    }
    if let (Some(submitted_at), Some(closed_at)) = (dates.submitted_at, dates.closed_at) {
        steps.push((
            "submit",
            Some(HazardState::Rectifying),
            HazardState::PendingAcceptance,
            submitted_at,
            json!({}),
        ));
        steps.push((
            "accept",
            Some(HazardState::PendingAcceptance),
            HazardState::Closed,
            closed_at,
            json!({ "acceptor": acceptor }),
        ));
    }
    let deadline = new.deadline;
    // The row as any report makes it (its number comes in `number`), then
    // moved to where the ledger says the hazard stands.
    let mut hazard = hazards::new_hazard_row(new, 0, caller, now);
    hazard.state = steps.last().map_or(HazardState::Reported, |s| s.2);
    hazard.version = i64::try_from(steps.len()).unwrap_or(1);
    if planned {
        hazard.plan_measures = plan.measures;
        hazard.plan_responsible_person = plan.responsible;
        hazard.plan_funds_fen = plan.funds;
        hazard.plan_contingency = plan.contingency;
        hazard.planned_at = Some(dates.found_at);
        hazard.planned_by = Some(caller.user_id.into());
    }
    if closed {
        hazard.submitted_at = dates.submitted_at;
        hazard.closed_at = dates.closed_at;
        hazard.closed_on_time = Some(closed_on_time(
            dates.submitted_at.map(|at| now.local_date(at)),
            deadline,
        ));
    }
    let events = steps
        .iter()
        .enumerate()
        .map(|(i, (action, from, to, at, details))| {
            let mut details = details.clone();
            details["imported"] = origin.clone();
            HazardEvent {
                id: Uuid::now_v7().into(),
                hazard_id: hazard.id,
                seq: i32::try_from(i + 1).unwrap_or(1),
                action: (*action).to_owned(),
                actor_id: caller.user_id.into(),
                actor_role: caller.role,
                from_state: *from,
                to_state: *to,
                occurred_at: *at,
                recorded_at: now.utc,
                note: Some("台账导入".to_owned()),
                details: details.to_string(),
                entered_late: true,
            }
        })
        .collect();
    (hazard, events)
}

/// Gives each hazard its number, in the order found within each year.
fn number(conn: &mut DbConnection, mut prepared: Vec<Prepared>) -> Result<Vec<Prepared>, AppError> {
    prepared.sort_by_key(|p| p.hazard.found_at);
    let mut per_year: BTreeMap<i32, i32> = BTreeMap::new();
    for p in &prepared {
        *per_year.entry(p.hazard.found_year).or_default() += 1;
    }
    let mut next: HashMap<i32, i32> = HashMap::new();
    for (year, n) in per_year {
        let last = hazard_store::reserve_numbers_in_year(conn, year, n)?;
        next.insert(year, last - n + 1);
    }
    for p in &mut prepared {
        let seq = next.entry(p.hazard.found_year).or_insert(1);
        p.hazard.number = hazard_number(p.hazard.found_year, *seq);
        *seq += 1;
    }
    Ok(prepared)
}

/// The file as it came, with two columns added: 导入结果 and 错误原因 (a
/// dry run's answer as a workbook the ledger keeper corrects in place).
pub fn annotated(bytes: &[u8], report: &ImportReport) -> Result<Table, AppError> {
    let sheet = ledger_file::read(bytes, FileLimits::default(), report.kind.header())?;
    let mut columns: Vec<String> = sheet.headers.iter().map(CellValue::text).collect();
    columns.push("导入结果".into());
    columns.push("错误原因".into());
    let width = sheet.headers.len();
    let by_row: HashMap<usize, &RowReport> = report.results.iter().map(|r| (r.row, r)).collect();
    let rows = sheet
        .rows
        .iter()
        .map(|(number, cells)| {
            let mut out: Vec<Cell> = (0..width)
                .map(|i| match cells.get(i) {
                    Some(CellValue::Number(n)) => Cell::Number(*n),
                    Some(CellValue::Empty) | None => Cell::Empty,
                    Some(other) => Cell::Text(other.text()),
                })
                .collect();
            let (status, reasons) = by_row.get(number).map_or(("", String::new()), |r| {
                let status = match r.status {
                    RowStatus::WouldCreate => "将新建",
                    RowStatus::Created => "已新建",
                    RowStatus::Unchanged => "已存在,不变",
                    RowStatus::Skipped => "跳过",
                    RowStatus::Error => "错误",
                };
                let mut reasons: Vec<String> = r
                    .errors
                    .iter()
                    .map(|e| format!("{}:{}", e.column, e.reason))
                    .collect();
                reasons.extend(r.note.clone());
                (status, reasons.join(";"))
            });
            out.push(Cell::Text(status.to_owned()));
            out.push(if reasons.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(reasons)
            });
            out
        })
        .collect();
    Ok(Table {
        title: "导入检查结果",
        columns,
        rows,
    })
}

/// What each template column takes, for its 填写说明 sheet.
const TEMPLATE_NOTES: [(&str, &str, &str); 21] = [
    ("隐患编号", "否", "台账自己的编号;再次导入同一编号的行不会重复建档。留空时按企业、发现时间、部位和描述识别同一条隐患"),
    ("企业名称", "与信用代码二选一", "须与园区已登记的企业名称一致"),
    ("统一社会信用代码", "与企业名称二选一", "18位统一社会信用代码,优先于企业名称"),
    ("检查类型", "是", "企业自查、企业互查、常驻专家检查、聘请国家级专家查隐患、园区督导检查(也可写自查、互查、园区检查等)"),
    ("隐患级别", "否", "一般隐患(默认)或重大隐患"),
    ("重大隐患判定依据", "重大隐患必填", "安监总管三〔2017〕121号判定标准的条目号 1–20"),
    ("隐患类别", "是", "园区隐患类别的名称或代码"),
    ("专业", "否", "园区专业的名称或代码"),
    ("隐患名称", "否", "留空时取隐患描述的前50字"),
    ("隐患描述", "是", ""),
    ("隐患部位", "是", "地点、装置或风险点"),
    ("发现时间", "是", "2024-03-05、2024/3/5、2024.3.5、2024年3月5日或 Excel 日期"),
    ("整改期限", "是", "不早于发现时间"),
    ("整改措施", "否", "有整改措施或已整改的隐患记为已制定整改方案"),
    ("整改责任人", "否", ""),
    ("资金(元)", "否", "元;列名写资金(万元)时按万元"),
    ("应急预案", "否", "整改期间的临时管控措施和应急预案"),
    ("状态", "否", "已作废的行跳过;写已销号、已整改时须有整改完成时间或验收日期"),
    ("整改完成时间", "否", "有此日期或验收日期的隐患按已验收销号导入,历史按这些日期记录"),
    ("验收日期", "否", "不早于整改完成时间,不晚于今天"),
    ("检查单位", "企业互查必填", "做互查的企业的名称或统一社会信用代码,须是另一家企业;其他检查类型不填"),
];

/// The import template: the ledger's columns (those of the export) and a
/// sheet explaining each.
pub fn template() -> Result<Vec<u8>, AppError> {
    template_workbook("隐患台账", &crate::app::ledger::COLUMNS, &TEMPLATE_NOTES)
}

/// A template workbook: a sheet `name` with `columns` as its header and a
/// 填写说明 sheet with each column's note (name, whether required, note).
pub fn template_workbook(
    name: &str,
    columns: &[&str],
    notes: &[(&str, &str, &str)],
) -> Result<Vec<u8>, AppError> {
    let write = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let sheet = workbook.add_worksheet().set_name(name)?;
        for (col, name) in columns.iter().enumerate() {
            let col = u16::try_from(col).unwrap_or(u16::MAX);
            sheet.write_string_with_format(0, col, *name, &bold)?;
            sheet.set_column_width(col, 14)?;
        }
        let sheet_notes = workbook.add_worksheet().set_name("填写说明")?;
        for (col, name) in ["列名", "是否必填", "说明"].iter().enumerate() {
            sheet_notes.write_string_with_format(
                0,
                u16::try_from(col).unwrap_or(0),
                *name,
                &bold,
            )?;
        }
        for (i, (name, required, note)) in notes.iter().enumerate() {
            let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
            sheet_notes.write_string(row, 0, *name)?;
            sheet_notes.write_string(row, 1, *required)?;
            sheet_notes.write_string(row, 2, *note)?;
        }
        sheet_notes.set_column_width(2, 80)?;
        workbook.save_to_buffer()
    };
    write().map_err(|e| AppError::Internal(anyhow::anyhow!("writing the template: {e}")))
}

/// `text` with each run of line breaks folded into one space.
fn one_line(text: String) -> String {
    if !text.contains(['\r', '\n']) {
        return text;
    }
    text.split(['\r', '\n'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
