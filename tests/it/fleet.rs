//! Several registries in one run, against the test bed: each diagnosed on its own, one
//! combined report, the exit status of the worst, shared work done once.

use crate::support;

use acr_doctor::lang::Lang;
use acr_doctor::render;
use acr_testbed::{ids, BedSpec, Fault, Registry, Scope, TestBed};

async fn bed() -> TestBed {
    let spec = BedSpec::new()
        .registry(Registry::new("abacreg").abac())
        .registry(Registry::new("lockedreg"))
        // The SP may push to all three under legacy rules, and read settings in ARM, so that
        // acr-doctor can name the ABAC cause.
        .assign(ids::SP, "AcrPush", Scope::registry("abacreg"))
        .assign(ids::SP, "AcrPush", Scope::registry("lockedreg"))
        .assign(ids::SP, "Reader", Scope::Subscription)
        .fault(Some("lockedreg"), Fault::PublicAccessDisabled);
    support::start_bed(spec).await
}

/// The bed's environment as the default service principal, with no program on PATH.
fn env(bed: &TestBed, home: &std::path::Path) -> support::Vars {
    support::bed_env(bed, home, "/nonexistent", true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_registries_one_report_worst_exit() {
    let bed = bed().await;
    let home = support::temp_home();
    let names: Vec<String> = ["contosoreg", "abacreg", "lockedreg"]
        .iter()
        .map(|n| bed.login_server(n))
        .collect();
    let mut argv: Vec<String> = vec![];
    for n in &names {
        argv.extend(["--name".into(), n.clone()]);
        argv.extend([
            "--resolve".into(),
            bed.resolve_arg(n.split('.').next().unwrap_or("")),
        ]);
    }
    argv.extend(
        [
            "--ca-file",
            bed.ca_file().to_str().expect("utf-8"),
            "--repository",
            "app",
            "--need",
            "pull",
            "--skip",
            "docker,helm",
            "--timeout",
            "5",
        ]
        .map(String::from),
    );
    let args = support::parse_args(&argv);
    let names = acr_doctor::commands::target_names(&args).expect("names");
    assert_eq!(names.len(), 3);
    let ctx = acr_doctor::context::Context::new(env(&bed, home.path()), &args).expect("ctx");
    bed.clear_request_log();
    let runs = acr_doctor::run_fleet(&args, &names, &ctx, Lang::En, 3)
        .await
        .expect("runs");
    assert_eq!(runs.len(), 3);

    let errors = |i: usize| -> Vec<String> {
        runs[i]
            .report
            .findings
            .iter()
            .filter(|f| f.severity == acr_doctor::finding::Severity::Error)
            .map(|f| f.code.clone())
            .collect()
    };
    // Healthy: AcrPush in legacy mode pulls.
    assert!(errors(0).is_empty(), "{:?}", runs[0].report.findings);
    // ABAC mode ignores AcrPush: named, with the fix.
    assert_eq!(
        errors(1),
        vec!["ABAC_LEGACY_ROLE_IGNORED"],
        "{:?}",
        runs[1].report.findings
    );
    let abac = support::finding_with_code(&runs[1], "ABAC_LEGACY_ROLE_IGNORED");
    assert!(
        abac.commands
            .iter()
            .any(|c| c.contains("Container Registry Repository Reader")),
        "{:?}",
        abac.commands
    );
    // Public access disabled: the login server refuses, later steps are skipped, not extra causes.
    assert_eq!(errors(2), vec!["CONNECTIVITY_FORBIDDEN_ERROR"]);

    // The run's exit status is the worst.
    let code = runs
        .iter()
        .map(|r| r.exit_code(acr_doctor::cli::FailOn::Error))
        .max();
    assert_eq!(code, Some(1));
    assert_eq!(runs[0].exit_code(acr_doctor::cli::FailOn::Error), 0);

    // One combined report in every form.
    let reports: Vec<&acr_doctor::report::Report> = runs.iter().map(|r| &r.report).collect();
    let json: serde_json::Value =
        serde_json::from_str(&render::fleet::json(&reports)).expect("json");
    assert_eq!(json["schema"], "acr-doctor/fleet/v1");
    assert_eq!(json["status"], "fail");
    assert_eq!(json["summary"][1]["primary"], "ABAC_LEGACY_ROLE_IGNORED");
    assert_eq!(json["reports"].as_array().map(Vec::len), Some(3));
    let human = render::fleet::human(&reports, render::Style::plain(Lang::En));
    assert!(human.contains("3 registries"), "{human}");
    let md = render::fleet::markdown(&reports, Lang::En);
    assert!(md.contains("| ✘ |") && md.contains("ABAC_LEGACY_ROLE_IGNORED"));

    // Shared work: one Entra token request for the ACR audience for the three registries.
    let entra_posts = bed
        .request_log()
        .iter()
        .filter(|r| r.listener == "entra" && r.method == "POST")
        .count();
    assert!(
        entra_posts <= 3,
        "{entra_posts} Entra token requests for 3 registries"
    );
    // One ARM listing of the subscription's registries serves all three.
    let listings = bed
        .request_log()
        .iter()
        .filter(|r| {
            r.listener == "arm"
                && r.method == "GET"
                && r.path
                    .ends_with("/providers/Microsoft.ContainerRegistry/registries")
        })
        .count();
    assert_eq!(listings, 1, "{:#?}", bed.request_log());
    // Connection reuse: every request to a host after the first rides the same connection
    // (HTTP/2). Each login server sees the TLS check's own handshake and one connection for all
    // of its requests; ARM one; Entra at most one per token requested together at the start;
    // Graph at most the early opener and one.
    let conns = bed.connections();
    let count = |listener: &str, host: &str| {
        conns
            .get(&(listener.to_string(), host.to_string()))
            .copied()
            .unwrap_or(0)
    };
    for n in &names {
        assert_eq!(
            count("registry", n.split(':').next().unwrap_or("")),
            2,
            "{conns:?}"
        );
    }
    assert_eq!(count("arm", ""), 1, "{conns:?}");
    assert!(count("entra", "") <= 3, "{conns:?}");
    assert!((1..=2).contains(&count("graph", "")), "{conns:?}");
    // One Graph lookup of the application's secrets serves all three too.
    let graph_gets = bed
        .request_log()
        .iter()
        .filter(|r| r.listener == "graph" && r.method == "GET")
        .count();
    assert_eq!(graph_gets, 1, "{:#?}", bed.request_log());
    // The connections to ARM and Graph were opened at the start, once per run, by a HEAD that
    // carries no credential (both answer 401).
    let mut heads = Vec::new();
    for _ in 0..40 {
        heads = bed
            .request_log()
            .into_iter()
            .filter(|r| r.method == "HEAD")
            .map(|r| (r.listener, r.path, r.status))
            .collect::<Vec<_>>();
        if heads.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    heads.sort();
    assert_eq!(
        heads,
        vec![
            ("arm".to_string(), "/".to_string(), 401),
            ("graph".to_string(), "/".to_string(), 401)
        ]
    );
    for run in &runs {
        let out = render::json::render(&run.report);
        assert!(!out.contains("CANARY"), "a secret leaked");
        assert!(
            run.trace.iter().any(|l| l.starts_with("preconnect: HEAD")),
            "{:?}",
            run.trace
        );
    }
}

/// The anonymous probe runs beside the signed-in path once ARM says anonymous pull is on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_pull_is_probed_when_arm_says_it_is_on() {
    let spec = BedSpec::new()
        .registry(Registry::new("openreg").anonymous_pull(true))
        .assign(ids::SP, "AcrPull", Scope::registry("openreg"))
        .assign(ids::SP, "Reader", Scope::Subscription);
    let bed = TestBed::start(spec).await.expect("bed");
    let home = support::temp_home();
    let argv = support::bed_args(
        &bed,
        "openreg",
        &["--repository", "app", "--skip", "docker,helm"],
    );
    let run = support::run_argv(&argv, env(&bed, home.path())).await;
    let probe = support::check(&run, "identity.anonymous");
    assert_eq!(
        probe.status,
        acr_doctor::report::CheckStatus::Info,
        "{probe:?}"
    );
    assert_eq!(
        probe.evidence["anonymous_pull_probe"]["status"], 200,
        "{probe:?}"
    );
    // The signed-in path did not wait for the probe and still passed.
    let access = support::check(&run, "identity.access_token");
    assert_eq!(access.status, acr_doctor::report::CheckStatus::Pass);
}

/// A name that neither resolves nor exists in ARM is one cause (DNS), not two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_does_not_exist_is_one_dns_finding() {
    let spec = BedSpec::new().assign(ids::SP, "Reader", Scope::Subscription);
    let bed = TestBed::start(spec).await.expect("bed");
    let home = support::temp_home();
    let ca = bed.ca_file().to_str().expect("utf-8").to_string();
    let argv = [
        "--name",
        "nosuchreg",
        "--login-server",
        "nosuchreg.invalid",
        "--ca-file",
        &ca,
        "--skip",
        "docker,helm",
        "--timeout",
        "3",
    ];
    let run = support::run_argv(&argv, env(&bed, home.path())).await;
    let codes: Vec<&str> = run
        .report
        .findings
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(
        codes,
        vec!["CONNECTIVITY_DNS_ERROR"],
        "{:?}",
        run.report.findings
    );
    let arm = support::check(&run, "registry.arm");
    assert_eq!(arm.status, acr_doctor::report::CheckStatus::Info, "{arm:?}");
}
