#!/usr/bin/env bash
# bench/gateway.sh BUILD_DIR - the gateway service's floors (issue 12); not part
# of `make test`. Three measurements, each on a fresh gateway (`sluice init`
# with the sample tables) in a temporary folder:
#   small    10,000 one-record files of two tables already in raw/, then
#            `sluice run --once`: claim, validate, batch, load, archive
#   large    one 1,000,000-row NDJSON file (bench/gen.py equipment, 293 MB):
#            `sluice load` into a fresh DuckDB file against the gateway
#            (file linked into raw/, `sluice run --once`), rounds interleaved
#   dirty    the same rows with 1% bad records (bench/gen.py --bad-fraction
#            0.01, max_bad_records 100000): `sluice load --rejects` against
#            the gateway, rounds interleaved
#   latency  the service running with a 1 s window while a producer renames
#            100 one-record files a second into raw/ for BENCH_LAT_SECONDS;
#            a file's latency is from its rename to the service's log line
#            for its batch (written after the commit), joined through
#            _sluice_files
# Medians of BENCH_RUNS rounds; the section "The gateway service" of
# BENCHMARKS.md is rewritten between its markers (report.py keeps it).
#
# Environment:
#   BENCH_RUNS=3            rounds of small, large and dirty
#   BENCH_LAT_SECONDS=30    how long the producer runs (3,000 files at 30)
#   BENCH_MD=FILE           where to write the section (default BENCHMARKS.md)
#   BENCH_DIR=DIR           work (and keep the 293 MB file) in DIR
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$here/build}" && pwd)
SLUICE="$BUILD/sluice"
[ -x "$SLUICE" ] || { echo "bench: $SLUICE not found; run make build" >&2; exit 2; }
RUNS=${BENCH_RUNS:-3}
LAT_S=${BENCH_LAT_SECONDS:-30}
MD=${BENCH_MD:-$here/BENCHMARKS.md}
S=$here/samples/schemas
if [ -n "${BENCH_DIR:-}" ]; then
    mkdir -p "$BENCH_DIR"; T=$(cd "$BENCH_DIR" && pwd)
else
    T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-gwbench.XXXXXX")
    trap 'rm -rf "$T"' EXIT
fi
. "$here/bench/quiet.sh" # wait_quiet: for the other processes to leave the CPUs
now() { date +%s.%N; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
# a fresh gateway on the sample tables; $2: python statements on c (sluice.json)
mkgw() {
    rm -rf "$1"
    "$SLUICE" init "$1" >/dev/null
    cp -r "$S/." "$1/schemas/"
    python3 - "$1/sluice.json" "${2:-}" <<'EOF'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
exec(sys.argv[2])
json.dump(c, open(p, "w"), indent=2)
EOF
}

# ---- data ------------------------------------------------------------------
echo "bench: generating data in $T" >&2
mkdir -p "$T/one"
if [ ! -f "$T/one/.done" ]; then
    python3 "$here/bench/gen.py" --table equipment --rows 5000 -o "$T/eq5k.ndjson" 2>/dev/null
    python3 "$here/bench/gen.py" --table videos --rows 5000 -o "$T/vi5k.ndjson" 2>/dev/null
    (cd "$T/one" && mkdir -p eq vi &&
        split -l 1 -a 4 -d --additional-suffix=.ndjson "$T/eq5k.ndjson" eq/e &&
        split -l 1 -a 4 -d --additional-suffix=.ndjson "$T/vi5k.ndjson" vi/v)
    touch "$T/one/.done"
fi
[ -f "$T/eq.ndjson" ] || python3 "$here/bench/gen.py" --table equipment --rows 1000000 -o "$T/eq.ndjson" 2>/dev/null
[ -f "$T/eqbad.ndjson" ] || python3 "$here/bench/gen.py" --table equipment --rows 1000000 --bad-fraction 0.01 -o "$T/eqbad.ndjson" 2>/dev/null

# ---- small: 10,000 one-record files ---------------------------------------
small=()
for r in $(seq 1 "$RUNS"); do
    G=$T/small
    mkgw "$G"
    mkdir -p "$G/raw/universal_equipment_registry" "$G/raw/youtube_repair_videos"
    cp -r "$T/one/eq/." "$G/raw/universal_equipment_registry/"
    cp -r "$T/one/vi/." "$G/raw/youtube_repair_videos/"
    sync
    wait_quiet >&2
    t0=$(now)
    "$SLUICE" run --gateway "$G" --once --quiet
    t=$(echo "$(now) - $t0" | bc)
    n=$(find "$G/sent" -type f | wc -l)
    [ "$n" = 10000 ] || { echo "bench: small: $n files in sent/, want 10000" >&2; exit 1; }
    rows=$("$SLUICE" query --warehouse "$G/warehouse.duckdb" --format csv \
        "SELECT (SELECT count(*) FROM main.universal_equipment_registry) + (SELECT count(*) FROM main.youtube_repair_videos)" | sed -n 2p)
    batches=$("$SLUICE" query --warehouse "$G/warehouse.duckdb" --format csv "SELECT count(*) FROM _sluice_loads" | sed -n 2p)
    echo "small round $r: $t s ($rows rows, $batches batches)" >&2
    small+=("$t")
done
small_med=$(printf '%s\n' "${small[@]}" | median)

# ---- large: one 1M-row file, sluice load against the gateway ---------------
load=(); gw=()
for r in $(seq 1 "$RUNS"); do
    rm -f "$T/w.duckdb" "$T/w.duckdb.wal"
    wait_quiet >&2
    t0=$(now)
    "$SLUICE" load --schemas "$S" --table universal_equipment_registry \
        --warehouse "$T/w.duckdb" --quiet "$T/eq.ndjson"
    load+=("$(echo "$(now) - $t0" | bc)")
    G=$T/large
    mkgw "$G"
    mkdir -p "$G/raw/universal_equipment_registry"
    ln "$T/eq.ndjson" "$G/raw/universal_equipment_registry/eq.ndjson"
    wait_quiet >&2
    t0=$(now)
    "$SLUICE" run --gateway "$G" --once --quiet
    gw+=("$(echo "$(now) - $t0" | bc)")
    n=$("$SLUICE" query --warehouse "$G/warehouse.duckdb" --format csv "SELECT count(*) FROM main.universal_equipment_registry" | sed -n 2p)
    [ "$n" = 1000000 ] || { echo "bench: large: $n rows, want 1000000" >&2; exit 1; }
    echo "large round $r: load ${load[-1]} s, gateway ${gw[-1]} s" >&2
done
load_med=$(printf '%s\n' "${load[@]}" | median)
gw_med=$(printf '%s\n' "${gw[@]}" | median)
ratios=$(for i in "${!load[@]}"; do echo "${gw[$i]} / ${load[$i]}" | bc -l; done | median)

# ---- dirty: the same rows with 1% bad records ------------------------------
dload=(); dgw=()
for r in $(seq 1 "$RUNS"); do
    rm -f "$T/w.duckdb" "$T/w.duckdb.wal" "$T/w.rejects"
    wait_quiet >&2
    t0=$(now)
    "$SLUICE" load --schemas "$S" --table universal_equipment_registry \
        --warehouse "$T/w.duckdb" --max-bad-records 100000 \
        --rejects "$T/w.rejects" --quiet "$T/eqbad.ndjson"
    dload+=("$(echo "$(now) - $t0" | bc)")
    G=$T/dirty
    mkgw "$G" 'c.setdefault("load", {})["max_bad_records"] = 100000'
    mkdir -p "$G/raw/universal_equipment_registry"
    ln "$T/eqbad.ndjson" "$G/raw/universal_equipment_registry/eq.ndjson"
    wait_quiet >&2
    t0=$(now)
    "$SLUICE" run --gateway "$G" --once --quiet
    dgw+=("$(echo "$(now) - $t0" | bc)")
    n=$("$SLUICE" query --warehouse "$G/warehouse.duckdb" --format csv "SELECT count(*) FROM main.universal_equipment_registry" | sed -n 2p)
    [ "$n" = 990000 ] || { echo "bench: dirty: $n rows, want 990000" >&2; exit 1; }
    nq=$(cat "$G"/quarantine/*/*.rejects.ndjson | wc -l)
    [ "$nq" = 10000 ] || { echo "bench: dirty: $nq rejects, want 10000" >&2; exit 1; }
    echo "dirty round $r: load ${dload[-1]} s, gateway ${dgw[-1]} s" >&2
done
dload_med=$(printf '%s\n' "${dload[@]}" | median)
dgw_med=$(printf '%s\n' "${dgw[@]}" | median)
dratios=$(for i in "${!dload[@]}"; do echo "${dgw[$i]} / ${dload[$i]}" | bc -l; done | median)

# ---- latency: 100 files a second into a running service, 1 s window --------
G=$T/lat
mkgw "$G" 'c["batch"]["window_seconds"] = 1; c["rescan_seconds"] = 2'
mkdir -p "$G/raw/youtube_repair_videos"
wait_quiet >&2
"$SLUICE" run --gateway "$G" --log-format json 2>"$T/lat.log" &
svc=$!
sleep 1
python3 - "$T/one/vi" "$G/raw/youtube_repair_videos" "$LAT_S" "$T/drops.tsv" <<'EOF'
import os, shutil, sys, time
src, dst, secs, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
names = sorted(os.listdir(src))
n = min(len(names), secs * 100)
t0 = time.time()
with open(out, "w") as f:
    for i in range(n):
        due = t0 + i / 100.0
        d = due - time.time()
        if d > 0:
            time.sleep(d)
        tmp = os.path.join(dst, "." + names[i])
        shutil.copyfile(os.path.join(src, names[i]), tmp)
        os.rename(tmp, os.path.join(dst, names[i]))
        f.write("%s\t%.6f\n" % (names[i], time.time()))
EOF
for _ in $(seq 1 60); do
    n=$(find "$G/sent" -type f | wc -l)
    [ "$n" -ge "$(wc -l < "$T/drops.tsv")" ] && break
    sleep 0.5
done
kill -TERM $svc; wait $svc || true
"$SLUICE" query --warehouse "$G/warehouse.duckdb" --format csv \
    "SELECT file_path, batch_id FROM _sluice_files" > "$T/files.csv"
lat=$(python3 - "$T/drops.tsv" "$T/files.csv" "$T/lat.log" <<'EOF'
import csv, datetime, json, os, sys
drops = dict(l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l)
batch_of = {os.path.basename(r["file_path"]): r["batch_id"] for r in csv.DictReader(open(sys.argv[2]))}
logged = {}
for l in open(sys.argv[3]):
    try:
        e = json.loads(l)
    except ValueError:
        continue
    if "batch" in e and "rows loaded" in e.get("msg", ""):
        t = datetime.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
        logged[e["batch"]] = t.timestamp()
lat = sorted(logged[batch_of[n]] - float(t) for n, t in drops.items() if n in batch_of and batch_of[n] in logged)
missing = len(drops) - len(lat)
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print("%d %d %.3f %.3f %.3f %d" % (len(drops), missing, q(0.5), q(0.99), lat[-1], len(logged)))
EOF
)
read -r lat_n lat_missing lat_p50 lat_p99 lat_max lat_batches <<<"$lat"
echo "latency: $lat_n files, $lat_missing missing, p50 $lat_p50 s, p99 $lat_p99 s, max $lat_max s, $lat_batches batches" >&2

# ---- the section -----------------------------------------------------------
sec=$T/gateway.md
{
    echo "<!-- gateway:begin (written by bench/gateway.sh; report.py keeps it) -->"
    echo "## The gateway service (issue 12)"
    echo
    echo "\`bench/gateway.sh build\` on $(date -u '+%Y-%m-%d %H:%M UTC'), sluice \`$(git -C "$here" describe --always --dirty)\`, $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')); medians of $RUNS rounds; a fresh gateway on the sample tables each time, files on the same file system (tmpfs or disk as \`TMPDIR\` is; here \`$(df --output=fstype "$T" | tail -1)\`), \`fsync\` on as \`sluice init\` sets it."
    echo
    echo "| case | what | median | floor |"
    echo "|---|---|---:|---|"
    printf '| small files | 10,000 one-record files (two tables) already in raw/ -> sent/, `sluice run --once` | %.2f s (%s) | < 5 s |\n' "$small_med" "$(printf '%.2f s, ' "${small[@]}" | sed 's/, $//')"
    printf '| large file | 1,000,000 rows (293 MB NDJSON): `sluice load` | %.2f s | |\n' "$load_med"
    printf '| large file | the same through the gateway (`run --once`) | %.2f s | |\n' "$gw_med"
    printf '| large file | gateway / load, median of the rounds'"'"' ratios (interleaved) | %.2fx | <= 1.1x |\n' "$ratios"
    printf '| large file, 1%% bad | the same rows with 10,000 bad records: `sluice load --rejects` | %.2f s | |\n' "$dload_med"
    printf '| large file, 1%% bad | the same through the gateway (rejects in quarantine/) | %.2f s | |\n' "$dgw_med"
    printf '| large file, 1%% bad | gateway / load, median of the rounds'"'"' ratios (interleaved) | %.2fx | |\n' "$dratios"
    printf '| latency | 100 files/s for %s s (%s files), 1 s window: rename -> committed, p50 | %.2f s | |\n' "$LAT_S" "$lat_n" "$lat_p50"
    printf '| latency | p99 (max %.2f s; %s batches; %s files not loaded) | %.2f s | <= 1.5 s |\n' "$lat_max" "$lat_batches" "$lat_missing" "$lat_p99"
    echo
    echo "A window is aligned to the clock, so a file waits for the end of the second it"
    echo "arrived in (0.5 s on average), then validation, the batch's load and commit."
    echo "<!-- gateway:end -->"
} > "$sec"
python3 - "$MD" "$sec" <<'EOF'
import sys
md, sec = sys.argv[1], open(sys.argv[2]).read().rstrip("\n")
old = open(md).read() if __import__("os").path.exists(md) else ""
b, e = old.find("<!-- gateway:begin"), old.find("<!-- gateway:end -->")
if b >= 0 and e > b:
    new = old[:b] + sec + old[e + len("<!-- gateway:end -->"):]
else:
    new = old.rstrip("\n") + "\n\n" + sec + "\n"
open(md, "w").write(new)
EOF
cat "$sec"
