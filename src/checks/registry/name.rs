//! `registry.name`: which form the user gave (name, login server, URL), and whether it follows
//! ACR's rules.

use futures::future::BoxFuture;

use crate::catalogue::Code;
use crate::checks::{Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::finding::{RawFinding, Severity};
use crate::protocol::registry_name::{self, NameForm, NameProblem, RegistryName};

/// The cloud suffix for a parsed name: the one the user typed, else the cloud's.
fn suffix_for(cx: &CheckCx<'_>, parsed: &RegistryName) -> String {
    match &parsed.suffix {
        Some(s) => s.clone(),
        None => cx.cloud().acr_suffix().to_string(),
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
                let finding = RawFinding::new(Code::REGISTRY_NAME_INVALID, msg.clone())
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
            let finding = RawFinding::new(Code::REGISTRY_NAME_INVALID, format!("{msg}. {forms}."))
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
