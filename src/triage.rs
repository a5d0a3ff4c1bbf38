//! Symptom triage: map pasted error text to cause codes. (Being built.)

use crate::lang::Lang;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Candidate {
    pub code: String,
    pub confidence: String,
    pub matched: String,
    pub confirm: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TriageResult {
    pub schema: String,
    pub candidates: Vec<Candidate>,
}

pub fn triage(_text: &str) -> TriageResult {
    TriageResult {
        schema: "acr-doctor/triage/v1".into(),
        candidates: Vec::new(),
    }
}

pub fn render_json(result: &TriageResult) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(result).unwrap_or_default()
    )
}

pub fn render_human(result: &TriageResult, lang: Lang) -> String {
    if result.candidates.is_empty() {
        return lang
            .pick(
                "No known cause matches this text.\n",
                "このテキストに一致する既知の原因はありません。\n",
            )
            .to_string();
    }
    result
        .candidates
        .iter()
        .map(|c| format!("{} ({})\n", c.code, c.confidence))
        .collect()
}
