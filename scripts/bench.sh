#!/usr/bin/env bash
# Performance benchmark of acr-doctor against the test bed, side by side with
# `az acr check-health` where both can run. Not a test: it prints numbers, it asserts nothing.
#
#   scripts/bench.sh [--no-az] [--quick] [--runs N] [--az-runs N] [--latencies 0,20,50,100]
#
# What it does:
#   1. builds the release binary and the `bench_bed` example (cargo build --release);
#   2. installs the Azure CLI from PyPI into a throwaway virtual environment under .bench/
#      (cached there; time-boxed by BENCH_AZ_INSTALL_TIMEOUT seconds, default 900);
#   3. re-runs itself inside a private network and mount namespace (unshare, needs root or
#      user namespaces; it refuses to run without one): there only the loopback interface exists, the bed answers DNS on
#      127.0.0.1:53 (known registries resolve to 127.0.0.1, every other name is NXDOMAIN),
#      and /etc/resolv.conf is bind-mounted over in that namespace only; nothing can leave the
#      machine, whatever either tool tries;
#   4. runs benches/bench.py, which times every scenario with hyperfine and writes
#      .bench/results.json and .bench/results.md.
#
# Needs: cargo, python3 (with venv), hyperfine, GNU time (/usr/bin/time), unshare and ip
# (util-linux, iproute2), docker-registry (Debian package) for the bed's real registry.
# On Debian/Ubuntu: apt-get install hyperfine time docker-registry iproute2 python3-venv
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
state="$here/.bench"

no_az=0
pass=()
while [ $# -gt 0 ]; do
    case "$1" in
        --inner) shift; break ;;
        --no-az) no_az=1; shift ;;
        --quick) pass+=(--runs 3 --az-runs 1 --latencies 0,50 --fleet 10); shift ;;
        --runs|--az-runs|--latencies|--fleet) pass+=("$1" "$2"); shift 2 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

if [ "${BENCH_INNER:-}" = 1 ]; then
    # Inside the private namespaces: loopback up, private resolver, then the driver.
    ip link set lo up
    printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n' > "$state/resolv.conf"
    mount --bind "$state/resolv.conf" /etc/resolv.conf
    exec python3 "$here/benches/bench.py" "$@"
fi

for tool in cargo python3 hyperfine /usr/bin/time; do
    command -v "$tool" >/dev/null || {
        echo "bench.sh: $tool is missing (apt-get install hyperfine time python3-venv)" >&2
        exit 2
    }
done

if ! unshare --net --mount --fork true 2>/dev/null; then
    # Without a private namespace a DNS question for a registry name could leave the machine.
    echo "bench.sh: cannot create a private network namespace (needs root or user namespaces):" \
        "not running" >&2
    exit 2
fi

mkdir -p "$state"
# The whole directory is throwaway: keep it out of git without touching the repository's files.
[ -f "$state/.gitignore" ] || echo '*' > "$state/.gitignore"

echo "[bench] building the release binary and the bench bed (cargo build --release)" >&2
cargo build --release --quiet --bin acr-doctor --example bench_bed
target_dir="$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
doctor="$target_dir/release/acr-doctor"
bed="$target_dir/release/examples/bench_bed"

az=""
if [ "$no_az" = 0 ]; then
    venv="$state/az-venv"
    if [ ! -x "$venv/bin/az" ]; then
        echo "[bench] installing azure-cli into $venv (once; it is large)" >&2
        rm -rf "$venv"
        if python3 -m venv "$venv" &&
            timeout "${BENCH_AZ_INSTALL_TIMEOUT:-900}" "$venv/bin/pip" install --quiet \
                --disable-pip-version-check azure-cli >"$state/pip.log" 2>&1; then
            :
        else
            echo "[bench] azure-cli could not be installed (see .bench/pip.log): skipping az" >&2
            rm -rf "$venv"
        fi
    fi
    if [ -x "$venv/bin/az" ]; then az="$venv/bin/az"; fi
fi

args=(--doctor "$doctor" --bed "$bed" --out "$state/results.json" "${pass[@]}")
if [ -n "$az" ]; then args+=(--az "$az"); fi

echo "[bench] running in a private network namespace (loopback only)" >&2
BENCH_INNER=1 unshare --net --mount --fork bash "$0" --inner "${args[@]}" --netns |
    tee "$state/results.md"
echo "[bench] raw numbers: .bench/results.json" >&2
