/* stream.c - the file loops: read (decompressed) input in large blocks, cut it
 * into rows (NDJSON lines or CSV records), validate each, and deliver good rows and
 * rejects; plus the parallel (multi-thread) validate-only path. validate stage. */
#include "core/common.h"
#include "validate/validate_int.h"
#include "core/alloc.h"
#include "parse/input.h"
#include "validate/coerce.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK (4u << 20)
#define PROGRESS_EVERY (16u << 20)
#define EXCERPT 120
/* A plain file of at most SMALL_FILE bytes is read whole, with one read(), into
 * a buffer the validator keeps for the next file: no mapping to make and unmap
 * (each an mmap_lock round trip, and a TLB shootdown across the worker threads
 * at munmap), no signal guard, no read-ahead buffers. */
#define SMALL_FILE (128u << 10)
/* The streaming loop's first buffer for input of unknown decoded size
 * (compressed, stdin): it doubles, up to BLOCK, while reads fill it. A buffer
 * of at most KEEP_BLOCK bytes is kept for the next file. */
#define STREAM_START (256u << 10)
#define KEEP_BLOCK (256u << 10)
_Static_assert(SMALL_FILE < (4u << 20), "sl__release_behind must never drop a heap buffer");


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
    int rc = L->rows->row(L->rows->ud, L->v->row, L->v->plan->root.n_kids, L->err);
    return rc == SL_ROW_PAUSE && !L->can_pause ? SL_OK : rc;
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
        return sl__loop_oversized(L);
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
        if (rc < 0) {
            break;
        }
        size_t adv = (size_t)(le - p) + (nl ? 1 : 0);
        L->off += adv;
        L->line_no++;
        p += adv;
        if (rc == SL_ROW_PAUSE) {
            break;
        }
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
    L->sniff_first = v->o.format == SL_FMT_CSV && !v->o.header;
    v->csv_map = NULL; /* until this file's header (hdr_map is kept) */
    v->csv_map_len = 0;
}

int sl__loop_block(struct loop *L, const char *buf, size_t len, bool eof, size_t *used)
{
    return L->v->o.format == SL_FMT_CSV ? sl__csv_block(L, buf, len, eof, used)
                                        : ndjson_block(L, buf, len, eof, used);
}

int sl__loop_oversized(struct loop *L)
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
__thread sigjmp_buf *sl__bus_guard;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig)
{
    if (sl__bus_guard != NULL) {
        siglongjmp(*sl__bus_guard, 1);
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

void sl__bus_install(void)
{
    pthread_once(&bus_once, install_bus_handler);
}

int sl__file_changed(const char *path, struct sl_error *err)
{
    SL_ERR(err, -SL_EIO, "%s: the file changed (shrank) while being read", path);
    sl__error_path(err, path);
    return -SL_EIO;
}

/* Drop the mapped pages of [*done, upto) (rounded to pages) so that resident
 * memory stays flat whatever the file size: file pages already read count as RSS. */
void sl__release_behind(const char *base, size_t *done, size_t upto)
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

/* Run the loop over map[pos, end) in place (validate-only: no row sink), in slices
 * of 16 MB, the last one with eof; a row longer than limit bytes is rejected and
 * skipped through its newline; the pages behind are dropped (*released: the
 * offset up to which they are). After each slice, at(L, new position) if given.
 * Touches the mapping: guarded by the caller. */
int sl__loop_mapped(struct loop *L, const char *map, size_t pos, size_t end, size_t limit,
                    size_t *released, void (*at)(struct loop *L, size_t pos))
{
    size_t slice = PROGRESS_EVERY;
    int rc = SL_OK;
    while (pos < end) {
        size_t n = end - pos < slice ? end - pos : slice;
        bool eof = pos + n == end;
        size_t used = 0;
        rc = sl__loop_block(L, map + pos, n, eof, &used);
        if (rc != SL_OK) {
            break;
        }
        pos += used;
        if (at != NULL) {
            at(L, pos);
        }
        sl__release_behind(map, released, pos);
        if (used == 0 && !eof && n >= limit) {
            /* a row longer than --max-row-size: reject it and skip it through
             * its newline, dropping the pages behind, as the streaming loop
             * does (memory stays flat however long the row) */
            if ((rc = sl__loop_oversized(L)) != SL_OK) {
                break;
            }
            size_t after = end, from = pos;
            while (from < end) {
                size_t k = end - from < PROGRESS_EVERY ? end - from : PROGRESS_EVERY;
                const char *nl = memchr(map + from, '\n', k);
                if (nl != NULL) {
                    after = (size_t)(nl - map) + 1;
                    break;
                }
                from += k;
                sl__release_behind(map, released, from);
            }
            L->off += after - pos;
            L->line_no++;
            pos = after;
            if (at != NULL) {
                at(L, pos);
            }
            slice = PROGRESS_EVERY;
        } else if (used == 0 && !eof) {
            slice = slice * 2 < limit ? slice * 2 : limit; /* a row longer than the slice */
        } else if (eof && used < n) {
            break; /* cannot happen: at eof every byte is consumed */
        }
    }
    return rc;
}

static void mapped_at(struct loop *L, size_t pos)
{
    L->st->bytes = pos;
    progress(L, pos);
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
    size_t released = 0;
    size_t limit = v->o.max_row_size + 2; /* as the streaming loop's buffer */
    /* set before sigsetjmp and never after: volatile only to tell gcc so */
    struct sl_sha256 *volatile h = NULL;
    if (v->o.fingerprint && (h = sl_sha256_new()) == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory");
    }
    sigjmp_buf jb;
    sl__bus_install();
    if (sigsetjmp(jb, 1) != 0) {
        sl__bus_guard = NULL;
        sl_sha256_free(h);
        return sl__file_changed(path, err);
    }
    sl__bus_guard = &jb;
    int rc = sl__loop_mapped(&L, map, 0, len, limit, &released, mapped_at);
    if (rc == SL_OK && h != NULL) {
        sl_sha256_update_map(h, map - bom, len + bom);
    }
    sl__bus_guard = NULL;
    if (rc == SL_OK && h != NULL) {
        sl_sha256_final_hex(h, st->fingerprint);
    }
    sl_sha256_free(h);
    st->bytes = len;
    st->raw_bytes = len + bom;
    return rc;
}

/* Read the size bytes of the regular file fd into v->file_buf (grown if need
 * be). A file that is not size bytes long by the end of the read changed
 * while being read (one read() normally: a short read of a regular file means
 * its end). */
static int read_small(struct sl_validator *v, const char *path, int fd, size_t size,
                      struct sl_error *err)
{
    if (v->file_buf_cap < size + 1) {
        size_t cap = 4096;
        while (cap < size + 1) {
            cap *= 2;
        }
        char *nb = sl__malloc(cap);
        if (nb == NULL) {
            return SL_ERR(err, -SL_ENOMEM, "out of memory reading %s", path);
        }
        sl__free(v->file_buf);
        v->file_buf = nb;
        v->file_buf_cap = cap;
    }
    size_t got = 0;
    for (;;) {
        size_t want = size + 1 - got; /* one byte more: a file that grew shows */
        ssize_t n = read(fd, v->file_buf + got, want);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int e = errno;
            SL_ERR(err, -SL_EIO, "%s: read error after %zu bytes: %s", path, got, strerror(e));
            err->sub = e;
            sl__error_path(err, path);
            return -SL_EIO;
        }
        got += (size_t)n;
        if (n == 0 || (size_t)n < want || got > size) {
            break;
        }
    }
    if (got != size) {
        SL_ERR(err, -SL_EIO,
               "%s: the file changed while being read (%zu bytes at open, %zu%s read)", path,
               size, got, got > size ? " or more" : "");
        sl__error_path(err, path);
        return -SL_EIO;
    }
    return SL_OK;
}

/* A small plain file, read whole into v->file_buf and validated there as a
 * mapping would be (the same loop, one slice); rows handed to a row sink point
 * into the buffer. 1: the file is compressed, not handled here. */
static int validate_small(struct sl_validator *v, const char *path, int fd, size_t size,
                          const struct sl_row_sink *rows, const struct sl_reject_sink *rejects,
                          struct sl_file_stats *st, struct sl_error *err)
{
    int rc = read_small(v, path, fd, size, err);
    if (rc != SL_OK) {
        return rc;
    }
    const unsigned char *m = (const unsigned char *)v->file_buf;
    if ((m[0] == 0x1f && m[1] == 0x8b) ||
        (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)) {
        return 1; /* gzip or zstd: the streaming loop decodes it */
    }
    if ((rc = sl_input_check_text(path, m, size, err)) != SL_OK) {
        return rc;
    }
    size_t bom = memcmp(m, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    struct loop L;
    sl__loop_init(&L, v, path, rows, rejects, st, err);
    L.total = size;
    L.off = bom; /* offsets count from the file's first byte, BOM included */
    size_t released = 0; /* (never more than 4 MB: nothing of the heap buffer is dropped) */
    rc = sl__loop_mapped(&L, v->file_buf + bom, 0, size - bom, v->o.max_row_size + 2,
                         &released, mapped_at);
    if (rc == SL_OK && v->o.fingerprint) {
        struct sl_sha256 *h = sl_sha256_new();
        if (h == NULL) {
            return SL_ERR(err, -SL_ENOMEM, "out of memory");
        }
        sl_sha256_update_map(h, v->file_buf, size);
        sl_sha256_final_hex(h, st->fingerprint);
        sl_sha256_free(h);
    }
    st->bytes = size - bom;
    st->raw_bytes = size;
    return rc;
}

int sl_validate_file(struct sl_validator *v, const char *path, const struct sl_row_sink *rows,
                     const struct sl_reject_sink *rejects, struct sl_file_stats *st,
                     struct sl_error *err)
{
    memset(st, 0, sizeof(*st));
    bool try_map = true;
    if (strcmp(path, "-") != 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            SL_ERR(err, -SL_EIO, "%s: cannot open: %s", path, strerror(e));
            sl__error_path(err, path);
            return -SL_EIO;
        }
        struct stat sb;
        int rc = 1;
        /* under 4 bytes: the streaming loop, which tells a cut gzip header */
        bool regular = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size >= 4;
        if (regular && (uint64_t)sb.st_size <= SMALL_FILE) {
            rc = validate_small(v, path, fd, (size_t)sb.st_size, rows, rejects, st, err);
            try_map = false; /* rc 1: compressed, streamed */
        }
        close(fd);
        if (rc != 1) {
            return rc;
        }
        memset(st, 0, sizeof(*st));
    }
    const char *map = NULL;
    size_t map_len = 0, bom = 0;
    int mrc = try_map ? sl_input_map(path, &map, &map_len, &bom, err) : SL_OK;
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
    /* a plain file's bytes fit a buffer of its size; decoded input grows one */
    bool plain = sl_input_codec(in) == SL_CODEC_NONE && L.total > 0;
    size_t cap = plain && L.total < BLOCK ? (size_t)L.total + 1 : plain ? BLOCK : STREAM_START;
    size_t len = 0;
    size_t limit = v->o.max_row_size + 2;
    char *buf = NULL;
    if (v->block_buf != NULL && v->block_buf_cap >= cap) {
        buf = v->block_buf; /* the last file's, kept */
        cap = v->block_buf_cap;
    } else {
        sl__free(v->block_buf);
        buf = sl__malloc(cap);
    }
    v->block_buf = NULL;
    v->block_buf_cap = 0;
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
        bool filled = n > 0 && n == cap - len;
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
        rc = sl__loop_block(&L, buf + pos, len - pos, eof, &used);
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
                if ((rc = sl__loop_oversized(&L)) != SL_OK) {
                    goto out;
                }
                L.off += len;
                len = 0;
                discarding = true;
            }
        } else if (filled && cap < BLOCK && !plain) {
            /* more decoded input than the buffer held: larger blocks (a few
             * doublings per file at most) */
            char *nb = sl__realloc(buf, cap * 2);
            if (nb == NULL) {
                rc = SL_ERR(err, -SL_ENOMEM, "out of memory reading %s", path);
                goto out;
            }
            buf = nb;
            cap *= 2;
        }
    }
    st->raw_bytes = sl_input_raw_bytes(in);
    if (v->o.fingerprint) {
        sl_input_fingerprint(in, st->fingerprint);
    }
out:
    if (buf != NULL && cap <= KEEP_BLOCK) {
        v->block_buf = buf; /* for the next file */
        v->block_buf_cap = cap;
    } else {
        sl__free(buf);
    }
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
        if (rows != NULL && rows->row(rows->ud, v->row, v->plan->root.n_kids, &err) != SL_OK) {
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
