#!/usr/bin/env bash
# Fuzz smoke for CI (issue 14): install cargo-fuzz if it is missing, build every fuzz target
# (the sanitizer build cargo-fuzz makes), and run each for FUZZ_SMOKE_SECS seconds (default 20)
# from seeds taken from the real files, in a throw-away corpus. Fails on the first crash, with
# the crashing input left in fuzz/artifacts/<target>/.
#
#   bench/fuzz-smoke.sh                  # all targets
#   bench/fuzz-smoke.sh eto_csv          # some
#   FUZZ_SMOKE_SECS=5 bench/fuzz-smoke.sh
#
# Needs a nightly toolchain (`rustup toolchain install nightly`) and crates.io for cargo-fuzz.
# Times: see docs/fuzzing.md, "CI smoke".
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${FUZZ_SMOKE_SECS:-20}
t0=$(date +%s)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz" >&2
    cargo install --locked cargo-fuzz
fi
t1=$(date +%s)

echo "== building the fuzz targets" >&2
(cd "$ROOT" && cargo +nightly fuzz build --features=datafusion --fuzz-dir "$ROOT/fuzz")
t2=$(date +%s)

CORPUS=$(mktemp -d)
trap 'rm -rf "$CORPUS"' EXIT
OUT="$CORPUS/logs"
FUZZ_CORPUS="$CORPUS" FUZZ_OUT="$OUT" FUZZ_SECS="$SECS" FUZZ_RUNS=1000000000 FUZZ_BUILD=0 \
    "$ROOT/bench/fuzz-campaign.sh" "$@" >/dev/null || status=$?
t3=$(date +%s)
cat "$OUT/table.md"
if [ "${status:-0}" -ne 0 ]; then
    for l in "$OUT"/*.log; do
        grep -qE 'ERROR: libFuzzer|panicked at|SUMMARY: ' "$l" && { echo "== $l"; tail -40 "$l"; }
    done
    echo "fuzz smoke: a target crashed (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz smoke: install $((t1 - t0)) s, build $((t2 - t1)) s, runs $((t3 - t2)) s, total $((t3 - t0)) s"
