#!/usr/bin/env python3
"""Reference for the `chipwatch chokepoints` benchmark: the same computation with pandas on the
ETO CSVs (latest vintage per provider, country view only, buckets excluded from the ranking,
HHI / effective providers / CR1 / CR3 / countries to 75% / single point of failure > 65%).

Usage: python3 bench/chokepoints_pandas.py ../shared/data/eto [--json]
"""
import sys

import pandas as pd

BUCKETS = {"Various countries", "EUR"}


def main(d: str) -> None:
    prov = pd.read_csv(f"{d}/provision.csv", dtype={"share_provided": float})
    providers = pd.read_csv(f"{d}/providers.csv").drop_duplicates("provider_id")
    inputs = pd.read_csv(f"{d}/inputs.csv")
    countries = providers[providers.provider_type == "country"][["provider_id", "provider_name"]]
    df = prov.merge(countries, on="provider_id", suffixes=("", "_p"))
    df = df[~df.provider_name_p.isin(BUCKETS)]
    # latest vintage per (provider, item)
    df = df[df.year == df.groupby(["provider_id", "provided_id"]).year.transform("max")]
    num = df.dropna(subset=["share_provided"])
    rows = []
    for item, g in num.groupby("provided_id"):
        s = g.sort_values("share_provided", ascending=False).share_provided
        s = s[s > 0]
        hhi = float((s**2).sum())
        cum = s.cumsum()
        to75 = int((cum < 75 - 1e-9).sum() + 1) if cum.iloc[-1] >= 75 - 1e-9 else None
        rows.append(
            dict(
                item_id=item,
                hhi=hhi,
                effective_providers=10000 / hhi if hhi else 0,
                cr1=float(s.iloc[0]),
                cr3=float(s.iloc[:3].sum()),
                top_country=g.loc[s.index[0], "provider_name_p"],
                countries_to_75=to75,
                single_point_of_failure=bool(s.iloc[0] > 65),
            )
        )
    out = pd.DataFrame(rows).merge(
        inputs[["input_id", "input_name"]], left_on="item_id", right_on="input_id", how="left"
    )
    out = out.sort_values(["hhi", "item_id"], ascending=[False, True])
    if "--json" in sys.argv:
        print(out.drop(columns=["input_id"]).to_json(orient="records"))
    else:
        print(out.drop(columns=["input_id"]).to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1])
