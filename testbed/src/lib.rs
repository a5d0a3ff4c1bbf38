//! `acr-testbed`: a faithful, loopback-only stand-in for the Azure side of an Azure Container
//! Registry login: Microsoft Entra ID, Azure Resource Manager, Microsoft Graph, managed identity
//! endpoints, and ACR login servers (challenge, `/oauth2/exchange`, `/oauth2/token`) in front of
//! real CNCF distribution registries (`docker-registry`) that enforce the tokens the bed issues.
//!
//! ```no_run
//! # async fn demo() -> Result<(), acr_testbed::BedError> {
//! use acr_testbed::{BedSpec, Fault, TestBed};
//! let bed = TestBed::start(BedSpec::new()).await?;
//! bed.set_fault(Some("contosoreg"), Fault::PublicAccessDisabled);
//! let args = bed.check_args("contosoreg"); // --name, --login-server, --resolve, --ca-file
//! # let _ = args; Ok(()) }
//! ```

mod abac;
pub mod aks;
mod arm;
mod backend;
mod crypto;
mod docker;
mod entra;
mod fakeaz;
mod fault;
mod graph;
mod hostile;
mod identity;
pub mod ids;
mod login;
mod perms;
mod server;
mod state;

pub use docker::{docker_host, require_docker};
pub use fakeaz::FakeAz;
pub use fault::{path_matches, Fault, Mangle, ParseFaultError, FAULT_NAMES, MANGLE_NAMES};
pub use state::{
    builtin_roles, BedState, ClientCertificate, ClientSecret, FederatedCredential, Principal,
    PrincipalKind, Registry, RegistrySpec, RepoToken, RoleAssignment, RoleAssignmentMode,
    RoleDefinition, Scope, TokenPassword,
};

use server::Listener;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Errors of starting or driving the bed.
#[derive(Debug, thiserror::Error)]
pub enum BedError {
    /// The distribution registry binary was not found.
    #[error("the registry binary '{0}' was not found: install Debian's docker-registry package or set ACR_TESTBED_REGISTRY_BIN (or use RegistrySpec::real_backend(false))")]
    RegistryBinaryMissing(String),
    /// A docker-registry child did not come up.
    #[error("docker-registry for '{registry}' failed to start: {detail}")]
    Backend { registry: String, detail: String },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("certificate or signing error: {0}")]
    Crypto(String),
    /// The spec refers to something that does not exist.
    #[error("invalid test bed spec: {0}")]
    Spec(String),
    /// A registry API call made by a bed helper failed.
    #[error("registry call failed: {0}")]
    Registry(String),
}

/// One request seen by any listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// `entra`, `arm`, `graph`, `identity` or `registry`.
    pub listener: String,
    pub method: String,
    pub host: String,
    pub path: String,
    pub query: Option<String>,
    /// 0 when the request was never answered (`hang`).
    pub status: u16,
    /// The registry a registry-listener request was routed to.
    pub registry: Option<String>,
}

/// What to start: registries, principals, role assignments, faults.
#[derive(Debug, Clone)]
pub struct BedSpec {
    registries: Vec<Registry>,
    principals: Vec<Principal>,
    assignments: Vec<(String, String, Scope, Option<String>)>,
    faults: Vec<(Option<String>, fault::Fault)>,
    aks: bool,
}

impl Default for BedSpec {
    fn default() -> Self {
        Self::new()
    }
}

impl BedSpec {
    /// The default bed: tenant `ids::TENANT`, subscription `ids::SUBSCRIPTION`, group `rg-test`,
    /// a service principal `sp` (secret `ids::SP_SECRET`, valid a year, federated credential
    /// `ids::FEDERATED_ISSUER`/`ids::FEDERATED_SUBJECT`), a user `alice@contoso.test`, a
    /// user-assigned managed identity `mi`, and registry `contosoreg` (legacy RBAC, admin
    /// disabled, anonymous pull off, public access on) on which `sp` holds AcrPush.
    pub fn new() -> Self {
        BedSpec {
            registries: vec![Registry::new(ids::REGISTRY)],
            principals: vec![
                {
                    let mut p = Principal::service_principal(
                        ids::SP,
                        ids::SP_APP_ID,
                        ids::SP_OBJECT_ID,
                        ids::SP_SECRET,
                    )
                    .federated(ids::FEDERATED_ISSUER, ids::FEDERATED_SUBJECT);
                    p.application_object_id = ids::SP_APPLICATION_OBJECT_ID.into();
                    p.secrets[0].key_id = ids::SP_SECRET_KEY_ID.into();
                    p
                },
                Principal::user(ids::USER, ids::USER_UPN, ids::USER_OBJECT_ID),
                Principal::managed_identity(ids::MI, ids::MI_CLIENT_ID, ids::MI_OBJECT_ID),
            ],
            assignments: vec![(
                ids::SP.into(),
                "AcrPush".into(),
                Scope::registry(ids::REGISTRY),
                None,
            )],
            faults: Vec::new(),
            aks: false,
        }
    }
    /// Nothing at all: add registries and principals yourself.
    pub fn empty() -> Self {
        BedSpec {
            registries: Vec::new(),
            principals: Vec::new(),
            assignments: Vec::new(),
            faults: Vec::new(),
            aks: false,
        }
    }
    /// Add a registry, replacing one of the same name (the first registry is the default one,
    /// served for hosts that are not `<name>.azurecr.*`).
    pub fn registry(mut self, r: Registry) -> Self {
        match self.registries.iter_mut().find(|x| x.name == r.name) {
            Some(x) => *x = r,
            None => self.registries.push(r),
        }
        self
    }
    /// Remove a registry (and the spec's assignments on it).
    pub fn without_registry(mut self, name: &str) -> Self {
        self.registries
            .retain(|r| !r.name.eq_ignore_ascii_case(name));
        self.assignments
            .retain(|(_, _, s, _)| s != &Scope::registry(name));
        self
    }
    /// Add a principal, replacing one with the same key.
    pub fn principal(mut self, p: Principal) -> Self {
        match self.principals.iter_mut().find(|x| x.key == p.key) {
            Some(x) => *x = p,
            None => self.principals.push(p),
        }
        self
    }
    /// Assign a role (name or GUID) to a principal (key, object id, app id or UPN).
    pub fn assign(mut self, principal: &str, role: &str, scope: Scope) -> Self {
        self.assignments
            .push((principal.into(), role.into(), scope, None));
        self
    }
    /// Assign a role with an ABAC condition (conditionVersion 2.0).
    pub fn assign_with_condition(
        mut self,
        principal: &str,
        role: &str,
        scope: Scope,
        condition: &str,
    ) -> Self {
        self.assignments
            .push((principal.into(), role.into(), scope, Some(condition.into())));
        self
    }
    /// Drop every assignment added so far (including the default AcrPush of `sp`).
    pub fn clear_assignments(mut self) -> Self {
        self.assignments.clear();
        self
    }
    /// Add the AKS world of [`aks`]: cluster `aks-test` whose kubelet identity holds AcrPull on
    /// `contosoreg`, its networks and the `privatelink.azurecr.io` zone; `sp` gets Reader on the
    /// subscription and Graph's Application.Read.All so that it can read them all.
    pub fn with_aks(mut self) -> Self {
        self.aks = true;
        self = self
            .principal(Principal::managed_identity(
                aks::KUBELET,
                aks::KUBELET_CLIENT_ID,
                aks::KUBELET_OBJECT_ID,
            ))
            .principal(Principal::service_principal(
                aks::AKS_SP,
                aks::AKS_SP_APP_ID,
                aks::AKS_SP_OBJECT_ID,
                "CANARY-AKS-SP-SECRET",
            ))
            .assign(aks::KUBELET, "AcrPull", Scope::registry(ids::REGISTRY))
            .assign(ids::SP, "Reader", Scope::Subscription);
        self
    }
    /// Start with a fault active (`None`: global).
    pub fn fault(mut self, registry: Option<&str>, f: Fault) -> Self {
        self.faults.push((registry.map(str::to_ascii_lowercase), f));
        self
    }
}

/// Shared state of the running servers.
pub(crate) struct Inner {
    pub(crate) state: Mutex<BedState>,
    pub(crate) log: Mutex<Vec<LoggedRequest>>,
    /// Connections accepted (handshake done), by listener and TLS server name.
    pub(crate) connections: Mutex<BTreeMap<(String, String), usize>>,
    pub(crate) pki: crypto::Pki,
    /// registry name -> docker-registry address
    pub(crate) backends: HashMap<String, SocketAddr>,
    pub(crate) client: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        axum::body::Body,
    >,
    pub(crate) ports: Ports,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Ports {
    pub entra: u16,
    pub arm: u16,
    pub graph: u16,
    pub identity: u16,
    pub registry: u16,
}

impl Inner {
    /// The global `rtt` fault's round-trip time (0 without it): what a new connection pays.
    pub(crate) fn connection_rtt_ms(&self) -> u64 {
        self.faults_for(None)
            .iter()
            .find_map(|f| match f {
                Fault::Rtt { ms } => Some(*ms),
                _ => None,
            })
            .unwrap_or(0)
    }
    pub(crate) fn log_connection(&self, listener: server::Listener, sni: Option<String>) {
        let key = (listener.name().to_string(), sni.unwrap_or_default());
        *self
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default() += 1;
    }
    pub(crate) fn state(&self) -> MutexGuard<'_, BedState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub(crate) fn log(&self, entry: LoggedRequest) {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(entry);
    }
    pub(crate) fn faults_for(&self, registry: Option<&str>) -> Vec<Fault> {
        self.state().faults_for(registry)
    }
    /// The registry a Host header / SNI name designates: `<name>.azurecr.{io,cn,us}[:port]` ->
    /// `<name>` when it exists (None otherwise); anything else -> the first registry.
    pub(crate) fn registry_for_host(&self, host: &str) -> Option<String> {
        let host = host.trim().to_ascii_lowercase();
        let bare = if let Some(rest) = host.strip_prefix('[') {
            rest.split(']').next().unwrap_or("").to_string()
        } else if host.matches(':').count() == 1 {
            host.split(':').next().unwrap_or("").to_string()
        } else {
            host.clone()
        };
        let bare = bare.trim_end_matches('.');
        let state = self.state();
        for suffix in [".azurecr.io", ".azurecr.cn", ".azurecr.us"] {
            if let Some(prefix) = bare.strip_suffix(suffix) {
                let name = prefix.split('.').next().unwrap_or(prefix);
                return state.registry(name).map(|r| r.name.clone());
            }
        }
        state.registries.first().map(|r| r.name.clone())
    }
}

/// A running test bed. Dropping it stops every listener and registry process.
pub struct TestBed {
    inner: Arc<Inner>,
    tasks: Vec<JoinHandle<()>>,
    _children: Vec<tokio::process::Child>,
    dir: tempfile::TempDir,
    ca_file: PathBuf,
}

impl Drop for TestBed {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl std::fmt::Debug for TestBed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestBed")
            .field("dir", &self.dir.path())
            .field("ports", &self.inner.ports)
            .finish()
    }
}

async fn bind() -> Result<TcpListener, BedError> {
    Ok(TcpListener::bind("127.0.0.1:0").await?)
}

impl TestBed {
    /// Start every listener (and one docker-registry per registry with a real backend).
    pub async fn start(spec: BedSpec) -> Result<TestBed, BedError> {
        let dir = tempfile::Builder::new().prefix("acr-testbed-").tempdir()?;
        let pki = crypto::Pki::generate()?;
        let token_cert = crypto::token_cert_pem()?;
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, &pki.ca_pem)?;

        // State.
        let mut tenants = vec![ids::TENANT.to_string(), ids::OTHER_TENANT.to_string()];
        for p in &spec.principals {
            if !tenants.contains(&p.tenant) {
                tenants.push(p.tenant.clone());
            }
        }
        let mut state = BedState {
            tenants,
            subscription: ids::SUBSCRIPTION.into(),
            registries: spec.registries.clone(),
            principals: spec.principals.clone(),
            role_definitions: builtin_roles(),
            assignments: Vec::new(),
            faults: spec.faults.clone(),
            aks: aks::AksWorld {
                enabled: spec.aks,
                graph_readers: if spec.aks {
                    vec![ids::SP_APP_ID.to_string()]
                } else {
                    Vec::new()
                },
            },
        };
        for (who, role, scope, condition) in &spec.assignments {
            if state
                .assign(who, role, scope, condition.as_deref())
                .is_none()
            {
                return Err(BedError::Spec(format!(
                    "cannot assign '{role}' to '{who}': unknown principal or role"
                )));
            }
        }

        // Listeners.
        let (entra, arm, graph, identity, registry) = (
            bind().await?,
            bind().await?,
            bind().await?,
            bind().await?,
            bind().await?,
        );
        let ports = Ports {
            entra: entra.local_addr()?.port(),
            arm: arm.local_addr()?.port(),
            graph: graph.local_addr()?.port(),
            identity: identity.local_addr()?.port(),
            registry: registry.local_addr()?.port(),
        };

        // Real registries.
        let mut children = Vec::new();
        let mut backends = HashMap::new();
        let real: Vec<&Registry> = spec.registries.iter().filter(|r| r.real_backend).collect();
        if !real.is_empty() {
            let bin = backend::registry_bin()?;
            std::fs::write(dir.path().join("token-signer.pem"), &token_cert)?;
            let mut starting = Vec::new();
            for r in real {
                starting.push(backend::spawn(&bin, dir.path(), &r.name)?);
            }
            for s in starting {
                let (child, addr) = backend::wait_ready(s).await?;
                backends.insert(addr.0, addr.1);
                children.push(child);
            }
        }

        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build_http();
        let inner = Arc::new(Inner {
            state: Mutex::new(state),
            log: Mutex::new(Vec::new()),
            connections: Mutex::new(BTreeMap::new()),
            pki,
            backends,
            client,
            ports,
        });

        let svc_tls = server::tls_config(Arc::new(server::FixedCert(inner.pki.service.clone())));
        let reg_tls = server::tls_config(Arc::new(server::RegistryCert(Arc::downgrade(&inner))));
        let weak = Arc::downgrade(&inner);
        let tasks = vec![
            server::spawn_listener(
                entra,
                Some(svc_tls.clone()),
                entra::router(inner.clone(), Listener::Entra),
                Listener::Entra,
                weak.clone(),
            ),
            server::spawn_listener(
                arm,
                Some(svc_tls.clone()),
                arm::router(inner.clone(), Listener::Arm),
                Listener::Arm,
                weak.clone(),
            ),
            server::spawn_listener(
                graph,
                Some(svc_tls),
                graph::router(inner.clone(), Listener::Graph),
                Listener::Graph,
                weak.clone(),
            ),
            server::spawn_listener(
                identity,
                None,
                identity::router(inner.clone(), Listener::Identity),
                Listener::Identity,
                weak.clone(),
            ),
            server::spawn_listener(
                registry,
                Some(reg_tls),
                login::router(inner.clone(), Listener::Registry),
                Listener::Registry,
                weak.clone(),
            ),
        ];
        Ok(TestBed {
            inner,
            tasks,
            _children: children,
            dir,
            ca_file,
        })
    }

    /// The bed's working directory (CA file, registry storage and logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
    /// PEM file of the test CA that signed every good listener certificate.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }
    /// PEM of the test CA.
    pub fn ca_pem(&self) -> &str {
        &self.inner.pki.ca_pem
    }
    /// Port of the HTTPS listener serving every registry.
    pub fn registry_port(&self) -> u16 {
        self.inner.ports.registry
    }
    /// `<name>.azurecr.io:<registry_port>`.
    pub fn login_server(&self, name: &str) -> String {
        format!(
            "{}.azurecr.io:{}",
            name.to_ascii_lowercase(),
            self.inner.ports.registry
        )
    }
    /// `<name>.azurecr.io:<port>:127.0.0.1`, for `--resolve`.
    pub fn resolve_arg(&self, name: &str) -> String {
        format!(
            "{}.azurecr.io:{}:127.0.0.1",
            name.to_ascii_lowercase(),
            self.inner.ports.registry
        )
    }
    /// Entra authority host (`AZURE_AUTHORITY_HOST`), e.g. `https://127.0.0.1:PORT`.
    pub fn authority_host(&self) -> String {
        format!("https://127.0.0.1:{}", self.inner.ports.entra)
    }
    /// ARM endpoint (`ACR_DOCTOR_ARM_ENDPOINT`).
    pub fn arm_endpoint(&self) -> String {
        format!("https://127.0.0.1:{}", self.inner.ports.arm)
    }
    /// Graph endpoint (`ACR_DOCTOR_GRAPH_ENDPOINT`).
    pub fn graph_endpoint(&self) -> String {
        format!("https://127.0.0.1:{}", self.inner.ports.graph)
    }
    /// App Service style managed identity endpoint (`IDENTITY_ENDPOINT`).
    pub fn identity_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/msi/token", self.inner.ports.identity)
    }
    /// The secret expected in `X-IDENTITY-HEADER` (`IDENTITY_HEADER`).
    pub fn identity_header(&self) -> &str {
        ids::IDENTITY_HEADER
    }
    /// Instance metadata endpoint base (`ACR_DOCTOR_IMDS_ENDPOINT`), e.g. `http://127.0.0.1:PORT`.
    pub fn imds_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.inner.ports.identity)
    }
    /// Environment pointing acr-doctor at the bed: `AZURE_AUTHORITY_HOST`,
    /// `ACR_DOCTOR_ARM_ENDPOINT`, `ACR_DOCTOR_GRAPH_ENDPOINT`, `ACR_DOCTOR_IMDS_ENDPOINT`.
    /// (No credentials, no `IDENTITY_ENDPOINT`: add `sp_env()` / `identity_env()` as needed.)
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AZURE_AUTHORITY_HOST".into(), self.authority_host()),
            ("ACR_DOCTOR_ARM_ENDPOINT".into(), self.arm_endpoint()),
            ("ACR_DOCTOR_GRAPH_ENDPOINT".into(), self.graph_endpoint()),
            ("ACR_DOCTOR_IMDS_ENDPOINT".into(), self.imds_endpoint()),
        ]
    }
    /// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`, `AZURE_SUBSCRIPTION_ID` of the
    /// default service principal.
    pub fn sp_env(&self) -> Vec<(String, String)> {
        vec![
            ("AZURE_TENANT_ID".into(), ids::TENANT.into()),
            ("AZURE_CLIENT_ID".into(), ids::SP_APP_ID.into()),
            ("AZURE_CLIENT_SECRET".into(), ids::SP_SECRET.into()),
            ("AZURE_SUBSCRIPTION_ID".into(), ids::SUBSCRIPTION.into()),
        ]
    }
    /// `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` (App Service style managed identity).
    pub fn identity_env(&self) -> Vec<(String, String)> {
        vec![
            ("IDENTITY_ENDPOINT".into(), self.identity_endpoint()),
            ("IDENTITY_HEADER".into(), ids::IDENTITY_HEADER.into()),
        ]
    }
    /// `["--name", name, "--login-server", login_server, "--resolve", resolve_arg, "--ca-file", ca_file]`.
    pub fn check_args(&self, name: &str) -> Vec<String> {
        vec![
            "--name".into(),
            name.into(),
            "--login-server".into(),
            self.login_server(name),
            "--resolve".into(),
            self.resolve_arg(name),
            "--ca-file".into(),
            self.ca_file.display().to_string(),
        ]
    }
    /// Activate a fault for one registry (`Some(name)`) or globally (`None`). A fault of the same
    /// kind on the same target is replaced.
    pub fn set_fault(&self, registry: Option<&str>, fault: Fault) {
        let target = registry.map(str::to_ascii_lowercase);
        let mut st = self.inner.state();
        st.faults
            .retain(|(t, f)| !(t == &target && f.name() == fault.name()));
        st.faults.push((target, fault));
    }
    /// Deactivate one fault kind (by name, e.g. `"slow"`) on a target.
    pub fn clear_fault(&self, registry: Option<&str>, name: &str) {
        let target = registry.map(str::to_ascii_lowercase);
        self.inner
            .state()
            .faults
            .retain(|(t, f)| !(t == &target && f.name() == name));
    }
    /// Deactivate every fault.
    pub fn clear_faults(&self) {
        self.inner.state().faults.clear();
    }
    /// Read or change registries, principals, assignments and faults at runtime. Registries added
    /// here have no docker-registry behind them (the bed verifies tokens itself).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut BedState) -> R) -> R {
        f(&mut self.inner.state())
    }
    /// Mint an Entra access token for a principal (key, object id, app id or UPN) and audience
    /// (e.g. `https://containerregistry.azure.net`, `https://management.azure.com/`). An unknown
    /// principal gets a token for a user of that name that no directory knows.
    pub fn entra_token(&self, principal: &str, audience: &str, lifetime: Duration) -> String {
        entra::mint_for(&self.inner, principal, audience, lifetime).unwrap_or_default()
    }
    /// A federated (workload identity) assertion for an app: iss/sub of its first federated
    /// credential, aud `api://AzureADTokenExchange`, valid 10 minutes.
    pub fn federated_token(&self, app_id: &str) -> String {
        entra::federated_token(&self.inner, app_id).unwrap_or_default()
    }
    /// Write an executable Azure CLI stand-in `az` into `dir` and return its path.
    pub fn fake_az(&self, dir: &Path, mode: FakeAz) -> PathBuf {
        fakeaz::write(self, dir, mode)
    }
    /// Push a tiny single-layer image to `<registry>/<repo>:<tag>` directly to the backend and
    /// return its manifest digest.
    pub async fn push_test_image(
        &self,
        registry: &str,
        repo: &str,
        tag: &str,
    ) -> Result<String, BedError> {
        backend::push_test_image(&self.inner, registry, repo, tag).await
    }
    /// Every request seen so far, oldest first.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.inner
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    /// Forgets the request log and the connection counts.
    pub fn clear_request_log(&self) {
        self.inner
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.inner
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
    /// Connections accepted since the start (or the last `clear_request_log`), by listener
    /// (`entra`, `arm`, `graph`, `identity`, `registry`) and TLS server name (empty without SNI).
    pub fn connections(&self) -> BTreeMap<(String, String), usize> {
        self.inner
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    /// Mint an ACR access token for a registry directly (for tests of the real registry).
    pub fn acr_access_token(&self, registry: &str, access: &[(&str, &str, &[&str])]) -> String {
        login::mint_access_for_test(&self.inner, registry, access).unwrap_or_default()
    }
}

/// Wait for Ctrl-C (for binaries serving a bed by hand).
pub async fn shutdown_signal() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
