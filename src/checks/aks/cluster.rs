//! `aks.cluster`: reads the managed cluster named by `--aks` (provides the `AksCluster` fact).

use futures::future::BoxFuture;

use super::not_requested;
use crate::azure::aks::{self, ClusterRef, ManagedCluster, PullIdentity};
use crate::azure::arm::{Arm, ArmError};
use crate::catalogue::Code;
use crate::checks::auth::arm_client;
use crate::checks::{Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::finding::{RawFinding, Severity};
use crate::lang::Lang;
use crate::request::CheckArgs;

pub struct AksCluster;

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
            RawFinding::new(Code::ARM_PERMISSION_MISSING, msg).severity(Severity::Warning),
        );
    };
    // The subscriptions to look in: the one named, else the registry's and the run's.
    let subs = match &cref.subscription {
        Some(s) => distinct_subscriptions([Some(s.clone())]),
        None => distinct_subscriptions([
            reg.as_ref().map(|r| r.subscription.clone()),
            cx.args.subscription.clone(),
            cx.ctx.env("AZURE_SUBSCRIPTION_ID").map(str::to_string),
            crate::azure::arm::cli_default_subscription(cx.ctx.env_map()),
        ]),
    };
    let arm = arm_client(cx, token);
    let (found, error) = find_cluster(&arm, &cref, &subs).await;
    let Some(cluster) = found else {
        return not_found(cx, &cref, &subs, error.as_ref());
    };
    let outcome = describe_cluster(cx, &cluster);
    cx.facts().aks_cluster = Some(cluster);
    outcome
}

/// The non-empty subscriptions, each once (IDs compared without regard to case), in order.
fn distinct_subscriptions<const N: usize>(candidates: [Option<String>; N]) -> Vec<String> {
    let mut subs: Vec<String> = Vec::new();
    for s in candidates.into_iter().flatten().filter(|s| !s.is_empty()) {
        if !subs.iter().any(|x| x.eq_ignore_ascii_case(&s)) {
            subs.push(s);
        }
    }
    subs
}

/// The cluster in the first subscription that has it, and the first error met on the way.
async fn find_cluster(
    arm: &Arm<'_>,
    cref: &ClusterRef,
    subs: &[String],
) -> (Option<ManagedCluster>, Option<ArmError>) {
    let mut error: Option<ArmError> = None;
    for sub in subs {
        match aks::read_cluster(arm, cref, sub).await {
            Ok(Some(c)) => return (Some(c), error),
            Ok(None) => {}
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    (None, error)
}

/// The cluster could not be read: denied (a warning), or not found where it was looked for.
fn not_found(
    cx: &CheckCx<'_>,
    cref: &ClusterRef,
    subs: &[String],
    error: Option<&ArmError>,
) -> Outcome {
    let rg_text = cref
        .resource_group
        .clone()
        .unwrap_or_else(|| cx.t("any resource group", "任意のリソース グループ"));
    if let Some(e) = error.filter(|e| e.is_denied()) {
        let msg = cx.t(
            format!("cannot read cluster {} ({rg_text}) through ARM: {e} (needs Microsoft.ContainerService/managedClusters/read, e.g. Reader on the cluster)", cref.name),
            format!("ARM からクラスター {} ({rg_text}) を読み取れません: {e} (Microsoft.ContainerService/managedClusters/read が必要です。例: クラスターの閲覧者ロール)", cref.name),
        );
        return Outcome::warn(
            msg.clone(),
            RawFinding::new(Code::ARM_PERMISSION_MISSING, msg)
                .severity(Severity::Warning)
                .evidence("action", "Microsoft.ContainerService/managedClusters/read")
                .evidence("error", e.to_string()),
        )
        .evidence("subscriptions", subs.to_vec());
    }
    let subs_text = if subs.is_empty() {
        "-".to_string()
    } else {
        subs.join(", ")
    };
    let error_text = error.map(|e| format!(" ({e})")).unwrap_or_default();
    let msg = cx.t(
        format!(
            "cluster {} was not found in {rg_text} of subscription(s) {subs_text}{error_text}",
            cref.name
        ),
        format!(
            "クラスター {} がサブスクリプション {subs_text} の {rg_text} に見つかりません{error_text}",
            cref.name
        ),
    );
    let mut f = RawFinding::new(Code::UNEXPECTED_ERROR, msg.clone())
        .evidence("cluster", cref.name.clone())
        .evidence("subscriptions", subs.to_vec())
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
    Outcome::fail(msg, f)
}

/// Who the nodes pull as, in words.
fn pull_identity_text(cx: &CheckCx<'_>, identity: &PullIdentity) -> String {
    match identity {
        PullIdentity::Kubelet {
            object_id,
            client_id,
            resource_id,
        } => {
            let name = resource_id
                .as_deref()
                .map(aks::short_name)
                .unwrap_or_else(|| "-".into());
            let (object_id, client_id) = (
                object_id.as_deref().unwrap_or("-"),
                client_id.as_deref().unwrap_or("-"),
            );
            cx.t(
                format!("kubelet identity {name} (object {object_id}, client {client_id})"),
                format!("kubelet ID {name} (オブジェクト {object_id}、クライアント {client_id})"),
            )
        }
        PullIdentity::ServicePrincipal { client_id } => cx.t(
            format!("service principal {client_id}"),
            format!("サービス プリンシパル {client_id}"),
        ),
        PullIdentity::Unknown => cx.t("an identity ARM does not show", "ARM に表示されない ID"),
    }
}

/// `vnet/subnet` of each node subnet.
fn node_subnet_names(cluster: &ManagedCluster) -> Vec<String> {
    cluster
        .node_subnets
        .iter()
        .map(|s| {
            let v = aks::vnet_of_subnet(s)
                .map(|v| aks::short_name(&v))
                .unwrap_or_default();
            format!("{v}/{}", aks::short_name(s))
        })
        .collect()
}

/// The cluster found: who it pulls as, how it leaves, where its nodes are.
fn describe_cluster(cx: &CheckCx<'_>, cluster: &ManagedCluster) -> Outcome {
    let who = pull_identity_text(cx, &cluster.pull_identity);
    let vnets = node_subnet_names(cluster);
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
    Outcome::pass(msg)
        .evidence("cluster_id", cluster.id.clone())
        .evidence("api_version", aks::AKS_API_VERSION)
        .evidence("pull_identity", cluster.pull_identity.evidence())
        .evidence("outbound_type", cluster.outbound_type.clone())
        .evidence("node_subnets", cluster.node_subnets.clone())
        .evidence("node_resource_group", cluster.node_resource_group.clone())
        .evidence("private_cluster", cluster.private_cluster)
        .evidence("tenant_id", cluster.tenant.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_are_looked_in_once_each_in_order() {
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            distinct_subscriptions([s("AAAA-1"), None, s(""), s("aaaa-1"), s("bbbb-2")]),
            vec!["AAAA-1".to_string(), "bbbb-2".to_string()]
        );
        assert!(distinct_subscriptions([None, s("")]).is_empty());
    }

    #[test]
    fn node_subnets_are_named_with_their_network() {
        let subnet = |vnet: &str, subnet: &str| {
            format!("/subscriptions/0000/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}")
        };
        let cluster = ManagedCluster {
            id: "/subscriptions/0000/resourceGroups/rg-test/providers/Microsoft.ContainerService/managedClusters/aks-test".into(),
            name: "aks-test".into(),
            subscription: "0000".into(),
            resource_group: "rg-test".into(),
            location: "westeurope".into(),
            pull_identity: PullIdentity::Unknown,
            outbound_type: None,
            lb_outbound_ips: Vec::new(),
            nat_outbound_ips: Vec::new(),
            node_subnets: vec![subnet("vnet-test", "aks-nodes"), subnet("vnet-aks", "pool2")],
            node_resource_group: None,
            tenant: None,
            private_cluster: false,
        };
        assert_eq!(
            node_subnet_names(&cluster),
            vec![
                "vnet-test/aks-nodes".to_string(),
                "vnet-aks/pool2".to_string()
            ]
        );
    }
}
