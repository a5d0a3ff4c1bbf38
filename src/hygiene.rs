//! Text from servers is data, never terminal control or CI commands.
//!
//! Registry, Entra and ARM messages reach the report verbatim as evidence. Before any renderer
//! sees them, [`clean`] removes control characters (escape sequences, carriage returns that
//! overwrite a line, bidirectional overrides) and neutralises what CI systems execute from a
//! log: Azure Pipelines' `##vso[` and `##[` anywhere in a line, GitHub Actions' `::` at the
//! start of a line. The annotation lines acr-doctor writes itself are produced after this, by
//! the `github` renderer. [`fence`] picks a Markdown code fence that no content can close.

use std::borrow::Cow;

/// `s` without control characters (tab and newline kept) and with CI command markers defused.
pub fn clean(s: &str) -> Cow<'_, str> {
    let needs = s.chars().any(unsafe_char)
        || s.contains("##")
        || s.lines().any(|l| l.trim_start().starts_with("::"));
    if !needs {
        return Cow::Borrowed(s);
    }
    let stripped: String = s.chars().filter(|c| !unsafe_char(*c)).collect();
    let mut out = String::with_capacity(stripped.len() + 8);
    for (i, line) in stripped.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let line = defuse_hashes(line);
        let indent = line.len() - line.trim_start().len();
        if line[indent..].starts_with("::") {
            out.push_str(&line[..indent]);
            out.push_str(": :");
            out.push_str(&line[indent + 2..]);
        } else {
            out.push_str(&line);
        }
    }
    Cow::Owned(out)
}

/// Control characters other than tab and newline, and the Unicode bidirectional controls.
fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// `##vso[` and `##[` (any case, anywhere) become `## vso[` and `## [`.
fn defuse_hashes(line: &str) -> Cow<'_, str> {
    if !line.contains("##") {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 4);
    let mut rest = line;
    while let Some(at) = rest.find("##") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let is_command = after.starts_with('[')
            || after
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("vso["));
        out.push_str(if is_command { "## " } else { "##" });
        rest = after;
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// A Markdown code fence longer than any run of backticks in `content` (at least three).
pub fn fence(content: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in content.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_ci_commands_do_not_survive() {
        let hostile = "denied\u{1b}[2J\u{1b}]0;owned\u{7}\r##vso[task.setvariable variable=x]1\n::add-mask::x\n  ::error::y\nok ##[error]z\u{202E}";
        let c = clean(hostile);
        assert!(!c.chars().any(|ch| ch.is_control() && ch != '\n'), "{c:?}");
        assert!(!c.contains("##vso["), "{c}");
        assert!(!c.contains("##["), "{c}");
        for line in c.lines() {
            assert!(!line.trim_start().starts_with("::"), "{line:?}");
        }
        assert!(!c.contains('\u{202E}'));
        assert!(c.contains("denied"));
        assert!(c.contains("task.setvariable"));
        assert!(c.contains("##VSO[") || !hostile.contains("##VSO["));
        assert!(!clean("x ##VsO[y").contains("##VsO["));
    }

    #[test]
    fn ordinary_text_is_untouched() {
        for s in [
            "GET https://contosoreg.azurecr.io/v2/ → 401",
            "line one\n\tline two",
            "a::b is fine mid-line",
            "# heading ## not a command",
            "日本語のテキスト",
        ] {
            assert!(matches!(clean(s), Cow::Borrowed(_)) || clean(s) == s, "{s}");
            assert_eq!(clean(s), s);
        }
    }

    #[test]
    fn fences_outgrow_their_content() {
        assert_eq!(fence("plain"), "```");
        assert_eq!(fence("a ``` b"), "````");
        assert_eq!(fence("`````"), "``````");
    }
}
