#!/usr/bin/env python3
"""networkx baseline of one propagation pass (the AND/OR availability model, BRIEF 3.3) over a
synthetic firm-level model written by `chipwatch gen`, with the same semantics as the Rust
kernel (`Kernel::pass`): for every item in topological order,

    supply(k) = (1 + h) * sum over firm shares s_{k,f}/100 * cap(f)      (OR over providers)
    a(k)      = min(1, supply(k), min over inputs a(i))                   (AND over inputs)

with h = 0.10 and the benchmark capacity rule cap(F{f}) = 0.5 if f % 7 == 0 else 1.0. Prints
edges/s and a checksum (sum of a(k) over items) to compare with the one `chipwatch gen` prints.

    pip install networkx
    chipwatch gen --nodes 100000 --avg-degree 10 --seed 1 --out /tmp/g100k.toml
    python3 bench/kernel_networkx.py /tmp/g100k.toml
"""
import sys
import time
import tomllib

import networkx as nx


def main():
    path = sys.argv[1]
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        m = tomllib.load(f)
    t_load = time.perf_counter() - t0
    g = nx.DiGraph()
    items = [it for it in m["item"] if it["kind"] != "final_output"]
    for it in items:
        g.add_node(it["id"], kind="item")
    for it in items:
        for t in it.get("goes_into", []):
            if t != "FINAL":
                g.add_edge(it["id"], t, kind="flow")
    firm_cap = {}
    for p in m["provider"]:
        if p["type"] == "organisation":
            f = int(p["id"][1:])
            firm_cap[p["id"]] = 0.5 if f % 7 == 0 else 1.0
            g.add_node(p["id"], kind="firm")
    for s in m["share"]:
        if s["provider"] in firm_cap:
            g.add_edge(s["provider"], s["item"], kind="supply", w=s["share"] / 100.0)
    n_edges = g.number_of_edges()
    h = 0.10
    t0 = time.perf_counter()
    a = {}
    for v in nx.topological_sort(g):
        if g.nodes[v]["kind"] != "item":
            continue
        supply = 0.0
        val = None
        for u, _, d in g.in_edges(v, data=True):
            if d["kind"] == "supply":
                supply += d["w"] * firm_cap[u]
            else:
                val = a[u] if val is None else min(val, a[u])
        x = min(1.0, (1.0 + h) * supply)
        a[v] = x if val is None else min(x, val)
    dt = time.perf_counter() - t0
    checksum = sum(a.values())
    print(f"file load {t_load:.1f} s; graph: {g.number_of_nodes()} nodes, {n_edges} edges")
    print(f"networkx pass: {dt:.3f} s = {n_edges / dt / 1e6:.2f} M edges/s; checksum {checksum:.3f}")


if __name__ == "__main__":
    main()
