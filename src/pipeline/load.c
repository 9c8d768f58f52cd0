/* load.c - exactly-once load of one file. pipeline stage. */
#include "core/common.h"
#include "pipeline/load.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

struct sink_ctx {
    const struct sl_wh_ops *ops;
    struct sl_load *ld;
};

static int sink_row(void *ud, const struct sl_val *cols, size_t n, struct sl_error *err)
{
    struct sink_ctx *s = ud;
    return s->ops->load_row(s->ld, cols, n, err);
}

static int64_t now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* Validate path's rows into the open load: on n_threads threads of the warehouse
 * when the file can be split and the driver can pull rows, else on this one. */
static int feed(const struct sl_wh_ops *ops, struct sl_load *ld, const struct sl_table *t,
                const struct sl_vopts *o, const char *path, unsigned n_threads,
                const struct sl_reject_sink *rejects, struct sl_file_stats *st,
                struct sl_error *err)
{
    struct sl_psource *src = NULL;
    int rc = SL_OK;
    if (n_threads > 1 && ops->load_parallel != NULL && strcmp(path, "-") != 0) {
        rc = sl_psource_open(t, o, path, &src, err);
    }
    if (src != NULL) {
        if (rc == SL_OK) {
            rc = ops->load_parallel(ld, src, n_threads, err);
        }
        if (rc == SL_OK) {
            rc = sl_psource_finish(src, rejects, st, err);
        }
        sl_psource_close(src);
        return rc;
    }
    if (rc != SL_OK) {
        return rc;
    }
    struct sl_validator *v = NULL;
    rc = sl_validator_create(t, o, &v, err);
    if (rc == SL_OK) {
        struct sink_ctx sc = {ops, ld};
        struct sl_row_sink rows = {sink_row, &sc};
        rc = sl_validate_file(v, path, &rows, rejects, st, err);
    }
    sl_validator_destroy(v);
    return rc;
}

int sl_load_file(const struct sl_wh_ops *ops, struct sl_wh *wh, const struct sl_table *t,
                 const struct sl_vopts *vo, const char *path, unsigned n_threads, bool force,
                 const struct sl_reject_sink *rejects, struct sl_load_result *out,
                 struct sl_error *err)
{
    memset(out, 0, sizeof(*out));
    char tname[600];
    snprintf(tname, sizeof(tname), "%s.%s", t->dataset, t->name);
    /* One pass: the fingerprint is taken from exactly the bytes validated and
     * appended, so it always names what was loaded, even if the file changes. A
     * file already loaded is found before commit and rolled back. */
    struct sl_vopts o = *vo;
    o.fingerprint = true;
    struct sl_load_info info = {path, 0, NULL, tname, now_us()};
    struct sl_load *ld = NULL;
    int rc = ops->load_begin(wh, t, &info, &ld, err);
    if (rc == SL_OK) {
        rc = feed(ops, ld, t, &o, path, n_threads, rejects, &out->st, err);
    }
    if (rc == SL_OK) {
        memcpy(out->fingerprint, out->st.fingerprint, sizeof(out->fingerprint));
        bool yes = false;
        if (!force) {
            rc = ops->loaded_before(wh, tname, out->fingerprint, &yes, err);
        }
        if (rc == SL_OK && yes) {
            ops->load_abort(ld);
            out->outcome = SL_ALREADY_LOADED;
            return SL_OK;
        }
    }
    if (rc != SL_OK) {
        ops->load_abort(ld);
        return rc;
    }
    if (out->st.too_many_bad) {
        ops->load_abort(ld);
        out->outcome = SL_TOO_MANY_BAD;
        return SL_OK;
    }
    info.size = out->st.raw_bytes;
    info.fingerprint = out->fingerprint;
    rc = ops->load_commit(ld, &info, out->st.valid, out->st.rejected, err);
    if (rc == SL_OK) {
        out->outcome = SL_LOADED;
    }
    return rc;
}
