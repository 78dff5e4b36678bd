#!/usr/bin/env bash
# Reading from S3: one hour of a day laid out as AWS does, read through a real
# S3 API (moto's server on loopback), with and without pruning by key, against
# the same tree on disk. Needs `pip install 'moto[server]' boto3`.
#
#   benches/s3.sh [RECORDS]      # default 1,000,000 records over 288 files
#
# moto answers from memory on this machine, so the figures measure requests
# and parsing, not a real network: on AWS each request costs tens of
# milliseconds more, which favours pruning further.
set -euo pipefail
records=${1:-1000000}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/target/release
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m moto.server -p "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; rm -rf "$data"' EXIT

(cd "$here" && cargo build --release -q -p flowscan-cli -p flowgen)
"$bin/flowgen" --records "$records" --seed 8 --hours 24 --tree "$data/day" --files 288 --level 6

until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null; do sleep 0.1; done
python3 - "$port" "$data/day" <<'EOF'
import os, sys, boto3
port, root = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
s3.create_bucket(Bucket="logs")
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        s3.upload_file(p, "logs", os.path.relpath(p, root))
EOF

export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
window=(--since 2026-11-24T15:00:00Z --until 2026-11-24T16:00:00Z)

# Seconds (best of 3) and the scan's JSON counters for one run.
run() {
  local best=999 s
  for _ in 1 2 3; do
    s=$( { /usr/bin/time -f %e "$bin/flowscan" rejects -q -f json "$@" >/dev/null; } 2>&1 | tail -1)
    best=$(python3 -c "print(min($best, $s))")
  done
  "$bin/flowscan" rejects -q -f json "$@" | python3 -c '
import json, sys
s = json.load(sys.stdin)["scan"]
print("| %s | %s | %s | %s | %s | %s |" % (sys.argv[1], s["files"], s.get("list_requests", 0), s.get("pruned_by_name", 0), s["records"], s["matched"]))' "$best"
}

echo "| one hour of a day ($records records, 288 gzip files) | seconds | objects read | list requests | pruned by name | records read | records in window |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '| local tree, pruned '; run "$data/day" "${window[@]}"
printf '| S3, pruned '; run s3://logs/AWSLogs/ "${window[@]}"
printf '| S3, --no-prune '; run s3://logs/AWSLogs/ "${window[@]}" --no-prune
printf '| S3, whole day '; run s3://logs/AWSLogs/
