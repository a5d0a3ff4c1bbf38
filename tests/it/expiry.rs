//! `expiry.timeline` against the test bed: every kind of credential healthy, about to expire
//! and expired, and a skewed local clock.

use crate::support;

use std::path::Path;

use acr_doctor::context::Context;
use acr_doctor::report::CheckStatus;
use acr_doctor::CheckRun;
use acr_testbed::{ids, FakeAz, Fault, TestBed};
use support::{cert_env, fixture_der, timeline_entry, Vars};

const REG: &str = "contosoreg";

use support::default_bed as start;

/// [`support::sandbox_env`] plus `extra`.
fn env(bed: &TestBed, home: &Path, extra: Vec<(String, String)>) -> Vars {
    let mut vars = support::sandbox_env(bed, home);
    vars.extend(extra);
    vars
}

/// Runs the identity and expiry checks with the clock shifted by `offset_s`.
async fn check(bed: &TestBed, vars: Vars, extra: &[&str], offset_s: i64) -> CheckRun {
    let argv = support::bed_args(
        bed,
        REG,
        // registry.arm is pulled in by the challenge's consulted facts; its ARM warning is not
        // what these tests are about.
        &[
            &[
                "--only",
                "identity,expiry",
                "--skip",
                "registry.arm",
                "--timeout",
                "5",
            ],
            extra,
        ]
        .concat(),
    );
    let args = support::parse_args(&argv);
    let mut ctx = Context::new(vars, &args).expect("ctx");
    ctx.clock.offset_s = offset_s;
    acr_doctor::run_check_with(&args, REG, &ctx, acr_doctor::lang::Lang::En)
        .await
        .expect("run")
}

fn expiry(run: &CheckRun) -> &acr_doctor::report::CheckResult {
    support::check(run, "expiry.timeline")
}

fn codes(run: &CheckRun) -> Vec<(String, String)> {
    run.report
        .findings
        .iter()
        .map(|f| (f.code.clone(), f.check.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_service_principal_timeline() {
    let bed = start().await;
    let home = support::temp_home();
    let run = check(
        &bed,
        env(&bed, home.path(), bed.sp_env()),
        &["--repository", "app"],
        0,
    )
    .await;
    assert_eq!(
        expiry(&run).status,
        CheckStatus::Pass,
        "{}",
        expiry(&run).message
    );
    for kind in [
        "entra_token",
        "acr_refresh_token",
        "acr_access_token",
        "sp_client_secret",
    ] {
        let e = timeline_entry(&run, kind);
        assert_eq!(e.state, "ok", "{kind}: {e:?}");
        assert!(e.remaining_s.unwrap_or(0) > 0, "{kind}: {e:?}");
        assert!(e.expires_at.is_some(), "{kind}");
    }
    // The secret's end date came from Graph (a year ahead).
    assert!(
        timeline_entry(&run, "sp_client_secret")
            .remaining_s
            .unwrap_or(0)
            > 300 * 86400
    );
    assert!(timeline_entry(&run, "sp_client_secret")
        .source
        .contains(ids::SP_SECRET_KEY_ID));
    assert!(run.report.findings.is_empty(), "{:#?}", run.report.findings);
    let log = bed.request_log();
    assert!(log.iter().any(|r| r.listener == "graph" && r.status == 200));
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_about_to_expire_and_expired() {
    let bed = start().await;
    let home = support::temp_home();
    support::edit_sp(&bed, |p| {
        p.secrets[0].end = time::OffsetDateTime::now_utc() + time::Duration::days(3);
    });
    let vars = env(&bed, home.path(), bed.sp_env());
    let run = check(&bed, vars.clone(), &[], 0).await;
    assert_eq!(timeline_entry(&run, "sp_client_secret").state, "expiring");
    assert_eq!(
        codes(&run),
        vec![(
            "CREDENTIAL_EXPIRES_SOON".to_string(),
            "expiry.timeline".to_string()
        )]
    );
    assert_eq!(expiry(&run).status, CheckStatus::Warn);
    // A narrower window for secrets: no warning.
    let run = check(&bed, vars.clone(), &["--warn-within", "15m,1d"], 0).await;
    assert!(run.report.findings.is_empty(), "{:#?}", run.report.findings);
    // Expired: Entra says AADSTS7000222; reported once, by identity.credential.
    bed.set_fault(None, Fault::SpSecretExpired);
    let run = check(&bed, vars, &[], 0).await;
    assert_eq!(
        codes(&run),
        vec![(
            "SP_SECRET_EXPIRED".to_string(),
            "identity.credential".to_string()
        )]
    );
    assert_eq!(timeline_entry(&run, "sp_client_secret").state, "expired");
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_about_to_expire() {
    let bed = start().await;
    let home = support::temp_home();
    let vars = env(&bed, home.path(), bed.sp_env());
    // Entra tokens of the bed live an hour, ACR access tokens 75 minutes: a 2-hour window catches both.
    let run = check(&bed, vars, &["--warn-within", "2h"], 0).await;
    assert_eq!(timeline_entry(&run, "entra_token").state, "expiring");
    assert_eq!(timeline_entry(&run, "acr_access_token").state, "expiring");
    assert_eq!(timeline_entry(&run, "acr_refresh_token").state, "ok");
    let soon: Vec<_> = run
        .report
        .findings
        .iter()
        .filter(|f| f.code == "CREDENTIAL_EXPIRES_SOON")
        .collect();
    assert_eq!(soon.len(), 2, "{soon:#?}");
    assert!(soon
        .iter()
        .all(|f| f.severity == acr_doctor::finding::Severity::Warning));
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_entra_and_acr_tokens() {
    let bed = start().await;
    let home = support::temp_home();
    // Entra (through the CLI) issues expired tokens.
    bed.set_fault(None, Fault::ExpiredTokens);
    let vars = env(&bed, home.path(), vec![]);
    bed.fake_az(&home.path().join("bin"), FakeAz::LoggedIn);
    let run = check(&bed, vars.clone(), &["--auth", "cli"], 0).await;
    assert_eq!(
        codes(&run),
        vec![(
            "AAD_TOKEN_EXPIRED".to_string(),
            "identity.credential".to_string()
        )]
    );
    assert_eq!(timeline_entry(&run, "entra_token").state, "expired");
    // The registry issues expired ACR tokens; the Entra token is fine.
    bed.clear_faults();
    bed.set_fault(Some(REG), Fault::ExpiredTokens);
    let run = check(&bed, env(&bed, home.path(), bed.sp_env()), &[], 0).await;
    let c = codes(&run);
    assert_eq!(
        c.iter()
            .filter(|(code, _)| code == "AAD_TOKEN_EXPIRED")
            .count(),
        1,
        "{c:?}"
    );
    assert_eq!(timeline_entry(&run, "acr_refresh_token").state, "expired");
    assert_eq!(timeline_entry(&run, "entra_token").state, "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn client_certificate_validity() {
    let bed = start().await;
    let home = support::temp_home();
    let good = fixture_der("client-cert.pem");
    let expired = fixture_der("client-cert-expired.pem");
    support::edit_sp(&bed, |p| {
        *p = p.clone().certificate(&good).certificate(&expired)
    });
    let with_cert = |file: &str| check(&bed, env(&bed, home.path(), cert_env(file)), &[], 0);
    let run = with_cert("client-cert.pem").await;
    assert_eq!(timeline_entry(&run, "client_certificate").state, "ok");
    assert!(run.report.findings.is_empty(), "{:#?}", run.report.findings);
    // The bed's Entra does not look at validity dates; acr-doctor does.
    let run = with_cert("client-cert-expired.pem").await;
    assert_eq!(timeline_entry(&run, "client_certificate").state, "expired");
    assert_eq!(
        codes(&run),
        vec![(
            "SP_SECRET_EXPIRED".to_string(),
            "expiry.timeline".to_string()
        )]
    );
    assert_eq!(
        run.report.findings[0].evidence["kind"],
        "client_certificate"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn skewed_clock_is_named_not_blamed_on_tokens() {
    let bed = start().await;
    let home = support::temp_home();
    let vars = env(&bed, home.path(), bed.sp_env());
    // This machine's clock runs two hours ahead: hour-long tokens look expired locally.
    let run = check(&bed, vars.clone(), &[], 7200).await;
    for id in [
        "identity.credential",
        "identity.refresh_token",
        "identity.access_token",
    ] {
        let c = support::check(&run, id);
        assert_eq!(c.status, CheckStatus::Pass, "{id}: {}", c.message);
    }
    let e = expiry(&run);
    let skew = e
        .evidence
        .get("clock_skew_s")
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
    assert!((-7300..=-7100).contains(&skew), "{skew}");
    assert_eq!(timeline_entry(&run, "entra_token").state, "ok");
    assert!(run
        .report
        .findings
        .iter()
        .all(|f| f.code == "CREDENTIAL_EXPIRES_SOON"));
    // The Entra token is named as looking expired only because of the clock.
    assert!(
        run.report.findings.iter().any(|f| f.evidence["kind"] == "entra_token"
            && f.evidence.contains_key("clock_skew_s")),
        "{:#?}",
        run.report.findings
    );
    assert!(!run
        .report
        .findings
        .iter()
        .any(|f| f.code.ends_with("_EXPIRED")));
    // A correct clock: no skew mentioned.
    let run = check(&bed, vars, &[], 0).await;
    let skew = expiry(&run)
        .evidence
        .get("clock_skew_s")
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
    assert!(skew.abs() < 60, "{skew}");
}
