/* resend.c - retry and replay (resend.h). gateway stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "gateway/config.h"
#include "gateway/layout.h"
#include "gateway/resend.h"
#include "ledger/ledger.h"
#include "parse/input.h"
#include "schema/schema.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A copy of a ledger row's strings, kept past the callback. */
struct row {
    int64_t id;
    char *raw_name, *table, *path, *orig, *fp;
    int64_t rows_rejected, done_us;
    enum sl_fstate state;
};

struct rows {
    struct row *v;
    size_t n;
    int rc;
};

static void rows_free(struct rows *r)
{
    for (size_t i = 0; i < r->n; i++) {
        sl__free(r->v[i].raw_name);
        sl__free(r->v[i].table);
        sl__free(r->v[i].path);
        sl__free(r->v[i].orig);
        sl__free(r->v[i].fp);
    }
    sl__free(r->v);
}

static int collect(void *ud, const struct sl_lfile *f)
{
    struct rows *r = ud;
    struct row *g = sl__realloc(r->v, (r->n + 1) * sizeof(*g));
    if (g == NULL) {
        return -SL_ENOMEM;
    }
    r->v = g;
    struct row *x = &g[r->n];
    memset(x, 0, sizeof(*x));
    x->id = f->id;
    x->state = f->state;
    x->rows_rejected = f->rows_rejected;
    x->done_us = f->done_us;
    x->raw_name = sl__strdup(f->raw_name);
    x->table = sl__strdup(f->table);
    x->path = sl__strdup(f->path);
    x->orig = sl__strdup(f->orig_path);
    x->fp = sl__strdup(f->fingerprint);
    r->n++;
    return x->raw_name && x->table && x->path && x->orig && x->fp ? SL_OK
                                                                  : -SL_ENOMEM;
}

static int open_ledger(const char *root, struct sl_ledger **out,
                       struct sl_error *err)
{
    char p[SL_GW_PATH];
    if (!sl_gw_pathf(p, sizeof(p), "%s/.sluice/ledger.db", root)) {
        return SL_ERR(err, -SL_EUSAGE, "path too long");
    }
    return sl_ledger_open(p, SL_LEDGER_WRITE, out, err);
}

static int gateway_root(const char *dir, char *out, size_t size,
                        struct sl_error *err)
{
    struct sl_gw_config *c = NULL;
    int rc = sl_gw_config_load(dir, NULL, &c, err);
    if (rc == SL_OK) {
        snprintf(out, size, "%s", c->dir);
    }
    sl_gw_config_destroy(c);
    return rc;
}

/* A free name under raw/ for a file first called raw_name: the same name,
 * or <folder>/<prefix>-<id>-<base>. */
static void free_raw_name(const char *root, const char *raw_name, int64_t id,
                          const char *prefix, char *out, size_t size)
{
    char rel[SL_GW_PATH];
    if (prefix == NULL && sl_gw_pathf(rel, sizeof(rel), "raw/%s", raw_name) &&
        !sl_gw_exists(root, rel)) {
        snprintf(out, size, "%s", rel);
        return;
    }
    const char *slash = strrchr(raw_name, '/');
    const char *base = slash != NULL ? slash + 1 : raw_name;
    int dl = slash != NULL ? (int)(slash - raw_name) : 0;
    (void)sl_gw_pathf(out, size, "raw/%.*s%s%s-%lld-%s", dl, raw_name,
                      dl ? "/" : "", prefix ? prefix : "retry", (long long)id,
                      base);
}

/* The ledger says where the file goes (state, path, prev), then it goes. */
static int resend_one(struct sl_ledger *l, const char *root,
                      const struct row *r, enum sl_fstate state, const char *to,
                      bool keep, const char *what, struct sl_error *err)
{
    struct sl_lfile f = {.id = r->id,
                         .raw_name = r->raw_name,
                         .table = r->table,
                         .state = state,
                         .path = to,
                         .prev_path = r->path,
                         .fingerprint = r->fp,
                         .done_us = sl_gw_now_us()};
    int rc = SL_OK;
    if (!keep) {
        rc = sl_ledger_begin(l, err);
        rc = rc ? rc : sl_ledger_put_file(l, &f, NULL, err);
        rc = rc ? rc : sl_ledger_event(l, r->id, NULL, what, to, err);
        rc = rc ? rc : sl_ledger_commit(l, err);
        if (rc != SL_OK) {
            return rc;
        }
        return sl_gw_move(root, r->path, to, err);
    }
    /* a copy (replay): hidden while written, then renamed in */
    char src[SL_GW_PATH], tmp_rel[SL_GW_PATH], tmp[SL_GW_PATH], dst[SL_GW_PATH];
    sl_gw_abs(root,
              r->orig[0] && sl_gw_exists(root, r->orig) ? r->orig : r->path,
              src, sizeof(src));
    sl_gw_tmp_path(to, tmp_rel, sizeof(tmp_rel));
    sl_gw_abs(root, tmp_rel, tmp, sizeof(tmp));
    sl_gw_abs(root, to, dst, sizeof(dst));
    rc = sl_gw_mkdirs(root, to, err);
    if (rc == SL_OK && link(src, tmp) != 0) {
        /* another file system or no hard links: copy */
        int in = open(src, O_RDONLY | O_CLOEXEC);
        int outfd =
            in >= 0 ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)
                    : -1;
        char buf[65536];
        ssize_t n = 0;
        while (outfd >= 0 && (n = read(in, buf, sizeof(buf))) > 0) {
            if (write(outfd, buf, (size_t)n) != n) {
                n = -1;
                break;
            }
        }
        if (in < 0 || outfd < 0 || n < 0) {
            rc = SL_ERR(err, -SL_EIO, "cannot copy %s: %s", src,
                        strerror(errno));
        }
        if (in >= 0) {
            close(in);
        }
        if (outfd >= 0) {
            close(outfd);
        }
    }
    if (rc == SL_OK && rename(tmp, dst) != 0) {
        rc = SL_ERR(err, -SL_EIO, "cannot move %s into raw/: %s", tmp,
                    strerror(errno));
    }
    if (rc != SL_OK) {
        unlink(tmp);
    }
    return rc;
}

static int found_row(void *ud, int n, const char *const *cols)
{
    (void)n;
    (void)cols;
    *(bool *)ud = true;
    return 0;
}

int sl_gw_table_known(const char *root, struct sl_ledger *l, const char *table,
                      bool *out_known, struct sl_error *err)
{
    *out_known = false;
    char schemas[SL_GW_PATH];
    struct sl_registry *reg = NULL;
    struct sl_buf problems; /* a bad definition elsewhere is no concern here */
    sl__buf_init(&problems);
    struct sl_error e = {0};
    if (sl_gw_pathf(schemas, sizeof(schemas), "%s/schemas", root) &&
        sl_registry_load(schemas, &problems, &reg, &e) == SL_OK) {
        *out_known = sl_registry_find(reg, table) != NULL;
    }
    sl_registry_destroy(reg);
    sl__buf_release(&problems);
    if (e.code == -SL_ENOMEM) {
        *err = e;
        return e.code;
    }
    if (*out_known) {
        return SL_OK;
    }
    /* "t" is any dataset's t, as the commands match it */
    return sl_ledger_rows1(
        l,
        "SELECT 1 FROM (SELECT table_name FROM files UNION "
        "SELECT table_name FROM batches) WHERE table_name = ?1 OR "
        "(instr(?1, '.') = 0 AND substr(table_name, -length(?1) - 1) = "
        "'.' || ?1) LIMIT 1",
        table, found_row, out_known, err);
}

static bool named(const struct row *r, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *s = names[i];
        const char *f = strstr(s, "failed/");
        if (strcmp(s, r->raw_name) == 0 ||
            (f != NULL && strcmp(f, r->path) == 0) || strcmp(s, r->path) == 0 ||
            atoll(s) == r->id) {
            return true;
        }
    }
    return false;
}

/* Each name is one of the failed files rows holds: or -SL_ENOTFOUND naming
 * the first that is not, before anything is sent. */
static int check_named(const struct rows *r, const char *const *names, size_t n,
                       struct sl_error *err)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < r->n && !named(&r->v[k], &names[i], 1)) {
            k++;
        }
        if (k == r->n) {
            return SL_ERR(err, -SL_ENOTFOUND,
                          "%s: no such file in failed/ (name a path under "
                          "failed/, the name it came as under raw/, or its "
                          "ledger id)",
                          names[i]);
        }
    }
    return SL_OK;
}

int sl_gw_retry_failed(const char *dir, bool all, const char *const *names,
                       size_t n, FILE *out, size_t *out_n, struct sl_error *err)
{
    *out_n = 0;
    char root[SL_GW_PATH];
    struct sl_ledger *l = NULL;
    struct rows r = {0};
    int rc = gateway_root(dir, root, sizeof(root), err);
    rc = rc ? rc : open_ledger(root, &l, err);
    rc = rc ? rc : sl_ledger_each_file(l, "state = 5", collect, &r, err);
    rc = rc || all ? rc : check_named(&r, names, n, err);
    for (size_t i = 0; rc == SL_OK && i < r.n; i++) {
        struct row *x = &r.v[i];
        if (!all && !named(x, names, n)) {
            continue;
        }
        if (!sl_gw_exists(root, x->path)) {
            fprintf(out, "%s: not in %s any more, skipped\n", x->raw_name,
                    x->path);
            continue;
        }
        char to[SL_GW_PATH], side[SL_GW_PATH];
        free_raw_name(root, x->raw_name, x->id, NULL, to, sizeof(to));
        rc = resend_one(l, root, x, SL_F_RETRIED, to, false, "retried", err);
        if (rc == SL_OK) {
            static const char *const sides[] = {".error.json",
                                                ".rejects.ndjson"};
            for (size_t k = 0; k < SL_ARRAY_LEN(sides); k++) {
                if (sl_gw_pathf(side, sizeof(side), "%s/%s%s", root, x->path,
                                sides[k])) {
                    unlink(side);
                }
            }
            fprintf(out, "%s -> %s\n", x->path, to);
            (*out_n)++;
        }
    }
    rows_free(&r);
    sl_ledger_close(l);
    return rc;
}

/* ---- quarantine ------------------------------------------------------------
 */

struct lineset {
    uint64_t *v;
    size_t n, cap;
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The line numbers of a rejects file's records. */
static int reject_lines(const char *path, struct lineset *ls,
                        struct sl_error *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return SL_ERR(err, -SL_EIO, "%s: %s", path, strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0;
    int rc = SL_OK;
    while (rc == SL_OK && getline(&line, &cap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        json_t *ln = o != NULL ? json_object_get(o, "line") : NULL;
        if (json_is_integer(ln)) {
            if (ls->n == ls->cap) {
                size_t nc = ls->cap ? ls->cap * 2 : 64;
                uint64_t *g = sl__realloc(ls->v, nc * sizeof(*g));
                if (g == NULL) {
                    rc = SL_ERR(err, -SL_ENOMEM, "out of memory");
                } else {
                    ls->v = g;
                    ls->cap = nc;
                }
            }
            if (rc == SL_OK) {
                ls->v[ls->n++] = (uint64_t)json_integer_value(ln);
            }
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    if (ls->n > 1) { /* NULL when none: not for qsort */
        qsort(ls->v, ls->n, sizeof(*ls->v), cmp_u64);
    }
    return rc;
}

/* Copy the wanted lines (and the first `lead` lines) of the decoded input
 * src into dst. */
static int copy_lines(const char *src, const char *dst,
                      const struct lineset *ls, uint64_t lead, size_t *out_n,
                      struct sl_error *err)
{
    struct sl_input *in = NULL;
    int rc = sl_input_open(src, false, &in, err);
    FILE *o = rc == SL_OK ? fopen(dst, "w") : NULL;
    if (rc == SL_OK && o == NULL) {
        rc = SL_ERR(err, -SL_EIO, "%s: %s", dst, strerror(errno));
    }
    char buf[65536];
    uint64_t line = 1;
    size_t k = 0;
    bool at_start = true, keep = false;
    *out_n = 0;
    while (rc == SL_OK) {
        size_t n = 0;
        rc = sl_input_read(in, buf, sizeof(buf), &n, err);
        if (rc != SL_OK || n == 0) {
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (at_start) {
                while (k < ls->n && ls->v[k] < line) {
                    k++;
                }
                keep = line <= lead || (k < ls->n && ls->v[k] == line);
                *out_n += keep && line > lead;
                at_start = false;
            }
            if (keep) {
                fputc(buf[i], o);
            }
            if (buf[i] == '\n') {
                line++;
                at_start = true;
            }
        }
    }
    if (o != NULL && (fclose(o) != 0) && rc == SL_OK) {
        rc = SL_ERR(err, -SL_EIO, "%s: %s", dst, strerror(errno));
    }
    sl_input_close(in);
    return rc;
}

static int quarantine_one(struct sl_ledger *l, const char *root,
                          const struct row *x, const struct sl_gw_load *load,
                          FILE *out, size_t *out_n, struct sl_error *err)
{
    char rj[SL_GW_PATH], src[SL_GW_PATH], to[SL_GW_PATH], tmp_rel[SL_GW_PATH];
    char tmp[SL_GW_PATH], dst[SL_GW_PATH], done[SL_GW_PATH];
    if (!sl_gw_pathf(rj, sizeof(rj), "%s/%s.rejects.ndjson", root, x->orig) ||
        !sl_gw_exists(root, x->orig)) {
        return SL_OK; /* sent again before (or removed) */
    }
    if (sl_gw_format_for(load, x->raw_name) == SL_FMT_CSV &&
        load->v.csv.allow_quoted_newlines) {
        fprintf(out,
                "%s: CSV records may span lines here: send %s again "
                "yourself (copy it into raw/)\n",
                x->raw_name, x->orig);
        return SL_OK;
    }
    struct lineset ls = {0};
    int rc = reject_lines(rj, &ls, err);
    sl_gw_abs(root, x->orig, src, sizeof(src));
    free_raw_name(root, x->raw_name, x->id, "quarantine", to, sizeof(to));
    sl_gw_tmp_path(to, tmp_rel, sizeof(tmp_rel));
    sl_gw_abs(root, tmp_rel, tmp, sizeof(tmp));
    sl_gw_abs(root, to, dst, sizeof(dst));
    uint64_t lead = sl_gw_format_for(load, x->raw_name) == SL_FMT_CSV
                        ? load->v.skip_leading_rows +
                              (load->v.header && load->v.skip_leading_rows == 0)
                        : 0;
    size_t n = 0;
    rc = rc ? rc : sl_gw_mkdirs(root, to, err);
    rc = rc ? rc : copy_lines(src, tmp, &ls, lead, &n, err);
    sl__free(ls.v);
    /* records that were never loaded: their file must load even where its
     * bytes are those of a file loaded before (every record of which was
     * rejected, so the file was the records) */
    rc = rc ? rc : sl_ledger_request_force(l, to + 4, err); /* after raw/ */
    /* the pair leaves quarantine first (so it is never sent twice), then the
     * records go in */
    const char *slash = strrchr(x->orig, '/');
    if (rc == SL_OK &&
        sl_gw_pathf(done, sizeof(done), "%.*s/retried%s",
                    (int)(slash - x->orig), x->orig, slash) &&
        (rc = sl_gw_move(root, x->orig, done, err)) == SL_OK) {
        char a[SL_GW_PATH], b[SL_GW_PATH];
        if (sl_gw_pathf(a, sizeof(a), "%s.rejects.ndjson", x->orig) &&
            sl_gw_pathf(b, sizeof(b), "%s.rejects.ndjson", done)) {
            rc = sl_gw_move(root, a, b, err);
        }
        rc = rc ? rc
                : sl_ledger_event(l, x->id, NULL, "quarantine sent again", to,
                                  err);
    }
    if (rc == SL_OK && rename(tmp, dst) != 0) {
        rc = SL_ERR(err, -SL_EIO, "%s: %s", dst, strerror(errno));
    }
    if (rc != SL_OK) {
        unlink(tmp);
        return rc;
    }
    fprintf(out, "%s: %zu quarantined records -> %s\n", x->raw_name, n, to);
    (*out_n)++;
    return SL_OK;
}

int sl_gw_retry_quarantine(const char *dir, const char *table, FILE *out,
                           size_t *out_n, struct sl_error *err)
{
    *out_n = 0;
    struct sl_gw_config *cfg = NULL;
    struct sl_ledger *l = NULL;
    struct rows r = {0};
    int rc = sl_gw_config_load(dir, NULL, &cfg, err);
    rc = rc ? rc : open_ledger(cfg->dir, &l, err);
    bool known = false;
    rc = rc ? rc : sl_gw_table_known(cfg->dir, l, table, &known, err);
    if (rc == SL_OK && !known) {
        rc = SL_ERR(err, -SL_ENOTFOUND,
                    "no table %s in the registry (schemas/) or the ledger",
                    table);
    }
    rc = rc ? rc
            : sl_ledger_each_file(l,
                                  "state IN (3, 4) AND orig_path IS NOT NULL "
                                  "AND orig_path <> ''",
                                  collect, &r, err);
    size_t tl = table != NULL ? strlen(table) : 0;
    for (size_t i = 0; rc == SL_OK && i < r.n; i++) {
        const struct row *x = &r.v[i];
        const char *dot = strchr(x->table, '.');
        bool match = strcmp(x->table, table) == 0 ||
                     (dot != NULL && strchr(table, '.') == NULL &&
                      strlen(dot + 1) == tl && strcmp(dot + 1, table) == 0);
        if (match) {
            rc = quarantine_one(l, cfg->dir, x,
                                sl_gw_config_load_for(cfg, x->table), out,
                                out_n, err);
        }
    }
    rows_free(&r);
    sl_ledger_close(l);
    sl_gw_config_destroy(cfg);
    return rc;
}

/* ---- replay
 * ------------------------------------------------------------------- */

int sl_gw_replay(const char *dir, int64_t since_us, const char *table,
                 bool force, FILE *out, size_t *out_n, struct sl_error *err)
{
    *out_n = 0;
    char root[SL_GW_PATH];
    struct sl_ledger *l = NULL;
    struct rows r = {0};
    char where[96];
    /* loaded files only: a duplicate is a copy of one of them */
    snprintf(where, sizeof(where), "state = 3 AND done_us >= %lld",
             (long long)since_us);
    int rc = gateway_root(dir, root, sizeof(root), err);
    rc = rc ? rc : open_ledger(root, &l, err);
    rc = rc ? rc : sl_ledger_each_file(l, where, collect, &r, err);
    for (size_t i = 0; rc == SL_OK && i < r.n; i++) {
        const struct row *x = &r.v[i];
        const char *dot = strchr(x->table, '.');
        if (table != NULL && strcmp(x->table, table) != 0 &&
            (dot == NULL || strcmp(dot + 1, table) != 0)) {
            continue;
        }
        if (!sl_gw_exists(root, x->path)) {
            fprintf(out, "%s: %s is gone, skipped\n", x->raw_name, x->path);
            continue;
        }
        char to[SL_GW_PATH];
        free_raw_name(root, x->raw_name, x->id, "replay", to, sizeof(to));
        if (force) {
            rc = sl_ledger_request_force(l, to + 4, err); /* after "raw/" */
        }
        rc = rc ? rc : resend_one(l, root, x, x->state, to, true, NULL, err);
        if (rc == SL_OK) {
            fprintf(out, "%s -> %s%s\n", x->path, to,
                    force ? " (forced: loaded again)" : "");
            (*out_n)++;
        }
    }
    rows_free(&r);
    sl_ledger_close(l);
    return rc;
}

int sl_gw_parse_time(const char *s, int64_t now_us, int64_t *out_us)
{
    char *end = NULL;
    if (s[0] == '-') {
        double v = strtod(s + 1, &end);
        double mul = *end == 'd'   ? 86400
                     : *end == 'h' ? 3600
                     : *end == 'm' ? 60
                     : *end == 's' ? 1
                                   : -1;
        if (end == s + 1 || mul < 0 || end[1] != '\0' || v < 0) {
            return -SL_EUSAGE;
        }
        *out_us = now_us - (int64_t)(v * mul * 1e6);
        return SL_OK;
    }
    long long secs = strtoll(s, &end, 10);
    if (*end == '\0' && end != s) {
        *out_us = (int64_t)secs * 1000000;
        return SL_OK;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    static const char *const fmts[] = {"%Y-%m-%dT%H:%M:%SZ",
                                       "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                                       "%Y-%m-%d %H:%M", "%Y-%m-%d"};
    for (size_t i = 0; i < SL_ARRAY_LEN(fmts); i++) {
        memset(&tm, 0, sizeof(tm));
        const char *e = strptime(s, fmts[i], &tm);
        if (e != NULL && *e == '\0') {
            *out_us = (int64_t)timegm(&tm) * 1000000;
            return SL_OK;
        }
    }
    return -SL_EUSAGE;
}
