//! The answer built from what a scan found: each cause once, grouped into error chains, the
//! most recent chain first; keyword guesses only when no pattern matched.

use std::collections::HashSet;

use super::confirm::{confirm_command, confirm_command_near, Near};
use super::data::Data;
use super::result::{Candidate, Confidence, Context, Occurrences, ReadSummary, TriageResult};
use super::scan;
use crate::catalogue::Code;

/// The longest matched text a candidate carries, in characters.
const MATCHED_MAX_CHARS: usize = 200;
/// At most this many closest guesses are offered for unknown text.
pub(super) const MAX_GUESSES: usize = 3;

/// Causes where reaching and signing in to the registry worked: what failed is the image.
const NOT_ACCESS: &[&str] = &[
    Code::IMAGE_NOT_FOUND.as_str(),
    Code::IMAGE_PLATFORM_MISMATCH.as_str(),
    Code::IMAGE_NOT_TAGGED_FOR_REGISTRY.as_str(),
    Code::ARTIFACT_LOCKED.as_str(),
];

/// How far before a cause it explains (`@outranks`) a match may lie and still join its chain.
const CHAIN_LINES: u64 = 30;

/// Whether `a` outranks `b`, directly or through other causes.
pub(super) fn explains(data: &Data, a: &str, b: &str) -> bool {
    let mut stack = vec![a];
    let mut seen = std::collections::HashSet::new();
    while let Some(code) = stack.pop() {
        if !seen.insert(code) {
            continue;
        }
        if let Some(cause) = data.causes.iter().find(|c| c.code == code) {
            if cause.outranks.contains(&b) {
                return true;
            }
            stack.extend(cause.outranks.iter().copied());
        }
    }
    false
}

/// Builds the answer from what a scan found.
///
/// Order: each distinct cause once. Causes whose last occurrences lie within
/// [`scan::CONTEXT_LINES`] lines of each other are one error chain, and so is a cause that
/// `@outranks` (explains) one in the chain within [`CHAIN_LINES`] lines (a push's layer lines sit
/// between the line naming the repository and the refusal), ordered by confidence,
/// then `@outranks`, then position; chains are ordered by their last line, most recent first,
/// since in a CI log the last error is usually the one that ended the job.
pub(super) fn answer(data: &Data, found: scan::Found, read: ReadSummary) -> TriageResult {
    let scan::Found {
        causes,
        guesses,
        registry,
        repository,
    } = found;
    let mut by_recency: Vec<&(usize, scan::Acc)> = causes.iter().collect();
    by_recency.sort_by_key(|(i, acc)| (std::cmp::Reverse(acc.last_line), *i));
    let mut chains: Vec<Vec<&(usize, scan::Acc)>> = Vec::new();
    let mut previous: Option<u64> = None;
    for entry in by_recency {
        let last = entry.1.last_line;
        match (previous, chains.last_mut()) {
            (Some(p), Some(chain))
                if p - last <= scan::CONTEXT_LINES as u64
                    || chain.iter().any(|(j, acc)| {
                        acc.last_line - last <= CHAIN_LINES
                            && explains(data, data.causes[entry.0].code, data.causes[*j].code)
                    }) =>
            {
                chain.push(entry)
            }
            _ => chains.push(vec![entry]),
        }
        previous = Some(last);
    }
    let mut candidates = Vec::new();
    for mut chain in chains {
        chain.sort_by_key(|(i, acc)| {
            let depth = data.depth.get(data.causes[*i].code).copied().unwrap_or(0);
            (
                std::cmp::Reverse(acc.confidence),
                std::cmp::Reverse(depth),
                acc.best_line,
                acc.best_start,
                *i,
            )
        });
        for (i, acc) in chain {
            let cause = &data.causes[*i];
            let registry = acc.registry.as_deref().or(registry.as_deref());
            let repository = acc.repository.as_deref().or(repository.as_deref());
            let near = Near::read(&acc.matched, &acc.context.lines, repository);
            candidates.push(Candidate {
                code: cause.code.to_string(),
                confidence: acc.confidence,
                matched: shorten(&crate::redact::scrub_shapes(&acc.matched)),
                confirm: confirm_command_near(cause, registry, repository, &near),
                why: cause.why_en.to_string(),
                why_ja: cause.why_ja.to_string(),
                line: acc.best_line,
                occurrences: Some(Occurrences {
                    first_line: acc.first_line,
                    last_line: acc.last_line,
                    count: acc.count,
                }),
                context: Some(Context {
                    first_line: acc.context.first_line,
                    lines: acc
                        .context
                        .lines
                        .iter()
                        .map(|l| crate::redact::scrub_shapes(l))
                        .collect(),
                }),
                link: acc.link.clone().map(|mut l| {
                    l.host = l.host.map(|h| crate::redact::scrub_shapes(&h));
                    l
                }),
                access_problem: !NOT_ACCESS.contains(&cause.code),
            });
        }
    }
    let guesses = if candidates.is_empty() {
        closest_guesses(data, guesses, registry.as_deref(), repository.as_deref())
    } else {
        Vec::new()
    };
    TriageResult {
        schema: "acr-doctor/triage/v1".into(),
        candidates,
        guesses,
        read,
    }
}

/// The first few keyword guesses, in the order they occur; one per cause.
fn closest_guesses(
    data: &Data,
    mut found: Vec<scan::GuessHit>,
    registry: Option<&str>,
    repository: Option<&str>,
) -> Vec<Candidate> {
    found.sort_by_key(|h| (h.line, h.start));
    let mut seen = HashSet::new();
    found
        .into_iter()
        .filter(|h| seen.insert(data.guesses[h.guess].code))
        .take(MAX_GUESSES)
        .filter_map(|h| {
            let code = data.guesses[h.guess].code;
            data.causes
                .iter()
                .find(|c| c.code == code)
                .map(|cause| Candidate {
                    code: code.to_string(),
                    confidence: Confidence::Low,
                    matched: shorten(&crate::redact::scrub_shapes(&h.matched)),
                    confirm: confirm_command(cause.confirm, registry, repository),
                    why: cause.why_en.to_string(),
                    why_ja: cause.why_ja.to_string(),
                    line: h.line,
                    occurrences: None,
                    context: None,
                    link: None,
                    access_problem: !NOT_ACCESS.contains(&code),
                })
        })
        .collect()
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MATCHED_MAX_CHARS {
        return text.to_string();
    }
    let mut out: String = text.chars().take(MATCHED_MAX_CHARS - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::{codes, triage};

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
    fn no_guess_beside_a_pattern_match() {
        let r = triage(
            "status: 403\nthe proxy was slow\nx509: certificate signed by unknown authority",
        );
        let codes: Vec<&str> = r.candidates.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["CONNECTIVITY_SSL_ERROR"]);
        assert!(r.guesses.is_empty());
    }

    #[test]
    fn the_most_recent_error_chain_comes_first() {
        let text = "unauthorized: Application not registered with AAD\n\
                    unauthorized: authentication required\n\
                    step 2\nstep 3\nstep 4\nstep 5\n\
                    x509: certificate signed by unknown authority\n\
                    done\n\
                    x509: certificate signed by unknown authority\n";
        let r = triage(text);
        let got: Vec<(&str, u64, Option<Occurrences>)> = r
            .candidates
            .iter()
            .map(|c| (c.code.as_str(), c.line, c.occurrences))
            .collect();
        let once = |line| {
            Some(Occurrences {
                first_line: line,
                last_line: line,
                count: 1,
            })
        };
        assert_eq!(
            got[..2],
            [
                (
                    "CONNECTIVITY_SSL_ERROR",
                    9,
                    Some(Occurrences {
                        first_line: 7,
                        last_line: 9,
                        count: 2
                    })
                ),
                // One chain (adjacent lines): the specific message before the generic one,
                // which several causes share.
                ("APP_NOT_REGISTERED_WITH_AAD", 1, once(1)),
            ]
        );
        assert!(got[2..]
            .iter()
            .all(|(_, line, o)| *line == 2 && *o == once(2)));
        assert!(got
            .iter()
            .any(|(c, _, _)| *c == "BASIC_CREDENTIALS_INVALID"));
    }
}
