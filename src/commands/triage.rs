//! `acr-doctor triage`: read pasted error text, name the causes it points to.

use super::Out;
use crate::cli::OutputFormat;
use crate::exit;
use crate::lang::Lang;
use crate::render;

pub fn run(
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
        Some(OutputFormat::Json) => render::triage::render_json(&result),
        _ => render::triage::render_human(&result, lang),
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
