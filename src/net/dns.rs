//! The DNS resolver: names resolved as acr-doctor's own connections resolve them.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::addr::addr_list;
use crate::context::Context;
use crate::lang::Lang;

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
        let list = getaddrinfo(ctx, &host, port, bound, started).await?;
        return Ok(done(list, vec![], "getaddrinfo", false));
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
            Err(lookup_failure(&e, via, bound))
        }
        Ok(Ok(lookup)) => {
            let (chain, addresses) = records(&lookup);
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

/// Asks the operating system (`getaddrinfo`), when the system's DNS configuration cannot be read.
async fn getaddrinfo(
    ctx: &Context,
    host: &str,
    port: u16,
    bound: Duration,
    started: Instant,
) -> Result<Vec<IpAddr>, DnsFailure> {
    let via = "getaddrinfo".to_string();
    match tokio::time::timeout(bound, tokio::net::lookup_host((host, port))).await {
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
            Ok(list)
        }
    }
}

/// Why the resolver's lookup failed.
fn lookup_failure(e: &hickory_resolver::ResolveError, via: String, bound: Duration) -> DnsFailure {
    if e.is_nx_domain() {
        DnsFailure::NxDomain { via }
    } else if e.is_no_records_found() {
        DnsFailure::NoAddress { via }
    } else if e.to_string().to_ascii_lowercase().contains("timed out") {
        DnsFailure::Timeout { via, after: bound }
    } else {
        DnsFailure::Other {
            via,
            detail: e.to_string(),
        }
    }
}

/// The CNAME chain and the addresses of an answer, in order, without repeats.
fn records(lookup: &hickory_resolver::lookup_ip::LookupIp) -> (Vec<String>, Vec<IpAddr>) {
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
    (chain, addresses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
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
