//! What the Azure CLI's configuration says (read only): its active cloud.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::model::Cloud;

/// The Azure CLI's configuration directory: AZURE_CONFIG_DIR, else ~/.azure.
pub fn config_dir(env: &BTreeMap<String, String>) -> Option<PathBuf> {
    if let Some(dir) = env.get("AZURE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    env.get("HOME")
        .or_else(|| env.get("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".azure"))
}

/// The active cloud from `<config dir>/config` (`[cloud] name = ...`), when readable.
pub fn active_cloud(env: &BTreeMap<String, String>) -> Option<Cloud> {
    let path = config_dir(env)?.join("config");
    let meta = std::fs::metadata(&path).ok()?;
    if meta.len() > 1024 * 1024 {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    parse_active_cloud(&text)
}

fn parse_active_cloud(ini: &str) -> Option<Cloud> {
    let mut in_cloud = false;
    for line in ini.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_cloud = line.eq_ignore_ascii_case("[cloud]");
            continue;
        }
        if in_cloud {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim().eq_ignore_ascii_case("name") {
                    return Cloud::from_name(v.trim());
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cloud_section() {
        assert_eq!(
            parse_active_cloud("[core]\nx = 1\n[cloud]\nname = AzureChinaCloud\n"),
            Some(Cloud::AzureChinaCloud)
        );
        assert_eq!(parse_active_cloud("[core]\nname = AzureChinaCloud\n"), None);
    }
}
