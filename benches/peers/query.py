#!/usr/bin/env python3
"""`top` and `filter` with DuckDB, polars, chDB or DataFusion (peers for
benches/compare.sh's workloads of those names).

Usage: query.py ENGINE top [--top N] INPUT...
       query.py ENGINE filter INPUT...

ENGINE is duckdb, polars, chdb or datafusion; INPUT a file (plain or .gz) or a
glob (`DIR/**/*.gz`), read as each engine's REJECT-hotspots peer reads it
(*_rejects.py: space-delimited text with a header, '-' as null, the columns of
the first file's header line).

top     flowscan top --by interface-id,dstport --top N: records per
        (interface-id, dstport) over every record, the top N by count, ties by
        key ascending (a missing port first), printed as JSON
        {"rows": [["eni-...", "22", n], ...]} (a missing value as "-").
filter  flowscan filter --where 'action = REJECT and dstport = 22': the matching
        records as space-separated text with one header line, on standard output.
"""
import argparse
import json
import os
import sys

from common import INTS, expand, header

TOP_SQL = """
SELECT {eni} AS eni, {port} AS port, count(*) AS n FROM {src}
GROUP BY 1, 2 ORDER BY n DESC, eni ASC NULLS FIRST, port ASC NULLS FIRST LIMIT {top}
"""


def emit_top(rows):
    dash = lambda v: "-" if v is None else str(v)  # noqa: E731
    json.dump({"rows": [[dash(e), dash(p), int(n)] for e, p, n in rows]}, sys.stdout)
    print()


def duckdb_run(a, cols):
    import duckdb
    con = duckdb.connect()
    types = {"int32": "INTEGER", "int64": "BIGINT"}
    files = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in a.inputs) + "]"
    schema = ", ".join(f"'{c}': '{types.get(INTS.get(c), 'VARCHAR')}'" for c in cols)
    src = (f"read_csv({files}, delim = ' ', header = true, nullstr = '-', "
           f"auto_detect = false, columns = {{{schema}}})")
    if a.workload == "top":
        sql = TOP_SQL.format(eni='"interface-id"', port="dstport", src=src, top=a.top)
        emit_top(con.execute(sql).fetchall())
    else:
        sys.stdout.flush()
        con.execute(f"COPY (SELECT * FROM {src} WHERE action = 'REJECT' AND dstport = 22) "
                    "TO '/dev/stdout' (FORMAT csv, DELIMITER ' ', HEADER, NULLSTR '-', QUOTE '')")


def polars_run(a, cols):
    import polars as pl
    types = {"int32": pl.Int32, "int64": pl.Int64}
    files = expand(a.inputs)
    lf = pl.scan_csv(files, separator=" ", has_header=True, null_values="-",
                     schema={c: types.get(INTS.get(c), pl.String) for c in cols})
    if a.workload == "top":
        rows = (lf.group_by("interface-id", "dstport").agg(pl.len().alias("n"))
                .sort(["n", "interface-id", "dstport"], descending=[True, False, False],
                      nulls_last=False)
                .head(a.top).collect().rows())
        emit_top(rows)
    else:
        df = lf.filter((pl.col("action") == "REJECT") & (pl.col("dstport") == 22)).collect()
        df.write_csv(sys.stdout.buffer, separator=" ", null_value="-", quote_style="never")


def chdb_run(a, cols):
    from chdb import session
    types = {"int32": "Int32", "int64": "Int64"}
    structure = ", ".join(f"`{c}` Nullable({types.get(INTS.get(c), 'String')})" for c in cols)
    paths = [os.path.abspath(i) for i in a.inputs]
    path = paths[0] if len(paths) == 1 else "{" + ",".join(paths) + "}"
    q = lambda s: "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"  # noqa: E731
    src = f"file({q(path)}, 'CustomSeparatedWithNames', {q(structure)})"
    settings = (" SETTINGS format_custom_field_delimiter = ' ', format_custom_escaping_rule = 'CSV',"
                " format_csv_null_representation = '-'")
    sess = session.Session()
    try:
        if a.workload == "top":
            sql = TOP_SQL.format(eni="`interface-id`", port="dstport", src=src, top=a.top)
            emit_top(json.loads(sess.query(sql + settings, "JSONCompact").bytes())["data"])
        else:
            sql = f"SELECT * FROM {src} WHERE action = 'REJECT' AND dstport = 22"
            sys.stdout.buffer.write(sess.query(sql + settings, "CustomSeparatedWithNames").bytes())
    finally:
        sess.close()


def datafusion_run(a, cols):
    from datafusion import SessionConfig, SessionContext
    from datafusion.options import CsvReadOptions
    import pyarrow as pa
    import pyarrow.csv as pacsv
    with open(expand(a.inputs)[0], "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    config = SessionConfig().set("datafusion.execution.listing_table_ignore_subdirectory", "false")
    ctx = SessionContext(config)
    # Every column as text: DataFusion 55 does not apply null_regex when reading
    # (see datafusion_rejects.py), so '-' stays text and ports compare as text.
    options = CsvReadOptions(has_header=True, delimiter=" ", file_extension="",
                             schema=pa.schema([(c, pa.string()) for c in cols]),
                             file_compression_type="gzip" if gz else "")
    ctx.register_csv("flows", a.inputs[0] if len(a.inputs) == 1 else a.inputs, options=options)
    if a.workload == "top":
        sql = TOP_SQL.format(eni="NULLIF(\"interface-id\", '-')",
                             port="CAST(NULLIF(dstport, '-') AS INT)", src="flows", top=a.top)
        tbl = ctx.sql(sql).to_arrow_table()
        emit_top(list(zip(*(c.to_pylist() for c in tbl.columns))))
    else:
        tbl = ctx.sql("SELECT * FROM flows WHERE action = 'REJECT' AND dstport = '22'").to_arrow_table()
        opts = pacsv.WriteOptions(delimiter=" ", quoting_style="none")
        pacsv.write_csv(tbl, sys.stdout.buffer, write_options=opts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("engine", choices=["duckdb", "polars", "chdb", "datafusion"])
    ap.add_argument("workload", choices=["top", "filter"])
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()
    cols = header(expand(a.inputs)[0])
    globals()[a.engine + "_run"](a, cols)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
