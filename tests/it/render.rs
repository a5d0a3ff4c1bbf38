//! The four renderers over one report: snapshots, schema validity, and no secret in any of them.

use acr_doctor::finding::{Finding, Severity};
use acr_doctor::lang::Lang;
use acr_doctor::redact::Redactor;
use acr_doctor::render::{self, Style};
use acr_doctor::report::{
    run_status, CheckResult, CheckStatus, Identity, Report, Target, TimelineEntry, Tool,
};
use serde_json::{json, Map, Value};

fn check(id: &str, group: &str, title: &str, status: CheckStatus, message: &str) -> CheckResult {
    CheckResult {
        id: id.into(),
        group: Some(group.into()),
        title: title.into(),
        status,
        duration_ms: 3,
        message: message.into(),
        evidence: Map::new(),
    }
}

fn finding(code: &str, check: &str, lang: Lang, evidence: Value) -> Finding {
    let cause = acr_doctor::catalogue::lookup(code).expect("known code");
    let e = cause.entry(lang);
    Finding {
        code: code.into(),
        severity: cause.severity,
        check: check.into(),
        title: e.title,
        detail: "observed: detail of this run".into(),
        solution: e.solution,
        commands: e
            .commands
            .iter()
            .map(|c| c.replace("<registry>", "contosoreg"))
            .collect(),
        docs: e.docs,
        evidence: evidence.as_object().cloned().unwrap_or_default(),
        confidence: Default::default(),
        alternatives: Vec::new(),
    }
}

/// A report with passes, a warning, a failure, skips and an info.
fn sample(lang: Lang) -> Report {
    let findings = vec![
        finding(
            "CONNECTIVITY_FORBIDDEN_ERROR",
            "registry.challenge",
            lang,
            json!({"status": 403, "client_ip": "203.0.113.7"}),
        ),
        finding(
            "HELM_VERSION_ERROR",
            "helm.client",
            lang,
            json!({"version": "v2.9.0"}),
        ),
    ];
    Report {
        schema: "acr-doctor/report/v1".into(),
        tool: Tool {
            name: "acr-doctor".into(),
            version: "0.1.0".into(),
        },
        target: Target {
            name: "contosoreg".into(),
            login_server: Some("contosoreg.azurecr.io".into()),
            repository: Some("app".into()),
            cloud: "AzureCloud".into(),
            ..Default::default()
        },
        identity: Some(Identity {
            source: "env".into(),
            tenant_id: Some("72f988bf-0000-4000-8000-000000000001".into()),
            object_id: Some("c0c0c0c0-0000-4000-8000-00000000000c".into()),
            app_id: Some("a0a0a0a0-0000-4000-8000-00000000000a".into()),
            upn: None,
        }),
        started_at: "2026-11-28T20:00:00Z".into(),
        duration_ms: 412,
        status: run_status(&findings),
        checks: vec![
            check(
                "docker.client",
                "Environment",
                "docker client",
                CheckStatus::Pass,
                "28.2.2 linux/amd64",
            ),
            check(
                "helm.client",
                "Environment",
                "helm client",
                CheckStatus::Warn,
                "v2.9.0 is older than 2.11.0",
            ),
            check(
                "registry.name",
                "Registry",
                "name",
                CheckStatus::Pass,
                "contosoreg → contosoreg.azurecr.io",
            ),
            check(
                "network.dns",
                "Registry",
                "DNS",
                CheckStatus::Pass,
                "→ 20.1.2.3 (public, 3 ms)",
            ),
            check(
                "registry.challenge",
                "Registry",
                "challenge",
                CheckStatus::Fail,
                "403 Forbidden from the login server",
            ),
            check(
                "identity.refresh_token",
                "Identity",
                "refresh token",
                CheckStatus::Skip,
                "needs the registry challenge from registry.challenge, which failed",
            ),
            check(
                "expiry.timeline",
                "Expiry",
                "credential expiry",
                CheckStatus::Info,
                "1 credential seen",
            ),
        ],
        findings,
        environment: json!({"os": "linux", "arch": "x86_64"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        timeline: vec![TimelineEntry {
            kind: "entra_token".into(),
            source: "env".into(),
            issued_at: Some("2026-11-28T19:30:00Z".into()),
            expires_at: Some("2026-11-28T20:29:59Z".into()),
            remaining_s: Some(1799),
            state: "ok".into(),
        }],
        lang: lang.code().into(),
        need: vec!["pull".into(), "push".into()],
    }
}

#[test]
fn human_en() {
    insta::assert_snapshot!(render::human::render(
        &sample(Lang::En),
        Style::plain(Lang::En)
    ));
}

#[test]
fn human_ja() {
    insta::assert_snapshot!(render::human::render(
        &sample(Lang::Ja),
        Style::plain(Lang::Ja)
    ));
}

#[test]
fn human_colour_only_when_asked() {
    let plain = render::human::render(&sample(Lang::En), Style::plain(Lang::En));
    assert!(!plain.contains('\u{1b}'));
    colored::control::set_override(true);
    let coloured = render::human::render(
        &sample(Lang::En),
        Style {
            color: true,
            lang: Lang::En,
        },
    );
    assert!(coloured.contains('\u{1b}'));
}

#[test]
fn markdown_en() {
    insta::assert_snapshot!(render::markdown::render(&sample(Lang::En), Lang::En));
}

#[test]
fn markdown_ja() {
    insta::assert_snapshot!(render::markdown::render(&sample(Lang::Ja), Lang::Ja));
}

#[test]
fn github_annotations() {
    insta::assert_snapshot!(render::github::annotations(&sample(Lang::En), Lang::En));
}

#[test]
fn azure_pipelines_issues() {
    insta::assert_snapshot!(render::github::azure_pipelines(&sample(Lang::En)));
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!(render::json::render(&sample(Lang::En)));
}

fn schema() -> jsonschema::Validator {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/report-v1.schema.json"
    ));
    let schema: Value = serde_json::from_str(text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

#[test]
fn json_output_matches_the_shipped_schema() {
    let validator = schema();
    for lang in [Lang::En, Lang::Ja] {
        let out: Value = serde_json::from_str(&render::json::render(&sample(lang))).expect("json");
        let errors: Vec<String> = validator.iter_errors(&out).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
    // And the schema rejects what the contract forbids.
    let mut bad: Value =
        serde_json::from_str(&render::json::render(&sample(Lang::En))).expect("json");
    bad["status"] = json!("broken");
    assert!(!validator.is_valid(&bad));
    // `--repository app:1.0@sha256:…`: the target's tag and digest (additive in v1).
    let mut image = sample(Lang::En);
    image.target.tag = Some("1.0".into());
    image.target.digest = Some(format!("sha256:{}", "a".repeat(64)));
    let out: Value = serde_json::from_str(&render::json::render(&image)).expect("json");
    assert_eq!(out["target"]["tag"], "1.0");
    assert!(validator.is_valid(&out), "{:#}", out["target"]);
    let back: Report = serde_json::from_value(out.clone()).expect("parse");
    assert_eq!(back, image);
    let mut bad = out;
    bad["target"]["digest"] = json!("sha256:NOT-HEX");
    assert!(!validator.is_valid(&bad));
}

#[test]
fn json_round_trips_into_the_model() {
    let report = sample(Lang::En);
    let back: Report = serde_json::from_str(&render::json::render(&report)).expect("parse");
    assert_eq!(back, report);
}

const CANARIES: &[&str] = &[
    "CANARY-client-secret-0001",
    "CANARY-password-0002",
    "CANARY-refresh-0003",
];
const CANARY_JWT: &str =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjYW5hcnkifQ.Q0FOQVJZLXNpZ25hdHVyZS0wMDA0";

#[test]
fn no_renderer_prints_a_secret() {
    let redactor = Redactor::new();
    for c in CANARIES {
        redactor.register(c);
    }
    let mut report = sample(Lang::En);
    report.findings[0].detail = format!(
        "server said: password={} and Authorization: Bearer {} token {}",
        CANARIES[1], CANARIES[2], CANARY_JWT
    );
    report.findings[0].evidence.insert(
        "body".into(),
        json!({"client_secret": CANARIES[0], "refresh_token": CANARY_JWT}),
    );
    report.checks[0].message = format!("basic https://user:{}@host/ seen", CANARIES[1]);
    report
        .environment
        .insert("secret".into(), json!(CANARIES[0]));
    let clean = acr_doctor::scrub_report(&report, &redactor);
    let outputs = [
        render::human::render(&clean, Style::plain(Lang::En)),
        render::human::render(&clean, Style::plain(Lang::Ja)),
        render::json::render(&clean),
        render::markdown::render(&clean, Lang::En),
        render::github::annotations(&clean, Lang::En),
        render::github::summary(&clean, Lang::En),
        render::github::azure_pipelines(&clean),
    ];
    for out in &outputs {
        for c in CANARIES {
            assert!(!out.contains(c), "secret {c} leaked:\n{out}");
        }
        assert!(
            !out.contains("Q0FOQVJZLXNpZ25hdHVyZS0wMDA0"),
            "JWT signature leaked:\n{out}"
        );
        assert!(!out.contains(CANARY_JWT), "JWT leaked");
    }
    // The structure survived the scrubbing.
    let json: Value = serde_json::from_str(&outputs[2]).expect("still JSON");
    assert_eq!(json["findings"][0]["code"], "CONNECTIVITY_FORBIDDEN_ERROR");
}

#[test]
fn exit_codes_follow_fail_on() {
    use acr_doctor::cli::FailOn;
    let report = sample(Lang::En);
    assert_eq!(acr_doctor::exit_code(&report, false, FailOn::Error), 1);
    let mut warn_only = report.clone();
    warn_only.findings.retain(|f| f.severity != Severity::Error);
    assert_eq!(acr_doctor::exit_code(&warn_only, false, FailOn::Error), 0);
    assert_eq!(acr_doctor::exit_code(&warn_only, false, FailOn::Warning), 1);
    assert_eq!(acr_doctor::exit_code(&warn_only, true, FailOn::Error), 3);
}
