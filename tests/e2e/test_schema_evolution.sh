#!/usr/bin/env bash
# Schema evolution end to end: `sluice schema plan` and `apply` against real
# DuckDB files. Plan output and exit codes, the --json shape, invalid
# definitions mixed with valid ones, --strict, unsafe changes refused then
# applied with --allow-unsafe, a table changed by someone else between plan
# and apply, unreadable warehouses, rows kept across changes, twice is a no-op.
. "$(dirname "$0")/lib.sh"
R=$TMP/reg
WH="duckdb://$TMP/wh.duckdb"
mkdir -p "$R/sales"

def() { mkdir -p "$(dirname "$R/$1")"; printf '%s\n' "$2" > "$R/$1"; }
# qv SQL: one value, without CSV quotes (values holding commas are quoted)
qv() { q "$1" | sed -e 's/^"\(.*\)"$/\1/' -e 's/""/"/g'; }
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$TMP/out" "$1"; }

# ---- create: plan, apply, plan again --------------------------------------
def sales/orders.json '[{"name":"id","type":"INT64","mode":"REQUIRED"},
 {"name":"amount","type":"INT64"},
 {"name":"Is Hidden","type":"BOOL","description":"it'"'"'s hidden"},
 {"name":"r","type":"RECORD","fields":[{"name":"x","type":"NUMERIC"}]}]'
def sales/events.json '{"description":"events; it'"'"'s \"quoted\"","fields":[
 {"name":"ts","type":"TIMESTAMP"},{"name":"# Joins","type":"INT64"}],
 "partitioning":{"type":"DAY","field":"ts"}}'
expect_exit 0 -- "$SLUICE" schema plan --schemas "$R" --warehouse "$WH"
check_grep "plan lists creates" "^create sales.orders \(4 columns\)" "$TMP/out"
check_grep "plan summary" "2 tables: 2 to create, 0 unchanged, 0 to change, 0 refused; 0 invalid" "$TMP/out"
[ ! -e "$TMP/wh.duckdb" ] || [ "$(q 'SELECT count(*) FROM duckdb_tables() WHERE schema_name = '"'sales'")" = 0 ]
check_eq "plan creates nothing" "$?" "0"
expect_exit 0 -- "$SLUICE" schema apply --schemas "$R" --warehouse "$WH"
check_grep "apply creates" "^created sales.events" "$TMP/out"
check_grep "apply summary" "2 tables: 2 created, 0 unchanged" "$TMP/out"
check_eq "flexible names in the warehouse" "$(q "SELECT string_agg(column_name, '|' ORDER BY column_index) FROM duckdb_columns() WHERE table_name = 'events'")" "ts|# Joins"
check_eq "description recorded" "$(q "SELECT description FROM _sluice_columns WHERE column_path = 'Is Hidden'")" "it's hidden"
expect_exit 0 -- "$SLUICE" schema plan --schemas "$R" --warehouse "$WH"
check_grep "nothing to do" "2 tables: 0 to create, 2 unchanged, 0 to change, 0 refused" "$TMP/out"

# rows go in through the loader (flexible names as NDJSON keys)
printf '%s\n' '{"id":1,"amount":5,"Is Hidden":true,"r":{"x":"1.5"}}' \
    '{"id":2,"amount":9223372036854775807,"is hidden":false}' > "$TMP/o.ndjson"
expect_exit 0 -- "$SLUICE" load --schemas "$R" --table sales.orders --warehouse "$WH" "$TMP/o.ndjson"
check_eq "rows loaded" "$(q 'SELECT count(*) FROM sales.orders')" "2"

# ---- safe changes -----------------------------------------------------------
def sales/orders.json '[{"name":"id","type":"INT64"},
 {"name":"amount","type":"NUMERIC"},
 {"name":"Is Hidden","type":"BOOL","description":"it'"'"'s hidden"},
 {"name":"r","type":"RECORD","fields":[{"name":"x","type":"BIGNUMERIC"},{"name":"y","type":"DATE"}]},
 {"name":"note","type":"STRING"}]'
expect_exit 0 -- "$SLUICE" schema plan --schemas "$R" --warehouse "$WH"
check_grep "change header" "^change sales.orders" "$TMP/out"
check_grep "add column" "^  \+ add column note STRING$" "$TMP/out"
check_grep "relax" "^  ~ relax column id: REQUIRED -> NULLABLE$" "$TMP/out"
check_grep "widen" "^  ~ widen column amount: INTEGER -> NUMERIC$" "$TMP/out"
check_grep "nested add" "^  \+ add field r.y DATE$" "$TMP/out"
check_grep "nested widen" "^  ~ widen field r.x: NUMERIC -> BIGNUMERIC$" "$TMP/out"
expect_exit 0 -- "$SLUICE" schema plan --schemas "$R" --warehouse "$WH" --json
check_eq "json status" "$(json_get "[t['status'] for t in d['tables'] if t['table']=='sales.orders'][0]")" "change"
check_eq "json change kinds" "$(json_get "','.join(c['kind'] for t in d['tables'] for c in t['changes'])")" "add,relax,widen,add,widen"
check_eq "json change fields" "$(json_get "sorted(d['tables'][1]['changes'][0].keys())")" \
    "['advice', 'blocked', 'from', 'kind', 'path', 'reason', 'safe', 'to', 'what']"
check_eq "json widen from/to" "$(json_get "[(c['from'], c['to']) for t in d['tables'] for c in t['changes'] if c['path']=='amount'][0]")" \
    "('INTEGER', 'NUMERIC')"
check_eq "json summary" "$(json_get "d['summary']")" \
    "{'tables': 2, 'create': 0, 'change': 1, 'unchanged': 1, 'refused': 0, 'invalid': 0, 'unsafe_changes': 0}"
check_eq "json top keys" "$(json_get "sorted(d.keys())")" "['applied', 'invalid', 'summary', 'tables', 'warehouse']"
expect_exit 0 -- "$SLUICE" schema apply --schemas "$R" --warehouse "$WH"
check_grep "apply changed" "2 tables: 0 created, 1 unchanged, 1 changed, 0 refused" "$TMP/out"
check_eq "old rows keep values, new columns NULL" \
    "$(qv "SELECT string_agg(id || ':' || amount || ':' || coalesce(r.x, '-') || ':' || (r.y IS NULL) || ':' || (note IS NULL), ',' ORDER BY id) FROM sales.orders")" \
    "1:5.000000000:1.5:true:true,2:9223372036854775807.000000000:-:true:true"
check_eq "history" "$(q "SELECT count(*) FROM _sluice_schema_history WHERE table_name = 'sales.orders' AND change <> 'create'")" "5"
expect_exit 0 -- "$SLUICE" schema apply --schemas "$R" --warehouse "$WH"
check_grep "twice is a no-op" "2 tables: 0 created, 2 unchanged, 0 changed, 0 refused" "$TMP/out"
check_eq "no history the second time" "$(q "SELECT count(*) FROM _sluice_schema_history WHERE table_name = 'sales.orders'")" "6"
# the loader takes the new shape
printf '%s\n' '{"id":3,"amount":"0.5","note":"n","r":{"y":"2024-01-02"}}' > "$TMP/o2.ndjson"
expect_exit 0 -- "$SLUICE" load --schemas "$R" --table sales.orders --warehouse "$WH" "$TMP/o2.ndjson"
check_eq "load after evolution" "$(q "SELECT note || r.y FROM sales.orders WHERE id = 3")" "n2024-01-02"

# ---- invalid definitions mixed in; --strict -----------------------------------
def sales/broken.json '[{"name":"a","type":"DOUBLE"}]'
def sales/badname.json '[{"name":"a;b","type":"STRING"}]'
def main/fresh.json '[{"name":"k","type":"STRING"}]'
expect_exit 2 -- "$SLUICE" schema apply --schemas "$R" --warehouse "$WH" --strict
check_grep "strict says nothing applied" "--strict: nothing was applied" "$TMP/err"
check_eq "strict: fresh not created" "$(q "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'fresh'")" "0"
expect_exit 2 -- "$SLUICE" schema apply --schemas "$R" --warehouse "$WH"
check_grep "valid ones applied" "^created main.fresh" "$TMP/out"
check_grep "refused named" "sales/broken.json: a: unknown type \"DOUBLE\"" "$TMP/err"
check_grep "second refused named" "sales/badname.json: a;b: invalid field name" "$TMP/err"
check_grep "summary counts invalid" "3 tables: 1 created, 2 unchanged, 0 changed, 0 refused; 2 invalid" "$TMP/out"
check_eq "fresh created" "$(q "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'fresh'")" "1"
expect_exit 2 -- "$SLUICE" schema plan --schemas "$R" --warehouse "$WH" --json
check_eq "json invalid list" "$(json_get "[(i['file'].split('/')[-1], i['problem'][:20]) for i in d['invalid']]")" \
    "[('badname.json', 'a;b: invalid field n'), ('broken.json', 'a: unknown type \"DOU')]"
rm "$R/sales/broken.json" "$R/sales/badname.json"
expect_exit 2 -- "$SLUICE" schema check --schemas "$TMP/nope"
def x/multi.json '{"t1":[{"name":"a","type":"STRING"}],"t2":[{"name":"b","type":"STRING"}]}'
expect_exit 2 -- "$SLUICE" schema check --schemas "$R"
check_grep "several tables in one file" "x/multi.json: the file holds 2 tables \(t1, t2\)" "$TMP/err"
rm -r "$R/x"

# ---- unsafe: refused, then --allow-unsafe ---------------------------------------
snapshot() { qv "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index) FROM duckdb_columns() WHERE table_name = 'orders'"; }
before=$(snapshot)
def sales/orders.json '[{"name":"id","type":"INT64"},
 {"name":"amount","type":"INT64"},
 {"name":"Is Hidden","type":"BOOL","description":"it'"'"'s hidden"},
 {"name":"r","type":"RECORD","fields":[{"name":"x","type":"BIGNUMERIC"},{"name":"y","type":"DATE"}]}]'
expect_exit 2 -- "$SLUICE" schema plan --schemas "$R" --warehouse "$WH"
check_grep "refused header" "^refused sales.orders: 2 unsafe changes" "$TMP/out"
check_grep "drop named" "^  ! drop column note  \(unsafe\)$" "$TMP/out"
check_grep "narrowing named" "^  ! change type of column amount: NUMERIC -> INTEGER  \(unsafe\)$" "$TMP/out"
check_grep "reason given" "^      why: dropping a column loses its values" "$TMP/out"
check_grep "advice given" "^      do:  .*--allow-unsafe" "$TMP/out"
expect_exit 2 -- "$SLUICE" schema apply --schemas "$R" --warehouse "$WH"
check_grep "apply refuses with the same explanation" "^      why: dropping a column loses its values" "$TMP/err"
check_grep "left as it is" "the table was left as it is" "$TMP/err"
check_eq "refused: unchanged" "$(snapshot)" "$before"
expect_exit 0 -- "$SLUICE" schema apply --schemas "$R" --warehouse "$WH" --allow-unsafe
check_eq "allowed: dropped and converted" "$(snapshot)" \
    "id BIGINT, amount BIGINT, Is Hidden BOOLEAN, r STRUCT(x VARCHAR, y DATE)"
check_eq "values converted" "$(qv "SELECT string_agg(amount::VARCHAR, ',' ORDER BY id) FROM sales.orders")" "5,9223372036854775807,1"
# impossible in place even with --allow-unsafe
def sales/events.json '{"description":"events; it'"'"'s \"quoted\"","fields":[
 {"name":"# Joins","type":"INT64"},{"name":"ts","type":"TIMESTAMP"}],
 "partitioning":{"type":"DAY","field":"ts"}}'
expect_exit 2 -- "$SLUICE" schema apply --schemas "$R" --warehouse "$WH" --allow-unsafe
check_grep "reorder blocked" "fields of the table change order  \(unsafe; not possible in place\)" "$TMP/err"

# ---- someone else changes a table between plan and apply ------------------------
def sales/events.json '{"description":"events; it'"'"'s \"quoted\"","fields":[
 {"name":"ts","type":"TIMESTAMP"},{"name":"# Joins","type":"INT64"},{"name":"extra","type":"STRING"}],
 "partitioning":{"type":"DAY","field":"ts"}}'
expect_exit 0 -- "$SLUICE" schema plan --schemas "$R" --warehouse "$WH"
check_grep "plan before the drift" "^  \+ add column extra STRING$" "$TMP/out"
"$SLUICE" query --write --warehouse "$WH" 'ALTER TABLE sales.events ALTER "# Joins" SET DATA TYPE VARCHAR' >/dev/null
expect_exit 2 -- "$SLUICE" schema apply --schemas "$R" --warehouse "$WH"
check_grep "drift explained" "changed outside Sluice: column # Joins is VARCHAR, the applied definition makes it BIGINT" "$TMP/err"
check_grep "drift advice" "find out who changed it" "$TMP/err"
check_eq "drifted table left alone" "$(q "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'events'")" "2"
expect_exit 0 -- "$SLUICE" schema apply --schemas "$R" --warehouse "$WH" --allow-unsafe
check_eq "taken as it is, then evolved" "$(qv "SELECT string_agg(data_type, ',' ORDER BY column_index) FROM duckdb_columns() WHERE table_name = 'events'")" \
    "TIMESTAMP WITH TIME ZONE,BIGINT,VARCHAR"

# ---- unreadable warehouses ---------------------------------------------------------
printf 'this is not a database\n%.0s' $(seq 200) > "$TMP/junk.duckdb"
expect_exit 4 -- "$SLUICE" schema plan --schemas "$R" --warehouse "duckdb://$TMP/junk.duckdb"
check_grep "not a database" "cannot open .*junk.duckdb" "$TMP/err"
expect_exit 4 -- "$SLUICE" schema apply --schemas "$R" --warehouse "duckdb://$TMP/junk.duckdb"
check_grep "nothing applied" "nothing was applied" "$TMP/err"
# no warehouse yet: plan shows every table as created, and creates nothing
expect_exit 0 -- "$SLUICE" schema plan --schemas "$R" --warehouse "duckdb://$TMP/no/such/dir/wh.duckdb"
check_eq "plan creates no warehouse" "$(ls "$TMP/no" 2>/dev/null | wc -l)" "0"
mkdir "$TMP/ro" && cp "$TMP/wh.duckdb" "$TMP/ro/" && chmod 500 "$TMP/ro" && chmod 400 "$TMP/ro/wh.duckdb"
if [ "$(id -u)" != 0 ]; then
    expect_exit 4 -- "$SLUICE" schema apply --schemas "$R" --warehouse "duckdb://$TMP/ro/wh.duckdb"
fi
chmod 700 "$TMP/ro"
# locked by another process: hold the file's lock as DuckDB takes it (fcntl)
python3 -c 'import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR); fcntl.lockf(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").close(); time.sleep(120)' "$TMP/wh.duckdb" "$TMP/locked" &
holder=$!
for _ in $(seq 300); do [ -e "$TMP/locked" ] && break; sleep 0.1; done
expect_exit 4 -- "$SLUICE" schema apply --schemas "$R" --warehouse "$WH" --lock-timeout 1
check_grep "lock named" "locked by pid $holder" "$TMP/err"
check_grep "nothing applied (locked)" "nothing was applied" "$TMP/err"
kill $holder; wait $holder 2>/dev/null

# ---- usage ------------------------------------------------------------------------
expect_exit 2 -- "$SLUICE" schema plan --warehouse "$WH"
check_grep "schemas required" "--schemas is required" "$TMP/err"
expect_exit 2 -- "$SLUICE" schema plan --schemas "$R" --allow-unsafe
expect_exit 2 -- "$SLUICE" schema frob
expect_exit 0 -- "$SLUICE" schema apply --help
check_grep "apply help" "--allow-unsafe" "$TMP/out"
finish
