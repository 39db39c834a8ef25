#!/usr/bin/env bash
# HTTP server benchmarks (docs/benchmarks.md, "## Server"): read endpoints (item detail,
# chokepoints), record writes on SQLite, and a scenario run through the API versus the CLI.
# Needs: wrk (apt-get install wrk), hyperfine, curl, python3 (tomllib).
# Usage: bash bench/server.sh [DURATION_SECONDS]   (default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-15}"
OUT=bench/out/server
mkdir -p "$OUT"
cargo build --release -q -p chipwatch
BIN=target/release/chipwatch
DB="$OUT/bench.db"
rm -f "$DB" "$DB-wal" "$DB-shm"
$BIN admin org create BenchOrg --db "$DB" >/dev/null
$BIN admin user create --org BenchOrg --name bench --role analyst --db "$DB" >/dev/null
export CW_TOKEN="$($BIN admin token create --org BenchOrg --user bench --db "$DB" 2>/dev/null)"

RUST_LOG="${RUST_LOG:-info}" $BIN serve --addr 127.0.0.1:0 --db "$DB" 2>"$OUT/server.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  ADDR="$(grep -o 'listening on http://[0-9.:]*' "$OUT/server.log" | sed 's/listening on //' || true)"
  [ -n "$ADDR" ] && break
  sleep 0.1
done
echo "server at $ADDR (pid $PID), logs in $OUT/server.log"

run_wrk() { # name, conns, url, script
  echo "== $1"
  wrk -t2 -c"$2" -d"${DUR}s" --latency -s "$4" "$3" | tee "$OUT/$1.txt"
}
run_wrk item 32 "$ADDR/api/v1/items/N20" bench/auth_get.lua
run_wrk chokepoints 32 "$ADDR/api/v1/chokepoints" bench/auth_get.lua
run_wrk records_write 16 "$ADDR" bench/post_record.lua

echo "== scenario: CLI vs API"
SC=examples/scenarios/nld-litho-stop.toml
python3 -c 'import json,sys,tomllib; print(json.dumps(tomllib.load(open(sys.argv[1],"rb"))))' "$SC" > "$OUT/scenario.json"
printf 'Authorization: Bearer %s\n' "$CW_TOKEN" > "$OUT/auth.header"
hyperfine --warmup 2 --runs 20 -N --export-markdown "$OUT/scenario.md" \
  "$BIN scenario run $SC --json" \
  "curl -sf -o /dev/null -X POST -H @$OUT/auth.header -H 'Content-Type: application/json' --data-binary @$OUT/scenario.json $ADDR/api/v1/scenarios/run"
rm -f "$OUT/auth.header"
