#!/usr/bin/env python3
"""Write a mixed batch of shipments for `chipwatch licence check --batch` (throughput run).

    python3 bench/controls_batch_gen.py 100000 > /tmp/shipments.csv
    /usr/bin/time -v target/release/chipwatch licence check --batch /tmp/shipments.csv > /dev/null
"""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
rnd = random.Random(42)
products = ["NXT:2000i", "NXT:1980i", "NXT:1470", "NXE:3800E", "H100", "H800", "H20", "RTX 4090",
            "gallium", "graphite", "antimony", "A100"]
frm = ["NLD", "USA", "CHN", "JPN", "DEU", "KOR"]
to = ["CHN", "USA", "DEU", "KOR", "TWN", "VNM", "JPN", "MAC", "GBR", "SGP"]
dates = ["2022-06-01", "2023-10-01", "2024-09-07", "2025-11-20", "2026-11-21"]
users = ["", "", "", "Huawei Technologies", "Acme Trading Ltd"]
print("product,from,to,date,end_user,tpp,die_area_mm2,us_content_pct")
for i in range(n):
    if i % 4 == 3:
        print(f",{rnd.choice(frm)},{rnd.choice(to)},{rnd.choice(dates)},{rnd.choice(users)},"
              f"{1000 + rnd.randrange(8000)},{300 + rnd.randrange(600)},{rnd.randrange(40)}")
    else:
        print(f"{rnd.choice(products)},{rnd.choice(frm)},{rnd.choice(to)},{rnd.choice(dates)},"
              f"{rnd.choice(users)},,,")
