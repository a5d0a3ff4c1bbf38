//! The terminal report: one line per check under its group, the cause and fix right under a
//! failing check, and a last line a person can read alone.

use crate::finding::{Finding, Severity};
use crate::lang::Lang;
use crate::report::{CheckResult, CheckStatus, Report, TimelineEntry};

use super::{
    checks_in_group_order, confidence_marker, display_width, headline, mark, pad, paint_of,
    run_mark, verdict, Paint, Style,
};

/// Solution steps shown under a failing check.
const STEPS_SHOWN: usize = 4;

pub fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    out.push_str(&style.paint(&headline(report, style.lang), Paint::Bold));
    out.push('\n');
    let width = title_column_width(&report.checks);
    let indent = " ".repeat(4 + width);
    let mut group: Option<&str> = None;
    for check in checks_in_group_order(report) {
        let g = check.group.as_deref().unwrap_or("");
        if group != Some(g) {
            out.push('\n');
            out.push_str(&style.paint(g, Paint::Bold));
            out.push('\n');
            group = Some(g);
        }
        out.push_str(&check_line(check, width, style));
        for finding in report.findings.iter().filter(|f| f.check == check.id) {
            out.push_str(&finding_block(finding, &check.message, &indent, style));
        }
    }
    out.push_str(&credentials_section(&report.timeline, style));
    out.push('\n');
    let (m, paint) = run_mark(report.status);
    out.push_str(&style.paint(&format!("{m} {}", verdict(report, style.lang)), paint));
    out.push('\n');
    out
}

/// The width of the title column: the widest title, within 10..=28 columns, plus a gap of 2.
fn title_column_width(checks: &[CheckResult]) -> usize {
    checks
        .iter()
        .map(|c| display_width(&c.title))
        .max()
        .unwrap_or(10)
        .clamp(10, 28)
        + 2
}

/// One check's line: mark, title, message. A title as wide as its column (long titles, wide
/// Japanese text) never runs into the message: the message moves to the next line, under the
/// others.
fn check_line(check: &CheckResult, width: usize, style: Style) -> String {
    let m = style.paint(mark(check.status), paint_of(check.status));
    let message = if check.status == CheckStatus::Skip {
        style.paint(&check.message, Paint::Dim)
    } else {
        check.message.clone()
    };
    if display_width(&check.title) + 2 > width {
        format!(
            "  {m} {}\n  {}{message}\n",
            check.title,
            " ".repeat(2 + width)
        )
    } else {
        format!("  {m} {}{message}\n", pad(&check.title, width))
    }
}

fn severity_paint(severity: Severity) -> Paint {
    match severity {
        Severity::Error => Paint::Fail,
        Severity::Warning => Paint::Warn,
        Severity::Info => Paint::Dim,
    }
}

/// A finding under its check: code, title and confidence, the detail (unless the check's
/// message already says it), the first solution steps, commands and the first document.
fn finding_block(finding: &Finding, check_message: &str, indent: &str, style: Style) -> String {
    let lang = style.lang;
    let mut out = format!(
        "{indent}{} · {} · {}\n",
        style.paint(&finding.code, severity_paint(finding.severity)),
        finding.title,
        style.paint(&confidence_marker(finding, lang), Paint::Dim)
    );
    // The check's message often says it already; don't repeat it.
    if finding.detail.trim() != check_message.trim() {
        for line in finding.detail.lines().filter(|l| !l.trim().is_empty()) {
            out.push_str(&format!("{indent}{line}\n"));
        }
    }
    // A terminal shows the first steps; `explain` and the Markdown report have them all.
    for (i, step) in finding.solution.iter().take(STEPS_SHOWN).enumerate() {
        out.push_str(&format!("{indent}{}. {step}\n", i + 1));
    }
    if let Some(more) = more_steps_note(finding, lang) {
        out.push_str(&format!("{indent}{}\n", style.paint(&more, Paint::Dim)));
    }
    for cmd in &finding.commands {
        out.push_str(&format!(
            "{indent}  {}\n",
            style.paint(&format!("$ {cmd}"), Paint::Code)
        ));
    }
    if let Some(doc) = finding.docs.first() {
        out.push_str(&format!("{indent}{}\n", style.paint(doc, Paint::Dim)));
    }
    out
}

/// Where to read the solution steps a terminal does not show, if there are any.
fn more_steps_note(finding: &Finding, lang: Lang) -> Option<String> {
    let hidden = finding.solution.len().checked_sub(STEPS_SHOWN)?;
    if hidden == 0 {
        return None;
    }
    Some(lang.pick(
        format!(
            "… {hidden} more step(s): acr-doctor explain {}",
            finding.code
        ),
        format!(
            "… ほかに {hidden} 個の手順があります: acr-doctor explain {}",
            finding.code
        ),
    ))
}

/// The credentials on the expiry timeline, under their own heading; empty without any.
fn credentials_section(timeline: &[TimelineEntry], style: Style) -> String {
    let lang = style.lang;
    if timeline.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n");
    out.push_str(&style.paint(lang.pick("Credentials", "資格情報"), Paint::Bold));
    out.push('\n');
    for t in timeline {
        let remaining = t
            .remaining_s
            .map(|s| human_duration(s, lang))
            .unwrap_or_else(|| "?".into());
        out.push_str(&format!(
            "  {} {}{} · {}\n",
            pad(&t.state, 8),
            pad(&t.kind, 24),
            t.source,
            remaining
        ));
    }
    out
}

/// `3 h 2 min left`, `expired 5 min ago`.
pub fn human_duration(seconds: i64, lang: crate::lang::Lang) -> String {
    let abs = seconds.unsigned_abs();
    let ja = lang == crate::lang::Lang::Ja;
    let text = if abs >= 2 * 86_400 {
        if ja {
            format!("{} 日", abs / 86_400)
        } else {
            format!("{} d", abs / 86_400)
        }
    } else if abs >= 3_600 {
        if ja {
            format!("{} 時間 {} 分", abs / 3_600, (abs % 3_600) / 60)
        } else {
            format!("{} h {} min", abs / 3_600, (abs % 3_600) / 60)
        }
    } else if abs >= 60 {
        if ja {
            format!("{} 分", abs / 60)
        } else {
            format!("{} min", abs / 60)
        }
    } else if ja {
        format!("{abs} 秒")
    } else {
        format!("{abs} s")
    };
    match (seconds >= 0, lang) {
        (true, crate::lang::Lang::En) => format!("{text} left"),
        (true, crate::lang::Lang::Ja) => format!("残り {text}"),
        (false, crate::lang::Lang::En) => format!("expired {text} ago"),
        (false, crate::lang::Lang::Ja) => format!("{text} 前に期限切れ"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(title: &str, status: CheckStatus, message: &str) -> CheckResult {
        CheckResult {
            id: "registry.challenge".into(),
            group: Some("Registry".into()),
            title: title.into(),
            status,
            duration_ms: 0,
            message: message.into(),
            evidence: Default::default(),
        }
    }

    fn finding(code: &str, steps: usize) -> Finding {
        Finding {
            code: code.into(),
            severity: Severity::Error,
            check: "registry.challenge".into(),
            title: "t".into(),
            detail: "d1\n\nd2".into(),
            solution: (1..=steps).map(|i| format!("s{i}")).collect(),
            commands: vec!["az login".into()],
            docs: vec![
                "https://example.invalid/a".into(),
                "https://example.invalid/b".into(),
            ],
            evidence: Default::default(),
            confidence: Default::default(),
            alternatives: Vec::new(),
        }
    }

    #[test]
    fn the_title_column_fits_the_widest_title_within_bounds() {
        assert_eq!(title_column_width(&[]), 12);
        assert_eq!(
            title_column_width(&[check("ab", CheckStatus::Pass, "")]),
            12
        );
        let fifteen = "x".repeat(15);
        assert_eq!(
            title_column_width(&[check(&fifteen, CheckStatus::Pass, "")]),
            17
        );
        // Wide (Japanese) characters count two columns.
        assert_eq!(
            title_column_width(&[check("あいうえおかきくけこ", CheckStatus::Pass, "")]),
            22
        );
        let long = "x".repeat(40);
        assert_eq!(
            title_column_width(&[check(&long, CheckStatus::Pass, "")]),
            30
        );
    }

    #[test]
    fn a_title_wider_than_its_column_puts_the_message_on_the_next_line() {
        let style = Style::plain(Lang::En);
        let short = check_line(&check("short", CheckStatus::Pass, "m"), 12, style);
        assert_eq!(short.lines().count(), 1, "{short}");
        assert!(short.ends_with("m\n"), "{short}");
        let wide = check_line(&check(&"x".repeat(11), CheckStatus::Fail, "m"), 12, style);
        let lines: Vec<&str> = wide.lines().collect();
        assert_eq!(lines.len(), 2, "{wide}");
        // The message starts where the other messages start: 2 + mark + space + column.
        assert_eq!(lines[1], format!("{}m", " ".repeat(16)));
    }

    #[test]
    fn a_finding_shows_at_most_the_first_steps_and_points_to_the_rest() {
        let style = Style::plain(Lang::En);
        let indent = "    ";
        let few = finding_block(&finding("RBAC_ROLE_MISSING", 2), "other", indent, style);
        let lines: Vec<&str> = few.lines().collect();
        // head, 2 detail lines (blank one dropped), 2 steps, 1 command, first document only.
        assert_eq!(lines.len(), 7, "{few}");
        assert!(lines[0].starts_with("    RBAC_ROLE_MISSING · "), "{few}");
        assert_eq!(lines[5], "      $ az login");
        assert_eq!(lines[6], "    https://example.invalid/a");
        assert!(lines.iter().all(|l| l.starts_with(indent)), "{few}");

        let many = finding_block(&finding("RBAC_ROLE_MISSING", 6), "other", indent, style);
        let numbered = many
            .lines()
            .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
            .count();
        assert_eq!(numbered, STEPS_SHOWN, "{many}");
        assert_eq!(many.lines().count(), 7 - 2 + STEPS_SHOWN + 1, "{many}");

        // The detail is left out when the check's message already says it.
        let same = finding_block(&finding("RBAC_ROLE_MISSING", 0), "d1\n\nd2", indent, style);
        assert_eq!(same.lines().count(), 3, "{same}");
    }

    #[test]
    fn the_more_steps_note_counts_the_hidden_steps_and_names_the_code() {
        for lang in [Lang::En, Lang::Ja] {
            assert_eq!(more_steps_note(&finding("X_CODE", 0), lang), None);
            assert_eq!(more_steps_note(&finding("X_CODE", STEPS_SHOWN), lang), None);
            let note = more_steps_note(&finding("X_CODE", STEPS_SHOWN + 3), lang).unwrap();
            assert!(note.contains(" 3 "), "{note}");
            assert!(note.ends_with("acr-doctor explain X_CODE"), "{note}");
        }
    }

    #[test]
    fn severities_paint_as_their_check_marks_do() {
        assert!(matches!(severity_paint(Severity::Error), Paint::Fail));
        assert!(matches!(severity_paint(Severity::Warning), Paint::Warn));
        assert!(matches!(severity_paint(Severity::Info), Paint::Dim));
    }

    #[test]
    fn the_credentials_section_is_absent_without_credentials() {
        let style = Style::plain(Lang::En);
        assert_eq!(credentials_section(&[], style), "");
        let entry = TimelineEntry {
            kind: "entra_token".into(),
            source: "az".into(),
            issued_at: None,
            expires_at: None,
            remaining_s: None,
            state: "valid".into(),
        };
        let text = credentials_section(&[entry.clone(), entry], style);
        let lines: Vec<&str> = text.lines().collect();
        // A blank line, the heading, one line per credential.
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(lines[0], "");
        assert!(lines[2].ends_with(" · ?"), "{text}");
    }
}
