//! The analyses a park's safety committee asks for beyond the overview's
//! counts: how long rectification takes, how old the open hazards are, a
//! scorecard per enterprise, hazards that come back, month-by-month trends
//! and the places hazards are found. Each is one scan of the [`FactTable`]:
//! every hazard's facts, compact, in park time, read once and then kept up
//! to date from the change feed. Each renders as a table for CSV and XLSX.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;
use uuid::Uuid;

use crate::db::analytics::{self as store, HazardFact};
use crate::db::grading::{grades_as_of, last_supervision_visits};
use crate::db::stats::enterprise_names;
use crate::db::{self, DbConnection};
use crate::domain::grading::Grade;
use crate::domain::hazard::{CheckSource, HazardLevel, HazardState};
use crate::domain::park::Park;
use crate::error::{AppError, FieldError};
use crate::messages::Rule;

/// What every analysis can be cut by. Dates are park-local days the
/// hazards were found on, both ends included; none means no bound.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Filter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub enterprise_id: Option<Uuid>,
    pub source: Option<CheckSource>,
    pub level: Option<HazardLevel>,
    /// Only enterprises of this grade today.
    pub grade: Option<Grade>,
}

impl Filter {
    /// A filter whose period runs forwards: `from` after `to` is `422`.
    pub fn new(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        enterprise_id: Option<Uuid>,
        source: Option<CheckSource>,
        level: Option<HazardLevel>,
        grade: Option<Grade>,
    ) -> Result<Filter, AppError> {
        if from.zip(to).is_some_and(|(from, to)| from > to) {
            return Err(AppError::invalid("from", Rule::NotAfterEnd));
        }
        Ok(Filter {
            from,
            to,
            enterprise_id,
            source,
            level,
            grade,
        })
    }
}

/// Strings seen in the facts, each kept once and named by its number.
#[derive(Debug, Default)]
struct Interned {
    names: Vec<String>,
    numbers: HashMap<String, u32>,
}

impl Interned {
    fn number(&mut self, name: &str) -> u32 {
        if let Some(n) = self.numbers.get(name) {
            return *n;
        }
        let n = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_owned());
        self.numbers.insert(name.to_owned(), n);
        n
    }

    fn name(&self, number: u32) -> &str {
        self.names.get(number as usize).map_or("", String::as_str)
    }
}

/// One hazard's facts, compact: its days in park time and its texts by
/// number.
#[derive(Debug, Clone, Copy)]
struct Fact {
    id: Uuid,
    enterprise_id: Uuid,
    category: u32,
    specialty: Option<u32>,
    location: u32,
    found_on: NaiveDate,
    closed_on: Option<NaiveDate>,
    deadline: NaiveDate,
    source: CheckSource,
    level: HazardLevel,
    state: HazardState,
    closed_on_time: Option<bool>,
    /// A step of it was entered after the fact (补录).
    entered_late: bool,
}

/// How many changes are taken in one by one before reading every hazard
/// again is cheaper.
const CATCH_UP_LIMIT: i64 = 20_000;

/// How many hazards a page of the first read holds.
const PAGE: i64 = 20_000;

/// Every hazard's facts, read once and then kept up to date from the
/// change feed: an analysis scans these in memory (tens of bytes per
/// hazard) instead of reading every hazard from the database.
#[derive(Debug, Default)]
pub struct FactTable {
    /// The last change of the feed the table has taken in.
    seq: i64,
    facts: Vec<Fact>,
    rows: HashMap<Uuid, usize>,
    categories: Interned,
    specialties: Interned,
    locations: Interned,
    /// How many facts are in each state (no zeros), kept as facts come and
    /// go: each catch-up compares it with the summary rows.
    per_state: HashMap<HazardState, i64>,
}

impl FactTable {
    /// Reads every hazard, in pages, from one snapshot.
    pub fn load(conn: &mut DbConnection, park: &Park) -> Result<FactTable, AppError> {
        let started = std::time::Instant::now();
        let table = db::snapshot_transaction(conn, |conn| {
            let mut table = FactTable {
                seq: store::last_change(conn)?,
                ..FactTable::default()
            };
            let entered = store::hazards_with_entered_records(conn, None)?;
            let mut after = None;
            loop {
                let page = store::hazard_facts_page(conn, after, PAGE)?;
                after = page.last().map(|h| h.id);
                let full = page.len() as i64 == PAGE;
                for hazard in page {
                    let late = entered.contains(&hazard.id);
                    table.put(park, hazard, late);
                }
                if !full {
                    return Ok(table);
                }
            }
        })?;
        tracing::info!(
            hazards = table.len(),
            ms = started.elapsed().as_millis() as u64,
            "read the analytics' facts"
        );
        Ok(table)
    }

    /// Takes in every change since the last one seen, from one snapshot;
    /// reads everything again when too much changed, or when its counts
    /// per state disagree with the summary rows (a change made without a
    /// hazard event, by hand in SQL).
    pub fn catch_up(&mut self, conn: &mut DbConnection, park: &Park) -> Result<(), AppError> {
        let caught_up = db::snapshot_transaction(conn, |conn| {
            let last = store::last_change(conn)?;
            if last == self.seq {
                return self.agrees_with_summary(conn);
            }
            let Some(ids) = store::hazards_changed_since(conn, self.seq, CATCH_UP_LIMIT)? else {
                return Ok(false);
            };
            let entered = store::hazards_with_entered_records(conn, Some(&ids))?;
            let mut gone: HashSet<Uuid> = ids.iter().map(|id| id.uuid()).collect();
            for hazard in store::hazard_facts_of(conn, &ids)? {
                gone.remove(&hazard.id.uuid());
                let late = entered.contains(&hazard.id);
                self.put(park, hazard, late);
            }
            for id in gone {
                self.remove(id);
            }
            self.seq = last;
            self.agrees_with_summary(conn)
        })?;
        if !caught_up {
            *self = FactTable::load(conn, park)?;
        }
        Ok(())
    }

    /// Whether the table counts as many hazards in each state as the
    /// summary rows do.
    fn agrees_with_summary(&self, conn: &mut DbConnection) -> Result<bool, AppError> {
        // Both leave out states with no hazards.
        let theirs: HashMap<HazardState, i64> =
            store::hazards_per_state(conn)?.into_iter().collect();
        let agree = self.per_state == theirs;
        if !agree {
            tracing::warn!(
                mine = ?self.per_state,
                ?theirs,
                "the analytics' facts disagree with the summary rows: reading them again"
            );
        }
        Ok(agree)
    }

    fn put(&mut self, park: &Park, hazard: HazardFact, entered_late: bool) {
        let fact = Fact {
            id: hazard.id.uuid(),
            enterprise_id: hazard.enterprise_id.uuid(),
            category: self.categories.number(&hazard.category),
            specialty: hazard
                .specialty
                .as_deref()
                .map(|code| self.specialties.number(code)),
            location: self.locations.number(&hazard.location),
            found_on: park.local_date(hazard.found_at),
            closed_on: hazard.closed_at.map(|t| park.local_date(t)),
            deadline: hazard.deadline,
            source: hazard.source,
            level: hazard.level,
            state: hazard.state,
            closed_on_time: hazard.closed_on_time,
            entered_late,
        };
        self.insert(fact);
    }

    /// Adds `fact`, or replaces the one of the same hazard.
    fn insert(&mut self, fact: Fact) {
        *self.per_state.entry(fact.state).or_default() += 1;
        match self.rows.get(&fact.id) {
            Some(row) => {
                let replaced = std::mem::replace(&mut self.facts[*row], fact);
                self.uncount(replaced.state);
            }
            None => {
                self.rows.insert(fact.id, self.facts.len());
                self.facts.push(fact);
            }
        }
    }

    fn remove(&mut self, id: Uuid) {
        let Some(row) = self.rows.remove(&id) else {
            return;
        };
        let removed = self.facts.swap_remove(row);
        self.uncount(removed.state);
        if let Some(moved) = self.facts.get(row) {
            self.rows.insert(moved.id, row);
        }
    }

    fn uncount(&mut self, state: HazardState) {
        if let std::collections::hash_map::Entry::Occupied(mut n) = self.per_state.entry(state) {
            *n.get_mut() -= 1;
            if *n.get() <= 0 {
                n.remove();
            }
        }
    }

    /// Each location's number with its surrounding blanks trimmed (the
    /// same place written twice shares one), and those trimmed names.
    fn trimmed_locations(&self) -> (Vec<u32>, Vec<&str>) {
        let mut numbers: HashMap<&str, u32> = HashMap::new();
        let mut names = Vec::new();
        let place_of = self
            .locations
            .names
            .iter()
            .map(|name| {
                let name = name.trim();
                *numbers.entry(name).or_insert_with(|| {
                    names.push(name);
                    u32::try_from(names.len() - 1).unwrap_or(u32::MAX)
                })
            })
            .collect();
        (place_of, names)
    }

    /// How many hazards it holds, voided ones included.
    pub fn len(&self) -> usize {
        self.facts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }
}

/// The hazards (and enterprises) an analysis looks at: a view of the
/// fact table through a filter.
pub struct Facts<'a> {
    table: &'a FactTable,
    names: HashMap<Uuid, String>,
    grades: HashMap<Uuid, Grade>,
    park: Park,
    filter: Filter,
    /// Whether only the enterprises in `names` count.
    narrowed: bool,
    /// The first day read: `filter.from`, or earlier for trends.
    first: Option<NaiveDate>,
    today: NaiveDate,
}

impl<'a> Facts<'a> {
    /// What `filter` admits of `table`. `since` widens the view before
    /// `from` (trends compare with the year before).
    pub fn new(
        conn: &mut DbConnection,
        table: &'a FactTable,
        park: &Park,
        filter: &Filter,
        today: NaiveDate,
        since: Option<NaiveDate>,
    ) -> Result<Facts<'a>, AppError> {
        let grades: HashMap<Uuid, Grade> = grades_as_of(conn, today, None)?
            .into_iter()
            .map(|(id, assessment)| (id.uuid(), assessment.grade))
            .collect();
        let mut names: HashMap<Uuid, String> = enterprise_names(conn)?
            .into_iter()
            .map(|(id, name)| (id.uuid(), name))
            .collect();
        names.retain(|id, _| {
            filter.enterprise_id.is_none_or(|only| *id == only)
                && filter
                    .grade
                    .is_none_or(|grade| grades.get(id) == Some(&grade))
        });
        Ok(Facts {
            table,
            names,
            grades,
            park: park.clone(),
            filter: filter.clone(),
            narrowed: filter.enterprise_id.is_some() || filter.grade.is_some(),
            first: since.or(filter.from),
            today,
        })
    }

    /// Every hazard in view, voided ones left out.
    fn all(&self) -> impl Iterator<Item = &Fact> {
        self.table.facts.iter().filter(|f| {
            f.state != HazardState::Voided
                && self.filter.source.is_none_or(|s| f.source == s)
                && self.filter.level.is_none_or(|l| f.level == l)
                && self.first.is_none_or(|d| f.found_on >= d)
                && self.filter.to.is_none_or(|d| f.found_on <= d)
                && (!self.narrowed || self.names.contains_key(&f.enterprise_id))
        })
    }

    /// The hazards found within the filter's own period.
    fn in_period(&self) -> impl Iterator<Item = &Fact> {
        self.all().filter(|f| self.is_in_period(f))
    }

    /// Whether a hazard in view was found within the filter's own period.
    fn is_in_period(&self, fact: &Fact) -> bool {
        self.filter.from.is_none_or(|d| fact.found_on >= d)
    }

    fn name(&self, id: Uuid) -> String {
        self.names.get(&id).cloned().unwrap_or_default()
    }
}

/// A table for CSV and XLSX: a title, column names, rows of cells.
#[derive(Debug, Clone)]
pub struct Table {
    pub title: &'static str,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::Text(text)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Number(n as f64)
    }
}

impl From<Option<i64>> for Cell {
    fn from(value: Option<i64>) -> Cell {
        value.map_or(Cell::Empty, Cell::from)
    }
}

impl From<Option<f64>> for Cell {
    fn from(n: Option<f64>) -> Cell {
        n.map_or(Cell::Empty, Cell::Number)
    }
}

impl From<Option<NaiveDate>> for Cell {
    fn from(day: Option<NaiveDate>) -> Cell {
        day.map_or(Cell::Empty, |d| Cell::Text(d.to_string()))
    }
}

impl Table {
    /// Comma-separated, one header row; a text a spreadsheet would run as
    /// a formula is made inert.
    pub fn csv(&self) -> Result<Vec<u8>, AppError> {
        let fail = |e: csv::Error| AppError::Internal(e.into());
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(&self.columns).map_err(fail)?;
        for row in &self.rows {
            let cells = row.iter().map(|cell| match cell {
                Cell::Text(text) => crate::app::reports::render::inert(text).into_owned(),
                Cell::Number(n) => n.to_string(),
                Cell::Empty => String::new(),
            });
            out.write_record(cells).map_err(fail)?;
        }
        out.into_inner()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("writing CSV: {e}")))
    }

    /// One worksheet named for the table, numbers as numbers.
    pub fn xlsx(&self) -> Result<Vec<u8>, AppError> {
        let write = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
            let mut workbook = rust_xlsxwriter::Workbook::new();
            let bold = rust_xlsxwriter::Format::new().set_bold();
            let sheet = workbook.add_worksheet().set_name(self.title)?;
            for (col, name) in self.columns.iter().enumerate() {
                sheet.write_string_with_format(0, column(col), name, &bold)?;
            }
            for (i, row) in self.rows.iter().enumerate() {
                let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
                for (col, cell) in row.iter().enumerate() {
                    match cell {
                        Cell::Text(text) => sheet.write_string(r, column(col), text)?,
                        Cell::Number(n) => sheet.write_number(r, column(col), *n)?,
                        Cell::Empty => sheet,
                    };
                }
            }
            workbook.save_to_buffer()
        };
        write().map_err(|e| AppError::Internal(anyhow::anyhow!("writing the workbook: {e}")))
    }
}

/// Column names as a table holds them.
pub fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|name| (*name).to_owned()).collect()
}

fn column(index: usize) -> u16 {
    u16::try_from(index).unwrap_or(u16::MAX)
}

// ------------------------------------------------------- time to rectify

/// What rectification times are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Source,
    Level,
    Category,
    Specialty,
    Enterprise,
    Month,
}

/// Days from found to closed (park days) for one group of closed hazards.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DurationGroup {
    pub key: String,
    pub label: String,
    pub closed: i64,
    pub median_days: Option<f64>,
    /// Nearest rank: 90% of the group closed within this many days.
    pub p90_days: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RectificationTime {
    pub filter: Filter,
    pub group_by: GroupBy,
    pub overall: DurationGroup,
    pub groups: Vec<DurationGroup>,
}

/// How many hazards took each number of days: counted, not sorted, so a
/// million closures cost one pass.
#[derive(Debug, Default)]
struct Days {
    /// Hazards by days taken, for 0 up to a few years.
    counts: Vec<i64>,
    /// Any others (a closure dated before the find, or decades later).
    others: BTreeMap<i64, i64>,
    n: i64,
}

impl Days {
    const COUNTED: i64 = 4096;

    fn add(&mut self, days: i64) {
        self.n += 1;
        match usize::try_from(days) {
            Ok(i) if days < Self::COUNTED => {
                if self.counts.len() <= i {
                    self.counts.resize(i + 1, 0);
                }
                self.counts[i] += 1;
            }
            _ => *self.others.entry(days).or_default() += 1,
        }
    }

    /// The days taken by the hazard at `rank` (0-based) in order.
    fn at(&self, rank: i64) -> i64 {
        let below = self.others.range(..0);
        let above = self.others.range(Self::COUNTED..);
        let counted = self.counts.iter().enumerate().map(|(i, n)| (i as i64, *n));
        let mut seen = 0;
        for (days, n) in below
            .map(|(d, n)| (*d, *n))
            .chain(counted)
            .chain(above.map(|(d, n)| (*d, *n)))
        {
            seen += n;
            if seen > rank {
                return days;
            }
        }
        0
    }
}

fn duration_group(key: String, label: String, days: &Days) -> DurationGroup {
    let n = days.n;
    let median = (n > 0).then(|| {
        if n % 2 == 1 {
            days.at(n / 2) as f64
        } else {
            (days.at(n / 2 - 1) + days.at(n / 2)) as f64 / 2.0
        }
    });
    let p90 = (n > 0).then(|| days.at((n * 9 + 9) / 10 - 1) as f64);
    DurationGroup {
        key,
        label,
        closed: n,
        median_days: median,
        p90_days: p90,
    }
}

/// The group a hazard falls into, before it is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum GroupKey {
    Source(CheckSource),
    Level(HazardLevel),
    Category(u32),
    Specialty(Option<u32>),
    Enterprise(Uuid),
    Month(i32, u32),
}

pub fn rectification_time(facts: &Facts, group_by: GroupBy) -> RectificationTime {
    let mut groups: HashMap<GroupKey, Days> = HashMap::new();
    let mut all = Days::default();
    for fact in facts.in_period() {
        let Some(closed_on) = fact.closed_on.filter(|_| fact.state == HazardState::Closed) else {
            continue;
        };
        let days = (closed_on - fact.found_on).num_days();
        all.add(days);
        let key = match group_by {
            GroupBy::Source => GroupKey::Source(fact.source),
            GroupBy::Level => GroupKey::Level(fact.level),
            GroupBy::Category => GroupKey::Category(fact.category),
            GroupBy::Specialty => GroupKey::Specialty(fact.specialty),
            GroupBy::Enterprise => GroupKey::Enterprise(fact.enterprise_id),
            GroupBy::Month => GroupKey::Month(fact.found_on.year(), fact.found_on.month()),
        };
        groups.entry(key).or_default().add(days);
    }
    let mut named: Vec<((String, String), Days)> = groups
        .into_iter()
        .map(|(key, days)| (group_name(facts, key), days))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    RectificationTime {
        filter: facts.filter.clone(),
        group_by,
        overall: duration_group("all".into(), "全部".into(), &all),
        groups: named
            .into_iter()
            .map(|((key, label), days)| duration_group(key, label, &days))
            .collect(),
    }
}

/// A group's key and label.
fn group_name(facts: &Facts, key: GroupKey) -> (String, String) {
    let labelled = |list: &[crate::domain::park::CodeLabel], code: &str| {
        let label = list
            .iter()
            .find(|e| e.code == code)
            .map(|e| e.label.clone());
        (code.to_owned(), label.unwrap_or_else(|| code.to_owned()))
    };
    let table = facts.table;
    match key {
        GroupKey::Source(source) => (source.as_str().into(), source.label_zh().into()),
        GroupKey::Level(level) => (level.as_str().into(), level.label_zh().into()),
        GroupKey::Category(n) => labelled(&facts.park.categories, table.categories.name(n)),
        GroupKey::Specialty(Some(n)) => {
            labelled(&facts.park.specialties, table.specialties.name(n))
        }
        GroupKey::Specialty(None) => ("unspecified".into(), "未分专业".into()),
        GroupKey::Enterprise(id) => (id.to_string(), facts.name(id)),
        GroupKey::Month(year, month) => {
            let month = format!("{year}-{month:02}");
            (month.clone(), month)
        }
    }
}

impl RectificationTime {
    pub fn table(&self) -> Table {
        Table {
            title: "整改用时",
            columns: names(&["key", "label", "closed", "median_days", "p90_days"]),
            rows: std::iter::once(&self.overall)
                .chain(&self.groups)
                .map(|g| {
                    vec![
                        g.key.clone().into(),
                        g.label.clone().into(),
                        g.closed.into(),
                        g.median_days.into(),
                        g.p90_days.into(),
                    ]
                })
                .collect(),
        }
    }
}

// ------------------------------------------------------------- ageing

/// Open hazards by age: days since found (park time).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct AgeBuckets {
    pub days_0_7: i64,
    pub days_8_30: i64,
    pub days_31_90: i64,
    pub over_90_days: i64,
}

/// Overdue hazards by days past the deadline day.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct OverdueBuckets {
    pub days_1_7: i64,
    pub days_8_30: i64,
    pub days_31_90: i64,
    pub over_90_days: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnterpriseAgeing {
    pub enterprise_id: Uuid,
    pub name: String,
    pub open: i64,
    pub age: AgeBuckets,
    pub overdue: OverdueBuckets,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ageing {
    pub filter: Filter,
    pub as_of: NaiveDate,
    pub open: i64,
    pub age: AgeBuckets,
    pub overdue: OverdueBuckets,
    /// Most open first.
    pub by_enterprise: Vec<EnterpriseAgeing>,
}

fn bucket(days: i64) -> usize {
    match days {
        ..=7 => 0,
        8..=30 => 1,
        31..=90 => 2,
        _ => 3,
    }
}

impl AgeBuckets {
    fn add(&mut self, days: i64) {
        *[
            &mut self.days_0_7,
            &mut self.days_8_30,
            &mut self.days_31_90,
            &mut self.over_90_days,
        ][bucket(days)] += 1;
    }
}

impl OverdueBuckets {
    fn add(&mut self, days: i64) {
        *[
            &mut self.days_1_7,
            &mut self.days_8_30,
            &mut self.days_31_90,
            &mut self.over_90_days,
        ][bucket(days)] += 1;
    }
}

pub fn ageing(facts: &Facts) -> Ageing {
    let today = facts.today;
    let zero = EnterpriseAgeing {
        enterprise_id: Uuid::nil(),
        name: String::new(),
        open: 0,
        age: AgeBuckets::default(),
        overdue: OverdueBuckets::default(),
    };
    let mut total = zero.clone();
    let mut per: HashMap<Uuid, EnterpriseAgeing> = HashMap::new();
    for h in facts.in_period().filter(|f| f.state.is_open()) {
        let entry = per
            .entry(h.enterprise_id)
            .or_insert_with(|| EnterpriseAgeing {
                enterprise_id: h.enterprise_id,
                name: facts.name(h.enterprise_id),
                ..zero.clone()
            });
        let age = (today - h.found_on).num_days().max(0);
        let overdue = h.state.overdue_on(h.deadline, today);
        for target in [&mut total, entry] {
            target.open += 1;
            target.age.add(age);
            if overdue {
                target.overdue.add((today - h.deadline).num_days());
            }
        }
    }
    let mut by_enterprise: Vec<EnterpriseAgeing> = per.into_values().collect();
    by_enterprise.sort_by(|a, b| b.open.cmp(&a.open).then_with(|| a.name.cmp(&b.name)));
    Ageing {
        filter: facts.filter.clone(),
        as_of: today,
        open: total.open,
        age: total.age,
        overdue: total.overdue,
        by_enterprise,
    }
}

impl Ageing {
    pub fn table(&self) -> Table {
        let row = |id: String, name: String, open: i64, a: &AgeBuckets, o: &OverdueBuckets| {
            vec![
                id.into(),
                name.into(),
                open.into(),
                a.days_0_7.into(),
                a.days_8_30.into(),
                a.days_31_90.into(),
                a.over_90_days.into(),
                o.days_1_7.into(),
                o.days_8_30.into(),
                o.days_31_90.into(),
                o.over_90_days.into(),
            ]
        };
        let mut rows = vec![row(
            "all".into(),
            "全部".into(),
            self.open,
            &self.age,
            &self.overdue,
        )];
        rows.extend(self.by_enterprise.iter().map(|e| {
            row(
                e.enterprise_id.to_string(),
                e.name.clone(),
                e.open,
                &e.age,
                &e.overdue,
            )
        }));
        Table {
            title: "隐患账龄",
            columns: names(&[
                "enterprise_id",
                "name",
                "open",
                "age_0_7",
                "age_8_30",
                "age_31_90",
                "age_over_90",
                "overdue_1_7",
                "overdue_8_30",
                "overdue_31_90",
                "overdue_over_90",
            ]),
            rows,
        }
    }
}

// ----------------------------------------------------------- scorecard

/// What the scorecard is sorted by (numbers largest first, names A–Z).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScorecardSort {
    Name,
    Found,
    Closed,
    OnTimeRate,
    OverdueNow,
    OpenMajor,
    EnteredLateShare,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScoreRow {
    pub enterprise_id: Uuid,
    pub name: String,
    pub grade: Option<Grade>,
    pub found: i64,
    pub closed: i64,
    /// Closed on time ÷ closed; none before anything is closed.
    pub on_time_rate: Option<f64>,
    pub overdue_now: i64,
    pub open_major: i64,
    /// Hazards with a step entered after the fact (补录) ÷ found.
    pub entered_late_share: Option<f64>,
    pub last_supervision_on: Option<NaiveDate>,
    /// Its scheduled checks (双重预防) in `checks_from`–`checks_to`; absent
    /// for an enterprise without a register or tasks.
    pub checks: Option<ScoreChecks>,
}

/// An enterprise's scheduled checks in a period, beside its hazards.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ScoreChecks {
    /// Occurrences started in the period, up to now.
    pub planned: u64,
    /// Done (on time or late).
    pub done: u64,
    pub missed: u64,
    /// Done ÷ (planned − paused − still due); null with nothing settled.
    pub completion_rate: Option<f64>,
    /// Hazards the checks found in the period.
    pub hazards_from_tasks: u64,
    /// The evaluation E of `evaluation_month` (0–100).
    pub evaluation: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Scorecard {
    pub filter: Filter,
    pub sort: ScorecardSort,
    /// The period of each row's `checks`: the month the filter's `to` (or
    /// today) falls in, up to today.
    pub checks_from: Option<NaiveDate>,
    pub checks_to: Option<NaiveDate>,
    /// The month of each row's evaluation E: the one `checks_to` is in.
    pub evaluation_month: Option<String>,
    pub rows: Vec<ScoreRow>,
}

/// The scorecard's inputs read beside the facts.
pub struct ScoreInputs {
    pub visits: HashMap<Uuid, NaiveDate>,
    /// Each enterprise's checks, of `checks_period`.
    pub checks: HashMap<Uuid, ScoreChecks>,
    pub checks_period: Option<(NaiveDate, NaiveDate)>,
    pub evaluation_month: Option<String>,
}

/// The period of the scorecard's checks for `filter`: the month its end
/// (or today) falls in, up to today, as the evaluation is by month; none
/// when it lies wholly ahead.
pub fn checks_period(filter: &Filter, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let to = filter.to.unwrap_or(today).min(today);
    let from = to.with_day(1).unwrap_or(to);
    (from <= to).then_some((from, to))
}

impl ScoreInputs {
    pub fn load(conn: &mut DbConnection, supervision_sources: &[String]) -> Result<Self, AppError> {
        Ok(ScoreInputs {
            visits: last_supervision_visits(conn, supervision_sources)?
                .into_iter()
                .map(|(id, day)| (id.uuid(), day))
                .collect(),
            checks: HashMap::new(),
            checks_period: None,
            evaluation_month: None,
        })
    }
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 1000.0).round() / 1000.0)
}

pub fn scorecard(facts: &Facts, inputs: &ScoreInputs, sort: ScorecardSort) -> Scorecard {
    #[derive(Default)]
    struct Tally {
        found: i64,
        closed: i64,
        on_time: i64,
        overdue: i64,
        open_major: i64,
        entered_late: i64,
    }
    let mut tallies: HashMap<Uuid, Tally> = facts
        .names
        .keys()
        .map(|id| (*id, Tally::default()))
        .collect();
    for h in facts.in_period() {
        let t = tallies.entry(h.enterprise_id).or_default();
        t.found += 1;
        t.entered_late += i64::from(h.entered_late);
        if h.state == HazardState::Closed {
            t.closed += 1;
            t.on_time += i64::from(h.closed_on_time == Some(true));
        }
        let counts = h.state.counts_toward_overdue();
        t.overdue += i64::from(counts && h.deadline < facts.today);
        t.open_major += i64::from(h.level == HazardLevel::Major && h.state.is_open());
    }
    let mut rows: Vec<ScoreRow> = tallies
        .into_iter()
        .map(|(id, t)| ScoreRow {
            enterprise_id: id,
            name: facts.name(id),
            grade: facts.grades.get(&id).copied(),
            found: t.found,
            closed: t.closed,
            on_time_rate: ratio(t.on_time, t.closed),
            overdue_now: t.overdue,
            open_major: t.open_major,
            entered_late_share: ratio(t.entered_late, t.found),
            last_supervision_on: inputs.visits.get(&id).copied(),
            checks: inputs.checks.get(&id).cloned(),
        })
        .collect();
    let number = |r: &ScoreRow| -> f64 {
        match sort {
            ScorecardSort::Name => 0.0,
            ScorecardSort::Found => r.found as f64,
            ScorecardSort::Closed => r.closed as f64,
            ScorecardSort::OnTimeRate => r.on_time_rate.unwrap_or(-1.0),
            ScorecardSort::OverdueNow => r.overdue_now as f64,
            ScorecardSort::OpenMajor => r.open_major as f64,
            ScorecardSort::EnteredLateShare => r.entered_late_share.unwrap_or(-1.0),
        }
    };
    rows.sort_by(|a, b| {
        number(b)
            .total_cmp(&number(a))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.enterprise_id.cmp(&b.enterprise_id))
    });
    Scorecard {
        filter: facts.filter.clone(),
        sort,
        checks_from: inputs.checks_period.map(|(from, _)| from),
        checks_to: inputs.checks_period.map(|(_, to)| to),
        evaluation_month: inputs.evaluation_month.clone(),
        rows,
    }
}

impl Scorecard {
    pub fn table(&self) -> Table {
        Table {
            title: "企业评分卡",
            columns: names(&[
                "enterprise_id",
                "name",
                "grade",
                "found",
                "closed",
                "on_time_rate",
                "overdue_now",
                "open_major",
                "entered_late_share",
                "last_supervision_on",
                "checks_planned",
                "checks_done",
                "checks_missed",
                "check_completion_rate",
                "hazards_from_tasks",
                "evaluation",
            ]),
            rows: self
                .rows
                .iter()
                .map(|r| {
                    vec![
                        r.enterprise_id.to_string().into(),
                        r.name.clone().into(),
                        r.grade
                            .map_or(Cell::Empty, |g| Cell::Text(g.as_str().into())),
                        r.found.into(),
                        r.closed.into(),
                        r.on_time_rate.into(),
                        r.overdue_now.into(),
                        r.open_major.into(),
                        r.entered_late_share.into(),
                        r.last_supervision_on.into(),
                        r.checks.as_ref().map(|c| c.planned as i64).into(),
                        r.checks.as_ref().map(|c| c.done as i64).into(),
                        r.checks.as_ref().map(|c| c.missed as i64).into(),
                        r.checks.as_ref().and_then(|c| c.completion_rate).into(),
                        r.checks
                            .as_ref()
                            .map(|c| c.hazards_from_tasks as i64)
                            .into(),
                        r.checks.as_ref().and_then(|c| c.evaluation).into(),
                    ]
                })
                .collect(),
        }
    }
}

// ----------------------------------------------------------- recurring

/// A hazard found again (重复隐患): same enterprise, category and
/// specialty (and location, when asked) within 12 months of the earlier
/// one's closure.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recurrence {
    pub hazard_id: Uuid,
    pub found_on: NaiveDate,
    pub earlier_hazard_id: Uuid,
    pub earlier_closed_on: NaiveDate,
    pub enterprise_id: Uuid,
    pub name: String,
    pub category: String,
    pub specialty: Option<String>,
    pub location: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recurring {
    pub filter: Filter,
    pub match_location: bool,
    /// Hazards found again in the period.
    pub count: i64,
    /// The latest found of them (at most the `limit` asked for), latest
    /// first.
    pub items: Vec<Recurrence>,
    /// True when the caller's role sees aggregates only (viewers): `items`
    /// is then empty, since each names a hazard, an enterprise and a place.
    pub items_withheld: bool,
}

/// How many of the latest recurring hazards are listed unless asked.
pub const RECURRING_LISTED: usize = 100;
/// How many places the locations analysis names unless asked.
pub const LOCATIONS_LISTED: usize = 20;

/// How many rows a listing analysis returns: `asked`, or its `default`;
/// 1 to 1000 (a province's worth of recurrences is not one answer).
pub fn listed(asked: Option<u32>, default: usize) -> Result<usize, AppError> {
    match asked {
        None => Ok(default),
        Some(asked @ 1..=1000) => Ok(asked as usize),
        Some(_) => Err(AppError::invalid(
            "limit",
            FieldError::new(Rule::OutOfRange)
                .with("min", 1)
                .with("max", 1000),
        )),
    }
}

pub fn recurring(facts: &Facts, match_location: bool, limit: usize) -> Recurring {
    let table = facts.table;
    let (place_of, _) = table.trimmed_locations();
    let key = |h: &Fact| {
        let place = match_location.then(|| place_of[h.location as usize]);
        (h.enterprise_id, h.category, h.specialty, place)
    };
    // By key: its closures and the hazards found in the period, each
    // then sorted by day and walked together.
    #[derive(Default)]
    struct Group {
        closures: Vec<(NaiveDate, Uuid)>,
        finds: Vec<(NaiveDate, Uuid)>,
    }
    let mut groups: FastMap<_, Group> = FastMap::default();
    for h in facts.all() {
        let closed_on = h.closed_on.filter(|_| h.state == HazardState::Closed);
        let found = facts.is_in_period(h);
        if closed_on.is_none() && !found {
            continue;
        }
        let group = groups.entry(key(h)).or_default();
        if let Some(closed_on) = closed_on {
            group.closures.push((closed_on, h.id));
        }
        if found {
            group.finds.push((h.found_on, h.id));
        }
    }
    // Every hazard found again is counted; the latest `limit` are kept.
    let mut count = 0;
    let mut latest: BinaryHeap<Reverse<(NaiveDate, Uuid, NaiveDate, Uuid)>> = BinaryHeap::new();
    for group in groups.values_mut() {
        if group.closures.is_empty() {
            continue;
        }
        group.closures.sort_unstable();
        group.finds.sort_unstable();
        let mut until = 0;
        for &(found_on, id) in &group.finds {
            while group
                .closures
                .get(until)
                .is_some_and(|(closed_on, _)| *closed_on <= found_on)
            {
                until += 1;
            }
            // The latest closure on or before the day it was found, not its own.
            let Some(&(closed_on, earlier)) = group.closures[..until]
                .iter()
                .rev()
                .find(|(_, other)| *other != id)
            else {
                continue;
            };
            if found_on > a_year_after(closed_on) {
                continue;
            }
            count += 1;
            let found = Reverse((found_on, id, closed_on, earlier));
            if latest.len() < limit {
                latest.push(found);
            } else if latest.peek().is_some_and(|least| found < *least) {
                latest.pop();
                latest.push(found);
            }
        }
    }
    let found_again: Vec<(&Fact, (NaiveDate, Uuid))> = latest
        .into_sorted_vec()
        .into_iter()
        .filter_map(|Reverse((_, id, closed_on, earlier))| {
            let fact = table.facts.get(*table.rows.get(&id)?)?;
            Some((fact, (closed_on, earlier)))
        })
        .collect();
    let items: Vec<Recurrence> = found_again
        .into_iter()
        .map(|(h, (earlier_closed_on, earlier_id))| Recurrence {
            hazard_id: h.id,
            found_on: h.found_on,
            earlier_hazard_id: earlier_id,
            earlier_closed_on,
            enterprise_id: h.enterprise_id,
            name: facts.name(h.enterprise_id),
            category: table.categories.name(h.category).to_owned(),
            specialty: h.specialty.map(|n| table.specialties.name(n).to_owned()),
            location: table.locations.name(h.location).to_owned(),
        })
        .collect();
    Recurring {
        filter: facts.filter.clone(),
        match_location,
        count,
        items,
        items_withheld: false,
    }
}

impl Recurring {
    pub fn table(&self) -> Table {
        Table {
            title: "重复隐患",
            columns: names(&[
                "hazard_id",
                "found_on",
                "earlier_hazard_id",
                "earlier_closed_on",
                "enterprise_id",
                "name",
                "category",
                "specialty",
                "location",
            ]),
            rows: self
                .items
                .iter()
                .map(|r| {
                    vec![
                        r.hazard_id.to_string().into(),
                        Some(r.found_on).into(),
                        r.earlier_hazard_id.to_string().into(),
                        Some(r.earlier_closed_on).into(),
                        r.enterprise_id.to_string().into(),
                        r.name.clone().into(),
                        r.category.clone().into(),
                        r.specialty.clone().map_or(Cell::Empty, Cell::Text),
                        r.location.clone().into(),
                    ]
                })
                .collect(),
        }
    }
}

// -------------------------------------------------------------- trends

/// One month: found and closed, per source and level, and the change
/// from the same month a year before.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthTrend {
    /// `YYYY-MM`.
    pub month: String,
    pub found: i64,
    pub closed: i64,
    pub found_by_source: BTreeMap<String, i64>,
    pub found_by_level: BTreeMap<String, i64>,
    pub found_a_year_before: i64,
    /// (found − found a year before) ÷ found a year before.
    pub year_over_year: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Trends {
    pub filter: Filter,
    /// The last 24 months up to `to` (default this month), oldest first.
    pub months: Vec<MonthTrend>,
}

/// The same day a year after `day` (28 February for 29 February).
fn a_year_after(day: NaiveDate) -> NaiveDate {
    day.with_year(day.year() + 1)
        .or_else(|| NaiveDate::from_ymd_opt(day.year() + 1, 2, 28))
        .unwrap_or(day)
}

/// A hasher for the analyses' own keys (numbers given out here and
/// UUIDs from the database, not texts a client picks): a multiply and a
/// rotate per word, several times faster than the default's SipHash.
#[derive(Debug, Default, Clone, Copy)]
struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u32(&mut self, word: u32) {
        self.write_u64(u64::from(word));
    }

    fn write_u8(&mut self, word: u8) {
        self.write_u64(u64::from(word));
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;

/// The first day of the month 35 months before `last`'s: trends read
/// three years to compare the last two with the year before.
pub fn trends_since(last: NaiveDate) -> NaiveDate {
    let first = last.with_day(1).unwrap_or(last);
    first.checked_sub_months(Months::new(35)).unwrap_or(first)
}

pub fn trends(facts: &Facts) -> Trends {
    #[derive(Default)]
    struct Month {
        found: i64,
        closed: i64,
        by_source: [i64; CheckSource::ALL.len()],
        by_level: [i64; HazardLevel::ALL.len()],
    }
    let last = facts.filter.to.unwrap_or(facts.today);
    let month_of = |d: NaiveDate| (d.year(), d.month());
    let mut months: HashMap<(i32, u32), Month> = HashMap::new();
    for h in facts.all() {
        let month = months.entry(month_of(h.found_on)).or_default();
        month.found += 1;
        if let Some(i) = CheckSource::ALL.iter().position(|s| *s == h.source) {
            month.by_source[i] += 1;
        }
        if let Some(i) = HazardLevel::ALL.iter().position(|l| *l == h.level) {
            month.by_level[i] += 1;
        }
        if let (HazardState::Closed, Some(day)) = (h.state, h.closed_on) {
            months.entry(month_of(day)).or_default().closed += 1;
        }
    }
    let found = |m: (i32, u32)| months.get(&m).map_or(0, |m| m.found);
    let first = last.with_day(1).unwrap_or(last);
    let shown = (0..24u32)
        .rev()
        .filter_map(|back| first.checked_sub_months(Months::new(back)))
        .map(|day| {
            let m = month_of(day);
            let before = day
                .checked_sub_months(Months::new(12))
                .map_or(0, |d| found(month_of(d)));
            let counted = |names: &[&str], counts: &[i64]| -> BTreeMap<String, i64> {
                names
                    .iter()
                    .zip(counts)
                    .filter(|(_, n)| **n > 0)
                    .map(|(name, n)| ((*name).to_owned(), *n))
                    .collect()
            };
            let this = months.get(&m);
            let now = found(m);
            MonthTrend {
                month: format!("{}-{:02}", m.0, m.1),
                found: now,
                closed: this.map_or(0, |t| t.closed),
                found_by_source: this.map_or_else(BTreeMap::new, |t| {
                    counted(&CheckSource::ALL.map(CheckSource::as_str), &t.by_source)
                }),
                found_by_level: this.map_or_else(BTreeMap::new, |t| {
                    counted(&HazardLevel::ALL.map(HazardLevel::as_str), &t.by_level)
                }),
                found_a_year_before: before,
                year_over_year: (before > 0)
                    .then(|| ((now - before) as f64 / before as f64 * 1000.0).round() / 1000.0),
            }
        })
        .collect();
    Trends {
        filter: facts.filter.clone(),
        months: shown,
    }
}

impl Trends {
    pub fn table(&self) -> Table {
        let sources = CheckSource::ALL;
        let mut columns = vec![
            "month",
            "found",
            "closed",
            "found_a_year_before",
            "year_over_year",
        ];
        columns.extend(sources.iter().map(|s| s.as_str()));
        columns.extend(HazardLevel::ALL.iter().map(|l| l.as_str()));
        Table {
            title: "趋势",
            columns: names(&columns),
            rows: self
                .months
                .iter()
                .map(|m| {
                    let mut row: Vec<Cell> = vec![
                        m.month.clone().into(),
                        m.found.into(),
                        m.closed.into(),
                        m.found_a_year_before.into(),
                        m.year_over_year.into(),
                    ];
                    let count = |map: &BTreeMap<String, i64>, key: &str| -> Cell {
                        map.get(key).copied().unwrap_or(0).into()
                    };
                    row.extend(
                        sources
                            .iter()
                            .map(|s| count(&m.found_by_source, s.as_str())),
                    );
                    row.extend(
                        HazardLevel::ALL
                            .iter()
                            .map(|l| count(&m.found_by_level, l.as_str())),
                    );
                    row
                })
                .collect(),
        }
    }
}

// ----------------------------------------------------------- locations

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LocationCount {
    pub location: String,
    pub found: i64,
    pub open: i64,
    pub major: i64,
    /// How many enterprises name this place.
    pub enterprises: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Locations {
    pub filter: Filter,
    /// Most found first.
    pub items: Vec<LocationCount>,
    /// True when the caller's role sees aggregates only (viewers): `items`
    /// is then empty, since places are free text the enterprises typed.
    pub items_withheld: bool,
}

pub fn locations(facts: &Facts, limit: usize) -> Locations {
    #[derive(Default)]
    struct Place {
        found: i64,
        open: i64,
        major: i64,
        enterprises: HashSet<Uuid>,
    }
    let (place_of, names) = facts.table.trimmed_locations();
    let mut places: HashMap<u32, Place> = HashMap::new();
    for h in facts.in_period() {
        let place = places.entry(place_of[h.location as usize]).or_default();
        place.found += 1;
        place.open += i64::from(h.state.is_open());
        place.major += i64::from(h.level == HazardLevel::Major);
        place.enterprises.insert(h.enterprise_id);
    }
    let mut items: Vec<LocationCount> = places
        .into_iter()
        .map(|(n, place)| LocationCount {
            location: names[n as usize].to_owned(),
            found: place.found,
            open: place.open,
            major: place.major,
            enterprises: place.enterprises.len() as i64,
        })
        .collect();
    items.sort_by(|a, b| {
        b.found
            .cmp(&a.found)
            .then_with(|| a.location.cmp(&b.location))
    });
    items.truncate(limit);
    Locations {
        filter: facts.filter.clone(),
        items,
        items_withheld: false,
    }
}

impl Locations {
    pub fn table(&self) -> Table {
        Table {
            title: "隐患部位",
            columns: names(&["location", "found", "open", "major", "enterprises"]),
            rows: self
                .items
                .iter()
                .map(|l| {
                    vec![
                        l.location.clone().into(),
                        l.found.into(),
                        l.open.into(),
                        l.major.into(),
                        l.enterprises.into(),
                    ]
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group_of(days: impl IntoIterator<Item = i64>) -> DurationGroup {
        let mut counted = Days::default();
        for d in days {
            counted.add(d);
        }
        duration_group("k".into(), "l".into(), &counted)
    }

    #[test]
    fn median_and_p90_by_nearest_rank() {
        let g = group_of([10, 1, 3, 2]);
        assert_eq!(g.median_days, Some(2.5));
        assert_eq!(g.p90_days, Some(10.0));
        let g = group_of(1..=10);
        assert_eq!(g.median_days, Some(5.5));
        assert_eq!(g.p90_days, Some(9.0));
        let g = group_of([]);
        assert_eq!((g.closed, g.median_days, g.p90_days), (0, None, None));
        // Days outside the counted range keep their order.
        let g = group_of([-2, 5000, 3, 3, 9000]);
        assert_eq!((g.median_days, g.p90_days), (Some(3.0), Some(9000.0)));
        let g = group_of([-2, -1, 7]);
        assert_eq!((g.median_days, g.p90_days), (Some(-1.0), Some(7.0)));
    }

    fn fact(id: u128, state: HazardState) -> Fact {
        let day = NaiveDate::from_ymd_opt(2024, 5, 6).unwrap();
        Fact {
            id: Uuid::from_u128(id),
            enterprise_id: Uuid::from_u128(1),
            category: 0,
            specialty: None,
            location: 0,
            found_on: day,
            closed_on: None,
            deadline: day,
            source: CheckSource::SelfCheck,
            level: HazardLevel::General,
            state,
            closed_on_time: None,
            entered_late: false,
        }
    }

    #[test]
    fn counts_per_state_follow_facts_in_and_out() {
        use HazardState::*;
        let recount = |table: &FactTable| {
            let mut counted: HashMap<HazardState, i64> = HashMap::new();
            for f in &table.facts {
                *counted.entry(f.state).or_default() += 1;
            }
            counted
        };
        let mut table = FactTable::default();
        let steps: [(u128, Option<HazardState>); 9] = [
            (1, Some(Reported)),
            (2, Some(Reported)),
            (3, Some(Closed)),
            (1, Some(Rectifying)),
            (2, Some(Reported)),
            (3, None),
            (4, None),
            (1, Some(Voided)),
            (2, None),
        ];
        for (id, state) in steps {
            match state {
                Some(state) => table.insert(fact(id, state)),
                None => table.remove(Uuid::from_u128(id)),
            }
            assert_eq!(table.per_state, recount(&table), "after hazard {id}");
        }
        assert_eq!(table.per_state, HashMap::from([(Voided, 1)]));
    }

    #[test]
    fn ages_fall_into_their_buckets() {
        let mut a = AgeBuckets::default();
        for days in [0, 7, 8, 30, 31, 90, 91] {
            a.add(days);
        }
        assert_eq!(
            (a.days_0_7, a.days_8_30, a.days_31_90, a.over_90_days),
            (2, 2, 2, 1)
        );
    }

    fn hazard(n: u8, state: HazardState, location: &str) -> HazardFact {
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        HazardFact {
            id: Uuid::from_bytes([n; 16]).into(),
            enterprise_id: Uuid::from_bytes([0; 16]).into(),
            source: CheckSource::SelfCheck,
            level: HazardLevel::General,
            category: "unsafe_condition".into(),
            specialty: None,
            location: location.into(),
            found_at: day.and_time(Default::default()),
            deadline: day,
            state,
            closed_at: None,
            closed_on_time: None,
        }
    }

    #[test]
    fn the_fact_table_replaces_and_removes_hazards_by_id() {
        let park = Park {
            time_zone: chrono_tz::Asia::Shanghai,
            categories: Vec::new(),
            specialties: Vec::new(),
        };
        let mut table = FactTable::default();
        for n in 1..=3 {
            table.put(&park, hazard(n, HazardState::Reported, " 罐区"), false);
        }
        table.put(&park, hazard(3, HazardState::Closed, "罐区"), true);
        assert_eq!(table.len(), 3, "a hazard put again is replaced");
        table.remove(Uuid::from_bytes([1; 16]));
        table.remove(Uuid::from_bytes([9; 16]));
        assert_eq!(table.len(), 2);
        // The hazard moved into the removed one's row is still found by id.
        table.put(&park, hazard(3, HazardState::Voided, "罐区"), false);
        assert_eq!(table.len(), 2);
        for (id, row) in &table.rows {
            assert_eq!(table.facts[*row].id, *id);
        }
        let states: HashSet<HazardState> = table.facts.iter().map(|f| f.state).collect();
        assert_eq!(
            states,
            HashSet::from([HazardState::Reported, HazardState::Voided])
        );
        let (place_of, places) = table.trimmed_locations();
        assert_eq!(places, ["罐区"], "one place, however it was spaced");
        assert_eq!(place_of.len(), 2);
    }

    #[test]
    fn a_fact_stays_compact() {
        // A million hazards' facts in under 80 MB, before the index by id.
        assert!(
            std::mem::size_of::<Fact>() <= 72,
            "{}",
            std::mem::size_of::<Fact>()
        );
    }

    #[test]
    fn a_year_after_29_february_is_28_february() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(a_year_after(day(2024, 2, 29)), day(2025, 2, 28));
        assert_eq!(a_year_after(day(2025, 3, 31)), day(2026, 3, 31));
        for d in [day(2024, 2, 29), day(2025, 1, 31), day(2023, 12, 31)] {
            assert_eq!(a_year_after(d), d + Months::new(12), "{d}");
        }
    }

    #[test]
    fn trends_read_three_years_back() {
        let last = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(
            trends_since(last),
            NaiveDate::from_ymd_opt(2023, 12, 1).unwrap()
        );
    }

    #[test]
    fn a_listing_returns_what_was_asked_or_its_default_within_bounds() {
        assert_eq!(listed(None, RECURRING_LISTED).unwrap(), 100);
        assert_eq!(listed(None, LOCATIONS_LISTED).unwrap(), 20);
        assert_eq!(listed(Some(1), RECURRING_LISTED).unwrap(), 1);
        assert_eq!(listed(Some(1000), LOCATIONS_LISTED).unwrap(), 1000);
        for refused in [0, 1001, u32::MAX] {
            assert!(
                listed(Some(refused), RECURRING_LISTED).is_err(),
                "{refused}"
            );
        }
    }
}
