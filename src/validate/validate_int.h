/* validate_int.h - validator internals shared by validator.c, ndjson.c and
 * csvrow.c; not for use outside src/validate/. */
#ifndef SL_VALIDATE_VALIDATE_INT_H
#define SL_VALIDATE_VALIDATE_INT_H

#include "core/common.h"
#include "core/arena.h"
#include "core/buf.h"
#include <setjmp.h>
#include <string.h>
#include "validate/validator.h"
#include "validate/coerce.h"

#define SL_JSON_MAX_DEPTH 500 /* BigQuery's JSON type nesting limit */
#define SL_ROW_MAX_DEPTH 15   /* BigQuery's nesting limit, for values outside JSON columns */
#define SL_NO_SLOT UINT32_MAX

/* A set of byte strings (checks.c): open addressing, at most half full. */
struct strent {
    const char *s;                    /* borrowed from the schema */
    uint64_t a, b;                    /* the words compared first (checks.c set_words) */
    uint32_t len;
    int id;                           /* order of first insertion, -1 = empty slot */
};
struct strset {
    struct strent *tab;               /* mask + 1 entries, owned; NULL = empty set */
    uint32_t mask;
    uint32_t n;                       /* distinct strings */
};

/* pattern.c: a simple pattern (ASCII characters and classes with fixed
 * repeats, at most one variable repeat) matched without PCRE2. compile sets
 * *out to NULL when the pattern is outside that subset; 0 or -SL_ENOMEM.
 * match gives 1 (matches), 0 (does not) or -1 (ask PCRE2: non-ASCII text). */
struct sl_spat;
SL_NODISCARD int sl__spat_compile(const char *pat, size_t len, struct sl_spat **out);
int sl__spat_match(const struct sl_spat *sp, const char *s, size_t n);
void sl__spat_free(struct sl_spat *sp);
/* Which matcher sl__spat_match uses first, for tests: -1 the best the CPU has (the
 * default), 0 SSE2 or plain C, 1 AVX-512 (F, BW, VBMI) if the CPU has it (else 0).
 * Returns the one now in use. Not thread-safe: set it before matching. */
int sl__spat_isa(int want);

/* A rule check compiled for the row loop (checks.c). */
struct vck {
    const struct sl_check *ck;        /* the schema's check: name, pattern, when */
    enum sl_check_kind kind;
    double num;                       /* MINIMUM / MAXIMUM */
    uint64_t len;                     /* MIN_LENGTH / MAX_LENGTH */
    struct strset set;                /* ENUM values */
    struct sl_spat *sp;               /* PATTERN in the simple subset (pattern.c), owned, or NULL */
};

/* A compiled plan node mirrors one schema field. kids[i] is field->fields[i]. */
struct vnode {
    const struct sl_field *f;
    struct vnode *kids;               /* RECORD: n_kids nodes, owned */
    uint32_t n_kids;
    uint32_t slot;                    /* row slot keeping its value for conditions, or SL_NO_SLOT */
    struct vck *checks;               /* unconditional value checks (not REQUIRED), owned array */
    uint32_t n_checks;
    /* the same checks folded into one test that can only confirm a pass
     * (checks.c); when it cannot, checks[] run in order for the reason */
    bool fast;                        /* the folded test applies */
    bool fast_num, fast_len;          /* it has numeric bounds / length bounds */
    uint8_t n_fast_x;                 /* ENUM and PATTERN checks: indexes in fast_x */
    uint8_t fast_x[4];
    double num_lo, num_hi;            /* largest minimum, smallest maximum */
    uint64_t len_lo, len_hi;          /* byte lengths within which every length rule holds */
    uint8_t op;                       /* SL_OP_*: how a value is taken (fastrow.c) */
    bool op_num;                      /* SL_OP_I64/F64: test num_lo <= value <= num_hi */
    bool lean;                        /* the folded test has at most one ENUM and one PATTERN
                                         (in pattern.c's subset): run inline with these */
    const struct strset *lean_set;    /* that ENUM's values, or NULL */
    const struct sl_spat *lean_sp;    /* that PATTERN, or NULL */
    bool rule_required;               /* a "required" rule on this field */
    uint32_t *must;                   /* RECORD: kids that must be non-null (mode or rule), owned */
    uint32_t n_must;
    uint32_t *repeated;               /* RECORD: kids that are REPEATED (absent -> []), owned */
    uint32_t n_repeated;
    int precision, scale;             /* effective NUMERIC/BIGNUMERIC parameters */
    /* the key as compact JSON writes it, `"name":`, compared 16 bytes at a
     * time (ndjson.c); key_mask has a bit per byte of it, 0 when it does not fit */
    uint8_t key_pat[32];
    uint32_t key_mask;
};

/* A conditional rule, evaluated once the whole row is read. */
struct vcond {
    struct vck ck;                    /* the check, run when the condition holds */
    uint32_t target_slot;             /* slot of the checked field */
    uint32_t cond_slot;               /* slot of the `when` field */
    const struct vnode *target;
    uint32_t group;                   /* index into the plan's groups (its cond_slot) */
};

/* The `when` values of all conditional rules reading one slot. */
struct vgroup {
    uint32_t slot;
    struct strset vals;               /* every value some rule compares the slot with */
    uint32_t *run_at;                 /* vals.n + 1 offsets into run, owned */
    uint32_t *run;                    /* per value id, the conds it triggers in rule order, owned */
    /* the slot's field has an ENUM op: its set, and per id in it the id in
     * vals or -1 (owned), so that the enum's lookup serves the group too */
    const struct strset *enum_set;
    int32_t *enum_map;
};

/* What a row whose one group's field has enum id i needs: nothing (no rule
 * for that value), one simple pattern on a slot, or the general route. */
enum { SL_Q_NONE, SL_Q_PAT, SL_Q_GENERAL };
struct vquick {
    uint8_t kind;
    uint32_t target_slot;             /* SL_Q_PAT */
    const struct sl_spat *sp;
};

/* A field's value remembered for conditional rules. */
struct vslot {
    bool present;                     /* set and non-null in this row */
    const char *txt;                  /* textual form (valid for the row) */
    size_t txt_len;
    struct sl_val val;
    int set_id;                       /* the text's id in its field's enum op set, or -1 */
};

/* The row being validated; the first failure wins. */
struct rowctx {
    struct sl_validator *v;
    const char *line, *p, *end;
    bool failed;
    const struct sl_field *err_field; /* field of the failure, or NULL */
    char err_path[320];               /* set instead of err_field for unknown keys */
    char reason[384];
    const char *err_val;              /* excerpt start (within the row), may be NULL */
    size_t err_val_len;
    int fatal;                        /* negative code on ENOMEM */
};

/* The compiled plan of a table (sl_vplan_create): everything the row loops
 * read and never write, so that any number of validators, on any threads, can
 * share one. Nothing here changes after sl_vplan_create returns. */
struct sl_vplan {
    const struct sl_table *t;         /* borrowed: outlives the plan */
    struct vnode root;                /* RECORD over the top-level fields */
    struct vcond *conds;              /* conditional rules, owned */
    uint32_t n_conds;
    struct vgroup *groups;            /* one per slot read by a condition; n_conds entries, owned */
    uint32_t n_groups;
    /* One group on a field with an enum op (the usual shape): per enum id,
     * what the row needs (fastrow.c's conds_quick), owned, or NULL */
    struct vquick *quick;
    uint32_t n_slots;                 /* values remembered per row for conditions */
    struct sl_fastcol *fast_cols;     /* CSV fast path programs per top-level field, owned,
                                         or NULL (some field's type is not taken) */
    const struct sl_field *csv_bad;   /* first top-level RECORD or REPEATED field (CSV cannot
                                         carry it), or NULL */
    bool has_pattern;                 /* some check is a PATTERN (validators need match data) */
};

/* Per-thread scratch: the state of the row and file being validated, over a
 * borrowed plan. */
struct sl_validator {
    const struct sl_vplan *plan;      /* borrowed, or own_plan */
    struct sl_vplan *own_plan;        /* sl_validator_create's private plan, or NULL */
    const struct sl_table *t;         /* plan->t */
    struct sl_vopts o;
    const struct sl_fastcol *fast_cols; /* plan->fast_cols for CSV unless general_only, else NULL */
    uint64_t *cond_hits;              /* with several groups: this row's triggered conds, or NULL */
    struct vslot *slots;              /* plan->n_slots, reset per row */
    struct sl_arena arena;            /* per-row values, reset per row */
    struct pcre2_real_match_data_8 *md; /* match data for patterns, owned, or NULL (no PATTERN) */
    struct sl_val *row;               /* top-level values of the current row */
    /* CSV state */
    struct sl_csv csv;
    bool csv_ready;
    uint32_t *csv_map;                /* this file's header: CSV column index -> top-level
                                         field index or UINT32_MAX (hdr_map), or NULL */
    size_t csv_map_len;
    uint32_t *hdr_map;                /* the last header's map, hdr_map_cap entries, owned */
    size_t hdr_map_cap;
    struct sl_buf hdr_key;            /* that header's fields (csvrows.c), empty = none */
    struct sl_buf scratch;            /* reject reason/field formatting */
    struct sl_val *fast_row;          /* the fast path's row values (with fast_cols), or NULL */
    struct sl_buf fast_scratch;       /* the fast path's unescaped CSV fields */
    struct rowctx fast_ctx;           /* the fast path's context for sl__coerce_text */
    bool fast_csv;                    /* this file's CSV records try the fast path */
    bool fast_in_order;               /* the CSV columns are the fields in order */
    struct rowctx row_ctx;            /* context of sl_validate_ndjson_row's last row */
    /* kept from file to file (stream.c) */
    char *file_buf;                   /* a small file read whole, owned, or NULL */
    size_t file_buf_cap;
    char *block_buf;                  /* the streaming loop's buffer, owned, or NULL */
    size_t block_buf_cap;
};

/* ndjson.c: validate one row [p, p+n). Returns 0 ok (v->row filled), 1 rejected
 * (ctx filled), negative fatal. */
int sl__ndjson_row(struct sl_validator *v, struct rowctx *ctx, const char *p, size_t n);

/* ndjson.c: validate JSON text [c->p, c->end) as one value and minify it into
 * the arena (JSON columns held in CSV fields). 0, 1 or negative. */
int sl__json_minify(struct rowctx *c, struct sl_val *out);

/* validator.c helpers used by both formats */
int sl__vfail(struct rowctx *ctx, const struct sl_field *f, const char *val, size_t val_len,
              const char *fmt, ...) SL_PRINTF(5, 6);
/* Coerce text to the node's scalar type into *out and run its unconditional
 * checks; quoted=false for JSON numbers/literals handled by the caller. Returns 0
 * or 1 (rejected) or negative. */
int sl__coerce_text(struct rowctx *ctx, const struct vnode *n, const char *s, size_t len,
                    struct sl_val *out);
/* checks.c: string sets. find returns the string's id or -1; add inserts the
 * NUL-terminated s (borrowed: it must outlive the set) unless present and
 * gives its id in *out_id; 0 or -SL_ENOMEM. release frees the table. */
/* The words a set compares: a holds the first min(n, 8) bytes (little-endian,
 * zero above), b the last 8 when n > 8 (else 0); together every byte of a
 * string of at most 16 bytes, so for those equal words and length are equal
 * strings and no memcmp is needed. (Two overlapping loads below 8 bytes; with
 * AVX-512, masked loads: sl__strset_find512.) */
static inline void sl__set_words(const char *s, size_t n, uint64_t *a, uint64_t *b)
{
    *a = 0;
    *b = 0;
    if (n >= 8) {
        memcpy(a, s, 8);
        if (n > 8) {
            memcpy(b, s + n - 8, 8);
        }
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        *a = (uint64_t)x | (uint64_t)y << (8 * (n - 4));
    } else if (n > 0) {
        *a = (uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[n / 2] << (8 * (n / 2)) |
             (uint64_t)(unsigned char)s[n - 1] << (8 * (n - 1));
    }
}

static inline uint64_t sl__set_hash(uint64_t a, uint64_t b, size_t n)
{
    uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ULL) ^ n) * 0xFF51AFD7ED558CCDULL;
    return h ^ (h >> 29);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define SL_HAVE_SET512 1
/* checks.c: sl__strset_find with AVX-512 (BW, VL): the words by masked loads,
 * one test per probe. Taken when sl__set_isa is 1. */
int sl__strset_find512(const struct strset *S, const char *s, size_t n);
#endif
/* checks.c: 1 when sl__strset_find takes sl__strset_find512 (set by
 * sl__strset_isa; 0 until then). */
extern int sl__set_isa;
/* checks.c: choose, for tests: -1 the best the CPU has, 0 the inline words, 1
 * AVX-512 if the CPU has it (else 0). Returns the choice. Not thread-safe: set
 * it before looking up (sl_vplan_create sets -1 once). */
int sl__strset_isa(int want);
void sl__strset_isa_once(void);

static inline int sl__strset_find_words(const struct strset *S, const char *s, size_t n)
{
    if (S->tab == NULL) {
        return -1;
    }
    uint64_t a, b;
    sl__set_words(s, n, &a, &b);
    for (uint32_t i = (uint32_t)sl__set_hash(a, b, n) & S->mask;; i = (i + 1) & S->mask) {
        const struct strent *e = &S->tab[i];
        if (e->id < 0) {
            return -1;
        }
        if (e->len == n && e->a == a && e->b == b && (n <= 16 || memcmp(e->s, s, n) == 0)) {
            return e->id;
        }
    }
}

/* The id of s in S, or -1. */
static inline __attribute__((always_inline)) int sl__strset_find(const struct strset *S,
                                                                 const char *s, size_t n)
{
#ifdef SL_HAVE_SET512
    if (SL_ONCE_LOAD(sl__set_isa) == 1) {
        return sl__strset_find512(S, s, n);
    }
#endif
    return sl__strset_find_words(S, s, n);
}

SL_NODISCARD int sl__strset_add(struct strset *S, const char *s, int *out_id);
void sl__strset_release(struct strset *S);
/* checks.c: compile one check (0 or -SL_ENOMEM; release it even on failure). */
SL_NODISCARD int sl__vck_init(struct vck *k, const struct sl_check *ck);
void sl__vck_release(struct vck *k);
/* checks.c: fold a node's checks[] into its fast test. */
void sl__vnode_fold(struct vnode *n);
/* checks.c: group the conditional rules by the slot they read (after the
 * plan's conds and groups arrays are filled in). 0 or -SL_ENOMEM. */
SL_NODISCARD int sl__conds_prepare(struct sl_vplan *p);
/* checks.c: link each group to its field's ENUM op set (after the ops are
 * picked). 0 or -SL_ENOMEM. */
SL_NODISCARD int sl__conds_link_enums(struct sl_vplan *p);
/* checks.c: the node's checks in rule order; the first failing one is the
 * reason (0 or 1). */
int sl__run_checks_ordered(struct rowctx *ctx, const struct vnode *n, const char *txt,
                           size_t len, const struct sl_val *val);
/* Remember a value for conditional rules. */
static inline void sl__remember_id(struct sl_validator *v, const struct vnode *n,
                                   const char *txt, size_t len, const struct sl_val *val,
                                   int set_id)
{
    if (n->slot != SL_NO_SLOT) {
        struct vslot *s = &v->slots[n->slot];
        s->present = val->kind != SL_V_NULL;
        s->txt = txt;
        s->txt_len = len;
        s->val = *val;
        s->set_id = set_id;
    }
}
static inline void sl__remember(struct sl_validator *v, const struct vnode *n,
                                const char *txt, size_t len, const struct sl_val *val)
{
    sl__remember_id(v, n, txt, len, val, -1);
}
/* Code points in valid UTF-8 (bytes that are not continuation bytes). */
static inline size_t sl__count_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    }
    return c;
}
/* validator.c: true if the n bytes at s are all ASCII (16 bytes a step). */
bool sl__all_ascii(const char *s, size_t n);
/* End-of-row checks: conditional rules. Returns 0 or 1. */
int sl__row_finish(struct rowctx *ctx);
/* The same for v's current slots; ctx NULL only tells (1) without describing
 * the failure. */
int sl__row_finish_v(struct sl_validator *v, struct rowctx *ctx);
/* checks.c: every unconditional check of n passes (sl__run_checks would give 0). */
bool sl__checks_pass(struct sl_validator *v, const struct vnode *n, const char *txt,
                     size_t len, const struct sl_val *val);

/* The node's folded numeric bounds on an INT64 or FLOAT64 value: 1 within, 0
 * outside, -1 another kind of value. */
static inline __attribute__((always_inline)) int sl__num_bounds(const struct vnode *n,
                                                                const struct sl_val *val)
{
    double d;
    if (val->kind == SL_V_I64) {
        d = (double)val->u.i;
    } else if (val->kind == SL_V_F64) {
        d = val->u.f;
    } else {
        return -1;
    }
    return d >= n->num_lo && d <= n->num_hi;
}

/* Every unconditional check of n surely passes (false: maybe not). The folded
 * test inline when the node is lean, else sl__checks_pass. */
static inline bool sl__checks_sure(struct sl_validator *v, const struct vnode *n,
                                   const char *s, size_t len, const struct sl_val *val)
{
    if (!n->lean) {
        return sl__checks_pass(v, n, s, len, val);
    }
    if (n->fast_num) {
        int b = sl__num_bounds(n, val);
        if (b < 0) {
            return sl__checks_pass(v, n, s, len, val);
        }
        if (b == 0) {
            return false;
        }
    }
    if (n->fast_len && (val->kind == SL_V_BYTES || len < n->len_lo || len > n->len_hi)) {
        return false;
    }
    if (n->lean_set != NULL && sl__strset_find(n->lean_set, s, len) < 0) {
        return false;
    }
    if (n->lean_sp != NULL) {
        int m = sl__spat_match(n->lean_sp, s, len);
        if (m < 0) {
            return sl__checks_pass(v, n, s, len, val); /* non-ASCII: PCRE2 decides */
        }
        return m == 1;
    }
    return true;
}
/* Run unconditional checks on an already coerced value: 0, or 1 with the
 * first failing rule (in rule order) as the reason. */
static inline int sl__run_checks(struct rowctx *ctx, const struct vnode *n, const char *txt,
                                 size_t len, const struct sl_val *val)
{
    if (SL_LIKELY(sl__checks_sure(ctx->v, n, txt, len, val))) {
        return 0;
    }
    return sl__run_checks_ordered(ctx, n, txt, len, val);
}

/* What a node's non-null text value takes, from the most specific (one test
 * each) to SL_OP_GEN, the general sl__coerce_text. */
enum {
    SL_OP_GEN,
    SL_OP_STR,     /* STRING, no rule */
    SL_OP_STR_SET, /* STRING, only an enum */
    SL_OP_STR_LEN, /* STRING, only lengths (sure-pass byte bounds) */
    SL_OP_STR_PAT, /* STRING, only a simple pattern */
    SL_OP_I64,     /* INT64, at most numeric bounds */
    SL_OP_F64,     /* FLOAT64, at most numeric bounds */
    SL_OP_TS,      /* TIMESTAMP (microseconds), no rule */
};
/* fastrow.c: set n->op (after sl__vnode_fold). */
void sl__vnode_pick_op(struct vnode *n);

/* A non-null text value by the node's op (not SL_OP_GEN): true when it
 * converts and every unconditional rule holds, with *out what sl__coerce_text
 * would store and the value remembered; false: not confirmed (ask
 * sl__coerce_text, which gives the reason). */
static inline __attribute__((always_inline)) bool sl__op_value(struct sl_validator *v,
                                                               const struct vnode *n,
                                                               const char *s, size_t len,
                                                               struct sl_val *out)
{
    const char *why = NULL;
    int set_id = -1;
    switch (n->op) {
    case SL_OP_STR:
    case SL_OP_STR_SET:
    case SL_OP_STR_LEN:
    case SL_OP_STR_PAT:
        out->kind = SL_V_STR;
        out->u.s = s;
        out->len = (uint32_t)len;
        if (n->op == SL_OP_STR_SET) {
            set_id = sl__strset_find(n->lean_set, s, len);
            if (set_id < 0) {
                return false;
            }
        } else if (n->op == SL_OP_STR_LEN) {
            if (len < n->len_lo || len > n->len_hi) {
                return false;
            }
        } else if (n->op == SL_OP_STR_PAT) {
            int m = sl__spat_match(n->lean_sp, s, len);
            if (m == 0 || (m < 0 && !sl__checks_pass(v, n, s, len, out))) {
                return false;
            }
        }
        break;
    case SL_OP_I64:
        out->kind = SL_V_I64;
        if (sl__coerce_int64(s, len, &out->u.i, &why) != SL_OK ||
            (n->op_num && !((double)out->u.i >= n->num_lo && (double)out->u.i <= n->num_hi))) {
            return false;
        }
        break;
    case SL_OP_F64:
        out->kind = SL_V_F64;
        if (sl__coerce_float64(s, len, &out->u.f, &why) != SL_OK ||
            (n->op_num && !(out->u.f >= n->num_lo && out->u.f <= n->num_hi))) {
            return false;
        }
        break;
    case SL_OP_TS:
        out->kind = SL_V_TS;
        if (sl__coerce_timestamp(s, len, &out->u.i, &why) != SL_OK) {
            return false;
        }
        break;
    default:
        return false;
    }
    sl__remember_id(v, n, s, len, out, set_id);
    return true;
}

/* A STRING value without maxLength: stored as is, remembered for conditions, its
 * rules run. The common case of sl__coerce_text, inline for the scanners. */
static inline int sl__string_value(struct rowctx *ctx, const struct vnode *n, const char *s,
                                   size_t len, struct sl_val *out)
{
    out->kind = SL_V_STR;
    out->u.s = s;
    out->len = (uint32_t)len;
    sl__remember(ctx->v, n, s, len, out);
    return n->n_checks ? sl__run_checks(ctx, n, s, len, out) : 0;
}
/* ---- the row fast path (fastrow.c) ----------------------------------------- */
struct sl_fastcol;
/* Compile the plan's columns for the fast path when every top-level field has
 * a kind it takes (else p->fast_cols stays NULL). 0 or -SL_ENOMEM. */
SL_NODISCARD int sl__fast_prepare(struct sl_vplan *p);
void sl__fast_release(struct sl_vplan *p);
/* The fast path applies to this file's CSV records (after its header, if any). */
bool sl__fast_csv_ok(struct sl_validator *v); /* also sets v->fast_in_order */
/* A CSV record's fields (nf of them; rec/rec_len its raw bytes, ascii when none
 * is >= 0x80): 0 = valid, v->row holds its values; 1 = not confirmed, validate
 * it with the general path (which gives the reason). */
int sl__fast_csv_row(struct sl_validator *v, const struct sl_csv_field *fs, size_t nf,
                     const char *rec, size_t rec_len, bool ascii);
/* The same for the next record of the reader's index (csv.h) over base: 0 =
 * valid and taken from the index (*out_used bytes with its LF); 1 = not
 * confirmed, nothing taken; -SL_ENOMEM. */
int sl__fast_csv_ix(struct sl_validator *v, const char *base, size_t *out_used);
/* Start-of-row reset (arena, slots, top-level row template). 0 or negative. */
int sl__row_begin(struct sl_validator *v, struct rowctx *ctx, const char *line, size_t n);
/* A fresh value array for a RECORD node (NULLs, empty lists for REPEATED). */
struct sl_val *sl__record_vals(struct sl_validator *v, const struct vnode *n);

/* ---- the file loops (stream.c) and CSV rows (csvrows.c) ------------------- */

/* State of one pass over a file (or a part of one). */
struct loop {
    struct sl_validator *v;
    const char *file;
    const struct sl_row_sink *rows;
    const struct sl_reject_sink *rejects;
    struct sl_file_stats *st;
    struct sl_error *err;
    uint64_t line_no;        /* line number of the next row start */
    uint64_t off;            /* byte offset of the current buffer's start */
    uint64_t record_no;      /* CSV: data records seen */
    uint64_t skip_left;      /* CSV: leading rows still to skip */
    bool header_pending;     /* CSV: the next record is the header */
    bool sniff_first;        /* CSV: the next data record is the file's first:
                                see whether it looks like a header */
    bool can_pause;          /* the caller handles SL_ROW_PAUSE from the row sink */
    uint64_t next_progress;
    uint64_t total;
    struct rowctx ctx;
};

void sl__loop_init(struct loop *L, struct sl_validator *v, const char *file,
                   const struct sl_row_sink *rows, const struct sl_reject_sink *rejects,
                   struct sl_file_stats *st, struct sl_error *err);
/* Count and deliver the current row (valid) or the bad record described by c. */
SL_NODISCARD int sl__loop_row(struct loop *L);
SL_NODISCARD int sl__loop_reject(struct loop *L, uint64_t line_no, uint64_t byte_off,
                                 const struct rowctx *c);
/* Reject the row starting at L->off as longer than --max-row-size (its bytes are
 * then skipped by the caller, up to and including its newline). */
SL_NODISCARD int sl__loop_oversized(struct loop *L);
/* After each record: note when the bad records pass the limit. */
void sl__loop_after_row(struct loop *L);
/* Validate the complete rows (NDJSON lines or CSV records) of buf; *used = bytes
 * consumed. Returns SL_OK, a negative code, or SL_ROW_PAUSE when the row sink
 * asked to pause (*used then ends after that row). */
SL_NODISCARD int sl__loop_block(struct loop *L, const char *buf, size_t len, bool eof,
                                size_t *used);
/* Reading a mapping: a thread sets sl__bus_guard around code that touches the
 * mapped file (only our own code), after sl__bus_install(); if the file shrinks,
 * the access faults and the handler jumps to the guard. */
extern __thread sigjmp_buf *sl__bus_guard;
void sl__bus_install(void);
/* The error for a mapped file that shrank while being read. */
SL_NODISCARD int sl__file_changed(const char *path, struct sl_error *err);
/* Drop the mapped pages of [*done, upto) of base (rounded inward to pages) once
 * more than 4 MB is behind, so resident memory stays flat. */
void sl__release_behind(const char *base, size_t *done, size_t upto);
/* Validate-only, in place: the rows of map[pos, end) in slices (the last one with
 * eof), a row over limit bytes rejected and skipped, pages dropped behind
 * (*released); at(L, position reached) after each slice if not NULL. Guarded. */
SL_NODISCARD int sl__loop_mapped(struct loop *L, const char *map, size_t pos, size_t end,
                                 size_t limit, size_t *released,
                                 void (*at)(struct loop *L, size_t pos));
/* Validate the complete CSV records of buf; *used = bytes consumed. */
SL_NODISCARD int sl__csv_block(struct loop *L, const char *buf, size_t len, bool eof,
                               size_t *used);
/* Parallel CSV: read the leading rows and header of a mapped file; the parts
 * start at *out_start, after *out_lines lines; *out_pre keeps the header map. */
SL_NODISCARD int sl__csv_prelude(const struct sl_vplan *plan, const struct sl_vopts *o,
                                 const char *path, const char *map, size_t len, size_t bom,
                                 struct sl_validator **out_pre, size_t *out_start,
                                 uint64_t *out_lines, struct sl_error *err);

#endif
