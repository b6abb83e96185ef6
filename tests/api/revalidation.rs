//! Revalidations answered ahead of the middleware (`http::revalidation`):
//! the very `304` the handler gives, with the same headers, counted in
//! `/metrics`; never for a caller the handler would refuse or a view the
//! tag does not name; and a change made through the service shows at once.

use actix_web::http::header::{HeaderMap, HeaderName};
use actix_web::{test::TestRequest, web};
use hazard_tracker::http::revalidation::not_modified;
use hazard_tracker::settings::Settings;
use serde_json::json;
use uuid::Uuid;

use crate::configured_tests;
use crate::helpers::{
    general_hazard, sample, spawn_app_sharing, spawn_app_with, Backend, Reply, TestApp,
};

configured_tests!(
    early_revalidations_answer_as_the_handler_does,
    early_revalidations_defer_to_the_handler_when_in_doubt
);

const OVERVIEW: &str = "/api/v1/stats/overview";

/// An instance that trusts the change marker long enough for the test to
/// revalidate without reading it again. Its read cache is off, so no
/// change-feed watcher moves the data generation behind the test's back:
/// only the instance's own changes do.
async fn trusting_instance(backend: Backend) -> TestApp {
    spawn_app_with(backend, trusting).await
}

fn trusting(settings: &mut Settings) {
    settings.stats.marker_ttl_ms = 600_000;
    settings.read_cache.enabled = false;
}

/// Whether `http::revalidation` itself would answer `304`: the request as
/// it reaches the outermost middleware of `app`.
fn answered_early(app: &TestApp, path: &str, token: &str, tag: &str) -> bool {
    let request = TestRequest::get()
        .uri(path)
        .insert_header(("authorization", format!("Bearer {token}")))
        .insert_header(("if-none-match", tag))
        .app_data(web::Data::new(app.state.clone()))
        .to_srv_request();
    not_modified(&request).is_some_and(|answer| answer.status().as_u16() == 304)
}

/// `path` asked for again by `token`, holding `tag`.
async fn revalidate(app: &TestApp, path: &str, token: &str, tag: &str) -> Reply {
    app.get(path)
        .token(token)
        .header("If-None-Match", tag)
        .send()
        .await
}

/// The overview's `ETag` for `token`, read afresh.
async fn overview_tag(app: &TestApp, token: &str) -> String {
    app.get(OVERVIEW)
        .token(token)
        .send()
        .await
        .expect(200)
        .header("etag")
        .expect("an ETag")
        .to_owned()
}

/// The headers of an answer, but for the two that differ every time.
fn lasting(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut kept: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| !["date", "x-request-id"].contains(&name.as_str()))
        .map(|(name, value)| {
            (
                name.to_string(),
                value.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    kept.sort();
    kept
}

fn overview_304s(metrics: &str) -> f64 {
    sample(
        metrics,
        "hazard_tracker_http_requests_total{method=\"GET\",route=\"/api/v1/stats/overview\",status=\"304\"}",
    )
}

async fn early_revalidations_answer_as_the_handler_does(backend: Backend) {
    let app = trusting_instance(backend).await;
    let park = app.park().await;
    // A second instance on the same data that reads the marker every time,
    // so the handler answers all its revalidations.
    let handler = spawn_app_sharing(&app, |_| {}).await;

    let tag = overview_tag(&app, &park.viewer).await;
    assert!(answered_early(&app, OVERVIEW, &park.viewer, &tag));
    assert!(
        !answered_early(&handler, OVERVIEW, &park.viewer, &tag),
        "an instance that reads the marker every time leaves it to the handler"
    );

    let early = revalidate(&app, OVERVIEW, &park.viewer, &tag)
        .await
        .expect(304);
    let handled = revalidate(&handler, OVERVIEW, &park.viewer, &tag)
        .await
        .expect(304);
    assert!(early.text.is_empty());
    assert_eq!(early.header("etag"), Some(tag.as_str()));
    assert_eq!(early.header("cache-control"), Some("no-cache"));
    assert_eq!(early.header("x-content-type-options"), Some("nosniff"));
    assert!(early
        .header("content-security-policy")
        .is_some_and(|policy| policy.contains("default-src 'none'")));
    assert_eq!(
        lasting(&early.headers),
        lasting(&handled.headers),
        "the same 304 as the handler's"
    );
    for reply in [&early, &handled] {
        let id = reply.header("x-request-id").expect("X-Request-Id");
        assert!(id.parse::<Uuid>().is_ok(), "{id}");
    }
    assert_ne!(early.header("x-request-id"), handled.header("x-request-id"));

    // Counted under its route like any answer.
    let metrics = app.get("/metrics").send().await.expect(200).text;
    assert_eq!(overview_304s(&metrics), 1.0);

    // Another view has another tag: an enterprise contact, or a year.
    revalidate(&app, OVERVIEW, &park.contact_a, &tag)
        .await
        .expect(200);
    revalidate(&app, &format!("{OVERVIEW}?year=2025"), &park.viewer, &tag)
        .await
        .expect(200);
    // A query the handler refuses is refused, whatever the tag.
    revalidate(&app, &format!("{OVERVIEW}?year=1900"), &park.viewer, &tag)
        .await
        .expect_problem(422);
    revalidate(
        &app,
        &format!("{OVERVIEW}?enterprise_id={}", park.enterprise_b),
        &park.contact_a,
        &tag,
    )
    .await
    .expect_problem(404);

    // A change made here shows at once, though the marker is trusted long.
    app.report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    assert!(!answered_early(&app, OVERVIEW, &park.viewer, &tag));
    let changed = revalidate(&app, OVERVIEW, &park.viewer, &tag)
        .await
        .expect(200);
    assert_eq!(changed.json["open"], json!(1));
    let new_tag = changed.header("etag").expect("an ETag").to_owned();
    assert_ne!(new_tag, tag);
    assert!(answered_early(&app, OVERVIEW, &park.viewer, &new_tag));
}

async fn early_revalidations_defer_to_the_handler_when_in_doubt(backend: Backend) {
    let app = trusting_instance(backend).await;
    let park = app.park().await;
    let tag = overview_tag(&app, &park.viewer).await;
    assert!(answered_early(&app, OVERVIEW, &park.viewer, &tag));

    // No valid token, no 304: the handler refuses it.
    for token in ["not-a-token", &format!("{}x", park.viewer)] {
        assert!(!answered_early(&app, OVERVIEW, token, &tag));
        revalidate(&app, OVERVIEW, token, &tag)
            .await
            .expect_problem(401);
    }
    // Only the exact route, and only a GET.
    assert!(!answered_early(
        &app,
        &format!("{OVERVIEW}/"),
        &park.viewer,
        &tag
    ));
    let post = TestRequest::post()
        .uri(OVERVIEW)
        .insert_header(("authorization", format!("Bearer {}", park.viewer)))
        .insert_header(("if-none-match", tag.as_str()))
        .app_data(web::Data::new(app.state.clone()))
        .to_srv_request();
    assert!(not_modified(&post).is_none());
    let analyst = app.add_user("disabled-soon@park.example.cn", "viewer", None);
    let token = app.login("disabled-soon@park.example.cn").await;
    let own_tag = overview_tag(&app, &token).await;
    assert!(answered_early(&app, OVERVIEW, &token, &own_tag));

    // A disabled account's token is refused at once, not answered 304 from
    // what was remembered about it.
    app.patch(&format!("/api/v1/users/{analyst}"))
        .token(&park.admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .expect(200);
    assert!(!answered_early(&app, OVERVIEW, &token, &own_tag));
    revalidate(&app, OVERVIEW, &token, &own_tag)
        .await
        .expect_problem(401);

    // With CORS configured, the CORS middleware has its say on every answer.
    let cors = spawn_app_sharing(&app, |settings| {
        trusting(settings);
        settings.server.cors_allowed_origins = vec!["https://screens.park.example.cn".into()];
    })
    .await;
    let tag = overview_tag(&cors, &park.viewer).await;
    assert!(!answered_early(&cors, OVERVIEW, &park.viewer, &tag));
    let revalidated = cors
        .get(OVERVIEW)
        .token(&park.viewer)
        .header("If-None-Match", &tag)
        .header("Origin", "https://screens.park.example.cn")
        .send()
        .await
        .expect(304);
    assert_eq!(
        revalidated.header("access-control-allow-origin"),
        Some("https://screens.park.example.cn")
    );
    assert!(revalidated
        .headers
        .contains_key(HeaderName::from_static("vary")));
}
