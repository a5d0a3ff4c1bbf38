//! Reading an error chain by layer and by the role of the host it names.
//!
//! Tools wrap errors: Go writes `outer: inner: innermost`, Python `… (Caused by X('…: Y'))`,
//! containerd and kubelet nest `rpc error: … desc = …`. Whatever the tool, the innermost link
//! that names a protocol layer (the resolver, a TCP connect, a proxy, TLS, an HTTP status, a
//! registry error code) is where the failure happened, and the host that link names (or the
//! last URL before it) says whose failure it was: the same `i/o timeout` is a DNS problem on
//! port 53, a network path problem on the login server and a data endpoint problem on a blob
//! download. Phrases only a tool prints stay in `causes/messages/`; this reads what every tool
//! shares, the protocol.
//!
//! The markers below are protocol and runtime wording (Go's net package, glibc's resolver,
//! urllib3, .NET, Java, Node.js), not one tool's sentences.

use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

use super::result::Confidence;

use crate::catalogue::Code;

/// Where in the stack a link of an error chain failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// The container engine's socket or pipe.
    Engine,
    /// Name resolution.
    Dns,
    /// Opening or keeping a TCP connection.
    Tcp,
    /// An HTTP proxy between the client and the server.
    Proxy,
    /// The TLS handshake or the server's certificate.
    Tls,
    /// An HTTP status.
    Http,
    /// A registry (distribution) error code.
    Registry,
    /// What the image holds (a tag, a platform).
    Image,
    /// A Microsoft Entra ID error code (`AADSTS…`).
    Entra,
    /// An Azure Resource Manager error code.
    Arm,
}

/// Whose host a link names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A registry's login server (an ACR `*.azurecr.io`, MCR, or a host in an image reference).
    LoginServer,
    /// Where image layers come from: a dedicated data endpoint, storage, a CDN.
    DataEndpoint,
    /// Microsoft Entra ID.
    EntraAuthority,
    /// Azure Resource Manager.
    Arm,
    /// Microsoft Graph.
    Graph,
    /// Docker Hub.
    DockerHub,
    /// The instance metadata service.
    Metadata,
    /// The container engine's socket.
    EngineSocket,
    /// An HTTP proxy.
    Proxy,
    /// A DNS server.
    Resolver,
    /// A host of no known role.
    Other,
}

/// What the innermost classified link of a line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub cause: Code,
    pub confidence: Confidence,
    pub layer: Layer,
    pub role: Option<Role>,
    pub host: Option<String>,
    /// The deciding link, as bytes of the line.
    pub start: usize,
    pub end: usize,
}

/// Lower-case literals one of which every marker contains: the scan reads a line here only
/// when it holds one. The codes of the error tables (`causes/tables/`) are anchors too.
pub fn anchors() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = ANCHORS.iter().map(|a| a.as_bytes().to_vec()).collect();
    out.push(b"aadsts".to_vec());
    for e in crate::error_codes::arm_entries()
        .iter()
        .chain(crate::error_codes::registry_entries())
    {
        let code = e.code.split(':').next().unwrap_or(e.code).trim();
        if code.len() >= 3 {
            out.push(code.to_ascii_lowercase().into_bytes());
        }
    }
    out
}

const ANCHORS: &[&str] = &[
    "lookup ",
    "lookup (",
    "push access denied",
    "insufficient_scope",
    "http 4",
    "no such host",
    "name or service not known",
    "name resolution",
    "could not resolve",
    "could not be resolved",
    "failed to resolve '",
    "getaddrinfo",
    "enotfound",
    "eai_again",
    "unknownhost",
    "no such host is known",
    "nodename nor servname",
    "name does not resolve",
    "nxdomain",
    "dial tcp",
    "dial udp",
    "timeout",
    "タイムアウト",
    "timed out",
    "refused",
    "unreachable",
    "no route to host",
    "reset by peer",
    ": eof",
    "deadline exceeded",
    "proxy",
    "tunnel",
    "x509",
    "certificat",
    "ssl",
    "tls",
    "pkix",
    "unauthorized",
    "forbidden",
    "denied",
    "name_unknown",
    "manifest_unknown",
    "manifest unknown",
    "name unknown",
    "not known to registry",
    "toomanyrequests",
    "too many requests",
    "no match for platform",
    "docker daemon",
    "docker.sock",
    "docker_engine",
    "disallowed",
    "errno",
    "econnrefused",
    "etimedout",
    "econnreset",
    "ehostunreach",
    "failed to establish a new connection",
    "connectex",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    DnsNotFound,
    DnsServerFailed,
    /// A lookup of something that is not a host name (a URL, a path).
    DnsBadName,
    /// The certificate is a registry's but not for the name that was used.
    TlsWrongRegistryName,
    TcpTimeout,
    TcpRefused,
    TcpUnreachable,
    TcpReset,
    Proxy,
    ProxyStatus,
    Tls,
    TlsTimeout,
    Status(u16),
    Denied,
    NameUnknown,
    ManifestUnknown,
    TooManyRequests,
    Platform,
    Disallowed,
    Engine,
    /// A code of one of the error tables, with the cause the table gives it.
    Table(Layer, Code, Confidence),
}

impl Kind {
    fn layer(self) -> Layer {
        match self {
            Kind::DnsNotFound | Kind::DnsServerFailed | Kind::DnsBadName => Layer::Dns,
            Kind::TcpTimeout | Kind::TcpRefused | Kind::TcpUnreachable | Kind::TcpReset => {
                Layer::Tcp
            }
            Kind::Proxy | Kind::ProxyStatus => Layer::Proxy,
            Kind::Tls | Kind::TlsTimeout | Kind::TlsWrongRegistryName => Layer::Tls,
            Kind::Status(_) => Layer::Http,
            Kind::Denied
            | Kind::NameUnknown
            | Kind::ManifestUnknown
            | Kind::TooManyRequests
            | Kind::Disallowed => Layer::Registry,
            Kind::Platform => Layer::Image,
            Kind::Engine => Layer::Engine,
            Kind::Table(layer, _, _) => layer,
        }
    }
}

struct Marker {
    kind: Kind,
    source: &'static str,
    /// Compiled the first time a line holds one of `anchors`: a run compiles the few markers
    /// its lines need, not all of them.
    re: OnceLock<Option<Regex>>,
    /// Lower-case literals one of which every match holds (`None`: tried on every line).
    anchors: Option<Vec<Vec<u8>>>,
    /// The capture group naming the host the link is about, if the marker names one.
    host_group: Option<usize>,
}

impl Marker {
    /// Whether the line (lower-cased) can hold a match.
    fn may_match(&self, lower: &[u8]) -> bool {
        self.anchors
            .as_ref()
            .is_none_or(|set| set.iter().any(|a| memchr::memmem::find(lower, a).is_some()))
    }

    fn regex(&self) -> Option<&Regex> {
        self.re
            .get_or_init(|| super::data::compile(self.source).ok())
            .as_ref()
    }
}

#[allow(clippy::expect_used)] // constant patterns, compiled and exercised by the unit tests
fn markers() -> &'static [Marker] {
    static MARKERS: OnceLock<Vec<Marker>> = OnceLock::new();
    MARKERS.get_or_init(|| {
        let m = |kind, re: &'static str, host_group| Marker {
            kind,
            source: re,
            re: OnceLock::new(),
            anchors: super::data::anchors_of(re),
            host_group,
        };
        vec![
            // Resolvers: Go (`lookup H on R: no such host`), glibc / curl / urllib3, .NET, Java, Node.js.
            m(
                Kind::DnsServerFailed,
                r"lookup ([a-z0-9._-]+)(?: on [0-9a-f.:\[\]]+)?: (?:server misbehaving|(?:read|write|dial) udp[^\n]*|i/o timeout)",
                Some(1),
            ),
            m(
                Kind::DnsNotFound,
                r"lookup ([a-z0-9._-]+)(?: on [0-9a-f.:\[\]]+)?: no such host",
                Some(1),
            ),
            m(
                Kind::DnsBadName,
                r"lookup \(?[a-z][a-z0-9+.-]*://\S*?(?: on [0-9a-f.:\[\]]+)?: no such host",
                None,
            ),
            m(
                Kind::DnsNotFound,
                r"\bno such host\b|name or service not known|temporary failure in name resolution|nodename nor servname provided|name does not resolve|no address associated with hostname|\bNXDOMAIN\b|no such host is known|the remote name could not be resolved|DNS name does not exist|\[Errno (?:-2|-3|-5|11001|11002|8)\]|getaddrinfo failed",
                None,
            ),
            m(
                Kind::DnsNotFound,
                r"(?:could not resolve host|failed to resolve '|getaddrinfo (?:ENOTFOUND|EAI_AGAIN)|UnknownHostException|NameResolutionError)[:( '\x22]*([a-z0-9][a-z0-9.-]*\.[a-z]{2,})?",
                Some(1),
            ),
            // TCP, as Go, urllib3, Node.js, .NET and Java say it.
            m(
                Kind::TcpTimeout,
                r"\bi/o timeout\b|connection timed out|\bconnect(?:ion)? timeout\b|\bETIMEDOUT\b|context deadline exceeded|Client\.Timeout exceeded|request canceled while waiting for connection|ConnectTimeout(?:Error)?|\bWinError 10060\b|failed to respond|operation timed out|Read timed out|i/o タイムアウト",
                None,
            ),
            m(
                Kind::TcpRefused,
                r"connection refused|\bECONNREFUSED\b|actively refused|\bWinError 10061\b",
                None,
            ),
            m(
                Kind::TcpUnreachable,
                r"network is unreachable|no route to host|\bEHOSTUNREACH\b|\bENETUNREACH\b|host is down",
                None,
            ),
            m(
                Kind::TcpReset,
                r#"connection reset by peer|\bECONNRESET\b|forcibly closed by the remote host|\bWinError 10054\b|https?://\S+"?: (?:unexpected )?EOF\b"#,
                None,
            ),
            // Proxies: Go's `proxyconnect`, urllib3's ProxyError, Node's tunnel agent, 407.
            m(
                Kind::Proxy,
                r"proxyconnect tcp|\bProxyError\b|Cannot connect to proxy|Unable to connect to the proxy|tunneling socket could not be established|\bproxy (?:refused|error)|error connecting to proxy",
                None,
            ),
            m(
                Kind::ProxyStatus,
                r"Tunnel connection failed: \d{3}|\b407 Proxy Authentication Required|statusCode=407|Proxy Authentication Required",
                None,
            ),
            // TLS: Go's x509 and tls errors, OpenSSL, urllib3, Java's PKIX, .NET's SslStream.
            m(Kind::TlsTimeout, r"TLS handshake timeout", None),
            // Go: `x509: certificate is valid for *.azurecr.io, …, not NAME`: the server is a
            // registry, the name used is not one of its names.
            m(
                Kind::TlsWrongRegistryName,
                r"certificate is valid for [^\n]{0,300}?\*\.azurecr\.(?:io|cn|us)[^\n]{0,300}?, not ([a-z0-9.-]+)|cannot validate certificate for ([0-9.]+|\[?[0-9a-f:]+\]?) because it doesn't contain any IP SANs",
                Some(1),
            ),
            m(
                Kind::Tls,
                r"\bx509: |certificate verify failed|CERTIFICATE_VERIFY_FAILED|\bSSLError\b|SSLCertVerificationError|PKIX path building failed|unable to find valid certification path|remote certificate is invalid|RemoteCertificate(?:NameMismatch|ChainErrors)|self[- ]signed certificate|unable to get local issuer certificate|\btls: (?:failed to verify|handshake failure|bad certificate|unknown certificate)|remote error: tls|SSL routines|certificate has expired|certificate is not valid|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|CERT_HAS_EXPIRED|ERR_CERT_|SEC_E_UNTRUSTED_ROOT|SSL certificate problem|wrong version number",
                None,
            ),
            // Registry error codes (the distribution spec's, as clients print them).
            m(Kind::TooManyRequests, r"\btoomanyrequests\b|\bTOOMANYREQUESTS\b|\b429 Too Many Requests\b|too many requests", None),
            m(Kind::NameUnknown, r"\bNAME_UNKNOWN\b|\bname unknown\b|repository name not known to registry|repository does not exist", None),
            m(Kind::ManifestUnknown, r"\bMANIFEST_UNKNOWN\b|\bmanifest unknown\b|manifest for \S+ not found|\bnot found: manifest unknown", None),
            m(Kind::Platform, r"no match(?:ing manifest)? for platform", None),
            m(Kind::Disallowed, r"operation is disallowed on this registry", None),
            m(
                Kind::Denied,
                r"requested access to the resource is denied|\bdenied: |\bDENIED\b|push access denied|\binsufficient_scope\b",
                None,
            ),
            // HTTP statuses, only where the text says they are statuses.
            m(
                Kind::Status(0),
                r"\b(?:HTTP/[0-9.]+ |HTTP |status(?: code)?[:= ]{1,3}|StatusCode=|(?:response )?code[:=] ?|response status code |returned |error |code )?(401|403|404|429)\b(?: (?:Unauthorized|Forbidden|Not Found|Too Many Requests))?",
                None,
            ),
            // The engine's socket or pipe.
            m(
                Kind::Engine,
                r"Cannot connect to the Docker daemon|Is the docker daemon running|docker\.sock: connect|//\./pipe/docker_engine|error during connect: .{0,80}docker",
                None,
            ),
        ]
    })
}

/// A status marker only counts where the number is said to be a status: the digits alone are
/// not enough.
fn status_of(m: &regex::Captures<'_>) -> Option<u16> {
    let whole = m.get(0)?.as_str();
    let number = m.get(1)?.as_str();
    if whole.len() == number.len() {
        return None;
    }
    number.parse().ok()
}

/// The role of a host, from its name.
pub fn role_of(host: &str) -> Role {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    let h = h.split(':').next().unwrap_or(&h).to_string();
    let ends = |s: &str| h == s.trim_start_matches('.') || h.ends_with(s);
    // Data endpoints, and the storage blobs a login server redirects layer downloads to.
    if h.contains(".data.azurecr.")
        || ends(".data.mcr.microsoft.com")
        || ends(".cdn.mscr.io")
        || ends(".blob.core.windows.net")
        || ends(".blob.storage.azure.net")
        || ends(".blob.core.chinacloudapi.cn")
        || ends(".blob.core.usgovcloudapi.net")
    {
        Role::DataEndpoint
    } else if ends(".azurecr.io")
        || ends(".azurecr.cn")
        || ends(".azurecr.us")
        || h == "mcr.microsoft.com"
    {
        Role::LoginServer
    } else if ends("login.microsoftonline.com")
        || ends("login.microsoftonline.us")
        || ends("login.chinacloudapi.cn")
        || ends("login.partner.microsoftonline.cn")
        || ends("login.windows.net")
        || ends("sts.windows.net")
        || ends("login.microsoft.com")
    {
        Role::EntraAuthority
    } else if ends("management.azure.com")
        || ends("management.usgovcloudapi.net")
        || ends("management.chinacloudapi.cn")
        || ends("management.core.windows.net")
    {
        Role::Arm
    } else if ends("graph.microsoft.com") || ends("graph.windows.net") {
        Role::Graph
    } else if ends("docker.io") || ends(".docker.com") {
        Role::DockerHub
    } else if h == "169.254.169.254" {
        Role::Metadata
    } else {
        Role::Other
    }
}

#[allow(clippy::expect_used)] // constant patterns, compiled and exercised by the unit tests
fn host_regexes() -> &'static [Regex] {
    static RES: OnceLock<Vec<Regex>> = OnceLock::new();
    RES.get_or_init(|| {
        [
            // A URL.
            r#"https?://([a-z0-9][a-z0-9.-]*[a-z0-9])(?::\d+)?"#,
            // urllib3: HTTPSConnectionPool(host='H', port=443).
            r#"host='([a-z0-9][a-z0-9.-]*)'"#,
            // Go: dial tcp H:443 / lookup H.
            r"dial tcp (?:[a-z]+: )?(?:lookup )?([a-z0-9][a-z0-9.-]*|\[[0-9a-f:]+\])(?::\d+)?",
            // An image reference or a login server.
            r#"(?:^|[\s"'(\[=])([a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:azurecr\.(?:io|cn|us)|docker\.io|microsoft\.com))\b"#,
        ]
        .iter()
        .map(|re| super::data::compile(re).expect("host regex compiles"))
        .collect()
    })
}

/// The last host the text names before byte `before` (URLs, connection pools, dials, image
/// references), with where it starts.
fn host_before(text: &str, before: usize) -> Option<(usize, String)> {
    let head = &text[..before];
    // The last host named before the link; a bare address only when no name comes before it
    // (`Get "https://NAME/…": dial tcp ADDRESS:443` dials NAME's address).
    let mut best: Option<(usize, String)> = None;
    let mut best_address: Option<(usize, String)> = None;
    for re in host_regexes() {
        for c in re.captures_iter(head) {
            if let Some(h) = c.get(1) {
                let host = h.as_str().to_ascii_lowercase();
                if host.starts_with("aka.ms") || host.ends_with("docs.microsoft.com") {
                    continue;
                }
                let address = host.parse::<std::net::IpAddr>().is_ok()
                    || host
                        .trim_matches(|c| c == '[' || c == ']')
                        .parse::<std::net::Ipv6Addr>()
                        .is_ok();
                let slot = if address {
                    &mut best_address
                } else {
                    &mut best
                };
                if slot.as_ref().is_none_or(|(at, _)| h.start() > *at) {
                    *slot = Some((h.start(), host));
                }
            }
        }
    }
    best.or(best_address)
}

/// Words that say a link is fetching image layers, whose host is a data endpoint even when
/// only its address is printed.
#[allow(clippy::expect_used)] // constant patterns, compiled and exercised by the unit tests
fn is_blob_download(text: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        super::data::compile(
            r"pulling image configuration|layer download|httpReadSeeker|/blobs/sha256|download failed after attempts|failed to copy: |error pulling image configuration|downloading layer|イメージ構成のプル|ダウンロードに失敗",
        )
        .expect("blob regex compiles")
    })
    .is_match(text)
}

/// Reads one line: the innermost link that names a layer, and the cause it points to.
pub fn read(text: &str) -> Option<Reading> {
    read_after("", text)
}

/// Reads `line` with the lines before it (`before`, possibly empty): the link must be on the
/// line, but the host it concerns and what the chain was doing (a layer download, a push to an
/// unqualified name) may be told on the lines before, as wrapped kubelet events and build
/// logs do.
pub fn read_after(before: &str, line: &str) -> Option<Reading> {
    read_lazily(|| before.to_string(), line)
}

/// As [`read_after`], asking for the lines before only when the line alone leaves the host's
/// role open.
pub fn read_lazily(before: impl FnOnce() -> String, line: &str) -> Option<Reading> {
    let alone = read_joined(line, 0);
    let needs_context = match &alone {
        Some(r) => {
            r.host.is_none() || matches!(r.layer, Layer::Registry | Layer::Http | Layer::Tcp)
        }
        // A link whose host has no known role says nothing alone: the lines before may.
        None => {
            let lower = line.to_ascii_lowercase();
            ANCHORS.iter().any(|a| lower.contains(a))
        }
    };
    if !needs_context {
        return alone;
    }
    let before = before();
    if before.is_empty() {
        return alone;
    }
    let joined = format!("{before}\n{line}");
    let offset = before.len() + 1;
    match read_joined(&joined, offset) {
        Some(mut r) => {
            r.start -= offset;
            r.end -= offset;
            Some(r)
        }
        // The lines before only say whose failure it was; they never turn a finding into none.
        None => alone,
    }
}

/// Reads `text`, whose links from byte `from` on are the line's own.
fn read_joined(text: &str, from: usize) -> Option<Reading> {
    // Every marker found, with its span: the innermost is the one that starts last.
    let mut found: Vec<(Kind, usize, usize, Option<String>)> = Vec::new();
    let lower = text[from..].to_ascii_lowercase();
    for marker in markers() {
        if !marker.may_match(lower.as_bytes()) {
            continue;
        }
        let Some(re) = marker.regex() else { continue };
        for c in re.captures_iter(&text[from..]) {
            let Some(whole) = c.get(0) else { continue };
            let kind = match marker.kind {
                Kind::Status(_) => match status_of(&c) {
                    Some(s) => Kind::Status(s),
                    None => continue,
                },
                k => k,
            };
            let host = marker
                .host_group
                .and_then(|g| (g..c.len()).find_map(|i| c.get(i)))
                .map(|h| h.as_str().to_ascii_lowercase());
            found.push((kind, from + whole.start(), from + whole.end(), host));
        }
    }
    let mut table = Vec::new();
    table_codes(&text[from..], &mut table);
    found.extend(
        table
            .into_iter()
            .map(|(k, s, e, h)| (k, from + s, from + e, h)),
    );
    if found.is_empty() {
        return None;
    }
    // A proxy in the chain decides: what follows it (a refused connect, a 403) is the proxy's.
    let proxy = found
        .iter()
        .filter(|f| matches!(f.0, Kind::Proxy | Kind::ProxyStatus))
        .max_by_key(|f| f.1)
        .cloned();
    // The innermost link starts last; a marker whose span holds it reads the same link more
    // completely (`lookup H: no such host` around `no such host`) and is preferred.
    let last = found
        .iter()
        .max_by_key(|f| (f.1, std::cmp::Reverse(f.2)))
        .cloned()?;
    let innermost = found
        .iter()
        .filter(|f| f.1 <= last.1 && f.2 >= last.2)
        .max_by_key(|f| (f.2 - f.1, std::cmp::Reverse(f.1)))
        .cloned()
        .unwrap_or(last);
    let (kind, start, end, marker_host) = match proxy {
        Some(p) if !matches!(innermost.0, Kind::Tls | Kind::TlsWrongRegistryName) => p,
        _ => innermost,
    };
    let named_before = host_before(text, start);
    // The link shown runs from the host it names, when that is on the line, to its end.
    let start = match &named_before {
        Some((at, _)) if marker_host.is_none() && *at >= from => *at,
        _ => start,
    };
    let host = marker_host
        .or_else(|| named_before.map(|(_, h)| h))
        .filter(|h| !h.is_empty());
    let mut role = host.as_deref().map(role_of);
    if is_blob_download(&text[..end.min(text.len())])
        && matches!(kind.layer(), Layer::Dns | Layer::Tcp | Layer::Tls)
        && !matches!(role, Some(Role::DataEndpoint | Role::DockerHub))
        && !(matches!(kind, Kind::DnsNotFound | Kind::DnsServerFailed)
            && matches!(role, Some(Role::LoginServer)))
    {
        role = Some(Role::DataEndpoint);
    }
    if matches!(kind, Kind::Denied | Kind::Status(401 | 403)) && pushes_to_docker_hub(&text[..end])
    {
        role = Some(Role::DockerHub);
    }
    if matches!(kind, Kind::DnsServerFailed) && role.is_none() {
        role = Some(Role::Resolver);
    }
    let (cause, confidence) = decide(kind, role, host.as_deref(), text)?;
    Some(Reading {
        cause,
        confidence,
        layer: kind.layer(),
        role,
        host,
        start,
        end,
    })
}

/// Whether the text pushes an image whose name has no registry host (`docker push team/app`),
/// which the client sends to Docker Hub.
#[allow(clippy::expect_used)] // constant patterns, compiled and exercised by the unit tests
fn pushes_to_docker_hub(text: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        super::data::compile(
            r"\b(?:docker|podman|nerdctl|buildah)(?: image)? push (?:-{1,2}[a-z-]+(?:[= ]\S+)? )*([^\s/]+)/\S+|The push refers to repository \[(docker\.io)/",
        )
        .expect("push regex compiles")
    });
    re.captures_iter(text).last().is_some_and(|c| {
        if c.get(2).is_some() {
            return true;
        }
        c.get(1).is_some_and(|first| {
            let first = first.as_str();
            !first.contains('.') && !first.contains(':') && first != "localhost"
        })
    })
}

struct TableRes {
    aadsts: Regex,
    arm: Option<Regex>,
    registry: Option<Regex>,
}

/// Codes of the error tables in the text: AADSTS numbers, ARM codes and registry error codes.
#[allow(clippy::expect_used)] // constant patterns, compiled and exercised by the unit tests
fn table_codes(text: &str, found: &mut Vec<(Kind, usize, usize, Option<String>)>) {
    use crate::error_codes as codes;
    // Most lines hold no code at all: say so before compiling anything.
    static PLAIN: OnceLock<Vec<&'static str>> = OnceLock::new();
    let plain = PLAIN.get_or_init(|| {
        codes::arm_entries()
            .iter()
            .chain(codes::registry_entries())
            .map(|e| e.code.split(':').next().unwrap_or(e.code).trim())
            .filter(|c| c.len() >= 3)
            .collect()
    });
    if !text.contains("AADSTS") && !plain.iter().any(|c| text.contains(c)) {
        return;
    }
    static RES: OnceLock<TableRes> = OnceLock::new();
    let res = RES.get_or_init(|| {
        let alternation = |entries: &[codes::Entry], upper: bool| {
            let mut list: Vec<String> = entries
                .iter()
                .map(|e| {
                    e.code
                        .split(':')
                        .next()
                        .unwrap_or(e.code)
                        .trim()
                        .to_string()
                })
                .filter(|c| !upper || c.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_'))
                .map(|c| regex::escape(&c))
                .collect();
            list.sort_by_key(|c| std::cmp::Reverse(c.len()));
            list.dedup();
            // Case matters: `DENIED` is a code, "denied" a word.
            regex::RegexBuilder::new(&format!(r"\b(?:{})\b", list.join("|")))
                .case_insensitive(false)
                .build()
                .ok()
        };
        TableRes {
            aadsts: super::data::compile(r"\bAADSTS(\d{4,8})\b").expect("aadsts regex compiles"),
            arm: alternation(codes::arm_entries(), false),
            registry: alternation(codes::registry_entries(), true),
        }
    });
    for c in res.aadsts.captures_iter(text) {
        let (Some(whole), Some(n)) = (c.get(0), c.get(1)) else {
            continue;
        };
        if let Some(e) = n.as_str().parse().ok().and_then(codes::aadsts) {
            found.push((
                Kind::Table(Layer::Entra, e.cause, Confidence::High),
                whole.start(),
                whole.end(),
                None,
            ));
        }
    }
    for m in res.arm.iter().flat_map(|re| re.find_iter(text)) {
        if let Some(e) = codes::arm_error(m.as_str()) {
            found.push((
                Kind::Table(Layer::Arm, e.cause, Confidence::High),
                m.start(),
                m.end(),
                None,
            ));
        }
    }
    for m in res.registry.iter().flat_map(|re| re.find_iter(text)) {
        if let Some(e) = codes::registry_error_with_message(m.as_str(), &text[m.start()..]) {
            // The plain UNAUTHORIZED and DENIED are what every refusal says: low.
            let confidence = if e.code.contains(':') {
                Confidence::High
            } else if e.cause == Code::REPOSITORY_PERMISSION_MISSING {
                Confidence::Low
            } else {
                Confidence::Medium
            };
            found.push((
                Kind::Table(Layer::Registry, e.cause, confidence),
                m.start(),
                m.end(),
                None,
            ));
        }
    }
}

/// The cause of a connection that could not be opened or kept, from the role of its host;
/// `None` for a host of no known role.
fn connection_failure(role: Option<Role>, privatelink: bool) -> Option<(Code, Confidence)> {
    use Confidence::{High, Low, Medium};
    Some(match role? {
        Role::DataEndpoint => (Code::DATA_ENDPOINT_UNREACHABLE, High),
        Role::DockerHub => (Code::DOCKER_PULL_ERROR, Medium),
        // A private endpoint's name or address that cannot be reached: the private path.
        Role::LoginServer if privatelink => (Code::PRIVATE_ENDPOINT_DNS_ERROR, Medium),
        Role::LoginServer => (Code::CONNECTIVITY_CHALLENGE_ERROR, High),
        Role::Metadata => (Code::AAD_CREDENTIAL_UNAVAILABLE, Medium),
        Role::EntraAuthority => (Code::AAD_CREDENTIAL_UNAVAILABLE, Low),
        _ => return None,
    })
}

/// The cause a link points to, from its kind and the role of its host.
fn decide(
    kind: Kind,
    role: Option<Role>,
    host: Option<&str>,
    text: &str,
) -> Option<(Code, Confidence)> {
    use Confidence::{High, Low, Medium};
    let lower = text.to_ascii_lowercase();
    let privatelink = lower.contains("privatelink");
    Some(match (kind, role) {
        (Kind::Table(_, Code::UNEXPECTED_ERROR, _), _) => return None,
        (Kind::Table(_, cause, confidence), _) => (cause, confidence),
        (Kind::Engine, _) => (Code::DOCKER_DAEMON_ERROR, High),
        (Kind::DnsBadName | Kind::TlsWrongRegistryName, _) => (Code::REGISTRY_NAME_INVALID, High),
        // A public registry has no IP rules of the user's: a 403 from it was made on the way.
        (Kind::Status(403), Some(Role::LoginServer | Role::DockerHub))
            if host.is_some_and(|h| h == "mcr.microsoft.com" || h.ends_with("docker.io")) =>
        {
            (Code::CLIENT_PROXY_ERROR, High)
        }
        (Kind::Proxy | Kind::ProxyStatus, _) => (Code::CLIENT_PROXY_ERROR, High),
        (Kind::Platform, _) => (Code::IMAGE_PLATFORM_MISMATCH, High),
        (Kind::Disallowed, _) => (Code::ARTIFACT_LOCKED, High),
        (Kind::TooManyRequests | Kind::Status(429), _) => {
            (Code::CONNECTIVITY_TOOMANYREQUESTS_ERROR, High)
        }
        (Kind::NameUnknown | Kind::ManifestUnknown, _) => (Code::IMAGE_NOT_FOUND, High),
        (Kind::Denied, _) if lower.contains("client with ip") => {
            (Code::CONNECTIVITY_FORBIDDEN_ERROR, High)
        }
        (Kind::Denied, Some(Role::DockerHub)) => (Code::IMAGE_NOT_TAGGED_FOR_REGISTRY, High),
        (Kind::Denied, _) => (Code::REPOSITORY_PERMISSION_MISSING, Low),
        // Name resolution: the host says whose name failed.
        (Kind::DnsNotFound | Kind::DnsServerFailed, Some(Role::DataEndpoint)) => {
            (Code::DATA_ENDPOINT_UNREACHABLE, High)
        }
        (Kind::DnsNotFound | Kind::DnsServerFailed, Some(Role::DockerHub)) => {
            (Code::DOCKER_PULL_ERROR, Medium)
        }
        (Kind::DnsNotFound | Kind::DnsServerFailed, _) if privatelink => {
            (Code::PRIVATE_ENDPOINT_DNS_ERROR, Medium)
        }
        (Kind::DnsNotFound, Some(Role::LoginServer)) => (Code::CONNECTIVITY_DNS_ERROR, High),
        (Kind::DnsNotFound | Kind::DnsServerFailed, _) => (Code::CONNECTIVITY_DNS_ERROR, Medium),
        // TLS.
        (Kind::Tls, _) => (Code::CONNECTIVITY_SSL_ERROR, High),
        // Connections: the host's role decides.
        (
            Kind::TcpTimeout
            | Kind::TcpRefused
            | Kind::TcpUnreachable
            | Kind::TcpReset
            | Kind::TlsTimeout,
            _,
        ) => return connection_failure(role, privatelink),
        (Kind::Status(_), _) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cause(text: &str) -> Option<Code> {
        read(text).map(|r| r.cause)
    }

    #[test]
    fn the_host_role_turns_one_timeout_into_three_causes() {
        assert_eq!(
            cause(
                r#"Head "https://contosoreg.azurecr.io/v2/app/manifests/1": dial tcp 10.0.0.4:443: i/o timeout"#
            ),
            Some(Code::CONNECTIVITY_CHALLENGE_ERROR)
        );
        assert_eq!(
            cause(
                r#"failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://contosoreg.westeurope.data.azurecr.io/docker/registry/v2/blobs/sha256/ab/abcd/data": dial tcp 20.1.2.3:443: i/o timeout"#
            ),
            Some(Code::DATA_ENDPOINT_UNREACHABLE)
        );
        assert_eq!(
            cause("dial tcp: lookup contosoreg.azurecr.io on 10.0.0.10:53: i/o timeout"),
            Some(Code::CONNECTIVITY_DNS_ERROR)
        );
    }

    #[test]
    fn a_blob_download_with_only_an_address_is_the_data_path() {
        assert_eq!(
            cause("error pulling image configuration: download failed after attempts=6: dial tcp 203.0.113.20:443: i/o timeout"),
            Some(Code::DATA_ENDPOINT_UNREACHABLE)
        );
    }

    #[test]
    fn resolvers_of_every_runtime_are_read_as_dns() {
        for text in [
            "Get \"https://contosoreg.azurecr.io/v2/\": dial tcp: lookup contosoreg.azurecr.io: no such host",
            "HTTPSConnectionPool(host='contosoreg.azurecr.io', port=443): Max retries exceeded with url: /v2/ (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object>: Failed to establish a new connection: [Errno -2] Name or service not known'))",
            "request to https://contosoreg.azurecr.io/v2/ failed, reason: getaddrinfo ENOTFOUND contosoreg.azurecr.io",
            "java.net.UnknownHostException: contosoreg.azurecr.io",
        ] {
            let r = read(text).unwrap_or_else(|| panic!("no reading: {text}"));
            assert_eq!(r.layer, Layer::Dns, "{text}");
            assert_eq!(r.cause, Code::CONNECTIVITY_DNS_ERROR, "{text}");
            assert_eq!(r.role, Some(Role::LoginServer), "{text}");
        }
    }

    #[test]
    fn a_proxy_in_the_chain_owns_what_follows_it() {
        let r = read("Get https://contosoreg.azurecr.io/v2/: proxyconnect tcp: dial tcp 127.0.0.1:3128: connect: connection refused").unwrap();
        assert_eq!(r.cause, Code::CLIENT_PROXY_ERROR);
        assert_eq!(r.layer, Layer::Proxy);
    }

    #[test]
    fn tls_failures_outside_go_are_tls() {
        for text in [
            "requests.exceptions.SSLError: HTTPSConnectionPool(host='contosoreg.azurecr.io', port=443): Max retries exceeded (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate')))",
            "javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
            "System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure.",
        ] {
            assert_eq!(cause(text), Some(Code::CONNECTIVITY_SSL_ERROR), "{text}");
        }
    }

    #[test]
    fn statuses_need_to_be_said_to_be_statuses() {
        assert_eq!(read("sha256:4013abcd401 layer 401"), None);
        let r = read("error parsing HTTP 429 response body").unwrap();
        assert_eq!(r.layer, Layer::Http);
        assert_eq!(r.cause, Code::CONNECTIVITY_TOOMANYREQUESTS_ERROR);
    }

    #[test]
    fn docker_hub_refusing_an_untagged_push_is_not_a_permission_problem() {
        let r = read("The push refers to repository [docker.io/library/app]\ndenied: requested access to the resource is denied").unwrap();
        assert_eq!(r.cause, Code::IMAGE_NOT_TAGGED_FOR_REGISTRY);
    }

    #[test]
    fn roles_of_hosts() {
        assert_eq!(role_of("contosoreg.azurecr.io"), Role::LoginServer);
        assert_eq!(
            role_of("contosoreg.eastus.data.azurecr.io"),
            Role::DataEndpoint
        );
        assert_eq!(role_of("x.blob.core.windows.net"), Role::DataEndpoint);
        assert_eq!(role_of("login.microsoftonline.com"), Role::EntraAuthority);
        assert_eq!(role_of("management.azure.com"), Role::Arm);
        assert_eq!(role_of("registry-1.docker.io"), Role::DockerHub);
        assert_eq!(role_of("169.254.169.254"), Role::Metadata);
        assert_eq!(role_of("example.com"), Role::Other);
    }
}
