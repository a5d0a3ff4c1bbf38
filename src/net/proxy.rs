//! Proxy rules (HTTPS_PROXY, ALL_PROXY, NO_PROXY) and `CONNECT` tunnels through an HTTP proxy.

use std::net::{IpAddr, SocketAddr};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::dns::resolve;
use super::tcp::{tcp_connect, ConnectFailure};
use crate::context::Context;
use crate::lang::Lang;

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

/// Opens a tunnel through an HTTP proxy with `CONNECT host:port`.
pub(super) async fn proxy_connect(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
