#!/usr/bin/env bash
# run.sh - build the libFuzzer targets into build-fuzz/ and run each for
# SECONDS (default 60), then fold what they found back into the committed
# corpora (tests/fuzz/corpus/<target>/, minimised with -merge=1).
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     TARGET: ndjson csv schema input rules
#                                               chnative
#
# Seeds are taken at run time from ../shared/data (JSONTestSuite, csv-spectrum,
# bigquery-fixtures, ethereum, real schemas) into a temporary directory: they
# guide the fuzzers but are never copied into the repository. Only inputs the
# fuzzers generated (and the committed corpus) are merged back. Files named
# bug-* (inputs that once found a bug) are always kept.
#
# Environment: CC (default clang-14), JOBS (parallel targets, default 2),
# SL_FUZZ_MERGE=0 to leave the committed corpora untouched (CI smoke runs),
# SL_FUZZ_MAX_FILES / SL_FUZZ_MAX_KB (defaults 200 / 1024) per target.
# A crash leaves its input in build-fuzz/artifacts/<target>/ and makes the
# script exit 1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=$(cd "$ROOT/.." && pwd)/shared/data
SECS=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(ndjson csv schema input rules chnative)
CC=${CC:-clang-14}
JOBS=${JOBS:-2}
OUT=$ROOT/build-fuzz
FUZZ=$ROOT/tests/fuzz
MAX_FILES=${SL_FUZZ_MAX_FILES:-200}
MAX_KB=${SL_FUZZ_MAX_KB:-1024}

command -v "$CC" >/dev/null ||
    { echo "run.sh: $CC not found (apt-get install -y clang-14 libclang-rt-14-dev)" >&2; exit 2; }

# ---- build: the project's sources compiled directly (no CMake library) -------
PKGS="libpcre2-8 jansson zlib libzstd libcrypto yaml-0.1"
CFLAGS="-std=c11 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined"
CFLAGS="$CFLAGS -fno-sanitize-recover=undefined -I$ROOT/src -I$ROOT/include"
CFLAGS="$CFLAGS $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lm -lpthread"
mkdir -p "$OUT/obj" "$OUT/artifacts"
echo "run.sh: building with $CC into $OUT"
objs=()
cpids=()
# rules: all but its actions (HTTP, warehouse calls), with the two files of
# other stages it uses (load options, SQL quoting); and the ClickHouse
# driver's two response parsers, which need no libcurl
RULES=$(ls "$ROOT"/src/rules/*.c | grep -v -e /actions.c -e /http.c)
for s in "$ROOT"/src/core/*.c "$ROOT"/src/schema/*.c "$ROOT"/src/parse/*.c "$ROOT"/src/validate/*.c \
    $RULES "$ROOT"/src/gateway/config.c "$ROOT"/src/warehouse/sql.c \
    "$ROOT"/src/warehouse/clickhouse_native.c "$ROOT"/src/warehouse/clickhouse_resp.c; do
    o=$OUT/obj/$(basename "$(dirname "$s")")_$(basename "$s" .c).o
    objs+=("$o")
    if [ ! -e "$o" ] || [ "$s" -nt "$o" ] || [ -n "$(find "$ROOT/src" -name '*.h' -newer "$o" | head -1)" ]; then
        while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 0.2; done
        # shellcheck disable=SC2086
        "$CC" $CFLAGS -c "$s" -o "$o" &
        cpids+=($!)
    fi
done
for p in "${cpids[@]}"; do
    wait "$p" || { echo "run.sh: build failed" >&2; rm -f "$OUT"/obj/*.o; exit 2; }
done
for t in "${TARGETS[@]}"; do
    # shellcheck disable=SC2086
    "$CC" $CFLAGS -fsanitize=fuzzer -I"$FUZZ" "$FUZZ/fuzz_$t.c" "${objs[@]}" $LIBS -o "$OUT/fuzz_$t"
done

# ---- seeds from ../shared, in a temporary directory -------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sl-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
seed() { # seed TARGET PREFIX_BYTES FILE...: copy files, optionally prefixed
    local t=$1 pre=$2; shift 2
    mkdir -p "$WORK/seeds/$t"
    local f
    for f in "$@"; do
        [ -f "$f" ] || continue
        { printf "$pre"; head -c 65536 "$f"; } >"$WORK/seeds/$t/$(echo "$pre$f" | sha1sum | cut -c1-16)"
    done
}
if [ -d "$SHARED" ]; then
    D=$SHARED
    seed ndjson "" "$D"/json-test-suite/test_parsing/*.json \
        $(find "$D/bigquery-fixtures" -name '*.jsonl') \
        $(find "$D/ethereum/data" -name 'expected_*.json' | head -20)
    csvs=("$D"/csv-spectrum/csvs/*.csv $(find "$D/bigquery-fixtures" "$D/ethereum/data" -name '*.csv' | head -20)
          "$D"/nyc-taxi/tests/test_sets/taxi_yellow_tripdata_samples/ten_trips_from_each_month/*.csv)
    seed csv ',"\000' "${csvs[@]}"          # defaults
    seed csv ',"\001' "${csvs[@]:0:12}"     # quoted newlines
    seed csv ';\047\002' "${csvs[@]:0:12}" # ';', single quote, ISO-8859-1
    seed csv '\t\000\075' "${csvs[@]:0:12}" # tab, no quoting, pieces of 16
    seed schema "" $(find "$D/bigquery-fixtures" "$D/ethereum/schemas" "$D/gharchive-schema" -name '*.json' | head -60) \
        $(find "$D/schemas-mozilla" -name '*.json' | sort | awk 'NR % 25 == 1') \
        $(find "$D/schemas-public-datasets" -name '*.json' | sort | awk 'NR % 10 == 1')
    plain=("$D"/csv-spectrum/csvs/*.csv "$D"/json-test-suite/test_parsing/y_object*.json)
    seed input '\000' "${plain[@]}"
    seed input '\001' "${plain[@]:0:8}"     # the harness gzips these
    seed input '\002' "${plain[@]:0:8}"     # and zstd-compresses these
    mkdir -p "$WORK/z"
    for f in "${plain[@]:0:6}"; do
        b=$WORK/z/$(basename "$f")
        gzip -c "$f" >"$b.gz"; cat "$b.gz" "$b.gz" >"$b.2.gz"
        if command -v zstd >/dev/null; then zstd -q -c "$f" >"$b.zst"; fi
        printf '\xef\xbb\xbf' | cat - "$f" | gzip -c >"$b.bom.gz"
    done
    seed input '\000' "$WORK"/z/*
else
    echo "run.sh: $SHARED not found: running from the committed corpora only"
fi

# ---- run --------------------------------------------------------------------
run_one() {
    local t=$1 grow=$WORK/grow/$t
    mkdir -p "$grow" "$WORK/seeds/$t" "$OUT/artifacts/$t" "$FUZZ/corpus/$t"
    local dict=()
    [ -f "$FUZZ/$t.dict" ] && dict=(-dict="$FUZZ/$t.dict")
    echo "run.sh: fuzz_$t for ${SECS}s"
    # new inputs go to the first directory; seeds and the corpus are read only
    if ! "$OUT/fuzz_$t" -max_total_time="$SECS" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
        -print_final_stats=1 "${dict[@]}" -artifact_prefix="$OUT/artifacts/$t/" \
        "$grow" "$FUZZ/corpus/$t" "$WORK/seeds/$t" >"$OUT/fuzz_$t.log" 2>&1; then
        echo "run.sh: fuzz_$t FAILED: see $OUT/fuzz_$t.log and $OUT/artifacts/$t/" >&2
        tail -30 "$OUT/fuzz_$t.log" >&2
        return 1
    fi
    grep -E '^stat::(number_of_executed_units|new_units_added)' "$OUT/fuzz_$t.log" |
        sed "s/^/run.sh: fuzz_$t /"
    if [ "${SL_FUZZ_MERGE:-1}" = 1 ]; then
        local merged=$WORK/merged/$t
        mkdir -p "$merged"
        # edges only (no hit counters): fewer, more distinct files to commit
        "$OUT/fuzz_$t" -merge=1 -use_counters=0 -max_len=65536 -timeout=10 "$merged" \
            "$FUZZ/corpus/$t" "$grow" >"$OUT/fuzz_$t.merge.log" 2>&1
        # keep the budget: smallest files first (they cover the most per byte)
        local kept=0 bytes=0 f sz
        for f in $(ls -S -r "$merged"); do
            sz=$(stat -c %s "$merged/$f")
            if [ $kept -ge "$MAX_FILES" ] || [ $((bytes + sz)) -gt $((MAX_KB * 1024)) ]; then
                rm -f "$merged/$f"
                continue
            fi
            kept=$((kept + 1)); bytes=$((bytes + sz))
        done
        # bug-* and seed-* files stay under their names: drop their merged copies
        for f in "$FUZZ/corpus/$t"/bug-* "$FUZZ/corpus/$t"/seed-*; do
            [ -f "$f" ] && rm -f "$merged/$(sha1sum "$f" | cut -c1-40)"
        done
        find "$FUZZ/corpus/$t" -maxdepth 1 -type f ! -name 'bug-*' ! -name 'seed-*' -delete
        cp "$merged"/* "$FUZZ/corpus/$t/" 2>/dev/null || true
        echo "run.sh: corpus/$t: $(ls "$FUZZ/corpus/$t" | wc -l) files," \
            "$(cat "$FUZZ/corpus/$t"/* | wc -c) bytes"
    fi
}

fail=0
pids=()
for t in "${TARGETS[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
    run_one "$t" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
exit $fail
