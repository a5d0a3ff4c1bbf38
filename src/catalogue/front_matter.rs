//! The front matter of a catalogue file: a leading block of `key: value` lines between two `---`
//! lines, before the Markdown. Only `causes/en/CODE.md` carries one (`family`, `severity`,
//! `order`; see `causes/README.md`). `build.rs` reads it with this same code to generate
//! `catalogue::Code` and `catalogue::CAUSES`; at run time it is only cut off, so that what is
//! shown is the Markdown alone.

/// The fence that opens and closes the front matter, alone on its line.
const FENCE: &str = "---\n";

/// Splits a file into its front matter (the lines between the fences, without them) and the
/// Markdown after it. `None` when the file does not open with a complete front matter block.
pub fn split(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix(FENCE)?;
    if let Some(body) = rest.strip_prefix(FENCE) {
        return Some(("", body));
    }
    let end = rest.find("\n---\n")?;
    Some((&rest[..end], &rest[end + 1 + FENCE.len()..]))
}

/// The Markdown of a file, without its front matter when it has one.
pub fn body(text: &str) -> &str {
    split(text).map_or(text, |(_, body)| body)
}

/// The `key: value` pairs of a front matter block, in order, or the first malformed line.
pub fn fields(front: &str) -> Result<Vec<(&str, &str)>, String> {
    front
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            line.split_once(':')
                .map(|(k, v)| (k.trim(), v.trim()))
                .filter(|(k, v)| !k.is_empty() && !v.is_empty())
                .ok_or_else(|| format!("front matter line {line:?} is not `key: value`"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_cuts_off_the_front_matter() {
        let text = "---\nfamily: network\norder: 3\n---\n# Title\n";
        let (front, body) = split(text).expect("has front matter");
        assert_eq!(front, "family: network\norder: 3");
        assert_eq!(body, "# Title\n");
        assert_eq!(
            fields(front),
            Ok(vec![("family", "network"), ("order", "3")])
        );
        assert_eq!(super::body("# Title\n"), "# Title\n");
        assert_eq!(split("---\n---\n# T\n"), Some(("", "# T\n")));
        assert_eq!(split("---\nfamily: x\n# never closed\n"), None);
        assert!(fields("family network").is_err());
    }
}
