#!/usr/bin/env python3
"""REJECT hotspots with DuckDB (peer for benches/compare.sh).

Usage: duckdb_rejects.py [--top N] [--threads N] [--sniff] INPUT...

INPUT is a file (plain or .gz) or a glob (`DIR/**/*.log.gz`). Reads the files as
space-delimited text with a header (delim ' ', header, nullstr '-', as
tests/reference/duckdb_rejects.py does), keeps REJECT records and prints, as
JSON, the top N of three groupings by record count, ties by key ascending
(flowscan's order):

  {"interfaces": [["eni-...", n], ...], "ports": [["22/6", n], ...],
   "sources": [["203.0.113.0/24", n], ...]}

Columns: by default the names come from the first file's header line and the
types from the VPC field table (no sniffing; every file must share that header).
With --sniff, DuckDB's sniffer runs with `types` for the query's integer columns
and `union_by_name` (the reference script's way: reads every file's header,
much slower on a tree of many files).

With --full, the whole report `flowscan rejects` prints, on equal work: four
tables (interfaces, ports, source networks and destination addresses), each row
[key, records, packets, bytes, distinct peers, first start, last end] (distinct
sources; distinct destinations for networks), plus the totals [records,
accepts, rejects, nodata, skipdata, first start, last end] of every record.

Everything is SQL (no Python UDF): source networks are computed on the distinct
source addresses with string functions, IPv4 masked to /24 and IPv6 to /64, and
printed as canonical RFC 5952 text (as flowscan prints them).
"""
import argparse
import json
import sys

import duckdb

from common import INTS, emit, expand, header

SQL_TYPES = {"int32": "INTEGER", "int64": "BIGINT"}

# Hextet i of an IPv6 address split at "::" into lists l and r, as a number.
HX = r"""
CREATE MACRO hx(l, r, i) AS
    ('0x' || CASE WHEN i <= len(l) THEN l[i]
                  WHEN i > 8 - len(r) THEN r[i - 8 + len(r)]
                  ELSE '0' END)::UBIGINT;
"""

SQL = HX + r"""
CREATE TEMP TABLE rej AS
SELECT "interface-id" AS eni, dstport, protocol, srcaddr
FROM read_csv({files}, delim = ' ', header = true, nullstr = '-', {schema})
WHERE action = 'REJECT';
"""

IFACES = """
SELECT coalesce(eni, '-') AS k, count(*) AS n FROM rej
GROUP BY k ORDER BY n DESC, k ASC LIMIT {top}
"""

PORTS = """
SELECT coalesce(dstport::VARCHAR, '-') || '/' || coalesce(protocol::VARCHAR, '-') AS k,
       count(*) AS n
FROM rej GROUP BY dstport, protocol
ORDER BY n DESC, dstport ASC NULLS FIRST, protocol ASC NULLS FIRST LIMIT {top}
"""

# fam: 1 IPv4, 2 IPv6, 3 no address (flowscan's order); key: the masked network
# as an integer (IPv4: 32 bits, IPv6: the upper 64 bits). KEYS: CTEs p and k,
# from a CTE `a` with a column s (the address), k adding fam and key to a's
# columns. LABEL: the network's text, from a relation with fam, key and h1-h4.
KEYS = r"""
p AS (
    SELECT *,
           CASE WHEN s IS NULL THEN 3 WHEN contains(s, ':') THEN 2 ELSE 1 END AS fam,
           CASE WHEN contains(s, '::') THEN split_part(s, '::', 1) ELSE s END AS lt,
           CASE WHEN contains(s, '::') THEN split_part(s, '::', 2) ELSE '' END AS rt,
           CASE WHEN lt = '' THEN []::VARCHAR[] ELSE string_split(lt, ':') END AS l,
           CASE WHEN rt = '' THEN []::VARCHAR[] ELSE string_split(rt, ':') END AS r
    FROM a),
k AS (
    SELECT * EXCLUDE (lt, rt, l, r),
           CASE fam
             WHEN 1 THEN (split_part(s, '.', 1)::UBIGINT << 24)
                       | (split_part(s, '.', 2)::UBIGINT << 16)
                       | (split_part(s, '.', 3)::UBIGINT << 8)
             WHEN 2 THEN (hx(l, r, 1) << 48) | (hx(l, r, 2) << 32) | (hx(l, r, 3) << 16) | hx(l, r, 4)
             ELSE 0::UBIGINT END AS key
    FROM p)"""

LABEL = r"""CASE fam
         WHEN 1 THEN format('{{}}.{{}}.{{}}.0/24', key >> 24, (key >> 16) & 255, (key >> 8) & 255)
         WHEN 2 THEN (CASE WHEN h4 <> 0 THEN printf('%x:%x:%x:%x::', h1, h2, h3, h4)
                           WHEN h3 <> 0 THEN printf('%x:%x:%x::', h1, h2, h3)
                           WHEN h2 <> 0 THEN printf('%x:%x::', h1, h2)
                           WHEN h1 <> 0 THEN printf('%x::', h1)
                           ELSE '::' END) || '/64'
         ELSE '-' END"""

HEXTETS = """(SELECT *, key >> 48 AS h1, (key >> 32) & 65535 AS h2, (key >> 16) & 65535 AS h3,
             key & 65535 AS h4 FROM g)"""

SOURCES = r"""
WITH a AS (SELECT srcaddr AS s, count(*) AS n FROM rej GROUP BY srcaddr),
""" + KEYS + r""",
g AS (SELECT fam, key, sum(n) AS n FROM k GROUP BY fam, key
      ORDER BY n DESC, fam ASC, key ASC LIMIT {top})
SELECT """ + LABEL + """ AS k, n
FROM """ + HEXTETS + """
ORDER BY n DESC, fam ASC, key ASC
"""


# --full: the rows of every table; the REJECT table is kept with every column the
# report reads, and the totals come from the same scan (one pass over the text).
FULL_SCAN = HX + r"""
CREATE TEMP TABLE f AS
SELECT action, "log-status" AS st, start, "end" AS e,
       CASE WHEN action = 'REJECT' THEN "interface-id" END AS eni,
       CASE WHEN action = 'REJECT' THEN srcaddr END AS srcaddr,
       CASE WHEN action = 'REJECT' THEN dstaddr END AS dstaddr,
       CASE WHEN action = 'REJECT' THEN dstport END AS dstport,
       CASE WHEN action = 'REJECT' THEN protocol END AS protocol,
       CASE WHEN action = 'REJECT' THEN packets END AS packets,
       CASE WHEN action = 'REJECT' THEN bytes END AS bytes
FROM read_csv({files}, delim = ' ', header = true, nullstr = '-', {schema});

CREATE TEMP TABLE rej AS SELECT * FROM f WHERE action = 'REJECT';
"""

TOTALS = """
SELECT count(*), count(*) FILTER (action = 'ACCEPT'), count(*) FILTER (action = 'REJECT'),
       count(*) FILTER (st = 'NODATA'), count(*) FILTER (st = 'SKIPDATA'), min(start), max(e)
FROM f
"""

STATS = "count(*) AS n, coalesce(sum(packets), 0), coalesce(sum(bytes), 0)"

FULL_IFACES = """
SELECT coalesce(eni, '-') AS k, {stats}, count(DISTINCT srcaddr), min(start), max(e)
FROM rej GROUP BY k ORDER BY n DESC, k ASC LIMIT {top}
"""

FULL_PORTS = """
SELECT coalesce(dstport::VARCHAR, '-') || '/' || coalesce(protocol::VARCHAR, '-') AS k,
       {stats}, count(DISTINCT srcaddr), min(start), max(e)
FROM rej GROUP BY dstport, protocol
ORDER BY n DESC, dstport ASC NULLS FIRST, protocol ASC NULLS FIRST LIMIT {top}
"""

# The network of every distinct source address (as SOURCES computes it), joined
# back to the rows for their sums and distinct destinations.
FULL_SOURCES = r"""
WITH a AS (SELECT DISTINCT srcaddr AS s FROM rej),
""" + KEYS + r""",
g AS (SELECT fam, key, {stats}, count(DISTINCT dstaddr) AS d, min(start) AS f, max(e) AS l
      FROM rej JOIN k ON rej.srcaddr IS NOT DISTINCT FROM k.s
      GROUP BY fam, key ORDER BY n DESC, fam ASC, key ASC LIMIT {top})
SELECT """ + LABEL + """ AS k, * EXCLUDE (fam, key, h1, h2, h3, h4)
FROM """ + HEXTETS + """
ORDER BY n DESC, fam ASC, key ASC
"""

# Ties are ordered by text here and by address in flowscan: the check allows it.
FULL_DSTS = """
SELECT coalesce(dstaddr, '-') AS k, {stats}, count(DISTINCT srcaddr), min(start), max(e)
FROM rej GROUP BY k ORDER BY n DESC, k ASC LIMIT {top}
"""


def full(con, files, schema, top):
    """Every table of the report, and the totals."""
    con.execute(FULL_SCAN.format(files=files, schema=schema))
    out = {"totals": [int(v) if v is not None else None for v in con.execute(TOTALS).fetchone()]}
    for name, q in (("interfaces", FULL_IFACES), ("ports", FULL_PORTS),
                    ("sources", FULL_SOURCES), ("destinations", FULL_DSTS)):
        rows = con.execute(q.format(stats=STATS, top=top)).fetchall()
        out[name] = [[str(r[0])] + [int(v) if v is not None else None for v in r[1:]]
                     for r in rows]
    json.dump(out, sys.stdout)
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0, help="0: DuckDB's default (all cores)")
    ap.add_argument("--sniff", action="store_true",
                    help="let DuckDB sniff every file (union_by_name) instead of the first header")
    ap.add_argument("--full", action="store_true",
                    help="the whole report, on equal work with flowscan rejects")
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()

    con = duckdb.connect()
    if a.threads:
        con.execute(f"SET threads = {a.threads}")
    files = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in a.inputs) + "]"
    if a.sniff:
        schema = ("types = {'dstport': 'INTEGER', 'protocol': 'INTEGER'}, "
                  "auto_detect = true, union_by_name = true")
    else:
        cols = header(expand(a.inputs)[0])
        schema = "auto_detect = false, columns = {" + ", ".join(
            f"'{c}': '{SQL_TYPES.get(INTS.get(c), 'VARCHAR')}'" for c in cols) + "}"
    if a.full:
        return full(con, files, schema, a.top)
    con.execute(SQL.format(files=files, schema=schema))
    emit({name: con.execute(q.format(top=a.top)).fetchall()
          for name, q in (("interfaces", IFACES), ("ports", PORTS), ("sources", SOURCES))})


if __name__ == "__main__":
    main()
