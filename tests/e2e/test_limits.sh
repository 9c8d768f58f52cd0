#!/usr/bin/env bash
# Limits that stop abuse: each is a clear reject of that record, in bounded memory
# and time, and the rows around it are still read.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/reg/main"
cat > "$TMP/reg/main/t.json" <<'JSON'
{"fields": [
  {"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
  {"name": "f", "type": "FLOAT"},
  {"name": "n", "type": "NUMERIC"},
  {"name": "s", "type": "STRING"},
  {"name": "j", "type": "JSON"}
]}
JSON
V() { "$SLUICE" validate --schemas "$TMP/reg" --table t --rejects "$TMP/rej.ndjson" "$@"; }
rss() { # peak RSS in MB of a command
    /usr/bin/time -f "%M" -o "$TMP/rss" "$@" >/dev/null 2>&1
    echo $(( $(cat "$TMP/rss") / 1024 ))
}
digits=$(head -c 100000 /dev/zero | tr '\0' 7)
{
    echo '{"id": 1}'
    echo "{\"id\": $digits}"
    echo "{\"id\": 3, \"f\": $digits}"
    echo "{\"id\": 4, \"n\": $digits.5}"
    echo "{\"id\": 5, \"s\": $digits}"
    echo '{"id": 6}'
} > "$TMP/digits.ndjson"
expect_exit 0 -- timeout 20 "$SLUICE" validate --schemas "$TMP/reg" --table t --max-bad-records 3 \
    --rejects "$TMP/rej.ndjson" "$TMP/digits.ndjson"
check_grep "100,000-digit numbers: 3 rejected" "6 rows, 3 valid, 3 rejected" "$TMP/out"
check_grep "INTEGER overflow named" '"line":2,.*"field":"id"' "$TMP/rej.ndjson"
check_grep "FLOAT overflow named" '"line":3,.*"field":"f"' "$TMP/rej.ndjson"
check_grep "NUMERIC overflow named" '"line":4,.*Invalid NUMERIC' "$TMP/rej.ndjson"

# a 50 MB string: over the 10 MB value limit
{ echo '{"id": 1}'; printf '{"id": 2, "s": "'; head -c 50000000 /dev/zero | tr '\0' a; echo '"}'; echo '{"id": 3}'; } > "$TMP/big.ndjson"
expect_exit 0 -- V --max-bad-records 1 "$TMP/big.ndjson"
check_grep "50 MB string rejected" "3 rows, 2 valid, 1 rejected" "$TMP/out"
check_grep "value limit named" '"line":2,.*maximum value size of 10485760' "$TMP/rej.ndjson"
m=$(rss "$SLUICE" validate --schemas "$TMP/reg" --table t --max-bad-records 1 - < "$TMP/big.ndjson")
if [ "$m" -lt 200 ]; then ok; else ko "50 MB string read with $m MB peak RSS"; fi
expect_exit 0 -- V --max-value-size 60000000 "$TMP/big.ndjson"
check_grep "--max-value-size raises it" "3 rows, 3 valid, 0 rejected" "$TMP/out"

# 10,000 keys in one object: rejected at the first unknown key; dropped in bounded time
keys=$(seq 10000 | sed 's/.*/"k&": &/' | paste -sd, -)
{ echo '{"id": 1}'; echo "{\"id\": 2, $keys}"; echo "{\"id\": 3, \"j\": {$keys}}"; } > "$TMP/keys.ndjson"
expect_exit 0 -- timeout 20 "$SLUICE" validate --schemas "$TMP/reg" --table t --max-bad-records 1 \
    --rejects "$TMP/rej.ndjson" "$TMP/keys.ndjson"
check_grep "10,000 unknown keys: one reject" "3 rows, 2 valid, 1 rejected" "$TMP/out"
check_grep "first unknown key named" '"line":2,.*No such field: k1\.' "$TMP/rej.ndjson"
expect_exit 0 -- timeout 20 "$SLUICE" validate --schemas "$TMP/reg" --table t --ignore-unknown-values "$TMP/keys.ndjson"
check_grep "10,000 keys dropped" "3 rows, 3 valid, 0 rejected" "$TMP/out"

# nesting: 15 levels in a row are fine, 16 are a reject; JSON columns allow 500
nest() { printf '%*s' "$1" '' | tr ' ' '['; printf 1; printf '%*s' "$1" '' | tr ' ' ']'; }
{
    echo "{\"id\": 1, \"u\": $(nest 14)}"
    echo "{\"id\": 2, \"u\": $(nest 15)}"
    echo "{\"id\": 3, \"j\": $(nest 499)}"
    echo "{\"id\": 4, \"j\": $(nest 501)}"
    echo "{\"id\": 5, \"u\": $(nest 100000)}"
} > "$TMP/nest.ndjson"
expect_exit 0 -- timeout 20 "$SLUICE" validate --schemas "$TMP/reg" --table t --ignore-unknown-values \
    --max-bad-records 3 --rejects "$TMP/rej.ndjson" "$TMP/nest.ndjson"
check_grep "nesting: 3 rejected" "5 rows, 2 valid, 3 rejected" "$TMP/out"
check_eq "rejected lines" "$(sed -E 's/.*"line":([0-9]+).*/\1/' "$TMP/rej.ndjson" | tr '\n' ' ')" "2 4 5 "
check_grep "row nesting limit named" '"line":2,.*nesting deeper than 15' "$TMP/rej.ndjson"
check_grep "JSON nesting limit named" '"line":4,.*nesting deeper than 500' "$TMP/rej.ndjson"
finish
