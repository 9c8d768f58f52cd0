/* psource.c - a plain file validated by several threads: parts, cursors, the
 * file-order merge of counts and rejects, and sl_validate_file_parallel built on
 * them. validate stage. */
#include "core/common.h"
#include "validate/psource.h"
#include "core/alloc.h"
#include "parse/input.h"
#include "validate/validate_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PART_SIZE (8u << 20)
#define MIN_SPLIT (1u << 20)

struct saved_reject {
    uint64_t line_rel, byte_off, record_no;
    char *field, *reason, *value;
    size_t value_len;
};

/* A part: the rows that start in [k * PART_SIZE, (k + 1) * PART_SIZE) of the data
 * (after a CSV header), exactly: it begins after the first line break at or after
 * its nominal start. Written only by the cursor that took it. */
struct part {
    struct sl_file_stats st;
    uint64_t lines; /* line breaks consumed */
    struct saved_reject *rej;
    size_t n_rej, cap_rej;
};

struct sl_psource {
    struct sl_vplan *plan; /* compiled once, shared by every cursor's validator */
    struct sl_vopts o; /* the caller's, without progress */
    char *path;
    const char *map; /* data after any BOM */
    size_t len, bom;
    size_t start;       /* first data byte: after the CSV header and skipped rows */
    uint64_t lines0;    /* line breaks before start */
    struct sl_validator *pre; /* CSV: keeps the header's column map */
    size_t n_parts;
    struct part *parts;
    size_t *cuts; /* n_parts + 1 part starts, from plan_cuts */
    atomic_size_t next;
    atomic_int failed;
    /* progress: bytes and rows of the parts done; reported by whichever cursor
     * finishes a part while no other is reporting */
    atomic_uint_fast64_t done_bytes, done_rows;
    pthread_mutex_t progress_mu;
    void (*progress)(void *ud, uint64_t bytes_done, uint64_t bytes_total, uint64_t rows);
    void *progress_ud;
    pthread_t hasher;
    bool hashing;
    int hash_rc;
    char fingerprint[65];
};

struct sl_pcursor {
    struct sl_psource *s;
    struct sl_validator *v;
    struct loop L;
    struct part *part; /* the part in progress, or NULL */
    size_t begin, mpos, mend; /* the part's start, and its bytes not yet copied */
    char *buf;         /* a private copy of them: rows handed on point here */
    size_t cap, pos, len; /* its size, bytes consumed, bytes held */
    size_t limit;         /* a row holding this many bytes is over --max-row-size */
    struct sl_reject_sink rs;
};

/* ---- parts ------------------------------------------------------------------------ */

/* A probe of the mapping faults in a whole file folio, megabytes on recent
 * kernels (35 probes of a 300 MB file left 52 MB resident): drop the pages within
 * 4 MB of the probe at once. Before the cursors start, so no one else reads them. */
static void drop_around(struct sl_psource *s, size_t at)
{
    size_t from = at > (4u << 20) ? at - (4u << 20) : 0;
    size_t to = s->len - at > (4u << 20) ? at + (4u << 20) : s->len;
    sl__release_behind(s->map, &from, to);
}

/* Where every part begins (cuts[n_parts] = the end of the data): after the first
 * line break at or after its nominal start, or where the next part begins if there
 * is none before that. One backward pass, each byte looked at once at most, pages
 * dropped behind a window searched in vain (a file without line breaks) and around
 * each probe. Touches the mapping: guarded by the caller. */
static void plan_cuts(struct sl_psource *s)
{
    s->cuts[s->n_parts] = s->len;
    s->cuts[0] = s->start;
    for (size_t k = s->n_parts - 1; k >= 1; k--) {
        size_t at = s->start + k * (size_t)PART_SIZE - 1;
        size_t to = k + 1 < s->n_parts ? s->start + (k + 1) * (size_t)PART_SIZE - 1 : s->len;
        const char *nl = memchr(s->map + at, '\n', to - at);
        drop_around(s, at);
        if (nl != NULL) {
            s->cuts[k] = (size_t)(nl - s->map) + 1;
        } else {
            s->cuts[k] = s->cuts[k + 1];
            size_t done = at;
            sl__release_behind(s->map, &done, to);
        }
    }
}

static int save_reject(void *ud, const struct sl_reject *r, struct sl_error *err)
{
    struct sl_pcursor *c = ud;
    struct part *p = c->part;
    if (c->s->o.stop_at_reject) {
        return SL_ERR(err, -SL_ECHANGED, "a bad record (%s)", r->reason);
    }
    if (p->n_rej == p->cap_rej) {
        size_t nc = p->cap_rej ? p->cap_rej * 2 : 64;
        struct saved_reject *n = sl__realloc(p->rej, nc * sizeof(*n));
        if (n == NULL) {
            return SL_ERR(err, -SL_ENOMEM, "out of memory keeping rejects");
        }
        p->rej = n;
        p->cap_rej = nc;
    }
    struct saved_reject *sr = &p->rej[p->n_rej++];
    memset(sr, 0, sizeof(*sr));
    sr->line_rel = r->line_no;
    sr->byte_off = r->byte_off;
    sr->record_no = r->record_no;
    sr->field = r->field ? sl__strdup(r->field) : NULL;
    sr->reason = sl__strdup(r->reason);
    sr->value = r->value ? sl__strndup(r->value, r->value_len) : NULL;
    sr->value_len = r->value_len;
    if ((r->field && !sr->field) || !sr->reason || (r->value && !sr->value)) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory keeping rejects");
    }
    return SL_OK;
}

/* ---- the fingerprint, on its own thread ----------------------------------------- */

static void *hash_main(void *arg)
{
    struct sl_psource *s = arg;
    struct sl_sha256 *h = sl_sha256_new();
    if (h == NULL) {
        s->hash_rc = -SL_ENOMEM;
        return NULL;
    }
    sigjmp_buf jb;
    if (sigsetjmp(jb, 1) != 0) {
        sl__bus_guard = NULL;
        s->hash_rc = -SL_EIO;
        sl_sha256_free(h);
        return NULL;
    }
    sl__bus_guard = &jb;
    /* 8 MB at a time, so that a failed read stops it too */
    const char *p = s->map - s->bom;
    size_t left = s->len + s->bom;
    while (left > 0 && !atomic_load(&s->failed)) {
        size_t n = left < (8u << 20) ? left : (8u << 20);
        sl_sha256_update_map(h, p, n);
        p += n;
        left -= n;
    }
    sl__bus_guard = NULL;
    sl_sha256_final_hex(h, s->fingerprint);
    sl_sha256_free(h);
    return NULL;
}

/* ---- source --------------------------------------------------------------------- */

static int plan(struct sl_psource *s, const struct sl_vopts *o, const char *path,
                struct sl_error *err);

int sl_psource_open(const struct sl_table *t, const struct sl_vopts *o, const char *path,
                    struct sl_psource **out, struct sl_error *err)
{
    *out = NULL;
    /* Split points are newlines: safe for NDJSON, and for CSV when quoted
     * newlines are not allowed (a newline then always ends a record). */
    if (o->format == SL_FMT_CSV && o->csv.allow_quoted_newlines) {
        return SL_OK;
    }
    const char *map = NULL;
    size_t len = 0, bom = 0;
    int rc = sl_input_map(path, &map, &len, &bom, err);
    if (rc != SL_OK || map == NULL) {
        return rc;
    }
    if (len < MIN_SPLIT) {
        sl_input_unmap(map, len, bom);
        return SL_OK;
    }
    struct sl_psource *s = sl__calloc(1, sizeof(*s));
    char *p = sl__strdup(path);
    if (s == NULL || p == NULL) {
        sl__free(s);
        sl__free(p);
        sl_input_unmap(map, len, bom);
        return SL_ERR(err, -SL_ENOMEM, "out of memory");
    }
    s->o = *o;
    s->progress = o->progress; /* called under progress_mu only */
    s->progress_ud = o->progress_ud;
    s->o.progress = NULL;
    pthread_mutex_init(&s->progress_mu, NULL);
    s->path = p;
    s->map = map;
    s->len = len;
    s->bom = bom;
    atomic_init(&s->next, 0);
    atomic_init(&s->failed, 0);
    rc = sl_vplan_create(t, &s->plan, err);
    if (rc == SL_OK) {
        rc = plan(s, o, path, err);
    }
    if (rc != SL_OK) {
        sl_psource_close(s); /* the caller gets nothing to close */
        return rc;
    }
    *out = s;
    return SL_OK;
}

/* The rest of sl_psource_open: the CSV prelude, the parts and their cuts, the
 * hash thread. On failure s is left for the caller to close. */
static int plan(struct sl_psource *s, const struct sl_vopts *o,
                const char *path, struct sl_error *err)
{
    const char *map = s->map;
    size_t len = s->len, bom = s->bom;
    int rc;
    if (o->format == SL_FMT_CSV) {
        sl__bus_install();
        sigjmp_buf jb;
        if (sigsetjmp(jb, 1) != 0) {
            sl__bus_guard = NULL;
            return sl__file_changed(path, err);
        }
        sl__bus_guard = &jb;
        rc = sl__csv_prelude(s->plan, &s->o, path, map, len, bom, &s->pre, &s->start,
                             &s->lines0, err);
        sl__bus_guard = NULL;
        if (rc != SL_OK) {
            return rc;
        }
    }
    s->n_parts = (len - s->start + PART_SIZE - 1) / PART_SIZE;
    if (s->n_parts == 0) {
        s->n_parts = 1;
    }
    s->parts = sl__calloc(s->n_parts, sizeof(*s->parts));
    s->cuts = sl__calloc(s->n_parts + 1, sizeof(*s->cuts));
    if (s->parts == NULL || s->cuts == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory");
    }
    sl__bus_install();
    sigjmp_buf jb2;
    if (sigsetjmp(jb2, 1) != 0) {
        sl__bus_guard = NULL;
        return sl__file_changed(path, err);
    }
    sl__bus_guard = &jb2;
    plan_cuts(s);
    sl__bus_guard = NULL;
    if (o->fingerprint) {
        sl__bus_install();
        if (pthread_create(&s->hasher, NULL, hash_main, s) != 0) {
            hash_main(s);
        } else {
            s->hashing = true;
        }
    }
    return SL_OK;
}

static void join_hasher(struct sl_psource *s)
{
    if (s->hashing) {
        pthread_join(s->hasher, NULL);
        s->hashing = false;
    }
}

void sl_psource_close(struct sl_psource *s)
{
    if (s == NULL) {
        return;
    }
    join_hasher(s);
    for (size_t i = 0; s->parts != NULL && i < s->n_parts; i++) {
        struct part *p = &s->parts[i];
        for (size_t k = 0; k < p->n_rej; k++) {
            sl__free(p->rej[k].field);
            sl__free(p->rej[k].reason);
            sl__free(p->rej[k].value);
        }
        sl__free(p->rej);
    }
    sl__free(s->parts);
    sl__free(s->cuts);
    sl_validator_destroy(s->pre);
    sl_vplan_destroy(s->plan); /* after every validator made from it */
    sl_input_unmap(s->map, s->len, s->bom);
    pthread_mutex_destroy(&s->progress_mu);
    sl__free(s->path);
    sl__free(s);
}

bool sl_psource_failed(struct sl_psource *s)
{
    return atomic_load(&s->failed) != 0;
}

int sl_psource_finish(struct sl_psource *s, const struct sl_reject_sink *rejects,
                      struct sl_file_stats *st, struct sl_error *err)
{
    join_hasher(s);
    memset(st, 0, sizeof(*st));
    int rc = SL_OK;
    if (s->o.fingerprint && s->hash_rc == -SL_ENOMEM) {
        rc = SL_ERR(err, -SL_ENOMEM, "out of memory");
    } else if (s->o.fingerprint && s->hash_rc != SL_OK) {
        rc = sl__file_changed(s->path, err);
    }
    uint64_t line_base = s->lines0, record_base = 0;
    for (size_t i = 0; i < s->n_parts; i++) {
        struct part *p = &s->parts[i];
        st->rows += p->st.rows;
        st->valid += p->st.valid;
        st->rejected += p->st.rejected;
        for (size_t k = 0; k < p->n_rej && rc == SL_OK && rejects != NULL; k++) {
            struct saved_reject *sr = &p->rej[k];
            struct sl_reject r = {s->path,
                                  sr->line_rel + line_base,
                                  sr->record_no ? sr->record_no + record_base : 0,
                                  sr->byte_off,
                                  sr->field,
                                  sr->reason,
                                  sr->value,
                                  sr->value_len};
            rc = rejects->reject(rejects->ud, &r, err);
        }
        line_base += p->lines;
        record_base += p->st.rows;
    }
    st->header_like = s->parts[0].st.header_like;
    st->header_like_taken = s->parts[0].st.header_like_taken;
    st->bytes = s->len;
    st->raw_bytes = s->len + s->bom;
    st->too_many_bad = st->rejected > s->o.max_bad;
    if (s->o.fingerprint) {
        memcpy(st->fingerprint, s->fingerprint, sizeof(st->fingerprint));
    }
    return rc;
}

/* ---- cursors -------------------------------------------------------------------- */

int sl_pcursor_open(struct sl_psource *s, struct sl_pcursor **out, struct sl_error *err)
{
    *out = NULL;
    struct sl_pcursor *c = sl__calloc(1, sizeof(*c));
    if (c == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory");
    }
    c->s = s;
    c->rs.reject = save_reject;
    c->rs.ud = c;
    int rc = sl_validator_create_from_plan(s->plan, &s->o, &c->v, err);
    if (rc != SL_OK) {
        sl__free(c);
        return rc;
    }
    c->limit = c->v->o.max_row_size + 2; /* the validator's: 0 there means the default */
    if (s->pre != NULL && s->pre->csv_map != NULL) {
        size_t n = s->pre->csv_map_len;
        c->v->hdr_map = sl__calloc(n ? n : 1, sizeof(*c->v->hdr_map));
        if (c->v->hdr_map == NULL) {
            sl_pcursor_close(c);
            return SL_ERR(err, -SL_ENOMEM, "out of memory");
        }
        memcpy(c->v->hdr_map, s->pre->csv_map, n * sizeof(*c->v->hdr_map));
        c->v->hdr_map_cap = n ? n : 1;
        c->v->csv_map = c->v->hdr_map;
        c->v->csv_map_len = n;
    }
    *out = c;
    return SL_OK;
}

void sl_pcursor_close(struct sl_pcursor *c)
{
    if (c == NULL) {
        return;
    }
    sl_validator_destroy(c->v);
    sl__free(c->buf);
    sl__free(c);
}

/* Take the next part, if any; its rows start at the part's first byte. */
static bool take_part(struct sl_pcursor *c)
{
    struct sl_psource *s = c->s;
    size_t k = atomic_fetch_add(&s->next, 1);
    if (k >= s->n_parts) {
        return false;
    }
    size_t begin = s->cuts[k], end = s->cuts[k + 1];
    c->part = &s->parts[k];
    c->begin = c->mpos = begin;
    c->mend = end;
    c->pos = c->len = 0;
    /* a fresh row loop over the part; the CSV header map stays in the validator */
    struct loop *L = &c->L;
    memset(L, 0, sizeof(*L));
    L->v = c->v;
    L->file = s->path;
    L->rejects = &c->rs;
    L->st = &c->part->st;
    /* the first part starts at the file's first data record */
    L->sniff_first = k == 0 && s->o.format == SL_FMT_CSV && !s->o.header;
    L->line_no = 1;
    L->off = begin + s->bom;
    L->can_pause = true;
    return true;
}

/* Copy more of the part out of the mapping, after the bytes not yet consumed: the
 * rows handed on then point into memory of ours, which any code may read even if
 * the file shrinks meanwhile. The copy holds at most a part and one row: a part is
 * copied whole unless a row in it is too long to keep. Guarded by the caller. */
static int fill(struct sl_pcursor *c, struct sl_error *err)
{
    struct sl_psource *s = c->s;
    if (c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
    if (c->len == c->cap) {
        /* the caller skips a row once limit bytes of it are held: a part and a
         * row is as large as the copy gets */
        size_t ncap = c->cap == 0 ? PART_SIZE + (64u << 10) : c->cap * 2;
        if (c->cap != 0 && ncap > c->limit + PART_SIZE) {
            ncap = c->limit + PART_SIZE;
        }
        char *nb = sl__realloc(c->buf, ncap);
        if (nb == NULL) {
            return SL_ERR(err, -SL_ENOMEM, "out of memory reading %s", s->path);
        }
        c->buf = nb;
        c->cap = ncap;
    }
    size_t n = c->cap - c->len;
    if (n > c->mend - c->mpos) {
        n = c->mend - c->mpos;
    }
    memcpy(c->buf + c->len, s->map + c->mpos, n);
    size_t done = c->mpos;
    sl__release_behind(s->map, &done, c->mpos + n);
    c->len += n;
    c->mpos += n;
    return SL_OK;
}

/* The row at the start of the unconsumed bytes is longer than --max-row-size:
 * reject it and skip it, through its newline, in the mapping. Guarded. */
static int skip_oversized(struct sl_pcursor *c)
{
    struct sl_psource *s = c->s;
    int rc = sl__loop_oversized(&c->L);
    if (rc != SL_OK) {
        return rc;
    }
    /* find its newline a slice at a time, dropping the pages behind */
    size_t after = c->mend, at = c->mpos, done = c->mpos;
    while (at < c->mend) {
        size_t n = c->mend - at < PART_SIZE ? c->mend - at : PART_SIZE;
        const char *nl = memchr(s->map + at, '\n', n);
        if (nl != NULL) {
            after = (size_t)(nl - s->map) + 1;
            break;
        }
        at += n;
        sl__release_behind(s->map, &done, at);
    }
    c->L.off += (c->len - c->pos) + (after - c->mpos);
    c->L.line_no++;
    c->mpos = after;
    c->pos = c->len = 0;
    return SL_OK;
}

static void report_part(struct sl_psource *s, size_t bytes, uint64_t rows)
{
    uint64_t b = atomic_fetch_add(&s->done_bytes, bytes) + bytes;
    uint64_t r = atomic_fetch_add(&s->done_rows, rows) + rows;
    if (s->progress != NULL && pthread_mutex_trylock(&s->progress_mu) == 0) {
        s->progress(s->progress_ud, b + s->start, s->len + s->bom, r);
        pthread_mutex_unlock(&s->progress_mu);
    }
}

static int next_guarded(struct sl_pcursor *c, const struct sl_row_sink *rows, bool *done,
                        struct sl_error *err)
{
    struct sl_psource *s = c->s;
    for (;;) {
        if (atomic_load(&s->failed)) {
            *done = true; /* another cursor failed: it reports why */
            return SL_OK;
        }
        if (c->part == NULL && !take_part(c)) {
            *done = true;
            return SL_OK;
        }
        int rc = SL_OK;
        if (c->pos == c->len && c->mpos < c->mend) {
            rc = fill(c, err);
        }
        bool eof = c->mpos == c->mend;
        if (rc == SL_OK) {
            size_t used = 0;
            c->L.rows = rows;
            c->L.err = err;
            rc = sl__loop_block(&c->L, c->buf + c->pos, c->len - c->pos, eof, &used);
            c->pos += used;
        }
        if (rc < 0) {
            return rc;
        }
        if (eof && c->pos == c->len) {
            c->part->lines = c->L.line_no - 1;
            report_part(s, c->mend - c->begin, c->part->st.rows);
            c->part = NULL;
        } else if (rc != SL_ROW_PAUSE) {
            /* what is left starts a row that goes on past it */
            int r2 = c->len - c->pos >= c->limit ? skip_oversized(c) : fill(c, err);
            if (r2 != SL_OK) {
                return r2;
            }
        }
        if (rc == SL_ROW_PAUSE) {
            return SL_OK;
        }
    }
}

int sl_pcursor_next(struct sl_pcursor *c, const struct sl_row_sink *rows, bool *done,
                    struct sl_error *err)
{
    *done = false;
    sigjmp_buf jb;
    sl__bus_install();
    if (sigsetjmp(jb, 1) != 0) {
        sl__bus_guard = NULL;
        atomic_store(&c->s->failed, 1);
        return sl__file_changed(c->s->path, err);
    }
    sl__bus_guard = &jb;
    int rc = next_guarded(c, rows, done, err);
    sl__bus_guard = NULL;
    if (rc < 0) {
        atomic_store(&c->s->failed, 1);
    }
    return rc;
}

/* ---- parallel validate-only --------------------------------------------------------- */

struct worker {
    struct sl_psource *s;
    struct sl_error err;
    int rc;
};

/* Validate-only: the cursor's parts read in place from the mapping, as the
 * one-thread pass reads a file (no copy: no row sink may see the bytes, and
 * rejects copy their excerpts). */
static int run_in_place(struct sl_pcursor *c, struct sl_error *err)
{
    struct sl_psource *s = c->s;
    sigjmp_buf jb;
    sl__bus_install();
    if (sigsetjmp(jb, 1) != 0) {
        sl__bus_guard = NULL;
        atomic_store(&s->failed, 1);
        return sl__file_changed(s->path, err);
    }
    sl__bus_guard = &jb;
    int rc = SL_OK;
    while (rc == SL_OK && !atomic_load(&s->failed) && take_part(c)) {
        size_t released = c->begin;
        c->L.err = err;
        rc = sl__loop_mapped(&c->L, s->map, c->begin, c->mend, c->limit, &released, NULL);
        if (rc == SL_OK) {
            c->part->lines = c->L.line_no - 1;
            report_part(s, c->mend - c->begin, c->part->st.rows);
        }
        c->part = NULL;
    }
    sl__bus_guard = NULL;
    if (rc < 0) {
        atomic_store(&s->failed, 1);
    }
    return rc;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct sl_pcursor *c = NULL;
    w->rc = sl_pcursor_open(w->s, &c, &w->err);
    if (w->rc == SL_OK) {
        w->rc = run_in_place(c, &w->err);
    }
    sl_pcursor_close(c);
    return NULL;
}

int sl_validate_file_parallel(const struct sl_table *t, const struct sl_vopts *o,
                              const char *path, unsigned n_threads,
                              const struct sl_reject_sink *rejects, struct sl_file_stats *st,
                              struct sl_error *err)
{
    struct sl_psource *s = NULL;
    int rc = SL_OK;
    if (n_threads > 1) {
        rc = sl_psource_open(t, o, path, &s, err);
        if (rc != SL_OK) {
            sl_psource_close(s);
            return rc;
        }
    }
    if (s == NULL) {
        struct sl_validator *v = NULL;
        rc = sl_validator_create(t, o, &v, err);
        if (rc == SL_OK) {
            rc = sl_validate_file(v, path, NULL, rejects, st, err);
        }
        sl_validator_destroy(v);
        return rc;
    }
    if (n_threads > 64) {
        n_threads = 64;
    }
    struct worker w[64];
    pthread_t th[64];
    memset(w, 0, sizeof(w));
    for (unsigned i = 0; i < n_threads; i++) {
        w[i].s = s;
        if (pthread_create(&th[i], NULL, worker_main, &w[i]) != 0) {
            worker_main(&w[i]);
            th[i] = 0;
        }
    }
    for (unsigned i = 0; i < n_threads; i++) {
        if (th[i] != 0) {
            pthread_join(th[i], NULL);
        }
        if (rc == SL_OK && w[i].rc != SL_OK) {
            rc = w[i].rc;
            *err = w[i].err;
        }
    }
    if (rc == SL_OK) {
        rc = sl_psource_finish(s, rejects, st, err);
    }
    sl_psource_close(s);
    return rc;
}
