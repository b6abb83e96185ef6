//! The park's screens under `/app/`, in a real browser: Debian's Chromium,
//! headless, loads the wall-screen dashboard with a display key, runs its
//! module under the strict policy and shows the figures (user text as
//! text, never markup); revoked, the key blanks the screen.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{credit_code, general_hazard, major_hazard, TestApp};

backend_tests!(the_dashboard_shows_the_figures_in_a_browser_until_its_key_is_revoked);

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
    let issued = app
        .post("/api/v1/display-keys")
        .token(&park.admin)
        .json(&json!({
            "name": "中控室大屏",
            "expires_at": (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339(),
        }))
        .send()
        .await
        .expect(201)
        .json;
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
    assert!(dom.contains("待制定方案"), "{dom}");
    assert!(
        !dom.contains(major["description"].as_str().unwrap()),
        "no details"
    );
    assert!(
        dom.contains("蓝色(低风险)"),
        "grade colours carry their names"
    );
    assert!(!dom.contains(r#"id="board" hidden"#), "the board is shown");

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
