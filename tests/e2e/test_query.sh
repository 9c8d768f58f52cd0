#!/usr/bin/env bash
# sluice query on a real DuckDB file: several statements (each result in
# turn), --file (a file and stdin), an empty query (usage error), an SQL error
# printed once with its statement's number, exit codes, and results streamed
# in bounded memory (3 million rows in CSV, JSON and table under 100 MB peak
# RSS).
. "$(dirname "$0")/lib.sh"
WH="duckdb://$TMP/wh.duckdb"
Q() { "$SLUICE" query --warehouse "$WH" "$@"; }

expect_exit 0 -- "$SLUICE" schema apply --schemas "$SRC/samples/schemas" --warehouse "$WH"
expect_exit 0 -- Q --write "CREATE TABLE t (id INT, name VARCHAR); INSERT INTO t VALUES (1, 'a'), (22, 'b,c')"
check_eq "a script's results: CREATE prints nothing, INSERT its count" "$(cat "$TMP/out")" \
"Count
-----
    2
(1 row)"

# several statements: each result in turn, an empty line between two (table,
# csv), none in NDJSON
expect_exit 0 -- Q "SELECT * FROM t ORDER BY id; SELECT 'x' AS s"
check_eq "table: two results" "$(cat "$TMP/out")" \
"id | name
---+-----
 1 | a
22 | b,c
(2 rows)

s
-
x
(1 row)"
expect_exit 0 -- Q --format csv "SELECT * FROM t ORDER BY id; SET VARIABLE v = 1; SELECT 'x' AS s;"
check_eq "csv: two results" "$(cat "$TMP/out")" \
'id,name
1,a
22,"b,c"

s
x'
expect_exit 0 -- Q --format=json "SELECT * FROM t ORDER BY id; SELECT 'x' AS s"
check_eq "json: two results" "$(cat "$TMP/out")" \
'{"id":1,"name":"a"}
{"id":22,"name":"b,c"}
{"s":"x"}'
# --format table is accepted (the default)
expect_exit 0 -- Q --format table "SELECT 1 AS one"
check_eq "--format table" "$(cat "$TMP/out")" "one
---
  1
(1 row)"

# --file: a script file, and stdin
cat > "$TMP/script.sql" <<'SQL'
-- a script: comments, a ; inside a string, statements over several lines
SELECT count(*) AS n
FROM t;
/* the second; */ SELECT 'a;b' AS "x;y";
SQL
expect_exit 0 -- Q --format csv --file "$TMP/script.sql"
check_eq "--file" "$(tr '\n' '|' < "$TMP/out")" "n|2||x;y|a;b|"
expect_exit 0 -- Q --format csv --file - < "$TMP/script.sql"
check_eq "--file - (stdin)" "$(tr '\n' '|' < "$TMP/out")" "n|2||x;y|a;b|"
expect_exit 0 -- Q --format csv --file=- < "$TMP/script.sql"
check_eq "--file=-" "$(tr '\n' '|' < "$TMP/out")" "n|2||x;y|a;b|"
expect_exit 2 -- Q --file "$TMP/missing.sql"
check_grep "missing script named" "cannot open .*missing.sql" "$TMP/err"
expect_exit 2 -- Q --file "$TMP/script.sql" "SELECT 1"
check_grep "SQL and --file: one or the other" "give --file or a SQL argument, not both" "$TMP/err"
expect_exit 2 -- Q
expect_exit 2 -- Q --file
expect_exit 2 -- Q --format xml "SELECT 1"

# an empty query (blanks and comments only) is a usage error
for sql in "" "   " "-- nothing" "/* nothing */ ;; "; do
    expect_exit 2 -- Q -- "$sql"
    check_grep "empty query [$sql]" "no SQL statement" "$TMP/err"
    check_eq "empty query prints nothing [$sql]" "$(cat "$TMP/out")" ""
done
printf -- '-- only a comment\n' > "$TMP/empty.sql"
expect_exit 2 -- Q --file "$TMP/empty.sql"
check_grep "empty script" "no SQL statement in .*empty.sql" "$TMP/err"

# an SQL error: exit 4, printed once, numbered when there are several
expect_exit 4 -- Q "SELEC 1"
check_eq "syntax error: one error line" "$(grep -c 'error:' "$TMP/err")" "1"
check_eq "syntax error: DuckDB's context once" "$(grep -c 'LINE 1' "$TMP/err")" "1"
check_grep "syntax error: class" "\[SL_EWAREHOUSE, fatal\]" "$TMP/err"
expect_exit 4 -- Q --format csv "SELECT 1 AS a; SELECT * FROM nope; SELECT 3 AS c"
check_eq "runtime error: the results before it" "$(tr '\n' '|' < "$TMP/out")" "a|1|"
check_eq "runtime error: once" "$(grep -c 'error:' "$TMP/err")" "1"
check_grep "runtime error: numbered" "error: statement 2 of 3: duckdb: query: Catalog Error" "$TMP/err"
# a script that does not parse runs nothing
expect_exit 4 -- Q --write "CREATE TABLE made (a INT); SELEC 2"
check_grep "parse error: numbered" "statement 2 of 2: .*syntax error" "$TMP/err"
check_eq "parse error: nothing ran" "$(q "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'made'")" "0"
# a failure while streaming: the rows before it are out, the error once
expect_exit 4 -- Q --format csv "SELECT CASE WHEN i = 2500000 THEN error('boom') ELSE i END AS i FROM range(3000000) t(i)"
check_grep "streaming error" "Invalid Input Error: boom" "$TMP/err"
check_eq "streaming error: once" "$(grep -c 'boom' "$TMP/err")" "1"
n=$(wc -l < "$TMP/out")
if [ "$n" -gt 1 ] && [ "$n" -le 2500000 ]; then ok; else ko "rows before the streaming error: $n"; fi
# read-only by default
expect_exit 4 -- Q "INSERT INTO t VALUES (3, 'c')"
check_grep "read-only" "read-only" "$TMP/err"

# streaming: 3 million rows of a few columns in bounded memory, every format
big="SELECT i, i * 2 AS j, 'row ' || i AS s, i % 7 = 0 AS b FROM range(3000000) t(i)"
for fmt in csv json table; do
    /usr/bin/time -f "%M" -o "$TMP/rss" "$SLUICE" query --warehouse "$WH" --format $fmt "$big" \
        > "$TMP/big.$fmt" 2> "$TMP/err"
    rc=$?
    m=$(( $(cat "$TMP/rss" | tail -n 1) / 1024 ))
    echo "query --format $fmt of 3,000,000 rows: peak RSS $m MB"
    check_eq "3M rows as $fmt: exit" "$rc" "0"
    if [ "$m" -lt 100 ]; then ok; else ko "3M rows as $fmt with $m MB peak RSS (want < 100)"; fi
done
check_eq "csv: every row" "$(wc -l < "$TMP/big.csv")" "3000001"
check_eq "csv: the last row" "$(tail -n 1 "$TMP/big.csv")" "2999999,5999998,row 2999999,false"
check_eq "json: every row" "$(wc -l < "$TMP/big.json")" "3000000"
check_eq "json: the last row" "$(tail -n 1 "$TMP/big.json")" '{"i":2999999,"j":5999998,"s":"row 2999999","b":false}'
# table: widths from the first 1,000 rows, later (wider) rows overflow them
check_eq "table: header at the window's widths" "$(head -n 2 "$TMP/big.table")" \
"i   | j    | s       | b
----+------+---------+------"
check_eq "table: a row after the window" "$(sed -n 3003p "$TMP/big.table")" \
"3000 | 6000 | row 3000 | false"
check_eq "table: the last lines" "$(tail -n 2 "$TMP/big.table")" \
"2999999 | 5999998 | row 2999999 | false
(3000000 rows)"
rm -f "$TMP"/big.*
finish
