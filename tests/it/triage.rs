//! Symptom triage against a corpus of real-world messages, the pattern data's coverage of the
//! cause catalogue, and the built binary.

use std::collections::BTreeSet;

use acr_doctor::catalogue::CAUSES;
use acr_doctor::triage::{self, Confidence, Occurrences, MESSAGE_FILES, NO_MESSAGE};
use assert_cmd::Command;

const CORPUS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/triage/corpus.tsv"
));
const TICKET: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/triage/ticket-two-errors.log"
));

/// Causes whose only messages are shared with a more general cause (or whose service wording is
/// undocumented), so a paste can list them but never as the first candidate; `check` tells them apart.
const SHARED_MESSAGE: &[(&str, &str)] = &[
    (
        "DOCKER_STALE_CREDENTIALS",
        "stored credentials that stopped working produce the generic 401",
    ),
    (
        "DOCKER_STORED_TOKEN_EXPIRED",
        "an expired stored token produces the generic 401",
    ),
    (
        "ABAC_LEGACY_ROLE_IGNORED",
        "the denial is the same in every permission mode",
    ),
    (
        "ABAC_CONDITION_EXCLUDES_REPOSITORY",
        "the denial is the same in every permission mode",
    ),
];

fn corpus() -> Vec<(usize, &'static str, String)> {
    CORPUS
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(n, l)| {
            let (code, message) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("corpus line {} has no tab", n + 1));
            (n + 1, code, message.replace("\\n", "\n"))
        })
        .collect()
}

#[test]
fn every_cause_is_either_recognised_or_listed_as_without_message() {
    let with_patterns: BTreeSet<&str> = MESSAGE_FILES.iter().map(|(c, _)| *c).collect();
    let without: BTreeSet<&str> = NO_MESSAGE.iter().map(|(c, _)| *c).collect();
    for cause in CAUSES {
        assert!(
            with_patterns.contains(cause.code) ^ without.contains(cause.code),
            "{} needs patterns in causes/messages/ or an entry in NO_MESSAGE (not both)",
            cause.code
        );
    }
    for code in with_patterns.iter().chain(&without) {
        assert!(
            acr_doctor::catalogue::lookup(code).is_some(),
            "{code} is not in the catalogue"
        );
    }
    for (code, reason) in NO_MESSAGE {
        assert!(reason.len() > 20, "{code} needs a reason");
    }
    assert_eq!(triage::data_errors(), Vec::<String>::new());
    for (code, n) in triage::pattern_counts() {
        assert!(n > 0, "{code} has no pattern");
    }
}

#[test]
fn corpus_messages_map_to_the_expected_first_cause() {
    let mut failures = Vec::new();
    for (line, expected, message) in corpus() {
        let result = triage::triage(&message);
        let got: Vec<&str> = result.candidates.iter().map(|c| c.code.as_str()).collect();
        if got.first() != Some(&expected) {
            failures.push(format!(
                "line {line}: expected {expected}, got {got:?}\n    {message}"
            ));
        }
        for c in &result.candidates {
            assert!(
                c.confirm.starts_with("acr-doctor check --name "),
                "{}",
                c.confirm
            );
            assert!(!c.matched.is_empty() && !c.why.is_empty() && !c.why_ja.is_empty());
        }
    }
    assert!(
        failures.is_empty(),
        "{} corpus lines failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_covers_every_cause_with_a_message() {
    let results: Vec<(&str, Vec<String>)> = corpus()
        .into_iter()
        .map(|(_, expected, message)| {
            let codes = triage::triage(&message)
                .candidates
                .into_iter()
                .map(|c| c.code)
                .collect();
            (expected, codes)
        })
        .collect();
    let firsts: BTreeSet<&str> = results.iter().map(|(e, _)| *e).collect();
    let shared: BTreeSet<&str> = SHARED_MESSAGE.iter().map(|(c, _)| *c).collect();
    for (code, _) in MESSAGE_FILES {
        if shared.contains(code) {
            assert!(
                !firsts.contains(code),
                "{code} is listed as shared but leads a corpus line"
            );
            assert!(
                results
                    .iter()
                    .any(|(_, codes)| codes.iter().any(|c| c == code)),
                "{code} never appears as a candidate in the corpus"
            );
        } else {
            assert!(
                firsts.contains(code),
                "the corpus has no message that leads with {code}"
            );
        }
    }
}

#[test]
fn ticket_with_two_errors_yields_both() {
    let result = triage::triage(TICKET);
    let codes: Vec<&str> = result.candidates.iter().map(|c| c.code.as_str()).collect();
    // The firewall denial ended the job (line 16); the expired secret (line 7) came earlier and
    // the pipeline went on with other credentials: the most recent error chain comes first.
    assert_eq!(
        codes,
        [
            "CONNECTIVITY_FORBIDDEN_ERROR",
            "PRIVATE_ENDPOINT_DNS_ERROR",
            "SP_SECRET_EXPIRED"
        ],
        "{codes:?}"
    );
    let forbidden = &result.candidates[0];
    assert_eq!(forbidden.confidence, Confidence::High);
    assert!(
        forbidden.matched.contains("203.0.113.7"),
        "{}",
        forbidden.matched
    );
    assert_eq!(forbidden.confirm, "acr-doctor check --name contosoreg");
    assert_eq!(forbidden.line, 16);
    let secret = &result.candidates[2];
    assert_eq!(
        secret.confirm,
        "acr-doctor check --name contosoreg --username <app-id> --password-stdin"
    );
    assert_eq!(
        secret.occurrences,
        Some(Occurrences {
            first_line: 7,
            last_line: 7,
            count: 1
        })
    );
    // The lines around the last occurrence are kept: three before, three after.
    let context = forbidden
        .context
        .as_ref()
        .map(|c| (c.first_line, c.lines.len()));
    assert_eq!(context, Some((13, 7)));
    // Each code once, however often its message repeats.
    let unique: BTreeSet<&str> = codes.iter().copied().collect();
    assert_eq!(unique.len(), codes.len());
}

#[test]
fn the_paste_does_not_leak_secrets_into_matched_text() {
    let result = triage::triage(
        "docker login contosoreg.azurecr.io -u someone -p eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.U2VjcmV0U2lnbmF0dXJl",
    );
    let json = acr_doctor::render::triage::render_json(&result);
    assert!(
        result
            .candidates
            .iter()
            .any(|c| c.code == "EXPOSE_TOKEN_USERNAME"),
        "{json}"
    );
    assert!(!json.contains("U2VjcmV0U2lnbmF0dXJl"), "{json}");
}

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("acr-doctor").unwrap_or_else(|e| panic!("binary: {e}"));
    cmd.env_remove("LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES");
    cmd
}

#[test]
fn binary_reads_stdin_and_prints_json() {
    let out = bin()
        .args(["triage", "-", "-o", "json"])
        .write_stdin("Error response from daemon: Get \"https://contosoreg.azurecr.io/v2/\": unauthorized: Application not registered with AAD.\n")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("json: {e}"));
    assert_eq!(v["schema"], "acr-doctor/triage/v1");
    let first = &v["candidates"][0];
    assert_eq!(first["code"], "APP_NOT_REGISTERED_WITH_AAD");
    assert_eq!(first["confidence"], "high");
    assert_eq!(
        first["matched"],
        "unauthorized: Application not registered with AAD."
    );
    assert_eq!(
        first["confirm"],
        "acr-doctor check --name contosoreg --username <app-id> --password-stdin"
    );
    assert!(first["why"].as_str().is_some_and(|w| !w.is_empty()));
}

#[test]
fn binary_exits_one_for_unknown_text() {
    let out = bin()
        .args(["triage", "the deployment was slow today"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("No known cause"));
    bin()
        .args(["triage", "-", "-o", "json"])
        .write_stdin("HTTP 403 from somewhere")
        .assert()
        .code(1);
}

#[test]
fn binary_explains_in_japanese() {
    let out = bin()
        .args([
            "--lang",
            "ja",
            "triage",
            "x509: certificate signed by unknown authority",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("CONNECTIVITY_SSL_ERROR")
            && text.contains("確度: 高")
            && text.contains("証明書"),
        "{text}"
    );
}

// ---- Whole CI logs (issue 23): streamed, counted, never cut silently ----

/// A deterministic hex string of `len` characters for line `n`.
fn hex(n: u64, len: usize) -> String {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut out = String::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(&format!("{:016x}", x));
    }
    out.truncate(len);
    out
}

/// One ordinary build line: digests (every third holding "401" or "403"), UUIDs, timestamps,
/// ports and long numbers, none of them a status code.
fn build_line(n: u64) -> String {
    let mut digest = hex(n, 64);
    if n % 3 == 0 {
        let at = (n % 50) as usize;
        digest.replace_range(at..at + 3, if n % 2 == 0 { "401" } else { "403" });
    }
    let ts = format!(
        "2024-05-22T19:{:02}:{:02}.{:07}Z",
        n / 6000 % 60,
        n / 100 % 60,
        n % 10_000_000
    );
    match n % 5 {
        0 => format!("{ts} #12 sha256:{digest} 4.01MB / 30.43MB 0.4s\n"),
        1 => format!(
            "{ts} {}: Pull complete (layer sha256:{digest})\n",
            &digest[..12]
        ),
        2 => format!(
            "{ts} test case_{n} ... ok (id {}-4031-a403-{}, port 4013, 14013 ms)\n",
            hex(n, 8),
            hex(n + 7, 12)
        ),
        3 => format!(
            "{ts}    Compiling crate-{} v0.{}.{} (index 40301)\n",
            n % 997,
            n % 40,
            n % 13
        ),
        _ => format!(
            "{ts} #7 [build 3/9] RUN make -j4 target-{n} # digest {}\n",
            &digest[..40]
        ),
    }
}

const DNS_LINE: &str = "lookup contosoreg.azurecr.io on 10.0.0.10:53: no such host\n";

fn json_of(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("json: {e}"))
}

fn codes_of(v: &serde_json::Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_38_mb_log_on_stdin_is_read_whole_and_the_error_in_its_middle_is_found() {
    let lines = 300_000u64;
    let mut log = String::with_capacity(40 << 20);
    for n in 0..lines {
        if n == lines / 2 {
            log.push_str(DNS_LINE);
        }
        log.push_str(&build_line(n));
    }
    assert!(log.len() > 30 << 20, "{} bytes", log.len());
    assert!(log.contains("401") && log.contains("403"));
    let out = bin()
        .args(["triage", "-", "-o", "json"])
        .write_stdin(log.clone())
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    let dns_line = lines / 2 + 1;
    assert_eq!(codes_of(&v, "candidates"), ["CONNECTIVITY_DNS_ERROR"]);
    let first = &v["candidates"][0];
    assert_eq!(first["confidence"], "high");
    assert_eq!(first["line"], dns_line);
    assert_eq!(first["occurrences"]["first_line"], dns_line);
    assert_eq!(first["occurrences"]["last_line"], dns_line);
    assert_eq!(first["occurrences"]["count"], 1);
    assert_eq!(first["confirm"], "acr-doctor check --name contosoreg");
    assert_eq!(first["context"]["first_line"], dns_line - 3);
    assert_eq!(first["context"]["lines"].as_array().map(Vec::len), Some(7));
    assert!(v.get("guesses").is_none(), "{}", v["guesses"]);
    let read = &v["read"];
    assert_eq!(read["source"], "stdin");
    assert_eq!(read["lines"], lines + 1);
    assert_eq!(read["bytes"], log.len() as u64);
    assert_eq!(read["complete"], true);
    assert_eq!(read["gzip"], false);
    assert_eq!(read["limits"][0]["kind"], "line_length");
    assert_eq!(read["limits"][0]["lines"], 0);
}

#[test]
fn digits_inside_digests_uuids_timestamps_ports_and_numbers_are_no_guess() {
    let log: String = (0..20_000u64).map(build_line).collect();
    let result = triage::triage_reader(log.as_bytes());
    assert!(result.candidates.is_empty());
    let guessed: Vec<&str> = result.guesses.iter().map(|g| g.code.as_str()).collect();
    assert!(
        !guessed.contains(&"BASIC_CREDENTIALS_INVALID")
            && !guessed.contains(&"CONNECTIVITY_FORBIDDEN_ERROR"),
        "{guessed:?}"
    );
    assert_eq!(result.read.lines, 20_000);
    // A status code said as one is still a hint, with its line.
    let with_status = format!(
        "{log}curl: (22) The requested URL returned error: 403\nHTTP/1.1 401 Unauthorized\n"
    );
    let result = triage::triage_reader(with_status.as_bytes());
    let guessed: Vec<(&str, u64)> = result
        .guesses
        .iter()
        .map(|g| (g.code.as_str(), g.line))
        .collect();
    assert_eq!(
        guessed,
        [
            ("CONNECTIVITY_FORBIDDEN_ERROR", 20_001),
            ("BASIC_CREDENTIALS_INVALID", 20_002)
        ]
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap_or_else(|e| panic!("gzip: {e}"));
    enc.finish().unwrap_or_else(|e| panic!("gzip: {e}"))
}

#[test]
fn a_gzip_file_is_read_through_file_whatever_its_name() {
    let mut log: String = (0..5_000u64).map(build_line).collect();
    log.push_str("2024-05-22T19:23:52Z x509: certificate signed by unknown authority\n");
    log.extend((5_000..6_000u64).map(build_line));
    let packed = gzip(log.as_bytes());
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    for name in ["build.log.gz", "build.log"] {
        let path = dir.path().join(name);
        std::fs::write(&path, &packed).unwrap_or_else(|e| panic!("write: {e}"));
        let out = bin()
            .args(["triage", "-o", "json", "--file"])
            .arg(&path)
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        let v = json_of(&out);
        assert_eq!(
            codes_of(&v, "candidates"),
            ["CONNECTIVITY_SSL_ERROR"],
            "{name}"
        );
        assert_eq!(v["candidates"][0]["line"], 5_001, "{name}");
        let read = &v["read"];
        assert_eq!(read["source"], "file");
        assert_eq!(read["gzip"], true, "{name}");
        assert_eq!(read["lines"], 6_001);
        assert_eq!(read["bytes"], log.len() as u64);
        assert_eq!(read["compressed_bytes"], packed.len() as u64);
        assert_eq!(read["complete"], true);
    }
    // Concatenated members (`cat a.gz b.gz`) are one stream; `--file -` is standard input.
    let mut two = gzip(b"first line\n");
    two.extend(gzip(b"unauthorized: Application not registered with AAD\n"));
    let out = bin()
        .args(["triage", "--file", "-", "-o", "json"])
        .write_stdin(two)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    assert_eq!(codes_of(&v, "candidates"), ["APP_NOT_REGISTERED_WITH_AAD"]);
    assert_eq!(v["candidates"][0]["line"], 2);
    assert_eq!(v["read"]["lines"], 2);
}

#[test]
fn a_damaged_gzip_stream_is_reported_as_incomplete() {
    let mut log: String = (0..2_000u64).map(build_line).collect();
    log.push_str("x509: certificate signed by unknown authority\n");
    log.extend((0..20_000u64).map(build_line));
    let mut packed = gzip(log.as_bytes());
    packed.truncate(packed.len() / 2);
    let out = bin()
        .args(["triage", "-", "-o", "json"])
        .write_stdin(packed)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let v = json_of(&out.stdout);
    assert_eq!(codes_of(&v, "candidates"), ["CONNECTIVITY_SSL_ERROR"]);
    assert_eq!(v["read"]["complete"], false);
    assert!(v["read"]["error"].as_str().is_some_and(|e| !e.is_empty()));
    assert!(v["read"]["bytes"]
        .as_u64()
        .is_some_and(|b| b < log.len() as u64));
    assert!(!out.stderr.is_empty());
}

#[test]
fn a_line_longer_than_the_cap_is_examined_and_reported() {
    let cap = 1usize << 20;
    let mut log = String::from("first line\n");
    // Line 2: longer than the cap, its error at the very end, past the first window.
    log.push_str(&"x".repeat(cap + cap / 2));
    log.push_str(" lookup contosoreg.azurecr.io: no such host\n");
    log.push_str("third line\n");
    // Line 4: longer still, and nothing in it.
    log.push_str(&"y".repeat(2 * cap + 17));
    log.push('\n');
    let result = triage::triage_reader(log.as_bytes());
    let codes: Vec<&str> = result.candidates.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, ["CONNECTIVITY_DNS_ERROR"]);
    assert_eq!(result.candidates[0].line, 2);
    assert_eq!(result.read.lines, 4);
    assert_eq!(result.read.bytes, log.len() as u64);
    let limit = &result.read.limits[0];
    assert_eq!(limit.kind, "line_length");
    assert_eq!(limit.max_bytes, cap as u64);
    assert_eq!(limit.lines, 2);
    assert_eq!(limit.first_line, Some(2));
    // A message crossing the edge of the first window is still seen whole.
    let mut edge = "z".repeat(cap - 20);
    edge.push_str(" x509: certificate signed by unknown authority ");
    edge.push_str(&"z".repeat(cap));
    let result = triage::triage_reader(edge.as_bytes());
    let codes: Vec<&str> = result.candidates.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, ["CONNECTIVITY_SSL_ERROR"]);
    assert_eq!((result.read.lines, result.read.limits[0].lines), (1, 1));
}

/// A reader that hands out a few bytes at a time, as a slow pipe does.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.step = self.step % 7 + 1;
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn the_read_summary_counts_lines_and_bytes_exactly() {
    for (text, lines) in [
        ("", 0),
        ("a", 1),
        ("a\n", 1),
        ("a\nb", 2),
        ("\n\n", 2),
        ("a\r\nb\r\n", 2),
        ("a\n\nb\n\n\nc", 6),
    ] {
        let r = triage::triage(text);
        assert_eq!(
            (r.read.lines, r.read.bytes),
            (lines, text.len() as u64),
            "{text:?}"
        );
        assert_eq!(r.read.source, "argument");
        assert!(r.read.complete);
    }
    // However the bytes arrive, the same lines, counts and candidates.
    let mut log: String = (0..3_000u64).map(build_line).collect();
    for (n, line) in [
        (100, "unauthorized: authentication required"),
        (1_500, "x509: certificate signed by unknown authority"),
        (2_999, "unauthorized: authentication required"),
    ] {
        let at = log.match_indices('\n').nth(n - 1).map_or(0, |(i, _)| i + 1);
        log.insert_str(at, &format!("{line}\r\n"));
    }
    let whole = triage::triage_reader(log.as_bytes());
    let slow = triage::triage_reader(Trickle {
        data: log.as_bytes(),
        step: 0,
    });
    assert_eq!(whole.read, slow.read);
    assert_eq!(whole.read.lines, 3_003);
    let summary = |r: &triage::TriageResult| -> Vec<(String, u64, Option<Occurrences>)> {
        r.candidates
            .iter()
            .map(|c| (c.code.clone(), c.line, c.occurrences))
            .collect()
    };
    assert_eq!(summary(&whole), summary(&slow));
    let basic = whole
        .candidates
        .iter()
        .find(|c| c.code == "BASIC_CREDENTIALS_INVALID")
        .and_then(|c| c.occurrences);
    assert_eq!(
        basic,
        Some(Occurrences {
            first_line: 101,
            last_line: 3_000,
            count: 2
        })
    );
    assert_eq!(
        whole
            .candidates
            .iter()
            .map(|c| c.context.clone())
            .collect::<Vec<_>>(),
        slow.candidates
            .iter()
            .map(|c| c.context.clone())
            .collect::<Vec<_>>()
    );
}

#[test]
fn file_flag_errors_are_usage_errors() {
    bin()
        .args(["triage", "--file", "/nonexistent/build.log"])
        .assert()
        .code(2);
    bin()
        .args(["triage", "some text", "--file", "build.log"])
        .assert()
        .code(2);
}

const REAL_CORPUS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/triage/real-corpus.tsv"
));

/// The floor kept on real pasted text (`cargo run --example triage_accuracy` prints the table):
/// the first candidate is the cause the source established for at least 90% of the messages.
#[test]
fn real_corpus_first_candidate_is_right_for_nine_in_ten() {
    let known: Vec<String> = CAUSES.iter().map(|c| c.code.to_string()).collect();
    let (mut total, mut right) = (0usize, 0usize);
    let mut missed = Vec::new();
    for (n, line) in REAL_CORPUS.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.splitn(6, '\t').collect();
        assert_eq!(cols.len(), 6, "line {}: six columns", n + 1);
        assert!(
            known.contains(&cols[0].to_string()),
            "line {}: unknown code {}",
            n + 1,
            cols[0]
        );
        assert!(
            cols[4].starts_with("https://"),
            "line {}: a source URL",
            n + 1
        );
        let text = cols[5].replace("\\n", "\n").replace("\\t", "\t");
        let result = triage::triage(&text);
        total += 1;
        match result.candidates.first() {
            Some(c) if c.code == cols[0] => right += 1,
            other => missed.push(format!(
                "line {}: {} got {:?}",
                n + 1,
                cols[0],
                other.map(|c| &c.code)
            )),
        }
    }
    assert!(total >= 200, "the corpus holds {total} messages");
    assert!(
        right * 10 >= total * 9,
        "{right}/{total} right first; missed:\n{}",
        missed.join("\n")
    );
}

#[test]
fn the_layer_a_chain_fails_at_outranks_a_keyword() {
    // "daemon" is in the text, but the registry's error code says what failed.
    let r = triage::triage(
        "Error response from daemon: manifest for contosoreg.azurecr.io/app:1.0 not found: manifest unknown: manifest unknown",
    );
    let codes: Vec<&str> = r.candidates.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes.first(), Some(&"IMAGE_NOT_FOUND"), "{codes:?}");
    assert!(!codes.contains(&"DOCKER_DAEMON_ERROR"), "{codes:?}");
}

#[test]
fn the_failed_link_carries_its_layer_and_the_role_of_its_host() {
    let v = json_of(
        &bin()
            .args(["triage", "-o", "json", "-"])
            .write_stdin(
                "failed to copy: httpReadSeeker: failed open: failed to do request: Get \
                 \"https://contosoreg.westeurope.data.azurecr.io/docker/registry/v2/blobs/sha256/ab/data\": \
                 dial tcp 20.50.1.2:443: i/o timeout\n",
            )
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let first = &v["candidates"][0];
    assert_eq!(first["code"], "DATA_ENDPOINT_UNREACHABLE");
    assert_eq!(first["link"]["layer"], "tcp");
    assert_eq!(first["link"]["host_role"], "data_endpoint");
    assert_eq!(
        first["link"]["host"],
        "contosoreg.westeurope.data.azurecr.io"
    );
}

#[test]
fn the_confirming_command_carries_the_tag_the_operation_and_the_cluster() {
    let kubelet = "Warning  Failed  kubelet  Failed to pull image \"contosoreg.azurecr.io/team/app:1.0\": \
        rpc error: code = Unknown desc = failed to pull and unpack image \"contosoreg.azurecr.io/team/app:1.0\": \
        failed to resolve reference \"contosoreg.azurecr.io/team/app:1.0\": failed to authorize: failed to fetch \
        anonymous token: unexpected status from GET request to https://contosoreg.azurecr.io/oauth2/token?\
        scope=repository%3Ateam%2Fapp%3Apull&service=contosoreg.azurecr.io: 401 Unauthorized";
    let r = triage::triage(kubelet);
    let confirm = &r.candidates[0].confirm;
    assert!(
        confirm.starts_with("acr-doctor check --name contosoreg "),
        "{confirm}"
    );
    assert!(confirm.contains("--repository team/app:1.0"), "{confirm}");
    assert!(confirm.contains("--need pull"), "{confirm}");
    assert!(
        confirm.contains("--aks <cluster> --aks-resource-group <resource-group>"),
        "{confirm}"
    );
    assert!(!confirm.contains("--auth anonymous"), "{confirm}");

    let push = "The push refers to repository [contosoreg.azurecr.io/shop/web]\n\
        5f70bf18a086: Preparing\n\
        denied: requested access to the resource is denied";
    let r = triage::triage(push);
    let c = r
        .candidates
        .iter()
        .find(|c| c.confirm.contains("--need"))
        .expect("a candidate that names the operation");
    assert!(c.confirm.contains("--need push"), "{}", c.confirm);
    assert!(c.confirm.contains("--repository shop/web"), "{}", c.confirm);
}

#[test]
fn an_unqualified_push_that_docker_hub_refuses_is_not_a_registry_permission() {
    let r = triage::triage(
        "nerdctl push contosoreg/container:0.0.1\n\
         FATA[0007] push access denied, repository does not exist or may require authorization: \
         server message: insufficient_scope: authorization failed",
    );
    assert_eq!(r.candidates[0].code, "IMAGE_NOT_TAGGED_FOR_REGISTRY");
}

#[test]
fn a_cause_that_is_not_an_access_problem_says_so() {
    let r = triage::triage("no matching manifest for linux/arm64/v8 in the manifest list entries");
    assert_eq!(r.candidates[0].code, "IMAGE_PLATFORM_MISMATCH");
    assert!(!r.candidates[0].access_problem);
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["candidates"][0]["access_problem"], false);
    // An access problem carries no such field.
    let r = triage::triage("dial tcp: lookup contosoreg.azurecr.io: no such host");
    assert!(r.candidates[0].access_problem);
    let v = serde_json::to_value(&r).unwrap();
    assert!(v["candidates"][0].get("access_problem").is_none());
}
