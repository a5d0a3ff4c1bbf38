//! `registry.login_server`: where the registry is reached (`--login-server`, the host given as
//! `--name`, or the name with the cloud's suffix).

use futures::future::BoxFuture;

use crate::catalogue::Code;
use crate::checks::{Check, CheckCx, Fact, Group, LoginServer, Meta, Outcome};
use crate::finding::RawFinding;
use crate::protocol::registry_name;

/// `registry.login_server`: where the registry is reached.
pub struct LoginServerCheck;

impl Check for LoginServerCheck {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "registry.login_server",
            Group::Registry,
            "login server",
            "ログイン サーバー",
        )
        .needs(&[Fact::RegistryName])
        .provides(&[Fact::LoginServer]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let name = cx.facts().registry_name.clone();
            let parsed = registry_name::parse(cx.target);
            let cloud = cx.cloud();
            if let Some(flag) = &cx.args.login_server {
                let spec = match registry_name::parse_login_server(flag) {
                    Ok(s) => s,
                    Err(e) => {
                        let msg = cx.t(
                            format!("--login-server {flag:?} cannot be used: {e}"),
                            format!("--login-server {flag:?} は使用できません: {e}"),
                        );
                        let finding = RawFinding::new(Code::LOGIN_SERVER_ERROR, msg.clone())
                            .evidence("login_server_flag", flag.clone())
                            .step(cx.t(
                                "Give HOST[:PORT] or https://HOST[:PORT], e.g. myregistry.azurecr.io.",
                                "HOST[:PORT] または https://HOST[:PORT] (例: myregistry.azurecr.io) を指定してください。",
                            ));
                        return Outcome::fail(msg, finding);
                    }
                };
                let ls = LoginServer {
                    host: spec.host.clone(),
                    port: spec.port,
                    scheme: spec.scheme.clone(),
                    source: "flag".into(),
                };
                let mut notes = Vec::new();
                if ls.scheme == "http" {
                    notes.push(cx.t(
                        "plain HTTP (allowed for loopback only)",
                        "平文の HTTP (ループバックのみ許可)",
                    ));
                }
                if let Some(n) = &name {
                    let first = ls.host.split('.').next().unwrap_or("");
                    if first != n
                        && registry_name::ACR_SUFFIXES
                            .iter()
                            .any(|s| ls.host.ends_with(s))
                    {
                        notes.push(cx.t(
                            format!("its first label is not the registry name {n}"),
                            format!("先頭のラベルがレジストリ名 {n} と一致しません"),
                        ));
                    }
                }
                cx.facts().login_server = Some(ls.clone());
                let mut msg = cx.t(
                    format!("{} (from --login-server)", ls.base_url()),
                    format!("{} (--login-server より)", ls.base_url()),
                );
                if !notes.is_empty() {
                    msg = format!("{msg}; {}", notes.join("; "));
                }
                let outcome = if notes.is_empty() {
                    Outcome::pass(msg)
                } else {
                    Outcome::info(msg)
                };
                return outcome
                    .evidence("login_server", ls.authority())
                    .evidence("source", "flag");
            }
            let Some(name) = name else {
                return Outcome::skip(cx.t(
                    "no usable registry name and no --login-server",
                    "使用できるレジストリ名も --login-server もありません",
                ));
            };
            // The user typed a login server or URL: use its host (and suffix) as given.
            if let (Some(host), false) = (parsed.host.clone(), parsed.name().is_none()) {
                let ls = LoginServer {
                    host,
                    port: parsed.port,
                    scheme: "https".into(),
                    source: "name".into(),
                };
                let mut msg = cx.t(
                    format!("{} (as given in --name)", ls.base_url()),
                    format!("{} (--name の指定どおり)", ls.base_url()),
                );
                let expected = cloud.acr_suffix();
                if parsed.suffix.as_deref().is_some_and(|s| s != expected) {
                    msg = cx.t(
                        format!("{msg}; note: the {} cloud uses {expected}", cloud.name()),
                        format!(
                            "{msg}。注意: {} クラウドのサフィックスは {expected} です",
                            cloud.name()
                        ),
                    );
                }
                cx.facts().login_server = Some(ls.clone());
                return Outcome::pass(msg)
                    .evidence("login_server", ls.authority())
                    .evidence("source", "name");
            }
            let ls = LoginServer {
                host: cloud.login_server(&name),
                port: None,
                scheme: "https".into(),
                source: "suffix".into(),
            };
            cx.facts().login_server = Some(ls.clone());
            Outcome::pass(cx.t(
                format!(
                    "{} ({} suffix of {})",
                    ls.host,
                    cloud.acr_suffix(),
                    cloud.name()
                ),
                format!(
                    "{} ({} のサフィックス {})",
                    ls.host,
                    cloud.name(),
                    cloud.acr_suffix()
                ),
            ))
            .evidence("login_server", ls.authority())
            .evidence("source", "suffix")
            .evidence("cloud", cloud.name())
        })
    }
}
