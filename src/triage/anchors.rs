//! Literal anchors of the triage patterns, for the prefilter that lets streaming triage skip the
//! lines no pattern can match.
//!
//! For each pattern: a small set of strings, one of which every match contains, in the form they
//! take in the raw bytes of a line with ASCII letters lower-cased. A line that contains none of a
//! pattern's anchors cannot match it, so the regular expression is never run there.
//!
//! Two rewritings happen between the raw bytes and the text the patterns see, and anchors are
//! chosen so that neither can hide one:
//! - JSON and Go unescaping (`\"`, `\u0027`, …) turns an escape sequence into one character;
//!   anchors are cut at every character that such a sequence can produce (and at `\`).
//! - the patterns match case-insensitively: anchors are lower-cased, and a line is lower-cased
//!   (ASCII only) before it is searched. A non-ASCII letter with a case cuts the anchor too.
//!   One approximation remains: an ASCII letter of a pattern also matches the two non-ASCII
//!   letters that Unicode folds to it (KELVIN SIGN for `k`, LATIN SMALL LETTER LONG S for `s`);
//!   a line spelling a keyword with those is not seen. No tool prints them.

use regex_syntax::hir::{Class, Hir, HirKind};

/// Anchors shorter than this are not selective enough: the pattern counts as having none.
pub const MIN_ANCHOR_BYTES: usize = 3;
/// Finite languages bigger than this are not expanded.
const MAX_SET: usize = 16;
/// Characters that unescaping can produce, or that a per-line search never sees.
const BREAKS: &[char] = &['"', '\'', '&', '<', '>', '\\', '\n', '\r'];

/// Strings (lower-cased, each at least [`MIN_ANCHOR_BYTES`] long) one of which every match of
/// `pattern` contains; `None` when no such set was found.
pub fn anchors(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()?;
    let mut set = required(&hir)?;
    set.sort();
    set.dedup();
    Some(set)
}

/// The finite language of `h` when it is small, else `None`.
fn exact(h: &Hir) -> Option<Vec<Vec<u8>>> {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(vec![Vec::new()]),
        HirKind::Literal(lit) => Some(vec![lit.0.to_vec()]),
        HirKind::Class(Class::Unicode(class)) => {
            let mut out = Vec::new();
            for range in class.iter() {
                for c in range.start()..=range.end() {
                    if out.len() >= MAX_SET {
                        return None;
                    }
                    out.push(c.to_string().into_bytes());
                }
            }
            Some(out)
        }
        HirKind::Class(Class::Bytes(class)) => {
            let mut out = Vec::new();
            for range in class.iter() {
                for b in range.start()..=range.end() {
                    if out.len() >= MAX_SET {
                        return None;
                    }
                    out.push(vec![b]);
                }
            }
            Some(out)
        }
        HirKind::Capture(c) => exact(&c.sub),
        HirKind::Repetition(r) => {
            let max = r.max?;
            if max > 3 {
                return None;
            }
            let sub = exact(&r.sub)?;
            let mut out = Vec::new();
            let mut power = vec![Vec::new()];
            for n in 0..=max {
                if n >= r.min {
                    out.extend(power.iter().cloned());
                }
                power = product(&power, &sub)?;
            }
            (out.len() <= MAX_SET).then_some(out)
        }
        HirKind::Concat(parts) => {
            let mut out = vec![Vec::new()];
            for part in parts {
                out = product(&out, &exact(part)?)?;
            }
            Some(out)
        }
        HirKind::Alternation(alts) => {
            let mut out = Vec::new();
            for alt in alts {
                out.extend(exact(alt)?);
                if out.len() > MAX_SET {
                    return None;
                }
            }
            Some(out)
        }
    }
}

fn product(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len() * b.len() > MAX_SET {
        return None;
    }
    Some(
        a.iter()
            .flat_map(|x| b.iter().map(move |y| [x.as_slice(), y.as_slice()].concat()))
            .collect(),
    )
}

/// A set one of which every match of `h` contains, already cut into anchors.
fn required(h: &Hir) -> Option<Vec<Vec<u8>>> {
    if let Some(set) = exact(h).and_then(|s| usable(&s)) {
        return Some(set);
    }
    match h.kind() {
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub),
        HirKind::Alternation(alts) => {
            let mut out = Vec::new();
            for alt in alts {
                out.extend(required(alt)?);
            }
            Some(out)
        }
        HirKind::Concat(parts) => {
            let mut best: Option<Vec<Vec<u8>>> = None;
            let mut consider = |candidate: Option<Vec<Vec<u8>>>| {
                if let Some(c) = candidate {
                    if best.as_ref().is_none_or(|b| score(&c) > score(b)) {
                        best = Some(c);
                    }
                }
            };
            // A run of parts with small finite languages is one candidate (their product);
            // any other part is a candidate of its own.
            let mut run: Vec<Vec<u8>> = vec![Vec::new()];
            for part in parts {
                match exact(part) {
                    Some(lang) => match product(&run, &lang) {
                        Some(next) => run = next,
                        None => {
                            consider(usable(&run));
                            run = lang;
                        }
                    },
                    None => {
                        consider(usable(&run));
                        run = vec![Vec::new()];
                        consider(required(part));
                    }
                }
            }
            consider(usable(&run));
            best
        }
        _ => None,
    }
}

/// Cuts each string to its longest piece without a break character, lower-cased; `None` when a
/// piece is too short (the set then says too little).
fn usable(set: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::with_capacity(set.len());
    for s in set {
        let text = std::str::from_utf8(s).ok()?;
        let piece = text
            .split(|c: char| {
                BREAKS.contains(&c) || (!c.is_ascii() && (c.is_lowercase() || c.is_uppercase()))
            })
            .max_by_key(|p| p.len())
            .unwrap_or("");
        if piece.len() < MIN_ANCHOR_BYTES {
            return None;
        }
        out.push(piece.to_ascii_lowercase().into_bytes());
    }
    (!out.is_empty()).then_some(out)
}

/// Words frequent in ordinary build logs. An anchor that is one of them would send many lines
/// to the full match (cargo prints `registry+https://…` on every crate it compiles), so another
/// literal of the same pattern is preferred when there is one. This only affects speed.
const COMMON: &[&str] = &[
    "access",
    "action",
    "build",
    "client",
    "connect",
    "denied",
    "docker",
    "error",
    "failed",
    "http",
    "https",
    "image",
    "login",
    "name",
    "password",
    "pull",
    "push",
    "registry",
    "repository",
    "request",
    "resource",
    "response",
    "server",
    "status",
    "token",
    "type",
    "unauthorized",
    "version",
];

/// A common word, or a number (digits are everywhere in logs: digests, sizes, timings).
fn common(anchor: &[u8]) -> bool {
    let core = anchor
        .iter()
        .position(u8::is_ascii_alphanumeric)
        .zip(anchor.iter().rposition(u8::is_ascii_alphanumeric))
        .map_or(&[][..], |(a, b)| &anchor[a..=b]);
    core.iter().all(u8::is_ascii_digit) || COMMON.iter().any(|w| w.as_bytes() == core)
}

/// Anchors of 8 bytes or more are selective enough: then fewer of them (fewer literals for the
/// prefilter), then longer ones. A set holding a common word comes last.
fn score(set: &[Vec<u8>]) -> (bool, usize, std::cmp::Reverse<usize>, usize) {
    let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
    let rare = !set.iter().any(|a| common(a));
    (
        rare,
        shortest.min(8),
        std::cmp::Reverse(set.len()),
        shortest.min(32),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(pattern: &str) -> Option<Vec<String>> {
        anchors(pattern).map(|set| {
            set.into_iter()
                .map(|s| String::from_utf8_lossy(&s).into_owned())
                .collect()
        })
    }

    #[test]
    fn literal_runs_and_alternations() {
        assert_eq!(
            show(r"lookup [a-z0-9]+\.azurecr\.(?:io|cn|us)(?: on [0-9a-f.:\[\]]+)?: no such host"),
            Some(vec![": no such host".into()])
        );
        // A run through a small alternation is one candidate: its product.
        assert_eq!(
            show(r"lookup [a-z0-9]+\.azurecr\.(?:io|cn): no such host"),
            Some(vec![
                ".azurecr.cn: no such host".into(),
                ".azurecr.io: no such host".into()
            ])
        );
        assert_eq!(
            show(r"\btime[d ]?out\b|\brefused\b"),
            Some(vec![
                "refused".into(),
                "time out".into(),
                "timedout".into(),
                "timeout".into()
            ])
        );
        assert_eq!(show(r"\bCMK_ERROR\b"), Some(vec!["cmk_error".into()]));
    }

    #[test]
    fn quotes_and_escapes_cut_anchors() {
        // `\"` in a JSON body becomes `"` only after unescaping: the anchor avoids the quote.
        assert_eq!(
            show(r#"exec: "docker(?:\.exe)?": executable file not found"#),
            Some(vec![": executable file not found".into()])
        );
        assert_eq!(
            show(r#"context "[^"]+": context not found"#),
            Some(vec![": context not found".into()])
        );
    }

    #[test]
    fn patterns_without_a_usable_literal_have_none() {
        assert_eq!(show(r"\d{3}"), None);
        assert_eq!(show(r"[a-z]+ o"), None);
        assert_eq!(show(r"ab|cdef"), None);
    }

    #[test]
    fn common_words_are_avoided_when_another_literal_exists() {
        assert_eq!(
            show(r#""Type"\s*:\s*"registry"\s*,\s*"Name"\s*:\s*"catalog""#),
            Some(vec!["catalog".into()])
        );
        // Still an anchor when it is the only literal, and before a bare number.
        assert_eq!(show(r"\bstatus\b"), Some(vec!["status".into()]));
        assert_eq!(show(r"\bHTTP/[0-9.]+ 401\b"), Some(vec!["http/".into()]));
    }

    #[test]
    fn japanese_text_is_kept_whole() {
        assert_eq!(show("証明書"), Some(vec!["証明書".into()]));
    }
}
