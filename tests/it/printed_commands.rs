//! Every command acr-doctor prints works when pasted: each template of the catalogue (both
//! languages), each `acr-doctor check` a triage answer offers, and each command generated in
//! test-bed fault runs is checked by `commands::validate` against its tool's syntax, with `az`
//! commands checked against the Azure CLI's own options (tests/fixtures/az-commands.json).

use crate::support;

use std::collections::BTreeSet;
use std::time::Duration;

use acr_doctor::catalogue::{self, fill_placeholders, CAUSES};
use acr_doctor::commands::validate::{self, AzSpec};
use acr_doctor::lang::Lang;
use acr_doctor::report::Report;
use acr_testbed::{ids, BedSpec, Fault, Registry, TestBed};

const REG: &str = "contosoreg";

fn az() -> AzSpec {
    AzSpec::from_json(
        &std::fs::read_to_string(support::fixture("az-commands.json")).expect("fixture"),
    )
    .expect("fixture parses")
}

#[track_caller]
fn assert_valid(what: &str, commands: &[String], az: &AzSpec) {
    let problems: Vec<String> = commands
        .iter()
        .flat_map(|c| validate::problems(c, az))
        .collect();
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}

/// Values a run may know, including a login server with a port (the bed's form, and the form
/// that once gave `-connect host:port:443`).
const SAMPLE: &[(&str, Option<&str>)] = &[
    ("registry", Some("contosoreg")),
    ("login-server", Some("contosoreg.azurecr.io:8443")),
    ("login-host", Some("contosoreg.azurecr.io")),
    ("login-port", Some("8443")),
    ("region", Some("westeurope")),
    ("repository", Some("team/app")),
    ("registry-id", Some("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/contosoreg")),
    ("resource-group", Some("rg")),
    ("assignee", Some("00000000-0000-0000-0000-00000000000a")),
    ("app-id", Some("00000000-0000-0000-0000-00000000000b")),
    ("tenant-id", Some("00000000-0000-0000-0000-00000000000c")),
];

#[test]
fn every_catalogue_command_is_valid_as_written_and_filled() {
    let az = az();
    let mut seen = 0;
    for cause in CAUSES {
        for lang in [Lang::En, Lang::Ja] {
            let entry = cause.entry(lang);
            assert_valid(
                &format!("{} ({lang:?}) as written", cause.code),
                &entry.commands,
                &az,
            );
            let filled: Vec<String> = entry
                .commands
                .iter()
                .map(|c| fill_placeholders(c, SAMPLE))
                .collect();
            assert_valid(&format!("{} ({lang:?}) filled", cause.code), &filled, &az);
            seen += filled.len();
        }
    }
    assert!(seen > 100, "only {seen} commands found");
}

#[test]
fn every_triage_confirmation_is_a_valid_check_command() {
    let az = az();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("causes/messages");
    for file in std::fs::read_dir(dir).expect("messages") {
        let text = std::fs::read_to_string(file.expect("entry").path()).expect("read");
        for flags in text.lines().filter_map(|l| l.strip_prefix("@confirm\t")) {
            let line = format!("acr-doctor check --name contosoreg {}", flags.trim())
                .replace("<registry>", "contosoreg")
                .replace("<repository>", "app");
            assert_valid("triage @confirm", &[line], &az);
        }
    }
    for text in [
        "unauthorized: Application not registered with AAD.",
        "Error response from daemon: Get \"https://contosoreg.azurecr.io/v2/\": denied: client with IP '203.0.113.7' is not allowed access",
        "pull access denied for contosoreg.azurecr.io/app, repository does not exist or may require 'docker login'",
    ] {
        let result = acr_doctor::triage::triage(text);
        let confirms: Vec<String> = result.candidates.iter().map(|c| c.confirm.clone()).collect();
        assert!(!confirms.is_empty(), "no candidate for {text}");
        assert_valid(&format!("triage of {text:?}"), &confirms, &az);
    }
}

// ---------------------------------------------------------------------------------------------
// Test-bed fault runs

struct Ran {
    report: Report,
    _home: tempfile::TempDir,
}

async fn run(bed: &TestBed, extra: &[&str], lang: Lang) -> Ran {
    let home = support::temp_home();
    let empty_path = support::bin_dir(home.path()).display().to_string();
    let mut argv = support::bed_args(bed, REG, &[&["--timeout", "2"], extra].concat());
    if !extra.contains(&"--auth") {
        argv.extend(["--auth".to_string(), "env".to_string()]);
    }
    let args = support::parse_args(&argv);
    let mut env = support::bed_env(bed, home.path(), &empty_path, true);
    support::set_config_dirs(&mut env, home.path());
    let run = tokio::time::timeout(
        Duration::from_secs(60),
        acr_doctor::run_check(&args, REG, env, lang),
    )
    .await
    .expect("the run ends")
    .expect("no usage error");
    Ran {
        report: run.report,
        _home: home,
    }
}

/// Placeholders a bed run knows the value of: they must never be left in a command.
fn known_placeholders(report: &Report, repository: bool) -> BTreeSet<&'static str> {
    let mut known: BTreeSet<&str> = ["registry", "login-server", "login-host", "login-port"].into();
    if repository {
        known.insert("repository");
    }
    let arm_read = report
        .checks
        .iter()
        .any(|c| c.id == "registry.arm" && c.evidence.contains_key("registry_id"));
    if arm_read {
        known.extend(["registry-id", "resource-group", "region"]);
    }
    if let Some(id) = &report.identity {
        if id.tenant_id.is_some() {
            known.insert("tenant-id");
        }
        if id.object_id.is_some() || id.app_id.is_some() {
            known.insert("assignee");
        }
        if id.app_id.is_some() {
            known.insert("app-id");
        }
    }
    known
}

#[track_caller]
fn assert_commands_hold(what: &str, report: &Report, repository: bool, az: &AzSpec) {
    let known = known_placeholders(report, repository);
    for f in &report.findings {
        assert_valid(&format!("{what}: {}", f.code), &f.commands, az);
        for c in &f.commands {
            for p in validate::placeholders(c) {
                assert!(
                    !known.contains(p.as_str()),
                    "{what}: {} leaves <{p}> although the run knows it: {c}",
                    f.code
                );
            }
        }
    }
}

/// The bed's registry, which the service principal may read in ARM (so the run knows the
/// registry's id, resource group and region).
fn bed_spec() -> BedSpec {
    BedSpec::new()
        .registry(Registry::new(REG).real_backend(false))
        .assign("sp", "Reader", acr_testbed::Scope::ResourceGroup)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_of_the_bed_fault_runs_is_valid() {
    let az = az();
    let faults: Vec<Fault> = [
        "public-access-disabled",
        "ip-firewall",
        "throttled=1",
        "no-challenge",
        "malformed-challenge",
        "basic-only-challenge",
        "tls-wrong-name",
        "tls-expired",
        "tls-untrusted",
        "admin-user-disabled",
        "expired-tokens",
        "tenant-mismatch",
        "arm-audience-refused",
        "anonymous-pull=off",
        "app-not-registered",
        "refresh-exchange-error=500",
        "access-token-error=500",
        "arm-forbidden",
        "sp-secret-expired",
        "sp-secret-wrong",
        "unknown-tenant",
        "cmk-identity-missing",
        "data-endpoint-unreachable",
        "blob-redirect",
        "private-endpoint",
        "no-managed-identity",
        "resource-principal-missing",
        "graph-forbidden",
        "foreign-realm",
    ]
    .iter()
    .map(|f| f.parse().expect("fault"))
    .collect();
    let mut commands = 0;
    for fault in faults {
        let bed = TestBed::start(bed_spec()).await.expect("bed");
        bed.set_fault(Some(REG), fault.clone());
        for (extra, repository) in [(&[][..], false), (&["--repository", "app"][..], true)] {
            for lang in [Lang::En, Lang::Ja] {
                let r = run(&bed, extra, lang).await;
                assert_commands_hold(
                    &format!("{fault} {extra:?} {lang:?}"),
                    &r.report,
                    repository,
                    &az,
                );
                commands += r
                    .report
                    .findings
                    .iter()
                    .map(|f| f.commands.len())
                    .sum::<usize>();
            }
        }
        // Credentials other than the service principal's variables.
        let r = run(
            &bed,
            &[
                "--auth",
                "basic",
                "--username",
                ids::SP_APP_ID,
                "--password",
                ids::SP_SECRET,
            ],
            Lang::En,
        )
        .await;
        assert_commands_hold(&format!("{fault} basic"), &r.report, false, &az);
        commands += r
            .report
            .findings
            .iter()
            .map(|f| f.commands.len())
            .sum::<usize>();
    }
    assert!(commands > 40, "only {commands} commands generated");
}

/// `--repository` with a tag or digest: commands about the repository name the bare repository
/// (`--repository app`, `repository:app:...`, conditions on `app`), commands about the image name
/// the image (`--image app:1.0`), and `<tag>` is filled from the tag.
#[tokio::test(flavor = "multi_thread")]
async fn image_references_fill_commands_with_the_bare_repository() {
    let az = az();
    let bed = TestBed::start(
        BedSpec::new()
            .assign("sp", "AcrDelete", acr_testbed::Scope::registry(REG))
            .assign("sp", "Reader", acr_testbed::Scope::ResourceGroup),
    )
    .await
    .expect("bed");
    bed.push_test_image(REG, "app", "1.0").await.expect("push");
    bed.set_fault(Some(REG), "artifact-locked=app".parse().expect("fault"));
    bed.set_fault(Some(REG), "delete-locked=app:1.0".parse().expect("fault"));
    let digest = format!("web@sha256:{}", "0".repeat(64));
    let runs: [&[&str]; 4] = [
        &["--repository", "app:1.0", "--need", "pull,push,delete"],
        &["--repository", "app:2.0"],
        &["--repository", "app:1.0", "--platform", "linux/arm64"],
        &["--repository", &digest],
    ];
    let mut codes = BTreeSet::new();
    for extra in runs {
        let image = extra[1];
        let tagged = !image.contains('@');
        for lang in [Lang::En, Lang::Ja] {
            let r = run(&bed, extra, lang).await;
            assert_commands_hold(&format!("{extra:?} {lang:?}"), &r.report, true, &az);
            for f in &r.report.findings {
                codes.insert(f.code.clone());
                for c in &f.commands {
                    assert!(
                        !c.contains(&format!("--repository {image}"))
                            && !c.contains(&format!("repository:{image}"))
                            && !c.contains(&format!("'{image}'")),
                        "{extra:?}: {} names the image where the repository goes: {c}",
                        f.code
                    );
                    assert!(
                        !(tagged && validate::placeholders(c).iter().any(|p| p == "tag")),
                        "{extra:?}: {} leaves <tag>: {c}",
                        f.code
                    );
                }
            }
        }
    }
    for code in [
        "ARTIFACT_LOCKED",
        "IMAGE_NOT_FOUND",
        "IMAGE_PLATFORM_MISMATCH",
    ] {
        assert!(codes.contains(code), "{code} not seen: {codes:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The defects of issue 21, one test each

/// A condition for a repository uses `@Request[...repositories:name]`, as ACR documents.
#[tokio::test(flavor = "multi_thread")]
async fn abac_fix_commands_use_the_request_attribute() {
    let az = az();
    let bed =
        TestBed::start(BedSpec::new().registry(Registry::new(REG).real_backend(false).abac()))
            .await
            .expect("bed");
    let r = run(&bed, &["--repository", "app"], Lang::En).await;
    let with_condition: Vec<&String> = r
        .report
        .findings
        .iter()
        .flat_map(|f| &f.commands)
        .filter(|c| c.contains("--condition"))
        .collect();
    assert!(!with_condition.is_empty(), "{:#?}", r.report.findings);
    for c in with_condition {
        assert!(
            c.contains("@Request[Microsoft.ContainerRegistry/registries/repositories:name]"),
            "{c}"
        );
        assert!(!c.contains("@Resource["), "{c}");
        assert!(
            validate::problems(c, &az).is_empty(),
            "{:?}",
            validate::problems(c, &az)
        );
    }
    // The library's builder, which every generated assignment goes through.
    let cmd = acr_doctor::azure::roles::assign_command(
        "Container Registry Repository Writer",
        "a",
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/r",
        Some("team/app"),
    );
    assert!(validate::problems(&cmd, &az).is_empty(), "{cmd}");
}

/// A login server with a port gives `-connect HOST:PORT -servername HOST`.
#[tokio::test(flavor = "multi_thread")]
async fn openssl_command_has_one_port_and_a_bare_server_name() {
    let bed = TestBed::start(bed_spec()).await.expect("bed");
    bed.set_fault(Some(REG), Fault::TlsUntrusted);
    let r = run(&bed, &[], Lang::En).await;
    let authority = bed.login_server(REG);
    let (host, port) = authority.split_once(':').expect("bed port");
    let f = support::finding_with_code(&r.report, "CONNECTIVITY_SSL_ERROR");
    let openssl = f
        .commands
        .iter()
        .find(|c| c.starts_with("openssl"))
        .expect("an openssl command");
    assert_eq!(
        openssl,
        &format!("openssl s_client -connect {host}:{port} -servername {host} -showcerts")
    );
}

/// A name already found invalid never reaches a command.
#[tokio::test(flavor = "multi_thread")]
async fn no_command_from_a_rejected_name() {
    let az = az();
    for lang in [Lang::En, Lang::Ja] {
        let args = support::parse_args(&["--name", "my_registry", "--only", "registry.name"]);
        let home = support::temp_home();
        let env = support::Vars::from([("HOME".to_string(), home.path().display().to_string())]);
        let run = acr_doctor::run_check(&args, "my_registry", env, lang)
            .await
            .expect("run");
        let f = support::finding_with_code(&run.report, "REGISTRY_NAME_INVALID");
        for c in &f.commands {
            assert!(!c.contains("my_registry"), "{c}");
        }
        assert_valid("REGISTRY_NAME_INVALID", &f.commands, &az);
    }
}

/// The data endpoint's region comes from the registry's settings.
#[tokio::test(flavor = "multi_thread")]
async fn nslookup_of_the_data_endpoint_names_the_region() {
    let bed = TestBed::start(bed_spec()).await.expect("bed");
    bed.set_fault(Some(REG), Fault::DataEndpointUnreachable);
    // Nothing listens on 127.0.0.2:443.
    let resolve = format!("{REG}.{}.data.azurecr.io:443:127.0.0.2", ids::LOCATION);
    let r = run(
        &bed,
        &[
            "--resolve",
            &resolve,
            "--only",
            "registry.data_endpoint,registry.arm",
        ],
        Lang::En,
    )
    .await;
    let f = support::finding_with_code(&r.report, "DATA_ENDPOINT_UNREACHABLE");
    let nslookup = f
        .commands
        .iter()
        .find(|c| c.starts_with("nslookup") && c.contains(".data."))
        .expect("an nslookup command");
    assert_eq!(
        nslookup,
        &format!("nslookup {REG}.{}.data.azurecr.io", ids::LOCATION)
    );
}

/// With Podman, titles, steps and commands name Podman, in both languages.
#[tokio::test(flavor = "multi_thread")]
async fn podman_runs_speak_podman() {
    let az = az();
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    let server = bed.login_server(ids::REGISTRY);
    for lang in [Lang::En, Lang::Ja] {
        let home = support::temp_home();
        let bin = support::bin_dir(home.path());
        support::write_script(&bin, "podman", "echo 'podman version 4.3.1'");
        let xdg = home.path().join("xdg");
        support::write_file(
            &xdg.join("containers/auth.json"),
            &support::auth_json(&server, "stale-user", "CANARY-old-rotated-secret"),
        );
        let env = support::Vars::from([
            ("PATH".to_string(), bin.display().to_string()),
            ("HOME".to_string(), home.path().display().to_string()),
            ("XDG_RUNTIME_DIR".to_string(), xdg.display().to_string()),
        ]);
        let argv = support::bed_args(
            &bed,
            ids::REGISTRY,
            &[
                "--engine",
                "podman",
                "--only",
                "registry.name,registry.login_server,docker.client,docker.daemon,docker.config,docker.credentials",
            ],
        );
        let args = support::parse_args(&argv);
        let run = acr_doctor::run_check(&args, ids::REGISTRY, env, lang)
            .await
            .expect("run");
        let report = &run.report;
        for c in &report.checks {
            assert!(
                !c.title.to_lowercase().contains("docker"),
                "{lang:?}: check {} is titled {:?}",
                c.id,
                c.title
            );
        }
        let f = report
            .findings
            .iter()
            .find(|f| f.code == "DOCKER_STALE_CREDENTIALS")
            .unwrap_or_else(|| panic!("{:#?}", report.checks));
        assert!(!f.title.contains("Docker"), "{}", f.title);
        for text in f.solution.iter().chain(&f.commands) {
            assert!(!text.contains("docker logout"), "{lang:?}: {text}");
            assert!(!text.contains("docker login"), "{lang:?}: {text}");
        }
        assert!(
            f.commands.iter().any(|c| c.starts_with("podman logout")),
            "{:?}",
            f.commands
        );
        assert_valid("podman", &f.commands, &az);
        let _ = catalogue::lookup("DOCKER_STALE_CREDENTIALS");
    }
}

// ---------------------------------------------------------------------------------------------
// Japanese: no English left in text we write, titles kept apart from messages, in every form

/// Text we write in a Japanese report: check messages, finding titles, details and steps.
fn japanese_prose(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = report.checks.iter().map(|c| c.message.clone()).collect();
    out.extend(report.checks.iter().map(|c| c.title.clone()));
    for f in &report.findings {
        out.push(f.title.clone());
        out.push(f.detail.clone());
        out.extend(f.solution.iter().cloned());
    }
    out
}

/// English left in Japanese text: two lowercase English words in a row, or an English time
/// unit after a number. Evidence stays as it is, so code spans, URLs, paths, flags, `key=value`
/// pairs, identifiers and names (capitalised words) are set aside first.
fn english_leftovers(text: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut in_code = false;
    for ch in text.chars() {
        if ch == '`' {
            in_code = !in_code;
            plain.push(' ');
        } else if !in_code {
            plain.push(ch);
        }
    }
    // `ms` is a unit shown in both languages; `via` names a route in evidence; `auto` is the
    // value of `--engine`.
    let words: Vec<&str> = plain
        .split(|c: char| c.is_whitespace() || "()[]、。;「」\"'·→".contains(c))
        .map(|w| w.trim_end_matches([',', ':', '.']))
        .collect();
    let english = |w: &str| {
        w.len() >= 2
            && w.chars().all(|c| c.is_ascii_lowercase())
            && !["ms", "via", "auto"].contains(&w)
    };
    let mut found = Vec::new();
    for pair in words.windows(2) {
        if english(pair[0]) && english(pair[1]) {
            found.push(format!("{} {}", pair[0], pair[1]));
        }
    }
    for pair in words.windows(2) {
        if pair[0].chars().all(|c| c.is_ascii_digit())
            && !pair[0].is_empty()
            && ["min", "h", "s", "d", "days", "left", "ago"].contains(&pair[1])
        {
            found.push(format!("{} {}", pair[0], pair[1]));
        }
    }
    found
}

/// Whatever changes from run to run (ports, temporary paths, times, durations) as a fixed word.
fn stable(text: &str, port: &str) -> String {
    let rules: &[(&str, &str)] = &[
        (r"/tmp/\.tmp[A-Za-z0-9]+", "$$TMP"),
        (r"/tmp/acr-testbed-[A-Za-z0-9]+", "$$BED"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (r"残り有効期間 \d+ 日", "残り有効期間 N 日"),
        (r#""days_left": \d+"#, r#""days_left": N"#),
        (r"valid \d+ more days", "valid N more days"),
        (r#""assignment": "[0-9a-f-]{36}""#, r#""assignment": "ID""#),
        (r"roleAssignments/[0-9a-f-]{36}", "roleAssignments/ID"),
        (
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
            "$$TIME",
        ),
        (r"\d+(\.\d+)? (ms|秒)", "N $2"),
        (
            r#""(duration_ms|remaining_s|issued_at_unix|expires_at_unix|ms|elapsed_ms)": -?\d+"#,
            r#""$1": N"#,
        ),
        (r"残り [0-9 時間分日秒]+", "残り N"),
        (r"\| \d+ ms \|", "| N ms |"),
    ];
    let mut out = text.replace(port, "PORT");
    for (re, to) in rules {
        out = regex::Regex::new(re)
            .expect("regex")
            .replace_all(&out, *to)
            .into_owned();
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn japanese_reports_have_no_english_leftovers_and_keep_titles_apart() {
    let bed = TestBed::start(
        BedSpec::new()
            .registry(Registry::new(REG).real_backend(false).abac())
            .assign("sp", "Reader", acr_testbed::Scope::ResourceGroup),
    )
    .await
    .expect("bed");
    let r = run(&bed, &["--repository", "app"], Lang::Ja).await;
    let report = &r.report;
    let leftovers: Vec<String> = japanese_prose(report)
        .iter()
        .flat_map(|t| {
            english_leftovers(t)
                .into_iter()
                .map(move |l| format!("{l:?} in {t:?}"))
        })
        .collect();
    assert!(
        leftovers.is_empty(),
        "English in Japanese text:\n{}",
        leftovers.join("\n")
    );

    // Every title, however wide, is followed by a space or a line break before its message.
    let human =
        acr_doctor::render::human::render(report, acr_doctor::render::Style::plain(Lang::Ja));
    for c in &report.checks {
        // `  ✔ title   message`: the mark, a space, the title.
        let after = human
            .lines()
            .filter_map(|l| l.trim_start().split_once(' ').map(|(_, rest)| (l, rest)))
            .find_map(|(l, rest)| rest.strip_prefix(c.title.as_str()).map(|a| (l, a)))
            .unwrap_or_else(|| panic!("no line for {}", c.id));
        let (line, after) = after;
        assert!(
            after.is_empty() || after.starts_with(' '),
            "title {:?} runs into its message: {line}",
            c.title
        );
    }

    let port = bed
        .login_server(REG)
        .rsplit(':')
        .next()
        .expect("port")
        .to_string();
    let mut clean = report.clone();
    clean.duration_ms = 0;
    insta::assert_snapshot!("ja_human", stable(&human, &port));
    insta::assert_snapshot!(
        "ja_markdown",
        stable(
            &acr_doctor::render::markdown::render(&clean, Lang::Ja),
            &port
        )
    );
    insta::assert_snapshot!(
        "ja_github",
        stable(
            &acr_doctor::render::github::annotations(&clean, Lang::Ja),
            &port
        )
    );
    insta::assert_snapshot!(
        "ja_json",
        stable(&acr_doctor::render::json::render(&clean), &port)
    );
}

#[test]
fn the_leftover_detector_finds_the_issues_examples() {
    for text in [
        "contosoreg (rg / s): mode AbacRepositoryPermissions, admin user off, anonymous pull off",
        "GET https://graph/x: no passwordCredentials in the answer",
        "残り 59 min",
    ] {
        assert!(!english_leftovers(text).is_empty(), "{text}");
    }
    assert!(
        english_leftovers("`az acr login --name contosoreg` を実行します。https://a.b/c?x=y")
            .is_empty()
    );
}

/// Every command of an `--aks` run against each `aks-*` fault (and the healthy cluster), in
/// both languages, with and without `--repository`.
#[tokio::test(flavor = "multi_thread")]
async fn every_command_of_the_aks_fault_runs_is_valid() {
    let az = az();
    let mut commands = 0;
    let mut faults: Vec<Option<&str>> = vec![None];
    faults.extend(acr_testbed::aks::AKS_FAULT_NAMES.iter().map(|f| Some(*f)));
    for fault in faults {
        let mut spec = BedSpec::new()
            .registry(Registry::new(REG).real_backend(false))
            .with_aks();
        if let Some(f) = fault {
            spec = spec.fault(None, f.parse().expect("fault"));
        }
        let bed = TestBed::start(spec).await.expect("bed");
        for (extra, repository) in [(&[][..], false), (&["--repository", "app"][..], true)] {
            for lang in [Lang::En, Lang::Ja] {
                let argv = [
                    extra,
                    &[
                        "--aks",
                        acr_testbed::aks::CLUSTER,
                        "--aks-resource-group",
                        ids::RESOURCE_GROUP,
                        "--only",
                        "aks",
                    ][..],
                ]
                .concat();
                let r = run(&bed, &argv, lang).await;
                let what = format!("{fault:?} {extra:?} {lang:?}");
                assert_commands_hold(&what, &r.report, repository, &az);
                if lang == Lang::Ja {
                    let leftovers: Vec<String> = japanese_prose(&r.report)
                        .iter()
                        .flat_map(|t| {
                            english_leftovers(t)
                                .into_iter()
                                // Repository actions are protocol words, shown as they are.
                                .filter(|l| {
                                    !l.split(' ').all(|w| {
                                        [
                                            "pull",
                                            "push",
                                            "delete",
                                            "metadata_read",
                                            "metadata_write",
                                        ]
                                        .contains(&w)
                                    })
                                })
                                .map(move |l| format!("{l:?} in {t:?}"))
                        })
                        .collect();
                    assert!(
                        leftovers.is_empty(),
                        "{what}: English in Japanese text:\n{}",
                        leftovers.join("\n")
                    );
                }
                for c in &r.report.checks {
                    if let Some(confirm) = c.evidence.get("confirm_with").and_then(|v| v.as_array())
                    {
                        let confirm: Vec<String> = confirm
                            .iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect();
                        assert_valid(&format!("{what}: {} confirm_with", c.id), &confirm, &az);
                        commands += confirm.len();
                    }
                }
                commands += r
                    .report
                    .findings
                    .iter()
                    .map(|f| f.commands.len())
                    .sum::<usize>();
            }
        }
    }
    assert!(commands > 20, "only {commands} commands generated");
}
