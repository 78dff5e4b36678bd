#!/usr/bin/env bash
# Input shapes and pruning, timed: the same records as plain text, CloudWatch
# filter-log-events JSON, JSON lines, Firehose subscription envelopes (gzip
# members) and the console's CSV export, each through `flowscan rejects`; and
# one hour of a day's S3-style tree, with and without pruning by file name.
#
#   benches/inputs.sh [RECORDS]      # default 1,000,000; data under $FLOWSCAN_BENCH_DIR or /tmp
#
# Needs python3 (to write the JSON and CSV shapes) and the release binaries
# (cargo build --release -p flowscan-cli -p flowgen). Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-1000000}
data=${FLOWSCAN_BENCH_DIR:-${TMPDIR:-/tmp}/flowscan-bench}/inputs-$records
bin=target/release
mkdir -p "$data"

if [ ! -s "$data/flows.log" ]; then
  "$bin/flowgen" --records "$records" --seed 7 --out "$data/flows.log"
  python3 - "$data" <<'EOF'
import gzip, json, sys
d = sys.argv[1]
lines = open(f"{d}/flows.log").read().splitlines()[1:]
with open(f"{d}/events.json", "w") as f:
    json.dump({"events": [{"logStreamName": "eni", "timestamp": 1, "message": m, "ingestionTime": 2, "eventId": "e"} for m in lines], "searchedLogStreams": []}, f)
with open(f"{d}/lines.jsonl", "w") as f:
    for m in lines:
        f.write(json.dumps({"message": m}) + "\n")
with open(f"{d}/export.csv", "w") as f:
    f.write("timestamp,message\n")
    for i, m in enumerate(lines):
        f.write(f'{1795514400000 + i},"{m}"\n')
with open(f"{d}/firehose.gz", "wb") as f:
    for i in range(0, len(lines), 1000):
        env = {"messageType": "DATA_MESSAGE", "logGroup": "/vpc", "logStream": "eni",
               "logEvents": [{"id": str(j), "timestamp": 1, "message": m} for j, m in enumerate(lines[i:i + 1000])]}
        f.write(gzip.compress(json.dumps(env).encode(), 6))
EOF
fi
if [ ! -d "$data/day" ]; then
  "$bin/flowgen" --records "$records" --seed 8 --hours 24 --tree "$data/day" --files 288 --level 6
fi

calc() { awk "BEGIN { print $* }"; }

time_cmd() { # median of 3 wall times, seconds
  local t=()
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N)
    "$@" > /dev/null
    e=$(date +%s.%N)
    t+=("$(calc "$e - $s")")
  done
  printf '%s\n' "${t[@]}" | sort -n | sed -n 2p
}

echo "| input | size MB | seconds | MB/s | vs text |"
echo "|---|---:|---:|---:|---:|"
base=""
for f in flows.log events.json lines.jsonl firehose.gz export.csv; do
  size=$(stat -c %s "$data/$f")
  s=$(time_cmd "$bin/flowscan" rejects -q -f json "$data/$f")
  [ -z "$base" ] && base=$s
  printf '| %s | %.0f | %.3f | %.0f | %.2fx |\n' "$f" "$(calc "$size / 1000000")" "$s" \
    "$(calc "$size / 1000000 / $s")" "$(calc "$s / $base")"
done

echo
echo "| one hour of a day (288 gzip files) | seconds | files opened |"
echo "|---|---:|---:|"
for mode in prune no-prune; do
  extra=()
  [ "$mode" = no-prune ] && extra=(--no-prune)
  s=$(time_cmd "$bin/flowscan" rejects -q -f json "$data/day" --since 2026-11-24T15:00:00Z --until 2026-11-24T16:00:00Z "${extra[@]}")
  files=$("$bin/flowscan" rejects -q -f json "$data/day" --since 2026-11-24T15:00:00Z --until 2026-11-24T16:00:00Z "${extra[@]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["scan"]["files"])')
  printf '| %s | %.3f | %s |\n' "$mode" "$s" "$files"
done
