#!/usr/bin/env python3
"""gen.py - deterministic test data for Sluice (Python 3 standard library only).

Writes rows for the reference platform's three tables as NDJSON or CSV, with an
optional, exactly sized fraction of bad records and a ground-truth file that
lists every one of them.  The same arguments always give the same bytes.

    python3 bench/gen.py --table equipment --rows 1000 -o equipment.ndjson
    python3 bench/gen.py --table sessions --rows 100000 --bad-fraction 0.01 \\
        --truth sessions.truth.tsv -o sessions.ndjson
    python3 bench/gen.py --table equipment --format csv --rows 1000 -o equipment_flat.csv
    python3 bench/gen.py --table sessions --rows 100 -o sessions.ndjson.gz   # gzip, mtime 0

Tables: equipment (universal_equipment_registry; CSV uses the flat form with
specs_* columns and tags as JSON array text), sessions (diagnostic_sessions),
videos (youtube_repair_videos).

Clean rows satisfy the BigQuery schema and every validation rule.  They vary the
accepted spellings: timestamps as "YYYY-MM-DDTHH:MM:SSZ", "YYYY-MM-DD
HH:MM:SS.ffffff", "...+02:00", "... UTC", "YYYY/MM/DD HH:MM:SS", "YYYY-MM-DDTHH:MM",
and (NDJSON only) epoch seconds as JSON numbers; INTEGER values sometimes as
JSON strings ("2015"); NULLABLE values sometimes null, sometimes absent; text
with non-ASCII letters, emoji, quotes, backslashes, tabs and (NDJSON only)
escaped newlines.  CSV rows never contain a newline inside a quoted field, so a
CSV record is exactly one line (BigQuery's allowQuotedNewlines defaults to false).

Bad records (--bad-fraction F): round(F * rows) records, at positions drawn from
a seeded generator, each get exactly one defect.  Kinds are dealt in shuffled
rounds, so every kind of the table/format occurs once before any repeats.
The other records are byte-identical to the file made with --bad-fraction 0.

  NDJSON kinds                          CSV kinds
  malformed_json    truncated line,      too_few_columns   1-3 trailing columns cut
                    trailing comma, ...  too_many_columns  an extra column
  wrong_type        "abc" for INTEGER,   unterminated_quote  last field opens a quote
                    "2024-13-45" for                       that never closes
                    TIMESTAMP, ...       wrong_type, missing_required (empty field),
  missing_required  REQUIRED key absent  enum_violation, pattern_violation,
  null_required     REQUIRED key = null  range_violation, invalid_utf8
  unknown_key       "unexpected_field"   (same meaning as for NDJSON)
  enum_violation    value outside enum
  pattern_violation value fails the id's regex (VIN with I/O/Q, wrong length ...)
  range_violation   year 1800, negative count, like_ratio 1.5, ...
  duplicate_key     a key repeated in one object
  not_array         "tags": "fleet" (scalar for REPEATED)
  invalid_utf8      raw invalid UTF-8 bytes inside a string value

With --main-rules, defects that only the extra rules of samples/schemas/main/
catch are added: length_violation (minLength/maxLength: model > 100 chars,
manufacturer "", a tag "" or > 64 chars, notes > 10000 chars, title "" or > 100
chars) and enum_violation on specs.fuel_type ("lpg").  Without it every defect
is one that the shared *.rules.json catch as well.

--truth FILE writes a TSV "record<TAB>line<TAB>kind<TAB>field": 1-based record
number (CSV header excluded), 1-based line number in the file, defect kind and
the dotted field path (empty when the defect is not about one field).
"""
import argparse
import gzip
import json
import sys
import time
from operator import mul
from random import Random

# ---------------------------------------------------------------------------
# vocabulary

ID_TYPES = ("VIN", "HIN", "Serial", "IMEI", "ESN", "Registration", "AssetTag", "MAC", "UUID")
CATEGORIES = ("passenger_vehicle", "commercial_truck", "motorcycle", "marine_vessel", "aircraft",
              "agricultural_machinery", "construction_equipment", "industrial_machinery",
              "consumer_electronics", "medical_device")
CHANNEL_CATEGORIES = ("automotive", "motorcycle", "marine", "aviation", "heavy_equipment",
                      "agricultural", "electronics", "appliance", "small_engine", "diy_general")

VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"            # no I, O, Q
VIN_VALUE = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ", (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9,
                                                  2, 3, 4, 5, 6, 7, 8, 9)))
VIN_VALUE.update((str(d), d) for d in range(10))
VIN_WEIGHT = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_FIX = str.maketrans("IOQ", "100")
VIN_YEAR = "ABCDEFGHJKLMNPRSTVWXY123456789"                # position 10, 30-year cycle from 1980
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
UPPER_DIGITS = UPPER + "0123456789"
HEX_UP = "0123456789ABCDEF"
HEX_LO = "0123456789abcdef"
LOWER_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
YT_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

# category: (weight, [(id_type, weight)], year range, fuels or None,
#            (power kW lo, hi), (weight kg lo, hi), (displacement cc lo, hi) or None)
CATEGORY_INFO = {
    "passenger_vehicle": (34, (("VIN", 1),), (1978, 2025), ("gasoline", "gasoline", "diesel", "hybrid", "electric"),
                          (44, 390), (850, 2700), (900, 5700)),
    "commercial_truck": (9, (("VIN", 8), ("AssetTag", 2)), (1990, 2025), ("diesel", "diesel", "cng", "electric"),
                         (120, 480), (5500, 18000), (4500, 16000)),
    "motorcycle": (7, (("VIN", 1),), (1970, 2025), ("gasoline", "gasoline", "electric"),
                   (8, 170), (100, 430), (110, 1900)),
    "marine_vessel": (6, (("HIN", 4), ("Registration", 1)), (1975, 2025), ("gasoline", "diesel", "electric"),
                      (20, 950), (300, 15000), (1000, 9000)),
    "aircraft": (3, (("Registration", 3), ("Serial", 1)), (1960, 2025), ("avgas", "jet_a"),
                 (75, 1200), (500, 6000), (3000, 9000)),
    "agricultural_machinery": (6, (("Serial", 3), ("VIN", 1), ("AssetTag", 1)), (1965, 2025), ("diesel",),
                               (30, 480), (1500, 19000), (2500, 16000)),
    "construction_equipment": (7, (("Serial", 3), ("AssetTag", 2), ("VIN", 1)), (1980, 2025), ("diesel", "diesel", "electric"),
                               (15, 320), (1200, 45000), (1500, 15000)),
    "industrial_machinery": (8, (("AssetTag", 3), ("Serial", 2), ("MAC", 1)), (1985, 2025), ("electric",),
                             (0.4, 250), (10, 4000), None),
    "consumer_electronics": (13, (("IMEI", 4), ("MAC", 2), ("Serial", 2), ("ESN", 1), ("UUID", 1)), (2006, 2025), None,
                             (0.003, 0.35), (0.02, 3.5), None),
    "medical_device": (7, (("Serial", 3), ("UUID", 3), ("AssetTag", 2), ("MAC", 1)), (1998, 2025), None,
                       (0.01, 55), (0.1, 8500), None),
}

# category: [(manufacturer, code used in VIN WMI / HIN maker code / serial prefix, [models])]
MAKES = {
    "passenger_vehicle": [
        ("Toyota", "JT2", ["Corolla", "Yaris Cross", "Hilux", "Prius+"]),
        ("Ford", "1FM", ["F-150", "Fiesta", "Bronco Sport", "Transit Connect"]),
        ("Renault", "VF1", ["Clio", "Mégane E-Tech", "Zoe", "Kangoo"]),
        ("Škoda", "TMB", ["Octavia Combi", "Kodiaq", "Fabia"]),
        ("Mercedes-Benz", "WDD", ["C 200", "E 300 de", "Sprinter 316, high roof"]),
        ("Kia", "KNA", ["Picanto", "Sportage", "EV6 GT-Line"]),
        ("Subaru", "JF1", ["Outback", "Forester", "BRZ"]),
        ("Volvo", "YV1", ["XC60 B5", "V90 Cross Country", "EX30"]),
        ("Mazda", "JM1", ["MX-5 Miata", "CX-5", "3 Hatchback"]),
        ("Peugeot", "VF3", ["208", "3008 Hybrid4", "Partner"]),
    ],
    "commercial_truck": [
        ("Scania", "YS2", ["R 450", "S 730 V8", "P 280"]),
        ("MAN", "WMA", ["TGX 18.510", "TGS 26.440", "TGE 3.180"]),
        ("Iveco", "ZCF", ["S-Way 490", "Daily 35S14", "Eurocargo ML120"]),
        ("International", "3HS", ["LT625", "MV607", "HV513"]),
        ("Hino", "JHH", ["L6", "XL8", "300 Series"]),
    ],
    "motorcycle": [
        ("Triumph", "SMT", ["Bonneville T120", "Tiger 900", "Street Triple RS"]),
        ("Suzuki", "JS1", ["V-Strom 650", "GSX-R750", "DR-Z400S"]),
        ("BMW Motorrad", "WB1", ["R 1250 GS", "S 1000 RR", "F 900 XR"]),
        ("Royal Enfield", "ME3", ["Himalayan", "Classic 350", "Interceptor 650"]),
        ("Aprilia", "ZD4", ["RS 660", "Tuono V4", "SR GT 200"]),
    ],
    "marine_vessel": [
        ("Jeanneau", "JEA", ["Sun Odyssey 410", "Cap Camarat 7.5", "Merry Fisher 795"]),
        ("Chaparral", "FGB", ["21 SSi", "267 SSX", "Signature 30"]),
        ("Lund", "LUN", ["1875 Impact XS", "2075 Pro-V", "1650 Rebel"]),
        ("Princess", "PRN", ["F45", "V50", "Y72"]),
        ("Nimbus", "NIM", ["T9", "C11", "W9"]),
    ],
    "aircraft": [
        ("Pilatus", "PIL", ["PC-12 NGX", "PC-24", "PC-6 Porter"]),
        ("Mooney", "MOO", ["M20V Acclaim", "M20U Ovation"]),
        ("Tecnam", "TEC", ["P2008JC", "P2010", "P2012 Traveller"]),
        ("Daher", "DAH", ["TBM 960", "Kodiak 100"]),
        ("Airbus Helicopters", "AHE", ["H125", "H135", "H145"]),
    ],
    "agricultural_machinery": [
        ("Massey Ferguson", "MFE", ["MF 8S.265", "MF 5711", "MF IDEAL 9T"]),
        ("Deutz-Fahr", "DFA", ["6185 TTV", "5115 D", "C9306 TS"]),
        ("Valtra", "VAL", ["T254 Versu", "N175 Direct", "A115"]),
        ("Kverneland", "KVE", ["2500 i-Plough", "Exacta TL", "Optima V"]),
        ("Krone", "KRO", ["BiG X 1180", "Comprima V150", "EasyCut B 1000"]),
    ],
    "construction_equipment": [
        ("Liebherr", "LIE", ["R 926", "L 566 XPower", "LTM 1090-4.2"]),
        ("Doosan", "DOO", ["DX225LC-7", "DL420-7", "DX63-3"]),
        ("Takeuchi", "TAK", ["TB290-2", "TL12V2", "TB225"]),
        ("Wacker Neuson", "WAC", ["EZ26", "DW60", "ET42"]),
        ("Manitou", "MAN", ["MT 1440", "MRT 2660", "MLT 737"]),
    ],
    "industrial_machinery": [
        ("KUKA", "KUK", ["KR QUANTEC", "KR AGILUS sixx", "LBR iiwa 14"]),
        ("Yaskawa", "YAS", ["Motoman GP25", "GA700", "HC10DTP"]),
        ("Schneider Electric", "SCH", ["Altivar 320", "Modicon M580", "TeSys D"]),
        ("Kaeser", "KAE", ["ASD 40 T", "SM 15", "CSD 125"]),
        ("Trumpf", "TRU", ["TruLaser 3030", "TruBend 5130", "TruPunch 1000"]),
    ],
    "consumer_electronics": [
        ("Xiaomi", "XIA", ["Redmi Note 13", "Mi Band 8", "Robot Vacuum S10+"]),
        ("OnePlus", "ONP", ["12R", "Nord CE 3", "Buds Pro 2"]),
        ("Nintendo", "NIN", ["Switch OLED", "Switch Lite"]),
        ("Fairphone", "FAI", ["Fairphone 5", "Fairphone 4"]),
        ("LG", "LGE", ["OLED55C3 55\"", "gram 16", "Velvet"]),
        ("Bose", "BOS", ["QuietComfort Ultra", "SoundLink Flex"]),
    ],
    "medical_device": [
        ("Dräger", "DRA", ["Fabius plus XL", "Oxylog 3000 plus", "Savina 300"]),
        ("Mindray", "MIN", ["BeneVision N12", "Resona 7", "SV300"]),
        ("Olympus", "OLY", ["EVIS X1", "CV-190"]),
        ("Fresenius", "FRE", ["5008S CorDiax", "Agilia VP"]),
        ("Stryker", "STR", ["LIFEPAK 35", "Power-PRO XT"]),
    ],
}
COLORS = ("white", "black", "silver", "graphite grey", "navy blue", "red", "forest green", "yellow",
          "orange", "beige", "brown", "bleu de France", "verde oliva", "weiß", "シルバー", "matte black")
TAGS = ("fleet", "leased", "rental", "warranty", "recall-open", "recall-closed", "imported", "salvage",
        "certified", "government", "high-mileage", "low-hours", "refurbished", "maintenance-due",
        "decommissioned", "insured", "gps-tracked", "export", "calibration-due", "hazmat", "donated",
        "coöp-owned", "Flotte Süd", "中古", "tag with spaces", "a,b")
REG_PREFIXES = ("N", "G-", "D-", "F-", "C-", "VH-", "JA", "OK-", "SE-", "EI-")

DTCS = ("P0300", "P0301", "P0304", "P0171", "P0172", "P0420", "P0455", "P0442", "P0128", "P0507",
        "P0101", "P0700", "P0730", "P2187", "P0335", "P0A0F", "P1FFF", "C0040", "C1201", "C0561",
        "B1318", "B2AAA", "B0092", "U0073", "U0401", "U3000", "U0140")
NOTES = (
    "Check-engine light on since Monday; {code} stored, cleared and will re-test.",
    "Customer says the car \"shudders\" at 90 km/h — inspect mounts #{n}.",
    "Ralenti instable, vanne EGR « encrassée » ; {code} effacé.",
    "Kunde meldet: „Motor geht aus“ – Kurbelwellensensor {n} prüfen.",
    "警告灯点灯。{code} を確認、O2センサー交換を推奨。",
    "Не заводится на холодную, {code}; проверить свечи ({n} шт).",
    "Battery 12.{n} V 🔋 after overnight drain test.",
    "Saved scan to D:\\scans\\job_{n}.csv \\ see attachment",
    "Freeze frame {code}: RPM=760, LOAD=23%, ECT=88°C, LTFT=-4.7%",
    "Frenos: pastillas al {n}0 %; cliente dice \"sin ruido\".",
    "仪表盘故障灯亮，读取到 {code}，建议更换点火线圈。",
    "Follow-up:\tcall customer in {n} days.",
    "Two faults found.\nFirst: {code}.\nSecond: loose ground strap G{n}.",
    "ok",
    "🔧🚗 done",
)
PARTS = ("brake caliper", "alternator", "timing chain", "water pump", "glow plugs", "starter", "fuel injector",
         "drive belt", "thermostat housing", "pollen filter", "wheel bearing", "clutch kit", "display",
         "battery pack", "USB-C port", "impeller", "carburetor", "hydraulic pump", "spark plug",
         "A/C compressor", "MAF sensor", "DPF", "turbo actuator", "head gasket")
TITLES = (
    "How to replace the {part} on a {year} {make} {model}",
    "{make} {model} {part} replacement - easy DIY ({year})",
    "{code} diagnosed and fixed | {make} {model}",
    "Don't buy a {part} before watching this! {make} 🔧",
    "{make} {model}: {part} \"the right way\"",
    "Changer {part} {make} {model} — tuto complet",
    "{make} {model} {part} wechseln | Anleitung",
    "{make} {model} の{part}交換【{year}年式】",
    "Cómo cambiar {part} en {make} {model}",
    "Why is my {make} {model} leaking? ({part}, {code})",
)

T2000 = 946684800
T2012 = 1325376000
T2018 = 1514764800
T2025 = 1751328000   # 2025-07-01
OFFSETS = (("+02:00", 7200), ("-05:00", -18000), ("+05:30", 19800), ("+09:00", 32400),
           ("-08:00", -28800), ("+00:00", 0), ("-03:30", -12600), ("+01:00", 3600))
BAD_UTF8 = (b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80",
            b"\x80", b"\xf4\x90\x80\x80")


def utf8_mark(i):
    """Placeholder for BAD_UTF8[i] (private-use characters never occur in clean rows)."""
    return "\ue000%d\ue001" % i


def weighted_picker(pairs):
    """[(value, weight)] -> f(u) for u in [0,1) (one random() call per pick)."""
    total = float(sum(w for _, w in pairs))
    acc, edges, vals = 0.0, [], []
    for v, w in pairs:
        acc += w / total
        edges.append(acc)
        vals.append(v)
    edges[-1] = 1.0

    def pick(u):
        for e, v in zip(edges, vals):
            if u < e:
                return v
        return vals[-1]
    return pick


def pick(rng, seq):
    """rng.choice, faster (one random() call; the generator's own, deterministic)."""
    return seq[int(rng.random() * len(seq))]


def below(rng, a, b=None):
    """rng.randrange(a) or rng.randrange(a, b), faster."""
    if b is None:
        return int(rng.random() * a)
    return a + int(rng.random() * (b - a))


def between(rng, a, b):
    """rng.randint(a, b), faster."""
    return a + int(rng.random() * (b - a + 1))


# ---------------------------------------------------------------------------
# identifiers

def vin_for(rng, wmi, year):
    wmi = wmi.translate(VIN_FIX)
    ch = rng.choices(VIN_CHARS, k=6)
    body = "%s%s0%s%s%06d" % (wmi, "".join(ch[:5]), VIN_YEAR[(year - 1980) % 30], ch[5], below(rng, 1000000))
    s = sum(map(mul, map(VIN_VALUE.__getitem__, body), VIN_WEIGHT)) % 11
    return body[:8] + ("X" if s == 10 else str(s)) + body[9:]


def imei(rng):
    d = [below(rng, 10) for _ in range(14)]
    d[0], d[1] = 3, 5
    s = 0
    for i, x in enumerate(d):
        if i % 2:
            x *= 2
            if x > 9:
                x -= 9
        s += x
    d.append((10 - s % 10) % 10)
    return "".join(map(str, d))


def uuid4(rng):
    h = "%032x" % rng.getrandbits(128)
    return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[int(h[16], 16) & 3], h[17:20], h[20:])


def make_id(rng, idt, code, year):
    if idt == "VIN":
        return vin_for(rng, code, year)
    if idt == "HIN":  # maker code, 5 serial chars, month letter, year digit, model year
        return "%s%s%s%d%02d" % (code, "".join(rng.choices(VIN_CHARS, k=5)), "ABCDEFGHIJKL"[below(rng, 12)],
                                  year % 10, (year + 1) % 100)
    if idt == "Serial":
        k = below(rng, 4)
        if k == 0:
            return "%s%07d" % (code, below(rng, 10 ** 7))
        if k == 1:
            return "%s-%04d-%s" % (code, year, "".join(rng.choices(UPPER_DIGITS, k=5)))
        if k == 2:
            return "%d%s%05d" % (below(rng, 1, 10), "".join(rng.choices(UPPER, k=2)), below(rng, 10 ** 5))
        return "".join(rng.choices(UPPER_DIGITS, k=between(rng, 6, 24)))
    if idt == "IMEI":
        return imei(rng)
    if idt == "ESN":
        return "".join(rng.choices(HEX_UP, k=8))
    if idt == "Registration":
        p = REG_PREFIXES[below(rng, len(REG_PREFIXES))]
        if p == "N":
            return "N%d%s" % (between(rng, 1, 99999), "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=below(rng, 3))))
        if p == "JA":
            return "JA%04d" % below(rng, 10000)
        if rng.random() < 0.15:   # boat-style "FL 1234 AB"
            return "%s %d %s" % (pick(rng, ("FL", "CA", "NY", "WA")), between(rng, 1000, 9999),
                                 "".join(rng.choices(UPPER, k=2)))
        return p + "".join(rng.choices(UPPER, k=4 if len(p) == 2 else 3))
    if idt == "AssetTag":
        return "AT-%07d" % below(rng, 10 ** 7)
    if idt == "MAC":
        return ":".join("".join(rng.choices(HEX_UP, k=2)) for _ in range(6))
    return uuid4(rng)


def break_id(rng, idt, v):
    """A value that fails the pattern of id type idt."""
    if idt == "VIN":
        k = below(rng, 4)
        if k == 0:
            i = below(rng, 17)
            return v[:i] + pick(rng, "IOQ") + v[i + 1:]
        if k == 1:
            return v[:16]
        if k == 2:
            return v + pick(rng, VIN_CHARS)
        return v.lower()
    if idt == "HIN":
        return pick(rng, (v[:3] + "-" + v[3:], v[:8] + "M" + v[9:], v[:11], v.lower()))
    if idt == "Serial":
        return pick(rng, ("-" + v[1:], v[:3] + "_" + v[4:] if len(v) > 4 else "A_B_C_D", "AB12", v.lower() + "x"))
    if idt == "IMEI":
        return pick(rng, (v[:14], v[:7] + "A" + v[8:], v + "0"))
    if idt == "ESN":
        return pick(rng, (v.lower() if any(c in "ABCDEF" for c in v) else v[:7] + "g", v + "0", v[:6]))
    if idt == "Registration":
        return pick(rng, ("n" + v[1:] if v[0].isalpha() else "x" + v, v + "/7", "REG-1234567890"))
    if idt == "AssetTag":
        return pick(rng, (v[:-1], "AT_" + v[3:], "at-" + v[3:]))
    if idt == "MAC":
        return pick(rng, (v.replace(":", "-"), v[:-3], v.lower() if any(c in "ABCDEF" for c in v) else v + ":00"))
    return pick(rng, (v.upper() if any(c in "abcdef" for c in v) else v.replace("-", ""),
                       v[:14] + "1" + v[15:], v.replace("-", "")))


# ---------------------------------------------------------------------------
# values

class Clock:
    """Timestamp texts in the spellings BigQuery accepts."""

    def __init__(self, csv_mode):
        self.csv = csv_mode
        self.pick = weighted_picker([(0, 52), (1, 12), (2, 9), (3, 6), (4, 6), (5, 3), (6, 4), (7, 3),
                                     (8, 2), (9, 3)])
        self.gm = time.gmtime

    def __call__(self, rng, t):
        k = self.pick(rng.random())
        f = below(rng, 1000000)
        if k == 0:
            return "%04d-%02d-%02dT%02d:%02d:%02dZ" % self.gm(t)[:6]
        if k == 1:
            return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (self.gm(t)[:6] + (f,))
        if k == 2:
            off, sec = OFFSETS[f % len(OFFSETS)]
            return "%04d-%02d-%02dT%02d:%02d:%02d.%03d%s" % (self.gm(t + sec)[:6] + (f // 1000, off))
        if k == 3:
            return "%04d-%02d-%02d %02d:%02d:%02d UTC" % self.gm(t)[:6]
        if k == 4:   # epoch seconds, JSON number (CSV: plain text form instead)
            if self.csv:
                return "%04d-%02d-%02d %02d:%02d:%02d" % self.gm(t)[:6]
            return t
        if k == 5:
            if self.csv:
                return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (self.gm(t)[:6] + (f // 1000,))
            return t + (f // 1000) / 1000.0
        if k == 6:
            return "%04d-%02d-%02dT%02d:%02dZ" % self.gm(t - t % 60)[:5]
        if k == 7:
            return "%04d/%02d/%02d %02d:%02d:%02d" % self.gm(t)[:6]
        if k == 8:
            off, sec = OFFSETS[f % len(OFFSETS)]
            return "%04d-%02d-%02dT%02d:%02d:%02d.%06d %s" % (self.gm(t + sec)[:6] + (f, off))
        return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (self.gm(t)[:6] + (f // 1000,))


def maybe_str_int(rng, v, p=0.06):
    """INTEGER values are sometimes sent as JSON strings, which BigQuery accepts."""
    return str(v) if rng.random() < p else v


# ---------------------------------------------------------------------------
# tables.  Each class: columns (CSV order), kinds(fmt), row(rng) -> dict,
# flat(rec) -> list of CSV cells (None = NULL), corrupt(brng, rec, kind) -> field

class Equipment:
    name = "universal_equipment_registry"
    columns = ["primary_id_type", "primary_id_value", "equipment_category", "manufacturer", "model", "year",
               "registered_at", "specs_fuel_type", "specs_power_kw", "specs_weight_kg", "specs_displacement_cc",
               "specs_color", "tags"]
    required = ("primary_id_type", "primary_id_value", "equipment_category", "registered_at")
    ndjson_kinds = ("malformed_json", "wrong_type", "missing_required", "null_required", "unknown_key",
                    "enum_violation", "pattern_violation", "range_violation", "duplicate_key", "not_array",
                    "invalid_utf8")
    csv_kinds = ("wrong_type", "missing_required", "too_few_columns", "too_many_columns", "unterminated_quote",
                 "enum_violation", "pattern_violation", "range_violation", "invalid_utf8")

    def __init__(self, rng, clock, csv_mode):
        self.clock = clock
        self.csv = csv_mode
        self.pick_cat = weighted_picker([(c, CATEGORY_INFO[c][0]) for c in CATEGORIES])
        self.pick_id = {c: weighted_picker(CATEGORY_INFO[c][1]) for c in CATEGORIES}

    def row(self, rng):
        cat = self.pick_cat(rng.random())
        _, _, (ylo, yhi), fuels, (plo, phi), (wlo, whi), disp = CATEGORY_INFO[cat]
        make, code, models = pick(rng, MAKES[cat])
        year = yhi - min(int(rng.expovariate(0.12)), yhi - ylo)
        idt = self.pick_id[cat](rng.random())
        rec = {"primary_id_type": idt,
               "primary_id_value": make_id(rng, idt, code, year),
               "equipment_category": cat}
        u = rng.random()
        if u < 0.93:
            rec["manufacturer"] = make
        elif u < 0.96:
            rec["manufacturer"] = None
        u = rng.random()
        if u < 0.9:
            rec["model"] = pick(rng, models)
        elif u < 0.95:
            rec["model"] = None
        u = rng.random()
        if u < 0.9:
            rec["year"] = maybe_str_int(rng, year)
        elif u < 0.95:
            rec["year"] = None
        t0 = max(T2012, T2000 + (year - 2000) * 31556952)
        rec["registered_at"] = self.clock(rng, below(rng, t0, T2025) if t0 < T2025 else T2025 - 1)
        u = rng.random()
        if u < 0.82:
            specs = {}
            if fuels is not None and rng.random() < 0.95:
                specs["fuel_type"] = pick(rng, fuels)
            elif rng.random() < 0.5:
                specs["fuel_type"] = None
            if rng.random() < 0.9:
                p = plo + (phi - plo) * rng.random() ** 2
                specs["power_kw"] = round(p, 1) if p >= 10 else round(p, 3)
            if rng.random() < 0.9:
                w = wlo + (whi - wlo) * rng.random()
                specs["weight_kg"] = round(w) if w >= 100 and rng.random() < 0.5 else round(w, 2)
            if disp is not None:
                if specs.get("fuel_type") != "electric" and rng.random() < 0.85:
                    specs["displacement_cc"] = maybe_str_int(rng, between(rng, disp[0], disp[1]))
                elif rng.random() < 0.3:
                    specs["displacement_cc"] = None
            if rng.random() < 0.8:
                specs["color"] = pick(rng, COLORS)
            rec["specs"] = specs
        elif u < 0.86:
            rec["specs"] = None
        u = rng.random()
        if u < 0.85:
            rec["tags"] = rng.sample(TAGS, min(int(rng.expovariate(0.6)), 5))
        elif u < 0.9:
            rec["tags"] = None
        return rec

    def flat(self, rec):
        out = [rec.get(c) for c in self.columns[:7]]
        s = rec.get("specs")
        if isinstance(s, dict):
            out += [s.get("fuel_type"), s.get("power_kw"), s.get("weight_kg"), s.get("displacement_cc"),
                    s.get("color")]
        else:
            out += [None] * 5
        t = rec.get("tags")
        out.append(json.dumps(t, ensure_ascii=False, separators=(",", ":")) if isinstance(t, list) else t)
        return out

    def corrupt(self, brng, rec, kind):
        csv = self.csv
        if kind in ("missing_required", "null_required"):
            f = brng.choice(self.required)
            if kind == "null_required":
                rec[f] = None
            else:
                rec.pop(f, None)
            return f
        if kind == "wrong_type":
            k = brng.randrange(4 if csv else 7)
            if k == 0:
                rec["year"] = brng.choice(("abc", "unknown", "20I5", "2015.5", "MMXV"))
                return "year"
            if k == 1:
                rec["registered_at"] = brng.choice(("2024-13-45", "2024-13-45T10:00:00Z", "2023-02-30 10:00:00",
                                                    "yesterday", "12/31/2021", "2021-06-01T25:61:00Z"))
                return "registered_at"
            if k == 2:
                rec["specs"] = dict(rec.get("specs") or {}, power_kw=brng.choice(("150hp", "high", "1,5")))
                return "specs_power_kw" if csv else "specs.power_kw"
            if k == 3:
                rec["specs"] = dict(rec.get("specs") or {}, displacement_cc=brng.choice(("1.6L", "big", "2.5")))
                return "specs_displacement_cc" if csv else "specs.displacement_cc"
            if k == 4:
                rec["specs"] = brng.choice(("n/a", "see attached", 0, ["diesel"]))
                return "specs"
            if k == 5:
                rec["year"] = brng.choice(({"y": 2015}, [2015, 2016]))
                return "year"
            rec["manufacturer"] = {"name": rec.get("manufacturer") or "Acme"}
            return "manufacturer"
        if kind == "unknown_key":
            if brng.random() < 0.6 or not isinstance(rec.get("specs"), dict):
                rec["unexpected_field"] = brng.choice(("x", 1, None, True, {"a": 1}))
                return "unexpected_field"
            rec["specs"]["unexpected_field"] = brng.choice(("turbo", 2, None))
            return "specs.unexpected_field"
        if kind == "enum_violation":
            u = brng.random()
            if self.main_rules and u < 0.3:
                rec["specs"] = dict(rec.get("specs") or {}, fuel_type=brng.choice(("lpg", "hydrogen", "Diesel")))
                return "specs_fuel_type" if csv else "specs.fuel_type"
            if u < 0.65:
                rec["primary_id_type"] = brng.choice(("Chassis", "vin", "SerialNumber", "PIN", "ICCID", "V.I.N."))
                return "primary_id_type"
            rec["equipment_category"] = brng.choice(("spaceship", "Passenger Vehicle", "drone", "boat", "tractor"))
            return "equipment_category"
        if kind == "pattern_violation":
            rec["primary_id_value"] = break_id(brng, rec["primary_id_type"], rec["primary_id_value"])
            return "primary_id_value"
        if kind == "range_violation":
            k = brng.randrange(3)
            if k == 0:
                rec["year"] = brng.choice((1800, 1899, 2101, 3024, -1))
                return "year"
            specs = rec.get("specs") if isinstance(rec.get("specs"), dict) else {}
            rec["specs"] = specs
            if k == 1:
                specs["power_kw"] = brng.choice((-5.0, -0.5, -120))
                return "specs_power_kw" if csv else "specs.power_kw"
            specs["weight_kg"] = brng.choice((-1.0, -2500.5, -0.01))
            return "specs_weight_kg" if csv else "specs.weight_kg"
        if kind == "length_violation":
            k = brng.randrange(2 if csv else 4)
            if k == 0:
                rec["model"] = (rec.get("model") or "Model") + " " + "X" * 100
                return "model"
            if k == 1:
                rec["manufacturer"] = "Société Générale de Machines Agricoles et Industrielles " * 2
                return "manufacturer"
            if k == 2:
                rec["manufacturer"] = ""
                return "manufacturer"
            rec["tags"] = (rec.get("tags") or []) + [brng.choice(("", "t" * 65))]
            return "tags"
        if kind == "not_array":
            rec["tags"] = brng.choice(("fleet", "fleet,leased", 7, {"tag": "fleet"}))
            return "tags"
        if kind == "invalid_utf8":
            k = brng.randrange(3)
            if k == 0 or (k == 2 and not isinstance(rec.get("specs"), dict)):
                rec["manufacturer"] = inject_mark(brng, rec.get("manufacturer") or "Acme Werke")
                return "manufacturer"
            if k == 1:
                rec["model"] = inject_mark(brng, rec.get("model") or "Model X")
                return "model"
            rec["specs"]["color"] = inject_mark(brng, rec["specs"].get("color") or "grey")
            return "specs_color" if csv else "specs.color"
        raise ValueError(kind)


class Sessions:
    name = "diagnostic_sessions"
    columns = ["session_id", "user_id", "equipment_id", "session_start", "session_duration_seconds",
               "diagnostic_codes_found", "diagnostic_code", "notes"]
    required = ("session_id", "user_id", "equipment_id", "session_start", "diagnostic_codes_found")
    ndjson_kinds = ("malformed_json", "wrong_type", "missing_required", "null_required", "unknown_key",
                    "pattern_violation", "range_violation", "duplicate_key", "invalid_utf8")
    csv_kinds = ("wrong_type", "missing_required", "too_few_columns", "too_many_columns", "unterminated_quote",
                 "pattern_violation", "range_violation", "invalid_utf8")

    def __init__(self, rng, clock, csv_mode):
        self.clock = clock
        self.csv = csv_mode
        p = Random(rng.getrandbits(64))
        wmis = [c for cat in ("passenger_vehicle", "commercial_truck", "motorcycle") for _, c, _ in MAKES[cat]]
        self.vins = [vin_for(p, p.choice(wmis), 2025 - min(int(p.expovariate(0.15)), 40)) for _ in range(20000)]
        self.users = ["usr_" + "".join(p.choices(LOWER_DIGITS, k=12)) for _ in range(8000)]
        self.t = T2018

    def row(self, rng):
        self.t += below(rng, 300)        # roughly time-ordered, like an event log
        if self.t >= T2025:
            self.t = T2018
        rec = {"session_id": uuid4(rng),
               "user_id": pick(rng, self.users),
               "equipment_id": pick(rng, self.vins),
               "session_start": self.clock(rng, self.t)}
        u = rng.random()
        if u < 0.95:
            rec["session_duration_seconds"] = maybe_str_int(rng, int(rng.lognormvariate(5.3, 1.1)))
        elif u < 0.975:
            rec["session_duration_seconds"] = None
        found = min(int(rng.expovariate(0.8)), 20)
        rec["diagnostic_codes_found"] = maybe_str_int(rng, found)
        if found:
            rec["diagnostic_code"] = pick(rng, DTCS) if rng.random() < 0.85 else "%s%d%03X" % (
                pick(rng, "PCBU"), below(rng, 4), below(rng, 4096))
        elif rng.random() < 0.5:
            rec["diagnostic_code"] = None
        u = rng.random()
        if u < 0.7:
            note = pick(rng, NOTES).format(code=rec.get("diagnostic_code") or "no DTC", n=between(rng, 1, 9))
            rec["notes"] = note.replace("\n", " ") if self.csv else note
        elif u < 0.85:
            rec["notes"] = None
        elif u < 0.9:
            rec["notes"] = ""
        return rec

    def flat(self, rec):
        return [rec.get(c) for c in self.columns]

    def corrupt(self, brng, rec, kind):
        if kind in ("missing_required", "null_required"):
            f = brng.choice(self.required)
            if kind == "null_required":
                rec[f] = None
            else:
                rec.pop(f, None)
            return f
        if kind == "wrong_type":
            k = brng.randrange(3 if self.csv else 5)
            if k == 0:
                rec["session_duration_seconds"] = brng.choice(("abc", "12m30s", "1h", "90.5", "NaN"))
                return "session_duration_seconds"
            if k == 1:
                rec["diagnostic_codes_found"] = brng.choice(("three", "2.5", "many", "0x3"))
                return "diagnostic_codes_found"
            if k == 2:
                rec["session_start"] = brng.choice(("2024-13-45", "2024-13-45T08:00:00Z", "not-a-date",
                                                    "2023-02-30T10:00:00Z", "2024-06-01T24:30:00Z"))
                return "session_start"
            if k == 3:
                rec["diagnostic_codes_found"] = brng.choice(([1, 2], {"n": 2}, True))
                return "diagnostic_codes_found"
            rec["diagnostic_code"] = ["P0300", "P0301"]
            return "diagnostic_code"
        if kind == "unknown_key":
            rec[brng.choice(("unexpected_field", "vehicle_vin", "Notes2"))] = brng.choice(("x", 0, None, [1]))
            return [k for k in rec if k not in self.columns][0]
        if kind == "pattern_violation":
            k = brng.randrange(4)
            if k == 0:
                rec["diagnostic_codes_found"] = 1
                rec["diagnostic_code"] = brng.choice(("P03O1", "p0301", "X1234", "P0301,P0302", "P4000", "0301",
                                                      "P03011"))
                return "diagnostic_code"
            if k == 1:
                rec["equipment_id"] = break_id(brng, "VIN", rec["equipment_id"])
                return "equipment_id"
            if k == 2:
                rec["user_id"] = brng.choice(("user_" + rec["user_id"][4:], rec["user_id"].upper(),
                                              rec["user_id"][:-1], rec["user_id"] + "_"))
                return "user_id"
            rec["session_id"] = break_id(brng, "UUID", rec["session_id"])
            return "session_id"
        if kind == "range_violation":
            if brng.random() < 0.5:
                rec["session_duration_seconds"] = brng.choice((-1, -30, -86400))
                return "session_duration_seconds"
            rec["diagnostic_codes_found"] = brng.choice((-1, -3))
            return "diagnostic_codes_found"
        if kind == "invalid_utf8":
            rec["notes"] = inject_mark(brng, rec.get("notes") or "engine noise")
            return "notes"
        if kind == "length_violation":
            rec["notes"] = ("Very long log paste: " + "P0300 misfire; " * 700)[:10001 + brng.randrange(50)]
            return "notes"
        raise ValueError(kind)


class Videos:
    name = "youtube_repair_videos"
    columns = ["video_id", "channel_id", "channel_category", "title", "view_count", "like_ratio", "published_at"]
    required = ("video_id", "channel_id", "channel_category", "title", "published_at")
    ndjson_kinds = ("malformed_json", "wrong_type", "missing_required", "null_required", "unknown_key",
                    "enum_violation", "pattern_violation", "range_violation", "duplicate_key", "invalid_utf8")
    csv_kinds = ("wrong_type", "missing_required", "too_few_columns", "too_many_columns", "unterminated_quote",
                 "enum_violation", "pattern_violation", "range_violation", "invalid_utf8")

    def __init__(self, rng, clock, csv_mode):
        self.clock = clock
        self.csv = csv_mode
        p = Random(rng.getrandbits(64))
        self.channels = [("UC" + "".join(p.choices(YT_CHARS, k=22)), p.choice(CHANNEL_CATEGORIES))
                         for _ in range(3000)]
        self.makes = [(m, models) for cat in ("passenger_vehicle", "motorcycle", "commercial_truck", "marine_vessel",
                                              "agricultural_machinery", "consumer_electronics", "aircraft")
                      for m, _, models in MAKES[cat]]

    def row(self, rng):
        ch, cat = pick(rng, self.channels)
        make, models = pick(rng, self.makes)
        rec = {"video_id": "".join(rng.choices(YT_CHARS, k=11)),
               "channel_id": ch,
               "channel_category": cat,
               "title": pick(rng, TITLES).format(part=pick(rng, PARTS), year=between(rng, 1995, 2025), make=make,
                                                  model=pick(rng, models), code=pick(rng, DTCS))[:100]}
        u = rng.random()
        if u < 0.96:
            rec["view_count"] = maybe_str_int(rng, int(rng.lognormvariate(8.0, 2.4)))
        elif u < 0.98:
            rec["view_count"] = None
        u = rng.random()
        if u < 0.9:
            rec["like_ratio"] = round(min(1.0, rng.betavariate(15, 1.3)), 4)
        elif u < 0.92:
            rec["like_ratio"] = pick(rng, (0.0, 1.0, 1, 0))   # the inclusive bounds, as float and int
        elif u < 0.96:
            rec["like_ratio"] = None
        rec["published_at"] = self.clock(rng, below(rng, T2012, T2025))
        return rec

    def flat(self, rec):
        return [rec.get(c) for c in self.columns]

    def corrupt(self, brng, rec, kind):
        if kind in ("missing_required", "null_required"):
            f = brng.choice(self.required)
            if kind == "null_required":
                rec[f] = None
            else:
                rec.pop(f, None)
            return f
        if kind == "wrong_type":
            k = brng.randrange(3 if self.csv else 4)
            if k == 0:
                rec["view_count"] = brng.choice(("1.2M", "12K views", "abc", "1,234", "12.5"))
                return "view_count"
            if k == 1:
                rec["like_ratio"] = brng.choice(("97%", "high", "0,95"))
                return "like_ratio"
            if k == 2:
                rec["published_at"] = brng.choice(("2 years ago", "2024-13-45", "2020-00-10T00:00:00Z",
                                                   "2021-04-31T12:00:00Z"))
                return "published_at"
            rec["like_ratio"] = brng.choice(([0.9], {"likes": 10}))
            return "like_ratio"
        if kind == "unknown_key":
            rec[brng.choice(("unexpected_field", "duration", "thumbnail_url"))] = brng.choice(("PT12M", 600, None))
            return [k for k in rec if k not in self.columns][0]
        if kind == "enum_violation":
            rec["channel_category"] = brng.choice(("Automotive", "cars", "gaming", "auto_repair", "diy general"))
            return "channel_category"
        if kind == "pattern_violation":
            v = rec["video_id"]
            if brng.random() < 0.6:
                rec["video_id"] = brng.choice((v[:10], v + "x", v[:5] + "!" + v[6:], "https://youtu.be/" + v))
                return "video_id"
            c = rec["channel_id"]
            rec["channel_id"] = brng.choice((c[2:], "uc" + c[2:], c[:-1], c + "A"))
            return "channel_id"
        if kind == "range_violation":
            if brng.random() < 0.6:
                rec["like_ratio"] = brng.choice((1.5, 1.0001, -0.1, 97.0, 2))
                return "like_ratio"
            rec["view_count"] = brng.choice((-1, -500))
            return "view_count"
        if kind == "invalid_utf8":
            rec["title"] = inject_mark(brng, rec["title"])
            return "title"
        if kind == "length_violation":
            if self.csv or brng.random() < 0.7:
                rec["title"] = (rec["title"] + " | " + rec["title"] + " | FULL GUIDE 2024 | subscribe!!")[:101 + brng.randrange(60)]
                rec["title"] += "!" * max(0, 101 - len(rec["title"]))
            else:
                rec["title"] = ""
            return "title"
        raise ValueError(kind)


TABLES = {"equipment": Equipment, "universal_equipment_registry": Equipment,
          "sessions": Sessions, "diagnostic_sessions": Sessions,
          "videos": Videos, "youtube_repair_videos": Videos}
TABLE_SALT = {Equipment: 11, Sessions: 22, Videos: 33}


def inject_mark(brng, s):
    i = brng.randrange(len(s) + 1)
    return s[:i] + utf8_mark(brng.randrange(len(BAD_UTF8))) + s[i:]


# ---------------------------------------------------------------------------
# text-level corruption (NDJSON)

def malform(brng, line):
    k = brng.randrange(5)
    if k == 0 or k == 1:                  # truncated line (a partial write): never a complete object
        return line[:brng.randint(1, len(line) - 2)]
    if k == 2:                            # trailing comma
        return line[:-1] + ",}"
    if k == 3:                            # unquoted first key
        q = line.index('"', 2)
        return "{" + line[2:q] + line[q + 1:]
    return line[:-1] + ',"note":}'        # key without a value


def duplicate_key(brng, rec, line, dumps):
    keys = [k for k, v in rec.items() if v is not None and not isinstance(v, (dict, list))]
    k = brng.choice(keys)
    v = rec[k]                             # the same (valid) value twice
    tail = "," + dumps(k) + ":" + dumps(v)
    if brng.random() < 0.5:
        return line[:-1] + tail + "}", k
    return "{" + tail[1:] + "," + line[1:], k


# ---------------------------------------------------------------------------
# CSV

def csv_cell(v):
    if v is None:
        return ""
    if v.__class__ is str:
        if v == "":
            return '""'
        if '"' in v or "," in v or "\n" in v or "\r" in v:
            return '"' + v.replace('"', '""') + '"'
        return v
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (dict, list)):
        return csv_cell(json.dumps(v, ensure_ascii=False, separators=(",", ":")))
    return repr(v) if isinstance(v, float) else str(v)


def csv_line(cells):
    return ",".join([csv_cell(v) for v in cells])


# ---------------------------------------------------------------------------

def generate(table_cls, rows, fmt, bad_fraction, seed, out, truth, main_rules=False):
    csv_mode = fmt == "csv"
    salt = TABLE_SALT[table_cls]
    rng = Random(seed * 1009 + salt)               # row values
    brng = Random(seed * 1009 + salt + 500)        # which rows are bad, and how
    gen = table_cls(rng, Clock(csv_mode), csv_mode)
    gen.main_rules = main_rules
    kinds = list(gen.csv_kinds if csv_mode else gen.ndjson_kinds)
    if main_rules:
        kinds.append("length_violation")
    n_bad = int(bad_fraction * rows + 0.5) if bad_fraction > 0 else 0
    n_bad = min(max(n_bad, 1 if bad_fraction > 0 and rows > 0 else 0), rows)
    bad_at = {}
    if n_bad:
        order = []
        for r in sorted(brng.sample(range(1, rows + 1), n_bad)):
            if not order:
                order = kinds[:]
                brng.shuffle(order)
            bad_at[r] = order.pop()
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    counts = {}
    chunk = []
    chunk_has_mark = False
    line_no = 0
    row = gen.row
    flat = gen.flat
    ncols = len(gen.columns)
    if csv_mode:
        chunk.append(",".join(gen.columns))
        line_no = 1
    for i in range(1, rows + 1):
        rec = row(rng)
        kind = bad_at.get(i)
        if kind is None:
            chunk.append(dumps(rec) if not csv_mode else csv_line(flat(rec)))
            line_no += 1
        else:
            field = ""
            if kind in ("malformed_json", "duplicate_key", "too_few_columns", "too_many_columns",
                        "unterminated_quote"):
                if kind == "malformed_json":
                    text = malform(brng, dumps(rec))
                elif kind == "duplicate_key":
                    text, field = duplicate_key(brng, rec, dumps(rec), dumps)
                else:
                    cells = [csv_cell(v) for v in flat(rec)]
                    if kind == "too_few_columns":
                        cells = cells[:ncols - brng.randint(1, 3)]
                    elif kind == "too_many_columns":
                        cells.append(csv_cell(brng.choice(("extra", "", "oops, a comma", "42"))))
                    else:
                        last = flat(rec)[-1]
                        last = str(last if last is not None else "open").replace('"', "")
                        cells[-1] = '"' + last          # the quote never closes on this line
                    text = ",".join(cells)
            else:
                field = gen.corrupt(brng, rec, kind)
                text = dumps(rec) if not csv_mode else csv_line(flat(rec))
                if kind == "invalid_utf8":
                    chunk_has_mark = True
            chunk.append(text)
            line_no += 1
            counts[kind] = counts.get(kind, 0) + 1
            if truth is not None:
                truth.append("%d\t%d\t%s\t%s\n" % (i, line_no, kind, field))
        if len(chunk) >= 20000:
            flush(out, chunk, chunk_has_mark)
            chunk = []
            chunk_has_mark = False
    if chunk:
        flush(out, chunk, chunk_has_mark)
    return counts


def flush(out, chunk, has_mark):
    chunk.append("")
    data = "\n".join(chunk).encode("utf-8")
    if has_mark:
        for i, b in enumerate(BAD_UTF8):
            data = data.replace(utf8_mark(i).encode("utf-8"), b)
    out.write(data)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", required=True, choices=sorted(TABLES))
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--format", choices=("ndjson", "csv"), default="ndjson")
    ap.add_argument("--bad-fraction", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--truth", help="write the bad-record ground truth (TSV) here")
    ap.add_argument("-o", "--output", required=True, help="output file, '-' for stdout; a .gz name is gzipped")
    ap.add_argument("--main-rules", action="store_true",
                    help="also make defects only samples/schemas/main's extra rules catch "
                         "(length_violation; specs.fuel_type enum)")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)
    if not 0.0 <= a.bad_fraction <= 1.0:
        ap.error("--bad-fraction must be in [0, 1]")
    if a.rows < 0:
        ap.error("--rows must be >= 0")
    t0 = time.time()
    if a.output == "-":
        raw, out = None, sys.stdout.buffer
    else:
        raw = out = open(a.output, "wb")
        if a.output.endswith(".gz"):
            out = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
    truth = [] if a.truth else None
    try:
        counts = generate(TABLES[a.table], a.rows, a.format, a.bad_fraction, a.seed, out, truth, a.main_rules)
    finally:
        if out is not raw and raw is not None:
            out.close()
        if raw is not None:
            raw.close()
        else:
            out.flush()
    if a.truth:
        with open(a.truth, "w", encoding="utf-8", newline="\n") as f:
            f.write("record\tline\tkind\tfield\n")
            f.writelines(truth)
    if not a.quiet:
        dt = time.time() - t0
        print("gen.py: %s %s rows=%d bad=%d %s %.2fs (%.0f rows/s)" % (
            TABLES[a.table].name, a.format, a.rows, sum(counts.values()),
            json.dumps(counts, sort_keys=True), dt, a.rows / dt if dt > 0 else 0), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
