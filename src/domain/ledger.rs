//! Reading a park's hazard ledger (隐患排查治理台账) as people keep it:
//! which header names which field (tolerantly: real ledgers do not follow
//! templates), the dates and sources in the forms ledgers write them, and
//! each row turned into typed values or reasons in Chinese. Pure: the file
//! formats are `app::imports`', the rules a hazard must meet
//! `hazard::new`'s.

use chrono::{Duration, NaiveDate};
use sha2::{Digest, Sha256};

use crate::domain::enterprise::EnterpriseStatus;
use crate::domain::hazard::{CheckSource, HazardLevel};

/// A cell as the file held it.
#[derive(Debug, Clone, PartialEq)]
pub enum CellValue {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

impl CellValue {
    /// The cell as text, as a person reads it (whole numbers without `.0`).
    pub fn text(&self) -> String {
        match self {
            CellValue::Empty => String::new(),
            CellValue::Text(t) => t.trim().to_owned(),
            CellValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            CellValue::Number(n) => n.to_string(),
            CellValue::Date(d) => d.to_string(),
        }
    }

    pub fn is_blank(&self) -> bool {
        self.text().is_empty()
    }
}

/// What a ledger column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The ledger's own number for the hazard: the import's key.
    Number,
    /// 序号: a row counter, ignored.
    Serial,
    Enterprise,
    CreditCode,
    Source,
    /// A mutual check's checking enterprise (by name or credit code).
    CheckingEnterprise,
    Level,
    MajorBasis,
    Category,
    Specialty,
    Title,
    Description,
    Location,
    FoundOn,
    Deadline,
    Measures,
    Responsible,
    /// Funds in yuan.
    Funds,
    /// Funds in 万元.
    FundsTenThousands,
    Contingency,
    State,
    CompletedOn,
    AcceptedOn,
    Acceptor,
}

/// Header names and the field each means, after [`normalise_header`].
const HEADERS: &[(&str, Field)] = &[
    ("隐患编号", Field::Number),
    ("编号", Field::Number),
    ("台账编号", Field::Number),
    ("序号", Field::Serial),
    ("企业名称", Field::Enterprise),
    ("责任单位", Field::Enterprise),
    ("单位名称", Field::Enterprise),
    ("企业", Field::Enterprise),
    ("统一社会信用代码", Field::CreditCode),
    ("信用代码", Field::CreditCode),
    ("检查类型", Field::Source),
    ("隐患来源", Field::Source),
    ("检查方式", Field::Source),
    ("排查类型", Field::Source),
    ("检查单位", Field::CheckingEnterprise),
    ("互查单位", Field::CheckingEnterprise),
    ("检查企业", Field::CheckingEnterprise),
    ("隐患级别", Field::Level),
    ("隐患等级", Field::Level),
    ("级别", Field::Level),
    ("重大隐患判定依据", Field::MajorBasis),
    ("判定依据", Field::MajorBasis),
    ("隐患类别", Field::Category),
    ("隐患类型", Field::Category),
    ("类别", Field::Category),
    ("专业", Field::Specialty),
    ("隐患专业", Field::Specialty),
    ("所属专业", Field::Specialty),
    ("隐患名称", Field::Title),
    ("名称", Field::Title),
    ("隐患描述", Field::Description),
    ("隐患内容", Field::Description),
    ("存在问题", Field::Description),
    ("问题描述", Field::Description),
    ("隐患部位", Field::Location),
    ("隐患位置", Field::Location),
    ("地点", Field::Location),
    ("部位", Field::Location),
    ("位置", Field::Location),
    ("发现时间", Field::FoundOn),
    ("发现日期", Field::FoundOn),
    ("排查日期", Field::FoundOn),
    ("排查时间", Field::FoundOn),
    ("检查日期", Field::FoundOn),
    ("检查时间", Field::FoundOn),
    ("整改期限", Field::Deadline),
    ("整改时限", Field::Deadline),
    ("要求整改日期", Field::Deadline),
    ("整改措施", Field::Measures),
    ("整改方案", Field::Measures),
    ("责任人", Field::Responsible),
    ("整改责任人", Field::Responsible),
    ("资金", Field::Funds),
    ("资金(元)", Field::Funds),
    ("整改资金", Field::Funds),
    ("整改资金(元)", Field::Funds),
    ("资金(万元)", Field::FundsTenThousands),
    ("整改资金(万元)", Field::FundsTenThousands),
    ("应急预案", Field::Contingency),
    ("应急措施", Field::Contingency),
    ("临时管控措施", Field::Contingency),
    ("状态", Field::State),
    ("整改状态", Field::State),
    ("整改情况", Field::State),
    ("整改完成时间", Field::CompletedOn),
    ("整改完成日期", Field::CompletedOn),
    ("完成时间", Field::CompletedOn),
    ("验收日期", Field::AcceptedOn),
    ("验收时间", Field::AcceptedOn),
    ("验收人", Field::Acceptor),
];

/// A header without spaces, with full-width brackets made ASCII.
pub fn normalise_header(header: &str) -> String {
    header
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{FF08}' => '(',
            '\u{FF09}' => ')',
            other => other,
        })
        .collect()
}

/// The field a header names, if any.
pub fn field_of(header: &str) -> Option<Field> {
    let header = normalise_header(header);
    HEADERS
        .iter()
        .find(|(name, _)| *name == header)
        .map(|(_, field)| *field)
}

/// The Chinese column name a field is reported under.
pub fn column_name(field: Field) -> &'static str {
    HEADERS
        .iter()
        .find(|(_, f)| *f == field)
        .map_or("", |(name, _)| name)
}

/// Which columns of the header row hold which field. Merged, blank and
/// repeated header cells, and a ledger without the columns every hazard
/// needs, are refused with the reason.
#[derive(Debug, Clone)]
pub struct Layout {
    pub columns: Vec<Option<Field>>,
}

/// The fields without which no row can become a hazard.
const REQUIRED: [Field; 4] = [
    Field::Description,
    Field::Location,
    Field::FoundOn,
    Field::Deadline,
];

impl Layout {
    /// Reads the header row. `blank` cells before the last named one are
    /// refused (a merged or missing header cell), as is a field named twice.
    pub fn of(headers: &[CellValue]) -> Result<Layout, Vec<String>> {
        let last = headers
            .iter()
            .rposition(|h| !h.is_blank())
            .map_or(0, |i| i + 1);
        let mut columns = Vec::with_capacity(last);
        let mut problems = Vec::new();
        for (i, header) in headers.iter().take(last).enumerate() {
            if header.is_blank() {
                problems.push(format!(
                    "表头第{}列为空(合并或缺失的表头单元格):每列须有列名",
                    i + 1
                ));
                columns.push(None);
                continue;
            }
            let field = field_of(&header.text());
            if let Some(field) = field.filter(|f| *f != Field::Serial) {
                if columns.contains(&Some(field)) {
                    problems.push(format!("表头“{}”与前面的列重复", header.text()));
                }
            }
            columns.push(field);
        }
        let has = |f: Field| columns.contains(&Some(f));
        for field in REQUIRED {
            if !has(field) {
                problems.push(format!("缺少“{}”列", column_name(field)));
            }
        }
        if !has(Field::Enterprise) && !has(Field::CreditCode) {
            problems.push("缺少“企业名称”或“统一社会信用代码”列".to_owned());
        }
        if problems.is_empty() {
            Ok(Layout { columns })
        } else {
            Err(problems)
        }
    }

    /// The cell of `field` in `row`.
    pub fn cell<'a>(&self, row: &'a [CellValue], field: Field) -> &'a CellValue {
        const EMPTY: &CellValue = &CellValue::Empty;
        self.columns
            .iter()
            .position(|c| *c == Some(field))
            .and_then(|i| row.get(i))
            .unwrap_or(EMPTY)
    }
}

/// A day as ledgers write it: 2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日
/// (a time after it is ignored), or an Excel serial number.
pub fn parse_day(cell: &CellValue) -> Result<Option<NaiveDate>, String> {
    match cell {
        CellValue::Empty => Ok(None),
        CellValue::Date(day) => Ok(Some(*day)),
        CellValue::Number(serial) => excel_serial(*serial).map(Some),
        CellValue::Text(text) => {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            if text.chars().all(|c| c.is_ascii_digit() || c == '.') && !text.contains('.') {
                if let Ok(serial) = text.parse::<f64>() {
                    return excel_serial(serial).map(Some);
                }
            }
            parse_day_text(text).map(Some)
        }
    }
}

fn parse_day_text(text: &str) -> Result<NaiveDate, String> {
    let unreadable = || {
        format!("“{text}”不是可识别的日期(可写作 2024-03-05、2024/3/5、2024.3.5 或 2024年3月5日)")
    };
    // A time after the day (2024-03-05 10:30, 2024-03-05T10:30) is dropped.
    let day_part = text
        .split(|c: char| c.is_whitespace() || c == 'T')
        .next()
        .unwrap_or(text);
    let parts: Vec<&str> = day_part
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.is_empty())
        .collect();
    let [year, month, day] = parts[..] else {
        return Err(unreadable());
    };
    let number = |s: &str| s.parse::<u32>().map_err(|_| unreadable());
    let year = i32::try_from(number(year)?).map_err(|_| unreadable())?;
    if !(1900..=2999).contains(&year) {
        return Err(unreadable());
    }
    NaiveDate::from_ymd_opt(year, number(month)?, number(day)?)
        .ok_or_else(|| format!("“{text}”不是存在的日期"))
}

/// An Excel day number (1900 date system; whole days, a time fraction is
/// dropped).
fn excel_serial(serial: f64) -> Result<NaiveDate, String> {
    if !(1.0..=2_958_465.0).contains(&serial) {
        return Err(format!("“{serial}”不是可识别的日期"));
    }
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).ok_or("日期换算失败")?;
    Ok(epoch + Duration::days(serial.trunc() as i64))
}

/// A check source by its code, its label or a common name in ledgers.
pub fn parse_source(text: &str) -> Option<CheckSource> {
    let text = normalise_header(text);
    let by_name = [
        (
            CheckSource::SelfCheck,
            &["企业自查", "自查", "自检", "企业自检", "日常检查"][..],
        ),
        (CheckSource::MutualCheck, &["企业互查", "互查", "互检"][..]),
        (
            CheckSource::ResidentExpert,
            &[
                "常驻专家检查",
                "常驻专家",
                "驻园专家",
                "驻园专家检查",
                "专家检查",
            ][..],
        ),
        (
            CheckSource::NationalExpert,
            &[
                "聘请国家级专家查隐患",
                "国家级专家",
                "国家级专家检查",
                "国家专家",
            ][..],
        ),
        (
            CheckSource::ParkSupervision,
            &[
                "园区督导检查",
                "园区检查",
                "督导检查",
                "园区督查",
                "园区督导",
            ][..],
        ),
    ];
    by_name
        .iter()
        .find(|(source, names)| {
            names.contains(&text.as_str()) || source.label_zh() == text || source.as_str() == text
        })
        .map(|(source, _)| *source)
}

/// 一般 / 重大 in the ways ledgers write them.
pub fn parse_level(text: &str) -> Option<HazardLevel> {
    match normalise_header(text).as_str() {
        "一般" | "一般隐患" | "一般事故隐患" | "general" => Some(HazardLevel::General),
        "重大" | "重大隐患" | "重大事故隐患" | "major" => Some(HazardLevel::Major),
        _ => None,
    }
}

/// An amount of money in fen, from yuan (or 万元) as written: `1200`,
/// `1,200.50`, `1200元`.
pub fn parse_funds(cell: &CellValue, ten_thousands: bool) -> Result<Option<i64>, String> {
    let scale = if ten_thousands { 1_000_000.0 } else { 100.0 };
    let yuan = match cell {
        CellValue::Empty => return Ok(None),
        CellValue::Number(n) => *n,
        CellValue::Date(_) => return Err("资金应为金额".to_owned()),
        CellValue::Text(text) => {
            let cleaned: String = text
                .trim()
                .trim_end_matches("万元")
                .trim_end_matches('元')
                .chars()
                .filter(|c| *c != ',' && *c != '\u{FF0C}' && !c.is_whitespace())
                .collect();
            if cleaned.is_empty() {
                return Ok(None);
            }
            cleaned
                .parse::<f64>()
                .map_err(|_| format!("“{}”不是金额", text.trim()))?
        }
    };
    if !yuan.is_finite() || !(0.0..=1e11).contains(&yuan) {
        return Err(format!("“{yuan}”不是合理的金额"));
    }
    Ok(Some((yuan * scale).round() as i64))
}

/// Whether a 状态 cell says the hazard is rectified (and so must carry a
/// completion or acceptance date).
pub fn says_rectified(text: &str) -> bool {
    let text = normalise_header(text);
    [
        "已销号",
        "已整改",
        "已验收",
        "已完成",
        "整改完成",
        "已闭环",
        "closed",
    ]
    .contains(&text.as_str())
}

/// Whether a 状态 cell says the hazard was voided.
pub fn says_voided(text: &str) -> bool {
    let text = normalise_header(text);
    ["已作废", "作废", "voided"].contains(&text.as_str())
}

/// The key of a row without the ledger's own number: what identifies a
/// hazard in a ledger — its enterprise, the day found, where, and what.
pub fn fingerprint(
    enterprise: &str,
    found_on: NaiveDate,
    location: &str,
    description: &str,
) -> String {
    let mut hasher = Sha256::new();
    for part in [
        enterprise,
        &found_on.to_string(),
        location.trim(),
        description.trim(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0x1f]);
    }
    let digest = hasher.finalize();
    format!("fp:{}", super::hex::hex(&digest[..16]))
}

/// What a column of an enterprise list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnterpriseField {
    Name,
    CreditCode,
    Status,
    Contacts,
}

const ENTERPRISE_HEADERS: &[(&str, EnterpriseField)] = &[
    ("企业名称", EnterpriseField::Name),
    ("单位名称", EnterpriseField::Name),
    ("企业", EnterpriseField::Name),
    ("统一社会信用代码", EnterpriseField::CreditCode),
    ("信用代码", EnterpriseField::CreditCode),
    ("企业状态", EnterpriseField::Status),
    ("生产状态", EnterpriseField::Status),
    ("状态", EnterpriseField::Status),
    ("联系人邮箱", EnterpriseField::Contacts),
    ("联系邮箱", EnterpriseField::Contacts),
    ("邮箱", EnterpriseField::Contacts),
    ("联系人", EnterpriseField::Contacts),
];

/// The field a header of an enterprise list names, if any.
pub fn enterprise_field_of(header: &str) -> Option<EnterpriseField> {
    let header = normalise_header(header);
    ENTERPRISE_HEADERS
        .iter()
        .find(|(name, _)| *name == header)
        .map(|(_, field)| *field)
}

/// The Chinese column name an enterprise field is reported under.
pub fn enterprise_column_name(field: EnterpriseField) -> &'static str {
    ENTERPRISE_HEADERS
        .iter()
        .find(|(_, f)| *f == field)
        .map_or("", |(name, _)| name)
}

/// 在产 / 试生产 / 在建 / 关停, or the codes; blank is producing.
pub fn parse_enterprise_status(text: &str) -> Option<EnterpriseStatus> {
    match normalise_header(text).as_str() {
        "" | "在产" | "生产" | "正常生产" | "producing" => {
            Some(EnterpriseStatus::Producing)
        }
        "试生产" | "试产" | "trial" => Some(EnterpriseStatus::Trial),
        "在建" | "建设中" | "construction" => Some(EnterpriseStatus::Construction),
        "关停" | "停产" | "已关停" | "closed" => Some(EnterpriseStatus::Closed),
        _ => None,
    }
}

/// Addresses as a cell lists them: separated by commas, semicolons, 、 or
/// spaces.
pub fn split_contacts(text: &str) -> Vec<String> {
    text.split(|c: char| {
        matches!(c, ',' | ';' | '\u{3001}' | '\u{FF0C}' | '\u{FF1B}') || c.is_whitespace()
    })
    .map(str::trim)
    .filter(|s| !s.is_empty())
    .map(str::to_owned)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> CellValue {
        CellValue::Text(s.to_owned())
    }

    fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn dates_are_read_in_every_form_ledgers_use() {
        for form in [
            "2024-03-05",
            "2024/3/5",
            "2024.3.5",
            "2024年3月5日",
            "2024-03-05 10:30",
            " 2024/03/05 ",
        ] {
            assert_eq!(parse_day(&text(form)), Ok(day(2024, 3, 5)), "{form}");
        }
        assert_eq!(parse_day(&CellValue::Number(45356.0)), Ok(day(2024, 3, 5)));
        assert_eq!(parse_day(&CellValue::Number(45356.75)), Ok(day(2024, 3, 5)));
        assert_eq!(parse_day(&text("45356")), Ok(day(2024, 3, 5)));
        assert_eq!(parse_day(&CellValue::Empty), Ok(None));
        assert!(parse_day(&text("2024-02-30"))
            .unwrap_err()
            .contains("不是存在的日期"));
        assert!(parse_day(&text("三月五日")).is_err());
        assert!(
            parse_day(&text("24-3-5")).is_err(),
            "two-digit years are ambiguous"
        );
        assert!(parse_day(&CellValue::Number(-3.0)).is_err());
    }

    #[test]
    fn headers_are_matched_tolerantly() {
        assert_eq!(field_of("隐患内容"), Some(Field::Description));
        assert_eq!(field_of(" 隐患 部位 "), Some(Field::Location));
        assert_eq!(
            field_of("资金\u{FF08}元\u{FF09}"),
            Some(Field::Funds),
            "full-width brackets"
        );
        assert_eq!(field_of("资金(元)"), Some(Field::Funds));
        assert_eq!(field_of("整改资金(万元)"), Some(Field::FundsTenThousands));
        assert_eq!(field_of("排查日期"), Some(Field::FoundOn));
        assert_eq!(field_of("责任单位"), Some(Field::Enterprise));
        assert_eq!(field_of("备注"), None);
    }

    #[test]
    fn a_layout_needs_its_columns_and_named_headers() {
        let headers: Vec<CellValue> = [
            "序号",
            "企业名称",
            "隐患描述",
            "隐患部位",
            "发现时间",
            "整改期限",
            "备注",
        ]
        .map(text)
        .to_vec();
        let layout = Layout::of(&headers).unwrap();
        let row: Vec<CellValue> = ["1", "甲公司", "漏", "罐区", "2024-1-2", "2024-1-9", ""]
            .map(text)
            .to_vec();
        assert_eq!(layout.cell(&row, Field::Location), &text("罐区"));
        assert_eq!(layout.cell(&row, Field::Measures), &CellValue::Empty);

        let merged = vec![text("企业名称"), CellValue::Empty, text("隐患部位")];
        let problems = Layout::of(&merged).unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains("第2列为空")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("缺少“隐患描述”列")),
            "{problems:?}"
        );
        let twice = vec![text("隐患描述"), text("隐患内容")];
        assert!(Layout::of(&twice)
            .unwrap_err()
            .iter()
            .any(|p| p.contains("重复")));
    }

    #[test]
    fn sources_levels_and_funds_read_as_ledgers_write_them() {
        assert_eq!(parse_source("自查"), Some(CheckSource::SelfCheck));
        assert_eq!(
            parse_source("常驻专家检查"),
            Some(CheckSource::ResidentExpert)
        );
        assert_eq!(
            parse_source("park_supervision"),
            Some(CheckSource::ParkSupervision)
        );
        assert_eq!(parse_source("上级检查"), None);
        assert_eq!(parse_level("重大事故隐患"), Some(HazardLevel::Major));
        assert_eq!(parse_level("一般"), Some(HazardLevel::General));
        assert_eq!(parse_funds(&text("1,200.50元"), false), Ok(Some(120_050)));
        assert_eq!(
            parse_funds(&text("1\u{FF0C}200元"), false),
            Ok(Some(120_000))
        );
        assert_eq!(
            parse_funds(&CellValue::Number(1.5), true),
            Ok(Some(1_500_000))
        );
        assert!(parse_funds(&text("若干"), false).is_err());
    }

    #[test]
    fn enterprise_lists_read_as_parks_write_them() {
        assert_eq!(
            enterprise_field_of("联系邮箱"),
            Some(EnterpriseField::Contacts)
        );
        assert_eq!(
            parse_enterprise_status("试生产"),
            Some(EnterpriseStatus::Trial)
        );
        assert_eq!(
            parse_enterprise_status(""),
            Some(EnterpriseStatus::Producing)
        );
        assert_eq!(parse_enterprise_status("注销"), None);
        assert_eq!(
            split_contacts("a@x.cn\u{3001}b@x.cn; c@x.cn"),
            ["a@x.cn", "b@x.cn", "c@x.cn"]
        );
    }

    #[test]
    fn a_fingerprint_ignores_surrounding_space_only() {
        let on = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        assert_eq!(
            fingerprint("甲", on, " 罐区", "漏 "),
            fingerprint("甲", on, "罐区", "漏")
        );
        assert_ne!(
            fingerprint("甲", on, "罐区", "漏"),
            fingerprint("乙", on, "罐区", "漏")
        );
    }
}
