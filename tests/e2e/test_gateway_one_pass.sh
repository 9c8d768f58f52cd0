#!/usr/bin/env bash
# Large files loaded in one pass (issue 12's large-file floor): a file from
# SLUICE_ONE_PASS_MIN bytes on (64 MB by default; 500 KB here) in its
# table's folder is not read when staged; its batch (of it alone) validates
# it while loading, its bad records written to quarantine/ as it goes.
# Checked here: a clean file loads once, with its fingerprint in the ledger
# and the warehouse; a crash before and after its load; bad records
# quarantined as `sluice validate` finds them, on one thread and on two,
# the original kept beside them (a hard link to the archived file), sent
# again by `retry --quarantine`; too many bad records and every record bad
# (the file then staged in full, which fails it or warns); a file changed
# after its read; copies (at once, while the first is in flight, after it
# loaded); a corrupt gzip. Real binary, DuckDB, SQLite ledger, SIGKILL at
# crash points.
. "$(dirname "$0")/lib.sh"
export SLUICE_ONE_PASS_MIN=500000
G=$TMP/gw
W="$G/warehouse.duckdb"
T=youtube_repair_videos
wq() { "$SLUICE" query --warehouse "$W" --format csv "$1" | sed -n 2p; }
nfiles() { find "$1" -type f ! -name '.*' 2>/dev/null | wc -l; }
rows() { wq "SELECT count(*) FROM main.$T"; }
# ledger QUERY: one line per row, columns joined by spaces
ledger() {
    python3 -c "
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for r in db.execute(sys.argv[2]): print(' '.join(str(x) for x in r))" \
        "$G/.sluice/ledger.db" "$1"
}
drop() { # drop FILE NAME: renamed into raw/<table>/, as producers do
    cp "$1" "$G/raw/$T/.$2" && mv "$G/raw/$T/.$2" "$G/raw/$T/$2"
}
run() { "$SLUICE" run --gateway "$G" --once --threads 2 "$@"; }
# table_limit [N]: the table's max_bad_records in sluice.json (none: the
# gateway's)
table_limit() {
    python3 - "$G/sluice.json" "${1:-}" <<'EOF'
import json, sys
p, n = sys.argv[1], sys.argv[2]; c = json.load(open(p))
if n:
    c["tables"] = {"main.youtube_repair_videos": {"max_bad_records": int(n)}}
else:
    c.pop("tables", None)
json.dump(c, open(p, "w"), indent=2)
EOF
}
# same_lines A B: two rejects files name the same lines, in order
same_lines() {
    python3 -c '
import json, sys
a = [json.loads(l)["line"] for l in open(sys.argv[1], "rb")]
b = [json.loads(l)["line"] for l in open(sys.argv[2], "rb")]
sys.exit(0 if a == b else 1)' "$1" "$2"
}

expect_exit 0 -- "$SLUICE" init "$G" --example
mkdir -p "$TMP/example" && cp -r "$G/raw/." "$TMP/example/" && rm -rf "$G"/raw/*/
mkdir -p "$G/raw/$T"
python3 - "$G/sluice.json" <<'EOF'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["batch"]["window_ms"] = 100; c["batch"].pop("window_seconds", None)
c["retry"] = {"max_attempts": 4, "initial_ms": 20, "max_ms": 100}
c.setdefault("load", {})["max_bad_records"] = 100000
json.dump(c, open(p, "w"), indent=2)
EOF
src=$TMP/example/$T/videos.ndjson
"$SLUICE" validate --schemas "$G/schemas" --table $T --max-bad-records 1000 \
    --rejects "$TMP/src.rejects" "$src" >/dev/null 2>&1
# big FILE N [clean]: the example file N times (its bad lines left out when
# clean), about 95 KB each
big() {
    python3 - "$src" "$TMP/src.rejects" "$1" "$2" "${3:-}" <<'EOF'
import json, sys
src, rj, out, n, clean = sys.argv[1:6]
bad = {json.loads(l)["line"] for l in open(rj)}
lines = [l for i, l in enumerate(open(src, "rb"), 1)
         if l.strip() and not (clean and i in bad)]
with open(out, "wb") as f:
    for _ in range(int(n)):
        f.writelines(lines)
EOF
}
big "$TMP/a.ndjson" 8 clean
big "$TMP/b.ndjson" 9 clean
big "$TMP/e.ndjson" 10 clean
big "$TMP/f.ndjson" 11 clean
big "$TMP/dirty.ndjson" 7
n_a=$(wc -l < "$TMP/a.ndjson")
n_b=$(wc -l < "$TMP/b.ndjson")
n_e=$(wc -l < "$TMP/e.ndjson")
n_f=$(wc -l < "$TMP/f.ndjson")
[ "$(stat -c %s "$TMP/a.ndjson")" -gt 500000 ] && ok || ko "a.ndjson is under the one-pass size"

# ---- a clean file, killed before its load: the ledger holds it batched with
# no fingerprint yet (it was not read); the next run loads it once
drop "$TMP/a.ndjson" a.ndjson
SLUICE_CRASH_AT=before-load:1 run >/dev/null 2>&1
check_eq "one pass: killed before the load" "$?" "137"
check_eq "one pass: batched, not read" "$(ledger "SELECT state, fingerprint = '' FROM files")" "2 1"
expect_exit 0 -- run
check_eq "one pass: rows once" "$(rows)" "$n_a"
fp_a=$(sha256sum "$TMP/a.ndjson" | cut -c1-64)
check_eq "one pass: the ledger's fingerprint and rows" \
    "$(ledger "SELECT state, fingerprint, rows_valid, rows_rejected FROM files")" "3 $fp_a $n_a 0"
check_eq "one pass: the warehouse's record" \
    "$(wq "SELECT fingerprint || ' ' || rows_loaded FROM main._sluice_files")" "$fp_a $n_a"
check_eq "one pass: archived" "$(nfiles "$G/sent")$(nfiles "$G/transformed")$(nfiles "$G/cloud_ready")" "100"

# ---- killed after the load committed, before the ledger knew: recovered
# (its content hashed to find the batch's record), loaded once
drop "$TMP/b.ndjson" b.ndjson
SLUICE_CRASH_AT=after-load:1 run >/dev/null 2>&1
check_eq "after the load: killed" "$?" "137"
expect_exit 0 -- run
check_grep "after the load: recovered" "committed before: recovered" "$TMP/err"
check_eq "after the load: rows once" "$(rows)" "$((n_a + n_b))"
fp_b=$(sha256sum "$TMP/b.ndjson" | cut -c1-64)
check_eq "after the load: the ledger's fingerprint" \
    "$(ledger "SELECT state, fingerprint, rows_valid FROM files WHERE raw_name LIKE '%b.ndjson'")" "3 $fp_b $n_b"

# ---- bad records: quarantined by the load itself (as `sluice validate` finds
# them), the good rows loaded, the original beside the rejects
drop "$TMP/dirty.ndjson" dirty.ndjson
"$SLUICE" validate --schemas "$G/schemas" --table $T --max-bad-records 100000 \
    --rejects "$TMP/dirty.rejects" "$TMP/dirty.ndjson" >/dev/null 2>&1
n_bad=$(wc -l < "$TMP/dirty.rejects")
n_good=$(( $(wc -l < "$TMP/dirty.ndjson") - n_bad ))
[ "$n_bad" -gt 0 ] && ok || ko "dirty.ndjson has no bad record"
expect_exit 0 -- run
if grep -q "staged in full" "$TMP/err"; then ko "bad records: staged in full"; else ok; fi
check_grep "bad records: counted" "1 batches, $n_good rows loaded, $n_bad rejected" "$TMP/err"
check_eq "bad records: good rows once" "$(rows)" "$((n_a + n_b + n_good))"
check_eq "bad records: the ledger's counts" \
    "$(ledger "SELECT state, rows, rows_valid, rows_rejected FROM files WHERE raw_name LIKE '%/dirty.ndjson'")" \
    "3 $((n_good + n_bad)) $n_good $n_bad"
check_eq "bad records: the warehouse's record" \
    "$(wq "SELECT rows_loaded || ' ' || rows_rejected FROM main._sluice_files WHERE file_path LIKE '%/dirty.ndjson'")" "$n_good $n_bad"
orig=$(ls "$G"/quarantine/main.$T/*-dirty.ndjson)
sent=$(find "$G/sent" -name '*-dirty.ndjson')
check_eq "bad records: the original in quarantine/ is the archived file" \
    "$(stat -c %i "$orig")" "$(stat -c %i "$sent")"
qf=$(ls "$G"/quarantine/main.$T/*dirty.ndjson.rejects.ndjson)
same_lines "$qf" "$TMP/dirty.rejects" && ok || ko "bad records: the quarantined lines differ from sluice validate's"

# ---- bad records and a crash: after the commit, before the ledger knew
# (the rejects written before the commit are the file's), and after the
# ledger, before the moves (recovery links the original and renames the
# rejects): each time, rows once and every reject once beside its original
for point in after-load batch-recorded; do
    big "$TMP/d-$point.ndjson" 6
    echo "{\"id\": \"$point\"}" >> "$TMP/d-$point.ndjson" # content of its own
    drop "$TMP/d-$point.ndjson" "d-$point.ndjson"
    "$SLUICE" validate --schemas "$G/schemas" --table $T --max-bad-records 100000 \
        --rejects "$TMP/d.rejects" "$TMP/d-$point.ndjson" >/dev/null 2>&1
    nb=$(wc -l < "$TMP/d.rejects")
    ng=$(( $(wc -l < "$TMP/d-$point.ndjson") - nb ))
    before=$(rows)
    SLUICE_CRASH_AT=$point:1 run >/dev/null 2>&1
    check_eq "$point: killed" "$?" "137"
    expect_exit 0 -- run
    check_eq "$point: rows once" "$(rows)" "$((before + ng))"
    check_eq "$point: the ledger's counts" \
        "$(ledger "SELECT state, rows_valid, rows_rejected FROM files WHERE raw_name LIKE '%/d-$point.ndjson'")" "3 $ng $nb"
    qf=$(ls "$G"/quarantine/main.$T/*-d-$point.ndjson.rejects.ndjson)
    same_lines "$qf" "$TMP/d.rejects" && ok || ko "$point: the quarantined lines differ from sluice validate's"
    check_eq "$point: the original beside them" \
        "$(stat -c %i "$(ls "$G"/quarantine/main.$T/*-d-$point.ndjson)")" \
        "$(stat -c %i "$(find "$G/sent" -name "*-d-$point.ndjson")")"
done
n_a=$((n_a + $(ledger "SELECT sum(rows_valid) FROM files WHERE raw_name LIKE '%/d-%'")))

# ---- the same over 16 MB, where the load reads on two threads: a clean file
# and a file with bad records, each in one pass
big "$TMP/h.ndjson" 190 clean
big "$TMP/dirty2.ndjson" 191
n_h=$(wc -l < "$TMP/h.ndjson")
"$SLUICE" validate --schemas "$G/schemas" --table $T --max-bad-records 100000 \
    --rejects "$TMP/dirty2.rejects" "$TMP/dirty2.ndjson" >/dev/null 2>&1
n_bad2=$(wc -l < "$TMP/dirty2.rejects")
n_good2=$(( $(wc -l < "$TMP/dirty2.ndjson") - n_bad2 ))
drop "$TMP/h.ndjson" h.ndjson
drop "$TMP/dirty2.ndjson" dirty2.ndjson
expect_exit 0 -- run
if grep -q "staged in full" "$TMP/err"; then ko "over 16 MB: a file was staged in full"; else ok; fi
check_grep "over 16 MB: counted" "2 batches, $((n_h + n_good2)) rows loaded, $n_bad2 rejected" "$TMP/err"
n_a=$((n_a + n_h + n_good2)) # rows loaded so far, for the checks below
check_eq "over 16 MB: rows once" "$(rows)" "$((n_a + n_b + n_good))"
check_eq "over 16 MB: the clean file's ledger row" \
    "$(ledger "SELECT state, fingerprint, rows_valid FROM files WHERE raw_name LIKE '%/h.ndjson'")" \
    "3 $(sha256sum "$TMP/h.ndjson" | cut -c1-64) $n_h"
qf=$(ls "$G"/quarantine/main.$T/*dirty2.ndjson.rejects.ndjson)
same_lines "$qf" "$TMP/dirty2.rejects" && ok || ko "over 16 MB: the quarantined lines differ from sluice validate's"

# ---- a disk full while the two-thread read writes the rejects: transient,
# the batch retried as it is (not staged in full), then loaded
big "$TMP/dirty4.ndjson" 192
drop "$TMP/dirty4.ndjson" dirty4.ndjson
before=$(rows)
SLUICE_FAIL_AT=stage-write:1 expect_exit 0 -- run
check_grep "disk full over 16 MB: retried" "will retry the batch .*class=transient" "$TMP/err"
if grep -q "staged in full" "$TMP/err"; then ko "disk full over 16 MB: staged in full"; else ok; fi
check_eq "disk full over 16 MB: loaded" \
    "$(ledger "SELECT state, rows_rejected > 0 FROM files WHERE raw_name LIKE '%/dirty4.ndjson'")" "3 1"
n_a=$((n_a + $(rows) - before))

# ---- too many bad records (a limit of 5 for the table): the load stops at
# the 6th, the file is staged in full, which fails it with the usual reason
table_limit 5
big "$TMP/dirty3.ndjson" 8
drop "$TMP/dirty3.ndjson" dirty3.ndjson
expect_exit 3 -- run
check_grep "too many bad: stopped" "loaded in one pass, then staged in full: more bad records than max_bad_records \(5;" "$TMP/err"
check_eq "too many bad: failed" \
    "$(ledger "SELECT state, err_class FROM files WHERE raw_name LIKE '%/dirty3.ndjson'")" "5 schema"
check_grep "too many bad: the usual reason" "too many bad records" "$(ls "$G"/failed/main.$T/*-dirty3.ndjson.error.json)"
# with no bad record allowed, over 16 MB: the two-thread read stops at the
# first, and the file is staged in full and failed the same way
table_limit 0
big "$TMP/dirty6.ndjson" 193
drop "$TMP/dirty6.ndjson" dirty6.ndjson
expect_exit 3 -- run
check_grep "no bad record allowed: stopped" "loaded in one pass, then staged in full: a bad record \(" "$TMP/err"
check_eq "no bad record allowed: failed" \
    "$(ledger "SELECT state, err_class FROM files WHERE raw_name LIKE '%/dirty6.ndjson'")" "5 schema"
table_limit

# ---- every record bad: staged in full, which warns with the likely cause
python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(20000): f.write('{\"no_such_field\": \"%030d\"}\n' % i)" "$TMP/allbad.ndjson"
drop "$TMP/allbad.ndjson" allbad.ndjson
expect_exit 0 -- run
check_grep "every record bad: staged in full" "loaded in one pass, then staged in full: 20000 of its 20000 records are bad" "$TMP/err"
check_grep "every record bad: warned" "warn: every row was rejected \(20000\); likely cause" "$TMP/err"

# ---- the quarantined records of a one-pass file sent again: each once
expect_exit 0 -- "$SLUICE" retry --gateway "$G" --quarantine $T
check_grep "retry --quarantine: the records" "dirty.ndjson: $n_bad quarantined records" "$TMP/out"
check_grep "retry --quarantine: every file's" "^6 quarantined files' records sent again" "$TMP/out"
expect_exit 0 -- run
check_eq "retry --quarantine: rows unchanged (the records are still bad)" "$(rows)" "$((n_a + n_b + n_good))"

# ---- a copy of a loaded file (same size: hashed first): a duplicate
drop "$TMP/a.ndjson" a-copy.ndjson
expect_exit 0 -- run
check_eq "copy after the load: duplicate" \
    "$(ledger "SELECT state FROM files WHERE raw_name LIKE '%a-copy.ndjson'")" "4"
check_eq "copy after the load: no rows added" "$(rows)" "$((n_a + n_b + n_good))"

# ---- two copies dropped at once: neither loads in one pass (same size), one
# loads, the other is its duplicate
drop "$TMP/e.ndjson" e1.ndjson
drop "$TMP/e.ndjson" e2.ndjson
expect_exit 0 -- run
check_eq "two copies at once: one loaded, one duplicate" \
    "$(ledger "SELECT state FROM files WHERE raw_name LIKE '%/e_.ndjson' ORDER BY state")" "$(printf '3\n4')"
check_eq "two copies at once: rows once" "$(rows)" "$((n_a + n_b + n_good + n_e))"

# ---- a copy arriving while the first is batched for a one-pass load: it
# waits for that load, then is found a copy
drop "$TMP/f.ndjson" f1.ndjson
SLUICE_CRASH_AT=before-load:1 run >/dev/null 2>&1
check_eq "copy in flight: first killed before its load" "$(ledger "SELECT state, fingerprint = '' FROM files WHERE raw_name LIKE '%f1.ndjson'")" "2 1"
drop "$TMP/f.ndjson" f2.ndjson
expect_exit 0 -- run
check_grep "copy in flight: it waited" "waits for a file of its size being loaded in one pass" "$TMP/err"
check_eq "copy in flight: one loaded, one duplicate" \
    "$(ledger "SELECT state FROM files WHERE raw_name LIKE '%/f_.ndjson' ORDER BY state")" "$(printf '3\n4')"
check_eq "copy in flight: rows once" "$(rows)" "$((n_a + n_b + n_good + n_e + n_f))"

# ---- a file written to after the one-pass load read it: staged in full, and
# all of it (the row added too) loaded once
big "$TMP/g.ndjson" 12 clean
n_g=$(wc -l < "$TMP/g.ndjson")
drop "$TMP/g.ndjson" g.ndjson
SLUICE_FAIL_AT=load-read:1 expect_exit 0 -- run
check_grep "changed after its read: staged in full" "loaded in one pass, then staged in full: .*changed after it was claimed" "$TMP/err"
# (the row added, {}, lacks the table's required fields: one reject)
check_eq "changed after its read: every row once" "$(rows)" "$((n_a + n_b + n_good + n_e + n_f + n_g))"
check_eq "changed after its read: the added row quarantined" \
    "$(cat "$G"/quarantine/main.$T/*g.ndjson.rejects.ndjson | wc -l)" "1"

# ---- a corrupt gzip: found by the load, staged in full, failed as corrupt
python3 - "$TMP/bad.ndjson.gz" <<'EOF'
import gzip, os, sys
data = gzip.compress(os.urandom(700000))
open(sys.argv[1], "wb").write(data[: len(data) - 4000])
EOF
drop "$TMP/bad.ndjson.gz" bad.ndjson.gz
expect_exit 3 -- run
check_eq "corrupt gzip: failed as corrupt" \
    "$(ledger "SELECT state, err_class FROM files WHERE raw_name LIKE '%bad.ndjson.gz'")" "5 corrupt"
check_eq "corrupt gzip: nothing added" "$(rows)" "$((n_a + n_b + n_good + n_e + n_f + n_g))"
# ---- the ledger lost after a one-pass batch with bad records committed
# (before the service recorded it): rebuilt, its rows counted once, its
# rejects in quarantine/ beside the original, nothing left in cloud_ready/
big "$TMP/dirty5.ndjson" 6
echo '{"id": "five"}' >> "$TMP/dirty5.ndjson"
drop "$TMP/dirty5.ndjson" dirty5.ndjson
before=$(rows)
SLUICE_CRASH_AT=after-load:1 run >/dev/null 2>&1
check_eq "ledger lost: killed after the commit" "$?" "137"
rm -f "$G"/.sluice/ledger.db*
expect_exit 0 -- run
check_grep "ledger lost: rebuilt" "rebuil" "$TMP/err"
"$SLUICE" validate --schemas "$G/schemas" --table $T --max-bad-records 100000 \
    --rejects "$TMP/d5.rejects" "$TMP/dirty5.ndjson" >/dev/null 2>&1
check_eq "ledger lost: rows once" "$(rows)" "$((before + $(wc -l < "$TMP/dirty5.ndjson") - $(wc -l < "$TMP/d5.rejects")))"
qf=$(ls "$G"/quarantine/main.$T/*-dirty5.ndjson.rejects.ndjson)
same_lines "$qf" "$TMP/d5.rejects" && ok || ko "ledger lost: the quarantined lines differ from sluice validate's"
check_eq "ledger lost: no rejects file archived as data" "$(find "$G/sent" -name '*.rejects.ndjson' | wc -l)" "0"
check_eq "ledger lost: cloud_ready/ empty" "$(nfiles "$G/cloud_ready")" "0"
n_a=$((n_a + $(rows) - before))

check_eq "drained" "$(nfiles "$G/raw")$(nfiles "$G/transformed")$(nfiles "$G/cloud_ready")" "000"
check_eq "no batch folder left in cloud_ready/" "$(find "$G/cloud_ready" -mindepth 2 -type d | wc -l)" "0"
expect_exit 0 -- "$SLUICE" verify --gateway "$G"
cp "$TMP/out" "$TMP/verify.out"
check_grep "verify: no discrepancy" "^verified [0-9]+ files, [0-9]+ batches, [0-9]+ rows: 0 discrepancies" "$TMP/verify.out"

finish
