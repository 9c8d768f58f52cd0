/* checks.c - the rule checks of a validation plan as the row loop runs them:
 * string sets for enum values and `when` conditions, numeric bounds, lengths,
 * patterns, and the end-of-row conditional rules. validate stage. */
#include "core/common.h"
#include "validate/validate_int.h"
#include "core/alloc.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <math.h>
#include <string.h>

enum { OK = 0, REJ = 1 };

/* ---- string sets ----------------------------------------------------------
 * A set of byte strings looked up by the bytes of a value. The hash reads the
 * length and at most the first and last 8 bytes (so a lookup costs the same for
 * any value length), then one memcmp confirms a candidate. */

int sl__set_isa = 0;
static bool set_isa_chosen;

int sl__strset_isa(int want)
{
    int have = 0;
#ifdef SL_HAVE_SET512
    __builtin_cpu_init();
    have = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#endif
    SL_ONCE_STORE(sl__set_isa, sl_isa_pick(want, have));
    SL_ONCE_STORE(set_isa_chosen, true);
    return SL_ONCE_LOAD(sl__set_isa);
}

/* The first sl_vplan_create's choice (racing first calls all store the
 * same values). */
void sl__strset_isa_once(void)
{
    if (!SL_ONCE_LOAD(set_isa_chosen)) {
        sl__strset_isa(-1);
    }
}

#ifdef SL_HAVE_SET512
#include <immintrin.h>
__attribute__((target("avx512f,avx512bw,avx512vl"))) int
sl__strset_find512(const struct strset *S, const char *s, size_t n)
{
    if (S->tab == NULL) {
        return -1;
    }
    /* sl__set_words' words: no byte outside [s, s + n) is read */
    const __mmask16 ka = (__mmask16)(n >= 8 ? 0xFF : (1u << n) - 1);
    const __mmask16 kb = (__mmask16)(n > 8 ? 0xFF : 0);
    const uint64_t a = (uint64_t)_mm_cvtsi128_si64(_mm_maskz_loadu_epi8(ka, s));
    const uint64_t b = (uint64_t)_mm_cvtsi128_si64(
        _mm_maskz_loadu_epi8(kb, (const void *)((uintptr_t)s + n - 8)));
    for (uint32_t i = (uint32_t)sl__set_hash(a, b, n) & S->mask;; i = (i + 1) & S->mask) {
        const struct strent *e = &S->tab[i];
        /* an empty entry that happens to compare equal gives its id, -1 */
        if ((((uint64_t)e->len ^ n) | (e->a ^ a) | (e->b ^ b)) == 0) {
            if (n <= 16) {
                return e->id;
            }
            /* the whole strings (e->s has n bytes too), by masked loads up
             * to 64 bytes; if they differ, the probe goes on */
            const __mmask64 k = n >= 64 ? ~0ULL : (1ULL << n) - 1;
            if (n <= 64 ? _mm512_cmpneq_epi8_mask(_mm512_maskz_loadu_epi8(k, e->s),
                                                  _mm512_maskz_loadu_epi8(k, s)) == 0
                        : memcmp(e->s, s, n) == 0) {
                return e->id;
            }
        }
        if (e->id < 0) {
            return -1;
        }
    }
}
#endif

int sl__strset_add(struct strset *S, const char *s, int *out_id)
{
    size_t n = strlen(s);
    int id = sl__strset_find(S, s, n);
    if (id >= 0) {
        *out_id = id;
        return SL_OK;
    }
    if (S->tab == NULL || 2 * (S->n + 1) > S->mask + 1) {
        /* grow to keep the table at most half full */
        uint32_t cap = S->tab == NULL ? 16 : 2 * (S->mask + 1);
        struct strent *t = sl__malloc(cap * sizeof(*t));
        if (t == NULL) {
            return -SL_ENOMEM;
        }
        for (uint32_t i = 0; i < cap; i++) {
            t[i] = (struct strent){.id = -1};
        }
        for (uint32_t k = 0; S->tab != NULL && k <= S->mask; k++) {
            const struct strent *e = &S->tab[k];
            if (e->id >= 0) {
                uint32_t i = (uint32_t)sl__set_hash(e->a, e->b, e->len) & (cap - 1);
                while (t[i].id >= 0) {
                    i = (i + 1) & (cap - 1);
                }
                t[i] = *e;
            }
        }
        sl__free(S->tab);
        S->tab = t;
        S->mask = cap - 1;
    }
    uint64_t a, b;
    sl__set_words(s, n, &a, &b);
    uint32_t i = (uint32_t)sl__set_hash(a, b, n) & S->mask;
    while (S->tab[i].id >= 0) {
        i = (i + 1) & S->mask;
    }
    S->tab[i].s = s;
    S->tab[i].a = a;
    S->tab[i].b = b;
    S->tab[i].len = (uint32_t)n;
    S->tab[i].id = (int)S->n;
    *out_id = (int)S->n++;
    return SL_OK;
}

void sl__strset_release(struct strset *S)
{
    sl__free(S->tab);
    memset(S, 0, sizeof(*S));
}

/* ---- compiled checks ------------------------------------------------------ */

int sl__vck_init(struct vck *k, const struct sl_check *ck)
{
    memset(k, 0, sizeof(*k));
    k->ck = ck;
    k->kind = ck->kind;
    k->num = ck->num;
    k->len = ck->len;
    if (ck->kind == SL_CK_PATTERN && ck->pattern != NULL) {
        int rc = sl__spat_compile(ck->pattern, strlen(ck->pattern), &k->sp);
        if (rc != SL_OK) {
            return rc;
        }
    }
    if (ck->kind == SL_CK_ENUM) {
        for (size_t i = 0; i < ck->enum_len; i++) {
            int id;
            int rc = sl__strset_add(&k->set, ck->enum_vals[i], &id);
            if (rc != SL_OK) {
                return rc;
            }
        }
    }
    return SL_OK;
}

void sl__vck_release(struct vck *k)
{
    sl__strset_release(&k->set);
    sl__spat_free(k->sp);
    k->sp = NULL;
}

static double pow10i(int e)
{
    double r = 1;
    for (int i = 0; i < e; i++) {
        r *= 10;
    }
    return r;
}

static bool as_double(const struct vnode *n, const struct sl_val *val, double *out)
{
    switch (val->kind) {
    case SL_V_I64:
        *out = (double)val->u.i;
        return true;
    case SL_V_F64:
        *out = val->u.f;
        return true;
    case SL_V_DEC:
        *out = (double)val->u.d / pow10i(n->scale);
        return true;
    case SL_V_STR: {
        char tmp[128];
        size_t l = val->len < sizeof(tmp) - 1 ? val->len : sizeof(tmp) - 1;
        memcpy(tmp, val->u.s, l);
        tmp[l] = '\0';
        *out = strtod(tmp, NULL);
        return true;
    }
    default:
        return false;
    }
}

static bool check_passes(struct sl_validator *v, const struct vck *k, const struct vnode *n,
                         const char *txt, size_t len, const struct sl_val *val)
{
    double d;
    switch (k->kind) {
    case SL_CK_REQUIRED:
        return val->kind != SL_V_NULL;
    case SL_CK_MINIMUM:
        if (val->kind == SL_V_I64) {
            return (double)val->u.i >= k->num;
        }
        if (val->kind == SL_V_F64) {
            return val->u.f >= k->num;
        }
        return !as_double(n, val, &d) || d >= k->num;
    case SL_CK_MAXIMUM:
        if (val->kind == SL_V_I64) {
            return (double)val->u.i <= k->num;
        }
        if (val->kind == SL_V_F64) {
            return val->u.f <= k->num;
        }
        return !as_double(n, val, &d) || d <= k->num;
    case SL_CK_MIN_LENGTH:
        if (val->kind == SL_V_BYTES) {
            return val->len >= k->len;
        }
        /* code points <= bytes <= 4 x code points: count them only when the
         * byte length cannot decide */
        return len >= k->len && (len < 4 * k->len ? sl__count_chars(txt, len) >= k->len : true);
    case SL_CK_MAX_LENGTH:
        if (val->kind == SL_V_BYTES) {
            return val->len <= k->len;
        }
        return len <= k->len || sl__count_chars(txt, len) <= k->len;
    case SL_CK_ENUM:
        return sl__strset_find(&k->set, txt, len) >= 0;
    case SL_CK_PATTERN: {
        /* the JIT entry skips pcre2_match's per-call checks (the text is valid
         * UTF-8 already); patterns the JIT could not compile take the
         * interpreter */
        if (k->sp != NULL) {
            int m = sl__spat_match(k->sp, txt, len);
            if (m >= 0) {
                return m == 1;
            }
        }
        const pcre2_code *re = (const pcre2_code *)k->ck->re;
        int rc = pcre2_jit_match(re, (PCRE2_SPTR)txt, len, 0, 0, v->md, NULL);
        if (rc == PCRE2_ERROR_JIT_BADOPTION) {
            rc = pcre2_match(re, (PCRE2_SPTR)txt, len, 0, PCRE2_NO_UTF_CHECK, v->md, NULL);
        }
        return rc >= 0;
    }
    }
    return true;
}

static int rule_fail(struct rowctx *ctx, const struct sl_check *ck, const struct vnode *n,
                     const char *txt, size_t len)
{
    return sl__vfail(ctx, n->f, txt, len, "Rule failed: %s. Field: %s",
                     ck->name ? ck->name : "rule", n->f->path);
}

void sl__vnode_fold(struct vnode *n)
{
    n->fast = n->n_checks > 0;
    n->num_lo = -HUGE_VAL;
    n->num_hi = HUGE_VAL;
    n->len_lo = 0;
    n->len_hi = UINT64_MAX;
    for (uint32_t i = 0; i < n->n_checks; i++) {
        const struct vck *k = &n->checks[i];
        switch (k->kind) {
        case SL_CK_MINIMUM:
            n->fast_num = true;
            n->num_lo = k->num > n->num_lo ? k->num : n->num_lo;
            break;
        case SL_CK_MAXIMUM:
            n->fast_num = true;
            n->num_hi = k->num < n->num_hi ? k->num : n->num_hi;
            break;
        case SL_CK_MIN_LENGTH:
            /* valid UTF-8 (every value is checked before its rules) holds at
             * least ceil(bytes / 4) code points */
            n->fast_len = true;
            if (k->len > 0) {
                uint64_t sure = k->len > UINT64_MAX / 8 ? UINT64_MAX : 4 * k->len - 3;
                n->len_lo = sure > n->len_lo ? sure : n->len_lo;
            }
            break;
        case SL_CK_MAX_LENGTH:
            n->fast_len = true;
            n->len_hi = k->len < n->len_hi ? k->len : n->len_hi;
            break;
        case SL_CK_ENUM:
        case SL_CK_PATTERN:
            if (n->n_fast_x == sizeof(n->fast_x)) {
                n->fast = false;
            } else {
                n->fast_x[n->n_fast_x++] = (uint8_t)i;
            }
            break;
        case SL_CK_REQUIRED:
            n->fast = false;
            break;
        }
    }
    n->lean = n->fast;
    n->lean_set = NULL;
    n->lean_sp = NULL;
    for (uint32_t j = 0; n->lean && j < n->n_fast_x; j++) {
        const struct vck *k = &n->checks[n->fast_x[j]];
        if (k->kind == SL_CK_ENUM && n->lean_set == NULL) {
            n->lean_set = &k->set;
        } else if (k->kind == SL_CK_PATTERN && k->sp != NULL && n->lean_sp == NULL) {
            n->lean_sp = k->sp;
        } else {
            n->lean = false;
        }
    }
}

/* Every check of n passes (true), or some may fail (false: run them in order). */
static bool fast_pass(struct sl_validator *v, const struct vnode *n, const char *txt,
                      size_t len, const struct sl_val *val)
{
    if (n->fast_num && sl__num_bounds(n, val) != 1) {
        return false;
    }
    if (n->fast_len && (val->kind == SL_V_BYTES || len < n->len_lo || len > n->len_hi)) {
        return false;
    }
    for (uint32_t i = 0; i < n->n_fast_x; i++) {
        if (!check_passes(v, &n->checks[n->fast_x[i]], n, txt, len, val)) {
            return false;
        }
    }
    return true;
}

bool sl__checks_pass(struct sl_validator *v, const struct vnode *n, const char *txt,
                     size_t len, const struct sl_val *val)
{
    if (SL_LIKELY(n->fast) && fast_pass(v, n, txt, len, val)) {
        return true;
    }
    for (uint32_t i = 0; i < n->n_checks; i++) {
        if (!check_passes(v, &n->checks[i], n, txt, len, val)) {
            return false;
        }
    }
    return true;
}

int sl__run_checks_ordered(struct rowctx *ctx, const struct vnode *n, const char *txt,
                           size_t len, const struct sl_val *val)
{
    for (uint32_t i = 0; i < n->n_checks; i++) {
        const struct vck *k = &n->checks[i];
        if (!check_passes(ctx->v, k, n, txt, len, val)) {
            return rule_fail(ctx, k->ck, n, txt, len);
        }
    }
    return OK;
}

/* ---- conditional rules ----------------------------------------------------
 * Each `when` names a field (its slot) and values it must equal. The values of
 * all conditions on one slot go into one string set, and each value id lists
 * the rules it triggers, so a row looks its slot's text up once and runs only
 * those rules. */

/* The `when` values of conditional rule c as ids of its group's set. */
static int cond_ids(struct strset *S, const struct sl_rule_when *w, int *ids, size_t *out_n)
{
    size_t k = 0;
    int rc = SL_OK;
    if (w->equals != NULL) {
        rc = sl__strset_add(S, w->equals, &ids[k++]);
    }
    for (size_t j = 0; rc == SL_OK && j < w->in_len; j++) {
        rc = sl__strset_add(S, w->in_vals[j], &ids[k++]);
    }
    *out_n = k;
    return rc;
}

static int group_prepare(struct sl_vplan *p, uint32_t g)
{
    struct vgroup *G = &p->groups[g];
    size_t total = 0, cap = 0;
    int *ids = NULL;
    int rc = SL_OK;
    /* pass 1: the set, and the longest value list */
    for (uint32_t i = 0; rc == SL_OK && i < p->n_conds; i++) {
        const struct sl_rule_when *w = p->conds[i].ck.ck->when;
        size_t nv = (w->equals != NULL ? 1 : 0) + w->in_len;
        if (p->conds[i].group != g) {
            continue;
        }
        if (nv > cap) {
            sl__free(ids);
            cap = nv;
            if ((ids = sl__malloc(cap * sizeof(int))) == NULL) {
                return -SL_ENOMEM;
            }
        }
        size_t k;
        rc = cond_ids(&G->vals, w, ids, &k);
        total += k;
    }
    if (rc == SL_OK) {
        G->run_at = sl__calloc(G->vals.n + 2, sizeof(uint32_t));
        G->run = sl__calloc(total + 1, sizeof(uint32_t));
        rc = G->run_at == NULL || G->run == NULL ? -SL_ENOMEM : SL_OK;
    }
    /* pass 2: count per id (a rule listing a value twice counts once), then
     * place the rules; both walks go in rule order, so each list is sorted */
    for (int pass = 0; rc == SL_OK && pass < 2; pass++) {
        uint32_t *fill = pass == 0 ? G->run_at + 2 : G->run_at + 1;
        for (uint32_t i = 0; i < p->n_conds; i++) {
            if (p->conds[i].group != g) {
                continue;
            }
            size_t k;
            (void)cond_ids(&G->vals, p->conds[i].ck.ck->when, ids, &k); /* all present */
            for (size_t j = 0; j < k; j++) {
                bool dup = false;
                for (size_t q = 0; q < j; q++) {
                    dup = dup || ids[q] == ids[j];
                }
                if (dup) {
                    continue;
                }
                if (pass == 0) {
                    fill[ids[j]]++;
                } else {
                    G->run[fill[ids[j]]++] = i;
                }
            }
        }
        if (pass == 0) {
            for (uint32_t id = 0; id < G->vals.n; id++) {
                G->run_at[id + 2] += G->run_at[id + 1];
            }
        }
    }
    sl__free(ids);
    return rc;
}

int sl__conds_prepare(struct sl_vplan *p)
{
    for (uint32_t i = 0; i < p->n_conds; i++) {
        struct vcond *c = &p->conds[i];
        uint32_t g = 0;
        while (g < p->n_groups && p->groups[g].slot != c->cond_slot) {
            g++;
        }
        if (g == p->n_groups) {
            p->groups[g].slot = c->cond_slot;
            p->n_groups++;
        }
        c->group = g;
    }
    for (uint32_t g = 0; g < p->n_groups; g++) {
        int rc = group_prepare(p, g);
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

static int link_node(struct sl_vplan *p, const struct vnode *n)
{
    for (uint32_t i = 0; i < n->n_kids; i++) {
        int rc = link_node(p, &n->kids[i]);
        if (rc != SL_OK) {
            return rc;
        }
    }
    if (n->slot == SL_NO_SLOT || n->op != SL_OP_STR_SET || n->lean_set == NULL) {
        return SL_OK;
    }
    const struct strset *S = n->lean_set;
    for (uint32_t g = 0; g < p->n_groups; g++) {
        struct vgroup *G = &p->groups[g];
        if (G->slot != n->slot || S->tab == NULL) {
            continue;
        }
        G->enum_map = sl__malloc((S->n ? S->n : 1) * sizeof(int32_t));
        if (G->enum_map == NULL) {
            return -SL_ENOMEM;
        }
        for (uint32_t i = 0; i <= S->mask; i++) {
            const struct strent *e = &S->tab[i];
            if (e->id >= 0) {
                G->enum_map[e->id] = sl__strset_find(&G->vals, e->s, e->len);
            }
        }
        G->enum_set = S;
    }
    return SL_OK;
}

/* p->quick, when there is one group and its field has an enum op. */
static int plan_quick(struct sl_vplan *p)
{
    const struct vgroup *G = &p->groups[0];
    if (p->n_groups != 1 || G->enum_map == NULL) {
        return SL_OK;
    }
    uint32_t n = G->enum_set->n;
    p->quick = sl__calloc(n ? n : 1, sizeof(*p->quick));
    if (p->quick == NULL) {
        return -SL_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct vquick *q = &p->quick[i];
        int id = G->enum_map[i];
        uint32_t at = id < 0 ? 0 : G->run_at[id], to = id < 0 ? 0 : G->run_at[id + 1];
        if (at == to) {
            q->kind = SL_Q_NONE;
        } else if (to - at == 1 && p->conds[G->run[at]].ck.sp != NULL &&
                   p->conds[G->run[at]].ck.kind == SL_CK_PATTERN) {
            q->kind = SL_Q_PAT;
            q->sp = p->conds[G->run[at]].ck.sp;
            q->target_slot = p->conds[G->run[at]].target_slot;
        } else {
            q->kind = SL_Q_GENERAL;
        }
    }
    return SL_OK;
}

int sl__conds_link_enums(struct sl_vplan *p)
{
    int rc = p->n_groups > 0 ? link_node(p, &p->root) : SL_OK;
    return rc == SL_OK && p->n_groups > 0 ? plan_quick(p) : rc;
}

/* ctx NULL: only tell (the fast path's question), do not describe the failure. */
static int run_cond(struct sl_validator *v, struct rowctx *ctx, const struct vcond *c)
{
    const struct vslot *ts = &v->slots[c->target_slot];
    if (c->ck.kind == SL_CK_REQUIRED) {
        if (ts->present) {
            return OK;
        }
        return ctx != NULL ? rule_fail(ctx, c->ck.ck, c->target, NULL, 0) : REJ;
    }
    if (ts->present && !check_passes(v, &c->ck, c->target, ts->txt, ts->txt_len, &ts->val)) {
        return ctx != NULL ? rule_fail(ctx, c->ck.ck, c->target, ts->txt, ts->txt_len) : REJ;
    }
    return OK;
}

/* The id of group g's slot text in this row, or -1 (absent, null, no rule's value). */
static inline int group_hit(const struct sl_validator *v, const struct vgroup *G)
{
    const struct vslot *cs = &v->slots[G->slot];
    if (!cs->present) {
        return -1;
    }
    if (cs->set_id >= 0 && G->enum_map != NULL) {
        return G->enum_map[cs->set_id]; /* the enum op found the text */
    }
    return sl__strset_find(&G->vals, cs->txt, cs->txt_len);
}

int sl__row_finish(struct rowctx *ctx)
{
    return sl__row_finish_v(ctx->v, ctx);
}

int sl__row_finish_v(struct sl_validator *v, struct rowctx *ctx)
{
    const struct sl_vplan *P = v->plan;
    if (P->n_groups == 1) {
        const struct vgroup *G = &P->groups[0];
        int id = group_hit(v, G);
        for (uint32_t j = id < 0 ? 0 : G->run_at[id]; id >= 0 && j < G->run_at[id + 1]; j++) {
            const struct vcond *c = &P->conds[G->run[j]];
            if (c->ck.sp != NULL) {
                /* a simple pattern, the usual conditional rule: its answer at once */
                const struct vslot *ts = &v->slots[c->target_slot];
                int m = ts->present ? sl__spat_match(c->ck.sp, ts->txt, ts->txt_len) : 1;
                if (m == 1) {
                    continue;
                }
                if (m == 0 && ctx == NULL) {
                    return REJ;
                }
            }
            int rc = run_cond(v, ctx, c);
            if (rc != OK) {
                return rc;
            }
        }
        return OK;
    }
    if (P->n_groups == 0) {
        return OK;
    }
    /* several groups: mark the triggered rules, then run them in rule order */
    size_t words = (P->n_conds + 63) / 64;
    memset(v->cond_hits, 0, words * sizeof(uint64_t));
    for (uint32_t g = 0; g < P->n_groups; g++) {
        const struct vgroup *G = &P->groups[g];
        int id = group_hit(v, G);
        for (uint32_t j = id < 0 ? 0 : G->run_at[id]; id >= 0 && j < G->run_at[id + 1]; j++) {
            v->cond_hits[G->run[j] / 64] |= 1ULL << (G->run[j] % 64);
        }
    }
    for (size_t w = 0; w < words; w++) {
        for (uint64_t bits = v->cond_hits[w]; bits != 0; bits &= bits - 1) {
            int rc = run_cond(v, ctx, &P->conds[w * 64 + (size_t)__builtin_ctzll(bits)]);
            if (rc != OK) {
                return rc;
            }
        }
    }
    return OK;
}
