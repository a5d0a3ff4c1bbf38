//! Build-time work on the triage pattern data (`causes/messages/*.txt`): every pattern's syntax
//! is checked (a bad pattern fails the build, naming its file and line), and the literal anchors
//! of each pattern (see `src/triage/anchors.rs`) are computed here rather than at every start,
//! so that a run reads its first line sooner.

#[allow(dead_code)]
#[path = "src/triage/anchors.rs"]
mod anchors;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new("causes/messages");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("causes/messages is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    // Pattern source → its anchors (`None`: no anchor set found).
    let mut table: BTreeMap<String, Option<Vec<Vec<u8>>>> = BTreeMap::new();
    let mut errors = Vec::new();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(path).expect("pattern file is UTF-8");
        let guesses = name == "_guesses.txt";
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') || line.starts_with('@') {
                continue;
            }
            let pattern = if guesses {
                line.split_once('\t').map(|(_, p)| p)
            } else {
                line.split('\t').nth(1)
            };
            let Some(pattern) = pattern else { continue };
            if let Err(e) = regex_syntax::ast::parse::Parser::new().parse(pattern) {
                errors.push(format!("{name}:{}: bad regex: {e}", n + 1));
                continue;
            }
            table
                .entry(pattern.to_string())
                .or_insert_with(|| anchors::anchors(pattern));
        }
    }
    if !errors.is_empty() {
        panic!("triage pattern data:\n{}", errors.join("\n"));
    }
    let mut out = String::from(
        "/// Pattern source → its anchors, computed by build.rs; sorted by source.\n\
         pub static PATTERN_ANCHORS: &[(&str, Option<&[&[u8]]>)] = &[\n",
    );
    for (pattern, anchors) in &table {
        let anchors = match anchors {
            Some(set) => {
                let items: Vec<String> = set.iter().map(|a| format!("&{a:?}")).collect();
                format!("Some(&[{}])", items.join(", "))
            }
            None => "None".to_string(),
        };
        let _ = writeln!(out, "    ({pattern:?}, {anchors}),");
    }
    out.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo");
    std::fs::write(Path::new(&out_dir).join("triage_anchors.rs"), out)
        .expect("generated file is written");
}
