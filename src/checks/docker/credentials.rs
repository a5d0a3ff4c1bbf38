//! `docker.credentials`: the credential the Docker config (or podman's auth files) stores for
//! the target registry, tried against the registry.

use futures::future::BoxFuture;
use serde_json::Value;

use super::engine::{self, Kind};
use super::{challenge, login_server_key};
use crate::catalogue::Code;
use crate::checks::{Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::finding::RawFinding;
use crate::protocol::docker_config::{podman_auth_files, StoredCredential, StoredKind, EMPTY_GUID};
use crate::report::TimelineEntry;
use crate::request::AuthSource;

/// A stored identity token expiring within this many seconds is "expiring" on the timeline.
const EXPIRING_S: i64 = 15 * 60;

pub struct Credentials;

impl Check for Credentials {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "docker.credentials",
            Group::Environment,
            "stored docker credentials",
            "保存された docker 資格情報",
        )
        .needs(&[Fact::DockerConfig])
        .uses(&[Fact::LoginServer, Fact::Challenge])
        // A stored credential is tried only on the validated login server: `--only` runs the
        // check that validates it.
        .consults(&[Fact::LoginServer]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let sel = engine::current(cx);
            run_credentials(cx, sel.kind)
                .await
                .evidence("engine", sel.kind.command())
        })
    }
}

/// The command that removes the stored credential: `docker logout`, or `podman logout` (with
/// `--authfile` when the credential is in a file other than the one podman edits by default).
fn logout(cx: &CheckCx<'_>, kind: Kind, server: &str, path: &str) -> String {
    match kind {
        Kind::Docker => format!("docker logout {server}"),
        Kind::Podman => {
            let primary = podman_auth_files(cx.ctx.env_map())
                .into_iter()
                .find(|f| f.primary)
                .is_some_and(|f| f.path.display().to_string() == path);
            if primary || path.is_empty() {
                format!("podman logout {server}")
            } else {
                format!("podman logout --authfile {path} {server}")
            }
        }
    }
}

async fn run_credentials(cx: &CheckCx<'_>, kind: Kind) -> Outcome {
    let server = login_server_key(cx);
    let cmd = kind.command();
    let path = cx.facts().docker_config_path.clone().unwrap_or_default();
    let logout_cmd = logout(cx, kind, &server, &path);
    let anonymous = cx.args.auth == AuthSource::Anonymous;
    let stored = cx.facts().docker_stored_credential.clone();
    let Some(stored) = stored else {
        return Outcome::info(cx.t(
            format!("no credential stored for {server} in {path}"),
            format!("{path} に {server} の資格情報は保存されていません"),
        ));
    };
    let via = stored.via.describe(&stored.host);
    let now = cx.ctx.clock.unix();

    // An identity token (what `az acr login` stores) carries its own expiry.
    let mut expiry_evidence = None;
    if stored.kind == StoredKind::IdentityToken {
        if let Some(claims) = crate::redact::jwt_claims(stored.secret.expose()) {
            let exp = claims.get("exp").and_then(Value::as_i64);
            let iat = claims.get("iat").and_then(Value::as_i64);
            let fmt = |t: Option<i64>| {
                t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
                    .and_then(|d| {
                        d.format(&time::format_description::well_known::Rfc3339)
                            .ok()
                    })
            };
            let remaining = exp.map(|e| e - now);
            let state = match remaining {
                None => "unknown",
                Some(r) if r <= 0 => "expired",
                Some(r) if r <= EXPIRING_S => "expiring",
                Some(_) => "ok",
            };
            cx.record_credential(TimelineEntry {
                kind: "docker_identity_token".into(),
                source: format!("docker config {path} ({via})"),
                issued_at: fmt(iat),
                expires_at: fmt(exp),
                remaining_s: remaining,
                state: state.into(),
            });
            expiry_evidence = fmt(exp);
            if let Some(r) = remaining.filter(|r| *r <= 0) {
                let when = fmt(exp).unwrap_or_default();
                let detail = cx.t(
                    format!("the ACR refresh token stored for {server} in {path} ({via}) expired at {when} ({} min ago)", (-r) / 60),
                    format!("{path} ({via}) に保存された {server} の ACR リフレッシュ トークンは {when} に期限切れになりました ({} 分前)", (-r) / 60),
                );
                let name = server.split('.').next().unwrap_or(&server);
                let finding = RawFinding::new(Code::DOCKER_STORED_TOKEN_EXPIRED, detail.clone())
                    .evidence("path", path.clone())
                    .evidence("store", via.clone())
                    .evidence("expires_at", when);
                let finding = match kind {
                    Kind::Docker => finding.command(format!("az acr login --name {name}")),
                    // `az acr login` logs in through the docker CLI; with Podman the token is
                    // handed to `podman login` instead.
                    Kind::Podman => finding.command(logout_cmd.clone()).command(format!(
                        "az acr login --name {name} --expose-token --output tsv --query accessToken | podman login {server} --username {EMPTY_GUID} --password-stdin"
                    )),
                };
                return Outcome::fail(detail, finding);
            }
        }
    }

    let (ch, ls) = match challenge(cx).await {
        Ok(c) => c,
        Err(why) => {
            return Outcome::skip(cx.t(
                format!(
                    "a credential is stored for {server} ({via}) but it cannot be tried: {why}"
                ),
                format!("{server} の資格情報 ({via}) は保存されていますが、試せません: {why}"),
            ))
        }
    };
    let scope = cx
        .args
        .repository
        .as_ref()
        .map(|r| format!("repository:{r}:pull"));

    // With --auth anonymous the question is whether the stored credential gets in the way.
    if anonymous {
        let mut q = vec![("service", ch.service.clone())];
        if let Some(s) = &scope {
            q.push(("scope", s.clone()));
        }
        let anon = cx.ctx.send(cx.ctx.http().get(&ch.realm).query(&q)).await;
        let allowed = matches!(&anon, Ok(r) if r.status == 200 && r.json().is_some_and(|j| j.get("access_token").or_else(|| j.get("token")).is_some()));
        if let Ok(r) = &anon {
            if let Some(j) = r.json() {
                for k in ["access_token", "token"] {
                    if let Some(t) = j.get(k).and_then(Value::as_str) {
                        cx.ctx.redactor.register(t);
                    }
                }
            }
        }
        if allowed {
            let detail = cx.t(
                format!("{server} allows anonymous pull, but {path} stores a credential for it ({via}, user {}): {cmd} sends it instead of pulling anonymously", stored.username),
                format!("{server} は匿名 pull を許可していますが、{path} に資格情報が保存されています ({via}、ユーザー {})。{cmd} は匿名ではなくその資格情報を送ります", stored.username),
            );
            return Outcome::fail(
                detail.clone(),
                RawFinding::new(Code::DOCKER_STALE_CREDENTIALS, detail)
                    .evidence("path", path.clone())
                    .evidence("store", via.clone())
                    .command(logout_cmd.clone()),
            );
        }
    }

    let (request, how) = match stored.kind {
        StoredKind::IdentityToken => {
            let mut form = vec![
                ("grant_type", "refresh_token".to_string()),
                ("service", ch.service.clone()),
                ("refresh_token", stored.secret.expose().to_string()),
            ];
            if let Some(s) = &scope {
                form.push(("scope", s.clone()));
            }
            (
                cx.ctx.http().post(&ch.realm).form(&form),
                format!("POST {} (grant_type=refresh_token)", ch.realm),
            )
        }
        StoredKind::Password => {
            let mut q = vec![("service", ch.service.clone())];
            if let Some(s) = &scope {
                q.push(("scope", s.clone()));
            }
            (
                cx.ctx
                    .http()
                    .get(&ch.realm)
                    .query(&q)
                    .basic_auth(&stored.username, Some(stored.secret.expose())),
                format!("GET {} (Basic, user {})", ch.realm, stored.username),
            )
        }
    };
    let resp = match cx
        .ctx
        .send_credential(crate::trust::Carry::Registry(&ls), request)
        .await
    {
        Ok(r) => r,
        Err(e) => {
            return Outcome::skip(cx.t(
                format!("the stored credential for {server} could not be tried: {how}: {e}"),
                format!("{server} の保存済み資格情報を試せませんでした: {how}: {e}"),
            ))
        }
    };
    if let Some(j) = resp.json() {
        for k in ["access_token", "token", "refresh_token"] {
            if let Some(t) = j.get(k).and_then(Value::as_str) {
                cx.ctx.redactor.register(t);
            }
        }
    }
    let registry_says = resp
        .registry_errors()
        .into_iter()
        .map(|(c, m)| format!("{c}: {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    match resp.status {
        200 => {
            let mut o = Outcome::pass(cx.t(
                format!(
                    "the credential stored for {server} ({via}, user {}) is accepted by {}",
                    stored.username, ch.realm
                ),
                format!(
                    "{server} の保存済み資格情報 ({via}、ユーザー {}) は {} に受け入れられました",
                    stored.username, ch.realm
                ),
            ))
            .evidence("request", how);
            if let Some(e) = expiry_evidence {
                o = o.evidence("expires_at", e);
            }
            o
        }
        401 | 403 => {
            let detail = cx.t(
                format!("the credential stored for {server} in {path} ({via}, user {}) is rejected: {how} answered {}{}", stored.username, resp.status, if registry_says.is_empty() { String::new() } else { format!(" ({registry_says})") }),
                format!("{path} に保存された {server} の資格情報 ({via}、ユーザー {}) は拒否されました: {how} の応答は {}{}", stored.username, resp.status, if registry_says.is_empty() { String::new() } else { format!(" ({registry_says})") }),
            );
            Outcome::fail(
                detail.clone(),
                stale(&logout_cmd, &path, &via, &stored, detail),
            )
            .evidence("request", how)
        }
        other => Outcome::skip(cx.t(
            format!(
                "the stored credential for {server} could not be judged: {how} answered {other}"
            ),
            format!("{server} の保存済み資格情報を判定できませんでした: {how} の応答は {other}"),
        )),
    }
}

fn stale(
    logout_cmd: &str,
    path: &str,
    via: &str,
    stored: &StoredCredential,
    detail: String,
) -> RawFinding {
    RawFinding::new(Code::DOCKER_STALE_CREDENTIALS, detail)
        .evidence("path", path.to_string())
        .evidence("store", via.to_string())
        .evidence("username", stored.username.clone())
        .command(logout_cmd.to_string())
}
