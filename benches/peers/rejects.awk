# REJECT hotspots in awk (peer for benches/compare.sh; written for mawk, POSIX awk).
#
#   mawk -v top=10 -f rejects.awk FILE...          plain text
#   gzip -dc FILE.gz | mawk -v top=10 -f rejects.awk
#
# Header-driven: a line whose first token is a VPC field name is a header and
# (re)maps the columns, so concatenated files with headers are fine. Default
# field splitting (runs of blanks) matches the format. REJECT records are
# counted per interface, per "dstport/protocol" and per source address; at the
# end the addresses are rolled up to networks (IPv4 /24, IPv6 /64 in canonical
# RFC 5952 text) and the top `top` of each table, by records then key ascending
# (flowscan's order), are printed as one JSON line like the Python peers.

BEGIN {
    if (top == "") top = 10
    nf = split("version account-id interface-id srcaddr dstaddr srcport dstport protocol " \
               "packets bytes start end action log-status vpc-id subnet-id instance-id " \
               "tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type " \
               "sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction " \
               "traffic-path", names, " ")
    for (i = 1; i <= nf; i++) FIELD[names[i]] = 1
}

$1 in FIELD {
    for (i = 1; i <= NF; i++) col[$i] = i
    A = col["action"]; E = col["interface-id"]; S = col["srcaddr"]
    P = col["dstport"]; R = col["protocol"]
    next
}

$A == "REJECT" { eni[$E]++; port[$P "/" $R]++; src[$S]++ }

# Zero-pads a hextet (lowercase, no leading zeros) to 4 digits for ordering.
function pad4(h) { return substr("0000" h, length(h) + 1) }

function hnorm(h) {
    h = tolower(h); sub(/^0+/, "", h)
    return h == "" ? "0" : h
}

# Sets NET (text) and NKEY (ordering key) for a source address.
function net(s,    o, i, d, lt, rt, l, r, nl, nr, h) {
    if (s == "-") { NET = "-"; NKEY = "c"; return }
    if (index(s, ":") == 0) {
        split(s, o, ".")
        NET = o[1] "." o[2] "." o[3] ".0/24"
        NKEY = sprintf("a%03d%03d%03d", o[1], o[2], o[3])
        return
    }
    d = index(s, "::")
    if (d) { lt = substr(s, 1, d - 1); rt = substr(s, d + 2) } else { lt = s; rt = "" }
    nl = lt == "" ? 0 : split(lt, l, ":")
    nr = rt == "" ? 0 : split(rt, r, ":")
    NKEY = "b"
    for (i = 1; i <= 4; i++) {
        if (i <= nl) h[i] = hnorm(l[i])
        else if (i > 8 - nr) h[i] = hnorm(r[i - 8 + nr])
        else h[i] = "0"
        NKEY = NKEY pad4(h[i])
    }
    if (h[4] != "0") NET = h[1] ":" h[2] ":" h[3] ":" h[4] "::"
    else if (h[3] != "0") NET = h[1] ":" h[2] ":" h[3] "::"
    else if (h[2] != "0") NET = h[1] ":" h[2] "::"
    else if (h[1] != "0") NET = h[1] "::"
    else NET = "::"
    NET = NET "/64"
}

function portkey(k,    a) {
    split(k, a, "/")
    return (a[1] == "-" ? "a" : sprintf("b%05d", a[1])) (a[2] == "-" ? "a" : sprintf("b%03d", a[2]))
}

function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }

# Keeps the best `top` of (count c, order key o, label k) in tc/to/tk[1..tn].
function offer(c, o, k,    i) {
    o = o ""
    if (tn == top && (c < tc[tn] || (c == tc[tn] && o > to[tn]))) return
    if (tn < top) tn++
    for (i = tn; i > 1 && (c > tc[i - 1] || (c == tc[i - 1] && o < to[i - 1])); i--) {
        tc[i] = tc[i - 1]; to[i] = to[i - 1]; tk[i] = tk[i - 1]
    }
    tc[i] = c; to[i] = o; tk[i] = k
}

function flush(name,    i, s) {
    s = jstr(name) ": ["
    for (i = 1; i <= tn; i++) s = s (i > 1 ? ", " : "") "[" jstr(tk[i]) ", " tc[i] "]"
    tn = 0
    return s "]"
}

END {
    tn = 0
    for (k in eni) offer(eni[k], k, k)
    out = "{" flush("interfaces")
    for (k in port) offer(port[k], portkey(k), k)
    out = out ", " flush("ports")
    for (s in src) { net(s); nc[NET] += src[s]; nk[NET] = NKEY }
    for (k in nc) offer(nc[k], nk[k], k)
    print out ", " flush("sources") "}"
}
