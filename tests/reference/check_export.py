#!/usr/bin/env python3
"""Reads a flowscan Parquet export with pyarrow and DuckDB (independent readers)
and prints what they see, as JSON, for the Rust integration tests to check:

- per dataset: row count, column names and Parquet physical/logical types,
  null counts per column, number of files, partition values;
- DuckDB's REJECT top 10 by interface, by (dstport, protocol) and by source /24
  over the VPC dataset, in the same shape as flowscan's report.

Usage: check_export.py OUT_DIR
"""
import glob
import json
import os
import sys

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq


def dataset_info(root):
    files = sorted(glob.glob(os.path.join(root, "AWSLogs", "**", "*.parquet"), recursive=True))
    if not files:
        return None
    types = {}
    for f in files[:1]:
        schema = pq.ParquetFile(f).schema
        for i in range(len(schema)):
            c = schema.column(i)
            types[c.name] = {"physical": c.physical_type, "logical": str(c.logical_type)}
    d = ds.dataset(os.path.join(root, "AWSLogs"), format="parquet", partitioning="hive")
    t = d.to_table()
    nulls = {name: t.column(name).null_count for name in t.column_names}
    parts = {}
    for key in ["aws-account-id", "aws-service", "aws-region", "year", "month", "day", "hour"]:
        if key in t.column_names:
            parts[key] = sorted({str(v) for v in t.column(key).to_pylist()})
    names = [n for n in pq.ParquetFile(files[0]).schema_arrow.names]
    return {"rows": t.num_rows, "files": len(files), "columns": names, "types": types, "nulls": nulls, "partitions": parts}


def main():
    out = sys.argv[1]
    res = {"vpc": dataset_info(out), "tgw": dataset_info(os.path.join(out, "transit-gateway"))}
    if res["vpc"]:
        con = duckdb.connect()
        con.execute(
            f"CREATE VIEW r AS SELECT * FROM read_parquet('{out}/AWSLogs/**/*.parquet', hive_partitioning=false) WHERE action = 'REJECT'"
        )
        res["interfaces"] = [
            {"interface_id": k, "records": n}
            for k, n in con.execute(
                "SELECT coalesce(interface_id, '-') k, count(*) n FROM r GROUP BY k ORDER BY n DESC, k LIMIT 10"
            ).fetchall()
        ]
        res["ports"] = [
            {"port": p, "protocol": pr, "records": n}
            for p, pr, n in con.execute(
                "SELECT dstport, protocol, count(*) n FROM r GROUP BY ALL ORDER BY n DESC, dstport NULLS FIRST, protocol NULLS FIRST LIMIT 10"
            ).fetchall()
        ]
        res["rejects"] = con.execute("SELECT count(*) FROM r").fetchone()[0]
    json.dump(res, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
