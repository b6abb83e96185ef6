//! The demo park: a deterministic data set that reproduces the figures the
//! park published for 2024 (`reference/park-2024.json`) — its enterprises
//! and their grades, and every hazard found that year with a plausible
//! source, level, category, month and rectification history — so that
//! `report yearly 2024` states them.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::json;

use crate::db::enterprises::NewEnterprise;
use crate::db::grading::{Assessment, EnterpriseEvent};
use crate::db::hazards::{Hazard, HazardEvent};
use crate::db::inspections::Inspection;
use crate::db::schema::{
    enterprise_assessments, enterprise_events, enterprises, hazard_events, hazard_number_counters,
    hazards, inspections, users,
};
use crate::db::{write_transaction, DbConnection};
use crate::domain::access::Role;
use crate::domain::credit_code::check_char;
use crate::domain::grading::Grade;
use crate::domain::hazard::rules::closed_on_time;
use crate::domain::hazard::{hazard_number, CheckSource, HazardLevel, HazardState};
use crate::error::AppError;
use crate::settings::Settings;

const PUBLISHED: &str = include_str!("../../reference/park-2024.json");
const SEED: u64 = 2024;

#[derive(Debug, Deserialize)]
pub struct Published {
    pub year: i32,
    pub enterprises: PublishedEnterprises,
    pub hazards: PublishedHazards,
}

#[derive(Debug, Deserialize)]
pub struct PublishedEnterprises {
    pub landed: usize,
    pub producing_or_trial: usize,
    pub graded: PublishedGrades,
}

#[derive(Debug, Deserialize)]
pub struct PublishedGrades {
    pub blue: usize,
    pub yellow: usize,
    pub orange: usize,
    pub red: usize,
}

#[derive(Debug, Deserialize)]
pub struct PublishedHazards {
    pub found_by_expert_teams: usize,
    pub rectified: usize,
}

pub fn published() -> Result<Published, AppError> {
    serde_json::from_str(PUBLISHED)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("reference/park-2024.json: {e}")))
}

/// What `load` created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    pub enterprises: usize,
    pub graded: usize,
    pub inspections: usize,
    pub hazards: usize,
    pub events: usize,
}

/// A deterministic time-ordered id: UUIDv7 layout from the moment and the
/// seeded generator, so the demo is the same on every run and lists come
/// out newest first.
fn id_at(rng: &mut StdRng, at: NaiveDateTime) -> String {
    let millis = u64::try_from(at.and_utc().timestamp_millis()).unwrap_or(0);
    let random: [u8; 10] = rng.gen();
    uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .to_string()
}

fn pick<'a, T>(rng: &mut StdRng, weighted: &'a [(T, u32)]) -> &'a T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total);
    for (item, weight) in weighted {
        if roll < *weight {
            return item;
        }
        roll -= weight;
    }
    &weighted[weighted.len() - 1].0
}

fn enterprise_name(index: usize) -> String {
    const FIRST: [&str; 16] = [
        "华", "恒", "新", "瑞", "金", "泰", "中", "宏", "万", "联", "远", "嘉", "天", "正", "盛",
        "鼎",
    ];
    const SECOND: [&str; 9] = ["达", "润", "科", "源", "信", "安", "昌", "邦", "和"];
    const TRADE: [&str; 8] = [
        "新材料",
        "化工",
        "精细化工",
        "石化",
        "化学",
        "高分子材料",
        "新能源材料",
        "电子化学品",
    ];
    format!(
        "{}{}{}有限公司",
        FIRST[index % FIRST.len()],
        SECOND[(index / FIRST.len()) % SECOND.len()],
        TRADE[(index * 7 + index / 3) % TRADE.len()]
    )
}

fn credit_code(rng: &mut StdRng) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let org: String = (0..9)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect();
    let body = format!("91320594{org}");
    let check = check_char(&body).unwrap_or('0');
    format!("{body}{check}")
}

fn insert_chunked<T, F>(
    conn: &mut DbConnection,
    rows: &[T],
    chunk: usize,
    mut insert: F,
) -> Result<(), AppError>
where
    F: FnMut(&mut DbConnection, &[T]) -> Result<(), AppError>,
{
    for part in rows.chunks(chunk) {
        insert(conn, part)?;
    }
    Ok(())
}

macro_rules! batch_insert {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            DbConnection::Postgresql(c) => diesel::insert_into($table)
                .values($rows)
                .execute(c)
                .map(|_| ()),
            DbConnection::Sqlite(c) => diesel::insert_into($table)
                .values($rows)
                .execute(c)
                .map(|_| ()),
        }
    };
}

const FLUSH_EVERY: usize = 5_000;

fn flush(
    conn: &mut DbConnection,
    inspection_rows: &mut Vec<Inspection>,
    hazard_rows: &mut Vec<Hazard>,
    events: &mut Vec<HazardEvent>,
    written: &mut Loaded,
) -> Result<(), AppError> {
    insert_chunked(conn, inspection_rows, 400, |c, part| {
        Ok(batch_insert!(c, inspections::table, part)?)
    })?;
    insert_chunked(conn, hazard_rows, 400, |c, part| {
        Ok(batch_insert!(c, hazards::table, part)?)
    })?;
    insert_chunked(conn, events, 1000, |c, part| {
        Ok(batch_insert!(c, hazard_events::table, part)?)
    })?;
    written.inspections += inspection_rows.len();
    written.hazards += hazard_rows.len();
    written.events += events.len();
    inspection_rows.clear();
    hazard_rows.clear();
    events.clear();
    Ok(())
}

/// Loads the demo park into an empty database, in one transaction.
pub fn load(conn: &mut DbConnection, settings: &Settings) -> Result<Loaded, AppError> {
    load_scaled(conn, settings, None)
}

/// The demo park with `hazards` instead of the published number (for
/// benchmarks); every other figure stays as published.
pub fn load_scaled(
    conn: &mut DbConnection,
    settings: &Settings,
    hazards: Option<usize>,
) -> Result<Loaded, AppError> {
    let published = published()?;
    let time_zone = settings.park.time_zone().map_err(AppError::Internal)?;
    let thresholds = settings.grading.thresholds().map_err(AppError::Internal)?;
    let utc = |local: NaiveDateTime| {
        time_zone
            .from_local_datetime(&local)
            .earliest()
            .map_or(local, |t| t.naive_utc())
    };
    let mut rng = StdRng::seed_from_u64(SEED);
    let year = published.year;
    let start =
        NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| AppError::bad_request("bad year"))?;
    let created = utc(start.and_hms_opt(8, 0, 0).unwrap_or_default()) - Duration::days(30);

    write_transaction(conn, |conn| {
        let existing: i64 = enterprises::table.count().get_result(conn)?;
        if existing > 0 {
            return Err(AppError::conflict(
                "the database is not empty: load the demo park into a fresh database",
            ));
        }

        // People: the demo actors (disabled: they cannot sign in).
        let people = [
            (
                "demo-supervisor@park.example.cn",
                "supervisor",
                "演示监管员",
            ),
            ("demo-expert@park.example.cn", "expert", "演示专家"),
        ];
        let mut actor_ids = Vec::new();
        for (email, role, name) in people {
            let id = id_at(&mut rng, created);
            diesel::insert_into(users::table)
                .values((
                    users::id.eq(&id),
                    users::email.eq(email),
                    users::name.eq(name),
                    users::role.eq(role),
                    users::password_hash.eq("!disabled"),
                    users::active.eq(false),
                    users::version.eq(1i64),
                    users::created_at.eq(created),
                    users::updated_at.eq(created),
                ))
                .execute(conn)?;
            actor_ids.push(id);
        }
        let (supervisor, expert) = (actor_ids[0].clone(), actor_ids[1].clone());

        // Enterprises: the landed ones, producing or on trial first.
        let counts = &published.enterprises;
        let grades = &counts.graded;
        let mut grade_plan: Vec<Option<Grade>> =
            std::iter::repeat_n(Some(Grade::Blue), grades.blue)
                .chain(std::iter::repeat_n(Some(Grade::Yellow), grades.yellow))
                .chain(std::iter::repeat_n(Some(Grade::Orange), grades.orange))
                .chain(std::iter::repeat_n(Some(Grade::Red), grades.red))
                .collect();
        grade_plan.resize(counts.landed.max(grade_plan.len()), None);
        let mut new_enterprises = Vec::new();
        let mut enterprise_ids = Vec::new();
        let mut weights = Vec::new();
        let mut assessments = Vec::new();
        let mut enterprise_history = Vec::new();
        for (index, grade) in grade_plan.iter().enumerate() {
            let id = id_at(&mut rng, created + Duration::seconds(index as i64));
            let status = if index < counts.producing_or_trial {
                if index % 7 == 6 {
                    "trial"
                } else {
                    "producing"
                }
            } else {
                "construction"
            };
            new_enterprises.push((
                id.clone(),
                enterprise_name(index),
                credit_code(&mut rng),
                status,
            ));
            // Producing plants find most of the hazards.
            weights.push(if status == "construction" {
                1
            } else {
                rng.gen_range(3..12)
            });
            enterprise_ids.push(id.clone());
            enterprise_history.push(EnterpriseEvent {
                id: id_at(&mut rng, created),
                enterprise_id: id.clone(),
                seq: 1,
                action: "registered".into(),
                actor_id: supervisor.clone(),
                actor_role: "supervisor".into(),
                occurred_at: created,
                recorded_at: created,
                note: None,
                details: json!({"status": status}).to_string(),
            });
            if let Some(grade) = grade {
                let score: f64 = match grade {
                    Grade::Blue => rng.gen_range(90.0..99.5),
                    Grade::Yellow => rng.gen_range(75.0..89.9),
                    Grade::Orange => rng.gen_range(60.0..74.9),
                    Grade::Red => rng.gen_range(40.0..59.9),
                };
                let score_centi = (score * 100.0).round() as i32;
                debug_assert_eq!(thresholds.grade(score_centi, false), *grade);
                let assessed_on = start + Duration::days(rng.gen_range(60..300));
                let at = utc(assessed_on.and_hms_opt(10, 0, 0).unwrap_or_default());
                let assessment_id = id_at(&mut rng, at);
                assessments.push(Assessment {
                    id: assessment_id.clone(),
                    enterprise_id: id.clone(),
                    score_centi,
                    direct_red_triggers: "[]".into(),
                    grade: thresholds.grade(score_centi, false).as_str().into(),
                    thresholds_version: thresholds.version.clone(),
                    thresholds: serde_json::to_string(&thresholds).unwrap_or_default(),
                    assessed_on,
                    assessor: "园区安全风险评估诊断专家组".into(),
                    notes: String::new(),
                    recorded_by: supervisor.clone(),
                    recorded_at: at,
                });
                enterprise_history.push(EnterpriseEvent {
                    id: id_at(&mut rng, at),
                    enterprise_id: id,
                    seq: 2,
                    action: "assessed".into(),
                    actor_id: supervisor.clone(),
                    actor_role: "supervisor".into(),
                    occurred_at: assessed_on.and_time(chrono::NaiveTime::MIN),
                    recorded_at: at,
                    note: None,
                    details: json!({"assessment_id": assessment_id, "score": f64::from(score_centi) / 100.0}).to_string(),
                });
            }
        }
        let rows: Vec<NewEnterprise> = new_enterprises
            .iter()
            .map(|(id, name, code, status)| NewEnterprise {
                id,
                name,
                credit_code: code,
                status,
                contact_emails: "[]",
                version: 1,
                created_at: created,
                updated_at: created,
            })
            .collect();
        insert_chunked(conn, &rows, 200, |c, part| {
            Ok(batch_insert!(c, enterprises::table, part)?)
        })?;
        insert_chunked(conn, &assessments, 200, |c, part| {
            Ok(batch_insert!(c, enterprise_assessments::table, part)?)
        })?;
        insert_chunked(conn, &enterprise_history, 200, |c, part| {
            Ok(batch_insert!(c, enterprise_events::table, part)?)
        })?;

        // Hazards, found over the year in inspections of the five kinds.
        let total = hazards.unwrap_or(published.hazards.found_by_expert_teams);
        let rectified = hazards.map_or(published.hazards.rectified, |n| {
            let share = u128::try_from(published.hazards.rectified).unwrap_or(0)
                * u128::try_from(n).unwrap_or(0)
                / u128::try_from(published.hazards.found_by_expert_teams.max(1)).unwrap_or(1);
            usize::try_from(share).unwrap_or(n)
        });
        let rectified = rectified.min(total);
        let sources = [
            (CheckSource::SelfCheck, 34u32),
            (CheckSource::MutualCheck, 9),
            (CheckSource::ResidentExpert, 31),
            (CheckSource::NationalExpert, 11),
            (CheckSource::ParkSupervision, 15),
        ];
        // Fewer finds around the Spring Festival, more in the spring and autumn campaigns.
        let months = [
            (1u32, 5u32),
            (2, 4),
            (3, 9),
            (4, 10),
            (5, 10),
            (6, 11),
            (7, 8),
            (8, 8),
            (9, 9),
            (10, 8),
            (11, 10),
            (12, 8),
        ];
        let categories = [
            ("unsafe_condition", 58u32),
            ("unsafe_behavior", 14),
            ("management_defect", 28),
        ];
        let specialties = [
            ("electrical", 14u32),
            ("fire", 16),
            ("process", 12),
            ("equipment", 18),
            ("instrumentation", 10),
            ("special_operations", 12),
            ("hazmat_storage", 10),
            ("general_management", 8),
        ];
        let titles = [
            ("electrical", "配电室防鼠板缺失"),
            ("fire", "消防通道堆放杂物"),
            ("process", "工艺卡片与操作规程不一致"),
            ("equipment", "机泵联轴器防护罩缺失"),
            ("instrumentation", "可燃气体报警器未按期标定"),
            ("special_operations", "动火作业票审批不完整"),
            ("hazmat_storage", "危化品仓库物料混存"),
            ("general_management", "隐患排查台账记录不全"),
        ];
        let weighted_enterprises: Vec<(usize, u32)> = weights.iter().copied().enumerate().collect();
        let mut hazard_rows: Vec<Hazard> = Vec::with_capacity(FLUSH_EVERY);
        let mut inspection_rows: Vec<Inspection> = Vec::new();
        let mut events: Vec<HazardEvent> = Vec::with_capacity(FLUSH_EVERY * 4);
        let mut written = Loaded {
            enterprises: 0,
            graded: 0,
            inspections: 0,
            hazards: 0,
            events: 0,
        };
        // Draw each hazard's moment first, so numbers follow the order found.
        let mut moments: Vec<NaiveDateTime> = (0..total)
            .map(|_| {
                let month = *pick(&mut rng, &months);
                let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(start);
                let days_in_month = (if month == 12 {
                    NaiveDate::from_ymd_opt(year + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(year, month + 1, 1)
                })
                .unwrap_or(first)
                .signed_duration_since(first)
                .num_days();
                let day = first + Duration::days(rng.gen_range(0..days_in_month.max(1)));
                utc(day
                    .and_hms_opt(rng.gen_range(8..17), rng.gen_range(0..60), 0)
                    .unwrap_or_default())
            })
            .collect();
        moments.sort();
        let mut current_inspection: Option<(String, usize, CheckSource, NaiveDate, usize)> = None;
        for (n, found_at) in moments.into_iter().enumerate() {
            let found_on = time_zone.from_utc_datetime(&found_at).date_naive();
            // Hazards come in visits of a few each.
            let (inspection_id, enterprise_index, source) = match &mut current_inspection {
                Some((id, enterprise, source, day, left)) if *left > 0 && *day == found_on => {
                    *left -= 1;
                    (id.clone(), *enterprise, *source)
                }
                _ => {
                    let enterprise = *pick(&mut rng, &weighted_enterprises);
                    let source = *pick(&mut rng, &sources);
                    let id = id_at(&mut rng, found_at);
                    let checker = (source == CheckSource::MutualCheck)
                        .then(|| enterprise_ids[(enterprise + 1) % enterprise_ids.len()].clone());
                    inspection_rows.push(Inspection {
                        id: id.clone(),
                        source,
                        enterprise_id: enterprise_ids[enterprise].clone(),
                        checking_enterprise_id: checker,
                        inspected_on: found_on,
                        inspectors: json!(["演示检查组"]).to_string(),
                        notes: String::new(),
                        created_by: expert.clone(),
                        created_at: found_at,
                    });
                    let left = rng.gen_range(0..9);
                    current_inspection = Some((id.clone(), enterprise, source, found_on, left));
                    (id, enterprise, source)
                }
            };
            let major = rng.gen_range(0..1000) < 3;
            let specialty = *pick(&mut rng, &specialties);
            let category = *pick(&mut rng, &categories);
            let title = titles
                .iter()
                .find(|(s, _)| *s == specialty)
                .map_or("现场隐患", |(_, t)| t);
            let allowed = if major {
                rng.gen_range(30..90)
            } else {
                *pick(&mut rng, &[(7i64, 4u32), (15, 4), (30, 2)])
            };
            let deadline = found_on + Duration::days(allowed);
            // Most rectify well inside the time allowed; a few run late.
            let took = if rng.gen_range(0..100) < 94 {
                rng.gen_range(1..=allowed)
            } else {
                allowed + rng.gen_range(1..10)
            };
            let planned_at = found_at + Duration::hours(rng.gen_range(2..48));
            let submitted_at = found_at + Duration::days(took) + Duration::hours(2);
            let closed = n < rectified;
            let accepted_at = submitted_at + Duration::days(rng.gen_range(1..4));
            let submitted_on = time_zone.from_utc_datetime(&submitted_at).date_naive();
            let id = id_at(&mut rng, found_at);
            let number = hazard_number(year, i32::try_from(n + 1).unwrap_or(i32::MAX));
            let state = if closed {
                HazardState::Closed
            } else {
                HazardState::Rectifying
            };
            let checker = (source == CheckSource::MutualCheck)
                .then(|| enterprise_ids[(enterprise_index + 1) % enterprise_ids.len()].clone());
            hazard_rows.push(Hazard {
                id: id.clone(),
                number: number.clone(),
                found_year: year,
                enterprise_id: enterprise_ids[enterprise_index].clone(),
                source,
                checking_enterprise_id: checker,
                inspection_id: Some(inspection_id),
                title: (*title).into(),
                description: format!("{title}(演示数据)"),
                location: format!("{}号装置区", rng.gen_range(1..9)),
                category: category.into(),
                specialty: Some(specialty.into()),
                level: if major {
                    HazardLevel::Major
                } else {
                    HazardLevel::General
                },
                major_basis_code: major.then(|| rng.gen_range(1..=20)),
                listing_ordering_body: None,
                listing_listed_on: None,
                found_at,
                found_by: expert.clone(),
                deadline,
                state,
                version: if closed { 4 } else { 2 },
                plan_measures: Some("按整改方案落实整改措施".into()),
                plan_responsible_person: Some("安全主管".into()),
                plan_funds_fen: Some(rng.gen_range(0..5_000_000)),
                plan_contingency: Some("整改期间落实临时管控措施".into()),
                planned_at: Some(planned_at),
                planned_by: Some(expert.clone()),
                submitted_at: closed.then_some(submitted_at),
                closed_at: closed.then_some(accepted_at),
                voided_at: None,
                created_at: found_at,
                updated_at: if closed { accepted_at } else { planned_at },
                evidence_before: 0,
                evidence_after: 0,
                found_month: i32::try_from(found_on.month()).unwrap_or(0),
                closed_on_time: closed.then_some(closed_on_time(Some(submitted_on), deadline)),
            });
            let mut steps = vec![
                (
                    "report",
                    None,
                    HazardState::Reported,
                    found_at,
                    expert.clone(),
                    Role::Expert,
                ),
                (
                    "plan",
                    Some(HazardState::Reported),
                    HazardState::Rectifying,
                    planned_at,
                    expert.clone(),
                    Role::Expert,
                ),
            ];
            if closed {
                steps.push((
                    "submit",
                    Some(HazardState::Rectifying),
                    HazardState::PendingAcceptance,
                    submitted_at,
                    expert.clone(),
                    Role::Expert,
                ));
                let (acceptor, role) = if major {
                    (supervisor.clone(), Role::Supervisor)
                } else {
                    (expert.clone(), Role::Expert)
                };
                steps.push((
                    "accept",
                    Some(HazardState::PendingAcceptance),
                    HazardState::Closed,
                    accepted_at,
                    acceptor,
                    role,
                ));
            }
            for (seq, (action, from, to, at, actor, role)) in steps.into_iter().enumerate() {
                events.push(HazardEvent {
                    id: id_at(&mut rng, at),
                    hazard_id: id.clone(),
                    seq: i32::try_from(seq + 1).unwrap_or(1),
                    action: action.into(),
                    actor_id: actor,
                    actor_role: role,
                    from_state: from,
                    to_state: to,
                    occurred_at: at,
                    recorded_at: at,
                    note: None,
                    details: "{}".into(),
                });
            }
            // Large parks (benchmarks) are written in slices, not held whole.
            if hazard_rows.len() >= FLUSH_EVERY {
                flush(
                    conn,
                    &mut inspection_rows,
                    &mut hazard_rows,
                    &mut events,
                    &mut written,
                )?;
            }
        }
        flush(
            conn,
            &mut inspection_rows,
            &mut hazard_rows,
            &mut events,
            &mut written,
        )?;
        diesel::insert_into(hazard_number_counters::table)
            .values((
                hazard_number_counters::year.eq(year),
                hazard_number_counters::last_seq.eq(i32::try_from(total).unwrap_or(i32::MAX)),
            ))
            .execute(conn)?;
        Ok(Loaded {
            enterprises: enterprise_ids.len(),
            graded: assessments.len(),
            inspections: written.inspections,
            hazards: written.hazards,
            events: written.events,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_figures_parse() {
        let p = published().unwrap();
        assert_eq!(p.year, 2024);
        assert_eq!(p.hazards.found_by_expert_teams, 6644);
        assert_eq!(
            (
                p.enterprises.graded.blue,
                p.enterprises.graded.yellow,
                p.enterprises.graded.orange
            ),
            (57, 8, 1)
        );
    }

    #[test]
    fn names_are_unique_for_the_park() {
        let names: std::collections::BTreeSet<String> = (0..71).map(enterprise_name).collect();
        assert_eq!(names.len(), 71);
    }
}
