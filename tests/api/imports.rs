//! Ledger import: tolerant headers and dates, a dry run that writes nothing
//! (as JSON and as the annotated workbook), an all-or-nothing real run,
//! the same file twice, history at the ledger's dates, an export imported
//! back, GB18030 CSV, files that are refused whole (a cell far out before
//! anything is sized from it), and an upload that stalls.

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use serde_json::{json, Value};

use crate::helpers::evidence::{multipart, multipart_content_type, upload_to, Part};
use crate::helpers::{credit_code, general_hazard, spawn_app_with, Backend, TestApp};
use crate::{backend_tests, configured_tests};

backend_tests!(
    a_ledger_imports_all_or_nothing_and_once,
    files_that_are_not_ledgers_are_refused_whole,
    the_template_and_an_export_import_as_they_are,
    enterprise_lists_import_once_with_their_codes_checked,
    a_workbook_as_parks_keep_them_imports,
    a_far_cell_is_refused_before_anything_is_sized_from_it,
);

configured_tests!(a_stalled_upload_is_cut);

async fn enterprise(app: &TestApp, token: &str, id: uuid::Uuid) -> Value {
    app.get(&format!("/api/v1/enterprises/{id}"))
        .token(token)
        .send()
        .await
        .expect(200)
        .json
}

async fn import(
    app: &TestApp,
    token: &str,
    query: &str,
    name: &str,
    bytes: Vec<u8>,
) -> crate::helpers::Reply {
    let parts = [Part::file(name, "text/csv", bytes)];
    upload_to(app, token, &format!("/api/v1/imports{query}"), &parts).await
}

async fn hazard_count(app: &TestApp, token: &str) -> usize {
    app.get("/api/v1/hazards?limit=500")
        .token(token)
        .send()
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .len()
}

async fn get_bytes(app: &TestApp, token: &str, path: &str) -> Vec<u8> {
    let download = crate::helpers::evidence::download_from(app, token, path, None).await;
    assert_eq!(download.status, 200, "{path}");
    download.bytes
}

/// A ledger as parks keep them: a title row, headers that are not the
/// template's, dates in four forms.
fn ledger(name_a: &str, code_b: &str, extra: &str) -> String {
    format!(
        "某化工园区2024年隐患排查治理台账,,,,,,,,,,,,,,,\n\
         序号,隐患编号,企业名称,统一社会信用代码,检查类型,隐患级别,隐患类别,隐患内容,地点,排查日期,整改时限,整改措施,责任人,资金(元),整改完成时间,验收日期,状态,检查单位\n\
         1,TZ-001,{name_a},,常驻专家检查,一般,物的不安全状态,储罐区可燃气体报警器失效,储罐区,2024/3/5,2024-03-20,更换报警器,李四,\"1,200.50\",2024.3.10,2024年3月12日,已销号\n\
         2,TZ-002,,{code_b},自查,一般隐患,管理缺陷,动火作业票未按规定审批,维修车间,45356,2024-04-30,重新培训,王五,,,,整改中\n\
         3,,{name_a},,园区检查,一般,人的不安全行为,巡检人员未佩戴安全帽,装置区,2024年5月6日,2024-05-20,,,,,,\n\
         4,TZ-004,{name_a},,自查,一般,管理缺陷,重复登记的隐患,办公楼,2024-06-01,2024-06-10,,,,,,已作废\n\
         {extra}"
    )
}

async fn a_ledger_imports_all_or_nothing_and_once(app: TestApp) {
    let park = app.park().await;
    let a = enterprise(&app, &park.supervisor, park.enterprise_a).await;
    let b = enterprise(&app, &park.supervisor, park.enterprise_b).await;
    let (name_a, code_b) = (
        a["name"].as_str().unwrap(),
        b["credit_code"].as_str().unwrap(),
    );
    // A mutual check names the enterprise that did the checking.
    let mutual = format!(
        "5,TZ-005,{name_a},,企业互查,一般,管理缺陷,互查发现的隐患,码头,2024-08-01,2024-08-15,,,,,,,{}\n",
        b["name"].as_str().unwrap()
    );
    let good = ledger(name_a, code_b, &mutual);
    let before = hazard_count(&app, &park.supervisor).await;

    // Only supervision imports.
    import(
        &app,
        &park.expert,
        "",
        "台账.csv",
        good.clone().into_bytes(),
    )
    .await
    .expect_problem(403);

    // A dry run says row by row what would happen, and writes nothing.
    let dry = import(
        &app,
        &park.supervisor,
        "?dry_run=true",
        "台账.csv",
        good.clone().into_bytes(),
    )
    .await
    .expect(200)
    .json;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["id"], Value::Null);
    let statuses: Vec<&str> = dry["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "would_create",
            "would_create",
            "would_create",
            "skipped",
            "would_create"
        ],
        "{dry}"
    );
    assert_eq!(dry["results"][0]["row"], 3, "rows as the file numbers them");
    assert_eq!(dry["results"][0]["key"], "TZ-001");
    assert!(dry["results"][2]["key"]
        .as_str()
        .unwrap()
        .starts_with("fp:"));
    assert_eq!(hazard_count(&app, &park.supervisor).await, before);

    // One bad row: the dry run names its columns in Chinese; the real run
    // refuses the whole file.
    let bad = ledger(
        name_a,
        code_b,
        &format!(
            "{mutual}6,TZ-006,没有这家公司,,上级检查,一般,管理缺陷,x,y,2024-02-30,2024-03-01,,,,,,\n\
             7,TZ-007,{name_a},,互查,一般,管理缺陷,没写检查单位,码头,2024-08-02,2024-08-15\n"
        ),
    );
    let checked = import(
        &app,
        &park.supervisor,
        "?dry_run=true",
        "台账.csv",
        bad.clone().into_bytes(),
    )
    .await
    .expect(200)
    .json;
    assert_eq!(checked["errors"], 2);
    assert_eq!(
        checked["results"][6]["errors"],
        json!([{"column": "检查单位", "reason": "企业互查须写明做检查的企业"}])
    );
    let errors = &checked["results"][5]["errors"];
    let columns: Vec<&str> = errors
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["column"].as_str().unwrap())
        .collect();
    assert!(
        columns.contains(&"企业名称")
            && columns.contains(&"检查类型")
            && columns.contains(&"发现时间"),
        "{errors}"
    );
    assert!(errors.to_string().contains("不是存在的日期"), "{errors}");
    let refused = import(
        &app,
        &park.supervisor,
        "",
        "台账.csv",
        bad.clone().into_bytes(),
    )
    .await
    .expect_problem(422)
    .json;
    assert!(refused["errors"]["第8行.企业名称"].is_string(), "{refused}");
    assert_eq!(
        hazard_count(&app, &park.supervisor).await,
        before,
        "nothing written"
    );

    // The annotated workbook: the file as sent, with 错误原因.
    let workbook = app
        .client
        .post(format!(
            "{}/api/v1/imports?dry_run=true&format=xlsx",
            app.address
        ))
        .insert_header(("Authorization", format!("Bearer {}", park.supervisor)))
        .insert_header((
            "Content-Type",
            crate::helpers::evidence::multipart_content_type(),
        ))
        .send_body(crate::helpers::evidence::multipart(&[Part::file(
            "台账.csv",
            "text/csv",
            bad.into_bytes(),
        )]))
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(workbook.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(header.last().unwrap(), "错误原因");
    let reasons: Vec<String> = range
        .rows()
        .map(|row| row.last().unwrap().to_string())
        .collect();
    assert!(
        reasons[reasons.len() - 2].contains("企业名称"),
        "{reasons:?}"
    );
    assert!(
        reasons[reasons.len() - 1].contains("检查单位"),
        "{reasons:?}"
    );
    assert_eq!(reasons[1], "", "a good row has no reason");

    // The real run: four hazards, the voided row skipped.
    let done = import(
        &app,
        &park.supervisor,
        "",
        "台账.csv",
        good.clone().into_bytes(),
    )
    .await
    .expect(201);
    let report = done.json;
    assert_eq!(
        (report["created"].as_u64(), report["skipped"].as_u64()),
        (Some(4), Some(1))
    );
    let id = report["id"].as_str().unwrap().to_owned();
    assert_eq!(
        done.headers.get("location").unwrap(),
        format!("/api/v1/imports/{id}").as_str()
    );
    let stored = app
        .get(&format!("/api/v1/imports/{id}"))
        .token(&park.admin)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(stored["results"], report["results"]);
    assert_eq!(hazard_count(&app, &park.supervisor).await, before + 4);

    // A rectified row is a closed hazard with its history at its dates,
    // each step an entered record of the import.
    let closed_id = report["results"][0]["hazard_id"].as_str().unwrap();
    let closed = app
        .get(&format!("/api/v1/hazards/{closed_id}"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(closed["state"], "closed");
    assert_eq!(closed["deadline"], "2024-03-20");
    assert_eq!(closed["enterprise_id"], park.enterprise_a.to_string());
    let events = app
        .get(&format!("/api/v1/hazards/{closed_id}/events"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json["items"]
        .clone();
    let steps: Vec<(&str, &str)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                &e["occurred_at"].as_str().unwrap()[..10],
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("report", "2024-03-05"),
            ("plan", "2024-03-05"),
            ("submit", "2024-03-10"),
            ("accept", "2024-03-12")
        ]
    );
    for event in events.as_array().unwrap() {
        assert_eq!(event["entered_late"], true);
        assert_eq!(event["details"]["imported"]["import_id"], id.as_str());
        assert_eq!(event["actor_role"], "supervisor");
    }
    // The Excel serial and the credit code found the second row's day and
    // enterprise; it is being rectified.
    let open_id = report["results"][1]["hazard_id"].as_str().unwrap();
    let open = app
        .get(&format!("/api/v1/hazards/{open_id}"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(open["state"], "rectifying");
    assert_eq!(open["enterprise_id"], park.enterprise_b.to_string());
    assert_eq!(&open["found_at"].as_str().unwrap()[..10], "2024-03-05");
    assert_eq!(open["source"], "self_check");
    let mutual_id = report["results"][4]["hazard_id"].as_str().unwrap();
    let mutual = app
        .get(&format!("/api/v1/hazards/{mutual_id}"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(mutual["source"], "mutual_check");
    assert_eq!(
        mutual["checking_enterprise_id"],
        park.enterprise_b.to_string()
    );

    // The same file again creates nothing, and says so per row.
    let again = import(&app, &park.supervisor, "", "台账.csv", good.into_bytes())
        .await
        .expect(201)
        .json;
    assert_eq!(
        (again["created"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(4))
    );
    assert_eq!(
        again["results"][0]["hazard_number"],
        report["results"][0]["hazard_number"]
    );
    assert_eq!(hazard_count(&app, &park.supervisor).await, before + 4);
}

/// A stored zip whose directory says its one part inflates to `claimed`
/// bytes: how a zip bomb announces itself.
fn zip_claiming(claimed: u32) -> Vec<u8> {
    let name = b"xl/workbook.xml";
    let data = b"<x/>";
    let crc = 0u32;
    let mut out = Vec::new();
    let local = |out: &mut Vec<u8>| {
        out.extend(b"PK\x03\x04");
        out.extend(20u16.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(0u16.to_le_bytes()); // stored
        out.extend(0u32.to_le_bytes()); // time, date
        out.extend(crc.to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
        out.extend(claimed.to_le_bytes());
        out.extend((name.len() as u16).to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(name);
        out.extend(data);
    };
    local(&mut out);
    let directory_at = out.len() as u32;
    out.extend(b"PK\x01\x02");
    out.extend(20u16.to_le_bytes());
    out.extend(20u16.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(0u32.to_le_bytes());
    out.extend(crc.to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out.extend(claimed.to_le_bytes());
    out.extend((name.len() as u16).to_le_bytes());
    out.extend([0u8; 12]); // extra, comment, disk, attributes
    out.extend(0u32.to_le_bytes()); // local header offset
    out.extend(name);
    let directory_len = out.len() as u32 - directory_at;
    out.extend(b"PK\x05\x06");
    out.extend([0u8; 4]);
    out.extend(1u16.to_le_bytes());
    out.extend(1u16.to_le_bytes());
    out.extend(directory_len.to_le_bytes());
    out.extend(directory_at.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

async fn files_that_are_not_ledgers_are_refused_whole(app: TestApp) {
    let park = app.park().await;
    let token = &park.admin;
    let before = hazard_count(&app, token).await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    import(&app, token, "", "台账.xlsx", png)
        .await
        .expect_problem(415);
    import(
        &app,
        token,
        "",
        "台账.xlsx",
        b"PK\x03\x04 not a zip at all".to_vec(),
    )
    .await
    .expect_problem(422);
    let bomb = import(&app, token, "", "台账.xlsx", zip_claiming(3_000_000_000))
        .await
        .expect_problem(413)
        .json;
    assert!(bomb["detail"].as_str().unwrap().contains("解压"), "{bomb}");

    // A header cell merged across columns, or a ledger without a column
    // every hazard needs.
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let bold = rust_xlsxwriter::Format::new();
    sheet.merge_range(0, 0, 0, 1, "隐患描述", &bold).unwrap();
    for (col, name) in ["隐患部位", "发现时间", "整改期限", "企业名称"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, col as u16 + 2, *name).unwrap();
    }
    sheet.write_string(1, 0, "x").unwrap();
    let merged = import(
        &app,
        token,
        "",
        "台账.xlsx",
        workbook.save_to_buffer().unwrap(),
    )
    .await
    .expect_problem(422)
    .json;
    assert!(
        merged["errors"]["file"]
            .as_str()
            .unwrap()
            .contains("合并单元格"),
        "{merged}"
    );
    let missing = import(
        &app,
        token,
        "",
        "台账.csv",
        "企业名称,隐患描述,隐患部位\n甲,漏,罐区\n"
            .as_bytes()
            .to_vec(),
    )
    .await
    .expect_problem(422)
    .json;
    assert!(
        missing["errors"]["file"]
            .as_str()
            .unwrap()
            .contains("缺少“发现时间”列"),
        "{missing}"
    );
    let no_parts = app
        .post("/api/v1/imports")
        .token(token)
        .raw(
            &crate::helpers::evidence::multipart_content_type(),
            crate::helpers::evidence::multipart(&[Part::text("note", "x")]),
        )
        .send()
        .await
        .expect_problem(422)
        .json;
    assert!(no_parts["errors"]["note"].is_string(), "{no_parts}");

    // GB18030, as Chinese Excel saves CSV, reads as Chinese.
    let a = enterprise(&app, token, park.enterprise_a).await;
    let text = format!(
        "企业名称,检查类型,隐患类别,隐患描述,隐患部位,发现时间,整改期限\n{},企业自查,管理缺陷,消防通道堵塞,仓库,2024-07-01,2024-07-05\n",
        a["name"].as_str().unwrap()
    );
    let (gb, _, _) = encoding_rs::GB18030.encode(&text);
    let read = import(&app, token, "?dry_run=true", "台账.csv", gb.into_owned())
        .await
        .expect(200)
        .json;
    assert_eq!(read["results"][0]["status"], "would_create", "{read}");
    assert_eq!(hazard_count(&app, token).await, before);
}

async fn the_template_and_an_export_import_as_they_are(app: TestApp) {
    let park = app.park().await;
    let template = get_bytes(&app, &park.supervisor, "/api/v1/imports/template.xlsx").await;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(template)).unwrap();
    assert_eq!(book.sheet_names(), ["隐患台账", "填写说明"]);
    let headers: Vec<String> = book
        .worksheet_range("隐患台账")
        .unwrap()
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();

    for _ in 0..3 {
        app.report(&park.expert, general_hazard(park.enterprise_a))
            .await;
    }
    let mut first = general_hazard(park.enterprise_b);
    first["description"] = json!("导出再导入");
    app.report(&park.expert, first).await;
    let export = get_bytes(&app, &park.supervisor, "/api/v1/hazards/export?format=xlsx").await;
    let mut exported: Xlsx<_> = Xlsx::new(Cursor::new(export.clone())).unwrap();
    let range = exported.worksheet_range_at(0).unwrap().unwrap();
    let export_headers: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        headers, export_headers,
        "the template is the export's layout"
    );

    let before = hazard_count(&app, &park.supervisor).await;
    let again = import(&app, &park.supervisor, "", "export.xlsx", export)
        .await
        .expect(201)
        .json;
    assert_eq!(again["created"], 0, "{again}");
    assert_eq!(again["unchanged"], 4);
    assert_eq!(hazard_count(&app, &park.supervisor).await, before);
}

async fn enterprise_lists_import_once_with_their_codes_checked(app: TestApp) {
    let park = app.park().await;
    let a = enterprise(&app, &park.admin, park.enterprise_a).await;
    let new_code = credit_code("imported enterprise");
    let list = |extra: &str| {
        format!(
            "园区企业名录,,,\n企业名称,统一社会信用代码,企业状态,联系人邮箱\n\
             新材料科技有限公司,{new_code},试生产,\"safety@xcl.example.cn、boss@xcl.example.cn\"\n\
             {},{},在产,\n{extra}",
            a["name"].as_str().unwrap(),
            a["credit_code"].as_str().unwrap().to_lowercase(),
        )
    };
    let enterprises = |token: &str| {
        let token = token.to_owned();
        let app = &app;
        async move {
            app.get("/api/v1/enterprises?limit=500")
                .token(&token)
                .send()
                .await
                .expect(200)
                .json["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    let before = enterprises(&park.admin).await;

    let bad = list("坏代码公司,91320500000000000X,注销,not-an-address\n");
    let checked = import(
        &app,
        &park.admin,
        "?kind=enterprises&dry_run=true",
        "名录.csv",
        bad.clone().into_bytes(),
    )
    .await
    .expect(200)
    .json;
    assert_eq!(checked["kind"], "enterprises");
    let statuses: Vec<&str> = checked["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["would_create", "unchanged", "error"],
        "{checked}"
    );
    let columns: Vec<&str> = checked["results"][2]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["column"].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        ["统一社会信用代码", "企业状态", "联系人邮箱"],
        "{checked}"
    );
    import(
        &app,
        &park.admin,
        "?kind=enterprises",
        "名录.csv",
        bad.into_bytes(),
    )
    .await
    .expect_problem(422);
    assert_eq!(enterprises(&park.admin).await, before, "nothing written");
    // Enterprises are supervision's to register, not an expert's.
    import(
        &app,
        &park.expert,
        "?kind=enterprises",
        "名录.csv",
        list("").into_bytes(),
    )
    .await
    .expect_problem(403);

    let done = import(
        &app,
        &park.admin,
        "?kind=enterprises",
        "名录.csv",
        list("").into_bytes(),
    )
    .await
    .expect(201)
    .json;
    assert_eq!(
        (done["created"].as_u64(), done["unchanged"].as_u64()),
        (Some(1), Some(1)),
        "{done}"
    );
    let id = done["results"][0]["enterprise_id"].as_str().unwrap();
    let created = app
        .get(&format!("/api/v1/enterprises/{id}"))
        .token(&park.admin)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(created["status"], "trial");
    assert_eq!(created["credit_code"], new_code);
    assert_eq!(
        created["contact_emails"],
        json!(["safety@xcl.example.cn", "boss@xcl.example.cn"])
    );
    assert_eq!(
        done["results"][1]["enterprise_id"],
        park.enterprise_a.to_string()
    );
    assert_eq!(enterprises(&park.admin).await, before + 1);

    let again = import(
        &app,
        &park.admin,
        "?kind=enterprises",
        "名录.csv",
        list("").into_bytes(),
    )
    .await
    .expect(201)
    .json;
    assert_eq!(
        (again["created"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(2))
    );
    let stored = app
        .get(&format!("/api/v1/imports/{}", done["id"].as_str().unwrap()))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(stored["kind"], "enterprises");
    assert_eq!(stored["results"], done["results"]);
}

/// A workbook as a park keeps it: a merged title row above the header,
/// headers that are not the template's (full-width brackets, spaces), a
/// real Excel date cell, a serial number and a text date; and a CSV with a
/// byte-order mark.
async fn a_workbook_as_parks_keep_them_imports(app: TestApp) {
    let park = app.park().await;
    let a = enterprise(&app, &park.admin, park.enterprise_a).await;
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let plain = rust_xlsxwriter::Format::new();
    let day = rust_xlsxwriter::Format::new().set_num_format("yyyy/m/d");
    sheet
        .merge_range(0, 0, 0, 7, "2024年度隐患排查治理台账", &plain)
        .unwrap();
    let headers = [
        "序号",
        "责任单位",
        "隐患来源",
        "隐患 类别",
        "存在问题",
        "隐患位置",
        "检查日期",
        "整改期限",
        "整改资金\u{FF08}万元\u{FF09}",
        "验收日期",
    ];
    for (col, name) in headers.iter().enumerate() {
        sheet.write_string(1, col as u16, *name).unwrap();
    }
    let name = a["name"].as_str().unwrap();
    let rows: [(&str, &str, &str); 2] = [
        ("常驻专家", "管理缺陷", "安全培训记录缺失"),
        ("园区督查", "物的不安全状态", "消防栓被遮挡"),
    ];
    for (i, (source, category, problem)) in rows.iter().enumerate() {
        let r = i as u32 + 2;
        sheet.write_number(r, 0, (i + 1) as f64).unwrap();
        sheet.write_string(r, 1, name).unwrap();
        sheet.write_string(r, 2, *source).unwrap();
        sheet.write_string(r, 3, *category).unwrap();
        sheet.write_string(r, 4, *problem).unwrap();
        sheet.write_string(r, 5, "二号仓库").unwrap();
        let found = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 4, 2).unwrap();
        sheet
            .write_datetime_with_format(r, 6, &found, &day)
            .unwrap();
        sheet.write_number(r, 7, 45400.0).unwrap(); // 2024-04-18
        sheet.write_number(r, 8, 0.35).unwrap();
        sheet.write_string(r, 9, "2024年4月10日").unwrap();
    }
    let bytes = workbook.save_to_buffer().unwrap();
    let done = import(&app, &park.supervisor, "", "台账.xlsx", bytes)
        .await
        .expect(201)
        .json;
    assert_eq!(done["created"], 2, "{done}");
    let id = done["results"][0]["hazard_id"].as_str().unwrap();
    let hazard = app
        .get(&format!("/api/v1/hazards/{id}"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(&hazard["found_at"].as_str().unwrap()[..10], "2024-04-02");
    assert_eq!(hazard["deadline"], "2024-04-18");
    assert_eq!(hazard["state"], "closed");
    assert_eq!(hazard["source"], "resident_expert");
    assert_eq!(hazard["category"], "management_defect");
    assert_eq!(hazard["plan"]["funds"], 3500.0, "{hazard}");

    let csv = format!(
        "\u{feff}企业名称,检查类型,隐患类别,隐患描述,隐患部位,发现时间,整改期限\n{name},自查,管理缺陷,应急物资过期,应急柜,2024-05-01,2024-05-03\n"
    );
    let read = import(&app, &park.supervisor, "", "台账.csv", csv.into_bytes())
        .await
        .expect(201)
        .json;
    assert_eq!(read["created"], 1, "{read}");

    // A day that has not come yet is refused, not moved to today.
    let future = format!(
        "企业名称,检查类型,隐患类别,隐患描述,隐患部位,发现时间,整改期限\n{name},自查,管理缺陷,未来的隐患,仓库,2099-01-01,2099-01-05\n"
    );
    let checked = import(
        &app,
        &park.supervisor,
        "?dry_run=true",
        "台账.csv",
        future.into_bytes(),
    )
    .await
    .expect(200)
    .json;
    assert_eq!(
        checked["results"][0]["errors"],
        json!([{"column": "发现时间", "reason": "不能晚于今天"}])
    );
}

/// A two-row hazard ledger as a workbook; with `far`, one more cell at
/// XFD1048576, the last cell a sheet has.
fn two_row_ledger(enterprise: &str, far: bool) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let rows = [
        [
            "企业名称",
            "检查类型",
            "隐患类别",
            "隐患描述",
            "隐患部位",
            "发现时间",
            "整改期限",
        ],
        [
            enterprise,
            "自查",
            "管理缺陷",
            "消防栓被遮挡",
            "二号仓库",
            "2024-05-01",
            "2024-05-20",
        ],
        [
            enterprise,
            "自查",
            "物的不安全状态",
            "应急物资过期",
            "应急柜",
            "2024-05-02",
            "2024-05-21",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *text).unwrap();
        }
    }
    if far {
        sheet.write_string(1_048_575, 16_383, "x").unwrap();
    }
    workbook.save_to_buffer().unwrap()
}

/// `workbook` with its part `name` rewritten by `change`.
fn with_part(workbook: &[u8], name: &str, change: impl Fn(String) -> String) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(Cursor::new(workbook)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let entry_name = entry.name().unwrap().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if entry_name == name {
            data = change(String::from_utf8(data).unwrap()).into_bytes();
        }
        out.start_file(entry_name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// One cell at the far corner of a sheet (a 5 KB file) is refused by the
/// row limit it passes, before anything is sized from it, and the service
/// answers on. A `<dimension>` that claims the whole grid is only a claim:
/// the sheet is read by its cells, so a ledger whose cells are within the
/// limits is accepted whatever its dimension says.
async fn a_far_cell_is_refused_before_anything_is_sized_from_it(app: TestApp) {
    let park = app.park().await;
    let a = enterprise(&app, &park.supervisor, park.enterprise_a).await;
    let name = a["name"].as_str().unwrap();

    let far = two_row_ledger(name, true);
    assert!(far.len() < 8 * 1024, "{} bytes", far.len());
    let refused = import(&app, &park.supervisor, "?dry_run=true", "台账.xlsx", far)
        .await
        .expect_problem(422)
        .json;
    let reason = refused["errors"]["file"].as_str().unwrap();
    assert!(reason.contains("行的上限"), "{refused}");
    assert!(reason.contains("XFD1048576"), "{refused}");
    app.get("/readyz").send().await.expect(200);

    let claimed = with_part(
        &two_row_ledger(name, false),
        "xl/worksheets/sheet1.xml",
        |xml| {
            assert!(xml.contains("<dimension ref=\"A1:G3\"/>"), "{xml}");
            xml.replace(
                "<dimension ref=\"A1:G3\"/>",
                "<dimension ref=\"A1:XFD1048576\"/>",
            )
        },
    );
    let checked = import(
        &app,
        &park.supervisor,
        "?dry_run=true",
        "台账.xlsx",
        claimed.clone(),
    )
    .await
    .expect(200)
    .json;
    let statuses: Vec<&str> = checked["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["would_create", "would_create"], "{checked}");
    assert_eq!(checked["results"][0]["row"], 2, "{checked}");
    // The annotated workbook reads the file again.
    let annotated = app
        .client
        .post(format!(
            "{}/api/v1/imports?dry_run=true&format=xlsx",
            app.address
        ))
        .insert_header(("Authorization", format!("Bearer {}", park.supervisor)))
        .insert_header((
            "Content-Type",
            crate::helpers::evidence::multipart_content_type(),
        ))
        .send_body(crate::helpers::evidence::multipart(&[Part::file(
            "台账.xlsx",
            "application/octet-stream",
            claimed,
        )]))
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(annotated.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(range.get_size(), (3, 9), "the ledger and two columns");
    app.get("/readyz").send().await.expect(200);
}

/// An import whose body stalls is cut with `408`, as an attachment's is,
/// and the service answers on.
async fn a_stalled_upload_is_cut(backend: Backend) {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let app = spawn_app_with(backend, |settings| {
        settings.server.body_idle_timeout_secs = 1;
    })
    .await;
    let park = app.park().await;
    let ledger = "企业名称,隐患描述,隐患部位,发现时间\n".to_owned()
        + &"甲公司,阀门泄漏,罐区,2024-03-05\n".repeat(200);
    let body = multipart(&[Part::file("台账.csv", "text/csv", ledger.into_bytes())]);
    // Half a body, then silence, with the connection kept open.
    let address = app.address.trim_start_matches("http://").to_owned();
    let head = format!(
        "POST /api/v1/imports?dry_run=true HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        park.supervisor,
        multipart_content_type(),
        body.len()
    );
    let started = Instant::now();
    let response = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
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
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    app.get("/readyz").send().await.expect(200);
}
