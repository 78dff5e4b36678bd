#!/usr/bin/env python3
"""Runs one SQL query with DuckDB over flow log files (view `flows`, header-driven,
'-' as NULL) and prints the rows as a JSON list of lists. Helper functions:
net(addr, p4, p6) -> 'a.b.c.0/24' text, net_order(addr, p4, p6) -> sort key
(IPv4 before IPv6, numeric), in_net(addr, cidr) -> bool.

Usage: duckdb_sql.py SQL FILE...
"""
import ipaddress
import json
import sys

import duckdb

TYPES = {"version": "INTEGER", "srcport": "INTEGER", "dstport": "INTEGER", "protocol": "INTEGER",
         "packets": "BIGINT", "bytes": "BIGINT", "start": "BIGINT", "end": "BIGINT"}


def main():
    sql, files = sys.argv[1], sys.argv[2:]
    con = duckdb.connect()

    def net(addr, p4, p6):
        if addr is None:
            return None
        ip = ipaddress.ip_address(addr)
        return str(ipaddress.ip_network(f"{addr}/{p4 if ip.version == 4 else p6}", strict=False))

    def net_order(addr, p4, p6):
        if addr is None:
            return ""
        n = ipaddress.ip_network(net(addr, p4, p6))
        return f"{n.version}:{int(n.network_address):040d}"

    def in_net(addr, cidr):
        return addr is not None and ipaddress.ip_address(addr) in ipaddress.ip_network(cidr)

    con.create_function("net", net, ["VARCHAR", "INTEGER", "INTEGER"], "VARCHAR", null_handling="special")
    con.create_function("net_order", net_order, ["VARCHAR", "INTEGER", "INTEGER"], "VARCHAR", null_handling="special")
    con.create_function("in_net", in_net, ["VARCHAR", "VARCHAR"], "BOOLEAN", null_handling="special")
    names = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    types = ", ".join(f"'{k}': '{v}'" for k, v in TYPES.items())
    con.execute(f"CREATE VIEW flows AS SELECT * FROM read_csv([{names}], delim=' ', header=true, nullstr='-', types={{{types}}}, union_by_name=true)")
    rows = con.execute(sql).fetchall()
    json.dump([[v if not hasattr(v, "isoformat") else v.isoformat() for v in r] for r in rows], sys.stdout)


if __name__ == "__main__":
    main()
