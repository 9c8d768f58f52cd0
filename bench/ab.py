#!/usr/bin/env python3
"""ab.py - compare commands by wall time on a noisy machine: run them interleaved,
alternating the order each round, and print each one's median, fastest and first
quartile, and the median of its per-round ratio to the first command (which the
machine's slow drift cannot skew the way a ratio of two medians can).

    bench/ab.py ROUNDS LABEL 'CMD' LABEL 'CMD' ...

e.g. two builds on one file:
    bench/ab.py 16 old "/tmp/old/sluice validate ... f.csv" new "build/sluice validate ... f.csv"

Commands run through the shell with their output discarded; an exit status other
than 0 or 3 (too many bad records) is printed. Not part of `make bench`."""
import statistics
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 4 or len(sys.argv) % 2 != 0:
        sys.exit(__doc__)
    n = int(sys.argv[1])
    pairs = list(zip(sys.argv[2::2], sys.argv[3::2]))
    res = {label: [] for label, _ in pairs}
    for i in range(n):
        for label, cmd in (pairs if i % 2 == 0 else pairs[::-1]):
            t = time.perf_counter()
            r = subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=False)
            res[label].append(time.perf_counter() - t)
            if r.returncode not in (0, 3):
                print(f"{label}: exit {r.returncode}", file=sys.stderr)
    base = pairs[0][0]
    for label, _ in pairs:
        v = sorted(res[label])
        ratio = statistics.median(a / b for a, b in zip(res[label], res[base]))
        print(f"{label:12s} median {statistics.median(v):.3f} s  fastest {v[0]:.3f}  "
              f"q1 {v[len(v) // 4]:.3f}  per-round ratio to {base}: {ratio:.3f}")


if __name__ == "__main__":
    main()
