//! Registry name and login server: `registry.name` (`name.rs`) and `registry.login_server`
//! (`login_server.rs`).

use super::Check;

mod login_server;
mod name;

pub use login_server::LoginServerCheck;
pub use name::NameCheck;

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![Box::new(NameCheck), Box::new(LoginServerCheck)]
}
