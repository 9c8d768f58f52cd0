#!/usr/bin/env bash
# The gateway service end to end (issue 12): sluice init, sluice run --once on
# the example, the folders and the warehouse's audit trail afterwards,
# duplicates, files in no table's folder, corrupt files, too many bad
# records, files still being written, the service lock, SIGTERM and SIGHUP,
# status / health / verify, retry and replay, JSON logs, and queries while
# the service loads. Real binary, real DuckDB file, real folders.
. "$(dirname "$0")/lib.sh"
S=$SRC/samples/schemas
D=$SRC/samples/data
G=$TMP/gw
W="$G/warehouse.duckdb"
wq() { "$SLUICE" query --warehouse "$W" --format csv "$1" | sed -n 2p; }
nfiles() { find "$1" -type f ! -name '.*' 2>/dev/null | wc -l; }
# a quick gateway: short window and retries (tests must not wait)
fast() {
    python3 - "$1/sluice.json" <<'EOF'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["batch"]["window_ms"] = 200; c["batch"].pop("window_seconds", None)
c["retry"] = {"max_attempts": 4, "initial_ms": 20, "max_ms": 100}
c["rescan_seconds"] = 1
json.dump(c, open(p, "w"), indent=2)
EOF
}
# the batch window, in ms
window() {
    python3 -c "
import json; p = '$1/sluice.json'; c = json.load(open(p))
c['batch']['window_ms'] = $2; json.dump(c, open(p, 'w'), indent=2)"
}

# ---- init
expect_exit 0 -- "$SLUICE" init "$G" --example
for d in raw transformed cloud_ready sent failed quarantine schemas; do
    [ -d "$G/$d" ] && ok || ko "init made no $d/"
done
check_grep "init explains" "sluice run --gateway" "$TMP/out"
check_eq "example tables" "$(ls "$G/schemas/main" | wc -l)" "3"
check_eq "example files" "$(nfiles "$G/raw")" "4"
fast "$G"
# an existing sluice.json is kept
cp "$G/sluice.json" "$TMP/cfg.json"
expect_exit 0 -- "$SLUICE" init "$G"
check_eq "init keeps sluice.json" "$(cat "$G/sluice.json")" "$(cat "$TMP/cfg.json")"
# sluice.json is checked key by key
sed 's/"batch"/"batchx"/' "$TMP/cfg.json" > "$G/sluice.json"
expect_exit 2 -- "$SLUICE" run --gateway "$G" --once
check_grep "unknown key named with its path" "sluice.json: batchx: unknown key" "$TMP/err"
python3 -c "import json,sys; c=json.load(open('$TMP/cfg.json')); c['load']['max_bad_recs']=1; json.dump(c,open('$G/sluice.json','w'))"
expect_exit 2 -- "$SLUICE" run --gateway "$G" --once
check_grep "unknown load option named" "load.max_bad_recs: unknown key" "$TMP/err"
# a table key must name a table of the registry (a misspelling is refused)
python3 -c "import json; c=json.load(open('$TMP/cfg.json')); c['tables']={'main.diagnostic_sesions': {'max_bad_records': 5}}; json.dump(c,open('$G/sluice.json','w'))"
expect_exit 2 -- "$SLUICE" run --gateway "$G" --once
check_grep "misspelled table key refused, the nearest named" "sluice.json: tables.main.diagnostic_sesions: no such table in the registry \\(schemas/\\); did you mean main.diagnostic_sessions\\?" "$TMP/err"
cp "$TMP/cfg.json" "$G/sluice.json"
expect_exit 2 -- "$SLUICE" run --gateway "$TMP/nowhere" --once
check_grep "no gateway" "no gateway at $TMP/nowhere" "$TMP/err"

# ---- producers: a file being written (hidden or .tmp) is never claimed; a
# file in no table's folder and a corrupt one fail with their reasons
printf '{"x":1}\n' > "$G/raw/youtube_repair_videos/.partial.ndjson"
printf '{"x":1}\n' > "$G/raw/youtube_repair_videos/late.ndjson.tmp"
printf '{"x":1}\n' > "$G/raw/loose.ndjson"
mkdir -p "$G/raw/no_such_table"
printf '{"x":1}\n' > "$G/raw/no_such_table/a.ndjson"
head -c 3000 "$D/sessions_clean.ndjson.gz" > "$G/raw/diagnostic_sessions/cut.ndjson.gz"
# too many bad records for the table's limit: every line bad
for i in $(seq 1 1200); do echo '{"bad": true}'; done > "$G/raw/diagnostic_sessions/allbad.ndjson"
# the same content twice under two names: one loads, one is a duplicate
cp "$D/videos.ndjson" "$G/raw/youtube_repair_videos/copy.ndjson"
# (a window long enough for every file to be staged in it, even under ASan
# on a busy machine: the check below counts one batch per table)
window "$G" 3000
expect_exit 3 -- "$SLUICE" run --gateway "$G" --once
cp "$TMP/out" "$TMP/run1.out"; cp "$TMP/err" "$TMP/run1.err"
window "$G" 200
check_grep "summary" "files claimed" "$TMP/run1.err"
check_eq "hidden file left alone" "$(ls -a "$G/raw/youtube_repair_videos" | grep -c partial)" "1"
check_eq ".tmp file left alone" "$(ls "$G/raw/youtube_repair_videos" | grep -c late.ndjson.tmp)" "1"
rm -f "$G/raw/youtube_repair_videos/.partial.ndjson" "$G/raw/youtube_repair_videos/late.ndjson.tmp"
check_eq "raw/ drained" "$(nfiles "$G/raw")" "0"
check_eq "transformed/ drained" "$(nfiles "$G/transformed")" "0"
check_eq "cloud_ready/ drained" "$(nfiles "$G/cloud_ready")" "0"
# the loose file and the unknown table: failed with the reason
check_eq "unrouted files failed" "$(ls "$G/failed" | grep -c 'loose.ndjson$')" "1"
check_grep "no-folder reason" "in no table's folder" "$(ls "$G"/failed/*loose.ndjson.error.json)"
check_grep "unknown table reason" "no table no_such_table" "$(ls "$G"/failed/*-a.ndjson.error.json)"
ej=$(ls "$G"/failed/main.diagnostic_sessions/*cut.ndjson.gz.error.json)
check_grep "corrupt gzip: class" '"class":"corrupt"' "$ej"
check_grep "corrupt gzip: attempts and times" '"attempts":1,"first_try":"20[0-9-]+T' "$ej"
ej=$(ls "$G"/failed/main.diagnostic_sessions/*allbad.ndjson.error.json)
check_grep "too many bad: class schema" '"class":"schema"' "$ej"
check_grep "too many bad: the limit named" "max_bad_records\\) is 1000" "$ej"
check_eq "too many bad: its rejects beside it" "$(wc -l < "$(ls "$G"/failed/main.diagnostic_sessions/*allbad.ndjson.rejects.ndjson)")" "1200"
# the warehouse: each good record once; the audit trail
truth_bad() { echo $(($(wc -l < "$D/$1.truth.tsv") - 1)); }
eq_n=$(( $(grep -c . "$D/equipment.ndjson") - $(truth_bad equipment) ))
check_eq "equipment rows" "$(wq 'SELECT count(*) FROM universal_equipment_registry')" "$eq_n"
vid_n=$(( $(grep -c . "$D/videos.ndjson") - $(truth_bad videos) ))
check_eq "videos once (copy is a duplicate)" "$(wq 'SELECT count(*) FROM youtube_repair_videos')" "$vid_n"
check_eq "duplicate in _sluice_files" "$(wq "SELECT count(*) FROM _sluice_files WHERE outcome = 'duplicate'")" "1"
check_eq "files recorded" "$(wq "SELECT count(*) FROM _sluice_files")" "5"
check_eq "one batch per table" "$(wq "SELECT count(*) FROM _sluice_loads WHERE origin = 'gateway'")" "3"
check_eq "rows recorded" "$(wq "SELECT sum(rows_loaded) FROM _sluice_loads")" "$(wq 'SELECT (SELECT count(*) FROM universal_equipment_registry) + (SELECT count(*) FROM diagnostic_sessions) + (SELECT count(*) FROM youtube_repair_videos)')"
# quarantine: every bad record once, with its reason; the original kept
q=$(cat "$G"/quarantine/*/*.rejects.ndjson | wc -l)
check_eq "bad records quarantined once" "$q" "$(( $(truth_bad equipment) + $(truth_bad videos) + $(truth_bad sessions) ))"
check_grep "quarantine reasons" '"reason":"' "$(ls "$G"/quarantine/main.universal_equipment_registry/*.rejects.ndjson)"
check_eq "originals in quarantine" "$(find "$G/quarantine" -maxdepth 2 -type f ! -name '*.rejects.ndjson' | wc -l)" "3"
# sent/<yyyy>/<mm>/<dd>/<table>/
check_eq "archived" "$(find "$G/sent" -type f | wc -l)" "5"
check_eq "sent layout" "$(find "$G/sent" -mindepth 4 -maxdepth 4 -type d | grep -c 'sent/20[0-9][0-9]/[01][0-9]/[0-3][0-9]/main\.')" "3"
# status, health, verify
expect_exit 0 -- "$SLUICE" status --gateway "$G"
check_grep "status: stages" "sent 4 \\(\\+1 duplicates\\), failed 4" "$TMP/out"
check_grep "status: classes" "corrupt 1, schema 3" "$TMP/out"
expect_exit 0 -- "$SLUICE" status --gateway "$G" --json
check_eq "status json parses" "$(python3 -c "import json,sys; d=json.load(open('$TMP/out')); print(d['version'], d['files']['sent'], d['files']['failed'], len(d['tables']))")" "1 4 4 3"
expect_exit 2 -- "$SLUICE" health --gateway "$G"
check_grep "health: service not running" "^fail: service not running" "$TMP/out"
check_grep "health: new failures" "^warn: 4 files failed" "$TMP/out"
expect_exit 0 -- "$SLUICE" verify --gateway "$G"
check_grep "verify: nothing wrong" "0 discrepancies" "$TMP/out"
# a table that is nowhere is a usage error, not "verified 0 files"
expect_exit 2 -- "$SLUICE" verify --gateway "$G" --table nosuch
check_grep "verify: the unknown table named" "no table nosuch in the registry" "$TMP/err"

# ---- retry after fixing the cause: the unknown table gets a definition
cp "$S/main/youtube_repair_videos.json" "$G/schemas/main/no_such_table.json"
# a name or a table that is not there is a usage error, and nothing is sent;
# a table that is there with nothing to do is fine
expect_exit 2 -- "$SLUICE" retry --gateway "$G" nosuch.ndjson
check_grep "retry: the unknown file named" "nosuch.ndjson: no such file in failed/" "$TMP/err"
expect_exit 2 -- "$SLUICE" retry --gateway "$G" --quarantine nosuchtable
check_grep "retry --quarantine: the unknown table named" "no table nosuchtable in the registry" "$TMP/err"
check_eq "retry of unknown names sends nothing" "$(nfiles "$G/raw")" "0"
expect_exit 0 -- "$SLUICE" verify --gateway "$G" --table no_such_table
expect_exit 0 -- "$SLUICE" retry --gateway "$G" --quarantine no_such_table
expect_exit 0 -- "$SLUICE" retry --gateway "$G" "$(ls "$G"/failed/*-a.ndjson | sed "s|$G/||")"
check_grep "retry says where" "-> raw/no_such_table/a.ndjson" "$TMP/out"
check_eq "retried file back in raw/" "$(nfiles "$G/raw")" "1"
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "the retried file loaded (its one row rejected)" "$(cat "$G"/quarantine/main.no_such_table/*.rejects.ndjson | wc -l)" "1"
# retry of a table's quarantined records: each sent once
expect_exit 0 -- "$SLUICE" retry --gateway "$G" --quarantine universal_equipment_registry
check_grep "quarantine retry" "$(truth_bad equipment) quarantined records" "$TMP/out"
expect_exit 0 -- "$SLUICE" retry --gateway "$G" --quarantine universal_equipment_registry
check_grep "a second retry sends nothing" "^0 " "$TMP/out"
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "still bad: quarantined again (once)" "$(cat "$G"/quarantine/main.universal_equipment_registry/*.rejects.ndjson | wc -l)" "$(truth_bad equipment)"
# a file every record of which was rejected: once the definition is fixed,
# its records sent again load, though their file has the original's bytes
cat > "$G/schemas/main/codes.json" <<'EOF'
{"fields": [{"name": "code", "type": "STRING", "mode": "REQUIRED"}],
 "rules": [{"field": "code", "pattern": "^[a-z]+$"}]}
EOF
mkdir -p "$TMP/drop"
printf '{"code": "AB"}\n{"code": "CD"}\n{"code": "EF"}\n' > "$TMP/drop/codes.ndjson"
mkdir -p "$G/raw/codes" && mv "$TMP/drop/codes.ndjson" "$G/raw/codes/"
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_grep "every record rejected" "0 rows loaded" "$TMP/err"
sed -i 's/\^\[a-z\]+\$/^[a-zA-Z]+$/' "$G/schemas/main/codes.json"
expect_exit 0 -- "$SLUICE" retry --gateway "$G" --quarantine codes
check_grep "every record sent again" "3 quarantined records" "$TMP/out"
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "records sent again load (not a duplicate of their file)" "$(wq 'SELECT count(*) FROM codes')" "3"
# a producer writing straight into raw/: not claimed while it has the file
# open (so nothing it writes later is archived without being loaded); the
# check is a read lease, which some file systems do not offer
lease_ok=$(python3 -c 'import fcntl,sys; f=open(sys.argv[1],"w"); f.close(); f=open(sys.argv[1]); fcntl.fcntl(f, 1024, fcntl.F_RDLCK); print(1)' "$G/raw/.lease-probe" 2>/dev/null)
rm -f "$G/raw/.lease-probe"
exec 7>"$G/raw/codes/open.ndjson"
printf '{"code": "gh"}\n' >&7
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
if [ "$lease_ok" = 1 ]; then
    check_grep "a file still being written is left" "1 file in raw/ still open for writing" "$TMP/err"
    check_eq "a file still being written stays in raw/" "$(ls "$G/raw/codes")" "open.ndjson"
else
    echo "*** SKIPPED: file leases are not available on $G (a file still being written cannot be told) ***"
fi
printf '{"code": "ij"}\n' >&7
exec 7>&-
if [ "$lease_ok" = 1 ]; then
    expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
    check_eq "once closed, all of it loads" "$(wq 'SELECT count(*) FROM codes')" "5"
fi
# verify: an archived file that changed after its claim is found
sf=$(find "$G/sent" -name '*open.ndjson')
cp "$sf" "$TMP/open.keep"
n0=$(stat -c %s "$sf")
printf '{"code": "kl"}\n' >> "$sf"
expect_exit 1 -- "$SLUICE" verify --gateway "$G"
check_grep "verify: an archived file changed" "open.ndjson: .* holds $((n0 + 15)) bytes, [0-9]* when it was claimed" "$TMP/out"
cp "$TMP/open.keep" "$sf"
# replay: recognised as loaded unless --force
before=$(wq 'SELECT count(*) FROM youtube_repair_videos')
expect_exit 0 -- "$SLUICE" replay --gateway "$G" --since -1h --table youtube_repair_videos
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "replay: nothing loaded twice" "$(wq 'SELECT count(*) FROM youtube_repair_videos')" "$before"
expect_exit 0 -- "$SLUICE" replay --gateway "$G" --since -1h --table youtube_repair_videos --force
check_grep "replay --force said" "forced" "$TMP/out"
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "replay --force loads again" "$(wq 'SELECT count(*) FROM youtube_repair_videos')" "$((before * 2))"
expect_exit 0 -- "$SLUICE" verify --gateway "$G"

# ---- the service: lock, JSON logs, SIGHUP, queries while it loads, SIGTERM
"$SLUICE" run --gateway "$G" --log-format json --verbose 2>"$TMP/svc.log" &
svc=$!
for i in $(seq 1 600); do grep -q serving "$TMP/svc.log" 2>/dev/null && break; sleep 0.05; done
expect_exit 4 -- "$SLUICE" run --gateway "$G" --once
check_grep "second service refused, holder named" "already served by .sluice run. \\(pid $svc\\)" "$TMP/err"
expect_exit 1 -- "$SLUICE" health --gateway "$G"
check_grep "health: running" "ok: service running \\(pid $svc\\)" "$TMP/out"
check_grep "health: degraded by the failures" "^warn: 3 files failed" "$TMP/out"
# files arrive while queries run in a loop: no query fails
mkdir -p "$G/raw/diagnostic_sessions"
qfail=0
for i in $(seq 1 40); do
    head -n $((i * 3)) "$D/sessions.ndjson" | tail -n 3 > "$G/raw/diagnostic_sessions/.t$i"
    mv "$G/raw/diagnostic_sessions/.t$i" "$G/raw/diagnostic_sessions/live$i.ndjson"
    "$SLUICE" query --warehouse "$W" "SELECT count(*) FROM diagnostic_sessions" >/dev/null 2>>"$TMP/q.err" || qfail=$((qfail + 1))
    "$SLUICE" status --gateway "$G" >/dev/null 2>>"$TMP/q.err" || qfail=$((qfail + 1))
done
check_eq "queries and status during a busy run never fail" "$qfail" "0"
[ "$qfail" = 0 ] || sed 's/^/    /' "$TMP/q.err" | head -5
# (counted in the order files move, so one moving on while counted is seen)
for i in $(seq 1 600); do [ "$(nfiles "$G/raw")$(nfiles "$G/transformed")$(nfiles "$G/cloud_ready")" = 000 ] && break; sleep 0.1; done
check_eq "live files drained" "$(nfiles "$G/raw")$(nfiles "$G/transformed")$(nfiles "$G/cloud_ready")" "000"
# SIGHUP: a table added to the registry serves its folder
mkdir -p "$G/raw/later_table"
cp "$S/main/youtube_repair_videos.json" "$G/schemas/main/later_table.json"
kill -HUP $svc
for i in $(seq 1 600); do grep -q reloaded "$TMP/svc.log" && break; sleep 0.05; done
check_grep "SIGHUP reloads" "reloaded sluice.json and 6 table definitions" "$TMP/svc.log"
head -n 5 "$D/videos.ndjson" > "$G/raw/later_table/.x" && mv "$G/raw/later_table/.x" "$G/raw/later_table/v.ndjson"
for i in $(seq 1 600); do [ -n "$(ls "$G"/sent/*/*/*/main.later_table 2>/dev/null)" ] && break; sleep 0.1; done
check_eq "the new table's file loaded" "$(ls "$G"/sent/*/*/*/main.later_table 2>/dev/null | wc -l)" "1"
# SIGHUP with a definition now invalid: refused, the table serves as it was
cp "$G/schemas/main/later_table.json" "$TMP/later.keep"
sed -i '0,/"STRING"/s//"STRNG"/' "$G/schemas/main/later_table.json"
kill -HUP $svc
for i in $(seq 1 600); do grep -q "reload refused" "$TMP/svc.log" && break; sleep 0.05; done
check_grep "SIGHUP: an invalid definition refuses the reload" "reload refused.*main.later_table is refused.*STRNG" "$TMP/svc.log"
head -n 10 "$D/videos.ndjson" | tail -n 5 > "$G/raw/later_table/.y" && mv "$G/raw/later_table/.y" "$G/raw/later_table/w.ndjson"
for i in $(seq 1 600); do [ "$(ls "$G"/sent/*/*/*/main.later_table 2>/dev/null | wc -l)" = 2 ] && break; sleep 0.1; done
check_eq "the table still loads on its running definition" "$(ls "$G"/sent/*/*/*/main.later_table 2>/dev/null | wc -l)" "2"
cp "$TMP/later.keep" "$G/schemas/main/later_table.json"
kill -TERM $svc
wait $svc
check_eq "SIGTERM: clean exit 0" "$?" "0"
check_grep "stopping said" '"msg":"stopping' "$TMP/svc.log"
python3 -c "
import json,sys
for l in open('$TMP/svc.log'):
    if l.startswith('{'): json.loads(l)
" && ok || ko "JSON log lines do not parse"
check_grep "log lines name file and table" '"file":"diagnostic_sessions/live[0-9]+.ndjson","table":"main.diagnostic_sessions"' "$TMP/svc.log"
expect_exit 0 -- "$SLUICE" verify --gateway "$G"
check_grep "verify after the live run" "0 discrepancies" "$TMP/out"
# verify finds a row changed, then a row added, behind the gateway's back
vids=$(wq 'SELECT count(*) FROM youtube_repair_videos')
expect_exit 0 -- "$SLUICE" query --write --warehouse "$W" \
    "UPDATE youtube_repair_videos SET title = title || 'x' WHERE video_id = (SELECT min(video_id) FROM youtube_repair_videos)"
expect_exit 1 -- "$SLUICE" verify --gateway "$G"
check_grep "verify: a changed row" "main.youtube_repair_videos: the rows' checksum is not the sum of its batches'" "$TMP/out"
expect_exit 0 -- "$SLUICE" query --write --warehouse "$W" \
    "INSERT INTO youtube_repair_videos SELECT * FROM youtube_repair_videos LIMIT 1"
expect_exit 1 -- "$SLUICE" verify --gateway "$G"
check_grep "verify: an added row" "main.youtube_repair_videos holds $((vids + 1)) rows; its recorded loads add up to $vids" "$TMP/out"

# ---- a large file (over 16 MB) is validated on the idle workers' threads
# too: its bad records land in quarantine once, in file order, as the
# one-thread `sluice validate` finds them; the rest loads
G2=$TMP/gw2
W2="$G2/warehouse.duckdb"
expect_exit 0 -- "$SLUICE" init "$G2"
cp -r "$S/main" "$G2/schemas/"
python3 -c "
import json; p = '$G2/sluice.json'; c = json.load(open(p))
c.setdefault('load', {})['max_bad_records'] = 100000
json.dump(c, open(p, 'w'))"
mkdir -p "$G2/raw/youtube_repair_videos"
big=$TMP/big.ndjson
python3 - "$D/videos.ndjson" "$big" <<'EOF'
import sys
rows = [l for l in open(sys.argv[1], "rb") if l.strip()]
with open(sys.argv[2], "wb") as out:
    size = 0
    while size < 18 << 20:
        for l in rows:
            out.write(l); size += len(l)
EOF
"$SLUICE" validate --schemas "$G2/schemas" --table youtube_repair_videos \
    --rejects "$TMP/big.rejects" "$big" > /dev/null 2>&1
big_bad=$(wc -l < "$TMP/big.rejects")
big_good=$(( $(wc -l < "$big") - big_bad ))
[ "$big_bad" -gt 0 ] && ok || ko "the large file has no bad records to find"
ln "$big" "$G2/raw/youtube_repair_videos/big.ndjson"
expect_exit 0 -- "$SLUICE" run --gateway "$G2" --once --threads 2
check_eq "large file: good rows loaded" "$("$SLUICE" query --warehouse "$W2" --format csv 'SELECT count(*) FROM youtube_repair_videos' | sed -n 2p)" "$big_good"
qf=$(ls "$G2"/quarantine/main.youtube_repair_videos/*.rejects.ndjson)
check_eq "large file: rejects once" "$(wc -l < "$qf")" "$big_bad"
python3 - "$qf" "$TMP/big.rejects" <<'EOF' && ok || ko "large file: reject lines differ from sluice validate's"
import json, sys
a = [json.loads(l)["line"] for l in open(sys.argv[1], "rb")]
b = [json.loads(l)["line"] for l in open(sys.argv[2], "rb")]
sys.exit(0 if a == b else 1)
EOF

# ---- --once stopped by SIGTERM before it drained is not "done": exit
# 128+15 and a line saying so (the signal comes from a crash point, so it
# always lands mid-run); the next run finishes the work
G3=$TMP/gw3
expect_exit 0 -- "$SLUICE" init "$G3" --example
fast "$G3"
SLUICE_CRASH_AT=claimed:1 SLUICE_CRASH_SIGNAL=15 "$SLUICE" run --gateway "$G3" --once >"$TMP/out" 2>"$TMP/err"
check_eq "--once interrupted: exit 143" "$?" "143"
check_grep "--once interrupted: said" "interrupted by SIGTERM before the gateway was drained: [0-9]+ files? not finished" "$TMP/err"
# a file whose every row is rejected: warned of with the likely cause, as
# `sluice validate` does
for i in 1 2 3; do echo '{"bad": true}'; done > "$G3/raw/diagnostic_sessions/.allbad3"
mv "$G3/raw/diagnostic_sessions/.allbad3" "$G3/raw/diagnostic_sessions/allbad3.ndjson"
"$SLUICE" run --gateway "$G3" --once >"$TMP/out" 2>"$TMP/err"
check_eq "after the interrupted run: drained" "$(nfiles "$G3/raw")$(nfiles "$G3/transformed")$(nfiles "$G3/cloud_ready")" "000"
check_grep "every row rejected: warned, the file named" "warn: every row was rejected \\(3\\); likely cause: .*file=diagnostic_sessions/allbad3.ndjson" "$TMP/err"

finish
