//! `--docker-login`: the daemon itself authenticates to the registry (Engine API `POST /auth`),
//! so a daemon whose proxy, DNS or trust differ from acr-doctor's own view is caught. The
//! daemon's answer is never written anywhere; the Docker config is not touched.

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::challenge;
use super::engine::{self, Kind};
use crate::catalogue::Code;
use crate::checks::{Check, CheckCx, Credential, DockerEngine, Fact, Group, Meta, Outcome};
use crate::docker::engine_api;
use crate::finding::RawFinding;
use crate::lang::Lang;
use crate::protocol::docker_config::EMPTY_GUID;
use crate::redact::Secret;
use crate::request::CheckArgs;

pub struct Login;

impl Check for Login {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "docker.login",
            Group::Environment,
            "daemon-side login",
            "デーモン経由のログイン",
        )
        .needs(&[Fact::DockerDaemon])
        .uses(&[
            Fact::LoginServer,
            Fact::Challenge,
            Fact::Credential,
            Fact::RefreshToken,
        ])
        // The credential goes only to the validated login server: `--only` runs its check.
        .consults(&[Fact::LoginServer]);
        &META
    }
    fn not_requested(&self, args: &CheckArgs, lang: Lang) -> Option<String> {
        (!args.docker_login).then(|| {
            lang.pick(
                "not requested (--docker-login)",
                "要求されていません (--docker-login)",
            )
            .to_string()
        })
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(run(cx))
    }
}

/// The username/password pair to hand the daemon, or why there is none.
fn daemon_credential(cx: &CheckCx<'_>) -> Result<(String, Secret, String), String> {
    let facts = cx.facts();
    match facts.credential.clone() {
        Some(Credential::Basic {
            username,
            password,
            source,
            ..
        }) => Ok((username, password, source)),
        Some(Credential::Entra { source, .. }) => match facts.refresh_token.clone() {
            Some(rt) => Ok((
                EMPTY_GUID.to_string(),
                rt,
                format!("{source} (ACR refresh token)"),
            )),
            None => Err(cx.t(
                "the Entra credential has no ACR refresh token to log in with (identity.refresh_token did not provide one)",
                "Entra の資格情報にはログインに使う ACR リフレッシュ トークンがありません (identity.refresh_token が取得できませんでした)",
            )),
        },
        Some(Credential::Anonymous { .. }) => Err(cx.t(
            "the run is anonymous: there is nothing to log in with",
            "匿名での実行のため、ログインに使う資格情報がありません",
        )),
        None => match (&cx.args.username, &cx.args.password) {
            (Some(u), Some(p)) => Ok((u.clone(), p.clone(), "--username/--password".into())),
            _ => Err(cx.t(
                "no credential was resolved for this run",
                "この実行では資格情報が解決されませんでした",
            )),
        },
    }
}

async fn run(cx: &CheckCx<'_>) -> Outcome {
    let sel = engine::current(cx);
    run_login(cx, sel.kind)
        .await
        .evidence("engine", sel.kind.command())
}

async fn run_login(cx: &CheckCx<'_>, kind: Kind) -> Outcome {
    let Some(engine) = cx.facts().docker_engine.clone() else {
        return Outcome::skip(cx.t(
            "the daemon was not probed (see docker.daemon)",
            "デーモンを調べていません (docker.daemon を参照)",
        ));
    };
    let (username, password, source) = match daemon_credential(cx) {
        Ok(c) => c,
        Err(why) => return Outcome::skip(why),
    };
    cx.ctx.redactor.register_secret(&password);
    // acr-doctor's own view first: without it, a daemon failure says nothing about the daemon.
    let (own, ls) = match challenge(cx).await {
        Ok(c) => c,
        Err(why) => {
            return Outcome::skip(cx.t(
                format!("acr-doctor itself cannot reach the registry's challenge, so the daemon's view cannot be compared: {why}"),
                format!("acr-doctor 自身がレジストリのチャレンジに到達できないため、デーモンの結果と比較できません: {why}"),
            ))
        }
    };
    let login = DaemonLogin {
        lang: cx.lang,
        kind,
        endpoint: engine.endpoint.clone(),
        server: ls.authority(),
        username,
        source,
        realm: own.realm,
    };
    let entra_allowed = cx.ctx.gate.entra_allowed(&ls);
    if let Some(refused) = login.not_handed_over(entra_allowed) {
        return refused;
    }
    let daemon_message = match post_auth(cx, &engine, &login, &password).await {
        Ok(r) if r.status == 200 => {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&r.body) {
                if let Some(t) = v.get("IdentityToken").and_then(|t| t.as_str()) {
                    cx.ctx.redactor.register(t);
                }
            }
            return login.logged_in();
        }
        Ok(r) => format!("{} {}", r.status, r.message()),
        Err(e) => e,
    };
    let proxies = json!({
        "http_proxy": engine.http_proxy,
        "https_proxy": engine.https_proxy,
        "no_proxy": engine.no_proxy,
    });
    login.failed(&daemon_message, proxies)
}

/// Asks the engine to log in (`POST /auth`) with the credential; the daemon's answer.
async fn post_auth(
    cx: &CheckCx<'_>,
    engine: &DockerEngine,
    login: &DaemonLogin,
    password: &Secret,
) -> Result<engine_api::EngineResponse, String> {
    let body = json!({
        "username": login.username,
        "password": password.expose(),
        "serveraddress": login.server,
    });
    let body = serde_json::to_vec(&body).unwrap_or_default();
    // The daemon may try HTTPS, then HTTP, each with its own timeouts: allow it more time.
    let bound = cx.ctx.timeout * 3;
    engine_api::post_json(
        &engine.endpoint,
        engine.api_version.as_deref(),
        "/auth",
        &body,
        bound,
    )
    .await
}

/// A daemon-side login: who logs in where through which engine, as the outcomes word it.
struct DaemonLogin {
    lang: Lang,
    kind: Kind,
    /// The engine endpoint the credential is handed to.
    endpoint: String,
    /// The validated login server, as `host[:port]`.
    server: String,
    username: String,
    /// Where the credential comes from.
    source: String,
    /// The realm of acr-doctor's own challenge.
    realm: String,
}

impl DaemonLogin {
    /// The engine's name in English and Japanese.
    fn daemon(&self) -> (&'static str, &'static str) {
        match self.kind {
            Kind::Docker => ("the daemon", "デーモン"),
            Kind::Podman => ("the Podman service", "Podman サービス"),
        }
    }

    /// Why the credential is not handed to the engine, as a skip: the credential goes to the
    /// daemon, which sends it on, so only over a local channel (a Unix socket, a named pipe, or
    /// TCP to loopback; acr-doctor speaks plain HTTP to the engine), and only for the validated
    /// login server, under the same rule as acr-doctor's own requests (`entra_allowed`).
    fn not_handed_over(&self, entra_allowed: bool) -> Option<Outcome> {
        let (daemon_en, daemon_ja) = self.daemon();
        let DaemonLogin {
            lang,
            endpoint,
            server,
            ..
        } = self;
        if let Some(why) = daemon_channel_problem(endpoint) {
            return Some(
                Outcome::skip(lang.t(
                    format!("the credential is not handed to {daemon_en} at {endpoint}: {why}"),
                    format!("{endpoint} の{daemon_ja}には資格情報を渡しません: {why}"),
                ))
                .evidence("endpoint", endpoint.clone()),
            );
        }
        let entra_derived = self.source.ends_with("(ACR refresh token)");
        if entra_derived && !entra_allowed {
            return Some(Outcome::skip(lang.t(
                format!("{server} is not under the cloud's registry suffix: the ACR refresh token is not handed to the daemon (give --trust-login-server to allow it)"),
                format!("{server} はクラウドのレジストリ サフィックスの外にあるため、ACR リフレッシュ トークンをデーモンに渡しません (許可するには --trust-login-server を指定します)"),
            )));
        }
        None
    }

    fn logged_in(&self) -> Outcome {
        let (daemon_en, daemon_ja) = self.daemon();
        let DaemonLogin {
            lang,
            endpoint,
            server,
            username,
            source,
            ..
        } = self;
        Outcome::pass(lang.t(
            format!("{daemon_en} at {endpoint} logged in to {server} as {username} ({source})"),
            format!("{endpoint} の{daemon_ja}は {server} に {username} としてログインできました ({source})"),
        ))
        .evidence("endpoint", endpoint.clone())
        .evidence("login_server", server.clone())
    }

    /// The daemon could not log in (`daemon_message`): information when the registry rejected
    /// the credential (the daemon got as far as acr-doctor did, and the identity checks explain
    /// the rejection), else DOCKER_PULL_ERROR, with both views and the daemon's proxies.
    fn failed(&self, daemon_message: &str, proxies: Value) -> Outcome {
        let (daemon_en, daemon_ja) = self.daemon();
        let DaemonLogin {
            lang,
            endpoint,
            server,
            realm,
            ..
        } = self;
        let lower = daemon_message.to_ascii_lowercase();
        if lower.contains("401 unauthorized") || lower.contains("status: 401") {
            return Outcome::info(lang.t(
                format!("{daemon_en} at {endpoint} reached {server}, which rejected the credential: {daemon_message}"),
                format!("{endpoint} の{daemon_ja}は {server} に到達しましたが、資格情報が拒否されました: {daemon_message}"),
            ))
            .evidence("daemon_answer", daemon_message);
        }
        let own_view = lang.t(
            format!("acr-doctor: {server}/v2/ answered 401 with a token challenge (realm {realm})"),
            format!("acr-doctor: {server}/v2/ は 401 とトークンのチャレンジを返しました (realm {realm})"),
        );
        let daemon_view = lang.t(
            format!("daemon ({endpoint}): login failed: {daemon_message}"),
            format!("デーモン ({endpoint}): ログイン失敗: {daemon_message}"),
        );
        let detail = lang.t(
            format!("acr-doctor reaches {server}, but {daemon_en} cannot log in to it: its network path (proxy, DNS or trusted certificates) differs. {own_view}; {daemon_view}"),
            format!("acr-doctor は {server} に到達できますが、{daemon_ja}はログインできません。そのネットワーク経路 (プロキシ、DNS、信頼する証明書) が異なります。{own_view}。{daemon_view}"),
        );
        let finding = RawFinding::new(Code::DOCKER_PULL_ERROR, detail)
            .evidence("acr_doctor_view", own_view)
            .evidence("daemon_view", daemon_view.clone())
            .evidence("daemon_proxies", proxies)
            .evidence("endpoint", endpoint.clone());
        Outcome::fail(daemon_view, self.where_to_compare(finding))
    }

    /// The commands (and, for Podman, the files) that show the engine's network settings.
    fn where_to_compare(&self, finding: RawFinding) -> RawFinding {
        let server = &self.server;
        match self.kind {
            Kind::Docker => finding.command(
                "docker info --format '{{.HTTPSProxy}} {{.NoProxy}} {{json .RegistryConfig}}'",
            ),
            // The Podman service takes its proxy from its own environment and its trust from
            // /etc/containers/certs.d and registries.conf.
            Kind::Podman => finding
                .command("systemctl --user show podman.service --property Environment")
                .command("podman info --format '{{json .Registries}}'")
                .step(self.lang.t(
                    format!("Compare the Podman service's HTTPS_PROXY / NO_PROXY and the certificates under /etc/containers/certs.d/{server}/ (or ~/.config/containers/certs.d) with acr-doctor's view"),
                    format!("Podman サービスの HTTPS_PROXY / NO_PROXY と /etc/containers/certs.d/{server}/ (または ~/.config/containers/certs.d) の証明書を acr-doctor の結果と比べてください"),
                )),
        }
    }
}

/// Why the engine endpoint may not receive a credential, or `None` when it is local.
fn daemon_channel_problem(endpoint: &str) -> Option<String> {
    use crate::protocol::docker_context::{address, Address};
    match address(endpoint) {
        Address::Unix(_) | Address::Npipe(_) => None,
        Address::Tcp(authority) => {
            let host = authority
                .rsplit_once(':')
                .map(|(h, _)| h)
                .unwrap_or(&authority);
            if crate::trust::is_loopback_host(host) {
                None
            } else {
                Some(format!(
                    "{endpoint} is a remote engine reached over plain TCP, so the credential would travel in clear"
                ))
            }
        }
        Address::Ssh(_) | Address::Other(_) => Some(format!(
            "{endpoint} is not a local socket acr-doctor can hand a credential to"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CheckStatus;

    fn login(kind: Kind, endpoint: &str, source: &str) -> DaemonLogin {
        DaemonLogin {
            lang: Lang::En,
            kind,
            endpoint: endpoint.into(),
            server: "contosoreg.azurecr.io".into(),
            username: EMPTY_GUID.into(),
            source: source.into(),
            realm: "https://contosoreg.azurecr.io/oauth2/token".into(),
        }
    }

    const SOCKET: &str = "unix:///var/run/docker.sock";
    const ENTRA: &str = "az cli (ACR refresh token)";

    #[test]
    fn the_credential_is_handed_over_only_locally_and_within_the_trust_rule() {
        let o = login(Kind::Docker, "tcp://10.0.0.4:2375", "--username/--password")
            .not_handed_over(true)
            .expect("remote engine");
        assert_eq!(o.status, CheckStatus::Skip);
        assert_eq!(o.evidence["endpoint"], "tcp://10.0.0.4:2375");
        let o = login(Kind::Docker, SOCKET, ENTRA)
            .not_handed_over(false)
            .expect("untrusted login server");
        assert_eq!(o.status, CheckStatus::Skip);
        assert!(o.evidence.is_empty());
        assert!(login(Kind::Docker, SOCKET, ENTRA)
            .not_handed_over(true)
            .is_none());
        // A basic credential is not held back by the Entra rule.
        let basic = login(Kind::Docker, SOCKET, "--username/--password");
        assert!(basic.not_handed_over(false).is_none());
    }

    #[test]
    fn a_registry_rejection_is_information_and_anything_else_a_pull_error() {
        let l = login(Kind::Docker, SOCKET, ENTRA);
        let o = l.failed("Error response from daemon: 401 Unauthorized", Value::Null);
        assert_eq!(o.status, CheckStatus::Info);
        assert!(o.findings.is_empty());
        assert_eq!(
            o.evidence["daemon_answer"],
            "Error response from daemon: 401 Unauthorized"
        );

        let proxies = json!({"https_proxy": "http://proxy:3128"});
        let o = l.failed("500 dial tcp: i/o timeout", proxies.clone());
        assert_eq!(o.status, CheckStatus::Fail);
        let f = &o.findings[0];
        assert_eq!(f.code, Code::DOCKER_PULL_ERROR);
        assert_eq!(f.evidence["daemon_proxies"], proxies);
        assert_eq!(f.evidence["endpoint"], SOCKET);
        assert!(f.evidence.contains_key("acr_doctor_view"));
        assert_eq!(f.commands.len(), 1);
        assert!(f.solution.is_empty());

        let podman = login(Kind::Podman, SOCKET, ENTRA);
        let f = &podman.failed("500 x509", Value::Null).findings[0];
        assert_eq!(f.code, Code::DOCKER_PULL_ERROR);
        assert_eq!(f.commands.len(), 2);
        assert_eq!(f.solution.len(), 1);
    }

    #[test]
    fn credentials_go_only_to_local_engines() {
        assert_eq!(daemon_channel_problem("unix:///var/run/docker.sock"), None);
        assert_eq!(
            daemon_channel_problem("npipe:////./pipe/docker_engine"),
            None
        );
        assert_eq!(daemon_channel_problem("tcp://127.0.0.1:2375"), None);
        assert_eq!(daemon_channel_problem("tcp://[::1]:2375"), None);
        assert!(daemon_channel_problem("tcp://10.0.0.4:2375").is_some());
        assert!(daemon_channel_problem("tcp://docker.example:2376").is_some());
        assert!(daemon_channel_problem("ssh://me@host").is_some());
    }
}
