//! Keeps the architecture true: reads every `crate::…` and `super::…` path
//! in `src/` and fails when a module imports one from a higher layer, or
//! when modules import each other in a loop.
//!
//! The layers, lowest first (a module may use its own layer and those
//! below): `error`, `clock`, `messages` ← `domain` ← `settings`, `telemetry` ← `db`,
//! `storage`, `email` ← `app` ← `cache` ← `http` ← `startup`, `cli`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: &[(&str, u8)] = &[
    ("error", 0),
    ("clock", 0),
    ("messages", 0),
    ("domain", 1),
    ("settings", 2),
    ("telemetry", 2),
    ("db", 3),
    ("storage", 3),
    ("email", 3),
    ("app", 4),
    ("cache", 5),
    ("http", 6),
    ("startup", 7),
    ("cli", 7),
];

fn layer_of(top: &str) -> Option<u8> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == top)
        .map(|(_, rank)| *rank)
}

/// A source file and the module path it defines (`src/http/hazards.rs` →
/// `["http", "hazards"]`).
struct SourceFile {
    module: Vec<String>,
    /// Whether it is a `mod.rs`/`lib.rs` (its `super` is its parent's parent).
    is_folder_root: bool,
    text: String,
}

fn source_files() -> Vec<SourceFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut pending = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(read_source(&root, path));
            }
        }
    }
    files
}

fn read_source(root: &Path, path: PathBuf) -> SourceFile {
    let relative = path.strip_prefix(root).unwrap().with_extension("");
    let mut module: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let is_folder_root = matches!(
        module.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    );
    if is_folder_root {
        module.pop();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    // Unit tests sit at the end of a file and may reach anywhere.
    let code = match text.find("#[cfg(test)]") {
        Some(at) => text[..at].to_owned(),
        None => text,
    };
    let code = code
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    SourceFile {
        module,
        is_folder_root,
        text: code,
    }
}

/// Every path that follows `crate::` or `super::` in `text`, braces
/// expanded: `crate::{a, b::{c, d}}` gives `a`, `b::c`, `b::d`.
fn referenced_paths(file: &SourceFile) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let text = file.text.as_str();
    for (prefix, base) in [("crate::", Some(Vec::new())), ("super::", super_of(file))] {
        let mut from = 0;
        while let Some(found) = text[from..].find(prefix) {
            let at = from + found;
            from = at + prefix.len();
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let Some(base) = base.clone() else { continue };
            let mut rest = &text[from..];
            expand(&mut rest, base, &mut paths);
        }
    }
    paths
}

fn super_of(file: &SourceFile) -> Option<Vec<String>> {
    let mut module = file.module.clone();
    if file.is_folder_root {
        module.pop()?;
    } else {
        module.pop();
    }
    Some(module)
}

fn expand(rest: &mut &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    loop {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            *rest = &rest[name.len()..];
            if name != "self" {
                path.push(name);
            }
            if let Some(after) = rest.strip_prefix("::") {
                *rest = after;
                continue;
            }
            out.push(path);
            return;
        }
        if let Some(after) = rest.strip_prefix('{') {
            *rest = after;
            loop {
                *rest = rest.trim_start();
                if let Some(after) = rest.strip_prefix('}') {
                    *rest = after;
                    return;
                }
                expand(rest, path.clone(), out);
                *rest = rest.trim_start();
                if let Some(after) = rest.strip_prefix(',') {
                    *rest = after;
                } else if rest.is_empty() {
                    return;
                } else if !rest.starts_with('}') {
                    // `as alias` and the like: skip to the next item.
                    let skip = rest.find([',', '}']).unwrap_or(rest.len());
                    *rest = &rest[skip..];
                }
            }
        }
        out.push(path);
        return;
    }
}

/// The longest known module that `path` names (a path may go on to an
/// item inside it).
fn module_named(path: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|candidate| modules.contains(candidate))
}

fn module_graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let files = source_files();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &files {
        let edges = graph.entry(file.module.clone()).or_default();
        for path in referenced_paths(file) {
            if let Some(target) = module_named(&path, &modules) {
                if target != file.module && !target.is_empty() {
                    edges.insert(target);
                }
            }
        }
    }
    graph
}

#[test]
fn no_module_imports_a_higher_layer() {
    let graph = module_graph();
    let mut violations = Vec::new();
    for (module, targets) in &graph {
        let Some(top) = module.first() else { continue };
        let Some(own) = layer_of(top) else {
            violations.push(format!(
                "src/{} is in no layer: add it to LAYERS in tests/api/layering.rs",
                module.join("/")
            ));
            continue;
        };
        for target in targets {
            let other = layer_of(&target[0]).unwrap_or(u8::MAX);
            if other > own {
                violations.push(format!(
                    "{} (layer {own}) imports {} (layer {other})",
                    module.join("::"),
                    target.join("::")
                ));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn modules_import_each_other_in_no_loop() {
    let graph = module_graph();
    // Depth-first search for a back edge; reports the first loop found.
    fn visit(
        node: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.clone());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            // A module may use its own parent's items (`super::…`) and a
            // parent declares its children: that is nesting, not a loop.
            if next.len() < node.len() && node.starts_with(next) {
                continue;
            }
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
            panic!("modules import each other in a loop: {}", names.join(" → "));
        }
    }
}

#[test]
fn the_parser_sees_grouped_and_relative_imports() {
    let file = SourceFile {
        module: vec!["http".into(), "hazards".into()],
        is_folder_root: false,
        text: "use crate::{db::{self, hazards as store}, app::auth};\nuse super::Page;\nlet x = crate::clock::now_utc();".into(),
    };
    let paths: BTreeSet<String> = referenced_paths(&file)
        .into_iter()
        .map(|p| p.join("::"))
        .collect();
    let expected: BTreeSet<String> = [
        "db",
        "db::hazards",
        "app::auth",
        "http::Page",
        "clock::now_utc",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(paths, expected);
}
