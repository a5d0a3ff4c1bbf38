//! The direction of imports ARCHITECTURE.md promises, read from the source: no cycle between the
//! crate's top-level modules, and the bottom layers import nothing above them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level module → the other top-level modules its non-test code names as `crate::X`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(&src).expect("src") {
        let path = entry.expect("entry").path();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if stem == "lib" || stem == "main" {
            continue;
        }
        let list = files.entry(stem).or_default();
        if path.is_dir() {
            rust_files(&path, list);
        } else if path.extension().is_some_and(|e| e == "rs") {
            list.push(path);
        }
    }
    let names: BTreeSet<String> = files.keys().cloned().collect();
    let word = regex::Regex::new(r"\bcrate::(\w+)").expect("regex");
    let group = regex::Regex::new(r"\bcrate::\{([^}]*)\}").expect("regex");
    let mut graph = BTreeMap::new();
    for (module, paths) in &files {
        let mut used = BTreeSet::new();
        for path in paths {
            let text = std::fs::read_to_string(path).expect("read");
            // Test code may reach anywhere; comments name paths without importing them.
            if path.file_stem().is_some_and(|s| s == "tests") {
                continue;
            }
            let code: String = without_test_items(&text)
                .lines()
                .map(|l| l.split("//").next().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n");
            let mut named: Vec<String> = word
                .captures_iter(&code)
                .map(|c| c[1].to_string())
                .collect();
            for c in group.captures_iter(&code) {
                named.extend(
                    c[1].split(',')
                        .filter_map(|p| p.trim().split("::").next().map(|s| s.trim().to_string())),
                );
            }
            used.extend(
                named
                    .into_iter()
                    .filter(|n| n != module && names.contains(n)),
            );
        }
        graph.insert(module.clone(), used);
    }
    graph
}

/// `text` without its `#[cfg(test)]` items: each attribute with the item it marks, to the `;`
/// or the brace that closes it. Code after a test item still counts.
fn without_test_items(text: &str) -> String {
    const MARK: &str = "#[cfg(test)]";
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        let item = &rest[at + MARK.len()..];
        let end = match (item.find('{'), item.find(';')) {
            (Some(open), semi) if semi.is_none_or(|s| open < s) => {
                let mut depth = 0usize;
                let close = item[open..].char_indices().find_map(|(i, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(open + i + 1);
                            }
                        }
                        _ => {}
                    }
                    None
                });
                close.unwrap_or(item.len())
            }
            (_, Some(semi)) => semi + 1,
            _ => item.len(),
        };
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn test_items_are_dropped_and_the_code_after_them_is_kept() {
    let text = "use crate::a;\n#[cfg(test)]\nmod t;\n#[cfg(test)]\nimpl X {\n    fn f() { crate::b::g() }\n}\nuse crate::c;\n";
    let kept = without_test_items(text);
    assert!(
        kept.contains("crate::a") && kept.contains("crate::c"),
        "{kept}"
    );
    assert!(
        !kept.contains("crate::b") && !kept.contains("mod t"),
        "{kept}"
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A path from `from` back to `to` through the graph, if there is one.
fn path_between(
    graph: &BTreeMap<String, BTreeSet<String>>,
    from: &str,
    to: &str,
) -> Option<Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![vec![from.to_string()]];
    while let Some(path) = stack.pop() {
        let last = path.last().cloned().unwrap_or_default();
        if last == to {
            return Some(path);
        }
        if !seen.insert(last.clone()) {
            continue;
        }
        for next in graph.get(&last).into_iter().flatten() {
            let mut longer = path.clone();
            longer.push(next.clone());
            stack.push(longer);
        }
    }
    None
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let graph = imports();
    assert!(graph.len() > 10, "modules found: {:?}", graph.keys());
    for (module, used) in &graph {
        for other in used {
            if let Some(back) = path_between(&graph, other, module) {
                panic!("import cycle: {module} -> {}", back.join(" -> "));
            }
        }
    }
}

#[test]
fn bottom_layers_import_nothing_above_them() {
    let graph = imports();
    let uses = |m: &str| graph.get(m).cloned().unwrap_or_default();
    assert!(
        uses("model").is_empty(),
        "model imports {:?}",
        uses("model")
    );
    for (module, forbidden) in [
        (
            "protocol",
            &["context", "http", "checks", "engine", "azure"][..],
        ),
        ("net", &["checks", "engine", "report", "render"][..]),
        ("azure", &["checks", "engine", "cli", "render"][..]),
        ("docker", &["checks", "engine", "cli", "render"][..]),
        ("checks", &["render", "commands", "triage", "cli"][..]),
        ("engine", &["render", "commands", "cli"][..]),
        ("render", &["commands", "engine"][..]),
    ] {
        let used = uses(module);
        let wrong: Vec<_> = forbidden.iter().filter(|f| used.contains(**f)).collect();
        assert!(wrong.is_empty(), "{module} imports {wrong:?}");
    }
}
