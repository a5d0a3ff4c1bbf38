//! One timeline of every credential in play.

use super::{Check, Group, Pending};

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![Box::new(Pending {
        id: "expiry.timeline",
        group: Group::Expiry,
        title: ("credential expiry", "資格情報の有効期限"),
        needs: &[],
        provides: &[],
    })]
}
