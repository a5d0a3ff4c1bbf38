//! Findings are data: a cause code, a severity, the check that found it and its evidence.
//! The catalogue supplies the words when a report is built.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::code::Code;

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

/// How sure a finding is: `proven` when the evidence shows the cause, `inferred` when it is the
/// most likely of several causes the same evidence allows (named in `alternatives`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    #[default]
    Proven,
    Inferred,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Proven => "proven",
            Confidence::Inferred => "inferred",
        }
    }
}

/// What a check reports: a cause code with the specifics it observed.
/// Titles, explanations and generic solution steps come from the catalogue.
#[derive(Debug, Clone)]
pub struct RawFinding {
    pub code: Code,
    /// Overrides the catalogue's default severity when set.
    pub severity: Option<Severity>,
    /// What was observed, in the user's language: the specific part of the story.
    pub detail: String,
    /// Extra solution steps specific to this run, shown before the catalogue's steps.
    pub solution: Vec<String>,
    /// Exact commands for this run; when empty, the catalogue's commands are used with placeholders filled.
    pub commands: Vec<String>,
    pub evidence: Map<String, Value>,
    /// How sure the check is of `code`.
    pub confidence: Confidence,
    /// Other cause codes the same evidence allows; the solution says how to tell them apart.
    pub alternatives: Vec<Code>,
}

impl RawFinding {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        RawFinding {
            code,
            severity: None,
            detail: detail.into(),
            solution: Vec::new(),
            commands: Vec::new(),
            evidence: Map::new(),
            confidence: Confidence::default(),
            alternatives: Vec::new(),
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

    /// The code is the most likely of several: `alternatives` are the others.
    pub fn inferred(mut self, alternatives: &[Code]) -> Self {
        self.confidence = Confidence::Inferred;
        self.alternative(alternatives)
    }

    /// The code is proven, and the evidence also allows these deeper causes behind it.
    pub fn alternative(mut self, alternatives: &[Code]) -> Self {
        for a in alternatives {
            if *a != self.code && !self.alternatives.contains(a) {
                self.alternatives.push(*a);
            }
        }
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
    /// `proven` or `inferred` (additive in report v1; absent means proven).
    #[serde(default)]
    pub confidence: Confidence,
    /// Other cause codes the same evidence allows (additive in report v1).
    #[serde(default)]
    pub alternatives: Vec<String>,
}
