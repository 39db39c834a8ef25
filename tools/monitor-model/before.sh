#!/usr/bin/env bash
# The rules' decisions on each writing round's development batch, by the rules as they stood
# before that round (the parent of the commit that added the batch): articles neither the rules
# nor (out of fold) the model had seen, where train.py chooses its thresholds.
# usage: bash tools/monitor-model/before.sh OUT_DIR   (from the repository root; ~10 min)
set -euo pipefail
out=${1:?usage: before.sh OUT_DIR}
mkdir -p "$out"
root=$(pwd)
wt=$(mktemp -d)
target=${CARGO_TARGET_DIR:-$root/target}/before
trap 'git -C "$root" worktree remove --force "$wt/tree" >/dev/null 2>&1 || true; rm -rf "$wt"' EXIT
# prefix:commit that added the batch (git log -- data/eval/monitor/labels.toml).
for pair in e:fe91f42 f:3c0470c g:741ed00 i:2c542ae j:1bd8997 k:4a4756f; do
  p=${pair%%:*}
  c=${pair##*:}
  git -C "$root" worktree add --force --detach "$wt/tree" "$c^" >/dev/null 2>&1
  cp "$root/tools/monitor-model/dump_before.rs" "$wt/tree/crates/chipwatch-monitor/examples/"
  (cd "$wt/tree" && CARGO_TARGET_DIR=$target cargo build --quiet --release -p chipwatch-monitor --example dump_before)
  "$target/release/examples/dump_before" "$root/data/eval/monitor/labels.toml" "$p" "$out/$p.jsonl"
  echo "batch $p: rules of $(git -C "$root" rev-parse --short "$c^"), $(wc -l < "$out/$p.jsonl") articles"
  git -C "$root" worktree remove --force "$wt/tree"
done
