//! `registry.login_server`: where the registry is reached (`--login-server`, the host given as
//! `--name`, or the name with the cloud's suffix).

use futures::future::BoxFuture;

use crate::catalogue::Code;
use crate::checks::{Check, CheckCx, Fact, Group, LoginServer, Meta, Outcome};
use crate::finding::RawFinding;
use crate::model::Cloud;
use crate::protocol::registry_name::{self, RegistryName};

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
        Box::pin(async move { login_server(cx) })
    }
}

/// `--login-server` first; else the host typed as `--name`; else the registry name with the
/// cloud's suffix.
fn login_server(cx: &CheckCx<'_>) -> Outcome {
    let name = cx.facts().registry_name.clone();
    let parsed = registry_name::parse(cx.target);
    let cloud = cx.cloud();
    if let Some(flag) = &cx.args.login_server {
        return from_flag(cx, flag, name.as_deref());
    }
    let Some(name) = name else {
        return Outcome::skip(cx.t(
            "no usable registry name and no --login-server",
            "使用できるレジストリ名も --login-server もありません",
        ));
    };
    // The user typed a login server or URL: use its host (and suffix) as given.
    if let (Some(host), false) = (parsed.host.clone(), parsed.name().is_none()) {
        return as_given(cx, host, &parsed, cloud);
    }
    from_suffix(cx, &name, cloud)
}

/// `--login-server HOST[:PORT]`: used as given, with a note on plain HTTP or a first label
/// that is not the registry name.
fn from_flag(cx: &CheckCx<'_>, flag: &str, name: Option<&str>) -> Outcome {
    let spec = match registry_name::parse_login_server(flag) {
        Ok(s) => s,
        Err(e) => {
            let msg = cx.t(
                format!("--login-server {flag:?} cannot be used: {e}"),
                format!("--login-server {flag:?} は使用できません: {e}"),
            );
            let finding = RawFinding::new(Code::LOGIN_SERVER_ERROR, msg.clone())
                .evidence("login_server_flag", flag.to_string())
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
    let notes = flag_notes(cx, &ls, name);
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
    outcome
        .evidence("login_server", ls.authority())
        .evidence("source", "flag")
}

/// What is unusual about a `--login-server`: plain HTTP, or an ACR host whose first label is
/// not the registry name.
fn flag_notes(cx: &CheckCx<'_>, ls: &LoginServer, name: Option<&str>) -> Vec<String> {
    let mut notes = Vec::new();
    if ls.scheme == "http" {
        notes.push(cx.t(
            "plain HTTP (allowed for loopback only)",
            "平文の HTTP (ループバックのみ許可)",
        ));
    }
    if let Some(n) = name {
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
    notes
}

/// `--name` was a host or URL: its host as given, noting a suffix other than the cloud's.
fn as_given(cx: &CheckCx<'_>, host: String, parsed: &RegistryName, cloud: Cloud) -> Outcome {
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
    Outcome::pass(msg)
        .evidence("login_server", ls.authority())
        .evidence("source", "name")
}

/// The registry name with the cloud's suffix.
fn from_suffix(cx: &CheckCx<'_>, name: &str, cloud: Cloud) -> Outcome {
    let ls = LoginServer {
        host: cloud.login_server(name),
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::with_test_cx;
    use crate::lang::Lang;
    use crate::report::CheckStatus;
    use serde_json::json;

    fn keys(o: &Outcome) -> Vec<&str> {
        o.evidence.keys().map(String::as_str).collect()
    }

    #[test]
    fn a_login_server_flag_is_used_as_given() {
        with_test_cx(&["--name", "reg"], Lang::En, |cx| {
            let o = from_flag(cx, "ftp://reg.azurecr.io", Some("reg"));
            assert_eq!(o.status, CheckStatus::Fail);
            let codes = o.codes();
            assert_eq!(codes, [Code::LOGIN_SERVER_ERROR]);
            assert_eq!(
                o.findings[0].evidence["login_server_flag"],
                json!("ftp://reg.azurecr.io")
            );
            assert!(cx.facts().login_server.is_none());

            let o = from_flag(cx, "reg.azurecr.io:8443", Some("reg"));
            assert_eq!(o.status, CheckStatus::Pass);
            assert_eq!(keys(&o), ["login_server", "source"]);
            assert_eq!(o.evidence["login_server"], json!("reg.azurecr.io:8443"));
            assert_eq!(o.evidence["source"], json!("flag"));
            let source = cx.facts().login_server.as_ref().map(|l| l.source.clone());
            assert_eq!(source.as_deref(), Some("flag"));

            // Another registry's host: noted, so the check only informs.
            let o = from_flag(cx, "other.azurecr.io", Some("reg"));
            assert_eq!(o.status, CheckStatus::Info);
            assert!(o.findings.is_empty());
        });
    }

    #[test]
    fn flag_notes_count_what_is_unusual() {
        with_test_cx(&["--name", "reg"], Lang::En, |cx| {
            let ls = |scheme: &str, host: &str| LoginServer {
                host: host.into(),
                port: None,
                scheme: scheme.into(),
                source: "flag".into(),
            };
            assert!(flag_notes(cx, &ls("https", "reg.azurecr.io"), Some("reg")).is_empty());
            assert!(flag_notes(cx, &ls("https", "gateway.example.com"), Some("reg")).is_empty());
            assert_eq!(flag_notes(cx, &ls("http", "127.0.0.1"), None).len(), 1);
            assert_eq!(
                flag_notes(cx, &ls("http", "other.azurecr.io"), Some("reg")).len(),
                2
            );
        });
    }

    #[test]
    fn the_name_decides_without_a_flag() {
        with_test_cx(&["--name", "reg"], Lang::En, |cx| {
            // No registry name: nothing to build a login server from.
            assert_eq!(login_server(cx).status, CheckStatus::Skip);
            cx.facts().registry_name = Some("reg".into());
            let o = login_server(cx);
            assert_eq!(o.status, CheckStatus::Pass);
            assert_eq!(keys(&o), ["cloud", "login_server", "source"]);
            assert_eq!(o.evidence["source"], json!("suffix"));
            assert_eq!(
                o.evidence["login_server"],
                json!(cx.cloud().login_server("reg"))
            );
        });
        with_test_cx(&["--name", "contosoreg.example.com:5000"], Lang::En, |cx| {
            cx.facts().registry_name = Some("contosoreg".into());
            let o = login_server(cx);
            assert_eq!(o.status, CheckStatus::Pass);
            assert_eq!(keys(&o), ["login_server", "source"]);
            assert_eq!(o.evidence["source"], json!("name"));
            assert_eq!(
                o.evidence["login_server"],
                json!("contosoreg.example.com:5000")
            );
        });
    }
}
