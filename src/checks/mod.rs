//! The Check trait and the one ordered list of checks.
//!
//! A check declares, in its [`Meta`], its id, group, title, the facts it needs (prerequisites:
//! it is skipped when they are missing), the facts it only uses when present, and the facts it
//! provides.
//! It returns an [`Outcome`]; it never prints.

use std::sync::{Mutex, MutexGuard};

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use crate::context::Context;
use crate::finding::RawFinding;
use crate::lang::Lang;
use crate::report::{CheckStatus, TimelineEntry};
use crate::request::CheckArgs;

pub mod facts;
pub use facts::*;

pub mod aks;
pub mod auth;
pub mod docker;
pub mod expiry;
pub mod helm;
pub mod identity;
pub mod network;
pub mod registry;

/// Headings of the human report, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Environment,
    Registry,
    Identity,
    Authorization,
    Cluster,
    Expiry,
}

impl Group {
    pub fn title(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Group::Environment, Lang::En) => "Environment",
            (Group::Environment, Lang::Ja) => "環境",
            (Group::Registry, Lang::En) => "Registry",
            (Group::Registry, Lang::Ja) => "レジストリ",
            (Group::Identity, Lang::En) => "Identity",
            (Group::Identity, Lang::Ja) => "ID と資格情報",
            (Group::Authorization, Lang::En) => "Authorization",
            (Group::Authorization, Lang::Ja) => "アクセス許可",
            (Group::Cluster, Lang::En) => "AKS cluster",
            (Group::Cluster, Lang::Ja) => "AKS クラスター",
            (Group::Expiry, Lang::En) => "Expiry",
            (Group::Expiry, Lang::Ja) => "有効期限",
        }
    }
}

/// What a check found.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: CheckStatus,
    pub message: String,
    pub evidence: Map<String, Value>,
    pub findings: Vec<RawFinding>,
}

#[cfg(test)]
impl Outcome {
    /// The codes of the findings, in order (for unit tests).
    pub(crate) fn codes(&self) -> Vec<crate::catalogue::Code> {
        self.findings.iter().map(|f| f.code).collect()
    }
}

impl Outcome {
    fn new(status: CheckStatus, message: impl Into<String>) -> Self {
        Outcome {
            status,
            message: message.into(),
            evidence: Map::new(),
            findings: Vec::new(),
        }
    }

    pub fn pass(message: impl Into<String>) -> Self {
        Self::new(CheckStatus::Pass, message)
    }

    pub fn info(message: impl Into<String>) -> Self {
        Self::new(CheckStatus::Info, message)
    }

    pub fn skip(message: impl Into<String>) -> Self {
        Self::new(CheckStatus::Skip, message)
    }

    pub fn warn(message: impl Into<String>, finding: RawFinding) -> Self {
        Self::new(CheckStatus::Warn, message).finding(finding)
    }

    pub fn fail(message: impl Into<String>, finding: RawFinding) -> Self {
        Self::new(CheckStatus::Fail, message).finding(finding)
    }

    pub fn finding(mut self, finding: RawFinding) -> Self {
        self.findings.push(finding);
        self
    }

    pub fn evidence(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.evidence.insert(key.to_string(), value.into());
        self
    }
}

/// What a check gets: the context, the options, the facts and the language.
#[derive(Clone, Copy)]
pub struct CheckCx<'a> {
    pub ctx: &'a Context,
    pub args: &'a CheckArgs,
    /// The registry this run is about (`--name` as given).
    pub target: &'a str,
    pub lang: Lang,
    facts: &'a Mutex<Facts>,
    timeline: &'a Mutex<Vec<TimelineEntry>>,
    /// Completion signals of fact providers, for waiting only when a fact turns out to matter.
    done: Option<
        &'a std::collections::BTreeMap<Fact, tokio::sync::watch::Receiver<Option<CheckStatus>>>,
    >,
    /// The running check's metadata: it may wait only for the facts it declares.
    meta: Option<&'static Meta>,
}

thread_local! {
    /// Whether this thread holds the facts' lock: taking it again would deadlock.
    static HOLDING_FACTS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The facts, locked; released when dropped. Taking the lock again on the same thread while
/// holding it (two `cx.facts()` in one expression) is a bug that would hang the run: it panics
/// instead, which the engine reports as a crash of that check.
pub struct FactsGuard<'a> {
    guard: MutexGuard<'a, Facts>,
}

impl std::ops::Deref for FactsGuard<'_> {
    type Target = Facts;
    fn deref(&self) -> &Facts {
        &self.guard
    }
}

impl std::ops::DerefMut for FactsGuard<'_> {
    fn deref_mut(&mut self) -> &mut Facts {
        &mut self.guard
    }
}

impl Drop for FactsGuard<'_> {
    fn drop(&mut self) {
        HOLDING_FACTS.with(|h| h.set(false));
    }
}

impl<'a> CheckCx<'a> {
    pub fn new(
        ctx: &'a Context,
        args: &'a CheckArgs,
        target: &'a str,
        lang: Lang,
        facts: &'a Mutex<Facts>,
        timeline: &'a Mutex<Vec<TimelineEntry>>,
    ) -> Self {
        CheckCx {
            ctx,
            args,
            target,
            lang,
            facts,
            timeline,
            done: None,
            meta: None,
        }
    }

    /// The same context for one check: [`CheckCx::await_fact`] then waits only for the facts
    /// that check declares.
    pub fn for_check(&self, meta: &'static Meta) -> Self {
        CheckCx {
            meta: Some(meta),
            ..*self
        }
    }

    /// Lets [`CheckCx::await_fact`] wait for providers (set by the engine).
    pub fn with_done(
        mut self,
        done: &'a std::collections::BTreeMap<
            Fact,
            tokio::sync::watch::Receiver<Option<CheckStatus>>,
        >,
    ) -> Self {
        self.done = Some(done);
        self
    }

    /// Waits until the check providing `fact` has finished, if one runs. For facts needed only
    /// on some paths (the registry's settings when the login server answers 403), so the common
    /// path does not wait for them. Never wait for a fact whose provider waits for this check.
    /// Returns the provider's status, or `None` when no check provides it or it did not finish in time.
    pub async fn await_fact(&self, fact: Fact) -> Option<CheckStatus> {
        // Only declared facts: the engine knows them, `--only` runs their providers, and the
        // cycle check covers them. Anything else would be a wait nobody can see.
        if let Some(meta) = self.meta {
            if !meta.declares(fact) {
                return None;
            }
        }
        let mut rx = self.done.and_then(|d| d.get(&fact)).cloned()?;
        let waited =
            tokio::time::timeout(self.ctx.timeout * 4, rx.wait_for(|done| done.is_some())).await;
        match waited {
            Ok(Ok(status)) => *status,
            _ => None,
        }
    }

    /// The facts, locked. Keep the guard short: never hold it across an `.await`, and never
    /// take it twice in one expression (see [`FactsGuard`]).
    pub fn facts(&self) -> FactsGuard<'_> {
        #[allow(clippy::panic)] // a bug in a check; the engine turns it into a crashed check
        if HOLDING_FACTS.with(|h| h.replace(true)) {
            panic!("the facts were locked twice on one thread (a deadlock in acr-doctor)");
        }
        let guard = match self.facts.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        FactsGuard { guard }
    }

    /// Text in the run's language.
    pub fn t(&self, en: impl Into<String>, ja: impl Into<String>) -> String {
        self.lang.t(en, ja)
    }

    /// Puts a credential on the expiry timeline.
    pub fn record_credential(&self, entry: TimelineEntry) {
        if let Ok(mut t) = self.timeline.lock() {
            if !t
                .iter()
                .any(|e| e.kind == entry.kind && e.source == entry.source)
            {
                t.push(entry);
            }
        }
    }

    pub fn timeline(&self) -> Vec<TimelineEntry> {
        self.timeline.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

/// What a check declares about itself: constant, read by the engine (what to wait for) and by
/// `acr-doctor checks`. Built in a `const` or `static` with [`Meta::new`] and the builder-like
/// `needs`, `uses`, `provides` and `consults`, each left empty when not given.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub id: &'static str,
    pub group: Group,
    /// The title in English and in Japanese.
    pub title: (&'static str, &'static str),
    /// Facts that must be present; otherwise the check is skipped with the reason.
    pub needs: &'static [Fact],
    /// Facts used when present: the check waits for their providers but runs either way.
    pub uses: &'static [Fact],
    pub provides: &'static [Fact],
    /// Facts the check may wait for mid-run with [`CheckCx::await_fact`] (only on some paths):
    /// `--only` runs their providers too; the engine never waits for them upfront.
    pub consults: &'static [Fact],
}

impl Meta {
    /// A check with that id, group and title (English, Japanese), needing, using, providing and
    /// consulting nothing.
    pub const fn new(id: &'static str, group: Group, en: &'static str, ja: &'static str) -> Self {
        Meta {
            id,
            group,
            title: (en, ja),
            needs: &[],
            uses: &[],
            provides: &[],
            consults: &[],
        }
    }

    pub const fn needs(self, needs: &'static [Fact]) -> Self {
        Meta { needs, ..self }
    }

    pub const fn uses(self, uses: &'static [Fact]) -> Self {
        Meta { uses, ..self }
    }

    pub const fn provides(self, provides: &'static [Fact]) -> Self {
        Meta { provides, ..self }
    }

    pub const fn consults(self, consults: &'static [Fact]) -> Self {
        Meta { consults, ..self }
    }

    /// Whether the check declares `fact` (needs, uses or consults it).
    pub fn declares(&self, fact: Fact) -> bool {
        self.needs.contains(&fact) || self.uses.contains(&fact) || self.consults.contains(&fact)
    }
}

/// One unit of diagnosis: its [`Meta`] and its `run`; the other methods read the metadata or
/// are optional hooks.
pub trait Check: Send + Sync {
    fn meta(&self) -> &'static Meta;
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome>;

    fn id(&self) -> &'static str {
        self.meta().id
    }
    fn group(&self) -> Group {
        self.meta().group
    }
    fn title(&self, lang: Lang) -> &'static str {
        let (en, ja) = self.meta().title;
        lang.pick(en, ja)
    }
    /// [`Meta::needs`]: facts that must be present; otherwise the check is skipped.
    fn needs(&self) -> &'static [Fact] {
        self.meta().needs
    }
    /// [`Meta::uses`]: facts used when present.
    fn uses(&self) -> &'static [Fact] {
        self.meta().uses
    }
    fn provides(&self) -> &'static [Fact] {
        self.meta().provides
    }
    /// [`Meta::consults`]: facts the check may wait for mid-run.
    fn consults(&self) -> &'static [Fact] {
        self.meta().consults
    }
    /// A host (`https://host[:port]`) the check will call once its prerequisites are done, when
    /// the options say it will: the engine opens that connection at the start of the run
    /// ([`Context::preconnect`](crate::context::Context::preconnect)).
    fn preconnect(&self, _cx: &CheckCx<'_>) -> Option<String> {
        None
    }
    /// `Some(reason)` when the options make this check irrelevant (e.g. `--vnet` not given).
    fn not_requested(&self, _args: &CheckArgs, _lang: Lang) -> Option<String> {
        None
    }
}

/// Whether the run will ask Entra for tokens as a service principal from the environment
/// (client secret, certificate or federated token file), so that ARM and Graph will be called:
/// the condition under which their connections are opened early. `secret_only` narrows it to a
/// client secret (the only credential whose end date is read from Graph).
pub fn env_service_principal(cx: &CheckCx<'_>, secret_only: bool) -> bool {
    use crate::request::AuthSource;
    let source_allows = match cx.args.auth {
        AuthSource::Auto => cx.args.username.is_none(),
        AuthSource::Env => true,
        AuthSource::WorkloadIdentity => !secret_only,
        _ => false,
    };
    let has = |k: &str| cx.ctx.env(k).is_some();
    let secret = has("AZURE_CLIENT_SECRET");
    let other = has("AZURE_CLIENT_CERTIFICATE_PATH") || has("AZURE_FEDERATED_TOKEN_FILE");
    source_allows && has("AZURE_CLIENT_ID") && (secret || (!secret_only && other))
}

/// The facts every family needs, computed one way.
impl CheckCx<'_> {
    /// The cloud in effect for the run: `--cloud`, else the Azure CLI's active cloud.
    pub fn cloud(&self) -> crate::model::Cloud {
        crate::effective_cloud(self.args, self.ctx.env_map())
    }

    /// The registry name: the fact when `registry.name` provided it, else the first label of the
    /// target as typed (`myregistry` of `https://myregistry.azurecr.io`), lower case.
    pub fn registry_name(&self) -> String {
        let from_facts = self.facts().registry_name.clone();
        from_facts.unwrap_or_else(|| {
            self.target
                .trim_start_matches("https://")
                .split(['.', ':', '/'])
                .next()
                .unwrap_or(self.target)
                .to_ascii_lowercase()
        })
    }

    /// The login server as `host[:port]`: the fact when known, else the registry name with the
    /// cloud's suffix.
    pub fn login_server(&self) -> String {
        let known = self.facts().login_server.as_ref().map(|l| l.authority());
        known.unwrap_or_else(|| self.cloud().login_server(&self.registry_name()))
    }
}

/// Every check, in report order. The engine runs each as soon as the providers of the
/// facts it needs or uses are done, so the order here is for reading, not for waiting.
pub fn all() -> Vec<Box<dyn Check>> {
    fn shared(check: impl Check + 'static) -> Box<dyn Check> {
        Box::new(Shared(Box::new(check)))
    }
    vec![
        shared(docker::Client),
        shared(docker::Daemon),
        Box::new(docker::Config),
        Box::new(docker::Credentials),
        shared(helm::Helm),
        Box::new(docker::Login),
        Box::new(registry::NameCheck),
        Box::new(registry::LoginServerCheck),
        Box::new(network::DnsCheck),
        Box::new(network::PrivateEndpointCheck),
        Box::new(network::TlsCheck),
        Box::new(registry::ChallengeCheck),
        Box::new(registry::DataEndpointCheck),
        Box::new(identity::CredentialCheck),
        Box::new(identity::RefreshTokenCheck),
        Box::new(identity::AccessTokenCheck),
        Box::new(identity::AnonymousProbeCheck),
        Box::new(registry::RegistryArm),
        Box::new(registry::RegistryCmk),
        Box::new(auth::AuthRepository),
        Box::new(auth::AuthImage),
        Box::new(auth::AuthLock),
        Box::new(auth::AuthCatalog),
        Box::new(auth::AuthPrincipal),
        Box::new(aks::AksCluster),
        Box::new(aks::AksIdentity),
        Box::new(aks::AksEgress),
        Box::new(aks::AksPrivateDns),
        Box::new(expiry::Timeline),
    ]
}

/// A check whose result does not depend on the registry (the local Docker client and engine,
/// helm): run once per run and replayed for every other registry of a fleet run.
pub struct Shared(pub Box<dyn Check>);

/// The facts a shared check may write, replayed with its outcome.
#[derive(Clone)]
struct LocalFacts {
    docker_client_version: Option<String>,
    docker_endpoint: Option<String>,
    docker_engine: Option<DockerEngine>,
    container_engine: Option<ContainerEngine>,
}

impl LocalFacts {
    fn take(f: &Facts) -> Self {
        LocalFacts {
            docker_client_version: f.docker_client_version.clone(),
            docker_endpoint: f.docker_endpoint.clone(),
            docker_engine: f.docker_engine.clone(),
            container_engine: f.container_engine.clone(),
        }
    }

    fn apply(self, f: &mut Facts) {
        f.docker_client_version = f
            .docker_client_version
            .take()
            .or(self.docker_client_version);
        f.docker_endpoint = f.docker_endpoint.take().or(self.docker_endpoint);
        f.docker_engine = f.docker_engine.take().or(self.docker_engine);
        f.container_engine = f.container_engine.take().or(self.container_engine);
    }
}

impl Check for Shared {
    fn meta(&self) -> &'static Meta {
        self.0.meta()
    }
    fn preconnect(&self, cx: &CheckCx<'_>) -> Option<String> {
        self.0.preconnect(cx)
    }
    fn not_requested(&self, args: &CheckArgs, lang: Lang) -> Option<String> {
        self.0.not_requested(args, lang)
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let key = format!("check:{}:{}", self.0.id(), cx.lang.code());
            let (outcome, local) = cx
                .ctx
                .once(&key, || async {
                    let outcome = self.0.run(cx).await;
                    let local = LocalFacts::take(&cx.facts());
                    (outcome, local)
                })
                .await;
            local.apply(&mut cx.facts());
            outcome
        })
    }
}

/// For unit tests of a check's steps: a context for `argv` (the options after `acr-doctor
/// check`) in `lang`, its target the `--name` given, with no facts; nothing is sent.
#[cfg(test)]
pub(crate) fn with_test_cx<R>(argv: &[&str], lang: Lang, f: impl FnOnce(&CheckCx<'_>) -> R) -> R {
    let args = crate::check_args(argv).expect("args");
    let ctx = Context::new(std::collections::BTreeMap::new(), &args).expect("context");
    crate::engine::CheckHarness::new(&ctx)
        .args(args)
        .lang(lang)
        .with_cx(f)
}
