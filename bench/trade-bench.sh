#!/usr/bin/env bash
# Trade engine benchmark (docs/benchmarks.md, "Trade statistics"): generate ROWS rows with
# `chipwatch trade gen`, import the same rows as a BACI CSV, then run every indicator with
# chipwatch (embedded DataFusion) and the same SQL (printed by `--show-sql`) with DuckDB on the
# same Parquet files, in one run. Needs `pip install duckdb`.
#
#   bench/trade-bench.sh                      # 10^7 rows, target/release/chipwatch
#   ROWS=100000000 bench/trade-bench.sh       # 10^8 rows
#   CHIPWATCH=target/debug/chipwatch bench/trade-bench.sh
#   CLUSTER=1 bench/trade-bench.sh            # also on a loopback Ballista cluster (2 executors)
set -euo pipefail
cd "$(dirname "$0")/.."
export ROWS=${ROWS:-10000000}
export CHIPWATCH=${CHIPWATCH:-target/release/chipwatch}
export OUT=${OUT:-bench/out/trade}
mkdir -p "$OUT"
exec python3 bench/trade_bench.py
