#!/usr/bin/env bash
# The main job on sample data: create the sample tables in ./warehouse.duckdb,
# validate and load the sample files (a few bad records go to rejects/), and show
# what landed. Run by `make demo`.
set -u
sluice=${1:-build/sluice}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
wh=duckdb://./warehouse.duckdb
rm -f warehouse.duckdb warehouse.duckdb.wal
mkdir -p rejects
step() { printf '\n$ %s\n' "$*"; "$@"; }

step "$sluice" schema apply --schemas samples/schemas --warehouse "$wh" || exit $?
# each sample holds a few bad records on purpose: allow them, send them to rejects/
step "$sluice" load --schemas samples/schemas --table universal_equipment_registry \
    --max-bad-records 20 --rejects rejects/equipment.ndjson samples/data/equipment.ndjson || exit $?
step "$sluice" load --schemas samples/schemas --table diagnostic_sessions \
    --max-bad-records 20 --rejects rejects/sessions.ndjson \
    samples/data/sessions.ndjson samples/data/sessions_clean.ndjson.gz || exit $?
step "$sluice" load --schemas samples/schemas --table youtube_repair_videos \
    --max-bad-records 20 --rejects rejects/videos.ndjson samples/data/videos.ndjson || exit $?
step "$sluice" load --schemas samples/schemas --table equipment_flat --header \
    --max-bad-records 20 --rejects rejects/equipment_flat.ndjson samples/data/equipment_flat.csv || exit $?
echo
echo "# loading the same file again is a no-op:"
step "$sluice" load --schemas samples/schemas --table youtube_repair_videos \
    --max-bad-records 20 samples/data/videos.ndjson || exit $?
step "$sluice" query --warehouse "$wh" \
    "SELECT table_name, file_path, rows_loaded, rows_rejected FROM _sluice_loads ORDER BY finished" || exit $?
step "$sluice" query --warehouse "$wh" \
    "SELECT primary_id_type, count(*) AS n FROM universal_equipment_registry GROUP BY 1 ORDER BY 2 DESC LIMIT 5" || exit $?
echo
echo "rejected records (one JSON object each) are in rejects/; the warehouse is ./warehouse.duckdb"
head -n 2 rejects/equipment.ndjson
