//! `--output github`: workflow annotations on stdout and a job summary in `$GITHUB_STEP_SUMMARY`.

use crate::finding::Severity;
use crate::lang::Lang;
use crate::report::Report;

/// Escapes a workflow command's message (GitHub's `escapeData`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property (GitHub's `escapeProperty`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One annotation per finding, then the verdict.
pub fn annotations(report: &Report, lang: Lang) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut message = format!("{}\n{}", f.title, f.detail);
        if let Some(step) = f.solution.first() {
            message.push_str(&format!("\n{} {step}", lang.pick("Fix:", "解決方法:")));
        }
        for c in &f.commands {
            message.push_str(&format!("\n$ {c}"));
        }
        out.push_str(&format!(
            "::{level} title={}::{}\n",
            escape_property(&format!("{} ({})", f.code, f.check)),
            escape_data(&message)
        ));
    }
    let (m, _) = super::run_mark(report.status);
    out.push_str(&format!("{m} {}\n", super::verdict(report, lang)));
    out
}

/// The job summary: the ticket Markdown.
pub fn summary(report: &Report, lang: Lang) -> String {
    super::markdown::render(report, lang)
}

/// Azure Pipelines logging commands (`##vso[task.logissue]`), one per finding.
pub fn azure_pipelines(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let kind = match f.severity {
            Severity::Error => "error",
            _ => "warning",
        };
        let msg = format!("{}: {} {}", f.code, f.title, f.detail)
            .replace(['\r', '\n'], " ")
            .replace(';', "%3B")
            .replace(']', "%5D");
        out.push_str(&format!(
            "##vso[task.logissue type={kind};code={}]{msg}\n",
            f.code
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_actions_toolkit() {
        assert_eq!(escape_data("a%b\nc\r"), "a%25b%0Ac%0D");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
