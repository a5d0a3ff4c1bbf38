//! `acr-doctor causes`.

use super::Out;
use crate::catalogue;
use crate::cli::OutputFormat;
use crate::exit;
use crate::lang::Lang;
use crate::render;

pub fn run(out: &Out, lang: Lang, output: Option<OutputFormat>) -> i32 {
    let text = match output {
        Some(OutputFormat::Json) => render::catalogue::json(catalogue::CAUSES, lang),
        _ => render::catalogue::human(catalogue::CAUSES, lang),
    };
    out.stdout(&text);
    exit::OK
}
