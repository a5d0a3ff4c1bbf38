//! Symptom triage: map pasted error text to cause codes.
//!
//! The patterns are data beside the cause catalogue: `causes/messages/<CODE>.txt`, one pattern a
//! line (`<confidence>\t<regex>[\t<note>]`), plus directives for the sentence that explains the
//! match (`@why.en`, `@why.ja`), the flags that confirm it (`@confirm`) and the causes it is listed
//! before (`@outranks`). The files are compiled in, every file of the folder (build.rs lists them;
//! a file named after no cause code fails the build). Adding a message is adding a line.
//!
//! Text is read as a stream of lines (`scan.rs`), whatever its size: an argument, standard input
//! or a file, gzip-compressed or not. A pattern matches within one line.
//!
//! The parts: `data.rs` (the compiled-in patterns), `scan.rs` (the line scan), `layers.rs` (the
//! error chain read by protocol layer), `answer.rs` (the causes ordered into an answer),
//! `confirm.rs` (the confirming command), `input.rs` (where the text comes from) and `result.rs`
//! (the types of the answer).

mod anchors;
mod answer;
mod confirm;
mod data;
mod input;
pub mod layers;
mod result;
mod scan;

pub use confirm::{registry_name, repository_name};
pub use data::{data_errors, pattern_counts, MESSAGE_FILES, NO_MESSAGE};
pub use input::{triage, triage_input, triage_reader, Input};
pub use result::{
    Candidate, Confidence, Context, Limit, Link, Occurrences, ReadSummary, TriageResult,
};

/// The codes of the candidates for `text`, in order (for the tests of the parts).
#[cfg(test)]
fn codes(text: &str) -> Vec<String> {
    triage(text)
        .candidates
        .into_iter()
        .map(|c| c.code)
        .collect()
}
