//! `acr-doctor check`: run the checks on one registry or a fleet and write the report.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};

use super::{ci_system, Out};
use crate::cli::{CheckArgs, OutputFormat};
use crate::context::{Context, ProgressFn, UsageError};
use crate::exit;
use crate::lang::Lang;
use crate::redact::{Redactor, Secret};
use crate::render::{self, Style};
use crate::report::Report;
use crate::CheckRun;

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
        match read_password_stdin() {
            Ok(pw) => {
                out.redactor.register(&pw);
                args.password = Some(Secret::new(pw));
            }
            Err(line) => {
                out.stderr(&line);
                return exit::USAGE;
            }
        }
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
    let delivery = Delivery::new(&env, output, style, lang);
    let jobs = args.jobs.clamp(1, 64);
    let spinner = delivery
        .wants_progress(std::io::stderr().is_terminal(), &env)
        .then(progress_line);
    let progress = spinner.as_ref().map(|(_, f)| f.clone());
    let result = runtime.block_on(check_fleet(env, &args, &names, lang, jobs, progress));
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
    report_runs(&Out { redactor }, &args, &runs, &delivery)
}

/// Writes the traces (with --verbose) and the reports; gives the exit code, the worst of the
/// runs'.
fn report_runs(out: &Out, args: &CheckArgs, runs: &[CheckRun], delivery: &Delivery) -> i32 {
    if args.verbose {
        for run in runs {
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
    let reports: Vec<&Report> = runs.iter().map(|r| &r.report).collect();
    delivery.write(out, &reports);
    code
}

/// The password given on standard input (64 KiB at most, without its line end); else the
/// error line for stderr.
fn read_password_stdin() -> Result<String, String> {
    let mut buf = String::new();
    if let Err(e) = std::io::stdin().take(64 * 1024).read_to_string(&mut buf) {
        return Err(format!(
            "error: --password-stdin: cannot read standard input: {e}\n"
        ));
    }
    password_from_input(&buf)
        .ok_or_else(|| "error: --password-stdin: standard input was empty\n".to_string())
}

/// The password in what standard input gave: the text without its line end, if any is left.
fn password_from_input(input: &str) -> Option<String> {
    let pw = input.trim_end_matches(['\r', '\n']);
    (!pw.is_empty()).then(|| pw.to_string())
}

/// Runs the checks on every registry; gives the runs and the redactor that saw their secrets.
async fn check_fleet(
    env: BTreeMap<String, String>,
    args: &CheckArgs,
    names: &[String],
    lang: Lang,
    jobs: usize,
    progress: Option<ProgressFn>,
) -> Result<(Vec<CheckRun>, Redactor), UsageError> {
    let mut ctx = Context::new(env, args)?;
    if let Some(f) = progress {
        ctx.progress = Some(f);
    }
    // The redactor of the run knows what the CLI registered.
    if let Some(pw) = &args.password {
        ctx.redactor.register_secret(pw);
    }
    let runs = crate::run_fleet(args, names, &ctx, lang, jobs).await?;
    Ok((runs, ctx.redactor.clone()))
}

/// Where and how the report is written: its format, the CI system it runs under, and the
/// GitHub step summary to append to.
struct Delivery {
    format: OutputFormat,
    ci: Option<&'static str>,
    style: Style,
    lang: Lang,
    summary_path: Option<String>,
}

impl Delivery {
    fn new(
        env: &BTreeMap<String, String>,
        output: Option<OutputFormat>,
        style: Style,
        lang: Lang,
    ) -> Self {
        Delivery {
            format: output.unwrap_or(OutputFormat::Human),
            ci: ci_system(env),
            style,
            lang,
            summary_path: env.get("GITHUB_STEP_SUMMARY").cloned(),
        }
    }

    /// A live progress line is drawn for a person at a terminal only: not in CI, not for
    /// machine formats, not when NO_PROGRESS is set.
    fn wants_progress(&self, stderr_is_terminal: bool, env: &BTreeMap<String, String>) -> bool {
        self.format == OutputFormat::Human
            && self.ci.is_none()
            && stderr_is_terminal
            && !env.contains_key("NO_PROGRESS")
    }

    /// Writes the reports in the format asked for; under Azure Pipelines, the human form is
    /// followed by its logging commands.
    fn write(&self, out: &Out, reports: &[&Report]) {
        let text = match self.format {
            OutputFormat::Human => render::fleet::human(reports, self.style),
            OutputFormat::Json => render::fleet::json(reports),
            OutputFormat::Markdown => render::fleet::markdown(reports, self.lang),
            OutputFormat::Github => self.github(out, reports),
        };
        out.stdout(&text);
        if self.ci == Some("azure-pipelines") && self.format == OutputFormat::Human {
            for r in reports {
                out.stdout(&render::github::azure_pipelines(r));
            }
        }
    }

    /// GitHub Actions: the Markdown report appended to the step summary (when there is one),
    /// and annotations for the log.
    fn github(&self, out: &Out, reports: &[&Report]) -> String {
        if let Some(path) = &self.summary_path {
            let summary = out
                .redactor
                .scrub(&render::fleet::markdown(reports, self.lang));
            if let Err(e) = append_file(path, &summary) {
                out.stderr(&format!(
                    "warning: cannot write GITHUB_STEP_SUMMARY {path}: {e}\n"
                ));
            }
        }
        reports
            .iter()
            .map(|r| render::github::annotations(r, self.lang))
            .collect::<String>()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_standard_input_without_its_line_end() {
        assert_eq!(password_from_input("s3cret\n").as_deref(), Some("s3cret"));
        assert_eq!(
            password_from_input("s3cret\r\n\n").as_deref(),
            Some("s3cret")
        );
        // Only line ends go: inner and leading spaces are part of a password.
        assert_eq!(password_from_input(" a b \n").as_deref(), Some(" a b "));
        assert_eq!(password_from_input(""), None);
        assert_eq!(password_from_input("\r\n"), None);
    }

    #[test]
    fn the_progress_line_is_for_a_person_at_a_terminal_only() {
        let style = Style::plain(Lang::En);
        let env = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let plain = env(&[]);
        let human = Delivery::new(&plain, None, style, Lang::En);
        assert!(matches!(human.format, OutputFormat::Human));
        assert!(human.wants_progress(true, &plain));
        assert!(!human.wants_progress(false, &plain));
        assert!(!human.wants_progress(true, &env(&[("NO_PROGRESS", "")])));
        let json = Delivery::new(&plain, Some(OutputFormat::Json), style, Lang::En);
        assert!(!json.wants_progress(true, &plain));
        let ci = env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", "sum.md"),
        ]);
        let github = Delivery::new(&ci, None, style, Lang::En);
        assert_eq!(github.ci, Some("github"));
        assert_eq!(github.summary_path.as_deref(), Some("sum.md"));
        assert!(!github.wants_progress(true, &ci));
    }
}
