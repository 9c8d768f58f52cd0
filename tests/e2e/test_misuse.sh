#!/usr/bin/env bash
# Nothing a user types may destroy data (issue 15): --rejects naming an input,
# the warehouse or a definition, by any path; read-only commands never create a
# warehouse; a path loaded before with other content is refused; content
# already loaded is recognised before any work. Every case compares the bytes
# of inputs and warehouse before and after.
. "$(dirname "$0")/lib.sh"
S=$SRC/samples/schemas
D=$SRC/samples/data
T=universal_equipment_registry
WH="duckdb://$TMP/wh.duckdb"
sum() { sha256sum "$1" | cut -c1-64; }

cp "$D/equipment.ndjson" "$TMP/in.ndjson"
in_sum=$(sum "$TMP/in.ndjson")
expect_exit 0 -- "$SLUICE" schema apply --schemas "$S" --warehouse "$WH"
wh_sum=$(sum "$TMP/wh.duckdb")

# ---- --rejects naming an input, by every kind of path
cd "$TMP" || exit 1
ln -s in.ndjson sym.ndjson
ln in.ndjson hard.ndjson
for cmd in validate load; do
    wh=""; [ $cmd = load ] && wh="--warehouse $WH"
    for r in in.ndjson ./in.ndjson "$TMP/in.ndjson" "$TMP/./x/../in.ndjson" sym.ndjson hard.ndjson; do
        mkdir -p x
        expect_exit 2 -- "$SLUICE" $cmd --schemas "$S" --table $T $wh --max-bad-records 100 \
            --rejects "$r" in.ndjson
        check_grep "$cmd --rejects $r refused" "is the input file in.ndjson: refusing to overwrite it" "$TMP/err"
        check_eq "$cmd --rejects $r: input intact" "$(sum "$TMP/in.ndjson")" "$in_sum"
    done
done
# an input among several, and stdin never counts
expect_exit 2 -- "$SLUICE" validate --schemas "$S" --table $T --max-bad-records 100 \
    --rejects hard.ndjson "$D/sessions.ndjson" in.ndjson
check_eq "second input intact" "$(sum "$TMP/in.ndjson")" "$in_sum"

# ---- --rejects naming the warehouse or one of its side files
for r in wh.duckdb "./wh.duckdb" "$TMP/wh.duckdb" wh.duckdb.wal; do
    expect_exit 2 -- "$SLUICE" load --schemas "$S" --table $T --warehouse "$WH" \
        --max-bad-records 100 --rejects "$r" in.ndjson
    check_grep "--rejects $r refused" "is the warehouse" "$TMP/err"
done
ln -s wh.duckdb whlink
ln wh.duckdb whhard
for r in whlink whhard; do
    expect_exit 2 -- "$SLUICE" load --schemas "$S" --table $T --warehouse "$WH" \
        --max-bad-records 100 --rejects "$r" in.ndjson
    check_grep "--rejects $r (a link) refused" "is the warehouse" "$TMP/err"
done
rm -f whlink whhard
check_eq "warehouse intact" "$(sum "$TMP/wh.duckdb")" "$wh_sum"
check_eq "nothing loaded by a refused command" "$(q "SELECT count(*) FROM $T")" "0"
# the table's definition
def=$(ls "$S"/main/universal_equipment_registry.json 2>/dev/null || ls "$S"/universal_equipment_registry.json)
def_sum=$(sum "$def")
expect_exit 2 -- "$SLUICE" validate --schemas "$S" --table $T --max-bad-records 100 \
    --rejects "$def" in.ndjson
check_grep "definition refused" "is the table's definition" "$TMP/err"
check_eq "definition intact" "$(sum "$def")" "$def_sum"
# a folder
expect_exit 2 -- "$SLUICE" validate --schemas "$S" --table $T --rejects "$TMP" in.ndjson
check_grep "folder refused" "is a directory" "$TMP/err"

# ---- the rejects file is written aside and renamed: an old one survives a
# run killed (SIGKILL) halfway through writing it, whole
bad=$(($(wc -l < "$D/equipment.truth.tsv") - 1))
printf '{"old":1}\n' > rej.ndjson
for i in 1 2 3 4; do cat "$D/equipment.ndjson"; done > big.ndjson
SLUICE_CRASH_AT=reject-written:7 "$SLUICE" validate --schemas "$S" --table $T \
    --max-bad-records 1000 --rejects rej.ndjson big.ndjson >/dev/null 2>&1
check_eq "the crash point killed it" "$?" "137"
check_eq "an old rejects file survives a killed run" "$(cat rej.ndjson)" '{"old":1}'
check_eq "the half file is aside" "$(cat .rej.ndjson.sluice-tmp-* | wc -l)" "6"
rm -f .rej.ndjson.sluice-tmp-*
# SIGINT removes the temporary file (the signal comes while a reject is written)
for i in $(seq 1 100); do cat "$D/equipment.ndjson"; done > big.ndjson
"$SLUICE" validate --schemas "$S" --table $T --max-bad-records 100000000 --threads 1 \
    --rejects rej2.ndjson big.ndjson >/dev/null 2>"$TMP/int.err" &
pid=$!
for i in $(seq 1 50); do ls -a | grep -q 'rej2.ndjson.sluice-tmp' && break; sleep 0.01; done
kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null
check_eq "SIGINT leaves no temporary file" "$(ls -a | grep -c 'sluice-tmp')" "0"
check_eq "SIGINT leaves no half file" "$(ls | grep -c rej2)" "$(ls | grep -c rej2.ndjson)"
# a normal run: complete, and no temporary file left
expect_exit 0 -- "$SLUICE" validate --schemas "$S" --table $T --max-bad-records 100 \
    --rejects rej.ndjson in.ndjson
check_eq "rejects complete" "$(wc -l < rej.ndjson)" "$bad"
check_eq "no temporary file" "$(ls -a | grep -c 'sluice-tmp')" "0"
# a run that reads nothing (usage error) keeps the old file
expect_exit 2 -- "$SLUICE" load --schemas "$S" --table $T --warehouse "$WH" \
    --rejects rej.ndjson --max-bad-records x in.ndjson
check_eq "old rejects kept by a failed start" "$(wc -l < rej.ndjson)" "$bad"
cd "$SRC" || exit 1

# ---- read-only commands never create a warehouse
for uri in "duckdb://$TMP/none.duckdb" "$TMP/none2.duckdb"; do
    expect_exit 2 -- "$SLUICE" query --warehouse "$uri" "SELECT 1"
    check_grep "no warehouse named ($uri)" "no warehouse at $TMP/none2?\\.duckdb" "$TMP/err"
    check_grep "says nothing created" "nothing was created" "$TMP/err"
done
check_eq "no file created" "$(ls "$TMP" | grep -c none)" "0"
# query opens read-only: a write needs --write
expect_exit 4 -- "$SLUICE" query --warehouse "$WH" "CREATE TABLE z (a INT)"
check_grep "read-only query" "read-only" "$TMP/err"
expect_exit 0 -- "$SLUICE" query --warehouse "$WH" --write "CREATE TABLE z (a INT)"

# ---- a path loaded before with other content (a file that grew)
head -n 50 "$D/equipment.ndjson" | grep -v '"year":"' > "$TMP/grow.ndjson"
n1=$(wc -l < "$TMP/grow.ndjson")
expect_exit 0 -- "$SLUICE" load --schemas "$S" --table $T --warehouse "$WH" --max-bad-records 100 "$TMP/grow.ndjson"
c1=$(q "SELECT count(*) FROM $T")
sed -n '51,80p' "$D/equipment.ndjson" >> "$TMP/grow.ndjson"
wh_sum=$(sum "$TMP/wh.duckdb")
expect_exit 2 -- "$SLUICE" load --schemas "$S" --table $T --warehouse "$WH" --max-bad-records 100 "$TMP/grow.ndjson"
check_grep "grown file explained" "grow.ndjson was loaded into main.$T before, with other content: $c1 rows" "$TMP/err"
check_grep "grown file: what to do" "Use --force to load it anyway, or --replace" "$TMP/err"
check_eq "grown file: nothing appended" "$(q "SELECT count(*) FROM $T")" "$c1"
# the same file by another path is the same path
(cd "$TMP" && expect_exit 2 -- "$SLUICE" load --schemas "$S" --table $T --warehouse "$WH" \
    --max-bad-records 100 ./grow.ndjson)
c2=$(($(wc -l < "$TMP/grow.ndjson")))
expect_exit 0 -- "$SLUICE" load --schemas "$S" --table $T --warehouse "$WH" --max-bad-records 100 \
    --replace "$TMP/grow.ndjson"
c3=$(q "SELECT count(*) FROM $T")
check_eq "--replace: the table holds the file once" "$([ "$c3" -gt "$c1" ] && [ "$c3" -le "$c2" ] && echo yes)" "yes"
expect_exit 0 -- "$SLUICE" load --schemas "$S" --table $T --warehouse "$WH" --max-bad-records 100 \
    --force "$TMP/grow.ndjson"
check_eq "--force appends again" "$(q "SELECT count(*) FROM $T")" "$((c3 * 2))"

# ---- content already loaded: recognised before any work
q "SELECT 1" >/dev/null
wh_sum=$(sum "$TMP/wh.duckdb")
expect_exit 0 -- "$SLUICE" load --schemas "$S" --table $T --warehouse "$WH" --max-bad-records 100 \
    --rejects "$TMP/again.ndjson" "$TMP/grow.ndjson"
check_grep "already loaded, when and how much" "already loaded into main.$T on [0-9-]+ [0-9:]+ UTC \\($c3 rows" "$TMP/out"
check_grep "nothing read" "nothing read" "$TMP/out"
check_eq "no rejects printed again" "$(grep -c 'reject:' "$TMP/err")" "0"
check_eq "no rejects written again" "$(cat "$TMP/again.ndjson" 2>/dev/null | wc -l)" "0"
check_eq "the warehouse file did not grow" "$(sum "$TMP/wh.duckdb")" "$wh_sum"
# the same content under another name: also recognised (same size, same hash)
cp "$TMP/grow.ndjson" "$TMP/copy.ndjson"
expect_exit 0 -- "$SLUICE" load --schemas "$S" --table $T --warehouse "$WH" --max-bad-records 100 "$TMP/copy.ndjson"
check_grep "a copy is recognised" "already loaded .* from $TMP/grow.ndjson" "$TMP/out"
check_eq "a copy adds nothing" "$(q "SELECT count(*) FROM $T")" "$((c3 * 2))"
# stdin: recognised after reading, rolled back
expect_exit 0 -- sh -c "'$SLUICE' load --schemas '$S' --table $T --warehouse '$WH' --max-bad-records 100 - < '$TMP/grow.ndjson'"
check_grep "stdin recognised" "already loaded" "$TMP/out"
check_eq "stdin adds nothing" "$(q "SELECT count(*) FROM $T")" "$((c3 * 2))"

finish
