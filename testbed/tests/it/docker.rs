//! A real Docker daemon logs in, pushes and pulls through the bed (skipped without a daemon;
//! start one with `eval "$(scripts/test-dockerd.sh)"`).

use acr_testbed::{ids, require_docker, BedSpec, TestBed};
use std::path::Path;

async fn docker(host: &str, config: &Path, args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new("docker")
        .arg("-H")
        .arg(host)
        .args(args)
        .env("DOCKER_CONFIG", config)
        .output()
        .await
        .expect("docker client");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_login_push_pull_through_the_bed() {
    let Some(host) = require_docker() else { return };
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    let config = tempfile::tempdir().expect("config dir");
    let reg = format!("127.0.0.1:{}", bed.registry_port());

    // wrong secret: refused by the token endpoint
    let (ok, out) = docker(
        &host,
        config.path(),
        &["login", &reg, "-u", ids::SP_APP_ID, "-p", "CANARY-wrong"],
    )
    .await;
    assert!(!ok, "{out}");
    assert!(!out.contains(ids::SP_SECRET));

    let (ok, out) = docker(
        &host,
        config.path(),
        &["login", &reg, "-u", ids::SP_APP_ID, "-p", ids::SP_SECRET],
    )
    .await;
    assert!(ok, "docker login failed: {out}");
    let image = format!("{reg}/tiny-{}:1", std::process::id());
    let (ok, out) = docker(
        &host,
        config.path(),
        &["tag", "acr-doctor-test/tiny:1", &image],
    )
    .await;
    assert!(ok, "{out}");
    let (ok, out) = docker(&host, config.path(), &["push", &image]).await;
    assert!(ok, "docker push failed: {out}");
    let (ok, out) = docker(&host, config.path(), &["rmi", &image]).await;
    assert!(ok, "{out}");
    let (ok, out) = docker(&host, config.path(), &["pull", &image]).await;
    assert!(ok, "docker pull failed: {out}");
    let _ = docker(&host, config.path(), &["rmi", &image]).await;

    // the daemon went through the token endpoint with Basic credentials and then the real registry
    let log = bed.request_log();
    assert!(log
        .iter()
        .any(|l| l.path == "/oauth2/token" && l.status == 200));
    assert!(log
        .iter()
        .any(|l| l.method == "PUT" && l.path.contains("/manifests/") && l.status == 201));

    // a pull-only identity cannot push: the real registry refuses
    bed.with_state(|st| {
        st.unassign_all(ids::SP);
        st.assign(
            ids::SP,
            "AcrPull",
            &acr_testbed::Scope::registry("contosoreg"),
            None,
        );
    });
    let other = tempfile::tempdir().expect("config dir");
    let (ok, out) = docker(
        &host,
        other.path(),
        &["login", &reg, "-u", ids::SP_APP_ID, "-p", ids::SP_SECRET],
    )
    .await;
    assert!(ok, "{out}");
    let image2 = format!("{reg}/denied-{}:1", std::process::id());
    let _ = docker(
        &host,
        other.path(),
        &["tag", "acr-doctor-test/tiny:1", &image2],
    )
    .await;
    let (ok, out) = docker(&host, other.path(), &["push", &image2]).await;
    assert!(!ok, "push must be refused: {out}");
    let _ = docker(&host, other.path(), &["rmi", &image2]).await;
}
