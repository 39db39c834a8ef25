#!/usr/bin/env bash
# API conformance: run schemathesis over every operation of /api/v1/openapi.json against a real
# `chipwatch serve` on 127.0.0.1 (temporary SQLite database, an admin token of a fresh
# organisation), with positive and negative data, stateful links and every check
# (configuration: bench/schemathesis.toml). Exits non-zero when schemathesis finds a failure,
# the server logs an internal error, or the server cannot be started.
#
# Usage: bench/api-conformance.sh [MAX_EXAMPLES]     (default 30 examples per operation)
# Needs: `st` (schemathesis >= 4, `pip install schemathesis`) on PATH or in $ST;
#        the binary in $CHIPWATCH_BIN (default: builds it with cargo, debug profile).
set -euo pipefail

MAX_EXAMPLES="${1:-30}"
ST="${ST:-st}"
if ! command -v "$ST" >/dev/null; then
    echo "schemathesis not found: pip install schemathesis (or set ST)" >&2
    exit 2
fi

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${CHIPWATCH_BIN:-}" ]; then
    (cd "$ROOT" && cargo build -q -p chipwatch)
    CHIPWATCH_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/chipwatch"
fi

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

export CHIPWATCH_DB="$WORK/cw.db"
"$CHIPWATCH_BIN" admin org create conformance >/dev/null
"$CHIPWATCH_BIN" admin user create --org conformance --name tester --role admin >/dev/null
TOKEN="$("$CHIPWATCH_BIN" admin token create --org conformance --user tester 2>/dev/null)"
# Token 2, the one DELETE /api/v1/tokens/{id} revokes (bench/schemathesis.toml).
"$CHIPWATCH_BIN" admin token create --org conformance --user tester --label revocable >/dev/null 2>&1

# A small synthetic trade dataset, so /api/v1/trade/* answer from data rather than 404.
"$CHIPWATCH_BIN" trade gen --rows 20000 --seed 5 --shocks 4 --out "$WORK/trade" >/dev/null

# Port 0: the server prints the address it bound. The failed-authentication limits are raised
# so that schemathesis' deliberately unauthenticated calls do not lock the valid token out.
"$CHIPWATCH_BIN" serve --addr 127.0.0.1:0 --log-format text \
    --auth-failures-per-source 1000000 --auth-failures-per-token 1000000 \
    --trade "$WORK/trade" --trade-vintage synthetic \
    2>"$WORK/server.log" &
SERVER_PID=$!
BASE=""
for _ in $(seq 1 100); do
    BASE="$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/server.log" | head -1 || true)"
    [ -n "$BASE" ] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        cat "$WORK/server.log" >&2
        exit 2
    fi
    sleep 0.1
done
if [ -z "$BASE" ]; then
    echo "server did not start" >&2
    cat "$WORK/server.log" >&2
    exit 2
fi

START=$(date +%s)
set +e
"$ST" --config-file "$ROOT/bench/schemathesis.toml" --no-color run "$BASE/api/v1/openapi.json" \
    --header "Authorization: Bearer $TOKEN" \
    --checks all \
    --exclude-checks ensure_resource_availability \
    --phases examples,coverage,fuzzing,stateful \
    --mode all \
    --max-examples "$MAX_EXAMPLES" \
    --seed 42
RC=$?
set -e
echo "schemathesis took $(( $(date +%s) - START )) s (exit $RC)" >&2
if grep -q "handler panicked\|internal error" "$WORK/server.log"; then
    echo "the server logged internal errors:" >&2
    grep "handler panicked\|internal error" "$WORK/server.log" | head -20 >&2
    RC=1
fi
exit "$RC"
