//! Role-assignment conditions (Azure ABAC, condition version 2.0) in the forms ACR documents for
//! repository permissions, for example:
//!
//! ```text
//! ((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'})
//!   AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'}))
//!  OR (@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'app'))
//! ```
//!
//! Grammar (keywords and operators case-insensitive):
//! `or := and (("OR" | "||") and)*`, `and := unary (("AND" | "&&") unary)*`,
//! `unary := ("!" | "NOT") unary | "(" or ")" | ActionMatches{'glob'} | SubOperationMatches{'glob'} | comparison`,
//! `comparison := @Resource[attr] | @Request[attr]  [ForAnyOfAnyValues: | ForAllOfAnyValues: | ForAnyOfAllValues: | ForAllOfAllValues:]
//!  (StringEquals | StringNotEquals | StringStartsWith | StringNotStartsWith | StringLike | StringNotLike)[IgnoreCase]
//!  ('value' | {'value', ...})`.
//!
//! The parser is total: any input gives a [`Condition`] or a [`ConditionError`], never a panic.
//! A condition naming an attribute other than the repository name parses, but cannot be
//! evaluated here ([`ConditionError::UnsupportedAttribute`]); callers treat it as granting nothing.

use std::fmt;

/// The one attribute ACR conditions use: the repository's name.
pub const REPOSITORY_NAME_ATTRIBUTE: &str =
    "Microsoft.ContainerRegistry/registries/repositories:name";

/// Deeper nesting than this is refused (keeps recursion bounded on hostile input).
const MAX_DEPTH: usize = 64;

/// Why a condition could not be read or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    #[error("the condition is empty")]
    Empty,
    #[error("a quoted string starting at character {0} is not closed")]
    UnterminatedString(usize),
    #[error("unexpected character {0:?} at character {1}")]
    UnexpectedChar(char, usize),
    #[error("expected {expected}, found {found}")]
    Expected { expected: String, found: String },
    #[error("unknown operator {0}")]
    UnknownOperator(String),
    #[error("attribute {0} is not one acr-doctor can evaluate (only the repository name)")]
    UnsupportedAttribute(String),
    #[error("the condition is nested more than {MAX_DEPTH} levels deep")]
    TooDeep,
}

/// Where an attribute comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeSource {
    Resource,
    Request,
}

/// A string comparison operator, without its `IgnoreCase` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringOperator {
    Equals,
    NotEquals,
    StartsWith,
    NotStartsWith,
    Like,
    NotLike,
}

impl StringOperator {
    fn from_name(name: &str) -> Option<StringOperator> {
        Some(match name.to_ascii_lowercase().as_str() {
            "stringequals" => StringOperator::Equals,
            "stringnotequals" => StringOperator::NotEquals,
            "stringstartswith" => StringOperator::StartsWith,
            "stringnotstartswith" => StringOperator::NotStartsWith,
            "stringlike" => StringOperator::Like,
            "stringnotlike" => StringOperator::NotLike,
            _ => return None,
        })
    }
}

/// How several right-hand values combine: `ForAnyOfAnyValues:` (any) or `...AllValues:` (all).
/// The attribute (a repository name) has one value, so only the right-hand side matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
}

/// `@Resource[attr] Operator 'value'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub source: AttributeSource,
    pub attribute: String,
    pub operator: StringOperator,
    pub ignore_case: bool,
    pub quantifier: Quantifier,
    pub values: Vec<String>,
}

/// A parsed condition expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    ActionMatches(String),
    SubOperationMatches(String),
    Compare(Comparison),
}

/// A role-assignment condition, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub expr: Expr,
    text: String,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses a condition.
pub fn parse(text: &str) -> Result<Condition, ConditionError> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err(ConditionError::Empty);
    }
    let mut parser = Parser { tokens, pos: 0 };
    let expr = parser.or(0)?;
    if let Some(t) = parser.peek() {
        return Err(ConditionError::Expected {
            expected: "the end of the condition".into(),
            found: t.describe(),
        });
    }
    Ok(Condition {
        expr,
        text: text.trim().to_string(),
    })
}

impl Condition {
    /// The condition as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the condition holds for a data action on a repository.
    pub fn evaluate(&self, action: &str, repository: &str) -> Result<bool, ConditionError> {
        eval(&self.expr, action, repository)
    }

    /// The repository names or patterns the condition compares against, as written.
    pub fn repositories(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_values(&self.expr, &mut out);
        out.dedup();
        out
    }
}

/// The condition ACR documents for limiting a role's data actions to one repository: each of
/// `data_actions` is allowed only when the repository name equals `repository`.
pub fn repository_condition(repository: &str, data_actions: &[&str]) -> String {
    let not_actions: Vec<String> = data_actions
        .iter()
        .map(|a| format!("!(ActionMatches{{'{a}'}})"))
        .collect();
    format!(
        "(({}) OR (@Request[{REPOSITORY_NAME_ATTRIBUTE}] StringEqualsIgnoreCase '{}'))",
        not_actions.join(" AND "),
        repository.replace('\'', "")
    )
}

fn collect_values(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::Or(v) | Expr::And(v) => v.iter().for_each(|e| collect_values(e, out)),
        Expr::Not(e) => collect_values(e, out),
        Expr::Compare(c) => {
            for v in &c.values {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
        }
        Expr::ActionMatches(_) | Expr::SubOperationMatches(_) => {}
    }
}

fn eval(expr: &Expr, action: &str, repository: &str) -> Result<bool, ConditionError> {
    Ok(match expr {
        Expr::Or(items) => {
            let mut any = false;
            for e in items {
                any |= eval(e, action, repository)?;
            }
            any
        }
        Expr::And(items) => {
            let mut all = true;
            for e in items {
                all &= eval(e, action, repository)?;
            }
            all
        }
        Expr::Not(e) => !eval(e, action, repository)?,
        Expr::ActionMatches(pattern) => glob(pattern, action, true),
        // ACR defines no sub-operations.
        Expr::SubOperationMatches(_) => false,
        Expr::Compare(c) => {
            if !c.attribute.eq_ignore_ascii_case(REPOSITORY_NAME_ATTRIBUTE) {
                return Err(ConditionError::UnsupportedAttribute(c.attribute.clone()));
            }
            let fold = |s: &str| {
                if c.ignore_case {
                    s.to_lowercase()
                } else {
                    s.to_string()
                }
            };
            let repo = fold(repository);
            let one = |value: &String| {
                let v = fold(value);
                match c.operator {
                    StringOperator::Equals => repo == v,
                    StringOperator::NotEquals => repo != v,
                    StringOperator::StartsWith => repo.starts_with(&v),
                    StringOperator::NotStartsWith => !repo.starts_with(&v),
                    StringOperator::Like => glob(&v, &repo, false),
                    StringOperator::NotLike => !glob(&v, &repo, false),
                }
            };
            match c.quantifier {
                Quantifier::Any => c.values.iter().any(one),
                Quantifier::All => c.values.iter().all(one),
            }
        }
    })
}

/// `*` matches any run of characters, `?` one character (`?` only for StringLike).
fn glob(pattern: &str, text: &str, action_glob: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtrack point: linear-ish, no recursion.
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    let eq = |a: char, b: char| {
        if action_glob {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    while si < s.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && ((!action_glob && p[pi] == '?') || eq(p[pi], s[si])) {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    Not,
    And,
    Or,
    Str(String),
    Word(String),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::LBrace => "'{'".into(),
            Tok::RBrace => "'}'".into(),
            Tok::Comma => "','".into(),
            Tok::Not => "'!'".into(),
            Tok::And => "AND".into(),
            Tok::Or => "OR".into(),
            Tok::Str(s) => format!("the string '{s}'"),
            Tok::Word(w) => format!("'{w}'"),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Tok>, ConditionError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let single = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '{' => Some(Tok::LBrace),
            '}' => Some(Tok::RBrace),
            ',' => Some(Tok::Comma),
            '!' => Some(Tok::Not),
            _ => None,
        };
        if let Some(t) = single {
            out.push(t);
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '&' || c == '|' {
            if chars.get(i + 1) != Some(&c) {
                return Err(ConditionError::UnexpectedChar(c, i));
            }
            out.push(if c == '&' { Tok::And } else { Tok::Or });
            i += 2;
            continue;
        }
        if c == '\'' {
            let start = i;
            i += 1;
            let mut value = String::new();
            loop {
                match chars.get(i) {
                    None => return Err(ConditionError::UnterminatedString(start)),
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        value.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(value));
            continue;
        }
        if c.is_alphanumeric() || c == '@' || c == '_' {
            let mut word = String::new();
            let mut in_brackets = false;
            while let Some(&ch) = chars.get(i) {
                if in_brackets {
                    word.push(ch);
                    if ch == ']' {
                        in_brackets = false;
                    }
                } else if ch == '[' {
                    in_brackets = true;
                    word.push(ch);
                } else if ch.is_alphanumeric() || matches!(ch, '@' | '_' | ':' | '.' | '/' | '-') {
                    word.push(ch);
                } else {
                    break;
                }
                i += 1;
            }
            if in_brackets {
                return Err(ConditionError::Expected {
                    expected: "']'".into(),
                    found: "the end of the condition".into(),
                });
            }
            out.push(match word.to_ascii_lowercase().as_str() {
                "and" => Tok::And,
                "or" => Tok::Or,
                "not" => Tok::Not,
                _ => Tok::Word(word),
            });
            continue;
        }
        return Err(ConditionError::UnexpectedChar(c, i));
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Result<Tok, ConditionError> {
        let t = self
            .tokens
            .get(self.pos)
            .cloned()
            .ok_or_else(|| ConditionError::Expected {
                expected: "more of the condition".into(),
                found: "its end".into(),
            })?;
        self.pos += 1;
        Ok(t)
    }

    fn expect(&mut self, want: Tok) -> Result<(), ConditionError> {
        let got = self.next()?;
        if got == want {
            Ok(())
        } else {
            Err(ConditionError::Expected {
                expected: want.describe(),
                found: got.describe(),
            })
        }
    }

    fn or(&mut self, depth: usize) -> Result<Expr, ConditionError> {
        if depth > MAX_DEPTH {
            return Err(ConditionError::TooDeep);
        }
        let mut items = vec![self.and(depth)?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            items.push(self.and(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, ConditionError> {
        let mut items = vec![self.unary(depth)?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            items.push(self.unary(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, ConditionError> {
        if depth > MAX_DEPTH {
            return Err(ConditionError::TooDeep);
        }
        match self.next()? {
            Tok::Not => Ok(Expr::Not(Box::new(self.unary(depth + 1)?))),
            Tok::LParen => {
                let e = self.or(depth + 1)?;
                self.expect(Tok::RParen)?;
                Ok(e)
            }
            Tok::Word(w) => self.atom(&w),
            other => Err(ConditionError::Expected {
                expected: "an expression".into(),
                found: other.describe(),
            }),
        }
    }

    fn string(&mut self) -> Result<String, ConditionError> {
        match self.next()? {
            Tok::Str(s) => Ok(s),
            other => Err(ConditionError::Expected {
                expected: "a quoted string".into(),
                found: other.describe(),
            }),
        }
    }

    fn values(&mut self) -> Result<Vec<String>, ConditionError> {
        if self.peek() == Some(&Tok::LBrace) {
            self.pos += 1;
            let mut values = vec![self.string()?];
            loop {
                match self.next()? {
                    Tok::Comma => values.push(self.string()?),
                    Tok::RBrace => break,
                    other => {
                        return Err(ConditionError::Expected {
                            expected: "',' or '}'".into(),
                            found: other.describe(),
                        })
                    }
                }
            }
            Ok(values)
        } else {
            Ok(vec![self.string()?])
        }
    }

    fn atom(&mut self, word: &str) -> Result<Expr, ConditionError> {
        let lower = word.to_ascii_lowercase();
        if lower == "actionmatches" || lower == "suboperationmatches" {
            self.expect(Tok::LBrace)?;
            let pattern = self.string()?;
            self.expect(Tok::RBrace)?;
            return Ok(if lower == "actionmatches" {
                Expr::ActionMatches(pattern)
            } else {
                Expr::SubOperationMatches(pattern)
            });
        }
        let Some(rest) = word.strip_prefix('@') else {
            return Err(ConditionError::Expected {
                expected: "ActionMatches{...} or an @Resource[...] attribute".into(),
                found: format!("'{word}'"),
            });
        };
        let (kind, attr) = rest
            .split_once('[')
            .and_then(|(k, a)| Some((k, a.strip_suffix(']')?)))
            .ok_or_else(|| ConditionError::Expected {
                expected: "@Resource[attribute]".into(),
                found: format!("'{word}'"),
            })?;
        let source = match kind.to_ascii_lowercase().as_str() {
            "resource" => AttributeSource::Resource,
            "request" => AttributeSource::Request,
            _ => {
                return Err(ConditionError::Expected {
                    expected: "@Resource or @Request".into(),
                    found: format!("'@{kind}'"),
                })
            }
        };
        let op_word = match self.next()? {
            Tok::Word(w) => w,
            other => {
                return Err(ConditionError::Expected {
                    expected: "a string operator".into(),
                    found: other.describe(),
                })
            }
        };
        let (quantifier, op_name) = match op_word.split_once(':') {
            Some((q, op)) => {
                let q = match q.to_ascii_lowercase().as_str() {
                    "foranyofanyvalues" | "forallofanyvalues" => Quantifier::Any,
                    "foranyofallvalues" | "forallofallvalues" => Quantifier::All,
                    _ => return Err(ConditionError::UnknownOperator(op_word.clone())),
                };
                (q, op)
            }
            None => (Quantifier::Any, op_word.as_str()),
        };
        let (base, ignore_case) = match op_name
            .len()
            .checked_sub("ignorecase".len())
            .filter(|&i| op_name.is_char_boundary(i))
            .map(|i| op_name.split_at(i))
        {
            Some((b, suffix)) if suffix.eq_ignore_ascii_case("ignorecase") => (b, true),
            _ => (op_name, false),
        };
        let operator = StringOperator::from_name(base)
            .ok_or_else(|| ConditionError::UnknownOperator(op_word.clone()))?;
        let values = self.values()?;
        Ok(Expr::Compare(Comparison {
            source,
            attribute: attr.to_string(),
            operator,
            ignore_case,
            quantifier,
            values,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ: &str = "Microsoft.ContainerRegistry/registries/repositories/content/read";
    const META_READ: &str = "Microsoft.ContainerRegistry/registries/repositories/metadata/read";
    const WRITE: &str = "Microsoft.ContainerRegistry/registries/repositories/content/write";
    const ATTR: &str = "@Resource[Microsoft.ContainerRegistry/registries/repositories:name]";

    fn eval(c: &str, action: &str, repo: &str) -> Result<bool, ConditionError> {
        parse(c)?.evaluate(action, repo)
    }

    #[test]
    fn documented_form_limits_read_to_one_repository() {
        let c = format!(
            "((!(ActionMatches{{'{READ}'}}) AND !(ActionMatches{{'{META_READ}'}})) OR ({ATTR} StringEqualsIgnoreCase 'App'))"
        );
        assert_eq!(eval(&c, READ, "app"), Ok(true));
        assert_eq!(eval(&c, META_READ, "APP"), Ok(true));
        assert_eq!(eval(&c, READ, "other"), Ok(false));
        // An action the condition does not constrain is allowed everywhere.
        assert_eq!(eval(&c, WRITE, "other"), Ok(true));
        assert_eq!(parse(&c).map(|p| p.repositories()), Ok(vec!["App".into()]));
    }

    #[test]
    fn string_operators() {
        let cases: &[(&str, &str, bool)] = &[
            ("StringEquals 'app'", "app", true),
            ("StringEquals 'app'", "App", false),
            ("StringEqualsIgnoreCase 'app'", "App", true),
            ("StringNotEquals 'app'", "app", false),
            ("StringNotEquals 'app'", "web", true),
            ("StringStartsWith 'team-a/'", "team-a/web", true),
            ("StringStartsWith 'team-a/'", "Team-A/web", false),
            ("StringStartsWithIgnoreCase 'team-a/'", "Team-A/web", true),
            ("StringNotStartsWith 'team-a/'", "team-b/web", true),
            ("StringLike 'team-*/app'", "team-b/app", true),
            ("StringLike 'team-?/app'", "team-bb/app", false),
            ("StringLike 'team-*/app'", "team-b/web", false),
            ("StringNotLike 'team-*'", "web", true),
            ("ForAnyOfAnyValues:StringEquals {'a', 'b'}", "b", true),
            ("ForAnyOfAnyValues:StringEquals {'a', 'b'}", "c", false),
            (
                "ForAnyOfAllValues:StringStartsWith {'a', 'ab'}",
                "abc",
                true,
            ),
            (
                "ForAnyOfAllValues:StringStartsWith {'a', 'ab'}",
                "ac",
                false,
            ),
        ];
        for (op, repo, want) in cases {
            let c = format!("{ATTR} {op}");
            assert_eq!(eval(&c, READ, repo), Ok(*want), "{c} on {repo}");
        }
    }

    #[test]
    fn boolean_structure() {
        let a = |v: &str| format!("{ATTR} StringEquals '{v}'");
        assert_eq!(
            eval(&format!("{} OR {}", a("x"), a("y")), READ, "y"),
            Ok(true)
        );
        assert_eq!(
            eval(&format!("{} && {}", a("x"), a("y")), READ, "y"),
            Ok(false)
        );
        assert_eq!(eval(&format!("NOT ({})", a("x")), READ, "y"), Ok(true));
        assert_eq!(eval(&format!("!{}", a("y")), READ, "y"), Ok(false));
        // AND binds tighter than OR.
        assert_eq!(
            eval(
                &format!("{} OR {} AND {}", a("y"), a("x"), a("z")),
                READ,
                "y"
            ),
            Ok(true)
        );
        assert_eq!(
            eval(
                "ActionMatches{'Microsoft.ContainerRegistry/*/content/read'}",
                READ,
                "y"
            ),
            Ok(true)
        );
        assert_eq!(eval("SubOperationMatches{'x'}", READ, "y"), Ok(false));
    }

    #[test]
    fn garbage_is_an_error_value() {
        for bad in [
            "",
            "   ",
            "((",
            "()",
            ")",
            "ActionMatches{'x'} junk",
            "ActionMatches{'x'",
            "@Resource[abc StringEquals 'x'",
            "@Resource[x] StringSortOf 'x'",
            "@Resource[x] StringEquals",
            "@Resource[x] StringEquals 'x",
            "@Resource[x] StringEquals {'a' 'b'}",
            "@Frobnicate[x] StringEquals 'a'",
            "a & b",
            "#",
            "\u{0}",
            "IgnoreCase",
            "@Resource[x] ForSomeValues:StringEquals 'a'",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = format!("{}ActionMatches{{'x'}}{}", "(".repeat(500), ")".repeat(500));
        assert_eq!(parse(&deep), Err(ConditionError::TooDeep));
        let nots = format!("{}ActionMatches{{'x'}}", "!".repeat(500));
        assert_eq!(parse(&nots), Err(ConditionError::TooDeep));
    }

    #[test]
    fn other_attributes_parse_but_do_not_evaluate() {
        let c = parse("@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'a'")
            .expect("parses");
        assert!(matches!(
            c.evaluate(READ, "a"),
            Err(ConditionError::UnsupportedAttribute(_))
        ));
    }

    #[test]
    fn built_condition_covers_exactly_its_repository() {
        let text = repository_condition("team/app", &[READ, META_READ]);
        let c = parse(&text).expect("our own condition parses");
        assert_eq!(c.evaluate(READ, "team/app"), Ok(true));
        assert_eq!(c.evaluate(READ, "team/web"), Ok(false));
        assert_eq!(c.evaluate(WRITE, "team/web"), Ok(true));
        assert!(text.contains("StringEqualsIgnoreCase 'team/app'"));
    }

    #[test]
    fn globs_do_not_blow_up() {
        let p = "*a*a*a*a*a*a*a*a*b";
        let s = "a".repeat(200);
        assert!(!glob(p, &s, false));
        assert!(glob("*", "", false));
        assert!(glob("a*", "a", true));
        assert!(!glob("a?", "a", false));
    }
}
