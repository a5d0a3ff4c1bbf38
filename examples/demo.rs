//! The first run, without Azure: start the test bed with one fault, run `acr-doctor check`
//! against it, print the report, stop the bed.
//!
//! ```text
//! cargo run --example demo -- public-access-disabled      # one fault
//! cargo run --example demo -- --list                      # every fault
//! cargo run --example demo -- healthy --lang ja -o markdown
//! ```
//!
//! Everything stays on this machine: the bed listens on 127.0.0.1 only, and the check runs with
//! the bed's endpoints, a temporary HOME (no Docker config, no Azure CLI of yours) and an empty
//! PATH, so nothing of the real Azure is contacted. The temporary files go when the demo ends.

use std::collections::BTreeMap;

use acr_doctor::lang::Lang;
use acr_doctor::render;
use acr_testbed::{ids, BedSpec, Fault, Registry, Scope, TestBed, FAULT_NAMES};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Run acr-doctor once against the local test bed with one fault switched on")]
struct Args {
    /// The fault to show (`--list` prints them), or `healthy` for none. A value follows `=`,
    /// e.g. throttled=5.
    #[arg(value_name = "FAULT", default_value = "healthy")]
    fault: String,
    /// Print the faults and exit.
    #[arg(long)]
    list: bool,
    /// Language of the report.
    #[arg(long, default_value = "en", value_parser = ["en", "ja"])]
    lang: String,
    /// Output form.
    #[arg(short, long, default_value = "human", value_parser = ["human", "json", "markdown"])]
    output: String,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if args.list {
        println!("healthy");
        for name in FAULT_NAMES {
            println!("{name}");
        }
        return std::process::ExitCode::SUCCESS;
    }
    match demo(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

/// Whether a real registry (Debian's `docker-registry`) can stand behind the bed; without it
/// the bed checks its own tokens, which is enough for every fault.
fn registry_binary_present() -> bool {
    if std::env::var_os("ACR_TESTBED_REGISTRY_BIN").is_some() {
        return true;
    }
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| d.join("docker-registry").is_file())
    })
}

async fn demo(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let lang = if args.lang == "ja" {
        Lang::Ja
    } else {
        Lang::En
    };
    let fault: Option<Fault> = match args.fault.as_str() {
        "healthy" | "none" => None,
        other => Some(other.parse()?),
    };
    // The service principal may also read the registry's settings, so that the report can say
    // which rule applies.
    let mut spec = BedSpec::new().assign("sp", "Reader", Scope::Subscription);
    if !registry_binary_present() {
        spec = spec.registry(Registry::new(ids::REGISTRY).real_backend(false));
    }
    if let Some(f) = &fault {
        spec = spec.fault(Some(ids::REGISTRY), f.clone());
    }
    let bed = TestBed::start(spec).await?;
    let home = tempfile::Builder::new()
        .prefix("acr-doctor-demo-")
        .tempdir()?;
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin)?;

    // Only the bed's endpoints and its service principal; nothing from this shell.
    let mut env: BTreeMap<String, String> = bed.env().into_iter().chain(bed.sp_env()).collect();
    let path = |p: &std::path::Path| p.display().to_string();
    env.insert("HOME".into(), path(home.path()));
    env.insert("PATH".into(), path(&bin));
    env.insert("DOCKER_CONFIG".into(), path(&home.path().join(".docker")));
    env.insert("AZURE_CONFIG_DIR".into(), path(&home.path().join(".azure")));
    env.insert("LANG".into(), "C.UTF-8".into());

    let mut argv: Vec<String> = Vec::new();
    argv.extend(bed.check_args(ids::REGISTRY));
    // The local Docker engine is not part of the demo; a hung bed ends within the bound.
    argv.extend(["--skip", "docker", "--timeout", "5"].map(String::from));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let check = acr_doctor::check_args(&argv)?;

    eprintln!(
        "acr-doctor demo: test bed on 127.0.0.1 with {}; running the check…",
        match &fault {
            Some(f) => format!("fault {f}"),
            None => "no fault".to_string(),
        }
    );
    let run = acr_doctor::run_check(&check, ids::REGISTRY, env, lang).await?;
    let text = match args.output.as_str() {
        "json" => render::json::render(&run.report),
        "markdown" => render::markdown::render(&run.report, lang),
        _ => render::human::render(&run.report, render::Style::plain(lang)),
    };
    println!("{text}");
    if let Some(first) = run.report.findings.first() {
        eprintln!(
            "acr-doctor demo: primary cause {} ({}); `cargo run -- explain {}` explains it",
            first.code,
            first.confidence.as_str(),
            first.code
        );
    }
    drop(bed);
    drop(home);
    Ok(())
}
