//! A risk register imported from the spreadsheet an enterprise keeps,
//! through HTTP on both backends: merged cells, a title row and factors in
//! columns of their own; a dry run that writes nothing; an all-or-nothing
//! real run; the same file again adding nothing; a file in error refused
//! whole with every problem named; the register's export imported into
//! another enterprise as it is; and another enterprise's register out of
//! reach.

use serde_json::json;
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::evidence::{upload_to, Part};
use crate::helpers::TestApp;
use crate::risk::register;

backend_tests!(a_register_kept_in_excel_imports_once_and_all_or_nothing);

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A workbook of `rows` under a title row, as enterprises keep registers.
fn workbook(rows: &[&[&str]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .write_string(0, 0, "某化工公司安全风险分级管控清单")
        .unwrap();
    for (r, cells) in rows.iter().enumerate() {
        for (c, text) in cells.iter().enumerate() {
            if !text.is_empty() {
                sheet.write_string(r as u32 + 1, c as u16, *text).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

const HEADER: &[&str] = &[
    "序号",
    "风险分析对象",
    "对象类型",
    "风险分析单元",
    "责任部门",
    "责任人",
    "安全风险事件",
    "可能后果",
    "评价方法",
    "L",
    "S",
    "评价取值",
    "管控措施",
    "管控措施分类",
    "管控方式",
    "排查内容",
];

/// Two objects, two units, three events and four measures; the object,
/// unit and event cells merged (blank below their first row).
pub(crate) fn kept_register() -> Vec<u8> {
    workbook(&[
        HEADER,
        &[
            "1",
            "1号罐区",
            "设施",
            "甲醇储罐",
            "储运部",
            "王工",
            "储罐泄漏引发火灾",
            "人员伤亡",
            "风险矩阵法",
            "4",
            "5",
            "",
            "可燃气体检测报警器",
            "工程技术／安全仪表",
            "隐患排查",
            "报警器投用正常，校验在有效期内",
        ],
        &[
            "2",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "罐区围堰",
            "工程技术/其他",
            "隐患排查",
            "围堰完好无破损",
        ],
        &[
            "3",
            "",
            "",
            "",
            "",
            "",
            "人员烫伤",
            "",
            "LEC",
            "",
            "",
            "L=1，E=6，C=7",
            "佩戴防护用品",
            "操作行为/其他",
            "隐患排查",
            "检查防护用品",
        ],
        &[
            "4",
            "合成车间",
            "生产装置",
            "合成反应釜",
            "生产部",
            "李工",
            "反应失控",
            "爆炸",
            "LS",
            "",
            "",
            "L=3，S=5",
            "DCS超温联锁",
            "工程技术/安全仪表",
            "自动化监控",
            "",
        ],
    ])
}

async fn import(
    app: &TestApp,
    token: &str,
    enterprise: Uuid,
    query: &str,
    bytes: Vec<u8>,
) -> crate::helpers::Reply {
    let parts = [Part::file("清单.xlsx", XLSX, bytes)];
    upload_to(
        app,
        token,
        &format!("/api/v1/enterprises/{enterprise}/risk-register/import{query}"),
        &parts,
    )
    .await
}

async fn a_register_kept_in_excel_imports_once_and_all_or_nothing(app: TestApp) {
    let park = app.park().await;
    let (a, b) = (park.enterprise_a, park.enterprise_b);

    // A dry run answers row by row and writes nothing.
    let dry = import(&app, &park.contact_a, a, "?dry_run=true", kept_register())
        .await
        .expect(200)
        .json;
    assert_eq!(dry["rows"], 4, "{dry}");
    assert_eq!(
        dry["added"],
        json!({"objects": 2, "units": 2, "events": 3, "measures": 4}),
        "{dry}"
    );
    assert_eq!(dry["errors"], 0, "{dry}");
    let statuses: Vec<&str> = dry["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["would_create"; 4]);
    assert_eq!(dry["results"][1]["adds"], json!(["管控措施“罐区围堰”"]));
    assert_eq!(
        register(&app, &park.contact_a, a).await["objects"],
        json!([])
    );

    // The real run adds all of it, levels worked out from the inputs.
    let done = import(&app, &park.contact_a, a, "", kept_register())
        .await
        .expect(201);
    assert_eq!(
        done.header("location"),
        Some(format!("/api/v1/enterprises/{a}/risk-register").as_str())
    );
    assert_eq!(
        done.json["results"][0]["status"], "created",
        "{}",
        done.json
    );
    let kept = register(&app, &park.contact_a, a).await;
    assert_eq!(kept["objects"].as_array().unwrap().len(), 2, "{kept}");
    assert_eq!(kept["measures"], 4);
    assert_eq!(
        kept["units_by_level"],
        json!({"major": 1, "serious": 1, "general": 0, "low": 0}),
        "{kept}"
    );
    assert_eq!(
        kept["events_by_level"],
        json!({"major": 1, "serious": 1, "general": 0, "low": 1}),
        "{kept}"
    );
    let tank = &kept["objects"][0]["units"][0];
    assert_eq!(tank["department"], "储运部");
    assert_eq!(tank["events"][0]["measures"].as_array().unwrap().len(), 2);
    assert_eq!(
        tank["events"][1]["measures"][0]["classification"],
        "operation.other"
    );

    // The same file again adds nothing.
    let again = import(&app, &park.contact_a, a, "", kept_register())
        .await
        .expect(201)
        .json;
    assert_eq!(
        again["added"],
        json!({"objects": 0, "units": 0, "events": 0, "measures": 0})
    );
    assert_eq!(again["unchanged"], 4);

    // A file in error is refused whole, every problem named by row and
    // column; its good rows are not written either.
    let faulty = workbook(&[
        HEADER,
        &[
            "1",
            "2号罐区",
            "设施",
            "苯储罐",
            "储运部",
            "",
            "苯泄漏",
            "",
            "风险矩阵法",
            "",
            "",
            "",
            "呼吸阀",
            "维护保养/静设备",
            "巡检",
            "呼吸阀通畅",
        ],
        &[
            "2",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "液位计",
            "工程技术/安全仪表",
            "隐患排查",
            "",
        ],
        &[
            "3",
            "仓库",
            "场所",
            "成品库",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ]);
    let refused = import(&app, &park.contact_a, a, "", faulty)
        .await
        .expect(422)
        .json;
    for field in ["第3行.评价取值", "第3行.管控方式", "第4行.排查内容"] {
        assert!(refused["errors"][field].is_string(), "{field} in {refused}");
    }
    assert_eq!(
        register(&app, &park.contact_a, a).await["objects"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The register's own export imports into another enterprise as it is.
    let export = crate::helpers::evidence::download_from(
        &app,
        &park.contact_a,
        &format!("/api/v1/enterprises/{a}/risk-register?format=xlsx"),
        None,
    )
    .await;
    assert_eq!(export.status, 200);
    let copied = import(&app, &park.contact_b, b, "", export.bytes.clone())
        .await
        .expect(201)
        .json;
    assert_eq!(
        copied["added"],
        json!({"objects": 2, "units": 2, "events": 3, "measures": 4}),
        "{copied}"
    );
    let theirs = register(&app, &park.contact_b, b).await;
    for key in ["units_by_level", "events_by_level", "measures"] {
        assert_eq!(theirs[key], kept[key], "{key}");
    }

    // Another enterprise's register is out of reach; the template is there.
    import(&app, &park.contact_b, a, "?dry_run=true", export.bytes)
        .await
        .expect(404);
    let template = crate::helpers::evidence::download_from(
        &app,
        &park.contact_a,
        "/api/v1/risk-register/template.xlsx",
        None,
    )
    .await;
    assert_eq!(template.status, 200);
    assert!(template.bytes.starts_with(b"PK"));
}
