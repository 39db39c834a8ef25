"""Driver of bench/trade-bench.sh: chipwatch (DataFusion) and DuckDB on the same Parquet files,
and with CLUSTER=1 the same indicators on a loopback Ballista cluster (a scheduler and two
executors started from the same binary)."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster():
    """A scheduler and two executors (one task slot each on this 2-core machine) on 127.0.0.1."""
    port = free_port()
    procs = [subprocess.Popen([BIN, "cluster", "scheduler", "--bind", f"127.0.0.1:{port}"],
                              stderr=subprocess.DEVNULL)]
    time.sleep(1)
    vcores = os.environ.get("EXECUTOR_VCORES", "1")
    for _ in range(2):
        procs.append(subprocess.Popen(
            [BIN, "cluster", "executor", "--scheduler", f"127.0.0.1:{port}", "--port", str(free_port()),
             "--grpc-port", str(free_port()), "--vcores", vcores,
             "--work-dir", tempfile.mkdtemp(prefix="chipwatch-executor-")],
            stderr=subprocess.DEVNULL))
    time.sleep(3)
    return f"127.0.0.1:{port}", procs


def main():
    rows = []
    for d in (DATA, IMPORTED, CSV_DIR):
        shutil.rmtree(d, ignore_errors=True)
    secs, out = run(["--json", "trade", "gen", "--rows", str(ROWS), "--seed", "1", "--out", DATA])
    g = json.loads(out)
    rows.append(("gen (write Parquet)", secs, None, None))

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
    rows.append(("import BACI CSV", secs, None, None))

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
    cluster, procs = start_cluster() if os.environ.get("CLUSTER") == "1" else (None, [])
    try:
        for name, args in indicators:
            base = ["trade", *args, "--data", DATA, "--source", "baci"]
            secs, _ = run(["--json", *base])
            _, sql = run([*base, "--show-sql"])
            stmts = [s for s in sql.split(";\n") if s.strip()]
            con.execute(stmts[0].replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
            t = time.perf_counter()
            # Streamed in batches, as chipwatch streams the alert series: 10^8 rows of series
            # do not fit in memory as Python tuples.
            res = con.execute(stmts[1])
            try:
                # Arrow batches without pyarrow in DuckDB 2.0's DB-API result; rows otherwise.
                for _batch in res.to_arrow_reader(1_000_000):
                    pass
            except ImportError:
                while res.fetchmany(100_000):
                    pass
            ddb = time.perf_counter() - t
            cl = None
            if cluster:
                # Absolute paths: the executors read the files the plan names.
                cbase = ["trade", *args, "--data", os.path.abspath(DATA), "--source", "baci",
                         "--engine", cluster, "--partitions", os.environ.get("CLUSTER_PARTITIONS", "4")]
                cl, _ = run(["--json", *cbase])
            rows.append((name, secs, ddb, cl))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)

    table = [
        f"Rows: {g['rows']:,} ({g['series']:,} series x {g['months']} months); chipwatch: `{BIN}`; "
        f"DuckDB {duckdb.__version__}",
        "",
        "| step | chipwatch (s) | DuckDB, same SQL (s) | ratio | chipwatch on the 2-executor loopback cluster (s) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, a, b, c in rows:
        r = f"{a / b:.2f}" if b else ""
        table.append(f"| {name} | {a:.2f} | {'' if b is None else f'{b:.2f}'} | {r} | "
                     f"{'' if c is None else f'{c:.2f}'} |")
    text = "\n".join(table)
    print(text)
    with open(os.path.join(OUT, f"table-{ROWS}.md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
