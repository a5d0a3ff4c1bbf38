//! `--output markdown`: a report ready to paste into a support ticket.

use crate::finding::{Finding, Severity};
use crate::lang::Lang;
use crate::report::{Identity, Report};

use super::{checks_in_group_order, headline, mark, run_mark, verdict};

/// Escapes text for a Markdown table cell.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

pub fn render(report: &Report, lang: Lang) -> String {
    let mut out = verdict_heading(report, lang);
    out.push_str(&checks_table(report, lang));
    out.push_str(&findings(report, lang));
    out.push_str(&credentials(report, lang));
    out.push_str(&environment(report, lang));
    if report.primary().is_some() {
        out.push_str(&login_events_hint(report, lang));
    }
    out
}

/// The headline and the run's verdict.
fn verdict_heading(report: &Report, lang: Lang) -> String {
    let (m, _) = run_mark(report.status);
    format!(
        "## {}\n\n**{m} {}**\n\n",
        headline(report, lang),
        verdict(report, lang)
    )
}

/// One row per check, in group order.
fn checks_table(report: &Report, lang: Lang) -> String {
    let (check_h, result_h, time_h) = match lang {
        Lang::En => ("Check", "Result", "Time"),
        Lang::Ja => ("チェック", "結果", "時間"),
    };
    let mut out = format!("| | {check_h} | {result_h} | {time_h} |\n|---|---|---|---:|\n");
    for c in checks_in_group_order(report) {
        out.push_str(&format!(
            "| {} | {} `{}` | {} | {} ms |\n",
            mark(c.status),
            cell(&c.title),
            c.id,
            cell(&c.message),
            c.duration_ms
        ));
    }
    out.push('\n');
    out
}

/// Every finding, the first marked as the primary cause; nothing when there are none.
fn findings(report: &Report, lang: Lang) -> String {
    if report.findings.is_empty() {
        return String::new();
    }
    let mut out = format!("### {}\n\n", lang.pick("Findings", "検出された問題"));
    for (i, f) in report.findings.iter().enumerate() {
        out.push_str(&finding(i, f, lang));
    }
    out
}

fn severity_word(severity: Severity, lang: Lang) -> &'static str {
    match (severity, lang) {
        (Severity::Error, Lang::En) => "error",
        (Severity::Warning, Lang::En) => "warning",
        (Severity::Info, Lang::En) => "info",
        (Severity::Error, Lang::Ja) => "エラー",
        (Severity::Warning, Lang::Ja) => "警告",
        (Severity::Info, Lang::Ja) => "情報",
    }
}

/// Finding number `i + 1`: its heading, detail, fix, commands, links and evidence.
fn finding(i: usize, f: &Finding, lang: Lang) -> String {
    let primary = if i == 0 {
        lang.pick(" (primary cause)", " (主な原因)")
    } else {
        ""
    };
    let mut out = format!(
        "#### {}. `{}` {}: {}{primary}\n\n",
        i + 1,
        f.code,
        severity_word(f.severity, lang),
        f.title
    );
    out.push_str(&format!(
        "{} `{}` · {} {}\n\n{}\n\n",
        lang.pick("Found by", "検出したチェック:"),
        f.check,
        lang.pick("Confidence:", "確度:"),
        super::confidence_marker(f, lang),
        f.detail
    ));
    if !f.solution.is_empty() {
        out.push_str(&format!("**{}**\n\n", lang.pick("How to fix", "解決方法")));
        for (n, step) in f.solution.iter().enumerate() {
            out.push_str(&format!("{}. {}\n", n + 1, step));
        }
        out.push('\n');
    }
    if !f.commands.is_empty() {
        let body: String = f.commands.iter().map(|c| format!("{c}\n")).collect();
        let fence = crate::hygiene::fence(&body);
        out.push_str(&format!("{fence}sh\n{body}{fence}\n\n"));
    }
    for d in &f.docs {
        out.push_str(&format!("- <{d}>\n"));
    }
    if !f.docs.is_empty() {
        out.push('\n');
    }
    if !f.evidence.is_empty() {
        let json = serde_json::to_string_pretty(&f.evidence).unwrap_or_default();
        let fence = crate::hygiene::fence(&json);
        out.push_str(&format!(
            "<details><summary>{}</summary>\n\n{fence}json\n{json}\n{fence}\n\n</details>\n\n",
            lang.pick("Evidence", "証拠")
        ));
    }
    out
}

/// The credentials' timeline as a table; nothing when there is none.
fn credentials(report: &Report, lang: Lang) -> String {
    if report.timeline.is_empty() {
        return String::new();
    }
    let mut out = format!("### {}\n\n", lang.pick("Credentials", "資格情報"));
    out.push_str(&format!(
        "| {} | {} | {} | {} |\n|---|---|---|---|\n",
        lang.pick("Credential", "資格情報"),
        lang.pick("Source", "取得元"),
        lang.pick("Expires", "有効期限"),
        lang.pick("State", "状態")
    ));
    for t in &report.timeline {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            cell(&t.kind),
            cell(&t.source),
            cell(t.expires_at.as_deref().unwrap_or("?")),
            cell(&t.state)
        ));
    }
    out.push('\n');
    out
}

/// The tool, the run, the cloud, the identity and the environment as a two-column table.
fn environment(report: &Report, lang: Lang) -> String {
    let mut out = format!("### {}\n\n", lang.pick("Environment", "環境"));
    out.push_str("| | |\n|---|---|\n");
    out.push_str(&format!("| acr-doctor | {} |\n", report.tool.version));
    out.push_str(&format!("| started | {} |\n", report.started_at));
    out.push_str(&format!("| duration | {} ms |\n", report.duration_ms));
    out.push_str(&format!("| cloud | {} |\n", report.target.cloud));
    if let Some(id) = &report.identity {
        out.push_str(&identity_rows(id));
    }
    for (k, v) in &report.environment {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.push_str(&format!("| {k} | {} |\n", cell(&text)));
    }
    out.push('\n');
    out
}

/// The identity row (every name it has, and its source) and the tenant row when known.
fn identity_rows(id: &Identity) -> String {
    let who = [
        id.upn.as_deref(),
        id.object_id.as_deref(),
        id.app_id.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" / ");
    let mut out = format!("| identity | {} ({}) |\n", cell(&who), id.source);
    if let Some(t) = &id.tenant_id {
        out.push_str(&format!("| tenant | {t} |\n"));
    }
    out
}

/// The Log Analytics query a support engineer wants: login events around the run, for this identity.
fn login_events_hint(report: &Report, lang: Lang) -> String {
    let who = report
        .identity
        .as_ref()
        .and_then(|i| i.object_id.clone().or(i.app_id.clone()).or(i.upn.clone()));
    let filter = who
        .map(|w| format!("\n| where Identity has \"{w}\""))
        .unwrap_or_default();
    format!(
        "### {}\n\n{}\n\n```kusto\nContainerRegistryLoginEvents\n| where TimeGenerated between (datetime({}) - 15m .. datetime({}) + 15m){filter}\n| project TimeGenerated, Identity, CallerIpAddress, ResultType, ResultDescription, LoginServer\n| order by TimeGenerated desc\n```\n",
        lang.pick("Where to look next", "さらに調べるには"),
        lang.pick(
            "When resource logs are collected for the registry, its login events record each sign-in with the caller's identity and IP address:",
            "レジストリのリソース ログを収集している場合、ログイン イベントには各サインインの呼び出し元 ID と IP アドレスが記録されています:",
        ),
        report.started_at,
        report.started_at
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bare_finding(code: &str) -> Finding {
        Finding {
            code: code.into(),
            severity: Severity::Error,
            check: "registry.challenge".into(),
            title: "t".into(),
            detail: "d".into(),
            solution: Vec::new(),
            commands: Vec::new(),
            docs: Vec::new(),
            evidence: Default::default(),
            confidence: Default::default(),
            alternatives: Vec::new(),
        }
    }

    #[test]
    fn a_finding_has_only_the_sections_it_has_content_for() {
        let bare = finding(1, &bare_finding("RBAC_ROLE_MISSING"), Lang::En);
        assert!(bare.starts_with("#### 2. `RBAC_ROLE_MISSING` "), "{bare}");
        assert!(!bare.contains("```"), "{bare}");
        assert!(!bare.contains("<details>"), "{bare}");
        assert!(!bare.contains("- <"), "{bare}");

        let mut full = bare_finding("RBAC_ROLE_MISSING");
        full.solution = vec!["one".into(), "two".into()];
        full.commands = vec!["az login".into()];
        full.docs = vec!["https://example.invalid/doc".into()];
        full.evidence.insert("status".into(), 403.into());
        let text = finding(0, &full, Lang::Ja);
        assert!(text.starts_with("#### 1. `RBAC_ROLE_MISSING` "), "{text}");
        assert!(text.contains("\n1. one\n2. two\n"), "{text}");
        assert!(text.contains("```sh\naz login\n```"), "{text}");
        assert!(text.contains("- <https://example.invalid/doc>\n"), "{text}");
        assert!(text.contains("<details>"), "{text}");
        assert!(text.contains("```json\n"), "{text}");
        // Every fence opened is closed.
        assert_eq!(text.matches("```").count() % 2, 0, "{text}");
    }

    #[test]
    fn every_severity_has_its_own_word_in_each_language() {
        for lang in [Lang::En, Lang::Ja] {
            let words: std::collections::BTreeSet<_> =
                [Severity::Error, Severity::Warning, Severity::Info]
                    .into_iter()
                    .map(|s| severity_word(s, lang))
                    .collect();
            assert_eq!(words.len(), 3);
        }
        assert_eq!(severity_word(Severity::Error, Lang::En), "error");
    }

    #[test]
    fn identity_rows_name_every_known_id_and_the_tenant_when_known() {
        let id = Identity {
            source: "env".into(),
            tenant_id: None,
            object_id: Some("oid".into()),
            app_id: Some("app".into()),
            upn: Some("a|b@contoso.example".into()),
        };
        let rows = identity_rows(&id);
        assert_eq!(
            rows,
            "| identity | a\\|b@contoso.example / oid / app (env) |\n"
        );
        let rows = identity_rows(&Identity {
            tenant_id: Some("tid".into()),
            ..id
        });
        let lines: Vec<&str> = rows.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1], "| tenant | tid |");
    }
}
