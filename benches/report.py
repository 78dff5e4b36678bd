#!/usr/bin/env python3
"""Tables and answer checks for benches/compare.sh (not meant to be run by hand).

  report.py answers WORKLOAD DIR             compare the tools' answers, per input
                                             (rejects, top, filter, report)
  report.py table WORKLOAD RESULTS DIR       markdown table of times, ratios, peak RSS
                                             (and output MB when the tools wrote files)
  report.py speed WORKLOAD RESULTS DIR       flowscan records/s and MB/s (thread scaling
                                             for rejects)
  report.py export-check DIR RECORDS         read the export outputs back with DuckDB:
                                             rows = RECORDS, equal REJECT counts
  report.py median FILE                      median of the numbers in FILE (one a line)

RESULTS is a TSV written by compare.sh: workload, input, tool, median seconds,
peak RSS in KiB ("-" if unknown), status ("ok" or "failed"). DIR holds each
tool's answer (standard output) as <workload>.<input>.<tool>.out and, for
workloads that write files (export), its output folder <workload>.<input>.<tool>.d.
"""
import json
import os
import statistics
import sys

TOOLS = ["flowscan", "duckdb", "polars", "chdb", "datafusion", "mawk"]
NAMES = {"flowscan": "flowscan", "duckdb": "DuckDB", "polars": "polars", "chdb": "chDB",
         "datafusion": "DataFusion", "mawk": "mawk"}
INPUTS = ["plain", "gzip", "tree"]


def load_results(path):
    rows = {}
    with open(path) as f:
        for line in f:
            wl, inp, tool, med, rss, status = line.rstrip("\n").split("\t")
            rows[(wl, inp, tool)] = (float(med) if med != "-" else None,
                                     int(rss) if rss != "-" else None, status)
    return rows


# ---- workload "rejects" --------------------------------------------------------

def rejects_norm(tool, text):
    """A tool's answer as {"interfaces": [[key, records]], "ports": ..., "sources": ...}."""
    d = json.loads(text)
    if tool != "flowscan":
        return d
    dash = lambda v: "-" if v is None else str(v)  # noqa: E731
    return {
        "interfaces": [[r["interface_id"], r["records"]] for r in d["interfaces"]],
        "ports": [[f"{dash(r['port'])}/{dash(r['protocol'])}", r["records"]] for r in d["ports"]],
        "sources": [[r["cidr"], r["records"]] for r in d["sources"]],
    }


def rejects_diff(ref, got, tables=("interfaces", "ports", "sources")):
    """Differences between two normalized answers, as text lines (none if equal)."""
    out = []
    for table in tables:
        a = [tuple(x) for x in ref.get(table, [])]
        b = [tuple(x) for x in got.get(table, [])]
        if a == b:
            continue
        out.append(f"{table}: {len(a)} rows from flowscan, {len(b)} from the peer")
        for i in range(max(len(a), len(b))):
            x = a[i] if i < len(a) else None
            y = b[i] if i < len(b) else None
            if x != y:
                out.append(f"  #{i + 1}: flowscan {x}  peer {y}")
    return out


# ---- workloads "top" and "filter" -----------------------------------------------

def top_norm(tool, text):
    """A tool's answer as {"rows": [[interface, port, records], ...]} (text keys)."""
    if tool == "mawk":
        return {"rows": [[e, p, int(n)] for n, e, p in (line.split() for line in text.splitlines())]}
    d = json.loads(text)
    if tool != "flowscan":
        return d
    dash = lambda v: "-" if v is None else str(v)  # noqa: E731
    return {"rows": [[dash(r["key"][0]), dash(r["key"][1]), r["records"]] for r in d["rows"]]}


def top_diff(ref, got):
    return rejects_diff({"rows": ref["rows"]}, {"rows": got["rows"]}, tables=("rows",))


def filter_norm(_tool, text):
    """The records printed: their count and the SHA-256 of their sorted lines,
    with header lines and double quotes (chDB and pyarrow quote text) left out
    and runs of spaces made one."""
    import hashlib
    lines = sorted(" ".join(line.replace('"', "").split()) for line in text.splitlines()
                   if line.strip() and not line.replace('"', "").startswith("version "))
    return {"records": len(lines), "sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest()}


def filter_diff(ref, got):
    if ref == got:
        return []
    return [f"flowscan {ref['records']} records (sha256 {ref['sha256'][:16]}), "
            f"peer {got['records']} (sha256 {got['sha256'][:16]})"]


# ---- workload "report" -----------------------------------------------------------

REPORT_TABLES = ("interfaces", "ports", "sources", "destinations")


def report_norm(tool, text):
    """A tool's answer as {"totals": [...], table: [[key, records, packets, bytes,
    distinct, first start, last end], ...]}, times in epoch seconds."""
    d = json.loads(text)
    if tool != "flowscan":
        return d
    import datetime
    epoch = lambda t: None if t is None else int(  # noqa: E731
        datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp())
    dash = lambda v: "-" if v is None else str(v)  # noqa: E731
    keys = {"interfaces": lambda r: r["interface_id"],
            "ports": lambda r: f"{dash(r['port'])}/{dash(r['protocol'])}",
            "sources": lambda r: r["cidr"],
            "destinations": lambda r: r["destination"]}
    out = {"totals": [d["records"], d["accepts"], d["rejects"], d["nodata"], d["skipdata"],
                      epoch(d["first_start"]), epoch(d["last_end"])]}
    for t in REPORT_TABLES:
        out[t] = [[keys[t](r), r["records"], r["packets"], r["bytes"],
                   r.get("distinct_sources", r.get("distinct_destinations")),
                   epoch(r["first_seen"]), epoch(r["last_seen"])] for r in d[t]]
    return out


def report_diff(ref, got):
    """Equal totals; per table, the same records counts in the same order, and
    every key in both with the same row. A key in one only must be tied with
    the table's last row (ties are ordered differently)."""
    out = []
    if ref["totals"] != got.get("totals"):
        out.append(f"totals: flowscan {ref['totals']}  peer {got.get('totals')}")
    for t in REPORT_TABLES:
        a, b = ref[t], got.get(t, [])
        if [r[1] for r in a] != [r[1] for r in b]:
            out.append(f"{t}: records flowscan {[r[1] for r in a]}  peer {[r[1] for r in b]}")
            continue
        rows_b = {r[0]: r for r in b}
        last = a[-1][1] if a else None
        for r in a:
            other = rows_b.get(r[0])
            if other is None and r[1] != last:
                out.append(f"{t}: {r[0]} only in flowscan's answer")
            elif other is not None and other != r:
                out.append(f"{t}: flowscan {r}  peer {other}")
    return out


NORM = {"rejects": rejects_norm, "top": top_norm, "filter": filter_norm, "report": report_norm}
DIFF = {"rejects": rejects_diff, "top": top_diff, "filter": filter_diff, "report": report_diff}


def answers(wl, d):
    """Compares every peer's answer with flowscan's, per input. Exit status 1 on a
    difference."""
    inputs = sorted({n.split(".")[1] for n in os.listdir(d)
                     if n.startswith(wl + ".") and n.endswith((".out", ".out.failed"))},
                    key=lambda i: (INPUTS + [i]).index(i))
    bad = 0
    compared = 0
    for inp in inputs:
        path = lambda t: os.path.join(d, f"{wl}.{inp}.{t}.out")  # noqa: E731
        if not os.path.exists(path("flowscan")):
            print(f"  {inp}: no flowscan answer, nothing to compare")
            bad += os.path.exists(path("flowscan") + ".failed")
            continue
        try:
            ref = NORM[wl]("flowscan", open(path("flowscan")).read())
        except (ValueError, KeyError) as e:
            print(f"  {inp}: flowscan's answer is unreadable ({e})")
            bad += 1
            continue
        for tool in TOOLS[1:]:
            if os.path.exists(path(tool) + ".failed"):
                print(f"  {inp} / {NAMES[tool]}: the command failed (see {path(tool)}.err)")
                bad += 1
                continue
            if not os.path.exists(path(tool)):
                continue
            try:
                got = NORM[wl](tool, open(path(tool)).read())
            except (ValueError, KeyError) as e:
                print(f"  {inp} / {NAMES[tool]}: unreadable answer ({e})")
                bad += 1
                continue
            compared += 1
            diff = DIFF[wl](ref, got)
            if diff:
                bad += 1
                print(f"  {inp} / {NAMES[tool]}: DIFFERS from flowscan")
                for line in diff:
                    print(f"    {line}")
    if compared and not bad:
        print(f"  answers agree ({compared} peer answers, inputs: {', '.join(inputs)})")
    elif not compared and not bad:
        print("  no peer answers to compare")
    return 1 if bad else 0


# ---- tables ----------------------------------------------------------------------

def fmt_s(v):
    return "-" if v is None else f"{v:.3f}"


def fmt_mb(kib):
    return "-" if kib is None else f"{kib / 1024:.0f}"


def out_bytes(d, wl, inp, tool):
    """Bytes of the Parquet files under the run's output folder, or None."""
    top = os.path.join(d, f"{wl}.{inp}.{tool}.d")
    if not os.path.isdir(top):
        return None
    return sum(os.path.getsize(os.path.join(r, f))
               for r, _, fs in os.walk(top) for f in fs if f.endswith(".parquet"))


def table(wl, results, d):
    rows = load_results(results)
    tools = [t for t in TOOLS if any(k[0] == wl and k[2] == t for k in rows)]
    peers = [t for t in tools if t != "flowscan"]
    inputs = [i for i in INPUTS if any(k[0] == wl and k[1] == i for k in rows)]
    files = any(os.path.isdir(os.path.join(d, f"{wl}.{i}.{t}.d")) for i in inputs for t in tools)
    head = (["input"] + [f"{NAMES[t]} s" for t in tools]
            + [f"{NAMES[p]}/flowscan" for p in peers if "flowscan" in tools]
            + [f"{NAMES[t]} RSS MiB" for t in tools]
            + ([f"{NAMES[t]} out MB" for t in tools] if files else []))
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|")
    for inp in inputs:
        get = lambda t: rows.get((wl, inp, t), (None, None, "missing"))  # noqa: E731
        cells = [inp]
        for t in tools:
            med, _, st = get(t)
            cells.append(fmt_s(med) if st == "ok" else st)
        fs = get("flowscan")[0] if get("flowscan")[2] == "ok" else None
        if "flowscan" in tools:
            for p in peers:
                med, _, st = get(p)
                cells.append(f"{med / fs:.1f}x" if fs and med is not None and st == "ok" else "-")
        for t in tools:
            cells.append(fmt_mb(get(t)[1]))
        if files:
            for t in tools:
                b = out_bytes(d, wl, inp, t) if get(t)[2] == "ok" else None
                cells.append("-" if b is None else f"{b / 1e6:.1f}")
        print("| " + " | ".join(cells) + " |")


def speed(wl, results, d):
    rows = load_results(results)
    for inp in INPUTS:
        med, _, st = rows.get((wl, inp, "flowscan"), (None, None, "missing"))
        out = os.path.join(d, f"{wl}.{inp}.flowscan.out")
        if st != "ok" or not med or not os.path.exists(out):
            continue
        try:
            scan = json.load(open(out))["scan"]
        except (ValueError, KeyError) as e:
            print(f"  {inp:5}  no summary in {out} ({e})")
            continue
        recs, text, disk = scan["records"], scan["decoded"], scan["bytes"]
        line = (f"  {inp:5}  {recs / med / 1e6:6.2f} M records/s  {text / med / 1e6:7.1f} MB/s of text")
        if disk != text:
            line += f"  ({disk / med / 1e6:.1f} MB/s on disk)"
        print(line)
    if wl != "rejects":
        return
    t1 = rows.get(("scaling", "plain", "flowscan-t1"))
    tn = rows.get(("rejects", "plain", "flowscan"))
    if t1 and tn and t1[0] and tn[0] and t1[2] == tn[2] == "ok":
        print(f"  scaling on the plain file: --threads 1 {t1[0]:.3f} s, default "
              f"({os.cpu_count()} cores) {tn[0]:.3f} s: speedup {t1[0] / tn[0]:.2f}x")


# ---- workload "export" ---------------------------------------------------------

def export_check(d, records):
    """Reads every export output back with DuckDB: its row count must be RECORDS and
    its count of action = 'REJECT' rows the same for every tool. Exit status 1 if
    not."""
    import duckdb

    records = int(records)
    con = duckdb.connect()
    bad = 0
    checked = []
    for inp in INPUTS:
        counts = {}
        for tool in TOOLS:
            top = os.path.join(d, f"export.{inp}.{tool}.d")
            failed = os.path.join(d, f"export.{inp}.{tool}.out.failed")
            if os.path.exists(failed):
                print(f"  {inp} / {NAMES[tool]}: the command failed (see {failed[:-7]}.err)")
                bad += 1
                continue
            if not os.path.isdir(top):
                continue
            glob = os.path.join(top, "**", "*.parquet").replace("'", "''")
            try:
                n, rej, nfiles = con.execute(
                    "SELECT count(*), count(*) FILTER (WHERE action = 'REJECT'), "
                    f"count(DISTINCT filename) FROM read_parquet('{glob}', "
                    "hive_partitioning = false, filename = true)").fetchone()
            except duckdb.Error as e:
                print(f"  {inp} / {NAMES[tool]}: unreadable output ({str(e).splitlines()[0]})")
                bad += 1
                continue
            counts[tool] = (n, rej, nfiles)
            if tool == "flowscan":
                man = os.path.join(top, "_flowscan_export.json")
                try:
                    m = json.load(open(man))
                    if not m.get("complete") or m.get("vpc_rows", 0) + m.get("tgw_rows", 0) != n:
                        print(f"  {inp} / flowscan: {man} says complete={m.get('complete')}, "
                              f"{m.get('vpc_rows')} VPC rows; {n} rows read back")
                        bad += 1
                except (OSError, ValueError) as e:
                    print(f"  {inp} / flowscan: no readable manifest ({e})")
                    bad += 1
        if not counts:
            continue
        checked.append(inp)
        desc = "; ".join(f"{NAMES[t]} {n:,} rows, {rej:,} REJECT, {f} file{'s' * (f != 1)}"
                         for t, (n, rej, f) in counts.items())
        wrong = [NAMES[t] for t, (n, _, _) in counts.items() if n != records]
        rejs = {rej for _, rej, _ in counts.values()}
        if wrong or len(rejs) > 1:
            bad += 1
            why = []
            if wrong:
                why.append(f"rows != {records:,} for {', '.join(wrong)}")
            if len(rejs) > 1:
                why.append("REJECT counts differ")
            print(f"  {inp}: MISMATCH ({'; '.join(why)}): {desc}")
        else:
            print(f"  {inp}: {desc}")
    if checked and not bad:
        print(f"  outputs agree (inputs: {', '.join(checked)})")
    elif not checked and not bad:
        print("  no outputs to check")
    return 1 if bad else 0


def median(path):
    with open(path) as f:
        vals = [float(x) for x in f.read().split()]
    print(f"{statistics.median(vals):.6f}")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "answers":
        sys.exit(answers(*args))
    elif cmd == "table":
        table(*args)
    elif cmd == "speed":
        speed(*args)
    elif cmd == "export-check":
        sys.exit(export_check(*args))
    elif cmd == "median":
        median(*args)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
