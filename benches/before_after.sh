#!/usr/bin/env bash
# benches/before_after.sh: one flowscan binary against another (an engine
# change, say), every command on the same files, side by side in one run.
#
#   benches/before_after.sh OLD_BINARY NEW_BINARY [RECORDS]
#
# Data (made once with NEW's flowgen beside it, under $FLOWSCAN_BENCH_DIR or
# /tmp/flowscan-bench/before-after-RECORDS): a plain file, the same gzipped, an
# S3-style tree of 200 gzip files, and a filter-log-events JSON document of a
# tenth of the records. Each cell is the median wall time of 3 runs (warm page
# cache), and the user+system CPU seconds of that run; the ratio is old/new
# (above 1: the new one is faster). Prints a markdown table.
set -euo pipefail
old=${1:?old binary}
new=${2:?new binary}
records=${3:-10000000}
gen=$(dirname "$new")/flowgen
data=${FLOWSCAN_BENCH_DIR:-${TMPDIR:-/tmp}/flowscan-bench}/before-after-$records
mkdir -p "$data"
[ -s "$data/big.log" ] || "$gen" --records "$records" --out "$data/big.log"
[ -s "$data/big.log.gz" ] || gzip -6 -c "$data/big.log" > "$data/big.log.gz"
[ -d "$data/tree" ] || "$gen" --records "$records" --tree "$data/tree" --files 200 > /dev/null
if [ ! -s "$data/events.json" ]; then
  "$gen" --records $((records / 10)) --seed 7 --out "$data/tenth.log"
  python3 - "$data" <<'EOF'
import json, sys
d = sys.argv[1]
lines = open(f"{d}/tenth.log").read().splitlines()[1:]
with open(f"{d}/events.json", "w") as f:
    json.dump({"events": [{"logStreamName": "eni", "timestamp": 1, "message": m, "ingestionTime": 2, "eventId": "e"} for m in lines], "searchedLogStreams": []}, f)
EOF
fi

# median of 3: "wall cpu"
run3() {
  local out=()
  for _ in 1 2 3; do
    rm -rf "$data/out"
    /usr/bin/time -f "%e %U %S" -o "$data/time" "$@" > /dev/null 2>&1 || true
    out+=("$(awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$data/time")")
  done
  printf '%s\n' "${out[@]}" | sort -n | sed -n 2p
}

echo "| command | input | old s (cpu) | new s (cpu) | old/new |"
echo "|---|---|---:|---:|---:|"
# row NAME INPUT ARGS...: ARGS follow the binary; with "sh" first, they are a
# shell command whose $0 is the binary.
row() {
  local name=$1 input=$2
  shift 2
  local a b
  if [ "$1" = sh ]; then
    a=$(run3 sh -c "$2" "$old")
    b=$(run3 sh -c "$2" "$new")
  else
    a=$(run3 "$old" "$@")
    b=$(run3 "$new" "$@")
  fi
  awk -v n="$name" -v i="$input" -v a="$a" -v b="$b" 'BEGIN {
    split(a, x, " "); split(b, y, " ");
    printf "| %s | %s | %.3f (%.2f) | %.3f (%.2f) | %.2fx |\n", n, i, x[1], x[2], y[1], y[2], x[1] / y[1] }'
}
for input in big.log big.log.gz tree; do
  row rejects "$input" rejects -q -f json "$data/$input"
done
row "top --by interface-id,dstport" big.log top -q -f json --by interface-id,dstport "$data/big.log"
row "filter > /dev/null" big.log filter -q --where "action = REJECT" "$data/big.log"
row "filter > file" big.log sh "exec \"\$0\" filter -q --where 'action = REJECT' '$data/big.log' > '$data/filter.out'"
row "export" big.log export -q --out "$data/out" "$data/big.log"
row "rejects" events.json rejects -q -f json "$data/events.json"
