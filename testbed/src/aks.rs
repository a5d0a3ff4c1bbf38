//! An AKS cluster and the networks around a registry, as ARM describes them (the public REST
//! references of `Microsoft.ContainerService/managedClusters`, `Microsoft.Network`
//! `publicIPAddresses`, `virtualNetworks` (and subnets), `privateEndpoints/privateDnsZoneGroups`,
//! `privateDnsZones` with their `virtualNetworkLinks` and `A` record sets), and Microsoft Graph's
//! `servicePrincipals(appId='…')`. Data only: nothing here carries traffic.
//!
//! Switched on by [`crate::BedSpec::with_aks`]. The world it adds:
//! - cluster [`CLUSTER`] in `rg-test`, nodes in `vnet-test/aks-nodes` (the virtual network that
//!   also holds the registries' private endpoints), outbound type `loadBalancer` leaving from
//!   public IP [`OUTBOUND_IP`] in the node resource group;
//! - its kubelet identity (a user-assigned managed identity, [`KUBELET_OBJECT_ID`]) holding
//!   AcrPull on `contosoreg`; a second application, [`AKS_SP_APP_ID`], for clusters that use a
//!   service principal (it holds no role);
//! - the private DNS zone `privatelink.azurecr.io` in `rg-test`, linked to `vnet-test`, with
//!   the A records of every registry that has a private endpoint (`<name>` → 10.0.0.5,
//!   `<name>.<region>.data` → 10.0.0.6), written by the endpoint's DNS zone group;
//! - the default service principal `sp` reads everything (Reader on the subscription) and may
//!   read service principals in Graph (Application.Read.All).
//!
//! Faults (`aks-*`) break one part of the path each; see [`AksFault`].

use std::str::FromStr;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json as j, Value};

use crate::arm::{arm_error, forbidden, not_found, Caller};
use crate::fault::{Fault, ParseFaultError};
use crate::perms;
use crate::server::json;
use crate::state::{BedState, Registry};
use crate::{ids, Inner};

/// The cluster's name.
pub const CLUSTER: &str = "aks-test";
/// Its node resource group (where AKS keeps the load balancer's public IP and the kubelet identity).
pub const NODE_RESOURCE_GROUP: &str = "MC_rg-test_aks-test_westeurope";
/// Key of the kubelet identity in specs.
pub const KUBELET: &str = "aks-kubelet";
/// The kubelet identity's client id.
pub const KUBELET_CLIENT_ID: &str = "c11e0700-0000-4000-8000-00000000d001";
/// The kubelet identity's object (principal) id.
pub const KUBELET_OBJECT_ID: &str = "0b1ec700-0000-4000-8000-00000000d002";
/// Key of the cluster's service principal (under `aks-service-principal`).
pub const AKS_SP: &str = "aks-sp";
/// Application (client) id of the cluster's service principal.
pub const AKS_SP_APP_ID: &str = "a11ce000-0000-4000-8000-00000000d003";
/// Object id of the cluster's service principal.
pub const AKS_SP_OBJECT_ID: &str = "0b1ec700-0000-4000-8000-00000000d004";
/// The load balancer's outbound address (TEST-NET-2, RFC 5737).
pub const OUTBOUND_IP: &str = "198.51.100.10";
/// The address the registry's firewall admits under `aks-outbound-ip-denied`, besides the
/// bed's own client address (127.0.0.1 stands for the operator's workstation).
pub const ALLOWED_RANGE: &str = "203.0.113.0/24";
/// The custom DNS server of the node network under `aks-custom-dns`.
pub const CUSTOM_DNS_SERVER: &str = "10.0.0.4";
/// The private DNS zone.
pub const ZONE: &str = "privatelink.azurecr.io";

const AKS_API: &str = "Microsoft.ContainerService";

/// One way the cluster's path to the registry breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AksFault {
    /// The kubelet identity holds no role at the registry.
    KubeletNoAcrPull,
    /// The cluster pulls as a service principal (servicePrincipalProfile), which holds no role.
    ServicePrincipal,
    /// The registry's firewall (default action Deny) admits 203.0.113.0/24 and 127.0.0.1, not
    /// the cluster's outbound address.
    OutboundIpDenied,
    /// Public network access disabled; the registry's private endpoint is in `vnet-test` while
    /// the nodes are in `vnet-aks`, which is not peered with it.
    NoPrivatePath,
    /// Public access disabled, private endpoint in the node network, but the private DNS zone
    /// has no link to the node network.
    DnsZoneUnlinked,
    /// Public access disabled, private endpoint and zone link in place, but the zone lacks the
    /// data endpoint's A record.
    DataRecordMissing,
    /// Outbound type `userDefinedRouting`: a route table sends traffic to an appliance.
    Udr,
    /// The node network uses a custom DNS server; private endpoint in place.
    CustomDns,
}

/// Every `aks-*` fault name.
pub const AKS_FAULT_NAMES: &[&str] = &[
    "aks-kubelet-no-acrpull",
    "aks-service-principal",
    "aks-outbound-ip-denied",
    "aks-no-private-path",
    "aks-dns-zone-unlinked",
    "aks-data-record-missing",
    "aks-udr",
    "aks-custom-dns",
];

impl AksFault {
    pub fn name(&self) -> &'static str {
        match self {
            AksFault::KubeletNoAcrPull => "aks-kubelet-no-acrpull",
            AksFault::ServicePrincipal => "aks-service-principal",
            AksFault::OutboundIpDenied => "aks-outbound-ip-denied",
            AksFault::NoPrivatePath => "aks-no-private-path",
            AksFault::DnsZoneUnlinked => "aks-dns-zone-unlinked",
            AksFault::DataRecordMissing => "aks-data-record-missing",
            AksFault::Udr => "aks-udr",
            AksFault::CustomDns => "aks-custom-dns",
        }
    }
}

impl FromStr for AksFault {
    type Err = ParseFaultError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "aks-kubelet-no-acrpull" => AksFault::KubeletNoAcrPull,
            "aks-service-principal" => AksFault::ServicePrincipal,
            "aks-outbound-ip-denied" => AksFault::OutboundIpDenied,
            "aks-no-private-path" => AksFault::NoPrivatePath,
            "aks-dns-zone-unlinked" => AksFault::DnsZoneUnlinked,
            "aks-data-record-missing" => AksFault::DataRecordMissing,
            "aks-udr" => AksFault::Udr,
            "aks-custom-dns" => AksFault::CustomDns,
            other => return Err(ParseFaultError(other.to_string())),
        })
    }
}

/// Whether the AKS world is on (set by `BedSpec::with_aks`).
#[derive(Debug, Clone, Default)]
pub struct AksWorld {
    pub enabled: bool,
    /// Application ids that hold Graph's Application.Read.All (may read any service principal).
    pub graph_readers: Vec<String>,
}

/// The `aks-*` faults in effect, wherever they were aimed.
fn faults(st: &BedState) -> Vec<AksFault> {
    st.faults
        .iter()
        .filter_map(|(_, f)| match f {
            Fault::Aks(a) => Some(*a),
            _ => None,
        })
        .collect()
}

fn has(st: &BedState, f: AksFault) -> bool {
    faults(st).contains(&f)
}

/// What an `aks-*` fault changes on a registry resource.
pub(crate) fn apply_to_registry(f: &Fault, r: &mut Registry) {
    let Fault::Aks(a) = f else {
        return;
    };
    match a {
        AksFault::OutboundIpDenied => {
            r.network_default_deny = true;
            r.ip_rules = vec![ALLOWED_RANGE.into(), "127.0.0.1".into()];
        }
        AksFault::NoPrivatePath | AksFault::DnsZoneUnlinked | AksFault::DataRecordMissing => {
            r.public_network_access = false;
            r.private_endpoint = true;
        }
        AksFault::CustomDns => r.private_endpoint = true,
        _ => {}
    }
}

/// Whether an assignment is hidden by a fault (the kubelet identity's, under `aks-kubelet-no-acrpull`).
pub(crate) fn hides_assignment(st: &BedState, a: &crate::RoleAssignment) -> bool {
    has(st, AksFault::KubeletNoAcrPull) && a.principal_id.eq_ignore_ascii_case(KUBELET_OBJECT_ID)
}

// ---------------------------------------------------------------------------------------------
// Resource ids

fn sub_id(st: &BedState) -> String {
    format!("/subscriptions/{}", st.subscription)
}

fn rg_id(st: &BedState, rg: &str) -> String {
    format!("{}/resourceGroups/{rg}", sub_id(st))
}

fn cluster_id(st: &BedState) -> String {
    format!(
        "{}/providers/{AKS_API}/managedClusters/{CLUSTER}",
        rg_id(st, ids::RESOURCE_GROUP)
    )
}

fn vnet_id(st: &BedState, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Network/virtualNetworks/{name}",
        rg_id(st, ids::RESOURCE_GROUP)
    )
}

fn public_ip_id(st: &BedState) -> String {
    format!(
        "{}/providers/Microsoft.Network/publicIPAddresses/aks-outbound-ip",
        rg_id(st, NODE_RESOURCE_GROUP)
    )
}

fn route_table_id(st: &BedState) -> String {
    format!(
        "{}/providers/Microsoft.Network/routeTables/aks-egress-udr",
        rg_id(st, ids::RESOURCE_GROUP)
    )
}

fn zone_id(st: &BedState) -> String {
    format!(
        "{}/providers/Microsoft.Network/privateDnsZones/{ZONE}",
        rg_id(st, ids::RESOURCE_GROUP)
    )
}

/// The virtual network the nodes are in.
fn node_vnet(st: &BedState) -> &'static str {
    if has(st, AksFault::NoPrivatePath) {
        "vnet-aks"
    } else {
        "vnet-test"
    }
}

fn node_subnet_id(st: &BedState) -> String {
    format!("{}/subnets/aks-nodes", vnet_id(st, node_vnet(st)))
}

/// Registries (as faults show them) with a private endpoint.
fn private_registries(st: &BedState) -> Vec<Registry> {
    st.registries
        .iter()
        .map(|r| r.effective(&st.faults_for(Some(&r.name))))
        .filter(|r| r.private_endpoint)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// JSON, after the public REST references

fn cluster_json(st: &BedState) -> Value {
    let sp = has(st, AksFault::ServicePrincipal);
    let udr = has(st, AksFault::Udr);
    let mut network = j!({
        "networkPlugin": "azure",
        "networkPluginMode": "overlay",
        "networkPolicy": "none",
        "podCidr": "10.244.0.0/16",
        "serviceCidr": "172.16.0.0/16",
        "dnsServiceIP": "172.16.0.10",
        "loadBalancerSku": "standard",
        "outboundType": if udr { "userDefinedRouting" } else { "loadBalancer" },
        "ipFamilies": ["IPv4"],
    });
    if !udr {
        network["loadBalancerProfile"] = j!({
            "managedOutboundIPs": {"count": 1},
            "effectiveOutboundIPs": [{"id": public_ip_id(st)}],
            "backendPoolType": "nodeIPConfiguration",
        });
    }
    let mut props = j!({
        "provisioningState": "Succeeded",
        "powerState": {"code": "Running"},
        "kubernetesVersion": "1.30.5",
        "currentKubernetesVersion": "1.30.5",
        "dnsPrefix": "aks-test-dns",
        "fqdn": "aks-test-dns-4f2a9c1e.hcp.westeurope.azmk8s.io",
        "agentPoolProfiles": [{
            "name": "nodepool1", "count": 3, "vmSize": "Standard_D4ds_v5", "osType": "Linux",
            "osSKU": "Ubuntu", "mode": "System", "type": "VirtualMachineScaleSets",
            "provisioningState": "Succeeded", "powerState": {"code": "Running"},
            "orchestratorVersion": "1.30.5", "maxPods": 250,
            "vnetSubnetID": node_subnet_id(st),
        }],
        "servicePrincipalProfile": {"clientId": if sp { AKS_SP_APP_ID } else { "msi" }},
        "nodeResourceGroup": NODE_RESOURCE_GROUP,
        "enableRBAC": true,
        "networkProfile": network,
        "apiServerAccessProfile": {"enablePrivateCluster": false},
    });
    if !sp {
        props["identityProfile"] = j!({"kubeletidentity": {
            "resourceId": format!("{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{CLUSTER}-agentpool", rg_id(st, NODE_RESOURCE_GROUP)),
            "clientId": KUBELET_CLIENT_ID,
            "objectId": KUBELET_OBJECT_ID,
        }});
    }
    let mut v = j!({
        "id": cluster_id(st),
        "name": CLUSTER,
        "type": "Microsoft.ContainerService/ManagedClusters",
        "location": ids::LOCATION,
        "sku": {"name": "Base", "tier": "Free"},
        "properties": props,
    });
    if !sp {
        v["identity"] = j!({"type": "SystemAssigned", "principalId": "0b1ec700-0000-4000-8000-00000000d005", "tenantId": ids::TENANT});
    }
    v
}

fn public_ip_json(st: &BedState) -> Value {
    j!({
        "id": public_ip_id(st),
        "name": "aks-outbound-ip",
        "type": "Microsoft.Network/publicIPAddresses",
        "location": ids::LOCATION,
        "sku": {"name": "Standard", "tier": "Regional"},
        "properties": {
            "provisioningState": "Succeeded",
            "publicIPAddressVersion": "IPv4",
            "publicIPAllocationMethod": "Static",
            "idleTimeoutInMinutes": 4,
            "ipAddress": OUTBOUND_IP,
            "ipConfiguration": {"id": format!("{}/providers/Microsoft.Network/loadBalancers/kubernetes/frontendIPConfigurations/aks-outbound", rg_id(st, NODE_RESOURCE_GROUP))},
        }
    })
}

fn subnet_json(st: &BedState, vnet: &str, name: &str, prefix: &str) -> Value {
    let mut props = j!({
        "provisioningState": "Succeeded",
        "addressPrefix": prefix,
        "privateEndpointNetworkPolicies": "Disabled",
        "privateLinkServiceNetworkPolicies": "Enabled",
    });
    if name == "aks-nodes" && has(st, AksFault::Udr) {
        props["routeTable"] = j!({"id": route_table_id(st)});
    }
    j!({
        "id": format!("{}/subnets/{name}", vnet_id(st, vnet)),
        "name": name,
        "type": "Microsoft.Network/virtualNetworks/subnets",
        "properties": props,
    })
}

/// `vnet-test` (10.0.0.0/16: `default` holds the private endpoints, `aks-nodes` the nodes) and
/// `vnet-aks` (10.224.0.0/16, nodes under `aks-no-private-path`); no peerings.
fn vnets(st: &BedState) -> Vec<(&'static str, Value)> {
    let dns: Vec<&str> = if has(st, AksFault::CustomDns) {
        vec![CUSTOM_DNS_SERVER]
    } else {
        Vec::new()
    };
    let vnet = |name: &'static str, prefix: &str, subnets: Vec<Value>, dns: Vec<&str>| {
        (
            name,
            j!({
                "id": vnet_id(st, name),
                "name": name,
                "type": "Microsoft.Network/virtualNetworks",
                "location": ids::LOCATION,
                "properties": {
                    "provisioningState": "Succeeded",
                    "addressSpace": {"addressPrefixes": [prefix]},
                    "dhcpOptions": {"dnsServers": dns},
                    "subnets": subnets,
                    "virtualNetworkPeerings": [],
                    "enableDdosProtection": false,
                }
            }),
        )
    };
    vec![
        vnet(
            "vnet-test",
            "10.0.0.0/16",
            vec![
                subnet_json(st, "vnet-test", "default", "10.0.0.0/24"),
                subnet_json(st, "vnet-test", "aks-nodes", "10.0.16.0/20"),
            ],
            dns,
        ),
        vnet(
            "vnet-aks",
            "10.224.0.0/16",
            vec![subnet_json(st, "vnet-aks", "aks-nodes", "10.224.0.0/16")],
            Vec::new(),
        ),
    ]
}

fn zone_json(st: &BedState) -> Value {
    let regs = private_registries(st);
    j!({
        "id": zone_id(st),
        "name": ZONE,
        "type": "Microsoft.Network/privateDnsZones",
        "location": "global",
        "etag": "0e4f6a1c-0000-4000-8000-000000000001",
        "properties": {
            "maxNumberOfRecordSets": 25000,
            "numberOfRecordSets": 1 + regs.len() * 2,
            "maxNumberOfVirtualNetworkLinks": 1000,
            "numberOfVirtualNetworkLinks": links(st).len(),
            "provisioningState": "Succeeded",
        }
    })
}

fn links(st: &BedState) -> Vec<Value> {
    if has(st, AksFault::DnsZoneUnlinked) {
        return Vec::new();
    }
    vec![j!({
        "id": format!("{}/virtualNetworkLinks/vnet-test-link", zone_id(st)),
        "name": "vnet-test-link",
        "type": "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
        "location": "global",
        "etag": "\"0e4f6a1c-0000-4000-8000-000000000002\"",
        "properties": {
            "virtualNetwork": {"id": vnet_id(st, "vnet-test")},
            "registrationEnabled": false,
            "virtualNetworkLinkState": "Completed",
            "provisioningState": "Succeeded",
        }
    })]
}

/// The zone's A record sets: (relative name, address).
fn a_records(st: &BedState) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    for r in private_registries(st) {
        out.push((r.name.clone(), "10.0.0.5"));
        if !has(st, AksFault::DataRecordMissing) {
            out.push((format!("{}.{}.data", r.name, r.location), "10.0.0.6"));
        }
    }
    out
}

fn a_record_json(st: &BedState, name: &str, ip: &str) -> Value {
    j!({
        "id": format!("{}/A/{name}", zone_id(st)),
        "name": name,
        "type": "Microsoft.Network/privateDnsZones/A",
        "etag": "0e4f6a1c-0000-4000-8000-000000000003",
        "properties": {
            "fqdn": format!("{name}.{ZONE}."),
            "ttl": 10,
            "aRecords": [{"ipv4Address": ip}],
            "isAutoRegistered": false,
        }
    })
}

fn zone_group_json(st: &BedState, r: &Registry, pe_id: &str) -> Value {
    let records: Vec<Value> = a_records(st)
        .into_iter()
        .filter(|(n, _)| n == &r.name || n.starts_with(&format!("{}.", r.name)))
        .map(|(n, ip)| j!({"recordType": "A", "recordSetName": n, "fqdn": format!("{n}.{ZONE}"), "ttl": 10, "ipAddresses": [ip], "provisioningState": "Succeeded"}))
        .collect();
    j!({
        "id": format!("{pe_id}/privateDnsZoneGroups/default"),
        "name": "default",
        "type": "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
        "properties": {
            "provisioningState": "Succeeded",
            "privateDnsZoneConfigs": [{
                "name": "privatelink-azurecr-io",
                "properties": {"privateDnsZoneId": zone_id(st), "recordSets": records},
            }],
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Routing

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn read(st: &BedState, caller: &Caller, id: &str, action: &str, body: Value) -> Response {
    if perms::arm_allowed(st, &caller.oid, id, action) {
        json(StatusCode::OK, body)
    } else {
        forbidden(caller, action, id)
    }
}

/// Serves the AKS world's paths (`seg` starts after `/subscriptions/{id}`); `None` for any
/// other path.
pub(crate) fn route(st: &BedState, caller: &Caller, seg: &[&str]) -> Option<Response> {
    if !st.aks.enabled {
        return None;
    }
    const NET: &str = "Microsoft.Network";
    let resp = match seg {
        [p, ns, t] if eq(p, "providers") && eq(ns, AKS_API) && eq(t, "managedClusters") => {
            let action = "Microsoft.ContainerService/managedClusters/read";
            let value: Vec<Value> = if perms::arm_allowed(st, &caller.oid, &cluster_id(st), action)
            {
                vec![cluster_json(st)]
            } else {
                Vec::new()
            };
            json(StatusCode::OK, j!({"value": value}))
        }
        [p, ns, t] if eq(p, "providers") && eq(ns, NET) && eq(t, "privateDnsZones") => {
            let action = "Microsoft.Network/privateDnsZones/read";
            let value: Vec<Value> = if perms::arm_allowed(st, &caller.oid, &zone_id(st), action) {
                vec![zone_json(st)]
            } else {
                Vec::new()
            };
            json(StatusCode::OK, j!({"value": value}))
        }
        [g, rg, p, ns, t, name]
            if eq(g, "resourceGroups")
                && eq(p, "providers")
                && eq(ns, AKS_API)
                && eq(t, "managedClusters") =>
        {
            if !(eq(rg, ids::RESOURCE_GROUP) && eq(name, CLUSTER)) {
                return Some(not_found(
                    &format!("Microsoft.ContainerService/managedClusters/{name}"),
                    rg,
                ));
            }
            read(
                st,
                caller,
                &cluster_id(st),
                "Microsoft.ContainerService/managedClusters/read",
                cluster_json(st),
            )
        }
        [g, rg, p, ns, t, name]
            if eq(g, "resourceGroups")
                && eq(p, "providers")
                && eq(ns, NET)
                && eq(t, "publicIPAddresses") =>
        {
            if !(eq(rg, NODE_RESOURCE_GROUP) && eq(name, "aks-outbound-ip")) {
                return Some(not_found(
                    &format!("Microsoft.Network/publicIPAddresses/{name}"),
                    rg,
                ));
            }
            read(
                st,
                caller,
                &public_ip_id(st),
                "Microsoft.Network/publicIPAddresses/read",
                public_ip_json(st),
            )
        }
        [g, rg, p, ns, t]
            if eq(g, "resourceGroups")
                && eq(p, "providers")
                && eq(ns, NET)
                && eq(t, "virtualNetworks") =>
        {
            let action = "Microsoft.Network/virtualNetworks/read";
            let value: Vec<Value> = vnets(st)
                .into_iter()
                .filter(|(n, _)| {
                    eq(rg, ids::RESOURCE_GROUP)
                        && perms::arm_allowed(st, &caller.oid, &vnet_id(st, n), action)
                })
                .map(|(_, v)| v)
                .collect();
            json(StatusCode::OK, j!({"value": value}))
        }
        [g, rg, p, ns, t, name, rest @ ..]
            if eq(g, "resourceGroups")
                && eq(p, "providers")
                && eq(ns, NET)
                && eq(t, "virtualNetworks") =>
        {
            let found = vnets(st)
                .into_iter()
                .find(|(n, _)| eq(n, name))
                .filter(|_| eq(rg, ids::RESOURCE_GROUP));
            let Some((vname, v)) = found else {
                return Some(not_found(
                    &format!("Microsoft.Network/virtualNetworks/{name}"),
                    rg,
                ));
            };
            let action = "Microsoft.Network/virtualNetworks/read";
            match rest {
                [] => read(st, caller, &vnet_id(st, vname), action, v),
                [s, sn] if eq(s, "subnets") => {
                    let subnet = v["properties"]["subnets"].as_array().and_then(|a| {
                        a.iter()
                            .find(|x| x["name"].as_str().is_some_and(|n| eq(n, sn)))
                            .cloned()
                    });
                    match subnet {
                        Some(sv) => read(
                            st,
                            caller,
                            &vnet_id(st, vname),
                            "Microsoft.Network/virtualNetworks/subnets/read",
                            sv,
                        ),
                        None => not_found(
                            &format!("Microsoft.Network/virtualNetworks/{vname}/subnets/{sn}"),
                            rg,
                        ),
                    }
                }
                _ => return None,
            }
        }
        [g, rg, p, ns, t, name, rest @ ..]
            if eq(g, "resourceGroups")
                && eq(p, "providers")
                && eq(ns, NET)
                && eq(t, "privateDnsZones") =>
        {
            if !(eq(rg, ids::RESOURCE_GROUP) && eq(name, ZONE)) {
                return Some(not_found(
                    &format!("Microsoft.Network/privateDnsZones/{name}"),
                    rg,
                ));
            }
            let zid = zone_id(st);
            match rest {
                [] => read(st, caller, &zid, "Microsoft.Network/privateDnsZones/read", zone_json(st)),
                [l] if eq(l, "virtualNetworkLinks") => read(st, caller, &zid, "Microsoft.Network/privateDnsZones/virtualNetworkLinks/read", j!({"value": links(st)})),
                [a, rel] if eq(a, "A") => match a_records(st).into_iter().find(|(n, _)| eq(n, rel)) {
                    Some((n, ip)) => read(st, caller, &zid, "Microsoft.Network/privateDnsZones/A/read", a_record_json(st, &n, ip)),
                    None => arm_error(
                        StatusCode::NOT_FOUND,
                        "NotFound",
                        &format!("The resource record '{rel}' does not exist in resource group '{rg}' of subscription '{}'.", st.subscription),
                    ),
                },
                _ => return None,
            }
        }
        [g, rg, p, ns, t, name, z]
            if eq(g, "resourceGroups")
                && eq(p, "providers")
                && eq(ns, NET)
                && eq(t, "privateEndpoints")
                && eq(z, "privateDnsZoneGroups") =>
        {
            let found = private_registries(st)
                .into_iter()
                .find(|r| eq(&format!("pe-{}", r.name), name) && eq(&r.resource_group, rg));
            let Some(r) = found else {
                return Some(not_found(
                    &format!("Microsoft.Network/privateEndpoints/{name}"),
                    rg,
                ));
            };
            let pe_id = format!(
                "{}/providers/Microsoft.Network/privateEndpoints/pe-{}",
                rg_id(st, rg),
                r.name
            );
            read(
                st,
                caller,
                &pe_id,
                "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/read",
                j!({"value": [zone_group_json(st, &r, &pe_id)]}),
            )
        }
        _ => return None,
    };
    Some(resp)
}

/// Microsoft Graph `GET /v1.0/servicePrincipals(appId='…')` (and `?$filter=appId eq '…'`):
/// users may read service principals; applications need Application.Read.All. `None` for any
/// other path.
pub(crate) fn graph(
    inner: &Arc<Inner>,
    path: &str,
    query: &str,
    claims: &Value,
) -> Option<Response> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .to_string();
    let by_key = decoded
        .strip_prefix("/v1.0/servicePrincipals(appId='")
        .and_then(|r| r.strip_suffix("')"))
        .map(str::to_string);
    let by_filter = (decoded == "/v1.0/servicePrincipals").then(|| {
        let params: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        params
            .iter()
            .find(|(k, _)| k == "$filter")
            .and_then(|(_, f)| {
                f.trim()
                    .strip_prefix("appId eq '")?
                    .strip_suffix('\'')
                    .map(str::to_string)
            })
    });
    let (app_id, listing) = match (by_key, by_filter) {
        (Some(a), _) => (a, false),
        (None, Some(Some(a))) => (a, true),
        (None, Some(None)) => {
            return Some(graph_error(
                StatusCode::BAD_REQUEST,
                "Request_UnsupportedQuery",
                "Unsupported query.",
            ))
        }
        (None, None) => return None,
    };
    let st = inner.state().clone();
    let caller_app = claims.get("appid").and_then(Value::as_str).unwrap_or("");
    let caller_tid = claims.get("tid").and_then(Value::as_str).unwrap_or("");
    let is_user = claims.get("idtyp").and_then(Value::as_str) == Some("user");
    let may = !st.faults_for(None).contains(&Fault::GraphForbidden)
        && (is_user || st.aks.graph_readers.iter().any(|a| eq(a, caller_app)));
    if !may {
        return Some(graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ));
    }
    let sp = st.principals.iter().find(|p| {
        p.kind == crate::PrincipalKind::ServicePrincipal
            && eq(&p.app_id, &app_id)
            && eq(&p.tenant, caller_tid)
    });
    let body = |p: &crate::Principal| {
        j!({"id": p.object_id, "appId": p.app_id, "displayName": p.display_name,
            "servicePrincipalType": "Application", "accountEnabled": true, "appOwnerOrganizationId": p.tenant})
    };
    Some(match (sp, listing) {
        (Some(p), false) => json(StatusCode::OK, body(p)),
        (Some(p), true) => json(StatusCode::OK, j!({"value": [body(p)]})),
        (None, true) => json(StatusCode::OK, j!({"value": []})),
        (None, false) => graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("Resource '{app_id}' does not exist or one of its queried reference-property objects are not present."),
        ),
    })
}

fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    json(
        status,
        j!({"error": {"code": code, "message": message, "innerError": {"date": "2026-01-01T00:00:00", "request-id": "00000000-0000-4000-8000-000000000000"}}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for n in AKS_FAULT_NAMES {
            let f: AksFault = n.parse().unwrap_or_else(|e| panic!("{n}: {e}"));
            assert_eq!(f.name(), *n);
        }
        assert!("aks-nonsense".parse::<AksFault>().is_err());
    }
}
