//! `--output markdown`: a report ready to paste into a support ticket.

use crate::finding::Severity;
use crate::lang::Lang;
use crate::report::Report;

use super::{checks_in_group_order, headline, mark, run_mark, verdict};

/// Escapes text for a Markdown table cell.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

pub fn render(report: &Report, lang: Lang) -> String {
    let mut out = String::new();
    let (m, _) = run_mark(report.status);
    out.push_str(&format!("## {}\n\n", headline(report, lang)));
    out.push_str(&format!("**{m} {}**\n\n", verdict(report, lang)));

    let (check_h, result_h, time_h) = match lang {
        Lang::En => ("Check", "Result", "Time"),
        Lang::Ja => ("チェック", "結果", "時間"),
    };
    out.push_str(&format!(
        "| | {check_h} | {result_h} | {time_h} |\n|---|---|---|---:|\n"
    ));
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

    if !report.findings.is_empty() {
        out.push_str(&format!(
            "### {}\n\n",
            lang.pick("Findings", "検出された問題")
        ));
        for (i, f) in report.findings.iter().enumerate() {
            let sev = match (f.severity, lang) {
                (Severity::Error, Lang::En) => "error",
                (Severity::Warning, Lang::En) => "warning",
                (Severity::Info, Lang::En) => "info",
                (Severity::Error, Lang::Ja) => "エラー",
                (Severity::Warning, Lang::Ja) => "警告",
                (Severity::Info, Lang::Ja) => "情報",
            };
            let primary = if i == 0 {
                lang.pick(" (primary cause)", " (主な原因)")
            } else {
                ""
            };
            out.push_str(&format!(
                "#### {}. `{}` {}: {}{primary}\n\n",
                i + 1,
                f.code,
                sev,
                f.title
            ));
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
        }
    }

    if !report.timeline.is_empty() {
        out.push_str(&format!("### {}\n\n", lang.pick("Credentials", "資格情報")));
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
    }

    out.push_str(&format!("### {}\n\n", lang.pick("Environment", "環境")));
    out.push_str("| | |\n|---|---|\n");
    out.push_str(&format!("| acr-doctor | {} |\n", report.tool.version));
    out.push_str(&format!("| started | {} |\n", report.started_at));
    out.push_str(&format!("| duration | {} ms |\n", report.duration_ms));
    out.push_str(&format!("| cloud | {} |\n", report.target.cloud));
    if let Some(id) = &report.identity {
        let who = [
            id.upn.as_deref(),
            id.object_id.as_deref(),
            id.app_id.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" / ");
        out.push_str(&format!("| identity | {} ({}) |\n", cell(&who), id.source));
        if let Some(t) = &id.tenant_id {
            out.push_str(&format!("| tenant | {t} |\n"));
        }
    }
    for (k, v) in &report.environment {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.push_str(&format!("| {k} | {} |\n", cell(&text)));
    }
    out.push('\n');
    if report.primary().is_some() {
        out.push_str(&login_events_hint(report, lang));
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
