//! Hazards found by check tasks, counted by the node of the risk register
//! whose measure failed — per unit, event or measure — with how they stand
//! now: the register's weak points, for the park's analysis (隐患按风险单元、
//! 风险事件、管控措施统计). A hazard counts in the period its record was made.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::analytics::{Cell, Table};
use crate::app::check_figures::{check_period, utc_range};
use crate::app::checks::RecordContext;
use crate::db::risk::{self as store, RaisedHazard};
use crate::db::{stats, DbConnection, Id};
use crate::domain::hazard::{HazardLevel, HazardState};
use crate::domain::risk::RiskLevel;
use crate::error::{AppError, FieldError};
use crate::messages::Rule;

/// The most rows an answer lists.
pub const MAX_ROWS: u32 = 1000;

/// The register's level hazards are counted at.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CountBy {
    /// 风险分析单元
    #[default]
    Unit,
    /// 安全风险事件
    Event,
    /// 管控措施
    Measure,
}

/// How a node's hazards stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NodeHazards {
    /// Found in the period (voided ones left out).
    pub found: u64,
    /// Of them, closed (销号) by now.
    pub closed: u64,
    /// Of them, still open.
    pub open: u64,
    /// Of the open ones, past their deadline today.
    pub overdue: u64,
    /// Of them, major hazards (重大事故隐患).
    pub major: u64,
}

impl NodeHazards {
    fn count(&mut self, hazard: &RaisedHazard, today: NaiveDate) {
        self.found += 1;
        if hazard.state == HazardState::Closed {
            self.closed += 1;
        } else {
            self.open += 1;
        }
        if hazard.state.overdue_on(hazard.deadline, today) {
            self.overdue += 1;
        }
        if hazard.level == HazardLevel::Major {
            self.major += 1;
        }
    }
}

/// One node of the register and the hazards its checks found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NodeRow {
    pub enterprise_id: Uuid,
    pub enterprise_name: Option<String>,
    /// The risk analysis object the unit belongs to.
    pub object_name: String,
    pub unit_id: Uuid,
    pub unit_name: String,
    /// Absent when counted by unit.
    pub event_id: Option<Uuid>,
    pub event_name: Option<String>,
    /// Present only when counted by measure.
    pub measure_id: Option<Uuid>,
    pub measure: Option<String>,
    /// The node's risk level: a unit's is the highest of its events', a
    /// measure's its event's.
    pub level: RiskLevel,
    /// The node has left the register since; its hazards still count.
    pub retired: bool,
    pub hazards: NodeHazards,
}

/// Hazards found by check tasks in a period, by node.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HazardsByNode {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: CountBy,
    /// Every hazard found by check tasks in the period.
    pub total: NodeHazards,
    /// The nodes with hazards; `rows` lists the first `limit` of them.
    pub nodes: u64,
    /// Most hazards first, then most overdue.
    pub rows: Vec<NodeRow>,
}

/// The hazards check records raised in `[from, to]` (park-local days), of
/// one enterprise or all, counted by `by`; at most `limit` rows.
pub fn hazards_by_node(
    conn: &mut DbConnection,
    scope: Option<Uuid>,
    (from, to): (NaiveDate, NaiveDate),
    (by, limit): (CountBy, u32),
    context: &RecordContext,
) -> Result<HazardsByNode, AppError> {
    check_period(from, to)?;
    if !(1..=MAX_ROWS).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            FieldError::new(Rule::OutOfRange)
                .with("min", 1)
                .with("max", MAX_ROWS),
        ));
    }
    let scope = scope.map(Id::from);
    let today = context.lifecycle.now.park_today;
    let raised = store::raised_hazards(conn, scope, utc_range(context, from, to))?;

    // A unit's level: the highest of its events in the register, or of
    // all it had once everything is retired.
    let mut unit_level: HashMap<Id, (Option<RiskLevel>, RiskLevel)> = HashMap::new();
    if by == CountBy::Unit && !raised.is_empty() {
        for event in store::event_levels(conn, scope)? {
            let (live, all) = unit_level.entry(event.unit).or_insert((None, event.level));
            *all = all.max(event.level);
            if event.live {
                *live = Some(live.map_or(event.level, |l| l.max(event.level)));
            }
        }
    }

    let mut total = NodeHazards::default();
    let mut nodes: BTreeMap<Id, NodeRow> = BTreeMap::new();
    for hazard in &raised {
        total.count(hazard, today);
        let key = match by {
            CountBy::Unit => hazard.unit_id,
            CountBy::Event => hazard.event_id,
            CountBy::Measure => hazard.measure_id,
        };
        nodes
            .entry(key)
            .or_insert_with(|| row_of(hazard, by, &unit_level))
            .hazards
            .count(hazard, today);
    }

    let names: HashMap<Id, String> = stats::enterprise_names(conn)?.into_iter().collect();
    let mut rows: Vec<NodeRow> = nodes.into_values().collect();
    for row in &mut rows {
        row.enterprise_name = names.get(&Id::from(row.enterprise_id)).cloned();
    }
    rows.sort_by(|a, b| {
        (b.hazards.found, b.hazards.overdue)
            .cmp(&(a.hazards.found, a.hazards.overdue))
            .then_with(|| a.enterprise_name.cmp(&b.enterprise_name))
            .then_with(|| a.unit_name.cmp(&b.unit_name))
            .then_with(|| a.event_name.cmp(&b.event_name))
            .then_with(|| a.measure.cmp(&b.measure))
    });
    let count = rows.len() as u64;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(HazardsByNode {
        from,
        to,
        by,
        total,
        nodes: count,
        rows,
    })
}

fn row_of(
    hazard: &RaisedHazard,
    by: CountBy,
    unit_level: &HashMap<Id, (Option<RiskLevel>, RiskLevel)>,
) -> NodeRow {
    let (event, measure) = match by {
        CountBy::Unit => (false, false),
        CountBy::Event => (true, false),
        CountBy::Measure => (true, true),
    };
    let level = match by {
        CountBy::Unit => unit_level
            .get(&hazard.unit_id)
            .map_or(hazard.event_level, |(live, all)| live.unwrap_or(*all)),
        CountBy::Event | CountBy::Measure => hazard.event_level,
    };
    let retired = hazard.unit_retired.is_some()
        || (event && hazard.event_retired.is_some())
        || (measure && hazard.measure_retired.is_some());
    NodeRow {
        enterprise_id: hazard.enterprise_id.uuid(),
        enterprise_name: None,
        object_name: hazard.object_name.clone(),
        unit_id: hazard.unit_id.uuid(),
        unit_name: hazard.unit_name.clone(),
        event_id: event.then(|| hazard.event_id.uuid()),
        event_name: event.then(|| hazard.event_name.clone()),
        measure_id: measure.then(|| hazard.measure_id.uuid()),
        measure: measure.then(|| hazard.measure.clone()),
        level,
        retired,
        hazards: NodeHazards::default(),
    }
}

impl HazardsByNode {
    /// The rows as a table, with the period's total last.
    pub fn table(&self) -> Table {
        let mut columns = vec!["企业", "风险分析对象", "风险分析单元"];
        let (event, measure) = match self.by {
            CountBy::Unit => (false, false),
            CountBy::Event => (true, false),
            CountBy::Measure => (true, true),
        };
        if event {
            columns.push("安全风险事件");
        }
        if measure {
            columns.push("管控措施");
        }
        columns.extend([
            "风险等级",
            "已移出风险清单",
            "发现隐患",
            "已整改",
            "未整改",
            "逾期未整改",
            "重大事故隐患",
        ]);
        let counts = |h: &NodeHazards| {
            [h.found, h.closed, h.open, h.overdue, h.major].map(|n| Cell::Number(n as f64))
        };
        let mut rows: Vec<Vec<Cell>> = self
            .rows
            .iter()
            .map(|row| {
                let mut cells = vec![
                    Cell::Text(row.enterprise_name.clone().unwrap_or_default()),
                    Cell::Text(row.object_name.clone()),
                    Cell::Text(row.unit_name.clone()),
                ];
                if event {
                    cells.push(Cell::Text(row.event_name.clone().unwrap_or_default()));
                }
                if measure {
                    cells.push(Cell::Text(row.measure.clone().unwrap_or_default()));
                }
                cells.push(Cell::Text(row.level.label_zh().to_owned()));
                cells.push(Cell::Text(if row.retired { "是" } else { "" }.to_owned()));
                cells.extend(counts(&row.hazards));
                cells
            })
            .collect();
        let mut last = vec![Cell::Text("合计".to_owned()), Cell::Empty, Cell::Empty];
        last.extend((0..usize::from(event) + usize::from(measure)).map(|_| Cell::Empty));
        last.extend([Cell::Empty, Cell::Empty]);
        last.extend(counts(&self.total));
        rows.push(last);
        Table {
            title: "排查任务发现隐患分布",
            columns: columns.into_iter().map(str::to_owned).collect(),
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_overdue_is_only_open_work_past_its_day() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let mut hazard = RaisedHazard {
            enterprise_id: Id::from(Uuid::nil()),
            object_name: "罐区".into(),
            unit_id: Id::from(Uuid::nil()),
            unit_name: "1号罐".into(),
            unit_retired: None,
            event_id: Id::from(Uuid::nil()),
            event_name: "泄漏".into(),
            event_level: RiskLevel::Serious,
            event_retired: None,
            measure_id: Id::from(Uuid::nil()),
            measure: "液位监测".into(),
            measure_retired: None,
            state: HazardState::Rectifying,
            level: HazardLevel::General,
            deadline: today - chrono::TimeDelta::days(1),
        };
        let mut counts = NodeHazards::default();
        counts.count(&hazard, today);
        hazard.state = HazardState::PendingAcceptance;
        counts.count(&hazard, today);
        hazard.state = HazardState::Closed;
        hazard.level = HazardLevel::Major;
        counts.count(&hazard, today);
        assert_eq!(
            counts,
            NodeHazards {
                found: 3,
                closed: 1,
                open: 2,
                overdue: 1,
                major: 1
            }
        );
    }
}
