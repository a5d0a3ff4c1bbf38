//! Password-protected certificate credentials (`AZURE_CLIENT_CERTIFICATE_PATH` +
//! `AZURE_CLIENT_CERTIFICATE_PASSWORD`) end to end against the test bed: an encrypted PKCS#8 PEM
//! and PKCS#12 files made by OpenSSL (tests/fixtures/README.md) sign client assertions that the
//! bed's Entra accepts, and a missing or wrong password is a specific finding that never shows
//! the password.

use crate::support;

use acr_doctor::lang::Lang;
use acr_doctor::report::CheckStatus;
use acr_doctor::CheckRun;
use acr_testbed::TestBed;
use support::{cert_env, fixture_der};

const REG: &str = "contosoreg";
/// The fixtures' password; registered as a secret by acr-doctor, so it must never be printed.
const PASSWORD: &str = "fixture-password";

/// A bed whose service principal knows the fixtures' certificate.
async fn bed() -> TestBed {
    let der = fixture_der("client-cert.pem");
    let bed = support::default_bed().await;
    support::edit_sp(&bed, |p| *p = p.clone().certificate(&der));
    bed
}

async fn check(bed: &TestBed, file: &str, password: Option<&str>) -> CheckRun {
    let home = support::temp_home();
    let mut vars = support::bed_env(bed, home.path(), "/nonexistent", false);
    vars.extend(cert_env(file));
    if let Some(pw) = password {
        vars.insert("AZURE_CLIENT_CERTIFICATE_PASSWORD".into(), pw.into());
    }
    let mut argv = bed.check_args(REG);
    argv.extend(["--only", "identity,expiry", "--timeout", "5", "-v"].map(String::from));
    let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
    let args = acr_doctor::check_args(&refs).expect("args");
    let run = acr_doctor::run_check(&args, REG, vars, Lang::En)
        .await
        .expect("run");
    // The password is never printed, in any form.
    let outputs = [
        acr_doctor::render::json::render(&run.report),
        acr_doctor::render::markdown::render(&run.report, Lang::En),
        run.trace.join("\n"),
        format!("{:?}", run.report),
    ];
    for out in outputs {
        assert!(!out.contains(PASSWORD), "the password was printed: {out}");
    }
    run
}

fn credential(run: &CheckRun) -> &acr_doctor::report::CheckResult {
    run.report
        .checks
        .iter()
        .find(|c| c.id == "identity.credential")
        .expect("identity.credential")
}

use support::codes;

#[tokio::test(flavor = "multi_thread")]
async fn protected_files_sign_assertions_entra_accepts() {
    let bed = bed().await;
    for file in [
        "client-cert-encrypted.pem",
        "client-cert.pfx",
        "client-cert-legacy.pfx",
    ] {
        let run = check(&bed, file, Some(PASSWORD)).await;
        let c = credential(&run);
        assert_eq!(c.status, CheckStatus::Pass, "{file}: {c:?}");
        assert!(c.message.contains("certificate"), "{file}: {}", c.message);
        let access = run
            .report
            .checks
            .iter()
            .find(|c| c.id == "identity.access_token")
            .expect("access");
        assert_eq!(access.status, CheckStatus::Pass, "{file}: {access:?}");
        // The certificate's validity is on the timeline.
        assert!(
            run.report
                .timeline
                .iter()
                .any(|e| e.kind == "client_certificate"),
            "{file}: {:#?}",
            run.report.timeline
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_or_wrong_password_is_named() {
    let bed = bed().await;
    for (file, password, says) in [
        (
            "client-cert-encrypted.pem",
            None,
            "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        ),
        (
            "client-cert-encrypted.pem",
            Some("not-it"),
            "cannot be decrypted",
        ),
        ("client-cert.pfx", None, "password-protected"),
        ("client-cert.pfx", Some("not-it"), "does not open"),
    ] {
        let run = check(&bed, file, password).await;
        let c = credential(&run);
        assert_eq!(c.status, CheckStatus::Fail, "{file}: {c:?}");
        assert_eq!(
            codes(&run).first().copied(),
            Some("SERVICE_PRINCIPAL_CREDENTIALS_INVALID"),
            "{file}"
        );
        let detail = &run.report.findings[0].detail;
        assert!(detail.contains(says), "{file}: {detail}");
        assert!(detail.contains(file), "{file}: {detail}");
        // Entra was never asked: the file was refused before any assertion was signed.
        assert!(
            !bed.request_log()
                .iter()
                .any(|r| r.listener == "entra" && r.method == "POST"),
            "{file}: Entra was asked"
        );
    }
}
