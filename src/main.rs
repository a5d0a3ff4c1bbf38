//! Thin: parse, run, exit.

fn main() {
    acr_doctor::redact::install_panic_hook();
    let env = acr_doctor::context::Context::process_env();
    let code = acr_doctor::commands::main_with(std::env::args_os().collect(), env);
    std::process::exit(code);
}
