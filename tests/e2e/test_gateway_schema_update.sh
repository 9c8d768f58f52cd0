#!/usr/bin/env bash
# sluice.json's load.schema_update_options (bq load's names) in the gateway
# service: a table definition gains a NULLABLE column while the service runs.
# With ALLOW_FIELD_ADDITION (gateway-wide, or for one table) the next batch
# adds the column in its own transaction and loads; without it the files fail
# as class schema with a message saying what to do, and `sluice schema
# apply` then `sluice retry` loads them. Real binary, real DuckDB file.
. "$(dirname "$0")/lib.sh"
G=$TMP/gw
W="$G/warehouse.duckdb"
wq() { "$SLUICE" query --warehouse "$W" --format csv "$1" | sed -n 2p; }
nfiles() { find "$1" -type f ! -name '.*' 2>/dev/null | wc -l; }
drop() {
    mkdir -p "$G/raw/$1"
    cat >"$G/raw/$1/.$2"
    mv "$G/raw/$1/.$2" "$G/raw/$1/$2"
}
# setcfg PYTHON: edit sluice.json (c is the parsed object)
setcfg() {
    python3 -c "import json; p='$G/sluice.json'; c=json.load(open(p)); $1; json.dump(c, open(p, 'w'), indent=2)"
}
v1='{"fields": [{"name": "id", "type": "INTEGER", "mode": "REQUIRED"}]}'
v2='{"fields": [{"name": "id", "type": "INTEGER", "mode": "REQUIRED"}, {"name": "note", "type": "STRING"}]}'
# start the service; wait_for FILE PATTERN
wait_for() {
    for i in $(seq 1 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
drained() {
    for i in $(seq 1 150); do
        [ "$(nfiles "$G/raw")$(nfiles "$G/transformed")$(nfiles "$G/cloud_ready")" = 000 ] && return 0
        sleep 0.1
    done
    return 1
}

mkgw() {
    rm -rf "$G"
    "$SLUICE" init "$G" >/dev/null || exit 1
    setcfg "c['batch'] = {'window_ms': 200}; c['retry'] = {'max_attempts': 2, 'initial_ms': 20, 'max_ms': 50}; c['rescan_seconds'] = 1; $1"
    mkdir -p "$G/schemas/main"
    echo "$v1" >"$G/schemas/main/t.json"
    echo "$v1" >"$G/schemas/main/u.json"
}

# ---- the option is checked like every sluice.json key
mkgw "pass"
setcfg "c['load']['schema_update_options'] = ['ALLOW_EVERYTHING']"
expect_exit 2 -- "$SLUICE" run --gateway "$G" --once
check_grep "a bad value named" "load.schema_update_options" "$TMP/err"

# ---- gateway-wide ALLOW_FIELD_ADDITION: the running service evolves t
mkgw "c['load']['schema_update_options'] = ['ALLOW_FIELD_ADDITION', 'ALLOW_FIELD_RELAXATION']"
"$SLUICE" run --gateway "$G" 2>"$TMP/svc.log" &
svc=$!
wait_for "$TMP/svc.log" serving || ko "the service did not start"
echo '{"id": 1}' | drop t a.json
drained && ok || ko "first file not loaded"
check_eq "loaded under v1" "$(wq 'SELECT count(*) FROM t')" "1"
echo "$v2" >"$G/schemas/main/t.json"
kill -HUP $svc
wait_for "$TMP/svc.log" reloaded || ko "no reload"
echo '{"id": 2, "note": "new"}' | drop t b.json
drained && ok || ko "second file not loaded"
check_eq "the new column appears, its value loaded" \
    "$(wq "SELECT string_agg(id || ':' || coalesce(note, '-'), ' ' ORDER BY id) FROM t")" "1:- 2:new"
check_eq "nothing failed" "$(nfiles "$G/failed")" "0"
check_eq "the change recorded in the schema history" \
    "$(wq "SELECT count(*) FROM _sluice_schema_history WHERE table_name = 'main.t' AND change = 'add' AND path = 'note'" 2>/dev/null || echo query-failed)" "1"
kill -TERM $svc
wait $svc

# ---- per table: only u may evolve; without the option t's files fail,
# saying what to do, and load after `schema apply` and `retry`
mkgw "c['tables'] = {'main.u': {'schema_update_options': ['ALLOW_FIELD_ADDITION']}}"
"$SLUICE" run --gateway "$G" 2>"$TMP/svc2.log" &
svc=$!
wait_for "$TMP/svc2.log" serving || ko "the service did not start"
echo '{"id": 1}' | drop t a.json
echo '{"id": 1}' | drop u a.json
drained && ok || ko "first files not loaded"
echo "$v2" >"$G/schemas/main/t.json"
echo "$v2" >"$G/schemas/main/u.json"
kill -HUP $svc
wait_for "$TMP/svc2.log" reloaded || ko "no reload"
echo '{"id": 2, "note": "x"}' | drop t b.json
echo '{"id": 3}' | drop t c.json
echo '{"id": 2, "note": "y"}' | drop u b.json
drained && ok || ko "files not drained"
kill -TERM $svc
wait $svc
check_eq "u (its own option): loaded with the new column" "$(wq "SELECT note FROM u WHERE id = 2")" "y"
check_eq "t: both files failed" "$(ls "$G"/failed/main.t/*.json 2>/dev/null | grep -vc error.json)" "2"
ej=$(ls "$G"/failed/main.t/*b.json.error.json)
check_grep "class schema" '"class":"schema"' "$ej"
check_grep "the message says what changed" "column note VARCHAR is missing" "$ej"
check_grep "the message says what to do" 'sluice schema apply.*schema_update_options \[\\"ALLOW_FIELD_ADDITION\\"\].*sluice retry' "$ej"
check_eq "t unchanged" "$(wq 'SELECT count(*) FROM t')" "1"
expect_exit 0 -- "$SLUICE" schema apply --schemas "$G/schemas" --warehouse "$W"
check_grep "schema apply adds the column" "add column note" "$TMP/out"
expect_exit 0 -- "$SLUICE" retry --gateway "$G" $(cd "$G" && ls failed/main.t/*.json | grep -v error.json)
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "after retry: t holds all three" \
    "$(wq "SELECT string_agg(id || ':' || coalesce(note, '-'), ' ' ORDER BY id) FROM t")" "1:- 2:x 3:-"
check_eq "failed/ emptied" "$(find "$G/failed" -name '*.json' ! -name '*.error.json' | wc -l)" "0"
expect_exit 0 -- "$SLUICE" verify --gateway "$G"
check_grep "verify" " 0 discrepancies" "$TMP/out"

finish
