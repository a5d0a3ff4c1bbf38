//! Symptom triage: map pasted error text to cause codes.
//!
//! The patterns are data beside the cause catalogue: `causes/messages/<CODE>.txt`, one pattern a
//! line (`<confidence>\t<regex>[\t<note>]`), plus directives for the sentence that explains the
//! match (`@why.en`, `@why.ja`), the flags that confirm it (`@confirm`) and the causes it is listed
//! before (`@outranks`). The files are compiled in: a code listed below without a file fails the
//! build. Adding a message is adding a line.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};
use serde::Serialize;

use crate::lang::Lang;

macro_rules! message_files {
    ($($code:ident),* $(,)?) => {
        /// Every cause that a pasted message can point to, with its compiled-in pattern file.
        pub static MESSAGE_FILES: &[(&str, &str)] = &[
            $( (stringify!($code), include_str!(concat!("../causes/messages/", stringify!($code), ".txt"))), )*
        ];
    };
}

message_files! {
    DOCKER_COMMAND_ERROR, DOCKER_DAEMON_ERROR, DOCKER_VERSION_ERROR, DOCKER_PULL_ERROR,
    DOCKER_CREDENTIAL_HELPER_ERROR, DOCKER_STALE_CREDENTIALS, HELM_COMMAND_ERROR, HELM_VERSION_ERROR,
    REGISTRY_NAME_INVALID, LOGIN_SERVER_ERROR, CONNECTIVITY_DNS_ERROR, PRIVATE_ENDPOINT_DNS_ERROR,
    CONNECTIVITY_SSL_ERROR, CONNECTIVITY_CHALLENGE_ERROR, CONNECTIVITY_WWW_AUTHENTICATE_ERROR,
    CONNECTIVITY_AAD_LOGIN_ERROR, CONNECTIVITY_FORBIDDEN_ERROR, CONNECTIVITY_TOOMANYREQUESTS_ERROR,
    CLIENT_PROXY_ERROR, DATA_ENDPOINT_UNREACHABLE,
    AAD_CREDENTIAL_UNAVAILABLE, SERVICE_PRINCIPAL_CREDENTIALS_INVALID, APP_NOT_REGISTERED_WITH_AAD,
    CONNECTIVITY_REFRESH_TOKEN_ERROR, ARM_AUDIENCE_TOKEN_DISABLED, CONNECTIVITY_ACCESS_TOKEN_ERROR,
    ADMIN_USER_DISABLED, BASIC_CREDENTIALS_INVALID, EXPOSE_TOKEN_USERNAME, ANONYMOUS_PULL_DISABLED,
    WORKLOAD_IDENTITY_FEDERATION_ERROR, MANAGED_IDENTITY_NOT_FOUND, AAD_RESOURCE_INVALID,
    REPOSITORY_PERMISSION_MISSING, ABAC_LEGACY_ROLE_IGNORED, ABAC_CONDITION_EXCLUDES_REPOSITORY,
    CATALOG_LISTER_MISSING, RBAC_ROLE_MISSING, ARM_PERMISSION_MISSING, ROLE_ASSIGNMENT_PERMISSION_MISSING,
    ARTIFACT_LOCKED,
    AAD_TOKEN_EXPIRED, SP_SECRET_EXPIRED, REGISTRY_TOKEN_PASSWORD_EXPIRED, DOCKER_STORED_TOKEN_EXPIRED,
    IMAGE_NOT_FOUND, IMAGE_PLATFORM_MISMATCH, IMAGE_NOT_TAGGED_FOR_REGISTRY,
    CMK_ERROR,
}

/// Causes of the catalogue that no tool shows as a message of their own, and why.
pub const NO_MESSAGE: &[(&str, &str)] = &[
    (
        "PERMISSION_RECENTLY_CHANGED",
        "a timing fact (a role granted moments ago); the failure it explains prints the ordinary denial",
    ),
    (
        "CREDENTIAL_EXPIRES_SOON",
        "a forecast made by acr-doctor; nothing has failed yet, so no tool prints an error",
    ),
    (
        "UNEXPECTED_ERROR",
        "by definition what could not be classified; a pattern for it would be a made-up cause",
    ),
];

const GUESSES: &str = include_str!("../causes/messages/_guesses.txt");

/// The longest matched text a candidate carries, in characters.
const MATCHED_MAX_CHARS: usize = 200;
/// At most this many closest guesses are offered for unknown text.
const MAX_GUESSES: usize = 3;

/// How sure triage is that a message points to a cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    fn parse(s: &str) -> Option<Confidence> {
        match s {
            "high" => Some(Confidence::High),
            "medium" => Some(Confidence::Medium),
            "low" => Some(Confidence::Low),
            _ => None,
        }
    }

    fn label(self, lang: Lang) -> &'static str {
        match self {
            Confidence::High => lang.pick("high", "高"),
            Confidence::Medium => lang.pick("medium", "中"),
            Confidence::Low => lang.pick("low", "低"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub code: String,
    pub confidence: Confidence,
    /// The text that matched, trimmed and with secrets masked.
    pub matched: String,
    /// The `acr-doctor check …` command line that would confirm the cause.
    pub confirm: String,
    /// Why this message points to this cause, in English.
    pub why: String,
    /// The same sentence in Japanese (human output only).
    #[serde(skip)]
    pub why_ja: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TriageResult {
    pub schema: String,
    pub candidates: Vec<Candidate>,
    /// Only when no candidate was found: causes whose keywords appear in the text.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub guesses: Vec<Candidate>,
}

struct Pattern {
    confidence: Confidence,
    regex: Regex,
}

struct CauseMessages {
    code: &'static str,
    why_en: &'static str,
    why_ja: &'static str,
    confirm: &'static str,
    outranks: Vec<&'static str>,
    patterns: Vec<Pattern>,
}

struct Data {
    causes: Vec<CauseMessages>,
    /// How many causes each code is listed before, transitively (ordering within a confidence).
    depth: HashMap<&'static str, usize>,
    guesses: Vec<(&'static str, Regex)>,
    errors: Vec<String>,
}

fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(32 * (1 << 20))
        .build()
}

fn parse_file(code: &'static str, source: &'static str, errors: &mut Vec<String>) -> CauseMessages {
    let mut cause = CauseMessages {
        code,
        why_en: "",
        why_ja: "",
        confirm: "",
        outranks: Vec::new(),
        patterns: Vec::new(),
    };
    for (n, line) in source.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.splitn(3, '\t');
        let head = fields.next().unwrap_or("");
        let Some(value) = fields.next() else {
            errors.push(format!("{code}.txt:{}: no tab-separated value", n + 1));
            continue;
        };
        match head {
            "@why.en" => cause.why_en = value.trim(),
            "@why.ja" => cause.why_ja = value.trim(),
            "@confirm" => cause.confirm = value.trim(),
            "@outranks" => cause.outranks = value.split_whitespace().collect(),
            _ => match (Confidence::parse(head), compile(value)) {
                (Some(confidence), Ok(regex)) => cause.patterns.push(Pattern { confidence, regex }),
                (None, _) => {
                    errors.push(format!("{code}.txt:{}: unknown confidence {head:?}", n + 1))
                }
                (_, Err(e)) => errors.push(format!("{code}.txt:{}: bad regex: {e}", n + 1)),
            },
        }
    }
    if cause.why_en.is_empty() || cause.why_ja.is_empty() {
        errors.push(format!("{code}.txt: @why.en and @why.ja are both required"));
    }
    if cause.patterns.is_empty() {
        errors.push(format!("{code}.txt: no pattern"));
    }
    cause
}

fn depth_of(
    code: &'static str,
    edges: &HashMap<&'static str, Vec<&'static str>>,
    memo: &mut HashMap<&'static str, usize>,
    visiting: &mut HashSet<&'static str>,
    errors: &mut Vec<String>,
) -> usize {
    if let Some(d) = memo.get(code) {
        return *d;
    }
    if !visiting.insert(code) {
        errors.push(format!("@outranks forms a cycle through {code}"));
        return 0;
    }
    let mut depth = 0;
    for next in edges.get(code).map(Vec::as_slice).unwrap_or(&[]) {
        depth = depth.max(1 + depth_of(next, edges, memo, visiting, errors));
    }
    visiting.remove(code);
    memo.insert(code, depth);
    depth
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let mut errors = Vec::new();
        let causes: Vec<CauseMessages> = MESSAGE_FILES
            .iter()
            .map(|(code, source)| parse_file(code, source, &mut errors))
            .collect();
        let known: HashSet<&str> = causes.iter().map(|c| c.code).collect();
        let mut edges: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for cause in &causes {
            for target in &cause.outranks {
                if !known.contains(target) {
                    errors.push(format!(
                        "{}.txt: @outranks names unknown code {target}",
                        cause.code
                    ));
                }
            }
            edges.insert(cause.code, cause.outranks.clone());
        }
        let mut depth = HashMap::new();
        let mut visiting = HashSet::new();
        for cause in &causes {
            depth_of(cause.code, &edges, &mut depth, &mut visiting, &mut errors);
        }
        let mut guesses = Vec::new();
        for (n, line) in GUESSES.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_once('\t') {
                Some((code, pattern)) => match compile(pattern) {
                    Ok(regex) if known.contains(code) => {
                        guesses.push((code_static(&causes, code), regex))
                    }
                    Ok(_) => errors.push(format!("_guesses.txt:{}: unknown code {code}", n + 1)),
                    Err(e) => errors.push(format!("_guesses.txt:{}: bad regex: {e}", n + 1)),
                },
                None => errors.push(format!("_guesses.txt:{}: no tab", n + 1)),
            }
        }
        Data {
            causes,
            depth,
            guesses,
            errors,
        }
    })
}

fn code_static(causes: &[CauseMessages], code: &str) -> &'static str {
    causes
        .iter()
        .find(|c| c.code == code)
        .map(|c| c.code)
        .unwrap_or("UNEXPECTED_ERROR")
}

/// Problems found in the pattern data (bad lines, bad regexes, unknown codes); empty when sound.
pub fn data_errors() -> Vec<String> {
    data().errors.clone()
}

/// The number of patterns each cause has, in catalogue order.
pub fn pattern_counts() -> Vec<(&'static str, usize)> {
    data()
        .causes
        .iter()
        .map(|c| (c.code, c.patterns.len()))
        .collect()
}

/// Undoes the escaping of JSON and Go-quoted strings, so that messages nested in event
/// bodies (`\"`, `\u0027`) match the same patterns as plain ones.
fn normalize(text: &str) -> String {
    text.replace("\\\\\"", "\"")
        .replace("\\\"", "\"")
        .replace("\\u0027", "'")
        .replace("\\u0026", "&")
        .replace("\\u003c", "<")
        .replace("\\u003e", ">")
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    cause: usize,
    confidence: Confidence,
    start: usize,
    end: usize,
}

/// Reads pasted text and names the causes its messages point to, most likely first.
pub fn triage(text: &str) -> TriageResult {
    let data = data();
    let text = normalize(text);
    let mut hits = Vec::new();
    for (i, cause) in data.causes.iter().enumerate() {
        for pattern in &cause.patterns {
            if let Some(m) = pattern.regex.find(&text) {
                if m.start() < m.end() {
                    hits.push(Hit {
                        cause: i,
                        confidence: pattern.confidence,
                        start: m.start(),
                        end: m.end(),
                    });
                }
            }
        }
    }
    // A weaker match inside a longer, surer match of another cause is the same message read
    // less precisely ("no such host" inside "lookup x.data.azurecr.io: no such host"): drop it.
    let kept: Vec<Hit> = hits
        .iter()
        .filter(|b| {
            !hits.iter().any(|a| {
                a.cause != b.cause
                    && a.confidence > b.confidence
                    && a.start <= b.start
                    && b.end <= a.end
                    && a.end - a.start > b.end - b.start
            })
        })
        .copied()
        .collect();
    let mut best: HashMap<usize, Hit> = HashMap::new();
    for hit in kept {
        best.entry(hit.cause)
            .and_modify(|h| {
                if (hit.confidence, std::cmp::Reverse(hit.start))
                    > (h.confidence, std::cmp::Reverse(h.start))
                {
                    *h = hit;
                }
            })
            .or_insert(hit);
    }
    let mut ordered: Vec<Hit> = best.into_values().collect();
    ordered.sort_by_key(|h| {
        let depth = data
            .depth
            .get(data.causes[h.cause].code)
            .copied()
            .unwrap_or(0);
        (
            std::cmp::Reverse(h.confidence),
            std::cmp::Reverse(depth),
            h.start,
            h.cause,
        )
    });
    let candidates: Vec<Candidate> = ordered
        .iter()
        .map(|h| candidate(&data.causes[h.cause], h.confidence, &text, h.start, h.end))
        .collect();
    let guesses = if candidates.is_empty() {
        closest_guesses(data, &text)
    } else {
        Vec::new()
    };
    TriageResult {
        schema: "acr-doctor/triage/v1".into(),
        candidates,
        guesses,
    }
}

fn closest_guesses(data: &Data, text: &str) -> Vec<Candidate> {
    let mut seen = HashSet::new();
    let mut found: Vec<(usize, &'static str, usize, usize)> = Vec::new();
    for (code, regex) in &data.guesses {
        if let Some(m) = regex.find(text) {
            if seen.insert(*code) {
                found.push((m.start(), code, m.start(), m.end()));
            }
        }
    }
    found.sort_by_key(|f| f.0);
    found
        .into_iter()
        .take(MAX_GUESSES)
        .filter_map(|(_, code, start, end)| {
            data.causes
                .iter()
                .find(|c| c.code == code)
                .map(|cause| candidate(cause, Confidence::Low, text, start, end))
        })
        .collect()
}

fn candidate(
    cause: &CauseMessages,
    confidence: Confidence,
    text: &str,
    start: usize,
    end: usize,
) -> Candidate {
    let line = line_around(text, start, end);
    let registry = registry_name(line).or_else(|| registry_name(text));
    let repository = repository_name(line).or_else(|| repository_name(text));
    Candidate {
        code: cause.code.to_string(),
        confidence,
        matched: shorten(&crate::redact::scrub_shapes(text[start..end].trim())),
        confirm: confirm_command(cause.confirm, registry.as_deref(), repository.as_deref()),
        why: cause.why_en.to_string(),
        why_ja: cause.why_ja.to_string(),
    }
}

fn line_around(text: &str, start: usize, end: usize) -> &str {
    let from = text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let to = text[end..]
        .find('\n')
        .map(|i| end + i)
        .unwrap_or(text.len());
    &text[from..to]
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MATCHED_MAX_CHARS {
        return text.to_string();
    }
    let mut out: String = text.chars().take(MATCHED_MAX_CHARS - 1).collect();
    out.push('…');
    out
}

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
    struct Res {
        image: Regex,
        url: Regex,
        scope: Regex,
    }
    static RES: OnceLock<Option<Res>> = OnceLock::new();
    const REPO: &str = r"[a-z0-9]+(?:(?:[._]|__|-+|/)[a-z0-9]+)*";
    let res = RES
        .get_or_init(|| {
            let host = r"[a-z0-9]+(?:\.[a-z0-9-]+)*\.azurecr\.(?:io|cn|us)(?::\d+)?";
            Some(Res {
                image: compile(&format!(
                    r"{host}/({REPO})(?::[a-z0-9_][a-z0-9_.-]{{0,127}}|@sha256:[0-9a-f]{{64}})"
                ))
                .ok()?,
                url: compile(&format!(r"{host}/v2/({REPO})/(?:manifests|blobs|tags)/")).ok()?,
                scope: compile(
                    r"repository(?::|%3A)([a-z0-9._/%-]+?)(?::|%3A)(?:pull|push|delete|\*|%2A)",
                )
                .ok()?,
            })
        })
        .as_ref()?;
    let from_image = res
        .image
        .captures_iter(text)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str())
        .find(|r| *r != "v2" && !r.starts_with("v2/"));
    let found = from_image
        .map(str::to_string)
        .or_else(|| {
            res.url
                .captures(text)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().to_string())
        })
        .or_else(|| {
            res.scope
                .captures(text)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().replace("%2F", "/").replace("%2f", "/"))
        })?;
    Some(found.to_ascii_lowercase())
}

fn confirm_command(flags: &str, registry: Option<&str>, repository: Option<&str>) -> String {
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

pub fn render_json(result: &TriageResult) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(result).unwrap_or_default()
    )
}

pub fn render_human(result: &TriageResult, lang: Lang) -> String {
    let mut out = String::new();
    if result.candidates.is_empty() {
        out.push_str(lang.pick(
            "No known cause matches this text.\n",
            "このテキストに一致する既知の原因はありません。\n",
        ));
        if !result.guesses.is_empty() {
            out.push_str(lang.pick(
                "Closest guesses, from keywords only (low confidence, not a diagnosis):\n",
                "キーワードだけから見た近い候補 (確度: 低、診断ではありません):\n",
            ));
            for g in &result.guesses {
                out.push_str(&format!("  - {}  \"{}\"\n", g.code, g.matched));
                if let Some(title) = title(&g.code, lang) {
                    out.push_str(&format!("    {title}\n"));
                }
            }
        }
        out.push_str(lang.pick(
            "To diagnose the registry directly: acr-doctor check --name <registry>\n",
            "レジストリを直接診断するには: acr-doctor check --name <registry>\n",
        ));
        return out;
    }
    let n = result.candidates.len();
    out.push_str(&match lang {
        Lang::En if n == 1 => "1 possible cause:\n".to_string(),
        Lang::En => format!("{n} possible causes, most likely first:\n"),
        Lang::Ja => format!("考えられる原因: {n} 件 (可能性の高い順)\n"),
    });
    let (l_matched, l_why, l_confirm) = match lang {
        Lang::En => ("matched", "why    ", "confirm"),
        Lang::Ja => ("一致", "理由", "確認"),
    };
    for (i, c) in result.candidates.iter().enumerate() {
        out.push('\n');
        out.push_str(&format!(
            "{}. {} ({}: {})\n",
            i + 1,
            c.code,
            lang.pick("confidence", "確度"),
            c.confidence.label(lang)
        ));
        if let Some(title) = title(&c.code, lang) {
            out.push_str(&format!("   {title}\n"));
        }
        out.push_str(&format!("   {l_matched}  \"{}\"\n", c.matched));
        let why = match lang {
            Lang::En => &c.why,
            Lang::Ja => &c.why_ja,
        };
        out.push_str(&format!("   {l_why}  {why}\n"));
        out.push_str(&format!("   {l_confirm}  {}\n", c.confirm));
    }
    out.push('\n');
    out.push_str(lang.pick(
        "More about a cause: acr-doctor explain CODE\n",
        "原因の詳細: acr-doctor explain CODE\n",
    ));
    out
}

fn title(code: &str, lang: Lang) -> Option<String> {
    crate::catalogue::lookup(code)
        .map(|c| c.title(lang))
        .filter(|t| !t.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<String> {
        triage(text)
            .candidates
            .into_iter()
            .map(|c| c.code)
            .collect()
    }

    #[test]
    fn pattern_data_is_sound() {
        assert_eq!(data_errors(), Vec::<String>::new());
        assert!(pattern_counts().iter().all(|(_, n)| *n > 0));
    }

    #[test]
    fn specific_message_beats_generic_one() {
        let got = codes(
            "Error response from daemon: Get \"https://contosoreg.azurecr.io/v2/\": unauthorized: \
             Application not registered with AAD.\nunauthorized: authentication required",
        );
        assert_eq!(
            got.first().map(String::as_str),
            Some("APP_NOT_REGISTERED_WITH_AAD")
        );
        assert!(got.contains(&"BASIC_CREDENTIALS_INVALID".to_string()));
    }

    #[test]
    fn outranks_orders_equal_confidence() {
        let got = codes(
            "CONNECTIVITY_REFRESH_TOKEN_ERROR. Access to registry was denied. Response code: 403. \
             Unable to get admin user credentials with message: Admin user is disabled.",
        );
        assert_eq!(
            got[..2],
            ["ADMIN_USER_DISABLED", "CONNECTIVITY_REFRESH_TOKEN_ERROR"]
        );
    }

    #[test]
    fn neighbour_messages_are_not_read_as_access_or_daemon_problems() {
        // "daemon" in Docker's wrapper is not a daemon problem: the missing tag is the cause.
        let got = codes(
            "Error response from daemon: manifest for contosoreg.azurecr.io/app:v2 not found: \
             manifest unknown: manifest unknown",
        );
        assert_eq!(got, ["IMAGE_NOT_FOUND"]);
        // The bare denial stays a permission problem; Docker naming Docker Hub changes that.
        assert_eq!(
            codes("denied: requested access to the resource is denied")[0],
            "REPOSITORY_PERMISSION_MISSING"
        );
        let got = codes(
            "The push refers to repository [docker.io/library/app]\n\
             denied: requested access to the resource is denied",
        );
        assert_eq!(got[0], "IMAGE_NOT_TAGGED_FOR_REGISTRY");
        // A credential helper built for another CPU is not an image platform problem.
        let got = codes(
            "error getting credentials - err: fork/exec /usr/bin/docker-credential-pass: exec format error",
        );
        assert!(
            !got.contains(&"IMAGE_PLATFORM_MISMATCH".to_string()),
            "{got:?}"
        );
        // containerd says NotFound for a platform mismatch too; the platform line wins.
        let got = codes(
            "rpc error: code = NotFound desc = failed to pull and unpack image \
             \"contosoreg.azurecr.io/app:v1\": no match for platform in manifest: not found",
        );
        assert_eq!(got[..2], ["IMAGE_PLATFORM_MISMATCH", "IMAGE_NOT_FOUND"]);
    }

    #[test]
    fn weaker_match_inside_stronger_one_is_dropped() {
        let got = codes("dial tcp: lookup contosoreg.westeurope.data.azurecr.io: no such host");
        assert_eq!(got, ["DATA_ENDPOINT_UNREACHABLE"]);
    }

    #[test]
    fn duplicates_are_merged() {
        let got = codes("x509: certificate signed by unknown authority\nx509: certificate signed by unknown authority");
        assert_eq!(got, ["CONNECTIVITY_SSL_ERROR"]);
    }

    #[test]
    fn unknown_text_has_no_candidate_but_guesses() {
        let r = triage("the build broke with status 403 somewhere");
        assert!(r.candidates.is_empty());
        assert_eq!(r.guesses[0].code, "CONNECTIVITY_FORBIDDEN_ERROR");
        assert_eq!(r.guesses[0].confidence, Confidence::Low);
        let r = triage("all good here");
        assert!(r.candidates.is_empty() && r.guesses.is_empty());
    }

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
            "acr-doctor check --name contosoreg --auth anonymous --repository team/web --need pull"
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

    #[test]
    fn matched_text_is_redacted_and_short() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl";
        let r = triage(&format!("docker login abcde.azurecr.io -u myuser -p {jwt}"));
        let c = r
            .candidates
            .iter()
            .find(|c| c.code == "EXPOSE_TOKEN_USERNAME");
        let c = c.map(|c| c.matched.clone()).unwrap_or_default();
        assert!(
            c.contains("-u myuser") && !c.contains("c2lnbmF0dXJl"),
            "{c}"
        );
        let long = format!("toomanyrequests: {}", "x".repeat(500));
        let m = &triage(&long).candidates[0].matched;
        assert!(m.chars().count() <= MATCHED_MAX_CHARS);
    }

    #[test]
    fn escaped_json_bodies_match() {
        let got = codes(
            r#"denied: {\"errors\":[{\"code\":\"DENIED\",\"message\":\"client with IP \u0027203.0.113.7\u0027 is not allowed access.\"}]}"#,
        );
        assert_eq!(
            got.first().map(String::as_str),
            Some("CONNECTIVITY_FORBIDDEN_ERROR")
        );
    }

    #[test]
    fn human_output_explains_in_both_languages() {
        let r = triage("unauthorized: Application not registered with AAD");
        let en = render_human(&r, Lang::En);
        assert!(
            en.contains("APP_NOT_REGISTERED_WITH_AAD") && en.contains("not recognise the username"),
            "{en}"
        );
        let ja = render_human(&r, Lang::Ja);
        assert!(
            ja.contains("確度: 高") && ja.contains("テナントのアプリケーション"),
            "{ja}"
        );
        let none = render_human(&triage("hello"), Lang::En);
        assert!(none.starts_with("No known cause"));
    }
}
