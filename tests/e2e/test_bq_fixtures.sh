#!/usr/bin/env bash
# Conformance: every file Google's own tests load into BigQuery (read in place from
# ../shared/data/bigquery-fixtures) is accepted with zero rejects, loads into a real
# DuckDB file, and spot-checked values arrive intact.
. "$(dirname "$0")/lib.sh"
need_shared data/bigquery-fixtures
F=$SHARED/data/bigquery-fixtures
PB=$F/python-bigquery/tests/data
BF=$F/bigframes/tests/data
WH="duckdb://$TMP/wh.duckdb"

# a registry of symlinks to the fixtures' schemas: main/<table>.json
reg=$TMP/reg/main
mkdir -p "$reg"
link() { ln -s "$1" "$reg/$2.json"; }
link "$PB/scalars_schema.json" pb_scalars
link "$PB/scalars_schema_csv.json" pb_scalars_csv
link "$PB/schema.json" pb_characters
link "$PB/pico_schema.json" pb_pico
for s in json nested repeated time_series penguins ratings nested_structs urban_areas scalars; do
    link "$BF/${s}_schema.json" bf_$s
done
link "$BF/hockey_players.json" bf_hockey_players
link "$BF/matrix_2by3.json" bf_matrix_2by3
link "$BF/matrix_3by4.json" bf_matrix_3by4
link "$F/sqlalchemy-bigquery/packages/sqlalchemy-bigquery/scripts/schema.json" sa_one_row

expect_exit 0 -- "$SLUICE" schema apply --schemas "$TMP/reg" --warehouse "$WH"

# load TABLE FILE [options]: zero rejects, every non-blank line loaded
load() {
    local t=$1 f=$2; shift 2
    expect_exit 0 -- "$SLUICE" load --schemas "$TMP/reg" --table "$t" --warehouse "$WH" "$@" "$f"
    check_grep "$t: zero rejects" " 0 rejected" "$TMP/out"
}
load pb_scalars "$PB/scalars.jsonl"
load pb_scalars "$PB/scalars_extreme.jsonl"
load pb_scalars_csv "$PB/scalars.csv"
load pb_characters "$PB/characters.jsonl"
load pb_pico "$PB/pico.csv"
for s in json nested repeated time_series penguins ratings nested_structs urban_areas scalars; do
    load bf_$s "$BF/$s.jsonl"
done
load bf_hockey_players "$BF/hockey_players.jsonl"
load bf_matrix_2by3 "$BF/matrix_2by3.jsonl"
load bf_matrix_3by4 "$BF/matrix_3by4.jsonl"
load sa_one_row "$F/sqlalchemy-bigquery/packages/sqlalchemy-bigquery/scripts/sample_one_row.json"

n() { grep -c . "$1"; }
check_eq "pb scalars rows" "$(q 'SELECT count(*) FROM pb_scalars')" "$(( $(n "$PB/scalars.jsonl") + $(n "$PB/scalars_extreme.jsonl") ))"
# extremes survive exactly
check_eq "int64 max" "$(q 'SELECT max(int64_col) FROM pb_scalars')" "9223372036854775807"
check_eq "int64 min" "$(q 'SELECT min(int64_col) FROM pb_scalars')" "-9223372036854775808"
check_eq "numeric max" "$(q 'SELECT max(numeric_col)::VARCHAR FROM pb_scalars')" "99999999999999999999999999999.999999999"
check_eq "bignumeric text" "$(q "SELECT bignumeric_col FROM pb_scalars WHERE rowindex = 2 AND bignumeric_col LIKE '-0.%'")" "-0.00000000000000000000000000000000000001"
check_eq "date range low" "$(q "SELECT min(date_col) FROM pb_scalars")" "0001-01-01"
check_eq "date range high" "$(q "SELECT max(date_col) FROM pb_scalars")" "9999-12-31"
check_eq "+inf float" "$(q "SELECT count(*) FROM pb_scalars WHERE float64_col = 'inf'::DOUBLE")" "1"
check_eq "nan float" "$(q "SELECT count(*) FROM pb_scalars WHERE isnan(float64_col)")" "1"
check_eq "bytes decoded" "$(q "SELECT hex(bytes_col) FROM pb_scalars WHERE bytes_col IS NOT NULL AND rowindex = 2 AND octet_length(bytes_col) = 1")" "00"
check_eq "utf-8 string" "$(q "SELECT count(*) FROM pb_scalars WHERE string_col = 'こんにちは'")" "1"
check_eq "timestamp max" "$(q "SELECT max(timestamp_col) AT TIME ZONE 'UTC' FROM pb_scalars")" "9999-12-31 23:59:59.999999"
check_eq "range text" "$(q 'SELECT range_date FROM pb_scalars_csv')" '"[2020-01-01, 2020-02-01)"'
# nested and repeated
check_eq "characters rows" "$(q 'SELECT count(*) FROM pb_characters')" "$(n "$PB/characters.jsonl")"
check_eq "nested spell name" "$(q "SELECT Spells[1].Name FROM pb_characters WHERE Name = 'Gandalf'")" "Skydragon"
check_eq "sqlalchemy one row" "$(q 'SELECT count(*) FROM sa_one_row')" "1"
finish
