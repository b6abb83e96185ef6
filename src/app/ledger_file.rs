//! A ledger file's bytes as rows of cells: an XLSX workbook's first sheet
//! or a CSV file (UTF-8, with or without BOM, or GB18030 as Chinese Excel
//! saves it). Every size is bounded before it is read — bytes, the
//! unzipped size and entry count of a workbook (a zip bomb is refused
//! without being inflated), rows and columns — and the header row is found
//! below any title rows, its merged cells refused.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use crate::domain::ledger::{field_of, CellValue};
use crate::error::AppError;

/// Bounds on one file.
#[derive(Debug, Clone, Copy)]
pub struct FileLimits {
    pub max_bytes: usize,
    pub max_rows: usize,
    pub max_columns: usize,
    /// The most a workbook may inflate to, all parts together.
    pub max_unzipped_bytes: u64,
    pub max_zip_entries: usize,
}

impl Default for FileLimits {
    fn default() -> FileLimits {
        FileLimits {
            max_bytes: 20 * 1024 * 1024,
            max_rows: 50_000,
            max_columns: 100,
            max_unzipped_bytes: 200 * 1024 * 1024,
            max_zip_entries: 2_000,
        }
    }
}

/// A sheet: the header row and the data rows below it, each with its row
/// number as the file shows it (1-based).
#[derive(Debug, Clone)]
pub struct Sheet {
    pub headers: Vec<CellValue>,
    pub rows: Vec<(usize, Vec<CellValue>)>,
}

/// How the header row is recognised: the first of the top rows with at
/// least `at_least` cells `known` takes for column names.
#[derive(Debug, Clone, Copy)]
pub struct HeaderRule {
    pub known: fn(&str) -> bool,
    pub at_least: usize,
    /// Named in the refusal when no row qualifies.
    pub example: &'static str,
}

/// A hazard ledger's header: three of its known columns.
pub const HAZARD_HEADER: HeaderRule = HeaderRule {
    known: |h| field_of(h).is_some(),
    at_least: 3,
    example: "隐患描述、隐患部位、发现时间等列名中的三个",
};

/// Rows above the header a ledger may have (its title, the unit, …).
const TITLE_ROWS: usize = 10;

/// Reads `bytes` as a workbook (by its zip signature) or as CSV text.
pub fn read(bytes: &[u8], limits: FileLimits, header: HeaderRule) -> Result<Sheet, AppError> {
    if bytes.len() > limits.max_bytes {
        return Err(AppError::PayloadTooLarge(format!(
            "文件超过 {} 字节的上限",
            limits.max_bytes
        )));
    }
    if bytes.is_empty() {
        return Err(AppError::invalid("file", "文件为空"));
    }
    let rows = if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes, limits, header)?
    } else if looks_binary(bytes) {
        return Err(AppError::UnsupportedMediaType(
            "文件既不是 XLSX 工作簿也不是 CSV 文本(旧版 .xls 请另存为 .xlsx)".into(),
        ));
    } else {
        read_csv(bytes, limits)?
    };
    split_header(rows, header)
}

/// Bytes no text file holds: NUL, or the signature of an OLE (.xls) or
/// other binary file.
fn looks_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(8192).any(|b| *b == 0) || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

fn read_xlsx(
    bytes: &[u8],
    limits: FileLimits,
    header: HeaderRule,
) -> Result<Vec<(usize, Vec<CellValue>)>, AppError> {
    check_zip(bytes, limits)?;
    let not_a_workbook = |e: calamine::XlsxError| {
        AppError::invalid("file", format!("文件不是可读的 XLSX 工作簿:{e}"))
    };
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(not_a_workbook)?;
    let Some(name) = workbook.sheet_names().first().cloned() else {
        return Err(AppError::invalid("file", "工作簿中没有工作表"));
    };
    let range = workbook.worksheet_range(&name).map_err(not_a_workbook)?;
    let (height, width) = range.get_size();
    if height > limits.max_rows + TITLE_ROWS + 1 {
        return Err(too_many_rows(limits));
    }
    if width > limits.max_columns {
        return Err(AppError::invalid(
            "file",
            format!("工作表超过 {} 列的上限", limits.max_columns),
        ));
    }
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let rows: Vec<(usize, Vec<CellValue>)> = range
        .rows()
        .enumerate()
        .map(|(i, row)| {
            let mut cells = vec![CellValue::Empty; first_col as usize];
            cells.extend(row.iter().map(cell_of));
            (first_row as usize + i + 1, cells)
        })
        .collect();
    // A header cell merged across columns leaves the others blank: say so
    // precisely rather than as a missing header.
    let merged: Vec<(u32, u32, u32, u32)> = workbook
        .merge_cells_by_sheet_name(&name)
        .map_err(not_a_workbook)?
        .iter()
        .map(|d| (d.start.0, d.start.1, d.end.0, d.end.1))
        .collect();
    if let Some(header_row) = header_index(&rows, header) {
        let sheet_row = rows[header_row].0 as u32 - 1;
        if let Some((_, c0, _, c1)) = merged
            .iter()
            .find(|(r0, _, r1, _)| *r0 <= sheet_row && sheet_row <= *r1)
        {
            return Err(AppError::invalid(
                "file",
                format!(
                    "表头(第{}行)第{}至{}列是合并单元格:每列须有自己的列名",
                    sheet_row + 1,
                    c0 + 1,
                    c1 + 1
                ),
            ));
        }
    }
    Ok(rows)
}

/// Refuses a workbook whose parts would inflate past the limit, or hold
/// too many entries, judged from the zip directory before inflating.
fn check_zip(bytes: &[u8], limits: FileLimits) -> Result<(), AppError> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| AppError::invalid("file", format!("文件不是可读的 XLSX 工作簿:{e}")))?;
    if archive.len() > limits.max_zip_entries {
        return Err(AppError::invalid("file", "工作簿的部件过多"));
    }
    let mut archive = archive;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| AppError::invalid("file", format!("文件不是可读的 XLSX 工作簿:{e}")))?;
        total = total.saturating_add(entry.size());
    }
    if total > limits.max_unzipped_bytes {
        return Err(AppError::PayloadTooLarge(format!(
            "工作簿解压后超过 {} 字节的上限",
            limits.max_unzipped_bytes
        )));
    }
    Ok(())
}

fn cell_of(data: &Data) -> CellValue {
    match data {
        Data::Empty => CellValue::Empty,
        Data::String(s) => CellValue::Text(s.clone()),
        Data::Int(i) => CellValue::Number(*i as f64),
        Data::Float(f) => CellValue::Number(*f),
        Data::Bool(b) => CellValue::Text(if *b { "是" } else { "否" }.to_owned()),
        Data::DateTime(at) => {
            let serial = at.as_f64();
            chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
                .map(|epoch| epoch + chrono::Duration::days(serial.trunc() as i64))
                .map_or(CellValue::Number(serial), CellValue::Date)
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => CellValue::Text(s.clone()),
        Data::Error(_) => CellValue::Text("#错误".to_owned()),
    }
}

fn read_csv(bytes: &[u8], limits: FileLimits) -> Result<Vec<(usize, Vec<CellValue>)>, AppError> {
    let text = decode_text(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        if rows.len() > limits.max_rows + TITLE_ROWS {
            return Err(too_many_rows(limits));
        }
        let record = record
            .map_err(|e| AppError::invalid("file", format!("CSV 第{}行无法读取:{e}", i + 1)))?;
        if record.len() > limits.max_columns {
            return Err(AppError::invalid(
                "file",
                format!("CSV 第{}行超过 {} 列的上限", i + 1, limits.max_columns),
            ));
        }
        let cells = record
            .iter()
            .map(|c| {
                if c.trim().is_empty() {
                    CellValue::Empty
                } else {
                    CellValue::Text(c.to_owned())
                }
            })
            .collect();
        rows.push((i + 1, cells));
    }
    Ok(rows)
}

/// UTF-8 (a BOM is dropped) or, failing that, GB18030.
fn decode_text(bytes: &[u8]) -> Result<String, AppError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
    if had_errors {
        return Err(AppError::UnsupportedMediaType(
            "CSV 文件既不是 UTF-8 也不是 GB18030 编码的文本".into(),
        ));
    }
    Ok(text.into_owned())
}

fn too_many_rows(limits: FileLimits) -> AppError {
    AppError::PayloadTooLarge(format!(
        "一个文件至多 {} 行隐患:请分成几个文件导入",
        limits.max_rows
    ))
}

/// The header row, by `rule`.
fn header_index(rows: &[(usize, Vec<CellValue>)], rule: HeaderRule) -> Option<usize> {
    rows.iter().take(TITLE_ROWS).position(|(_, cells)| {
        cells.iter().filter(|c| (rule.known)(&c.text())).count() >= rule.at_least
    })
}

fn split_header(
    mut rows: Vec<(usize, Vec<CellValue>)>,
    rule: HeaderRule,
) -> Result<Sheet, AppError> {
    let Some(index) = header_index(&rows, rule) else {
        return Err(AppError::invalid(
            "file",
            format!("前10行中找不到表头:表头须至少包含{}", rule.example),
        ));
    };
    let data = rows.split_off(index + 1);
    let headers = rows.pop().map(|(_, cells)| cells).unwrap_or_default();
    let rows = data
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_blank()))
        .collect();
    Ok(Sheet { headers, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb18030_csv_is_read_as_chinese() {
        let (bytes, _, _) = encoding_rs::GB18030
            .encode("企业名称,隐患描述,隐患部位,发现时间\n甲公司,阀门泄漏,罐区,2024-3-5\n");
        let sheet = read(&bytes, FileLimits::default(), HAZARD_HEADER).unwrap();
        assert_eq!(sheet.headers[1], CellValue::Text("隐患描述".into()));
        assert_eq!(sheet.rows[0].0, 2);
        assert_eq!(sheet.rows[0].1[1], CellValue::Text("阀门泄漏".into()));
    }

    #[test]
    fn title_rows_above_the_header_are_skipped() {
        let csv = "\u{feff}某某化工有限公司隐患排查治理台账,,,\n,,,\n序号,隐患内容,地点,排查日期\n1,a,b,2024/1/2\n,,,\n";
        let sheet = read(csv.as_bytes(), FileLimits::default(), HAZARD_HEADER).unwrap();
        assert_eq!(sheet.headers[1], CellValue::Text("隐患内容".into()));
        assert_eq!(sheet.rows.len(), 1, "blank rows are dropped");
        assert_eq!(sheet.rows[0].0, 4);
    }

    #[test]
    fn what_is_not_a_ledger_is_refused() {
        assert!(matches!(
            read(b"", FileLimits::default(), HAZARD_HEADER),
            Err(AppError::Validation { .. })
        ));
        assert!(matches!(
            read(
                &[0xD0, 0xCF, 0x11, 0xE0, 0, 0, 0, 0],
                FileLimits::default(),
                HAZARD_HEADER
            ),
            Err(AppError::UnsupportedMediaType(_))
        ));
        assert!(matches!(
            read(
                b"PK\x03\x04 not really a zip",
                FileLimits::default(),
                HAZARD_HEADER
            ),
            Err(AppError::Validation { .. })
        ));
        assert!(matches!(
            read(b"a,b,c\n1,2,3\n", FileLimits::default(), HAZARD_HEADER),
            Err(AppError::Validation { .. })
        ));
        let small = FileLimits {
            max_rows: 2,
            ..FileLimits::default()
        };
        let many = format!(
            "隐患描述,隐患部位,发现时间\n{}",
            "a,b,2024-1-1\n".repeat(20)
        );
        assert!(matches!(
            read(many.as_bytes(), small, HAZARD_HEADER),
            Err(AppError::PayloadTooLarge(_))
        ));
    }
}
