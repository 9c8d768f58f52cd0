/* load.c - exactly-once load of one file. pipeline stage. */
#include "core/common.h"
#include "pipeline/load.h"
#include "parse/input.h"

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

/* Fingerprint a file before loading it, so one already loaded costs one read and
 * no warehouse work. Returns false for stdin (hashed while streaming instead). */
static int prehash(const char *path, char *out, bool *out_done, struct sl_error *err)
{
    *out_done = false;
    if (strcmp(path, "-") == 0) {
        return SL_OK;
    }
    const char *map = NULL;
    size_t len = 0, bom = 0;
    int rc = sl_input_map(path, &map, &len, &bom, err);
    if (rc != SL_OK) {
        return rc;
    }
    if (map != NULL) {
        sl_sha256_hex(map - bom, len + bom, out);
        sl_input_unmap(map, len, bom);
        *out_done = out[0] != '\0';
        return SL_OK;
    }
    /* compressed or not mappable: read it through (the hash covers raw bytes) */
    struct sl_input *in = NULL;
    rc = sl_input_open(path, true, &in, err);
    if (rc != SL_OK) {
        return rc;
    }
    static __thread char buf[1 << 16];
    size_t n = 0;
    do {
        rc = sl_input_read(in, buf, sizeof(buf), &n, err);
    } while (rc == SL_OK && n > 0);
    if (rc == SL_OK) {
        sl_input_fingerprint(in, out);
        *out_done = out[0] != '\0';
    }
    sl_input_close(in);
    return rc;
}

int sl_load_file(const struct sl_wh_ops *ops, struct sl_wh *wh, const struct sl_table *t,
                 const struct sl_vopts *vo, const char *path, bool force,
                 const struct sl_reject_sink *rejects, struct sl_load_result *out,
                 struct sl_error *err)
{
    memset(out, 0, sizeof(*out));
    char tname[600];
    snprintf(tname, sizeof(tname), "%s.%s", t->dataset, t->name);
    bool have_fp = false;
    int rc = prehash(path, out->fingerprint, &have_fp, err);
    if (rc != SL_OK) {
        return rc;
    }
    bool yes = false;
    if (have_fp && !force) {
        if ((rc = ops->loaded_before(wh, tname, out->fingerprint, &yes, err)) != SL_OK) {
            return rc;
        }
        if (yes) {
            out->outcome = SL_ALREADY_LOADED;
            return SL_OK;
        }
    }
    struct sl_vopts o = *vo;
    o.fingerprint = !have_fp;
    struct sl_validator *v = NULL;
    if ((rc = sl_validator_create(t, &o, &v, err)) != SL_OK) {
        return rc;
    }
    struct sl_load_info info = {path, 0, out->fingerprint, tname, now_us()};
    struct sink_ctx sc = {ops, NULL};
    struct sl_row_sink rows = {sink_row, &sc};
    rc = ops->load_begin(wh, t, &info, &sc.ld, err);
    if (rc == SL_OK) {
        rc = sl_validate_file(v, path, &rows, rejects, &out->st, err);
    }
    sl_validator_destroy(v);
    if (rc == SL_OK && !have_fp) {
        memcpy(out->fingerprint, out->st.fingerprint, sizeof(out->fingerprint));
        if (!force) {
            rc = ops->loaded_before(wh, tname, out->fingerprint, &yes, err);
            if (rc == SL_OK && yes) {
                ops->load_abort(sc.ld);
                out->outcome = SL_ALREADY_LOADED;
                return SL_OK;
            }
        }
    }
    if (rc != SL_OK) {
        ops->load_abort(sc.ld);
        return rc;
    }
    if (out->st.too_many_bad) {
        ops->load_abort(sc.ld);
        out->outcome = SL_TOO_MANY_BAD;
        return SL_OK;
    }
    info.size = out->st.raw_bytes;
    rc = ops->load_commit(sc.ld, &info, out->st.valid, out->st.rejected, err);
    if (rc == SL_OK) {
        out->outcome = SL_LOADED;
    }
    return rc;
}
