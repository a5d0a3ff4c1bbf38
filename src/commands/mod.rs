//! One thin function per subcommand. Everything written goes through [`Out`], which scrubs secrets.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};

use clap::{CommandFactory, Parser};

pub mod validate;

use crate::catalogue;
use crate::cli::{CheckArgs, Cli, ColorChoice, Command, OutputFormat};
use crate::exit;
use crate::lang::Lang;
use crate::redact::Redactor;
use crate::render::{self, Style};

/// The one door for output.
pub struct Out {
    pub redactor: Redactor,
}

impl Out {
    pub fn stdout(&self, text: &str) {
        let clean = self.redactor.scrub(text);
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(clean.as_bytes());
        let _ = out.flush();
    }

    pub fn stderr(&self, text: &str) {
        let clean = self.redactor.scrub(text);
        let _ = std::io::stderr().lock().write_all(clean.as_bytes());
    }
}

/// Whether to colour: --color, then NO_COLOR / CLICOLOR_FORCE, then whether the stream is a terminal.
pub fn use_color(choice: ColorChoice, env: &BTreeMap<String, String>, is_tty: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if env.get("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                return false;
            }
            if env
                .get("CLICOLOR_FORCE")
                .is_some_and(|v| !v.is_empty() && v != "0")
            {
                return true;
            }
            if ci_system(env).is_some() {
                return false;
            }
            is_tty && env.get("TERM").map(String::as_str) != Some("dumb")
        }
    }
}

/// `github` or `azure-pipelines` when running there.
pub fn ci_system(env: &BTreeMap<String, String>) -> Option<&'static str> {
    if env.get("GITHUB_ACTIONS").map(String::as_str) == Some("true") {
        Some("github")
    } else if env.contains_key("TF_BUILD") {
        Some("azure-pipelines")
    } else {
        None
    }
}

/// Runs the command line with the given environment; returns the exit status.
pub fn main_with(args: Vec<std::ffi::OsString>, env: BTreeMap<String, String>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit::OK
                }
                _ => exit::USAGE,
            };
        }
    };
    let lang = cli
        .global
        .lang
        .unwrap_or_else(|| Lang::from_env(|k| env.get(k).cloned()));
    let out = Out {
        redactor: Redactor::new(),
    };
    let color = use_color(cli.global.color, &env, std::io::stdout().is_terminal());
    if color {
        colored::control::set_override(true);
    }
    let style = Style { color, lang };
    match cli.command {
        Command::Explain { code } => explain(&out, &code, lang, style),
        Command::Causes => causes(&out, lang, cli.global.output),
        Command::Checks => checks(&out, lang, cli.global.output),
        Command::Triage { text, file } => triage(&out, text, file, lang, cli.global.output),
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "acr-doctor", &mut buf);
            out.stdout(&String::from_utf8_lossy(&buf));
            exit::OK
        }
        Command::Man => {
            let mut buf = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut buf) {
                Ok(()) => {
                    out.stdout(&String::from_utf8_lossy(&buf));
                    exit::OK
                }
                Err(e) => {
                    out.stderr(&format!("error: cannot render the man page: {e}\n"));
                    exit::INTERNAL
                }
            }
        }
        Command::Check(args) => check(&out, *args, env, lang, style, cli.global.output),
    }
}

fn explain(out: &Out, code: &str, lang: Lang, style: Style) -> i32 {
    let Some(cause) = catalogue::lookup(code) else {
        let near = catalogue::near_matches(code);
        let mut msg = format!(
            "{}: {code:?}\n",
            lang.pick("error: unknown cause code", "エラー: 不明な原因コードです")
        );
        if !near.is_empty() {
            msg.push_str(&format!(
                "{}\n",
                lang.pick(
                    "Did you mean one of these?",
                    "次のいずれかではありませんか?"
                )
            ));
            for n in near {
                msg.push_str(&format!("  {n}\n"));
            }
        }
        msg.push_str(lang.pick(
            "`acr-doctor causes` lists every code.\n",
            "`acr-doctor causes` ですべてのコードを一覧表示できます。\n",
        ));
        out.stderr(&msg);
        return exit::USAGE;
    };
    let e = cause.entry(lang);
    let mut text = String::new();
    text.push_str(&style.paint(
        &format!("{} ({})", cause.code, cause.severity.as_str()),
        render::Paint::Bold,
    ));
    text.push_str(&format!("\n{}\n\n{}\n\n", e.title, e.explanation));
    text.push_str(&style.paint(lang.pick("Solution", "解決方法"), render::Paint::Bold));
    text.push('\n');
    for (i, s) in e.solution.iter().enumerate() {
        text.push_str(&format!("{}. {s}\n", i + 1));
    }
    if !e.commands.is_empty() {
        text.push('\n');
        text.push_str(&style.paint(lang.pick("Commands", "コマンド"), render::Paint::Bold));
        text.push('\n');
        for c in &e.commands {
            text.push_str(&format!("  {c}\n"));
        }
    }
    if !e.docs.is_empty() {
        text.push('\n');
        text.push_str(&style.paint(lang.pick("Docs", "ドキュメント"), render::Paint::Bold));
        text.push('\n');
        for d in &e.docs {
            text.push_str(&format!("  {d}\n"));
        }
    }
    out.stdout(&text);
    exit::OK
}

fn causes(out: &Out, lang: Lang, output: Option<OutputFormat>) -> i32 {
    if output == Some(OutputFormat::Json) {
        let list: Vec<_> = catalogue::CAUSES
            .iter()
            .map(|c| {
                serde_json::json!({"code": c.code, "severity": c.severity, "family": c.family, "title": c.title(lang)})
            })
            .collect();
        out.stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        ));
        return exit::OK;
    }
    let width = catalogue::CAUSES
        .iter()
        .map(|c| c.code.len())
        .max()
        .unwrap_or(20);
    let mut text = String::new();
    let mut family = "";
    for c in catalogue::CAUSES {
        if c.family != family {
            family = c.family;
            text.push_str(&format!("\n{family}\n"));
        }
        text.push_str(&format!(
            "  {} {:<8} {}\n",
            render::pad(c.code, width),
            c.severity.as_str(),
            c.title(lang)
        ));
    }
    out.stdout(text.trim_start());
    exit::OK
}

fn checks(out: &Out, lang: Lang, output: Option<OutputFormat>) -> i32 {
    let list = crate::checks::all();
    if output == Some(OutputFormat::Json) {
        let json: Vec<_> = list
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.id(),
                    "title": c.title(lang),
                    "group": c.group().title(lang),
                    "needs": c.needs().iter().map(|f| f.name()).collect::<Vec<_>>(),
                    "uses": c.uses().iter().map(|f| f.name()).collect::<Vec<_>>(),
                    "consults": c.consults().iter().map(|f| f.name()).collect::<Vec<_>>(),
                    "provides": c.provides().iter().map(|f| f.name()).collect::<Vec<_>>(),
                })
            })
            .collect();
        out.stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        ));
        return exit::OK;
    }
    let width = list.iter().map(|c| c.id().len()).max().unwrap_or(10) + 2;
    let mut text = String::new();
    for c in &list {
        let needs: Vec<&str> = c.needs().iter().map(|f| f.name()).collect();
        let uses: Vec<&str> = c
            .uses()
            .iter()
            .chain(c.consults())
            .map(|f| f.name())
            .collect();
        let mut deps = String::new();
        if !needs.is_empty() {
            deps.push_str(&format!(
                "{} {}",
                lang.pick("needs", "必要:"),
                needs.join(", ")
            ));
        }
        if !uses.is_empty() {
            if !deps.is_empty() {
                deps.push_str("; ");
            }
            deps.push_str(&format!(
                "{} {}",
                lang.pick("uses", "利用:"),
                uses.join(", ")
            ));
        }
        text.push_str(&format!(
            "{}{}{}\n",
            render::pad(c.id(), width),
            render::pad(c.title(lang), 26),
            deps
        ));
    }
    out.stdout(&text);
    exit::OK
}

fn triage(
    out: &Out,
    text: Option<String>,
    file: Option<std::path::PathBuf>,
    lang: Lang,
    output: Option<OutputFormat>,
) -> i32 {
    use crate::triage::Input;
    let input = match (text, file) {
        (_, Some(path)) if path.as_os_str() == "-" => Input::Stdin,
        (_, Some(path)) => Input::File(path),
        (Some(t), None) if t != "-" => Input::Text(t),
        _ => Input::Stdin,
    };
    let result = match crate::triage::triage_input(input) {
        Ok(result) => result,
        Err(e) => {
            out.stderr(&format!("error: cannot read {e}\n"));
            return exit::USAGE;
        }
    };
    let rendered = match output {
        Some(OutputFormat::Json) => crate::triage::render_json(&result),
        _ => crate::triage::render_human(&result, lang),
    };
    out.stdout(&rendered);
    if let Some(e) = &result.read.error {
        out.stderr(&format!(
            "{} {e}\n",
            lang.pick(
                "warning: reading stopped early, the rest was not examined:",
                "警告: 途中で読み込みが止まり、残りは調べていません:"
            )
        ));
    }
    if result.candidates.is_empty() {
        exit::FINDINGS
    } else {
        exit::OK
    }
}

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

fn check(
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
