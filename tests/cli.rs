//! The built binary: commands, help, usage errors and exit statuses.

use assert_cmd::Command;
use predicates::prelude::*;

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("acr-doctor").expect("binary built");
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LANG", "C");
    cmd
}

#[test]
fn explain_works_for_every_code_in_both_languages() {
    for cause in acr_doctor::catalogue::CAUSES {
        for lang in ["en", "ja"] {
            let out = bin()
                .args(["explain", &cause.code.to_ascii_lowercase(), "--lang", lang])
                .assert()
                .success()
                .get_output()
                .stdout
                .clone();
            let text = String::from_utf8(out).expect("utf-8");
            assert!(text.starts_with(cause.code), "{}: {text}", cause.code);
            let heading = if lang == "ja" {
                "解決方法"
            } else {
                "Solution"
            };
            assert!(text.contains(heading), "{} {lang}", cause.code);
            assert!(text.contains("https://"), "{} {lang}", cause.code);
        }
    }
}

#[test]
fn explain_unknown_code_suggests_near_matches_and_exits_2() {
    bin()
        .args(["explain", "DOCKER_DEAMON_ERROR"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown cause code"))
        .stderr(predicate::str::contains("DOCKER_DAEMON_ERROR"));
}

#[test]
fn lang_follows_the_environment() {
    bin()
        .env("LANG", "ja_JP.UTF-8")
        .args(["explain", "CMK_ERROR"])
        .assert()
        .success()
        .stdout(predicate::str::contains("解決方法"));
    bin()
        .env("LANG", "ja_JP.UTF-8")
        .args(["explain", "CMK_ERROR", "--lang", "en"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Solution"));
}

#[test]
fn causes_lists_every_code() {
    let out = bin()
        .arg("causes")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf-8");
    for cause in acr_doctor::catalogue::CAUSES {
        assert!(text.contains(cause.code), "{} missing", cause.code);
    }
    let out = bin()
        .args(["causes", "-o", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(
        json.as_array().map(|a| a.len()),
        Some(acr_doctor::catalogue::CAUSES.len())
    );
}

#[test]
fn checks_lists_checks_with_prerequisites() {
    bin()
        .arg("checks")
        .assert()
        .success()
        .stdout(predicate::str::contains("registry.challenge"))
        .stdout(predicate::str::contains("needs"));
    let out = bin()
        .args(["checks", "-o", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).expect("json");
    let ids: Vec<&str> = json
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids.len(), acr_doctor::checks::all().len());
    assert!(ids.contains(&"docker.daemon"));
}

#[test]
fn completions_and_man_page_generate() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        bin()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("acr-doctor"));
    }
    bin()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH"));
}

#[test]
fn help_has_examples() {
    bin()
        .args(["check", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"))
        .stdout(predicate::str::contains("--repository"))
        .stdout(predicate::str::contains("--principal"));
}

#[test]
fn usage_errors_exit_2_with_a_clear_message() {
    bin()
        .args(["check"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--name"));
    bin()
        .args(["check", "-n", "contosoreg", "--resolve", "nonsense"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("HOST:PORT:ADDR"));
    bin()
        .args(["check", "-n", "contosoreg", "--need", "fly"])
        .assert()
        .code(2);
    bin()
        .args([
            "check",
            "-n",
            "contosoreg",
            "--ca-file",
            "/nonexistent/ca.pem",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/ca.pem"));
    bin()
        .args(["check", "-n", "contosoreg", "--timeout", "-1"])
        .assert()
        .code(2);
    bin()
        .args(["check", "-n", "contosoreg", "--warn-within", "soon"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--warn-within"));
    bin().args(["frobnicate"]).assert().code(2);
}
