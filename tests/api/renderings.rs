//! Each hazard row carries its rendering (`db::hazards::rendered`): lists and single
//! reads built from it answer byte for byte what reading the rows whole
//! answers, for every role and filter; rows without one (from before the
//! column) are read whole until `render_missing` renders them; and a stored
//! rendering that differs from its row is read around, found by the check
//! behind `stats verify` and mended.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{
    days_from_today, full_plan, general_hazard, id_of, major_hazard, Backend, Park, TestApp,
};
use hazard_tracker::app::hazards::{render_missing, rerender, verify_renderings};
use hazard_tracker::db::hazards::rendered::RenderedRow;
use hazard_tracker::db::hazards::{list_rendered, HazardFilter};
use hazard_tracker::db::DbConnection;

backend_tests!(
    renderings_answer_as_the_rows_do,
    index_bounded_pages_keep_one_plan
);

/// Columns of `hazards` the rendering does not show.
const NOT_SHOWN: [&str; 5] = [
    "found_year",
    "found_month",
    "closed_on_time",
    "closure_entered_late",
    "wire",
];

/// The triggers that drop a rendering when its row is edited by hand
/// compare every column the rendering shows, on both backends.
#[test]
fn the_triggers_watch_every_column_shown() {
    let root = env!("CARGO_MANIFEST_DIR");
    let schema = std::fs::read_to_string(format!("{root}/src/db/schema.rs")).unwrap();
    let table = &schema[schema.find("hazards (id) {").unwrap()..];
    let table = &table[..table.find('}').unwrap()];
    let columns: Vec<&str> = table
        .lines()
        .filter_map(|line| line.split_once("->").map(|(name, _)| name.trim()))
        .collect();
    assert!(columns.len() > 30, "{columns:?}");
    for backend in ["sqlite", "postgresql"] {
        let up = std::fs::read_to_string(format!(
            "{root}/migrations/{backend}/2026-12-03-000001_hazard_wire/up.sql"
        ))
        .unwrap();
        for column in &columns {
            let watched =
                up.contains(&format!("NEW.{column},")) || up.contains(&format!("NEW.{column})"));
            assert_eq!(
                watched,
                !NOT_SHOWN.contains(column),
                "{backend}: {column} watched: {watched}"
            );
        }
    }
}

/// Every answer the hazards' reads give, read from the database.
async fn answers(app: &TestApp, park: &Park, ids: &[String]) -> Vec<(String, u16, String)> {
    let mut paths = vec![
        "/api/v1/hazards".to_owned(),
        "/api/v1/hazards?level=major".to_owned(),
        "/api/v1/hazards?q=%E5%BC%95%E5%8F%B7".to_owned(),
    ];
    paths.extend(ids.iter().map(|id| format!("/api/v1/hazards/{id}")));
    let mut answers = Vec::new();
    for token in [&park.supervisor, &park.expert, &park.contact_a] {
        let mut cursor = None;
        // Pages of two, to the end: each carries its cursor.
        loop {
            let path = match &cursor {
                None => "/api/v1/hazards?limit=2".to_owned(),
                Some(c) => format!("/api/v1/hazards?limit=2&cursor={c}"),
            };
            let reply = app
                .get(&path)
                .token(token)
                .header("Cache-Control", "no-cache")
                .send()
                .await
                .expect(200);
            cursor = reply.json["next_cursor"].as_str().map(String::from);
            answers.push((path, 200, reply.text));
            if cursor.is_none() {
                break;
            }
        }
        for path in &paths {
            let reply = app
                .get(path)
                .token(token)
                .header("Cache-Control", "no-cache")
                .send()
                .await;
            let etag = reply.header("ETag").unwrap_or_default().to_owned();
            answers.push((format!("{path} {etag}"), reply.status.as_u16(), reply.text));
        }
    }
    answers
}

async fn renderings_answer_as_the_rows_do(app: TestApp) {
    let park = app.park().await;
    let mut ids = Vec::new();
    ids.push(id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_a))
            .await,
    ));
    // Text that JSON escapes.
    let mut odd = general_hazard(park.enterprise_a);
    odd["title"] = json!("引号\"与\\反斜杠\u{1}");
    odd["description"] = json!("第一行\n第二行\t</script>");
    odd["location"] = json!("罐区 🔥 东侧");
    ids.push(id_of(&app.report(&park.expert, odd).await));
    // Planned: funds in yuan from fen, the plan's own times.
    let planned = id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_a))
            .await,
    );
    app.post(&format!("/api/v1/hazards/{planned}/plan"))
        .token(&park.contact_a)
        .json(&full_plan())
        .send()
        .await
        .expect(200);
    ids.push(planned);
    // Major and listed for supervision.
    let listed = id_of(
        &app.report(&park.expert, major_hazard(park.enterprise_a))
            .await,
    );
    app.post(&format!("/api/v1/hazards/{listed}/listing"))
        .token(&park.supervisor)
        .json(&json!({
            "authority_level": "city",
            "authority_name": "市应急管理局",
            "document_number": "应急督〔2026〕7号",
            "listed_on": days_from_today(0),
            "due_on": days_from_today(30),
            "responsible_leader": "王总",
        }))
        .send()
        .await
        .expect(200);
    ids.push(listed);
    // Another enterprise's, which its neighbour's contact may not see.
    ids.push(id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_b))
            .await,
    ));
    let n = ids.len();

    let mut conn = app.state.db.get().unwrap();
    assert_eq!(verify_renderings(&mut conn).unwrap(), (Vec::new(), 0));
    let rendered = answers(&app, &park, &ids).await;
    assert!(
        rendered.iter().any(|(_, _, text)| text.contains("12500.5")),
        "the plan's funds are shown"
    );

    // Rows without a rendering are read whole, to the same bytes.
    assert_eq!(app.execute_sql("UPDATE hazards SET wire = NULL"), n);
    assert_eq!(
        verify_renderings(&mut conn).unwrap(),
        (Vec::new(), n as u64)
    );
    assert_eq!(answers(&app, &park, &ids).await, rendered);
    assert_eq!(render_missing(&mut conn).unwrap(), n);
    assert_eq!(render_missing(&mut conn).unwrap(), 0, "all rendered");
    assert_eq!(verify_renderings(&mut conn).unwrap(), (Vec::new(), 0));
    assert_eq!(answers(&app, &park, &ids).await, rendered);

    // A row edited by hand, its rendering left alone, reads as edited: the
    // triggers drop the rendering. Rendered again, it reads the same.
    let edited = format!(
        "UPDATE hazards SET title = '改过的标题' WHERE id = '{}'",
        ids[1]
    );
    assert_eq!(app.execute_sql(&edited), 1);
    let (differing, unrendered) = verify_renderings(&mut conn).unwrap();
    assert_eq!((differing.len(), unrendered), (0, 1));
    for path in [
        format!("/api/v1/hazards/{}", ids[1]),
        "/api/v1/hazards".to_owned(),
    ] {
        let reply = app
            .get(&path)
            .token(&park.supervisor)
            .header("Cache-Control", "no-cache")
            .send()
            .await
            .expect(200);
        assert!(reply.text.contains("改过的标题"), "{path}: {}", reply.text);
    }
    assert_eq!(render_missing(&mut conn).unwrap(), 1);
    let reply = app
        .get(&format!("/api/v1/hazards/{}", ids[1]))
        .token(&park.supervisor)
        .header("Cache-Control", "no-cache")
        .send()
        .await
        .expect(200);
    assert!(reply.text.contains("改过的标题"), "{}", reply.text);
    let restore = format!(
        "UPDATE hazards SET title = '引号\"与\\反斜杠\u{1}' WHERE id = '{}'",
        ids[1]
    );
    assert_eq!(app.execute_sql(&restore), 1);
    assert_eq!(render_missing(&mut conn).unwrap(), 1);
    assert_eq!(answers(&app, &park, &ids).await, rendered);

    // A rendering that is no object with fields is read around; one that
    // is but says otherwise than its row is found. Both are mended.
    let spoiled = format!("UPDATE hazards SET wire = '{{}}' WHERE id = '{}'", ids[0]);
    assert_eq!(app.execute_sql(&spoiled), 1);
    let wrong = format!(
        "UPDATE hazards SET wire = replace(wire, '储罐', '仓库') WHERE id = '{}'",
        ids[2]
    );
    assert_eq!(app.execute_sql(&wrong), 1);
    let mut found = verify_renderings(&mut conn).unwrap().0;
    found.sort();
    let mut expected: Vec<uuid::Uuid> = [&ids[0], &ids[2]]
        .iter()
        .map(|id| id.parse().unwrap())
        .collect();
    expected.sort();
    assert_eq!(found, expected);
    let single = app
        .get(&format!("/api/v1/hazards/{}", ids[0]))
        .token(&park.supervisor)
        .header("Cache-Control", "no-cache")
        .send()
        .await
        .expect(200);
    assert_eq!(single.json["id"], ids[0].as_str(), "{}", single.text);
    assert!(single.json["title"].is_string(), "{}", single.text);
    assert_eq!(rerender(&mut conn, &found).unwrap(), 2);
    assert_eq!(verify_renderings(&mut conn).unwrap(), (Vec::new(), 0));
    assert_eq!(answers(&app, &park, &ids).await, rendered);
}

/// How often PostgreSQL ran one of the connection's prepared statements
/// with its generic plan, and with a custom one (`pg_prepared_statements`).
#[derive(diesel::QueryableByName)]
struct PlanCounts {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    generic: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    custom: i64,
}

/// A page an index bounds (no filter but the enterprise or the year)
/// carries its limit in its text: PostgreSQL then reuses the statement's
/// generic plan instead of planning every run afresh, and the pages read
/// the same on both backends, cursor and all.
async fn index_bounded_pages_keep_one_plan(app: TestApp) {
    let park = app.park().await;
    let mut reported = Vec::new();
    for _ in 0..3 {
        reported.push(id_of(
            &app.report(&park.expert, general_hazard(park.enterprise_a))
                .await,
        ));
    }
    reported.sort();
    let mut conn = app.state.db.get().unwrap();
    let everyone = HazardFilter::default();
    assert!(everyone.index_bounded());
    let mut pages = Vec::new();
    for _ in 0..8 {
        let first = list_rendered(&mut conn, &everyone, None, 2).unwrap();
        let after = list_rendered(&mut conn, &everyone, Some(first[1].id), 2).unwrap();
        let ids = |rows: &[RenderedRow]| -> Vec<String> {
            rows.iter().map(|row| row.id.to_string()).collect()
        };
        pages.push((ids(&first), ids(&after)));
    }
    let (first, after) = pages[0].clone();
    assert!(pages.iter().all(|page| *page == pages[0]), "{pages:?}");
    assert_eq!((first.len(), after.len()), (2, 1));
    assert!(first[0] > first[1] && first[1] > after[0], "newest first");
    let mut all = [first, after].concat();
    all.sort();
    assert_eq!(all, reported);
    if app.backend == Backend::Postgres {
        let DbConnection::Postgresql(pg) = &mut *conn else {
            panic!("a PostgreSQL connection");
        };
        let plans: Vec<PlanCounts> = diesel::RunQueryDsl::load(
            diesel::sql_query(
                "SELECT generic_plans AS generic, custom_plans AS custom \
                 FROM pg_prepared_statements WHERE statement LIKE '%FROM \"hazards\"%LIMIT 2'",
            ),
            pg,
        )
        .unwrap();
        assert_eq!(
            plans.len(),
            2,
            "the first page and the next: two statements"
        );
        for plan in plans {
            assert!(
                plan.generic >= 2 && plan.custom <= 5,
                "generic {} custom {}",
                plan.generic,
                plan.custom
            );
        }
    }
}
