//! Runtime-switchable faults.

use std::fmt;
use std::str::FromStr;

/// A fault the bed can inject, globally (`set_fault(None, ..)`) or for one registry.
///
/// String form (for the example binary and `FromStr`): the kebab-case name, with a value after
/// `=` for the faults that take one, e.g. `slow=50`, `throttled=3`, `access-token-error=500`,
/// `anonymous-pull=off`. `Display` prints the same form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Login server answers 403 DENIED (client IP not allowed); ARM shows publicNetworkAccess Disabled.
    PublicAccessDisabled,
    /// Login server answers 403 DENIED; ARM shows a Deny network rule set whose rules miss 127.0.0.1.
    IpFirewall,
    /// Login server answers 429 TOOMANYREQUESTS with `Retry-After: <secs>`.
    Throttled { retry_after_secs: u32 },
    /// `/v2/` answers 200 without asking for authentication.
    NoChallenge,
    /// `/v2/` answers 401 with a broken `WWW-Authenticate` header.
    MalformedChallenge,
    /// `/v2/` answers 401 with `WWW-Authenticate: Basic realm=...`.
    BasicOnlyChallenge,
    /// Login server presents a certificate for another name.
    TlsWrongName,
    /// Login server presents an expired certificate.
    TlsExpired,
    /// Login server presents a certificate from another CA ("intercepting proxy").
    TlsUntrusted,
    /// Admin user disabled, whatever the registry's state says.
    AdminUserDisabled,
    /// Every token the bed issues (Entra: global only; ACR: per registry) is already expired.
    ExpiredTokens,
    /// The registry lives in another tenant than the identities.
    TenantMismatch,
    /// The registry's authentication-as-arm policy is disabled (ARM-audience tokens refused).
    ArmAudienceRefused,
    /// Force anonymous pull on (`true`) or off (`false`).
    AnonymousPull(bool),
    /// Basic auth with an app id answers "Application not registered with AAD.".
    AppNotRegistered,
    /// Every response is delayed by this many milliseconds (also a latency knob).
    Slow { ms: u64 },
    /// A network round-trip time in milliseconds: every response is delayed by it (as `slow`),
    /// and every new connection first waits one round trip for TCP's handshake plus, on the TLS
    /// listeners, one for the TLS 1.3 handshake. Global only (a connection is priced before its
    /// Host is known). The benchmark's latency knob.
    Rtt { ms: u64 },
    /// Connections are accepted and requests never answered.
    Hang,
    /// Response bodies are sent one byte per `interval_ms` (default 1000).
    Trickle { interval_ms: u64 },
    /// `/oauth2/exchange` answers this status.
    RefreshExchangeError { status: u16 },
    /// `/oauth2/token` answers this status.
    AccessTokenError { status: u16 },
    /// The caller cannot read the registry in ARM (403 AuthorizationFailed).
    ArmForbidden,
    /// Every service principal secret is expired (Entra AADSTS7000222, Graph end dates in the past).
    SpSecretExpired,
    /// Every service principal secret was rotated: the known secret is wrong (AADSTS7000215).
    SpSecretWrong,
    /// Entra does not know any tenant (AADSTS90002).
    UnknownTenant,
    /// Customer-managed key encryption whose identity is not among the registry's identities.
    CmkIdentityMissing,
    /// Data endpoint enabled; blob downloads redirect to a data endpoint host that cannot be reached.
    DataEndpointUnreachable,
    /// Authorized blob downloads are redirected, as ACR does without dedicated data endpoints,
    /// to the registry's storage account `<name>stg.blob.core.windows.net` (on the registry
    /// listener's port, with a SAS query), which the registry listener serves.
    BlobRedirect,
    /// ARM reports a private endpoint mapping the login server to a private 10.x address.
    PrivateEndpoint,
    /// No managed identity assigned: IMDS answers 400 "Identity not found", the App Service style
    /// endpoint 400 "Unable to load the proper Managed Identity.".
    NoManagedIdentity,
    /// Entra trusts no federated credential for the assertion's issuer (AADSTS700211, 401
    /// invalid_client), whatever the application's federated credentials say.
    FederatedIssuerMismatch,
    /// Entra finds a federated credential for the issuer but none for the assertion's subject
    /// (AADSTS700213, 401 invalid_client).
    FederatedSubjectMismatch,
    /// Every federated assertion is treated as outside its valid time range (AADSTS700024, 401
    /// invalid_client), as a projected token file read once and reused after it lapsed.
    FederatedTokenExpired,
    /// The tenant has no service principal for `resource` (default the registry audience
    /// `https://containerregistry.azure.net`): Entra answers AADSTS500011 (400 invalid_resource)
    /// and the instance metadata endpoint passes the refusal on (400 invalid_resource).
    ResourcePrincipalMissing { resource: String },
    /// Graph refuses to show application objects (403 Authorization_RequestDenied).
    GraphForbidden,
    /// Responses to requests whose path matches `path` (see [`path_matches`]) are spoiled the
    /// hostile way `how` (huge or broken headers, huge, cut or non-JSON bodies, absurd JWTs).
    Mangle { path: String, how: Mangle },
    /// Requests whose path matches `path` are answered `307 Temporary Redirect` to `to` followed
    /// by the original path and query (a client that followed would repeat method, body and
    /// headers towards another host).
    Redirect { path: String, to: String },
    /// `/v2/` challenges with a realm on another host (`https://<host>/oauth2/token`), as a
    /// spoofed or intercepted registry would, to collect whatever a client sends there.
    ForeignRealm { host: String },
    /// One break in an AKS cluster's path to the registry (`aks-*`, see [`crate::aks::AksFault`]).
    Aks(crate::aks::AksFault),
    /// The repository, tag or manifest `target` (`REPO`, `REPO:TAG` or `REPO@DIGEST`) has
    /// `writeEnabled: false` in ACR's `/acr/v1/` API, and the registry refuses pushes to it and
    /// deletes of it with `405 REGISTRY_DISALLOWED_OPERATION`, as ACR does for a locked artifact.
    ArtifactLocked { target: String },
    /// Like `ArtifactLocked`, with only `deleteEnabled: false`: pushes work, deletes are refused.
    DeleteLocked { target: String },
}

/// How [`Fault::Mangle`] spoils a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mangle {
    /// An extra `X-Acr-Filler` header of 1 MiB (and a `WWW-Authenticate` padded to 1 MiB when present).
    HugeHeader,
    /// 5000 extra `X-Acr-Filler-N` headers.
    ManyHeaders,
    /// `WWW-Authenticate` sent three times: `Basic realm=..` first, then the real value twice.
    DuplicateChallenge,
    /// `WWW-Authenticate` whose value carries bytes that are not UTF-8.
    NotUtf8Header,
    /// The body is replaced by 64 MiB of JSON-looking bytes, streamed (never held whole).
    HugeBody,
    /// `Content-Length` announces the whole body but only half of it is sent before the stream fails.
    TruncatedBody,
    /// The body is an HTML error page (status and `Content-Type: application/json` kept).
    NotJson,
    /// The body is bytes that are not UTF-8 (status and content type kept).
    NotUtf8Body,
    /// Every JWT in the JSON body (`access_token`, `refresh_token`, `accessToken`) gets a payload that is not base64url.
    JwtBadBase64,
    /// Every JWT in the JSON body loses its signature part (`header.payload`).
    JwtMissingParts,
    /// Every JWT in the JSON body is re-signed with `exp` in the year 99999.
    JwtExpFar,
    /// Every JWT in the JSON body is re-signed with a negative `exp` (and `iat`/`nbf`).
    JwtExpNegative,
    /// Every JWT in the JSON body is re-signed with `exp` as a string (`"tomorrow"`).
    JwtExpString,
    /// The body becomes a registry error envelope (status kept) whose code and message carry
    /// terminal escape sequences, carriage returns, an Azure Pipelines `##vso[` command, a GitHub
    /// Actions `::` command at the start of a line and a Markdown fence, as
    /// [`HOSTILE_TEXT`] spells them.
    HostileText,
}

/// What [`Mangle::HostileText`] puts in the registry error's message.
pub const HOSTILE_TEXT: &str = "denied\u{1b}[2J\u{1b}]0;pwned\u{7}\r\n##vso[task.setvariable variable=ACR_PWNED]1\n::add-mask::x\n```\n# injected heading";

/// Every [`Mangle`] name.
pub const MANGLE_NAMES: &[&str] = &[
    "huge-header",
    "many-headers",
    "duplicate-challenge",
    "not-utf8-header",
    "huge-body",
    "truncated-body",
    "not-json",
    "not-utf8-body",
    "jwt-bad-base64",
    "jwt-missing-parts",
    "jwt-exp-far",
    "jwt-exp-negative",
    "jwt-exp-string",
    "hostile-text",
];

impl Mangle {
    pub fn name(&self) -> &'static str {
        match self {
            Mangle::HugeHeader => "huge-header",
            Mangle::ManyHeaders => "many-headers",
            Mangle::DuplicateChallenge => "duplicate-challenge",
            Mangle::NotUtf8Header => "not-utf8-header",
            Mangle::HugeBody => "huge-body",
            Mangle::TruncatedBody => "truncated-body",
            Mangle::NotJson => "not-json",
            Mangle::NotUtf8Body => "not-utf8-body",
            Mangle::JwtBadBase64 => "jwt-bad-base64",
            Mangle::JwtMissingParts => "jwt-missing-parts",
            Mangle::JwtExpFar => "jwt-exp-far",
            Mangle::JwtExpNegative => "jwt-exp-negative",
            Mangle::JwtExpString => "jwt-exp-string",
            Mangle::HostileText => "hostile-text",
        }
    }
}

impl FromStr for Mangle {
    type Err = ParseFaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "huge-header" => Mangle::HugeHeader,
            "many-headers" => Mangle::ManyHeaders,
            "duplicate-challenge" => Mangle::DuplicateChallenge,
            "not-utf8-header" => Mangle::NotUtf8Header,
            "huge-body" => Mangle::HugeBody,
            "truncated-body" => Mangle::TruncatedBody,
            "not-json" => Mangle::NotJson,
            "not-utf8-body" => Mangle::NotUtf8Body,
            "jwt-bad-base64" => Mangle::JwtBadBase64,
            "jwt-missing-parts" => Mangle::JwtMissingParts,
            "jwt-exp-far" => Mangle::JwtExpFar,
            "jwt-exp-negative" => Mangle::JwtExpNegative,
            "jwt-exp-string" => Mangle::JwtExpString,
            "hostile-text" => Mangle::HostileText,
            other => return Err(ParseFaultError(other.to_string())),
        })
    }
}

/// Whether a request path is targeted by a [`Fault::Mangle`] / [`Fault::Redirect`] pattern:
/// `*SUFFIX` matches paths ending with SUFFIX (e.g. `*/oauth2/v2.0/token`, whatever the
/// tenant), anything else matches paths starting with it (`/oauth2/exchange`, `/v2/`).
pub fn path_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_prefix('*') {
        Some(suffix) => path.ends_with(suffix),
        None => path.starts_with(pattern),
    }
}

/// Every fault name, in the order documented in tests/README.md.
pub const FAULT_NAMES: &[&str] = &[
    "public-access-disabled",
    "ip-firewall",
    "throttled",
    "no-challenge",
    "malformed-challenge",
    "basic-only-challenge",
    "tls-wrong-name",
    "tls-expired",
    "tls-untrusted",
    "admin-user-disabled",
    "expired-tokens",
    "tenant-mismatch",
    "arm-audience-refused",
    "anonymous-pull",
    "app-not-registered",
    "slow",
    "rtt",
    "hang",
    "trickle",
    "refresh-exchange-error",
    "access-token-error",
    "arm-forbidden",
    "sp-secret-expired",
    "sp-secret-wrong",
    "unknown-tenant",
    "cmk-identity-missing",
    "data-endpoint-unreachable",
    "blob-redirect",
    "private-endpoint",
    "no-managed-identity",
    "federated-issuer-mismatch",
    "federated-subject-mismatch",
    "federated-token-expired",
    "resource-principal-missing",
    "graph-forbidden",
    "mangle",
    "redirect",
    "foreign-realm",
    "aks-kubelet-no-acrpull",
    "aks-service-principal",
    "aks-outbound-ip-denied",
    "aks-no-private-path",
    "aks-dns-zone-unlinked",
    "aks-data-record-missing",
    "aks-udr",
    "aks-custom-dns",
    "artifact-locked",
    "delete-locked",
];

impl Fault {
    /// The kebab-case name (without value).
    pub fn name(&self) -> &'static str {
        match self {
            Fault::PublicAccessDisabled => "public-access-disabled",
            Fault::IpFirewall => "ip-firewall",
            Fault::Throttled { .. } => "throttled",
            Fault::NoChallenge => "no-challenge",
            Fault::MalformedChallenge => "malformed-challenge",
            Fault::BasicOnlyChallenge => "basic-only-challenge",
            Fault::TlsWrongName => "tls-wrong-name",
            Fault::TlsExpired => "tls-expired",
            Fault::TlsUntrusted => "tls-untrusted",
            Fault::AdminUserDisabled => "admin-user-disabled",
            Fault::ExpiredTokens => "expired-tokens",
            Fault::TenantMismatch => "tenant-mismatch",
            Fault::ArmAudienceRefused => "arm-audience-refused",
            Fault::AnonymousPull(_) => "anonymous-pull",
            Fault::AppNotRegistered => "app-not-registered",
            Fault::Slow { .. } => "slow",
            Fault::Rtt { .. } => "rtt",
            Fault::Hang => "hang",
            Fault::Trickle { .. } => "trickle",
            Fault::RefreshExchangeError { .. } => "refresh-exchange-error",
            Fault::AccessTokenError { .. } => "access-token-error",
            Fault::ArmForbidden => "arm-forbidden",
            Fault::SpSecretExpired => "sp-secret-expired",
            Fault::SpSecretWrong => "sp-secret-wrong",
            Fault::UnknownTenant => "unknown-tenant",
            Fault::CmkIdentityMissing => "cmk-identity-missing",
            Fault::DataEndpointUnreachable => "data-endpoint-unreachable",
            Fault::BlobRedirect => "blob-redirect",
            Fault::PrivateEndpoint => "private-endpoint",
            Fault::NoManagedIdentity => "no-managed-identity",
            Fault::FederatedIssuerMismatch => "federated-issuer-mismatch",
            Fault::FederatedSubjectMismatch => "federated-subject-mismatch",
            Fault::FederatedTokenExpired => "federated-token-expired",
            Fault::ResourcePrincipalMissing { .. } => "resource-principal-missing",
            Fault::GraphForbidden => "graph-forbidden",
            Fault::Mangle { .. } => "mangle",
            Fault::Redirect { .. } => "redirect",
            Fault::ForeignRealm { .. } => "foreign-realm",
            Fault::Aks(a) => a.name(),
            Fault::ArtifactLocked { .. } => "artifact-locked",
            Fault::DeleteLocked { .. } => "delete-locked",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Throttled { retry_after_secs } => write!(f, "throttled={retry_after_secs}"),
            Fault::AnonymousPull(on) => {
                write!(f, "anonymous-pull={}", if *on { "on" } else { "off" })
            }
            Fault::Slow { ms } => write!(f, "slow={ms}"),
            Fault::Rtt { ms } => write!(f, "rtt={ms}"),
            Fault::Trickle { interval_ms } => write!(f, "trickle={interval_ms}"),
            Fault::RefreshExchangeError { status } => write!(f, "refresh-exchange-error={status}"),
            Fault::AccessTokenError { status } => write!(f, "access-token-error={status}"),
            Fault::Mangle { path, how } => write!(f, "mangle={path}:{}", how.name()),
            Fault::Redirect { path, to } => write!(f, "redirect={path}:{to}"),
            Fault::ForeignRealm { host } => write!(f, "foreign-realm={host}"),
            Fault::ResourcePrincipalMissing { resource } => {
                write!(f, "resource-principal-missing={resource}")
            }
            Fault::ArtifactLocked { target } => write!(f, "artifact-locked={target}"),
            Fault::DeleteLocked { target } => write!(f, "delete-locked={target}"),
            other => f.write_str(other.name()),
        }
    }
}

/// Error of `Fault::from_str`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault '{0}' (known: {known})", known = FAULT_NAMES.join(", "))]
pub struct ParseFaultError(pub String);

fn num<T: FromStr>(input: &str, value: Option<&str>, default: T) -> Result<T, ParseFaultError> {
    match value {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| ParseFaultError(input.to_string())),
    }
}

impl FromStr for Fault {
    type Err = ParseFaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, value) = match s.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v)),
            None => (s.trim(), None),
        };
        let plain = |f: Fault| {
            if value.is_some() {
                Err(ParseFaultError(s.to_string()))
            } else {
                Ok(f)
            }
        };
        match name {
            "public-access-disabled" => plain(Fault::PublicAccessDisabled),
            "ip-firewall" => plain(Fault::IpFirewall),
            "throttled" => Ok(Fault::Throttled {
                retry_after_secs: num(s, value, 5)?,
            }),
            "no-challenge" => plain(Fault::NoChallenge),
            "malformed-challenge" => plain(Fault::MalformedChallenge),
            "basic-only-challenge" => plain(Fault::BasicOnlyChallenge),
            "tls-wrong-name" => plain(Fault::TlsWrongName),
            "tls-expired" => plain(Fault::TlsExpired),
            "tls-untrusted" => plain(Fault::TlsUntrusted),
            "admin-user-disabled" => plain(Fault::AdminUserDisabled),
            "expired-tokens" => plain(Fault::ExpiredTokens),
            "tenant-mismatch" => plain(Fault::TenantMismatch),
            "arm-audience-refused" => plain(Fault::ArmAudienceRefused),
            "anonymous-pull" => match value.map(str::trim) {
                None | Some("on") | Some("true") => Ok(Fault::AnonymousPull(true)),
                Some("off") | Some("false") => Ok(Fault::AnonymousPull(false)),
                Some(_) => Err(ParseFaultError(s.to_string())),
            },
            "app-not-registered" => plain(Fault::AppNotRegistered),
            "slow" => Ok(Fault::Slow {
                ms: num(s, value, 1000)?,
            }),
            "rtt" => Ok(Fault::Rtt {
                ms: num(s, value, 50)?,
            }),
            "hang" => plain(Fault::Hang),
            "trickle" => Ok(Fault::Trickle {
                interval_ms: num(s, value, 1000)?,
            }),
            "refresh-exchange-error" => Ok(Fault::RefreshExchangeError {
                status: num(s, value, 500)?,
            }),
            "access-token-error" => Ok(Fault::AccessTokenError {
                status: num(s, value, 500)?,
            }),
            "arm-forbidden" => plain(Fault::ArmForbidden),
            "sp-secret-expired" => plain(Fault::SpSecretExpired),
            "sp-secret-wrong" => plain(Fault::SpSecretWrong),
            "unknown-tenant" => plain(Fault::UnknownTenant),
            "cmk-identity-missing" => plain(Fault::CmkIdentityMissing),
            "data-endpoint-unreachable" => plain(Fault::DataEndpointUnreachable),
            "blob-redirect" => plain(Fault::BlobRedirect),
            "private-endpoint" => plain(Fault::PrivateEndpoint),
            "no-managed-identity" => plain(Fault::NoManagedIdentity),
            "federated-issuer-mismatch" => plain(Fault::FederatedIssuerMismatch),
            "federated-subject-mismatch" => plain(Fault::FederatedSubjectMismatch),
            "federated-token-expired" => plain(Fault::FederatedTokenExpired),
            // `resource-principal-missing[=RESOURCE]` (default the registry audience).
            "resource-principal-missing" => Ok(Fault::ResourcePrincipalMissing {
                resource: value
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| crate::ids::ACR_AUDIENCE.into()),
            }),
            "graph-forbidden" => plain(Fault::GraphForbidden),
            // `mangle=PATH:HOW` (default `/v2/:not-json`).
            "mangle" => match value {
                None => Ok(Fault::Mangle {
                    path: "/v2/".into(),
                    how: Mangle::NotJson,
                }),
                Some(v) => {
                    let (path, how) = v
                        .rsplit_once(':')
                        .ok_or_else(|| ParseFaultError(s.to_string()))?;
                    Ok(Fault::Mangle {
                        path: path.trim().to_string(),
                        how: how.parse().map_err(|_| ParseFaultError(s.to_string()))?,
                    })
                }
            },
            "foreign-realm" => Ok(Fault::ForeignRealm {
                host: value
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| "harvest.example".into()),
            }),
            // `artifact-locked=REPO[:TAG|@DIGEST]` and `delete-locked=..` (default repository `app`).
            "artifact-locked" | "delete-locked" => {
                let target = value
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| "app".into());
                if target.contains(char::is_whitespace) {
                    return Err(ParseFaultError(s.to_string()));
                }
                Ok(if name == "artifact-locked" {
                    Fault::ArtifactLocked { target }
                } else {
                    Fault::DeleteLocked { target }
                })
            }
            // `redirect=PATH:URL` (default: everything to `http://127.0.0.1:9`, the discard port).
            "redirect" => match value {
                None => Ok(Fault::Redirect {
                    path: "/".into(),
                    to: "http://127.0.0.1:9".into(),
                }),
                Some(v) => {
                    let (path, to) = v
                        .split_once(':')
                        .filter(|(_, to)| to.starts_with("http"))
                        .ok_or_else(|| ParseFaultError(s.to_string()))?;
                    Ok(Fault::Redirect {
                        path: path.trim().to_string(),
                        to: to.trim().trim_end_matches('/').to_string(),
                    })
                }
            },
            aks if aks.starts_with("aks-") => plain(Fault::Aks(aks.parse()?)),
            _ => Err(ParseFaultError(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_and_round_trips() {
        for name in FAULT_NAMES {
            let fault: Fault = name.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(fault.name(), *name);
            let again: Fault = fault
                .to_string()
                .parse()
                .unwrap_or_else(|e| panic!("{fault}: {e}"));
            assert_eq!(again, fault);
        }
        assert_eq!("slow=50".parse::<Fault>(), Ok(Fault::Slow { ms: 50 }));
        assert_eq!("rtt=20".parse::<Fault>(), Ok(Fault::Rtt { ms: 20 }));
        assert_eq!("rtt".parse::<Fault>(), Ok(Fault::Rtt { ms: 50 }));
        assert_eq!(
            "anonymous-pull=off".parse::<Fault>(),
            Ok(Fault::AnonymousPull(false))
        );
        assert_eq!(
            "resource-principal-missing".parse::<Fault>(),
            Ok(Fault::ResourcePrincipalMissing {
                resource: crate::ids::ACR_AUDIENCE.into()
            })
        );
        assert_eq!(
            "resource-principal-missing=https://vault.azure.net".parse::<Fault>(),
            Ok(Fault::ResourcePrincipalMissing {
                resource: "https://vault.azure.net".into()
            })
        );
        assert!("federated-token-expired=1".parse::<Fault>().is_err());
        assert!("slow=abc".parse::<Fault>().is_err());
        assert!("hang=3".parse::<Fault>().is_err());
        assert!("nonsense".parse::<Fault>().is_err());
        for how in MANGLE_NAMES {
            let text = format!("mangle=*/oauth2/v2.0/token:{how}");
            let fault: Fault = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(fault.to_string(), text);
        }
        assert_eq!(
            "redirect=/oauth2/exchange:http://127.0.0.1:1234/".parse::<Fault>(),
            Ok(Fault::Redirect {
                path: "/oauth2/exchange".into(),
                to: "http://127.0.0.1:1234".into()
            })
        );
        assert!("mangle=/v2/:nonsense".parse::<Fault>().is_err());
        assert_eq!(
            "artifact-locked=team/app:1.0".parse::<Fault>(),
            Ok(Fault::ArtifactLocked {
                target: "team/app:1.0".into()
            })
        );
        assert_eq!(
            "delete-locked".parse::<Fault>(),
            Ok(Fault::DeleteLocked {
                target: "app".into()
            })
        );
        assert!("redirect=/v2/".parse::<Fault>().is_err());
        assert!(path_matches("*/oauth2/v2.0/token", "/t/oauth2/v2.0/token"));
        assert!(path_matches("/v2/", "/v2/app/tags/list"));
        assert!(!path_matches("/oauth2/token", "/t/oauth2/token"));
    }
}

/// What a lock fault covers: a repository, one tag of it, or one manifest of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LockTarget {
    Repository(String),
    Tag(String, String),
    Manifest(String, String),
}

impl LockTarget {
    pub(crate) fn parse(target: &str) -> LockTarget {
        if let Some((repo, digest)) = target.split_once('@') {
            return LockTarget::Manifest(repo.to_string(), digest.to_string());
        }
        match target.split_once(':') {
            Some((repo, tag)) => LockTarget::Tag(repo.to_string(), tag.to_string()),
            None => LockTarget::Repository(target.to_string()),
        }
    }

    pub(crate) fn repository(&self) -> &str {
        match self {
            LockTarget::Repository(r) | LockTarget::Tag(r, _) | LockTarget::Manifest(r, _) => r,
        }
    }
}

/// `(writeEnabled, deleteEnabled)` of `item` under `faults`: false where a lock fault names it.
pub(crate) fn lock_attributes(faults: &[Fault], item: &LockTarget) -> (bool, bool) {
    let mut write = true;
    let mut delete = true;
    for f in faults {
        let (target, is_write) = match f {
            Fault::ArtifactLocked { target } => (target, true),
            Fault::DeleteLocked { target } => (target, false),
            _ => continue,
        };
        if LockTarget::parse(target) == *item {
            if is_write {
                write = false;
            } else {
                delete = false;
            }
        }
    }
    (write, delete)
}
