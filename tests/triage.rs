//! Symptom triage against a corpus of real-world messages, the pattern data's coverage of the
//! cause catalogue, and the built binary.

use std::collections::BTreeSet;

use acr_doctor::catalogue::CAUSES;
use acr_doctor::triage::{self, Confidence, MESSAGE_FILES, NO_MESSAGE};
use assert_cmd::Command;

const CORPUS: &str = include_str!("fixtures/triage/corpus.tsv");
const TICKET: &str = include_str!("fixtures/triage/ticket-two-errors.log");

/// Causes whose only messages are shared with a more general cause (or whose service wording is
/// undocumented), so a paste can list them but never as the first candidate; `check` tells them apart.
const SHARED_MESSAGE: &[(&str, &str)] = &[
    (
        "DOCKER_STALE_CREDENTIALS",
        "stored credentials that stopped working produce the generic 401",
    ),
    (
        "DOCKER_STORED_TOKEN_EXPIRED",
        "an expired stored token produces the generic 401",
    ),
    (
        "ABAC_LEGACY_ROLE_IGNORED",
        "the denial is the same in every permission mode",
    ),
    (
        "ABAC_CONDITION_EXCLUDES_REPOSITORY",
        "the denial is the same in every permission mode",
    ),
];

fn corpus() -> Vec<(usize, &'static str, String)> {
    CORPUS
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(n, l)| {
            let (code, message) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("corpus line {} has no tab", n + 1));
            (n + 1, code, message.replace("\\n", "\n"))
        })
        .collect()
}

#[test]
fn every_cause_is_either_recognised_or_listed_as_without_message() {
    let with_patterns: BTreeSet<&str> = MESSAGE_FILES.iter().map(|(c, _)| *c).collect();
    let without: BTreeSet<&str> = NO_MESSAGE.iter().map(|(c, _)| *c).collect();
    for cause in CAUSES {
        assert!(
            with_patterns.contains(cause.code) ^ without.contains(cause.code),
            "{} needs patterns in causes/messages/ or an entry in NO_MESSAGE (not both)",
            cause.code
        );
    }
    for code in with_patterns.iter().chain(&without) {
        assert!(
            acr_doctor::catalogue::lookup(code).is_some(),
            "{code} is not in the catalogue"
        );
    }
    for (code, reason) in NO_MESSAGE {
        assert!(reason.len() > 20, "{code} needs a reason");
    }
    assert_eq!(triage::data_errors(), Vec::<String>::new());
    for (code, n) in triage::pattern_counts() {
        assert!(n > 0, "{code} has no pattern");
    }
}

#[test]
fn corpus_messages_map_to_the_expected_first_cause() {
    let mut failures = Vec::new();
    for (line, expected, message) in corpus() {
        let result = triage::triage(&message);
        let got: Vec<&str> = result.candidates.iter().map(|c| c.code.as_str()).collect();
        if got.first() != Some(&expected) {
            failures.push(format!(
                "line {line}: expected {expected}, got {got:?}\n    {message}"
            ));
        }
        for c in &result.candidates {
            assert!(
                c.confirm.starts_with("acr-doctor check --name "),
                "{}",
                c.confirm
            );
            assert!(!c.matched.is_empty() && !c.why.is_empty() && !c.why_ja.is_empty());
        }
    }
    assert!(
        failures.is_empty(),
        "{} corpus lines failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_covers_every_cause_with_a_message() {
    let results: Vec<(&str, Vec<String>)> = corpus()
        .into_iter()
        .map(|(_, expected, message)| {
            let codes = triage::triage(&message)
                .candidates
                .into_iter()
                .map(|c| c.code)
                .collect();
            (expected, codes)
        })
        .collect();
    let firsts: BTreeSet<&str> = results.iter().map(|(e, _)| *e).collect();
    let shared: BTreeSet<&str> = SHARED_MESSAGE.iter().map(|(c, _)| *c).collect();
    for (code, _) in MESSAGE_FILES {
        if shared.contains(code) {
            assert!(
                !firsts.contains(code),
                "{code} is listed as shared but leads a corpus line"
            );
            assert!(
                results
                    .iter()
                    .any(|(_, codes)| codes.iter().any(|c| c == code)),
                "{code} never appears as a candidate in the corpus"
            );
        } else {
            assert!(
                firsts.contains(code),
                "the corpus has no message that leads with {code}"
            );
        }
    }
}

#[test]
fn ticket_with_two_errors_yields_both() {
    let result = triage::triage(TICKET);
    let codes: Vec<&str> = result.candidates.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(
        codes[..2],
        ["SP_SECRET_EXPIRED", "CONNECTIVITY_FORBIDDEN_ERROR"],
        "{codes:?}"
    );
    let forbidden = &result.candidates[1];
    assert_eq!(forbidden.confidence, Confidence::High);
    assert!(
        forbidden.matched.contains("203.0.113.7"),
        "{}",
        forbidden.matched
    );
    assert_eq!(forbidden.confirm, "acr-doctor check --name contosoreg");
    assert_eq!(
        result.candidates[0].confirm,
        "acr-doctor check --name contosoreg --username <app-id> --password-stdin"
    );
    // Each code once, however often its message repeats.
    let unique: BTreeSet<&str> = codes.iter().copied().collect();
    assert_eq!(unique.len(), codes.len());
}

#[test]
fn the_paste_does_not_leak_secrets_into_matched_text() {
    let result = triage::triage(
        "docker login contosoreg.azurecr.io -u someone -p eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.U2VjcmV0U2lnbmF0dXJl",
    );
    let json = triage::render_json(&result);
    assert!(json.contains("EXPOSE_TOKEN_USERNAME"), "{json}");
    assert!(!json.contains("U2VjcmV0U2lnbmF0dXJl"), "{json}");
}

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("acr-doctor").unwrap_or_else(|e| panic!("binary: {e}"));
    cmd.env_remove("LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES");
    cmd
}

#[test]
fn binary_reads_stdin_and_prints_json() {
    let out = bin()
        .args(["triage", "-", "-o", "json"])
        .write_stdin("Error response from daemon: Get \"https://contosoreg.azurecr.io/v2/\": unauthorized: Application not registered with AAD.\n")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("json: {e}"));
    assert_eq!(v["schema"], "acr-doctor/triage/v1");
    let first = &v["candidates"][0];
    assert_eq!(first["code"], "APP_NOT_REGISTERED_WITH_AAD");
    assert_eq!(first["confidence"], "high");
    assert_eq!(
        first["matched"],
        "unauthorized: Application not registered with AAD."
    );
    assert_eq!(
        first["confirm"],
        "acr-doctor check --name contosoreg --username <app-id> --password-stdin"
    );
    assert!(first["why"].as_str().is_some_and(|w| !w.is_empty()));
}

#[test]
fn binary_exits_one_for_unknown_text() {
    let out = bin()
        .args(["triage", "the deployment was slow today"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("No known cause"));
    bin()
        .args(["triage", "-", "-o", "json"])
        .write_stdin("HTTP 403 from somewhere")
        .assert()
        .code(1);
}

#[test]
fn binary_explains_in_japanese() {
    let out = bin()
        .args([
            "--lang",
            "ja",
            "triage",
            "x509: certificate signed by unknown authority",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("CONNECTIVITY_SSL_ERROR")
            && text.contains("確度: 高")
            && text.contains("証明書"),
        "{text}"
    );
}
