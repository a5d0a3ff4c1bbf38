//! A registry's private endpoints through ARM, as `az acr check-health --vnet` reads them: the
//! private endpoint connections of the registry, each endpoint's custom DNS configs and network
//! interfaces, and from those the FQDN → private IP mappings clients must resolve.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;

use super::arm::{Arm, ArmError, ResourceId};
use crate::model::ArmRegistry;

/// `Microsoft.Network` API version for private endpoints and network interfaces.
pub const NETWORK_API_VERSION: &str = "2023-09-01";

/// What one FQDN must resolve to inside the virtual network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedMapping {
    pub fqdn: String,
    pub ips: Vec<IpAddr>,
    /// Names of the private endpoints that carry it.
    pub endpoints: Vec<String>,
}

/// One private endpoint of the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointInfo {
    pub id: String,
    pub name: String,
    /// `Approved`, `Pending`, ...
    pub status: String,
    /// The virtual network of its subnet, when ARM says.
    pub vnet: Option<String>,
}

/// Private endpoint ids and connection states from the registry resource.
pub fn endpoints_of(registry: &ArmRegistry) -> Vec<EndpointInfo> {
    registry
        .property("privateEndpointConnections")
        .and_then(Value::as_array)
        .map(|conns| {
            conns
                .iter()
                .filter_map(|c| {
                    let props = c.get("properties")?;
                    let id = props
                        .get("privateEndpoint")?
                        .get("id")?
                        .as_str()?
                        .to_string();
                    let status = props
                        .get("privateLinkServiceConnectionState")
                        .and_then(|s| s.get("status"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    Some(EndpointInfo {
                        name: ResourceId::parse(&id).name.unwrap_or_default(),
                        id,
                        status,
                        vnet: None,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn add(map: &mut BTreeMap<String, ExpectedMapping>, fqdn: &str, ip: &str, endpoint: &str) {
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return;
    };
    let fqdn = fqdn.trim_end_matches('.').to_ascii_lowercase();
    let entry = map.entry(fqdn.clone()).or_insert_with(|| ExpectedMapping {
        fqdn,
        ips: Vec::new(),
        endpoints: Vec::new(),
    });
    if !entry.ips.contains(&ip) {
        entry.ips.push(ip);
    }
    if !entry.endpoints.iter().any(|e| e == endpoint) {
        entry.endpoints.push(endpoint.to_string());
    }
}

/// The mappings a private endpoint resource and its network interfaces declare.
pub fn mappings_from(
    endpoint_name: &str,
    endpoint: &Value,
    nics: &[Value],
    into: &mut BTreeMap<String, ExpectedMapping>,
) {
    let props = endpoint.get("properties");
    for cfg in props
        .and_then(|p| p.get("customDnsConfigs"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(fqdn) = cfg.get("fqdn").and_then(Value::as_str) else {
            continue;
        };
        for ip in cfg
            .get("ipAddresses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            add(into, fqdn, ip, endpoint_name);
        }
    }
    for nic in nics {
        for ipc in nic
            .get("properties")
            .and_then(|p| p.get("ipConfigurations"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let p = ipc.get("properties");
            let Some(ip) = p
                .and_then(|p| p.get("privateIPAddress"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            for fqdn in p
                .and_then(|p| p.get("privateLinkConnectionProperties"))
                .and_then(|l| l.get("fqdns"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                add(into, fqdn, ip, endpoint_name);
            }
        }
    }
}

/// The virtual network name in a subnet id (`.../virtualNetworks/<vnet>/subnets/<subnet>`).
pub fn vnet_of(endpoint: &Value) -> Option<String> {
    let subnet = endpoint
        .get("properties")?
        .get("subnet")?
        .get("id")?
        .as_str()?;
    let mut parts = subnet.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("virtualNetworks") {
            return parts.next().map(str::to_string);
        }
    }
    None
}

/// Reads every private endpoint of the registry and the mappings they declare.
pub async fn expected_mappings(
    arm: &Arm<'_>,
    registry: &ArmRegistry,
) -> Result<(Vec<EndpointInfo>, Vec<ExpectedMapping>), ArmError> {
    let mut endpoints = endpoints_of(registry);
    let mut map = BTreeMap::new();
    for ep in &mut endpoints {
        let resource = arm.get(&ep.id, NETWORK_API_VERSION, &[]).await?;
        ep.vnet = vnet_of(&resource);
        let mut nics = Vec::new();
        for nic_id in resource
            .get("properties")
            .and_then(|p| p.get("networkInterfaces"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|n| n.get("id").and_then(Value::as_str))
        {
            nics.push(arm.get(nic_id, NETWORK_API_VERSION, &[]).await?);
        }
        mappings_from(&ep.name, &resource, &nics, &mut map);
    }
    Ok((endpoints, map.into_values().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mappings_merge_dns_configs_and_nics() {
        let pe = json!({"properties": {
        "subnet": {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet-a/subnets/default"},
        "customDnsConfigs": [
            {"fqdn": "reg.azurecr.io", "ipAddresses": ["10.0.0.5"]},
            {"fqdn": "reg.westeurope.data.azurecr.io", "ipAddresses": ["10.0.0.6", "bogus"]}
        ]}});
        let nic = json!({"properties": {"ipConfigurations": [
            {"properties": {"privateIPAddress": "10.0.0.5", "privateLinkConnectionProperties": {"fqdns": ["Reg.azurecr.io."]}}},
            {"properties": {"privateIPAddress": "10.0.0.7", "privateLinkConnectionProperties": {"fqdns": ["reg.westeurope.data.azurecr.io"]}}}
        ]}});
        let mut map = BTreeMap::new();
        mappings_from("pe-reg", &pe, &[nic], &mut map);
        let login = &map["reg.azurecr.io"];
        assert_eq!(login.ips, vec!["10.0.0.5".parse::<IpAddr>().unwrap()]);
        assert_eq!(login.endpoints, vec!["pe-reg".to_string()]);
        assert_eq!(map["reg.westeurope.data.azurecr.io"].ips.len(), 2);
        assert_eq!(vnet_of(&pe).as_deref(), Some("vnet-a"));
    }

    #[test]
    fn endpoints_come_from_the_connections() {
        let reg = ArmRegistry {
            id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/reg".into(),
            subscription: "s".into(),
            resource_group: "rg".into(),
            name: "reg".into(),
            resource: json!({"properties": {"privateEndpointConnections": [
                {"properties": {"privateEndpoint": {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe-reg"},
                 "privateLinkServiceConnectionState": {"status": "Approved"}}},
                {"properties": {}}
            ]}}),
        };
        let eps = endpoints_of(&reg);
        assert_eq!(eps.len(), 1);
        assert_eq!(eps[0].name, "pe-reg");
        assert_eq!(eps[0].status, "Approved");
    }
}
