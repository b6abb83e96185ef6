//! Grading and differentiated supervision put to work: records assessments
//! (with their event) in one transaction, and derives from the stored facts
//! each enterprise's grade as of a day, its review flag, what falls due, and
//! the counts per grade the reports use.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::json;
use uuid::Uuid;

use crate::db::enterprises::{self, Enterprise};
use crate::db::grading::{self as store, Assessment, EnterpriseEvent, HazardPressure};
use crate::db::Id;
use crate::db::{write_transaction, DbConnection};
use crate::domain::access::Caller;
use crate::domain::enterprise::EnterpriseStatus;
use crate::domain::grading::{
    due_items, self_check_due, DueItem, Grade, NewAssessment, SupervisionFacts, Thresholds,
};
use crate::domain::hazard::CheckSource;
use crate::error::AppError;
use crate::settings::GradingSettings;

/// Appends one event to an enterprise's history.
pub fn record_enterprise_event(
    conn: &mut DbConnection,
    enterprise_id: Id,
    caller: &Caller,
    action: &str,
    occurred_at: NaiveDateTime,
    note: Option<String>,
    details: serde_json::Value,
) -> Result<(), AppError> {
    let seq = store::next_event_seq(conn, enterprise_id)?;
    store::append_event(
        conn,
        &EnterpriseEvent {
            id: Uuid::now_v7().into(),
            enterprise_id,
            seq,
            action: action.to_owned(),
            actor_id: caller.user_id.into(),
            actor_role: caller.role,
            occurred_at,
            recorded_at: crate::clock::now_utc(),
            note,
            details: details.to_string(),
        },
    )
}

/// Grades the assessment with the thresholds in force and records it and
/// its event together. The grade and thresholds are stored with it, so a
/// later change of configuration never regrades the past.
pub fn record_assessment(
    conn: &mut DbConnection,
    caller: &Caller,
    enterprise_id: Uuid,
    new: NewAssessment,
    thresholds: &Thresholds,
) -> Result<Assessment, AppError> {
    write_transaction(conn, |conn| {
        let enterprise_id = Id::from(enterprise_id);
        if !enterprises::exists(conn, enterprise_id)? {
            return Err(AppError::NotFound("enterprise"));
        }
        let current = |conn: &mut DbConnection| -> Result<Option<Grade>, AppError> {
            Ok(store::assessments(conn, enterprise_id)?
                .first()
                .map(|a| a.grade))
        };
        let grade_before = current(conn)?;
        let grade = thresholds.grade(new.score_centi, !new.direct_red_triggers.is_empty());
        let now = crate::clock::now_utc();
        let assessment = Assessment {
            id: Uuid::now_v7().into(),
            enterprise_id,
            score_centi: new.score_centi,
            direct_red_triggers: serde_json::to_string(&new.direct_red_triggers)
                .map_err(|e| AppError::Internal(e.into()))?,
            grade,
            thresholds_version: thresholds.version.clone(),
            thresholds: serde_json::to_string(thresholds)
                .map_err(|e| AppError::Internal(e.into()))?,
            assessed_on: new.assessed_on,
            assessor: new.assessor,
            notes: new.notes,
            recorded_by: caller.user_id.into(),
            recorded_at: now,
        };
        store::insert_assessment(conn, &assessment)?;
        record_enterprise_event(
            conn,
            enterprise_id,
            caller,
            "assessed",
            new.assessed_on.and_time(chrono::NaiveTime::MIN),
            None,
            json!({
                "assessment_id": assessment.id,
                "score": f64::from(assessment.score_centi) / 100.0,
                "grade": assessment.grade,
                "direct_red_triggers": new.direct_red_triggers,
                "thresholds_version": assessment.thresholds_version,
            }),
        )?;
        let grade_after = current(conn)?;
        if grade_after != grade_before {
            let data = json!({
                "enterprise_id": enterprise_id,
                "from_grade": grade_before,
                "to_grade": grade_after,
                "assessment_id": assessment.id,
                "assessed_on": assessment.assessed_on,
            });
            let event = crate::domain::webhook::EventType::EnterpriseGradeChanged;
            crate::app::webhooks::publish(conn, event, data, now)?;
        }
        Ok(assessment)
    })
}

/// An enterprise's grade on a day, and whether its record suggests a review.
#[derive(Debug, Clone)]
pub struct Standing {
    pub assessment: Option<Assessment>,
    pub review_reasons: Vec<String>,
}

impl Standing {
    pub fn grade(&self) -> Option<Grade> {
        self.assessment.as_ref().map(|a| a.grade)
    }
}

fn review_reasons(pressure: HazardPressure, overdue_limit: u32) -> Vec<String> {
    let mut reasons = Vec::new();
    if pressure.open_major > 0 {
        reasons.push(format!("{} open major hazard(s)", pressure.open_major));
    }
    if pressure.overdue > i64::from(overdue_limit) {
        reasons.push(format!(
            "{} overdue hazards (more than {overdue_limit})",
            pressure.overdue
        ));
    }
    reasons
}

/// Standings of every enterprise (or of `only`) as of `as_of`; the review
/// flag always reflects `today`, as it is about what to do now.
pub fn standings(
    conn: &mut DbConnection,
    grading: &GradingSettings,
    as_of: NaiveDate,
    today: NaiveDate,
    only: Option<Id>,
) -> Result<HashMap<Id, Standing>, AppError> {
    let mut grades = store::grades_as_of(conn, as_of, only)?;
    let pressure = store::hazard_pressure(conn, today, only)?;
    let mut ids: Vec<Id> = grades.keys().copied().collect();
    ids.extend(pressure.keys().copied());
    let mut standings = HashMap::new();
    for id in ids {
        let reasons = review_reasons(
            pressure.get(&id).copied().unwrap_or_default(),
            grading.review_overdue_hazards,
        );
        let assessment = grades.remove(&id);
        standings.entry(id).or_insert(Standing {
            assessment,
            review_reasons: reasons,
        });
    }
    Ok(standings)
}

/// Enterprises per grade on a day; never-assessed ones are counted apart.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct GradeCounts {
    pub red: i64,
    pub orange: i64,
    pub yellow: i64,
    pub blue: i64,
    /// Registered but never assessed by that day.
    pub not_assessed: i64,
}

pub fn grade_counts(conn: &mut DbConnection, as_of: NaiveDate) -> Result<GradeCounts, AppError> {
    let grades = store::grades_as_of(conn, as_of, None)?;
    let registered = enterprises::registered_by(conn, as_of)?;
    let mut counts = GradeCounts::default();
    for assessment in grades.values() {
        match assessment.grade {
            Grade::Red => counts.red += 1,
            Grade::Orange => counts.orange += 1,
            Grade::Yellow => counts.yellow += 1,
            Grade::Blue => counts.blue += 1,
        }
    }
    // Paper records may grade an enterprise before it was registered here.
    counts.not_assessed = i64::try_from(
        registered
            .iter()
            .filter(|id| !grades.contains_key(*id))
            .count(),
    )
    .unwrap_or(i64::MAX);
    Ok(counts)
}

/// One enterprise in the due list.
#[derive(Debug, Clone)]
pub struct DueEnterprise {
    pub enterprise: Enterprise,
    pub standing: Standing,
    pub items: Vec<DueItem>,
}

/// Enterprises (not closed) with something due on or before `horizon`,
/// most urgent (earliest due) first.
pub fn due_list(
    conn: &mut DbConnection,
    grading: &GradingSettings,
    today: NaiveDate,
    horizon: NaiveDate,
    flagged: &HashMap<Id, Vec<(DueItem, String)>>,
) -> Result<Vec<DueEnterprise>, AppError> {
    let mut standings = standings(conn, grading, today, today, None)?;
    let visits = store::last_supervision_visits(conn, &grading.supervision_sources)?;
    let self_checks =
        store::last_supervision_visits(conn, &[CheckSource::SelfCheck.as_str().to_owned()])?;
    let mut due = Vec::new();
    for enterprise in enterprises::all_active(conn)? {
        let standing = standings.remove(&enterprise.id).unwrap_or(Standing {
            assessment: None,
            review_reasons: Vec::new(),
        });
        let facts = SupervisionFacts {
            grade: standing.grade(),
            last_assessed_on: standing.assessment.as_ref().map(|a| a.assessed_on),
            last_supervision_on: visits.get(&enterprise.id).copied(),
            registered_on: enterprise.created_at.date(),
        };
        let mut items = due_items(facts, |grade| grading.intervals.of(grade), horizon);
        items.extend(self_check_due(
            enterprise.status == EnterpriseStatus::Producing,
            self_checks.get(&enterprise.id).copied(),
            facts.registered_on,
            grading.self_check_interval_days,
            horizon,
        ));
        let mut standing = standing;
        for (item, why) in flagged.get(&enterprise.id).into_iter().flatten() {
            if item.due_on <= horizon {
                items.push(*item);
                standing.review_reasons.push(why.clone());
            }
        }
        items.sort_by_key(|item| item.due_on);
        if !items.is_empty() {
            due.push(DueEnterprise {
                enterprise,
                standing,
                items,
            });
        }
    }
    due.sort_by_key(|d| (d.items.first().map(|i| i.due_on), d.enterprise.name.clone()));
    Ok(due)
}
