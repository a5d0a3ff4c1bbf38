//! Triage accuracy on real pasted text: how often the first candidate is the cause the source
//! established, per layer and per tool, over `tests/fixtures/triage/real-corpus.tsv` (or the
//! corpus files given as arguments, same format).
//!
//!   cargo run --release --example triage_accuracy                 # the table
//!   cargo run --release --example triage_accuracy -- --misses     # and every miss
//!
//! A benchmark, not a test: it prints numbers. `tests/it/triage.rs` holds the floor that CI keeps.

use std::collections::BTreeMap;

use acr_doctor::triage;

#[derive(Default)]
struct Tally {
    total: usize,
    first: usize,
    any: usize,
    none: usize,
}

impl Tally {
    fn add(&mut self, first: bool, any: bool, none: bool) {
        self.total += 1;
        self.first += usize::from(first);
        self.any += usize::from(any);
        self.none += usize::from(none);
    }

    fn row(&self, name: &str) -> String {
        let pct = |n: usize| 100.0 * n as f64 / self.total.max(1) as f64;
        format!(
            "| {name} | {} | {:.1}% | {:.1}% | {:.1}% |",
            self.total,
            pct(self.first),
            pct(self.any),
            pct(self.none)
        )
    }
}

fn unescape(s: &str) -> String {
    s.replace("\\n", "\n").replace("\\t", "\t")
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let misses = args.iter().any(|a| a == "--misses");
    args.retain(|a| a != "--misses");
    if args.is_empty() {
        args.push(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/triage/real-corpus.tsv"
            )
            .into(),
        );
    }
    let mut all = Tally::default();
    let mut by_layer: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_tool: BTreeMap<String, Tally> = BTreeMap::new();
    let mut missed = Vec::new();
    for path in &args {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        for (n, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.splitn(6, '\t').collect();
            let [code, tool, layer, _lang, source, message] = cols[..] else {
                eprintln!("{path}:{}: not six columns", n + 1);
                continue;
            };
            let result = triage::triage(&unescape(message));
            let codes: Vec<&str> = result.candidates.iter().map(|c| c.code.as_str()).collect();
            let first = codes.first() == Some(&code);
            let any = codes.contains(&code);
            let none = codes.is_empty();
            all.add(first, any, none);
            by_layer
                .entry(layer.into())
                .or_default()
                .add(first, any, none);
            by_tool
                .entry(tool.into())
                .or_default()
                .add(first, any, none);
            if !first {
                missed.push(format!(
                    "{path}:{}: want {code} got {codes:?} [{layer}/{tool}] {source}",
                    n + 1
                ));
            }
        }
    }
    println!("| | messages | first candidate right | among candidates | no candidate |");
    println!("|---|---|---|---|---|");
    println!("{}", all.row("**all**"));
    for (layer, t) in &by_layer {
        println!("{}", t.row(&format!("layer {layer}")));
    }
    for (tool, t) in &by_tool {
        println!("{}", t.row(&format!("tool {tool}")));
    }
    if misses {
        println!();
        for m in &missed {
            println!("{m}");
        }
    }
}
