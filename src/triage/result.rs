//! What triage answers: the candidates (causes, most likely first, with where and why), the
//! guesses offered for unknown text, and what was read.

use serde::Serialize;

use super::layers;

/// How sure triage is that a message points to a cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub(super) fn parse(s: &str) -> Option<Confidence> {
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
    pub(super) fn new(source: &str, path: Option<String>) -> ReadSummary {
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
