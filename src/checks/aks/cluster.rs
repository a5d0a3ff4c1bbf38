//! `aks.cluster`: reads the managed cluster named by `--aks` (provides the `AksCluster` fact).

use futures::future::BoxFuture;

use super::not_requested;
use crate::azure::aks::{self, ClusterRef, PullIdentity};
use crate::azure::arm::ArmError;
use crate::checks::authorization::arm_client;
use crate::checks::{Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::cli::CheckArgs;
use crate::finding::{RawFinding, Severity};
use crate::lang::Lang;

pub(super) struct AksCluster;

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
