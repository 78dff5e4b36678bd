#!/usr/bin/env python3
"""REJECT hotspots with chDB, ClickHouse in process (peer for benches/compare.sh).

Usage: chdb_rejects.py [--top N] [--threads N] INPUT...

INPUT is a file (plain or .gz) or a glob (`DIR/**/*.gz`), handed to ClickHouse's
`file()` table function as it is (ClickHouse expands the glob, `**` included,
and inflates by the `.gz` extension). The files are read as
`CustomSeparatedWithNames` with `format_custom_field_delimiter=' '`,
`format_custom_escaping_rule='CSV'` and `format_csv_null_representation='-'`;
the structure (column names) comes from the first file's header line and the
types from the VPC field table, every column Nullable (no schema inference; every
file must share that header). REJECT records (four columns) go to a Memory
table once; three queries then print, as JSON, the top N of three groupings by
record count, ties by key ascending (flowscan's order), the same JSON as
duckdb_rejects.py.

Everything is SQL (no Python UDF): source networks are computed on the distinct
source addresses, parsed with IPv6StringToNum (an IPv4-mapped IPv6 address
counts as IPv4, as in flowscan), IPv4 masked to /24, IPv6 keeping the upper 8
bytes (/64); IPv4NumToString and IPv6NumToString print them, the latter the
masked address in canonical RFC 5952 text (lowercase, the longest zero run
compressed, which for a /64 is always the zero tail), as flowscan does.
"""
import argparse
import json
import os

from chdb import session

from common import INTS, emit, expand, header

SQL_TYPES = {"int32": "Int32", "int64": "Int64"}

SETTINGS = """
SETTINGS format_custom_field_delimiter = ' ', format_custom_escaping_rule = 'CSV',
         format_csv_null_representation = '-'{threads}
"""

LOAD = """
CREATE TABLE rej ENGINE = Memory AS
SELECT `interface-id` AS eni, dstport, protocol, srcaddr
FROM file({src}, 'CustomSeparatedWithNames', {structure})
WHERE action = 'REJECT'
"""

IFACES = """
SELECT ifNull(eni, '-') AS k, count() AS n FROM rej
GROUP BY k ORDER BY n DESC, k ASC LIMIT {top}
"""

PORTS = """
SELECT concat(ifNull(toString(dstport), '-'), '/', ifNull(toString(protocol), '-')) AS k,
       count() AS n
FROM rej GROUP BY dstport, protocol
ORDER BY n DESC, dstport ASC NULLS FIRST, protocol ASC NULLS FIRST LIMIT {top}
"""

# fam: 1 IPv4, 2 IPv6, 3 no address (flowscan's order). IPv6StringToNum parses
# both families (IPv4 text becomes ::ffff:a.b.c.d); an IPv4-mapped address is
# IPv4, as flowscan takes it. k4: the /24 network as an integer; k6: the upper 8
# bytes of an IPv6 address (network order, so ordered as bytes = as a number).
SOURCES = """
WITH a AS (SELECT srcaddr AS s, count() AS n FROM rej GROUP BY srcaddr),
b AS (SELECT n, s IS NULL AS none, IPv6StringToNumOrDefault(ifNull(s, '')) AS v6 FROM a),
k AS (
    SELECT n,
           multiIf(none, 3, substring(v6, 1, 12) = unhex('00000000000000000000FFFF'), 1, 2) AS fam,
           if(fam = 1, bitAnd(reinterpretAsUInt32(reverse(substring(v6, 13, 4))), 0xFFFFFF00), 0) AS k4,
           if(fam = 2, substring(v6, 1, 8), '') AS k6
    FROM b)
SELECT multiIf(fam = 1, concat(IPv4NumToString(toUInt32(k4)), '/24'),
               fam = 2, concat(IPv6NumToString(toFixedString(concat(k6, repeat('\\0', 8)), 16)),
                               '/64'),
               '-') AS net,
       n
FROM (SELECT fam, k4, k6, sum(n) AS n FROM k GROUP BY fam, k4, k6)
ORDER BY n DESC, fam ASC, k4 ASC, k6 ASC LIMIT {top}
"""


def quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0, help="0: ClickHouse's default (all cores)")
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()

    cols = header(expand(a.inputs)[0])
    structure = ", ".join(
        f"`{c}` Nullable({SQL_TYPES.get(INTS.get(c), 'String')})" for c in cols)
    # file() takes one path or glob (absolute: a relative one is taken from
    # ClickHouse's user_files_path); several inputs become one {a,b,...} alternation.
    paths = [os.path.abspath(i) for i in a.inputs]
    src = paths[0] if len(paths) == 1 else "{" + ",".join(paths) + "}"
    settings = SETTINGS.format(threads=f", max_threads = {a.threads}" if a.threads else "")

    sess = session.Session()
    try:
        sess.query(LOAD.format(src=quote(src), structure=quote(structure)) + settings)
        out = {}
        for name, q in (("interfaces", IFACES), ("ports", PORTS), ("sources", SOURCES)):
            res = sess.query(q.format(top=a.top) + settings, "JSONCompact")
            out[name] = json.loads(res.bytes())["data"]
    finally:
        sess.close()
    emit(out)


if __name__ == "__main__":
    main()
