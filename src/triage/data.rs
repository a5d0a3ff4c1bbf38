//! The pattern data, compiled in: `causes/messages/<CODE>.txt` (one pattern a line, and the
//! directives that explain, confirm and order it) and `_guesses.txt` (keywords for unknown text).
//! Loaded once, checked, and indexed by literal anchors for the scan.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};

use super::result::Confidence;
use super::{anchors, scan};
use crate::catalogue::Code;

mod precomputed {
    include!(concat!(env!("OUT_DIR"), "/triage_anchors.rs"));
}

/// A pattern's anchors: computed at build time (every pattern of the data files is), else now.
pub(super) fn anchors_of(pattern: &str) -> Option<Vec<Vec<u8>>> {
    match precomputed::PATTERN_ANCHORS.binary_search_by(|(p, _)| (*p).cmp(pattern)) {
        Ok(i) => precomputed::PATTERN_ANCHORS[i]
            .1
            .map(|set| set.iter().map(|a| a.to_vec()).collect()),
        Err(_) => anchors::anchors(pattern),
    }
}

// `MESSAGE_FILES`: every `causes/messages/CODE.txt`, listed by build.rs (a file whose name is not
// a cause code fails the build).
include!(concat!(env!("OUT_DIR"), "/message_files.rs"));

/// Causes of the catalogue that no tool shows as a message of their own, and why.
pub const NO_MESSAGE: &[(&str, &str)] = &[
    (
        Code::PERMISSION_RECENTLY_CHANGED.as_str(),
        "a timing fact (a role granted moments ago); the failure it explains prints the ordinary denial",
    ),
    (
        Code::CREDENTIAL_EXPIRES_SOON.as_str(),
        "a forecast made by acr-doctor; nothing has failed yet, so no tool prints an error",
    ),
    (
        Code::UNEXPECTED_ERROR.as_str(),
        "by definition what could not be classified; a pattern for it would be a made-up cause",
    ),
];

const GUESSES: &str = include_str!("../../causes/messages/_guesses.txt");

pub(super) struct Pattern {
    pub(super) confidence: Confidence,
    pub(super) regex: LazyRegex,
    pub(super) anchors: Option<Vec<Vec<u8>>>,
}

pub(super) struct Guess {
    pub(super) code: &'static str,
    pub(super) regex: LazyRegex,
    pub(super) anchors: Option<Vec<Vec<u8>>>,
}

/// A pattern's regex, compiled the first time a line needs it: a run needs a handful of the
/// patterns, and compiling all of them (case-insensitive, Unicode) would cost more time and
/// memory than reading a megabyte of log. The syntax is checked when the data is loaded.
pub(super) struct LazyRegex {
    source: &'static str,
    cell: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    /// The syntax of every pattern of the data files was checked by build.rs; `check` compiles.
    fn new(source: &'static str) -> Result<LazyRegex, String> {
        Ok(LazyRegex {
            source,
            cell: OnceLock::new(),
        })
    }

    pub(super) fn get(&self) -> Option<&Regex> {
        self.cell.get_or_init(|| compile(self.source).ok()).as_ref()
    }

    /// Compiles now: the errors that only compiling finds (size limits).
    fn check(&self) -> Result<(), String> {
        compile(self.source).map(|_| ()).map_err(|e| e.to_string())
    }
}

pub(super) struct CauseMessages {
    pub(super) code: &'static str,
    pub(super) why_en: &'static str,
    pub(super) why_ja: &'static str,
    pub(super) confirm: &'static str,
    pub(super) outranks: Vec<&'static str>,
    pub(super) patterns: Vec<Pattern>,
}

pub(super) struct Data {
    pub(super) causes: Vec<CauseMessages>,
    /// How many causes each code is listed before, transitively (ordering within a confidence).
    pub(super) depth: HashMap<&'static str, usize>,
    pub(super) guesses: Vec<Guess>,
    pub(super) index: scan::Index,
    errors: Vec<String>,
}

pub(super) fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(32 * (1 << 20))
        .build()
}

fn parse_file(code: &'static str, source: &'static str, errors: &mut Vec<String>) -> CauseMessages {
    let mut cause = CauseMessages {
        code,
        why_en: "",
        why_ja: "",
        confirm: "",
        outranks: Vec::new(),
        patterns: Vec::new(),
    };
    for (n, line) in source.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.splitn(3, '\t');
        let head = fields.next().unwrap_or("");
        let Some(value) = fields.next() else {
            errors.push(format!("{code}.txt:{}: no tab-separated value", n + 1));
            continue;
        };
        match head {
            "@why.en" => cause.why_en = value.trim(),
            "@why.ja" => cause.why_ja = value.trim(),
            "@confirm" => cause.confirm = value.trim(),
            "@outranks" => cause.outranks = value.split_whitespace().collect(),
            _ => match (Confidence::parse(head), LazyRegex::new(value)) {
                (Some(confidence), Ok(regex)) => {
                    let anchors = anchors_of(value);
                    if anchors.is_none() {
                        errors.push(unanchored(&format!("{code}.txt:{}", n + 1)));
                    }
                    cause.patterns.push(Pattern {
                        confidence,
                        regex,
                        anchors,
                    })
                }
                (None, _) => {
                    errors.push(format!("{code}.txt:{}: unknown confidence {head:?}", n + 1))
                }
                (_, Err(e)) => errors.push(format!("{code}.txt:{}: bad regex: {e}", n + 1)),
            },
        }
    }
    if cause.why_en.is_empty() || cause.why_ja.is_empty() {
        errors.push(format!("{code}.txt: @why.en and @why.ja are both required"));
    }
    if cause.patterns.is_empty() {
        errors.push(format!("{code}.txt: no pattern"));
    }
    cause
}

fn unanchored(place: &str) -> String {
    format!(
        "{place}: no literal of {} or more bytes that every match contains; \
         triage would run this pattern on every line (add a literal word)",
        anchors::MIN_ANCHOR_BYTES
    )
}

fn depth_of(
    code: &'static str,
    edges: &HashMap<&'static str, Vec<&'static str>>,
    memo: &mut HashMap<&'static str, usize>,
    visiting: &mut HashSet<&'static str>,
    errors: &mut Vec<String>,
) -> usize {
    if let Some(d) = memo.get(code) {
        return *d;
    }
    if !visiting.insert(code) {
        errors.push(format!("@outranks forms a cycle through {code}"));
        return 0;
    }
    let mut depth = 0;
    for next in edges.get(code).map(Vec::as_slice).unwrap_or(&[]) {
        depth = depth.max(1 + depth_of(next, edges, memo, visiting, errors));
    }
    visiting.remove(code);
    memo.insert(code, depth);
    depth
}

pub(super) fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let mut errors = Vec::new();
        let causes: Vec<CauseMessages> = MESSAGE_FILES
            .iter()
            .map(|(code, source)| parse_file(code, source, &mut errors))
            .collect();
        let known: HashSet<&str> = causes.iter().map(|c| c.code).collect();
        let mut edges: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for cause in &causes {
            for target in &cause.outranks {
                if !known.contains(target) {
                    errors.push(format!(
                        "{}.txt: @outranks names unknown code {target}",
                        cause.code
                    ));
                }
            }
            edges.insert(cause.code, cause.outranks.clone());
        }
        let mut depth = HashMap::new();
        let mut visiting = HashSet::new();
        for cause in &causes {
            depth_of(cause.code, &edges, &mut depth, &mut visiting, &mut errors);
        }
        let mut guesses = Vec::new();
        for (n, line) in GUESSES.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_once('\t') {
                Some((code, pattern)) => match LazyRegex::new(pattern) {
                    Ok(regex) if known.contains(code) => {
                        let anchors = anchors_of(pattern);
                        if anchors.is_none() {
                            errors.push(unanchored(&format!("_guesses.txt:{}", n + 1)));
                        }
                        guesses.push(Guess {
                            code: code_static(&causes, code),
                            regex,
                            anchors,
                        })
                    }
                    Ok(_) => errors.push(format!("_guesses.txt:{}: unknown code {code}", n + 1)),
                    Err(e) => errors.push(format!("_guesses.txt:{}: bad regex: {e}", n + 1)),
                },
                None => errors.push(format!("_guesses.txt:{}: no tab", n + 1)),
            }
        }
        let patterns = causes
            .iter()
            .enumerate()
            .flat_map(|(c, cause)| {
                cause
                    .patterns
                    .iter()
                    .enumerate()
                    .map(move |(p, pattern)| (c, p, pattern.anchors.clone()))
            })
            .collect();
        let guess_anchors = guesses.iter().map(|g| g.anchors.clone()).collect();
        let index = scan::Index::build(patterns, guess_anchors, &mut errors);
        Data {
            causes,
            depth,
            guesses,
            index,
            errors,
        }
    })
}

fn code_static(causes: &[CauseMessages], code: &str) -> &'static str {
    causes
        .iter()
        .find(|c| c.code == code)
        .map(|c| c.code)
        .unwrap_or(Code::UNEXPECTED_ERROR.as_str())
}

/// Problems found in the pattern data (bad lines, bad regexes, unknown codes); empty when sound.
pub fn data_errors() -> Vec<String> {
    let data = data();
    let mut errors = data.errors.clone();
    for cause in &data.causes {
        for pattern in &cause.patterns {
            if let Err(e) = pattern.regex.check() {
                errors.push(format!("{}.txt: bad regex: {e}", cause.code));
            }
        }
    }
    for guess in &data.guesses {
        if let Err(e) = guess.regex.check() {
            errors.push(format!("_guesses.txt ({}): bad regex: {e}", guess.code));
        }
    }
    errors
}

/// The number of patterns each cause has, in catalogue order.
pub fn pattern_counts() -> Vec<(&'static str, usize)> {
    data()
        .causes
        .iter()
        .map(|c| (c.code, c.patterns.len()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::triage;

    #[test]
    fn pattern_data_is_sound() {
        assert_eq!(data_errors(), Vec::<String>::new());
        assert!(pattern_counts().iter().all(|(_, n)| *n > 0));
    }

    #[test]
    fn status_numbers_are_guesses_only_as_status_codes() {
        let guess = |text: &str| -> Vec<String> {
            triage(text).guesses.into_iter().map(|g| g.code).collect()
        };
        for text in [
            "status: 401",
            "StatusCode=401",
            "HTTP/1.1 401",
            "the server returned 401",
            "curl: (22) The requested URL returned error: 401",
            "Response status code does not indicate success: 401 (Unauthorized).",
        ] {
            assert_eq!(guess(text), ["BASIC_CREDENTIALS_INVALID"], "{text}");
        }
        assert_eq!(guess("returned 403"), ["CONNECTIVITY_FORBIDDEN_ERROR"]);
        for text in [
            "#5 sha256:9ab401cd403e5f 4.01MB",
            "layer a4013f2e-0401-4403-b401-000000000403",
            "2024-04-01T04:03:01.4013Z started",
            "listening on 127.0.0.1:4013, port 403",
            "status: 4031 items",
            "took 401 ms, 403 files",
        ] {
            assert_eq!(guess(text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn unknown_text_has_no_candidate_but_guesses() {
        let r = triage("the build broke with status 403 somewhere");
        assert!(r.candidates.is_empty());
        assert_eq!(r.guesses[0].code, "CONNECTIVITY_FORBIDDEN_ERROR");
        assert_eq!(r.guesses[0].confidence, Confidence::Low);
        let r = triage("all good here");
        assert!(r.candidates.is_empty() && r.guesses.is_empty());
    }
}
