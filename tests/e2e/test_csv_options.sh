#!/usr/bin/env bash
# End to end: every CSV option of `sluice load` (named as in bq load) against a
# real DuckDB file, plus the CSV semantics of docs/BIGQUERY.md section 3: null
# rules, header mapping, extra/missing columns, CRLF, BOM, blank lines, invalid
# UTF-8, JSON columns, and the record/line numbers of rejects. The CSV files and
# the registry are written into $TMP at run time.
. "$(dirname "$0")/lib.sh"
# self-contained (writes all its input into $TMP): runs even without ../shared

reg=$TMP/reg/main
mkdir -p "$reg"
cat > "$reg/t.json" <<'EOF'
{"fields": [
  {"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
  {"name": "name", "type": "STRING"},
  {"name": "note", "type": "STRING"},
  {"name": "amount", "type": "FLOAT"},
  {"name": "b", "type": "BYTES"}
]}
EOF
cat > "$reg/typed.json" <<'EOF'
{"fields": [
  {"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
  {"name": "s", "type": "STRING"},
  {"name": "n", "type": "INTEGER"},
  {"name": "f", "type": "FLOAT"},
  {"name": "ok", "type": "BOOLEAN"},
  {"name": "d", "type": "DATE"},
  {"name": "ts", "type": "TIMESTAMP"},
  {"name": "num", "type": "NUMERIC"},
  {"name": "bt", "type": "BYTES"}
]}
EOF
cat > "$reg/jt.json" <<'EOF'
{"fields": [
  {"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
  {"name": "doc", "type": "JSON"}
]}
EOF
# one nullable column: a blank line is still no row (not a NULL)
cat > "$reg/one.json" <<'EOF'
{"fields": [{"name": "n", "type": "INTEGER"}]}
EOF
# the last column is REQUIRED: a jagged row missing it is still a bad record
cat > "$reg/req_last.json" <<'EOF'
{"fields": [
  {"name": "id", "type": "INTEGER"},
  {"name": "name", "type": "STRING"},
  {"name": "code", "type": "STRING", "mode": "REQUIRED"}
]}
EOF

# ld CASE TABLE FILE [options]: load FILE into its own warehouse $TMP/CASE.duckdb
# (exit code in $?, stdout in $TMP/out, stderr in $TMP/err, rejects in $TMP/CASE.rej)
ld() {
    local c=$1 t=$2 f=$3; shift 3
    "$SLUICE" load --schemas "$TMP/reg" --table "$t" --warehouse "duckdb://$TMP/$c.duckdb" \
        --rejects "$TMP/$c.rej" "$@" "$f" >"$TMP/out" 2>"$TMP/err"
}
# load CASE TABLE FILE [options]: must succeed (exit 0)
load() {
    local c=$1
    ld "$@"
    local rc=$?
    if [ "$rc" = 0 ]; then ok; else
        ko "$c: load exit $rc"; sed 's/^/    /' "$TMP/err" | head -n 10 >&2; fi
}
# qc CASE SQL: every result row as CSV (no header), rows joined by '|'
qc() {
    "$SLUICE" query --warehouse "duckdb://$TMP/$1.duckdb" --format csv "$2" | tail -n +2 |
        tr '\n' '|' | sed 's/|$//'
}
# qj CASE SQL: every result row as JSON, rows joined by '|'
qj() {
    "$SLUICE" query --warehouse "duckdb://$TMP/$1.duckdb" --format json "$2" | tr '\n' '|' |
        sed 's/|$//'
}
# rej CASE KEY: the values of KEY over the rejects of CASE, joined by ' '
rej() { sed -E "s/.*\"$2\":(\"[^\"]*\"|[0-9]+|null).*/\1/" "$TMP/$1.rej" | tr '\n' ' ' | sed 's/ $//'; }
nrej() { wc -l < "$TMP/$1.rej" | tr -d ' '; }
summary() { check_grep "$1: summary" "$2" "$TMP/out"; }

# ---- defaults: comma, double quote, "" escapes, null semantics -------------------
printf '1,"Smith, J.","said ""hi""",1.5,AAE=\n2,,"",,\n3,"",x,"",""\n' > "$TMP/defaults.csv"
load defaults t "$TMP/defaults.csv"
summary defaults "3 rows, 3 valid, 0 rejected"
check_eq "quoted delimiter and doubled quotes" \
    "$(qj defaults "SELECT name, note, amount, hex(b) AS b FROM t WHERE id = 1")" \
    '{"name":"Smith, J.","note":"said \"hi\"","amount":1.5,"b":"0001"}'
# unquoted empty: NULL for every type
check_eq "unquoted empty is NULL" \
    "$(qc defaults "SELECT name IS NULL, amount IS NULL, b IS NULL FROM t WHERE id = 2")" "true,true,true"
# quoted empty "": '' for STRING and BYTES, NULL for other types
check_eq "quoted empty STRING is ''" "$(qc defaults "SELECT note = '', name = '' FROM t WHERE id IN (2, 3) ORDER BY id")" "true,|false,true"
check_eq "quoted empty FLOAT is NULL" "$(qc defaults "SELECT amount IS NULL FROM t WHERE id = 3")" "true"
check_eq "quoted empty BYTES is ''" "$(qc defaults "SELECT octet_length(b) FROM t WHERE id = 3")" "0"
# the same rules over more types
printf '1,,,,,,,,\n2,"","","","","","","",""\n' > "$TMP/typed.csv"
load typed typed "$TMP/typed.csv"
check_eq "typed: unquoted empty all NULL" \
    "$(qc typed "SELECT count(*) FROM typed WHERE id = 1 AND s IS NULL AND n IS NULL AND f IS NULL AND ok IS NULL AND d IS NULL AND ts IS NULL AND num IS NULL AND bt IS NULL")" "1"
check_eq "typed: quoted empty NULL except STRING/BYTES" \
    "$(qc typed "SELECT s, octet_length(bt), n IS NULL AND f IS NULL AND ok IS NULL AND d IS NULL AND ts IS NULL AND num IS NULL FROM typed WHERE id = 2")" '"",0,true'
# values of every type arrive parsed
printf '3,x,-42,2.5e3,yes,2024-02-29,2024-01-02 03:04:05 UTC,12345678901234567890.123456789,AAE=\n' > "$TMP/typed2.csv"
load typed2 typed "$TMP/typed2.csv"
check_eq "typed values" \
    "$(qc typed2 "SELECT n, f, ok, d, ts AT TIME ZONE 'UTC', num::VARCHAR, hex(bt) FROM typed")" \
    "-42,2500,true,2024-02-29,2024-01-02 03:04:05,12345678901234567890.123456789,0001"
# a missing REQUIRED value is a bad record (unquoted empty = NULL)
printf ',a,b,1,\n' > "$TMP/reqnull.csv"
ld reqnull t "$TMP/reqnull.csv"
check_eq "REQUIRED empty: exit 3" "$?" "3"
check_eq "REQUIRED empty: field named" "$(rej reqnull field)" '"id"'
check_grep "REQUIRED empty: reason" "Only optional fields can be set to NULL" "$TMP/reqnull.rej"

# ---- --skip-leading-rows N -------------------------------------------------------
printf 'title line\nid,name,note,amount,b\n1,a,,,\n2,b,,,\n' > "$TMP/skip.csv"
load skip t "$TMP/skip.csv" --skip-leading-rows 2
summary skip "2 rows, 2 valid, 0 rejected"
check_eq "skip: rows" "$(qc skip "SELECT id || name FROM t ORDER BY id")" "1a|2b"
ld skip0 t "$TMP/skip.csv"
check_eq "skip 0: the title rows are bad records" "$?" "3"
printf 'id\n1,a,,,\n' > "$TMP/skipall.csv"
load skipall t "$TMP/skipall.csv" --skip-leading-rows 5
summary skipall "0 rows, 0 valid, 0 rejected"
expect_exit 2 -- "$SLUICE" validate --schemas "$TMP/reg" --table t --skip-leading-rows -1 "$TMP/skip.csv"

# ---- --field-delimiter C ---------------------------------------------------------
printf '1|a,b|"x|y"|1.5|\n' > "$TMP/pipe.csv"
load pipe t "$TMP/pipe.csv" --field-delimiter '|'
check_eq "pipe delimiter" "$(qc pipe "SELECT name, note, amount FROM t")" '"a,b",x|y,1.5'
printf '1\ta,b\t"x\ty"\t2\t\n' > "$TMP/tab.csv"
for d in '\t' tab "$(printf '\t')"; do
    load "tab_$(echo "$d" | tr -dc a-z)" t "$TMP/tab.csv" --field-delimiter "$d"
done
check_eq "tab delimiter '\\t'" "$(qc tab_t "SELECT name, note, amount FROM t")" '"a,b",x	y,2'
check_eq "tab delimiter 'tab'" "$(qc tab_tab "SELECT name, note FROM t")" '"a,b",x	y'
check_eq "tab delimiter (a real TAB)" "$(qc tab_ "SELECT name FROM t")" '"a,b"'
# without the option the comma splits the line: too many/few columns -> bad record
ld tabdef t "$TMP/tab.csv"
check_eq "tab file with comma delimiter: exit 3" "$?" "3"
# --field-delimiter=VALUE form, and a .tsv file name
cp "$TMP/tab.csv" "$TMP/tabname.tsv"
load tsv t "$TMP/tabname.tsv" --field-delimiter=tab
check_eq ".tsv is CSV" "$(qc tsv "SELECT count(*) FROM t")" "1"
expect_exit 2 -- "$SLUICE" validate --schemas "$TMP/reg" --table t --field-delimiter ab "$TMP/tab.csv"
expect_exit 2 -- "$SLUICE" validate --schemas "$TMP/reg" --table t --field-delimiter '' "$TMP/tab.csv"

# ---- --quote C and --quote '' ------------------------------------------------------
printf "1,'a,b','it''s',,\n2,\"q\",x,,\n" > "$TMP/squote.csv"
load squote t "$TMP/squote.csv" --quote "'"
check_eq "single quote: quoted comma, doubled quote" "$(qj squote "SELECT name, note FROM t WHERE id = 1")" \
    "{\"name\":\"a,b\",\"note\":\"it's\"}"
check_eq "single quote: double quotes are plain text" "$(qj squote "SELECT name FROM t WHERE id = 2")" \
    '{"name":"\"q\""}'
printf '1,"a","b' > "$TMP/noquote.csv"
load noquote t "$TMP/noquote.csv" --quote '' --allow-jagged-rows
check_eq "quoting disabled: quotes kept" "$(qj noquote "SELECT name, note, amount FROM t")" \
    '{"name":"\"a\"","note":"\"b","amount":null}'
ld noquote_def t "$TMP/noquote.csv" --allow-jagged-rows
check_eq "same file with quoting: unterminated quote is a bad record" "$?" "3"
check_grep "unterminated quote reason" "unterminated quoted field" "$TMP/noquote_def.rej"

# ---- --allow-quoted-newlines ----------------------------------------------------------
printf '1,"multi\nline",n,,\n2,b,,,\n3,"two\r\nbreaks\nhere",x,,\n4,d,,,\n' > "$TMP/qnl.csv"
load qnl t "$TMP/qnl.csv" --allow-quoted-newlines
summary qnl "4 rows, 4 valid, 0 rejected"
check_eq "quoted LF kept" "$(qj qnl "SELECT name FROM t WHERE id = 1")" '{"name":"multi\u000aline"}'
check_eq "quoted CRLF kept verbatim" "$(qj qnl "SELECT name FROM t WHERE id = 3")" '{"name":"two\u000d\u000abreaks\u000ahere"}'
check_eq "rows after a quoted newline" "$(qc qnl "SELECT string_agg(name, ';' ORDER BY id) FROM t WHERE id IN (2, 4)")" "b;d"
# without it the newline ends the record: a bad record (and its tail is another)
ld qnl_no t "$TMP/qnl.csv" --max-bad-records 100
check_eq "quoted newline not allowed: exit 0 within the limit" "$?" "0"
check_grep "quoted newline reason" "quoted newline not allowed" "$TMP/qnl_no.rej"
check_eq "quoted newline: good rows still load" "$(qc qnl_no "SELECT string_agg(id::VARCHAR, ';' ORDER BY id) FROM t")" "2;4"
ld qnl_no0 t "$TMP/qnl.csv"
check_eq "quoted newline not allowed: exit 3" "$?" "3"

# ---- --allow-jagged-rows ------------------------------------------------------------------
printf '1,a,n,2.5,AAE=\n2,b\n3\n' > "$TMP/jag.csv"
load jag t "$TMP/jag.csv" --allow-jagged-rows
summary jag "3 rows, 3 valid, 0 rejected"
check_eq "jagged: missing trailing columns are NULL" \
    "$(qc jag "SELECT id, name IS NULL, note IS NULL, amount IS NULL, b IS NULL FROM t ORDER BY id")" \
    "1,false,false,false,false|2,false,true,true,true|3,true,true,true,true"
ld jag_no t "$TMP/jag.csv" --max-bad-records 5
check_eq "jagged without the option: 2 bad records" "$(nrej jag_no)" "2"
check_grep "jagged reason" "Too few values in row" "$TMP/jag_no.rej"
check_eq "jagged without the option: record numbers" "$(rej jag_no record)" "2 3"
printf '1,a,X\n2,b\n3,c,\n' > "$TMP/jagreq.csv"
ld jagreq req_last "$TMP/jagreq.csv" --allow-jagged-rows --max-bad-records 5
check_eq "jagged: missing REQUIRED column still rejected" "$(rej jagreq record)" "2 3"
check_eq "jagged: REQUIRED field named" "$(rej jagreq field)" '"code" "code"'
check_eq "jagged: the good row" "$(qc jagreq "SELECT id, code FROM req_last")" "1,X"

# ---- --null-marker S ----------------------------------------------------------------------
printf '1,\\N,"\\N",\\N,\\N\n2,,"",3,\n3,x,y,,\n4,NULL,\\Nx,1,\n' > "$TMP/nm.csv"
ld nm t "$TMP/nm.csv" --null-marker '\N' --max-bad-records 5
check_eq "null marker: exit 0" "$?" "0"
check_eq "marker (quoted or not) is NULL for every type" \
    "$(qc nm "SELECT name IS NULL, note IS NULL, amount IS NULL, b IS NULL FROM t WHERE id = 1")" "true,true,true,true"
# empty STRING/BYTES with a custom marker: '' (quoted or not)
check_eq "empty STRING with a marker is ''" "$(qc nm "SELECT name = '', note = '', octet_length(b) FROM t WHERE id = 2")" "true,true,0"
# empty FLOAT with a custom marker: an error
check_eq "empty non-STRING with a marker: rejected" "$(rej nm record)" "3"
check_eq "empty non-STRING with a marker: field" "$(rej nm field)" '"amount"'
check_grep "empty non-STRING with a marker: reason" "Empty value for FLOAT with a custom null marker" "$TMP/nm.rej"
check_eq "only the exact marker is NULL" "$(qc nm "SELECT name, note FROM t WHERE id = 4")" 'NULL,\Nx'
printf '1,NULL,x,NULL,\n' > "$TMP/nm2.csv"
load nm2 t "$TMP/nm2.csv" --null-marker NULL
check_eq "marker NULL" "$(qc nm2 "SELECT name IS NULL, amount IS NULL, note FROM t")" "true,true,x"

# ---- --encoding ISO-8859-1 --------------------------------------------------------------------
# "café", "naïve, ©" and "Straße" in Latin-1 bytes
printf '1,caf\xe9,"na\xefve, \xa9",,\n2,Stra\xdfe,\xff,,\n' > "$TMP/latin1.csv"
load latin1 t "$TMP/latin1.csv" --encoding ISO-8859-1
check_eq "latin1 -> UTF-8" "$(qc latin1 "SELECT name || '|' || note FROM t ORDER BY id")" "\"café|naïve, ©\"|Straße|ÿ"
check_eq "latin1: é is one character, two bytes" "$(qc latin1 "SELECT length(name), strlen(name) FROM t WHERE id = 1")" "4,5"
load latin1b t "$TMP/latin1.csv" --encoding=iso_8859_1
check_eq "latin1 spelled ISO_8859_1" "$(qc latin1b "SELECT name FROM t WHERE id = 2")" "Straße"
# the same bytes read as UTF-8 (the default): invalid UTF-8, bad records, no crash
ld latin1_utf8 t "$TMP/latin1.csv" --max-bad-records 5
check_eq "latin1 bytes read as UTF-8: rejected" "$(rej latin1_utf8 record)" "1 2"
check_grep "invalid UTF-8 reason" "Invalid UTF-8 in field. Field: name" "$TMP/latin1_utf8.rej"
expect_exit 2 -- "$SLUICE" validate --schemas "$TMP/reg" --table t --encoding UTF-16LE "$TMP/latin1.csv"

# ---- invalid UTF-8 in a field: a reject, not a crash --------------------------------------------
printf '1,ok,,,\n2,\xc3\x28,,,\n3,"\xe2\x82",,,\n4,\xed\xa0\x80,,,\n5,\xf4\x90\x80\x80,,,\n6,\xc0\xaf,,,\n7,fine \xc3\xa9,,,\n' > "$TMP/badutf8.csv"
ld badutf8 t "$TMP/badutf8.csv" --max-bad-records 10
check_eq "invalid UTF-8: exit 0 within the limit" "$?" "0"
check_eq "invalid UTF-8: rejected records" "$(rej badutf8 record)" "2 3 4 5 6"
check_eq "invalid UTF-8: the good rows" "$(qc badutf8 "SELECT string_agg(name, ';' ORDER BY id) FROM t")" "ok;fine é"
# the reject file stays valid JSON (the excerpt of bad bytes is escaped)
check_eq "rejects file is valid JSON" \
    "$("$SLUICE" query --warehouse "duckdb://$TMP/badutf8.duckdb" --format csv "SELECT count(*) FROM read_json_auto('$TMP/badutf8.rej', format='newline_delimited')" | sed -n 2p)" "5"

# ---- --header: by name, ignoring case, any order --------------------------------------------------
printf 'NOTE,Amount,iD,name\nn1,1.5,1,a\nn2,,2,b\n' > "$TMP/hdr.csv"
load hdr t "$TMP/hdr.csv" --header
summary hdr "2 rows, 2 valid, 0 rejected"
check_eq "header: columns by name" "$(qc hdr "SELECT id, name, note, amount, b IS NULL FROM t ORDER BY id")" \
    "1,a,n1,1.5,true|2,b,n2,,true"
# a header column that is no field: the file is refused ...
printf 'id,name,extra\n1,a,zzz\n' > "$TMP/hdrx.csv"
ld hdrx t "$TMP/hdrx.csv" --header
check_eq "header with an unknown column: exit 3" "$?" "3"
check_grep "header unknown column named" 'header column 3 "extra" is not a field' "$TMP/err"
check_eq "header with an unknown column: nothing loaded" "$(qc hdrx "SELECT count(*) FROM t")" "0"
# ... or the column is dropped with --ignore-unknown-values
load hdrx_ign t "$TMP/hdrx.csv" --header --ignore-unknown-values
check_eq "header unknown column dropped" "$(qc hdrx_ign "SELECT id, name, note IS NULL FROM t")" "1,a,true"
# a REQUIRED field the header does not name: every row is a bad record
printf 'name\na\n' > "$TMP/hdrreq.csv"
ld hdrreq t "$TMP/hdrreq.csv" --header
check_eq "header without a REQUIRED column: exit 3" "$?" "3"
check_eq "header without a REQUIRED column: field" "$(rej hdrreq field)" '"id"'
# --header with --skip-leading-rows N: the N-th row is the header
printf 'a title\nName,ID\nz,9\n' > "$TMP/hdrskip.csv"
load hdrskip t "$TMP/hdrskip.csv" --header --skip-leading-rows 2
check_eq "header is the last skipped row" "$(qc hdrskip "SELECT id, name FROM t")" "9,z"
# rows wider/narrower than the header
printf 'id,name\n1,a\n2,b,EXTRA\n3\n' > "$TMP/hdrw.csv"
ld hdrw t "$TMP/hdrw.csv" --header --max-bad-records 5
check_eq "header: too many / too few values rejected" "$(rej hdrw record)" "2 3"
load hdrw2 t "$TMP/hdrw.csv" --header --ignore-unknown-values --allow-jagged-rows
check_eq "header: extra dropped, jagged NULL" "$(qc hdrw2 "SELECT id, coalesce(name, '-') FROM t ORDER BY id")" "1,a|2,b|3,-"
printf 'id,ID\n1,1\n' > "$TMP/hdrdup.csv"
ld hdrdup t "$TMP/hdrdup.csv" --header
check_eq "header naming a column twice: exit 3" "$?" "3"
check_grep "header names a column twice" 'names column "id" twice' "$TMP/err"

# ---- extra columns: reject, or dropped with --ignore-unknown-values ----------------------------------
printf '1,a,n,1,,EXTRA\n2,b,n,2,\n3,c,n,3,,x,y\n' > "$TMP/extra.csv"
ld extra t "$TMP/extra.csv" --max-bad-records 5
check_eq "extra columns rejected" "$(rej extra record)" "1 3"
check_grep "extra column reason" "Too many values in row" "$TMP/extra.rej"
load extra_ign t "$TMP/extra.csv" --ignore-unknown-values
summary extra_ign "3 rows, 3 valid, 0 rejected"
check_eq "extra columns dropped" "$(qc extra_ign "SELECT id || name || note || amount FROM t ORDER BY id")" "1an1.0|2bn2.0|3cn3.0"

# ---- CRLF, BOM, blank lines -----------------------------------------------------------------------------
printf 'id,name,note\r\n1,a,x\r\n2,"b",""\r\n3,c,\r\n' > "$TMP/crlf.csv"
load crlf t "$TMP/crlf.csv" --header
check_eq "CRLF: no CR in values" "$(qj crlf "SELECT name, note FROM t ORDER BY id")" \
    '{"name":"a","note":"x"}|{"name":"b","note":""}|{"name":"c","note":null}'
printf '1,a\r2,b\r' > "$TMP/cr.csv"
load cr t "$TMP/cr.csv" --allow-jagged-rows
check_eq "bare CR ends records" "$(qc cr "SELECT string_agg(name, ';' ORDER BY id) FROM t")" "a;b"
printf '\xef\xbb\xbfId,Name\n1,a\n' > "$TMP/bom.csv"
load bom t "$TMP/bom.csv" --header
check_eq "BOM stripped before the header" "$(qc bom "SELECT id, name FROM t")" "1,a"
printf '\xef\xbb\xbf7,a,,,\n' > "$TMP/bom2.csv"
load bom2 t "$TMP/bom2.csv"
check_eq "BOM stripped before the first value" "$(qc bom2 "SELECT id FROM t")" "7"
printf '\n1,a,,,\n\n\r\n2,b,,,\n\n' > "$TMP/blank.csv"
load blank t "$TMP/blank.csv"
summary blank "2 rows, 2 valid, 0 rejected"
printf '1\n\n2\n\n\r\n3\n' > "$TMP/one.csv"
load one one "$TMP/one.csv"
summary "one column, blank lines" "3 rows, 3 valid, 0 rejected"
check_eq "one column: no NULL row" "$(qc one 'SELECT count(*), count(n) FROM one')" "3,3"
# the same over 1.5 MB, split for two threads
awk 'BEGIN { for (i = 0; i < 200000; i++) print i "\n" }' > "$TMP/one_big.csv"
for t in 1 2; do
    "$SLUICE" validate --schemas "$TMP/reg" --table one --threads $t "$TMP/one_big.csv" \
        > "$TMP/out" 2>&1
    summary "one column, blank lines (-t$t)" "200000 rows, 200000 valid, 0 rejected"
done
check_eq "blank lines skipped" "$(qc blank "SELECT count(*) FROM t")" "2"
# a quoted empty line is a record (one empty value), not a blank line
printf '1,a,,,\n""\n' > "$TMP/qblank.csv"
ld qblank t "$TMP/qblank.csv" --max-bad-records 5
check_eq "quoted empty line is a record" "$(rej qblank record)" "2"

# ---- JSON column in CSV ------------------------------------------------------------------------------------
printf '%s\n' '1,"{""id"": 10, ""name"": ""Alice"", ""tags"": [1, 2]}"' '2,"""This is a string"""' '3,' \
    '4,"[1,{""a"":null}]"' '5,"{""bad"": }"' > "$TMP/json.csv"
ld json jt "$TMP/json.csv" --max-bad-records 5
check_eq "JSON column: bad JSON rejected" "$(rej json record)" "5"
check_eq "JSON column: type" "$(qc json "SELECT DISTINCT typeof(doc) FROM jt")" "JSON"
check_eq "JSON column: object" "$(qc json "SELECT doc->>'name', doc->'tags'->>1 FROM jt WHERE id = 1")" "Alice,2"
check_eq "JSON column: string value" "$(qc json "SELECT json_type(doc), doc->>'\$' FROM jt WHERE id = 2")" "VARCHAR,This is a string"
check_eq "JSON column: empty is NULL" "$(qc json "SELECT doc IS NULL FROM jt WHERE id = 3")" "true"
check_eq "JSON column: array" "$(qc json "SELECT json_array_length(doc) FROM jt WHERE id = 4")" "2"

# ---- record and line numbers in rejects ----------------------------------------------------------------------
# line 1: header (skipped, not a record)
# line 2: record 1, good
# lines 3-5: record 2, quoted newlines (good)
# line 6: blank (not a record)
# line 7: record 3, bad INTEGER
# lines 8-9: record 4, bad: quoted newline in a FLOAT
# line 10: record 5, good
# line 11: record 6, bad: too many values
printf 'id,name,note,amount,b\n1,a,,,\n2,"x\ny\nz",,,\n\nX3,c,,,\n4,d,,"1\n.5",\n5,e,,,\n6,f,,,,\n' > "$TMP/nums.csv"
ld nums t "$TMP/nums.csv" --skip-leading-rows 1 --allow-quoted-newlines --max-bad-records 10
check_eq "numbers: exit" "$?" "0"
summary nums "6 rows, 3 valid, 3 rejected"
check_eq "reject record numbers (1-based, header excluded)" "$(rej nums record)" "3 4 6"
check_eq "reject line numbers (quoted newlines counted)" "$(rej nums line)" "7 8 11"
check_eq "reject fields" "$(rej nums field)" '"id" "amount" null'
# the offset is the byte where the record starts
want=$(head -n 6 "$TMP/nums.csv" | wc -c | tr -d ' ')
check_eq "reject offset" "$(rej nums offset | cut -d' ' -f1)" "$want"
check_grep "reject value excerpt" '"value":"X3"' "$TMP/nums.rej"
# same without --allow-quoted-newlines: the broken records and their tails are bad
ld nums2 t "$TMP/nums.csv" --header --max-bad-records 10
check_eq "without quoted newlines: record 2 bad at line 3" \
    "$(head -n 1 "$TMP/nums2.rej" | sed -E 's/.*"line":([0-9]+),"record":([0-9]+).*/\1:\2/')" "3:2"
# --header counts like --skip-leading-rows 1
ld nums3 t "$TMP/nums.csv" --header --allow-quoted-newlines --max-bad-records 10
check_eq "header: same record numbers" "$(rej nums3 record)" "3 4 6"
check_eq "header: same line numbers" "$(rej nums3 line)" "7 8 11"
# CRLF counts one line per CRLF
tr -d '\r' < "$TMP/nums.csv" | sed 's/$/\r/' > "$TMP/nums_crlf.csv"
ld nums_crlf t "$TMP/nums_crlf.csv" --skip-leading-rows 1 --allow-quoted-newlines --max-bad-records 10
check_eq "CRLF: record numbers" "$(rej nums_crlf record)" "3 4 6"
check_eq "CRLF: line numbers" "$(rej nums_crlf line)" "7 8 11"
# records after two skipped rows
printf 'x\ny\n1,a,,,\nbad,b,,,\n' > "$TMP/nums4.csv"
ld nums4 t "$TMP/nums4.csv" --skip-leading-rows 2 --max-bad-records 10
check_eq "skip 2: record and line" "$(rej nums4 record):$(rej nums4 line)" "2:4"

# ---- malformed records, row size, bad option combinations -----------------------------------------------
printf '1,a,,,\n2,"Eve"x,y,,\n3,a\000b,,,\n4,"b",,,\n' > "$TMP/malformed.csv"
ld malformed t "$TMP/malformed.csv" --max-bad-records 5
check_eq "malformed: records" "$(rej malformed record)" "2 3"
check_grep "data after a closing quote" "data between close quote character and field separator" "$TMP/malformed.rej"
check_grep "NUL byte" "NUL byte in data" "$TMP/malformed.rej"
check_eq "malformed: good rows" "$(qc malformed "SELECT string_agg(name, ';' ORDER BY id) FROM t")" "a;b"
# a record longer than --max-row-size (quoted newlines inside it do not split it)
printf '1,a,,,\n2,"%s\n%s",,,\n3,b,,,\n' "$(printf 'x%.0s' $(seq 40))" "$(printf 'y%.0s' $(seq 40))" > "$TMP/long.csv"
ld long t "$TMP/long.csv" --max-row-size 30 --allow-quoted-newlines --max-bad-records 5
check_eq "long record: rejected" "$(rej long record):$(rej long line)" "2:2"
check_grep "long record: reason" "Row exceeds the maximum row size of 30 bytes" "$TMP/long.rej"
check_eq "long record: the others load" "$(qc long "SELECT string_agg(name, ';' ORDER BY id) FROM t")" "a;b"
expect_exit 2 -- "$SLUICE" validate --schemas "$TMP/reg" --table t --quote , "$TMP/defaults.csv"
expect_exit 2 -- "$SLUICE" validate --schemas "$TMP/reg" --table t --quote '|' --field-delimiter '|' "$TMP/defaults.csv"
expect_exit 2 -- "$SLUICE" validate --schemas "$TMP/reg" --table t --quote ab "$TMP/defaults.csv"

# ---- compressed input, stdin, and records across read blocks -----------------------------------------------
gzip -c "$TMP/nums.csv" > "$TMP/numsgz.csv.gz"
ld numsgz t "$TMP/numsgz.csv.gz" --header --allow-quoted-newlines --max-bad-records 10
check_eq "gzip: record numbers" "$(rej numsgz record)" "3 4 6"
check_eq "gzip: line numbers" "$(rej numsgz line)" "7 8 11"
"$SLUICE" load --schemas "$TMP/reg" --table t --warehouse "duckdb://$TMP/stdin.duckdb" --format csv \
    --header --allow-quoted-newlines --max-bad-records 10 --rejects "$TMP/stdin.rej" - < "$TMP/nums.csv" > "$TMP/out" 2>&1
check_eq "stdin: exit" "$?" "0"
check_eq "stdin: rows" "$(qc stdin "SELECT string_agg(id::VARCHAR, ';' ORDER BY id) FROM t")" "1;2;5"
check_eq "stdin: line numbers" "$(rej stdin line)" "7 8 11"
# ~20 MB: records with quoted newlines straddle every read block / slice boundary; one
# bad record near the end must keep exact record and line numbers
awk 'BEGIN { print "id,name,note,amount,b";
             for (i = 1; i <= 120000; i++) {
                 if (i == 119999) { print "oops,x,,,"; continue }
                 printf "%d,\"name %d, line one\nline two %0100d\",n,%d.25,\n", i, i, i, i
             } }' > "$TMP/big.csv"
gzip -c "$TMP/big.csv" > "$TMP/big.csv.gz"
for f in big.csv big.csv.gz; do
    expect_exit 0 -- "$SLUICE" validate --schemas "$TMP/reg" --table t --header --allow-quoted-newlines \
        --max-bad-records 1 --rejects "$TMP/big.rej" "$TMP/$f"
    check_grep "$f: counts" "120000 rows, 119999 valid, 1 rejected" "$TMP/out"
    check_eq "$f: the bad record's numbers" "$(rej big record):$(rej big line)" "119999:239998"
done
load big t "$TMP/big.csv.gz" --header --allow-quoted-newlines --max-bad-records 1
check_eq "big: rows and sum" "$(qc big "SELECT count(*), sum(amount), sum(length(name)) FROM t")" \
    "119999,$(awk 'BEGIN { s = 0; for (i = 1; i <= 120000; i++) if (i != 119999) s += i + 0.25; printf "%.2f", s }'),$(awk 'BEGIN { s = 0; for (i = 1; i <= 120000; i++) if (i != 119999) s += length("name " i ", line one") + 1 + 9 + 100; print s }')"

# validate gives the same rejects as load
expect_exit 0 -- "$SLUICE" validate --schemas "$TMP/reg" --table t --skip-leading-rows 1 \
    --allow-quoted-newlines --max-bad-records 10 --rejects "$TMP/v.rej" "$TMP/nums.csv"
check_eq "validate writes the same rejects" "$(cat "$TMP/v.rej")" "$(cat "$TMP/nums.rej")"

finish
