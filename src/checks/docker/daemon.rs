//! The Docker daemon: the endpoint the docker CLI would use, reached through bollard.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde_json::{json, Value};

use crate::catalogue::Code;
use crate::checks::{Check, CheckCx, DockerEngine, Fact, Group, Meta, Outcome};
use crate::finding::{RawFinding, Severity};
use crate::lang::Lang;
use crate::protocol::docker_config::{config_dir, DockerConfig};
use crate::protocol::docker_context::{
    self, address, is_local, is_rootless_docker_socket, podman_endpoint, rootless_docker_socket,
    Address, Endpoint, EndpointSource, PodmanEndpoint, PodmanSource,
};

use super::engine::{self, Kind};
use std::path::Path;

/// An answer slower than this is worth a warning.
const SLOW: Duration = Duration::from_secs(2);

/// Why a connection to the daemon failed, from the operating system's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectProblem {
    /// No socket at the path (ENOENT).
    NoSocket,
    /// The socket exists but this user may not open it (EACCES / EPERM).
    PermissionDenied,
    /// Nothing listens (ECONNREFUSED): a stale socket or a stopped daemon.
    Refused,
    /// No answer in time (a remote host that does not answer).
    TimedOut,
    /// Host or network unreachable.
    Unreachable,
    Other(String),
}

/// Classifies a connect error. (A test running as root cannot produce EACCES with chmod,
/// so the permission case is tested through this function with a simulated error.)
pub fn classify_connect_error(e: &std::io::Error) -> ConnectProblem {
    use std::io::ErrorKind;
    match (e.kind(), e.raw_os_error()) {
        (ErrorKind::NotFound, _) | (_, Some(2)) => ConnectProblem::NoSocket,
        (ErrorKind::PermissionDenied, _) | (_, Some(13)) | (_, Some(1)) => {
            ConnectProblem::PermissionDenied
        }
        (ErrorKind::ConnectionRefused, _) | (_, Some(111)) => ConnectProblem::Refused,
        (ErrorKind::TimedOut, _) | (_, Some(110)) => ConnectProblem::TimedOut,
        (_, Some(101)) | (_, Some(113)) => ConnectProblem::Unreachable,
        _ => ConnectProblem::Other(e.to_string()),
    }
}

pub struct Daemon;

impl Check for Daemon {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "docker.daemon",
            Group::Environment,
            "docker daemon",
            "docker デーモン",
        )
        // Without a usable client the daemon is moot: the client's finding is the primary cause.
        .needs(&[Fact::DockerClient])
        .provides(&[Fact::DockerDaemon]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(run(cx))
    }
}

async fn run(cx: &CheckCx<'_>) -> Outcome {
    let sel = engine::current(cx);
    let outcome = match sel.kind {
        Kind::Docker => run_docker(cx).await,
        Kind::Podman => run_podman(cx).await,
    };
    outcome
        .evidence("engine", sel.kind.command())
        .evidence("engine_reason", sel.why)
}

/// What probing an Engine API endpoint gave.
enum Probe {
    Answered {
        pinged: Duration,
        version: Box<bollard::models::SystemVersion>,
        info: Box<bollard::models::SystemInfo>,
    },
    Failed(ConnectProblem),
    /// ssh and other transports acr-doctor does not open.
    NotProbed,
}

/// Connects to a unix socket or TCP endpoint, then pings it and reads its version and info.
async fn probe(cx: &CheckCx<'_>, addr: &Address) -> Probe {
    let bound = cx.ctx.timeout;
    let secs = bound.as_secs().max(1);
    let started = Instant::now();
    let docker = match addr {
        #[cfg(unix)]
        Address::Unix(path) => {
            if let Err(e) = precheck_unix(path, bound).await {
                return Probe::Failed(e);
            }
            bollard::Docker::connect_with_unix(
                &path.display().to_string(),
                secs,
                bollard::API_DEFAULT_VERSION,
            )
        }
        Address::Tcp(a) => {
            if let Err(e) = precheck_tcp(a, bound).await {
                return Probe::Failed(e);
            }
            bollard::Docker::connect_with_http(
                &format!("tcp://{a}"),
                secs,
                bollard::API_DEFAULT_VERSION,
            )
        }
        #[cfg(windows)]
        Address::Npipe(p) => bollard::Docker::connect_with_named_pipe(
            &format!("npipe://{p}"),
            secs,
            bollard::API_DEFAULT_VERSION,
        ),
        _ => return Probe::NotProbed,
    };
    let docker = match docker {
        Ok(d) => d,
        Err(e) => return Probe::Failed(ConnectProblem::Other(e.to_string())),
    };
    let work = async {
        docker.ping().await?;
        let pinged = started.elapsed();
        let docker = docker.negotiate_version().await?;
        let version = docker.version().await?;
        let info = docker.info().await?;
        Ok::<_, bollard::errors::Error>((pinged, version, info))
    };
    match tokio::time::timeout(bound * 2, work).await {
        Ok(Ok((pinged, version, info))) => Probe::Answered {
            pinged,
            version: Box::new(version),
            info: Box::new(info),
        },
        Ok(Err(bollard::errors::Error::RequestTimeoutError)) | Err(_) => {
            Probe::Failed(ConnectProblem::TimedOut)
        }
        Ok(Err(e)) => Probe::Failed(ConnectProblem::Other(crate::http::error_chain(&e))),
    }
}

/// The Podman version behind an Engine API endpoint (its `Podman Engine` component).
fn podman_component(version: &bollard::models::SystemVersion) -> Option<String> {
    version
        .components
        .as_ref()?
        .iter()
        .find(|c| c.name == "Podman Engine")
        .map(|c| c.version.clone())
}

async fn run_docker(cx: &CheckCx<'_>) -> Outcome {
    let env = cx.ctx.env_map();
    // A malformed config is ignored by the docker CLI too (it warns and uses the defaults).
    let current = DockerConfig::load(env)
        .ok()
        .and_then(|l| l.file.current_context);
    let dir = config_dir(env).unwrap_or_default();
    let endpoint = match docker_context::resolve(env, &dir, current.as_deref()) {
        Ok(e) => e,
        Err(e) => {
            let detail = cx.t(
                format!("the docker context cannot be resolved: {e}"),
                format!("docker コンテキストを解決できません: {e}"),
            );
            return Outcome::fail(
                detail.clone(),
                RawFinding::new(Code::DOCKER_DAEMON_ERROR, detail)
                    .evidence("error", e.to_string())
                    .command("docker context ls")
                    .command("docker context use default"),
            );
        }
    };
    cx.facts().docker_endpoint = Some(endpoint.host.clone());
    let source = endpoint.source.describe();
    let addr = address(&endpoint.host);
    let evidence = |o: Outcome| {
        let mut o = o
            .evidence("endpoint", endpoint.host.clone())
            .evidence("endpoint_source", source.clone());
        if let EndpointSource::Context { meta, .. } = &endpoint.source {
            o = o.evidence("context_meta", meta.display().to_string());
        }
        o
    };
    if endpoint.tls {
        return evidence(Outcome::info(cx.t(
            format!("{} ({source}) uses TLS; acr-doctor does not probe TLS-protected daemons", endpoint.host),
            format!("{} ({source}) は TLS を使用します。acr-doctor は TLS で保護されたデーモンを調べません", endpoint.host),
        )));
    }
    let (pinged, version, info) = match probe(cx, &addr).await {
        Probe::Answered {
            pinged,
            version,
            info,
        } => (pinged, version, info),
        Probe::Failed(problem) => {
            if let (ConnectProblem::NoSocket, EndpointSource::Default) =
                (&problem, &endpoint.source)
            {
                if let Some(rootless) = rootless_docker_socket(env).filter(|p| p.exists()) {
                    return evidence(rootless_not_used(cx, &endpoint, &rootless));
                }
            }
            return evidence(daemon_error(cx, &endpoint, &source, problem));
        }
        Probe::NotProbed => {
            return evidence(Outcome::info(cx.t(
                format!(
                    "{} ({source}) is not probed by acr-doctor (ssh and other transports)",
                    endpoint.host
                ),
                format!(
                    "{} ({source}) は acr-doctor では調べません (ssh などの接続方式)",
                    endpoint.host
                ),
            )));
        }
    };
    let outcome = report(
        cx,
        Kind::Docker,
        &endpoint.host,
        &source,
        pinged,
        &version,
        &info,
    );
    evidence(outcome)
}

/// The engine's answer as the check's outcome: versions, proxies, registries, timing; records
/// the engine fact.
fn report(
    cx: &CheckCx<'_>,
    kind: Kind,
    host: &str,
    source: &str,
    pinged: Duration,
    version: &bollard::models::SystemVersion,
    info: &bollard::models::SystemInfo,
) -> Outcome {
    let answer = EngineAnswer::read(kind, host, version, info);
    cx.facts().docker_engine = Some(answer.engine.clone());
    let ms = pinged.as_millis();
    let message = answer.message(kind, cx.lang, host, source, ms);
    let outcome = if pinged > SLOW {
        slow_answer(cx, kind, host, source, ms, message)
    } else {
        Outcome::pass(message)
    };
    answer.evidence(outcome, ms)
}

/// What an engine said about itself in its version and info.
struct EngineAnswer {
    /// The Podman version, when Podman serves the endpoint.
    podman: Option<String>,
    engine_version: String,
    os_arch: String,
    rootless: bool,
    /// The fact later checks use.
    engine: DockerEngine,
    mirrors: Vec<String>,
    insecure_cidrs: Vec<String>,
    insecure_hosts: Vec<String>,
}

impl EngineAnswer {
    fn read(
        kind: Kind,
        host: &str,
        version: &bollard::models::SystemVersion,
        info: &bollard::models::SystemInfo,
    ) -> Self {
        let podman = podman_component(version);
        let engine_version = match (kind, &podman) {
            (Kind::Podman, Some(v)) => v.clone(),
            _ => version.version.clone().unwrap_or_default(),
        };
        let os_arch = format!(
            "{}/{}",
            version.os.clone().unwrap_or_default(),
            version.arch.clone().unwrap_or_default()
        );
        let nonempty = |s: &Option<String>| s.clone().filter(|v| !v.is_empty());
        let engine = DockerEngine {
            endpoint: host.to_string(),
            api_version: version.api_version.clone(),
            version: Some(engine_version.clone()),
            http_proxy: nonempty(&info.http_proxy),
            https_proxy: nonempty(&info.https_proxy),
            no_proxy: nonempty(&info.no_proxy),
        };
        let rootless = info
            .security_options
            .as_ref()
            .is_some_and(|o| o.iter().any(|x| x.contains("name=rootless")));
        let reg = info.registry_config.clone().unwrap_or_default();
        let insecure_hosts: Vec<String> = reg
            .index_configs
            .clone()
            .unwrap_or_default()
            .into_values()
            .filter(|i| i.secure == Some(false))
            .filter_map(|i| i.name)
            .collect();
        EngineAnswer {
            podman,
            engine_version,
            os_arch,
            rootless,
            engine,
            mirrors: reg.mirrors.clone().unwrap_or_default(),
            insecure_cidrs: reg.insecure_registry_cidrs.clone().unwrap_or_default(),
            insecure_hosts,
        }
    }

    /// The check's message: where, which engine and API, platform, time to answer, and what
    /// sets this engine apart (rootless, Podman behind the docker endpoint, a daemon proxy).
    fn message(&self, kind: Kind, lang: Lang, host: &str, source: &str, ms: u128) -> String {
        let engine_version = &self.engine_version;
        let os_arch = &self.os_arch;
        let api_version = &self.engine.api_version;
        let mut message = match kind {
            Kind::Docker => format!(
                "{host} ({source}): engine {engine_version}, API {}, {os_arch}, {ms} ms",
                api_version.as_deref().unwrap_or("?"),
            ),
            Kind::Podman => format!(
                "{host} ({source}): Podman {engine_version}, Docker-compatible API {}, {os_arch}, {ms} ms",
                api_version.as_deref().unwrap_or("?"),
            ),
        };
        if self.rootless {
            message.push_str(", rootless");
        }
        if let (Kind::Docker, Some(p)) = (kind, &self.podman) {
            message.push_str(&lang.t(
                format!(" (this endpoint is served by Podman {p})"),
                format!(" (このエンドポイントは Podman {p} が提供しています)"),
            ));
        }
        let engine = &self.engine;
        if let Some(p) = engine.https_proxy.as_ref().or(engine.http_proxy.as_ref()) {
            message.push_str(&lang.t(
                format!(", daemon proxy {p}"),
                format!(", デーモンのプロキシ {p}"),
            ));
        }
        message
    }

    /// The answer as the outcome's evidence.
    fn evidence(self, outcome: Outcome, ms: u128) -> Outcome {
        let proxies = json!({
            "http_proxy": self.engine.http_proxy,
            "https_proxy": self.engine.https_proxy,
            "no_proxy": self.engine.no_proxy,
        });
        let mut outcome = outcome
            .evidence("engine_version", self.engine_version)
            .evidence("api_version", self.engine.api_version.unwrap_or_default())
            .evidence("os_arch", self.os_arch)
            .evidence("ping_ms", ms as u64)
            .evidence("rootless", self.rootless)
            .evidence("daemon_proxies", proxies)
            .evidence("registry_mirrors", Value::from(self.mirrors))
            .evidence("insecure_registries", Value::from(self.insecure_cidrs))
            .evidence("insecure_registry_hosts", Value::from(self.insecure_hosts));
        if let Some(p) = self.podman {
            outcome = outcome.evidence("podman_version", p);
        }
        outcome
    }
}

/// An engine slower than [`SLOW`] to answer a ping: a warning, for its commands will be slow.
fn slow_answer(
    cx: &CheckCx<'_>,
    kind: Kind,
    host: &str,
    source: &str,
    ms: u128,
    message: String,
) -> Outcome {
    let what = match kind {
        Kind::Docker => cx.t("the daemon", "デーモン"),
        Kind::Podman => cx.t("the Podman service", "Podman サービス"),
    };
    let detail = cx.t(
        format!(
            "{what} at {host} ({source}) took {ms} ms to answer a ping; {} commands will be slow or time out",
            kind.command()
        ),
        format!(
            "{host} ({source}) の{what}は ping の応答に {ms} ms かかりました。{} コマンドが遅くなるかタイムアウトします",
            kind.command()
        ),
    );
    Outcome::warn(
        message,
        RawFinding::new(Code::DOCKER_DAEMON_ERROR, detail)
            .severity(Severity::Warning)
            .evidence("endpoint", host.to_string())
            .evidence("ping_ms", ms as u64),
    )
}

/// The default socket is absent but a rootless daemon runs: the CLI is not pointed at it.
fn rootless_not_used(cx: &CheckCx<'_>, endpoint: &Endpoint, rootless: &Path) -> Outcome {
    let sock = rootless.display().to_string();
    let default = match address(&endpoint.host) {
        Address::Unix(p) => p.display().to_string(),
        _ => endpoint.host.clone(),
    };
    let detail = cx.t(
        format!("no Docker socket at {default} (default), but a rootless Docker daemon's socket exists at {sock}: the docker CLI only uses it when DOCKER_HOST or a docker context points to it"),
        format!("{default} (既定) に Docker のソケットはありませんが、rootless Docker デーモンのソケットが {sock} にあります。docker CLI は DOCKER_HOST か docker コンテキストで指定された場合にだけそれを使います"),
    );
    Outcome::fail(
        detail.clone(),
        RawFinding::new(Code::DOCKER_DAEMON_ERROR, detail)
            .evidence("endpoint", endpoint.host.clone())
            .evidence("rootless_socket", sock.clone())
            .evidence("problem", "rootless_not_selected")
            .command(format!("export DOCKER_HOST=unix://{sock}"))
            .command("docker context use rootless"),
    )
}

async fn run_podman(cx: &CheckCx<'_>) -> Outcome {
    let ep = podman_endpoint(cx.ctx.env_map());
    cx.facts().docker_endpoint = Some(ep.host.clone());
    let source = ep.source.describe();
    let addr = address(&ep.host);
    let evidence = |o: Outcome| {
        o.evidence("endpoint", ep.host.clone())
            .evidence("endpoint_source", source.clone())
            .evidence("looked_at", Value::from(ep.looked_at.clone()))
    };
    match probe(cx, &addr).await {
        Probe::Answered {
            pinged,
            version,
            info,
        } => evidence(report(
            cx,
            Kind::Podman,
            &ep.host,
            &source,
            pinged,
            &version,
            &info,
        )),
        Probe::Failed(problem) => evidence(podman_error(cx, &ep, &source, problem)),
        Probe::NotProbed => evidence(Outcome::info(cx.t(
            format!(
                "{} ({source}) is not probed by acr-doctor (ssh and other transports)",
                ep.host
            ),
            format!(
                "{} ({source}) は acr-doctor では調べません (ssh などの接続方式)",
                ep.host
            ),
        ))),
    }
}

/// The command that starts the Podman API service for an endpoint source.
fn podman_start_command(source: &PodmanSource) -> &'static str {
    match source {
        PodmanSource::Rootful => "sudo systemctl start podman.socket",
        _ => "systemctl --user start podman.socket",
    }
}

/// The outcome for a Podman API endpoint that does not answer. Podman itself runs without a
/// service, so an absent local socket is only information unless `CONTAINER_HOST` (which makes
/// the podman CLI remote) or `--docker-login` needs it.
fn podman_error(
    cx: &CheckCx<'_>,
    ep: &PodmanEndpoint,
    source: &str,
    problem: ConnectProblem,
) -> Outcome {
    let host = &ep.host;
    let what = match address(host) {
        Address::Unix(p) => p.display().to_string(),
        _ => host.clone(),
    };
    let start = podman_start_command(&ep.source);
    let needed = ep.source == PodmanSource::ContainerHost || cx.args.docker_login;
    let absent = matches!(problem, ConnectProblem::NoSocket | ConnectProblem::Refused);
    if absent && !needed {
        let looked = ep.looked_at.join(", ");
        return Outcome::info(cx.t(
            format!("no Podman API service at {what} (looked at {looked}); podman itself runs without it, but Docker-compatible tools and --docker-login need it: `{start}`"),
            format!("{what} に Podman API サービスはありません ({looked} を確認)。podman 自体はそれなしで動きますが、Docker 互換ツールと --docker-login には必要です: `{start}`"),
        ))
        .evidence("problem", if matches!(problem, ConnectProblem::NoSocket) { "no_socket" } else { "connection_refused" });
    }
    let (kind, detail) = match &problem {
        ConnectProblem::NoSocket => (
            "no_socket",
            cx.t(
                format!("no Podman API socket at {what} ({source}): the service is not running, or {source} points to the wrong place"),
                format!("{what} ({source}) に Podman API のソケットがありません。サービスが起動していないか、{source} の指定先が誤っています"),
            ),
        ),
        ConnectProblem::Refused => (
            "connection_refused",
            cx.t(
                format!("connection refused at {what} ({source}): the socket exists but the Podman service does not listen"),
                format!("{what} ({source}) で接続が拒否されました。ソケットはありますが Podman サービスが待ち受けていません"),
            ),
        ),
        ConnectProblem::PermissionDenied => (
            "permission_denied",
            cx.t(
                format!("permission denied on {what} ({source}): this user may not use that Podman socket; use the rootless service of your own user instead"),
                format!("{what} ({source}) へのアクセスが拒否されました。このユーザーはその Podman ソケットを使えません。自分のユーザーの rootless サービスを使ってください"),
            ),
        ),
        ConnectProblem::TimedOut | ConnectProblem::Unreachable => (
            "timeout",
            cx.t(
                format!("the Podman service at {what} ({source}) did not answer within {:.0} s", cx.ctx.timeout.as_secs_f64()),
                format!("{what} ({source}) の Podman サービスが {:.0} 秒以内に応答しませんでした", cx.ctx.timeout.as_secs_f64()),
            ),
        ),
        ConnectProblem::Other(text) => (
            "other",
            cx.t(
                format!("the Podman service at {what} ({source}) could not be used: {text}"),
                format!("{what} ({source}) の Podman サービスを使用できませんでした: {text}"),
            ),
        ),
    };
    let mut finding = RawFinding::new(Code::DOCKER_DAEMON_ERROR, detail.clone())
        .evidence("endpoint", host.clone())
        .evidence("endpoint_source", source.to_string())
        .evidence("problem", kind);
    finding = match (&problem, &ep.source) {
        (ConnectProblem::PermissionDenied, _) => finding
            .command("systemctl --user start podman.socket")
            .command("export CONTAINER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock"),
        (_, PodmanSource::ContainerHost) => finding
            .command("podman system connection list")
            .command("unset CONTAINER_HOST"),
        (_, other) => finding.command(podman_start_command(other)),
    };
    Outcome::fail(detail, finding)
}

#[cfg(unix)]
async fn precheck_unix(path: &std::path::Path, bound: Duration) -> Result<(), ConnectProblem> {
    match tokio::time::timeout(bound, tokio::net::UnixStream::connect(path)).await {
        Err(_) => Err(ConnectProblem::TimedOut),
        Ok(Err(e)) => Err(classify_connect_error(&e)),
        Ok(Ok(_)) => Ok(()),
    }
}

async fn precheck_tcp(addr: &str, bound: Duration) -> Result<(), ConnectProblem> {
    match tokio::time::timeout(bound, tokio::net::TcpStream::connect(addr)).await {
        Err(_) => Err(ConnectProblem::TimedOut),
        Ok(Err(e)) => Err(classify_connect_error(&e)),
        Ok(Ok(_)) => Ok(()),
    }
}

/// The failing outcome for a daemon that cannot be used, worded for what was seen.
pub fn daemon_error(
    cx: &CheckCx<'_>,
    endpoint: &Endpoint,
    source: &str,
    problem: ConnectProblem,
) -> Outcome {
    let host = &endpoint.host;
    let addr = address(host);
    let place = DaemonPlace {
        host,
        what: match &addr {
            Address::Unix(p) => p.display().to_string(),
            _ => host.clone(),
        },
        source,
        remote_context: matches!(endpoint.source, EndpointSource::Context { .. })
            && !is_local(&addr),
    };
    let (kind, detail) = place.describe(&problem, cx.lang, cx.ctx.timeout);
    let mut finding = RawFinding::new(Code::DOCKER_DAEMON_ERROR, detail.clone())
        .evidence("endpoint", host.clone())
        .evidence("endpoint_source", source.to_string())
        .evidence("problem", kind);
    let rootless =
        matches!(&addr, Address::Unix(p) if is_rootless_docker_socket(cx.ctx.env_map(), p));
    if rootless {
        finding = finding.evidence("rootless", true);
    }
    for command in daemon_fix_commands(&problem, &endpoint.source, rootless) {
        finding = finding.command(*command);
    }
    Outcome::fail(detail, finding)
}

/// Where the daemon was looked for, as the messages name it.
struct DaemonPlace<'a> {
    host: &'a str,
    /// The socket's path, or the host for other transports.
    what: String,
    /// Which setting chose the endpoint.
    source: &'a str,
    /// A docker context points to another machine.
    remote_context: bool,
}

impl DaemonPlace<'_> {
    /// The problem's evidence word and the finding's detail.
    fn describe(
        &self,
        problem: &ConnectProblem,
        lang: Lang,
        timeout: Duration,
    ) -> (&'static str, String) {
        if let Some(remote) = self.describe_remote(problem, lang) {
            return remote;
        }
        let DaemonPlace {
            host, what, source, ..
        } = self;
        match problem {
            ConnectProblem::NoSocket => (
                "no_socket",
                lang.t(
                    format!("no Docker socket at {what} ({source}): the daemon is not running, or {source} points to the wrong place"),
                    format!("{what} ({source}) に Docker のソケットがありません。デーモンが起動していないか、{source} の指定先が誤っています"),
                ),
            ),
            ConnectProblem::PermissionDenied => (
                "permission_denied",
                lang.t(
                    format!("permission denied on {what} ({source}): this user may not use the Docker socket; add it to the `docker` group with `sudo usermod -aG docker $USER`, then log out and in again"),
                    format!("{what} ({source}) へのアクセスが拒否されました。このユーザーは Docker のソケットを使えません。`sudo usermod -aG docker $USER` で `docker` グループに追加し、ログインし直してください"),
                ),
            ),
            ConnectProblem::Refused => (
                "connection_refused",
                lang.t(
                    format!("connection refused at {what} ({source}): the socket exists but no daemon listens; start or restart Docker"),
                    format!("{what} ({source}) で接続が拒否されました。ソケットはありますがデーモンが待ち受けていません。Docker を起動または再起動してください"),
                ),
            ),
            ConnectProblem::TimedOut => (
                "timeout",
                lang.t(
                    format!("the daemon at {what} ({source}) did not answer within {:.0} s", timeout.as_secs_f64()),
                    format!("{what} ({source}) のデーモンが {:.0} 秒以内に応答しませんでした", timeout.as_secs_f64()),
                ),
            ),
            ConnectProblem::Unreachable => (
                "unreachable",
                lang.t(
                    format!("{host} ({source}) is unreachable from this machine"),
                    format!("{host} ({source}) にこのマシンから到達できません"),
                ),
            ),
            ConnectProblem::Other(text) => (
                "other",
                lang.t(
                    format!("the daemon at {what} ({source}) could not be used: {text}"),
                    format!("{what} ({source}) のデーモンを使用できませんでした: {text}"),
                ),
            ),
        }
    }

    /// The host of a remote context that refuses or does not answer is named as such.
    fn describe_remote(
        &self,
        problem: &ConnectProblem,
        lang: Lang,
    ) -> Option<(&'static str, String)> {
        if !self.remote_context {
            return None;
        }
        let DaemonPlace { host, source, .. } = self;
        match problem {
            ConnectProblem::Refused => Some((
                "remote_refused",
                lang.t(
                    format!("{source} points to {host}, which refuses the connection: nothing listens there"),
                    format!("{source} の指定先 {host} は接続を拒否しました。そこでは何も待ち受けていません"),
                ),
            )),
            ConnectProblem::TimedOut | ConnectProblem::Unreachable => Some((
                "remote_no_answer",
                lang.t(
                    format!("{source} points to the remote host {host}, which does not answer"),
                    format!("{source} の指定先であるリモートホスト {host} が応答しません"),
                ),
            )),
            _ => None,
        }
    }
}

/// The commands that fix a daemon problem: start a rootless daemon, join the `docker` group,
/// or stop pointing elsewhere (DOCKER_HOST, a context) or start the system daemon.
fn daemon_fix_commands(
    problem: &ConnectProblem,
    source: &EndpointSource,
    rootless: bool,
) -> &'static [&'static str] {
    match (problem, source) {
        (ConnectProblem::NoSocket | ConnectProblem::Refused, _) if rootless => &[
            "systemctl --user start docker",
            "systemctl --user status docker",
        ],
        (ConnectProblem::PermissionDenied, _) => {
            &["sudo usermod -aG docker $USER", "newgrp docker"]
        }
        (_, EndpointSource::DockerHost) => &["unset DOCKER_HOST"],
        (_, EndpointSource::Context { .. }) => &["docker context ls", "docker context use default"],
        (_, EndpointSource::Default) => &["sudo systemctl start docker"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_errors_classify() {
        let e = std::io::Error::from_raw_os_error(13);
        assert_eq!(classify_connect_error(&e), ConnectProblem::PermissionDenied);
        let e = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(classify_connect_error(&e), ConnectProblem::PermissionDenied);
        let e = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(classify_connect_error(&e), ConnectProblem::NoSocket);
        let e = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(classify_connect_error(&e), ConnectProblem::Refused);
    }

    fn every_problem() -> Vec<ConnectProblem> {
        vec![
            ConnectProblem::NoSocket,
            ConnectProblem::PermissionDenied,
            ConnectProblem::Refused,
            ConnectProblem::TimedOut,
            ConnectProblem::Unreachable,
            ConnectProblem::Other("boom".into()),
        ]
    }

    #[test]
    fn a_daemon_problem_is_named_for_where_the_daemon_was_looked_for() {
        let kinds = |remote_context: bool, lang: Lang| -> Vec<&'static str> {
            let place = DaemonPlace {
                host: "tcp://192.0.2.1:2375",
                what: "tcp://192.0.2.1:2375".into(),
                source: "DOCKER_HOST",
                remote_context,
            };
            every_problem()
                .iter()
                .map(|p| {
                    let (kind, detail) = place.describe(p, lang, Duration::from_secs(5));
                    assert!(!detail.is_empty());
                    kind
                })
                .collect()
        };
        for lang in [Lang::En, Lang::Ja] {
            assert_eq!(
                kinds(false, lang),
                [
                    "no_socket",
                    "permission_denied",
                    "connection_refused",
                    "timeout",
                    "unreachable",
                    "other"
                ]
            );
            assert_eq!(
                kinds(true, lang),
                [
                    "no_socket",
                    "permission_denied",
                    "remote_refused",
                    "remote_no_answer",
                    "remote_no_answer",
                    "other"
                ]
            );
        }
    }

    #[test]
    fn each_daemon_problem_has_its_fix() {
        let context = EndpointSource::Context {
            name: "remote".into(),
            from_env: false,
            meta: Default::default(),
        };
        for problem in every_problem() {
            let rootless_start =
                matches!(problem, ConnectProblem::NoSocket | ConnectProblem::Refused);
            for source in [
                EndpointSource::Default,
                EndpointSource::DockerHost,
                context.clone(),
            ] {
                let plain = daemon_fix_commands(&problem, &source, false);
                let rootless = daemon_fix_commands(&problem, &source, true);
                assert!(!plain.is_empty() && !rootless.is_empty());
                if problem == ConnectProblem::PermissionDenied {
                    assert_eq!(plain, ["sudo usermod -aG docker $USER", "newgrp docker"]);
                    assert_eq!(rootless, plain);
                    continue;
                }
                assert_eq!(rootless[0].starts_with("systemctl --user"), rootless_start);
                let first = match source {
                    EndpointSource::Default => "sudo systemctl start docker",
                    EndpointSource::DockerHost => "unset DOCKER_HOST",
                    EndpointSource::Context { .. } => "docker context ls",
                };
                assert_eq!(plain[0], first);
            }
        }
    }

    fn engine_answer(kind: Kind) -> EngineAnswer {
        use bollard::models::{IndexInfo, RegistryServiceConfig, SystemVersionComponents};
        let version = bollard::models::SystemVersion {
            version: Some("5.0.0".into()),
            api_version: Some("1.41".into()),
            os: Some("linux".into()),
            arch: Some("amd64".into()),
            components: Some(vec![SystemVersionComponents {
                name: "Podman Engine".into(),
                version: "4.9.3".into(),
                details: None,
            }]),
            ..Default::default()
        };
        let insecure = IndexInfo {
            name: Some("reg.internal.test".into()),
            secure: Some(false),
            ..Default::default()
        };
        let secure = IndexInfo {
            name: Some("docker.io".into()),
            secure: Some(true),
            ..Default::default()
        };
        let info = bollard::models::SystemInfo {
            http_proxy: Some("http://proxy.test:3128".into()),
            https_proxy: Some(String::new()),
            security_options: Some(vec!["name=seccomp".into(), "name=rootless".into()]),
            registry_config: Some(RegistryServiceConfig {
                insecure_registry_cidrs: Some(vec!["127.0.0.0/8".into()]),
                index_configs: Some(
                    [("a".to_string(), insecure), ("b".to_string(), secure)]
                        .into_iter()
                        .collect(),
                ),
                mirrors: Some(vec!["https://mirror.test".into()]),
            }),
            ..Default::default()
        };
        EngineAnswer::read(kind, "unix:///run/podman/podman.sock", &version, &info)
    }

    #[test]
    fn the_engine_answer_reads_versions_proxies_and_registries() {
        let podman = engine_answer(Kind::Podman);
        assert_eq!(podman.engine_version, "4.9.3");
        assert_eq!(podman.podman.as_deref(), Some("4.9.3"));
        assert_eq!(podman.os_arch, "linux/amd64");
        assert!(podman.rootless);
        assert_eq!(podman.engine.endpoint, "unix:///run/podman/podman.sock");
        assert_eq!(podman.engine.api_version.as_deref(), Some("1.41"));
        assert_eq!(podman.engine.version.as_deref(), Some("4.9.3"));
        assert_eq!(
            podman.engine.http_proxy.as_deref(),
            Some("http://proxy.test:3128")
        );
        // An empty setting is no setting.
        assert_eq!(podman.engine.https_proxy, None);
        assert_eq!(podman.engine.no_proxy, None);
        assert_eq!(podman.mirrors, ["https://mirror.test"]);
        assert_eq!(podman.insecure_cidrs, ["127.0.0.0/8"]);
        assert_eq!(podman.insecure_hosts, ["reg.internal.test"]);

        // Through the docker endpoint the engine's own version is the one named.
        let docker = engine_answer(Kind::Docker);
        assert_eq!(docker.engine_version, "5.0.0");
        assert_eq!(docker.podman.as_deref(), Some("4.9.3"));
        let message = docker.message(Kind::Docker, Lang::En, "h", "s", 12);
        for part in [
            "5.0.0",
            "1.41",
            "linux/amd64",
            "12 ms",
            "4.9.3",
            "http://proxy.test:3128",
        ] {
            assert!(message.contains(part), "{part} in {message}");
        }
    }

    #[test]
    fn the_engine_answer_is_the_outcomes_evidence() {
        let outcome = engine_answer(Kind::Podman).evidence(Outcome::pass("m"), 12);
        let keys: Vec<&str> = outcome.evidence.keys().map(String::as_str).collect();
        for key in [
            "engine_version",
            "api_version",
            "os_arch",
            "ping_ms",
            "rootless",
            "daemon_proxies",
            "registry_mirrors",
            "insecure_registries",
            "insecure_registry_hosts",
            "podman_version",
        ] {
            assert!(keys.contains(&key), "{key} in {keys:?}");
        }
        assert_eq!(outcome.evidence["ping_ms"], json!(12));
        assert_eq!(
            outcome.evidence["daemon_proxies"]["https_proxy"],
            Value::Null
        );
        let docker_only = EngineAnswer {
            podman: None,
            ..engine_answer(Kind::Docker)
        };
        let outcome = docker_only.evidence(Outcome::pass("m"), 12);
        assert!(!outcome.evidence.contains_key("podman_version"));
    }
}
