//! A test bed for `scripts/bench.sh`: starts the acr-testbed with the registries, faults and
//! latency asked for, prints one JSON line saying how to point acr-doctor (and the Azure CLI) at
//! it, then obeys one-line commands on standard input, answering each with one line:
//!
//! ```text
//! latency MS            a round-trip time of MS milliseconds (0: none): every response is
//!                       delayed by MS (the bed's `slow` fault)
//! handshakes on|off     also charge each new connection one round trip for TCP's handshake and
//!                       one for TLS's (the bed's `rtt` fault instead of `slow`); off at start
//! fault NAME[=VALUE]    switch a fault on, for every registry (e.g. public-access-disabled)
//! reset                 switch every fault off (the latency stays)
//! log                   print the request log as JSON, oldest first, and the connections
//!                       accepted per listener and TLS server name
//! clear-log             forget the request log
//! quit                  stop (so does the end of standard input)
//! ```
//!
//! With `--dns`, it also answers DNS on 127.0.0.1:53 (UDP; another port with `--dns-port`): `A 127.0.0.1` for the bed's
//! registries under `.azurecr.io`, NXDOMAIN for every other name. With `--forward-443` it
//! forwards 127.0.0.1:443 to the bed's registry listener, so that `NAME.azurecr.io` works
//! without a port. Both need a private network namespace (the benchmark makes one with
//! `unshare`); they bind privileged loopback ports and must never face a real network.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::SocketAddr;
use std::sync::Arc;

use acr_testbed::{ids, BedSpec, Fault, Registry, Scope, TestBed};
use clap::Parser;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream, UdpSocket};

#[derive(Parser, Debug)]
#[command(about = "Serve the acr-doctor test bed for the benchmark")]
struct Args {
    /// A fault to switch on at start (repeatable), e.g. public-access-disabled.
    #[arg(long = "fault", value_name = "NAME[=VALUE]")]
    faults: Vec<Fault>,
    /// Delay every response by this many milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    latency_ms: u64,
    /// With --latency-ms: also charge each new connection its TCP and TLS handshakes.
    #[arg(long)]
    handshakes: bool,
    /// Serve this many registries named fleetreg001.., without docker-registry behind them.
    #[arg(long, value_name = "N")]
    registries: Option<usize>,
    /// Do not start docker-registry for the default registry either.
    #[arg(long)]
    no_backend: bool,
    /// Make the default registry use ABAC (repository permissions) role assignment mode.
    #[arg(long)]
    abac: bool,
    /// Also give the service principal Reader on each registry (so that ARM reads succeed).
    #[arg(long)]
    reader: bool,
    /// The service principal's role on the default registry instead of AcrPush (repeatable;
    /// `none` for no role there), e.g. `--role Reader` for RBAC_ROLE_MISSING.
    #[arg(long = "role", value_name = "ROLE")]
    roles: Vec<String>,
    /// Answer DNS on 127.0.0.1 (port 53 only inside a private network namespace).
    #[arg(long)]
    dns: bool,
    /// The UDP port for --dns (0: any free port, reported as `dns_port`).
    #[arg(long, default_value_t = 53, value_name = "PORT")]
    dns_port: u16,
    /// Forward 127.0.0.1:443 to the registry listener (only inside a private network namespace).
    #[arg(long)]
    forward_443: bool,
}

fn spec(args: &Args) -> (BedSpec, Vec<String>) {
    let mut spec = BedSpec::new();
    let mut names = vec![ids::REGISTRY.to_string()];
    let mut default = Registry::new(ids::REGISTRY);
    if args.no_backend || args.registries.is_some() {
        default = default.real_backend(false);
    }
    if args.abac {
        default = default.abac();
    }
    spec = spec.registry(default);
    if !args.roles.is_empty() {
        spec = spec.clear_assignments();
        for role in args.roles.iter().filter(|r| *r != "none") {
            spec = spec.assign(ids::SP, role, Scope::registry(ids::REGISTRY));
        }
    }
    if let Some(n) = args.registries {
        spec = spec.without_registry(ids::REGISTRY);
        names.clear();
        for i in 1..=n {
            // A valid registry name: 5 to 50 letters and digits.
            let name = format!("fleetreg{i:03}");
            spec = spec
                .registry(Registry::new(&name).real_backend(false))
                .assign(ids::SP, "AcrPush", Scope::registry(&name));
            names.push(name);
        }
    }
    if args.reader {
        for name in &names {
            spec = spec.assign(ids::SP, "Reader", Scope::registry(name));
        }
    }
    for f in &args.faults {
        spec = spec.fault(None, f.clone());
    }
    if args.latency_ms > 0 {
        spec = spec.fault(
            None,
            Net {
                ms: args.latency_ms,
                handshakes: args.handshakes,
            }
            .fault(),
        );
    }
    (spec, names)
}

/// The DNS answer to one query: A 127.0.0.1 for `<registry>[.anything].azurecr.io`, an empty
/// answer for other types of those names, NXDOMAIN for everything else.
fn dns_answer(query: &[u8], names: &[String]) -> Option<Vec<u8>> {
    if query.len() < 12 {
        return None;
    }
    let qdcount = u16::from_be_bytes([query[4], query[5]]);
    if qdcount != 1 {
        return None;
    }
    let mut labels = Vec::new();
    let mut i = 12;
    loop {
        let len = usize::from(*query.get(i)?);
        i += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        let label = query.get(i..i + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        i += len;
    }
    let qtype = u16::from_be_bytes([*query.get(i)?, *query.get(i + 1)?]);
    let question_end = i + 4;
    if query.len() < question_end {
        return None;
    }
    let name = labels.join(".");
    let known = name.ends_with(".azurecr.io")
        && labels
            .first()
            .is_some_and(|first| names.iter().any(|n| n.eq_ignore_ascii_case(first)));
    let mut out = Vec::with_capacity(question_end + 16);
    out.extend_from_slice(&query[0..2]); // id
    let rd = query[2] & 0x01;
    out.push(0x80 | 0x04 | rd); // QR, AA, RD copied
    out.push(if known { 0x80 } else { 0x83 }); // RA; rcode NOERROR or NXDOMAIN
    out.extend_from_slice(&[0, 1]); // qdcount
    let answers: u16 = if known && qtype == 1 { 1 } else { 0 };
    out.extend_from_slice(&answers.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // nscount, arcount
    out.extend_from_slice(&query[12..question_end]);
    if answers == 1 {
        out.extend_from_slice(&[0xc0, 0x0c]); // name: pointer to the question
        out.extend_from_slice(&[0, 1, 0, 1]); // type A, class IN
        out.extend_from_slice(&60u32.to_be_bytes()); // ttl
        out.extend_from_slice(&[0, 4, 127, 0, 0, 1]);
    }
    Some(out)
}

async fn serve_dns(socket: UdpSocket, names: Arc<Vec<String>>) {
    let mut buf = vec![0u8; 1500];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        if let Some(answer) = dns_answer(&buf[..n], &names) {
            let _ = socket.send_to(&answer, from).await;
        }
    }
}

async fn forward(listener: TcpListener, to: SocketAddr) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(to).await {
                let _ = inbound.set_nodelay(true);
                let _ = outbound.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

fn map(pairs: Vec<(String, String)>) -> BTreeMap<String, String> {
    pairs.into_iter().collect()
}

/// The simulated network: a round-trip time, charged to every response, and to each new
/// connection's handshakes when `handshakes` is on.
#[derive(Debug, Clone, Copy)]
struct Net {
    ms: u64,
    handshakes: bool,
}

impl Net {
    fn fault(self) -> Fault {
        if self.handshakes {
            Fault::Rtt { ms: self.ms }
        } else {
            Fault::Slow { ms: self.ms }
        }
    }
}

fn set_latency(bed: &TestBed, net: Net) {
    bed.clear_fault(None, "slow");
    bed.clear_fault(None, "rtt");
    if net.ms > 0 {
        bed.set_fault(None, net.fault());
    }
}

fn obey(bed: &TestBed, line: &str, net: &mut Net) -> Result<String, String> {
    let (cmd, rest) = line
        .trim()
        .split_once(' ')
        .map(|(c, r)| (c, r.trim()))
        .unwrap_or((line.trim(), ""));
    match cmd {
        "latency" => {
            net.ms = rest.parse().map_err(|_| format!("bad latency '{rest}'"))?;
            set_latency(bed, *net);
            Ok("ok".into())
        }
        "handshakes" => {
            net.handshakes = match rest {
                "on" => true,
                "off" => false,
                _ => return Err(format!("handshakes takes on or off, not '{rest}'")),
            };
            set_latency(bed, *net);
            Ok("ok".into())
        }
        "fault" => {
            let fault: Fault = rest.parse().map_err(|e| format!("{e}"))?;
            bed.set_fault(None, fault);
            Ok("ok".into())
        }
        "reset" => {
            bed.clear_faults();
            set_latency(bed, *net);
            Ok("ok".into())
        }
        "log" => {
            let log: Vec<_> = bed
                .request_log()
                .into_iter()
                .map(|r| {
                    json!({"listener": r.listener, "method": r.method, "host": r.host,
                           "path": r.path, "status": r.status, "registry": r.registry})
                })
                .collect();
            let connections: Vec<_> = bed
                .connections()
                .into_iter()
                .map(|((listener, host), count)| {
                    json!({"listener": listener, "host": host, "count": count})
                })
                .collect();
            Ok(json!({ "requests": log, "connections": connections }).to_string())
        }
        "clear-log" => {
            bed.clear_request_log();
            Ok("ok".into())
        }
        "" => Ok("ok".into()),
        other => Err(format!("unknown command '{other}'")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let (spec, names) = spec(&args);
    let bed = TestBed::start(spec).await?;
    let names = Arc::new(names);

    let mut dns_port = None;
    if args.dns {
        let socket = UdpSocket::bind(("127.0.0.1", args.dns_port)).await?;
        dns_port = Some(socket.local_addr()?.port());
        tokio::spawn(serve_dns(socket, names.clone()));
    }
    if args.forward_443 {
        let listener = TcpListener::bind("127.0.0.1:443").await?;
        let to = SocketAddr::from(([127, 0, 0, 1], bed.registry_port()));
        tokio::spawn(forward(listener, to));
    }

    let first = names.first().cloned().unwrap_or_default();
    let hello = json!({
        "names": *names,
        "registry_port": bed.registry_port(),
        "dns_port": dns_port,
        "ca_file": bed.ca_file().display().to_string(),
        "env": map(bed.env()),
        "sp_env": map(bed.sp_env()),
        "check_args": bed.check_args(&first),
        "authority_host": bed.authority_host(),
        "arm_endpoint": bed.arm_endpoint(),
        "graph_endpoint": bed.graph_endpoint(),
        "tenant": ids::TENANT,
        "subscription": ids::SUBSCRIPTION,
        "sp_app_id": ids::SP_APP_ID,
    });
    println!("{hello}");

    // Standard input is read on a thread of its own; each line is answered in order.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(16);
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    let mut net = Net {
        ms: args.latency_ms,
        handshakes: args.handshakes,
    };
    while let Some(line) = rx.recv().await {
        if line.trim() == "quit" {
            break;
        }
        match obey(&bed, &line, &mut net) {
            Ok(answer) => println!("{answer}"),
            Err(e) => println!("error: {e}"),
        }
    }
    drop(bed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::dns_answer;

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&[0, 1]);
        q
    }

    #[test]
    fn known_registries_resolve_to_loopback_and_others_do_not_exist() {
        let names = vec!["contosoreg".to_string()];
        let a = dns_answer(&query("contosoreg.azurecr.io", 1), &names).unwrap_or_default();
        assert_eq!(&a[0..2], &[0x12, 0x34]);
        assert_eq!(a[3] & 0x0f, 0, "NOERROR");
        assert_eq!(&a[6..8], &[0, 1], "one answer");
        assert_eq!(&a[a.len() - 4..], &[127, 0, 0, 1]);
        let aaaa = dns_answer(&query("contosoreg.azurecr.io", 28), &names).unwrap_or_default();
        assert_eq!(&aaaa[6..8], &[0, 0], "no AAAA record");
        let none = dns_answer(&query("nosuchreg.azurecr.io", 1), &names).unwrap_or_default();
        assert_eq!(none[3] & 0x0f, 3, "NXDOMAIN");
        let public = dns_answer(&query("pypi.org", 1), &names).unwrap_or_default();
        assert_eq!(public[3] & 0x0f, 3, "NXDOMAIN");
    }
}
