//! A report in the formats the annual-report team uses: CSV (one table per
//! section, in long form), XLSX (one sheet per table) and a Markdown summary
//! whose Chinese sentences read like the park's own report.

use std::fmt::Write;

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::{Report, Slice};
use crate::error::AppError;

/// The formats a report is available in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Json,
    Csv,
    Xlsx,
    Md,
}

impl ReportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Json => "application/json",
            ReportFormat::Csv => "text/csv; charset=utf-8",
            ReportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            ReportFormat::Md => "text/markdown; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Json => "json",
            ReportFormat::Csv => "csv",
            ReportFormat::Xlsx => "xlsx",
            ReportFormat::Md => "md",
        }
    }
}

impl std::str::FromStr for ReportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "json" => Ok(ReportFormat::Json),
            "csv" => Ok(ReportFormat::Csv),
            "xlsx" => Ok(ReportFormat::Xlsx),
            "md" => Ok(ReportFormat::Md),
            other => Err(format!(
                "unknown format {other:?}: use json, csv, xlsx or md"
            )),
        }
    }
}

pub fn render(report: &Report, format: ReportFormat) -> Result<Vec<u8>, AppError> {
    match format {
        ReportFormat::Json => {
            serde_json::to_vec_pretty(report).map_err(|e| AppError::Internal(e.into()))
        }
        ReportFormat::Csv => csv(report),
        ReportFormat::Xlsx => xlsx(report)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("writing the workbook: {e}"))),
        ReportFormat::Md => Ok(markdown(report).into_bytes()),
    }
}

/// Every table as `table,key,label,found,closed,closed_on_time,open`.
/// A text cell that a spreadsheet will not run: one starting with `=`,
/// `+`, `-`, `@`, a tab or a carriage return (an enterprise named
/// `=HYPERLINK(…)`) gets a leading `'`, as OWASP recommends for CSV.
pub(crate) fn inert(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

fn csv(report: &Report) -> Result<Vec<u8>, AppError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| AppError::Internal(e.into());
    out.write_record([
        "table",
        "key",
        "label",
        "found",
        "closed",
        "closed_on_time",
        "open",
    ])
    .map_err(fail)?;
    let summary = [
        ("found", "查出隐患", report.found),
        ("closed", "已整改", report.closed),
        ("closed_on_time", "按期整改", report.closed_on_time),
        ("still_open", "未整改", report.still_open),
        ("voided", "作废", report.voided),
        ("major_found", "重大隐患", report.major_found),
        ("major_closed", "重大隐患已整改", report.major_closed),
        ("listed", "挂牌督办", report.supervised_listings.listed),
        ("delisted", "已摘牌", report.supervised_listings.delisted),
        (
            "still_listed",
            "仍在督办",
            report.supervised_listings.still_listed,
        ),
        (
            "entered_late_closures",
            "补录销号",
            report.entered_late_closures,
        ),
    ];
    for (key, label, value) in summary {
        out.write_record(["summary", key, label, &value.to_string(), "", "", ""])
            .map_err(fail)?;
    }
    out.write_record([
        "summary",
        "rectification_rate",
        "整改率(%)",
        &format!("{:.2}", report.rectification_rate),
        "",
        "",
        "",
    ])
    .map_err(fail)?;
    for (table, slices) in tables(report) {
        for slice in slices {
            let t = &slice.tally;
            out.write_record([
                table,
                &inert(&slice.key),
                &inert(&slice.label),
                &t.found.to_string(),
                &t.closed.to_string(),
                &t.closed_on_time.to_string(),
                &t.open.to_string(),
            ])
            .map_err(fail)?;
        }
    }
    csv_counts(&mut out, report).map_err(fail)?;
    if let Some(d) = &report.dual_prevention {
        let c = &d.checks;
        let rows = [
            ("check_tasks", "排查任务", d.check_tasks),
            ("planned", "应排查次数", c.planned),
            ("done_on_time", "按时完成", c.done_on_time),
            ("done_late", "逾期完成", c.done_late),
            ("missed", "漏查", c.missed),
            ("paused", "暂停", c.paused),
            (
                "hazards_from_tasks",
                "排查任务发现隐患",
                d.hazards_from_tasks,
            ),
            ("major_sources", "重大危险源", d.major_sources),
            (
                "sources_missing_persons",
                "包保责任人未配齐",
                d.sources_missing_persons,
            ),
        ];
        for (key, label, value) in rows {
            out.write_record([
                "dual_prevention",
                key,
                label,
                &value.to_string(),
                "",
                "",
                "",
            ])
            .map_err(fail)?;
        }
        for k in &d.duties {
            let o = &k.occurrences;
            out.write_record([
                "baobao_duties",
                k.kind.as_str(),
                &k.label,
                &o.planned.to_string(),
                &(o.done_on_time + o.done_late).to_string(),
                &o.done_on_time.to_string(),
                &o.missed.to_string(),
            ])
            .map_err(fail)?;
        }
    }
    out.into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
}

/// The counts that are no slices: inspections per kind of check and
/// enterprises per grade.
fn csv_counts(out: &mut csv::Writer<Vec<u8>>, report: &Report) -> Result<(), csv::Error> {
    for i in &report.inspections_by_source {
        out.write_record([
            "inspections_by_source",
            &inert(&i.source),
            &inert(&i.label),
            &i.inspections.to_string(),
            "",
            "",
            "",
        ])?;
    }
    for (key, label, value) in grade_rows(report) {
        out.write_record([
            "enterprises_by_grade",
            key,
            label,
            &value.to_string(),
            "",
            "",
            "",
        ])?;
    }
    Ok(())
}

fn tables(report: &Report) -> [(&'static str, &Vec<Slice>); 6] {
    [
        ("by_source", &report.by_source),
        ("by_level", &report.by_level),
        ("by_category", &report.by_category),
        ("by_specialty", &report.by_specialty),
        ("by_month", &report.by_month),
        ("by_enterprise", &report.by_enterprise),
    ]
}

fn grade_rows(report: &Report) -> [(&'static str, &'static str, i64); 5] {
    let g = &report.enterprises_by_grade;
    [
        ("red", "红色", g.red),
        ("orange", "橙色", g.orange),
        ("yellow", "黄色", g.yellow),
        ("blue", "蓝色", g.blue),
        ("not_assessed", "未评估", g.not_assessed),
    ]
}

fn sheet_name(table: &str) -> &'static str {
    match table {
        "by_source" => "按检查方式",
        "by_level" => "按等级",
        "by_category" => "按类别",
        "by_specialty" => "按专业",
        "by_month" => "按月份",
        _ => "按企业",
    }
}

fn xlsx(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let summary = workbook.add_worksheet().set_name("概览")?;
    let rows: Vec<(&str, String)> = vec![
        ("期间", report.period.label_zh()),
        ("查出隐患(条)", report.found.to_string()),
        ("已整改(条)", report.closed.to_string()),
        ("按期整改(条)", report.closed_on_time.to_string()),
        ("未整改(条)", report.still_open.to_string()),
        ("作废(条)", report.voided.to_string()),
        ("整改率(%)", format!("{:.2}", report.rectification_rate)),
        ("重大隐患(条)", report.major_found.to_string()),
        ("重大隐患已整改(条)", report.major_closed.to_string()),
        (
            "挂牌督办(条)",
            report.supervised_listings.listed.to_string(),
        ),
        (
            "已摘牌(条)",
            report.supervised_listings.delisted.to_string(),
        ),
        (
            "仍在督办(条)",
            report.supervised_listings.still_listed.to_string(),
        ),
        ("补录销号(条)", report.entered_late_closures.to_string()),
    ];
    summary.write_string_with_format(0, 0, "指标", &bold)?;
    summary.write_string_with_format(0, 1, "数值", &bold)?;
    for (i, (label, value)) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        summary.write_string(row, 0, *label)?;
        match value.parse::<f64>() {
            Ok(number) => summary.write_number(row, 1, number)?,
            Err(_) => summary.write_string(row, 1, value)?,
        };
    }
    for (table, slices) in tables(report) {
        let sheet = workbook.add_worksheet().set_name(sheet_name(table))?;
        write_slices(sheet, slices, &bold)?;
    }
    let inspections = workbook.add_worksheet().set_name("检查次数")?;
    inspections.write_string_with_format(0, 0, "检查方式", &bold)?;
    inspections.write_string_with_format(0, 1, "次数", &bold)?;
    for (i, count) in report.inspections_by_source.iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        inspections.write_string(row, 0, &count.label)?;
        inspections.write_number(row, 1, count.inspections as f64)?;
    }
    let grades = workbook.add_worksheet().set_name("企业分级")?;
    grades.write_string_with_format(0, 0, "等级", &bold)?;
    grades.write_string_with_format(0, 1, "企业数", &bold)?;
    for (i, (_, label, value)) in grade_rows(report).iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        grades.write_string(row, 0, *label)?;
        grades.write_number(row, 1, *value as f64)?;
    }
    workbook.save_to_buffer()
}

fn write_slices(sheet: &mut Worksheet, slices: &[Slice], bold: &Format) -> Result<(), XlsxError> {
    for (col, title) in ["项目", "查出", "已整改", "按期整改", "未整改"]
        .iter()
        .enumerate()
    {
        sheet.write_string_with_format(0, u16::try_from(col).unwrap_or(0), *title, bold)?;
    }
    for (i, slice) in slices.iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let t = &slice.tally;
        sheet.write_string(row, 0, &slice.label)?;
        sheet.write_number(row, 1, t.found as f64)?;
        sheet.write_number(row, 2, t.closed as f64)?;
        sheet.write_number(row, 3, t.closed_on_time as f64)?;
        sheet.write_number(row, 4, t.open as f64)?;
    }
    Ok(())
}

fn rate(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The summary, in the voice of the park's report.
pub fn markdown(report: &Report) -> String {
    let mut md = String::new();
    heading(&mut md, report);
    rectification(&mut md, report);
    finds_and_checks(&mut md, report);
    grading(&mut md, report);
    dual_prevention(&mut md, report);
    month_and_category_tables(&mut md, report);
    md
}

/// The dual prevention mechanism: check tasks done against planned, the
/// hazards they found, and the major hazard sources' 包保 duties.
fn dual_prevention(md: &mut String, report: &Report) {
    let Some(d) = &report.dual_prevention else {
        return;
    };
    let whole = if report.period.quarter.is_some() {
        "本季度"
    } else {
        "全年"
    };
    let c = &d.checks;
    let percent = |rate: Option<f64>| {
        rate.map_or("—".to_owned(), |r| format!("{}%", self::rate(r * 100.0)))
    };
    let _ = writeln!(md, "\n## 双重预防机制运行\n");
    let _ = writeln!(
        md,
        "{whole}{} 项隐患排查任务应排查 {} 次（截至今日），按时完成 {} 次、逾期完成 {} 次、漏查 {} 次、停用检修暂停 {} 次，完成率 {}；排查任务发现隐患 {} 条，其他方式发现 {} 条。风险分析单元：重大风险 {} 个、较大风险 {} 个、一般风险 {} 个、低风险 {} 个。",
        d.check_tasks,
        c.planned,
        c.done_on_time,
        c.done_late,
        c.missed,
        c.paused,
        percent(c.completion_rate),
        d.hazards_from_tasks,
        d.hazards_other,
        d.units_by_level.major,
        d.units_by_level.serious,
        d.units_by_level.general,
        d.units_by_level.low,
    );
    if d.major_sources > 0 {
        let [first, second, third, fourth] = d.sources_by_grade;
        let kinds: Vec<String> = d
            .duties
            .iter()
            .map(|k| {
                let o = &k.occurrences;
                format!(
                    "{}应履职排查 {} 次、完成 {} 次、漏查 {} 次，发现隐患 {} 条、已整改 {} 条",
                    k.label,
                    o.planned,
                    o.done_on_time + o.done_late,
                    o.missed,
                    k.hazards_found,
                    k.hazards_rectified
                )
            })
            .collect();
        let _ = writeln!(
            md,
            "\n重大危险源 {} 处（一级 {first} 处、二级 {second} 处、三级 {third} 处、四级 {fourth} 处），三类包保责任人：{}。",
            d.major_sources,
            kinds.join("；")
        );
        if d.sources_missing_persons > 0 {
            let _ = writeln!(
                md,
                "\n尚有 {} 处重大危险源包保责任人未配齐。",
                d.sources_missing_persons
            );
        }
    }
}

/// The title, and the day the figures stand on when not now.
fn heading(md: &mut String, report: &Report) {
    let period = report.period.label_zh();
    let kind = if report.period.quarter.is_some() {
        "隐患排查治理季度统计"
    } else {
        "隐患排查治理年度报告"
    };
    let _ = writeln!(md, "# {period}{kind}\n");
    if let Some(day) = report.as_of {
        let _ = writeln!(md, "> 数据截至 {day}。\n");
    }
}

/// Hazards found and rectified, on time, still open; major ones.
fn rectification(md: &mut String, report: &Report) {
    let whole = if report.period.quarter.is_some() {
        "本季度"
    } else {
        "全年"
    };
    let _ = write!(
        md,
        "{whole}组织专家团队共查出各类安全隐患 {} 条,已整改 {} 条,整改率 {}%",
        report.found,
        report.closed,
        rate(report.rectification_rate)
    );
    if report.found > 0 && report.still_open == 0 {
        let _ = write!(md, ",全部整改完毕");
    }
    let _ = writeln!(md, ";其中按期整改 {} 条。", report.closed_on_time);
    if report.still_open > 0 {
        let _ = writeln!(md, "尚有 {} 条隐患正在整改。", report.still_open);
    }
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "查出重大事故隐患 {} 条,已整改 {} 条{}。",
        report.major_found,
        report.major_closed,
        if report.major_found == report.major_closed {
            ",实现动态清零"
        } else {
            ""
        }
    );
    let listings = report.supervised_listings;
    if listings.listed > 0 {
        let _ = writeln!(
            md,
            "\n其中挂牌督办 {} 条,已摘牌 {} 条,仍在督办 {} 条。",
            listings.listed, listings.delisted, listings.still_listed
        );
    }
}

/// Hazards per kind of check, the inspections made, and the voided
/// registrations.
fn finds_and_checks(md: &mut String, report: &Report) {
    let sources: Vec<String> = report
        .by_source
        .iter()
        .filter(|s| s.tally.found > 0)
        .map(|s| format!("{} {} 条", s.label, s.tally.found))
        .collect();
    if !sources.is_empty() {
        let _ = writeln!(md, "\n按检查方式统计(五查合一):{}。", sources.join("、"));
    }
    let inspections: Vec<String> = report
        .inspections_by_source
        .iter()
        .filter(|i| i.inspections > 0)
        .map(|i| format!("{} {} 次", i.label, i.inspections))
        .collect();
    if !inspections.is_empty() {
        let _ = writeln!(md, "\n开展检查:{}。", inspections.join("、"));
    }
    if report.voided > 0 {
        let _ = writeln!(
            md,
            "\n另有 {} 条登记经核实为误报或重复,已作废,未计入上述数字。",
            report.voided
        );
    }
}

/// The enterprises per grade, when any is graded.
fn grading(md: &mut String, report: &Report) {
    let g = &report.enterprises_by_grade;
    let graded: Vec<String> = [
        (g.blue, "蓝色"),
        (g.yellow, "黄色"),
        (g.orange, "橙色"),
        (g.red, "红色"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, label)| format!("{n}家{label}"))
    .collect();
    if !graded.is_empty() {
        let _ = writeln!(
            md,
            "\n截至 {},对{}企业实施差异化、精细化分类监管。",
            report.grades_on,
            graded.join("、")
        );
    }
}

/// Found and rectified per month, and per category with any found.
fn month_and_category_tables(md: &mut String, report: &Report) {
    let _ = writeln!(md, "\n## 按月份\n\n| 月份 | 查出 | 已整改 |\n|---|---|---|");
    for month in &report.by_month {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            month.label, month.tally.found, month.tally.closed
        );
    }
    let _ = writeln!(md, "\n## 按类别\n\n| 类别 | 查出 | 已整改 |\n|---|---|---|");
    for category in report.by_category.iter().filter(|c| c.tally.found > 0) {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            category.label, category.tally.found, category.tally.closed
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cells_that_start_a_formula_are_made_inert() {
        assert_eq!(
            inert("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        for start in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(inert(start).starts_with('\''), "{start:?}");
        }
        assert_eq!(inert("南京化工有限公司"), "南京化工有限公司");
    }
}
