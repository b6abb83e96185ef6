//! Tallies of check occurrences the figures, the wall screen and the
//! reports share: occurrences by where they stand with their rates, counts
//! by risk level, and one kind of 包保责任人's duty checks. Plain data with
//! their counting; the services fill them.

use serde::{Deserialize, Serialize};

use crate::domain::major_source::PersonKind;
use crate::domain::risk::RiskLevel;
use crate::domain::schedule::Status;

/// Occurrences by where they stand, and the rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Completion {
    /// Occurrences that started in the period, up to now.
    pub planned: u64,
    /// Of those, paused (the unit was down the whole time).
    pub paused: u64,
    pub done_on_time: u64,
    pub done_late: u64,
    pub missed: u64,
    /// Started, not recorded, and still within their time.
    pub due: u64,
    /// (on time + late) / (planned − paused − due); null with nothing to
    /// check yet.
    pub completion_rate: Option<f64>,
    /// on time / (planned − paused − due).
    pub on_time_rate: Option<f64>,
}

impl Completion {
    pub fn count(&mut self, status: Status) {
        let counter = match status {
            Status::Done { .. } => &mut self.done_on_time,
            Status::DoneLate { .. } => &mut self.done_late,
            Status::Missed => &mut self.missed,
            Status::Paused => &mut self.paused,
            Status::Due => &mut self.due,
            // Not yet started: not planned so far (callers stop at now).
            Status::Upcoming => return,
        };
        *counter += 1;
        self.planned += 1;
    }

    pub fn add(&mut self, other: &Completion) {
        self.planned += other.planned;
        self.paused += other.paused;
        self.done_on_time += other.done_on_time;
        self.done_late += other.done_late;
        self.missed += other.missed;
        self.due += other.due;
    }

    pub fn rated(mut self) -> Completion {
        let settled = self.done_on_time + self.done_late + self.missed;
        let rate = |n: u64| (settled > 0).then(|| n as f64 / settled as f64);
        self.completion_rate = rate(self.done_on_time + self.done_late);
        self.on_time_rate = rate(self.done_on_time);
        self
    }
}

/// Counts by risk level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ByLevel {
    pub major: u64,
    pub serious: u64,
    pub general: u64,
    pub low: u64,
}

impl ByLevel {
    pub fn count(&mut self, level: RiskLevel) {
        match level {
            RiskLevel::Major => self.major += 1,
            RiskLevel::Serious => self.serious += 1,
            RiskLevel::General => self.general += 1,
            RiskLevel::Low => self.low += 1,
        }
    }

    pub fn add(&mut self, other: &ByLevel) {
        self.major += other.major;
        self.serious += other.serious;
        self.general += other.general;
        self.low += other.low;
    }
}

/// One kind of person's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KindFigures {
    pub kind: PersonKind,
    /// 主要负责人 / 技术负责人 / 操作负责人
    pub label: String,
    pub occurrences: Completion,
    /// Hazards their duty checks found in the period.
    pub hazards_found: u64,
    /// Of those, closed (rectified and accepted) by now.
    pub hazards_rectified: u64,
}

impl KindFigures {
    pub fn blank(kind: PersonKind) -> Self {
        KindFigures {
            kind,
            label: kind.label_zh().to_owned(),
            occurrences: Completion::default(),
            hazards_found: 0,
            hazards_rectified: 0,
        }
    }

    pub fn add(&mut self, other: &KindFigures) {
        self.occurrences.add(&other.occurrences);
        self.hazards_found += other.hazards_found;
        self.hazards_rectified += other.hazards_rectified;
    }
}

/// One enterprise's check tasks over a period, as its Art. 14 filing
/// carries them (双重预防运行情况).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckSummary {
    /// Its check tasks (retired ones too: their past occurrences count).
    pub tasks: u64,
    /// Occurrences of the period up to when prepared.
    pub occurrences: Completion,
    /// Of the missed, those on 重大 or 较大 units.
    pub missed_on_serious_units: u64,
    /// Hazards found in the period by check tasks' abnormal records.
    pub hazards_from_tasks: u64,
    /// Hazards found in the period otherwise.
    pub hazards_other: u64,
    /// The register's units and events by level (as of when prepared).
    pub units_by_level: ByLevel,
    pub events_by_level: ByLevel,
}

/// One enterprise's 包保 figures over a period, as its Art. 14 filing
/// carries them: its sources and each kind of person's duty checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DutySummary {
    pub sources: u64,
    /// Sources by grade: 一级, 二级, 三级, 四级.
    pub sources_by_grade: [u64; 4],
    /// Sources some kind of person is missing from (as of when prepared).
    pub sources_missing_persons: u64,
    /// Sources some kind of person is behind on in the period.
    pub sources_behind: u64,
    /// Principal, technical, operational, in that order.
    pub kinds: Vec<KindFigures>,
}
