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

use serde_json::Value;

use super::auth::arm_client;
use super::{CheckCx, Outcome};
use crate::azure::aks::{self, ManagedCluster, VnetInfo};
use crate::azure::arm::{Arm, ArmError};
use crate::catalogue::Code;
use crate::checks::ArmRegistry;
use crate::finding::{RawFinding, Severity};
use crate::lang::Lang;
use crate::request::CheckArgs;

mod cluster;
mod egress;
mod identity;
mod private_dns;

pub use cluster::AksCluster;
pub use egress::AksEgress;
pub use identity::AksIdentity;
pub use private_dns::AksPrivateDns;

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
                cx.cloud().login_server(&name)
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
    from_arm.unwrap_or_else(|| cx.cloud().login_server(&reg.name.to_ascii_lowercase()))
}

fn arm_denied(cx: &CheckCx<'_>, what_en: &str, what_ja: &str, e: &ArmError) -> Outcome {
    let msg = cx.t(
        format!("cannot read {what_en} through ARM: {e}"),
        format!("ARM から{what_ja}を読み取れません: {e}"),
    );
    if e.is_denied() {
        Outcome::warn(
            msg.clone(),
            RawFinding::new(Code::ARM_PERMISSION_MISSING, msg)
                .severity(Severity::Warning)
                .evidence("error", e.to_string()),
        )
    } else {
        Outcome::fail(
            msg.clone(),
            RawFinding::new(Code::UNEXPECTED_ERROR, msg).evidence("error", e.to_string()),
        )
    }
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
