//! `network.tls`: a real handshake with the trust acr-doctor (and docker) would use.

use futures::future::BoxFuture;

use crate::catalogue::Code;
use crate::checks::LoginServer;
use crate::checks::{Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::finding::RawFinding;
use crate::net::proxy::proxy_for;
use crate::net::tcp::ConnectFailure;
use crate::net::tls::{probe_tls, CertInfo, TlsFault, TlsProbeError, TlsSession};

fn connect_failure_outcome(cx: &CheckCx<'_>, url: &str, failure: &ConnectFailure) -> Outcome {
    match failure {
        ConnectFailure::Proxy {
            proxy,
            status,
            detail,
        } => {
            let msg = cx.t(
                format!("the proxy {proxy} refused the tunnel to {url}: {detail}"),
                format!("プロキシ {proxy} が {url} へのトンネルを拒否しました: {detail}"),
            );
            let mut f = RawFinding::new(Code::CLIENT_PROXY_ERROR, msg.clone())
                .evidence("proxy", proxy.clone())
                .evidence("target", url.to_string())
                .evidence("detail", detail.clone());
            if let Some(s) = status {
                f = f.evidence("proxy_status", *s);
                if *s == 407 {
                    f = f.step(cx.t(
                        "The proxy wants credentials (407): put them in HTTPS_PROXY (http://user:password@proxy:port) or ask for an exemption.",
                        "プロキシが資格情報を要求しています (407)。HTTPS_PROXY (http://user:password@proxy:port) に設定するか、除外を依頼してください。",
                    ));
                }
            }
            Outcome::fail(msg, f)
        }
        ConnectFailure::Tcp { target, detail } => {
            let msg = cx.t(
                format!("TCP connection to {target} for {url} failed: {detail} (layer: TCP, before TLS)"),
                format!("{url} のための {target} への TCP 接続に失敗しました: {detail} (層: TCP、TLS の前)"),
            );
            Outcome::fail(
                msg.clone(),
                RawFinding::new(Code::CONNECTIVITY_CHALLENGE_ERROR, msg)
                    .evidence("layer", "tcp")
                    .evidence("target", target.clone())
                    .evidence("detail", detail.clone()),
            )
        }
        ConnectFailure::Timeout { target, after } => {
            let msg = cx.t(
                format!("no TCP connection to {target} for {url} within {:.1} s (layer: TCP; a firewall may drop the packets)", after.as_secs_f64()),
                format!("{url} のための {target} への TCP 接続が {:.1} 秒以内に確立しませんでした (層: TCP。ファイアウォールがパケットを破棄している可能性があります)", after.as_secs_f64()),
            );
            Outcome::fail(
                msg.clone(),
                RawFinding::new(Code::CONNECTIVITY_CHALLENGE_ERROR, msg)
                    .evidence("layer", "tcp")
                    .evidence("target", target.clone())
                    .evidence("timeout_s", after.as_secs_f64()),
            )
        }
    }
}

/// `network.tls`: a real handshake with the trust acr-doctor (and docker) would use.
pub struct TlsCheck;

impl Check for TlsCheck {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new("network.tls", Group::Registry, "TLS", "TLS")
            .needs(&[Fact::LoginServer, Fact::Dns])
            .provides(&[Fact::Tls]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let (ls, addresses) = {
                let f = cx.facts();
                (f.login_server.clone(), f.addresses.clone())
            };
            let Some(ls) = ls else {
                return Outcome::skip(cx.t("no login server", "ログイン サーバーがありません"));
            };
            let port = ls.port_or_default();
            let target = format!("{}:{port}", ls.host);
            if ls.scheme == "http" {
                return Outcome::info(cx.t(
                    format!("{target}: plain HTTP to a loopback address, no TLS"),
                    format!("{target}: ループバック アドレスへの平文 HTTP のため TLS はありません"),
                ));
            }
            let addresses = match cx.ctx.pinned(&ls.host, port) {
                Some(a) => vec![a],
                None => addresses,
            };
            let proxy = proxy_for(cx.ctx, &ls.host);
            let proxy_note = proxy.as_ref().map(|p| p.display.clone());
            match probe_tls(cx.ctx, &ls.host, port, &addresses).await {
                Ok(session) => handshake_done(cx, &target, session, proxy_note),
                Err(TlsProbeError::Connect(failure)) => {
                    connect_failure_outcome(cx, &format!("https://{target}"), &failure)
                }
                Err(TlsProbeError::Handshake { peer, fault, chain }) => {
                    handshake_failed(cx, &ls, &target, peer, fault, chain, proxy_note)
                }
            }
        })
    }
}

/// A finished handshake: the peer, the TLS version, and the leaf certificate's issuer and the
/// days it has left.
fn handshake_done(
    cx: &CheckCx<'_>,
    target: &str,
    session: TlsSession,
    proxy_note: Option<String>,
) -> Outcome {
    let now = cx.ctx.clock.unix();
    let leaf = session.chain.first();
    let mut msg = cx.t(
        format!("{target} via {}: {}", session.peer, session.version),
        format!("{target} ({} 経由): {}", session.peer, session.version),
    );
    if let Some(leaf) = leaf {
        let days = leaf.days_left(now);
        msg = cx.t(
            format!(
                "{msg}, certificate issued by {}, valid {days} more days",
                leaf.issuer_name()
            ),
            format!(
                "{msg}、発行者 {}、証明書の残り有効期間 {days} 日",
                leaf.issuer_name()
            ),
        );
    }
    let mut out = Outcome::pass(msg)
        .evidence("peer", session.peer.clone())
        .evidence("version", session.version.clone())
        .evidence("ms", session.elapsed.as_millis() as u64);
    if let Some(leaf) = leaf {
        out = out
            .evidence("certificate", leaf.evidence())
            .evidence("days_left", leaf.days_left(now));
    }
    if let Some(p) = proxy_note {
        out = out.evidence("proxy", p);
    }
    out
}

/// A failed handshake: what went wrong, the certificate the server presented and, for an
/// unknown issuer, what to do about a TLS-intercepting proxy.
fn handshake_failed(
    cx: &CheckCx<'_>,
    ls: &LoginServer,
    target: &str,
    peer: String,
    fault: TlsFault,
    chain: Vec<CertInfo>,
    proxy_note: Option<String>,
) -> Outcome {
    let leaf = chain.first();
    let issuer = leaf
        .map(|l| l.issuer_name().to_string())
        .unwrap_or_default();
    let now = cx.ctx.clock.unix();
    let via_proxy = proxy_note
        .as_ref()
        .map(|p| {
            cx.t(
                format!(" (through the proxy {p})"),
                format!(" (プロキシ {p} 経由)"),
            )
        })
        .unwrap_or_default();
    let (what_en, what_ja, kind) = fault_words(cx, ls, &fault, leaf, &issuer, now);
    let msg = cx.t(
        format!("TLS to {target} via {peer}{via_proxy}: {what_en}"),
        format!("{peer}{via_proxy} 経由の {target} への TLS: {what_ja}"),
    );
    let mut f = RawFinding::new(Code::CONNECTIVITY_SSL_ERROR, msg.clone())
        .evidence("fault", kind)
        .evidence("peer", peer.clone());
    if let Some(leaf) = leaf {
        f = f.evidence("certificate", leaf.evidence());
    }
    if chain.len() > 1 {
        f = f.evidence(
            "chain",
            chain.iter().map(|c| c.subject.clone()).collect::<Vec<_>>(),
        );
    }
    if !cx.ctx.extra_roots.is_empty() {
        f = f.evidence("extra_roots", cx.ctx.extra_roots.clone());
    }
    if let Some(p) = &proxy_note {
        f = f.evidence("proxy", p.clone());
    }
    if fault == TlsFault::UnknownIssuer {
        f = f.step(cx.t(
            format!("If {issuer:?} is your organisation's proxy, add its root certificate to the system store (or pass it with --ca-file / SSL_CERT_FILE), and to the Docker daemon's trust; otherwise ask why traffic to the registry is intercepted."),
            format!("{issuer:?} が組織のプロキシであれば、そのルート証明書をシステムの証明書ストアに追加し (または --ca-file / SSL_CERT_FILE で指定し)、Docker デーモンにも信頼させてください。そうでなければ、レジストリへの通信が傍受される理由を確認してください。"),
        ));
    }
    Outcome::fail(msg, f)
}

/// What went wrong in a handshake, in English and in Japanese, and its `fault` evidence.
fn fault_words(
    cx: &CheckCx<'_>,
    ls: &LoginServer,
    fault: &TlsFault,
    leaf: Option<&CertInfo>,
    issuer: &str,
    now: i64,
) -> (String, String, &'static str) {
    match fault {
        TlsFault::UnknownIssuer => (
            format!("the certificate is issued by {issuer:?}, which this machine does not trust; a TLS-intercepting proxy or security product is the usual reason"),
            format!("証明書の発行者 {issuer:?} はこのマシンで信頼されていません。通常は TLS を中継・検査するプロキシやセキュリティ製品が原因です"),
            "untrusted_issuer",
        ),
        TlsFault::NameMismatch => (
            format!("the certificate is not valid for {} (it names: {})", ls.host, leaf.map(|l| l.sans.join(", ")).unwrap_or_default()),
            format!("証明書は {} に対して有効ではありません (記載名: {})", ls.host, leaf.map(|l| l.sans.join(", ")).unwrap_or_default()),
            "name_mismatch",
        ),
        TlsFault::Expired => {
            let days = leaf.map(|l| -l.days_left(now)).unwrap_or(0);
            (
                format!("the certificate expired {days} days ago"),
                format!("証明書は {days} 日前に期限切れになっています"),
                "expired",
            )
        }
        TlsFault::NotYetValid => (
            "the certificate is not valid yet (check this machine's clock)".to_string(),
            "証明書はまだ有効期間前です (このマシンの時計を確認してください)".to_string(),
            "not_yet_valid",
        ),
        TlsFault::OtherCertificate(d) => (
            format!("the certificate was rejected: {d}"),
            format!("証明書が拒否されました: {d}"),
            "certificate",
        ),
        TlsFault::Alert(a) => (
            format!("the other side ended the handshake with an alert ({a})"),
            format!("相手側がアラート ({a}) でハンドシェイクを終了しました"),
            "alert",
        ),
        TlsFault::CutOff(d) => (
            format!("the handshake was cut off ({d}); a proxy or firewall that blocks TLS is the usual reason"),
            format!("ハンドシェイクが途中で切断されました ({d})。通常は TLS を遮断するプロキシやファイアウォールが原因です"),
            "cut_off",
        ),
        TlsFault::Timeout => (
            format!("no handshake within {:.1} s", cx.ctx.timeout.as_secs_f64()),
            format!("{:.1} 秒以内にハンドシェイクが完了しませんでした", cx.ctx.timeout.as_secs_f64()),
            "timeout",
        ),
        TlsFault::Other(d) => (
            format!("the handshake failed: {d}"),
            format!("ハンドシェイクに失敗しました: {d}"),
            "other",
        ),
    }
}
