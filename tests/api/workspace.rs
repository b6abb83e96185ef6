//! The park's screens under `/app/`, in a real browser: Debian's Chromium,
//! headless, loads the wall-screen dashboard with a display key, runs its
//! module under the strict policy and shows the figures (user text as
//! text, never markup); revoked, the key blanks the screen. Driven over
//! WebDriver, an enterprise contact signs in to the workspace, finds the
//! overdue item first, plans an item (a refused field shown beside it),
//! adds an "after" photo, submits it and signs out; and records today's
//! checks (今日排查), normal with one tap, abnormal with its hazard, and
//! one while the network is down, sent once when it is back.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::browser::Browser;
use crate::helpers::evidence::{png, upload, Part};
use crate::helpers::{
    credit_code, days_from_today, events, general_hazard, id_of, major_hazard, TestApp,
};

backend_tests!(
    the_dashboard_shows_the_figures_in_a_browser_until_its_key_is_revoked,
    a_contact_plans_and_submits_an_item_in_the_workspace,
    a_supervisor_decides_at_the_desk,
    one_hazard_travels_from_the_field_to_the_wall_screen,
    a_capture_made_offline_arrives_once_with_its_photos,
    a_contact_records_todays_checks_once_online_or_not,
);

/// A display key for the control room's wall screen, as issued.
async fn display_key(app: &TestApp, park: &crate::helpers::Park) -> serde_json::Value {
    app.post("/api/v1/display-keys")
        .token(&park.admin)
        .json(&json!({
            "name": "中控室大屏",
            "expires_at": (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339(),
        }))
        .send()
        .await
        .expect(201)
        .json
}

/// Nothing the page did was refused by its Content-Security-Policy.
async fn assert_no_policy_violation(browser: &Browser) {
    let console = browser.console().await;
    assert!(
        !console
            .iter()
            .any(|m| m.contains("Content Security Policy") || m.contains("Refused")),
        "{console:?}"
    );
}

/// The visible controls smaller than 44×44 px (a thumb's target), as
/// "tag text w×h"; a file input's target is its label that is a button
/// (`label.pick`).
async fn small_targets(browser: &Browser) -> Vec<String> {
    let found = browser
        .script(
            "const small = []; \
             for (const n of document.querySelectorAll('a[href], button, input, select, textarea, summary')) { \
               const pick = n.type === 'file' && [...n.labels].find(l => l.classList.contains('pick')); \
               const r = (pick || n).getBoundingClientRect(); \
               if (r.width === 0 || r.height === 0 || n.closest('[hidden]')) continue; \
               if (r.width < 44 || r.height < 44) \
                 small.push(`${n.tagName} ${(n.textContent || n.name || n.type).trim().slice(0, 12)} ${Math.round(r.width)}×${Math.round(r.height)}`); \
             } \
             return small;",
            json!([]),
        )
        .await;
    serde_json::from_value(found).unwrap()
}

/// Opens the workspace and signs in as `email`.
async fn sign_in(browser: &Browser, app: &TestApp, email: &str) {
    sign_in_at(browser, &app.address, email).await;
}

/// Opens the workspace at `base` and signs in as `email`.
async fn sign_in_at(browser: &Browser, base: &str, email: &str) {
    browser.goto(&format!("{base}/app/")).await;
    browser.type_into("#signin-email", email).await;
    browser
        .type_into("#signin-password", crate::helpers::PASSWORD)
        .await;
    browser.click("#signin-form button").await;
    browser.wait_for("#items li").await;
}

/// A hazard of `enterprise` planned, with a before and an after photo,
/// submitted for acceptance.
async fn submitted(app: &TestApp, park: &crate::helpers::Park, title: &str) -> String {
    let mut body = general_hazard(park.enterprise_a);
    body["title"] = json!(title);
    let id = id_of(&app.report(&park.expert, body).await);
    for (phase, seed) in [("before", 1), ("after", 2)] {
        let parts = [
            Part::text("phase", phase),
            Part::file("photo.png", "image/png", png(320, 240, seed)),
        ];
        if phase == "after" {
            app.post(&format!("/api/v1/hazards/{id}/plan"))
                .token(&park.contact_a)
                .json(&crate::helpers::full_plan())
                .send()
                .await
                .expect(200);
        }
        upload(app, &park.contact_a, &id, &parts).await.expect(201);
    }
    app.post(&format!("/api/v1/hazards/{id}/submit"))
        .token(&park.contact_a)
        .json(&json!({"notes": "已整改"}))
        .send()
        .await
        .expect(200);
    id
}

async fn a_supervisor_decides_at_the_desk(app: TestApp) {
    let park = app.park().await;
    let first = submitted(&app, &park, "第一项:阀门泄漏").await;
    let second = submitted(&app, &park, "第二项:护栏缺失").await;
    // An item whose contact asks for more time.
    let asking = id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_b))
            .await,
    );
    app.post(&format!("/api/v1/hazards/{asking}/plan"))
        .token(&park.contact_b)
        .json(&crate::helpers::full_plan())
        .send()
        .await
        .expect(200);
    let requested = crate::helpers::days_from_today(40);
    app.post(&format!("/api/v1/hazards/{asking}/extensions"))
        .token(&park.contact_b)
        .json(&json!({"requested_deadline": requested, "reason": "设备到货延迟"}))
        .send()
        .await
        .expect(201);
    // The list filter the desk uses.
    let listed = app
        .get("/api/v1/hazards?pending_extension=true")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(crate::helpers::ids(&listed), std::slice::from_ref(&asking));

    let browser = Browser::start(390, 844).await;
    sign_in(&browser, &app, "supervisor@park.example.cn").await;
    browser.click("#nav-desk").await;
    browser.wait_for_text("#queue", "第二项").await;
    // Before and after side by side, each a real picture.
    let shown = browser
        .script(
            "return Promise.all([...document.querySelectorAll('#queue img')].map((i) => i.decode().then(() => i.naturalWidth)));",
            json!([]),
        )
        .await;
    assert_eq!(shown, json!([320, 320, 320, 320]), "two photos per item");
    browser.wait_for_text("#extensions", "设备到货延迟").await;
    browser.wait_for_text("#due", "首次评估").await;
    assert_eq!(browser.axe().await, Vec::<String>::new(), "desk");
    assert_eq!(
        small_targets(&browser).await,
        Vec::<String>::new(),
        "the desk on a phone"
    );
    browser
        .screenshot(&screenshot_path(&app, "desk-390x844.png"))
        .await;
    // What the enterprise said on submitting is on the card.
    browser.wait_for_text("#queue", "整改说明：已整改").await;
    browser.resize(1920, 1080).await;
    // At a desk, the queue is an index beside one item at a time.
    let shown_items = "return [...document.querySelectorAll('#queue > li')] \
         .filter((li) => li.getBoundingClientRect().height > 0) \
         .map((li) => li.querySelector('h3, a').textContent);";
    let visible = browser.script(shown_items, json!([])).await;
    assert!(
        visible.as_array().is_some_and(|v| v.len() == 1)
            && visible[0].as_str().unwrap().contains("第一项"),
        "{visible}"
    );
    browser.click("#queue-index li:nth-child(2) button").await;
    let visible = browser.script(shown_items, json!([])).await;
    assert!(
        visible.as_array().is_some_and(|v| v.len() == 1)
            && visible[0].as_str().unwrap().contains("第二项"),
        "{visible}"
    );
    assert_eq!(
        browser.axe().await,
        Vec::<String>::new(),
        "the desk at 1920"
    );
    browser.click("#queue-index li:first-child button").await;
    browser
        .screenshot(&screenshot_path(&app, "desk-1920x1080.png"))
        .await;
    // A photo opens large with a tap, and closes again.
    browser.click("#queue img").await;
    browser.wait_for("#zoom[open] #zoom-image").await;
    let zoomed = browser
        .script(
            "const i = document.querySelector('#zoom-image'); \
             return i.decode().then(() => i.getBoundingClientRect().width);",
            json!([]),
        )
        .await;
    assert!(zoomed.as_f64().unwrap() > 320.0, "shown larger: {zoomed}");
    browser.click("#zoom button").await;
    browser.wait_for("body:has(#zoom:not([open]))").await;

    // Rejecting needs a reason, named before anything is sent; then the
    // page asks, naming the hazard, and a cancel leaves it as it was.
    let first_number = app
        .get(&format!("/api/v1/hazards/{first}"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let reject = "#queue > li:first-child form:nth-of-type(2)";
    browser.click(&format!("{reject} button")).await;
    browser
        .wait_for_text(&format!("{reject} .field .error"), "请填写驳回理由")
        .await;
    browser
        .type_into(&format!("{reject} textarea"), "照片看不清整改部位")
        .await;
    browser.click(&format!("{reject} button")).await;
    browser.wait_for_text("#confirm-title", &first_number).await;
    browser.click("#confirm-cancel").await;
    browser.click(&format!("{reject} button")).await;
    browser.wait_for_text("#confirm-title", &first_number).await;
    browser
        .screenshot(&screenshot_path(&app, "desk-confirm-1920x1080.png"))
        .await;
    assert_eq!(browser.axe().await, Vec::<String>::new(), "the question");
    browser.click("#confirm-ok").await;
    browser.wait_for_text("#notice", "已驳回").await;
    browser.wait_for_gone("#queue", "第一项").await;
    // The other is accepted, once confirmed; the extension approved.
    browser
        .click("#queue > li:first-child form:first-of-type button")
        .await;
    browser.wait_for_text("#confirm-body", "销号").await;
    browser.click("#confirm-ok").await;
    browser.wait_for_text("#notice", "已验收销号").await;
    browser.wait_for_text("#queue", "没有待验收").await;
    browser
        .type_into("#extensions form:first-of-type textarea", "同意")
        .await;
    browser.click("#extensions form:first-of-type button").await;
    browser.wait_for_text("#extensions", "没有待审批").await;

    let state = |id: String| {
        let app = &app;
        let token = park.supervisor.clone();
        async move {
            app.get(&format!("/api/v1/hazards/{id}"))
                .token(&token)
                .send()
                .await
                .expect(200)
                .json
        }
    };
    // The oldest submission came first and was rejected.
    let (a, b) = (state(first.clone()).await, state(second).await);
    assert_eq!(
        (a["state"].as_str(), b["state"].as_str()),
        (Some("rectifying"), Some("closed"))
    );
    let extended = state(asking).await;
    assert_eq!(extended["deadline"], requested.as_str());

    // Recorded in error: voided from its page on a phone, with a reason,
    // once the question naming it is confirmed.
    browser.resize(390, 844).await;
    browser
        .goto(&format!("{}/app/#/hazard/{first}", app.address))
        .await;
    browser.click("#void-form button").await;
    browser
        .wait_for_text("#void-reason-error", "请填写作废理由")
        .await;
    browser.type_into("#void-reason", "与另一条重复登记").await;
    browser.click("#void-form button").await;
    browser.wait_for_text("#confirm-title", &first_number).await;
    browser
        .screenshot(&screenshot_path(&app, "void-confirm-390x844.png"))
        .await;
    assert_eq!(
        browser.axe().await,
        Vec::<String>::new(),
        "the question on a phone"
    );
    browser.click("#confirm-ok").await;
    browser.wait_for_text("#notice", "已作废").await;
    assert_eq!(state(first).await["state"], "voided");
    assert_no_policy_violation(&browser).await;
    browser.close().await;
}

/// Where the tests' screenshots go: `docs/screenshots/` when
/// `HT_UPDATE_SCREENSHOTS=1` (SQLite runs only, so one run writes them),
/// else `target/screenshots/`.
fn screenshot_path(app: &TestApp, name: &str) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var("HT_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1")
        && app.backend == crate::helpers::Backend::Sqlite;
    if update {
        root.join("docs/screenshots").join(name)
    } else {
        root.join("target/screenshots")
            .join(format!("{:?}", app.backend).to_lowercase())
            .join(name)
    }
}

async fn a_contact_plans_and_submits_an_item_in_the_workspace(app: TestApp) {
    let page = app.get("/app/").send().await.expect(200);
    let policy = page.header("content-security-policy").unwrap().to_owned();
    assert!(
        !policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"),
        "{policy}"
    );
    let park = app.park().await;
    // An item found ten days ago with a deadline three days past (entered
    // by an expert), one to work on, one titled like markup, and one of
    // another enterprise.
    let mut late = general_hazard(park.enterprise_a);
    late["title"] = json!("消防通道堵塞");
    late["found_at"] = json!((chrono::Utc::now() - chrono::Duration::days(10)).to_rfc3339());
    late["deadline"] = json!(crate::helpers::days_from_today(-3));
    let late = app.report(&park.expert, late).await;
    let work = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let mut markup = general_hazard(park.enterprise_a);
    markup["title"] = json!("<img src=x onerror=alert(1)>");
    markup["deadline"] = json!(crate::helpers::days_from_today(30));
    app.report(&park.expert, markup).await;
    let mut other = general_hazard(park.enterprise_b);
    other["title"] = json!("别家企业的隐患");
    app.report(&park.expert, other).await;

    let browser = Browser::start(390, 844).await;
    browser.goto(&format!("{}/app/", app.address)).await;
    browser.wait_for("#signin-form").await;
    browser
        .screenshot(&screenshot_path(&app, "workspace-signin-390x844.png"))
        .await;
    assert_eq!(browser.axe().await, Vec::<String>::new(), "sign-in page");
    browser
        .type_into("#signin-email", "contact@alpha.example.cn")
        .await;
    browser
        .type_into("#signin-password", "wrong password")
        .await;
    browser.click("#signin-form button").await;
    browser
        .wait_for_text("#signin-error", "邮箱或密码不正确")
        .await;
    browser
        .type_into("#signin-password", crate::helpers::PASSWORD)
        .await;
    browser.click("#signin-form button").await;

    // The open items: the overdue one first and marked in words; user text
    // as text; nothing of the other enterprise.
    browser.wait_for("#items li a").await;
    let list = browser.text("#items").await;
    assert!(list.starts_with("消防通道堵塞"), "overdue first: {list}");
    assert!(list.contains("已逾期"), "{list}");
    assert!(list.contains("<img src=x onerror=alert(1)>"), "{list}");
    assert!(!list.contains("别家企业"), "{list}");
    let images = browser
        .script(
            "return document.querySelectorAll('#items img').length;",
            json!([]),
        )
        .await;
    assert_eq!(images, json!(0), "the title is not markup");
    assert_eq!(late["state"], "reported");
    browser
        .screenshot(&screenshot_path(&app, "workspace-items-390x844.png"))
        .await;
    assert_eq!(browser.axe().await, Vec::<String>::new(), "open items");
    browser.resize(1920, 1080).await;
    browser
        .screenshot(&screenshot_path(&app, "workspace-items-1920x1080.png"))
        .await;
    browser.resize(390, 844).await;

    // Filtered to the overdue ones, then searched by a word of its title.
    browser.click("#filters summary").await;
    browser
        .script(
            "document.querySelector('#filter-overdue').value = 'true';",
            json!([]),
        )
        .await;
    browser.click("#filter-form button[type=submit]").await;
    browser.wait_for_gone("#items", "储罐区").await;
    assert!(browser.text("#items").await.contains("消防通道堵塞"));
    browser.click("#filter-form button[type=reset]").await;
    browser.wait_for_text("#items", "储罐区").await;
    browser.type_into("#filter-q", "消防通道").await;
    browser.click("#filter-form button[type=submit]").await;
    browser.wait_for_gone("#items", "报警器失效").await;
    assert!(browser.text("#items").await.contains("消防通道堵塞"));
    assert_eq!(
        small_targets(&browser).await,
        Vec::<String>::new(),
        "the filters on a phone"
    );
    browser.click("#filter-form button[type=reset]").await;
    browser.wait_for_text("#items", "报警器失效").await;

    // The item's page: a plan without measures is refused beside the field.
    let id = id_of(&work);
    browser
        .goto(&format!("{}/app/#/hazard/{id}", app.address))
        .await;
    browser.wait_for("#plan-form").await;
    browser.type_into("#plan-responsible", "张工").await;
    browser.type_into("#plan-funds", "12000").await;
    browser
        .type_into("#plan-contingency", "整改期间专人巡检")
        .await;
    browser.click("#plan-form button").await;
    let refusal = browser
        .wait_for_text("#plan-measures-error", "请填写整改措施")
        .await;
    assert!(!refusal.is_empty());
    let invalid = browser
        .script(
            "return document.querySelector('#plan-measures').getAttribute('aria-invalid');",
            json!([]),
        )
        .await;
    assert_eq!(invalid, json!("true"));
    browser
        .type_into("#plan-measures", "更换防爆型报警器并校验")
        .await;
    browser.click("#plan-form button").await;
    browser.wait_for_text("#facts", "整改中").await;

    // An after photo from the phone, then submission.
    let photo = std::env::temp_dir().join(format!("ht-after-{}.png", uuid::Uuid::new_v4()));
    std::fs::write(&photo, crate::helpers::evidence::png(320, 240, 7)).unwrap();
    browser.choose_file("#photo-file", &photo).await;
    browser.wait_for("#photos-after img").await;
    let decoded = browser
        .script(
            "const i = document.querySelector('#photos-after img'); \
             return i.decode().then(() => i.naturalWidth);",
            json!([]),
        )
        .await;
    assert_eq!(decoded, json!(320), "the photo is shown");
    let _ = std::fs::remove_file(&photo);
    browser.type_into("#submit-notes", "已更换并校验").await;
    browser.click("#submit-form button").await;
    browser.wait_for_text("#facts", "待验收").await;
    // Said where the eye is, whatever was scrolled.
    browser.wait_for_text("#toast", "已提交验收").await;
    let in_view = browser
        .script(
            "const r = document.querySelector('#toast').getBoundingClientRect(); \
             return r.top >= 0 && r.bottom <= innerHeight;",
            json!([]),
        )
        .await;
    assert_eq!(in_view, json!(true), "the toast is on screen");
    browser.wait_for_text("#history", "提交验收").await;
    browser
        .screenshot(&screenshot_path(&app, "workspace-hazard-390x844.png"))
        .await;
    assert_eq!(browser.axe().await, Vec::<String>::new(), "hazard page");
    browser.resize(1920, 1080).await;
    browser
        .screenshot(&screenshot_path(&app, "workspace-hazard-1920x1080.png"))
        .await;

    // What the page did is what the API holds.
    let hazard = app
        .get(&format!("/api/v1/hazards/{id}"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(hazard["state"], "pending_acceptance");
    assert_eq!(hazard["evidence"]["after"], 1);
    assert_eq!(hazard["plan"]["measures"], "更换防爆型报警器并校验");
    let actions: Vec<String> = events(&app, &park.supervisor, &id)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["report", "plan", "evidence_added", "submit"]);

    // The page answers the first questions: whose hazard, found by whom,
    // who did each step; sent back, why, at the top.
    let facts = browser.text("#facts").await;
    assert!(facts.contains("Alpha Chemicals"), "{facts}");
    assert!(facts.contains("驻园专家"), "the finder: {facts}");
    let history = browser.text("#history").await;
    assert!(history.contains("企业联系人"), "who submitted: {history}");
    app.post(&format!("/api/v1/hazards/{id}/reject"))
        .token(&park.supervisor)
        .json(&json!({"reason": "整改后照片看不清报警器读数"}))
        .send()
        .await
        .expect(200);
    browser.reload().await;
    let banner = browser
        .wait_for_text("#rejection", "看不清报警器读数")
        .await;
    assert!(banner.contains("园区监管"), "who rejected: {banner}");
    assert_eq!(browser.axe().await, Vec::<String>::new(), "rejected page");
    browser.resize(390, 844).await;
    assert_eq!(
        small_targets(&browser).await,
        Vec::<String>::new(),
        "the hazard's page on a phone"
    );
    browser.goto(&format!("{}/app/#/mine", app.address)).await;
    browser.wait_for("#items li").await;
    // Its card says it was sent back.
    browser
        .wait_for_text(&format!("#items a[href='#/hazard/{id}']"), "被驳回")
        .await;
    assert_eq!(
        small_targets(&browser).await,
        Vec::<String>::new(),
        "the list on a phone"
    );
    browser
        .screenshot(&screenshot_path(
            &app,
            "workspace-list-rejected-390x844.png",
        ))
        .await;
    browser
        .goto(&format!("{}/app/#/hazard/{id}", app.address))
        .await;
    browser.wait_for("#rejection").await;
    browser.resize(1920, 1080).await;
    browser
        .screenshot(&screenshot_path(&app, "workspace-rejected-1920x1080.png"))
        .await;
    browser.resize(390, 844).await;
    browser
        .screenshot(&screenshot_path(&app, "workspace-rejected-390x844.png"))
        .await;

    assert_no_policy_violation(&browser).await;

    // Signing out forgets the token; none was ever kept elsewhere.
    browser.click("#signout").await;
    browser.wait_for("#signin-form").await;
    let kept = browser
        .script(
            "return [sessionStorage.getItem('ht_token'), localStorage.length, document.cookie];",
            json!([]),
        )
        .await;
    assert_eq!(kept, json!([null, 0, ""]));
    browser.resize(1920, 1080).await;
    browser
        .screenshot(&screenshot_path(&app, "workspace-signin-1920x1080.png"))
        .await;
    browser.close().await;
}

/// The page's DOM after its scripts ran, as Chromium renders it.
async fn rendered(url: String) -> String {
    let chromium = std::env::var("HT_CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
    let output = actix_web::rt::task::spawn_blocking(move || {
        std::process::Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--virtual-time-budget=5000",
                "--dump-dom",
                &url,
            ])
            .output()
            .unwrap_or_else(|e| {
                panic!("running {chromium} (install Debian's chromium, or set HT_CHROMIUM): {e}")
            })
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

async fn the_dashboard_shows_the_figures_in_a_browser_until_its_key_is_revoked(app: TestApp) {
    let page = app.get("/app/dashboard").send().await.expect(200);
    let policy = page.header("content-security-policy").unwrap().to_owned();
    assert!(policy.contains("script-src 'self'") && policy.contains("style-src 'self'"));
    assert!(
        !policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"),
        "{policy}"
    );
    assert!(page
        .text
        .contains(r#"<script type="module" src="/app/assets/dashboard.js">"#));
    let script = app.get("/app/assets/dashboard.js").send().await.expect(200);
    assert!(script
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
    assert!(!script.text.contains("innerHTML"), "text is set as text");

    let park = app.park().await;
    for _ in 0..2 {
        app.report(&park.expert, general_hazard(park.enterprise_a))
            .await;
    }
    // An enterprise named like markup: the screen shows the characters.
    let markup = "<img src=x onerror=alert(1)>";
    let named = app
        .post("/api/v1/enterprises")
        .token(&park.admin)
        .json(&json!({
            "name": markup,
            "credit_code": credit_code("markup"),
            "status": "producing",
            "contact_emails": [],
        }))
        .send()
        .await
        .expect(201)
        .json["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let major = app.report(&park.supervisor, major_hazard(named)).await;
    // A major hazard source with its principal person only, and a 重大
    // unit of the register: the dual-prevention panels show them.
    let source = crate::risk::created(
        &app,
        &park.contact_a,
        "/api/v1/major-sources",
        json!({
            "enterprise_id": park.enterprise_a,
            "code": "320500-0017",
            "name": "液氨罐区",
            "unit_kind": "storage",
            "alpha": 2.0,
            "chemicals": [{"name": "液氨", "quantity_t": 300.0, "critical_t": 10.0, "beta": 2.0}],
        }),
    )
    .await;
    crate::risk::created(
        &app,
        &park.contact_a,
        &format!(
            "/api/v1/major-sources/{}/persons",
            source["id"].as_str().unwrap()
        ),
        json!({"kind": "principal", "name": "张总", "post": "总经理", "phone": "0512-66880001"}),
    )
    .await;
    let issued = display_key(&app, &park).await;
    let key = issued["key"].as_str().unwrap();
    let url = format!("{}/app/dashboard#key={key}", app.address);
    let dom = rendered(url.clone()).await;
    assert!(dom.contains(r#"data-figure="open">3<"#), "{dom}");
    // This month's column counts all three; the newest major hazard is
    // listed by number, enterprise and state, and nothing more of it.
    let month = chrono::Datelike::month(&app.state.park.now().park_today);
    assert!(
        dom.contains(&format!(r#"aria-label="{month}月 3 条""#)),
        "{dom}"
    );
    let number = major["number"].as_str().unwrap();
    assert!(dom.contains(number), "{dom}");
    assert!(dom.contains("待制定整改方案"), "{dom}");
    assert!(
        !dom.contains(major["description"].as_str().unwrap()),
        "no details"
    );
    assert!(
        dom.contains(r#"<span class="name">蓝色</span><span class="meaning">低风险</span>"#),
        "grade colours carry their names, each kept whole: {dom}"
    );
    assert!(
        dom.contains(r#"<span class="period">累计</span>"#),
        "the tiles say what period they count"
    );
    assert!(!dom.contains(r#"id="board" hidden"#), "the board is shown");
    assert!(
        dom.contains("缺技术负责人") && dom.contains("液氨罐区"),
        "the source lacking a person is named: {dom}"
    );
    assert!(!dom.contains("张总"), "no person's name on the wall");
    assert!(dom.contains("液氨罐区安全包保"), "its 重大 unit: {dom}");

    // Driven over WebDriver: accessible, within its policy, on a wall
    // screen and on a phone.
    let browser = Browser::start(1920, 1080).await;
    browser.goto(&url).await;
    browser.wait_for("#board").await;
    browser.wait_for_text("#majors", number).await;
    browser.wait_for_text("#bb-attention", "缺技术负责人").await;
    // From the screen itself, the key reads figures and nothing else.
    let hazards = browser
        .command_async(
            "fetch('/api/v1/hazards', {headers: {authorization: 'Bearer ' + arguments[0]}}) \
               .then((r) => arguments[1](r.status));",
            json!([key]),
        )
        .await;
    assert_eq!(hazards, json!(403), "a display key reads no hazard");
    assert_eq!(browser.axe().await, Vec::<String>::new(), "dashboard");
    // Readable across a control room: no text under 24 px on the wall.
    let smallest = browser
        .script(
            "let min = [1e9, ''];              for (const n of document.querySelectorAll('body *')) {                if (n.getClientRects().length === 0) continue;                if (![...n.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim())) continue;                const size = parseFloat(getComputedStyle(n).fontSize);                if (size < min[0]) min = [size, n.textContent.trim().slice(0, 20)];              }              return min;",
            json!([]),
        )
        .await;
    assert!(
        smallest[0].as_f64().unwrap() >= 24.0,
        "the smallest text on the wall: {smallest}"
    );
    browser
        .screenshot(&screenshot_path(&app, "dashboard-test-1920x1080.png"))
        .await;
    browser.resize(390, 844).await;
    browser
        .screenshot(&screenshot_path(&app, "dashboard-test-390x844.png"))
        .await;
    // The whole phone page, down to the dual-prevention panels.
    browser.resize(390, 3200).await;
    browser
        .screenshot(&screenshot_path(&app, "dashboard-test-390-full.png"))
        .await;
    assert_no_policy_violation(&browser).await;

    // The source's printable placard, as the enterprise's contact opens it:
    // styled under its own policy (its stylesheet allowed by hash), on a
    // phone and on a wide screen.
    browser.command_cdp("Network.enable", json!({})).await;
    browser
        .command_cdp(
            "Network.setExtraHTTPHeaders",
            json!({"headers": {"Authorization": format!("Bearer {}", park.contact_a)}}),
        )
        .await;
    browser.resize(390, 844).await;
    browser
        .goto(&format!(
            "{}/api/v1/major-sources/{}/placard",
            app.address,
            source["id"].as_str().unwrap()
        ))
        .await;
    browser
        .wait_for_text("h1", "重大危险源安全包保责任公示牌")
        .await;
    let colour = browser
        .script(
            "return getComputedStyle(document.querySelector('h1')).color;",
            json!([]),
        )
        .await;
    assert_eq!(colour, json!("rgb(183, 28, 28)"), "the stylesheet applies");
    assert_eq!(browser.axe().await, Vec::<String>::new(), "placard");
    browser
        .screenshot(&screenshot_path(&app, "placard-390x844.png"))
        .await;
    browser.resize(1920, 1080).await;
    browser
        .screenshot(&screenshot_path(&app, "placard-1920x1080.png"))
        .await;
    assert_no_policy_violation(&browser).await;
    browser.close().await;

    app.call(
        awc::http::Method::DELETE,
        &format!("/api/v1/display-keys/{}", issued["id"].as_str().unwrap()),
    )
    .token(&park.admin)
    .send()
    .await
    .expect(200);
    let blank = rendered(url).await;
    assert!(blank.contains("大屏密钥已失效"), "{blank}");
    assert!(
        blank.contains(r#"id="board" hidden"#),
        "the figures are gone"
    );
}

/// The whole way, in the pages only: an expert captures a hazard with a
/// photo, the enterprise plans it, adds an after photo and submits it, a
/// supervisor accepts it at the desk — and the wall screen, open all along
/// in another window, shows it closed without a reload.
async fn one_hazard_travels_from_the_field_to_the_wall_screen(app: TestApp) {
    let park = app.park().await;
    let key = display_key(&app, &park).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let wall = Browser::start(1920, 1080).await;
    wall.goto(&format!(
        "{}/app/dashboard?interval=2#key={key}",
        app.address
    ))
    .await;
    wall.wait_for_text(r#"[data-figure="closed"]"#, "0").await;

    // The expert, on a phone: the major-hazard basis appears only for a
    // major hazard; a missing title is refused beside its field.
    let phone = Browser::start(390, 844).await;
    sign_in(&phone, &app, "expert@park.example.cn").await;
    phone.click("#nav-new").await;
    phone.wait_for("#new-form").await;
    // An empty capture names every required field at once, the first
    // focused; nothing is kept or sent.
    phone.click("#new-form button").await;
    for (slot, message) in [
        ("#new-enterprise-error", "请选择企业"),
        ("#new-category-error", "请选择隐患类别"),
        ("#new-title-error", "请填写隐患名称"),
        ("#new-description-error", "请填写隐患描述"),
        ("#new-location-error", "请填写隐患部位"),
    ] {
        phone.wait_for_text(slot, message).await;
    }
    assert_eq!(
        phone
            .script("return document.activeElement.id;", json!([]))
            .await,
        json!("new-enterprise"),
        "the first missing field has the focus"
    );
    assert_eq!(phone.text("#waiting").await, "", "nothing kept");
    let basis_shown =
        "return getComputedStyle(document.querySelector('#new-basis-field')).display !== 'none';";
    assert_eq!(
        phone.script(basis_shown, json!([])).await,
        json!(false),
        "only for a major hazard"
    );
    let choose = "const l = document.querySelector('#new-level'); l.value = arguments[0]; \
                  l.dispatchEvent(new Event('change'));";
    phone.script(choose, json!(["major"])).await;
    assert_eq!(phone.script(basis_shown, json!([])).await, json!(true));
    phone.script(choose, json!(["general"])).await;
    let enterprise = park.enterprise_a.to_string();
    phone
        .script(
            "const f = document.querySelector('#new-form'); f.enterprise_id.value = arguments[0]; \
             f.category.value = 'unsafe_condition'; f.specialty.value = 'electrical'; \
             for (const s of [f.enterprise_id, f.category]) s.dispatchEvent(new Event('change', {bubbles: true}));",
            json!([enterprise]),
        )
        .await;
    phone
        .type_into("#new-description", "配电室门口未设挡鼠板")
        .await;
    phone.type_into("#new-location", "1号配电室").await;
    let photo = std::env::temp_dir().join(format!("ht-field-{}.png", uuid::Uuid::new_v4()));
    std::fs::write(&photo, png(320, 240, 9)).unwrap();
    phone.choose_file("#new-photos", &photo).await;
    // Seen before it is sent.
    phone.wait_for("#new-thumbs img").await;
    let shown = phone
        .script(
            "const i = document.querySelector('#new-thumbs img'); \
             return i.decode().then(() => i.naturalWidth);",
            json!([]),
        )
        .await;
    assert_eq!(shown, json!(320), "the chosen photo as a thumbnail");
    assert_eq!(phone.axe().await, Vec::<String>::new(), "capture page");
    assert_eq!(
        small_targets(&phone).await,
        Vec::<String>::new(),
        "the capture page"
    );
    phone
        .screenshot(&screenshot_path(&app, "capture-390x844.png"))
        .await;
    phone.resize(1920, 1080).await;
    phone
        .screenshot(&screenshot_path(&app, "capture-1920x1080.png"))
        .await;
    phone.resize(390, 844).await;
    phone.click("#new-form button").await;
    phone
        .wait_for_text("#new-title-error", "请填写隐患名称")
        .await;
    phone
        .type_into("#new-title-input", "配电室挡鼠板缺失")
        .await;
    phone.click("#new-form button").await;
    phone.wait_for_text("#notice", "照片 1 张").await;
    phone.wait_for("#photos-before img").await;
    let _ = std::fs::remove_file(&photo);
    let hazards = app
        .get("/api/v1/hazards")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(hazards["items"].as_array().unwrap().len(), 1, "exactly one");
    let id = id_of(&hazards["items"][0]);
    assert_eq!(hazards["items"][0]["evidence"]["before"], 1);
    wall.wait_for_text(r#"[data-figure="open"]"#, "1").await;

    // The enterprise plans it, adds the after photo and submits.
    phone.click("#signout").await;
    sign_in(&phone, &app, "contact@alpha.example.cn").await;
    phone
        .goto(&format!("{}/app/#/hazard/{id}", app.address))
        .await;
    phone.type_into("#plan-measures", "加装挡鼠板").await;
    phone.type_into("#plan-responsible", "李工").await;
    phone.type_into("#plan-funds", "800").await;
    phone.type_into("#plan-contingency", "加装前关闭门窗").await;
    phone.click("#plan-form button").await;
    phone.wait_for_text("#facts", "整改中").await;
    let after = std::env::temp_dir().join(format!("ht-after-{}.png", uuid::Uuid::new_v4()));
    std::fs::write(&after, png(320, 240, 3)).unwrap();
    phone.choose_file("#photo-file", &after).await;
    phone.wait_for("#photos-after img").await;
    let _ = std::fs::remove_file(&after);
    phone.click("#submit-form button").await;
    phone.wait_for_text("#facts", "待验收").await;
    wall.wait_for_text(r#"[data-figure="pending_acceptance"]"#, "1")
        .await;

    // The supervisor accepts it at the desk.
    phone.click("#signout").await;
    sign_in(&phone, &app, "supervisor@park.example.cn").await;
    phone.click("#nav-desk").await;
    phone.wait_for_text("#queue", "配电室挡鼠板缺失").await;
    phone
        .click("#queue > li:first-child form:first-of-type button")
        .await;
    phone
        .wait_for_text("#confirm-body", "配电室挡鼠板缺失")
        .await;
    phone.click("#confirm-ok").await;
    phone.wait_for_text("#queue", "没有待验收").await;

    // The wall screen, never reloaded, shows it closed.
    wall.wait_for_text(r#"[data-figure="closed"]"#, "1").await;
    wall.wait_for_text(r#"[data-figure="open"]"#, "0").await;
    let reloaded = wall
        .script(
            "return performance.getEntriesByType('navigation').length;",
            json!([]),
        )
        .await;
    assert_eq!(reloaded, json!(1), "one page load, no reload");
    let actions: Vec<String> = events(&app, &park.supervisor, &id)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "report",
            "evidence_added",
            "plan",
            "evidence_added",
            "submit",
            "accept"
        ]
    );
    assert_no_policy_violation(&phone).await;
    assert_no_policy_violation(&wall).await;
    phone.close().await;
    wall.close().await;
}

/// Fills the capture form for Alpha with `title` and two photos, and
/// presses 登记.
async fn capture_with_two_photos(phone: &Browser, park: &crate::helpers::Park, title: &str) {
    phone.wait_for("#new-form").await;
    phone
        .script(
            "const f = document.querySelector('#new-form'); f.enterprise_id.value = arguments[0]; \
             f.category.value = 'unsafe_condition';",
            json!([park.enterprise_a.to_string()]),
        )
        .await;
    phone.type_into("#new-title-input", title).await;
    phone.type_into("#new-description", "现场发现").await;
    phone.type_into("#new-location", "罐区").await;
    let folder = std::env::temp_dir().join(format!("ht-offline-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder).unwrap();
    let paths: Vec<String> = (1..=2u8)
        .map(|i| {
            let path = folder.join(format!("现场{i}.png"));
            std::fs::write(&path, png(160, 120, i)).unwrap();
            path.display().to_string()
        })
        .collect();
    phone
        .choose_file("#new-photos", std::path::Path::new(&paths.join("\n")))
        .await;
    phone.click("#new-form button").await;
}

/// The hazards titled `title`, as the API lists them.
async fn titled(app: &TestApp, park: &crate::helpers::Park, title: &str) -> Vec<serde_json::Value> {
    app.get("/api/v1/hazards?limit=100")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["title"] == title)
        .cloned()
        .collect()
}

/// Offline capture: the link cut, the capture page still opens (from the
/// service worker's cache), a hazard with two photos is kept on the phone
/// across a reload and arrives once, photos and all, when the link is
/// back; and a capture cut off between the hazard and its photos sends
/// only the photos afterwards.
async fn a_capture_made_offline_arrives_once_with_its_photos(app: TestApp) {
    let park = app.park().await;
    let link = crate::helpers::link::Link::to(&app.address);
    let base = link.address.clone();
    let phone = Browser::start(390, 844).await;
    sign_in_at(&phone, &base, "expert@park.example.cn").await;
    phone.goto(&format!("{base}/app/#/new")).await;
    phone.wait_for("#new-form").await;
    // The service worker has taken the page and kept the app shell.
    let started = std::time::Instant::now();
    while phone
        .script("return !!navigator.serviceWorker.controller;", json!([]))
        .await
        != json!(true)
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "no service worker"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    link.cut();
    phone.reload().await;
    capture_with_two_photos(&phone, &park, "离线登记的隐患").await;
    phone.wait_for_text("#notice", "已保存在本机").await;
    phone.wait_for_text("#waiting", "离线登记的隐患").await;
    phone
        .screenshot(&screenshot_path(&app, "capture-offline-390x844.png"))
        .await;
    // Offline shows: a banner, the count in the navigation, and what waits
    // on the phone where a page cannot be read (not "Failed to fetch").
    phone.wait_for("#offline:not([hidden])").await;
    phone.wait_for_text("#nav-waiting-count", "1").await;
    phone.click(r##"#nav a[href="#/mine"]"##).await;
    phone
        .wait_for("#view-waiting:not([hidden]) #waiting-why:not([hidden])")
        .await;
    phone.wait_for_text("#waiting-all", "离线登记的隐患").await;
    assert_eq!(phone.text("#notice").await, "", "no error shown");
    phone
        .screenshot(&screenshot_path(&app, "offline-waiting-390x844.png"))
        .await;
    phone.resize(1920, 1080).await;
    phone
        .screenshot(&screenshot_path(&app, "offline-waiting-1920x1080.png"))
        .await;
    phone.resize(390, 844).await;
    phone.click("#nav-new").await;
    phone.wait_for("#new-form").await;
    // A reload, still offline: still waiting, nothing sent.
    phone.reload().await;
    phone.wait_for_text("#waiting", "照片 2 张").await;
    assert!(titled(&app, &park, "离线登记的隐患").await.is_empty());

    link.restore();
    phone.reload().await;
    phone.wait_for_text("#notice", "已发送").await;
    // Back online: no banner, nothing waiting.
    phone
        .wait_for("body:has(#offline[hidden]):has(#nav-waiting[hidden])")
        .await;
    let arrived = titled(&app, &park, "离线登记的隐患").await;
    assert_eq!(arrived.len(), 1, "exactly once: {arrived:?}");
    assert_eq!(arrived[0]["evidence"]["before"], 2, "with both photos");

    // Cut between the hazard and its photos: the photos go afterwards, the
    // hazard is not sent again.
    phone.command_cdp("Network.enable", json!({})).await;
    phone
        .command_cdp(
            "Network.setBlockedURLs",
            json!({"urls": ["*/attachments*"]}),
        )
        .await;
    capture_with_two_photos(&phone, &park, "照片未发出的隐患").await;
    phone.wait_for_text("#waiting", "照片待发送 2 张").await;
    let sent = titled(&app, &park, "照片未发出的隐患").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["evidence"]["before"], 0);
    phone
        .command_cdp("Network.setBlockedURLs", json!({"urls": []}))
        .await;
    phone.reload().await;
    phone.wait_for_text("#notice", "已发送").await;
    let arrived = titled(&app, &park, "照片未发出的隐患").await;
    assert_eq!(arrived.len(), 1, "the hazard once: {arrived:?}");
    assert_eq!(arrived[0]["evidence"]["before"], 2, "then its photos");
    assert_no_policy_violation(&phone).await;
    phone.close().await;
}

/// 今日排查 on a phone: a daily check of the enterprise's contacts with
/// two missed occurrences and today's. Today's is recorded 正常 with one
/// tap; the first missed one 异常, the form naming every required field
/// at once before it becomes a hazard; the other while its requests fail,
/// kept on the phone and sent once afterwards.
async fn a_contact_records_todays_checks_once_online_or_not(app: TestApp) {
    use crate::risk::{created, local_in, measure_of};
    let park = app.park().await;
    let (measure, _) = measure_of(
        &app,
        &park.contact_a,
        park.enterprise_a,
        json!({"method": "ls", "l": 2, "s": 4}),
    )
    .await;
    let task = id_of(
        &created(
            &app,
            &park.contact_a,
            "/api/v1/check-tasks",
            json!({
                "measure_id": measure,
                "name": "巡检可燃气体报警器",
                "kind": "post_check",
                "assignee_role": "enterprise",
                "schedule": {"every": 1, "unit": "day", "starts": local_in(-2 * 24 - 6)},
            }),
        )
        .await,
    );
    let browser = Browser::start(390, 844).await;
    sign_in(&browser, &app, "contact@alpha.example.cn").await;
    browser.click("#nav-checks").await;
    browser.wait_for_text("#duties", "巡检可燃气体报警器").await;
    browser.wait_for_text("#duties", "漏查").await;
    assert_eq!(browser.axe().await, Vec::<String>::new(), "今日排查");
    assert_eq!(
        small_targets(&browser).await,
        Vec::<String>::new(),
        "今日排查 on a phone"
    );
    browser
        .screenshot(&screenshot_path(&app, "checks-390x844.png"))
        .await;

    browser
        .click(r#"#duties li[data-status="due"] button[data-outcome="normal"]"#)
        .await;
    browser.wait_for_text("#notice", "已记录").await;
    browser.wait_for_text("#duties", "已排查").await;

    browser
        .click(r#"#duties li[data-status="missed"] button[data-outcome="abnormal"]"#)
        .await;
    browser.wait_for("#abnormal-form:not([hidden])").await;
    browser.click("#abnormal-form button[type=submit]").await;
    for (slot, message) in [
        ("#abnormal-location-error", "请填写隐患部位"),
        ("#abnormal-category-error", "请选择隐患类别"),
        ("#abnormal-deadline-error", "请填写整改期限"),
    ] {
        browser.wait_for_text(slot, message).await;
    }
    browser.type_into("#abnormal-location", "1号罐区东侧").await;
    browser
        .script(
            "document.querySelector('#abnormal-category').value = arguments[0]; \
             document.querySelector('#abnormal-deadline').value = arguments[1];",
            json!(["unsafe_condition", crate::helpers::days_from_today(7)]),
        )
        .await;
    // What was seen goes with it: shown before sending, then kept on the
    // record and, as the hazard's before photo, on the hazard.
    let photo = std::env::temp_dir().join(format!("ht-check-{}.png", uuid::Uuid::new_v4()));
    std::fs::write(&photo, png(160, 120, 7)).unwrap();
    browser.choose_file("#abnormal-photos", &photo).await;
    browser.wait_for("#abnormal-thumbs img").await;
    browser.click("#abnormal-form button[type=submit]").await;
    browser.wait_for_text("#notice", "已生成隐患").await;
    let occurrences = app
        .get(&format!(
            "/api/v1/check-tasks/{task}/occurrences?from={}&until={}",
            crate::helpers::days_from_today(-4),
            crate::helpers::days_from_today(1)
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    let abnormal = occurrences["items"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|o| {
            o["record"]
                .as_object()
                .filter(|r| r["outcome"] == "abnormal")
        })
        .expect("the abnormal record")
        .clone();
    let on_record = app
        .get(&format!(
            "/api/v1/check-records/{}/photos",
            abnormal["id"].as_str().unwrap()
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(on_record.as_array().map(Vec::len), Some(1), "{on_record}");
    let on_hazard = app
        .get(&format!(
            "/api/v1/hazards/{}/attachments",
            abnormal["hazard_id"].as_str().unwrap()
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    let before: Vec<_> = on_hazard["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["phase"] == "before")
        .collect();
    assert_eq!(before.len(), 1, "{on_hazard}");

    // The last one while its request cannot get through: kept, then sent
    // once.
    browser.command_cdp("Network.enable", json!({})).await;
    browser
        .command_cdp("Network.setBlockedURLs", json!({"urls": ["*/records*"]}))
        .await;
    browser
        .click(r#"#duties li[data-status="missed"] button[data-outcome="normal"]"#)
        .await;
    browser.wait_for_text("#notice", "已保存在本机").await;
    browser.wait_for_text("#duties", "待发送").await;
    browser
        .command_cdp("Network.setBlockedURLs", json!({"urls": []}))
        .await;
    browser.reload().await;
    browser.wait_for_text("#notice", "已发送").await;

    // A 包保责任人's weekly duty check: an abnormal one asks which of the
    // published duties were not carried out, before anything is sent.
    let source = created(
        &app,
        &park.contact_a,
        "/api/v1/major-sources",
        json!({
            "enterprise_id": park.enterprise_a,
            "code": "320500-0021",
            "name": "甲醇罐区",
            "unit_kind": "storage",
            "alpha": 1.0,
            "chemicals": [{"name": "甲醇", "quantity_t": 1000.0, "critical_t": 500.0, "beta": 1.0}],
        }),
    )
    .await;
    let me = app
        .get("/api/v1/auth/me")
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json["id"]
        .clone();
    let person = created(
        &app,
        &park.contact_a,
        &format!("/api/v1/major-sources/{}/persons", id_of(&source)),
        json!({"kind": "operational", "name": "李班长", "post": "班长", "phone": "13800000001", "user_id": me}),
    )
    .await;
    browser.reload().await;
    browser
        .wait_for_text("#duties", "操作负责人包保履职排查")
        .await;
    browser
        .click(r#"#duties li[data-kind="duty_operational"] button[data-outcome="abnormal"]"#)
        .await;
    browser.wait_for("#abnormal-duties:not([hidden])").await;
    browser.type_into("#abnormal-location", "甲醇罐区").await;
    browser
        .script(
            "document.querySelector('#abnormal-category').value = arguments[0]; \
             document.querySelector('#abnormal-deadline').value = arguments[1];",
            json!(["unsafe_condition", crate::helpers::days_from_today(7)]),
        )
        .await;
    browser.click("#abnormal-form button[type=submit]").await;
    browser
        .wait_for_text("#abnormal-duties-error", "请选择未落实的包保职责")
        .await;
    assert_eq!(browser.axe().await, Vec::<String>::new(), "duty check form");
    browser.resize(390, 2000).await;
    browser
        .screenshot(&screenshot_path(&app, "checks-duty-390-full.png"))
        .await;
    browser.resize(390, 844).await;
    browser.click("#abnormal-duty-2").await;
    browser.click("#abnormal-form button[type=submit]").await;
    browser.wait_for_text("#notice", "已生成隐患").await;
    let duty_task = person["task_id"].as_str().unwrap();
    // An operator's duty is weekly, its occurrence starting on Monday: the
    // week's occurrences, whatever today is.
    let monday = days_from_today(-i64::from(
        chrono::Datelike::weekday(
            &chrono::NaiveDate::parse_from_str(&days_from_today(0), "%Y-%m-%d").unwrap(),
        )
        .num_days_from_monday(),
    ));
    let duty = app
        .get(&format!(
            "/api/v1/check-tasks/{duty_task}/occurrences?from={monday}&until={}",
            days_from_today(1)
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    let recorded = duty["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| !o["record"].is_null())
        .unwrap_or_else(|| panic!("no occurrence recorded: {duty}"));
    assert_eq!(recorded["record"]["failed_items"], json!([2]), "{duty}");

    browser.resize(1920, 1080).await;
    browser
        .screenshot(&screenshot_path(&app, "checks-1920x1080.png"))
        .await;

    // The hazard it became names the source, the duty task and the
    // measure not carried out.
    let hazard = recorded["record"]["hazard_id"].as_str().unwrap();
    browser
        .script(
            "location.hash = arguments[0];",
            json!([format!("#/hazard/{hazard}")]),
        )
        .await;
    let facts = browser
        .wait_for_text("#facts", "甲醇罐区（320500-0021")
        .await;
    assert!(facts.contains("未落实的管控措施"), "{facts}");

    // The source on its page: its grade, the person in office, the two
    // kinds nobody holds and the drills due (none recorded: due today).
    browser.click("#nav-sources").await;
    browser.wait_for_text("#source-list", "甲醇罐区").await;
    let card = browser.text("#source-list").await;
    assert!(card.contains("李班长") && card.contains("四级"), "{card}");
    assert_eq!(card.matches("未明确").count(), 2, "{card}");
    assert!(card.contains("专项应急预案演练"), "{card}");
    let overdue = browser
        .script(
            "return document.querySelectorAll('#source-list .dates li.overdue').length;",
            json!([]),
        )
        .await;
    assert_eq!(overdue, json!(2), "both drills are due today, in red");
    assert_eq!(browser.axe().await, Vec::<String>::new(), "重大危险源");
    browser
        .screenshot(&screenshot_path(&app, "sources-1920x1080.png"))
        .await;
    browser.resize(390, 844).await;
    browser
        .screenshot(&screenshot_path(&app, "sources-390x844.png"))
        .await;
    assert_eq!(
        small_targets(&browser).await,
        Vec::<String>::new(),
        "重大危险源 on a phone"
    );

    // The contact keeps the source from its card: a person left out is
    // named before anything is sent, then the technical person appointed.
    browser
        .click("#source-list li[data-source] .source-actions summary")
        .await;
    browser
        .click("#source-list li[data-source] .source-actions form button[type=submit]")
        .await;
    let named = browser
        .wait_for_text("#source-list .source-actions form", "请填写姓名")
        .await;
    assert!(
        named.contains("请填写职务") && named.contains("请填写联系电话"),
        "{named}"
    );
    browser
        .script(
            "const form = document.querySelector('#source-list .source-actions form'); \
             form.kind.value = 'technical'; form.name.value = '王工'; \
             form.post.value = '技术部长'; form.phone.value = '13800000002';",
            json!([]),
        )
        .await;
    browser
        .click("#source-list li[data-source] .source-actions form button[type=submit]")
        .await;
    browser.wait_for_text("#notice", "包保责任人已任命").await;
    let card = browser.text("#source-list").await;
    assert!(card.contains("王工（技术部长）"), "{card}");
    assert_eq!(card.matches("未明确").count(), 1, "{card}");

    // Registering a source: the blanks are named at once; chemicals that
    // do not make a major source are refused beside them.
    browser.click("#source-new summary").await;
    browser.click("#source-form button[type=submit]").await;
    let blanks = browser
        .wait_for_text("#source-form", "请填写重大危险源编号")
        .await;
    for named in ["请填写名称", "请填写危险化学品品名", "请填写临界量"] {
        assert!(blanks.contains(named), "{named}: {blanks}");
    }
    browser.resize(390, 2400).await;
    browser
        .screenshot(&screenshot_path(&app, "sources-register-390-full.png"))
        .await;
    browser.resize(390, 844).await;
    assert_eq!(
        small_targets(&browser).await,
        Vec::<String>::new(),
        "the source forms on a phone"
    );
    browser.type_into("#source-code", "320500-0022").await;
    browser.type_into("#source-name", "液氯库").await;
    browser.type_into("#chem-name", "氯").await;
    browser.type_into("#chem-q", "0.5").await;
    browser.type_into("#chem-critical", "5").await;
    browser.click("#source-form button[type=submit]").await;
    browser
        .wait_for("#source-chemical p.error[data-error=chemicals]:not(:empty)")
        .await;
    browser
        .script("document.querySelector('#chem-q').value = '20';", json!([]))
        .await;
    browser.click("#source-form button[type=submit]").await;
    browser.wait_for_text("#notice", "已登记：液氯库").await;
    browser.wait_for_text("#source-list", "液氯库").await;
    // A notice belongs to the page it was raised on.
    browser.click("#nav-checks").await;
    browser.wait_for("#view-checks:not([hidden])").await;
    assert_eq!(browser.text("#notice").await, "", "the notice stays behind");
    browser.click("#nav-sources").await;
    browser.wait_for_text("#source-list", "液氯库").await;
    assert_eq!(browser.axe().await, Vec::<String>::new(), "source forms");
    browser.resize(390, 2400).await;
    browser
        .screenshot(&screenshot_path(&app, "sources-forms-390-full.png"))
        .await;
    browser.resize(1920, 1080).await;
    browser
        .screenshot(&screenshot_path(&app, "sources-forms-1920x1080.png"))
        .await;

    // The placard opens from the card, styled under the workspace's
    // policy, and the way back is the browser's.
    browser
        .click("#source-list li[data-source] [data-placard]")
        .await;
    browser
        .wait_for_text("h1", "重大危险源安全包保责任公示牌")
        .await;
    let colour = browser
        .script(
            "return getComputedStyle(document.querySelector('h1')).color;",
            json!([]),
        )
        .await;
    assert_eq!(colour, json!("rgb(183, 28, 28)"), "the stylesheet applies");
    assert_no_policy_violation(&browser).await;
    browser.script("history.back();", json!([])).await;
    browser.wait_for_text("#source-list", "液氯库").await;

    let list = app
        .get(&format!(
            "/api/v1/check-tasks/{task}/occurrences?from={}&until={}",
            crate::helpers::days_from_today(-4),
            crate::helpers::days_from_today(2)
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    let recorded: Vec<(u64, String, bool)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| !o["record"].is_null())
        .map(|o| {
            (
                o["occurrence"].as_u64().unwrap(),
                o["record"]["outcome"].as_str().unwrap().to_owned(),
                o["record"]["hazard_id"].is_string(),
            )
        })
        .collect();
    assert_eq!(
        recorded,
        [
            (0, "abnormal".to_owned(), true),
            (1, "normal".to_owned(), false),
            (2, "normal".to_owned(), false)
        ],
        "{list}"
    );

    // The register: the tree with its levels, checked from Excel first,
    // then imported.
    browser.resize(390, 844).await;
    browser.click("#nav-register").await;
    browser.wait_for_text("#register-tree", "甲醇储罐").await;
    browser.wait_for("#register-tree .badge.risk").await;
    assert_eq!(browser.axe().await, Vec::<String>::new(), "风险清单");
    assert_eq!(
        small_targets(&browser).await,
        Vec::<String>::new(),
        "风险清单 on a phone"
    );
    browser
        .screenshot(&screenshot_path(&app, "register-390x844.png"))
        .await;
    let sheet = std::env::temp_dir().join(format!("ht-register-{}.xlsx", uuid::Uuid::new_v4()));
    std::fs::write(&sheet, crate::register_import::kept_register()).unwrap();
    browser.choose_file("#register-file", &sheet).await;
    browser.click("#register-import button[type=submit]").await;
    browser.wait_for_text("#register-report", "共 4 行").await;
    browser.wait_for("#register-commit:not([disabled])").await;
    browser.click("#register-commit").await;
    browser.wait_for_text("#notice", "已导入").await;
    browser
        .wait_for_text("#register-tree", "储罐泄漏引发火灾")
        .await;
    // Kept on the page: a unit's responsible person changed, then a
    // measure taken out of the register, with a reason, asked first.
    let unit_tools = "#register-tree .units > li > details.node-tools";
    browser.click(&format!("{unit_tools} > summary")).await;
    browser
        .type_into(
            &format!("{unit_tools} input[name=responsible_person]"),
            "李工",
        )
        .await;
    browser
        .click(&format!("{unit_tools} form button[type=submit]"))
        .await;
    browser.wait_for_text("#notice", "已修改").await;
    browser.wait_for_text("#register-tree", "责任人 李工").await;
    let measures_before = browser.text("#register-counts").await;
    let measure_tools = "#register-tree .measures > li > details.node-tools";
    browser.click(&format!("{measure_tools} > summary")).await;
    browser
        .click(&format!(
            "{measure_tools} form.quick:last-child button[type=submit]"
        ))
        .await;
    browser
        .wait_for_text(
            &format!("{measure_tools} form.quick:last-child"),
            "请填写移出理由",
        )
        .await;
    browser
        .type_into(
            &format!("{measure_tools} textarea[name=reason]"),
            "措施已由新工艺取代",
        )
        .await;
    browser
        .click(&format!(
            "{measure_tools} form.quick:last-child button[type=submit]"
        ))
        .await;
    browser
        .wait_for_text("#confirm-title", "移出管控措施")
        .await;
    browser
        .screenshot(&screenshot_path(
            &app,
            "register-retire-confirm-390x844.png",
        ))
        .await;
    browser.click("#confirm-ok").await;
    browser.wait_for_text("#notice", "已移出清单").await;
    // The tree is read again: one measure fewer.
    let measures = |counts: &str| -> u64 {
        let tail = &counts[counts.find("管控措施 ").unwrap() + "管控措施 ".len()..];
        tail[..tail.find(' ').unwrap()].parse().unwrap()
    };
    browser
        .wait_for_text(
            "#register-counts",
            &format!("管控措施 {} 项", measures(&measures_before) - 1),
        )
        .await;
    browser.resize(1920, 1080).await;
    browser
        .screenshot(&screenshot_path(&app, "register-1920x1080.png"))
        .await;
    assert_no_policy_violation(&browser).await;
    browser.close().await;
}
