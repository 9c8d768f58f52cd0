#!/usr/bin/env bash
# Real world: 31,360 NYC yellow-taxi trips in 5 CSV files (read in place from
# ../shared/data/nyc-taxi) against the BigQuery schema of the public table
# tlc_yellow_trips, mapped by header name (--header).
#
# How the headers map (case-insensitive names, as bq load's sourceColumnMatch=NAME):
# * 4 files (2018-01, 2019-01, 2020-01, ten_trips_from_each_month) use the table's
#   own snake_case names, except three columns:
#     rate_code_id          -> the table says rate_code      (renamed)
#     improvement_surcharge -> the table says imp_surcharge  (renamed)
#     congestion_surcharge  -> no such field
#   so they load with --ignore-unknown-values (the three columns are dropped, and
#   rate_code / imp_surcharge stay NULL, as do airport_fee, data_file_year/month
#   which no file carries).
# * samples_2021 uses the TLC's own names (VendorID, tpep_pickup_datetime,
#   RatecodeID, PULocationID, ...) plus a test_bool column: ignoring case is not
#   enough, vendor_id (REQUIRED) is not named, so all its 1,000 rows are rejected.
# * 109 rows have an empty vendor_id (14 in ten_trips, 95 in 2020-01): REQUIRED,
#   so they are bad records (the public table could not hold them either).
# As shipped: 31,360 rows, 30,251 loaded, 1,109 rejected (all naming vendor_id).
# With the headers renamed to the table's names (a sed on line 1, fed on stdin):
# 31,251 loaded, only the 109 empty vendor_id rows rejected.
# Other real-world traits met on the way: 2019-01 has CRLF line ends (its last line
# LF only), ten_trips writes integers as "2.0" (INTEGER accepts an integral
# decimal; vendor_id is a STRING and keeps "2.0"), negative fares, empty values.
. "$(dirname "$0")/lib.sh"
need_shared data/nyc-taxi
N=$SHARED/data/nyc-taxi
D=$N/tests/test_sets/taxi_yellow_tripdata_samples
WH="duckdb://$TMP/wh.duckdb"
T=tlc_yellow_trips

reg=$TMP/reg/main
mkdir -p "$reg"
ln -s "$N/public-datasets-pipelines/yellow_trips_schema.json" "$reg/$T.json"
expect_exit 0 -- "$SLUICE" schema apply --schemas "$TMP/reg" --warehouse "$WH"

F2018=$D/yellow_tripdata_sample_2018-01.csv
F2019=$D/yellow_tripdata_sample_2019-01.csv
F2020=$D/yellow_tripdata_sample_2020-01.csv
FTEN=$D/ten_trips_from_each_month/yellow_tripdata_sample_10_trips_from_each_month.csv
F2021=$D/samples_2021/yellow_tripdata_sample_2021.csv
SNAKE="$F2018 $F2019 $F2020 $FTEN"
check_eq "five CSV files" "$(find "$N" -name '*.csv' | sort | tr '\n' ' ')" "$(echo "$F2021 $FTEN $F2018 $F2019 $F2020" | tr ' ' '\n' | sort | tr '\n' ' ')"
rows() { echo $(($(grep -c . "$1") - 1)); }
total=0
for f in $SNAKE $F2021; do total=$((total + $(rows "$f"))); done
check_eq "31,360 rows in all" "$total" "31360"

# data rows of FILE (no header, no CR) whose vendor_id (column 1) is empty / not
nocr() { tail -n +2 "$1" | tr -d '\r'; }
empty_vid() { nocr "$1" | awk -F, '$1 == "" { print NR }'; }

qq() { "$SLUICE" query --warehouse "$1" --format csv "$2" | sed -n 2p; }

# ---- as shipped -----------------------------------------------------------------------
# without --ignore-unknown-values a header column that is no field refuses the file
expect_exit 3 -- "$SLUICE" load --schemas "$TMP/reg" --table $T --warehouse "$WH" --header "$F2018"
check_grep "rate_code_id is not a field" 'header column 6 "rate_code_id" is not a field' "$TMP/err"
check_eq "refused file: nothing loaded" "$(q "SELECT count(*) FROM $T")" "0"

loaded=0
for f in $SNAKE $F2021; do
    n=$(rows "$f")
    bad=$(empty_vid "$f" | grep -c .)
    [ "$f" = "$F2021" ] && bad=$n
    expect_exit 0 -- "$SLUICE" load --schemas "$TMP/reg" --table $T --warehouse "$WH" --header \
        --ignore-unknown-values --max-bad-records 1000 --rejects "$TMP/rej.ndjson" "$f"
    b=$(basename "$f")
    check_grep "$b: counts" "$n rows, $((n - bad)) valid, $bad rejected" "$TMP/out"
    check_eq "$b: every reject is vendor_id REQUIRED" \
        "$(grep -c '"field":"vendor_id","reason":"Only optional fields can be set to NULL' "$TMP/rej.ndjson")" "$bad"
    if [ "$f" != "$F2021" ]; then
        check_eq "$b: rejected records are the empty vendor_id rows" \
            "$(sed -E 's/.*"record":([0-9]+).*/\1/' "$TMP/rej.ndjson" | tr '\n' ' ')" "$(empty_vid "$f" | tr '\n' ' ')"
        # header on line 1: record r is on line r + 1
        check_eq "$b: line = record + 1" \
            "$(sed -E 's/.*"line":([0-9]+),"record":([0-9]+).*/\1 \2/' "$TMP/rej.ndjson" | awk '$1 != $2 + 1' | wc -l | tr -d ' ')" "0"
    fi
    loaded=$((loaded + n - bad))
done
check_eq "as shipped: 30,251 loaded" "$loaded" "30251"
check_eq "rows in the table" "$(q "SELECT count(*) FROM $T")" "$loaded"
check_eq "renamed columns stay NULL" "$(q "SELECT count(rate_code) + count(imp_surcharge) + count(airport_fee) + count(data_file_year) FROM $T")" "0"
check_eq "load history" "$(q "SELECT count(*) || ':' || sum(rows_loaded) || ':' || sum(rows_rejected) FROM _sluice_loads")" "5:30251:1109"

# aggregates against awk over the same rows (the snake_case files, vendor_id set)
ok_rows() { for f in $SNAKE; do nocr "$f" | awk -F, '$1 != ""'; done; }
want=$(ok_rows | awk -F, '{ n++; fare += $11; tot += $17; pc += $4; if ($11 < 0) neg++; if ($7 == "Y") y++ }
    END { printf "%d:%.2f:%.2f:%d:%d:%d", n, fare, tot, pc, neg, y }')
check_eq "count, sum(fare), sum(total), sum(passengers), negative fares, store-and-forward" \
    "$(q "SELECT count(*) || ':' || sum(fare_amount)::DECIMAL(18,2) || ':' || sum(total_amount)::DECIMAL(18,2) || ':' || sum(passenger_count) || ':' || count(*) FILTER (fare_amount < 0) || ':' || count(*) FILTER (store_and_fwd_flag = 'Y') FROM $T")" \
    "$want"
want=$(ok_rows | awk -F, '{ print $2 }' | LC_ALL=C sort | sed -n '1p;$p' | tr '\n' '/')
check_eq "pickup range" "$(q "SELECT strftime(min(pickup_datetime) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') || '/' || strftime(max(pickup_datetime) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') || '/' FROM $T")" "$want"
want=$(ok_rows | awk -F, '{ d += $5 } END { printf "%.2f", d }')
check_eq "sum(trip_distance) NUMERIC exact" "$(q "SELECT sum(trip_distance)::DECIMAL(18,2) FROM $T")" "$want"
want=$(ok_rows | awk -F, '{ print $8 }' | LC_ALL=C sort -u | wc -l | tr -d ' ')
check_eq "distinct pickup_location_id (STRING)" "$(q "SELECT count(DISTINCT pickup_location_id) FROM $T")" "$want"

# spot checks: the first trip of 2018-01 (and its "2.0"-style twin in ten_trips)
check_eq "first 2018 trip" \
    "$(q "SELECT vendor_id || '|' || strftime(dropoff_datetime AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') || '|' || passenger_count || '|' || trip_distance::DECIMAL(9,2) || '|' || fare_amount::DECIMAL(9,2) || '|' || total_amount::DECIMAL(9,2) || '|' || pickup_location_id || '|' || dropoff_location_id || '|' || payment_type FROM $T WHERE pickup_datetime = '2018-01-11 18:24:44+00' AND vendor_id = '2'")" \
    "2|2018-01-11 18:35:02|1|1.65|8.50|12.36|230|237|1"
check_eq "ten_trips keeps its text: vendor_id 2.0, passenger_count 1.0 -> 1" \
    "$(q "SELECT vendor_id || '|' || passenger_count || '|' || payment_type FROM $T WHERE pickup_datetime = '2018-01-11 18:24:44+00' AND vendor_id <> '2'")" \
    "2.0|1|1.0"
check_eq "negative fare kept" "$(q "SELECT min(fare_amount)::DECIMAL(9,2) FROM $T")" \
    "$(ok_rows | awk -F, '{ print $11 }' | sort -g | head -n 1 | awk '{ printf "%.2f", $1 }')"

# ---- headers renamed to the table's names (sed on line 1), fed on stdin ------------------
WR="duckdb://$TMP/renamed.duckdb"
rename() {
    sed '1{s/\r$//;s/^VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,/vendor_id,pickup_datetime,dropoff_datetime,/
         s/RatecodeID/rate_code/;s/rate_code_id/rate_code/;s/PULocationID/pickup_location_id/
         s/DOLocationID/dropoff_location_id/;s/improvement_surcharge/imp_surcharge/}' "$1"
}
loaded=0
for f in $SNAKE $F2021; do
    n=$(rows "$f")
    bad=$(empty_vid "$f" | grep -c .)
    rename "$f" | "$SLUICE" load --schemas "$TMP/reg" --table $T --warehouse "$WR" --format csv --header \
        --ignore-unknown-values --max-bad-records 100 --rejects "$TMP/rej.ndjson" - >"$TMP/out" 2>"$TMP/err"
    check_eq "renamed $(basename "$f"): exit" "$?" "0"
    check_grep "renamed $(basename "$f"): only empty vendor_id rejected" "$n rows, $((n - bad)) valid, $bad rejected" "$TMP/out"
    loaded=$((loaded + n - bad))
done
check_eq "renamed: 31,251 loaded" "$(qq "$WR" "SELECT count(*) FROM $T")" "$loaded"
check_eq "renamed: 31,251" "$loaded" "31251"
# every row now has rate_code and imp_surcharge, from the renamed columns
want=$(for f in $SNAKE $F2021; do nocr "$f" | awk -F, '$1 != ""'; done |
    awk -F, '{ n++; s += $16; if ($6 != "") r++ } END { printf "%d:%.2f", r, s }')
check_eq "renamed: count(rate_code), sum(imp_surcharge)" \
    "$(qq "$WR" "SELECT count(rate_code) || ':' || sum(imp_surcharge)::DECIMAL(18,2) FROM $T")" "$want"
want=$(nocr "$F2021" | awk -F, '{ n++; fare += $11 } END { printf "%d:%.2f", n, fare }')
check_eq "renamed 2021: count and sum(fare)" \
    "$(qq "$WR" "SELECT count(*) || ':' || sum(fare_amount)::DECIMAL(18,2) FROM $T WHERE pickup_datetime >= '2021-01-01'")" "$want"
check_eq "renamed 2021: first trip" \
    "$(qq "$WR" "SELECT vendor_id || '|' || pickup_location_id || '|' || dropoff_location_id || '|' || rate_code || '|' || imp_surcharge::DECIMAL(9,2) FROM $T WHERE pickup_datetime = '2021-10-03 17:42:59+00'")" \
    "1|140|48|1|0.30"

finish
