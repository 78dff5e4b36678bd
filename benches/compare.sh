#!/usr/bin/env bash
# benches/compare.sh: whole-command comparison of flowscan against DuckDB, polars,
# chDB, DataFusion and mawk, on the same files with the same query.
#
# What it measures
#   The "REJECT hotspots" query: over records with action = REJECT, the top N
#   (10) groups by record count, ties by key ascending, for three groupings:
#   interface-id; (dstport, protocol); source network (IPv4 /24, IPv6 /64).
#     flowscan  flowscan rejects --format json -q --top N PATH
#     DuckDB    benches/peers/duckdb_rejects.py (Python + DuckDB SQL, no UDF)
#     polars    benches/peers/polars_rejects.py (Python + polars lazy scan_csv)
#     chDB      benches/peers/chdb_rejects.py (Python + ClickHouse SQL in process,
#                 file() as CustomSeparatedWithNames, no UDF)
#     DataFusion benches/peers/datafusion_rejects.py (Python + DataFusion SQL over
#                 a CSV listing table, no UDF)
#     mawk      benches/peers/rejects.awk (gzip -dc | mawk for gzip input)
#   Each is timed as a whole command (process start to exit, interpreter start
#   and imports included) on warm page cache, on three inputs made by flowgen
#   with the same records: one plain text file, the same file gzipped (gzip -6),
#   and an S3-style tree of 200 gzip files. Reported: median wall time of --runs
#   runs (hyperfine if installed, else a plain loop), peer/flowscan time ratios,
#   peak RSS (GNU time, else getrusage; for a pipeline, the largest process),
#   flowscan records/s and MB/s, flowscan --threads 1 vs the default on the plain
#   file, and the time to merely inflate the gzip file (gzip -dc, Python zlib,
#   pigz -dc when installed). Each tool's top-N lists are compared with
#   flowscan's ("answers agree" or the differences); an extra all-IPv6 file
#   (answers only, not timed) makes the IPv6 /64 keys reach the top N.
#
#   Workload "report" (opt-in: --workloads rejects,report): the same command on
#   equal work. The peers above count records of three groupings; flowscan's
#   report also has packets, bytes, distinct peers, first and last seen, a fourth
#   table (destination addresses) and totals of every record's action and
#   status. DuckDB computes all of it (benches/peers/duckdb_rejects.py --full),
#   and every column of its top N rows is compared with flowscan's.
#
#   Workload "export" (opt-in: --workloads rejects,export or --workloads export):
#   Parquet export of the same three inputs, flowscan and DuckDB only (polars,
#   chDB, DataFusion and mawk are not run for it).
#     flowscan  flowscan export -q --format json --out DIR --overwrite
#                 --compression snappy --partition hour PATH
#     DuckDB    benches/peers/duckdb_export.py: COPY (SELECT * FROM read_csv(...))
#                 TO 'DIR/out.parquet' (FORMAT parquet, COMPRESSION snappy), then fsync
#   DIR ($RUN/export.INPUT.TOOL.d) is removed before every run (hyperfine
#   --prepare), outside the timing. Reported: the same table plus each tool's
#   Parquet bytes, flowscan rows/s and MB/s of text, and a check that reads both
#   outputs back with DuckDB: row count = records and equal REJECT counts.
#
# How to run (from anywhere)
#   benches/compare.sh --small         1,000,000 records: about a minute
#   benches/compare.sh                 10,000,000 records (1.14 GB plain): 4-5 minutes
#   benches/compare.sh --workloads rejects,export    both workloads (export: about
#                                      half a minute more with --small, 2-3 minutes more
#                                      at 10,000,000 records)
#   benches/compare.sh --help          every option
#   Generated data is cached under ${FLOWSCAN_BENCH_DIR:-${TMPDIR:-/tmp}/flowscan-bench}
#   (or --data DIR), one directory per record count, and made again only if a
#   file is missing or its size differs from the one recorded when it was made.
#
# Needs: cargo (unless --no-build), python3 with duckdb, polars, chdb and
#   datafusion (pip install duckdb polars chdb datafusion), mawk, gzip;
#   optional: hyperfine, GNU time (/usr/bin/time), pigz. A missing peer is skipped.
#
# Adding a workload: write <name>_cmd TOOL INPUT PATH (prints the shell command
# to time, or nothing when the tool has no such command), <name>_inputs (prints
# the inputs it runs on), optionally <name>_prepare TOOL INPUT (a command run
# before every run of that tool, untimed, e.g. clearing an output folder),
# <name>_check (compares the answers in $RUN; <name>_check_intro says what),
# <name>_extra (more runs) and <name>_report (more lines under its table), and
# list <name> in the --workloads help.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)

RECORDS=10000000
RUNS=3
TOP=10
BUILD=1
DATA_ROOT=${FLOWSCAN_BENCH_DIR:-${TMPDIR:-/tmp}/flowscan-bench}
PEERS=duckdb,polars,chdb,datafusion,mawk
TOOLS=flowscan,$PEERS
INPUTS=plain,gzip,tree
WORKLOADS=rejects
TIMER=auto
IPV6_RECORDS=200000
TREE_FILES=200

usage() {
    cat <<EOF
Usage: benches/compare.sh [OPTIONS]

Whole-command comparison of flowscan against DuckDB, polars, chDB (ClickHouse
in process), Apache DataFusion and mawk on the "REJECT hotspots" query (top
interfaces, destination ports and source networks of REJECT records), on a
plain file, a gzip file and a tree of $TREE_FILES gzip files generated by flowgen; optionally (workload "export") Parquet export of
the same inputs, flowscan export against DuckDB COPY ... TO. Prints markdown
tables on standard output, progress on standard error.

Options:
  --small             1,000,000 records (default: 10,000,000)
  --records N         N records
  --runs N            timed runs per command; the median is reported (default: $RUNS)
  --top N             rows per grouping (default: $TOP)
  --data DIR          where generated data and run outputs go
                      (default: \$FLOWSCAN_BENCH_DIR, else \${TMPDIR:-/tmp}/flowscan-bench;
                      now: $DATA_ROOT)
  --tools LIST        comma-separated subset of: flowscan,$PEERS
                      (default: all; flowscan is needed for ratios and answer checks)
  --inputs LIST       comma-separated subset of: plain,gzip,tree (default: all)
  --workloads LIST    comma-separated subset of: rejects,top,filter,report,export
                      (default: rejects)
                        rejects  the REJECT hotspots query, every tool
                        top      records per (interface-id, dstport), top N, every tool
                        filter   records with action = REJECT and dstport = 22 as text
                                 on standard output, every tool
                        export   Parquet export (snappy), flowscan and DuckDB only;
                                 adds about 2-3 minutes at 10,000,000 records
  --no-build          use the existing target/release/{flowscan,flowgen}
                      (default: cargo build --release -p flowscan-cli -p flowgen)
  --bin-dir DIR       use DIR/flowscan and DIR/flowgen, built elsewhere (implies
                      --no-build; default: \$FLOWSCAN_BIN_DIR, else the repo's
                      target/release)
  --no-hyperfine      time with the script's own loop even if hyperfine is installed
  -h, --help          this text

Environment: FLOWSCAN_BENCH_DIR (as --data), FLOWSCAN_BIN_DIR (as --bin-dir),
CARGO_TARGET_DIR (where cargo builds and, without FLOWSCAN_BIN_DIR, where the
binaries are taken from), POLARS_MAX_THREADS (polars' threads; DuckDB, chDB,
DataFusion and flowscan use all cores, mawk one).

Examples:
  benches/compare.sh --small
  benches/compare.sh --runs 5 --inputs plain,gzip
  benches/compare.sh --small --workloads rejects,export
  FLOWSCAN_BENCH_DIR=/scratch/fsb benches/compare.sh --no-build
EOF
}

die() { echo "compare.sh: $*" >&2; exit 2; }
log() { echo "compare.sh: $*" >&2; }
is_count() { [[ $1 =~ ^[0-9]+$ ]] && ((10#$1 > 0)); }

while (($#)); do
    case $1 in
        --small) RECORDS=1000000 ;;
        --records) is_count "${2:-}" || die "--records needs a positive number"; RECORDS=$((10#$2)); shift ;;
        --runs) is_count "${2:-}" || die "--runs needs a positive number"; RUNS=$((10#$2)); shift ;;
        --top) is_count "${2:-}" || die "--top needs a positive number"; TOP=$((10#$2)); shift ;;
        --data) [[ -n ${2:-} ]] || die "--data needs a directory"; DATA_ROOT=$2; shift ;;
        --tools) [[ -n ${2:-} ]] || die "--tools needs a list"; TOOLS=$2; shift ;;
        --inputs) [[ -n ${2:-} ]] || die "--inputs needs a list"; INPUTS=$2; shift ;;
        --workloads) [[ -n ${2:-} ]] || die "--workloads needs a list"; WORKLOADS=$2; shift ;;
        --no-build) BUILD=0 ;;
        --bin-dir) [[ -n ${2:-} ]] || die "--bin-dir needs a directory"; FLOWSCAN_BIN_DIR=$2; shift ;;
        --no-hyperfine) TIMER=loop ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done

in_list() { [[ ",$2," == *",$1,"* ]]; }
for t in ${TOOLS//,/ }; do in_list "$t" "flowscan,$PEERS" || die "unknown tool: $t"; done
for i in ${INPUTS//,/ }; do in_list "$i" plain,gzip,tree || die "unknown input: $i"; done

# ---- tools ------------------------------------------------------------------------

# Binaries built elsewhere (--bin-dir, FLOWSCAN_BIN_DIR) are used as they are.
[[ -z ${FLOWSCAN_BIN_DIR:-} ]] || BUILD=0
BIN=${FLOWSCAN_BIN_DIR:-${CARGO_TARGET_DIR:-$REPO/target}/release}
FLOWSCAN=$BIN/flowscan
FLOWGEN=$BIN/flowgen
# The interpreter itself, not a wrapper such as a pyenv shim (which would add its
# own start-up time to every Python peer run).
PY=$(python3 -c 'import sys; print(sys.executable)') || die "python3 is needed (peers and report)"
REPORT=("$PY" "$HERE/report.py")

# Builds flowscan and flowgen (unless --no-build); sets AVAILABLE (the selected
# tools that can run here), TIMER and RSS_BY.
setup_tools() {
    if ((BUILD)); then
        log "building: cargo build --release -p flowscan-cli -p flowgen"
        (cd "$REPO" && cargo build --release -p flowscan-cli -p flowgen) >&2
    fi
    [[ -x $FLOWSCAN && -x $FLOWGEN ]] || die "no $FLOWSCAN or $FLOWGEN (build them, or drop --no-build)"

    # Which of the selected tools can run here.
    AVAILABLE=""
    for t in ${TOOLS//,/ }; do
        case $t in
            flowscan) ok=1 ;;
            duckdb | polars | chdb | datafusion) "$PY" -c "import $t" 2>/dev/null && ok=1 || ok=0 ;;
            mawk) command -v mawk >/dev/null && ok=1 || ok=0 ;;
        esac
        if ((ok)); then AVAILABLE+="$t,"; else log "skipping $t: not installed"; fi
    done
    [[ -n $AVAILABLE ]] || die "none of the tools can run"

    if [[ $TIMER == auto ]]; then
        if command -v hyperfine >/dev/null; then TIMER=hyperfine; else
            TIMER=loop
            log "hyperfine not found (apt-get install hyperfine); timing with a loop instead"
        fi
    fi
    if /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then RSS_BY="GNU time"; else RSS_BY="getrusage"; fi
}

# ---- data -------------------------------------------------------------------------

# Total size in bytes of a file or of the files under a directory.
size_of() { if [[ -d $1 ]]; then find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; else stat -c %s "$1"; fi; }

# fresh NAME PATH: the data at PATH exists and has the size recorded in NAME.ok.
fresh() { [[ -e $2 && -f $DATA/$1.ok && $(cat "$DATA/$1.ok") == "$(size_of "$2")" ]]; }
made() { size_of "$2" >"$DATA/$1.ok"; }

ensure_data() {
    local t0=$SECONDS
    if ! fresh plain "$DATA/plain.log"; then
        log "generating $RECORDS records: $DATA/plain.log"
        rm -f "$DATA/plain.ok" "$DATA/gzip.ok"
        "$FLOWGEN" --records "$RECORDS" --out "$DATA/plain.log.tmp"
        mv "$DATA/plain.log.tmp" "$DATA/plain.log"
        made plain "$DATA/plain.log"
    fi
    if in_list gzip "$INPUTS" && ! fresh gzip "$DATA/plain.log.gz"; then
        log "compressing: gzip -6 -k $DATA/plain.log"
        gzip -6 -c "$DATA/plain.log" >"$DATA/plain.log.gz.tmp"
        mv "$DATA/plain.log.gz.tmp" "$DATA/plain.log.gz"
        made gzip "$DATA/plain.log.gz"
    fi
    if in_list tree "$INPUTS" && ! fresh tree "$DATA/tree"; then
        log "generating $RECORDS records: a tree of $TREE_FILES gzip files under $DATA/tree"
        rm -rf "$DATA/tree" "$DATA/tree.ok"
        "$FLOWGEN" --records "$RECORDS" --tree "$DATA/tree" --files "$TREE_FILES" --level 6 >&2
        made tree "$DATA/tree"
    fi
    if ! fresh ipv6 "$DATA/ipv6.log"; then
        "$FLOWGEN" --records "$IPV6_RECORDS" --ipv6-ratio 1 --out "$DATA/ipv6.log.tmp"
        mv "$DATA/ipv6.log.tmp" "$DATA/ipv6.log"
        made ipv6 "$DATA/ipv6.log"
    fi
    ((SECONDS - t0 < 2)) || log "data ready in $((SECONDS - t0)) s"
}

input_path() {
    case $1 in
        plain) echo "$DATA/plain.log" ;;
        gzip) echo "$DATA/plain.log.gz" ;;
        tree) echo "$DATA/tree" ;;
        ipv6) echo "$DATA/ipv6.log" ;;
    esac
}

q() { printf '%q' "$1"; }

# ---- measuring --------------------------------------------------------------------

# answer_run CMD OUT [PREP]: runs PREP (untimed), then CMD once (also warming the
# page cache), its standard output to OUT, standard error to OUT.err; prints its
# peak RSS in KiB.
answer_run() {
    local cmd=$1 out=$2 prep=${3:-} rss=$RUN/rss.tmp
    rm -f "$rss"
    if [[ -n $prep ]]; then bash -c "$prep" >"$out.err" 2>&1 || return 1; fi
    if [[ $RSS_BY == "GNU time" ]]; then
        /usr/bin/time -f %M -o "$rss" bash -o pipefail -c "$cmd" >"$out" 2>"$out.err" || return 1
    else
        "$PY" -c 'import resource, subprocess, sys
r = subprocess.run(["bash", "-o", "pipefail", "-c", sys.argv[1]])
open(sys.argv[2], "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(r.returncode)' "$cmd" "$rss" >"$out" 2>"$out.err" || return 1
    fi
    tail -n 1 "$rss"
}

# median_time NAME CMD [PREP]: prints the median wall time of RUNS runs of CMD,
# seconds; PREP (if any) runs before each, untimed.
median_time() {
    local name=$1 cmd=$2 prep=${3:-} i t0 t1
    if [[ $TIMER == hyperfine ]]; then
        local json=$RUN/hyperfine.$name.json opts=()
        [[ -z $prep ]] || opts=(--prepare "$prep")
        hyperfine --runs "$RUNS" --shell "bash -o pipefail" --style basic "${opts[@]}" \
            --export-json "$json" -n "$name" "$cmd" >>"$RUN/hyperfine.log" 2>&1 || return 1
        "$PY" -c 'import json, sys; print("%.6f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$json"
    else
        : >"$RUN/times.tmp"
        for ((i = 0; i < RUNS; i++)); do
            if [[ -n $prep ]]; then bash -c "$prep" >/dev/null 2>&1 || return 1; fi
            t0=$(date +%s%N)
            bash -o pipefail -c "$cmd" >/dev/null 2>&1 || return 1
            t1=$(date +%s%N)
            echo "$(((t1 - t0) / 1000))e-6" >>"$RUN/times.tmp"
        done
        "${REPORT[@]}" median "$RUN/times.tmp"
    fi
}

# measure WORKLOAD INPUT TOOL CMD [timed [PREP]]: one answer run (peak RSS, answer
# kept as $RUN/WORKLOAD.INPUT.TOOL.out), then, if timed, RUNS timed runs; PREP
# runs (untimed) before each; appends a row to $RESULTS.
measure() {
    local wl=$1 inp=$2 tool=$3 cmd=$4 timed=${5:-timed} prep=${6:-} out rss med
    out=$RUN/$wl.$inp.$tool.out
    echo "$cmd" >"$RUN/$wl.$inp.$tool.cmd"
    log "  $tool on $inp: $cmd"
    if ! rss=$(answer_run "$cmd" "$out" "$prep"); then
        log "  $tool on $inp FAILED: $(head -c 400 "$out.err")"
        mv "$out" "$out.failed"
        printf '%s\t%s\t%s\t-\t-\tfailed\n' "$wl" "$inp" "$tool" >>"$RESULTS"
        return 0
    fi
    [[ $timed == timed ]] || return 0
    if ! med=$(median_time "$wl.$inp.$tool" "$cmd" "$prep"); then
        log "  $tool on $inp FAILED while timing (see $RUN/hyperfine.log)"
        printf '%s\t%s\t%s\t-\t%s\tfailed\n' "$wl" "$inp" "$tool" "$rss" >>"$RESULTS"
        return 0
    fi
    printf '%s\t%s\t%s\t%s\t%s\tok\n' "$wl" "$inp" "$tool" "$med" "$rss" >>"$RESULTS"
}

# ---- workload: rejects ------------------------------------------------------------

rejects_inputs() { echo "${INPUTS//,/ }"; }

# rejects_cmd TOOL INPUT PATH: the shell command answering the query.
rejects_cmd() {
    local tool=$1 inp=$2 path=$3 src
    # The Python peers take files or a glob; the tree is every .gz below it.
    src=$(q "$path")
    [[ $inp == tree ]] && src="$(q "$path")/'**/*.gz'"
    case $tool in
        flowscan) echo "$(q "$FLOWSCAN") rejects --format json -q --top $TOP $(q "$path")" ;;
        duckdb) echo "$(q "$PY") $(q "$HERE/peers/duckdb_rejects.py") --top $TOP $src" ;;
        polars) echo "$(q "$PY") $(q "$HERE/peers/polars_rejects.py") --top $TOP $src" ;;
        chdb) echo "$(q "$PY") $(q "$HERE/peers/chdb_rejects.py") --top $TOP $src" ;;
        datafusion) echo "$(q "$PY") $(q "$HERE/peers/datafusion_rejects.py") --top $TOP $src" ;;
        mawk)
            local awk
            awk="mawk -v top=$TOP -f $(q "$HERE/peers/rejects.awk")"
            case $inp in
                gzip) echo "gzip -dc $(q "$path") | $awk" ;;
                tree) echo "find $(q "$path") -type f -name '*.gz' -print0 | LC_ALL=C sort -z | xargs -0 gzip -dc | $awk" ;;
                *) echo "$awk $(q "$path")" ;;
            esac
            ;;
    esac
}

rejects_check() { "${REPORT[@]}" answers rejects "$RUN"; }

rejects_check_intro() {
    echo "answers (top $TOP per grouping, compared as (key, records) lists; ports as"
    echo "\"dstport/protocol\", networks as IPv4 /24 and IPv6 /64 in canonical text, by every"
    echo "tool; inputs: ${INPUTS//,/, }, plus ipv6 = $IPV6_RECORDS all-IPv6 records, answers only):"
}

rejects_report() {
    echo
    echo "flowscan throughput (whole command):"
    "${REPORT[@]}" speed rejects "$RESULTS" "$RUN"
}

# Extra runs that only this workload has: the all-IPv6 answer check and the
# thread scaling of flowscan on the plain file.
rejects_extra() {
    local t cmd
    for t in ${AVAILABLE//,/ }; do
        cmd=$(rejects_cmd "$t" ipv6 "$(input_path ipv6)")
        measure rejects ipv6 "$t" "$cmd" untimed
    done
    if in_list flowscan "$AVAILABLE" && in_list plain "$INPUTS"; then
        cmd="$(q "$FLOWSCAN") rejects --format json -q --top $TOP --threads 1 $(q "$(input_path plain)")"
        measure scaling plain flowscan-t1 "$cmd"
    fi
}

# ---- workloads: top and filter -----------------------------------------------------

# The same query by every tool: records per (interface-id, dstport), top N.
top_inputs() { echo "${INPUTS//,/ }"; }

# py_src INPUT PATH: the Python peers' input (the tree as a glob of its .gz files).
py_src() {
    if [[ $1 == tree ]]; then echo "$(q "$2")/'**/*.gz'"; else q "$2"; fi
}

# mawk_input INPUT PATH: the text of an input on mawk's standard input.
mawk_input() {
    case $1 in
        gzip) echo "gzip -dc $(q "$2")" ;;
        tree) echo "find $(q "$2") -type f -name '*.gz' -print0 | LC_ALL=C sort -z | xargs -0 gzip -dc" ;;
        *) echo "cat $(q "$2")" ;;
    esac
}

top_cmd() {
    local tool=$1 inp=$2 path=$3
    case $tool in
        flowscan) echo "$(q "$FLOWSCAN") top --by interface-id,dstport --top $TOP --format json -q $(q "$path")" ;;
        duckdb | polars | chdb | datafusion)
            echo "$(q "$PY") $(q "$HERE/peers/query.py") $tool top --top $TOP $(py_src "$inp" "$path")" ;;
        # Fields 3 and 7 of the version 2 default format; "count eni port" lines
        # (the last step reads every line: head would make sort fail on SIGPIPE).
        mawk) echo "$(mawk_input "$inp" "$path") | mawk '\$1 != \"version\" { n[\$3 \" \" \$7]++ } END { for (k in n) print n[k], k }' | LC_ALL=C sort -k1,1nr -k2,2 -k3,3n | mawk 'NR <= $TOP'" ;;
    esac
}

top_check() { "${REPORT[@]}" answers top "$RUN"; }

top_check_intro() {
    echo "answers (top $TOP (interface-id, dstport) keys by records, compared as (interface,"
    echo "port, records) lists):"
}

top_report() {
    echo
    echo "flowscan throughput (whole command):"
    "${REPORT[@]}" speed top "$RESULTS" "$RUN"
}

# Matching records as text on standard output (timed runs write it to /dev/null).
filter_inputs() { echo "${INPUTS//,/ }"; }

filter_cmd() {
    local tool=$1 inp=$2 path=$3
    case $tool in
        flowscan) echo "$(q "$FLOWSCAN") filter -q --where 'action = REJECT and dstport = 22' $(q "$path")" ;;
        duckdb | polars | chdb | datafusion)
            echo "$(q "$PY") $(q "$HERE/peers/query.py") $tool filter $(py_src "$inp" "$path")" ;;
        mawk) echo "$(mawk_input "$inp" "$path") | mawk '\$1 == \"version\" { if (!h++) print; next } \$13 == \"REJECT\" && \$7 == \"22\"'" ;;
    esac
}

filter_check() { "${REPORT[@]}" answers filter "$RUN"; }

filter_check_intro() {
    echo "answers (the records printed, compared as sorted lists of lines with header lines"
    echo "and double quotes left out, as a count and a SHA-256):"
}

# ---- workload: report -------------------------------------------------------------
# The whole report `flowscan rejects` prints, on equal work: the rejects workload's
# peers count records of three groupings, while flowscan also sums packets and
# bytes, counts distinct peers, finds first and last seen, keeps a fourth table
# (destinations) and counts every record's action and status. Here DuckDB
# computes all of it (the other peers have no such command yet).

report_inputs() { echo "${INPUTS//,/ }"; }

report_cmd() {
    local tool=$1 inp=$2 path=$3
    case $tool in
        flowscan) echo "$(q "$FLOWSCAN") rejects --format json -q --top $TOP $(q "$path")" ;;
        duckdb) echo "$(q "$PY") $(q "$HERE/peers/duckdb_rejects.py") --full --top $TOP $(py_src "$inp" "$path")" ;;
    esac
}

report_check() { "${REPORT[@]}" answers report "$RUN"; }

report_check_intro() {
    echo "answers (every column of the top $TOP rows of the four tables, and the totals;"
    echo "rows tied on records at the end of a table may differ, as the order of ties differs):"
}

# ---- workload: export -------------------------------------------------------------

export_inputs() { echo "${INPUTS//,/ }"; }

# export_dest TOOL INPUT: the output folder of that run (removed before each run).
export_dest() { echo "$RUN/export.$2.$1.d"; }

# export_cmd TOOL INPUT PATH: the shell command writing Parquet under export_dest;
# nothing for the other peers (this workload is flowscan against DuckDB only).
export_cmd() {
    local tool=$1 inp=$2 path=$3 src dest
    dest=$(export_dest "$tool" "$inp")
    src=$(q "$path")
    [[ $inp == tree ]] && src="$(q "$path")/'**/*.gz'"
    case $tool in
        # --format json: the summary (rows, bytes of text) on standard output, for
        # the throughput lines; -q still hides the progress bar.
        flowscan) echo "$(q "$FLOWSCAN") export -q --format json --out $(q "$dest") --overwrite --compression snappy --partition hour $(q "$path")" ;;
        duckdb) echo "$(q "$PY") $(q "$HERE/peers/duckdb_export.py") --compression snappy --out $(q "$dest/out.parquet") $src" ;;
    esac
}

export_prepare() { echo "rm -rf $(q "$(export_dest "$1" "$2")")"; }

export_check_intro() {
    echo "outputs read back with DuckDB (read_parquet('DIR/**/*.parquet')): rows, expected"
    echo "$RECORDS (the records generated), and rows with action = 'REJECT', expected equal:"
}

export_check() { "${REPORT[@]}" export-check "$RUN" "$RECORDS"; }

export_report() {
    echo
    echo "flowscan: Hive-style partitions by hour, files of up to 128 MB (fsync'ed as closed);"
    echo "DuckDB: one file, fsync'ed by the peer after COPY. out MB = Parquet bytes written."
    echo
    echo "flowscan throughput (whole command):"
    "${REPORT[@]}" speed export "$RESULTS" "$RUN"
}

# ---- reference lines --------------------------------------------------------------

# The time to merely inflate the gzip file, and the Python peers' fixed cost.
reference() {
    local gz=$DATA/plain.log.gz line med t
    log "reference runs"
    if [[ -f $gz ]] && in_list gzip "$INPUTS"; then
        line="inflate $(basename "$gz") ($(($(stat -c %s "$gz") / 1000000)) MB to $(($(stat -c %s "$DATA/plain.log") / 1000000)) MB), to /dev/null:"
        med=$(median_time inflate.gzip "gzip -dc $(q "$gz") >/dev/null") && line+=" gzip -dc $(printf %.3f "$med") s;"
        med=$(median_time inflate.zlib "$(q "$PY") -c 'import sys, zlib
d = zlib.decompressobj(31)
with open(sys.argv[1], \"rb\") as f:
    for b in iter(lambda: f.read(1 << 20), b\"\"):
        d.decompress(b)' $(q "$gz")") && line+=" python zlib $(printf %.3f "$med") s;"
        if command -v pigz >/dev/null; then
            med=$(median_time inflate.pigz "pigz -dc $(q "$gz") >/dev/null") && line+=" pigz -dc $(printf %.3f "$med") s"
        else
            line+=" pigz not installed"
        fi
        echo "$line"
    fi
    line=""
    for t in duckdb polars chdb datafusion; do
        in_list "$t" "$AVAILABLE" || continue
        med=$(median_time "startup.$t" "$(q "$PY") -c 'import $t'") && line+=" import $t $(printf %.3f "$med") s;"
    done
    [[ -z $line ]] || echo "python start-up (included in the Python peers' times): python3 -c:${line%;}"
}

# ---- main -------------------------------------------------------------------------

for w in ${WORKLOADS//,/ }; do
    declare -F "${w}_cmd" >/dev/null || die "unknown workload: $w"
done

setup_tools

DATA=$DATA_ROOT/r$RECORDS
RUN=$DATA/run
mkdir -p "$DATA"
rm -rf "$RUN"
mkdir -p "$RUN"
RESULTS=$RUN/results.tsv
: >"$RESULTS"

ensure_data

LOAD0=$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || echo "?")
log "timing with $TIMER ($RUNS runs, median), peak RSS by $RSS_BY; outputs in $RUN"
for wl in ${WORKLOADS//,/ }; do
    skipped=""
    for inp in $("${wl}_inputs"); do
        path=$(input_path "$inp")
        for t in ${AVAILABLE//,/ }; do
            cmd=$("${wl}_cmd" "$t" "$inp" "$path")
            if [[ -z $cmd ]]; then
                if ! in_list "$t" "$skipped"; then
                    log "  $t: no $wl command, not run"
                    skipped+="$t,"
                fi
                continue
            fi
            prep=""
            if declare -F "${wl}_prepare" >/dev/null; then prep=$("${wl}_prepare" "$t" "$inp"); fi
            measure "$wl" "$inp" "$t" "$cmd" timed "$prep"
        done
    done
    echo "${skipped%,}" >"$RUN/$wl.notrun"
    if declare -F "${wl}_extra" >/dev/null; then "${wl}_extra"; fi
done

{
    mb=$(($(stat -c %s "$DATA/plain.log") / 1000000))
    echo "## flowscan vs DuckDB, polars, chDB, DataFusion, mawk: whole commands"
    echo
    echo "$RECORDS records ($mb MB as text); inputs: plain = one text file, gzip = the same"
    echo "file gzipped, tree = $TREE_FILES gzip files in an S3-style tree. $(nproc) cores; warm page"
    echo "cache; median of $RUNS runs ($TIMER); peer/flowscan = peer time / flowscan time;"
    echo "RSS = peak resident set in MiB ($RSS_BY; for a pipeline, its largest process;"
    echo "flowscan memory-maps plain files, so their pages count in its RSS). Load average"
    echo "(1 min) before / after the runs: $LOAD0 / $(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || echo "?")"\
        "(other work on the machine skews the times)."
    echo
    echo "versions: flowscan $("$FLOWSCAN" --version 2>/dev/null | awk '{ print $2 }'),"\
        "$("$PY" -c 'import duckdb; print("DuckDB", duckdb.__version__)' 2>/dev/null || echo "DuckDB -"),"\
        "$("$PY" -c 'import polars; print("polars", polars.__version__)' 2>/dev/null || echo "polars -"),"\
        "$("$PY" -c 'import chdb; print("chDB", chdb.__version__, "(ClickHouse", chdb.engine_version + ")")' 2>/dev/null || echo "chDB -"),"\
        "$("$PY" -c 'import datafusion; print("DataFusion", datafusion.__version__)' 2>/dev/null || echo "DataFusion -"),"\
        "$(mawk -W version 2>/dev/null | head -n 1 | awk '{ print $1, $2 }' || echo "mawk -"),"\
        "$("$PY" --version)"
    for wl in ${WORKLOADS//,/ }; do
        echo
        echo "### $wl"
        echo
        "${REPORT[@]}" table "$wl" "$RESULTS" "$RUN"
        notrun=$(cat "$RUN/$wl.notrun")
        if [[ -n $notrun ]]; then
            echo
            echo "not run for this workload (it has no command for them): ${notrun//,/, }"
        fi
        if declare -F "${wl}_report" >/dev/null; then "${wl}_report"; fi
        if declare -F "${wl}_check" >/dev/null; then
            echo
            if declare -F "${wl}_check_intro" >/dev/null; then "${wl}_check_intro"; fi
            "${wl}_check" || true
        fi
    done
    echo
    reference
} | tee "$RUN/report.md"
