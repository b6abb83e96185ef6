//! The pages' words, read from their files: Chinese text takes full-width
//! punctuation (“，” not “,”, “（）” not “()”), and each thing has one name
//! (the glossary's), never a second one; the pages take every name of
//! `web/terms.json` from that file instead of keeping a copy.

use std::path::Path;

/// Each term with the second names it once had on the pages.
const GLOSSARY: &[(&str, &[&str])] = &[
    ("隐患部位", &["地点"]),
    ("整改期限", &["整改时限"]),
    ("驳回", &["验收不通过", "验收未通过"]),
    ("聘请国家级专家查隐患", &["国家级专家检查"]),
];

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}')
}

/// The lines of the pages' own files that people read (comments left out).
fn page_lines() -> Vec<(String, usize, String)> {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(&web).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".html") || name.ends_with(".js") || name.ends_with(".json")) {
            continue;
        }
        for (n, line) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
            let text = line.trim_start();
            if ["//", "/*", "*", "<!--"]
                .iter()
                .any(|c| text.starts_with(c))
            {
                continue;
            }
            lines.push((name.clone(), n + 1, line.to_owned()));
        }
    }
    assert!(lines.len() > 1000, "the pages were read: {}", lines.len());
    lines
}

#[test]
fn chinese_text_on_the_pages_takes_full_width_punctuation() {
    let mut found = Vec::new();
    for (file, n, line) in page_lines() {
        let chars: Vec<char> = line.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            if !",;:!?()".contains(*c) {
                continue;
            }
            let before = i.checked_sub(1).map(|j| chars[j]);
            let after = chars.get(i + 1).copied();
            if before.is_some_and(is_cjk) || after.is_some_and(is_cjk) {
                found.push(format!("{file}:{n}: {}", line.trim()));
                break;
            }
        }
    }
    assert!(
        found.is_empty(),
        "ASCII punctuation in Chinese text:\n{}",
        found.join("\n")
    );
}

#[test]
fn each_thing_has_one_name_on_the_pages() {
    let mut found = Vec::new();
    for (file, n, line) in page_lines() {
        for (term, others) in GLOSSARY {
            for other in *others {
                if line.contains(other) {
                    found.push(format!("{file}:{n}: “{other}” for “{term}”"));
                }
            }
        }
    }
    assert!(found.is_empty(), "a second name:\n{}", found.join("\n"));
}

#[test]
fn the_pages_take_the_glossarys_names_from_its_file() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let terms: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(web.join("terms.json")).unwrap()).unwrap();
    let codes: Vec<String> = terms
        .as_object()
        .unwrap()
        .values()
        .filter_map(serde_json::Value::as_object)
        .flat_map(|names| names.keys().cloned())
        .collect();
    assert!(codes.len() > 40, "the glossary was read: {}", codes.len());
    // A page that maps a code to its Chinese name (`closed: "已销号"`)
    // keeps a copy of the glossary.
    let mut found = Vec::new();
    for (file, n, line) in page_lines() {
        if !file.ends_with(".js") {
            continue;
        }
        for code in &codes {
            for quote in ['"', '`', '\''] {
                let pattern = format!("{code}: {quote}");
                // The code as a whole key (`low: "`, not `below: "`).
                let copied = line.match_indices(&pattern).any(|(at, _)| {
                    let before = line[..at].chars().next_back();
                    let follows = line[at + pattern.len()..].chars().next();
                    !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                        && follows.is_some_and(is_cjk)
                });
                if copied {
                    found.push(format!("{file}:{n}: {}", line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "a copy of the glossary:\n{}",
        found.join("\n")
    );
}
