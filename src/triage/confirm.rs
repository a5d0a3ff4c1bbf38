//! The command that would confirm a cause, filled in from the text: the registry and repository
//! it names, the operation (pull or push) and the image's tag near the match, a cluster node's
//! kubelet.

use std::sync::OnceLock;

use regex::Regex;

use super::data::{compile, CauseMessages};
use crate::catalogue::Code;

/// The registry resource name from the first `<name>.azurecr.io` host in the text.
pub fn registry_name(text: &str) -> Option<String> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let re = RE
        .get_or_init(|| {
            compile(r"\b([a-z0-9]{5,50})(?:\.[a-z0-9-]+)*?\.azurecr\.(?:io|cn|us)\b").ok()
        })
        .as_ref()?;
    re.captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_ascii_lowercase())
}

/// The repository from an image reference (`<host>/<repo>:<tag>`), a registry API URL
/// (`/v2/<repo>/manifests/…`) or a token scope (`repository:<repo>:pull`), in that order.
pub fn repository_name(text: &str) -> Option<String> {
    let [image, url, scope] = repository_forms(text);
    image.or(url).or(scope)
}

/// The first repository of each form in `text`: image reference, API URL, token scope.
const REPO: &str = r"[a-z0-9]+(?:(?:[._]|__|-+|/)[a-z0-9]+)*";
const LOGIN_HOST: &str = r"[a-z0-9]+(?:\.[a-z0-9-]+)*\.azurecr\.(?:io|cn|us)(?::\d+)?";

/// An image reference on a registry's login server: the repository (group 1) and what ends it
/// (group 2): `:TAG`, `@sha256:…`, or the `]` of "The push refers to repository [HOST/REPO]".
fn image_reference() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        compile(&format!(
            r"{LOGIN_HOST}/({REPO})(:[a-z0-9_][a-z0-9_.-]{{0,127}}|@sha256:[0-9a-f]{{64}}|\])"
        ))
        .ok()
    })
    .as_ref()
}

pub(super) fn repository_forms(text: &str) -> [Option<String>; 3] {
    struct Res {
        url: Regex,
        scope: Regex,
    }
    static RES: OnceLock<Option<Res>> = OnceLock::new();
    let (Some(image), Some(res)) = (
        image_reference(),
        RES.get_or_init(|| {
            Some(Res {
                url: compile(&format!(
                    r"{LOGIN_HOST}/v2/({REPO})/(?:manifests|blobs|tags)/"
                ))
                .ok()?,
                scope: compile(
                    r"repository(?::|%3A)([a-z0-9._/%-]+?)(?::|%3A)(?:pull|push|delete|\*|%2A)",
                )
                .ok()?,
            })
        })
        .as_ref(),
    ) else {
        return [None, None, None];
    };
    let image = image
        .captures_iter(text)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str())
        .find(|r| *r != "v2" && !r.starts_with("v2/"))
        .map(str::to_ascii_lowercase);
    let url = res
        .url
        .captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_ascii_lowercase());
    let scope = res.scope.captures(text).and_then(|c| c.get(1)).map(|m| {
        m.as_str()
            .replace("%2F", "/")
            .replace("%2f", "/")
            .to_ascii_lowercase()
    });
    [image, url, scope]
}

/// What the lines around a match say of the operation and the image: `docker push`, "Failed to
/// pull image", an image reference's tag.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Near {
    /// `pull` or `push`.
    operation: Option<&'static str>,
    /// The tag (or `@sha256:…` digest) of the repository's image reference.
    reference: Option<String>,
    /// The lines are a kubelet's (a pod's image pull on a cluster node).
    kubelet: bool,
}

impl Near {
    /// Reads the matched text first, then the context lines from the last one up.
    pub(super) fn read(matched: &str, context: &[String], repository: Option<&str>) -> Near {
        struct Res {
            push: Regex,
            pull: Regex,
            kubelet: Regex,
        }
        static RES: OnceLock<Option<Res>> = OnceLock::new();
        let Some(res) = RES
            .get_or_init(|| {
                Some(Res {
                    push: compile(r"\b(?:push(?:ing|ed)?|The push refers to)\b").ok()?,
                    pull: compile(r"\b(?:pull(?:ing|ed)?)\b").ok()?,
                    kubelet: compile(
                        r"Failed to pull image \x22|Back-off pulling image|\bErrImagePull\b|\bImagePullBackOff\b|\bkubelet\b",
                    )
                    .ok()?,
                })
            })
            .as_ref()
        else {
            return Near::default();
        };
        let mut near = Near::default();
        for text in std::iter::once(matched).chain(context.iter().rev().map(String::as_str)) {
            near.kubelet |= res.kubelet.is_match(text);
            if near.operation.is_none() {
                // A line that says both (a pull-through push) is read as neither.
                match (res.push.is_match(text), res.pull.is_match(text)) {
                    (true, false) => near.operation = Some("push"),
                    (false, true) => near.operation = Some("pull"),
                    _ => {}
                }
            }
            if near.reference.is_none() {
                near.reference = image_reference()
                    .into_iter()
                    .flat_map(|re| re.captures_iter(text))
                    .filter(|c| {
                        repository.is_none_or(|r| {
                            c.get(1).is_some_and(|m| m.as_str().eq_ignore_ascii_case(r))
                        })
                    })
                    // `]` ends a repository named without a tag.
                    .find_map(|c| c.get(2).filter(|m| m.as_str() != "]"))
                    .map(|m| m.as_str().to_ascii_lowercase());
            }
        }
        near
    }
}

/// The confirming command, with the repository's tag and the operation seen near the match.
pub(super) fn confirm_command_near(
    cause: &CauseMessages,
    registry: Option<&str>,
    repository: Option<&str>,
    near: &Near,
) -> String {
    let flags = cause.confirm;
    let with_reference = repository.map(|r| match &near.reference {
        Some(reference) => format!("{r}{reference}"),
        None => r.to_string(),
    });
    let mut command = confirm_command(flags, registry, with_reference.as_deref());
    if let Some(operation) = near.operation {
        if let Some(at) = command.find("--need ") {
            let value_at = at + "--need ".len();
            let end = command[value_at..]
                .find(' ')
                .map_or(command.len(), |i| value_at + i);
            command.replace_range(value_at..end, operation);
        }
    }
    // A pull that failed on a cluster node: `--aks` reads the cluster's kubelet identity and
    // network path through ARM.
    if near.kubelet && AKS_CAUSES.contains(&cause.code) && !command.contains("--aks") {
        // A node pulls as the kubelet identity, never anonymously on purpose: read that one.
        command = command.replace(" --auth anonymous", "");
        command.push_str(" --aks <cluster> --aks-resource-group <resource-group>");
        if !command.contains("--repository") {
            command.push_str(&format!(
                " --repository {}",
                repository.unwrap_or("<repository>")
            ));
        }
    }
    command
}

/// Causes of a pull on a cluster node that `--aks` can confirm from ARM: the kubelet
/// identity's rights and the cluster's path to the registry.
const AKS_CAUSES: &[&str] = &[
    Code::ANONYMOUS_PULL_DISABLED.as_str(),
    Code::RBAC_ROLE_MISSING.as_str(),
    Code::ABAC_LEGACY_ROLE_IGNORED.as_str(),
    Code::ABAC_CONDITION_EXCLUDES_REPOSITORY.as_str(),
    Code::REPOSITORY_PERMISSION_MISSING.as_str(),
    Code::CONNECTIVITY_ACCESS_TOKEN_ERROR.as_str(),
    Code::CONNECTIVITY_FORBIDDEN_ERROR.as_str(),
    Code::CONNECTIVITY_DNS_ERROR.as_str(),
    Code::CONNECTIVITY_CHALLENGE_ERROR.as_str(),
    Code::PRIVATE_ENDPOINT_DNS_ERROR.as_str(),
    Code::DATA_ENDPOINT_UNREACHABLE.as_str(),
];

pub(super) fn confirm_command(
    flags: &str,
    registry: Option<&str>,
    repository: Option<&str>,
) -> String {
    let registry = registry.unwrap_or("<registry>");
    let mut command = format!("acr-doctor check --name {registry}");
    if !flags.is_empty() {
        command.push(' ');
        command.push_str(
            &flags
                .replace("<registry>", registry)
                .replace("<repository>", repository.unwrap_or("<repository>")),
        );
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::triage;

    #[test]
    fn registry_and_repository_are_filled_in() {
        let r = triage(
            "Failed to pull image \"contosoreg.azurecr.io/team/web:1.2\": failed to resolve reference: \
             failed to authorize: failed to fetch anonymous token: unexpected status from GET request to \
             https://contosoreg.azurecr.io/oauth2/token?scope=repository%3Ateam%2Fweb%3Apull: 401 Unauthorized",
        );
        let c = &r.candidates[0];
        assert_eq!(c.code, "ANONYMOUS_PULL_DISABLED");
        assert_eq!(
            c.confirm,
            "acr-doctor check --name contosoreg --repository team/web:1.2 --need pull \
             --aks <cluster> --aks-resource-group <resource-group>"
        );
    }

    #[test]
    fn placeholders_stay_when_nothing_is_known() {
        let r = triage("unauthorized: Application not registered with AAD");
        assert_eq!(
            r.candidates[0].confirm,
            "acr-doctor check --name <registry> --username <app-id> --password-stdin"
        );
    }

    #[test]
    fn names_come_from_every_form() {
        assert_eq!(
            registry_name("Get https://MyReg01.azurecr.io/v2/"),
            Some("myreg01".into())
        );
        assert_eq!(
            registry_name("lookup abcde.westeurope.data.azurecr.io"),
            Some("abcde".into())
        );
        assert_eq!(registry_name("Get \"https://***.azurecr.io/v2/\""), None);
        assert_eq!(
            repository_name("Head https://abcde.azurecr.io/v2/app/api/manifests/v1"),
            Some("app/api".into())
        );
        assert_eq!(
            repository_name("pull abcde.azurecr.io/web@sha256:".to_string().as_str()),
            None
        );
        assert_eq!(
            repository_name("Get \"https://abcde.azurecr.io/v2/\": unauthorized"),
            None
        );
        assert_eq!(
            repository_name("scope=repository:base:pull"),
            Some("base".into())
        );
    }
}
