#!/usr/bin/env bash
# The gateway under faults (issue 12), each made deterministic: a warehouse
# locked by another process for as long as the test says, a full disk while
# staging (SLUICE_FAIL_AT=stage-write), a file deleted or replaced just after
# it was claimed (claimed-delete, claimed-replace), a file written to while
# it is read (stage-read), a ledger lost and rebuilt
# from the folders and the warehouse, and a warehouse that is no DuckDB file.
# Each ends with every valid record loaded once. Real binary, DuckDB, SQLite.
. "$(dirname "$0")/lib.sh"
D=$SRC/samples/data
wq() { "$SLUICE" query --warehouse "$1/warehouse.duckdb" --format csv "$2" | sed -n 2p; }
nfiles() { find "$1" -type f ! -name '.*' 2>/dev/null | wc -l; }
# a gateway on the example tables, quick retries, nothing in raw/ yet
mkgw() {
    rm -rf "$1"
    "$SLUICE" init "$1" --example >/dev/null || exit 1
    mkdir -p "$TMP/example"
    cp -r "$1/raw/." "$TMP/example/"
    rm -rf "$1"/raw/*/
    python3 - "$1/sluice.json" "${2:-4}" <<'EOF'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["batch"]["window_ms"] = 100; c["batch"].pop("window_seconds", None)
c["retry"] = {"max_attempts": int(sys.argv[2]), "initial_ms": 20, "max_ms": 100}
c["rescan_seconds"] = 1
json.dump(c, open(p, "w"), indent=2)
EOF
}
# drop FILE GATEWAY TABLE [NAME]: renamed into raw/TABLE/, as producers do
drop() {
    local n=${4:-$(basename "$1")}
    mkdir -p "$2/raw/$3"
    cp "$1" "$2/raw/$3/.$n" && mv "$2/raw/$3/.$n" "$2/raw/$3/$n"
}
# wait_for PATTERN FILE: until the service logs it (30 s at most)
wait_for() {
    for _ in $(seq 1 300); do
        grep -qE -- "$1" "$2" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
videos="SELECT count(*) FROM main.youtube_repair_videos"

# ---- a warehouse locked by another process: batches wait and retry, status
# and health work meanwhile and name the holder; then everything loads once
G=$TMP/lock
mkgw "$G" 50
expect_exit 0 -- "$SLUICE" schema apply --schemas "$G/schemas" --warehouse "$G/warehouse.duckdb"
drop "$TMP/example/youtube_repair_videos/videos.ndjson" "$G" youtube_repair_videos
drop "$TMP/example/universal_equipment_registry/equipment.ndjson" "$G" universal_equipment_registry
# the holder keeps a write lock until $TMP/release appears
python3 - "$G/warehouse.duckdb" "$TMP/release" "$TMP/locked" <<'EOF' &
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX)
open(sys.argv[3], "w").close()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
EOF
holder=$!
for _ in $(seq 1 300); do [ -e "$TMP/locked" ] && break; sleep 0.1; done
[ -e "$TMP/locked" ] || ko "the lock holder did not start"
"$SLUICE" run --gateway "$G" --once 2>"$TMP/lock.err" &
run=$!
wait_for "will retry the batch" "$TMP/lock.err" || ko "no retry logged while locked"
check_grep "the holder named" "locked by pid $holder \(python3\)" "$TMP/lock.err"
check_grep "a lock is transient" "class=transient" "$TMP/lock.err"
expect_exit 0 -- "$SLUICE" status --gateway "$G" --json
check_eq "status while locked: files waiting to load" \
    "$(python3 -c "import json; f=json.load(open('$TMP/out'))['files']; print(f['cloud_ready'] + f['transformed'] > 0, f['sent'])")" "True 0"
expect_exit 1 -- "$SLUICE" health --gateway "$G"
check_grep "health names the holder" "warn: warehouse busy: .*pid $holder" "$TMP/out"
touch "$TMP/release"
wait $holder
wait $run
check_eq "after the lock: the run's exit" "$?" "0"
check_eq "after the lock: videos loaded once" "$(wq "$G" "$videos")" "388"
check_eq "after the lock: equipment loaded once" \
    "$(wq "$G" "SELECT count(*) FROM main.universal_equipment_registry")" "388"
check_eq "after the lock: one batch per table" \
    "$(wq "$G" "SELECT count(*) || ' ' || sum(n_files) FROM _sluice_loads")" "2 2"

# ---- a full disk while staging: retried; when it lasts, failed as transient
G=$TMP/full
mkgw "$G" 3
drop "$TMP/example/youtube_repair_videos/videos.ndjson" "$G" youtube_repair_videos
SLUICE_FAIL_AT=stage-write:1 expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_grep "ENOSPC retried" "will retry.*(No space|no space)" "$TMP/err"
check_eq "disk full once: loaded after the retry" "$(wq "$G" "$videos")" "388"
check_eq "disk full once: its bad records quarantined once" \
    "$(cat "$G"/quarantine/main.youtube_repair_videos/*.rejects.ndjson | wc -l)" "12"
check_eq "disk full once: no temporary file left" \
    "$(find "$G" -name '*.sluice-tmp' | wc -l)" "0"
drop "$TMP/example/universal_equipment_registry/equipment.ndjson" "$G" universal_equipment_registry
SLUICE_FAIL_AT=stage-write expect_exit 3 -- "$SLUICE" run --gateway "$G" --once
f=$(find "$G/failed" -name '*equipment.ndjson.error.json')
check_eq "disk full for good: failed/ after max_attempts" "$(echo "$f" | grep -c .)" "1"
check_grep "disk full for good: transient, the cause named" \
    '"class":"transient".*(No space|no space)' "${f:-/dev/null}"
check_grep "disk full for good: every attempt counted" '"attempts":3' "${f:-/dev/null}"
check_eq "disk full for good: nothing of it loaded" \
    "$(wq "$G" "SELECT count(*) FROM _sluice_files WHERE table_name = 'main.universal_equipment_registry'")" "0"
check_eq "disk full for good: no rejects left behind" \
    "$(find "$G/quarantine" -path '*universal*' -type f | wc -l)" "0"
# the disk has room again: retry loads it
expect_exit 0 -- "$SLUICE" retry --gateway "$G" --all
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "retried after the disk was freed: loaded" \
    "$(wq "$G" "SELECT count(*) FROM main.universal_equipment_registry")" "388"

# ---- a file deleted just after it was claimed: gone, nothing else lost
G=$TMP/del
mkgw "$G"
drop "$TMP/example/youtube_repair_videos/videos.ndjson" "$G" youtube_repair_videos
SLUICE_FAIL_AT=claimed-delete:1 expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
expect_exit 0 -- "$SLUICE" status --gateway "$G" --json
check_eq "deleted after the claim: recorded as gone" \
    "$(python3 -c "import json; f=json.load(open('$TMP/out'))['files']; print(f['gone'], f['failed'], f['sent'])")" "1 0 0"
check_eq "deleted after the claim: nothing loaded (no warehouse made)" \
    "$(ls "$G/warehouse.duckdb" 2>/dev/null | wc -l)" "0"
drop "$TMP/example/youtube_repair_videos/videos.ndjson" "$G" youtube_repair_videos
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "the same file dropped again: loaded" "$(wq "$G" "$videos")" "388"

# ---- a file replaced just after it was claimed: the new content is what
# is loaded (claimed anew), the old content never
G=$TMP/repl
mkgw "$G"
mkdir -p "$G/schemas/main"
echo '[{"name":"x","type":"INTEGER"}]' > "$G/schemas/main/loose.json"
printf '{"x":1}\n{"x":2}\n' > "$TMP/two.ndjson"
drop "$TMP/two.ndjson" "$G" loose
SLUICE_FAIL_AT=claimed-replace:1 expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "replaced after the claim: only the new content (one empty row)" \
    "$(wq "$G" "SELECT count(*) || ' ' || count(x) FROM main.loose")" "1 0"
check_eq "replaced after the claim: one file archived" "$(nfiles "$G/sent")" "1"

# a file written to while it is being read: noticed at the end of the read,
# staged again once it is still, and all of it loaded
drop "$TMP/two.ndjson" "$G" loose two-again.ndjson
printf '{"x":3}\n' >> "$G/raw/loose/two-again.ndjson"
SLUICE_FAIL_AT=stage-read:1 expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_grep "changed while read: retried" "will retry.*changed while it was read" "$TMP/err"
check_eq "changed while read: every row of the final file, once" \
    "$(wq "$G" "SELECT count(*) || ' ' || sum(x) FROM main.loose")" "5 6"

# ---- the ledger lost: rebuilt from the folders and the warehouse, nothing
# loaded twice, a copy of loaded content still recognised
G=$TMP/lost
mkgw "$G"
drop "$TMP/example/youtube_repair_videos/videos.ndjson" "$G" youtube_repair_videos
drop "$TMP/example/diagnostic_sessions/sessions.ndjson" "$G" diagnostic_sessions
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
expect_exit 0 -- "$SLUICE" status --gateway "$G" --json
before=$(python3 -c "import json; f=json.load(open('$TMP/out'))['files']; print(f['sent'], f['failed'])")
rm -f "$G"/.sluice/ledger.db*
drop "$TMP/example/youtube_repair_videos/videos.ndjson" "$G" youtube_repair_videos copy.ndjson
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_grep "the rebuild said" "rebuil" "$TMP/err"
expect_exit 0 -- "$SLUICE" status --gateway "$G" --json
check_eq "rebuilt ledger: the archived files known again (+1 duplicate)" \
    "$(python3 -c "import json; f=json.load(open('$TMP/out'))['files']; print(f['sent'], f['failed'], f['duplicates'])")" "$before 1"
check_eq "rebuilt ledger: videos still once" "$(wq "$G" "$videos")" "388"
expect_exit 0 -- "$SLUICE" verify --gateway "$G"
check_grep "rebuilt ledger: verify clean" " 0 discrepancies" "$TMP/out"

# ---- a warehouse that is no DuckDB database: files fail as fatal with the
# cause; once the warehouse is fixed, retry loads them
G=$TMP/bad
mkgw "$G" 2
echo "not a database" > "$G/warehouse.duckdb"
drop "$TMP/example/youtube_repair_videos/videos.ndjson" "$G" youtube_repair_videos
expect_exit 3 -- "$SLUICE" run --gateway "$G" --once
check_grep "a broken warehouse named" "not a valid DuckDB database" "$TMP/err"
expect_exit 2 -- "$SLUICE" health --gateway "$G"
check_grep "health: warehouse unreachable" "fail: warehouse unreachable" "$TMP/out"
rm -f "$G/warehouse.duckdb"
expect_exit 0 -- "$SLUICE" retry --gateway "$G" --all
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "warehouse fixed, retried: loaded once" "$(wq "$G" "$videos")" "388"
check_eq "warehouse fixed, retried: its bad records quarantined once" \
    "$(find "$G/quarantine" -name '*.rejects.ndjson' -exec cat {} + | wc -l)" "12"

finish
