//! Which container engine the run diagnoses: Docker or Podman, pinned by `--engine` or found.
//!
//! `auto` picks, in this order: a docker CLI on PATH (not Podman's `docker` emulation) → docker;
//! a podman CLI (or the emulation) → podman; a Docker daemon socket without any CLI → docker;
//! a Podman API socket → podman; nothing at all → docker (whose missing client is then reported).

use std::path::{Path, PathBuf};

use crate::checks::{CheckCx, ContainerEngine};
use crate::protocol::docker_config::{config_dir, DockerConfig};
use crate::protocol::docker_context::{
    self, address, podman_endpoint, rootless_docker_socket, Address,
};
use crate::request::Engine;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Docker,
    Podman,
}

impl Kind {
    /// `docker` / `podman`: the command users type.
    pub fn command(self) -> &'static str {
        match self {
            Kind::Docker => "docker",
            Kind::Podman => "podman",
        }
    }

    /// `Docker` / `Podman`, for sentences.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Docker => "Docker",
            Kind::Podman => "Podman",
        }
    }
}

/// The engine chosen and why, with what was found on the way.
#[derive(Debug, Clone)]
pub struct Selection {
    pub kind: Kind,
    /// Why, in the run's language.
    pub why: String,
    /// The docker CLI, when it is Docker's own.
    pub docker_cli: Option<PathBuf>,
    /// The podman CLI (or a `docker` that only runs podman).
    pub podman_cli: Option<PathBuf>,
}

/// True when the `docker` at `path` is Podman's emulation: a link to podman, or a small script
/// that runs podman (Debian's and Fedora's podman-docker package).
pub fn is_podman_shim(path: &Path) -> bool {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if target
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("podman"))
    {
        return true;
    }
    let small = std::fs::metadata(&target).is_ok_and(|m| m.len() <= 64 * 1024);
    if !small {
        return false;
    }
    std::fs::read(&target).is_ok_and(|bytes| {
        bytes.starts_with(b"#!")
            && String::from_utf8_lossy(&bytes)
                .lines()
                .any(|l| l.trim_start().starts_with("exec") && l.contains("podman"))
    })
}

/// The Docker daemon socket that exists, if any: the endpoint the docker CLI would use when it is
/// a unix socket, else a rootless daemon's `$XDG_RUNTIME_DIR/docker.sock`.
fn docker_socket(cx: &CheckCx<'_>) -> Option<PathBuf> {
    let env = cx.ctx.env_map();
    let current = DockerConfig::load(env)
        .ok()
        .and_then(|l| l.file.current_context);
    let dir = config_dir(env).unwrap_or_default();
    let endpoint = docker_context::resolve(env, &dir, current.as_deref()).ok();
    let configured = endpoint.and_then(|e| match address(&e.host) {
        Address::Unix(p) => Some(p),
        _ => None,
    });
    configured
        .into_iter()
        .chain(rootless_docker_socket(env))
        .find(|p| p.exists())
}

/// The engine for this run (computed once, then read from the facts).
pub fn current(cx: &CheckCx<'_>) -> Selection {
    let sel = select(cx);
    let mut facts = cx.facts();
    if facts.container_engine.is_none() {
        facts.container_engine = Some(ContainerEngine {
            name: sel.kind.command().to_string(),
            why: sel.why.clone(),
        });
    }
    sel
}

fn select(cx: &CheckCx<'_>) -> Selection {
    let docker_any = cx.ctx.which("docker");
    let shim = docker_any.as_deref().is_some_and(is_podman_shim);
    let docker_cli = docker_any.clone().filter(|_| !shim);
    let podman_cli = cx
        .ctx
        .which("podman")
        .or_else(|| docker_any.clone().filter(|_| shim));
    let shown = |p: &Option<PathBuf>| {
        p.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    let sel = |kind, why| Selection {
        kind,
        why,
        docker_cli: docker_cli.clone(),
        podman_cli: podman_cli.clone(),
    };
    match cx.args.engine {
        Engine::Docker => return sel(Kind::Docker, "--engine docker".into()),
        Engine::Podman => return sel(Kind::Podman, "--engine podman".into()),
        Engine::Auto => {}
    }
    if docker_cli.is_some() {
        let p = shown(&docker_cli);
        return sel(
            Kind::Docker,
            cx.t(
                format!("auto: the docker CLI was found at {p}"),
                format!("auto: docker CLI が {p} にあります"),
            ),
        );
    }
    if podman_cli.is_some() {
        let p = shown(&podman_cli);
        let why = if shim && cx.ctx.which("podman").is_none() {
            cx.t(
                format!("auto: the docker on PATH ({p}) is Podman's docker emulation"),
                format!("auto: PATH 上の docker ({p}) は Podman の docker エミュレーションです"),
            )
        } else if shim {
            cx.t(
                format!("auto: podman found at {p}; the docker on PATH ({}) only runs podman", shown(&docker_any)),
                format!("auto: podman が {p} にあります。PATH 上の docker ({}) は podman を呼び出すだけです", shown(&docker_any)),
            )
        } else {
            cx.t(
                format!("auto: no docker CLI on PATH; podman found at {p}"),
                format!("auto: PATH 上に docker CLI はなく、podman が {p} にあります"),
            )
        };
        return sel(Kind::Podman, why);
    }
    if let Some(sock) = docker_socket(cx) {
        let s = sock.display().to_string();
        return sel(
            Kind::Docker,
            cx.t(
                format!("auto: no docker or podman CLI on PATH, but a Docker daemon socket exists at {s}"),
                format!("auto: PATH 上に docker も podman もありませんが、Docker デーモンのソケットが {s} にあります"),
            ),
        );
    }
    let podman = podman_endpoint(cx.ctx.env_map());
    if let Address::Unix(p) = address(&podman.host) {
        if p.exists() {
            let s = p.display().to_string();
            return sel(
                Kind::Podman,
                cx.t(
                    format!("auto: no docker or podman CLI on PATH, but a Podman API socket exists at {s}"),
                    format!("auto: PATH 上に docker も podman もありませんが、Podman API のソケットが {s} にあります"),
                ),
            );
        }
    }
    sel(
        Kind::Docker,
        cx.t(
            "auto: neither docker nor podman was found (no CLI on PATH, no daemon socket); checked as Docker",
            "auto: docker も podman も見つかりません (PATH 上に CLI がなく、デーモンのソケットもありません)。Docker として調べました",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podman_docker_script_is_recognised() {
        let dir = std::env::temp_dir().join(format!("acr-doctor-shim-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let shim = dir.join("docker");
        std::fs::write(
            &shim,
            "#!/bin/sh\n[ -e /etc/containers/nodocker ] || echo emulate >&2\nexec /usr/bin/podman \"$@\"\n",
        )
        .expect("write");
        assert!(is_podman_shim(&shim));
        let real = dir.join("docker-real");
        std::fs::write(&real, "#!/bin/sh\necho 'Docker version 28.2.2'\n").expect("write");
        assert!(!is_podman_shim(&real));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
