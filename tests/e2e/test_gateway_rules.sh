#!/usr/bin/env bash
# Rules in the gateway service (issue 16, phase 2): a real gateway with rule
# files in JSON and YAML, files dropped in raw/, `sluice run`, and the DuckDB
# warehouse checked: routing by Pattern and $Date, fan-out to two tables, a
# window batching several files into one load, a transient table with a
# Transform and UniqueColumns dedupe, OnSuccess (move) and OnFailure actions,
# a corrupt file quarantined while its batch loads, the folder fallback and a
# file nothing takes, rules reloaded when rules/ changes, status per table,
# a rule batch surviving kill -9 at each crash point, a sealed batch loaded
# by its rule as it was when rules/ changed in between, and fan-out across
# crashes.
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

mkgw() {
    rm -rf "$G"
    "$SLUICE" init "$G" >/dev/null || exit 1
    python3 - "$G/sluice.json" "$1" <<'EOF'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["batch"] = {"window_ms": 200}
c["retry"] = {"max_attempts": 3, "initial_ms": 20, "max_ms": 100}
c["rescan_seconds"] = 1
c["rules"] = {"fan_out": sys.argv[2] == "fan_out"}
json.dump(c, open(p, "w"), indent=2)
EOF
    mkdir -p "$G/rules" "$G/schemas/app" "$G/schemas/main"
    cat >"$G/schemas/app/events.json" <<'EOF'
{"fields": [{"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
            {"name": "kind", "type": "STRING"},
            {"name": "day", "type": "STRING"},
            {"name": "case_no", "type": "STRING"}]}
EOF
    cat >"$G/schemas/app/clicks.json" <<'EOF'
{"fields": [{"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
            {"name": "url", "type": "STRING"}]}
EOF
    cat >"$G/schemas/app/clicks_hosts.json" <<'EOF'
{"fields": [{"name": "id", "type": "INTEGER"}, {"name": "host", "type": "STRING"}]}
EOF
    cat >"$G/schemas/main/plain.json" <<'EOF'
{"fields": [{"name": "id", "type": "INTEGER"}]}
EOF
}

# ---- routing, $Date, Pattern, transient + Transform + dedupe, a window
mkgw fan_out
# YAML: the table from the file's date, a column from the path's case number
cat >"$G/rules/events.yaml" <<'EOF'
# events by day; the case number from the folder
When: {Prefix: /events/, Suffix: .json}
Dest:
  Pattern: /events/case(\d+)/
  Table: proj:app.events_$Date
  Schema: {Template: app.events}
  Parameters:
    - {Name: CaseNo, Expression: $1}
  Transient: {Dataset: temp, ProjectID: my-project}
  Transform: {case_no: "'$CaseNo'", day: "'$Date'"}
  UniqueColumns: [id]
Batch: {Window: {DurationInSec: 3}}
OnSuccess:
  - {Action: move, Request: {DestURL: gs://my-bucket/done/events}}
EOF
# JSON, two rules on /clicks/ (fan-out): straight into app.clicks, and the
# host of each url into app.clicks_hosts through a transient table
cat >"$G/rules/clicks.json" <<'EOF'
{"When": {"Prefix": "/clicks/"}, "Dest": {"Table": "app.clicks"}}
EOF
cat >"$G/rules/hosts.json" <<'EOF'
[{"When": {"Prefix": "/clicks/"},
  "Dest": {"Table": "app.clicks_hosts", "Transient": {"Dataset": "temp", "Template": "app.clicks"},
           "Transform": {"host": "regexp_extract(t.url, '//([^/]+)', 1)"}},
  "OnSuccess": [{"Action": "query",
                 "Request": {"SQL": "SELECT '$BatchID' AS batch, COUNT(*) AS n FROM $TempTable",
                             "Dest": "app.host_loads", "Append": true}}]}]
EOF
T1=2024-01-02T13:00:00Z
for i in 1 2 3; do
    printf '{"id": %d, "kind": "a"}\n{"id": 1, "kind": "z"}\n' $i | drop events/case7/f$i.json "$T1"
done
printf '{"id": 9, "kind": "b"}\n' | drop events/case8/g.json 2024-01-03T01:00:00Z
printf '{"id": 1, "url": "https://a.example/x"}\n{"id": 2, "url": "http://b.example/y"}\n' | drop clicks/c1.json
printf '{"id": 5}\n' | drop plain/p.json            # no rule: raw/<table>/
printf '{"id": 5}\n' | drop nowhere/n.json          # no rule, no table
expect_exit 3 -- "$SLUICE" run --gateway "$G" --once
cp "$TMP/err" "$TMP/run1.err"
check_grep "rules loaded" "info: 3 rules loaded" "$TMP/run1.err"
check_grep "the service reports an ignored field" \
    "rule note: rules/events.yaml: Dest.Transient.ProjectID: ignored" "$TMP/run1.err"
check_eq "events by \$Date: the 2nd" "$(wq 'SELECT count(*) FROM app.events_20240102')" "3"
check_eq "events by \$Date: the 3rd" "$(wq 'SELECT count(*) FROM app.events_20240103')" "1"
check_eq "UniqueColumns: id 1 once, the same survivor" \
    "$(wq "SELECT string_agg(id || kind, ' ' ORDER BY id) FROM app.events_20240102")" "1a 2a 3a"
check_eq "Pattern and Transform: case_no and day" \
    "$(wq "SELECT string_agg(DISTINCT case_no || '/' || day, ',') FROM app.events_20240102")" "7/20240102"
check_eq "the case number of the other folder" "$(wq 'SELECT case_no FROM app.events_20240103')" "8"
check_eq "three files of a window: one load" \
    "$(wq "SELECT n_files FROM _sluice_loads WHERE table_name LIKE '%events_20240102%'")" "3"
check_eq "transient tables dropped" \
    "$(wq "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'temp'")" "0"
check_eq "fan-out: app.clicks" "$(wq 'SELECT count(*) FROM app.clicks')" "2"
check_eq "fan-out: app.clicks_hosts, Transform" \
    "$(wq "SELECT string_agg(host, ' ' ORDER BY id) FROM app.clicks_hosts")" "a.example b.example"
check_eq "the query action: \$BatchID and the count" \
    "$(wq "SELECT n || ' ' || length(batch) FROM app.host_loads")" "2 64"
check_eq "OnSuccess move: the files in done/events" "$(nfiles "$G/done/events")" "4"
check_eq "the folder convention without a rule" "$(wq 'SELECT count(*) FROM plain')" "1"
check_grep "no rule, no table: failed with the reason" "no enabled rule \\(rules/\\) matches it, and no table nowhere" \
    "$(ls "$G"/failed/*n.json.error.json)"
check_eq "raw/ drained" "$(nfiles "$G/raw")" "0"
check_eq "a fan-out file archived once per route" "$(find "$G/sent" -name '*c1.json' | wc -l)" "2"
expect_exit 0 -- "$SLUICE" verify --gateway "$G"
check_grep "verify" " 0 discrepancies" "$TMP/out"
expect_exit 0 -- "$SLUICE" status --gateway "$G"
cp "$TMP/out" "$TMP/status1"
check_grep "status: a rule's destination" "^app\\.events_20240102 " "$TMP/status1"
check_grep "status: fan-out's second table" "^app\\.clicks_hosts " "$TMP/status1"
check_grep "status per rule: events" "^events +0 +4 +0 " "$TMP/status1"
check_grep "status per rule: the fan-out's two rules" "^clicks +0 +1 +0 " "$TMP/status1"
expect_exit 0 -- "$SLUICE" status --gateway "$G" --json
check_eq "status --json per rule" "$(python3 -c "import json; d=json.load(open('$TMP/out')); print(' '.join('%s:%d' % (r['rule'], r['loaded_files']) for r in d['rules']))")" "clicks:1 events:4 hosts[0]:1"
expect_exit 0 -- "$SLUICE" rules check --gateway "$G"
check_grep "ignored fields reported" "Dest.Transient.ProjectID: ignored" "$TMP/out"

# ---- without fan-out two rules on one file are an error: failed/ says why
python3 -c "import json; p='$G/sluice.json'; c=json.load(open(p)); c['rules']['fan_out']=False; json.dump(c,open(p,'w'))"
printf '{"id": 3, "url": "x"}\n' | drop clicks/c2.json
expect_exit 3 -- "$SLUICE" run --gateway "$G" --once
check_grep "two rules, no fan-out" "2 enabled rules match /clicks/c2.json" "$(ls "$G"/failed/*c2.json.error.json)"

# ---- a corrupt file fails apart; OnFailure runs for a batch that fails
mkgw
# a webhook (rules.webhook_url) that keeps each POST body as a line
python3 - "$TMP/hook.port" "$TMP/hook.txt" <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_port))
s.serve_forever()
PY
hook=$!
for i in $(seq 1 600); do [ -s "$TMP/hook.port" ] && break; sleep 0.1; done
python3 -c "import json; p='$G/sluice.json'; c=json.load(open(p)); c['rules']['webhook_url']='http://127.0.0.1:$(cat "$TMP/hook.port")/hook'; json.dump(c,open(p,'w'))"
cat >"$G/rules/orders.yaml" <<'EOF'
When: {Prefix: /orders/}
Dest:
  Table: app.clicks
  Transient: {Dataset: temp}
  Transform: {id: "CAST(t.url AS INTEGER)"}
MaxReload: 2
OnFailure:
  - {Action: move, Request: {DestURL: errors/orders}}
  - {Action: notify, Request: {Title: orders, Message: "$Error"}}
EOF
cat >"$G/rules/ok.json" <<'EOF'
{"When": {"Prefix": "/ok/"}, "Dest": {"Table": "app.clicks"},
 "Batch": {"Window": {"DurationInSec": 60}}}
EOF
printf '{"id": 1, "url": "u"}\n' | drop ok/a.json
printf '{"id": 2, "url": "u"}\n' | drop ok/b.json
printf '{"id": 3, "url": "u"' | gzip -c | head -c 20 | drop ok/c.json.gz
printf '{"id": 4, "url": "not a number"}\n' | drop orders/o.json
expect_exit 3 -- "$SLUICE" run --gateway "$G" --once
cp "$TMP/err" "$TMP/run2.err"
check_eq "the corrupt file's batch still loads" "$(wq "SELECT string_agg(id::VARCHAR, '-' ORDER BY id) FROM app.clicks")" "1-2"
check_grep "the corrupt file failed as corrupt" '"class":"corrupt"' "$(ls "$G"/failed/*/*c.json.gz.error.json)"
check_eq "OnFailure moved the failed batch's file" "$(nfiles "$G/errors/orders")" "1"
check_grep "the failure is reported with the action's outcome" "OnFailure" "$TMP/run2.err"
expect_exit 0 -- "$SLUICE" status --gateway "$G"
check_grep "status by class" "corrupt 1" "$TMP/out"
expect_exit 0 -- "$SLUICE" status --gateway "$G" --json
check_eq "status --json: failed by class per table" "$(python3 -c "import json; d=json.load(open('$TMP/out')); t=[t for t in d['tables'] if t['table']=='app.clicks'][0]['failed_by_class']; print(t['corrupt'], t['schema'], t['other'])")" "1 0 1"
expect_exit 0 -- "$SLUICE" status --gateway "$G"
check_grep "status per rule: the corrupt file" "^ok +0 +2 +1 +1 +0 +0 +0 +0$" "$TMP/out"
check_grep "status per rule: the failed batch, its actions" "^orders +0 +0 +1 +0 +0 +1 +0 +0$" "$TMP/out"
check_grep "notify: the webhook got the title and \$Error" '"text":"orders: .*not a number' "$TMP/hook.txt"
check_grep "notify: names the rule" '"rule":"orders"' "$TMP/hook.txt"
kill $hook 2>/dev/null
wait $hook 2>/dev/null

# ---- `sluice retry` of a rule's failed file: back to its path under raw/,
# routed again by the rule as it is now
mkgw
echo '{"When": {"Prefix": "/in/"}, "Dest": {"Table": "app.clicks", "Transient": {"Dataset": "temp"}, "Transform": {"url": "CAST(t.url AS INTEGER)::VARCHAR"}}}' >"$G/rules/r.json"
printf '{"id": 1, "url": "abc"}\n' | drop in/x/a.json
expect_exit 3 -- "$SLUICE" run --gateway "$G" --once
check_eq "the rule's SQL failed the batch" "$(ls "$G"/failed/app.clicks/ | grep -vc error.json)" "1"
echo '{"When": {"Prefix": "/in/"}, "Dest": {"Table": "app.clicks"}}' >"$G/rules/r.json"
expect_exit 0 -- "$SLUICE" retry --gateway "$G" --all
check_grep "retry: back where it came from" "-> raw/in/x/a.json" "$TMP/out"
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "retried: loaded by the fixed rule" "$(wq "SELECT url FROM app.clicks")" "abc"

# ---- OnSuccess delete: the archived copies go, the ledger says so, verify
# agrees; no Batch: each file its own batch, as in BqTail
mkgw
echo '{"When": {"Prefix": "/in/"}, "Dest": {"Table": "app.clicks"}, "OnSuccess": [{"Action": "delete"}]}' >"$G/rules/r.json"
for i in 1 2; do printf '{"id": %d}\n' $i | drop in/a$i.json; done
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "delete: nothing archived" "$(nfiles "$G/sent")" "0"
check_eq "no Batch: one load per file" "$(wq "SELECT count(*) FROM _sluice_loads")" "2"
expect_exit 0 -- "$SLUICE" verify --gateway "$G"
check_grep "delete: verify clean" " 0 discrepancies" "$TMP/out"

# ---- a lost ledger with rule-routed files: rebuilt from the folders and
# the warehouse; content loaded before is recognised, nothing loads twice
mkgw
echo '{"When": {"Prefix": "/in/"}, "Dest": {"Table": "app.clicks", "Transient": {"Dataset": "temp"}, "Transform": {"url": "'"'x'"'"}}, "Batch": {"Window": {"DurationInSec": 5}}}' >"$G/rules/r.json"
for i in 1 2 3; do printf '{"id": %d}\n' $i | drop in/a$i.json; done
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
rm -f "$G"/.sluice/ledger.db*
printf '{"id": 1}\n' | drop in/a1.json
printf '{"id": 4}\n' | drop in/a4.json
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "lost ledger: each row once" \
    "$(wq "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || min(url) FROM app.clicks")" "4 4 x"
check_eq "lost ledger: the copy recorded as a duplicate" \
    "$(wq "SELECT count(*) FROM _sluice_files WHERE outcome = 'duplicate'")" "1"
expect_exit 0 -- "$SLUICE" verify --gateway "$G"

# ---- a window's files are one batch: sluice.json's batch.max_files is the
# folder convention's; a rule's own MaxFiles cuts its batches
mkgw
python3 -c "import json; p='$G/sluice.json'; c=json.load(open(p)); c['batch']['max_files']=2; json.dump(c,open(p,'w'))"
echo '{"When": {"Prefix": "/w/"}, "Dest": {"Table": "app.clicks"}, "Batch": {"Window": {"DurationInSec": 60}}}' >"$G/rules/w.json"
echo '{"When": {"Prefix": "/m/"}, "Dest": {"Table": "app.clicks_hosts"}, "Batch": {"Window": {"DurationInSec": 60}, "MaxFiles": 2}}' >"$G/rules/m.json"
for i in 1 2 3 4 5; do
    printf '{"id": %d}\n' $i | drop w/f$i.json
    printf '{"id": %d}\n' $i | drop m/f$i.json
done
expect_exit 0 -- "$SLUICE" run --gateway "$G" --once
check_eq "no MaxFiles: the window's 5 files in one load" \
    "$(wq "SELECT string_agg(n_files::VARCHAR, ' ') FROM _sluice_loads WHERE table_name = 'app.clicks'")" "5"
check_eq "MaxFiles 2: 2 + 2 + 1" \
    "$(wq "SELECT string_agg(n_files::VARCHAR, ' ' ORDER BY n_files DESC) FROM _sluice_loads WHERE table_name = 'app.clicks_hosts'")" "2 2 1"

# ---- the service: rules/ changes are picked up without a restart
mkgw
"$SLUICE" run --gateway "$G" 2>"$TMP/svc.log" &
svc=$!
for i in $(seq 1 600); do grep -q serving "$TMP/svc.log" 2>/dev/null && break; sleep 0.05; done
cat >"$G/rules/late.json" <<'EOF'
{"When": {"Prefix": "/late/"}, "Dest": {"Table": "app.clicks"},
 "Batch": {"Window": {"DurationInSec": 4}}}
EOF
for i in $(seq 1 600); do grep -q "rule reloaded" "$TMP/svc.log" && break; sleep 0.05; done
check_grep "rules/ reloaded on change" "1 rule reloaded" "$TMP/svc.log"
# three files in one 4 s window: wait for a window's start, then drop them
python3 -c "import time; time.sleep(4 - time.time() % 4 + 0.05)"
for i in 1 2 3; do printf '{"id": %d, "url": "u"}\n' $i | drop late/l$i.json; done
for i in $(seq 1 600); do [ "$(nfiles "$G/raw")" = 0 ] && [ -n "$(wq 'SELECT count(*) FROM _sluice_loads' 2>/dev/null | grep -v '^0$')" ] && break; sleep 0.1; done
check_eq "the window's files in one load" "$(wq "SELECT string_agg(n_files::VARCHAR, ',') FROM _sluice_loads")" "3"
check_eq "rows" "$(wq 'SELECT count(*) FROM app.clicks')" "3"
# SIGHUP: registry and rules read again; the rule still routes
kill -HUP $svc
for i in $(seq 1 600); do grep -q "reloaded sluice.json" "$TMP/svc.log" && break; sleep 0.05; done
check_grep "SIGHUP reloads" "reloaded sluice.json" "$TMP/svc.log"
printf '{"id": 4, "url": "u"}\n' | drop late/l4.json
for i in $(seq 1 600); do [ "$(wq 'SELECT count(*) FROM app.clicks' 2>/dev/null)" = 4 ] && break; sleep 0.1; done
check_eq "a file after SIGHUP loads by the rule" "$(wq 'SELECT count(*) FROM app.clicks')" "4"
kill -TERM $svc
wait $svc
check_eq "SIGTERM: exit 0" "$?" "0"

# ---- kill -9 at each crash point of a rule batch: loaded exactly once,
# its actions run, its transient table dropped
for p in claimed batch-sealed before-load after-load batch-file-moved batch-recorded actions-ran; do
    mkgw
    cat >"$G/rules/r.yaml" <<'EOF'
When: {Prefix: /in/}
Dest:
  Table: app.events
  Transient: {Dataset: temp}
  Transform: {day: "'$Date'"}
  UniqueColumns: [id]
Batch: {Window: {DurationInSec: 1}}
OnSuccess:
  - {Action: query, Request: {SQL: "SELECT '$BatchID' AS b", Dest: app.done, Append: true}}
  - {Action: move, Request: {DestURL: done}}
EOF
    for i in 1 2 3 4; do printf '{"id": %d}\n{"id": %d}\n' $i $((i + 10)) | drop in/f$i.json; done
    { SLUICE_CRASH_AT="$p" "$SLUICE" run --gateway "$G" --once >/dev/null 2>"$TMP/crash.err"; } 2>/dev/null
    check_eq "crash at $p: killed there" "$?" "137"
    "$SLUICE" run --gateway "$G" --once >/dev/null 2>"$TMP/after.err"
    check_eq "crash at $p: rerun exit" "$?" "0"
    check_eq "crash at $p: every row once" \
        "$(wq "SELECT count(*) || ' ' || count(DISTINCT id) FROM app.events")" "8 8"
    check_eq "crash at $p: the files moved by the action" "$(nfiles "$G/done")" "4"
    check_eq "crash at $p: raw/ and the stages empty" \
        "$(nfiles "$G/raw")$(nfiles "$G/transformed")$(nfiles "$G/cloud_ready")" "000"
    check_eq "crash at $p: transient dropped" \
        "$(wq "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'temp'")" "0"
    check_eq "crash at $p: the query action ran" "$(wq 'SELECT count(*) >= 1 FROM app.done')" "true"
    expect_exit 0 -- "$SLUICE" verify --gateway "$G"
    check_grep "crash at $p: verify" " 0 discrepancies" "$TMP/out"
done

# ---- a batch sealed under one version of its rule is loaded by that version
# after a crash, whatever rules/ says by then (the plan and the rule's text
# are in the ledger)
mkgw
cat >"$G/rules/r.yaml" <<'EOF'
When: {Prefix: /in/}
Dest: {Table: app.events, Transient: {Dataset: temp}, Transform: {kind: "'old'"}}
Batch: {Window: {DurationInSec: 1}}
EOF
for i in 1 2; do printf '{"id": %d}\n' $i | drop in/f$i.json; done
{ SLUICE_CRASH_AT=before-load "$SLUICE" run --gateway "$G" --once >/dev/null 2>&1; } 2>/dev/null
check_eq "killed before the load" "$?" "137"
sed -i "s/'old'/'new'/" "$G/rules/r.yaml"
"$SLUICE" run --gateway "$G" --once >/dev/null 2>"$TMP/after.err"
check_eq "the sealed batch loaded by the rule as it was" \
    "$(wq "SELECT string_agg(id || kind, ' ' ORDER BY id) FROM app.events")" "1old 2old"
printf '{"id": 3}\n' | drop in/f3.json
"$SLUICE" run --gateway "$G" --once >/dev/null 2>"$TMP/after.err"
check_eq "a file routed after the edit: the new version" \
    "$(wq "SELECT kind FROM app.events WHERE id = 3")" "new"

# ---- fan-out across a crash between staging and its moves: each route
# loads once, the raw file goes once both have their links
for p in staged-recorded stage-moved batch-sealed; do
    mkgw fan_out
    echo '{"When": {"Prefix": "/c/"}, "Dest": {"Table": "app.clicks"}}' >"$G/rules/a.json"
    echo '{"When": {"Prefix": "/c/"}, "Dest": {"Table": "app.clicks_hosts", "Transient": {"Dataset": "temp", "Template": "app.clicks"}, "Transform": {"host": "t.url"}}}' >"$G/rules/b.json"
    for i in 1 2 3; do printf '{"id": %d, "url": "u%d"}\n' $i $i | drop c/f$i.json; done
    { SLUICE_CRASH_AT="$p" "$SLUICE" run --gateway "$G" --once >/dev/null 2>&1; } 2>/dev/null
    check_eq "fan-out crash at $p: killed there" "$?" "137"
    "$SLUICE" run --gateway "$G" --once >/dev/null 2>"$TMP/after.err"
    check_eq "fan-out crash at $p: rerun exit" "$?" "0"
    check_eq "fan-out crash at $p: both tables once" \
        "$(wq "SELECT (SELECT count(DISTINCT id) || '/' || count(*) FROM app.clicks) || ' ' || (SELECT count(DISTINCT id) || '/' || count(*) FROM app.clicks_hosts)")" "3/3 3/3"
    check_eq "fan-out crash at $p: raw/ and the stages empty" \
        "$(nfiles "$G/raw")$(nfiles "$G/transformed")$(nfiles "$G/cloud_ready")" "000"
    check_eq "fan-out crash at $p: archived once per route" "$(nfiles "$G/sent")" "6"
    expect_exit 0 -- "$SLUICE" verify --gateway "$G"
done

finish
