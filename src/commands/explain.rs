//! `acr-doctor explain CODE`.

use super::Out;
use crate::catalogue;
use crate::exit;
use crate::render::{self, Style};

pub fn run(out: &Out, code: &str, style: Style) -> i32 {
    let Some(cause) = catalogue::lookup(code) else {
        let near = catalogue::near_matches(code);
        out.stderr(&render::explain::unknown_code(code, &near, style.lang));
        return exit::USAGE;
    };
    out.stdout(&render::explain::explain(cause, style));
    exit::OK
}
