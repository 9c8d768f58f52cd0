/* service.c - `sluice run`: set-up (config, registry, ledger, lock, workers,
 * inotify), the main loop (scan, stage results, retries, batches, waits),
 * signals and SIGHUP reloads. See service.h; the moving parts are in
 * claim.c, batcher.c, recover.c and pool.c. pipeline stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/crash.h"
#include "pipeline/svc_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- small helpers ---------------------------------------------------------
 */

int svc_set(char **slot, const char *v)
{
    char *c = NULL;
    if (v != NULL && (c = sl__strdup(v)) == NULL) {
        return -SL_ENOMEM;
    }
    sl__free(*slot);
    *slot = c;
    return SL_OK;
}

void gfile_free(struct gfile *f)
{
    if (f == NULL) {
        return;
    }
    sl__free(f->raw_name);
    sl__free(f->table);
    sl__free(f->rule);
    sl__free(f->key);
    if (f->load != NULL) {
        sl_gw_load_release(f->load);
        sl__free(f->load);
    }
    sl__free(f->path);
    sl__free(f->prev);
    sl__free(f->orig);
    sl__free(f->orig_prev);
    sl__free(f->err_msg);
    sl__free(f);
}

void svc_log(struct svc *s, enum sl_log_level lv, const struct gfile *f,
             const char *batch, const char *cls, const char *fmt, ...)
{
    if (s->o->log == NULL || lv > s->o->log_level) {
        return;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct sl_log_event ev = {lv,
                              msg,
                              f != NULL ? f->raw_name : NULL,
                              f != NULL ? f->table : NULL,
                              batch,
                              cls != NULL && cls[0] != '\0' ? cls : NULL};
    s->o->log(s->o->log_ud, &ev);
}

int64_t svc_backoff_us(struct svc *s, int attempts)
{
    /* exponential with full jitter in its upper half: base * 2^(n-1), then
     * a random point in [d/2, d] (docs/LEDGER.md, retries) */
    int64_t d = (int64_t)s->cfg->retry_initial_ms * 1000;
    for (int i = 1; i < attempts && d < (int64_t)s->cfg->retry_max_ms * 1000;
         i++) {
        d *= 2;
    }
    if (d > (int64_t)s->cfg->retry_max_ms * 1000) {
        d = (int64_t)s->cfg->retry_max_ms * 1000;
    }
    return d / 2 + (d > 1 ? (int64_t)(random() % (d / 2 + 1)) : 0);
}

int svc_table_index(struct svc *s, const char *name)
{
    const struct sl_table *t = sl_registry_find(s->reg, name);
    for (size_t i = 0; t != NULL && i < s->n_tables; i++) {
        if (s->tables[i].t == t) {
            return (int)i;
        }
    }
    return -1;
}

/* ---- files in flight --------------------------------------------------------
 */

int svc_add_file(struct svc *s, struct gfile *f)
{
    if (s->n_files == s->cap_files) {
        size_t cap = s->cap_files ? 2 * s->cap_files : 256;
        struct gfile **g = sl__realloc(s->files, cap * sizeof(*g));
        if (g == NULL) {
            return -SL_ENOMEM;
        }
        s->files = g;
        s->cap_files = cap;
    }
    f->slot = s->n_files;
    s->files[s->n_files++] = f;
    return SL_OK;
}

void svc_drop_file(struct svc *s, struct gfile *f)
{
    size_t i = f->slot;
    if (i < s->n_files && s->files[i] == f) {
        s->files[i] = s->files[--s->n_files];
        s->files[i]->slot = i;
    }
    svc_forget_raw(s, f);
    route_unring(f);
    gfile_free(f);
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

/* Open addressing with tombstones (a deleted slot holds &tomb). */
static struct gfile tomb;

struct gfile *svc_find_raw(struct svc *s, const char *raw_name)
{
    if (s->raw_cap == 0) {
        return NULL;
    }
    size_t m = s->raw_cap - 1;
    for (size_t i = name_hash(raw_name) & m;; i = (i + 1) & m) {
        struct gfile *f = s->by_raw[i];
        if (f == NULL) {
            return NULL;
        }
        if (f != &tomb && strcmp(f->raw_name, raw_name) == 0) {
            return f;
        }
    }
}

static int raw_grow(struct svc *s)
{
    size_t cap = s->raw_cap ? s->raw_cap * 2 : 1024;
    struct gfile **old = s->by_raw;
    size_t old_cap = s->raw_cap;
    s->by_raw = sl__calloc(cap, sizeof(*s->by_raw));
    if (s->by_raw == NULL) {
        s->by_raw = old;
        return -SL_ENOMEM;
    }
    s->raw_cap = cap;
    s->raw_n = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i] != NULL && old[i] != &tomb) {
            size_t k = name_hash(old[i]->raw_name) & (cap - 1);
            while (s->by_raw[k] != NULL) {
                k = (k + 1) & (cap - 1);
            }
            s->by_raw[k] = old[i];
            s->raw_n++;
        }
    }
    sl__free(old);
    return SL_OK;
}

int svc_remember_raw(struct svc *s, struct gfile *f)
{
    if ((s->raw_n + 1) * 2 > s->raw_cap && raw_grow(s) != SL_OK) {
        return -SL_ENOMEM;
    }
    size_t m = s->raw_cap - 1;
    size_t i = name_hash(f->raw_name) & m;
    while (s->by_raw[i] != NULL && s->by_raw[i] != &tomb) {
        i = (i + 1) & m;
    }
    s->by_raw[i] = f;
    s->raw_n++;
    return SL_OK;
}

void svc_forget_raw(struct svc *s, struct gfile *f)
{
    if (s->raw_cap == 0) {
        return;
    }
    /* another route of the claim still being staged keeps the name */
    struct gfile *keep = NULL;
    for (struct gfile *g = f->sib; g != NULL && g != f; g = g->sib) {
        if (g->state == SL_F_CLAIMED && keep == NULL) {
            keep = g;
        }
    }
    size_t m = s->raw_cap - 1;
    for (size_t i = name_hash(f->raw_name) & m; s->by_raw[i] != NULL;
         i = (i + 1) & m) {
        if (s->by_raw[i] == f) {
            s->by_raw[i] = keep != NULL ? keep : &tomb;
            return;
        }
    }
}

/* ---- ledger -----------------------------------------------------------------
 */

int svc_tx_begin(struct svc *s, struct sl_error *err)
{
    int64_t now = sl_gw_now_us();
    int rc = sl_ledger_begin(s->ledger, err);
    if (rc == SL_OK && s->tx_started_us > 0) {
        /* every move of the previous transaction is done by now: recovery
         * need not look at rows finished before it began */
        char v[32];
        sl_gw_pathf(v, sizeof(v), "%lld", (long long)s->tx_started_us);
        rc = sl_ledger_meta_set(s->ledger, "moves_done_before", v, err);
        if (rc != SL_OK) {
            sl_ledger_rollback(s->ledger);
        }
    }
    if (rc == SL_OK) {
        s->tx_started_us = now;
    }
    return rc;
}

int svc_tx_commit(struct svc *s, struct sl_error *err)
{
    return sl_ledger_commit(s->ledger, err);
}

int svc_put_file(struct svc *s, struct gfile *f, struct sl_error *err)
{
    struct sl_lfile l = {
        .id = f->id,
        .raw_name = f->raw_name,
        .table = f->table != NULL ? f->table : "",
        .size = f->size,
        .mtime_ns = f->mtime_ns,
        .dev = f->dev,
        .ino = f->ino,
        .fingerprint = f->fp,
        .data_fp = f->data_fp,
        .state = f->state,
        .path = f->path,
        .prev_path = f->prev,
        .orig_path = f->orig,
        .orig_prev = f->orig_prev,
        .format = f->format,
        .rows = f->rows,
        .rows_valid = f->valid,
        .rows_rejected = f->rejected,
        .batch = f->batch,
        .attempts = f->attempts,
        .next_try_us = f->next_try_us,
        .err_class = f->err_class,
        .err_msg = f->err_msg,
        .first_seen_us = f->first_seen_us,
        .staged_us = f->staged_us,
        .done_us = f->done_us,
        .force = f->force,
        .dup = f->dup_hint,
        .rule = f->rule,
        .rule_src = f->src,
        .route_key = f->key,
        .routes = f->routes,
    };
    return sl_ledger_put_file(s->ledger, &l, &f->id, err);
}

void svc_event(struct svc *s, const struct gfile *f, const char *batch,
               const char *what, const char *detail)
{
    struct sl_error e = {0};
    if (sl_ledger_event(s->ledger, f != NULL ? f->id : 0, batch, what, detail,
                        &e) != SL_OK) {
        svc_log(s, SL_LOG_WARN, f, batch, sl_errclass(e.code), "%s", e.msg);
    }
}

void svc_move(struct svc *s, const struct gfile *f, const char *batch,
              const char *from, const char *to)
{
    struct sl_error e = {0};
    if (from == NULL || to == NULL) {
        return;
    }
    /* fan-out: each route leaves raw/ by a link of its own */
    int rc = route_links(f, from) ? sl_gw_link(s->cfg->dir, from, to, &e)
                                  : sl_gw_move(s->cfg->dir, from, to, &e);
    if (rc != SL_OK) {
        svc_log(s, SL_LOG_ERROR, f, batch, sl_errclass(e.code), "%s", e.msg);
    }
}

/* ---- signals
 * ------------------------------------------------------------------ */

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t got_stop, got_hup;
static struct sigaction old_term, old_int, old_hup;

static void chain(const struct sigaction *old, int sig, siginfo_t *si, void *uc)
{
    if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction != NULL) {
        old->sa_sigaction(sig, si, uc);
    } else if (!(old->sa_flags & SA_SIGINFO) && old->sa_handler != SIG_DFL &&
               old->sa_handler != SIG_IGN && old->sa_handler != NULL) {
        old->sa_handler(sig);
    }
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    if (sig == SIGHUP) {
        got_hup = 1;
        chain(&old_hup, sig, si, uc);
    } else {
        got_stop = sig;
        chain(sig == SIGTERM ? &old_term : &old_int, sig, si, uc);
    }
    if (sig_pipe[1] >= 0) {
        ssize_t w = write(sig_pipe[1], "s", 1);
        (void)w;
    }
    errno = saved;
}

static int signals_install(struct sl_error *err)
{
    if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        return SL_ERR(err, -SL_EENV, "pipe: %s", strerror(errno));
    }
    got_stop = got_hup = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGHUP, &sa, &old_hup);
    return SL_OK;
}

static void signals_restore(void)
{
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    for (int i = 0; i < 2; i++) {
        if (sig_pipe[i] >= 0) {
            close(sig_pipe[i]);
            sig_pipe[i] = -1;
        }
    }
}

/* ---- set-up
 * ------------------------------------------------------------------- */

/* The gateway's lock: one service at a time, its pid inside. */
static int take_lock(const char *dir, int *out_fd, struct sl_error *err)
{
    char p[SL_GW_PATH];
    sl_gw_pathf(p, sizeof(p), "%s/.sluice/lock", dir);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        return SL_ERR(err, -SL_EENV, "cannot open %s: %s", p, strerror(errno));
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "?";
        ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        return SL_ERR(err, -SL_EBUSY,
                      "%s is already served by `sluice run` (pid %s); one "
                      "service per gateway",
                      dir, pid[0] ? pid : "?");
    }
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        /* the lock holds without the pid; only the message is poorer */
    }
    *out_fd = fd;
    return SL_OK;
}

static void tables_free(struct gtable *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sl_gw_load_release(&t[i].load);
        sl_vplan_destroy(t[i].plan);
    }
    sl__free(t);
}

/* Load sluice.json and the registry into fresh tables. */
static int load_setup(const char *dir, struct sl_gw_config **out_cfg,
                      struct sl_registry **out_reg, struct gtable **out_t,
                      size_t *out_n, struct sl_buf *problems,
                      struct sl_error *err)
{
    int rc = sl_gw_config_load(dir, problems, out_cfg, err);
    if (rc != SL_OK) {
        return rc;
    }
    char schemas[SL_GW_PATH];
    sl_gw_pathf(schemas, sizeof(schemas), "%s/schemas", (*out_cfg)->dir);
    struct sl_schema_opts so = {.flexible_names = true};
    size_t before = problems->len;
    rc = sl_registry_load_ex(schemas, &so, problems, out_reg, err);
    rc = rc ? rc
            : sl_gw_config_check_tables(
                  *out_cfg, *out_reg,
                  problems->len > before ? problems->data + before : NULL,
                  problems, err);
    if (rc != SL_OK) {
        return rc;
    }
    size_t n = (*out_reg)->n_tables;
    struct gtable *t = sl__calloc(n ? n : 1, sizeof(*t));
    if (t == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const struct sl_table *tb = (*out_reg)->tables[i];
        t[i].t = tb;
        snprintf(t[i].name, sizeof(t[i].name), "%s.%s", tb->dataset, tb->name);
        if (sl_gw_load_copy(&t[i].load, sl_gw_config_load_for(
                                            *out_cfg, t[i].name)) != SL_OK) {
            tables_free(t, i);
            return SL_ERR(err, -SL_ENOMEM, "out of memory");
        }
        int prc = sl_vplan_create(tb, &t[i].plan, err);
        if (prc != SL_OK) {
            tables_free(t, i + 1);
            return prc;
        }
    }
    *out_t = t;
    *out_n = n;
    return SL_OK;
}

static void report_problems(struct svc *s, const struct sl_buf *problems)
{
    if (problems->len == 0) {
        return;
    }
    char *copy = strndup(problems->data, problems->len);
    for (char *line = copy ? strtok(copy, "\n") : NULL; line != NULL;
         line = strtok(NULL, "\n")) {
        svc_log(s, SL_LOG_WARN, NULL, NULL, "schema", "refused: %s", line);
    }
    free(copy);
}

/* Is table i what a file in flight or a group is validated against? */
static bool table_busy(const struct svc *s, size_t i)
{
    for (size_t k = 0; k < s->n_files; k++) {
        if (s->files[k]->tix == (int)i) {
            return true;
        }
    }
    for (size_t k = 0; k < s->n_groups; k++) {
        if (s->groups[k]->tix == (int)i) {
            return true;
        }
    }
    return false;
}

/* The new tables in place of the old: indexes mapped by name. */
static void swap_setup(struct svc *s, struct sl_gw_config *cfg,
                       struct sl_registry *reg, struct gtable *t, size_t n,
                       const int *map)
{
    for (size_t i = 0; i < s->n_files; i++) {
        struct gfile *f = s->files[i];
        f->tix = f->tix >= 0 ? map[f->tix] : -1;
    }
    for (size_t i = 0; i < s->n_groups; i++) {
        struct ggroup *g = s->groups[i];
        g->tix = g->tix >= 0 ? map[g->tix] : -1;
    }
    /* the rule sets borrow the registry: parsed again from their texts */
    route_drop_sets(s);
    tables_free(s->tables, s->n_tables);
    sl_registry_destroy(s->reg);
    sl_gw_config_destroy(s->cfg);
    s->cfg = cfg;
    s->reg = reg;
    s->tables = t;
    s->n_tables = n;
}

/* Old table i missing from the new registry because its definition file
 * is there but refused (problems holds "FILE: why" lines)? Then the reload
 * is refused with that line: the table keeps serving as it was, as with a
 * bad sluice.json, rather than leaving its files with no table. */
static int refused_definition(const struct svc *s, size_t i,
                              const struct sl_buf *problems,
                              struct sl_error *err)
{
    const char *file = s->tables[i].t->file;
    size_t k = file != NULL ? strlen(file) : 0;
    const char *p = problems->data, *end = p + problems->len;
    while (k > 0 && p != NULL && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t n = eol != NULL ? (size_t)(eol - p) : (size_t)(end - p);
        if (n > k && memcmp(p, file, k) == 0 && p[k] == ':') {
            return SL_ERR(err, -SL_ESCHEMA,
                          "the definition of %s is refused (%.*s); it serves "
                          "as it was until a valid one is reloaded",
                          s->tables[i].name, (int)(n < 400 ? n : 400), p);
        }
        p = eol != NULL ? eol + 1 : NULL;
    }
    return SL_OK;
}

/* SIGHUP: sluice.json, the registry and the rules again, when no job holds
 * the old ones. A table still needed by files in flight that left the
 * registry keeps the old set-up (said in the log), and so does a table
 * whose definition is now refused. */
static void reload(struct svc *s)
{
    struct sl_gw_config *cfg = NULL;
    struct sl_registry *reg = NULL;
    struct gtable *t = NULL;
    size_t n = 0;
    struct sl_buf problems;
    sl__buf_init(&problems);
    struct sl_error e = {0};
    int rc = load_setup(s->o->dir, &cfg, &reg, &t, &n, &problems, &e);
    int *map = rc == SL_OK ? sl__calloc(s->n_tables + 1, sizeof(*map)) : NULL;
    for (size_t i = 0; map != NULL && i < s->n_tables; i++) {
        map[i] = -1;
        for (size_t k = 0; k < n; k++) {
            if (strcmp(t[k].name, s->tables[i].name) == 0) {
                map[i] = (int)k;
            }
        }
        if (map[i] < 0 && rc == SL_OK) {
            rc = refused_definition(s, i, &problems, &e);
        }
        if (map[i] < 0 && rc == SL_OK && table_busy(s, i)) {
            rc = SL_ERR(&e, -SL_ESCHEMA,
                        "table %s has files in flight but is no longer in "
                        "the registry",
                        s->tables[i].name);
        }
    }
    if (rc != SL_OK || map == NULL) {
        svc_log(s, SL_LOG_ERROR, NULL, NULL, sl_errclass(rc ? rc : -1),
                "reload refused, the running set-up stays: %s",
                e.msg[0] ? e.msg : "out of memory");
        sl__free(map);
        tables_free(t, n);
        sl_registry_destroy(reg);
        sl_gw_config_destroy(cfg);
        sl__buf_release(&problems);
        return;
    }
    swap_setup(s, cfg, reg, t, n, map);
    sl__free(map);
    report_problems(s, &problems);
    sl__buf_release(&problems);
    svc_log(s, SL_LOG_INFO, NULL, NULL, NULL,
            "reloaded sluice.json and %zu table definitions", n);
    if (route_load_rules(s, &e) != SL_OK) {
        svc_log(s, SL_LOG_ERROR, NULL, NULL, sl_errclass(e.code),
                "rules not reloaded: %s", e.msg);
    }
}

/* ---- the loop
 * ------------------------------------------------------------------- */

static void watch_raw(struct svc *s)
{
    s->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (s->inotify_fd < 0) {
        return; /* the periodic rescan still finds everything */
    }
    char p[SL_GW_PATH];
    sl_gw_pathf(p, sizeof(p), "%s/raw", s->cfg->dir);
    (void)inotify_add_watch(s->inotify_fd, p,
                            IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE);
    DIR *d = opendir(p);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.') {
            char sub[SL_GW_PATH];
            sl_gw_pathf(sub, sizeof(sub), "%s/%s", p, de->d_name);
            (void)inotify_add_watch(s->inotify_fd, sub,
                                    IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE |
                                        IN_ONLYDIR);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
}

/* Results of finished jobs: staging results recorded in one ledger
 * transaction, then their moves; batch results each on their own. */
static int take_results(struct svc *s, struct sl_error *err)
{
    struct job *stage = NULL, **tail = &stage, *j;
    struct job *loads = NULL, **ltail = &loads;
    while ((j = pool_take_done(s)) != NULL) {
        j->next = NULL;
        if (j->kind == JOB_STAGE) {
            *tail = j;
            tail = &j->next;
        } else {
            *ltail = j;
            ltail = &j->next;
        }
    }
    int rc = SL_OK;
    if (stage != NULL) {
        rc = svc_tx_begin(s, err);
        for (j = stage; rc == SL_OK && j != NULL; j = j->next) {
            rc = claim_record(s, j, err);
        }
        rc = rc ? rc : svc_tx_commit(s, err);
        if (rc == SL_OK) {
            sl__crash_point("staged-recorded");
        }
        for (j = stage; rc == SL_OK && j != NULL; j = j->next) {
            rc = claim_apply(s, j, err);
            sl__crash_point("stage-moved");
        }
    }
    for (j = loads; rc == SL_OK && j != NULL; j = j->next) {
        rc = j->kind == JOB_LOAD ? batch_done(s, j, err) : post_done(s, j, err);
    }
    while (stage != NULL) {
        j = stage->next;
        job_free(stage);
        stage = j;
    }
    while (loads != NULL) {
        j = loads->next;
        job_free(loads);
        loads = j;
    }
    return rc;
}

/* Files still to be staged (claimed, waiting for a retry or a job). */
static bool claims_pending(const struct svc *s)
{
    for (size_t i = 0; i < s->n_files; i++) {
        if (s->files[i]->state == SL_F_CLAIMED) {
            return true;
        }
    }
    return false;
}

static void wait_events(struct svc *s, int64_t timeout_us)
{
    struct pollfd pf[3] = {{s->pool.wake_fd, POLLIN, 0},
                           {sig_pipe[0], POLLIN, 0},
                           {s->inotify_fd, POLLIN, 0}};
    int ms = (int)(timeout_us / 1000) + 1;
    if (ms > 1000) {
        ms = 1000;
    }
    if (poll(pf, s->inotify_fd >= 0 ? 3 : 2, ms) <= 0) {
        return;
    }
    char buf[4096];
    uint64_t v;
    if (pf[0].revents & POLLIN) {
        ssize_t r = read(s->pool.wake_fd, &v, sizeof(v));
        (void)r;
    }
    if (pf[1].revents & POLLIN) {
        while (read(sig_pipe[0], buf, sizeof(buf)) > 0) {
        }
    }
    if (s->inotify_fd >= 0 && (pf[2].revents & POLLIN)) {
        while (read(s->inotify_fd, buf, sizeof(buf)) > 0) {
        }
        s->next_scan_us = 0; /* something arrived: scan now */
    }
}

static int loop(struct svc *s, struct sl_error *err)
{
    bool reload_wanted = false;
    for (;;) {
        int64_t now = sl_gw_now_us(), next = 0;
        if (got_stop && !s->stopping) {
            s->stopping = true;
            svc_log(s, SL_LOG_INFO, NULL, NULL, NULL,
                    "stopping: no new claims; finishing the jobs running");
        }
        if (got_hup) {
            got_hup = 0;
            reload_wanted = true;
        }
        if (reload_wanted && s->jobs_out == 0) {
            reload_wanted = false;
            reload(s);
        }
        bool dispatch = !s->stopping && !reload_wanted;
        int rc = take_results(s, err);
        if (rc == SL_OK && dispatch && now >= s->next_scan_us) {
            if (sl_rules_changed(s->rules)) {
                rc = route_load_rules(s, err); /* rules/ was edited */
            }
            rc = rc ? rc : claim_scan(s, err);
            s->next_scan_us = now + (int64_t)s->cfg->rescan_ms * 1000;
            if (s->scan_more) {
                s->next_scan_us = now + 100000;
            }
        }
        if (rc == SL_OK && dispatch) {
            rc = claim_retry_due(s, now, &next, err);
        }
        bool drain = s->o->once && s->stage_jobs == 0 && !s->scan_more &&
                     !claims_pending(s);
        if (rc == SL_OK && dispatch) {
            rc = batch_form_due(s, now, drain, &next, err);
        }
        if (rc == SL_OK && dispatch) {
            rc = post_due(s, now, &next, err);
        }
        if (rc != SL_OK) {
            return rc;
        }
        if (s->stopping && s->jobs_out == 0) {
            s->stats->stop_signal = (int)got_stop;
            s->stats->unfinished = s->n_files;
            return SL_OK;
        }
        if (s->o->once && s->n_files == 0 && s->jobs_out == 0 &&
            !s->scan_more && s->posts == NULL) {
            uint64_t before = s->stats->claimed;
            if ((rc = claim_scan(s, err)) != SL_OK) {
                return rc;
            }
            if (s->stats->claimed == before && !s->scan_more) {
                return SL_OK; /* drained */
            }
            continue;
        }
        int64_t until = s->next_scan_us - now;
        if (next > 0 && next - now < until) {
            until = next - now;
        }
        wait_events(s, until < 0 ? 0 : until);
    }
}

/* Is there anything in the staged folders (a ledger missing then was
 * lost, not never made)? */
static bool has_work(const char *dir)
{
    static const char *const folders[] = {"sent", "failed", "transformed",
                                          "cloud_ready"};
    for (size_t i = 0; i < SL_ARRAY_LEN(folders); i++) {
        char p[SL_GW_PATH];
        if (!sl_gw_pathf(p, sizeof(p), "%s/%s", dir, folders[i])) {
            continue;
        }
        DIR *d = opendir(p);
        struct dirent *de;
        bool any = false;
        while (d != NULL && !any && (de = readdir(d)) != NULL) {
            any = de->d_name[0] != '.';
        }
        if (d != NULL) {
            closedir(d);
        }
        if (any) {
            return true;
        }
    }
    return false;
}

static void teardown(struct svc *s)
{
    groups_free(s);
    posts_free(s);
    for (size_t i = 0; i < s->n_files; i++) {
        gfile_free(s->files[i]);
    }
    sl__free(s->files);
    sl__free(s->by_raw);
    tables_free(s->tables, s->n_tables);
    if (s->inotify_fd >= 0) {
        close(s->inotify_fd);
    }
    sl_ledger_close(s->ledger);
    route_free(s);
    sl_registry_destroy(s->reg);
    sl_gw_config_destroy(s->cfg);
}

int sl_service_run(const struct sl_service_opts *o,
                   struct sl_service_stats *out, struct sl_error *err)
{
    struct svc s = {.o = o, .stats = out, .inotify_fd = -1};
    memset(out, 0, sizeof(*out));
    s.pool.wake_fd = -1;
    struct sl_buf problems;
    sl__buf_init(&problems);
    int lock_fd = -1;
    int rc = load_setup(o->dir, &s.cfg, &s.reg, &s.tables, &s.n_tables,
                        &problems, err);
    report_problems(&s, &problems);
    if (rc == SL_OK) {
        /* the folders, should someone have removed one */
        rc = sl_gw_init(s.cfg->dir, false, err);
    }
    if (rc == SL_OK) {
        rc = take_lock(s.cfg->dir, &lock_fd, err);
    }
    sl__buf_release(&problems);
    char lpath[SL_GW_PATH];
    bool lost = false;
    if (rc == SL_OK) {
        (void)sl_gw_pathf(lpath, sizeof(lpath), "%s/.sluice/ledger.db",
                          s.cfg->dir);
        lost = access(lpath, F_OK) != 0 && has_work(s.cfg->dir);
        rc = sl_ledger_open(lpath, SL_LEDGER_CREATE, &s.ledger, err);
    }
    if (rc == SL_OK && (s.ops = sl_wh_driver_for(s.cfg->warehouse)) == NULL) {
        rc = SL_ERR(err, -SL_EUSAGE, "sluice.json: unknown warehouse URI %s",
                    s.cfg->warehouse);
    }
    rc = rc ? rc : route_load_rules(&s, err);
    if (rc == SL_OK && lost) {
        rc = rebuild_ledger(&s, err);
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    s.threads = o->threads                ? o->threads
                : s.cfg && s.cfg->threads ? s.cfg->threads
                : ncpu > 0                ? (unsigned)ncpu
                                          : 1;
    srandom((unsigned)getpid() ^ (unsigned)sl_gw_now_us());
    rc = rc ? rc : recover(&s, err);
    rc = rc ? rc : signals_install(err);
    rc = rc ? rc : pool_start(&s, s.threads, err);
    if (rc == SL_OK) {
        watch_raw(&s);
        svc_log(&s, SL_LOG_INFO, NULL, NULL, NULL,
                "serving %s: %zu tables, %zu rules, warehouse %s, %u "
                "threads%s",
                s.cfg->dir, s.n_tables, sl_rules_count(s.rules),
                s.cfg->warehouse, s.threads, o->once ? ", once" : "");
        rc = loop(&s, err);
        pool_stop(&s);
        /* results that came in while stopping are recorded too */
        struct sl_error e2 = {0};
        if (take_results(&s, &e2) != SL_OK && rc == SL_OK) {
            *err = e2;
            rc = e2.code;
        }
    }
    signals_restore();
    teardown(&s);
    if (lock_fd >= 0) {
        close(lock_fd);
    }
    return rc;
}
