//! Proxy rules (HTTPS_PROXY, ALL_PROXY, NO_PROXY) and `CONNECT` tunnels through an HTTP proxy.

use std::net::{IpAddr, SocketAddr};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
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
    if proxy.url.scheme() != "http" {
        return Err(proxy.failure(
            None,
            format!(
                "proxy scheme {}:// is not supported by this probe",
                proxy.url.scheme()
            ),
        ));
    }
    let paddr = proxy_address(ctx, proxy).await?;
    let mut stream = connect_to_proxy(ctx, proxy, paddr).await?;
    let auth = proxy_authorization(&proxy.url);
    if let Some(encoded) = &auth {
        ctx.redactor.register(encoded);
    }
    let request = connect_request(host, port, auth.as_deref());
    let (head, eof) = match tokio::time::timeout(ctx.timeout, exchange(&mut stream, &request)).await
    {
        Err(_) => {
            return Err(proxy.failure(
                None,
                format!("no answer to CONNECT within {:?}", ctx.timeout),
            ))
        }
        Ok(Err(e)) => return Err(proxy.failure(None, format!("proxyconnect tcp: {e}"))),
        Ok(Ok(x)) => x,
    };
    let (status_line, status) = status_of(&head);
    ctx.trace.push(format!(
        "CONNECT {host}:{port} via {} -> {}",
        proxy.display,
        if status_line.is_empty() {
            "EOF"
        } else {
            &status_line
        }
    ));
    match tunnel_verdict(status, status_line, eof && head.is_empty()) {
        Ok(()) => Ok(stream),
        Err((status, detail)) => Err(proxy.failure(status, detail)),
    }
}

impl ProxyChoice {
    /// The proxy refused or broke the tunnel.
    fn failure(&self, status: Option<u16>, detail: String) -> ConnectFailure {
        ConnectFailure::Proxy {
            proxy: self.display.clone(),
            status,
            detail,
        }
    }
}

/// The first address of the proxy's host, at the proxy's port (80 unless the URL says).
async fn proxy_address(ctx: &Context, proxy: &ProxyChoice) -> Result<SocketAddr, ConnectFailure> {
    let phost = proxy.url.host_str().unwrap_or("").to_string();
    let pport = proxy.url.port_or_known_default().unwrap_or(80);
    match resolve(ctx, &phost, pport).await {
        Ok(r) => match r.addresses.first() {
            Some(a) => Ok(SocketAddr::new(*a, pport)),
            None => Err(proxy.failure(None, format!("proxy host {phost} has no address"))),
        },
        Err(e) => Err(proxy.failure(None, format!("proxy host {phost}: {}", e.summary(Lang::En)))),
    }
}

/// A TCP connection to the proxy; its failures are the proxy's.
async fn connect_to_proxy(
    ctx: &Context,
    proxy: &ProxyChoice,
    paddr: SocketAddr,
) -> Result<TcpStream, ConnectFailure> {
    match tcp_connect(ctx, paddr).await {
        Ok(s) => Ok(s),
        Err(ConnectFailure::Timeout { target, after }) => Err(proxy.failure(
            None,
            format!("no TCP connection to the proxy {target} within {after:?}"),
        )),
        Err(ConnectFailure::Tcp { target, detail }) => {
            Err(proxy.failure(None, format!("proxy {target}: {detail}")))
        }
        Err(other) => Err(other),
    }
}

/// The base64 `user:password` for `Proxy-Authorization: Basic`, when the proxy URL names a user.
fn proxy_authorization(url: &url::Url) -> Option<String> {
    use base64::Engine;
    if url.username().is_empty() {
        return None;
    }
    let creds = format!("{}:{}", url.username(), url.password().unwrap_or(""));
    Some(base64::engine::general_purpose::STANDARD.encode(creds))
}

/// The `CONNECT` request head, with the proxy credentials when there are any.
fn connect_request(host: &str, port: u16, auth: Option<&str>) -> String {
    let mut request = format!(
        "CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: acr-doctor\r\n"
    );
    if let Some(encoded) = auth {
        request.push_str(&format!("Proxy-Authorization: Basic {encoded}\r\n"));
    }
    request.push_str("\r\n");
    request
}

/// Sends the request and reads the answer's head: up to the blank line, 16 KiB at most, or the
/// end of the stream (then `true`).
async fn exchange<S>(stream: &mut S, request: &str) -> std::io::Result<(Vec<u8>, bool)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream.write_all(request.as_bytes()).await?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok((buf, true));
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.len() > 16 * 1024 {
            return Ok((buf, false));
        }
    }
}

/// The answer's status line and its status code, if it has one.
fn status_of(head: &[u8]) -> (String, Option<u16>) {
    let text = String::from_utf8_lossy(head).to_string();
    let status_line = text.lines().next().unwrap_or("").to_string();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok());
    (status_line, status)
}

/// Whether the proxy opened the tunnel; if not, the status and detail of the failure.
fn tunnel_verdict(
    status: Option<u16>,
    status_line: String,
    closed_silently: bool,
) -> Result<(), (Option<u16>, String)> {
    match status {
        Some(s) if (200..300).contains(&s) => Ok(()),
        Some(s) => Err((Some(s), status_line)),
        None if closed_silently => Err((None, "proxyconnect tcp: EOF".into())),
        None => Err((None, format!("not an HTTP answer: {status_line:?}"))),
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

    #[test]
    fn the_connect_request_carries_credentials_only_when_the_proxy_url_names_a_user() {
        let bare = url::Url::parse("http://proxy.test:3128").unwrap();
        assert_eq!(proxy_authorization(&bare), None);
        let with_user = url::Url::parse("http://u:p@proxy.test:3128").unwrap();
        let auth = proxy_authorization(&with_user).unwrap();
        use base64::Engine;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&auth)
            .unwrap();
        assert_eq!(decoded, b"u:p");

        let plain = connect_request("reg.azurecr.io", 443, None);
        assert!(
            plain.starts_with("CONNECT reg.azurecr.io:443 HTTP/1.1\r\n"),
            "{plain}"
        );
        assert!(plain.ends_with("\r\n\r\n"), "{plain}");
        assert_eq!(plain.matches("\r\n\r\n").count(), 1, "{plain}");
        assert!(!plain.contains("Proxy-Authorization"), "{plain}");
        let authed = connect_request("reg.azurecr.io", 443, Some(&auth));
        assert!(authed.contains(&format!("\r\nProxy-Authorization: Basic {auth}\r\n")));
        assert!(authed.ends_with("\r\n\r\n"), "{authed}");
    }

    #[test]
    fn the_status_of_an_answer_decides_the_tunnel() {
        let (line, status) = status_of(b"HTTP/1.1 200 Connection established\r\n\r\n");
        assert_eq!(line, "HTTP/1.1 200 Connection established");
        assert_eq!(status, Some(200));
        assert_eq!(tunnel_verdict(status, line, false), Ok(()));

        let (line, status) = status_of(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
        assert_eq!(status, Some(407));
        assert!(matches!(
            tunnel_verdict(status, line, false),
            Err((Some(407), _))
        ));

        let (line, status) = status_of(b"");
        assert_eq!((line.as_str(), status), ("", None));
        assert!(matches!(tunnel_verdict(status, line, true), Err((None, d)) if d.ends_with("EOF")));

        let (line, status) = status_of(b"SSH-2.0-OpenSSH\r\n");
        assert_eq!(status, None);
        let verdict = tunnel_verdict(status, line.clone(), false);
        assert!(matches!(verdict, Err((None, d)) if d.contains(&format!("{line:?}"))));
    }

    #[tokio::test]
    async fn the_exchange_reads_up_to_the_end_of_the_head_or_of_the_stream() {
        let (mut ours, mut theirs) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(async move {
            let mut got = vec![0u8; 64];
            let n = theirs.read(&mut got).await.unwrap();
            theirs.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
            got.truncate(n);
            (got, theirs)
        });
        let (head, eof) = exchange(&mut ours, "PING\r\n\r\n").await.unwrap();
        let (got, _theirs) = server.await.unwrap();
        assert_eq!(got, b"PING\r\n\r\n");
        assert_eq!(
            (head.as_slice(), eof),
            (&b"HTTP/1.1 200 OK\r\n\r\n"[..], false)
        );

        // The other side reads the request and closes without a word.
        let (mut ours, mut theirs) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(async move {
            let mut got = vec![0u8; 64];
            let _ = theirs.read(&mut got).await.unwrap();
        });
        let (head, eof) = exchange(&mut ours, "PING\r\n\r\n").await.unwrap();
        server.await.unwrap();
        assert_eq!((head.len(), eof), (0, true));
    }
}
