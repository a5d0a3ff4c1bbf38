//! Streaming triage: reads any amount of text, line by line, in memory bounded independently
//! of the input's size.
//!
//! The input is read in blocks. Each block of whole lines is lower-cased (ASCII) into a second
//! buffer and searched once for the patterns' literal anchors (see `anchors.rs`) with Teddy, a
//! SIMD multi-literal searcher; only the lines holding an anchor are decoded (lossy UTF-8),
//! unescaped and matched against the patterns whose anchors they hold. What is kept is bounded:
//! per cause, its occurrence counts, the best match and the lines around its last occurrence.
//! A line longer than [`MAX_LINE_BYTES`] is examined in windows of that size that overlap by
//! [`WINDOW_OVERLAP_BYTES`], and the answer says so.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{self, Read};

use aho_corasick::{packed, AhoCorasick, AhoCorasickKind, Span};
use memchr::{memchr, memrchr};

use super::answer::explains;
use super::confirm::{registry_name, repository_forms, repository_name};
use super::data::Data;
use super::input::normalize;
use super::layers::Reading;
use super::result::{Confidence, Context, Limit, Link, ReadSummary, TriageResult};

/// Lines longer than this are examined in overlapping windows of this size.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// How much consecutive windows of a long line overlap: a message up to this long is never cut.
pub const WINDOW_OVERLAP_BYTES: usize = 4 << 10;
/// Lines kept before and after the last occurrence of each cause; causes whose last
/// occurrences are at most this many lines apart are read as one error chain.
pub const CONTEXT_LINES: usize = 3;
/// How much of each context line is kept.
const CONTEXT_LINE_BYTES: usize = 400;
/// How much of a matched text is kept before it is scrubbed and shortened.
const MATCHED_KEEP_BYTES: usize = 8 << 10;
/// Bytes asked of the reader at a time.
const READ_BYTES: usize = 256 << 10;
/// Anchors per Teddy searcher: Teddy slows down past a few dozen literals (and takes at most
/// 64), so the anchors are split into groups searched one after the other.
const GROUP: usize = 40;

/// What an anchor found in a line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ref {
    /// A cause's pattern, by its index in `Index::patterns`.
    Pattern(usize),
    /// A keyword guess, by its index in `Data::guesses`.
    Guess(usize),
    /// The line may name the registry or a repository.
    Names,
    /// The line may hold a link that names a protocol layer (`layers.rs`).
    Layer,
}

/// Literal anchors with what each asks for, and the searchers built from them.
pub(super) struct Index {
    /// (cause, pattern) of every cause pattern, in catalogue order.
    pub patterns: Vec<(usize, usize)>,
    /// Finds every anchor in a line (overlapping), mapping to `refs`.
    stage_b: Option<AhoCorasick>,
    refs: Vec<Vec<Ref>>,
    /// Patterns and guesses with no anchor: examined on every line.
    every_line: Vec<Ref>,
    /// The prefilter for the cause patterns and names.
    main: Prefilter,
    /// The anchors of each guess.
    guess_anchors: Vec<Vec<Vec<u8>>>,
}

const NAME_ANCHORS: &[&[u8]] = &[b".azurecr.", b"repository:", b"repository%3a"];

/// A set of anchors: one of them is in every match (`None`: no such set, every line is tried).
pub(super) type Anchors = Option<Vec<Vec<u8>>>;

impl Index {
    pub(super) fn build(
        patterns: Vec<(usize, usize, Anchors)>,
        guesses: Vec<Anchors>,
        errors: &mut Vec<String>,
    ) -> Index {
        let mut entries: Vec<(Vec<u8>, Ref)> = Vec::new();
        let mut every_line = Vec::new();
        let mut flat = Vec::with_capacity(patterns.len());
        for (i, (cause, pattern, anchors)) in patterns.into_iter().enumerate() {
            flat.push((cause, pattern));
            match anchors {
                Some(set) => entries.extend(set.into_iter().map(|a| (a, Ref::Pattern(i)))),
                None => every_line.push(Ref::Pattern(i)),
            }
        }
        let mut guess_anchors = Vec::with_capacity(guesses.len());
        for (g, anchors) in guesses.into_iter().enumerate() {
            match anchors {
                Some(set) => {
                    entries.extend(set.iter().map(|a| (a.clone(), Ref::Guess(g))));
                    guess_anchors.push(set);
                }
                None => {
                    every_line.push(Ref::Guess(g));
                    guess_anchors.push(Vec::new());
                }
            }
        }
        entries.extend(NAME_ANCHORS.iter().map(|a| (a.to_vec(), Ref::Names)));
        entries.extend(
            super::layers::anchors()
                .into_iter()
                .map(|a| (a, Ref::Layer)),
        );
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut anchors: Vec<Vec<u8>> = Vec::new();
        let mut refs: Vec<Vec<Ref>> = Vec::new();
        for (anchor, r) in entries {
            if anchors.last() != Some(&anchor) {
                anchors.push(anchor);
                refs.push(Vec::new());
            }
            if let Some(list) = refs.last_mut() {
                if !list.contains(&r) {
                    list.push(r);
                }
            }
        }
        let stage_b = match AhoCorasick::new(&anchors) {
            Ok(ac) => Some(ac),
            Err(e) => {
                errors.push(format!("triage prefilter: {e}"));
                None
            }
        };
        let main_anchors = anchors
            .iter()
            .zip(&refs)
            .filter(|(_, r)| r.iter().any(|r| !matches!(r, Ref::Guess(_))))
            .map(|(a, _)| a.clone());
        let main = Prefilter::new(main_anchors, stage_b.is_none() || !every_line.is_empty());
        Index {
            patterns: flat,
            stage_b,
            refs,
            every_line,
            main,
            guess_anchors,
        }
    }
}

/// Finds the lines that hold at least one anchor.
struct Prefilter {
    finders: Vec<Finder>,
    every_line: bool,
}

enum Finder {
    Teddy(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Prefilter {
    fn new(anchors: impl IntoIterator<Item = Vec<u8>>, every_line: bool) -> Prefilter {
        let mut list: Vec<Vec<u8>> = anchors.into_iter().collect();
        list.sort();
        list.dedup();
        // An anchor that contains another adds nothing: a line holding it holds the other.
        let list: Vec<Vec<u8>> = list
            .iter()
            .filter(|a| {
                !list
                    .iter()
                    .any(|b| b.len() < a.len() && memchr::memmem::find(a, b).is_some())
            })
            .cloned()
            .collect();
        let finders: Option<Vec<Finder>> = list
            .chunks(GROUP)
            .map(|group| {
                packed::Config::new()
                    .builder()
                    .extend(group)
                    .build()
                    .map(Finder::Teddy)
                    .or_else(|| {
                        // No SIMD Teddy on this CPU: a DFA is slower but finds the same lines.
                        AhoCorasick::builder()
                            .kind(Some(AhoCorasickKind::DFA))
                            .build(group)
                            .ok()
                            .map(Finder::Automaton)
                    })
            })
            .collect();
        match finders {
            Some(finders) => Prefilter {
                finders,
                every_line,
            },
            None => Prefilter {
                finders: Vec::new(),
                every_line: true,
            },
        }
    }

    fn find(&self, finder: &Finder, hay: &[u8], from: usize) -> Option<usize> {
        let span = Span::from(from..hay.len());
        match finder {
            Finder::Teddy(s) => s.find_in(hay, span).map(|m| m.start()),
            Finder::Automaton(a) => a
                .find(aho_corasick::Input::new(hay).span(span))
                .map(|m| m.start()),
        }
    }

    /// Adds the start offsets of the lines of `hay` (lower-cased) holding an anchor.
    fn lines(&self, hay: &[u8], out: &mut Vec<usize>) {
        if self.every_line {
            let mut at = 0;
            while at < hay.len() {
                out.push(at);
                at = memchr(b'\n', &hay[at..]).map_or(hay.len(), |i| at + i + 1);
            }
            return;
        }
        for finder in &self.finders {
            let mut from = 0;
            while from < hay.len() {
                let Some(at) = self.find(finder, hay, from) else {
                    break;
                };
                out.push(memrchr(b'\n', &hay[..at]).map_or(0, |i| i + 1));
                from = memchr(b'\n', &hay[at..]).map_or(hay.len(), |i| at + i + 1);
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Hit {
    pub cause: usize,
    pub confidence: Confidence,
    pub start: usize,
    pub end: usize,
}

/// A weaker match inside a longer, surer match of another cause is the same message read
/// less precisely ("no such host" inside "lookup x.data.azurecr.io: no such host"): dropped.
pub(super) fn drop_weaker(hits: &[Hit]) -> Vec<Hit> {
    hits.iter()
        .filter(|b| {
            !hits.iter().any(|a| {
                a.cause != b.cause
                    && a.confidence > b.confidence
                    && a.start <= b.start
                    && b.end <= a.end
                    && a.end - a.start > b.end - b.start
            })
        })
        .copied()
        .collect()
}

/// What the anchors found in a line ask for, beyond the patterns selected.
#[derive(Debug, Clone, Copy)]
struct Wanted {
    /// The line may name the registry or a repository.
    names: bool,
    /// The line may hold a link that names a protocol layer.
    layer: bool,
    /// Keyword guesses are still looked for, and the line has one's anchor.
    guessing: bool,
}

/// A line as text: lossy UTF-8, with JSON and Go escaping undone when it holds a backslash.
fn line_text(raw: &[u8]) -> Cow<'_, str> {
    let decoded = String::from_utf8_lossy(raw);
    if decoded.contains('\\') {
        Cow::Owned(normalize(&decoded))
    } else {
        decoded
    }
}

/// Weighs a line's phrase matches against the error chain's reading (`cause`, read as `r`).
fn weigh_reading(data: &Data, hits: &mut Vec<Hit>, cause: usize, r: &Reading) {
    // Kept: the same cause, anything surer, and the causes this one is listed before
    // (its neighbours, such as a missing image beside a platform mismatch).
    let code = data.causes[cause].code;
    hits.retain(|h| {
        h.cause == cause
            || h.confidence >= r.confidence
            || explains(data, code, data.causes[h.cause].code)
    });
    // A surer phrase of another cause is the finer reading of this line: the chain
    // reading then only vetoes, it adds nothing.
    let surer_phrase = hits
        .iter()
        .any(|h| h.cause != cause && h.confidence > r.confidence);
    if !surer_phrase
        && !hits
            .iter()
            .any(|h| h.cause == cause && h.confidence >= r.confidence)
    {
        hits.push(Hit {
            cause,
            confidence: r.confidence,
            start: r.start,
            end: r.end,
        });
    }
}

/// The best hit of each cause on a line, once weaker matches inside surer ones are dropped:
/// surest, then first.
fn best_per_cause(hits: &[Hit]) -> Vec<Hit> {
    let kept = drop_weaker(hits);
    let mut best: Vec<Hit> = Vec::new();
    for hit in kept {
        match best.iter_mut().find(|h| h.cause == hit.cause) {
            Some(h) => {
                if (hit.confidence, std::cmp::Reverse(hit.start))
                    > (h.confidence, std::cmp::Reverse(h.start))
                {
                    *h = hit;
                }
            }
            None => best.push(hit),
        }
    }
    best
}

/// What is known of one cause so far.
pub(super) struct Acc {
    pub confidence: Confidence,
    pub first_line: u64,
    pub last_line: u64,
    pub count: u64,
    /// Where the match shown is: the last one of the highest confidence.
    pub best_line: u64,
    pub best_start: usize,
    pub matched: String,
    pub registry: Option<String>,
    pub repository: Option<String>,
    pub context: Context,
    /// The layer and host of the link that gave the match shown, when the chain reading did.
    pub link: Option<Link>,
    /// Lines still to add after the last occurrence.
    after: usize,
}

/// The first occurrence of a keyword guess.
pub(super) struct GuessHit {
    pub guess: usize,
    pub line: u64,
    pub start: usize,
    pub matched: String,
}

/// Everything a scan has found and counted.
pub(super) struct Found {
    pub causes: Vec<(usize, Acc)>,
    pub guesses: Vec<GuessHit>,
    pub registry: Option<String>,
    pub repository: Option<String>,
}

struct Scanner {
    data: &'static Data,
    /// Lines finished before the current position: the line being read is `lines + 1`.
    lines: u64,
    bytes: u64,
    accs: Vec<Option<Acc>>,
    guesses: Vec<GuessHit>,
    /// Guessing stops once a cause is found or enough guesses are: then `None`.
    guess_filter: Option<Prefilter>,
    registry: Option<String>,
    repository: [Option<String>; 3],
    /// The last lines before the current block (for the context of a match on its first lines).
    tail: VecDeque<String>,
    /// Causes whose context still takes lines after their last occurrence.
    pending: Vec<usize>,
    in_long_line: bool,
    long_lines: u64,
    first_long_line: Option<u64>,
    starts: Vec<usize>,
    selected: Vec<usize>,
    guess_selected: Vec<usize>,
    line_causes: Vec<usize>,
}

/// Reads `reader` to its end (or its first error) and returns what it found, with `read`
/// completed: lines, bytes, limits, and the error if reading stopped early.
pub(super) fn scan<R: Read>(data: &'static Data, mut reader: R, read: &mut ReadSummary) -> Found {
    let mut s = Scanner::new(data);
    let mut buf = vec![0u8; MAX_LINE_BYTES + READ_BYTES];
    let mut lower = vec![0u8; buf.len()];
    let (mut start, mut filled) = (0usize, 0usize);
    let mut error = None;
    loop {
        if start > 0 {
            buf.copy_within(start..filled, 0);
            filled -= start;
            start = 0;
        }
        let n = match reader.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                error = Some(e);
                0
            }
        };
        filled += n;
        s.bytes += n as u64;
        if let Some(i) = memrchr(b'\n', &buf[start..filled]) {
            let end = start + i + 1;
            lowercase(&buf[start..end], &mut lower[start..end]);
            s.block(&buf[start..end], &lower[start..end]);
            start = end;
        }
        while filled - start >= MAX_LINE_BYTES {
            let end = start + MAX_LINE_BYTES;
            lowercase(&buf[start..end], &mut lower[start..end]);
            s.window(&buf[start..end], &lower[start..end]);
            start = end - WINDOW_OVERLAP_BYTES;
        }
        if n == 0 {
            if start < filled {
                lowercase(&buf[start..filled], &mut lower[start..filled]);
                s.block(&buf[start..filled], &lower[start..filled]);
                s.lines += 1;
            }
            break;
        }
    }
    read.lines = s.lines;
    read.bytes = s.bytes;
    read.complete = error.is_none();
    read.error = error.map(|e| e.to_string());
    read.limits = vec![Limit {
        kind: "line_length".into(),
        max_bytes: MAX_LINE_BYTES as u64,
        overlap_bytes: WINDOW_OVERLAP_BYTES as u64,
        lines: s.long_lines,
        first_line: s.first_long_line,
    }];
    s.found()
}

fn lowercase(src: &[u8], dst: &mut [u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = s.to_ascii_lowercase();
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The start of a line kept as context: lossy UTF-8, at most [`CONTEXT_LINE_BYTES`].
fn snippet(line: &[u8]) -> String {
    let line = trim_cr(line);
    let mut text =
        String::from_utf8_lossy(&line[..line.len().min(CONTEXT_LINE_BYTES)]).into_owned();
    if line.len() > CONTEXT_LINE_BYTES {
        text.push('…');
    }
    text
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl Scanner {
    fn new(data: &'static Data) -> Scanner {
        let guess_filter = Some(guess_prefilter(data, &[]));
        Scanner {
            data,
            lines: 0,
            bytes: 0,
            accs: (0..data.causes.len()).map(|_| None).collect(),
            guesses: Vec::new(),
            guess_filter,
            registry: None,
            repository: [None, None, None],
            tail: VecDeque::new(),
            pending: Vec::new(),
            in_long_line: false,
            long_lines: 0,
            first_long_line: None,
            starts: Vec::new(),
            selected: Vec::new(),
            guess_selected: Vec::new(),
            line_causes: Vec::new(),
        }
    }

    /// A block of whole lines (the last one may lack its newline only at the end of input).
    fn block(&mut self, raw: &[u8], lower: &[u8]) {
        self.fill_pending(raw);
        let mut starts = std::mem::take(&mut self.starts);
        starts.clear();
        self.data.index.main.lines(lower, &mut starts);
        if let Some(g) = &self.guess_filter {
            g.lines(lower, &mut starts);
        }
        starts.sort_unstable();
        starts.dedup();
        let mut counted = 0;
        for &start in &starts {
            self.lines += count_newlines(&raw[counted..start]);
            counted = start;
            let end = memchr(b'\n', &raw[start..]).map_or(raw.len(), |i| start + i);
            let line = trim_cr(&raw[start..end]);
            let line_no = self.lines + 1;
            if self.examine(
                line,
                &lower[start..start + line.len()],
                line_no,
                Some((raw, start)),
            ) {
                let before = self.lines_before(raw, start);
                let (after, complete) = lines_after(raw, end);
                self.set_context(line_no, before, snippet(line), after, complete);
            }
        }
        self.starts = starts;
        self.lines += count_newlines(&raw[counted..]);
        self.in_long_line = false;
        self.keep_tail(raw);
    }

    /// A window of a line longer than [`MAX_LINE_BYTES`] (no newline in it).
    fn window(&mut self, raw: &[u8], lower: &[u8]) {
        let line_no = self.lines + 1;
        if !self.in_long_line {
            self.in_long_line = true;
            self.long_lines += 1;
            self.first_long_line.get_or_insert(line_no);
        }
        let mut starts = std::mem::take(&mut self.starts);
        starts.clear();
        self.data.index.main.lines(lower, &mut starts);
        if let Some(g) = &self.guess_filter {
            g.lines(lower, &mut starts);
        }
        let candidate = !starts.is_empty();
        self.starts = starts;
        if candidate && self.examine(raw, lower, line_no, None) {
            let before: Vec<String> = self.tail.iter().cloned().collect();
            self.set_context(line_no, before, snippet(raw), Vec::new(), false);
        }
    }

    /// Matches one candidate line; true when a cause was found on it (listed in `line_causes`).
    /// `at` is the block and the line's start in it, for the lines before (else the tail).
    fn examine(
        &mut self,
        raw: &[u8],
        lower: &[u8],
        line_no: u64,
        at: Option<(&[u8], usize)>,
    ) -> bool {
        self.line_causes.clear();
        let Some(wanted) = self.select(lower) else {
            return false;
        };
        let text = line_text(raw);
        let mut hits = self.pattern_hits(&text);
        // The innermost link that names a layer: a phrase of another cause that is less sure
        // contradicts what the protocol shows, and is dropped.
        let reading = if wanted.layer {
            self.read_chain(&text, at)
        } else {
            None
        };
        if let Some((cause, r)) = &reading {
            weigh_reading(self.data, &mut hits, *cause, r);
        }
        let best = best_per_cause(&hits);
        for hit in &best {
            let read = reading
                .as_ref()
                .filter(|(cause, _)| *cause == hit.cause)
                .map(|(_, r)| r);
            self.record(*hit, line_no, &text, read);
            self.line_causes.push(hit.cause);
        }
        if !best.is_empty() {
            // A guess is offered only when no pattern matched anywhere: stop looking for them.
            self.guess_filter = None;
        } else if wanted.guessing {
            self.guess(line_no, &text);
        }
        if wanted.names {
            self.note_names(&text);
        }
        !best.is_empty()
    }

    /// What the anchors found in a line (`lower`, lowercased) ask for: the cause patterns into
    /// `selected` (sorted, once each), the guesses into `guess_selected`, and whether to read
    /// names and the error chain. `None` when the line asks for nothing.
    fn select(&mut self, lower: &[u8]) -> Option<Wanted> {
        let data = self.data;
        let index = &data.index;
        self.selected.clear();
        self.guess_selected.clear();
        let mut names = false;
        let mut layer = false;
        let every = index.every_line.iter();
        let found = index.stage_b.iter().flat_map(|ac| {
            ac.find_overlapping_iter(lower)
                .flat_map(|m| index.refs[m.pattern().as_usize()].iter())
        });
        for r in every.chain(found) {
            match *r {
                Ref::Pattern(i) => self.selected.push(i),
                Ref::Guess(g) => self.guess_selected.push(g),
                Ref::Names => names = true,
                Ref::Layer => layer = true,
            }
        }
        if index.stage_b.is_none() {
            self.selected.extend(0..index.patterns.len());
            self.guess_selected.extend(0..data.guesses.len());
            names = true;
            layer = true;
        }
        let guessing = self.guess_filter.is_some() && !self.guess_selected.is_empty();
        if self.selected.is_empty() && !guessing && !names && !layer {
            return None;
        }
        self.selected.sort_unstable();
        self.selected.dedup();
        Some(Wanted {
            names,
            layer,
            guessing,
        })
    }

    /// The matches of the selected cause patterns in `text` (empty matches left out).
    fn pattern_hits(&self, text: &str) -> Vec<Hit> {
        let data = self.data;
        let mut hits = Vec::new();
        for &i in &self.selected {
            let (cause, pattern) = data.index.patterns[i];
            let pattern = &data.causes[cause].patterns[pattern];
            if let Some(m) = pattern.regex.get().and_then(|r| r.find(text)) {
                if m.start() < m.end() {
                    hits.push(Hit {
                        cause,
                        confidence: pattern.confidence,
                        start: m.start(),
                        end: m.end(),
                    });
                }
            }
        }
        hits
    }

    /// The error chain read by protocol layer (`layers.rs`), with the lines before when it
    /// needs them: the cause it gives (by index) and the reading. `None` when it gives no cause.
    fn read_chain(&self, text: &str, at: Option<(&[u8], usize)>) -> Option<(usize, Reading)> {
        let data = self.data;
        let before = || {
            let lines = match at {
                Some((block, start)) => self.lines_before(block, start),
                None => self.tail.iter().cloned().collect(),
            };
            let joined = lines.join("\n");
            if joined.contains('\\') {
                normalize(&joined)
            } else {
                joined
            }
        };
        super::layers::read_lazily(before, text).and_then(|r| {
            let cause = data
                .causes
                .iter()
                .position(|c| c.code == r.cause.as_str())?;
            Some((cause, r))
        })
    }

    fn record(&mut self, hit: Hit, line_no: u64, text: &str, reading: Option<&Reading>) {
        let link = reading.map(|r| Link {
            layer: r.layer,
            host_role: r.role,
            host: r.host.clone(),
        });
        let matched = clip(text[hit.start..hit.end].trim(), MATCHED_KEEP_BYTES).to_string();
        let line = text;
        match &mut self.accs[hit.cause] {
            Some(acc) => {
                if acc.last_line != line_no {
                    acc.count += 1;
                    acc.last_line = line_no;
                }
                // The last match of the highest confidence is the one shown: in a CI log the
                // last error is usually the one that ended the job.
                if hit.confidence >= acc.confidence {
                    acc.confidence = hit.confidence;
                    acc.best_line = line_no;
                    acc.best_start = hit.start;
                    acc.matched = matched;
                    acc.registry = registry_name(line);
                    acc.repository = repository_name(line);
                    acc.link = link;
                }
            }
            slot @ None => {
                *slot = Some(Acc {
                    confidence: hit.confidence,
                    first_line: line_no,
                    last_line: line_no,
                    count: 1,
                    best_line: line_no,
                    best_start: hit.start,
                    matched,
                    registry: registry_name(line),
                    repository: repository_name(line),
                    context: Context {
                        first_line: line_no,
                        lines: Vec::new(),
                    },
                    link,
                    after: 0,
                })
            }
        }
    }

    fn guess(&mut self, line_no: u64, text: &str) {
        let data = self.data;
        self.guess_selected.sort_unstable();
        self.guess_selected.dedup();
        let mut changed = false;
        let mut on_line: Vec<GuessHit> = Vec::new();
        for &g in &self.guess_selected {
            if self.guesses.iter().any(|f| f.guess == g) {
                continue;
            }
            if let Some(m) = data.guesses[g].regex.get().and_then(|r| r.find(text)) {
                on_line.push(GuessHit {
                    guess: g,
                    line: line_no,
                    start: m.start(),
                    matched: clip(m.as_str().trim(), MATCHED_KEEP_BYTES).to_string(),
                });
                changed = true;
            }
        }
        on_line.sort_by_key(|h| h.start);
        self.guesses.extend(on_line);
        if changed {
            let codes: Vec<&str> = self
                .guesses
                .iter()
                .map(|h| data.guesses[h.guess].code)
                .collect();
            let mut distinct = codes.clone();
            distinct.sort_unstable();
            distinct.dedup();
            // Only the first few guesses are shown, in the order they occur.
            self.guess_filter = if distinct.len() >= super::answer::MAX_GUESSES {
                None
            } else {
                let done: Vec<usize> = self.guesses.iter().map(|h| h.guess).collect();
                Some(guess_prefilter(data, &done))
            };
        }
    }

    fn note_names(&mut self, text: &str) {
        if self.registry.is_none() {
            self.registry = registry_name(text);
        }
        if self.repository.iter().any(Option::is_none) {
            let forms = repository_forms(text);
            for (slot, form) in self.repository.iter_mut().zip(forms) {
                if slot.is_none() {
                    *slot = form;
                }
            }
        }
    }

    /// Up to [`CONTEXT_LINES`] lines before the line starting at `start`: from the block,
    /// then from the end of the previous one.
    fn lines_before(&self, raw: &[u8], start: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut end = start;
        while out.len() < CONTEXT_LINES && end > 0 {
            let line_end = end - 1; // the newline ending the previous line
            let line_start = memrchr(b'\n', &raw[..line_end]).map_or(0, |i| i + 1);
            out.push(snippet(&raw[line_start..line_end]));
            end = line_start;
        }
        if out.len() < CONTEXT_LINES && end == 0 {
            let missing = CONTEXT_LINES - out.len();
            out.extend(self.tail.iter().rev().take(missing).cloned());
        }
        out.reverse();
        out
    }

    fn set_context(
        &mut self,
        line_no: u64,
        before: Vec<String>,
        line: String,
        after: Vec<String>,
        complete: bool,
    ) {
        let causes = std::mem::take(&mut self.line_causes);
        for &cause in &causes {
            if let Some(acc) = &mut self.accs[cause] {
                let mut lines = before.clone();
                lines.push(line.clone());
                acc.after = if complete {
                    0
                } else {
                    CONTEXT_LINES - after.len()
                };
                lines.extend(after.iter().cloned());
                acc.context = Context {
                    first_line: line_no - before.len() as u64,
                    lines,
                };
                if acc.after > 0 && !self.pending.contains(&cause) {
                    self.pending.push(cause);
                }
            }
        }
        self.line_causes = causes;
    }

    /// Gives the causes waiting for lines after their last occurrence the first lines of a block.
    fn fill_pending(&mut self, raw: &[u8]) {
        if self.pending.is_empty() {
            return;
        }
        let need = self
            .pending
            .iter()
            .filter_map(|&c| self.accs[c].as_ref().map(|a| a.after))
            .max()
            .unwrap_or(0);
        let mut lines = Vec::new();
        let mut at = 0;
        // The first line of a block that follows windows is the end of that long line.
        if self.in_long_line {
            at = memchr(b'\n', raw).map_or(raw.len(), |i| i + 1);
        }
        while lines.len() < need && at < raw.len() {
            let end = memchr(b'\n', &raw[at..]).map_or(raw.len(), |i| at + i);
            lines.push(snippet(&raw[at..end]));
            at = end + 1;
        }
        let mut still = Vec::new();
        for &cause in &self.pending {
            if let Some(acc) = &mut self.accs[cause] {
                let n = acc.after.min(lines.len());
                acc.context.lines.extend(lines[..n].iter().cloned());
                acc.after -= n;
                if acc.after > 0 {
                    still.push(cause);
                }
            }
        }
        self.pending = still;
    }

    /// Remembers the last lines of a block, for the context of a match early in the next one.
    fn keep_tail(&mut self, raw: &[u8]) {
        let body = raw.strip_suffix(b"\n").unwrap_or(raw);
        let mut end = body.len();
        let mut last = Vec::new();
        loop {
            let start = memrchr(b'\n', &body[..end]).map_or(0, |i| i + 1);
            last.push(snippet(&body[start..end]));
            if last.len() == CONTEXT_LINES || start == 0 {
                break;
            }
            end = start - 1;
        }
        for line in last.into_iter().rev() {
            self.tail.push_back(line);
        }
        while self.tail.len() > CONTEXT_LINES {
            self.tail.pop_front();
        }
    }

    fn found(self) -> Found {
        let [image, url, scope] = self.repository;
        Found {
            causes: self
                .accs
                .into_iter()
                .enumerate()
                .filter_map(|(i, a)| a.map(|a| (i, a)))
                .collect(),
            guesses: self.guesses,
            registry: self.registry,
            repository: image.or(url).or(scope),
        }
    }
}

/// Up to [`CONTEXT_LINES`] lines after the newline at `end`; true when there were that many.
fn lines_after(raw: &[u8], end: usize) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let mut at = end + 1;
    while out.len() < CONTEXT_LINES && at < raw.len() {
        let line_end = memchr(b'\n', &raw[at..]).map_or(raw.len(), |i| at + i);
        out.push(snippet(&raw[at..line_end]));
        at = line_end + 1;
    }
    let complete = out.len() == CONTEXT_LINES;
    (out, complete)
}

/// The prefilter for the guesses not yet found.
fn guess_prefilter(data: &Data, done: &[usize]) -> Prefilter {
    let index = &data.index;
    let anchors = index
        .guess_anchors
        .iter()
        .enumerate()
        .filter(|(g, _)| !done.contains(g))
        .flat_map(|(_, set)| set.iter().cloned());
    let every_line = index.stage_b.is_none()
        || index
            .every_line
            .iter()
            .any(|r| matches!(r, Ref::Guess(g) if !done.contains(g)));
    Prefilter::new(anchors, every_line)
}

/// Reads a whole input through the scanner and builds the answer.
pub(super) fn triage_reader<R: Read>(reader: R, mut read: ReadSummary) -> TriageResult {
    let data = super::data::data();
    let found = scan(data, reader, &mut read);
    super::answer::answer(data, found, read)
}
