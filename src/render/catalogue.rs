//! `acr-doctor causes`: the catalogue of cause codes, by family.

use crate::catalogue::Cause;
use crate::lang::Lang;

use super::pad;

/// `causes -o json`: code, severity, family and title of every cause.
pub fn json(causes: &[Cause], lang: Lang) -> String {
    let list: Vec<_> = causes
        .iter()
        .map(|c| {
            serde_json::json!({"code": c.code, "severity": c.severity, "family": c.family, "title": c.title(lang)})
        })
        .collect();
    format!(
        "{}\n",
        serde_json::to_string_pretty(&list).unwrap_or_default()
    )
}

/// `causes`: one line per cause under its family.
pub fn human(causes: &[Cause], lang: Lang) -> String {
    let width = causes.iter().map(|c| c.code.len()).max().unwrap_or(20);
    let mut text = String::new();
    let mut family = "";
    for c in causes {
        if c.family != family {
            family = c.family;
            text.push_str(&format!("\n{family}\n"));
        }
        text.push_str(&format!(
            "  {} {:<8} {}\n",
            pad(c.code, width),
            c.severity.as_str(),
            c.title(lang)
        ));
    }
    text.trim_start().to_string()
}
