//! The report model: what every renderer draws, serialized as `acr-doctor/report/v1`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::finding::{Finding, Severity};

pub const REPORT_SCHEMA: &str = "acr-doctor/report/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
    Skip,
    Info,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
            CheckStatus::Skip => "skip",
            CheckStatus::Info => "info",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Target {
    pub name: String,
    pub login_server: Option<String>,
    /// The repository of `--repository`, without tag or digest.
    pub repository: Option<String>,
    /// The tag of `--repository REPO:TAG` (additive in report v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The digest of `--repository REPO@DIGEST` (additive in report v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    pub cloud: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Identity {
    pub source: String,
    pub tenant_id: Option<String>,
    pub object_id: Option<String>,
    pub app_id: Option<String>,
    pub upn: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckResult {
    pub id: String,
    /// Family heading the human renderer groups under ("Environment", "Registry", ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub title: String,
    pub status: CheckStatus,
    pub duration_ms: u64,
    pub message: String,
    pub evidence: Map<String, Value>,
}

/// One credential on the expiry timeline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TimelineEntry {
    /// What it is: `entra_token`, `acr_refresh_token`, `acr_access_token`, `docker_identity_token`,
    /// `sp_client_secret`, `registry_token_password`, `client_certificate`.
    pub kind: String,
    pub source: String,
    pub issued_at: Option<String>,
    pub expires_at: Option<String>,
    /// Seconds until expiry at the time of the run; negative when expired.
    pub remaining_s: Option<i64>,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema: String,
    pub tool: Tool,
    pub target: Target,
    pub identity: Option<Identity>,
    pub started_at: String,
    pub duration_ms: u64,
    pub status: RunStatus,
    pub checks: Vec<CheckResult>,
    pub findings: Vec<Finding>,
    /// What acr-doctor saw of the machine (OS, versions, endpoints used). Additive to v1.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub environment: Map<String, Value>,
    /// Every credential seen in the run with its expiry. Additive to v1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEntry>,
    /// Language the words of this report are written in (`en` or `ja`). Additive to v1.
    #[serde(default = "default_lang")]
    pub lang: String,
    /// Actions the identity must be allowed (`--need`). Additive to v1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub need: Vec<String>,
}

fn default_lang() -> String {
    "en".to_string()
}

impl Report {
    pub fn count(&self, status: CheckStatus) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    pub fn count_findings(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// The primary cause: the first error finding, else the first finding.
    pub fn primary(&self) -> Option<&Finding> {
        self.findings
            .iter()
            .find(|f| f.severity == Severity::Error)
            .or_else(|| self.findings.first())
    }
}

pub fn run_status(findings: &[Finding]) -> RunStatus {
    match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Error) => RunStatus::Fail,
        Some(Severity::Warning) => RunStatus::Warn,
        _ => RunStatus::Pass,
    }
}
