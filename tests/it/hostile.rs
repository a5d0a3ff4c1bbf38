//! Hostile and broken servers: every run ends, within the time budget, in a specific finding
//! (never a crash, never exit status 3), reads bodies with a cap, prints no secret, and never
//! hands a credential to another host.
//!
//! The bed's `mangle` and `redirect` faults spoil answers (huge or broken headers, huge, cut,
//! non-JSON or non-UTF-8 bodies, absurd JWTs, redirects); `hang` and `trickle` stall them. A few
//! cases use tiny loopback listeners of their own (a server that never answers, a "second host"
//! that records what reaches it).

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use acr_doctor::cli::FailOn;
use acr_doctor::lang::Lang;
use acr_doctor::render::{self, Style};
use acr_doctor::CheckRun;
use acr_testbed::{Fault, Mangle, TestBed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const REG: &str = "contosoreg";
/// Generous bound for one whole run with `--timeout 1`.
const BOUND: Duration = Duration::from_secs(30);
/// The Entra token endpoint, whatever the tenant.
const ENTRA_TOKEN: &str = "*/oauth2/v2.0/token";

async fn bed() -> TestBed {
    // The bed checks registry tokens itself: no docker-registry child needed here.
    support::bed_without_backend(REG).await
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
    // Peak memory is the whole process's: measured alone, without the other tests' threads.
    if support::in_own_process(
        "hostile::enormous_exchange_body_is_capped_and_ends_in_refresh_token_error",
    ) {
        return;
    }
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

// ---------------------------------------------------------------------------------------------
// Trust boundaries: text from servers, proxies, overrides, login servers outside the suffix.

/// A registry error carrying escape sequences, `##vso[`, a `::` command line and a Markdown
/// fence: no renderer lets any of it through as terminal control or a CI command, and the
/// Markdown ticket's code blocks stay closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_in_a_registry_error_is_defused_in_every_output() {
    let bed = bed().await;
    bed.set_fault(Some(REG), Fault::PublicAccessDisabled);
    mangle(&bed, "/v2/", Mangle::HostileText);
    let ran = diagnose(&bed, Opts::default()).await;
    ran.finds("CONNECTIVITY_FORBIDDEN_ERROR");
    // The hostile text did reach the report as evidence (defused), so the test is not vacuous.
    let json = render::json::render(&ran.run.report);
    assert!(json.contains("task.setvariable"), "{json}");
    let markdown = render::markdown::render(&ran.run.report, Lang::En);
    let outputs = [
        ("human", ran.rendered.clone()),
        ("json", json),
        ("markdown", markdown.clone()),
        (
            "github",
            render::github::annotations(&ran.run.report, Lang::En),
        ),
        ("trace", ran.run.trace.join("\n")),
    ];
    for (name, text) in outputs {
        assert!(
            !text.contains('\u{1b}'),
            "{name}: an escape sequence survived"
        );
        assert!(!text.contains('\r'), "{name}: a carriage return survived");
        assert!(!text.contains('\u{7}'), "{name}: a bell survived");
        assert!(!text.contains("##vso["), "{name}: ##vso[ survived:\n{text}");
        for line in text.lines() {
            let t = line.trim_start();
            let ours = name == "github"
                && (t.starts_with("::error ")
                    || t.starts_with("::warning ")
                    || t.starts_with("::notice "));
            assert!(
                ours || !t.starts_with("::"),
                "{name}: a workflow command line survived: {line}"
            );
        }
    }
    // Every fence the Markdown opens is closed by a fence of the same length.
    let mut open: Option<String> = None;
    for line in markdown.lines() {
        let ticks: String = line.chars().take_while(|c| *c == '`').collect();
        if ticks.len() < 3 {
            continue;
        }
        match &open {
            None => open = Some(ticks),
            Some(f) if *f == ticks && line.trim() == ticks => open = None,
            Some(_) => {}
        }
    }
    assert!(open.is_none(), "an unclosed code fence in:\n{markdown}");
    assert!(!markdown.contains("\n# injected heading"), "{markdown}");
}

/// Proxy user-info (with or without a scheme, socks5, or a proxy the registry bypasses through
/// NO_PROXY) never appears in any output form or the trace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_passwords_never_reach_any_output() {
    let bed = bed().await;
    let login = bed.login_server(REG);
    let host = login.split(':').next().unwrap_or("").to_string();
    let cases: Vec<Vec<(String, String)>> = vec![
        vec![(
            "HTTPS_PROXY".into(),
            "http://proxyuser:CANARY-PROXY-PASS-1@127.0.0.1:9".into(),
        )],
        vec![(
            "https_proxy".into(),
            "proxyuser:CANARY-PROXY-PASS-2@127.0.0.1:9".into(),
        )],
        vec![(
            "ALL_PROXY".into(),
            "socks5://proxyuser:CANARY-PROXY-PASS-3@127.0.0.1:9".into(),
        )],
        vec![
            (
                "HTTPS_PROXY".into(),
                "http://proxyuser:CANARY%2DPROXY%2DPASS%2D4@127.0.0.1:9".into(),
            ),
            ("NO_PROXY".into(), format!("{host},127.0.0.1")),
        ],
        vec![(
            "HTTP_PROXY".into(),
            "http://proxyuser:CANARY-PROXY-PASS-5@127.0.0.1:9".into(),
        )],
    ];
    for env in cases {
        let what = format!("{env:?}");
        let home = support::temp_home();
        let mut vars = support::bed_env(&bed, home.path(), "/nonexistent", true);
        vars.extend(env);
        let args = support::parse_args(&support::bed_args(&bed, REG, &["--timeout", "1", "-v"]));
        let run =
            match tokio::time::timeout(BOUND, acr_doctor::run_check(&args, REG, vars, Lang::En))
                .await
            {
                Ok(Ok(run)) => run,
                // A proxy the HTTP client cannot use is a usage error; its text must be clean too.
                Ok(Err(e)) => {
                    support::assert_no_secret(&what, &e.to_string());
                    assert!(!e.to_string().contains("PROXY-PASS"), "{what}: {e}");
                    continue;
                }
                Err(_) => panic!("{what}: no end"),
            };
        let human = render::human::render(&run.report, Style::plain(Lang::En));
        assert_no_secret(&run, &human);
        for text in [
            human,
            render::json::render(&run.report),
            render::markdown::render(&run.report, Lang::En),
            render::github::annotations(&run.report, Lang::En),
            run.trace.join("\n"),
        ] {
            assert!(
                !text.contains("PROXY-PASS") && !text.contains("PROXY%2DPASS"),
                "{what}:\n{text}"
            );
        }
        let env_section = serde_json::to_string(&run.report.environment).unwrap_or_default();
        assert!(
            env_section.contains("proxy"),
            "{what}: the proxy is not named: {env_section}"
        );
    }
}

/// Endpoint overrides: plain http to anything but loopback is refused before anything is sent
/// (exit status 2, naming the variable); those in effect are named in the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_overrides_need_https_and_are_named_in_the_report() {
    let bed = bed().await;
    for (var, value) in [
        ("ACR_DOCTOR_ARM_ENDPOINT", "http://192.0.2.10"),
        ("ACR_DOCTOR_GRAPH_ENDPOINT", "http://graph.example"),
        ("AZURE_AUTHORITY_HOST", "http://login.example"),
        ("ACR_DOCTOR_IMDS_ENDPOINT", "http://203.0.113.7"),
    ] {
        let home = support::temp_home();
        let mut vars = support::bed_env(&bed, home.path(), "/nonexistent", true);
        vars.insert(var.into(), value.into());
        let args = support::parse_args(&support::bed_args(&bed, REG, &["--timeout", "1"]));
        let err = acr_doctor::run_check(&args, REG, vars, Lang::En)
            .await
            .err()
            .unwrap_or_else(|| panic!("{var}={value} was accepted"));
        assert!(err.to_string().contains(var), "{err}");
    }
    bed.clear_request_log();
    let ran = diagnose(&bed, Opts::default()).await;
    let env = &ran.run.report.environment;
    for key in [
        "authority_host",
        "arm_endpoint",
        "graph_endpoint",
        "imds_endpoint",
    ] {
        assert!(env.get(key).is_some(), "{key} missing from {env:?}");
    }
}

/// Managed identity requests never go through HTTP_PROXY (the metadata endpoint and
/// IDENTITY_ENDPOINT are on the machine; a proxy would see the token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_identity_requests_bypass_the_proxy() {
    let bed = bed().await;
    let (proxy, seen) = recording_listener().await;
    for identity_env in [Vec::new(), bed.identity_env()] {
        let mut env = vec![
            ("HTTP_PROXY".to_string(), format!("http://{proxy}")),
            ("HTTPS_PROXY".to_string(), format!("http://{proxy}")),
        ];
        env.extend(identity_env);
        let ran = diagnose(
            &bed,
            Opts {
                args: vec![
                    "--auth",
                    "managed-identity",
                    "--only",
                    "identity.credential",
                ],
                env,
                no_sp: true,
            },
        )
        .await;
        assert_eq!(
            support::check(&ran.run, "identity.credential").status,
            acr_doctor::report::CheckStatus::Pass,
            "{}",
            ran.rendered
        );
    }
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(
        !seen
            .iter()
            .any(|r| r.contains("identity") || r.contains("msi")),
        "the proxy saw managed identity requests: {seen:?}"
    );
}

/// A listener that records the first line of whatever reaches it and closes.
async fn recording_listener() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let n = tokio::time::timeout(Duration::from_secs(2), sock.read(&mut buf))
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or(0);
            let first = String::from_utf8_lossy(&buf[..n])
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            if let Ok(mut l) = log.lock() {
                l.push(first);
            }
            let _ = sock.shutdown().await;
        }
    });
    (addr, seen)
}

/// A login server outside the cloud's registry suffix gets no Microsoft Entra token unless
/// --trust-login-server says so; the flow stops with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_tokens_go_only_to_registries_under_the_suffix() {
    let bed = bed().await;
    let port = bed
        .login_server(REG)
        .rsplit_once(':')
        .map(|(_, p)| p.to_string())
        .expect("port");
    // Another cloud's suffix: outside AzureCloud's, yet covered by the bed's certificate.
    let custom = format!("contosoreg.azurecr.us:{port}");
    let pin = format!("{custom}:127.0.0.1");
    for trust in [false, true] {
        bed.clear_request_log();
        let home = support::temp_home();
        let mut argv = vec![
            "--name".to_string(),
            REG.into(),
            "--login-server".into(),
            custom.clone(),
            "--resolve".into(),
            pin.clone(),
            "--ca-file".into(),
            bed.ca_file().display().to_string(),
            "--timeout".into(),
            "1".into(),
            "--auth".into(),
            "env".into(),
        ];
        if trust {
            argv.push("--trust-login-server".into());
        }
        let args = support::parse_args(&argv);
        let mut vars = support::bed_env(&bed, home.path(), "/nonexistent", true);
        support::set_config_dirs(&mut vars, home.path());
        let run = acr_doctor::run_check(&args, REG, vars, Lang::En)
            .await
            .expect("run");
        let exchanged = bed
            .request_log()
            .iter()
            .any(|r| r.path == "/oauth2/exchange" && r.host.starts_with("contosoreg.azurecr.us"));
        assert_eq!(exchanged, trust, "trust={trust}: {:#?}", bed.request_log());
        if !trust {
            let refresh = support::check(&run, "identity.refresh_token");
            assert_eq!(
                refresh.status,
                acr_doctor::report::CheckStatus::Fail,
                "{refresh:?}"
            );
            let f = support::finding(&run, "identity.refresh_token");
            assert_eq!(f.code, "LOGIN_SERVER_ERROR");
            assert_eq!(f.evidence["suffix"], ".azurecr.io");
        }
    }
}

/// --names-file with one line that is not a registry under the suffix: that registry gets no
/// Entra token, the others are checked as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_line_in_a_names_file_receives_no_token() {
    let bed = bed().await;
    let home = support::temp_home();
    let file = home.path().join("names.txt");
    support::write_file(&file, &format!("{REG}\nevil.example.com\n"));
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_acr-doctor"))
        .args(["-o", "json", "check", "--names-file"])
        .arg(&file)
        .args([
            "--resolve",
            "evil.example.com:443:127.0.0.1",
            "--timeout",
            "1",
            "--auth",
            "env",
        ])
        .args(["--ca-file", &bed.ca_file().display().to_string()])
        .args(["--resolve", &bed.resolve_arg(REG)])
        .env_clear()
        .envs(bed.env())
        .envs(bed.sp_env())
        .env("HOME", home.path())
        .env("PATH", "/nonexistent")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(BOUND, out)
        .await
        .expect("ends")
        .expect("runs");
    assert!(matches!(out.status.code(), Some(0..=2)), "{out:?}");
    assert!(
        !bed.request_log()
            .iter()
            .any(|r| r.host.starts_with("evil.example.com")),
        "{:#?}",
        bed.request_log()
    );
}

// ---------------------------------------------------------------------------------------------
// Every run ends: invalid names × every credential source × engine absent or silent.

/// A Unix socket that accepts connections and never answers (an engine that hangs).
fn silent_engine(dir: &std::path::Path) -> (String, tokio::task::JoinHandle<()>) {
    let path = dir.join("silent.sock");
    let listener = tokio::net::UnixListener::bind(&path).expect("bind unix socket");
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    (format!("unix://{}", path.display()), task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_run_ends_for_invalid_names_with_every_source_and_engine() {
    let home = support::temp_home();
    let (silent, _task) = silent_engine(home.path());
    let token_file = home.path().join("federated-token");
    support::write_file(&token_file, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.");
    let docker_dir = home.path().join(".docker");
    support::write_file(
        &docker_dir.join("config.json"),
        &support::auth_json("my_registry.azurecr.io", "user", "CANARY-STORED-PASS"),
    );
    let names = [
        "my_registry",
        "UPPERCASE",
        "ab",
        "contosoreg.azurecr.io.evil.example",
        "https://",
        "../../etc/passwd",
        "reg istry",
        "a-very-long-name-that-is-far-beyond-fifty-characters-long",
    ];
    let sources: [&[&str]; 8] = [
        &["--auth", "auto"],
        &["--auth", "cli"],
        &["--auth", "env"],
        &["--auth", "workload-identity"],
        &["--auth", "managed-identity"],
        &["--auth", "docker-config"],
        &[
            "--auth",
            "basic",
            "-u",
            "someone",
            "-p",
            "CANARY-BASIC-PASS",
        ],
        &["--auth", "anonymous"],
    ];
    let dead = "127.0.0.1:9";
    let mut runs = Vec::new();
    for engine in [
        "unix:///nonexistent/docker.sock".to_string(),
        silent.clone(),
    ] {
        for name in names {
            for source in sources {
                let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_acr-doctor"));
                cmd.args([
                    "-o",
                    "json",
                    "check",
                    "--name",
                    name,
                    "--timeout",
                    "1",
                    "--docker-login",
                ])
                .args(source)
                .env_clear()
                .env("HOME", home.path())
                .env("DOCKER_CONFIG", &docker_dir)
                .env("DOCKER_HOST", &engine)
                .env("PATH", "/nonexistent")
                .env("ACR_DOCTOR_DNS_SERVER", dead)
                .env("ACR_DOCTOR_IMDS_ENDPOINT", format!("http://{dead}"))
                .env("AZURE_AUTHORITY_HOST", format!("https://{dead}"))
                .env("ACR_DOCTOR_ARM_ENDPOINT", format!("https://{dead}"))
                .env("ACR_DOCTOR_GRAPH_ENDPOINT", format!("https://{dead}"))
                .env("AZURE_TENANT_ID", "72f988bf-0000-4000-8000-000000000001")
                .env("AZURE_CLIENT_ID", "a11ce000-0000-4000-8000-00000000a001")
                .env("AZURE_CLIENT_SECRET", "CANARY-ENV-SECRET")
                .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true);
                let what = format!("{engine} --name {name:?} {source:?}");
                runs.push(async move {
                    let started = Instant::now();
                    let out = tokio::time::timeout(BOUND, cmd.output())
                        .await
                        .unwrap_or_else(|_| panic!("{what}: no end within {BOUND:?}"))
                        .expect("the binary runs");
                    (what, out, started.elapsed())
                });
            }
        }
    }
    // A few at a time: the machine has two cores.
    let mut results = Vec::new();
    let mut runs = runs.into_iter();
    loop {
        let batch: Vec<_> = runs.by_ref().take(8).collect();
        if batch.is_empty() {
            break;
        }
        results.extend(futures::future::join_all(batch).await);
    }
    assert_eq!(results.len(), 2 * names.len() * sources.len());
    for (what, out, _elapsed) in results {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(1) | Some(2)),
            "{what}: exit {:?}\n{stdout}\n{stderr}",
            out.status.code()
        );
        if out.status.code() == Some(1) {
            let report: serde_json::Value =
                serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{what}: {e}\n{stdout}"));
            let findings = report["findings"].as_array().expect("findings");
            assert!(!findings.is_empty(), "{what}: failed without a finding");
        }
        support::assert_no_secret(&format!("{what} stdout"), &stdout);
        support::assert_no_secret(&format!("{what} stderr"), &stderr);
    }
}

/// `--login-server http://…` on a host that is not loopback is refused by registry.login_server,
/// and the Docker checks do not go round it: nothing at all reaches that host, though the
/// Docker config stores a credential for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_http_login_server_is_not_used_by_the_docker_checks() {
    let bed = bed().await;
    let (recorder, seen) = recording_listener().await;
    let server = format!("harvest.example:{}", recorder.port());
    let home = support::temp_home();
    support::write_file(
        &home.path().join(".docker").join("config.json"),
        &support::auth_json(&server, "someone", "CANARY-STORED-HTTP-PASS"),
    );
    let argv = vec![
        "--name".to_string(),
        REG.into(),
        "--login-server".into(),
        format!("http://{server}"),
        "--resolve".into(),
        format!("{server}:127.0.0.1"),
        "--timeout".into(),
        "1".into(),
        "--auth".into(),
        "docker-config".into(),
        "--only".into(),
        "docker,identity".into(),
    ];
    let args = support::parse_args(&argv);
    let mut vars = support::bed_env(&bed, home.path(), "/nonexistent", false);
    support::set_config_dirs(&mut vars, home.path());
    let run = acr_doctor::run_check(&args, REG, vars, Lang::En)
        .await
        .expect("run");
    assert_eq!(
        support::check(&run, "registry.login_server").status,
        acr_doctor::report::CheckStatus::Fail
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(
        seen.is_empty(),
        "the refused login server was contacted: {seen:?}"
    );
}
