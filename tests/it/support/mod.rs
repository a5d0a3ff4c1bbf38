//! Scaffolding shared by the integration tests (`use crate::support;` in each module of
//! `tests/it/`): starting test beds, argument lists and environments pointing at them, running
//! `check` in process, finding checks and findings in a report, temporary homes and the files
//! written into them, and running a test alone in a process of its own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use acr_doctor::cli::CheckArgs;
use acr_doctor::context::Context;
use acr_doctor::finding::Finding;
use acr_doctor::lang::Lang;
use acr_doctor::report::{CheckResult, Report, TimelineEntry};
use acr_doctor::CheckRun;
use acr_testbed::{ids, BedSpec, Principal, Registry, TestBed};
use base64::Engine;

/// The environment of one run.
pub type Vars = BTreeMap<String, String>;

/// `--auth basic` with the default service principal's application id and secret.
pub const SP_BASIC_AUTH: [&str; 6] = [
    "--auth",
    "basic",
    "--username",
    ids::SP_APP_ID,
    "--password",
    ids::SP_SECRET,
];

// ---------------------------------------------------------------------------------------------
// Test beds

/// A bed started from `spec`.
pub async fn start_bed(spec: BedSpec) -> TestBed {
    TestBed::start(spec).await.expect("test bed starts")
}

/// A bed with the defaults of `BedSpec::new()` (registry `contosoreg` behind a real
/// docker-registry, `sp` holding AcrPush on it).
pub async fn default_bed() -> TestBed {
    start_bed(BedSpec::new()).await
}

/// A bed whose registry `registry` has no docker-registry child: the bed checks registry tokens
/// itself. For tests that never go past `/v2/` and the token endpoints.
pub async fn bed_without_backend(registry: &str) -> TestBed {
    start_bed(BedSpec::new().registry(Registry::new(registry).real_backend(false))).await
}

// ---------------------------------------------------------------------------------------------
// Arguments

/// `bed.check_args(registry)` (name, login server, `--resolve`, CA file), then `extra`.
pub fn bed_args<S: AsRef<str>>(bed: &TestBed, registry: &str, extra: &[S]) -> Vec<String> {
    let mut argv = bed.check_args(registry);
    argv.extend(extra.iter().map(|s| s.as_ref().to_string()));
    argv
}

/// `check` options parsed from `argv` (without the program name and `check`).
pub fn parse_args<S: AsRef<str>>(argv: &[S]) -> CheckArgs {
    let refs: Vec<&str> = argv.iter().map(AsRef::as_ref).collect();
    acr_doctor::check_args(&refs).expect("arguments parse")
}

/// A context for direct calls to the bed's registry `registry` (its login server, `--resolve`
/// and CA file), with `env` as the environment.
pub fn bed_context(bed: &TestBed, registry: &str, env: Vars) -> Context {
    let args = parse_args(&bed.check_args(registry));
    Context::new(env, &args).expect("context")
}

/// The bed registry's login server, as `registry.login_server` validates it.
pub fn bed_login_server(bed: &TestBed, registry: &str) -> acr_doctor::checks::LoginServer {
    let authority = bed.login_server(registry);
    let (host, port) = authority
        .split_once(':')
        .expect("bed login server has a port");
    acr_doctor::checks::LoginServer {
        host: host.to_string(),
        port: port.parse().ok(),
        scheme: "https".into(),
        source: "flag".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Environments

/// A temporary directory to serve as HOME.
pub fn temp_home() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp home")
}

/// This process's PATH.
pub fn host_path() -> String {
    std::env::var("PATH").unwrap_or_default()
}

/// `home/bin`, created.
pub fn bin_dir(home: &Path) -> PathBuf {
    let bin = home.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    bin
}

/// The bed's endpoints (`bed.env()`), HOME at `home`, PATH as given and, with `sp`, the
/// default service principal's `AZURE_*` variables (`bed.sp_env()`).
pub fn bed_env(bed: &TestBed, home: &Path, path: &str, sp: bool) -> Vars {
    let mut env: Vars = bed.env().into_iter().collect();
    if sp {
        env.extend(bed.sp_env());
    }
    env.insert("HOME".into(), home.display().to_string());
    env.insert("PATH".into(), path.to_string());
    env
}

/// DOCKER_CONFIG and AZURE_CONFIG_DIR inside `home`.
pub fn set_config_dirs(env: &mut Vars, home: &Path) {
    env.insert(
        "DOCKER_CONFIG".into(),
        home.join(".docker").display().to_string(),
    );
    env.insert(
        "AZURE_CONFIG_DIR".into(),
        home.join(".azure").display().to_string(),
    );
}

/// The bed's endpoints, HOME at `home`, a PATH of `home/bin` (created) before the system's
/// `/usr/bin:/bin` (for `sh`), Docker's and the Azure CLI's configuration inside `home`, and no
/// credentials.
pub fn sandbox_env(bed: &TestBed, home: &Path) -> Vars {
    let path = format!("{}:/usr/bin:/bin", bin_dir(home).display());
    let mut env = bed_env(bed, home, &path, false);
    set_config_dirs(&mut env, home);
    env
}

/// The variables of a service principal signing in with the client certificate of fixture
/// `file`.
pub fn cert_env(file: &str) -> Vec<(String, String)> {
    vec![
        ("AZURE_TENANT_ID".into(), ids::TENANT.into()),
        ("AZURE_CLIENT_ID".into(), ids::SP_APP_ID.into()),
        ("AZURE_CLIENT_CERTIFICATE_PATH".into(), fixture(file)),
    ]
}

/// Changes the bed's default service principal.
pub fn edit_sp(bed: &TestBed, edit: impl FnOnce(&mut Principal)) {
    bed.with_state(|st| {
        if let Some(p) = st.principal_mut(ids::SP) {
            edit(p);
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Running `check`

/// Runs `check` in process on `target`, in English.
pub async fn run_check(args: &CheckArgs, target: &str, env: Vars) -> CheckRun {
    acr_doctor::run_check(args, target, env, Lang::En)
        .await
        .expect("run")
}

/// Parses `argv` and runs `check` on its first `--name`.
pub async fn run_argv<S: AsRef<str>>(argv: &[S], env: Vars) -> CheckRun {
    let args = parse_args(argv);
    let target = args.names.first().cloned().unwrap_or_default();
    run_check(&args, &target, env).await
}

/// The report of [`run_argv`].
pub async fn run_report<S: AsRef<str>>(argv: &[S], env: Vars) -> Report {
    run_argv(argv, env).await.report
}

// ---------------------------------------------------------------------------------------------
// Reading a report

/// A report, or a run that holds one.
pub trait HasReport {
    fn report(&self) -> &Report;
}

impl HasReport for Report {
    fn report(&self) -> &Report {
        self
    }
}

impl HasReport for CheckRun {
    fn report(&self) -> &Report {
        &self.report
    }
}

/// The check `id`; panics when it is not in the report.
pub fn check<'a, R: HasReport>(r: &'a R, id: &str) -> &'a CheckResult {
    find(&r.report().checks, &format!("check {id}"), |c| c.id == id)
}

/// The first finding of check `id`; panics when it has none.
pub fn finding<'a, R: HasReport>(r: &'a R, id: &str) -> &'a Finding {
    find(&r.report().findings, &format!("finding of {id}"), |f| {
        f.check == id
    })
}

/// The first finding with `code`; panics when there is none.
pub fn finding_with_code<'a, R: HasReport>(r: &'a R, code: &str) -> &'a Finding {
    find(&r.report().findings, code, |f| f.code == code)
}

/// The timeline entry of `kind`; panics when there is none.
pub fn timeline_entry<'a, R: HasReport>(r: &'a R, kind: &str) -> &'a TimelineEntry {
    find(&r.report().timeline, kind, |e| e.kind == kind)
}

/// The first of `items` that `pick` accepts; panics, showing them all, when there is none.
fn find<'a, T: std::fmt::Debug>(items: &'a [T], what: &str, pick: impl Fn(&T) -> bool) -> &'a T {
    items
        .iter()
        .find(|x| pick(x))
        .unwrap_or_else(|| panic!("no {what} in {items:#?}"))
}

/// The codes of every finding, in report order.
pub fn codes<R: HasReport>(r: &R) -> Vec<&str> {
    r.report()
        .findings
        .iter()
        .map(|f| f.code.as_str())
        .collect()
}

/// The code of the report's first finding; panics when there is none.
pub fn first_code<R: HasReport>(r: &R) -> &str {
    let report = r.report();
    report
        .findings
        .first()
        .map(|f| f.code.as_str())
        .unwrap_or_else(|| panic!("no finding: {:#?}", report.checks))
}

/// The codes of check `id`'s findings.
pub fn codes_of<R: HasReport>(r: &R, id: &str) -> Vec<String> {
    r.report()
        .findings
        .iter()
        .filter(|f| f.check == id)
        .map(|f| f.code.clone())
        .collect()
}

/// The report as JSON.
pub fn json(r: &Report) -> String {
    serde_json::to_string(r).expect("json")
}

/// `text` shows no secret of the bed (they all contain `CANARY`) and no whole JWT.
#[track_caller]
pub fn assert_no_secret(what: &str, text: &str) {
    let jwt = regex::Regex::new(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
        .expect("regex");
    assert!(!text.contains("CANARY"), "{what} shows a secret:\n{text}");
    assert!(!jwt.is_match(text), "{what} shows a whole JWT:\n{text}");
}

// ---------------------------------------------------------------------------------------------
// Files, credentials and tokens

/// The path of `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// The DER certificate of a PEM fixture (to register it on the bed's service principal).
pub fn fixture_der(name: &str) -> Vec<u8> {
    use rustls_pki_types::pem::PemObject;
    let pem = std::fs::read(fixture(name)).expect("fixture");
    rustls_pki_types::CertificateDer::pem_slice_iter(&pem)
        .next()
        .expect("cert")
        .expect("pem")
        .as_ref()
        .to_vec()
}

/// Writes `text` to `path`, creating its parent directories.
pub fn write_file(path: &Path, text: &str) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

pub fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// An executable `sh` script `dir/name` running `body`.
pub fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write script");
    make_executable(&p);
    p
}

/// Every file under `dir` with its bytes, to prove nothing was written. With `skip_symlinks`,
/// symbolic links (to programs that are not the test's) are left out.
pub fn snapshot(dir: &Path, skip_symlinks: bool) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, skip_symlinks: bool, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, skip_symlinks, out);
            } else if !(skip_symlinks && p.is_symlink()) {
                out.insert(p.clone(), std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, skip_symlinks, &mut out);
    out
}

pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The `auth` field of a Docker config entry: base64 of `user:pass`.
pub fn auth_b64(user: &str, pass: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
}

/// A Docker (or Podman) auth file with one `auths` entry for `server`.
pub fn auth_json(server: &str, user: &str, pass: &str) -> String {
    format!(
        r#"{{"auths":{{"{server}":{{"auth":"{}"}}}}}}"#,
        auth_b64(user, pass)
    )
}

/// An unsigned JWT shaped like an ACR refresh token for audience `aud`, expiring at `exp`.
pub fn acr_refresh_token(aud: &str, exp: i64) -> String {
    let header = b64url(br#"{"alg":"RS256","typ":"JWT"}"#);
    let payload = serde_json::json!({
        "iss": "Azure Container Registry", "aud": aud, "grant_type": "refresh_token",
        "iat": exp - 3 * 3600, "exp": exp, "tenant": ids::TENANT,
    });
    let payload = b64url(payload.to_string().as_bytes());
    format!("{header}.{payload}.{}", b64url(b"CANARY-signature-bytes"))
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Tests that need the whole process

/// Set in the child process of [`in_own_process`] to the test it runs.
const ALONE_VAR: &str = "ACR_DOCTOR_TEST_ALONE";

/// For a test that measures the whole process (its peak memory), which tests running beside it
/// on other threads of this binary would disturb: runs the test `name` (its full path,
/// `module::test`) alone in a child process of this test binary and returns `true` once it
/// passed there (panics when it failed or did not run); returns `false` in that child, where
/// the caller goes on with the test's body.
///
/// ```ignore
/// if support::in_own_process("hostile::enormous_body") { return; }
/// ```
#[track_caller]
pub fn in_own_process(name: &str) -> bool {
    if std::env::var(ALONE_VAR).as_deref() == Ok(name) {
        return false;
    }
    let exe = std::env::current_exe().expect("this test binary");
    let out = std::process::Command::new(exe)
        .args([name, "--exact", "--test-threads=1", "--nocapture"])
        .env(ALONE_VAR, name)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name}, alone in its own process, failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    true
}
