//! What the user typed as the registry: a resource name (`myregistry`), a login server
//! (`myregistry.azurecr.io[:port]`), a URL (`https://myregistry.azurecr.io/`), or any of these
//! with a repository path or tag pasted by mistake (`myregistry.azurecr.io/app:v1`).
//!
//! ACR resource names are 5 to 50 letters and digits; login servers are lower case.

/// ACR's login server suffixes, with their leading dot.
pub const ACR_SUFFIXES: &[&str] = &[".azurecr.io", ".azurecr.cn", ".azurecr.us"];

/// Which form the input has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameForm {
    /// `myregistry`
    ResourceName,
    /// `myregistry.azurecr.io` (with or without a port)
    LoginServer,
    /// `https://myregistry.azurecr.io`
    Url,
    /// A name or login server followed by a repository path or a tag.
    WithPath,
}

impl NameForm {
    pub fn as_str(self) -> &'static str {
        match self {
            NameForm::ResourceName => "resource name",
            NameForm::LoginServer => "login server",
            NameForm::Url => "URL",
            NameForm::WithPath => "name with a path or tag",
        }
    }
}

/// Something wrong with the input. [`NameProblem::is_fatal`] tells whether the intent is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    Empty,
    /// Upper-case letters (login servers and resource names are lower case).
    UpperCase,
    /// A login server was given where the resource name is expected.
    LoginServerGiven,
    /// A URL with this scheme was given.
    UrlGiven {
        scheme: String,
    },
    /// A repository path, tag or digest follows the name (`/app:v1`, `:latest`).
    PathOrTag {
        extra: String,
    },
    /// The host does not end in an ACR suffix.
    NotAcrSuffix {
        suffix: String,
    },
    /// Fewer than 5 characters.
    TooShort {
        len: usize,
    },
    /// More than 50 characters.
    TooLong {
        len: usize,
    },
    /// Characters other than letters and digits.
    BadCharacters {
        chars: String,
    },
}

impl NameProblem {
    /// True when no corrected form can be derived.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            NameProblem::Empty
                | NameProblem::TooShort { .. }
                | NameProblem::TooLong { .. }
                | NameProblem::BadCharacters { .. }
        )
    }
}

/// The input, classified and (when possible) corrected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryName {
    pub input: String,
    pub form: NameForm,
    /// The lower-case resource-name part, whether valid or not.
    pub candidate: String,
    /// Lower-case host when the input named one (`myregistry.azurecr.io`).
    pub host: Option<String>,
    pub port: Option<u16>,
    /// URL scheme, lower case, when a URL was given.
    pub scheme: Option<String>,
    /// Everything after the first label of the host, with its dot (`.azurecr.io`).
    pub suffix: Option<String>,
    pub problems: Vec<NameProblem>,
}

impl RegistryName {
    /// The corrected resource name, `None` when it cannot be corrected.
    pub fn name(&self) -> Option<&str> {
        (!self.problems.iter().any(NameProblem::is_fatal)).then_some(self.candidate.as_str())
    }

    /// The login server the input names, if it names one: `host[:port]`, lower case.
    pub fn login_server(&self) -> Option<String> {
        let host = self.host.as_ref()?;
        Some(match self.port {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        })
    }

    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks a resource name against ACR's rules (5-50 letters and digits; case is not checked).
pub fn rule_problems(name: &str) -> Vec<NameProblem> {
    let mut problems = Vec::new();
    let bad: String =
        name.chars()
            .filter(|c| !c.is_ascii_alphanumeric())
            .fold(String::new(), |mut acc, c| {
                if !acc.contains(c) {
                    acc.push(c);
                }
                acc
            });
    if !bad.is_empty() {
        problems.push(NameProblem::BadCharacters { chars: bad });
    }
    let len = name.chars().count();
    if len < 5 {
        problems.push(NameProblem::TooShort { len });
    } else if len > 50 {
        problems.push(NameProblem::TooLong { len });
    }
    problems
}

/// Classifies what the user typed.
pub fn parse(input: &str) -> RegistryName {
    let raw = input.trim();
    if raw.is_empty() {
        return RegistryName {
            input: input.to_string(),
            form: NameForm::ResourceName,
            candidate: String::new(),
            host: None,
            port: None,
            scheme: None,
            suffix: None,
            problems: vec![NameProblem::Empty],
        };
    }
    let mut problems = Vec::new();
    let mut form = NameForm::ResourceName;
    let (scheme, rest) = split_scheme(raw);
    if let Some(s) = &scheme {
        problems.push(NameProblem::UrlGiven { scheme: s.clone() });
        form = NameForm::Url;
    }
    let (authority, port, extra) = split_authority(rest);
    if !extra.is_empty() {
        problems.push(NameProblem::PathOrTag { extra });
        if form != NameForm::Url {
            form = NameForm::WithPath;
        }
    }
    if authority.chars().any(|c| c.is_ascii_uppercase()) {
        problems.push(NameProblem::UpperCase);
    }
    let lower = authority.to_ascii_lowercase();
    let lower = lower.trim_end_matches('.');
    let (candidate, host, suffix) = split_host(lower, port, &mut form, &mut problems);
    problems.extend(rule_problems(&candidate));
    RegistryName {
        input: input.to_string(),
        form,
        candidate,
        host,
        port,
        scheme,
        suffix,
        problems,
    }
}

/// A URL's scheme (lower case) and what follows `://`; no scheme, the whole input.
fn split_scheme(raw: &str) -> (Option<String>, &str) {
    match raw.split_once("://") {
        Some((s, after)) => (Some(s.to_ascii_lowercase()), after),
        None => (None, raw),
    }
}

/// The authority (the host as typed), its port, and what came after the name: a path
/// (repository), a digest or tag, or a port that is not one, as typed.
fn split_authority(rest: &str) -> (&str, Option<u16>, String) {
    // A path (repository) after the first slash.
    let (mut authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, p),
        None => (rest, ""),
    };
    let mut extra = String::new();
    if !path.trim_matches('/').is_empty() {
        extra.push('/');
        extra.push_str(path.trim_end_matches('/'));
    }
    // A digest or tag right after the name (`myregistry@sha256:..`, `myregistry:latest`).
    if let Some((a, digest)) = authority.split_once('@') {
        extra.insert_str(0, &format!("@{digest}"));
        authority = a;
    }
    let mut port = None;
    if let Some((a, after)) = authority.rsplit_once(':') {
        if !after.is_empty() && after.bytes().all(|b| b.is_ascii_digit()) {
            match after.parse::<u16>() {
                Ok(p) => port = Some(p),
                Err(_) => extra.insert_str(0, &format!(":{after}")),
            }
        } else {
            extra.insert_str(0, &format!(":{after}"));
        }
        authority = a;
    }
    (authority, port, extra)
}

/// The resource name, host and DNS suffix in the lower-cased authority: a dotted name or a
/// name with a port is a login server (the form becomes one unless it is a URL or has a path).
fn split_host(
    lower: &str,
    port: Option<u16>,
    form: &mut NameForm,
    problems: &mut Vec<NameProblem>,
) -> (String, Option<String>, Option<String>) {
    match lower.split_once('.') {
        Some((first, tail)) => {
            let suffix = format!(".{tail}");
            if !ACR_SUFFIXES.iter().any(|s| suffix.ends_with(s)) {
                problems.push(NameProblem::NotAcrSuffix {
                    suffix: suffix.clone(),
                });
            }
            if *form == NameForm::ResourceName {
                *form = NameForm::LoginServer;
            }
            problems.push(NameProblem::LoginServerGiven);
            (first.to_string(), Some(lower.to_string()), Some(suffix))
        }
        None => {
            if port.is_some() && *form == NameForm::ResourceName {
                // `myregistry:5000` is a host with a port.
                *form = NameForm::LoginServer;
                problems.push(NameProblem::LoginServerGiven);
                (lower.to_string(), Some(lower.to_string()), None)
            } else if *form == NameForm::Url {
                (lower.to_string(), Some(lower.to_string()), None)
            } else {
                (lower.to_string(), None, None)
            }
        }
    }
}

/// A `--login-server` value: `HOST[:PORT]`, `https://HOST[:PORT]`, or `http://` for loopback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginServerSpec {
    /// `https` or `http`.
    pub scheme: String,
    /// Lower case, without brackets for IPv6.
    pub host: String,
    pub port: Option<u16>,
}

/// Why a `--login-server` value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginServerError {
    #[error("no host name")]
    NoHost,
    #[error("scheme {0:?} is not https")]
    Scheme(String),
    #[error("plain http is allowed for loopback addresses only, not {0:?}")]
    HttpNotLoopback(String),
    #[error("{0:?} is not a port number")]
    BadPort(String),
    #[error("a login server has no path ({0:?})")]
    Path(String),
    #[error("{0:?} is not allowed in a host name")]
    BadHost(String),
}

/// True for `localhost`, `*.localhost` and loopback addresses.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.to_ascii_lowercase().ends_with(".localhost")
        || h.parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// Parses `--login-server`.
pub fn parse_login_server(value: &str) -> Result<LoginServerSpec, LoginServerError> {
    let v = value.trim();
    let (scheme, rest) = match v.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("https".to_string(), v),
    };
    if scheme != "https" && scheme != "http" {
        return Err(LoginServerError::Scheme(scheme));
    }
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, p),
        None => (rest, ""),
    };
    if !path.trim_matches('/').is_empty() {
        return Err(LoginServerError::Path(format!("/{path}")));
    }
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let (h, after) = inner.split_once(']').ok_or(LoginServerError::NoHost)?;
        let port = after.strip_prefix(':');
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| LoginServerError::BadPort(p.to_string()))?,
        ),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Err(LoginServerError::NoHost);
    }
    if let Some(c) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '.' || *c == '-' || *c == ':'))
    {
        return Err(LoginServerError::BadHost(c.to_string()));
    }
    if scheme == "http" && !is_loopback_host(&host) {
        return Err(LoginServerError::HttpNotLoopback(host));
    }
    Ok(LoginServerSpec { scheme, host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_resource_name_is_clean() {
        let n = parse("contosoreg");
        assert_eq!(n.form, NameForm::ResourceName);
        assert!(n.is_clean());
        assert_eq!(n.name(), Some("contosoreg"));
        assert_eq!(n.login_server(), None);
    }

    #[test]
    fn upper_case_is_flagged_and_corrected() {
        let n = parse("ContosoReg");
        assert_eq!(n.problems, vec![NameProblem::UpperCase]);
        assert_eq!(n.name(), Some("contosoreg"));
    }

    #[test]
    fn login_server_with_and_without_port() {
        let n = parse("contosoreg.azurecr.io");
        assert_eq!(n.form, NameForm::LoginServer);
        assert_eq!(n.problems, vec![NameProblem::LoginServerGiven]);
        assert_eq!(n.name(), Some("contosoreg"));
        assert_eq!(n.suffix.as_deref(), Some(".azurecr.io"));
        let n = parse("contosoreg.azurecr.cn:8443");
        assert_eq!(n.port, Some(8443));
        assert_eq!(
            n.login_server().as_deref(),
            Some("contosoreg.azurecr.cn:8443")
        );
    }

    #[test]
    fn url_with_path_and_tag() {
        let n = parse("https://ContosoReg.azurecr.io/app/web:v1");
        assert_eq!(n.form, NameForm::Url);
        assert_eq!(n.scheme.as_deref(), Some("https"));
        assert!(n.problems.contains(&NameProblem::UpperCase));
        assert!(n.problems.contains(&NameProblem::PathOrTag {
            extra: "/app/web:v1".into()
        }));
        assert_eq!(n.name(), Some("contosoreg"));
        assert_eq!(n.login_server().as_deref(), Some("contosoreg.azurecr.io"));
        // A trailing slash alone is not a path.
        let n = parse("https://contosoreg.azurecr.io/");
        assert!(!n
            .problems
            .iter()
            .any(|p| matches!(p, NameProblem::PathOrTag { .. })));
    }

    #[test]
    fn pasted_image_references() {
        let n = parse("contosoreg.azurecr.io/app:latest");
        assert_eq!(n.form, NameForm::WithPath);
        assert_eq!(n.name(), Some("contosoreg"));
        let n = parse("contosoreg:latest");
        assert_eq!(n.form, NameForm::WithPath);
        assert_eq!(
            n.problems,
            vec![NameProblem::PathOrTag {
                extra: ":latest".into()
            }]
        );
        assert_eq!(n.name(), Some("contosoreg"));
        let n = parse("contosoreg/app@sha256:abc");
        assert_eq!(n.form, NameForm::WithPath);
        assert_eq!(n.name(), Some("contosoreg"));
    }

    #[test]
    fn rule_breakers_cannot_be_corrected() {
        assert_eq!(
            parse("my-registry").problems,
            vec![NameProblem::BadCharacters { chars: "-".into() }]
        );
        assert_eq!(parse("my-registry").name(), None);
        assert_eq!(
            parse("reg").problems,
            vec![NameProblem::TooShort { len: 3 }]
        );
        assert_eq!(parse(&"a".repeat(51)).name(), None);
        assert_eq!(parse(&"a".repeat(50)).name(), Some("a".repeat(50).as_str()));
        assert_eq!(parse("  ").problems, vec![NameProblem::Empty]);
        assert_eq!(parse("my_reg.azurecr.io").name(), None);
    }

    #[test]
    fn foreign_host_is_flagged() {
        let n = parse("registry.contoso.com");
        assert!(n.problems.contains(&NameProblem::NotAcrSuffix {
            suffix: ".contoso.com".into()
        }));
        assert_eq!(n.host.as_deref(), Some("registry.contoso.com"));
    }
    #[test]
    fn login_server_flag() {
        let s = parse_login_server("ContosoReg.azurecr.io:8443").unwrap();
        assert_eq!(
            (s.scheme.as_str(), s.host.as_str(), s.port),
            ("https", "contosoreg.azurecr.io", Some(8443))
        );
        let s = parse_login_server("https://contosoreg.azurecr.io/").unwrap();
        assert_eq!(s.port, None);
        let s = parse_login_server("http://127.0.0.1:5000").unwrap();
        assert_eq!(s.scheme, "http");
        let s = parse_login_server("http://[::1]:5000").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("::1", Some(5000)));
        assert_eq!(
            parse_login_server("http://contosoreg.azurecr.io"),
            Err(LoginServerError::HttpNotLoopback(
                "contosoreg.azurecr.io".into()
            ))
        );
        assert!(matches!(
            parse_login_server("ftp://x"),
            Err(LoginServerError::Scheme(_))
        ));
        assert!(matches!(
            parse_login_server("x.azurecr.io:http"),
            Err(LoginServerError::BadPort(_))
        ));
        assert!(matches!(
            parse_login_server("x.azurecr.io/v2/"),
            Err(LoginServerError::Path(_))
        ));
        assert!(matches!(
            parse_login_server("https://"),
            Err(LoginServerError::NoHost)
        ));
        assert!(matches!(
            parse_login_server("a b"),
            Err(LoginServerError::BadHost(_))
        ));
    }
}

/// The distribution spec's repository name grammar: lower-case path components of
/// `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`, separated by `/`, 255 characters at most.
/// Err: why the name cannot be a repository (it would change the request's path otherwise).
pub fn check_repository(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty".into());
    }
    if name.len() > 255 {
        return Err(format!("{} characters; at most 255", name.len()));
    }
    if let Some((_, tag)) = name.rsplit_once(':') {
        if !tag.contains('/') {
            return Err(format!(
                "give the repository without a tag or digest (\":{tag}\" is not part of a repository name)"
            ));
        }
    }
    for component in name.split('/') {
        if !repository_component(component) {
            let bad: Vec<char> = component
                .chars()
                .filter(|c| {
                    !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
                })
                .collect();
            return Err(if component.is_empty() {
                "a path component is empty (leading, trailing or double `/`)".to_string()
            } else if let Some(c) = bad.first() {
                format!(
                    "{c:?} is not allowed: repository names use lower-case letters, digits, `.`, `_`, `-` and `/`"
                )
            } else {
                format!(
                    "{component:?} must start and end with a letter or digit, with single `.`, `_` or `__`, or runs of `-`, between them"
                )
            });
        }
    }
    Ok(())
}

/// What `--repository` names: a repository, optionally with a tag (`app:1.0`) or a digest
/// (`app@sha256:…`), or both (`app:1.0@sha256:…`, where the digest decides, as Docker does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// What the registry is asked for: the digest when given, else the tag.
    pub fn reference(&self) -> Option<&str> {
        self.digest.as_deref().or(self.tag.as_deref())
    }

    /// `app:1.0`, `app@sha256:…` or `app`, as `az acr repository ... --image` takes it.
    pub fn image(&self) -> String {
        match (&self.tag, &self.digest) {
            (_, Some(d)) => format!("{}@{d}", self.repository),
            (Some(t), None) => format!("{}:{t}", self.repository),
            (None, None) => self.repository.clone(),
        }
    }
}

/// The repository part of a `--repository` value (everything before the first `:` or `@`,
/// neither of which a repository name may hold).
pub fn repository_part(value: &str) -> &str {
    value.split([':', '@']).next().unwrap_or(value)
}

/// Parses `--repository`: `REPO`, `REPO:TAG`, `REPO@DIGEST` or `REPO:TAG@DIGEST`.
/// Err: why it cannot be used, in words that say what to type instead.
pub fn parse_image_ref(value: &str) -> Result<ImageRef, String> {
    let (rest, digest) = match value.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (value, None),
    };
    let (repository, tag) = match rest.split_once(':') {
        Some((r, t)) => (r, Some(t)),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        if tag.contains('/') {
            return Err(format!(
                "{:?} looks like a registry host and port; give the repository path only (without the host)",
                format!("{repository}:{}", tag.split('/').next().unwrap_or(tag))
            ));
        }
    }
    // A pasted image reference: `contosoreg.azurecr.io/app:1.0`.
    if let Some((first, after)) = repository.split_once('/') {
        if first.contains('.') && ACR_SUFFIXES.iter().any(|s| first.ends_with(s)) {
            return Err(format!(
                "{first:?} is the registry's login server, not part of the repository: give {after:?} (the registry goes to --name)"
            ));
        }
    }
    check_repository(repository)?;
    if let Some(tag) = tag {
        check_tag(tag)?;
    }
    if let Some(digest) = digest {
        check_digest(digest)?;
    }
    Ok(ImageRef {
        repository: repository.to_string(),
        tag: tag.map(str::to_string),
        digest: digest.map(str::to_string),
    })
}

/// A tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}` (the distribution spec's grammar; tags keep
/// their letter case).
pub fn check_tag(tag: &str) -> Result<(), String> {
    if tag.is_empty() {
        return Err("nothing follows `:`; give a tag (`app:1.0`) or leave the `:` out".into());
    }
    if tag.len() > 128 {
        return Err(format!("the tag has {} characters; at most 128", tag.len()));
    }
    if let Some(c) = tag
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "{c:?} is not allowed in a tag: tags use letters, digits, `_`, `.` and `-`"
        ));
    }
    if tag.starts_with(['.', '-']) {
        return Err(format!(
            "the tag {tag:?} must start with a letter, a digit or `_`"
        ));
    }
    Ok(())
}

/// A digest: `sha256:` and 64, or `sha512:` and 128, lower-case hexadecimal digits.
pub fn check_digest(digest: &str) -> Result<(), String> {
    let Some((alg, hex)) = digest.split_once(':') else {
        return Err(format!(
            "{digest:?} is not a digest: write `@sha256:` followed by 64 hexadecimal digits"
        ));
    };
    let len = match alg {
        "sha256" => 64,
        "sha512" => 128,
        _ => {
            return Err(format!(
                "digest algorithm {alg:?} is not one a registry uses: write `@sha256:` followed by 64 hexadecimal digits"
            ))
        }
    };
    if hex.len() != len
        || !hex
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    {
        return Err(format!(
            "a {alg} digest is {len} lower-case hexadecimal digits after `{alg}:` (got {} characters)",
            hex.len()
        ));
    }
    Ok(())
}

fn repository_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator: `.`, `_`, `__` or one or more `-`.
        let start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i == start || i >= b.len() || !alnum(b[i]) {
            return false;
        }
    }
    true
}

/// A tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`) or a digest (`algorithm:hex`) as a registry
/// returns them: only such a reference goes into a request path.
pub fn is_reference(r: &str) -> bool {
    let tag = !r.is_empty()
        && r.len() <= 128
        && r.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && r.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    let digest = r.split_once(':').is_some_and(|(alg, hex)| {
        !alg.is_empty()
            && alg.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '.' | '_' | '-')
            })
            && hex.len() >= 32
            && hex.chars().all(|c| c.is_ascii_hexdigit())
    });
    tag || digest
}

#[cfg(test)]
mod repository_tests {
    use super::*;

    #[test]
    fn repository_names_follow_the_distribution_grammar() {
        for ok in [
            "app",
            "team/app",
            "a.b",
            "a_b",
            "a__b",
            "a---b",
            "samples/hello-world",
            "0",
        ] {
            assert_eq!(check_repository(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "App",
            "app?x=1",
            "app#frag",
            "app/../x",
            "/app",
            "app/",
            "a//b",
            "a..b",
            "a___b",
            "-a",
            "a-",
            "app:1.0",
            "app@sha256:00",
            "a b",
            "a%2fb",
            "ａpp",
        ] {
            assert!(check_repository(bad).is_err(), "{bad}");
        }
        assert!(check_repository(&"a".repeat(256)).is_err());
    }

    #[test]
    fn image_references_split_into_repository_tag_and_digest() {
        let d = format!("sha256:{}", "ab".repeat(32));
        let r = parse_image_ref("team/app:1.0").unwrap();
        assert_eq!(
            (r.repository.as_str(), r.tag.as_deref(), r.digest.as_deref()),
            ("team/app", Some("1.0"), None)
        );
        assert_eq!(r.reference(), Some("1.0"));
        assert_eq!(r.image(), "team/app:1.0");
        let r = parse_image_ref(&format!("app@{d}")).unwrap();
        assert_eq!(
            (r.tag.as_deref(), r.digest.as_deref()),
            (None, Some(d.as_str()))
        );
        let r = parse_image_ref(&format!("app:Latest@{d}")).unwrap();
        assert_eq!(r.reference(), Some(d.as_str()));
        assert_eq!(r.tag.as_deref(), Some("Latest"));
        assert_eq!(r.image(), format!("app@{d}"));
        let r = parse_image_ref("app").unwrap();
        assert_eq!((r.tag, r.digest), (None, None));
        assert_eq!(repository_part("team/app:1.0"), "team/app");
        assert_eq!(repository_part(&format!("app@{d}")), "app");
        assert_eq!(repository_part("app"), "app");
    }

    #[test]
    fn malformed_image_references_say_what_to_type() {
        for (bad, says) in [
            ("app:", "nothing follows"),
            ("app:.x", "must start"),
            ("app:a+b", "not allowed in a tag"),
            ("app@", "not a digest"),
            ("app@sha256:abc", "64"),
            ("app@md5:00", "algorithm"),
            (&format!("app@sha256:{}", "A".repeat(64)), "lower-case"),
            ("localhost:5000/app", "host"),
            ("contosoreg.azurecr.io/app:1.0", "login server"),
            ("App:1.0", "not allowed"),
            (&format!("app:{}", "a".repeat(129)), "at most 128"),
        ] {
            let e = parse_image_ref(bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn only_tags_and_digests_are_references() {
        assert!(is_reference("v1"));
        assert!(is_reference("1.0-rc_1"));
        assert!(is_reference(&format!("sha256:{}", "a".repeat(64))));
        for bad in [
            "",
            "../x",
            "a/b",
            "v1?x",
            "v1#",
            ".x",
            "sha256:zz",
            &"a".repeat(129),
        ] {
            assert!(!is_reference(bad), "{bad}");
        }
    }
}

#[cfg(test)]
mod step_tests {
    use super::*;

    #[test]
    fn split_scheme_lowercases_the_scheme_and_keeps_the_rest() {
        assert_eq!(
            split_scheme("HTTPS://Reg.azurecr.io/x"),
            (Some("https".to_string()), "Reg.azurecr.io/x")
        );
        assert_eq!(split_scheme("reg:5000"), (None, "reg:5000"));
        assert_eq!(split_scheme("://reg"), (Some(String::new()), "reg"));
    }

    #[test]
    fn split_authority_separates_port_tag_digest_and_path() {
        assert_eq!(split_authority("reg"), ("reg", None, String::new()));
        assert_eq!(
            split_authority("reg:5000"),
            ("reg", Some(5000), String::new())
        );
        assert_eq!(
            split_authority("reg:latest/"),
            ("reg", None, ":latest".to_string())
        );
        assert_eq!(
            split_authority("reg@sha256:ab/repo/x//"),
            ("reg", None, "@sha256:ab/repo/x".to_string())
        );
        assert_eq!(
            split_authority("reg:99999"),
            ("reg", None, ":99999".to_string())
        );
        assert_eq!(split_authority("reg//"), ("reg", None, String::new()));
    }

    #[test]
    fn split_host_finds_the_login_server_and_its_suffix() {
        let mut form = NameForm::ResourceName;
        let mut problems = Vec::new();
        let got = split_host("reg.azurecr.io", None, &mut form, &mut problems);
        assert_eq!(
            got,
            (
                "reg".to_string(),
                Some("reg.azurecr.io".to_string()),
                Some(".azurecr.io".to_string())
            )
        );
        assert_eq!(form, NameForm::LoginServer);
        assert_eq!(problems, vec![NameProblem::LoginServerGiven]);

        let mut form = NameForm::WithPath;
        let mut problems = Vec::new();
        let got = split_host("reg.example.com", None, &mut form, &mut problems);
        assert_eq!(got.2.as_deref(), Some(".example.com"));
        assert_eq!(form, NameForm::WithPath);
        assert_eq!(
            problems,
            vec![
                NameProblem::NotAcrSuffix {
                    suffix: ".example.com".into()
                },
                NameProblem::LoginServerGiven
            ]
        );
    }

    #[test]
    fn split_host_without_a_dot() {
        let mut form = NameForm::ResourceName;
        let mut problems = Vec::new();
        let got = split_host("reg", Some(5000), &mut form, &mut problems);
        assert_eq!(got, ("reg".to_string(), Some("reg".to_string()), None));
        assert_eq!(form, NameForm::LoginServer);
        assert_eq!(problems, vec![NameProblem::LoginServerGiven]);

        let mut form = NameForm::Url;
        let mut problems = Vec::new();
        let got = split_host("reg", None, &mut form, &mut problems);
        assert_eq!(got, ("reg".to_string(), Some("reg".to_string()), None));
        assert!(problems.is_empty());

        let mut form = NameForm::ResourceName;
        let mut problems = Vec::new();
        let got = split_host("reg", None, &mut form, &mut problems);
        assert_eq!(got, ("reg".to_string(), None, None));
        assert_eq!(form, NameForm::ResourceName);
        assert!(problems.is_empty());
    }
}
