#!/usr/bin/env python3
"""check_gen.py - self-check for files written by bench/gen.py (stdlib only).

    python3 bench/check_gen.py FILE [--truth TRUTH.tsv] [--format ndjson|csv]
                               [--schema SCHEMA.json [--rules RULES.json]]

Always checks the framing invariants:
  * the file ends with a newline, has no blank lines, and (CSV) a header line;
  * each truth row has the header record/line/kind/field, records strictly
    increasing, 1 <= record <= records in file, and line == record (NDJSON) or
    record + 1 (CSV, one line per record) pointing at an existing line;
  * every record not in the truth file is valid UTF-8 and a JSON object without
    duplicate keys (NDJSON) or a well-formed RFC 4180 row with as many fields as
    the header (CSV).

With --schema it also validates every record against the BigQuery schema and the
rules (object form {"fields": [...], "rules": [...]} as in samples/schemas/main/,
or a BigQuery field list plus --rules FILE with {"rules": [...]} as in
/work/shared/bench/schemas/; min/max and minimum/maximum both understood).
Clean records must pass; every truth record must fail, and the failing field
must be the one the truth file names.  Exit status 0 only when all checks hold.
FILE may be gzip-compressed (detected by its magic bytes).
"""
import argparse
import datetime
import gzip
import json
import re
import sys
from decimal import Decimal, InvalidOperation

INT_RE = re.compile(r"-?(0|[1-9][0-9]*)(\.0*)?([eE]\+?[0-9]+)?\Z")
NUM_RE = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?\Z")
FLOAT_SPECIAL = {"nan", "infinity", "-infinity", "inf", "+inf", "-inf"}
TS_RE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})"
                   r"(?:[Tt ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6}))?)?)?"
                   r"(?:[Zz]| ?UTC| ?([+-])(\d{1,2})(?::(\d{1,2}))?)?\Z")
DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})\Z")
BOOL_TEXT = {"true", "false", "t", "f", "yes", "no", "y", "n", "1", "0"}
INT64 = (-(1 << 63), (1 << 63) - 1)
TS_MIN, TS_MAX = -62135596800, 253402300799     # 0001-01-01 .. 9999-12-31T23:59:59


class Obj(dict):
    """A JSON object that remembers keys given twice (case-insensitively)."""
    dups = ()


def pairs_hook(pairs):
    o = Obj()
    seen = set()
    dups = []
    for k, v in pairs:
        lk = k.lower()
        if lk in seen:
            dups.append(k)
        seen.add(lk)
        o[k] = v
    if dups:
        o.dups = dups
    return o


def has_bad_utf8(s):
    return any("\udc80" <= c <= "\udcff" for c in s)


# ---------------------------------------------------------------------------
# schema

class Schema:
    def __init__(self, path, rules_path=None):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        if isinstance(d, dict):
            self.fields = d["fields"]
            rules = d.get("rules", [])
        else:
            self.fields = d
            rules = []
        if rules_path:
            with open(rules_path, encoding="utf-8") as f:
                rules = rules + json.load(f).get("rules", [])
        self.rules = []
        for r in rules:
            r = dict(r)
            if "min" in r:
                r["minimum"] = r.pop("min")
            if "max" in r:
                r["maximum"] = r.pop("max")
            if "pattern" in r:
                r["re"] = re.compile(r["pattern"])
            self.rules.append(r)
        self.by_path = {}
        self._index(self.fields, "")

    def _index(self, fields, prefix):
        for f in fields:
            p = prefix + f["name"]
            self.by_path[p.lower()] = f
            if f.get("type", "").upper() in ("RECORD", "STRUCT"):
                self._index(f.get("fields", []), p + ".")

    def columns(self):
        return [f["name"] for f in self.fields]


def ttype(f):
    t = f.get("type", "STRING").upper()
    return {"INT64": "INTEGER", "FLOAT64": "FLOAT", "BOOL": "BOOLEAN", "STRUCT": "RECORD"}.get(t, t)


def check_ts_text(s):
    m = TS_RE.match(s)
    if not m:
        # a quoted epoch (decimal seconds) is accepted too
        if NUM_RE.match(s):
            return TS_MIN <= float(s) <= TS_MAX
        return False
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        datetime.date(y, mo, d)
    except ValueError:
        return False
    if m.group(4) is not None and (int(m.group(4)) > 23 or int(m.group(5)) > 59 or
                                   (m.group(6) is not None and int(m.group(6)) > 59)):
        return False
    if m.group(9) is not None and (int(m.group(9)) > 14 or (m.group(10) and int(m.group(10)) > 59)):
        return False
    return True


def coerce(f, v, from_csv, quoted=False):
    """-> (ok, typed value or None).  v is a decoded JSON value, or CSV text."""
    t = ttype(f)
    if from_csv:
        if v == "" and not (quoted and t in ("STRING", "BYTES")):
            return True, None
    if v is None:
        return True, None
    if isinstance(v, str) and has_bad_utf8(v):
        return False, None
    if t == "STRING":
        if isinstance(v, (dict, list)):
            return False, None
        if isinstance(v, bool):
            return True, "true" if v else "false"
        return True, v if isinstance(v, str) else json.dumps(v)
    if t == "INTEGER":
        if isinstance(v, bool) or isinstance(v, (dict, list)):
            return False, None
        if isinstance(v, int):
            return INT64[0] <= v <= INT64[1], v
        if isinstance(v, float):
            return v.is_integer(), int(v) if v.is_integer() else None
        if not INT_RE.match(v):
            return False, None
        try:
            x = Decimal(v)
        except InvalidOperation:
            return False, None
        if x != x.to_integral_value():
            return False, None
        x = int(x)
        return INT64[0] <= x <= INT64[1], x
    if t == "FLOAT":
        if isinstance(v, bool) or isinstance(v, (dict, list)):
            return False, None
        if isinstance(v, (int, float)):
            return True, float(v)
        if NUM_RE.match(v) or v.lower() in FLOAT_SPECIAL:
            return True, float(v)
        return False, None
    if t == "BOOLEAN":
        if isinstance(v, bool):
            return True, v
        if isinstance(v, int) and v in (0, 1):
            return True, bool(v)
        if isinstance(v, str) and v.lower() in BOOL_TEXT:
            return True, v.lower() in ("true", "t", "yes", "y", "1")
        return False, None
    if t == "TIMESTAMP":
        if isinstance(v, bool) or isinstance(v, (dict, list)):
            return False, None
        if isinstance(v, (int, float)):
            return (not from_csv) and TS_MIN <= v <= TS_MAX, v
        return check_ts_text(v), v
    if t == "DATE":
        if not isinstance(v, str):
            return False, None
        m = DATE_RE.match(v)
        if not m:
            return False, None
        try:
            datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return False, None
        return True, v
    return True, v   # other types: not generated, not checked


def validate_obj(schema, fields, obj, prefix, errs, typed):
    """NDJSON object against a field list; fills errs [(path, msg)] and typed {path: value}."""
    byname = {f["name"].lower(): f for f in fields}
    for k in getattr(obj, "dups", ()):
        errs.append((prefix + k, "duplicate key"))
    for k, v in obj.items():
        f = byname.get(k.lower())
        path = prefix + (f["name"] if f else k)
        if has_bad_utf8(k):
            errs.append((path, "invalid UTF-8 in key"))
        if f is None:
            errs.append((path, "no such field"))
            continue
        validate_value(schema, f, v, path, errs, typed)
    for f in fields:
        if f.get("mode", "NULLABLE").upper() == "REQUIRED" and obj.get(f["name"]) is None and \
                not any(k.lower() == f["name"].lower() and obj[k] is not None for k in obj):
            errs.append((prefix + f["name"], "REQUIRED field missing or null"))


def validate_value(schema, f, v, path, errs, typed):
    mode = f.get("mode", "NULLABLE").upper()
    if mode == "REPEATED":
        if v is None:
            typed[path] = []
            return
        if not isinstance(v, list):
            errs.append((path, "REPEATED field needs an array"))
            return
        out = []
        for e in v:
            if e is None:
                errs.append((path, "null array element"))
                continue
            if ttype(f) == "RECORD":
                if not isinstance(e, dict):
                    errs.append((path, "array element is not an object"))
                else:
                    validate_obj(schema, f.get("fields", []), e, path + ".", errs, {})
                continue
            ok, x = coerce(f, e, False)
            if not ok:
                errs.append((path, "bad %s element %r" % (ttype(f), e)))
            else:
                out.append(x)
        typed[path] = out
        return
    if ttype(f) == "RECORD":
        if v is None:
            return
        if not isinstance(v, dict):
            errs.append((path, "RECORD needs an object"))
            return
        validate_obj(schema, f.get("fields", []), v, path + ".", errs, typed)
        typed[path] = v
        return
    if isinstance(v, str) and has_bad_utf8(v):
        errs.append((path, "invalid UTF-8"))
        return
    ok, x = coerce(f, v, False)
    if not ok:
        errs.append((path, "cannot convert %r to %s" % (v, ttype(f))))
        return
    typed[path] = x


def apply_rules(schema, typed, errs, flat_names=False):
    bad_paths = {p for p, _ in errs}
    for r in schema.rules:
        p = r["field"]
        if flat_names:
            p = p.replace(".", "_")
        if p in bad_paths:
            continue
        w = r.get("when")
        if w:
            wv = typed.get(w["field"].replace(".", "_") if flat_names else w["field"])
            if "equals" in w and wv != w["equals"]:
                continue
            if "in" in w and wv not in w["in"]:
                continue
        v = typed.get(p)
        if r.get("required") and (v is None or v == []):
            errs.append((p, "required by rule"))
            continue
        for x in (v if isinstance(v, list) else [v]):
            if x is None:
                continue
            msg = rule_fails(r, x)
            if msg:
                errs.append((p, msg))
                break


def rule_fails(r, x):
    if "minimum" in r and isinstance(x, (int, float)) and x < r["minimum"]:
        return "below minimum %s" % r["minimum"]
    if "maximum" in r and isinstance(x, (int, float)) and x > r["maximum"]:
        return "above maximum %s" % r["maximum"]
    if isinstance(x, str):
        if "minLength" in r and len(x) < r["minLength"]:
            return "shorter than %d" % r["minLength"]
        if "maxLength" in r and len(x) > r["maxLength"]:
            return "longer than %d" % r["maxLength"]
        if "enum" in r and x not in r["enum"]:
            return "not in enum"
        if "re" in r and not r["re"].search(x):
            return "does not match %s" % r["pattern"]
    return None


# ---------------------------------------------------------------------------
# CSV

def csv_split(line):
    """One line -> [(text, quoted)] or raise ValueError (quotes must close on the line)."""
    out = []
    i, n = 0, len(line)
    while True:
        if i < n and line[i] == '"':
            j = i + 1
            buf = []
            while True:
                q = line.find('"', j)
                if q < 0:
                    raise ValueError("unterminated quote")
                buf.append(line[j:q])
                if q + 1 < n and line[q + 1] == '"':
                    buf.append('"')
                    j = q + 2
                    continue
                break
            i = q + 1
            out.append(("".join(buf), True))
            if i < n and line[i] != ",":
                raise ValueError("data between close quote and separator")
        else:
            c = line.find(",", i)
            text = line[i:] if c < 0 else line[i:c]
            if '"' in text:
                raise ValueError("quote inside unquoted field")
            out.append((text, False))
            i = n if c < 0 else c
        if i >= n:
            return out
        i += 1          # skip the comma
        if i == n:
            out.append(("", False))
            return out


def validate_csv(schema, cells, errs):
    cols = schema.fields
    if len(cells) != len(cols):
        errs.append(("", "%d fields, expected %d" % (len(cells), len(cols))))
        return
    typed = {}
    for f, (text, quoted) in zip(cols, cells):
        p = f["name"]
        if has_bad_utf8(text):
            errs.append((p, "invalid UTF-8"))
            continue
        ok, x = coerce(f, text, True, quoted)
        if not ok:
            errs.append((p, "cannot convert %r to %s" % (text, ttype(f))))
            continue
        if x is None and f.get("mode", "NULLABLE").upper() == "REQUIRED":
            errs.append((p, "REQUIRED field empty"))
            continue
        typed[p] = x
    apply_rules(schema, typed, errs, flat_names=True)


# ---------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--truth")
    ap.add_argument("--format", choices=("ndjson", "csv"))
    ap.add_argument("--schema")
    ap.add_argument("--rules")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    fmt = a.format or ("csv" if ".csv" in a.file else "ndjson")
    with open(a.file, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    problems = []

    def fail(msg):
        problems.append(msg)

    if data and not data.endswith(b"\n"):
        fail("file does not end with a newline")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for i, ln in enumerate(lines, 1):
        if ln.strip() == b"":
            fail("line %d is blank" % i)
    first = 1 if fmt == "csv" else 0
    header = None
    if fmt == "csv":
        if not lines:
            fail("CSV without a header line")
            header = []
        else:
            header = [t for t, _ in csv_split(lines[0].decode("utf-8"))]
    nrec = len(lines) - first

    truth = {}
    if a.truth:
        with open(a.truth, encoding="utf-8") as f:
            tl = f.read().split("\n")
        if tl and tl[-1] == "":
            tl.pop()
        if not tl or tl[0] != "record\tline\tkind\tfield":
            fail("truth header is %r" % (tl[0] if tl else None))
        last = 0
        for n, row in enumerate(tl[1:], 2):
            parts = row.split("\t")
            if len(parts) != 4:
                fail("truth line %d: %d columns" % (n, len(parts)))
                continue
            rec, line, kind, field = int(parts[0]), int(parts[1]), parts[2], parts[3]
            if rec <= last:
                fail("truth line %d: record %d not increasing" % (n, rec))
            last = rec
            if not 1 <= rec <= nrec:
                fail("truth line %d: record %d outside 1..%d" % (n, rec, nrec))
            if not 1 <= line <= len(lines):
                fail("truth line %d: line %d outside 1..%d" % (n, line, len(lines)))
            if line != rec + first:
                fail("truth line %d: line %d is not record %d's line" % (n, line, rec))
            if not kind:
                fail("truth line %d: empty kind" % n)
            truth[rec] = (kind, field)

    schema = Schema(a.schema, a.rules) if a.schema else None
    if schema and header is not None and header != schema.columns():
        fail("CSV header %r differs from the schema's columns" % header)

    kinds = {}
    undetected = []
    for rec in range(1, nrec + 1):
        raw = lines[rec - 1 + first]
        bad = truth.get(rec)
        if bad:
            kinds[bad[0]] = kinds.get(bad[0], 0) + 1
        errs = []
        text = raw.decode("utf-8", "surrogateescape")
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            errs.append(("?", "invalid UTF-8"))
        if fmt == "ndjson":
            try:
                obj = json.loads(text, object_pairs_hook=pairs_hook)
            except ValueError as e:
                errs = [("", "malformed JSON: %s" % e)]
                obj = None
            if obj is not None and not isinstance(obj, dict):
                errs.append(("", "not a JSON object"))
            elif obj is not None:
                structural = [("", "duplicate key")] if _has_dups(obj) else []
                if schema:
                    errs = [e for e in errs if e[0] != "?"]
                    typed = {}
                    validate_obj(schema, schema.fields, obj, "", errs, typed)
                    apply_rules(schema, typed, errs)
                    if not any(m == "invalid UTF-8 in key" or "UTF-8" in m for _, m in errs) and \
                            has_bad_utf8(text):
                        errs.append(("?", "invalid UTF-8"))
                elif structural:
                    errs += structural
        else:
            try:
                cells = csv_split(text)
            except ValueError as e:
                errs = [("", str(e))]
                cells = None
            if cells is not None:
                if schema:
                    errs = [e for e in errs if e[0] != "?"]
                    validate_csv(schema, cells, errs)
                    if not errs and has_bad_utf8(text):
                        errs.append(("?", "invalid UTF-8"))
                elif len(cells) != len(header):
                    errs.append(("", "%d fields, header has %d" % (len(cells), len(header))))
        if bad is None and errs:
            fail("record %d (clean) fails: %s" % (rec, "; ".join("%s: %s" % e for e in errs[:3])))
        elif bad is not None and not errs and (schema or bad[0] in STRUCTURAL_KINDS):
            undetected.append(rec)
            fail("record %d (%s %s) passes the checks" % (rec, bad[0], bad[1]))
        elif bad is not None and errs and schema:
            paths = {p for p, _ in errs}
            if bad[1] not in paths and not (bad[1] == "" and "" in paths):
                fail("record %d (%s): truth names field %r, errors are at %s" % (
                    rec, bad[0], bad[1], sorted(paths)))
        if a.verbose and bad is not None:
            print("record %d %s %s -> %s" % (rec, bad[0], bad[1], errs[:2]))

    print("%s: %s, %d records, %d lines, %d bad %s%s" % (
        a.file, fmt, nrec, len(lines), len(truth), json.dumps(kinds, sort_keys=True),
        ", schema " + a.schema if schema else ""))
    for p in problems[:50]:
        print("  FAIL " + p)
    if len(problems) > 50:
        print("  ... %d more" % (len(problems) - 50))
    print("  %s" % ("OK" if not problems else "%d problem(s)" % len(problems)))
    return 0 if not problems else 1


STRUCTURAL_KINDS = {"malformed_json", "duplicate_key", "invalid_utf8", "too_few_columns", "too_many_columns",
                    "unterminated_quote"}


def _has_dups(o):
    if isinstance(o, dict):
        return bool(getattr(o, "dups", ())) or any(_has_dups(v) for v in o.values())
    if isinstance(o, list):
        return any(_has_dups(v) for v in o)
    return False


if __name__ == "__main__":
    sys.exit(main())
