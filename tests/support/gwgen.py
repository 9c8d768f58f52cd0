#!/usr/bin/env python3
"""gwgen.py - files for the gateway's crash tests: a registry of three tables
(two NDJSON, one CSV with a header) and N files for them, from one row to a
few megabytes, some gzip and some zstd, some with bad records, some exact
copies of others under other names, a few corrupt. Writes a manifest with
what a correct run must end with: each table's valid ids (count, sum, and a
digest of the sorted ids), the number of bad records (each must be in
quarantine once), and how many files must fail.

usage: gwgen.py OUT_DIR N_FILES SEED
  OUT_DIR/schemas/main/*.json   the registry
  OUT_DIR/files/<table>/<name>  the files, to be renamed into raw/<table>/
  OUT_DIR/manifest.json
"""
import gzip
import hashlib
import json
import os
import random
import subprocess
import sys

SCHEMAS = {
    "events_a": {
        "fields": [
            {"name": "id", "type": "INT64", "mode": "REQUIRED"},
            {"name": "kind", "type": "STRING"},
            {"name": "ts", "type": "TIMESTAMP", "mode": "REQUIRED"},
            {"name": "amount", "type": "NUMERIC"},
            {"name": "tags", "type": "STRING", "mode": "REPEATED"},
            {"name": "meta", "type": "RECORD", "fields": [
                {"name": "src", "type": "STRING"},
                {"name": "n", "type": "INT64"}]},
        ],
        "rules": [{"field": "kind", "enum": ["click", "view", "buy"]}],
    },
    "events_b": {
        "fields": [
            {"name": "id", "type": "INT64", "mode": "REQUIRED"},
            {"name": "user", "type": "STRING", "mode": "REQUIRED"},
            {"name": "score", "type": "FLOAT64"},
        ],
        "rules": [{"field": "user", "pattern": "^u[0-9]+$"}],
    },
    "events_c": {
        "fields": [
            {"name": "id", "type": "INT64", "mode": "REQUIRED"},
            {"name": "city", "type": "STRING"},
            {"name": "qty", "type": "INT64"},
        ],
        "rules": [{"field": "qty", "minimum": 0}],
    },
}


def good_a(rng, i):
    return json.dumps({
        "id": i, "kind": rng.choice(["click", "view", "buy"]),
        "ts": "2026-%02d-%02dT%02d:%02d:%02dZ" % (
            rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
            rng.randint(0, 59), rng.randint(0, 59)),
        "amount": "%d.%02d" % (rng.randint(0, 9999), rng.randint(0, 99)),
        "tags": [rng.choice("xyz") for _ in range(rng.randint(0, 3))],
        "meta": {"src": rng.choice(["web", "app"]), "n": rng.randint(0, 9)},
    })


def bad_a(rng, i):
    return rng.choice([
        json.dumps({"id": i, "kind": "steal", "ts": "2026-01-01T00:00:00Z"}),
        json.dumps({"id": "x%d" % i, "ts": "2026-01-01T00:00:00Z"}),
        '{"id": %d, "ts": "not a time"}' % i,
        '{"id": %d, "ts": "2026-01-01T00:00:00Z"' % i,  # cut
    ])


def good_b(rng, i):
    return json.dumps({"id": i, "user": "u%d" % rng.randint(1, 99999),
                       "score": round(rng.random() * 100, 3)})


def bad_b(rng, i):
    return rng.choice([
        json.dumps({"id": i, "user": "admin"}),
        json.dumps({"id": i}),
        json.dumps({"id": i, "user": "u1", "score": "high"}),
    ])


def good_c(rng, i):
    return "%d,%s,%d" % (i, rng.choice(["Oslo", "Lima", "\"Rio, BR\""]),
                         rng.randint(0, 500))


def bad_c(rng, i):
    return rng.choice(["%d,Oslo,-5" % i, "x%d,Lima,3" % i, "%d,Rio" % i])


GEN = {"events_a": (good_a, bad_a), "events_b": (good_b, bad_b),
       "events_c": (good_c, bad_c)}


def main():
    out, n_files, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    for t, d in SCHEMAS.items():
        os.makedirs(os.path.join(out, "schemas", "main"), exist_ok=True)
        with open(os.path.join(out, "schemas", "main", t + ".json"), "w") as f:
            json.dump(d, f)
    ids = {t: [] for t in SCHEMAS}
    bad = 0
    fail = 0
    next_id = {t: 1 for t in SCHEMAS}
    made = []  # (table, path) of originals, for copies
    for k in range(n_files):
        t = ["events_a", "events_b", "events_c"][k % 3]
        d = os.path.join(out, "files", t)
        os.makedirs(d, exist_ok=True)
        if made and rng.random() < 0.05:  # an exact copy, another name
            st, src = rng.choice(made)
            name = "copy%05d_%s" % (k, os.path.basename(src))
            with open(src, "rb") as f, \
                    open(os.path.join(out, "files", st, name), "wb") as g:
                g.write(f.read())
            continue
        r = rng.random()
        rows = rng.randint(20000, 60000) if r < 0.004 else \
            rng.randint(100, 2000) if r < 0.05 else rng.randint(1, 12)
        good, badf = GEN[t]
        lines = ["id,city,qty"] if t == "events_c" else []
        new_ids, new_bad = [], 0
        for _ in range(rows):
            i = next_id[t]
            next_id[t] += 1
            if rng.random() < 0.03:
                lines.append(badf(rng, i))
                new_bad += 1
            else:
                lines.append(good(rng, i))
                new_ids.append(i)
        data = ("\n".join(lines) + "\n").encode()
        ext = ".csv" if t == "events_c" else ".ndjson"
        if k % 400 == 7:
            # a corrupt file (a gzip stream cut short): it fails whole, so
            # its records are neither loaded nor quarantined
            name = "f%05d.corrupt%s.gz" % (k, ext)
            data = gzip.compress(data)
            data = data[: max(12, len(data) // 3)]
            fail += 1
        else:
            ids[t].extend(new_ids)
            bad += new_bad
            c = rng.random()
            if c < 0.08:
                name, data = "f%05d%s.gz" % (k, ext), gzip.compress(data)
            elif c < 0.14:
                name = "f%05d%s.zst" % (k, ext)
                data = subprocess.run(["zstd", "-q", "-c"], input=data,
                                      stdout=subprocess.PIPE,
                                      check=True).stdout
            else:
                name = "f%05d%s" % (k, ext)
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(data)
        if k % 400 != 7:
            made.append((t, path))
    manifest = {"bad": bad, "failed": fail, "tables": {}}
    for t, v in ids.items():
        v.sort()
        manifest["tables"]["main." + t] = {
            "count": len(v), "sum": sum(v),
            "md5": hashlib.md5(("\n".join(map(str, v)) + "\n").encode())
            .hexdigest()}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
