//! `acr-doctor checks`: the list of checks in report order, with what each needs and uses.

use crate::checks::Check;
use crate::lang::Lang;

use super::pad;

/// `checks -o json`: id, title, group and the facts of every check.
pub fn json(list: &[Box<dyn Check>], lang: Lang) -> String {
    let json: Vec<_> = list
        .iter()
        .map(|c| {
            serde_json::json!({
                "id": c.id(),
                "title": c.title(lang),
                "group": c.group().title(lang),
                "needs": c.needs().iter().map(|f| f.name()).collect::<Vec<_>>(),
                "uses": c.uses().iter().map(|f| f.name()).collect::<Vec<_>>(),
                "consults": c.consults().iter().map(|f| f.name()).collect::<Vec<_>>(),
                "provides": c.provides().iter().map(|f| f.name()).collect::<Vec<_>>(),
            })
        })
        .collect();
    format!(
        "{}\n",
        serde_json::to_string_pretty(&json).unwrap_or_default()
    )
}

/// `checks`: one line per check: id, title, and what it needs and uses.
pub fn human(list: &[Box<dyn Check>], lang: Lang) -> String {
    let width = list.iter().map(|c| c.id().len()).max().unwrap_or(10) + 2;
    let mut text = String::new();
    for c in list {
        let needs: Vec<&str> = c.needs().iter().map(|f| f.name()).collect();
        let uses: Vec<&str> = c
            .uses()
            .iter()
            .chain(c.consults())
            .map(|f| f.name())
            .collect();
        let mut deps = String::new();
        if !needs.is_empty() {
            deps.push_str(&format!(
                "{} {}",
                lang.pick("needs", "必要:"),
                needs.join(", ")
            ));
        }
        if !uses.is_empty() {
            if !deps.is_empty() {
                deps.push_str("; ");
            }
            deps.push_str(&format!(
                "{} {}",
                lang.pick("uses", "利用:"),
                uses.join(", ")
            ));
        }
        text.push_str(&format!(
            "{}{}{}\n",
            pad(c.id(), width),
            pad(c.title(lang), 26),
            deps
        ));
    }
    text
}
