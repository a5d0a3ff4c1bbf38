//! `acr-doctor checks`.

use super::Out;
use crate::cli::OutputFormat;
use crate::exit;
use crate::lang::Lang;
use crate::render;

pub fn run(out: &Out, lang: Lang, output: Option<OutputFormat>) -> i32 {
    let list = crate::checks::all();
    let text = match output {
        Some(OutputFormat::Json) => render::checks::json(&list, lang),
        _ => render::checks::human(&list, lang),
    };
    out.stdout(&text);
    exit::OK
}
