#!/usr/bin/env bash
# Soak: a bounded write and read load against `chipwatch serve` on 127.0.0.1 with repeated
# SIGKILLs and restarts, on SQLite or PostgreSQL. After every kill it runs `chipwatch audit verify`
# (keyed chain against the signed checkpoints), restarts the server on the same database, verifies
# again, and checks that every write a client saw acknowledged (HTTP 201 with an id) is stored,
# complete. Prints one line per round and a summary; exits 1 if any acknowledged write is lost
# or any verification fails.
#
# Usage: bash bench/soak.sh [sqlite|postgres] [rounds] [writers] [max-seconds-per-round]
#   postgres needs CHIPWATCH_SOAK_PG_URL (a server URL, e.g. postgres://postgres@127.0.0.1:5432/test);
#   a fresh database soak_<pid> is created on it and dropped at the end.
# SOAK_SELFTEST=1 deletes one acknowledged record before the last count: the run must then
# report 1 lost and exit 1 (a check that the counter can fail).
# Bounded: rounds x (up to max-seconds + restart); every loop ends with its round.
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
rounds="${2:-10}"
writers="${3:-4}"
max_secs="${4:-4}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build -q -p chipwatch
tmp="$(mktemp -d)"
# A private copy: a shared target directory may be rebuilt from another tree during the run.
cp "$CARGO_TARGET_DIR/debug/chipwatch" "$tmp/chipwatch"
bin="$tmp/chipwatch"

pid=""
pg_db=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  touch "$tmp/stop" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ -n "$pg_db" ]; then psql -q "$CHIPWATCH_SOAK_PG_URL" -c "DROP DATABASE IF EXISTS $pg_db" || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

case "$backend" in
  sqlite) db="$tmp/soak.db" ;;
  postgres)
    : "${CHIPWATCH_SOAK_PG_URL:?set CHIPWATCH_SOAK_PG_URL to a PostgreSQL server URL}"
    pg_db="soak_$$"
    psql -q "$CHIPWATCH_SOAK_PG_URL" -c "CREATE DATABASE $pg_db"
    db="${CHIPWATCH_SOAK_PG_URL%/*}/$pg_db"
    ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac
# The audit key and checkpoints live outside the database, as in production.
export CHIPWATCH_DB="$db" CHIPWATCH_AUDIT_KEY_FILE="$tmp/audit.key"

"$bin" admin org create Soak >/dev/null
"$bin" admin user create --org Soak --name writer --role analyst >/dev/null
token="$("$bin" admin token create --org Soak --user writer 2>/dev/null)"

start_server() {
  : >"$tmp/server.log"
  RUST_LOG=warn "$bin" serve --addr 127.0.0.1:0 --log-format text 2>"$tmp/server.log" &
  pid=$!
  addr=""
  for _ in $(seq 300); do
    addr="$(sed -n 's/^chipwatch listening on http:\/\///p' "$tmp/server.log" | head -1)"
    [ -n "$addr" ] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "server did not start" >&2
  exit 1
}

# One writer: POST records until the stop file exists; for every 201 append "id provider value".
writer() {
  local w="$1" n=0 out code id
  while [ ! -e "$tmp/stop" ]; do
    n=$((n + 1))
    out="$(curl -s -m 5 -w '\n%{http_code}' -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/json' \
      -d "{\"item\":\"N20\",\"provider\":\"soak-$w-$n\",\"country\":\"KOR\",\"metric\":\"capacity\",\"value\":$n,\"unit\":\"wafers/month\",\"period\":\"2024-Q1\",\"provenance\":\"soak\",\"distribution\":\"community\"}" \
      "http://$addr/api/v1/records" 2>/dev/null)" || { sleep 0.05; continue; }
    code="${out##*$'\n'}"
    if [ "$code" = 201 ]; then
      id="$(printf '%s' "${out%$'\n'*}" | jq -r .id)"
      echo "$id soak-$w-$n $n" >>"$tmp/acked-by-writer.$w"
    else
      sleep 0.05
    fi
  done
}

# One reader: list own records until the stop file exists.
reader() {
  while [ ! -e "$tmp/stop" ]; do
    curl -s -m 5 -o /dev/null -H "Authorization: Bearer $token" "http://$addr/api/v1/records?scope=own" || sleep 0.05
  done
}

verify() {
  if "$bin" audit verify >"$tmp/verify.out" 2>&1; then
    return 0
  fi
  echo "audit verify failed ($1):" >&2
  cat "$tmp/verify.out" >&2
  return 1
}

# Every acknowledged write must be stored with the value the client sent.
count_lost() {
  cat "$tmp"/acked-by-writer.* 2>/dev/null | LC_ALL=C sort >"$tmp/acked.all" || true
  curl -s -m 30 -H "Authorization: Bearer $token" "http://$addr/api/v1/records?scope=own" |
    jq -r '.records[] | "\(.id) \(.provider) \(.value | floor)"' | LC_ALL=C sort >"$tmp/stored"
  LC_ALL=C comm -23 "$tmp/acked.all" "$tmp/stored" | wc -l
}

lost_total=0
verify_failures=0
start_server
t0=$(date +%s)
for round in $(seq "$rounds"); do
  rm -f "$tmp/stop"
  for w in $(seq "$writers"); do writer "$w" & done
  reader &
  sleep "$(awk -v m="$max_secs" -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.5 + rand() * (m - 0.5) }')"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  touch "$tmp/stop"
  wait
  verify "after kill $round" || verify_failures=$((verify_failures + 1))
  start_server
  verify "after restart $round" || verify_failures=$((verify_failures + 1))
  if [ "${SOAK_SELFTEST:-0}" = 1 ] && [ "$round" = "$rounds" ]; then
    # Prove the counter can fail: remove one acknowledged record behind the clients' back.
    first="$(cat "$tmp"/acked-by-writer.* | head -1 | cut -d' ' -f1)"
    curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $token" "http://$addr/api/v1/records/$first"
  fi
  lost="$(count_lost)"
  lost_total=$lost # acked.all is cumulative: the latest count covers every earlier round
  acked="$(wc -l <"$tmp/acked.all")"
  echo "round $round: $acked acknowledged writes so far, $lost lost; audit: $(head -1 "$tmp/verify.out")"
done
kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=""
verify "final" || verify_failures=$((verify_failures + 1))
echo "soak $backend: $rounds SIGKILLs in $(( $(date +%s) - t0 )) s, $writers writers + 1 reader, $(wc -l <"$tmp/acked.all") acknowledged writes, $lost_total lost, $verify_failures audit verification failures"
[ "$lost_total" = 0 ] && [ "$verify_failures" = 0 ]
