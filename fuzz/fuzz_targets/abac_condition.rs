//! The ABAC condition parser (role assignment conditions read from ARM) never panics, and a
//! condition it accepts can be evaluated and reparsed.
#![no_main]

use acr_doctor::protocol::abac_condition::parse;
use libfuzzer_sys::fuzz_target;

const ACTION: &str = "Microsoft.ContainerRegistry/registries/repositories/content/read";

fuzz_target!(|data: &[u8]| {
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
});
