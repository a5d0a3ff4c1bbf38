//! acr-doctor: diagnose why you cannot log in to, push to or pull from an Azure Container Registry.
//!
//! The library is the product; `main.rs` only parses, runs and exits. Tests drive
//! [`run_check`] with their own environment, exactly as the binary does.

#![forbid(unsafe_code)]
// No unwrap/expect/panic on outside input outside tests (clippy.toml allows them in tests).
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod azure;
pub mod catalogue;
pub mod checks;
pub mod cli;
pub mod code;
pub mod commands;
pub mod context;
pub mod docker;
pub mod engine;
pub mod engine_words;
pub mod error_codes;
pub mod finding;
pub mod http;
pub mod hygiene;
pub mod lang;
pub mod model;
pub mod net;
pub mod protocol;
pub mod redact;
pub mod render;
pub mod report;
pub mod request;
pub mod triage;
pub mod trust;

use std::collections::BTreeMap;

use crate::cli::{CheckArgs, Cloud, FailOn};
use crate::context::{Context, UsageError};
pub use crate::engine::report::scrub_report;
use crate::finding::Severity;
use crate::lang::Lang;
use crate::report::Report;

/// Exit statuses of CONTRACT.md.
pub mod exit {
    pub const OK: i32 = 0;
    pub const FINDINGS: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const INTERNAL: i32 = 3;
}

/// Parses `check` options from an argument list (without the program name and `check`),
/// exactly as the command line does: `check_args(&["--name", "x", "--repository", "app"])`.
pub fn check_args(argv: &[&str]) -> Result<CheckArgs, clap::Error> {
    use clap::Parser;
    let mut full = vec!["acr-doctor", "check"];
    full.extend_from_slice(argv);
    match cli::Cli::try_parse_from(full)?.command {
        cli::Command::Check(args) => Ok(*args),
        _ => Err(clap::Error::new(clap::error::ErrorKind::InvalidSubcommand)),
    }
}

/// A finished `check` of one registry.
#[derive(Debug, Clone)]
pub struct CheckRun {
    pub report: Report,
    /// True when a check crashed (a bug in acr-doctor): exit status 3.
    pub internal_error: bool,
    /// The `--verbose` trace, already scrubbed.
    pub trace: Vec<String>,
}

impl CheckRun {
    pub fn exit_code(&self, fail_on: FailOn) -> i32 {
        exit_code(&self.report, self.internal_error, fail_on)
    }
}

pub fn exit_code(report: &Report, internal_error: bool, fail_on: FailOn) -> i32 {
    if internal_error {
        return exit::INTERNAL;
    }
    let threshold = match fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
    };
    if report.findings.iter().any(|f| f.severity >= threshold) {
        exit::FINDINGS
    } else {
        exit::OK
    }
}

/// The cloud in effect: `--cloud`, else the Azure CLI's active cloud when readable, else AzureCloud.
pub fn effective_cloud(args: &CheckArgs, env: &BTreeMap<String, String>) -> Cloud {
    if let Some(cloud) = args.cloud {
        return cloud;
    }
    azure::cli_config::active_cloud(env).unwrap_or_default()
}

/// Runs `acr-doctor check` for one registry with the given environment.
pub async fn run_check(
    args: &CheckArgs,
    target: &str,
    env: BTreeMap<String, String>,
    lang: Lang,
) -> Result<CheckRun, UsageError> {
    let ctx = Context::new(env, args)?;
    run_check_with(args, target, &ctx, lang).await
}

/// Runs `check` with a prepared context (tests shift its clock; fleets share it).
pub async fn run_check_with(
    args: &CheckArgs,
    target: &str,
    ctx: &Context,
    lang: Lang,
) -> Result<CheckRun, UsageError> {
    if let Some(pw) = &args.password {
        ctx.redactor.register_secret(pw);
    }
    let started_at = ctx.clock.now();
    let started = std::time::Instant::now();
    let checks = checks::all();
    let run = engine::run(&checks, ctx, args, target, lang).await;
    let input = engine::report::RunInput {
        args,
        target,
        cloud: effective_cloud(args, ctx.env_map()),
        ctx,
        lang,
        started_at,
        elapsed: started.elapsed(),
    };
    let report = engine::report::build_report(&checks, &run, &input);
    let internal_error = run.results.iter().any(|r| r.crashed);
    let report = scrub_report(&report, &ctx.redactor);
    let trace = ctx
        .trace
        .lines()
        .into_iter()
        .map(|l| hygiene::clean(&ctx.redactor.scrub(&l)).into_owned())
        .collect();
    Ok(CheckRun {
        report,
        internal_error,
        trace,
    })
}

/// Checks several registries at once, at most `jobs` in flight, sharing one context (one
/// HTTP connection pool, one set of credentials). Each registry runs as a task of its own, so
/// that the runtime's threads share the TLS and JSON work. Results come back in the order given.
pub async fn run_fleet(
    args: &CheckArgs,
    names: &[String],
    ctx: &Context,
    lang: Lang,
    jobs: usize,
) -> Result<Vec<CheckRun>, UsageError> {
    use futures::stream::{self, StreamExt};
    stream::iter(names.iter().cloned())
        .map(|name| {
            let (args, ctx) = (args.clone(), ctx.clone());
            let task = tokio::spawn(async move { run_check_with(&args, &name, &ctx, lang).await });
            async move {
                task.await.unwrap_or_else(|e| {
                    Err(UsageError::Other(format!(
                        "internal error: a registry's run ended abnormally: {e}"
                    )))
                })
            }
        })
        .buffered(jobs.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}
