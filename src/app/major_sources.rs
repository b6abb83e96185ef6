//! The registry of major hazard sources (重大危险源) and their three
//! 包保责任人. Registering a source makes it a risk analysis object of the
//! register, with a unit holding its 包保 duties: an event levelled by the
//! source's grade and one control measure per kind of person, whose check
//! content is that kind's published duties. Appointing a person gives
//! them (or, without an account, the enterprise's contacts) a check task
//! of the register's engine on the kind's frequency; replacing them
//! retires the old task. Every change is an event of the enterprise.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::json;
use uuid::Uuid;

use crate::app::grading::record_enterprise_event;
use crate::db::major_sources::{self as store, AssessmentRow, DrillRow, PersonRow, SourceRow};
use crate::db::risk::{self as register, EventRow, MeasureRow, ObjectRow, TaskRow, UnitRow};
use crate::db::{enterprises, users, write_transaction, DbConnection, Id};
use crate::domain::access::{Caller, Role};
use crate::domain::check_task::TaskKind;
use crate::domain::grading::{DueItem, DueReason};
use crate::domain::major_source::{
    check_content, duties, grade_label, risk_level_of_grade, AssessmentCause, DrillKind, NewDrill,
    NewPerson, NewSource, PersonKind, Rating, SourceInputs,
};
use crate::domain::risk::{Assessment, ControlMode, ObjectKind};
use crate::domain::schedule::ScheduleSpec;
use crate::error::AppError;
use crate::messages::{Detail, Rule};
use crate::settings::MajorSourceSettings;

/// The class the 包保 duty measures are filed under (操作行为/其他).
const DUTY_CLASS: &str = "operation.other";

/// A source the caller may see; any other is not found.
pub fn visible_source(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<SourceRow, AppError> {
    store::find_source(conn, id.into())?
        .filter(|s| caller.can_see_enterprise(s.enterprise_id.uuid()))
        .ok_or(AppError::NotFound("major hazard source"))
}

fn assessment_of(rating: &Rating) -> Result<String, AppError> {
    serde_json::to_string(&Assessment::MajorSource {
        grade: rating.grade,
        r_centi: rating.r_centi,
    })
    .map_err(|e| AppError::Internal(e.into()))
}

fn json_of<T: serde::Serialize>(value: &T) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(|e| AppError::Internal(e.into()))
}

/// Registers a source with its register object, duty unit, event and
/// measures, in one transaction.
pub fn register_source(
    conn: &mut DbConnection,
    caller: &Caller,
    new: &NewSource,
    settings: &MajorSourceSettings,
    (now, today): (NaiveDateTime, NaiveDate),
) -> Result<SourceRow, AppError> {
    let fields = new.check(&settings.grades)?;
    let inputs = json_of(&new.inputs())?;
    let assessment = assessment_of(&fields.rating)?;
    write_transaction(conn, |conn| {
        if !caller.can_see_enterprise(new.enterprise_id)
            || enterprises::find(conn, new.enterprise_id.into())?.is_none()
        {
            return Err(AppError::invalid("enterprise_id", Rule::UnknownEnterprise));
        }
        let enterprise: Id = new.enterprise_id.into();
        let by: Id = caller.user_id.into();
        let object = ObjectRow {
            id: Uuid::now_v7().into(),
            enterprise_id: enterprise,
            kind: ObjectKind::MajorHazardSource,
            name: fields.name.clone(),
            major_source_code: Some(fields.code.clone()),
            created_by: by,
            created_at: now,
            retired_at: None,
        };
        register::insert_object(conn, &object)?;
        let unit = UnitRow {
            id: Uuid::now_v7().into(),
            object_id: object.id,
            enterprise_id: enterprise,
            name: format!("{}安全包保", fields.name),
            department: None,
            responsible_person: None,
            created_by: by,
            created_at: now,
            retired_at: None,
        };
        register::insert_unit(conn, &unit)?;
        let level = risk_level_of_grade(fields.rating.grade);
        let event = EventRow {
            id: Uuid::now_v7().into(),
            unit_id: unit.id,
            enterprise_id: enterprise,
            name: "重大危险源安全包保责任未落实".into(),
            consequence: Some("包保责任人未履职，重大危险源安全风险失控".into()),
            assessment,
            score_centi: fields.rating.r_centi.max(1),
            level,
            created_by: by,
            created_at: now,
            retired_at: None,
        };
        register::insert_event(conn, &event)?;
        let mut measures = Vec::with_capacity(3);
        for kind in PersonKind::ALL {
            let list = duties(kind);
            let measure = MeasureRow {
                id: Uuid::now_v7().into(),
                event_id: event.id,
                enterprise_id: enterprise,
                description: format!(
                    "{}履行包保职责（应急厅〔2021〕12号{}）",
                    kind.label_zh(),
                    list.article
                ),
                classification: DUTY_CLASS.into(),
                control_mode: ControlMode::Check,
                check_content: Some(check_content(kind)),
                created_by: by,
                created_at: now,
                retired_at: None,
            };
            register::insert_measure(conn, &measure)?;
            measures.push(measure.id);
        }
        let row = SourceRow {
            id: Uuid::now_v7().into(),
            enterprise_id: enterprise,
            object_id: object.id,
            unit_id: unit.id,
            event_id: event.id,
            principal_measure_id: measures[0],
            technical_measure_id: measures[1],
            operational_measure_id: measures[2],
            code: fields.code,
            name: fields.name,
            unit_kind: new.unit_kind,
            inputs,
            s_centi: fields.rating.s_centi,
            r_centi: fields.rating.r_centi,
            grade: i32::from(fields.rating.grade),
            assessed_on: new.assessed_on,
            created_by: by,
            created_at: now,
            updated_at: now,
            inputs_changed_on: None,
            registered_on: Some(today),
        };
        store::insert_source(conn, &row)?;
        record_enterprise_event(
            conn,
            enterprise,
            caller,
            "major_source_registered",
            now,
            None,
            json!({
                "source_id": row.id.uuid(),
                "code": row.code,
                "name": row.name,
                "grade": row.grade,
                "r": row.r_centi as f64 / 100.0,
            }),
        )?;
        Ok(row)
    })
}

/// New inputs of a source (a re-survey of its chemicals, a new safety
/// assessment): S, R and the grade are worked out again, and the duty
/// event's level follows.
pub fn change_inputs(
    conn: &mut DbConnection,
    caller: &Caller,
    source_id: Uuid,
    (inputs, assessed_on): (&SourceInputs, Option<NaiveDate>),
    settings: &MajorSourceSettings,
    (now, today): (NaiveDateTime, NaiveDate),
) -> Result<SourceRow, AppError> {
    let rating = inputs.rate(&settings.grades)?;
    let stored = json_of(inputs)?;
    let assessment = assessment_of(&rating)?;
    write_transaction(conn, |conn| {
        let before = visible_source(conn, caller, source_id)?;
        // Art. 11 of the 暂行规定: a change that moves the source's risk
        // calls for a new assessment, unless the inputs come from one.
        let changed_on = match assessed_on {
            Some(_) => None,
            None if rating.r_centi != before.r_centi => Some(today),
            None => before.inputs_changed_on,
        };
        let assessed_on = assessed_on.or(before.assessed_on);
        store::update_inputs(
            conn,
            before.id,
            (
                &stored,
                rating.s_centi,
                rating.r_centi,
                i32::from(rating.grade),
            ),
            (assessed_on, changed_on),
            now,
        )?;
        register::relevel_event(
            conn,
            before.event_id,
            &assessment,
            rating.r_centi.max(1),
            risk_level_of_grade(rating.grade),
        )?;
        record_enterprise_event(
            conn,
            before.enterprise_id,
            caller,
            "major_source_inputs_changed",
            now,
            None,
            json!({
                "source_id": before.id.uuid(),
                "from": { "grade": before.grade, "r": before.r_centi as f64 / 100.0 },
                "to": { "grade": rating.grade, "r": rating.r_centi as f64 / 100.0 },
                "assessed_on": assessed_on,
            }),
        )?;
        store::find_source(conn, before.id)?.ok_or(AppError::NotFound("major hazard source"))
    })
}

/// Appoints a person to a kind of duty for a source, replacing whoever
/// held it: the predecessor's row is kept with when they were replaced,
/// and their duty task retired. `today` is the park's day.
pub fn appoint(
    conn: &mut DbConnection,
    caller: &Caller,
    source_id: Uuid,
    new: &NewPerson,
    settings: &MajorSourceSettings,
    (now, today): (NaiveDateTime, NaiveDate),
) -> Result<PersonRow, AppError> {
    let fields = new.check()?;
    let since = new.since.unwrap_or(today);
    if since > today {
        return Err(AppError::invalid("since", Rule::DateInFuture));
    }
    let schedule: ScheduleSpec = settings.duty_frequency.of(new.kind).schedule_from(today);
    let schedule = json_of(&schedule)?;
    write_transaction(conn, |conn| {
        let source = visible_source(conn, caller, source_id)?;
        if let Some(user) = new.user_id {
            let fits = users::find(conn, user.into())?.is_some_and(|u| {
                u.active
                    && u.role == Role::Enterprise
                    && u.enterprise_id == Some(source.enterprise_id)
            });
            if !fits {
                return Err(AppError::invalid("user_id", Rule::NotSourceContact));
            }
        }
        let previous = store::current_person(conn, source.id, new.kind)?;
        if let Some(previous) = &previous {
            store::mark_replaced(conn, previous.id, now)?;
            register::retire_task(conn, previous.task_id, now)?;
        }
        let (assignee_role, assignee_user_id) = match new.user_id {
            Some(user) => (None, Some(Id::from(user))),
            None => (Some(Role::Enterprise), None),
        };
        let task = TaskRow {
            id: Uuid::now_v7().into(),
            measure_id: source.measure_of(new.kind),
            unit_id: source.unit_id,
            enterprise_id: source.enterprise_id,
            name: format!("{}·{}包保履职排查", source.name, new.kind.label_zh()),
            kind: TaskKind::duty(new.kind),
            assignee_role,
            assignee_user_id,
            schedule: schedule.clone(),
            active: true,
            created_by: caller.user_id.into(),
            created_at: now,
            retired_at: None,
        };
        register::insert_task(conn, &task)?;
        let row = PersonRow {
            id: Uuid::now_v7().into(),
            source_id: source.id,
            enterprise_id: source.enterprise_id,
            kind: new.kind,
            name: fields.name.clone(),
            post: fields.post.clone(),
            phone: fields.phone.clone(),
            user_id: new.user_id.map(Id::from),
            since,
            task_id: task.id,
            created_by: caller.user_id.into(),
            created_at: now,
            replaced_at: None,
        };
        store::insert_person(conn, &row)?;
        record_enterprise_event(
            conn,
            source.enterprise_id,
            caller,
            "major_source_person_appointed",
            now,
            None,
            json!({
                "source_id": source.id.uuid(),
                "kind": new.kind,
                "name": row.name,
                "post": row.post,
                "since": since,
                "replaces": previous.map(|p| p.name),
            }),
        )?;
        Ok(row)
    })
}

/// A source with its persons, current and past.
pub struct SourceRecord {
    pub source: SourceRow,
    pub persons: Vec<PersonRow>,
    /// The last day each kind of drill was held.
    pub drills: Vec<(DrillKind, NaiveDate)>,
}

impl SourceRecord {
    /// The person of `kind` in office.
    pub fn current(&self, kind: PersonKind) -> Option<&PersonRow> {
        self.persons
            .iter()
            .find(|p| p.kind == kind && p.replaced_at.is_none())
    }

    /// The kinds nobody holds.
    pub fn missing(&self) -> Vec<PersonKind> {
        PersonKind::ALL
            .into_iter()
            .filter(|k| self.current(*k).is_none())
            .collect()
    }

    /// When a kind of drill is next due: its interval after the last, or
    /// the day the source was registered when none is recorded.
    pub fn next_drill(&self, kind: DrillKind, months: u32, today: NaiveDate) -> NaiveDate {
        match self.last_drill(kind) {
            Some(last) => last
                .checked_add_months(chrono::Months::new(months))
                .unwrap_or(NaiveDate::MAX),
            None => self.source.registered_on.unwrap_or(today).min(today),
        }
    }

    /// When the next safety assessment is due, and why.
    pub fn next_assessment(
        &self,
        settings: &MajorSourceSettings,
    ) -> Option<(NaiveDate, AssessmentCause)> {
        settings.assessment_rule().next(
            self.source.assessed_on,
            self.source.inputs_changed_on,
            self.source.registered_on,
        )
    }

    pub fn last_drill(&self, kind: DrillKind) -> Option<NaiveDate> {
        self.drills
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, day)| *day)
    }

    pub fn grade_label(&self) -> &'static str {
        grade_label(u8::try_from(self.source.grade).unwrap_or(4))
    }
}

/// The sources the caller may see (an enterprise contact: its own), or
/// one enterprise's.
pub fn sources(
    conn: &mut DbConnection,
    caller: &Caller,
    enterprise: Option<Uuid>,
) -> Result<Vec<SourceRecord>, AppError> {
    let scope = caller.figures_scope(enterprise)?;
    let rows = store::sources(conn, scope.map(Id::from))?;
    with_persons(conn, rows)
}

/// One source the caller may see.
pub fn source(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<SourceRecord, AppError> {
    let row = visible_source(conn, caller, id)?;
    let mut all = with_persons(conn, vec![row])?;
    all.pop().ok_or(AppError::NotFound("major hazard source"))
}

pub fn with_persons(
    conn: &mut DbConnection,
    rows: Vec<SourceRow>,
) -> Result<Vec<SourceRecord>, AppError> {
    let ids: Vec<Id> = rows.iter().map(|s| s.id).collect();
    let mut by_source: std::collections::HashMap<Id, Vec<PersonRow>> =
        std::collections::HashMap::new();
    for person in store::persons_of(conn, &ids)? {
        by_source.entry(person.source_id).or_default().push(person);
    }
    let mut drills: std::collections::HashMap<Id, Vec<(DrillKind, NaiveDate)>> =
        std::collections::HashMap::new();
    for (source, kind, day) in store::last_drills(conn, &ids)? {
        drills.entry(source).or_default().push((kind, day));
    }
    Ok(rows
        .into_iter()
        .map(|source| SourceRecord {
            persons: by_source.remove(&source.id).unwrap_or_default(),
            drills: drills.remove(&source.id).unwrap_or_default(),
            source,
        })
        .collect())
}

/// What falls due of a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceDueWhat {
    /// Kinds of 包保责任人 nobody holds: due at once.
    Persons(Vec<PersonKind>),
    /// A kind of drill, with the day it was last held.
    Drill(DrillKind, Option<NaiveDate>),
    /// The next safety assessment, and why it is due then.
    Assessment(AssessmentCause),
}

/// One thing a source makes due, on its day.
#[derive(Debug, Clone)]
pub struct SourceDue {
    pub source_id: Id,
    pub enterprise_id: Id,
    pub code: String,
    pub name: String,
    pub item: DueItem,
    pub what: SourceDueWhat,
}

impl SourceDue {
    /// The reason as the due list gives it.
    pub fn reason(&self) -> String {
        let (name, code, next) = (&self.name, &self.code, self.item.due_on);
        match &self.what {
            SourceDueWhat::Persons(kinds) => {
                let kinds: Vec<&str> = kinds.iter().map(|k| k.label_zh()).collect();
                format!(
                    "major hazard source {name} ({code}) has no {}",
                    kinds.join("、")
                )
            }
            SourceDueWhat::Drill(kind, last) => {
                let last = last.map_or("none recorded".to_owned(), |day| format!("last {day}"));
                format!(
                    "major hazard source {name} ({code}) is due for its {} on {next} ({last})",
                    kind.label_zh()
                )
            }
            SourceDueWhat::Assessment(cause) => {
                let why = match cause {
                    AssessmentCause::Periodic => "three years after the last",
                    AssessmentCause::InputsChanged => "its inputs changed its risk since the last",
                    AssessmentCause::NeverAssessed => "none is recorded",
                };
                format!(
                    "major hazard source {name} ({code}) is due for its safety assessment on {next} ({why})"
                )
            }
        }
    }

    /// What is due, in Chinese, for a reminder.
    pub fn describe_zh(&self) -> String {
        match &self.what {
            SourceDueWhat::Persons(kinds) => {
                let kinds: Vec<&str> = kinds.iter().map(|k| k.label_zh()).collect();
                format!("未明确{}", kinds.join("、"))
            }
            SourceDueWhat::Drill(kind, last) => match last {
                Some(day) => format!("{}（上次 {day}）", kind.label_zh()),
                None => format!("{}（未有演练记录）", kind.label_zh()),
            },
            SourceDueWhat::Assessment(cause) => match cause {
                AssessmentCause::Periodic => "安全评估（距上次评估满三年）".to_owned(),
                AssessmentCause::InputsChanged => {
                    "重新安全评估（危险化学品种类、数量等变化影响风险程度）".to_owned()
                }
                AssessmentCause::NeverAssessed => "安全评估（未有评估记录）".to_owned(),
            },
        }
    }

    /// A stable name of the item, for a reminder's once-only key.
    pub fn key(&self) -> String {
        let item = match &self.what {
            SourceDueWhat::Persons(_) => "persons".to_owned(),
            SourceDueWhat::Drill(kind, _) => format!("drill-{kind}"),
            SourceDueWhat::Assessment(_) => "assessment".to_owned(),
        };
        format!("{}:{item}:{}", self.source_id, self.item.due_on)
    }
}

/// What the sources make due: a source lacking one of its three persons
/// (due today), each kind of drill and the next safety assessment (due on
/// their days).
pub fn due(
    conn: &mut DbConnection,
    today: NaiveDate,
    settings: &MajorSourceSettings,
) -> Result<Vec<SourceDue>, AppError> {
    let rows = store::sources(conn, None)?;
    let mut due = Vec::new();
    for record in with_persons(conn, rows)? {
        let source = &record.source;
        let mut push = |due_on: NaiveDate, reason: DueReason, what: SourceDueWhat| {
            due.push(SourceDue {
                source_id: source.id,
                enterprise_id: source.enterprise_id,
                code: source.code.clone(),
                name: source.name.clone(),
                item: DueItem { reason, due_on },
                what,
            });
        };
        let missing = record.missing();
        if !missing.is_empty() {
            push(
                today,
                DueReason::MajorSourcePersons,
                SourceDueWhat::Persons(missing),
            );
        }
        for kind in DrillKind::ALL {
            push(
                record.next_drill(kind, settings.drill_months(kind), today),
                DueReason::MajorSourceDrill,
                SourceDueWhat::Drill(kind, record.last_drill(kind)),
            );
        }
        if let Some((next, cause)) = record.next_assessment(settings) {
            push(
                next,
                DueReason::MajorSourceAssessment,
                SourceDueWhat::Assessment(cause),
            );
        }
    }
    Ok(due)
}

/// Records a drill of a source's emergency plan held on a past day.
pub fn record_drill(
    conn: &mut DbConnection,
    caller: &Caller,
    source_id: Uuid,
    new: &NewDrill,
    (now, today): (NaiveDateTime, NaiveDate),
) -> Result<DrillRow, AppError> {
    let note = crate::domain::text::optional_text(
        "note",
        new.note.as_deref(),
        crate::domain::text::MAX_TEXT,
    )?;
    if new.held_on > today {
        return Err(AppError::invalid("held_on", Rule::DateInFuture));
    }
    write_transaction(conn, |conn| {
        let source = visible_source(conn, caller, source_id)?;
        let row = DrillRow {
            id: Uuid::now_v7().into(),
            source_id: source.id,
            enterprise_id: source.enterprise_id,
            kind: new.kind,
            held_on: new.held_on,
            note: note.clone(),
            recorded_by: caller.user_id.into(),
            recorded_at: now,
        };
        store::insert_drill(conn, &row)?;
        record_enterprise_event(
            conn,
            source.enterprise_id,
            caller,
            "major_source_drill_recorded",
            now,
            None,
            json!({
                "source_id": source.id.uuid(),
                "kind": new.kind,
                "held_on": new.held_on,
            }),
        )?;
        Ok(row)
    })
}

/// An assessment report whose bytes have been received and checked.
#[derive(Debug, Clone)]
pub struct NewAssessment {
    pub assessed_on: NaiveDate,
    pub sha256: String,
    pub size_bytes: u64,
    pub content_type: String,
    pub file_name: String,
    pub caption: Option<String>,
}

/// The bytes the source's reports already hold, for the caller who may
/// see it: how much room an upload has.
pub fn room_for_assessment(
    conn: &mut DbConnection,
    caller: &Caller,
    source_id: Uuid,
) -> Result<u64, AppError> {
    let source = visible_source(conn, caller, source_id)?;
    store::bytes_of_source(conn, source.id)
}

/// Records a safety assessment (安全评估) of a source held on a past day
/// with its report: the source's last assessment moves to it when later,
/// so the next falls due three years on. Storing the bytes is the
/// caller's part, in the same transaction.
pub fn record_assessment(
    conn: &mut DbConnection,
    caller: &Caller,
    source_id: Uuid,
    new: NewAssessment,
    (max_bytes, now, today): (u64, NaiveDateTime, NaiveDate),
) -> Result<AssessmentRow, AppError> {
    if new.assessed_on > today {
        return Err(AppError::invalid("assessed_on", Rule::DateInFuture));
    }
    let source = visible_source(conn, caller, source_id)?;
    let held = store::bytes_of_source(conn, source.id)?;
    if held.saturating_add(new.size_bytes) > max_bytes {
        return Err(AppError::payload_too_large(
            Detail::SourceReportsFull.with("max_bytes", max_bytes),
        ));
    }
    let row = AssessmentRow {
        id: Uuid::now_v7().into(),
        source_id: source.id,
        enterprise_id: source.enterprise_id,
        assessed_on: new.assessed_on,
        sha256: new.sha256,
        size_bytes: i64::try_from(new.size_bytes).unwrap_or(i64::MAX),
        content_type: new.content_type,
        file_name: new.file_name,
        caption: new.caption,
        uploaded_by: caller.user_id.into(),
        uploaded_at: now,
    };
    store::insert_assessment(conn, &row, now)?;
    record_enterprise_event(
        conn,
        source.enterprise_id,
        caller,
        "major_source_assessed",
        now,
        None,
        json!({
            "source_id": source.id.uuid(),
            "assessed_on": row.assessed_on,
            "assessment_id": row.id.uuid(),
            "file_name": row.file_name,
        }),
    )?;
    Ok(row)
}

/// An assessment report the caller may see; any other is not found.
pub fn visible_assessment(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<AssessmentRow, AppError> {
    store::find_assessment(conn, id.into())?
        .filter(|a| caller.can_see_enterprise(a.enterprise_id.uuid()))
        .ok_or(AppError::NotFound("assessment report"))
}
