#!/usr/bin/env python3
"""Validate data/fabs/ and print capacity coverage (300 mm-equivalent wafers per month).

Usage: python3 data/fabs/check.py   (from the repo root, or any directory)
Exit status 1 if any validation error is found.
"""
import csv
import re
import signal
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = ["fab_id", "owner", "owner_country", "site", "country", "wafer_mm", "capacity_wspm",
          "segment", "status", "start_year", "capacity_year", "source", "note"]
SEGMENTS = ["logic_leading", "logic_advanced", "logic_mature", "dram", "nand", "analog_power"]
STATUSES = ["operating", "ramping", "planned", "closed"]
FACTOR = {150: 0.25, 200: 0.444, 300: 1.0}
# owners whose whole capacity counts as "foundry" for the SEMI foundry cross-check (Samsung: logic rows only;
# Intel's foundry business is excluded because its capacity is not separable here)
FOUNDRY_OWNERS = {"TSMC", "SMIC", "UMC", "GlobalFoundries", "Hua Hong", "Powerchip", "Nexchip", "Vanguard",
                  "Tower", "DB HiTek", "Key Foundry", "Rapidus"}
EUROPE = {"AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "IRL",
          "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE", "GBR", "CHE", "NOR"}
# region groups used by location_share tables that do not list single countries
REGION_GROUPS = {
    "EUR": EUROPE,
    "EUR_ME": EUROPE | {"ISR", "ARE", "SAU", "TUR"},
    "AMER": {"USA", "CAN", "MEX", "CRI", "BRA"},
    "SEA": {"SGP", "MYS", "THA", "PHL", "VNM", "IDN"},
}
ATP_HEADER = ["country", "share_pct", "year", "source", "note"]
ISO3 = re.compile(r"^[A-Z]{3}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")

errors = []


def err(path, line, field, msg):
    errors.append(f"{path.name}:{line}: {field}: {msg}")


def load_sources():
    p = HERE / "sources.toml"
    data = tomllib.loads(p.read_text())
    ids = set()
    for i, s in enumerate(data.get("source", [])):
        for k in ("id", "publisher", "title", "year", "url"):
            if k not in s:
                err(p, f"source[{i}]", k, "missing")
        if s.get("id") in ids:
            err(p, f"source[{i}]", "id", f"duplicate id {s.get('id')}")
        ids.add(s.get("id"))
    return ids


def check_sources_field(path, line, value, ids):
    if not value:
        err(path, line, "source", "empty")
    for sid in value.split(";"):
        if sid not in ids:
            err(path, line, "source", f"unknown source id {sid!r}")


def load_fabs(ids):
    p = HERE / "fabs.csv"
    rows = []
    with p.open(newline="") as f:
        rd = csv.reader(f)
        head = next(rd)
        if head != HEADER:
            err(p, 1, "header", f"expected {HEADER}")
            return rows
        seen = set()
        for n, rec in enumerate(rd, start=2):
            if len(rec) != len(HEADER):
                err(p, n, "row", f"{len(rec)} fields, expected {len(HEADER)}")
                continue
            r = dict(zip(HEADER, rec))
            if not SLUG.match(r["fab_id"]):
                err(p, n, "fab_id", f"not a lowercase slug: {r['fab_id']!r}")
            for k in ("owner_country", "country"):
                if not ISO3.match(r[k]):
                    err(p, n, k, f"not ISO alpha-3: {r[k]!r}")
            try:
                mm = int(r["wafer_mm"])
                if mm not in FACTOR:
                    err(p, n, "wafer_mm", f"{mm} not in 150/200/300")
            except ValueError:
                err(p, n, "wafer_mm", "not an integer")
                mm = 300
            cap = None
            if r["capacity_wspm"]:
                try:
                    cap = int(r["capacity_wspm"])
                    if cap <= 0:
                        err(p, n, "capacity_wspm", "must be positive")
                except ValueError:
                    err(p, n, "capacity_wspm", "not an integer")
            elif "unknown" not in r["note"].lower() and "do not add" not in r["note"].lower() \
                    and "inside" not in r["note"].lower() and "cancel" not in r["note"].lower():
                err(p, n, "note", "capacity empty but note does not say unknown/included")
            if r["segment"] not in SEGMENTS:
                err(p, n, "segment", f"{r['segment']!r} not in {SEGMENTS}")
            if r["status"] not in STATUSES:
                err(p, n, "status", f"{r['status']!r} not in {STATUSES}")
            for k in ("start_year", "capacity_year"):
                if r[k] and not re.match(r"^(19|20)\d\d$", r[k]):
                    err(p, n, k, f"not a year: {r[k]!r}")
            if cap is not None and not r["capacity_year"]:
                err(p, n, "capacity_year", "capacity given without capacity_year")
            check_sources_field(p, n, r["source"], ids)
            key = (r["fab_id"], r["segment"])
            if key in seen:
                err(p, n, "fab_id", f"duplicate (fab_id, segment) {key}")
            seen.add(key)
            r["_eq"] = cap * FACTOR.get(mm, 1.0) if cap else 0.0
            r["_line"] = n
            rows.append(r)
    return rows


def load_totals(ids):
    p = HERE / "totals.toml"
    data = tomllib.loads(p.read_text())
    out = data.get("total", [])
    for i, t in enumerate(out):
        for k in ("segment", "capacity_wspm_300eq", "year", "source", "note"):
            if k not in t:
                err(p, f"total[{i}]", k, "missing")
        if t.get("segment") not in SEGMENTS + ["all", "all_ic", "foundry"]:
            err(p, f"total[{i}]", "segment", f"unknown segment {t.get('segment')!r}")
        check_sources_field(p, f"total[{i}]", t.get("source", ""), ids)
    for i, ls in enumerate(data.get("location_share", [])):
        for k in ("basis", "region", "share_pct", "year", "source", "note"):
            if k not in ls:
                err(p, f"location_share[{i}]", k, "missing")
        check_sources_field(p, f"location_share[{i}]", ls.get("source", ""), ids)
    return out, data.get("location_share", [])


def load_atp(ids):
    p = HERE / "atp.csv"
    total = 0.0
    with p.open(newline="") as f:
        rd = csv.reader(f)
        head = next(rd)
        if head != ATP_HEADER:
            err(p, 1, "header", f"expected {ATP_HEADER}")
            return
        for n, rec in enumerate(rd, start=2):
            r = dict(zip(ATP_HEADER, rec))
            if r["country"] != "ROW" and not ISO3.match(r["country"]):
                err(p, n, "country", f"not ISO alpha-3 or ROW: {r['country']!r}")
            try:
                total += float(r["share_pct"])
            except ValueError:
                err(p, n, "share_pct", "not a number")
            check_sources_field(p, n, r["source"], ids)
    if abs(total - 100.0) > 1.5:
        err(p, "-", "share_pct", f"shares sum to {total}, expected 100")


def fmt(x):
    return f"{x/1000:9.1f}k"


def main():
    ids = load_sources()
    rows = load_fabs(ids)
    totals, shares = load_totals(ids)
    load_atp(ids)
    if errors:
        print("VALIDATION ERRORS:")
        for e in errors:
            print("  " + e)
    else:
        print(f"OK: {len(rows)} rows, {len({r['fab_id'] for r in rows})} fabs, {len(ids)} sources")

    op = [r for r in rows if r["status"] == "operating"]
    ramp = [r for r in rows if r["status"] == "ramping"]
    unknown = [r for r in op if not r["capacity_wspm"]]
    print(f"operating rows: {len(op)} (capacity unknown or counted elsewhere: {len(unknown)}); ramping rows: {len(ramp)}")

    by_seg = defaultdict(float)
    for r in op:
        by_seg[r["segment"]] += r["_eq"]
    tot_all = sum(by_seg.values())
    print("\nOperating capacity by segment (300 mm-eq wafers/month) and coverage of cited totals:")
    print(f"  {'segment':16s} {'dataset':>10s}  {'total':>10s}  {'year':4s}  coverage")
    denoms = {}
    for t in totals:
        denoms.setdefault(t["segment"], []).append(t)
    for seg in sorted(by_seg, key=lambda s: -by_seg[s]):
        ts = denoms.get(seg, [])
        if ts:
            for t in ts:
                print(f"  {seg:16s} {fmt(by_seg[seg])}  {fmt(t['capacity_wspm_300eq'])}  {t['year']}  "
                      f"{100*by_seg[seg]/t['capacity_wspm_300eq']:5.1f}%")
        else:
            print(f"  {seg:16s} {fmt(by_seg[seg])}  {'(no cited total)':>10s}")
    for key in ("all", "all_ic"):
        for t in denoms.get(key, []):
            print(f"  {key:16s} {fmt(tot_all)}  {fmt(t['capacity_wspm_300eq'])}  {t['year']}  "
                  f"{100*tot_all/t['capacity_wspm_300eq']:5.1f}%")
    ramp_eq = sum(r["_eq"] for r in ramp)
    print(f"  (ramping rows with a figure add {fmt(ramp_eq)} not counted above)")

    fnd = sum(r["_eq"] for r in op if r["owner"] in FOUNDRY_OWNERS
              or (r["owner"] == "Samsung" and r["segment"].startswith("logic")))
    for t in denoms.get("foundry", []):
        print(f"  {'foundry (x-check)':16s} {fmt(fnd)}  {fmt(t['capacity_wspm_300eq'])}  {t['year']}  "
              f"{100*fnd/t['capacity_wspm_300eq']:5.1f}%   (foundry owners + Samsung logic)")

    # per-location sanity check: dataset capacity vs cited location share x the primary SEMI total
    prim = [t for t in denoms.get("all", []) if t["year"] == 2024]
    if prim and shares:
        base = prim[0]["capacity_wspm_300eq"]
        fbase = max((t for t in denoms.get("foundry", [])), key=lambda t: t["year"], default=None)
        def region_of(c, listed):
            if c in listed:
                return c
            for g, members in REGION_GROUPS.items():
                if g in listed and c in members:
                    return g
            return "OTHER"
        for basis, denom, rows_b in (("all_fab_capacity", base, op),
                                     ("all_fab_capacity_2024", base, op),
                                     ("foundry_capacity", fbase["capacity_wspm_300eq"] if fbase else None,
                                      [r for r in op if r["owner"] in FOUNDRY_OWNERS
                                       or (r["owner"] == "Samsung" and r["segment"].startswith("logic"))])):
            sh = [x for x in shares if x["basis"] == basis]
            if not sh or not denom:
                continue
            listed = {x["region"] for x in sh}
            agg = defaultdict(float)
            for r in rows_b:
                agg[region_of(r["country"], listed)] += r["_eq"]
            print(f"\nCoverage by location vs {basis} shares x total {fmt(denom)} (shares year {sh[0]['year']}):")
            for x in sorted(sh, key=lambda x: -x["share_pct"]):
                implied = denom * x["share_pct"] / 100
                print(f"  {x['region']:6s} share {x['share_pct']:3}%  implied {fmt(implied)}  dataset {fmt(agg[x['region']])}"
                      f"  coverage {100*agg[x['region']]/implied:5.1f}%")

    for label, key in (("country (site location)", "country"), ("owner", "owner"), ("owner HQ country", "owner_country")):
        agg = defaultdict(float)
        for r in op:
            agg[r[key]] += r["_eq"]
        print(f"\nOperating capacity by {label}, 300 mm-eq wafers/month, share of dataset:")
        for k, v in sorted(agg.items(), key=lambda kv: -kv[1]):
            print(f"  {k:20s} {fmt(v)}  {100*v/tot_all:5.1f}%")
    return 1 if errors else 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # allow piping into head
    sys.exit(main())
