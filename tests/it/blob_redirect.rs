//! Layer downloads, followed as far as the login server takes them: with `--repository`,
//! `auth.repository` asks the real registry (behind the test bed) for one blob and
//! `registry.data_endpoint` checks that the host the download is redirected to (the storage
//! account, with the bed's `blob-redirect` fault) can be reached, without following the redirect.

use crate::support;

use acr_doctor::lang::Lang;
use acr_doctor::report::{CheckResult, CheckStatus};
use acr_doctor::CheckRun;
use acr_testbed::{ids, BedSpec, Fault, Scope, TestBed};

const REG: &str = "contosoreg";
const STORAGE: &str = "contosoregstg.blob.core.windows.net";

async fn bed() -> TestBed {
    let bed = support::start_bed(
        BedSpec::new()
            .clear_assignments()
            .assign(ids::SP, "AcrPull", Scope::registry(REG))
            .assign(ids::SP, "Reader", Scope::registry(REG)),
    )
    .await;
    bed.push_test_image(REG, "app", "v1").await.expect("push");
    bed
}

async fn check(bed: &TestBed, extra: &[String]) -> CheckRun {
    let home = support::temp_home();
    let vars = support::bed_env(bed, home.path(), "/nonexistent", true);
    let mut argv = bed.check_args(REG);
    argv.extend(
        [
            "--repository",
            "app",
            "--only",
            "registry.data_endpoint,auth.repository",
            "--timeout",
            "5",
        ]
        .map(String::from),
    );
    argv.extend(extra.iter().cloned());
    let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
    let args = acr_doctor::check_args(&refs).expect("args");
    let run = acr_doctor::run_check(&args, REG, vars, Lang::En)
        .await
        .expect("run");
    // The storage URL's signature is a credential: it never shows.
    let out = format!(
        "{}\n{}\n{}",
        acr_doctor::render::json::render(&run.report),
        acr_doctor::render::markdown::render(&run.report, Lang::En),
        run.trace.join("\n")
    );
    assert!(!out.contains("sig="), "a SAS signature was printed: {out}");
    run
}

fn get<'a>(run: &'a CheckRun, id: &str) -> &'a CheckResult {
    run.report
        .checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no {id}"))
}

fn storage_requests(bed: &TestBed) -> usize {
    bed.request_log()
        .iter()
        .filter(|r| r.host.starts_with(STORAGE))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_to_a_reachable_storage_account_passes() {
    let bed = bed().await;
    bed.set_fault(Some(REG), Fault::BlobRedirect);
    let resolve = format!("{STORAGE}:{}:127.0.0.1", bed.registry_port());
    let run = check(&bed, &["--resolve".into(), resolve]).await;
    let de = get(&run, "registry.data_endpoint");
    assert_eq!(de.status, CheckStatus::Pass, "{de:?}");
    assert!(
        de.message.contains(&format!(
            "redirected to {STORAGE}:{}, reachable",
            bed.registry_port()
        )),
        "{}",
        de.message
    );
    assert_eq!(de.evidence["layer_download"]["redirect_host"], STORAGE);
    let calls = get(&run, "auth.repository").evidence["registry_calls"].to_string();
    assert!(calls.contains("GET /v2/app/manifests/v1"), "{calls}");
    assert!(calls.contains("/blobs/sha256:"), "{calls}");
    assert!(calls.contains("(not followed)"), "{calls}");
    // Reachability is a TLS handshake: the blob itself is never downloaded.
    assert_eq!(storage_requests(&bed), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_to_an_unreachable_host_is_data_endpoint_unreachable() {
    let bed = bed().await;
    bed.set_fault(Some(REG), Fault::BlobRedirect);
    // Nothing listens on 127.0.0.2 at the registry's port.
    let resolve = format!("{STORAGE}:{}:127.0.0.2", bed.registry_port());
    let run = check(&bed, &["--resolve".into(), resolve]).await;
    let de = get(&run, "registry.data_endpoint");
    assert_eq!(de.status, CheckStatus::Fail, "{de:?}");
    let f = run
        .report
        .findings
        .iter()
        .find(|f| f.code == "DATA_ENDPOINT_UNREACHABLE")
        .unwrap_or_else(|| panic!("{:#?}", run.report.findings));
    assert_eq!(f.evidence["layer"], "tcp");
    assert_eq!(f.evidence["host"], STORAGE);
    assert!(f.detail.contains("app:v1"), "{}", f.detail);
    // Pull itself was allowed: the permission check passes, the cause is the network.
    assert_eq!(get(&run, "auth.repository").status, CheckStatus::Pass);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_redirect_the_login_server_serves_the_layer() {
    let bed = bed().await;
    let run = check(&bed, &[]).await;
    let de = get(&run, "registry.data_endpoint");
    assert_eq!(de.status, CheckStatus::Pass, "{de:?}");
    assert!(
        de.message.contains("is served by the login server itself"),
        "{}",
        de.message
    );
}
