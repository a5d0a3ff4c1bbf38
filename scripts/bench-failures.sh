#!/usr/bin/env bash
# The failing scenarios of the benchmark at one round-trip time, acr-doctor only (no Azure CLI,
# no hyperfine): wall time and sequential round trips of each, side by side for several binaries.
#
#   scripts/bench-failures.sh [--rtt 50] [--runs 5] [LABEL=PATH ...]
#
# Without LABEL=PATH it builds and measures this tree's debug binary. Like bench.sh it runs in a
# private network and mount namespace (unshare; loopback only, the bed answers DNS), so nothing
# can leave the machine. Needs cargo, python3, unshare and ip, docker-registry for the bed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
state="$here/.bench"
target="${CARGO_TARGET_DIR:-$here/target}"

if [ "${BENCH_INNER:-}" = 1 ]; then
    shift
    ip link set lo up
    printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n' > "$state/resolv.conf"
    mount --bind "$state/resolv.conf" /etc/resolv.conf
    exec python3 "$here/benches/failures.py" "$@"
fi

pass=()
doctors=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rtt|--runs) pass+=("$1" "$2"); shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *=*) doctors+=(--doctor "$1"); shift ;;
        *) echo "bench-failures.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
if ! unshare --net --mount --fork true 2>/dev/null; then
    echo "bench-failures.sh: cannot create a private network namespace: not running" >&2
    exit 2
fi
mkdir -p "$state"
cargo build --quiet --example bench_bed
if [ ${#doctors[@]} -eq 0 ]; then
    cargo build --quiet --bin acr-doctor
    doctors=(--doctor "this=$target/debug/acr-doctor")
fi
BENCH_INNER=1 unshare --net --mount --fork bash "$0" --inner \
    --bed "$target/debug/examples/bench_bed" "${doctors[@]}" "${pass[@]}" --netns
