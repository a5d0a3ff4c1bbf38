//! Podman as the container engine: engine selection (`--engine`), Podman's API socket, its
//! credential files, and engine-side login through its Docker-compatible API.
//!
//! Tests that need a real Podman (Debian's `podman` package) start a private API service per
//! test with scripts/test-podman.sh: a temporary XDG_RUNTIME_DIR (the socket is where rootless
//! Podman puts it), `--root/--runroot` temporary directories and the vfs storage driver, so
//! nothing of the machine's Podman state is touched. Without podman on PATH they are skipped
//! with a message (and fail when CI is set). The others use fake `podman` / `docker` scripts.

use crate::support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use acr_doctor::report::{CheckStatus, Report};
use acr_testbed::{ids, BedSpec, TestBed};
use base64::Engine;
use support::{acr_refresh_token, auth_json, check, finding, json, run_report};

/// The real podman, or `None` with a printed skip reason; panics in CI.
fn require_podman() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("podman"))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => {
            panic!("CI is set but podman is not on PATH: install it (apt-get install -y podman)")
        }
        None => {
            eprintln!("skipped: podman is not installed (apt-get install -y podman)");
            None
        }
    }
}

/// `scripts/test-podman.sh <action> <dir>`.
fn podman_script(action: &str, dir: &Path) -> std::io::Result<std::process::Output> {
    Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-podman.sh"))
        .arg(action)
        .arg(dir)
        .output()
}

/// A temporary directory under /tmp: a short path keeps the sockets inside it within the
/// length limit of unix socket paths.
fn short_tempdir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .expect("tempdir")
}

/// A private Podman API service (scripts/test-podman.sh), stopped on drop.
struct Service {
    dir: tempfile::TempDir,
}

impl Service {
    fn start() -> Service {
        let dir = short_tempdir("acrd-pm-");
        let out = podman_script("start", dir.path()).expect("run test-podman.sh");
        assert!(
            out.status.success(),
            "test-podman.sh failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Service { dir }
    }
    fn xdg(&self) -> PathBuf {
        self.dir.path().join("xdg")
    }
    fn socket(&self) -> String {
        format!("unix://{}/podman/podman.sock", self.xdg().display())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = podman_script("stop", self.dir.path());
    }
}

/// A temporary HOME with its own bin directory (the only PATH entry) and XDG_RUNTIME_DIR.
struct Home {
    dir: tempfile::TempDir,
    xdg: PathBuf,
}

impl Home {
    fn new() -> Home {
        let dir = short_tempdir("acrd-ph-");
        let xdg = dir.path().join("xdg");
        std::fs::create_dir_all(&xdg).expect("xdg");
        std::fs::create_dir_all(dir.path().join("bin")).expect("bin");
        Home { dir, xdg }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn bin(&self) -> PathBuf {
        self.path().join("bin")
    }
    fn script(&self, name: &str, body: &str) {
        support::write_script(&self.bin(), name, body);
    }
    fn link_podman(&self, real: &Path) {
        std::os::unix::fs::symlink(real, self.bin().join("podman")).expect("symlink");
    }
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path().join(rel);
        support::write_file(&p, text);
        p
    }
    /// PATH is the home's bin only, so the machine's docker and podman are not found.
    fn env(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        env.insert("PATH".into(), self.bin().display().to_string());
        env.insert("HOME".into(), self.path().display().to_string());
        env.insert("XDG_RUNTIME_DIR".into(), self.xdg.display().to_string());
        env
    }
    /// Every file under the home with its bytes (not the link to the real podman).
    fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        support::snapshot(self.path(), true)
    }
}

/// `check --name contosoreg <extra> --only docker.client,docker.daemon`.
async fn run_engine(extra: &[&str], env: BTreeMap<String, String>) -> Report {
    let argv = [
        &["--name", "contosoreg"][..],
        extra,
        &["--only", "docker.client,docker.daemon"],
    ]
    .concat();
    run_report(&argv, env).await
}

/// `check --engine podman --only docker.config,docker.credentials` on the bed's registry.
fn podman_credentials_args(bed: &TestBed) -> Vec<String> {
    support::bed_args(
        bed,
        ids::REGISTRY,
        &[
            "--engine",
            "podman",
            "--only",
            "docker.config,docker.credentials",
        ],
    )
}

const PODMAN_SCRIPT: &str = "echo 'podman version 4.3.1'";
const DOCKER_SCRIPT: &str = "echo 'Docker version 28.2.2, build e6534b4'";

// ---------------------------------------------------------------------------------------------
// Engine found and healthy (real Podman)

#[tokio::test(flavor = "multi_thread")]
async fn podman_found_and_its_api_socket_answers() {
    let Some(podman) = require_podman() else {
        return;
    };
    let svc = Service::start();
    let home = Home::new();
    home.link_podman(&podman);
    let mut env = home.env();
    // The socket is found where rootless Podman puts it: $XDG_RUNTIME_DIR/podman/podman.sock.
    env.insert("XDG_RUNTIME_DIR".into(), svc.xdg().display().to_string());
    let r = run_engine(&[], env).await;
    let c = check(&r, "docker.client");
    assert_eq!(c.status, CheckStatus::Pass, "{c:#?}");
    assert_eq!(c.evidence["engine"], "podman");
    let why = c.evidence["engine_reason"].as_str().expect("reason");
    assert!(
        why.starts_with("auto:") && why.contains("podman found"),
        "{why}"
    );

    let d = check(&r, "docker.daemon");
    assert_eq!(d.status, CheckStatus::Pass, "{d:#?}");
    assert_eq!(d.evidence["endpoint"], svc.socket().as_str());
    assert_eq!(
        d.evidence["endpoint_source"],
        "rootless socket in $XDG_RUNTIME_DIR"
    );
    assert_eq!(d.evidence["engine"], "podman");
    let version = d.evidence["engine_version"].as_str().expect("version");
    assert!(
        version.starts_with(|c: char| c.is_ascii_digit()),
        "{version}"
    );
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert_eq!(
        r.environment
            .get("docker_endpoint")
            .and_then(|v| v.as_str()),
        Some(svc.socket().as_str())
    );
}

// ---------------------------------------------------------------------------------------------
// No engine at all

#[tokio::test]
async fn no_engine_at_all_is_a_command_error_naming_both() {
    let home = Home::new();
    let mut env = home.env();
    // Point both engines' endpoints nowhere so that the machine's own sockets are not found.
    let none = home.path().join("none.sock").display().to_string();
    env.insert("DOCKER_HOST".into(), format!("unix://{none}"));
    env.insert("CONTAINER_HOST".into(), format!("unix://{none}"));
    let r = run_engine(&[], env.clone()).await;
    let c = check(&r, "docker.client");
    assert_eq!(c.status, CheckStatus::Fail);
    assert_eq!(c.evidence["engine"], "docker");
    assert!(c.evidence["engine_reason"]
        .as_str()
        .is_some_and(|w| w.contains("neither docker nor podman")));
    let f = finding(&r, "docker.client");
    assert_eq!(f.code, "DOCKER_COMMAND_ERROR");
    assert_eq!(check(&r, "docker.daemon").status, CheckStatus::Skip);
    assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);

    // Pinned to podman: the missing podman is named, and nothing else is reported.
    let r = run_engine(&["--engine", "podman"], env).await;
    let f = finding(&r, "docker.client");
    assert_eq!(f.code, "DOCKER_COMMAND_ERROR");
    let c = check(&r, "docker.client");
    assert_eq!(c.evidence["engine"], "podman", "{c:#?}");
    assert_eq!(c.evidence["engine_reason"], "--engine podman", "{c:#?}");
    assert_eq!(check(&r, "docker.daemon").status, CheckStatus::Skip);
}

// ---------------------------------------------------------------------------------------------
// --engine pinning and auto selection

#[tokio::test]
async fn engine_flag_pins_the_engine_and_auto_prefers_docker() {
    let home = Home::new();
    home.script("docker", DOCKER_SCRIPT);
    home.script("podman", PODMAN_SCRIPT);
    let argv = |engine: &'static str| {
        vec![
            "--name",
            "contosoreg",
            "--engine",
            engine,
            "--only",
            "docker.client",
        ]
    };
    let r = run_report(&argv("auto"), home.env()).await;
    let c = check(&r, "docker.client");
    assert_eq!(c.evidence["engine"], "docker", "{c:#?}");
    assert!(c.evidence["engine_reason"]
        .as_str()
        .is_some_and(|w| w.contains("docker CLI was found")));
    assert!(
        c.evidence["version"]
            .as_str()
            .is_some_and(|v| v.contains("28.2.2")),
        "{c:#?}"
    );

    let r = run_report(&argv("podman"), home.env()).await;
    let c = check(&r, "docker.client");
    assert_eq!(c.status, CheckStatus::Pass, "{c:#?}");
    assert_eq!(c.evidence["engine"], "podman");
    assert_eq!(c.evidence["engine_reason"], "--engine podman");
    assert!(
        c.evidence["version"]
            .as_str()
            .is_some_and(|v| v.contains("4.3.1")),
        "{c:#?}"
    );

    // Only podman installed: auto picks it, a pinned docker is reported missing.
    std::fs::remove_file(home.bin().join("docker")).expect("rm");
    let r = run_report(&argv("auto"), home.env()).await;
    assert_eq!(check(&r, "docker.client").evidence["engine"], "podman");
    let r = run_report(&argv("docker"), home.env()).await;
    let f = finding(&r, "docker.client");
    assert_eq!(f.code, "DOCKER_COMMAND_ERROR");
    assert_eq!(
        check(&r, "docker.client").evidence["engine_reason"],
        "--engine docker"
    );
    assert!(
        f.solution.iter().any(|s| s.contains("--engine podman")),
        "{:?}",
        f.solution
    );

    // Podman's docker emulation (podman-docker) counts as podman.
    std::fs::remove_file(home.bin().join("podman")).expect("rm");
    home.script(
        "docker",
        &format!(
            "[ -e /etc/containers/nodocker ] || echo 'Emulate Docker CLI using podman.' >&2\nexec {} \"$@\"",
            home.bin().join("podman-real").display()
        ),
    );
    home.script("podman-real", PODMAN_SCRIPT);
    let r = run_report(&argv("auto"), home.env()).await;
    let c = check(&r, "docker.client");
    assert_eq!(c.evidence["engine"], "podman", "{c:#?}");
    assert!(c.evidence["engine_reason"]
        .as_str()
        .is_some_and(|w| w.contains("emulation")));
    assert_eq!(c.status, CheckStatus::Pass, "{c:#?}");
}

#[tokio::test]
async fn podman_api_socket_missing() {
    let home = Home::new();
    home.script("podman", PODMAN_SCRIPT);
    // CONTAINER_HOST makes podman remote: a socket that is not there is an error.
    let mut env = home.env();
    let none = format!("unix://{}/gone.sock", home.path().display());
    env.insert("CONTAINER_HOST".into(), none.clone());
    let r = run_engine(&[], env).await;
    let d = check(&r, "docker.daemon");
    assert_eq!(d.status, CheckStatus::Fail, "{d:#?}");
    assert_eq!(d.evidence["endpoint_source"], "CONTAINER_HOST");
    let f = finding(&r, "docker.daemon");
    assert_eq!(f.code, "DOCKER_DAEMON_ERROR");
    assert_eq!(d.evidence["engine"], "podman", "{d:#?}");
    assert!(f.commands.contains(&"unset CONTAINER_HOST".to_string()));

    // No service in $XDG_RUNTIME_DIR: podman works without it, so this is information, unless
    // --docker-login needs the service. (Only when the machine has no rootful Podman socket.)
    if Path::new("/run/podman/podman.sock").exists() {
        return;
    }
    let r = run_engine(&[], home.env()).await;
    let d = check(&r, "docker.daemon");
    assert_eq!(d.status, CheckStatus::Info, "{d:#?}");
    assert!(
        d.message.contains("systemctl --user start podman.socket"),
        "{}",
        d.message
    );
    assert!(r.findings.is_empty());
    let r = run_engine(&["--docker-login"], home.env()).await;
    let f = finding(&r, "docker.daemon");
    assert_eq!(f.code, "DOCKER_DAEMON_ERROR");
    assert_eq!(f.commands, vec!["systemctl --user start podman.socket"]);
}

// ---------------------------------------------------------------------------------------------
// Podman's credential files against the bed's registry

/// What the real podman says it would log in with (`podman login --get-login`), with private
/// storage so nothing of the machine is touched.
fn podman_get_login(podman: &Path, env: &BTreeMap<String, String>, server: &str) -> String {
    let scratch = tempfile::tempdir().expect("tmp");
    let out = Command::new(podman)
        .env_clear()
        .envs(env)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["--root"])
        .arg(scratch.path().join("root"))
        .arg("--runroot")
        .arg(scratch.path().join("runroot"))
        .args(["--storage-driver", "vfs", "--tmpdir"])
        .arg(scratch.path().join("tmp"))
        .args(["login", "--get-login", server])
        .output()
        .expect("podman");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_password_in_podmans_auth_json_is_found_in_podmans_order() {
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    let home = Home::new();
    let server = bed.login_server(ids::REGISTRY);
    // The runtime file (what `podman login` writes) shadows the good one in ~/.config.
    let runtime = home.write(
        "xdg/containers/auth.json",
        &auth_json(&server, "stale-user", "CANARY-old-rotated-secret"),
    );
    let config = home.write(
        ".config/containers/auth.json",
        &auth_json(&server, ids::SP_APP_ID, ids::SP_SECRET),
    );
    let before = home.snapshot();
    let args = podman_credentials_args(&bed);
    let r = run_report(&args, home.env()).await;
    let c = check(&r, "docker.config");
    assert_eq!(c.evidence["path"], runtime.display().to_string().as_str());
    assert_eq!(c.evidence["origin"], "$XDG_RUNTIME_DIR");
    assert_eq!(c.evidence["stored_username"], "stale-user");
    let f = finding(&r, "docker.credentials");
    assert_eq!(f.code, "DOCKER_STALE_CREDENTIALS");
    assert_eq!(f.commands, vec![format!("podman logout {server}")]);
    assert!(f.detail.contains("401"), "{}", f.detail);
    assert!(!json(&r).contains("CANARY"), "a secret leaked");
    assert_eq!(before, home.snapshot(), "files changed");
    if let Some(podman) = require_podman() {
        // Podman itself agrees on which file it uses.
        assert_eq!(
            podman_get_login(&podman, &home.env(), &server),
            "stale-user"
        );
    }

    // Without the runtime file, ~/.config/containers/auth.json is used: it is accepted.
    std::fs::remove_file(&runtime).expect("rm");
    let r = run_report(&args, home.env()).await;
    assert_eq!(
        check(&r, "docker.config").evidence["path"],
        config.display().to_string().as_str()
    );
    assert_eq!(check(&r, "docker.credentials").status, CheckStatus::Pass);

    // REGISTRY_AUTH_FILE replaces every other file; a stale entry there is logged out of that
    // file.
    let custom = home.write(
        "custom/auth.json",
        &auth_json(&server, "other-user", "CANARY-old-2"),
    );
    let mut env = home.env();
    env.insert("REGISTRY_AUTH_FILE".into(), custom.display().to_string());
    let r = run_report(&args, env.clone()).await;
    assert_eq!(
        check(&r, "docker.config").evidence["origin"],
        "REGISTRY_AUTH_FILE"
    );
    let f = finding(&r, "docker.credentials");
    assert_eq!(f.code, "DOCKER_STALE_CREDENTIALS");
    assert_eq!(f.commands, vec![format!("podman logout {server}")]);
    if let Some(podman) = require_podman() {
        assert_eq!(podman_get_login(&podman, &env, &server), "other-user");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_token_in_the_docker_config_read_by_podman() {
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    let home = Home::new();
    let server = bed.login_server(ids::REGISTRY);
    let token = acr_refresh_token("contosoreg.azurecr.io", support::now() - 7200);
    let docker_config = home.write(
        ".docker/config.json",
        &format!(
            r#"{{"auths":{{"{server}":{{"auth":"{}","identitytoken":"{token}"}}}},"credsStore":"desktop"}}"#,
            base64::engine::general_purpose::STANDARD.encode(":")
        ),
    );
    let r = run_report(&podman_credentials_args(&bed), home.env()).await;
    // Podman ignores credsStore: the auths entry is what it uses.
    let c = check(&r, "docker.config");
    assert_eq!(c.status, CheckStatus::Pass, "{c:#?}");
    assert_eq!(
        c.evidence["path"],
        docker_config.display().to_string().as_str()
    );
    let f = finding(&r, "docker.credentials");
    assert_eq!(f.code, "DOCKER_STORED_TOKEN_EXPIRED");
    assert_eq!(
        f.commands[0],
        format!(
            "podman logout --authfile {} {server}",
            docker_config.display()
        )
    );
    assert!(f.commands[1].contains("| podman login"), "{:?}", f.commands);
    assert!(!json(&r).contains(&token), "the token leaked");
}

// ---------------------------------------------------------------------------------------------
// Engine-side login through Podman's compat API (POST /auth)

#[tokio::test(flavor = "multi_thread")]
async fn engine_side_login_through_the_podman_service() {
    let Some(podman) = require_podman() else {
        return;
    };
    let svc = Service::start();
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    let home = Home::new();
    home.link_podman(&podman);
    let mut env = home.env();
    env.insert("XDG_RUNTIME_DIR".into(), svc.xdg().display().to_string());
    // Podman's /auth verifies TLS except for `localhost:` servers, which it treats as local
    // testing; acr-doctor verifies the same listener with the bed's CA.
    let server = format!("localhost:{}", bed.registry_port());
    let ca = bed.ca_file().display().to_string();
    let before = home.snapshot();
    let svc_auth = svc.xdg().join("containers/auth.json");
    let argv = |password: &'static str| {
        vec![
            "--name".to_string(),
            ids::REGISTRY.to_string(),
            "--login-server".into(),
            server.clone(),
            "--ca-file".into(),
            ca.clone(),
            "--username".into(),
            ids::SP_APP_ID.into(),
            "--password".into(),
            password.into(),
            "--docker-login".into(),
            "--only".into(),
            "docker.client,docker.daemon,docker.login".into(),
        ]
    };
    let r = run_report(&argv(ids::SP_SECRET), env.clone()).await;
    let c = check(&r, "docker.login");
    assert_eq!(c.status, CheckStatus::Pass, "{c:#?}\n{:#?}", r.findings);
    assert!(c.message.contains("Podman service"), "{}", c.message);
    assert!(c.message.contains(&server), "{}", c.message);
    assert_eq!(c.evidence["engine"], "podman");

    // A wrong password: the service reached the registry, which rejected it.
    let r = run_report(&argv("CANARY-wrong-password"), env).await;
    let c = check(&r, "docker.login");
    assert_eq!(c.status, CheckStatus::Info, "{c:#?}");
    assert!(c.message.contains("rejected"), "{}", c.message);
    assert!(!json(&r).contains("CANARY"), "a secret leaked");
    assert_eq!(before, home.snapshot(), "files changed");
    assert!(!svc_auth.exists(), "the service wrote an auth file");
}

/// Podman matches auth.json keys with letter case and port; a key in another spelling is
/// reported with the exact fix for that file.
#[tokio::test(flavor = "multi_thread")]
async fn podman_auth_file_key_in_another_spelling_is_reported() {
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    let home = Home::new();
    let server = bed.login_server(ids::REGISTRY);
    let key = server.to_ascii_uppercase();
    let custom = home.write(
        "custom/auth.json",
        &auth_json(&key, ids::SP_APP_ID, ids::SP_SECRET),
    );
    let mut env = home.env();
    env.insert("REGISTRY_AUTH_FILE".into(), custom.display().to_string());
    let r = run_report(&podman_credentials_args(&bed), env).await;
    let f = support::finding_with_code(&r, "DOCKER_STALE_CREDENTIALS");
    assert_eq!(f.check, "docker.config");
    assert_eq!(f.evidence["key_mismatches"][0]["key"], key.as_str());
    assert_eq!(f.evidence["key_mismatches"][0]["why"], "letter_case");
    assert_eq!(
        f.commands,
        vec![
            format!("podman logout --authfile {} '{key}'", custom.display()),
            format!("podman login {server}")
        ]
    );
    assert!(!json(&r).contains("CANARY"), "a secret leaked");
}
