//! The Docker config file, its `auth` values and a credential helper's answer: whatever the
//! bytes, parsing and looking up a registry never panic.

use acr_doctor::protocol::docker_config::{
    decode_auth, normalize_host, parse_helper_output, DockerConfig, Via,
};
use acr_doctor::protocol::docker_context::address;

/// One input of the fuzz target.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(config) = DockerConfig::parse(&text, "config.json") {
        for server in [
            "contosoreg.azurecr.io",
            "https://contosoreg.azurecr.io:443/v2/",
            "",
        ] {
            let _ = config.store_for(server, false);
            let _ = config.store_for(server, true);
        }
        for (host, entry) in &config.auths {
            let _ = entry.credential(host, Via::Auths { from_env: false });
            let _ = normalize_host(host);
        }
    }
    let _ = decode_auth(&text);
    let _ = normalize_host(&text);
    let _ = address(&text);
    for code in [Some(0), Some(1), None] {
        let _ = parse_helper_output(
            "docker-credential-fake",
            "contosoreg.azurecr.io",
            Via::CredHelper("fake".into()),
            code,
            &text,
            "",
        );
    }
}
