//! `aks.private_dns`: do the node virtual networks resolve the registry's names to its private
//! endpoints (the privatelink zone, its links to the node networks, its A records)?

use std::net::IpAddr;

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{
    arm_denied, check_acr_command, inputs, login_host, node_vnets, not_requested, nslookup_command,
};
use crate::azure::aks::{self, ManagedCluster, VnetInfo};
use crate::azure::arm::Arm;
use crate::azure::private_endpoints::{self as pe, EndpointInfo, ExpectedMapping};
use crate::catalogue::Code;
use crate::checks::{ArmRegistry, Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::finding::RawFinding;
use crate::lang::Lang;
use crate::request::CheckArgs;

pub struct AksPrivateDns;

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

/// What the nodes' private DNS is judged by, gathered once and read by every step.
struct Dns {
    /// The registry's login server.
    host: String,
    /// The cloud's registry suffix without its leading dot (`azurecr.io`).
    suffix: String,
    /// `privatelink.<suffix>`.
    zone_name: String,
    vnets: Vec<VnetInfo>,
    /// IDs of the private DNS zones of that name the registry's records are in.
    zones: Vec<String>,
    /// (virtual network, its DNS servers) of the node networks with custom DNS servers.
    custom_dns: Vec<(String, Vec<String>)>,
    /// `custom_dns` as text: `vnet: server, server; vnet: server`.
    custom_text: String,
    /// Commands that check from inside the cluster.
    confirm: Vec<String>,
}

/// The zones' virtual network links.
struct Links {
    /// The linked virtual networks' IDs.
    linked: Vec<String>,
    json: Vec<Value>,
}

/// A name of the private endpoint the zones do not map to its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BadRecord {
    /// The record's name relative to the suffix (`contosoreg`, `contosoreg.westeurope.data`).
    rel: String,
    expected: Vec<String>,
    /// The record's addresses, `None` when there is no record.
    seen: Option<Vec<String>>,
}

/// The A records of every name the endpoints declare.
struct Records {
    json: Vec<Value>,
    bad: Vec<BadRecord>,
}

async fn aks_private_dns(cx: &CheckCx<'_>) -> Outcome {
    let (cluster, reg, arm) = match inputs(cx) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let host = login_host(cx, &reg);
    let cloud = cx.cloud();
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
    let zones = match discover_zones(cx, &arm, &cluster, &reg, &endpoints, &zone_name).await {
        Ok(z) => z,
        Err(o) => return o,
    };
    let custom_dns = custom_dns_servers(&vnets);
    let dns = Dns {
        confirm: vec![nslookup_command(&host), check_acr_command(&cluster, &host)],
        custom_text: custom_dns_text(&custom_dns),
        custom_dns,
        host,
        suffix,
        zone_name,
        vnets,
        zones,
    };
    if dns.zones.is_empty() {
        return no_zone(cx, &reg, &dns);
    }
    let links = match read_links(cx, &arm, &dns.zones).await {
        Ok(l) => l,
        Err(o) => return o,
    };
    let records = match read_records(cx, &arm, &dns, &mappings).await {
        Ok(r) => r,
        Err(o) => return o,
    };
    verdict(cx, &dns, &links, &records)
}

/// Zone discovery: the zones named `zone_name` the endpoints register in (their DNS zone
/// groups), else the zones of that name in the cluster's and the registry's subscriptions.
async fn discover_zones(
    cx: &CheckCx<'_>,
    arm: &Arm<'_>,
    cluster: &ManagedCluster,
    reg: &ArmRegistry,
    endpoints: &[EndpointInfo],
    zone_name: &str,
) -> Result<Vec<String>, Outcome> {
    let mut zones: Vec<String> = Vec::new();
    for ep in endpoints {
        match aks::zone_groups(arm, &ep.id).await {
            Ok(found) => add_zones_named(&mut zones, found, zone_name),
            Err(e) if e.status() == Some(404) => {}
            Err(e) => {
                return Err(arm_denied(
                    cx,
                    "the private DNS zone groups",
                    "プライベート DNS ゾーン グループ",
                    &e,
                ))
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
            match aks::zones_named(arm, &sub, zone_name).await {
                Ok(found) => zones.extend(found),
                Err(e) => {
                    return Err(arm_denied(
                        cx,
                        "the private DNS zones",
                        "プライベート DNS ゾーン",
                        &e,
                    ))
                }
            }
        }
    }
    Ok(zones)
}

/// Adds to `zones` the zone IDs of `found` named `zone_name` (any case) not already in it.
fn add_zones_named(zones: &mut Vec<String>, found: Vec<String>, zone_name: &str) {
    for z in found {
        if aks::short_name(&z).eq_ignore_ascii_case(zone_name)
            && !zones.iter().any(|x| aks::same_id(x, &z))
        {
            zones.push(z);
        }
    }
}

/// DNS servers: the node networks that use custom DNS servers, with those servers.
fn custom_dns_servers(vnets: &[VnetInfo]) -> Vec<(String, Vec<String>)> {
    vnets
        .iter()
        .filter(|v| !v.dns_servers.is_empty())
        .map(|v| (v.id.clone(), v.dns_servers.clone()))
        .collect()
}

fn custom_dns_text(custom_dns: &[(String, Vec<String>)]) -> String {
    custom_dns
        .iter()
        .map(|(v, s)| format!("{}: {}", aks::short_name(v), s.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The evidence every outcome of the check carries.
fn base(o: Outcome, dns: &Dns) -> Outcome {
    o.evidence("zone_name", dns.zone_name.clone())
        .evidence("zones", dns.zones.clone())
        .evidence(
            "node_vnets",
            dns.vnets.iter().map(|v| v.id.clone()).collect::<Vec<_>>(),
        )
        .evidence(
            "dns_servers",
            dns.custom_dns
                .iter()
                .map(|(v, s)| json!({"vnet": v, "dns_servers": s}))
                .collect::<Vec<_>>(),
        )
}

/// No zone of that name is visible: unseen behind custom DNS servers, else a finding.
fn no_zone(cx: &CheckCx<'_>, reg: &ArmRegistry, dns: &Dns) -> Outcome {
    let Dns {
        host,
        zone_name,
        custom_text,
        confirm,
        ..
    } = dns;
    if !dns.custom_dns.is_empty() {
        return base(Outcome::info(cx.t(
            format!("no {zone_name} zone is visible through ARM and the node network(s) use custom DNS servers ({custom_text}); what those servers answer for {host} cannot be seen from ARM; check from inside the cluster: `{}`", confirm[0]),
            format!("ARM から見える {zone_name} ゾーンはなく、ノードのネットワークはカスタム DNS サーバー ({custom_text}) を使っています。それらが {host} に何を返すかは ARM からは見えません。クラスター内から確認するには: `{}`", confirm[0]),
        )), dns)
        .evidence("seen_from_arm", false)
        .evidence("unseen", vec!["custom_dns_answers"])
        .evidence("confirm_with", confirm.clone());
    }
    let msg = cx.t(
        format!("{} has private endpoints but no {zone_name} private DNS zone holds its records: the nodes resolve {host} to its public address", reg.name),
        format!("{} にはプライベート エンドポイントがありますが、そのレコードを持つ {zone_name} プライベート DNS ゾーンがありません。ノードは {host} をパブリック アドレスに解決します", reg.name),
    );
    let f = RawFinding::new(Code::PRIVATE_ENDPOINT_DNS_ERROR, msg.clone())
        .evidence("zone_name", zone_name.clone())
        .evidence("zones", Vec::<String>::new())
        .step(cx.t(
            format!("Create the {zone_name} zone, add the private endpoint's records to it (a DNS zone group on the endpoint does this), and link it to the node virtual network."),
            format!("{zone_name} ゾーンを作成し、プライベート エンドポイントのレコードを追加し (エンドポイントの DNS ゾーン グループで自動化できます)、ノードの仮想ネットワークにリンクします。"),
        ));
    base(Outcome::fail(msg, f), dns)
}

/// VNet links: a zone answers only in the virtual networks linked to it (peering does not carry
/// it).
async fn read_links(cx: &CheckCx<'_>, arm: &Arm<'_>, zones: &[String]) -> Result<Links, Outcome> {
    let mut linked: Vec<String> = Vec::new();
    let mut json: Vec<Value> = Vec::new();
    for z in zones {
        match aks::zone_links(arm, z).await {
            Ok(ls) => {
                for l in ls {
                    json.push(json!({"zone": z, "name": l.name, "vnet": l.vnet, "state": l.state}));
                    linked.push(l.vnet);
                }
            }
            Err(e) => {
                return Err(arm_denied(
                    cx,
                    "the zone's virtual network links",
                    "ゾーンの仮想ネットワーク リンク",
                    &e,
                ))
            }
        }
    }
    Ok(Links { linked, json })
}

/// The node networks no zone is linked to.
fn unlinked_vnets<'v>(vnets: &'v [VnetInfo], linked: &[String]) -> Vec<&'v VnetInfo> {
    vnets
        .iter()
        .filter(|v| !linked.iter().any(|l| aks::same_id(l, &v.id)))
        .collect()
}

/// A records: every name the endpoints declare, in the first zone that has it.
async fn read_records(
    cx: &CheckCx<'_>,
    arm: &Arm<'_>,
    dns: &Dns,
    mappings: &[ExpectedMapping],
) -> Result<Records, Outcome> {
    let mut records = Records {
        json: Vec::new(),
        bad: Vec::new(),
    };
    for m in mappings {
        let Some(rel) = aks::relative_record(&m.fqdn, &dns.suffix) else {
            continue;
        };
        let mut found: Option<Vec<IpAddr>> = None;
        for z in &dns.zones {
            match aks::a_record(arm, z, &rel).await {
                Ok(Some(ips)) => {
                    found = Some(ips);
                    break;
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(arm_denied(
                        cx,
                        "the zone's A records",
                        "ゾーンの A レコード",
                        &e,
                    ))
                }
            }
        }
        let expected: Vec<String> = m.ips.iter().map(|a| a.to_string()).collect();
        let seen: Option<Vec<String>> = found
            .as_ref()
            .map(|ips| ips.iter().map(|a| a.to_string()).collect());
        let ok = record_matches(&m.ips, found.as_deref());
        records.json.push(
            json!({"name": rel, "fqdn": m.fqdn, "expected": expected, "found": seen, "ok": ok}),
        );
        if !ok {
            records.bad.push(BadRecord {
                rel,
                expected,
                seen,
            });
        }
    }
    Ok(records)
}

/// A record answers as it should when it exists, is not empty and holds only the endpoint's
/// addresses.
fn record_matches(expected: &[IpAddr], found: Option<&[IpAddr]>) -> bool {
    found.is_some_and(|ips| !ips.is_empty() && ips.iter().all(|a| expected.contains(a)))
}

/// Whether a name missing or wrong is a data endpoint's (`<registry>.<region>.data`).
fn data_record_bad(bad: &[BadRecord]) -> bool {
    bad.iter().any(|b| b.rel.ends_with(".data"))
}

/// The finding: the node networks the zone is not linked to (those without custom DNS servers),
/// and the names it does not map; pass (or info, behind custom DNS servers) when neither.
fn verdict(cx: &CheckCx<'_>, dns: &Dns, links: &Links, records: &Records) -> Outcome {
    let zone_rg = crate::azure::arm::ResourceId::parse(&dns.zones[0])
        .resource_group
        .unwrap_or_default();
    let base = |o: Outcome| {
        base(o, dns)
            .evidence("links", links.json.clone())
            .evidence("records", records.json.clone())
    };
    let unlinked = unlinked_vnets(&dns.vnets, &links.linked);
    let unlinked_plain: Vec<&VnetInfo> = unlinked
        .into_iter()
        .filter(|v| v.dns_servers.is_empty())
        .collect();
    let findings: Vec<RawFinding> = [
        unlinked_finding(cx, dns, &unlinked_plain, &links.linked, &zone_rg),
        records_finding(cx, dns, &records.bad, &zone_rg),
    ]
    .into_iter()
    .flatten()
    .collect();
    let confirm = dns.confirm.clone();
    let custom_note = (!dns.custom_dns.is_empty()).then(|| {
        let (suffix, custom_text) = (&dns.suffix, &dns.custom_text);
        cx.t(
            format!("; the node network(s) use custom DNS servers ({custom_text}): they must forward {suffix} to Azure DNS (168.63.129.16) from a network linked to the zone, which ARM cannot show; check from inside the cluster: `{}`", confirm[0]),
            format!("。ノードのネットワークはカスタム DNS サーバー ({custom_text}) を使っています。これらはゾーンにリンクされたネットワークから {suffix} を Azure DNS (168.63.129.16) に転送する必要がありますが、ARM からは確認できません。クラスター内から確認するには: `{}`", confirm[0]),
        )
    });
    if findings.is_empty() {
        return base(resolves(cx, dns, &records.json, custom_note));
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
        .unwrap_or_else(|| RawFinding::new(Code::PRIVATE_ENDPOINT_DNS_ERROR, message.clone()));
    let mut o = base(Outcome::fail(message, first)).evidence("confirm_with", confirm);
    for f in findings {
        o = o.finding(f);
    }
    o
}

/// The zone is not linked to node networks that use Azure DNS: they resolve the public address.
fn unlinked_finding(
    cx: &CheckCx<'_>,
    dns: &Dns,
    unlinked_plain: &[&VnetInfo],
    linked: &[String],
    zone_rg: &str,
) -> Option<RawFinding> {
    if unlinked_plain.is_empty() {
        return None;
    }
    let (host, zone_name) = (&dns.host, &dns.zone_name);
    let names: Vec<String> = unlinked_plain
        .iter()
        .map(|v| aks::short_name(&v.id))
        .collect();
    let msg = cx.t(
        format!("the {zone_name} zone is not linked to node virtual network(s) {}: the nodes resolve {host} to its public address, not to the private endpoint", names.join(", ")),
        format!("{zone_name} ゾーンがノードの仮想ネットワーク {} にリンクされていないため、ノードは {host} をプライベート エンドポイントではなくパブリック アドレスに解決します", names.join(", ")),
    );
    let mut f = RawFinding::new(Code::PRIVATE_ENDPOINT_DNS_ERROR, msg)
        .evidence("zones", dns.zones.clone())
        .evidence(
            "unlinked_vnets",
            unlinked_plain
                .iter()
                .map(|v| v.id.clone())
                .collect::<Vec<_>>(),
        )
        .evidence("linked_vnets", linked.to_vec());
    for v in unlinked_plain {
        f = f.command(format!(
            "az network private-dns link vnet create --resource-group {zone_rg} --zone-name {zone_name} --name {}-link --virtual-network {} --registration-enabled false",
            aks::short_name(&v.id),
            v.id
        ));
    }
    Some(f)
}

/// Names of the private endpoint the zone does not map, or maps elsewhere.
fn records_finding(
    cx: &CheckCx<'_>,
    dns: &Dns,
    bad_records: &[BadRecord],
    zone_rg: &str,
) -> Option<RawFinding> {
    if bad_records.is_empty() {
        return None;
    }
    let zone_name = &dns.zone_name;
    let lines: Vec<String> = bad_records
        .iter()
        .map(
            |BadRecord {
                 rel,
                 expected,
                 seen,
             }| match seen {
                None => cx.t(
                    format!("{rel}: no A record (expected {})", expected.join(", ")),
                    format!("{rel}: A レコードなし (期待値 {})", expected.join(", ")),
                ),
                Some(s) => cx.t(
                    format!("{rel}: {} (expected {})", s.join(", "), expected.join(", ")),
                    format!("{rel}: {} (期待値 {})", s.join(", "), expected.join(", ")),
                ),
            },
        )
        .collect();
    let data = data_record_bad(bad_records);
    let msg = cx.t(
        format!("the {zone_name} zone does not map every name of the private endpoint: {}{}", lines.join("; "), if data { "; without the data endpoint's record, sign-in works but layer downloads go to the public address and fail" } else { "" }),
        format!("{zone_name} ゾーンにプライベート エンドポイントの名前の一部がありません: {}{}", lines.join("; "), if data { "。データ エンドポイントのレコードがないと、サインインはできてもレイヤーのダウンロードがパブリック アドレスに向かい失敗します" } else { "" }),
    );
    let mut f = RawFinding::new(Code::PRIVATE_ENDPOINT_DNS_ERROR, msg)
        .evidence("zones", dns.zones.clone())
        .evidence(
            "missing_records",
            bad_records
                .iter()
                .map(|b| b.rel.clone())
                .collect::<Vec<_>>(),
        );
    if data {
        f = f.alternative(&[Code::DATA_ENDPOINT_UNREACHABLE]);
    }
    for BadRecord { rel, expected, .. } in bad_records {
        if let Some(ip) = expected.first() {
            f = f.command(format!(
                "az network private-dns record-set a add-record --resource-group {zone_rg} --zone-name {zone_name} --record-set-name {rel} --ipv4-address {ip}"
            ));
        }
    }
    Some(f)
}

/// Every node network is linked and every name mapped: pass, or info when custom DNS servers
/// stand between the nodes and the zone (`custom_note`).
fn resolves(
    cx: &CheckCx<'_>,
    dns: &Dns,
    records: &[Value],
    custom_note: Option<String>,
) -> Outcome {
    let zone_name = &dns.zone_name;
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
    let vnet_names = dns
        .vnets
        .iter()
        .map(|v| aks::short_name(&v.id))
        .collect::<Vec<_>>()
        .join(", ");
    let msg = cx.t(
        format!(
            "{zone_name} is linked to the node network(s) {vnet_names} and maps {}{}",
            mapped.join("; "),
            custom_note.clone().unwrap_or_default()
        ),
        format!(
            "{zone_name} はノードのネットワーク {vnet_names} にリンクされ、{} を解決します{}",
            mapped.join("; "),
            custom_note.clone().unwrap_or_default()
        ),
    );
    if custom_note.is_some() {
        Outcome::info(msg)
            .evidence("seen_from_arm", false)
            .evidence("unseen", vec!["custom_dns_answers"])
            .evidence("confirm_with", dns.confirm.clone())
    } else {
        Outcome::pass(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "/subscriptions/0000/resourceGroups/rg-dns/providers";

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    fn vnet(name: &str, dns_servers: &[&str]) -> VnetInfo {
        VnetInfo {
            id: format!("{SUB}/Microsoft.Network/virtualNetworks/{name}"),
            dns_servers: dns_servers.iter().map(|s| s.to_string()).collect(),
            peered: Vec::new(),
        }
    }

    #[test]
    fn a_record_matches_only_with_the_endpoints_addresses() {
        let expected = [ip("10.0.0.4"), ip("10.0.0.5")];
        assert!(record_matches(&expected, Some(&[ip("10.0.0.4")])));
        assert!(record_matches(
            &expected,
            Some(&[ip("10.0.0.5"), ip("10.0.0.4")])
        ));
        // No record, an empty record, or one address elsewhere: not what the nodes need.
        assert!(!record_matches(&expected, None));
        assert!(!record_matches(&expected, Some(&[])));
        assert!(!record_matches(
            &expected,
            Some(&[ip("10.0.0.4"), ip("20.1.2.3")])
        ));
    }

    #[test]
    fn zones_are_kept_by_name_once_whatever_the_case() {
        let zone = |rg: &str, name: &str| {
            format!("/subscriptions/0000/resourceGroups/{rg}/providers/Microsoft.Network/privateDnsZones/{name}")
        };
        let mut zones = vec![zone("rg-dns", "privatelink.azurecr.io")];
        add_zones_named(
            &mut zones,
            vec![
                zone("RG-DNS", "PrivateLink.AzureCR.io"),
                zone("rg-dns", "privatelink.blob.core.windows.net"),
                zone("rg-other", "privatelink.azurecr.io"),
                format!("{}/", zone("rg-other", "privatelink.azurecr.io")),
            ],
            "privatelink.azurecr.io",
        );
        assert_eq!(
            zones,
            vec![
                zone("rg-dns", "privatelink.azurecr.io"),
                zone("rg-other", "privatelink.azurecr.io"),
            ]
        );
    }

    #[test]
    fn unlinked_networks_are_those_no_link_names() {
        let vnets = [vnet("vnet-test", &[]), vnet("vnet-aks", &[])];
        let linked = [format!("{}/", vnets[0].id.to_ascii_uppercase())];
        let unlinked = unlinked_vnets(&vnets, &linked);
        assert_eq!(unlinked, vec![&vnets[1]]);
        assert!(unlinked_vnets(&vnets, &[vnets[0].id.clone(), vnets[1].id.clone()]).is_empty());
    }

    #[test]
    fn custom_dns_servers_are_listed_per_network() {
        let vnets = [
            vnet("vnet-test", &[]),
            vnet("vnet-aks", &["10.1.0.4", "10.1.0.5"]),
        ];
        let custom = custom_dns_servers(&vnets);
        assert_eq!(
            custom,
            vec![(
                vnets[1].id.clone(),
                vec!["10.1.0.4".to_string(), "10.1.0.5".to_string()]
            )]
        );
        assert_eq!(custom_dns_text(&custom), "vnet-aks: 10.1.0.4, 10.1.0.5");
        assert!(custom_dns_servers(&vnets[..1]).is_empty());
    }

    #[test]
    fn a_bad_data_endpoint_record_is_told_apart() {
        let bad = |rel: &str| BadRecord {
            rel: rel.to_string(),
            expected: vec!["10.0.0.5".into()],
            seen: None,
        };
        assert!(!data_record_bad(&[bad("contosoreg")]));
        assert!(data_record_bad(&[
            bad("contosoreg"),
            bad("contosoreg.westeurope.data")
        ]));
        assert!(!data_record_bad(&[]));
    }
}
