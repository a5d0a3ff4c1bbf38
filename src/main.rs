//! Thin: parse, run, exit.

fn main() {
    let env = acr_doctor::context::Context::process_env();
    let code = acr_doctor::commands::main_with(std::env::args_os().collect(), env);
    std::process::exit(code);
}
