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
            // Test modules may reach anywhere; comments name paths without importing them.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let code: String = code
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
