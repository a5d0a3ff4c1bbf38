//! `registry.arm`: the registry's settings through Azure Resource Manager, read as the
//! credential under test or, when it cannot, as another identity at hand (which is named).

use futures::future::BoxFuture;
use serde_json::{json, Value};

use crate::azure::arm::{self, Arm, ArmError, RegistrySettings};
use crate::azure::roles::{self, Mode};
use crate::catalogue::Code;
use crate::checks::auth::{arm_client, assignments_in, catalog_needed, mode_of};
use crate::checks::{
    evidence_of, ArmRead, ArmRegistry, BasicKind, Check, CheckCx, Credential, Fact, Group, Meta,
    Outcome, RegistryTokenState, TokenPassword,
};
use crate::finding::{RawFinding, Severity};
use crate::redact::Secret;

pub struct RegistryArm;

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
        let cloud = cx.cloud();
        crate::checks::env_service_principal(cx, false).then(|| arm::endpoint(cx.ctx, cloud))
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
    let name = cx.registry_name();
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
async fn registry_token_state(
    client: &Arm<'_>,
    reg: &ArmRegistry,
    token: &str,
) -> RegistryTokenState {
    let path = format!("{}/tokens/{token}", reg.id);
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    match client.get(&path, arm::REGISTRY_API_VERSION, &[]).await {
        Ok(v) => {
            let props = v.get("properties");
            let passwords: Vec<TokenPassword> = props
                .and_then(|p| p.pointer("/credentials/passwords"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|p| TokenPassword {
                            name: text(p.get("name")),
                            expiry: text(p.get("expiry")),
                        })
                        .collect()
                })
                .unwrap_or_default();
            RegistryTokenState::Read {
                name: token.to_string(),
                status: text(props.and_then(|p| p.get("status"))),
                passwords,
            }
        }
        Err(e) => RegistryTokenState::Unreadable {
            name: token.to_string(),
            unreadable: e.to_string(),
        },
    }
}

type ReadBy = (
    crate::checks::identity::ArmReader,
    String,
    Vec<Value>,
    Option<RegistryTokenState>,
);

/// The settings read, as the check's outcome; `read_by` names another identity that read them.
fn settings_outcome(
    cx: &CheckCx<'_>,
    reg: ArmRegistry,
    endpoint: String,
    read_by: Option<ReadBy>,
) -> Outcome {
    let s = RegistrySettings::of(&reg);
    let summary = settings_summary(cx, &s);
    let by = read_by_note(cx, read_by.as_ref());
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
    let outcome = settings_evidence(Outcome::pass(message), &reg, &s, endpoint);
    record_read(cx, outcome, reg, read_by)
}

/// The settings in one line: the mode, the switches and ARM's own values.
fn settings_summary(cx: &CheckCx<'_>, s: &RegistrySettings) -> String {
    let onoff = |b: Option<bool>| match b {
        Some(true) => cx.t("on", "有効"),
        Some(false) => cx.t("off", "無効"),
        None => "?".to_string(),
    };
    // Values ARM returns (`Enabled`, `Deny`, the mode's name) are evidence and stay as they are.
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
    cx.t(
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
    )
}

/// The message's note naming the other identity that read the settings, or nothing.
fn read_by_note(cx: &CheckCx<'_>, read_by: Option<&ReadBy>) -> String {
    match read_by {
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
    }
}

/// The registry and its settings as evidence, in the report's order.
fn settings_evidence(
    outcome: Outcome,
    reg: &ArmRegistry,
    s: &RegistrySettings,
    endpoint: String,
) -> Outcome {
    let mode = Mode::from_arm(&s.role_assignment_mode);
    outcome
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
        .evidence("sku", s.sku.clone())
}

/// Who read the settings, as evidence, and the registry (and the other reader) kept as facts.
fn record_read(
    cx: &CheckCx<'_>,
    mut outcome: Outcome,
    reg: ArmRegistry,
    read_by: Option<ReadBy>,
) -> Outcome {
    let mut f = cx.facts();
    match read_by {
        Some((reader, _, tried, token_state)) => {
            outcome = outcome
                .evidence("read_by", reader.describe())
                .evidence("tried", tried);
            if let Some(state) = &token_state {
                outcome = outcome.evidence("registry_token", evidence_of(state));
            }
            f.arm_read = Some(ArmRead {
                source: reader.source,
                claims: reader.claims,
                registry_token: token_state,
            });
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
                RawFinding::new(Code::UNEXPECTED_ERROR, message)
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
            let mut finding =
                RawFinding::new(Code::ARM_PERMISSION_MISSING, cx.t(detail_en, detail_ja))
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
    let cloud = cx.cloud();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_evidence_keys_and_values_in_order() {
        let reg = ArmRegistry {
            id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/reg".into(),
            subscription: "s".into(),
            resource_group: "rg".into(),
            name: "reg".into(),
            resource: json!({"properties": {
                "roleAssignmentMode": arm::ABAC_MODE,
                "adminUserEnabled": false,
                "publicNetworkAccess": "Enabled",
            }}),
        };
        let s = RegistrySettings::of(&reg);
        let out = settings_evidence(Outcome::pass("m"), &reg, &s, "https://arm".into());
        let keys: Vec<&str> = out.evidence.keys().map(String::as_str).collect();
        let mut expected = vec![
            "registry_id",
            "subscription",
            "resource_group",
            "arm_endpoint",
            "api_version",
            "role_assignment_mode",
            "role_assignment_mode_portal",
            "admin_user_enabled",
            "anonymous_pull_enabled",
            "public_network_access",
            "network_default_action",
            "authentication_as_arm",
            "encryption",
            "encryption_identity",
            "sku",
        ];
        if keys != expected {
            // Without serde_json's preserve_order the map is sorted: the same keys.
            expected.sort_unstable();
        }
        assert_eq!(keys, expected);
        let e = &out.evidence;
        assert_eq!(e["registry_id"], json!(reg.id));
        assert_eq!(e["arm_endpoint"], json!("https://arm"));
        assert_eq!(e["api_version"], json!(arm::REGISTRY_API_VERSION));
        assert_eq!(e["role_assignment_mode"], json!(arm::ABAC_MODE));
        assert_eq!(
            e["role_assignment_mode_portal"],
            json!(Mode::Abac.portal_name())
        );
        assert_eq!(e["admin_user_enabled"], json!(false));
        assert_eq!(e["anonymous_pull_enabled"], Value::Null);
        assert_eq!(e["public_network_access"], json!("Enabled"));
        assert_eq!(e["sku"], Value::Null);
        assert_eq!(out.status, crate::report::CheckStatus::Pass);
    }
}
