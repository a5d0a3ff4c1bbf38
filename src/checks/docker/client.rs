//! `docker.client`: the docker (or podman) client program: found on PATH, its version read.

use futures::future::BoxFuture;

use super::engine::{self, Kind, Selection};
use super::{parse_version, process_bound};
use crate::catalogue::Code;
use crate::checks::{Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::finding::RawFinding;

/// The oldest docker client acr-doctor (and `az acr login`) supports.
const DOCKER_MINIMUM: (u64, u64, u64) = (18, 3, 0);

pub struct Client;

impl Check for Client {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "docker.client",
            Group::Environment,
            "docker client",
            "docker クライアント",
        )
        .provides(&[Fact::DockerClient]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let sel = engine::current(cx);
            let outcome = match sel.kind {
                Kind::Docker => docker_client(cx, &sel).await,
                Kind::Podman => podman_client(cx, &sel).await,
            };
            let label = cx.t(
                format!("engine {} ({})", sel.kind.command(), sel.why),
                format!("エンジン {} ({})", sel.kind.command(), sel.why),
            );
            let mut outcome = outcome
                .evidence("engine", sel.kind.command())
                .evidence("engine_reason", sel.why.clone());
            outcome.message = format!("{}; {label}", outcome.message);
            outcome
        })
    }
}

/// The podman client: found on PATH, its version read. Podman has no minimum version here.
async fn podman_client(cx: &CheckCx<'_>, sel: &Selection) -> Outcome {
    let Some(path) = sel.podman_cli.clone() else {
        let msg = cx.t(
            "podman not found on PATH",
            "PATH 上に podman が見つかりません",
        );
        return Outcome::fail(
            msg.clone(),
            RawFinding::new(Code::DOCKER_COMMAND_ERROR, msg)
                .evidence("PATH", cx.ctx.env("PATH").unwrap_or(""))
                .step(cx.t(
                    "Install Podman (for example `sudo apt-get install podman`), or choose the engine you use with --engine",
                    "Podman をインストールするか (例: `sudo apt-get install podman`)、--engine で使用しているエンジンを指定してください",
                )),
        );
    };
    let shown = path.display().to_string();
    let bound = process_bound(cx);
    match cx.ctx.run(&path, &["--version"], None, bound).await {
        Ok(out) => {
            let text = out.stdout.lines().next().unwrap_or("").trim().to_string();
            if let Some((major, minor, patch)) = parse_version(&text).filter(|_| out.success()) {
                let v = format!("{major}.{minor}.{patch}");
                return Outcome::pass(format!("{shown} {v}"))
                    .evidence("path", shown)
                    .evidence("version", text);
            }
            let detail = cx.t(
                format!("{shown} was found but its version could not be read"),
                format!("{shown} は見つかりましたが、バージョンを読み取れませんでした"),
            );
            Outcome::fail(
                detail.clone(),
                RawFinding::new(Code::DOCKER_COMMAND_ERROR, detail)
                    .evidence("path", shown)
                    .evidence(
                        "attempts",
                        format!(
                            "podman --version: exit {:?}: {} {}",
                            out.code,
                            text,
                            out.stderr.lines().next().unwrap_or("").trim()
                        ),
                    ),
            )
        }
        Err(e) => {
            let detail = cx.t(
                format!("{shown} could not be run: {e}"),
                format!("{shown} を実行できませんでした: {e}"),
            );
            Outcome::fail(
                detail.clone(),
                RawFinding::new(Code::DOCKER_COMMAND_ERROR, detail).evidence("path", shown),
            )
        }
    }
}

async fn docker_client(cx: &CheckCx<'_>, sel: &Selection) -> Outcome {
    let Some(path) = sel.docker_cli.clone() else {
        let (msg, step) = match (&sel.podman_cli, cx.args.engine) {
                    (Some(p), crate::request::Engine::Docker) => (
                        cx.t(
                            format!("docker not found on PATH (--engine docker); only Podman is installed ({})", p.display()),
                            format!("PATH 上に docker が見つかりません (--engine docker)。インストールされているのは Podman ({}) だけです", p.display()),
                        ),
                        cx.t(
                            "Install Docker, or check Podman with --engine podman",
                            "Docker をインストールするか、--engine podman で Podman を調べてください",
                        ),
                    ),
                    (Some(_), _) => (
                        cx.t("docker not found on PATH", "PATH 上に docker が見つかりません"),
                        cx.t("Install Docker (18.03 or newer)", "Docker (18.03 以降) をインストールしてください"),
                    ),
                    (None, _) => (
                        cx.t(
                            "neither docker nor podman found on PATH",
                            "PATH 上に docker も podman も見つかりません",
                        ),
                        cx.t(
                            "Install Docker (18.03 or newer) or Podman, and make sure its command is on PATH",
                            "Docker (18.03 以降) または Podman をインストールし、そのコマンドが PATH 上にあることを確認してください",
                        ),
                    ),
                };
        return Outcome::fail(
            msg.clone(),
            RawFinding::new(Code::DOCKER_COMMAND_ERROR, msg)
                .evidence("PATH", cx.ctx.env("PATH").unwrap_or(""))
                .step(step),
        );
    };
    let shown = path.display().to_string();
    let bound = process_bound(cx);
    // `docker --version` never contacts the daemon; the formatted `docker version` is
    // the fallback for clients that print something unexpected.
    let mut seen = Vec::new();
    let mut version = None;
    for args in [
        &["--version"][..],
        &["version", "--format", "{{.Client.Version}}"][..],
    ] {
        match cx.ctx.run(&path, args, None, bound).await {
            Ok(out) => {
                let text = out.stdout.lines().next().unwrap_or("").trim().to_string();
                if let Some(v) = parse_version(&text) {
                    version = Some((v, text));
                    break;
                }
                seen.push(format!(
                    "docker {}: exit {:?}: {} {}",
                    args.join(" "),
                    out.code,
                    text,
                    out.stderr.lines().next().unwrap_or("").trim()
                ));
            }
            Err(e) => seen.push(format!("docker {}: {e}", args.join(" "))),
        }
    }
    let Some(((major, minor, patch), text)) = version else {
        let detail = cx.t(
            format!("{shown} was found but its version could not be read"),
            format!("{shown} は見つかりましたが、バージョンを読み取れませんでした"),
        );
        // Could not run at all: the client is unusable.
        return Outcome::fail(
            detail.clone(),
            RawFinding::new(Code::DOCKER_COMMAND_ERROR, detail)
                .evidence("path", shown)
                .evidence("attempts", seen.join("\n")),
        );
    };
    let v = format!("{major}.{minor}.{patch}");
    cx.facts().docker_client_version = Some(v.clone());
    if (major, minor, patch) < DOCKER_MINIMUM {
        let detail = cx.t(
            format!("{shown} is version {v}; 18.03 or newer is needed"),
            format!("{shown} のバージョンは {v} です。18.03 以降が必要です"),
        );
        return Outcome::fail(
            detail.clone(),
            RawFinding::new(Code::DOCKER_VERSION_ERROR, detail)
                .evidence("path", shown)
                .evidence("version", text),
        );
    }
    Outcome::pass(format!("{shown} {v}"))
        .evidence("path", shown)
        .evidence("version", text)
}
