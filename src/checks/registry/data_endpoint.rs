//! `registry.data_endpoint`: the hosts that serve layers must resolve and accept TLS too.

use futures::future::BoxFuture;
use serde_json::Value;

use crate::catalogue::Code;
use crate::checks::{evidence_of, Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::finding::RawFinding;
use crate::net::addr::addr_list;
use crate::net::dns::resolve;
use crate::net::tcp::ConnectFailure;
use crate::net::tls::{probe_tls, TlsProbeError};
use crate::report::CheckStatus;

/// `registry.data_endpoint`: the hosts that serve layers must resolve and accept TLS too.
pub struct DataEndpointCheck;

impl Check for DataEndpointCheck {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "registry.data_endpoint",
            Group::Registry,
            "data endpoint",
            "データ エンドポイント",
        )
        .needs(&[Fact::LoginServer, Fact::Tls])
        .uses(&[Fact::ArmRegistry])
        // With --repository, the layer download that auth.repository followed.
        .consults(&[Fact::Permissions]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let from_arm = arm_data_endpoints(cx).await;
            if cx.args.repository.is_none() {
                return from_arm;
            }
            cx.await_fact(Fact::Permissions).await;
            let layer = cx.facts().layer_download.as_ref().map(evidence_of);
            match layer {
                Some(layer) => with_layer_download(cx, from_arm, &layer).await,
                None => from_arm,
            }
        })
    }
}

/// Why an endpoint cannot be reached: the layer (`dns`, `tcp`, `proxy`, `tls`) and the detail.
struct Unreachable {
    layer: &'static str,
    detail: String,
    addresses: Vec<String>,
}

impl Unreachable {
    fn message(&self, cx: &CheckCx<'_>, host: &str, what_en: &str, what_ja: &str) -> String {
        let (layer, detail) = (self.layer, &self.detail);
        cx.t(
            format!("{what_en} {host} cannot be reached at the {layer} layer ({detail}): login can work while pulls fail"),
            format!("{what_ja} {host} に {layer} 層で到達できません ({detail})。ログインできてもプルは失敗します"),
        )
    }
    fn finding(&self, msg: String) -> RawFinding {
        RawFinding::new(Code::DATA_ENDPOINT_UNREACHABLE, msg)
            .evidence("layer", self.layer)
            .evidence("addresses", self.addresses.clone())
    }
}

/// Resolves `host` and completes a TLS handshake with it: a line for the report, or why not.
async fn reach(cx: &CheckCx<'_>, host: &str, port: u16) -> Result<String, Unreachable> {
    let r = resolve(cx.ctx, host, port).await.map_err(|e| Unreachable {
        layer: "dns",
        detail: format!("{} (asked {})", e.summary(cx.lang), e.via()),
        addresses: Vec::new(),
    })?;
    let addresses: Vec<String> = r.addresses.iter().map(|a| a.to_string()).collect();
    match probe_tls(cx.ctx, host, port, &r.addresses).await {
        Ok(s) => Ok(format!(
            "{host} → {} ({}, {} ms)",
            addr_list(&r.addresses),
            s.version,
            s.elapsed.as_millis()
        )),
        Err(err) => {
            let (layer, detail) = match &err {
                TlsProbeError::Connect(ConnectFailure::Tcp { target, detail }) => {
                    ("tcp", format!("{target}: {detail}"))
                }
                TlsProbeError::Connect(ConnectFailure::Timeout { target, after }) => (
                    "tcp",
                    format!(
                        "{target}: no connection within {:.1} s",
                        after.as_secs_f64()
                    ),
                ),
                TlsProbeError::Connect(ConnectFailure::Proxy { proxy, detail, .. }) => {
                    ("proxy", format!("{proxy}: {detail}"))
                }
                TlsProbeError::Handshake { peer, fault, .. } => {
                    ("tls", format!("{peer}: {fault:?}"))
                }
            };
            Err(Unreachable {
                layer,
                detail,
                addresses,
            })
        }
    }
}

/// Adds what one real layer download showed: where the login server sent it, and whether that
/// host can be reached from here.
async fn with_layer_download(cx: &CheckCx<'_>, from_arm: Outcome, layer: &Value) -> Outcome {
    let s = |k: &str| {
        layer
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (repo, tag, blob) = (s("repository"), s("tag"), s("blob"));
    let short: String = blob.chars().take(19).collect();
    let Some(host) = layer.get("redirect_host").and_then(Value::as_str) else {
        let status = layer.get("status").and_then(Value::as_u64).unwrap_or(0);
        let note = if matches!(status, 200 | 206) {
            cx.t(
                format!("a layer of {repo}:{tag} ({short}…) is served by the login server itself"),
                format!(
                    "{repo}:{tag} のレイヤー ({short}…) はログイン サーバー自身が配信しています"
                ),
            )
        } else {
            cx.t(
                format!("a layer download of {repo}:{tag} answered {status}"),
                format!("{repo}:{tag} のレイヤー取得は {status} を返しました"),
            )
        };
        return append(from_arm, note, layer);
    };
    let port = layer
        .get("redirect_port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(443);
    let target = if port == 443 {
        host.to_string()
    } else {
        format!("{host}:{port}")
    };
    match reach(cx, host, port).await {
        Ok(line) => {
            let note = cx.t(
                format!("a layer download of {repo}:{tag} ({short}…) is redirected to {target}, reachable: {line}"),
                format!("{repo}:{tag} のレイヤー取得 ({short}…) は {target} にリダイレクトされ、到達できます: {line}"),
            );
            append(from_arm, note, layer)
        }
        Err(u) => {
            let msg = u.message(
                cx,
                &target,
                &format!("the host a layer download of {repo}:{tag} is redirected to,"),
                &format!("{repo}:{tag} のレイヤー取得のリダイレクト先"),
            );
            let finding = u
                .finding(msg.clone())
                .evidence("host", host.to_string())
                .evidence("redirected_from", format!("GET /v2/{repo}/blobs/{blob}"));
            let mut out = if from_arm.status == CheckStatus::Fail {
                from_arm.finding(finding)
            } else {
                let mut o = Outcome::fail(msg, finding);
                o.evidence.extend(from_arm.evidence);
                o
            };
            out.evidence.insert("layer_download".into(), layer.clone());
            out
        }
    }
}

/// `from_arm` with `note` added to its message (a skip or info becomes a pass: the download
/// itself is the evidence).
fn append(mut from_arm: Outcome, note: String, layer: &Value) -> Outcome {
    if matches!(from_arm.status, CheckStatus::Skip | CheckStatus::Info) {
        let message = if from_arm.status == CheckStatus::Info {
            format!("{}; {note}", from_arm.message)
        } else {
            note
        };
        let mut o = Outcome::pass(message);
        o.evidence.extend(from_arm.evidence);
        o.evidence.insert("layer_download".into(), layer.clone());
        return o;
    }
    from_arm.message = format!("{}; {note}", from_arm.message);
    from_arm
        .evidence
        .insert("layer_download".into(), layer.clone());
    from_arm
}

/// The registry's dedicated data endpoints, from its ARM settings, resolved and reached.
async fn arm_data_endpoints(cx: &CheckCx<'_>) -> Outcome {
    let (ls, reg) = {
        let f = cx.facts();
        (f.login_server.clone(), f.arm_registry.clone())
    };
    let (Some(ls), Some(reg)) = (ls, reg) else {
        return Outcome::skip(cx.t(
            "the registry's settings (ARM) are not available, so its data endpoints are unknown",
            "レジストリ設定 (ARM) がないため、データ エンドポイントは不明です",
        ));
    };
    let mut notes = Vec::new();
    if let Some(arm_login) = reg.property("loginServer").and_then(Value::as_str) {
        if !arm_login.eq_ignore_ascii_case(&ls.host) {
            notes.push(cx.t(
                format!(
                    "ARM names the login server {arm_login}, this run uses {}",
                    ls.host
                ),
                format!(
                    "ARM のログイン サーバーは {arm_login}、この実行では {} を使用しています",
                    ls.host
                ),
            ));
        }
    }
    let enabled = reg
        .property("dataEndpointEnabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let hosts: Vec<String> = reg
        .property("dataEndpointHostNames")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default();
    if !enabled || hosts.is_empty() {
        let mut msg = cx.t(
            "no dedicated data endpoint: layers are served through the login server's storage redirects",
            "専用データ エンドポイントはありません。レイヤーはログイン サーバーのストレージ リダイレクト経由で配信されます",
        );
        if !notes.is_empty() {
            msg = format!("{msg}; {}", notes.join("; "));
        }
        return Outcome::info(msg).evidence("data_endpoint_enabled", enabled);
    }
    let mut ok = Vec::new();
    for host in &hosts {
        match reach(cx, host, 443).await {
            Ok(line) => ok.push(line),
            Err(u) => {
                let msg = u.message(cx, host, "data endpoint", "データ エンドポイント");
                return Outcome::fail(
                    msg.clone(),
                    u.finding(msg).evidence("data_endpoints", hosts.clone()),
                );
            }
        }
    }
    let mut msg = ok.join("; ");
    if !notes.is_empty() {
        msg = format!("{msg}; {}", notes.join("; "));
    }
    Outcome::pass(msg).evidence("data_endpoints", hosts)
}
