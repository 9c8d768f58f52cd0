#!/usr/bin/env bash
# A two-shard ClickHouse cluster (two Debian clickhouse-server processes on
# loopback ports, each its own config and data, cluster `sluice` naming both)
# fed through the real sluice binary: tables created on both shards with a
# Distributed table over them, rows sent to their shard by the sharding key
# (the key ClickHouse computes agrees row by row), queries through the
# Distributed table seeing every row exactly once, and a shard stopped in the
# middle of a batch three ways - while rows stream to it, between the two
# shards' moves (kill -9 of sluice there, then the shard down), and under the
# gateway's retries - each batch completing once the shard returns, with no
# duplicate and no loss. Skips (77) only without clickhouse-server.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/support/clickhouse.sh"
ch_need
trap 'kill $RUNPID 2>/dev/null; ch_stop_all; rm -rf "$TMP"' EXIT
RUNPID=""
ch_start s1 s2 || { ko "clickhouse did not start"; finish; }
WH="clickhouse://127.0.0.1:$CH_s1_HTTP,127.0.0.1:$CH_s2_HTTP/cl?cluster=sluice"
V() { "$SLUICE" query --warehouse "$WH" --format csv "$1" | sed -n 2p; }
S() { ch_sql "$1" "$2" | tr '\t' ','; } # one shard, directly

mkdir -p "$TMP/s/main"
cp "$SRC/samples/schemas/main/"*.json "$TMP/s/main/"
cat > "$TMP/s/main/ev.json" <<'EOF'
{"fields": [{"name": "id", "type": "INT64", "mode": "REQUIRED"},
  {"name": "ts", "type": "TIMESTAMP", "mode": "REQUIRED"},
  {"name": "name", "type": "STRING"}, {"name": "tags", "type": "STRING", "mode": "REPEATED"}],
 "partitioning": {"type": "MONTH", "field": "ts"}, "clustering": {"fields": ["id"]}}
EOF
gen() { # FILE FROM COUNT
    python3 - "$@" <<'EOF'
import sys
path, start, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w") as f:
    for i in range(start, start + n):
        f.write('{"id": %d, "ts": "2024-%02d-%02dT10:00:00Z", "name": "name %d", "tags": ["a", "b%d"]}\n'
                % (i, 1 + i % 6, 1 + i % 28, i, i % 3))
EOF
}
# expect_once WHAT N: the Distributed table holds ids 0..N-1 exactly once
expect_once() {
    check_eq "$1: every row once" "$(V "SELECT count(), uniqExact(id), sum(id) FROM ev")" "$2,$2,$(( $2 * ($2 - 1) / 2 ))"
    check_eq "$1: the shards hold them all" \
        "$(( $(S s1 "SELECT count() FROM cl.ev_local") + $(S s2 "SELECT count() FROM cl.ev_local") ))" "$2"
    check_eq "$1: no stage left" "$(S s1 "SELECT count() FROM system.tables WHERE name LIKE '\\_sluice\\_stage%'"),$(S s2 "SELECT count() FROM system.tables WHERE name LIKE '\\_sluice\\_stage%'")" "0,0"
}

# ---- tables on both shards and a Distributed table over them -----------------
expect_exit 0 -- "$SLUICE" schema apply --schemas "$TMP/s" --warehouse "$WH"
check_grep "apply: created" "5 tables: 5 created, 0 unchanged" "$TMP/out"
expect_exit 0 -- "$SLUICE" schema apply --schemas "$TMP/s" --warehouse "$WH"
check_grep "apply again: unchanged" "5 tables: 0 created, 5 unchanged" "$TMP/out"
for s in s1 s2; do
    check_eq "$s: local and Distributed tables" \
        "$(S $s "SELECT name, engine FROM system.tables WHERE database = 'cl' AND name LIKE 'ev%' ORDER BY name" | tr '\n' ' ')" \
        "ev,Distributed ev_local,MergeTree "
done
check_grep "the sharding key: the clustering column" "^Distributed\\(.*sluice.*ev_local.*, halfMD5\\(toString\\(id\\)\\)\\)$" \
    <(S s2 "SELECT engine_full FROM system.tables WHERE database = 'cl' AND name = 'ev'")
# a URI that lists fewer servers than the cluster has is refused
expect_exit 2 -- "$SLUICE" schema apply --schemas "$TMP/s" --warehouse "clickhouse://127.0.0.1:$CH_s1_HTTP,127.0.0.1:$CH_s1_HTTP,127.0.0.1:$CH_s2_HTTP/cl?cluster=sluice"
check_grep "shard count checked" "cluster sluice has 2 shards, the URI lists 3 servers" "$TMP/err"

# ---- rows to their shards -------------------------------------------------------
gen "$TMP/a.ndjson" 0 6000
expect_exit 0 -- "$SLUICE" load --schemas "$TMP/s" --warehouse "$WH" --table ev "$TMP/a.ndjson"
expect_once "load" 6000
n1=$(S s1 "SELECT count() FROM cl.ev_local")
if [ "$n1" -gt 2000 ] && [ "$n1" -lt 4000 ]; then ok; else ko "shard 1 holds $n1 of 6000 rows"; fi
# every row sits where the Distributed table's own key puts it
check_eq "shard 1: rows of its key" "$(S s1 "SELECT count() FROM cl.ev_local WHERE halfMD5(toString(id)) % 2 != 0")" "0"
check_eq "shard 2: rows of its key" "$(S s2 "SELECT count() FROM cl.ev_local WHERE halfMD5(toString(id)) % 2 != 1")" "0"
check_eq "each shard records its part" "$(S s1 "SELECT rows FROM cl._sluice_parts FINAL"),$(S s2 "SELECT rows FROM cl._sluice_parts FINAL")" \
    "$n1,$((6000 - n1))"
check_eq "the batch is recorded once, on the first server" "$(V "SELECT count(), sum(rows_loaded) FROM _sluice_loads FINAL")" "1,6000"
expect_exit 0 -- "$SLUICE" load --schemas "$TMP/s" --warehouse "$WH" --table ev "$TMP/a.ndjson"
check_grep "again: already loaded" "already loaded" "$TMP/out"
expect_once "load again" 6000
# a table without clustering: rows spread by a hash of the whole row
expect_exit 0 -- "$SLUICE" load --max-bad-records 100 --schemas "$TMP/s" --warehouse "$WH" --table youtube_repair_videos "$SRC/samples/data/videos.ndjson"
v1=$(S s1 "SELECT count() FROM cl.youtube_repair_videos_local")
check_eq "unclustered: every row once" "$(V "SELECT count(), uniqExact(video_id) FROM youtube_repair_videos")" "388,388"
if [ "$v1" -gt 100 ] && [ "$v1" -lt 288 ]; then ok; else ko "unclustered: shard 1 holds $v1 of 388"; fi

# ---- a shard stopped while rows stream to it ------------------------------------
gen "$TMP/b.ndjson" 6000 120000
head -n 60000 "$TMP/b.ndjson" > "$TMP/b1"
tail -n +60001 "$TMP/b.ndjson" > "$TMP/b2"
{ cat "$TMP/b1"; sleep 1; ch_stop s2 KILL; sleep 0.5; cat "$TMP/b2"; } |
    "$SLUICE" load --schemas "$TMP/s" --warehouse "${WH}&timeout=5" --table ev - >"$TMP/out" 2>"$TMP/err"
check_eq "shard down mid-upload: the load fails" "$?" "4"
check_grep "shard down mid-upload: transient" "\[SL_EUNAVAIL, transient\]" "$TMP/err"
ch_restart s2 || ko "s2 did not restart"
expect_once "shard down mid-upload: nothing half-loaded" 6000
expect_exit 0 -- "$SLUICE" load --schemas "$TMP/s" --warehouse "$WH" --table ev - < "$TMP/b.ndjson"
expect_once "shard back: the batch completes once" 126000

# ---- kill -9 between the shards' moves, the second shard down, then back ---------
gen "$TMP/c.ndjson" 126000 6000
SLUICE_CRASH_AT=ch-part-recorded:1 "$SLUICE" load --schemas "$TMP/s" --warehouse "$WH" --table ev "$TMP/c.ndjson" >/dev/null 2>&1
check_eq "kill -9 after shard 1's part" "$?" "137"
before1=$(S s1 "SELECT count() FROM cl.ev_local")
ch_stop s2 KILL
expect_exit 4 -- "$SLUICE" load --schemas "$TMP/s" --warehouse "$WH&timeout=5" --table ev "$TMP/c.ndjson"
check_grep "the second shard down: transient" "\[SL_EUNAVAIL, transient\]" "$TMP/err"
ch_restart s2 || ko "s2 did not restart"
expect_exit 0 -- "$SLUICE" load --schemas "$TMP/s" --warehouse "$WH" --table ev "$TMP/c.ndjson"
expect_once "after kill -9 between shards" 132000
check_eq "shard 1's part was not sent again" "$(S s1 "SELECT count() FROM cl.ev_local")" "$before1"

# ---- the gateway: a shard down under a batch, retried until it is back -----------
G="$TMP/gw"
"$SLUICE" init "$G" >/dev/null
cp "$TMP/s/main/ev.json" "$G/schemas/ev.json"
python3 - "$G/sluice.json" "$WH" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["warehouse"] = sys.argv[2] + "&timeout=5"
c["retry"] = {"max_attempts": 30, "initial_ms": 200, "max_ms": 1000}
json.dump(c, open(sys.argv[1], "w"))
EOF
mkdir -p "$G/raw/ev"
for k in 0 1 2 3; do gen "$G/raw/ev/part$k.ndjson" $((132000 + k * 2000)) 2000; done
ch_stop s2 KILL
"$SLUICE" run --gateway "$G" --once >"$TMP/run.out" 2>"$TMP/run.err" &
RUNPID=$!
for k in $(seq 1 600); do grep -q "will retry the batch" "$TMP/run.err" && break; sleep 0.1; done
check_grep "gateway: the batch is retried" "will retry the batch .*\[.*class=transient\]" "$TMP/run.err"
ch_restart s2 || ko "s2 did not restart"
wait $RUNPID
check_eq "gateway: run --once ends well" "$?" "0"
RUNPID=""
expect_once "gateway: shard back" 140000
check_eq "gateway: every file archived" "$(find "$G/sent" -name '*part*' | wc -l)" "4"
finish
