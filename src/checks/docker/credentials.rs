//! `docker.credentials`: the credential the Docker config (or podman's auth files) stores for
//! the target registry, tried against the registry.

use futures::future::BoxFuture;
use serde_json::Value;

use super::engine::{self, Kind};
use super::{challenge, login_server_key};
use crate::catalogue::Code;
use crate::checks::{Challenge, Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::finding::RawFinding;
use crate::http::HttpResponse;
use crate::lang::Lang;
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
    let subject = Subject {
        lang: cx.lang,
        kind,
        via: stored.via.describe(&stored.host),
        server,
        path,
        logout_cmd,
        stored,
    };

    // An identity token (what `az acr login` stores) carries its own expiry.
    let expiry = token_expiry(&subject.stored, cx.ctx.clock.unix());
    if let Some(expiry) = &expiry {
        cx.record_credential(subject.timeline_entry(expiry));
        if let Some(expired) = subject.expired(expiry) {
            return expired;
        }
    }

    let (ch, ls) = match challenge(cx).await {
        Ok(c) => c,
        Err(why) => return subject.untried(&why),
    };
    let scope = cx
        .args
        .repository
        .as_ref()
        .map(|r| format!("repository:{r}:pull"));

    // With --auth anonymous the question is whether the stored credential gets in the way.
    if anonymous && anonymous_pull_allowed(cx, &ch, scope.as_deref()).await {
        return subject.in_the_way_of_anonymous();
    }

    let (request, how) = stored_request(cx, &subject.stored, &ch, scope.as_deref());
    let resp = match cx
        .ctx
        .send_credential(crate::trust::Carry::Registry(&ls), request)
        .await
    {
        Ok(r) => r,
        Err(e) => return subject.untried_request(&how, &e.to_string()),
    };
    register_tokens(cx, &resp, &["access_token", "token", "refresh_token"]);
    let expires_at = expiry.and_then(|e| e.expires_at);
    subject.judge(&ch.realm, &how, &resp, expires_at)
}

/// The stored credential and where it is, as every step of the check words it.
struct Subject {
    lang: Lang,
    kind: Kind,
    server: String,
    /// The Docker config (or podman auth file) it is stored in.
    path: String,
    /// Where in it: `auths`, or the credential helper.
    via: String,
    /// The command that removes it.
    logout_cmd: String,
    stored: StoredCredential,
}

/// What an identity token's own claims say about its expiry at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TokenExpiry {
    issued_at: Option<String>,
    expires_at: Option<String>,
    /// Seconds left at `now`; negative when expired.
    remaining_s: Option<i64>,
    /// `ok`, `expiring`, `expired` or `unknown`.
    state: &'static str,
}

impl TokenExpiry {
    fn of(exp: Option<i64>, iat: Option<i64>, now: i64) -> TokenExpiry {
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
        TokenExpiry {
            issued_at: fmt(iat),
            expires_at: fmt(exp),
            remaining_s: remaining,
            state,
        }
    }
}

/// The expiry of a stored identity token, from its claims; `None` for a password or a token
/// whose claims cannot be read.
fn token_expiry(stored: &StoredCredential, now: i64) -> Option<TokenExpiry> {
    if stored.kind != StoredKind::IdentityToken {
        return None;
    }
    let claims = crate::redact::jwt_claims(stored.secret.expose())?;
    let exp = claims.get("exp").and_then(Value::as_i64);
    let iat = claims.get("iat").and_then(Value::as_i64);
    Some(TokenExpiry::of(exp, iat, now))
}

/// Whether the token endpoint hands out an anonymous token for `scope` (the tokens it hands
/// out are registered as secrets).
async fn anonymous_pull_allowed(cx: &CheckCx<'_>, ch: &Challenge, scope: Option<&str>) -> bool {
    let mut q = vec![("service", ch.service.clone())];
    if let Some(s) = scope {
        q.push(("scope", s.to_string()));
    }
    let anon = cx.ctx.send(cx.ctx.http().get(&ch.realm).query(&q)).await;
    let Ok(r) = &anon else {
        return false;
    };
    let allowed = r.status == 200
        && r.json()
            .is_some_and(|j| j.get("access_token").or_else(|| j.get("token")).is_some());
    register_tokens(cx, r, &["access_token", "token"]);
    allowed
}

/// The token request the stored credential makes, and how it is shown: a refresh-token grant
/// for an identity token, a Basic GET for a password.
fn stored_request(
    cx: &CheckCx<'_>,
    stored: &StoredCredential,
    ch: &Challenge,
    scope: Option<&str>,
) -> (reqwest::RequestBuilder, String) {
    match stored.kind {
        StoredKind::IdentityToken => {
            let mut form = vec![
                ("grant_type", "refresh_token".to_string()),
                ("service", ch.service.clone()),
                ("refresh_token", stored.secret.expose().to_string()),
            ];
            if let Some(s) = scope {
                form.push(("scope", s.to_string()));
            }
            (
                cx.ctx.http().post(&ch.realm).form(&form),
                format!("POST {} (grant_type=refresh_token)", ch.realm),
            )
        }
        StoredKind::Password => {
            let mut q = vec![("service", ch.service.clone())];
            if let Some(s) = scope {
                q.push(("scope", s.to_string()));
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
    }
}

/// Registers the tokens a token endpoint answered with under `keys` as secrets.
fn register_tokens(cx: &CheckCx<'_>, resp: &HttpResponse, keys: &[&str]) {
    if let Some(j) = resp.json() {
        for k in keys {
            if let Some(t) = j.get(*k).and_then(Value::as_str) {
                cx.ctx.redactor.register(t);
            }
        }
    }
}

impl Subject {
    /// The token on the expiry timeline.
    fn timeline_entry(&self, expiry: &TokenExpiry) -> TimelineEntry {
        TimelineEntry {
            kind: "docker_identity_token".into(),
            source: format!("docker config {} ({})", self.path, self.via),
            issued_at: expiry.issued_at.clone(),
            expires_at: expiry.expires_at.clone(),
            remaining_s: expiry.remaining_s,
            state: expiry.state.into(),
        }
    }

    /// DOCKER_STORED_TOKEN_EXPIRED when the token has expired, with the commands that log in
    /// again; `None` while it is valid (or its expiry is unknown).
    fn expired(&self, expiry: &TokenExpiry) -> Option<Outcome> {
        let r = expiry.remaining_s.filter(|r| *r <= 0)?;
        let Subject {
            server, path, via, ..
        } = self;
        let when = expiry.expires_at.clone().unwrap_or_default();
        let detail = self.lang.t(
            format!("the ACR refresh token stored for {server} in {path} ({via}) expired at {when} ({} min ago)", (-r) / 60),
            format!("{path} ({via}) に保存された {server} の ACR リフレッシュ トークンは {when} に期限切れになりました ({} 分前)", (-r) / 60),
        );
        let name = server.split('.').next().unwrap_or(server);
        let finding = RawFinding::new(Code::DOCKER_STORED_TOKEN_EXPIRED, detail.clone())
            .evidence("path", path.clone())
            .evidence("store", via.clone())
            .evidence("expires_at", when);
        let finding = match self.kind {
            Kind::Docker => finding.command(format!("az acr login --name {name}")),
            // `az acr login` logs in through the docker CLI; with Podman the token is
            // handed to `podman login` instead.
            Kind::Podman => finding.command(self.logout_cmd.clone()).command(format!(
                "az acr login --name {name} --expose-token --output tsv --query accessToken | podman login {server} --username {EMPTY_GUID} --password-stdin"
            )),
        };
        Some(Outcome::fail(detail, finding))
    }

    /// Skipped: there is no validated challenge to try the credential against.
    fn untried(&self, why: &str) -> Outcome {
        let Subject { server, via, .. } = self;
        Outcome::skip(self.lang.t(
            format!("a credential is stored for {server} ({via}) but it cannot be tried: {why}"),
            format!("{server} の資格情報 ({via}) は保存されていますが、試せません: {why}"),
        ))
    }

    /// Skipped: the token request `how` could not be sent.
    fn untried_request(&self, how: &str, e: &str) -> Outcome {
        let server = &self.server;
        Outcome::skip(self.lang.t(
            format!("the stored credential for {server} could not be tried: {how}: {e}"),
            format!("{server} の保存済み資格情報を試せませんでした: {how}: {e}"),
        ))
    }

    /// The registry allows anonymous pull, but the engine sends the stored credential instead.
    fn in_the_way_of_anonymous(&self) -> Outcome {
        let Subject {
            server, path, via, ..
        } = self;
        let cmd = self.kind.command();
        let user = &self.stored.username;
        let detail = self.lang.t(
            format!("{server} allows anonymous pull, but {path} stores a credential for it ({via}, user {user}): {cmd} sends it instead of pulling anonymously"),
            format!("{server} は匿名 pull を許可していますが、{path} に資格情報が保存されています ({via}、ユーザー {user})。{cmd} は匿名ではなくその資格情報を送ります"),
        );
        Outcome::fail(
            detail.clone(),
            RawFinding::new(Code::DOCKER_STALE_CREDENTIALS, detail)
                .evidence("path", path.clone())
                .evidence("store", via.clone())
                .command(self.logout_cmd.clone()),
        )
    }

    /// The token endpoint's answer to the stored credential (`how`): accepted (with the token's
    /// expiry when known), rejected (DOCKER_STALE_CREDENTIALS) or not to be judged.
    fn judge(
        &self,
        realm: &str,
        how: &str,
        resp: &HttpResponse,
        expires_at: Option<String>,
    ) -> Outcome {
        let Subject {
            server, path, via, ..
        } = self;
        let user = &self.stored.username;
        match resp.status {
            200 => {
                let mut o = Outcome::pass(self.lang.t(
                    format!(
                        "the credential stored for {server} ({via}, user {user}) is accepted by {realm}"
                    ),
                    format!(
                        "{server} の保存済み資格情報 ({via}、ユーザー {user}) は {realm} に受け入れられました"
                    ),
                ))
                .evidence("request", how);
                if let Some(e) = expires_at {
                    o = o.evidence("expires_at", e);
                }
                o
            }
            401 | 403 => {
                let status = resp.status;
                let said = registry_says(resp);
                let said = if said.is_empty() {
                    String::new()
                } else {
                    format!(" ({said})")
                };
                let detail = self.lang.t(
                    format!("the credential stored for {server} in {path} ({via}, user {user}) is rejected: {how} answered {status}{said}"),
                    format!("{path} に保存された {server} の資格情報 ({via}、ユーザー {user}) は拒否されました: {how} の応答は {status}{said}"),
                );
                Outcome::fail(detail.clone(), self.stale(detail)).evidence("request", how)
            }
            other => Outcome::skip(self.lang.t(
                format!(
                    "the stored credential for {server} could not be judged: {how} answered {other}"
                ),
                format!(
                    "{server} の保存済み資格情報を判定できませんでした: {how} の応答は {other}"
                ),
            )),
        }
    }

    fn stale(&self, detail: String) -> RawFinding {
        RawFinding::new(Code::DOCKER_STALE_CREDENTIALS, detail)
            .evidence("path", self.path.clone())
            .evidence("store", self.via.clone())
            .evidence("username", self.stored.username.clone())
            .command(self.logout_cmd.clone())
    }
}

/// The registry's error envelope, as `CODE: message; ...`.
fn registry_says(resp: &HttpResponse) -> String {
    resp.registry_errors()
        .into_iter()
        .map(|(c, m)| format!("{c}: {m}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::docker_config::Via;
    use crate::redact::Secret;
    use crate::report::CheckStatus;

    const NOW: i64 = 1_800_000_000;

    fn subject(kind: Kind, secret_kind: StoredKind) -> Subject {
        Subject {
            lang: Lang::En,
            kind,
            server: "contosoreg.azurecr.io".into(),
            path: "home/.docker/config.json".into(),
            via: "auths".into(),
            logout_cmd: "docker logout contosoreg.azurecr.io".into(),
            stored: StoredCredential {
                host: "contosoreg.azurecr.io".into(),
                via: Via::Auths { from_env: false },
                username: "puller".into(),
                secret: Secret::new("s3cret"),
                kind: secret_kind,
            },
        }
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: Default::default(),
            body: body.as_bytes().to_vec(),
            truncated: false,
            elapsed: Default::default(),
            url: "https://contosoreg.azurecr.io/oauth2/token".into(),
        }
    }

    #[test]
    fn the_token_state_follows_the_time_left() {
        let state = |exp: Option<i64>| TokenExpiry::of(exp, None, NOW).state;
        assert_eq!(state(None), "unknown");
        assert_eq!(state(Some(NOW - 60)), "expired");
        assert_eq!(state(Some(NOW)), "expired");
        assert_eq!(state(Some(NOW + EXPIRING_S)), "expiring");
        assert_eq!(state(Some(NOW + EXPIRING_S + 1)), "ok");
        let e = TokenExpiry::of(Some(0), Some(0), NOW);
        assert_eq!(e.expires_at.as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(e.issued_at.as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(e.remaining_s, Some(-NOW));
    }

    #[test]
    fn only_an_identity_token_has_an_expiry() {
        let s = subject(Kind::Docker, StoredKind::Password);
        assert_eq!(token_expiry(&s.stored, NOW), None);
        // An identity token that is not a JWT: nothing to read.
        let s = subject(Kind::Docker, StoredKind::IdentityToken);
        assert_eq!(token_expiry(&s.stored, NOW), None);
    }

    #[test]
    fn an_expired_token_is_reported_with_the_engine_s_login_commands() {
        let expired = TokenExpiry::of(Some(NOW - 600), None, NOW);
        let o = subject(Kind::Docker, StoredKind::IdentityToken)
            .expired(&expired)
            .expect("expired");
        assert_eq!(o.status, CheckStatus::Fail);
        let f = &o.findings[0];
        assert_eq!(f.code, Code::DOCKER_STORED_TOKEN_EXPIRED);
        assert_eq!(f.evidence["store"], "auths");
        assert_eq!(
            f.evidence["expires_at"],
            expired.expires_at.clone().unwrap()
        );
        assert_eq!(f.commands, vec!["az acr login --name contosoreg"]);

        let o = subject(Kind::Podman, StoredKind::IdentityToken)
            .expired(&expired)
            .expect("expired");
        let f = &o.findings[0];
        assert_eq!(f.commands.len(), 2);
        assert_eq!(f.commands[0], "docker logout contosoreg.azurecr.io");
        assert!(f.commands[1].contains("podman login contosoreg.azurecr.io"));

        let valid = TokenExpiry::of(Some(NOW + 600), None, NOW);
        let s = subject(Kind::Docker, StoredKind::IdentityToken);
        assert!(s.expired(&valid).is_none());
        assert!(s.expired(&TokenExpiry::of(None, None, NOW)).is_none());
    }

    #[test]
    fn the_token_endpoint_s_answer_decides() {
        let s = subject(Kind::Docker, StoredKind::Password);
        let realm = "https://contosoreg.azurecr.io/oauth2/token";
        let o = s.judge(realm, "GET x", &response(200, "{}"), Some("T".into()));
        assert_eq!(o.status, CheckStatus::Pass);
        assert!(o.findings.is_empty());
        assert_eq!(o.evidence["request"], "GET x");
        assert_eq!(o.evidence["expires_at"], "T");

        let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad"}]}"#;
        let o = s.judge(realm, "GET x", &response(401, body), None);
        assert_eq!(o.status, CheckStatus::Fail);
        assert_eq!(o.evidence["request"], "GET x");
        let f = &o.findings[0];
        assert_eq!(f.code, Code::DOCKER_STALE_CREDENTIALS);
        assert_eq!(f.evidence["username"], "puller");
        assert_eq!(f.evidence["store"], "auths");
        assert_eq!(f.commands, vec!["docker logout contosoreg.azurecr.io"]);
        assert_eq!(registry_says(&response(401, body)), "UNAUTHORIZED: bad");

        let o = s.judge(realm, "GET x", &response(500, ""), None);
        assert_eq!(o.status, CheckStatus::Skip);
        assert!(o.findings.is_empty());
    }

    #[test]
    fn a_credential_in_the_way_of_anonymous_pull_is_stale() {
        let o = subject(Kind::Docker, StoredKind::Password).in_the_way_of_anonymous();
        assert_eq!(o.status, CheckStatus::Fail);
        let f = &o.findings[0];
        assert_eq!(f.code, Code::DOCKER_STALE_CREDENTIALS);
        assert_eq!(f.evidence["path"], "home/.docker/config.json");
        assert_eq!(f.commands, vec!["docker logout contosoreg.azurecr.io"]);
    }
}
