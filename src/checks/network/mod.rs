//! DNS, private endpoints, TLS, the challenge and the data endpoint.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Challenge, Check, CheckCx, Fact, Group, LoginServer, Meta, Outcome};
use crate::cli::CheckArgs;
use crate::context::Context;
use crate::finding::{RawFinding, Severity};
use crate::http::HttpError;
use crate::lang::Lang;
use crate::protocol::challenge::{self as chal, AuthChallenge};
use crate::report::CheckStatus;

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(DnsCheck),
        Box::new(PrivateEndpointCheck),
        Box::new(TlsCheck),
        Box::new(ChallengeCheck),
        Box::new(DataEndpointCheck),
    ]
}

// ---------------------------------------------------------------------------------------------
// Addresses

/// What kind of network an address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrKind {
    Public,
    /// RFC 1918
    Private,
    Loopback,
    LinkLocal,
    /// RFC 6598 shared address space (100.64.0.0/10)
    Cgnat,
    /// IPv6 unique local (fc00::/7)
    UniqueLocal,
    Unspecified,
}

impl AddrKind {
    pub fn label(self) -> &'static str {
        match self {
            AddrKind::Public => "public",
            AddrKind::Private => "private",
            AddrKind::Loopback => "loopback",
            AddrKind::LinkLocal => "link-local",
            AddrKind::Cgnat => "CGNAT",
            AddrKind::UniqueLocal => "unique local",
            AddrKind::Unspecified => "unspecified",
        }
    }

    /// Not reachable from the internet: private endpoints answer with such addresses.
    pub fn is_private(self) -> bool {
        !matches!(self, AddrKind::Public)
    }
}

/// Classifies an address (IPv4-mapped IPv6 addresses as their IPv4 address).
pub fn classify(ip: IpAddr) -> AddrKind {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_unspecified() {
                AddrKind::Unspecified
            } else if v4.is_loopback() {
                AddrKind::Loopback
            } else if v4.is_private() {
                AddrKind::Private
            } else if v4.is_link_local() {
                AddrKind::LinkLocal
            } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
                AddrKind::Cgnat
            } else {
                AddrKind::Public
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_unspecified() {
                AddrKind::Unspecified
            } else if v6.is_loopback() {
                AddrKind::Loopback
            } else if (first & 0xfe00) == 0xfc00 {
                AddrKind::UniqueLocal
            } else if (first & 0xffc0) == 0xfe80 {
                AddrKind::LinkLocal
            } else {
                AddrKind::Public
            }
        }
    }
}

fn addr_list(addrs: &[IpAddr]) -> String {
    addrs
        .iter()
        .map(|a| format!("{a} ({})", classify(*a).label()))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------------
// DNS

/// A name resolved.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub host: String,
    /// CNAME targets in order (without the host itself).
    pub chain: Vec<String>,
    pub addresses: Vec<IpAddr>,
    pub elapsed: Duration,
    /// How: `--resolve`, the resolver's servers, `getaddrinfo`, ...
    pub via: String,
    pub pinned: bool,
}

impl Resolved {
    /// True when a name in the chain is in a `privatelink.azurecr.*` zone.
    pub fn through_privatelink(&self) -> bool {
        self.chain
            .iter()
            .any(|n| n.contains(".privatelink.azurecr.") || n.starts_with("privatelink.azurecr."))
    }

    /// `a → b → 1.2.3.4 (public)`.
    pub fn describe(&self) -> String {
        let mut parts = vec![self.host.clone()];
        parts.extend(self.chain.iter().cloned());
        parts.push(if self.addresses.is_empty() {
            "(no address)".to_string()
        } else {
            addr_list(&self.addresses)
        });
        parts.join(" → ")
    }
}

/// Why a name did not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsFailure {
    /// The name does not exist.
    NxDomain {
        via: String,
    },
    /// The name exists but has no address.
    NoAddress {
        via: String,
    },
    Timeout {
        via: String,
        after: Duration,
    },
    Other {
        via: String,
        detail: String,
    },
}

impl DnsFailure {
    pub fn via(&self) -> &str {
        match self {
            DnsFailure::NxDomain { via }
            | DnsFailure::NoAddress { via }
            | DnsFailure::Timeout { via, .. }
            | DnsFailure::Other { via, .. } => via,
        }
    }

    pub fn summary(&self, lang: Lang) -> String {
        match (self, lang) {
            (DnsFailure::NxDomain { .. }, Lang::En) => "the name does not exist (NXDOMAIN)".into(),
            (DnsFailure::NxDomain { .. }, Lang::Ja) => "名前が存在しません (NXDOMAIN)".into(),
            (DnsFailure::NoAddress { .. }, Lang::En) => "the name exists but has no address".into(),
            (DnsFailure::NoAddress { .. }, Lang::Ja) => {
                "名前はありますがアドレスがありません".into()
            }
            (DnsFailure::Timeout { after, .. }, Lang::En) => {
                format!("no answer within {:.1} s", after.as_secs_f64())
            }
            (DnsFailure::Timeout { after, .. }, Lang::Ja) => {
                format!("{:.1} 秒以内に応答がありません", after.as_secs_f64())
            }
            (DnsFailure::Other { detail, .. }, Lang::En) => format!("lookup failed: {detail}"),
            (DnsFailure::Other { detail, .. }, Lang::Ja) => {
                format!("名前解決に失敗しました: {detail}")
            }
        }
    }
}

/// Names reserved by RFC 6761 that never need a DNS query.
fn special_name(host: &str) -> Option<Result<Vec<IpAddr>, ()>> {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if h == "invalid" || h.ends_with(".invalid") {
        return Some(Err(()));
    }
    if h == "localhost" || h.ends_with(".localhost") {
        return Some(Ok(vec![
            IpAddr::from([127, 0, 0, 1]),
            IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ]));
    }
    None
}

fn build_resolver(ctx: &Context) -> Option<(hickory_resolver::TokioResolver, String)> {
    use hickory_resolver::config::{
        LookupIpStrategy, NameServerConfigGroup, ResolveHosts, ResolverConfig,
    };
    use hickory_resolver::name_server::TokioConnectionProvider;
    let (config, mut opts, via) = if let Some(server) = ctx.env("ACR_DOCTOR_DNS_SERVER") {
        let addr: SocketAddr = server.parse().ok().or_else(|| {
            server
                .parse::<IpAddr>()
                .ok()
                .map(|ip| SocketAddr::new(ip, 53))
        })?;
        let group = NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true);
        let config = ResolverConfig::from_parts(None, vec![], group);
        let mut opts = hickory_resolver::config::ResolverOpts::default();
        opts.use_hosts_file = ResolveHosts::Never;
        (config, opts, format!("{addr} (ACR_DOCTOR_DNS_SERVER)"))
    } else {
        let (config, opts) = hickory_resolver::system_conf::read_system_conf().ok()?;
        let mut servers: Vec<String> = Vec::new();
        for ns in config.name_servers() {
            let s = ns.socket_addr.to_string();
            if !servers.contains(&s) {
                servers.push(s);
            }
        }
        if servers.is_empty() {
            return None;
        }
        (config, opts, servers.join(", "))
    };
    opts.timeout = ctx.timeout;
    opts.attempts = 1;
    opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    let resolver = hickory_resolver::TokioResolver::builder_with_config(
        config,
        TokioConnectionProvider::default(),
    )
    .with_options(opts)
    .build();
    Some((resolver, via))
}

/// Resolves `host` as acr-doctor's own connections will: --resolve first, then the system's DNS
/// configuration (never public resolvers), else getaddrinfo.
pub async fn resolve(ctx: &Context, host: &str, port: u16) -> Result<Resolved, DnsFailure> {
    let started = Instant::now();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let done = |addresses: Vec<IpAddr>, chain: Vec<String>, via: &str, pinned: bool| Resolved {
        host: host.clone(),
        chain,
        addresses,
        elapsed: started.elapsed(),
        via: via.to_string(),
        pinned,
    };
    if let Some(addr) = ctx.pinned(&host, port) {
        return Ok(done(vec![addr], vec![], "--resolve", true));
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(done(vec![ip], vec![], "IP address (no lookup)", false));
    }
    match special_name(&host) {
        Some(Ok(addrs)) => return Ok(done(addrs, vec![], "RFC 6761 (localhost)", false)),
        Some(Err(())) => {
            return Err(DnsFailure::NxDomain {
                via: "RFC 6761 (.invalid never exists)".into(),
            })
        }
        None => {}
    }
    let bound = ctx.timeout + Duration::from_millis(500);
    let Some((resolver, via)) = build_resolver(ctx) else {
        // The system configuration cannot be read: ask the operating system.
        let via = "getaddrinfo".to_string();
        return match tokio::time::timeout(bound, tokio::net::lookup_host((host.as_str(), port)))
            .await
        {
            Err(_) => Err(DnsFailure::Timeout { via, after: bound }),
            Ok(Err(e)) => {
                let text = e.to_string();
                let lower = text.to_ascii_lowercase();
                if lower.contains("not known") || lower.contains("no such host") {
                    Err(DnsFailure::NxDomain { via })
                } else {
                    Err(DnsFailure::Other { via, detail: text })
                }
            }
            Ok(Ok(addrs)) => {
                let mut list: Vec<IpAddr> = Vec::new();
                for a in addrs {
                    if !list.contains(&a.ip()) {
                        list.push(a.ip());
                    }
                }
                ctx.trace.push(format!(
                    "dns {host} via getaddrinfo -> {} ({} ms)",
                    addr_list(&list),
                    started.elapsed().as_millis()
                ));
                Ok(done(list, vec![], &via, false))
            }
        };
    };
    let fqdn = format!("{host}.");
    let result = tokio::time::timeout(bound, resolver.lookup_ip(fqdn.as_str())).await;
    match result {
        Err(_) => {
            ctx.trace
                .push(format!("dns {host} via {via} -> timeout after {bound:?}"));
            Err(DnsFailure::Timeout { via, after: bound })
        }
        Ok(Err(e)) => {
            ctx.trace.push(format!("dns {host} via {via} -> {e}"));
            if e.is_nx_domain() {
                Err(DnsFailure::NxDomain { via })
            } else if e.is_no_records_found() {
                Err(DnsFailure::NoAddress { via })
            } else if e.to_string().to_ascii_lowercase().contains("timed out") {
                Err(DnsFailure::Timeout { via, after: bound })
            } else {
                Err(DnsFailure::Other {
                    via,
                    detail: e.to_string(),
                })
            }
        }
        Ok(Ok(lookup)) => {
            use hickory_resolver::proto::rr::RData;
            let mut chain = Vec::new();
            let mut addresses = Vec::new();
            for record in lookup.as_lookup().records() {
                match record.data() {
                    RData::CNAME(c) => {
                        let target = c.0.to_ascii().trim_end_matches('.').to_ascii_lowercase();
                        if !chain.contains(&target) {
                            chain.push(target);
                        }
                    }
                    RData::A(a) => {
                        let ip = IpAddr::V4(a.0);
                        if !addresses.contains(&ip) {
                            addresses.push(ip);
                        }
                    }
                    RData::AAAA(a) => {
                        let ip = IpAddr::V6(a.0);
                        if !addresses.contains(&ip) {
                            addresses.push(ip);
                        }
                    }
                    _ => {}
                }
            }
            let resolved = done(addresses, chain, &via, false);
            ctx.trace.push(format!(
                "dns {} via {via} ({} ms)",
                resolved.describe(),
                resolved.elapsed.as_millis()
            ));
            if resolved.addresses.is_empty() {
                return Err(DnsFailure::NoAddress { via });
            }
            Ok(resolved)
        }
    }
}

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
                    cx.facts()
                        .extra
                        .insert("dns.login_server".into(), resolved_evidence(&r));
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
                    let cloud = crate::checks::cloud(cx);
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
                    let mut finding = RawFinding::new("CONNECTIVITY_DNS_ERROR", msg.clone())
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

// ---------------------------------------------------------------------------------------------
// Proxy

/// The HTTPS proxy this machine's tools would use for `host`, from HTTPS_PROXY / ALL_PROXY
/// and NO_PROXY (the same variables `ctx.http()` applies).
#[derive(Debug, Clone)]
pub struct ProxyChoice {
    pub url: url::Url,
    /// The URL without credentials, for messages.
    pub display: String,
}

fn env_first(ctx: &Context, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| ctx.env(n).map(str::to_string))
}

/// True when NO_PROXY exempts `host` (`*`, exact names, `.suffix` or `suffix` domains, IPs, CIDRs).
pub fn no_proxy_matches(no_proxy: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let ip = host.parse::<IpAddr>().ok();
    no_proxy.split(',').map(str::trim).any(|entry| {
        if entry.is_empty() {
            return false;
        }
        if entry == "*" {
            return true;
        }
        let entry = entry.to_ascii_lowercase();
        if let Some(ip) = ip {
            if let Ok(net) = entry.parse::<ipnet::IpNet>() {
                return net.contains(&ip);
            }
            return entry.parse::<IpAddr>().is_ok_and(|e| e == ip);
        }
        // Drop a port, if any (`host:443`).
        let name = match entry.rsplit_once(':') {
            Some((n, p)) if p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => entry.as_str(),
        };
        let name = name.trim_start_matches("*.").trim_start_matches('.');
        host == name || host.ends_with(&format!(".{name}"))
    })
}

/// The proxy for an HTTPS connection to `host`, if one is configured and not bypassed.
pub fn proxy_for(ctx: &Context, host: &str) -> Option<ProxyChoice> {
    let raw = env_first(
        ctx,
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"],
    )?;
    if let Some(no) = env_first(ctx, &["NO_PROXY", "no_proxy"]) {
        if no_proxy_matches(&no, host) {
            return None;
        }
    }
    let with_scheme = if raw.contains("://") {
        raw.clone()
    } else {
        format!("http://{raw}")
    };
    let url = url::Url::parse(&with_scheme).ok()?;
    if let Some(pw) = url.password() {
        ctx.redactor.register(pw);
    }
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    Some(ProxyChoice {
        display: shown.to_string().trim_end_matches('/').to_string(),
        url,
    })
}

// ---------------------------------------------------------------------------------------------
// TCP and TLS

/// Why no byte stream to the server could be opened.
#[derive(Debug, Clone)]
pub enum ConnectFailure {
    Tcp {
        target: String,
        detail: String,
    },
    Timeout {
        target: String,
        after: Duration,
    },
    /// The proxy refused or broke the CONNECT.
    Proxy {
        proxy: String,
        status: Option<u16>,
        detail: String,
    },
}

async fn tcp_connect(ctx: &Context, addr: SocketAddr) -> Result<TcpStream, ConnectFailure> {
    let started = Instant::now();
    match tokio::time::timeout(ctx.timeout, TcpStream::connect(addr)).await {
        Err(_) => {
            ctx.trace
                .push(format!("tcp {addr} -> timeout after {:?}", ctx.timeout));
            Err(ConnectFailure::Timeout {
                target: addr.to_string(),
                after: ctx.timeout,
            })
        }
        Ok(Err(e)) => {
            ctx.trace.push(format!("tcp {addr} -> {e}"));
            Err(ConnectFailure::Tcp {
                target: addr.to_string(),
                detail: e.to_string(),
            })
        }
        Ok(Ok(s)) => {
            ctx.trace.push(format!(
                "tcp {addr} -> connected ({} ms)",
                started.elapsed().as_millis()
            ));
            Ok(s)
        }
    }
}

/// Opens a tunnel through an HTTP proxy with `CONNECT host:port`.
async fn proxy_connect(
    ctx: &Context,
    proxy: &ProxyChoice,
    host: &str,
    port: u16,
) -> Result<TcpStream, ConnectFailure> {
    let fail = |status: Option<u16>, detail: String| ConnectFailure::Proxy {
        proxy: proxy.display.clone(),
        status,
        detail,
    };
    if proxy.url.scheme() != "http" {
        return Err(fail(
            None,
            format!(
                "proxy scheme {}:// is not supported by this probe",
                proxy.url.scheme()
            ),
        ));
    }
    let phost = proxy.url.host_str().unwrap_or("").to_string();
    let pport = proxy.url.port_or_known_default().unwrap_or(80);
    let paddr = match resolve(ctx, &phost, pport).await {
        Ok(r) => match r.addresses.first() {
            Some(a) => SocketAddr::new(*a, pport),
            None => return Err(fail(None, format!("proxy host {phost} has no address"))),
        },
        Err(e) => {
            return Err(fail(
                None,
                format!("proxy host {phost}: {}", e.summary(Lang::En)),
            ))
        }
    };
    let mut stream = match tcp_connect(ctx, paddr).await {
        Ok(s) => s,
        Err(ConnectFailure::Timeout { target, after }) => {
            return Err(fail(
                None,
                format!("no TCP connection to the proxy {target} within {after:?}"),
            ))
        }
        Err(ConnectFailure::Tcp { target, detail }) => {
            return Err(fail(None, format!("proxy {target}: {detail}")))
        }
        Err(other) => return Err(other),
    };
    let mut request = format!(
        "CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: acr-doctor\r\n"
    );
    if !proxy.url.username().is_empty() {
        use base64::Engine;
        let creds = format!(
            "{}:{}",
            proxy.url.username(),
            proxy.url.password().unwrap_or("")
        );
        let encoded = base64::engine::general_purpose::STANDARD.encode(creds);
        ctx.redactor.register(&encoded);
        request.push_str(&format!("Proxy-Authorization: Basic {encoded}\r\n"));
    }
    request.push_str("\r\n");
    let exchange = async {
        stream.write_all(request.as_bytes()).await?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>((buf, true));
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.len() > 16 * 1024 {
                return Ok((buf, false));
            }
        }
    };
    let (head, eof) = match tokio::time::timeout(ctx.timeout, exchange).await {
        Err(_) => {
            return Err(fail(
                None,
                format!("no answer to CONNECT within {:?}", ctx.timeout),
            ))
        }
        Ok(Err(e)) => return Err(fail(None, format!("proxyconnect tcp: {e}"))),
        Ok(Ok(x)) => x,
    };
    let text = String::from_utf8_lossy(&head).to_string();
    let status_line = text.lines().next().unwrap_or("").to_string();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok());
    ctx.trace.push(format!(
        "CONNECT {host}:{port} via {} -> {}",
        proxy.display,
        if status_line.is_empty() {
            "EOF"
        } else {
            &status_line
        }
    ));
    match status {
        Some(s) if (200..300).contains(&s) => Ok(stream),
        Some(s) => Err(fail(Some(s), status_line)),
        None if eof && head.is_empty() => Err(fail(None, "proxyconnect tcp: EOF".into())),
        None => Err(fail(None, format!("not an HTTP answer: {status_line:?}"))),
    }
}

/// A byte stream to `host:port`: through the proxy when one applies, else to the first of
/// `addresses` that accepts (at most three are tried).
async fn open_stream(
    ctx: &Context,
    host: &str,
    port: u16,
    addresses: &[IpAddr],
) -> Result<(TcpStream, String), ConnectFailure> {
    if let Some(proxy) = proxy_for(ctx, host) {
        let s = proxy_connect(ctx, &proxy, host, port).await?;
        return Ok((s, format!("proxy {}", proxy.display)));
    }
    let mut last = ConnectFailure::Tcp {
        target: format!("{host}:{port}"),
        detail: "no address".into(),
    };
    for addr in addresses.iter().take(3) {
        match tcp_connect(ctx, SocketAddr::new(*addr, port)).await {
            Ok(s) => return Ok((s, SocketAddr::new(*addr, port).to_string())),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The parts of a certificate a diagnosis shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub issuer_cn: Option<String>,
    pub sans: Vec<String>,
    pub not_before: i64,
    pub not_after: i64,
}

impl CertInfo {
    pub fn parse(der: &[u8]) -> Option<CertInfo> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let mut sans = Vec::new();
        if let Ok(Some(ext)) = cert.subject_alternative_name() {
            for name in &ext.value.general_names {
                match name {
                    x509_parser::extensions::GeneralName::DNSName(d) => sans.push(d.to_string()),
                    x509_parser::extensions::GeneralName::IPAddress(b) => {
                        let ip = match b.len() {
                            4 => <[u8; 4]>::try_from(*b).ok().map(IpAddr::from),
                            16 => <[u8; 16]>::try_from(*b).ok().map(IpAddr::from),
                            _ => None,
                        };
                        if let Some(ip) = ip {
                            sans.push(ip.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        let info = CertInfo {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            issuer_cn: cert
                .issuer()
                .iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok())
                .map(str::to_string),
            sans,
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
        };
        Some(info)
    }

    pub fn issuer_name(&self) -> &str {
        self.issuer_cn.as_deref().unwrap_or(&self.issuer)
    }

    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(86_400)
    }

    pub fn evidence(&self) -> Value {
        let fmt = |t: i64| {
            time::OffsetDateTime::from_unix_timestamp(t)
                .ok()
                .and_then(|d| {
                    d.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_else(|| t.to_string())
        };
        json!({
            "subject": self.subject,
            "issuer": self.issuer,
            "sans": self.sans,
            "not_before": fmt(self.not_before),
            "not_after": fmt(self.not_after),
        })
    }
}

/// Accepts any certificate and records the chain: used only to READ the certificate of a
/// failed handshake. Nothing is ever sent over a session it lets through.
#[derive(Debug)]
struct ChainRecorder {
    chain: Mutex<Vec<rustls_pki_types::CertificateDer<'static>>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for ChainRecorder {
    fn verify_server_cert(
        &self,
        end_entity: &rustls_pki_types::CertificateDer<'_>,
        intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if let Ok(mut chain) = self.chain.lock() {
            chain.push(end_entity.clone().into_owned());
            chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        }
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// What went wrong in a handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFault {
    UnknownIssuer,
    NameMismatch,
    Expired,
    NotYetValid,
    OtherCertificate(String),
    /// The server (or something in between) sent an alert.
    Alert(String),
    /// The connection was closed or reset during the handshake.
    CutOff(String),
    Timeout,
    Other(String),
}

impl TlsFault {
    fn from_io(e: &std::io::Error) -> TlsFault {
        use rustls::CertificateError as C;
        if let Some(r) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            return match r {
                rustls::Error::InvalidCertificate(c) => match c {
                    C::UnknownIssuer => TlsFault::UnknownIssuer,
                    C::NotValidForName | C::NotValidForNameContext { .. } => TlsFault::NameMismatch,
                    C::Expired | C::ExpiredContext { .. } => TlsFault::Expired,
                    C::NotValidYet | C::NotValidYetContext { .. } => TlsFault::NotYetValid,
                    other => TlsFault::OtherCertificate(format!("{other:?}")),
                },
                rustls::Error::AlertReceived(a) => TlsFault::Alert(format!("{a:?}")),
                other => TlsFault::Other(other.to_string()),
            };
        }
        match e.kind() {
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::BrokenPipe => TlsFault::CutOff(e.to_string()),
            _ => TlsFault::Other(e.to_string()),
        }
    }

    fn is_certificate(&self) -> bool {
        matches!(
            self,
            TlsFault::UnknownIssuer
                | TlsFault::NameMismatch
                | TlsFault::Expired
                | TlsFault::NotYetValid
                | TlsFault::OtherCertificate(_)
        )
    }
}

/// A finished handshake's facts.
#[derive(Debug, Clone)]
pub struct TlsSession {
    pub peer: String,
    pub version: String,
    pub chain: Vec<CertInfo>,
    pub elapsed: Duration,
}

/// Why a TLS probe failed.
#[derive(Debug, Clone)]
pub enum TlsProbeError {
    Connect(ConnectFailure),
    Handshake {
        peer: String,
        fault: TlsFault,
        /// The chain the server presented, read with a recording verifier.
        chain: Vec<CertInfo>,
    },
}

fn server_name(host: &str) -> Option<rustls_pki_types::ServerName<'static>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    rustls_pki_types::ServerName::try_from(bare.to_string()).ok()
}

async fn handshake(
    ctx: &Context,
    config: Arc<rustls::ClientConfig>,
    stream: TcpStream,
    host: &str,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, TlsFault> {
    let Some(name) = server_name(host) else {
        return Err(TlsFault::Other(format!(
            "{host:?} is not a valid TLS server name"
        )));
    };
    let connector = tokio_rustls::TlsConnector::from(config);
    match tokio::time::timeout(ctx.timeout, connector.connect(name, stream)).await {
        Err(_) => Err(TlsFault::Timeout),
        Ok(Err(e)) => Err(TlsFault::from_io(&e)),
        Ok(Ok(s)) => Ok(s),
    }
}

/// A real TLS handshake to `host:port` with the context's trust, through the proxy when one
/// applies. On a certificate fault the handshake is repeated with a recording verifier, only
/// to read the certificate.
pub async fn probe_tls(
    ctx: &Context,
    host: &str,
    port: u16,
    addresses: &[IpAddr],
) -> Result<TlsSession, TlsProbeError> {
    let started = Instant::now();
    let (stream, peer) = open_stream(ctx, host, port, addresses)
        .await
        .map_err(TlsProbeError::Connect)?;
    match handshake(ctx, ctx.tls.clone(), stream, host).await {
        Ok(tls) => {
            let (_, conn) = tls.get_ref();
            let version = conn
                .protocol_version()
                .map(|v| format!("{v:?}").replace("TLSv1_", "TLS 1."))
                .unwrap_or_default();
            let chain = conn
                .peer_certificates()
                .unwrap_or(&[])
                .iter()
                .filter_map(|c| CertInfo::parse(c))
                .collect();
            ctx.trace.push(format!(
                "tls {host}:{port} via {peer} -> {version} ({} ms)",
                started.elapsed().as_millis()
            ));
            // Dropped without sending anything.
            Ok(TlsSession {
                peer,
                version,
                chain,
                elapsed: started.elapsed(),
            })
        }
        Err(fault) => {
            ctx.trace
                .push(format!("tls {host}:{port} via {peer} -> {fault:?}"));
            let mut chain = Vec::new();
            if fault.is_certificate() {
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let recorder = Arc::new(ChainRecorder {
                    chain: Mutex::new(Vec::new()),
                    provider: provider.clone(),
                });
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map(|b| {
                        b.dangerous()
                            .with_custom_certificate_verifier(recorder.clone())
                            .with_no_client_auth()
                    });
                if let (Ok(config), Ok((stream, _))) =
                    (config, open_stream(ctx, host, port, addresses).await)
                {
                    // The session (if any) is dropped unused.
                    let _ = handshake(ctx, Arc::new(config), stream, host).await;
                }
                let recorded: Vec<rustls_pki_types::CertificateDer<'static>> =
                    recorder.chain.lock().map(|c| c.clone()).unwrap_or_default();
                chain = recorded.iter().filter_map(|c| CertInfo::parse(c)).collect();
            }
            Err(TlsProbeError::Handshake { peer, fault, chain })
        }
    }
}

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
            let mut f = RawFinding::new("CLIENT_PROXY_ERROR", msg.clone())
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
                RawFinding::new("CONNECTIVITY_CHALLENGE_ERROR", msg)
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
                RawFinding::new("CONNECTIVITY_CHALLENGE_ERROR", msg)
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
                Ok(session) => {
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
                Err(TlsProbeError::Connect(failure)) => {
                    connect_failure_outcome(cx, &format!("https://{target}"), &failure)
                }
                Err(TlsProbeError::Handshake { peer, fault, chain }) => {
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
                    let (what_en, what_ja, kind) = match &fault {
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
                    };
                    let msg = cx.t(
                        format!("TLS to {target} via {peer}{via_proxy}: {what_en}"),
                        format!("{peer}{via_proxy} 経由の {target} への TLS: {what_ja}"),
                    );
                    let mut f = RawFinding::new("CONNECTIVITY_SSL_ERROR", msg.clone())
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
            }
        })
    }
}

/// The client address in a firewall 403 body (`client with IP '203.0.113.7' is not allowed`).
pub fn client_ip_from_body(body: &str) -> Option<String> {
    let re = regex::Regex::new(r"client with IP '([^']{1,64})'").ok()?;
    re.captures(body)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string())
}

/// Why the registry refuses this client, as far as its ARM settings tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForbiddenReason {
    PublicAccessDisabled,
    /// Default action Deny and no rule covers the address; the rules are listed.
    IpNotAllowed {
        rules: Vec<String>,
    },
    /// Settings allow the address: something else (a proxy, another path) answered 403.
    SettingsAllow,
    Unknown,
}

/// Reads `publicNetworkAccess` and `networkRuleSet` of the registry resource.
pub fn forbidden_reason(arm: Option<&super::ArmRegistry>, ip: Option<&str>) -> ForbiddenReason {
    let Some(arm) = arm else {
        return ForbiddenReason::Unknown;
    };
    let public = arm
        .property("publicNetworkAccess")
        .and_then(Value::as_str)
        .unwrap_or("Enabled");
    if public.eq_ignore_ascii_case("disabled") {
        return ForbiddenReason::PublicAccessDisabled;
    }
    let deny = arm
        .property("networkRuleSet.defaultAction")
        .and_then(Value::as_str)
        .is_some_and(|a| a.eq_ignore_ascii_case("deny"));
    if !deny {
        return ForbiddenReason::SettingsAllow;
    }
    let rules: Vec<String> = arm
        .property("networkRuleSet.ipRules")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| {
                    r.get("value")
                        .or_else(|| r.get("ipAddressOrRange"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    let allowed = ip.and_then(|i| i.parse::<IpAddr>().ok()).is_some_and(|ip| {
        rules.iter().any(|r| {
            r.parse::<ipnet::IpNet>()
                .map(|n| n.contains(&ip))
                .or_else(|_| r.parse::<IpAddr>().map(|a| a == ip))
                .unwrap_or(false)
        })
    });
    if allowed {
        ForbiddenReason::SettingsAllow
    } else {
        ForbiddenReason::IpNotAllowed { rules }
    }
}

/// Seconds of a `Retry-After` header (delta-seconds or an HTTP date).
pub fn retry_after_secs(value: &str, now: i64) -> Option<u64> {
    let v = value.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(s);
    }
    let format = time::format_description::well_known::Rfc2822;
    let date = time::OffsetDateTime::parse(&v.replace("GMT", "+0000"), &format).ok()?;
    Some((date.unix_timestamp() - now).max(0) as u64)
}

/// `registry.challenge`: `GET /v2/` must answer 401 with a Bearer challenge.
pub struct ChallengeCheck;

impl ChallengeCheck {
    fn http_error(cx: &CheckCx<'_>, url: &str, err: &HttpError) -> Outcome {
        let (code, layer) = match err {
            HttpError::Timeout(_) => ("CONNECTIVITY_CHALLENGE_ERROR", "http"),
            HttpError::Dns(_) => ("CONNECTIVITY_CHALLENGE_ERROR", "dns"),
            HttpError::Connect(_) => ("CONNECTIVITY_CHALLENGE_ERROR", "tcp"),
            HttpError::Tls(_) => ("CONNECTIVITY_SSL_ERROR", "tls"),
            HttpError::Proxy(_) => ("CLIENT_PROXY_ERROR", "proxy"),
            HttpError::Other(d) if d.contains("tunnel") => ("CLIENT_PROXY_ERROR", "proxy"),
            HttpError::Other(_) => ("CONNECTIVITY_CHALLENGE_ERROR", "http"),
            HttpError::Refused(_) => ("CONNECTIVITY_CHALLENGE_ERROR", "trust"),
        };
        let msg = match err {
            HttpError::Timeout(after) => cx.t(
                format!("GET {url}: no answer within {:.1} s (layer: HTTP; the connection and TLS were fine, the server never answered)", after.as_secs_f64()),
                format!("GET {url}: {:.1} 秒以内に応答がありません (層: HTTP。接続と TLS は成功しましたがサーバーが応答しません)", after.as_secs_f64()),
            ),
            other => cx.t(
                format!("GET {url} failed at the {layer} layer: {other}"),
                format!("GET {url} が {layer} 層で失敗しました: {other}"),
            ),
        };
        Outcome::fail(
            msg.clone(),
            RawFinding::new(code, msg)
                .evidence("url", url.to_string())
                .evidence("layer", layer),
        )
    }

    fn forbidden(cx: &CheckCx<'_>, url: &str, resp: &crate::http::HttpResponse) -> Outcome {
        let body = resp.text();
        let ip = client_ip_from_body(&body);
        let (arm, name) = {
            let mut f = cx.facts();
            if ip.is_some() {
                f.client_ip = ip.clone();
            }
            (f.arm_registry.clone(), f.registry_name.clone())
        };
        let name = name
            .or_else(|| arm.as_ref().map(|a| a.name.clone()))
            .unwrap_or_else(|| cx.target.to_string());
        let ip_text = ip
            .clone()
            .unwrap_or_else(|| cx.t("(not in the answer)", "(応答に含まれていません)"));
        let reason = forbidden_reason(arm.as_ref(), ip.as_deref());
        let enable_public = format!("az acr update --name {name} --public-network-enabled true");
        let add_rule = format!(
            "az acr network-rule add --name {name} --ip-address {}",
            ip.clone().unwrap_or_else(|| "<your public IP>".into())
        );
        let (why, commands): (String, Vec<String>) = match &reason {
            ForbiddenReason::PublicAccessDisabled => (
                cx.t(
                    format!("public network access is disabled on {name} (ARM: publicNetworkAccess Disabled), and this machine ({ip_text}) comes from the internet rather than through a private endpoint"),
                    format!("{name} のパブリック ネットワーク アクセスが無効 (ARM: publicNetworkAccess Disabled) で、このマシン ({ip_text}) はプライベート エンドポイントではなくインターネット経由で接続しています"),
                ),
                vec![enable_public],
            ),
            ForbiddenReason::IpNotAllowed { rules } => (
                cx.t(
                    format!("the registry firewall denies by default and no IP rule covers {ip_text} (rules: {})", if rules.is_empty() { "none".to_string() } else { rules.join(", ") }),
                    format!("レジストリのファイアウォールは既定で拒否し、{ip_text} を許可する IP 規則がありません (規則: {})", if rules.is_empty() { "なし".to_string() } else { rules.join(", ") }),
                ),
                vec![add_rule],
            ),
            ForbiddenReason::SettingsAllow => (
                cx.t(
                    format!("the registry's ARM settings allow {ip_text}; the 403 may come from a proxy on the way or from a different source address"),
                    format!("レジストリの ARM 設定は {ip_text} を許可しています。403 は途中のプロキシか、別の送信元アドレスによるものかもしれません"),
                ),
                vec![],
            ),
            ForbiddenReason::Unknown => (
                cx.t(
                    format!("either public network access is disabled or the firewall rules do not allow {ip_text}; the registry's settings could not be read through ARM to tell which"),
                    format!("パブリック ネットワーク アクセスが無効か、ファイアウォール規則が {ip_text} を許可していません。ARM から設定を読めないため、どちらかは判別できません"),
                ),
                vec![enable_public, add_rule],
            ),
        };
        let msg = cx.t(
            format!("GET {url} answered 403: {why}"),
            format!("GET {url} は 403 を返しました: {why}"),
        );
        let mut f = RawFinding::new("CONNECTIVITY_FORBIDDEN_ERROR", msg.clone())
            .evidence("url", url.to_string())
            .evidence("status", 403)
            .evidence(
                "reason",
                match reason {
                    ForbiddenReason::PublicAccessDisabled => "public_network_access_disabled",
                    ForbiddenReason::IpNotAllowed { .. } => "ip_not_allowed",
                    ForbiddenReason::SettingsAllow => "settings_allow",
                    ForbiddenReason::Unknown => "unknown",
                },
            )
            .step(cx.t(
                format!("`docker login` shows this refusal as `login attempt to https://{}/v2/ failed with status: 403 Forbidden`.", url.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches("/v2/")),
                format!("`docker login` ではこの拒否が `login attempt to https://{}/v2/ failed with status: 403 Forbidden` と表示されます。", url.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches("/v2/")),
            ))
            .step(cx.t(
                "To keep the registry private, reach it through a private endpoint (or allow trusted Azure services) instead of opening it.",
                "レジストリを非公開のままにするには、公開せずにプライベート エンドポイント経由 (または信頼された Azure サービスを許可) で接続してください。",
            ));
        if let Some(ip) = &ip {
            f = f.evidence("client_ip", ip.clone());
        }
        let errors = resp.registry_errors();
        if let Some((code, message)) = errors.first() {
            f = f.evidence("registry_error", format!("{code}: {message}"));
        }
        for c in commands {
            f = f.command(c);
        }
        Outcome::fail(msg, f)
    }

    fn analyse_401(
        cx: &CheckCx<'_>,
        ls: &LoginServer,
        url: &str,
        resp: &crate::http::HttpResponse,
    ) -> Outcome {
        let headers = resp.header_all("www-authenticate");
        let fail = |code: &'static str, en: String, ja: String| {
            let msg = cx.t(en, ja);
            Outcome::fail(
                msg.clone(),
                RawFinding::new(code, msg)
                    .evidence("url", url.to_string())
                    .evidence("status", resp.status)
                    .evidence("www_authenticate", headers.clone()),
            )
        };
        if headers.is_empty() {
            return fail(
                "CONNECTIVITY_CHALLENGE_ERROR",
                format!("GET {url} answered 401 without a WWW-Authenticate header (layer: HTTP): the server does not say how to log in"),
                format!("GET {url} は WWW-Authenticate ヘッダーなしで 401 を返しました (層: HTTP)。ログイン方法が示されていません"),
            );
        }
        let challenges: Vec<AuthChallenge> = match chal::parse_headers(&headers) {
            Ok(c) => c,
            Err(e) => {
                return fail(
                    "CONNECTIVITY_WWW_AUTHENTICATE_ERROR",
                    format!(
                        "GET {url}: the WWW-Authenticate header cannot be parsed ({e}): {:?}",
                        headers.join(" | ")
                    ),
                    format!(
                        "GET {url}: WWW-Authenticate ヘッダーを解析できません ({e}): {:?}",
                        headers.join(" | ")
                    ),
                )
            }
        };
        let schemes: Vec<String> = challenges.iter().map(|c| c.scheme.clone()).collect();
        let Some(bearer) = chal::bearer(&challenges) else {
            if challenges.iter().any(|c| c.is("Basic")) {
                return fail(
                    "CONNECTIVITY_AAD_LOGIN_ERROR",
                    format!("GET {url} offers only {} login, no Bearer token login: Microsoft Entra sign-in (`az acr login`) cannot work here", schemes.join(", ")),
                    format!("GET {url} は {} ログインのみを提供し、Bearer トークンのログインがありません。Microsoft Entra のサインイン (`az acr login`) は使えません", schemes.join(", ")),
                );
            }
            return fail(
                "CONNECTIVITY_WWW_AUTHENTICATE_ERROR",
                format!(
                    "GET {url} asks for {}, a scheme ACR never uses",
                    schemes.join(", ")
                ),
                format!(
                    "GET {url} は ACR が使わない認証方式 {} を要求しています",
                    schemes.join(", ")
                ),
            );
        };
        let realm = bearer.param("realm").filter(|r| !r.is_empty());
        let service = bearer.param("service").filter(|s| !s.is_empty());
        let (Some(realm), Some(service)) = (realm, service) else {
            let mut missing = Vec::new();
            if realm.is_none() {
                missing.push("realm");
            }
            if service.is_none() {
                missing.push("service");
            }
            return fail(
                "CONNECTIVITY_WWW_AUTHENTICATE_ERROR",
                format!(
                    "GET {url}: the Bearer challenge has no {} ({:?})",
                    missing.join(" or "),
                    headers.join(" | ")
                ),
                format!(
                    "GET {url}: Bearer チャレンジに {} がありません ({:?})",
                    missing.join("、"),
                    headers.join(" | ")
                ),
            );
        };
        let challenge = Challenge {
            realm: realm.to_string(),
            service: service.to_string(),
            scope: bearer.param("scope").map(str::to_string),
        };
        // The realm receives credentials: ACR's is always `https://<login server>/oauth2/token`.
        // One elsewhere gets nothing: no challenge fact, so no check sends a credential to it.
        if let Some(problem) = crate::trust::realm_problem(ls, realm) {
            let msg = cx.t(
                format!(
                    "GET {url} → 401 Bearer realm={realm}: {problem}. `docker login` would hand the credential to that host; acr-doctor sent it nothing"
                ),
                format!(
                    "GET {url} → 401 Bearer realm={realm}: レルムがログイン サーバー上にありません ({problem})。`docker login` はその宛先に資格情報を渡してしまいます。acr-doctor は何も送っていません"
                ),
            );
            return Outcome::fail(
                msg.clone(),
                RawFinding::new("CONNECTIVITY_WWW_AUTHENTICATE_ERROR", msg)
                    .evidence("url", url.to_string())
                    .evidence("status", resp.status)
                    .evidence("realm", realm.to_string())
                    .evidence("login_server", ls.base_url())
                    .evidence("www_authenticate", headers.clone()),
            )
            .evidence("realm", realm.to_string())
            .evidence("login_server", ls.base_url());
        }
        let service_note = if service.eq_ignore_ascii_case(&ls.host)
            || service.eq_ignore_ascii_case(&ls.authority())
        {
            None
        } else {
            Some(cx.t(
                format!(
                    "service {service} differs from the login server {}",
                    ls.host
                ),
                format!(
                    "service {service} はログイン サーバー {} と異なります",
                    ls.host
                ),
            ))
        };
        cx.facts().challenge = Some(challenge.clone());
        let mut msg = cx.t(
            format!(
                "GET {url} → 401 Bearer realm={realm} service={service} ({} ms)",
                resp.elapsed.as_millis()
            ),
            format!(
                "GET {url} → 401 Bearer realm={realm} service={service} ({} ms)",
                resp.elapsed.as_millis()
            ),
        );
        if let Some(n) = &service_note {
            msg = format!("{msg}; {n}");
        }
        let evidence = |o: Outcome| {
            o.evidence("url", url.to_string())
                .evidence("realm", challenge.realm.clone())
                .evidence("service", challenge.service.clone())
                .evidence("schemes", schemes.clone())
        };
        evidence(Outcome::pass(msg))
    }
}

impl Check for ChallengeCheck {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "registry.challenge",
            Group::Registry,
            "challenge",
            "チャレンジ",
        )
        // The challenge does not wait for the DNS and TLS checks: it runs beside them (its own
        // request resolves and handshakes anyway), and only when its request fails does it wait
        // for them, so that a DNS or TLS failure is reported once, by the check that explains it.
        .needs(&[Fact::LoginServer])
        .provides(&[Fact::Challenge])
        // The registry's settings, only to tell the two causes of a 403 apart.
        .consults(&[Fact::Tls, Fact::ArmRegistry]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(ls) = cx.facts().login_server.clone() else {
                return Outcome::skip(cx.t("no login server", "ログイン サーバーがありません"));
            };
            let url = format!("{}/v2/", ls.base_url());
            let started = Instant::now();
            let mut retried = None;
            let resp = loop {
                let resp = match cx.ctx.send(cx.ctx.http().get(&url)).await {
                    Ok(r) => r,
                    Err(e) => {
                        let tls = cx.await_fact(Fact::Tls).await;
                        if !matches!(
                            tls,
                            Some(CheckStatus::Pass | CheckStatus::Warn | CheckStatus::Info) | None
                        ) {
                            return Outcome::skip(cx.t(
                                format!("GET {url} failed ({e}); the DNS and TLS checks above say why"),
                                format!("GET {url} は失敗しました ({e})。原因は上の DNS と TLS のチェックを参照してください"),
                            ));
                        }
                        return Self::http_error(cx, &url, &e);
                    }
                };
                if resp.status != 429 || retried.is_some() {
                    break resp;
                }
                let wait = resp
                    .header("retry-after")
                    .and_then(|v| retry_after_secs(v, cx.ctx.clock.unix()));
                // Retry once when the wait fits in the time budget.
                match wait {
                    Some(secs)
                        if Duration::from_secs(secs) + started.elapsed() <= cx.ctx.timeout =>
                    {
                        cx.ctx.trace.push(format!(
                            "waiting {secs} s (Retry-After) before retrying GET {url}"
                        ));
                        tokio::time::sleep(Duration::from_secs(secs)).await;
                        retried = Some(secs);
                    }
                    _ => break resp,
                }
            };
            match resp.status {
                401 => Self::analyse_401(cx, &ls, &url, &resp),
                403 => {
                    // Only a 403 needs the registry's settings: wait for ARM here, not upfront.
                    cx.await_fact(Fact::ArmRegistry).await;
                    Self::forbidden(cx, &url, &resp)
                }
                429 => {
                    let ra = resp.header("retry-after").map(str::to_string);
                    let msg = match (&retried, &ra) {
                        (Some(s), _) => cx.t(
                            format!("GET {url} answered 429 Too Many Requests, again after waiting {s} s as Retry-After asked"),
                            format!("GET {url} は 429 Too Many Requests を返し、Retry-After に従い {s} 秒待った後も同じでした"),
                        ),
                        (None, Some(v)) => cx.t(
                            format!("GET {url} answered 429 Too Many Requests; Retry-After: {v} is longer than --timeout {:.0} s, so acr-doctor did not wait", cx.ctx.timeout.as_secs_f64()),
                            format!("GET {url} は 429 Too Many Requests を返しました。Retry-After: {v} が --timeout {:.0} 秒より長いため待機しませんでした", cx.ctx.timeout.as_secs_f64()),
                        ),
                        (None, None) => cx.t(
                            format!("GET {url} answered 429 Too Many Requests"),
                            format!("GET {url} は 429 Too Many Requests を返しました"),
                        ),
                    };
                    let mut f = RawFinding::new("CONNECTIVITY_TOOMANYREQUESTS_ERROR", msg.clone())
                        .evidence("url", url.clone())
                        .evidence("retried", retried.is_some());
                    if let Some(v) = ra {
                        f = f.evidence("retry_after", v);
                    }
                    Outcome::fail(msg, f)
                }
                status => {
                    let what = if status == 200 {
                        cx.t(
                            "it let an anonymous client in without asking for authentication: this is not how an ACR login server answers".to_string(),
                            "認証を求めずに匿名クライアントを受け入れました。ACR のログイン サーバーの応答ではありません".to_string(),
                        )
                    } else {
                        let errors = resp.registry_errors();
                        let first = errors
                            .first()
                            .map(|(c, m)| format!(" ({c}: {m})"))
                            .unwrap_or_default();
                        cx.t(
                            format!("expected 401 with a challenge{first}"),
                            format!("チャレンジ付きの 401 が期待されます{first}"),
                        )
                    };
                    let msg = cx.t(
                        format!("GET {url} answered {status} (layer: HTTP): {what}"),
                        format!("GET {url} は {status} を返しました (層: HTTP): {what}"),
                    );
                    Outcome::fail(
                        msg.clone(),
                        RawFinding::new("CONNECTIVITY_CHALLENGE_ERROR", msg)
                            .evidence("url", url.clone())
                            .evidence("status", status)
                            .evidence("layer", "http"),
                    )
                }
            }
        })
    }
}

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
            let cloud = crate::checks::cloud(cx);
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
                Err(e) => {
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
                            RawFinding::new("ARM_PERMISSION_MISSING", msg)
                                .severity(Severity::Warning)
                                .evidence("error", e.to_string()),
                        );
                    }
                    return Outcome::fail(
                        msg.clone(),
                        RawFinding::new("UNEXPECTED_ERROR", msg).evidence("error", e.to_string()),
                    );
                }
            };
            if endpoints.is_empty() {
                return Outcome::info(cx.t(
                    format!("{} has no private endpoint connection: nothing to verify for --vnet {vnet}", reg.name),
                    format!("{} にはプライベート エンドポイント接続がありません。--vnet {vnet} について確認する対象はありません", reg.name),
                ))
                .evidence("public_network_access_disabled", public_disabled);
            }
            let mut rows = Vec::new();
            for m in &expected {
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
            let table: Vec<Value> = rows
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
                .collect();
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
                        format!("{msg}; note: no endpoint is in VNet {vnet} (they are in {})", vnets.join(", ")),
                        format!("{msg}。注意: VNet {vnet} にあるエンドポイントはありません ({} にあります)", vnets.join(", ")),
                    );
                }
                return with_evidence(Outcome::pass(msg));
            }
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
            let f = RawFinding::new("PRIVATE_ENDPOINT_DNS_ERROR", msg.clone())
                .evidence("mappings", table.clone())
                .evidence("vnet", vnet.clone())
                .step(cx.t(
                    format!("Link the privatelink.azurecr.io private DNS zone to VNet {vnet} and make sure it has A records for each name above with the expected address; a custom DNS server must forward azurecr.io to Azure DNS (168.63.129.16)."),
                    format!("privatelink.azurecr.io プライベート DNS ゾーンを VNet {vnet} にリンクし、上記の各名前に期待されるアドレスの A レコードがあることを確認してください。カスタム DNS サーバーは azurecr.io を Azure DNS (168.63.129.16) に転送する必要があります。"),
                ));
            with_evidence(Outcome::fail(msg, f))
        })
    }
}

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
            let layer = cx.facts().extra.get("layer_download").cloned();
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
        RawFinding::new("DATA_ENDPOINT_UNREACHABLE", msg)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn address_kinds() {
        assert_eq!(classify(ip("10.1.2.4")), AddrKind::Private);
        assert_eq!(classify(ip("172.16.0.1")), AddrKind::Private);
        assert_eq!(classify(ip("172.32.0.1")), AddrKind::Public);
        assert_eq!(classify(ip("192.168.1.1")), AddrKind::Private);
        assert_eq!(classify(ip("127.0.0.1")), AddrKind::Loopback);
        assert_eq!(classify(ip("169.254.169.254")), AddrKind::LinkLocal);
        assert_eq!(classify(ip("100.64.0.1")), AddrKind::Cgnat);
        assert_eq!(classify(ip("100.128.0.1")), AddrKind::Public);
        assert_eq!(classify(ip("20.50.1.2")), AddrKind::Public);
        assert_eq!(classify(ip("::1")), AddrKind::Loopback);
        assert_eq!(classify(ip("fd00::1")), AddrKind::UniqueLocal);
        assert_eq!(classify(ip("fe80::1")), AddrKind::LinkLocal);
        assert_eq!(classify(ip("::ffff:10.0.0.5")), AddrKind::Private);
        assert_eq!(classify(ip("2603:1000::1")), AddrKind::Public);
        assert!(!AddrKind::Public.is_private());
    }

    #[test]
    fn no_proxy_rules() {
        let rules = "localhost, .internal.test,azurecr.io:443, 10.0.0.0/8, ::1";
        assert!(no_proxy_matches(rules, "localhost"));
        assert!(no_proxy_matches(rules, "a.internal.test"));
        assert!(!no_proxy_matches(rules, "internaltest"));
        assert!(no_proxy_matches(rules, "reg.azurecr.io"));
        assert!(no_proxy_matches(rules, "azurecr.io"));
        assert!(!no_proxy_matches(rules, "reg.azurecr.cn"));
        assert!(!no_proxy_matches(rules, "notazurecr.io"));
        assert!(no_proxy_matches(rules, "10.2.3.4"));
        assert!(!no_proxy_matches(rules, "11.2.3.4"));
        assert!(no_proxy_matches(rules, "[::1]"));
        assert!(no_proxy_matches("*", "anything"));
        assert!(!no_proxy_matches("", "anything"));
    }

    #[test]
    fn client_ip_and_retry_after() {
        let body = r#"{"errors":[{"code":"DENIED","message":"client with IP '203.0.113.7' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."}]}"#;
        assert_eq!(client_ip_from_body(body).as_deref(), Some("203.0.113.7"));
        assert_eq!(client_ip_from_body("denied"), None);
        assert_eq!(retry_after_secs(" 7 ", 0), Some(7));
        let now = 1_445_412_480; // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(
            retry_after_secs("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(30)
        );
        assert_eq!(
            retry_after_secs("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(0)
        );
        assert_eq!(retry_after_secs("soon", now), None);
    }

    fn reg(props: Value) -> super::super::ArmRegistry {
        super::super::ArmRegistry {
            id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/reg".into(),
            subscription: "s".into(),
            resource_group: "rg".into(),
            name: "reg".into(),
            resource: json!({ "properties": props }),
        }
    }

    #[test]
    fn forbidden_reasons_from_arm() {
        assert_eq!(
            forbidden_reason(None, Some("1.2.3.4")),
            ForbiddenReason::Unknown
        );
        let disabled = reg(json!({"publicNetworkAccess": "Disabled"}));
        assert_eq!(
            forbidden_reason(Some(&disabled), Some("1.2.3.4")),
            ForbiddenReason::PublicAccessDisabled
        );
        let firewall = reg(json!({"publicNetworkAccess": "Enabled",
            "networkRuleSet": {"defaultAction": "Deny", "ipRules": [{"action": "Allow", "value": "203.0.113.0/24"}, {"value": "198.51.100.9"}]}}));
        assert_eq!(
            forbidden_reason(Some(&firewall), Some("127.0.0.1")),
            ForbiddenReason::IpNotAllowed {
                rules: vec!["203.0.113.0/24".into(), "198.51.100.9".into()]
            }
        );
        assert_eq!(
            forbidden_reason(Some(&firewall), Some("203.0.113.50")),
            ForbiddenReason::SettingsAllow
        );
        assert_eq!(
            forbidden_reason(Some(&firewall), Some("198.51.100.9")),
            ForbiddenReason::SettingsAllow
        );
        let open = reg(json!({"networkRuleSet": {"defaultAction": "Allow"}}));
        assert_eq!(
            forbidden_reason(Some(&open), None),
            ForbiddenReason::SettingsAllow
        );
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

    #[test]
    fn privatelink_chain_is_recognised() {
        let r = Resolved {
            host: "reg.azurecr.io".into(),
            chain: vec![
                "reg.privatelink.azurecr.io".into(),
                "x.westeurope.cloudapp.azure.com".into(),
            ],
            addresses: vec![ip("10.0.0.5")],
            elapsed: Duration::from_millis(3),
            via: "test".into(),
            pinned: false,
        };
        assert!(r.through_privatelink());
        assert_eq!(
            r.describe(),
            "reg.azurecr.io → reg.privatelink.azurecr.io → x.westeurope.cloudapp.azure.com → 10.0.0.5 (private)"
        );
    }

    #[tokio::test]
    async fn reserved_names_are_answered_without_a_query() {
        let args = crate::check_args(&["--name", "x"]).expect("args");
        let ctx = Context::new(BTreeMap::new(), &args).expect("ctx");
        assert!(matches!(
            resolve(&ctx, "doesnotexist.invalid", 443).await,
            Err(DnsFailure::NxDomain { .. })
        ));
        let r = resolve(&ctx, "localhost", 443).await.expect("localhost");
        assert!(r.addresses.iter().all(|a| a.is_loopback()));
        let r = resolve(&ctx, "[::1]", 443).await.expect("literal");
        assert_eq!(r.addresses, vec![ip("::1")]);
    }
}
