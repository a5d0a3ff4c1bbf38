//! `aks.egress`: the cluster's outbound path (the load balancer's or NAT gateway's public
//! addresses, the node virtual networks) against the registry's public network access, firewall
//! rules and private endpoints.

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{
    arm_denied, check_acr_command, endpoints_with_vnets, inputs, login_host, node_vnets,
    not_requested, Endpoint,
};
use crate::azure::aks::{self, ManagedCluster, OutboundAddress, VnetInfo};
use crate::azure::arm::{Arm, ArmError};
use crate::catalogue::Code;
use crate::checks::{ArmRegistry, Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::finding::RawFinding;
use crate::lang::Lang;
use crate::request::CheckArgs;

pub struct AksEgress;

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

/// The registry's side and the cluster's side of the outbound path, as ARM shows them.
struct Path {
    /// The registry's login server.
    host: String,
    /// `publicNetworkAccess` (`Enabled` when absent).
    public: String,
    public_disabled: bool,
    /// `networkRuleSet.defaultAction` (`Allow` when absent).
    default_action: String,
    /// Whether the default action is `Deny`.
    firewall: bool,
    /// The registry's IP rules.
    rules: Vec<String>,
    vnets: Vec<VnetInfo>,
    endpoints: Vec<Endpoint>,
    /// The cluster's public outbound addresses, `None` when ARM cannot show them.
    addresses: Option<Vec<OutboundAddress>>,
    outbound_type: String,
    /// The outbound addresses as text (the resource's name when ARM shows no address yet).
    addr_list: Vec<String>,
}

async fn aks_egress(cx: &CheckCx<'_>) -> Outcome {
    let (cluster, reg, arm) = match inputs(cx) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let path = match read_path(cx, &arm, &cluster, &reg).await {
        Ok(p) => p,
        Err(o) => return o,
    };
    let reachable: Vec<&Endpoint> = path
        .endpoints
        .iter()
        .filter(|e| reachable_from(&path.vnets, e))
        .collect();
    let (public, default_action) = (&path.public, &path.default_action);
    if (path.public_disabled || path.firewall) && !reachable.is_empty() {
        return evidence(Outcome::pass(cx.t(
            format!("the nodes reach {} through private endpoint {} (public access {public}, firewall {default_action}); name resolution: see private DNS for the nodes", reg.name, via_pe(&reachable)),
            format!("ノードはプライベート エンドポイント {} 経由で {} に到達します (パブリック アクセス {public}、ファイアウォール {default_action})。名前解決はノードのプライベート DNS を参照", via_pe(&reachable), reg.name),
        )), &path);
    }
    if path.public_disabled {
        return evidence(no_way_in(cx, &cluster, &reg, &path), &path);
    }
    let confirm = vec![check_acr_command(&cluster, &path.host)];
    if path.addresses.is_none() {
        return evidence(unseen_route(cx, &path, &confirm), &path)
            .evidence("seen_from_arm", false)
            .evidence("unseen", vec!["egress_firewall"])
            .evidence("confirm_with", confirm);
    }
    if path.firewall {
        return firewall(cx, &cluster, &reg, &path, confirm);
    }
    let (outbound_type, addr_list) = (&path.outbound_type, &path.addr_list);
    evidence(Outcome::pass(cx.t(
        format!("{} accepts public traffic from any address; the cluster leaves from {} ({outbound_type})", reg.name, if addr_list.is_empty() { "-".to_string() } else { addr_list.join(", ") }),
        format!("{} は任意のアドレスからのパブリック通信を受け付けます。クラスターの送信元は {} ({outbound_type}) です", reg.name, if addr_list.is_empty() { "-".to_string() } else { addr_list.join(", ") }),
    )), &path)
}

/// The registry's network settings, the node networks, the registry's private endpoints and
/// the cluster's outbound addresses.
async fn read_path(
    cx: &CheckCx<'_>,
    arm: &Arm<'_>,
    cluster: &ManagedCluster,
    reg: &ArmRegistry,
) -> Result<Path, Outcome> {
    let host = login_host(cx, reg);
    let public = reg
        .property("publicNetworkAccess")
        .and_then(Value::as_str)
        .unwrap_or("Enabled")
        .to_string();
    let default_action = reg
        .property("networkRuleSet.defaultAction")
        .and_then(Value::as_str)
        .unwrap_or("Allow")
        .to_string();
    let vnets = node_vnets(arm, cluster).await.map_err(|e| {
        arm_denied(
            cx,
            "the node virtual networks",
            "ノードの仮想ネットワーク",
            &e,
        )
    })?;
    let endpoints = endpoints_with_vnets(arm, reg).await.map_err(|e| {
        arm_denied(
            cx,
            &format!("the private endpoints of {}", reg.name),
            &format!(" {} のプライベート エンドポイント", reg.name),
            &e,
        )
    })?;
    let addresses = outbound_addresses(arm, cluster).await.map_err(|e| {
        arm_denied(
            cx,
            "the cluster's outbound addresses",
            "クラスターの送信元アドレス",
            &e,
        )
    })?;
    let addr_list: Vec<String> = addresses
        .iter()
        .flatten()
        .map(|a| {
            a.address
                .clone()
                .unwrap_or_else(|| aks::short_name(&a.resource_id))
        })
        .collect();
    Ok(Path {
        host,
        public_disabled: public.eq_ignore_ascii_case("Disabled"),
        public,
        firewall: default_action.eq_ignore_ascii_case("Deny"),
        default_action,
        rules: aks::ip_rules(reg),
        vnets,
        endpoints,
        addresses,
        outbound_type: cluster
            .outbound_type
            .clone()
            .unwrap_or_else(|| "loadBalancer".into()),
        addr_list,
    })
}

/// Whether the endpoint's virtual network is a node network or peered with one.
fn reachable_from(vnets: &[VnetInfo], endpoint: &Endpoint) -> bool {
    endpoint.vnet.as_deref().is_some_and(|vnet| {
        vnets
            .iter()
            .any(|n| aks::same_id(&n.id, vnet) || n.peered.iter().any(|p| aks::same_id(p, vnet)))
    })
}

/// `pe-name (vnet-name), …`
fn via_pe(endpoints: &[&Endpoint]) -> String {
    endpoints
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
}

/// The evidence every outcome of the check carries.
fn evidence(o: Outcome, path: &Path) -> Outcome {
    o.evidence("outbound_type", path.outbound_type.clone())
        .evidence(
            "outbound_addresses",
            path.addresses
                .iter()
                .flatten()
                .map(|a| json!({"resource_id": a.resource_id, "address": a.address}))
                .collect::<Vec<_>>(),
        )
        .evidence("public_network_access", path.public.clone())
        .evidence("network_default_action", path.default_action.clone())
        .evidence("ip_rules", path.rules.clone())
        .evidence(
            "node_vnets",
            path.vnets.iter().map(|v| v.id.clone()).collect::<Vec<_>>(),
        )
        .evidence(
            "private_endpoints",
            path.endpoints
                .iter()
                .map(|e| json!({"name": e.name, "vnet": e.vnet, "reachable": reachable_from(&path.vnets, e)}))
                .collect::<Vec<_>>(),
        )
}

/// Public access is disabled and no private endpoint is reachable from the node networks.
fn no_way_in(
    cx: &CheckCx<'_>,
    cluster: &ManagedCluster,
    reg: &ArmRegistry,
    path: &Path,
) -> Outcome {
    let vnet_names: Vec<String> = path.vnets.iter().map(|v| aks::short_name(&v.id)).collect();
    let pe_text = if path.endpoints.is_empty() {
        cx.t(
            "it has no private endpoint",
            "プライベート エンドポイントがありません",
        )
    } else {
        cx.t(
            format!(
                "its private endpoints ({}) are in virtual networks neither in nor peered with the node network(s) {}",
                via_pe(&path.endpoints.iter().collect::<Vec<_>>()),
                vnet_names.join(", ")
            ),
            format!(
                "プライベート エンドポイント ({}) はノードの仮想ネットワーク {} にもそのピアリング先にもありません",
                via_pe(&path.endpoints.iter().collect::<Vec<_>>()),
                vnet_names.join(", ")
            ),
        )
    };
    let msg = cx.t(
        format!("{} refuses the cluster's traffic: public network access is disabled and {pe_text}", reg.name),
        format!("{} はクラスターの通信を拒否します: パブリック ネットワーク アクセスが無効で、{pe_text}", reg.name),
    );
    let mut f = RawFinding::new(Code::CONNECTIVITY_FORBIDDEN_ERROR, msg.clone())
        .evidence("public_network_access", path.public.clone())
        .evidence("node_vnets", path.vnets.iter().map(|v| v.id.clone()).collect::<Vec<_>>())
        .evidence(
            "private_endpoints",
            path.endpoints
                .iter()
                .map(|e| json!({"name": e.name, "vnet": e.vnet}))
                .collect::<Vec<_>>(),
        )
        .evidence("outbound_addresses", path.addr_list.clone())
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
    Outcome::fail(msg, f)
}

/// User-defined routing: the traffic leaves through an appliance ARM does not show.
fn unseen_route(cx: &CheckCx<'_>, path: &Path, confirm: &[String]) -> Outcome {
    let (outbound_type, rules, host) = (&path.outbound_type, &path.rules, &path.host);
    let mut msg = cx.t(
        format!("outbound type {outbound_type}: the nodes' traffic leaves through the next hop of the subnet's route table (a firewall or network appliance), whose public address and rules ARM does not show"),
        format!("送信方式 {outbound_type}: ノードの通信はサブネットのルート テーブルの次ホップ (ファイアウォールやネットワーク仮想アプライアンス) から出ていきます。その公開アドレスと規則は ARM からは見えません"),
    );
    if path.firewall {
        msg = cx.t(
            format!("{msg}; the registry admits only {} — that appliance's public address must be among them", if rules.is_empty() { "-".to_string() } else { rules.join(", ") }),
            format!("{msg}。レジストリが許可するのは {} のみで、そのアプライアンスの公開アドレスが含まれている必要があります", if rules.is_empty() { "-".to_string() } else { rules.join(", ") }),
        );
    }
    msg = cx.t(
        format!("{msg}; the appliance must also allow {host} and the data endpoints (*.data.azurecr.io, or the registry's storage without dedicated data endpoints); check from inside the cluster: `{}`", confirm[0]),
        format!("{msg}。アプライアンスは {host} とデータ エンドポイント (*.data.azurecr.io、専用データ エンドポイントがない場合はレジストリのストレージ) も許可する必要があります。クラスター内から確認するには: `{}`", confirm[0]),
    );
    Outcome::info(msg)
}

/// The outbound addresses no IP rule admits.
fn refused_addresses(all: &[&OutboundAddress], rules: &[String]) -> Vec<String> {
    all.iter()
        .filter_map(|a| a.address.clone())
        .filter(|a| aks::admitting_rule(a, rules).is_none())
        .collect()
}

/// The registry's firewall (default action Deny) against the node subnets and the cluster's
/// outbound addresses.
fn firewall(
    cx: &CheckCx<'_>,
    cluster: &ManagedCluster,
    reg: &ArmRegistry,
    path: &Path,
    confirm: Vec<String>,
) -> Outcome {
    let (rules, addr_list) = (&path.rules, &path.addr_list);
    if let Some(subnet) = cluster
        .node_subnets
        .iter()
        .find(|s| aks::subnet_rules(reg).iter().any(|r| aks::same_id(r, s)))
    {
        return evidence(Outcome::pass(cx.t(
            format!("the registry's firewall admits node subnet {} (service endpoint rule)", aks::short_name(subnet)),
            format!("レジストリのファイアウォールはノードのサブネット {} を許可しています (サービス エンドポイント規則)", aks::short_name(subnet)),
        )), path);
    }
    let all: Vec<&OutboundAddress> = path.addresses.iter().flatten().collect();
    let refused = refused_addresses(&all, rules);
    if all.is_empty() || all.iter().any(|a| a.address.is_none()) {
        return evidence(Outcome::info(cx.t(
            format!("the registry's firewall admits only {}, and ARM shows no address for some of the cluster's outbound IPs yet; check from inside the cluster: `{}`", rules.join(", "), confirm[0]),
            format!("レジストリのファイアウォールが許可するのは {} のみですが、クラスターの送信 IP の一部にはまだアドレスが表示されていません。クラスター内から確認するには: `{}`", rules.join(", "), confirm[0]),
        )), path)
        .evidence("confirm_with", confirm);
    }
    if refused.is_empty() {
        return evidence(
            Outcome::pass(cx.t(
                format!(
                    "the registry's firewall admits the cluster's outbound address(es) {}",
                    addr_list.join(", ")
                ),
                format!(
                    "レジストリのファイアウォールはクラスターの送信元アドレス {} を許可しています",
                    addr_list.join(", ")
                ),
            )),
            path,
        );
    }
    evidence(refused_finding(cx, reg, path, &refused), path)
}

/// Some outbound addresses of the cluster are not admitted by the registry's firewall.
fn refused_finding(
    cx: &CheckCx<'_>,
    reg: &ArmRegistry,
    path: &Path,
    refused: &[String],
) -> Outcome {
    let (rules, addr_list, outbound_type) = (&path.rules, &path.addr_list, &path.outbound_type);
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
    let mut f = RawFinding::new(Code::CONNECTIVITY_FORBIDDEN_ERROR, msg.clone())
        .evidence("network_default_action", path.default_action.clone())
        .evidence("ip_rules", rules.clone())
        .evidence("outbound_addresses", addr_list.clone())
        .evidence("not_allowed", refused.to_vec())
        .step(cx.t(
            "Every outbound address of the cluster can carry a pull, so each must be admitted; a private endpoint in the node network avoids the public path altogether.",
            "クラスターのどの送信元アドレスからもプルが行われ得るため、すべてを許可する必要があります。ノードのネットワークにプライベート エンドポイントを置けばパブリック経路自体が不要になります。",
        ));
    for a in refused {
        f = f.command(format!(
            "az acr network-rule add --name {} --ip-address {a}",
            reg.name
        ));
    }
    Outcome::fail(msg, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vnet_id(name: &str) -> String {
        format!("/subscriptions/0000/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/{name}")
    }

    fn endpoint(vnet: Option<&str>) -> Endpoint {
        Endpoint {
            name: "pe-contosoreg".into(),
            vnet: vnet.map(vnet_id),
        }
    }

    #[test]
    fn an_endpoint_is_reachable_in_a_node_network_or_a_peered_one() {
        let vnets = [VnetInfo {
            id: vnet_id("vnet-aks"),
            dns_servers: Vec::new(),
            peered: vec![vnet_id("vnet-hub").to_ascii_uppercase()],
        }];
        assert!(reachable_from(&vnets, &endpoint(Some("vnet-aks"))));
        assert!(reachable_from(&vnets, &endpoint(Some("vnet-hub"))));
        assert!(!reachable_from(&vnets, &endpoint(Some("vnet-other"))));
        assert!(!reachable_from(&vnets, &endpoint(None)));
        assert!(!reachable_from(&[], &endpoint(Some("vnet-aks"))));
    }

    #[test]
    fn refused_addresses_are_those_no_rule_admits() {
        let address = |a: Option<&str>| {
            OutboundAddress {
            resource_id: "/subscriptions/0000/resourceGroups/mc/providers/Microsoft.Network/publicIPAddresses/ip".into(),
            address: a.map(str::to_string),
        }
        };
        let (inside, outside, unknown) = (
            address(Some("198.51.100.10")),
            address(Some("203.0.113.7")),
            address(None),
        );
        let rules = vec!["198.51.100.0/24".to_string()];
        assert_eq!(
            refused_addresses(&[&inside, &outside, &unknown], &rules),
            vec!["203.0.113.7".to_string()]
        );
        assert!(refused_addresses(&[&inside], &rules).is_empty());
        assert_eq!(
            refused_addresses(&[&inside], &[]),
            vec!["198.51.100.10".to_string()]
        );
    }

    #[test]
    fn endpoints_are_named_with_their_network() {
        let (a, b) = (endpoint(Some("vnet-aks")), endpoint(None));
        assert_eq!(
            via_pe(&[&a, &b]),
            "pe-contosoreg (vnet-aks), pe-contosoreg ()"
        );
        assert_eq!(via_pe(&[]), "");
    }
}
