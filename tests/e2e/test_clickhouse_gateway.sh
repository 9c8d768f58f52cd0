#!/usr/bin/env bash
# The gateway (sluice run) with ClickHouse as its warehouse, unchanged: a
# --once drain loads every table, then the kill -9 crash test - the service
# killed at each of its own state transitions and at each step of the
# ClickHouse load (SLUICE_CRASH_AT), and at random instants while it works -
# and started again until it drains: every row is in its table exactly once
# and every file archived once. Skips (77) only without clickhouse-server.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/support/clickhouse.sh"
ch_need
trap 'ch_stop_all; rm -rf "$TMP"' EXIT
ch_start one || { ko "clickhouse did not start"; finish; }
P=$CH_one_HTTP
V() { "$SLUICE" query --warehouse "$1" --format csv "$2" | sed -n 2p; }

# a template gateway: the example tables and files, and ev in 6 files
T="$TMP/template"
"$SLUICE" init "$T" --example >/dev/null
cat > "$T/schemas/main/ev.json" <<'EOF'
{"fields": [{"name": "id", "type": "INT64", "mode": "REQUIRED"},
  {"name": "ts", "type": "TIMESTAMP", "mode": "REQUIRED"},
  {"name": "name", "type": "STRING"}],
 "partitioning": {"type": "MONTH", "field": "ts"}}
EOF
mkdir -p "$T/raw/ev"
python3 - "$T/raw/ev" <<'EOF'
import sys
for k in range(6):
    with open("%s/ev%d.ndjson" % (sys.argv[1], k), "w") as f:
        for i in range(k * 1000, (k + 1) * 1000):
            f.write('{"id": %d, "ts": "2024-%02d-01T00:00:00Z", "name": "n%d"}\n' % (i, 1 + i % 6, i))
EOF
# gateway DIR at a fresh database DB
gateway() {
    rm -rf "$1"
    cp -r "$T" "$1"
    python3 - "$1/sluice.json" "clickhouse://127.0.0.1:$P/$2" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["warehouse"] = sys.argv[2]
c["retry"] = {"max_attempts": 20, "initial_ms": 100, "max_ms": 500}
c["rescan_seconds"] = 1
json.dump(c, open(sys.argv[1], "w"))
EOF
}
# every row once, every file archived once
drained() { # DIR DB WHAT
    local W="clickhouse://127.0.0.1:$P/$2"
    check_eq "$3: rows once" "$(V "$W" "SELECT (SELECT count() FROM diagnostic_sessions), (SELECT count() FROM universal_equipment_registry), (SELECT count() FROM youtube_repair_videos), (SELECT count() FROM ev), (SELECT uniqExact(id) FROM ev)")" \
        "490,388,388,6000,6000"
    # a record may be written twice (an attempt killed between its INSERT and
    # the answer; ReplacingMergeTree, read with FINAL): the copies must agree,
    # and the batches recorded must add up to the rows, each counted once
    check_eq "$3: a batch's records agree" "$(V "$W" "SELECT count() FROM (SELECT batch_id FROM _sluice_loads GROUP BY batch_id HAVING uniqExact(rows_loaded, checksum, n_files) > 1)")" "0"
    check_eq "$3: batches recorded once" "$(V "$W" "SELECT sum(rows_loaded), count() = uniqExact(batch_id) FROM _sluice_loads FINAL")" "7266,1"
    check_eq "$3: files archived" "$(find "$1/sent" -type f | wc -l),$(find "$1/raw" "$1/transformed" "$1/cloud_ready" -type f | wc -l)" "10,0"
    check_eq "$3: no stage left" "$(V "$W" "SELECT count() FROM system.tables WHERE database = '$2' AND name LIKE '\\_sluice\\_stage%'")" "0"
}

gateway "$TMP/g0" g0
expect_exit 0 -- "$SLUICE" run --gateway "$TMP/g0" --once
check_grep "run --once: loads" "10 files claimed: 10 loaded, 0 duplicates, 0 failed" "$TMP/err"
drained "$TMP/g0" g0 "run --once"
expect_exit 0 -- "$SLUICE" run --gateway "$TMP/g0" --once
check_grep "run --once again: nothing to do" "0 files claimed" "$TMP/err"
# status reads the ledger; health also probes the ClickHouse warehouse (and,
# with no service running, fails on that alone)
expect_exit 0 -- "$SLUICE" status --gateway "$TMP/g0"
check_grep "status: the table's rows" "^main\.ev .* 6000 " "$TMP/out"
expect_exit 2 -- "$SLUICE" health --gateway "$TMP/g0"
check_grep "health: ClickHouse reachable" "^ok: warehouse reachable" "$TMP/out"
check_grep "health: the service" "^fail: service not running" "$TMP/out"
# verify: ledger, folders, each batch in _sluice_loads, rows per table
expect_exit 0 -- "$SLUICE" verify --gateway "$TMP/g0"
check_grep "verify: batches checked" " 4 batches" "$TMP/out"
check_grep "verify: no discrepancy" " 0 discrepancies" "$TMP/out"
# a row added behind the gateway's back, then a batch record lost: both found
expect_exit 0 -- "$SLUICE" query --write --warehouse "clickhouse://127.0.0.1:$P/g0" \
    "INSERT INTO ev SELECT id + 999999, ts, name FROM ev WHERE id = 0"
expect_exit 1 -- "$SLUICE" verify --gateway "$TMP/g0"
check_grep "verify: the extra row" "main.ev holds 6001 rows; its recorded loads add up to 6000" "$TMP/out"
expect_exit 0 -- "$SLUICE" query --write --warehouse "clickhouse://127.0.0.1:$P/g0" \
    "ALTER TABLE ev DELETE WHERE id = 999999"
for k in $(seq 1 100); do [ "$(V "clickhouse://127.0.0.1:$P/g0" "SELECT count() FROM ev")" = 6000 ] && break; sleep 0.1; done
expect_exit 0 -- "$SLUICE" verify --gateway "$TMP/g0"

# a batch of 300,000 rows: more blocks than one insert stream carries
gateway "$TMP/gb" gb
rm -rf "$TMP/gb/raw"/*
mkdir -p "$TMP/gb/raw/ev"
python3 - "$TMP/gb/raw/ev" <<'EOF'
import sys
for k in range(2):
    with open("%s/big%d.ndjson" % (sys.argv[1], k), "w") as f:
        for i in range(k * 150000, (k + 1) * 150000):
            f.write('{"id": %d, "ts": "2024-%02d-01T00:00:00Z"}\n' % (i, 1 + i % 6))
EOF
expect_exit 0 -- "$SLUICE" run --gateway "$TMP/gb" --once
check_grep "a large batch: loaded" "2 files claimed: 2 loaded, 0 duplicates, 0 failed" "$TMP/err"
check_eq "a large batch: rows once" "$(V "clickhouse://127.0.0.1:$P/gb" "SELECT count(), uniqExact(id) FROM ev")" "300000,300000"

# kill -9 at each transition, then run until drained
i=0
for point in claimed staged-recorded batch-sealed before-load ch-staged \
             ch-attached:2 ch-part-recorded ch-files-recorded ch-committed \
             after-load batch-recorded; do
    i=$((i + 1))
    gateway "$TMP/g$i" "k$i"
    SLUICE_CRASH_AT=$point "$SLUICE" run --gateway "$TMP/g$i" --once >"$TMP/out" 2>"$TMP/err"
    check_eq "kill -9 at $point" "$?" "137"
    expect_exit 0 -- "$SLUICE" run --gateway "$TMP/g$i" --once
    drained "$TMP/g$i" "k$i" "after kill -9 at $point"
    if [ "$point" = ch-committed ] || [ "$point" = after-load ]; then
        # the warehouse tells what it recorded for a batch committed before
        check_grep "after kill -9 at $point: the recorded rows" \
            "[1-9][0-9]* rows loaded \(committed before: recovered\)" "$TMP/err"
    fi
done

# kill -9 at random instants while it works, three times, then drain
gateway "$TMP/gr" gr
for k in 1 2 3; do
    "$SLUICE" run --gateway "$TMP/gr" --once >/dev/null 2>&1 &
    pid=$!
    sleep "0.$(( RANDOM % 4 + 1 ))"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
done
expect_exit 0 -- "$SLUICE" run --gateway "$TMP/gr" --once
drained "$TMP/gr" gr "after random kills"
# a batch's queries carry query ids (a later attempt waits for a killed
# one's); the server refused none of them as a duplicate id (Code 216)
check_eq "no query_id used twice" "$(cat "$CH_ROOT/one/log/server.err.log" 2>/dev/null | grep -c 'Code: 216')" "0"
finish
