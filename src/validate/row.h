/* row.h - a validated row as handed from the validator to a warehouse driver.
 * validate stage. A row is an array of values, one per top-level field of the
 * table in definition order; RECORD values hold one value per sub-field,
 * REPEATED values hold their elements. All memory (element arrays, unescaped
 * strings) belongs to the validator's per-row arena: valid only during the sink
 * call. */
#ifndef SL_VALIDATE_ROW_H
#define SL_VALIDATE_ROW_H

#include "core/common.h"
#include "core/error.h"

enum sl_vkind {
    SL_V_NULL,     /* SQL NULL (never for REPEATED: an absent array is an empty
                      LIST) */
    SL_V_BOOL,     /* u.b                                   BOOL */
    SL_V_I64,      /* u.i                                   INT64 */
    SL_V_F64,      /* u.f                                   FLOAT64 */
    SL_V_DEC,      /* u.d = value * 10^scale of the field    NUMERIC */
    SL_V_STR,      /* u.s, len bytes, valid UTF-8           STRING, BIGNUMERIC
                      (canonical      decimal text), GEOGRAPHY (text as      given), JSON
                      (canonical JSON text),      RANGE (canonical "[a, b)") */
    SL_V_BYTES,    /* u.s, len bytes (decoded)              BYTES */
    SL_V_DATE,     /* u.i = days since 1970-01-01           DATE */
    SL_V_TIME,     /* u.i = microseconds since midnight     TIME */
    SL_V_DATETIME, /* u.i = microseconds since 1970-01-01 (no zone) DATETIME */
    SL_V_TS,       /* u.i = microseconds since the Unix epoch, UTC  TIMESTAMP */
    SL_V_STRUCT, /* u.v = n_fields values of the RECORD, in definition order */
    SL_V_LIST,   /* u.v = len elements (REPEATED), each of the element kind */
    /* Kinds only query results carry (warehouse cursors), never the validator:
     */
    SL_V_NUMTEXT,  /* u.s: an exact number as decimal text (HUGEINT, UBIGINT) */
    SL_V_JSONTEXT, /* u.s: JSON text, embedded as JSON in JSON output */
    SL_V_TEXT,     /* u.s: any other value in the backend's text form */
    SL_V_MAP,      /* u.v = 2 * len values: key, value, key, value, ... */
};

struct sl_val {
    uint8_t kind; /* enum sl_vkind */
    uint32_t len; /* STR/BYTES byte length; LIST element count */
    union {
        bool b;
        int64_t i;
        double f;
        __int128 d;
        const char *s;
        struct sl_val *v;
    } u;
};

/* Where validated rows go. row() returns SL_OK or a negative code (the load
 * then stops with err set), or SL_ROW_PAUSE: the row is taken, and a producer
 * that can pause (sl_pcursor_next) returns to its caller before the next row;
 * other producers take it as SL_OK. */
#define SL_ROW_PAUSE 1
struct sl_row_sink {
    int (*row)(void *ud, const struct sl_val *cols, size_t n_cols,
               struct sl_error *err);
    void *ud;
};

/* A row's contribution to an order-independent checksum of a set of rows (the
 * sum of these, mod 2^64): FNV-1a over a canonical encoding of the values, in
 * which every text kind (STR, NUMTEXT, JSONTEXT, TEXT) encodes alike, so rows
 * read back from a warehouse hash as the rows that were loaded. rowhash.c. */
uint64_t sl_row_hash(const struct sl_val *cols, size_t n);

#endif
