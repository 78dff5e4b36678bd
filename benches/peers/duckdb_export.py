#!/usr/bin/env python3
"""Parquet export with DuckDB (peer for benches/compare.sh, workload "export").

Usage: duckdb_export.py --out FILE.parquet [--compression C] [--threads N]
                        [--sniff] [--no-fsync] INPUT...

INPUT is a file (plain or .gz) or a glob (`DIR/**/*.log.gz`). Runs

  COPY (SELECT * FROM read_csv(INPUTS, delim = ' ', header = true, nullstr = '-', ...))
  TO 'FILE.parquet' (FORMAT parquet, COMPRESSION snappy)

writing one Parquet file (its folder is created). Columns: by default the names
come from the first file's header line and the types from the VPC field table
(integer fields INTEGER or BIGINT, the rest VARCHAR, as duckdb_rejects.py; no
sniffing, so every file must share that header). With --sniff, DuckDB's
sniffer runs with `types` for the integer fields only (it then types account-id
as BIGINT, where AWS's Parquet schema and flowscan keep it as text).

Then the file is fsync'ed (flowscan export fsyncs every Parquet file it closes;
DuckDB's COPY does not), so both commands end with their output on disk;
--no-fsync skips that.
"""
import argparse
import os

import duckdb

from common import INTS, expand, header

SQL_TYPES = {"int32": "INTEGER", "int64": "BIGINT"}

# The brief's integer fields for --sniff (tcp-flags is left to the sniffer).
SNIFF_TYPES = ("types = {'version': 'INTEGER', 'srcport': 'INTEGER', 'dstport': 'INTEGER', "
               "'protocol': 'INTEGER', 'packets': 'BIGINT', 'bytes': 'BIGINT', "
               "'start': 'BIGINT', 'end': 'BIGINT'}")


def lit(s):
    return "'" + s.replace("'", "''") + "'"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="the Parquet file to write")
    ap.add_argument("--compression", default="snappy")
    ap.add_argument("--threads", type=int, default=0, help="0: DuckDB's default (all cores)")
    ap.add_argument("--sniff", action="store_true",
                    help="let DuckDB sniff the columns (types given for the integer fields)")
    ap.add_argument("--no-fsync", action="store_true", help="do not fsync the output")
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()

    con = duckdb.connect()
    if a.threads:
        con.execute(f"SET threads = {a.threads}")
    files = "[" + ", ".join(lit(f) for f in a.inputs) + "]"
    if a.sniff:
        schema = SNIFF_TYPES
    else:
        cols = header(expand(a.inputs)[0])
        schema = "auto_detect = false, columns = {" + ", ".join(
            f"{lit(c)}: '{SQL_TYPES.get(INTS.get(c), 'VARCHAR')}'" for c in cols) + "}"
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    con.execute(f"COPY (SELECT * FROM read_csv({files}, delim = ' ', header = true, "
                f"nullstr = '-', {schema})) TO {lit(a.out)} "
                f"(FORMAT parquet, COMPRESSION {a.compression})")
    con.close()
    if not a.no_fsync:
        fd = os.open(a.out, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


if __name__ == "__main__":
    main()
