//! `--aks`: why can't this AKS cluster pull from the registry? Answered from ARM alone, without
//! kubectl or a pod in the cluster.
//!
//! `aks.cluster` reads the managed cluster; `aks.identity` evaluates the identity its kubelet
//! pulls with (the kubelet managed identity, or the cluster's service principal) at the registry,
//! as `--principal` does; `aks.egress` compares the cluster's outbound path (the load balancer's
//! or NAT gateway's public addresses, the node virtual networks) with the registry's public
//! network access, firewall rules and private endpoints; `aks.private_dns` checks that the node
//! virtual networks resolve the registry's names to its private endpoints (zone links and
//! records). What ARM cannot show (a firewall behind a user-defined route, what a custom DNS
//! server answers, a registry in another tenant) is said so, with the command that checks it from
//! inside the cluster.

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::authorization::{
    arm_client, assignments, evaluate_principal, mode_of, portal_step, RECENT_MINUTES,
};
use super::{Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::azure::aks::{
    self, ClusterRef, ManagedCluster, OutboundAddress, PullIdentity, VnetInfo,
};
use crate::azure::arm::{Arm, ArmError};
use crate::azure::roles::{self, names, Mode};
use crate::checks::ArmRegistry;
use crate::cli::CheckArgs;
use crate::finding::{RawFinding, Severity};
use crate::lang::Lang;

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(AksCluster),
        Box::new(AksIdentity),
        Box::new(AksEgress),
        Box::new(AksPrivateDns),
    ]
}

fn not_requested(args: &CheckArgs, lang: Lang) -> Option<String> {
    args.aks.is_none().then(|| {
        lang.pick(
            "not requested (give --aks CLUSTER to diagnose a cluster's pulls)",
            "要求されていません (クラスターのプルを診断するには --aks CLUSTER を指定してください)",
        )
        .to_string()
    })
}

/// The cluster, the registry and an ARM client, or why a check cannot run.
fn inputs<'a>(cx: &'a CheckCx<'a>) -> Result<(ManagedCluster, ArmRegistry, Arm<'a>), Outcome> {
    let (cluster, reg, token) = {
        let f = cx.facts();
        (
            f.aks_cluster.clone(),
            f.arm_registry.clone(),
            f.arm_token.clone(),
        )
    };
    match (cluster, reg, token) {
        (Some(c), Some(r), Some(t)) => Ok((c, r, arm_client(cx, t))),
        (Some(c), None, _) => {
            // The cluster is visible and the registry is not: perhaps another tenant's.
            let name = cx
                .target
                .trim_start_matches("https://")
                .to_ascii_lowercase();
            let host = if name.contains('.') {
                name.split(['/', ':']).next().unwrap_or(&name).to_string()
            } else {
                crate::checks::cloud(cx).login_server(&name)
            };
            let confirm = vec![check_acr_command(&c, &host)];
            Err(Outcome::skip(cx.t(
                format!("registry {} could not be read through ARM (see registry settings); a registry in another tenant than the cluster cannot be seen from here at all; check from inside the cluster: `{}`", cx.target, confirm[0]),
                format!("レジストリ {} を ARM から読み取れませんでした (レジストリ設定を参照)。クラスターと別のテナントにあるレジストリはここからは見えません。クラスター内から確認するには: `{}`", cx.target, confirm[0]),
            ))
            .evidence("seen_from_arm", false)
            .evidence("unseen", vec!["registry_in_another_tenant"])
            .evidence("confirm_with", confirm))
        }
        _ => Err(Outcome::skip(cx.t(
            "the cluster or the registry could not be read through ARM",
            "クラスターまたはレジストリを ARM から読み取れませんでした",
        ))),
    }
}

/// `az aks check-acr`: Microsoft's check from inside the cluster (needs kubectl access).
fn check_acr_command(cluster: &ManagedCluster, login_host: &str) -> String {
    format!(
        "az aks check-acr --name {} --resource-group {} --acr {login_host}",
        cluster.name, cluster.resource_group
    )
}

/// A throwaway pod that resolves a name the way the nodes' pods do.
fn nslookup_command(host: &str) -> String {
    format!("kubectl run acr-doctor-dns --rm -it --restart=Never --image=busybox:1.36 -- nslookup {host}")
}

fn login_host(cx: &CheckCx<'_>, reg: &ArmRegistry) -> String {
    let from_arm = reg
        .property("loginServer")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    from_arm
        .unwrap_or_else(|| crate::checks::cloud(cx).login_server(&reg.name.to_ascii_lowercase()))
}

fn arm_denied(cx: &CheckCx<'_>, what_en: &str, what_ja: &str, e: &ArmError) -> Outcome {
    let msg = cx.t(
        format!("cannot read {what_en} through ARM: {e}"),
        format!("ARM から{what_ja}を読み取れません: {e}"),
    );
    if e.is_denied() {
        Outcome::warn(
            msg.clone(),
            RawFinding::new("ARM_PERMISSION_MISSING", msg)
                .severity(Severity::Warning)
                .evidence("error", e.to_string()),
        )
    } else {
        Outcome::fail(
            msg.clone(),
            RawFinding::new("UNEXPECTED_ERROR", msg).evidence("error", e.to_string()),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// aks.cluster

struct AksCluster;

impl Check for AksCluster {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new("aks.cluster", Group::Cluster, "cluster", "クラスター")
            .needs(&[Fact::Credential])
            .uses(&[Fact::ArmRegistry])
            .provides(&[Fact::AksCluster]);
        &META
    }
    fn not_requested(&self, args: &CheckArgs, lang: Lang) -> Option<String> {
        not_requested(args, lang)
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { aks_cluster(cx).await })
    }
}

async fn aks_cluster(cx: &CheckCx<'_>) -> Outcome {
    let Some(flag) = cx.args.aks.as_deref() else {
        return Outcome::skip("no --aks");
    };
    let cref = ClusterRef::from_flags(
        flag,
        cx.args.aks_resource_group.as_deref(),
        cx.args.aks_subscription.as_deref(),
    );
    let (token, reg) = {
        let f = cx.facts();
        (f.arm_token.clone(), f.arm_registry.clone())
    };
    let Some(token) = token else {
        let msg = cx.t(
            format!("cannot read cluster {}: the credential under test has no Azure Resource Manager token (sign in with `az login`, or set a service principal's AZURE_* variables, as an identity that may read the cluster)", cref.name),
            format!("クラスター {} を読み取れません: 検査対象の資格情報には Azure Resource Manager のトークンがありません (クラスターを読み取れる ID で `az login` するか、サービス プリンシパルの AZURE_* 変数を設定してください)", cref.name),
        );
        return Outcome::warn(
            msg.clone(),
            RawFinding::new("ARM_PERMISSION_MISSING", msg).severity(Severity::Warning),
        );
    };
    // The subscriptions to look in: the one named, else the registry's and the run's.
    let mut subs: Vec<String> = Vec::new();
    let mut push = |s: Option<String>| {
        if let Some(s) = s.filter(|s| !s.is_empty()) {
            if !subs.iter().any(|x| x.eq_ignore_ascii_case(&s)) {
                subs.push(s);
            }
        }
    };
    match &cref.subscription {
        Some(s) => push(Some(s.clone())),
        None => {
            push(reg.as_ref().map(|r| r.subscription.clone()));
            push(cx.args.subscription.clone());
            push(cx.ctx.env("AZURE_SUBSCRIPTION_ID").map(str::to_string));
            push(crate::azure::arm::cli_default_subscription(
                cx.ctx.env_map(),
            ));
        }
    }
    let arm = arm_client(cx, token);
    let mut error: Option<ArmError> = None;
    let mut found = None;
    for sub in &subs {
        match aks::read_cluster(&arm, &cref, sub).await {
            Ok(Some(c)) => {
                found = Some(c);
                break;
            }
            Ok(None) => {}
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    let rg_text = cref
        .resource_group
        .clone()
        .unwrap_or_else(|| cx.t("any resource group", "任意のリソース グループ"));
    let Some(cluster) = found else {
        if let Some(e) = error.as_ref().filter(|e| e.is_denied()) {
            let msg = cx.t(
                format!("cannot read cluster {} ({rg_text}) through ARM: {e} (needs Microsoft.ContainerService/managedClusters/read, e.g. Reader on the cluster)", cref.name),
                format!("ARM からクラスター {} ({rg_text}) を読み取れません: {e} (Microsoft.ContainerService/managedClusters/read が必要です。例: クラスターの閲覧者ロール)", cref.name),
            );
            return Outcome::warn(
                msg.clone(),
                RawFinding::new("ARM_PERMISSION_MISSING", msg)
                    .severity(Severity::Warning)
                    .evidence("action", "Microsoft.ContainerService/managedClusters/read")
                    .evidence("error", e.to_string()),
            )
            .evidence("subscriptions", subs.clone());
        }
        let msg = cx.t(
            format!(
                "cluster {} was not found in {rg_text} of subscription(s) {}{}",
                cref.name,
                if subs.is_empty() {
                    "-".to_string()
                } else {
                    subs.join(", ")
                },
                error
                    .as_ref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ),
            format!(
                "クラスター {} がサブスクリプション {} の {rg_text} に見つかりません{}",
                cref.name,
                if subs.is_empty() {
                    "-".to_string()
                } else {
                    subs.join(", ")
                },
                error
                    .as_ref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ),
        );
        let mut f = RawFinding::new("UNEXPECTED_ERROR", msg.clone())
            .evidence("cluster", cref.name.clone())
            .evidence("subscriptions", subs.clone())
            .step(cx.t(
                "Check the spelling of --aks and --aks-resource-group, and give --aks-subscription when the cluster lives in another subscription than the registry.",
                "--aks と --aks-resource-group の綴りを確認し、クラスターがレジストリと別のサブスクリプションにある場合は --aks-subscription を指定してください。",
            ));
        if let Some(rg) = &cref.resource_group {
            f = f.command(format!(
                "az aks show --name {} --resource-group {rg}",
                cref.name
            ));
        }
        return Outcome::fail(msg, f);
    };

    let who = match &cluster.pull_identity {
        PullIdentity::Kubelet {
            object_id,
            client_id,
            resource_id,
        } => cx.t(
            format!(
                "kubelet identity {} (object {}, client {})",
                resource_id
                    .as_deref()
                    .map(aks::short_name)
                    .unwrap_or_else(|| "-".into()),
                object_id.as_deref().unwrap_or("-"),
                client_id.as_deref().unwrap_or("-")
            ),
            format!(
                "kubelet ID {} (オブジェクト {}、クライアント {})",
                resource_id
                    .as_deref()
                    .map(aks::short_name)
                    .unwrap_or_else(|| "-".into()),
                object_id.as_deref().unwrap_or("-"),
                client_id.as_deref().unwrap_or("-")
            ),
        ),
        PullIdentity::ServicePrincipal { client_id } => cx.t(
            format!("service principal {client_id}"),
            format!("サービス プリンシパル {client_id}"),
        ),
        PullIdentity::Unknown => cx.t("an identity ARM does not show", "ARM に表示されない ID"),
    };
    let vnets: Vec<String> = cluster
        .node_subnets
        .iter()
        .map(|s| {
            let v = aks::vnet_of_subnet(s)
                .map(|v| aks::short_name(&v))
                .unwrap_or_default();
            format!("{v}/{}", aks::short_name(s))
        })
        .collect();
    let nodes = if vnets.is_empty() {
        cx.t(
            "nodes in a virtual network AKS manages",
            "ノードは AKS が管理する仮想ネットワーク内",
        )
    } else {
        cx.t(
            format!("nodes in {}", vnets.join(", ")),
            format!("ノードのサブネット {}", vnets.join(", ")),
        )
    };
    let outbound = cluster
        .outbound_type
        .clone()
        .unwrap_or_else(|| "loadBalancer".into());
    let msg = cx.t(
        format!(
            "{} in {}: pulls as {who}; outbound {outbound}; {nodes}",
            cluster.name, cluster.resource_group
        ),
        format!(
            "{} ({}): プルに使う ID は {who}、送信方式 {outbound}、{nodes}",
            cluster.name, cluster.resource_group
        ),
    );
    let outcome = Outcome::pass(msg)
        .evidence("cluster_id", cluster.id.clone())
        .evidence("api_version", aks::AKS_API_VERSION)
        .evidence("pull_identity", cluster.pull_identity.evidence())
        .evidence("outbound_type", cluster.outbound_type.clone())
        .evidence("node_subnets", cluster.node_subnets.clone())
        .evidence("node_resource_group", cluster.node_resource_group.clone())
        .evidence("private_cluster", cluster.private_cluster)
        .evidence("tenant_id", cluster.tenant.clone());
    cx.facts().aks_cluster = Some(cluster);
    outcome
}

// ---------------------------------------------------------------------------------------------
// aks.identity

struct AksIdentity;

impl Check for AksIdentity {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new("aks.identity", Group::Cluster, "pull identity", "プル用 ID")
            .needs(&[Fact::AksCluster, Fact::ArmRegistry]);
        &META
    }
    fn not_requested(&self, args: &CheckArgs, lang: Lang) -> Option<String> {
        not_requested(args, lang)
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { aks_identity(cx).await })
    }
}

/// The object ID of an application's service principal, from Microsoft Graph.
async fn service_principal_object_id(cx: &CheckCx<'_>, client_id: &str) -> Result<String, String> {
    // The client ID goes into an OData key: only a GUID, so nothing can change the path.
    if !(client_id.len() == 36 && client_id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')) {
        return Err(cx.t(
            format!("the client ID {client_id:?} is not a GUID; Graph was not asked"),
            format!("クライアント ID {client_id:?} は GUID ではないため、Graph には問い合わせていません"),
        ));
    }
    let token = cx.facts().graph_token.clone();
    let Some(token) = token else {
        return Err(cx.t(
            "no Microsoft Graph token for the credential under test",
            "検査対象の資格情報の Microsoft Graph トークンがありません",
        ));
    };
    cx.ctx.redactor.register(token.expose());
    let cloud = crate::checks::cloud(cx);
    let url = format!(
        "{}/v1.0/servicePrincipals(appId='{client_id}')",
        crate::azure::entra::graph_endpoint(cx.ctx, cloud)
    );
    let rb = cx
        .ctx
        .http()
        .get(&url)
        .query(&[("$select", "id,appId,displayName")])
        .bearer_auth(token.expose())
        .header("Accept", "application/json");
    let resp = cx
        .ctx
        .send_credential(crate::trust::Carry::Graph, rb)
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let json = resp.json();
    if resp.status != 200 {
        let err = json
            .as_ref()
            .and_then(|j| j.get("error"))
            .map(|e| {
                format!(
                    "{} {}",
                    e.get("code").and_then(Value::as_str).unwrap_or(""),
                    e.get("message").and_then(Value::as_str).unwrap_or("")
                )
            })
            .unwrap_or_default();
        return Err(format!("GET {url} → {}: {}", resp.status, err.trim()));
    }
    json.as_ref()
        .and_then(|j| j.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("GET {url}: no id in the answer"))
}

async fn aks_identity(cx: &CheckCx<'_>) -> Outcome {
    let (cluster, reg, arm) = match inputs(cx) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let (principal, label_en, label_ja) = match &cluster.pull_identity {
        PullIdentity::Kubelet {
            object_id: Some(oid),
            resource_id,
            ..
        } => {
            let name = resource_id
                .as_deref()
                .map(aks::short_name)
                .unwrap_or_else(|| oid.clone());
            (
                oid.clone(),
                format!("kubelet identity {name}"),
                format!("kubelet ID {name}"),
            )
        }
        PullIdentity::ServicePrincipal { client_id } => {
            match service_principal_object_id(cx, client_id).await {
                Ok(oid) => (
                    oid,
                    format!("service principal {client_id}"),
                    format!("サービス プリンシパル {client_id}"),
                ),
                Err(why) => {
                    return Outcome::info(cx.t(
                        format!("{} pulls as service principal {client_id}, whose object ID could not be looked up ({why}); look it up and evaluate it with --principal", cluster.name),
                        format!("{} はサービス プリンシパル {client_id} としてプルしますが、そのオブジェクト ID を調べられませんでした ({why})。調べたうえで --principal で評価してください", cluster.name),
                    ))
                    .evidence("pull_identity", cluster.pull_identity.evidence())
                    .evidence("object_id_lookup", why)
                    .evidence(
                        "confirm_with",
                        vec![format!("az ad sp show --id {client_id} --query id --output tsv")],
                    );
                }
            }
        }
        _ => {
            return Outcome::info(cx.t(
                format!("{}: ARM shows neither a kubelet identity nor a service principal for the nodes", cluster.name),
                format!("{}: ARM にはノードの kubelet ID もサービス プリンシパルも表示されません", cluster.name),
            ))
            .evidence("pull_identity", cluster.pull_identity.evidence());
        }
    };
    let mode = mode_of(&reg);
    let attach = format!(
        "az aks update --name {} --resource-group {} --attach-acr {}",
        cluster.name, cluster.resource_group, reg.id
    );
    let outcome = match cx.args.repository_name() {
        Some(repo) => evaluate_principal(cx, &principal, &["pull"], Some(repo), false).await,
        None => registry_wide_pull(cx, &arm, &reg, &principal, mode).await,
    };
    // Speak of the identity by what it is, and give the fix the way AKS attaches a registry.
    let mut outcome = outcome
        .evidence("pull_identity", cluster.pull_identity.evidence())
        .evidence("principal", principal.clone())
        .evidence("cluster_id", cluster.id.clone());
    outcome.message = outcome.message.replacen(
        &principal,
        &cx.t(
            format!("{label_en} ({principal})"),
            format!("{label_ja} ({principal})"),
        ),
        1,
    );
    for f in &mut outcome.findings {
        if !matches!(
            f.code,
            "RBAC_ROLE_MISSING"
                | "ABAC_LEGACY_ROLE_IGNORED"
                | "ABAC_CONDITION_EXCLUDES_REPOSITORY"
                | "REPOSITORY_PERMISSION_MISSING"
        ) || f.severity == Some(Severity::Info)
        {
            continue;
        }
        f.evidence
            .insert("pull_identity".into(), cluster.pull_identity.evidence());
        f.evidence
            .insert("assignee".into(), principal.clone().into());
        // The object ID came from ARM or Graph: no need to look it up from an application ID.
        f.commands.retain(|c| !c.starts_with("az ad sp show"));
        f.solution.retain(|s| {
            !s.starts_with("no role assignment applies to")
                && !s.contains("に適用されるロールの割り当てはありません")
        });
        f.evidence
            .insert("cluster_id".into(), cluster.id.clone().into());
        match mode {
            Mode::Legacy => {
                f.commands.insert(0, attach.clone());
                f.solution.insert(
                    0,
                    cx.t(
                        format!("`az aks update --attach-acr` gives the {label_en} AcrPull on the registry; the `az role assignment create` line below does the same by hand."),
                        format!("`az aks update --attach-acr` はレジストリに対する AcrPull を {label_ja} に割り当てます。下の `az role assignment create` は同じことを手動で行います。"),
                    ),
                );
            }
            Mode::Abac => {
                f.solution.insert(
                    0,
                    cx.t(
                        format!("`az aks update --attach-acr` assigns AcrPull, which a registry in \"{}\" mode does not honour: assign Container Registry Repository Reader to the {label_en} instead (the command below).", mode.portal_name()),
                        format!("`az aks update --attach-acr` が割り当てる AcrPull は「{}」モードのレジストリでは無視されます。代わりに {label_ja} に Container Registry Repository Reader を割り当ててください (下のコマンド)。", mode.portal_name()),
                    ),
                );
            }
        }
    }
    outcome
}

/// Without `--repository`: may the identity pull from the registry at all?
async fn registry_wide_pull(
    cx: &CheckCx<'_>,
    arm: &Arm<'_>,
    reg: &ArmRegistry,
    principal: &str,
    mode: Mode,
) -> Outcome {
    let roles = match assignments(cx, arm, &reg.id, principal).await {
        Ok(r) => r,
        Err(e) => {
            return arm_denied(
                cx,
                &format!("the role assignments at {}", reg.name),
                &format!(" {} のロールの割り当て", reg.name),
                &e,
            )
        }
    };
    let now = cx.ctx.clock.now();
    let verdicts = roles::evaluate(
        mode,
        &roles,
        "",
        now,
        time::Duration::minutes(RECENT_MINUTES),
    );
    let held: Vec<String> = roles.iter().map(|r| r.role.name.clone()).collect();
    let held_text = if held.is_empty() {
        cx.t("no role at this registry", "このレジストリでのロールなし")
    } else {
        held.join(", ")
    };
    let roles_json: Vec<Value> = roles.iter().map(|r| r.describe(&reg.id)).collect();
    let pull = verdicts.iter().find(|v| v.action == "pull");
    let base = |o: Outcome| {
        o.evidence("role_assignment_mode", mode.portal_name())
            .evidence("role_assignments", roles_json.clone())
    };
    if pull.is_some_and(|v| v.allowed()) {
        return base(Outcome::pass(cx.t(
            format!(
                "{principal} may pull from every repository of {} ({held_text})",
                reg.name
            ),
            format!(
                "{principal} は {} のすべてのリポジトリからプルできます ({held_text})",
                reg.name
            ),
        )));
    }
    if roles.iter().any(|r| r.condition.is_some()) {
        return base(Outcome::info(cx.t(
            format!("{principal} holds {held_text} with conditions on the repository: give --repository to evaluate the image the cluster pulls"),
            format!("{principal} は {held_text} をリポジトリの条件付きで持っています。クラスターがプルするイメージを評価するには --repository を指定してください"),
        )));
    }
    let ignored: Vec<String> = pull.map(|v| v.ignored.clone()).unwrap_or_default();
    let code = match mode {
        Mode::Legacy => "RBAC_ROLE_MISSING",
        Mode::Abac if !ignored.is_empty() => "ABAC_LEGACY_ROLE_IGNORED",
        Mode::Abac => "REPOSITORY_PERMISSION_MISSING",
    };
    let role = match mode {
        Mode::Legacy => names::ACR_PULL,
        Mode::Abac => names::REPOSITORY_READER,
    };
    let msg = cx.t(
        format!(
            "the registry uses \"{}\"; {principal} has {held_text}, none of which lets it pull",
            mode.portal_name()
        ),
        format!(
            "レジストリは「{}」モードです。{principal} の割り当て ({held_text}) にはプルを許可するものがありません",
            mode.portal_name()
        ),
    );
    let f = RawFinding::new(code, msg.clone())
        .evidence("missing", vec!["pull"])
        .evidence("ignored_roles", ignored)
        .evidence("role_assignment_mode", mode.portal_name())
        .evidence("role_assignments", roles_json.clone())
        .command(roles::assign_command(role, principal, &reg.id, None))
        .step(portal_step(cx, Some(mode)));
    base(Outcome::fail(msg, f))
}

// ---------------------------------------------------------------------------------------------
// Node networks, shared by aks.egress and aks.private_dns

/// The node virtual networks (from the node subnets, else those of the node resource group).
async fn node_vnets(arm: &Arm<'_>, cluster: &ManagedCluster) -> Result<Vec<VnetInfo>, ArmError> {
    let mut ids: Vec<String> = Vec::new();
    for s in &cluster.node_subnets {
        if let Some(v) = aks::vnet_of_subnet(s) {
            if !ids.iter().any(|x| aks::same_id(x, &v)) {
                ids.push(v);
            }
        }
    }
    if ids.is_empty() {
        if let Some(rg) = &cluster.node_resource_group {
            ids = aks::vnets_in(arm, &cluster.subscription, rg).await?;
        }
    }
    let mut out = Vec::new();
    for id in ids {
        out.push(aks::vnet(arm, &id).await?);
    }
    Ok(out)
}

/// A registry private endpoint and the virtual network of its subnet.
struct Endpoint {
    name: String,
    vnet: Option<String>,
}

async fn endpoints_with_vnets(arm: &Arm<'_>, reg: &ArmRegistry) -> Result<Vec<Endpoint>, ArmError> {
    let mut out = Vec::new();
    for ep in crate::azure::private_endpoints::endpoints_of(reg) {
        let v = arm.get(&ep.id, aks::NETWORK_API_VERSION, &[]).await?;
        let vnet = v
            .pointer("/properties/subnet/id")
            .and_then(Value::as_str)
            .and_then(aks::vnet_of_subnet);
        out.push(Endpoint {
            name: ep.name,
            vnet,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// aks.egress

struct AksEgress;

impl Check for AksEgress {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new("aks.egress", Group::Cluster, "outbound path", "送信経路")
            .needs(&[Fact::AksCluster, Fact::ArmRegistry]);
        &META
    }
    fn not_requested(&self, args: &CheckArgs, lang: Lang) -> Option<String> {
        not_requested(args, lang)
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { aks_egress(cx).await })
    }
}

/// The public addresses the cluster's traffic leaves from, per its outbound type; `None` when
/// ARM cannot show them (user-defined routing).
async fn outbound_addresses(
    arm: &Arm<'_>,
    cluster: &ManagedCluster,
) -> Result<Option<Vec<OutboundAddress>>, ArmError> {
    let kind = cluster
        .outbound_type
        .as_deref()
        .unwrap_or("loadBalancer")
        .to_ascii_lowercase();
    let ids: Vec<String> = match kind.as_str() {
        "loadbalancer" => cluster.lb_outbound_ips.clone(),
        "managednatgateway" => cluster.nat_outbound_ips.clone(),
        "userassignednatgateway" => {
            let mut ids = Vec::new();
            for s in &cluster.node_subnets {
                if let Some(nat) = aks::subnet(arm, s).await?.nat_gateway {
                    for ip in aks::nat_gateway_ips(arm, &nat).await? {
                        if !ids.iter().any(|x: &String| aks::same_id(x, &ip)) {
                            ids.push(ip);
                        }
                    }
                }
            }
            ids
        }
        _ => return Ok(None),
    };
    let mut out = Vec::new();
    for id in ids {
        out.push(aks::outbound_address(arm, &id).await?);
    }
    Ok(Some(out))
}

async fn aks_egress(cx: &CheckCx<'_>) -> Outcome {
    let (cluster, reg, arm) = match inputs(cx) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let host = login_host(cx, &reg);
    let public = reg
        .property("publicNetworkAccess")
        .and_then(Value::as_str)
        .unwrap_or("Enabled")
        .to_string();
    let public_disabled = public.eq_ignore_ascii_case("Disabled");
    let default_action = reg
        .property("networkRuleSet.defaultAction")
        .and_then(Value::as_str)
        .unwrap_or("Allow")
        .to_string();
    let firewall = default_action.eq_ignore_ascii_case("Deny");
    let rules = aks::ip_rules(&reg);
    let vnets = match node_vnets(&arm, &cluster).await {
        Ok(v) => v,
        Err(e) => {
            return arm_denied(
                cx,
                "the node virtual networks",
                "ノードの仮想ネットワーク",
                &e,
            )
        }
    };
    let endpoints = match endpoints_with_vnets(&arm, &reg).await {
        Ok(v) => v,
        Err(e) => {
            return arm_denied(
                cx,
                &format!("the private endpoints of {}", reg.name),
                &format!(" {} のプライベート エンドポイント", reg.name),
                &e,
            )
        }
    };
    let reachable_from = |vnet: &str| {
        vnets
            .iter()
            .any(|n| aks::same_id(&n.id, vnet) || n.peered.iter().any(|p| aks::same_id(p, vnet)))
    };
    let reachable: Vec<&Endpoint> = endpoints
        .iter()
        .filter(|e| e.vnet.as_deref().is_some_and(reachable_from))
        .collect();
    let addresses = match outbound_addresses(&arm, &cluster).await {
        Ok(a) => a,
        Err(e) => {
            return arm_denied(
                cx,
                "the cluster's outbound addresses",
                "クラスターの送信元アドレス",
                &e,
            )
        }
    };
    let outbound_type = cluster
        .outbound_type
        .clone()
        .unwrap_or_else(|| "loadBalancer".into());
    let addr_list: Vec<String> = addresses
        .iter()
        .flatten()
        .map(|a| {
            a.address
                .clone()
                .unwrap_or_else(|| aks::short_name(&a.resource_id))
        })
        .collect();
    let evidence = |o: Outcome| {
        o.evidence("outbound_type", outbound_type.clone())
            .evidence(
                "outbound_addresses",
                addresses
                    .iter()
                    .flatten()
                    .map(|a| json!({"resource_id": a.resource_id, "address": a.address}))
                    .collect::<Vec<_>>(),
            )
            .evidence("public_network_access", public.clone())
            .evidence("network_default_action", default_action.clone())
            .evidence("ip_rules", rules.clone())
            .evidence(
                "node_vnets",
                vnets.iter().map(|v| v.id.clone()).collect::<Vec<_>>(),
            )
            .evidence(
                "private_endpoints",
                endpoints
                    .iter()
                    .map(|e| json!({"name": e.name, "vnet": e.vnet, "reachable": e.vnet.as_deref().is_some_and(reachable_from)}))
                    .collect::<Vec<_>>(),
            )
    };
    let vnet_names: Vec<String> = vnets.iter().map(|v| aks::short_name(&v.id)).collect();
    let via_pe = |reachable: &[&Endpoint]| {
        reachable
            .iter()
            .map(|e| {
                format!(
                    "{} ({})",
                    e.name,
                    e.vnet.as_deref().map(aks::short_name).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if (public_disabled || firewall) && !reachable.is_empty() {
        return evidence(Outcome::pass(cx.t(
            format!("the nodes reach {} through private endpoint {} (public access {public}, firewall {default_action}); name resolution: see private DNS for the nodes", reg.name, via_pe(&reachable)),
            format!("ノードはプライベート エンドポイント {} 経由で {} に到達します (パブリック アクセス {public}、ファイアウォール {default_action})。名前解決はノードのプライベート DNS を参照", via_pe(&reachable), reg.name),
        )));
    }
    if public_disabled {
        let pe_text = if endpoints.is_empty() {
            cx.t(
                "it has no private endpoint",
                "プライベート エンドポイントがありません",
            )
        } else {
            cx.t(
                format!(
                    "its private endpoints ({}) are in virtual networks neither in nor peered with the node network(s) {}",
                    via_pe(&endpoints.iter().collect::<Vec<_>>()),
                    vnet_names.join(", ")
                ),
                format!(
                    "プライベート エンドポイント ({}) はノードの仮想ネットワーク {} にもそのピアリング先にもありません",
                    via_pe(&endpoints.iter().collect::<Vec<_>>()),
                    vnet_names.join(", ")
                ),
            )
        };
        let msg = cx.t(
            format!("{} refuses the cluster's traffic: public network access is disabled and {pe_text}", reg.name),
            format!("{} はクラスターの通信を拒否します: パブリック ネットワーク アクセスが無効で、{pe_text}", reg.name),
        );
        let mut f = RawFinding::new("CONNECTIVITY_FORBIDDEN_ERROR", msg.clone())
            .evidence("public_network_access", public.clone())
            .evidence("node_vnets", vnets.iter().map(|v| v.id.clone()).collect::<Vec<_>>())
            .evidence(
                "private_endpoints",
                endpoints
                    .iter()
                    .map(|e| json!({"name": e.name, "vnet": e.vnet}))
                    .collect::<Vec<_>>(),
            )
            .evidence("outbound_addresses", addr_list.clone())
            .step(cx.t(
                format!("Give the nodes a way in: a private endpoint of {} in the node virtual network (or a network peered with it), with the privatelink zone linked to the node network.", reg.name),
                format!("ノードからの経路を用意します: ノードの仮想ネットワーク (またはそのピアリング先) に {} のプライベート エンドポイントを作成し、privatelink ゾーンをノードのネットワークにリンクします。", reg.name),
            ));
        if let Some(subnet) = cluster.node_subnets.first() {
            if let (Some(vnet), Some(rg)) = (
                aks::vnet_of_subnet(subnet),
                crate::azure::arm::ResourceId::parse(subnet).resource_group,
            ) {
                f = f.command(format!(
                    "az network private-endpoint create --name pe-{reg_name}-{cluster_name} --resource-group {rg} --vnet-name {vnet_name} --subnet {subnet_name} --private-connection-resource-id {reg_id} --group-id registry --connection-name {reg_name}-{cluster_name}",
                    reg_name = reg.name,
                    cluster_name = cluster.name,
                    vnet_name = aks::short_name(&vnet),
                    subnet_name = aks::short_name(subnet),
                    reg_id = reg.id,
                ));
            }
        }
        return evidence(Outcome::fail(msg, f));
    }
    let unseen_route = addresses.is_none();
    let confirm = vec![check_acr_command(&cluster, &host)];
    if unseen_route {
        let mut msg = cx.t(
            format!("outbound type {outbound_type}: the nodes' traffic leaves through the next hop of the subnet's route table (a firewall or network appliance), whose public address and rules ARM does not show"),
            format!("送信方式 {outbound_type}: ノードの通信はサブネットのルート テーブルの次ホップ (ファイアウォールやネットワーク仮想アプライアンス) から出ていきます。その公開アドレスと規則は ARM からは見えません"),
        );
        if firewall {
            msg = cx.t(
                format!("{msg}; the registry admits only {} — that appliance's public address must be among them", if rules.is_empty() { "-".to_string() } else { rules.join(", ") }),
                format!("{msg}。レジストリが許可するのは {} のみで、そのアプライアンスの公開アドレスが含まれている必要があります", if rules.is_empty() { "-".to_string() } else { rules.join(", ") }),
            );
        }
        msg = cx.t(
            format!("{msg}; the appliance must also allow {host} and the data endpoints (*.data.azurecr.io, or the registry's storage without dedicated data endpoints); check from inside the cluster: `{}`", confirm[0]),
            format!("{msg}。アプライアンスは {host} とデータ エンドポイント (*.data.azurecr.io、専用データ エンドポイントがない場合はレジストリのストレージ) も許可する必要があります。クラスター内から確認するには: `{}`", confirm[0]),
        );
        return evidence(Outcome::info(msg))
            .evidence("seen_from_arm", false)
            .evidence("unseen", vec!["egress_firewall"])
            .evidence("confirm_with", confirm);
    }
    if firewall {
        if let Some(subnet) = cluster
            .node_subnets
            .iter()
            .find(|s| aks::subnet_rules(&reg).iter().any(|r| aks::same_id(r, s)))
        {
            return evidence(Outcome::pass(cx.t(
                format!("the registry's firewall admits node subnet {} (service endpoint rule)", aks::short_name(subnet)),
                format!("レジストリのファイアウォールはノードのサブネット {} を許可しています (サービス エンドポイント規則)", aks::short_name(subnet)),
            )));
        }
        let all: Vec<&OutboundAddress> = addresses.iter().flatten().collect();
        let refused: Vec<String> = all
            .iter()
            .filter_map(|a| a.address.clone())
            .filter(|a| aks::admitting_rule(a, &rules).is_none())
            .collect();
        if all.is_empty() || all.iter().any(|a| a.address.is_none()) {
            return evidence(Outcome::info(cx.t(
                format!("the registry's firewall admits only {}, and ARM shows no address for some of the cluster's outbound IPs yet; check from inside the cluster: `{}`", rules.join(", "), confirm[0]),
                format!("レジストリのファイアウォールが許可するのは {} のみですが、クラスターの送信 IP の一部にはまだアドレスが表示されていません。クラスター内から確認するには: `{}`", rules.join(", "), confirm[0]),
            )))
            .evidence("confirm_with", confirm);
        }
        if refused.is_empty() {
            return evidence(Outcome::pass(cx.t(
                format!(
                    "the registry's firewall admits the cluster's outbound address(es) {}",
                    addr_list.join(", ")
                ),
                format!(
                    "レジストリのファイアウォールはクラスターの送信元アドレス {} を許可しています",
                    addr_list.join(", ")
                ),
            )));
        }
        let msg = cx.t(
            format!(
                "{} refuses the cluster's traffic: its firewall (default action Deny) admits {} but the cluster leaves from {} ({outbound_type}); not admitted: {}",
                reg.name,
                if rules.is_empty() { "nothing".to_string() } else { rules.join(", ") },
                addr_list.join(", "),
                refused.join(", ")
            ),
            format!(
                "{} はクラスターの通信を拒否します: ファイアウォール (既定の動作 Deny) が許可するのは {} ですが、クラスターの送信元は {} ({outbound_type}) です。許可されていないアドレス: {}",
                reg.name,
                if rules.is_empty() { "なし".to_string() } else { rules.join(", ") },
                addr_list.join(", "),
                refused.join(", ")
            ),
        );
        let mut f = RawFinding::new("CONNECTIVITY_FORBIDDEN_ERROR", msg.clone())
            .evidence("network_default_action", default_action.clone())
            .evidence("ip_rules", rules.clone())
            .evidence("outbound_addresses", addr_list.clone())
            .evidence("not_allowed", refused.clone())
            .step(cx.t(
                "Every outbound address of the cluster can carry a pull, so each must be admitted; a private endpoint in the node network avoids the public path altogether.",
                "クラスターのどの送信元アドレスからもプルが行われ得るため、すべてを許可する必要があります。ノードのネットワークにプライベート エンドポイントを置けばパブリック経路自体が不要になります。",
            ));
        for a in &refused {
            f = f.command(format!(
                "az acr network-rule add --name {} --ip-address {a}",
                reg.name
            ));
        }
        return evidence(Outcome::fail(msg, f));
    }
    evidence(Outcome::pass(cx.t(
        format!("{} accepts public traffic from any address; the cluster leaves from {} ({outbound_type})", reg.name, if addr_list.is_empty() { "-".to_string() } else { addr_list.join(", ") }),
        format!("{} は任意のアドレスからのパブリック通信を受け付けます。クラスターの送信元は {} ({outbound_type}) です", reg.name, if addr_list.is_empty() { "-".to_string() } else { addr_list.join(", ") }),
    )))
}

// ---------------------------------------------------------------------------------------------
// aks.private_dns

struct AksPrivateDns;

impl Check for AksPrivateDns {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "aks.private_dns",
            Group::Cluster,
            "private DNS for the nodes",
            "ノードのプライベート DNS",
        )
        .needs(&[Fact::AksCluster, Fact::ArmRegistry]);
        &META
    }
    fn not_requested(&self, args: &CheckArgs, lang: Lang) -> Option<String> {
        not_requested(args, lang)
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { aks_private_dns(cx).await })
    }
}

async fn aks_private_dns(cx: &CheckCx<'_>) -> Outcome {
    use crate::azure::private_endpoints as pe;
    let (cluster, reg, arm) = match inputs(cx) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let host = login_host(cx, &reg);
    let cloud = crate::checks::cloud(cx);
    let suffix = cloud.acr_suffix().trim_start_matches('.').to_string();
    let zone_name = format!("privatelink.{suffix}");
    let (endpoints, mappings) = match pe::expected_mappings(&arm, &reg).await {
        Ok(x) => x,
        Err(e) => {
            return arm_denied(
                cx,
                &format!("the private endpoints of {}", reg.name),
                &format!(" {} のプライベート エンドポイント", reg.name),
                &e,
            )
        }
    };
    if endpoints.is_empty() {
        return Outcome::info(cx.t(
            format!("{} has no private endpoint: the nodes resolve {host} to its public address, as they should", reg.name),
            format!("{} にはプライベート エンドポイントがないため、ノードは {host} をパブリック アドレスに解決します (想定どおり)", reg.name),
        ))
        .evidence("private_endpoints", Vec::<Value>::new());
    }
    let vnets = match node_vnets(&arm, &cluster).await {
        Ok(v) => v,
        Err(e) => {
            return arm_denied(
                cx,
                "the node virtual networks",
                "ノードの仮想ネットワーク",
                &e,
            )
        }
    };
    // The zones the endpoints register in, else the zones of that name in the subscriptions.
    let mut zones: Vec<String> = Vec::new();
    for ep in &endpoints {
        match aks::zone_groups(&arm, &ep.id).await {
            Ok(found) => {
                for z in found {
                    if aks::short_name(&z).eq_ignore_ascii_case(&zone_name)
                        && !zones.iter().any(|x| aks::same_id(x, &z))
                    {
                        zones.push(z);
                    }
                }
            }
            Err(e) if e.status() == Some(404) => {}
            Err(e) => {
                return arm_denied(
                    cx,
                    "the private DNS zone groups",
                    "プライベート DNS ゾーン グループ",
                    &e,
                )
            }
        }
    }
    if zones.is_empty() {
        let mut subs = vec![cluster.subscription.clone()];
        if !subs
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&reg.subscription))
        {
            subs.push(reg.subscription.clone());
        }
        for sub in subs {
            match aks::zones_named(&arm, &sub, &zone_name).await {
                Ok(found) => zones.extend(found),
                Err(e) => {
                    return arm_denied(cx, "the private DNS zones", "プライベート DNS ゾーン", &e)
                }
            }
        }
    }
    let custom_dns: Vec<(String, Vec<String>)> = vnets
        .iter()
        .filter(|v| !v.dns_servers.is_empty())
        .map(|v| (v.id.clone(), v.dns_servers.clone()))
        .collect();
    let confirm = vec![nslookup_command(&host), check_acr_command(&cluster, &host)];
    let custom_text = custom_dns
        .iter()
        .map(|(v, s)| format!("{}: {}", aks::short_name(v), s.join(", ")))
        .collect::<Vec<_>>()
        .join("; ");
    let base = |o: Outcome| {
        o.evidence("zone_name", zone_name.clone())
            .evidence("zones", zones.clone())
            .evidence(
                "node_vnets",
                vnets.iter().map(|v| v.id.clone()).collect::<Vec<_>>(),
            )
            .evidence(
                "dns_servers",
                custom_dns
                    .iter()
                    .map(|(v, s)| json!({"vnet": v, "dns_servers": s}))
                    .collect::<Vec<_>>(),
            )
    };
    if zones.is_empty() {
        if !custom_dns.is_empty() {
            return base(Outcome::info(cx.t(
                format!("no {zone_name} zone is visible through ARM and the node network(s) use custom DNS servers ({custom_text}); what those servers answer for {host} cannot be seen from ARM; check from inside the cluster: `{}`", confirm[0]),
                format!("ARM から見える {zone_name} ゾーンはなく、ノードのネットワークはカスタム DNS サーバー ({custom_text}) を使っています。それらが {host} に何を返すかは ARM からは見えません。クラスター内から確認するには: `{}`", confirm[0]),
            )))
            .evidence("seen_from_arm", false)
            .evidence("unseen", vec!["custom_dns_answers"])
            .evidence("confirm_with", confirm);
        }
        let msg = cx.t(
            format!("{} has private endpoints but no {zone_name} private DNS zone holds its records: the nodes resolve {host} to its public address", reg.name),
            format!("{} にはプライベート エンドポイントがありますが、そのレコードを持つ {zone_name} プライベート DNS ゾーンがありません。ノードは {host} をパブリック アドレスに解決します", reg.name),
        );
        let f = RawFinding::new("PRIVATE_ENDPOINT_DNS_ERROR", msg.clone())
            .evidence("zone_name", zone_name.clone())
            .evidence("zones", Vec::<String>::new())
            .step(cx.t(
                format!("Create the {zone_name} zone, add the private endpoint's records to it (a DNS zone group on the endpoint does this), and link it to the node virtual network."),
                format!("{zone_name} ゾーンを作成し、プライベート エンドポイントのレコードを追加し (エンドポイントの DNS ゾーン グループで自動化できます)、ノードの仮想ネットワークにリンクします。"),
            ));
        return base(Outcome::fail(msg, f));
    }

    // Links: a zone answers only in the virtual networks linked to it (peering does not carry it).
    let mut linked: Vec<String> = Vec::new();
    let mut links_json: Vec<Value> = Vec::new();
    for z in &zones {
        match aks::zone_links(&arm, z).await {
            Ok(ls) => {
                for l in ls {
                    links_json
                        .push(json!({"zone": z, "name": l.name, "vnet": l.vnet, "state": l.state}));
                    linked.push(l.vnet);
                }
            }
            Err(e) => {
                return arm_denied(
                    cx,
                    "the zone's virtual network links",
                    "ゾーンの仮想ネットワーク リンク",
                    &e,
                )
            }
        }
    }
    let unlinked: Vec<&VnetInfo> = vnets
        .iter()
        .filter(|v| !linked.iter().any(|l| aks::same_id(l, &v.id)))
        .collect();
    // Records: every name the endpoints declare, in the first zone that has it.
    let mut records: Vec<Value> = Vec::new();
    let mut bad_records: Vec<(String, Vec<String>, Option<Vec<String>>)> = Vec::new();
    for m in &mappings {
        let Some(rel) = aks::relative_record(&m.fqdn, &suffix) else {
            continue;
        };
        let mut found: Option<Vec<std::net::IpAddr>> = None;
        for z in &zones {
            match aks::a_record(&arm, z, &rel).await {
                Ok(Some(ips)) => {
                    found = Some(ips);
                    break;
                }
                Ok(None) => {}
                Err(e) => return arm_denied(cx, "the zone's A records", "ゾーンの A レコード", &e),
            }
        }
        let expected: Vec<String> = m.ips.iter().map(|a| a.to_string()).collect();
        let seen: Option<Vec<String>> = found
            .as_ref()
            .map(|ips| ips.iter().map(|a| a.to_string()).collect());
        let ok = found
            .as_ref()
            .is_some_and(|ips| !ips.is_empty() && ips.iter().all(|a| m.ips.contains(a)));
        records.push(
            json!({"name": rel, "fqdn": m.fqdn, "expected": expected, "found": seen, "ok": ok}),
        );
        if !ok {
            bad_records.push((rel, expected, seen));
        }
    }
    let zone_rg = crate::azure::arm::ResourceId::parse(&zones[0])
        .resource_group
        .unwrap_or_default();
    let base = |o: Outcome| {
        base(o)
            .evidence("links", links_json.clone())
            .evidence("records", records.clone())
    };
    let mut findings: Vec<RawFinding> = Vec::new();
    let unlinked_plain: Vec<&&VnetInfo> = unlinked
        .iter()
        .filter(|v| v.dns_servers.is_empty())
        .collect();
    if !unlinked_plain.is_empty() {
        let names: Vec<String> = unlinked_plain
            .iter()
            .map(|v| aks::short_name(&v.id))
            .collect();
        let msg = cx.t(
            format!("the {zone_name} zone is not linked to node virtual network(s) {}: the nodes resolve {host} to its public address, not to the private endpoint", names.join(", ")),
            format!("{zone_name} ゾーンがノードの仮想ネットワーク {} にリンクされていないため、ノードは {host} をプライベート エンドポイントではなくパブリック アドレスに解決します", names.join(", ")),
        );
        let mut f = RawFinding::new("PRIVATE_ENDPOINT_DNS_ERROR", msg)
            .evidence("zones", zones.clone())
            .evidence(
                "unlinked_vnets",
                unlinked_plain
                    .iter()
                    .map(|v| v.id.clone())
                    .collect::<Vec<_>>(),
            )
            .evidence("linked_vnets", linked.clone());
        for v in &unlinked_plain {
            f = f.command(format!(
                "az network private-dns link vnet create --resource-group {zone_rg} --zone-name {zone_name} --name {}-link --virtual-network {} --registration-enabled false",
                aks::short_name(&v.id),
                v.id
            ));
        }
        findings.push(f);
    }
    if !bad_records.is_empty() {
        let lines: Vec<String> = bad_records
            .iter()
            .map(|(rel, expected, seen)| match seen {
                None => cx.t(
                    format!("{rel}: no A record (expected {})", expected.join(", ")),
                    format!("{rel}: A レコードなし (期待値 {})", expected.join(", ")),
                ),
                Some(s) => cx.t(
                    format!("{rel}: {} (expected {})", s.join(", "), expected.join(", ")),
                    format!("{rel}: {} (期待値 {})", s.join(", "), expected.join(", ")),
                ),
            })
            .collect();
        let data = bad_records.iter().any(|(rel, _, _)| rel.ends_with(".data"));
        let msg = cx.t(
            format!("the {zone_name} zone does not map every name of the private endpoint: {}{}", lines.join("; "), if data { "; without the data endpoint's record, sign-in works but layer downloads go to the public address and fail" } else { "" }),
            format!("{zone_name} ゾーンにプライベート エンドポイントの名前の一部がありません: {}{}", lines.join("; "), if data { "。データ エンドポイントのレコードがないと、サインインはできてもレイヤーのダウンロードがパブリック アドレスに向かい失敗します" } else { "" }),
        );
        let mut f = RawFinding::new("PRIVATE_ENDPOINT_DNS_ERROR", msg)
            .evidence("zones", zones.clone())
            .evidence(
                "missing_records",
                bad_records
                    .iter()
                    .map(|(rel, _, _)| rel.clone())
                    .collect::<Vec<_>>(),
            );
        if data {
            f = f.alternative(&["DATA_ENDPOINT_UNREACHABLE"]);
        }
        for (rel, expected, _) in &bad_records {
            if let Some(ip) = expected.first() {
                f = f.command(format!(
                    "az network private-dns record-set a add-record --resource-group {zone_rg} --zone-name {zone_name} --record-set-name {rel} --ipv4-address {ip}"
                ));
            }
        }
        findings.push(f);
    }
    let custom_note = (!custom_dns.is_empty()).then(|| {
        cx.t(
            format!("; the node network(s) use custom DNS servers ({custom_text}): they must forward {suffix} to Azure DNS (168.63.129.16) from a network linked to the zone, which ARM cannot show; check from inside the cluster: `{}`", confirm[0]),
            format!("。ノードのネットワークはカスタム DNS サーバー ({custom_text}) を使っています。これらはゾーンにリンクされたネットワークから {suffix} を Azure DNS (168.63.129.16) に転送する必要がありますが、ARM からは確認できません。クラスター内から確認するには: `{}`", confirm[0]),
        )
    });
    if findings.is_empty() {
        let mapped: Vec<String> = records
            .iter()
            .map(|r| {
                format!(
                    "{} → {}",
                    r["name"].as_str().unwrap_or(""),
                    r["found"]
                        .as_array()
                        .map(|a| a
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", "))
                        .unwrap_or_default()
                )
            })
            .collect();
        let msg = cx.t(
            format!(
                "{zone_name} is linked to the node network(s) {} and maps {}{}",
                vnets
                    .iter()
                    .map(|v| aks::short_name(&v.id))
                    .collect::<Vec<_>>()
                    .join(", "),
                mapped.join("; "),
                custom_note.clone().unwrap_or_default()
            ),
            format!(
                "{zone_name} はノードのネットワーク {} にリンクされ、{} を解決します{}",
                vnets
                    .iter()
                    .map(|v| aks::short_name(&v.id))
                    .collect::<Vec<_>>()
                    .join(", "),
                mapped.join("; "),
                custom_note.clone().unwrap_or_default()
            ),
        );
        let o = if custom_note.is_some() {
            Outcome::info(msg)
                .evidence("seen_from_arm", false)
                .evidence("unseen", vec!["custom_dns_answers"])
                .evidence("confirm_with", confirm)
        } else {
            Outcome::pass(msg)
        };
        return base(o);
    }
    let message = findings
        .iter()
        .map(|f| f.detail.clone())
        .collect::<Vec<_>>()
        .join("; ");
    let message = format!("{message}{}", custom_note.unwrap_or_default());
    let mut findings = findings.into_iter();
    let first = findings
        .next()
        .unwrap_or_else(|| RawFinding::new("PRIVATE_ENDPOINT_DNS_ERROR", message.clone()));
    let mut o = base(Outcome::fail(message, first)).evidence("confirm_with", confirm);
    for f in findings {
        o = o.finding(f);
    }
    o
}
