#!/usr/bin/env bash
# bench/registry.sh BUILD_DIR - the schema registry at production scale (issue
# 13); not part of `make test`. Builds a registry of the real schemas in
# ../shared/data out of symbolic links (the 1,059 Mozilla tables in place; each
# public-dataset file as DIR/pub/pub_<dataset>/<name>.json: their own layout
# maps many files to one dataset.table), then times, in interleaved rounds:
#   check    `sluice schema check` (parse and check every definition)
#   check1   the same on one thread (SLUICE_PARSE_THREADS=1)
#   open     `sluice query "SELECT 1"` on the created warehouse (DuckDB's open)
#   create   `sluice schema apply` into a fresh DuckDB file (1,217 tables)
#   plan     `sluice schema plan` of the same registry (nothing to do)
#   noop     `sluice schema apply` again (nothing to do)
# and, with a baseline commit (BENCH_BASE), its `schema apply` into a fresh
# file and again, on the registry without the five definitions it refuses
# (it refuses the whole registry otherwise). Medians; the section "Registry"
# of BENCHMARKS.md is rewritten between its markers (report.py keeps it).
#
# Environment:
#   BENCH_RUNS=5        rounds of the new binary
#   BENCH_BASE=f6c17ae  commit to compare with ("" to skip); built from `git
#                       archive` in the work folder, never in a worktree
#   BENCH_BASE_RUNS=1   rounds of the baseline (~30-150 s each here)
#   BENCH_MD=FILE       where to write the section (default BENCHMARKS.md)
#   BENCH_QUIET_WAIT=60 seconds to wait before each run for the CPUs to be
#                       < 15% busy with others (0: do not wait)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$here/build}" && pwd)
SLUICE="$BUILD/sluice"
[ -x "$SLUICE" ] || { echo "bench: $SLUICE not found; run make build" >&2; exit 2; }
DATA=$(cd "$here/../shared/data" 2>/dev/null && pwd) || { echo "bench: ../shared/data not found" >&2; exit 2; }
RUNS=${BENCH_RUNS:-5}
BASE=${BENCH_BASE-f6c17ae}
BASE_RUNS=${BENCH_BASE_RUNS:-1}
MD=${BENCH_MD:-$here/BENCHMARKS.md}
QUIET_WAIT=${BENCH_QUIET_WAIT:-60}

T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-regbench.XXXXXX")
trap 'rm -rf "$T"' EXIT
echo "bench: work folder $T ($RUNS rounds)"

# ---- the registry of links ------------------------------------------------------
mkdir -p "$T/reg/pub" "$T/base_reg/m"
ln -s "$DATA/schemas-mozilla" "$T/reg/mozilla"
P=$DATA/schemas-public-datasets/datasets
find "$P" -name '*.json' | sort | while read -r f; do
    rel=${f#"$P"/}; ds=pub_${rel%%/*}
    b=$(basename "$f" .json)
    [ "$b" = schema ] && b=$(basename "$(dirname "$f")")
    b=$(printf '%s' "$b" | tr -c 'A-Za-z0-9_-' '_')
    mkdir -p "$T/reg/pub/$ds"; t=$b; i=2
    while [ -e "$T/reg/pub/$ds/$t.json" ]; do t=${b}_$i; i=$((i + 1)); done
    ln -s "$f" "$T/reg/pub/$ds/$t.json"
done
# the baseline's registry: the same files less the five it refuses
find "$DATA/schemas-mozilla" -name schema.json | grep -v -e /looker_usage_explores_v1/ \
    -e /looker_usage_models_v1/ -e /looker_usage_unused_explores_v1/ | while read -r f; do
    t=$(basename "$(dirname "$f")"); d=$(basename "$(dirname "$(dirname "$f")")")
    mkdir -p "$T/base_reg/m/$d/$t"; ln -s "$f" "$T/base_reg/m/$d/$t/schema.json"
done
cp -rP "$T/reg/pub" "$T/base_reg/pub"
rm -f "$T/base_reg/pub/pub_world_bank_wdi/run_csv_transform_kub.json" \
    "$T/base_reg/pub/pub_noaa_passive_bioacoustic/run_csv_transform_kub.json"
echo "bench: $(find -L "$T/reg" -name '*.json' | wc -l) definition files," \
    "$(find -L "$T/base_reg" -name '*.json' | wc -l) for the baseline"

# ---- the baseline binary -----------------------------------------------------------
BASE_SLUICE=""
if [ -n "$BASE" ]; then
    mkdir -p "$T/base"
    git -C "$here" archive "$BASE" | tar -x -C "$T/base"
    echo "bench: building $BASE"
    DUCKDB_HOME=${DUCKDB_HOME:-$here/third_party/duckdb} cmake -S "$T/base" -B "$T/base/build" \
        -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$T/base/build" -j 2 --target sluice >/dev/null
    BASE_SLUICE="$T/base/build/sluice"
fi

# ---- timing ---------------------------------------------------------------------------
cpu_sample() { awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6; exit }' /proc/stat; }
wait_quiet() {
    local i=0 b0 t0 b1 t1 busy
    while [ "$i" -lt "$QUIET_WAIT" ]; do
        read -r b0 t0 < <(cpu_sample); sleep 0.5; read -r b1 t1 < <(cpu_sample)
        busy=$(( (b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
        [ "$busy" -lt 15 ] && return 0
        sleep 1; i=$((i + 2))
    done
}
RAW="$T/runs.tsv"
: > "$RAW"
# run NAME WANT_EXIT CMD...: wall seconds of CMD into runs.tsv
run() {
    local name=$1 want=$2; shift 2
    wait_quiet
    local t0=$EPOCHREALTIME rc=0
    "$@" >"$T/out" 2>"$T/err" || rc=$?
    local t1=$EPOCHREALTIME
    if [ "$rc" != "$want" ]; then
        echo "bench: $name exited $rc (want $want)" >&2; sed 's/^/    /' "$T/err" | head -5 >&2; exit 1
    fi
    printf '%s\t%s\t%s\n' "$name" "$(echo "$t1 - $t0" | bc -l)" "$(uptime | sed 's/.*average: //')" >> "$RAW"
}
WH="$T/new.duckdb"
for r in $(seq "$RUNS"); do
    echo "bench: round $r"
    run check 2 "$SLUICE" schema check --schemas "$T/reg"
    run check1 2 env SLUICE_PARSE_THREADS=1 "$SLUICE" schema check --schemas "$T/reg"
    rm -f "$WH" "$WH.wal"
    run create 2 "$SLUICE" schema apply --schemas "$T/reg" --warehouse "$WH" --quiet
    run open 0 "$SLUICE" query --warehouse "$WH" "SELECT 1"
    run plan 2 "$SLUICE" schema plan --schemas "$T/reg" --warehouse "$WH" --quiet
    run noop 2 "$SLUICE" schema apply --schemas "$T/reg" --warehouse "$WH" --quiet
    grep -q "1217 tables: 0 created, 1217 unchanged, 0 changed, 0 refused; 2 invalid" "$T/out" \
        || { echo "bench: unexpected: $(cat "$T/out")" >&2; exit 1; }
done
SIZE=$(stat -c %s "$WH")
if [ -n "$BASE_SLUICE" ]; then
    for r in $(seq "$BASE_RUNS"); do
        echo "bench: baseline round $r"
        rm -f "$T/base.duckdb" "$T/base.duckdb.wal"
        run base_create 0 "$BASE_SLUICE" schema apply --schemas "$T/base_reg" --warehouse "$T/base.duckdb" --quiet
        run base_noop 0 "$BASE_SLUICE" schema apply --schemas "$T/base_reg" --warehouse "$T/base.duckdb" --quiet
    done
    BASE_SIZE=$(stat -c %s "$T/base.duckdb")
fi

# ---- report ---------------------------------------------------------------------------
export RAW SIZE BASE BASE_SIZE="${BASE_SIZE:-0}" RUNS BASE_RUNS MD
export REV; REV=$(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)
python3 - <<'EOF'
import os, statistics, platform, subprocess, datetime
rows = [l.rstrip("\n").split("\t") for l in open(os.environ["RAW"])]
by = {}
loads = {}
for name, sec, load in rows:
    by.setdefault(name, []).append(float(sec))
    loads.setdefault(name, []).append(load.split(",")[0])
def med(n):
    v = by.get(n)
    return statistics.median(v) if v else None
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
labels = [
    ("check", "registry: parse and check 1,219 files (`schema check`)", "< 0.5 s"),
    ("check1", "the same on one thread (`SLUICE_PARSE_THREADS=1`)", ""),
    ("create", "create 1,217 tables in a fresh file (`schema apply`)", "< 3 s"),
    ("open", "open the created file (`query \"SELECT 1\"`)", ""),
    ("plan", "`schema plan`, nothing to do", "< 1 s"),
    ("noop", "`schema apply`, nothing to do", "< 1 s"),
    ("base_create", f"baseline `{os.environ['BASE']}`: create 1,214 tables", ""),
    ("base_noop", f"baseline `{os.environ['BASE']}`: apply again, nothing to do", ""),
]
L = ["<!-- registry:begin (written by bench/registry.sh; report.py keeps it) -->",
     "## Registry at production scale (issue 13)", "",
     f"- date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, sluice `{os.environ['REV']}`; "
     f"CPU: {cpu}, nproc = {os.cpu_count()}; the VM is shared (load average at each run below)",
     f"- command: `BENCH_RUNS={os.environ['RUNS']} BENCH_BASE_RUNS={os.environ['BASE_RUNS']} "
     "bench/registry.sh build` (wall time of the whole process, start-up included)",
     "- registry: the 1,059 Mozilla schemas in place and the 160 public-dataset files as one "
     "table each (links), 1,219 files, 7.3 MB; two public files hold several tables and are "
     "refused, so 1,217 tables", ""]
L += ["| what | median s | runs | load avg (1 min) at the runs | target |", "|---|---:|---:|---|---|"]
for key, text, target in labels:
    m = med(key)
    if m is None:
        continue
    L.append(f"| {text} | {m:.2f} | {len(by[key])} | {', '.join(loads[key])} | {target} |")
L.append("")
L.append(f"The warehouse file holds 1,217 empty tables in {int(os.environ['SIZE']) / 1e6:.1f} MB"
         + (f" (the baseline's: {int(os.environ['BASE_SIZE']) / 1e6:.1f} MB for 1,214)."
            if int(os.environ['BASE_SIZE']) else "."))
L.append("")
L.append("<!-- registry:analysis -->")
L.append("<!-- registry:end -->")
md = os.environ["MD"]
text = open(md, encoding="utf-8").read() if os.path.exists(md) else ""
begin, end = text.find("<!-- registry:begin"), text.find("<!-- registry:end -->")
analysis = ""
if begin >= 0 and end > begin:
    old = text[begin:end]
    a = old.find("<!-- registry:analysis -->")
    if a >= 0:
        analysis = old[a + len("<!-- registry:analysis -->"):].strip("\n")
    text = text[:begin].rstrip("\n") + "\n\n" + text[end + len("<!-- registry:end -->"):].lstrip("\n")
block = "\n".join(L)
if analysis:
    block = block.replace("<!-- registry:analysis -->", "<!-- registry:analysis -->\n" + analysis)
open(md, "w", encoding="utf-8").write(text.rstrip("\n") + "\n\n" + block + "\n")
print("\n".join(L))
EOF
echo "bench: wrote the Registry section of $MD"
