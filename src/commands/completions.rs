//! `acr-doctor completions SHELL`.

use clap::CommandFactory;

use super::Out;
use crate::cli::Cli;
use crate::exit;

pub fn run(out: &Out, shell: clap_complete::Shell) -> i32 {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "acr-doctor", &mut buf);
    out.stdout(&String::from_utf8_lossy(&buf));
    exit::OK
}
