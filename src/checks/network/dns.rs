//! `network.dns`: the login server's name and addresses.

use futures::future::BoxFuture;
use serde_json::{json, Value};

use crate::catalogue::Code;
use crate::checks::{Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::finding::RawFinding;
use crate::net::addr::classify;
use crate::net::dns::{resolve, DnsFailure, Resolved};

fn resolved_evidence(r: &Resolved) -> Value {
    json!({
        "host": r.host,
        "cname_chain": r.chain,
        "addresses": r.addresses.iter().map(|a| json!({"address": a.to_string(), "kind": classify(*a).label()})).collect::<Vec<_>>(),
        "via": r.via,
        "pinned": r.pinned,
        "privatelink": r.through_privatelink(),
        "ms": r.elapsed.as_millis() as u64,
    })
}

/// `network.dns`: the login server's name and addresses.
pub struct DnsCheck;

impl Check for DnsCheck {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new("network.dns", Group::Registry, "DNS", "DNS")
            .needs(&[Fact::LoginServer])
            .provides(&[Fact::Dns]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(ls) = cx.facts().login_server.clone() else {
                return Outcome::skip(cx.t("no login server", "ログイン サーバーがありません"));
            };
            match resolve(cx.ctx, &ls.host, ls.port_or_default()).await {
                Ok(r) => {
                    cx.facts().addresses = r.addresses.clone();
                    let mut msg = format!("{} ({} ms)", r.describe(), r.elapsed.as_millis());
                    if r.pinned {
                        msg = cx.t(
                            format!("{msg}, pinned by --resolve"),
                            format!("{msg}、--resolve で固定"),
                        );
                    } else if r.through_privatelink() {
                        msg = cx.t(
                            format!("{msg}, through privatelink.azurecr.io"),
                            format!("{msg}、privatelink.azurecr.io 経由"),
                        );
                    }
                    Outcome::pass(msg).evidence("dns", resolved_evidence(&r))
                }
                Err(failure) => {
                    let cloud = cx.cloud();
                    let msg = cx.t(
                        format!(
                            "{}: {} (asked {})",
                            ls.host,
                            failure.summary(cx.lang),
                            failure.via()
                        ),
                        format!(
                            "{}: {} (問い合わせ先 {})",
                            ls.host,
                            failure.summary(cx.lang),
                            failure.via()
                        ),
                    );
                    let mut finding = RawFinding::new(Code::CONNECTIVITY_DNS_ERROR, msg.clone())
                        .evidence("host", ls.host.clone())
                        .evidence("resolver", failure.via().to_string())
                        .evidence("cloud", cloud.name());
                    match &failure {
                        DnsFailure::NxDomain { .. } | DnsFailure::NoAddress { .. } => {
                            finding = finding
                                .step(cx.t(
                                    format!("Check the spelling: the registry's login server is its resource name plus {} in the {} cloud.", cloud.acr_suffix(), cloud.name()),
                                    format!("綴りを確認してください。{} クラウドのログイン サーバーはリソース名 + {} です。", cloud.name(), cloud.acr_suffix()),
                                ))
                                .step(cx.t(
                                    "The registry may have been deleted or never created: `az acr show --name <name>` tells.",
                                    "レジストリが削除された、または作成されていない可能性があります。`az acr show --name <名前>` で確認できます。",
                                ))
                                .step(cx.t(
                                    "A registry in Azure China or Azure Government needs --cloud AzureChinaCloud / AzureUSGovernment (or `az cloud set`).",
                                    "Azure China または Azure Government のレジストリには --cloud AzureChinaCloud / AzureUSGovernment (または `az cloud set`) が必要です。",
                                ));
                        }
                        _ => {
                            finding = finding.step(cx.t(
                                format!("The DNS server ({}) did not give an answer: check this machine's DNS settings and network.", failure.via()),
                                format!("DNS サーバー ({}) から回答がありません。このマシンの DNS 設定とネットワークを確認してください。", failure.via()),
                            ));
                        }
                    }
                    Outcome::fail(msg, finding)
                }
            }
        })
    }
}
