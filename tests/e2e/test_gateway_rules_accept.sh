#!/usr/bin/env bash
# Issue 16's acceptance list, through the service: a real gateway, rule files
# written as a BqTail user would, files dropped in raw/ by rename, `sluice run
# --once`, and the DuckDB warehouse checked with `sluice query`. The cases
# test_rules_batch runs against the library, here end to end: 2,000
# single-row files into $Mod(2) tables (each row where the documented hash
# puts it, computed here independently); MultiPath across two folders; dedupe
# within the batch and against the destination; a Transform with CASE; a
# side-input join; the table and two columns from the path's date and case
# number; Override with Partition: $Date replacing only today's partition;
# Split into even and odd tables; schema-invalid files counted apart from
# corrupt ones; a failing post-query action that leaves the destination
# intact and reports the error.
. "$(dirname "$0")/lib.sh"
G=$TMP/gw
W="$G/warehouse.duckdb"
wq() { "$SLUICE" query --warehouse "$W" --format csv "$1" | sed -n 2p; }
nfiles() { find "$1" -type f ! -name '.*' 2>/dev/null | wc -l; }
# put a file into raw/ as producers do (hidden name, then a rename)
drop() {
    mkdir -p "$(dirname "$G/raw/$1")"
    cat >"$G/raw/$(dirname "$1")/.tmp-$(basename "$1")"
    [ -n "$2" ] && touch -d "$2" "$G/raw/$(dirname "$1")/.tmp-$(basename "$1")"
    mv "$G/raw/$(dirname "$1")/.tmp-$(basename "$1")" "$G/raw/$1"
}
# status --json, one expression over it (d)
sj() { python3 -c "import json,sys; d=json.load(open('$TMP/out')); print($1)"; }

rm -rf "$G"
"$SLUICE" init "$G" >/dev/null || exit 1
python3 - "$G/sluice.json" <<'EOF'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["batch"] = {"window_ms": 200}
c["retry"] = {"max_attempts": 2, "initial_ms": 20, "max_ms": 100}
c["rescan_seconds"] = 1
json.dump(c, open(p, "w"), indent=2)
EOF
mkdir -p "$G/rules" "$G/schemas/app"
sch() { cat >"$G/schemas/app/$1.json"; }
echo '{"fields": [{"name": "id", "type": "INTEGER", "mode": "REQUIRED"}]}' | sch shard
echo '{"fields": [{"name": "id", "type": "INTEGER", "mode": "REQUIRED"}, {"name": "v", "type": "STRING"}]}' | sch item
sch pay <<'EOF'
{"fields": [{"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
            {"name": "amount", "type": "FLOAT"},
            {"name": "fee_id", "type": "INTEGER"},
            {"name": "size", "type": "STRING"},
            {"name": "charge", "type": "FLOAT"}]}
EOF
echo '{"fields": [{"name": "id", "type": "INTEGER"}, {"name": "value", "type": "FLOAT"}]}' | sch fees
sch cases <<'EOF'
{"fields": [{"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
            {"name": "day", "type": "DATE"},
            {"name": "case_no", "type": "INTEGER"}]}
EOF
sch daily <<'EOF'
{"fields": [{"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
            {"name": "ts", "type": "TIMESTAMP"},
            {"name": "v", "type": "STRING"}],
 "partitioning": {"type": "DAY", "field": "ts"}}
EOF

# rule windows are clock-aligned and a run's files join the window they are
# claimed in: stay clear of an hour's end so each case is one window
python3 -c "import time; r = 3600 - time.time() % 3600; r < 45 and time.sleep(r + 1)"

# ---- run 1: the lookup table and the partitioned table's old rows, by the
# folder convention (no rule matches /app.fees/ or /app.daily/)
TODAY=$(date -u +%F)
YDAY=$(date -u -d "$TODAY - 1 day" +%F)
TMRW=$(date -u -d "$TODAY + 1 day" +%F)
printf '{"id": 1, "value": 0.5}\n{"id": 2, "value": 7}\n' | drop app.fees/fees.json
printf '%s\n' "{\"id\": 1, \"ts\": \"${YDAY}T08:00:00Z\", \"v\": \"old\"}" \
    "{\"id\": 2, \"ts\": \"${TODAY}T09:00:00Z\", \"v\": \"old\"}" \
    "{\"id\": 3, \"ts\": \"${TODAY}T23:30:00Z\", \"v\": \"old\"}" \
    "{\"id\": 6, \"ts\": \"${TMRW}T00:30:00Z\", \"v\": \"old\"}" | drop app.daily/seed.json
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "seed: fees" "$(wq 'SELECT count(*) FROM app.fees')" "2"
check_eq "seed: three days of app.daily" "$(wq 'SELECT count(DISTINCT ts::DATE) FROM app.daily')" "3"

# ---- the rules (each case its own prefix, all in one gateway)
# (1) $Mod(2): the table from the hash of the path
cat >"$G/rules/shard.yaml" <<'EOF'
# one row per file, sharded over two tables by the path's hash
When: {Prefix: /shard/, Suffix: .json}
Dest:
  Table: proj:app.shard_$Mod(2)
  Schema: {Template: app.shard}
Batch: {Window: {DurationInSec: 3600}}
EOF
# (2) MultiPath: two folders, one window, one load; its twin without MultiPath
cat >"$G/rules/multi.json" <<'EOF'
{"When": {"Prefix": "/multi/"},
 "Dest": {"Table": "app.multi", "Schema": {"Template": "app.item"}},
 "Batch": {"Window": {"DurationInSec": 3600}, "MultiPath": true}}
EOF
cat >"$G/rules/single.json" <<'EOF'
{"When": {"Prefix": "/single/"},
 "Dest": {"Table": "app.single", "Schema": {"Template": "app.item"}},
 "Batch": {"Window": {"DurationInSec": 3600}}}
EOF
# (3) dedupe in the batch and against what the destination holds
cat >"$G/rules/dedupe.yaml" <<'EOF'
When: {Prefix: /dedupe/}
Dest:
  Table: app.dedupe
  Schema: {Template: app.item}
  Transient: {Dataset: temp}
  UniqueColumns: {Columns: [id], Against: destination, OrderBy: v DESC}
Batch: {Window: {DurationInSec: 3600}}
EOF
# (4) a Transform with CASE
cat >"$G/rules/pay.yaml" <<'EOF'
When: {Prefix: /pay/, Suffix: .json}
Dest:
  Table: app.pay
  Transient: {Dataset: temp, Alias: p}
  Transform:
    size: "CASE WHEN p.amount >= 100 THEN 'large' WHEN p.amount >= 10 THEN 'medium' ELSE 'small' END"
Batch: {Window: {DurationInSec: 3600}}
EOF
# (5) a side-input lookup join (app.fees, loaded in run 1)
cat >"$G/rules/fee.yaml" <<'EOF'
When: {Prefix: /fee/}
Dest:
  Table: app.charged
  Schema: {Template: app.pay}
  Transient: {Dataset: temp, Alias: t}
  Transform: {charge: "t.amount + coalesce(fx.value, 100)"}
  SideInputs:
    - {Table: app.fees, Alias: fx, On: t.fee_id = fx.id}
Batch: {Window: {DurationInSec: 3600}}
EOF
# (6) the table from the path's date, two columns from its date and case
cat >"$G/rules/cases.yaml" <<'EOF'
When: {Prefix: /cases/, Suffix: .json}
Dest:
  Pattern: /cases/(\d{4})-(\d{2})-(\d{2})/case(\d+)/
  Table: app.cases_$1$2$3
  Parameters:
    - {Name: Day, Expression: $1-$2-$3}
    - {Name: CaseNo, Expression: $4}
  Schema: {Template: app.cases}
  Transient: {Dataset: temp}
  Transform: {day: "CAST('$Day' AS DATE)", case_no: "CAST('$CaseNo' AS INTEGER)"}
Batch: {Window: {DurationInSec: 3600}}
EOF
# (7) Override of the file's day ($Date) only
cat >"$G/rules/daily.json" <<'EOF'
{"When": {"Prefix": "/daily/"},
 "Dest": {"Table": "app.daily", "Partition": "$Date", "Override": true,
          "Transient": {"Dataset": "temp"}},
 "Batch": {"Window": {"DurationInSec": 3600}}}
EOF
# (8) Split by content into even and odd tables
cat >"$G/rules/split.yaml" <<'EOF'
When: {Prefix: /split/}
Dest:
  Table: app.numbers
  Transient: {Dataset: temp}
  Schema:
    Template: app.item
    Split:
      Mapping:
        - {When: "id % 2 = 0", Then: app.even}
        - {When: "id % 2 <> 0", Then: app.odd}
Batch: {Window: {DurationInSec: 3600}}
EOF
# (9) no bad record allowed: schema-invalid files fail, apart from corrupt
cat >"$G/rules/strict.json" <<'EOF'
{"When": {"Prefix": "/strict/"},
 "Dest": {"Table": "app.strict", "Schema": {"Template": "app.item"}, "MaxBadRecords": 0},
 "Batch": {"Window": {"DurationInSec": 3600}}}
EOF
# (10) a summary query, then a post-query replacing the destination from
# itself that fails: the table as loaded, the error recorded
cat >"$G/rules/acts.yaml" <<'EOF'
When: {Prefix: /acts/}
Dest: {Table: app.acts, Schema: {Template: app.item}}
Batch: {Window: {DurationInSec: 3600}}
OnSuccess:
  - Action: query
    Request:
      SQL: "SELECT '$BatchID' AS batch, COUNT(*) AS n FROM $DestTable"
      Dest: app.act_summary
      Append: true
  - Action: query
    Request:
      SQL: "SELECT id, CAST('not-a-number-' || v AS INTEGER) AS v FROM $DestTable"
      Dest: app.acts
      Append: false
    OnFailure:
      - Action: query
        Request: {SQL: "SELECT '$BatchID' AS batch, '$Error' AS err", Dest: app.act_errors, Append: true}
EOF
expect_exit 0 -- "$SLUICE" rules check --gateway "$G"
check_grep "rules check: every rule ready" "^11 rules ready" "$TMP/out"

# ---- the files
# (1) 2,000 single-row files, by rename
python3 - "$G/raw/shard" <<'EOF'
import os, sys
d = sys.argv[1]; os.makedirs(d)
for i in range(2000):
    p = os.path.join(d, ".w%04d" % i)
    with open(p, "w") as f:
        f.write('{"id": %d}\n' % i)
    os.rename(p, os.path.join(d, "r%04d.json" % i))
EOF
# (2)
printf '{"id": 1, "v": "a"}\n' | drop multi/east/a.json
printf '{"id": 2, "v": "b"}\n' | drop multi/west/b.json
printf '{"id": 3, "v": "c"}\n' | drop multi/west/c.json
printf '{"id": 1, "v": "a"}\n' | drop single/east/a.json
printf '{"id": 2, "v": "b"}\n' | drop single/west/b.json
# (3) id 2 twice in the batch ("c" survives: OrderBy v DESC)
printf '{"id": 1, "v": "a"}\n{"id": 2, "v": "b"}\n' | drop dedupe/d1.json
printf '{"id": 2, "v": "c"}\n' | drop dedupe/d2.json
# (4)
printf '{"id": 1, "amount": 5}\n{"id": 2, "amount": 10}\n{"id": 3, "amount": 99.5}\n{"id": 4, "amount": 250}\n' | drop pay/p.json
# (5) fee 1, fee 2, a fee not in the lookup, no fee
printf '{"id": 1, "amount": 10, "fee_id": 1}\n{"id": 2, "amount": 10, "fee_id": 2}\n{"id": 3, "amount": 10, "fee_id": 9}\n{"id": 4, "amount": 10}\n' | drop fee/f.json
# (6)
printf '{"id": 1}\n{"id": 2}\n' | drop cases/2024-02-29/case17/a.json
printf '{"id": 3}\n' | drop cases/2024-03-01/case5/b.json
# (7) today's rows again, the file dated today
printf '%s\n' "{\"id\": 4, \"ts\": \"${TODAY}T10:00:00Z\", \"v\": \"new\"}" \
    "{\"id\": 5, \"ts\": \"${TODAY}T11:00:00Z\", \"v\": \"new\"}" | drop daily/today.json "${TODAY}T12:00:00Z"
# (8)
printf '{"id": %d}\n' 1 2 3 4 5 6 7 | drop split/s.json
# (9) one good file, two schema-invalid (a string id; no id), one corrupt
printf '{"id": 1, "v": "good"}\n' | drop strict/good.json
printf '{"id": 2, "v": "ok"}\n{"id": "two", "v": "bad"}\n' | drop strict/badtype.json
printf '{"v": "no id"}\n' | drop strict/noid.json
printf '{"id": 3, "v": "cut"}\n%.0s' $(seq 1 200) | gzip -c | head -c 40 | drop strict/cut.json.gz
# (10)
printf '{"id": 1, "v": "x"}\n{"id": 2, "v": "y"}\n' | drop acts/a.json

# ---- run 2: every case at once
t0=$(date +%s.%N)
expect_exit 3 -- "$SLUICE" run --gateway "$G" --once
cp "$TMP/err" "$TMP/run2.err"
echo "run 2 (2,000+ files): $(python3 -c "import time; print('%.1f s' % (time.time() - $t0))")"
check_eq "raw/ drained" "$(nfiles "$G/raw")" "0"

# (1) the expected table of each path, from docs/RULES.md's hash, here
python3 - "$TMP/shard.expect" <<'EOF'
import hashlib, sys
M = (1 << 64) - 1
def mod(path, n):
    h = 14695981039346656037
    for c in path.encode():
        h = ((h ^ c) * 1099511628211) & M
    h ^= h >> 33; h = (h * 0xff51afd7ed558ccd) & M
    h ^= h >> 33; h = (h * 0xc4ceb9fe1a85ec53) & M
    h ^= h >> 33
    return h % n
# the documented test vectors first: the implementation here is the doc's
assert mod("/data/a.json", 2) == 0 and mod("/data/a.json", 10) == 6
assert mod("/data/f0001.json", 10) == 9 and mod("/data/f0002.json", 10) == 1
assert sum(mod("/mod/f%04d.json" % i, 2) for i in range(2000)) == 1001
ids = {0: [], 1: []}
for i in range(2000):
    ids[mod("/shard/r%04d.json" % i, 2)].append(i)
with open(sys.argv[1], "w") as f:
    for t in (0, 1):
        s = ",".join(str(i) for i in ids[t])
        f.write("%d %s\n" % (len(ids[t]), hashlib.md5(s.encode()).hexdigest()))
EOF
shard() { wq "SELECT count(*) || ' ' || md5(string_agg(id::VARCHAR, ',' ORDER BY id)) FROM app.shard_$1"; }
check_eq "\$Mod(2): app.shard_0 holds the ids its paths hash to" "$(shard 0)" "$(sed -n 1p "$TMP/shard.expect")"
check_eq "\$Mod(2): app.shard_1 holds the ids its paths hash to" "$(shard 1)" "$(sed -n 2p "$TMP/shard.expect")"
check_eq "\$Mod(2): all 2,000 rows, each once" \
    "$(wq "SELECT count(*) || ' ' || count(DISTINCT id) FROM (SELECT id FROM app.shard_0 UNION ALL SELECT id FROM app.shard_1)")" "2000 2000"
check_eq "\$Mod(2): about half in each (900..1100)" \
    "$(wq 'SELECT (SELECT count(*) FROM app.shard_0) BETWEEN 900 AND 1100')" "true"
check_eq "\$Mod(2): two tables, nothing else" \
    "$(wq "SELECT string_agg(table_name, ' ' ORDER BY table_name) FROM information_schema.tables WHERE table_name LIKE 'shard%'")" "shard_0 shard_1"
check_eq "\$Mod(2): one window, one load per table" \
    "$(wq "SELECT string_agg(n_files::VARCHAR, ' ' ORDER BY table_name) FROM _sluice_loads WHERE table_name LIKE 'app.shard_%'")" \
    "$(cut -d' ' -f1 "$TMP/shard.expect" | tr '\n' ' ' | sed 's/ $//')"

# (2)
check_eq "MultiPath: two folders, one load of 3 files" \
    "$(wq "SELECT string_agg(n_files::VARCHAR, ' ') FROM _sluice_loads WHERE table_name = 'app.multi'")" "3"
check_eq "MultiPath: the rows" "$(wq "SELECT string_agg(id || v, ' ' ORDER BY id) FROM app.multi")" "1a 2b 3c"
check_eq "without MultiPath: one load per folder" \
    "$(wq "SELECT string_agg(n_files::VARCHAR, ' ') FROM _sluice_loads WHERE table_name = 'app.single'")" "1 1"
# (3) first batch
check_eq "dedupe in the batch: id 2 once, OrderBy's survivor" \
    "$(wq "SELECT string_agg(id || v, ' ' ORDER BY id) FROM app.dedupe")" "1a 2c"
# (4)
check_eq "Transform with CASE" \
    "$(wq "SELECT string_agg(id || ':' || size, ' ' ORDER BY id) FROM app.pay")" "1:small 2:medium 3:medium 4:large"
# (5)
check_eq "side input: LEFT JOIN on fee_id" \
    "$(wq "SELECT string_agg(id || ':' || charge, ' ' ORDER BY id) FROM app.charged")" "1:10.5 2:17.0 3:110.0 4:110.0"
# (6)
check_eq "table from the path's date, day and case_no from the path" \
    "$(wq "SELECT string_agg(id || ' ' || day || ' ' || case_no, '; ' ORDER BY id) FROM app.cases_20240229")" \
    "1 2024-02-29 17; 2 2024-02-29 17"
check_eq "the other day's table" \
    "$(wq "SELECT string_agg(id || ' ' || day || ' ' || case_no, '; ') FROM app.cases_20240301")" "3 2024-03-01 5"
# (7)
check_eq "Override Partition \$Date: today's rows replaced, the other days kept" \
    "$(wq "SELECT string_agg(id || v || ':' || (ts::DATE = DATE '$TODAY'), ' ' ORDER BY id) FROM app.daily")" \
    "1old:false 4new:true 5new:true 6old:false"
# (8)
check_eq "Split: even and odd tables" \
    "$(wq "SELECT (SELECT string_agg(id::VARCHAR, '-' ORDER BY id) FROM app.even) || ' ' || (SELECT string_agg(id::VARCHAR, '-' ORDER BY id) FROM app.odd)")" \
    "2-4-6 1-3-5-7"
# (9)
check_eq "strict: only the good file loads" "$(wq "SELECT string_agg(id || v, ' ') FROM app.strict")" "1good"
check_eq "strict: the two schema-invalid and the corrupt file in failed/" \
    "$(ls "$G"/failed/app.strict/ 2>/dev/null | grep -c 'error.json$')" "3"
# (10)
check_eq "summary query action: \$BatchID and the row count" \
    "$(wq "SELECT count(*) || ' ' || bool_and(length(batch) = 64) || ' ' || sum(n) FROM app.act_summary")" "1 true 2"
check_eq "failing post-query: the destination intact" \
    "$(wq "SELECT string_agg(id || v, ' ' ORDER BY id) FROM app.acts")" "1x 2y"
check_eq "failing post-query: its OnFailure got \$Error and \$BatchID" \
    "$(wq "SELECT count(*) || ' ' || bool_and(length(batch) = 64) || ' ' || bool_and(err LIKE '%not-a-number-x%') FROM app.act_errors")" "1 true true"
check_grep "failing post-query: reported in the log" "warn: app\\.acts: rule acts: OnSuccess\\[1\\] query: .*not-a-number-x" "$TMP/run2.err"
check_eq "transient tables dropped" \
    "$(wq "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'temp'")" "0"

expect_exit 0 -- "$SLUICE" status --gateway "$G" --json
cp "$TMP/out" "$TMP/status.json"
check_eq "status --json: strict, by class (corrupt schema other)" \
    "$(sj "' '.join(str(r['failed_by_class'][k]) for r in d['rules'] if r['rule'] == 'strict' for k in ('corrupt', 'schema', 'other'))")" "1 2 0"
check_eq "status --json: app.strict, by class" \
    "$(sj "' '.join(str(t['failed_by_class'][k]) for t in d['tables'] if t['table'] == 'app.strict' for k in ('corrupt', 'schema', 'other'))")" "1 2 0"
check_eq "status --json: strict loaded 1, failed 3" \
    "$(sj "[(r['loaded_files'], r['failed_files']) for r in d['rules'] if r['rule'] == 'strict']")" "[(1, 3)]"
check_eq "status --json: the failed action counted" \
    "$(sj "[(r['actions_failed'], r['actions_pending']) for r in d['rules'] if r['rule'] == 'acts']")" "[(1, 0)]"
check_eq "status --json: shard loaded 2,000" \
    "$(sj "[r['loaded_files'] for r in d['rules'] if r['rule'] == 'shard']")" "[2000]"

# ---- run 3: a second dedupe batch, with a key the destination holds
printf '{"id": 2, "v": "z"}\n{"id": 3, "v": "d"}\n{"id": 3, "v": "e"}\n' | drop dedupe/d3.json
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "dedupe against the destination: id 2 kept as loaded, 3 once" \
    "$(wq "SELECT string_agg(id || v, ' ' ORDER BY id) FROM app.dedupe")" "1a 2c 3e"
check_eq "dedupe: two loads" "$(wq "SELECT count(*) FROM _sluice_loads WHERE table_name = 'app.dedupe'")" "2"
expect_exit 0 -- "$SLUICE" verify --gateway "$G"
check_grep "verify" " 0 discrepancies" "$TMP/out"

finish
