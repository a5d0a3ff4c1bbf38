//! Registry name, login server, DNS, TLS and the challenge, against the test bed.

use crate::support;

use std::time::{Duration, Instant};

use acr_doctor::report::CheckStatus;
use acr_doctor::CheckRun;
use acr_testbed::{BedSpec, Fault, Registry, TestBed};
use support::{check, first_code};

const REG: &str = "contosoreg";

async fn bed() -> TestBed {
    // No docker-registry child: these checks never go past `/v2/`.
    support::bed_without_backend(REG).await
}

fn env_for(bed: &TestBed, home: &std::path::Path, extra: &[(&str, &str)]) -> support::Vars {
    let mut env = support::bed_env(bed, home, &support::host_path(), false);
    env.insert(
        "AZURE_CONFIG_DIR".into(),
        home.join(".azure").display().to_string(),
    );
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    env
}

/// Runs `check` on the bed's registry with the bed's login server, --resolve and CA, plus `extra`.
async fn run(bed: &TestBed, extra: &[&str], env_extra: &[(&str, &str)]) -> CheckRun {
    let mut argv = support::bed_args(bed, REG, extra);
    if !extra.contains(&"--only") {
        // The challenge consults the registry's settings (only on a 403); these tests are
        // about the network path, so ARM stays out.
        argv.extend(["--only", "registry.challenge", "--skip", "registry.arm"].map(str::to_string));
    }
    run_raw(bed, &argv, env_extra).await
}

/// Runs `check` with `argv` as given (on its `--name`), a fresh HOME, and the bed's environment
/// plus `env_extra`.
async fn run_raw<S: AsRef<str>>(bed: &TestBed, argv: &[S], env_extra: &[(&str, &str)]) -> CheckRun {
    let home = support::temp_home();
    support::run_argv(argv, env_for(bed, home.path(), env_extra)).await
}

/// `check --name contosoreg --login-server <login_server> --only <only>` (no --resolve, no CA).
async fn run_login_server(bed: &TestBed, login_server: &str, only: &str) -> CheckRun {
    run_raw(
        bed,
        &[
            "--name",
            REG,
            "--login-server",
            login_server,
            "--only",
            only,
            "--skip",
            "registry.arm",
        ],
        &[],
    )
    .await
}

#[tokio::test]
async fn healthy_registry_passes_every_network_step() {
    let bed = bed().await;
    let run = run(&bed, &[], &[]).await;
    for id in [
        "registry.name",
        "registry.login_server",
        "network.dns",
        "network.tls",
        "registry.challenge",
    ] {
        assert_eq!(
            check(&run, id).status,
            CheckStatus::Pass,
            "{id}: {:?}",
            check(&run, id)
        );
    }
    assert!(run.report.findings.is_empty(), "{:?}", run.report.findings);
    let dns = &check(&run, "network.dns").evidence["dns"];
    assert_eq!(
        dns["addresses"][0],
        serde_json::json!({"address": "127.0.0.1", "kind": "loopback"}),
        "{dns}"
    );
    assert_eq!(dns["pinned"], true, "{dns}");
    let tls = check(&run, "network.tls");
    assert!(tls.evidence["days_left"].as_i64().unwrap_or(-1) > 0);
    let challenge = check(&run, "registry.challenge");
    assert_eq!(
        challenge.evidence["service"].as_str(),
        Some("contosoreg.azurecr.io")
    );
    assert!(challenge.evidence["realm"]
        .as_str()
        .unwrap_or("")
        .starts_with("https://contosoreg.azurecr.io:"));
}

#[tokio::test]
async fn names_in_the_wrong_form_are_corrected_with_a_warning() {
    let bed = bed().await;
    let run = run_raw(
        &bed,
        &[
            "--name",
            "ContosoReg.azurecr.io/app:v1",
            "--only",
            "registry.login_server",
        ],
        &[],
    )
    .await;
    let name = check(&run, "registry.name");
    assert_eq!(name.status, CheckStatus::Warn, "{name:?}");
    let f = &run.report.findings[0];
    assert_eq!(f.code, "REGISTRY_NAME_INVALID");
    assert_eq!(f.severity, acr_doctor::finding::Severity::Warning);
    assert_eq!(f.evidence["input"], "ContosoReg.azurecr.io/app:v1");
    assert_eq!(f.evidence["resource_name"], "contosoreg");
    assert_eq!(f.evidence["login_server"], "contosoreg.azurecr.io");
    assert!(f
        .commands
        .contains(&"az acr login --name contosoreg".to_string()));
    assert!(f
        .commands
        .contains(&"docker login contosoreg.azurecr.io".to_string()));
    // Carried on with the corrected form.
    let ls = check(&run, "registry.login_server");
    assert_eq!(ls.status, CheckStatus::Pass);
    assert_eq!(
        ls.evidence["login_server"].as_str(),
        Some("contosoreg.azurecr.io")
    );
    assert_eq!(
        run.report.target.login_server.as_deref(),
        Some("contosoreg.azurecr.io")
    );

    // A name that cannot be corrected is an error, and nothing is looked up.
    let run = run_raw(&bed, &["--name", "my-reg", "--only", "network.dns"], &[]).await;
    assert_eq!(check(&run, "registry.name").status, CheckStatus::Fail);
    assert_eq!(first_code(&run), "REGISTRY_NAME_INVALID");
    assert_eq!(check(&run, "network.dns").status, CheckStatus::Skip);
    assert_eq!(run.report.findings.len(), 1, "{:?}", run.report.findings);

    // The cloud suffix comes from --cloud.
    let run = run_raw(
        &bed,
        &[
            "--name",
            "contosoreg",
            "--cloud",
            "AzureChinaCloud",
            "--only",
            "registry.login_server",
        ],
        &[],
    )
    .await;
    let ls = check(&run, "registry.login_server");
    assert_eq!(
        ls.evidence["login_server"].as_str(),
        Some("contosoreg.azurecr.cn")
    );
    assert_eq!(ls.evidence["source"].as_str(), Some("suffix"));
}

#[tokio::test]
async fn bad_login_server_flag_is_login_server_error() {
    let bed = bed().await;
    let run = run_login_server(&bed, "http://contosoreg.azurecr.io", "network.dns").await;
    assert_eq!(first_code(&run), "LOGIN_SERVER_ERROR");
    assert!(run.report.findings[0].detail.contains("loopback"));
    assert_eq!(check(&run, "network.dns").status, CheckStatus::Skip);
}

#[tokio::test]
async fn unresolvable_name_is_dns_error_with_reasons() {
    let bed = bed().await;
    let run = run_login_server(&bed, "doesnotexist.invalid", "registry.challenge").await;
    assert_eq!(first_code(&run), "CONNECTIVITY_DNS_ERROR");
    let f = &run.report.findings[0];
    assert!(f.detail.contains("NXDOMAIN"), "{}", f.detail);
    assert!(
        f.solution.iter().any(|s| s.contains("spelling")),
        "{:?}",
        f.solution
    );
    assert!(
        f.solution.iter().any(|s| s.contains("--cloud")),
        "{:?}",
        f.solution
    );
    assert_eq!(check(&run, "network.tls").status, CheckStatus::Skip);
    assert_eq!(check(&run, "registry.challenge").status, CheckStatus::Skip);
    assert_eq!(run.report.findings.len(), 1);
}

/// Runs with a TLS `fault` on the login server: the first finding must be
/// CONNECTIVITY_SSL_ERROR with evidence `fault` = `kind`.
async fn tls_fault(fault: Fault, kind: &str) -> CheckRun {
    let bed = bed().await;
    bed.set_fault(Some(REG), fault);
    let run = run(&bed, &[], &[]).await;
    assert_eq!(first_code(&run), "CONNECTIVITY_SSL_ERROR");
    assert_eq!(
        run.report.findings[0].evidence["fault"].as_str(),
        Some(kind)
    );
    run
}

#[tokio::test]
async fn untrusted_issuer_is_named() {
    let run = tls_fault(Fault::TlsUntrusted, "untrusted_issuer").await;
    let f = &run.report.findings[0];
    let cert = &f.evidence["certificate"];
    assert!(cert["issuer"]
        .as_str()
        .unwrap_or("")
        .contains("Contoso Intercepting Proxy CA"));
    assert!(cert["not_after"].as_str().is_some());
    assert!(cert["sans"].is_array());
    assert_eq!(check(&run, "registry.challenge").status, CheckStatus::Skip);
}

#[tokio::test]
async fn wrong_name_certificate_shows_its_names() {
    let run = tls_fault(Fault::TlsWrongName, "name_mismatch").await;
    let f = &run.report.findings[0];
    let sans = f.evidence["certificate"]["sans"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!sans.is_empty());
    assert!(!sans
        .iter()
        .any(|s| s.as_str() == Some("contosoreg.azurecr.io")));
}

#[tokio::test]
async fn expired_certificate_says_since_when() {
    let run = tls_fault(Fault::TlsExpired, "expired").await;
    let f = &run.report.findings[0];
    assert!(f.evidence["certificate"]["not_after"].is_string(), "{f:?}");
}

#[tokio::test]
async fn public_access_disabled_is_forbidden_with_client_ip() {
    let bed = bed().await;
    bed.set_fault(Some(REG), Fault::PublicAccessDisabled);
    let run = run(&bed, &[], &[]).await;
    assert_eq!(first_code(&run), "CONNECTIVITY_FORBIDDEN_ERROR");
    let f = &run.report.findings[0];
    assert_eq!(f.evidence["client_ip"].as_str(), Some("127.0.0.1"));
    assert_eq!(f.evidence["status"], 403);
    assert!(f.solution.iter().any(|s| s.contains("403 Forbidden")));
    // Without ARM it cannot tell which of the two: both fixes are offered.
    assert!(
        f.commands
            .iter()
            .any(|c| c.contains("--public-network-enabled true")),
        "{:?}",
        f.commands
    );
    assert!(
        f.commands
            .iter()
            .any(|c| c.contains("network-rule add --name contosoreg --ip-address 127.0.0.1")),
        "{:?}",
        f.commands
    );
}

#[tokio::test]
async fn throttling_is_retried_once_within_the_budget() {
    let bed = bed().await;
    bed.set_fault(
        Some(REG),
        Fault::Throttled {
            retry_after_secs: 1,
        },
    );
    let started = Instant::now();
    let run = run(&bed, &["--timeout", "5"], &[]).await;
    assert_eq!(first_code(&run), "CONNECTIVITY_TOOMANYREQUESTS_ERROR");
    let f = &run.report.findings[0];
    assert_eq!(f.evidence["retried"].as_bool(), Some(true));
    assert!(started.elapsed() >= Duration::from_secs(1));
    let v2 = bed
        .request_log()
        .iter()
        .filter(|r| r.path == "/v2/")
        .count();
    assert_eq!(v2, 2);

    // A wait longer than --timeout is not waited for.
    bed.clear_request_log();
    bed.set_fault(
        Some(REG),
        Fault::Throttled {
            retry_after_secs: 60,
        },
    );
    let started = Instant::now();
    let run = self::run(&bed, &["--timeout", "3"], &[]).await;
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(first_code(&run), "CONNECTIVITY_TOOMANYREQUESTS_ERROR");
    assert_eq!(
        run.report.findings[0].evidence["retried"].as_bool(),
        Some(false)
    );
    assert_eq!(
        run.report.findings[0].evidence["retry_after"].as_str(),
        Some("60")
    );
}

#[tokio::test]
async fn challenge_faults_name_their_cause() {
    let bed = bed().await;
    bed.set_fault(Some(REG), Fault::NoChallenge);
    let run1 = run(&bed, &[], &[]).await;
    assert_eq!(first_code(&run1), "CONNECTIVITY_CHALLENGE_ERROR");
    assert_eq!(run1.report.findings[0].evidence["status"], 200);

    bed.clear_faults();
    bed.set_fault(Some(REG), Fault::MalformedChallenge);
    let run2 = run(&bed, &[], &[]).await;
    assert_eq!(first_code(&run2), "CONNECTIVITY_WWW_AUTHENTICATE_ERROR");
    assert_eq!(
        run2.report.findings[0].evidence["www_authenticate"],
        serde_json::json!(["Bearer realm="])
    );

    bed.clear_faults();
    bed.set_fault(Some(REG), Fault::BasicOnlyChallenge);
    let run3 = run(&bed, &[], &[]).await;
    assert_eq!(first_code(&run3), "CONNECTIVITY_AAD_LOGIN_ERROR");
    let schemes = &run3.report.findings[0].evidence["www_authenticate"];
    assert!(
        schemes[0].as_str().unwrap_or("").starts_with("Basic "),
        "{schemes}"
    );
}

#[tokio::test]
async fn a_hanging_server_is_bounded_by_the_timeout() {
    let bed = bed().await;
    bed.set_fault(Some(REG), Fault::Hang);
    let started = Instant::now();
    let run = run(&bed, &["--timeout", "1"], &[]).await;
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(first_code(&run), "CONNECTIVITY_CHALLENGE_ERROR");
    let f = &run.report.findings[0];
    assert_eq!(f.evidence["layer"].as_str(), Some("http"));
    assert!(f.detail.contains("no answer within"), "{}", f.detail);
    // TLS itself was fine: the failing layer is named.
    assert_eq!(check(&run, "network.tls").status, CheckStatus::Pass);
}

#[tokio::test]
async fn a_black_holed_address_cannot_hang_the_tool() {
    let bed = bed().await;
    // Nothing may leave this machine, so a closed loopback port stands in for the dead address.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let login = format!("contosoreg.azurecr.io:{port}");
    let pin = format!("contosoreg.azurecr.io:{port}:127.0.0.1");
    let run = run_raw(
        &bed,
        &[
            "--name",
            REG,
            "--login-server",
            &login,
            "--resolve",
            &pin,
            "--timeout",
            "2",
            "--only",
            "registry.challenge",
        ],
        &[],
    )
    .await;
    assert_eq!(first_code(&run), "CONNECTIVITY_CHALLENGE_ERROR");
    assert_eq!(
        run.report.findings[0].evidence["layer"].as_str(),
        Some("tcp")
    );
}

// ---------------------------------------------------------------------------------------------
// DNS through a local fake server (ACR_DOCTOR_DNS_SERVER): nothing leaves this machine.

mod fake_dns {
    use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
    use hickory_resolver::proto::rr::rdata::{A, CNAME};
    use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
    use std::net::{Ipv4Addr, SocketAddr};

    /// `(name, target)` CNAMEs and `(name, address)` A records; anything else is NXDOMAIN.
    /// `silent`: never answer (a black-holed resolver).
    pub async fn start(
        cnames: &[(&str, &str)],
        a: &[(&str, Ipv4Addr)],
        silent: bool,
    ) -> SocketAddr {
        let sock = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("udp");
        let addr = sock.local_addr().expect("addr");
        let cnames: Vec<(String, String)> = cnames
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let a: Vec<(String, Ipv4Addr)> = a.iter().map(|(n, i)| (n.to_string(), *i)).collect();
        tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            loop {
                let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                    return;
                };
                if silent {
                    continue;
                }
                let Ok(query) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let Some(q) = query.queries().first().cloned() else {
                    continue;
                };
                let mut resp = Message::new();
                resp.set_id(query.id())
                    .set_message_type(MessageType::Response)
                    .set_op_code(query.op_code())
                    .set_recursion_desired(true)
                    .set_recursion_available(true)
                    .add_query(q.clone());
                let mut name = q
                    .name()
                    .to_ascii()
                    .trim_end_matches('.')
                    .to_ascii_lowercase();
                let mut known = false;
                // Follow CNAMEs inside the zone, as a recursive resolver would answer.
                for _ in 0..8 {
                    let Some((_, target)) = cnames.iter().find(|(n, _)| *n == name) else {
                        break;
                    };
                    known = true;
                    let owner = Name::from_ascii(format!("{name}.")).expect("name");
                    let tgt = Name::from_ascii(format!("{target}.")).expect("name");
                    resp.add_answer(Record::from_rdata(owner, 60, RData::CNAME(CNAME(tgt))));
                    name = target.clone();
                }
                for (n, ip) in a.iter().filter(|(n, _)| *n == name) {
                    known = true;
                    if q.query_type() == RecordType::A {
                        let owner = Name::from_ascii(format!("{n}.")).expect("name");
                        resp.add_answer(Record::from_rdata(owner, 60, RData::A(A(*ip))));
                    }
                }
                if !known {
                    resp.set_response_code(ResponseCode::NXDomain);
                }
                if let Ok(bytes) = resp.to_vec() {
                    let _ = sock.send_to(&bytes, peer).await;
                }
            }
        });
        addr
    }
}

async fn dns_only(
    bed: &TestBed,
    login_server: &str,
    dns: std::net::SocketAddr,
    timeout: &str,
) -> CheckRun {
    let dns = dns.to_string();
    run_raw(
        bed,
        &[
            "--name",
            REG,
            "--login-server",
            login_server,
            "--timeout",
            timeout,
            "--only",
            "network.dns",
        ],
        &[("ACR_DOCTOR_DNS_SERVER", dns.as_str())],
    )
    .await
}

#[tokio::test]
async fn dns_shows_the_cname_chain_and_private_addresses() {
    let bed = bed().await;
    let dns = fake_dns::start(
        &[("contosoreg.azurecr.io", "contosoreg.privatelink.azurecr.io")],
        &[(
            "contosoreg.privatelink.azurecr.io",
            std::net::Ipv4Addr::new(10, 0, 0, 5),
        )],
        false,
    )
    .await;
    let run = dns_only(&bed, "contosoreg.azurecr.io", dns, "5").await;
    let c = check(&run, "network.dns");
    assert_eq!(c.status, CheckStatus::Pass, "{c:?}");
    let answer = &c.evidence["dns"];
    assert_eq!(answer["host"], "contosoreg.azurecr.io", "{answer}");
    assert_eq!(
        answer["cname_chain"].as_array().and_then(|c| c.last()),
        Some(&serde_json::json!("contosoreg.privatelink.azurecr.io")),
        "{answer}"
    );
    assert_eq!(answer["addresses"][0]["address"], "10.0.0.5", "{answer}");
    assert_eq!(c.evidence["dns"]["privatelink"].as_bool(), Some(true));
    assert_eq!(
        c.evidence["dns"]["addresses"][0]["kind"].as_str(),
        Some("private")
    );

    // A name the server does not know is NXDOMAIN, through the real resolver code.
    let run = dns_only(&bed, "missingreg.azurecr.io", dns, "5").await;
    assert_eq!(first_code(&run), "CONNECTIVITY_DNS_ERROR");
    assert!(
        run.report.findings[0].detail.contains("NXDOMAIN"),
        "{}",
        run.report.findings[0].detail
    );
    assert!(run.report.findings[0]
        .detail
        .contains("ACR_DOCTOR_DNS_SERVER"));
}

#[tokio::test]
async fn a_silent_dns_server_is_bounded_by_the_timeout() {
    let bed = bed().await;
    let dns = fake_dns::start(&[], &[], true).await;
    let started = Instant::now();
    let run = dns_only(&bed, "contosoreg.azurecr.io", dns, "1").await;
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(first_code(&run), "CONNECTIVITY_DNS_ERROR");
    assert!(
        run.report.findings[0].detail.contains("no answer within"),
        "{}",
        run.report.findings[0].detail
    );
}

// ---------------------------------------------------------------------------------------------
// Proxies

/// A CONNECT proxy on loopback: `Some(status)` refuses with that status, `None` tunnels every
/// CONNECT to 127.0.0.1:`target_port`; `eof` closes the connection without answering.
async fn proxy(answer: Option<u16>, target_port: u16, eof: bool) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                    match s.read(&mut b).await {
                        Ok(1) => head.push(b[0]),
                        _ => return,
                    }
                }
                if eof {
                    return;
                }
                match answer {
                    Some(code) => {
                        let _ = s
                            .write_all(
                                format!("HTTP/1.1 {code} Refused\r\nContent-Length: 0\r\n\r\n")
                                    .as_bytes(),
                            )
                            .await;
                    }
                    None => {
                        let Ok(mut up) =
                            tokio::net::TcpStream::connect(("127.0.0.1", target_port)).await
                        else {
                            return;
                        };
                        let _ = s
                            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                            .await;
                        let _ = tokio::io::copy_bidirectional(&mut s, &mut up).await;
                    }
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn a_proxy_refusing_the_tunnel_is_client_proxy_error() {
    let bed = bed().await;
    let p = proxy(Some(407), 0, false).await;
    let url = format!("http://127.0.0.1:{p}");
    let run = run(&bed, &[], &[("HTTPS_PROXY", url.as_str())]).await;
    assert_eq!(first_code(&run), "CLIENT_PROXY_ERROR");
    let f = &run.report.findings[0];
    assert_eq!(f.evidence["proxy_status"].as_u64(), Some(407));
    assert!(f.detail.contains(&url), "{}", f.detail);

    let p = proxy(None, 0, true).await;
    let url = format!("http://127.0.0.1:{p}");
    let run = self::run(&bed, &[], &[("HTTPS_PROXY", url.as_str())]).await;
    assert_eq!(first_code(&run), "CLIENT_PROXY_ERROR");
    assert!(
        run.report.findings[0].detail.contains("EOF"),
        "{}",
        run.report.findings[0].detail
    );
}

#[tokio::test]
async fn a_working_proxy_is_used_and_reported_and_no_proxy_bypasses_it() {
    let bed = bed().await;
    let p = proxy(None, bed.registry_port(), false).await;
    let url = format!("http://127.0.0.1:{p}");
    let run = run(&bed, &[], &[("HTTPS_PROXY", url.as_str())]).await;
    assert!(run.report.findings.is_empty(), "{:?}", run.report.findings);
    let tls = check(&run, "network.tls");
    assert!(
        tls.message.contains(&format!("via proxy {url}")),
        "{}",
        tls.message
    );
    assert_eq!(tls.evidence["proxy"].as_str(), Some(url.as_str()));

    // NO_PROXY exempts the registry: a refusing proxy is then never asked.
    let p = proxy(Some(403), 0, false).await;
    let url = format!("http://127.0.0.1:{p}");
    let run = self::run(
        &bed,
        &[],
        &[("HTTPS_PROXY", url.as_str()), ("NO_PROXY", ".azurecr.io")],
    )
    .await;
    assert!(run.report.findings.is_empty(), "{:?}", run.report.findings);
}

// ---------------------------------------------------------------------------------------------
// The built binary

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reports_a_forbidden_registry_in_json() {
    let bed = bed().await;
    bed.set_fault(Some(REG), Fault::IpFirewall);
    let home = support::temp_home();
    let mut argv: Vec<String> = vec!["check".into()];
    argv.extend(support::bed_args(
        &bed,
        REG,
        &[
            "--only",
            "registry.challenge",
            "-o",
            "json",
            "--timeout",
            "5",
        ],
    ));
    let env = env_for(&bed, home.path(), &[]);
    let output = tokio::task::spawn_blocking(move || {
        assert_cmd::Command::cargo_bin("acr-doctor")
            .expect("binary")
            .env_clear()
            .envs(env)
            .args(argv)
            .output()
            .expect("runs")
    })
    .await
    .expect("join");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json report");
    let finding = &report["findings"][0];
    assert_eq!(finding["code"], "CONNECTIVITY_FORBIDDEN_ERROR");
    assert_eq!(finding["evidence"]["client_ip"], "127.0.0.1");
    assert_eq!(finding["check"], "registry.challenge");
    let dns = report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "network.dns"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(dns["status"], "pass");
}

// ---------------------------------------------------------------------------------------------
// With the registry's ARM settings (the service principal may read the resource group).

async fn arm_bed() -> TestBed {
    TestBed::start(
        BedSpec::new()
            .registry(Registry::new(REG).real_backend(false))
            .assign("sp", "Reader", acr_testbed::Scope::ResourceGroup),
    )
    .await
    .expect("bed starts")
}

/// `check` with the bed's arguments plus `extra`, as the default service principal.
async fn run_with_sp(bed: &TestBed, extra: &[&str]) -> CheckRun {
    let sp = bed.sp_env();
    let sp: Vec<(&str, &str)> = sp.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    run_raw(bed, &support::bed_args(bed, REG, extra), &sp).await
}

#[tokio::test]
async fn forbidden_names_the_firewall_when_arm_tells() {
    let bed = arm_bed().await;
    bed.set_fault(Some(REG), Fault::IpFirewall);
    let run = run_with_sp(&bed, &["--only", "registry.challenge,registry.arm"]).await;
    let f = run
        .report
        .findings
        .iter()
        .find(|f| f.code == "CONNECTIVITY_FORBIDDEN_ERROR")
        .expect("forbidden");
    assert_eq!(f.evidence["reason"].as_str(), Some("ip_not_allowed"));
    assert!(f.detail.contains("203.0.113.0/24"), "{}", f.detail);
    assert_eq!(
        f.commands,
        vec!["az acr network-rule add --name contosoreg --ip-address 127.0.0.1".to_string()]
    );
}

#[tokio::test]
async fn private_endpoint_mismatch_shows_expected_and_actual() {
    let bed = arm_bed().await;
    bed.set_fault(Some(REG), Fault::PrivateEndpoint);
    let run = run_with_sp(
        &bed,
        &[
            "--vnet",
            "vnet-test",
            "--resolve",
            "contosoreg.westeurope.data.azurecr.io:443:10.0.0.6",
            "--only",
            "network.private_endpoint",
        ],
    )
    .await;
    assert_eq!(first_code(&run), "PRIVATE_ENDPOINT_DNS_ERROR");
    let mappings = check(&run, "network.private_endpoint").evidence["mappings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let row = |fqdn: &str| {
        mappings
            .iter()
            .find(|m| m["fqdn"] == fqdn)
            .cloned()
            .unwrap_or_else(|| panic!("no mapping of {fqdn}: {mappings:?}"))
    };
    let login = row("contosoreg.azurecr.io");
    assert_eq!(login["expected"], serde_json::json!(["10.0.0.5"]));
    assert_eq!(login["actual"], serde_json::json!(["127.0.0.1 (loopback)"]));
    assert_eq!(login["ok"], false);
    assert_eq!(row("contosoreg.westeurope.data.azurecr.io")["ok"], true);
}

#[tokio::test]
async fn unreachable_data_endpoint_is_reported() {
    let bed = arm_bed().await;
    bed.set_fault(Some(REG), Fault::DataEndpointUnreachable);
    let closed = std::net::TcpListener::bind("127.0.0.2:0").expect("bind");
    drop(closed);
    // Nothing listens on 127.0.0.2:443.
    let run = run_with_sp(
        &bed,
        &[
            "--resolve",
            "contosoreg.westeurope.data.azurecr.io:443:127.0.0.2",
            "--only",
            "registry.data_endpoint,registry.arm",
        ],
    )
    .await;
    assert_eq!(first_code(&run), "DATA_ENDPOINT_UNREACHABLE");
    assert_eq!(
        run.report.findings[0].evidence["layer"].as_str(),
        Some("tcp")
    );
}

// ---------------------------------------------------------------------------------------------
// AKS (`--aks`): the cluster's pull identity and network path, read through ARM alone, by the
// real binary against the bed's cluster (`BedSpec::with_aks`) with one `aks-*` fault each.

mod aks_bed {
    use acr_testbed::{aks, ids, BedSpec, Registry, TestBed};
    use serde_json::Value;

    pub async fn start(faults: &[&str]) -> TestBed {
        let mut spec = BedSpec::new()
            .registry(Registry::new(super::REG).real_backend(false))
            .with_aks();
        for f in faults {
            spec = spec.fault(None, f.parse().expect("an aks fault"));
        }
        TestBed::start(spec).await.expect("bed starts")
    }

    /// `acr-doctor --output json check <bed> --aks aks-test --aks-resource-group rg-test --only aks`
    /// as the default service principal; the JSON report.
    pub async fn report(bed: &TestBed, extra: &[&str]) -> Value {
        let home = crate::support::temp_home();
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_acr-doctor"))
            .args(["--output", "json", "check"])
            .args(bed.check_args(super::REG))
            .args([
                "--aks",
                aks::CLUSTER,
                "--aks-resource-group",
                ids::RESOURCE_GROUP,
                "--only",
                "aks",
                "--timeout",
                "5",
            ])
            .args(extra)
            .env_clear()
            .envs(bed.env())
            .envs(bed.sp_env())
            .env("HOME", home.path())
            .env("AZURE_CONFIG_DIR", home.path().join(".azure"))
            .env("DOCKER_CONFIG", home.path().join(".docker"))
            .env("PATH", "/usr/bin:/bin")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(std::time::Duration::from_secs(60), out)
            .await
            .expect("the run ends")
            .expect("the binary runs");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        crate::support::assert_no_secret("aks report", &stdout);
        serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    pub fn check<'a>(r: &'a Value, id: &str) -> &'a Value {
        r["checks"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["id"] == id))
            .unwrap_or_else(|| panic!("no check {id}: {r:#}"))
    }

    pub fn status(r: &Value, id: &str) -> String {
        check(r, id)["status"].as_str().unwrap_or("").to_string()
    }

    pub fn codes(r: &Value, id: &str) -> Vec<String> {
        r["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["check"] == id)
            .filter_map(|f| f["code"].as_str().map(str::to_string))
            .collect()
    }

    pub fn finding<'a>(r: &'a Value, id: &str, code: &str) -> &'a Value {
        r["findings"]
            .as_array()
            .and_then(|fs| fs.iter().find(|f| f["check"] == id && f["code"] == code))
            .unwrap_or_else(|| panic!("{id} has no {code}: {r:#}"))
    }

    pub fn commands(f: &Value) -> Vec<String> {
        f["commands"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect()
    }

    pub fn strings(v: &Value) -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn aks_healthy_cluster_pulls_as_its_kubelet_identity() {
    use acr_testbed::aks;
    let bed = aks_bed::start(&[]).await;
    let r = aks_bed::report(&bed, &[]).await;
    assert_eq!(aks_bed::status(&r, "aks.cluster"), "pass", "{r:#}");
    let cluster = &aks_bed::check(&r, "aks.cluster")["evidence"];
    assert_eq!(cluster["pull_identity"]["kind"], "kubelet_identity");
    assert_eq!(
        cluster["pull_identity"]["object_id"],
        aks::KUBELET_OBJECT_ID
    );
    assert_eq!(cluster["outbound_type"], "loadBalancer");
    assert_eq!(aks_bed::status(&r, "aks.identity"), "pass", "{r:#}");
    assert_eq!(
        aks_bed::check(&r, "aks.identity")["evidence"]["principal"],
        aks::KUBELET_OBJECT_ID
    );
    assert_eq!(aks_bed::status(&r, "aks.egress"), "pass", "{r:#}");
    let egress = &aks_bed::check(&r, "aks.egress")["evidence"];
    assert_eq!(egress["outbound_addresses"][0]["address"], aks::OUTBOUND_IP);
    // No private endpoint: nothing to resolve privately.
    assert_eq!(aks_bed::status(&r, "aks.private_dns"), "info", "{r:#}");
    assert!(
        r["findings"].as_array().is_some_and(|f| f.is_empty()),
        "{r:#}"
    );
    // Reads only, and only ARM and Graph are asked about the cluster.
    let log = bed.request_log();
    assert!(log
        .iter()
        .any(|q| q.listener == "arm" && q.path.contains("/managedClusters/")));
    for q in log
        .iter()
        .filter(|q| q.listener == "arm" || q.listener == "graph")
    {
        assert!(q.method == "GET" || q.method == "HEAD", "{q:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn aks_kubelet_acrpull_in_abac_mode_is_ignored_and_the_fix_is_repository_reader() {
    use acr_testbed::{aks, BedSpec, Registry, TestBed};
    let bed = TestBed::start(
        BedSpec::new()
            .registry(Registry::new(REG).real_backend(false).abac())
            .with_aks(),
    )
    .await
    .expect("bed starts");
    let r = aks_bed::report(&bed, &[]).await;
    assert_eq!(
        aks_bed::codes(&r, "aks.identity"),
        ["ABAC_LEGACY_ROLE_IGNORED"],
        "{r:#}"
    );
    let f = aks_bed::finding(&r, "aks.identity", "ABAC_LEGACY_ROLE_IGNORED");
    assert_eq!(
        aks_bed::strings(&f["evidence"]["ignored_roles"]),
        ["AcrPull"]
    );
    let cmds = aks_bed::commands(f);
    // `--attach-acr` would assign AcrPull again: not offered in this mode.
    assert!(!cmds.iter().any(|c| c.contains("--attach-acr")), "{cmds:?}");
    assert!(
        cmds.iter()
            .any(|c| c.contains("\"Container Registry Repository Reader\"")
                && c.contains(aks::KUBELET_OBJECT_ID)),
        "{cmds:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn aks_kubelet_identity_without_acrpull_is_rbac_role_missing_with_attach_acr() {
    use acr_testbed::aks;
    let bed = aks_bed::start(&["aks-kubelet-no-acrpull"]).await;
    for extra in [&[][..], &["--repository", "app"][..]] {
        let r = aks_bed::report(&bed, extra).await;
        assert_eq!(
            aks_bed::status(&r, "aks.identity"),
            "fail",
            "{extra:?}: {r:#}"
        );
        assert_eq!(aks_bed::codes(&r, "aks.identity")[0], "RBAC_ROLE_MISSING");
        let f = aks_bed::finding(&r, "aks.identity", "RBAC_ROLE_MISSING");
        assert_eq!(
            f["evidence"]["pull_identity"]["object_id"],
            aks::KUBELET_OBJECT_ID
        );
        let cmds = aks_bed::commands(f);
        assert!(
            cmds[0].starts_with("az aks update --name aks-test --resource-group rg-test --attach-acr /subscriptions/"),
            "{cmds:?}"
        );
        assert!(
            cmds.iter().any(
                |c| c.contains("az role assignment create --role \"AcrPull\"")
                    && c.contains(aks::KUBELET_OBJECT_ID)
            ),
            "{cmds:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn aks_service_principal_cluster_is_evaluated_by_the_principals_object_id() {
    use acr_testbed::aks;
    let bed = aks_bed::start(&["aks-service-principal"]).await;
    let r = aks_bed::report(&bed, &[]).await;
    let cluster = &aks_bed::check(&r, "aks.cluster")["evidence"];
    assert_eq!(cluster["pull_identity"]["kind"], "service_principal");
    assert_eq!(cluster["pull_identity"]["client_id"], aks::AKS_SP_APP_ID);
    assert_eq!(
        aks_bed::codes(&r, "aks.identity"),
        ["RBAC_ROLE_MISSING"],
        "{r:#}"
    );
    assert_eq!(
        aks_bed::check(&r, "aks.identity")["evidence"]["principal"],
        aks::AKS_SP_OBJECT_ID
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn aks_outbound_ip_outside_the_firewall_is_forbidden_with_the_address() {
    use acr_testbed::aks;
    let bed = aks_bed::start(&["aks-outbound-ip-denied"]).await;
    let r = aks_bed::report(&bed, &[]).await;
    assert_eq!(
        aks_bed::codes(&r, "aks.egress"),
        ["CONNECTIVITY_FORBIDDEN_ERROR"],
        "{r:#}"
    );
    let f = aks_bed::finding(&r, "aks.egress", "CONNECTIVITY_FORBIDDEN_ERROR");
    assert_eq!(
        aks_bed::strings(&f["evidence"]["not_allowed"]),
        [aks::OUTBOUND_IP]
    );
    assert!(aks_bed::strings(&f["evidence"]["ip_rules"]).contains(&aks::ALLOWED_RANGE.to_string()));
    assert_eq!(
        aks_bed::commands(f),
        [format!(
            "az acr network-rule add --name {REG} --ip-address {}",
            aks::OUTBOUND_IP
        )]
    );
    // The identity is fine: only the network path is named.
    assert_eq!(aks_bed::status(&r, "aks.identity"), "pass");
}

#[tokio::test(flavor = "multi_thread")]
async fn aks_public_access_disabled_without_a_reachable_private_endpoint_is_forbidden() {
    let bed = aks_bed::start(&["aks-no-private-path"]).await;
    let r = aks_bed::report(&bed, &[]).await;
    assert_eq!(
        aks_bed::codes(&r, "aks.egress"),
        ["CONNECTIVITY_FORBIDDEN_ERROR"],
        "{r:#}"
    );
    let f = aks_bed::finding(&r, "aks.egress", "CONNECTIVITY_FORBIDDEN_ERROR");
    assert_eq!(f["evidence"]["public_network_access"], "Disabled");
    assert!(
        aks_bed::strings(&f["evidence"]["node_vnets"])[0].ends_with("/virtualNetworks/vnet-aks")
    );
    assert!(f["evidence"]["private_endpoints"][0]["vnet"]
        .as_str()
        .is_some_and(|v| v.ends_with("/virtualNetworks/vnet-test")));
}

#[tokio::test(flavor = "multi_thread")]
async fn aks_private_dns_zone_not_linked_to_the_node_network_is_private_endpoint_dns_error() {
    let bed = aks_bed::start(&["aks-dns-zone-unlinked"]).await;
    let r = aks_bed::report(&bed, &[]).await;
    // The endpoint is in the node network: the path exists, the names do not lead to it.
    assert_eq!(aks_bed::status(&r, "aks.egress"), "pass", "{r:#}");
    assert_eq!(
        aks_bed::codes(&r, "aks.private_dns"),
        ["PRIVATE_ENDPOINT_DNS_ERROR"],
        "{r:#}"
    );
    let f = aks_bed::finding(&r, "aks.private_dns", "PRIVATE_ENDPOINT_DNS_ERROR");
    assert!(aks_bed::strings(&f["evidence"]["unlinked_vnets"])[0]
        .ends_with("/virtualNetworks/vnet-test"));
    assert!(aks_bed::commands(f)[0].starts_with("az network private-dns link vnet create"));
}

#[tokio::test(flavor = "multi_thread")]
async fn aks_missing_data_endpoint_record_is_private_endpoint_dns_error() {
    let bed = aks_bed::start(&["aks-data-record-missing"]).await;
    let r = aks_bed::report(&bed, &[]).await;
    assert_eq!(
        aks_bed::codes(&r, "aks.private_dns"),
        ["PRIVATE_ENDPOINT_DNS_ERROR"],
        "{r:#}"
    );
    let f = aks_bed::finding(&r, "aks.private_dns", "PRIVATE_ENDPOINT_DNS_ERROR");
    assert_eq!(
        aks_bed::strings(&f["evidence"]["missing_records"]),
        [format!("{REG}.westeurope.data")]
    );
    assert!(aks_bed::strings(&f["alternatives"]).contains(&"DATA_ENDPOINT_UNREACHABLE".to_string()));
    // The login server's record is there.
    let records = aks_bed::check(&r, "aks.private_dns")["evidence"]["records"].clone();
    assert!(records
        .as_array()
        .is_some_and(|rs| rs.iter().any(|x| x["name"] == REG && x["ok"] == true)));
}

#[tokio::test(flavor = "multi_thread")]
async fn aks_user_defined_routing_is_said_to_be_unseen_from_arm() {
    let bed = aks_bed::start(&["aks-udr"]).await;
    let r = aks_bed::report(&bed, &[]).await;
    assert_eq!(aks_bed::status(&r, "aks.egress"), "info", "{r:#}");
    let e = &aks_bed::check(&r, "aks.egress")["evidence"];
    assert_eq!(e["outbound_type"], "userDefinedRouting");
    assert_eq!(e["seen_from_arm"], false);
    assert_eq!(aks_bed::strings(&e["unseen"]), ["egress_firewall"]);
    assert!(aks_bed::strings(&e["confirm_with"])[0].starts_with("az aks check-acr --name aks-test"));
}

#[tokio::test(flavor = "multi_thread")]
async fn aks_custom_dns_servers_are_reported_and_said_to_be_unseen() {
    use acr_testbed::aks;
    let bed = aks_bed::start(&["aks-custom-dns"]).await;
    let r = aks_bed::report(&bed, &[]).await;
    assert_eq!(aks_bed::status(&r, "aks.private_dns"), "info", "{r:#}");
    let e = &aks_bed::check(&r, "aks.private_dns")["evidence"];
    assert_eq!(
        aks_bed::strings(&e["dns_servers"][0]["dns_servers"]),
        [aks::CUSTOM_DNS_SERVER]
    );
    assert_eq!(aks_bed::strings(&e["unseen"]), ["custom_dns_answers"]);
    assert!(aks_bed::strings(&e["confirm_with"])[0].starts_with("kubectl run"));
}
