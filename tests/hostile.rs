//! Hostile and broken servers: every run ends, within the time budget, in a specific finding
//! (never a crash, never exit status 3), reads bodies with a cap, prints no secret, and never
//! hands a credential to another host.
//!
//! The bed's `mangle` and `redirect` faults spoil answers (huge or broken headers, huge, cut,
//! non-JSON or non-UTF-8 bodies, absurd JWTs, redirects); `hang` and `trickle` stall them. A few
//! cases use tiny loopback listeners of their own (a server that never answers, a "second host"
//! that records what reaches it).

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use acr_doctor::cli::FailOn;
use acr_doctor::lang::Lang;
use acr_doctor::render::{self, Style};
use acr_doctor::CheckRun;
use acr_testbed::{BedSpec, Fault, Mangle, Registry, TestBed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const REG: &str = "contosoreg";
/// Generous bound for one whole run with `--timeout 1`.
const BOUND: Duration = Duration::from_secs(30);
/// The Entra token endpoint, whatever the tenant.
const ENTRA_TOKEN: &str = "*/oauth2/v2.0/token";

async fn bed() -> TestBed {
    // The bed checks registry tokens itself: no docker-registry child needed here.
    TestBed::start(BedSpec::new().registry(Registry::new(REG).real_backend(false)))
        .await
        .expect("test bed starts")
}

/// Options of one hostile run.
#[derive(Default)]
struct Opts<'a> {
    args: Vec<&'a str>,
    env: Vec<(String, String)>,
    /// Credential variables of the default service principal (`--auth env`).
    no_sp: bool,
}

struct Ran {
    run: CheckRun,
    rendered: String,
    elapsed: Duration,
    _home: tempfile::TempDir,
}

impl Ran {
    fn codes(&self) -> Vec<&str> {
        self.run
            .report
            .findings
            .iter()
            .map(|f| f.code.as_str())
            .collect()
    }

    /// The report has a finding with one of `codes`.
    #[track_caller]
    fn finds_any(&self, codes: &[&str]) {
        let have = self.codes();
        assert!(
            codes.iter().any(|c| have.contains(c)),
            "expected a finding {codes:?}, got {have:?}\n{}",
            self.rendered
        );
    }

    #[track_caller]
    fn finds(&self, code: &str) {
        self.finds_any(&[code]);
    }

    #[track_caller]
    fn finds_none(&self, codes: &[&str]) {
        let have = self.codes();
        for c in codes {
            assert!(
                !have.contains(c),
                "unexpected finding {c} in {have:?}\n{}",
                self.rendered
            );
        }
    }
}

/// Runs `check` against the bed with `--timeout 1` and asserts what every hostile run must
/// hold: it ends within [`BOUND`], no check crashed (exit status 3 never), and no renderer nor
/// the trace shows a secret.
async fn diagnose(bed: &TestBed, opts: Opts<'_>) -> Ran {
    let home = support::temp_home();
    let empty_path = support::bin_dir(home.path());
    let mut argv = support::bed_args(bed, REG, &[&["--timeout", "1"], &opts.args[..]].concat());
    if !opts.args.contains(&"--auth") {
        argv.extend(["--auth".to_string(), "env".to_string()]);
    }
    let args = support::parse_args(&argv);
    let path = empty_path.display().to_string();
    let mut env = support::bed_env(bed, home.path(), &path, !opts.no_sp);
    support::set_config_dirs(&mut env, home.path());
    env.extend(opts.env);
    let started = Instant::now();
    let run = tokio::time::timeout(BOUND, acr_doctor::run_check(&args, REG, env, Lang::En))
        .await
        .unwrap_or_else(|_| panic!("the run did not finish within {BOUND:?}"))
        .expect("no usage error");
    let elapsed = started.elapsed();
    let rendered = render::human::render(&run.report, Style::plain(Lang::En));
    assert!(
        !run.internal_error,
        "a check crashed (exit status 3):\n{rendered}"
    );
    assert_ne!(run.exit_code(FailOn::Error), acr_doctor::exit::INTERNAL);
    assert_no_secret(&run, &rendered);
    Ran {
        run,
        rendered,
        elapsed,
        _home: home,
    }
}

/// No renderer and no trace line shows a secret of the bed (they all contain `CANARY`) or a
/// whole JWT.
fn assert_no_secret(run: &CheckRun, human: &str) {
    let outputs = [
        ("human", human.to_string()),
        ("json", render::json::render(&run.report)),
        ("markdown", render::markdown::render(&run.report, Lang::En)),
        ("github", render::github::annotations(&run.report, Lang::En)),
        ("trace", run.trace.join("\n")),
    ];
    for (name, text) in outputs {
        support::assert_no_secret(&format!("{name} output"), &text);
    }
}

fn mangle(bed: &TestBed, path: &str, how: Mangle) {
    bed.set_fault(
        None,
        Fault::Mangle {
            path: path.into(),
            how,
        },
    );
}

/// Every answer on `path` becomes a 307 to `to` (another host).
fn redirect(bed: &TestBed, path: &str, to: String) {
    bed.set_fault(
        None,
        Fault::Redirect {
            path: path.into(),
            to,
        },
    );
}

/// A fresh bed whose answers on `path` are spoiled as `how`, diagnosed with the default options.
async fn diagnose_mangled(path: &str, how: Mangle) -> Ran {
    let bed = bed().await;
    mangle(&bed, path, how);
    diagnose(&bed, Opts::default()).await
}

/// Peak resident memory of this process (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Stalled servers.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_that_never_answers_ends_in_challenge_error() {
    let bed = bed().await;
    bed.set_fault(Some(REG), Fault::Hang);
    let ran = diagnose(&bed, Opts::default()).await;
    ran.finds("CONNECTIVITY_CHALLENGE_ERROR");
    assert!(ran.elapsed < BOUND, "{:?}", ran.elapsed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_trickling_a_byte_a_second_ends_in_challenge_error() {
    let bed = bed().await;
    bed.set_fault(Some(REG), Fault::Trickle { interval_ms: 1000 });
    let ran = diagnose(&bed, Opts::default()).await;
    ran.finds("CONNECTIVITY_CHALLENGE_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_that_accepts_and_never_answers_ends_in_credential_unavailable() {
    let bed = bed().await;
    let (addr, _held) = hanging_listener().await;
    let ran = diagnose(
        &bed,
        Opts {
            // Plain TCP that never speaks: the TLS handshake itself stalls.
            env: vec![("AZURE_AUTHORITY_HOST".into(), format!("https://{addr}"))],
            ..Default::default()
        },
    )
    .await;
    ran.finds("AAD_CREDENTIAL_UNAVAILABLE");
}

/// A listener that accepts connections and keeps them open without a byte.
async fn hanging_listener() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    (addr, task)
}

// ---------------------------------------------------------------------------------------------
// Headers: malformed, duplicated, huge.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_challenge_header_ends_in_challenge_error() {
    let ran = diagnose_mangled("/v2/", Mangle::HugeHeader).await;
    ran.finds("CONNECTIVITY_CHALLENGE_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_headers_end_in_challenge_error() {
    let ran = diagnose_mangled("/v2/", Mangle::ManyHeaders).await;
    ran.finds("CONNECTIVITY_CHALLENGE_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenge_that_is_not_utf8_is_a_malformed_challenge() {
    let ran = diagnose_mangled("/v2/", Mangle::NotUtf8Header).await;
    ran.finds("CONNECTIVITY_WWW_AUTHENTICATE_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenge_without_realm_value_is_a_malformed_challenge() {
    let bed = bed().await;
    bed.set_fault(Some(REG), Fault::MalformedChallenge);
    let ran = diagnose(&bed, Opts::default()).await;
    ran.finds("CONNECTIVITY_WWW_AUTHENTICATE_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_challenges_still_lead_to_bearer_login() {
    let bed = bed().await;
    mangle(&bed, "/v2/", Mangle::DuplicateChallenge);
    let ran = diagnose(&bed, Opts::default()).await;
    // `Basic realm=..` first, then the real Bearer challenge twice: the Bearer one is used.
    ran.finds_none(&[
        "CONNECTIVITY_CHALLENGE_ERROR",
        "CONNECTIVITY_WWW_AUTHENTICATE_ERROR",
        "CONNECTIVITY_AAD_LOGIN_ERROR",
        "CONNECTIVITY_REFRESH_TOKEN_ERROR",
        "CONNECTIVITY_ACCESS_TOKEN_ERROR",
        "UNEXPECTED_ERROR",
    ]);
    assert!(
        bed.request_log()
            .iter()
            .any(|r| r.path == "/oauth2/exchange" && r.status == 200),
        "the refresh token exchange never succeeded: {:?}",
        bed.request_log()
    );
}

// ---------------------------------------------------------------------------------------------
// Bodies: enormous, truncated, not JSON, not UTF-8.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enormous_exchange_body_is_capped_and_ends_in_refresh_token_error() {
    let bed = bed().await;
    mangle(&bed, "/oauth2/exchange", Mangle::HugeBody);
    let before = peak_rss_kib();
    let ran = diagnose(&bed, Opts::default()).await;
    let grown_mib = peak_rss_kib().saturating_sub(before) / 1024;
    ran.finds("CONNECTIVITY_REFRESH_TOKEN_ERROR");
    // The bed streams 64 MiB; acr-doctor reads at most BODY_CAP (1 MiB) of it.
    assert!(
        grown_mib < 48,
        "peak memory grew by {grown_mib} MiB reading a 64 MiB body (cap is {} bytes)",
        acr_doctor::context::BODY_CAP
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_exchange_body_ends_in_refresh_token_error() {
    diagnose_mangled("/oauth2/exchange", Mangle::TruncatedBody)
        .await
        .finds("CONNECTIVITY_REFRESH_TOKEN_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_body_that_is_not_json_ends_in_refresh_token_error() {
    diagnose_mangled("/oauth2/exchange", Mangle::NotJson)
        .await
        .finds("CONNECTIVITY_REFRESH_TOKEN_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_body_that_is_not_utf8_ends_in_refresh_token_error() {
    diagnose_mangled("/oauth2/exchange", Mangle::NotUtf8Body)
        .await
        .finds("CONNECTIVITY_REFRESH_TOKEN_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_body_that_is_not_json_ends_in_access_token_error() {
    diagnose_mangled("/oauth2/token", Mangle::NotJson)
        .await
        .finds("CONNECTIVITY_ACCESS_TOKEN_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_access_token_body_ends_in_access_token_error() {
    diagnose_mangled("/oauth2/token", Mangle::TruncatedBody)
        .await
        .finds("CONNECTIVITY_ACCESS_TOKEN_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_answer_that_is_not_json_ends_in_credential_unavailable() {
    diagnose_mangled(ENTRA_TOKEN, Mangle::NotJson)
        .await
        .finds("AAD_CREDENTIAL_UNAVAILABLE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enormous_entra_answer_ends_in_credential_unavailable() {
    diagnose_mangled(ENTRA_TOKEN, Mangle::HugeBody)
        .await
        .finds("AAD_CREDENTIAL_UNAVAILABLE");
}

// ---------------------------------------------------------------------------------------------
// JWTs with bad base64, missing parts, absurd claims.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_token_with_negative_exp_is_expired() {
    diagnose_mangled(ENTRA_TOKEN, Mangle::JwtExpNegative)
        .await
        .finds("AAD_TOKEN_EXPIRED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_token_expiring_in_year_99999_does_not_break_the_run() {
    let ran = diagnose_mangled(ENTRA_TOKEN, Mangle::JwtExpFar).await;
    // The token is genuinely signed and far from expiry: login goes through.
    ran.finds_none(&[
        "AAD_TOKEN_EXPIRED",
        "CREDENTIAL_EXPIRES_SOON",
        "CONNECTIVITY_REFRESH_TOKEN_ERROR",
        "UNEXPECTED_ERROR",
    ]);
    let json = render::json::render(&ran.run.report);
    assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_token_with_string_exp_is_refused_at_exchange() {
    // The login server refuses it ("has expired"); acr-doctor may name either.
    diagnose_mangled(ENTRA_TOKEN, Mangle::JwtExpString)
        .await
        .finds_any(&["CONNECTIVITY_REFRESH_TOKEN_ERROR", "AAD_TOKEN_EXPIRED"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_token_with_bad_base64_is_refused_at_exchange() {
    diagnose_mangled(ENTRA_TOKEN, Mangle::JwtBadBase64)
        .await
        .finds("CONNECTIVITY_REFRESH_TOKEN_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_token_missing_its_signature_is_refused_at_exchange() {
    diagnose_mangled(ENTRA_TOKEN, Mangle::JwtMissingParts)
        .await
        .finds("CONNECTIVITY_REFRESH_TOKEN_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_with_bad_base64_ends_in_a_token_error() {
    // Either acr-doctor notices the unreadable refresh token, or /oauth2/token refuses it.
    diagnose_mangled("/oauth2/exchange", Mangle::JwtBadBase64)
        .await
        .finds_any(&[
            "CONNECTIVITY_REFRESH_TOKEN_ERROR",
            "CONNECTIVITY_ACCESS_TOKEN_ERROR",
        ]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_missing_parts_ends_in_access_token_error() {
    let bed = bed().await;
    mangle(&bed, "/oauth2/token", Mangle::JwtMissingParts);
    // The registry refuses the broken token on the repository; acr-doctor cannot read its grants.
    diagnose(
        &bed,
        Opts {
            args: vec!["--repository", "app"],
            ..Default::default()
        },
    )
    .await
    .finds("CONNECTIVITY_ACCESS_TOKEN_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_with_absurd_exp_does_not_break_the_run() {
    for how in [
        Mangle::JwtExpFar,
        Mangle::JwtExpNegative,
        Mangle::JwtExpString,
    ] {
        let ran = diagnose_mangled("/oauth2/token", how).await;
        // Whatever is concluded, the ACR access token's absurd expiry is not an Entra problem.
        ran.finds_none(&["AAD_TOKEN_EXPIRED", "AAD_CREDENTIAL_UNAVAILABLE"]);
    }
}

// ---------------------------------------------------------------------------------------------
// Redirects to another host: credentials never follow.

/// What reached the "other host".
#[derive(Clone, Default)]
struct Spy(Arc<Mutex<Vec<String>>>);

impl Spy {
    fn seen(&self) -> Vec<String> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Nothing that reached it carries a credential.
    #[track_caller]
    fn assert_clean(&self) {
        for req in self.seen() {
            let lower = req.to_ascii_lowercase();
            assert!(
                !lower.contains("\nauthorization:"),
                "an Authorization header reached another host:\n{req}"
            );
            assert!(
                !req.contains("CANARY"),
                "a secret reached another host:\n{req}"
            );
            assert!(
                !req.contains("client_secret") && !req.contains("access_token="),
                "a credential reached another host:\n{req}"
            );
        }
    }
}

/// A plain HTTP listener on loopback recording every request it gets (headers and the start
/// of the body), answering `200 {}`.
async fn spy_listener() -> (String, Spy) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let spy = Spy::default();
    let log = spy.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut got = Vec::new();
                let deadline = Instant::now() + Duration::from_millis(500);
                while let Ok(Ok(n)) = tokio::time::timeout(
                    deadline.saturating_duration_since(Instant::now()),
                    s.read(&mut buf),
                )
                .await
                {
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                    if got.len() > 256 * 1024 {
                        break;
                    }
                }
                if let Ok(mut l) = log.0.lock() {
                    l.push(String::from_utf8_lossy(&got).into_owned());
                }
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                    .await;
            });
        }
    });
    (url, spy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_redirected_to_another_host_gets_no_credential() {
    let bed = bed().await;
    let (url, spy) = spy_listener().await;
    redirect(&bed, "/oauth2/exchange", url);
    let ran = diagnose(&bed, Opts::default()).await;
    spy.assert_clean();
    ran.finds("CONNECTIVITY_REFRESH_TOKEN_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_token_request_redirected_to_another_host_gets_no_secret() {
    let bed = bed().await;
    let (url, spy) = spy_listener().await;
    redirect(&bed, ENTRA_TOKEN, url);
    let ran = diagnose(&bed, Opts::default()).await;
    spy.assert_clean();
    ran.finds_any(&[
        "AAD_CREDENTIAL_UNAVAILABLE",
        "SERVICE_PRINCIPAL_CREDENTIALS_INVALID",
    ]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_token_request_redirected_to_another_host_gets_no_authorization() {
    let bed = bed().await;
    let (url, spy) = spy_listener().await;
    redirect(&bed, "/oauth2/token", url);
    let ran = diagnose(
        &bed,
        Opts {
            args: support::SP_BASIC_AUTH.to_vec(),
            no_sp: true,
            ..Default::default()
        },
    )
    .await;
    spy.assert_clean();
    ran.finds_any(&[
        "CONNECTIVITY_ACCESS_TOKEN_ERROR",
        "BASIC_CREDENTIALS_INVALID",
    ]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repository_calls_redirected_to_another_host_get_no_authorization() {
    let bed = bed().await;
    let (url, spy) = spy_listener().await;
    // Everything under /v2/app/ (tags, manifests, blobs, uploads) answers 307 elsewhere.
    redirect(&bed, "/v2/app/", url);
    let ran = diagnose(
        &bed,
        Opts {
            args: vec!["--repository", "app", "--need", "pull,push"],
            ..Default::default()
        },
    )
    .await;
    spy.assert_clean();
    // The token exchange itself is untouched.
    ran.finds_none(&[
        "CONNECTIVITY_REFRESH_TOKEN_ERROR",
        "CONNECTIVITY_ACCESS_TOKEN_ERROR",
    ]);
    assert!(
        bed.request_log()
            .iter()
            .any(|r| r.path.starts_with("/v2/app/") && r.status == 307),
        "the redirect was never exercised: {:?}",
        bed.request_log()
    );
}
