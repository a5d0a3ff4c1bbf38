#!/usr/bin/env bash
# Throughput and peak memory of `acr-doctor triage` on generated CI logs (issue 23).
# Not a test: it prints numbers and checks that each answer is right, it asserts no speed.
#
#   scripts/bench-triage.sh [--sizes "1000000 100000000 1000000000"] [--runs N] [--no-gzip]
#
# For each size (bytes) and each place of the one registry error (start, middle, end) it
# generates a log with scripts/gen-ci-log.py into a temporary directory, runs
# `acr-doctor triage --file LOG -o json` N times (default 3) under GNU time, checks the answer
# (CONNECTIVITY_DNS_ERROR on the expected line, every byte and line counted) and prints the
# median wall time, the throughput, the CPU time and the peak resident memory (max RSS).
# Each size is also read once from a pipe (`cat LOG | acr-doctor triage -`) and, unless
# --no-gzip, once gzip-compressed through --file. Logs are deleted as soon as they are used;
# the directory is removed on exit. Needs: cargo, python3, GNU time (/usr/bin/time), gzip.
# Disk: at most about twice the largest size at once (the log and its gzip copy).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

sizes="1000000 100000000 1000000000"
runs=3
with_gzip=1
while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) sizes="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --no-gzip) with_gzip=0; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "bench-triage.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

for tool in cargo python3 gzip /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench-triage.sh: $tool is missing" >&2; exit 2; }
done

echo "[bench-triage] building the release binary (cargo build --release)" >&2
cargo build --release --quiet --bin acr-doctor
target_dir="$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
doctor="$target_dir/release/acr-doctor"

work="$(mktemp -d "${TMPDIR:-/tmp}/acr-doctor-bench-triage.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Runs one triage under GNU time; prints "wall cpu maxrss_kib" and checks the JSON answer.
measure() { # measure EXPECTED_LINE EXPECTED_BYTES MODE LOG
    local line="$1" bytes="$2" mode="$3" log="$4"
    local out="$work/out.json" tm="$work/time.txt"
    case "$mode" in
        file) /usr/bin/time -o "$tm" -f "%e %U %S %M" "$doctor" triage --file "$log" -o json > "$out" || true ;;
        pipe) /usr/bin/time -o "$tm" -f "%e %U %S %M" sh -c 'cat "$1" | "$2" triage - -o json' sh "$log" "$doctor" > "$out" || true ;;
    esac
    python3 - "$out" "$line" "$bytes" <<'PY'
import json, sys
out, line, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
v = json.load(open(out))
c = v["candidates"]
ok = (c and c[0]["code"] == "CONNECTIVITY_DNS_ERROR" and c[0]["line"] == line
      and v["read"]["bytes"] == size and v["read"]["complete"])
if not ok:
    sys.exit("bench-triage.sh: wrong answer: %s / %s" % ([(x["code"], x["line"]) for x in c], v["read"]))
PY
    # With a pipe, GNU time measures the shell, cat and acr-doctor together.
    awk '{ printf "%s %.2f %d\n", $1, $2 + $3, $4 }' "$tm"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

printf '| size | error at | read as | wall s (median of %s) | MB/s (wall) | CPU s | MB/s per CPU s | peak RSS MiB |\n' "$runs"
printf '|---|---|---|---|---|---|---|---|\n'
for size in $sizes; do
    for where in start middle end; do
        log="$work/build.log"
        line="$(python3 scripts/gen-ci-log.py "$size" "$where" 2>&1 >"$log" | awk '/error at line/ { print $4 }')"
        bytes="$(wc -c < "$log")"
        mb="$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')"
        modes="file"
        [ "$where" = middle ] && modes="file pipe"
        for mode in $modes; do
            n="$runs"
            [ "$mode" = pipe ] && n=1
            : > "$work/runs.txt"
            for _ in $(seq "$n"); do measure "$line" "$bytes" "$mode" "$log" >> "$work/runs.txt"; done
            wall="$(awk '{ print $1 }' "$work/runs.txt" | median)"
            cpu="$(awk '{ print $2 }' "$work/runs.txt" | median)"
            rss="$(awk '{ print $3 }' "$work/runs.txt" | sort -n | tail -1)"
            awk -v s="$mb" -v w="$where" -v m="$mode" -v wall="$wall" -v cpu="$cpu" -v rss="$rss" -v b="$bytes" 'BEGIN {
                printf "| %s MB | %s | %s | %.3f | %.0f | %.2f | %.0f | %.1f |\n",
                    s, w, m, wall, b / 1e6 / (wall > 0 ? wall : 0.001), cpu,
                    b / 1e6 / (cpu > 0 ? cpu : 0.001), rss / 1024 }'
        done
        if [ "$with_gzip" = 1 ] && [ "$where" = end ]; then
            gzip -1 -c "$log" > "$log.gz"
            rm -f "$log"
            : > "$work/runs.txt"
            measure "$line" "$bytes" file "$log.gz" >> "$work/runs.txt"
            awk -v s="$mb" -v b="$bytes" '{
                printf "| %s MB | end | file, gzip | %.3f | %.0f | %.2f | %.0f | %.1f |\n",
                    s, $1, b / 1e6 / ($1 > 0 ? $1 : 0.001), $2, b / 1e6 / ($2 > 0 ? $2 : 0.001), $3 / 1024 }' "$work/runs.txt"
            rm -f "$log.gz"
        fi
        rm -f "$log"
    done
done
echo "[bench-triage] $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $("$doctor" --version)" >&2
