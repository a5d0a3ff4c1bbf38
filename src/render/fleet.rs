//! Several registries in one run: each report in full, then one line per registry.
//! With one registry, every form is exactly the single report.

use crate::lang::Lang;
use crate::report::{Report, RunStatus};

use super::{markdown::cell, run_mark, Paint, Style};

pub const FLEET_SCHEMA: &str = "acr-doctor/fleet/v1";

fn worst(reports: &[&Report]) -> RunStatus {
    if reports.iter().any(|r| r.status == RunStatus::Fail) {
        RunStatus::Fail
    } else if reports.iter().any(|r| r.status == RunStatus::Warn) {
        RunStatus::Warn
    } else {
        RunStatus::Pass
    }
}

fn primary_code(r: &Report) -> String {
    r.primary()
        .map(|f| f.code.clone())
        .unwrap_or_else(|| "-".into())
}

pub fn human(reports: &[&Report], style: Style) -> String {
    let mut out: Vec<String> = reports
        .iter()
        .map(|r| super::human::render(r, style))
        .collect();
    if reports.len() > 1 {
        let lang = style.lang;
        let mut summary = format!(
            "{}\n",
            style.paint(
                &lang.pick(
                    format!("{} registries", reports.len()),
                    format!("レジストリ {} 件", reports.len())
                ),
                Paint::Bold
            )
        );
        let width = reports
            .iter()
            .map(|r| super::display_width(&r.target.name))
            .max()
            .unwrap_or(8)
            + 2;
        for r in reports {
            let (m, paint) = run_mark(r.status);
            summary.push_str(&format!(
                "  {} {}{:<40} {} ms\n",
                style.paint(m, paint),
                super::pad(&r.target.name, width),
                primary_code(r),
                r.duration_ms
            ));
        }
        out.push(summary);
    }
    out.join("\n")
}

pub fn json(reports: &[&Report]) -> String {
    if let [one] = reports {
        return super::json::render(one);
    }
    let status = worst(reports);
    let value = serde_json::json!({
        "schema": FLEET_SCHEMA,
        "status": status,
        "summary": reports.iter().map(|r| serde_json::json!({
            "name": r.target.name,
            "login_server": r.target.login_server,
            "status": r.status,
            "primary": r.primary().map(|f| f.code.clone()),
            "duration_ms": r.duration_ms,
        })).collect::<Vec<_>>(),
        "reports": reports,
    });
    let mut s = serde_json::to_string_pretty(&value).unwrap_or_default();
    s.push('\n');
    s
}

pub fn markdown(reports: &[&Report], lang: Lang) -> String {
    if let [one] = reports {
        return super::markdown::render(one, lang);
    }
    let mut out = format!(
        "## acr-doctor: {}\n\n| | {} | {} | {} |\n|---|---|---|---:|\n",
        lang.pick(
            format!("{} registries", reports.len()),
            format!("レジストリ {} 件", reports.len())
        ),
        lang.pick("Registry", "レジストリ"),
        lang.pick("Primary cause", "主な原因"),
        lang.pick("Time", "時間"),
    );
    for r in reports {
        let (m, _) = run_mark(r.status);
        out.push_str(&format!(
            "| {m} | {} | {} | {} ms |\n",
            cell(&r.target.name),
            primary_code(r),
            r.duration_ms
        ));
    }
    out.push('\n');
    for r in reports {
        out.push_str(&super::markdown::render(r, lang).replacen("## ", "### ", 1));
        out.push('\n');
    }
    out
}
