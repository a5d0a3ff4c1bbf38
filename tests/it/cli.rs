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

/// The standard output of a successful run with `args`.
fn success_stdout(args: &[&str]) -> Vec<u8> {
    bin()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
}

/// A run with `args` that ends in a usage error (exit status 2).
fn usage_error(args: &[&str]) -> assert_cmd::assert::Assert {
    bin().args(args).assert().code(2)
}

/// The JSON array a successful run with `args` prints.
fn json_array(args: &[&str]) -> Vec<serde_json::Value> {
    let json: serde_json::Value = serde_json::from_slice(&success_stdout(args)).expect("json");
    json.as_array().cloned().expect("array")
}

#[test]
fn explain_works_for_every_code_in_both_languages() {
    for cause in acr_doctor::catalogue::CAUSES {
        for lang in ["en", "ja"] {
            let code = cause.code.to_ascii_lowercase();
            let out = success_stdout(&["explain", &code, "--lang", lang]);
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
    let out = success_stdout(&["causes"]);
    let text = String::from_utf8(out).expect("utf-8");
    for cause in acr_doctor::catalogue::CAUSES {
        assert!(text.contains(cause.code), "{} missing", cause.code);
    }
    assert_eq!(
        json_array(&["causes", "-o", "json"]).len(),
        acr_doctor::catalogue::CAUSES.len()
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
    let checks = json_array(&["checks", "-o", "json"]);
    let ids: Vec<&str> = checks.iter().filter_map(|c| c["id"].as_str()).collect();
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
    usage_error(&["check"]).stderr(predicate::str::contains("--name"));
    usage_error(&["check", "-n", "contosoreg", "--resolve", "nonsense"])
        .stderr(predicate::str::contains("HOST:PORT:ADDR"));
    usage_error(&["check", "-n", "contosoreg", "--need", "fly"]);
    usage_error(&[
        "check",
        "-n",
        "contosoreg",
        "--ca-file",
        "/nonexistent/ca.pem",
    ])
    .stderr(predicate::str::contains("/nonexistent/ca.pem"));
    usage_error(&["check", "-n", "contosoreg", "--timeout", "-1"]);
    usage_error(&["check", "-n", "contosoreg", "--warn-within", "soon"])
        .stderr(predicate::str::contains("--warn-within"));
    usage_error(&["frobnicate"]);
}

#[test]
fn malformed_image_references_exit_2_and_say_what_to_type() {
    for (value, says) in [
        ("app:", "nothing follows"),
        ("app@sha256:abc", "64"),
        ("app:a+b", "not allowed in a tag"),
        ("contosoreg.azurecr.io/app:1.0", "login server"),
        ("localhost:5000/app", "host"),
        ("App:1.0", "not allowed"),
    ] {
        usage_error(&["check", "-n", "contosoreg", "--repository", value])
            .stderr(predicate::str::contains("--repository"))
            .stderr(predicate::str::contains(says));
    }
    usage_error(&[
        "check",
        "-n",
        "contosoreg",
        "--repository",
        "app:1.0",
        "--platform",
        "linux",
    ])
    .stderr(predicate::str::contains("OS/ARCH"));
    // --platform is about an image: without --repository, or without a tag or digest in it,
    // it is refused.
    usage_error(&["check", "-n", "contosoreg", "--platform", "linux/amd64"]);
    usage_error(&[
        "check",
        "-n",
        "contosoreg",
        "--repository",
        "app",
        "--platform",
        "linux/amd64",
    ])
    .stderr(predicate::str::contains("tag or digest"));
    bin()
        .args(["check", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("REPO[:TAG|@DIGEST]"))
        .stdout(predicate::str::contains("--platform"));
}
