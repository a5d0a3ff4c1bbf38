//! Findings are data: a cause code, a severity, the check that found it and its evidence.
//! The catalogue supplies the words when a report is built.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What a check reports: a cause code with the specifics it observed.
/// Titles, explanations and generic solution steps come from the catalogue.
#[derive(Debug, Clone, Default)]
pub struct RawFinding {
    pub code: &'static str,
    /// Overrides the catalogue's default severity when set.
    pub severity: Option<Severity>,
    /// What was observed, in the user's language: the specific part of the story.
    pub detail: String,
    /// Extra solution steps specific to this run, shown before the catalogue's steps.
    pub solution: Vec<String>,
    /// Exact commands for this run; when empty, the catalogue's commands are used with placeholders filled.
    pub commands: Vec<String>,
    pub evidence: Map<String, Value>,
}

impl RawFinding {
    pub fn new(code: &'static str, detail: impl Into<String>) -> Self {
        RawFinding {
            code,
            detail: detail.into(),
            ..Default::default()
        }
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }

    pub fn evidence(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.evidence.insert(key.to_string(), value.into());
        self
    }

    pub fn command(mut self, command: impl Into<String>) -> Self {
        self.commands.push(command.into());
        self
    }

    pub fn step(mut self, step: impl Into<String>) -> Self {
        self.solution.push(step.into());
        self
    }
}

/// A finding as it appears in the report, words included.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    pub code: String,
    pub severity: Severity,
    pub check: String,
    pub title: String,
    pub detail: String,
    pub solution: Vec<String>,
    pub commands: Vec<String>,
    pub docs: Vec<String>,
    pub evidence: Map<String, Value>,
}
