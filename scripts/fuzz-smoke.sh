#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ briefly: a smoke test that the parsers of outside input
# still survive their seed corpus and a few seconds of mutation. Every `cargo test` already
# replays the seeds and a fixed set of mutations of them without libFuzzer
# (tests/it/fuzz_corpus.rs); this libFuzzer run is for developers and `FUZZ=1 .ci/run`.
#
#   scripts/fuzz-smoke.sh            # every target, FUZZ_SECONDS (default 10) each
#   FUZZ_SECONDS=600 scripts/fuzz-smoke.sh challenge   # one target, longer
#
# cargo-fuzz needs nightly compiler flags: the stable compiler accepts them with
# RUSTC_BOOTSTRAP=1 (FUZZ_TOOLCHAIN=nightly uses a nightly toolchain instead). When cargo-fuzz is missing and
# cannot be installed, the script says so and exits 0. The build goes to FUZZ_TARGET_DIR
# (default: ~/.cache/acr-doctor/fuzz-target) so that later runs only rebuild what changed.
# Each target fuzzes a temporary copy of its seed corpus; findings land in fuzz/artifacts/.
set -euo pipefail

cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-10}"
target_dir="${FUZZ_TARGET_DIR:-${HOME:-/tmp}/.cache/acr-doctor/fuzz-target}"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz-smoke: installing cargo-fuzz"
    if ! cargo install cargo-fuzz --locked >/dev/null 2>&1; then
        echo "fuzz-smoke: SKIPPED: cargo-fuzz is not installed and cannot be installed"
        exit 0
    fi
fi

if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
    fuzz=(cargo "+$FUZZ_TOOLCHAIN" fuzz)
else
    fuzz=(cargo fuzz)
    export RUSTC_BOOTSTRAP=1
fi

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <("${fuzz[@]}" list)
fi

started=$SECONDS
echo "fuzz-smoke: building ${#targets[@]} targets (${fuzz[*]}, target dir $target_dir)"
"${fuzz[@]}" build -O --target-dir "$target_dir"

failed=()
for t in "${targets[@]}"; do
    work="$(mktemp -d)"
    cp corpus/"$t"/* "$work"/ 2>/dev/null || true
    echo "fuzz-smoke: $t for ${seconds}s"
    if ! "${fuzz[@]}" run -O --target-dir "$target_dir" "$t" "$work" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$work.log" 2>&1; then
        failed+=("$t")
        tail -n 40 "$work.log"
    else
        grep -E '^stat::number_of_executed_units|^Done' "$work.log" | sed "s/^/  $t: /" || true
    fi
    rm -rf "$work" "$work.log"
done

echo "fuzz-smoke: $(( ${#targets[@]} - ${#failed[@]} )) passed, ${#failed[@]} failed ($(( SECONDS - started ))s)"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz-smoke: crashing targets: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
