#!/usr/bin/env bash
# Parallel validate and load (--threads): on a file large enough to be split, the
# result equals the one-thread result: the same rows in the table (as a multiset:
# order is not kept), the same rejects in the same order with the same line
# numbers and offsets, the same SHA-256 in _sluice_loads (so a file loaded on one
# thread is known as loaded on two), and the same rollback when too many are bad.
. "$(dirname "$0")/lib.sh"
S=$SRC/samples/schemas
D=$SRC/samples/data
T=universal_equipment_registry

# NDJSON: the sample 40 times (~4.6 MB, 8 MB parts: but a part per 1 MB is not
# needed; the split is checked by a file of several parts below), with a blank
# line and a CRLF line in between
: > "$TMP/big.ndjson"
for i in $(seq 40); do
    cat "$D/equipment.ndjson" >> "$TMP/big.ndjson"
    [ "$i" = 7 ] && printf '\n  \n' >> "$TMP/big.ndjson"
done
# and larger than one 8 MB part: ~19 MB
for i in 1 2; do cat "$TMP/big.ndjson" "$TMP/big.ndjson" > "$TMP/b2" && mv "$TMP/b2" "$TMP/big.ndjson"; done
size=$(stat -c %s "$TMP/big.ndjson")
check_eq "test file spans several parts" "$([ "$size" -gt 17000000 ] && echo yes)" "yes"
rows=$(grep -c '[^[:space:]]' "$TMP/big.ndjson")
bad_each=$(($(wc -l < "$D/equipment.truth.tsv") - 1))
bad=$((bad_each * 160))

# validate: one thread and two give the same counts and the same rejects file
for t in 1 2; do
    expect_exit 0 -- "$SLUICE" validate --schemas "$S" --table $T --threads $t \
        --max-bad-records 1000000 --rejects "$TMP/vrej$t.jsonl" "$TMP/big.ndjson"
    check_grep "validate -t$t counts" "$rows rows, $((rows - bad)) valid, $bad rejected" "$TMP/out"
done
check_eq "validate rejects identical" "$(cmp "$TMP/vrej1.jsonl" "$TMP/vrej2.jsonl" && echo same)" "same"
check_eq "rejects in file order" "$(grep -o "\"line\":[0-9]*" "$TMP/vrej2.jsonl" | cut -d: -f2 | sort -n -c && echo sorted)" "sorted"

# load: into two warehouses, one thread and two
for t in 1 2; do
    expect_exit 0 -- "$SLUICE" load --schemas "$S" --table $T --threads $t \
        --warehouse "duckdb://$TMP/wh$t.duckdb" --max-bad-records 1000000 \
        --rejects "$TMP/lrej$t.jsonl" "$TMP/big.ndjson"
    check_grep "load -t$t counts" "$((rows - bad)) valid, $bad rejected.*loaded" "$TMP/out"
done
check_eq "load rejects identical" "$(cmp "$TMP/lrej1.jsonl" "$TMP/lrej2.jsonl" && echo same)" "same"
check_eq "load rejects = validate rejects" "$(cmp "$TMP/vrej1.jsonl" "$TMP/lrej2.jsonl" && echo same)" "same"
both="ATTACH '$TMP/wh1.duckdb' AS a (READ_ONLY); ATTACH '$TMP/wh2.duckdb' AS b (READ_ONLY);"
diff_rows() {
    "$SLUICE" query --warehouse "duckdb://:memory:" --format csv \
        "$both SELECT count(*) FROM (SELECT * FROM $1.main.$T EXCEPT ALL SELECT * FROM $2.main.$T)" | tail -n 1
}
check_eq "rows of -t1 missing from -t2" "$(diff_rows a b)" "0"
check_eq "rows of -t2 missing from -t1" "$(diff_rows b a)" "0"
q2() { "$SLUICE" query --warehouse "duckdb://$TMP/wh2.duckdb" --format csv "$1" | sed -n 2p; }
check_eq "-t2 row count" "$(q2 "SELECT count(*) FROM $T")" "$((rows - bad))"
sha=$(sha256sum "$TMP/big.ndjson" | cut -d' ' -f1)
check_eq "-t2 fingerprint is the file's SHA-256" "$(q2 'SELECT fingerprint FROM _sluice_files')" "$sha"
check_eq "-t2 recorded size" "$(q2 'SELECT file_size FROM _sluice_files')" "$size"

# the same content, loaded on one thread before, is known on two
expect_exit 0 -- "$SLUICE" load --schemas "$S" --table $T --threads 2 \
    --warehouse "duckdb://$TMP/wh1.duckdb" --max-bad-records 1000000 "$TMP/big.ndjson"
check_grep "already loaded across thread counts" "already loaded" "$TMP/out"

# too many bad records on two threads: exit 3, all rejects reported, nothing kept
expect_exit 3 -- "$SLUICE" load --schemas "$S" --table $T --threads 2 --force \
    --warehouse "duckdb://$TMP/wh2.duckdb" --max-bad-records 10 \
    --rejects "$TMP/many.jsonl" "$TMP/big.ndjson"
check_eq "too many bad: all rejects written" "$(wc -l < "$TMP/many.jsonl")" "$bad"
check_eq "too many bad: table unchanged" "$(q2 "SELECT count(*) FROM $T")" "$((rows - bad))"
check_eq "too many bad: one load recorded" "$(q2 'SELECT count(*) FROM _sluice_loads')" "1"

# CSV with a header: one header, the body 160 times
head -n 1 "$D/equipment_flat.csv" > "$TMP/big.csv"
for i in $(seq 160); do tail -n +2 "$D/equipment_flat.csv" >> "$TMP/big.csv"; done
crows=$(($(grep -c . "$TMP/big.csv") - 1))
cbad=$((($(wc -l < "$D/equipment_flat.truth.tsv") - 1) * 160))
for t in 1 2; do
    expect_exit 0 -- "$SLUICE" load --schemas "$S" --table equipment_flat --header --threads $t \
        --warehouse "duckdb://$TMP/wh$t.duckdb" --max-bad-records 1000000 \
        --rejects "$TMP/crej$t.jsonl" "$TMP/big.csv"
    check_grep "csv load -t$t counts" "$((crows - cbad)) valid, $cbad rejected" "$TMP/out"
done
check_eq "csv rejects identical (record numbers too)" \
    "$(cmp "$TMP/crej1.jsonl" "$TMP/crej2.jsonl" && echo same)" "same"
T=equipment_flat
check_eq "csv rows of -t1 missing from -t2" "$(diff_rows a b)" "0"
check_eq "csv rows of -t2 missing from -t1" "$(diff_rows b a)" "0"

# a compressed file is not split: it loads on one thread, same rows
gzip -c "$TMP/big.ndjson" > "$TMP/big.ndjson.gz"
expect_exit 0 -- "$SLUICE" load --schemas "$S" --table universal_equipment_registry --threads 2 \
    --warehouse "duckdb://$TMP/wh3.duckdb" --max-bad-records 1000000 "$TMP/big.ndjson.gz"
check_grep "gzip load counts" "$((rows - bad)) valid, $bad rejected.*loaded" "$TMP/out"

# a row longer than --max-row-size is rejected and skipped on every path, with the
# same line numbers after it, and a file without a single newline is never held whole
# (20 MB: longer than the one-thread path's first 16 MB slice of the mapping)
{ head -n 200 "$D/equipment.ndjson"; printf '{"x": "'; head -c 20000000 /dev/zero | tr '\0' a
  printf '"}\n'; head -n 200 "$D/equipment.ndjson"; echo '{"after_the_long_row": 1}'
  head -n 50 "$D/equipment.ndjson"; } > "$TMP/long.ndjson"
for t in 1 2; do
    expect_exit 0 -- "$SLUICE" validate --schemas "$S" --table $T --threads $t --max-row-size 1000000 \
        --max-bad-records 1000 --rejects "$TMP/long$t.jsonl" "$TMP/long.ndjson"
    check_grep "oversized row skipped, the rest read (-t$t)" "452 rows, " "$TMP/out"
done
check_grep "oversized row rejected" "Row exceeds the maximum row size" "$TMP/long1.jsonl"
check_grep "the row after it keeps its line number" '"line":402,.*after_the_long_row' "$TMP/long1.jsonl"
check_eq "oversized row: same rejects on 1 and 2 threads" \
    "$(cmp "$TMP/long1.jsonl" "$TMP/long2.jsonl" && echo same)" "same"
head -c 300000000 /dev/zero | tr '\0' a > "$TMP/noline.ndjson"
# (validate reads the mapping in place on any number of threads, dropping the
# pages behind; an oversized row is skipped there: nothing holds the file)
for t in 1 2; do
    /usr/bin/time -f "%M" -o "$TMP/rss" "$SLUICE" validate --schemas "$S" --table $T --threads $t \
        --max-row-size 10000000 --max-bad-records 10 "$TMP/noline.ndjson" > "$TMP/out" 2>&1
    m=$(( $(cat "$TMP/rss") / 1024 ))
    if [ "$m" -lt 100 ]; then ok; else ko "300 MB without a newline read on $t thread(s) with $m MB peak RSS"; fi
    check_grep "no-newline file: one oversized row (-t$t)" "1 rows, 0 valid, 1 rejected" "$TMP/out"
done
rm -f "$TMP/noline.ndjson"
# 300 lines of 1 MB: planning the parts probes the mapping at every 8 MB, and each
# probe faults in a file folio of its own (MBs on recent kernels) unless dropped
{ head -c 999999 /dev/zero | tr '\0' a; echo; } > "$TMP/line"
for i in $(seq 300); do cat "$TMP/line"; done > "$TMP/lines.ndjson"
cat "$TMP/lines.ndjson" > /dev/null # in the page cache, as a file just written is
for t in 1 2; do
    /usr/bin/time -f "%M" -o "$TMP/rss" "$SLUICE" validate --schemas "$S" --table $T --threads $t \
        --max-bad-records 1000 "$TMP/lines.ndjson" > "$TMP/out" 2>&1
    m=$(( $(cat "$TMP/rss") / 1024 ))
    if [ $t = 1 ]; then m1=$m; fi
    # two threads cost no more than one plus their own stacks and validator
    if [ "$m" -lt $((m1 + 20)) ]; then ok; else
        ko "300 MB of 1 MB lines read on $t thread(s) with $m MB peak RSS (one thread: $m1)"; fi
    check_grep "1 MB lines: all rejected (-t$t)" "300 rows, 0 valid, 300 rejected" "$TMP/out"
done
rm -f "$TMP/line" "$TMP/lines.ndjson"

# the table function is not a way into memory: an unknown token is refused
# (read-write, where it is registered; a read-only query does not even have it)
expect_exit 4 -- "$SLUICE" query --write --warehouse "duckdb://$TMP/wh1.duckdb" "SELECT * FROM sluice_rows(1)"
check_grep "unknown token refused" "no such load" "$TMP/err"
expect_exit 4 -- "$SLUICE" query --warehouse "duckdb://$TMP/wh1.duckdb" "SELECT * FROM sluice_rows(1)"
check_grep "no table function read-only" "sluice_rows does not exist" "$TMP/err"

finish
