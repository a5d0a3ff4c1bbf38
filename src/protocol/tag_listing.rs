//! A repository's tag list (`GET /v2/<name>/tags/list`): the tags of one page, the `Link` to the
//! next page, and the tag spelled most like one that is missing.

use serde_json::Value;

/// The tags of one page (`{"name": .., "tags": [..]}`; `tags` may be null).
pub fn page_tags(body: &Value) -> Vec<String> {
    body.get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The next page's path and query from a `Link: </v2/<repo>/tags/list?last=x&n=100>; rel="next"`
/// header. Only a path on the same server, for the same repository's tag list, is followed: a
/// link to another host or path would carry the registry token elsewhere.
pub fn next_link(link: &str, repo: &str) -> Option<String> {
    for part in link.split(',') {
        let part = part.trim();
        let (target, params) = part.strip_prefix('<')?.split_once('>')?;
        let next = params
            .split(';')
            .map(str::trim)
            .any(|p| p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next"));
        if !next {
            continue;
        }
        let prefix = format!("/v2/{repo}/tags/list?");
        let ok = target.starts_with(&prefix)
            && target[prefix.len()..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "=&._-%+:".contains(c));
        return ok.then(|| target.to_string());
    }
    None
}

/// Edit distance (insertions, deletions, substitutions) between two strings, by characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The existing tag spelled most like `wanted`, ignoring letter case first (tags are
/// case-sensitive, so `Latest` for `latest` is the usual mistake): at most two edits away and
/// fewer edits than `wanted` has characters. Ties go to the earlier tag.
pub fn nearest<'t>(wanted: &str, tags: &'t [String]) -> Option<&'t str> {
    let w = wanted.to_ascii_lowercase();
    let len = w.chars().count();
    tags.iter()
        .filter(|t| t.as_str() != wanted)
        .map(|t| (edit_distance(&w, &t.to_ascii_lowercase()), t))
        .filter(|(d, _)| *d <= 2 && *d < len)
        .min_by_key(|(d, _)| *d)
        .map(|(_, t)| t.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_and_links() {
        assert_eq!(
            page_tags(&json!({"name": "app", "tags": ["a", "b"]})),
            ["a", "b"]
        );
        assert!(page_tags(&json!({"name": "app", "tags": null})).is_empty());
        assert_eq!(
            next_link(
                "</v2/team/app/tags/list?last=v9&n=100>; rel=\"next\"",
                "team/app"
            )
            .as_deref(),
            Some("/v2/team/app/tags/list?last=v9&n=100")
        );
        // Elsewhere: another host, another repository, another path, no rel=next.
        for bad in [
            "<https://evil.example/v2/app/tags/list?last=a>; rel=\"next\"",
            "</v2/other/tags/list?last=a>; rel=\"next\"",
            "</v2/app/manifests/x?last=a>; rel=\"next\"",
            "</v2/app/tags/list?last=a>; rel=\"prev\"",
            "</v2/app/tags/list?last=a/../../x>; rel=\"next\"",
            "garbage",
        ] {
            assert_eq!(next_link(bad, "app"), None, "{bad}");
        }
    }

    #[test]
    fn nearest_spelling() {
        let tags: Vec<String> = ["latest", "1.0.0", "1.1", "v2", "Stable"]
            .map(String::from)
            .to_vec();
        assert_eq!(nearest("Latest", &tags), Some("latest"));
        assert_eq!(nearest("1.0", &tags), Some("1.1"));
        assert_eq!(nearest("stable", &tags), Some("Stable"));
        assert_eq!(nearest("v3", &tags), Some("v2"));
        assert_eq!(nearest("production", &tags), None);
        assert_eq!(nearest("x", &tags), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
