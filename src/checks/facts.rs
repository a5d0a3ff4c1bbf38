//! Facts: what checks learn and hand to later checks. Each family adds its own fields here,
//! typed. A field read by another check has one writer, named in its documentation, and that
//! check provides the [`Fact`] its readers wait for (`needs`, `uses` or `consults`), so the
//! engine runs the writer first; the tests below hold the list.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::redact::Secret;
use crate::request::AuthSource;

pub use crate::model::{ArmRegistry, IdentityClaims, LoginServer};

/// Names of facts, for declaring prerequisites. A check that `needs` a fact waits for the
/// check that provides it and is skipped when that check did not pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fact {
    DockerClient,
    DockerDaemon,
    DockerConfig,
    RegistryName,
    ArmRegistry,
    LoginServer,
    Dns,
    Tls,
    Challenge,
    Credential,
    RefreshToken,
    AccessToken,
    Permissions,
    /// The `--aks` cluster as ARM describes it (`aks.cluster`).
    AksCluster,
}

impl Fact {
    /// Every fact. A new variant goes here too (the tests fail to compile until it does).
    pub const ALL: &'static [Fact] = &[
        Fact::DockerClient,
        Fact::DockerDaemon,
        Fact::DockerConfig,
        Fact::RegistryName,
        Fact::ArmRegistry,
        Fact::LoginServer,
        Fact::Dns,
        Fact::Tls,
        Fact::Challenge,
        Fact::Credential,
        Fact::RefreshToken,
        Fact::AccessToken,
        Fact::Permissions,
        Fact::AksCluster,
    ];

    /// The fact's name in `lang`, for messages such as a skipped check's reason.
    pub fn name_in(self, lang: crate::lang::Lang) -> &'static str {
        let ja = match self {
            Fact::DockerClient => "コンテナー エンジンのクライアント",
            Fact::DockerDaemon => "コンテナー エンジンのサービス",
            Fact::DockerConfig => "資格情報ファイル",
            Fact::RegistryName => "レジストリ名",
            Fact::ArmRegistry => "レジストリ設定 (ARM)",
            Fact::LoginServer => "ログイン サーバー",
            Fact::Dns => "DNS の応答",
            Fact::Tls => "TLS セッション",
            Fact::Challenge => "レジストリのチャレンジ",
            Fact::Credential => "資格情報",
            Fact::RefreshToken => "ACR リフレッシュ トークン",
            Fact::AccessToken => "ACR アクセス トークン",
            Fact::Permissions => "付与されたアクセス許可",
            Fact::AksCluster => "AKS クラスター (ARM)",
        };
        lang.pick(self.name(), ja)
    }

    pub fn name(self) -> &'static str {
        match self {
            Fact::DockerClient => "docker client",
            Fact::DockerDaemon => "docker daemon",
            Fact::DockerConfig => "docker config",
            Fact::RegistryName => "registry name",
            Fact::ArmRegistry => "registry settings (ARM)",
            Fact::LoginServer => "login server",
            Fact::Dns => "DNS answer",
            Fact::Tls => "TLS session",
            Fact::Challenge => "registry challenge",
            Fact::Credential => "credential",
            Fact::RefreshToken => "ACR refresh token",
            Fact::AccessToken => "ACR access token",
            Fact::Permissions => "granted permissions",
            Fact::AksCluster => "AKS cluster (ARM)",
        }
    }
}

/// A parsed Bearer challenge of the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub service: String,
    pub scope: Option<String>,
}

/// What kind of username/password pair it looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicKind {
    AdminUser,
    RepositoryToken,
    ServicePrincipal,
    RefreshToken,
    Unknown,
}

/// The credential the run uses against the registry.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A Microsoft Entra access token (for the ACR audience, or ARM's).
    Entra {
        source: String,
        token: Secret,
        claims: IdentityClaims,
    },
    Basic {
        source: String,
        username: String,
        password: Secret,
        kind: BasicKind,
    },
    Anonymous {
        source: String,
    },
}

impl Credential {
    pub fn source(&self) -> &str {
        match self {
            Credential::Entra { source, .. }
            | Credential::Basic { source, .. }
            | Credential::Anonymous { source } => source,
        }
    }
}

/// Actions the registry granted, per scope (`repository:app` -> [pull, push]).
#[derive(Debug, Clone, Default)]
pub struct Grants {
    pub requested: BTreeMap<String, Vec<String>>,
    pub granted: BTreeMap<String, Vec<String>>,
}

/// What `docker.daemon` learnt about the Docker engine.
#[derive(Debug, Clone, Default)]
pub struct DockerEngine {
    /// The endpoint reached, e.g. `unix:///var/run/docker.sock`.
    pub endpoint: String,
    /// The engine's API version (used for later calls, e.g. `/auth`).
    pub api_version: Option<String>,
    pub version: Option<String>,
    /// The daemon's own proxy settings (`docker info`), empty when unset.
    pub http_proxy: Option<String>,
    pub https_proxy: Option<String>,
    pub no_proxy: Option<String>,
}

/// The container engine a run diagnoses (`--engine`, or found by the docker-family checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerEngine {
    /// `docker` or `podman`.
    pub name: String,
    /// Why this engine was checked (`--engine podman`, `auto: ...`), in the run's language.
    pub why: String,
}

/// A server's clock as its `Date` header showed it, next to the local clock at that moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerDate {
    /// The URL (without query) that answered.
    pub url: String,
    pub server_unix: i64,
    pub local_unix: i64,
}

/// Everything learnt so far. Read and written through [`crate::checks::CheckCx::facts`].
#[derive(Debug, Default)]
pub struct Facts {
    pub docker_client_version: Option<String>,
    /// The Docker endpoint, e.g. `unix:///var/run/docker.sock`.
    pub docker_endpoint: Option<String>,
    pub docker_config_path: Option<String>,
    /// The engine as reached by `docker.daemon`.
    pub docker_engine: Option<DockerEngine>,
    /// The container engine diagnosed (`docker` or `podman`) and why.
    pub container_engine: Option<ContainerEngine>,
    /// The credential stored for the login server in the Docker config (`docker.config`).
    pub docker_stored_credential: Option<crate::protocol::docker_config::StoredCredential>,
    /// Lower-case resource name (corrected when the intent was clear).
    pub registry_name: Option<String>,
    pub arm_registry: Option<ArmRegistry>,
    /// An ARM token of the run's identity, when one could be had.
    pub arm_token: Option<Secret>,
    pub login_server: Option<LoginServer>,
    pub addresses: Vec<std::net::IpAddr>,
    pub challenge: Option<Challenge>,
    pub credential: Option<Credential>,
    pub refresh_token: Option<Secret>,
    pub access_token: Option<Secret>,
    pub grants: Option<Grants>,
    /// Public IP the registry saw, from a 403 body.
    pub client_ip: Option<String>,
    /// A Microsoft Graph token of the run's identity (service principals: secret end dates).
    pub graph_token: Option<Secret>,
    /// `Date` headers of the responses the identity checks saw, for clock-skew checks. Not one
    /// writer but a log: appended to by `identity.credential`, `identity.refresh_token` and
    /// `identity.access_token` (and by `expiry.timeline` itself), read by `expiry.timeline`,
    /// which uses [`Fact::Credential`] and consults the other two.
    pub server_dates: Vec<ServerDate>,
    /// Timeline kinds (`entra_token`, `sp_client_secret`, ...) whose expiry a check already
    /// reported as a finding, so that `expiry.timeline` does not report it twice. A log like
    /// `server_dates`: appended to by the refusals of `identity.credential`,
    /// `identity.refresh_token` and `identity.access_token`.
    pub expiry_reported: Vec<String>,
    /// The `--aks` cluster, read through ARM by `aks.cluster`.
    pub aks_cluster: Option<crate::azure::aks::ManagedCluster>,
    /// The certificate of a service principal from the environment
    /// (`AZURE_CLIENT_CERTIFICATE_PATH`). Written by `identity.credential`
    /// ([`Fact::Credential`]); read by `expiry.timeline`.
    pub client_certificate: Option<ClientCertificate>,
    /// Another identity read the registry's settings because the credential under test could
    /// not. Written by `registry.arm` ([`Fact::ArmRegistry`]); read by the refusal of a
    /// username/password in `identity.refresh_token` and `identity.access_token`, which
    /// consult that fact.
    pub arm_read: Option<ArmRead>,
    /// What `auth.repository` found on `--repository`. Written by `auth.repository`
    /// ([`Fact::Permissions`]); read by `auth.lock`.
    pub repository_access: Option<RepositoryAccess>,
    /// Writes the registry refused because of a lock, from the write probes. Written by
    /// `auth.repository` ([`Fact::Permissions`]); read by `auth.lock`.
    pub write_refusals: Vec<WriteRefusal>,
    /// The `HEAD` of the image named in `--repository`. Written by `auth.repository`
    /// ([`Fact::Permissions`]); read by `auth.image`.
    pub reference_probe: Option<ReferenceProbe>,
    /// Where the registry sends a layer download. Written by `auth.repository`
    /// ([`Fact::Permissions`]); read by `registry.data_endpoint`, which consults that fact.
    pub layer_download: Option<LayerDownload>,
}

/// A fact as the JSON of a report's evidence.
pub fn evidence_of(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A client certificate loaded for a service principal, with its validity (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    /// The file, as `AZURE_CLIENT_CERTIFICATE_PATH` named it.
    pub path: String,
    pub subject: String,
    pub not_before: i64,
    pub not_after: i64,
    /// The certificate's SHA-256 thumbprint, in hexadecimal.
    pub sha256: String,
}

/// The identity that read the registry's settings in place of the credential under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmRead {
    /// The Entra source of that identity.
    pub source: AuthSource,
    /// Who it is (claims of its ARM token, never the token).
    pub claims: IdentityClaims,
    /// The state of the repository-scoped token under test, when the credential is one.
    pub registry_token: Option<RegistryTokenState>,
}

/// A repository-scoped token as ARM describes it (`.../tokens/<name>`), or why it was not read.
/// Serializes to the evidence `registry_token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RegistryTokenState {
    Read {
        name: String,
        /// `enabled` or `disabled`.
        status: Option<String>,
        passwords: Vec<TokenPassword>,
    },
    Unreadable {
        name: String,
        /// Why ARM did not give the token.
        unreadable: String,
    },
}

/// One password of a repository-scoped token: its name and end date (RFC 3339), as ARM gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenPassword {
    pub name: Option<String>,
    pub expiry: Option<String>,
}

/// What the access token grants on `--repository` against `--need`, as `auth.repository` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryAccess {
    pub repository: String,
    /// Granted and not refused by the registry.
    pub granted: Vec<&'static str>,
    pub needed: Vec<&'static str>,
    /// Needed and not granted.
    pub missing: Vec<&'static str>,
    /// Let through by the registry.
    pub proven: Vec<&'static str>,
}

/// A write the registry refused with the words of a lock (`405 REGISTRY_DISALLOWED_OPERATION`).
/// Serializes to one item of the evidence `registry_refusals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WriteRefusal {
    /// `METHOD /path`.
    pub call: String,
    pub status: u16,
    pub code: String,
    pub message: String,
}

/// The registry's answer to `HEAD` of the manifest `--repository` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceProbe {
    /// The tag or digest asked for.
    pub reference: String,
    pub status: u16,
    /// `Docker-Content-Digest` of the answer.
    pub digest: Option<String>,
}

/// One layer download followed as far as the login server takes it. Serializes to the evidence
/// `layer_download`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerDownload {
    pub repository: String,
    pub tag: String,
    /// The blob asked for (the image's config).
    pub blob: String,
    /// The login server's answer.
    pub status: u16,
    /// Where a redirect sends the download (not followed).
    #[serde(flatten)]
    pub redirect: Option<LayerRedirect>,
}

/// The target of a layer download's redirect: the host only (a storage URL's signature is a
/// credential).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerRedirect {
    #[serde(rename = "redirect_host")]
    pub host: String,
    #[serde(rename = "redirect_port")]
    pub port: u16,
    #[serde(rename = "redirect_scheme")]
    pub scheme: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// `Fact::ALL` lists every variant: this match stops compiling when one is added, as a
    /// reminder to list it there.
    #[test]
    fn all_lists_every_fact() {
        let listed = |f: Fact| match f {
            Fact::DockerClient
            | Fact::DockerDaemon
            | Fact::DockerConfig
            | Fact::RegistryName
            | Fact::ArmRegistry
            | Fact::LoginServer
            | Fact::Dns
            | Fact::Tls
            | Fact::Challenge
            | Fact::Credential
            | Fact::RefreshToken
            | Fact::AccessToken
            | Fact::Permissions
            | Fact::AksCluster => Fact::ALL.contains(&f),
        };
        assert!(Fact::ALL.iter().all(|f| listed(*f)));
        let distinct: std::collections::BTreeSet<_> = Fact::ALL.iter().collect();
        assert_eq!(distinct.len(), Fact::ALL.len(), "a fact listed twice");
        assert_eq!(Fact::ALL.len(), 14, "a fact left out of Fact::ALL");
    }

    /// One writer per fact: every fact is provided by exactly one check (the engine waits for
    /// one provider; a second would go unnoticed).
    #[test]
    fn every_fact_has_exactly_one_provider() {
        let checks = crate::checks::all();
        for fact in Fact::ALL {
            let providers: Vec<&str> = checks
                .iter()
                .filter(|c| c.provides().contains(fact))
                .map(|c| c.id())
                .collect();
            assert_eq!(
                providers.len(),
                1,
                "{fact:?} must have one provider, has {providers:?}"
            );
        }
    }

    /// The typed fields that pass between checks: the one check that writes each, the fact
    /// that check provides, and the checks that read it, which must declare that fact so that
    /// the engine runs (or they await) the writer first.
    #[test]
    fn shared_fields_have_one_declared_writer_before_their_readers() {
        let shared: &[(&str, &str, Fact, &[&str])] = &[
            (
                "client_certificate",
                "identity.credential",
                Fact::Credential,
                &["expiry.timeline"],
            ),
            (
                "arm_read",
                "registry.arm",
                Fact::ArmRegistry,
                &["identity.refresh_token", "identity.access_token"],
            ),
            (
                "repository_access",
                "auth.repository",
                Fact::Permissions,
                &["auth.lock"],
            ),
            (
                "write_refusals",
                "auth.repository",
                Fact::Permissions,
                &["auth.lock"],
            ),
            (
                "reference_probe",
                "auth.repository",
                Fact::Permissions,
                &["auth.image"],
            ),
            (
                "layer_download",
                "auth.repository",
                Fact::Permissions,
                &["registry.data_endpoint"],
            ),
        ];
        let checks = crate::checks::all();
        let check = |id: &str| {
            checks
                .iter()
                .find(|c| c.id() == id)
                .unwrap_or_else(|| panic!("no check {id}"))
        };
        for (field, writer, fact, readers) in shared {
            let providers: Vec<&str> = checks
                .iter()
                .filter(|c| c.provides().contains(fact))
                .map(|c| c.id())
                .collect();
            assert_eq!(providers, [*writer], "{field}: {fact:?} is provided by");
            for reader in *readers {
                assert!(
                    check(reader).meta().declares(*fact),
                    "{reader} reads {field} but does not declare {fact:?}"
                );
            }
        }
    }

    /// The evidence built from the typed facts is the JSON the checks used to build by hand.
    #[test]
    fn evidence_is_unchanged() {
        let read = RegistryTokenState::Read {
            name: "ci".into(),
            status: Some("enabled".into()),
            passwords: vec![
                TokenPassword {
                    name: Some("password1".into()),
                    expiry: Some("2030-01-01T00:00:00Z".into()),
                },
                TokenPassword {
                    name: Some("password2".into()),
                    expiry: None,
                },
            ],
        };
        assert_eq!(
            evidence_of(&read),
            json!({"name": "ci", "status": "enabled", "passwords": [
                {"name": "password1", "expiry": "2030-01-01T00:00:00Z"},
                {"name": "password2", "expiry": null},
            ]})
        );
        let no_status = RegistryTokenState::Read {
            name: "ci".into(),
            status: None,
            passwords: vec![],
        };
        assert_eq!(
            evidence_of(&no_status),
            json!({"name": "ci", "status": null, "passwords": []})
        );
        let unreadable = RegistryTokenState::Unreadable {
            name: "ci".into(),
            unreadable: "403 AuthorizationFailed".into(),
        };
        assert_eq!(
            evidence_of(&unreadable),
            json!({"name": "ci", "unreadable": "403 AuthorizationFailed"})
        );

        let refusal = WriteRefusal {
            call: "DELETE /v2/app/manifests/sha256:0".into(),
            status: 405,
            code: "REGISTRY_DISALLOWED_OPERATION".into(),
            message: "The operation is disallowed on this registry, repository or image.".into(),
        };
        assert_eq!(
            evidence_of(&vec![refusal]),
            json!([{"call": "DELETE /v2/app/manifests/sha256:0", "status": 405,
                    "code": "REGISTRY_DISALLOWED_OPERATION",
                    "message": "The operation is disallowed on this registry, repository or image."}])
        );

        let mut layer = LayerDownload {
            repository: "app".into(),
            tag: "v1".into(),
            blob: format!("sha256:{}", "a".repeat(64)),
            status: 200,
            redirect: None,
        };
        assert_eq!(
            evidence_of(&layer),
            json!({"repository": "app", "tag": "v1", "blob": layer.blob, "status": 200})
        );
        layer.status = 307;
        layer.redirect = Some(LayerRedirect {
            host: "r.westeurope.data.azurecr.io".into(),
            port: 443,
            scheme: "https".into(),
        });
        assert_eq!(
            evidence_of(&layer),
            json!({"repository": "app", "tag": "v1", "blob": layer.blob, "status": 307,
                   "redirect_host": "r.westeurope.data.azurecr.io", "redirect_port": 443,
                   "redirect_scheme": "https"})
        );
        // Byte for byte, as the report prints it.
        assert_eq!(
            serde_json::to_string(&evidence_of(&layer)).unwrap_or_default(),
            serde_json::to_string(&json!({
                "repository": "app", "tag": "v1", "blob": layer.blob, "status": 307,
                "redirect_host": "r.westeurope.data.azurecr.io", "redirect_port": 443,
                "redirect_scheme": "https",
            }))
            .unwrap_or_default()
        );
    }
}
