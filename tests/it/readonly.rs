//! acr-doctor only reads: after a run, whatever the output format and the credential source,
//! the Docker config directory (config.json and a credential helper's store), the Azure CLI's
//! directory and the registry's contents are unchanged byte for byte, and the bed saw no
//! request that writes (a completed blob or manifest upload, a manifest or blob deletion, an
//! ARM or Graph change). Starting an upload and cancelling it (the push probe) is allowed.
//!
//! Each run goes through the real binary with `--verbose`, so the same runs also prove that no
//! output (stdout or stderr, every format) shows a secret of the bed (they all contain `CANARY`).

use crate::support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use acr_testbed::{ids, BedSpec, FakeAz, LoggedRequest, Scope, TestBed};
use support::{assert_no_secret, write_file};

const REG: &str = "contosoreg";
const REPO: &str = "app";
const FORMATS: [&str; 4] = ["human", "json", "markdown", "github"];
const BOUND: Duration = Duration::from_secs(90);

/// Every file under `dir`: relative path -> bytes (and, on Unix, the permission bits).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, (Vec<u8>, u32)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            #[cfg(unix)]
            let mode = {
                use std::os::unix::fs::PermissionsExt;
                meta.permissions().mode()
            };
            #[cfg(not(unix))]
            let mode = 0;
            if meta.is_dir() {
                out.insert(rel.join(""), (Vec::new(), mode));
                walk(root, &path, out);
            } else {
                out.insert(rel, (std::fs::read(&path).unwrap_or_default(), mode));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[track_caller]
fn assert_same(
    what: &str,
    before: &BTreeMap<PathBuf, (Vec<u8>, u32)>,
    after: &BTreeMap<PathBuf, (Vec<u8>, u32)>,
) {
    let added: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    let removed: Vec<_> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    let changed: Vec<_> = before
        .iter()
        .filter(|(k, v)| after.get(*k).is_some_and(|a| a != *v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        added.is_empty() && removed.is_empty() && changed.is_empty(),
        "{what} changed: added {added:?}, removed {removed:?}, modified {changed:?}"
    );
}

/// A user's home: `~/.docker` (config.json naming a credential helper, the helper's store
/// file), `~/.azure` (CLI profile, config, token cache), and `~/bin` with the fake `az` and
/// the fake `docker-credential-fake`.
struct Home {
    dir: tempfile::TempDir,
    /// Where the credential helper logs its calls (outside the snapshot).
    helper_log: PathBuf,
}

impl Home {
    fn docker(&self) -> PathBuf {
        self.dir.path().join(".docker")
    }
    fn azure(&self) -> PathBuf {
        self.dir.path().join(".azure")
    }
    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }
}

fn home(bed: &TestBed) -> Home {
    let dir = tempfile::tempdir().expect("home");
    let helper_log = dir.path().with_extension("helper.log");
    let login = bed.login_server(REG);
    let host = login.split(':').next().unwrap_or(&login).to_string();
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            ids::SP_APP_ID,
            ids::SP_SECRET
        ))
    };
    let h = Home {
        dir,
        helper_log: helper_log.clone(),
    };
    write_file(
        &h.docker().join("config.json"),
        &serde_json::to_string_pretty(&serde_json::json!({
            "auths": {
                login.clone(): {"auth": basic},
                "other.azurecr.io": {"auth": basic, "identitytoken": "CANARY-OTHER-IDENTITY-TOKEN"},
            },
            "credHelpers": { host.clone(): "fake", "helper.azurecr.io": "fake" },
            "currentContext": "default",
            "psFormat": "table {{.ID}}",
        }))
        .expect("json"),
    );
    let store = serde_json::json!({
        login.clone(): {"Username": ids::SP_APP_ID, "Secret": ids::SP_SECRET},
        host.clone(): {"Username": ids::SP_APP_ID, "Secret": ids::SP_SECRET},
    });
    let store_path = h.docker().join("fake-helper-store.json");
    write_file(
        &store_path,
        &serde_json::to_string_pretty(&store).expect("json"),
    );
    // The helper answers `get` from its store; `store`/`erase` rewrite the store (which the
    // snapshot would catch) and `list` prints it.
    let helper = format!(
        r#"#!/bin/sh
STORE='{store}'
echo "$1" >> '{log}'
case "$1" in
  get)
    read server
    case "$server" in
      *{host}*) printf '{{"ServerURL":"%s","Username":"{user}","Secret":"{secret}"}}\n' "$server" ;;
      *) echo "credentials not found in native keychain"; exit 1 ;;
    esac ;;
  list) cat "$STORE" ;;
  store|erase) cat > "$STORE.new"; mv "$STORE.new" "$STORE" ;;
  *) exit 1 ;;
esac
"#,
        store = store_path.display(),
        log = helper_log.display(),
        host = host,
        user = ids::SP_APP_ID,
        secret = ids::SP_SECRET,
    );
    let helper_path = h.bin().join("docker-credential-fake");
    write_file(&helper_path, &helper);
    support::make_executable(&helper_path);
    write_file(
        &h.azure().join("config"),
        "[cloud]\nname = AzureCloud\n\n[core]\noutput = json\ncollect_telemetry = no\n",
    );
    write_file(
        &h.azure().join("azureProfile.json"),
        &serde_json::to_string_pretty(&serde_json::json!({
            "installationId": "0b1ec700-0000-4000-8000-0000000000ff",
            "subscriptions": [{
                "id": ids::SUBSCRIPTION, "name": ids::SUBSCRIPTION_NAME, "state": "Enabled",
                "tenantId": ids::TENANT, "isDefault": true, "environmentName": "AzureCloud",
                "user": {"name": ids::USER_UPN, "type": "user"}
            }]
        }))
        .expect("json"),
    );
    write_file(
        &h.azure().join("msal_token_cache.json"),
        r#"{"AccessToken": {"x": {"secret": "CANARY-MSAL-CACHED-TOKEN", "credential_type": "AccessToken"}}, "RefreshToken": {}}"#,
    );
    write_file(&h.azure().join("clouds.config"), "[AzureCloud]\n");
    std::fs::create_dir_all(h.azure().join("commands")).expect("mkdir");
    bed.fake_az(&h.bin(), FakeAz::LoggedInAs(ids::SP.into()));
    h
}

/// What a credential source needs: extra arguments and environment.
fn source(bed: &TestBed, name: &str) -> (Vec<String>, Vec<(String, String)>) {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match name {
        "env" => (s(&["--auth", "env"]), bed.sp_env()),
        "cli" => (s(&["--auth", "cli"]), Vec::new()),
        "managed-identity" => (s(&["--auth", "managed-identity"]), bed.identity_env()),
        "basic" => (s(&support::SP_BASIC_AUTH), Vec::new()),
        "anonymous" => (s(&["--auth", "anonymous"]), Vec::new()),
        "docker-config" => (s(&["--auth", "docker-config"]), Vec::new()),
        other => panic!("unknown source {other}"),
    }
}

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn run_binary(bed: &TestBed, home: &Home, src: &str, format: &str) -> Output {
    run_binary_with(bed, home, src, format, &[]).await
}

async fn run_binary_with(
    bed: &TestBed,
    home: &Home,
    src: &str,
    format: &str,
    more: &[String],
) -> Output {
    let (mut extra_args, extra_env) = source(bed, src);
    extra_args.extend(more.iter().cloned());
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_acr-doctor"));
    cmd.arg("--output")
        .arg(format)
        .arg("check")
        .args(bed.check_args(REG))
        .args([
            "--repository",
            REPO,
            "--need",
            "pull,push",
            "--timeout",
            "5",
            "--verbose",
        ])
        .args(&extra_args)
        .env_clear()
        .envs(bed.env())
        .envs(extra_env)
        .env("HOME", home.dir.path())
        .env("DOCKER_CONFIG", home.docker())
        .env("AZURE_CONFIG_DIR", home.azure())
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", home.bin().display()),
        )
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(BOUND, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{src}/{format}: no end within {BOUND:?}"))
        .expect("the binary runs");
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The registry as the real registry serves it: catalog, tags and the manifest of every tag.
async fn registry_contents(bed: &TestBed) -> Vec<(String, u16, String)> {
    let ctx = support::bed_context(bed, REG, support::Vars::new());
    let token = bed.acr_access_token(
        REG,
        &[
            ("registry", "catalog", &["*"]),
            ("repository", REPO, &["pull", "metadata_read"]),
        ],
    );
    let base = format!("https://{}", bed.login_server(REG));
    let mut out = Vec::new();
    let mut paths = vec!["/v2/_catalog".to_string(), format!("/v2/{REPO}/tags/list")];
    for tag in ["v1", "v2"] {
        paths.push(format!("/v2/{REPO}/manifests/{tag}"));
    }
    for path in paths {
        let req = ctx
            .http()
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .header(
                "accept",
                "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
            );
        let server = support::bed_login_server(bed, REG);
        let resp = ctx
            .send_credential(acr_doctor::trust::Carry::Registry(&server), req)
            .await
            .expect("registry answers");
        let digest = resp
            .header("docker-content-digest")
            .unwrap_or("")
            .to_string();
        out.push((path, resp.status, format!("{digest} {}", resp.text())));
    }
    out
}

/// Requests that change something, or could: on the registry's API anything but GET and HEAD.
fn writes(log: &[LoggedRequest]) -> Vec<&LoggedRequest> {
    log.iter()
        .filter(|r| {
            let m = r.method.as_str();
            match r.listener.as_str() {
                // By default only GET and HEAD reach the registry's API: not even the harmless
                // write-method probes (those need --probe-writes). ACR's own API (`/acr/v1/`,
                // the lock attributes) is read the same way.
                "registry" if r.path.starts_with("/v2/") || r.path.starts_with("/acr/") => {
                    !matches!(m, "GET" | "HEAD")
                }
                "arm" => {
                    matches!(m, "PUT" | "PATCH" | "DELETE")
                        || (m == "POST" && !r.path.ends_with("/listCredentials"))
                }
                "graph" => !matches!(m, "GET" | "HEAD"),
                _ => false,
            }
        })
        .collect()
}

/// Every credential source × every output format.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_written_and_nothing_secret_is_printed() {
    let bed = TestBed::start(
        BedSpec::new()
            .assign(ids::MI, "AcrPush", Scope::registry(REG))
            .assign(ids::USER, "AcrPush", Scope::registry(REG)),
    )
    .await
    .expect("bed");
    bed.push_test_image(REG, REPO, "v1").await.expect("push v1");
    bed.push_test_image(REG, REPO, "v2").await.expect("push v2");
    let registry_before = registry_contents(&bed).await;
    // The real registry's storage, byte for byte (upload sessions would leave files here).
    let storage = bed.dir().join(format!("registry-{REG}")).join("data");
    let storage_before = snapshot(&storage);
    assert!(
        storage_before
            .keys()
            .any(|k| k.to_string_lossy().contains("_manifests")),
        "the registry storage is not where expected: {:?}",
        storage_before.keys().collect::<Vec<_>>()
    );
    assert!(
        registry_before.iter().all(|(_, status, _)| *status == 200),
        "{registry_before:?}"
    );
    bed.clear_request_log();

    for src in [
        "env",
        "cli",
        "managed-identity",
        "basic",
        "anonymous",
        "docker-config",
    ] {
        bed.clear_request_log();
        let home = home(&bed);
        let docker_before = snapshot(&home.docker());
        let azure_before = snapshot(&home.azure());
        let runs = futures::future::join_all(
            FORMATS
                .iter()
                .map(|format| run_binary(&bed, &home, src, format)),
        )
        .await;
        for (format, out) in FORMATS.iter().zip(&runs) {
            let what = format!("--auth {src} -o {format}");
            assert!(
                matches!(out.code, Some(0) | Some(1)),
                "{what}: exit status {:?}\n{}\n{}",
                out.code,
                out.stdout,
                out.stderr
            );
            assert!(!out.stdout.trim().is_empty(), "{what}: printed nothing");
            if *format == "json" {
                assert!(
                    serde_json::from_str::<serde_json::Value>(&out.stdout).is_ok(),
                    "{what}: not JSON:\n{}",
                    out.stdout
                );
            }
            assert_no_secret(&format!("{what} stdout"), &out.stdout);
            assert_no_secret(&format!("{what} stderr"), &out.stderr);
        }
        assert_same(
            &format!("the Docker config dir (--auth {src})"),
            &docker_before,
            &snapshot(&home.docker()),
        );
        assert_same(
            &format!("the Azure CLI dir (--auth {src})"),
            &azure_before,
            &snapshot(&home.azure()),
        );
        let helper_calls = std::fs::read_to_string(&home.helper_log).unwrap_or_default();
        assert!(
            !helper_calls.contains("store") && !helper_calls.contains("erase"),
            "--auth {src}: the credential helper was asked to change something: {helper_calls}"
        );
        let log = bed.request_log();
        let w = writes(&log);
        assert!(w.is_empty(), "--auth {src}: writing requests: {w:#?}");
        assert!(
            log.iter().any(|r| r.listener == "registry"),
            "--auth {src}: the registry was never contacted"
        );
        // Each credential source really got through to an access token (so the pull and push
        // probes ran with it).
        assert!(
            src == "anonymous"
                || log
                    .iter()
                    .any(|r| r.path == "/oauth2/token" && r.status == 200),
            "--auth {src}: no access token was issued: {log:#?}"
        );
    }
    assert_eq!(
        registry_before,
        registry_contents(&bed).await,
        "the registry's contents changed"
    );
    assert_same(
        "the registry's storage",
        &storage_before,
        &snapshot(&storage),
    );
}

/// The write filter itself: what it must flag and what it must let through.
#[test]
fn write_filter_flags_completed_uploads_and_deletions() {
    let req = |listener: &str, method: &str, path: &str, query: Option<&str>| LoggedRequest {
        listener: listener.into(),
        method: method.into(),
        host: "h".into(),
        path: path.into(),
        query: query.map(str::to_string),
        status: 202,
        registry: None,
    };
    let allowed = [
        req("registry", "GET", "/v2/app/manifests/v1", None),
        req("registry", "HEAD", "/v2/app/manifests/v1", None),
        req("registry", "POST", "/oauth2/exchange", None),
        req("arm", "POST", "/subscriptions/s/x/listCredentials", None),
        req("entra", "POST", "/t/oauth2/v2.0/token", None),
    ];
    let flagged = [
        req(
            "registry",
            "PUT",
            "/v2/app/blobs/uploads/1234",
            Some("digest=sha256:0"),
        ),
        req("registry", "PUT", "/v2/app/manifests/v1", None),
        req(
            "registry",
            "POST",
            "/v2/app/blobs/uploads/",
            Some("digest=sha256:0"),
        ),
        req(
            "registry",
            "POST",
            "/v2/app/blobs/uploads/",
            Some("mount=sha256:0&from=x"),
        ),
        req("registry", "DELETE", "/v2/app/manifests/sha256:0", None),
        // Even the write-method probes count: they run only with --probe-writes.
        req("registry", "POST", "/v2/app/blobs/uploads/", None),
        req("registry", "DELETE", "/v2/app/blobs/uploads/1234", None),
        req("arm", "PUT", "/x/roleAssignments/1", None),
        req("graph", "POST", "/v1.0/applications", None),
    ];
    let mut patch = req("registry", "PATCH", "/v2/app/blobs/uploads/1234", None);
    assert_eq!(writes(std::slice::from_ref(&patch)).len(), 1);
    patch.status = 404;
    assert_eq!(writes(&[patch]).len(), 1);
    assert!(writes(&allowed).is_empty());
    assert_eq!(writes(&flagged).len(), flagged.len());
}

/// A registry whose challenge names a realm on another host (a spoofed or intercepted login
/// server): in every credential mode the run reports CONNECTIVITY_WWW_AUTHENTICATE_ERROR with
/// the realm and the login server as evidence, and that host receives nothing at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_realm_receives_no_credential_in_any_mode() {
    let bed = TestBed::start(
        BedSpec::new()
            .assign(ids::MI, "AcrPush", Scope::registry(REG))
            .assign(ids::USER, "AcrPush", Scope::registry(REG)),
    )
    .await
    .expect("bed");
    let port = bed
        .login_server(REG)
        .rsplit_once(':')
        .map(|(_, p)| p.to_string())
        .expect("port");
    // The foreign host resolves to the bed too, so anything sent there would be logged.
    let foreign = format!("harvest.example:{port}");
    bed.set_fault(
        Some(REG),
        acr_testbed::Fault::ForeignRealm {
            host: foreign.clone(),
        },
    );
    let pin = vec!["--resolve".to_string(), format!("{foreign}:127.0.0.1")];
    for src in [
        "env",
        "cli",
        "managed-identity",
        "basic",
        "anonymous",
        "docker-config",
    ] {
        bed.clear_request_log();
        let home = home(&bed);
        for format in FORMATS {
            let out = run_binary_with(&bed, &home, src, format, &pin).await;
            let what = format!("--auth {src} -o {format}");
            assert_eq!(out.code, Some(1), "{what}\n{}\n{}", out.stdout, out.stderr);
            assert_no_secret(&format!("{what} stdout"), &out.stdout);
            assert_no_secret(&format!("{what} stderr"), &out.stderr);
            if format == "json" {
                let report: serde_json::Value =
                    serde_json::from_str(&out.stdout).expect("json report");
                let findings = report["findings"].as_array().expect("findings");
                let realm = findings
                    .iter()
                    .find(|f| f["code"] == "CONNECTIVITY_WWW_AUTHENTICATE_ERROR")
                    .unwrap_or_else(|| panic!("{what}: no realm finding: {findings:#?}"));
                assert_eq!(realm["check"], "registry.challenge");
                assert_eq!(realm["severity"], "error");
                assert_eq!(
                    realm["evidence"]["realm"],
                    format!("https://{foreign}/oauth2/token")
                );
                assert_eq!(
                    realm["evidence"]["login_server"],
                    format!("https://{}", bed.login_server(REG))
                );
            }
        }
        let log = bed.request_log();
        let sent: Vec<_> = log
            .iter()
            .filter(|r| r.host.to_ascii_lowercase().starts_with("harvest.example"))
            .collect();
        assert!(
            sent.is_empty(),
            "--auth {src}: the foreign realm was contacted: {sent:#?}"
        );
        // Nothing was exchanged at the login server either: the flow stopped at the challenge.
        assert!(
            !log.iter().any(|r| r.path.starts_with("/oauth2/")),
            "--auth {src}: a token request was made: {log:#?}"
        );
    }
}
