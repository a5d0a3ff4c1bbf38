//! Registry name and login server.

use futures::future::BoxFuture;

use super::{Check, CheckCx, Fact, Group, LoginServer, Meta, Outcome};
use crate::finding::{RawFinding, Severity};
use crate::protocol::registry_name::{self, NameForm, NameProblem, RegistryName};

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![Box::new(NameCheck), Box::new(LoginServerCheck)]
}

/// The cloud suffix for a parsed name: the one the user typed, else the cloud's.
fn suffix_for(cx: &CheckCx<'_>, parsed: &RegistryName) -> String {
    match &parsed.suffix {
        Some(s) => s.clone(),
        None => crate::checks::cloud(cx).acr_suffix().to_string(),
    }
}

fn describe(cx: &CheckCx<'_>, p: &NameProblem) -> String {
    match p {
        NameProblem::Empty => cx.t("the name is empty", "名前が空です"),
        NameProblem::UpperCase => cx.t(
            "it has upper-case letters (login servers and resource names are lower case)",
            "大文字が含まれています (ログイン サーバーとリソース名は小文字です)",
        ),
        NameProblem::LoginServerGiven => cx.t(
            "it is a login server, not the resource name",
            "リソース名ではなくログイン サーバーです",
        ),
        NameProblem::UrlGiven { scheme } => cx.t(
            format!("it is a URL ({scheme}://), not a name"),
            format!("名前ではなく URL ({scheme}://) です"),
        ),
        NameProblem::PathOrTag { extra } => cx.t(
            format!("a repository path or tag follows the name ({extra})"),
            format!("名前の後にリポジトリのパスまたはタグがあります ({extra})"),
        ),
        NameProblem::NotAcrSuffix { suffix } => cx.t(
            format!("{suffix} is not an Azure Container Registry suffix (.azurecr.io, .azurecr.cn, .azurecr.us)"),
            format!("{suffix} は Azure Container Registry のサフィックス (.azurecr.io、.azurecr.cn、.azurecr.us) ではありません"),
        ),
        NameProblem::TooShort { len } => cx.t(
            format!("it has {len} characters; ACR names have 5 to 50"),
            format!("{len} 文字です。ACR の名前は 5 〜 50 文字です"),
        ),
        NameProblem::TooLong { len } => cx.t(
            format!("it has {len} characters; ACR names have 5 to 50"),
            format!("{len} 文字です。ACR の名前は 5 〜 50 文字です"),
        ),
        NameProblem::BadCharacters { chars } => cx.t(
            format!("it contains {chars:?}; ACR names have letters and digits only"),
            format!("{chars:?} が含まれています。ACR の名前には英字と数字しか使えません"),
        ),
    }
}

/// `registry.name`: which form the user gave, and whether it follows ACR's rules.
pub struct NameCheck;

impl Check for NameCheck {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new("registry.name", Group::Registry, "name", "名前")
            .provides(&[Fact::RegistryName]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let parsed = registry_name::parse(cx.target);
            let problems: Vec<String> = parsed.problems.iter().map(|p| describe(cx, p)).collect();
            let with_evidence = |o: Outcome| {
                o.evidence("input", parsed.input.clone())
                    .evidence("form", parsed.form.as_str())
            };
            let Some(name) = parsed.name().map(str::to_string) else {
                let msg = cx.t(
                    format!(
                        "{:?} cannot be an ACR registry: {}",
                        cx.target,
                        problems.join("; ")
                    ),
                    format!(
                        "{:?} は ACR レジストリ名になりません: {}",
                        cx.target,
                        problems.join("、")
                    ),
                );
                let finding = RawFinding::new("REGISTRY_NAME_INVALID", msg.clone())
                    .evidence("input", parsed.input.clone())
                    .evidence("problems", problems.clone())
                    .step(cx.t(
                        "Copy the name from the portal or from `az acr list --query [].name -o tsv`.",
                        "ポータルまたは `az acr list --query [].name -o tsv` から名前をコピーしてください。",
                    ));
                return with_evidence(Outcome::fail(msg, finding));
            };
            cx.facts().registry_name = Some(name.clone());
            if parsed.is_clean() {
                return with_evidence(Outcome::pass(cx.t(
                    format!("{name}: a valid resource name"),
                    format!("{name}: 有効なリソース名です"),
                )));
            }
            let login_server = format!("{name}{}", suffix_for(cx, &parsed));
            let forms = cx.t(
                format!("`docker login` takes the login server `{login_server}` (lower case); `az acr login --name` takes the resource name `{name}`"),
                format!("`docker login` にはログイン サーバー `{login_server}` (小文字) を、`az acr login --name` にはリソース名 `{name}` を指定します"),
            );
            let only_login_server = parsed.form == NameForm::LoginServer
                && parsed
                    .problems
                    .iter()
                    .all(|p| matches!(p, NameProblem::LoginServerGiven));
            let msg = cx.t(
                format!(
                    "{:?} is a {}: {}; continuing with {name}",
                    cx.target,
                    parsed.form.as_str(),
                    problems.join("; ")
                ),
                format!(
                    "{:?} は {} です: {}。{name} として続行します",
                    cx.target,
                    parsed.form.as_str(),
                    problems.join("、")
                ),
            );
            let finding = RawFinding::new("REGISTRY_NAME_INVALID", format!("{msg}. {forms}."))
                .evidence("input", parsed.input.clone())
                .evidence("resource_name", name.clone())
                .evidence("login_server", login_server.clone())
                .evidence("problems", problems.clone())
                .command(format!("docker login {login_server}"))
                .command(format!("az acr login --name {name}"));
            if only_login_server {
                // acr-doctor accepts both forms: worth knowing, not a fault.
                let finding = finding.severity(Severity::Info);
                return with_evidence(Outcome::info(msg).finding(finding));
            }
            with_evidence(Outcome::warn(msg, finding.severity(Severity::Warning)))
        })
    }
}

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
            let cloud = crate::checks::cloud(cx);
            if let Some(flag) = &cx.args.login_server {
                let spec = match registry_name::parse_login_server(flag) {
                    Ok(s) => s,
                    Err(e) => {
                        let msg = cx.t(
                            format!("--login-server {flag:?} cannot be used: {e}"),
                            format!("--login-server {flag:?} は使用できません: {e}"),
                        );
                        let finding = RawFinding::new("LOGIN_SERVER_ERROR", msg.clone())
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
