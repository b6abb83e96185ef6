//! Evidence files: upload, list and download byte for byte; one blob for
//! the same bytes twice; refusals (size, type, a truncated body) that leave
//! no row, no blob and no temporary file; access rules; the submit policy;
//! immutability once closed; removal as an event. The round trip and the
//! deduplication run again on an S3-compatible store (`moto_server`).

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use awc::http::Method;
use diesel::{QueryDsl, RunQueryDsl};
use hazard_tracker::settings::{Settings, StorageBackend};
use serde_json::{json, Value};

use crate::helpers::events;
use crate::helpers::evidence::attach;
use crate::helpers::evidence::jpeg;
use crate::helpers::evidence::multipart;
use crate::helpers::evidence::multipart_content_type;
use crate::helpers::evidence::pdf;
use crate::helpers::evidence::sha256;
use crate::helpers::evidence::upload;
use crate::helpers::evidence::Part;
use crate::helpers::evidence::{download_from, Download};
use crate::helpers::id_of;
use crate::helpers::{
    full_plan, general_hazard, major_hazard, spawn_app_with, Backend, Park, TestApp,
};
use crate::{backend_tests, configured_tests};

backend_tests!(
    upload_list_and_download_round_trip,
    same_bytes_twice_are_stored_once,
    wrong_type_is_refused_and_leaves_nothing,
    truncated_multipart_body_leaves_nothing,
    enterprise_contacts_reach_only_their_own_files,
    major_hazard_is_submitted_only_with_after_evidence,
    evidence_is_immutable_once_closed_or_voided,
    removing_a_file_is_an_event,
    paper_records_are_entered_after_their_scans,
    openapi_documents_the_evidence_endpoints,
    the_database_and_evidence_files_are_private,
    a_download_is_named_for_its_type_and_a_line_holds_no_break,
);

configured_tests!(
    oversize_files_are_refused_while_streaming,
    general_hazards_need_after_evidence_when_configured,
    s3_round_trip,
    s3_same_bytes_twice_are_stored_once,
);

// ---------------------------------------------------------------- files

async fn download(app: &TestApp, token: &str, id: &str, if_none_match: Option<&str>) -> Download {
    download_from(
        app,
        token,
        &format!("/api/v1/attachments/{id}"),
        if_none_match,
    )
    .await
}

async fn hazard(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/hazards/{id}"))
        .token(token)
        .send()
        .await
        .expect(200)
        .json
}

async fn list(app: &TestApp, token: &str, hazard_id: &str, query: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/hazards/{hazard_id}/attachments{query}"))
        .token(token)
        .send()
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn reported(app: &TestApp, park: &Park) -> String {
    id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_a))
            .await,
    )
}

// ---------------------------------------------------------- what is left

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn data_dir(app: &TestApp) -> PathBuf {
    app.state.settings.storage.data_dir.clone()
}

fn temp_files(app: &TestApp) -> Vec<PathBuf> {
    files_under(&data_dir(app).join("tmp"))
}

fn rows(app: &TestApp) -> i64 {
    use hazard_tracker::db::schema::attachments;
    let mut conn = app.state.db.get().unwrap();
    attachments::table.count().get_result(&mut *conn).unwrap()
}

/// The blobs an app's store holds, and what it has staged.
enum Blobs {
    Local(PathBuf),
    S3 { endpoint: String, bucket: String },
}

impl Blobs {
    fn of(app: &TestApp) -> Blobs {
        let storage = &app.state.settings.storage;
        match storage.backend {
            StorageBackend::Local => Blobs::Local(storage.data_dir.join("evidence")),
            StorageBackend::S3 => Blobs::S3 {
                endpoint: storage.s3.endpoint.clone(),
                bucket: storage.s3.bucket.clone(),
            },
        }
    }

    async fn stored(&self, app: &TestApp) -> usize {
        match self {
            Blobs::Local(root) => files_under(root).len(),
            Blobs::S3 { .. } => self.keys(app, "evidence/").await,
        }
    }

    async fn staged(&self, app: &TestApp) -> usize {
        match self {
            Blobs::Local(_) => 0,
            Blobs::S3 { .. } => self.keys(app, "staging/").await,
        }
    }

    async fn keys(&self, app: &TestApp, prefix: &str) -> usize {
        let Blobs::S3 { endpoint, bucket } = self else {
            return 0;
        };
        let mut response = app
            .client
            .get(format!("{endpoint}/{bucket}?list-type=2&prefix={prefix}"))
            .send()
            .await
            .unwrap();
        let body = response.body().await.unwrap();
        String::from_utf8_lossy(&body).matches("<Key>").count()
    }
}

/// Nothing of a failed upload stays: no row, no blob, no temporary file.
#[track_caller]
fn assert_nothing_left(app: &TestApp, what: &str) {
    assert_eq!(rows(app), 0, "{what}: no row");
    assert!(
        files_under(&data_dir(app).join("evidence")).is_empty(),
        "{what}: no blob"
    );
    assert!(temp_files(app).is_empty(), "{what}: no temporary file");
}

// ---------------------------------------------------------------- tests

async fn upload_list_and_download_round_trip(app: TestApp) {
    round_trip(app).await;
}

async fn round_trip(app: TestApp) {
    let park = app.park().await;
    let blobs = Blobs::of(&app);
    let id = reported(&app, &park).await;
    let photo = jpeg(1, 300_000);
    // The client says PDF; the bytes say JPEG, and the bytes win.
    let before = upload(
        &app,
        &park.expert,
        &id,
        &[
            Part::file("罐区东侧 报警器.jpg", "application/pdf", photo.clone()),
            Part::text("phase", "before"),
            Part::text("caption", "报警器无显示"),
        ],
    )
    .await
    .expect(201);
    let before_id = id_of(&before.json);
    assert_eq!(
        before.header("location"),
        Some(format!("/api/v1/attachments/{before_id}").as_str())
    );
    assert_eq!(before.json["phase"], "before");
    assert_eq!(before.json["content_type"], "image/jpeg");
    assert_eq!(before.json["file_name"], "罐区东侧 报警器.jpg");
    assert_eq!(before.json["caption"], "报警器无显示");
    assert_eq!(before.json["size_bytes"], photo.len());
    assert_eq!(before.json["sha256"], sha256(&photo));
    assert_eq!(before.json["hazard_id"], id.as_str());

    let document = pdf(2);
    let after = upload(
        &app,
        &park.contact_a,
        &id,
        &[
            Part::text("phase", "after"),
            Part::file("整改报告.pdf", "application/octet-stream", document.clone()),
        ],
    )
    .await
    .expect(201);
    assert_eq!(after.json["content_type"], "application/pdf");
    assert_eq!(after.json["caption"], json!(null));

    let all = list(&app, &park.contact_a, &id, "").await;
    let ids: Vec<String> = all.iter().map(id_of).collect();
    assert_eq!(ids, vec![before_id.clone(), id_of(&after.json)]);
    let afters = list(&app, &park.expert, &id, "?phase=after").await;
    assert_eq!(afters.len(), 1);
    assert_eq!(afters[0]["file_name"], "整改报告.pdf");
    let first_page = app
        .get(&format!("/api/v1/hazards/{id}/attachments?limit=1"))
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    let cursor = first_page.json["next_cursor"].as_str().unwrap().to_owned();
    let second = list(
        &app,
        &park.expert,
        &id,
        &format!("?limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(id_of(&second[0]), id_of(&after.json));

    let got = download(&app, &park.supervisor, &before_id, None).await;
    assert_eq!(got.status, 200);
    assert!(got.bytes == photo, "the bytes come back as they went");
    assert_eq!(got.header("content-type"), Some("image/jpeg"));
    let etag = format!("\"{}\"", sha256(&photo));
    assert_eq!(got.header("etag"), Some(etag.as_str()));
    let disposition = got.header("content-disposition").unwrap();
    assert!(disposition.starts_with("inline"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''%E7%BD%90"),
        "{disposition}"
    );
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
    let cached = download(&app, &park.supervisor, &before_id, Some(&etag)).await;
    assert_eq!(cached.status, 304);
    assert!(cached.bytes.is_empty());

    let got = download(&app, &park.contact_a, &id_of(&after.json), None).await;
    assert_eq!(got.status, 200);
    assert!(got.bytes == document);
    assert_eq!(got.header("content-type"), Some("application/pdf"));
    assert!(got
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment"));

    let now = hazard(&app, &park.expert, &id).await;
    assert_eq!(now["evidence"], json!({"before": 1, "after": 1}));
    assert_eq!(now["version"], 3, "each upload moves the version");
    assert_eq!(now["state"], "reported");
    let listed = app
        .get("/api/v1/hazards")
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert_eq!(
        listed.json["items"][0]["evidence"],
        json!({"before": 1, "after": 1})
    );

    let history = events(&app, &park.expert, &id).await;
    let added: Vec<&Value> = history
        .iter()
        .filter(|e| e["action"] == "evidence_added")
        .collect();
    assert_eq!(added.len(), 2);
    assert_eq!(added[0]["from_state"], "reported");
    assert_eq!(added[0]["to_state"], "reported");
    assert_eq!(added[0]["actor_role"], "expert");
    assert_eq!(added[0]["details"]["attachment_id"], before_id.as_str());
    assert_eq!(added[0]["details"]["phase"], "before");
    assert_eq!(added[0]["details"]["sha256"], sha256(&photo));
    assert_eq!(
        added[0]["details"]["evidence"],
        json!({"before": 1, "after": 0})
    );
    assert_eq!(
        added[1]["details"]["evidence"],
        json!({"before": 1, "after": 1})
    );

    assert_eq!(blobs.stored(&app).await, 2);
    assert_eq!(blobs.staged(&app).await, 0, "staging is cleaned up");
    assert!(temp_files(&app).is_empty());
}

async fn same_bytes_twice_are_stored_once(app: TestApp) {
    dedup(app).await;
}

async fn dedup(app: TestApp) {
    let park = app.park().await;
    let blobs = Blobs::of(&app);
    let first = reported(&app, &park).await;
    let second = reported(&app, &park).await;
    let photo = jpeg(7, 50_000);
    let a = attach(&app, &park.expert, &first, "before", photo.clone()).await;
    let b = attach(&app, &park.contact_a, &first, "after", photo.clone()).await;
    let c = attach(&app, &park.expert, &second, "before", photo.clone()).await;
    assert_eq!(a["sha256"], b["sha256"]);
    assert_ne!(id_of(&a), id_of(&b));
    assert_eq!(rows(&app), 3, "three rows");
    assert_eq!(blobs.stored(&app).await, 1, "one blob");
    for attachment in [&a, &b, &c] {
        let got = download(&app, &park.expert, &id_of(attachment), None).await;
        assert!(got.bytes == photo);
    }

    // The bytes stay while any row still names them.
    for (gone, left) in [(&a, 2), (&b, 1)] {
        app.call(
            Method::DELETE,
            &format!("/api/v1/attachments/{}", id_of(gone)),
        )
        .token(&park.supervisor)
        .send()
        .await
        .expect(204);
        assert_eq!(rows(&app), left);
        assert_eq!(blobs.stored(&app).await, 1);
    }
    let got = download(&app, &park.expert, &id_of(&c), None).await;
    assert!(got.bytes == photo);
    app.call(
        Method::DELETE,
        &format!("/api/v1/attachments/{}", id_of(&c)),
    )
    .token(&park.expert)
    .send()
    .await
    .expect(204);
    assert_eq!(blobs.stored(&app).await, 0, "the last row took its blob");

    // And the same bytes can come back.
    let again = attach(&app, &park.expert, &second, "before", photo.clone()).await;
    let got = download(&app, &park.expert, &id_of(&again), None).await;
    assert!(got.bytes == photo);
    assert_eq!(blobs.stored(&app).await, 1);
    assert_eq!(blobs.staged(&app).await, 0);
}

/// Small limits, so that refusing mid-stream is quick to show.
fn small_limits(settings: &mut Settings) {
    settings.attachments.max_file_bytes = 64 * 1024;
    settings.attachments.max_hazard_bytes = 100 * 1024;
}

async fn oversize_files_are_refused_while_streaming(backend: Backend) {
    let app = spawn_app_with(backend, small_limits).await;
    let park = app.park().await;
    let id = reported(&app, &park).await;

    let refused = upload(
        &app,
        &park.expert,
        &id,
        &[
            Part::text("phase", "before"),
            Part::file("big.jpg", "image/jpeg", jpeg(1, 200 * 1024)),
        ],
    )
    .await
    .expect_problem(413);
    assert!(
        refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("65536 bytes per file"),
        "{}",
        refused.text
    );
    assert_nothing_left(&app, "a file over the limit");
    let unchanged = hazard(&app, &park.expert, &id).await;
    assert_eq!(unchanged["version"], 1);
    assert_eq!(unchanged["evidence"], json!({"before": 0, "after": 0}));

    // Exactly at the limit is fine; the hazard's own limit binds next.
    let at_limit = jpeg(2, 64 * 1024 - 13);
    assert_eq!(at_limit.len(), 64 * 1024);
    attach(&app, &park.expert, &id, "before", at_limit).await;
    let refused = upload(
        &app,
        &park.expert,
        &id,
        &[
            Part::text("phase", "before"),
            Part::file("second.jpg", "image/jpeg", jpeg(3, 40 * 1024)),
        ],
    )
    .await
    .expect_problem(413);
    assert!(
        refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("the hazard's evidence limit"),
        "{}",
        refused.text
    );
    assert_eq!(rows(&app), 1);
    assert_eq!(files_under(&data_dir(&app).join("evidence")).len(), 1);
    assert!(temp_files(&app).is_empty());
    // Another hazard has its own room.
    let other = reported(&app, &park).await;
    attach(&app, &park.expert, &other, "before", jpeg(3, 40 * 1024)).await;
}

async fn wrong_type_is_refused_and_leaves_nothing(app: TestApp) {
    let park = app.park().await;
    let id = reported(&app, &park).await;
    let disguised = [
        b"<html><script>alert(1)</script></html>".repeat(400),
        [b"MZ\x90\x00".as_slice(), &[0; 20_000]].concat(),
        b"GIF89a\x01\x00\x01\x00".to_vec(),
    ];
    for bytes in disguised {
        let refused = upload(
            &app,
            &park.expert,
            &id,
            &[
                Part::text("phase", "before"),
                Part::file("photo.jpg", "image/jpeg", bytes),
            ],
        )
        .await
        .expect_problem(415);
        assert!(
            refused.json["detail"]
                .as_str()
                .unwrap()
                .contains("image/jpeg"),
            "names what is allowed: {}",
            refused.text
        );
    }
    assert_nothing_left(&app, "files of the wrong type");

    // Not multipart at all, a missing phase, an empty file, two files, an
    // unknown part: refused, and still nothing left.
    app.post(&format!("/api/v1/hazards/{id}/attachments"))
        .token(&park.expert)
        .raw("image/jpeg", jpeg(1, 100))
        .send()
        .await
        .expect_problem(415);
    let missing = upload(
        &app,
        &park.expert,
        &id,
        &[Part::file("a.jpg", "image/jpeg", jpeg(1, 100))],
    )
    .await
    .expect_problem(422);
    assert!(
        missing.json["errors"]["phase"].is_string(),
        "{}",
        missing.text
    );
    let bad_phase = upload(
        &app,
        &park.expert,
        &id,
        &[
            Part::text("phase", "during"),
            Part::file("a.jpg", "image/jpeg", jpeg(1, 100)),
        ],
    )
    .await
    .expect_problem(422);
    assert!(bad_phase.json["errors"]["phase"].is_string());
    upload(
        &app,
        &park.expert,
        &id,
        &[
            Part::text("phase", "before"),
            Part::file("a.jpg", "image/jpeg", Vec::new()),
        ],
    )
    .await
    .expect_problem(422);
    upload(
        &app,
        &park.expert,
        &id,
        &[
            Part::text("phase", "before"),
            Part::file("a.jpg", "image/jpeg", jpeg(1, 100)),
            Part::file("b.jpg", "image/jpeg", jpeg(2, 100)),
        ],
    )
    .await
    .expect_problem(422);
    upload(
        &app,
        &park.expert,
        &id,
        &[
            Part::text("phase", "before"),
            Part::text("state", "closed"),
            Part::file("a.jpg", "image/jpeg", jpeg(1, 100)),
        ],
    )
    .await
    .expect_problem(422);
    assert_nothing_left(&app, "malformed uploads");
    assert_eq!(hazard(&app, &park.expert, &id).await["version"], 1);
}

async fn truncated_multipart_body_leaves_nothing(app: TestApp) {
    let park = app.park().await;
    let id = reported(&app, &park).await;
    let body = multipart(&[
        Part::text("phase", "before"),
        Part::file("photo.jpg", "image/jpeg", jpeg(5, 200_000)),
    ]);

    // The whole request arrives, but the multipart stops in the file.
    let cut = body[..120_000].to_vec();
    app.post(&format!("/api/v1/hazards/{id}/attachments"))
        .token(&park.expert)
        .raw(&multipart_content_type(), cut)
        .send()
        .await
        .expect_problem(400);
    assert_nothing_left(&app, "a multipart body cut short");

    // The client announces the whole body, sends half and hangs up.
    let address = app.address.trim_start_matches("http://").to_owned();
    let head = format!(
        "POST /api/v1/hazards/{id}/attachments HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
        park.expert,
        multipart_content_type(),
        body.len()
    );
    {
        let mut stream = TcpStream::connect(&address).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body[..body.len() / 2]).unwrap();
        stream.flush().unwrap();
        // Let the server start receiving before the line drops.
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !temp_files(&app).is_empty() && Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_nothing_left(&app, "a client that hung up midway");
    assert_eq!(hazard(&app, &park.expert, &id).await["version"], 1);
    // The service is fine afterwards.
    attach(&app, &park.expert, &id, "before", jpeg(5, 1000)).await;
}

/// A body that stalls is cut with `408` and leaves nothing; a form has a
/// bounded number of parts; one enterprise's hazards share a quota.
async fn uploads_are_bounded(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.server.body_idle_timeout_secs = 1;
        settings.attachments.max_form_parts = 4;
        settings.attachments.max_enterprise_bytes = 3000;
    })
    .await;
    let park = app.park().await;
    let id = reported(&app, &park).await;

    // Half a body, then silence, with the connection kept open.
    let body = multipart(&[
        Part::text("phase", "before"),
        Part::file("slow.jpg", "image/jpeg", jpeg(9, 2000)),
    ]);
    let address = app.address.trim_start_matches("http://").to_owned();
    let head = format!(
        "POST /api/v1/hazards/{id}/attachments HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        park.expert,
        multipart_content_type(),
        body.len()
    );
    let response = actix_web::rt::task::spawn_blocking(move || {
        use std::io::Read;
        let mut stream = TcpStream::connect(&address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body[..body.len() / 2]).unwrap();
        stream.flush().unwrap();
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        String::from_utf8_lossy(&response).into_owned()
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("request_timeout"), "{response}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !temp_files(&app).is_empty() && Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_nothing_left(&app, "a body that stalled");

    let mut parts = vec![Part::text("phase", "before")];
    parts.extend((0..3).map(|_| Part::text("caption", "罐区")));
    parts.push(Part::file("photo.jpg", "image/jpeg", jpeg(1, 1000)));
    upload(&app, &park.expert, &id, &parts)
        .await
        .expect_problem(400);
    assert_nothing_left(&app, "a form with too many parts");

    attach(&app, &park.expert, &id, "before", jpeg(1, 1000)).await;
    let other = reported(&app, &park).await;
    let refused = upload(
        &app,
        &park.expert,
        &other,
        &[
            Part::text("phase", "before"),
            Part::file("photo.jpg", "image/jpeg", jpeg(2, 2500)),
        ],
    )
    .await
    .expect_problem(413);
    assert_eq!(refused.json["code"], "quota_exceeded", "{}", refused.text);
    // Another enterprise's hazards have their own share.
    let theirs = id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_b))
            .await,
    );
    attach(&app, &park.expert, &theirs, "before", jpeg(3, 2500)).await;
}

#[actix_web::test]
async fn uploads_are_bounded_on_sqlite() {
    uploads_are_bounded(Backend::Sqlite).await;
}

#[actix_web::test]
async fn uploads_are_bounded_on_postgres() {
    uploads_are_bounded(Backend::Postgres).await;
}

async fn enterprise_contacts_reach_only_their_own_files(app: TestApp) {
    let park = app.park().await;
    let a = reported(&app, &park).await;
    let own = attach(&app, &park.contact_a, &a, "before", jpeg(1, 1000)).await;
    let own_id = id_of(&own);

    // Another enterprise's contact: the hazard and its files do not exist.
    for path in [
        format!("/api/v1/hazards/{a}/attachments"),
        format!("/api/v1/attachments/{own_id}"),
    ] {
        app.get(&path)
            .token(&park.contact_b)
            .send()
            .await
            .expect_problem(404);
    }
    app.call(Method::DELETE, &format!("/api/v1/attachments/{own_id}"))
        .token(&park.contact_b)
        .send()
        .await
        .expect_problem(404);
    upload(
        &app,
        &park.contact_b,
        &a,
        &[
            Part::text("phase", "after"),
            Part::file("x.jpg", "image/jpeg", jpeg(2, 1000)),
        ],
    )
    .await
    .expect_problem(404);

    // Viewers read aggregates only.
    app.get(&format!("/api/v1/hazards/{a}/attachments"))
        .token(&park.viewer)
        .send()
        .await
        .expect_problem(403);
    app.get(&format!("/api/v1/attachments/{own_id}"))
        .token(&park.viewer)
        .send()
        .await
        .expect_problem(403);
    upload(
        &app,
        &park.viewer,
        &a,
        &[
            Part::text("phase", "after"),
            Part::file("x.jpg", "image/jpeg", jpeg(3, 1000)),
        ],
    )
    .await
    .expect_problem(403);
    app.call(Method::DELETE, &format!("/api/v1/attachments/{own_id}"))
        .token(&park.viewer)
        .send()
        .await
        .expect_problem(403);
    app.get(&format!("/api/v1/attachments/{own_id}"))
        .send()
        .await
        .expect_problem(401);
    app.get(&format!("/api/v1/attachments/{}", uuid::Uuid::now_v7()))
        .token(&park.expert)
        .send()
        .await
        .expect_problem(404);

    // The owner and the park's roles do.
    for token in [&park.contact_a, &park.expert, &park.supervisor, &park.admin] {
        assert_eq!(download(&app, token, &own_id, None).await.status, 200);
        assert_eq!(list(&app, token, &a, "").await.len(), 1);
    }
    assert_eq!(rows(&app), 1);
}

async fn major_hazard_is_submitted_only_with_after_evidence(app: TestApp) {
    let park = app.park().await;
    let id = id_of(
        &app.report(&park.expert, major_hazard(park.enterprise_a))
            .await,
    );
    app.post(&format!("/api/v1/hazards/{id}/plan"))
        .token(&park.contact_a)
        .json(&full_plan())
        .send()
        .await
        .expect(200);
    let submit = || {
        app.post(&format!("/api/v1/hazards/{id}/submit"))
            .token(&park.contact_a)
            .json(&json!({"notes": "已整改"}))
            .send()
    };
    let refused = submit().await.expect_problem(422);
    assert!(
        refused.json["errors"]["evidence"]
            .as_str()
            .unwrap()
            .contains("\"after\" evidence"),
        "{}",
        refused.text
    );
    // A photo of the hazard as found is not proof of its rectification.
    attach(&app, &park.expert, &id, "before", jpeg(1, 1000)).await;
    submit().await.expect_problem(422);
    assert_eq!(hazard(&app, &park.expert, &id).await["state"], "rectifying");
    attach(&app, &park.contact_a, &id, "after", jpeg(2, 1000)).await;
    let submitted = submit().await.expect(200);
    assert_eq!(submitted.json["state"], "pending_acceptance");

    // A general hazard needs none by default.
    let general = reported(&app, &park).await;
    app.post(&format!("/api/v1/hazards/{general}/plan"))
        .token(&park.contact_a)
        .json(&json!({"measures": "更换报警器"}))
        .send()
        .await
        .expect(200);
    app.post(&format!("/api/v1/hazards/{general}/submit"))
        .token(&park.contact_a)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
}

async fn general_hazards_need_after_evidence_when_configured(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.attachments.require_after_for_general = true;
    })
    .await;
    let park = app.park().await;
    let id = reported(&app, &park).await;
    app.post(&format!("/api/v1/hazards/{id}/plan"))
        .token(&park.contact_a)
        .json(&json!({"measures": "更换报警器"}))
        .send()
        .await
        .expect(200);
    let refused = app
        .post(&format!("/api/v1/hazards/{id}/submit"))
        .token(&park.contact_a)
        .json(&json!({}))
        .send()
        .await
        .expect_problem(422);
    assert!(
        refused.json["errors"]["evidence"].is_string(),
        "{}",
        refused.text
    );
    attach(&app, &park.contact_a, &id, "after", jpeg(2, 1000)).await;
    app.post(&format!("/api/v1/hazards/{id}/submit"))
        .token(&park.contact_a)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
}

async fn evidence_is_immutable_once_closed_or_voided(app: TestApp) {
    let park = app.park().await;
    let id = reported(&app, &park).await;
    let photo = attach(&app, &park.expert, &id, "before", jpeg(1, 1000)).await;
    app.post(&format!("/api/v1/hazards/{id}/plan"))
        .token(&park.contact_a)
        .json(&json!({"measures": "更换报警器"}))
        .send()
        .await
        .expect(200);
    let proof = attach(&app, &park.contact_a, &id, "after", jpeg(2, 1000)).await;
    for (action, token) in [("submit", &park.contact_a), ("accept", &park.expert)] {
        app.post(&format!("/api/v1/hazards/{id}/{action}"))
            .token(token)
            .json(&json!({}))
            .send()
            .await
            .expect(200);
    }
    let closed = upload(
        &app,
        &park.contact_a,
        &id,
        &[
            Part::text("phase", "after"),
            Part::file("late.jpg", "image/jpeg", jpeg(3, 1000)),
        ],
    )
    .await
    .expect_problem(409);
    assert!(closed.json["detail"].as_str().unwrap().contains("closed"));
    for attachment in [&photo, &proof] {
        app.call(
            Method::DELETE,
            &format!("/api/v1/attachments/{}", id_of(attachment)),
        )
        .token(&park.supervisor)
        .send()
        .await
        .expect_problem(409);
    }
    assert_eq!(rows(&app), 2);
    assert!(temp_files(&app).is_empty());
    // Still readable, of course.
    assert_eq!(
        download(&app, &park.contact_a, &id_of(&proof), None)
            .await
            .status,
        200
    );

    // A reopened hazard takes evidence again.
    app.post(&format!("/api/v1/hazards/{id}/reopen"))
        .token(&park.supervisor)
        .json(&json!({"reason": "复查未通过"}))
        .send()
        .await
        .expect(200);
    attach(&app, &park.contact_a, &id, "after", jpeg(4, 1000)).await;

    let voided = reported(&app, &park).await;
    let file = attach(&app, &park.expert, &voided, "before", jpeg(5, 1000)).await;
    app.post(&format!("/api/v1/hazards/{voided}/void"))
        .token(&park.supervisor)
        .json(&json!({"reason": "重复报告"}))
        .send()
        .await
        .expect(200);
    upload(
        &app,
        &park.expert,
        &voided,
        &[
            Part::text("phase", "before"),
            Part::file("x.jpg", "image/jpeg", jpeg(6, 1000)),
        ],
    )
    .await
    .expect_problem(409);
    app.call(
        Method::DELETE,
        &format!("/api/v1/attachments/{}", id_of(&file)),
    )
    .token(&park.expert)
    .send()
    .await
    .expect_problem(409);
}

async fn removing_a_file_is_an_event(app: TestApp) {
    let park = app.park().await;
    let id = reported(&app, &park).await;
    let by_expert = attach(&app, &park.expert, &id, "before", jpeg(1, 1000)).await;
    let by_contact = attach(&app, &park.contact_a, &id, "after", jpeg(2, 1000)).await;
    let version = hazard(&app, &park.expert, &id).await["version"]
        .as_i64()
        .unwrap();

    // Not the uploader, not supervision: refused.
    app.call(
        Method::DELETE,
        &format!("/api/v1/attachments/{}", id_of(&by_expert)),
    )
    .token(&park.contact_a)
    .send()
    .await
    .expect_problem(403);
    // The uploader may.
    app.call(
        Method::DELETE,
        &format!("/api/v1/attachments/{}", id_of(&by_contact)),
    )
    .token(&park.contact_a)
    .send()
    .await
    .expect(204);
    // Supervision may remove anyone's.
    app.call(
        Method::DELETE,
        &format!("/api/v1/attachments/{}", id_of(&by_expert)),
    )
    .token(&park.supervisor)
    .send()
    .await
    .expect(204);
    // Gone is gone.
    app.call(
        Method::DELETE,
        &format!("/api/v1/attachments/{}", id_of(&by_expert)),
    )
    .token(&park.supervisor)
    .send()
    .await
    .expect_problem(404);
    assert_eq!(
        download(&app, &park.expert, &id_of(&by_expert), None)
            .await
            .status,
        404
    );
    assert!(list(&app, &park.expert, &id, "").await.is_empty());

    let now = hazard(&app, &park.expert, &id).await;
    assert_eq!(now["evidence"], json!({"before": 0, "after": 0}));
    assert_eq!(now["version"], version + 2);
    let history = events(&app, &park.expert, &id).await;
    let removed: Vec<&Value> = history
        .iter()
        .filter(|e| e["action"] == "evidence_removed")
        .collect();
    assert_eq!(removed.len(), 2);
    assert_eq!(removed[0]["actor_role"], "enterprise");
    assert_eq!(removed[0]["from_state"], removed[0]["to_state"]);
    assert_eq!(removed[0]["details"]["attachment_id"], id_of(&by_contact));
    assert_eq!(removed[0]["details"]["phase"], "after");
    assert_eq!(removed[0]["details"]["sha256"], by_contact["sha256"]);
    assert_eq!(
        removed[0]["details"]["evidence"],
        json!({"before": 1, "after": 0})
    );
    assert_eq!(removed[1]["actor_role"], "supervisor");
    assert_eq!(
        removed[1]["details"]["evidence"],
        json!({"before": 0, "after": 0})
    );
    let seqs: Vec<i64> = history.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=5).collect::<Vec<_>>());
    assert!(files_under(&data_dir(&app).join("evidence")).is_empty());
}

// ------------------------------------------------------------------- S3

/// A `moto_server` (an S3-compatible server) on a free loopback port,
/// stopped when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "the S3 tests need moto_server on PATH (python3 -m pip install 'moto[server]'): {e}"
                )
            });
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited at start: {status}");
            }
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto.endpoint = format!("http://127.0.0.1:{port}");
        moto
    }

    async fn create_bucket(&self, client: &awc::Client, bucket: &str) {
        let response = client
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "creating the bucket");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn s3_app(backend: Backend, moto: &Moto) -> TestApp {
    let bucket = format!("evidence-{}", uuid::Uuid::new_v4().simple());
    moto.create_bucket(&awc::Client::default(), &bucket).await;
    let endpoint = moto.endpoint.clone();
    spawn_app_with(backend, move |settings| {
        settings.storage.backend = StorageBackend::S3;
        settings.storage.s3.bucket = bucket;
        settings.storage.s3.endpoint = endpoint;
        settings.storage.s3.region = "us-east-1".into();
        settings.storage.s3.access_key_id = "testing".into();
        settings.storage.s3.secret_access_key = "testing".to_owned().into();
        settings.storage.s3.allow_http = true;
    })
    .await
}

async fn s3_round_trip(backend: Backend) {
    let moto = Moto::start();
    let app = s3_app(backend, &moto).await;
    round_trip(app).await;
}

async fn s3_same_bytes_twice_are_stored_once(backend: Backend) {
    let moto = Moto::start();
    let app = s3_app(backend, &moto).await;
    assert!(
        files_under(&data_dir(&app).join("evidence")).is_empty(),
        "nothing stored locally"
    );
    dedup(app).await;
}

async fn paper_records_are_entered_after_their_scans(app: TestApp) {
    let park = app.park().await;
    let day = |days_ago: i64| (chrono::Utc::now() - chrono::Duration::days(days_ago)).to_rfc3339();
    let mut body = major_hazard(park.enterprise_a);
    body["found_at"] = json!(day(30));
    let id = id_of(&app.report(&park.expert, body).await);

    // A scan dated when it was handed in; never in the future, never before
    // the previous step.
    let dated = |at: String| {
        vec![
            Part::text("phase", "before"),
            Part::text("occurred_at", &at),
            Part::file("scan.jpg", "image/jpeg", jpeg(1, 1000)),
        ]
    };
    for (at, why) in [(day(-1), "in the future"), (day(31), "before the report")] {
        let refused = upload(&app, &park.expert, &id, &dated(at))
            .await
            .expect_problem(422);
        assert!(
            refused.json["errors"]["occurred_at"].is_string(),
            "{why}: {}",
            refused.text
        );
    }
    upload(
        &app,
        &park.expert,
        &id,
        &[Part::text("occurred_at", "yesterday")],
    )
    .await
    .expect_problem(422);
    upload(&app, &park.expert, &id, &dated(day(29)))
        .await
        .expect(201);
    let events_now = events(&app, &park.expert, &id).await;
    assert_eq!(events_now[1]["action"], "evidence_added");
    assert_eq!(
        events_now[1]["occurred_at"].as_str().unwrap()[..10],
        day(29)[..10]
    );

    // Today's scan of the rectification report, then the ledger's steps with
    // their own, earlier dates.
    attach(&app, &park.contact_a, &id, "after", jpeg(2, 1000)).await;
    let mut plan = full_plan();
    plan["occurred_at"] = json!(day(28));
    for (action, token, payload) in [
        ("plan", &park.expert, plan),
        ("submit", &park.expert, json!({"occurred_at": day(20)})),
        ("accept", &park.supervisor, json!({"occurred_at": day(19)})),
    ] {
        app.post(&format!("/api/v1/hazards/{id}/{action}"))
            .token(token)
            .json(&payload)
            .send()
            .await
            .expect(200);
    }
    let steps: Vec<String> = events(&app, &park.expert, &id)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        steps,
        [
            "report",
            "evidence_added",
            "evidence_added",
            "plan",
            "submit",
            "accept"
        ]
    );
}

async fn openapi_documents_the_evidence_endpoints(app: TestApp) {
    let doc = app.get("/openapi.json").send().await.expect(200).json;
    let paths = &doc["paths"];
    let upload = &paths["/api/v1/hazards/{id}/attachments"]["post"];
    assert!(
        upload["requestBody"]["content"]["multipart/form-data"].is_object(),
        "{upload}"
    );
    for status in ["201", "413", "415"] {
        assert!(upload["responses"][status].is_object(), "{status}");
    }
    assert!(paths["/api/v1/hazards/{id}/attachments"]["get"].is_object());
    assert!(paths["/api/v1/attachments/{id}"]["get"].is_object());
    assert!(paths["/api/v1/attachments/{id}"]["delete"].is_object());
    let hazard = &doc["components"]["schemas"]["HazardRecord"]["properties"];
    assert!(hazard["evidence"].is_object(), "{hazard}");
}

/// The SQLite file, its companions and every evidence file are readable by
/// the service's account alone.
async fn the_database_and_evidence_files_are_private(app: TestApp) {
    use std::os::unix::fs::PermissionsExt;
    let park = app.park().await;
    let id = id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_a))
            .await,
    );
    attach(&app, &park.expert, &id, "before", jpeg(7, 900)).await;
    let mut checked = 0;
    for file in files_under(&data_dir(&app)) {
        let name = file.to_string_lossy().into_owned();
        if name.contains("hazards.sqlite3") || name.contains("evidence") {
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name} is {mode:o}");
            checked += 1;
        }
    }
    let sqlite = app.state.settings.database.url.starts_with("sqlite");
    // At least the evidence file, and the database file on SQLite.
    assert!(checked > usize::from(sqlite), "{checked} files checked");
}

/// A JPEG uploaded as `scan.html` is offered as `scan.jpg`; a one-line
/// field refuses a line break, free text keeps it.
async fn a_download_is_named_for_its_type_and_a_line_holds_no_break(app: TestApp) {
    let park = app.park().await;
    let id = id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_a))
            .await,
    );
    let uploaded = upload(
        &app,
        &park.expert,
        &id,
        &[
            Part::text("phase", "before"),
            Part::file("scan.html", "text/html", jpeg(8, 900)),
        ],
    )
    .await
    .expect(201)
    .json;
    let file = download(&app, &park.expert, &id_of(&uploaded), None).await;
    assert_eq!(file.header("content-type"), Some("image/jpeg"));
    let disposition = file.header("content-disposition").unwrap();
    assert!(
        disposition.contains("filename=\"scan.jpg\""),
        "{disposition}"
    );

    for field in ["title", "location"] {
        let mut body = general_hazard(park.enterprise_a);
        body[field] = json!("2号储罐区\r\n东侧");
        let refused = app
            .post("/api/v1/hazards")
            .token(&park.expert)
            .json(&body)
            .send()
            .await
            .expect_problem(422);
        assert!(
            refused.json["errors"][field].is_string(),
            "{}",
            refused.text
        );
    }
    let mut body = general_hazard(park.enterprise_a);
    body["description"] = json!("第一行\n第二行");
    app.report(&park.expert, body).await;
}
