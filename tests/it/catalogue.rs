//! The cause catalogue is complete in both languages and matches the public contract.

use acr_doctor::catalogue::{self, Code, CAUSES};
use acr_doctor::lang::Lang;

/// `Code` and `CAUSES` are generated from the same files (build.rs): one entry per code, in
/// `Code::ALL`'s order, each spelt as its variant and found again by that spelling.
#[test]
fn codes_and_causes_agree() {
    let codes: Vec<&str> = CAUSES.iter().map(|c| c.code).collect();
    let all: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(codes, all);
    for (i, &code) in Code::ALL.iter().enumerate() {
        assert_eq!(code as usize, i);
        assert_eq!(code.cause().id, code);
        assert_eq!(Code::parse(code.as_str()), Some(code));
        assert_eq!(code.as_str().parse::<Code>(), Ok(code));
        assert_eq!(code.to_string(), code.as_str());
    }
    assert_eq!(Code::parse("rbac_role_missing"), None);
    assert!("NOPE".parse::<Code>().is_err());
}

/// Every code published so far (CAUSES.md at the last release), in its order: a public
/// contract. A new cause needs no line here; removing or renaming a published code fails.
const PUBLISHED_CODES: &[&str] = &[
    "DOCKER_COMMAND_ERROR",
    "DOCKER_DAEMON_ERROR",
    "DOCKER_VERSION_ERROR",
    "DOCKER_PULL_ERROR",
    "DOCKER_CREDENTIAL_HELPER_ERROR",
    "DOCKER_STALE_CREDENTIALS",
    "HELM_COMMAND_ERROR",
    "HELM_VERSION_ERROR",
    "REGISTRY_NAME_INVALID",
    "LOGIN_SERVER_ERROR",
    "CONNECTIVITY_DNS_ERROR",
    "PRIVATE_ENDPOINT_DNS_ERROR",
    "CONNECTIVITY_SSL_ERROR",
    "CONNECTIVITY_CHALLENGE_ERROR",
    "CONNECTIVITY_WWW_AUTHENTICATE_ERROR",
    "CONNECTIVITY_AAD_LOGIN_ERROR",
    "CONNECTIVITY_FORBIDDEN_ERROR",
    "CONNECTIVITY_TOOMANYREQUESTS_ERROR",
    "CLIENT_PROXY_ERROR",
    "DATA_ENDPOINT_UNREACHABLE",
    "AAD_CREDENTIAL_UNAVAILABLE",
    "SERVICE_PRINCIPAL_CREDENTIALS_INVALID",
    "APP_NOT_REGISTERED_WITH_AAD",
    "CONNECTIVITY_REFRESH_TOKEN_ERROR",
    "ARM_AUDIENCE_TOKEN_DISABLED",
    "CONNECTIVITY_ACCESS_TOKEN_ERROR",
    "ADMIN_USER_DISABLED",
    "BASIC_CREDENTIALS_INVALID",
    "EXPOSE_TOKEN_USERNAME",
    "ANONYMOUS_PULL_DISABLED",
    "WORKLOAD_IDENTITY_FEDERATION_ERROR",
    "MANAGED_IDENTITY_NOT_FOUND",
    "AAD_RESOURCE_INVALID",
    "REPOSITORY_PERMISSION_MISSING",
    "ABAC_LEGACY_ROLE_IGNORED",
    "ABAC_CONDITION_EXCLUDES_REPOSITORY",
    "CATALOG_LISTER_MISSING",
    "RBAC_ROLE_MISSING",
    "ARM_PERMISSION_MISSING",
    "ROLE_ASSIGNMENT_PERMISSION_MISSING",
    "ARTIFACT_LOCKED",
    "PERMISSION_RECENTLY_CHANGED",
    "AAD_TOKEN_EXPIRED",
    "SP_SECRET_EXPIRED",
    "REGISTRY_TOKEN_PASSWORD_EXPIRED",
    "DOCKER_STORED_TOKEN_EXPIRED",
    "CREDENTIAL_EXPIRES_SOON",
    "IMAGE_NOT_FOUND",
    "IMAGE_PLATFORM_MISMATCH",
    "IMAGE_NOT_TAGGED_FOR_REGISTRY",
    "CMK_ERROR",
    "UNEXPECTED_ERROR",
];

/// The clean clone CI tests has no `../shared` beside it: the published codes are kept here too,
/// so a deleted cause file or a renamed code cannot pass unnoticed, and their order still holds.
#[test]
fn published_codes_are_still_causes_in_their_order() {
    let ours: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let missing: Vec<&&str> = PUBLISHED_CODES
        .iter()
        .filter(|c| Code::parse(c).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "published codes no longer in the catalogue: {missing:?}"
    );
    let kept: Vec<&str> = ours
        .iter()
        .copied()
        .filter(|c| PUBLISHED_CODES.contains(c))
        .collect();
    assert_eq!(kept, PUBLISHED_CODES);
}

#[test]
fn catalogue_matches_causes_md_when_shared_is_beside_the_repo() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/CAUSES.md");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} not present", path.display());
        return;
    };
    let mut from_doc = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("| ") {
            let code = rest.split([' ', '|']).next().unwrap_or("");
            if code.len() > 3
                && code.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                && code != "code"
            {
                from_doc.push(code.to_string());
            }
        }
    }
    let ours: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(ours, from_doc);
}

fn has_japanese(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
}

#[test]
fn every_entry_is_complete_in_both_languages() {
    for cause in CAUSES {
        for lang in [Lang::En, Lang::Ja] {
            let e = cause.entry(lang);
            let at = format!("{} ({:?})", cause.code, lang);
            assert!(!e.title.is_empty(), "{at}: no title");
            assert!(
                e.title.chars().count() <= 90,
                "{at}: title too long: {}",
                e.title
            );
            assert!(e.explanation.len() > 40, "{at}: explanation too short");
            assert!(!e.solution.is_empty(), "{at}: no solution steps");
            assert!(!e.docs.is_empty(), "{at}: no documentation link");
            for d in &e.docs {
                assert!(d.starts_with("https://"), "{at}: bad doc link {d}");
            }
            match lang {
                Lang::Ja => {
                    assert!(has_japanese(&e.title), "{at}: title is not Japanese");
                    assert!(
                        has_japanese(&e.explanation),
                        "{at}: explanation is not Japanese"
                    );
                    assert!(
                        e.solution.iter().all(|s| has_japanese(s)),
                        "{at}: a step is not Japanese"
                    );
                }
                Lang::En => {
                    assert!(!has_japanese(&e.title), "{at}: English title has Japanese");
                    assert!(
                        !has_japanese(&e.explanation),
                        "{at}: English explanation has Japanese"
                    );
                }
            }
        }
        // Both languages give the same commands (commands are not translated).
        assert_eq!(
            cause.entry(Lang::En).commands,
            cause.entry(Lang::Ja).commands,
            "{}: commands differ between languages",
            cause.code
        );
    }
}

#[test]
fn lookup_is_case_insensitive_and_near_matches_help() {
    assert_eq!(
        catalogue::lookup("cmk_error").map(|c| c.code),
        Some("CMK_ERROR")
    );
    assert!(catalogue::lookup("NOPE").is_none());
    assert!(catalogue::near_matches("CONECTIVITY_DNS_ERROR").contains(&"CONNECTIVITY_DNS_ERROR"));
}
