//! Identity checks against the test bed: every credential source, the token exchange, and
//! the way each refusal is diagnosed. Nothing leaves loopback: the bed's `env()` points the
//! authority, ARM, Graph and the instance metadata endpoint at the bed.

use crate::support;

use acr_doctor::report::{CheckStatus, Report};
use acr_doctor::CheckRun;
use acr_testbed::{ids, BedSpec, FakeAz, Fault, Registry, RepoToken, TestBed};
use support::{cert_env, first_code, fixture_der, Vars};

const REG: &str = "contosoreg";

struct Env {
    home: tempfile::TempDir,
    vars: Vars,
}

impl Env {
    /// The bed's endpoints, a temporary HOME, a PATH with only a bin dir of our own
    /// (plus the system's for `sh`), no credentials.
    fn new(bed: &TestBed) -> Env {
        let home = support::temp_home();
        let vars = support::sandbox_env(bed, home.path());
        Env { home, vars }
    }
    fn with(mut self, pairs: Vec<(String, String)>) -> Env {
        self.vars.extend(pairs);
        self
    }
    fn set(mut self, k: &str, v: &str) -> Env {
        self.vars.insert(k.into(), v.into());
        self
    }
    fn bin(&self) -> std::path::PathBuf {
        self.home.path().join("bin")
    }
    fn fake_az(self, bed: &TestBed, mode: FakeAz) -> Env {
        bed.fake_az(&self.bin(), mode);
        self
    }
}

use support::default_bed as start;

/// Runs the identity checks (`argv(bed, extra)`) in process.
async fn check(bed: &TestBed, env: &Env, extra: &[&str]) -> CheckRun {
    support::run_argv(&argv(bed, extra), env.vars.clone()).await
}

fn status(run: &CheckRun, id: &str) -> CheckStatus {
    support::check(run, id).status
}

fn message<'a>(run: &'a CheckRun, id: &str) -> &'a str {
    &support::check(run, id).message
}

/// The evidence `key` of identity.credential.
fn credential_evidence<'a>(run: &'a CheckRun, key: &str) -> Option<&'a serde_json::Value> {
    run.report
        .checks
        .iter()
        .find(|c| c.id == "identity.credential")
        .and_then(|c| c.evidence.get(key))
}

fn evidence_source(run: &CheckRun) -> String {
    credential_evidence(run, "source")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string()
}

/// Every output format, rendered, must be free of the bed's secrets and of any token.
fn assert_no_secrets(report: &Report, extra: &[&str]) {
    use acr_doctor::render;
    let lang = acr_doctor::lang::Lang::En;
    let outputs = vec![
        render::human::render(report, render::Style::plain(lang)),
        render::json::render(report),
        render::markdown::render(report, lang),
        render::github::annotations(report, lang),
        render::github::summary(report, lang),
        render::github::azure_pipelines(report),
    ];
    for out in outputs {
        assert!(!out.contains("CANARY"), "a canary leaked:\n{out}");
        assert!(!out.contains("eyJ"), "a JWT leaked:\n{out}");
        for s in extra {
            assert!(!out.contains(s), "{s} leaked:\n{out}");
        }
    }
}

fn pass_through(run: &CheckRun) {
    for id in [
        "identity.credential",
        "identity.refresh_token",
        "identity.access_token",
    ] {
        assert_eq!(
            status(run, id),
            CheckStatus::Pass,
            "{id}: {}\n{:#?}",
            message(run, id),
            run.report.findings
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn service_principal_secret_full_flow() {
    let bed = start().await;
    let env = Env::new(&bed).with(bed.sp_env());
    let run = check(&bed, &env, &["--repository", "app", "--need", "pull,push"]).await;
    pass_through(&run);
    assert_eq!(evidence_source(&run), "env");
    let id = run.report.identity.clone().expect("identity");
    assert_eq!(id.app_id.as_deref(), Some(ids::SP_APP_ID));
    assert_eq!(id.tenant_id.as_deref(), Some(ids::TENANT));
    assert!(message(&run, "identity.credential").contains(ids::SP_APP_ID));
    // AcrPush: pull and push, not delete.
    assert_eq!(
        granted(&run, "repository:app"),
        serde_json::json!(["pull", "push", "metadata_read", "metadata_write"])
    );
    assert_no_secrets(&run.report, &[]);
    // The exchange was the documented one.
    let log = bed.request_log();
    assert!(log
        .iter()
        .any(|r| r.path == "/oauth2/exchange" && r.method == "POST" && r.status == 200));
    assert!(log
        .iter()
        .any(|r| r.path == "/oauth2/token" && r.method == "POST" && r.status == 200));
}

/// An ACR refresh token for the default service principal, exchanged at the bed.
async fn refresh_token_of(bed: &TestBed) -> String {
    let ctx = support::bed_context(bed, REG, bed.env().into_iter().collect());
    let aad = acr_doctor::redact::Secret::new(bed.entra_token(
        ids::SP,
        "https://containerregistry.azure.net",
        std::time::Duration::from_secs(3600),
    ));
    let ls = bed.login_server(REG);
    let server = support::bed_login_server(bed, REG);
    acr_doctor::azure::acr_token::exchange(
        &ctx,
        &server,
        &format!("https://{ls}/oauth2/token"),
        &format!("{REG}.azurecr.io"),
        Some(ids::TENANT),
        &aad,
    )
    .await
    .expect("exchange")
    .token
    .expose()
    .to_string()
}

fn finding_detail<'a>(run: &'a CheckRun, code: &str) -> &'a str {
    &support::finding_with_code(run, code).detail
}

/// The AADSTS codes Entra answered, from the evidence of finding `code`.
fn aadsts(run: &CheckRun, code: &str) -> Vec<u64> {
    support::finding_with_code(run, code).evidence["aadsts"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c.as_u64()).collect())
        .unwrap_or_default()
}

/// The actions granted on `scope` (`repository:app`), from identity.access_token's evidence.
fn granted(run: &CheckRun, scope: &str) -> serde_json::Value {
    support::check(run, "identity.access_token").evidence["granted"][scope].clone()
}

fn tried(run: &CheckRun) -> String {
    credential_evidence(run, "tried")
        .map(|v| v.to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn service_principal_certificate_assertion() {
    let bed = start().await;
    let der = fixture_der("client-cert.pem");
    support::edit_sp(&bed, |p| *p = p.clone().certificate(&der));
    let env = Env::new(&bed).with(cert_env("client-cert.pem"));
    let run = check(&bed, &env, &["--repository", "app"]).await;
    pass_through(&run);
    assert!(message(&run, "identity.credential").contains("certificate"));
    // A certificate the application does not know is refused by Entra (AADSTS700027).
    support::edit_sp(&bed, |p| p.certificates.clear());
    let run = check(&bed, &env, &[]).await;
    assert_eq!(first_code(&run), "SERVICE_PRINCIPAL_CREDENTIALS_INVALID");
    assert!(aadsts(&run, "SERVICE_PRINCIPAL_CREDENTIALS_INVALID").contains(&700027));
    assert_no_secrets(&run.report, &[]);
}

#[tokio::test(flavor = "multi_thread")]
async fn workload_identity_from_token_file() {
    let bed = start().await;
    let env = Env::new(&bed);
    let file = env.home.path().join("federated-token");
    std::fs::write(&file, bed.federated_token(ids::SP_APP_ID)).expect("write");
    let env = env
        .set("AZURE_FEDERATED_TOKEN_FILE", &file.display().to_string())
        .set("AZURE_CLIENT_ID", ids::SP_APP_ID)
        .set("AZURE_TENANT_ID", ids::TENANT);
    let run = check(&bed, &env, &["--repository", "app"]).await;
    pass_through(&run);
    assert_eq!(evidence_source(&run), "workload-identity");
    // The env source was tried first and lacked a secret.
    assert!(
        tried(&run).contains("AZURE_CLIENT_SECRET"),
        "{}",
        tried(&run)
    );
    // A subject the app does not trust: AADSTS70021, a federation error.
    support::edit_sp(&bed, |p| p.federated.clear());
    let run = check(&bed, &env, &[]).await;
    assert_eq!(first_code(&run), "WORKLOAD_IDENTITY_FEDERATION_ERROR");
    assert!(aadsts(&run, "WORKLOAD_IDENTITY_FEDERATION_ERROR").contains(&70021));
    assert_no_secrets(&run.report, &[]);
}

#[tokio::test(flavor = "multi_thread")]
async fn managed_identity_imds_and_app_service() {
    let bed = start().await;
    bed.with_state(|st| {
        let _ = st.assign(ids::MI, "AcrPull", &acr_testbed::Scope::registry(REG), None);
    });
    // Instance metadata endpoint (the bed's, on loopback).
    let env = Env::new(&bed);
    let run = check(&bed, &env, &["--repository", "app"]).await;
    pass_through(&run);
    assert_eq!(evidence_source(&run), "managed-identity");
    assert_eq!(
        run.report
            .identity
            .as_ref()
            .and_then(|i| i.app_id.as_deref()),
        Some(ids::MI_CLIENT_ID)
    );
    assert_eq!(granted(&run, "repository:app")[0], "pull");
    let log = bed.request_log();
    assert!(log
        .iter()
        .any(|r| r.path == "/metadata/identity/oauth2/token" && r.status == 200));
    // App Service style endpoint with its header.
    let env = Env::new(&bed).with(bed.identity_env());
    let run = check(&bed, &env, &["--auth", "managed-identity"]).await;
    pass_through(&run);
    assert!(
        credential_evidence(&run, "endpoint")
            .and_then(|e| e.as_str())
            .is_some_and(|e| e.contains("IDENTITY_ENDPOINT")),
        "{:?}",
        credential_evidence(&run, "endpoint")
    );
    assert_no_secrets(&run.report, &[]);
}

#[tokio::test(flavor = "multi_thread")]
async fn azure_cli_after_unavailable_sources() {
    let bed = start().await;
    bed.set_fault(None, Fault::NoManagedIdentity);
    bed.with_state(|st| {
        let _ = st.assign(
            ids::USER,
            "AcrPull",
            &acr_testbed::Scope::registry(REG),
            None,
        );
    });
    let env = Env::new(&bed).fake_az(&bed, FakeAz::LoggedIn);
    let run = check(&bed, &env, &["--repository", "app"]).await;
    pass_through(&run);
    assert_eq!(evidence_source(&run), "cli");
    assert_eq!(
        run.report.identity.as_ref().and_then(|i| i.upn.as_deref()),
        Some(ids::USER_UPN)
    );
    let t = tried(&run);
    assert!(
        t.contains("managed-identity") && t.contains("unavailable"),
        "{t}"
    );
    assert!(message(&run, "identity.credential").contains(ids::USER_UPN));
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_available_names_every_source() {
    let bed = start().await;
    // Off Azure: nothing answers at the instance metadata endpoint.
    let env = Env::new(&bed)
        .fake_az(&bed, FakeAz::NotLoggedIn)
        .set("ACR_DOCTOR_IMDS_ENDPOINT", &closed_port_url());
    let run = check(&bed, &env, &[]).await;
    assert_eq!(first_code(&run), "AAD_CREDENTIAL_UNAVAILABLE");
    let d = finding_detail(&run, "AAD_CREDENTIAL_UNAVAILABLE");
    for s in [
        "basic",
        "env",
        "workload-identity",
        "managed-identity",
        "cli",
        "docker-config",
        "az login",
    ] {
        assert!(d.contains(s), "{s} missing from: {d}");
    }
    assert_eq!(status(&run, "identity.refresh_token"), CheckStatus::Skip);
}

#[tokio::test(flavor = "multi_thread")]
async fn entra_refusals_are_mapped_by_aadsts() {
    let bed = start().await;
    let env = Env::new(&bed).with(bed.sp_env());
    let cases: Vec<(Fault, &str, &str)> = vec![
        (
            Fault::UnknownTenant,
            "SERVICE_PRINCIPAL_CREDENTIALS_INVALID",
            "AADSTS90002",
        ),
        (
            Fault::SpSecretWrong,
            "SERVICE_PRINCIPAL_CREDENTIALS_INVALID",
            "AADSTS7000215",
        ),
        (Fault::SpSecretExpired, "SP_SECRET_EXPIRED", "AADSTS7000222"),
    ];
    for (fault, code, text) in cases {
        bed.clear_faults();
        bed.set_fault(None, fault.clone());
        let run = check(&bed, &env, &[]).await;
        assert_eq!(first_code(&run), code, "{fault:?}");
        assert!(finding_detail(&run, code).contains(text), "{fault:?}");
        assert_eq!(status(&run, "identity.refresh_token"), CheckStatus::Skip);
        assert_no_secrets(&run.report, &[]);
    }
    bed.clear_faults();
    let env = env.set("AZURE_CLIENT_ID", "0badc0de-0000-4000-8000-000000000000");
    let run = check(&bed, &env, &[]).await;
    assert_eq!(first_code(&run), "SERVICE_PRINCIPAL_CREDENTIALS_INVALID");
    assert!(aadsts(&run, "SERVICE_PRINCIPAL_CREDENTIALS_INVALID").contains(&700016));
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_entra_token_from_cli() {
    let bed = start().await;
    bed.set_fault(None, Fault::ExpiredTokens);
    let env = Env::new(&bed).fake_az(&bed, FakeAz::LoggedIn);
    let run = check(&bed, &env, &["--auth", "cli"]).await;
    assert_eq!(first_code(&run), "AAD_TOKEN_EXPIRED");
    assert_eq!(run.report.findings.len(), 1, "{:#?}", run.report.findings);
}

#[tokio::test(flavor = "multi_thread")]
async fn exchange_and_token_errors_carry_status() {
    let bed = start().await;
    let env = Env::new(&bed).with(bed.sp_env());
    bed.set_fault(Some(REG), Fault::RefreshExchangeError { status: 500 });
    let run = check(&bed, &env, &[]).await;
    assert_eq!(first_code(&run), "CONNECTIVITY_REFRESH_TOKEN_ERROR");
    let f = &run.report.findings[0];
    assert_eq!(f.evidence.get("status").and_then(|v| v.as_u64()), Some(500));
    assert!(f.detail.contains("injected fault"), "{}", f.detail);
    bed.clear_faults();
    bed.set_fault(Some(REG), Fault::AccessTokenError { status: 503 });
    let run = check(&bed, &env, &["--repository", "app"]).await;
    assert_eq!(first_code(&run), "CONNECTIVITY_ACCESS_TOKEN_ERROR");
    assert_eq!(
        run.report.findings[0]
            .evidence
            .get("status")
            .and_then(|v| v.as_u64()),
        Some(503)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn arm_audience_refused() {
    let bed = start().await;
    bed.set_fault(Some(REG), Fault::ArmAudienceRefused);
    let env = Env::new(&bed)
        .with(bed.sp_env())
        .set("ACR_DOCTOR_ACR_AUDIENCE", "https://management.azure.com/");
    let run = check(&bed, &env, &[]).await;
    assert_eq!(first_code(&run), "ARM_AUDIENCE_TOKEN_DISABLED");
}

#[tokio::test(flavor = "multi_thread")]
async fn tenant_mismatch_names_the_token_tenant() {
    let bed = start().await;
    bed.set_fault(Some(REG), Fault::TenantMismatch);
    let env = Env::new(&bed).with(bed.sp_env());
    let run = check(&bed, &env, &[]).await;
    assert_eq!(first_code(&run), "CONNECTIVITY_REFRESH_TOKEN_ERROR");
    // Named as a tenant mismatch: the token's tenant, and the registry's beside it.
    let f = support::finding_with_code(&run, "CONNECTIVITY_REFRESH_TOKEN_ERROR");
    assert_eq!(f.evidence["token_tenant"], ids::TENANT, "{f:?}");
    assert!(f.evidence.contains_key("registry_tenant"), "{f:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn basic_credentials_kinds_and_refusals() {
    let bed = TestBed::start(
        BedSpec::new().registry(Registry::new(REG).token(RepoToken::new(
            "ci-token",
            &["repositories/app/content/read"],
        ))),
    )
    .await
    .expect("bed");
    let env = Env::new(&bed);
    // Admin user disabled (the default), and no identity can read the settings: the refused
    // pair is proven, the disabled admin user only possible.
    let run = check(&bed, &env, &["-u", REG, "-p", ids::ADMIN_PASSWORDS[0]]).await;
    assert_eq!(first_code(&run), "BASIC_CREDENTIALS_INVALID");
    assert_no_secrets(&run.report, &[]);
    // A service principal as basic credentials the registry's tenant does not know.
    bed.set_fault(Some(REG), Fault::AppNotRegistered);
    let run = check(&bed, &env, &["-u", ids::SP_APP_ID, "-p", ids::SP_SECRET]).await;
    assert_eq!(first_code(&run), "APP_NOT_REGISTERED_WITH_AAD");
    bed.clear_faults();
    // A service principal with the right secret works through grant_type=password.
    let run = check(
        &bed,
        &env,
        &[
            "-u",
            ids::SP_APP_ID,
            "-p",
            ids::SP_SECRET,
            "--repository",
            "app",
        ],
    )
    .await;
    pass_through(&run);
    assert_eq!(evidence_source(&run), "basic");
    // A wrong password of a repository-scoped token: named as such.
    let run = check(
        &bed,
        &env,
        &["-u", "ci-token", "-p", "CANARY-wrong-password"],
    )
    .await;
    assert_eq!(first_code(&run), "BASIC_CREDENTIALS_INVALID");
    assert!(finding_detail(&run, "BASIC_CREDENTIALS_INVALID").contains("repository-scoped token"));
    assert_no_secrets(&run.report, &["CANARY-wrong-password"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_token_as_password() {
    let bed = start().await;
    let token = refresh_token_of(&bed).await;
    let env = Env::new(&bed);
    let run = check(
        &bed,
        &env,
        &["-u", ids::EMPTY_GUID, "-p", &token, "--repository", "app"],
    )
    .await;
    pass_through(&run);
    assert_no_secrets(&run.report, &[&token]);
    // The same token with another username.
    let run = check(&bed, &env, &["-u", "someone", "-p", &token]).await;
    assert_eq!(first_code(&run), "EXPOSE_TOKEN_USERNAME");
    assert_no_secrets(&run.report, &[&token]);
}

#[tokio::test(flavor = "multi_thread")]
async fn docker_config_identity_token() {
    let bed = start().await;
    bed.set_fault(None, Fault::NoManagedIdentity);
    let token = refresh_token_of(&bed).await;
    let env = Env::new(&bed);
    let auth = support::auth_b64(ids::EMPTY_GUID, &token);
    support::write_file(
        &env.home.path().join(".docker/config.json"),
        &support::auth_json(&bed.login_server(REG), ids::EMPTY_GUID, &token),
    );
    let run = check(&bed, &env, &["--repository", "app"]).await;
    pass_through(&run);
    assert_eq!(evidence_source(&run), "docker-config");
    assert_no_secrets(&run.report, &[&token, &auth]);
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_pull() {
    let bed = start().await;
    let env = Env::new(&bed);
    let run = check(&bed, &env, &["--auth", "anonymous", "--repository", "app"]).await;
    assert_eq!(first_code(&run), "ANONYMOUS_PULL_DISABLED");
    bed.set_fault(Some(REG), Fault::AnonymousPull(true));
    let run = check(&bed, &env, &["--auth", "anonymous", "--repository", "app"]).await;
    assert_eq!(
        status(&run, "identity.access_token"),
        CheckStatus::Pass,
        "{:#?}",
        run.report.findings
    );
    assert_eq!(granted(&run, "repository:app"), serde_json::json!(["pull"]));
}

/// Runs the built binary with `-o <format>` and returns (exit code, stdout, stderr).
async fn binary(env: &Env, argv: Vec<String>, stdin: Option<&str>) -> (i32, String, String) {
    let vars = env.vars.clone();
    let stdin = stdin.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let mut cmd = assert_cmd::Command::cargo_bin("acr-doctor").expect("binary");
        cmd.env_clear().envs(vars).arg("check").args(argv);
        if let Some(s) = stdin {
            cmd.write_stdin(s);
        }
        let out = cmd.output().expect("run");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .expect("join")
}

/// The bed's arguments, `--only identity --timeout 5`, then `extra`.
fn argv(bed: &TestBed, extra: &[&str]) -> Vec<String> {
    support::bed_args(
        bed,
        REG,
        &[&["--only", "identity", "--timeout", "5"], extra].concat(),
    )
}

fn json_first_code(stdout: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    v["findings"][0]["code"].as_str().unwrap_or("").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_diagnoses_end_to_end() {
    let bed = start().await;
    // 1. An expired client secret (AADSTS7000222), in every output format.
    bed.set_fault(None, Fault::SpSecretExpired);
    let env = Env::new(&bed).with(bed.sp_env());
    for format in ["json", "human", "markdown", "github"] {
        let (code, out, err) = binary(&env, argv(&bed, &["-o", format]), None).await;
        assert_eq!(code, 1, "{format}: {out}{err}");
        assert!(out.contains("SP_SECRET_EXPIRED"), "{format}: {out}");
        assert!(
            !out.contains("CANARY") && !err.contains("CANARY"),
            "{format}: {out}{err}"
        );
        if format == "json" {
            assert_eq!(json_first_code(&out), "SP_SECRET_EXPIRED");
        }
    }
    bed.clear_faults();
    // 2. The admin user, password on standard input, while it is disabled (no identity reads
    // the settings: the refused pair is proven, with the other cause in `alternatives`).
    let env = Env::new(&bed);
    let (code, out, err) = binary(
        &env,
        argv(&bed, &["-o", "json", "-u", REG, "--password-stdin"]),
        Some(ids::ADMIN_PASSWORDS[0]),
    )
    .await;
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(json_first_code(&out), "BASIC_CREDENTIALS_INVALID");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["findings"][0]["confidence"], "proven");
    assert_eq!(v["findings"][0]["alternatives"][0], "ADMIN_USER_DISABLED");
    assert!(!out.contains("CANARY") && !err.contains("CANARY"));
    // 3. Anonymous pull asked for and disabled, verbose trace on.
    let (code, out, err) = binary(
        &env,
        argv(
            &bed,
            &[
                "-o",
                "json",
                "-v",
                "--auth",
                "anonymous",
                "--repository",
                "app",
            ],
        ),
        None,
    )
    .await;
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(json_first_code(&out), "ANONYMOUS_PULL_DISABLED");
    // 4. A healthy service principal with --verbose: tokens never appear in the trace.
    let env = Env::new(&bed).with(bed.sp_env());
    let (code, out, err) = binary(&env, argv(&bed, &["-v", "--repository", "app"]), None).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        !out.contains("CANARY") && !err.contains("CANARY"),
        "{out}{err}"
    );
    assert!(!out.contains("eyJ") && !err.contains("eyJ"), "{out}{err}");
}

// ---------------------------------------------------------------------------------------------
// Evidence before verdict (issue 19): settings through another identity, verdicts by evidence.

/// The default bed, where the service principal may also read the subscription's resources.
async fn reader_bed() -> TestBed {
    TestBed::start(BedSpec::new().assign("sp", "Reader", acr_testbed::Scope::Subscription))
        .await
        .expect("bed")
}

fn finding_of<'a>(run: &'a CheckRun, code: &str) -> &'a acr_doctor::finding::Finding {
    support::finding_with_code(run, code)
}

/// A refused admin login with no identity that can read the registry: the refused pair is what
/// is proven; a disabled admin user is named as the other cause, with the command that settles it.
#[tokio::test(flavor = "multi_thread")]
async fn refused_admin_login_without_settings_names_both_causes() {
    let bed = start().await;
    let env = Env::new(&bed);
    let run = check(&bed, &env, &["-u", REG, "-p", ids::ADMIN_PASSWORDS[0]]).await;
    assert_eq!(first_code(&run), "BASIC_CREDENTIALS_INVALID");
    let f = finding_of(&run, "BASIC_CREDENTIALS_INVALID");
    assert_eq!(f.confidence, acr_doctor::finding::Confidence::Proven);
    assert_eq!(f.alternatives, vec!["ADMIN_USER_DISABLED".to_string()]);
    assert_eq!(f.evidence["missing"], "registry_settings");
    assert!(f
        .commands
        .iter()
        .any(|c| c.contains("--query adminUserEnabled")));
    // registry.arm says what is missing and what was tried.
    let arm = support::check(&run, "registry.arm");
    assert_eq!(arm.status, CheckStatus::Skip);
    assert_eq!(arm.evidence["missing"], "registry_settings");
    assert!(arm.evidence["tried"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));
    assert_no_secrets(&run.report, &[]);
}

/// Basic credentials under test, a service principal at hand: it reads the settings, the report
/// names it, and the admin user's state decides the verdict.
#[tokio::test(flavor = "multi_thread")]
async fn admin_login_verdict_from_settings_read_by_another_identity() {
    let bed = reader_bed().await;
    let env = Env::new(&bed).with(bed.sp_env());
    // Disabled admin user: proven.
    let run = check(&bed, &env, &["-u", REG, "-p", ids::ADMIN_PASSWORDS[0]]).await;
    let arm = support::check(&run, "registry.arm");
    assert_eq!(arm.status, CheckStatus::Pass, "{:?}", arm.evidence);
    assert_eq!(arm.evidence["read_by"]["source"], "env");
    assert_eq!(arm.evidence["read_by"]["app_id"], ids::SP_APP_ID);
    assert_eq!(arm.evidence["admin_user_enabled"], false);
    assert_eq!(first_code(&run), "ADMIN_USER_DISABLED");
    let f = finding_of(&run, "ADMIN_USER_DISABLED");
    assert_eq!(f.confidence, acr_doctor::finding::Confidence::Proven);
    assert!(f.alternatives.is_empty());
    assert_eq!(f.evidence["settings_read_by"]["source"], "env");
    // Enabled admin user, stale password: the same answer from the registry, another verdict.
    bed.with_state(|st| {
        if let Some(r) = st.registry_mut(REG) {
            r.admin_user_enabled = true;
        }
    });
    let run = check(
        &bed,
        &env,
        &["-u", REG, "-p", "CANARY-stale-admin-password"],
    )
    .await;
    assert_eq!(first_code(&run), "BASIC_CREDENTIALS_INVALID");
    let f = finding_of(&run, "BASIC_CREDENTIALS_INVALID");
    assert_eq!(f.confidence, acr_doctor::finding::Confidence::Proven);
    assert!(f.alternatives.is_empty(), "{:?}", f.alternatives);
    assert_eq!(f.evidence["admin_user_enabled"], true);
    assert_no_secrets(&run.report, &["CANARY-stale-admin-password"]);
}

/// The Azure CLI's signed-in account reads the settings when the credential under test is the
/// Docker config's.
#[tokio::test(flavor = "multi_thread")]
async fn docker_stored_admin_credential_settings_read_by_the_cli() {
    let bed = reader_bed().await;
    let env = Env::new(&bed).fake_az(&bed, FakeAz::LoggedInAs("sp".into()));
    let config_dir = env.home.path().join(".docker");
    std::fs::create_dir_all(&config_dir).expect("config dir");
    support::write_file(
        &config_dir.join("config.json"),
        &support::auth_json(&bed.login_server(REG), REG, ids::ADMIN_PASSWORDS[0]),
    );
    let env = env.set("DOCKER_CONFIG", &config_dir.display().to_string());
    let run = check(&bed, &env, &["--auth", "docker-config"]).await;
    let arm = support::check(&run, "registry.arm");
    assert_eq!(arm.status, CheckStatus::Pass, "{:?}", arm.evidence);
    assert_eq!(arm.evidence["read_by"]["source"], "cli");
    assert_eq!(first_code(&run), "ADMIN_USER_DISABLED");
    assert_no_secrets(&run.report, &[]);
}

/// An Entra credential that cannot see the registry in ARM: the Azure CLI's account reads the
/// settings; the credential's own missing ARM access stays a finding.
#[tokio::test(flavor = "multi_thread")]
async fn entra_credential_without_arm_access_settings_read_by_the_cli() {
    let bed = TestBed::start(BedSpec::new().assign(
        ids::USER,
        "Reader",
        acr_testbed::Scope::Subscription,
    ))
    .await
    .expect("bed");
    let env = Env::new(&bed)
        .with(bed.sp_env())
        .fake_az(&bed, FakeAz::LoggedIn);
    let run = check(&bed, &env, &["--auth", "env"]).await;
    let arm = support::check(&run, "registry.arm");
    assert_eq!(arm.status, CheckStatus::Warn, "{:?}", arm.evidence);
    assert_eq!(
        arm.evidence.get("read_by").map(|r| &r["source"]),
        Some(&serde_json::json!("cli")),
        "{arm:?}"
    );
    assert_eq!(arm.evidence["read_by"]["upn"], ids::USER_UPN);
    assert!(support::codes_of(&run, "registry.arm").contains(&"ARM_PERMISSION_MISSING".to_string()));
    assert_eq!(arm.evidence["admin_user_enabled"], false);
}

// ---------------------------------------------------------------------------------------------
// Entra refusals read through the AADSTS table (issue 18): the binary, run against the bed.

/// `http://127.0.0.1:PORT` where nothing listens (a port bound, then released).
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// The binary's JSON report with `extra`, its first finding, and the whole output (for the
/// no-secret assertions).
async fn first_finding_json(
    bed: &TestBed,
    env: &Env,
    extra: &[&str],
) -> (serde_json::Value, String) {
    let (code, out, err) = binary(env, argv(bed, &[&["-o", "json"], extra].concat()), None).await;
    assert_eq!(code, 1, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    (v["findings"][0].clone(), format!("{out}{err}"))
}

#[track_caller]
fn assert_commands_valid(finding: &serde_json::Value) {
    let az = acr_doctor::commands::validate::AzSpec::from_json(
        &std::fs::read_to_string(support::fixture("az-commands.json")).expect("fixture"),
    )
    .expect("fixture parses");
    for c in finding["commands"].as_array().into_iter().flatten() {
        let c = c.as_str().unwrap_or_default();
        let problems = acr_doctor::commands::validate::problems(c, &az);
        assert!(problems.is_empty(), "{c}: {problems:?}");
    }
}

/// Every refusal of a federated token is WORKLOAD_IDENTITY_FEDERATION_ERROR, with the token's
/// issuer, subject and audience (read from the token file, never the token) next to Entra's
/// answer: no matching credential at all (AADSTS70021), the issuer (700211) or the subject
/// (700213) unknown, or the token outside its validity (700024).
#[tokio::test(flavor = "multi_thread")]
async fn federated_token_refusals_are_workload_identity_federation_errors() {
    let bed = start().await;
    let env = Env::new(&bed);
    let file = env.home.path().join("federated-token");
    let token = bed.federated_token(ids::SP_APP_ID);
    std::fs::write(&file, &token).expect("write");
    let env = env
        .set("AZURE_FEDERATED_TOKEN_FILE", &file.display().to_string())
        .set("AZURE_CLIENT_ID", ids::SP_APP_ID)
        .set("AZURE_TENANT_ID", ids::TENANT);
    let cases: [(Option<Fault>, u64, &str); 4] = [
        (
            Some(Fault::FederatedSubjectMismatch),
            700213,
            ids::FEDERATED_SUBJECT,
        ),
        (
            Some(Fault::FederatedIssuerMismatch),
            700211,
            ids::FEDERATED_ISSUER,
        ),
        (
            Some(Fault::FederatedTokenExpired),
            700024,
            "valid time range",
        ),
        // The application's federated credentials removed: nothing matches at all.
        (None, 70021, ids::FEDERATED_SUBJECT),
    ];
    for (fault, aadsts, entra_says) in cases {
        bed.clear_faults();
        match &fault {
            Some(f) => bed.set_fault(None, f.clone()),
            None => support::edit_sp(&bed, |p| p.federated.clear()),
        }
        let (f, output) = first_finding_json(&bed, &env, &[]).await;
        assert_eq!(
            f["code"], "WORKLOAD_IDENTITY_FEDERATION_ERROR",
            "{fault:?}: {f:#}"
        );
        let e = &f["evidence"];
        assert_eq!(e["aadsts"][0], aadsts, "{fault:?}");
        assert_eq!(e["federated_token"]["iss"], ids::FEDERATED_ISSUER);
        assert_eq!(e["federated_token"]["sub"], ids::FEDERATED_SUBJECT);
        assert_eq!(e["federated_token"]["aud"], "api://AzureADTokenExchange");
        assert!(e["federated_token"]["expires_at"].is_string(), "{e:#}");
        assert_eq!(e["client_id"], ids::SP_APP_ID);
        assert!(
            e["entra_said"]
                .as_str()
                .is_some_and(|s| s.contains(entra_says)),
            "{fault:?}: {e:#}"
        );
        assert!(f["commands"].as_array().is_some_and(|c| c.iter().any(|c| c
            .as_str()
            .is_some_and(|c| c.contains("federated-credential list")))));
        assert_commands_valid(&f);
        // The token itself (a secret) never appears.
        assert!(!output.contains(&token), "the federated token leaked");
        assert!(
            !output.contains("eyJ") && !output.contains("CANARY"),
            "{output}"
        );
    }
}

/// A managed identity endpoint that answers "no such identity" is MANAGED_IDENTITY_NOT_FOUND,
/// pinned or found by `--auth auto`, on the instance metadata endpoint and on App Service's;
/// an endpoint that does not answer at all stays AAD_CREDENTIAL_UNAVAILABLE.
#[tokio::test(flavor = "multi_thread")]
async fn managed_identity_not_found_is_told_from_an_unreachable_endpoint() {
    let bed = start().await;
    bed.set_fault(None, Fault::NoManagedIdentity);
    let env = Env::new(&bed);
    // 1. Pinned, instance metadata endpoint, no client ID: the system-assigned identity.
    let (f, output) = first_finding_json(&bed, &env, &["--auth", "managed-identity"]).await;
    assert_eq!(f["code"], "MANAGED_IDENTITY_NOT_FOUND", "{f:#}");
    assert_eq!(f["evidence"]["status"], 400);
    assert_eq!(f["evidence"]["endpoint_said"], "Identity not found");
    assert_eq!(f["evidence"]["requested_identity"], "system-assigned");
    assert!(f["evidence"]["url"]
        .as_str()
        .is_some_and(|u| u.ends_with("/metadata/identity/oauth2/token")));
    assert_commands_valid(&f);
    assert!(!output.contains("CANARY"), "{output}");
    // 2. `--auth auto` with nothing else configured: the endpoint's answer is the diagnosis,
    // and every source tried is listed.
    let env_auto = Env::new(&bed).fake_az(&bed, FakeAz::NotLoggedIn);
    let (f, _) = first_finding_json(&bed, &env_auto, &[]).await;
    assert_eq!(f["code"], "MANAGED_IDENTITY_NOT_FOUND", "{f:#}");
    // 3. A user-assigned client ID that is not attached (no fault needed).
    bed.clear_faults();
    let env_uami = Env::new(&bed).set("AZURE_CLIENT_ID", "0badc0de-0000-4000-8000-00000000c0de");
    let (f, _) = first_finding_json(&bed, &env_uami, &["--auth", "managed-identity"]).await;
    assert_eq!(f["code"], "MANAGED_IDENTITY_NOT_FOUND", "{f:#}");
    assert_eq!(
        f["evidence"]["requested_identity"]["client_id"],
        "0badc0de-0000-4000-8000-00000000c0de"
    );
    // 4. App Service's endpoint (IDENTITY_ENDPOINT), found by `--auth auto`.
    bed.set_fault(None, Fault::NoManagedIdentity);
    let env_app = Env::new(&bed).with(bed.identity_env());
    let (f, output) = first_finding_json(&bed, &env_app, &[]).await;
    assert_eq!(f["code"], "MANAGED_IDENTITY_NOT_FOUND", "{f:#}");
    assert_eq!(f["evidence"]["status"], 400);
    assert_eq!(
        f["evidence"]["endpoint_said"],
        "Unable to load the proper Managed Identity."
    );
    assert!(!output.contains(ids::IDENTITY_HEADER), "{output}");
    // 5. Nothing listens at the endpoint: no managed identity here at all.
    let env_off = Env::new(&bed).set("ACR_DOCTOR_IMDS_ENDPOINT", &closed_port_url());
    let (f, _) = first_finding_json(&bed, &env_off, &["--auth", "managed-identity"]).await;
    assert_eq!(f["code"], "AAD_CREDENTIAL_UNAVAILABLE", "{f:#}");
}

/// A token asked for the registry's URL instead of the registry audience is refused by Entra
/// with AADSTS500011: AAD_RESOURCE_INVALID, naming the resource asked for. The same when the
/// instance metadata endpoint passes Entra's refusal on.
#[tokio::test(flavor = "multi_thread")]
async fn registry_url_as_token_resource_is_aad_resource_invalid() {
    let bed = start().await;
    let registry_url = format!("https://{REG}.azurecr.io");
    let env = Env::new(&bed)
        .with(bed.sp_env())
        .set("ACR_DOCTOR_ACR_AUDIENCE", &registry_url);
    let (f, output) = first_finding_json(&bed, &env, &["--auth", "env"]).await;
    assert_eq!(f["code"], "AAD_RESOURCE_INVALID", "{f:#}");
    assert_eq!(f["evidence"]["aadsts"][0], 500011);
    assert_eq!(f["evidence"]["status"], 400);
    assert_eq!(f["evidence"]["error"], "invalid_resource");
    assert_eq!(f["evidence"]["requested_resource"], registry_url.as_str());
    assert_eq!(
        f["evidence"]["registry_audience"],
        "https://containerregistry.azure.net"
    );
    assert!(f["evidence"]["entra_said"]
        .as_str()
        .is_some_and(|s| s.contains(&registry_url)));
    assert_commands_valid(&f);
    assert!(!output.contains("CANARY"), "{output}");
    // Managed identity: the tenant lacks the registry audience's principal (a bed fault), and
    // the instance metadata endpoint answers with Entra's refusal.
    bed.set_fault(
        None,
        Fault::ResourcePrincipalMissing {
            resource: ids::ACR_AUDIENCE.into(),
        },
    );
    let env = Env::new(&bed);
    let (f, _) = first_finding_json(&bed, &env, &["--auth", "managed-identity"]).await;
    assert_eq!(f["code"], "AAD_RESOURCE_INVALID", "{f:#}");
    assert_eq!(f["evidence"]["error"], "invalid_resource");
    assert_eq!(
        f["evidence"]["requested_resource"],
        "https://containerregistry.azure.net"
    );
}
