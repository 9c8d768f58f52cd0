#!/usr/bin/env bash
# bench/run.sh BUILD_DIR - Sluice's benchmark harness (`make bench`; not part of `make test`).
#
# Generates the equipment table with bench/gen.py into a temporary folder (never the
# repo): NDJSON clean and 1% bad, CSV (flat form) clean and 1% bad, gzip NDJSON.  Then
# runs every tool on the same files, BENCH_RUNS rounds (each round runs every case
# once, so slow drift of a noisy machine hits all tools alike), takes medians, checks
# peak RSS on a ~2 GB input, profiles `sluice validate` with callgrind, prints the
# table and writes BENCHMARKS.md (bench/report.py does the arithmetic).
#
# Environment:
#   BENCH_ROWS=1000000     rows per generated file (e.g. 200000 for a quick run)
#   BENCH_RUNS=3           rounds; medians are over these
#   BENCH_BIG_MB=2000      size of the concatenated file for the RSS check (0: skip)
#   BENCH_PROFILE_ROWS=50000  rows of the file profiled with callgrind (0: skip)
#   BENCH_DIR=DIR          work in DIR and keep/reuse its generated data (else a fresh
#                          mktemp folder whose data files are deleted at the end)
#   BENCH_KEEP=1           keep the generated data of the mktemp folder
#   BENCH_GEN_ONLY=1       stop after generating the data (with BENCH_DIR: prepare once)
#   BENCH_MD=FILE          where to write the report (default: BENCHMARKS.md at the
#                          repo root for the default size, else in the work folder)
#   BENCH_REV=LABEL        revision label for the report (default: git describe of the repo)
#   BENCH_QUIET_WAIT=60    seconds to wait, before each run, for other processes to
#                          leave the CPUs (< 15% busy); 0: do not wait
#   BENCH_QUIET_BUDGET=300 total seconds of such waiting per bench run
#   DUCKDB_HOME            as for the build: an official DuckDB release to use
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$here/build}" && pwd)
SLUICE="$BUILD/sluice"
[ -x "$SLUICE" ] || { echo "bench: $SLUICE not found; run make build" >&2; exit 2; }

ROWS=${BENCH_ROWS:-1000000}
RUNS=${BENCH_RUNS:-3}
BIG_MB=${BENCH_BIG_MB:-2000}
PROF_ROWS=${BENCH_PROFILE_ROWS:-50000}
NPROC=$(nproc)
SCHEMAS="$here/samples/schemas/main"
DUCKDB_DIR=${DUCKDB_HOME:-$here/third_party/duckdb}
BIG_BAD=1000000000        # --max-bad-records: never stop early on the 1%-bad files

"$here/scripts/setup.sh" --bench

# ---- work folder ---------------------------------------------------------------------
if [ -n "${BENCH_DIR:-}" ]; then
    mkdir -p "$BENCH_DIR"; T=$(cd "$BENCH_DIR" && pwd); KEEP=1
else
    T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX"); KEEP=${BENCH_KEEP:-0}
fi
case "$T/" in "$here"/*) echo "bench: refusing to work inside the repo ($T)" >&2; exit 2;; esac
cleanup() {
    rm -f "$T"/*.duckdb "$T"/*.duckdb.wal "$T"/big.ndjson
    if [ "$KEEP" != 1 ]; then rm -f "$T"/*.ndjson "$T"/*.csv "$T"/*.gz "$T"/*.done; fi
}
trap cleanup EXIT
echo "bench: work folder $T ($ROWS rows, $RUNS runs, $NPROC cores)"

# ---- peers ---------------------------------------------------------------------------
mkdir -p "$BUILD/bench"
g++ -O3 -march=native -std=c++17 -Wall -Wextra -o "$BUILD/bench/simdjson_touch" \
    "$here/bench/simdjson_touch.cpp" -lsimdjson -lz
gcc -O2 -std=c11 -Wall -Wextra -I "$DUCKDB_DIR" -o "$BUILD/bench/duckdb_read" \
    "$here/bench/duckdb_read.c" -L "$DUCKDB_DIR" -lduckdb -Wl,-rpath,"$DUCKDB_DIR"
TOUCH="$BUILD/bench/simdjson_touch"
# the same program without -march=native for callgrind, which runs no AVX-512
# (simdjson then picks its kernel at run time, as it would on an older CPU)
g++ -O3 -std=c++17 -Wall -Wextra -o "$BUILD/bench/simdjson_touch_vg" \
    "$here/bench/simdjson_touch.cpp" -lsimdjson -lz
TOUCH_VG="$BUILD/bench/simdjson_touch_vg"
DREAD="$BUILD/bench/duckdb_read"

# ---- data ----------------------------------------------------------------------------
gen() {  # gen NAME ARGS... : make $T/NAME unless a finished copy is there
    local name=$1; shift
    if [ -f "$T/$name.done" ] && [ -f "$T/$name" ]; then return 0; fi
    rm -f "$T/$name" "$T/$name.done"
    python3 "$here/bench/gen.py" --table equipment --rows "$ROWS" -q "$@" -o "$T/$name"
    touch "$T/$name.done"
}
# Stamp the folder with the size so a reused BENCH_DIR never mixes sizes.
if [ "$(cat "$T/rows.txt" 2>/dev/null)" != "$ROWS" ]; then rm -f "$T"/*.done; fi
echo "$ROWS" > "$T/rows.txt"
g0=$(date +%s)
echo "bench: generating data with bench/gen.py ..."
gen eq.ndjson &
gen eq_bad.ndjson --bad-fraction 0.01 --truth "$T/eq_bad.truth.tsv" &
wait
gen eq_flat.csv --format csv &
gen eq_flat_bad.csv --format csv --bad-fraction 0.01 --truth "$T/eq_flat_bad.truth.tsv" &
wait
if ! [ -f "$T/eq.ndjson.gz.done" ]; then   # same bytes as gen.py -o x.gz (mtime 0)
    gzip -n -6 -c "$T/eq.ndjson" > "$T/eq.ndjson.gz"; touch "$T/eq.ndjson.gz.done"
fi
echo "bench: data ready in $(( $(date +%s) - g0 )) s"
ls -l "$T"/eq*.ndjson "$T"/eq*.csv "$T"/eq*.gz
if [ "${BENCH_GEN_ONLY:-0}" = 1 ]; then KEEP=1; echo "bench: data only (BENCH_GEN_ONLY=1)"; exit 0; fi

size() { stat -c %s "$1"; }
S_ND=$(size "$T/eq.ndjson"); S_NDB=$(size "$T/eq_bad.ndjson")
S_CSV=$(size "$T/eq_flat.csv"); S_CSVB=$(size "$T/eq_flat_bad.csv")
S_GZ=$(size "$T/eq.ndjson.gz")

# ---- one measured run ------------------------------------------------------------------
RAW="$T/runs.tsv"
printf 'round\ttool\tfile\tbytes\trows\tseconds\trss_kb\texit\tothers_cpu\tcheck\tcommand\n' > "$RAW"
LOGS="$T/logs"; mkdir -p "$LOGS"

. "$here/bench/quiet.sh"   # wait_quiet, cpu_sample
HZ=$(getconf CLK_TCK)

# measure ROUND TOOL FILE BYTES STDOUT -- CMD...   (STDOUT: a path or /dev/null)
# BYTES: uncompressed input size (MB/s on the gzip file are of decompressed NDJSON).
measure() {
    local round=$1 tool=$2 file=$3 bytes=$4 out=$5; shift 6
    local key; key=$(printf '%s_%s' "$tool" "$file" | tr -c 'A-Za-z0-9_.-' '_')
    local log="$LOGS/$key.r$round" tf="$T/time.txt"
    [ "$out" = "-" ] && out="$log.out"
    local t0 t1 rc=0 cb0 cb1 _t
    wait_quiet
    read -r cb0 _t < <(cpu_sample)
    t0=$(date +%s%N)
    if [ "${POLL_MEM:-0}" = 1 ]; then
        # also sample the process's anonymous vs file-backed (mmap) resident memory
        /usr/bin/time -v -o "$tf" "$@" > "$out" 2> "$log.err" & local tpid=$!
        local anon=0 fmax=0 c a f
        while kill -0 "$tpid" 2>/dev/null; do
            for c in $(pgrep -P "$tpid"); do
                read -r a f < <(awk '/^RssAnon/ {a=$2} /^RssFile/ {f=$2} END {print a+0, f+0}' \
                    "/proc/$c/status" 2>/dev/null || echo 0 0)
                [ "$a" -gt "$anon" ] && anon=$a
                [ "$f" -gt "$fmax" ] && fmax=$f
            done
            sleep 0.05
        done
        wait "$tpid" || rc=$?
        MEM_NOTE="sampled peak RssAnon $(( anon / 1024 )) MB, RssFile $(( fmax / 1024 )) MB"
    else
        /usr/bin/time -v -o "$tf" "$@" > "$out" 2> "$log.err" || rc=$?
    fi
    t1=$(date +%s%N)
    read -r cb1 _t < <(cpu_sample)
    # share of the machine's CPU capacity used by other processes during the run
    local ours; ours=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s + 0 }' "$tf")
    local others; others=$(awk -v b="$(( cb1 - cb0 ))" -v hz="$HZ" -v o="$ours" -v a="$t0" \
        -v z="$t1" -v n="$NPROC" 'BEGIN { w = (z - a) / 1e9; x = (b / hz - o) / (w * n);
        if (x < 0) x = 0; printf "%.2f", x }')
    local rss; rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf"); rss=${rss:-0}
    local secs; secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    local check=""
    if [ "$out" != /dev/null ]; then
        case "$tool" in
        sluice*) check=$(grep -Eo '[0-9]+ rows, [0-9]+ valid, [0-9]+ rejected' "$out" | tail -n 1) ;;
        simdjson*) check=$(tail -n 1 "$out") ;;
        duckdb*) check="rows,non-null registered_at: $(tail -n 1 "$out" | tr '\t' ',')" ;;
        jq*) check="$(wc -l < "$out") lines printed" ;;
        esac
    fi
    if [ "${POLL_MEM:-0}" = 1 ]; then check="$check; $MEM_NOTE"; fi
    local cmd="" arg
    for arg in "$@"; do     # shell-quoted, copy-pastable (after: cd $T; REPO=...; BUILD=...)
        if [[ $arg =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then
            arg=${arg//$BUILD/\$BUILD}; arg=${arg//$here/\$REPO}
        else
            arg="'${arg//\'/\'\\\'\'}'"
        fi
        cmd="$cmd${cmd:+ }$arg"
    done
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$tool" "$file" "$bytes" \
        "$ROWS" "$secs" "$rss" "$rc" "$others" "$check" "$cmd" >> "$RAW"
    printf '  %-28s %-18s %8.2f s %7.1f MB/s %6d MB RSS  others %3.0f%%%s\n' "$tool" "$file" \
        "$secs" "$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.1f", b / 1e6 / s }')" \
        "$(( rss / 1024 ))" "$(awk -v x="$others" 'BEGIN { print x * 100 }')" \
        "$([ "$rc" = 0 ] || echo "  EXIT $rc (see $log.err)")"
}

# DuckDB columns, written by hand from samples/schemas/main (same types as sluice's table).
JCOLS="{primary_id_type: 'VARCHAR', primary_id_value: 'VARCHAR', equipment_category: 'VARCHAR',"
JCOLS="$JCOLS manufacturer: 'VARCHAR', model: 'VARCHAR', year: 'BIGINT', registered_at: 'TIMESTAMPTZ',"
JCOLS="$JCOLS specs: 'STRUCT(fuel_type VARCHAR, power_kw DOUBLE, weight_kg DOUBLE,"
JCOLS="$JCOLS displacement_cc BIGINT, color VARCHAR)', tags: 'VARCHAR[]'}"
CCOLS="{'primary_id_type': 'VARCHAR', 'primary_id_value': 'VARCHAR', 'equipment_category': 'VARCHAR',"
CCOLS="$CCOLS 'manufacturer': 'VARCHAR', 'model': 'VARCHAR', 'year': 'BIGINT', 'registered_at': 'TIMESTAMPTZ',"
CCOLS="$CCOLS 'specs_fuel_type': 'VARCHAR', 'specs_power_kw': 'DOUBLE', 'specs_weight_kg': 'DOUBLE',"
CCOLS="$CCOLS 'specs_displacement_cc': 'BIGINT', 'specs_color': 'VARCHAR', 'tags': 'VARCHAR'}"
COUNT="SELECT count(*), count(registered_at) FROM t"
# ignore_errors: DuckDB cannot cast some accepted spellings (epoch seconds, '... UTC'); with
# it, it stores NULL for those values instead of failing the whole file.
read_json() { echo "CREATE TABLE t AS SELECT * FROM read_json('$1', format='newline_delimited', ignore_errors=true, columns=$JCOLS)"; }
read_csv() { echo "CREATE TABLE t AS SELECT * FROM read_csv('$1', header=true, delim=',', quote='\"', escape='\"', auto_detect=false, columns=$CCOLS)"; }
VIN_JQ='select(.primary_id_type=="VIN" and (.primary_id_value|test("^[A-HJ-NPR-Z0-9]{17}$")|not))'

EQ=(--table universal_equipment_registry)
FLAT=(--table equipment_flat --header)
LOADDB=load.duckdb; PEERDB=peer.duckdb   # relative: commands run in $T
fresh() { rm -f "$1" "$1.wal"; }

round() {
    local r=$1
    # raw read bandwidth (and gzip's own decompression for the .gz file)
    measure "$r" cat ndjson "$S_ND" /dev/null -- cat "eq.ndjson"
    measure "$r" cat ndjson_bad "$S_NDB" /dev/null -- cat "eq_bad.ndjson"
    measure "$r" cat csv "$S_CSV" /dev/null -- cat "eq_flat.csv"
    measure "$r" cat csv_bad "$S_CSVB" /dev/null -- cat "eq_flat_bad.csv"
    measure "$r" "gzip -dc" ndjson.gz "$S_ND" /dev/null -- gzip -dc "eq.ndjson.gz"
    # Each case runs right next to the one it is compared with (one thread and all
    # cores, simdjson, the 1%-bad file; the load and DuckDB's reader), so that a ratio
    # taken within a round sees the same machine: report.py judges the ratio floors
    # on the median of those per-round ratios.
    measure "$r" "sluice validate" ndjson "$S_ND" - -- "$SLUICE" validate --schemas "$SCHEMAS" "${EQ[@]}" --threads 1 "eq.ndjson"
    measure "$r" "sluice validate -t$NPROC" ndjson "$S_ND" - -- "$SLUICE" validate --schemas "$SCHEMAS" "${EQ[@]}" --threads "$NPROC" "eq.ndjson"
    # simdjson On-Demand, every field touched
    measure "$r" "simdjson touch" ndjson "$S_ND" - -- "$TOUCH" "eq.ndjson"
    measure "$r" "sluice validate" ndjson_bad "$S_NDB" - -- "$SLUICE" validate --schemas "$SCHEMAS" "${EQ[@]}" --threads 1 --max-bad-records "$BIG_BAD" "eq_bad.ndjson"
    measure "$r" "sluice validate -t$NPROC" ndjson_bad "$S_NDB" - -- "$SLUICE" validate --schemas "$SCHEMAS" "${EQ[@]}" --threads "$NPROC" --max-bad-records "$BIG_BAD" "eq_bad.ndjson"
    measure "$r" "simdjson touch" ndjson_bad "$S_NDB" - -- "$TOUCH" "eq_bad.ndjson"
    measure "$r" "sluice validate" ndjson.gz "$S_ND" - -- "$SLUICE" validate --schemas "$SCHEMAS" "${EQ[@]}" --threads 1 "eq.ndjson.gz"
    measure "$r" "simdjson touch" ndjson.gz "$S_ND" - -- "$TOUCH" "eq.ndjson.gz"
    measure "$r" "sluice validate" csv "$S_CSV" - -- "$SLUICE" validate --schemas "$SCHEMAS" "${FLAT[@]}" --threads 1 "eq_flat.csv"
    measure "$r" "sluice validate -t$NPROC" csv "$S_CSV" - -- "$SLUICE" validate --schemas "$SCHEMAS" "${FLAT[@]}" --threads "$NPROC" "eq_flat.csv"
    measure "$r" "sluice validate" csv_bad "$S_CSVB" - -- "$SLUICE" validate --schemas "$SCHEMAS" "${FLAT[@]}" --threads 1 --max-bad-records "$BIG_BAD" "eq_flat_bad.csv"
    # sluice load into a fresh DuckDB file: by default on every core (as DuckDB's
    # readers), and on one thread (file order kept); each next to DuckDB's own reader
    # (same libduckdb, fresh database file)
    fresh "$LOADDB"; measure "$r" "sluice load" ndjson "$S_ND" - -- "$SLUICE" load --schemas "$SCHEMAS" "${EQ[@]}" --warehouse "duckdb://./$LOADDB" "eq.ndjson"
    fresh "$PEERDB"; measure "$r" "duckdb read_json" ndjson "$S_ND" - -- "$DREAD" "$PEERDB" "$(read_json "eq.ndjson")" "$COUNT"
    fresh "$LOADDB"; measure "$r" "sluice load" ndjson_bad "$S_NDB" - -- "$SLUICE" load --schemas "$SCHEMAS" "${EQ[@]}" --max-bad-records "$BIG_BAD" --warehouse "duckdb://./$LOADDB" "eq_bad.ndjson"
    fresh "$PEERDB"; measure "$r" "duckdb read_json" ndjson_bad "$S_NDB" - -- "$DREAD" "$PEERDB" "$(read_json "eq_bad.ndjson")" "$COUNT"
    fresh "$LOADDB"; measure "$r" "sluice load" ndjson.gz "$S_ND" - -- "$SLUICE" load --schemas "$SCHEMAS" "${EQ[@]}" --warehouse "duckdb://./$LOADDB" "eq.ndjson.gz"
    fresh "$PEERDB"; measure "$r" "duckdb read_json" ndjson.gz "$S_ND" - -- "$DREAD" "$PEERDB" "$(read_json "eq.ndjson.gz")" "$COUNT"
    fresh "$LOADDB"; measure "$r" "sluice load" csv "$S_CSV" - -- "$SLUICE" load --schemas "$SCHEMAS" "${FLAT[@]}" --warehouse "duckdb://./$LOADDB" "eq_flat.csv"
    fresh "$PEERDB"; measure "$r" "duckdb read_csv" csv "$S_CSV" - -- "$DREAD" "$PEERDB" "$(read_csv "eq_flat.csv")" "$COUNT"
    fresh "$LOADDB"; measure "$r" "sluice load -t1" ndjson "$S_ND" - -- "$SLUICE" load --schemas "$SCHEMAS" "${EQ[@]}" --threads 1 --warehouse "duckdb://./$LOADDB" "eq.ndjson"
    fresh "$PEERDB"; measure "$r" "duckdb read_json -t1" ndjson "$S_ND" - -- "$DREAD" "$PEERDB" "SET threads=1" "$(read_json "eq.ndjson")" "$COUNT"
    fresh "$LOADDB"; fresh "$PEERDB"
    # the SHA-256 that `sluice load` computes as its fingerprint (same libcrypto)
    measure "$r" "openssl sha256" ndjson "$S_ND" - -- openssl dgst -sha256 "eq.ndjson"
    # jq, the script a user would write (it stops at the first malformed line, so the
    # bad file goes through -R 'fromjson?', which skips those)
    measure "$r" "jq VIN check" ndjson "$S_ND" - -- jq -c "$VIN_JQ" "eq.ndjson"
    measure "$r" "jq -R fromjson? VIN" ndjson_bad "$S_NDB" - -- jq -cR "fromjson? | $VIN_JQ" "eq_bad.ndjson"
}

cd "$T"
b0=$(date +%s)
cat "$T"/eq*.ndjson "$T"/eq*.csv "$T"/eq*.gz > /dev/null    # warm the page cache
for r in $(seq 1 "$RUNS"); do
    echo "bench: round $r of $RUNS"
    round "$r"
done
echo "bench: timed rounds took $(( $(date +%s) - b0 )) s"

# ---- the ratio floors, in alternating pairs --------------------------------------------
# The machine drifts by ±30% over minutes: a ratio of two medians taken minutes apart
# carries that drift. Each floor's two commands therefore also run back to back,
# alternating which goes first, BENCH_PAIRS times (default 8); report.py judges the
# ratio floors on the median of these per-pair ratios.
PAIRS=${BENCH_PAIRS:-8}
PRAW="$T/pairs.tsv"
printf 'pair\ti\ta_bytes\ta_seconds\ta_exit\tb_bytes\tb_seconds\tb_exit\n' > "$PRAW"
timed() {  # timed CMD...: "SECONDS<TAB>EXIT", output discarded (report.py drops failed pairs)
    local t0 t1 rc=0
    t0=$(date +%s%N); "$@" > /dev/null 2>&1 || rc=$?; t1=$(date +%s%N)
    [ "$rc" = 0 ] || echo "bench: exit $rc from $*" >&2
    awk -v a="$t0" -v b="$t1" -v rc="$rc" 'BEGIN { printf "%.4f\t%s", (b - a) / 1e9, rc }'
}
pair() {  # pair NAME A_BYTES B_BYTES: runs the arrays PA and PB alternately
    local name=$1 ab=$2 bb=$3 i ta tb
    for i in $(seq 1 "$PAIRS"); do
        wait_quiet
        if [ $((i % 2)) = 1 ]; then ta=$(timed "${PA[@]}"); tb=$(timed "${PB[@]}")
        else tb=$(timed "${PB[@]}"); ta=$(timed "${PA[@]}"); fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$i" "$ab" "$ta" "$bb" "$tb" >> "$PRAW"
    done
    echo "  pair $name: $PAIRS alternations"
}
if [ "$PAIRS" -gt 0 ]; then
    echo "bench: ratio floors, $PAIRS alternating pairs each"
    V1=("$SLUICE" validate --schemas "$SCHEMAS" --threads 1 --max-bad-records "$BIG_BAD")
    PA=("$TOUCH" eq.ndjson); PB=("${V1[@]}" "${EQ[@]}" eq.ndjson)
    pair "simdjson touch vs validate" "$S_ND" "$S_ND"
    PA=("${V1[@]}" "${EQ[@]}" eq.ndjson)
    PB=("$SLUICE" validate --schemas "$SCHEMAS" "${EQ[@]}" --threads "$NPROC" eq.ndjson)
    pair "validate -t1 vs -t$NPROC (ndjson)" "$S_ND" "$S_ND"
    PA=("${V1[@]}" "${EQ[@]}" eq.ndjson); PB=("${V1[@]}" "${EQ[@]}" eq_bad.ndjson)
    pair "clean vs 1%-bad (ndjson)" "$S_ND" "$S_NDB"
    PA=("${V1[@]}" "${FLAT[@]}" eq_flat.csv); PB=("${V1[@]}" "${FLAT[@]}" eq_flat_bad.csv)
    pair "clean vs 1%-bad (csv)" "$S_CSV" "$S_CSVB"
    PA=("$DREAD" "$PEERDB" "$(read_json "eq.ndjson")" "$COUNT")
    PB=("$SLUICE" load --schemas "$SCHEMAS" "${EQ[@]}" --warehouse "duckdb://./$LOADDB" eq.ndjson)
    # (each run on a fresh database file)
    PA=(sh -c 'rm -f "$1" "$1.wal"; shift; exec "$@"' sh "$PEERDB" "${PA[@]}")
    PB=(sh -c 'rm -f "$1" "$1.wal"; shift; exec "$@"' sh "$LOADDB" "${PB[@]}")
    pair "read_json vs load (ndjson)" "$S_ND" "$S_ND"
    fresh "$LOADDB"; fresh "$PEERDB"
fi

# ---- peak RSS on a ~2 GB input (validate only, one run) ----------------------------------
if [ "$BIG_MB" -gt 0 ]; then
    n=$(( (BIG_MB * 1000000 + S_ND - 1) / S_ND ))
    echo "bench: RSS check: $n copies of eq.ndjson"
    rm -f big.ndjson
    for _ in $(seq 1 "$n"); do cat eq.ndjson; done > big.ndjson
    S_BIG=$(size big.ndjson)
    POLL_MEM=1 measure big "sluice validate" "big.ndjson (${n}x)" "$S_BIG" - -- "$SLUICE" validate --schemas "$SCHEMAS" "${EQ[@]}" --threads 1 big.ndjson
    POLL_MEM=1 measure big "sluice validate -t$NPROC" "big.ndjson (${n}x)" "$S_BIG" - -- "$SLUICE" validate --schemas "$SCHEMAS" "${EQ[@]}" --threads "$NPROC" big.ndjson
    rm -f big.ndjson
fi

# ---- profile: callgrind on a small file ------------------------------------------------
if [ "$PROF_ROWS" -gt 0 ]; then
    echo "bench: callgrind profile over $PROF_ROWS rows"
    python3 "$here/bench/gen.py" --table equipment --rows "$PROF_ROWS" -q -o "$T/prof.ndjson"
    python3 "$here/bench/gen.py" --table equipment --format csv --rows "$PROF_ROWS" -q -o "$T/prof.csv"
    for kind in ndjson csv; do
        if [ "$kind" = ndjson ]; then args=("${EQ[@]}"); else args=("${FLAT[@]}"); fi
        valgrind --tool=callgrind --callgrind-out-file="$T/callgrind.$kind.out" \
            "$SLUICE" validate --schemas "$SCHEMAS" "${args[@]}" --threads 1 "$T/prof.$kind" \
            > "$LOGS/callgrind.$kind.log" 2>&1
        callgrind_annotate "$T/callgrind.$kind.out" > "$T/callgrind.$kind.txt" 2>/dev/null
        # the fixed cost: the same command on an empty file
        : > "$T/empty.$kind"; [ "$kind" = csv ] && head -n 1 "$T/prof.csv" > "$T/empty.csv"
        valgrind --tool=callgrind --callgrind-out-file="$T/callgrind.$kind.empty.out" \
            "$SLUICE" validate --schemas "$SCHEMAS" "${args[@]}" --threads 1 "$T/empty.$kind" \
            > "$LOGS/callgrind.$kind.empty.log" 2>&1
    done
    # the ceiling's instruction count on the same bytes
    valgrind --tool=callgrind --callgrind-out-file="$T/callgrind.simdjson.out" \
        "$TOUCH_VG" "$T/prof.ndjson" > "$LOGS/callgrind.simdjson.log" 2>&1 ||
        { echo "bench: callgrind could not run simdjson_touch (see $LOGS/callgrind.simdjson.log)" >&2
          rm -f "$T/callgrind.simdjson.out"; }
    # and `sluice load` (NDJSON into a fresh DuckDB file), for where its extra time goes
    rm -f "$T/prof.duckdb" "$T/prof.duckdb.wal"
    valgrind --tool=callgrind --callgrind-out-file="$T/callgrind.load.out" \
        "$SLUICE" load --schemas "$SCHEMAS" "${EQ[@]}" --warehouse "duckdb://$T/prof.duckdb" \
        "$T/prof.ndjson" > "$LOGS/callgrind.load.log" 2>&1
    callgrind_annotate --threshold=100 "$T/callgrind.load.out" > "$T/callgrind.load.txt" 2>/dev/null
    rm -f "$T/prof.duckdb" "$T/prof.duckdb.wal"
    echo "$PROF_ROWS $(size "$T/prof.ndjson") $(size "$T/prof.csv")" > "$T/prof.sizes"
    rm -f "$T/prof.ndjson" "$T/prof.csv" "$T/empty.ndjson" "$T/empty.csv"
fi

# ---- metadata and report ----------------------------------------------------------------
META="$T/meta.tsv"
{
    printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf 'nproc\t%s\n' "$NPROC"
    printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    printf 'mem\t%s\n' "$(awk '/^MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)"
    printf 'kernel\t%s\n' "$(uname -sr)"
    # shellcheck source=/dev/null
    printf 'os\t%s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")"
    printf 'rows\t%s\n' "$ROWS"
    printf 'runs\t%s\n' "$RUNS"
    printf 'sizes\tndjson=%s ndjson_bad=%s csv=%s csv_bad=%s ndjson.gz=%s\n' \
        "$S_ND" "$S_NDB" "$S_CSV" "$S_CSVB" "$S_GZ"
    printf 'commit\t%s\n' "${BENCH_REV:-$(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)}"
    printf 'duckdb\t%s\n' "$("$DREAD" :memory: "SELECT version()" 2>/dev/null || echo '?')"
    printf 'simdjson\t%s\n' "$(dpkg-query -W -f='${Version}' libsimdjson-dev 2>/dev/null)"
    printf 'jq\t%s\n' "$(jq --version)"
    printf 'gcc\t%s\n' "$(gcc -dumpfullversion)"
    printf 'workdir\t%s\n' "$T"
} > "$META"

if [ -n "${BENCH_MD:-}" ]; then MD=$BENCH_MD
elif [ "$ROWS" = 1000000 ]; then MD="$here/BENCHMARKS.md"
else MD="$T/BENCHMARKS.md"; fi
python3 "$here/bench/report.py" --dir "$T" --md "$MD"
echo "bench: raw runs $RAW, medians $T/summary.tsv, report $MD"
