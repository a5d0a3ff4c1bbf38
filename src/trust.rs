//! The trust gate: the one place that decides where each credential may go.
//!
//! Every request that carries a credential names what it carries ([`Carry`]) and goes through
//! [`Context::send_credential`](crate::context::Context::send_credential), which asks
//! [`Gate::check`] first. [`Context::send`](crate::context::Context::send) is the door for
//! requests without credentials: it refuses any request with an `Authorization` header or a
//! registered secret in its URL or body, so a call site that forgets to name its credential
//! sends nothing rather than sending it anywhere.
//!
//! The rules (CONTRACT.md, "What is sent where"):
//! - client secrets and assertions: only to the Entra authority;
//! - ARM and Graph tokens: only to their endpoints;
//! - managed identity requests: only to the managed identity endpoint, never through a proxy;
//! - registry credentials (ACR-audience Entra tokens, refresh and access tokens, basic and
//!   stored Docker credentials): only to the validated login server, over https (http only for
//!   loopback), and, for Entra-derived tokens, only when the login server is under the cloud's
//!   ACR suffix, on loopback, or the user opted in with `--trust-login-server`.
//!
//! Endpoint overrides (`AZURE_AUTHORITY_HOST`, `ACR_DOCTOR_ARM_ENDPOINT`,
//! `ACR_DOCTOR_GRAPH_ENDPOINT`, `ACR_DOCTOR_IMDS_ENDPOINT`) must be https unless they name a
//! loopback address; they are checked when the run starts and named in the report.

use std::collections::BTreeMap;
use std::net::IpAddr;

use url::Url;

use crate::model::{Cloud, LoginServer};

/// What a request carries.
#[derive(Debug, Clone, Copy)]
pub enum Carry<'a> {
    /// A client secret or a client assertion (certificate or federated).
    EntraClient,
    /// A managed identity token request (its answer is a token; `IDENTITY_HEADER` is a secret).
    ManagedIdentity,
    /// A token of ARM's audience.
    Arm,
    /// A token of Microsoft Graph's audience.
    Graph,
    /// An Entra token of the registry's audience, exchanged at the login server.
    RegistryEntra(&'a LoginServer),
    /// A registry credential: ACR refresh or access token, basic credentials, a credential
    /// stored in the Docker config.
    Registry(&'a LoginServer),
}

impl Carry<'_> {
    pub fn describe(&self) -> &'static str {
        match self {
            Carry::EntraClient => "a client secret or assertion",
            Carry::ManagedIdentity => "a managed identity token request",
            Carry::Arm => "an Azure Resource Manager token",
            Carry::Graph => "a Microsoft Graph token",
            Carry::RegistryEntra(_) => "a Microsoft Entra token for the registry",
            Carry::Registry(_) => "a registry credential",
        }
    }
}

/// Why the gate refused: said in the finding and the trace; never contains the credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused to send {what} to {url}: {why}")]
pub struct Refusal {
    pub what: &'static str,
    pub url: String,
    pub why: String,
}

pub use crate::protocol::registry_name::is_loopback_host;

/// True for loopback and the link-local range of the instance metadata endpoint (169.254/16).
fn is_local_service_host(host: &str) -> bool {
    if is_loopback_host(host) {
        return true;
    }
    matches!(host.parse::<IpAddr>(), Ok(IpAddr::V4(v4)) if v4.is_link_local())
}

/// Whether a URL's scheme is acceptable for a credential: https, or http to loopback.
pub fn secure_or_loopback(url: &Url) -> bool {
    url.scheme() == "https"
        || (url.scheme() == "http" && url.host_str().is_some_and(is_loopback_host))
}

/// Same scheme, host and port (default ports made explicit).
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Why a realm may not receive credentials for `ls`, or `None` when it may: ACR's realm is
/// always `https://<login server>/oauth2/token`, so it must be on the login server's own scheme,
/// host and port.
pub fn realm_problem(ls: &LoginServer, realm: &str) -> Option<String> {
    let Ok(url) = Url::parse(realm) else {
        return Some(format!("the realm {realm:?} is not a URL"));
    };
    if !secure_or_loopback(&url) {
        return Some(format!(
            "the realm {realm} is not https, so credentials would travel in clear"
        ));
    }
    let Ok(base) = Url::parse(&ls.base_url()) else {
        return Some(format!("the login server {} is not a URL", ls.authority()));
    };
    if !same_origin(&url, &base) {
        return Some(format!(
            "the realm {} is not on the login server {}",
            url.origin().ascii_serialization(),
            base.origin().ascii_serialization()
        ));
    }
    None
}

/// The endpoints the run trusts, fixed when the run starts.
#[derive(Debug, Clone)]
pub struct Gate {
    pub cloud: Cloud,
    pub authority: Url,
    pub arm: Url,
    pub graph: Url,
    pub imds: Url,
    pub identity_endpoint: Option<Url>,
    /// `--trust-login-server`: Entra-derived tokens may go to a login server outside the
    /// cloud's ACR suffix.
    pub trust_login_server: bool,
    /// Overrides in effect: variable → value, for the report.
    pub overrides: BTreeMap<String, String>,
}

/// The endpoint overrides read from the environment, with the default of each.
const OVERRIDES: [&str; 5] = [
    "AZURE_AUTHORITY_HOST",
    "ACR_DOCTOR_ARM_ENDPOINT",
    "ACR_DOCTOR_GRAPH_ENDPOINT",
    "ACR_DOCTOR_IMDS_ENDPOINT",
    "ACR_DOCTOR_ACR_AUDIENCE",
];

impl Gate {
    /// Reads and checks the endpoints. `Err` is a usage error: an override that is not a URL,
    /// or that would send credentials in clear to a host other than loopback.
    pub fn new(
        env: &BTreeMap<String, String>,
        cloud: Cloud,
        trust_login_server: bool,
    ) -> Result<Gate, String> {
        let get = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let mut overrides = BTreeMap::new();
        for k in OVERRIDES {
            if let Some(v) = get(k) {
                overrides.insert(k.to_string(), v.to_string());
            }
        }
        let endpoint = |var: &str, default: &str, http_ok: fn(&str) -> bool| {
            let value = get(var).unwrap_or(default);
            let url =
                Url::parse(value).map_err(|e| format!("{var}={value:?} is not a URL ({e})"))?;
            let host = url.host_str().unwrap_or("").to_string();
            if host.is_empty() {
                return Err(format!("{var}={value:?} has no host"));
            }
            match url.scheme() {
                "https" => {}
                "http" if http_ok(&host) => {}
                "http" => {
                    return Err(format!(
                        "{var}={value:?} is plain http to {host}: credentials would travel in clear; use https (http is accepted only for loopback addresses)"
                    ))
                }
                other => return Err(format!("{var}={value:?}: scheme {other} is not http(s)")),
            }
            if !url.username().is_empty() || url.password().is_some() {
                return Err(format!("{var} must not carry a user name or password"));
            }
            Ok(url)
        };
        let authority = endpoint("AZURE_AUTHORITY_HOST", cloud.authority(), is_loopback_host)?;
        let arm = endpoint("ACR_DOCTOR_ARM_ENDPOINT", cloud.arm(), is_loopback_host)?;
        let graph = endpoint("ACR_DOCTOR_GRAPH_ENDPOINT", cloud.graph(), is_loopback_host)?;
        let imds = endpoint(
            "ACR_DOCTOR_IMDS_ENDPOINT",
            "http://169.254.169.254",
            is_local_service_host,
        )?;
        if let Some(audience) = get("ACR_DOCTOR_ACR_AUDIENCE") {
            Url::parse(audience)
                .map_err(|e| format!("ACR_DOCTOR_ACR_AUDIENCE={audience:?} is not a URL ({e})"))?;
        }
        // IDENTITY_ENDPOINT is set by the platform (App Service, Arc, Container Apps), always on
        // the machine itself: one elsewhere gets nothing (the managed identity source says why).
        let identity_endpoint = get("IDENTITY_ENDPOINT").and_then(|v| Url::parse(v).ok());
        Ok(Gate {
            cloud,
            authority,
            arm,
            graph,
            imds,
            identity_endpoint,
            trust_login_server,
            overrides,
        })
    }

    /// Whether `url` may receive what `carry` says, and if not, why.
    pub fn check(&self, carry: Carry<'_>, url: &Url) -> Result<(), Refusal> {
        let refuse = |why: String| {
            Err(Refusal {
                what: carry.describe(),
                url: strip_query(url),
                why,
            })
        };
        let expect = |endpoint: &Url, name: &str| {
            if same_origin(url, endpoint) {
                Ok(())
            } else {
                refuse(format!(
                    "only {} ({name}) may receive it",
                    endpoint.origin().ascii_serialization()
                ))
            }
        };
        match carry {
            Carry::EntraClient => expect(&self.authority, "the Microsoft Entra authority"),
            Carry::Arm => expect(&self.arm, "Azure Resource Manager"),
            Carry::Graph => expect(&self.graph, "Microsoft Graph"),
            Carry::ManagedIdentity => {
                let host = url.host_str().unwrap_or("");
                let on_machine = is_local_service_host(host);
                let known = same_origin(url, &self.imds)
                    || self
                        .identity_endpoint
                        .as_ref()
                        .is_some_and(|e| same_origin(url, e));
                if !known {
                    return refuse("it is not the managed identity endpoint".into());
                }
                if url.scheme() != "https" && !on_machine {
                    return refuse(format!(
                        "{host} is neither on this machine nor the metadata address, and the request is not https"
                    ));
                }
                Ok(())
            }
            Carry::Registry(ls) | Carry::RegistryEntra(ls) => {
                let Ok(base) = Url::parse(&ls.base_url()) else {
                    return refuse(format!("the login server {} is not a URL", ls.authority()));
                };
                if !secure_or_loopback(url) {
                    return refuse(
                        "registry credentials go only over https (http only for loopback)".into(),
                    );
                }
                if !same_origin(url, &base) {
                    return refuse(format!(
                        "registry credentials go only to the login server {}",
                        base.origin().ascii_serialization()
                    ));
                }
                if matches!(carry, Carry::RegistryEntra(_)) && !self.entra_allowed(ls) {
                    return refuse(format!(
                        "{} is not under the {} cloud's registry suffix {}; give --trust-login-server to send Microsoft Entra tokens to it",
                        ls.host,
                        self.cloud.name(),
                        self.cloud.acr_suffix()
                    ));
                }
                Ok(())
            }
        }
    }

    /// Whether Entra-derived tokens may go to this login server: under the cloud's ACR suffix,
    /// on loopback, or opted in.
    pub fn entra_allowed(&self, ls: &LoginServer) -> bool {
        self.trust_login_server
            || is_loopback_host(&ls.host)
            || under_acr_suffix(&ls.host, self.cloud)
    }
}

/// `<label>.azurecr.io` (or the cloud's suffix): one label, then the suffix. Regional and data
/// endpoint names have more labels and never receive tokens.
pub fn under_acr_suffix(host: &str, cloud: Cloud) -> bool {
    let host = host.to_ascii_lowercase();
    match host.strip_suffix(cloud.acr_suffix()) {
        Some(label) => !label.is_empty() && !label.contains('.'),
        None => false,
    }
}

/// The URL without query and fragment (a query may hold a signature).
pub fn strip_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(host: &str, port: Option<u16>, scheme: &str) -> LoginServer {
        LoginServer {
            host: host.into(),
            port,
            scheme: scheme.into(),
            source: "flag".into(),
        }
    }

    fn gate(env: &[(&str, &str)]) -> Result<Gate, String> {
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Gate::new(&env, Cloud::AzureCloud, false)
    }

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test url")
    }

    #[test]
    fn realms_must_be_on_the_login_server() {
        let l = ls("contosoreg.azurecr.io", None, "https");
        assert_eq!(
            realm_problem(&l, "https://contosoreg.azurecr.io/oauth2/token"),
            None
        );
        assert_eq!(
            realm_problem(&l, "https://CONTOSOREG.azurecr.io:443/oauth2/token"),
            None
        );
        assert!(realm_problem(&l, "https://evil.example/oauth2/token").is_some());
        assert!(realm_problem(&l, "https://contosoreg.azurecr.io.evil.example/t").is_some());
        assert!(realm_problem(&l, "https://contosoreg.azurecr.io:8443/oauth2/token").is_some());
        assert!(realm_problem(&l, "http://contosoreg.azurecr.io/oauth2/token").is_some());
        assert!(realm_problem(&l, "/oauth2/token").is_some());
        let p = ls("contosoreg.azurecr.io", Some(36101), "https");
        assert_eq!(
            realm_problem(&p, "https://contosoreg.azurecr.io:36101/oauth2/token"),
            None
        );
        assert!(realm_problem(&p, "https://contosoreg.azurecr.io/oauth2/token").is_some());
    }

    #[test]
    fn registry_credentials_go_only_to_the_login_server() {
        let g = gate(&[]).expect("gate");
        let l = ls("contosoreg.azurecr.io", None, "https");
        let ok = url("https://contosoreg.azurecr.io/oauth2/exchange");
        assert!(g.check(Carry::Registry(&l), &ok).is_ok());
        assert!(g.check(Carry::RegistryEntra(&l), &ok).is_ok());
        for bad in [
            "https://evil.example/oauth2/token",
            "http://contosoreg.azurecr.io/oauth2/token",
            "https://contosoreg.azurecr.io:444/oauth2/token",
            "https://login.microsoftonline.com/x",
        ] {
            assert!(g.check(Carry::Registry(&l), &url(bad)).is_err(), "{bad}");
        }
        // Not under the suffix: basic credentials may go (the user named the server), Entra tokens not.
        let other = ls("registry.example.com", None, "https");
        let u = url("https://registry.example.com/oauth2/exchange");
        assert!(g.check(Carry::Registry(&other), &u).is_ok());
        assert!(g.check(Carry::RegistryEntra(&other), &u).is_err());
        let mut trusting = g.clone();
        trusting.trust_login_server = true;
        assert!(trusting.check(Carry::RegistryEntra(&other), &u).is_ok());
        // Loopback over http is fine.
        let local = ls("127.0.0.1", Some(5000), "http");
        assert!(g
            .check(
                Carry::RegistryEntra(&local),
                &url("http://127.0.0.1:5000/oauth2/token")
            )
            .is_ok());
    }

    #[test]
    fn suffix_means_one_label_then_the_suffix() {
        assert!(under_acr_suffix("contosoreg.azurecr.io", Cloud::AzureCloud));
        assert!(!under_acr_suffix("azurecr.io", Cloud::AzureCloud));
        assert!(!under_acr_suffix(".azurecr.io", Cloud::AzureCloud));
        assert!(!under_acr_suffix("a.b.azurecr.io", Cloud::AzureCloud));
        assert!(!under_acr_suffix(
            "contosoreg.azurecr.io.evil",
            Cloud::AzureCloud
        ));
        assert!(!under_acr_suffix(
            "contosoreg.azurecr.io",
            Cloud::AzureChinaCloud
        ));
        assert!(under_acr_suffix(
            "contosoreg.azurecr.cn",
            Cloud::AzureChinaCloud
        ));
    }

    #[test]
    fn overrides_need_https_unless_loopback() {
        assert!(gate(&[("ACR_DOCTOR_ARM_ENDPOINT", "http://10.0.0.5")]).is_err());
        assert!(gate(&[("ACR_DOCTOR_ARM_ENDPOINT", "http://192.0.2.1:8080")]).is_err());
        assert!(gate(&[("ACR_DOCTOR_GRAPH_ENDPOINT", "http://graph.example")]).is_err());
        assert!(gate(&[("AZURE_AUTHORITY_HOST", "http://login.example")]).is_err());
        assert!(gate(&[("AZURE_AUTHORITY_HOST", "ftp://login.example")]).is_err());
        assert!(gate(&[("AZURE_AUTHORITY_HOST", "https://u:p@login.example")]).is_err());
        assert!(gate(&[("ACR_DOCTOR_IMDS_ENDPOINT", "http://203.0.113.9")]).is_err());
        let g = gate(&[
            ("ACR_DOCTOR_ARM_ENDPOINT", "http://127.0.0.1:8080"),
            ("AZURE_AUTHORITY_HOST", "https://login.example"),
            ("ACR_DOCTOR_IMDS_ENDPOINT", "http://169.254.169.254"),
        ])
        .expect("gate");
        assert_eq!(g.overrides.len(), 3);
        assert!(g
            .check(Carry::Arm, &url("http://127.0.0.1:8080/subscriptions"))
            .is_ok());
        assert!(g
            .check(
                Carry::Arm,
                &url("https://management.azure.com/subscriptions")
            )
            .is_err());
        assert!(g
            .check(
                Carry::EntraClient,
                &url("https://login.example/t/oauth2/v2.0/token")
            )
            .is_ok());
        assert!(g
            .check(Carry::EntraClient, &url("https://127.0.0.1:8080/x"))
            .is_err());
    }

    #[test]
    fn managed_identity_goes_only_to_its_endpoint() {
        let g = gate(&[("IDENTITY_ENDPOINT", "http://127.0.0.1:41741/msi/token")]).expect("gate");
        assert!(g
            .check(
                Carry::ManagedIdentity,
                &url("http://127.0.0.1:41741/msi/token?resource=x")
            )
            .is_ok());
        assert!(g
            .check(
                Carry::ManagedIdentity,
                &url("http://169.254.169.254/metadata/identity/oauth2/token")
            )
            .is_ok());
        assert!(g
            .check(Carry::ManagedIdentity, &url("http://203.0.113.5/msi/token"))
            .is_err());
        let remote = gate(&[("IDENTITY_ENDPOINT", "http://203.0.113.5/msi/token")]).expect("gate");
        assert!(remote
            .check(Carry::ManagedIdentity, &url("http://203.0.113.5/msi/token"))
            .is_err());
    }
}
