//! ARM resource ids, role-definition action globs, scopes and role-assignment modes read from
//! ARM answers never panic the parsers.

use acr_doctor::azure::arm::ResourceId;
use acr_doctor::azure::roles::{action_glob, data_actions_of, scope_covers, Mode};

/// One input of the fuzz target.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (a, b) = text.split_once('\n').unwrap_or((&text, ""));
    let _ = ResourceId::parse(a);
    let _ = action_glob(a, b);
    let _ = scope_covers(a, b);
    let _ = data_actions_of(a);
    let _ = Mode::from_arm(a);
}
