#!/usr/bin/env bash
# I/O faults: each gives its documented exit code and a message naming the file,
# and nothing half-loaded stays behind.
. "$(dirname "$0")/lib.sh"
S=$SRC/samples/schemas
D=$SRC/samples/data
WH="duckdb://$TMP/wh.duckdb"
T=universal_equipment_registry

# a large file: the sample doubled until ~150 MB
cp "$D/equipment.ndjson" "$TMP/big.ndjson"
while [ "$(stat -c %s "$TMP/big.ndjson")" -lt 150000000 ]; do
    cat "$TMP/big.ndjson" "$TMP/big.ndjson" > "$TMP/b2" && mv "$TMP/b2" "$TMP/big.ndjson"
done

# shrink FILE while CMD runs (after a start-up delay: DuckDB takes ~0.1 s to
# open, several times that in the ASan build on a busy machine); retry with
# other delays if the command wins the race. $SHRINK_PREP, if set, runs before
# each try and after the last lost one (a try that lost the race may have loaded
# the file whole, or the truncated file if it opened it late: the next try, and
# the checks after this function, start clean)
shrink_during() {
    local file=$1; shift
    local d rc
    for d in 0.3 0.2 0.4 0.1 0.6 1.0 1.5; do
        if [ -n "${SHRINK_PREP:-}" ]; then eval "$SHRINK_PREP" >/dev/null 2>&1; fi
        cp "$TMP/big.ndjson" "$file"
        "$@" >"$TMP/out" 2>"$TMP/err" &
        local pid=$!
        sleep $d
        truncate -s 1000000 "$file"
        wait $pid; rc=$?
        if [ $rc -ne 0 ] && [ $rc -ne 3 ] || grep -q "changed" "$TMP/err"; then
            echo $rc; return
        fi
    done
    if [ -n "${SHRINK_PREP:-}" ]; then eval "$SHRINK_PREP" >/dev/null 2>&1; fi
    echo "race-lost"
}

# validate reads a mapped file: SIGBUS is caught and reported
rc=$(shrink_during "$TMP/shrink1.ndjson" "$SLUICE" validate --schemas "$S" --table $T \
    --max-bad-records 1000000 "$TMP/shrink1.ndjson")
if [ "$rc" = "race-lost" ]; then echo "note: validate finished before the truncation 7 times"; ok
else
    check_eq "shrinking file (validate) exit" "$rc" "3"
    check_grep "shrinking file named" "shrink1.ndjson: the file changed" "$TMP/err"
fi
expect_exit 0 -- "$SLUICE" schema apply --schemas "$S" --warehouse "$WH"
# load: on one thread (read() stream) and on two (mapped, split into parts)
for t in 1 2; do
    rc=$(SHRINK_PREP="\"\$SLUICE\" query --write --warehouse \"\$WH\" \"DELETE FROM $T; DELETE FROM _sluice_loads; DELETE FROM _sluice_files\"" \
        shrink_during "$TMP/shrink2.ndjson" "$SLUICE" load --schemas "$S" --table $T --warehouse "$WH" \
        --threads $t --max-bad-records 1000000 "$TMP/shrink2.ndjson")
    if [ "$rc" = "race-lost" ]; then echo "note: load -t$t finished before the truncation 7 times"; ok
    else
        check_eq "shrinking file (load -t$t) exit" "$rc" "3"
        check_grep "shrinking file named (load -t$t)" "shrink2.ndjson: the file changed" "$TMP/err"
        check_eq "nothing half-loaded (-t$t)" "$(q "SELECT count(*) FROM $T")" "0"
        check_eq "no load recorded (-t$t)" "$(q 'SELECT count(*) FROM _sluice_loads')" "0"
    fi
done

# a try that lost the race may have loaded the file whole (or truncated): clean
"$SLUICE" query --write --warehouse "$WH" "DELETE FROM $T; DELETE FROM _sluice_loads; DELETE FROM _sluice_files" >/dev/null

# a full disk when writing rejects: exit 4, the rejects file named
expect_exit 4 -- "$SLUICE" validate --schemas "$S" --table $T --max-bad-records 100 \
    --rejects /dev/full "$D/equipment.ndjson"
check_grep "full disk named" "/dev/full.*No space left" "$TMP/err"
expect_exit 4 -- "$SLUICE" load --schemas "$S" --table $T --warehouse "$WH" --max-bad-records 100 \
    --rejects /dev/full "$D/equipment.ndjson"
check_eq "full disk: nothing loaded" "$(q "SELECT count(*) FROM $T")" "0"

# a directory as input: a read error, exit 3
expect_exit 3 -- "$SLUICE" validate --schemas "$S" --table $T "$TMP"
check_grep "directory named" "$TMP.*directory" "$TMP/err"

# libduckdb missing: loaded only when a warehouse is used, so validate still
# works; a load fails with exit 4 naming the library
SLUICE_DUCKDB_LIB=$TMP/no/libduckdb.so expect_exit 0 -- "$SLUICE" validate --schemas "$S" \
    --table $T --max-bad-records 100 "$D/equipment.ndjson"
SLUICE_DUCKDB_LIB=$TMP/no/libduckdb.so expect_exit 4 -- "$SLUICE" load --schemas "$S" \
    --table $T --warehouse "$WH" --max-bad-records 100 "$D/equipment.ndjson"
check_grep "missing libduckdb named" "cannot load the library: $TMP/no/libduckdb.so" "$TMP/err"
# not linked: a validate never maps it
if command -v ldd >/dev/null; then
    check_eq "sluice does not link libduckdb" "$(ldd "$SLUICE" | grep -c libduckdb)" "0"
fi

# DuckDB refusing to open: the file is locked by another process
"$SLUICE" query --warehouse "$WH" "SELECT count(*) FROM range(20000000000)" >/dev/null 2>&1 &
holder=$!
sleep 1
expect_exit 4 -- "$SLUICE" load --schemas "$S" --table $T --warehouse "$WH" --max-bad-records 100 \
    --lock-timeout 1 "$D/equipment.ndjson"
check_grep "locked warehouse named" "wh.duckdb is locked by pid $holder \(sluice\)" "$TMP/err"
check_grep "locked is transient" "SL_EBUSY, transient" "$TMP/err"
# with the default timeout the load waits, says for whom, and goes on once the
# holder is gone (the holder is killed, not timed: the outcome is deterministic)
"$SLUICE" load --schemas "$S" --table $T --warehouse "$WH" --max-bad-records 100 \
    "$D/equipment.ndjson" >"$TMP/wait.out" 2>"$TMP/wait.err" &
waiter=$!
sleep 1
kill $holder 2>/dev/null; wait $holder 2>/dev/null
wait $waiter
check_eq "a waiting load completes" "$?" "0"
check_grep "the wait is explained" "locked by pid $holder \(sluice\); waiting" "$TMP/wait.err"
check_grep "then it loads" "loaded" "$TMP/wait.out"
"$SLUICE" query --warehouse "$WH" "SELECT 1" >/dev/null 2>&1 &
expect_exit 0 -- "$SLUICE" query --warehouse "$WH" "SELECT 2"
wait
"$SLUICE" query --warehouse "$WH" --write "DELETE FROM $T" >/dev/null
"$SLUICE" query --warehouse "$WH" --write "DELETE FROM _sluice_files" >/dev/null
"$SLUICE" query --warehouse "$WH" --write "DELETE FROM _sluice_loads" >/dev/null
# not a database at all
echo "not a database" > "$TMP/junk.duckdb"
expect_exit 4 -- "$SLUICE" load --schemas "$S" --table $T --warehouse "duckdb://$TMP/junk.duckdb" "$D/equipment.ndjson"
check_grep "bad warehouse named" "junk.duckdb" "$TMP/err"
# a read-only warehouse file (immutable, so that even root cannot write it)
expect_exit 0 -- "$SLUICE" schema apply --schemas "$S" --warehouse "duckdb://$TMP/ro.duckdb"
if chattr +i "$TMP/ro.duckdb" 2>/dev/null; then
    expect_exit 4 -- "$SLUICE" load --schemas "$S" --table $T --warehouse "duckdb://$TMP/ro.duckdb" \
        --max-bad-records 100 "$D/equipment.ndjson"
    check_grep "read-only warehouse named" "ro.duckdb" "$TMP/err"
    chattr -i "$TMP/ro.duckdb"
    check_eq "read-only: nothing loaded" \
        "$("$SLUICE" query --warehouse "duckdb://$TMP/ro.duckdb" --format csv "SELECT count(*) FROM $T" | sed -n 2p)" "0"
else
    echo "note: chattr +i unsupported here; read-only warehouse case not run"
fi

# after all that, a normal load still works and lands once
expect_exit 0 -- "$SLUICE" load --schemas "$S" --table $T --warehouse "$WH" --max-bad-records 100 "$D/equipment.ndjson"
check_eq "clean load after faults" "$(q 'SELECT count(*) FROM _sluice_loads')" "1"
finish
