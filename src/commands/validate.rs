//! Printed commands are checked, not trusted: a command line acr-doctor prints (in a finding, in
//! `explain`, in a triage answer, in the Markdown ticket) is tokenised as a POSIX shell would and
//! each command of it checked against its tool's documented syntax. `az` commands are checked
//! against a table of the options the real Azure CLI accepts (`tests/fixtures/az-commands.json`,
//! generated from `az <command> --help` by `scripts/gen-az-fixture.sh`); ABAC conditions against
//! the condition grammar and the attribute form ACR documents.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::protocol::abac_condition::{self, REPOSITORY_NAME_ATTRIBUTE};

/// The options one `az` command accepts.
#[derive(Debug, Clone, Deserialize)]
pub struct AzCommand {
    pub options: Vec<String>,
    #[serde(default)]
    pub required: Vec<String>,
}

/// The Azure CLI's commands and their options, as the fixture lists them.
#[derive(Debug, Clone, Deserialize)]
pub struct AzSpec {
    pub commands: BTreeMap<String, AzCommand>,
}

impl AzSpec {
    pub fn from_json(text: &str) -> Result<AzSpec, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// One word of a command line after quote removal, and whether any of it was quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub quoted: bool,
}

/// A command line split into simple commands at `|`, `&&`, `||` and `;`.
pub fn split(line: &str) -> Result<Vec<Vec<Word>>, String> {
    let mut commands = vec![Vec::new()];
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    let finish =
        |word: &mut String, in_word: &mut bool, quoted: &mut bool, cmds: &mut Vec<Vec<Word>>| {
            if *in_word {
                if let Some(last) = cmds.last_mut() {
                    last.push(Word {
                        text: std::mem::take(word),
                        quoted: *quoted,
                    });
                }
            }
            *in_word = false;
            *quoted = false;
        };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                quoted = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err("unclosed single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                quoted = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => word.push(ch),
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => return Err("unclosed double quote".into()),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err("unclosed double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(ch) => word.push(ch),
                    None => return Err("a line continuation: one command per line".into()),
                }
            }
            '|' | ';' | '&' => {
                finish(&mut word, &mut in_word, &mut quoted, &mut commands);
                if c == '&' && chars.peek() != Some(&'&') {
                    return Err("a background `&`".into());
                }
                if (c == '|' || c == '&') && chars.peek() == Some(&c) {
                    chars.next();
                }
                commands.push(Vec::new());
            }
            c if c.is_whitespace() => finish(&mut word, &mut in_word, &mut quoted, &mut commands),
            '#' if !in_word => return Err("a comment".into()),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    finish(&mut word, &mut in_word, &mut quoted, &mut commands);
    if commands.iter().any(Vec::is_empty) {
        return Err("an empty command around `|`, `&&` or `;`".into());
    }
    Ok(commands)
}

/// The `<placeholder>` names left in a command line.
pub fn placeholders(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        match after.find('>') {
            Some(end)
                if end > 0
                    && after[..end]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ' || c == '_') =>
            {
                out.push(after[..end].to_string());
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

/// What is wrong with `line`; empty when every command in it is valid.
pub fn problems(line: &str, az: &AzSpec) -> Vec<String> {
    let commands = match split(line) {
        Ok(c) => c,
        Err(e) => return vec![format!("{line}: {e}")],
    };
    let mut out = Vec::new();
    // `<app id>` pasted into a shell is a redirection from a file named `app`.
    for p in placeholders(line) {
        if p.contains(' ') {
            out.push(format!(
                "{line}: placeholder <{p}> has a space; write <{}>",
                p.replace(' ', "-")
            ));
        }
    }
    for words in &commands {
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        if let Err(e) = check_command(&texts, az) {
            out.push(format!("{line}: {e}"));
        }
    }
    out
}

fn check_command(words: &[&str], az: &AzSpec) -> Result<(), String> {
    let Some((&program, args)) = words.split_first() else {
        return Err("empty command".into());
    };
    match program {
        "az" => check_az(args, az),
        "docker" | "podman" => check_engine(program, args),
        "openssl" => check_openssl(args),
        "nslookup" => check_nslookup(args),
        "curl" => check_curl(args),
        "acr-doctor" => check_acr_doctor(args),
        "sudo" => check_command(args, az),
        "command" => match args {
            ["-v", name] if !name.is_empty() => Ok(()),
            _ => Err("`command -v NAME`".into()),
        },
        "systemctl" => check_systemctl(args),
        "usermod" => match args {
            ["-aG", group, user] if !group.is_empty() && !user.is_empty() => Ok(()),
            _ => Err("`usermod -aG GROUP USER`".into()),
        },
        "newgrp" | "unset" => one_arg(program, args),
        "export" => match args {
            [assign] if assign.split_once('=').is_some_and(|(n, _)| is_env_name(n)) => Ok(()),
            _ => Err("`export NAME=VALUE`".into()),
        },
        "env" if args.is_empty() => Ok(()),
        "grep" => match args {
            [flag, pattern] if flag.starts_with('-') && !pattern.is_empty() => Ok(()),
            [pattern] if !pattern.is_empty() => Ok(()),
            _ => Err("`grep [-i] PATTERN`".into()),
        },
        "set" => match args {
            ["+H"] => Ok(()),
            _ => Err("`set +H`".into()),
        },
        "helm" => match args {
            ["version"] => Ok(()),
            _ => Err("`helm version`".into()),
        },
        "kubectl" => match args {
            ["get", "nodes", rest @ ..] => rest
                .iter()
                .step_by(2)
                .all(|f| *f == "--label-columns" || *f == "-L")
                .then_some(())
                .ok_or_else(|| "kubectl get nodes takes --label-columns here".into()),
            ["run", ..] => check_kubectl_run(args),
            _ => Err("unexpected kubectl command".into()),
        },
        p if p.starts_with("docker-credential-") => match args {
            ["list"] | ["get"] | ["erase"] | ["store"] => Ok(()),
            _ => Err("a credential helper takes list, get, store or erase".into()),
        },
        other => Err(format!(
            "{other:?} is not a tool acr-doctor's commands may use"
        )),
    }
}

fn one_arg(program: &str, args: &[&str]) -> Result<(), String> {
    match args {
        [a] if !a.is_empty() => Ok(()),
        _ => Err(format!("`{program}` takes one argument")),
    }
}

fn is_env_name(n: &str) -> bool {
    !n.is_empty()
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !n.starts_with(|c: char| c.is_ascii_digit())
}

fn check_az(args: &[&str], az: &AzSpec) -> Result<(), String> {
    let path_len = args.iter().take_while(|a| !a.starts_with('-')).count();
    let (path, spec) = (0..=path_len)
        .rev()
        .find_map(|n| {
            let key = args[..n].join(" ");
            az.commands.get(&key).map(|s| (n, s))
        })
        .ok_or_else(|| {
            format!(
                "`az {}` is not a command in the Azure CLI fixture",
                args[..path_len].join(" ")
            )
        })?;
    if path < path_len {
        return Err(format!(
            "`az {}` takes no positional argument {:?}",
            args[..path].join(" "),
            args[path]
        ));
    }
    let rest = &args[path..];
    let mut given = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        let a = rest[i];
        if !a.starts_with('-') {
            return Err(format!("{a:?} does not follow an option"));
        }
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (a, None),
        };
        if !spec.options.iter().any(|o| o == name) {
            return Err(format!(
                "`az {}` has no option {name}",
                args[..path].join(" ")
            ));
        }
        given.push(name);
        // The value: the next words up to the next option (`--identities a b`).
        let mut values: Vec<&str> = inline.into_iter().collect();
        while i + 1 < rest.len() && !rest[i + 1].starts_with('-') {
            values.push(rest[i + 1]);
            i += 1;
        }
        if name == "--condition" {
            let [condition] = values[..] else {
                return Err("--condition takes one quoted condition".into());
            };
            check_condition(condition)?;
        }
        i += 1;
    }
    for req in &spec.required {
        if !given.iter().any(|g| g == req) && !aliases_given(spec, req, &given) {
            return Err(format!("`az {}` needs {req}", args[..path].join(" ")));
        }
    }
    if given.contains(&"--condition") && !given.contains(&"--condition-version") {
        return Err("--condition without --condition-version \"2.0\"".into());
    }
    Ok(())
}

/// Whether a short form of `req` was given. The fixture lists options, not which short form
/// belongs to which long one, so a short option of the same first letter counts.
fn aliases_given(spec: &AzCommand, req: &str, given: &[&str]) -> bool {
    let letter = req.trim_start_matches('-').chars().next();
    given.iter().any(|g| {
        g.len() == 2
            && g.starts_with('-')
            && spec.options.iter().any(|o| o == g)
            && g.chars().nth(1) == letter
    })
}

/// A role-assignment condition: the grammar, and the repository attribute in the form ACR
/// documents for data actions (`@Request[...repositories:name]`).
pub fn check_condition(condition: &str) -> Result<(), String> {
    abac_condition::parse(condition).map_err(|e| format!("condition does not parse: {e}"))?;
    if condition.contains(&format!("@Resource[{REPOSITORY_NAME_ATTRIBUTE}]")) {
        return Err(format!(
            "the repository name is a request attribute: @Request[{REPOSITORY_NAME_ATTRIBUTE}]"
        ));
    }
    if !condition.contains(&format!("@Request[{REPOSITORY_NAME_ATTRIBUTE}]")) {
        return Err("the condition does not name the repository attribute".into());
    }
    Ok(())
}

/// `HOST` or `HOST:PORT`: a host name without scheme or path, and at most one numeric port.
fn host_port(value: &str) -> Result<(&str, Option<&str>), String> {
    if value.contains("://") || value.contains('/') {
        return Err(format!("{value:?} is a URL, not a host"));
    }
    let (host, port) = match value.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (value, None),
    };
    if host.is_empty() {
        return Err(format!("{value:?} has no host"));
    }
    if let Some(p) = port {
        let placeholder = p.starts_with('<') && p.ends_with('>');
        if !placeholder && p.parse::<u16>().is_err() {
            return Err(format!("{value:?}: the port must be one number"));
        }
    }
    Ok((host, port))
}

fn check_openssl(args: &[&str]) -> Result<(), String> {
    let ["s_client", rest @ ..] = args else {
        return Err("only `openssl s_client` is used".into());
    };
    let mut connect = None;
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            "-connect" | "-servername" | "-CAfile" | "-proxy" => {
                let v = rest
                    .get(i + 1)
                    .ok_or_else(|| format!("{} needs a value", rest[i]))?;
                if rest[i] == "-connect" {
                    let (_, port) = host_port(v)?;
                    if port.is_none() {
                        return Err(format!("-connect {v}: HOST:PORT"));
                    }
                    connect = Some(*v);
                }
                if rest[i] == "-servername" && (v.contains(':') || v.contains('/')) {
                    return Err(format!("-servername {v}: a host name, without port"));
                }
                i += 2;
            }
            "-showcerts" | "-brief" => i += 1,
            other => return Err(format!("openssl s_client: unexpected {other:?}")),
        }
    }
    connect
        .map(|_| ())
        .ok_or_else(|| "s_client needs -connect".into())
}

fn check_nslookup(args: &[&str]) -> Result<(), String> {
    match args {
        [host] | [host, _] => {
            let (_, port) = host_port(host)?;
            if port.is_some() {
                return Err(format!("nslookup {host}: a name, without port"));
            }
            Ok(())
        }
        _ => Err("`nslookup NAME [SERVER]`".into()),
    }
}

/// `kubectl run NAME [--rm] [-it] [--restart=Never] --image=IMAGE -- nslookup NAME`: a throwaway
/// pod that resolves a name as the cluster's pods do.
fn check_kubectl_run(args: &[&str]) -> Result<(), String> {
    let ["run", name, rest @ ..] = args else {
        return Err("`kubectl run NAME ... -- COMMAND`".into());
    };
    if name.starts_with('-') || name.is_empty() {
        return Err("kubectl run: the pod name comes first".into());
    }
    let Some(split) = rest.iter().position(|a| *a == "--") else {
        return Err("kubectl run: `-- COMMAND` missing".into());
    };
    let (options, command) = (&rest[..split], &rest[split + 1..]);
    let mut image = false;
    for o in options {
        match *o {
            "--rm" | "-it" | "-i" | "-t" | "--restart=Never" => {}
            o if o.strip_prefix("--image=").is_some_and(|i| !i.is_empty()) => image = true,
            o => return Err(format!("kubectl run: unexpected option {o}")),
        }
    }
    if !image {
        return Err("kubectl run: --image=IMAGE missing".into());
    }
    match command {
        ["nslookup", host @ ..] => check_nslookup(host),
        _ => Err("kubectl run: only `-- nslookup NAME` is printed".into()),
    }
}

fn check_curl(args: &[&str]) -> Result<(), String> {
    let mut urls = 0;
    for a in args {
        if let Some(flags) = a.strip_prefix('-').filter(|f| !f.starts_with('-')) {
            if !flags.chars().all(|c| "sSIvfLk".contains(c)) {
                return Err(format!("curl: unexpected option {a}"));
            }
        } else if a.starts_with("--") {
            if !["--head", "--verbose", "--silent", "--show-error"].contains(a) {
                return Err(format!("curl: unexpected option {a}"));
            }
        } else {
            let Some(rest) = a.strip_prefix("https://") else {
                return Err(format!("curl {a}: an https:// URL"));
            };
            let authority = rest.split('/').next().unwrap_or("");
            host_port(authority)?;
            urls += 1;
        }
    }
    (urls == 1)
        .then_some(())
        .ok_or_else(|| "curl takes one URL here".into())
}

fn check_systemctl(args: &[&str]) -> Result<(), String> {
    let args = match args {
        ["--user", rest @ ..] => rest,
        rest => rest,
    };
    match args {
        ["start" | "restart" | "status" | "stop", unit] if !unit.is_empty() => Ok(()),
        ["show", prop, unit] if prop.starts_with("--property=") && !unit.is_empty() => Ok(()),
        _ => Err("unexpected systemctl command".into()),
    }
}

/// `docker` and `podman`: the subcommands acr-doctor prints, with their options.
fn check_engine(program: &str, args: &[&str]) -> Result<(), String> {
    let reference = |r: &str| -> Result<(), String> {
        if r.contains("://") {
            return Err(format!("{r:?}: an image reference has no scheme"));
        }
        Ok(())
    };
    let server = |s: &str| -> Result<(), String> { host_port(s).map(|_| ()) };
    match args {
        ["--version"] | ["version"] | ["info"] => Ok(()),
        ["info", "--format", f] if !f.is_empty() => Ok(()),
        ["login", s, rest @ ..] => {
            server(s)?;
            let mut i = 0;
            while i < rest.len() {
                match rest[i] {
                    "--username" | "-u" if i + 1 < rest.len() => i += 2,
                    "--password-stdin" => i += 1,
                    "--authfile" if program == "podman" && i + 1 < rest.len() => i += 2,
                    other => return Err(format!("{program} login: unexpected {other:?}")),
                }
            }
            Ok(())
        }
        ["login"] => Err(format!("{program} login needs the login server")),
        ["logout", s] => server(s),
        ["logout", "--authfile", file, s] if program == "podman" && !file.is_empty() => server(s),
        ["pull" | "push", r] => reference(r),
        ["tag", a, b] => reference(a).and(reference(b)),
        ["manifest", "inspect", r] => reference(r),
        ["context", "ls"] if program == "docker" => Ok(()),
        ["context", "use", name] if program == "docker" && !name.is_empty() => Ok(()),
        ["buildx", "imagetools", "inspect", r] if program == "docker" => reference(r),
        ["buildx", "build", rest @ ..] if program == "docker" => {
            let mut i = 0;
            while i < rest.len() {
                match rest[i] {
                    "--platform" | "--tag" | "-t" if i + 1 < rest.len() => i += 2,
                    "--push" | "." => i += 1,
                    other => return Err(format!("docker buildx build: unexpected {other:?}")),
                }
            }
            Ok(())
        }
        ["system", "connection", "list"] if program == "podman" => Ok(()),
        _ => Err(format!(
            "{program}: unexpected command {:?}",
            args.join(" ")
        )),
    }
}

fn check_acr_doctor(args: &[&str]) -> Result<(), String> {
    match args {
        ["check", rest @ ..] => crate::check_args(rest)
            .map(|_| ())
            .map_err(|e| format!("acr-doctor check: {}", e.kind())),
        ["explain", code] => crate::catalogue::lookup(code)
            .map(|_| ())
            .ok_or_else(|| format!("acr-doctor explain: unknown code {code}")),
        _ => Err("unexpected acr-doctor command".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> AzSpec {
        AzSpec::from_json(
            r#"{"commands": {
                "acr show": {"options": ["--name", "-n", "--query", "--output", "-o"], "required": ["--name"]},
                "role assignment create": {"options": ["--assignee", "--role", "--scope", "--condition", "--condition-version"], "required": ["--role", "--scope"]}
            }}"#,
        )
        .expect("spec")
    }

    #[test]
    fn kubectl_runs_only_a_lookup_pod() {
        assert!(check_kubectl_run(&[
            "run",
            "x",
            "--rm",
            "-it",
            "--restart=Never",
            "--image=busybox:1.36",
            "--",
            "nslookup",
            "r.azurecr.io"
        ])
        .is_ok());
        assert!(check_kubectl_run(&["run", "x", "--image=busybox", "--", "sh"]).is_err());
        assert!(check_kubectl_run(&["run", "x", "--", "nslookup", "r.azurecr.io"]).is_err());
        assert!(check_kubectl_run(&["delete", "pod", "x"]).is_err());
    }

    #[test]
    fn splits_like_a_shell() {
        let c = split(
            r#"az acr show --query "{a:b, c:d}" --output table | docker login x --password-stdin"#,
        )
        .expect("split");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0][4].text, "{a:b, c:d}");
        assert!(split("echo 'unclosed").is_err());
        assert!(split("a \\").is_err());
    }

    #[test]
    fn az_options_are_checked() {
        let az = spec();
        assert!(problems("az acr show --name r --query x -o tsv", &az).is_empty());
        assert!(!problems("az acr show --registry r", &az).is_empty());
        assert!(!problems("az acr shw --name r", &az).is_empty());
        assert!(
            !problems("az acr show --query x", &az).is_empty(),
            "required --name"
        );
        assert!(problems("az acr show -n r", &az).is_empty());
    }

    #[test]
    fn conditions_use_the_request_attribute() {
        let az = spec();
        let good = format!("az role assignment create --role \"Container Registry Repository Reader\" --scope s --assignee a --condition \"((!(ActionMatches{{'Microsoft.ContainerRegistry/registries/repositories/content/read'}})) OR (@Request[{REPOSITORY_NAME_ATTRIBUTE}] StringEqualsIgnoreCase 'app'))\" --condition-version \"2.0\"");
        assert!(
            problems(&good, &az).is_empty(),
            "{:?}",
            problems(&good, &az)
        );
        let resource = good.replace("@Request[", "@Resource[");
        assert!(!problems(&resource, &az).is_empty());
        let no_version = good.replace(" --condition-version \"2.0\"", "");
        assert!(!problems(&no_version, &az).is_empty());
    }

    #[test]
    fn openssl_has_one_port_and_a_bare_server_name() {
        let az = spec();
        assert!(problems(
            "openssl s_client -connect r.azurecr.io:443 -servername r.azurecr.io -showcerts",
            &az
        )
        .is_empty());
        assert!(!problems(
            "openssl s_client -connect h:8443:443 -servername h:8443",
            &az
        )
        .is_empty());
        assert!(!problems("openssl s_client -connect h:443 -servername h:8443", &az).is_empty());
        assert!(!problems("nslookup h:8443", &az).is_empty());
        assert!(problems("nslookup r.westeurope.data.azurecr.io", &az).is_empty());
    }

    #[test]
    fn placeholders_are_found() {
        assert_eq!(
            placeholders("nslookup <registry>.<region>.data.azurecr.io"),
            vec!["registry", "region"]
        );
        assert!(placeholders("a <= b").is_empty());
        assert!(!problems("az login --tenant <registry tenant>", &spec()).is_empty());
    }
}
