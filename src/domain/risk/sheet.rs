//! The risk register as enterprises keep it in a spreadsheet
//! (安全风险分级管控清单): which header names which column, a row's cells
//! read as an object, unit, event and measure, and a file's rows planned
//! against the register the enterprise has already: what each row adds,
//! what it names that exists, and why a row is refused, in Chinese. The
//! register's own export is a file this reads back unchanged.
//!
//! A blank 风险分析对象, 风险分析单元 or 安全风险事件 cell takes the one of
//! the row above (a merged cell reads as blank below its first row). An
//! existing node is matched by its name within its parent and is not
//! changed: a row naming it with other attributes says so in a note.
//! Worked-out columns (风险值, the levels, 排查任务数) are not read: a level
//! always comes from its method and inputs. Pure: reading the file is
//! `app::ledger_file`'s, writing the plan `app::register_import`'s.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use crate::domain::ledger::{normalise_header, CellValue};
use crate::domain::risk::{
    measure_class, Assessment, Bands, ControlMode, EventFields, MeasureFields, NewEvent,
    NewMeasure, NewObject, NewUnit, ObjectKind, UnitFields,
};
use crate::error::AppError;
use crate::messages::Lang;

/// What a register column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Object,
    ObjectKind,
    SourceCode,
    Unit,
    Department,
    Responsible,
    Event,
    Consequence,
    Method,
    /// 评价取值: `L=3，S=4` or `L=6，E=3，C=7`.
    Inputs,
    /// A method's factor in a column of its own.
    L,
    S,
    E,
    C,
    Measure,
    Class,
    Mode,
    Content,
    /// Worked out by the service (风险值, 单元风险等级, 事件风险等级,
    /// 排查任务数): read past.
    WorkedOut,
}

/// Header names and the column each means, after [`normalise_header`];
/// the first name of a column is the one the export and reports use.
const HEADERS: &[(&str, Column)] = &[
    ("风险分析对象", Column::Object),
    ("分析对象", Column::Object),
    ("对象类型", Column::ObjectKind),
    ("风险分析对象类型", Column::ObjectKind),
    ("重大危险源编号", Column::SourceCode),
    ("重大危险源编码", Column::SourceCode),
    ("风险分析单元", Column::Unit),
    ("分析单元", Column::Unit),
    ("风险单元", Column::Unit),
    ("责任部门", Column::Department),
    ("管控部门", Column::Department),
    ("责任人", Column::Responsible),
    ("管控责任人", Column::Responsible),
    ("安全风险事件", Column::Event),
    ("风险事件", Column::Event),
    ("可能后果", Column::Consequence),
    ("后果", Column::Consequence),
    ("评价方法", Column::Method),
    ("风险评价方法", Column::Method),
    ("评价取值", Column::Inputs),
    ("L", Column::L),
    ("S", Column::S),
    ("E", Column::E),
    ("C", Column::C),
    ("管控措施", Column::Measure),
    ("管控措施描述", Column::Measure),
    ("管控措施分类", Column::Class),
    ("措施分类", Column::Class),
    ("管控方式", Column::Mode),
    ("排查内容", Column::Content),
    ("隐患排查内容", Column::Content),
    ("风险值", Column::WorkedOut),
    ("单元风险等级", Column::WorkedOut),
    ("事件风险等级", Column::WorkedOut),
    ("风险等级", Column::WorkedOut),
    ("排查任务数", Column::WorkedOut),
];

/// The column a header names, if any.
pub fn column_of(header: &str) -> Option<Column> {
    let header = normalise_header(header).to_uppercase();
    HEADERS
        .iter()
        .find(|(name, _)| *name == header)
        .map(|(_, column)| *column)
}

/// The name a column is reported under.
pub fn column_name(column: Column) -> &'static str {
    HEADERS
        .iter()
        .find(|(_, c)| *c == column)
        .map_or("", |(name, _)| name)
}

/// Which cell of a row holds which column.
#[derive(Debug, Clone)]
pub struct SheetLayout {
    at: HashMap<Column, usize>,
}

impl SheetLayout {
    /// The layout of a header row; a header naming a column twice, or one
    /// without 风险分析对象, is refused with the reasons.
    pub fn of(headers: &[String]) -> Result<SheetLayout, Vec<String>> {
        let mut at = HashMap::new();
        let mut problems = Vec::new();
        for (i, header) in headers.iter().enumerate() {
            match column_of(header) {
                Some(Column::WorkedOut) | None => {}
                Some(column) => {
                    if at.insert(column, i).is_some() {
                        problems.push(format!("“{}”列出现了两次", column_name(column)));
                    }
                }
            }
        }
        if !at.contains_key(&Column::Object) {
            problems.push("缺少“风险分析对象”列".to_owned());
        }
        if problems.is_empty() {
            Ok(SheetLayout { at })
        } else {
            Err(problems)
        }
    }

    fn text(&self, cells: &[CellValue], column: Column) -> String {
        self.at
            .get(&column)
            .and_then(|i| cells.get(*i))
            .map(CellValue::text)
            .unwrap_or_default()
    }
}

/// An object kind by its Chinese name (or code).
pub fn parse_kind(text: &str) -> Option<ObjectKind> {
    match text.trim() {
        "重大危险源" => Some(ObjectKind::MajorHazardSource),
        "生产装置" | "装置" => Some(ObjectKind::ProductionUnit),
        "设施" | "设备设施" => Some(ObjectKind::Facility),
        "场所" | "作业场所" | "区域" => Some(ObjectKind::Place),
        other => other.parse().ok(),
    }
}

/// A control mode by its Chinese name (or code).
pub fn parse_mode(text: &str) -> Option<ControlMode> {
    match text.trim() {
        "隐患排查" | "排查" | "人工排查" => Some(ControlMode::Check),
        "自动化监控" | "自动化监测" | "监控" | "在线监测" => {
            Some(ControlMode::Monitoring)
        }
        other => other.parse().ok(),
    }
}

/// The name a control mode is written with.
pub fn mode_label(mode: ControlMode) -> &'static str {
    match mode {
        ControlMode::Monitoring => "自动化监控",
        ControlMode::Check => "隐患排查",
    }
}

/// The factors `L=3，S=4` (any separators, `=`, `＝`, `:` or `：`) names.
fn factors(text: &str) -> HashMap<char, f64> {
    let mut found = HashMap::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let letter = chars[i].to_ascii_uppercase();
        i += 1;
        if !matches!(letter, 'L' | 'S' | 'E' | 'C') {
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        if !matches!(chars.get(j), Some('=' | '＝' | ':' | '：')) {
            continue;
        }
        j += 1;
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        let start = j;
        while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
            j += 1;
        }
        let number: String = chars[start..j].iter().collect();
        if let Ok(value) = number.parse::<f64>() {
            found.entry(letter).or_insert(value);
        }
        i = j;
    }
    found
}

/// The method and inputs a row gives, read from 评价方法 with 评价取值 or
/// the L, S, E, C columns.
fn assessment_of(
    method: &str,
    inputs: &str,
    own: [(char, String); 4],
) -> Result<Assessment, (Column, String)> {
    let upper = method.to_uppercase();
    let mut values = factors(inputs);
    for (letter, text) in own {
        if let Ok(value) = text.trim().parse::<f64>() {
            values.entry(letter).or_insert(value);
        }
    }
    let wanted = |letter: char, example: &str| {
        values.get(&letter).copied().ok_or_else(|| {
            (
                Column::Inputs,
                format!("须写明{letter}的取值，如“{example}”"),
            )
        })
    };
    if upper.contains("LEC") || method.contains("作业条件") {
        let example = "L=6，E=3，C=7";
        Ok(Assessment::Lec {
            l: wanted('L', example)?,
            e: wanted('E', example)?,
            c: wanted('C', example)?,
        })
    } else if upper.contains("LS") || method.contains("风险矩阵") {
        let scale = |letter: char| {
            let value = wanted(letter, "L=3，S=4")?;
            if value.fract() == 0.0 && (1.0..=5.0).contains(&value) {
                Ok(value as u8)
            } else {
                Err((Column::Inputs, format!("{letter}须为1至5的整数")))
            }
        };
        Ok(Assessment::Ls {
            l: scale('L')?,
            s: scale('S')?,
        })
    } else if method.contains("重大危险源") {
        Err((
            Column::Method,
            "重大危险源直接判定的事件由重大危险源登记生成，不能导入".to_owned(),
        ))
    } else if method.is_empty() {
        Err((
            Column::Method,
            "必填：风险矩阵法（LS）或作业条件危险性分析法（LEC）".to_owned(),
        ))
    } else {
        Err((
            Column::Method,
            format!("“{method}”应为风险矩阵法（LS）或作业条件危险性分析法（LEC）"),
        ))
    }
}

/// A node the enterprise's register has, with the attributes a row may
/// repeat.
#[derive(Debug, Clone, PartialEq)]
pub enum Attributes {
    Object {
        kind: ObjectKind,
        code: Option<String>,
    },
    Unit {
        department: Option<String>,
        responsible: Option<String>,
    },
    Event {
        consequence: Option<String>,
        assessment: Option<Assessment>,
    },
    Measure {
        classification: String,
        mode: ControlMode,
        content: Option<String>,
    },
}

/// A node's path of names: object, unit, event, measure (as many as its
/// depth).
pub type Path = Vec<String>;

/// The register as it stands, by path, with each node's id.
#[derive(Debug, Default, Clone)]
pub struct Known {
    nodes: HashMap<Path, (Uuid, Attributes)>,
}

impl Known {
    /// Adds a node; the first of two with one path is the one matched.
    pub fn add(&mut self, path: Path, id: Uuid, attributes: Attributes) {
        self.nodes.entry(path).or_insert((id, attributes));
    }

    pub fn id_of(&self, path: &[String]) -> Option<Uuid> {
        self.nodes.get(path).map(|(id, _)| *id)
    }
}

/// A node a file adds, under the node of its path's parent.
#[derive(Debug, Clone, PartialEq)]
pub enum Addition {
    Object {
        name: String,
        kind: ObjectKind,
        code: Option<String>,
    },
    Unit(UnitFields),
    Event(EventFields),
    Measure(MeasureFields),
}

/// A problem with one cell of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellProblem {
    pub column: &'static str,
    pub reason: String,
}

/// What one row does.
#[derive(Debug, Clone, Default)]
pub struct RowPlan {
    pub row: usize,
    /// The nodes this row adds (the first row naming a new node adds it).
    pub adds: Vec<(Path, Addition)>,
    pub problems: Vec<CellProblem>,
    pub notes: Vec<String>,
}

/// Level names in the order of a path.
const LEVELS: [(Column, &str); 4] = [
    (Column::Object, "风险分析对象"),
    (Column::Unit, "风险分析单元"),
    (Column::Event, "安全风险事件"),
    (Column::Measure, "管控措施"),
];

/// The column a node check's field is reported under.
fn column_of_field(depth: usize, field: &str) -> Column {
    match field {
        "major_source_code" => Column::SourceCode,
        "department" => Column::Department,
        "responsible_person" => Column::Responsible,
        "consequence" => Column::Consequence,
        "classification" => Column::Class,
        "check_content" => Column::Content,
        "control_mode" => Column::Mode,
        f if f.starts_with("assessment") => Column::Inputs,
        _ => LEVELS[depth.min(3)].0,
    }
}

/// Plans `rows` (cells in `layout`'s columns) against `known`.
pub fn plan(
    rows: &[(usize, Vec<CellValue>)],
    layout: &SheetLayout,
    known: &Known,
    bands: &Bands,
) -> Vec<RowPlan> {
    // New nodes of the file: the row first naming each, and its attributes.
    let mut first: HashMap<Path, (usize, Attributes)> = HashMap::new();
    let mut failed: HashSet<Path> = HashSet::new();
    let mut above: Path = Vec::new();
    let mut plans = Vec::with_capacity(rows.len());
    for (number, cells) in rows {
        let text = |column: Column| layout.text(cells, column);
        let mut plan = RowPlan {
            row: *number,
            ..RowPlan::default()
        };
        let mut names: Vec<String> = LEVELS.iter().map(|(c, _)| text(*c)).collect();
        // Merged cells: a blank name below takes the one above while
        // everything to its left is the same as above.
        for depth in 0..3 {
            let deeper = names[depth + 1..].iter().any(|n| !n.is_empty());
            if names[depth].is_empty()
                && (depth == 0 || deeper)
                && names[..depth] == above[..depth.min(above.len())]
                && above.len() > depth
            {
                names[depth] = above[depth].clone();
            }
        }
        let depth = names
            .iter()
            .rposition(|n| !n.is_empty())
            .map_or(0, |d| d + 1);
        if let Some(gap) = names[..depth].iter().position(String::is_empty) {
            plan.problems.push(CellProblem {
                column: LEVELS[gap].1,
                reason: format!(
                    "必填：写了{}，须写明它所在的{}",
                    LEVELS[depth - 1].1,
                    LEVELS[gap].1
                ),
            });
            plans.push(plan);
            continue;
        }
        if depth == 0 {
            plan.problems.push(CellProblem {
                column: LEVELS[0].1,
                reason: "必填".to_owned(),
            });
            plans.push(plan);
            continue;
        }
        above = names[..depth].to_vec();
        for level in 0..depth {
            let path: Path = names[..=level].to_vec();
            let known_as = known
                .nodes
                .get(&path)
                .map(|(_, attributes)| (None, attributes))
                .or_else(|| first.get(&path).map(|(row, a)| (Some(*row), a)));
            if let Some((row, attributes)) = known_as {
                if !gives_attributes(level, &text) {
                    continue;
                }
                let Ok((_, sent)) = read_node(level, &path, &text, bands) else {
                    continue;
                };
                if &sent == attributes {
                    continue;
                }
                match row {
                    None => plan.notes.push(format!(
                        "{}“{}”已在登记簿中，表中的属性与之不同，未更改",
                        LEVELS[level].1, path[level]
                    )),
                    Some(row) => plan.problems.push(CellProblem {
                        column: LEVELS[level].1,
                        reason: format!("与第{row}行的同一{}属性不同", LEVELS[level].1),
                    }),
                }
                continue;
            }
            if failed.contains(&path) {
                continue;
            }
            match read_node(level, &path, &text, bands) {
                Ok((addition, attributes)) => {
                    first.insert(path.clone(), (*number, attributes));
                    plan.adds.push((path, addition));
                }
                Err(problems) => {
                    plan.problems.extend(problems);
                    // Named again below, it is not reported twice.
                    failed.insert(path);
                }
            }
        }
        plans.push(plan);
    }
    plans
}

/// Whether a row gives any attribute of the node at `level` (a merged
/// cell gives none below its first row).
fn gives_attributes(level: usize, text: &dyn Fn(Column) -> String) -> bool {
    let columns: &[Column] = match level {
        0 => &[Column::ObjectKind, Column::SourceCode],
        1 => &[Column::Department, Column::Responsible],
        2 => &[
            Column::Consequence,
            Column::Method,
            Column::Inputs,
            Column::L,
            Column::S,
            Column::E,
            Column::C,
        ],
        _ => &[Column::Class, Column::Mode, Column::Content],
    };
    columns.iter().any(|c| !text(*c).is_empty())
}

/// What a row says of the node at `level` of `path`: the node to add and
/// its attributes, or why it cannot be.
fn read_node(
    level: usize,
    path: &[String],
    text: &dyn Fn(Column) -> String,
    bands: &Bands,
) -> Result<(Addition, Attributes), Vec<CellProblem>> {
    let optional = |column: Column| Some(text(column)).filter(|t| !t.is_empty());
    let problem = |column: Column, reason: String| CellProblem {
        column: column_name(column),
        reason,
    };
    let refused = |e: AppError| -> Vec<CellProblem> {
        match e {
            AppError::Validation { errors, .. } => errors
                .iter()
                .map(|(field, error)| {
                    problem(column_of_field(level, field), error.message(Lang::Zh))
                })
                .collect(),
            other => vec![problem(LEVELS[level].0, other.to_string())],
        }
    };
    let name = path[level].clone();
    match level {
        0 => {
            let kind_text = text(Column::ObjectKind);
            let code = optional(Column::SourceCode);
            if kind_text.is_empty() {
                return Err(vec![problem(
                    Column::ObjectKind,
                    "必填：重大危险源、生产装置、设施或场所".to_owned(),
                )]);
            }
            let Some(kind) = parse_kind(&kind_text) else {
                return Err(vec![problem(
                    Column::ObjectKind,
                    format!("“{kind_text}”应为重大危险源、生产装置、设施或场所"),
                )]);
            };
            let checked = NewObject {
                enterprise_id: Uuid::nil(),
                kind,
                name,
                major_source_code: code,
            }
            .check()
            .map_err(refused)?;
            let attributes = Attributes::Object {
                kind,
                code: checked.major_source_code.clone(),
            };
            Ok((
                Addition::Object {
                    name: checked.name,
                    kind,
                    code: checked.major_source_code,
                },
                attributes,
            ))
        }
        1 => {
            let checked = NewUnit {
                object_id: Uuid::nil(),
                name,
                department: optional(Column::Department),
                responsible_person: optional(Column::Responsible),
            }
            .check()
            .map_err(refused)?;
            let attributes = Attributes::Unit {
                department: checked.department.clone(),
                responsible: checked.responsible_person.clone(),
            };
            Ok((Addition::Unit(checked), attributes))
        }
        2 => {
            let method = text(Column::Method);
            let inputs = text(Column::Inputs);
            let own = [
                ('L', text(Column::L)),
                ('S', text(Column::S)),
                ('E', text(Column::E)),
                ('C', text(Column::C)),
            ];
            let assessment = assessment_of(&method, &inputs, own)
                .map_err(|(column, reason)| vec![problem(column, reason)])?;
            let checked = NewEvent {
                unit_id: Uuid::nil(),
                name,
                consequence: optional(Column::Consequence),
                assessment,
            }
            .check(bands)
            .map_err(refused)?;
            let attributes = Attributes::Event {
                consequence: checked.consequence.clone(),
                assessment: Some(assessment),
            };
            Ok((Addition::Event(checked), attributes))
        }
        _ => {
            let mode_text = text(Column::Mode);
            let Some(mode) = parse_mode(&mode_text) else {
                return Err(vec![problem(
                    Column::Mode,
                    if mode_text.is_empty() {
                        "必填：隐患排查或自动化监控".to_owned()
                    } else {
                        format!("“{mode_text}”应为隐患排查或自动化监控")
                    },
                )]);
            };
            let class_text = text(Column::Class).replace('／', "/");
            let checked = NewMeasure {
                event_id: Uuid::nil(),
                description: name,
                classification: class_text,
                control_mode: mode,
                check_content: optional(Column::Content),
            }
            .check()
            .map_err(refused)?;
            let attributes = Attributes::Measure {
                classification: checked.classification.to_owned(),
                mode,
                content: checked.check_content.clone(),
            };
            Ok((Addition::Measure(checked), attributes))
        }
    }
}

/// The attributes of a measure class code as the sheet writes it.
pub fn class_label(code: &str) -> String {
    measure_class(code)
        .map(|c| format!("{}／{}", c.first, c.second))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bands() -> Bands {
        Bands::default()
    }

    fn layout(headers: &[&str]) -> SheetLayout {
        let headers: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
        SheetLayout::of(&headers).unwrap()
    }

    fn rows(cells: &[&[&str]]) -> Vec<(usize, Vec<CellValue>)> {
        cells
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let cells = row
                    .iter()
                    .map(|t| {
                        if t.is_empty() {
                            CellValue::Empty
                        } else {
                            CellValue::Text((*t).to_owned())
                        }
                    })
                    .collect();
                (i + 2, cells)
            })
            .collect()
    }

    const HEADERS: &[&str] = &[
        "风险分析对象",
        "对象类型",
        "风险分析单元",
        "责任部门",
        "安全风险事件",
        "评价方法",
        "评价取值",
        "管控措施",
        "管控措施分类",
        "管控方式",
        "排查内容",
    ];

    #[test]
    fn factors_are_read_in_the_forms_registers_write_them() {
        let read = factors("L=3，S=4");
        assert_eq!((read[&'L'], read[&'S']), (3.0, 4.0));
        let read = factors("l＝0.5; e: 6 c=7 (D=21)");
        assert_eq!((read[&'L'], read[&'E'], read[&'C']), (0.5, 6.0, 7.0));
        assert!(factors("LS矩阵，无取值").is_empty());
        assert!(factors("L=").is_empty());
    }

    #[test]
    fn a_method_needs_its_factors_in_range() {
        let none = || {
            [
                ('L', String::new()),
                ('S', String::new()),
                ('E', String::new()),
                ('C', String::new()),
            ]
        };
        assert_eq!(
            assessment_of("风险矩阵法（LS）", "L=3，S=4", none()),
            Ok(Assessment::Ls { l: 3, s: 4 })
        );
        let own = [
            ('L', "2".into()),
            ('S', "5".into()),
            ('E', String::new()),
            ('C', String::new()),
        ];
        assert_eq!(
            assessment_of("LS", "", own),
            Ok(Assessment::Ls { l: 2, s: 5 })
        );
        assert_eq!(
            assessment_of("作业条件危险性分析法", "L=6，E=3，C=7", none()),
            Ok(Assessment::Lec {
                l: 6.0,
                e: 3.0,
                c: 7.0
            })
        );
        let (column, reason) = assessment_of("LS", "L=6，S=4", none()).unwrap_err();
        assert_eq!(column, Column::Inputs);
        assert!(reason.contains("1至5"), "{reason}");
        let (column, reason) = assessment_of("LEC", "L=6，E=3", none()).unwrap_err();
        assert_eq!(column, Column::Inputs);
        assert!(reason.contains('C'), "{reason}");
        assert_eq!(
            assessment_of("", "L=1", none()).unwrap_err().0,
            Column::Method
        );
        assert_eq!(
            assessment_of("重大危险源直接判定", "一级，R=120.00", none())
                .unwrap_err()
                .0,
            Column::Method
        );
    }

    #[test]
    fn merged_cells_take_the_name_above() {
        let planned = plan(
            &rows(&[
                &[
                    "罐区",
                    "设施",
                    "储罐",
                    "储运部",
                    "泄漏",
                    "LS",
                    "L=4，S=5",
                    "报警器",
                    "工程技术/安全仪表",
                    "隐患排查",
                    "报警器投用",
                ],
                &[
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "围堰",
                    "工程技术/其他",
                    "隐患排查",
                    "围堰完好",
                ],
                &[
                    "",
                    "",
                    "",
                    "",
                    "烫伤",
                    "LEC",
                    "L=1，E=6，C=7",
                    "",
                    "",
                    "",
                    "",
                ],
                &["", "", "泵房", "", "", "", "", "", "", "", ""],
            ]),
            &layout(HEADERS),
            &Known::default(),
            &bands(),
        );
        assert!(planned.iter().all(|p| p.problems.is_empty()), "{planned:?}");
        let paths: Vec<Vec<Path>> = planned
            .iter()
            .map(|p| p.adds.iter().map(|(path, _)| path.clone()).collect())
            .collect();
        let path = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Path>();
        assert_eq!(paths[0].len(), 4);
        assert_eq!(paths[1], [path(&["罐区", "储罐", "泄漏", "围堰"])]);
        assert_eq!(paths[2], [path(&["罐区", "储罐", "烫伤"])]);
        // A unit of its own below: the object is taken from above, no
        // event or measure is.
        assert_eq!(paths[3], [path(&["罐区", "泵房"])]);
    }

    #[test]
    fn a_row_is_refused_for_what_it_leaves_out_or_contradicts() {
        let planned = plan(
            &rows(&[
                &[
                    "罐区",
                    "设施",
                    "储罐",
                    "",
                    "泄漏",
                    "LS",
                    "L=4，S=5",
                    "",
                    "",
                    "",
                    "",
                ],
                &["罐区", "场所", "", "", "", "", "", "", "", "", ""],
                &["车间", "", "", "", "", "", "", "", "", "", ""],
                &[
                    "库房",
                    "设施",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "货架",
                    "工程技术/其他",
                    "巡检",
                    "",
                ],
            ]),
            &layout(HEADERS),
            &Known::default(),
            &bands(),
        );
        assert!(planned[0].problems.is_empty());
        assert_eq!(planned[1].problems[0].column, "风险分析对象");
        assert!(
            planned[1].problems[0].reason.contains("第2行"),
            "{planned:?}"
        );
        assert_eq!(planned[2].problems[0].column, "对象类型");
        // A measure without its unit and event: the unit is named.
        assert_eq!(planned[3].problems[0].column, "风险分析单元");
    }

    #[test]
    fn what_the_register_has_is_matched_and_left_as_it_is() {
        let mut known = Known::default();
        let path = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Path>();
        known.add(
            path(&["罐区"]),
            Uuid::nil(),
            Attributes::Object {
                kind: ObjectKind::Facility,
                code: None,
            },
        );
        known.add(
            path(&["罐区", "储罐"]),
            Uuid::nil(),
            Attributes::Unit {
                department: Some("储运部".into()),
                responsible: None,
            },
        );
        let planned = plan(
            &rows(&[
                &["罐区", "设施", "储罐", "生产部", "", "", "", "", "", "", ""],
                &[
                    "罐区",
                    "",
                    "储罐",
                    "",
                    "泄漏",
                    "LS",
                    "L=1，S=1",
                    "",
                    "",
                    "",
                    "",
                ],
            ]),
            &layout(HEADERS),
            &known,
            &bands(),
        );
        assert!(planned[0].adds.is_empty() && planned[0].problems.is_empty());
        assert_eq!(planned[0].notes.len(), 1, "{planned:?}");
        assert!(planned[0].notes[0].contains("储罐"));
        assert_eq!(planned[1].adds.len(), 1);
        assert!(planned[1].notes.is_empty());
    }

    #[test]
    fn a_header_names_each_column_once_and_the_object() {
        let twice = ["风险分析对象", "责任人", "管控责任人"].map(String::from);
        assert_eq!(SheetLayout::of(&twice).unwrap_err().len(), 1);
        let without = ["风险分析单元", "责任人"].map(String::from);
        assert!(SheetLayout::of(&without).is_err());
        assert_eq!(column_of(" 风险等级 "), Some(Column::WorkedOut));
        assert_eq!(column_of("l"), Some(Column::L));
    }
}
