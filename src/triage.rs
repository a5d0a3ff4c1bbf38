//! Symptom triage: map pasted error text to cause codes.
//!
//! The patterns are data beside the cause catalogue: `causes/messages/<CODE>.txt`, one pattern a
//! line (`<confidence>\t<regex>[\t<note>]`), plus directives for the sentence that explains the
//! match (`@why.en`, `@why.ja`), the flags that confirm it (`@confirm`) and the causes it is listed
//! before (`@outranks`). The files are compiled in, every file of the folder (build.rs lists them;
//! a file named after no cause code fails the build). Adding a message is adding a line.
//!
//! Text is read as a stream of lines (`scan.rs`), whatever its size: an argument, standard input
//! or a file, gzip-compressed or not. A pattern matches within one line.

mod anchors;
pub mod layers;

mod precomputed {
    include!(concat!(env!("OUT_DIR"), "/triage_anchors.rs"));
}

/// A pattern's anchors: computed at build time (every pattern of the data files is), else now.
fn anchors_of(pattern: &str) -> Option<Vec<Vec<u8>>> {
    match precomputed::PATTERN_ANCHORS.binary_search_by(|(p, _)| (*p).cmp(pattern)) {
        Ok(i) => precomputed::PATTERN_ANCHORS[i]
            .1
            .map(|set| set.iter().map(|a| a.to_vec()).collect()),
        Err(_) => anchors::anchors(pattern),
    }
}
mod scan;

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use regex::{Regex, RegexBuilder};
use serde::Serialize;

use crate::catalogue::Code;

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

const GUESSES: &str = include_str!("../causes/messages/_guesses.txt");

/// The longest matched text a candidate carries, in characters.
const MATCHED_MAX_CHARS: usize = 200;
/// At most this many closest guesses are offered for unknown text.
const MAX_GUESSES: usize = 3;

/// How sure triage is that a message points to a cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    fn parse(s: &str) -> Option<Confidence> {
        match s {
            "high" => Some(Confidence::High),
            "medium" => Some(Confidence::Medium),
            "low" => Some(Confidence::Low),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub code: String,
    pub confidence: Confidence,
    /// The text that matched, trimmed and with secrets masked.
    pub matched: String,
    /// The `acr-doctor check …` command line that would confirm the cause.
    pub confirm: String,
    /// Why this message points to this cause, in English.
    pub why: String,
    /// The same sentence in Japanese (human output only).
    #[serde(skip)]
    pub why_ja: String,
    /// The line (from 1) that `matched` is on.
    pub line: u64,
    /// Where the cause's messages occur (candidates only, not guesses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrences: Option<Occurrences>,
    /// The lines around the last occurrence, secrets masked (candidates only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// The protocol layer and host of the link of the error chain that gave this cause, when
    /// the chain reading (not a phrase) gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<Link>,
    /// False for a cause that is not a sign-in, network or permission problem (the image is not
    /// there, has no variant for this platform, went to another registry, or is locked); absent
    /// otherwise.
    #[serde(skip_serializing_if = "is_true")]
    pub access_problem: bool,
}

fn is_true(b: &bool) -> bool {
    *b
}

/// Causes where reaching and signing in to the registry worked: what failed is the image.
const NOT_ACCESS: &[&str] = &[
    Code::IMAGE_NOT_FOUND.as_str(),
    Code::IMAGE_PLATFORM_MISMATCH.as_str(),
    Code::IMAGE_NOT_TAGGED_FOR_REGISTRY.as_str(),
    Code::ARTIFACT_LOCKED.as_str(),
];

/// Where in an error chain the failure happened: the layer of the innermost link that names
/// one, and the role of the host it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub layer: layers::Layer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_role: Option<layers::Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// Where a cause's messages occur in the text: lines counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Occurrences {
    pub first_line: u64,
    pub last_line: u64,
    /// How many lines hold one of its messages.
    pub count: u64,
}

/// Lines around a match: `lines[0]` is line `first_line`. Each line is cut at 400 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Context {
    pub first_line: u64,
    pub lines: Vec<String>,
}

/// What was read, so that nothing is cut silently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadSummary {
    /// `argument`, `stdin` or `file`.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Lines read: newline-terminated lines, plus a last line without one.
    pub lines: u64,
    /// Bytes of text read (after decompression).
    pub bytes: u64,
    pub gzip: bool,
    /// Bytes read from the compressed stream, for gzip input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compressed_bytes: Option<u64>,
    /// False when reading stopped at an error before the end; `error` says why.
    pub complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Every limit on how the text is examined, with how often it applied.
    pub limits: Vec<Limit>,
}

impl ReadSummary {
    fn new(source: &str, path: Option<String>) -> ReadSummary {
        ReadSummary {
            source: source.into(),
            path,
            lines: 0,
            bytes: 0,
            gzip: false,
            compressed_bytes: None,
            complete: true,
            error: None,
            limits: Vec::new(),
        }
    }
}

/// A limit on how the text is examined. The one there is: `line_length`, a line too long for
/// the read buffer is examined in windows of `max_bytes` overlapping by `overlap_bytes`, so a
/// message longer than `overlap_bytes` that crosses a window edge could be missed. There is no
/// time budget and no cap on the input's size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limit {
    pub kind: String,
    pub max_bytes: u64,
    pub overlap_bytes: u64,
    /// How many lines were examined in windows (each of them longer than `max_bytes`; a line a
    /// little longer may still fit the read buffer whole, and is then examined whole).
    pub lines: u64,
    /// The first of them.
    pub first_line: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TriageResult {
    pub schema: String,
    pub candidates: Vec<Candidate>,
    /// Only when no candidate was found: causes whose keywords appear in the text.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub guesses: Vec<Candidate>,
    /// What was read: lines, bytes, and the limits that applied.
    pub read: ReadSummary,
}

struct Pattern {
    confidence: Confidence,
    regex: LazyRegex,
    anchors: Option<Vec<Vec<u8>>>,
}

struct Guess {
    code: &'static str,
    regex: LazyRegex,
    anchors: Option<Vec<Vec<u8>>>,
}

/// A pattern's regex, compiled the first time a line needs it: a run needs a handful of the
/// patterns, and compiling all of them (case-insensitive, Unicode) would cost more time and
/// memory than reading a megabyte of log. The syntax is checked when the data is loaded.
struct LazyRegex {
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

    fn get(&self) -> Option<&Regex> {
        self.cell.get_or_init(|| compile(self.source).ok()).as_ref()
    }

    /// Compiles now: the errors that only compiling finds (size limits).
    fn check(&self) -> Result<(), String> {
        compile(self.source).map(|_| ()).map_err(|e| e.to_string())
    }
}

struct CauseMessages {
    code: &'static str,
    why_en: &'static str,
    why_ja: &'static str,
    confirm: &'static str,
    outranks: Vec<&'static str>,
    patterns: Vec<Pattern>,
}

struct Data {
    causes: Vec<CauseMessages>,
    /// How many causes each code is listed before, transitively (ordering within a confidence).
    depth: HashMap<&'static str, usize>,
    guesses: Vec<Guess>,
    index: scan::Index,
    errors: Vec<String>,
}

fn compile(pattern: &str) -> Result<Regex, regex::Error> {
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

fn data() -> &'static Data {
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

/// Undoes the escaping of JSON and Go-quoted strings, so that messages nested in event
/// bodies (`\"`, `\u0027`) match the same patterns as plain ones.
fn normalize(text: &str) -> String {
    text.replace("\\\\\"", "\"")
        .replace("\\\"", "\"")
        .replace("\\u0027", "'")
        .replace("\\u0026", "&")
        .replace("\\u003c", "<")
        .replace("\\u003e", ">")
}

/// Where the text comes from.
#[derive(Debug, Clone)]
pub enum Input {
    /// Text given on the command line.
    Text(String),
    /// Standard input, read to its end.
    Stdin,
    /// A file, read to its end.
    File(PathBuf),
}

/// Reads pasted text and names the causes its messages point to, most likely first.
pub fn triage(text: &str) -> TriageResult {
    scan::triage_reader(text.as_bytes(), ReadSummary::new("argument", None))
}

/// Reads any amount of text from `reader` (gzip-compressed or not, told by its first bytes).
pub fn triage_reader<R: Read>(reader: R) -> TriageResult {
    read_maybe_gzip(reader, ReadSummary::new("stdin", None))
}

/// Reads the input to its end and names the causes; an error only when it cannot be opened.
/// Standard input and files are read (and decompressed) by a second thread, ahead of the scan.
pub fn triage_input(input: Input) -> Result<TriageResult, String> {
    match input {
        Input::Text(text) => Ok(triage(&text)),
        Input::Stdin => Ok(read_ahead_maybe_gzip(
            std::io::stdin(),
            ReadSummary::new("stdin", None),
        )),
        Input::File(path) => {
            let shown = path.display().to_string();
            let file = std::fs::File::open(&path).map_err(|e| format!("{shown}: {e}"))?;
            if file.metadata().is_ok_and(|m| m.is_dir()) {
                return Err(format!("{shown}: is a directory"));
            }
            Ok(read_ahead_maybe_gzip(
                file,
                ReadSummary::new("file", Some(shown)),
            ))
        }
    }
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads the first two bytes: gzip when they are its magic number (1f 8b), whatever the file
/// is called. Returns them with the reader, and the error if reading them failed.
fn peek_gzip<R: Read>(
    mut reader: R,
) -> (
    bool,
    std::io::Chain<std::io::Cursor<Vec<u8>>, R>,
    Option<String>,
) {
    let mut head = [0u8; 2];
    let mut n = 0;
    let mut error = None;
    while n < head.len() {
        match reader.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let gzip = head[..n] == [0x1f, 0x8b];
    (
        gzip,
        std::io::Cursor::new(head[..n].to_vec()).chain(reader),
        error,
    )
}

fn finish_read(
    mut result: TriageResult,
    count: Option<&AtomicU64>,
    head_error: Option<String>,
) -> TriageResult {
    if let Some(count) = count {
        result.read.compressed_bytes = Some(count.load(Ordering::Relaxed));
    }
    if let Some(e) = head_error {
        result.read.complete = false;
        result.read.error.get_or_insert(e);
    }
    result
}

/// Concatenated gzip members (as `cat a.gz b.gz` makes) are read one after the other.
fn read_maybe_gzip<R: Read>(reader: R, mut read: ReadSummary) -> TriageResult {
    let (gzip, stream, head_error) = peek_gzip(reader);
    if gzip {
        read.gzip = true;
        let count = Arc::new(AtomicU64::new(0));
        let counted = Counted {
            inner: stream,
            count: count.clone(),
        };
        let result = scan::triage_reader(flate2::read::MultiGzDecoder::new(counted), read);
        finish_read(result, Some(&count), head_error)
    } else {
        finish_read(scan::triage_reader(stream, read), None, head_error)
    }
}

/// As [`read_maybe_gzip`], with reading and decompressing on a second thread.
fn read_ahead_maybe_gzip<R: Read + Send + 'static>(
    reader: R,
    mut read: ReadSummary,
) -> TriageResult {
    let (gzip, stream, head_error) = peek_gzip(reader);
    if gzip {
        read.gzip = true;
        let count = Arc::new(AtomicU64::new(0));
        let counted = Counted {
            inner: stream,
            count: count.clone(),
        };
        let decoder = flate2::read::MultiGzDecoder::new(counted);
        let result = scan::triage_reader(ReadAhead::spawn(decoder), read);
        finish_read(result, Some(&count), head_error)
    } else {
        let result = scan::triage_reader(ReadAhead::spawn(stream), read);
        finish_read(result, None, head_error)
    }
}

/// Reads on its own thread into a few blocks ahead of the consumer (at most
/// `READ_AHEAD_BLOCKS` × 256 KiB in flight), so that reading and decompressing overlap the scan.
struct ReadAhead {
    blocks: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
}

const READ_AHEAD_BLOCKS: usize = 4;
const READ_AHEAD_BYTES: usize = 256 << 10;

impl ReadAhead {
    fn spawn<R: Read + Send + 'static>(mut reader: R) -> ReadAhead {
        let (tx, rx) = std::sync::mpsc::sync_channel(READ_AHEAD_BLOCKS);
        std::thread::spawn(move || loop {
            let mut block = vec![0u8; READ_AHEAD_BYTES];
            match reader.read(&mut block) {
                Ok(0) => break,
                Ok(n) => {
                    block.truncate(n);
                    if tx.send(Ok(block)).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    break;
                }
            }
        });
        ReadAhead {
            blocks: rx,
            current: Vec::new(),
            at: 0,
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.current.len() {
            match self.blocks.recv() {
                Ok(Ok(block)) => {
                    self.current = block;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                // The reader finished (end of input): its sender is gone.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// How far before a cause it explains (`@outranks`) a match may lie and still join its chain.
const CHAIN_LINES: u64 = 30;

/// Whether `a` outranks `b`, directly or through other causes.
fn explains(data: &Data, a: &str, b: &str) -> bool {
    let mut stack = vec![a];
    let mut seen = std::collections::HashSet::new();
    while let Some(code) = stack.pop() {
        if !seen.insert(code) {
            continue;
        }
        if let Some(cause) = data.causes.iter().find(|c| c.code == code) {
            if cause.outranks.contains(&b) {
                return true;
            }
            stack.extend(cause.outranks.iter().copied());
        }
    }
    false
}

/// Builds the answer from what a scan found.
///
/// Order: each distinct cause once. Causes whose last occurrences lie within
/// [`scan::CONTEXT_LINES`] lines of each other are one error chain, and so is a cause that
/// `@outranks` (explains) one in the chain within [`CHAIN_LINES`] lines (a push's layer lines sit
/// between the line naming the repository and the refusal), ordered by confidence,
/// then `@outranks`, then position; chains are ordered by their last line, most recent first,
/// since in a CI log the last error is usually the one that ended the job.
fn answer(data: &Data, found: scan::Found, read: ReadSummary) -> TriageResult {
    let scan::Found {
        causes,
        guesses,
        registry,
        repository,
    } = found;
    let mut by_recency: Vec<&(usize, scan::Acc)> = causes.iter().collect();
    by_recency.sort_by_key(|(i, acc)| (std::cmp::Reverse(acc.last_line), *i));
    let mut chains: Vec<Vec<&(usize, scan::Acc)>> = Vec::new();
    let mut previous: Option<u64> = None;
    for entry in by_recency {
        let last = entry.1.last_line;
        match (previous, chains.last_mut()) {
            (Some(p), Some(chain))
                if p - last <= scan::CONTEXT_LINES as u64
                    || chain.iter().any(|(j, acc)| {
                        acc.last_line - last <= CHAIN_LINES
                            && explains(data, data.causes[entry.0].code, data.causes[*j].code)
                    }) =>
            {
                chain.push(entry)
            }
            _ => chains.push(vec![entry]),
        }
        previous = Some(last);
    }
    let mut candidates = Vec::new();
    for mut chain in chains {
        chain.sort_by_key(|(i, acc)| {
            let depth = data.depth.get(data.causes[*i].code).copied().unwrap_or(0);
            (
                std::cmp::Reverse(acc.confidence),
                std::cmp::Reverse(depth),
                acc.best_line,
                acc.best_start,
                *i,
            )
        });
        for (i, acc) in chain {
            let cause = &data.causes[*i];
            let registry = acc.registry.as_deref().or(registry.as_deref());
            let repository = acc.repository.as_deref().or(repository.as_deref());
            let near = Near::read(&acc.matched, &acc.context.lines, repository);
            candidates.push(Candidate {
                code: cause.code.to_string(),
                confidence: acc.confidence,
                matched: shorten(&crate::redact::scrub_shapes(&acc.matched)),
                confirm: confirm_command_near(cause, registry, repository, &near),
                why: cause.why_en.to_string(),
                why_ja: cause.why_ja.to_string(),
                line: acc.best_line,
                occurrences: Some(Occurrences {
                    first_line: acc.first_line,
                    last_line: acc.last_line,
                    count: acc.count,
                }),
                context: Some(Context {
                    first_line: acc.context.first_line,
                    lines: acc
                        .context
                        .lines
                        .iter()
                        .map(|l| crate::redact::scrub_shapes(l))
                        .collect(),
                }),
                link: acc.link.clone().map(|mut l| {
                    l.host = l.host.map(|h| crate::redact::scrub_shapes(&h));
                    l
                }),
                access_problem: !NOT_ACCESS.contains(&cause.code),
            });
        }
    }
    let guesses = if candidates.is_empty() {
        closest_guesses(data, guesses, registry.as_deref(), repository.as_deref())
    } else {
        Vec::new()
    };
    TriageResult {
        schema: "acr-doctor/triage/v1".into(),
        candidates,
        guesses,
        read,
    }
}

/// The first few keyword guesses, in the order they occur; one per cause.
fn closest_guesses(
    data: &Data,
    mut found: Vec<scan::GuessHit>,
    registry: Option<&str>,
    repository: Option<&str>,
) -> Vec<Candidate> {
    found.sort_by_key(|h| (h.line, h.start));
    let mut seen = HashSet::new();
    found
        .into_iter()
        .filter(|h| seen.insert(data.guesses[h.guess].code))
        .take(MAX_GUESSES)
        .filter_map(|h| {
            let code = data.guesses[h.guess].code;
            data.causes
                .iter()
                .find(|c| c.code == code)
                .map(|cause| Candidate {
                    code: code.to_string(),
                    confidence: Confidence::Low,
                    matched: shorten(&crate::redact::scrub_shapes(&h.matched)),
                    confirm: confirm_command(cause.confirm, registry, repository),
                    why: cause.why_en.to_string(),
                    why_ja: cause.why_ja.to_string(),
                    line: h.line,
                    occurrences: None,
                    context: None,
                    link: None,
                    access_problem: !NOT_ACCESS.contains(&code),
                })
        })
        .collect()
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MATCHED_MAX_CHARS {
        return text.to_string();
    }
    let mut out: String = text.chars().take(MATCHED_MAX_CHARS - 1).collect();
    out.push('…');
    out
}

/// The registry resource name from the first `<name>.azurecr.io` host in the text.
pub fn registry_name(text: &str) -> Option<String> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let re = RE
        .get_or_init(|| {
            compile(r"\b([a-z0-9]{5,50})(?:\.[a-z0-9-]+)*?\.azurecr\.(?:io|cn|us)\b").ok()
        })
        .as_ref()?;
    re.captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_ascii_lowercase())
}

/// The repository from an image reference (`<host>/<repo>:<tag>`), a registry API URL
/// (`/v2/<repo>/manifests/…`) or a token scope (`repository:<repo>:pull`), in that order.
pub fn repository_name(text: &str) -> Option<String> {
    let [image, url, scope] = repository_forms(text);
    image.or(url).or(scope)
}

/// The first repository of each form in `text`: image reference, API URL, token scope.
const REPO: &str = r"[a-z0-9]+(?:(?:[._]|__|-+|/)[a-z0-9]+)*";
const LOGIN_HOST: &str = r"[a-z0-9]+(?:\.[a-z0-9-]+)*\.azurecr\.(?:io|cn|us)(?::\d+)?";

/// An image reference on a registry's login server: the repository (group 1) and what ends it
/// (group 2): `:TAG`, `@sha256:…`, or the `]` of "The push refers to repository [HOST/REPO]".
fn image_reference() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        compile(&format!(
            r"{LOGIN_HOST}/({REPO})(:[a-z0-9_][a-z0-9_.-]{{0,127}}|@sha256:[0-9a-f]{{64}}|\])"
        ))
        .ok()
    })
    .as_ref()
}

fn repository_forms(text: &str) -> [Option<String>; 3] {
    struct Res {
        url: Regex,
        scope: Regex,
    }
    static RES: OnceLock<Option<Res>> = OnceLock::new();
    let (Some(image), Some(res)) = (
        image_reference(),
        RES.get_or_init(|| {
            Some(Res {
                url: compile(&format!(
                    r"{LOGIN_HOST}/v2/({REPO})/(?:manifests|blobs|tags)/"
                ))
                .ok()?,
                scope: compile(
                    r"repository(?::|%3A)([a-z0-9._/%-]+?)(?::|%3A)(?:pull|push|delete|\*|%2A)",
                )
                .ok()?,
            })
        })
        .as_ref(),
    ) else {
        return [None, None, None];
    };
    let image = image
        .captures_iter(text)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str())
        .find(|r| *r != "v2" && !r.starts_with("v2/"))
        .map(str::to_ascii_lowercase);
    let url = res
        .url
        .captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_ascii_lowercase());
    let scope = res.scope.captures(text).and_then(|c| c.get(1)).map(|m| {
        m.as_str()
            .replace("%2F", "/")
            .replace("%2f", "/")
            .to_ascii_lowercase()
    });
    [image, url, scope]
}

/// What the lines around a match say of the operation and the image: `docker push`, "Failed to
/// pull image", an image reference's tag.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Near {
    /// `pull` or `push`.
    operation: Option<&'static str>,
    /// The tag (or `@sha256:…` digest) of the repository's image reference.
    reference: Option<String>,
    /// The lines are a kubelet's (a pod's image pull on a cluster node).
    kubelet: bool,
}

impl Near {
    /// Reads the matched text first, then the context lines from the last one up.
    fn read(matched: &str, context: &[String], repository: Option<&str>) -> Near {
        struct Res {
            push: Regex,
            pull: Regex,
            kubelet: Regex,
        }
        static RES: OnceLock<Option<Res>> = OnceLock::new();
        let Some(res) = RES
            .get_or_init(|| {
                Some(Res {
                    push: compile(r"\b(?:push(?:ing|ed)?|The push refers to)\b").ok()?,
                    pull: compile(r"\b(?:pull(?:ing|ed)?)\b").ok()?,
                    kubelet: compile(
                        r"Failed to pull image \x22|Back-off pulling image|\bErrImagePull\b|\bImagePullBackOff\b|\bkubelet\b",
                    )
                    .ok()?,
                })
            })
            .as_ref()
        else {
            return Near::default();
        };
        let mut near = Near::default();
        for text in std::iter::once(matched).chain(context.iter().rev().map(String::as_str)) {
            near.kubelet |= res.kubelet.is_match(text);
            if near.operation.is_none() {
                // A line that says both (a pull-through push) is read as neither.
                match (res.push.is_match(text), res.pull.is_match(text)) {
                    (true, false) => near.operation = Some("push"),
                    (false, true) => near.operation = Some("pull"),
                    _ => {}
                }
            }
            if near.reference.is_none() {
                near.reference = image_reference()
                    .into_iter()
                    .flat_map(|re| re.captures_iter(text))
                    .filter(|c| {
                        repository.is_none_or(|r| {
                            c.get(1).is_some_and(|m| m.as_str().eq_ignore_ascii_case(r))
                        })
                    })
                    // `]` ends a repository named without a tag.
                    .find_map(|c| c.get(2).filter(|m| m.as_str() != "]"))
                    .map(|m| m.as_str().to_ascii_lowercase());
            }
        }
        near
    }
}

/// The confirming command, with the repository's tag and the operation seen near the match.
fn confirm_command_near(
    cause: &CauseMessages,
    registry: Option<&str>,
    repository: Option<&str>,
    near: &Near,
) -> String {
    let flags = cause.confirm;
    let with_reference = repository.map(|r| match &near.reference {
        Some(reference) => format!("{r}{reference}"),
        None => r.to_string(),
    });
    let mut command = confirm_command(flags, registry, with_reference.as_deref());
    if let Some(operation) = near.operation {
        if let Some(at) = command.find("--need ") {
            let value_at = at + "--need ".len();
            let end = command[value_at..]
                .find(' ')
                .map_or(command.len(), |i| value_at + i);
            command.replace_range(value_at..end, operation);
        }
    }
    // A pull that failed on a cluster node: `--aks` reads the cluster's kubelet identity and
    // network path through ARM.
    if near.kubelet && AKS_CAUSES.contains(&cause.code) && !command.contains("--aks") {
        // A node pulls as the kubelet identity, never anonymously on purpose: read that one.
        command = command.replace(" --auth anonymous", "");
        command.push_str(" --aks <cluster> --aks-resource-group <resource-group>");
        if !command.contains("--repository") {
            command.push_str(&format!(
                " --repository {}",
                repository.unwrap_or("<repository>")
            ));
        }
    }
    command
}

/// Causes of a pull on a cluster node that `--aks` can confirm from ARM: the kubelet
/// identity's rights and the cluster's path to the registry.
const AKS_CAUSES: &[&str] = &[
    Code::ANONYMOUS_PULL_DISABLED.as_str(),
    Code::RBAC_ROLE_MISSING.as_str(),
    Code::ABAC_LEGACY_ROLE_IGNORED.as_str(),
    Code::ABAC_CONDITION_EXCLUDES_REPOSITORY.as_str(),
    Code::REPOSITORY_PERMISSION_MISSING.as_str(),
    Code::CONNECTIVITY_ACCESS_TOKEN_ERROR.as_str(),
    Code::CONNECTIVITY_FORBIDDEN_ERROR.as_str(),
    Code::CONNECTIVITY_DNS_ERROR.as_str(),
    Code::CONNECTIVITY_CHALLENGE_ERROR.as_str(),
    Code::PRIVATE_ENDPOINT_DNS_ERROR.as_str(),
    Code::DATA_ENDPOINT_UNREACHABLE.as_str(),
];

fn confirm_command(flags: &str, registry: Option<&str>, repository: Option<&str>) -> String {
    let registry = registry.unwrap_or("<registry>");
    let mut command = format!("acr-doctor check --name {registry}");
    if !flags.is_empty() {
        command.push(' ');
        command.push_str(
            &flags
                .replace("<registry>", registry)
                .replace("<repository>", repository.unwrap_or("<repository>")),
        );
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<String> {
        triage(text)
            .candidates
            .into_iter()
            .map(|c| c.code)
            .collect()
    }

    #[test]
    fn pattern_data_is_sound() {
        assert_eq!(data_errors(), Vec::<String>::new());
        assert!(pattern_counts().iter().all(|(_, n)| *n > 0));
    }

    #[test]
    fn specific_message_beats_generic_one() {
        let got = codes(
            "Error response from daemon: Get \"https://contosoreg.azurecr.io/v2/\": unauthorized: \
             Application not registered with AAD.\nunauthorized: authentication required",
        );
        assert_eq!(
            got.first().map(String::as_str),
            Some("APP_NOT_REGISTERED_WITH_AAD")
        );
        assert!(got.contains(&"BASIC_CREDENTIALS_INVALID".to_string()));
    }

    #[test]
    fn outranks_orders_equal_confidence() {
        let got = codes(
            "CONNECTIVITY_REFRESH_TOKEN_ERROR. Access to registry was denied. Response code: 403. \
             Unable to get admin user credentials with message: Admin user is disabled.",
        );
        assert_eq!(
            got[..2],
            ["ADMIN_USER_DISABLED", "CONNECTIVITY_REFRESH_TOKEN_ERROR"]
        );
    }

    #[test]
    fn neighbour_messages_are_not_read_as_access_or_daemon_problems() {
        // "daemon" in Docker's wrapper is not a daemon problem: the missing tag is the cause.
        let got = codes(
            "Error response from daemon: manifest for contosoreg.azurecr.io/app:v2 not found: \
             manifest unknown: manifest unknown",
        );
        assert_eq!(got, ["IMAGE_NOT_FOUND"]);
        // The bare denial stays a permission problem; Docker naming Docker Hub changes that.
        assert_eq!(
            codes("denied: requested access to the resource is denied")[0],
            "REPOSITORY_PERMISSION_MISSING"
        );
        let got = codes(
            "The push refers to repository [docker.io/library/app]\n\
             denied: requested access to the resource is denied",
        );
        assert_eq!(got[0], "IMAGE_NOT_TAGGED_FOR_REGISTRY");
        // A credential helper built for another CPU is not an image platform problem.
        let got = codes(
            "error getting credentials - err: fork/exec /usr/bin/docker-credential-pass: exec format error",
        );
        assert!(
            !got.contains(&"IMAGE_PLATFORM_MISMATCH".to_string()),
            "{got:?}"
        );
        // containerd says NotFound for a platform mismatch too; the platform line wins.
        let got = codes(
            "rpc error: code = NotFound desc = failed to pull and unpack image \
             \"contosoreg.azurecr.io/app:v1\": no match for platform in manifest: not found",
        );
        assert_eq!(got[..2], ["IMAGE_PLATFORM_MISMATCH", "IMAGE_NOT_FOUND"]);
    }

    #[test]
    fn weaker_match_inside_stronger_one_is_dropped() {
        let got = codes("dial tcp: lookup contosoreg.westeurope.data.azurecr.io: no such host");
        assert_eq!(got, ["DATA_ENDPOINT_UNREACHABLE"]);
    }

    #[test]
    fn duplicates_are_merged() {
        let got = codes("x509: certificate signed by unknown authority\nx509: certificate signed by unknown authority");
        assert_eq!(got, ["CONNECTIVITY_SSL_ERROR"]);
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

    #[test]
    fn registry_and_repository_are_filled_in() {
        let r = triage(
            "Failed to pull image \"contosoreg.azurecr.io/team/web:1.2\": failed to resolve reference: \
             failed to authorize: failed to fetch anonymous token: unexpected status from GET request to \
             https://contosoreg.azurecr.io/oauth2/token?scope=repository%3Ateam%2Fweb%3Apull: 401 Unauthorized",
        );
        let c = &r.candidates[0];
        assert_eq!(c.code, "ANONYMOUS_PULL_DISABLED");
        assert_eq!(
            c.confirm,
            "acr-doctor check --name contosoreg --repository team/web:1.2 --need pull \
             --aks <cluster> --aks-resource-group <resource-group>"
        );
    }

    #[test]
    fn placeholders_stay_when_nothing_is_known() {
        let r = triage("unauthorized: Application not registered with AAD");
        assert_eq!(
            r.candidates[0].confirm,
            "acr-doctor check --name <registry> --username <app-id> --password-stdin"
        );
    }

    #[test]
    fn names_come_from_every_form() {
        assert_eq!(
            registry_name("Get https://MyReg01.azurecr.io/v2/"),
            Some("myreg01".into())
        );
        assert_eq!(
            registry_name("lookup abcde.westeurope.data.azurecr.io"),
            Some("abcde".into())
        );
        assert_eq!(registry_name("Get \"https://***.azurecr.io/v2/\""), None);
        assert_eq!(
            repository_name("Head https://abcde.azurecr.io/v2/app/api/manifests/v1"),
            Some("app/api".into())
        );
        assert_eq!(
            repository_name("pull abcde.azurecr.io/web@sha256:".to_string().as_str()),
            None
        );
        assert_eq!(
            repository_name("Get \"https://abcde.azurecr.io/v2/\": unauthorized"),
            None
        );
        assert_eq!(
            repository_name("scope=repository:base:pull"),
            Some("base".into())
        );
    }

    #[test]
    fn matched_text_is_redacted_and_short() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl";
        let r = triage(&format!("docker login abcde.azurecr.io -u myuser -p {jwt}"));
        let c = r
            .candidates
            .iter()
            .find(|c| c.code == "EXPOSE_TOKEN_USERNAME");
        let c = c.map(|c| c.matched.clone()).unwrap_or_default();
        assert!(
            c.contains("-u myuser") && !c.contains("c2lnbmF0dXJl"),
            "{c}"
        );
        let long = format!("toomanyrequests: {}", "x".repeat(500));
        let m = &triage(&long).candidates[0].matched;
        assert!(m.chars().count() <= MATCHED_MAX_CHARS);
    }

    #[test]
    fn escaped_json_bodies_match() {
        let got = codes(
            r#"denied: {\"errors\":[{\"code\":\"DENIED\",\"message\":\"client with IP \u0027203.0.113.7\u0027 is not allowed access.\"}]}"#,
        );
        assert_eq!(
            got.first().map(String::as_str),
            Some("CONNECTIVITY_FORBIDDEN_ERROR")
        );
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
    fn no_guess_beside_a_pattern_match() {
        let r = triage(
            "status: 403\nthe proxy was slow\nx509: certificate signed by unknown authority",
        );
        let codes: Vec<&str> = r.candidates.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["CONNECTIVITY_SSL_ERROR"]);
        assert!(r.guesses.is_empty());
    }

    #[test]
    fn the_most_recent_error_chain_comes_first() {
        let text = "unauthorized: Application not registered with AAD\n\
                    unauthorized: authentication required\n\
                    step 2\nstep 3\nstep 4\nstep 5\n\
                    x509: certificate signed by unknown authority\n\
                    done\n\
                    x509: certificate signed by unknown authority\n";
        let r = triage(text);
        let got: Vec<(&str, u64, Option<Occurrences>)> = r
            .candidates
            .iter()
            .map(|c| (c.code.as_str(), c.line, c.occurrences))
            .collect();
        let once = |line| {
            Some(Occurrences {
                first_line: line,
                last_line: line,
                count: 1,
            })
        };
        assert_eq!(
            got[..2],
            [
                (
                    "CONNECTIVITY_SSL_ERROR",
                    9,
                    Some(Occurrences {
                        first_line: 7,
                        last_line: 9,
                        count: 2
                    })
                ),
                // One chain (adjacent lines): the specific message before the generic one,
                // which several causes share.
                ("APP_NOT_REGISTERED_WITH_AAD", 1, once(1)),
            ]
        );
        assert!(got[2..]
            .iter()
            .all(|(_, line, o)| *line == 2 && *o == once(2)));
        assert!(got
            .iter()
            .any(|(c, _, _)| *c == "BASIC_CREDENTIALS_INVALID"));
    }
}
