//! `WWW-Authenticate` challenges (RFC 7235 section 4.1): several challenges in one header and
//! in several headers, auth-params with token or quoted-string values (commas and `\` escapes
//! inside quotes), token68, case-insensitive scheme and parameter names.
//!
//! The parser is total and a little lenient where real servers are sloppy: an unquoted value
//! runs to the next comma or space (so `realm=https://x/y` is accepted), and optional white
//! space is allowed around `=` and `,`.

/// One challenge: a scheme with either a token68 or parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthChallenge {
    /// The scheme as written (compare with [`AuthChallenge::is`]).
    pub scheme: String,
    pub token68: Option<String>,
    /// Parameters in order; names lower-cased, values unquoted and unescaped.
    pub params: Vec<(String, String)>,
}

impl AuthChallenge {
    /// True when the scheme is `scheme`, ignoring case.
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// The first value of a parameter (name compared ignoring case).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a header value is not a valid challenge list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    #[error("the header is empty")]
    Empty,
    #[error("unexpected {found:?} at position {pos}")]
    Unexpected { pos: usize, found: char },
    #[error("a quoted string starting at position {pos} is not closed")]
    UnterminatedQuote { pos: usize },
    #[error("parameter {name:?} comes before any scheme")]
    ParamWithoutScheme { name: String },
    #[error("parameter {name:?} has no value")]
    MissingValue { name: String },
}

/// Parses one `WWW-Authenticate` header value into its challenges.
pub fn parse(header: &str) -> Result<Vec<AuthChallenge>, ChallengeError> {
    let mut out = Vec::new();
    parse_into(header, &mut out)?;
    if out.is_empty() {
        return Err(ChallengeError::Empty);
    }
    Ok(out)
}

/// Parses every `WWW-Authenticate` header of a response, in order.
pub fn parse_headers<I, S>(values: I) -> Result<Vec<AuthChallenge>, ChallengeError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = Vec::new();
    for v in values {
        parse_into(v.as_ref(), &mut out)?;
    }
    if out.is_empty() {
        return Err(ChallengeError::Empty);
    }
    Ok(out)
}

/// The first Bearer challenge, if any.
pub fn bearer(challenges: &[AuthChallenge]) -> Option<&AuthChallenge> {
    challenges.iter().find(|c| c.is("Bearer"))
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

fn is_token68_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~+/".contains(&c)
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    fn eof(&self) -> bool {
        self.i >= self.s.len()
    }

    fn skip_ows(&mut self) -> bool {
        let start = self.i;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
        self.i > start
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.i;
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
        &self.s[start..self.i]
    }

    fn unexpected(&self) -> ChallengeError {
        ChallengeError::Unexpected {
            pos: self.i,
            found: self.s[self.i..].chars().next().unwrap_or('\0'),
        }
    }

    /// OWS, then a comma or the end.
    fn element_end(&mut self) -> Result<(), ChallengeError> {
        self.skip_ows();
        match self.peek() {
            None | Some(b',') => Ok(()),
            Some(_) => Err(self.unexpected()),
        }
    }

    fn quoted(&mut self) -> Result<String, ChallengeError> {
        let start = self.i;
        self.i += 1; // opening quote
        let mut bytes = Vec::new();
        loop {
            match self.peek() {
                None => return Err(ChallengeError::UnterminatedQuote { pos: start }),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(String::from_utf8_lossy(&bytes).into_owned());
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        None => return Err(ChallengeError::UnterminatedQuote { pos: start }),
                        Some(c) => {
                            bytes.push(c);
                            self.i += 1;
                        }
                    }
                }
                Some(c) => {
                    bytes.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// A parameter value: a quoted string, or (leniently) anything up to a comma or space.
    fn value(&mut self, name: &str) -> Result<String, ChallengeError> {
        if self.peek() == Some(b'"') {
            return self.quoted();
        }
        let v = self.take_while(|c| c != b',' && c != b' ' && c != b'\t' && c != b'"');
        if v.is_empty() {
            return Err(ChallengeError::MissingValue {
                name: name.to_string(),
            });
        }
        Ok(v.to_string())
    }
}

fn parse_into(header: &str, out: &mut Vec<AuthChallenge>) -> Result<(), ChallengeError> {
    let mut c = Cursor { s: header, i: 0 };
    // Challenges from an earlier header never take parameters from this one.
    let first_of_header = out.len();
    loop {
        while matches!(c.peek(), Some(b' ' | b'\t' | b',')) {
            c.i += 1;
        }
        if c.eof() {
            return Ok(());
        }
        let token = c.take_while(is_tchar);
        if token.is_empty() {
            return Err(c.unexpected());
        }
        let after_token = c.i;
        c.skip_ows();
        if c.peek() == Some(b'=') {
            // An auth-param continuing the current challenge.
            let name = token.to_ascii_lowercase();
            if out.len() == first_of_header {
                return Err(ChallengeError::ParamWithoutScheme { name });
            }
            c.i += 1;
            c.skip_ows();
            let value = c.value(&name)?;
            if let Some(current) = out.last_mut() {
                current.params.push((name, value));
            }
            c.element_end()?;
            continue;
        }
        let mut challenge = AuthChallenge {
            scheme: token.to_string(),
            token68: None,
            params: Vec::new(),
        };
        if c.eof() || c.peek() == Some(b',') {
            out.push(challenge);
            continue;
        }
        if c.i == after_token {
            // No space between the scheme and what follows.
            return Err(c.unexpected());
        }
        // A token68, or the first auth-param.
        let save = c.i;
        let word = c.take_while(is_tchar);
        let after_word = c.i;
        c.skip_ows();
        let is_param = !word.is_empty() && c.peek() == Some(b'=') && {
            // `abc==` followed by the end or a comma is a token68, not a parameter.
            let mut probe = Cursor {
                s: c.s,
                i: after_word,
            };
            probe.take_while(|b| b == b'=');
            probe.skip_ows();
            !(probe.eof() || probe.peek() == Some(b',')) || !word.bytes().all(is_token68_char)
        };
        if is_param {
            let name = word.to_ascii_lowercase();
            c.i += 1;
            c.skip_ows();
            let value = c.value(&name)?;
            challenge.params.push((name, value));
        } else {
            c.i = save;
            let body = c.take_while(is_token68_char);
            if body.is_empty() {
                return Err(c.unexpected());
            }
            let pad = c.take_while(|b| b == b'=');
            challenge.token68 = Some(format!("{body}{pad}"));
        }
        out.push(challenge);
        c.element_end()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(params: &[(&str, &str)]) -> Vec<(String, String)> {
        params
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn acr_bearer_challenge() {
        let c =
            parse(r#"Bearer realm="https://reg.azurecr.io/oauth2/token",service="reg.azurecr.io""#)
                .unwrap();
        assert_eq!(c.len(), 1);
        assert!(c[0].is("bearer"));
        assert_eq!(
            c[0].param("realm"),
            Some("https://reg.azurecr.io/oauth2/token")
        );
        assert_eq!(c[0].param("SERVICE"), Some("reg.azurecr.io"));
        assert_eq!(c[0].token68, None);
    }

    #[test]
    fn comma_space_separated_and_scope_with_commas() {
        // The form that crashes `az acr check-health`: ", " between parameters.
        let c = parse(
            r#"Bearer realm="https://r/oauth2/token", service="r", scope="repository:app:pull,push", error="insufficient_scope""#,
        )
        .unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].param("scope"), Some("repository:app:pull,push"));
        assert_eq!(c[0].param("error"), Some("insufficient_scope"));
        assert_eq!(c[0].params.len(), 4);
    }

    #[test]
    fn several_challenges_in_one_header() {
        let c = parse(
            r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
        )
        .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, "Newauth");
        assert_eq!(
            c[0].params,
            p(&[
                ("realm", "apps"),
                ("type", "1"),
                ("title", "Login to \"apps\"")
            ])
        );
        assert!(c[1].is("basic"));
        assert_eq!(c[1].param("realm"), Some("simple"));
    }

    #[test]
    fn several_headers() {
        let c = parse_headers([
            r#"Basic realm="x""#,
            r#"Bearer realm="https://a/t",service="a""#,
        ])
        .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(bearer(&c).and_then(|b| b.param("service")), Some("a"));
        // A parameter at the start of the second header never joins the first header's challenge.
        assert_eq!(
            parse_headers(["Basic realm=x", "realm=y"]),
            Err(ChallengeError::ParamWithoutScheme {
                name: "realm".into()
            })
        );
    }

    #[test]
    fn token68_and_bare_schemes() {
        let c = parse("Negotiate, NTLM abc+/de==, Basic").unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].scheme, "Negotiate");
        assert_eq!(c[1].token68.as_deref(), Some("abc+/de=="));
        assert!(c[2].is("BASIC"));
        assert!(c[2].params.is_empty());
    }

    #[test]
    fn quoted_strings_with_commas_escapes_and_utf8() {
        let c = parse(r#"Bearer realm="a,b\\c\"d", service="日本""#).unwrap();
        assert_eq!(c[0].param("realm"), Some(r#"a,b\c"d"#));
        assert_eq!(c[0].param("service"), Some("日本"));
    }

    #[test]
    fn case_insensitive_names_and_whitespace_around_equals() {
        let c = parse("BEARER Realm = \"https://x/t\" ,\tSERVICE=x").unwrap();
        assert!(c[0].is("Bearer"));
        assert_eq!(c[0].param("realm"), Some("https://x/t"));
        assert_eq!(c[0].params[1].0, "service");
    }

    #[test]
    fn unquoted_url_value_is_accepted() {
        let c = parse("Bearer realm=https://x:8443/oauth2/token,service=x").unwrap();
        assert_eq!(c[0].param("realm"), Some("https://x:8443/oauth2/token"));
        assert_eq!(c[0].param("service"), Some("x"));
    }

    #[test]
    fn empty_realm_is_a_token68_without_parameters() {
        // What a broken server sends: no realm value at all.
        let c = parse("Bearer realm=").unwrap();
        assert_eq!(c[0].token68.as_deref(), Some("realm="));
        assert_eq!(c[0].param("realm"), None);
    }

    #[test]
    fn errors() {
        assert_eq!(parse(""), Err(ChallengeError::Empty));
        assert_eq!(parse(" , ,"), Err(ChallengeError::Empty));
        assert!(matches!(
            parse(r#"Bearer realm="open"#),
            Err(ChallengeError::UnterminatedQuote { pos: 13 })
        ));
        assert!(matches!(
            parse(r#"Bearer realm="x" service="y""#),
            Err(ChallengeError::Unexpected { found: 's', .. })
        ));
        assert_eq!(
            parse("realm=x"),
            Err(ChallengeError::ParamWithoutScheme {
                name: "realm".into()
            })
        );
        assert_eq!(
            parse("Bearer realm=x, service="),
            Err(ChallengeError::MissingValue {
                name: "service".into()
            })
        );
        assert!(matches!(
            parse("Bearer\"x\""),
            Err(ChallengeError::Unexpected { found: '"', .. })
        ));
        assert!(matches!(
            parse("@@@"),
            Err(ChallengeError::Unexpected { pos: 0, .. })
        ));
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "=",
            "==",
            ",=",
            "Bearer ==",
            "Bearer a=\"\\",
            "Basic \u{00e9}",
            "a b c",
            "a, =b",
            "Bearer realm=\"x\",",
            "x\t\t",
            "Bearer ,,, realm=x",
        ] {
            let _ = parse(s);
        }
        let c = parse("Bearer ,,, realm=x").unwrap();
        assert_eq!(c[0].param("realm"), Some("x"));
    }
}
