#!/usr/bin/env bash
# Structural checks from the style guide: every header compiles on its own, and
# no #include points upstream (core <- schema <- parse <- validate <- warehouse
# <- pipeline <- ops <- cli). Prints "N passed, N failed".
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
pass=0; fail=0
inc="-Isrc -I. -Ithird_party/duckdb ${DUCKDB_HOME:+-I$DUCKDB_HOME}"
for h in $(find src cli -name '*.h' | sort); do
    if echo "#include \"${h#src/}\"" | sed 's|"cli/|"cli/|' |
        gcc -std=c11 -Wall -Werror $inc -fsyntax-only -x c - 2>/tmp/lint.$$; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); echo "lint: $h does not compile on its own:"; head -3 /tmp/lint.$$
    fi
done
rm -f /tmp/lint.$$
rank() { case $1 in core) echo 0;; schema) echo 1;; parse) echo 2;; validate) echo 3;;
    warehouse) echo 4;; gateway|ledger|rules) echo 5;; pipeline) echo 6;;
    sources|ops) echo 7;; cli) echo 9;; *) echo -1;; esac; }
for f in $(find src cli -name '*.[ch]' | sort); do
    mod=$(echo "$f" | sed -E 's|^src/([^/]+)/.*|\1|; s|^cli/.*|cli|')
    me=$(rank "$mod")
    for dep in $(grep -hoE '^#include "[a-z]+/' "$f" | sed -E 's|#include "||; s|/||'); do
        if [ "$(rank "$dep")" -gt "$me" ]; then
            fail=$((fail + 1)); echo "lint: $f ($mod) includes upstream module $dep"
        else
            pass=$((pass + 1))
        fi
    done
    case "$f" in *_int.h) ;; *)
        for p in $(grep -hoE '^#include "[a-z]+/[a-z_]+_int\.h"' "$f" | sed -E 's|#include "([a-z]+)/.*|\1|'); do
            if [ "$p" != "$mod" ]; then fail=$((fail + 1)); echo "lint: $f includes another module's _int.h"; fi
        done;;
    esac
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
