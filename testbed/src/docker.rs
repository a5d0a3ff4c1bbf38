//! Helpers for tests that need a real Docker daemon (started by scripts/test-dockerd.sh).

/// The daemon for tests: `ACR_DOCTOR_TEST_DOCKER_HOST` (e.g. `unix:///.../docker.sock`).
pub fn docker_host() -> Option<String> {
    std::env::var("ACR_DOCTOR_TEST_DOCKER_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
}

/// The test daemon, or `None` with a printed skip reason. Panics when `CI` is set and no daemon
/// was provided: CI must run the docker tests.
pub fn require_docker() -> Option<String> {
    match docker_host() {
        Some(h) => Some(h),
        None if std::env::var_os("CI").is_some() => panic!(
            "CI is set but ACR_DOCTOR_TEST_DOCKER_HOST is not: start a daemon with `eval \"$(scripts/test-dockerd.sh)\"` before the tests"
        ),
        None => {
            eprintln!("skipped: no test Docker daemon (run `eval \"$(scripts/test-dockerd.sh)\"` to enable the docker tests)");
            None
        }
    }
}
