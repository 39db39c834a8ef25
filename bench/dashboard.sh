#!/usr/bin/env bash
# Dashboard page throughput: wrk against `chipwatch serve` (release build, fresh SQLite database,
# anonymous public pages and one signed-in partner page). Usage: bash bench/dashboard.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"
bin=target/release/chipwatch
[ -x "$bin" ] || cargo build --release -p chipwatch
tmp="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
db="$tmp/bench.db"
"$bin" admin org create "Bench Org" --db "$db" >/dev/null
"$bin" admin user create --org "Bench Org" --name bench --role admin --db "$db" >/dev/null
token="$("$bin" admin token create --org "Bench Org" --user bench --db "$db" 2>/dev/null)"
RUST_LOG=warn "$bin" serve --addr 127.0.0.1:18089 --db "$db" --log-format text 2>"$tmp/server.log" &
pid=$!
for _ in $(seq 100); do curl -fs http://127.0.0.1:18089/healthz >/dev/null && break; sleep 0.1; done
# A dashboard session cookie, as the browser gets it from /login.
cookie="$(curl -s -o /dev/null -D - -X POST -H 'Origin: http://127.0.0.1:18089' \
  --data-urlencode "token=$token" http://127.0.0.1:18089/login | sed -n 's/^set-cookie: \([^;]*\).*/\1/ip')"
run() {
  echo "== $1"
  shift
  wrk -t2 -c8 -d"${secs}s" --latency "$@" | grep -E 'Requests/sec|50%|99%'
}
run "overview /" http://127.0.0.1:18089/
run "item /item/N20" http://127.0.0.1:18089/item/N20
run "scenario (EUV block NLD->CHN)" "http://127.0.0.1:18089/scenario?run=1&s0_kind=export_block&s0_from=NLD&s0_to=CHN&s0_items=N20"
run "licence check" "http://127.0.0.1:18089/licence?product=NXT%3A2000i&from=NLD&to=CHN"
run "monitor (empty store)" http://127.0.0.1:18089/monitor
run "partner (signed in)" -H "Cookie: $cookie" http://127.0.0.1:18089/partner
