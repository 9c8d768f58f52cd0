#!/usr/bin/env python3
"""report.py - turn bench/run.sh's raw runs into medians, a table and BENCHMARKS.md.

    python3 bench/report.py --dir WORKDIR --md BENCHMARKS.md

Reads WORKDIR/runs.tsv (one line per measured run), meta.tsv (machine, sizes,
versions) and, when present, the callgrind outputs; writes WORKDIR/summary.tsv
(the medians, machine-readable), prints the table and writes the Markdown report.
Python 3 standard library only.
"""
import argparse
import csv
import os
import re
import statistics
import sys
from collections import OrderedDict, defaultdict

# Which sluice case a peer is compared with (same file): sluice/peer = peer time /
# sluice time on the same bytes.
REF = {
    "cat": "sluice validate",
    "gzip -dc": "sluice validate",
    "simdjson touch": "sluice validate",
    "jq VIN check": "sluice validate",
    "jq -R fromjson? VIN": "sluice validate",
    "duckdb read_json": "sluice load",
    "duckdb read_json -t1": "sluice load -t1",
    "duckdb read_csv": "sluice load",
}


# A run is "noisy" when other processes used more than this share of the machine's CPUs
# during it; a median is flagged when most of its runs were.
NOISY = 0.15


def read_tsv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def read_meta(path):
    meta = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    return meta


def summarise(runs):
    """Median seconds and RSS per (tool, file), in first-seen order."""
    groups = OrderedDict()
    for r in runs:
        groups.setdefault((r["tool"], r["file"]), []).append(r)
    out = []
    for (tool, file), rs in groups.items():
        secs = statistics.median(float(r["seconds"]) for r in rs)
        rss = statistics.median(int(r["rss_kb"] or 0) for r in rs)
        nbytes, rows = int(rs[0]["bytes"]), int(rs[0]["rows"])
        bad_exit = sorted({r["exit"] for r in rs if r["exit"] != "0"})
        # (too coarse below half a second: /proc/stat counts in 10 ms ticks)
        others = [float(r.get("others_cpu") or 0) for r in rs if float(r["seconds"]) >= 0.5]
        noisy = sum(1 for x in others if x > NOISY) * 2 > len(rs)
        out.append({
            "tool": tool, "file": file, "runs": len(rs), "bytes": nbytes, "rows": rows,
            "seconds": secs, "mb_s": nbytes / 1e6 / secs, "rows_s": rows / secs,
            "rss_mb": rss / 1024, "all_seconds": [float(r["seconds"]) for r in rs],
            "exit": ",".join(bad_exit) if bad_exit else "0",
            "check": rs[0]["check"], "command": rs[0]["command"],
            "others": max(others, default=0.0), "noisy": noisy,
        })
    return out


def fmt_rate(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def ratio_text(r):
    return "" if r is None else f"{r:.2f}x"


def parse_callgrind(txt_path, out_path, empty_path):
    """Total instructions, fixed (empty-input) instructions and top self-cost functions."""
    total = None
    funcs = defaultdict(int)
    files = defaultdict(lambda: defaultdict(int))
    objs = defaultdict(int)
    line_re = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$")
    in_funcs = False
    with open(txt_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if "PROGRAM TOTALS" in line:
                m = line_re.match(line)
                if m:
                    total = int(m.group(1).replace(",", ""))
                continue
            if line.strip().startswith("Ir") and "file:function" in line:
                in_funcs = True
                continue
            if not in_funcs:
                continue
            m = line_re.match(line)
            if not m:
                if line.startswith("-----") or not line.strip():
                    if funcs:
                        break
                continue
            ir = int(m.group(1).replace(",", ""))
            name = m.group(2)
            mo = re.search(r"\s+\[([^\]]*)\]\s*$", name)  # the [object] suffix
            obj = os.path.basename(mo.group(1)) if mo else ""
            name = name[:mo.start()] if mo else name
            path, _, fn = name.partition(":")  # "file:function" (C++ names hold "::")
            fn = re.sub(r"'\d+$", "", fn)  # recursion levels: f'2 is f
            if "(" in fn:  # C++: drop the parameter list
                fn = fn[:fn.index("(")]
            if obj == "???":
                objs["(JIT-compiled code: PCRE2 patterns)"] += ir
            else:
                objs[obj or "(inlined code, object not named)"] += ir
            if path == "???" and obj and obj != "???":
                path = obj
            if fn.startswith("0x"):
                # no symbol: inside a stripped library, or in no object at all, which
                # here is code generated at run time (PCRE2's JIT-compiled patterns)
                fn = f"(no symbols: {obj})" if obj and obj != "???" else \
                    "(JIT-compiled code: PCRE2 patterns)"
                path = obj if obj and obj != "???" else "-"
            funcs[fn] += ir
            files[fn][os.path.basename(path) or "?"] += ir
    empty = None
    if empty_path and os.path.exists(empty_path):
        with open(empty_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("totals:") or line.startswith("summary:"):
                    empty = int(line.split()[1])
    if total is None and os.path.exists(out_path):
        with open(out_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("totals:"):
                    total = int(line.split()[1])
    top = sorted(funcs.items(), key=lambda kv: -kv[1])
    rows = []
    for fn, ir in top:
        where = max(files[fn].items(), key=lambda kv: kv[1])[0]
        rows.append((fn, where, ir))
    return total, empty, rows, objs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--md", required=True)
    a = ap.parse_args()
    d = a.dir
    meta = read_meta(os.path.join(d, "meta.tsv"))
    runs = read_tsv(os.path.join(d, "runs.tsv"))
    timed = [r for r in runs if r["round"] != "big"]
    big = [r for r in runs if r["round"] == "big"]
    summ = summarise(timed)
    by = {(s["tool"], s["file"]): s for s in summ}
    nproc = meta.get("nproc", "2")
    tN = f"sluice validate -t{nproc}"
    # the alternating pairs (run.sh): per pair, the ratio of B's rate to A's
    pairs = OrderedDict()
    pp = os.path.join(d, "pairs.tsv")
    pairs_failed = 0
    for r in read_tsv(pp) if os.path.exists(pp) else []:
        if r.get("a_exit", "0") != "0" or r.get("b_exit", "0") != "0":
            pairs_failed += 1  # a command that failed fast would fake a ratio
            continue
        pairs.setdefault(r["pair"], []).append(
            (int(r["b_bytes"]) / float(r["b_seconds"])) /
            (int(r["a_bytes"]) / float(r["a_seconds"])))
        pairs.setdefault(r["pair"] + "/a_seconds", []).append(float(r["a_seconds"]))

    for s in summ:
        ref = REF.get(s["tool"])
        s["ratio"] = None
        s["ref"] = ""
        if ref and (ref, s["file"]) in by:
            s["ratio"] = s["seconds"] / by[(ref, s["file"])]["seconds"]
            s["ref"] = ref

    # ---- machine-readable medians
    with open(os.path.join(d, "summary.tsv"), "w", encoding="utf-8") as f:
        f.write("tool\tfile\truns\tbytes\trows\tmedian_seconds\tmb_per_s\trows_per_s\t"
                "peak_rss_mb\tsluice_over_peer\tcompared_with\texit\tmax_others_cpu\tnoisy\t"
                "check\n")
        for s in summ:
            ratio = "" if s["ratio"] is None else f"{s['ratio']:.4f}"
            f.write(f"{s['tool']}\t{s['file']}\t{s['runs']}\t{s['bytes']}\t{s['rows']}\t"
                    f"{s['seconds']:.4f}\t{s['mb_s']:.2f}\t{s['rows_s']:.0f}\t"
                    f"{s['rss_mb']:.1f}\t{ratio}\t{s['ref']}\t{s['exit']}\t{s['others']:.2f}\t"
                    f"{int(s['noisy'])}\t{s['check']}\n")

    # ---- console table
    hdr = ("tool", "file", "MB/s", "rows/s", "peak RSS MB", "sluice/peer", "vs")
    table = [hdr]
    for s in summ:
        table.append((s["tool"] + (" (noisy)" if s["noisy"] else ""), s["file"],
                      fmt_rate(s["mb_s"]), f"{s['rows_s']:,.0f}",
                      f"{s['rss_mb']:.0f}", ratio_text(s["ratio"]), s["ref"]
                      + ("" if s["exit"] == "0" else f"  EXIT {s['exit']}")))
    widths = [max(len(r[i]) for r in table) for i in range(len(hdr))]
    print()
    print(f"Medians of {meta.get('runs')} runs, {int(meta.get('rows', 0)):,} rows per file"
          f" (sluice/peer > 1: sluice faster)")
    for i, r in enumerate(table):
        print("  ".join(c.rjust(w) if 2 <= j <= 5 else c.ljust(w)
                        for j, (c, w) in enumerate(zip(r, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    for r in big:
        print(f"RSS check: {r['tool']} on {r['file']} ({int(r['bytes']) / 1e9:.2f} GB): "
              f"{int(r['rss_kb']) / 1024:.0f} MB peak RSS, {float(r['seconds']):.1f} s, exit {r['exit']}")

    # ---- floors
    floors = []

    def rate(tool, file):
        s = by.get((tool, file))
        return s["mb_s"] if s else None

    def best(tool, file):
        s = by.get((tool, file))
        return s["bytes"] / 1e6 / min(s["all_seconds"]) if s else None

    def fastest(a, b):
        """The same ratio from each case's fastest run (the least disturbed one)."""
        x, y = best(*a), best(*b)
        return f" (fastest runs: {x / y:.2f}x)" if x and y and len(by[a]["all_seconds"]) > 1 \
            else ""

    def paired(a, b):
        """The median over rounds of the ratio of a's rate to b's in the same round (the
        two run a few seconds apart, so the machine's slow drift cancels out); None
        with fewer than 3 rounds."""
        if a not in by or b not in by:
            return None
        xs, ys = by[a]["all_seconds"], by[b]["all_seconds"]
        if len(xs) != len(ys) or len(xs) < 3:
            return None
        return statistics.median((by[a]["bytes"] / x) / (by[b]["bytes"] / y)
                                 for x, y in zip(xs, ys))

    def judged(a, b, r, pair=None):
        """The ratio a floor is judged on: the median of the alternating pairs when they
        ran, else of the per-round ratios, else the ratio of the medians r."""
        p = paired(a, b)
        txt = f"; paired by round: {p:.2f}x" if p is not None else ""
        if pair and pairs.get(pair):
            q = statistics.median(pairs[pair])
            return q, txt + f"; alternating pairs: **{q:.2f}x** (median of {len(pairs[pair])})"
        return (p, txt) if p is not None else (r, "")

    def add(name, ok, measured, note):
        floors.append((name, ok, measured, note))

    v1 = rate("sluice validate", "ndjson")
    sj = rate("simdjson touch", "ndjson")
    if v1 and sj:
        r, pt = judged(("sluice validate", "ndjson"), ("simdjson touch", "ndjson"), v1 / sj,
                       "simdjson touch vs validate")
        add("`sluice validate` 1 thread, equipment NDJSON, all rules >= 1.0x simdjson "
            "touch-every-field", r >= 1.0, f"{v1:.0f} vs {sj:.0f} MB/s = {v1 / sj:.2f}x"
            + fastest(("sluice validate", "ndjson"), ("simdjson touch", "ndjson")) + pt,
            "" if r >= 1.0 else f"missed by {(1 - r) * 100:.0f}%: needs {1 / r:.2f}x the "
            f"speed ({sj:.0f} MB/s)")
    vc = rate("sluice validate", "csv")
    if vc:
        # judged on every run of the command: the rounds' and the pairs'
        csv_all = by[("sluice validate", "csv")]["all_seconds"] + \
            pairs.get("clean vs 1%-bad (csv)/a_seconds", [])
        vc_all = by[("sluice validate", "csv")]["bytes"] / 1e6 / statistics.median(csv_all)
        add("`sluice validate` 1 thread on CSV >= 400 MB/s", vc_all >= 400,
            f"{vc:.0f} MB/s (fastest run: {best('sluice validate', 'csv'):.0f})"
            + (f"; all {len(csv_all)} runs: **{vc_all:.0f} MB/s** (fastest "
               f"{by[('sluice validate', 'csv')]['bytes'] / 1e6 / min(csv_all):.0f})"
               if len(csv_all) > len(by[("sluice validate", "csv")]["all_seconds"]) else ""),
            "" if vc_all >= 400 else f"missed by {(1 - vc_all / 400) * 100:.0f}%: needs "
            f"{400 / vc_all:.2f}x the speed")
    vn = rate(tN, "ndjson")
    if v1 and vn:
        r, pt = judged((tN, "ndjson"), ("sluice validate", "ndjson"), vn / v1,
                       f"validate -t1 vs -t{nproc} (ndjson)")
        add(f"`--threads {nproc}` (all cores) >= 1.7x the 1-thread rate (NDJSON)", r >= 1.7,
            f"{vn:.0f} vs {v1:.0f} MB/s = {vn / v1:.2f}x"
            + fastest((tN, "ndjson"), ("sluice validate", "ndjson")) + pt,
            "" if r >= 1.7 else f"missed: {r:.2f}x of the 1.7x wanted "
            f"({(1 - r / 1.7) * 100:.0f}% short)")
    vcn = rate(tN, "csv")
    if vc and vcn:
        r, pt = judged((tN, "csv"), ("sluice validate", "csv"), vcn / vc)
        add(f"(same, CSV; informative) `--threads {nproc}` vs 1 thread", r >= 1.7,
            f"{vcn:.0f} vs {vc:.0f} MB/s = {vcn / vc:.2f}x"
            + fastest((tN, "csv"), ("sluice validate", "csv")) + pt, "" if r >= 1.7 else
            f"missed: {r:.2f}x")
    ld = by.get(("sluice load", "ndjson"))
    dj = by.get(("duckdb read_json", "ndjson"))
    if ld and dj:
        r0 = dj["seconds"] / ld["seconds"]
        r, pt = judged(("sluice load", "ndjson"), ("duckdb read_json", "ndjson"), r0,
                       "read_json vs load (ndjson)")
        d1 = by.get(("duckdb read_json -t1", "ndjson"))
        notes = [] if r > 1.0 else [f"missed by {(1 - r) * 100:.0f}%: needs {1 / r:.2f}x the speed"]
        l1 = by.get(("sluice load -t1", "ndjson"))
        if d1 and l1:
            notes.append(f"both on 1 thread: {l1['mb_s']:.0f} vs {d1['mb_s']:.0f} MB/s = "
                         f"{d1['seconds'] / l1['seconds']:.2f}x")
        add("`sluice load` NDJSON->DuckDB faster than DuckDB's read_json (same schema)",
            r > 1.0, f"{ld['mb_s']:.0f} vs {dj['mb_s']:.0f} MB/s = {r0:.2f}x"
            + fastest(("sluice load", "ndjson"), ("duckdb read_json", "ndjson")) + pt,
            "; ".join(notes))
    for r in big:
        rss = int(r["rss_kb"]) / 1024
        m = re.search(r"RssAnon (\d+) MB, RssFile (\d+) MB", r["check"])
        split = (f" (sampled: {m.group(1)} MB anonymous, {m.group(2)} MB file-backed, i.e. "
                 "pages of the mmap-ed input)") if m else ""
        add(f"peak RSS < 100 MB on a {int(r['bytes']) / 1e9:.1f} GB input "
            f"({r['tool'].replace('sluice validate', 'validate')})",
            rss < 100 and r["exit"] == "0", f"{rss:.0f} MB",
            (("" if rss < 100 else f"missed: {rss / 100:.1f}x the limit") + split).strip())
    for fmt in ("ndjson", "csv"):
        c, b = rate("sluice validate", fmt), rate("sluice validate", fmt + "_bad")
        if c and b:
            r, pt = judged(("sluice validate", fmt + "_bad"), ("sluice validate", fmt), b / c,
                           f"clean vs 1%-bad ({fmt})")
            add(f"1%-bad file within 10% of the clean rate ({fmt.upper()}, 1 thread)",
                r >= 0.9, f"{b:.0f} vs {c:.0f} MB/s = {b / c:.2f}x"
                + fastest(("sluice validate", fmt + "_bad"), ("sluice validate", fmt)) + pt,
                "" if r >= 0.9 else f"missed: {(1 - r) * 100:.0f}% slower")
    print()
    if pairs_failed:
        print(f"WARNING: {pairs_failed} alternating pair(s) dropped: a command failed "
              f"(see {pp})")
    print("Floors:")
    for name, ok, measured, note in floors:
        print(f"  [{'MET ' if ok else 'MISS'}] {name.replace('`', '')}: {measured}"
              f"{'  - ' + note if note else ''}")

    # ---- hot spots
    prof = []
    sizes = {}
    prof_rows = 50000
    sp = os.path.join(d, "prof.sizes")
    if os.path.exists(sp):
        parts = open(sp, encoding="utf-8").read().split()
        prof_rows = int(parts[0])
        sizes = {"ndjson": int(parts[1]), "csv": int(parts[2])}
    for kind in ("ndjson", "csv"):
        txt = os.path.join(d, f"callgrind.{kind}.txt")
        if os.path.exists(txt):
            total, empty, top, _ = parse_callgrind(
                txt, os.path.join(d, f"callgrind.{kind}.out"),
                os.path.join(d, f"callgrind.{kind}.empty.out"))
            prof.append((kind, total, empty, top))
    load_prof = None
    lp = os.path.join(d, "callgrind.load.txt")
    if os.path.exists(lp):
        load_prof = parse_callgrind(lp, os.path.join(d, "callgrind.load.out"), None)
    sj_total = None
    sjp = os.path.join(d, "callgrind.simdjson.out")
    if os.path.exists(sjp):
        with open(sjp, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("totals:"):
                    sj_total = int(line.split()[1])

    # ---- Markdown
    rows_n = int(meta.get("rows", 0))
    sz = dict(kv.split("=") for kv in meta.get("sizes", "").split())
    L = []
    L.append("# Benchmarks")
    L.append("")
    L.append("Produced by `make bench` (bench/run.sh, bench/report.py); issue 3.  Re-run it to "
             "refresh this file.  Every number is the median of "
             f"{meta.get('runs')} runs unless said otherwise.  The machine is a small shared "
             "VM: runs of one command can differ by tens of percent over minutes, so the "
             "floors also show the ratio of the fastest runs, and the ratio floors are judged "
             "on the median of alternating back-to-back pairs of the two commands "
             f"({len(next(iter(pairs.values()), []))} pairs each), which the drift cannot "
             "skew; the CSV rate on every run of the command (rounds and pairs)."
             if pairs else
             "VM: runs of one command can differ by tens of percent, so the floors also show "
             "the ratio of the fastest runs.")
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append(f"- date: {meta.get('date')}, sluice commit `{meta.get('commit')}`")
    L.append(f"- CPU: {meta.get('cpu')}, nproc = {nproc}; memory {meta.get('mem')}")
    L.append(f"- {meta.get('os')}, {meta.get('kernel')}; gcc {meta.get('gcc')}")
    L.append(f"- peers: DuckDB {meta.get('duckdb')} (the libduckdb sluice loads), simdjson "
             f"{meta.get('simdjson')} (Debian libsimdjson-dev), {meta.get('jq')}")
    L.append("")
    L.append("## Data")
    L.append("")
    L.append(f"`bench/gen.py --table equipment --rows {rows_n}` (seed default), generated into a "
             "temporary folder (`$T` below), page cache warm:")
    L.append("")
    L.append("| file | what | bytes |")
    L.append("|---|---|---:|")
    desc = {
        "ndjson": ("eq.ndjson", "NDJSON, clean"),
        "ndjson_bad": ("eq_bad.ndjson", "NDJSON, `--bad-fraction 0.01`"),
        "ndjson.gz": ("eq.ndjson.gz", "eq.ndjson through `gzip -n -6` (rates below are of the "
                      "decompressed bytes)"),
        "csv": ("eq_flat.csv", "CSV flat form (`--format csv`), header line, clean"),
        "csv_bad": ("eq_flat_bad.csv", "CSV flat form, `--bad-fraction 0.01`"),
    }
    for k, (name, what) in desc.items():
        if k in sz:
            L.append(f"| {k} (`{name}`) | {what} | {int(sz[k]):,} |")
    L.append("")
    L.append("## Results (medians)")
    L.append("")
    L.append("MB/s = input bytes (decompressed for .gz) / wall time of the whole process "
             "(start-up included); peak RSS from `/usr/bin/time -v`.  **sluice/peer** = the "
             "peer's time / sluice's time on the same file (> 1: sluice is faster), against "
             "`sluice validate` (1 thread) for parsers and scripts, against `sluice load` for "
             "DuckDB's readers.")
    L.append("")
    L.append("| tool | file | MB/s | rows/s | peak RSS MB | sluice/peer | vs |")
    L.append("|---|---|---:|---:|---:|---:|---|")
    for s in summ:
        flag = ("" if s["exit"] == "0" else f" (exit {s['exit']})") + (" †" if s["noisy"] else "")
        L.append(f"| {s['tool']}{flag} | {s['file']} | {fmt_rate(s['mb_s'])} | "
                 f"{s['rows_s']:,.0f} | {s['rss_mb']:.0f} | {ratio_text(s['ratio'])} | "
                 f"{s['ref']} |")
    L.append("")
    n_noisy = sum(1 for s in summ if s["noisy"])
    worst = max((s["others"] for s in summ), default=0)
    if n_noisy:
        L.append(f"† most runs of this median shared the CPUs with other processes (> "
                 f"{NOISY * 100:.0f}% of the machine); treat it with care.")
    L.append(f"Other processes used at most {worst * 100:.0f}% of the machine's CPU capacity "
             f"during any timed run of 0.5 s or more ({n_noisy} of {len(summ)} medians "
             "flagged); run.sh waits "
             "for a quiet machine before each run and records this in runs.tsv (`others_cpu`).")
    L.append("")
    L.append("What each tool did (its output, first run):")
    L.append("")
    seen = set()
    for s in summ:
        if s["check"] and (s["tool"], s["file"]) not in seen:
            seen.add((s["tool"], s["file"]))
            L.append(f"- {s['tool']} / {s['file']}: {s['check']}")
    L.append("")
    if big:
        L.append("### Peak RSS on a large input (one run)")
        L.append("")
        L.append("eq.ndjson concatenated to the size shown; peak RSS from `/usr/bin/time -v`, "
                 "plus RssAnon/RssFile sampled from /proc/PID/status every 50 ms.")
        L.append("")
        L.append("| command | input | seconds | MB/s | peak RSS MB | result |")
        L.append("|---|---|---:|---:|---:|---|")
        for r in big:
            L.append(f"| {r['tool']} | {r['file']}, {int(r['bytes']) / 1e9:.2f} GB | "
                     f"{float(r['seconds']):.1f} | "
                     f"{int(r['bytes']) / 1e6 / float(r['seconds']):.0f} | "
                     f"{int(r['rss_kb']) / 1024:.0f} | {r['check']} |")
        L.append("")
    L.append("## Floors (issue 3)")
    L.append("")
    if pairs_failed:
        L.append(f"**{pairs_failed} alternating pair(s) were dropped: a command failed.**")
        L.append("")
    L.append("| floor | measured | met? |")
    L.append("|---|---|---|")
    for name, ok, measured, note in floors:
        L.append(f"| {name} | {measured} | {'**met**' if ok else '**missed**'}"
                 f"{' - ' + note if note else ''} |")
    L.append("")
    ld = by.get(("sluice load -t1", "ndjson"))
    va = by.get(("sluice validate", "ndjson"))
    sh = by.get(("openssl sha256", "ndjson"))
    if ld and va and sh:
        rest = ld["seconds"] - va["seconds"] - sh["seconds"]
        L.append("### Where `sluice load`'s time goes (NDJSON, medians)")
        L.append("")
        L.append(f"On one thread, `sluice load --threads 1` takes {ld['seconds']:.2f} s; "
                 "`sluice validate` on the same file "
                 f"{va['seconds']:.2f} s, and the SHA-256 of the input that load also computes (its "
                 f"exactly-once fingerprint; `openssl dgst -sha256`, same libcrypto) "
                 f"{sh['seconds']:.2f} s, which leaves about "
                 f"{rest:.2f} s ({rest / ld['seconds'] * 100:.0f}%) for handing rows to DuckDB "
                 "and committing.  DuckDB's own read_json needs "
                 f"{by[('duckdb read_json', 'ndjson')]['seconds']:.2f} s for the whole job"
                 + (f" ({by[('duckdb read_json -t1', 'ndjson')]['seconds']:.2f} s on one "
                    "thread)." if ("duckdb read_json -t1", "ndjson") in by else "."))
        lp = by.get(("sluice load", "ndjson"))
        if lp:
            L.append("")
            L.append(f"By default (`--threads` = {nproc} here) the same load takes "
                     f"{lp['seconds']:.2f} s: DuckDB's worker threads pull validated rows from "
                     "sluice's table function, so both the validation and DuckDB's row-group "
                     "building and compression run on every core, and the SHA-256 on a thread "
                     "of its own.")
        L.append("")
    if prof:
        L.append("## Hot spots")
        L.append("")
        L.append("`valgrind --tool=callgrind` on `sluice validate` (1 thread, release build "
                 "`-O2 -g`) over a fresh gen.py file of "
                 f"{prof_rows:,} rows; self cost (instructions executed in the function itself, "
                 "inlined callees included), recursion levels merged.  \"fixed\" is the same "
                 "command on an empty input (start-up: reading the registry, compiling "
                 "patterns; a validate does not load libduckdb).")
        for kind, total, empty, top in prof:
            nb = sizes.get(kind)
            L.append("")
            head = f"### {kind.upper()}: {total:,} instructions" if total else f"### {kind}"
            if total and empty is not None:
                var = total - empty
                head += (f"; fixed {empty:,} ({empty / total * 100:.1f}%), per row "
                         f"{var / prof_rows:,.0f}")
                if nb:
                    head += f", per input byte {var / nb:.1f}"
            L.append(head)
            L.append("")
            L.append("| # | function | file | instructions | share |")
            L.append("|---:|---|---|---:|---:|")
            for i, (fn, where, ir) in enumerate(top[:15], 1):
                L.append(f"| {i} | `{fn}` | {where} | {ir:,} | "
                         f"{ir / total * 100:.1f}% |")
            if kind == "ndjson" and sj_total and nb:
                L.append("")
                L.append(f"For scale: `simdjson_touch` (built without `-march=native` "
                         f"for valgrind) on the same file executes "
                         f"{sj_total:,} instructions in all ({sj_total / nb:.1f} per input "
                         f"byte, start-up included), sluice "
                         f"{(total - (empty or 0)) / sj_total:.1f}x as many net of start-up.")
        L.append("")
    if load_prof and load_prof[0]:
        total, _, top, objs = load_prof
        L.append(f"### `sluice load` NDJSON into a fresh DuckDB file: {total:,} instructions")
        L.append("")
        L.append("By object (where the instructions of `sluice load` on the same "
                 f"{prof_rows:,}-row file go):")
        L.append("")
        L.append("| object | instructions | share |")
        L.append("|---|---:|---:|")
        for ob, ir in sorted(objs.items(), key=lambda kv: -kv[1])[:8]:
            L.append(f"| {ob} | {ir:,} | {ir / total * 100:.1f}% |")
        L.append("")
        L.append("| # | function | object/file | instructions | share |")
        L.append("|---:|---|---|---:|---:|")
        for i, (fn, where, ir) in enumerate(top[:12], 1):
            L.append(f"| {i} | `{fn[:70]}` | {where} | {ir:,} | {ir / total * 100:.1f}% |")
        L.append("")
        L.append("Caveat: valgrind hides the CPU's SHA extensions, so libcrypto's SHA-256 runs "
                 "its portable code here; the `openssl sha256` row of the results table is its "
                 "real speed on this machine.")
        L.append("")
    here = os.path.dirname(os.path.abspath(__file__))
    for part in ("ANALYSIS.md", "rules_bench.md"):  # hand-written sections
        path = os.path.join(here, part)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                L.append(f.read().rstrip("\n"))
            L.append("")
    L.append("## Commands")
    L.append("")
    L.append("Every command ran in the temporary work folder (`cd $T`), under "
             "`/usr/bin/time -v`; `$REPO` = repo root, `$BUILD` = the build dir.  DuckDB files "
             "(`load.duckdb`, `peer.duckdb`) were deleted before every run.  Peers are built by run.sh: "
             "`g++ -O3 -march=native -std=c++17 bench/simdjson_touch.cpp -lsimdjson -lz` and "
             "`gcc -O2 bench/duckdb_read.c -lduckdb` (same libduckdb as sluice).")
    L.append("")
    L.append("```sh")
    L.append(f"BENCH_ROWS={rows_n} BENCH_RUNS={meta.get('runs')} make bench")
    for s in summ:
        L.append(f"# {s['tool']} / {s['file']}")
        L.append(s["command"].replace("\n", " "))
    for r in big:
        L.append(f"# {r['tool']} / {r['file']}")
        L.append(r["command"])
    L.append("```")
    L.append("")
    L.append("Notes:")
    L.append("")
    L.append("- DuckDB's read_json cannot cast some spellings the table accepts (epoch seconds "
             "as JSON numbers, `... UTC`, `YYYY/MM/DD ...`) to TIMESTAMPTZ: without "
             "`ignore_errors=true` it fails the whole file, with it it stores NULL for those "
             "values (see its non-null registered_at count above).  It applies no rules "
             "(enums, patterns, ranges) and rejects nothing, so it does less work than "
             "`sluice load`.  DuckDB uses every core; `-t1` is `SET threads=1`.")
    L.append("- DuckDB's read_csv is only run on the clean CSV: on the 1%-bad file an "
             "unterminated quote swallows the rest of the file even with ignore_errors.")
    L.append("- jq stops at the first malformed line, so on the bad file it runs as "
             "`jq -cR 'fromjson? | ...'` (skips unparsable lines).")
    L.append("- simdjson touch: On-Demand (compiled with `-march=native`, so the best kernel "
             "for this CPU), "
             "one parse per line, every key unescaped and every value read recursively; "
             "UTF-8 is validated; no schema, no types beyond JSON's.")
    L.append(f"- Raw runs and medians: `runs.tsv` and `summary.tsv` in the work folder "
             f"({meta.get('workdir')}, temporary).")
    L.append("")
    # bench/registry.sh and bench/gateway.sh write their sections into the same file: keep them
    if os.path.exists(a.md):
        with open(a.md, encoding="utf-8") as f:
            old = f.read()
        for name in ("registry", "gateway"):
            end = "<!-- %s:end -->" % name
            b, e = old.find("<!-- %s:begin" % name), old.find(end)
            if b >= 0 and e > b:
                L.append(old[b:e + len(end)])
                L.append("")
    with open(a.md, "w", encoding="utf-8") as f:
        f.write("\n".join(L))
    return 0


if __name__ == "__main__":
    sys.exit(main())
