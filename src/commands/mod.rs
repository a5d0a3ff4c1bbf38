//! One thin function per subcommand, one file each. Everything written goes through [`Out`],
//! which scrubs secrets; the text itself comes from `render/`.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use clap::Parser;

mod causes;
mod check;
mod checks;
mod completions;
mod explain;
mod man;
mod triage;
pub mod validate;

pub use check::target_names;

use crate::cli::{Cli, ColorChoice, Command};
use crate::exit;
use crate::lang::Lang;
use crate::redact::Redactor;
use crate::render::Style;

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
        Command::Explain { code } => explain::run(&out, &code, style),
        Command::Causes => causes::run(&out, lang, cli.global.output),
        Command::Checks => checks::run(&out, lang, cli.global.output),
        Command::Triage { text, file } => triage::run(&out, text, file, lang, cli.global.output),
        Command::Completions { shell } => completions::run(&out, shell),
        Command::Man => man::run(&out),
        Command::Check(args) => check::run(&out, *args, env, lang, style, cli.global.output),
    }
}
