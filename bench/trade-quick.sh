#!/usr/bin/env bash
# Indicator timings on an existing dataset, chipwatch against DuckDB on the same SQL, best of 3
# runs each (docs/benchmarks.md, "Trade statistics"). Faster than trade-bench.sh, which also
# generates and imports the data; use it to compare two builds on one dataset:
#
#   chipwatch trade gen --rows 10000000 --seed 1 --out /tmp/g7
#   CHIPWATCH=old/chipwatch bench/trade-quick.sh /tmp/g7; bench/trade-quick.sh /tmp/g7
#
# Three comparisons per indicator, each side best of 3:
#   process: the whole `chipwatch --json` process (start-up, opening the dataset, the query,
#            JSON to /dev/null) against a whole Python process that imports DuckDB, opens the
#            same files and runs the same SQL, fetching every row;
#   first:   the query alone, as each engine's own timer reports it, the first time a session
#            runs it (the files listed, the Parquet footers and page indexes read): chipwatch's
#            `--timings` "open" and "query" phases (open also reads the footers to check the
#            BACI flows) against DuckDB's execute and fetch in a new connection whose views
#            are made;
#   again:   the same query run again in the same session (three processes with `--repeat 4`,
#            the best of their runs 2-4; DuckDB: the same in three connections), metadata
#            cached, as a server's later requests run.
# Prints: indicator, then for each comparison chipwatch s, DuckDB s and their ratio. A build
# without `--timings` prints "-" for its queries, one without `--repeat` for "again".
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
TIMINGS=--timings
"$C" trade sql --help | grep -q -- --timings || TIMINGS=
REPEAT=yes
"$C" trade sql --help | grep -q -- --repeat || REPEAT=
ratio() { python3 -c "import sys; a, b = sys.argv[1:]; print('-' if '-' in (a, b) else round(float(a) / float(b), 2))" "$1" "$2"; }
printf '%-8s %8s %8s %6s %8s %8s %6s %8s %8s %6s\n' indicator cw_proc dd_proc ratio \
  cw_first dd_first ratio cw_again dd_again ratio
for k in ${INDICATORS:-imports exports ratio flag bil matrix alerts}; do
  : > "$TMP/runs"
  for _ in 1 2 3; do
    # shellcheck disable=SC2086
    /usr/bin/time -f "elapsed %e" -o "$TMP/time" "$C" --json trade ${ARGS[$k]} --data "$DATA" \
      --source baci $TIMINGS 2> "$TMP/err" > /dev/null
    # Opening (listing the files, and reading their footers to check the BACI flows) and the
    # first query: DuckDB's first query lists and reads them too.
    q=$(sed -n 's/.*open \([0-9.]*\) s, query[a-z ]* \([0-9.]*\) s.*/\1 \2/p' "$TMP/err" |
      awk 'NF == 2 { printf "%.3f", $1 + $2 }')
    echo "$(sed -n 's/elapsed //p' "$TMP/time") ${q:--}" >> "$TMP/runs"
  done
  t=$(cut -d' ' -f1 "$TMP/runs" | sort -n | head -1)
  tq=$(cut -d' ' -f2 "$TMP/runs" | sort -n | head -1)
  ta=-
  if [ -n "$REPEAT" ] && [ -n "$TIMINGS" ]; then
    # Three processes of four runs, as DuckDB's side below.
    : > "$TMP/again"
    for _ in 1 2 3; do
      # shellcheck disable=SC2086
      "$C" --json trade ${ARGS[$k]} --data "$DATA" --source baci --timings --repeat 4 \
        2> "$TMP/err" > /dev/null
      grep -o 'again [0-9.]* s' "$TMP/err" | cut -d' ' -f2 >> "$TMP/again"
    done
    ta=$(sort -n "$TMP/again" | head -1)
  fi
  # shellcheck disable=SC2086
  "$C" trade ${ARGS[$k]} --data "$DATA" --source baci --show-sql > "$TMP/$k.sql"
  cat > "$TMP/duck.py" <<'PY'
import sys, time
t0 = time.perf_counter()
import duckdb
data, sqlf, mode = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
con.execute(f"CREATE VIEW trade AS SELECT * FROM read_parquet('{data}/**/*.parquet', hive_partitioning = true)")
stmts = [s for s in open(sqlf).read().split(";\n") if s.strip()]
con.execute(stmts[0].replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
def run():
    res = con.execute(stmts[1])
    while res.fetchmany(100_000):
        pass
if mode == "process":
    run()
    print(f"{time.perf_counter() - t0:.3f}")
else:
    t = time.perf_counter()
    run()
    first = time.perf_counter() - t
    again = 1e9
    for _ in range(3):
        t = time.perf_counter()
        run()
        again = min(again, time.perf_counter() - t)
    print(f"{first:.3f} {again:.3f}")
PY
  # The first query of a new connection, best of 3 processes, and the best later run.
  dq=$(for _ in 1 2 3; do python3 "$TMP/duck.py" "$DATA" "$TMP/$k.sql" query; done)
  d=$(echo "$dq" | cut -d' ' -f1 | sort -n | head -1)
  da=$(echo "$dq" | cut -d' ' -f2 | sort -n | head -1)
  # The whole process, timed from outside like chipwatch's.
  dp=$(for _ in 1 2 3; do
         /usr/bin/time -f "%e" python3 "$TMP/duck.py" "$DATA" "$TMP/$k.sql" process 2>&1 >/dev/null
       done | sort -n | head -1)
  printf '%-8s %8s %8s %6s %8s %8s %6s %8s %8s %6s\n' "$k" "$t" "$dp" "$(ratio "$t" "$dp")" \
    "$tq" "$d" "$(ratio "$tq" "$d")" "$ta" "$da" "$(ratio "$ta" "$da")"
done
