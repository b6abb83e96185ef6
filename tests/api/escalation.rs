//! Escalations through the outbox, against a real SMTP server on loopback
//! (PRODUCT.md §5). Time-based rules are driven with explicit times instead
//! of waiting for days.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use hazard_tracker::app::escalation::{deliver_due, Delivery};
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::helpers::{
    days_from_today, general_hazard, major_hazard, spawn_app_sharing, spawn_app_with, Backend,
    TestApp,
};
use crate::smtp::{Behaviour, SmtpServer};
use crate::{backend_tests, configured_tests};

backend_tests!(
    without_smtp_mails_become_files,
    notifications_are_for_admins,
    listings_are_chased_before_and_after_their_due_day,
);

/// 挂牌督办: a reminder before the 督办期限 and a warning once it has passed,
/// each once however often the scanner runs.
async fn listings_are_chased_before_and_after_their_due_day(app: TestApp) {
    let park = app.park().await;
    let list = |listed_on: i64, due_on: i64| {
        json!({
            "authority_level": "county",
            "authority_name": "县应急管理局",
            "document_number": "县应急督〔2026〕3号",
            "listed_on": days_from_today(listed_on),
            "due_on": days_from_today(due_on),
            "responsible_leader": "赵总",
        })
    };
    let mut found_earlier = major_hazard(park.enterprise_a);
    found_earlier["found_at"] =
        json!((chrono::Utc::now() - chrono::Duration::days(20)).to_rfc3339());
    let mut ids = Vec::new();
    for (body, listing) in [
        (major_hazard(park.enterprise_a), list(0, 5)),
        (found_earlier, list(-15, -2)),
    ] {
        let id = app.report(&park.expert, body).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.post(&format!("/api/v1/hazards/{id}/listing"))
            .token(&park.supervisor)
            .json(&listing)
            .send()
            .await
            .expect(200);
        ids.push(id);
    }
    let now = hazard_tracker::clock::now_utc();
    scan(&app, now).await;
    scan(&app, now).await;
    let soon = notifications(&app, &park.admin, &format!("&hazard_id={}", ids[0])).await;
    let late = notifications(&app, &park.admin, &format!("&hazard_id={}", ids[1])).await;
    let listing_rules = |items: &[Value]| -> Vec<String> {
        rules_of(items)
            .into_iter()
            .filter(|r| r.starts_with("listing"))
            .collect()
    };
    assert_eq!(listing_rules(&soon), vec!["listing_due_reminder"]);
    assert_eq!(listing_rules(&late), vec!["listing_overdue"]);
    let subject = late
        .iter()
        .find(|n| n["rule"] == "listing_overdue")
        .unwrap()["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(subject.contains("挂牌督办隐患逾期未摘牌"), "{subject}");
}

/// Noon in the park (Asia/Shanghai) on `day`, in UTC.
fn noon(day: NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(4, 0, 0).unwrap()
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

async fn spawn_with_smtp(
    backend: Backend,
    smtp: &SmtpServer,
    customize: impl FnOnce(&mut hazard_tracker::settings::Settings),
) -> TestApp {
    let url = smtp.url();
    spawn_app_with(backend, move |settings| {
        settings.smtp.url = SecretString::from(url);
        settings.smtp.timeout_secs = 5;
        settings.escalation.interval_secs = 60;
        settings.escalation.max_backoff_secs = 600;
        customize(settings);
    })
    .await
}

async fn scan(app: &TestApp, at: NaiveDateTime) -> usize {
    let escalation = app.state.escalation.clone();
    app.state
        .db
        .run(move |conn| escalation.scan(conn, at))
        .await
        .unwrap()
}

async fn deliver(app: &TestApp, worker: &str, at: NaiveDateTime) -> Delivery {
    deliver_due(&app.state.outbox(), worker, at).await.unwrap()
}

async fn notifications(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/notifications?limit=500{query}"))
        .token(admin)
        .send()
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn rules_of(items: &[Value]) -> Vec<String> {
    let mut rules: Vec<String> = items
        .iter()
        .map(|n| n["rule"].as_str().unwrap().to_owned())
        .collect();
    rules.sort();
    rules
}

/// An app whose scanner chases hazards only: the enterprises of a test
/// park, registered today, would be late with the statutory filings of the
/// far-off days these tests scan at.
async fn hazard_rules_only(backend: Backend) -> TestApp {
    spawn_app_with(backend, |settings| {
        settings
            .escalation
            .rules
            .retain(|r| r.when != hazard_tracker::settings::RuleTrigger::FilingOverdue);
    })
    .await
}

async fn each_rule_fires_once(backend: Backend) {
    let app = hazard_rules_only(backend).await;
    let park = app.park().await;
    let mut body = major_hazard(park.enterprise_a);
    body["deadline"] = json!(days_from_today(10));
    let hazard = app.report(&park.expert, body).await;
    let deadline: NaiveDate = hazard["deadline"].as_str().unwrap().parse().unwrap();
    let hazard_q = format!("&hazard_id={}", hazard["id"].as_str().unwrap());

    // The major report is queued in the same transaction as the hazard.
    let queued = notifications(&app, &park.admin, &hazard_q).await;
    assert_eq!(rules_of(&queued), vec!["major_reported"]);
    assert_eq!(
        queued[0]["recipients"],
        json!(["supervisor@park.example.cn"])
    );
    assert_eq!(queued[0]["state"], "pending");

    let day = |offset: i64| noon(deadline + chrono::Duration::days(offset));
    let schedule = [
        (-5, vec![]),
        (-3, vec!["deadline_reminder"]),
        (-2, vec![]),
        (0, vec![]),
        (1, vec!["overdue_level_1"]),
        (7, vec![]),
        (8, vec!["overdue_level_2"]),
        (30, vec![]),
        (31, vec!["overdue_level_3"]),
        (45, vec![]),
    ];
    let mut expected = vec!["major_reported".to_owned()];
    for (offset, fired) in schedule {
        // Several scanner runs on the same day change nothing.
        for _ in 0..3 {
            let n = scan(&app, day(offset)).await;
            assert!(n <= fired.len(), "day {offset}: {n} queued");
        }
        expected.extend(fired.iter().map(|r| (*r).to_owned()));
        expected.sort();
        assert_eq!(
            rules_of(&notifications(&app, &park.admin, &hazard_q).await),
            expected,
            "after day {offset}"
        );
    }
    let items = notifications(&app, &park.admin, &hazard_q).await;
    let level_3 = items
        .iter()
        .find(|n| n["rule"] == "overdue_level_3")
        .unwrap();
    let to: Vec<&str> = level_3["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    for who in [
        "contact@alpha.example.cn",
        "safety@alphachemicals.example.cn",
        "supervisor@park.example.cn",
        "leadership@park.example.cn",
        "it-office@park.example.cn",
    ] {
        assert!(to.contains(&who), "{who} missing from {to:?}");
    }
}

async fn closing_cancels_what_waits(backend: Backend) {
    let app = hazard_rules_only(backend).await;
    let park = app.park().await;
    let hazard = app
        .report(&park.expert, major_hazard(park.enterprise_a))
        .await;
    let id = hazard["id"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/hazards/{id}/void"))
        .token(&park.supervisor)
        .json(&json!({"reason": "重复登记"}))
        .send()
        .await
        .expect(200);
    let items = notifications(&app, &park.admin, &format!("&hazard_id={id}")).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["state"], "cancelled");
    assert!(items[0]["last_error"].as_str().unwrap().contains("voided"));
    // Nothing is sent for it, and a voided hazard is never chased.
    assert_eq!(
        deliver(&app, "w", noon(date("2099-01-01"))).await,
        Delivery::default()
    );
    assert_eq!(scan(&app, noon(date("2099-01-01"))).await, 0);
}

async fn without_smtp_mails_become_files(app: TestApp) {
    let park = app.park().await;
    app.report(&park.expert, major_hazard(park.enterprise_a))
        .await;
    let delivered = deliver(&app, "w", hazard_tracker::clock::now_utc()).await;
    assert_eq!(delivered.sent, 1);
    let dir = app.state.settings.smtp.outbox_dir.clone();
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1);
    let mail = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
    assert!(mail.contains("Message-ID: <outbox-"), "{mail}");
    assert!(mail.contains("text/html") && mail.contains("text/plain"));
    let items = notifications(&app, &park.admin, "&state=sent").await;
    assert_eq!(items.len(), 1, "still recorded in the outbox");
    assert!(items[0]["sent_at"].is_string());
}

async fn notifications_are_for_admins(app: TestApp) {
    let park = app.park().await;
    for token in [
        &park.supervisor,
        &park.expert,
        &park.viewer,
        &park.contact_a,
    ] {
        app.get("/api/v1/notifications")
            .token(token)
            .send()
            .await
            .expect_problem(403);
    }
    app.get("/api/v1/notifications?state=bogus")
        .token(&park.admin)
        .send()
        .await
        .expect_problem(400);
}

async fn smtp_tests(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_smtp(backend, &smtp, |_| {}).await;
    let park = app.park().await;

    // Content: Chinese, plain text and HTML, naming what matters.
    let mut body = major_hazard(park.enterprise_a);
    body["title"] = json!("液氯充装未使用万向管道<系统>");
    let hazard = app.report(&park.expert, body).await;
    let now = hazard_tracker::clock::now_utc();
    assert_eq!(
        deliver(&app, "w1", now).await,
        Delivery {
            sent: 1,
            failed: 0,
            dead: 0
        }
    );
    let mail = smtp.received().pop().unwrap();
    assert_eq!(mail.recipients, vec!["supervisor@park.example.cn"]);
    assert!(mail.message_id.starts_with("<outbox-"));
    let parts = mail_parts(&mail.data);
    let (text, html) = (&parts[0], &parts[1]);
    assert!(
        text.0.starts_with("text/plain") && html.0.starts_with("text/html"),
        "{parts:?}"
    );
    for needle in [
        hazard["number"].as_str().unwrap(),
        "Alpha Chemicals",
        "重大隐患",
        "整改期限",
        "/api/v1/hazards/",
    ] {
        assert!(
            text.1.contains(needle),
            "{needle} not in the text part:\n{}",
            text.1
        );
        // minijinja escapes "/" as &#x2f; in HTML, which browsers read back.
        let html_text = html.1.replace("&#x2f;", "/");
        assert!(
            html_text.contains(needle),
            "{needle} not in the HTML part:\n{}",
            html.1
        );
    }
    assert!(text.1.contains("液氯充装未使用万向管道<系统>"));
    assert!(
        html.1.contains("液氯充装未使用万向管道&lt;系统&gt;"),
        "HTML values are escaped"
    );

    // 451 twice, then the server recovers: delivered exactly once.
    smtp.set(Behaviour::TempFail(2));
    app.report(&park.expert, major_hazard(park.enterprise_a))
        .await;
    let now = hazard_tracker::clock::now_utc();
    assert_eq!(deliver(&app, "w1", now).await.failed, 1);
    assert_eq!(
        deliver(&app, "w1", now).await,
        Delivery::default(),
        "not due again before its backoff"
    );
    assert_eq!(
        deliver(&app, "w1", now + chrono::Duration::seconds(59)).await,
        Delivery::default()
    );
    assert_eq!(
        deliver(&app, "w1", now + chrono::Duration::seconds(60))
            .await
            .failed,
        1
    );
    // The second wait is twice the first.
    assert_eq!(
        deliver(&app, "w1", now + chrono::Duration::seconds(179)).await,
        Delivery::default()
    );
    assert_eq!(
        deliver(&app, "w1", now + chrono::Duration::seconds(180))
            .await
            .sent,
        1
    );
    assert_eq!(smtp.refused(), 2);
    let ids: Vec<String> = smtp
        .received()
        .iter()
        .map(|r| r.message_id.clone())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);

    // A 5xx is final at once.
    smtp.set(Behaviour::PermFail);
    app.report(&park.expert, major_hazard(park.enterprise_a))
        .await;
    let later = now + chrono::Duration::hours(1);
    assert_eq!(deliver(&app, "w1", later).await.dead, 1);
    let dead = notifications(&app, &park.admin, "&state=dead").await;
    assert_eq!(dead.len(), 1);
    assert!(dead[0]["last_error"].as_str().unwrap().contains("550"));
    assert_eq!(dead[0]["attempts"], 1);
}

async fn max_attempts_make_it_dead(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_smtp(backend, &smtp, |s| s.escalation.max_attempts = 3).await;
    let park = app.park().await;
    smtp.set(Behaviour::TempFail(100));
    app.report(&park.expert, major_hazard(park.enterprise_a))
        .await;
    let mut at = hazard_tracker::clock::now_utc();
    let mut outcomes = Vec::new();
    for _ in 0..5 {
        outcomes.push(deliver(&app, "w", at).await);
        at += chrono::Duration::hours(1);
    }
    assert_eq!(outcomes.iter().map(|d| d.failed).sum::<usize>(), 2);
    assert_eq!(outcomes.iter().map(|d| d.dead).sum::<usize>(), 1);
    let dead = notifications(&app, &park.admin, "&state=dead").await;
    assert_eq!(dead[0]["attempts"], 3);
    assert!(smtp.received().is_empty());
}

async fn extension_rearms_deadline_rules(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_smtp(backend, &smtp, |_| {}).await;
    let park = app.park().await;
    let mut body = general_hazard(park.enterprise_a);
    body["found_at"] = json!((chrono::Utc::now() - chrono::Duration::days(10)).to_rfc3339());
    body["deadline"] = json!(days_from_today(-5));
    let hazard = app.report(&park.expert, body).await;
    let id = hazard["id"].as_str().unwrap().to_owned();
    let q = format!("&hazard_id={id}");
    let now = hazard_tracker::clock::now_utc();
    assert_eq!(scan(&app, now).await, 1);
    assert_eq!(
        rules_of(&notifications(&app, &park.admin, &q).await),
        vec!["overdue_level_1"]
    );
    deliver(&app, "w", now).await;

    let new_deadline = days_from_today(20);
    let ext = app
        .post(&format!("/api/v1/hazards/{id}/extensions"))
        .token(&park.contact_a)
        .json(&json!({"requested_deadline": new_deadline, "reason": "备件到货延迟"}))
        .send()
        .await
        .expect(201);
    app.post(&format!(
        "/api/v1/hazards/{id}/extensions/{}/approve",
        ext.json["id"].as_str().unwrap()
    ))
    .token(&park.supervisor)
    .json(&json!({}))
    .send()
    .await
    .expect(200);
    let new_deadline: NaiveDate = new_deadline.parse().unwrap();
    assert_eq!(
        scan(&app, now).await,
        0,
        "not overdue under the new deadline"
    );
    assert_eq!(
        scan(&app, noon(new_deadline - chrono::Duration::days(3))).await,
        1
    );
    assert_eq!(
        scan(&app, noon(new_deadline + chrono::Duration::days(1))).await,
        1
    );
    let items = notifications(&app, &park.admin, &q).await;
    let fired: Vec<(String, String)> = items
        .iter()
        .map(|n| {
            (
                n["rule"].as_str().unwrap().to_owned(),
                n["deadline"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(fired.len(), 3);
    assert!(fired.contains(&("overdue_level_1".to_owned(), new_deadline.to_string())));
    assert!(fired.contains(&("deadline_reminder".to_owned(), new_deadline.to_string())));
}

async fn two_senders_deliver_each_message_once(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let first = spawn_with_smtp(backend, &smtp, |s| s.escalation.batch_size = 4).await;
    let url = smtp.url();
    let second = spawn_app_sharing(&first, move |s| {
        s.smtp.url = SecretString::from(url);
        s.escalation.batch_size = 4;
    })
    .await;
    let park = first.park().await;
    for _ in 0..24 {
        first
            .report(&park.expert, major_hazard(park.enterprise_a))
            .await;
    }
    let now = hazard_tracker::clock::now_utc();
    for _ in 0..8 {
        let (a, b) = futures_util::future::join(
            deliver(&first, "instance-a", now),
            deliver(&second, "instance-b", now),
        )
        .await;
        if a == Delivery::default() && b == Delivery::default() {
            break;
        }
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for mail in smtp.received() {
        *seen.entry(mail.message_id).or_default() += 1;
    }
    assert_eq!(seen.len(), 24, "every message delivered");
    assert!(
        seen.values().all(|n| *n == 1),
        "no message delivered twice: {seen:?}"
    );
    assert_eq!(
        notifications(&first, &park.admin, "&state=sent")
            .await
            .len(),
        24
    );
}

async fn claimed_but_unsent_is_resent_after_the_lease(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_smtp(backend, &smtp, |s| s.escalation.lease_secs = 120).await;
    let park = app.park().await;
    app.report(&park.expert, major_hazard(park.enterprise_a))
        .await;
    let now = hazard_tracker::clock::now_utc();
    // An instance claims the row and dies before sending it.
    let claimed = app
        .state
        .db
        .run(move |conn| {
            hazard_tracker::db::outbox::claim(
                conn,
                "crashed",
                now,
                now + chrono::Duration::seconds(120),
                10,
            )
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        deliver(&app, "survivor", now + chrono::Duration::seconds(60)).await,
        Delivery::default(),
        "still leased"
    );
    assert_eq!(
        deliver(&app, "survivor", now + chrono::Duration::seconds(121))
            .await
            .sent,
        1
    );
    assert_eq!(smtp.received().len(), 1);
    // The crashed instance, had it come back, could not record over it.
    let id = claimed[0].id;
    let late = app
        .state
        .db
        .run(move |conn| {
            hazard_tracker::db::outbox::record_attempt(
                conn,
                id,
                "crashed",
                &hazard_tracker::db::outbox::Outcome::Sent,
                now,
            )
        })
        .await
        .unwrap();
    assert!(!late);
}

async fn serve_runs_the_workers(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_smtp(backend, &smtp, |s| {
        s.escalation.enabled = true;
        s.escalation.interval_secs = 1;
    })
    .await;
    let park = app.park().await;
    app.report(&park.expert, major_hazard(park.enterprise_a))
        .await;
    for _ in 0..100 {
        if !smtp.received().is_empty() {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        smtp.received().len(),
        1,
        "the background sender delivered the major-hazard mail"
    );
}

configured_tests!(
    each_rule_fires_once,
    closing_cancels_what_waits,
    smtp_tests,
    max_attempts_make_it_dead,
    extension_rearms_deadline_rules,
    two_senders_deliver_each_message_once,
    claimed_but_unsent_is_resent_after_the_lease,
    serve_runs_the_workers,
);

/// The decoded text of each part of a multipart mail, with its content type.
fn mail_parts(data: &str) -> Vec<(String, String)> {
    use base64::Engine;
    let boundary = data
        .split("boundary=")
        .nth(1)
        .map(|rest| {
            rest.trim_start_matches('"')
                .split(['"', '\r', '\n', ';'])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .expect("a multipart mail");
    let mut parts = Vec::new();
    for part in data.split(&format!("--{boundary}")).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let Some((headers, body)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let header = |name: &str| {
            headers
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with(name))
                .map(|l| l[name.len()..].trim().to_ascii_lowercase())
                .unwrap_or_default()
        };
        let decoded = match header("content-transfer-encoding:").as_str() {
            "base64" => {
                let compact: String = body.split_whitespace().collect();
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(compact)
                        .unwrap(),
                )
                .unwrap()
            }
            "quoted-printable" => decode_quoted_printable(body),
            _ => body.to_owned(),
        };
        parts.push((header("content-type:"), decoded));
    }
    parts
}

fn decode_quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() + 1 {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..(i + 3).min(bytes.len())])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}
