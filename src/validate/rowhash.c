/* rowhash.c - a row's hash for the order-independent checksum a batch records
 * (sum of the row hashes mod 2^64) and `sluice verify` recomputes from the
 * warehouse. Not cryptographic: it detects a lost or doubled row, not an
 * adversary. validate stage. */
#include "core/common.h"
#include "validate/row.h"

#include <string.h>

#define P1 0x9E3779B97F4A7C15ULL
#define P2 0xC2B2AE3D27D4EB4FULL

static inline uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t mix(uint64_t h, uint64_t w)
{
    return rotl(h ^ (w * P1), 31) * P2;
}

static uint64_t mix_bytes(uint64_t h, const char *s, size_t n)
{
    h = mix(h, n);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = mix(h, w);
        s += 8;
        n -= 8;
    }
    if (n > 0) {
        uint64_t w = 0;
        memcpy(&w, s, n);
        h = mix(h, w);
    }
    return h;
}

/* Kinds that encode alike: every text form is one kind. */
static uint64_t tag(uint8_t kind)
{
    switch (kind) {
    case SL_V_STR:
    case SL_V_NUMTEXT:
    case SL_V_JSONTEXT:
    case SL_V_TEXT:
        return SL_V_STR;
    default:
        return kind;
    }
}

static uint64_t hash_val(uint64_t h, const struct sl_val *v)
{
    h = mix(h, tag(v->kind));
    switch (v->kind) {
    case SL_V_NULL:
        return h;
    case SL_V_BOOL:
        return mix(h, v->u.b ? 1 : 0);
    case SL_V_I64:
    case SL_V_DATE:
    case SL_V_TIME:
    case SL_V_DATETIME:
    case SL_V_TS:
        return mix(h, (uint64_t)v->u.i);
    case SL_V_F64: {
        uint64_t w;
        double d = v->u.f == 0.0 ? 0.0 : v->u.f; /* -0.0 as 0.0 */
        memcpy(&w, &d, sizeof(w));
        return mix(h, w);
    }
    case SL_V_DEC: {
        unsigned __int128 d = (unsigned __int128)v->u.d;
        return mix(mix(h, (uint64_t)d), (uint64_t)(d >> 64));
    }
    case SL_V_STR:
    case SL_V_BYTES:
    case SL_V_NUMTEXT:
    case SL_V_JSONTEXT:
    case SL_V_TEXT:
        return mix_bytes(h, v->u.s, v->len);
    case SL_V_LIST:
    case SL_V_STRUCT:
    case SL_V_MAP: {
        size_t n = v->kind == SL_V_MAP ? 2 * (size_t)v->len : v->len;
        h = mix(h, n);
        for (size_t i = 0; i < n; i++) {
            h = hash_val(h, &v->u.v[i]);
        }
        return h;
    }
    default:
        return mix(h, 0xFF);
    }
}

uint64_t sl_row_hash(const struct sl_val *cols, size_t n)
{
    uint64_t h = mix(P2, n);
    for (size_t i = 0; i < n; i++) {
        h = hash_val(h, &cols[i]);
    }
    return h ^ (h >> 29);
}
