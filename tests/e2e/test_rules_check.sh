#!/usr/bin/env bash
# sluice rules check: a gateway's rules/ checked (problems name the file and
# the field, exit 2; ignored fields noted) and a sample path explained (the
# rule, the destination from the path and the time, the window, the
# transient table and its SQL, the actions); a path no rule takes falls back
# to raw/<table>/ or would fail (exit 3); usage errors (exit 2).
. "$(dirname "$0")/lib.sh"
GW=$TMP/gw
expect_exit 0 -- "$SLUICE" init "$GW"
mkdir -p "$GW/rules" "$GW/schemas/bqtail"
cat >"$GW/schemas/bqtail/dummy.json" <<'EOF'
{"fields": [{"name": "id", "type": "INTEGER"}, {"name": "date", "type": "DATE"},
            {"name": "use_case", "type": "STRING"}],
 "timePartitioning": {"type": "DAY", "field": "date"}}
EOF
cat >"$GW/rules/case.yaml" <<'EOF'
When: {Prefix: /data/, Suffix: .json}
Async: true
Dest:
  Pattern: /data/case(\d+)/(\d{4})/(\d{2})/(\d{2})/
  Table: proj:bqtail.dummy_$Suffix
  Parameters:
    - {Name: Suffix, Expression: $2$3$4}
    - {Name: CaseNo, Expression: $1}
  Transient: {Dataset: temp, ProjectID: my-project}
  Schema: {Template: bqtail.dummy}
  Transform: {use_case: "'$CaseNo'"}
Batch: {Window: {DurationInSec: 90}}
OnSuccess:
  - {Action: query, Request: {SQL: "SELECT COUNT(1) AS n FROM $TempTable", Dest: bqtail.summary, Append: true}}
  - {Action: delete}
EOF

expect_exit 0 -- "$SLUICE" rules check --gateway "$GW"
check_grep "ignored fields are noted with the reason" \
    '^note: rules/case.yaml: Dest.Transient.ProjectID: ignored: no projects locally$' "$TMP/out"
check_grep "the count" "^1 rule ready in " "$TMP/out"

expect_exit 0 -- "$SLUICE" rules check --gateway "$GW" /data/case7/2024/01/02/a.json \
    --mtime 2024-01-02T13:00:00Z
check_grep "the destination from the path" \
    'destination: bqtail.dummy_20240102 \(made from template bqtail.dummy on first use\)' "$TMP/out"
check_grep "the window" "batch: window 90 s aligned to the clock" "$TMP/out"
check_grep "the transient table" 'loads into: temp.dummy_20240102_0123456789abcdef' "$TMP/out"
check_grep "the SQL, with the case number as a quoted value" \
    "SQL step 1 \(in the load's transaction\): INSERT INTO \"bqtail\".\"dummy_20240102\" \(\"id\", \"date\", \"use_case\"\) SELECT \"t\".\"id\" AS \"id\", \"t\".\"date\" AS \"date\", \('7'\) AS \"use_case\" FROM \"temp\"" "$TMP/out"
check_grep "the cleanup" 'after the actions: DROP TABLE IF EXISTS "temp"."dummy_20240102_0123456789abcdef";' "$TMP/out"
check_grep "the actions" "action: OnSuccess\[0\] query -> bqtail.summary \(append\)" "$TMP/out"

# the same from a real file under raw/ (its own time) and the raw/ form
mkdir -p "$GW/raw/data/case8/2024/02/03"
echo '{"id": 1}' >"$GW/raw/data/case8/2024/02/03/b.json"
expect_exit 0 -- "$SLUICE" rules check --gateway "$GW" "$GW/raw/data/case8/2024/02/03/b.json"
check_grep "a file under raw/" "^path /data/case8/2024/02/03/b.json:" "$TMP/out"
expect_exit 0 -- "$SLUICE" rules check --gateway "$GW" raw/data/case8/2024/02/03/b.json
check_grep "the raw/ form" "destination: bqtail.dummy_20240203" "$TMP/out"

# the folder convention, and a file nothing takes
expect_exit 0 -- "$SLUICE" rules check --gateway "$GW" /dummy/x.json
check_grep "no rule: the table folder" "no rule matches: the folder convention loads it into bqtail.dummy" "$TMP/out"
expect_exit 3 -- "$SLUICE" rules check --gateway "$GW" /nothing/x.json
check_grep "no rule, no table" "it would go to failed/" "$TMP/out"
expect_exit 3 -- "$SLUICE" rules check --gateway "$GW" /data/caseX/2024/01/02/a.json
check_grep "the rule matches by prefix but the Pattern cannot place it" "no rule matches and raw/data/" "$TMP/out"

# two enabled rules on one file: an error, unless --fan-out
cat >"$GW/rules/all.json" <<'EOF'
{"When": {"Suffix": ".json"}, "Dest": {"Table": "bqtail.dummy"}}
EOF
expect_exit 3 -- "$SLUICE" rules check --gateway "$GW" /data/case7/2024/01/02/a.json
check_grep "two rules" "cannot be placed: 2 enabled rules match /data/case7/2024/01/02/a.json \(all and case\)" "$TMP/out"
expect_exit 0 -- "$SLUICE" rules check --gateway "$GW" --fan-out /data/case7/2024/01/02/a.json
check_grep "fan-out: both" "^  rule all \(rules/all.json\)" "$TMP/out"
# as the service runs them: sluice.json's rules.fan_out counts too
cp "$GW/sluice.json" "$TMP/sluice.json.bak"
python3 -c "import json; p='$GW/sluice.json'; c=json.load(open(p)); c['rules']={'fan_out': True}; json.dump(c,open(p,'w'))"
expect_exit 0 -- "$SLUICE" rules check --gateway "$GW" /data/case7/2024/01/02/a.json
check_grep "fan-out from sluice.json" "^  rule all \(rules/all.json\)" "$TMP/out"
cp "$TMP/sluice.json.bak" "$GW/sluice.json"

# problems: exit 2, each naming its file and field; the good rules stay
cat >"$GW/rules/bad.json" <<'EOF'
[{"When": {"Prefix": "/b/"}, "Dest": {"Table": "bqtail.dummy", "Override": "sometimes"}},
 {"When": {"Filter": "("}, "Dest": {"Table": "bqtail.dummy"}}]
EOF
expect_exit 2 -- "$SLUICE" rules check --gateway "$GW"
check_grep "a field's problem" '^problem: rules/bad.json: \[0\].Dest.Override: must be true or false, not a string$' "$TMP/out"
check_grep "a regex's problem" '^problem: rules/bad.json: \[1\].When.Filter: regex error at offset 1' "$TMP/out"
check_grep "the good rules" "^2 rules ready in .* \(rules with problems are left out\)" "$TMP/out"

# usage
expect_exit 2 -- "$SLUICE" rules check
check_grep "--gateway is required" "gateway DIR is required" "$TMP/err"
expect_exit 2 -- "$SLUICE" rules
expect_exit 0 -- "$SLUICE" rules check --help
check_grep "help" "^usage: sluice rules check --gateway DIR" "$TMP/out"
expect_exit 2 -- "$SLUICE" rules check --gateway "$GW" --mtime yesterday /a/b
check_grep "a bad time" "give 2024-01-02T13:00:00Z or @SECONDS" "$TMP/err"
finish
