//! `docker.config`: the Docker config (or podman's auth files) and what it says about the target
//! registry (the key its credential is stored under, the credential helper).

use futures::future::BoxFuture;
use serde_json::Value;

use super::engine::{self, Kind};
use super::{login_server_key, process_bound};
use crate::catalogue::Code;
use crate::checks::{Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::docker::credential_store::resolve_stored;
use crate::finding::{RawFinding, Severity};
use crate::protocol::docker_config::{
    normalize_host, podman_auth_files, ConfigError, DockerConfig, HelperError, KeyMismatch, Loaded,
    StoredKind,
};

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
            let mut finding = RawFinding::new(Code::UNEXPECTED_ERROR, detail.clone())
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
                RawFinding::new(Code::DOCKER_CREDENTIAL_HELPER_ERROR, detail)
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
    let mut finding = RawFinding::new(Code::DOCKER_STALE_CREDENTIALS, detail.clone())
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
                let mut finding = RawFinding::new(Code::UNEXPECTED_ERROR, detail.clone())
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
                    RawFinding::new(Code::DOCKER_CREDENTIAL_HELPER_ERROR, detail)
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
