/* stream.c - the file loops: read (decompressed) input in large blocks, cut it
 * into rows (NDJSON lines or CSV records), validate each, and deliver good rows and
 * rejects; plus the parallel (multi-thread) validate-only path. validate stage. */
#include "core/common.h"
#include "validate/validate_int.h"
#include "core/alloc.h"
#include "parse/input.h"
#include "validate/coerce.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BLOCK (4u << 20)
#define PROGRESS_EVERY (16u << 20)
#define EXCERPT 120


int sl__loop_reject(struct loop *L, uint64_t line_no, uint64_t byte_off,
                       const struct rowctx *c)
{
    L->st->rejected++;
    if (L->rejects == NULL) {
        return SL_OK;
    }
    /* copy the excerpt: it may point into a mapping only our code may touch */
    char excerpt[EXCERPT];
    size_t ex_len = c->err_val_len > EXCERPT ? EXCERPT : c->err_val_len;
    if (c->err_val != NULL) {
        memcpy(excerpt, c->err_val, ex_len);
    }
    struct sl_reject r = {
        .file = L->file,
        .line_no = line_no,
        .record_no = L->v->o.format == SL_FMT_CSV ? L->record_no : 0,
        .byte_off = byte_off,
        .field = c->err_field ? c->err_field->path : (c->err_path[0] ? c->err_path : NULL),
        .reason = c->reason,
        .value = c->err_val != NULL ? excerpt : NULL,
        .value_len = ex_len,
    };
    return L->rejects->reject(L->rejects->ud, &r, L->err);
}

int sl__loop_row(struct loop *L)
{
    L->st->valid++;
    if (L->rows == NULL || L->st->too_many_bad) {
        return SL_OK;
    }
    return L->rows->row(L->rows->ud, L->v->row, L->v->root.n_kids, L->err);
}

void sl__loop_after_row(struct loop *L)
{
    if (L->st->rejected > L->v->o.max_bad) {
        L->st->too_many_bad = true;
    }
}

static void progress(struct loop *L, uint64_t done)
{
    if (L->v->o.progress != NULL && done >= L->next_progress) {
        L->next_progress = done + PROGRESS_EVERY;
        L->v->o.progress(L->v->o.progress_ud, done, L->total, L->st->rows);
    }
}

static int oversized_row(struct loop *L);

static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') {
            return false;
        }
    }
    return true;
}

static int ndjson_line(struct loop *L, const char *p, size_t n)
{
    if (n == 0 || ((*p == ' ' || *p == '\t' || *p == '\r') && blank(p, n))) {
        return SL_OK; /* blank lines are skipped and not counted (U11) */
    }
    if (SL_UNLIKELY(n > L->v->o.max_row_size)) {
        return oversized_row(L);
    }
    L->st->rows++;
    int rc = sl__ndjson_row(L->v, &L->ctx, p, n);
    if (rc < 0) {
        return SL_ERR(L->err, rc, "%s: line %llu: %s", L->file,
                      (unsigned long long)L->line_no, sl_strerror(rc));
    }
    rc = rc == 0 ? sl__loop_row(L) : sl__loop_reject(L, L->line_no, L->off, &L->ctx);
    sl__loop_after_row(L);
    return rc;
}

/* Process the complete lines of buf; *used = bytes consumed. At eof the last
 * line needs no newline. */
static int ndjson_block(struct loop *L, const char *buf, size_t len, bool eof, size_t *used)
{
    const char *p = buf, *end = buf + len;
    int rc = SL_OK;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL && !eof) {
            break;
        }
        const char *le = nl ? nl : end;
        rc = ndjson_line(L, p, (size_t)(le - p));
        if (rc != SL_OK) {
            break;
        }
        size_t adv = (size_t)(le - p) + (nl ? 1 : 0);
        L->off += adv;
        L->line_no++;
        p += adv;
    }
    *used = (size_t)(p - buf);
    return rc;
}

/* ---- the file loop -------------------------------------------------------- */

void sl__loop_init(struct loop *L, struct sl_validator *v, const char *file,
                      const struct sl_row_sink *rows, const struct sl_reject_sink *rejects,
                      struct sl_file_stats *st, struct sl_error *err)
{
    memset(L, 0, sizeof(*L));
    L->v = v;
    L->file = file;
    L->rows = rows;
    L->rejects = rejects;
    L->st = st;
    L->err = err;
    L->line_no = 1;
    L->skip_left = v->o.skip_leading_rows;
    if (v->o.format == SL_FMT_CSV && v->o.header) {
        L->header_pending = true;
        if (L->skip_left == 0) {
            L->skip_left = 1;
        }
    }
    sl__free(v->csv_map);
    v->csv_map = NULL;
    v->csv_map_len = 0;
}

static int block(struct loop *L, const char *buf, size_t len, bool eof, size_t *used)
{
    return L->v->o.format == SL_FMT_CSV ? sl__csv_block(L, buf, len, eof, used)
                                        : ndjson_block(L, buf, len, eof, used);
}

static int oversized_row(struct loop *L)
{
    memset(&L->ctx, 0, sizeof(L->ctx));
    snprintf(L->ctx.reason, sizeof(L->ctx.reason),
             "Row exceeds the maximum row size of %zu bytes", L->v->o.max_row_size);
    L->st->rows++;
    L->record_no++;
    int rc = sl__loop_reject(L, L->line_no, L->off, &L->ctx);
    sl__loop_after_row(L);
    return rc;
}

/* Mapped input is read only by our own scanning code (validate-only: no row sink,
 * and reject values are copied before the reject sink sees them). If the file
 * shrinks under the mapping, the access faults with SIGBUS: the handler jumps back
 * to the guarded loop of this thread, which reports the file as changed. */
static __thread sigjmp_buf *bus_guard;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig)
{
    if (bus_guard != NULL) {
        siglongjmp(*bus_guard, 1);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_bus_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

static int file_changed(const char *path, struct sl_error *err)
{
    SL_ERR(err, -SL_EIO, "%s: the file changed (shrank) while being read", path);
    sl__error_path(err, path);
    return -SL_EIO;
}

/* Drop the mapped pages of [*done, upto) (rounded to pages) so that resident
 * memory stays flat whatever the file size: file pages already read count as RSS. */
static void release_behind(const char *base, size_t *done, size_t upto)
{
    static size_t page;
    if (page == 0) {
        page = (size_t)sysconf(_SC_PAGESIZE);
    }
    uintptr_t b = (uintptr_t)base;
    uintptr_t from = (b + *done + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t to = (b + upto) & ~(uintptr_t)(page - 1);
    if (to > from + (4u << 20)) {
        madvise((void *)from, to - from, MADV_DONTNEED);
        *done = to - b;
    }
}

/* A plain regular file, mapped: no read() copies; processed in 16 MB slices so
 * progress is reported. Validate-only (rows == NULL). */
static int validate_mapped(struct sl_validator *v, const char *path, const char *map,
                           size_t len, size_t bom, const struct sl_row_sink *rows,
                           const struct sl_reject_sink *rejects, struct sl_file_stats *st,
                           struct sl_error *err)
{
    struct loop L;
    sl__loop_init(&L, v, path, rows, rejects, st, err);
    L.total = len + bom;
    L.off = bom; /* offsets count from the file's first byte, BOM included */
    size_t pos = 0, slice = PROGRESS_EVERY, released = 0;
    int rc = SL_OK;
    sigjmp_buf jb;
    pthread_once(&bus_once, install_bus_handler);
    if (sigsetjmp(jb, 1) != 0) {
        bus_guard = NULL;
        return file_changed(path, err);
    }
    bus_guard = &jb;
    while (pos < len) {
        size_t n = len - pos < slice ? len - pos : slice;
        bool eof = pos + n == len;
        size_t used = 0;
        rc = block(&L, map + pos, n, eof, &used);
        if (rc != SL_OK) {
            break;
        }
        pos += used;
        st->bytes = pos;
        progress(&L, pos);
        release_behind(map, &released, pos);
        if (used == 0 && !eof) {
            slice *= 2; /* a row longer than the slice */
        } else if (eof && used < n) {
            break; /* cannot happen: at eof every byte is consumed */
        }
    }
    bus_guard = NULL;
    st->bytes = len;
    st->raw_bytes = len + bom;
    if (rc == SL_OK && v->o.fingerprint) {
        sl_sha256_hex(map - bom, len + bom, st->fingerprint);
    }
    return rc;
}

int sl_validate_file(struct sl_validator *v, const char *path, const struct sl_row_sink *rows,
                     const struct sl_reject_sink *rejects, struct sl_file_stats *st,
                     struct sl_error *err)
{
    memset(st, 0, sizeof(*st));
    const char *map = NULL;
    size_t map_len = 0, bom = 0;
    int mrc = sl_input_map(path, &map, &map_len, &bom, err);
    if (mrc != SL_OK) {
        return mrc;
    }
    if (map != NULL && rows != NULL) {
        sl_input_unmap(map, map_len, bom); /* loads stream: a sink may read values */
        map = NULL;
    }
    if (map != NULL) {
        mrc = validate_mapped(v, path, map, map_len, bom, rows, rejects, st, err);
        sl_input_unmap(map, map_len, bom);
        return mrc;
    }
    struct sl_input *in = NULL;
    int rc = sl_input_open(path, v->o.fingerprint, &in, err);
    if (rc != SL_OK) {
        return rc;
    }
    struct loop L;
    sl__loop_init(&L, v, path, rows, rejects, st, err);
    L.total = sl_input_total_size(in);
    size_t cap = BLOCK, len = 0;
    size_t limit = v->o.max_row_size + 2;
    char *buf = sl__malloc(cap);
    bool eof = false, discarding = false, bom_seen = false;
    if (buf == NULL) {
        rc = SL_ERR(err, -SL_ENOMEM, "out of memory reading %s", path);
        goto out;
    }
    while (!eof) {
        size_t n = 0;
        rc = sl_input_read(in, buf + len, cap - len, &n, err);
        if (rc != SL_OK) {
            goto out;
        }
        st->bytes += n;
        eof = n == 0;
        if (!bom_seen && n > 0) {
            bom_seen = true;
            if (sl_input_had_bom(in)) {
                L.off += 3; /* offsets count from the first byte, BOM included */
            }
        }
        len += n;
        size_t pos = 0;
        if (discarding) {
            /* dropping the rest of an oversized row up to its newline */
            const char *nl = memchr(buf, '\n', len);
            if (nl == NULL) {
                L.off += len;
                len = 0;
                continue;
            }
            pos = (size_t)(nl - buf) + 1;
            L.off += pos;
            L.line_no++;
            discarding = false;
        }
        size_t used = 0;
        rc = block(&L, buf + pos, len - pos, eof, &used);
        if (rc != SL_OK) {
            goto out;
        }
        pos += used;
        memmove(buf, buf + pos, len - pos);
        len -= pos;
        progress(&L, st->bytes);
        if (len == cap && !eof) {
            if (cap < limit) {
                size_t ncap = cap * 2 > limit ? limit : cap * 2;
                char *nb = sl__realloc(buf, ncap);
                if (nb == NULL) {
                    rc = SL_ERR(err, -SL_ENOMEM, "out of memory reading %s", path);
                    goto out;
                }
                buf = nb;
                cap = ncap;
            } else {
                if ((rc = oversized_row(&L)) != SL_OK) {
                    goto out;
                }
                L.off += len;
                len = 0;
                discarding = true;
            }
        }
    }
    st->raw_bytes = sl_input_raw_bytes(in);
    if (v->o.fingerprint) {
        sl_input_fingerprint(in, st->fingerprint);
    }
out:
    sl__free(buf);
    sl_input_close(in);
    return rc;
}

int sl_validate_ndjson_row(struct sl_validator *v, const char *p, size_t n,
                           const struct sl_row_sink *rows, struct sl_reject *r)
{
    struct rowctx *c = &v->row_ctx; /* per validator: rejects stay valid until its next row */
    int rc = sl__ndjson_row(v, c, p, n);
    if (rc < 0) {
        return rc;
    }
    if (rc == 0) {
        struct sl_error err = {0};
        if (rows != NULL && rows->row(rows->ud, v->row, v->root.n_kids, &err) != SL_OK) {
            return err.code ? err.code : -SL_EINVAL;
        }
        return 0;
    }
    memset(r, 0, sizeof(*r));
    r->field = c->err_field ? c->err_field->path : (c->err_path[0] ? c->err_path : NULL);
    r->reason = c->reason;
    r->value = c->err_val;
    r->value_len = c->err_val_len;
    return 1;
}

/* ---- parallel validate-only ------------------------------------------------ */

struct saved_reject {
    uint64_t line_rel, byte_off, record_no;
    char *field, *reason, *value;
    size_t value_len;
};

struct part {
    const struct sl_table *t;
    const struct sl_vopts *o;
    const char *file;
    const char *base;
    size_t len;
    uint64_t off;            /* offset of base in the file */
    struct sl_file_stats st;
    uint64_t lines;          /* line breaks in this part */
    const uint32_t *csv_map; /* CSV header mapping from the prelude, borrowed */
    size_t csv_map_len;
    struct saved_reject *rej;
    size_t n_rej, cap_rej;
    struct sl_error err;
    int rc;
};

static int save_reject(void *ud, const struct sl_reject *r, struct sl_error *err)
{
    struct part *p = ud;
    if (p->n_rej == p->cap_rej) {
        size_t nc = p->cap_rej ? p->cap_rej * 2 : 64;
        struct saved_reject *n = sl__realloc(p->rej, nc * sizeof(*n));
        if (n == NULL) {
            return SL_ERR(err, -SL_ENOMEM, "out of memory keeping rejects");
        }
        p->rej = n;
        p->cap_rej = nc;
    }
    struct saved_reject *s = &p->rej[p->n_rej];
    memset(s, 0, sizeof(*s));
    s->line_rel = r->line_no;
    s->byte_off = r->byte_off;
    s->record_no = r->record_no;
    s->field = r->field ? sl__strdup(r->field) : NULL;
    s->reason = sl__strdup(r->reason);
    s->value = r->value ? sl__strndup(r->value, r->value_len) : NULL;
    s->value_len = r->value_len;
    p->n_rej++;
    if ((r->field && !s->field) || !s->reason || (r->value && !s->value)) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory keeping rejects");
    }
    return SL_OK;
}

static void *part_main(void *arg)
{
    struct part *p = arg;
    struct sl_validator *v = NULL;
    p->rc = sl_validator_create(p->t, p->o, &v, &p->err);
    if (p->rc != SL_OK) {
        return NULL;
    }
    struct loop L;
    struct sl_reject_sink rs = {save_reject, p};
    sl__loop_init(&L, v, p->file, NULL, &rs, &p->st, &p->err);
    L.off = p->off;
    /* leading rows and the header were read by the prelude */
    L.skip_left = 0;
    L.header_pending = false;
    if (p->csv_map != NULL) {
        v->csv_map = sl__calloc(p->csv_map_len ? p->csv_map_len : 1, sizeof(*v->csv_map));
        if (v->csv_map == NULL) {
            p->rc = SL_ERR(&p->err, -SL_ENOMEM, "out of memory");
            sl_validator_destroy(v);
            return NULL;
        }
        memcpy(v->csv_map, p->csv_map, p->csv_map_len * sizeof(*v->csv_map));
        v->csv_map_len = p->csv_map_len;
    }
    size_t used = 0;
    sigjmp_buf jb;
    pthread_once(&bus_once, install_bus_handler);
    if (sigsetjmp(jb, 1) != 0) {
        bus_guard = NULL;
        p->rc = file_changed(p->file, &p->err);
        sl_validator_destroy(v);
        return NULL;
    }
    bus_guard = &jb;
    /* in slices, dropping pages behind, as validate_mapped does */
    size_t pos = 0, slice = PROGRESS_EVERY, released = 0;
    p->rc = SL_OK;
    while (pos < p->len && p->rc == SL_OK) {
        size_t n = p->len - pos < slice ? p->len - pos : slice;
        bool eof = pos + n == p->len;
        p->rc = block(&L, p->base + pos, n, eof, &used);
        pos += used;
        if (used == 0 && !eof) {
            slice *= 2;
        }
        release_behind(p->base, &released, pos);
    }
    bus_guard = NULL;
    p->st.bytes = p->len;
    p->lines = L.line_no - 1;
    sl_validator_destroy(v);
    return NULL;
}


int sl_validate_file_parallel(const struct sl_table *t, const struct sl_vopts *o,
                              const char *path, unsigned n_threads,
                              const struct sl_reject_sink *rejects, struct sl_file_stats *st,
                              struct sl_error *err)
{
    const char *map = NULL;
    size_t len = 0, bom = 0;
    int rc = SL_OK;
    /* Split points are newlines: safe for NDJSON, and for CSV when quoted
     * newlines are not allowed (a newline then always ends a record). */
    bool splittable = o->format == SL_FMT_NDJSON ||
                      (o->format == SL_FMT_CSV && !o->csv.allow_quoted_newlines);
    if (n_threads > 1 && splittable) {
        rc = sl_input_map(path, &map, &len, &bom, err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    if (map == NULL || len < 1024 * 1024 || n_threads < 2) {
        sl_input_unmap(map, len, bom);
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
    memset(st, 0, sizeof(*st));
    struct sl_vopts quiet = *o;
    quiet.progress = NULL;
    struct part parts[64];
    pthread_t th[64];
    memset(parts, 0, sizeof(parts));
    size_t start = 0;
    unsigned np = 0;
    uint64_t line_base = 0;
    struct sl_validator *pre = NULL;
    if (o->format == SL_FMT_CSV) {
        rc = sl__csv_prelude(t, &quiet, path, map, len, bom, &pre, &start, &line_base, err);
        if (rc != SL_OK) {
            sl_validator_destroy(pre);
            sl_input_unmap(map, len, bom);
            return rc;
        }
    }
    for (unsigned i = 0; i < n_threads && start < len; i++) {
        size_t end = i + 1 == n_threads ? len : len / n_threads * (i + 1);
        if (end < start) {
            end = start;
        }
        if (end < len) {
            const char *nl = memchr(map + end, '\n', len - end);
            end = nl ? (size_t)(nl - map) + 1 : len;
        }
        struct part *p = &parts[np++];
        p->t = t;
        p->o = &quiet; /* parts report no progress: the callback is not thread-safe */
        p->file = path;
        p->base = map + start;
        p->len = end - start;
        p->off = start + bom;
        if (pre != NULL) {
            p->csv_map = pre->csv_map;
            p->csv_map_len = pre->csv_map_len;
        }
        start = end;
    }
    for (unsigned i = 0; i < np; i++) {
        if (pthread_create(&th[i], NULL, part_main, &parts[i]) != 0) {
            part_main(&parts[i]);
            th[i] = 0;
        }
    }
    for (unsigned i = 0; i < np; i++) {
        if (th[i] != 0) {
            pthread_join(th[i], NULL);
        }
    }
    sl_validator_destroy(pre);
    uint64_t record_base = 0;
    for (unsigned i = 0; i < np; i++) {
        struct part *p = &parts[i];
        if (rc == SL_OK && p->rc != SL_OK) {
            rc = p->rc;
            *err = p->err;
        }
        st->rows += p->st.rows;
        st->valid += p->st.valid;
        st->rejected += p->st.rejected;
        st->bytes += p->st.bytes;
        for (size_t k = 0; k < p->n_rej; k++) {
            struct saved_reject *s = &p->rej[k];
            if (rc == SL_OK && rejects != NULL) {
                struct sl_reject r = {path,
                                      s->line_rel + line_base,
                                      s->record_no ? s->record_no + record_base : 0,
                                      s->byte_off,
                                      s->field,
                                      s->reason,
                                      s->value,
                                      s->value_len};
                rc = rejects->reject(rejects->ud, &r, err);
            }
            sl__free(s->field);
            sl__free(s->reason);
            sl__free(s->value);
        }
        sl__free(p->rej);
        line_base += p->lines;
        record_base += p->st.rows;
    }
    st->too_many_bad = st->rejected > o->max_bad;
    st->raw_bytes = len + bom;
    if (o->fingerprint) {
        sl_sha256_hex(map - bom, len + bom, st->fingerprint);
    }
    sl_input_unmap(map, len, bom);
    return rc;
}
