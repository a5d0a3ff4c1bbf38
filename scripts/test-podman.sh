#!/usr/bin/env bash
# Start (or stop) a private Podman API service for acr-doctor's tests (tests/it/podman.rs starts
# one per test through this script; it can also be used by hand).
#
#   scripts/test-podman.sh start DIR     # start, print the export lines
#   scripts/test-podman.sh stop DIR      # stop it
#
# Everything lives under DIR: XDG_RUNTIME_DIR (DIR/xdg, so the socket is where rootless Podman
# puts it: DIR/xdg/podman/podman.sock), image storage (--root/--runroot with the vfs driver),
# libpod's tmp and network config directories, and the events log. Nothing of the machine's
# Podman state (/var/lib/containers, /run/containers, ~/.local/share/containers) is touched; the
# service runs no container. When DIR/registries.conf exists, the service reads it instead of
# /etc/containers/registries.conf (CONTAINERS_REGISTRIES_CONF).
#
# Podman's Docker-compatible API then answers on unix://DIR/xdg/podman/podman.sock.
set -euo pipefail

cmd="${1:-start}"
DIR="${2:-${ACR_DOCTOR_TEST_STATE:-$PWD/.testbed}/podman}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
PODMAN="${PODMAN:-podman}"
XDG="$DIR/xdg"
SOCK="$XDG/podman/podman.sock"
PIDFILE="$DIR/podman-service.pid"

# shellcheck source=lib-service.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-service.sh"
stop() { stop_pidfile "$PIDFILE"; }

if [ "$cmd" = "stop" ]; then
  stop
  exit 0
fi

command -v "$PODMAN" >/dev/null 2>&1 || { echo "podman not found (apt-get install podman)" >&2; exit 1; }
if [ "${#SOCK}" -gt 100 ]; then
  echo "$SOCK is too long for a unix socket; use a shorter DIR" >&2
  exit 1
fi

stop
mkdir -p "$XDG/podman" "$DIR/root" "$DIR/runroot" "$DIR/tmp" "$DIR/networks" "$DIR/home"
chmod 700 "$XDG"
rm -f "$SOCK"
# Private state and configuration only: a storage.conf of our own (so the machine's is not read
# for the graph root), the events written to a file under DIR, no cgroup manager needed.
cat >"$DIR/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$DIR/root"
runroot = "$DIR/runroot"
EOF
envs=(
  "XDG_RUNTIME_DIR=$XDG"
  "XDG_CONFIG_HOME=$DIR/home/.config"
  "XDG_DATA_HOME=$DIR/home/.local/share"
  "HOME=$DIR/home"
  "CONTAINERS_STORAGE_CONF=$DIR/storage.conf"
)
if [ -f "$DIR/registries.conf" ]; then
  envs+=("CONTAINERS_REGISTRIES_CONF=$DIR/registries.conf")
fi
env "${envs[@]}" "$PODMAN" \
  --root "$DIR/root" --runroot "$DIR/runroot" --storage-driver vfs \
  --tmpdir "$DIR/tmp" --network-config-dir "$DIR/networks" \
  --events-backend file --cgroup-manager cgroupfs \
  system service --time=0 "unix://$SOCK" \
  >"$DIR/podman-service.log" 2>&1 &
echo $! >"$PIDFILE"

for _ in $(seq 1 100); do
  if [ -S "$SOCK" ] && env "${envs[@]}" "$PODMAN" --url "unix://$SOCK" version >/dev/null 2>&1; then
    break
  fi
  sleep 0.1
done
env "${envs[@]}" "$PODMAN" --url "unix://$SOCK" version >/dev/null 2>&1 || {
  echo "the Podman API service did not start; see $DIR/podman-service.log" >&2
  stop
  exit 1
}

echo "export ACR_DOCTOR_TEST_PODMAN_SOCKET=unix://$SOCK"
echo "export ACR_DOCTOR_TEST_PODMAN_XDG_RUNTIME_DIR=$XDG"
