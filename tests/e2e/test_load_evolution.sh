#!/usr/bin/env bash
# `sluice load` and a definition that changed (issue 13): without
# --schema_update_option the load stops with exit 2 and prints the plan; with
# ALLOW_FIELD_ADDITION / ALLOW_FIELD_RELAXATION (as bq load spells them) the
# changes are made inside the load's own transaction; rows loaded before keep
# their values, new columns read NULL for them; a change not allowed loads
# nothing and changes nothing; write dispositions.
. "$(dirname "$0")/lib.sh"
R=$TMP/reg/main
mkdir -p "$R"
W="duckdb://$TMP/wh.duckdb"
sum() { sha256sum "$TMP/wh.duckdb" | cut -c1-64; }
echo '[{"name":"id","type":"INT64","mode":"REQUIRED"},{"name":"a","type":"STRING","mode":"REQUIRED"}]' > "$R/t.json"
printf '{"id":1,"a":"x"}\n{"id":2,"a":"y"}\n' > "$TMP/d1.ndjson"
expect_exit 0 -- "$SLUICE" load --schemas "$TMP/reg" --table t --warehouse "$W" "$TMP/d1.ndjson"
# the definition gains a field and relaxes one
echo '[{"name":"id","type":"INT64","mode":"REQUIRED"},{"name":"a","type":"STRING"},{"name":"b","type":"FLOAT64"}]' > "$R/t.json"
printf '{"id":3,"b":1.5}\n' > "$TMP/d2.ndjson"
before=$(sum)
expect_exit 2 -- "$SLUICE" load --schemas "$TMP/reg" --table t --warehouse "$W" "$TMP/d2.ndjson"
check_grep "the plan is printed" "add column b FLOAT" "$TMP/err"
check_grep "the relaxation too" "relax column a: REQUIRED -> NULLABLE" "$TMP/err"
check_grep "the way forward" "schema_update_option ALLOW_FIELD_ADDITION" "$TMP/err"
check_eq "refused: warehouse unchanged" "$(sum)" "$before"
# one option is not enough: nothing loaded, nothing changed
expect_exit 2 -- "$SLUICE" load --schemas "$TMP/reg" --table t --warehouse "$W" \
    --schema_update_option ALLOW_FIELD_ADDITION "$TMP/d2.ndjson"
check_grep "the missing option named" "needs ALLOW_FIELD_RELAXATION" "$TMP/err"
check_eq "not allowed: still two columns" "$(q "SELECT count(*) FROM duckdb_columns() WHERE table_name = 't'")" "2"
check_eq "not allowed: still two rows" "$(q 'SELECT count(*) FROM t')" "2"
# both: the changes and the rows in one transaction
expect_exit 0 -- "$SLUICE" load --schemas "$TMP/reg" --table t --warehouse "$W" \
    --schema_update_option=ALLOW_FIELD_ADDITION --schema_update_option ALLOW_FIELD_RELAXATION "$TMP/d2.ndjson"
check_eq "rows before keep their values; new column NULL for them" \
    "$(q "SELECT string_agg(id || ':' || coalesce(a, 'NULL') || ':' || coalesce(b::VARCHAR, 'NULL'), ' ' ORDER BY id) FROM t")" \
    "1:x:NULL 2:y:NULL 3:NULL:1.5"
# applying again is a no-op
printf '{"id":4,"a":"z","b":2}\n' > "$TMP/d3.ndjson"
expect_exit 0 -- "$SLUICE" load --schemas "$TMP/reg" --table t --warehouse "$W" \
    --schema_update_option ALLOW_FIELD_ADDITION --schema_update_option ALLOW_FIELD_RELAXATION "$TMP/d3.ndjson"
check_eq "four rows" "$(q 'SELECT count(*) FROM t')" "4"
check_eq "the change recorded in the history" "$(q "SELECT count(*) > 0 FROM _sluice_schema_history WHERE table_name = 'main.t'")" "true"
# write dispositions
printf '{"id":9,"a":"w"}\n' > "$TMP/d4.ndjson"
expect_exit 2 -- "$SLUICE" load --schemas "$TMP/reg" --table t --warehouse "$W" --write_disposition WRITE_EMPTY "$TMP/d4.ndjson"
check_grep "WRITE_EMPTY refused" "WRITE_EMPTY" "$TMP/err"
check_eq "WRITE_EMPTY: nothing changed" "$(q 'SELECT count(*) FROM t')" "4"
expect_exit 0 -- "$SLUICE" load --schemas "$TMP/reg" --table t --warehouse "$W" --write_disposition=WRITE_TRUNCATE "$TMP/d4.ndjson"
check_eq "WRITE_TRUNCATE: the file's rows only" "$(q "SELECT string_agg(id::VARCHAR, ',') FROM t")" "9"
finish
