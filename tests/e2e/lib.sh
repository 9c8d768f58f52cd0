# lib.sh - helpers for the end-to-end tests: run the real sluice binary, count
# passes and failures, print "N passed, N failed" at the end.
# usage in a test: . "$(dirname "$0")/lib.sh"; then check/expect_exit/...; finish
SLUICE=${1:?usage: test.sh SLUICE SOURCE_DIR SHARED_DIR}
SRC=${2:?}
SHARED=${3:-$SRC/../shared}
TMP=$(mktemp -d /tmp/sluice-e2e.XXXXXX)
trap 'chattr -R -i "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT
PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); }
ko() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }

# expect_exit CODE -- command...: run, compare the exit code; output in $TMP/out, $TMP/err
expect_exit() {
    local want=$1; shift; [ "$1" = "--" ] && shift
    "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    if [ "$got" = "$want" ]; then ok; else
        ko "exit $got, want $want: $*"; sed 's/^/    /' "$TMP/err" | head -n 20 >&2; fi
}

# check_eq WHAT GOT WANT
check_eq() {
    if [ "$2" = "$3" ]; then ok; else ko "$1: got [$2] want [$3]"; fi
}

# check_grep WHAT PATTERN FILE
check_grep() {
    if grep -qE -- "$2" "$3"; then ok; else ko "$1: /$2/ not in $3"; sed 's/^/    /' "$3" | head -n 10 >&2; fi
}

# q SQL: one value (first column of the first row) from the test warehouse
q() { "$SLUICE" query --warehouse "duckdb://$TMP/wh.duckdb" --format csv "$1" | sed -n 2p; }

need_shared() {
    if [ ! -d "$SHARED/$1" ]; then
        echo "skipped: $SHARED/$1 not found (../shared is absent)"
        exit 77
    fi
}

finish() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
    exit $?
}
