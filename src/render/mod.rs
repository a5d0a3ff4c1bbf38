//! Renderers over one report model. Each returns a String; `commands` writes it through the one door.

pub mod catalogue;
pub mod checks;
pub mod explain;
pub mod fleet;
pub mod github;
pub mod human;
pub mod json;
pub mod markdown;
pub mod triage;

use colored::Colorize;
use unicode_width::UnicodeWidthStr;

use crate::lang::Lang;
use crate::report::{CheckResult, CheckStatus, Report, RunStatus};

/// How text may be styled.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub lang: Lang,
}

impl Style {
    pub fn plain(lang: Lang) -> Self {
        Style { color: false, lang }
    }

    pub fn paint(&self, text: &str, how: Paint) -> String {
        if !self.color {
            return text.to_string();
        }
        match how {
            Paint::Pass => text.green().to_string(),
            Paint::Warn => text.yellow().to_string(),
            Paint::Fail => text.red().bold().to_string(),
            Paint::Dim => text.dimmed().to_string(),
            Paint::Bold => text.bold().to_string(),
            Paint::Code => text.cyan().to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Paint {
    Pass,
    Warn,
    Fail,
    Dim,
    Bold,
    Code,
}

pub fn mark(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "✔",
        CheckStatus::Warn => "!",
        CheckStatus::Fail => "✘",
        CheckStatus::Skip => "-",
        CheckStatus::Info => "i",
    }
}

pub fn paint_of(status: CheckStatus) -> Paint {
    match status {
        CheckStatus::Pass => Paint::Pass,
        CheckStatus::Warn => Paint::Warn,
        CheckStatus::Fail => Paint::Fail,
        CheckStatus::Skip | CheckStatus::Info => Paint::Dim,
    }
}

/// Pads to a display width (Japanese characters are two columns wide).
pub fn pad(text: &str, width: usize) -> String {
    let w = UnicodeWidthStr::width(text);
    if w >= width {
        text.to_string()
    } else {
        format!("{text}{}", " ".repeat(width - w))
    }
}

pub fn display_width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// The checks in the order every form shows them: groups in order of first appearance, each
/// with all its checks in declared order.
pub fn checks_in_group_order(report: &Report) -> Vec<&CheckResult> {
    let mut groups: Vec<&str> = Vec::new();
    for check in &report.checks {
        let g = check.group.as_deref().unwrap_or("");
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    groups
        .iter()
        .flat_map(|g| {
            report
                .checks
                .iter()
                .filter(move |c| c.group.as_deref().unwrap_or("") == *g)
        })
        .collect()
}

/// The one-line verdict: counts and time.
pub fn verdict(report: &Report, lang: Lang) -> String {
    use crate::finding::Severity;
    let errors = report.count_findings(Severity::Error);
    let warnings = report.count_findings(Severity::Warning);
    let passed = report.count(CheckStatus::Pass);
    let skipped = report.count(CheckStatus::Skip);
    let secs = report.duration_ms as f64 / 1000.0;
    let mut parts = match lang {
        Lang::En => vec![
            format!("{errors} error{}", if errors == 1 { "" } else { "s" }),
            format!("{warnings} warning{}", if warnings == 1 { "" } else { "s" }),
            format!("{passed} passed"),
            format!("{skipped} skipped"),
            format!("{secs:.2} s"),
        ],
        Lang::Ja => vec![
            format!("エラー {errors} 件"),
            format!("警告 {warnings} 件"),
            format!("成功 {passed} 件"),
            format!("スキップ {skipped} 件"),
            format!("{secs:.2} 秒"),
        ],
    };
    if let Some(primary) = report.primary() {
        parts.push(format!("acr-doctor explain {}", primary.code));
    } else if passed == 0 {
        parts.insert(
            0,
            lang.pick("nothing could be checked", "確認できた項目はありません")
                .to_string(),
        );
    } else {
        parts.insert(
            0,
            lang.pick("no problems found", "問題は見つかりませんでした")
                .to_string(),
        );
    }
    parts.join(" · ")
}

pub fn run_mark(status: RunStatus) -> (&'static str, Paint) {
    match status {
        RunStatus::Pass => ("✔", Paint::Pass),
        RunStatus::Warn => ("!", Paint::Warn),
        RunStatus::Fail => ("✘", Paint::Fail),
    }
}

/// The header line: tool, registry, login server, repository, need.
pub fn headline(report: &Report, lang: Lang) -> String {
    let mut parts = vec![format!("acr-doctor {}", report.tool.version)];
    match &report.target.login_server {
        Some(ls) => parts.push(format!("{} ({ls})", report.target.name)),
        None => parts.push(report.target.name.clone()),
    }
    if let Some(repo) = &report.target.repository {
        let mut image = repo.clone();
        if let Some(tag) = &report.target.tag {
            image.push_str(&format!(":{tag}"));
        }
        if let Some(digest) = &report.target.digest {
            image.push_str(&format!("@{digest}"));
        }
        parts.push(format!("{} {image}", lang.pick("repository", "リポジトリ")));
    }
    if !report.need.is_empty() {
        parts.push(format!(
            "{} {}",
            lang.pick("need", "必要な操作"),
            report.need.join(",")
        ));
    }
    parts.join(" · ")
}

/// How sure a finding is, shortly: `proven`, or `inferred` with the other causes the same
/// evidence allows.
pub fn confidence_marker(f: &crate::finding::Finding, lang: Lang) -> String {
    use crate::finding::Confidence;
    let mut out = match f.confidence {
        Confidence::Proven => lang.pick("proven", "証明済み").to_string(),
        Confidence::Inferred => lang.pick("inferred", "推定").to_string(),
    };
    if !f.alternatives.is_empty() {
        out.push_str(&lang.pick(
            format!("; also possible: {}", f.alternatives.join(", ")),
            format!("。ほかの可能性: {}", f.alternatives.join(", ")),
        ));
    }
    out
}
