#!/usr/bin/env python3
"""REJECT hotspots with Apache DataFusion (peer for benches/compare.sh).

Usage: datafusion_rejects.py [--top N] [--threads N] INPUT...

INPUT is a file (plain or .gz), a directory (every file below it) or a glob
(`DIR/**/*.gz`), handed to DataFusion's listing table as it is (DataFusion
lists the directory or expands the glob itself;
`datafusion.execution.listing_table_ignore_subdirectory=false` makes it walk
subdirectories). The files are read as CSV with delimiter ' ' and has_header,
gzip-compressed if the first file is (all inputs must then be), columns named
after the first file's header line (every file must share it).

Every column is read as text and the query's integer columns are cast in SQL
after NULLIF(x, '-'): DataFusion 55 ignores the CSV `null_regex` option when
reading (it applies it only to schema inference), so a '-' in a column typed as
an integer fails the read (apache/datafusion#25213).

REJECT records (four columns) go to a memory table once (the source networks'
steps to more, small ones); three queries then
print, as JSON, the top N of three groupings by record count, ties by key
ascending (flowscan's order), the same JSON as duckdb_rejects.py. Everything is
SQL (no Python UDF): source networks are computed on the distinct source
addresses with string functions (DataFusion has no IP address functions), IPv4
octets cast to integers for /24, IPv6 expanded around '::' to eight hextets
(an IPv4 tail rewritten with to_hex; an IPv4-mapped address counts as IPv4, as in
flowscan), the first four giving the /64, printed as canonical RFC 5952 text as
flowscan prints them.
"""
import argparse
import os

from datafusion import SessionConfig, SessionContext
from datafusion.options import CsvReadOptions
import pyarrow as pa

from common import emit, expand, header

LOAD = """
CREATE TABLE rej AS
SELECT "interface-id" AS eni,
       CAST(NULLIF(dstport, '-') AS INT) AS dstport,
       CAST(NULLIF(protocol, '-') AS INT) AS protocol,
       NULLIF(srcaddr, '-') AS srcaddr
FROM flows WHERE action = 'REJECT'
"""

IFACES = """
SELECT eni AS k, count(*) AS n FROM rej
GROUP BY eni ORDER BY n DESC, k ASC LIMIT {top}
"""

PORTS = """
SELECT coalesce(CAST(dstport AS VARCHAR), '-') || '/' || coalesce(CAST(protocol AS VARCHAR), '-') AS k,
       n
FROM (SELECT dstport, protocol, count(*) AS n FROM rej GROUP BY dstport, protocol)
ORDER BY n DESC, dstport ASC NULLS FIRST, protocol ASC NULLS FIRST LIMIT {top}
"""


def hextet(i):
    """SQL for hextet i (1..8) of an IPv6 address split at '::' into lt and rt
    (nl, nr hextets), as written."""
    return (f"CASE WHEN {i} <= nl THEN split_part(lt, ':', {i}) "
            f"WHEN {i} > 8 - nr THEN split_part(rt, ':', greatest({i} - 8 + nr, 1)) "
            f"ELSE '0' END")


def hexval(h):
    """SQL for the value of a hextet's text (up to 4 lowercase hex digits)."""
    return " + ".join(
        f"(strpos('0123456789abcdef', substr(lpad({h}, 4, '0'), {j}, 1)) - 1) * {16 ** (4 - j)}"
        for j in range(1, 5))


def octets(x):
    """SQL for the four octets of dotted-quad text x, as integers (NULL if not)."""
    return [f"TRY_CAST(split_part({x}, '.', {k}) AS BIGINT)" for k in range(1, 5)]


O = octets("tail")
NORM = "CASE WHEN ltrim(h{0}, '0') = '' THEN '0' ELSE ltrim(h{0}, '0') END"

# Source networks, in steps: each step is a table of its own, because DataFusion
# inlines a CTE's (or a subquery's) expressions where they are used, and the
# nested IPv6 expressions below, written as one query, grew a logical plan of
# 600 KB that took seconds for 14,000 addresses.
#
# addrs: distinct source addresses; fam: 1 IPv4, 2 IPv6, 3 no address (flowscan's
# order). IPv6 (v6): lowercased, an IPv4 tail (a.b.c.d) rewritten as two hextets
# (x), split at '::' (lt, rt: nl, nr hextets), expanded to eight hextets hN; tN:
# hN without leading zeros ('0' if none left); k6: the /64 network as 16 hex digits
# (ordered as text = as a number). An IPv4-mapped address (::ffff:a.b.c.d,
# however written) is IPv4, as flowscan takes it. k4: a /24 network as an integer.
SOURCE_STEPS = [
    """CREATE TABLE addrs AS
       SELECT s, n, CASE WHEN s IS NULL THEN 3 WHEN strpos(s, ':') > 0 THEN 2 ELSE 1 END AS fam
       FROM (SELECT srcaddr AS s, count(*) AS n FROM rej GROUP BY srcaddr)""",
    f"""CREATE TABLE v6x AS
       SELECT n, CASE WHEN strpos(tail, '.') > 0
                      THEN left(s, length(s) - length(tail))
                           || to_hex({O[0]} * 256 + {O[1]}) || ':' || to_hex({O[2]} * 256 + {O[3]})
                      ELSE s END AS x
       FROM (SELECT n, lower(s) AS s, regexp_replace(lower(s), '^.*:', '') AS tail
             FROM addrs WHERE fam = 2)""",
    """CREATE TABLE v6split AS
       SELECT n, lt, rt,
              CASE WHEN lt = '' THEN 0 ELSE length(lt) - length(replace(lt, ':', '')) + 1 END AS nl,
              CASE WHEN rt = '' THEN 0 ELSE length(rt) - length(replace(rt, ':', '')) + 1 END AS nr
       FROM (SELECT n, CASE WHEN strpos(x, '::') > 0 THEN split_part(x, '::', 1) ELSE x END AS lt,
                       CASE WHEN strpos(x, '::') > 0 THEN split_part(x, '::', 2) ELSE '' END AS rt
             FROM v6x)""",
    f"""CREATE TABLE v6 AS
       SELECT n, {", ".join(f"{hextet(i)} AS h{i}" for i in range(1, 9))} FROM v6split""",
    f"""CREATE TABLE v6t AS
       SELECT n, lpad(h1, 4, '0') || lpad(h2, 4, '0') || lpad(h3, 4, '0') || lpad(h4, 4, '0') AS k6,
              {", ".join(f"{NORM.format(i)} AS t{i}" for i in range(1, 7))},
              {hexval("h7")} AS v7, {hexval("h8")} AS v8
       FROM v6""",
]

MAPPED = "t1 = '0' AND t2 = '0' AND t3 = '0' AND t4 = '0' AND t5 = '0' AND t6 = 'ffff'"

SOURCES = f"""
WITH nets AS (
    SELECT n, 2 AS fam, CAST(0 AS BIGINT) AS k4, k6,
           CASE WHEN t4 <> '0' THEN t1 || ':' || t2 || ':' || t3 || ':' || t4 || '::'
                WHEN t3 <> '0' THEN t1 || ':' || t2 || ':' || t3 || '::'
                WHEN t2 <> '0' THEN t1 || ':' || t2 || '::'
                WHEN t1 <> '0' THEN t1 || '::'
                ELSE '::' END || '/64' AS net
    FROM v6t WHERE NOT ({MAPPED})
    UNION ALL
    SELECT n, 1 AS fam, o1 * 65536 + o2 * 256 + o3 AS k4, '' AS k6,
           CAST(o1 AS VARCHAR) || '.' || CAST(o2 AS VARCHAR) || '.' || CAST(o3 AS VARCHAR) || '.0/24' AS net
    FROM (SELECT n, {", ".join(f"{o} AS o{k + 1}" for k, o in enumerate(octets("s")[:3]))}
          FROM addrs WHERE fam = 1
          UNION ALL
          SELECT n, CAST(v7 / 256 AS BIGINT) AS o1, CAST(v7 % 256 AS BIGINT) AS o2,
                 CAST(v8 / 256 AS BIGINT) AS o3
          FROM v6t WHERE {MAPPED})
    UNION ALL
    SELECT n, 3 AS fam, CAST(0 AS BIGINT) AS k4, '' AS k6, '-' AS net FROM addrs WHERE fam = 3)
SELECT net, sum(n) AS n FROM nets GROUP BY fam, k4, k6, net
ORDER BY n DESC, fam ASC, k4 ASC, k6 ASC LIMIT {{top}}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0,
                    help="target partitions; 0: DataFusion's default (all cores)")
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()

    # The first file, for the header and the compression: a directory's first file below it.
    first = []
    for i in a.inputs:
        if os.path.isdir(i):
            first += sorted(os.path.join(r, f) for r, _, fs in os.walk(i) for f in fs)
        else:
            first += expand([i])
        if first:
            break
    cols = header(first[0])
    with open(first[0], "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"

    config = SessionConfig().set("datafusion.execution.listing_table_ignore_subdirectory", "false")
    if a.threads:
        config = config.with_target_partitions(a.threads)
    ctx = SessionContext(config)
    options = CsvReadOptions(
        has_header=True, delimiter=" ",
        schema=pa.schema([(c, pa.string()) for c in cols]),
        # Files are chosen by the path or glob given, whatever their extension.
        file_extension="",
        file_compression_type="gzip" if gz else "",
    )
    ctx.register_csv("flows", a.inputs[0] if len(a.inputs) == 1 else a.inputs, options=options)
    ctx.sql(LOAD).collect()
    for step in SOURCE_STEPS:
        ctx.sql(step).collect()
    out = {}
    for name, q in (("interfaces", IFACES), ("ports", PORTS), ("sources", SOURCES)):
        tbl = ctx.sql(q.format(top=a.top)).to_arrow_table()
        out[name] = list(zip(*(c.to_pylist() for c in tbl.columns)))
    emit(out)


if __name__ == "__main__":
    main()
