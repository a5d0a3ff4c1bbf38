//! The Docker config and the credential it stores for the target registry.

use futures::future::BoxFuture;
use serde_json::Value;

use super::engine::{self, Kind};
use super::{challenge, login_server_key, process_bound};
use crate::checks::{Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::cli::AuthSource;
use crate::docker::credential_store::resolve_stored;
use crate::finding::{RawFinding, Severity};
use crate::protocol::docker_config::{
    normalize_host, podman_auth_files, ConfigError, DockerConfig, HelperError, KeyMismatch, Loaded,
    StoredCredential, StoredKind, EMPTY_GUID,
};
use crate::report::TimelineEntry;

/// A stored identity token expiring within this many seconds is "expiring" on the timeline.
const EXPIRING_S: i64 = 15 * 60;

pub struct Config;

impl Check for Config {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "docker.config",
            Group::Environment,
            "docker config",
            "docker 構成",
        )
        .uses(&[Fact::LoginServer])
        .provides(&[Fact::DockerConfig]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let sel = engine::current(cx);
            let outcome = match sel.kind {
                Kind::Docker => run_config(cx).await,
                Kind::Podman => run_podman_config(cx).await,
            };
            outcome
                .evidence("engine", sel.kind.command())
                .evidence("engine_reason", sel.why)
        })
    }
}

async fn run_config(cx: &CheckCx<'_>) -> Outcome {
    let loaded = match DockerConfig::load(cx.ctx.env_map()) {
        Ok(l) => l,
        Err(ConfigError::NoHome) => {
            return Outcome::skip(cx.t(
                "neither HOME nor DOCKER_CONFIG is set: no Docker config to read",
                "HOME も DOCKER_CONFIG も設定されていないため、読み取る Docker 構成がありません",
            ))
        }
        Err(e) => {
            // A malformed config does not stop docker: the CLI warns, ignores the whole file
            // and carries on with no stored credentials (and `docker login` would overwrite
            // it). No catalogue code names "unreadable Docker config", and the credential
            // codes would each claim something that is not true (no helper is involved, no
            // credential was rejected), so this is UNEXPECTED_ERROR, at warning level, with
            // the parser's position as evidence.
            let path = match &e {
                ConfigError::Io { path, .. } | ConfigError::Parse { path, .. } => path.clone(),
                ConfigError::NoHome => String::new(),
            };
            cx.facts().docker_config_path = Some(path.clone());
            let detail = cx.t(
                format!("{e}; docker ignores this file, so credentials stored in it are not used"),
                format!(
                    "{e}。docker はこのファイルを無視するため、保存された資格情報は使われません"
                ),
            );
            let mut finding = RawFinding::new("UNEXPECTED_ERROR", detail.clone())
                .severity(Severity::Warning)
                .evidence("path", path.clone())
                .step(cx.t(
                    format!("Fix the JSON in {path} (or move it away and log in again)"),
                    format!("{path} の JSON を修正してください (または退避してログインし直してください)"),
                ));
            if let ConfigError::Parse { line, column, .. } = &e {
                finding = finding
                    .evidence("line", *line as u64)
                    .evidence("column", *column as u64);
            }
            return Outcome::warn(detail, finding);
        }
    };
    // Every secret in the file is registered, whichever registry it belongs to.
    for cfg in std::iter::once(&loaded.file).chain(loaded.env.iter()) {
        for entry in cfg.auths.values() {
            for s in [&entry.password, &entry.identity_token]
                .into_iter()
                .flatten()
            {
                cx.ctx.redactor.register_secret(s);
            }
        }
    }
    let path = loaded.path().display().to_string();
    cx.facts().docker_config_path = Some(path.clone());
    let server = login_server_key(cx);
    let lookup_preview = loaded.stored_credential_for(&server);
    let via_text = lookup_preview.via.describe(&lookup_preview.host);
    let exists = matches!(
        loaded.source,
        crate::protocol::docker_config::ConfigSource::File(_)
    );
    let result = resolve_stored(cx.ctx, &loaded, &server, process_bound(cx)).await;
    let mismatches = loaded.file.key_mismatches(&server, &registry_of(&server));
    let base = |o: Outcome| {
        let mut o = o
            .evidence("path", path.clone())
            .evidence("exists", exists)
            .evidence("login_server", server.clone())
            .evidence("store", via_text.clone());
        if loaded.env.is_some() {
            o = o.evidence("docker_auth_config", true);
        }
        o
    };
    match result {
        Err(e) => {
            let helper = lookup_preview.via.helper().unwrap_or("").to_string();
            let (detail, fix) = match &e {
                HelperError::NotFound(h) => (
                    cx.t(
                        format!("{path} sets {via_text}, but docker-credential-{h} is not on PATH: docker login and pull fail for {server}"),
                        format!("{path} は {via_text} を指定していますが、PATH 上に docker-credential-{h} がありません。{server} への docker login と pull は失敗します"),
                    ),
                    cx.t(
                        format!("Install docker-credential-{h}, or remove {via_text} from {path}"),
                        format!("docker-credential-{h} をインストールするか、{path} から {via_text} を削除してください"),
                    ),
                ),
                other => (
                    cx.t(
                        format!("{path} sets {via_text}; the helper failed for {server}: {other}"),
                        format!("{path} は {via_text} を指定していますが、{server} についてヘルパーが失敗しました: {other}"),
                    ),
                    cx.t(
                        format!("Run `echo {server} | docker-credential-{helper} get` to see the helper's error"),
                        format!("`echo {server} | docker-credential-{helper} get` を実行してヘルパーのエラーを確認してください"),
                    ),
                ),
            };
            base(Outcome::fail(
                detail.clone(),
                RawFinding::new("DOCKER_CREDENTIAL_HELPER_ERROR", detail)
                    .evidence("path", path.clone())
                    .evidence("helper", format!("docker-credential-{helper}"))
                    .evidence("error", e.to_string())
                    .step(fix),
            ))
        }
        Ok((_, None)) => with_key_finding(
            cx,
            Kind::Docker,
            base(Outcome::pass(cx.t(
                format!("{path}: nothing stored for {server} ({via_text})"),
                format!("{path}: {server} の資格情報は保存されていません ({via_text})"),
            ))),
            &mismatches,
            &server,
            &path,
            false,
        ),
        Ok((_, Some(stored))) => {
            let kind = match stored.kind {
                StoredKind::Password => "password",
                StoredKind::IdentityToken => "identity token",
            };
            let msg = cx.t(
                format!(
                    "{path}: {kind} for {server} stored via {via_text} (user {})",
                    stored.username
                ),
                format!(
                    "{path}: {server} の {kind} が {via_text} に保存されています (ユーザー {})",
                    stored.username
                ),
            );
            let username = stored.username.clone();
            cx.facts().docker_stored_credential = Some(stored);
            let outcome = base(Outcome::pass(msg))
                .evidence("stored_kind", kind)
                .evidence("stored_username", username);
            with_key_finding(cx, Kind::Docker, outcome, &mismatches, &server, &path, true)
        }
    }
}

/// The registry's resource name from its login server (`contosoreg.azurecr.io` -> `contosoreg`).
fn registry_of(server: &str) -> String {
    server
        .split(['.', ':'])
        .next()
        .unwrap_or(server)
        .to_string()
}

/// Adds the finding for credentials stored under keys the engine does not look up for
/// `server` (or finds only through its fallback for old keys): a warning when nothing usable is
/// stored under the right key or the engine uses an old key, information otherwise.
#[allow(clippy::too_many_arguments)]
fn with_key_finding(
    cx: &CheckCx<'_>,
    kind: Kind,
    outcome: Outcome,
    mismatches: &[KeyMismatch],
    server: &str,
    path: &str,
    found: bool,
) -> Outcome {
    if mismatches.is_empty() {
        return outcome;
    }
    let engine = kind.command();
    let why_words = |why: &str| match why {
        "letter_case" => cx.t("another letter case", "大文字と小文字の違い"),
        "scheme_or_path" => cx.t("a scheme or path", "スキームまたはパス付き"),
        "port" => cx.t("another port", "別のポート"),
        _ => cx.t(
            "the resource name instead of the login server",
            "ログイン サーバーではなくリソース名",
        ),
    };
    let listed: Vec<String> = mismatches
        .iter()
        .map(|m| format!("{} '{}' ({})", m.store, m.key, why_words(m.why)))
        .collect();
    let listed = listed.join(", ");
    let used = mismatches.iter().any(|m| m.used);
    let detail = if used {
        cx.t(
            format!("{path}: {engine} finds the credential for {server} only under an old key ({listed}); `{engine} logout {server}` does not remove it, so a stale password stays in use"),
            format!("{path}: {engine} は {server} の資格情報を古い形式のキー ({listed}) でしか見つけられません。`{engine} logout {server}` ではこのキーは削除されないため、古いパスワードが使われ続けます"),
        )
    } else if found {
        cx.t(
            format!("{path}: besides the credential for {server}, entries for the same registry are stored under keys {engine} does not look up ({listed}); they are never used"),
            format!("{path}: {server} の資格情報のほかに、{engine} が参照しないキーで同じレジストリのエントリが保存されています ({listed})。これらは使われません"),
        )
    } else {
        cx.t(
            format!("{path}: credentials for this registry are stored under keys {engine} does not look up for {server} ({listed}): {engine} login and pull go without them"),
            format!("{path}: このレジストリの資格情報が、{engine} が {server} について参照しないキーで保存されています ({listed})。{engine} login と pull はこれらを使いません"),
        )
    };
    let severity = if used || !found {
        Severity::Warning
    } else {
        Severity::Info
    };
    let mut finding = RawFinding::new("DOCKER_STALE_CREDENTIALS", detail.clone())
        .severity(severity)
        .evidence("login_server", server)
        .evidence("path", path)
        .evidence(
            "key_mismatches",
            Value::from(
                mismatches
                    .iter()
                    .map(|m| serde_json::json!({"key": m.key, "store": m.store, "why": m.why, "used": m.used}))
                    .collect::<Vec<_>>(),
            ),
        );
    for m in mismatches {
        if m.store == "credHelpers" {
            finding = finding.step(cx.t(
                format!("In {path}, rename the credHelpers key '{}' to '{server}': {engine} looks helpers up by the exact key", m.key),
                format!("{path} の credHelpers のキー '{}' を '{server}' に変更してください。{engine} はヘルパーを完全に一致するキーで探します", m.key),
            ));
        } else if kind == Kind::Podman && m.key.contains("://") {
            finding = finding.step(cx.t(
                format!("Remove the auths entry '{}' from {path} (podman logout does not accept a key with a scheme)", m.key),
                format!("{path} から auths のエントリ '{}' を削除してください (podman logout はスキーム付きのキーを受け付けません)", m.key),
            ));
        } else if kind == Kind::Podman {
            finding = finding.command(format!("podman logout --authfile {path} '{}'", m.key));
        } else {
            finding = finding.command(format!("docker logout '{}'", m.key));
        }
    }
    finding = finding.command(format!("{engine} login {server}"));
    let mut outcome = outcome
        .evidence(
            "key_mismatches",
            Value::from(mismatches.iter().map(|m| m.key.clone()).collect::<Vec<_>>()),
        )
        .finding(finding);
    if severity == Severity::Warning && outcome.status == crate::report::CheckStatus::Pass {
        outcome.status = crate::report::CheckStatus::Warn;
    }
    outcome
}

/// Podman's credential sources, in the order Podman reads them (see
/// [`podman_auth_files`]): the first file with an entry for the registry is the one used.
async fn run_podman_config(cx: &CheckCx<'_>) -> Outcome {
    let files = podman_auth_files(cx.ctx.env_map());
    let server = login_server_key(cx);
    let mut looked = Vec::new();
    // The first file holding this registry under another spelling, and those keys.
    let mut misspelt: Option<(String, Vec<KeyMismatch>)> = None;
    for f in &files {
        let path = f.path.display().to_string();
        let loaded = match Loaded::podman_file(f) {
            Ok(None) => {
                looked.push(serde_json::json!({"path": path, "origin": f.origin, "exists": false}));
                continue;
            }
            Ok(Some(l)) => l,
            Err(e) => {
                // containers/image stops at a file it cannot parse: podman login, pull and push
                // fail with "reading JSON file" until it is fixed.
                cx.facts().docker_config_path = Some(path.clone());
                let detail = cx.t(
                    format!("{e}; podman stops with an error when it reads this file, so it cannot use any stored credential"),
                    format!("{e}。podman はこのファイルを読むとエラーで停止するため、保存された資格情報を使えません"),
                );
                let mut finding = RawFinding::new("UNEXPECTED_ERROR", detail.clone())
                    .severity(Severity::Warning)
                    .evidence("path", path.clone())
                    .evidence("origin", f.origin.clone())
                    .step(cx.t(
                        format!("Fix the JSON in {path} (or move it away and run `podman login` again)"),
                        format!("{path} の JSON を修正してください (または退避して `podman login` をやり直してください)"),
                    ));
                if let ConfigError::Parse { line, column, .. } = &e {
                    finding = finding
                        .evidence("line", *line as u64)
                        .evidence("column", *column as u64);
                }
                return Outcome::warn(detail, finding).evidence("auth_files", Value::from(looked));
            }
        };
        looked.push(serde_json::json!({"path": path, "origin": f.origin, "exists": true}));
        for entry in loaded.file.auths.values() {
            for s in [&entry.password, &entry.identity_token]
                .into_iter()
                .flatten()
            {
                cx.ctx.redactor.register_secret(s);
            }
        }
        let via_text = loaded
            .stored_credential_for(&server)
            .via
            .describe(&normalize_host(&server));
        let mismatches = loaded.file.key_mismatches(&server, &registry_of(&server));
        if misspelt.is_none() && !mismatches.is_empty() {
            misspelt = Some((path.clone(), mismatches.clone()));
        }
        match resolve_stored(cx.ctx, &loaded, &server, process_bound(cx)).await {
            Err(e) => {
                cx.facts().docker_config_path = Some(path.clone());
                let helper = loaded
                    .stored_credential_for(&server)
                    .via
                    .helper()
                    .unwrap_or("")
                    .to_string();
                let detail = cx.t(
                    format!("{path} sets {via_text}; podman cannot get the credential for {server}: {e}"),
                    format!("{path} は {via_text} を指定していますが、podman は {server} の資格情報を取得できません: {e}"),
                );
                return Outcome::fail(
                    detail.clone(),
                    RawFinding::new("DOCKER_CREDENTIAL_HELPER_ERROR", detail)
                        .evidence("path", path.clone())
                        .evidence("helper", format!("docker-credential-{helper}"))
                        .evidence("error", e.to_string())
                        .step(cx.t(
                            format!("Install docker-credential-{helper}, or remove {via_text} from {path}"),
                            format!("docker-credential-{helper} をインストールするか、{path} から {via_text} を削除してください"),
                        )),
                )
                .evidence("auth_files", Value::from(looked));
            }
            Ok((_, None)) => continue,
            Ok((_, Some(stored))) => {
                let kind = match stored.kind {
                    StoredKind::Password => "password",
                    StoredKind::IdentityToken => "identity token",
                };
                let origin = &f.origin;
                let msg = cx.t(
                    format!(
                        "{path} ({origin}): {kind} for {server} stored via {via_text} (user {}); podman uses it",
                        stored.username
                    ),
                    format!(
                        "{path} ({origin}): {server} の {kind} が {via_text} に保存されています (ユーザー {})。podman はこれを使います",
                        stored.username
                    ),
                );
                let username = stored.username.clone();
                {
                    let mut facts = cx.facts();
                    facts.docker_config_path = Some(path.clone());
                    facts.docker_stored_credential = Some(stored);
                }
                let outcome = Outcome::pass(msg)
                    .evidence("path", path.clone())
                    .evidence("origin", origin.clone())
                    .evidence("login_server", server.clone())
                    .evidence("store", via_text)
                    .evidence("stored_kind", kind)
                    .evidence("stored_username", username)
                    .evidence("auth_files", Value::from(looked));
                return with_key_finding(
                    cx,
                    Kind::Podman,
                    outcome,
                    &mismatches,
                    &server,
                    &path,
                    true,
                );
            }
        }
    }
    let primary = files
        .iter()
        .find(|f| f.primary)
        .map(|f| f.path.display().to_string());
    cx.facts().docker_config_path = primary;
    let list = files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let outcome = Outcome::pass(cx.t(
        format!("nothing stored for {server} in Podman's credential files ({list})"),
        format!("Podman の資格情報ファイル ({list}) に {server} の資格情報は保存されていません"),
    ))
    .evidence("login_server", server.clone())
    .evidence("auth_files", Value::from(looked));
    match misspelt {
        Some((path, mismatches)) => with_key_finding(
            cx,
            Kind::Podman,
            outcome,
            &mismatches,
            &server,
            &path,
            false,
        ),
        None => outcome,
    }
}

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
                let finding = RawFinding::new("DOCKER_STORED_TOKEN_EXPIRED", detail.clone())
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
                RawFinding::new("DOCKER_STALE_CREDENTIALS", detail)
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
    RawFinding::new("DOCKER_STALE_CREDENTIALS", detail)
        .evidence("path", path.to_string())
        .evidence("store", via.to_string())
        .evidence("username", stored.username.clone())
        .command(logout_cmd.to_string())
}
