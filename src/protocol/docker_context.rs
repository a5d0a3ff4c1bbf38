//! Which Docker endpoint the docker CLI would talk to, resolved as the CLI does it:
//! `DOCKER_HOST` (the "default" context), else `DOCKER_CONTEXT`, else `currentContext` in the
//! config, else the platform default. A named context's endpoint is read from
//! `<config dir>/contexts/meta/<sha256 of name>/meta.json` (`Endpoints.docker.Host`).
//!
//! (Checked against docker CLI 28: with both `DOCKER_HOST` and `DOCKER_CONTEXT` set, the CLI
//! uses `DOCKER_HOST`.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The platform's default endpoint.
pub const DEFAULT_HOST: &str = if cfg!(windows) {
    "npipe:////./pipe/docker_engine"
} else {
    "unix:///var/run/docker.sock"
};

/// Why this endpoint was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointSource {
    DockerHost,
    /// A named context, chosen by `DOCKER_CONTEXT` (`from_env`) or the config's `currentContext`.
    Context {
        name: String,
        from_env: bool,
        meta: PathBuf,
    },
    Default,
}

impl EndpointSource {
    /// `DOCKER_HOST`, `context "x" (DOCKER_CONTEXT)`, `context "x" (currentContext)`, `default`.
    pub fn describe(&self) -> String {
        match self {
            EndpointSource::DockerHost => "DOCKER_HOST".into(),
            EndpointSource::Context { name, from_env, .. } => format!(
                "context \"{name}\" ({})",
                if *from_env {
                    "DOCKER_CONTEXT"
                } else {
                    "currentContext"
                }
            ),
            EndpointSource::Default => "default".into(),
        }
    }
}

/// A resolved Docker endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// As written: `unix:///var/run/docker.sock`, `tcp://10.0.0.4:2376`, `ssh://u@h`, `npipe://...`.
    pub host: String,
    pub source: EndpointSource,
    /// TLS requested (`DOCKER_TLS_VERIFY`, or TLS material / `SkipTLSVerify` in the context).
    pub tls: bool,
}

/// Where to connect, parsed from an endpoint string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Unix(PathBuf),
    /// `host:port` for `tcp://` and `http://`.
    Tcp(String),
    Npipe(String),
    Ssh(String),
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error("context \"{name}\" ({origin}) has no metadata at {meta}")]
    NotFound {
        name: String,
        origin: String,
        meta: String,
    },
    #[error("context \"{name}\": cannot read {meta}: {message}")]
    Unreadable {
        name: String,
        meta: String,
        message: String,
    },
    #[error("context \"{name}\": {meta} has no Endpoints.docker.Host")]
    NoDockerEndpoint { name: String, meta: String },
}

/// The metadata directory of a context: `<dir>/contexts/meta/<sha256(name)>`.
pub fn meta_path(config_dir: &Path, name: &str) -> PathBuf {
    let digest = Sha256::digest(name.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    config_dir
        .join("contexts")
        .join("meta")
        .join(hex)
        .join("meta.json")
}

/// Resolves the endpoint from the environment, the config directory and its `currentContext`.
pub fn resolve(
    env: &BTreeMap<String, String>,
    config_dir: &Path,
    current_context: Option<&str>,
) -> Result<Endpoint, ContextError> {
    let get = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let tls_env = get("DOCKER_TLS_VERIFY").is_some_and(|v| v != "0");
    if let Some(host) = get("DOCKER_HOST") {
        return Ok(Endpoint {
            host: host.to_string(),
            source: EndpointSource::DockerHost,
            tls: tls_env,
        });
    }
    let (name, from_env) = match (get("DOCKER_CONTEXT"), current_context) {
        (Some(n), _) => (n.to_string(), true),
        (None, Some(n)) if !n.is_empty() => (n.to_string(), false),
        _ => ("default".to_string(), false),
    };
    if name == "default" {
        return Ok(Endpoint {
            host: DEFAULT_HOST.to_string(),
            source: EndpointSource::Default,
            tls: tls_env,
        });
    }
    let meta = meta_path(config_dir, &name);
    let meta_display = meta.display().to_string();
    let text = match std::fs::read_to_string(&meta) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ContextError::NotFound {
                name,
                origin: if from_env {
                    "DOCKER_CONTEXT".into()
                } else {
                    "currentContext".into()
                },
                meta: meta_display,
            })
        }
        Err(e) => {
            return Err(ContextError::Unreadable {
                name,
                meta: meta_display,
                message: e.to_string(),
            })
        }
    };
    let value: Value = serde_json::from_str(&text).map_err(|e| ContextError::Unreadable {
        name: name.clone(),
        meta: meta_display.clone(),
        message: e.to_string(),
    })?;
    let docker = value.get("Endpoints").and_then(|e| e.get("docker"));
    let host = docker
        .and_then(|d| d.get("Host"))
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty());
    let Some(host) = host else {
        return Err(ContextError::NoDockerEndpoint {
            name,
            meta: meta_display,
        });
    };
    // TLS material is stored beside the metadata, under contexts/tls/<hash>/docker.
    let tls_dir = meta.parent().and_then(|p| p.file_name()).map(|hash| {
        config_dir
            .join("contexts")
            .join("tls")
            .join(hash)
            .join("docker")
    });
    let skip_verify = docker
        .and_then(|d| d.get("SkipTLSVerify"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let tls = skip_verify || tls_dir.is_some_and(|d| d.exists());
    Ok(Endpoint {
        host: host.to_string(),
        source: EndpointSource::Context {
            name,
            from_env,
            meta,
        },
        tls,
    })
}

/// Parses an endpoint string into where to connect.
pub fn address(host: &str) -> Address {
    let h = host.trim();
    if let Some(path) = h.strip_prefix("unix://") {
        return Address::Unix(PathBuf::from(path));
    }
    for scheme in ["tcp://", "http://", "https://"] {
        if let Some(rest) = h.strip_prefix(scheme) {
            let authority = rest.split('/').next().unwrap_or(rest);
            let authority = if authority.contains(':') {
                authority.to_string()
            } else {
                format!("{authority}:2375")
            };
            return Address::Tcp(authority);
        }
    }
    if let Some(rest) = h.strip_prefix("npipe://") {
        return Address::Npipe(rest.to_string());
    }
    if h.starts_with("ssh://") {
        return Address::Ssh(h.to_string());
    }
    Address::Other(h.to_string())
}

/// True when the address names this machine (a socket, a pipe, or a loopback TCP host).
pub fn is_local(addr: &Address) -> bool {
    match addr {
        Address::Unix(_) | Address::Npipe(_) => true,
        Address::Tcp(a) => {
            let host = a.rsplit_once(':').map(|(h, _)| h).unwrap_or(a);
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        _ => false,
    }
}

/// The rootful Podman API socket.
pub const PODMAN_ROOTFUL_SOCKET: &str = "/run/podman/podman.sock";

/// Why a Podman API endpoint was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodmanSource {
    /// `CONTAINER_HOST` (which also puts the podman CLI in remote mode).
    ContainerHost,
    /// The rootless socket under `XDG_RUNTIME_DIR`.
    Rootless,
    /// The rootful socket, `/run/podman/podman.sock`.
    Rootful,
}

impl PodmanSource {
    pub fn describe(&self) -> String {
        match self {
            PodmanSource::ContainerHost => "CONTAINER_HOST".into(),
            PodmanSource::Rootless => "rootless socket in $XDG_RUNTIME_DIR".into(),
            PodmanSource::Rootful => "rootful socket".into(),
        }
    }
}

/// A Podman API endpoint (Podman's Docker-compatible API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodmanEndpoint {
    /// `unix:///run/user/1000/podman/podman.sock`, `tcp://...`, `ssh://...`.
    pub host: String,
    pub source: PodmanSource,
    /// Every socket looked at, in order (for the report).
    pub looked_at: Vec<String>,
}

/// `$XDG_RUNTIME_DIR/<rest>`, when the variable is set.
fn xdg_path(env: &BTreeMap<String, String>, rest: &str) -> Option<PathBuf> {
    env.get("XDG_RUNTIME_DIR")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(|d| Path::new(d).join(rest))
}

/// Where the Podman API is, as Podman's remote client finds it: `CONTAINER_HOST`, else the
/// rootless socket `$XDG_RUNTIME_DIR/podman/podman.sock` or the rootful
/// `/run/podman/podman.sock`, whichever exists (the rootless one when neither does and
/// `XDG_RUNTIME_DIR` is set).
pub fn podman_endpoint(env: &BTreeMap<String, String>) -> PodmanEndpoint {
    if let Some(h) = env
        .get("CONTAINER_HOST")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        return PodmanEndpoint {
            host: h.to_string(),
            source: PodmanSource::ContainerHost,
            looked_at: vec![h.to_string()],
        };
    }
    let mut candidates = Vec::new();
    if let Some(p) = xdg_path(env, "podman/podman.sock") {
        candidates.push((p, PodmanSource::Rootless));
    }
    candidates.push((PathBuf::from(PODMAN_ROOTFUL_SOCKET), PodmanSource::Rootful));
    let looked_at: Vec<String> = candidates
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    let chosen = candidates
        .iter()
        .find(|(p, _)| p.exists())
        .or_else(|| candidates.first())
        .cloned();
    let (path, source) =
        chosen.unwrap_or((PathBuf::from(PODMAN_ROOTFUL_SOCKET), PodmanSource::Rootful));
    PodmanEndpoint {
        host: format!("unix://{}", path.display()),
        source,
        looked_at,
    }
}

/// The socket of a rootless Docker daemon, `$XDG_RUNTIME_DIR/docker.sock`, when set.
pub fn rootless_docker_socket(env: &BTreeMap<String, String>) -> Option<PathBuf> {
    xdg_path(env, "docker.sock")
}

/// True when a unix socket path looks like a rootless Docker daemon's
/// (`$XDG_RUNTIME_DIR/docker.sock` or `/run/user/<uid>/docker.sock`).
pub fn is_rootless_docker_socket(env: &BTreeMap<String, String>, path: &Path) -> bool {
    if rootless_docker_socket(env).is_some_and(|p| p == path) {
        return true;
    }
    let text = path.display().to_string();
    text.strip_prefix("/run/user/")
        .and_then(|rest| rest.strip_suffix("/docker.sock"))
        .is_some_and(|uid| !uid.is_empty() && uid.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn docker_host_wins_then_context_then_default() {
        let dir = Path::new("/nonexistent-acr-doctor");
        let e = resolve(
            &env(&[
                ("DOCKER_HOST", "tcp://1.2.3.4:2375"),
                ("DOCKER_CONTEXT", "x"),
            ]),
            dir,
            Some("y"),
        )
        .expect("resolve");
        assert_eq!(e.source, EndpointSource::DockerHost);
        let e = resolve(&env(&[]), dir, None).expect("resolve");
        assert_eq!(e.source, EndpointSource::Default);
        assert_eq!(e.host, DEFAULT_HOST);
        let err = resolve(&env(&[("DOCKER_CONTEXT", "x")]), dir, Some("y")).expect_err("missing");
        assert!(matches!(err, ContextError::NotFound { ref name, .. } if name == "x"));
        let e = resolve(&env(&[("DOCKER_CONTEXT", "default")]), dir, Some("y")).expect("default");
        assert_eq!(e.source, EndpointSource::Default);
    }

    #[test]
    fn context_meta_is_read_by_hash() {
        let dir = std::env::temp_dir().join(format!("acr-doctor-ctx-{}", std::process::id()));
        let meta = meta_path(&dir, "remote");
        // The docker CLI names the directory after sha256("foo") for context "foo".
        assert!(meta_path(&dir, "foo").ends_with(
            "contexts/meta/2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae/meta.json"
        ));
        std::fs::create_dir_all(meta.parent().expect("parent")).expect("mkdir");
        std::fs::write(
            &meta,
            r#"{"Name":"remote","Endpoints":{"docker":{"Host":"tcp://127.0.0.1:1","SkipTLSVerify":false}}}"#,
        )
        .expect("write");
        let e = resolve(&env(&[]), &dir, Some("remote")).expect("resolve");
        assert_eq!(e.host, "tcp://127.0.0.1:1");
        assert!(matches!(
            e.source,
            EndpointSource::Context {
                from_env: false,
                ..
            }
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn addresses_parse() {
        assert_eq!(
            address("unix:///var/run/docker.sock"),
            Address::Unix(PathBuf::from("/var/run/docker.sock"))
        );
        assert_eq!(
            address("tcp://10.0.0.4"),
            Address::Tcp("10.0.0.4:2375".into())
        );
        assert!(is_local(&address("tcp://127.0.0.1:2375")));
        assert!(!is_local(&address("tcp://10.0.0.4:2376")));
    }

    #[test]
    fn podman_endpoint_prefers_container_host_then_existing_socket() {
        let e = podman_endpoint(&env(&[
            ("CONTAINER_HOST", "unix:///tmp/x.sock"),
            ("XDG_RUNTIME_DIR", "/run/user/1000"),
        ]));
        assert_eq!(e.source, PodmanSource::ContainerHost);
        assert_eq!(e.host, "unix:///tmp/x.sock");
        let dir = std::env::temp_dir().join(format!("acr-doctor-xdg-{}", std::process::id()));
        let xdg = dir.display().to_string();
        // Neither socket exists: the rootless one is named.
        let e = podman_endpoint(&env(&[("XDG_RUNTIME_DIR", &xdg)]));
        if !Path::new(PODMAN_ROOTFUL_SOCKET).exists() {
            assert_eq!(e.source, PodmanSource::Rootless);
        }
        assert_eq!(e.looked_at.len(), 2);
        std::fs::create_dir_all(dir.join("podman")).expect("mkdir");
        std::fs::write(dir.join("podman/podman.sock"), b"").expect("touch");
        let e = podman_endpoint(&env(&[("XDG_RUNTIME_DIR", &xdg)]));
        assert_eq!(e.source, PodmanSource::Rootless);
        assert_eq!(e.host, format!("unix://{xdg}/podman/podman.sock"));
        let _ = std::fs::remove_dir_all(&dir);
        let e = podman_endpoint(&env(&[]));
        assert_eq!(e.source, PodmanSource::Rootful);
    }

    #[test]
    fn rootless_docker_sockets_are_recognised() {
        let e = env(&[("XDG_RUNTIME_DIR", "/tmp/xdg")]);
        assert!(is_rootless_docker_socket(
            &e,
            Path::new("/tmp/xdg/docker.sock")
        ));
        assert!(is_rootless_docker_socket(
            &e,
            Path::new("/run/user/1000/docker.sock")
        ));
        assert!(!is_rootless_docker_socket(
            &e,
            Path::new("/var/run/docker.sock")
        ));
        assert!(!is_rootless_docker_socket(
            &e,
            Path::new("/run/user/x/docker.sock")
        ));
    }
}
