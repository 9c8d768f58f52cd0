#!/usr/bin/env bash
# bq load users feel at home (issue 15): bq's spellings beside ours, the
# positional [PROJECT:]DATASET.TABLE SOURCE [SCHEMA], --schema (file or
# inline), --autodetect's hook, options that do not apply, option errors that
# name the command and its values, CSV header hints, the summary without
# --rejects, clear first words for UTF-16/32, padded gzip and directories, and
# the error format and exit codes of docs/ERRORS.md. The real binary against
# real DuckDB files; every failing case checks that inputs and warehouse keep
# their bytes. Self-contained (writes its inputs into $TMP); the last section
# also reads ../shared's nyc-taxi and ethereum data in place when present.
. "$(dirname "$0")/lib.sh"
sum() { if [ -e "$1" ]; then sha256sum "$1" | cut -c1-64; else echo absent; fi; }
qw() { "$SLUICE" query --warehouse "$1" --format csv "$2" | sed -n 2p; }

# ---- docs/ERRORS.md: each code's class and exit status, read from its table
doc_field() { # doc_field SL_ENAME COLUMN (2 = class, 3 = exit)
    grep "^| \`$1\` |" "$SRC/docs/ERRORS.md" | awk -F'|' -v c=$(($2 + 1)) '{ gsub(/ /, "", $c); print $c }'
}
check_eq "ERRORS.md lists SL_EUSAGE as fatal, exit 2" "$(doc_field SL_EUSAGE 2),$(doc_field SL_EUSAGE 3)" "fatal,2"
# fails CODE -- cmd...: exit CODE; every error line on stderr has the form
# "sluice CMD: error: MESSAGE [SL_ENAME, class]", and ERRORS.md gives that
# code the same class and exit status.
fails() {
    local want=$1; shift; [ "$1" = "--" ] && shift
    expect_exit "$want" -- "$@"
    local n=0 line
    while IFS= read -r line; do
        n=$((n + 1))
        if [[ "$line" =~ ^sluice\ [a-z\ ]+:\ error:\ .+\ \[(SL_E[A-Z]+),\ ([a-z]+)\]$ ]]; then
            local name=${BASH_REMATCH[1]} cls=${BASH_REMATCH[2]}
            check_eq "$name class agrees with ERRORS.md" "$cls" "$(doc_field "$name" 2)"
            check_eq "$name exit agrees with ERRORS.md ($*)" "$want" "$(doc_field "$name" 3)"
        else
            ko "error line not in ERRORS.md's form: $line"
        fi
    done < <(grep ': error: ' "$TMP/err")
    [ $n -gt 0 ] && ok || ko "no error line for: $*"
}
errs() { check_grep "$1" "$2" "$TMP/err"; }

# ---- a registry, data files -----------------------------------------------------
reg=$TMP/reg
mkdir -p "$reg/ds" "$reg/main"
cat > "$reg/ds/events.json" <<'EOF'
[{"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
 {"name": "name", "type": "STRING"},
 {"name": "ts", "type": "TIMESTAMP"}]
EOF
cat > "$reg/main/t3.json" <<'EOF'
{"fields": [{"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
            {"name": "name", "type": "STRING"},
            {"name": "note", "type": "STRING"}]}
EOF
cat > "$reg/main/s2.json" <<'EOF'
[{"name": "a", "type": "STRING"}, {"name": "b", "type": "STRING"}]
EOF
cp "$reg/ds/events.json" "$TMP/events_schema.json"
printf '%s\n' '{"id": 1, "name": "a", "ts": "2024-01-01 00:00:00", "extra": 1}' \
    '{"id": 2, "name": "b"}' '{"id": "x"}' '{"id": 4, "name": "d"}' > "$TMP/ev.ndjson"
printf '%s\n' '{"id": 7, "name": "g"}' '{"id": 8}' > "$TMP/ev2.ndjson"
in_sum=$(sum "$TMP/ev.ndjson")
cd "$TMP" || exit 1

# ---- the reference platform's import line, with `sluice load` for `bq load` --------
REF=(--source_format=NEWLINE_DELIMITED_JSON --autodetect --write_disposition=WRITE_TRUNCATE
     --max_bad_records=100 --ignore_unknown_values my-project:ds.events)
# no definition for ds.events: --autodetect infers one from the file (id holds
# 1, 2, "x", 4: INTEGER and STRING widen to STRING, docs/SCHEMAS.md §7), so all
# four rows load; the same line again with another file and WRITE_TRUNCATE
# keeps the table's schema (as bq load does for an existing table) and
# replaces its rows
mkdir -p ref && cd ref || exit 1
expect_exit 0 -- "$SLUICE" load "${REF[@]}" ../ev.ndjson
check_eq "inferred table loaded" "$(qw warehouse.duckdb 'SELECT count(*) FROM ds.events')" "4"
check_eq "id inferred as STRING" "$(qw warehouse.duckdb "SELECT data_type FROM duckdb_columns() WHERE table_name = 'events' AND column_name = 'id'")" "VARCHAR"
expect_exit 0 -- "$SLUICE" load "${REF[@]}" ../ev2.ndjson
check_grep "the existing table's schema used" "ds.events exists: its schema is used" "$TMP/out"
check_eq "WRITE_TRUNCATE replaces the rows" "$(qw warehouse.duckdb "SELECT string_agg(id, '|' ORDER BY id) FROM ds.events")" "7|8"
expect_exit 2 -- sh -c "'$SLUICE' load ${REF[*]} - < ../ev.ndjson"
check_grep "autodetect and stdin" "stdin cannot be" "$TMP/err"
cd "$TMP" || exit 1
check_eq "reference line: input intact" "$(sum ev.ndjson)" "$in_sum"
# the same line where the table has a definition: it is used, and the line loads
WH=duckdb://$TMP/ref.duckdb
expect_exit 0 -- "$SLUICE" load "${REF[@]}" --schemas "$reg" --warehouse "$WH" ev.ndjson
check_grep "ref line: 3 of 4 loaded (one bad within --max_bad_records)" "4 rows, 3 valid, 1 rejected.*loaded" "$TMP/out"
check_grep "the project is checked, then ignored" "project my-project ignored: a duckdb warehouse has no projects" "$TMP/out"
check_eq "rows in ds.events" "$(qw "$WH" "SELECT string_agg(id::VARCHAR, '|' ORDER BY id) FROM ds.events")" "1|2|4"
expect_exit 0 -- "$SLUICE" load "${REF[@]}" --schemas "$reg" --warehouse "$WH" ev2.ndjson
check_eq "--write_disposition=WRITE_TRUNCATE: only the new file's rows" \
    "$(qw "$WH" "SELECT string_agg(id::VARCHAR, '|' ORDER BY id) FROM ds.events")" "7|8"
# the line with bq's positional SCHEMA (a schema file) in place of --autodetect
WH=duckdb://$TMP/pos.duckdb
expect_exit 0 -- "$SLUICE" load --source_format=NEWLINE_DELIMITED_JSON --write_disposition=WRITE_TRUNCATE \
    --max_bad_records=100 --ignore_unknown_values --warehouse "$WH" my-project:ds.events ev.ndjson events_schema.json
check_eq "positional SCHEMA file, no registry" "$(qw "$WH" 'SELECT count(*) FROM ds.events')" "3"
check_eq "the schema's types" "$(qw "$WH" "SELECT data_type FROM information_schema.columns WHERE table_name = 'events' AND column_name = 'ts'")" \
    "TIMESTAMP WITH TIME ZONE"
# and inline, name:TYPE,... (no type: STRING; every field NULLABLE)
expect_exit 0 -- "$SLUICE" load --warehouse "$WH" --max_bad_records=1 --ignore_unknown_values ds.inline ev.ndjson 'id:INTEGER,name,ts:TIMESTAMP'
check_eq "inline schema loads" "$(qw "$WH" 'SELECT count(*), count(name) FROM ds.inline')" "3,3"
check_eq "inline: name is a STRING" "$(qw "$WH" "SELECT data_type FROM information_schema.columns WHERE table_name = 'inline' AND column_name = 'name'")" "VARCHAR"
expect_exit 0 -- "$SLUICE" validate --schema 'id:INTEGER,name:STRING,ts:TIMESTAMP' --table x \
    --max_bad_records 1 --ignore_unknown_values ev.ndjson
check_grep "--schema inline on validate" "4 rows, 3 valid, 1 rejected" "$TMP/out"
# SOURCE as bq's comma-separated list
expect_exit 0 -- "$SLUICE" validate --ignore_unknown_values --max_bad_records=5 --schemas "$reg" ds.events ev.ndjson,ev2.ndjson
check_grep "comma-separated SOURCE: both files" "total: 6 rows, 5 valid, 1 rejected" "$TMP/out"
wh_sum=$(sum pos.duckdb)
fails 2 -- "$SLUICE" load --warehouse "$WH" ds.bad ev.ndjson 'id:INTEGR'
errs "bad inline type named" "--schema id:INTEGR: .*INTEGR"
fails 2 -- "$SLUICE" load --warehouse "$WH" --schema events_schema.json --schemas "$reg" ds.events ev.ndjson
errs "--schema and --schemas together" "give the definition once"
fails 2 -- "$SLUICE" load --warehouse "$WH" --schema "$reg" ds.events ev.ndjson
errs "--schema naming a folder" "--schema $reg is a folder: for a folder of table definitions give --schemas"
fails 2 -- "$SLUICE" load --warehouse "$WH" --schema nosuch.json ds.events ev.ndjson
errs "--schema naming no file" "--schema nosuch.json: no such file"
fails 2 -- "$SLUICE" load --warehouse "$WH" ds.events ev.ndjson
errs "no definition at all" "no definition for ds.events: give --schemas DIR.*--schema FILE.*--autodetect"
check_eq "failed loads leave the warehouse's bytes" "$(sum pos.duckdb)" "$wh_sum"

# ---- our spellings and bq's give the same run --------------------------------------
for spelling in "--max-bad-records 1" "--max_bad_records 1" "--max_bad_records=1" "--max-bad-records=1"; do
    expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table ds.events --ignore_unknown_values $spelling ev.ndjson
    check_grep "$spelling" "4 rows, 3 valid, 1 rejected" "$TMP/out"
done
expect_exit 3 -- "$SLUICE" validate --schemas "$reg" --table ds.events --max_bad_records=1 ev.ndjson
check_grep "without --ignore_unknown_values the extra key is rejected" "2 rejected" "$TMP/out"
for flag in --ignore_unknown_values=true --ignore-unknown-values=TRUE --ignore_unknown_values=1; do
    expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table ds.events --max_bad_records=1 "$flag" ev.ndjson
done
for flag in --ignore_unknown_values=false --noignore_unknown_values; do
    expect_exit 3 -- "$SLUICE" validate --schemas "$reg" --table ds.events --ignore_unknown_values \
        --max_bad_records=1 "$flag" ev.ndjson
    check_grep "$flag turns it off" "2 rejected" "$TMP/out"
done
printf '1,a,x\n2,b,y\n' > rows.data
for f in "--source_format CSV" "--source_format=csv" "--source-format=Csv" "--format csv" "--format=CSV"; do
    expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table t3 $f rows.data
    check_grep "$f reads CSV" "2 rows, 2 valid" "$TMP/out"
done
for f in "--source_format NEWLINE_DELIMITED_JSON" "--source_format=newline_delimited_json" "--format ndjson" "--format jsonl"; do
    expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table ds.events --ignore_unknown_values --max_bad_records 1 $f ev.ndjson
done
fails 2 -- "$SLUICE" validate --schemas "$reg" --table t3 --source_format AVRO rows.data
errs "bq's other formats: the values validate takes" "--source_format AVRO: validate --source_format takes NEWLINE_DELIMITED_JSON \(or ndjson, json, jsonl\) or CSV"
for wd in WRITE_APPEND write_truncate WRITE_TRUNCATE_DATA WRITE_EMPTY; do
    expect_exit 0 -- "$SLUICE" load --schemas "$reg" --warehouse "duckdb://$TMP/wd_$wd.duckdb" \
        --write_disposition "$wd" --ignore_unknown_values --max_bad_records=1 ds.events ev.ndjson
done
fails 2 -- "$SLUICE" load --schemas "$reg" --warehouse "duckdb://$TMP/wd_WRITE_EMPTY.duckdb" \
    --write_disposition=WRITE_EMPTY --ignore_unknown_values --max_bad_records=1 ds.events ev2.ndjson
errs "WRITE_EMPTY into a table with rows: refused" "table ds.events is not empty"
check_eq "WRITE_EMPTY into a table with rows loads nothing" "$(qw "duckdb://$TMP/wd_WRITE_EMPTY.duckdb" 'SELECT count(*) FROM ds.events')" "3"
for o in "--schema_update_option ALLOW_FIELD_ADDITION" "--schema_update_option=allow_field_relaxation --schema_update_option ALLOW_FIELD_ADDITION"; do
    expect_exit 0 -- "$SLUICE" load --schemas "$reg" --warehouse "duckdb://$TMP/suo.duckdb" $o \
        --ignore_unknown_values --max_bad_records=1 --force ds.events ev.ndjson
done

# ---- options that do not apply, option errors naming the command and its values ------
fails 2 -- "$SLUICE" validate --schemas "$reg" --table t3 --warehouse "duckdb://$TMP/v.duckdb" rows.data
errs "--warehouse on validate" "--warehouse does not apply to validate: it is an option of load, query and schema apply"
check_eq "validate --warehouse creates nothing" "$(sum v.duckdb)" "absent"
fails 2 -- "$SLUICE" validate --schemas "$reg" --table t3 --force rows.data
errs "--force on validate" "--force does not apply to validate: it is an option of load"
fails 2 -- "$SLUICE" query --warehouse "$WH" --max_bad_records 3 "SELECT 1"
errs "--max_bad_records on query (as typed)" "--max_bad_records does not apply to query: it is an option of validate and load"
fails 2 -- "$SLUICE" schema apply --schemas "$reg" --table t3
errs "--table on schema apply" "--table does not apply to schema apply"
wh_sum=$(sum pos.duckdb)
for o in "--skip_leading_rows 1" "--header" "--field_delimiter=;" "--allow_jagged_rows" "--allow_quoted_newlines" \
         "--null_marker=NA" "--quote=\"" "--encoding ISO-8859-1" "--allow-jagged-rows=true"; do
    fails 2 -- "$SLUICE" load --schemas "$reg" --warehouse "$WH" --table ds.events $o ev.ndjson
    name=${o%% *}; name=${name%%=*}
    errs "CSV option $name on NDJSON: named, with the file" "$name is a CSV option, and ev.ndjson is read as NDJSON"
done
fails 2 -- "$SLUICE" load --schemas "$reg" --warehouse "$WH" --source_format NEWLINE_DELIMITED_JSON --skip_leading_rows 1 ds.events rows.data
errs "CSV option with an NDJSON format option" "--skip_leading_rows is a CSV option, and --source_format says the input is NDJSON"
fails 2 -- sh -c "'$SLUICE' validate --schemas '$reg' --table ds.events --allow_jagged_rows - < ev.ndjson"
errs "CSV option on stdin read as NDJSON" "standard input is read as NDJSON.*--source_format CSV"
check_eq "refused loads leave the warehouse's bytes" "$(sum pos.duckdb)" "$wh_sum"
check_eq "and the input's" "$(sum ev.ndjson)" "$in_sum"
expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table ds.events --encoding UTF-8 --ignore_unknown_values --max_bad_records 1 ev.ndjson
cp rows.data rows.csv
expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table t3 --skip_leading_rows=0 --field_delimiter=, rows.csv
fails 2 -- "$SLUICE" validate --schemas "$reg" --table t3 --skip_leading_rows=0 rows.csv ev.ndjson
errs "CSV option, mixed inputs: the NDJSON one named" "--skip_leading_rows is a CSV option, and ev.ndjson is read as NDJSON"
# values: each error names the command and what it takes
fails 2 -- "$SLUICE" query --warehouse "$WH" --format xml "SELECT 1"
errs "query --format values" "--format xml: query --format takes table, csv or json"
expect_exit 0 -- "$SLUICE" query --warehouse "$WH" --format table "SELECT 42 AS answer"
check_grep "query --format table works (as documented)" "answer" "$TMP/out"
check_grep "query --format table prints a table" "42" "$TMP/out"
fails 2 -- "$SLUICE" validate --schemas "$reg" --table t3 --format table rows.csv
errs "validate --format values" "--format table: validate --format takes NEWLINE_DELIMITED_JSON"
fails 2 -- "$SLUICE" load --schemas "$reg" --warehouse "$WH" --write_disposition WRITE_SOMETIMES ds.events ev.ndjson
errs "load --write_disposition values" "load --write_disposition takes WRITE_APPEND, WRITE_TRUNCATE \(or WRITE_TRUNCATE_DATA\) or WRITE_EMPTY"
fails 2 -- "$SLUICE" load --schemas "$reg" --warehouse "$WH" --schema_update_option ALLOW_EVERYTHING ds.events ev.ndjson
errs "--schema_update_option values" "load --schema_update_option takes ALLOW_FIELD_ADDITION or ALLOW_FIELD_RELAXATION"
fails 2 -- "$SLUICE" validate --schemas "$reg" --table t3 --max_bad_records=-1 rows.csv
errs "--max_bad_records values" "validate --max_bad_records takes a number of records"
fails 2 -- "$SLUICE" validate --schemas "$reg" --table t3 --threads 0 rows.csv
errs "--threads values" "validate --threads takes a number of threads, 1 to 64"
fails 2 -- "$SLUICE" validate --schemas "$reg" --table t3 --encoding UTF-16LE rows.csv
errs "--encoding values" "validate --encoding takes UTF-8 or ISO-8859-1"
fails 2 -- "$SLUICE" validate --schemas "$reg" --table t3 --header=maybe rows.csv
errs "a flag's value" "--header takes no value \(or bq's =true / =false\)"
fails 2 -- "$SLUICE" validate --schemas "$reg" --table t3 rows.csv --max_bad_records
errs "a missing value" "--max_bad_records needs a value"
fails 2 -- "$SLUICE" validate --schemas "$reg" --table t3 --max_bad_recods=3 rows.csv
errs "unknown option: the nearest" "unknown option --max_bad_recods; did you mean --max-bad-records\?"
fails 2 -- "$SLUICE" validate --schemas "$reg" --table t3 --replac rows.csv
errs "unknown option: the nearest, of another command" "did you mean --replace \(an option of load\)\?"
fails 2 -- "$SLUICE" frobnicate
errs "unknown command" "sluice frobnicate: error: unknown command"

# ---- the positional form's mistakes, --schemas mistakes --------------------------------
fails 2 -- "$SLUICE" load --schemas "$reg" --warehouse "$WH" ds.events
errs "no SOURCE" "no SOURCE after the table"
fails 2 -- "$SLUICE" load --schemas "$reg" --warehouse "$WH" ds.events ev.ndjson ev2.ndjson events_schema.json
errs "too many positionals" "too many arguments.*comma-separated SOURCE"
fails 2 -- "$SLUICE" load --schemas "$reg" --warehouse "$WH" My_Project:ds.events ev.ndjson
errs "a project that is no project id" "'My_Project' is not a project id"
expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --ignore_unknown_values --max_bad_records=1 example.com:my-project:ds.events ev.ndjson
fails 2 -- "$SLUICE" load --schemas "$reg" --warehouse "$WH" 'ds.ev$20240101' ev.ndjson
errs "a table name bq would not take here" "not a \[PROJECT:\]DATASET.TABLE"
fails 2 -- "$SLUICE" validate --schemas "$reg" ev.ndjson
errs "a file first, no --table" "no table: ev.ndjson is a file, not a table"
fails 2 -- "$SLUICE" validate --schemas "$TMP/nosuch" --table t3 rows.csv
errs "--schemas missing: the path" "--schemas $TMP/nosuch: No such file or directory"
fails 2 -- "$SLUICE" validate --schemas "$reg/main/t3.json" --table t3 rows.csv
errs "--schemas a file: the path, and --schema" "--schemas $reg/main/t3.json is a file, not a folder of table definitions; for one schema file give --schema"
fails 2 -- "$SLUICE" schema apply --schemas "$reg/main/t3.json" --warehouse "duckdb://$TMP/apply.duckdb"
errs "schema apply: --schemas a file" "--schemas $reg/main/t3.json is a file"
check_eq "schema apply with a bad --schemas creates nothing" "$(sum apply.duckdb)" "absent"
fails 2 -- "$SLUICE" validate --schemas "$reg" --table nope rows.csv
errs "a table not defined: what is" "table nope is not defined in $reg.*it defines ds.events, main.s2, main.t3"

# ---- CSV headers ------------------------------------------------------------------------
# a header the options do not mention: the hint says --header, never --allow-jagged-rows
printf 'id,name\n1,a\n2,b\n' > hdr2.csv
cp hdr2.csv hdr2_orig.csv
expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table t3 --allow_jagged_rows --max_bad_records=1 --rejects hdr.rej hdr2.csv
check_grep "the header row is the reject" '"line":1,"record":1,' hdr.rej
check_grep "it says --header or --skip-leading-rows 1" \
    "This row looks like a header: 2 of its 2 values are field names \(id, name\); use --header to match columns by name, or --skip-leading-rows 1 to skip it" hdr.rej
fails 3 -- "$SLUICE" validate --schemas "$reg" --table t3 --rejects hdr.rej hdr2.csv
check_eq "without --allow-jagged-rows: no reject suggests it for the header" "$(head -n 1 hdr.rej | grep -c jagged)" "0"
check_grep "the header's reject is on stderr too" "looks like a header" "$TMP/err"
printf 'title\nID,Name,Note\n1,a,b\n' > hdr3.csv
expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table t3 --skip_leading_rows 1 --max_bad_records 1 --rejects hdr3.rej hdr3.csv
check_grep "after skipped rows: --skip-leading-rows N+1" "or --skip-leading-rows 2 to skip it" hdr3.rej
# the same on two threads (a file over 1 MB is split; the first part holds it)
{ echo "id,name,note"; awk 'BEGIN { for (i = 1; i <= 120000; i++) print i ",name " i ",note" }'; } > big.csv
for t in 1 2; do
    expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table t3 --threads $t --max_bad_records 1 --rejects big$t.rej big.csv
    check_grep "-t$t: 120001 rows, 1 rejected" "120001 rows, 120000 valid, 1 rejected" "$TMP/out"
    check_grep "-t$t: the header hint" '"record":1,.*looks like a header: 3 of its 3' big$t.rej
done
# all-STRING columns: the header is valid data: a warning
printf 'A,B\nx,y\n' > s2.csv
expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table s2 s2.csv
errs "a header taken as data is a warning" "warning: s2.csv: its first row looks like a header .* and was read as data; if it is one, say --header \(or --skip-leading-rows 1\)"
expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table s2 --header s2.csv
check_eq "with --header: no warning" "$(grep -c warning "$TMP/err")" "0"
# a header that cannot be parsed: an error, never columns by position
printf 'id,"na\nme",note\n1,a,b\n' > badhdr.csv
WHC=duckdb://$TMP/csv.duckdb
expect_exit 0 -- "$SLUICE" schema apply --schemas "$reg" --warehouse "$WHC"
wh_sum=$(sum csv.duckdb)
for t in 1 2; do
    fails 3 -- "$SLUICE" load --schemas "$reg" --warehouse "$WHC" --table t3 --header --threads $t badhdr.csv
    errs "unreadable header (-t$t)" "badhdr.csv: line 1: the header row cannot be read: quoted newline not allowed \(column 2\)"
done
{ printf 'id,"na\nme",note\n'; cat big.csv; } > badhdr_big.csv
fails 3 -- "$SLUICE" validate --schemas "$reg" --table t3 --header --threads 2 badhdr_big.csv
errs "unreadable header, split file" "the header row cannot be read"
# (a load on DuckDB's threads meets it while planning the split: under ASan
# this also checks that the half-made split is freed)
fails 3 -- "$SLUICE" load --schemas "$reg" --warehouse "$WHC" --table t3 --header --threads 2 badhdr_big.csv
errs "unreadable header, split file, load" "the header row cannot be read.*nothing of this file was loaded"
check_eq "unreadable header: nothing loaded" "$(qw "$WHC" 'SELECT count(*) FROM t3')" "0"
# --header: columns that are no field and fields no column fills, listed once at the start
printf 'name,zz,ID,yy\na,1,1,2\nb,1,2,2\n' > hdrx.csv
fails 3 -- "$SLUICE" load --schemas "$reg" --warehouse "$WHC" --table t3 --header hdrx.csv
errs "every unknown column listed" 'header column 2 "zz" is not a field of main.t3 \(nor are columns 4 "yy"\); fields no column fills: note; use --ignore-unknown-values'
check_eq "unknown columns: nothing loaded" "$(qw "$WHC" 'SELECT count(*) FROM t3')" "0"
expect_exit 0 -- "$SLUICE" load --schemas "$reg" --warehouse "$WHC" --table t3 --header --ignore_unknown_values hdrx.csv
check_eq "dropped columns noted once" "$(grep -c 'note: hdrx.csv: header columns 2 "zz", 4 "yy" are no field of main.t3: dropped' "$TMP/err")" "1"
check_eq "unfilled fields noted once" "$(grep -c 'note: hdrx.csv: no header column for note: NULL in every row' "$TMP/err")" "1"
check_eq "by header name" "$(qw "$WHC" "SELECT string_agg(id || name || coalesce(note, '-'), '|' ORDER BY id) FROM t3")" "1a-|2b-"
# a REQUIRED field no column fills: noted, every row rejected, and the likely cause said
printf 'name,note\na,x\nb,y\n' > noid.csv
expect_exit 0 -- "$SLUICE" load --schemas "$reg" --warehouse "$WHC" --table t3 --header --max_bad_records 10 --rejects noid.rej noid.csv
errs "REQUIRED field with no column: noted" "note: noid.csv: no header column for REQUIRED id: every row will be rejected"
check_eq "each reject says why" "$(grep -c 'Only optional fields can be set to NULL. Field: id; Value: NULL (the header has no column for it)' noid.rej)" "2"
errs "a loaded file whose every row failed: the likely cause" "warning: noid.csv: every row was rejected \(2\); likely cause: every row fails on field id: .*the header has no column for it"

# ---- the summary without --rejects -----------------------------------------------------
printf '1,a,x\nz,b,y\n3\n' > some_bad.csv
expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table t3 --max_bad_records 5 some_bad.csv
check_grep "how many, and how to keep them all" "^  2 rejected records; the first 5 of the run are shown on stderr; --rejects FILE keeps every one" "$TMP/out"
expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table t3 --max_bad_records 5 --rejects sb.rej some_bad.csv
check_eq "with --rejects no such line" "$(grep -c 'keeps every one' "$TMP/out")" "0"
for i in $(seq 8); do echo "x$i,a,b"; done > eight_bad.csv
expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table t3 --max_bad_records 10 eight_bad.csv
check_eq "only 5 shown" "$(grep -c 'reject:' "$TMP/err")" "5"
check_grep "8 counted, and the way to keep them all" "8 rejected records; .*--rejects FILE keeps every one" "$TMP/out"

# ---- every row rejected: the likely cause -------------------------------------------------
cp rows.data rows_as.ndjson
fails 3 -- "$SLUICE" validate --schemas "$reg" --table t3 rows_as.ndjson
errs "CSV read as NDJSON" "every row was rejected \(2\); likely cause: no row is JSON: if the file is CSV, say --source_format CSV"
printf '1;a;x\n2;b;y\n' > semi.csv
fails 3 -- "$SLUICE" validate --schemas "$reg" --table t3 semi.csv
errs "the wrong delimiter" "likely cause: every record is one column: the delimiter is not ','"
expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table t3 --field_delimiter=';' semi.csv
cp ev.ndjson ev_as.csv
fails 3 -- "$SLUICE" validate --schemas "$reg" --table t3 ev_as.csv
errs "NDJSON read as CSV" "likely cause: the file looks like NDJSON \(it starts with '\{'\), read as CSV: say --source_format NEWLINE_DELIMITED_JSON"
printf '1,"a"x,b\n2,"b"y,c\n' > quoted.csv
fails 3 -- "$SLUICE" validate --schemas "$reg" --table t3 quoted.csv
errs "records that are not CSV" "likely cause: records do not parse as CSV \(delimiter ',', quote '\"'\)"

# ---- clear first words for wrong inputs ---------------------------------------------------
WHI=duckdb://$TMP/inputs.duckdb
expect_exit 0 -- "$SLUICE" schema apply --schemas "$reg" --warehouse "$WHI"
head -n 2 ev.ndjson > two.ndjson
{ printf '\xff\xfe'; iconv -f UTF-8 -t UTF-16LE two.ndjson; } > u16le_bom.ndjson
iconv -f UTF-8 -t UTF-16BE two.ndjson > u16be.ndjson
iconv -f UTF-8 -t UTF-32LE two.ndjson > u32le.ndjson
{ printf '\x00\x00\xfe\xff'; iconv -f UTF-8 -t UTF-32BE two.ndjson; } > u32be_bom.ndjson
gzip -c u16be.ndjson > u16be.ndjson.gz
wh_sum=$(sum inputs.duckdb)
for c in "u16le_bom.ndjson UTF-16LE byte.order.mark.FF.FE" "u16be.ndjson UTF-16BE NUL.bytes.between" \
         "u32le.ndjson UTF-32LE NUL.bytes.between" "u32be_bom.ndjson UTF-32BE mark.00.00.FE.FF" \
         "u16be.ndjson.gz UTF-16BE once.decompressed.*gzip.-dc.u16be.ndjson.gz.\|"; do
    set -- $c
    before=$(sum "$1")
    for t in 1 2; do
        fails 3 -- "$SLUICE" load --schemas "$reg" --warehouse "$WHI" --table ds.events --ignore_unknown_values --threads $t "$1"
        errs "$1: the encoding first (-t$t)" "load: error: $1 is $2 text .*$3.*iconv -f $2 -t UTF-8"
        errs "$1: nothing loaded" "nothing of this file was loaded"
    done
    check_eq "$1 intact" "$(sum "$1")" "$before"
done
check_eq "wrong encodings: the warehouse's bytes" "$(sum inputs.duckdb)" "$wh_sum"
fails 3 -- sh -c "'$SLUICE' validate --schemas '$reg' --table ds.events - < u16le_bom.ndjson"
errs "stdin: the encoding, and a pipe" "standard input is UTF-16LE text .*iconv -f UTF-16LE -t UTF-8 FILE \| sluice"
# the advice works: run the command the message gives
"$SLUICE" validate --schemas "$reg" --table ds.events u16be.ndjson > /dev/null 2> "$TMP/err"
cmd=$(sed -n 's/.*convert it first, e\.g\. \(iconv [^[]*[^ ]\) \[SL_ECORRUPT.*/\1/p' "$TMP/err")
check_eq "the advice is a command" "$cmd" "iconv -f UTF-16BE -t UTF-8 u16be.ndjson > u16be.ndjson.utf8"
sh -c "$cmd"
expect_exit 0 -- "$SLUICE" validate --schemas "$reg" --table ds.events --ignore_unknown_values u16be.ndjson.utf8
check_grep "converted as advised, it reads" "2 rows, 2 valid, 0 rejected" "$TMP/out"
# gzip with trailing zero padding: accepted, as gzip itself does
gzip -c ev2.ndjson > pad.ndjson.gz
head -c 4096 /dev/zero >> pad.ndjson.gz
gzip -dc pad.ndjson.gz > /dev/null 2>&1
check_eq "gzip accepts the padding (exit 0 or its warning 2)" "$([ $? -le 2 ] && echo yes)" "yes"
expect_exit 0 -- "$SLUICE" load --schemas "$reg" --warehouse "$WHI" --table ds.events pad.ndjson.gz
check_grep "padded gzip loads" "2 rows, 2 valid, 0 rejected.*loaded" "$TMP/out"
check_eq "padded gzip: rows" "$(qw "$WHI" 'SELECT count(*) FROM ds.events')" "2"
printf 'junk' >> pad.ndjson.gz
fails 3 -- "$SLUICE" validate --schemas "$reg" --table ds.events pad.ndjson.gz
errs "padding then other bytes" "data after the zero padding that ends the gzip stream"
# a directory
mkdir -p somedir
fails 3 -- "$SLUICE" validate --schemas "$reg" --table ds.events somedir
errs "a directory, first words" "validate: error: somedir is a directory, not a data file: give the files in it"

# ---- real data, read in place from ../shared ------------------------------------------------
NYC=$SHARED/data/nyc-taxi
if [ -d "$NYC" ]; then
    D=$NYC/tests/test_sets/taxi_yellow_tripdata_samples
    SCH=$NYC/public-datasets-pipelines/yellow_trips_schema.json
    W=duckdb://$TMP/nyc.duckdb
    n=$(($(grep -c . "$D/yellow_tripdata_sample_2018-01.csv") - 1))
    # by position, as bq load would read it without options: the header row is
    # the first reject and says what to do
    fails 3 -- "$SLUICE" load --warehouse "$W" --source_format=CSV nyc-demo:tlc.trips "$D/yellow_tripdata_sample_2018-01.csv" "$SCH"
    errs "nyc 2018: the header is named as such" "reject: .*2018-01.csv:1 .*This row looks like a header"
    check_eq "nyc 2018: nothing loaded" "$(qw "$W" 'SELECT count(*) FROM tlc.trips')" "0"
    # by name with bq's spellings and the positional schema file
    expect_exit 0 -- "$SLUICE" load --warehouse "$W" --source_format=CSV --header --ignore_unknown_values \
        --max_bad_records=100 my-project:tlc.trips "$D/yellow_tripdata_sample_2018-01.csv" "$SCH"
    check_grep "nyc 2018 by header" "$n rows, $n valid, 0 rejected.*loaded" "$TMP/out"
    errs "nyc 2018: the dropped columns, once" "note: .*2018-01.csv: header columns .*\"rate_code_id\".* dropped"
    # 2021 names no column vendor_id (REQUIRED): noted first, every row rejected, cause said
    expect_exit 0 -- "$SLUICE" load --warehouse "$W" --source_format=CSV --header --ignore_unknown_values \
        --max_bad_records=1000 tlc.trips "$D/samples_2021/yellow_tripdata_sample_2021.csv" "$SCH"
    errs "nyc 2021: the missing REQUIRED column noted" "no header column for REQUIRED vendor_id: every row will be rejected"
    errs "nyc 2021: the likely cause" "every row was rejected \(1000\); likely cause: every row fails on field vendor_id"
else
    echo "skipped: $NYC not found (../shared is absent)"
fi
ETH=$SHARED/data/ethereum
if [ -d "$ETH" ]; then
    F=$ETH/data/tests/resources/test_stream/blocks_1755634_1755635/expected_transactions.json
    W=duckdb://$TMP/eth.duckdb
    n=$(grep -c . "$F")
    f_sum=$(sum "$F")
    # the reference line, the table's schema as bq's positional SCHEMA
    expect_exit 0 -- "$SLUICE" load --warehouse "$W" --source_format=NEWLINE_DELIMITED_JSON --write_disposition=WRITE_TRUNCATE \
        --max_bad_records=100 --ignore_unknown_values my-project:crypto_ethereum.transactions "$F" \
        "$ETH/schemas/raw/schemas/transactions.json"
    check_grep "ethereum: the reference line loads" "$n rows, $n valid, 0 rejected.*loaded" "$TMP/out"
    check_eq "ethereum: rows" "$(qw "$W" 'SELECT count(*) FROM crypto_ethereum.transactions')" "$n"
    check_eq "ethereum: input intact" "$(sum "$F")" "$f_sum"
    fails 3 -- "$SLUICE" validate --source_format=NEWLINE_DELIMITED_JSON crypto_ethereum.transactions "$F" \
        "$ETH/schemas/raw/schemas/transactions.json"
    errs "ethereum: without --ignore_unknown_values, every row fails on an extra key" "every row was rejected \($n\); likely cause"
else
    echo "skipped: $ETH not found (../shared is absent)"
fi

finish
