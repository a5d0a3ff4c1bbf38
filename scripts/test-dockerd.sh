#!/usr/bin/env bash
# Start (or stop) a private Docker daemon for acr-doctor's tests.
#
#   eval "$(scripts/test-dockerd.sh)"      # start, print the export line
#   scripts/test-dockerd.sh stop           # stop it
#
# State lives under ${ACR_DOCTOR_TEST_STATE:-$PWD/.testbed}. The daemon has no iptables and no
# bridge, so it touches no host networking; it treats 127.0.0.0/8 registries as insecure, which
# lets tests push to the test bed at 127.0.0.1:<port> without trusting its CA.
set -euo pipefail

STATE="${ACR_DOCTOR_TEST_STATE:-$PWD/.testbed}"
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"
# unix socket paths are limited to ~108 bytes: keep the socket short when the state path is long
SOCK="$STATE/docker.sock"
if [ "${#SOCK}" -gt 100 ]; then
  SOCK="/tmp/acr-doctor-dockerd-$(printf '%s' "$STATE" | sha256sum | cut -c1-12).sock"
fi
PIDFILE="$STATE/dockerd.pid"
DOCKER="${DOCKER:-docker}"
DOCKERD="${DOCKERD:-dockerd}"

# shellcheck source=lib-service.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-service.sh"
stop() { stop_pidfile "$PIDFILE"; }

if [ "${1:-start}" = "stop" ]; then
  stop
  exit 0
fi

if ! command -v "$DOCKERD" >/dev/null 2>&1 && [ -x /usr/sbin/dockerd ]; then
  DOCKERD=/usr/sbin/dockerd
fi
command -v "$DOCKERD" >/dev/null 2>&1 || { echo "dockerd not found (apt-get install docker.io)" >&2; exit 1; }
command -v "$DOCKER" >/dev/null 2>&1 || { echo "docker client not found" >&2; exit 1; }

if ! "$DOCKER" -H "unix://$SOCK" version >/dev/null 2>&1; then
  stop
  mkdir -p "$STATE/data" "$STATE/exec"
  "$DOCKERD" --iptables=false --ip6tables=false --bridge=none \
    --data-root "$STATE/data" --exec-root "$STATE/exec" \
    --host "unix://$SOCK" --pidfile "$PIDFILE" \
    >"$STATE/dockerd.log" 2>&1 &
  for _ in $(seq 1 150); do
    "$DOCKER" -H "unix://$SOCK" version >/dev/null 2>&1 && break
    sleep 0.2
  done
  "$DOCKER" -H "unix://$SOCK" version >/dev/null 2>&1 || { echo "dockerd did not start; see $STATE/dockerd.log" >&2; exit 1; }
fi

if ! "$DOCKER" -H "unix://$SOCK" image inspect acr-doctor-test/tiny:1 >/dev/null 2>&1; then
  tmp="$(mktemp -d)"
  printf 'hello from acr-doctor tests\n' >"$tmp/hello.txt"
  tar -C "$tmp" -cf "$tmp/tiny.tar" hello.txt
  "$DOCKER" -H "unix://$SOCK" import "$tmp/tiny.tar" acr-doctor-test/tiny:1 >/dev/null
  rm -rf "$tmp"
fi

echo "export ACR_DOCTOR_TEST_DOCKER_HOST=unix://$SOCK"
