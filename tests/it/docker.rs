//! Docker environment checks against a real engine (scripts/test-dockerd.sh), fake credential
//! helpers written into temporary directories, and the test bed's real registry.
//!
//! Tests that need the engine read ACR_DOCTOR_TEST_DOCKER_HOST; without it they are skipped
//! with a message (and fail when CI is set).

use crate::support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use acr_doctor::catalogue::Code;
use acr_doctor::finding::Severity;
use acr_doctor::report::{CheckStatus, Report};
use acr_testbed::{ids, Fault, TestBed};
use base64::Engine;
use support::{
    acr_refresh_token, auth_json, check, codes_of, finding, json, now, run_report, timeline_entry,
};

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::Builder::new()
                .prefix("acr-doctor-docker-")
                .tempdir()
                .expect("tempdir"),
        }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn docker_dir(&self) -> PathBuf {
        self.path().join(".docker")
    }
    fn bin(&self) -> PathBuf {
        let b = self.path().join("bin");
        std::fs::create_dir_all(&b).expect("bin");
        b
    }
    fn write_config(&self, text: &str) -> PathBuf {
        let p = self.docker_dir().join("config.json");
        support::write_file(&p, text);
        p
    }
    /// An executable script in the home's bin directory (which goes first on PATH).
    fn script(&self, name: &str, body: &str) -> PathBuf {
        support::write_script(&self.bin(), name, body)
    }
    fn env(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let path = format!(
            "{}:{}",
            self.bin().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        env.insert("PATH".into(), path);
        env.insert("HOME".into(), self.path().display().to_string());
        env
    }
    /// [`Home::env`] with PATH holding only the home's bin: no program of the machine is found.
    fn bare_env(&self) -> BTreeMap<String, String> {
        let mut env = self.env();
        env.insert("PATH".into(), self.bin().display().to_string());
        env
    }
    /// Every file under the home with its bytes, to prove nothing was written.
    fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        support::snapshot(self.path(), false)
    }
}

/// `check --only docker.daemon` with the home's environment and `var` (DOCKER_HOST or
/// DOCKER_CONTEXT) set to `value`.
async fn run_daemon_check(home: &Home, var: &str, value: String) -> Report {
    let mut env = home.env();
    env.insert(var.into(), value);
    run_report(&["--name", "contosoreg", "--only", "docker.daemon"], env).await
}

/// `check --only docker.config,docker.credentials` on the bed's registry, plus `extra`.
async fn run_credentials(bed: &TestBed, home: &Home, extra: &[&str]) -> Report {
    let argv = support::bed_args(
        bed,
        ids::REGISTRY,
        &[extra, &["--only", "docker.config,docker.credentials"]].concat(),
    );
    run_report(&argv, home.env()).await
}

use support::default_bed as bed;

// ---------------------------------------------------------------------------------------------
// docker.daemon

#[tokio::test(flavor = "multi_thread")]
async fn running_daemon_is_reported_with_versions_and_source() {
    let Some(host) = acr_testbed::require_docker() else {
        return;
    };
    let home = Home::new();
    let r = run_daemon_check(&home, "DOCKER_HOST", host.clone()).await;
    let c = check(&r, "docker.daemon");
    assert_eq!(c.status, CheckStatus::Pass, "{c:#?}");
    assert_eq!(c.evidence["endpoint"], host.as_str());
    assert_eq!(c.evidence["endpoint_source"], "DOCKER_HOST");
    assert!(c.evidence["engine_version"]
        .as_str()
        .is_some_and(|v| !v.is_empty()));
    assert!(c.evidence["api_version"]
        .as_str()
        .is_some_and(|v| v.starts_with("1.")));
    assert!(c.evidence["os_arch"]
        .as_str()
        .is_some_and(|v| v.contains('/')));
    // The test daemon treats loopback registries as insecure, as every daemon does.
    assert!(c.evidence["insecure_registries"]
        .as_array()
        .is_some_and(|a| a.iter().any(|v| v == "127.0.0.0/8")));
    assert!(c.message.contains(&host), "{}", c.message);
    assert_eq!(
        r.environment
            .get("docker_endpoint")
            .and_then(|v| v.as_str()),
        Some(host.as_str())
    );
}

#[tokio::test]
async fn stopped_daemon_socket_without_listener_is_connection_refused() {
    let home = Home::new();
    let sock = home.path().join("dead.sock");
    // A socket file that nothing listens on any more: what a crashed daemon leaves behind.
    drop(std::os::unix::net::UnixListener::bind(&sock).expect("bind"));
    let r = run_daemon_check(&home, "DOCKER_HOST", format!("unix://{}", sock.display())).await;
    let c = check(&r, "docker.daemon");
    assert_eq!(c.status, CheckStatus::Fail);
    let f = &r.findings[0];
    assert_eq!(f.code, "DOCKER_DAEMON_ERROR");
    assert_eq!(f.evidence["problem"], "connection_refused");
    assert_eq!(c.evidence["endpoint"], format!("unix://{}", sock.display()));
    assert!(
        c.evidence["endpoint_source"]
            .as_str()
            .is_some_and(|s| s.contains("DOCKER_HOST")),
        "{:?}",
        c.evidence
    );
}

#[tokio::test]
async fn missing_socket_is_no_socket() {
    let home = Home::new();
    let sock = home.path().join("nothing-here.sock");
    let r = run_daemon_check(&home, "DOCKER_HOST", format!("unix://{}", sock.display())).await;
    let f = &r.findings[0];
    assert_eq!(f.code, "DOCKER_DAEMON_ERROR");
    assert_eq!(f.evidence["problem"], "no_socket");
    assert!(f.commands.iter().any(|c| c == "unset DOCKER_HOST"));
}

#[tokio::test]
async fn wrong_docker_host_tcp_is_refused_and_named() {
    let home = Home::new();
    // A port that was just free: nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let r = run_daemon_check(&home, "DOCKER_HOST", format!("tcp://127.0.0.1:{port}")).await;
    let f = &r.findings[0];
    assert_eq!(f.code, "DOCKER_DAEMON_ERROR");
    assert_eq!(f.evidence["problem"], "connection_refused");
    assert_eq!(f.evidence["endpoint_source"], "DOCKER_HOST");
    assert!(
        f.detail.contains(&format!("127.0.0.1:{port}")),
        "{}",
        f.detail
    );
}

/// Running as root, chmod cannot make a socket unreadable, so the permission case goes through
/// the classification of a simulated EACCES and the outcome built from it.
#[test]
fn permission_denied_on_socket_explains_the_docker_group() {
    use acr_doctor::checks::docker::{classify_connect_error, daemon_error, ConnectProblem};
    use acr_doctor::protocol::docker_context::{Endpoint, EndpointSource};
    let problem = classify_connect_error(&std::io::Error::from_raw_os_error(13));
    assert_eq!(problem, ConnectProblem::PermissionDenied);
    let args = acr_doctor::check_args(&["--name", "contosoreg"]).expect("args");
    let ctx = acr_doctor::context::Context::new(BTreeMap::new(), &args).expect("ctx");
    let endpoint = Endpoint {
        host: "unix:///var/run/docker.sock".into(),
        source: EndpointSource::Default,
        tls: false,
    };
    let o = acr_doctor::engine::CheckHarness::new(&ctx)
        .args(args)
        .with_cx(|cx| daemon_error(cx, &endpoint, "default", problem));
    assert_eq!(o.status, CheckStatus::Fail);
    let f = &o.findings[0];
    assert_eq!(f.code, Code::DOCKER_DAEMON_ERROR);
    assert!(f.detail.contains("/var/run/docker.sock"), "{}", f.detail);
    assert!(f.detail.contains("`docker` group"), "{}", f.detail);
    assert!(f
        .commands
        .iter()
        .any(|c| c == "sudo usermod -aG docker $USER"));
}

#[tokio::test]
async fn current_context_pointing_elsewhere_is_followed_and_named() {
    let home = Home::new();
    // docker.daemon needs docker.client; a docker command that answers at once keeps the
    // one-second bound below about the daemon, not about how fast the CLI starts on a busy
    // machine (the daemon is reached through the Engine API, not through this command).
    home.script("docker", "echo 'Docker version 28.2.2, build e6534b4'");
    // A listener that accepts and never answers: a context endpoint that does not respond.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    home.write_config(r#"{"auths":{},"currentContext":"elsewhere"}"#);
    let meta = acr_doctor::protocol::docker_context::meta_path(&home.docker_dir(), "elsewhere");
    std::fs::create_dir_all(meta.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &meta,
        format!(
            r#"{{"Name":"elsewhere","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"tcp://127.0.0.1:{port}","SkipTLSVerify":false}}}}}}"#
        ),
    )
    .expect("meta");
    let r = run_report(
        &[
            "--name",
            "contosoreg",
            "--only",
            "docker.daemon",
            "--timeout",
            "1",
        ],
        home.env(),
    )
    .await;
    let c = check(&r, "docker.daemon");
    assert_eq!(c.status, CheckStatus::Fail, "{c:#?}");
    assert_eq!(
        c.evidence["endpoint_source"],
        "context \"elsewhere\" (currentContext)"
    );
    assert_eq!(c.evidence["endpoint"], format!("tcp://127.0.0.1:{port}"));
    let f = &r.findings[0];
    assert_eq!(f.code, "DOCKER_DAEMON_ERROR");
    assert_eq!(f.evidence["problem"], "timeout");
    assert!(f.commands.iter().any(|c| c == "docker context use default"));
    drop(listener);

    // DOCKER_CONTEXT naming a context that does not exist.
    let r = run_daemon_check(&home, "DOCKER_CONTEXT", "ghost".into()).await;
    let f = &r.findings[0];
    assert_eq!(f.code, "DOCKER_DAEMON_ERROR");
    assert!(
        f.evidence["error"]
            .as_str()
            .is_some_and(|e| e.contains("ghost")),
        "{:?}",
        f.evidence
    );
    assert!(f.detail.contains("DOCKER_CONTEXT"), "{}", f.detail);
}

// ---------------------------------------------------------------------------------------------
// docker.config

#[tokio::test]
async fn malformed_config_is_a_warning_with_the_position() {
    let home = Home::new();
    let path = home.write_config("{\n  \"auths\": {,\n}\n");
    let r = run_report(
        &["--name", "contosoreg", "--only", "docker.config"],
        home.env(),
    )
    .await;
    let c = check(&r, "docker.config");
    assert_eq!(c.status, CheckStatus::Warn);
    let f = &r.findings[0];
    assert_eq!(f.code, "UNEXPECTED_ERROR");
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.evidence["line"], 2);
    assert_eq!(f.evidence["path"], path.display().to_string());
    assert_eq!(
        r.environment.get("docker_config").and_then(|v| v.as_str()),
        Some(path.display().to_string().as_str())
    );
}

#[tokio::test]
async fn missing_credential_helper_is_named() {
    let home = Home::new();
    let path =
        home.write_config(r#"{"auths":{"contosoreg.azurecr.io":{}},"credsStore":"desktop"}"#);
    // PATH holds only the home's bin: no docker-credential-desktop anywhere.
    let r = run_report(
        &["--name", "contosoreg", "--only", "docker.config"],
        home.bare_env(),
    )
    .await;
    let c = check(&r, "docker.config");
    assert_eq!(c.status, CheckStatus::Fail);
    let f = &r.findings[0];
    assert_eq!(f.code, "DOCKER_CREDENTIAL_HELPER_ERROR");
    assert!(
        f.detail.contains("docker-credential-desktop"),
        "{}",
        f.detail
    );
    assert_eq!(c.evidence["path"], path.display().to_string());
    assert_eq!(c.evidence["login_server"], "contosoreg.azurecr.io");
}

#[tokio::test]
async fn failing_credential_helper_reports_its_message() {
    let home = Home::new();
    home.write_config(r#"{"credHelpers":{"contosoreg.azurecr.io":"broken"}}"#);
    home.script(
        "docker-credential-broken",
        "read server\necho \"keyring locked for $server\"\nexit 1",
    );
    let r = run_report(
        &["--name", "contosoreg", "--only", "docker.config"],
        home.env(),
    )
    .await;
    let f = &r.findings[0];
    assert_eq!(f.code, "DOCKER_CREDENTIAL_HELPER_ERROR");
    assert!(
        f.evidence["error"]
            .as_str()
            .is_some_and(|e| e.contains("keyring locked for contosoreg.azurecr.io")),
        "{:?}",
        f.evidence
    );
}

#[tokio::test]
async fn helper_with_nothing_stored_passes() {
    let home = Home::new();
    home.write_config(r#"{"credsStore":"empty"}"#);
    home.script(
        "docker-credential-empty",
        "read server\necho 'credentials not found in native keychain'\nexit 1",
    );
    let r = run_report(
        &[
            "--name",
            "contosoreg",
            "--only",
            "docker.config,docker.credentials",
        ],
        home.env(),
    )
    .await;
    assert_eq!(check(&r, "docker.config").status, CheckStatus::Pass);
    assert_eq!(check(&r, "docker.credentials").status, CheckStatus::Info);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
}

#[tokio::test]
async fn helper_returning_an_expired_identity_token() {
    let home = Home::new();
    let store = home.path().join("helper-store.json");
    let token = acr_refresh_token("contosoreg.azurecr.io", now() - 2 * 3600);
    std::fs::write(
        &store,
        format!(
            r#"{{"ServerURL":"contosoreg.azurecr.io","Username":"<token>","Secret":"{token}"}}"#
        ),
    )
    .expect("store");
    home.write_config(r#"{"auths":{"contosoreg.azurecr.io":{}},"credsStore":"fake"}"#);
    home.script(
        "docker-credential-fake",
        &format!("read server\ncat '{}'", store.display()),
    );
    let before = home.snapshot();
    let r = run_report(
        &[
            "--name",
            "contosoreg",
            "--only",
            "docker.config,docker.credentials",
            "--login-server",
            "contosoreg.azurecr.io",
        ],
        home.env(),
    )
    .await;
    assert_eq!(check(&r, "docker.config").status, CheckStatus::Pass);
    assert_eq!(
        codes_of(&r, "docker.credentials"),
        vec!["DOCKER_STORED_TOKEN_EXPIRED"]
    );
    let t = timeline_entry(&r, "docker_identity_token");
    assert_eq!(t.state, "expired");
    assert!(t.remaining_s.is_some_and(|s| s < -3600));
    let text = json(&r);
    assert!(!text.contains(&token), "the token leaked");
    assert!(!text.contains("CANARY"), "a secret leaked: {text}");
    assert_eq!(before, home.snapshot(), "files changed");
}

// ---------------------------------------------------------------------------------------------
// docker.credentials against the bed's real registry

#[tokio::test(flavor = "multi_thread")]
async fn stale_stored_password_is_rejected_by_the_registry() {
    let bed = bed().await;
    let home = Home::new();
    let server = bed.login_server(ids::REGISTRY);
    home.write_config(&auth_json(
        &server,
        ids::SP_APP_ID,
        "CANARY-old-rotated-secret",
    ));
    let before = home.snapshot();
    let r = run_credentials(&bed, &home, &[]).await;
    assert_eq!(
        codes_of(&r, "docker.credentials"),
        vec!["DOCKER_STALE_CREDENTIALS"],
        "{:#?}",
        r.checks
    );
    let f = finding(&r, "docker.credentials");
    assert_eq!(f.commands, vec![format!("docker logout {server}")]);
    assert!(f.detail.contains("401"), "{}", f.detail);
    assert!(!json(&r).contains("CANARY"), "a secret leaked");
    assert_eq!(before, home.snapshot(), "files changed");

    // The current secret is accepted.
    home.write_config(&auth_json(&server, ids::SP_APP_ID, ids::SP_SECRET));
    let r = run_credentials(&bed, &home, &[]).await;
    assert_eq!(check(&r, "docker.credentials").status, CheckStatus::Pass);
    assert!(!json(&r).contains("CANARY"), "a secret leaked");
}

#[tokio::test(flavor = "multi_thread")]
async fn stored_identity_token_not_issued_by_the_registry_is_stale() {
    let bed = bed().await;
    let home = Home::new();
    let server = bed.login_server(ids::REGISTRY);
    let token = acr_refresh_token("contosoreg.azurecr.io", now() + 3600);
    home.write_config(&format!(
        r#"{{"auths":{{"{server}":{{"auth":"{}","identitytoken":"{token}"}}}}}}"#,
        base64::engine::general_purpose::STANDARD.encode(":")
    ));
    let r = run_credentials(&bed, &home, &[]).await;
    assert_eq!(
        codes_of(&r, "docker.credentials"),
        vec!["DOCKER_STALE_CREDENTIALS"],
        "{:#?}",
        r.checks
    );
    let t = timeline_entry(&r, "docker_identity_token");
    assert_eq!(t.state, "ok");
    assert!(!json(&r).contains(&token), "the token leaked");
}

#[tokio::test(flavor = "multi_thread")]
async fn stored_credentials_in_the_way_of_anonymous_pull() {
    let bed = bed().await;
    bed.set_fault(Some(ids::REGISTRY), Fault::AnonymousPull(true));
    let home = Home::new();
    let server = bed.login_server(ids::REGISTRY);
    home.write_config(&auth_json(&server, ids::SP_APP_ID, ids::SP_SECRET));
    let r = run_credentials(&bed, &home, &["--auth", "anonymous"]).await;
    assert_eq!(
        codes_of(&r, "docker.credentials"),
        vec!["DOCKER_STALE_CREDENTIALS"]
    );
    let f = &r.findings[0];
    assert!(f.detail.contains("anonymous"), "{}", f.detail);
    assert_eq!(f.commands, vec![format!("docker logout {server}")]);
}

// ---------------------------------------------------------------------------------------------
// helm and the docker client

#[tokio::test]
async fn helm_older_than_the_minimum_is_a_warning_and_absent_helm_is_not_a_finding() {
    let home = Home::new();
    home.script("helm", "echo 'v2.10.0+g9ad53aa'");
    let r = run_report(
        &["--name", "contosoreg", "--only", "helm.client"],
        home.env(),
    )
    .await;
    assert_eq!(check(&r, "helm.client").status, CheckStatus::Warn);
    assert_eq!(r.findings[0].code, "HELM_VERSION_ERROR");
    assert_eq!(r.findings[0].severity, Severity::Warning);

    let bare = Home::new();
    let r = run_report(
        &["--name", "contosoreg", "--only", "helm.client"],
        bare.bare_env(),
    )
    .await;
    assert_eq!(check(&r, "helm.client").status, CheckStatus::Info);
    assert!(r.findings.is_empty());
}

#[tokio::test]
async fn docker_client_missing_or_too_old() {
    let home = Home::new();
    let env = home.bare_env();
    let r = run_report(
        &["--name", "contosoreg", "--only", "docker.client"],
        env.clone(),
    )
    .await;
    assert_eq!(codes_of(&r, "docker.client"), vec!["DOCKER_COMMAND_ERROR"]);

    home.script("docker", "echo 'Docker version 17.12.1-ce, build 7390fc6'");
    let r = run_report(&["--name", "contosoreg", "--only", "docker.client"], env).await;
    assert_eq!(codes_of(&r, "docker.client"), vec!["DOCKER_VERSION_ERROR"]);
    assert_eq!(
        r.environment.get("docker_client").and_then(|v| v.as_str()),
        Some("17.12.1")
    );
}

// ---------------------------------------------------------------------------------------------
// docker.login through the real engine

#[tokio::test(flavor = "multi_thread")]
async fn daemon_side_login_succeeds_and_writes_nothing() {
    let Some(host) = acr_testbed::require_docker() else {
        return;
    };
    let bed = bed().await;
    let home = Home::new();
    // The daemon reaches the bed at 127.0.0.1:<port> (loopback: no certificate check by the
    // daemon); acr-doctor verifies the same listener with the bed's CA.
    let server = format!("127.0.0.1:{}", bed.registry_port());
    let store = home.path().join("helper-store.json");
    std::fs::write(&store, "credentials not found in native keychain").expect("store");
    home.write_config(r#"{"auths":{},"credsStore":"fake"}"#);
    home.script(
        "docker-credential-fake",
        &format!("read server\ncat '{}'\nexit 1", store.display()),
    );
    let mut env = home.env();
    env.insert("DOCKER_HOST".into(), host);
    let before = home.snapshot();
    let ca = bed.ca_file().display().to_string();
    let r = run_report(
        &[
            "--name",
            ids::REGISTRY,
            "--login-server",
            &server,
            "--ca-file",
            &ca,
            "--username",
            ids::SP_APP_ID,
            "--password",
            ids::SP_SECRET,
            "--docker-login",
            "--only",
            "docker",
        ],
        env,
    )
    .await;
    let c = check(&r, "docker.login");
    assert_eq!(c.status, CheckStatus::Pass, "{c:#?}\n{:#?}", r.findings);
    assert!(c.message.contains(&server), "{}", c.message);
    assert!(!json(&r).contains("CANARY"), "a secret leaked");
    assert_eq!(
        before,
        home.snapshot(),
        "the Docker config or store changed"
    );
}

/// A daemon whose proxy is not the CLI's: acr-doctor reaches the registry, the daemon cannot.
#[tokio::test(flavor = "multi_thread")]
async fn daemon_side_login_fails_through_the_daemons_own_proxy() {
    if acr_testbed::require_docker().is_none() {
        return;
    }
    let bed = bed().await;
    let server = bed.login_server(ids::REGISTRY);
    let dead_proxy = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let Some(daemon) = ProxyDaemon::start(&server, &format!("http://127.0.0.1:{dead_proxy}"))
    else {
        return;
    };
    let home = Home::new();
    let mut env = home.env();
    env.insert("DOCKER_HOST".into(), daemon.host());
    let args = support::bed_args(
        &bed,
        ids::REGISTRY,
        &[
            "--username",
            ids::SP_APP_ID,
            "--password",
            ids::SP_SECRET,
            "--docker-login",
            "--only",
            "docker.login",
        ],
    );
    let r = run_report(&args, env).await;
    drop(daemon);
    let c = check(&r, "docker.login");
    assert_eq!(c.status, CheckStatus::Fail, "{c:#?}");
    let f = finding(&r, "docker.login");
    assert_eq!(f.code, "DOCKER_PULL_ERROR");
    assert!(
        f.evidence["acr_doctor_view"]
            .as_str()
            .is_some_and(|v| v.contains("token challenge")),
        "{:?}",
        f.evidence
    );
    assert!(
        f.evidence["daemon_view"]
            .as_str()
            .is_some_and(|v| v.contains("proxy") || v.contains(&dead_proxy.to_string())),
        "{:?}",
        f.evidence
    );
    assert_eq!(
        f.evidence["daemon_proxies"]["https_proxy"],
        format!("http://127.0.0.1:{dead_proxy}")
    );
    assert!(!json(&r).contains("CANARY"), "a secret leaked");
}

/// A private dockerd with its own proxy settings, stopped on drop.
struct ProxyDaemon {
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl ProxyDaemon {
    fn start(insecure_registry: &str, proxy: &str) -> Option<ProxyDaemon> {
        let dockerd = ["/usr/sbin/dockerd", "/usr/bin/dockerd"]
            .into_iter()
            .find(|p| Path::new(p).exists())?;
        let dir = tempfile::Builder::new()
            .prefix("acrdd")
            .tempdir_in("/tmp")
            .ok()?;
        let d = dir.path();
        let child = std::process::Command::new(dockerd)
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--data-root",
                &d.join("data").display().to_string(),
                "--exec-root",
                &d.join("exec").display().to_string(),
                "--pidfile",
                &d.join("pid").display().to_string(),
                "--host",
                &format!("unix://{}", d.join("d.sock").display()),
                "--insecure-registry",
                insecure_registry,
            ])
            .env("HTTPS_PROXY", proxy)
            .env("HTTP_PROXY", proxy)
            .env_remove("NO_PROXY")
            .stdout(std::fs::File::create(d.join("log")).ok()?)
            .stderr(std::fs::File::create(d.join("err")).ok()?)
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) => {
                if std::env::var_os("CI").is_some() {
                    panic!("cannot start a second dockerd: {e}");
                }
                eprintln!("skipped: cannot start a second dockerd: {e}");
                return None;
            }
        };
        let daemon = ProxyDaemon { child, dir };
        for _ in 0..150 {
            let ok = std::process::Command::new("docker")
                .args(["-H", &daemon.host(), "version"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return Some(daemon);
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        let log = std::fs::read_to_string(daemon.dir.path().join("err")).unwrap_or_default();
        if std::env::var_os("CI").is_some() {
            panic!("second dockerd did not start: {log}");
        }
        eprintln!("skipped: second dockerd did not start: {log}");
        None
    }

    fn host(&self) -> String {
        format!("unix://{}", self.dir.path().join("d.sock").display())
    }
}

impl Drop for ProxyDaemon {
    fn drop(&mut self) {
        // SIGTERM lets dockerd stop its containerd; then reap it.
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A daemon that answers, but slowly: a warning, not a failure. (A stand-in engine on a unix
/// socket: the real one cannot be slowed down from a test.)
#[tokio::test(flavor = "multi_thread")]
async fn slow_daemon_is_a_warning() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let home = Home::new();
    let sock = home.path().join("slow.sock");
    let listener = tokio::net::UnixListener::bind(&sock).expect("bind");
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let mut path = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if path.is_empty() {
                        path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                        continue;
                    }
                    if !line.is_empty() {
                        continue;
                    }
                    let body = if path.ends_with("/_ping") {
                        tokio::time::sleep(std::time::Duration::from_millis(2300)).await;
                        "OK".to_string()
                    } else if path.ends_with("/version") {
                        r#"{"Version":"99.0.0","ApiVersion":"1.41","Os":"linux","Arch":"amd64"}"#
                            .to_string()
                    } else {
                        r#"{"HttpsProxy":"http://proxy.invalid:3128"}"#.to_string()
                    };
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    if write.write_all(head.as_bytes()).await.is_err()
                        || write.write_all(body.as_bytes()).await.is_err()
                    {
                        return;
                    }
                    path.clear();
                }
            });
        }
    });
    let r = run_daemon_check(&home, "DOCKER_HOST", format!("unix://{}", sock.display())).await;
    server.abort();
    let c = check(&r, "docker.daemon");
    assert_eq!(c.status, CheckStatus::Warn, "{c:#?}");
    let f = finding(&r, "docker.daemon");
    assert_eq!(f.code, "DOCKER_DAEMON_ERROR");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.evidence["ping_ms"].as_u64().is_some_and(|ms| ms >= 2000));
    assert_eq!(c.evidence["engine_version"], "99.0.0");
    assert_eq!(
        c.evidence["daemon_proxies"]["https_proxy"],
        "http://proxy.invalid:3128"
    );
    assert!(
        c.message.contains("daemon proxy http://proxy.invalid:3128"),
        "{}",
        c.message
    );
}

// ---------------------------------------------------------------------------------------------
// Keys the engine does not look up (issue 19): docker/cli matches `credHelpers` by the exact key
// and `auths` by the exact key, else by the key without scheme and path; letter case and port
// always count.

fn key_mismatches(r: &Report) -> Vec<(String, String, String, bool)> {
    let f = support::finding_with_code(r, "DOCKER_STALE_CREDENTIALS");
    f.evidence["key_mismatches"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    (
                        m["key"].as_str().unwrap_or("").to_string(),
                        m["store"].as_str().unwrap_or("").to_string(),
                        m["why"].as_str().unwrap_or("").to_string(),
                        m["used"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_under_keys_docker_does_not_look_up_are_reported_with_the_fix() {
    let bed = bed().await;
    let home = Home::new();
    let server = bed.login_server(ids::REGISTRY);
    let host_only = server.split(':').next().unwrap_or("").to_string();
    let cases: Vec<(String, &str)> = vec![
        (server.to_ascii_uppercase(), "letter_case"),
        (host_only.clone(), "port"),
        (ids::REGISTRY.to_string(), "resource_name"),
    ];
    for (key, why) in cases {
        home.write_config(&auth_json(&key, ids::SP_APP_ID, ids::SP_SECRET));
        let r = run_credentials(&bed, &home, &[]).await;
        let c = check(&r, "docker.config");
        assert_eq!(c.status, CheckStatus::Warn, "{key}: {c:?}");
        assert!(c.evidence.get("stored_username").is_none(), "{key}");
        assert_eq!(
            key_mismatches(&r),
            vec![(key.clone(), "auths".to_string(), why.to_string(), false)]
        );
        let f = support::finding_with_code(&r, "DOCKER_STALE_CREDENTIALS");
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(
            f.commands,
            vec![
                format!("docker logout '{key}'"),
                format!("docker login {server}")
            ]
        );
        assert!(!json(&r).contains("CANARY"), "a secret leaked");
    }

    // A scheme and `/v2/`: docker still finds it (its fallback for old keys), but `docker logout
    // <server>` does not remove it.
    let old_key = format!("https://{server}/v2/");
    home.write_config(&auth_json(&old_key, ids::SP_APP_ID, ids::SP_SECRET));
    let r = run_credentials(&bed, &home, &[]).await;
    assert_eq!(
        check(&r, "docker.config").evidence["stored_username"],
        ids::SP_APP_ID
    );
    assert_eq!(
        key_mismatches(&r),
        vec![(
            old_key.clone(),
            "auths".into(),
            "scheme_or_path".into(),
            true
        )]
    );
    assert!(support::finding_with_code(&r, "DOCKER_STALE_CREDENTIALS")
        .commands
        .contains(&format!("docker logout '{old_key}'")));
}

#[tokio::test(flavor = "multi_thread")]
async fn cred_helper_under_another_spelling_does_not_shadow_the_stored_entry() {
    let bed = bed().await;
    let home = Home::new();
    let server = bed.login_server(ids::REGISTRY);
    let helper_key = format!("https://{server}");
    let text = format!(
        r#"{{"auths":{{"{server}":{{"auth":"{}"}}}},"credHelpers":{{"{helper_key}":"absent-helper"}}}}"#,
        support::auth_b64(ids::SP_APP_ID, ids::SP_SECRET)
    );
    home.write_config(&text);
    let r = run_credentials(&bed, &home, &[]).await;
    // docker uses the auths entry: the helper is never asked.
    assert!(
        !codes_of(&r, "docker.config").contains(&"DOCKER_CREDENTIAL_HELPER_ERROR".to_string()),
        "{:#?}",
        r.findings
    );
    let c = check(&r, "docker.config");
    assert_eq!(c.evidence["stored_username"], ids::SP_APP_ID);
    assert_eq!(
        key_mismatches(&r),
        vec![(
            helper_key,
            "credHelpers".into(),
            "scheme_or_path".into(),
            false
        )]
    );
    let f = support::finding_with_code(&r, "DOCKER_STALE_CREDENTIALS");
    assert_eq!(f.severity, Severity::Info);
    // And the registry accepts it.
    assert_eq!(check(&r, "docker.credentials").status, CheckStatus::Pass);
}
