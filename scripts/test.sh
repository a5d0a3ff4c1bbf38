#!/usr/bin/env bash
# The one test command: installs what the tests need (Debian's docker.io and docker-registry),
# starts a private Docker engine for them, runs the whole workspace's tests, stops the engine.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || need_pkgs+=(docker-registry)
command -v podman >/dev/null 2>&1 || need_pkgs+=(podman)
if ((${#need_pkgs[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need_pkgs[*]} (Debian packages) ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  else
    echo "warning: ${need_pkgs[*]} missing and cannot be installed here; tests needing them will skip (outside CI) or fail (in CI)" >&2
  fi
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
