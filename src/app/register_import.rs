//! Importing an enterprise's risk register from the spreadsheet it keeps
//! (or from the register's own export): every row planned against the
//! register as it stands by `domain::risk::sheet` and answered row by row
//! as would add / added / unchanged / error. A dry run writes nothing; a
//! real run adds every new object, unit, event and measure or none, in one
//! transaction, and the same file again adds nothing.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::app::imports::{CellError, LedgerFile, RowStatus};
use crate::app::ledger_file::{self, FileLimits, HeaderRule};
use crate::app::risk::{event_row, measure_row, object_row, unit_row};
use crate::db::risk::{self as store, EventRow, MeasureRow, ObjectRow, Register, UnitRow};
use crate::db::{enterprises, write_transaction, DbConnection};
use crate::domain::access::{Caller, Capability};
use crate::domain::risk::sheet::{self, Addition, Attributes, Known, Path, SheetLayout};
use crate::domain::risk::{Assessment, Bands, ObjectFields};
use crate::error::AppError;

/// A register's header: 风险分析对象 and one more of its columns.
pub const REGISTER_HEADER: HeaderRule = HeaderRule {
    known: |h| sheet::column_of(h).is_some(),
    at_least: 2,
    example: "风险分析对象、风险分析单元、安全风险事件、管控措施等列名中的两个",
};

/// How many nodes of each kind.
#[derive(Debug, Clone, Copy, Default, Serialize, utoipa::ToSchema)]
pub struct NodeCounts {
    pub objects: usize,
    pub units: usize,
    pub events: usize,
    pub measures: usize,
}

/// One row's outcome.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisterRowReport {
    /// The row number as the file shows it.
    pub row: usize,
    pub status: RowStatus,
    /// What the row adds (or would), as `风险分析单元“一车间”`.
    pub adds: Vec<String>,
    pub errors: Vec<CellError>,
    /// Existing nodes the row names with other attributes (not changed).
    pub notes: Vec<String>,
}

/// The answer to a register import.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisterImportReport {
    pub enterprise_id: Uuid,
    pub dry_run: bool,
    pub file_name: String,
    pub sha256: String,
    pub rows: usize,
    /// Nodes added (a dry run: that would be).
    pub added: NodeCounts,
    /// Rows naming only what the register has.
    pub unchanged: usize,
    /// Rows in error.
    pub errors: usize,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub results: Vec<RegisterRowReport>,
}

/// Imports (or, `dry_run`, checks) a register file into `enterprise`'s
/// register. A real run with any row in error is refused (`422`, each
/// problem named by row and column) and writes nothing.
pub fn import_register(
    conn: &mut DbConnection,
    caller: &Caller,
    enterprise: Uuid,
    file: LedgerFile<'_>,
    dry_run: bool,
    bands: &Bands,
    now: NaiveDateTime,
) -> Result<RegisterImportReport, AppError> {
    caller.require(Capability::ManageRiskRegister)?;
    if !caller.can_see_enterprise(enterprise)
        || enterprises::find(conn, enterprise.into())?.is_none()
    {
        return Err(AppError::NotFound("enterprise"));
    }
    let sheet = ledger_file::read(file.bytes, FileLimits::default(), REGISTER_HEADER)?;
    let headers: Vec<String> = sheet.headers.iter().map(|h| h.text()).collect();
    let layout = SheetLayout::of(&headers).map_err(|problems| {
        AppError::invalid("file", format!("表头不符合要求：{}", problems.join("；")))
    })?;
    let sha256 = crate::domain::hex::hex(&Sha256::digest(file.bytes));
    write_transaction(conn, |conn| {
        let register = store::register_of(conn, enterprise.into())?;
        let known = known_of(&register);
        let plans = sheet::plan(&sheet.rows, &layout, &known, bands);
        let mut added = NodeCounts::default();
        let results: Vec<RegisterRowReport> = plans
            .iter()
            .map(|plan| {
                for (_, addition) in &plan.adds {
                    match addition {
                        Addition::Object { .. } => added.objects += 1,
                        Addition::Unit(_) => added.units += 1,
                        Addition::Event(_) => added.events += 1,
                        Addition::Measure(_) => added.measures += 1,
                    }
                }
                RegisterRowReport {
                    row: plan.row,
                    status: if !plan.problems.is_empty() {
                        RowStatus::Error
                    } else if plan.adds.is_empty() {
                        RowStatus::Unchanged
                    } else if dry_run {
                        RowStatus::WouldCreate
                    } else {
                        RowStatus::Created
                    },
                    adds: plan
                        .adds
                        .iter()
                        .map(|(path, a)| described(path, a))
                        .collect(),
                    errors: plan
                        .problems
                        .iter()
                        .map(|p| CellError {
                            column: p.column.to_owned(),
                            reason: p.reason.clone(),
                        })
                        .collect(),
                    notes: plan.notes.clone(),
                }
            })
            .collect();
        let errors = results
            .iter()
            .filter(|r| matches!(r.status, RowStatus::Error))
            .count();
        if !dry_run && errors > 0 {
            return Err(crate::app::imports::refusal_of(
                results.iter().map(|r| (r.row, r.errors.as_slice())),
                errors,
            ));
        }
        if !dry_run {
            let mut written = Written::of(register);
            for (path, addition) in plans.into_iter().flat_map(|p| p.adds) {
                written.add(conn, caller, enterprise, path, addition, now)?;
            }
        }
        Ok(RegisterImportReport {
            enterprise_id: enterprise,
            dry_run,
            file_name: file.file_name.to_owned(),
            sha256,
            rows: results.len(),
            added,
            unchanged: results
                .iter()
                .filter(|r| matches!(r.status, RowStatus::Unchanged))
                .count(),
            errors,
            created_by: caller.user_id,
            created_at: now.and_utc(),
            results,
        })
    })
}

/// `风险分析单元“一车间”`.
fn described(path: &Path, addition: &Addition) -> String {
    let kind = match addition {
        Addition::Object { .. } => "风险分析对象",
        Addition::Unit(_) => "风险分析单元",
        Addition::Event(_) => "安全风险事件",
        Addition::Measure(_) => "管控措施",
    };
    format!("{kind}“{}”", path.last().map_or("", String::as_str))
}

/// Every node of the register by its path of names.
fn known_of(register: &Register) -> Known {
    let mut known = Known::default();
    let mut paths: HashMap<crate::db::Id, Path> = HashMap::new();
    for object in &register.objects {
        let path = vec![object.name.clone()];
        known.add(
            path.clone(),
            object.id.uuid(),
            Attributes::Object {
                kind: object.kind,
                code: object.major_source_code.clone(),
            },
        );
        paths.insert(object.id, path);
    }
    let mut below = |parent: crate::db::Id, id: crate::db::Id, name: &str, attributes| {
        if let Some(mut path) = paths.get(&parent).cloned() {
            path.push(name.to_owned());
            known.add(path.clone(), id.uuid(), attributes);
            paths.insert(id, path);
        }
    };
    for unit in &register.units {
        below(
            unit.object_id,
            unit.id,
            &unit.name,
            Attributes::Unit {
                department: unit.department.clone(),
                responsible: unit.responsible_person.clone(),
            },
        );
    }
    for event in &register.events {
        below(
            event.unit_id,
            event.id,
            &event.name,
            Attributes::Event {
                consequence: event.consequence.clone(),
                assessment: serde_json::from_str::<Assessment>(&event.assessment).ok(),
            },
        );
    }
    for measure in &register.measures {
        below(
            measure.event_id,
            measure.id,
            &measure.description,
            Attributes::Measure {
                classification: measure.classification.clone(),
                mode: measure.control_mode,
                content: measure.check_content.clone(),
            },
        );
    }
    known
}

/// The register's rows by path, those there before and those written.
struct Written {
    objects: HashMap<Path, ObjectRow>,
    units: HashMap<Path, UnitRow>,
    events: HashMap<Path, EventRow>,
}

impl Written {
    fn of(register: Register) -> Written {
        let mut written = Written {
            objects: HashMap::new(),
            units: HashMap::new(),
            events: HashMap::new(),
        };
        let mut paths: HashMap<crate::db::Id, Path> = HashMap::new();
        for object in register.objects {
            let path = vec![object.name.clone()];
            paths.insert(object.id, path.clone());
            written.objects.entry(path).or_insert(object);
        }
        for unit in register.units {
            if let Some(mut path) = paths.get(&unit.object_id).cloned() {
                path.push(unit.name.clone());
                paths.insert(unit.id, path.clone());
                written.units.entry(path).or_insert(unit);
            }
        }
        for event in register.events {
            if let Some(mut path) = paths.get(&event.unit_id).cloned() {
                path.push(event.name.clone());
                written.events.entry(path).or_insert(event);
            }
        }
        written
    }

    /// Writes one node under its parent (written before it: a path's
    /// parent is always added or found first).
    fn add(
        &mut self,
        conn: &mut DbConnection,
        caller: &Caller,
        enterprise: Uuid,
        path: Path,
        addition: Addition,
        now: NaiveDateTime,
    ) -> Result<(), AppError> {
        let parent = &path[..path.len().saturating_sub(1)];
        let orphan = || AppError::Internal(anyhow::anyhow!("no parent for {path:?}"));
        match addition {
            Addition::Object { name, kind, code } => {
                let row = object_row(
                    enterprise.into(),
                    kind,
                    ObjectFields {
                        name,
                        major_source_code: code,
                    },
                    caller,
                    now,
                );
                store::insert_object(conn, &row)?;
                self.objects.insert(path, row);
            }
            Addition::Unit(fields) => {
                let object = self.objects.get(parent).ok_or_else(orphan)?;
                let row = unit_row(object, fields, caller, now);
                store::insert_unit(conn, &row)?;
                self.units.insert(path, row);
            }
            Addition::Event(fields) => {
                let unit = self.units.get(parent).ok_or_else(orphan)?;
                let row = event_row(unit, fields, caller, now)?;
                store::insert_event(conn, &row)?;
                self.events.insert(path, row);
            }
            Addition::Measure(fields) => {
                let event = self.events.get(parent).ok_or_else(orphan)?;
                let row: MeasureRow = measure_row(event, fields, caller, now);
                store::insert_measure(conn, &row)?;
            }
        }
        Ok(())
    }
}

/// The register's columns for a template, with what each takes.
const TEMPLATE_NOTES: &[(&str, &str, &str)] = &[
    ("风险分析对象", "是", "重大危险源、生产装置、设施或场所的名称；合并单元格时下方各行沿用上方的对象"),
    ("对象类型", "新对象必填", "重大危险源、生产装置、设施或场所"),
    ("重大危险源编号", "否", "仅重大危险源填写其备案编号"),
    ("风险分析单元", "填写事件时必填", "对象内的单元名称；合并单元格同上"),
    ("责任部门", "否", ""),
    ("责任人", "否", ""),
    ("安全风险事件", "填写措施时必填", "单元内可能发生的事件；合并单元格同上"),
    ("可能后果", "否", ""),
    ("评价方法", "新事件必填", "风险矩阵法（LS）或作业条件危险性分析法（LEC）"),
    ("评价取值", "新事件必填", "如“L=3，S=4”或“L=6，E=3，C=7”；也可分列填写 L、S、E、C。风险值和风险等级由系统计算，不读取表中的值"),
    ("管控措施", "否", "措施的描述"),
    ("管控措施分类", "新措施必填", "一级／二级，如“工程技术／安全仪表”，见 /api/v1/reference/vocabularies"),
    ("管控方式", "新措施必填", "隐患排查或自动化监控"),
    ("排查内容", "隐患排查的措施必填", "排查时查看什么"),
];

/// The import template: the register's columns and a 填写说明 sheet.
pub fn template() -> Result<Vec<u8>, AppError> {
    let columns: Vec<&str> = TEMPLATE_NOTES.iter().map(|(name, _, _)| *name).collect();
    crate::app::imports::template_workbook("安全风险分级管控清单", &columns, TEMPLATE_NOTES)
}

#[cfg(test)]
mod tests {
    //! Property tests: a generated register written as its export writes
    //! it (with or without merged cells) reads back as the same nodes, and
    //! again, against what it added, as nothing new; any sheet of register
    //! cells is planned without a panic, and a plan without problems only
    //! adds a node under one the register has or the file added before.

    use proptest::prelude::*;

    use super::*;
    use crate::domain::ledger::CellValue;
    use crate::domain::risk::sheet::{class_label, mode_label};
    use crate::domain::risk::{ControlMode, ObjectKind, MEASURE_CLASSES};

    const CASES: u32 = 64;

    /// The export's columns.
    const COLUMNS: [&str; 18] = crate::app::risk::REGISTER_COLUMNS;

    #[derive(Debug, Clone)]
    struct Measure {
        class: usize,
        mode: ControlMode,
    }

    #[derive(Debug, Clone)]
    struct Event {
        ls: Option<(u8, u8)>,
        lec: (f64, f64, f64),
        measures: Vec<Measure>,
    }

    #[derive(Debug, Clone)]
    struct Unit {
        department: Option<u8>,
        events: Vec<Event>,
    }

    #[derive(Debug, Clone)]
    struct Object {
        kind: ObjectKind,
        units: Vec<Unit>,
    }

    fn measure() -> impl Strategy<Value = Measure> {
        (0..MEASURE_CLASSES.len(), any::<bool>()).prop_map(|(class, check)| Measure {
            class,
            mode: if check {
                ControlMode::Check
            } else {
                ControlMode::Monitoring
            },
        })
    }

    fn event() -> impl Strategy<Value = Event> {
        (
            prop::option::of((1u8..=5, 1u8..=5)),
            prop::sample::select(vec![10.0, 6.0, 3.0, 1.0, 0.5, 0.2, 0.1]),
            prop::sample::select(vec![10.0, 6.0, 3.0, 2.0, 1.0, 0.5]),
            prop::sample::select(vec![100.0, 40.0, 15.0, 7.0, 3.0, 1.0]),
            prop::collection::vec(measure(), 0..3),
        )
            .prop_map(|(ls, l, e, c, measures)| Event {
                ls,
                lec: (l, e, c),
                measures,
            })
    }

    fn register() -> impl Strategy<Value = Vec<Object>> {
        let unit = (
            prop::option::of(0u8..3),
            prop::collection::vec(event(), 0..3),
        )
            .prop_map(|(department, events)| Unit { department, events });
        let object = (
            prop::sample::select(vec![
                ObjectKind::ProductionUnit,
                ObjectKind::Facility,
                ObjectKind::Place,
            ]),
            prop::collection::vec(unit, 0..3),
        )
            .prop_map(|(kind, units)| Object { kind, units });
        prop::collection::vec(object, 1..4)
    }

    /// The register's rows as its export writes them; with `merged`, a
    /// name and its attributes are blank below their first row.
    fn rows_of(register: &[Object], merged: bool) -> (Vec<Vec<String>>, usize) {
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut nodes = 0;
        for (o, object) in register.iter().enumerate() {
            nodes += 1;
            let object_cells = vec![
                format!("对象{o}"),
                object.kind.label_zh().to_owned(),
                String::new(),
            ];
            let mut first_object = true;
            let mut push = |cells: Vec<String>, depth: usize, firsts: [bool; 3]| {
                let mut row = cells;
                row.resize(COLUMNS.len(), String::new());
                if merged {
                    // Object cells 0..3, unit 3..7, event 7..13.
                    let spans = [0..3, 3..7, 7..13];
                    for (level, first) in firsts.iter().enumerate() {
                        if level < depth && !first {
                            for i in spans[level].clone() {
                                row[i].clear();
                            }
                        }
                    }
                }
                rows.push(row);
            };
            if object.units.is_empty() {
                push(object_cells.clone(), 1, [first_object, true, true]);
                first_object = false;
            }
            for (u, unit) in object.units.iter().enumerate() {
                nodes += 1;
                let mut unit_cells = object_cells.clone();
                unit_cells.extend([
                    format!("单元{u}"),
                    unit.department
                        .map(|d| format!("部门{d}"))
                        .unwrap_or_default(),
                    String::new(),
                    "重大风险".to_owned(),
                ]);
                let mut first_unit = true;
                if unit.events.is_empty() {
                    push(unit_cells.clone(), 2, [first_object, first_unit, true]);
                    first_object = false;
                    first_unit = false;
                }
                for (e, event) in unit.events.iter().enumerate() {
                    nodes += 1;
                    let (method, inputs) = match event.ls {
                        Some((l, s)) => ("风险矩阵法（LS）", format!("L={l}，S={s}")),
                        None => {
                            let (l, e, c) = event.lec;
                            (
                                "作业条件危险性分析法（LEC）",
                                format!("L={l}，E={e}，C={c}"),
                            )
                        }
                    };
                    let mut event_cells = unit_cells.clone();
                    event_cells.extend([
                        format!("事件{e}"),
                        String::new(),
                        method.to_owned(),
                        inputs,
                        "999".to_owned(),
                        "低风险".to_owned(),
                    ]);
                    let mut first_event = true;
                    if event.measures.is_empty() {
                        push(
                            event_cells.clone(),
                            3,
                            [first_object, first_unit, first_event],
                        );
                        first_object = false;
                        first_unit = false;
                    }
                    for (m, measure) in event.measures.iter().enumerate() {
                        nodes += 1;
                        let mut cells = event_cells.clone();
                        cells.extend([
                            format!("措施{m}"),
                            class_label(MEASURE_CLASSES[measure.class].code),
                            mode_label(measure.mode).to_owned(),
                            match measure.mode {
                                ControlMode::Check => format!("检查措施{m}"),
                                ControlMode::Monitoring => String::new(),
                            },
                            "0".to_owned(),
                        ]);
                        push(cells, 4, [first_object, first_unit, first_event]);
                        first_object = false;
                        first_unit = false;
                        first_event = false;
                    }
                }
            }
        }
        (rows, nodes)
    }

    fn workbook(rows: &[Vec<String>]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (c, name) in COLUMNS.iter().enumerate() {
            sheet.write_string(0, c as u16, *name).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, text) in row.iter().enumerate() {
                if !text.is_empty() {
                    sheet.write_string(r as u32 + 1, c as u16, text).unwrap();
                }
            }
        }
        book.save_to_buffer().unwrap()
    }

    /// What the additions of `plans` leave the register as.
    fn known_after(plans: &[sheet::RowPlan]) -> Known {
        let mut known = Known::default();
        for (path, addition) in plans.iter().flat_map(|p| &p.adds) {
            let attributes = match addition {
                Addition::Object { kind, code, .. } => Attributes::Object {
                    kind: *kind,
                    code: code.clone(),
                },
                Addition::Unit(f) => Attributes::Unit {
                    department: f.department.clone(),
                    responsible: f.responsible_person.clone(),
                },
                Addition::Event(f) => Attributes::Event {
                    consequence: f.consequence.clone(),
                    assessment: Some(f.assessment),
                },
                Addition::Measure(f) => Attributes::Measure {
                    classification: f.classification.to_owned(),
                    mode: f.control_mode,
                    content: f.check_content.clone(),
                },
            };
            known.add(path.clone(), Uuid::nil(), attributes);
        }
        known
    }

    fn planned(bytes: &[u8], known: &Known) -> Vec<sheet::RowPlan> {
        let sheet = ledger_file::read(bytes, FileLimits::default(), REGISTER_HEADER).unwrap();
        let headers: Vec<String> = sheet.headers.iter().map(CellValue::text).collect();
        let layout = SheetLayout::of(&headers).unwrap();
        sheet::plan(&sheet.rows, &layout, known, &Bands::default())
    }

    /// Cells a register row may hold, good and bad, names colliding.
    fn cell() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "",
            "",
            "",
            "罐区",
            "车间",
            "设施",
            "场所",
            "重大危险源",
            "储罐",
            "泄漏",
            "LS",
            "LEC",
            "风险矩阵法",
            "L=3，S=4",
            "L=6，E=3，C=7",
            "L=9",
            "工程技术/安全仪表",
            "维护保养／动设备",
            "隐患排查",
            "自动化监控",
            "巡检",
            "检查内容",
            "3706001",
            "x",
        ])
        .prop_map(str::to_owned)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn an_exported_register_reads_back_as_itself(register in register(), merged in any::<bool>()) {
            let (rows, nodes) = rows_of(&register, merged);
            let bytes = workbook(&rows);
            let first = planned(&bytes, &Known::default());
            prop_assert_eq!(first.len(), rows.len());
            for plan in &first {
                prop_assert!(plan.problems.is_empty(), "{:?}", plan);
            }
            prop_assert_eq!(first.iter().map(|p| p.adds.len()).sum::<usize>(), nodes);
            let again = planned(&bytes, &known_after(&first));
            for plan in &again {
                prop_assert!(plan.adds.is_empty() && plan.problems.is_empty(), "{:?}", plan);
                prop_assert!(plan.notes.is_empty(), "{:?}", plan);
            }
        }

        #[test]
        fn any_register_cells_are_planned_parents_first(
            rows in prop::collection::vec(prop::collection::vec(cell(), 0..18), 0..12),
        ) {
            let rows: Vec<(usize, Vec<CellValue>)> = rows
                .into_iter()
                .enumerate()
                .map(|(i, cells)| {
                    (i + 2, cells.into_iter().map(CellValue::Text).collect())
                })
                .collect();
            let headers: Vec<String> = COLUMNS.iter().map(|c| (*c).to_owned()).collect();
            let layout = SheetLayout::of(&headers).unwrap();
            let plans = sheet::plan(&rows, &layout, &Known::default(), &Bands::default());
            prop_assert_eq!(plans.len(), rows.len());
            if plans.iter().all(|p| p.problems.is_empty()) {
                let mut added: std::collections::HashSet<Path> = Default::default();
                for (path, _) in plans.iter().flat_map(|p| &p.adds) {
                    let parent = &path[..path.len() - 1];
                    prop_assert!(parent.is_empty() || added.contains(parent), "{:?}", path);
                    prop_assert!(added.insert(path.clone()), "added twice: {:?}", path);
                }
            }
        }
    }
}
