/* onepass.c - a large file loaded in one pass, on the worker that loads its
 * batch (docs/ARCHITECTURE.md section 0): its bad records written beside it
 * in cloud_ready/ while the load reads it (to quarantine/ once the batch is
 * archived: batcher.c), then its
 * facts settled before the commit (unchanged, within max_bad_records, no
 * other file's content), or the file sent back to be staged in full.
 * pipeline stage. */
#include "core/common.h"

#include "core/crash.h"
#include "pipeline/load.h"
#include "pipeline/svc_int.h"
#include "validate/rowjson.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void op_begin(struct opw *w, struct svc *s, struct job *j, size_t i,
              const struct sl_vopts *o)
{
    const struct gfile *f = j->b->files[i];
    memset(w, 0, sizeof(*w));
    w->s = s;
    w->j = j;
    w->i = i;
    w->max_bad = o->max_bad;
    sl__buf_init(&w->b);
    /* beside the file in its batch's folder (kept by recovery's sweep of
       temporary names: a batch a crash left committed needs them) */
    (void)sl_gw_pathf(w->tmp_rel, sizeof(w->tmp_rel), "%s.rejects.ndjson",
                      f->path);
}

static int write_fail(struct opw *w, struct sl_error *err)
{
    return SL_ERR(err, w->err == ENOSPC ? -SL_ENOSPC : -SL_EIO,
                  "%s: cannot write the rejects: %s", w->tmp_rel,
                  strerror(w->err));
}

static void open_rejects(struct opw *w)
{
    char p[SL_GW_PATH];
    struct sl_error e = {0};
    sl_gw_abs(w->s->cfg->dir, w->tmp_rel, p, sizeof(p));
    if (sl_gw_mkdirs(w->s->cfg->dir, w->tmp_rel, &e) != SL_OK) {
        w->err = EIO;
    } else if ((w->fp = fopen(p, "we")) == NULL) {
        w->err = errno;
    }
}

int op_reject(void *ud, const struct sl_reject *r, struct sl_error *err)
{
    struct opw *w = ud;
    const struct gfile *f = w->j->b->files[w->i];
    if (++w->n > w->max_bad) {
        w->j->bad_index = (long)w->i;
        return SL_ERR(err, -SL_ECHANGED,
                      "more bad records than max_bad_records (%llu; line "
                      "%llu: %s)",
                      (unsigned long long)w->max_bad,
                      (unsigned long long)r->line_no, r->reason);
    }
    if (w->fp == NULL && w->err == 0) {
        open_rejects(w);
    }
    sl__buf_reset(&w->b);
    int rc = w->err != 0 ? write_fail(w, err)
                         : sl_reject_json(&w->b, r, f->raw_name);
    if (rc == SL_OK && sl__fault_point("stage-write")) {
        w->err = ENOSPC; /* tests: a full disk, as staging's writes */
        rc = write_fail(w, err);
    } else if (rc == SL_OK &&
               fwrite(w->b.data, 1, w->b.len, w->fp) != w->b.len) {
        w->err = errno != 0 ? errno : EIO;
        rc = write_fail(w, err);
    }
    return rc;
}

/* The rejects file complete on disk (fsync as the gateway's set-up asks). */
static int close_rejects(struct opw *w, struct sl_error *err)
{
    if (w->fp != NULL) {
        if (fflush(w->fp) != 0 ||
            (w->s->cfg->fsync && fsync(fileno(w->fp)) != 0)) {
            w->err = errno;
        }
        if (fclose(w->fp) != 0 && w->err == 0) {
            w->err = errno;
        }
        w->fp = NULL;
    }
    return w->err != 0 ? write_fail(w, err) : SL_OK;
}

void op_discard(struct opw *w)
{
    if (w->s == NULL) {
        return;
    }
    if (w->fp != NULL) {
        fclose(w->fp);
        w->fp = NULL;
    }
    char p[SL_GW_PATH];
    sl_gw_abs(w->s->cfg->dir, w->tmp_rel, p, sizeof(p));
    (void)unlink(p);
    sl__buf_release(&w->b);
}

void op_end(struct opw *w)
{
    if (w->fp != NULL) {
        fclose(w->fp);
        w->fp = NULL;
    }
    sl__buf_release(&w->b);
}

/* Tests (SLUICE_FAIL_AT=load-read): one more row, "{}", appended to the
 * file a one-pass load has just read, as a producer writing in place would. */
static void append_row(const char *path)
{
    FILE *fp = fopen(path, "ae");
    if (fp != NULL) {
        fputs("{}\n", fp);
        fclose(fp);
    }
}

/* Still the file claimed, and rows loaded (a file whose every row was bad
 * is staged in full, which says why); else -SL_ECHANGED. */
static int check_read(struct opw *w, const struct gfile *f,
                      const struct sl_file_stats *st, struct sl_error *err)
{
    char path[SL_GW_PATH];
    struct stat now;
    sl_gw_abs(w->s->cfg->dir, f->path, path, sizeof(path));
    if (sl__fault_point("load-read")) {
        append_row(path);
    }
    if (stat(path, &now) != 0 || (int64_t)now.st_dev != f->dev ||
        (int64_t)now.st_ino != f->ino || now.st_size != f->size ||
        (int64_t)now.st_mtim.tv_sec * 1000000000 + now.st_mtim.tv_nsec !=
            f->mtime_ns) {
        return SL_ERR(err, -SL_ECHANGED, "%s changed after it was claimed",
                      f->raw_name);
    }
    if (st->too_many_bad || (st->valid == 0 && st->rejected > 0)) {
        return SL_ERR(err, -SL_ECHANGED, "%llu of its %llu records are bad",
                      (unsigned long long)st->rejected,
                      (unsigned long long)st->rows);
    }
    return SL_OK;
}

int op_settle(struct opw *w, const struct sl_file_stats *st,
              struct sl_batch_file *bf, struct sl_error *err)
{
    const struct gfile *f = w->j->b->files[w->i];
    w->j->bad_index = (long)w->i;
    int rc = check_read(w, f, st, err);
    if (rc != SL_OK) {
        return rc;
    }
    w->j->bad_index = -1; /* what fails from here is retried as it is */
    if ((rc = close_rejects(w, err)) != SL_OK) {
        return rc;
    }
    struct sl_ledger *l = svc_worker_ledger(w->s->cfg->dir);
    bool taken = false;
    struct sl_error e = {0};
    if (l == NULL || sl_ledger_fp_taken(l, f->table, st->fingerprint, f->id,
                                        &taken, &e) != SL_OK) {
        return SL_ERR(err, -SL_EBUSY, "%s: cannot read the ledger: %s",
                      f->raw_name, l == NULL ? "not opened" : e.msg);
    }
    if (taken) {
        w->j->bad_index = (long)w->i;
        return SL_ERR(err, -SL_ECHANGED,
                      "its content is another file's of the table");
    }
    memcpy(w->j->fps[w->i], st->fingerprint, sizeof(w->j->fps[w->i]));
    w->j->rejected[w->i] = (int64_t)st->rejected;
    bf->fingerprint = w->j->fps[w->i];
    bf->rows_rejected = st->rejected;
    return SL_OK;
}

/* Lines of a rejects file, 0 when it is missing. */
static int64_t count_lines(const char *path)
{
    FILE *fp = fopen(path, "re");
    int64_t n = 0;
    if (fp != NULL) {
        char buf[1 << 16];
        size_t k;
        while ((k = fread(buf, 1, sizeof(buf), fp)) > 0) {
            for (size_t i = 0; i < k; i++) {
                n += buf[i] == '\n';
            }
        }
        fclose(fp);
    }
    return n;
}

int op_recorded(struct opw *w, struct sl_batch_file *bf, uint64_t rows,
                struct sl_error *err)
{
    const struct gfile *f = w->j->b->files[w->i];
    char path[SL_GW_PATH];
    sl_gw_abs(w->s->cfg->dir, f->path, path, sizeof(path));
    int rc = sl_file_sha256(path, w->j->fps[w->i], err);
    bf->fingerprint = w->j->fps[w->i];
    bf->outcome = SL_FILE_LOADED; /* (a copy is rolled back, not recorded) */
    bf->rows_loaded = rows;
    sl_gw_abs(w->s->cfg->dir, w->tmp_rel, path, sizeof(path));
    w->j->rejected[w->i] = count_lines(path);
    return rc;
}
