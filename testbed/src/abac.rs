//! A small evaluator for the ABAC role-assignment conditions ACR documents, e.g.
//! `((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}))
//!  OR (@Resource[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'app'))`.
//!
//! Supported: `AND`/`&&`, `OR`/`||`, `!`/`NOT`, parentheses, `ActionMatches{'pattern'}`,
//! `SubOperationMatches{...}` (always false: ACR defines no sub-operations), and attribute
//! comparisons with StringEquals, StringNotEquals, StringStartsWith, StringNotStartsWith,
//! StringLike, StringNotLike (each optionally `IgnoreCase`) and the `ForAnyOfAnyValues:` /
//! `ForAllOfAnyValues:` prefixes against `'value'` or `{'a', 'b'}`.
//! The only attribute is the repository name
//! (`@Resource[Microsoft.ContainerRegistry/registries/repositories:name]`, also `@Request[...]`).
//! Assumption (docs are silent): a condition that does not parse, or names another attribute,
//! grants nothing.

use crate::perms::glob_match;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Not,
    And,
    Or,
    LBrace,
    RBrace,
    Comma,
    Str(String),
    Word(String),
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            '{' => {
                out.push(Tok::LBrace);
                i += 1
            }
            '}' => {
                out.push(Tok::RBrace);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '!' => {
                out.push(Tok::Not);
                i += 1
            }
            '&' if chars.get(i + 1) == Some(&'&') => {
                out.push(Tok::And);
                i += 2
            }
            '|' if chars.get(i + 1) == Some(&'|') => {
                out.push(Tok::Or);
                i += 2
            }
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    let ch = *chars.get(i)?;
                    i += 1;
                    if ch == '\'' {
                        // '' inside a string is an escaped quote
                        if chars.get(i) == Some(&'\'') {
                            v.push('\'');
                            i += 1;
                            continue;
                        }
                        break;
                    }
                    v.push(ch);
                }
                out.push(Tok::Str(v));
            }
            _ => {
                let mut w = String::new();
                let mut depth = 0;
                while i < chars.len() {
                    let ch = chars[i];
                    if ch == '[' {
                        depth += 1;
                    } else if ch == ']' {
                        depth -= 1;
                    } else if depth == 0 && (ch.is_whitespace() || "(){},!'".contains(ch)) {
                        break;
                    }
                    w.push(ch);
                    i += 1;
                }
                if w.is_empty() {
                    return None;
                }
                match w.to_ascii_uppercase().as_str() {
                    "AND" => out.push(Tok::And),
                    "OR" => out.push(Tok::Or),
                    "NOT" => out.push(Tok::Not),
                    _ => out.push(Tok::Word(w)),
                }
            }
        }
    }
    Some(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    action: &'a str,
    repo: &'a str,
}

const REPO_ATTR: &str = "microsoft.containerregistry/registries/repositories:name";

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn expect(&mut self, t: Tok) -> Option<()> {
        (self.next()? == t).then_some(())
    }
    fn or(&mut self) -> Option<bool> {
        let mut v = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            let r = self.and()?;
            v = v || r;
        }
        Some(v)
    }
    fn and(&mut self) -> Option<bool> {
        let mut v = self.unary()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            let r = self.unary()?;
            v = v && r;
        }
        Some(v)
    }
    fn unary(&mut self) -> Option<bool> {
        match self.next()? {
            Tok::Not => Some(!self.unary()?),
            Tok::LParen => {
                let v = self.or()?;
                self.expect(Tok::RParen)?;
                Some(v)
            }
            Tok::Word(w) => self.atom(&w),
            _ => None,
        }
    }
    fn values(&mut self) -> Option<Vec<String>> {
        match self.next()? {
            Tok::Str(s) => Some(vec![s]),
            Tok::LBrace => {
                let mut v = Vec::new();
                loop {
                    match self.next()? {
                        Tok::Str(s) => v.push(s),
                        _ => return None,
                    }
                    match self.next()? {
                        Tok::Comma => continue,
                        Tok::RBrace => break,
                        _ => return None,
                    }
                }
                Some(v)
            }
            _ => None,
        }
    }
    fn atom(&mut self, word: &str) -> Option<bool> {
        if word.eq_ignore_ascii_case("ActionMatches")
            || word.eq_ignore_ascii_case("SubOperationMatches")
        {
            let sub = word.eq_ignore_ascii_case("SubOperationMatches");
            self.expect(Tok::LBrace)?;
            let pattern = match self.next()? {
                Tok::Str(s) => s,
                _ => return None,
            };
            self.expect(Tok::RBrace)?;
            return Some(!sub && glob_match(&pattern, self.action));
        }
        let attr = word.strip_prefix('@')?;
        let open = attr.find('[')?;
        let kind = &attr[..open];
        if !(kind.eq_ignore_ascii_case("Resource") || kind.eq_ignore_ascii_case("Request")) {
            return None;
        }
        let name = attr[open + 1..].strip_suffix(']')?;
        if !name.eq_ignore_ascii_case(REPO_ATTR) {
            return None;
        }
        let op = match self.next()? {
            Tok::Word(op) => op,
            _ => return None,
        };
        let values = self.values()?;
        let op = op
            .strip_prefix("ForAnyOfAnyValues:")
            .or_else(|| op.strip_prefix("ForAllOfAnyValues:"))
            .unwrap_or(&op)
            .to_string();
        let (base, ignore_case) = match op.strip_suffix("IgnoreCase") {
            Some(b) => (b.to_string(), true),
            None => (op.clone(), false),
        };
        let norm = |s: &str| {
            if ignore_case {
                s.to_lowercase()
            } else {
                s.to_string()
            }
        };
        let repo = norm(self.repo);
        let any = |f: &dyn Fn(&str) -> bool| values.iter().any(|v| f(&norm(v)));
        let result = match base.as_str() {
            "StringEquals" => any(&|v| repo == v),
            "StringNotEquals" => !any(&|v| repo == v),
            "StringStartsWith" => any(&|v| repo.starts_with(v)),
            "StringNotStartsWith" => !any(&|v| repo.starts_with(v)),
            "StringLike" => any(&|v| glob_match_case(v, &repo)),
            "StringNotLike" => !any(&|v| glob_match_case(v, &repo)),
            _ => return None,
        };
        Some(result)
    }
}

fn glob_match_case(pattern: &str, s: &str) -> bool {
    // StringLike is case-sensitive; callers lower-case both sides for the IgnoreCase variant.
    fn rec(p: &[char], s: &[char]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some('*'), _) => rec(&p[1..], s) || (!s.is_empty() && rec(p, &s[1..])),
            (Some('?'), Some(_)) => rec(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => rec(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = s.chars().collect();
    rec(&p, &s)
}

/// Evaluate `condition` for a data action on a repository. `None`: unparseable.
pub(crate) fn evaluate(condition: &str, action: &str, repo: &str) -> Option<bool> {
    let toks = tokenize(condition)?;
    let mut p = Parser {
        toks,
        pos: 0,
        action,
        repo,
    };
    let v = p.or()?;
    (p.pos == p.toks.len()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::evaluate;
    const READ: &str = "Microsoft.ContainerRegistry/registries/repositories/content/read";
    const WRITE: &str = "Microsoft.ContainerRegistry/registries/repositories/content/write";

    #[test]
    fn documented_form() {
        let c = "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'})) OR (@Resource[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'App'))";
        assert_eq!(evaluate(c, READ, "app"), Some(true));
        assert_eq!(evaluate(c, READ, "other"), Some(false));
        // not constrained action -> condition true
        assert_eq!(evaluate(c, WRITE, "other"), Some(true));
    }

    #[test]
    fn operators() {
        let a = "@Resource[Microsoft.ContainerRegistry/registries/repositories:name]";
        assert_eq!(
            evaluate(&format!("{a} StringStartsWith 'team-a/'"), READ, "team-a/x"),
            Some(true)
        );
        assert_eq!(
            evaluate(&format!("{a} StringStartsWith 'team-a/'"), READ, "Team-A/x"),
            Some(false)
        );
        assert_eq!(
            evaluate(
                &format!("{a} StringStartsWithIgnoreCase 'team-a/'"),
                READ,
                "Team-A/x"
            ),
            Some(true)
        );
        assert_eq!(
            evaluate(&format!("{a} StringLike 'team-*/app'"), READ, "team-b/app"),
            Some(true)
        );
        assert_eq!(
            evaluate(&format!("{a} StringNotEquals 'x'"), READ, "x"),
            Some(false)
        );
        assert_eq!(
            evaluate(
                &format!("{a} ForAnyOfAnyValues:StringEquals {{'a', 'b'}}"),
                READ,
                "b"
            ),
            Some(true)
        );
        assert_eq!(
            evaluate(
                &format!("{a} StringEquals 'a' OR {a} StringEquals 'b'"),
                READ,
                "b"
            ),
            Some(true)
        );
        assert_eq!(
            evaluate(
                &format!("{a} StringEquals 'a' && {a} StringEquals 'b'"),
                READ,
                "b"
            ),
            Some(false)
        );
    }

    #[test]
    fn garbage_does_not_parse() {
        assert_eq!(evaluate("((", READ, "a"), None);
        assert_eq!(
            evaluate(
                "@Resource[Microsoft.Storage/x:y] StringEquals 'a'",
                READ,
                "a"
            ),
            None
        );
        assert_eq!(evaluate("ActionMatches{'x'} junk", READ, "a"), None);
    }
}
