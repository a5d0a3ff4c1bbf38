//! Serve the acr-testbed by hand and print how to point acr-doctor at it.
//!
//! ```text
//! cargo run --example testbed -- --fault public-access-disabled [--registry NAME] [--latency-ms N]
//! cargo run --example testbed -- --push app:1.0 --fault artifact-locked=app:1.0
//! ```

use acr_testbed::{ids, BedSpec, Fault, Registry, TestBed};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    about = "Serve the acr-doctor test bed (fake Entra, ARM, Graph and ACR in front of a real registry)"
)]
struct Args {
    /// A fault to switch on (repeatable), e.g. public-access-disabled, slow=50, throttled=5.
    #[arg(long = "fault", value_name = "NAME[=VALUE]")]
    faults: Vec<Fault>,
    /// Apply the faults to this registry only (default: everywhere).
    #[arg(long, value_name = "NAME")]
    registry: Option<String>,
    /// Delay every response by this many milliseconds.
    #[arg(long, value_name = "N")]
    latency_ms: Option<u64>,
    /// Do not start docker-registry; the bed checks its own tokens instead.
    #[arg(long)]
    no_backend: bool,
    /// Add AKS cluster aks-test and its networks (implied by any aks-* fault)
    #[arg(long)]
    aks: bool,
    /// Push a tiny linux/amd64 image as REPO:TAG before serving (repeatable).
    #[arg(long, value_name = "REPO:TAG")]
    push: Vec<String>,
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:=@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut spec = BedSpec::new();
    if args.no_backend {
        spec = spec.registry(Registry::new(ids::REGISTRY).real_backend(false));
    }
    let aks = args.aks || args.faults.iter().any(|f| f.name().starts_with("aks-"));
    if aks {
        spec = spec.with_aks();
    }
    let target = args.registry.as_deref();
    for f in &args.faults {
        spec = spec.fault(target, f.clone());
    }
    if let Some(ms) = args.latency_ms {
        spec = spec.fault(target, Fault::Slow { ms });
    }
    let bed = TestBed::start(spec).await?;
    let name = args
        .registry
        .clone()
        .unwrap_or_else(|| ids::REGISTRY.to_string());
    for image in &args.push {
        let (repo, tag) = image.split_once(':').unwrap_or((image.as_str(), "latest"));
        let digest = bed.push_test_image(&name, repo, tag).await?;
        println!("# pushed {repo}:{tag} ({digest})");
    }

    println!(
        "# acr-testbed is serving (state in {})",
        bed.dir().display()
    );
    if !args.faults.is_empty() || args.latency_ms.is_some() {
        let mut names: Vec<String> = args.faults.iter().map(|f| f.to_string()).collect();
        if let Some(ms) = args.latency_ms {
            names.push(format!("slow={ms}"));
        }
        println!(
            "# faults: {} ({})",
            names.join(", "),
            target
                .map(|r| format!("registry {r}"))
                .unwrap_or("global".into())
        );
    }
    println!("# point acr-doctor at it:");
    for (k, v) in bed.env().into_iter().chain(bed.sp_env()) {
        println!("export {k}={}", shell_quote(&v));
    }
    let mut check: Vec<String> = bed
        .check_args(&name)
        .iter()
        .map(|a| shell_quote(a))
        .collect();
    if aks {
        check.extend([
            "--aks".to_string(),
            acr_testbed::aks::CLUSTER.to_string(),
            "--aks-resource-group".to_string(),
            ids::RESOURCE_GROUP.to_string(),
        ]);
    }
    println!("acr-doctor check {}", check.join(" "));
    println!("# managed identity instead of the service principal:");
    for (k, v) in bed.identity_env() {
        println!("#   export {k}={}", shell_quote(&v));
    }
    println!("# Ctrl-C stops the bed.");
    acr_testbed::shutdown_signal().await;
    Ok(())
}
