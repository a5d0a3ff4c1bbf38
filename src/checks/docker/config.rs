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
use crate::lang::Lang;
use crate::protocol::docker_config::{
    normalize_host, podman_auth_files, ConfigError, ConfigSource, DockerConfig, HelperError,
    KeyMismatch, Loaded, PodmanAuthFile, StoredCredential, StoredKind,
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
    let loaded = match load_docker_config(cx) {
        Ok(l) => l,
        Err(outcome) => return outcome,
    };
    // Every secret in the file is registered, whichever registry it belongs to.
    for cfg in std::iter::once(&loaded.file).chain(loaded.env.iter()) {
        register_secrets(cx, cfg);
    }
    let path = loaded.path().display().to_string();
    cx.facts().docker_config_path = Some(path.clone());
    let server = login_server_key(cx);
    let lookup_preview = loaded.stored_credential_for(&server);
    let view = DockerView {
        lang: cx.lang,
        via_text: lookup_preview.via.describe(&lookup_preview.host),
        helper: lookup_preview.via.helper().unwrap_or("").to_string(),
        exists: matches!(loaded.source, ConfigSource::File(_)),
        auth_config: loaded.env.is_some(),
        path,
        server,
    };
    let result = resolve_stored(cx.ctx, &loaded, &view.server, process_bound(cx)).await;
    let mismatches = loaded
        .file
        .key_mismatches(&view.server, &registry_of(&view.server));
    let (outcome, found) = match result {
        Err(e) => return view.helper_failed(&e),
        Ok((_, None)) => (view.nothing_stored(), false),
        Ok((_, Some(stored))) => {
            let outcome = view.stored(&stored);
            cx.facts().docker_stored_credential = Some(stored);
            (outcome, true)
        }
    };
    let (server, path) = (&view.server, &view.path);
    with_key_finding(
        cx.lang,
        Kind::Docker,
        outcome,
        &mismatches,
        server,
        path,
        found,
    )
}

/// Reads the Docker config (and `DOCKER_AUTH_CONFIG`). Err: the outcome when there is none to
/// read (a skip) or it cannot be read (its path becomes the fact).
fn load_docker_config(cx: &CheckCx<'_>) -> Result<Loaded, Outcome> {
    let e =
        match DockerConfig::load(cx.ctx.env_map()) {
            Ok(l) => return Ok(l),
            Err(ConfigError::NoHome) => return Err(Outcome::skip(cx.t(
                "neither HOME nor DOCKER_CONFIG is set: no Docker config to read",
                "HOME も DOCKER_CONFIG も設定されていないため、読み取る Docker 構成がありません",
            ))),
            Err(e) => e,
        };
    let path = match &e {
        ConfigError::Io { path, .. } | ConfigError::Parse { path, .. } => path.clone(),
        ConfigError::NoHome => String::new(),
    };
    cx.facts().docker_config_path = Some(path.clone());
    Err(docker_unreadable(cx.lang, &e, &path))
}

/// A malformed Docker config does not stop docker: the CLI warns, ignores the whole file and
/// carries on with no stored credentials (and `docker login` would overwrite it).
fn docker_unreadable(lang: Lang, e: &ConfigError, path: &str) -> Outcome {
    let detail = lang.t(
        format!("{e}; docker ignores this file, so credentials stored in it are not used"),
        format!("{e}。docker はこのファイルを無視するため、保存された資格情報は使われません"),
    );
    let fix = lang.t(
        format!("Fix the JSON in {path} (or move it away and log in again)"),
        format!("{path} の JSON を修正してください (または退避してログインし直してください)"),
    );
    let finding = unreadable_finding(e, detail.clone(), path, None, fix);
    Outcome::warn(detail, finding)
}

/// The finding for a credential file that cannot be read. No catalogue code names "unreadable
/// Docker config", and the credential codes would each claim something that is not true (no
/// helper is involved, no credential was rejected), so this is UNEXPECTED_ERROR, at warning
/// level, with the parser's position as evidence.
fn unreadable_finding(
    e: &ConfigError,
    detail: String,
    path: &str,
    origin: Option<&str>,
    fix: String,
) -> RawFinding {
    let mut finding = RawFinding::new(Code::UNEXPECTED_ERROR, detail)
        .severity(Severity::Warning)
        .evidence("path", path);
    if let Some(origin) = origin {
        finding = finding.evidence("origin", origin);
    }
    finding = finding.step(fix);
    if let ConfigError::Parse { line, column, .. } = e {
        finding = finding
            .evidence("line", *line as u64)
            .evidence("column", *column as u64);
    }
    finding
}

/// Registers every secret of a credential file, whichever registry it belongs to.
fn register_secrets(cx: &CheckCx<'_>, cfg: &DockerConfig) {
    for entry in cfg.auths.values() {
        for s in [&entry.password, &entry.identity_token]
            .into_iter()
            .flatten()
        {
            cx.ctx.redactor.register_secret(s);
        }
    }
}

/// DOCKER_CREDENTIAL_HELPER_ERROR: the helper of `path` could not give the credential.
fn helper_error_finding(
    detail: String,
    path: &str,
    helper: &str,
    e: &HelperError,
    fix: String,
) -> RawFinding {
    RawFinding::new(Code::DOCKER_CREDENTIAL_HELPER_ERROR, detail)
        .evidence("path", path)
        .evidence("helper", format!("docker-credential-{helper}"))
        .evidence("error", e.to_string())
        .step(fix)
}

/// How a stored credential is named in the messages and evidence.
fn stored_kind_label(kind: StoredKind) -> &'static str {
    match kind {
        StoredKind::Password => "password",
        StoredKind::IdentityToken => "identity token",
    }
}

/// What the Docker config says for the login server, as the outcomes word it.
struct DockerView {
    lang: Lang,
    path: String,
    /// Whether the file exists (docker behaves as with an empty one when it does not).
    exists: bool,
    server: String,
    /// Where the credential for `server` is looked up (`auths`, or the helper).
    via_text: String,
    /// That helper's name, or empty.
    helper: String,
    /// Whether `DOCKER_AUTH_CONFIG` is set.
    auth_config: bool,
}

impl DockerView {
    /// The evidence every docker outcome carries.
    fn base(&self, o: Outcome) -> Outcome {
        let mut o = o
            .evidence("path", self.path.clone())
            .evidence("exists", self.exists)
            .evidence("login_server", self.server.clone())
            .evidence("store", self.via_text.clone());
        if self.auth_config {
            o = o.evidence("docker_auth_config", true);
        }
        o
    }

    /// The credential helper failed: not installed, or its own error.
    fn helper_failed(&self, e: &HelperError) -> Outcome {
        let DockerView {
            lang,
            path,
            server,
            via_text,
            helper,
            ..
        } = self;
        let (detail, fix) = match e {
            HelperError::NotFound(h) => (
                lang.t(
                    format!("{path} sets {via_text}, but docker-credential-{h} is not on PATH: docker login and pull fail for {server}"),
                    format!("{path} は {via_text} を指定していますが、PATH 上に docker-credential-{h} がありません。{server} への docker login と pull は失敗します"),
                ),
                lang.t(
                    format!("Install docker-credential-{h}, or remove {via_text} from {path}"),
                    format!("docker-credential-{h} をインストールするか、{path} から {via_text} を削除してください"),
                ),
            ),
            other => (
                lang.t(
                    format!("{path} sets {via_text}; the helper failed for {server}: {other}"),
                    format!("{path} は {via_text} を指定していますが、{server} についてヘルパーが失敗しました: {other}"),
                ),
                lang.t(
                    format!("Run `echo {server} | docker-credential-{helper} get` to see the helper's error"),
                    format!("`echo {server} | docker-credential-{helper} get` を実行してヘルパーのエラーを確認してください"),
                ),
            ),
        };
        let finding = helper_error_finding(detail.clone(), path, helper, e, fix);
        self.base(Outcome::fail(detail, finding))
    }

    fn nothing_stored(&self) -> Outcome {
        let DockerView {
            path,
            server,
            via_text,
            ..
        } = self;
        self.base(Outcome::pass(self.lang.t(
            format!("{path}: nothing stored for {server} ({via_text})"),
            format!("{path}: {server} の資格情報は保存されていません ({via_text})"),
        )))
    }

    fn stored(&self, stored: &StoredCredential) -> Outcome {
        let DockerView {
            path,
            server,
            via_text,
            ..
        } = self;
        let kind = stored_kind_label(stored.kind);
        let user = &stored.username;
        let msg = self.lang.t(
            format!("{path}: {kind} for {server} stored via {via_text} (user {user})"),
            format!(
                "{path}: {server} の {kind} が {via_text} に保存されています (ユーザー {user})"
            ),
        );
        self.base(Outcome::pass(msg))
            .evidence("stored_kind", kind)
            .evidence("stored_username", user.clone())
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
fn with_key_finding(
    lang: Lang,
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
    let finding = key_finding(lang, kind, mismatches, server, path, found);
    let warning = finding.severity == Some(Severity::Warning);
    let mut outcome = outcome
        .evidence(
            "key_mismatches",
            Value::from(mismatches.iter().map(|m| m.key.clone()).collect::<Vec<_>>()),
        )
        .finding(finding);
    if warning && outcome.status == crate::report::CheckStatus::Pass {
        outcome.status = crate::report::CheckStatus::Warn;
    }
    outcome
}

/// DOCKER_STALE_CREDENTIALS for the misspelt keys, with what removes each and the login that
/// stores the credential under the right key.
fn key_finding(
    lang: Lang,
    kind: Kind,
    mismatches: &[KeyMismatch],
    server: &str,
    path: &str,
    found: bool,
) -> RawFinding {
    let engine = kind.command();
    let why_words = |why: &str| match why {
        "letter_case" => lang.t("another letter case", "大文字と小文字の違い"),
        "scheme_or_path" => lang.t("a scheme or path", "スキームまたはパス付き"),
        "port" => lang.t("another port", "別のポート"),
        _ => lang.t(
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
        lang.t(
            format!("{path}: {engine} finds the credential for {server} only under an old key ({listed}); `{engine} logout {server}` does not remove it, so a stale password stays in use"),
            format!("{path}: {engine} は {server} の資格情報を古い形式のキー ({listed}) でしか見つけられません。`{engine} logout {server}` ではこのキーは削除されないため、古いパスワードが使われ続けます"),
        )
    } else if found {
        lang.t(
            format!("{path}: besides the credential for {server}, entries for the same registry are stored under keys {engine} does not look up ({listed}); they are never used"),
            format!("{path}: {server} の資格情報のほかに、{engine} が参照しないキーで同じレジストリのエントリが保存されています ({listed})。これらは使われません"),
        )
    } else {
        lang.t(
            format!("{path}: credentials for this registry are stored under keys {engine} does not look up for {server} ({listed}): {engine} login and pull go without them"),
            format!("{path}: このレジストリの資格情報が、{engine} が {server} について参照しないキーで保存されています ({listed})。{engine} login と pull はこれらを使いません"),
        )
    };
    let severity = if used || !found {
        Severity::Warning
    } else {
        Severity::Info
    };
    let mut finding = RawFinding::new(Code::DOCKER_STALE_CREDENTIALS, detail)
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
        finding = key_fix(lang, kind, finding, m, server, path);
    }
    finding.command(format!("{engine} login {server}"))
}

/// What removes one misspelt key: a rename for a helper entry, else the engine's logout (or, for
/// a Podman key with a scheme, which `podman logout` refuses, removing the entry by hand).
fn key_fix(
    lang: Lang,
    kind: Kind,
    finding: RawFinding,
    m: &KeyMismatch,
    server: &str,
    path: &str,
) -> RawFinding {
    let engine = kind.command();
    if m.store == "credHelpers" {
        finding.step(lang.t(
            format!("In {path}, rename the credHelpers key '{}' to '{server}': {engine} looks helpers up by the exact key", m.key),
            format!("{path} の credHelpers のキー '{}' を '{server}' に変更してください。{engine} はヘルパーを完全に一致するキーで探します", m.key),
        ))
    } else if kind == Kind::Podman && m.key.contains("://") {
        finding.step(lang.t(
            format!("Remove the auths entry '{}' from {path} (podman logout does not accept a key with a scheme)", m.key),
            format!("{path} から auths のエントリ '{}' を削除してください (podman logout はスキーム付きのキーを受け付けません)", m.key),
        ))
    } else if kind == Kind::Podman {
        finding.command(format!("podman logout --authfile {path} '{}'", m.key))
    } else {
        finding.command(format!("docker logout '{}'", m.key))
    }
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
                looked.push(looked_at(&path, &f.origin, false));
                continue;
            }
            Ok(Some(l)) => l,
            Err(e) => {
                // containers/image stops at a file it cannot parse: podman login, pull and push
                // fail with "reading JSON file" until it is fixed.
                cx.facts().docker_config_path = Some(path.clone());
                return podman_unreadable(cx.lang, &e, &path, &f.origin)
                    .evidence("auth_files", Value::from(looked));
            }
        };
        looked.push(looked_at(&path, &f.origin, true));
        register_secrets(cx, &loaded.file);
        let lookup = loaded.stored_credential_for(&server);
        let file = PodmanFile {
            lang: cx.lang,
            origin: &f.origin,
            server: &server,
            via_text: lookup.via.describe(&normalize_host(&server)),
            helper: lookup.via.helper().unwrap_or("").to_string(),
            path,
        };
        let mismatches = loaded.file.key_mismatches(&server, &registry_of(&server));
        if misspelt.is_none() && !mismatches.is_empty() {
            misspelt = Some((file.path.clone(), mismatches.clone()));
        }
        match resolve_stored(cx.ctx, &loaded, &server, process_bound(cx)).await {
            Err(e) => {
                cx.facts().docker_config_path = Some(file.path.clone());
                return file
                    .helper_failed(&e)
                    .evidence("auth_files", Value::from(looked));
            }
            Ok((_, None)) => continue,
            Ok((_, Some(stored))) => {
                let outcome = file
                    .stored(&stored)
                    .evidence("auth_files", Value::from(looked));
                {
                    let mut facts = cx.facts();
                    facts.docker_config_path = Some(file.path.clone());
                    facts.docker_stored_credential = Some(stored);
                }
                let path = &file.path;
                return with_key_finding(
                    cx.lang,
                    Kind::Podman,
                    outcome,
                    &mismatches,
                    &server,
                    path,
                    true,
                );
            }
        }
    }
    podman_nothing_stored(cx, &files, &server, looked, misspelt)
}

/// One auth file in the `auth_files` evidence.
fn looked_at(path: &str, origin: &str, exists: bool) -> Value {
    serde_json::json!({"path": path, "origin": origin, "exists": exists})
}

/// An auth file podman cannot parse: it stops with an error when it reads it.
fn podman_unreadable(lang: Lang, e: &ConfigError, path: &str, origin: &str) -> Outcome {
    let detail = lang.t(
        format!("{e}; podman stops with an error when it reads this file, so it cannot use any stored credential"),
        format!("{e}。podman はこのファイルを読むとエラーで停止するため、保存された資格情報を使えません"),
    );
    let fix = lang.t(
        format!("Fix the JSON in {path} (or move it away and run `podman login` again)"),
        format!("{path} の JSON を修正してください (または退避して `podman login` をやり直してください)"),
    );
    let finding = unreadable_finding(e, detail.clone(), path, Some(origin), fix);
    Outcome::warn(detail, finding)
}

/// One of Podman's auth files and what it says for the login server.
struct PodmanFile<'a> {
    lang: Lang,
    path: String,
    /// Why podman reads it (`REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`, ...).
    origin: &'a str,
    server: &'a str,
    via_text: String,
    helper: String,
}

impl PodmanFile<'_> {
    /// The credential helper this file names failed: podman cannot get the credential.
    fn helper_failed(&self, e: &HelperError) -> Outcome {
        let PodmanFile {
            lang,
            path,
            server,
            via_text,
            helper,
            ..
        } = self;
        let detail = lang.t(
            format!("{path} sets {via_text}; podman cannot get the credential for {server}: {e}"),
            format!("{path} は {via_text} を指定していますが、podman は {server} の資格情報を取得できません: {e}"),
        );
        let fix = lang.t(
            format!("Install docker-credential-{helper}, or remove {via_text} from {path}"),
            format!("docker-credential-{helper} をインストールするか、{path} から {via_text} を削除してください"),
        );
        let finding = helper_error_finding(detail.clone(), path, helper, e, fix);
        Outcome::fail(detail, finding)
    }

    /// The credential podman uses, from this file.
    fn stored(&self, stored: &StoredCredential) -> Outcome {
        let PodmanFile {
            path,
            origin,
            server,
            via_text,
            ..
        } = self;
        let kind = stored_kind_label(stored.kind);
        let user = &stored.username;
        let msg = self.lang.t(
            format!("{path} ({origin}): {kind} for {server} stored via {via_text} (user {user}); podman uses it"),
            format!("{path} ({origin}): {server} の {kind} が {via_text} に保存されています (ユーザー {user})。podman はこれを使います"),
        );
        Outcome::pass(msg)
            .evidence("path", path.clone())
            .evidence("origin", origin.to_string())
            .evidence("login_server", server.to_string())
            .evidence("store", via_text.clone())
            .evidence("stored_kind", kind)
            .evidence("stored_username", user.clone())
    }
}

/// No auth file stores a credential for the login server: the primary file becomes the fact,
/// and keys under another spelling (in the first file that has any) are reported.
fn podman_nothing_stored(
    cx: &CheckCx<'_>,
    files: &[PodmanAuthFile],
    server: &str,
    looked: Vec<Value>,
    misspelt: Option<(String, Vec<KeyMismatch>)>,
) -> Outcome {
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
    .evidence("login_server", server)
    .evidence("auth_files", Value::from(looked));
    match misspelt {
        Some((path, mismatches)) => with_key_finding(
            cx.lang,
            Kind::Podman,
            outcome,
            &mismatches,
            server,
            &path,
            false,
        ),
        None => outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CheckStatus;

    const SERVER: &str = "contosoreg.azurecr.io";
    const PATH: &str = "home/.docker/config.json";

    fn mismatch(key: &str, store: &'static str, why: &'static str, used: bool) -> KeyMismatch {
        KeyMismatch {
            key: key.into(),
            store,
            why,
            used,
        }
    }

    /// A passing docker config outcome with `mismatches`; `found`: something is stored under the
    /// right key.
    fn docker_pass_with(mismatches: &[KeyMismatch], found: bool) -> Outcome {
        with_key_finding(
            Lang::En,
            Kind::Docker,
            Outcome::pass("x"),
            mismatches,
            SERVER,
            PATH,
            found,
        )
    }

    fn parse_error() -> ConfigError {
        ConfigError::Parse {
            path: PATH.into(),
            line: 3,
            column: 7,
            message: "expected value".into(),
        }
    }

    #[test]
    fn an_unreadable_file_is_a_warning_with_the_parser_s_position() {
        let o = docker_unreadable(Lang::En, &parse_error(), PATH);
        assert_eq!(o.status, CheckStatus::Warn);
        let f = &o.findings[0];
        assert_eq!(f.code, Code::UNEXPECTED_ERROR);
        assert_eq!(f.severity, Some(Severity::Warning));
        assert_eq!(f.evidence["path"], PATH);
        assert_eq!(f.evidence["line"], 3);
        assert_eq!(f.evidence["column"], 7);
        assert!(!f.evidence.contains_key("origin"));
        assert_eq!(f.solution.len(), 1);

        let io = ConfigError::Io {
            path: PATH.into(),
            message: "denied".into(),
        };
        let o = podman_unreadable(Lang::En, &io, PATH, "REGISTRY_AUTH_FILE");
        let f = &o.findings[0];
        assert_eq!(f.code, Code::UNEXPECTED_ERROR);
        assert_eq!(f.evidence["origin"], "REGISTRY_AUTH_FILE");
        assert!(!f.evidence.contains_key("line"));
    }

    #[test]
    fn a_failing_helper_is_named_in_the_evidence() {
        let view = DockerView {
            lang: Lang::En,
            path: PATH.into(),
            exists: true,
            server: SERVER.into(),
            via_text: "credsStore desktop".into(),
            helper: "desktop".into(),
            auth_config: true,
        };
        let e = HelperError::NotFound("desktop".into());
        let o = view.helper_failed(&e);
        assert_eq!(o.status, CheckStatus::Fail);
        assert_eq!(o.evidence["login_server"], SERVER);
        assert_eq!(o.evidence["docker_auth_config"], true);
        let f = &o.findings[0];
        assert_eq!(f.code, Code::DOCKER_CREDENTIAL_HELPER_ERROR);
        assert_eq!(f.evidence["helper"], "docker-credential-desktop");
        assert_eq!(f.evidence["error"], e.to_string());

        let file = PodmanFile {
            lang: Lang::En,
            path: PATH.into(),
            origin: "REGISTRY_AUTH_FILE",
            server: SERVER,
            via_text: "credHelpers".into(),
            helper: "pass".into(),
        };
        let f = &file.helper_failed(&e).findings[0];
        assert_eq!(f.code, Code::DOCKER_CREDENTIAL_HELPER_ERROR);
        assert_eq!(f.evidence["helper"], "docker-credential-pass");
        assert_eq!(f.evidence["path"], PATH);
    }

    #[test]
    fn an_old_key_in_use_turns_a_pass_into_a_warning() {
        let m = [mismatch(
            "https://contosoreg.azurecr.io",
            "auths",
            "scheme_or_path",
            true,
        )];
        let o = docker_pass_with(&m, true);
        assert_eq!(o.status, CheckStatus::Warn);
        assert_eq!(
            o.evidence["key_mismatches"],
            serde_json::json!(["https://contosoreg.azurecr.io"])
        );
        let f = &o.findings[0];
        assert_eq!(f.code, Code::DOCKER_STALE_CREDENTIALS);
        assert_eq!(f.severity, Some(Severity::Warning));
        assert_eq!(f.evidence["key_mismatches"][0]["used"], true);
        assert_eq!(
            f.commands,
            vec![
                "docker logout 'https://contosoreg.azurecr.io'".to_string(),
                format!("docker login {SERVER}"),
            ]
        );
    }

    #[test]
    fn an_unused_old_key_beside_the_right_one_is_information() {
        let m = [mismatch(
            "ContosoReg.azurecr.io",
            "credHelpers",
            "letter_case",
            false,
        )];
        let o = docker_pass_with(&m, true);
        assert_eq!(o.status, CheckStatus::Pass);
        let f = &o.findings[0];
        assert_eq!(f.severity, Some(Severity::Info));
        // A helper key is renamed, not logged out.
        assert_eq!(f.solution.len(), 1);
        assert_eq!(f.commands, vec![format!("docker login {SERVER}")]);
        // Nothing under the right key: a warning.
        let o = docker_pass_with(&m, false);
        assert_eq!(o.status, CheckStatus::Warn);
        assert_eq!(o.findings[0].severity, Some(Severity::Warning));
        // No mismatch: the outcome as it was.
        let o = docker_pass_with(&[], false);
        assert!(o.findings.is_empty() && !o.evidence.contains_key("key_mismatches"));
    }

    #[test]
    fn podman_removes_a_key_with_a_scheme_by_hand() {
        let m = [
            mismatch(
                "https://contosoreg.azurecr.io",
                "auths",
                "scheme_or_path",
                false,
            ),
            mismatch("contosoreg", "auths", "resource_name", false),
        ];
        let f = key_finding(Lang::En, Kind::Podman, &m, SERVER, PATH, false);
        assert_eq!(f.solution.len(), 1);
        assert_eq!(
            f.commands,
            vec![
                format!("podman logout --authfile {PATH} 'contosoreg'"),
                format!("podman login {SERVER}"),
            ]
        );
    }

    #[test]
    fn the_resource_name_is_the_first_label() {
        assert_eq!(registry_of("contosoreg.azurecr.io"), "contosoreg");
        assert_eq!(registry_of("localhost:5000"), "localhost");
        assert_eq!(
            stored_kind_label(StoredKind::IdentityToken),
            "identity token"
        );
    }
}
