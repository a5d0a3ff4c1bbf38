//! Error codes met on the way to a registry, each mapped to a cause of the catalogue: Microsoft
//! Entra's AADSTS codes, the registry's error codes (distribution and ACR) and Azure Resource
//! Manager's. The tables are data (`causes/tables/*.tsv`, compiled in): code, cause, meaning in
//! English and in Japanese, and the public source the meaning follows.
//!
//! A row that does not parse, or names a cause the catalogue lacks, is left out of its table and
//! reported by [`data_errors`]; a unit test keeps that list empty.

use std::sync::OnceLock;

use crate::catalogue::Code;

/// One code of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The code as the service spells it (AADSTS codes without the `AADSTS` prefix). A registry
    /// row may read `CODE: phrase`: ACR's specific use of CODE whose message holds the phrase.
    pub code: &'static str,
    /// The cause code of the catalogue (CAUSES.md) this code most often means.
    pub cause: Code,
    pub meaning_en: &'static str,
    pub meaning_ja: &'static str,
    /// Where the meaning comes from (an `https://` address).
    pub source: &'static str,
}

impl Entry {
    pub fn meaning(&self, lang: crate::lang::Lang) -> &'static str {
        lang.pick(self.meaning_en, self.meaning_ja)
    }

    /// For a `CODE: phrase` registry row, the code and the phrase.
    fn qualified(&self) -> Option<(&'static str, &'static str)> {
        self.code
            .split_once(':')
            .map(|(code, phrase)| (code.trim(), phrase.trim()))
    }
}

const AADSTS_TSV: &str = include_str!("../causes/tables/aadsts.tsv");
const REGISTRY_TSV: &str = include_str!("../causes/tables/registry-errors.tsv");
const ARM_TSV: &str = include_str!("../causes/tables/arm-errors.tsv");

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Aadsts,
    Registry,
    Arm,
}

struct Table {
    entries: Vec<Entry>,
    errors: Vec<String>,
}

struct Tables {
    aadsts: Table,
    registry: Table,
    arm: Table,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| Tables {
        aadsts: parse("causes/tables/aadsts.tsv", AADSTS_TSV, Kind::Aadsts),
        registry: parse(
            "causes/tables/registry-errors.tsv",
            REGISTRY_TSV,
            Kind::Registry,
        ),
        arm: parse("causes/tables/arm-errors.tsv", ARM_TSV, Kind::Arm),
    })
}

fn code_is_well_formed(kind: Kind, code: &str) -> bool {
    let word = |s: &str, ok: fn(char) -> bool| !s.is_empty() && s.chars().all(ok);
    match kind {
        Kind::Aadsts => word(code, |c| c.is_ascii_digit()) && code.parse::<u32>().is_ok(),
        Kind::Registry => {
            let (code, phrase) = match code.split_once(':') {
                Some((c, p)) => (c, Some(p.trim())),
                None => (code, None),
            };
            word(code, |c| c.is_ascii_uppercase() || c == '_')
                && phrase.is_none_or(|p| !p.is_empty())
        }
        Kind::Arm => word(code, |c| c.is_ascii_alphanumeric()),
    }
}

fn parse(name: &str, text: &'static str, kind: Kind) -> Table {
    let mut entries: Vec<Entry> = Vec::new();
    let mut errors = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = format!("{name}:{}", n + 1);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&'static str> = line.split('\t').map(str::trim).collect();
        let &[code, cause, meaning_en, meaning_ja, source] = fields.as_slice() else {
            errors.push(format!(
                "{at}: {} columns, 5 expected (code, cause, meaning_en, meaning_ja, source)",
                fields.len()
            ));
            continue;
        };
        let mut problems = Vec::new();
        if !code_is_well_formed(kind, code) {
            problems.push(format!("code '{code}' is not well formed"));
        }
        let known = Code::parse(cause);
        if known.is_none() {
            problems.push(format!("cause '{cause}' is not a code of the catalogue"));
        }
        if meaning_en.is_empty() || !meaning_en.is_ascii() {
            problems.push("meaning_en is empty or not plain English".to_string());
        }
        if meaning_ja.is_ascii() {
            problems.push("meaning_ja has no Japanese text".to_string());
        }
        if !source.starts_with("https://") || source.contains(char::is_whitespace) {
            problems.push(format!("source '{source}' is not an https:// address"));
        }
        if entries.iter().any(|e| e.code.eq_ignore_ascii_case(code)) {
            problems.push(format!("code '{code}' appears twice"));
        }
        if let (true, Some(cause)) = (problems.is_empty(), known) {
            entries.push(Entry {
                code,
                cause,
                meaning_en,
                meaning_ja,
                source,
            });
        } else {
            errors.push(format!("{at}: {}", problems.join("; ")));
        }
    }
    Table { entries, errors }
}

/// An Entra code (`AADSTS7000215` is `aadsts(7000215)`).
pub fn aadsts(code: u32) -> Option<&'static Entry> {
    tables()
        .aadsts
        .entries
        .iter()
        .find(|e| e.code.parse::<u32>().ok() == Some(code))
}

/// A registry error code (`DENIED`, `manifest_unknown`, …), case-insensitive; the plain row,
/// never an ACR-specific `CODE: phrase` row unless that whole key is given.
pub fn registry_error(code: &str) -> Option<&'static Entry> {
    let code = code.trim();
    tables()
        .registry
        .entries
        .iter()
        .find(|e| e.code.eq_ignore_ascii_case(code))
}

/// A registry error with its message: ACR's specific row for the code when the message holds
/// its phrase (`DENIED` with "client with IP '…' is not allowed access"), else the plain row.
pub fn registry_error_with_message(code: &str, message: &str) -> Option<&'static Entry> {
    let code = code.trim();
    let message = message.to_ascii_lowercase();
    tables()
        .registry
        .entries
        .iter()
        .find(|e| {
            e.qualified().is_some_and(|(c, phrase)| {
                c.eq_ignore_ascii_case(code) && message.contains(&phrase.to_ascii_lowercase())
            })
        })
        .or_else(|| registry_error(code))
}

/// An Azure Resource Manager error code (`AuthorizationFailed`, …), case-insensitive.
pub fn arm_error(code: &str) -> Option<&'static Entry> {
    let code = code.trim();
    tables()
        .arm
        .entries
        .iter()
        .find(|e| e.code.eq_ignore_ascii_case(code))
}

/// Every row of the AADSTS table, in file order.
pub fn aadsts_entries() -> &'static [Entry] {
    &tables().aadsts.entries
}

/// Every row of the registry table, in file order.
pub fn registry_entries() -> &'static [Entry] {
    &tables().registry.entries
}

/// Every row of the ARM table, in file order.
pub fn arm_entries() -> &'static [Entry] {
    &tables().arm.entries
}

/// Rows of the tables that do not parse or name an unknown cause (`file:line: problem`).
pub fn data_errors() -> Vec<String> {
    let t = tables();
    [&t.aadsts, &t.registry, &t.arm]
        .iter()
        .flat_map(|table| table.errors.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;

    #[test]
    fn every_row_parses_and_names_a_catalogue_cause() {
        assert_eq!(data_errors(), Vec::<String>::new());
        for e in aadsts_entries()
            .iter()
            .chain(registry_entries())
            .chain(arm_entries())
        {
            assert!(
                crate::catalogue::lookup(e.cause.as_str()).is_some_and(|c| c.id == e.cause),
                "{}: {}",
                e.code,
                e.cause
            );
        }
        assert!(aadsts_entries().len() >= 60, "{}", aadsts_entries().len());
        assert!(registry_entries().len() >= 20);
        assert!(arm_entries().len() >= 10);
    }

    /// What each code must mean, written apart from the data: a row added to a table without a
    /// line here, or a mapping changed by accident, fails.
    const AADSTS_EXPECTED: &[(u32, Code)] = &[
        (7000215, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (7000222, Code::SP_SECRET_EXPIRED),
        (70002, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (7000218, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (700025, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (900144, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (90014, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (700027, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (700030, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (50012, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (50006, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (50027, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (50048, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (900384, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (70021, Code::WORKLOAD_IDENTITY_FEDERATION_ERROR),
        (700211, Code::WORKLOAD_IDENTITY_FEDERATION_ERROR),
        (700213, Code::WORKLOAD_IDENTITY_FEDERATION_ERROR),
        (7002137, Code::WORKLOAD_IDENTITY_FEDERATION_ERROR),
        (7002138, Code::WORKLOAD_IDENTITY_FEDERATION_ERROR),
        (700024, Code::WORKLOAD_IDENTITY_FEDERATION_ERROR),
        (90061, Code::WORKLOAD_IDENTITY_FEDERATION_ERROR),
        (700229, Code::WORKLOAD_IDENTITY_FEDERATION_ERROR),
        (700016, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (700011, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (7000229, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (70001, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (7000112, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (50194, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (50001, Code::AAD_RESOURCE_INVALID),
        (500011, Code::AAD_RESOURCE_INVALID),
        (650057, Code::AAD_RESOURCE_INVALID),
        (650052, Code::AAD_RESOURCE_INVALID),
        (650054, Code::AAD_RESOURCE_INVALID),
        (70011, Code::AAD_RESOURCE_INVALID),
        (28002, Code::AAD_RESOURCE_INVALID),
        (700022, Code::AAD_RESOURCE_INVALID),
        (700023, Code::AAD_RESOURCE_INVALID),
        (90002, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (900023, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (90038, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (50059, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (50128, Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID),
        (90072, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (500021, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (500212, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (500213, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (50020, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (16000, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (50034, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (50126, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (50053, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (50055, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (50057, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (50058, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (50105, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (50076, Code::AAD_TOKEN_EXPIRED),
        (50079, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (50072, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (50074, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (50158, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (53003, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (53000, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (53001, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (50131, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (50097, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (530032, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (530035, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (700020, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (65001, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (90094, Code::AAD_CREDENTIAL_UNAVAILABLE),
        (700082, Code::AAD_TOKEN_EXPIRED),
        (70043, Code::AAD_TOKEN_EXPIRED),
        (50173, Code::AAD_TOKEN_EXPIRED),
        (70008, Code::AAD_TOKEN_EXPIRED),
        (50089, Code::AAD_TOKEN_EXPIRED),
        (50078, Code::AAD_TOKEN_EXPIRED),
        (50132, Code::AAD_TOKEN_EXPIRED),
        (50133, Code::AAD_TOKEN_EXPIRED),
        (70000, Code::AAD_TOKEN_EXPIRED),
        (500133, Code::AAD_TOKEN_EXPIRED),
    ];

    const REGISTRY_EXPECTED: &[(&str, Code)] = &[
        ("UNAUTHORIZED", Code::REPOSITORY_PERMISSION_MISSING),
        ("DENIED", Code::REPOSITORY_PERMISSION_MISSING),
        ("DENIED: client with IP", Code::CONNECTIVITY_FORBIDDEN_ERROR),
        (
            "UNAUTHORIZED: Application not registered with AAD",
            Code::APP_NOT_REGISTERED_WITH_AAD,
        ),
        ("REGISTRY_DISALLOWED_OPERATION", Code::ARTIFACT_LOCKED),
        (
            "UNKNOWN: The operation is disallowed",
            Code::ARTIFACT_LOCKED,
        ),
        ("TOOMANYREQUESTS", Code::CONNECTIVITY_TOOMANYREQUESTS_ERROR),
        ("NAME_UNKNOWN", Code::IMAGE_NOT_FOUND),
        ("MANIFEST_UNKNOWN", Code::IMAGE_NOT_FOUND),
        ("BLOB_UNKNOWN", Code::IMAGE_NOT_FOUND),
        ("NAME_INVALID", Code::REGISTRY_NAME_INVALID),
        ("TAG_INVALID", Code::UNEXPECTED_ERROR),
        ("MANIFEST_INVALID", Code::UNEXPECTED_ERROR),
        ("MANIFEST_UNVERIFIED", Code::UNEXPECTED_ERROR),
        ("MANIFEST_BLOB_UNKNOWN", Code::UNEXPECTED_ERROR),
        ("BLOB_UPLOAD_UNKNOWN", Code::UNEXPECTED_ERROR),
        ("BLOB_UPLOAD_INVALID", Code::UNEXPECTED_ERROR),
        ("DIGEST_INVALID", Code::UNEXPECTED_ERROR),
        ("SIZE_INVALID", Code::UNEXPECTED_ERROR),
        ("RANGE_INVALID", Code::UNEXPECTED_ERROR),
        ("PAGINATION_NUMBER_INVALID", Code::UNEXPECTED_ERROR),
        ("UNSUPPORTED", Code::UNEXPECTED_ERROR),
        ("UNAVAILABLE", Code::UNEXPECTED_ERROR),
        ("UNKNOWN", Code::UNEXPECTED_ERROR),
    ];

    const ARM_EXPECTED: &[(&str, Code)] = &[
        ("AuthorizationFailed", Code::ARM_PERMISSION_MISSING),
        ("LinkedAuthorizationFailed", Code::ARM_PERMISSION_MISSING),
        (
            "InvalidAuthenticationTokenTenant",
            Code::ARM_PERMISSION_MISSING,
        ),
        ("ResourceNotFound", Code::LOGIN_SERVER_ERROR),
        ("ResourceGroupNotFound", Code::LOGIN_SERVER_ERROR),
        ("SubscriptionNotFound", Code::LOGIN_SERVER_ERROR),
        ("ParentResourceNotFound", Code::LOGIN_SERVER_ERROR),
        ("ExpiredAuthenticationToken", Code::AAD_TOKEN_EXPIRED),
        (
            "InvalidAuthenticationToken",
            Code::AAD_CREDENTIAL_UNAVAILABLE,
        ),
        ("InvalidAuthenticationTokenAudience", Code::UNEXPECTED_ERROR),
        ("AuthenticationFailed", Code::AAD_CREDENTIAL_UNAVAILABLE),
        (
            "UnAuthorizedForCredentialOperations",
            Code::ADMIN_USER_DISABLED,
        ),
        ("RequestDisallowedByPolicy", Code::UNEXPECTED_ERROR),
        ("MissingSubscriptionRegistration", Code::UNEXPECTED_ERROR),
        (
            "InvalidImageRegistryIdentity",
            Code::MANAGED_IDENTITY_NOT_FOUND,
        ),
    ];

    #[test]
    fn every_aadsts_entry_maps_as_expected() {
        for (code, cause) in AADSTS_EXPECTED {
            let e = aadsts(*code).unwrap_or_else(|| panic!("AADSTS{code} missing"));
            assert_eq!(e.cause, *cause, "AADSTS{code}");
        }
        for e in aadsts_entries() {
            let n: u32 = e.code.parse().unwrap_or_default();
            assert!(
                AADSTS_EXPECTED.iter().any(|(c, _)| *c == n),
                "AADSTS{} has no expectation in this test",
                e.code
            );
        }
        assert_eq!(aadsts_entries().len(), AADSTS_EXPECTED.len());
        assert!(aadsts(1).is_none());
    }

    #[test]
    fn every_registry_entry_maps_as_expected() {
        for (code, cause) in REGISTRY_EXPECTED {
            let e = registry_error(code).unwrap_or_else(|| panic!("{code} missing"));
            assert_eq!(e.cause, *cause, "{code}");
            // Case does not matter.
            assert_eq!(registry_error(&code.to_ascii_lowercase()), Some(e));
        }
        for e in registry_entries() {
            assert!(
                REGISTRY_EXPECTED.iter().any(|(c, _)| *c == e.code),
                "{} has no expectation in this test",
                e.code
            );
        }
        assert_eq!(registry_entries().len(), REGISTRY_EXPECTED.len());
    }

    #[test]
    fn every_arm_entry_maps_as_expected() {
        for (code, cause) in ARM_EXPECTED {
            let e = arm_error(code).unwrap_or_else(|| panic!("{code} missing"));
            assert_eq!(e.cause, *cause, "{code}");
            assert_eq!(arm_error(&code.to_ascii_uppercase()), Some(e));
        }
        for e in arm_entries() {
            assert!(
                ARM_EXPECTED.iter().any(|(c, _)| *c == e.code),
                "{} has no expectation in this test",
                e.code
            );
        }
        assert_eq!(arm_entries().len(), ARM_EXPECTED.len());
    }

    #[test]
    fn the_codes_that_decide_the_credential_check() {
        let cause = |c| aadsts(c).map(|e| e.cause);
        assert_eq!(cause(70021), Some(Code::WORKLOAD_IDENTITY_FEDERATION_ERROR));
        assert_eq!(
            cause(700211),
            Some(Code::WORKLOAD_IDENTITY_FEDERATION_ERROR)
        );
        assert_eq!(
            cause(700213),
            Some(Code::WORKLOAD_IDENTITY_FEDERATION_ERROR)
        );
        assert_eq!(
            cause(700024),
            Some(Code::WORKLOAD_IDENTITY_FEDERATION_ERROR)
        );
        assert_eq!(cause(500011), Some(Code::AAD_RESOURCE_INVALID));
        assert_eq!(cause(7000222), Some(Code::SP_SECRET_EXPIRED));
        assert_eq!(
            cause(7000215),
            Some(Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID)
        );
        assert_eq!(
            cause(700016),
            Some(Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID)
        );
        assert_eq!(
            cause(90002),
            Some(Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID)
        );
        assert_eq!(cause(700082), Some(Code::AAD_TOKEN_EXPIRED));
        assert_eq!(cause(53003), Some(Code::AAD_CREDENTIAL_UNAVAILABLE));
        let e = aadsts(500011).expect("500011");
        assert!(e.source.starts_with("https://learn.microsoft.com/"));
        assert_ne!(e.meaning(Lang::En), e.meaning(Lang::Ja));
    }

    #[test]
    fn acr_specific_rows_need_their_phrase() {
        let firewall = "client with IP '203.0.113.7' is not allowed access. Refer https://aka.ms/acr/firewall to grant access.";
        assert_eq!(
            registry_error_with_message("DENIED", firewall).map(|e| e.cause),
            Some(Code::CONNECTIVITY_FORBIDDEN_ERROR)
        );
        assert_eq!(
            registry_error_with_message("denied", "requested access to the resource is denied")
                .map(|e| e.cause),
            Some(Code::REPOSITORY_PERMISSION_MISSING)
        );
        assert_eq!(
            registry_error_with_message("UNAUTHORIZED", "Application not registered with AAD.")
                .map(|e| e.cause),
            Some(Code::APP_NOT_REGISTERED_WITH_AAD)
        );
        assert_eq!(
            registry_error_with_message("UNKNOWN", "The operation is disallowed.").map(|e| e.cause),
            Some(Code::ARTIFACT_LOCKED)
        );
        // A phrase of another code does not count.
        assert_eq!(
            registry_error_with_message("UNAUTHORIZED", firewall).map(|e| e.cause),
            Some(Code::REPOSITORY_PERMISSION_MISSING)
        );
        assert_eq!(registry_error_with_message("NOT_A_CODE", firewall), None);
    }

    #[test]
    fn bad_rows_are_reported_not_kept() {
        let text = "# comment\n\
                    \n\
                    70021\tWORKLOAD_IDENTITY_FEDERATION_ERROR\tok\tよい\thttps://example.test/a\n\
                    70021\tWORKLOAD_IDENTITY_FEDERATION_ERROR\tok\tよい\thttps://example.test/a\n\
                    12x\tAAD_TOKEN_EXPIRED\tok\tよい\thttps://example.test/a\n\
                    500011\tNO_SUCH_CAUSE\tok\tよい\thttps://example.test/a\n\
                    500012\tAAD_RESOURCE_INVALID\tok\tok\thttp://example.test/a\n\
                    500013\tAAD_RESOURCE_INVALID\tonly three columns\n";
        let t = parse("t.tsv", text, Kind::Aadsts);
        assert_eq!(t.entries.len(), 1);
        assert_eq!(t.errors.len(), 5, "{:#?}", t.errors);
        assert!(t.errors[0].starts_with("t.tsv:4:") && t.errors[0].contains("twice"));
        assert!(t.errors[1].contains("not well formed"));
        assert!(t.errors[2].contains("NO_SUCH_CAUSE"));
        assert!(t.errors[3].contains("no Japanese") && t.errors[3].contains("https://"));
        assert!(t.errors[4].contains("3 columns"));
        let t = parse(
            "r.tsv",
            "lower_case\tUNEXPECTED_ERROR\tok\tよい\thttps://x.test\nDENIED:\tUNEXPECTED_ERROR\tok\tよい\thttps://x.test\n",
            Kind::Registry,
        );
        assert_eq!(t.entries.len(), 0);
        assert_eq!(t.errors.len(), 2);
    }
}
