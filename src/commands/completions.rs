//! `acr-doctor completions SHELL` and `acr-doctor man`.

use clap::CommandFactory;

use super::Out;
use crate::cli::Cli;
use crate::exit;

pub fn completions(out: &Out, shell: clap_complete::Shell) -> i32 {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "acr-doctor", &mut buf);
    out.stdout(&String::from_utf8_lossy(&buf));
    exit::OK
}

pub fn man(out: &Out) -> i32 {
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
