//! A ledger file's bytes as rows of cells: an XLSX workbook's first sheet
//! or a CSV file (UTF-8, with or without BOM, or GB18030 as Chinese Excel
//! saves it). Every size is bounded before it is read — bytes, the
//! unzipped size and entry count of a workbook (a zip bomb is refused
//! without being inflated), the strings its string table announces, rows
//! and columns (a workbook's cells each held to them as they are read:
//! nothing is sized by a number the file gives) — and the header row is
//! found below any title rows, its merged cells refused.

use std::collections::BTreeMap;
use std::io::{BufReader, Cursor, Read};
use std::panic::AssertUnwindSafe;

use calamine::{Data, DataRef, Reader, Xlsx, XlsxError};

use crate::domain::ledger::{field_of, CellValue};
use crate::error::AppError;
use crate::messages::Detail;

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

/// Rows of cells, each with its row number as the file shows it.
type Rows = Vec<(usize, Vec<CellValue>)>;

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
        return Err(AppError::payload_too_large(
            Detail::LedgerTooLarge.with("max_bytes", limits.max_bytes),
        ));
    }
    if bytes.is_empty() {
        return Err(AppError::invalid("file", "文件为空"));
    }
    let rows = if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes, limits, header)?
    } else if looks_binary(bytes) {
        return Err(AppError::unsupported_media_type(Detail::NotXlsxOrCsv));
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

fn read_xlsx(bytes: &[u8], limits: FileLimits, header: HeaderRule) -> Result<Rows, AppError> {
    check_zip(bytes, limits)?;
    // calamine 0.38 reads a cell reference (`A1`, `B2:C3`) with u32
    // arithmetic it does not check: a row past u32 (`A99999999999`), a
    // dozen column letters or a range written backwards overflows. With
    // overflow checks, on for calamine in every profile (Cargo.toml), that
    // panics rather than wrapping to another cell: the file is malformed
    // and refused, and the panic fails nothing but this file.
    std::panic::catch_unwind(AssertUnwindSafe(|| read_workbook(bytes, limits, header)))
        .unwrap_or_else(|_| Err(AppError::invalid("file", "文件不是可读的 XLSX 工作簿")))
}

fn not_a_workbook(e: XlsxError) -> AppError {
    AppError::invalid("file", format!("文件不是可读的 XLSX 工作簿:{e}"))
}

fn read_workbook(bytes: &[u8], limits: FileLimits, header: HeaderRule) -> Result<Rows, AppError> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(not_a_workbook)?;
    let Some(name) = workbook.sheet_names().first().cloned() else {
        return Err(AppError::invalid("file", "工作簿中没有工作表"));
    };
    let (mut rows, width) = read_cells(&mut workbook, &name, limits)?;
    // A header cell merged across columns leaves the others blank: say so
    // precisely rather than as a missing header. (calamine keeps one small
    // record per `<mergeCell>` of the sheet: bounded by its bytes, sized
    // by no number in it.)
    let merged: Vec<(u32, u32, u32, u32)> = workbook
        .merge_cells_by_sheet_name(&name)
        .map_err(not_a_workbook)?
        .iter()
        .map(|d| (d.start.0, d.start.1, d.end.0, d.end.1))
        .collect();
    if let Some(header_row) = header_index(&rows, header) {
        // The header spans every column a row reaches, so a column a
        // header cell does not name is still a column.
        let (number, cells) = &mut rows[header_row];
        if cells.len() < width {
            cells.resize(width, CellValue::Empty);
        }
        let sheet_row = *number as u32 - 1;
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

/// The sheet's cells, streamed and each held to the limits as it comes,
/// so a cell far out (`XFD1048576` in a file of a few kilobytes) is
/// refused before anything is sized from it. Only rows that hold a cell
/// are kept, each as wide as its rightmost cell; the widest row's width
/// comes with them. The sheet's `<dimension>` is not used: it is what the file
/// claims, not what it holds. Empty cells (formatted, without a value)
/// hold nothing and count for nothing.
fn read_cells(
    workbook: &mut Xlsx<Cursor<&[u8]>>,
    name: &str,
    limits: FileLimits,
) -> Result<(Rows, usize), AppError> {
    let most_rows = limits.max_rows + TITLE_ROWS + 1;
    let mut cells = match workbook.worksheet_cells_reader(name) {
        Ok(cells) => cells,
        // A chart sheet first: no cells, as calamine's own ranges have it.
        Err(XlsxError::NotAWorksheet(_)) => return Ok((Vec::new(), 0)),
        Err(e) => return Err(not_a_workbook(e)),
    };
    let mut rows: BTreeMap<u32, Vec<CellValue>> = BTreeMap::new();
    let mut width = 0;
    while let Some(cell) = cells.next_cell().map_err(not_a_workbook)? {
        if matches!(cell.get_value(), DataRef::Empty) {
            continue;
        }
        let (row, col) = cell.get_position();
        let (r, c) = (row as usize, col as usize);
        if r >= most_rows {
            // Rows enough to reach the limit: the file is too long. One
            // cell far below the rest: the sheet reaches past it.
            return Err(if rows.len() >= limits.max_rows {
                too_many_rows(limits)
            } else {
                AppError::invalid(
                    "file",
                    format!(
                        "工作表超过 {most_rows} 行的上限:单元格 {} 有内容",
                        cell_name(row, col)
                    ),
                )
            });
        }
        if c >= limits.max_columns {
            return Err(AppError::invalid(
                "file",
                format!(
                    "工作表超过 {} 列的上限:单元格 {} 有内容",
                    limits.max_columns,
                    cell_name(row, col)
                ),
            ));
        }
        let cells = rows.entry(row).or_default();
        if cells.len() <= c {
            cells.resize(c + 1, CellValue::Empty);
        }
        cells[c] = cell_of(cell.get_value().clone().into());
        width = width.max(c + 1);
    }
    let rows = rows
        .into_iter()
        .map(|(row, cells)| (row as usize + 1, cells))
        .collect();
    Ok((rows, width))
}

/// A cell's name as Excel shows it (`XFD1048576`), from its 0-based place.
fn cell_name(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut n = u64::from(col) + 1;
    while n > 0 {
        n -= 1;
        letters.push(char::from(b'A' + (n % 26) as u8));
        n /= 26;
    }
    letters.iter().rev().collect::<String>() + &(u64::from(row) + 1).to_string()
}

/// Refuses a workbook whose parts would inflate past the limit, or hold
/// too many entries, judged from the zip directory before inflating; and
/// one whose shared-string table announces more strings than it could
/// hold, since calamine reserves room for as many as it announces.
fn check_zip(bytes: &[u8], limits: FileLimits) -> Result<(), AppError> {
    let not_readable = |e: zip::result::ZipError| {
        AppError::invalid("file", format!("文件不是可读的 XLSX 工作簿:{e}"))
    };
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(not_readable)?;
    if archive.len() > limits.max_zip_entries {
        return Err(AppError::invalid("file", "工作簿的部件过多"));
    }
    let mut archive = archive;
    let mut total: u64 = 0;
    let mut string_tables = Vec::new();
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(not_readable)?;
        total = total.saturating_add(entry.size());
        // calamine finds the table by a name it compares without case.
        let name = entry.name().map_err(not_readable)?;
        if name.to_ascii_lowercase().ends_with("sharedstrings.xml") {
            string_tables.push((i, entry.size()));
        }
    }
    if total > limits.max_unzipped_bytes {
        return Err(AppError::payload_too_large(
            Detail::WorkbookUnzippedTooLarge.with("max_bytes", limits.max_unzipped_bytes),
        ));
    }
    // No sheet within the limits uses more strings than it has cells.
    let most_strings = (limits.max_rows + TITLE_ROWS + 1).saturating_mul(limits.max_columns);
    for (i, size) in string_tables {
        let announced = announced_strings(archive.by_index(i).map_err(not_readable)?);
        if announced > most_strings as u64 {
            return Err(AppError::invalid(
                "file",
                format!("工作簿的共享字符串超过 {most_strings} 个的上限"),
            ));
        }
        // Each string is an `<si>` element, five bytes at the least.
        if announced > size / 5 {
            return Err(AppError::invalid(
                "file",
                "文件不是可读的 XLSX 工作簿:共享字符串表所称的个数多于其内容",
            ));
        }
    }
    Ok(())
}

/// How many strings a shared-string table announces (`<sst
/// uniqueCount="…">`), read with the parser and settings calamine uses,
/// and more loosely than calamine reads it (which takes the first
/// attribute named exactly so, when it is all digits): the most any
/// `uniqueCount` attribute of that element begins with. 0 when there is
/// none or the part is not XML (calamine then refuses it itself).
fn announced_strings(part: impl Read) -> u64 {
    use quick_xml::events::Event;
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(part));
    let config = xml.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.local_name().as_ref() == "sst" => {
                return largest_unique_count(e.attributes_raw().as_bytes());
            }
            Ok(Event::Eof) | Err(_) => return 0,
            Ok(_) => {}
        }
    }
}

fn largest_unique_count(attributes: &[u8]) -> u64 {
    const KEY: &[u8] = b"uniqueCount";
    let mut largest = 0;
    let mut rest = attributes;
    while let Some(at) = rest.windows(KEY.len()).position(|w| w == KEY) {
        rest = &rest[at + KEY.len()..];
        let value = rest
            .trim_ascii_start()
            .strip_prefix(b"=")
            .map(<[u8]>::trim_ascii_start)
            .and_then(|v| v.strip_prefix(b"\"").or_else(|| v.strip_prefix(b"'")));
        if let Some(value) = value {
            let digits = value.strip_prefix(b"+").unwrap_or(value);
            let n = digits
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .fold(0u64, |n, d| {
                    n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                });
            largest = largest.max(n);
        }
    }
    largest
}

fn cell_of(data: Data) -> CellValue {
    match data {
        Data::Empty => CellValue::Empty,
        Data::String(s) => CellValue::Text(s),
        Data::Int(i) => CellValue::Number(i as f64),
        Data::Float(f) => CellValue::Number(f),
        Data::Bool(b) => CellValue::Text(if b { "是" } else { "否" }.to_owned()),
        Data::DateTime(at) => {
            // A serial past the calendar (a date format on a huge number)
            // stays a number.
            let serial = at.as_f64();
            chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
                .zip(chrono::TimeDelta::try_days(serial.trunc() as i64))
                .and_then(|(epoch, days)| epoch.checked_add_signed(days))
                .map_or(CellValue::Number(serial), CellValue::Date)
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => CellValue::Text(s),
        Data::Error(_) => CellValue::Text("#错误".to_owned()),
    }
}

fn read_csv(bytes: &[u8], limits: FileLimits) -> Result<Rows, AppError> {
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
        return Err(AppError::unsupported_media_type(Detail::CsvEncodingUnknown));
    }
    Ok(text.into_owned())
}

fn too_many_rows(limits: FileLimits) -> AppError {
    AppError::payload_too_large(Detail::LedgerTooManyRows.with("max_rows", limits.max_rows))
}

/// The header row, by `rule`: one of the first rows, counted from the
/// first that holds anything (a workbook's rows without cells are not
/// kept, so rows are told by their numbers).
fn header_index(rows: &[(usize, Vec<CellValue>)], rule: HeaderRule) -> Option<usize> {
    let first = rows.first()?.0;
    rows.iter()
        .take_while(|(number, _)| *number < first + TITLE_ROWS)
        .position(|(_, cells)| {
            cells.iter().filter(|c| (rule.known)(&c.text())).count() >= rule.at_least
        })
}

fn split_header(mut rows: Rows, rule: HeaderRule) -> Result<Sheet, AppError> {
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

    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
    const DOC_RELS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

    /// A zip of `parts`, each stored or deflated.
    fn zip_of(parts: &[(&str, Vec<u8>)], stored: bool) -> Vec<u8> {
        use std::io::Write;
        let method = if stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in parts {
            out.start_file(*name, options).unwrap();
            out.write_all(data).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    /// A workbook written part by part: one sheet of the XML given, its
    /// style 1 a date, and a shared-string table when one is given.
    fn handmade(sheet: &str, strings: Option<&str>) -> Vec<u8> {
        let mut parts = vec![
            (
                "_rels/.rels",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
                ),
            ),
            (
                "xl/workbook.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets><sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>"#
                ),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
                ),
            ),
            (
                "xl/styles.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>"#
                ),
            ),
            ("xl/worksheets/sheet1.xml", sheet.to_owned()),
        ];
        if let Some(strings) = strings {
            parts.push(("xl/sharedStrings.xml", strings.to_owned()));
        }
        let parts: Vec<(&str, Vec<u8>)> = parts
            .into_iter()
            .map(|(name, text)| (name, text.into_bytes()))
            .collect();
        zip_of(&parts, false)
    }

    /// A sheet's XML: its `<dimension>` if given, and `cells` (the XML of
    /// rows or cells) as its data.
    fn sheet_xml(dimension: Option<&str>, cells: &str) -> String {
        let dimension = dimension
            .map(|d| format!(r#"<dimension ref="{d}"/>"#))
            .unwrap_or_default();
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{dimension}<sheetData>{cells}</sheetData></worksheet>"#
        )
    }

    /// A cell of inline text at `reference`.
    fn text_cell(reference: &str, text: &str) -> String {
        format!(r#"<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>"#)
    }

    /// A small hazard ledger's rows as sheet XML: the header and two rows.
    fn ledger_rows() -> String {
        let mut xml = String::new();
        let rows = [
            ["隐患描述", "隐患部位", "发现时间"],
            ["阀门泄漏", "罐区", "2024-03-05"],
            ["消防栓被遮挡", "仓库", "2024-03-06"],
        ];
        for (r, row) in rows.iter().enumerate() {
            xml += &format!(r#"<row r="{}">"#, r + 1);
            for (c, text) in row.iter().enumerate() {
                xml += &text_cell(&cell_name(r as u32, c as u32), text);
            }
            xml += "</row>";
        }
        xml
    }

    fn refusal(outcome: Result<Sheet, AppError>) -> String {
        match outcome {
            Err(AppError::Validation { errors, .. }) => errors
                .get("file")
                .map(ToString::to_string)
                .unwrap_or_else(|| panic!("no file error: {errors:?}")),
            other => panic!("not refused as invalid: {other:?}"),
        }
    }

    #[test]
    fn a_cell_past_the_limits_is_refused_before_the_sheet_is_sized() {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        for (c, name) in ["隐患描述", "隐患部位", "发现时间"].iter().enumerate() {
            sheet.write_string(0, c as u16, *name).unwrap();
            sheet.write_string(1, c as u16, "x").unwrap();
        }
        sheet.write_string(1_048_575, 16_383, "far").unwrap();
        let far = workbook.save_to_buffer().unwrap();
        let reason = refusal(read(&far, FileLimits::default(), HAZARD_HEADER));
        assert_eq!(reason, "工作表超过 50011 行的上限:单元格 XFD1048576 有内容");

        let wide = handmade(
            &sheet_xml(None, &(ledger_rows() + &text_cell("CW2", "x"))),
            None,
        );
        let reason = refusal(read(&wide, FileLimits::default(), HAZARD_HEADER));
        assert_eq!(reason, "工作表超过 100 列的上限:单元格 CW2 有内容");
        let at_the_edge = handmade(
            &sheet_xml(None, &(ledger_rows() + &text_cell("CV2", "x"))),
            None,
        );
        let sheet = read(&at_the_edge, FileLimits::default(), HAZARD_HEADER).unwrap();
        assert_eq!(sheet.headers.len(), 100, "the header spans every column");
        assert_eq!(sheet.rows[0].1.len(), 100);
        assert_eq!(sheet.rows[1].1.len(), 3, "a row as wide as its cells");

        // Many rows remain a file too long.
        let small = FileLimits {
            max_rows: 2,
            ..FileLimits::default()
        };
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        for r in 0..20 {
            for (c, name) in ["隐患描述", "隐患部位", "发现时间"].iter().enumerate() {
                sheet.write_string(r, c as u16, *name).unwrap();
            }
        }
        assert!(matches!(
            read(&workbook.save_to_buffer().unwrap(), small, HAZARD_HEADER),
            Err(AppError::PayloadTooLarge(_))
        ));
    }

    #[test]
    fn a_dimension_is_a_claim_and_the_cells_are_read() {
        for dimension in ["A1:XFD1048576", "A1", "XFD1048576", "B2:C3"] {
            let bytes = handmade(&sheet_xml(Some(dimension), &ledger_rows()), None);
            let sheet = read(&bytes, FileLimits::default(), HAZARD_HEADER).unwrap();
            assert_eq!(sheet.headers.len(), 3, "{dimension}");
            assert_eq!(sheet.rows.len(), 2, "{dimension}");
            assert_eq!(sheet.rows[1].0, 3, "{dimension}");
        }
        // What is no range at all is a malformed file (calamine reads the
        // dimension before the cells).
        for dimension in ["C3:A1", "A99999999999", "A0", "A1:B2:C3", "?"] {
            let bytes = handmade(&sheet_xml(Some(dimension), &ledger_rows()), None);
            let outcome = read(&bytes, FileLimits::default(), HAZARD_HEADER);
            assert!(
                matches!(outcome, Err(AppError::Validation { .. })),
                "{dimension}: {outcome:?}"
            );
        }
    }

    #[test]
    fn references_past_u32_or_not_references_are_refused() {
        for reference in [
            "A99999999999",
            "A4294967297",
            "AAAAAAAAAAAA1",
            "A0",
            "1",
            "A",
            "Ä1",
            "A1:B2",
        ] {
            let cells = ledger_rows() + &text_cell(reference, "x");
            let bytes = handmade(&sheet_xml(None, &cells), None);
            let outcome = read(&bytes, FileLimits::default(), HAZARD_HEADER);
            assert!(
                matches!(outcome, Err(AppError::Validation { .. })),
                "{reference}: {outcome:?}"
            );
        }
    }

    #[test]
    fn a_string_table_is_held_to_what_it_can_hold() {
        let strings = |announced: &str| {
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="3" uniqueCount="{announced}"><si><t>隐患描述</t></si><si><t>隐患部位</t></si><si><t>发现时间</t></si></sst>"#
            )
        };
        let cells = r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row><row r="2"><c r="A2" t="s"><v>0</v></c></row>"#;
        let sheet = read(
            &handmade(&sheet_xml(None, cells), Some(&strings("3"))),
            FileLimits::default(),
            HAZARD_HEADER,
        )
        .unwrap();
        assert_eq!(sheet.headers[2], CellValue::Text("发现时间".into()));
        for announced in [
            "10000000000",
            "99999999999999999999999",
            "0000000000000000000000001000",
        ] {
            let bytes = handmade(&sheet_xml(None, cells), Some(&strings(announced)));
            let reason = refusal(read(&bytes, FileLimits::default(), HAZARD_HEADER));
            assert!(reason.contains("共享字符串"), "{announced}: {reason}");
        }
    }

    #[test]
    fn unique_counts_are_read_loosely() {
        assert_eq!(largest_unique_count(br#" count="9" uniqueCount="12""#), 12);
        assert_eq!(largest_unique_count(b" uniqueCount = '+0007' "), 7);
        assert_eq!(
            largest_unique_count(br#" x:uniqueCount="5" uniqueCount="99999999999999999999999""#),
            u64::MAX
        );
        assert_eq!(largest_unique_count(br#" count="9""#), 0);
    }

    #[test]
    fn a_date_cell_past_the_calendar_stays_a_number() {
        let cells = ledger_rows()
            + r#"<row r="4"><c r="A4" t="inlineStr"><is><t>x</t></is></c><c r="C4" s="1"><v>45356</v></c></row>"#
            + r#"<row r="5"><c r="A5" t="inlineStr"><is><t>y</t></is></c><c r="C5" s="1"><v>1e300</v></c></row>"#
            + r#"<row r="6"><c r="A6" t="inlineStr"><is><t>z</t></is></c><c r="C6" s="1"><v>-9e15</v></c></row>"#;
        let bytes = handmade(&sheet_xml(None, &cells), None);
        let sheet = read(&bytes, FileLimits::default(), HAZARD_HEADER).unwrap();
        let dates: Vec<&CellValue> = sheet.rows[2..].iter().map(|(_, cells)| &cells[2]).collect();
        assert_eq!(
            dates,
            [
                &CellValue::Date(chrono::NaiveDate::from_ymd_opt(2024, 3, 5).unwrap()),
                &CellValue::Number(1e300),
                &CellValue::Number(-9e15),
            ]
        );
    }

    /// Whatever bytes come in, reading gives a sheet within the limits or
    /// a refusal the client is answered for (4xx): never a panic, never a
    /// server error, and nothing sized by a number the file gives (a
    /// workbook that made the reader allocate by its dimension, a far
    /// cell or a string count would abort this test process).
    mod properties {
        use actix_web::ResponseError;
        use proptest::prelude::*;
        use proptest::sample::{select, Index};

        use super::super::*;
        use super::{handmade, sheet_xml, zip_of};

        const CASES: u32 = 96;

        fn holds(
            outcome: Result<Sheet, AppError>,
            limits: FileLimits,
        ) -> Result<(), TestCaseError> {
            let most_rows = limits.max_rows + TITLE_ROWS + 1;
            match outcome {
                Ok(sheet) => {
                    prop_assert!(sheet.headers.len() <= limits.max_columns);
                    prop_assert!(sheet.rows.len() <= most_rows);
                    for (number, cells) in &sheet.rows {
                        prop_assert!((1..=most_rows).contains(number), "row {number}");
                        prop_assert!(cells.len() <= limits.max_columns);
                    }
                }
                Err(e) => prop_assert!(
                    e.status_code().is_client_error(),
                    "{e:?} answers {}",
                    e.status_code()
                ),
            }
            Ok(())
        }

        fn limits() -> impl Strategy<Value = FileLimits> {
            prop_oneof![
                Just(FileLimits::default()),
                (1usize..6, 1usize..8).prop_map(|(max_rows, max_columns)| FileLimits {
                    max_rows,
                    max_columns,
                    ..FileLimits::default()
                }),
            ]
        }

        /// Text for an XML attribute or element, escaped.
        fn escaped(text: &str) -> String {
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        }

        /// A cell reference: mostly near ones, and far ones, ones past u32
        /// and ones that are no reference at all.
        fn reference() -> impl Strategy<Value = String> {
            prop_oneof![
                4 => (0u32..14, 0u32..9).prop_map(|(row, col)| cell_name(row, col)),
                2 => select(vec![
                    "XFD1048576", "XFE1", "AAAA1", "A0", "A99999999999", "A4294967296",
                    "A4294967297", "ZZZZZZZZZZZZ1", "A1048577", "A50011", "A50012", "CV1",
                    "CW1", "", "1", "A", "a1", "A-1", "Ä1", "A1:B2", "B2:A1", " A1", "A1 ",
                ])
                .prop_map(str::to_owned),
                1 => "[A-Za-z]{0,5}[0-9]{0,13}",
                1 => "\\PC{0,8}",
            ]
        }

        fn dimension() -> impl Strategy<Value = Option<String>> {
            prop::option::of(prop_oneof![
                reference(),
                (reference(), reference()).prop_map(|(a, b)| format!("{a}:{b}")),
            ])
        }

        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                select(vec![
                    "隐患描述",
                    "隐患部位",
                    "发现时间",
                    "企业名称",
                    "整改期限",
                    ""
                ])
                .prop_map(str::to_owned),
                "\\PC{0,12}",
            ]
        }

        fn number() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<f64>().prop_map(|f| f.to_string()),
                select(vec![
                    "1e300", "-1e300", "NaN", "inf", "45356", "0", "-1", "2958466", "1e15", "abc",
                    "",
                ])
                .prop_map(str::to_owned),
            ]
        }

        /// A cell's attributes after its reference, and its content.
        fn value() -> impl Strategy<Value = (String, String)> {
            prop_oneof![
                text().prop_map(|t| (
                    r#" t="inlineStr""#.to_owned(),
                    format!("<is><t>{}</t></is>", escaped(&t))
                )),
                number().prop_map(|v| (String::new(), format!("<v>{v}</v>"))),
                // Style 1 is a date.
                number().prop_map(|v| (r#" s="1""#.to_owned(), format!("<v>{v}</v>"))),
                (0u32..8).prop_map(|i| (r#" t="s""#.to_owned(), format!("<v>{i}</v>"))),
                select(vec!["0", "1", "true", "2", ""])
                    .prop_map(|v| (r#" t="b""#.to_owned(), format!("<v>{v}</v>"))),
                Just((r#" t="e""#.to_owned(), "<v>#N/A</v>".to_owned())),
                Just((String::new(), String::new())),
            ]
        }

        fn cell() -> impl Strategy<Value = String> {
            (prop::option::weighted(0.85, reference()), value()).prop_map(|(r, (attrs, body))| {
                let r = r
                    .map(|r| format!(r#" r="{}""#, escaped(&r)))
                    .unwrap_or_default();
                format!("<c{r}{attrs}>{body}</c>")
            })
        }

        fn row_number() -> impl Strategy<Value = String> {
            prop_oneof![
                3 => (1u32..16).prop_map(|r| r.to_string()),
                1 => select(vec![
                    "0", "1048576", "1048577", "4294967295", "4294967296", "99999999999", "-1",
                    "x", "",
                ])
                .prop_map(str::to_owned),
            ]
        }

        /// Sheet data: rows (with or without a number) of cells, or cells
        /// outside any row.
        fn cells() -> impl Strategy<Value = String> {
            prop::collection::vec(
                (
                    prop::option::weighted(0.8, prop::option::of(row_number())),
                    prop::collection::vec(cell(), 0..6),
                ),
                0..8,
            )
            .prop_map(|rows| {
                rows.into_iter()
                    .map(|(row, cells)| {
                        let cells = cells.concat();
                        match row {
                            Some(Some(r)) => format!(r#"<row r="{}">{cells}</row>"#, escaped(&r)),
                            Some(None) => format!("<row>{cells}</row>"),
                            None => cells,
                        }
                    })
                    .collect()
            })
        }

        fn string_table() -> impl Strategy<Value = Option<String>> {
            let announced = prop_oneof![
                (0u64..10).prop_map(|n| n.to_string()),
                select(vec![
                    "10000000000",
                    "18446744073709551615",
                    "99999999999999999999999",
                    "4294967296",
                    "5000000",
                    "5001100",
                    "abc",
                    "-1",
                    "+9999999999",
                    "0000000000000000000000000000000007",
                ])
                .prop_map(str::to_owned),
            ];
            prop::option::of((announced, prop::collection::vec(text(), 0..6))).prop_map(
                |table| {
                    table.map(|(announced, strings)| {
                        let items: String = strings
                            .iter()
                            .map(|s| format!("<si><t>{}</t></si>", escaped(s)))
                            .collect();
                        format!(
                            r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{}" uniqueCount="{announced}">{items}</sst>"#,
                            super::MAIN
                        )
                    })
                },
            )
        }

        /// A ledger workbook as Excel users make it.
        fn ledger_workbook() -> Vec<u8> {
            let mut workbook = rust_xlsxwriter::Workbook::new();
            let sheet = workbook.add_worksheet();
            sheet.write_string(0, 0, "某园区隐患台账").unwrap();
            let rows = [
                ["企业名称", "隐患描述", "隐患部位", "发现时间"],
                ["甲公司", "阀门泄漏", "罐区", "2024-03-05"],
                ["乙公司", "消防栓被遮挡", "仓库", "2024/3/6"],
            ];
            for (r, row) in rows.iter().enumerate() {
                for (c, text) in row.iter().enumerate() {
                    sheet.write_string(r as u32 + 1, c as u16, *text).unwrap();
                }
            }
            let day = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
            sheet.write_number_with_format(3, 4, 45356.0, &day).unwrap();
            workbook.save_to_buffer().unwrap()
        }

        #[derive(Debug, Clone)]
        enum Mutation {
            Flip(Index, u8),
            Truncate(Index),
            Insert(Index, Vec<u8>),
        }

        fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
            prop::collection::vec(
                prop_oneof![
                    4 => (any::<Index>(), 1u8..=255).prop_map(|(at, bits)| Mutation::Flip(at, bits)),
                    1 => any::<Index>().prop_map(Mutation::Truncate),
                    2 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..12))
                        .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
                ],
                1..5,
            )
        }

        fn mutated(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
            for mutation in mutations {
                if bytes.is_empty() {
                    break;
                }
                match mutation {
                    Mutation::Flip(at, bits) => {
                        let at = at.index(bytes.len());
                        bytes[at] ^= bits;
                    }
                    Mutation::Truncate(at) => bytes.truncate(at.index(bytes.len())),
                    Mutation::Insert(at, more) => {
                        let at = at.index(bytes.len() + 1);
                        bytes.splice(at..at, more.iter().copied());
                    }
                }
            }
            bytes
        }

        /// A workbook's parts, inflated.
        fn parts_of(workbook: &[u8]) -> Vec<(String, Vec<u8>)> {
            let mut archive = zip::ZipArchive::new(Cursor::new(workbook)).unwrap();
            (0..archive.len())
                .map(|i| {
                    let mut entry = archive.by_index(i).unwrap();
                    let name = entry.name().unwrap().into_owned();
                    let mut data = Vec::new();
                    entry.read_to_end(&mut data).unwrap();
                    (name, data)
                })
                .collect()
        }

        fn ledger_csv() -> Vec<u8> {
            "某园区隐患台账,,,\n企业名称,隐患描述,隐患部位,发现时间\n甲公司,阀门泄漏,罐区,2024-03-05\n乙公司,\"消防栓被遮挡,\"\"二号\"\"\",仓库,2024/3/6\n"
                .as_bytes()
                .to_vec()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(CASES))]

            #[test]
            fn handmade_workbooks_are_read_or_refused(
                dimension in dimension(),
                cells in cells(),
                strings in string_table(),
                limits in limits(),
            ) {
                let bytes = handmade(&sheet_xml(dimension.as_deref(), &cells), strings.as_deref());
                holds(read(&bytes, limits, HAZARD_HEADER), limits)?;
            }

            #[test]
            fn workbooks_with_far_cells_are_read_or_refused(
                near in prop::collection::vec((0u32..20, 0u16..10), 0..12),
                // Rows past the limit but not to the sheet's end: the
                // writer visits every row number up to the last (XFD1048576
                // itself is the unit and API tests' file).
                far in prop::collection::vec((0u32..60_000, 0u16..16_384), 1..3),
                limits in limits(),
            ) {
                let mut workbook = rust_xlsxwriter::Workbook::new();
                let sheet = workbook.add_worksheet();
                for (c, name) in ["隐患描述", "隐患部位", "发现时间"].iter().enumerate() {
                    sheet.write_string(0, c as u16, *name).unwrap();
                }
                for (row, col) in near.iter().chain(&far) {
                    sheet.write_string(*row, *col, "x").unwrap();
                }
                let bytes = workbook.save_to_buffer().unwrap();
                holds(read(&bytes, limits, HAZARD_HEADER), limits)?;
            }

            #[test]
            fn mutated_workbooks_are_read_or_refused(
                mutations in mutations(),
                limits in limits(),
            ) {
                let bytes = mutated(ledger_workbook(), &mutations);
                holds(read(&bytes, limits, HAZARD_HEADER), limits)?;
            }

            #[test]
            fn workbooks_with_mutated_parts_are_read_or_refused(
                part in any::<Index>(),
                mutations in mutations(),
                limits in limits(),
            ) {
                // The XML itself mutated, zipped again with sound checksums.
                let mut parts = parts_of(&ledger_workbook());
                let at = part.index(parts.len());
                parts[at].1 = mutated(std::mem::take(&mut parts[at].1), &mutations);
                let parts: Vec<(&str, Vec<u8>)> =
                    parts.iter().map(|(name, data)| (name.as_str(), data.clone())).collect();
                let bytes = zip_of(&parts, true);
                holds(read(&bytes, limits, HAZARD_HEADER), limits)?;
            }

            #[test]
            fn any_bytes_are_read_or_refused(
                bytes in prop::collection::vec(any::<u8>(), 0..600),
                zip_signature in any::<bool>(),
                limits in limits(),
            ) {
                let mut bytes = bytes;
                if zip_signature {
                    bytes.splice(0..0, *b"PK\x03\x04");
                }
                holds(read(&bytes, limits, HAZARD_HEADER), limits)?;
            }

            #[test]
            fn generated_csv_is_read_or_refused(
                rows in prop::collection::vec(
                    prop::collection::vec(
                        prop_oneof![text(), Just("\"a,\"\"b\"\"\"".to_owned()), Just("\"open".to_owned())],
                        0..7,
                    ),
                    0..14,
                ),
                bom in any::<bool>(),
                gb18030 in any::<bool>(),
                limits in limits(),
            ) {
                let text: String = rows.iter().map(|row| row.join(",") + "\n").collect();
                let mut bytes = if gb18030 {
                    encoding_rs::GB18030.encode(&text).0.into_owned()
                } else {
                    text.into_bytes()
                };
                if bom {
                    bytes.splice(0..0, *b"\xEF\xBB\xBF");
                }
                holds(read(&bytes, limits, HAZARD_HEADER), limits)?;
            }

            #[test]
            fn mutated_csv_is_read_or_refused(
                mutations in mutations(),
                limits in limits(),
            ) {
                let bytes = mutated(ledger_csv(), &mutations);
                holds(read(&bytes, limits, HAZARD_HEADER), limits)?;
            }
        }

        #[test]
        fn the_unmutated_ledgers_are_read() {
            let sheet = read(&ledger_workbook(), FileLimits::default(), HAZARD_HEADER).unwrap();
            assert_eq!(sheet.rows.len(), 2);
            assert_eq!(sheet.rows[0].0, 3);
            assert_eq!(
                sheet.rows[1].1[4],
                CellValue::Date(chrono::NaiveDate::from_ymd_opt(2024, 3, 5).unwrap())
            );
            let sheet = read(&ledger_csv(), FileLimits::default(), HAZARD_HEADER).unwrap();
            assert_eq!(sheet.rows.len(), 2);
            assert_eq!(
                sheet.rows[1].1[1],
                CellValue::Text("消防栓被遮挡,\"二号\"".into())
            );
        }
    }
}
