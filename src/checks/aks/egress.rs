//! `aks.egress`: the cluster's outbound path (the load balancer's or NAT gateway's public
//! addresses, the node virtual networks) against the registry's public network access, firewall
//! rules and private endpoints.

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{
    arm_denied, check_acr_command, endpoints_with_vnets, inputs, login_host, node_vnets,
    not_requested, Endpoint,
};
use crate::azure::aks::{self, ManagedCluster, OutboundAddress};
use crate::azure::arm::{Arm, ArmError};
use crate::checks::{Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::cli::CheckArgs;
use crate::finding::RawFinding;
use crate::lang::Lang;

pub(super) struct AksEgress;

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
