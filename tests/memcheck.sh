#!/usr/bin/env bash
# valgrind memcheck over the unit and conformance tests of a build: no invalid
# access, no use of uninitialised memory, no definite or indirect leak.
# usage: tests/memcheck.sh BUILD_DIR   (test_duckdb is left out: ~4 min under
# valgrind; the driver's paths are covered here by test_oom and under ASan.
# test_registry_apply too: 1,217 real tables through DuckDB; its paths are
# test_evolve's and test_registry_shared's, both run here.)
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
command -v valgrind >/dev/null || { echo "memcheck: valgrind not installed"; exit 1; }
pass=0; fail=0
for t in "$build"/test_*; do
    name=$(basename "$t")
    [ -x "$t" ] || continue
    [ "$name" = test_duckdb ] && continue
    [ "$name" = test_registry_apply ] && continue
    # test_oom: every 8th allocation failure point of its load sweeps (each is a
    # whole load under valgrind); the ASan run sweeps every one
    if SL_OOM_STRIDE=8 valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --suppressions="$here/valgrind.supp" \
        "$t" > "$build/memcheck_$name.log" 2>&1; then
        pass=$((pass + 1))
    else
        rc=$?
        if [ $rc -eq 77 ]; then pass=$((pass + 1)); continue; fi
        fail=$((fail + 1))
        echo "memcheck: $name failed (exit $rc), see $build/memcheck_$name.log"
        grep -E "==[0-9]+== (Invalid|Conditional|Use of|.*definitely|.*indirectly)" \
            "$build/memcheck_$name.log" | head -5
    fi
done
echo "memcheck: $pass passed, $fail failed"
[ $fail -eq 0 ]
