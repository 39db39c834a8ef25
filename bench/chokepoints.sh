#!/usr/bin/env bash
# Whole-process timing of `chipwatch chokepoints` on the embedded default model, side by side with
# the pandas reference on the ETO CSVs, in one hyperfine run so the ratio is fair.
# Needs: hyperfine (Debian package), python3 with pandas. Usage: bash bench/chokepoints.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ETO="${ETO:-../shared/data/eto}"
cargo build --release -q -p chipwatch
hyperfine --warmup 3 --runs 30 -N \
  --export-markdown bench/out-chokepoints.md \
  "target/release/chipwatch chokepoints --json" \
  "python3 bench/chokepoints_pandas.py $ETO --json"
