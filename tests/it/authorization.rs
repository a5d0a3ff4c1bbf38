//! Authorization checks against the test bed: registry settings through ARM, repository and
//! catalog permissions confirmed by the real registry, RBAC/ABAC causes, `--principal`, CMK.
//!
//! The credential facts (Entra token, ARM token, ACR access token and its grants) are produced
//! here the way the identity checks produce them: an Entra token minted by the bed's Entra,
//! exchanged at the bed's login server, and an access token asked for every repository action
//! and the catalog. The authorization checks then run in the real engine (`CheckHarness`) from
//! those facts.

use crate::support;

use std::time::Duration;

use acr_doctor::catalogue::Code;
use acr_doctor::checks::{ArmRegistry, Challenge, Credential, Grants, IdentityClaims, LoginServer};
use acr_doctor::context::Context;
use acr_doctor::engine::harness::HarnessRun;
use acr_doctor::engine::CheckHarness;
use acr_doctor::finding::Severity;
use acr_doctor::redact::Secret;
use acr_doctor::report::CheckStatus;
use acr_testbed::{ids, BedSpec, Fault, Registry, RepoToken, Scope, TestBed};
use serde_json::Value;

const ACR_AUDIENCE: &str = "https://containerregistry.azure.net";
const ARM_AUDIENCE: &str = "https://management.azure.com/";
const REG: &str = "contosoreg";
const REPO_READ: &str = "Microsoft.ContainerRegistry/registries/repositories/content/read";
const REPO_META_READ: &str = "Microsoft.ContainerRegistry/registries/repositories/metadata/read";
const REPO_WRITE: &str = "Microsoft.ContainerRegistry/registries/repositories/content/write";
const REPO_META_WRITE: &str = "Microsoft.ContainerRegistry/registries/repositories/metadata/write";
const READER: &str = "Reader";
const ARM_ONLY: &str = "Container Registry Contributor and Data Access Configuration Administrator";

/// The authorization checks' run: outcomes, facts, report.
type Run = HarnessRun;

fn registry_id(name: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerRegistry/registries/{name}",
        ids::SUBSCRIPTION,
        ids::RESOURCE_GROUP
    )
}

/// A change to the bed made after the access token was issued.
type AfterToken<'a> = Box<dyn FnOnce(&TestBed) + 'a>;

/// Options of one run.
struct Opts<'a> {
    who: &'a str,
    args: &'a [&'a str],
    /// Shift the clock (seconds) to make fixed ARM timestamps look recent.
    clock_offset: i64,
    /// Mint the access token first, then call this (permissions changed after login).
    after_token: Option<AfterToken<'a>>,
    arm_token: bool,
}

impl<'a> Opts<'a> {
    fn new(who: &'a str, args: &'a [&'a str]) -> Self {
        Opts {
            who,
            args,
            clock_offset: 0,
            after_token: None,
            arm_token: true,
        }
    }
}

/// POSTs `form` to `url` and returns the JSON answer.
async fn post_form(ctx: &Context, url: String, form: &[(&str, &str)]) -> serde_json::Value {
    ctx.http()
        .post(url)
        .form(form)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json answer")
}

async fn run(bed: &TestBed, opts: Opts<'_>) -> Run {
    let home = support::temp_home();
    let args = support::parse_args(&support::bed_args(bed, REG, opts.args));
    let env = support::bed_env(bed, home.path(), &support::host_path(), false);
    let mut ctx = Context::new(env, &args).expect("context");
    ctx.clock.offset_s = opts.clock_offset;

    let (oid, app) = bed.with_state(|s| {
        let p = s.principal(opts.who).expect("known principal");
        (p.object_id.clone(), p.app_id.clone())
    });
    let entra = bed.entra_token(opts.who, ACR_AUDIENCE, Duration::from_secs(3600));
    let host = format!("{REG}.azurecr.io");
    let base = format!("https://{}", bed.login_server(REG));
    // What identity.refresh_token and identity.access_token do.
    let refresh = post_form(
        &ctx,
        format!("{base}/oauth2/exchange"),
        &[
            ("grant_type", "access_token"),
            ("service", host.as_str()),
            ("tenant", ids::TENANT),
            ("access_token", entra.as_str()),
        ],
    )
    .await;
    let refresh = refresh["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_string();
    let repo = args.repository_name().unwrap_or("app").to_string();
    let repo_scope = format!("repository:{repo}:pull,push,delete,metadata_read,metadata_write");
    let access = post_form(
        &ctx,
        format!("{base}/oauth2/token"),
        &[
            ("grant_type", "refresh_token"),
            ("service", host.as_str()),
            ("scope", repo_scope.as_str()),
            ("scope", "registry:catalog:*"),
            ("refresh_token", refresh.as_str()),
        ],
    )
    .await;
    let access = access["access_token"]
        .as_str()
        .expect("access token")
        .to_string();
    let claims = acr_doctor::redact::jwt_claims(&access).expect("claims");
    let mut grants = Grants::default();
    grants.requested.insert(
        format!("repository:{repo}"),
        ["pull", "push", "delete", "metadata_read", "metadata_write"]
            .map(String::from)
            .to_vec(),
    );
    grants
        .requested
        .insert("registry:catalog".into(), vec!["*".into()]);
    for e in claims["access"].as_array().cloned().unwrap_or_default() {
        let key = format!(
            "{}:{}",
            e["type"].as_str().unwrap_or(""),
            e["name"].as_str().unwrap_or("")
        );
        let actions = e["actions"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|a| a.as_str().map(String::from))
            .collect();
        grants.granted.insert(key, actions);
    }
    if let Some(f) = opts.after_token {
        f(bed);
    }

    let arm_token = opts
        .arm_token
        .then(|| Secret::new(bed.entra_token(opts.who, ARM_AUDIENCE, Duration::from_secs(3600))));
    let run = CheckHarness::new(&ctx)
        .args(args)
        .target(REG)
        .only("registry.arm")
        .only("registry.cmk")
        .only("auth")
        .facts(|f| {
            f.registry_name = Some(REG.into());
            f.login_server = Some(LoginServer {
                host: host.clone(),
                port: Some(bed.registry_port()),
                scheme: "https".into(),
                source: "flag".into(),
            });
            f.challenge = Some(Challenge {
                realm: format!("{base}/oauth2/token"),
                service: host.clone(),
                scope: None,
            });
            f.credential = Some(Credential::Entra {
                source: "test".into(),
                token: Secret::new(entra),
                claims: IdentityClaims {
                    tenant_id: Some(ids::TENANT.into()),
                    object_id: Some(oid),
                    app_id: (!app.is_empty()).then_some(app),
                    ..Default::default()
                },
            });
            f.refresh_token = Some(Secret::new(refresh));
            f.access_token = Some(Secret::new(access));
            f.grants = Some(grants);
            f.arm_token = arm_token;
        })
        .run()
        .await;
    // Nothing secret in what the checks say.
    let text = format!("{:?}", run.outcomes());
    assert!(!text.contains("CANARY"), "a secret leaked: {text}");
    run
}

fn bed_spec() -> BedSpec {
    BedSpec::new().clear_assignments()
}

use support::start_bed as start;

/// `spec` where sp holds `role` on the registry and Reader on the subscription (to read the
/// registry's settings in ARM).
fn with_role_and_reader(spec: BedSpec, role: &str) -> BedSpec {
    spec.assign("sp", role, Scope::registry(REG))
        .assign("sp", READER, Scope::Subscription)
}

/// `run` as sp with `--repository app --need <need>`.
async fn run_need(bed: &TestBed, need: &str) -> Run {
    run(
        bed,
        Opts::new("sp", &["--repository", "app", "--need", need]),
    )
    .await
}

/// `run` with `--principal` the managed identity and `--repository app`.
async fn run_principal(bed: &TestBed) -> Run {
    run(
        bed,
        Opts::new(
            "sp",
            &["--principal", ids::MI_OBJECT_ID, "--repository", "app"],
        ),
    )
    .await
}

/// Tags and catalog as the registry itself sees them (to prove nothing changed).
async fn registry_state(bed: &TestBed, repo: &str) -> (String, String) {
    let token = bed.acr_access_token(
        REG,
        &[
            ("repository", repo, &["pull"]),
            ("registry", "catalog", &["*"]),
        ],
    );
    let ctx = support::bed_context(bed, REG, support::Vars::new());
    let base = format!("https://{}", bed.login_server(REG));
    let get = |p: String| {
        let r = ctx.http().get(format!("{base}{p}")).bearer_auth(&token);
        async move { r.send().await.expect("get").text().await.expect("body") }
    };
    (
        get(format!("/v2/{repo}/tags/list")).await,
        get("/v2/_catalog".to_string()).await,
    )
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn legacy_push_identity_is_healthy_without_delete_and_nothing_changes() {
    let bed = start(with_role_and_reader(bed_spec(), "AcrPush")).await;
    bed.push_test_image(REG, "app", "v1")
        .await
        .expect("push image");
    let before = registry_state(&bed, "app").await;
    bed.clear_request_log();
    let r = run_need(&bed, "pull,push").await;

    let arm = r.outcome("registry.arm");
    assert_eq!(arm.status, CheckStatus::Pass, "{arm:?}");
    assert_eq!(
        arm.evidence["role_assignment_mode"],
        "LegacyRegistryPermissions"
    );
    assert_eq!(arm.evidence["admin_user_enabled"], false);
    assert_eq!(arm.evidence["registry_id"], registry_id(REG));
    let reg: &ArmRegistry = r
        .engine
        .facts
        .arm_registry
        .as_ref()
        .expect("arm registry fact");
    assert_eq!(reg.resource_group, ids::RESOURCE_GROUP);

    let repo = r.outcome("auth.repository");
    assert_eq!(repo.status, CheckStatus::Pass, "{repo:?}");
    assert!(repo.findings.is_empty());
    assert_eq!(
        repo.evidence["not_granted_not_needed"],
        serde_json::json!(["delete"])
    );
    // By default only reads reach the registry: pull is proven by the registry, push by the
    // token's claims alone.
    assert_eq!(
        repo.evidence["proven_by_registry"],
        serde_json::json!(["pull"])
    );
    assert_eq!(
        repo.evidence["granted"],
        serde_json::json!(["pull", "push", "metadata_read", "metadata_write"])
    );
    let calls = repo.evidence["registry_calls"].to_string();
    assert!(calls.contains("GET /v2/app/tags/list"), "{calls}");
    assert!(calls.contains("HEAD /v2/app/manifests/v1"), "{calls}");
    for method in ["PATCH", "POST", "DELETE", "PUT"] {
        assert!(!calls.contains(method), "{method} in {calls}");
    }
    for req in bed.request_log() {
        assert!(
            matches!(req.method.as_str(), "GET" | "HEAD")
                || req.listener != "registry"
                || req.path.starts_with("/oauth2/"),
            "a write reached the registry: {} {}",
            req.method,
            req.path
        );
    }
    // The real registry still holds exactly what it held.
    assert_eq!(registry_state(&bed, "app").await, before);

    // Legacy mode: AcrPush lists the catalog.
    assert_eq!(r.outcome("auth.catalog").status, CheckStatus::Pass);
    assert_eq!(r.outcome("registry.cmk").status, CheckStatus::Pass);
    assert_eq!(r.outcome("auth.principal").status, CheckStatus::Skip);
}

#[tokio::test(flavor = "multi_thread")]
async fn legacy_mode_without_acr_role_is_rbac_role_missing() {
    let bed = start(bed_spec().assign("sp", ARM_ONLY, Scope::registry(REG))).await;
    let r = run(&bed, Opts::new("sp", &["--repository", "app"])).await;
    assert_eq!(r.outcome("registry.arm").status, CheckStatus::Pass);
    let repo = r.outcome("auth.repository");
    assert_eq!(repo.status, CheckStatus::Fail, "{repo:?}");
    assert_eq!(r.codes("auth.repository")[0], "RBAC_ROLE_MISSING");
    let f = r.finding("auth.repository", "RBAC_ROLE_MISSING");
    assert_eq!(
        f.commands,
        vec![format!(
            "az role assignment create --role \"AcrPull\" --assignee {} --scope {}",
            ids::SP_OBJECT_ID,
            registry_id(REG)
        )]
    );
    assert!(f
        .solution
        .iter()
        .any(|s| s.contains("Access control (IAM)")));
    // The registry refused the pull for real.
    assert!(repo.evidence["registry_calls"].to_string().contains("401"));
    // This role reads ARM but cannot write role assignments.
    let w = r.finding("auth.repository", "ROLE_ASSIGNMENT_PERMISSION_MISSING");
    assert_eq!(w.evidence["scope"], registry_id(REG));
}

#[tokio::test(flavor = "multi_thread")]
async fn abac_mode_ignores_acrpush() {
    let bed = start(with_role_and_reader(
        bed_spec().registry(Registry::new(REG).abac()),
        "AcrPush",
    ))
    .await;
    let r = run_need(&bed, "pull").await;
    assert_eq!(
        r.outcome("registry.arm").evidence["role_assignment_mode"],
        "AbacRepositoryPermissions"
    );
    let repo = r.outcome("auth.repository");
    assert_eq!(repo.status, CheckStatus::Fail);
    assert_eq!(r.codes("auth.repository")[0], "ABAC_LEGACY_ROLE_IGNORED");
    let f = r.finding("auth.repository", "ABAC_LEGACY_ROLE_IGNORED");
    assert!(
        f.evidence["ignored_roles"]
            .as_array()
            .is_some_and(|roles| roles.contains(&Value::from("AcrPush"))),
        "{:?}",
        f.evidence
    );
    let cmd = &f.commands[0];
    assert!(cmd.starts_with(&format!(
        "az role assignment create --role \"Container Registry Repository Reader\" --assignee {} --scope {}",
        ids::SP_OBJECT_ID,
        registry_id(REG)
    )));
    assert!(cmd.contains("StringEqualsIgnoreCase 'app'"), "{cmd}");
    assert!(cmd.ends_with("--condition-version \"2.0\""), "{cmd}");
    assert!(f.solution.iter().any(|s| s.contains("Properties")));
    // Catalog not needed: an info finding, not an error.
    let cat = r.outcome("auth.catalog");
    assert_eq!(cat.status, CheckStatus::Info);
    assert_eq!(cat.findings[0].code, Code::CATALOG_LISTER_MISSING);
    assert_eq!(cat.findings[0].severity, Some(Severity::Info));
}

fn writer_condition(repo: &str) -> String {
    acr_doctor::protocol::abac_condition::repository_condition(
        repo,
        &[REPO_READ, REPO_META_READ, REPO_WRITE, REPO_META_WRITE],
    )
}

/// An ABAC registry where sp is a Repository Writer on `covered` only, and a Reader.
async fn abac_writer_bed(covered: &str) -> TestBed {
    start(
        bed_spec()
            .registry(Registry::new(REG).abac())
            .assign_with_condition(
                "sp",
                "Container Registry Repository Writer",
                Scope::registry(REG),
                &writer_condition(covered),
            )
            .assign("sp", READER, Scope::Subscription),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn abac_condition_that_excludes_the_repository() {
    let bed = abac_writer_bed("web").await;
    let r = run_need(&bed, "pull,push").await;
    let repo = r.outcome("auth.repository");
    assert_eq!(repo.status, CheckStatus::Fail, "{repo:?}");
    assert_eq!(
        r.codes("auth.repository")[0],
        "ABAC_CONDITION_EXCLUDES_REPOSITORY"
    );
    let f = r.finding("auth.repository", "ABAC_CONDITION_EXCLUDES_REPOSITORY");
    let excluded = &f.evidence["conditions"][0];
    assert_eq!(excluded["role"], "Container Registry Repository Writer");
    assert!(
        excluded["condition"]
            .as_str()
            .unwrap_or("")
            .contains("StringEqualsIgnoreCase 'web'"),
        "{excluded}"
    );
    assert!(f.commands[0].contains("Container Registry Repository Writer"));
    assert!(f.commands[0].contains("StringEqualsIgnoreCase 'app'"));
    assert!(repo.evidence["registry_calls"].to_string().contains("401"));
}

#[tokio::test(flavor = "multi_thread")]
async fn abac_condition_that_includes_the_repository_and_the_catalog_lister() {
    let bed = abac_writer_bed("app").await;
    bed.push_test_image(REG, "app", "v1")
        .await
        .expect("push image");
    let r = run_need(&bed, "pull,push,catalog").await;
    let repo = r.outcome("auth.repository");
    assert_eq!(repo.status, CheckStatus::Pass, "{repo:?}");
    assert_eq!(
        repo.evidence["not_granted_not_needed"],
        serde_json::json!(["delete"])
    );
    // Catalog needed, no Catalog Lister: an error.
    let cat = r.outcome("auth.catalog");
    assert_eq!(cat.status, CheckStatus::Fail);
    assert_eq!(r.codes("auth.catalog"), vec!["CATALOG_LISTER_MISSING"]);
    let f = r.finding("auth.catalog", "CATALOG_LISTER_MISSING");
    assert!(f.commands[0].contains("Container Registry Repository Catalog Lister"));
    assert!(!f.commands[0].contains("--condition"));

    // With the Catalog Lister the real registry lists the catalog.
    bed.with_state(|s| {
        s.assign(
            "sp",
            "Container Registry Repository Catalog Lister",
            &Scope::registry(REG),
            None,
        )
    })
    .expect("assign");
    let r = run_need(&bed, "catalog").await;
    let cat = r.outcome("auth.catalog");
    assert_eq!(cat.status, CheckStatus::Pass, "{cat:?}");
    assert!(
        cat.message.contains("listed 1 repositories"),
        "{}",
        cat.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_arm_read_access_the_missing_actions_are_listed() {
    // The default bed: sp holds AcrPush only, which cannot read the registry through ARM.
    let bed = start(BedSpec::new()).await;
    let r = run_need(&bed, "pull,delete").await;
    let arm = r.outcome("registry.arm");
    assert_eq!(arm.status, CheckStatus::Warn);
    assert_eq!(r.codes("registry.arm"), vec!["ARM_PERMISSION_MISSING"]);
    assert!(r.engine.facts.arm_registry.is_none());
    assert_eq!(r.outcome("registry.cmk").status, CheckStatus::Skip);
    let repo = r.outcome("auth.repository");
    assert_eq!(repo.status, CheckStatus::Fail);
    let f = r.finding("auth.repository", "REPOSITORY_PERMISSION_MISSING");
    assert_eq!(f.evidence["missing"], serde_json::json!(["delete"]));
    assert_eq!(
        f.evidence["granted"],
        serde_json::json!(["pull", "push", "metadata_read", "metadata_write"])
    );
    // Both modes' fixes, the scope looked up by the command itself.
    assert!(f
        .commands
        .iter()
        .any(|c| c.contains("\"AcrDelete\"") && c.contains("$(az acr show --name contosoreg")));
    assert!(f
        .commands
        .iter()
        .any(|c| c.contains("Container Registry Repository Contributor")));
}

#[tokio::test(flavor = "multi_thread")]
async fn arm_forbidden_is_a_warning_with_the_arm_error() {
    let bed =
        start(with_role_and_reader(bed_spec(), "AcrPull").fault(Some(REG), Fault::ArmForbidden))
            .await;
    let r = run(
        &bed,
        Opts::new(
            "sp",
            &["--repository", "app", "--subscription", ids::SUBSCRIPTION],
        ),
    )
    .await;
    let arm = r.outcome("registry.arm");
    assert_eq!(arm.status, CheckStatus::Warn, "{arm:?}");
    let f = r.finding("registry.arm", "ARM_PERMISSION_MISSING");
    assert!(f.detail.contains(REG));
    // Later checks still run and pass on the token alone.
    assert_eq!(r.outcome("auth.repository").status, CheckStatus::Pass);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_arm_token_skips_registry_settings() {
    let bed = start(BedSpec::new()).await;
    let mut opts = Opts::new("sp", &[]);
    opts.arm_token = false;
    let r = run(&bed, opts).await;
    let arm = r.outcome("registry.arm");
    assert_eq!(arm.status, CheckStatus::Skip);
    // No other identity can read the settings either: the check says what is missing.
    assert_eq!(arm.evidence["missing"], "registry_settings");
    assert!(arm.findings.is_empty());
    assert_eq!(r.outcome("auth.repository").status, CheckStatus::Skip);
}

#[tokio::test(flavor = "multi_thread")]
async fn recently_granted_role_not_yet_in_the_token() {
    let bed = start(
        bed_spec()
            .assign("sp", ARM_ONLY, Scope::registry(REG))
            .assign("sp", READER, Scope::ResourceGroup),
    )
    .await;
    // Reader at the resource group gives pull in legacy mode; take it away for the token.
    bed.with_state(|s| {
        s.assignments.retain(|a| {
            !a.role_definition_id
                .eq_ignore_ascii_case(ids::roles::READER)
        })
    });
    let mut opts = Opts::new("sp", &["--repository", "app"]);
    opts.after_token = Some(Box::new(|bed: &TestBed| {
        bed.with_state(|s| s.assign("sp", "AcrPull", &Scope::registry(REG), None))
            .expect("assign");
    }));
    // The bed stamps assignments 2024-02-01T10:00:00Z: pretend it is ten minutes later.
    let stamp = time::macros::datetime!(2024-02-01 10:10:00 UTC).unix_timestamp();
    opts.clock_offset = stamp - time::OffsetDateTime::now_utc().unix_timestamp();
    let r = run(&bed, opts).await;
    let repo = r.outcome("auth.repository");
    assert_eq!(repo.status, CheckStatus::Fail, "{repo:?}");
    assert_eq!(
        r.codes("auth.repository")[0],
        "REPOSITORY_PERMISSION_MISSING"
    );
    let info = r.finding("auth.repository", "PERMISSION_RECENTLY_CHANGED");
    assert_eq!(info.evidence["roles"], serde_json::json!(["AcrPull"]));
    // Timing makes it likely; nothing proves it.
    assert_eq!(info.confidence, acr_doctor::finding::Confidence::Inferred);
    assert_eq!(info.alternatives, vec![Code::REPOSITORY_PERMISSION_MISSING]);
}

#[tokio::test(flavor = "multi_thread")]
async fn principal_with_and_without_pull() {
    let bed = start(
        bed_spec()
            .assign(
                "sp",
                "Role Based Access Control Administrator",
                Scope::Subscription,
            )
            .assign("mi", "AcrPull", Scope::registry(REG)),
    )
    .await;
    let r = run_principal(&bed).await;
    let p = r.outcome("auth.principal");
    assert_eq!(p.status, CheckStatus::Pass, "{p:?}");
    assert_eq!(
        p.evidence["can"],
        serde_json::json!(["pull", "metadata_read"])
    );
    assert!(
        p.evidence["cannot"]
            .as_array()
            .is_some_and(|a| a.contains(&Value::from("push"))),
        "{:?}",
        p.evidence
    );

    // Without AcrPull: the kubelet cannot pull, and the fix names it as the assignee.
    bed.with_state(|s| s.unassign_all("mi"));
    let r = run_principal(&bed).await;
    let p = r.outcome("auth.principal");
    assert_eq!(p.status, CheckStatus::Fail, "{p:?}");
    let f = r.finding("auth.principal", "RBAC_ROLE_MISSING");
    assert_eq!(
        f.commands[0],
        format!(
            "az role assignment create --role \"AcrPull\" --assignee {} --scope {}",
            ids::MI_OBJECT_ID,
            registry_id(REG)
        )
    );
    assert!(f.commands.iter().any(|c| c.contains("az ad sp show --id")));
    // The caller may assign roles: no ROLE_ASSIGNMENT_PERMISSION_MISSING.
    assert!(!r
        .codes("auth.principal")
        .contains(&"ROLE_ASSIGNMENT_PERMISSION_MISSING"));
}

#[tokio::test(flavor = "multi_thread")]
async fn principal_in_abac_mode_with_legacy_role() {
    let bed = start(
        bed_spec()
            .registry(Registry::new(REG).abac())
            .assign("sp", READER, Scope::Subscription)
            .assign("mi", "AcrPull", Scope::registry(REG)),
    )
    .await;
    let r = run_principal(&bed).await;
    let p = r.outcome("auth.principal");
    assert_eq!(p.status, CheckStatus::Fail);
    let f = r.finding("auth.principal", "ABAC_LEGACY_ROLE_IGNORED");
    assert!(f.commands[0].contains(&format!("--assignee {}", ids::MI_OBJECT_ID)));
    // Reader cannot write role assignments.
    assert!(r
        .codes("auth.principal")
        .contains(&"ROLE_ASSIGNMENT_PERMISSION_MISSING"));
}

#[tokio::test(flavor = "multi_thread")]
async fn cmk_identity_missing() {
    let bed = start(with_role_and_reader(
        bed_spec().registry(Registry::new(REG).cmk(true)),
        "AcrPull",
    ))
    .await;
    let r = run(&bed, Opts::new("sp", &[])).await;
    assert_eq!(r.outcome("registry.cmk").status, CheckStatus::Pass);
    assert_eq!(r.outcome("registry.arm").evidence["encryption"], "enabled");

    bed.set_fault(Some(REG), Fault::CmkIdentityMissing);
    let r = run(&bed, Opts::new("sp", &[])).await;
    let cmk = r.outcome("registry.cmk");
    assert_eq!(cmk.status, CheckStatus::Fail);
    let f = r.finding("registry.cmk", "CMK_ERROR");
    assert!(f.detail.contains(ids::MI_CLIENT_ID), "{}", f.detail);
}

#[tokio::test(flavor = "multi_thread")]
async fn push_and_delete_are_proven_without_writing_anything() {
    let bed = start(
        bed_spec()
            .assign("sp", "AcrPush", Scope::registry(REG))
            .assign("sp", "AcrDelete", Scope::registry(REG)),
    )
    .await;
    bed.push_test_image(REG, "app", "v1")
        .await
        .expect("push image");
    let before = registry_state(&bed, "app").await;
    let uploads = |bed: &TestBed| {
        walk(bed.dir())
            .into_iter()
            .filter(|p| p.contains("_uploads/"))
            .collect::<Vec<_>>()
    };
    let uploads_before = uploads(&bed);
    let r = run(
        &bed,
        Opts::new(
            "sp",
            &[
                "--repository",
                "app",
                "--need",
                "pull,push,delete",
                "--probe-writes",
            ],
        ),
    )
    .await;
    let repo = r.outcome("auth.repository");
    assert_eq!(repo.status, CheckStatus::Pass, "{repo:?}");
    assert_eq!(
        repo.evidence["proven_by_registry"],
        serde_json::json!(["pull", "push", "delete"])
    );
    let calls = repo.evidence["registry_calls"].to_string();
    assert!(
        calls.contains("PATCH /v2/app/blobs/uploads/acr-doctor-probe-"),
        "{calls}"
    );
    assert!(
        calls.contains("DELETE /v2/app/manifests/sha256:0000"),
        "{calls}"
    );
    assert_eq!(registry_state(&bed, "app").await, before);
    // Not even an upload session appears in the registry's storage.
    assert_eq!(uploads(&bed), uploads_before);
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            out.push(p.display().to_string());
            if p.is_dir() {
                out.extend(walk(&p));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// How the registry is found in ARM: one request, with a fallback.

/// ARM requests of the last run, as `METHOD path?query`.
fn arm_requests(bed: &TestBed) -> Vec<String> {
    bed.request_log()
        .into_iter()
        .filter(|r| r.listener == "arm")
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query.unwrap_or_default()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_registry_is_found_with_one_arm_request() {
    let bed = start(with_role_and_reader(bed_spec(), "AcrPush")).await;
    bed.clear_request_log();
    let r = run(
        &bed,
        Opts::new(
            "sp",
            &["--repository", "app", "--subscription", ids::SUBSCRIPTION],
        ),
    )
    .await;
    assert_eq!(r.outcome("registry.arm").status, CheckStatus::Pass);
    let reg: &ArmRegistry = r
        .engine
        .facts
        .arm_registry
        .as_ref()
        .expect("arm registry fact");
    assert_eq!(reg.id, registry_id(REG));
    assert_eq!(reg.resource_group, ids::RESOURCE_GROUP);
    let arm = arm_requests(&bed);
    let lookups: Vec<&String> = arm
        .iter()
        .filter(|r| !r.starts_with("HEAD "))
        .filter(|r| !r.contains("Microsoft.Authorization") && !r.contains("Microsoft.Network"))
        .collect();
    assert_eq!(lookups.len(), 1, "{arm:#?}");
    assert!(
        lookups[0].contains("/providers/Microsoft.ContainerRegistry/registries?"),
        "{lookups:?}"
    );
    assert!(!lookups[0].contains("/resourceGroups/"), "{lookups:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unusable_registry_listing_falls_back_to_the_filtered_lookup() {
    let bed = start(with_role_and_reader(bed_spec(), "AcrPush")).await;
    bed.set_fault(
        None,
        "mangle=*/providers/Microsoft.ContainerRegistry/registries:not-json"
            .parse::<Fault>()
            .expect("fault"),
    );
    bed.clear_request_log();
    let r = run(&bed, Opts::new("sp", &["--repository", "app"])).await;
    let arm_check = r.outcome("registry.arm");
    assert_eq!(arm_check.status, CheckStatus::Pass, "{arm_check:?}");
    assert_eq!(arm_check.evidence["registry_id"], registry_id(REG));
    let arm = arm_requests(&bed);
    assert!(arm.iter().any(|r| r.contains("/resources?")), "{arm:#?}");
    assert!(
        arm.iter()
            .any(|r| r.contains(&format!("/registries/{REG}?"))),
        "{arm:#?}"
    );
}

// What an authorization failure costs in ARM requests: the role assignments and every role
// definition are read beside the token exchange, in one listing each.

#[tokio::test(flavor = "multi_thread")]
async fn rbac_role_missing_reads_roles_beside_the_token_exchange() {
    let bed = start(bed_spec().assign("sp", ARM_ONLY, Scope::registry(REG))).await;
    // A slow registry: what ARM is asked while the registry is probed shows in the log before
    // the probe's answer (the log is written as requests are answered).
    bed.set_fault(Some(REG), "slow=150".parse::<Fault>().expect("fault"));
    bed.clear_request_log();
    let r = run(&bed, Opts::new("sp", &["--repository", "app"])).await;
    assert_eq!(r.codes("auth.repository")[0], "RBAC_ROLE_MISSING");
    let f = r.finding("auth.repository", "RBAC_ROLE_MISSING");
    let roles = f.evidence["role_assignments"].to_string();
    // The role's name comes from ARM's listing, not the built-in table.
    assert!(roles.contains(ARM_ONLY), "{roles}");

    let log = bed.request_log();
    let arm = arm_requests(&bed);
    // Role definitions: one listing, no read per role.
    let definitions: Vec<&String> = arm
        .iter()
        .filter(|r| r.contains("/providers/Microsoft.Authorization/roleDefinitions"))
        .collect();
    assert_eq!(definitions.len(), 1, "{arm:#?}");
    assert!(
        definitions[0].contains("/roleDefinitions?"),
        "{definitions:?}"
    );
    // Role assignments: one listing, for this principal, at the registry.
    let assignments: Vec<&String> = arm
        .iter()
        .filter(|r| r.contains("/providers/Microsoft.Authorization/roleAssignments"))
        .collect();
    assert_eq!(assignments.len(), 1, "{arm:#?}");
    assert!(
        assignments[0].contains(&registry_id(REG)),
        "{assignments:?}"
    );
    // Both (and whether the caller may assign roles) were asked as soon as the registry was
    // found, beside the registry's probes, not after the token proved something missing.
    let at = |pred: &dyn Fn(&acr_testbed::LoggedRequest) -> bool| {
        log.iter()
            .position(pred)
            .unwrap_or_else(|| panic!("not in the log: {log:#?}"))
    };
    let probe = at(&|q| q.listener == "registry" && q.path.starts_with("/v2/app/"));
    let may_assign = at(&|q| {
        q.path
            .ends_with("/providers/Microsoft.Authorization/permissions")
    });
    let listed = at(&|q| {
        q.path
            .ends_with("/providers/Microsoft.Authorization/roleAssignments")
    });
    let defined = at(&|q| {
        q.path
            .ends_with("/providers/Microsoft.Authorization/roleDefinitions")
    });
    assert!(listed < probe, "{log:#?}");
    assert!(defined < probe, "{log:#?}");
    assert!(may_assign < probe, "{log:#?}");
}

// ---------------------------------------------------------------------------------------------
// Images and locks (`--repository REPO:TAG`, `auth.image`, `auth.lock`), through the built
// binary and its JSON report.

/// Runs the built binary, `-o json check` on the bed's registry with `extra`, as the service
/// principal of the environment unless `extra` says otherwise (the Docker checks skipped: they
/// are about this machine, not the registry). Exit status and report.
async fn binary_report(bed: &TestBed, extra: &[&str]) -> (Option<i32>, Value) {
    let home = support::temp_home();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_acr-doctor"));
    cmd.args(["--output", "json", "check"])
        .args(bed.check_args(REG))
        .args(["--timeout", "5", "--skip", "docker"])
        .args(extra)
        .env_clear()
        .envs(bed.env())
        .env("HOME", home.path())
        .env("DOCKER_CONFIG", home.path().join(".docker"))
        .env("AZURE_CONFIG_DIR", home.path().join(".azure"))
        .env("PATH", "/usr/bin:/bin")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    if !extra.contains(&"--auth") {
        cmd.args(["--auth", "env"]).envs(bed.sp_env());
    }
    let out = tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("the run ends")
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("CANARY"), "a secret leaked: {stdout}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{extra:?}: no JSON report ({e}), exit {:?}\n{stdout}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

fn check_json<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check {id}: {report:#}"))
}

fn finding_json<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["code"] == code))
        .unwrap_or_else(|| panic!("no {code}: {:#}", report["findings"]))
}

fn codes_json(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|f| f["code"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn commands_json(finding: &Value) -> Vec<String> {
    finding["commands"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|c| c.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// sp may pull, push and delete (AcrPush and AcrDelete) and read the registry in ARM.
fn writer_bed() -> BedSpec {
    with_role_and_reader(bed_spec(), "AcrPush").assign("sp", "AcrDelete", Scope::registry(REG))
}

#[tokio::test(flavor = "multi_thread")]
async fn locks_on_the_repository_or_tag_are_artifact_locked_with_the_fix() {
    let bed = start(writer_bed()).await;
    bed.push_test_image(REG, "app", "1.0").await.expect("push");

    // Nothing locked: the attributes are read and allow the writes.
    let (code, r) = binary_report(
        &bed,
        &["--repository", "app:1.0", "--need", "pull,push,delete"],
    )
    .await;
    assert_eq!(code, Some(0), "{:#}", r["findings"]);
    assert_eq!(r["target"]["repository"], "app");
    assert_eq!(r["target"]["tag"], "1.0");
    let lock = check_json(&r, "auth.lock");
    assert_eq!(lock["status"], "pass", "{lock:#}");
    assert_eq!(lock["evidence"]["checked"], true);
    assert_eq!(
        lock["evidence"]["attributes"]["tag"]["writeEnabled"], true,
        "{lock:#}"
    );
    // The scope asked for and the registry paths carry the bare repository.
    let token = check_json(&r, "identity.access_token");
    assert!(
        token["message"]
            .as_str()
            .unwrap_or("")
            .contains("repository:app:pull"),
        "{token:#}"
    );

    // The repository is write-locked: pushes are refused whatever the role.
    bed.set_fault(
        Some(REG),
        Fault::ArtifactLocked {
            target: "app".into(),
        },
    );
    let (code, r) = binary_report(&bed, &["--repository", "app:1.0", "--need", "pull,push"]).await;
    assert_eq!(code, Some(1));
    assert_eq!(check_json(&r, "auth.repository")["status"], "pass");
    assert_eq!(codes_json(&r), ["ARTIFACT_LOCKED"]);
    let f = finding_json(&r, "ARTIFACT_LOCKED");
    assert_eq!(f["check"], "auth.lock");
    assert_eq!(
        f["evidence"]["locked"],
        serde_json::json!([{"on": "repository", "name": "app", "attribute": "writeEnabled",
                            "value": false, "blocks": ["push"]}])
    );
    let commands = commands_json(f);
    assert!(
        commands.contains(
            &"az acr repository update --name contosoreg --repository app --write-enabled true"
                .to_string()
        ),
        "{commands:#?}"
    );

    // Only the tag's deletion is locked: a push is fine, a delete is not.
    bed.clear_faults();
    bed.set_fault(
        Some(REG),
        Fault::DeleteLocked {
            target: "app:1.0".into(),
        },
    );
    let (code, r) = binary_report(&bed, &["--repository", "app:1.0", "--need", "push"]).await;
    assert_eq!(code, Some(0), "{:#}", r["findings"]);
    assert_eq!(check_json(&r, "auth.lock")["status"], "pass");
    let (code, r) = binary_report(&bed, &["--repository", "app:1.0", "--need", "delete"]).await;
    assert_eq!(code, Some(1));
    let f = finding_json(&r, "ARTIFACT_LOCKED");
    assert_eq!(f["evidence"]["locked"][0]["on"], "tag");
    assert_eq!(f["evidence"]["locked"][0]["name"], "app:1.0");
    assert_eq!(f["evidence"]["locked"][0]["attribute"], "deleteEnabled");
    assert!(
        commands_json(f).contains(
            &"az acr repository update --name contosoreg --image app:1.0 --delete-enabled true"
                .to_string()
        ),
        "{f:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_writes_are_evidence_and_unreadable_locks_are_not_guessed() {
    // A repository-scoped token that may pull, push and delete but not read metadata.
    let token = RepoToken::new(
        "ci-token",
        &[
            "repositories/app/content/read",
            "repositories/app/content/write",
            "repositories/app/content/delete",
        ],
    );
    let bed = start(writer_bed().registry(Registry::new(REG).token(token))).await;
    bed.push_test_image(REG, "app", "1.0").await.expect("push");
    bed.set_fault(
        Some(REG),
        Fault::ArtifactLocked {
            target: "app".into(),
        },
    );

    // The service principal, with --probe-writes: the lock is read, and the registry's refusal
    // of the push probe is kept as evidence, in ACR's words.
    let (_, r) = binary_report(
        &bed,
        &[
            "--repository",
            "app:1.0",
            "--need",
            "push",
            "--probe-writes",
        ],
    )
    .await;
    let f = finding_json(&r, "ARTIFACT_LOCKED");
    assert_eq!(f["confidence"], "proven");
    let refusal = &f["evidence"]["registry_refusals"][0];
    assert_eq!(refusal["status"], 405, "{f:#}");
    assert_eq!(refusal["code"], "REGISTRY_DISALLOWED_OPERATION");
    assert!(
        refusal["message"]
            .as_str()
            .unwrap_or("")
            .contains("The operation is disallowed on this registry, repository or image"),
        "{refusal:#}"
    );

    // The token cannot read the attributes: the lock is not checked, and not guessed.
    let basic = [
        "--auth",
        "basic",
        "--username",
        "ci-token",
        "--password",
        "CANARY-TOKEN-ci-token-1",
        "--repository",
        "app:1.0",
        "--need",
        "push",
    ];
    let (code, r) = binary_report(&bed, &basic).await;
    assert_eq!(code, Some(0), "{:#}", r["findings"]);
    let lock = check_json(&r, "auth.lock");
    assert_eq!(lock["status"], "info", "{lock:#}");
    assert_eq!(lock["evidence"]["checked"], false);
    assert!(
        lock["evidence"]["attributes"]["repository"]["unreadable"]
            .as_str()
            .unwrap_or("")
            .contains("401"),
        "{lock:#}"
    );
    assert!(!codes_json(&r).contains(&"ARTIFACT_LOCKED".to_string()));

    // The same with --probe-writes: the registry's own refusal says it, as an inference.
    let mut probing = basic.to_vec();
    probing.push("--probe-writes");
    let (code, r) = binary_report(&bed, &probing).await;
    assert_eq!(code, Some(1));
    let f = finding_json(&r, "ARTIFACT_LOCKED");
    assert_eq!(f["confidence"], "inferred", "{f:#}");
    assert_eq!(
        f["evidence"]["registry_refusals"][0]["code"],
        "REGISTRY_DISALLOWED_OPERATION"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_tag_or_repository_is_image_not_found_with_what_exists() {
    let bed = start(writer_bed()).await;
    for tag in ["1.0", "latest"] {
        bed.push_test_image(REG, "app", tag).await.expect("push");
    }
    // The tag exists.
    let (code, r) = binary_report(&bed, &["--repository", "app:1.0"]).await;
    assert_eq!(code, Some(0), "{:#}", r["findings"]);
    let image = check_json(&r, "auth.image");
    assert_eq!(image["status"], "pass");
    assert_eq!(image["evidence"]["exists"], true);

    // A tag in the wrong letter case: access works, the image is not there.
    let (code, r) = binary_report(&bed, &["--repository", "app:Latest"]).await;
    assert_eq!(code, Some(1));
    assert_eq!(check_json(&r, "auth.repository")["status"], "pass");
    assert_eq!(codes_json(&r), ["IMAGE_NOT_FOUND"]);
    let f = finding_json(&r, "IMAGE_NOT_FOUND");
    assert_eq!(f["check"], "auth.image");
    assert_eq!(f["evidence"]["repository"], "app");
    assert_eq!(f["evidence"]["tag"], "Latest");
    assert_eq!(f["evidence"]["repository_exists"], true);
    assert_eq!(f["evidence"]["tags_found"], 2);
    assert_eq!(
        f["evidence"]["tags_sample"],
        serde_json::json!(["1.0", "latest"])
    );
    assert_eq!(f["evidence"]["nearest_tag"], "latest");
    // The fix lists the tags of the bare repository.
    let commands = commands_json(f);
    assert!(
        commands
            .iter()
            .any(|c| c
                .starts_with("az acr repository show-tags --name contosoreg --repository app ")),
        "{commands:#?}"
    );
    assert!(
        !commands
            .iter()
            .any(|c| c.contains("app:Latest") && c.contains("--repository")),
        "{commands:#?}"
    );

    // A repository that does not exist.
    let (code, r) = binary_report(&bed, &["--repository", "web:1.0"]).await;
    assert_eq!(code, Some(1));
    let f = finding_json(&r, "IMAGE_NOT_FOUND");
    assert_eq!(f["evidence"]["repository_exists"], false, "{f:#}");

    // A digest nothing has.
    let digest = format!("sha256:{}", "0".repeat(64));
    let by_digest = format!("app@{digest}");
    let (_, r) = binary_report(&bed, &["--repository", &by_digest]).await;
    let f = finding_json(&r, "IMAGE_NOT_FOUND");
    assert_eq!(f["evidence"]["digest"], digest.as_str());
    assert_eq!(r["target"]["digest"], digest.as_str());

    // Only pushing: a tag that is not there yet is what the push creates.
    let (code, r) = binary_report(&bed, &["--repository", "app:2.0", "--need", "push"]).await;
    assert_eq!(code, Some(0), "{:#}", r["findings"]);
    let image = check_json(&r, "auth.image");
    assert_eq!(image["status"], "info");
    assert_eq!(image["evidence"]["exists"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_tag_list_is_read_page_by_page() {
    let bed = start(writer_bed()).await;
    for i in 0..150 {
        bed.push_test_image(REG, "app", &format!("t{i:03}"))
            .await
            .expect("push");
    }
    let (_, r) = binary_report(&bed, &["--repository", "app:v149"]).await;
    let f = finding_json(&r, "IMAGE_NOT_FOUND");
    assert_eq!(f["evidence"]["tags_found"], 150, "{f:#}");
    // The closest tag sits on the second page.
    assert_eq!(f["evidence"]["nearest_tag"], "t149");
    let image = check_json(&r, "auth.image");
    assert_eq!(image["evidence"]["tags_listing_complete"], true);
    let pages = image["evidence"]["registry_calls"]
        .as_array()
        .expect("calls")
        .iter()
        .filter(|c| c["call"].as_str().unwrap_or("").contains("/tags/list"))
        .count();
    assert_eq!(pages, 2, "{image:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_without_the_platform_is_image_platform_mismatch() {
    let bed = start(writer_bed()).await;
    bed.push_test_image(REG, "app", "1.0").await.expect("push");
    let (code, r) = binary_report(
        &bed,
        &["--repository", "app:1.0", "--platform", "linux/arm64"],
    )
    .await;
    assert_eq!(code, Some(1));
    let f = finding_json(&r, "IMAGE_PLATFORM_MISMATCH");
    assert_eq!(f["evidence"]["platform_wanted"], "linux/arm64");
    assert_eq!(
        f["evidence"]["platforms"],
        serde_json::json!(["linux/amd64"])
    );
    let (code, r) = binary_report(
        &bed,
        &["--repository", "app:1.0", "--platform", "linux/x86_64"],
    )
    .await;
    assert_eq!(code, Some(0), "{:#}", r["findings"]);
    assert_eq!(check_json(&r, "auth.image")["status"], "pass");
}
