//! Build-time work on the cause data under `causes/`:
//!
//! - the catalogue (`causes/en/*.md` and their front matter, `causes/ja/*.md`) becomes the
//!   `Code` enum, one variant per code (`$OUT_DIR/codes.rs`, included by `src/code.rs`),
//!   and the `CAUSES` table (`$OUT_DIR/causes.rs`, included by `src/catalogue/mod.rs`). A bad front matter, a duplicate `order` or a missing
//!   Japanese file fails the build, naming the file;
//! - the triage pattern files (`causes/messages/*.txt`) become the `MESSAGE_FILES` list
//!   (`$OUT_DIR/message_files.rs`, included by `src/triage/data.rs`); a file whose name is not a code
//!   fails the build. Every pattern's syntax is checked (a bad pattern fails the build, naming its
//!   file and line), and the literal anchors of each pattern (see `src/triage/anchors.rs`) are
//!   computed here rather than at every start, so that a run reads its first line sooner;
//! - the cause column of the error-code tables (`causes/tables/*.tsv`) must name a code.

#[allow(dead_code)]
#[path = "src/triage/anchors.rs"]
mod anchors;

#[allow(dead_code)]
#[path = "src/catalogue/front_matter.rs"]
mod front_matter;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The families of the catalogue (`family:`), as `acr-doctor causes` names them.
const FAMILIES: &[&str] = &[
    "environment",
    "network",
    "credentials",
    "authorization",
    "expiry",
    "neighbours",
    "configuration",
];

/// `severity:` values and the `finding::Severity` variant each one is.
const SEVERITIES: &[(&str, &str)] = &[("error", "Error"), ("warning", "Warning"), ("info", "Info")];

fn main() {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let codes = catalogue(&out_dir);
    message_files(&codes, &out_dir);
    error_tables(&codes);
}

/// Files of `dir` ending in `.ext`, sorted. Cargo reruns the build script when anything in
/// `dir` changes (it scans a directory given to `rerun-if-changed` entirely).
fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    println!("cargo:rerun-if-changed={dir}");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir} is not readable: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Ends the build when `errors` is not empty, with one line per error and no backtrace.
fn fail(what: &str, errors: &[String]) {
    if !errors.is_empty() {
        eprintln!("error: {what}:\n{}", errors.join("\n"));
        std::process::exit(1);
    }
}

/// One cause read from `causes/en/CODE.md`.
struct Cause {
    code: String,
    family: String,
    severity: &'static str,
    order: u64,
}

/// Reads and checks the catalogue, writes `codes.rs` and `causes.rs`, and returns the codes in catalogue order.
fn catalogue(out_dir: &Path) -> Vec<String> {
    let mut errors = Vec::new();
    let mut causes: Vec<Cause> = Vec::new();
    let ja: Vec<String> = files("causes/ja", "md").iter().map(|p| stem(p)).collect();
    for path in files("causes/en", "md") {
        let code = stem(&path);
        let at = path.display().to_string();
        if !code.starts_with(|c: char| c.is_ascii_uppercase())
            || !code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            errors.push(format!(
                "{at}: a code is upper-case letters, digits and `_`"
            ));
            continue;
        }
        if !ja.contains(&code) {
            errors.push(format!(
                "{at}: causes/ja/{code}.md is missing (every cause needs both languages)"
            ));
        }
        let text = read(&path);
        let Some((front, _)) = front_matter::split(&text) else {
            errors.push(format!(
                "{at}: no front matter (a leading `---` block with family, severity and order; see causes/README.md)"
            ));
            continue;
        };
        let fields = match front_matter::fields(front) {
            Ok(fields) => fields,
            Err(e) => {
                errors.push(format!("{at}: {e}"));
                continue;
            }
        };
        let (mut family, mut severity, mut order) = (None, None, None);
        for (key, value) in fields {
            let slot = match key {
                "family" => &mut family,
                "severity" => &mut severity,
                "order" => &mut order,
                _ => {
                    errors.push(format!(
                        "{at}: unknown front matter key {key:?} (family, severity, order)"
                    ));
                    continue;
                }
            };
            if slot.replace(value).is_some() {
                errors.push(format!("{at}: {key} given twice"));
            }
        }
        let family = match family {
            Some(f) if FAMILIES.contains(&f) => f,
            Some(f) => {
                errors.push(format!(
                    "{at}: unknown family {f:?} (one of: {})",
                    FAMILIES.join(", ")
                ));
                continue;
            }
            None => {
                errors.push(format!("{at}: no `family:` in the front matter"));
                continue;
            }
        };
        let severity = match severity {
            Some(s) => match SEVERITIES.iter().find(|(name, _)| *name == s) {
                Some((_, variant)) => *variant,
                None => {
                    errors.push(format!(
                        "{at}: unknown severity {s:?} (error, warning or info)"
                    ));
                    continue;
                }
            },
            None => {
                errors.push(format!("{at}: no `severity:` in the front matter"));
                continue;
            }
        };
        let order = match order.map(str::parse::<u64>) {
            Some(Ok(n)) => n,
            Some(Err(_)) => {
                errors.push(format!("{at}: `order:` is not a whole number"));
                continue;
            }
            None => {
                errors.push(format!("{at}: no `order:` in the front matter"));
                continue;
            }
        };
        causes.push(Cause {
            code,
            family: family.to_string(),
            severity,
            order,
        });
    }
    for code in &ja {
        if !Path::new(&format!("causes/en/{code}.md")).exists() {
            errors.push(format!(
                "causes/ja/{code}.md: no causes/en/{code}.md (the English file makes the code)"
            ));
        }
    }
    for code in &ja {
        let path = format!("causes/ja/{code}.md");
        if front_matter::split(&read(Path::new(&path))).is_some() {
            errors.push(format!(
                "{path}: front matter belongs in causes/en/{code}.md only"
            ));
        }
    }
    causes.sort_by_key(|c| c.order);
    for pair in causes.windows(2) {
        if pair[0].order == pair[1].order {
            errors.push(format!(
                "causes/en: {} and {} have the same order {}",
                pair[0].code, pair[1].code, pair[0].order
            ));
        }
    }
    // `acr-doctor causes` prints a family's heading where the family changes: each family's
    // causes must be consecutive in catalogue order.
    let mut seen: Vec<&str> = Vec::new();
    for c in &causes {
        if seen.last() != Some(&c.family.as_str()) {
            if seen.contains(&c.family.as_str()) {
                errors.push(format!(
                    "causes/en/{}.md: order {} puts it apart from the rest of family {:?}",
                    c.code, c.order, c.family
                ));
            }
            seen.push(&c.family);
        }
    }
    fail("cause catalogue (causes/en, causes/ja)", &errors);

    let mut out = String::from("// Generated by build.rs from causes/en/*.md: do not edit.\n\n");
    out.push_str(
        "/// A cause code: one variant per `causes/en/CODE.md`, named exactly as the public code,\n\
         /// in catalogue order (the files' `order:`).\n\
         #[allow(non_camel_case_types)]\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]\n\
         pub enum Code {\n",
    );
    for c in &causes {
        let _ = writeln!(out, "    {},", c.code);
    }
    out.push_str("}\n\nimpl Code {\n    /// Every code, in catalogue order.\n    pub const ALL: &'static [Code] = &[\n");
    for c in &causes {
        let _ = writeln!(out, "        Code::{},", c.code);
    }
    out.push_str(
        "    ];\n\n    /// The public code, as reports, `explain` and scripts spell it.\n    \
         pub const fn as_str(self) -> &'static str {\n        match self {\n",
    );
    for c in &causes {
        let _ = writeln!(out, "            Code::{0} => {0:?},", c.code);
    }
    out.push_str(
        "        }\n    }\n\n    /// The code spelt exactly `s` (`lookup` also takes other cases).\n    \
         pub fn parse(s: &str) -> Option<Code> {\n        match s {\n",
    );
    for c in &causes {
        let _ = writeln!(out, "            {0:?} => Some(Code::{0}),", c.code);
    }
    out.push_str("            _ => None,\n        }\n    }\n}\n");
    std::fs::write(out_dir.join("codes.rs"), out).expect("codes.rs is written");

    let mut out = String::from(
        "// Generated by build.rs from causes/en/*.md and causes/ja/*.md: do not edit.\n\n\
         /// Every cause, in catalogue order: `CAUSES[code as usize]` is `code`'s.\n\
         pub static CAUSES: &[Cause] = &[\n",
    );
    for c in &causes {
        let _ = writeln!(
            out,
            "    Cause {{\n        id: Code::{code},\n        code: {code:?},\n        \
             severity: Severity::{sev},\n        family: {family:?},\n        \
             en: include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/causes/en/{code}.md\")),\n        \
             ja: include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/causes/ja/{code}.md\")),\n    }},",
            code = c.code,
            sev = c.severity,
            family = c.family,
        );
    }
    out.push_str("];\n");
    std::fs::write(out_dir.join("causes.rs"), out).expect("causes.rs is written");
    causes.into_iter().map(|c| c.code).collect()
}

/// Checks the triage pattern files and writes `message_files.rs` and `triage_anchors.rs`.
fn message_files(codes: &[String], out_dir: &Path) {
    let files = files("causes/messages", "txt");
    let mut errors = Vec::new();
    for path in &files {
        let code = stem(path);
        if code != "_guesses" && !codes.contains(&code) {
            errors.push(format!(
                "{}: {code} is not a cause code (no causes/en/{code}.md)",
                path.display()
            ));
        }
    }
    // The codes the files name (`@outranks`, the first column of `_guesses.txt`) are causes
    // with a pattern file of their own.
    let with_file = |code: &str| code != "_guesses" && files.iter().any(|p| stem(p) == code);
    for path in &files {
        let guesses = stem(path) == "_guesses";
        for (n, line) in read(path).lines().enumerate() {
            let named: Vec<&str> = if let Some(list) = line.strip_prefix("@outranks\t") {
                list.split_whitespace().collect()
            } else if guesses && !line.trim().is_empty() && !line.starts_with('#') {
                line.split('\t').next().into_iter().collect()
            } else {
                continue;
            };
            for code in named.into_iter().filter(|c| !with_file(c)) {
                errors.push(format!(
                    "{}:{}: {code} is not a cause with a file in causes/messages",
                    path.display(),
                    n + 1
                ));
            }
        }
    }
    fail("triage pattern files (causes/messages)", &errors);
    let mut out = String::from(
        "// Generated by build.rs from the files of causes/messages: do not edit.\n\n\
         /// Every cause that a pasted message can point to, with its compiled-in pattern file\n\
         /// (`causes/messages/CODE.txt`), in catalogue order.\n\
         pub static MESSAGE_FILES: &[(&str, &str)] = &[\n",
    );
    for code in codes {
        if files.iter().any(|p| stem(p) == *code) {
            let _ = writeln!(
                out,
                "    (\n        crate::catalogue::Code::{code}.as_str(),\n        \
                 include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/causes/messages/{code}.txt\")),\n    ),"
            );
        }
    }
    out.push_str("];\n");
    std::fs::write(out_dir.join("message_files.rs"), out).expect("message_files.rs is written");
    triage_anchors(&files, out_dir);
}

/// Checks every pattern's syntax and writes each pattern's anchors to `triage_anchors.rs`.
fn triage_anchors(files: &[PathBuf], out_dir: &Path) {
    // Pattern source → its anchors (`None`: no anchor set found).
    let mut table: BTreeMap<String, Option<Vec<Vec<u8>>>> = BTreeMap::new();
    let mut errors = Vec::new();
    for path in files {
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
    fail("triage pattern data", &errors);
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
    std::fs::write(out_dir.join("triage_anchors.rs"), out).expect("generated file is written");
}

/// The cause column (the second) of every row of the error-code tables must name a code; the
/// rest of a row is checked by `src/error_codes.rs` and its tests.
fn error_tables(codes: &[String]) {
    let mut errors = Vec::new();
    for path in files("causes/tables", "tsv") {
        for (n, line) in read(&path).lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cause = line.split('\t').nth(1).map(str::trim).unwrap_or_default();
            if !codes.iter().any(|c| c == cause) {
                errors.push(format!(
                    "{}:{}: cause {cause:?} is not a code of the catalogue (no causes/en/{cause}.md)",
                    path.display(),
                    n + 1
                ));
            }
        }
    }
    fail("error-code tables (causes/tables)", &errors);
}
