#!/usr/bin/env bash
# The main job on sample data, run by `make demo`:
#  1. one-shot, as `bq load`: create the sample tables in ./warehouse.duckdb,
#     validate and load a sample file (its bad records go to rejects/), and
#     see that loading it again is a no-op;
#  2. the service: a gateway (./demo-gateway) with the example tables, the
#     service running, files dropped into raw/ -- good ones, one with bad
#     records, an exact copy, a corrupt gzip, one for no table -- loaded once,
#     the bad records quarantined, the broken files in failed/ with their
#     reasons, and `sluice status`.
set -u
sluice=${1:-build/sluice}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
case $sluice in /*) ;; *) sluice=$here/$sluice ;; esac
step() { printf '\n$ %s\n' "$*"; "$@"; }
say() { printf '\n# %s\n' "$*"; }

say "1. one-shot loads, as bq load"
wh=duckdb://./warehouse.duckdb
rm -f warehouse.duckdb warehouse.duckdb.wal
mkdir -p rejects
step "$sluice" schema apply --schemas samples/schemas --warehouse "$wh" || exit $?
# the sample holds a few bad records on purpose: allow them, keep them in rejects/
step "$sluice" load --schemas samples/schemas --table youtube_repair_videos \
    --max-bad-records 20 --rejects rejects/videos.ndjson samples/data/videos.ndjson || exit $?
say "loading the same file again is a no-op:"
step "$sluice" load --schemas samples/schemas --table youtube_repair_videos \
    --max-bad-records 20 samples/data/videos.ndjson || exit $?
step "$sluice" query --warehouse "$wh" \
    "SELECT table_name, file_path, rows_loaded, outcome FROM _sluice_files ORDER BY loaded_at" || exit $?
echo "rejected records, one JSON object each, are in rejects/:"
head -n 2 rejects/videos.ndjson

say "2. the service: an export gateway"
gw=demo-gateway
rm -rf "$gw"
step "$sluice" init "$gw" --example || exit $?
# the service, in the background as it would run under systemd
"$sluice" run --gateway "$gw" 2>"$gw.log" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
# producers write elsewhere and rename into raw/<table>/ (or use a dot name)
drop() { # drop FILE TABLE NAME
    mkdir -p "$gw/raw/$2"
    cp "$1" "$gw/raw/$2/.$3" && mv "$gw/raw/$2/.$3" "$gw/raw/$2/$3"
    echo "dropped $3 into raw/$2/"
}
say "files dropped into $gw/raw/ while the service runs (the example's four are there already):"
drop samples/data/equipment_flat.csv nowhere equipment.csv          # no such table
drop samples/data/videos.ndjson youtube_repair_videos videos-copy.ndjson # same content again
head -c 300 samples/data/sessions_clean.ndjson.gz >"$gw.trunc.gz"
drop "$gw.trunc.gz" diagnostic_sessions broken.ndjson.gz             # a cut-off gzip
rm -f "$gw.trunc.gz"
# wait until nothing is pending (the service batches in 1 s windows)
for _ in $(seq 1 60); do
    sleep 0.5
    "$sluice" status --gateway "$gw" --json >"$gw.status" 2>/dev/null || continue
    python3 -c "import json,sys; f=json.load(open('$gw.status'))['files']; sys.exit(0 if f['raw']+f['claimed']+f['transformed']+f['cloud_ready']==0 and f['sent']+f['failed']+f['duplicates']>=7 else 1)" && break
done
rm -f "$gw.status"
step "$sluice" status --gateway "$gw"
kill -TERM $pid && wait $pid
trap - EXIT
say "the service's log:"
cat "$gw.log" && rm -f "$gw.log"
say "loaded once, in one batch per table; the copy recognised as a duplicate:"
step "$sluice" query --warehouse "$gw/warehouse.duckdb" \
    "SELECT table_name, count(*) AS files, sum(rows_loaded) AS rows_loaded, string_agg(DISTINCT outcome, ',') AS outcomes FROM _sluice_files GROUP BY 1 ORDER BY 1" || exit $?
say "failed/ holds the files that cannot load, each with its reason:"
for f in $(find "$gw/failed" -name "*.error.json" | sort); do
    printf '%s: ' "${f#"$gw"/}"
    python3 -c "import json; e=json.load(open('$f')); print(e['class'] + ': ' + e['message'])"
done
say "quarantine/ holds every bad record with its reason (sluice retry resends them once fixed):"
find "$gw/quarantine" -name '*.rejects.ndjson' | sort | head -n 3
head -n 1 "$(find "$gw/quarantine" -name '*.rejects.ndjson' | sort | head -n 1)"
echo
echo "the gateway is ./$gw: sluice status --gateway $gw; sluice run --gateway $gw"
