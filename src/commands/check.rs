//! `acr-doctor check`: run the checks on one registry or a fleet and write the report.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};

use super::{ci_system, Out};
use crate::cli::{CheckArgs, OutputFormat};
use crate::exit;
use crate::lang::Lang;
use crate::render::{self, Style};

/// Reads registry names from --name and --names-file (one per line, `#` comments).
pub fn target_names(args: &CheckArgs) -> Result<Vec<String>, String> {
    let mut names = args.names.clone();
    if let Some(path) = &args.names_file {
        let meta =
            std::fs::metadata(path).map_err(|e| format!("--names-file {}: {e}", path.display()))?;
        if meta.len() > 4 * 1024 * 1024 {
            return Err(format!(
                "--names-file {}: larger than 4 MiB",
                path.display()
            ));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--names-file {}: {e}", path.display()))?;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if !line.is_empty() {
                names.push(line.to_string());
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    names.retain(|n| seen.insert(n.to_ascii_lowercase()));
    if names.is_empty() {
        return Err("no registry given: use --name NAME (or --names-file FILE)".into());
    }
    Ok(names)
}

pub fn run(
    out: &Out,
    mut args: CheckArgs,
    env: BTreeMap<String, String>,
    lang: Lang,
    style: Style,
    output: Option<OutputFormat>,
) -> i32 {
    let names = match target_names(&args) {
        Ok(n) => n,
        Err(e) => {
            out.stderr(&format!("error: {e}\n"));
            return exit::USAGE;
        }
    };
    if args.password_stdin {
        let mut buf = String::new();
        if let Err(e) = std::io::stdin().take(64 * 1024).read_to_string(&mut buf) {
            out.stderr(&format!(
                "error: --password-stdin: cannot read standard input: {e}\n"
            ));
            return exit::USAGE;
        }
        let pw = buf.trim_end_matches(['\r', '\n']).to_string();
        if pw.is_empty() {
            out.stderr("error: --password-stdin: standard input was empty\n");
            return exit::USAGE;
        }
        out.redactor.register(&pw);
        args.password = Some(crate::redact::Secret::new(pw));
    }
    if let Some(pw) = &args.password {
        out.redactor.register_secret(pw);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.stderr(&format!("error: cannot start the async runtime: {e}\n"));
            return exit::INTERNAL;
        }
    };
    let ci = ci_system(&env);
    let format = output.unwrap_or(OutputFormat::Human);
    let summary_path = env.get("GITHUB_STEP_SUMMARY").cloned();
    let jobs = args.jobs.clamp(1, 64);
    let show_progress = format == OutputFormat::Human
        && ci.is_none()
        && std::io::stderr().is_terminal()
        && !env.contains_key("NO_PROGRESS");
    let spinner = show_progress.then(progress_line);
    let result = runtime.block_on(async {
        let mut ctx = crate::context::Context::new(env, &args)?;
        if let Some((_, f)) = &spinner {
            ctx.progress = Some(f.clone());
        }
        // The redactor of the run knows what the CLI registered.
        if let Some(pw) = &args.password {
            ctx.redactor.register_secret(pw);
        }
        let runs = crate::run_fleet(&args, &names, &ctx, lang, jobs).await?;
        Ok::<_, crate::context::UsageError>((runs, ctx.redactor.clone()))
    });
    // Work still in flight (a connection opener, a name lookup on a blocking thread that a
    // timeout gave up on) must not keep the process alive once the answer is known.
    runtime.shutdown_background();
    if let Some((bar, _)) = &spinner {
        bar.finish_and_clear();
    }
    let (runs, redactor) = match result {
        Ok(r) => r,
        Err(e) => {
            out.stderr(&format!("error: {e}\n"));
            return exit::USAGE;
        }
    };
    let out = Out { redactor };
    if args.verbose {
        for run in &runs {
            for line in &run.trace {
                out.stderr(&format!("* {line}\n"));
            }
        }
    }
    let code = runs
        .iter()
        .map(|r| r.exit_code(args.fail_on))
        .max()
        .unwrap_or(exit::OK);
    let reports: Vec<&crate::report::Report> = runs.iter().map(|r| &r.report).collect();
    let text = match format {
        OutputFormat::Human => render::fleet::human(&reports, style),
        OutputFormat::Json => render::fleet::json(&reports),
        OutputFormat::Markdown => render::fleet::markdown(&reports, lang),
        OutputFormat::Github => {
            if let Some(path) = &summary_path {
                let summary = out.redactor.scrub(&render::fleet::markdown(&reports, lang));
                if let Err(e) = append_file(path, &summary) {
                    out.stderr(&format!(
                        "warning: cannot write GITHUB_STEP_SUMMARY {path}: {e}\n"
                    ));
                }
            }
            reports
                .iter()
                .map(|r| render::github::annotations(r, lang))
                .collect::<String>()
        }
    };
    out.stdout(&text);
    if ci == Some("azure-pipelines") && format == OutputFormat::Human {
        for r in &reports {
            out.stdout(&render::github::azure_pipelines(r));
        }
    }
    code
}

/// A live line on stderr naming the checks in flight.
fn progress_line() -> (indicatif::ProgressBar, crate::context::ProgressFn) {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    let running = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let b = bar.clone();
    let f: crate::context::ProgressFn = std::sync::Arc::new(move |id, status| {
        if let Ok(mut r) = running.lock() {
            match status {
                None => r.push(id.to_string()),
                Some(_) => r.retain(|x| x != id),
            }
            b.set_message(format!("checking {}", r.join(", ")));
        }
    });
    (bar, f)
}

fn append_file(path: &str, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}
