//! The terminal report: one line per check under its group, the cause and fix right under a
//! failing check, and a last line a person can read alone.

use crate::finding::Severity;
use crate::report::{CheckStatus, Report};

use super::{
    checks_in_group_order, confidence_marker, display_width, headline, mark, pad, paint_of,
    run_mark, verdict, Paint, Style,
};

/// Solution steps shown under a failing check.
const STEPS_SHOWN: usize = 4;

pub fn render(report: &Report, style: Style) -> String {
    let lang = style.lang;
    let mut out = String::new();
    out.push_str(&style.paint(&headline(report, lang), Paint::Bold));
    out.push('\n');
    let width = report
        .checks
        .iter()
        .map(|c| display_width(&c.title))
        .max()
        .unwrap_or(10)
        .clamp(10, 28)
        + 2;
    let indent = " ".repeat(4 + width);
    let ordered = checks_in_group_order(report);
    let mut group: Option<&str> = None;
    for check in ordered {
        let g = check.group.as_deref().unwrap_or("");
        if group != Some(g) {
            out.push('\n');
            out.push_str(&style.paint(g, Paint::Bold));
            out.push('\n');
            group = Some(g);
        }
        let m = style.paint(mark(check.status), paint_of(check.status));
        let message = if check.status == CheckStatus::Skip {
            style.paint(&check.message, Paint::Dim)
        } else {
            check.message.clone()
        };
        // A title as wide as its column (long titles, wide Japanese text) never runs into the
        // message: the message moves to the next line, under the others.
        if display_width(&check.title) + 2 > width {
            out.push_str(&format!(
                "  {m} {}\n  {}{message}\n",
                check.title,
                " ".repeat(2 + width)
            ));
        } else {
            out.push_str(&format!("  {m} {}{message}\n", pad(&check.title, width)));
        }
        for finding in report.findings.iter().filter(|f| f.check == check.id) {
            let paint = match finding.severity {
                Severity::Error => Paint::Fail,
                Severity::Warning => Paint::Warn,
                Severity::Info => Paint::Dim,
            };
            out.push_str(&format!(
                "{indent}{} · {} · {}\n",
                style.paint(&finding.code, paint),
                finding.title,
                style.paint(&confidence_marker(finding, lang), Paint::Dim)
            ));
            // The check's message often says it already; don't repeat it.
            if finding.detail.trim() != check.message.trim() {
                for line in finding.detail.lines().filter(|l| !l.trim().is_empty()) {
                    out.push_str(&format!("{indent}{line}\n"));
                }
            }
            // A terminal shows the first steps; `explain` and the Markdown report have them all.
            for (i, step) in finding.solution.iter().take(STEPS_SHOWN).enumerate() {
                out.push_str(&format!("{indent}{}. {step}\n", i + 1));
            }
            if finding.solution.len() > STEPS_SHOWN {
                out.push_str(&format!(
                    "{indent}{}\n",
                    style.paint(
                        &lang.pick(
                            format!(
                                "… {} more step(s): acr-doctor explain {}",
                                finding.solution.len() - STEPS_SHOWN,
                                finding.code
                            ),
                            format!(
                                "… ほかに {} 個の手順があります: acr-doctor explain {}",
                                finding.solution.len() - STEPS_SHOWN,
                                finding.code
                            )
                        ),
                        Paint::Dim
                    )
                ));
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
        }
    }
    if !report.timeline.is_empty() {
        out.push('\n');
        out.push_str(&style.paint(lang.pick("Credentials", "資格情報"), Paint::Bold));
        out.push('\n');
        for t in &report.timeline {
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
    }
    out.push('\n');
    let (m, paint) = run_mark(report.status);
    out.push_str(&style.paint(&format!("{m} {}", verdict(report, lang)), paint));
    out.push('\n');
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
