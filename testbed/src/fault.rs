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
    /// ARM reports a private endpoint mapping the login server to a private 10.x address.
    PrivateEndpoint,
    /// No managed identity assigned: IMDS / App Service identity answer "Identity not found".
    NoManagedIdentity,
    /// Graph refuses to show application objects (403 Authorization_RequestDenied).
    GraphForbidden,
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
    "private-endpoint",
    "no-managed-identity",
    "graph-forbidden",
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
            Fault::PrivateEndpoint => "private-endpoint",
            Fault::NoManagedIdentity => "no-managed-identity",
            Fault::GraphForbidden => "graph-forbidden",
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
            Fault::Trickle { interval_ms } => write!(f, "trickle={interval_ms}"),
            Fault::RefreshExchangeError { status } => write!(f, "refresh-exchange-error={status}"),
            Fault::AccessTokenError { status } => write!(f, "access-token-error={status}"),
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
            "private-endpoint" => plain(Fault::PrivateEndpoint),
            "no-managed-identity" => plain(Fault::NoManagedIdentity),
            "graph-forbidden" => plain(Fault::GraphForbidden),
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
        assert_eq!(
            "anonymous-pull=off".parse::<Fault>(),
            Ok(Fault::AnonymousPull(false))
        );
        assert!("slow=abc".parse::<Fault>().is_err());
        assert!("hang=3".parse::<Fault>().is_err());
        assert!("nonsense".parse::<Fault>().is_err());
    }
}
