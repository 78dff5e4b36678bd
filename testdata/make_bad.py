#!/usr/bin/env python3
"""Writes testdata/bad/: one small file per kind of damage (run from the
repository root). Each has a test in crates/flowscan-cli/tests/bad_inputs.rs
that states the expected outcome. Big inputs (a 10 MB line, a gzip bomb) are
made by the tests themselves."""
import gzip
import os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad")
H = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
R = [
    "2 123456789012 eni-0a1b2c3d4e5f60001 198.51.100.7 10.0.1.10 40001 22 6 2 120 1795514400 1795514460 REJECT OK",
    "2 123456789012 eni-0a1b2c3d4e5f60001 10.0.2.16 10.0.1.10 33996 443 6 40 20763 1795514490 1795514496 ACCEPT OK",
    "2 123456789012 eni-0a1b2c3d4e5f60002 203.0.113.5 10.0.1.11 40002 3389 6 1 60 1795514580 1795514585 REJECT OK",
    "2 123456789012 - - - - - - - - 1795514600 1795514660 - NODATA",
]


def write(name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def gz(text):
    return gzip.compress(text.encode() if isinstance(text, str) else text, compresslevel=6, mtime=0)


def main():
    os.makedirs(HERE, exist_ok=True)
    body = H + "\n" + "\n".join(R * 50) + "\n"  # 200 records
    whole = gz(body)
    write("truncated.log.gz", whole[: len(whole) // 2])
    flipped = bytearray(whole)
    for i in range(len(flipped) // 3, len(flipped) // 3 + 8):
        flipped[i] ^= 0x5A
    write("corrupt.log.gz", bytes(flipped))
    write("not-flow-log.txt.gz", gz("Meeting notes\n\n- rotate the keys\n- sync the bucket\n"))
    write("empty.log", b"")
    write("header-only.log", H + "\n")
    write("duplicate-fields.log", H.replace("dstport", "srcport") + "\n" + R[0] + "\n")
    write("unknown-fields.log", H + " future-field another-one\n" + "\n".join(r + " x -" for r in R) + "\n")
    write("field-counts.log", H + "\n" + R[0] + "\n" + R[1] + " extra\n" + " ".join(R[2].split()[:-1]) + "\n" + R[3] + "\n")
    write(
        "numbers.log",
        H + "\n"
        + R[0].replace(" 22 6 ", " 70000 6 ") + "\n"
        + R[0].replace(" 2 120 ", " 2 -120 ") + "\n"
        + R[0].replace(" 2 120 ", " 2 18446744073709551616 ") + "\n"
        + R[0].replace(" 22 6 ", " twenty-two 6 ") + "\n"
        + R[1] + "\n",
    )
    write(
        "addresses.log",
        H + "\n"
        + R[0].replace("198.51.100.7", "198.51.100.700") + "\n"
        + R[0].replace("198.51.100.7", "2001:db8::g") + "\n"
        + R[0].replace("198.51.100.7", "2001:db8::7") + "\n",
    )
    write("invalid-utf8.log", (H + "\n").encode() + R[0].replace("eni-0a1b2c3d4e5f60001", "eni-0a1b\xff\xfe").encode("latin-1") + b"\n" + (R[1] + "\n").encode())
    write("nul-bytes.log", (H + "\n").encode() + R[0].replace("eni-0a1b2c3d4e5f60001", "eni-0a1b\x002c3d").encode() + b"\n" + b"\x00\x00\x00\x00\n" + (R[2] + "\n").encode())
    write("crlf.log", (H + "\r\n" + "\r\n".join(R) + "\r\n"))
    write("no-final-newline.log", H + "\n" + "\n".join(R))


if __name__ == "__main__":
    main()
