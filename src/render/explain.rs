//! `acr-doctor explain CODE`: one cause from the catalogue, and the answer to an unknown code.

use crate::catalogue::Cause;
use crate::lang::Lang;

use super::{Paint, Style};

/// A cause in full: code and severity, title, explanation, solution, commands and docs.
pub fn explain(cause: &Cause, style: Style) -> String {
    let lang = style.lang;
    let e = cause.entry(lang);
    let mut text = String::new();
    text.push_str(&style.paint(
        &format!("{} ({})", cause.code, cause.severity.as_str()),
        Paint::Bold,
    ));
    text.push_str(&format!("\n{}\n\n{}\n\n", e.title, e.explanation));
    text.push_str(&style.paint(lang.pick("Solution", "解決方法"), Paint::Bold));
    text.push('\n');
    for (i, s) in e.solution.iter().enumerate() {
        text.push_str(&format!("{}. {s}\n", i + 1));
    }
    if !e.commands.is_empty() {
        text.push('\n');
        text.push_str(&style.paint(lang.pick("Commands", "コマンド"), Paint::Bold));
        text.push('\n');
        for c in &e.commands {
            text.push_str(&format!("  {c}\n"));
        }
    }
    if !e.docs.is_empty() {
        text.push('\n');
        text.push_str(&style.paint(lang.pick("Docs", "ドキュメント"), Paint::Bold));
        text.push('\n');
        for d in &e.docs {
            text.push_str(&format!("  {d}\n"));
        }
    }
    text
}

/// The error for a code the catalogue does not know, with the codes it resembles.
pub fn unknown_code(code: &str, near: &[&str], lang: Lang) -> String {
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
    msg
}
