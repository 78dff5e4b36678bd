#!/usr/bin/env python3
"""Reads a flowscan export with DuckDB, as a user would, and prints what it
sees as JSON: per dataset (vpc, tgw), the row count, the column names (files
may differ in columns: read by name) and the account ids of the partitions.

Account ids are read with hive_types VARCHAR: without it DuckDB guesses a
number and 012345678901 loses its leading zero.

Usage: export_rows.py OUT_DIR
"""
import glob
import json
import os
import sys

import duckdb


def quote(s):
    return "'" + s.replace("'", "''") + "'"


def main(out):
    tgw_root = os.path.join(out, "transit-gateway")
    every = sorted(glob.glob(os.path.join(out, "**", "*.parquet"), recursive=True))
    res = {}
    for name in ("vpc", "tgw"):
        files = [f for f in every if f.startswith(tgw_root + os.sep) == (name == "tgw")]
        if not files:
            res[name] = {"rows": 0, "columns": [], "accounts": [], "files": 0}
            continue
        hive = "aws-account-id=" in files[0]
        opts = "union_by_name = true"
        if hive:
            opts += (", hive_partitioning = true, hive_types = "
                     "{'aws-account-id': VARCHAR, 'aws-region': VARCHAR}")
        src = f"read_parquet([{', '.join(quote(f) for f in files)}], {opts})"
        con = duckdb.connect()
        cols = [d[0] for d in con.execute(f"SELECT * FROM {src} LIMIT 0").description]
        rows = con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
        accounts = []
        if hive:
            accounts = sorted(r[0] for r in con.execute(
                f'SELECT DISTINCT "aws-account-id" FROM {src}').fetchall())
        res[name] = {"rows": rows, "columns": cols, "accounts": accounts, "files": len(files)}
    json.dump(res, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
