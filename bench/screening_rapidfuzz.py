#!/usr/bin/env python3
"""Reference for chipwatch screening: rapidfuzz on the same data.

The data (5,000 entries with 3 aliases each, 10,000 queries with ground truth) are written by
`cargo bench -p chipwatch-controls --bench controls` to target/bench-screening/. This script does
comparable matching: the same normalisation (NFKC, case, punctuation, legal-form words), every
name and alias as a choice, token_sort_ratio (word order) with a cutoff of 85, up to 5 hits per
query, one core. It prints the time and the same recall / false-positive counts as the bench.

    python3 bench/screening_rapidfuzz.py
"""
import csv
import os
import re
import sys
import time
import unicodedata

from rapidfuzz import fuzz, process

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "bench-screening")
LEGAL = set(
    "co company ltd limited inc incorporated corp corporation llc gmbh ag bv nv plc sa sas srl spa "
    "kk pte pty jsc pjsc ojsc ooo oao zao the of and lp llp ltda sarl".split()
)
CJK_LEGAL = ["股份有限公司", "有限责任公司", "有限公司", "株式会社", "有限会社", "合同会社", "公司"]


def norm(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).lower()
    for lf in CJK_LEGAL:
        s = s.replace(lf, " ")
    s = re.sub(r"[^\w]+", " ", s)
    toks = [t for t in s.split() if t not in LEGAL]
    return " ".join(toks)


def main() -> int:
    lpath = os.path.join(ROOT, "list.csv")
    qpath = os.path.join(ROOT, "queries.tsv")
    if not os.path.exists(lpath):
        print("run `cargo bench -p chipwatch-controls --bench controls` first", file=sys.stderr)
        return 1
    names, owner = [], []
    entry_names = []
    with open(lpath, newline="", encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            entry_names.append(row["name"])
            for n in [row["name"]] + [a.strip() for a in row["alt_names"].split(";") if a.strip()]:
                names.append(norm(n))
                owner.append(i)
    queries = []
    with open(qpath, encoding="utf-8") as f:
        for line in f:
            q, truth = line.rstrip("\n").split("\t")
            queries.append((q, int(truth)))
    t0 = time.perf_counter()
    results = []
    for q, _ in queries:
        hits = process.extract(norm(q), names, scorer=fuzz.token_sort_ratio, score_cutoff=85, limit=5)
        results.append({owner[idx] for (_, _, idx) in hits})
    dt = time.perf_counter() - t0
    tp = fn = fp = 0
    for (_, truth), ents in zip(queries, results):
        if truth >= 0:
            if truth in ents:
                tp += 1
            else:
                fn += 1
        elif ents:
            fp += 1
    print(f"rapidfuzz {__import__('rapidfuzz').__version__}: {len(queries)} queries x {len(names)} names "
          f"({len(entry_names)} entries) in {dt:.3f} s = {len(queries) / dt:,.0f} names/s")
    print(f"recall {tp}/{tp + fn}; false-positive queries {fp}/{len(queries) - tp - fn}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
