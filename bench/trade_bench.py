"""Driver of bench/trade-bench.sh: chipwatch (DataFusion) and DuckDB on the same Parquet files."""

import json
import os
import shutil
import subprocess
import time

import duckdb

ROWS = int(os.environ["ROWS"])
BIN = os.environ["CHIPWATCH"]
OUT = os.environ["OUT"]
DATA = os.path.join(OUT, f"gen-{ROWS}")
IMPORTED = os.path.join(OUT, f"imported-{ROWS}")
CSV_DIR = os.path.join(OUT, f"baci-csv-{ROWS}")


def run(args, capture=True):
    t = time.perf_counter()
    p = subprocess.run([BIN, *args], check=True, capture_output=capture, text=True)
    return time.perf_counter() - t, p.stdout


def main():
    rows = []
    for d in (DATA, IMPORTED, CSV_DIR):
        shutil.rmtree(d, ignore_errors=True)
    secs, out = run(["--json", "trade", "gen", "--rows", str(ROWS), "--seed", "1", "--out", DATA])
    g = json.loads(out)
    rows.append(("gen (write Parquet)", secs, None))

    con = duckdb.connect()
    glob = f"{DATA}/**/*.parquet"
    con.execute(f"CREATE VIEW trade AS SELECT * FROM read_parquet('{glob}', hive_partitioning = true)")

    # The same rows as a BACI CSV with its country-code file (codes numbered here), to time import.
    os.makedirs(CSV_DIR)
    con.execute(
        "CREATE TABLE cc AS SELECT row_number() OVER (ORDER BY c) AS country_code, c AS iso3 "
        "FROM (SELECT reporter AS c FROM trade UNION SELECT partner FROM trade)"
    )
    codes = os.path.join(CSV_DIR, "country_codes_V000000.csv")
    data = os.path.join(CSV_DIR, "BACI_HS22_V000000.csv")
    con.execute(
        f"COPY (SELECT country_code, iso3 AS country_name, '' AS country_iso2, iso3 AS country_iso3 FROM cc) "
        f"TO '{codes}' (HEADER)"
    )
    con.execute(
        "COPY (SELECT year AS t, a.country_code AS i, b.country_code AS j, code AS k, value / 1000 AS v, "
        "quantity AS q FROM trade JOIN cc a ON reporter = a.iso3 JOIN cc b ON partner = b.iso3) "
        f"TO '{data}' (HEADER)"
    )
    secs, _ = run(["trade", "import", "--layout", "baci", codes, data, "--out", IMPORTED])
    rows.append(("import BACI CSV", secs, None))

    indicators = [
        ("import concentration", ["dependence", "--indicator", "imports"]),
        ("world export concentration", ["dependence", "--indicator", "exports"]),
        ("imports over exports", ["dependence", "--indicator", "ratio"]),
        ("dependency flag", ["dependence", "--indicator", "flag"]),
        ("bilateral KOR-NLD monthly", ["dependence", "--indicator", "bilateral", "--reporter", "KOR",
                                       "--partner", "NLD", "--monthly"]),
        ("alerts (series SQL + robust test)", ["alerts"]),
        ("chip trade matrix", ["matrix"]),
    ]
    for name, args in indicators:
        base = ["trade", *args, "--data", DATA, "--source", "baci"]
        secs, _ = run(["--json", *base])
        _, sql = run([*base, "--show-sql"])
        stmts = [s for s in sql.split(";\n") if s.strip()]
        con.execute(stmts[0].replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
        t = time.perf_counter()
        con.execute(stmts[1]).fetchall()
        ddb = time.perf_counter() - t
        rows.append((name, secs, ddb))

    table = [
        f"Rows: {g['rows']:,} ({g['series']:,} series x {g['months']} months); chipwatch: `{BIN}`; "
        f"DuckDB {duckdb.__version__}",
        "",
        "| step | chipwatch (s) | DuckDB, same SQL (s) | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, a, b in rows:
        r = f"{a / b:.2f}" if b else ""
        table.append(f"| {name} | {a:.2f} | {'' if b is None else f'{b:.2f}'} | {r} |")
    text = "\n".join(table)
    print(text)
    with open(os.path.join(OUT, f"table-{ROWS}.md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
