//! The hazard ledger export: the list's filters and scoping, the ledger's
//! columns, CSV a spreadsheet reads (BOM, inert formulas) and a workbook.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{general_hazard, id_of, TestApp};

backend_tests!(the_ledger_exports_what_the_list_selects);

async fn bytes(app: &TestApp, token: &str, query: &str) -> Vec<u8> {
    app.client
        .get(format!("{}/api/v1/hazards/export?{query}", app.address))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .unwrap()
        .body()
        .limit(10 << 20)
        .await
        .unwrap()
        .to_vec()
}

async fn the_ledger_exports_what_the_list_selects(app: TestApp) {
    let park = app.park().await;
    let mut first = general_hazard(park.enterprise_a);
    first["title"] = json!("=HYPERLINK(\"http://x\")");
    let first = id_of(&app.report(&park.expert, first).await);
    app.post(&format!("/api/v1/hazards/{first}/plan"))
        .token(&park.contact_a)
        .json(&json!({"measures": "更换报警器", "responsible_person": "李四", "funds": 1200.5}))
        .send()
        .await
        .expect(200);
    app.report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    app.report(&park.expert, general_hazard(park.enterprise_b))
        .await;

    let csv = bytes(&app, &park.supervisor, "format=csv").await;
    assert!(
        csv.starts_with("\u{feff}".as_bytes()),
        "a BOM for spreadsheets"
    );
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(headers.len(), 21);
    assert_eq!(headers[20], "检查单位", "a later column goes last");
    assert_eq!(&headers[..3], ["隐患编号", "企业名称", "统一社会信用代码"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[0][0].ends_with("000001"), "oldest first");
    assert_eq!(
        &rows[0][8], "'=HYPERLINK(\"http://x\")",
        "a formula is inert"
    );
    assert_eq!(&rows[0][3], "常驻专家检查");
    assert_eq!(&rows[0][13], "更换报警器");
    assert_eq!(&rows[0][15], "1200.5");
    assert_eq!(&rows[0][17], "整改中");

    let own = bytes(&app, &park.contact_a, "format=csv").await;
    let own = String::from_utf8(own[3..].to_vec()).unwrap();
    assert_eq!(
        own.lines().count(),
        3,
        "the contact's own two and the header"
    );
    let filtered = bytes(
        &app,
        &park.supervisor,
        &format!("format=csv&enterprise_id={}", park.enterprise_b),
    )
    .await;
    assert_eq!(
        String::from_utf8(filtered[3..].to_vec())
            .unwrap()
            .lines()
            .count(),
        2
    );

    let xlsx = bytes(&app, &park.supervisor, "").await;
    use calamine::Reader;
    let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(xlsx)).expect("a workbook");
    let sheet = workbook.worksheet_range("隐患台账").unwrap();
    assert_eq!(sheet.rows().count(), 4);
    assert_eq!(sheet.rows().next().unwrap()[0].to_string(), "隐患编号");

    app.get("/api/v1/hazards/export")
        .token(&park.viewer)
        .send()
        .await
        .expect_problem(403);
    app.get("/api/v1/hazards/export?format=pdf")
        .token(&park.supervisor)
        .send()
        .await
        .expect_problem(400);
}
