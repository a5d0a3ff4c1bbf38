//! The ABAC condition parser (role assignment conditions read from ARM) never panics, and a
//! condition it accepts can be evaluated and reparsed.

use acr_doctor::protocol::abac_condition::parse;

const ACTION: &str = "Microsoft.ContainerRegistry/registries/repositories/content/read";

/// One input of the fuzz target.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(cond) = parse(&text) {
        let _ = cond.evaluate(ACTION, "app/web");
        let _ = cond.evaluate("", "");
        let _ = cond.repositories();
        let again = parse(cond.text());
        assert!(
            again.is_ok(),
            "accepted condition does not reparse: {:?}",
            cond.text()
        );
    }
}
