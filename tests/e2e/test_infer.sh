#!/usr/bin/env bash
# `sluice schema infer` on real data read in place from ../shared/data: the
# schema it prints is saved as a table definition, and `sluice load` then
# loads the very files it was inferred from with zero rejects and every row.
# Ethereum (NDJSON and CSV, one schema per table from all its files), NYC
# taxi (CSV with a detected header, four files merged), GH Archive events,
# and every data file of Google's BigQuery fixtures. Also: what infer
# refuses, compressed input and stdin, and the CLI's notes and exit codes.
. "$(dirname "$0")/lib.sh"
need_shared data/ethereum
need_shared data/nyc-taxi
need_shared data/gharchive-schema
need_shared data/bigquery-fixtures
D=$SHARED/data
WH="duckdb://$TMP/wh.duckdb"
REG=$TMP/reg/main
mkdir -p "$REG"

# infer T [options] FILE...: the schema of the files, saved as table T
infer() {
    local t=$1
    shift
    "$SLUICE" schema infer "$@" >"$REG/$t.json" 2>"$TMP/infer.err"
    local rc=$?
    if [ "$rc" = 0 ]; then ok; else
        ko "infer $t: exit $rc"; sed 's/^/    /' "$TMP/infer.err" | head -n 5 >&2; fi
}
# load T ROWS [options] FILE: loaded with zero rejects, ROWS rows
load() {
    local t=$1 n=$2
    shift 2
    expect_exit 0 -- "$SLUICE" load --schemas "$TMP/reg" --table "$t" --warehouse "$WH" "$@"
    check_grep "$t: $n rows, none rejected ($*)" " $n rows, $n valid, 0 rejected" "$TMP/out"
}
rows() { grep -c . "$1"; }
# field T NAME TYPE MODE: the inferred definition of T has that field line
field() {
    check_grep "$1: $2 $3 $4" "\"name\": \"$2\", \"type\": \"$3\", \"mode\": \"$4\"" "$REG/$1.json"
}

# ---- Ethereum ------------------------------------------------------------------
R=$D/ethereum/data/tests/resources
# NDJSON: one schema per table from all of its files (merged), then each file
# loads; rows carry keys the crypto_ethereum schemas lack: inference keeps them
for t in blocks transactions logs receipts token_transfers tokens traces contracts; do
    mapfile -t fs < <(find "$R" -name "expected_$t.json" -size +0 | sort)
    [ "${#fs[@]}" -gt 0 ] || { ko "no NDJSON file for $t"; continue; }
    infer "eth_$t" "${fs[@]}"
    n=0
    for f in "${fs[@]}"; do
        load "eth_$t" "$(rows "$f")" "$f"
        n=$((n + $(rows "$f")))
    done
    check_eq "eth_$t: rows of ${#fs[@]} files" "$(q "SELECT count(*) FROM eth_$t")" "$n"
done
# types as autodetect gives them: epoch numbers stay INTEGER, wei amounts above
# INT64 are FLOAT, nested withdrawals a REPEATED RECORD, topics REPEATED STRING
field eth_blocks number INTEGER NULLABLE
field eth_blocks timestamp INTEGER NULLABLE
field eth_blocks withdrawals RECORD REPEATED
check_grep "eth_blocks: withdrawals.amount" '^    \{"name": "amount", "type": "INTEGER"' "$REG/eth_blocks.json"
field eth_transactions value FLOAT NULLABLE
field eth_logs topics STRING REPEATED
check_eq "withdrawals survive" \
    "$(q "SELECT DISTINCT len(withdrawals) || ':' || withdrawals[1].validator_index FROM eth_blocks WHERE number = 17173049")" "16:540230"
# files of no crypto_ethereum table: one table each
i=0
while IFS= read -r f; do
    i=$((i + 1))
    infer "eth_other$i" "$f"
    load "eth_other$i" "$(rows "$f")" "$f"
done < <(find "$R" \( -name 'geth_traces.json' -o -name 'expected_marketplace.json' -o -name 'expected_shop.json' \) | sort)
check_eq "eth: other NDJSON files" "$i" "7"
# an empty file gives no schema
E=$R/test_stream/blocks_508110_508110/expected_tokens.json
check_eq "empty file is empty" "$(wc -c <"$E")" "0"
expect_exit 2 -- "$SLUICE" schema infer "$E"
check_grep "empty file refused" "no field in 0 rows of 1 files" "$TMP/err"

# CSV: the header is detected (text above numbers) and named the columns; the
# files of one table share it, so they merge by position
for t in blocks transactions logs receipts token_transfers tokens traces; do
    mapfile -t fs < <(find "$R" -name "expected_$t.csv" -size +0 | sort)
    [ "${#fs[@]}" -gt 0 ] || { ko "no CSV file for $t"; continue; }
    infer "ethcsv_$t" "${fs[@]}"
    check_grep "ethcsv_$t: header detected" "header row detected in ${#fs[@]} of ${#fs[@]} files" "$TMP/infer.err"
    check_grep "ethcsv_$t: load note" "load with --skip-leading-rows 1\$" "$TMP/infer.err"
    n=0
    for f in "${fs[@]}"; do
        load "ethcsv_$t" "$(($(rows "$f") - 1))" --skip-leading-rows 1 "$f"
        n=$((n + $(rows "$f") - 1))
    done
    check_eq "ethcsv_$t: rows" "$(q "SELECT count(*) FROM ethcsv_$t")" "$n"
done
field ethcsv_blocks number INTEGER NULLABLE
field ethcsv_blocks withdrawals STRING NULLABLE
field ethcsv_transactions value FLOAT NULLABLE
L=$R/test_extract_token_transfers_job/logs/logs.csv
infer ethcsv_logs_in "$L"
load ethcsv_logs_in "$(($(rows "$L") - 1))" --skip-leading-rows 1 "$L"
# header-only and empty CSV files
E=$R/test_export_traces_job/block_without_transactions/expected_traces.csv
expect_exit 2 -- "$SLUICE" schema infer "$E"

# ---- NYC taxi ------------------------------------------------------------------
N=$D/nyc-taxi/tests/test_sets/taxi_yellow_tripdata_samples
SNAKE="$N/yellow_tripdata_sample_2018-01.csv $N/yellow_tripdata_sample_2019-01.csv
       $N/yellow_tripdata_sample_2020-01.csv $N/ten_trips_from_each_month/yellow_tripdata_sample_10_trips_from_each_month.csv"
infer taxi $SNAKE
check_grep "taxi: 4 headers" "header row detected in 4 of 4 files" "$TMP/infer.err"
check_grep "taxi: 30,360 rows read" "30360 rows of 4 files, 18 top-level fields" "$TMP/infer.err"
field taxi vendor_id FLOAT NULLABLE # "2.0" in ten_trips widens the integers
field taxi pickup_datetime TIMESTAMP NULLABLE
field taxi store_and_fwd_flag STRING NULLABLE
field taxi pickup_location_id INTEGER NULLABLE
field taxi congestion_surcharge FLOAT NULLABLE
for f in $SNAKE; do
    load taxi "$(($(rows "$f") - 1))" --skip-leading-rows 1 "$f" # 2019-01 has CRLF
done
check_eq "taxi rows" "$(q 'SELECT count(*) FROM taxi')" "30360"
nocr() { tail -n +2 "$1" | tr -d '\r'; }
want=$(for f in $SNAKE; do nocr "$f"; done | awk -F, '{ fare += $11; if ($1 == "") e++ } END { printf "%.2f:%d", fare, e }')
check_eq "taxi: sum(fare), empty vendor_id" \
    "$(q "SELECT sum(fare_amount)::DECIMAL(18,2) || ':' || count(*) FILTER (vendor_id IS NULL) FROM taxi")" "$want"
# REQUIRED where every row has a value: not vendor_id (109 rows lack it)
infer taxi_req --required-if-always-present $SNAKE
field taxi_req vendor_id FLOAT NULLABLE
field taxi_req pickup_datetime TIMESTAMP REQUIRED
field taxi_req fare_amount FLOAT REQUIRED
for f in $SNAKE; do
    load taxi_req "$(($(rows "$f") - 1))" --skip-leading-rows 1 "$f"
done
F21=$N/samples_2021/yellow_tripdata_sample_2021.csv
infer taxi21 "$F21"
field taxi21 VendorID INTEGER NULLABLE
field taxi21 test_bool STRING NULLABLE # "f": only true/false infer BOOLEAN
load taxi21 1000 --skip-leading-rows 1 "$F21"
# --sample: BigQuery's 500 rows of one file
"$SLUICE" schema infer --sample 500 "$F21" >"$TMP/s.json" 2>"$TMP/err"
check_grep "--sample 500" "^sluice schema infer: 500 rows of 1 files" "$TMP/err"

# ---- GH Archive ----------------------------------------------------------------
# ../shared holds the GH Archive table schema but no event data, so these
# events are written here in the shape of that table (payload and other hold
# JSON text; org is absent from events of users' own repositories). The real
# schema accepts them; inference gives its types, except id: the event ids
# are numeric strings, which autodetect makes INTEGER.
G=$TMP/gharchive.ndjson
cat >"$G" <<'EOF'
{"type":"PushEvent","public":true,"payload":"{\"push_id\":536863970,\"size\":1,\"ref\":\"refs/heads/master\"}","repo":{"id":28688495,"name":"petroav/6.828","url":"https://api.github.com/repos/petroav/6.828"},"actor":{"id":665991,"login":"petroav","gravatar_id":"","avatar_url":"https://avatars.githubusercontent.com/u/665991?","url":"https://api.github.com/users/petroav"},"created_at":"2015-01-01T15:00:00Z","id":"2489651045","other":"{}"}
{"type":"CreateEvent","public":true,"payload":"{\"ref\":\"master\",\"ref_type\":\"branch\"}","repo":{"id":28671719,"name":"rspt/rspt-theme","url":"https://api.github.com/repos/rspt/rspt-theme"},"actor":{"id":3342240,"login":"rspt","gravatar_id":"","avatar_url":"https://avatars.githubusercontent.com/u/3342240?","url":"https://api.github.com/users/rspt"},"org":{"id":9285252,"login":"rspt","gravatar_id":"","avatar_url":"https://avatars.githubusercontent.com/u/9285252?","url":"https://api.github.com/orgs/rspt"},"created_at":"2015-01-01 15:00:01 UTC","id":"2489651051","other":null}
{"type":"WatchEvent","public":true,"payload":"{\"action\":\"started\"}","repo":{"id":2871998,"name":"django/django","url":"https://api.github.com/repos/django/django"},"actor":{"id":29952,"login":"jcleveland","gravatar_id":"","avatar_url":"https://avatars.githubusercontent.com/u/29952?","url":"https://api.github.com/users/jcleveland"},"org":{"id":27804,"login":"django","gravatar_id":"","avatar_url":"https://avatars.githubusercontent.com/u/27804?","url":"https://api.github.com/orgs/django"},"created_at":"2015-01-01T15:00:03.000Z","id":"2489651064"}
EOF
mkdir -p "$TMP/ghreg/main"
ln -s "$D/gharchive-schema/bigquery/schema.json" "$TMP/ghreg/main/events.json"
expect_exit 0 -- "$SLUICE" validate --schemas "$TMP/ghreg" --table events "$G"
check_grep "gharchive: the events fit the real schema" "3 rows, 3 valid, 0 rejected" "$TMP/out"
infer gh "$G"
for spec in "type STRING" "public BOOLEAN" "payload STRING" "repo RECORD" "actor RECORD" \
    "org RECORD" "created_at TIMESTAMP" "other STRING" "id INTEGER"; do
    field gh $spec NULLABLE
done
check_grep "gh: repo.id" '^    \{"name": "id", "type": "INTEGER", "mode": "NULLABLE"\},' "$REG/gh.json"
check_grep "gh: actor.gravatar_id" '^    \{"name": "gravatar_id", "type": "STRING"' "$REG/gh.json"
load gh 3 "$G"
check_eq "gh: org NULL where absent" "$(q "SELECT count(org) || ':' || count(*) FROM gh")" "2:3"

# ---- Google's BigQuery fixtures ------------------------------------------------
PB=$D/bigquery-fixtures/python-bigquery/tests/data
BF=$D/bigquery-fixtures/bigframes/tests/data
SA=$D/bigquery-fixtures/sqlalchemy-bigquery/packages/sqlalchemy-bigquery/scripts/sample_one_row.json
# every valid fixture data file of test_bq_fixtures.sh, each its own table
for f in "$PB/characters.jsonl" "$SA" "$PB/../../samples/snippets/user_sessions_data.json" \
    "$BF"/{nested,repeated,time_series,penguins,ratings,nested_structs,urban_areas,scalars,hockey_players,matrix_2by3,matrix_3by4}.jsonl; do
    t=fx_$(basename "$f" | sed 's/\..*//')
    infer "$t" "$f"
    load "$t" "$(rows "$f")" "$f"
done
# the scalars and their extremes merged into one table: "+inf"/"nan" make
# float64_col a STRING, the 38-digit NUMERIC texts too (autodetect has no
# NUMERIC); int64 extremes stay INTEGER and exact
infer fx_pb_scalars "$PB/scalars.jsonl" "$PB/scalars_extreme.jsonl"
field fx_pb_scalars int64_col INTEGER NULLABLE
field fx_pb_scalars float64_col STRING NULLABLE
field fx_pb_scalars datetime_col TIMESTAMP NULLABLE # autodetect never says DATETIME
field fx_pb_scalars time_col TIME NULLABLE
field fx_pb_scalars bytes_col STRING NULLABLE
load fx_pb_scalars 2 "$PB/scalars.jsonl"
load fx_pb_scalars 5 "$PB/scalars_extreme.jsonl"
check_eq "int64 extremes" "$(q "SELECT min(int64_col) || ':' || max(int64_col) FROM fx_pb_scalars")" \
    "-9223372036854775808:9223372036854775807"
# characters: a REPEATED RECORD inside a REPEATED RECORD, "111" an INTEGER
field fx_characters Spells RECORD REPEATED
field fx_characters Age INTEGER NULLABLE
field fx_characters TeaTime TIME NULLABLE
check_eq "nested spell name" "$(q "SELECT Spells[1].Name FROM fx_characters WHERE Name = 'Gandalf'")" "Skydragon"
field fx_sample_one_row timestamp INTEGER NULLABLE # an epoch text stays a number
field fx_sample_one_row nested_record RECORD NULLABLE
field fx_time_series parsed_date TIMESTAMP NULLABLE
# CSV fixtures: a detected header (people), no header (one RANGE text, the
# 12-digit fractions of pico.csv, which only a picosecond TIMESTAMP takes)
for f in "$PB/people.csv" "$BF/people.csv"; do
    t=fx_people_$(basename "$(dirname "$(dirname "$(dirname "$f")")")" | tr -c 'a-z\n' _)
    infer "$t" "$f"
    load "$t" "$(($(rows "$f") - 1))" --skip-leading-rows 1 "$f"
done
field fx_people_python_bigquery age INTEGER NULLABLE
for f in "$PB/scalars.csv" "$PB/pico.csv"; do
    t=fx_csv_$(basename "$f" .csv)
    infer "$t" "$f"
    field "$t" string_field_0 STRING NULLABLE
    load "$t" "$(rows "$f")" "$f"
done
# json.jsonl holds every JSON shape in one column (null, true, 100, "a string",
# [1,2,3], {"a":1}): only a JSON column takes it, and autodetect never infers
# JSON, so BigQuery's autodetect fails on it too. Refused, naming the column:
expect_exit 2 -- "$SLUICE" schema infer "$BF/json.jsonl"
check_grep "json.jsonl refused" "field json_col is an array at .*json.jsonl:6 and a single value at .*json.jsonl:2" "$TMP/err"

# ---- input forms, refusals, exit codes ------------------------------------------
gzip -c "$PB/characters.jsonl" >"$TMP/c.data"
expect_exit 0 -- "$SLUICE" schema infer --quiet "$TMP/c.data"
check_eq "gzip input: same schema" "$(cat "$TMP/out")" "$(cat "$REG/fx_characters.json")"
check_eq "--quiet: nothing on stderr" "$(cat "$TMP/err")" ""
if command -v zstd >/dev/null 2>&1; then
    zstd -q -c "$PB/characters.jsonl" >"$TMP/c.zdata"
    expect_exit 0 -- "$SLUICE" schema infer "$TMP/c.zdata"
    check_eq "zstd input: same schema" "$(cat "$TMP/out")" "$(cat "$REG/fx_characters.json")"
fi
expect_exit 0 -- sh -c "'$SLUICE' schema infer - < '$PB/characters.jsonl'"
check_eq "stdin: same schema" "$(cat "$TMP/out")" "$(cat "$REG/fx_characters.json")"
printf '{"a":1}\n{"a":2,}\n' >"$TMP/bad.ndjson"
expect_exit 3 -- "$SLUICE" schema infer "$TMP/bad.ndjson"
check_grep "malformed JSON: file, line, column" "bad.ndjson: line 2: malformed JSON at column 8 of the row" "$TMP/err"
printf '{"a":1}\n[1]\n' >"$TMP/arr.ndjson"
expect_exit 3 -- "$SLUICE" schema infer "$TMP/arr.ndjson"
check_grep "non-object row" "line 2: the row is an array, not a JSON object" "$TMP/err"
printf '{"r":{"x":1}}\n{"r":"text"}\n' >"$TMP/mix.ndjson"
expect_exit 2 -- "$SLUICE" schema infer "$TMP/mix.ndjson"
check_grep "object and scalar" "field r is an object at .*mix.ndjson:1 and a STRING value at .*mix.ndjson:2.*\(field r\)" "$TMP/err"
expect_exit 3 -- "$SLUICE" schema infer "$TMP/none.ndjson"
check_grep "unreadable file" "none.ndjson" "$TMP/err"
expect_exit 2 -- "$SLUICE" schema infer --sample 0 "$G"
expect_exit 2 -- "$SLUICE" schema infer "$G" "$PB/people.csv"
check_grep "mixed formats" "give --format" "$TMP/err"
finish
