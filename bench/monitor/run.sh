#!/usr/bin/env bash
# Monitor throughput, Rust vs the Python reference, on the same generated corpus (one core each).
# usage: bash bench/monitor/run.sh [N]   (needs: pip install beautifulsoup4 jieba feedparser)
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-2000}"
CORPUS="$(mktemp -d)/corpus"
python3 bench/monitor/gen_corpus.py "$CORPUS" "$N"
cargo build --release -q -p chipwatch-monitor --example bench_pipeline
taskset -c 0 target/release/examples/bench_pipeline "$CORPUS"
taskset -c 0 python3 bench/monitor/pipeline.py "$CORPUS"
rm -rf "$(dirname "$CORPUS")"
