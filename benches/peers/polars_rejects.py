#!/usr/bin/env python3
"""REJECT hotspots with polars (peer for benches/compare.sh).

Usage: polars_rejects.py [--top N] INPUT...

INPUT is a file (plain or .gz) or a glob (`DIR/**/*.log.gz`). One lazy
`scan_csv` over all inputs (separator ' ', null '-', schema from the first
file's header line and the VPC field table, so every file must share that
header), filtered to REJECT and projected to the four columns the query reads,
collected once; then three group-bys. Prints the same JSON as
duckdb_rejects.py: the top N per grouping by record count, ties by key
ascending (flowscan's order). Source networks (IPv4 /24, IPv6 /64 in canonical
RFC 5952 text) are computed with polars string expressions on the distinct
source addresses. The thread count is polars' own (POLARS_MAX_THREADS).
"""
import argparse

import polars as pl

from common import INTS, emit, expand, header

PL_TYPES = {"int32": pl.Int32, "int64": pl.Int64}


def hextet(lt, rt, n_l, n_r, i):
    """Hextet i (0..3) of an IPv6 address split at '::' into lt and rt
    (n_l, n_r hextets), as (normalized text, integer)."""
    h = (
        pl.when(i < n_l).then(lt.str.split(":").list.get(i, null_on_oob=True))
        .when(i >= 8 - n_r).then(rt.str.split(":").list.get(i - (8 - n_r), null_on_oob=True))
        .otherwise(pl.lit("0"))
    )
    text = h.str.to_lowercase().str.strip_chars_start("0")
    text = pl.when(text == "").then(pl.lit("0")).otherwise(text)
    return text, h.str.to_integer(base=16).cast(pl.UInt64)


def networks(addrs):
    """addrs: (srcaddr, n) per distinct address -> (net, fam, key, n) per network."""
    s = pl.col("srcaddr")
    v6 = s.str.contains(":", literal=True)
    dc = s.str.contains("::", literal=True)
    lt = pl.when(dc).then(s.str.split("::").list.first()).otherwise(s)
    rt = pl.when(dc).then(s.str.split("::").list.last()).otherwise(pl.lit(""))
    n_l = pl.when(lt == "").then(0).otherwise(lt.str.count_matches(":", literal=True) + 1)
    n_r = pl.when(rt == "").then(0).otherwise(rt.str.count_matches(":", literal=True) + 1)
    hs = [hextet(lt, rt, n_l, n_r, i) for i in range(4)]
    key6 = hs[0][1] * (1 << 48) + hs[1][1] * (1 << 32) + hs[2][1] * (1 << 16) + hs[3][1]
    t = [h[0] for h in hs]
    text6 = (
        pl.when(t[3] != "0").then(pl.concat_str([t[0], t[1], t[2], t[3]], separator=":") + "::")
        .when(t[2] != "0").then(pl.concat_str([t[0], t[1], t[2]], separator=":") + "::")
        .when(t[1] != "0").then(pl.concat_str([t[0], t[1]], separator=":") + "::")
        .when(t[0] != "0").then(t[0] + "::")
        .otherwise(pl.lit("::"))
        + "/64"
    )
    o = s.str.split(".")
    octets = [o.list.get(i, null_on_oob=True).cast(pl.UInt64) for i in range(3)]
    key4 = octets[0] * (1 << 24) + octets[1] * (1 << 16) + octets[2] * (1 << 8)
    text4 = pl.concat_str([o.list.get(0), o.list.get(1), o.list.get(2)], separator=".") + ".0/24"
    return addrs.select(
        pl.when(s.is_null()).then(pl.lit("-")).when(v6).then(text6).otherwise(text4).alias("net"),
        pl.when(s.is_null()).then(3).when(v6).then(2).otherwise(1).alias("fam"),
        pl.when(s.is_null()).then(pl.lit(0, pl.UInt64)).when(v6).then(key6).otherwise(key4).alias("key"),
        pl.col("n"),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()

    files = expand(a.inputs)
    cols = header(files[0])
    schema = {c: PL_TYPES.get(INTS.get(c), pl.String) for c in cols}
    rej = (
        pl.scan_csv(files, separator=" ", has_header=True, null_values="-", schema=schema)
        .filter(pl.col("action") == "REJECT")
        .select("interface-id", "dstport", "protocol", "srcaddr")
        .collect()
    )
    n = pl.len().alias("n")
    ifaces = (
        rej.group_by(pl.col("interface-id").fill_null("-").alias("k")).agg(n)
        .sort(["n", "k"], descending=[True, False]).head(a.top)
    )
    ports = (
        rej.group_by("dstport", "protocol").agg(n)
        .sort(["n", "dstport", "protocol"], descending=[True, False, False], nulls_last=False)
        .head(a.top)
        .select(pl.concat_str([pl.col("dstport").cast(pl.String).fill_null("-"),
                               pl.col("protocol").cast(pl.String).fill_null("-")],
                              separator="/").alias("k"), "n")
    )
    sources = (
        networks(rej.group_by("srcaddr").agg(n))
        .group_by("fam", "key").agg(pl.col("net").first(), pl.col("n").sum())
        .sort(["n", "fam", "key"], descending=[True, False, False]).head(a.top)
    )
    emit({
        "interfaces": ifaces.select("k", "n").rows(),
        "ports": ports.rows(),
        "sources": sources.select("net", "n").rows(),
    })


if __name__ == "__main__":
    main()
