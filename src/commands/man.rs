//! `acr-doctor man`.

use clap::CommandFactory;

use super::Out;
use crate::cli::Cli;
use crate::exit;

pub fn run(out: &Out) -> i32 {
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
