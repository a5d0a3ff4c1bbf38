//! The Docker CLI's configuration (`config.json`) and its credential stores, read the way the
//! docker CLI reads them, never written.
//!
//! Where a credential for a registry lives: `credHelpers[host]`, else `credsStore`, else the
//! `auths` entry (base64 `user:pass` in `auth`, or an `identitytoken`). `DOCKER_AUTH_CONFIG`
//! (the same JSON in an environment variable) is consulted before the file. Helpers speak the
//! docker-credential-helpers protocol: `docker-credential-<name> get` reads the server on stdin
//! and prints `{"ServerURL","Username","Secret"}`; errors come on stdout with a non-zero exit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use serde_json::Value;

use crate::redact::Secret;

/// The username docker stores (and ACR expects) with an ACR refresh token.
pub const EMPTY_GUID: &str = "00000000-0000-0000-0000-000000000000";
/// The username a credential helper returns when the secret is an identity token.
pub const TOKEN_USERNAME: &str = "<token>";
/// The message helpers print when nothing is stored for a server.
pub const NOT_FOUND: &str = "credentials not found in native keychain";
/// Largest config file acr-doctor reads.
const MAX_CONFIG: u64 = 8 * 1024 * 1024;

/// The parts of `config.json` that matter to a registry login.
#[derive(Debug, Clone, Default)]
pub struct DockerConfig {
    pub auths: BTreeMap<String, AuthEntry>,
    pub creds_store: Option<String>,
    pub cred_helpers: BTreeMap<String, String>,
    pub current_context: Option<String>,
    /// Keys are matched as Podman (containers/image) matches them, not as the docker CLI does.
    pub podman: bool,
}

/// One `auths` entry. Secrets are [`Secret`]s; register them before use.
#[derive(Debug, Clone, Default)]
pub struct AuthEntry {
    /// The key as written in the file (`https://myreg.azurecr.io`, `myreg.azurecr.io`, ...).
    pub key: String,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub identity_token: Option<Secret>,
    /// True when `auth` was present but not valid base64 `user:pass`.
    pub auth_malformed: bool,
}

/// Where the configuration was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// `<dir>/config.json` existed and was read.
    File(PathBuf),
    /// No file at this path: docker behaves as with an empty configuration.
    Missing(PathBuf),
}

impl ConfigSource {
    pub fn path(&self) -> &Path {
        match self {
            ConfigSource::File(p) | ConfigSource::Missing(p) => p,
        }
    }
}

/// A loaded configuration: the file's, plus `DOCKER_AUTH_CONFIG` when set.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub source: ConfigSource,
    /// The configuration directory (`DOCKER_CONFIG` or `~/.docker`): contexts live under it.
    pub dir: PathBuf,
    pub file: DockerConfig,
    /// `DOCKER_AUTH_CONFIG`, consulted before the file.
    pub env: Option<DockerConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("no home directory (HOME is not set) and DOCKER_CONFIG is not set")]
    NoHome,
    #[error("cannot read {path}: {message}")]
    Io { path: String, message: String },
    /// `path` is a file path, or `DOCKER_AUTH_CONFIG`.
    #[error("{path} is not valid JSON (line {line}, column {column}): {message}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// How the credential for a server is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// In the `auths` section of the file (or of `DOCKER_AUTH_CONFIG` when `from_env`).
    Auths { from_env: bool },
    /// Through the helper named by `credsStore`.
    CredsStore(String),
    /// Through the helper named by `credHelpers[host]`.
    CredHelper(String),
}

impl Via {
    /// The helper's name (`desktop` for `docker-credential-desktop`), if a helper is used.
    pub fn helper(&self) -> Option<&str> {
        match self {
            Via::CredsStore(h) | Via::CredHelper(h) => Some(h),
            Via::Auths { .. } => None,
        }
    }

    /// Human description: `credsStore "desktop"`, `credHelpers["x"] = "acr"`, `auths`.
    pub fn describe(&self, host: &str) -> String {
        match self {
            Via::Auths { from_env: false } => "auths".into(),
            Via::Auths { from_env: true } => "DOCKER_AUTH_CONFIG auths".into(),
            Via::CredsStore(h) => format!("credsStore \"{h}\""),
            Via::CredHelper(h) => format!("credHelpers[\"{host}\"] = \"{h}\""),
        }
    }
}

/// Where a server's credential would come from, and the `auths` entry when that is the store.
#[derive(Debug, Clone)]
pub struct StoreLookup {
    pub via: Via,
    /// The normalised host looked up.
    pub host: String,
    /// The matching `auths` entry (only for [`Via::Auths`]).
    pub entry: Option<AuthEntry>,
}

/// What kind of secret is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredKind {
    Password,
    /// An identity (refresh) token: `identitytoken`, or a helper's `<token>` username.
    IdentityToken,
}

/// A credential actually stored for a server.
#[derive(Debug, Clone)]
pub struct StoredCredential {
    pub host: String,
    pub via: Via,
    /// The username as stored (`<token>` and empty become [`EMPTY_GUID`] for identity tokens).
    pub username: String,
    pub secret: Secret,
    pub kind: StoredKind,
}

/// A helper that could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelperError {
    #[error("docker-credential-{0} was not found on PATH")]
    NotFound(String),
    #[error("docker-credential-{helper} could not start: {message}")]
    Spawn { helper: String, message: String },
    #[error("docker-credential-{helper} get did not answer within {bound:?}")]
    Timeout { helper: String, bound: Duration },
    #[error("docker-credential-{helper} get failed (exit {code}): {message}")]
    Failed {
        helper: String,
        code: String,
        message: String,
    },
    #[error(
        "docker-credential-{helper} get printed something that is not credential JSON: {message}"
    )]
    BadOutput { helper: String, message: String },
}

/// The configuration directory: `DOCKER_CONFIG`, else `<home>/.docker`.
pub fn config_dir(env: &BTreeMap<String, String>) -> Result<PathBuf, ConfigError> {
    let get = |k: &str| env.get(k).filter(|v| !v.is_empty());
    if let Some(dir) = get("DOCKER_CONFIG") {
        return Ok(PathBuf::from(dir));
    }
    get("HOME")
        .or_else(|| get("USERPROFILE"))
        .map(|h| Path::new(h).join(".docker"))
        .ok_or(ConfigError::NoHome)
}

impl DockerConfig {
    /// Loads `DOCKER_AUTH_CONFIG` and `<config dir>/config.json` from an environment.
    /// A missing file is an empty configuration (as for docker); a malformed one is an error.
    pub fn load(env: &BTreeMap<String, String>) -> Result<Loaded, ConfigError> {
        let dir = config_dir(env)?;
        let path = dir.join("config.json");
        let env_config = match env
            .get("DOCKER_AUTH_CONFIG")
            .filter(|v| !v.trim().is_empty())
        {
            Some(text) => Some(DockerConfig::parse(text, "DOCKER_AUTH_CONFIG")?),
            None => None,
        };
        let (source, file) = match DockerConfig::read_file(&path)? {
            None => (ConfigSource::Missing(path), DockerConfig::default()),
            Some(parsed) => (ConfigSource::File(path), parsed),
        };
        Ok(Loaded {
            source,
            dir,
            file,
            env: env_config,
        })
    }

    /// Reads and parses one config file; `Ok(None)` when there is no file at `path`.
    pub fn read_file(path: &Path) -> Result<Option<DockerConfig>, ConfigError> {
        let display = path.display().to_string();
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ConfigError::Io {
                path: display,
                message: e.to_string(),
            }),
            Ok(meta) if meta.len() > MAX_CONFIG => Err(ConfigError::Io {
                path: display,
                message: format!("larger than {MAX_CONFIG} bytes"),
            }),
            Ok(_) => {
                let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
                    path: display.clone(),
                    message: e.to_string(),
                })?;
                DockerConfig::parse(&text, &display).map(Some)
            }
        }
    }

    /// Parses config JSON tolerantly: unknown keys and wrongly typed values are ignored,
    /// only invalid JSON is an error. `origin` names the input in the error.
    pub fn parse(text: &str, origin: &str) -> Result<DockerConfig, ConfigError> {
        let value: Value = if text.trim().is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_str(text).map_err(|e| ConfigError::Parse {
                path: origin.to_string(),
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            })?
        };
        let s = |v: Option<&Value>| {
            v.and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let mut config = DockerConfig {
            creds_store: s(value.get("credsStore")),
            current_context: s(value.get("currentContext")),
            ..Default::default()
        };
        if let Some(helpers) = value.get("credHelpers").and_then(Value::as_object) {
            for (host, helper) in helpers {
                if let Some(h) = helper.as_str().filter(|h| !h.is_empty()) {
                    config.cred_helpers.insert(host.clone(), h.to_string());
                }
            }
        }
        if let Some(auths) = value.get("auths").and_then(Value::as_object) {
            for (key, entry) in auths {
                config
                    .auths
                    .insert(key.clone(), AuthEntry::from_json(key, entry));
            }
        }
        Ok(config)
    }

    /// Where the credential for `login_server` (`host[:port]`, with or without scheme) lives,
    /// as the engine looks it up: `credHelpers` by the exact key, else `credsStore`, else the
    /// `auths` entry of the exact key, else one whose key reduces to it (a scheme and path
    /// removed; letter case and port must match). docker/cli `GetAuthConfig`,
    /// `getConfiguredCredentialStore`, `fileStore.Get` and `ConvertToHostname`; containers/image
    /// `findCredentialsInFile` and `normalizeAuthFileKey`.
    pub fn store_for(&self, login_server: &str, from_env: bool) -> StoreLookup {
        let host = normalize_host(login_server);
        if let Some(helper) = self.cred_helpers.get(&host) {
            return StoreLookup {
                via: Via::CredHelper(helper.clone()),
                host,
                entry: None,
            };
        }
        if let Some(store) = &self.creds_store {
            return StoreLookup {
                via: Via::CredsStore(store.clone()),
                host,
                entry: None,
            };
        }
        let entry = self
            .auths
            .get(&host)
            .or_else(|| {
                self.auths
                    .iter()
                    .find(|(k, _)| self.engine_key(k) == host)
                    .map(|(_, v)| v)
            })
            .cloned();
        StoreLookup {
            via: Via::Auths { from_env },
            host,
            entry,
        }
    }

    /// What the engine reduces an `auths` key to before comparing it with the registry's host.
    fn engine_key(&self, key: &str) -> String {
        if self.podman {
            podman_auth_key(key)
        } else {
            docker_hostname(key)
        }
    }

    /// Keys of `auths` and `credHelpers` that name this registry in another spelling: letter
    /// case, a scheme or path, another port, the resource name instead of the login server.
    /// `registry` is the resource name.
    pub fn key_mismatches(&self, login_server: &str, registry: &str) -> Vec<KeyMismatch> {
        let host = normalize_host(login_server);
        let via = self.store_for(login_server, false);
        let mut out = Vec::new();
        let stores = self
            .auths
            .keys()
            .map(|k| (k, "auths"))
            .chain(self.cred_helpers.keys().map(|k| (k, "credHelpers")));
        for (key, store) in stores {
            if *key == host {
                continue;
            }
            let Some(why) = spelling_difference(key, &host, registry) else {
                continue;
            };
            // Whether the engine still finds this entry for the registry (auths only, and only
            // while no credential store takes the lookup).
            let used = store == "auths"
                && matches!(via.via, Via::Auths { .. })
                && !self.auths.contains_key(&host)
                && self.engine_key(key) == host;
            out.push(KeyMismatch {
                key: key.clone(),
                store,
                why,
                used,
            });
        }
        out
    }
}

/// A stored key that names the registry in a spelling the engine does not look up (or, for
/// `used`, looks up only through its fallback for old keys, which `docker logout <host>` does
/// not clear).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMismatch {
    pub key: String,
    /// `auths` or `credHelpers`.
    pub store: &'static str,
    /// `letter_case`, `scheme_or_path`, `port` or `resource_name`.
    pub why: &'static str,
    /// True when the engine still uses this entry for the registry.
    pub used: bool,
}

/// docker/cli `ConvertToHostname`: without `http(s)://` and anything from the first `/`;
/// letter case kept.
pub fn docker_hostname(key: &str) -> String {
    let s = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    s.split('/').next().unwrap_or(s).to_string()
}

/// containers/image `normalizeAuthFileKey` (current format): the path is cut only when a
/// scheme was removed; letter case kept. A key `host/path` without a scheme is a namespace key.
pub fn podman_auth_key(key: &str) -> String {
    match key
        .strip_prefix("http://")
        .or_else(|| key.strip_prefix("https://"))
    {
        Some(rest) => rest.split('/').next().unwrap_or(rest).to_string(),
        None => key.to_string(),
    }
}

/// Why `key` is another spelling of `host` (the registry's login server, lower case), if it is.
fn spelling_difference(key: &str, host: &str, registry: &str) -> Option<&'static str> {
    let bare = docker_hostname(key.trim());
    let has_extra = bare.len() != key.trim().len();
    let lower = bare.to_ascii_lowercase();
    let split = |h: &str| -> (String, Option<String>) {
        match h.rsplit_once(':') {
            Some((h, p)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => {
                (h.to_string(), Some(p.to_string()))
            }
            _ => (h.to_string(), None),
        }
    };
    let (key_host, key_port) = split(&lower);
    let (reg_host, reg_port) = split(host);
    let same_port = key_port == reg_port;
    if key_host == reg_host && same_port {
        if bare != lower {
            Some("letter_case")
        } else if has_extra {
            Some("scheme_or_path")
        } else {
            None
        }
    } else if key_host == reg_host {
        Some("port")
    } else if !registry.is_empty() && key_host == registry.to_ascii_lowercase() {
        Some("resource_name")
    } else {
        None
    }
}

impl Loaded {
    /// The path shown to users: the config file.
    pub fn path(&self) -> &Path {
        self.source.path()
    }

    /// Where the credential for `login_server` lives: `DOCKER_AUTH_CONFIG` first (when it
    /// has an entry for the host), then the file.
    pub fn stored_credential_for(&self, login_server: &str) -> StoreLookup {
        if let Some(env) = &self.env {
            let lookup = env.store_for(login_server, true);
            if lookup.via.helper().is_some() || lookup.entry.is_some() {
                return lookup;
            }
        }
        self.file.store_for(login_server, false)
    }
}

impl AuthEntry {
    fn from_json(key: &str, v: &Value) -> AuthEntry {
        let s = |name: &str| {
            v.get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let mut entry = AuthEntry {
            key: key.to_string(),
            username: s("username"),
            password: s("password").map(Secret::new),
            identity_token: s("identitytoken").map(Secret::new),
            auth_malformed: false,
        };
        if let Some(auth) = s("auth") {
            match decode_auth(&auth) {
                Some((user, pass)) => {
                    entry.username = Some(user);
                    entry.password = Some(Secret::new(pass));
                }
                None => entry.auth_malformed = true,
            }
        }
        entry
    }

    /// True when the entry holds nothing usable (docker writes `{}` placeholders with a helper).
    pub fn is_empty(&self) -> bool {
        self.password.is_none() && self.identity_token.is_none()
    }

    /// The stored credential of this entry, if it has one.
    pub fn credential(&self, host: &str, via: Via) -> Option<StoredCredential> {
        if let Some(token) = &self.identity_token {
            return Some(StoredCredential {
                host: host.to_string(),
                via,
                username: self
                    .username
                    .clone()
                    .filter(|u| u != TOKEN_USERNAME)
                    .unwrap_or_else(|| EMPTY_GUID.into()),
                secret: token.clone(),
                kind: StoredKind::IdentityToken,
            });
        }
        let password = self.password.clone()?;
        let username = self.username.clone().unwrap_or_default();
        let kind = if username == EMPTY_GUID {
            StoredKind::IdentityToken
        } else {
            StoredKind::Password
        };
        Some(StoredCredential {
            host: host.to_string(),
            via,
            username,
            secret: password,
            kind,
        })
    }
}

/// Decodes an `auth` value: base64 of `user:pass`.
pub fn decode_auth(auth: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// `https://MyReg.azurecr.io/v2/` -> `myreg.azurecr.io` (as docker's ConvertToHostname, lower case).
pub fn normalize_host(server: &str) -> String {
    let s = server.trim();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    s.split('/').next().unwrap_or(s).to_ascii_lowercase()
}

/// Parses a helper's `get` answer. `Ok(None)`: the helper says nothing is stored.
pub fn parse_helper_output(
    helper: &str,
    host: &str,
    via: Via,
    code: Option<i32>,
    stdout: &str,
    stderr: &str,
) -> Result<Option<StoredCredential>, HelperError> {
    let out = stdout.trim();
    if code != Some(0) {
        let message = if out.is_empty() { stderr.trim() } else { out };
        if message.contains(NOT_FOUND) {
            return Ok(None);
        }
        return Err(HelperError::Failed {
            helper: helper.to_string(),
            code: code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "signal".into()),
            message: first_line(message),
        });
    }
    if out.contains(NOT_FOUND) && !out.starts_with('{') {
        return Ok(None);
    }
    let value: Value = serde_json::from_str(out).map_err(|e| HelperError::BadOutput {
        helper: helper.to_string(),
        message: e.to_string(),
    })?;
    let field = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("");
    let secret = field("Secret");
    if secret.is_empty() {
        return Ok(None);
    }
    let username = field("Username");
    let (username, kind) = if username == TOKEN_USERNAME {
        (EMPTY_GUID.to_string(), StoredKind::IdentityToken)
    } else if username == EMPTY_GUID {
        (username.to_string(), StoredKind::IdentityToken)
    } else {
        (username.to_string(), StoredKind::Password)
    };
    Ok(Some(StoredCredential {
        host: host.to_string(),
        via,
        username,
        secret: Secret::new(secret),
        kind,
    }))
}

fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    line.chars().take(300).collect()
}

/// One file Podman (containers/image) reads credentials from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodmanAuthFile {
    pub path: PathBuf,
    /// Why this file is on the list: `REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR`, ...
    pub origin: String,
    /// The file `podman login` writes and `podman logout` edits by default.
    pub primary: bool,
}

/// The files Podman reads credentials from, in its order (containers/image): `REGISTRY_AUTH_FILE`
/// alone when it is set; otherwise `$XDG_RUNTIME_DIR/containers/auth.json` (or
/// `/run/containers/<uid>/auth.json`), then `$XDG_CONFIG_HOME/containers/auth.json` (default
/// `~/.config`), then the Docker config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`).
/// The first file with an entry for the registry wins; `credsStore` is not used by Podman.
pub fn podman_auth_files(env: &BTreeMap<String, String>) -> Vec<PodmanAuthFile> {
    let get = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let file = |path: PathBuf, origin: &str, primary: bool| PodmanAuthFile {
        path,
        origin: origin.to_string(),
        primary,
    };
    if let Some(f) = get("REGISTRY_AUTH_FILE") {
        return vec![file(PathBuf::from(f), "REGISTRY_AUTH_FILE", true)];
    }
    let mut out = Vec::new();
    if let Some(x) = get("XDG_RUNTIME_DIR") {
        out.push(file(
            Path::new(x).join("containers").join("auth.json"),
            "$XDG_RUNTIME_DIR",
            true,
        ));
    } else if let Some(uid) = own_uid() {
        out.push(file(
            PathBuf::from(format!("/run/containers/{uid}/auth.json")),
            "/run/containers/<uid>",
            true,
        ));
    }
    let home = get("HOME").or_else(|| get("USERPROFILE"));
    let config_home = get("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| home.map(|h| Path::new(h).join(".config")));
    if let Some(c) = config_home {
        let origin = if get("XDG_CONFIG_HOME").is_some() {
            "$XDG_CONFIG_HOME"
        } else {
            "~/.config"
        };
        out.push(file(c.join("containers").join("auth.json"), origin, false));
    }
    if let Some(d) = get("DOCKER_CONFIG") {
        out.push(file(
            Path::new(d).join("config.json"),
            "DOCKER_CONFIG",
            false,
        ));
    } else if let Some(h) = home {
        out.push(file(
            Path::new(h).join(".docker").join("config.json"),
            "Docker config",
            false,
        ));
    }
    out
}

/// This process's user id, from `/proc/self/status` (Linux only; no `unsafe` needed).
fn own_uid() -> Option<u32> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|u| u.parse().ok())
}

impl Loaded {
    /// One Podman auth file as a loaded configuration (Podman ignores `credsStore` and the
    /// `DOCKER_AUTH_CONFIG` variable). `Ok(None)`: no such file.
    pub fn podman_file(file: &PodmanAuthFile) -> Result<Option<Loaded>, ConfigError> {
        let Some(mut parsed) = DockerConfig::read_file(&file.path)? else {
            return Ok(None);
        };
        parsed.creds_store = None;
        parsed.podman = true;
        Ok(Some(Loaded {
            source: ConfigSource::File(file.path.clone()),
            dir: file
                .path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            file: parsed,
            env: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn auths_entries_decode_and_match_by_host() {
        let text = format!(
            r#"{{"auths":{{"https://myreg.azurecr.io":{{"auth":"{}"}},"other.azurecr.io":{{"identitytoken":"tok-123456"}}}},"currentContext":"remote"}}"#,
            b64("user1:pw-secret")
        );
        let c = DockerConfig::parse(&text, "x").expect("parse");
        assert_eq!(c.current_context.as_deref(), Some("remote"));
        let l = c.store_for("myreg.azurecr.io", false);
        assert_eq!(l.via, Via::Auths { from_env: false });
        let cred = l
            .entry
            .expect("entry")
            .credential("myreg.azurecr.io", l.via)
            .expect("cred");
        assert_eq!(cred.username, "user1");
        assert_eq!(cred.secret.expose(), "pw-secret");
        assert_eq!(cred.kind, StoredKind::Password);
        let l = c.store_for("other.azurecr.io", false);
        let cred = l
            .entry
            .expect("entry")
            .credential("other.azurecr.io", l.via)
            .expect("cred");
        assert_eq!(cred.kind, StoredKind::IdentityToken);
        assert_eq!(cred.username, EMPTY_GUID);
        assert!(c.store_for("absent.azurecr.io", false).entry.is_none());
    }

    #[test]
    fn keys_match_as_the_engines_match_them() {
        let text = format!(
            r#"{{"auths":{{"https://MyReg.azurecr.io/v2/":{{"auth":"{a}"}},"myreg.azurecr.io:443":{{"auth":"{a}"}},"myreg":{{"auth":"{a}"}},"https://myreg.azurecr.io/v2/":{{"auth":"{a}"}}}},"credHelpers":{{"MYREG.azurecr.io":"acr-env"}}}}"#,
            a = b64("user1:pw-secret")
        );
        let c = DockerConfig::parse(&text, "x").expect("parse");
        // Letter case and port count; a scheme and path are dropped (docker's legacy keys).
        let l = c.store_for("myreg.azurecr.io", false);
        assert_eq!(l.via, Via::Auths { from_env: false });
        assert_eq!(l.entry.expect("entry").key, "https://myreg.azurecr.io/v2/");
        let m = c.key_mismatches("myreg.azurecr.io", "myreg");
        let why = |k: &str| m.iter().find(|x| x.key == k).map(|x| (x.why, x.used));
        assert_eq!(
            why("https://MyReg.azurecr.io/v2/"),
            Some(("letter_case", false))
        );
        assert_eq!(
            why("https://myreg.azurecr.io/v2/"),
            Some(("scheme_or_path", true))
        );
        assert_eq!(why("myreg.azurecr.io:443"), Some(("port", false)));
        assert_eq!(why("myreg"), Some(("resource_name", false)));
        assert_eq!(why("MYREG.azurecr.io"), Some(("letter_case", false)));
        // Podman cuts a path only after a scheme.
        assert_eq!(
            podman_auth_key("myreg.azurecr.io/v2/"),
            "myreg.azurecr.io/v2/"
        );
        assert_eq!(
            podman_auth_key("https://myreg.azurecr.io/v2/"),
            "myreg.azurecr.io"
        );
    }

    #[test]
    fn helpers_take_precedence() {
        let c = DockerConfig::parse(
            r#"{"auths":{"a.azurecr.io":{}},"credsStore":"desktop","credHelpers":{"b.azurecr.io":"acr-env"}}"#,
            "x",
        )
        .expect("parse");
        assert_eq!(
            c.store_for("b.azurecr.io", false).via,
            Via::CredHelper("acr-env".into())
        );
        assert_eq!(
            c.store_for("a.azurecr.io", false).via,
            Via::CredsStore("desktop".into())
        );
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let err = DockerConfig::parse("{\n  \"auths\": {,\n}", "/h/.docker/config.json")
            .expect_err("must fail");
        match err {
            ConfigError::Parse { line, column, .. } => {
                assert_eq!(line, 2);
                assert!(column > 0);
            }
            other => panic!("unexpected {other:?}"),
        }
        // Wrong types are tolerated.
        let c = DockerConfig::parse(r#"{"auths":[],"credsStore":5}"#, "x").expect("tolerant");
        assert!(c.auths.is_empty() && c.creds_store.is_none());
    }

    #[test]
    fn helper_output_protocol() {
        let via = Via::CredsStore("x".into());
        let ok = parse_helper_output(
            "x",
            "h",
            via.clone(),
            Some(0),
            r#"{"ServerURL":"h","Username":"<token>","Secret":"eyJ.abc.def"}"#,
            "",
        )
        .expect("ok")
        .expect("some");
        assert_eq!(ok.kind, StoredKind::IdentityToken);
        assert_eq!(ok.username, EMPTY_GUID);
        let none = parse_helper_output("x", "h", via.clone(), Some(1), NOT_FOUND, "").expect("ok");
        assert!(none.is_none());
        let err = parse_helper_output("x", "h", via, Some(1), "", "exploded").expect_err("err");
        assert!(matches!(err, HelperError::Failed { ref message, .. } if message == "exploded"));
    }

    #[test]
    fn config_dir_prefers_docker_config() {
        let mut env = BTreeMap::new();
        env.insert("HOME".to_string(), "/home/u".to_string());
        assert_eq!(
            config_dir(&env).expect("dir"),
            PathBuf::from("/home/u/.docker")
        );
        env.insert("DOCKER_CONFIG".to_string(), "/etc/dk".to_string());
        assert_eq!(config_dir(&env).expect("dir"), PathBuf::from("/etc/dk"));
        assert_eq!(
            normalize_host("https://A.azurecr.io:5000/v2/"),
            "a.azurecr.io:5000"
        );
    }

    #[test]
    fn podman_reads_auth_files_in_its_order() {
        let env: BTreeMap<String, String> = [("HOME", "/h"), ("XDG_RUNTIME_DIR", "/run/user/1000")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let files = podman_auth_files(&env);
        let paths: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
        assert_eq!(
            paths,
            vec![
                "/run/user/1000/containers/auth.json",
                "/h/.config/containers/auth.json",
                "/h/.docker/config.json"
            ]
        );
        assert!(files[0].primary && !files[1].primary && !files[2].primary);
        let mut env2 = env.clone();
        env2.insert("REGISTRY_AUTH_FILE".into(), "/x/auth.json".into());
        let files = podman_auth_files(&env2);
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].origin, "REGISTRY_AUTH_FILE");
        let mut env3 = env;
        env3.insert("DOCKER_CONFIG".into(), "/d".into());
        env3.insert("XDG_CONFIG_HOME".into(), "/c".into());
        let paths: Vec<PathBuf> = podman_auth_files(&env3)
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(paths[1], PathBuf::from("/c/containers/auth.json"));
        assert_eq!(paths[2], PathBuf::from("/d/config.json"));
    }
}
