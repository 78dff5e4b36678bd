"""Shared by the Python peers of benches/compare.sh: input expansion, the header
of the first file, and the column types of the VPC fields the query reads."""
import glob
import gzip
import json
import sys

# Integer fields of VPC flow logs (versions 2 to 5); every other field is text.
INTS = {
    "version": "int32", "srcport": "int32", "dstport": "int32", "protocol": "int32",
    "packets": "int64", "bytes": "int64", "start": "int64", "end": "int64",
    "tcp-flags": "int32",
}


def expand(inputs):
    """Files named or matched by globs (`**` allowed), in sorted order."""
    out = []
    for i in inputs:
        if any(c in i for c in "*?["):
            out.extend(sorted(glob.glob(i, recursive=True)))
        else:
            out.append(i)
    if not out:
        sys.exit(f"no input matches {inputs}")
    return out


def header(path):
    """Field names of the first line of a plain or gzip file."""
    with open(path, "rb") as f:
        magic = f.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rt") as f:
        return f.readline().split()


def emit(tables):
    """Print {"interfaces": [[key, records], ...], "ports": ..., "sources": ...}."""
    json.dump({k: [[str(a), int(b)] for a, b in v] for k, v in tables.items()}, sys.stdout)
    print()
