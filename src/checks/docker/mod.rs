//! Docker environment checks (`docker.*`): client, daemon, config, stored credentials, daemon-side
//! login; one file per check.
//!
//! Everything here reads; nothing writes the user's Docker config or credential store.

use std::time::Duration;

use super::CheckCx;
use crate::checks::LoginServer;
use crate::protocol::docker_config::normalize_host;

mod client;
mod config;
mod credentials;
mod daemon;
pub mod engine;
mod login;

pub use daemon::{classify_connect_error, daemon_error, ConnectProblem};

pub use client::Client;
pub use config::Config;
pub use credentials::Credentials;
pub use daemon::Daemon;
pub use login::Login;

/// Bound on a local subprocess (docker, helm, credential helpers).
pub(crate) fn process_bound(cx: &CheckCx<'_>) -> Duration {
    cx.ctx.timeout.min(Duration::from_secs(15))
}

/// The login server as `host[:port]`: the fact when known, else `--login-server`, else the
/// name with the cloud's suffix (docker looks credentials up by this key).
fn login_server_key(cx: &CheckCx<'_>) -> String {
    if let Some(ls) = cx.facts().login_server.as_ref() {
        return ls.authority();
    }
    if let Some(ls) = cx.args.login_server.as_deref() {
        return normalize_host(ls);
    }
    let name = cx.target.trim().to_ascii_lowercase();
    if name.contains('.') {
        return normalize_host(&name);
    }
    cx.cloud().login_server(&name)
}

/// The registry's Bearer challenge and the validated login server it belongs to: the
/// challenge from `registry.challenge`, or, when that check did not provide one, a `GET /v2/` of
/// our own on the validated login server (never on the raw flag), whose realm must pass the same
/// rule ([`crate::trust::realm_problem`]). Err: why there is none, and nothing was sent.
async fn challenge(cx: &CheckCx<'_>) -> Result<(crate::checks::Challenge, LoginServer), String> {
    let Some(ls) = cx.facts().login_server.clone() else {
        return Err(cx.t(
            "the login server was not validated (see registry.login_server)",
            "ログイン サーバーが検証されていません (registry.login_server を参照)",
        ));
    };
    if let Some(c) = cx.facts().challenge.clone() {
        return Ok((c, ls));
    }
    let url = format!("{}/v2/", ls.base_url());
    let resp = cx
        .ctx
        .send(cx.ctx.http().get(&url))
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if resp.status != 401 {
        return Err(format!(
            "GET {url} answered {} without a challenge",
            resp.status
        ));
    }
    let challenges = crate::protocol::challenge::parse_headers(resp.header_all("www-authenticate"))
        .map_err(|e| format!("GET {url}: malformed challenge: {e}"))?;
    let bearer = crate::protocol::challenge::bearer(&challenges)
        .ok_or_else(|| format!("GET {url}: no Bearer challenge"))?;
    let realm = bearer
        .param("realm")
        .filter(|r| !r.is_empty())
        .ok_or_else(|| format!("GET {url}: challenge without realm"))?;
    if let Some(problem) = crate::trust::realm_problem(&ls, realm) {
        return Err(format!("GET {url}: {problem}; nothing was sent to it"));
    }
    Ok((
        crate::checks::Challenge {
            realm: realm.to_string(),
            service: bearer.param("service").unwrap_or("").to_string(),
            scope: bearer.param("scope").map(str::to_string),
        },
        ls,
    ))
}

/// Parses the leading `major.minor.patch` of a version string (`v3.14.0+g1`, `18.03.1-ce`).
pub fn parse_version(text: &str) -> Option<(u64, u64, u64)> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let rest = &text[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let mut parts = rest[..end]
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("18.03.1-ce"), Some((18, 3, 1)));
        assert_eq!(
            parse_version("Docker version 28.2.2, build e6534b4"),
            Some((28, 2, 2))
        );
        assert_eq!(parse_version("v3.14.0+g3fc9f4b"), Some((3, 14, 0)));
        assert_eq!(parse_version("Client: v2.10.0+g9ad53aa"), Some((2, 10, 0)));
        assert_eq!(parse_version("no digits"), None);
        assert!(parse_version("17.12.0-ce").expect("v") < (18, 3, 0));
    }
}
