//! The engine's words: when the engine checked is Podman, the titles, steps and commands of a
//! report name Podman, never Docker. The catalogue and the checks write Docker's forms; this is
//! the one place that turns them into Podman's when the run checked Podman.

use crate::lang::Lang;

/// The engine a report speaks of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
}

impl Engine {
    /// From the `container_engine` fact's name (`docker` / `podman`); Docker when unknown.
    pub fn from_name(name: Option<&str>) -> Engine {
        match name {
            Some(n) if n.eq_ignore_ascii_case("podman") => Engine::Podman,
            _ => Engine::Docker,
        }
    }
}

/// The title of an engine check (`docker.*`) for a Podman run; `None` keeps the check's own.
pub fn podman_title(check_id: &str, lang: Lang) -> Option<&'static str> {
    let (en, ja) = match check_id {
        "docker.client" => ("podman client", "podman クライアント"),
        "docker.daemon" => ("podman service", "podman サービス"),
        "docker.config" => ("podman auth file", "podman 認証ファイル"),
        "docker.credentials" => ("stored podman credentials", "保存された podman 資格情報"),
        "docker.login" => ("service-side login", "サービス経由のログイン"),
        _ => return None,
    };
    Some(lang.pick(en, ja))
}

/// `docker` subcommands whose Podman form is the same words with `podman`.
const SAME_IN_PODMAN: &[&str] = &[
    "docker login",
    "docker logout",
    "docker pull",
    "docker push",
    "docker tag",
    "docker manifest inspect",
    "docker version",
    "docker --version",
    "command -v docker",
];

/// Docker-only commands with no one-line Podman equivalent: left out of a Podman report.
const DOCKER_ONLY: &[&str] = &[
    "docker context",
    "docker buildx",
    "docker info --format",
    "systemctl restart docker",
    "systemctl start docker",
    "systemctl show --property=Environment docker",
    "systemctl --user start docker",
    "systemctl --user status docker",
    "usermod -aG docker",
    "newgrp docker",
];

/// Phrases naming Docker's parts, and Podman's for the same part. Docker Hub, Docker Desktop
/// and Docker's documentation keep their names.
const PHRASES: &[(&str, &str)] = &[
    ("The Docker client", "The Podman client"),
    ("Docker client", "Podman client"),
    ("Docker クライアント", "Podman クライアント"),
    ("Docker daemon", "Podman service"),
    ("Docker Engine", "Podman"),
    ("Docker デーモン", "Podman サービス"),
    ("Docker credential helper", "Podman credential helper"),
    ("Docker の資格情報", "Podman の資格情報"),
    ("Docker credentials", "Podman credentials"),
    ("Docker config", "Podman auth file"),
    ("Docker 構成", "Podman 認証ファイル"),
    ("Docker sends", "Podman sends"),
    ("Docker が", "Podman が"),
    ("Docker は", "Podman は"),
];

/// `text` (a title, a step, anything with commands in backticks) with Docker's commands and
/// parts in Podman's words.
pub fn podman_text(text: &str) -> String {
    let mut out = text.to_string();
    for (from, to) in PHRASES {
        out = out.replace(from, to);
    }
    for from in SAME_IN_PODMAN {
        out = replace_words(&out, from, &from.replacen("docker", "podman", 1));
    }
    replace_words(&out, "docker info", "podman info")
}

/// `command` for a Podman run: Podman's words, `None` when the command is Docker-only.
/// `az acr login` signs in through the docker CLI; with Podman its token goes to `podman login`.
pub fn podman_command(command: &str, login_server: Option<&str>) -> Option<String> {
    if DOCKER_ONLY.iter().any(|d| command.contains(d)) {
        return None;
    }
    let trimmed = command.trim();
    if let Some(rest) = trimmed.strip_prefix("az acr login --name ") {
        if !rest.contains(' ') {
            let server = login_server.unwrap_or("<login-server>");
            return Some(format!(
                "az acr login --name {rest} --expose-token --output tsv --query accessToken | podman login {server} --username 00000000-0000-0000-0000-000000000000 --password-stdin"
            ));
        }
    }
    Some(podman_text(command))
}

/// Replaces `from` where it stands as words (not inside `docker-credential-…` or a path).
fn replace_words(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let before_ok = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '/' || c == '_'));
        let after = &rest[at + from.len()..];
        let after_ok = after
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '_'));
        out.push_str(&rest[..at]);
        if before_ok && after_ok {
            out.push_str(to);
        } else {
            out.push_str(from);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_commands_become_podman_commands() {
        assert_eq!(
            podman_text("Remove it with `docker logout r.azurecr.io`."),
            "Remove it with `podman logout r.azurecr.io`."
        );
        assert_eq!(
            podman_command("docker logout r.azurecr.io", None).as_deref(),
            Some("podman logout r.azurecr.io")
        );
        assert_eq!(podman_command("docker context ls", None), None);
        assert_eq!(
            podman_command("command -v docker-credential-desktop", None).as_deref(),
            Some("command -v docker-credential-desktop")
        );
        assert_eq!(
            podman_command("az acr login --name contosoreg", Some("c.azurecr.io")).as_deref(),
            Some("az acr login --name contosoreg --expose-token --output tsv --query accessToken | podman login c.azurecr.io --username 00000000-0000-0000-0000-000000000000 --password-stdin")
        );
        assert_eq!(podman_text("docker info"), "podman info");
    }
}
