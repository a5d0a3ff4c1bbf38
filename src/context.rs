//! The one door to the outside: environment, clock, HTTP, TLS trust, processes and the trace.
//! Checks never read process globals; tests build a `Context` with their own environment.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;

use crate::model::Cloud;
use crate::redact::Redactor;

/// A problem with what the user gave us (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error(
        "--resolve {0:?}: expected HOST:PORT:ADDR, for example myregistry.azurecr.io:443:10.1.2.4"
    )]
    BadResolve(String),
    #[error("cannot read trusted certificates from {path}: {reason}")]
    BadCaFile { path: String, reason: String },
    #[error("{0}")]
    Other(String),
}

/// A pinned name, as curl's `--resolve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveOverride {
    pub host: String,
    pub port: u16,
    pub addr: IpAddr,
}

impl ResolveOverride {
    pub fn parse(spec: &str) -> Result<Self, UsageError> {
        let bad = || UsageError::BadResolve(spec.to_string());
        let (host, rest) = spec.split_once(':').ok_or_else(bad)?;
        let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        if host.is_empty() {
            return Err(bad());
        }
        Ok(ResolveOverride {
            host: host.to_ascii_lowercase(),
            port,
            addr,
        })
    }
}

/// The clock, shiftable in tests (inject skew instead of waiting for it).
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    pub offset_s: i64,
}

impl Clock {
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::seconds(self.offset_s)
    }

    pub fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }
}

/// Lines for `--verbose`: every request with method, URL, status and timing. Scrubbed when printed.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    lines: Arc<Mutex<Vec<String>>>,
}

impl Trace {
    pub fn push(&self, line: impl Into<String>) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(line.into());
        }
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Everything a check may touch outside its own memory.
#[derive(Clone)]
pub struct Context {
    env: Arc<BTreeMap<String, String>>,
    pub redactor: Redactor,
    pub clock: Clock,
    pub trace: Trace,
    pub timeout: Duration,
    pub resolve: Vec<ResolveOverride>,
    pub tls: Arc<rustls::ClientConfig>,
    /// Extra roots given by --ca-file / SSL_CERT_FILE, for reporting.
    pub extra_roots: Vec<String>,
    http: reqwest::Client,
    /// The same client without any proxy: managed identity and loopback requests.
    direct: reqwest::Client,
    /// Where each credential may go ([`crate::trust`]).
    pub gate: Arc<crate::trust::Gate>,
    /// Proxy settings read at start, user-info removed (for the report).
    pub proxies: Vec<(String, String)>,
    started: Instant,
    shared: SharedWork,
    /// Told when a check starts (`None`) and finishes (`Some(status)`), for a live progress line.
    pub progress: Option<ProgressFn>,
}

pub type ProgressFn = Arc<dyn Fn(&str, Option<crate::report::CheckStatus>) + Send + Sync>;

type SharedCell = Arc<tokio::sync::OnceCell<Arc<dyn std::any::Any + Send + Sync>>>;

/// Work done once per run even when several registries are checked (Docker, Entra tokens).
#[derive(Clone, Default)]
struct SharedWork(Arc<Mutex<std::collections::HashMap<String, SharedCell>>>);

impl SharedWork {
    /// The cell of `key`, made empty on first use.
    fn cell(&self, key: &str) -> SharedCell {
        let mut map = match self.0.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        map.entry(key.to_string()).or_default().clone()
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("timeout", &self.timeout)
            .field("resolve", &self.resolve)
            .finish_non_exhaustive()
    }
}

/// What the context is built from, the command line already checked.
#[derive(Debug, Clone)]
pub struct ContextOptions {
    pub resolve: Vec<ResolveOverride>,
    pub timeout: Duration,
    /// Extra trusted roots (`--ca-file`).
    pub ca_file: Option<PathBuf>,
    /// The cloud in effect (`--cloud`, else the Azure CLI's active cloud).
    pub cloud: Cloud,
    pub trust_login_server: bool,
}

/// Options a context can be built from: [`ContextOptions`] as they are, or the check options
/// (`&CheckArgs`), validated against the environment.
pub trait IntoContextOptions {
    fn into_context_options(
        self,
        env: &BTreeMap<String, String>,
    ) -> Result<ContextOptions, UsageError>;
}

impl IntoContextOptions for ContextOptions {
    fn into_context_options(
        self,
        _env: &BTreeMap<String, String>,
    ) -> Result<ContextOptions, UsageError> {
        Ok(self)
    }
}

/// The most bytes acr-doctor reads from any response body.
pub const BODY_CAP: usize = 1024 * 1024;

impl Context {
    /// Builds the context from an environment snapshot and the check options (`&CheckArgs`, whose
    /// conversion in `cli.rs` validates them first).
    pub fn new(
        env: BTreeMap<String, String>,
        options: impl IntoContextOptions,
    ) -> Result<Context, UsageError> {
        let ContextOptions {
            resolve,
            timeout,
            ca_file,
            cloud,
            trust_login_server,
        } = options.into_context_options(&env)?;
        let mut ca_files: Vec<PathBuf> = Vec::new();
        if let Some(path) = ca_file {
            ca_files.push(path);
        }
        if let Some(path) = env.get("SSL_CERT_FILE").filter(|p| !p.is_empty()) {
            ca_files.push(PathBuf::from(path));
        }
        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            let _ = roots.add(cert);
        }
        let mut extra_roots = Vec::new();
        for path in &ca_files {
            let certs = read_pem_certs(path)?;
            for cert in certs {
                roots.add(cert).map_err(|e| UsageError::BadCaFile {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
            }
            extra_roots.push(path.display().to_string());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| UsageError::Other(format!("TLS setup failed: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tls = Arc::new(tls);
        let gate =
            crate::trust::Gate::new(&env, cloud, trust_login_server).map_err(UsageError::Other)?;
        let redactor = Redactor::new();
        let proxies = read_proxies(&env, &redactor)?;
        let http = build_http(&env, &resolve, &tls, timeout, true)?;
        let direct = build_http(&env, &resolve, &tls, timeout, false)?;
        Ok(Context {
            env: Arc::new(env),
            redactor,
            clock: Clock::default(),
            trace: Trace::default(),
            timeout,
            resolve,
            tls,
            extra_roots,
            http,
            direct,
            gate: Arc::new(gate),
            proxies,
            started: Instant::now(),
            shared: SharedWork::default(),
            progress: None,
        })
    }

    /// The process environment as a map (what `main` passes in).
    pub fn process_env() -> BTreeMap<String, String> {
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect()
    }

    pub fn env(&self, name: &str) -> Option<&str> {
        self.env
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn env_map(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// The user's home directory from HOME (or USERPROFILE on Windows).
    pub fn home(&self) -> Option<PathBuf> {
        self.env("HOME")
            .or_else(|| self.env("USERPROFILE"))
            .map(PathBuf::from)
    }

    /// The shared HTTP client: connection reuse per host, --resolve, --ca-file and proxies applied.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The client that never uses a proxy (managed identity, loopback).
    pub(crate) fn direct(&self) -> &reqwest::Client {
        &self.direct
    }

    /// Opens a connection to `origin` (`https://host[:port]`) in the background, once per
    /// context, so that TCP's and TLS's handshakes overlap the requests a check waits for
    /// before it calls that host. The request is a `HEAD /` without credentials; its answer is
    /// ignored, and the connection stays in the client's pool for the check's real request.
    pub fn preconnect(&self, origin: &str) {
        let origin = origin.trim_end_matches('/').to_string();
        if !(origin.starts_with("https://") || origin.starts_with("http://")) {
            return;
        }
        // The first caller for this origin sets the cell; later ones find it set.
        let cell = self.shared.cell(&format!("preconnect:{origin}"));
        if cell.set(Arc::new(())).is_err() {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        self.trace.push(format!(
            "preconnect: HEAD {origin}/ (no credentials; opens the connection early)"
        ));
        let client = match url::Url::parse(&origin) {
            Ok(u) if u.host_str().is_some_and(crate::trust::is_loopback_host) => &self.direct,
            _ => &self.http,
        };
        let request = client.head(format!("{origin}/")).timeout(self.timeout);
        handle.spawn(async move {
            let _ = request.send().await;
        });
    }

    /// Runs `work` once per context and key; later callers (other registries of a fleet run)
    /// get a clone of the first result. Keys name what the value depends on, for example
    /// `docker.daemon` or `entra:<source>:<audience>`.
    pub async fn once<T, F, Fut>(&self, key: &str, work: F) -> T
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        // Keyed by type too, so the downcast below cannot fail.
        let key = format!("{key}\u{0}{}", std::any::type_name::<T>());
        let cell = self.shared.cell(&key);
        let value = cell
            .get_or_init(|| async {
                Arc::new(work().await) as Arc<dyn std::any::Any + Send + Sync>
            })
            .await
            .clone();
        #[allow(clippy::panic)] // unreachable: the key includes the type name
        match value.downcast_ref::<T>() {
            Some(v) => v.clone(),
            None => panic!("Context::once key {key:?} holds another type"),
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The address pinned for `host:port` by --resolve, if any.
    pub fn pinned(&self, host: &str, port: u16) -> Option<IpAddr> {
        let host = host.to_ascii_lowercase();
        self.resolve
            .iter()
            .find(|r| r.host == host && r.port == port)
            .map(|r| r.addr)
    }

    /// Finds a program on PATH (from this context's environment), trying Windows names too.
    pub fn which(&self, program: &str) -> Option<PathBuf> {
        let path = self.env("PATH")?;
        let sep = if cfg!(windows) { ';' } else { ':' };
        for dir in path.split(sep).filter(|d| !d.is_empty()) {
            for name in [program.to_string(), format!("{program}.exe")] {
                let candidate = Path::new(dir).join(&name);
                if is_executable(&candidate) {
                    return Some(candidate);
                }
            }
        }
        None
    }

    /// Runs a program with this context's environment, a time bound and optional stdin.
    /// The child runs in its own process group; its output is capped while it is read (the
    /// rest is drained and dropped); when the bound is reached the whole group is killed, so a
    /// credential helper's own children cannot outlive the run either.
    pub async fn run(
        &self,
        program: &Path,
        args: &[&str],
        stdin: Option<&[u8]>,
        bound: Duration,
    ) -> Result<ProcessOutput, ProcessError> {
        use tokio::io::AsyncWriteExt;
        let started = Instant::now();
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .env_clear()
            .envs(self.env.iter())
            .stdin(if stdin.is_some() {
                std::process::Stdio::piped()
            } else {
                std::process::Stdio::null()
            })
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| ProcessError::Spawn(e.to_string()))?;
        // The group's id is the child's pid, taken before the child is reaped.
        let group = child.id();
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let input = input.to_vec();
            tokio::spawn(async move {
                let _ = pipe.write_all(&input).await;
                let _ = pipe.shutdown().await;
            });
        }
        let stdout = child.stdout.take().map(|p| tokio::spawn(read_capped(p)));
        let stderr = child.stderr.take().map(|p| tokio::spawn(read_capped(p)));
        let status = match tokio::time::timeout(bound, child.wait()).await {
            Ok(Ok(status)) => status,
            Ok(Err(e)) => {
                kill_group(group, &mut child).await;
                return Err(ProcessError::Spawn(e.to_string()));
            }
            Err(_) => {
                kill_group(group, &mut child).await;
                self.trace.push(format!(
                    "exec {} {} -> killed after {bound:?}",
                    program.display(),
                    args.join(" ")
                ));
                return Err(ProcessError::Timeout(bound));
            }
        };
        // The pipes close when the child exits, unless something it started holds them open:
        // then that group still exists (so its id cannot have been reused) and is killed.
        let collect = |task: Option<tokio::task::JoinHandle<Vec<u8>>>| async move {
            match task {
                Some(t) => match tokio::time::timeout(Duration::from_secs(1), t).await {
                    Ok(r) => (r.unwrap_or_default(), true),
                    Err(_) => (Vec::new(), false),
                },
                None => (Vec::new(), true),
            }
        };
        let ((out, out_closed), (err, err_closed)) =
            futures::join!(collect(stdout), collect(stderr));
        if !(out_closed && err_closed) {
            kill_group(group, &mut child).await;
        }
        self.trace.push(format!(
            "exec {} {} -> {} ({} ms)",
            program.display(),
            args.join(" "),
            status
                .code()
                .map(|c| c.to_string())
                .unwrap_or_else(|| "signal".into()),
            started.elapsed().as_millis()
        ));
        Ok(ProcessOutput {
            code: status.code(),
            stdout: String::from_utf8_lossy(&out).into_owned(),
            stderr: String::from_utf8_lossy(&err).into_owned(),
        })
    }
}

/// Reads a pipe to its end, keeping at most [`BODY_CAP`] bytes.
async fn read_capped<R: tokio::io::AsyncRead + Unpin>(mut pipe: R) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut kept = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = BODY_CAP.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    kept
}

/// Kills the child's whole process group (Unix), then the child itself.
async fn kill_group(group: Option<u32>, child: &mut tokio::process::Child) {
    #[cfg(unix)]
    if let Some(pid) = group.and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    let _ = child.kill().await;
}

#[derive(Debug, Clone)]
pub struct ProcessOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl ProcessOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ProcessError {
    #[error("could not start: {0}")]
    Spawn(String),
    #[error("did not finish within {0:?}")]
    Timeout(Duration),
}

fn is_executable(path: &Path) -> bool {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                meta.permissions().mode() & 0o111 != 0
            }
            #[cfg(not(unix))]
            {
                true
            }
        }
        _ => false,
    }
}

fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, UsageError> {
    let bad = |reason: String| UsageError::BadCaFile {
        path: path.display().to_string(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    if meta.len() > 16 * 1024 * 1024 {
        return Err(bad("larger than 16 MiB".into()));
    }
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("not PEM: {e:?}")))?;
    if certs.is_empty() {
        return Err(bad("no CERTIFICATE block found".into()));
    }
    Ok(certs)
}

/// Every proxy variable, parsed when the run starts: its user-info (a proxy password) is
/// registered as a secret, and the value is kept without it for the report. A value that is
/// not a proxy address is a usage error.
fn read_proxies(
    env: &BTreeMap<String, String>,
    redactor: &Redactor,
) -> Result<Vec<(String, String)>, UsageError> {
    let mut out = Vec::new();
    for (name, value) in env {
        let upper = name.to_ascii_uppercase();
        if !matches!(
            upper.as_str(),
            "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY" | "NO_PROXY"
        ) {
            continue;
        }
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        if upper == "NO_PROXY" {
            out.push((name.clone(), value.to_string()));
            continue;
        }
        // Without a scheme, proxies are taken as http:// (as curl and reqwest do).
        let with_scheme = if value.contains("://") {
            value.to_string()
        } else {
            format!("http://{value}")
        };
        // Whatever sits before the last `@` of the authority is user-info: a secret, whether or
        // not the value parses.
        let authority = with_scheme
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(rest))
            .unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            redactor.register(userinfo);
            if let Some((_user, pass)) = userinfo.split_once(':') {
                redactor.register(pass);
                if let Ok(decoded) = url_decode(pass) {
                    redactor.register(&decoded);
                }
            }
        }
        let shown = match url::Url::parse(&with_scheme) {
            Ok(mut u) if u.host_str().is_some() => {
                let had = !u.username().is_empty() || u.password().is_some();
                let _ = u.set_username("");
                let _ = u.set_password(None);
                let mut s = u.to_string();
                if !value.contains("://") {
                    s = s.trim_start_matches("http://").to_string();
                }
                let s = s.trim_end_matches('/').to_string();
                if had {
                    format!("{s} (user-info removed)")
                } else {
                    s
                }
            }
            _ => {
                return Err(UsageError::Other(format!(
                "{name} is not a proxy address (expected [scheme://][user:password@]host[:port])"
            )))
            }
        };
        out.push((name.clone(), shown));
    }
    Ok(out)
}

fn url_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes: Vec<u8> = url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())
        .unwrap_or_default();
    String::from_utf8(bytes)
}

fn build_http(
    env: &BTreeMap<String, String>,
    resolve: &[ResolveOverride],
    tls: &Arc<rustls::ClientConfig>,
    timeout: Duration,
    with_proxies: bool,
) -> Result<reqwest::Client, UsageError> {
    // HTTP/2 where the server offers it: one connection per host carries every request,
    // including those sent while another is in flight.
    let mut config = (**tls).clone();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .timeout(timeout * 2)
        // Redirects are followed by hand, and never with credentials to another host.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("acr-doctor/", env!("CARGO_PKG_VERSION")))
        .no_proxy();
    for r in resolve {
        builder = builder.resolve(&r.host, SocketAddr::new(r.addr, r.port));
    }
    let get = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| env.get(*n).filter(|v| !v.is_empty()).cloned())
    };
    if !with_proxies {
        return builder
            .build()
            .map_err(|e| UsageError::Other(format!("HTTP client setup failed: {e}")));
    }
    let no_proxy = get(&["NO_PROXY", "no_proxy"]);
    if let Some(proxy) = get(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]) {
        let p = reqwest::Proxy::https(&proxy)
            .map_err(|e| UsageError::Other(format!("HTTPS_PROXY is not a URL: {e}")))?
            .no_proxy(reqwest::NoProxy::from_string(
                no_proxy.as_deref().unwrap_or(""),
            ));
        builder = builder.proxy(p);
    }
    if let Some(proxy) = get(&["HTTP_PROXY", "http_proxy"]) {
        let p = reqwest::Proxy::http(&proxy)
            .map_err(|e| UsageError::Other(format!("HTTP_PROXY is not a URL: {e}")))?
            .no_proxy(reqwest::NoProxy::from_string(
                no_proxy.as_deref().unwrap_or(""),
            ));
        builder = builder.proxy(p);
    }
    builder
        .build()
        .map_err(|e| UsageError::Other(format!("HTTP client setup failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::CheckArgs;

    fn test_context(env: BTreeMap<String, String>) -> Context {
        let args = CheckArgs {
            timeout: 5.0,
            ..CheckArgs::default()
        };
        Context::new(env, &args).expect("context")
    }

    fn alive(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
    }

    /// A helper that hangs and leaves a grandchild behind: the run ends at the bound and the
    /// whole process group is gone.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_hanging_helper_is_killed_with_its_process_group() {
        let dir = tempfile_dir();
        let pidfile = dir.join("grandchild.pid");
        let script = format!("sleep 300 & echo $! > {}; sleep 300", pidfile.display());
        let ctx = test_context(BTreeMap::from([("PATH".into(), "/usr/bin:/bin".into())]));
        let started = Instant::now();
        let r = ctx
            .run(
                Path::new("/bin/sh"),
                &["-c", &script],
                None,
                Duration::from_millis(500),
            )
            .await;
        assert!(matches!(r, Err(ProcessError::Timeout(_))), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let pid = std::fs::read_to_string(&pidfile).expect("pid written");
        let pid = pid.trim();
        for _ in 0..50 {
            if !alive(pid) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!alive(pid), "the grandchild {pid} survived");
    }

    /// Output is capped while it is read: a helper printing far more than the cap ends normally
    /// with the first BODY_CAP bytes.
    #[cfg(unix)]
    #[tokio::test]
    async fn helper_output_is_capped_while_read() {
        let ctx = test_context(BTreeMap::from([("PATH".into(), "/usr/bin:/bin".into())]));
        let r = ctx
            .run(
                Path::new("/bin/sh"),
                &["-c", "head -c 8388608 /dev/zero | tr '\\0' a"],
                None,
                Duration::from_secs(20),
            )
            .await
            .expect("runs");
        assert_eq!(r.stdout.len(), BODY_CAP);
        assert!(r.success());
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "acr-doctor-ctx-{}-{}",
            std::process::id(),
            OffsetDateTime::now_utc().unix_timestamp_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn proxy_user_info_is_a_secret_and_leaves_the_report() {
        let env = BTreeMap::from([
            (
                "HTTPS_PROXY".to_string(),
                "http://u:CANARY-P1@proxy.example:3128".to_string(),
            ),
            (
                "http_proxy".to_string(),
                "u:CANARY-P2@proxy.example:3128".to_string(),
            ),
            (
                "ALL_PROXY".to_string(),
                "socks5://u:CANARY%2DP3@proxy.example:1080".to_string(),
            ),
        ]);
        let redactor = Redactor::new();
        let shown = read_proxies(&env, &redactor).expect("proxies");
        let text = format!("{shown:?}");
        assert!(!text.contains("CANARY"), "{text}");
        assert!(text.contains("proxy.example:3128"), "{text}");
        for secret in ["CANARY-P1", "CANARY-P2", "CANARY-P3", "CANARY%2DP3"] {
            assert!(
                !redactor.scrub(&format!("x {secret} y")).contains(secret),
                "{secret}"
            );
        }
    }

    #[test]
    fn resolve_parses_like_curl() {
        let r = ResolveOverride::parse("reg.azurecr.io:443:10.1.2.4").expect("parse");
        assert_eq!(r.port, 443);
        assert_eq!(r.addr.to_string(), "10.1.2.4");
        let r = ResolveOverride::parse("Reg.azurecr.io:8443:[::1]").expect("parse");
        assert_eq!(r.host, "reg.azurecr.io");
        assert!(ResolveOverride::parse("reg.azurecr.io:10.1.2.4").is_err());
        assert!(ResolveOverride::parse("reg:x:1.2.3.4").is_err());
    }
}
