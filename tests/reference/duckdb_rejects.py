#!/usr/bin/env python3
"""The REJECT hotspot query, answered by DuckDB: an independent engine that
flowscan's `rejects --format json` must agree with exactly.

Usage: duckdb_rejects.py [--top N] [--prefix4 P] [--prefix6 P] FILE_OR_GLOB...

Files are space-delimited flow logs with a header line (plain or .gz). Prints a
JSON document with the same keys as flowscan's report (totals, interfaces, ports,
sources); the Rust integration test compares the two.
"""
import argparse
import datetime
import ipaddress
import json
import sys

import duckdb

TYPES = {
    "version": "INTEGER",
    "srcport": "INTEGER",
    "dstport": "INTEGER",
    "protocol": "INTEGER",
    "packets": "BIGINT",
    "bytes": "BIGINT",
    "start": "BIGINT",
    "end": "BIGINT",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--prefix4", type=int, default=24)
    ap.add_argument("--prefix6", type=int, default=64)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()

    con = duckdb.connect()

    def net(addr):
        if addr is None:
            return None
        ip = ipaddress.ip_address(addr)
        p = a.prefix4 if ip.version == 4 else a.prefix6
        return str(ipaddress.ip_network(f"{addr}/{p}", strict=False))

    def net_order(addr):
        # flowscan orders networks IPv4 first, then IPv6, numerically; no address last.
        if addr is None:
            return "9"
        n = ipaddress.ip_network(net(addr))
        return f"{n.version}:{int(n.network_address):040d}"

    con.create_function("net", net, ["VARCHAR"], "VARCHAR", null_handling="special")
    con.create_function("net_order", net_order, ["VARCHAR"], "VARCHAR", null_handling="special")

    files = ", ".join("'" + f.replace("'", "''") + "'" for f in a.files)
    types = ", ".join(f"'{k}': '{v}'" for k, v in TYPES.items())
    con.execute(
        f"""CREATE VIEW flows AS SELECT * FROM read_csv([{files}], delim=' ', header=true,
            nullstr='-', types={{{types}}}, all_varchar=false, auto_detect=true,
            union_by_name=true)"""
    )
    con.execute("CREATE VIEW r AS SELECT * FROM flows WHERE action = 'REJECT'")

    def t(secs):
        if secs is None:
            return None
        return datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    tot = con.execute(
        """SELECT count(*), count(*) FILTER (action = 'ACCEPT'), count(*) FILTER (action = 'REJECT'),
                  count(*) FILTER ("log-status" = 'NODATA'), count(*) FILTER ("log-status" = 'SKIPDATA'),
                  min(start), max("end") FROM flows"""
    ).fetchone()
    out = {
        "records": tot[0],
        "accepts": tot[1],
        "rejects": tot[2],
        "nodata": tot[3],
        "skipdata": tot[4],
        "first_start": t(tot[5]),
        "last_end": t(tot[6]),
    }

    stats = """count(*) AS records, coalesce(sum(packets), 0), coalesce(sum(bytes), 0),
               min(start), max("end")"""

    def row(stats_tuple):
        rec, pk, by, first, last = stats_tuple
        return {"records": rec, "packets": int(pk), "bytes": int(by), "first_seen": t(first), "last_seen": t(last)}

    out["interfaces"] = [
        {"interface_id": k, "distinct_sources": d, **row(rest)}
        for k, d, *rest in con.execute(
            f"""SELECT coalesce("interface-id", '-') AS k, count(DISTINCT srcaddr), {stats}
                FROM r GROUP BY k ORDER BY records DESC, k ASC LIMIT {a.top}"""
        ).fetchall()
    ]
    out["ports"] = [
        {"port": p, "protocol": pr, "distinct_sources": d, **row(rest)}
        for p, pr, d, *rest in con.execute(
            f"""SELECT dstport, protocol, count(DISTINCT srcaddr), {stats}
                FROM r GROUP BY dstport, protocol
                ORDER BY records DESC, dstport ASC NULLS FIRST, protocol ASC NULLS FIRST LIMIT {a.top}"""
        ).fetchall()
    ]
    out["sources"] = [
        {"cidr": c if c is not None else "-", "distinct_destinations": d, **row(rest)}
        for c, _, d, *rest in con.execute(
            f"""SELECT net(srcaddr) AS c, net_order(srcaddr) AS o, count(DISTINCT dstaddr), {stats}
                FROM r GROUP BY c, o ORDER BY records DESC, o ASC LIMIT {a.top}"""
        ).fetchall()
    ]
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
