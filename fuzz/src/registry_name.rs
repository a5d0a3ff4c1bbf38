//! Registry names and login servers typed by users or read from files.

use acr_doctor::protocol::registry_name::{
    is_loopback_host, parse, parse_login_server, rule_problems,
};

/// One input of the fuzz target.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let name = parse(&text);
    let _ = (name.name(), name.login_server(), name.is_clean());
    let _ = rule_problems(&text);
    let _ = parse_login_server(&text);
    let _ = is_loopback_host(&text);
}
