//! Image platforms (`linux/arm64/v8`): the `--platform` value, and the platforms a manifest list
//! (image index) offers.

use serde_json::Value;

/// An OS, a CPU architecture and an optional variant, normalised as OCI writes them
/// (`x86_64` is `amd64`, `aarch64` is `arm64`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

fn normal_arch(a: &str) -> String {
    match a.to_ascii_lowercase().as_str() {
        "x86_64" | "x86-64" => "amd64".into(),
        "aarch64" => "arm64".into(),
        "i386" | "i686" => "386".into(),
        other => other.into(),
    }
}

impl Platform {
    /// Parses `OS/ARCH[/VARIANT]`.
    pub fn parse(value: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = value.trim().split('/').collect();
        let ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        };
        match parts.as_slice() {
            [os, arch] | [os, arch, _] if ok(os) && ok(arch) => {
                let variant = parts.get(2).map(|v| v.to_ascii_lowercase());
                if variant.as_deref().is_some_and(|v| !ok(v)) {
                    return Err("the variant holds characters a platform never has".into());
                }
                Ok(Platform {
                    os: os.to_ascii_lowercase(),
                    architecture: normal_arch(arch),
                    variant,
                })
            }
            _ => Err(
                "write OS/ARCH or OS/ARCH/VARIANT, for example linux/amd64 or linux/arm64/v8"
                    .into(),
            ),
        }
    }

    /// The `platform` object of an index entry, or the `os` / `architecture` / `variant` of an
    /// image's configuration.
    pub fn from_json(v: &Value) -> Option<Platform> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Some(Platform {
            os: s("os")?.to_ascii_lowercase(),
            architecture: normal_arch(&s("architecture")?),
            variant: s("variant").map(|x| x.to_ascii_lowercase()),
        })
    }

    /// Whether an image built for `self` serves a client that wants `wanted`. A wanted variant
    /// must match (arm64 without a variant is v8); without one, any variant does.
    pub fn serves(&self, wanted: &Platform) -> bool {
        let variant = |p: &Platform| match (p.architecture.as_str(), p.variant.as_deref()) {
            ("arm64", None) => Some("v8".to_string()),
            (_, v) => v.map(str::to_string),
        };
        self.os == wanted.os
            && self.architecture == wanted.architecture
            && (wanted.variant.is_none() || variant(self) == variant(wanted))
    }

    /// Attestations and signatures in an index carry `unknown/unknown`.
    pub fn is_unknown(&self) -> bool {
        self.os == "unknown" || self.architecture == "unknown"
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// The platforms a manifest list / image index offers (entries without a usable platform and
/// `unknown/unknown` attestations left out); `None` when `manifest` is not an index.
pub fn index_platforms(manifest: &Value) -> Option<Vec<Platform>> {
    let entries = manifest.get("manifests")?.as_array()?;
    Some(
        entries
            .iter()
            .filter_map(|e| e.get("platform").and_then(Platform::from_json))
            .filter(|p| !p.is_unknown())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_normalises() {
        let p = Platform::parse("Linux/x86_64").unwrap();
        assert_eq!(p.to_string(), "linux/amd64");
        assert_eq!(
            Platform::parse("linux/arm64/v8").unwrap().to_string(),
            "linux/arm64/v8"
        );
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", "linux/am d64", ""] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_follows_os_architecture_and_a_wanted_variant() {
        let index = json!({"manifests": [
            {"digest": "sha256:a", "platform": {"os": "linux", "architecture": "amd64"}},
            {"digest": "sha256:b", "platform": {"os": "linux", "architecture": "arm64"}},
            {"digest": "sha256:c", "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
            {"digest": "sha256:d", "platform": {"os": "unknown", "architecture": "unknown"}},
        ]});
        let offered = index_platforms(&index).unwrap();
        assert_eq!(offered.len(), 3);
        let serves = |w: &str| {
            let w = Platform::parse(w).unwrap();
            offered.iter().any(|p| p.serves(&w))
        };
        assert!(serves("linux/amd64"));
        assert!(serves("linux/arm64/v8"));
        assert!(serves("linux/arm"));
        assert!(!serves("linux/arm/v6"));
        assert!(!serves("windows/amd64"));
        assert!(!serves("linux/s390x"));
        assert_eq!(index_platforms(&json!({"config": {}})), None);
    }
}
