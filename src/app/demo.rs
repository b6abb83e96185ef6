//! The demo park: a deterministic data set that reproduces the figures the
//! park published for 2024 (`reference/park-2024.json`) — its enterprises
//! and their grades, and every hazard found that year with a plausible
//! source, level, category, month and rectification history — so that
//! `report yearly 2024` states them — and a slice of the current year's
//! work in progress (open, overdue, pending acceptance and major items),
//! so a dashboard opened on a fresh demo has something to show.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::json;

use crate::db::bulk::{self, HazardBatch, Written};
use crate::db::enterprises::NewEnterprise;
use crate::db::grading::{Assessment, EnterpriseEvent};
use crate::db::hazards::{Hazard, HazardEvent};
use crate::db::inspections::Inspection;
use crate::db::schema::{enterprises, hazard_number_counters, users};
use crate::db::{write_transaction, DbConnection, Id};
use crate::domain::access::Role;
use crate::domain::credit_code::check_char;
use crate::domain::enterprise::EnterpriseStatus;
use crate::domain::grading::{Grade, Thresholds};
use crate::domain::hazard::rules::closed_on_time;
use crate::domain::hazard::{hazard_number, CheckSource, HazardLevel, HazardState};
use crate::error::AppError;
use crate::messages::Detail;
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
fn id_at(rng: &mut StdRng, at: NaiveDateTime) -> Id {
    let millis = u64::try_from(at.and_utc().timestamp_millis()).unwrap_or(0);
    let random: [u8; 10] = rng.gen();
    uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .into()
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

/// Hazards are written in slices of this many, with their inspections and
/// events: large parks (benchmarks) are never held whole.
const FLUSH_EVERY: usize = 5_000;

/// The five kinds of check, weighted by their share of the finds.
const SOURCES: [(CheckSource, u32); 5] = [
    (CheckSource::SelfCheck, 34),
    (CheckSource::MutualCheck, 9),
    (CheckSource::ResidentExpert, 31),
    (CheckSource::NationalExpert, 11),
    (CheckSource::ParkSupervision, 15),
];

/// Fewer finds around the Spring Festival, more in the spring and autumn
/// campaigns.
const MONTHS: [(u32, u32); 12] = [
    (1, 5),
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

/// Hazard categories, weighted.
const CATEGORIES: [(&str, u32); 3] = [
    ("unsafe_condition", 58),
    ("unsafe_behavior", 14),
    ("management_defect", 28),
];

/// Specialties, weighted.
const SPECIALTIES: [(&str, u32); 8] = [
    ("electrical", 14),
    ("fire", 16),
    ("process", 12),
    ("equipment", 18),
    ("instrumentation", 10),
    ("special_operations", 12),
    ("hazmat_storage", 10),
    ("general_management", 8),
];

/// A typical hazard's title per specialty.
const TITLES: [(&str, &str); 8] = [
    ("electrical", "配电室防鼠板缺失"),
    ("fire", "消防通道堆放杂物"),
    ("process", "工艺卡片与操作规程不一致"),
    ("equipment", "机泵联轴器防护罩缺失"),
    ("instrumentation", "可燃气体报警器未按期标定"),
    ("special_operations", "动火作业票审批不完整"),
    ("hazmat_storage", "危化品仓库物料混存"),
    ("general_management", "隐患排查台账记录不全"),
];

/// The seeded generator and the calendar every part of the park is drawn
/// on: one generator, drawn from in a fixed order, so every run makes the
/// same park.
struct Draw {
    rng: StdRng,
    time_zone: chrono_tz::Tz,
    year: i32,
    /// 1 January of the published year.
    start: NaiveDate,
    /// When the demo's people and enterprises were registered (UTC): a
    /// month before the year began.
    created: NaiveDateTime,
}

impl Draw {
    /// A fresh generator for the published `year` in the park's time zone.
    fn new(time_zone: chrono_tz::Tz, year: i32) -> Result<Draw, AppError> {
        // The year is the shipped file's, not a caller's: one out of the
        // calendar is a fault of the release.
        let start = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "reference/park-2024.json: year {year} is not a calendar year"
            ))
        })?;
        let mut draw = Draw {
            rng: StdRng::seed_from_u64(SEED),
            time_zone,
            year,
            start,
            created: NaiveDateTime::default(),
        };
        draw.created =
            draw.utc(start.and_hms_opt(8, 0, 0).unwrap_or_default()) - Duration::days(30);
        Ok(draw)
    }

    /// The UTC moment of a park-local one (the earlier of two, the local
    /// moment itself when it does not exist).
    fn utc(&self, local: NaiveDateTime) -> NaiveDateTime {
        self.time_zone
            .from_local_datetime(&local)
            .earliest()
            .map_or(local, |t| t.naive_utc())
    }

    /// The park-local day of a UTC moment.
    fn local_day(&self, at: NaiveDateTime) -> NaiveDate {
        self.time_zone.from_utc_datetime(&at).date_naive()
    }

    /// A fresh id at `at`, see [`id_at`].
    fn id_at(&mut self, at: NaiveDateTime) -> Id {
        id_at(&mut self.rng, at)
    }
}

/// The demo actors' user ids.
struct Actors {
    supervisor: Id,
    expert: Id,
}

/// The park as written: its enterprises, in order, and how many were graded.
struct Park {
    ids: Vec<Id>,
    /// Each enterprise's index with its weight in drawing where a hazard is
    /// found: producing plants find most of the hazards.
    weighted: Vec<(usize, u32)>,
    graded: usize,
}

impl Park {
    /// The enterprise checking the `index`th one in a mutual check (its
    /// neighbour in the list); none for the other kinds of check.
    fn checker(&self, source: CheckSource, index: usize) -> Option<Id> {
        (source == CheckSource::MutualCheck).then(|| self.ids[(index + 1) % self.ids.len()])
    }
}

/// Loads the demo park into an empty database, in one transaction (then
/// compacts the figures' summary rows).
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
    let now = crate::clock::now_utc();
    let published = published()?;
    let time_zone = settings.park.time_zone().map_err(AppError::Internal)?;
    let thresholds = settings.grading.thresholds().map_err(AppError::Internal)?;
    let mut draw = Draw::new(time_zone, published.year)?;

    let loaded = write_transaction(conn, |conn| {
        ensure_empty(conn)?;
        let actors = insert_actors(conn, &mut draw)?;
        let park = insert_enterprises(
            conn,
            &mut draw,
            &thresholds,
            &published.enterprises,
            actors.supervisor,
        )?;
        let (total, rectified) = hazard_counts(&published.hazards, hazards);
        let mut written = insert_hazards(conn, &mut draw, &actors, &park, total, rectified)?;
        insert_number_counter(conn, draw.year, total)?;
        written += insert_current_slice(conn, &mut draw, &actors, &park, now)?;
        Ok(Loaded {
            enterprises: park.ids.len(),
            graded: park.graded,
            inspections: written.inspections,
            hazards: written.hazards,
            events: written.events,
        })
    })?;
    crate::db::stats::compact_summaries(conn)?;
    Ok(loaded)
}

/// Refuses a database that already has enterprises.
fn ensure_empty(conn: &mut DbConnection) -> Result<(), AppError> {
    let existing: i64 = enterprises::table.count().get_result(conn)?;
    if existing > 0 {
        return Err(AppError::conflict(Detail::DatabaseNotEmpty));
    }
    Ok(())
}

/// People: the demo actors (disabled: they cannot sign in).
fn insert_actors(conn: &mut DbConnection, draw: &mut Draw) -> Result<Actors, AppError> {
    let people = [
        (
            "demo-supervisor@park.example.cn",
            "supervisor",
            "演示监管员",
        ),
        ("demo-expert@park.example.cn", "expert", "演示专家"),
    ];
    let created = draw.created;
    let mut actor_ids = Vec::new();
    for (email, role, name) in people {
        let id = draw.id_at(created);
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
    Ok(Actors {
        supervisor: actor_ids[0],
        expert: actor_ids[1],
    })
}

/// Each landed enterprise's grade: the published numbers of blue, yellow,
/// orange and red ones first, then the ungraded.
fn grade_plan(counts: &PublishedEnterprises) -> Vec<Option<Grade>> {
    let grades = &counts.graded;
    let mut plan: Vec<Option<Grade>> = std::iter::repeat_n(Some(Grade::Blue), grades.blue)
        .chain(std::iter::repeat_n(Some(Grade::Yellow), grades.yellow))
        .chain(std::iter::repeat_n(Some(Grade::Orange), grades.orange))
        .chain(std::iter::repeat_n(Some(Grade::Red), grades.red))
        .collect();
    plan.resize(counts.landed.max(plan.len()), None);
    plan
}

/// The `index`th enterprise's status: the producing or trial ones first
/// (every seventh of them on trial), then those under construction.
fn enterprise_status(index: usize, producing_or_trial: usize) -> EnterpriseStatus {
    if index < producing_or_trial {
        if index % 7 == 6 {
            EnterpriseStatus::Trial
        } else {
            EnterpriseStatus::Producing
        }
    } else {
        EnterpriseStatus::Construction
    }
}

/// Enterprises: the landed ones, producing or on trial first, with their
/// registration, and the graded ones' assessments.
fn insert_enterprises(
    conn: &mut DbConnection,
    draw: &mut Draw,
    thresholds: &Thresholds,
    counts: &PublishedEnterprises,
    supervisor: Id,
) -> Result<Park, AppError> {
    let created = draw.created;
    let mut new_enterprises = Vec::new();
    let mut ids = Vec::new();
    let mut weights: Vec<u32> = Vec::new();
    let mut assessments = Vec::new();
    let mut history = Vec::new();
    for (index, grade) in grade_plan(counts).iter().enumerate() {
        let id = draw.id_at(created + Duration::seconds(index as i64));
        let status = enterprise_status(index, counts.producing_or_trial);
        new_enterprises.push((
            id,
            enterprise_name(index),
            credit_code(&mut draw.rng),
            status,
        ));
        // Producing plants find most of the hazards.
        weights.push(if status == EnterpriseStatus::Construction {
            1
        } else {
            draw.rng.gen_range(3..12)
        });
        ids.push(id);
        history.push(EnterpriseEvent {
            id: draw.id_at(created),
            enterprise_id: id,
            seq: 1,
            action: "registered".into(),
            actor_id: supervisor,
            actor_role: Role::Supervisor,
            occurred_at: created,
            recorded_at: created,
            note: None,
            details: json!({"status": status}).to_string(),
        });
        if let Some(grade) = grade {
            let (assessment, event) = assess(draw, thresholds, id, *grade, supervisor);
            assessments.push(assessment);
            history.push(event);
        }
    }
    let rows: Vec<NewEnterprise> = new_enterprises
        .iter()
        .map(|(id, name, code, status)| NewEnterprise {
            id: *id,
            name,
            credit_code: code,
            status: *status,
            contact_emails: "[]",
            version: 1,
            created_at: created,
            updated_at: created,
        })
        .collect();
    bulk::enterprises(conn, &rows)?;
    bulk::assessments(conn, &assessments)?;
    bulk::enterprise_events(conn, &history)?;
    Ok(Park {
        ids,
        weighted: weights.iter().copied().enumerate().collect(),
        graded: assessments.len(),
    })
}

/// A score in the band of `grade`, assessed on a day of the year, and the
/// enterprise's history event that records it.
fn assess(
    draw: &mut Draw,
    thresholds: &Thresholds,
    enterprise_id: Id,
    grade: Grade,
    supervisor: Id,
) -> (Assessment, EnterpriseEvent) {
    let rng = &mut draw.rng;
    let score: f64 = match grade {
        Grade::Blue => rng.gen_range(90.0..99.5),
        Grade::Yellow => rng.gen_range(75.0..89.9),
        Grade::Orange => rng.gen_range(60.0..74.9),
        Grade::Red => rng.gen_range(40.0..59.9),
    };
    let score_centi = (score * 100.0).round() as i32;
    debug_assert_eq!(thresholds.grade(score_centi, false), grade);
    let assessed_on = draw.start + Duration::days(draw.rng.gen_range(60..300));
    let at = draw.utc(assessed_on.and_hms_opt(10, 0, 0).unwrap_or_default());
    let assessment_id = draw.id_at(at);
    let assessment = Assessment {
        id: assessment_id,
        enterprise_id,
        score_centi,
        direct_red_triggers: "[]".into(),
        grade: thresholds.grade(score_centi, false),
        thresholds_version: thresholds.version.clone(),
        thresholds: serde_json::to_string(thresholds).unwrap_or_default(),
        assessed_on,
        assessor: "园区安全风险评估诊断专家组".into(),
        notes: String::new(),
        recorded_by: supervisor,
        recorded_at: at,
    };
    let event = EnterpriseEvent {
        id: draw.id_at(at),
        enterprise_id,
        seq: 2,
        action: "assessed".into(),
        actor_id: supervisor,
        actor_role: Role::Supervisor,
        occurred_at: assessed_on.and_time(chrono::NaiveTime::MIN),
        recorded_at: at,
        note: None,
        details: json!({"assessment_id": assessment_id, "score": f64::from(score_centi) / 100.0})
            .to_string(),
    };
    (assessment, event)
}

/// How many hazards to draw and how many of them are rectified: the
/// published figures, or `hazards` with the published share rectified.
fn hazard_counts(published: &PublishedHazards, hazards: Option<usize>) -> (usize, usize) {
    let total = hazards.unwrap_or(published.found_by_expert_teams);
    let rectified = hazards.map_or(published.rectified, |n| {
        let share = u128::try_from(published.rectified).unwrap_or(0)
            * u128::try_from(n).unwrap_or(0)
            / u128::try_from(published.found_by_expert_teams.max(1)).unwrap_or(1);
        usize::try_from(share).unwrap_or(n)
    });
    (total, rectified.min(total))
}

/// Each hazard's moment (UTC), in order: drawn first, so numbers follow
/// the order found.
fn draw_moments(draw: &mut Draw, total: usize) -> Vec<NaiveDateTime> {
    let mut moments: Vec<NaiveDateTime> = (0..total).map(|_| draw_moment(draw)).collect();
    moments.sort();
    moments
}

/// A moment in working hours on a day of a month drawn by [`MONTHS`].
fn draw_moment(draw: &mut Draw) -> NaiveDateTime {
    let year = draw.year;
    let rng = &mut draw.rng;
    let month = *pick(rng, &MONTHS);
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(draw.start);
    let days_in_month = (if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    })
    .unwrap_or(first)
    .signed_duration_since(first)
    .num_days();
    let day = first + Duration::days(rng.gen_range(0..days_in_month.max(1)));
    let local = day
        .and_hms_opt(rng.gen_range(8..17), rng.gen_range(0..60), 0)
        .unwrap_or_default();
    draw.utc(local)
}

/// Hazards, found over the year in inspections of the five kinds, written
/// in slices of [`FLUSH_EVERY`].
fn insert_hazards(
    conn: &mut DbConnection,
    draw: &mut Draw,
    actors: &Actors,
    park: &Park,
    total: usize,
    rectified: usize,
) -> Result<Written, AppError> {
    let moments = draw_moments(draw, total);
    let mut finder = Finder {
        draw,
        actors,
        park,
        rectified,
        visit: None,
        batch: HazardBatch::with_capacity(FLUSH_EVERY),
        written: Written::default(),
    };
    for (n, found_at) in moments.into_iter().enumerate() {
        finder.find(conn, n, found_at)?;
    }
    finder.written += finder.batch.flush(conn)?;
    Ok(finder.written)
}

/// The inspection hazards are being found in: hazards come in visits of a
/// few each.
struct Visit {
    id: Id,
    enterprise: usize,
    source: CheckSource,
    day: NaiveDate,
    /// How many more hazards this visit finds.
    left: usize,
}

/// Where and when a hazard was found.
struct Sighting {
    /// Its place in the order found, from 0.
    n: usize,
    at: NaiveDateTime,
    on: NaiveDate,
    inspection_id: Id,
    enterprise: usize,
    source: CheckSource,
}

/// What a hazard is.
struct Finding {
    major: bool,
    specialty: &'static str,
    category: &'static str,
    title: &'static str,
}

/// When a hazard's rectification steps happen (UTC moments).
struct Timeline {
    found_at: NaiveDateTime,
    deadline: NaiveDate,
    planned_at: NaiveDateTime,
    submitted_at: NaiveDateTime,
    accepted_at: NaiveDateTime,
}

/// Draws the hazards one by one, in visits, and gathers their rows.
struct Finder<'a> {
    draw: &'a mut Draw,
    actors: &'a Actors,
    park: &'a Park,
    /// The first this many hazards found are closed; the rest rectifying.
    rectified: usize,
    visit: Option<Visit>,
    batch: HazardBatch,
    written: Written,
}

impl Finder<'_> {
    /// The `n`th hazard, found at `found_at`, with its inspection (when it
    /// starts a visit) and its history; writes the batch when it is full.
    fn find(
        &mut self,
        conn: &mut DbConnection,
        n: usize,
        found_at: NaiveDateTime,
    ) -> Result<(), AppError> {
        let found_on = self.draw.local_day(found_at);
        let (inspection_id, enterprise, source) = self.visit(found_at, found_on);
        let finding = draw_finding(&mut self.draw.rng);
        let timeline = draw_timeline(&mut self.draw.rng, found_at, found_on, finding.major);
        let closed = n < self.rectified;
        let id = self.draw.id_at(found_at);
        let sighting = Sighting {
            n,
            at: found_at,
            on: found_on,
            inspection_id,
            enterprise,
            source,
        };
        let row = self.hazard_row(id, sighting, &finding, &timeline, closed);
        self.batch.hazards.push(row);
        self.history(id, closed, finding.major, &timeline);
        // Large parks (benchmarks) are written in slices, not held whole.
        if self.batch.hazards.len() >= FLUSH_EVERY {
            self.written += self.batch.flush(conn)?;
        }
        Ok(())
    }

    /// The inspection a hazard found at `found_at` belongs to: the current
    /// visit while it has hazards left that day, else a new one.
    fn visit(&mut self, found_at: NaiveDateTime, found_on: NaiveDate) -> (Id, usize, CheckSource) {
        match &mut self.visit {
            Some(visit) if visit.left > 0 && visit.day == found_on => {
                visit.left -= 1;
                (visit.id, visit.enterprise, visit.source)
            }
            _ => self.new_visit(found_at, found_on),
        }
    }

    /// Starts a visit: an enterprise and a kind of check drawn, and its
    /// inspection row.
    fn new_visit(
        &mut self,
        found_at: NaiveDateTime,
        found_on: NaiveDate,
    ) -> (Id, usize, CheckSource) {
        let enterprise = *pick(&mut self.draw.rng, &self.park.weighted);
        let source = *pick(&mut self.draw.rng, &SOURCES);
        let id = self.draw.id_at(found_at);
        self.batch.inspections.push(Inspection {
            id,
            source,
            enterprise_id: self.park.ids[enterprise],
            checking_enterprise_id: self.park.checker(source, enterprise),
            inspected_on: found_on,
            inspectors: json!(["演示检查组"]).to_string(),
            notes: String::new(),
            created_by: self.actors.expert,
            created_at: found_at,
        });
        let left = self.draw.rng.gen_range(0..9);
        self.visit = Some(Visit {
            id,
            enterprise,
            source,
            day: found_on,
            left,
        });
        (id, enterprise, source)
    }

    /// The hazard's row, closed or rectifying with its plan.
    fn hazard_row(
        &mut self,
        id: Id,
        sighting: Sighting,
        finding: &Finding,
        timeline: &Timeline,
        closed: bool,
    ) -> Hazard {
        let year = self.draw.year;
        let Finding { major, title, .. } = *finding;
        let submitted_on = self.draw.local_day(timeline.submitted_at);
        let found_at = sighting.at;
        let expert = self.actors.expert;
        let rng = &mut self.draw.rng;
        Hazard {
            id,
            number: hazard_number(year, i32::try_from(sighting.n + 1).unwrap_or(i32::MAX)),
            found_year: year,
            enterprise_id: self.park.ids[sighting.enterprise],
            source: sighting.source,
            checking_enterprise_id: self.park.checker(sighting.source, sighting.enterprise),
            inspection_id: Some(sighting.inspection_id),
            title: title.into(),
            description: format!("{title}(演示数据)"),
            location: format!("{}号装置区", rng.gen_range(1..9)),
            category: finding.category.into(),
            specialty: Some(finding.specialty.into()),
            level: if major {
                HazardLevel::Major
            } else {
                HazardLevel::General
            },
            major_basis_code: major.then(|| rng.gen_range(1..=20)),
            listing_ordering_body: None,
            listing_listed_on: None,
            found_at,
            found_by: expert,
            deadline: timeline.deadline,
            state: if closed {
                HazardState::Closed
            } else {
                HazardState::Rectifying
            },
            version: if closed { 4 } else { 2 },
            plan_measures: Some("按整改方案落实整改措施".into()),
            plan_responsible_person: Some("安全主管".into()),
            plan_funds_fen: Some(rng.gen_range(0..5_000_000)),
            plan_contingency: Some("整改期间落实临时管控措施".into()),
            planned_at: Some(timeline.planned_at),
            planned_by: Some(expert),
            submitted_at: closed.then_some(timeline.submitted_at),
            closed_at: closed.then_some(timeline.accepted_at),
            voided_at: None,
            created_at: found_at,
            updated_at: if closed {
                timeline.accepted_at
            } else {
                timeline.planned_at
            },
            evidence_before: 0,
            evidence_after: 0,
            found_month: i32::try_from(sighting.on.month()).unwrap_or(0),
            closed_on_time: closed.then_some(closed_on_time(Some(submitted_on), timeline.deadline)),
        }
    }

    /// The hazard's events: reported and planned by the expert; if closed,
    /// submitted and accepted (a major hazard by the supervisor).
    fn history(&mut self, hazard_id: Id, closed: bool, major: bool, timeline: &Timeline) {
        let (supervisor, expert) = (self.actors.supervisor, self.actors.expert);
        let mut steps = vec![
            (
                "report",
                None,
                HazardState::Reported,
                timeline.found_at,
                expert,
                Role::Expert,
            ),
            (
                "plan",
                Some(HazardState::Reported),
                HazardState::Rectifying,
                timeline.planned_at,
                expert,
                Role::Expert,
            ),
        ];
        if closed {
            steps.push((
                "submit",
                Some(HazardState::Rectifying),
                HazardState::PendingAcceptance,
                timeline.submitted_at,
                expert,
                Role::Expert,
            ));
            let (acceptor, role) = if major {
                (supervisor, Role::Supervisor)
            } else {
                (expert, Role::Expert)
            };
            steps.push((
                "accept",
                Some(HazardState::PendingAcceptance),
                HazardState::Closed,
                timeline.accepted_at,
                acceptor,
                role,
            ));
        }
        for (seq, (action, from, to, at, actor, role)) in steps.into_iter().enumerate() {
            self.batch.events.push(HazardEvent {
                id: self.draw.id_at(at),
                hazard_id: hazard_id.to_owned(),
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
                entered_late: false,
            });
        }
    }
}

/// Where a hazard of the current slice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// Planned, its deadline ahead.
    Open,
    /// Planned, its deadline passed, not submitted.
    Overdue,
    /// Submitted, waiting for acceptance.
    Pending,
    /// A major hazard being rectified.
    MajorOpen,
    Closed,
}

/// One step of a slice hazard's history: action, from, to, when, who, as.
type SliceStep = (
    &'static str,
    Option<HazardState>,
    HazardState,
    NaiveDateTime,
    Id,
    Role,
);

/// The current slice: how many hazards stand where.
const SLICE: [(Standing, usize); 5] = [
    (Standing::Open, 14),
    (Standing::Overdue, 5),
    (Standing::Pending, 4),
    (Standing::MajorOpen, 2),
    (Standing::Closed, 12),
];

/// This year's work in progress, found in the last weeks (not before 1
/// January): nothing when the published year is the current one.
fn insert_current_slice(
    conn: &mut DbConnection,
    draw: &mut Draw,
    actors: &Actors,
    park: &Park,
    now: NaiveDateTime,
) -> Result<Written, AppError> {
    let today = draw.local_day(now);
    let year = today.year();
    let Some(new_year) = NaiveDate::from_ymd_opt(year, 1, 1) else {
        return Ok(Written::default());
    };
    if year <= draw.year {
        return Ok(Written::default());
    }
    let mut batch = HazardBatch::with_capacity(SLICE.iter().map(|(_, n)| n).sum());
    let mut seq = 0;
    for (standing, count) in SLICE {
        for _ in 0..count {
            seq += 1;
            let age = match standing {
                Standing::Overdue => draw.rng.gen_range(15..40),
                Standing::Closed => draw.rng.gen_range(20..60),
                _ => draw.rng.gen_range(1..15),
            };
            let found_on = (today - Duration::days(age)).max(new_year);
            let hour = draw.rng.gen_range(8..17);
            let deadline = match standing {
                Standing::Overdue => (found_on + Duration::days(7)).min(today - Duration::days(1)),
                Standing::Closed => found_on + Duration::days(draw.rng.gen_range(7..30)),
                _ => today + Duration::days(draw.rng.gen_range(3..30)),
            }
            .max(found_on);
            let found_at = draw
                .utc(found_on.and_hms_opt(hour, 0, 0).unwrap_or_default())
                .min(now - Duration::hours(3));
            let planned_at = (found_at + Duration::hours(1)).min(now - Duration::hours(2));
            let submitted_at = match standing {
                Standing::Pending => Some((now - Duration::hours(1)).max(planned_at)),
                Standing::Closed => Some(
                    (found_at + Duration::days(rng_days(draw, deadline, found_on)))
                        .min(now - Duration::hours(1))
                        .max(planned_at),
                ),
                _ => None,
            };
            let closed_at = (standing == Standing::Closed)
                .then(|| submitted_at.map(|at| (at + Duration::hours(20)).min(now).max(at)))
                .flatten();
            let state = match standing {
                Standing::Pending => HazardState::PendingAcceptance,
                Standing::Closed => HazardState::Closed,
                _ => HazardState::Rectifying,
            };
            let major = standing == Standing::MajorOpen;
            let mut finding = draw_finding(&mut draw.rng);
            finding.major = major;
            let enterprise = *pick(&mut draw.rng, &park.weighted);
            let source = *pick(&mut draw.rng, &SOURCES);
            let id = draw.id_at(found_at);
            let expert = actors.expert;
            let events: Vec<SliceStep> = [
                Some((
                    "report",
                    None,
                    HazardState::Reported,
                    found_at,
                    expert,
                    Role::Expert,
                )),
                Some((
                    "plan",
                    Some(HazardState::Reported),
                    HazardState::Rectifying,
                    planned_at,
                    expert,
                    Role::Expert,
                )),
                submitted_at.map(|at| {
                    (
                        "submit",
                        Some(HazardState::Rectifying),
                        HazardState::PendingAcceptance,
                        at,
                        expert,
                        Role::Expert,
                    )
                }),
                closed_at.map(|at| {
                    (
                        "accept",
                        Some(HazardState::PendingAcceptance),
                        HazardState::Closed,
                        at,
                        actors.supervisor,
                        Role::Supervisor,
                    )
                }),
            ]
            .into_iter()
            .flatten()
            .collect();
            let updated_at = events.last().map_or(found_at, |e| e.3);
            for (n, (action, from, to, at, actor, role)) in events.iter().enumerate() {
                batch.events.push(HazardEvent {
                    id: draw.id_at(*at),
                    hazard_id: id,
                    seq: i32::try_from(n + 1).unwrap_or(1),
                    action: (*action).into(),
                    actor_id: *actor,
                    actor_role: *role,
                    from_state: *from,
                    to_state: *to,
                    occurred_at: *at,
                    recorded_at: *at,
                    note: None,
                    details: "{}".into(),
                    entered_late: false,
                });
            }
            let rng = &mut draw.rng;
            batch.hazards.push(Hazard {
                id,
                number: hazard_number(year, seq),
                found_year: year,
                enterprise_id: park.ids[enterprise],
                source,
                checking_enterprise_id: park.checker(source, enterprise),
                inspection_id: None,
                title: finding.title.into(),
                description: format!("{}(演示数据)", finding.title),
                location: format!("{}号装置区", rng.gen_range(1..9)),
                category: finding.category.into(),
                specialty: Some(finding.specialty.into()),
                level: if major {
                    HazardLevel::Major
                } else {
                    HazardLevel::General
                },
                major_basis_code: major.then(|| rng.gen_range(1..=20)),
                listing_ordering_body: None,
                listing_listed_on: None,
                found_at,
                found_by: expert,
                deadline,
                state,
                version: i64::try_from(events.len()).unwrap_or(1),
                plan_measures: Some("按整改方案落实整改措施".into()),
                plan_responsible_person: Some("安全主管".into()),
                plan_funds_fen: Some(rng.gen_range(0..2_000_000)),
                plan_contingency: Some("整改期间落实临时管控措施".into()),
                planned_at: Some(planned_at),
                planned_by: Some(expert),
                submitted_at,
                closed_at,
                voided_at: None,
                created_at: found_at,
                updated_at,
                evidence_before: 0,
                evidence_after: 0,
                found_month: i32::try_from(found_on.month()).unwrap_or(0),
                closed_on_time: closed_at
                    .map(|_| closed_on_time(submitted_at.map(|at| draw.local_day(at)), deadline)),
            });
        }
    }
    insert_number_counter(conn, year, usize::try_from(seq).unwrap_or(0))?;
    batch.flush(conn)
}

/// Days from found to submitted for a closed item of the slice: mostly
/// within the time allowed.
fn rng_days(draw: &mut Draw, deadline: NaiveDate, found_on: NaiveDate) -> i64 {
    let allowed = (deadline - found_on).num_days().max(1);
    draw.rng.gen_range(1..=allowed)
}

/// What was found: major or not, its specialty, category and title.
fn draw_finding(rng: &mut StdRng) -> Finding {
    let major = rng.gen_range(0..1000) < 3;
    let specialty = *pick(rng, &SPECIALTIES);
    let category = *pick(rng, &CATEGORIES);
    let title = TITLES
        .iter()
        .find(|(s, _)| *s == specialty)
        .map_or("现场隐患", |(_, t)| t);
    Finding {
        major,
        specialty,
        category,
        title,
    }
}

/// The time allowed and how the rectification went: most rectify well
/// inside the time allowed; a few run late.
fn draw_timeline(
    rng: &mut StdRng,
    found_at: NaiveDateTime,
    found_on: NaiveDate,
    major: bool,
) -> Timeline {
    let allowed = if major {
        rng.gen_range(30..90)
    } else {
        *pick(rng, &[(7i64, 4u32), (15, 4), (30, 2)])
    };
    let deadline = found_on + Duration::days(allowed);
    let took = if rng.gen_range(0..100) < 94 {
        rng.gen_range(1..=allowed)
    } else {
        allowed + rng.gen_range(1..10)
    };
    let planned_at = found_at + Duration::hours(rng.gen_range(2..48));
    let submitted_at = found_at + Duration::days(took) + Duration::hours(2);
    let accepted_at = submitted_at + Duration::days(rng.gen_range(1..4));
    Timeline {
        found_at,
        deadline,
        planned_at,
        submitted_at,
        accepted_at,
    }
}

/// Sets the year's hazard-number counter to the last number drawn.
fn insert_number_counter(conn: &mut DbConnection, year: i32, total: usize) -> Result<(), AppError> {
    diesel::insert_into(hazard_number_counters::table)
        .values((
            hazard_number_counters::year.eq(year),
            hazard_number_counters::last_seq.eq(i32::try_from(total).unwrap_or(i32::MAX)),
        ))
        .execute(conn)?;
    Ok(())
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
