#!/usr/bin/env python3
"""Independent solution of the TTS/TTR linear programs (BRIEF 3.4) with scipy + HiGHS.

Reads a network JSON in chipwatch's format (docs/scenarios.md), builds the LP of every
single-node disruption from scratch (no code shared with the Rust engine) and writes a fixture
the Rust test `tts_matches_highs` compares against, so `cargo test` needs no Python.

    pip install scipy numpy
    chipwatch gen --network --nodes 40 --seed 11 --out /tmp/n40.json
    python3 bench/tts_highs.py /tmp/n40.json --horizon 365 > crates/chipwatch-analysis/tests/fixtures/tts_n40.json

With --time, also times all single-node TTS solves (reference for docs/benchmarks.md).
"""
import argparse
import json
import sys
import time

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import lil_matrix


def build(net, down, tts, t_fixed, horizon):
    nodes, edges = net["nodes"], net.get("edges", [])
    idx = {n["id"]: i for i, n in enumerate(nodes)}
    nn, ne = len(nodes), len(edges)
    products = [i for i, n in enumerate(nodes) if n["kind"] == "product"]
    # Variables: t, u[0..nn), y[0..ne), l[products] (TTR only).
    nl = 0 if tts else len(products)
    nv = 1 + nn + ne + nl
    T, U, Y, L = 0, 1, 1 + nn, 1 + nn + ne
    lpos = {j: L + k for k, j in enumerate(products)}
    rows, rhs = [], []

    def row():
        r = {}
        rows.append(r)
        return r

    parts = {}
    out = {i: [] for i in range(nn)}
    for k, e in enumerate(edges):
        parts.setdefault((idx[e["to"]], e["part"]), []).append(k)
        out[idx[e["from"]]].append(k)
    for (j, _p), ks in parts.items():
        r = row()
        r[U + j] = 1.0
        for k in ks:
            r[Y + k] = r.get(Y + k, 0.0) - 1.0 / edges[k].get("units_per_output", 1.0)
        rhs.append(0.0)
    for i, n in enumerate(nodes):
        if out[i]:
            r = row()
            r[U + i] = -1.0
            for k in out[i]:
                r[Y + k] = r.get(Y + k, 0.0) + 1.0
            rhs.append(n.get("inventory", 0.0))
        if n.get("capacity_per_day") is not None:
            r = row()
            r[U + i] = 1.0
            r[T] = -n["capacity_per_day"]
            rhs.append(0.0)
        if n["kind"] == "product":
            # u + l + s >= d t  ->  -u - l + d t <= s
            r = row()
            r[U + i] = -1.0
            r[T] = n["demand_per_day"]
            if not tts:
                r[lpos[i]] = -1.0
            rhs.append(n.get("inventory", 0.0))
    A = lil_matrix((len(rows), nv))
    for a, r in enumerate(rows):
        for c, v in r.items():
            A[a, c] = v
    c = np.zeros(nv)
    if tts:
        c[T] = -1.0
    else:
        for j in products:
            c[lpos[j]] = nodes[j].get("profit_margin", 1.0)
    bounds = [(0, None)] * nv
    bounds[T] = (0, horizon) if tts else (t_fixed, t_fixed)
    bounds[U + down] = (0, 0)
    return c, A.tocsr(), np.array(rhs), bounds


def solve(net, down, tts, t_fixed, horizon):
    c, A, b, bounds = build(net, down, tts, t_fixed, horizon)
    res = linprog(c, A_ub=A, b_ub=b, bounds=bounds, method="highs")
    if res.status != 0:
        raise SystemExit(f"HiGHS failed for node {net['nodes'][down]['id']}: {res.message}")
    return -res.fun if tts else res.fun


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("network")
    ap.add_argument("--horizon", type=float, default=365.0)
    ap.add_argument("--time", action="store_true", help="time all TTS solves instead")
    a = ap.parse_args()
    net = json.load(open(a.network))
    n = len(net["nodes"])
    if a.time:
        t0 = time.perf_counter()
        for d in range(n):
            solve(net, d, True, None, a.horizon)
        dt = time.perf_counter() - t0
        print(f"scipy/HiGHS: {n} single-node TTS solves in {dt:.2f} s ({dt / n * 1e3:.1f} ms each)")
        return
    out = []
    for d, node in enumerate(net["nodes"]):
        tts = solve(net, d, True, None, a.horizon)
        pi = solve(net, d, False, node.get("ttr_days", 0.0), a.horizon) if node.get("ttr_days") is not None else None
        out.append({"id": node["id"], "tts_days": round(tts, 6), "pi": None if pi is None else round(pi, 6)})
    json.dump({"source": "bench/tts_highs.py (scipy.optimize.linprog, method=highs)",
               "horizon_days": a.horizon, "network": net, "expected": out}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
