/* csvgen.h - random CSV files for the row fast path's differential test
 * (test_fastpath_rows.c): rows of the equipment_flat sample table and of an
 * inline table with every column type and rule shape the fast path handles,
 * valid or with one or two defects (bad enum, VIN, number, range, length,
 * UTF-8, timestamp, missing/extra columns, CSV junk, ...), quoted and escaped
 * as the options say. Uses difftest.h's random numbers. tests. */
#ifndef SL_TESTS_CSVGEN_H
#define SL_TESTS_CSVGEN_H

#include "difftest.h"

static const char *const ID_TYPES[] = {"VIN",          "HIN",      "Serial", "IMEI", "ESN",
                                       "Registration", "AssetTag", "MAC",    "UUID"};
static const char *const CATEGORIES[] = {"passenger_vehicle",
                                         "commercial_truck",
                                         "motorcycle",
                                         "marine_vessel",
                                         "aircraft",
                                         "agricultural_machinery",
                                         "construction_equipment",
                                         "industrial_machinery",
                                         "consumer_electronics",
                                         "medical_device"};
static const char *const FUELS[] = {"gasoline", "diesel", "hybrid", "electric",
                                    "cng",      "avgas",  "jet_a"};
static const char *const WORDS[] = {
    "Mercedes-Benz",
    "Kia",
    "Sprinter 316, high roof",
    "wei\xc3\x9f",
    "Jeanneau",
    "Merry Fisher 795",
    "RS 660",
    "matte black",
    "\xe6\x97\xa5\xe6\x9c\xac",
    "Citro\xc3\xabn",
    "O\"Neil",
    "12\" rack",
    "a;b",
    "tab\there",
    "x",
    "Deere & Co.",
};
#define N_COLS 13
static const char *const COLS[N_COLS] = {"primary_id_type",
                                         "primary_id_value",
                                         "equipment_category",
                                         "manufacturer",
                                         "model",
                                         "year",
                                         "registered_at",
                                         "specs_fuel_type",
                                         "specs_power_kw",
                                         "specs_weight_kg",
                                         "specs_displacement_cc",
                                         "specs_color",
                                         "tags"};
enum {
    C_TYPE,
    C_ID,
    C_CAT,
    C_MAKER,
    C_MODEL,
    C_YEAR,
    C_TS,
    C_FUEL,
    C_POWER,
    C_WEIGHT,
    C_CC,
    C_COLOR,
    C_TAGS
};

#define VINCH  "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
#define UPPER  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS "0123456789"
#define HEXUP  "0123456789ABCDEF"
#define HEXLOW "0123456789abcdef"

DT_FN void rand_from(struct sb *b, const char *set, size_t n)
{
    size_t k = strlen(set);
    for (size_t i = 0; i < n; i++) {
        sb_addc(b, set[rn(k)]);
    }
}

/* A primary_id_value that matches type t's pattern. */
DT_FN void gen_id(struct sb *b, size_t t)
{
    switch (t) {
    case 0:
        rand_from(b, VINCH, 17);
        break;
    case 1:
        rand_from(b, UPPER, 3);
        rand_from(b, VINCH, 5);
        rand_from(b, "ABCDEFGHIJKL", 1);
        rand_from(b, DIGITS, 3);
        break;
    case 2:
        rand_from(b, UPPER DIGITS, 1);
        rand_from(b, UPPER DIGITS "-", 5 + rn(19));
        break;
    case 3:
        rand_from(b, DIGITS, 15);
        break;
    case 4:
        rand_from(b, HEXUP, 8);
        break;
    case 5:
        rand_from(b, UPPER DIGITS, 1);
        rand_from(b, UPPER DIGITS " -", 1 + rn(11));
        break;
    case 6:
        sb_adds(b, "AT-");
        rand_from(b, DIGITS, 7);
        break;
    case 7:
        for (int i = 0; i < 6; i++) {
            if (i > 0) {
                sb_addc(b, ':');
            }
            rand_from(b, HEXUP, 2);
        }
        break;
    default:
        rand_from(b, HEXLOW, 8);
        sb_adds(b, "-");
        rand_from(b, HEXLOW, 4);
        sb_adds(b, "-4");
        rand_from(b, HEXLOW, 3);
        sb_addc(b, "89ab"[rn(4)]);
        rand_from(b, HEXLOW, 3);
        sb_adds(b, "-");
        rand_from(b, HEXLOW, 12);
        break;
    }
}

/* Maker, model or colour text: 1..3 words, sometimes long or multibyte. */
DT_FN void gen_text(struct sb *b)
{
    if (chance(3)) {
        size_t n = 40 + rn(60); /* 40..99 "é": more bytes than maxLength, fewer
                                   code points */
        for (size_t i = 0; i < n; i++) {
            sb_adds(b, "\xc3\xa9");
        }
        return;
    }
    if (chance(3)) {
        rand_from(b, UPPER " ", 90 + rn(10)); /* near maxLength 100 */
        return;
    }
    size_t n = 1 + rn(3);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            sb_addc(b, ' ');
        }
        sb_adds(b, WORDS[rn(SL_ARRAY_LEN(WORDS))]);
    }
}

DT_FN void gen_float(struct sb *b)
{
    switch (rn(6)) {
    case 0:
        sb_addf(b, "%u", (unsigned)rn(10000));
        break;
    case 1:
        sb_addf(b, "%u.%u", (unsigned)rn(1000), (unsigned)rn(100));
        break;
    case 2:
        sb_addf(b, "%ue%u", 1 + (unsigned)rn(9), (unsigned)rn(4));
        break;
    case 3:
        sb_addf(b, "0.%06u", (unsigned)rn(1000000));
        break;
    default:
        sb_addf(b, "%u.%03u", (unsigned)rn(100000), (unsigned)rn(1000));
        break;
    }
}

/* The delimiter and quote the generated files use. */
DT_FN char g_delim = ',', g_quote = '"';

/* One field into the record: quoted when it must be (delimiter, quote, CR or LF
 * inside) or at random, with doubled quotes. */
DT_FN void put_field(struct sb *rec, const char *p, size_t n)
{
    bool q = chance(8);
    for (size_t i = 0; i < n && !q; i++) {
        q = p[i] == g_delim || p[i] == g_quote || p[i] == '\n' || p[i] == '\r';
    }
    if (!q) {
        sb_add(rec, p, n);
        return;
    }
    sb_addc(rec, g_quote);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == g_quote) {
            sb_addc(rec, g_quote);
        }
        sb_addc(rec, p[i]);
    }
    sb_addc(rec, g_quote);
}

#define MAX_COLS 24

/* A table's generator: column names, and the values of one row (raw[i] set:
 * write the value as is, unquoted), with *extra / *missing asking for an extra
 * or fewer columns. */
struct tspec {
    const char *table;
    size_t n_cols;
    const char *const *cols;
    void (*row)(struct sb *vals, bool *raw, bool *extra, bool *missing, const char *marker);
};

/* The 13 values of an equipment_flat row, valid; then with chance one defect.
 */
DT_FN void equipment_row(struct sb *vals, bool *raw, bool *extra, bool *missing, const char *marker)
{
    *extra = *missing = false;
    size_t t = rn(SL_ARRAY_LEN(ID_TYPES));
    sb_adds(&vals[C_TYPE], ID_TYPES[t]);
    gen_id(&vals[C_ID], t);
    sb_adds(&vals[C_CAT], CATEGORIES[rn(SL_ARRAY_LEN(CATEGORIES))]);
    if (chance(90)) {
        gen_text(&vals[C_MAKER]);
    }
    if (chance(90)) {
        gen_text(&vals[C_MODEL]);
    }
    if (chance(90)) {
        sb_addf(&vals[C_YEAR], "%u", 1900 + (unsigned)rn(201));
    }
    gen_ts(&vals[C_TS], true);
    if (chance(85)) {
        sb_adds(&vals[C_FUEL], FUELS[rn(SL_ARRAY_LEN(FUELS))]);
    }
    if (chance(90)) {
        gen_float(&vals[C_POWER]);
    }
    if (chance(90)) {
        gen_float(&vals[C_WEIGHT]);
    }
    if (chance(80)) {
        sb_addf(&vals[C_CC], "%u", (unsigned)rn(20000));
    }
    if (chance(60)) {
        gen_text(&vals[C_COLOR]);
    }
    if (chance(90)) {
        static const char *const tags[] = {"[]", "[\"a\",\"b\"]", "[x]", "[\"off-road\"]",
                                           "[1, 2, 3]"};
        sb_adds(&vals[C_TAGS], tags[rn(SL_ARRAY_LEN(tags))]);
    }
    if (marker != NULL) {
        static const int opt[] = {C_MAKER,  C_MODEL, C_YEAR,  C_FUEL, C_POWER,
                                  C_WEIGHT, C_CC,    C_COLOR, C_TAGS};
        for (size_t i = 0; i < SL_ARRAY_LEN(opt); i++) {
            if (vals[opt[i]].len == 0 || chance(5)) {
                sb_reset(&vals[opt[i]]);
                sb_adds(&vals[opt[i]], marker);
            }
        }
    }
    if (!chance(35)) {
        return;
    }
    /* one defect */
    static const int strs[] = {C_MAKER, C_MODEL, C_COLOR};
    int s = strs[rn(SL_ARRAY_LEN(strs))];
    switch (rn(16)) {
    case 0: {
        static const char *const bad[] = {"vin", "Car", "VIN ", " VIN", "", "VINX", "V"};
        sb_reset(&vals[C_TYPE]);
        sb_adds(&vals[C_TYPE], bad[rn(SL_ARRAY_LEN(bad))]);
        break;
    }
    case 1:
        sb_reset(&vals[C_TYPE]);
        sb_adds(&vals[C_TYPE], "VIN");
        sb_reset(&vals[C_ID]);
        rand_from(&vals[C_ID], chance(50) ? VINCH : VINCH "IOQ", chance(50) ? 16 : 17);
        if (chance(30)) {
            vals[C_ID].s[rn(vals[C_ID].len)] = chance(50) ? 'I' : 'o';
        }
        break;
    case 2: {
        static const int req[] = {C_TYPE, C_ID, C_CAT, C_TS};
        sb_reset(&vals[req[rn(SL_ARRAY_LEN(req))]]);
        break;
    }
    case 3: {
        static const int nums[] = {C_YEAR, C_POWER, C_WEIGHT, C_CC};
        static const char *const bad[] = {"19x5", "abc", "1.5", "1,5", "+5",  "0x10", " 12",
                                          "12 ",  "1e",  ".",   "-",   "1.0", "2e3",  "01"};
        int k = nums[rn(SL_ARRAY_LEN(nums))];
        sb_reset(&vals[k]);
        sb_adds(&vals[k], bad[rn(SL_ARRAY_LEN(bad))]);
        break;
    }
    case 4: {
        static const char *const years[] = {
            "1899", "2101", "-5", "99999999999999999999", "1900", "2100", "1.9e3", "2.1001e3", "0"};
        sb_reset(&vals[C_YEAR]);
        sb_adds(&vals[C_YEAR], years[rn(SL_ARRAY_LEN(years))]);
        break;
    }
    case 5: {
        static const char *const neg[] = {"-0.1", "-1", "-0", "-0.0", "-1e-300", "0"};
        int k = chance(33) ? C_CC : chance(50) ? C_POWER : C_WEIGHT;
        sb_reset(&vals[k]);
        sb_adds(&vals[k], neg[rn(SL_ARRAY_LEN(neg))]);
        break;
    }
    case 6:
        sb_reset(&vals[s]);
        if (chance(50)) {
            rand_from(&vals[s], UPPER, 99 + rn(4)); /* 99..102 code points */
        } else {
            for (size_t i = 99 + rn(4); i > 0; i--) {
                sb_adds(&vals[s], chance(50) ? "\xc3\xa9" : "\xe6\x97\xa5");
            }
        }
        break;
    case 7: {
        static const char *const inv[] = {
            "\xff", "\xc3", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\xe6\x97", "\x80"};
        size_t at = rn(vals[s].len + 1);
        struct sb t2 = {0};
        sb_add(&t2, vals[s].s, at);
        sb_adds(&t2, inv[rn(SL_ARRAY_LEN(inv))]);
        sb_add(&t2, vals[s].s + at, vals[s].len - at);
        sb_reset(&vals[s]);
        sb_add(&vals[s], t2.s, t2.len);
        sb_free(&t2);
        break;
    }
    case 8:
        *extra = true;
        break;
    case 9:
        *missing = true;
        break;
    case 10:
        sb_reset(&vals[C_TS]);
        gen_ts(&vals[C_TS], false);
        if (chance(50)) {
            mutate(&vals[C_TS]);
        }
        break;
    case 11:
        sb_reset(&vals[C_CAT]);
        sb_adds(&vals[C_CAT], chance(50) ? "car" : "Motorcycle");
        sb_reset(&vals[C_FUEL]);
        sb_adds(&vals[C_FUEL], chance(50) ? "petrol" : FUELS[0]);
        break;
    case 12: {
        /* CSV-level: junk after a closing quote, a NUL, a stray quote, a lone
         * CR in a quoted field */
        static const char *const junk[] = {"\"abc\"x", "a\0b", "a\"b", "\"a\rb\"", "\"a\nb\""};
        size_t k = rn(SL_ARRAY_LEN(junk));
        sb_reset(&vals[s]);
        sb_add(&vals[s], junk[k], k == 1 ? 3 : strlen(junk[k]));
        raw[s] = true;
        break;
    }
    case 13:
        sb_reset(&vals[C_TAGS]);
        sb_adds(&vals[C_TAGS], chance(50) ? "x" : "[a");
        break;
    case 14:
        /* an empty quoted string: "" is not NULL, and minLength is 1 */
        sb_reset(&vals[s]);
        raw[s] = true;
        sb_adds(&vals[s], "\"\"");
        break;
    default: {
        static const char *const odd[] = {"NaN",   "inf",    "-inf", "Infinity",
                                          "1e400", "1e-400", "nan",  "+inf"};
        int k = chance(50) ? C_POWER : C_WEIGHT;
        sb_reset(&vals[k]);
        sb_adds(&vals[k], odd[rn(SL_ARRAY_LEN(odd))]);
        break;
    }
    }
}

static const struct tspec EQUIPMENT = {"equipment_flat", N_COLS, COLS, equipment_row};

/* A flat table with every column kind the fast path takes, and the rule shapes
 * it folds (none, one enum, lengths, one simple pattern, numeric bounds) or
 * leaves to the general checks (enum and pattern, INTEGER enum, conditions). */
static const char *const MIXED_SCHEMA =
    "{\"fields\": ["
    "{\"name\": \"s_plain\", \"type\": \"STRING\"},"
    "{\"name\": \"s_enum\", \"type\": \"STRING\", \"mode\": \"REQUIRED\"},"
    "{\"name\": \"s_len\", \"type\": \"STRING\"},"
    "{\"name\": \"s_pat\", \"type\": \"STRING\"},"
    "{\"name\": \"s_pat2\", \"type\": \"STRING\"},"
    "{\"name\": \"s_max\", \"type\": \"STRING\", \"maxLength\": \"5\"},"
    "{\"name\": \"s_both\", \"type\": \"STRING\"},"
    "{\"name\": \"s_cond\", \"type\": \"STRING\"},"
    "{\"name\": \"i_plain\", \"type\": \"INTEGER\"},"
    "{\"name\": \"i_rng\", \"type\": \"INT64\"},"
    "{\"name\": \"i_enum\", \"type\": \"INTEGER\"},"
    "{\"name\": \"f_plain\", \"type\": \"FLOAT\"},"
    "{\"name\": \"f_rng\", \"type\": \"FLOAT64\", \"mode\": \"REQUIRED\"},"
    "{\"name\": \"n_num\", \"type\": \"NUMERIC\", \"precision\": \"10\", "
    "\"scale\": \"2\"},"
    "{\"name\": \"n_dflt\", \"type\": \"NUMERIC\"},"
    "{\"name\": \"b\", \"type\": \"BOOLEAN\"},"
    "{\"name\": \"d\", \"type\": \"DATE\"},"
    "{\"name\": \"t\", \"type\": \"TIME\"},"
    "{\"name\": \"dt\", \"type\": \"DATETIME\"},"
    "{\"name\": \"ts\", \"type\": \"TIMESTAMP\", \"mode\": \"REQUIRED\"},"
    "{\"name\": \"ts_req\", \"type\": \"TIMESTAMP\"}"
    "],"
    "\"rules\": ["
    " {\"field\": \"s_enum\", \"enum\": [\"red\", \"green\", \"blue\", "
    "\"gr\xc3\xbcn\"]},"
    " {\"field\": \"s_len\", \"minLength\": 2, \"maxLength\": 5},"
    " {\"field\": \"s_pat\", \"pattern\": \"^[A-Z]{2}[0-9]{3}$\"},"
    " {\"field\": \"s_pat2\", \"pattern\": \"^a.*z$\"},"
    " {\"field\": \"s_both\", \"enum\": [\"X1\", \"Y22\", \"W333\"], "
    "\"pattern\": \"^[XYZ]\"},"
    " {\"field\": \"s_cond\", \"pattern\": \"^[a-z]+$\", \"when\": {\"field\": "
    "\"b\", \"equals\": "
    "true}},"
    " {\"field\": \"s_cond\", \"maxLength\": 3, \"when\": {\"field\": "
    "\"s_enum\", \"in\": "
    "[\"red\", \"gr\xc3\xbcn\"]}},"
    " {\"field\": \"n_dflt\", \"minimum\": 0, \"maximum\": 1000,"
    "  \"when\": {\"field\": \"i_enum\", \"in\": [1, 2]}},"
    " {\"field\": \"i_rng\", \"minimum\": -10, \"maximum\": 10},"
    " {\"field\": \"i_enum\", \"enum\": [1, 2, 3, \"40\"]},"
    " {\"field\": \"f_rng\", \"minimum\": 0.5, \"maximum\": 1000},"
    " {\"field\": \"n_num\", \"minimum\": 0},"
    " {\"field\": \"ts_req\", \"required\": true}"
    "]}";

/* Per column: values that pass, values that do not (or may not: the two paths
 * must only agree), and a generator of passing values (or NULL). */
struct mcol {
    const char *name;
    const char *const *good;
    size_t n_good;
    const char *const *bad;
    size_t n_bad;
    void (*gen)(struct sb *b);
};
#define VALS(...)                                                                                  \
    (const char *const[]){__VA_ARGS__}, SL_ARRAY_LEN(((const char *const[]){__VA_ARGS__}))

DT_FN void gen_int(struct sb *b)
{
    int64_t v = (int64_t)(rnd() >> (1 + rn(63)));
    sb_addf(b, "%lld", (long long)(chance(50) ? v : -v));
}

DT_FN void gen_double(struct sb *b)
{
    double v = (double)(rnd() >> (1 + rn(63))) / (double)(1 + rn(100000));
    sb_addf(b, chance(50) ? "%.17g" : "%g", chance(20) ? -v : v);
}

DT_FN void gen_rng_double(struct sb *b)
{
    sb_addf(b, "%.*f", (int)rn(8), 0.5 + (double)rn(999500) / 1000.0);
}

DT_FN void gen_num(struct sb *b)
{
    sb_addf(b, "%u.%0*u", (unsigned)rn(100000000), 1 + (int)rn(3), (unsigned)rn(100));
}

DT_FN void gen_date(struct sb *b)
{
    unsigned m = 1 + (unsigned)rn(12), d = 1 + (unsigned)rn(28);
    sb_addf(b, "%04u-%02u-%02u", 1 + (unsigned)rn(9999), m, d);
}

DT_FN void gen_time(struct sb *b)
{
    sb_addf(b, "%02u:%02u:%02u", (unsigned)rn(24), (unsigned)rn(60), (unsigned)rn(60));
    if (chance(50)) {
        sb_addf(b, ".%0*u", 1 + (int)rn(6), (unsigned)rn(10));
    }
}

DT_FN void gen_datetime(struct sb *b)
{
    gen_date(b);
    sb_addc(b, "T t"[rn(3)]);
    gen_time(b);
}

DT_FN void gen_ts_good(struct sb *b)
{
    gen_ts(b, true);
}

static const struct mcol MIXED[] = {
    {"s_plain", VALS("", "x", "hello world", "a,b", "say \"hi\"", "\xc3\xa9t\xc3\xa9", "NULL"),
     VALS("\xff", "a\xc3", "\xed\xa0\x80", "line\nbreak", "cr\rcr"), gen_text},
    {"s_enum", VALS("red", "green", "blue", "gr\xc3\xbcn"),
     VALS("", "Red", "re", "redd", "gr\xc3\xbc", "gr\xfcn", " red", "blue\r"), NULL},
    {"s_len",
     VALS("", "ab", "abcde", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac",
          "a\xf0\x9f\x98\x80"),
     VALS("a", "abcdef", "\xc3\xa9", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
          "\xf0\x9f\x98\x80", "abcd\xff"),
     NULL},
    {"s_pat", VALS("", "AB123", "ZZ000", "QR905"),
     VALS("ab123", "AB1234", "AB12", "AB12\xc3\xa9",
          "\xc3\x84"
          "B123",
          "AB123 ", "A-123"),
     NULL},
    {"s_pat2", VALS("", "az", "a\xc3\xa9z", "a,z", "abcz", "a\"z"),
     VALS("za", "a\xffz", "A z", "az ", "a"), NULL},
    {"s_max", VALS("", "abcde", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "a"),
     VALS("abcdef", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "abcd\xc3"), NULL},
    {"s_both", VALS("", "X1", "Y22"), VALS("W333", "W1", "x1", "X2", "X1 "), NULL},
    {"s_cond", VALS("", "abc", "xyz"), VALS("abcd", "ABC", "a1", "\xc3\xa9", "ab cd"), NULL},
    {"i_plain", VALS("", "0", "-9223372036854775808", "9223372036854775807", "1.0", "1e3", "-0"),
     VALS("9223372036854775808", "1.5", "+1", "01", "abc", "1e19", "0x10", " 1"), gen_int},
    {"i_rng", VALS("", "-10", "10", "0", "5", "1e1", "10.0"),
     VALS("11", "-11", "1e2", "10.5", "9223372036854775807"), NULL},
    {"i_enum", VALS("", "1", "2", "3", "40"), VALS("4", "01", "1.0", "-1", "4e1", "40.0"), NULL},
    {"f_plain", VALS("", "0", "-0", "NaN", "inf", "-Infinity", "1e308", "4.9e-324", "1e-400"),
     VALS("1e400", "abc", "0x1p3", "+1", "1.", ".5", "--1", "nan(1)"), gen_double},
    {"f_rng", VALS("0.5", "1000", "3.14", "1e3", "5e-1"),
     VALS("", "0.49999", "1000.0001", "NaN", "-inf", "inf", "-0"), gen_rng_double},
    {"n_num", VALS("", "0", "12.34", "99999999.99", "12.345", ".5", "5.", "+1", "0.005", "-0"),
     VALS("100000000", "99999999.995", "-1", "-0.01", "1e9", "abc", "1e-3", "--1"), gen_num},
    {"n_dflt", VALS("", "0", "1000", "0.000000001", "1e3", "999.9999999995"),
     VALS("-1", "1000.000000001", "1e30", "0.0000000001", "abc"), NULL},
    {"b", VALS("", "true", "False", "1", "0", "t", "N", "yes", "TRUE"),
     VALS("2", "truee", "on", "off", " true", "-1"), NULL},
    {"d", VALS("", "2024-02-29", "0001-01-01", "9999-12-31", "2024-2-9", "1970-01-01"),
     VALS("2023-02-29", "2024/01/01", "0000-01-01", "2024-13-01", "2024-01-32", "2024-01-01T00"),
     gen_date},
    {"t", VALS("", "00:00:00", "23:59:59.999999", "1:2:3", "12:00:60", "23:59:59"),
     VALS("24:00:00", "23:59:60", "12:00", "12:00:00.1234567", "12:60:00", "12:00:00Z"), gen_time},
    {"dt",
     VALS("", "2024-01-01 00:00:00", "2024-01-01T12:34:56.5", "2024-01-01", "9999-12-31 23:59:59"),
     VALS("2024-01-01T00:00:00Z", "9999-12-31 23:59:60", "2024-01-01 12:00", "2024-01-01T",
          "2024/01/01 00:00:00"),
     gen_datetime},
    {"ts", VALS("2021-07-23T22:13:32Z", "1627078412", "2021/07/23 22:13:32 UTC"),
     VALS("", "2021-07-23T22:13:3/Z", "2021-07-23T25:00:00Z", "9999-12-31T23:59:60Z", "yesterday"),
     gen_ts_good},
    {"ts_req", VALS("2000-02-29 12:00:00.5+01:30", "0001-01-01 00:00:00"),
     VALS("", "0000-01-01 00:00:00", "2000-02-30 00:00:00"), gen_ts_good},
};
#define N_MIXED SL_ARRAY_LEN(MIXED)

DT_FN const char *const *mixed_cols(void)
{
    static const char *names[N_MIXED];
    for (size_t i = 0; i < N_MIXED; i++) {
        names[i] = MIXED[i].name;
    }
    return names;
}

DT_FN void pick(struct sb *b, const char *const *v, size_t n)
{
    sb_adds(b, v[rn(n)]);
}

/* Every column a passing value; then with chance one or two that may not. */
DT_FN void mixed_row(struct sb *vals, bool *raw, bool *extra, bool *missing, const char *marker)
{
    *extra = *missing = false;
    for (size_t i = 0; i < N_MIXED; i++) {
        const struct mcol *c = &MIXED[i];
        if (c->gen != NULL && chance(50)) {
            c->gen(&vals[i]);
        } else {
            pick(&vals[i], c->good, c->n_good);
        }
        if (marker != NULL && (vals[i].len == 0 || chance(5))) {
            sb_reset(&vals[i]); /* the marker, not an empty field, is NULL */
            sb_adds(&vals[i], marker);
        }
    }
    if (chance(45)) {
        return;
    }
    for (size_t k = chance(20) ? 2 : 1; k > 0; k--) {
        size_t i = rn(N_MIXED + 3);
        if (i == N_MIXED) {
            *extra = true;
        } else if (i == N_MIXED + 1) {
            *missing = true;
        } else if (i == N_MIXED + 2) {
            i = rn(N_MIXED);
            sb_reset(&vals[i]);
            sb_adds(&vals[i], "\"\""); /* an empty quoted field */
            raw[i] = true;
        } else {
            sb_reset(&vals[i]);
            pick(&vals[i], MIXED[i].bad, MIXED[i].n_bad);
            raw[i] = false;
        }
    }
}

/* A CSV file of table ts: a header (in table order, or shuffled with stray
 * trailing spaces), then n records with random line ends and blank lines. */
DT_FN void gen_csv(struct sb *out, const struct tspec *ts, size_t n, bool shuffle,
                   const char *marker, uint64_t skip)
{
    const int n_cols = (int)ts->n_cols;
    for (uint64_t i = 1; i < skip; i++) { /* the header is the last skipped row */
        sb_adds(out, chance(50) ? "junk,\"with \"\"quotes\"\"\",\xff\n" : "x\r\n");
    }
    int order[MAX_COLS];
    assert_true(n_cols <= MAX_COLS);
    for (int i = 0; i < n_cols; i++) {
        order[i] = i;
    }
    if (shuffle) {
        for (int i = n_cols - 1; i > 0; i--) {
            int j = (int)rn((size_t)i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
    for (int i = 0; i < n_cols; i++) {
        if (i > 0) {
            sb_addc(out, g_delim);
        }
        sb_adds(out, ts->cols[order[i]]);
        if (shuffle && chance(20)) {
            sb_addc(out, ' ');
        }
    }
    sb_adds(out, "\r\n");
    struct sb vals[MAX_COLS];
    memset(vals, 0, sizeof(vals));
    bool raw[MAX_COLS];
    for (size_t r = 0; r < n; r++) {
        if (chance(2)) {
            sb_adds(out, chance(50) ? "\n" : "\r\n");
        }
        bool extra, missing;
        for (int i = 0; i < n_cols; i++) {
            sb_reset(&vals[i]);
            raw[i] = false;
        }
        ts->row(vals, raw, &extra, &missing, marker);
        int ncol = missing ? n_cols - 1 - (int)rn(3) : n_cols;
        for (int i = 0; i < ncol; i++) {
            if (i > 0) {
                sb_addc(out, g_delim);
            }
            const struct sb *v = &vals[order[i]];
            if (raw[order[i]]) {
                sb_add(out, v->s, v->len);
            } else {
                put_field(out, v->s ? v->s : "", v->len);
            }
        }
        if (extra) {
            sb_addc(out, g_delim);
            sb_adds(out, chance(50) ? "x" : "");
        }
        if (r + 1 < n || chance(50)) {
            unsigned t = (unsigned)rn(100);
            sb_adds(out, t < 70 ? "\n" : t < 97 ? "\r\n" : "\r");
        }
    }
    for (int i = 0; i < n_cols; i++) {
        sb_free(&vals[i]);
    }
}

#endif
