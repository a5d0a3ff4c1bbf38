# Sourced by scripts/test-dockerd.sh and scripts/test-podman.sh: stopping a daemon they started.

# stop_pidfile PIDFILE: ends the process named in PIDFILE (TERM, then up to 10 s for it to go)
# and removes the file. Nothing happens when the file is missing or the process is gone.
stop_pidfile() {
  local pidfile="$1" pid
  if [ -f "$pidfile" ]; then
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
    fi
    rm -f "$pidfile"
  fi
}
