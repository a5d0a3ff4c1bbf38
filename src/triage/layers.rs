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

use super::Confidence;

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
    pub cause: &'static str,
    pub confidence: Confidence,
    pub layer: Layer,
    pub role: Option<Role>,
    pub host: Option<String>,
    /// The deciding link, as bytes of the line.
    pub start: usize,
    pub end: usize,
}

/// Lower-case literals one of which every marker contains: the scan reads a line here only
/// when it holds one.
pub const ANCHORS: &[&str] = &[
    "lookup ",
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
}

impl Kind {
    fn layer(self) -> Layer {
        match self {
            Kind::DnsNotFound | Kind::DnsServerFailed => Layer::Dns,
            Kind::TcpTimeout | Kind::TcpRefused | Kind::TcpUnreachable | Kind::TcpReset => {
                Layer::Tcp
            }
            Kind::Proxy | Kind::ProxyStatus => Layer::Proxy,
            Kind::Tls | Kind::TlsTimeout => Layer::Tls,
            Kind::Status(_) => Layer::Http,
            Kind::Denied
            | Kind::NameUnknown
            | Kind::ManifestUnknown
            | Kind::TooManyRequests
            | Kind::Disallowed => Layer::Registry,
            Kind::Platform => Layer::Image,
            Kind::Engine => Layer::Engine,
        }
    }
}

struct Marker {
    kind: Kind,
    re: Regex,
    /// The capture group naming the host the link is about, if the marker names one.
    host_group: Option<usize>,
}

fn markers() -> &'static [Marker] {
    static MARKERS: OnceLock<Vec<Marker>> = OnceLock::new();
    MARKERS.get_or_init(|| {
        let m = |kind, re: &str, host_group| Marker {
            kind,
            re: super::compile(re).expect("layer marker compiles"),
            host_group,
        };
        vec![
            // Resolvers: Go (`lookup H on R: no such host`), glibc / curl / urllib3, .NET, Java, Node.js.
            m(
                Kind::DnsServerFailed,
                r"lookup ([a-z0-9._-]+)(?: on [0-9a-f.:\[\]]+)?: (?:server misbehaving|read udp|dial udp|i/o timeout|write udp)",
                Some(1),
            ),
            m(
                Kind::DnsNotFound,
                r"lookup ([a-z0-9._-]+)(?: on [0-9a-f.:\[\]]+)?: no such host",
                Some(1),
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
                r"connection reset by peer|\bECONNRESET\b|forcibly closed by the remote host|\bWinError 10054\b",
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
                r"requested access to the resource is denied|\bdenied: |\bDENIED\b",
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
    if h.contains(".data.azurecr.") || ends(".data.mcr.microsoft.com") || ends(".cdn.mscr.io") {
        Role::DataEndpoint
    } else if ends(".blob.core.windows.net")
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
        .map(|re| super::compile(re).expect("host regex compiles"))
        .collect()
    })
}

/// The last host the text names before byte `before` (URLs, connection pools, dials, image
/// references), with where it starts.
fn host_before(text: &str, before: usize) -> Option<(usize, String)> {
    let head = &text[..before];
    let mut best: Option<(usize, String)> = None;
    for re in host_regexes() {
        for c in re.captures_iter(head) {
            if let Some(h) = c.get(1) {
                let host = h.as_str().to_ascii_lowercase();
                if host.starts_with("aka.ms") || host.ends_with("docs.microsoft.com") {
                    continue;
                }
                if best.as_ref().is_none_or(|(at, _)| h.start() > *at) {
                    best = Some((h.start(), host));
                }
            }
        }
    }
    best
}

/// Words that say a link is fetching image layers, whose host is a data endpoint even when
/// only its address is printed.
fn is_blob_download(text: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        super::compile(
            r"pulling image configuration|layer download|httpReadSeeker|/blobs/sha256|download failed after attempts|failed to copy: |error pulling image configuration|downloading layer",
        )
        .expect("blob regex compiles")
    })
    .is_match(text)
}

/// Reads one line: the innermost link that names a layer, and the cause it points to.
pub fn read(text: &str) -> Option<Reading> {
    // Every marker found, with its span: the innermost is the one that starts last.
    let mut found: Vec<(Kind, usize, usize, Option<String>)> = Vec::new();
    for marker in markers() {
        for c in marker.re.captures_iter(text) {
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
                .and_then(|g| c.get(g))
                .map(|h| h.as_str().to_ascii_lowercase());
            found.push((kind, whole.start(), whole.end(), host));
        }
    }
    if found.is_empty() {
        return None;
    }
    // A proxy in the chain decides: what follows it (a refused connect, a 403) is the proxy's.
    let proxy = found
        .iter()
        .filter(|f| matches!(f.0, Kind::Proxy | Kind::ProxyStatus))
        .max_by_key(|f| f.1)
        .cloned();
    let innermost = found
        .iter()
        .max_by_key(|f| (f.1, std::cmp::Reverse(f.2)))
        .cloned()?;
    let (kind, start, end, marker_host) = match proxy {
        Some(p) if !matches!(innermost.0, Kind::Tls) => p,
        _ => innermost,
    };
    let host = marker_host
        .or_else(|| host_before(text, start).map(|(_, h)| h))
        .filter(|h| !h.is_empty());
    let mut role = host.as_deref().map(role_of);
    if is_blob_download(&text[..end.min(text.len())])
        && matches!(kind.layer(), Layer::Dns | Layer::Tcp | Layer::Tls)
        && !matches!(role, Some(Role::DataEndpoint | Role::DockerHub))
        && !matches!(kind, Kind::DnsNotFound | Kind::DnsServerFailed if matches!(role, Some(Role::LoginServer)))
    {
        role = Some(Role::DataEndpoint);
    }
    if matches!(kind, Kind::DnsServerFailed) && role.is_none() {
        role = Some(Role::Resolver);
    }
    let (cause, confidence) = decide(kind, role, text)?;
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

/// The cause a link points to, from its kind and the role of its host.
fn decide(kind: Kind, role: Option<Role>, text: &str) -> Option<(&'static str, Confidence)> {
    use Confidence::{High, Low, Medium};
    let privatelink = text.to_ascii_lowercase().contains("privatelink");
    Some(match (kind, role) {
        (Kind::Engine, _) => ("DOCKER_DAEMON_ERROR", High),
        (Kind::Proxy | Kind::ProxyStatus, _) => ("CLIENT_PROXY_ERROR", High),
        (Kind::Platform, _) => ("IMAGE_PLATFORM_MISMATCH", High),
        (Kind::Disallowed, _) => ("ARTIFACT_LOCKED", High),
        (Kind::TooManyRequests | Kind::Status(429), _) => {
            ("CONNECTIVITY_TOOMANYREQUESTS_ERROR", High)
        }
        (Kind::NameUnknown | Kind::ManifestUnknown, _) => ("IMAGE_NOT_FOUND", High),
        (Kind::Denied, Some(Role::DockerHub)) => ("IMAGE_NOT_TAGGED_FOR_REGISTRY", Medium),
        (Kind::Denied, _) => ("REPOSITORY_PERMISSION_MISSING", Low),
        // Name resolution: the host says whose name failed.
        (Kind::DnsNotFound | Kind::DnsServerFailed, Some(Role::DataEndpoint)) => {
            ("DATA_ENDPOINT_UNREACHABLE", High)
        }
        (Kind::DnsNotFound | Kind::DnsServerFailed, Some(Role::DockerHub)) => {
            ("DOCKER_PULL_ERROR", Medium)
        }
        (Kind::DnsNotFound | Kind::DnsServerFailed, _) if privatelink => {
            ("PRIVATE_ENDPOINT_DNS_ERROR", Medium)
        }
        (Kind::DnsNotFound, Some(Role::LoginServer)) => ("CONNECTIVITY_DNS_ERROR", High),
        (Kind::DnsNotFound | Kind::DnsServerFailed, _) => ("CONNECTIVITY_DNS_ERROR", Medium),
        // TLS.
        (Kind::Tls, _) => ("CONNECTIVITY_SSL_ERROR", High),
        // Connections: the host's role decides.
        (
            Kind::TcpTimeout
            | Kind::TcpRefused
            | Kind::TcpUnreachable
            | Kind::TcpReset
            | Kind::TlsTimeout,
            Some(Role::DataEndpoint),
        ) => ("DATA_ENDPOINT_UNREACHABLE", High),
        (
            Kind::TcpTimeout
            | Kind::TcpRefused
            | Kind::TcpUnreachable
            | Kind::TcpReset
            | Kind::TlsTimeout,
            Some(Role::DockerHub),
        ) => ("DOCKER_PULL_ERROR", Medium),
        (
            Kind::TcpTimeout
            | Kind::TcpRefused
            | Kind::TcpUnreachable
            | Kind::TcpReset
            | Kind::TlsTimeout,
            Some(Role::LoginServer),
        ) => ("CONNECTIVITY_CHALLENGE_ERROR", High),
        (
            Kind::TcpTimeout
            | Kind::TcpRefused
            | Kind::TcpUnreachable
            | Kind::TcpReset
            | Kind::TlsTimeout,
            Some(Role::Metadata),
        ) => ("AAD_CREDENTIAL_UNAVAILABLE", Medium),
        (
            Kind::TcpTimeout
            | Kind::TcpRefused
            | Kind::TcpUnreachable
            | Kind::TcpReset
            | Kind::TlsTimeout,
            Some(Role::EntraAuthority),
        ) => ("AAD_CREDENTIAL_UNAVAILABLE", Low),
        (
            Kind::TcpTimeout
            | Kind::TcpRefused
            | Kind::TcpUnreachable
            | Kind::TcpReset
            | Kind::TlsTimeout,
            _,
        ) => return None,
        (Kind::Status(_), _) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cause(text: &str) -> Option<&'static str> {
        read(text).map(|r| r.cause)
    }

    #[test]
    fn the_host_role_turns_one_timeout_into_three_causes() {
        assert_eq!(
            cause(
                r#"Head "https://contosoreg.azurecr.io/v2/app/manifests/1": dial tcp 10.0.0.4:443: i/o timeout"#
            ),
            Some("CONNECTIVITY_CHALLENGE_ERROR")
        );
        assert_eq!(
            cause(
                r#"failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://contosoreg.westeurope.data.azurecr.io/docker/registry/v2/blobs/sha256/ab/abcd/data": dial tcp 20.1.2.3:443: i/o timeout"#
            ),
            Some("DATA_ENDPOINT_UNREACHABLE")
        );
        assert_eq!(
            cause("dial tcp: lookup contosoreg.azurecr.io on 10.0.0.10:53: i/o timeout"),
            Some("CONNECTIVITY_DNS_ERROR")
        );
    }

    #[test]
    fn a_blob_download_with_only_an_address_is_the_data_path() {
        assert_eq!(
            cause("error pulling image configuration: download failed after attempts=6: dial tcp 203.0.113.20:443: i/o timeout"),
            Some("DATA_ENDPOINT_UNREACHABLE")
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
            assert_eq!(r.cause, "CONNECTIVITY_DNS_ERROR", "{text}");
            assert_eq!(r.role, Some(Role::LoginServer), "{text}");
        }
    }

    #[test]
    fn a_proxy_in_the_chain_owns_what_follows_it() {
        let r = read("Get https://contosoreg.azurecr.io/v2/: proxyconnect tcp: dial tcp 127.0.0.1:3128: connect: connection refused").unwrap();
        assert_eq!(r.cause, "CLIENT_PROXY_ERROR");
        assert_eq!(r.layer, Layer::Proxy);
    }

    #[test]
    fn tls_failures_outside_go_are_tls() {
        for text in [
            "requests.exceptions.SSLError: HTTPSConnectionPool(host='contosoreg.azurecr.io', port=443): Max retries exceeded (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate')))",
            "javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
            "System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure.",
        ] {
            assert_eq!(cause(text), Some("CONNECTIVITY_SSL_ERROR"), "{text}");
        }
    }

    #[test]
    fn statuses_need_to_be_said_to_be_statuses() {
        assert_eq!(read("sha256:4013abcd401 layer 401"), None);
        let r = read("error parsing HTTP 429 response body").unwrap();
        assert_eq!(r.layer, Layer::Http);
        assert_eq!(r.cause, "CONNECTIVITY_TOOMANYREQUESTS_ERROR");
    }

    #[test]
    fn docker_hub_refusing_an_untagged_push_is_not_a_permission_problem() {
        let r = read("The push refers to repository [docker.io/library/app]\ndenied: requested access to the resource is denied").unwrap();
        assert_eq!(r.cause, "IMAGE_NOT_TAGGED_FOR_REGISTRY");
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
