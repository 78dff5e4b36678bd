#!/usr/bin/env python3
"""Writes the small fixtures in testdata/ (run from the repository root).

The fixtures are checked in; this script says how they were made and remakes
them byte for byte. Records are written here, not copied from anywhere.
"""
import gzip
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
V2 = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status".split()
V5_EXTRA = "vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path".split()
T0 = 1795514400  # 2026-11-24T10:00:00Z


def records():
    rnd = random.Random(7)
    enis = ["eni-0a1b2c3d4e5f60001", "eni-0a1b2c3d4e5f60002", "eni-0a1b2c3d4e5f60003", "eni-0f00000000000beef"]
    own = {e: f"10.0.1.{i + 10}" for i, e in enumerate(enis)}
    out = []
    scanners = ["198.51.100.7", "198.51.100.99", "203.0.113.5", "192.0.2.44", "2001:db8:feed:1::7", "2001:db8:feed:1::8"]
    for i in range(40):
        start = T0 + i * 90
        end = start + rnd.randrange(0, 60)
        eni = enis[min(int(rnd.expovariate(1.2)), 3)]
        r = dict(zip(V2, ["2", "123456789012", eni] + ["-"] * 11))
        r.update(start=str(start), end=str(end))
        r.update({k: "-" for k in V5_EXTRA})
        r.update({"vpc-id": "vpc-0abc1", "subnet-id": "subnet-0def" + eni[-1], "instance-id": "i-0123" + eni[-4:],
                  "region": "us-east-1", "az-id": "use1-az1"})
        kind = i % 10
        if kind in (0, 3, 5, 7):  # scanners rejected
            src = scanners[rnd.randrange(len(scanners))]
            v6 = ":" in src
            dst = f"2001:db8:1::{enis.index(eni) + 1:x}" if v6 else own[eni]
            port = [22, 22, 3389, 23, 445][rnd.randrange(5)]
            r.update(srcaddr=src, dstaddr=dst, srcport=str(rnd.randrange(1024, 65536)), dstport=str(port),
                     protocol="6", packets=str(rnd.randrange(1, 4)), action="REJECT", **{"log-status": "OK"})
            r["bytes"] = str(int(r["packets"]) * 60)
            r.update({"tcp-flags": "2", "type": "IPv6" if v6 else "IPv4", "pkt-srcaddr": src, "pkt-dstaddr": dst,
                      "flow-direction": "ingress"})
        elif kind == 9 and i < 20:  # ICMP reply rejected on the way back (NACL-style)
            r.update(srcaddr=own[eni], dstaddr="203.0.113.5", srcport="0", dstport="0", protocol="1",
                     packets="4", bytes="336", action="REJECT", **{"log-status": "OK"})
            r.update({"type": "IPv4", "pkt-srcaddr": own[eni], "pkt-dstaddr": "203.0.113.5",
                      "flow-direction": "egress", "traffic-path": "2"})
        elif kind == 9:
            r["log-status"] = "NODATA" if i == 29 else "SKIPDATA"
        else:  # accepted service traffic, one elephant flow past 2^32 bytes
            peer = f"10.0.2.{rnd.randrange(2, 250)}"
            packets = rnd.randrange(5, 5000)
            size = 5_000_000_000 if i == 12 else packets * rnd.randrange(60, 1500)
            r.update(srcaddr=peer, dstaddr=own[eni], srcport=str(rnd.randrange(32768, 61000)), dstport="443",
                     protocol="6", packets=str(packets), bytes=str(size), action="ACCEPT", **{"log-status": "OK"})
            r.update({"tcp-flags": "19", "type": "IPv4", "pkt-srcaddr": peer, "pkt-dstaddr": own[eni],
                      "flow-direction": "ingress"})
        out.append(r)
    return out


def line(r, fields):
    return " ".join(r[f] for f in fields) + "\n"


def write(name, data, mode="w"):
    with open(os.path.join(HERE, name), mode + ("b" if isinstance(data, bytes) else "")) as f:
        f.write(data)


def gz(text):
    # mtime=0 keeps the bytes stable across runs.
    return gzip.compress(text.encode(), compresslevel=6, mtime=0)


def main():
    recs = records()
    v2 = " ".join(V2) + "\n" + "".join(line(r, V2) for r in recs)
    write("default-v2.log", v2)
    write("default-v2.log.gz", gz(v2))
    half = len(recs) // 2
    m1 = " ".join(V2) + "\n" + "".join(line(r, V2) for r in recs[:half])
    m2 = " ".join(V2) + "\n" + "".join(line(r, V2) for r in recs[half:])
    write("multi-member.log.gz", gz(m1) + gz(m2))
    write("headerless.log", "".join(line(r, V2) for r in recs))

    v5 = V2 + V5_EXTRA
    order = sorted(v5, key=lambda f: (len(f) * 7919 + sum(map(ord, f))) % 31)
    write("custom-v5.log", " ".join(order) + "\n" + "".join(line(r, order) for r in recs))

    good = [line(r, V2) for r in recs[:6]]
    bad = [
        "2 123456789012 eni-0a1b2c3d4e5f60001 198.51.100.7 10.0.1.10 40000 22 6 1 60 1795514400\n",  # too few
        "2 123456789012 eni-0a1b2c3d4e5f60001 198.51.100.7 10.0.1.10 40000 22 6 1 60 1795514400 1795514460 REJECT OK extra\n",
        "2 123456789012 eni-0a1b2c3d4e5f60001 198.51.100.7 10.0.1.10 40000 ssh 6 1 60 1795514400 1795514460 REJECT OK\n",
        "2 123456789012 eni-0a1b2c3d4e5f60001 198.51.100.7 10.0.1.10 40000 70000 6 1 60 1795514400 1795514460 REJECT OK\n",
        "2 123456789012 eni-0a1b2c3d4e5f60001 198.51.100.7 10.0.1.10 40000 22 6 1 -60 1795514400 1795514460 REJECT OK\n",
        "2 123456789012 eni-0a1b2c3d4e5f60001 198.51.100.7 10.0.1.10 40000 22 6 1 18446744073709551616 1795514400 1795514460 REJECT OK\n",
        "2 123456789012 eni-0a1b2c3d4e5f60001 198.51.100.300 10.0.1.10 40000 22 6 1 60 1795514400 1795514460 REJECT OK\n",
        "2 123456789012 eni-0a1b2c3d4e5f60001 2001:db8::zz 10.0.1.10 40000 22 6 1 60 1795514400 1795514460 REJECT OK\n",
        "2 123456789012 eni-0a1b2c3d4e5f6\xff\xfe 198.51.100.7 10.0.1.10 40000 22 6 1 60 1795514400 1795514460 REJECT OK\n",
        "2 123456789012 eni-0a1b2c3d4e5f60001 198.51.100.7 10.0.1.10 40000 22 6 1 60 1795514400 1795514460 REJECT OK # a comment\n",
        "bogus line\n",
    ]
    body = good[:3] + bad[:6] + good[3:] + bad[6:]
    write("malformed.log", (" ".join(V2) + "\n" + "".join(body)).encode("latin-1"))

    # Messy but valid: runs of spaces, CRLF, blank lines, a repeated header, a
    # header that changes the format, millisecond times, no final newline.
    r = recs
    messy = (
        " ".join(V2) + "\r\n"
        + line(r[0], V2).replace(" ", "  ", 3).replace("\n", "\r\n")
        + "\n"
        + "   \n"
        + line(r[1], V2)
        + " ".join(V2) + "\n"
        + line(r[2], V2).replace(f" {r[2]['start']} {r[2]['end']} ", f" {r[2]['start']}000 {r[2]['end']}000 ")
        + "\n"
        + " ".join(reversed(V2)) + "\n"
        + line(r[3], list(reversed(V2)))
        + line(r[4], list(reversed(V2))).rstrip("\n")
    )
    write("messy.log", messy)

    tgw = ("version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id "
           "tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id "
           "tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
           "log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded "
           "packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service\n")
    for i in range(3):
        tgw += (f"6 TransitGateway 123456789012 tgw-0a1b2c3d4e5f60001 tgw-attach-0a1b2c3d4e5f6000{i} 123456789012 "
                f"210987654321 vpc-0abc1 vpc-0abc2 subnet-0def1 subnet-0def2 eni-0a1b2c3d4e5f6000{i} "
                f"eni-0b1b2c3d4e5f6000{i} use1-az1 use1-az2 tgw-attach-0b1b2c3d4e5f6000{i} 10.0.1.10 10.1.0.{i + 5} "
                f"4431{i} 443 6 {10 + i} {1500 * (10 + i)} {T0 + 60 * i} {T0 + 60 * i + 55} OK IPv4 0 0 0 0 19 "
                f"us-east-1 egress - -\n")
    write("tgw.log", tgw)

    write("not-a-flow-log.txt", "# Notes\n\nThese are the flow logs we synced on Tuesday.\n")
    whole = gz(v2)
    write("truncated.log.gz", whole[: len(whole) * 2 // 3])


if __name__ == "__main__":
    main()
