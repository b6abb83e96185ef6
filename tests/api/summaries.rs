//! The figures' summary rows against the hazards they count: after a
//! random workload of every kind of change made through the API (reports,
//! each lifecycle step live and entered after the fact, voids, reopens,
//! extensions, evidence, ledger imports), the rows recomputed from the
//! hazards and their events match the ones the triggers kept, on both
//! backends, with writers at once at the end; the analytics of an
//! instance that followed the workload change by change answer as those of
//! an instance that reads everything afresh; every row's stored rendering
//! matches the row; and a spoiled summary row is
//! found by `stats verify` and mended by `stats verify --repair`.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use futures_util::future::join_all;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::evidence::{jpeg, upload, upload_to, Part};
use crate::helpers::{
    days_from_today, full_plan, general_hazard, id_of, spawn_app_sharing, Park, TestApp,
};

backend_tests!(
    summary_rows_follow_a_random_workload,
    a_spoiled_summary_row_is_found_and_repaired,
);

/// Steps of the random workload.
const STEPS: usize = 160;

/// What the workload knows of one hazard.
struct Tracked {
    id: String,
    enterprise: Uuid,
    major: bool,
    state: String,
    /// Days ago its next step is dated, while its steps are entered after
    /// the fact (by the park's people); `None` once they happen now.
    backdated: Option<i64>,
}

/// An instant `days` ago, a second short so it is never ahead.
fn days_ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days) - chrono::Duration::seconds(1)).to_rfc3339()
}

/// The next step's date for `hazard`: `Some` while it is entered after the
/// fact (one day after the last), `None` for now.
fn next_date(hazard: &mut Tracked) -> Option<String> {
    let days = hazard.backdated?;
    if days <= 2 {
        hazard.backdated = None;
        return None;
    }
    hazard.backdated = Some(days - 1);
    Some(days_ago(days - 1))
}

/// The contact of `enterprise`.
fn contact_of(park: &Park, enterprise: Uuid) -> &str {
    if enterprise == park.enterprise_a {
        &park.contact_a
    } else {
        &park.contact_b
    }
}

async fn step(app: &TestApp, token: &str, hazard: &mut Tracked, action: &str, mut body: Value) {
    if let Some(at) = next_date(hazard) {
        body["occurred_at"] = json!(at);
    }
    let reply = app
        .post(&format!("/api/v1/hazards/{}/{action}", hazard.id))
        .token(token)
        .json(&body)
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{action}: {}", reply.text);
    hazard.state = reply.json["state"].as_str().unwrap().to_owned();
}

async fn summary_rows_follow_a_random_workload(app: TestApp) {
    let seed: u64 = std::env::var("HT_WORKLOAD_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("workload seed {seed} (HT_WORKLOAD_SEED={seed} repeats it)");
    let mut rng = StdRng::seed_from_u64(seed);
    let park = app.park().await;
    let specialties = [None, Some("instrumentation"), Some("electrical")];
    let categories = ["unsafe_condition", "unsafe_behavior", "management_defect"];
    let mut hazards: Vec<Tracked> = Vec::new();
    let mut done: BTreeMap<&str, usize> = BTreeMap::new();
    let mut imports = 0;

    for n in 0..STEPS {
        if n % 40 == 0 {
            // The analytics' facts follow the workload from here on.
            analyses(&app, &park.supervisor).await;
            if n > 0 {
                analyses_add_up(&app, &park, seed).await;
            }
        }
        let kind = rng.gen_range(0..12);
        // Reports and imports need no hazard; every other step picks one
        // in a state it applies to, or reports one when there is none.
        let wanted: &[&str] = match kind {
            2 => &["reported"],
            3 | 4 => &["rectifying"],
            5 | 6 => &["pending_acceptance"],
            7 => &["reported", "rectifying", "pending_acceptance"],
            8 => &["closed"],
            9 => &["rectifying"],
            10 => &["reported", "rectifying", "pending_acceptance"],
            _ => &[],
        };
        let candidates: Vec<usize> = (0..hazards.len())
            .filter(|&i| wanted.contains(&hazards[i].state.as_str()))
            .collect();
        if kind == 11 {
            import_ledger(&app, &park, &mut rng, n).await;
            imports += 1;
            *done.entry("import").or_default() += 1;
            continue;
        }
        if wanted.is_empty() || candidates.is_empty() {
            let enterprise = if rng.gen_bool(0.5) {
                park.enterprise_a
            } else {
                park.enterprise_b
            };
            let major = rng.gen_bool(0.2);
            let mut body = general_hazard(enterprise);
            body["category"] = json!(categories[rng.gen_range(0..categories.len())]);
            body["location"] = json!(["1号罐区", " 1号罐区", "2号泵房"][rng.gen_range(0..3)]);
            match specialties[rng.gen_range(0..specialties.len())] {
                Some(s) => body["specialty"] = json!(s),
                None => {
                    body.as_object_mut().unwrap().remove("specialty");
                }
            }
            if major {
                body["level"] = json!("major");
                body["major_basis_code"] = json!(rng.gen_range(1..=20));
            }
            // Some found days ago and entered after the fact, some today
            // by the enterprise itself.
            let backdated = rng.gen_bool(0.4).then(|| rng.gen_range(8..40));
            let token = match backdated {
                Some(days) => {
                    body["found_at"] = json!(days_ago(days));
                    &park.expert
                }
                None if !major && rng.gen_bool(0.3) => {
                    body["source"] = json!("self_check");
                    contact_of(&park, enterprise)
                }
                None => &park.expert,
            };
            let reply = app.report(token, body).await;
            hazards.push(Tracked {
                id: id_of(&reply),
                enterprise,
                major,
                state: reply["state"].as_str().unwrap().to_owned(),
                backdated,
            });
            *done.entry("report").or_default() += 1;
            continue;
        }
        let hazard = &mut hazards[candidates[rng.gen_range(0..candidates.len())]];
        // Entered records are the park's people's work; a live step may be
        // the enterprise's own.
        let contact = contact_of(&park, hazard.enterprise).to_owned();
        let doer = if hazard.backdated.is_some() {
            park.expert.clone()
        } else {
            contact.clone()
        };
        let action = match kind {
            2 => {
                let mut plan = full_plan();
                plan["deadline"] = json!(days_from_today(rng.gen_range(3..14)));
                step(&app, &doer, hazard, "plan", plan).await;
                "plan"
            }
            3 => {
                add_evidence(&app, &park, hazard).await;
                "evidence"
            }
            4 => {
                if hazard.major {
                    add_evidence(&app, &park, hazard).await;
                }
                step(&app, &doer, hazard, "submit", json!({"notes": "已整改"})).await;
                "submit"
            }
            5 => {
                step(
                    &app,
                    &park.supervisor,
                    hazard,
                    "accept",
                    json!({"notes": "验收通过"}),
                )
                .await;
                "accept"
            }
            6 => {
                let body = json!({"reason": "整改不彻底"});
                step(&app, &park.supervisor, hazard, "reject", body).await;
                "reject"
            }
            7 => {
                hazard.backdated = None;
                step(
                    &app,
                    &park.supervisor,
                    hazard,
                    "void",
                    json!({"reason": "重复登记"}),
                )
                .await;
                "void"
            }
            8 => {
                hazard.backdated = None;
                let body = json!({"reason": "复查发现反弹"});
                step(&app, &park.supervisor, hazard, "reopen", body).await;
                "reopen"
            }
            9 => {
                extension(&app, &park, hazard, &contact, rng.gen_bool(0.5)).await;
                "extension"
            }
            _ => {
                add_evidence(&app, &park, hazard).await;
                "evidence"
            }
        };
        *done.entry(action).or_default() += 1;
    }

    analyses_add_up(&app, &park, seed).await;

    // Writers at once: every open hazard voided while two ledgers import
    // (an import takes the change feed's counter before its summary rows,
    // a void the other way round were the triggers not ordered).
    let open: Vec<String> = hazards
        .iter()
        .filter(|h| ["reported", "rectifying", "pending_acceptance"].contains(&h.state.as_str()))
        .map(|h| h.id.clone())
        .collect();
    let voids = join_all(open.iter().map(|id| {
        app.post(&format!("/api/v1/hazards/{id}/void"))
            .token(&park.supervisor)
            .json(&json!({"reason": "批量作废"}))
            .send()
    }));
    let mut second = StdRng::seed_from_u64(seed ^ 1);
    let (voided, _, _) = futures_util::join!(
        voids,
        import_ledger(&app, &park, &mut rng, STEPS),
        import_ledger(&app, &park, &mut second, STEPS + 1),
    );
    for reply in voided {
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    }

    let differences = verify(&app);
    assert!(
        differences.is_empty(),
        "seed {seed}: the summary rows differ from the hazards: {differences:?}"
    );
    // Every write rendered its row afresh (`db::hazards::rendered`).
    let mut conn = app.state.db.get().unwrap();
    let renderings = hazard_tracker::app::hazards::verify_renderings(&mut conn).unwrap();
    assert_eq!(
        renderings,
        (Vec::new(), 0),
        "seed {seed}: stored renderings differ from their rows"
    );
    drop(conn);
    // The analytics kept up change by change answer as a fresh read does.
    let followed = analyses(&app, &park.supervisor).await;
    let fresh = spawn_app_sharing(&app, |_| {}).await;
    assert_eq!(
        followed,
        analyses(&fresh, &park.supervisor).await,
        "seed {seed}: analytics followed change by change differ from a fresh read"
    );

    // What the workload did, so a run that skipped a kind of change shows.
    eprintln!("seed {seed}: {done:?}, {imports} imports");
    assert!(done.get("report").copied().unwrap_or(0) > 10, "{done:?}");

    // The overview read from the summary rows counts what the list shows.
    let listed = app
        .get("/api/v1/hazards?limit=500")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["state"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    let overview = app
        .get("/api/v1/stats/overview")
        .token(&park.supervisor)
        .header("Cache-Control", "no-cache")
        .send()
        .await
        .expect(200)
        .json;
    for state in [
        "reported",
        "rectifying",
        "pending_acceptance",
        "closed",
        "voided",
    ] {
        let expected = listed.iter().filter(|s| *s == state).count();
        assert_eq!(overview[state], expected, "seed {seed}: {state}");
    }
}

/// An after photo (before while still reported), dated with the hazard's
/// steps.
async fn add_evidence(app: &TestApp, park: &Park, hazard: &mut Tracked) {
    let phase = if hazard.state == "reported" {
        "before"
    } else {
        "after"
    };
    let at = next_date(hazard);
    let photo = jpeg(rand::random(), 2048);
    let mut parts = vec![
        Part::text("phase", phase),
        Part::file("photo.jpg", "image/jpeg", photo),
    ];
    if let Some(at) = &at {
        parts.push(Part::text("occurred_at", at));
    }
    let token = if at.is_some() {
        &park.expert
    } else {
        contact_of(park, hazard.enterprise)
    };
    upload(app, token, &hazard.id, &parts).await.expect(201);
}

/// The contact asks for more time; the supervisor decides.
async fn extension(app: &TestApp, park: &Park, hazard: &mut Tracked, contact: &str, approve: bool) {
    let detail = app
        .get(&format!("/api/v1/hazards/{}", hazard.id))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    let deadline: chrono::NaiveDate = detail["deadline"].as_str().unwrap().parse().unwrap();
    let asked = app
        .post(&format!("/api/v1/hazards/{}/extensions", hazard.id))
        .token(contact)
        .json(&json!({
            "requested_deadline": (deadline + chrono::Duration::days(10)).to_string(),
            "reason": "设备到货延迟",
        }))
        .send()
        .await;
    if asked.status.as_u16() == 409 {
        // One request at a time: an earlier one is still undecided.
        return;
    }
    let asked = asked.expect(201).json;
    let decision = if approve { "approve" } else { "refuse" };
    app.post(&format!(
        "/api/v1/hazards/{}/extensions/{}/{decision}",
        hazard.id,
        id_of(&asked)
    ))
    .token(&park.supervisor)
    .json(&json!({"note": "同意"}))
    .send()
    .await
    .expect(200);
    // Extensions are not entered after the fact: later steps happen now.
    hazard.backdated = None;
}

/// A ledger of last year's hazards: one closed (its closure entered after
/// the fact), one being rectified, and a voided row (skipped).
async fn import_ledger(app: &TestApp, park: &Park, rng: &mut StdRng, n: usize) {
    let enterprise = app
        .get(&format!("/api/v1/enterprises/{}", park.enterprise_a))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    let name = enterprise["name"].as_str().unwrap();
    let month = rng.gen_range(1..=9);
    let ledger = format!(
        "隐患编号,企业名称,检查类型,隐患级别,隐患类别,隐患内容,地点,排查日期,整改时限,整改措施,责任人,整改完成时间,验收日期,状态\n\
         W{n}-1,{name},常驻专家检查,一般,物的不安全状态,阀门泄漏{n},罐区,2025-{month:02}-03,2025-{month:02}-20,更换阀门,李四,2025-{month:02}-10,2025-{month:02}-12,已销号\n\
         W{n}-2,{name},园区检查,一般,管理缺陷,台账缺失{n},办公楼,2025-{month:02}-05,2025-{month:02}-25,补齐台账,王五,,,整改中\n\
         W{n}-3,{name},自查,一般,管理缺陷,重复登记{n},办公楼,2025-{month:02}-06,2025-{month:02}-25,,,,,已作废\n"
    );
    let parts = [Part::file("台账.csv", "text/csv", ledger.into_bytes())];
    let reply = upload_to(app, &park.supervisor, "/api/v1/imports", &parts).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
}

/// Every analysis, by every grouping and cut, as JSON.
async fn analyses(app: &TestApp, token: &str) -> BTreeMap<String, Value> {
    let mut paths: Vec<String> = [
        "source",
        "level",
        "category",
        "specialty",
        "enterprise",
        "month",
    ]
    .iter()
    .map(|by| format!("rectification-time?group_by={by}"))
    .collect();
    paths.extend(
        [
            "ageing",
            "scorecard?sort=found",
            "recurring",
            "recurring?match_location=true",
            "trends",
            "locations?limit=100",
            "rectification-time?level=major",
            "scorecard?source=resident_expert",
        ]
        .map(String::from),
    );
    paths.push(format!("trends?from={}", days_from_today(-60)));
    let mut answers = BTreeMap::new();
    for path in paths {
        let answer = app
            .get(&format!("/api/v1/analytics/{path}"))
            .token(token)
            .send()
            .await
            .expect(200)
            .json;
        answers.insert(path, answer);
    }
    answers
}

/// `stats verify` in the library: the summary rows that differ.
fn verify(app: &TestApp) -> Vec<hazard_tracker::app::stats::SummaryDifference> {
    let mut conn = app.state.db.get().unwrap();
    hazard_tracker::app::stats::verify_summary(&mut conn).unwrap()
}

/// `hazard-tracker stats verify [--repair]` on the app's database.
fn verify_command(app: &TestApp, repair: bool) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hazard-tracker"));
    command
        .env(
            "HT_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
        )
        .env_remove("HT_ENV")
        .env_remove("DATABASE_URL")
        .env("HT__DATABASE__URL", &app.state.settings.database.url)
        .env(
            "HT__STORAGE__DATA_DIR",
            &app.state.settings.storage.data_dir,
        )
        .env("HT__LOG__LEVEL", "warn")
        .args(["stats", "verify"]);
    if repair {
        command.arg("--repair");
    }
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

async fn a_spoiled_summary_row_is_found_and_repaired(app: TestApp) {
    let park = app.park().await;
    for _ in 0..3 {
        app.report(&park.expert, general_hazard(park.enterprise_a))
            .await;
    }
    let (clean, said) = verify_command(&app, false);
    assert!(clean, "{said}");
    assert!(said.contains("match"), "{said}");

    // One count spoiled, one hazard's closure mark spoiled by hand (the
    // triggers move its counts to the wrong key).
    app.execute_sql("UPDATE hazard_tallies SET n = n + 2");
    app.execute_sql("UPDATE hazards SET closure_entered_late = (1 = 1) WHERE id = (SELECT MIN(id) FROM hazards)",
    );
    let tables: BTreeSet<&str> = verify(&app).iter().map(|d| d.table).collect();
    assert_eq!(
        tables,
        BTreeSet::from(["hazard_counts", "hazard_tallies"]),
        "both spoils found, the month counts untouched"
    );
    let (clean, said) = verify_command(&app, true);
    assert!(!clean, "a difference is a failure, even when repaired");
    assert!(said.contains("hazard_tallies"), "{said}");
    assert!(said.contains("rewritten"), "{said}");
    assert_eq!(verify(&app), Vec::new());
    let (clean, said) = verify_command(&app, false);
    assert!(clean, "{said}");

    // The overview reads the mended rows.
    let overview = app
        .get("/api/v1/stats/overview")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(overview["reported"], 3, "{overview}");
    assert_eq!(overview["entered_late_closures"], 0, "{overview}");
}

/// Every hazard the list holds, page by page, as the supervisor sees them.
async fn every_hazard(app: &TestApp, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut path = "/api/v1/hazards?limit=500".to_owned();
    loop {
        let page = app.get(&path).token(token).send().await.expect(200).json;
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/hazards?limit=500&cursor={cursor}"),
            None => return all,
        }
    }
}

/// The park-local day a hazard was found.
fn found_on(hazard: &Value) -> String {
    chrono::DateTime::parse_from_rfc3339(hazard["found_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
        .to_string()
}

fn sum(rows: &Value, field: &str) -> i64 {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r[field].as_i64().unwrap_or(0))
        .sum()
}

fn sum_map(map: &Value) -> i64 {
    map.as_object()
        .unwrap()
        .values()
        .map(|v| v.as_i64().unwrap())
        .sum()
}

/// The property over the workload so far: for every analysis and every
/// filter, each breakdown sums to its total, and each total is what the
/// hazard list holds for the same filter.
async fn analyses_add_up(app: &TestApp, park: &Park, seed: u64) {
    let hazards = every_hazard(app, &park.supervisor).await;
    let today = days_from_today(0);
    let (a, b) = (park.enterprise_a.to_string(), park.enterprise_b.to_string());
    let (from, to) = (days_from_today(-20), days_from_today(-10));
    type Wanted = Box<dyn Fn(&Value) -> bool>;
    let field_is = |field: &'static str, value: String| -> Wanted {
        Box::new(move |h: &Value| h[field] == json!(value))
    };
    let found_from = |day: String| -> Wanted { Box::new(move |h: &Value| found_on(h) >= day) };
    let found_to = |day: String| -> Wanted { Box::new(move |h: &Value| found_on(h) <= day) };
    let filters: Vec<(String, Vec<Wanted>)> = vec![
        (String::new(), vec![]),
        (
            format!("enterprise_id={a}"),
            vec![field_is("enterprise_id", a.clone())],
        ),
        (
            format!("enterprise_id={b}&level=general"),
            vec![
                field_is("enterprise_id", b.clone()),
                field_is("level", "general".into()),
            ],
        ),
        (
            "source=resident_expert".into(),
            vec![field_is("source", "resident_expert".into())],
        ),
        (
            "source=self_check".into(),
            vec![field_is("source", "self_check".into())],
        ),
        (
            "level=major".into(),
            vec![field_is("level", "major".into())],
        ),
        (format!("from={from}"), vec![found_from(from.clone())]),
        (format!("to={to}"), vec![found_to(to.clone())]),
        (
            format!(
                "from={}&to={}&level=general",
                days_from_today(-30),
                days_from_today(-5)
            ),
            vec![
                found_from(days_from_today(-30)),
                found_to(days_from_today(-5)),
                field_is("level", "general".into()),
            ],
        ),
    ];
    for (query, wanted) in &filters {
        let get = |analysis: &str| {
            let path = match (query.is_empty(), analysis.contains('?')) {
                (true, _) => format!("/api/v1/analytics/{analysis}"),
                (false, true) => format!("/api/v1/analytics/{analysis}&{query}"),
                (false, false) => format!("/api/v1/analytics/{analysis}?{query}"),
            };
            async move {
                app.get(&path)
                    .token(&park.supervisor)
                    .send()
                    .await
                    .expect(200)
                    .json
            }
        };
        let context = format!("seed {seed}, ?{query}");
        let in_view: Vec<&Value> = hazards
            .iter()
            .filter(|h| h["state"] != "voided" && wanted.iter().all(|w| w(h)))
            .collect();
        let count =
            |keep: &dyn Fn(&Value) -> bool| in_view.iter().filter(|h| keep(h)).count() as i64;
        let is_open = |h: &Value| {
            ["reported", "rectifying", "pending_acceptance"].contains(&h["state"].as_str().unwrap())
        };
        let is_overdue = |h: &Value| {
            ["reported", "rectifying"].contains(&h["state"].as_str().unwrap())
                && h["deadline"].as_str().unwrap() < today.as_str()
        };
        let closed = count(&|h| h["state"] == "closed");

        let ageing = get("ageing").await;
        assert_eq!(ageing["open"], count(&is_open), "{context}: ageing open");
        assert_eq!(
            sum(&ageing["by_enterprise"], "open"),
            ageing["open"].as_i64().unwrap(),
            "{context}"
        );
        assert_eq!(
            sum_map(&ageing["age"]),
            ageing["open"].as_i64().unwrap(),
            "{context}: age buckets"
        );
        assert_eq!(
            sum_map(&ageing["overdue"]),
            count(&is_overdue),
            "{context}: overdue buckets"
        );
        for bucket in ["days_0_7", "days_8_30", "days_31_90", "over_90_days"] {
            let per: i64 = ageing["by_enterprise"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["age"][bucket].as_i64().unwrap())
                .sum();
            assert_eq!(
                per,
                ageing["age"][bucket].as_i64().unwrap(),
                "{context}: {bucket}"
            );
        }
        for row in ageing["by_enterprise"].as_array().unwrap() {
            assert_eq!(
                sum_map(&row["age"]),
                row["open"].as_i64().unwrap(),
                "{context}: {row}"
            );
        }

        for by in [
            "source",
            "level",
            "category",
            "specialty",
            "enterprise",
            "month",
        ] {
            let time = get(&format!("rectification-time?group_by={by}")).await;
            assert_eq!(
                time["overall"]["closed"], closed,
                "{context}: closed by {by}"
            );
            assert_eq!(
                sum(&time["groups"], "closed"),
                closed,
                "{context}: groups by {by}"
            );
        }

        let card = get("scorecard").await;
        assert_eq!(
            sum(&card["rows"], "found"),
            in_view.len() as i64,
            "{context}: found"
        );
        assert_eq!(sum(&card["rows"], "closed"), closed, "{context}: closed");
        assert_eq!(
            sum(&card["rows"], "overdue_now"),
            count(&is_overdue),
            "{context}: overdue"
        );
        let open_major = count(&|h| is_open(h) && h["level"] == "major");
        assert_eq!(
            sum(&card["rows"], "open_major"),
            open_major,
            "{context}: open major"
        );

        let places = get("locations?limit=1000").await;
        assert_eq!(
            sum(&places["items"], "found"),
            in_view.len() as i64,
            "{context}: places"
        );
        assert_eq!(
            sum(&places["items"], "open"),
            count(&is_open),
            "{context}: open places"
        );
        let major = count(&|h| h["level"] == "major");
        assert_eq!(
            sum(&places["items"], "major"),
            major,
            "{context}: major places"
        );

        let recurring = get("recurring?limit=1000").await;
        assert_eq!(
            recurring["items"].as_array().unwrap().len() as i64,
            recurring["count"].as_i64().unwrap(),
            "{context}: recurring"
        );

        // Trends show the 24 months up to `to`, whatever `from` says.
        let trends = get("trends").await;
        let months = trends["months"].as_array().unwrap();
        for month in months {
            let found = month["found"].as_i64().unwrap();
            assert_eq!(
                sum_map(&month["found_by_source"]),
                found,
                "{context}: {month}"
            );
            assert_eq!(
                sum_map(&month["found_by_level"]),
                found,
                "{context}: {month}"
            );
        }
        if !query.contains("from=") {
            assert_eq!(
                sum(&trends["months"], "found"),
                in_view.len() as i64,
                "{context}: trends"
            );
        }
    }
}
