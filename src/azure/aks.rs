//! An AKS cluster's side of a pull, read through Azure Resource Manager: the managed cluster
//! (which identity the kubelet pulls with, the outbound type, the node subnets), the public IP
//! addresses its traffic leaves from (load balancer or NAT gateway), the node virtual networks
//! (DNS servers, peerings) and the private DNS zones that answer for a registry's private
//! endpoints (their virtual network links and A records). Read-only; every call is a GET to ARM.

use std::net::IpAddr;

use serde_json::Value;

use super::arm::{Arm, ArmError, ResourceId};

/// `Microsoft.ContainerService/managedClusters`.
pub const AKS_API_VERSION: &str = "2025-10-01";
/// `Microsoft.Network` public IP addresses and prefixes, NAT gateways, virtual networks, subnets,
/// private endpoints' DNS zone groups.
pub const NETWORK_API_VERSION: &str = "2024-05-01";
/// `Microsoft.Network/privateDnsZones` and their virtual network links and record sets.
pub const PRIVATE_DNS_API_VERSION: &str = "2024-06-01";

/// The cluster as the options name it: `--aks NAME|ID`, `--aks-resource-group`, `--aks-subscription`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRef {
    pub name: String,
    pub resource_group: Option<String>,
    pub subscription: Option<String>,
}

impl ClusterRef {
    /// From the flag values; a full resource ID in `--aks` supplies the group and subscription.
    pub fn from_flags(aks: &str, rg: Option<&str>, sub: Option<&str>) -> ClusterRef {
        let aks = aks.trim();
        if aks.starts_with('/') {
            let id = ResourceId::parse(aks);
            return ClusterRef {
                name: id.name.unwrap_or_default(),
                resource_group: rg.map(str::to_string).or(id.resource_group),
                subscription: sub.map(str::to_string).or(id.subscription),
            };
        }
        ClusterRef {
            name: aks.to_string(),
            resource_group: rg.map(str::to_string),
            subscription: sub.map(str::to_string),
        }
    }
}

/// Which identity the cluster's nodes pull images with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullIdentity {
    /// `properties.identityProfile.kubeletidentity`: a user-assigned managed identity.
    Kubelet {
        object_id: Option<String>,
        client_id: Option<String>,
        resource_id: Option<String>,
    },
    /// `properties.servicePrincipalProfile.clientId` (not `msi`): an application's service principal.
    ServicePrincipal { client_id: String },
    /// Neither is present.
    Unknown,
}

impl PullIdentity {
    pub fn kind(&self) -> &'static str {
        match self {
            PullIdentity::Kubelet { .. } => "kubelet_identity",
            PullIdentity::ServicePrincipal { .. } => "service_principal",
            PullIdentity::Unknown => "unknown",
        }
    }

    pub fn evidence(&self) -> Value {
        match self {
            PullIdentity::Kubelet {
                object_id,
                client_id,
                resource_id,
            } => serde_json::json!({"kind": self.kind(), "object_id": object_id,
                "client_id": client_id, "resource_id": resource_id}),
            PullIdentity::ServicePrincipal { client_id } => {
                serde_json::json!({"kind": self.kind(), "client_id": client_id})
            }
            PullIdentity::Unknown => serde_json::json!({"kind": self.kind()}),
        }
    }
}

/// What acr-doctor needs from a managed cluster resource.
#[derive(Debug, Clone)]
pub struct ManagedCluster {
    pub id: String,
    pub name: String,
    pub subscription: String,
    pub resource_group: String,
    pub location: String,
    pub pull_identity: PullIdentity,
    /// `loadBalancer`, `userDefinedRouting`, `managedNATGateway`, `userAssignedNATGateway`, ...
    pub outbound_type: Option<String>,
    /// `networkProfile.loadBalancerProfile.effectiveOutboundIPs[].id`.
    pub lb_outbound_ips: Vec<String>,
    /// `networkProfile.natGatewayProfile.effectiveOutboundIPs[].id` (managed NAT gateway).
    pub nat_outbound_ips: Vec<String>,
    /// Distinct `agentPoolProfiles[].vnetSubnetID`.
    pub node_subnets: Vec<String>,
    pub node_resource_group: Option<String>,
    /// `identity.tenantId` of the cluster's own identity, when it has one.
    pub tenant: Option<String>,
    pub private_cluster: bool,
}

fn s(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::to_string)
        .filter(|x| !x.is_empty())
}

fn ids_at(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| s(r.get("id")))
        .collect()
}

impl ManagedCluster {
    pub fn from_json(v: &Value) -> ManagedCluster {
        let props = v.get("properties");
        let p = |path: &str| props.and_then(|p| p.pointer(path));
        let id = s(v.get("id")).unwrap_or_default();
        let rid = ResourceId::parse(&id);
        let kubelet = p("/identityProfile/kubeletidentity");
        let sp = s(p("/servicePrincipalProfile/clientId"));
        let pull_identity = match (kubelet, sp) {
            (Some(k), _) if k.is_object() => PullIdentity::Kubelet {
                object_id: s(k.get("objectId")),
                client_id: s(k.get("clientId")),
                resource_id: s(k.get("resourceId")),
            },
            (_, Some(c)) if !c.eq_ignore_ascii_case("msi") => {
                PullIdentity::ServicePrincipal { client_id: c }
            }
            _ => PullIdentity::Unknown,
        };
        let mut node_subnets: Vec<String> = Vec::new();
        for pool in p("/agentPoolProfiles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(sub) = s(pool.get("vnetSubnetID")) {
                if !node_subnets.iter().any(|x| x.eq_ignore_ascii_case(&sub)) {
                    node_subnets.push(sub);
                }
            }
        }
        ManagedCluster {
            name: s(v.get("name")).or(rid.name).unwrap_or_default(),
            subscription: rid.subscription.unwrap_or_default(),
            resource_group: rid.resource_group.unwrap_or_default(),
            location: s(v.get("location")).unwrap_or_default(),
            pull_identity,
            outbound_type: s(p("/networkProfile/outboundType")),
            lb_outbound_ips: ids_at(p(
                "/networkProfile/loadBalancerProfile/effectiveOutboundIPs",
            )),
            nat_outbound_ips: ids_at(p("/networkProfile/natGatewayProfile/effectiveOutboundIPs")),
            node_subnets,
            node_resource_group: s(p("/nodeResourceGroup")),
            tenant: s(v.pointer("/identity/tenantId")),
            private_cluster: p("/apiServerAccessProfile/enablePrivateCluster")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            id,
        }
    }
}

/// The virtual network part of a subnet ID (`.../virtualNetworks/<vnet>/subnets/<subnet>`).
pub fn vnet_of_subnet(subnet_id: &str) -> Option<String> {
    let lower = subnet_id.to_ascii_lowercase();
    let i = lower.find("/subnets/")?;
    Some(subnet_id[..i].to_string())
}

/// The last segment of a resource ID.
pub fn short_name(id: &str) -> String {
    id.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(id)
        .to_string()
}

/// Whether two resource IDs name the same resource (ARM IDs are case-insensitive).
pub fn same_id(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

/// Reads the cluster: by resource group when known, else by listing the subscription's clusters.
pub async fn read_cluster(
    arm: &Arm<'_>,
    cluster: &ClusterRef,
    subscription: &str,
) -> Result<Option<ManagedCluster>, ArmError> {
    match &cluster.resource_group {
        Some(rg) => {
            let path = format!(
                "/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{}",
                cluster.name
            );
            match arm.get(&path, AKS_API_VERSION, &[]).await {
                Ok(v) => Ok(Some(ManagedCluster::from_json(&v))),
                Err(e) if e.status() == Some(404) => Ok(None),
                Err(e) => Err(e),
            }
        }
        None => {
            let path = format!(
                "/subscriptions/{subscription}/providers/Microsoft.ContainerService/managedClusters"
            );
            let items = arm.list(&path, AKS_API_VERSION, &[]).await?;
            Ok(items
                .iter()
                .find(|c| {
                    c.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(&cluster.name))
                })
                .map(ManagedCluster::from_json))
        }
    }
}

/// One public address the cluster's traffic may leave from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundAddress {
    /// The public IP address or prefix resource.
    pub resource_id: String,
    /// `1.2.3.4` (`properties.ipAddress`) or `1.2.3.0/28` (`properties.ipPrefix`).
    pub address: Option<String>,
}

/// Reads a public IP address (`ipAddress`) or public IP prefix (`ipPrefix`) resource.
pub async fn outbound_address(arm: &Arm<'_>, id: &str) -> Result<OutboundAddress, ArmError> {
    let v = get_once(arm, id, NETWORK_API_VERSION).await?;
    let props = v.get("properties");
    let address = s(props.and_then(|p| p.get("ipAddress")))
        .or_else(|| s(props.and_then(|p| p.get("ipPrefix"))));
    Ok(OutboundAddress {
        resource_id: id.to_string(),
        address,
    })
}

/// The public IP address and prefix resources of a NAT gateway.
pub async fn nat_gateway_ips(arm: &Arm<'_>, id: &str) -> Result<Vec<String>, ArmError> {
    let v = get_once(arm, id, NETWORK_API_VERSION).await?;
    let props = v.get("properties");
    let mut out = ids_at(props.and_then(|p| p.get("publicIpAddresses")));
    out.extend(ids_at(props.and_then(|p| p.get("publicIpPrefixes"))));
    Ok(out)
}

/// A subnet's NAT gateway and route table, when it has them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubnetInfo {
    pub nat_gateway: Option<String>,
    pub route_table: Option<String>,
}

pub async fn subnet(arm: &Arm<'_>, id: &str) -> Result<SubnetInfo, ArmError> {
    let v = get_once(arm, id, NETWORK_API_VERSION).await?;
    let props = v.get("properties");
    Ok(SubnetInfo {
        nat_gateway: s(props.and_then(|p| p.pointer("/natGateway/id"))),
        route_table: s(props.and_then(|p| p.pointer("/routeTable/id"))),
    })
}

/// What a node virtual network says about DNS and reachability.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VnetInfo {
    pub id: String,
    /// `dhcpOptions.dnsServers`: empty means Azure-provided DNS (168.63.129.16).
    pub dns_servers: Vec<String>,
    /// Remote virtual networks of peerings whose `peeringState` is `Connected`.
    pub peered: Vec<String>,
}

pub async fn vnet(arm: &Arm<'_>, id: &str) -> Result<VnetInfo, ArmError> {
    let v = get_once(arm, id, NETWORK_API_VERSION).await?;
    Ok(vnet_from(id, &v))
}

pub fn vnet_from(id: &str, v: &Value) -> VnetInfo {
    let props = v.get("properties");
    let dns_servers = props
        .and_then(|p| p.pointer("/dhcpOptions/dnsServers"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let peered = props
        .and_then(|p| p.get("virtualNetworkPeerings"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|peering| {
            let pp = peering.get("properties")?;
            let state = pp.get("peeringState").and_then(Value::as_str)?;
            state
                .eq_ignore_ascii_case("Connected")
                .then(|| s(pp.pointer("/remoteVirtualNetwork/id")))
                .flatten()
        })
        .collect();
    VnetInfo {
        id: s(v.get("id")).unwrap_or_else(|| id.to_string()),
        dns_servers,
        peered,
    }
}

/// Virtual networks of a resource group (the node resource group of a cluster whose nodes sit
/// in a virtual network AKS created).
pub async fn vnets_in(
    arm: &Arm<'_>,
    subscription: &str,
    resource_group: &str,
) -> Result<Vec<String>, ArmError> {
    let path = format!(
        "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Network/virtualNetworks"
    );
    let items = arm.list(&path, NETWORK_API_VERSION, &[]).await?;
    Ok(items.iter().filter_map(|v| s(v.get("id"))).collect())
}

/// Private DNS zone IDs a private endpoint's DNS zone groups write to.
pub async fn zone_groups(arm: &Arm<'_>, endpoint_id: &str) -> Result<Vec<String>, ArmError> {
    let path = format!("{endpoint_id}/privateDnsZoneGroups");
    let items = arm.list(&path, NETWORK_API_VERSION, &[]).await?;
    let mut out: Vec<String> = Vec::new();
    for g in &items {
        for cfg in g
            .pointer("/properties/privateDnsZoneConfigs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(z) = s(cfg.pointer("/properties/privateDnsZoneId")) {
                if !out.iter().any(|x| same_id(x, &z)) {
                    out.push(z);
                }
            }
        }
    }
    Ok(out)
}

/// Private DNS zones named `zone_name` in a subscription.
pub async fn zones_named(
    arm: &Arm<'_>,
    subscription: &str,
    zone_name: &str,
) -> Result<Vec<String>, ArmError> {
    let path = format!("/subscriptions/{subscription}/providers/Microsoft.Network/privateDnsZones");
    let items = arm.list(&path, PRIVATE_DNS_API_VERSION, &[]).await?;
    Ok(items
        .iter()
        .filter(|z| {
            z.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(zone_name))
        })
        .filter_map(|z| s(z.get("id")))
        .collect())
}

/// One virtual network link of a private DNS zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneLink {
    pub name: String,
    pub vnet: String,
    /// `virtualNetworkLinkState`: `Completed` (`Done` in some versions) or `InProgress`.
    pub state: Option<String>,
}

pub async fn zone_links(arm: &Arm<'_>, zone_id: &str) -> Result<Vec<ZoneLink>, ArmError> {
    let path = format!("{zone_id}/virtualNetworkLinks");
    let items = arm.list(&path, PRIVATE_DNS_API_VERSION, &[]).await?;
    Ok(items
        .iter()
        .filter_map(|l| {
            Some(ZoneLink {
                name: s(l.get("name")).unwrap_or_default(),
                vnet: s(l.pointer("/properties/virtualNetwork/id"))?,
                state: s(l.pointer("/properties/virtualNetworkLinkState")),
            })
        })
        .collect())
}

/// The addresses of an A record set, `None` when the zone has no such record set.
pub async fn a_record(
    arm: &Arm<'_>,
    zone_id: &str,
    relative_name: &str,
) -> Result<Option<Vec<IpAddr>>, ArmError> {
    let path = format!("{zone_id}/A/{relative_name}");
    match arm.get(&path, PRIVATE_DNS_API_VERSION, &[]).await {
        Ok(v) => Ok(Some(
            v.pointer("/properties/aRecords")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("ipv4Address").and_then(Value::as_str))
                .filter_map(|a| a.parse().ok())
                .collect(),
        )),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A resource read once per run and caller (two checks read the same networks).
async fn get_once(arm: &Arm<'_>, id: &str, api_version: &str) -> Result<Value, ArmError> {
    let key = format!(
        "arm:aks:{}:{}:{}",
        arm.endpoint(),
        id.to_ascii_lowercase(),
        arm.caller()
    );
    arm.ctx()
        .once(&key, || async { arm.get(id, api_version, &[]).await })
        .await
}

/// The registry firewall rule (`networkRuleSet.ipRules[].value`, an address or a CIDR range)
/// that admits `address` (an address, or a prefix that must lie wholly inside the rule).
pub fn admitting_rule<'r>(address: &str, rules: &'r [String]) -> Option<&'r String> {
    let wanted: Option<ipnet::IpNet> = address
        .parse::<ipnet::IpNet>()
        .ok()
        .or_else(|| address.parse::<IpAddr>().ok().map(ipnet::IpNet::from));
    let wanted = wanted?;
    rules.iter().find(|rule| {
        let net = rule
            .trim()
            .parse::<ipnet::IpNet>()
            .ok()
            .or_else(|| rule.trim().parse::<IpAddr>().ok().map(ipnet::IpNet::from));
        net.is_some_and(|n| n.contains(&wanted))
    })
}

/// `networkRuleSet.ipRules[].value` of the registry resource (only `Allow` rules exist).
pub fn ip_rules(registry: &crate::model::ArmRegistry) -> Vec<String> {
    registry
        .property("networkRuleSet.ipRules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("value").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// `networkRuleSet.virtualNetworkRules[].id` (subnets with a service endpoint) of the registry.
pub fn subnet_rules(registry: &crate::model::ArmRegistry) -> Vec<String> {
    registry
        .property("networkRuleSet.virtualNetworkRules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| s(r.get("id")))
        .collect()
}

/// The record set name inside `privatelink.<suffix>` for a registry FQDN under `.<suffix>`:
/// `contosoreg.azurecr.io` → `contosoreg`, `contosoreg.westeurope.data.azurecr.io` →
/// `contosoreg.westeurope.data`.
pub fn relative_record(fqdn: &str, suffix: &str) -> Option<String> {
    let fqdn = fqdn.trim_end_matches('.').to_ascii_lowercase();
    let suffix = format!(".{}", suffix.trim_start_matches('.'));
    fqdn.strip_suffix(&suffix)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kubelet_identity_and_network_profile() {
        let v = json!({
            "id": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1",
            "name": "aks1", "location": "westeurope",
            "identity": {"type": "SystemAssigned", "tenantId": "t1"},
            "properties": {
                "identityProfile": {"kubeletidentity": {"objectId": "o1", "clientId": "c1", "resourceId": "/x/mi"}},
                "servicePrincipalProfile": {"clientId": "msi"},
                "networkProfile": {"outboundType": "loadBalancer",
                    "loadBalancerProfile": {"effectiveOutboundIPs": [{"id": "/ip1"}, {"id": "/ip2"}]}},
                "agentPoolProfiles": [
                    {"name": "a", "vnetSubnetID": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/n"},
                    {"name": "b", "vnetSubnetID": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/V/subnets/N"}
                ],
                "nodeResourceGroup": "MC_rg_aks1_westeurope"
            }
        });
        let c = ManagedCluster::from_json(&v);
        assert_eq!(c.name, "aks1");
        assert_eq!(c.resource_group, "rg");
        assert_eq!(
            c.pull_identity,
            PullIdentity::Kubelet {
                object_id: Some("o1".into()),
                client_id: Some("c1".into()),
                resource_id: Some("/x/mi".into())
            }
        );
        assert_eq!(c.lb_outbound_ips, vec!["/ip1", "/ip2"]);
        assert_eq!(c.node_subnets.len(), 1, "subnet IDs compare without case");
        assert_eq!(c.tenant.as_deref(), Some("t1"));
        assert_eq!(
            vnet_of_subnet(&c.node_subnets[0]).as_deref(),
            Some(
                "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"
            )
        );
    }

    #[test]
    fn service_principal_clusters() {
        let v = json!({"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c",
            "properties": {"servicePrincipalProfile": {"clientId": "app-1"}}});
        assert_eq!(
            ManagedCluster::from_json(&v).pull_identity,
            PullIdentity::ServicePrincipal {
                client_id: "app-1".into()
            }
        );
        let msi = json!({"properties": {"servicePrincipalProfile": {"clientId": "msi"}}});
        assert_eq!(
            ManagedCluster::from_json(&msi).pull_identity,
            PullIdentity::Unknown
        );
    }

    #[test]
    fn firewall_rules_match_addresses_and_ranges() {
        let rules = vec!["203.0.113.0/24".to_string(), "198.51.100.7".to_string()];
        assert_eq!(
            admitting_rule("203.0.113.9", &rules).map(String::as_str),
            Some("203.0.113.0/24")
        );
        assert_eq!(
            admitting_rule("198.51.100.7", &rules).map(String::as_str),
            Some("198.51.100.7")
        );
        assert!(admitting_rule("198.51.100.8", &rules).is_none());
        assert!(admitting_rule("203.0.113.16/28", &rules).is_some());
        assert!(admitting_rule("203.0.112.0/23", &rules).is_none());
        assert!(admitting_rule("not an address", &rules).is_none());
    }

    #[test]
    fn vnet_dns_and_peerings() {
        let v = json!({"id": "/v1", "properties": {
        "dhcpOptions": {"dnsServers": ["10.0.0.4"]},
        "virtualNetworkPeerings": [
            {"properties": {"peeringState": "Connected", "remoteVirtualNetwork": {"id": "/v2"}}},
            {"properties": {"peeringState": "Disconnected", "remoteVirtualNetwork": {"id": "/v3"}}}
        ]}});
        let info = vnet_from("/v1", &v);
        assert_eq!(info.dns_servers, vec!["10.0.0.4"]);
        assert_eq!(info.peered, vec!["/v2"]);
    }

    #[test]
    fn record_names_in_the_privatelink_zone() {
        assert_eq!(
            relative_record("contosoreg.azurecr.io", "azurecr.io").as_deref(),
            Some("contosoreg")
        );
        assert_eq!(
            relative_record("ContosoReg.westeurope.data.azurecr.io.", ".azurecr.io").as_deref(),
            Some("contosoreg.westeurope.data")
        );
        assert_eq!(relative_record("other.example", "azurecr.io"), None);
    }

    #[test]
    fn cluster_ref_from_an_id() {
        let r = ClusterRef::from_flags(
            "/subscriptions/s9/resourceGroups/g9/providers/Microsoft.ContainerService/managedClusters/k9",
            None,
            None,
        );
        assert_eq!(r.name, "k9");
        assert_eq!(r.resource_group.as_deref(), Some("g9"));
        assert_eq!(r.subscription.as_deref(), Some("s9"));
        let r = ClusterRef::from_flags("k1", Some("g1"), None);
        assert_eq!(r.subscription, None);
    }
}
