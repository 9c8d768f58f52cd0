#!/usr/bin/env bash
# bench/clickhouse.sh - issue 14's benchmark: `sluice load` into ClickHouse
# (one server, and a two-shard cluster) against ClickHouse's own
# `INSERT ... FORMAT JSONEachRow` of the raw file over HTTP, same file, same
# servers (Debian's clickhouse-server, started here on loopback ports with
# their own data folders, stopped at the end). Runs alternate (peer, sluice,
# peer, sluice ...) so that a busy machine slows both alike; medians of
# BENCH_CH_ROUNDS (default 3) rounds. Counts what each kept: the bad records
# of the file (bench/gen.py's truth file) that ClickHouse stored anyway, and
# the good records it lost. Writes the section between the clickhouse
# markers of BENCHMARKS.md (bench/report.py keeps it when it rewrites the
# file) and prints it.
#   usage: bench/clickhouse.sh [BUILD_DIR]
#   BENCH_CH_ROWS=N   rows of the generated file (default 1000000)
#   BENCH_CH_DATA=F   use this NDJSON file (with F.truth.tsv) instead
#   BENCH_MD=FILE     where to write (default BENCHMARKS.md; "-" = stdout only)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
SLUICE=$build/sluice
ROUNDS=${BENCH_CH_ROUNDS:-3}
ROWS=${BENCH_CH_ROWS:-1000000}
MD=${BENCH_MD:-$here/BENCHMARKS.md}
. "$here/tests/support/clickhouse.sh"
if [ -z "$CH_SERVER" ]; then
    echo "bench/clickhouse.sh: clickhouse-server is not installed (scripts/setup.sh --clickhouse)" >&2
    exit 1
fi
T=$(mktemp -d /tmp/sluice-chbench.XXXXXX)
trap 'ch_stop_all; rm -rf "$T"' EXIT

DATA=${BENCH_CH_DATA:-}
if [ -z "$DATA" ]; then
    DATA=$T/eq_bad.ndjson
    echo "generating $ROWS rows (bench/gen.py, 1% bad) ..." >&2
    python3 "$here/bench/gen.py" --table equipment --rows "$ROWS" --bad-fraction 0.01 \
        --main-rules --truth "$DATA.truth.tsv" -o "$DATA" -q
fi
BYTES=$(stat -c %s "$DATA")
LINES=$(wc -l < "$DATA")
S=$here/samples/schemas
ch_start one two
H1=$CH_one_HTTP
H2=$CH_two_HTTP
sql() { curl -sS --fail-with-body "http://127.0.0.1:$1/" --data-binary "$2"; }

# The table a ClickHouse user would make for this JSON: the same columns,
# ClickHouse's own types (DateTime, nested keys as specs.x columns).
COLS='primary_id_type String, primary_id_value String, equipment_category String,
  manufacturer Nullable(String), model Nullable(String), year Nullable(Int64),
  registered_at DateTime, `specs.fuel_type` Nullable(String),
  `specs.power_kw` Nullable(Float64), `specs.weight_kg` Nullable(Float64),
  `specs.displacement_cc` Nullable(Int64), `specs.color` Nullable(String),
  tags Array(String)'
JSON_SETTINGS="input_format_skip_unknown_fields=1&date_time_input_format=best_effort"
JSON_SETTINGS="$JSON_SETTINGS&input_format_import_nested_json=1"
JSON_SETTINGS="$JSON_SETTINGS&input_format_allow_errors_ratio=1&input_format_allow_errors_num=1000000000"

# Wait (up to 20 s) until the machine is quiet: under 15% of its CPU busy
# (other work, and the servers' background merges of the last load).
cpu_sample() { awk '/^cpu / { b = $2+$3+$4+$7+$8; t = b+$5+$6; print b, t }' /proc/stat; }
wait_quiet() {
    local i b0 t0 b1 t1 busy=0
    for i in $(seq 1 20); do
        read -r b0 t0 < <(cpu_sample); sleep 0.5; read -r b1 t1 < <(cpu_sample)
        busy=$(( (b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
        [ "$busy" -lt 15 ] && return 0
        sleep 0.5
    done
    echo "  (the machine stayed busy: ${busy}% of its CPU in use; measuring anyway)" >&2
    BUSY_RUNS=$((BUSY_RUNS + 1))
}
BUSY_RUNS=0

# timed OUT CMD...: wall seconds into OUT (and the command's exit status)
timed() {
    local out=$1; shift
    wait_quiet
    local t0 t1
    t0=$(date +%s.%N)
    "$@"
    local rc=$?
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' > "$out"
    return $rc
}

peer_single() { # DB
    sql $H1 "CREATE DATABASE $1" && sql $H1 "CREATE TABLE $1.eq ($COLS) ENGINE = MergeTree ORDER BY tuple()" &&
        curl -sS --fail-with-body "http://127.0.0.1:$H1/?query=INSERT+INTO+$1.eq+FORMAT+JSONEachRow&$JSON_SETTINGS" \
            --data-binary @"$DATA"
}
peer_cluster() { # DB: a local table on each shard, a Distributed one over them
    for h in $H1 $H2; do
        sql $h "CREATE DATABASE $1" && sql $h "CREATE TABLE $1.eq_local ($COLS) ENGINE = MergeTree ORDER BY tuple()" &&
            sql $h "CREATE TABLE $1.eq ($COLS) ENGINE = Distributed(sluice, $1, eq_local, rand())" || return 1
    done
    curl -sS --fail-with-body "http://127.0.0.1:$H1/?query=INSERT+INTO+$1.eq+FORMAT+JSONEachRow&$JSON_SETTINGS&insert_distributed_sync=1" \
        --data-binary @"$DATA"
}
sluice_load() { # URI
    "$SLUICE" schema apply --schemas "$S" --warehouse "$1" >/dev/null &&
        /usr/bin/time -f "%M" -o "$T/rss" "$SLUICE" load --quiet --max-bad-records 1000000 \
            --schemas "$S" --warehouse "$1" --table universal_equipment_registry "$DATA" >"$T/sluice.out" 2>&1
}

: > "$T/times.tsv"
for r in $(seq 1 "$ROUNDS"); do
    timed "$T/t" peer_single "ps$r"; echo -e "peer_single\t$(cat "$T/t")" >> "$T/times.tsv"
    timed "$T/t" sluice_load "clickhouse://127.0.0.1:$H1/ss$r"
    echo -e "sluice_single\t$(cat "$T/t")\t$(cat "$T/rss")" >> "$T/times.tsv"
    timed "$T/t" peer_cluster "pc$r"; echo -e "peer_cluster\t$(cat "$T/t")" >> "$T/times.tsv"
    timed "$T/t" sluice_load "clickhouse://127.0.0.1:$H1,127.0.0.1:$H2/sc$r?cluster=sluice"
    echo -e "sluice_cluster\t$(cat "$T/t")\t$(cat "$T/rss")" >> "$T/times.tsv"
    echo "round $r: $(tail -n 4 "$T/times.tsv" | cut -f1,2 | tr '\n\t' ' =')" >&2
done

# what each kept: rows, bad records kept (by primary_id_value, which the
# generator makes unique), good records lost
sql $H1 "SELECT primary_id_value FROM ps1.eq FORMAT TSVRaw" > "$T/peer_keys"
sql $H1 "SELECT primary_id_value FROM pc1.eq FORMAT TSVRaw" > "$T/peer_cluster_keys"
sql $H1 "SELECT primary_id_value FROM ss1.universal_equipment_registry FORMAT TSVRaw" > "$T/sluice_keys"
sql $H1 "SELECT primary_id_value FROM sc1.universal_equipment_registry FORMAT TSVRaw" > "$T/sluice_cluster_keys"
VERSION=$(sql $H1 "SELECT version()")
python3 - "$DATA" "$T" "$BYTES" "$LINES" "$ROUNDS" "$MD" "$here" "$VERSION" "$BUSY_RUNS" <<'EOF'
import json, os, statistics, subprocess, sys
data, T, nbytes, nlines, rounds, md, here, ver, busy = sys.argv[1:10]
nbytes, nlines = int(nbytes), int(nlines)
bad = {}
with open(data + ".truth.tsv") as f:
    next(f)
    for line in f:
        rec, lineno, kind = line.rstrip("\n").split("\t")[:3]
        bad[int(lineno)] = kind
keys_bad, keys_good = {}, set()
with open(data, "rb") as f:
    for i, raw in enumerate(f, 1):
        try:
            k = json.loads(raw.decode("utf-8")).get("primary_id_value")
        except Exception:
            k = None
        if not isinstance(k, str):
            continue
        if i in bad:
            keys_bad.setdefault(k, bad[i])
        else:
            keys_good.add(k)
def kept(path):
    rows, kb, kinds, present = 0, 0, {}, set()
    for k in open(path, encoding="utf-8", errors="replace"):
        k = k.rstrip("\n")
        rows += 1
        present.add(k)
        if k in keys_bad and k not in keys_good:
            kb += 1
            kinds[keys_bad[k]] = kinds.get(keys_bad[k], 0) + 1
        elif k == "" and "" not in keys_good:
            kb += 1
            kinds["missing_required (default '')"] = kinds.get("missing_required (default '')", 0) + 1
    lost = len(keys_good - present)
    return rows, kb, lost, kinds
t = {}
rss = {}
for line in open(os.path.join(T, "times.tsv")):
    f = line.split()
    t.setdefault(f[0], []).append(float(f[1]))
    if len(f) > 2:
        rss.setdefault(f[0], []).append(int(f[2]) / 1024)
med = {k: statistics.median(v) for k, v in t.items()}
counts = {
    "peer_single": kept(os.path.join(T, "peer_keys")),
    "peer_cluster": kept(os.path.join(T, "peer_cluster_keys")),
    "sluice_single": kept(os.path.join(T, "sluice_keys")),
    "sluice_cluster": kept(os.path.join(T, "sluice_cluster_keys")),
}
rev = subprocess.run(["git", "-C", here, "log", "-1", "--format=%h"], capture_output=True, text=True).stdout.strip()
nproc = os.cpu_count()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem_gb = next((int(l.split()[1]) / 1024 / 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
cmd = f"BENCH_CH_ROWS={nlines} BENCH_CH_ROUNDS={rounds} bench/clickhouse.sh"
L = ["<!-- clickhouse:begin (bench/clickhouse.sh writes this section; report.py keeps it) -->",
     "## ClickHouse (issue 14)", "",
     f"`bench/clickhouse.sh` at `{rev}`, one run of {rounds} alternating rounds (medians), "
     f"ClickHouse {ver} from Debian's package on loopback (one server; two servers as the two "
     f"shards of cluster `sluice`), {nproc} CPUs shared with other work. File: "
     f"`bench/gen.py --table equipment --rows {nlines:,} --bad-fraction 0.01 --main-rules` "
     f"({nbytes:,} bytes, {len(bad):,} bad records listed in its truth file).", "",
     f"Machine: {cpu}, {nproc} CPUs, {mem_gb:.0f} GB RAM, {os.uname().release}. Command: `{cmd}`. "
     "Every run (s, in round order): " +
     "; ".join(f"{k} " + " ".join(f"{x:.2f}" for x in t[k])
               for k in ("peer_single", "sluice_single", "peer_cluster", "sluice_cluster")) + ".", "",
     "| load | target | s | MB/s | rows/s stored | sluice / peer | sluice peak RSS MB |",
     "|---|---|---:|---:|---:|---:|---:|"]
for tgt in ("single", "cluster"):
    p, s = med["peer_" + tgt], med["sluice_" + tgt]
    pr, sr = counts["peer_" + tgt][0], counts["sluice_" + tgt][0]
    L.append(f"| ClickHouse `INSERT ... FORMAT JSONEachRow` | {'one server' if tgt == 'single' else 'Distributed table, 2 shards (insert_distributed_sync=1)'} "
             f"| {p:.2f} | {nbytes / p / 1e6:.1f} | {pr / p:,.0f} | | |")
    L.append(f"| `sluice load` (Native blocks, staged, exactly once) | {'one server' if tgt == 'single' else '2 shards, each sent its rows'} "
             f"| {s:.2f} | {nbytes / s / 1e6:.1f} | {sr / s:,.0f} | **{p / s:.2f}x** | {max(rss['sluice_' + tgt]):.0f} |")
L += ["", "What each stored, of the file's records:", "",
      "| load | rows stored | bad records stored | good records lost |", "|---|---:|---:|---:|"]
for k, name in (("peer_single", "JSONEachRow, one server"), ("peer_cluster", "JSONEachRow, 2 shards"),
                ("sluice_single", "sluice, one server"), ("sluice_cluster", "sluice, 2 shards")):
    rows, kb, lost, kinds = counts[k]
    L.append(f"| {name} | {rows:,} | {kb:,} | {lost:,} |")
kinds = counts["peer_single"][3]
if kinds:
    L += ["", "Bad records ClickHouse's JSONEachRow stored (one server), by kind (the generator's names): " +
          ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items(), key=lambda x: -x[1])) + "."]
ratio = {tgt: med["peer_" + tgt] / med["sluice_" + tgt] for tgt in ("single", "cluster")}
peak = max(max(v) for v in rss.values())
peer_bad = counts["peer_single"][1]
sl_bad = max(counts["sluice_single"][1], counts["sluice_cluster"][1])
def met(ok):
    return "met" if ok else "**not met**"
L += ["", "Issue 14's floors, this run: at least 2x the peer's rate: one server "
      f"{ratio['single']:.2f}x ({met(ratio['single'] >= 2)}), cluster {ratio['cluster']:.2f}x "
      f"({met(ratio['cluster'] >= 2)}); every bad record ClickHouse itself kept ({peer_bad:,}) "
      f"rejected: Sluice stored {sl_bad:,} ({met(sl_bad == 0)}); Sluice's peak RSS under 100 MB: "
      f"{peak:.0f} MB ({met(peak < 100)})."]
L += ["",
      "- The peer is given every setting that lets it finish: `input_format_skip_unknown_fields`, "
      "`date_time_input_format=best_effort`, `input_format_import_nested_json` (the `specs` object "
      "into `specs.*` columns) and `input_format_allow_errors_ratio=1` (without it the first bad line "
      "fails the whole insert). It applies no rules, keeps what it can parse with defaults for the "
      "rest, and, once a line is malformed, loses the good lines its parser skips with it.",
      "- Sluice validates every record first (rejects go nowhere near the table), streams Native "
      "blocks on two INSERT streams per shard into a staging table, and moves it in with ATTACH "
      "PARTITION (docs/CLICKHOUSE.md); the time includes all of it and the audit records. Into the "
      "cluster it routes each row to its shard itself (the Distributed table's own key) instead of "
      "inserting through the Distributed table.",
      "- Times are wall seconds of the whole command; MB/s is the file's bytes over that; rows/s counts "
      "the rows each stored. Peak RSS from `/usr/bin/time`. Each run waited (up to 20 s) for the "
      f"machine to be quiet; {busy} of {4 * int(rounds)} runs started on a busy machine anyway.",
      "<!-- clickhouse:end -->", ""]
text = "\n".join(L)
print(text)
if md != "-":
    old = open(md).read() if os.path.exists(md) else ""
    b, e = old.find("<!-- clickhouse:begin"), old.find("<!-- clickhouse:end -->")
    if b >= 0 and e >= 0:
        old = old[:b] + old[e + len("<!-- clickhouse:end -->"):].lstrip("\n")
    if not old.endswith("\n"):
        old += "\n"
    open(md, "w").write(old + "\n" + text)
EOF
