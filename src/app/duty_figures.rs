//! 三类包保责任人分类统计: for each major hazard source, enterprise and the
//! park, over a period, each kind of 包保责任人's duty checks planned (so
//! far), done on time, done late, missed, paused and due, the completion
//! rate, and the hazards their checks found and how many of those are
//! rectified; the sources whose persons are missing or behind. Read from
//! the duty check tasks' schedules and records by the register's engine.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use serde::Serialize;
use uuid::Uuid;

use crate::app::analytics::{Cell, Table};
use crate::app::check_figures::{check_period, judge};
use crate::app::checks::RecordContext;
use crate::app::filings::Filing;
use crate::app::major_sources::SourceRecord;
use crate::app::occurrences::{utc_of, walk, Walker};
use crate::db::major_sources as sources_store;
use crate::db::risk::{self as store, FoundRecord, TaskRow};
use crate::db::{stats, DbConnection, Id};
use crate::domain::major_source::{grade_label, PersonKind};
use crate::domain::tally::Completion;
use crate::domain::tally::DutySummary;
pub use crate::domain::tally::KindFigures;
use crate::error::AppError;

fn three() -> Vec<KindFigures> {
    PersonKind::ALL
        .into_iter()
        .map(KindFigures::blank)
        .collect()
}

fn rated(kinds: &mut [KindFigures]) {
    for kind in kinds {
        kind.occurrences = kind.occurrences.rated();
    }
}

fn slot(kind: PersonKind) -> usize {
    match kind {
        PersonKind::Principal => 0,
        PersonKind::Technical => 1,
        PersonKind::Operational => 2,
    }
}

/// One source's row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SourceDutyRow {
    pub source_id: Uuid,
    pub enterprise_id: Uuid,
    pub enterprise_name: Option<String>,
    pub code: String,
    pub name: String,
    /// 1 (一级) to 4 (四级).
    pub grade: i32,
    pub grade_label: String,
    /// Principal, technical, operational, in that order.
    pub kinds: Vec<KindFigures>,
    /// The kinds nobody holds now.
    pub missing: Vec<PersonKind>,
    /// The kinds whose completion rate in the period is below
    /// `major_sources.behind_below_rate`.
    pub behind: Vec<PersonKind>,
}

/// One enterprise's row, or the park's.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnterpriseDutyRow {
    /// Absent on the park's row.
    pub enterprise_id: Option<Uuid>,
    pub enterprise_name: Option<String>,
    pub sources: u64,
    /// Sources by grade: 一级, 二级, 三级, 四级.
    pub sources_by_grade: [u64; 4],
    pub kinds: Vec<KindFigures>,
    /// Sources some kind of person is missing from.
    pub sources_missing_persons: u64,
    /// Sources some kind of person is behind on.
    pub sources_behind: u64,
}

impl EnterpriseDutyRow {
    /// The row as a filing carries it.
    pub fn summary(self) -> DutySummary {
        DutySummary {
            sources: self.sources,
            sources_by_grade: self.sources_by_grade,
            sources_missing_persons: self.sources_missing_persons,
            sources_behind: self.sources_behind,
            kinds: self.kinds,
        }
    }

    fn blank(enterprise: Option<Id>) -> Self {
        EnterpriseDutyRow {
            enterprise_id: enterprise.map(Id::uuid),
            enterprise_name: None,
            sources: 0,
            sources_by_grade: [0; 4],
            kinds: three(),
            sources_missing_persons: 0,
            sources_behind: 0,
        }
    }

    fn add(&mut self, source: &SourceDutyRow) {
        self.sources += 1;
        let grade = usize::try_from(source.grade.clamp(1, 4) - 1).unwrap_or(3);
        self.sources_by_grade[grade] += 1;
        for (mine, theirs) in self.kinds.iter_mut().zip(&source.kinds) {
            mine.add(theirs);
        }
        self.sources_missing_persons += u64::from(!source.missing.is_empty());
        self.sources_behind += u64::from(!source.behind.is_empty());
    }
}

/// The figures of a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DutyFigures {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub park: EnterpriseDutyRow,
    /// By enterprise name.
    pub enterprises: Vec<EnterpriseDutyRow>,
    /// By enterprise name and code.
    pub sources: Vec<SourceDutyRow>,
}

/// The figures of `[from, to]` (park-local days) over the sources given.
pub fn figures(
    conn: &mut DbConnection,
    records: &[SourceRecord],
    (from, to): (NaiveDate, NaiveDate),
    behind_below_rate: f64,
    context: &RecordContext,
) -> Result<DutyFigures, AppError> {
    check_period(from, to)?;
    let judge = judge(context);
    let tz = judge.tz;
    let start = from.and_time(NaiveTime::MIN);
    let end = (to + TimeDelta::days(1)).and_time(NaiveTime::MIN);
    let end_utc = utc_of(tz, end);

    // The duty tasks of these sources, by the unit holding their duties.
    let source_of_unit: HashMap<Id, usize> = records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.source.unit_id, i))
        .collect();
    let enterprises: HashSet<Id> = records.iter().map(|r| r.source.enterprise_id).collect();
    let mut tasks: Vec<TaskRow> = Vec::new();
    for enterprise in &enterprises {
        tasks.extend(
            store::tasks_of(conn, Some(*enterprise))?
                .into_iter()
                .filter(|t| t.kind.duty_of().is_some() && source_of_unit.contains_key(&t.unit_id)),
        );
    }

    struct Counter<'a> {
        per_source: Vec<Vec<KindFigures>>,
        source_of_unit: &'a HashMap<Id, usize>,
        end_utc: NaiveDateTime,
        hazards: Vec<(usize, usize, Id)>,
    }
    impl Counter<'_> {
        fn place(&self, task: &TaskRow) -> Option<(usize, usize)> {
            let source = *self.source_of_unit.get(&task.unit_id)?;
            Some((source, slot(task.kind.duty_of()?)))
        }
    }
    impl Walker for Counter<'_> {
        fn record(&mut self, task: &TaskRow, record: &FoundRecord) {
            if let Some((source, kind)) = self.place(task) {
                let hazard = record.hazard_id;
                if record.checked_at < self.end_utc {
                    self.per_source[source][kind].hazards_found += 1;
                    self.hazards.push((source, kind, hazard));
                }
            }
        }

        fn occurrences(&mut self, task: &TaskRow, counted: &Completion) {
            if let Some((source, kind)) = self.place(task) {
                self.per_source[source][kind].occurrences.add(counted);
            }
        }
    }
    let mut counter = Counter {
        per_source: records.iter().map(|_| three()).collect(),
        source_of_unit: &source_of_unit,
        end_utc,
        hazards: Vec::new(),
    };
    walk(conn, &tasks, (start, end), judge, &mut counter)?;
    let found: Vec<Id> = counter.hazards.iter().map(|(_, _, h)| *h).collect();
    let closed: HashSet<Id> = sources_store::closed_among(conn, &found)?;
    for (source, kind, hazard) in &counter.hazards {
        if closed.contains(hazard) {
            counter.per_source[*source][*kind].hazards_rectified += 1;
        }
    }

    let names: HashMap<Id, String> = stats::enterprise_names(conn)?.into_iter().collect();
    let mut park = EnterpriseDutyRow::blank(None);
    let mut by_enterprise: BTreeMap<Id, EnterpriseDutyRow> = BTreeMap::new();
    let mut rows = Vec::with_capacity(records.len());
    for (record, kinds) in records.iter().zip(counter.per_source) {
        let mut kinds = kinds;
        let behind = PersonKind::ALL
            .into_iter()
            .zip(&kinds)
            .filter(|(_, k)| {
                let o = &k.occurrences;
                let settled = o.done_on_time + o.done_late + o.missed;
                settled > 0
                    && ((o.done_on_time + o.done_late) as f64) < behind_below_rate * settled as f64
            })
            .map(|(kind, _)| kind)
            .collect();
        let source = &record.source;
        let row_kinds = kinds.clone();
        rated(&mut kinds);
        let row = SourceDutyRow {
            source_id: source.id.uuid(),
            enterprise_id: source.enterprise_id.uuid(),
            enterprise_name: names.get(&source.enterprise_id).cloned(),
            code: source.code.clone(),
            name: source.name.clone(),
            grade: source.grade,
            grade_label: grade_label(u8::try_from(source.grade).unwrap_or(4)).to_owned(),
            kinds,
            missing: record.missing(),
            behind,
        };
        // Sums take the unrated counts.
        let unrated = SourceDutyRow {
            kinds: row_kinds,
            ..row.clone()
        };
        park.add(&unrated);
        by_enterprise
            .entry(source.enterprise_id)
            .or_insert_with(|| EnterpriseDutyRow::blank(Some(source.enterprise_id)))
            .add(&unrated);
        rows.push(row);
    }
    rated(&mut park.kinds);
    let mut enterprises: Vec<EnterpriseDutyRow> = by_enterprise
        .into_iter()
        .map(|(id, mut row)| {
            row.enterprise_name = names.get(&id).cloned();
            rated(&mut row.kinds);
            row
        })
        .collect();
    enterprises.sort_by(|a, b| a.enterprise_name.cmp(&b.enterprise_name));
    rows.sort_by(|a, b| (&a.enterprise_name, &a.code).cmp(&(&b.enterprise_name, &b.code)));
    Ok(DutyFigures {
        from,
        to,
        park,
        enterprises,
        sources: rows,
    })
}

/// One enterprise's figures of `[from, to]`, for its filing; none when it
/// has no major hazard source.
pub fn summary_of(
    conn: &mut DbConnection,
    enterprise: Id,
    period: (NaiveDate, NaiveDate),
    behind_below_rate: f64,
    context: &RecordContext,
) -> Result<Option<DutySummary>, AppError> {
    let rows = sources_store::sources(conn, Some(enterprise))?;
    if rows.is_empty() {
        return Ok(None);
    }
    let records = crate::app::major_sources::with_persons(conn, rows)?;
    let figures = figures(conn, &records, period, behind_below_rate, context)?;
    Ok(Some(figures.park.summary()))
}

/// Adds the 包保 figures to the filings not yet filed (a filed version
/// carries its own, frozen), for the enterprises that keep sources.
pub fn with_duties(
    conn: &mut DbConnection,
    filings: &mut [Filing],
    behind_below_rate: f64,
    context: &RecordContext,
) -> Result<(), AppError> {
    let keeping: HashSet<Id> = sources_store::sources(conn, None)?
        .into_iter()
        .map(|s| s.enterprise_id)
        .collect();
    for filing in filings.iter_mut() {
        let enterprise = Id::from(filing.enterprise_id);
        if filing.versions.is_empty() && keeping.contains(&enterprise) {
            let period = (filing.period.first_day, filing.period.last_day);
            filing.figures.major_sources =
                summary_of(conn, enterprise, period, behind_below_rate, context)?;
        }
    }
    Ok(())
}

fn rate(value: Option<f64>) -> Cell {
    value.map_or(Cell::Empty, |r| Cell::Text(format!("{:.1}%", r * 100.0)))
}

impl DutyFigures {
    /// The table the acceptance asked for: a row per source and kind of
    /// person, then per enterprise and kind, then the park's.
    pub fn table(&self) -> Table {
        let columns = [
            "范围",
            "企业",
            "重大危险源编号",
            "重大危险源",
            "等级",
            "包保责任人类别",
            "应排查次数",
            "按时完成",
            "逾期完成",
            "未完成",
            "暂停",
            "进行中",
            "完成率",
            "发现隐患",
            "已整改隐患",
            "缺少责任人",
        ];
        let mut rows = Vec::new();
        let kind_cells = |k: &KindFigures| {
            let o = &k.occurrences;
            vec![
                Cell::Text(k.label.clone()),
                Cell::Number(o.planned as f64),
                Cell::Number(o.done_on_time as f64),
                Cell::Number(o.done_late as f64),
                Cell::Number(o.missed as f64),
                Cell::Number(o.paused as f64),
                Cell::Number(o.due as f64),
                rate(o.completion_rate),
                Cell::Number(k.hazards_found as f64),
                Cell::Number(k.hazards_rectified as f64),
            ]
        };
        for source in &self.sources {
            for k in &source.kinds {
                let mut cells = vec![
                    Cell::Text("重大危险源".into()),
                    Cell::Text(source.enterprise_name.clone().unwrap_or_default()),
                    Cell::Text(source.code.clone()),
                    Cell::Text(source.name.clone()),
                    Cell::Text(source.grade_label.clone()),
                ];
                cells.extend(kind_cells(k));
                cells.push(Cell::Text(
                    if source.missing.contains(&k.kind) {
                        "是"
                    } else {
                        ""
                    }
                    .into(),
                ));
                rows.push(cells);
            }
        }
        let group = |rows: &mut Vec<Vec<Cell>>, scope: &str, row: &EnterpriseDutyRow| {
            for k in &row.kinds {
                let mut cells = vec![
                    Cell::Text(scope.into()),
                    Cell::Text(row.enterprise_name.clone().unwrap_or_default()),
                    Cell::Empty,
                    Cell::Text(format!("{}处", row.sources)),
                    Cell::Empty,
                ];
                cells.extend(kind_cells(k));
                cells.push(Cell::Number(row.sources_missing_persons as f64));
                rows.push(cells);
            }
        };
        for row in &self.enterprises {
            group(&mut rows, "企业", row);
        }
        group(&mut rows, "园区", &self.park);
        Table {
            title: "三类包保责任人分类统计",
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows,
        }
    }
}
