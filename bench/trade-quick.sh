#!/usr/bin/env bash
# Indicator timings on an existing dataset, chipwatch against DuckDB on the same SQL, best of 3
# runs each (docs/benchmarks.md, "Trade statistics"). Faster than trade-bench.sh, which also
# generates and imports the data; use it to compare two builds on one dataset:
#
#   chipwatch trade gen --rows 10000000 --seed 1 --out /tmp/g7
#   CHIPWATCH=old/chipwatch bench/trade-quick.sh /tmp/g7; bench/trade-quick.sh /tmp/g7
#
# Prints: indicator, chipwatch seconds (whole process), DuckDB seconds (in-process), ratio.
# INDICATORS="imports flag" runs only those (default: all seven; the alerts take longest).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?usage: bench/trade-quick.sh DATASET-DIR}
C=${CHIPWATCH:-target/release/chipwatch}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
declare -A ARGS=(
  [imports]="dependence --indicator imports" [exports]="dependence --indicator exports"
  [ratio]="dependence --indicator ratio" [flag]="dependence --indicator flag"
  [bil]="dependence --indicator bilateral --reporter KOR --partner NLD --monthly"
  [matrix]="matrix" [alerts]="alerts")
for k in ${INDICATORS:-imports exports ratio flag bil matrix alerts}; do
  # shellcheck disable=SC2086
  t=$(for _ in 1 2 3; do
        /usr/bin/time -f "%e" "$C" --json trade ${ARGS[$k]} --data "$DATA" --source baci 2>&1 >/dev/null
      done | sort -n | head -1)
  # shellcheck disable=SC2086
  "$C" trade ${ARGS[$k]} --data "$DATA" --source baci --show-sql > "$TMP/$k.sql"
  d=$(python3 - "$DATA" "$TMP/$k.sql" <<'PY'
import duckdb, sys, time
data, sqlf = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute(f"CREATE VIEW trade AS SELECT * FROM read_parquet('{data}/**/*.parquet', hive_partitioning = true)")
stmts = [s for s in open(sqlf).read().split(";\n") if s.strip()]
con.execute(stmts[0].replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
best = 1e9
for _ in range(3):
    t = time.perf_counter()
    res = con.execute(stmts[1])
    while res.fetchmany(100_000):
        pass
    best = min(best, time.perf_counter() - t)
print(f"{best:.3f}")
PY
)
  echo "$k $t $d $(python3 -c "print(round($t / $d, 2))")"
done
