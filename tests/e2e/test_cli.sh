#!/usr/bin/env bash
# End to end: the real sluice binary against a real DuckDB file with the shipped
# sample registry and data: exit codes, rows landed, rejects, idempotence.
. "$(dirname "$0")/lib.sh"
S=$SRC/samples/schemas
D=$SRC/samples/data
WH="duckdb://$TMP/wh.duckdb"

# --help on every command
for c in "" schema validate load query; do
    expect_exit 0 -- "$SLUICE" $c --help
    check_grep "help of '$c'" "usage: sluice" "$TMP/out"
done
expect_exit 2 -- "$SLUICE" frobnicate
expect_exit 2 -- "$SLUICE" validate --schemas "$S" "$D/equipment.ndjson"
expect_exit 2 -- "$SLUICE" validate --schemas "$S" --table nope "$D/equipment.ndjson"
expect_exit 2 -- "$SLUICE" validate --schemas "$S" --table universal_equipment_registry --max-bad-records x "$D/equipment.ndjson"

# schema apply: created, then unchanged
expect_exit 0 -- "$SLUICE" schema apply --schemas "$S" --warehouse "$WH"
check_grep "apply creates" "4 tables: 4 created, 0 unchanged" "$TMP/out"
expect_exit 0 -- "$SLUICE" schema apply --schemas "$S" --warehouse "$WH"
check_grep "apply is idempotent" "4 tables: 0 created, 4 unchanged" "$TMP/out"

# validate: the sample holds bad records (listed in its truth file)
bad=$(($(wc -l < "$D/equipment.truth.tsv") - 1))
total=$(grep -c . "$D/equipment.ndjson")
expect_exit 3 -- "$SLUICE" validate --schemas "$S" --table universal_equipment_registry \
    --rejects "$TMP/rej.ndjson" "$D/equipment.ndjson"
check_grep "validate summary" "$total rows, $((total - bad)) valid, $bad rejected" "$TMP/out"
check_eq "one reject line per bad record" "$(wc -l < "$TMP/rej.ndjson")" "$bad"
# the rejects are exactly the truth file's lines
cut -f2 "$D/equipment.truth.tsv" | tail -n +2 | sort -n > "$TMP/want_lines"
sed -E 's/.*"line":([0-9]+).*/\1/' "$TMP/rej.ndjson" | sort -n > "$TMP/got_lines"
check_eq "rejected lines match the truth file" "$(cat "$TMP/got_lines" | tr '\n' ' ')" "$(cat "$TMP/want_lines" | tr '\n' ' ')"
# every reject has the documented keys
check_eq "reject keys" "$(grep -c '"file":.*"line":[0-9]*,"offset":[0-9]*,"field":.*"reason":".*","value":' "$TMP/rej.ndjson")" "$bad"
# the offset points at the start of the line
first_line=$(head -n 1 "$TMP/got_lines")
off=$(head -n 1 "$TMP/rej.ndjson" | sed -E 's/.*"offset":([0-9]+).*/\1/')
want_off=$(head -n $((first_line - 1)) "$D/equipment.ndjson" | wc -c)
check_eq "offset of the first reject" "$off" "$want_off"
expect_exit 0 -- "$SLUICE" validate --schemas "$S" --table universal_equipment_registry \
    --max-bad-records "$bad" "$D/equipment.ndjson"
expect_exit 3 -- "$SLUICE" validate --schemas "$S" --table universal_equipment_registry \
    --max-bad-records "$((bad - 1))" "$D/equipment.ndjson"
# stdin, and threads give the same counts
expect_exit 3 -- sh -c "'$SLUICE' validate --schemas '$S' --table universal_equipment_registry - < '$D/equipment.ndjson'"
check_grep "stdin summary" "$total rows, $((total - bad)) valid, $bad rejected" "$TMP/out"

# load: too many bad records loads nothing
expect_exit 3 -- "$SLUICE" load --schemas "$S" --table universal_equipment_registry --warehouse "$WH" "$D/equipment.ndjson"
check_grep "says nothing loaded" "nothing of this file was loaded" "$TMP/err"
check_eq "nothing loaded" "$(q 'SELECT count(*) FROM universal_equipment_registry')" "0"
check_eq "no load recorded" "$(q 'SELECT count(*) FROM _sluice_loads')" "0"
# within the limit: the good rows land, once
expect_exit 0 -- "$SLUICE" load --schemas "$S" --table universal_equipment_registry --warehouse "$WH" \
    --max-bad-records 100 "$D/equipment.ndjson"
check_eq "rows loaded" "$(q 'SELECT count(*) FROM universal_equipment_registry')" "$((total - bad))"
check_eq "load recorded" "$(q "SELECT rows_loaded || '/' || rows_rejected FROM _sluice_loads")" "$((total - bad))/$bad"
expect_exit 0 -- "$SLUICE" load --schemas "$S" --table universal_equipment_registry --warehouse "$WH" \
    --max-bad-records 100 "$D/equipment.ndjson"
check_grep "second load is a no-op" "already loaded" "$TMP/out"
check_eq "still loaded once" "$(q 'SELECT count(*) FROM universal_equipment_registry')" "$((total - bad))"
expect_exit 0 -- "$SLUICE" load --schemas "$S" --table universal_equipment_registry --warehouse "$WH" \
    --max-bad-records 100 --force "$D/equipment.ndjson"
check_eq "--force loads again" "$(q 'SELECT count(*) FROM universal_equipment_registry')" "$((2 * (total - bad)))"
# nested and repeated values arrive intact
check_eq "no NULL ids" "$(q 'SELECT count(*) FROM universal_equipment_registry WHERE primary_id_value IS NULL')" "0"
check_eq "tags is a list" "$(q "SELECT typeof(tags) FROM universal_equipment_registry LIMIT 1")" "VARCHAR[]"

# gzip input, sessions table
expect_exit 0 -- "$SLUICE" load --schemas "$S" --table diagnostic_sessions --warehouse "$WH" "$D/sessions_clean.ndjson.gz"
check_eq "gzip rows" "$(q 'SELECT count(*) FROM diagnostic_sessions')" "$(gzip -dc "$D/sessions_clean.ndjson.gz" | grep -c .)"

# zstd input, detected by content (the name says nothing)
if command -v zstd >/dev/null 2>&1; then
    gzip -dc "$D/sessions_clean.ndjson.gz" | zstd -q -c > "$TMP/sessions.data"
    expect_exit 0 -- "$SLUICE" validate --schemas "$S" --table diagnostic_sessions "$TMP/sessions.data"
    check_grep "zstd rows" "100 rows, 100 valid, 0 rejected" "$TMP/out"
    head -c 200 "$TMP/sessions.data" > "$TMP/trunc.zst"
    expect_exit 3 -- "$SLUICE" validate --schemas "$S" --table diagnostic_sessions "$TMP/trunc.zst"
    check_grep "truncated zstd named" "trunc.zst.*truncated zstd" "$TMP/err"
fi

# CSV with a header
cbad=$(($(wc -l < "$D/equipment_flat.truth.tsv") - 1))
crows=$(($(grep -c . "$D/equipment_flat.csv") - 1))
expect_exit 0 -- "$SLUICE" load --schemas "$S" --table equipment_flat --header --warehouse "$WH" \
    --max-bad-records 100 --rejects "$TMP/crej.ndjson" "$D/equipment_flat.csv"
check_eq "csv rows" "$(q 'SELECT count(*) FROM equipment_flat')" "$((crows - cbad))"
check_grep "csv rejects carry a record number" '"record":[0-9]+' "$TMP/crej.ndjson"

# query formats
expect_exit 0 -- "$SLUICE" query --warehouse "$WH" --format json "SELECT 1 AS a, 'x' AS b"
check_eq "json output" "$(cat "$TMP/out")" '{"a":1,"b":"x"}'
expect_exit 0 -- "$SLUICE" query --warehouse "$WH" --format csv "SELECT 1 AS a, NULL AS b"
check_eq "csv output" "$(tr '\n' '|' < "$TMP/out")" "a,b|1,|"
expect_exit 4 -- "$SLUICE" query --warehouse "$WH" "SELEC nonsense"

# unreadable input and corrupt gzip: exit 3, named in the message
expect_exit 3 -- "$SLUICE" validate --schemas "$S" --table diagnostic_sessions "$TMP/missing.ndjson"
check_grep "names the missing file" "missing.ndjson" "$TMP/err"
head -c 300 "$D/sessions_clean.ndjson.gz" > "$TMP/trunc.ndjson.gz"
expect_exit 3 -- "$SLUICE" load --schemas "$S" --table diagnostic_sessions --warehouse "$WH" "$TMP/trunc.ndjson.gz"
check_grep "truncated gzip named" "trunc.ndjson.gz.*truncated" "$TMP/err"

# --threads: a plain file split at line boundaries gives the same counts and the
# same rejects, in file order, with the same line numbers and offsets
big=$TMP/big.ndjson
for i in $(seq 40); do cat "$D/equipment.ndjson"; done > "$big"
expect_exit 3 -- "$SLUICE" validate --schemas "$S" --table universal_equipment_registry \
    --rejects "$TMP/r1.ndjson" "$big"
cp "$TMP/out" "$TMP/out1"
expect_exit 3 -- "$SLUICE" validate --schemas "$S" --table universal_equipment_registry \
    --threads 2 --rejects "$TMP/r2.ndjson" "$big"
check_eq "threads: same summary" "$(sed 's/ in .*//' "$TMP/out")" "$(sed 's/ in .*//' "$TMP/out1")"
check_eq "threads: same rejects" "$(md5sum < "$TMP/r2.ndjson")" "$(md5sum < "$TMP/r1.ndjson")"
check_eq "threads: reject count" "$(wc -l < "$TMP/r2.ndjson")" "$((40 * bad))"

cbad=$(($(wc -l < "$D/equipment_flat.truth.tsv") - 1))
crows=$(($(grep -c . "$D/equipment_flat.csv") - 1))
# CSV --threads (no quoted newlines: every newline ends a record): same counts,
# same rejects with the same line, record and offset, header read once
{ head -n 1 "$D/equipment_flat.csv"; for i in $(seq 40); do tail -n +2 "$D/equipment_flat.csv"; done; } > "$TMP/big.csv"
expect_exit 3 -- "$SLUICE" validate --schemas "$S" --table equipment_flat --header \
    --rejects "$TMP/c1.ndjson" "$TMP/big.csv"
cp "$TMP/out" "$TMP/cout1"
expect_exit 3 -- "$SLUICE" validate --schemas "$S" --table equipment_flat --header \
    --threads 2 --rejects "$TMP/c2.ndjson" "$TMP/big.csv"
check_eq "csv threads: same summary" "$(sed 's/ in .*//' "$TMP/out")" "$(sed 's/ in .*//' "$TMP/cout1")"
check_eq "csv threads: same rejects" "$(md5sum < "$TMP/c2.ndjson")" "$(md5sum < "$TMP/c1.ndjson")"
check_eq "csv threads: reject count" "$(wc -l < "$TMP/c2.ndjson")" "$((40 * cbad))"
check_grep "csv threads: last record number" "\"record\":$((40 * crows - (crows - $(tail -n 1 "$D/equipment_flat.truth.tsv" | cut -f1))))," "$TMP/c2.ndjson"

# a row longer than --max-row-size is one reject, and the next row is fine
{ gzip -dc "$D/sessions_clean.ndjson.gz" | head -n 2;
  printf '{"x": "%s"}\n' "$(head -c 5000 /dev/zero | tr '\0' a)";
  gzip -dc "$D/sessions_clean.ndjson.gz" | sed -n 3,4p; } > "$TMP/long.ndjson"
expect_exit 0 -- "$SLUICE" validate --schemas "$S" --table diagnostic_sessions --max-row-size 4096 \
    --max-bad-records 1 --rejects "$TMP/rl.ndjson" "$TMP/long.ndjson"
check_grep "long row rejected" '"line":3,.*maximum row size of 4096' "$TMP/rl.ndjson"
check_grep "long row counted" "5 rows, 4 valid, 1 rejected" "$TMP/out"
gzip -c "$TMP/long.ndjson" > "$TMP/long.ndjson.gz"
expect_exit 0 -- "$SLUICE" validate --schemas "$S" --table diagnostic_sessions --max-row-size 4096 \
    --max-bad-records 1 "$TMP/long.ndjson.gz"
check_grep "long row in a stream" "5 rows, 4 valid, 1 rejected" "$TMP/out"

# progress: shown on a terminal, not through a pipe
if command -v script >/dev/null 2>&1; then
    for i in $(seq 5); do cat "$big"; done > "$TMP/huge.ndjson"
    SLUICE_PROGRESS_DELAY_MS=0 script -qec "'$SLUICE' validate --schemas '$S' --table universal_equipment_registry --max-bad-records 100000 '$TMP/huge.ndjson'" /dev/null > "$TMP/tty.out" 2>&1
    check_grep "progress on a terminal" "rows/s.*ETA" "$TMP/tty.out"
    SLUICE_PROGRESS_DELAY_MS=0 "$SLUICE" validate --schemas "$S" --table universal_equipment_registry \
        --max-bad-records 100000 "$TMP/huge.ndjson" > "$TMP/pipe.out" 2>&1
    if grep -q "ETA" "$TMP/pipe.out"; then ko "progress through a pipe"; else ok; fi
fi

finish
