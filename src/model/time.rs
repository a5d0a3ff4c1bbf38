//! Durations as the user writes them and as messages print them.

/// Default warning windows: tokens, then secrets and token passwords.
pub const DEFAULT_WINDOWS: (i64, i64) = (15 * 60, 14 * 86400);

/// Parses `--warn-within`: `TOKENS[,SECRETS]`, each a number with `s`, `m`, `h` or `d`.
pub fn parse_warn_within(spec: &str) -> Result<(i64, i64), String> {
    let one = |s: &str| -> Result<i64, String> {
        let s = s.trim();
        let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
        let n: i64 = num
            .parse()
            .map_err(|_| format!("'{s}': expected a number followed by s, m, h or d"))?;
        let mult = match unit {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86400,
            _ => return Err(format!("'{s}': unit must be s, m, h or d")),
        };
        n.checked_mul(mult)
            .ok_or_else(|| format!("'{s}' is too large"))
    };
    let mut parts = spec.split(',');
    let tokens = one(parts.next().unwrap_or(""))?;
    let secrets = match parts.next() {
        Some(p) => one(p)?,
        None => DEFAULT_WINDOWS.1,
    };
    if parts.next().is_some() {
        return Err("at most two durations: TOKENS,SECRETS".into());
    }
    Ok((tokens, secrets))
}

/// `2d 3h`, `4h 5m`, `6m 7s`, `8s`: the two largest units of `seconds`, sign dropped.
pub fn span(seconds: i64) -> String {
    let s = seconds.abs();
    if s >= 86400 {
        format!("{}d {}h", s / 86400, (s % 86400) / 3600)
    } else if s >= 3600 {
        format!("{}h {}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_keeps_the_two_largest_units() {
        assert_eq!(span(2 * 86400 + 3 * 3600 + 59), "2d 3h");
        assert_eq!(span(-(4 * 3600 + 5 * 60)), "4h 5m");
        assert_eq!(span(6 * 60 + 7), "6m 7s");
        assert_eq!(span(8), "8s");
    }
}
