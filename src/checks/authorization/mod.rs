//! RBAC and ABAC analysis, proven with real registry calls.
//!
//! `registry.arm` reads the registry through Azure Resource Manager; `registry.cmk` checks the
//! customer-managed-key identity; `auth.repository` compares what the access token grants on
//! `--repository` with `--need` and confirms it with read-only registry calls; `auth.catalog`
//! does the same for listing repositories; `auth.principal` evaluates another identity's role
//! assignments through ARM. Every missing permission is explained from the role assignments and
//! the registry's role-assignment mode when ARM can be read. With a tag or digest in
//! `--repository`, `auth.image` (image.rs) looks the image up; with `--need push|delete`,
//! `auth.lock` (lock.rs) reads the repository's and image's locks.

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{registry_name, BasicKind, Check, CheckCx, Credential, Fact, Group, Meta, Outcome};
use crate::azure::arm::{self, Arm, ArmError, RegistrySettings};
use crate::azure::roles::{self, names, AssignedRole, Mode};
use crate::checks::{ArmRegistry, LoginServer};
use crate::cli::{CheckArgs, Need};
use crate::finding::{RawFinding, Severity};
use crate::lang::Lang;
use crate::protocol::abac_condition;
use crate::redact::Secret;
use crate::trust::Carry;

mod image;
mod lock;

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(RegistryArm),
        Box::new(RegistryCmk),
        Box::new(AuthRepository),
        Box::new(image::AuthImage),
        Box::new(lock::AuthLock),
        Box::new(AuthCatalog),
        Box::new(AuthPrincipal),
    ]
}

/// Assignments created this recently may not be in effect yet.
pub(crate) const RECENT_MINUTES: i64 = 30;

// ---------------------------------------------------------------------------------------------
// Shared helpers

pub(crate) fn arm_client<'a>(cx: &'a CheckCx<'a>, token: Secret) -> Arm<'a> {
    let cloud = crate::checks::cloud(cx);
    Arm::new(cx.ctx, arm::endpoint(cx.ctx, cloud), token)
}

/// Repository actions asked for by `--need` (pull when nothing is given).
fn repository_needs(args: &CheckArgs) -> Vec<&'static str> {
    if args.need.is_empty() {
        return vec!["pull"];
    }
    let mut out: Vec<&'static str> = args
        .need
        .iter()
        .filter(|n| **n != Need::Catalog)
        .map(|n| n.action())
        .collect();
    out.sort_by_key(|a| roles::REPOSITORY_ACTIONS.iter().position(|x| x == a));
    out.dedup();
    out
}

fn catalog_needed(args: &CheckArgs) -> bool {
    args.need.contains(&Need::Catalog)
}

pub(crate) fn mode_of(reg: &ArmRegistry) -> Mode {
    Mode::from_arm(&RegistrySettings::of(reg).role_assignment_mode)
}

fn join(items: &[&str]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}

fn roles_evidence(roles: &[AssignedRole], registry_id: &str) -> Value {
    Value::from(
        roles
            .iter()
            .map(|r| r.describe(registry_id))
            .collect::<Vec<_>>(),
    )
}

/// Portal guidance for role assignments, in the run's language.
pub(crate) fn portal_step(cx: &CheckCx<'_>, mode: Option<Mode>) -> String {
    let mut en = String::from(
        "In the Azure portal: open the registry > Access control (IAM) > Add role assignment.",
    );
    let mut ja = String::from(
        "Azure portal では、レジストリ > アクセス制御 (IAM) > ロールの割り当ての追加 を開きます。",
    );
    if let Some(mode) = mode {
        en.push_str(&format!(
            " The registry's role assignment permissions mode is \"{}\" (registry > Properties).",
            mode.portal_name()
        ));
        ja.push_str(&format!(
            " このレジストリのロール割り当てアクセス許可モードは \"{}\" です (レジストリ > プロパティ)。",
            mode.portal_name()
        ));
    }
    cx.t(en, ja)
}

/// `$(az acr show ...)` when the registry id is unknown.
fn scope_or_lookup(reg: Option<&ArmRegistry>, name: &str) -> String {
    match reg {
        Some(r) => r.id.clone(),
        None => format!("$(az acr show --name {name} --query id --output tsv)"),
    }
}

/// Role assignments of `principal` at the registry, read once per run (several checks ask).
pub(crate) async fn assignments(
    cx: &CheckCx<'_>,
    arm: &Arm<'_>,
    registry_id: &str,
    principal: &str,
) -> Result<Vec<AssignedRole>, ArmError> {
    assignments_in(cx.ctx, arm, registry_id, principal).await
}

async fn assignments_in(
    ctx: &crate::context::Context,
    arm: &Arm<'_>,
    registry_id: &str,
    principal: &str,
) -> Result<Vec<AssignedRole>, ArmError> {
    let key = format!(
        "arm.role_assignments:{}:{}",
        registry_id.to_ascii_lowercase(),
        principal.trim().to_ascii_lowercase()
    );
    ctx.once(&key, || roles::assignments_for(arm, registry_id, principal))
        .await
}

/// Starts, in the background, the ARM reads a permission finding needs (the role assignments
/// of the credential's identity and of `--principal`, every role definition in one listing,
/// whether the caller may assign roles), as soon as the registry's resource ID is known: they
/// then run beside the token exchange and the registry probes, and auth.repository,
/// auth.catalog and auth.principal find them read (same `Context::once` keys). Reads only.
fn prefetch_authorization(
    cx: &CheckCx<'_>,
    token: &Secret,
    reg: &ArmRegistry,
    credential: Option<&Credential>,
) {
    let mut principals: Vec<String> = Vec::new();
    let asks =
        cx.args.repository.is_some() || catalog_needed(cx.args) || mode_of(reg) == Mode::Abac;
    if asks {
        if let Some(Credential::Entra { claims, .. }) = credential {
            principals.extend(claims.object_id.clone());
        }
    }
    if let Some(p) = &cx.args.principal {
        principals.push(p.trim().to_ascii_lowercase());
    }
    if principals.is_empty() {
        return;
    }
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let cloud = crate::checks::cloud(cx);
    let endpoint = arm::endpoint(cx.ctx, cloud);
    let ctx = cx.ctx.clone();
    let token = token.clone();
    let registry_id = reg.id.clone();
    let check_fix = cx.args.repository.is_some();
    handle.spawn(async move {
        let arm = Arm::new(&ctx, endpoint, token);
        let reads = principals
            .iter()
            .map(|p| assignments_in(&ctx, &arm, &registry_id, p));
        let can_assign = async {
            if check_fix {
                let _ = roles::can_assign_roles(&arm, &registry_id).await;
            }
        };
        let _ = futures::join!(futures::future::join_all(reads), can_assign);
    });
}

// ---------------------------------------------------------------------------------------------
// registry.arm

struct RegistryArm;

impl Check for RegistryArm {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "registry.arm",
            Group::Registry,
            "registry settings",
            "レジストリ設定",
        )
        .needs(&[Fact::Credential])
        .uses(&[Fact::RegistryName])
        .provides(&[Fact::ArmRegistry])
        // The DNS answer, only when the registry is not found, to tell a missing registry.
        .consults(&[Fact::Dns]);
        &META
    }
    fn preconnect(&self, cx: &CheckCx<'_>) -> Option<String> {
        let cloud = crate::checks::cloud(cx);
        super::env_service_principal(cx, false).then(|| arm::endpoint(cx.ctx, cloud))
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { registry_arm(cx).await })
    }
}

async fn registry_arm(cx: &CheckCx<'_>) -> Outcome {
    let (token, credential) = {
        let f = cx.facts();
        (f.arm_token.clone(), f.credential.clone())
    };
    let source = credential
        .as_ref()
        .map(|c| c.source().to_string())
        .unwrap_or_else(|| "-".into());
    let name = registry_name(cx);
    let Some(token) = token else {
        return through_another_identity(cx, &name, &source, credential.as_ref()).await;
    };
    let client = arm_client(cx, token.clone());
    let endpoint = client.endpoint().to_string();
    let (found, searched, error) = find_registry(cx, &client, &name).await;
    let Some(reg) = found else {
        // Denied or not visible to this identity: another identity may still read the settings.
        // The credential's own ARM access stays a finding.
        if error.as_ref().is_none_or(|e| e.is_denied()) {
            match try_readers(cx, &name, &source, credential.as_ref()).await {
                Ok(outcome) => {
                    let own = arm_unreadable(cx, &name, &endpoint, &searched, error).await;
                    let mut outcome = outcome;
                    for f in own.findings {
                        outcome = outcome.finding(f);
                    }
                    if outcome.status == crate::report::CheckStatus::Pass {
                        outcome.status = crate::report::CheckStatus::Warn;
                    }
                    return outcome;
                }
                Err(tried) => {
                    return arm_unreadable(cx, &name, &endpoint, &searched, error)
                        .await
                        .evidence("tried", tried);
                }
            }
        }
        return arm_unreadable(cx, &name, &endpoint, &searched, error).await;
    };
    prefetch_authorization(cx, &token, &reg, credential.as_ref());
    settings_outcome(cx, reg, endpoint, None)
}

/// Looks for the registry: `--subscription` only; else a preferred one, then every visible one.
async fn find_registry(
    cx: &CheckCx<'_>,
    client: &Arm<'_>,
    name: &str,
) -> (Option<ArmRegistry>, Vec<String>, Option<ArmError>) {
    let mut preferred: Vec<(String, &str)> = Vec::new();
    if let Some(s) = &cx.args.subscription {
        preferred.push((s.clone(), "--subscription"));
    } else if let Some(s) = cx.ctx.env("AZURE_SUBSCRIPTION_ID") {
        preferred.push((s.to_string(), "AZURE_SUBSCRIPTION_ID"));
    } else if let Some(s) = arm::cli_default_subscription(cx.ctx.env_map()) {
        preferred.push((s, "Azure CLI"));
    }
    let mut searched: Vec<String> = Vec::new();
    let mut found = None;
    let mut error: Option<ArmError> = None;
    for (sub, _) in &preferred {
        searched.push(sub.clone());
        match client.find_registry(name, std::slice::from_ref(sub)).await {
            Ok(Some(r)) => found = Some(r),
            Ok(None) => {}
            Err(e) => error = Some(e),
        }
    }
    if found.is_none() && cx.args.subscription.is_none() {
        match client.subscriptions().await {
            Ok(subs) => {
                let rest: Vec<String> = subs
                    .into_iter()
                    .filter(|s| !searched.iter().any(|x| x.eq_ignore_ascii_case(s)))
                    .collect();
                searched.extend(rest.iter().cloned());
                match client.find_registry(name, &rest).await {
                    Ok(Some(r)) => {
                        found = Some(r);
                        error = None;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        error.get_or_insert(e);
                    }
                }
            }
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    (found, searched, error)
}

/// The credential under test has no ARM token (basic credentials, a refresh token, the Docker
/// config's credential, or an Entra source whose ARM token was refused): reads the settings
/// through another identity at hand, one that can see the registry, and names it.
async fn through_another_identity(
    cx: &CheckCx<'_>,
    name: &str,
    source: &str,
    credential: Option<&Credential>,
) -> Outcome {
    let tried = match try_readers(cx, name, source, credential).await {
        Ok(outcome) => return outcome,
        Err(tried) => tried,
    };
    let missing = cx.t(
        "the registry's settings (admin user, role assignment mode, network rules, repository tokens)",
        "レジストリの設定 (管理者ユーザー、ロール割り当てモード、ネットワーク規則、リポジトリ トークン)",
    );
    Outcome::skip(cx.t(
        format!("the credential from {source} cannot read Azure Resource Manager and no other identity here can read registry {name}; missing evidence: {missing}. Sign in with `az login` (or set a service principal's AZURE_* variables) as an identity allowed to read the registry, and run again"),
        format!("{source} の資格情報では Azure Resource Manager を読み取れず、ほかにレジストリ {name} を読み取れる ID もありません。足りない証拠: {missing}。レジストリを読み取れる ID で `az login` する (またはサービス プリンシパルの AZURE_* 変数を設定する) と、次の実行で読み取ります"),
    ))
    .evidence("missing", "registry_settings")
    .evidence("tried", tried)
    .evidence("how_to_get_it", Value::from(vec![
        "az login".to_string(),
        format!("az acr show --name {name} --query \"{{adminUserEnabled:adminUserEnabled, roleAssignmentMode:roleAssignmentMode}}\""),
    ]))
}

/// The settings through the first other identity that can read the registry, or what each
/// identity tried answered.
async fn try_readers(
    cx: &CheckCx<'_>,
    name: &str,
    source: &str,
    credential: Option<&Credential>,
) -> Result<Outcome, Vec<Value>> {
    use crate::checks::identity::{arm_reader, reader_sources};
    let mut tried: Vec<Value> = Vec::new();
    for reader_source in reader_sources() {
        if reader_source.as_str() == source {
            continue;
        }
        let reader = match arm_reader(cx, reader_source).await {
            Ok(r) => r,
            Err(why) => {
                tried.push(json!({"source": reader_source.as_str(), "result": format!("unavailable: {why}")}));
                continue;
            }
        };
        let client = arm_client(cx, reader.token.clone());
        let endpoint = client.endpoint().to_string();
        let (found, searched, error) = find_registry(cx, &client, name).await;
        let Some(reg) = found else {
            let result = match error {
                Some(e) => format!("cannot read the registry: {e}"),
                None => format!(
                    "registry {name} not visible in subscription(s) {}",
                    if searched.is_empty() {
                        "-".to_string()
                    } else {
                        searched.join(", ")
                    }
                ),
            };
            tried.push(json!({"source": reader_source.as_str(), "identity": reader.describe(), "result": result}));
            continue;
        };
        tried.push(json!({"source": reader_source.as_str(), "identity": reader.describe(), "result": "used"}));
        let token_state = match credential {
            Some(Credential::Basic {
                username,
                kind: BasicKind::RepositoryToken,
                ..
            }) => Some(registry_token_state(&client, &reg, username).await),
            _ => None,
        };
        let read_by = (reader, source.to_string(), tried, token_state);
        return Ok(settings_outcome(cx, reg, endpoint, Some(read_by)));
    }
    Err(tried)
}

/// A repository-scoped token's state through ARM: status and password expiries, or why unread.
async fn registry_token_state(client: &Arm<'_>, reg: &ArmRegistry, token: &str) -> Value {
    let path = format!("{}/tokens/{token}", reg.id);
    match client.get(&path, arm::REGISTRY_API_VERSION, &[]).await {
        Ok(v) => {
            let props = v.get("properties");
            let passwords: Vec<Value> = props
                .and_then(|p| p.pointer("/credentials/passwords"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|p| json!({"name": p.get("name"), "expiry": p.get("expiry")}))
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "name": token,
                "status": props.and_then(|p| p.get("status")),
                "passwords": passwords,
            })
        }
        Err(e) => json!({"name": token, "unreadable": e.to_string()}),
    }
}

type ReadBy = (
    crate::checks::identity::ArmReader,
    String,
    Vec<Value>,
    Option<Value>,
);

/// The settings read, as the check's outcome; `read_by` names another identity that read them.
fn settings_outcome(
    cx: &CheckCx<'_>,
    reg: ArmRegistry,
    endpoint: String,
    read_by: Option<ReadBy>,
) -> Outcome {
    let s = RegistrySettings::of(&reg);
    let onoff = |b: Option<bool>| match b {
        Some(true) => cx.t("on", "有効"),
        Some(false) => cx.t("off", "無効"),
        None => "?".to_string(),
    };
    // Values ARM returns (`Enabled`, `Deny`, the mode's name) are evidence and stay as they are.
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
    let mode = Mode::from_arm(&s.role_assignment_mode);
    let summary = cx.t(
        format!(
            "mode {}, admin user {}, anonymous pull {}, public access {}, firewall {}, auth-as-arm {}, CMK {}",
            s.role_assignment_mode,
            onoff(s.admin_user),
            onoff(s.anonymous_pull),
            opt(&s.public_network_access),
            opt(&s.firewall_default_action),
            opt(&s.arm_audience_policy),
            opt(&s.encryption),
        ),
        format!(
            "ロール割り当てモード {}、管理者ユーザー {}、匿名プル {}、パブリック アクセス {}、ファイアウォール {}、ARM トークン認証 {}、CMK {}",
            s.role_assignment_mode,
            onoff(s.admin_user),
            onoff(s.anonymous_pull),
            opt(&s.public_network_access),
            opt(&s.firewall_default_action),
            opt(&s.arm_audience_policy),
            opt(&s.encryption),
        ),
    );
    let by = match &read_by {
        Some((reader, source, _, _)) => cx.t(
            format!(
                " (read as {} from {}, because the credential from {source} cannot read Azure Resource Manager)",
                reader.who(cx.lang),
                reader.source.as_str()
            ),
            format!(
                " ({source} の資格情報では Azure Resource Manager を読み取れないため、{} ({}) として読み取りました)",
                reader.who(cx.lang),
                reader.source.as_str()
            ),
        ),
        None => String::new(),
    };
    let message = cx.t(
        format!(
            "{} in {} ({}): {summary}{by}",
            reg.name, reg.resource_group, reg.subscription
        ),
        format!(
            "{} ({} / {}): {summary}{by}",
            reg.name, reg.resource_group, reg.subscription
        ),
    );
    let mut outcome = Outcome::pass(message)
        .evidence("registry_id", reg.id.clone())
        .evidence("subscription", reg.subscription.clone())
        .evidence("resource_group", reg.resource_group.clone())
        .evidence("arm_endpoint", endpoint)
        .evidence("api_version", arm::REGISTRY_API_VERSION)
        .evidence("role_assignment_mode", s.role_assignment_mode.clone())
        .evidence("role_assignment_mode_portal", mode.portal_name())
        .evidence("admin_user_enabled", s.admin_user)
        .evidence("anonymous_pull_enabled", s.anonymous_pull)
        .evidence("public_network_access", s.public_network_access.clone())
        .evidence("network_default_action", s.firewall_default_action.clone())
        .evidence("authentication_as_arm", s.arm_audience_policy.clone())
        .evidence("encryption", s.encryption.clone())
        .evidence("encryption_identity", s.encryption_identity.clone())
        .evidence("sku", s.sku.clone());
    let mut f = cx.facts();
    match read_by {
        Some((reader, _, tried, token_state)) => {
            outcome = outcome
                .evidence("read_by", reader.describe())
                .evidence("tried", tried);
            if let Some(state) = token_state {
                outcome = outcome.evidence("registry_token", state.clone());
                f.extra.insert("registry_token".into(), state);
            }
            f.extra.insert("arm_read_by".into(), reader.describe());
        }
        None => {
            let source = f.credential.as_ref().map(|c| c.source().to_string());
            outcome = outcome.evidence(
                "read_by",
                json!({"source": source, "credential_under_test": true}),
            );
        }
    }
    f.arm_registry = Some(reg);
    drop(f);
    outcome
}

async fn arm_unreadable(
    cx: &CheckCx<'_>,
    name: &str,
    endpoint: &str,
    searched: &[String],
    error: Option<ArmError>,
) -> Outcome {
    let subs = if searched.is_empty() {
        "-".to_string()
    } else {
        searched.join(", ")
    };
    match error {
        Some(e) if !e.is_denied() && !matches!(e, ArmError::Status { status: 404, .. }) => {
            let message = cx.t(
                format!("could not read registry {name} from {endpoint}: {e}"),
                format!("{endpoint} からレジストリ {name} を読み取れませんでした: {e}"),
            );
            Outcome::warn(
                message.clone(),
                RawFinding::new("UNEXPECTED_ERROR", message)
                    .severity(Severity::Warning)
                    .evidence("arm_endpoint", endpoint)
                    .evidence("subscriptions", subs),
            )
        }
        other => {
            // Not found at all, and the name does not resolve either: the registry most likely
            // does not exist under this name; the DNS finding says so, this is no second cause.
            if other.is_none()
                && cx.await_fact(Fact::Dns).await == Some(crate::report::CheckStatus::Fail)
            {
                return Outcome::info(cx.t(
                    format!("registry {name} is not in subscription(s) {subs} either; with the DNS failure, it probably does not exist under this name"),
                    format!("サブスクリプション {subs} にもレジストリ {name} はありません。DNS の失敗と合わせると、この名前のレジストリは存在しない可能性が高いです"),
                ))
                .evidence("subscriptions", subs);
            }
            let (detail_en, detail_ja) = match &other {
                Some(e) => (
                    format!("Azure Resource Manager refused to show registry {name}: {e}"),
                    format!("Azure Resource Manager がレジストリ {name} の表示を拒否しました: {e}"),
                ),
                None => (
                    format!(
                        "registry {name} is not visible to this identity in subscription(s) {subs}"
                    ),
                    format!(
                        "この ID からはサブスクリプション {subs} にレジストリ {name} が見えません"
                    ),
                ),
            };
            let message = cx.t(
                format!("{detail_en}; continuing without registry settings"),
                format!("{detail_ja}。レジストリ設定なしで続行します"),
            );
            let mut finding = RawFinding::new("ARM_PERMISSION_MISSING", cx.t(detail_en, detail_ja))
                .evidence("arm_endpoint", endpoint)
                .evidence("subscriptions", subs)
                .command(format!("az acr show --name {name}"));
            if let Some(ArmError::Status {
                status,
                code,
                message,
                ..
            }) = &other
            {
                finding = finding
                    .evidence("arm_status", *status)
                    .evidence("arm_error_code", code.clone())
                    .evidence("arm_error", message.clone());
            }
            Outcome::warn(message, finding)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// registry.cmk

struct RegistryCmk;

impl Check for RegistryCmk {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "registry.cmk",
            Group::Registry,
            "encryption key identity",
            "暗号化キーの ID",
        )
        .needs(&[Fact::ArmRegistry]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { registry_cmk(cx) })
    }
}

fn registry_cmk(cx: &CheckCx<'_>) -> Outcome {
    let Some(reg) = cx.facts().arm_registry.clone() else {
        return Outcome::skip(cx.t(
            "registry settings were not read through ARM (see registry settings)",
            "レジストリ設定を ARM から読み取れていません (レジストリ設定を参照)",
        ));
    };
    let s = RegistrySettings::of(&reg);
    if !s
        .encryption
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("enabled"))
    {
        return Outcome::pass(cx.t(
            "customer-managed key encryption is not enabled",
            "カスタマー マネージド キーによる暗号化は有効ではありません",
        ));
    }
    let key_identity = s.encryption_identity.clone().unwrap_or_default();
    let identity = reg.resource.get("identity");
    let mut known: Vec<String> = Vec::new();
    if let Some(uai) = identity
        .and_then(|i| i.get("userAssignedIdentities"))
        .and_then(Value::as_object)
    {
        for v in uai.values() {
            if let Some(c) = v.get("clientId").and_then(Value::as_str) {
                known.push(c.to_string());
            }
        }
    }
    let system = identity
        .and_then(|i| i.get("principalId"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let matches = !key_identity.is_empty()
        && (known.iter().any(|k| k.eq_ignore_ascii_case(&key_identity))
            || system
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(&key_identity))
            || (key_identity.eq_ignore_ascii_case("system") && system.is_some()));
    if matches {
        return Outcome::pass(cx.t(
            format!("key identity {key_identity} is assigned to {}", reg.name),
            format!(
                "キーの ID {key_identity} は {} に割り当てられています",
                reg.name
            ),
        ))
        .evidence("key_identity", key_identity)
        .evidence("registry_identities", known);
    }
    let detail = cx.t(
        format!(
            "encryption uses identity {key_identity}, but {} has no such identity (its user-assigned client IDs: {})",
            reg.name,
            if known.is_empty() { "none".into() } else { known.join(", ") }
        ),
        format!(
            "暗号化に ID {key_identity} が使われていますが、{} にその ID はありません (ユーザー割り当て ID のクライアント ID: {})",
            reg.name,
            if known.is_empty() { "なし".into() } else { known.join(", ") }
        ),
    );
    Outcome::fail(
        cx.t(
            format!("CMK identity {key_identity} missing"),
            format!("CMK の ID {key_identity} が見つかりません"),
        ),
        RawFinding::new("CMK_ERROR", detail)
            .evidence("key_identity", key_identity.clone())
            .evidence("registry_identities", known)
            .evidence(
                "key",
                reg.property("encryption.keyVaultProperties.keyIdentifier")
                    .cloned()
                    .unwrap_or(Value::Null),
            )
            .command(format!("az acr identity show --name {}", reg.name))
            .command(format!("az acr encryption show --name {}", reg.name))
            // The key names the identity by client ID; `identity assign` wants its resource ID.
            .command(format!(
                "az identity list --query \"[?clientId=='{key_identity}'].id\" --output tsv"
            ))
            .command(format!(
                "az acr identity assign --name {} --identities <identity-id>",
                reg.name
            )),
    )
}

// ---------------------------------------------------------------------------------------------
// Registry calls that prove what a token allows, without changing anything.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proof {
    /// The registry let the call through.
    Allowed,
    /// The registry refused it (401/403).
    Refused,
    /// Not tried, or no clear answer.
    Unknown,
}

struct Probes {
    calls: Vec<Value>,
    pull: Proof,
    push: Proof,
    delete: Proof,
    tags: Vec<String>,
}

/// What the delete and push probes found.
struct WriteProbes {
    calls: Vec<Value>,
    delete: Proof,
    push: Proof,
    /// Writes the registry refused because of a lock (`REGISTRY_DISALLOWED_OPERATION`).
    locked: Vec<Value>,
}

/// ACR's answer to a write on a locked repository or image: `405` with
/// `REGISTRY_DISALLOWED_OPERATION`, "The operation is disallowed on this registry, repository or
/// image." (The same words come back when a registry is over its storage quota.)
pub(crate) fn disallowed_by_lock(r: &crate::http::HttpResponse) -> Option<(String, String)> {
    r.registry_errors().into_iter().find(|(code, message)| {
        code == "REGISTRY_DISALLOWED_OPERATION"
            || message
                .to_ascii_lowercase()
                .contains("operation is disallowed on this registry")
    })
}

fn lock_refusal(
    method: &str,
    path: &str,
    r: &crate::http::HttpResponse,
    code: String,
    message: String,
) -> Value {
    json!({"call": format!("{method} {path}"), "status": r.status, "code": code, "message": message})
}

const MANIFEST_ACCEPT: &str =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// Follows one layer download as far as the login server takes it: reads the tag's manifest
/// (and, for a multi-platform index, its first image manifest), asks for the first byte of the
/// image's config blob, and records where the registry sends it (a `307` to a data endpoint or
/// storage account, which is not followed) as the `layer_download` fact. Reads only.
async fn layer_download(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    repo: &str,
    tag: &str,
) -> (Vec<Value>, Option<Value>) {
    let http = cx.ctx.http();
    let base = login.base_url();
    let carry = Carry::Registry(login);
    let mut calls = Vec::new();
    let mut reference = tag.to_string();
    let mut digest = None;
    for _ in 0..2 {
        // Tags and digests come from the registry: only well-formed ones go into a path.
        if !crate::protocol::registry_name::is_reference(&reference) {
            calls.push(probe_line(
                "GET",
                "-",
                None,
                "the registry named a malformed reference; not followed",
            ));
            return (calls, None);
        }
        let path = format!("/v2/{repo}/manifests/{reference}");
        let request = http
            .get(format!("{base}{path}"))
            .bearer_auth(token.expose())
            .header("Accept", MANIFEST_ACCEPT);
        let r = match cx.ctx.send_credential(carry, request).await {
            Ok(r) => r,
            Err(e) => {
                calls.push(probe_line("GET", &path, None, &e.to_string()));
                return (calls, None);
            }
        };
        let json = r.json().filter(|_| r.status == 200);
        let Some(json) = json else {
            calls.push(probe_line("GET", &path, Some(r.status), &errors_text(&r)));
            return (calls, None);
        };
        let child = json
            .get("manifests")
            .and_then(Value::as_array)
            .and_then(|m| m.first())
            .and_then(|m| m.get("digest"))
            .and_then(Value::as_str);
        let config = json
            .get("config")
            .and_then(|c| c.get("digest"))
            .and_then(Value::as_str)
            .or_else(|| {
                json.get("layers")
                    .and_then(Value::as_array)
                    .and_then(|l| l.first())
                    .and_then(|l| l.get("digest"))
                    .and_then(Value::as_str)
            });
        match (config, child) {
            (Some(d), _) => {
                calls.push(probe_line("GET", &path, Some(200), "image manifest read"));
                digest = Some(d.to_string());
                break;
            }
            (None, Some(c)) => {
                calls.push(probe_line(
                    "GET",
                    &path,
                    Some(200),
                    "multi-platform index read; following its first image",
                ));
                reference = c.to_string();
            }
            (None, None) => {
                calls.push(probe_line(
                    "GET",
                    &path,
                    Some(200),
                    "no blob named in the manifest",
                ));
                return (calls, None);
            }
        }
    }
    let Some(digest) = digest.filter(|d| d.starts_with("sha256:") && d.len() == 71) else {
        return (calls, None);
    };
    let path = format!("/v2/{repo}/blobs/{digest}");
    let request = http
        .get(format!("{base}{path}"))
        .bearer_auth(token.expose())
        .header("Range", "bytes=0-0");
    let r = match cx.ctx.send_credential(carry, request).await {
        Ok(r) => r,
        Err(e) => {
            calls.push(probe_line("GET", &path, None, &e.to_string()));
            return (calls, None);
        }
    };
    let mut info = json!({
        "repository": repo, "tag": tag, "blob": digest, "status": r.status,
    });
    let note = match r.status {
        301 | 302 | 303 | 307 | 308 => {
            let target = r
                .header("Location")
                .and_then(|l| url::Url::parse(&r.url).ok()?.join(l).ok());
            match target {
                Some(t) => {
                    let host = t.host_str().unwrap_or("").to_ascii_lowercase();
                    let port = t.port_or_known_default().unwrap_or(443);
                    info["redirect_host"] = Value::from(host.clone());
                    info["redirect_port"] = Value::from(port);
                    info["redirect_scheme"] = Value::from(t.scheme());
                    // The signature of a storage URL is a credential: only the host is kept.
                    format!(
                        "redirected to {}://{host}:{port} (not followed)",
                        t.scheme()
                    )
                }
                None => "redirect without a usable Location".to_string(),
            }
        }
        200 | 206 => "served by the login server itself".to_string(),
        _ => errors_text(&r),
    };
    calls.push(probe_line("GET", &path, Some(r.status), &note));
    (calls, Some(info))
}

/// An upload id no registry has handed out.
const NO_SUCH_UPLOAD: &str = "acr-doctor-probe-00000000-0000-0000-0000-000000000000";

fn probe_line(method: &str, path: &str, status: Option<u16>, note: &str) -> Value {
    json!({"call": format!("{method} {path}"), "status": status, "result": note})
}

async fn probe_repository(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    repo: &str,
    reference: Option<&str>,
    try_push: bool,
    try_delete: bool,
) -> Probes {
    let mut p = Probes {
        calls: Vec::new(),
        pull: Proof::Unknown,
        push: Proof::Unknown,
        delete: Proof::Unknown,
        tags: Vec::new(),
    };
    let http = cx.ctx.http();
    let base = login.base_url();
    let carry = Carry::Registry(login);
    // Pull: list tags, then read the first tag's manifest.
    let path = format!("/v2/{repo}/tags/list");
    match cx
        .ctx
        .send_credential(
            carry,
            http.get(format!("{base}{path}"))
                .bearer_auth(token.expose()),
        )
        .await
    {
        Ok(r) => {
            let note = match r.status {
                200 => {
                    p.pull = Proof::Allowed;
                    p.tags = r
                        .json()
                        .and_then(|j| j.get("tags").cloned())
                        .and_then(|t| t.as_array().cloned())
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|t| t.as_str().map(str::to_string))
                        .collect();
                    format!("{} tag(s)", p.tags.len())
                }
                404 => {
                    p.pull = Proof::Allowed;
                    "allowed; the repository does not exist yet".to_string()
                }
                401 | 403 => {
                    p.pull = Proof::Refused;
                    errors_text(&r)
                }
                _ => errors_text(&r),
            };
            p.calls
                .push(probe_line("GET", &path, Some(r.status), &note));
        }
        Err(e) => p.calls.push(probe_line("GET", &path, None, &e.to_string())),
    }
    p.tags
        .retain(|t| crate::protocol::registry_name::is_reference(t));
    // The image named in --repository, else the first tag.
    let probed = reference
        .map(str::to_string)
        .or_else(|| p.tags.first().cloned());
    let mut probed_readable = false;
    if let Some(tag) = probed.clone() {
        let path = format!("/v2/{repo}/manifests/{tag}");
        let request = http
            .head(format!("{base}{path}"))
            .bearer_auth(token.expose())
            .header("Accept", MANIFEST_ACCEPT);
        match cx.ctx.send_credential(carry, request).await {
            Ok(r) => {
                let note = match r.status {
                    200 => {
                        probed_readable = true;
                        format!(
                            "manifest readable ({})",
                            r.header("Docker-Content-Digest").unwrap_or("no digest")
                        )
                    }
                    401 | 403 => {
                        p.pull = Proof::Refused;
                        "refused".to_string()
                    }
                    s => format!("status {s}"),
                };
                p.calls
                    .push(probe_line("HEAD", &path, Some(r.status), &note));
                // The image named in --repository: auth.image starts from this answer.
                if reference.is_some() {
                    cx.facts().extra.insert(
                        "reference_probe".into(),
                        json!({
                            "reference": tag, "status": r.status,
                            "digest": r.header("Docker-Content-Digest"),
                        }),
                    );
                }
            }
            Err(e) => p
                .calls
                .push(probe_line("HEAD", &path, None, &e.to_string())),
        }
    }
    // Where layers come from, beside the write probes: one manifest and one blob request.
    let layer_tag = probed
        .filter(|_| probed_readable)
        .or_else(|| p.tags.first().cloned())
        .filter(|_| p.pull == Proof::Allowed);
    let layer = async {
        match &layer_tag {
            Some(tag) => Some(layer_download(cx, login, token, repo, tag).await),
            None => None,
        }
    };
    let writes = async {
        let mut w = WriteProbes {
            calls: Vec::new(),
            delete: Proof::Unknown,
            push: Proof::Unknown,
            locked: Vec::new(),
        };
        if try_delete {
            // Delete: a manifest whose digest cannot exist; the registry checks delete first.
            let path = format!("/v2/{repo}/manifests/sha256:{}", "0".repeat(64));
            let request = http
                .delete(format!("{base}{path}"))
                .bearer_auth(token.expose());
            match cx.ctx.send_credential(carry, request).await {
                Ok(r) => {
                    let note = match r.status {
                        404 => {
                            w.delete = Proof::Allowed;
                            format!("delete allowed; nothing to delete ({})", errors_text(&r))
                        }
                        405 if disallowed_by_lock(&r).is_some() => {
                            let (code, message) = disallowed_by_lock(&r).unwrap_or_default();
                            w.locked
                                .push(lock_refusal("DELETE", &path, &r, code, message));
                            format!(
                                "refused by a lock on the repository or image ({})",
                                errors_text(&r)
                            )
                        }
                        // Deletion switched off on the registry: the rights cannot be told.
                        405 => format!(
                            "could not prove: deletion is not enabled here ({})",
                            errors_text(&r)
                        ),
                        401 | 403 => {
                            w.delete = Proof::Refused;
                            errors_text(&r)
                        }
                        _ => errors_text(&r),
                    };
                    w.calls
                        .push(probe_line("DELETE", &path, Some(r.status), &note));
                }
                Err(e) => w
                    .calls
                    .push(probe_line("DELETE", &path, None, &e.to_string())),
            }
        }
        if try_push {
            // Push: touch an upload that does not exist. The registry checks push before it looks
            // the upload up, and writes nothing. (Opening a real upload session and cancelling it
            // is not clean: distribution 2.8 wants `delete` to cancel, and even a cancelled
            // session leaves its hash state in storage.)
            let path = format!("/v2/{repo}/blobs/uploads/{NO_SUCH_UPLOAD}");
            let request = http
                .patch(format!("{base}{path}"))
                .bearer_auth(token.expose())
                .header("Content-Type", "application/octet-stream")
                .body(Vec::new());
            match cx.ctx.send_credential(carry, request).await {
                Ok(r) => {
                    let note = match r.status {
                        400 | 404 => {
                            w.push = Proof::Allowed;
                            format!(
                                "push allowed; no such upload ({}), nothing written",
                                errors_text(&r)
                            )
                        }
                        401 | 403 => {
                            w.push = Proof::Refused;
                            errors_text(&r)
                        }
                        _ => match disallowed_by_lock(&r) {
                            Some((code, message)) => {
                                w.locked
                                    .push(lock_refusal("PATCH", &path, &r, code, message));
                                format!(
                                    "refused by a lock on the repository or image ({})",
                                    errors_text(&r)
                                )
                            }
                            None => errors_text(&r),
                        },
                    };
                    w.calls
                        .push(probe_line("PATCH", &path, Some(r.status), &note));
                }
                Err(e) => w
                    .calls
                    .push(probe_line("PATCH", &path, None, &e.to_string())),
            }
        }
        w
    };
    let (layer, w) = futures::join!(layer, writes);
    p.calls.extend(w.calls);
    p.delete = w.delete;
    p.push = w.push;
    if !w.locked.is_empty() {
        cx.facts()
            .extra
            .insert("write_refusals".into(), Value::from(w.locked));
    }
    if let Some((calls, info)) = layer {
        p.calls.extend(calls);
        if let Some(info) = info {
            cx.facts().extra.insert("layer_download".into(), info);
        }
    }
    p
}

fn errors_text(r: &crate::http::HttpResponse) -> String {
    let errors = r.registry_errors();
    if errors.is_empty() {
        format!("status {}", r.status)
    } else {
        errors
            .iter()
            .map(|(c, m)| format!("{c}: {m}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

// ---------------------------------------------------------------------------------------------
// Explaining missing actions from role assignments.

/// Who the explanation is about.
struct Subject<'s> {
    /// Object ID for `--assignee`, when known.
    assignee: Option<&'s str>,
    /// True when this is another identity (`--principal`), not the run's credential.
    other: bool,
}

/// Findings that explain why `missing` (needed) actions are not granted on `repo`.
/// `roles` is `None` when role assignments could not be read (`why` says why).
#[allow(clippy::too_many_arguments)]
async fn explain_missing(
    cx: &CheckCx<'_>,
    arm: Option<&Arm<'_>>,
    reg: Option<&ArmRegistry>,
    subject: &Subject<'_>,
    repo: &str,
    missing: &[&'static str],
    granted: &[&str],
    roles: Option<&[AssignedRole]>,
    why: Option<String>,
) -> Vec<RawFinding> {
    let name = registry_name(cx);
    let assignee = subject.assignee.unwrap_or("<object ID>");
    let scope = scope_or_lookup(reg, &name);
    let mode = reg.map(mode_of);
    let mut findings: Vec<RawFinding> = Vec::new();
    let missing_text = join(missing);
    let granted_text = join(granted);
    let fix_commands = |mode: Mode| -> Vec<String> {
        roles::role_for(mode, missing)
            .into_iter()
            .map(|role| {
                roles::assign_command(role, assignee, &scope, (mode == Mode::Abac).then_some(repo))
            })
            .collect()
    };

    let Some(roles) = roles else {
        // ARM cannot tell: name the actions, give the fix for the mode when known.
        let why = why.unwrap_or_default();
        let mut f = RawFinding::new(
            "REPOSITORY_PERMISSION_MISSING",
            cx.t(
                format!("on repository {repo}: granted {granted_text}; missing {missing_text}. The role assignments could not be read ({why}), so the exact cause is not known."),
                format!("リポジトリ {repo}: 付与 {granted_text}、不足 {missing_text}。ロールの割り当てを読み取れなかったため ({why})、正確な原因は特定できません。"),
            ),
        )
        .evidence("repository", repo)
        .evidence("granted", granted.to_vec())
        .evidence("missing", missing.to_vec())
        .evidence("role_assignments", Value::Null)
        // The token proves the missing actions; without the role assignments, why is open.
        .alternative(match mode {
            Some(Mode::Legacy) => &["RBAC_ROLE_MISSING", "PERMISSION_RECENTLY_CHANGED"],
            Some(Mode::Abac) => &[
                "ABAC_LEGACY_ROLE_IGNORED",
                "ABAC_CONDITION_EXCLUDES_REPOSITORY",
                "PERMISSION_RECENTLY_CHANGED",
            ],
            None => &[
                "RBAC_ROLE_MISSING",
                "ABAC_LEGACY_ROLE_IGNORED",
                "ABAC_CONDITION_EXCLUDES_REPOSITORY",
                "PERMISSION_RECENTLY_CHANGED",
            ],
        });
        match mode {
            Some(m) => {
                for c in fix_commands(m) {
                    f = f.command(c);
                }
            }
            None => {
                for m in [Mode::Legacy, Mode::Abac] {
                    for c in fix_commands(m) {
                        f = f.command(c);
                    }
                }
                f = f.step(cx.t(
                    "Use AcrPull/AcrPush/AcrDelete when the registry's permissions mode is \"RBAC Registry Permissions\", and the Container Registry Repository roles when it is \"RBAC Registry + ABAC Repository Permissions\".",
                    "アクセス許可モードが「RBAC レジストリのアクセス許可」なら AcrPull/AcrPush/AcrDelete を、「RBAC レジストリ + ABAC リポジトリのアクセス許可」なら Container Registry Repository ロールを使います。",
                ));
            }
        }
        findings.push(f.step(portal_step(cx, mode)));
        return findings;
    };

    let Some(reg) = reg else {
        return findings;
    };
    let mode = mode_of(reg);
    let now = cx.ctx.clock.now();
    let verdicts = roles::evaluate(
        mode,
        roles,
        repo,
        now,
        time::Duration::minutes(RECENT_MINUTES),
    );
    let verdict = |a: &str| verdicts.iter().find(|v| v.action == a);

    let mut excluded: Vec<(&'static str, String, String)> = Vec::new();
    let mut ignored: Vec<(&'static str, String)> = Vec::new();
    let mut none: Vec<&'static str> = Vec::new();
    let mut assigned_but_missing: Vec<(&'static str, Vec<String>, bool)> = Vec::new();
    for &a in missing {
        let Some(v) = verdict(a) else { continue };
        if v.allowed() {
            assigned_but_missing.push((a, v.granted_by.clone(), !v.recent.is_empty()));
        } else if mode == Mode::Abac && !(v.excluded_by.is_empty() && v.unreadable.is_empty()) {
            for (role, cond) in &v.excluded_by {
                excluded.push((a, role.clone(), cond.clone()));
            }
            for (role, cond, _) in &v.unreadable {
                excluded.push((a, role.clone(), cond.clone()));
            }
        } else if !v.ignored.is_empty() {
            for role in &v.ignored {
                ignored.push((a, role.clone()));
            }
        } else {
            none.push(a);
        }
    }
    let roles_json = roles_evidence(roles, &reg.id);
    let who_en = if subject.other {
        format!("principal {assignee}")
    } else {
        "this identity".to_string()
    };
    let who_ja = if subject.other {
        format!("プリンシパル {assignee}")
    } else {
        "この ID".to_string()
    };

    if !excluded.is_empty() {
        let actions: Vec<&str> = dedup(excluded.iter().map(|e| e.0));
        let mut f = RawFinding::new("ABAC_CONDITION_EXCLUDES_REPOSITORY", {
            let quoted: Vec<String> = excluded
                .iter()
                .map(|(_, role, cond)| {
                    let covers = abac_condition::parse(cond)
                        .map(|c| c.repositories().join(", "))
                        .unwrap_or_else(|e| format!("unreadable: {e}"));
                    format!("{role} (covers: {covers}) with condition {cond}")
                })
                .collect::<Vec<_>>();
            let mut uniq = quoted.clone();
            uniq.dedup();
            cx.t(
                format!(
                    "{who_en} needs {} on repository {repo}, but the condition of its role assignment leaves {repo} out: {}",
                    join(&actions),
                    uniq.join("; ")
                ),
                format!(
                    "{who_ja} にはリポジトリ {repo} の {} が必要ですが、ロール割り当ての条件が {repo} を対象外にしています: {}",
                    join(&actions),
                    uniq.join("; ")
                ),
            )
        })
        .evidence("repository", repo)
        .evidence("missing", actions.clone())
        .evidence(
            "conditions",
            excluded
                .iter()
                .map(|(a, r, c)| json!({"action": a, "role": r, "condition": c}))
                .collect::<Vec<_>>(),
        )
        .evidence("role_assignments", roles_json.clone());
        for c in fix_commands(mode) {
            f = f.command(c);
        }
        f = f.step(cx.t(
            format!("Widen the existing condition to include {repo}, or add a role assignment whose condition names it."),
            format!("既存の条件を {repo} も含むように広げるか、{repo} を条件に含むロール割り当てを追加します。"),
        ));
        findings.push(f.step(portal_step(cx, Some(mode))));
    }
    if !ignored.is_empty() {
        let actions: Vec<&str> = dedup(ignored.iter().map(|e| e.0));
        let held: Vec<&str> = dedup(ignored.iter().map(|e| e.1.as_str()));
        let (code, en, ja) = match mode {
            Mode::Abac => (
                "ABAC_LEGACY_ROLE_IGNORED",
                format!(
                    "the registry uses \"{}\"; {who_en} holds {} which this mode does not honour, so {} on {repo} is not granted",
                    mode.portal_name(), join(&held), join(&actions)
                ),
                format!(
                    "レジストリは「{}」モードです。{who_ja} が持つ {} はこのモードでは無視されるため、{repo} の {} が付与されません",
                    mode.portal_name(), join(&held), join(&actions)
                ),
            ),
            Mode::Legacy => (
                "RBAC_ROLE_MISSING",
                format!(
                    "the registry uses \"{}\"; {who_en} holds only {} which count only in the ABAC mode, so {} on {repo} is not granted",
                    mode.portal_name(), join(&held), join(&actions)
                ),
                format!(
                    "レジストリは「{}」モードです。{who_ja} が持つ {} は ABAC モードでのみ有効なため、{repo} の {} が付与されません",
                    mode.portal_name(), join(&held), join(&actions)
                ),
            ),
        };
        let mut f = RawFinding::new(code, cx.t(en, ja))
            .evidence("repository", repo)
            .evidence("missing", actions.clone())
            .evidence("ignored_roles", held.clone())
            .evidence("role_assignment_mode", mode.portal_name())
            .evidence("role_assignments", roles_json.clone());
        for c in fix_commands(mode) {
            f = f.command(c);
        }
        findings.push(f.step(portal_step(cx, Some(mode))));
    }
    if !none.is_empty() {
        let code = match mode {
            Mode::Legacy => "RBAC_ROLE_MISSING",
            Mode::Abac => "REPOSITORY_PERMISSION_MISSING",
        };
        let held: Vec<String> = roles.iter().map(|r| r.role.name.clone()).collect();
        let held_text = if held.is_empty() {
            cx.t("no role at this registry", "このレジストリでのロールなし")
        } else {
            held.join(", ")
        };
        let mut f = RawFinding::new(
            code,
            cx.t(
                format!(
                    "the registry uses \"{}\"; {who_en} has {held_text}, none of which grants {} on {repo} (granted: {granted_text})",
                    mode.portal_name(), join(&none)
                ),
                format!(
                    "レジストリは「{}」モードです。{who_ja} の割り当て ({held_text}) には {repo} の {} を付与するものがありません (付与: {granted_text})",
                    mode.portal_name(), join(&none)
                ),
            ),
        )
        .evidence("repository", repo)
        .evidence("missing", none.clone())
        .evidence("granted", granted.to_vec())
        .evidence("role_assignment_mode", mode.portal_name())
        .evidence("role_assignments", roles_json.clone());
        for c in fix_commands(mode) {
            f = f.command(c);
        }
        findings.push(f.step(portal_step(cx, Some(mode))));
    }
    if !assigned_but_missing.is_empty() {
        let actions: Vec<&str> = dedup(assigned_but_missing.iter().map(|e| e.0));
        let by: Vec<&str> = dedup(
            assigned_but_missing
                .iter()
                .flat_map(|e| e.1.iter().map(String::as_str)),
        );
        let recent = assigned_but_missing.iter().any(|e| e.2);
        findings.push(
            RawFinding::new(
                "REPOSITORY_PERMISSION_MISSING",
                cx.t(
                    format!(
                        "the role assignments ({}) allow {} on {repo}, but the registry did not grant it to this token",
                        join(&by), join(&actions)
                    ),
                    format!(
                        "ロールの割り当て ({}) では {repo} の {} が許可されていますが、このトークンには付与されませんでした",
                        join(&by), join(&actions)
                    ),
                ),
            )
            .evidence("repository", repo)
            .evidence("missing", actions.clone())
            .evidence("role_assignments", roles_json.clone()),
        );
        if recent {
            findings.push(recently_changed(cx, &actions, &by));
        }
    }
    // Would the caller be able to apply the fix?
    if !findings.is_empty() {
        if let Some(arm) = arm {
            if let Ok(false) = roles::can_assign_roles(arm, &reg.id).await {
                findings.push(
                    RawFinding::new(
                        "ROLE_ASSIGNMENT_PERMISSION_MISSING",
                        cx.t(
                            format!("the signed-in identity cannot create role assignments on {} (no Microsoft.Authorization/roleAssignments/write there); ask an owner to run the command", reg.name),
                            format!("サインイン中の ID は {} にロールを割り当てられません (Microsoft.Authorization/roleAssignments/write がありません)。所有者にコマンドの実行を依頼してください", reg.name),
                        ),
                    )
                    .evidence("scope", reg.id.clone()),
                );
            }
        }
    }
    findings
}

fn recently_changed(cx: &CheckCx<'_>, actions: &[&str], by: &[&str]) -> RawFinding {
    RawFinding::new(
        "PERMISSION_RECENTLY_CHANGED",
        cx.t(
            format!(
                "an assignment of {} granting {} was created less than {RECENT_MINUTES} minutes ago; it may not be in effect yet",
                join(by), join(actions)
            ),
            format!(
                "{} を付与する {} の割り当ては {RECENT_MINUTES} 分以内に作成されたばかりで、まだ反映されていない可能性があります",
                join(actions), join(by)
            ),
        ),
    )
    .evidence("roles", by.to_vec())
    // Timing makes it likely, nothing proves it: the assignment may also simply not apply.
    .inferred(&["REPOSITORY_PERMISSION_MISSING"])
}

fn dedup<'x>(items: impl Iterator<Item = &'x str>) -> Vec<&'x str> {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// auth.repository

struct AuthRepository;

impl Check for AuthRepository {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "auth.repository",
            Group::Authorization,
            "repository access",
            "リポジトリへのアクセス",
        )
        .needs(&[Fact::AccessToken])
        .uses(&[Fact::ArmRegistry])
        .provides(&[Fact::Permissions]);
        &META
    }
    fn not_requested(&self, args: &CheckArgs, lang: Lang) -> Option<String> {
        args.repository.is_none().then(|| {
            lang.pick(
                "no --repository given: repository permissions not checked",
                "--repository が指定されていないため、リポジトリのアクセス許可は確認していません",
            )
            .to_string()
        })
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { auth_repository(cx).await })
    }
}

/// Granted and requested actions for a scope key (`repository:app`), with `*` expanded.
fn grants_for(cx: &CheckCx<'_>, key: &str) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let f = cx.facts();
    let Some(g) = f.grants.as_ref() else {
        return (None, None);
    };
    let repository = key.starts_with("repository:");
    let find = |m: &std::collections::BTreeMap<String, Vec<String>>| {
        m.iter()
            .find(|(k, _)| k.as_str() == key || k.eq_ignore_ascii_case(key))
            .map(|(_, v)| if repository { expand(v) } else { v.clone() })
    };
    (find(&g.granted), find(&g.requested))
}

fn expand(actions: &[String]) -> Vec<String> {
    if actions.iter().any(|a| a == "*") {
        roles::REPOSITORY_ACTIONS
            .iter()
            .map(|a| a.to_string())
            .collect()
    } else {
        actions.to_vec()
    }
}

/// What the registry probes need: the access token and login server (else a skip), plus the
/// credential, ARM token and registry settings when known.
type ProbeInputs = (
    crate::redact::Secret,
    LoginServer,
    Option<Credential>,
    Option<crate::redact::Secret>,
    Option<ArmRegistry>,
);

fn probe_inputs(cx: &CheckCx<'_>) -> Result<ProbeInputs, Box<Outcome>> {
    let (token, login, credential, arm_token, reg) = {
        let f = cx.facts();
        (
            f.access_token.clone(),
            f.login_server.clone(),
            f.credential.clone(),
            f.arm_token.clone(),
            f.arm_registry.clone(),
        )
    };
    let (Some(token), Some(login)) = (token, login) else {
        return Err(Box::new(Outcome::skip(cx.t(
            "no access token or login server to test with",
            "確認に使うアクセス トークンまたはログイン サーバーがありません",
        ))));
    };
    cx.ctx.redactor.register(token.expose());
    Ok((token, login, credential, arm_token, reg))
}

async fn auth_repository(cx: &CheckCx<'_>) -> Outcome {
    let Some(repo) = cx.args.repository_name().map(str::to_string) else {
        return Outcome::skip("no --repository");
    };
    let needed = repository_needs(cx.args);
    let (token, login, credential, arm_token, reg) = match probe_inputs(cx) {
        Ok(inputs) => inputs,
        Err(skip) => return *skip,
    };
    let (granted, requested) = grants_for(cx, &format!("repository:{repo}"));
    let granted = granted.unwrap_or_default();
    let claims = |a: &str| granted.iter().any(|g| g == a);
    // Write-method probes only on --probe-writes: by default the registry gets GET and HEAD only.
    let writes = cx.args.probe_writes;
    let try_push = writes && (claims("push") || needed.contains(&"push"));
    let try_delete = writes && (claims("delete") || needed.contains(&"delete"));
    let image = cx.args.image();
    let reference = image.as_ref().and_then(|i| i.reference());
    // The lock attributes (auth.lock) are read beside the probes, not after them.
    let locks = async {
        if let Some(image) = image.as_ref().filter(|_| lock::wanted(cx.args)) {
            lock::attributes(cx, &login, &token, image).await;
        }
    };
    let (probes, ()) = futures::join!(
        probe_repository(cx, &login, &token, &repo, reference, try_push, try_delete),
        locks
    );

    // An action counts as granted when the token lists it and the registry did not refuse it.
    let proof = |a: &str| match a {
        "pull" => probes.pull,
        "push" => probes.push,
        "delete" => probes.delete,
        _ => Proof::Unknown,
    };
    let confirmed = |a: &str| claims(a) && proof(a) != Proof::Refused;
    let refused_despite_claim: Vec<&str> = ["pull", "push", "delete"]
        .into_iter()
        .filter(|a| claims(a) && proof(a) == Proof::Refused)
        .collect();
    let have: Vec<&str> = roles::REPOSITORY_ACTIONS
        .iter()
        .copied()
        .filter(|a| confirmed(a))
        .collect();
    let missing: Vec<&'static str> = needed.iter().copied().filter(|a| !confirmed(a)).collect();
    let not_needed_missing: Vec<&str> = roles::REPOSITORY_ACTIONS
        .iter()
        .copied()
        .filter(|a| !needed.contains(a) && !confirmed(a))
        .collect();
    let proven: Vec<&str> = ["pull", "push", "delete"]
        .into_iter()
        .filter(|a| proof(a) == Proof::Allowed)
        .collect();

    cx.facts().extra.insert(
        "repository_access".into(),
        json!({"repository": repo, "granted": have, "needed": needed, "missing": missing, "proven": proven}),
    );

    let requested_json = requested.clone().map(Value::from).unwrap_or(Value::Null);
    let decorate = |o: Outcome| {
        o.evidence("repository", repo.clone())
            .evidence("needed", needed.clone())
            .evidence("granted", have.clone())
            .evidence("token_requested", requested_json.clone())
            .evidence("token_granted", granted.clone())
            .evidence("not_granted_not_needed", not_needed_missing.clone())
            .evidence("proven_by_registry", proven.clone())
            .evidence("registry_calls", probes.calls.clone())
    };

    if missing.is_empty() {
        let extra_en = if not_needed_missing.is_empty() {
            String::new()
        } else {
            format!("; not granted (not needed): {}", join(&not_needed_missing))
        };
        let extra_ja = if not_needed_missing.is_empty() {
            String::new()
        } else {
            format!("。未付与 (不要): {}", join(&not_needed_missing))
        };
        return decorate(Outcome::pass(cx.t(
            format!(
                "{repo}: granted {} (needed {}); registry confirmed {}{extra_en}",
                join(&have),
                join(&needed),
                join(&proven)
            ),
            format!(
                "{repo}: 付与 {} (必要 {})。レジストリで確認済み {}{extra_ja}",
                join(&have),
                join(&needed),
                join(&proven)
            ),
        )));
    }

    let message = cx.t(
        format!(
            "{repo}: granted {}; missing {} (needed {})",
            join(&have),
            join(&missing),
            join(&needed)
        ),
        format!(
            "{repo}: 付与 {}、不足 {} (必要 {})",
            join(&have),
            join(&missing),
            join(&needed)
        ),
    );

    let mut findings = match &credential {
        Some(Credential::Entra { claims, .. }) => {
            let oid = claims.object_id.clone();
            let subject = Subject {
                assignee: oid.as_deref(),
                other: false,
            };
            let arm = arm_token.map(|t| arm_client(cx, t));
            let (roles, why) = match (&arm, &reg, &oid) {
                (Some(arm), Some(reg), Some(oid)) => {
                    match assignments(cx, arm, &reg.id, oid).await {
                        Ok(r) => (Some(r), None),
                        Err(e) => (None, Some(e.to_string())),
                    }
                }
                (None, _, _) => (None, Some(cx.t("no ARM token", "ARM トークンがありません"))),
                (_, None, _) => (
                    None,
                    Some(cx.t(
                        "registry settings not readable through ARM",
                        "ARM からレジストリ設定を読み取れません",
                    )),
                ),
                (_, _, None) => (
                    None,
                    Some(cx.t(
                        "the token names no object ID",
                        "トークンにオブジェクト ID がありません",
                    )),
                ),
            };
            explain_missing(
                cx,
                arm.as_ref(),
                reg.as_ref(),
                &subject,
                &repo,
                &missing,
                &have,
                roles.as_deref(),
                why,
            )
            .await
        }
        other => {
            let kind = match other {
                Some(Credential::Basic { kind, .. }) => match kind {
                    BasicKind::AdminUser => "admin user",
                    BasicKind::RepositoryToken => "repository-scoped token",
                    BasicKind::ServicePrincipal => "service principal (basic)",
                    BasicKind::RefreshToken => "ACR refresh token",
                    BasicKind::Unknown => "username/password",
                },
                Some(Credential::Anonymous { .. }) => "anonymous",
                _ => "credential",
            };
            let mut f = RawFinding::new(
                "REPOSITORY_PERMISSION_MISSING",
                cx.t(
                    format!(
                        "the {kind} credential is granted {} on {repo}; missing {}",
                        join(&have),
                        join(&missing)
                    ),
                    format!(
                        "{kind} の資格情報に付与されたのは {repo} の {} で、{} が不足しています",
                        join(&have),
                        join(&missing)
                    ),
                ),
            )
            .evidence("repository", repo.clone())
            .evidence("granted", have.clone())
            .evidence("missing", missing.clone());
            if matches!(
                other,
                Some(Credential::Basic {
                    kind: BasicKind::RepositoryToken,
                    ..
                })
            ) {
                f = f.step(cx.t(
                    format!("Add the missing actions for {repo} to the token's scope map (az acr scope-map update)."),
                    format!("トークンのスコープ マップに {repo} の不足しているアクションを追加します (az acr scope-map update)。"),
                ));
            }
            vec![f]
        }
    };
    if !refused_despite_claim.is_empty() {
        findings.push(
            RawFinding::new(
                "REPOSITORY_PERMISSION_MISSING",
                cx.t(
                    format!(
                        "the token lists {} on {repo}, but the registry refused it",
                        join(&refused_despite_claim)
                    ),
                    format!(
                        "トークンには {repo} の {} がありますが、レジストリが拒否しました",
                        join(&refused_despite_claim)
                    ),
                ),
            )
            .evidence("registry_calls", probes.calls.clone()),
        );
    }
    if findings.is_empty() {
        findings.push(RawFinding::new(
            "REPOSITORY_PERMISSION_MISSING",
            message.clone(),
        ));
    }
    // The primary (error) finding first.
    findings.sort_by_key(|f| {
        std::cmp::Reverse(
            f.severity
                .or_else(|| crate::catalogue::lookup(f.code).map(|c| c.severity))
                .unwrap_or(Severity::Error),
        )
    });
    let mut out = decorate(Outcome::fail(message, findings.remove(0)));
    for f in findings {
        out = out.finding(f);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// auth.catalog

struct AuthCatalog;

impl Check for AuthCatalog {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "auth.catalog",
            Group::Authorization,
            "repository catalog",
            "リポジトリ カタログ",
        )
        .needs(&[Fact::AccessToken])
        .uses(&[Fact::ArmRegistry]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { auth_catalog(cx).await })
    }
}

async fn auth_catalog(cx: &CheckCx<'_>) -> Outcome {
    let needed = catalog_needed(cx.args);
    let (token, login, credential, arm_token, reg) = match probe_inputs(cx) {
        Ok(inputs) => inputs,
        Err(skip) => return *skip,
    };
    let (granted, requested) = grants_for(cx, "registry:catalog");
    let claimed = granted.as_ref().is_some_and(|g| !g.is_empty());
    let path = "/v2/_catalog?n=100";
    let (status, note, listed) = match cx
        .ctx
        .send_credential(
            Carry::Registry(&login),
            cx.ctx
                .http()
                .get(format!("{}{path}", login.base_url()))
                .bearer_auth(token.expose()),
        )
        .await
    {
        Ok(r) if r.status == 200 => {
            let n = r
                .json()
                .and_then(|j| {
                    j.get("repositories")
                        .and_then(Value::as_array)
                        .map(Vec::len)
                })
                .unwrap_or(0);
            (Some(r.status), format!("{n} repositories listed"), Some(n))
        }
        Ok(r) => (Some(r.status), errors_text(&r), None),
        Err(e) => (None, e.to_string(), None),
    };
    let call = probe_line("GET", path, status, &note);
    if let Some(n) = listed {
        return Outcome::pass(cx.t(
            format!("GET /v2/_catalog listed {n} repositories"),
            format!("GET /v2/_catalog で {n} 個のリポジトリを一覧表示しました"),
        ))
        .evidence("token_granted", granted.unwrap_or_default())
        .evidence("registry_calls", vec![call]);
    }
    let asked = requested.is_some() || granted.is_some();
    if !asked && !needed {
        return Outcome::info(cx.t(
            "the access token was not asked for registry:catalog:* (give --need catalog to check listing)",
            "アクセス トークンは registry:catalog:* を要求していません (一覧表示を確認するには --need catalog を指定します)",
        ))
        .evidence("registry_calls", vec![call]);
    }
    let message = cx.t(
        format!(
            "listing repositories is not allowed (GET /v2/_catalog: {note}){}",
            if needed { "" } else { "; not needed" }
        ),
        format!(
            "リポジトリの一覧表示は許可されていません (GET /v2/_catalog: {note}){}",
            if needed {
                ""
            } else {
                "。必要ではありません"
            }
        ),
    );
    let decorate = |o: Outcome| {
        o.evidence("needed", needed)
            .evidence("token_asked_for_catalog", asked)
            .evidence("token_claims_catalog", claimed)
            .evidence("registry_calls", vec![call.clone()])
    };
    let severity = if needed {
        Severity::Error
    } else {
        Severity::Info
    };
    let name = registry_name(cx);
    let assignee = match &credential {
        Some(Credential::Entra { claims, .. }) => claims.object_id.clone(),
        _ => None,
    };
    let finding = match reg.as_ref().map(mode_of) {
        Some(Mode::Abac) => {
            let mut roles_json = Value::Null;
            let mut lister: Vec<String> = Vec::new();
            if let (Some(t), Some(r), Some(oid)) = (arm_token, reg.as_ref(), assignee.as_ref()) {
                let arm = arm_client(cx, t);
                if let Ok(roles) = assignments(cx, &arm, &r.id, oid).await {
                    lister = roles::catalog_verdict(Mode::Abac, &roles).0;
                    roles_json = roles_evidence(&roles, &r.id);
                }
            }
            let mut f = RawFinding::new(
                "CATALOG_LISTER_MISSING",
                cx.t(
                    format!(
                        "the registry uses \"{}\" and the repository roles do not include listing; {}",
                        Mode::Abac.portal_name(),
                        if lister.is_empty() {
                            "no Catalog Lister assignment was found".to_string()
                        } else {
                            format!("{} is assigned but the token does not carry it yet", lister.join(", "))
                        }
                    ),
                    format!(
                        "レジストリは「{}」モードで、リポジトリ ロールには一覧表示が含まれません。{}",
                        Mode::Abac.portal_name(),
                        if lister.is_empty() {
                            "Catalog Lister の割り当ては見つかりませんでした".to_string()
                        } else {
                            format!("{} は割り当て済みですがトークンにはまだ反映されていません", lister.join(", "))
                        }
                    ),
                ),
            )
            .severity(severity)
            .evidence("role_assignments", roles_json)
            .command(roles::assign_command(
                names::CATALOG_LISTER,
                assignee.as_deref().unwrap_or("<object ID>"),
                &scope_or_lookup(reg.as_ref(), &name),
                None,
            ));
            f = f.step(portal_step(cx, Some(Mode::Abac)));
            Some(f)
        }
        Some(Mode::Legacy) if needed => Some(
            RawFinding::new(
                "RBAC_ROLE_MISSING",
                cx.t(
                    "in \"RBAC Registry Permissions\" mode listing repositories needs AcrPull, AcrPush or AcrDelete at the registry",
                    "「RBAC レジストリのアクセス許可」モードでは、リポジトリの一覧表示にレジストリでの AcrPull、AcrPush または AcrDelete が必要です",
                ),
            )
            .command(roles::assign_command(
                names::ACR_PULL,
                assignee.as_deref().unwrap_or("<object ID>"),
                &scope_or_lookup(reg.as_ref(), &name),
                None,
            ))
            .step(portal_step(cx, Some(Mode::Legacy))),
        ),
        None if needed => Some(RawFinding::new(
            "REPOSITORY_PERMISSION_MISSING",
            cx.t(
                "registry:catalog:* is not granted, and the registry's permissions mode could not be read through ARM",
                "registry:catalog:* が付与されておらず、レジストリのアクセス許可モードも ARM から読み取れませんでした",
            ),
        )
        .evidence("missing", vec!["registry:catalog:*"])
        .alternative(&["CATALOG_LISTER_MISSING", "RBAC_ROLE_MISSING"])
        .step(cx.t(
            format!("In \"RBAC Registry + ABAC Repository Permissions\" mode assign \"{}\"; otherwise AcrPull.", names::CATALOG_LISTER),
            format!("「RBAC レジストリ + ABAC リポジトリのアクセス許可」モードでは「{}」を、それ以外では AcrPull を割り当てます。", names::CATALOG_LISTER),
        ))),
        _ => None,
    };
    match finding {
        Some(f) if needed => decorate(Outcome::fail(message, f)),
        Some(f) => decorate(Outcome::info(message).finding(f)),
        None => decorate(Outcome::info(message)),
    }
}

// ---------------------------------------------------------------------------------------------
// auth.principal

struct AuthPrincipal;

impl Check for AuthPrincipal {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "auth.principal",
            Group::Authorization,
            "other principal",
            "別のプリンシパル",
        )
        .needs(&[Fact::ArmRegistry]);
        &META
    }
    fn not_requested(&self, args: &CheckArgs, lang: Lang) -> Option<String> {
        args.principal.is_none().then(|| {
            lang.pick("no --principal given", "--principal が指定されていません")
                .to_string()
        })
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { auth_principal(cx).await })
    }
}

async fn auth_principal(cx: &CheckCx<'_>) -> Outcome {
    let Some(principal) = cx.args.principal.clone() else {
        return Outcome::skip("no --principal");
    };
    let needed = repository_needs(cx.args);
    evaluate_principal(
        cx,
        &principal,
        &needed,
        cx.args.repository_name(),
        catalog_needed(cx.args),
    )
    .await
}

/// Another identity's role assignments at the registry, against the actions it `needed` on
/// `repository` (registry-wide, as information, without one) and listing when `catalog`:
/// what `--principal` reports, and what `aks.identity` reports for a cluster's kubelet identity.
pub(crate) async fn evaluate_principal(
    cx: &CheckCx<'_>,
    principal: &str,
    needed: &[&'static str],
    repository: Option<&str>,
    catalog: bool,
) -> Outcome {
    let principal = principal.trim().to_ascii_lowercase();
    let (reg, arm_token) = {
        let f = cx.facts();
        (f.arm_registry.clone(), f.arm_token.clone())
    };
    let (Some(reg), Some(token)) = (reg, arm_token) else {
        return Outcome::skip(cx.t(
            format!("cannot evaluate principal {principal}: the registry could not be read through ARM (see registry settings)"),
            format!("プリンシパル {principal} を評価できません: ARM からレジストリを読み取れませんでした (レジストリ設定を参照)"),
        ));
    };
    let arm = arm_client(cx, token);
    let mode = mode_of(&reg);
    let roles = match assignments(cx, &arm, &reg.id, &principal).await {
        Ok(r) => r,
        Err(e) => {
            let detail = cx.t(
                format!("cannot read the role assignments at {} to evaluate {principal}: {e} (needs Microsoft.Authorization/roleAssignments/read)", reg.name),
                format!("{principal} を評価するための {} のロール割り当てを読み取れません: {e} (Microsoft.Authorization/roleAssignments/read が必要です)", reg.name),
            );
            return Outcome::warn(
                detail.clone(),
                RawFinding::new("ARM_PERMISSION_MISSING", detail).evidence("scope", reg.id.clone()),
            );
        }
    };
    let needed = needed.to_vec();
    let roles_json = roles_evidence(&roles, &reg.id);
    let held: Vec<String> = roles
        .iter()
        .map(|r| {
            let scope = r.scope_kind(&reg.id);
            let scope_ja = match scope.as_str() {
                "registry" => "レジストリ".to_string(),
                "resource group" => "リソース グループ".to_string(),
                "subscription" => "サブスクリプション".to_string(),
                other => other.to_string(),
            };
            cx.t(
                format!("{} at {scope}", r.role.name),
                format!("{} ({scope_ja})", r.role.name),
            )
        })
        .collect();
    let held_text = if held.is_empty() {
        cx.t("no role assignments", "ロールの割り当てなし")
    } else {
        held.join(", ")
    };
    let base = |o: Outcome| {
        o.evidence("principal", principal.clone())
            .evidence("role_assignment_mode", mode.portal_name())
            .evidence("role_assignments", roles_json.clone())
    };
    let mut notes: Vec<RawFinding> = Vec::new();
    if roles.is_empty() {
        notes.push(
            RawFinding::new(
                "REPOSITORY_PERMISSION_MISSING",
                cx.t(
                    format!("no role assignment applies to {principal} at {}. If {principal} is an application (client) ID rather than an object ID, look the object ID up and run again", reg.name),
                    format!("{} で {principal} に適用されるロールの割り当てはありません。{principal} がオブジェクト ID ではなくアプリケーション (クライアント) ID の場合は、オブジェクト ID を調べて再実行してください", reg.name),
                ),
            )
            .command(format!("az ad sp show --id {principal} --query id --output tsv")),
        );
    }

    let Some(repo) = repository.map(str::to_string) else {
        // Without a repository: what holds registry-wide.
        let now = cx.ctx.clock.now();
        let verdicts = roles::evaluate(
            mode,
            &roles,
            "",
            now,
            time::Duration::minutes(RECENT_MINUTES),
        );
        let wide: Vec<&str> = verdicts
            .iter()
            .filter(|v| v.allowed())
            .map(|v| v.action)
            .collect();
        let conditional: Vec<String> = roles
            .iter()
            .filter(|r| r.condition.is_some())
            .map(|r| r.role.name.clone())
            .collect();
        let msg = cx.t(
            format!(
                "{principal}: {held_text}; in \"{}\" mode registry-wide: {}{}; give --repository to evaluate one repository",
                mode.portal_name(),
                join(&wide),
                if conditional.is_empty() { String::new() } else { format!("; limited by conditions: {}", conditional.join(", ")) }
            ),
            format!(
                "{principal}: {held_text}。「{}」モードでレジストリ全体に: {}{}。--repository を指定するとリポジトリ単位で評価します",
                mode.portal_name(),
                join(&wide),
                if conditional.is_empty() { String::new() } else { format!("。条件付き: {}", conditional.join(", ")) }
            ),
        );
        let mut o = base(Outcome::info(msg));
        for f in notes {
            o = o.finding(f.severity(Severity::Info));
        }
        return o;
    };

    let now = cx.ctx.clock.now();
    let verdicts = roles::evaluate(
        mode,
        &roles,
        &repo,
        now,
        time::Duration::minutes(RECENT_MINUTES),
    );
    let can: Vec<&'static str> = verdicts
        .iter()
        .filter(|v| v.allowed())
        .map(|v| v.action)
        .collect();
    let cannot: Vec<&'static str> = verdicts
        .iter()
        .filter(|v| !v.allowed())
        .map(|v| v.action)
        .collect();
    let missing: Vec<&'static str> = needed
        .iter()
        .copied()
        .filter(|a| !can.contains(a))
        .collect();
    let recent: Vec<&str> = dedup(
        verdicts
            .iter()
            .filter(|v| needed.contains(&v.action))
            .flat_map(|v| v.recent.iter().map(String::as_str)),
    );
    let mut catalog_finding = None;
    if catalog {
        let (lister, _) = roles::catalog_verdict(mode, &roles);
        if lister.is_empty() {
            let (code, role) = match mode {
                Mode::Abac => ("CATALOG_LISTER_MISSING", names::CATALOG_LISTER),
                Mode::Legacy => ("RBAC_ROLE_MISSING", names::ACR_PULL),
            };
            catalog_finding = Some(
                RawFinding::new(
                    code,
                    cx.t(
                        format!(
                            "{principal} cannot list repositories in \"{}\" mode",
                            mode.portal_name()
                        ),
                        format!(
                            "{principal} は「{}」モードでリポジトリを一覧表示できません",
                            mode.portal_name()
                        ),
                    ),
                )
                .command(roles::assign_command(role, &principal, &reg.id, None))
                .step(portal_step(cx, Some(mode))),
            );
        }
    }
    let msg =
        cx.t(
            format!(
                "{principal} on {repo} ({}): can {}; cannot {} (needed {}; roles: {held_text})",
                mode.portal_name(),
                join(&can),
                join(&cannot),
                join(&needed)
            ),
            format!(
            "{principal} の {repo} への権限 ({}): 可 {}、不可 {} (必要 {}。ロール: {held_text})",
            mode.portal_name(), join(&can), join(&cannot), join(&needed)
        ),
        );
    if missing.is_empty() && catalog_finding.is_none() {
        let mut o = base(Outcome::pass(msg))
            .evidence("can", can.clone())
            .evidence("cannot", cannot.clone());
        if !recent.is_empty() {
            o = o.finding(recently_changed(cx, &needed, &recent));
        }
        return o;
    }
    let subject = Subject {
        assignee: Some(&principal),
        other: true,
    };
    let mut findings = if missing.is_empty() {
        Vec::new()
    } else {
        explain_missing(
            cx,
            Some(&arm),
            Some(&reg),
            &subject,
            &repo,
            &missing,
            &can,
            Some(&roles),
            None,
        )
        .await
    };
    // The "no assignments at all" note is part of the explanation when nothing is held.
    if roles.is_empty() {
        if let Some(first) = findings.first_mut() {
            if let Some(note) = notes.first() {
                first.solution.push(note.detail.clone());
                first.commands.extend(note.commands.iter().cloned());
            }
        }
    }
    if let Some(f) = catalog_finding {
        findings.push(f);
    }
    if findings.is_empty() {
        findings.push(RawFinding::new(
            "REPOSITORY_PERMISSION_MISSING",
            msg.clone(),
        ));
    }
    let mut o = base(Outcome::fail(msg, findings.remove(0)))
        .evidence("can", can.clone())
        .evidence("cannot", cannot.clone())
        .evidence("missing", missing.clone());
    for f in findings {
        o = o.finding(f);
    }
    o
}
