#!/usr/bin/env bash
# The one test command: installs what the tests need (Debian's docker.io, docker-registry and
# podman), starts a private Docker engine for them, runs the whole workspace's tests, stops the
# engine. Arguments go to `cargo test` (for example `scripts/test.sh --test it identity::`).
#
# The packages are downloaded and installed while the tests compile (both take minutes on a
# fresh machine; one waits on the network and the disk, the other on the processor).
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || need_pkgs+=(docker-registry)
command -v podman >/dev/null 2>&1 || need_pkgs+=(podman)

install_pid=
install_log=
if ((${#need_pkgs[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need_pkgs[*]} (Debian packages) while the tests build ..."
    install_log="$(mktemp)"
    (
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
    ) >"$install_log" 2>&1 &
    install_pid=$!
  else
    echo "warning: ${need_pkgs[*]} missing and cannot be installed here; tests needing them will skip (outside CI) or fail (in CI)" >&2
  fi
fi

if [ -n "$install_pid" ]; then
  build_started=$SECONDS
  build_status=0
  cargo test --workspace --locked --no-run "$@" || build_status=$?
  install_status=0
  wait "$install_pid" || install_status=$?
  if [ "$install_status" != 0 ]; then
    echo "warning: installing ${need_pkgs[*]} failed (status $install_status):" >&2
    tail -n 20 "$install_log" >&2
  fi
  rm -f "$install_log"
  echo "test: build and package install took $((SECONDS - build_started))s"
  [ "$build_status" = 0 ] || exit "$build_status"
fi

started_docker=0
if [ -z "${ACR_DOCTOR_TEST_DOCKER_HOST:-}" ] && command -v dockerd >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  if out=$(scripts/test-dockerd.sh start); then
    eval "$out"
    started_docker=1
  else
    echo "warning: could not start a Docker engine for the tests" >&2
  fi
fi
cleanup() { if [ "$started_docker" = 1 ]; then scripts/test-dockerd.sh stop >/dev/null 2>&1 || true; fi; }
trap cleanup EXIT

cargo test --workspace --locked "$@"
