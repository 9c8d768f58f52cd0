#!/usr/bin/env bash
# The ClickHouse warehouse through the real sluice binary against a real
# ClickHouse server (Debian's clickhouse-server, started here on a free
# loopback port with its own config and data under a temporary folder, and
# stopped on exit): schema apply (create, unchanged, a different definition
# refused), load (every type, values exact), query (typed, streamed, formats),
# exactly once after a kill -9 at every step of a load, and the faults: an
# exception after rows in a 200 answer, an exception as a whole 200 answer, a
# wrong password (fatal, clear, never printed), a server that never answers
# (timeout, transient), a refused connection. Skips (77) only when
# clickhouse-server is not installed.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/support/clickhouse.sh"
ch_need
trap 'ch_stop_all; kill $FAKES 2>/dev/null; rm -rf "$TMP"' EXIT
FAKES=""
ch_start one || { ko "clickhouse did not start"; finish; }
P=$CH_one_HTTP
WH="clickhouse://127.0.0.1:$P/e2e"
Q() { "$SLUICE" query --warehouse "$WH" "$@"; }
V() { "$SLUICE" query --warehouse "$1" --format csv "$2" | sed -n 2p; }

# ---- schema apply ----------------------------------------------------------
expect_exit 0 -- "$SLUICE" schema apply --schemas "$SRC/samples/schemas" --warehouse "$WH"
check_grep "apply: created" "4 tables: 4 created, 0 unchanged" "$TMP/out"
expect_exit 0 -- "$SLUICE" schema apply --schemas "$SRC/samples/schemas" --warehouse "$WH"
check_grep "apply again: unchanged" "4 tables: 0 created, 4 unchanged" "$TMP/out"
check_eq "the database's tables" "$(Q --format csv "SELECT name FROM system.tables WHERE database = 'e2e' ORDER BY name" | tr '\n' ' ')" \
    "name _sluice_files _sluice_loads _sluice_parts diagnostic_sessions equipment_flat universal_equipment_registry youtube_repair_videos "
# a table changed by hand is refused with the difference, the rest applies
ch_sql one "ALTER TABLE e2e.youtube_repair_videos DROP COLUMN channel_id" >/dev/null
expect_exit 2 -- "$SLUICE" schema apply --schemas "$SRC/samples/schemas" --warehouse "$WH"
check_grep "changed table refused" "refused main.youtube_repair_videos" "$TMP/err"
check_grep "changed table: the difference" "table e2e.youtube_repair_videos exists with a different definition: column 2 is channel_category, definition has channel_id" "$TMP/err"
check_grep "the others unchanged" "4 tables: 0 created, 3 unchanged, 0 changed, 1 refused" "$TMP/out"
# what ClickHouse cannot hold: every field named
mkdir -p "$TMP/bad/main"
cat > "$TMP/bad/main/meta.json" <<'EOF'
{"fields": [{"name": "id", "type": "INT64"},
  {"name": "meta", "type": "RECORD", "fields": [
    {"name": "inputs", "type": "STRING", "mode": "REPEATED"},
    {"name": "reasons", "type": "STRING", "mode": "REPEATED"}]}]}
EOF
expect_exit 2 -- "$SLUICE" schema apply --schemas "$TMP/bad" --warehouse "$WH"
check_grep "cannot hold: the table" "refused main.meta" "$TMP/err"
check_grep "cannot hold: the field and why" "ClickHouse cannot hold 1 field: meta.reasons: REPEATED beside meta.inputs" "$TMP/err"
check_grep "cannot hold: what to do" "this warehouse cannot hold the definition as it is" "$TMP/err"
# plan: the same verdicts, nothing created
expect_exit 2 -- "$SLUICE" schema plan --schemas "$TMP/bad" --warehouse "$WH"
check_grep "plan: refused" "1 tables: 0 to create, 0 unchanged, 0 to change, 1 refused" "$TMP/out"
mkdir -p "$TMP/new/main"
echo '{"fields": [{"name": "id", "type": "INT64"}]}' > "$TMP/new/main/fresh.json"
expect_exit 0 -- "$SLUICE" schema plan --schemas "$TMP/new" --warehouse "$WH"
check_grep "plan: a create" "1 tables: 1 to create" "$TMP/out"
check_eq "plan creates nothing" "$(Q --format csv "SELECT count() FROM system.tables WHERE database = 'e2e' AND name = 'fresh'" | sed -n 2p)" "0"
# a change to an existing table is refused (Sluice does not ALTER
# ClickHouse tables)
expect_exit 0 -- "$SLUICE" schema apply --schemas "$TMP/new" --warehouse "$WH"
echo '{"fields": [{"name": "id", "type": "INT64"}, {"name": "x", "type": "STRING"}]}' > "$TMP/new/main/fresh.json"
expect_exit 2 -- "$SLUICE" schema apply --schemas "$TMP/new" --warehouse "$WH"
check_grep "no change in place" "table e2e.fresh exists with a different definition: .*Sluice does not ALTER ClickHouse tables" "$TMP/err"

# ---- load ------------------------------------------------------------------
L() { "$SLUICE" load --max-bad-records 100 --schemas "$SRC/samples/schemas" --warehouse "$WH" "$@"; }
expect_exit 0 -- L --table diagnostic_sessions "$SRC/samples/data/sessions.ndjson"
check_grep "load: shown URI" "loading into main.diagnostic_sessions \(clickhouse://127.0.0.1:$P/e2e\)" "$TMP/out"
check_eq "load: rows" "$(V "$WH" "SELECT count() FROM diagnostic_sessions")" "390"
check_eq "load: recorded" "$(V "$WH" "SELECT rows_loaded, rows_rejected, origin FROM _sluice_loads FINAL")" "390,10,load"
expect_exit 0 -- L --table diagnostic_sessions "$SRC/samples/data/sessions.ndjson"
check_grep "load again: already loaded" "already loaded into main.diagnostic_sessions" "$TMP/out"
check_eq "load again: no new rows" "$(V "$WH" "SELECT count() FROM diagnostic_sessions")" "390"
expect_exit 0 -- L --table diagnostic_sessions "$SRC/samples/data/sessions_clean.ndjson.gz"
check_eq "load: gzip" "$(V "$WH" "SELECT count() FROM diagnostic_sessions")" "490"
expect_exit 0 -- L --table equipment_flat --source_format CSV --skip_leading_rows 1 "$SRC/samples/data/equipment_flat.csv"
check_eq "load: CSV" "$(V "$WH" "SELECT count() FROM equipment_flat")" "390"
expect_exit 0 -- L --table diagnostic_sessions - < "$SRC/samples/data/sessions.ndjson"
check_grep "stdin: content already loaded" "already loaded" "$TMP/out"
check_eq "stdin: no new rows" "$(V "$WH" "SELECT count() FROM diagnostic_sessions")" "490"
# --replace (WRITE_TRUNCATE) and WRITE_EMPTY
W="clickhouse://127.0.0.1:$P/rep"
RL() { "$SLUICE" load --max-bad-records 100 --schemas "$SRC/samples/schemas" --warehouse "$W" --table diagnostic_sessions "$@"; }
expect_exit 0 -- RL "$SRC/samples/data/sessions.ndjson"
expect_exit 0 -- RL --replace "$SRC/samples/data/sessions_clean.ndjson.gz"
check_eq "--replace: the table holds the new file only" "$(V "$W" "SELECT count() FROM diagnostic_sessions")" "100"
head -n 300 "$SRC/samples/data/sessions.ndjson" > "$TMP/s300.ndjson"
expect_exit 2 -- RL --write_disposition WRITE_EMPTY "$TMP/s300.ndjson"
check_grep "WRITE_EMPTY refused" "is not empty" "$TMP/err"
check_eq "WRITE_EMPTY: nothing loaded" "$(V "$W" "SELECT count() FROM diagnostic_sessions")" "100"
# nothing staged stays behind
check_eq "no staging tables left" "$(V "$WH" "SELECT count() FROM system.tables WHERE database = 'e2e' AND name LIKE '\\_sluice\\_%' AND name NOT IN ('_sluice_loads', '_sluice_files', '_sluice_parts')")" "0"

# every type, exactly: BigQuery's own extreme values
mkdir -p "$TMP/types/main"
cat > "$TMP/types/main/every.json" <<'EOF'
{"fields": [
  {"name": "id", "type": "INT64", "mode": "REQUIRED"},
  {"name": "i", "type": "INT64"}, {"name": "f", "type": "FLOAT64"},
  {"name": "n", "type": "NUMERIC"}, {"name": "bn", "type": "BIGNUMERIC"},
  {"name": "b", "type": "BOOL"}, {"name": "s", "type": "STRING"},
  {"name": "by", "type": "BYTES"}, {"name": "d", "type": "DATE"},
  {"name": "dt", "type": "DATETIME"}, {"name": "t", "type": "TIME"},
  {"name": "ts", "type": "TIMESTAMP"}, {"name": "j", "type": "JSON"},
  {"name": "tags", "type": "STRING", "mode": "REPEATED"},
  {"name": "r", "type": "RECORD", "fields": [
     {"name": "x", "type": "INT64"},
     {"name": "kids", "type": "RECORD", "mode": "REPEATED", "fields": [
        {"name": "k", "type": "STRING"}, {"name": "v", "type": "FLOAT64", "mode": "REPEATED"}]}]}]}
EOF
cat > "$TMP/every.ndjson" <<'EOF'
{"id": 1, "i": "-9223372036854775808", "f": "-inf", "n": "-99999999999999999999999999999.999999999", "bn": "-578960446186580977117854925043439539266.34992332820282019728792003956564819968", "b": true, "s": "\u00e9\t\"", "by": "AP8=", "d": "0001-01-01", "dt": "0001-01-01 00:00:00", "t": "00:00:00", "ts": "0001-01-01 00:00:00 UTC", "j": {"a": [1, null]}, "tags": ["x", ""], "r": {"x": 5, "kids": [{"k": "a", "v": [1.5, 2]}, {"k": null, "v": []}]}}
{"id": 2, "i": "9223372036854775807", "f": "nan", "n": "99999999999999999999999999999.999999999", "bn": "578960446186580977117854925043439539266.34992332820282019728792003956564819967", "b": false, "s": "", "by": "", "d": "9999-12-31", "dt": "9999-12-31 23:59:59.999999", "t": "23:59:59.999999", "ts": "9999-12-31 23:59:59.999999 UTC", "j": null, "tags": [], "r": null}
{"id": 3}
EOF
expect_exit 0 -- "$SLUICE" load --schemas "$TMP/types" --warehouse "$WH" --table every "$TMP/every.ndjson"
expect_exit 0 -- Q --format csv "SELECT id, i, f, n, bn, b, s, hex(by), d, dt, t, ts, j, tags, \`r.x\`, \`r.kids.k\`, \`r.kids.v\` FROM every ORDER BY id"
cat > "$TMP/want" <<'EOF'
id,i,f,n,bn,b,s,hex(by),d,dt,t,ts,j,tags,r.x,r.kids.k,r.kids.v
1,-9223372036854775808,-inf,-99999999999999999999999999999.999999999,-578960446186580977117854925043439539266.34992332820282019728792003956564819968,1,"é	""",00FF,-719162,-62135596800000000,0,-62135596800000000,"{""a"":[1,null]}","['x', '']",5,"['a', null]","[[1.5, 2], []]"
2,9223372036854775807,nan,99999999999999999999999999999.999999999,578960446186580977117854925043439539266.34992332820282019728792003956564819967,0,"","",2932896,253402300799999999,86399999999,253402300799999999,,[],,[],[]
3,,,,,,,,,,,,,[],,[],[]
EOF
check_eq "every type: values kept exactly" "$(cat "$TMP/out")" "$(cat "$TMP/want")"
# the documented way back from the integer encodings (docs/TYPES.md)
expect_exit 0 -- Q --format csv "SELECT toDateTime(intDiv(session_start, 1000000)) AS ts, session_start % 1000000 AS us FROM diagnostic_sessions ORDER BY session_start LIMIT 1"
check_grep "TIMESTAMP microseconds read back" "^2018-01-01 [0-9:]+\\+00,0$" "$TMP/out"

# ---- query -----------------------------------------------------------------
expect_exit 0 -- Q "SELECT 1 AS one, 'a' AS s; SELECT [1, 2] AS l, (1, 'x') AS t"
check_eq "query: two results, typed" "$(cat "$TMP/out")" \
"one | s
----+--
  1 | a
(1 row)

l      | t
-------+-------------------
[1, 2] | {'1': 1, '2': 'x'}
(1 row)"
expect_exit 0 -- Q --format json "SELECT toDecimal64(1.5, 2) AS d, toDate('2024-01-02') AS day, NULL AS n"
check_eq "query: json" "$(cat "$TMP/out")" '{"d":1.50,"day":"2024-01-02","n":null}'
expect_exit 0 -- Q --format csv "SELECT session_id FROM diagnostic_sessions WHERE 0"
check_eq "query: an empty result keeps its columns" "$(cat "$TMP/out")" "session_id"
expect_exit 2 -- Q "SELECT 1 FORMAT TSV"
check_grep "query: a FORMAT of its own" "leave the FORMAT clause out" "$TMP/err"
expect_exit 4 -- Q "INSERT INTO diagnostic_sessions (session_id) VALUES ('x')"
check_grep "query: read-only by default" "Code 164" "$TMP/err"
expect_exit 4 -- Q "SELECT * FROM nope"
check_grep "query: a server error" "Code 60: Table e2e.nope doesn't exist" "$TMP/err"
# an exception after rows already sent with 200: the rows, then the error once
expect_exit 4 -- Q --format csv "SELECT number, throwIf(number = 2500000) AS x FROM system.numbers LIMIT 3000000"
check_grep "mid-stream exception parsed" "Code 395: Value passed to 'throwIf' function is non zero \[SL_EWAREHOUSE, fatal\]" "$TMP/err"
check_eq "mid-stream exception: once" "$(grep -c 'error:' "$TMP/err")" "1"
n=$(wc -l < "$TMP/out")
if [ "$n" -gt 1 ] && [ "$n" -le 2500001 ]; then ok; else ko "rows before the mid-stream exception: $n"; fi
# streamed: 3 million rows in bounded memory
/usr/bin/time -f "%M" -o "$TMP/rss" "$SLUICE" query --warehouse "$WH" --format csv \
    "SELECT number, toString(number) AS s FROM system.numbers LIMIT 3000000" > "$TMP/big.csv" 2>"$TMP/err"
check_eq "3M rows: exit" "$?" "0"
m=$(( $(tail -n 1 "$TMP/rss") / 1024 ))
echo "query of 3,000,000 rows from ClickHouse: peak RSS $m MB"
if [ "$m" -lt 100 ]; then ok; else ko "3M rows with $m MB peak RSS (want < 100)"; fi
check_eq "3M rows: the last" "$(tail -n 1 "$TMP/big.csv")" "2999999,2999999"
rm -f "$TMP/big.csv"

# ---- exactly once after kill -9 at every step of a load ---------------------
mkdir -p "$TMP/ev/main"
cat > "$TMP/ev/main/ev.json" <<'EOF'
{"fields": [{"name": "id", "type": "INT64", "mode": "REQUIRED"},
  {"name": "ts", "type": "TIMESTAMP", "mode": "REQUIRED"},
  {"name": "name", "type": "STRING"}, {"name": "tags", "type": "STRING", "mode": "REPEATED"}],
 "partitioning": {"type": "MONTH", "field": "ts"}, "clustering": {"fields": ["id"]}}
EOF
python3 - "$TMP/ev.ndjson" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(6000):
        f.write('{"id": %d, "ts": "2024-%02d-%02dT10:00:00Z", "name": "n%d", "tags": ["a", "b%d"]}\n'
                % (i, 1 + i % 6, 1 + i % 28, i, i % 3))
EOF
evload() { "$SLUICE" load --schemas "$TMP/ev" --warehouse "$1" --table ev "$TMP/ev.ndjson"; }
evcheck() { # WH WHAT
    check_eq "$2: every row once" "$(V "$1" "SELECT count(), uniqExact(id), sum(id) FROM ev")" "6000,6000,17997000"
    check_eq "$2: one batch record" "$(V "$1" "SELECT count() FROM _sluice_loads FINAL")" "1"
    check_eq "$2: one file record" "$(V "$1" "SELECT count() FROM _sluice_files FINAL")" "1"
    check_eq "$2: no stage left" "$(V "$1" "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name LIKE '\\_sluice\\_stage%'")" "0"
}
i=0
for point in ch-staged ch-renamed ch-attached:1 ch-attached:4 ch-part-recorded \
             ch-stage-dropped ch-files-recorded ch-committed; do
    i=$((i + 1))
    W="clickhouse://127.0.0.1:$P/crash$i"
    SLUICE_CRASH_AT=$point evload "$W" >"$TMP/out" 2>"$TMP/err"
    check_eq "kill -9 at $point" "$?" "137"
    expect_exit 0 -- evload "$W"
    evcheck "$W" "after kill -9 at $point"
done
# a file split on several threads (each its own blocks, all on the shard's
# streams), and a kill -9 while they run
python3 - "$TMP/big.ndjson" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(60000):
        f.write('{"id": %d, "ts": "2024-%02d-%02dT10:00:00Z", "name": "a longer name, %d", "tags": ["a", "b%d"]}\n'
                % (i, 1 + i % 6, 1 + i % 28, i, i % 3))
EOF
W="clickhouse://127.0.0.1:$P/par?streams=3"
expect_exit 0 -- "$SLUICE" load --threads 2 --schemas "$TMP/ev" --warehouse "$W" --table ev "$TMP/big.ndjson"
check_eq "parallel load: every row once" "$(V "$W" "SELECT count(), uniqExact(id), sum(id) FROM ev")" "60000,60000,1799970000"
check_eq "parallel load: the file's rows recorded" "$(V "$W" "SELECT rows_loaded FROM _sluice_files FINAL")" "60000"
# gzip'd request bodies (the default off loopback)
W="clickhouse://127.0.0.1:$P/gz?compress=gzip"
expect_exit 0 -- "$SLUICE" load --threads 2 --schemas "$TMP/ev" --warehouse "$W" --table ev "$TMP/big.ndjson"
check_eq "gzip'd load: every row once" "$(V "$W" "SELECT count(), uniqExact(id), sum(id) FROM ev")" "60000,60000,1799970000"
W="clickhouse://127.0.0.1:$P/parcrash"
SLUICE_CRASH_AT=ch-staged "$SLUICE" load --threads 2 --schemas "$TMP/ev" --warehouse "$W" --table ev "$TMP/big.ndjson" >/dev/null 2>&1
check_eq "parallel load: kill -9" "$?" "137"
expect_exit 0 -- "$SLUICE" load --threads 2 --schemas "$TMP/ev" --warehouse "$W" --table ev "$TMP/big.ndjson"
check_eq "parallel load after kill -9: every row once" "$(V "$W" "SELECT count(), uniqExact(id) FROM ev")" "60000,60000"

# a partition half attached (only a server dying inside ATTACH leaves one):
# the next attempt finds it by the attempt's marker, removes it and attaches
# the whole partition again
W="clickhouse://127.0.0.1:$P/half"
SLUICE_CRASH_AT=ch-attached:2 evload "$W" >/dev/null 2>&1
ch_sql one "ALTER TABLE half.ev DELETE WHERE _sluice_batch != 0 AND id % 12 = 0" >/dev/null
for k in $(seq 1 100); do
    [ "$(ch_sql one "SELECT count() FROM system.mutations WHERE database = 'half' AND is_done = 0")" = 0 ] && break
    sleep 0.1
done
check_eq "half-attached state made" "$(V "$W" "SELECT count() < 2000 AND count() > 0 FROM ev")" "1"
expect_exit 0 -- evload "$W"
evcheck "$W" "after a half-attached partition"

# ---- faults ------------------------------------------------------------------
# a wrong password: fatal, says what to check, never prints the password
expect_exit 4 -- "$SLUICE" query --warehouse "clickhouse://sluice:Xyzzy42@127.0.0.1:$P/e2e" "SELECT 1"
check_grep "wrong password: clear" "authentication failed for user 'sluice'.*Wrong password.*SLUICE_CLICKHOUSE_PASSWORD" "$TMP/err"
check_grep "wrong password: fatal" "\[SL_EAUTH, fatal\]" "$TMP/err"
check_eq "wrong password: not printed" "$(grep -c Xyzzy42 "$TMP/out" "$TMP/err" | awk -F: '{s += $2} END {print s}')" "0"
SLUICE_CLICKHOUSE_PASSWORD=Xyzzy42 expect_exit 4 -- "$SLUICE" load --schemas "$SRC/samples/schemas" \
    --warehouse "clickhouse://sluice@127.0.0.1:$P/e2e" --table diagnostic_sessions "$SRC/samples/data/sessions.ndjson"
check_grep "wrong password from the environment" "\[SL_EAUTH, fatal\]" "$TMP/err"
SLUICE_CLICKHOUSE_USER=sluice SLUICE_CLICKHOUSE_PASSWORD=s3cret expect_exit 0 -- \
    "$SLUICE" query --warehouse "clickhouse://127.0.0.1:$P/e2e" --format csv "SELECT count() FROM diagnostic_sessions"
check_eq "credentials from the environment" "$(sed -n 2p "$TMP/out")" "490"
expect_exit 0 -- "$SLUICE" schema apply --schemas "$SRC/samples/schemas" --warehouse "clickhouse://sluice:s3cret@127.0.0.1:$P/e2e2"
check_grep "a password in the URI is never shown" "clickhouse://sluice@127.0.0.1:$P/e2e2" "$TMP/out"
check_eq "password not in the output" "$(grep -c s3cret "$TMP/out" "$TMP/err" | awk -F: '{s += $2} END {print s}')" "0"
# a database that does not exist: reads refuse, writes create
expect_exit 2 -- "$SLUICE" query --warehouse "clickhouse://127.0.0.1:$P/nodb" "SELECT 1"
check_grep "missing database" "database nodb does not exist .*\[SL_ENOTFOUND" "$TMP/err"
# nothing listens: transient
port=$(ch_free_port)
expect_exit 4 -- "$SLUICE" query --warehouse "clickhouse://127.0.0.1:$port/e2e" "SELECT 1"
check_grep "refused connection: transient" "\[SL_EUNAVAIL, transient\]" "$TMP/err"
# misbehaving servers
fake() { # MODE: start a fake server, sets FP
    rm -f "$TMP/fake.$1"
    python3 "$SRC/tests/support/fake_clickhouse.py" "$TMP/fake.$1" "$1" &
    FAKES="$FAKES $!"
    for k in $(seq 1 600); do [ -s "$TMP/fake.$1" ] && break; sleep 0.05; done
    FP=$(cat "$TMP/fake.$1")
}
fake silent
start=$(date +%s)
expect_exit 4 -- "$SLUICE" query --warehouse "clickhouse://127.0.0.1:$FP/e2e?timeout=2" "SELECT 1"
check_grep "no answer: a timeout" "no answer for 2 s \(timeout\) \[SL_EUNAVAIL, transient\]" "$TMP/err"
el=$(( $(date +%s) - start ))
if [ "$el" -le 8 ]; then ok; else ko "the timeout took $el s"; fi
expect_exit 4 -- "$SLUICE" load --schemas "$SRC/samples/schemas" --warehouse "clickhouse://127.0.0.1:$FP/e2e?timeout=2" \
    --table diagnostic_sessions "$SRC/samples/data/sessions.ndjson"
check_grep "no answer to a load: transient" "\[SL_EUNAVAIL, transient\]" "$TMP/err"
fake exc200
expect_exit 4 -- "$SLUICE" query --warehouse "clickhouse://127.0.0.1:$FP/e2e" "SELECT 1"
check_grep "an exception in a 200 answer" "Code 241: Memory limit \(for query\) exceeded: would use 9.31 GiB \[SL_EBUSY, transient\]" "$TMP/err"
fake exc200new
expect_exit 4 -- "$SLUICE" query --warehouse "clickhouse://127.0.0.1:$FP/e2e" "SELECT 1"
check_grep "the exception header and later wording" "Code 394: Query was cancelled. \(QUERY_WAS_CANCELLED\) \[SL_EBUSY, transient\]" "$TMP/err"
fake midstream
expect_exit 4 -- "$SLUICE" query --warehouse "clickhouse://127.0.0.1:$FP/e2e" --format csv "SELECT x"
check_eq "an exception after a block: its rows" "$(cat "$TMP/out" | tr '\n' ' ')" "x 1 2 3 "
check_grep "an exception after a block: the error" "Code 241: Memory limit" "$TMP/err"
# a load whose rows are answered 200 with an exception in the body (a proxy
# to the real server that answers only the INSERTs of rows so): parsed,
# transient, nothing half-loaded; the same load on the server then lands once
fake "insert200:$P"
W="clickhouse://127.0.0.1:$FP/exc200load"
expect_exit 4 -- evload "$W"
check_grep "rows answered 200 + exception: parsed and transient" "Code 241: Memory limit .*\[SL_EBUSY, transient\]" "$TMP/err"
W="clickhouse://127.0.0.1:$P/exc200load"
check_eq "rows answered 200 + exception: nothing loaded" "$(V "$W" "SELECT count() FROM ev")" "0"
check_eq "rows answered 200 + exception: no batch recorded" "$(V "$W" "SELECT count() FROM _sluice_loads")" "0"
expect_exit 0 -- evload "$W"
evcheck "$W" "after a 200 + exception answer"
finish
