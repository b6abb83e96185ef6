//! Every route × every role against the capability table: a role is
//! refused (`403`) exactly when its role lacks the route's capability.
//! Each request is otherwise valid (a body that parses, ids the caller may
//! see), so a role that holds the capability gets anything but `403`: the
//! answer itself, `404`, `409` for a state that does not allow the step…
//! The walk also fails when `/openapi.json` names an operation it does not
//! know, so a new route cannot go unchecked.

use std::collections::BTreeSet;

use hazard_tracker::domain::access::{Capability, Role};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::evidence::{attach, jpeg, pdf, upload, upload_to, Part};
use crate::helpers::{credit_code, days_from_today, general_hazard, id_of, Reply, TestApp};

backend_tests!(every_route_answers_each_role_as_the_capability_table_says);

/// Routes anyone may call without a token.
const PUBLIC: [&str; 4] = [
    "POST /api/v1/auth/token",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
];

/// The built-in "重大事故隐患判定" template.
const BUILT_IN_CHECKLIST: &str = "01950000-0121-7000-8000-000000000000";

/// An item of the built-in template, a different one per call.
fn built_in_item(n: usize) -> String {
    let code = u128::try_from(n % 20 + 1).unwrap();
    uuid::Uuid::from_u128(BUILT_IN_CHECKLIST.parse::<uuid::Uuid>().unwrap().as_u128() + code)
        .to_string()
}

/// The capability each route needs (`None`: any signed-in caller).
fn capability_of(route: &str) -> Option<Capability> {
    use Capability as C;
    let capability = match route {
        "GET /api/v1/auth/me" => C::ReadOwnAccount,
        "GET /api/v1/reference/direct-red-triggers"
        | "GET /api/v1/reference/major-hazard-criteria"
        | "GET /api/v1/reference/vocabularies"
        | "GET /api/v1/reference/baobao-duties"
        | "GET /api/v1/reference/calendar" => return None,
        "PUT /api/v1/reference/calendar/{year}" => C::ManageCalendar,
        "GET /api/v1/hazards/{id}/check-origin" => C::ReadHazards,
        "POST /api/v1/check-records/{id}/photos" => C::RecordChecks,
        "GET /api/v1/check-records/{id}/photos"
        | "GET /api/v1/check-record-photos/{id}"
        | "GET /api/v1/exchange/{table}" => C::ReadRiskRegister,
        "GET /api/v1/attachments/{id}"
        | "GET /api/v1/hazards/{id}/attachments"
        | "POST /api/v1/hazards/{id}/attachments" => C::HandleEvidence,
        "DELETE /api/v1/attachments/{id}" => C::RemoveAnyEvidence,
        "GET /api/v1/enterprises" | "GET /api/v1/enterprises/{id}" => C::ReadEnterprises,
        "POST /api/v1/enterprises" | "PATCH /api/v1/enterprises/{id}" => C::ManageEnterprises,
        "GET /api/v1/enterprises/due" => C::ReadSupervisionDue,
        "GET /api/v1/enterprises/grade-counts" | "GET /api/v1/stats/dual-prevention" => {
            C::ReadParkFigures
        }
        "GET /api/v1/enterprises/{id}/assessments" | "GET /api/v1/enterprises/{id}/events" => {
            C::ReadAssessments
        }
        "POST /api/v1/enterprises/{id}/assessments" => C::AssessEnterprises,
        "GET /api/v1/hazards"
        | "GET /api/v1/hazards/export"
        | "GET /api/v1/hazards/{id}"
        | "GET /api/v1/hazards/{id}/events"
        | "GET /api/v1/hazards/{id}/extensions" => C::ReadHazards,
        "POST /api/v1/hazards" | "POST /api/v1/inspections" => C::ReportHazards,
        "POST /api/v1/hazards/{id}/plan" | "POST /api/v1/hazards/{id}/submit" => C::RectifyHazards,
        // A general hazard from a resident expert's check.
        "POST /api/v1/hazards/{id}/accept" | "POST /api/v1/hazards/{id}/reject" => {
            C::AcceptGeneralHazards
        }
        "POST /api/v1/hazards/{id}/void" => C::VoidHazards,
        "POST /api/v1/hazards/{id}/reopen" => C::ReopenHazards,
        "POST /api/v1/hazards/{id}/extensions" => C::RequestExtensions,
        "POST /api/v1/hazards/{id}/extensions/{ext_id}/approve"
        | "POST /api/v1/hazards/{id}/extensions/{ext_id}/refuse" => C::DecideExtensions,
        "GET /api/v1/inspections"
        | "GET /api/v1/inspections/{id}"
        | "GET /api/v1/inspections/{id}/checklist-results"
        | "GET /api/v1/checklists"
        | "GET /api/v1/checklists/{id}" => C::ReadInspections,
        "POST /api/v1/checklists" => C::ManageChecklists,
        "GET /api/v1/filings" | "GET /api/v1/filings/{id}" => C::ReadFilings,
        "POST /api/v1/filings/{id}/file" => C::FileStatutoryReports,
        "POST /api/v1/inspections/{id}/checklist-results"
        | "POST /api/v1/inspections/{id}/checklist-results/{item_id}/photos" => C::ReportHazards,
        "GET /api/v1/checklist-photos/{id}" => C::ReadInspections,
        "POST /api/v1/imports"
        | "GET /api/v1/imports/{id}"
        | "GET /api/v1/imports/template.xlsx" => C::ImportLedgers,
        "GET /api/v1/notifications" => C::ReadOutbox,
        "GET /api/v1/reports/yearly/{year}" | "GET /api/v1/reports/quarterly/{year}/{quarter}" => {
            C::ReadReports
        }
        "GET /api/v1/hazards/{id}/dossier"
        | "GET /api/v1/hazards/{id}/listing"
        | "GET /api/v1/changes" => C::ReadHazards,
        "PUT /api/v1/hazards/{id}/dossier" => C::RectifyHazards,
        "POST /api/v1/hazards/{id}/listing" | "POST /api/v1/hazards/{id}/listing/delisting" => {
            C::SuperviseListings
        }
        "POST /api/v1/hazards/{id}/listing/assessment"
        | "POST /api/v1/hazards/{id}/listing/resumption" => C::RecordListingSteps,
        "GET /api/v1/stats/overview" => C::ReadStats,
        "GET /api/v1/analytics/rectification-time"
        | "GET /api/v1/analytics/ageing"
        | "GET /api/v1/analytics/scorecard"
        | "GET /api/v1/analytics/recurring"
        | "GET /api/v1/analytics/trends"
        | "GET /api/v1/analytics/locations"
        | "GET /api/v1/analytics/checks"
        | "GET /api/v1/analytics/checks/hazards"
        | "GET /api/v1/analytics/evaluation"
        | "GET /api/v1/analytics/major-sources" => C::ReadAnalytics,
        "GET /api/v1/webhooks"
        | "POST /api/v1/webhooks"
        | "PATCH /api/v1/webhooks/{id}"
        | "GET /api/v1/webhooks/{id}/deliveries" => C::ManageWebhooks,
        "GET /api/v1/display-keys"
        | "POST /api/v1/display-keys"
        | "DELETE /api/v1/display-keys/{id}" => C::ManageDisplayKeys,
        "GET /api/v1/users"
        | "POST /api/v1/users"
        | "GET /api/v1/users/{id}"
        | "PATCH /api/v1/users/{id}"
        | "POST /api/v1/users/{id}/revoke-tokens" => C::ManageUsers,
        "GET /api/v1/enterprises/{id}/risk-register"
        | "GET /api/v1/enterprises/{id}/risk-register/revisions"
        | "GET /api/v1/check-tasks/{id}/occurrences"
        | "GET /api/v1/major-sources"
        | "GET /api/v1/major-sources/{id}"
        | "GET /api/v1/major-sources/{id}/placard"
        | "GET /api/v1/major-source-assessments/{id}" => C::ReadRiskRegister,
        "POST /api/v1/risk-objects"
        | "POST /api/v1/risk-units"
        | "POST /api/v1/risk-units/{id}/pauses"
        | "POST /api/v1/risk-events"
        | "POST /api/v1/control-measures"
        | "POST /api/v1/check-tasks"
        | "POST /api/v1/major-sources"
        | "PUT /api/v1/major-sources/{id}/inputs"
        | "POST /api/v1/major-sources/{id}/persons"
        | "POST /api/v1/major-sources/{id}/drills"
        | "POST /api/v1/major-sources/{id}/assessments"
        | "POST /api/v1/enterprises/{id}/risk-register/import"
        | "GET /api/v1/risk-register/template.xlsx"
        | "PATCH /api/v1/risk-objects/{id}"
        | "PATCH /api/v1/risk-units/{id}"
        | "PATCH /api/v1/risk-events/{id}"
        | "PATCH /api/v1/control-measures/{id}"
        | "POST /api/v1/risk-objects/{id}/retire"
        | "POST /api/v1/risk-units/{id}/retire"
        | "POST /api/v1/risk-events/{id}/retire"
        | "POST /api/v1/control-measures/{id}/retire"
        | "POST /api/v1/check-tasks/{id}/retire" => C::ManageRiskRegister,
        "POST /api/v1/check-tasks/{id}/records" | "GET /api/v1/check-duties" => C::RecordChecks,
        other => panic!("{other}: add the route to tests/api/route_walk.rs"),
    };
    Some(capability)
}

/// What the walk calls the routes with: records of the first enterprise,
/// which its contact may see.
struct Fixture {
    enterprise: String,
    hazard: String,
    attachment: String,
    inspection: String,
    user: String,
    /// The register's records of the first enterprise.
    object: String,
    unit: String,
    event: String,
    measure: String,
    /// A daily task given to the enterprise's contacts, and one given to
    /// the resident experts: each role records the one it is on duty for.
    task: String,
    expert_task: String,
    expert: String,
    /// A major hazard source of the first enterprise.
    source: String,
    /// Today's records of the two tasks (each by its role), and a photo of
    /// the contact's.
    record: String,
    expert_record: String,
    record_photo: String,
}

async fn register_fixture(app: &TestApp, park: &crate::helpers::Park) -> [String; 6] {
    let create = |path: &'static str, body: Value| async move {
        id_of(
            &app.post(path)
                .token(&park.contact_a)
                .json(&body)
                .send()
                .await
                .expect(201)
                .json,
        )
    };
    let object = create(
        "/api/v1/risk-objects",
        json!({"enterprise_id": park.enterprise_a, "kind": "facility", "name": "走查罐区"}),
    )
    .await;
    let unit = create(
        "/api/v1/risk-units",
        json!({"object_id": object, "name": "走查单元"}),
    )
    .await;
    let event = create(
        "/api/v1/risk-events",
        json!({"unit_id": unit, "name": "走查事件", "assessment": {"method": "ls", "l": 2, "s": 2}}),
    )
    .await;
    let measure = create(
        "/api/v1/control-measures",
        json!({"event_id": event, "description": "走查措施", "classification": "maintenance.other", "control_mode": "check", "check_content": "走查"}),
    )
    .await;
    let task = |role: &'static str| {
        json!({
            "measure_id": measure,
            "kind": "post_check",
            "assignee_role": role,
            "schedule": {"every": 1, "unit": "day", "starts": format!("{}T00:00:00", days_from_today(-2))},
        })
    };
    let expert_task = create("/api/v1/check-tasks", task("expert")).await;
    let task = create("/api/v1/check-tasks", task("enterprise")).await;
    [object, unit, event, measure, task, expert_task]
}

async fn fixture(app: &TestApp, park: &crate::helpers::Park) -> Fixture {
    let hazard = id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_a))
            .await,
    );
    let attachment = id_of(&attach(app, &park.admin, &hazard, "before", jpeg(1, 1000)).await);
    let inspection = id_of(
        &app.post("/api/v1/inspections")
            .token(&park.expert)
            .json(&json!({
                // A self-check, so the enterprise's contact may record its
                // checklist results too.
                "source": "self_check",
                "enterprise_id": park.enterprise_a,
                "inspected_on": days_from_today(0),
            }))
            .send()
            .await
            .expect(201)
            .json,
    );
    let user = app
        .add_user("walked.user@park.example.cn", "expert", None)
        .to_string();
    let [object, unit, event, measure, task, expert_task] = register_fixture(app, park).await;
    let source = id_of(
        &app.post("/api/v1/major-sources")
            .token(&park.contact_a)
            .json(&source_body(&park.enterprise_a.to_string(), 0))
            .send()
            .await
            .expect(201)
            .json,
    );
    let record_today = |token: &str, task: &str| {
        let (token, task) = (token.to_owned(), task.to_owned());
        async move {
            id_of(
                &app.post(&format!("/api/v1/check-tasks/{task}/records"))
                    .token(&token)
                    .json(&json!({"occurrence": 2, "outcome": "normal"}))
                    .send()
                    .await
                    .expect(201)
                    .json,
            )
        }
    };
    let record = record_today(&park.contact_a, &task).await;
    let expert_record = record_today(&park.expert, &expert_task).await;
    let record_photo = id_of(
        &upload_to(
            app,
            &park.contact_a,
            &format!("/api/v1/check-records/{record}/photos"),
            &[Part::file("photo.jpg", "image/jpeg", jpeg(4, 500))],
        )
        .await
        .expect(201)
        .json,
    );
    Fixture {
        record,
        expert_record,
        record_photo,
        enterprise: park.enterprise_a.to_string(),
        hazard,
        attachment,
        inspection,
        user,
        object,
        unit,
        event,
        measure,
        task,
        expert_task,
        expert: park.expert.clone(),
        source,
    }
}

/// A major hazard source: S = 2, R = 2.
fn source_body(enterprise: &str, n: usize) -> Value {
    json!({
        "enterprise_id": enterprise,
        "code": format!("walk-source-{n}"),
        "name": format!("走查罐区{n}"),
        "unit_kind": "storage",
        "alpha": 1.0,
        "chemicals": [{"name": "甲醇", "quantity_t": 1000.0, "critical_t": 500.0, "beta": 1.0}],
    })
}

/// Calls `route` as `token` with a request that is valid but for who asks.
async fn call(app: &TestApp, route: &str, token: &str, fixture: &Fixture, n: usize) -> Reply {
    let (method, template) = route.split_once(' ').unwrap();
    let path = template
        .replace("{ext_id}", &uuid::Uuid::new_v4().to_string())
        .replace("{year}", "2025")
        .replace("{quarter}", "1")
        .replace("{table}", "hazard")
        .replace(
            "{id}",
            match template {
                t if t.starts_with("/api/v1/attachments/") => &fixture.attachment,
                t if t.starts_with("/api/v1/enterprises/") => &fixture.enterprise,
                t if t.starts_with("/api/v1/inspections/") => &fixture.inspection,
                t if t.starts_with("/api/v1/checklists/") => BUILT_IN_CHECKLIST,
                t if t.starts_with("/api/v1/users/") => &fixture.user,
                t if t.starts_with("/api/v1/risk-units/") => &fixture.unit,
                t if t.starts_with("/api/v1/risk-objects/") => &fixture.object,
                t if t.starts_with("/api/v1/risk-events/") => &fixture.event,
                t if t.starts_with("/api/v1/control-measures/") => &fixture.measure,
                t if t.starts_with("/api/v1/major-sources/") => &fixture.source,
                t if t.starts_with("/api/v1/check-record-photos/") => &fixture.record_photo,
                "/api/v1/check-records/{id}/photos" if token == fixture.expert => {
                    &fixture.expert_record
                }
                t if t.starts_with("/api/v1/check-records/") => &fixture.record,
                "/api/v1/check-tasks/{id}/records" if token == fixture.expert => {
                    &fixture.expert_task
                }
                t if t.starts_with("/api/v1/check-tasks/") => &fixture.task,
                _ => &fixture.hazard,
            },
        );
    if route == "POST /api/v1/inspections/{id}/checklist-results/{item_id}/photos" {
        let path = path.replace("{item_id}", &built_in_item(n));
        let parts = [Part::file("photo.jpg", "image/jpeg", jpeg(3, 500))];
        return upload_to(app, token, &path, &parts).await;
    }
    if route == "POST /api/v1/major-sources/{id}/assessments" {
        let day = days_from_today(-1);
        let parts = [
            Part::file("report.pdf", "application/pdf", pdf(n as u8)),
            Part::text("assessed_on", &day),
        ];
        return upload_to(app, token, &path, &parts).await;
    }
    if route == "POST /api/v1/check-records/{id}/photos" {
        let parts = [Part::file("photo.jpg", "image/jpeg", jpeg(5, 500 + n))];
        return upload_to(app, token, &path, &parts).await;
    }
    if route == "POST /api/v1/enterprises/{id}/risk-register/import" {
        let register = "风险分析对象,对象类型\n".as_bytes().to_vec();
        let parts = [Part::file("register.csv", "text/csv", register)];
        return upload_to(app, token, &format!("{path}?dry_run=true"), &parts).await;
    }
    if route == "POST /api/v1/imports" {
        let ledger = "隐患描述,隐患部位,发现时间\n".as_bytes().to_vec();
        let parts = [Part::file("ledger.csv", "text/csv", ledger)];
        return upload_to(app, token, "/api/v1/imports?dry_run=true", &parts).await;
    }
    if route == "POST /api/v1/hazards/{id}/attachments" {
        let parts = [
            Part::text("phase", "before"),
            Part::file("photo.jpg", "image/jpeg", jpeg(2, 500)),
        ];
        return upload(app, token, &fixture.hazard, &parts).await;
    }
    let body = body_of(route, fixture, n);
    let call = match method {
        "GET" => app.get(&path),
        "POST" => app.post(&path),
        "PATCH" => app.patch(&path),
        "PUT" => app.call(awc::http::Method::PUT, &path),
        "DELETE" => app.call(awc::http::Method::DELETE, &path),
        other => panic!("method {other}"),
    };
    let call = call.token(token);
    match body {
        Some(body) => call.json(&body).send().await,
        None if matches!(method, "POST" | "PATCH" | "PUT") => call.json(&json!({})).send().await,
        None => call.send().await,
    }
}

/// A body the route accepts; `n` keeps created records distinct.
fn body_of(route: &str, fixture: &Fixture, n: usize) -> Option<Value> {
    let self_check = {
        let enterprise: uuid::Uuid = fixture.enterprise.parse().unwrap();
        let mut body = general_hazard(enterprise);
        body["source"] = json!("self_check");
        body
    };
    Some(match route {
        "POST /api/v1/enterprises" => json!({
            "name": format!("走查企业{n}"),
            "credit_code": credit_code(&format!("walk-{n}")),
            "status": "producing",
        }),
        "PATCH /api/v1/enterprises/{id}" => json!({"name": "Alpha Chemicals"}),
        "POST /api/v1/enterprises/{id}/assessments" => {
            json!({"score": 88, "assessed_on": days_from_today(0)})
        }
        "POST /api/v1/hazards" => self_check,
        "POST /api/v1/inspections" => json!({
            "source": "self_check",
            "enterprise_id": fixture.enterprise,
            "inspected_on": days_from_today(0),
        }),
        "POST /api/v1/hazards/{id}/plan" => json!({"measures": "更换报警器"}),
        "POST /api/v1/filings/{id}/file" => json!({"principal_name": "走查"}),
        "POST /api/v1/webhooks" => json!({
            "url": "https://127.0.0.1:9/hook",
            "event_types": ["hazard.reported"],
        }),
        "PATCH /api/v1/webhooks/{id}" => json!({"active": false}),
        "POST /api/v1/display-keys" => json!({
            "name": format!("走查大屏{n}"),
            "expires_at": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
        }),
        "POST /api/v1/checklists" => json!({
            "name": format!("走查检查表{n}"),
            "items": [{"text": "静电接地完好"}],
        }),
        "POST /api/v1/inspections/{id}/checklist-results" => json!({
            "checklist_id": BUILT_IN_CHECKLIST,
            "results": [{"item_id": built_in_item(n), "outcome": "pass"}],
        }),
        "PUT /api/v1/hazards/{id}/dossier" => json!({
            "state_and_cause": "走查",
            "danger_and_difficulty": "走查",
        }),
        "POST /api/v1/hazards/{id}/listing" => json!({
            "authority_level": "city",
            "authority_name": "市应急管理局",
            "document_number": "走查〔2026〕1号",
            "listed_on": days_from_today(0),
            "due_on": days_from_today(30),
            "responsible_leader": "走查",
        }),
        "POST /api/v1/hazards/{id}/listing/assessment" => json!({
            "assessor": "走查",
            "assessor_kind": "assessment_body",
            "conclusion": "走查",
            "report_attachment_id": fixture.attachment,
            "assessed_on": days_from_today(0),
        }),
        "POST /api/v1/hazards/{id}/listing/resumption" => {
            json!({"applicant": "走查", "applied_on": days_from_today(0)})
        }
        "POST /api/v1/hazards/{id}/listing/delisting" => {
            json!({"document_number": "走查〔2026〕2号", "delisted_on": days_from_today(0)})
        }
        "POST /api/v1/hazards/{id}/reject"
        | "POST /api/v1/hazards/{id}/void"
        | "POST /api/v1/hazards/{id}/reopen" => json!({"reason": "走查"}),
        "POST /api/v1/hazards/{id}/extensions" => {
            json!({"requested_deadline": days_from_today(90), "reason": "走查"})
        }
        "POST /api/v1/users" => json!({
            "email": format!("walk{n}@park.example.cn"),
            "name": "走查",
            "role": "viewer",
            "password": crate::helpers::PASSWORD,
        }),
        "PATCH /api/v1/users/{id}" => json!({"name": "走查"}),
        "PUT /api/v1/reference/calendar/{year}" => {
            serde_json::from_str(include_str!("../../reference/calendar/2025.json")).unwrap()
        }
        "PATCH /api/v1/risk-objects/{id}" => json!({"name": format!("走查对象{n}")}),
        "PATCH /api/v1/risk-units/{id}" => json!({"department": format!("走查部门{n}")}),
        "PATCH /api/v1/risk-events/{id}" => json!({"consequence": format!("走查后果{n}")}),
        "PATCH /api/v1/control-measures/{id}" => json!({"check_content": format!("走查内容{n}")}),
        "POST /api/v1/risk-objects/{id}/retire"
        | "POST /api/v1/risk-units/{id}/retire"
        | "POST /api/v1/risk-events/{id}/retire"
        | "POST /api/v1/control-measures/{id}/retire"
        | "POST /api/v1/check-tasks/{id}/retire" => json!({"reason": "走查"}),
        "POST /api/v1/risk-objects" => json!({
            "enterprise_id": fixture.enterprise,
            "kind": "place",
            "name": format!("走查场所{n}"),
        }),
        "POST /api/v1/risk-units" => {
            json!({"object_id": fixture.object, "name": format!("走查单元{n}")})
        }
        "POST /api/v1/risk-events" => json!({
            "unit_id": fixture.unit,
            "name": format!("走查事件{n}"),
            "assessment": {"method": "lec", "l": 1, "e": 6, "c": 7},
        }),
        "POST /api/v1/control-measures" => json!({
            "event_id": fixture.event,
            "description": format!("走查措施{n}"),
            "classification": "emergency.plan",
            "control_mode": "monitoring",
        }),
        "POST /api/v1/check-tasks" => json!({
            "measure_id": fixture.measure,
            "kind": "post_check",
            "assignee_role": "enterprise",
            "schedule": {"every": 8, "unit": "hour", "starts": format!("{}T08:00:00", days_from_today(0))},
        }),
        "POST /api/v1/risk-units/{id}/pauses" => json!({
            "from": format!("{}T08:00:00", days_from_today(1)),
            "until": format!("{}T12:00:00", days_from_today(1)),
            "reason": format!("走查检修{n}"),
        }),
        "POST /api/v1/check-tasks/{id}/records" => json!({"occurrence": 0, "outcome": "normal"}),
        "POST /api/v1/major-sources" => source_body(&fixture.enterprise, n + 1),
        "PUT /api/v1/major-sources/{id}/inputs" => json!({
            "alpha": 1.5,
            "chemicals": [{"name": "甲醇", "quantity_t": 1500.0, "critical_t": 500.0, "beta": 1.0}],
        }),
        "POST /api/v1/major-sources/{id}/drills" => json!({
            "kind": "onsite_plan",
            "held_on": days_from_today(-1),
        }),
        "POST /api/v1/major-sources/{id}/persons" => json!({
            "kind": "technical",
            "name": format!("走查{n}"),
            "post": "技术部长",
            "phone": "13800000000",
        }),
        _ => return None,
    })
}

async fn every_route_answers_each_role_as_the_capability_table_says(app: TestApp) {
    let park = app.park().await;
    let fixture = fixture(&app, &park).await;
    let document = app.get("/openapi.json").send().await.expect(200).json;
    let mut routes = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in ["get", "post", "patch", "delete", "put"] {
            if item.get(method).is_some() {
                routes.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let display = app
        .post("/api/v1/display-keys")
        .token(&park.admin)
        .json(&json!({
            "name": "走查大屏",
            "expires_at": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
        }))
        .send()
        .await
        .expect(201)
        .json["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let roles = [
        (Role::Display, &display),
        (Role::Viewer, &park.viewer),
        (Role::Enterprise, &park.contact_a),
        (Role::Expert, &park.expert),
        (Role::Supervisor, &park.supervisor),
        (Role::Admin, &park.admin),
    ];
    let mut n = 0;
    let mut wrong = Vec::new();
    for route in routes.iter().filter(|r| !PUBLIC.contains(&r.as_str())) {
        let capability = capability_of(route);
        for (role, token) in roles {
            n += 1;
            let reply = call(&app, route, token, &fixture, n).await;
            let may = capability.is_none_or(|c| role.may(c));
            let refused = reply.status.as_u16() == 403;
            if may == refused || reply.status.is_server_error() {
                wrong.push(format!(
                    "{route} as {role}: {} ({})",
                    reply.status.as_u16(),
                    reply.text.chars().take(160).collect::<String>()
                ));
            }
        }
    }
    assert!(n > 150, "walked {n} route × role pairs");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
