//! `--output json`: the report as `acr-doctor/report/v1`.

use crate::report::Report;

pub fn render(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        format!("{{\"schema\":\"acr-doctor/report/v1\",\"error\":\"serialization failed: {e}\"}}")
    });
    out.push('\n');
    out
}
