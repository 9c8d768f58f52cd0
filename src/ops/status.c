/* status.c - a gateway's status and health (status.h). ops stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "gateway/config.h"
#include "gateway/layout.h"
#include "ledger/ledger.h"
#include "ops/status.h"
#include "warehouse/driver.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Is a service holding the gateway's lock? (a lock we can take is free) */
static void service_state(struct sl_status *st)
{
    char p[SL_GW_PATH];
    if (!sl_gw_pathf(p, sizeof(p), "%s/.sluice/lock", st->dir)) {
        return;
    }
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return;
    }
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        flock(fd, LOCK_UN);
    } else {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        st->running = true;
        st->pid = atol(pid);
    }
    close(fd);
}

static void count_raw(struct sl_status *st, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (d == NULL || depth > 16) {
        if (d != NULL) {
            closedir(d);
        }
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        char p[SL_GW_PATH];
        struct stat sb;
        if (!sl_gw_pathf(p, sizeof(p), "%s/%s", dir, de->d_name) ||
            lstat(p, &sb) != 0) {
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            count_raw(st, p, depth + 1);
        } else if (S_ISREG(sb.st_mode) && !sl_gw_name_hidden(de->d_name)) {
            int64_t m = (int64_t)sb.st_mtim.tv_sec * 1000000 +
                        sb.st_mtim.tv_nsec / 1000;
            st->raw++;
            if (st->oldest_raw_us == 0 || m < st->oldest_raw_us) {
                st->oldest_raw_us = m;
            }
        }
    }
    closedir(d);
}

static struct sl_status_table *table_of(struct sl_status *st, const char *name)
{
    for (size_t i = 0; i < st->n_tables; i++) {
        if (strcmp(st->tables[i].table, name) == 0) {
            return &st->tables[i];
        }
    }
    struct sl_status_table *g =
        sl__realloc(st->tables, (st->n_tables + 1) * sizeof(*g));
    if (g == NULL) {
        return NULL;
    }
    st->tables = g;
    struct sl_status_table *t = &g[st->n_tables++];
    memset(t, 0, sizeof(*t));
    snprintf(t->table, sizeof(t->table), "%s", name);
    return t;
}

static int64_t num(const char *s)
{
    return s != NULL ? atoll(s) : 0;
}

/* Rows of "table, state, count, rows, min first_seen, max done, rejected". */
static int per_state(void *ud, int n, const char *const *c)
{
    struct sl_status *st = ud;
    if (n < 7) {
        return 0;
    }
    int state = (int)num(c[1]);
    if (state >= 0 && state < 8) {
        st->by_state[state] += num(c[2]);
    }
    if (c[0] == NULL || c[0][0] == '\0') {
        return 0;
    }
    struct sl_status_table *t = table_of(st, c[0]);
    if (t == NULL) {
        return -SL_ENOMEM;
    }
    if (state <= SL_F_BATCHED) {
        t->pending_files += num(c[2]);
        t->pending_rows += num(c[3]);
        int64_t first = num(c[4]);
        if (first > 0 &&
            (t->oldest_pending_us == 0 || first < t->oldest_pending_us)) {
            t->oldest_pending_us = first;
        }
    } else if (state == SL_F_LOADED && num(c[5]) > t->last_load_us) {
        t->last_load_us = num(c[5]);
    } else if (state == SL_F_FAILED) {
        t->failed += num(c[2]);
    }
    if (state == SL_F_LOADED || state == SL_F_DUPLICATE) {
        t->rejected += num(c[6]);
        st->rejected += num(c[6]);
    }
    return 0;
}

/* Rows of "table, class, count" of failed files. */
static int per_table_class(void *ud, int n, const char *const *c)
{
    struct sl_status *st = ud;
    if (n < 3 || c[0] == NULL || c[0][0] == '\0') {
        return 0;
    }
    struct sl_status_table *t = table_of(st, c[0]);
    if (t == NULL) {
        return -SL_ENOMEM;
    }
    const char *cls = c[1] != NULL ? c[1] : "";
    int64_t k = num(c[2]);
    if (strcmp(cls, "corrupt") == 0) {
        t->failed_corrupt += k;
    } else if (strcmp(cls, "schema") == 0) {
        t->failed_schema += k;
    } else {
        t->failed_other += k;
    }
    return 0;
}

static int per_class(void *ud, int n, const char *const *c)
{
    struct sl_status *st = ud;
    if (n < 2 || c[0] == NULL) {
        return 0;
    }
    int64_t k = num(c[1]);
    if (strcmp(c[0], "corrupt") == 0) {
        st->failed_corrupt += k;
    } else if (strcmp(c[0], "schema") == 0) {
        st->failed_schema += k;
    } else if (strcmp(c[0], "transient") == 0) {
        st->failed_transient += k;
    } else {
        st->failed_fatal += k;
    }
    return 0;
}

static int per_hour(void *ud, int n, const char *const *c)
{
    struct sl_status *st = ud;
    if (n < 3 || c[0] == NULL) {
        return 0;
    }
    struct sl_status_table *t = table_of(st, c[0]);
    if (t == NULL) {
        return -SL_ENOMEM;
    }
    t->loads_hour = num(c[1]);
    t->rows_hour = num(c[2]);
    return 0;
}

static struct sl_status_rule *rule_of(struct sl_status *st, const char *name)
{
    for (size_t i = 0; i < st->n_rules; i++) {
        if (strcmp(st->rules[i].rule, name) == 0) {
            return &st->rules[i];
        }
    }
    struct sl_status_rule *g =
        sl__realloc(st->rules, (st->n_rules + 1) * sizeof(*g));
    if (g == NULL) {
        return NULL;
    }
    st->rules = g;
    struct sl_status_rule *r = &g[st->n_rules++];
    memset(r, 0, sizeof(*r));
    snprintf(r->rule, sizeof(r->rule), "%s", name);
    return r;
}

/* Rows of "rule, state, err_class, count". */
static int per_rule(void *ud, int n, const char *const *c)
{
    struct sl_status *st = ud;
    if (n < 4 || c[0] == NULL || c[0][0] == '\0') {
        return 0;
    }
    struct sl_status_rule *r = rule_of(st, c[0]);
    if (r == NULL) {
        return -SL_ENOMEM;
    }
    int state = (int)num(c[1]);
    int64_t k = num(c[3]);
    const char *cls = c[2] != NULL ? c[2] : "";
    if (state <= SL_F_BATCHED) {
        r->pending += k;
    } else if (state == SL_F_LOADED || state == SL_F_DUPLICATE) {
        r->loaded += k;
    } else if (state == SL_F_FAILED) {
        r->failed += k;
        if (strcmp(cls, "corrupt") == 0) {
            r->failed_corrupt += k;
        } else if (strcmp(cls, "schema") == 0) {
            r->failed_schema += k;
        } else {
            r->failed_other += k;
        }
    }
    return 0;
}

/* Rows of "rule, what, count": batches' after-work. */
static int per_rule_post(void *ud, int n, const char *const *c)
{
    struct sl_status *st = ud;
    if (n < 3 || c[0] == NULL || c[0][0] == '\0' || c[1] == NULL) {
        return 0;
    }
    struct sl_status_rule *r = rule_of(st, c[0]);
    if (r == NULL) {
        return -SL_ENOMEM;
    }
    if (strcmp(c[1], "pending") == 0) {
        r->post_pending += num(c[2]);
    } else {
        r->actions_failed += num(c[2]);
    }
    return 0;
}

/* Per rule (a ledger of version 2; an older one has no rules: nothing). */
static int read_rules(struct sl_ledger *l, struct sl_status *st,
                      struct sl_error *err)
{
    struct sl_error e = {0};
    int rc = sl_ledger_rows(l,
                            "SELECT rule, state, err_class, count(*) FROM "
                            "files WHERE rule <> '' GROUP BY 1, 2, 3",
                            per_rule, st, &e);
    if (rc == -SL_ENOMEM) {
        return SL_ERR(err, rc, "out of memory reading the status");
    }
    if (rc != SL_OK) {
        return SL_OK; /* no rule column yet */
    }
    rc = sl_ledger_rows(l,
                        "SELECT rule, 'pending', count(*) FROM batches WHERE "
                        "post > 0 AND rule <> '' GROUP BY 1 UNION ALL "
                        "SELECT b.rule, 'failed', count(*) FROM events e "
                        "JOIN batches b ON b.id = e.batch WHERE e.what IN "
                        "('action failed', 'actions not run', "
                        "'cleanup failed') AND b.rule <> '' GROUP BY 1",
                        per_rule_post, st, &e);
    return rc == -SL_ENOMEM
               ? SL_ERR(err, rc, "out of memory reading the status")
               : SL_OK;
}

static int read_ledger(struct sl_status *st, struct sl_error *err)
{
    char p[SL_GW_PATH];
    struct sl_ledger *l = NULL;
    if (!sl_gw_pathf(p, sizeof(p), "%s/.sluice/ledger.db", st->dir)) {
        return SL_ERR(err, -SL_EUSAGE, "path too long");
    }
    int rc = sl_ledger_open(p, SL_LEDGER_READ, &l, err);
    if (rc == -SL_ENOTFOUND) {
        sl__error_clear(err);
        return SL_OK; /* never run: nothing claimed yet */
    }
    char q[400];
    rc = rc ? rc
            : sl_ledger_rows(l,
                             "SELECT table_name, state, count(*), "
                             "sum(rows_valid), min(first_seen_us), "
                             "max(done_us), sum(rows_rejected) FROM files "
                             "GROUP BY 1, 2",
                             per_state, st, err);
    rc = rc ? rc
            : sl_ledger_rows(l,
                             "SELECT err_class, count(*) FROM files WHERE "
                             "state = 5 GROUP BY 1",
                             per_class, st, err);
    rc = rc ? rc
            : sl_ledger_rows(l,
                             "SELECT table_name, err_class, count(*) FROM "
                             "files WHERE state = 5 GROUP BY 1, 2",
                             per_table_class, st, err);
    snprintf(q, sizeof(q),
             "SELECT table_name, count(*), sum(rows) FROM batches WHERE "
             "state IN (1, 2) AND committed_us >= %lld GROUP BY 1",
             (long long)(st->now_us - 3600LL * 1000000));
    rc = rc ? rc : sl_ledger_rows(l, q, per_hour, st, err);
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM files WHERE state = 5 AND done_us >= %lld",
             (long long)(st->now_us - st->failure_window_s * 1000000));
    rc = rc ? rc : sl_ledger_scalar(l, q, &st->failed_recent, err);
    rc = rc ? rc : read_rules(l, st, err);
    sl_ledger_close(l);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct sl_status_table *)a)->table,
                  ((const struct sl_status_table *)b)->table);
}

static int by_rule(const void *a, const void *b)
{
    return strcmp(((const struct sl_status_rule *)a)->rule,
                  ((const struct sl_status_rule *)b)->rule);
}

int sl_status_read(const char *dir, struct sl_status *out, struct sl_error *err)
{
    memset(out, 0, sizeof(*out));
    struct sl_gw_config *cfg = NULL;
    int rc = sl_gw_config_load(dir, NULL, &cfg, err);
    if (rc != SL_OK) {
        return rc;
    }
    snprintf(out->dir, sizeof(out->dir), "%s", cfg->dir);
    snprintf(out->warehouse, sizeof(out->warehouse), "%s", cfg->warehouse);
    out->delay_threshold_s = cfg->delay_threshold_s;
    out->failure_window_s = cfg->failure_window_s;
    sl_gw_config_destroy(cfg);
    out->now_us = sl_gw_now_us();
    service_state(out);
    char raw[SL_GW_PATH];
    if (sl_gw_pathf(raw, sizeof(raw), "%s/raw", out->dir)) {
        count_raw(out, raw, 0);
    }
    rc = read_ledger(out, err);
    if (out->tables != NULL) {
        qsort(out->tables, out->n_tables, sizeof(*out->tables), by_name);
    }
    if (out->rules != NULL) {
        qsort(out->rules, out->n_rules, sizeof(*out->rules), by_rule);
    }
    return rc;
}

void sl_status_release(struct sl_status *st)
{
    sl__free(st->tables);
    st->tables = NULL;
    st->n_tables = 0;
    sl__free(st->rules);
    st->rules = NULL;
    st->n_rules = 0;
}

/* The ingestion delay: the age of the oldest file not yet loaded. */
static int64_t delay_us(const struct sl_status *st)
{
    int64_t oldest = st->oldest_raw_us;
    for (size_t i = 0; i < st->n_tables; i++) {
        int64_t o = st->tables[i].oldest_pending_us;
        if (o > 0 && (oldest == 0 || o < oldest)) {
            oldest = o;
        }
    }
    return oldest > 0 && st->now_us > oldest ? st->now_us - oldest : 0;
}

static void when(int64_t us, char *out, size_t size)
{
    if (us <= 0) {
        snprintf(out, size, "never");
        return;
    }
    char t[40];
    sl_gw_time_text(us, t, sizeof(t));
    snprintf(out, size, "%.10s %.8s", t, t + 11); /* "YYYY-MM-DD HH:MM:SS" */
}

static void print_tables(const struct sl_status *st, FILE *out);

void sl_status_print(const struct sl_status *st, FILE *out)
{
    const int64_t *s = st->by_state;
    fprintf(out, "gateway %s\n", st->dir);
    if (st->running) {
        fprintf(out, "service: running (pid %ld)\n", st->pid);
    } else {
        fprintf(out, "service: not running\n");
    }
    fprintf(out,
            "files: raw %lld, claimed %lld, transformed %lld, cloud_ready "
            "%lld, sent %lld (+%lld duplicates), failed %lld, gone %lld\n",
            (long long)st->raw, (long long)s[SL_F_CLAIMED],
            (long long)s[SL_F_STAGED], (long long)s[SL_F_BATCHED],
            (long long)s[SL_F_LOADED], (long long)s[SL_F_DUPLICATE],
            (long long)s[SL_F_FAILED], (long long)s[SL_F_VANISHED]);
    fprintf(out,
            "failed by class: corrupt %lld, schema %lld, transient %lld, "
            "fatal %lld (%lld in the last %llds)\n",
            (long long)st->failed_corrupt, (long long)st->failed_schema,
            (long long)st->failed_transient, (long long)st->failed_fatal,
            (long long)st->failed_recent, (long long)st->failure_window_s);
    fprintf(out, "records in quarantine: %lld\n", (long long)st->rejected);
    fprintf(out, "delay: %.1f s (the oldest file not yet loaded)\n",
            (double)delay_us(st) / 1e6);
    print_tables(st, out);
    if (st->n_rules == 0) {
        return;
    }
    fprintf(out, "%-32s %8s %8s %8s %8s %8s %8s %8s %8s\n", "rule", "pending",
            "loaded", "failed", "corrupt", "schema", "other", "act_fail",
            "act_wait");
    for (size_t i = 0; i < st->n_rules; i++) {
        const struct sl_status_rule *r = &st->rules[i];
        fprintf(out, "%-32s %8lld %8lld %8lld %8lld %8lld %8lld %8lld %8lld\n",
                r->rule, (long long)r->pending, (long long)r->loaded,
                (long long)r->failed, (long long)r->failed_corrupt,
                (long long)r->failed_schema, (long long)r->failed_other,
                (long long)r->actions_failed, (long long)r->post_pending);
    }
}

static void print_tables(const struct sl_status *st, FILE *out)
{
    if (st->n_tables == 0) {
        return;
    }
    fprintf(out, "%-40s %8s %10s %9s %19s %8s %10s %7s\n", "table", "pending",
            "rows", "oldest_s", "last load", "loads/h", "rows/h", "failed");
    for (size_t i = 0; i < st->n_tables; i++) {
        const struct sl_status_table *t = &st->tables[i];
        char last[40];
        when(t->last_load_us, last, sizeof(last));
        double age = t->oldest_pending_us > 0
                         ? (double)(st->now_us - t->oldest_pending_us) / 1e6
                         : 0;
        fprintf(out, "%-40s %8lld %10lld %9.1f %19s %8lld %10lld %7lld\n",
                t->table, (long long)t->pending_files,
                (long long)t->pending_rows, age, last, (long long)t->loads_hour,
                (long long)t->rows_hour, (long long)t->failed);
    }
}

static int ts_field(struct sl_buf *b, const char *key, int64_t us)
{
    if (us <= 0) {
        return sl__buf_printf(b, ",\"%s\":null", key);
    }
    char t[40];
    sl_gw_time_text(us, t, sizeof(t));
    return sl__buf_printf(b, ",\"%s\":\"%s\"", key, t);
}

static int table_json(struct sl_buf *b, const struct sl_status *st,
                      const struct sl_status_table *t)
{
    int rc = sl__buf_append(b, "{\"table\":", 9);
    rc = rc ? rc : sl__buf_json_str(b, t->table, strlen(t->table));
    rc = rc ? rc
            : sl__buf_printf(
                  b,
                  ",\"pending_files\":%lld,\"pending_rows\":%lld,"
                  "\"oldest_pending_age_s\":%.3f,\"loads_last_hour\":%lld,"
                  "\"rows_last_hour\":%lld,\"failed_files\":%lld,"
                  "\"failed_by_class\":{\"corrupt\":%lld,\"schema\":%lld,"
                  "\"other\":%lld},\"records_in_quarantine\":%lld",
                  (long long)t->pending_files, (long long)t->pending_rows,
                  t->oldest_pending_us > 0
                      ? (double)(st->now_us - t->oldest_pending_us) / 1e6
                      : 0.0,
                  (long long)t->loads_hour, (long long)t->rows_hour,
                  (long long)t->failed, (long long)t->failed_corrupt,
                  (long long)t->failed_schema, (long long)t->failed_other,
                  (long long)t->rejected);
    rc = rc ? rc : ts_field(b, "last_load", t->last_load_us);
    return rc ? rc : sl__buf_putc(b, '}');
}

int sl_status_json(const struct sl_status *st, struct sl_buf *b)
{
    const int64_t *s = st->by_state;
    char now[40];
    sl_gw_time_text(st->now_us, now, sizeof(now));
    int rc = sl__buf_printf(b, "{\"version\":%d,\"at\":\"%s\",\"gateway\":",
                            SL_STATUS_VERSION, now);
    rc = rc ? rc : sl__buf_json_str(b, st->dir, strlen(st->dir));
    rc = rc ? rc
            : sl__buf_printf(
                  b,
                  ",\"service\":{\"running\":%s,\"pid\":%ld},\"files\":{"
                  "\"raw\":%lld,\"claimed\":%lld,\"transformed\":%lld,"
                  "\"cloud_ready\":%lld,\"sent\":%lld,\"duplicates\":%lld,"
                  "\"failed\":%lld,\"gone\":%lld},\"failed_by_class\":{"
                  "\"corrupt\":%lld,\"schema\":%lld,\"transient\":%lld,"
                  "\"fatal\":%lld},\"failed_recently\":%lld,"
                  "\"records_in_quarantine\":%lld,\"delay_s\":%.3f,"
                  "\"tables\":[",
                  st->running ? "true" : "false", st->running ? st->pid : 0,
                  (long long)st->raw, (long long)s[SL_F_CLAIMED],
                  (long long)s[SL_F_STAGED], (long long)s[SL_F_BATCHED],
                  (long long)s[SL_F_LOADED], (long long)s[SL_F_DUPLICATE],
                  (long long)s[SL_F_FAILED], (long long)s[SL_F_VANISHED],
                  (long long)st->failed_corrupt, (long long)st->failed_schema,
                  (long long)st->failed_transient, (long long)st->failed_fatal,
                  (long long)st->failed_recent, (long long)st->rejected,
                  (double)delay_us(st) / 1e6);
    for (size_t i = 0; rc == SL_OK && i < st->n_tables; i++) {
        if (i > 0) {
            rc = sl__buf_putc(b, ',');
        }
        rc = rc ? rc : table_json(b, st, &st->tables[i]);
    }
    rc = rc ? rc : sl__buf_append(b, "],\"rules\":[", 11);
    for (size_t i = 0; rc == SL_OK && i < st->n_rules; i++) {
        const struct sl_status_rule *r = &st->rules[i];
        rc = i > 0 ? sl__buf_putc(b, ',') : SL_OK;
        rc = rc ? rc : sl__buf_append(b, "{\"rule\":", 8);
        rc = rc ? rc : sl__buf_json_str(b, r->rule, strlen(r->rule));
        rc = rc ? rc
                : sl__buf_printf(
                      b,
                      ",\"pending_files\":%lld,\"loaded_files\":%lld,"
                      "\"failed_files\":%lld,\"failed_by_class\":{"
                      "\"corrupt\":%lld,\"schema\":%lld,\"other\":%lld},"
                      "\"actions_failed\":%lld,\"actions_pending\":%lld}",
                      (long long)r->pending, (long long)r->loaded,
                      (long long)r->failed, (long long)r->failed_corrupt,
                      (long long)r->failed_schema, (long long)r->failed_other,
                      (long long)r->actions_failed, (long long)r->post_pending);
    }
    return rc ? rc : sl__buf_append(b, "]}\n", 3);
}

/* Can the warehouse be opened (read-only, waiting a little)? A DuckDB file
 * the service holds while it commits counts as reachable. */
static int probe_warehouse(const struct sl_status *st, FILE *out)
{
    const struct sl_wh_ops *ops = sl_wh_driver_for(st->warehouse);
    if (ops == NULL) {
        fprintf(out, "fail: unknown warehouse URI in sluice.json\n");
        return 2;
    }
    struct sl_wh_open_opts o = {.mode = SL_WH_READ, .lock_timeout_ms = 2000};
    struct sl_wh *wh = NULL;
    struct sl_error err = {0};
    int rc = ops->open(st->warehouse, &o, &wh, &err);
    ops->close(wh);
    if (rc == SL_OK) {
        fprintf(out, "ok: warehouse reachable\n");
        return 0;
    }
    if (rc == -SL_EBUSY) {
        /* the service's own commit, or a lock someone else holds (the
         * driver's message names the holder) */
        char mine[32];
        snprintf(mine, sizeof(mine), "pid %ld ", st->pid);
        if (st->running && strstr(err.msg, mine) != NULL) {
            fprintf(out, "ok: warehouse reachable (busy: the service is "
                         "committing)\n");
            return 0;
        }
        fprintf(out, "warn: warehouse busy: %s (loads wait and retry)\n",
                err.msg);
        return 1;
    }
    if (rc == -SL_ENOTFOUND && st->by_state[SL_F_LOADED] == 0) {
        fprintf(out, "warn: no warehouse yet (nothing loaded so far)\n");
        return 1;
    }
    fprintf(out, "fail: warehouse unreachable: %s\n", err.msg);
    return 2;
}

int sl_health_check(const struct sl_status *st, FILE *out)
{
    int worst = probe_warehouse(st, out);
    if (st->running) {
        fprintf(out, "ok: service running (pid %ld)\n", st->pid);
    } else {
        fprintf(out, "fail: service not running\n");
        worst = 2;
    }
    int64_t d = delay_us(st);
    if (d > st->delay_threshold_s * 1000000) {
        fprintf(out,
                "warn: late: the oldest file not yet loaded is %.0f s old "
                "(threshold %lld s)\n",
                (double)d / 1e6, (long long)st->delay_threshold_s);
        worst = worst < 1 ? 1 : worst;
    } else {
        fprintf(out, "ok: no file older than %lld s waiting\n",
                (long long)st->delay_threshold_s);
    }
    if (st->failed_recent > 0) {
        fprintf(out,
                "warn: %lld file%s failed in the last %lld s (see "
                "failed/ and sluice status)\n",
                (long long)st->failed_recent, st->failed_recent == 1 ? "" : "s",
                (long long)st->failure_window_s);
        worst = worst < 1 ? 1 : worst;
    } else {
        fprintf(out, "ok: no new failures\n");
    }
    return worst;
}
