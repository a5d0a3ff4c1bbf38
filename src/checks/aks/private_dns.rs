//! `aks.private_dns`: do the node virtual networks resolve the registry's names to its private
//! endpoints (the privatelink zone, its links to the node networks, its A records)?

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{
    arm_denied, check_acr_command, inputs, login_host, node_vnets, not_requested, nslookup_command,
};
use crate::azure::aks::{self, VnetInfo};
use crate::checks::{Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::cli::CheckArgs;
use crate::finding::RawFinding;
use crate::lang::Lang;

pub(super) struct AksPrivateDns;

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
