//! The cause catalogue: every code of CAUSES.md with its words in English and Japanese.
//!
//! The words live in `causes/{en,ja}/CODE.md`, compiled in: a missing file fails the build,
//! and a test proves every entry parses and is complete.

use crate::finding::Severity;
use crate::lang::Lang;

/// One cause code and its compiled-in texts.
#[derive(Debug)]
pub struct Cause {
    pub code: &'static str,
    pub severity: Severity,
    /// Which part of the diagnosis the code belongs to (for `causes` listings).
    pub family: &'static str,
    en: &'static str,
    ja: &'static str,
}

macro_rules! catalogue {
    ($( $family:literal => [ $( $code:ident : $sev:ident ),* $(,)? ] ),* $(,)?) => {
        /// Every cause code, in the order of CAUSES.md.
        pub static CAUSES: &[Cause] = &[
            $( $( Cause {
                code: stringify!($code),
                severity: Severity::$sev,
                family: $family,
                en: include_str!(concat!("../causes/en/", stringify!($code), ".md")),
                ja: include_str!(concat!("../causes/ja/", stringify!($code), ".md")),
            }, )* )*
        ];
    };
}

catalogue! {
    "environment" => [
        DOCKER_COMMAND_ERROR: Error, DOCKER_DAEMON_ERROR: Error, DOCKER_VERSION_ERROR: Error,
        DOCKER_PULL_ERROR: Error, DOCKER_CREDENTIAL_HELPER_ERROR: Error, DOCKER_STALE_CREDENTIALS: Error,
        HELM_COMMAND_ERROR: Warning, HELM_VERSION_ERROR: Warning,
    ],
    "network" => [
        REGISTRY_NAME_INVALID: Error, LOGIN_SERVER_ERROR: Error, CONNECTIVITY_DNS_ERROR: Error,
        PRIVATE_ENDPOINT_DNS_ERROR: Error, CONNECTIVITY_SSL_ERROR: Error, CONNECTIVITY_CHALLENGE_ERROR: Error,
        CONNECTIVITY_WWW_AUTHENTICATE_ERROR: Error, CONNECTIVITY_AAD_LOGIN_ERROR: Error,
        CONNECTIVITY_FORBIDDEN_ERROR: Error, CONNECTIVITY_TOOMANYREQUESTS_ERROR: Error,
        CLIENT_PROXY_ERROR: Error, DATA_ENDPOINT_UNREACHABLE: Error,
    ],
    "credentials" => [
        AAD_CREDENTIAL_UNAVAILABLE: Error, SERVICE_PRINCIPAL_CREDENTIALS_INVALID: Error,
        APP_NOT_REGISTERED_WITH_AAD: Error, CONNECTIVITY_REFRESH_TOKEN_ERROR: Error,
        ARM_AUDIENCE_TOKEN_DISABLED: Error, CONNECTIVITY_ACCESS_TOKEN_ERROR: Error,
        ADMIN_USER_DISABLED: Error, BASIC_CREDENTIALS_INVALID: Error, EXPOSE_TOKEN_USERNAME: Error,
        ANONYMOUS_PULL_DISABLED: Error, WORKLOAD_IDENTITY_FEDERATION_ERROR: Error,
        MANAGED_IDENTITY_NOT_FOUND: Error, AAD_RESOURCE_INVALID: Error,
    ],
    "authorization" => [
        REPOSITORY_PERMISSION_MISSING: Error, ABAC_LEGACY_ROLE_IGNORED: Error,
        ABAC_CONDITION_EXCLUDES_REPOSITORY: Error, CATALOG_LISTER_MISSING: Error, RBAC_ROLE_MISSING: Error,
        ARM_PERMISSION_MISSING: Warning, ROLE_ASSIGNMENT_PERMISSION_MISSING: Warning,
        ARTIFACT_LOCKED: Error, PERMISSION_RECENTLY_CHANGED: Info,
    ],
    "expiry" => [
        AAD_TOKEN_EXPIRED: Error, SP_SECRET_EXPIRED: Error, REGISTRY_TOKEN_PASSWORD_EXPIRED: Error,
        DOCKER_STORED_TOKEN_EXPIRED: Error, CREDENTIAL_EXPIRES_SOON: Warning,
    ],
    "neighbours" => [
        IMAGE_NOT_FOUND: Error, IMAGE_PLATFORM_MISMATCH: Error, IMAGE_NOT_TAGGED_FOR_REGISTRY: Error,
    ],
    "configuration" => [
        CMK_ERROR: Error, UNEXPECTED_ERROR: Error,
    ],
}

/// The words of one cause in one language.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Entry {
    pub title: String,
    pub explanation: String,
    pub solution: Vec<String>,
    pub commands: Vec<String>,
    pub docs: Vec<String>,
}

impl Cause {
    pub fn source(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Ja => self.ja,
        }
    }

    pub fn entry(&self, lang: Lang) -> Entry {
        parse_entry(self.source(lang))
    }

    pub fn title(&self, lang: Lang) -> String {
        self.entry(lang).title
    }
}

/// Looks a code up, case-insensitively.
pub fn lookup(code: &str) -> Option<&'static Cause> {
    CAUSES
        .iter()
        .find(|c| c.code.eq_ignore_ascii_case(code.trim()))
}

/// Codes that look like `code`: shared words first, then small edit distance.
pub fn near_matches(code: &str) -> Vec<&'static str> {
    let wanted = code.trim().to_ascii_uppercase();
    let words: Vec<&str> = wanted
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() > 2)
        .collect();
    let mut scored: Vec<(usize, usize, &'static str)> = CAUSES
        .iter()
        .filter_map(|c| {
            let distance = edit_distance(&wanted, c.code);
            let shared = words
                .iter()
                .filter(|w| c.code.split('_').any(|part| part == **w))
                .count();
            if distance <= 4 || shared > 0 {
                Some((distance.saturating_sub(shared * 6), distance, c.code))
            } else {
                None
            }
        })
        .collect();
    scored.sort();
    scored.into_iter().take(5).map(|(_, _, c)| c).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Parses the catalogue's Markdown format (see `causes/README.md`).
pub fn parse_entry(source: &str) -> Entry {
    #[derive(PartialEq)]
    enum Section {
        Explanation,
        Solution,
        Commands,
        Docs,
        Other,
    }
    let mut entry = Entry::default();
    let mut section = Section::Explanation;
    let mut explanation: Vec<&str> = Vec::new();
    let mut in_fence = false;
    for line in source.lines() {
        let trimmed = line.trim();
        if !in_fence {
            if let Some(title) = trimmed.strip_prefix("# ") {
                if entry.title.is_empty() {
                    entry.title = title.trim().to_string();
                    continue;
                }
            }
            if let Some(heading) = trimmed.strip_prefix("## ") {
                section = match heading.trim() {
                    "Solution" => Section::Solution,
                    "Commands" => Section::Commands,
                    "Docs" => Section::Docs,
                    _ => Section::Other,
                };
                continue;
            }
        }
        match section {
            Section::Explanation => explanation.push(line),
            Section::Solution => {
                if let Some(step) = numbered_step(trimmed) {
                    entry.solution.push(step.to_string());
                } else if !trimmed.is_empty() {
                    if let Some(last) = entry.solution.last_mut() {
                        last.push(' ');
                        last.push_str(trimmed);
                    }
                }
            }
            Section::Commands => {
                if trimmed.starts_with("```") {
                    in_fence = !in_fence;
                } else if in_fence && !trimmed.is_empty() {
                    entry.commands.push(trimmed.to_string());
                }
            }
            Section::Docs => {
                let item = trimmed.trim_start_matches(['-', '*']).trim();
                let item = item.trim_start_matches('<').trim_end_matches('>');
                if item.starts_with("https://") {
                    entry.docs.push(item.to_string());
                }
            }
            Section::Other => {}
        }
    }
    entry.explanation = explanation.join("\n").trim().to_string();
    entry
}

fn numbered_step(line: &str) -> Option<&str> {
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    line[digits..].strip_prefix(". ").map(str::trim)
}

/// Fills `<registry>`-style placeholders with what the run knows.
pub fn fill_placeholders(text: &str, values: &[(&str, Option<&str>)]) -> String {
    let mut out = text.to_string();
    for (name, value) in values {
        if let Some(value) = value {
            out = out.replace(&format!("<{name}>"), value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_format() {
        let e = parse_entry(
            "# Title here\n\nLine one.\n\nLine two.\n\n## Solution\n\n1. First\n   continued\n2. Second\n\n## Commands\n\n```sh\naz acr login --name <registry>\n```\n\n## Docs\n\n- <https://learn.microsoft.com/x>\n",
        );
        assert_eq!(e.title, "Title here");
        assert_eq!(e.explanation, "Line one.\n\nLine two.");
        assert_eq!(e.solution, vec!["First continued", "Second"]);
        assert_eq!(e.commands, vec!["az acr login --name <registry>"]);
        assert_eq!(e.docs, vec!["https://learn.microsoft.com/x"]);
    }

    #[test]
    fn near_matches_find_typos_and_words() {
        assert_eq!(
            near_matches("DOCKER_DEAMON_ERROR")[0],
            "DOCKER_DAEMON_ERROR"
        );
        assert!(near_matches("forbidden").contains(&"CONNECTIVITY_FORBIDDEN_ERROR"));
        assert!(near_matches("zzzzzzzzzzzzzzzzzzzz").is_empty());
    }

    #[test]
    fn placeholders_fill_only_known_values() {
        let s = fill_placeholders(
            "docker logout <login-server> # <registry>",
            &[("login-server", Some("a.azurecr.io")), ("registry", None)],
        );
        assert_eq!(s, "docker logout a.azurecr.io # <registry>");
    }
}
