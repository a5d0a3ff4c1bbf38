//! `helm.client`: the helm client program: found on PATH, its version read.

use futures::future::BoxFuture;

use crate::catalogue::Code;
use crate::checks::docker::{parse_version, process_bound};
use crate::checks::{Check, CheckCx, Group, Meta, Outcome};
use crate::finding::{RawFinding, Severity};

/// The Azure CLI's minimum helm client.
const HELM_MINIMUM: (u64, u64, u64) = (2, 11, 0);

pub struct Helm;

impl Check for Helm {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "helm.client",
            Group::Environment,
            "helm client",
            "helm クライアント",
        );
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(path) = cx.ctx.which("helm") else {
                // Not needed for a registry login: not a finding.
                return Outcome::info(cx.t(
                    "helm not found on PATH (only needed for Helm charts)",
                    "PATH 上に helm はありません (Helm チャートを扱う場合のみ必要です)",
                ));
            };
            let shown = path.display().to_string();
            let bound = process_bound(cx);
            let mut seen = Vec::new();
            let mut ran = false;
            for args in [
                &["version", "--template", "{{.Version}}"][..],
                &["version", "--short"][..],
            ] {
                match cx.ctx.run(&path, args, None, bound).await {
                    Ok(out) => {
                        ran = true;
                        let text = out.stdout.lines().next().unwrap_or("").trim().to_string();
                        if out.success() {
                            if let Some(v) = parse_version(&text) {
                                let shown_v = format!("{}.{}.{}", v.0, v.1, v.2);
                                if v < HELM_MINIMUM {
                                    let detail = cx.t(
                                        format!("{shown} is version {shown_v}; 2.11.0 or newer is needed"),
                                        format!("{shown} のバージョンは {shown_v} です。2.11.0 以降が必要です"),
                                    );
                                    return Outcome::warn(
                                        detail.clone(),
                                        RawFinding::new(Code::HELM_VERSION_ERROR, detail)
                                            .severity(Severity::Warning)
                                            .evidence("path", shown)
                                            .evidence("version", text),
                                    );
                                }
                                return Outcome::pass(format!("{shown} {shown_v}"))
                                    .evidence("path", shown)
                                    .evidence("version", text);
                            }
                        }
                        seen.push(format!(
                            "helm {}: exit {:?}: {} {}",
                            args.join(" "),
                            out.code,
                            text,
                            out.stderr.lines().next().unwrap_or("").trim()
                        ));
                    }
                    Err(e) => seen.push(format!("helm {}: {e}", args.join(" "))),
                }
            }
            let (code, detail) = if ran {
                (
                    Code::HELM_VERSION_ERROR,
                    cx.t(
                        format!("{shown} ran but its version could not be read"),
                        format!("{shown} は実行できましたが、バージョンを読み取れませんでした"),
                    ),
                )
            } else {
                (
                    Code::HELM_COMMAND_ERROR,
                    cx.t(
                        format!("{shown} could not be run"),
                        format!("{shown} を実行できませんでした"),
                    ),
                )
            };
            Outcome::warn(
                detail.clone(),
                RawFinding::new(code, detail)
                    .severity(Severity::Warning)
                    .evidence("path", shown)
                    .evidence("attempts", seen.join("\n")),
            )
        })
    }
}
