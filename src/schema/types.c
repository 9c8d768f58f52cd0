/* types.c - BigQuery type and mode names: canonical spelling, case-insensitive
 * parsing with the REST aliases, and hints for names BigQuery refuses. schema
 * stage. */
#include "core/common.h"

#include "core/hash.h"
#include "schema/schema.h"
#include "schema/schema_int.h"

#include <string.h>

struct type_name {
    const char *name;
    enum sl_type type;
};

/* The REST schema type list (BIGQUERY.md §1.3), canonical names first. */
static const struct type_name type_names[] = {
    {"STRING", SL_T_STRING},       {"BYTES", SL_T_BYTES},
    {"INTEGER", SL_T_INT64},       {"INT64", SL_T_INT64},
    {"FLOAT", SL_T_FLOAT64},       {"FLOAT64", SL_T_FLOAT64},
    {"NUMERIC", SL_T_NUMERIC},     {"BIGNUMERIC", SL_T_BIGNUMERIC},
    {"BOOLEAN", SL_T_BOOL},        {"BOOL", SL_T_BOOL},
    {"DATE", SL_T_DATE},           {"DATETIME", SL_T_DATETIME},
    {"TIME", SL_T_TIME},           {"TIMESTAMP", SL_T_TIMESTAMP},
    {"GEOGRAPHY", SL_T_GEOGRAPHY}, {"JSON", SL_T_JSON},
    {"RECORD", SL_T_RECORD},       {"STRUCT", SL_T_RECORD},
    {"RANGE", SL_T_RANGE},         {"INTERVAL", SL_T_INTERVAL},
};

/* Names BigQuery knows only in SQL DDL (or not at all in schemas). */
static const struct {
    const char *name;
    const char *hint;
} type_hints[] = {
    {"INT", "INT is a SQL-only alias; use INTEGER (or INT64)"},
    {"SMALLINT", "SMALLINT is a SQL-only alias; use INTEGER (or INT64)"},
    {"BIGINT", "BIGINT is a SQL-only alias; use INTEGER (or INT64)"},
    {"TINYINT", "TINYINT is a SQL-only alias; use INTEGER (or INT64)"},
    {"BYTEINT", "BYTEINT is a SQL-only alias; use INTEGER (or INT64)"},
    {"DECIMAL", "DECIMAL is a SQL-only alias; use NUMERIC"},
    {"BIGDECIMAL", "BIGDECIMAL is a SQL-only alias; use BIGNUMERIC"},
    {"DOUBLE", "DOUBLE is not a BigQuery type; use FLOAT (or FLOAT64)"},
    {"TEXT", "TEXT is not a BigQuery type; use STRING"},
    {"VARCHAR",
     "VARCHAR is not a BigQuery type; use STRING (maxLength for a limit)"},
    {"ARRAY", "ARRAY is not a schema type; use mode REPEATED"},
};

static bool ascii_eq_ci(const char *a, const char *b)
{
    return sl__eq_ci(a, strlen(a), b, strlen(b));
}

const char *sl_type_name(enum sl_type t)
{
    switch (t) {
    case SL_T_STRING:
        return "STRING";
    case SL_T_BYTES:
        return "BYTES";
    case SL_T_INT64:
        return "INTEGER";
    case SL_T_FLOAT64:
        return "FLOAT";
    case SL_T_NUMERIC:
        return "NUMERIC";
    case SL_T_BIGNUMERIC:
        return "BIGNUMERIC";
    case SL_T_BOOL:
        return "BOOLEAN";
    case SL_T_DATE:
        return "DATE";
    case SL_T_DATETIME:
        return "DATETIME";
    case SL_T_TIME:
        return "TIME";
    case SL_T_TIMESTAMP:
        return "TIMESTAMP";
    case SL_T_GEOGRAPHY:
        return "GEOGRAPHY";
    case SL_T_JSON:
        return "JSON";
    case SL_T_RECORD:
        return "RECORD";
    case SL_T_RANGE:
        return "RANGE";
    case SL_T_INTERVAL:
        return "INTERVAL";
    }
    return "UNKNOWN";
}

const char *sl_mode_name(enum sl_mode m)
{
    switch (m) {
    case SL_M_NULLABLE:
        return "NULLABLE";
    case SL_M_REQUIRED:
        return "REQUIRED";
    case SL_M_REPEATED:
        return "REPEATED";
    }
    return "UNKNOWN";
}

bool sl_type_parse(const char *s, enum sl_type *out)
{
    if (s == NULL) {
        return false;
    }
    for (size_t i = 0; i < SL_ARRAY_LEN(type_names); i++) {
        if (ascii_eq_ci(s, type_names[i].name)) {
            *out = type_names[i].type;
            return true;
        }
    }
    return false;
}

bool sl_mode_parse(const char *s, enum sl_mode *out)
{
    static const char *const names[] = {"NULLABLE", "REQUIRED", "REPEATED"};
    static const enum sl_mode modes[] = {SL_M_NULLABLE, SL_M_REQUIRED,
                                         SL_M_REPEATED};
    if (s == NULL) {
        return false;
    }
    for (size_t i = 0; i < SL_ARRAY_LEN(names); i++) {
        if (ascii_eq_ci(s, names[i])) {
            *out = modes[i];
            return true;
        }
    }
    return false;
}

const char *sl__schema_type_hint(const char *s)
{
    for (size_t i = 0; s != NULL && i < SL_ARRAY_LEN(type_hints); i++) {
        if (ascii_eq_ci(s, type_hints[i].name)) {
            return type_hints[i].hint;
        }
    }
    return NULL;
}

size_t sl__utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++) {
        chars += ((unsigned char)s[i] & 0xC0u) != 0x80u;
    }
    return chars;
}

bool sl__json_int64(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return true;
    }
    if (!json_is_string(v)) {
        return false;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), i = 0;
    bool neg = false;
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n || n - i > 19) {
        return false;
    }
    uint64_t acc = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        acc = acc * 10 + (uint64_t)(s[i] - '0');
    }
    if (acc > (uint64_t)INT64_MAX + (neg ? 1u : 0u)) {
        return false;
    }
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return true;
}
