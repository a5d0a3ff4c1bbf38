//! `network.private_endpoint` (with --vnet): do the names resolve to the private endpoint's
//! addresses?

use std::net::IpAddr;

use futures::future::BoxFuture;
use serde_json::{json, Value};

use crate::azure::arm::ArmError;
use crate::azure::private_endpoints::ExpectedMapping;
use crate::catalogue::Code;
use crate::checks::{ArmRegistry, Check, CheckCx, Fact, Group, LoginServer, Meta, Outcome};
use crate::finding::{RawFinding, Severity};
use crate::lang::Lang;
use crate::net::addr::{addr_list, classify};
use crate::net::dns::resolve;
use crate::request::CheckArgs;

/// One FQDN compared: what the private endpoint declares, what resolves here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingCheck {
    pub fqdn: String,
    pub expected: Vec<IpAddr>,
    pub actual: Vec<IpAddr>,
    /// Resolution error, when the name did not resolve.
    pub error: Option<String>,
    pub pinned: bool,
}

impl MappingCheck {
    /// Every address seen here is one the endpoint declares.
    pub fn ok(&self) -> bool {
        !self.actual.is_empty() && self.actual.iter().all(|a| self.expected.contains(a))
    }
}

/// `network.private_endpoint` (with --vnet): do the names resolve to the private endpoint's addresses?
pub struct PrivateEndpointCheck;

impl Check for PrivateEndpointCheck {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "network.private_endpoint",
            Group::Registry,
            "private endpoint DNS",
            "プライベート エンドポイントの DNS",
        )
        .needs(&[Fact::LoginServer, Fact::ArmRegistry]);
        &META
    }
    fn not_requested(&self, args: &CheckArgs, lang: Lang) -> Option<String> {
        args.vnet.is_none().then(|| {
            lang.pick(
                "not requested (give --vnet to verify private endpoint DNS)",
                "要求されていません (プライベート エンドポイントの DNS を確認するには --vnet を指定してください)",
            )
            .to_string()
        })
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            use crate::azure::private_endpoints as pe;
            let (ls, reg, token) = {
                let f = cx.facts();
                (
                    f.login_server.clone(),
                    f.arm_registry.clone(),
                    f.arm_token.clone(),
                )
            };
            let (Some(ls), Some(reg)) = (ls, reg) else {
                return Outcome::skip(cx.t("no registry settings", "レジストリ設定がありません"));
            };
            let Some(token) = token else {
                return Outcome::skip(cx.t(
                    "no ARM token to read the private endpoints",
                    "プライベート エンドポイントを読む ARM トークンがありません",
                ));
            };
            let cloud = cx.cloud();
            let arm = crate::azure::arm::Arm::new(
                cx.ctx,
                crate::azure::arm::endpoint(cx.ctx, cloud),
                token,
            );
            let vnet = cx.args.vnet.clone().unwrap_or_default();
            let public_disabled = reg
                .property("publicNetworkAccess")
                .and_then(Value::as_str)
                .is_some_and(|v| v.eq_ignore_ascii_case("disabled"));
            let (endpoints, expected) = match pe::expected_mappings(&arm, &reg).await {
                Ok(x) => x,
                Err(e) => return arm_unreadable(cx, &reg, &e),
            };
            if endpoints.is_empty() {
                return Outcome::info(cx.t(
                    format!("{} has no private endpoint connection: nothing to verify for --vnet {vnet}", reg.name),
                    format!("{} にはプライベート エンドポイント接続がありません。--vnet {vnet} について確認する対象はありません", reg.name),
                ))
                .evidence("public_network_access_disabled", public_disabled);
            }
            let rows = resolve_mappings(cx, &ls, &expected).await;
            let table = mapping_table(&rows);
            let in_vnet: Vec<String> = endpoints
                .iter()
                .filter(|e| {
                    e.vnet
                        .as_deref()
                        .is_some_and(|v| v.eq_ignore_ascii_case(&vnet))
                })
                .map(|e| e.name.clone())
                .collect();
            let vnets: Vec<String> = endpoints.iter().filter_map(|e| e.vnet.clone()).collect();
            let bad: Vec<&MappingCheck> = rows.iter().filter(|r| !r.ok()).collect();
            let with_evidence = |o: Outcome| {
                o.evidence("mappings", table.clone())
                    .evidence(
                        "endpoints",
                        endpoints
                            .iter()
                            .map(|e| json!({"name": e.name, "status": e.status, "vnet": e.vnet}))
                            .collect::<Vec<_>>(),
                    )
                    .evidence("public_network_access_disabled", public_disabled)
            };
            if bad.is_empty() {
                let msg = all_resolved(cx, &rows, &in_vnet, &vnets, &vnet);
                return with_evidence(Outcome::pass(msg));
            }
            with_evidence(mismatch(cx, &bad, &table, &vnet, public_disabled))
        })
    }
}

/// The private endpoints could not be read through ARM (a warning when ARM denied it).
fn arm_unreadable(cx: &CheckCx<'_>, reg: &ArmRegistry, e: &ArmError) -> Outcome {
    let msg = cx.t(
        format!(
            "cannot read the private endpoints of {} through ARM: {e}",
            reg.name
        ),
        format!(
            "ARM から {} のプライベート エンドポイントを読めません: {e}",
            reg.name
        ),
    );
    if e.is_denied() {
        return Outcome::warn(
            msg.clone(),
            RawFinding::new(Code::ARM_PERMISSION_MISSING, msg)
                .severity(Severity::Warning)
                .evidence("error", e.to_string()),
        );
    }
    Outcome::fail(
        msg.clone(),
        RawFinding::new(Code::UNEXPECTED_ERROR, msg).evidence("error", e.to_string()),
    )
}

/// Resolves every name the endpoints declare, here, as acr-doctor's own connections would.
async fn resolve_mappings(
    cx: &CheckCx<'_>,
    ls: &LoginServer,
    expected: &[ExpectedMapping],
) -> Vec<MappingCheck> {
    let mut rows = Vec::new();
    for m in expected {
        let port = if m.fqdn == ls.host {
            ls.port_or_default()
        } else {
            443
        };
        let row = match resolve(cx.ctx, &m.fqdn, port).await {
            Ok(r) => MappingCheck {
                fqdn: m.fqdn.clone(),
                expected: m.ips.clone(),
                actual: r.addresses.clone(),
                error: None,
                pinned: r.pinned,
            },
            Err(e) => MappingCheck {
                fqdn: m.fqdn.clone(),
                expected: m.ips.clone(),
                actual: Vec::new(),
                error: Some(e.summary(cx.lang)),
                pinned: false,
            },
        };
        rows.push(row);
    }
    rows
}

/// The `mappings` evidence: one row per name, expected and actual addresses.
fn mapping_table(rows: &[MappingCheck]) -> Vec<Value> {
    rows
        .iter()
        .map(|r| {
            json!({
                "fqdn": r.fqdn,
                "expected": r.expected.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "actual": r.actual.iter().map(|a| format!("{a} ({})", classify(*a).label())).collect::<Vec<_>>(),
                "error": r.error,
                "pinned": r.pinned,
                "ok": r.ok(),
            })
        })
        .collect()
}

/// Every name resolves to its endpoint's address: the pass message, with a note when no
/// endpoint is in the VNet given.
fn all_resolved(
    cx: &CheckCx<'_>,
    rows: &[MappingCheck],
    in_vnet: &[String],
    vnets: &[String],
    vnet: &str,
) -> String {
    let mut msg = cx.t(
        format!(
            "{} name(s) resolve to the private endpoint addresses ({})",
            rows.len(),
            rows.iter()
                .map(|r| format!("{} → {}", r.fqdn, addr_list(&r.actual)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        format!(
            "{} 個の名前がプライベート エンドポイントのアドレスに解決されます ({})",
            rows.len(),
            rows.iter()
                .map(|r| format!("{} → {}", r.fqdn, addr_list(&r.actual)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    );
    if in_vnet.is_empty() && !vnets.is_empty() {
        msg = cx.t(
            format!(
                "{msg}; note: no endpoint is in VNet {vnet} (they are in {})",
                vnets.join(", ")
            ),
            format!(
                "{msg}。注意: VNet {vnet} にあるエンドポイントはありません ({} にあります)",
                vnets.join(", ")
            ),
        );
    }
    msg
}

/// Names that resolve elsewhere (or not at all): the finding, with the fix in the DNS zone.
fn mismatch(
    cx: &CheckCx<'_>,
    bad: &[&MappingCheck],
    table: &[Value],
    vnet: &str,
    public_disabled: bool,
) -> Outcome {
    let lines: Vec<String> = bad
        .iter()
        .map(|r| {
            let expected = r
                .expected
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let actual = match &r.error {
                Some(e) => e.clone(),
                None => addr_list(&r.actual),
            };
            cx.t(
                format!(
                    "{}: expected {expected}, resolves here to {actual}{}",
                    r.fqdn,
                    if r.pinned {
                        " (pinned by --resolve)"
                    } else {
                        ""
                    }
                ),
                format!(
                    "{}: 期待値 {expected}、ここでの解決結果 {actual}{}",
                    r.fqdn,
                    if r.pinned {
                        " (--resolve で固定)"
                    } else {
                        ""
                    }
                ),
            )
        })
        .collect();
    let public_seen = bad
        .iter()
        .any(|r| r.actual.iter().any(|a| !classify(*a).is_private()));
    let mut msg = cx.t(
        format!("private endpoint DNS mismatch: {}", lines.join("; ")),
        format!(
            "プライベート エンドポイントの DNS が一致しません: {}",
            lines.join("; ")
        ),
    );
    if public_seen && public_disabled {
        msg = cx.t(
            format!("{msg}; public network access is disabled, so a public answer cannot work"),
            format!("{msg}。パブリック ネットワーク アクセスが無効なため、パブリック アドレスでは接続できません"),
        );
    }
    let f = RawFinding::new(Code::PRIVATE_ENDPOINT_DNS_ERROR, msg.clone())
        .evidence("mappings", table.to_vec())
        .evidence("vnet", vnet.to_string())
        .step(cx.t(
            format!("Link the privatelink.azurecr.io private DNS zone to VNet {vnet} and make sure it has A records for each name above with the expected address; a custom DNS server must forward azurecr.io to Azure DNS (168.63.129.16)."),
            format!("privatelink.azurecr.io プライベート DNS ゾーンを VNet {vnet} にリンクし、上記の各名前に期待されるアドレスの A レコードがあることを確認してください。カスタム DNS サーバーは azurecr.io を Azure DNS (168.63.129.16) に転送する必要があります。"),
        ));
    Outcome::fail(msg, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn mapping_comparison() {
        let row = |expected: &[&str], actual: &[&str]| MappingCheck {
            fqdn: "reg.azurecr.io".into(),
            expected: expected.iter().map(|s| ip(s)).collect(),
            actual: actual.iter().map(|s| ip(s)).collect(),
            error: None,
            pinned: false,
        };
        assert!(row(&["10.0.0.5"], &["10.0.0.5"]).ok());
        assert!(!row(&["10.0.0.5"], &["10.0.0.9"]).ok());
        assert!(!row(&["10.0.0.5"], &["20.1.2.3"]).ok());
        assert!(!row(&["10.0.0.5"], &[]).ok());
        assert!(!row(&["10.0.0.5"], &["10.0.0.5", "20.1.2.3"]).ok());
    }
}
