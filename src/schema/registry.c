/* registry.c - load every table definition under a folder, map each file's
 * path to dataset.table, and look tables up by name. schema stage.
 *
 * Layout (docs/SCHEMAS.md): DIR/<dataset>/<table>.json, or
 * DIR/<dataset>/<table>/schema.json (bigquery-etl); a file directly in DIR
 * belongs to dataset "main"; folders above the dataset are ignored. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/hash.h"
#include "schema/schema.h"
#include "schema/schema_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DIR_DEPTH 32 /* guards against symlink loops */
#define MAX_DEF_SIZE                                                           \
    ((size_t)64 << 20) /* a definition larger than this is refused */

/* One definition file found by the walk. */
struct def {
    char *file;    /* full path, owned */
    char *dataset; /* owned, NULL when the path does not map to a safe name */
    char *table;   /* owned */
    bool skip;     /* refused before parsing (bad name, duplicate) */
    uint64_t size; /* file size and modification time as read (or stat'ed) */
    int64_t mtime_ns;
    bool stated; /* size and mtime_ns are known */
};

struct walk {
    struct def *defs; /* owned array */
    size_t len, cap;
    const struct sl_schema_opts *opts;
    struct sl_buf *problems; /* may be NULL: stop at the first problem */
    struct sl_error *err;
    size_t n_bad; /* files refused */
};

static int ascii_cmp_ci(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = (unsigned char)*a, y = (unsigned char)*b;
        x += (x >= 'A' && x <= 'Z') ? 32 : 0;
        y += (y >= 'A' && y <= 'Z') ? 32 : 0;
        if (x != y || x == 0) {
            return x - y;
        }
    }
}

/* Report a file-level problem (no field path). */
static int file_problem(struct walk *w, const char *file, const char *fmt, ...)
    SL_PRINTF(3, 4);
static int file_problem(struct walk *w, const char *file, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    w->n_bad++;
    if (w->problems == NULL) {
        SL_ERR(w->err, -SL_ESCHEMA, "%s", msg);
        sl__error_path(w->err, file);
        return -SL_ESCHEMA;
    }
    return sl__buf_printf(w->problems, "%s: %s\n", file, msg);
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && memcmp(s + n - m, suf, m) == 0;
}

static int add_file(struct walk *w, const char *path)
{
    if (w->len == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        struct def *d = sl__realloc(w->defs, cap * sizeof(*d));
        if (d == NULL) {
            return -SL_ENOMEM;
        }
        w->defs = d;
        w->cap = cap;
    }
    struct def *d = &w->defs[w->len];
    memset(d, 0, sizeof(*d));
    if ((d->file = sl__strdup(path)) == NULL) {
        return -SL_ENOMEM;
    }
    w->len++;
    return SL_OK;
}

static int walk_dir(struct walk *w, const char *dir, int depth)
{
    if (depth > MAX_DIR_DEPTH) {
        SL_ERR(w->err, -SL_EIO,
               "folders nested more than %d levels (a symlink loop?)",
               MAX_DIR_DEPTH);
        sl__error_path(w->err, dir);
        return -SL_EIO;
    }
    DIR *dh = opendir(dir);
    if (dh == NULL) {
        int e = errno;
        SL_ERR(w->err, e == ENOENT ? -SL_ENOTFOUND : -SL_EIO,
               "cannot open folder %s: %s", dir, strerror(e));
        sl__error_path(w->err, dir);
        if (w->err != NULL) {
            w->err->sub = e;
        }
        return e == ENOENT ? -SL_ENOTFOUND : -SL_EIO;
    }
    int rc = SL_OK;
    struct dirent *de;
    size_t dn = strlen(dir);
    while (rc == SL_OK && (de = readdir(dh)) != NULL) {
        if (de->d_name[0] == '.') {
            continue; /* ".", "..", and hidden files and folders (.git, editor
                         files) */
        }
        size_t nn = strlen(de->d_name);
        char *p = sl__malloc(dn + nn + 2);
        if (p == NULL) {
            rc = -SL_ENOMEM;
            break;
        }
        memcpy(p, dir, dn);
        p[dn] = '/';
        memcpy(p + dn + 1, de->d_name, nn + 1);
        bool is_dir = de->d_type == DT_DIR, is_reg = de->d_type == DT_REG;
        if (de->d_type == DT_UNKNOWN || de->d_type == DT_LNK) {
            struct stat st;
            if (stat(p, &st) == 0) {
                is_dir = S_ISDIR(st.st_mode);
                is_reg = S_ISREG(st.st_mode);
            }
        }
        if (is_dir) {
            rc = walk_dir(w, p, depth + 1);
        } else if (is_reg && has_suffix(de->d_name, ".json")) {
            rc = add_file(w, p);
        }
        sl__free(p);
    }
    closedir(dh);
    if (rc == -SL_ENOMEM) {
        SL_ERR(w->err, -SL_ENOMEM, "out of memory while listing definitions");
    }
    return rc;
}

/* Map DIR-relative path rel to dataset and table names (both owned). */
static int map_names(const char *rel, char **out_ds, char **out_tb)
{
    const char *comp[3] = {NULL, NULL, NULL}; /* last three components */
    size_t clen[3] = {0, 0, 0};
    const char *s = rel;
    for (;;) {
        const char *slash = strchr(s, '/');
        size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
        if (n > 0) {
            comp[0] = comp[1];
            clen[0] = clen[1];
            comp[1] = comp[2];
            clen[1] = clen[2];
            comp[2] = s;
            clen[2] = n;
        }
        if (slash == NULL) {
            break;
        }
        s = slash + 1;
    }
    const char *ds = "main", *tb = comp[2];
    size_t dsl = 4, tbl = clen[2] - 5; /* without ".json" */
    if (clen[2] == 11 && memcmp(comp[2], "schema.json", 11) == 0 &&
        comp[1] != NULL) {
        tb = comp[1];
        tbl = clen[1];
        if (comp[0] != NULL) {
            ds = comp[0];
            dsl = clen[0];
        }
    } else if (comp[1] != NULL) {
        ds = comp[1];
        dsl = clen[1];
    }
    *out_ds = sl__strndup(ds, dsl);
    *out_tb = sl__strndup(tb, tbl);
    return (*out_ds == NULL || *out_tb == NULL) ? -SL_ENOMEM : SL_OK;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct def *)a)->file, ((const struct def *)b)->file);
}

static int cmp_key_idx(const void *a, const void *b, void *base)
{
    const struct def *defs = base;
    const struct def *x = &defs[*(const size_t *)a],
                     *y = &defs[*(const size_t *)b];
    int r = ascii_cmp_ci(x->dataset, y->dataset);
    r = r != 0 ? r : ascii_cmp_ci(x->table, y->table);
    return r != 0 ? r : strcmp(x->file, y->file);
}

static int cmp_table(const void *a, const void *b)
{
    const struct sl_table *x = *(struct sl_table *const *)a,
                          *y = *(struct sl_table *const *)b;
    int r = ascii_cmp_ci(x->dataset, y->dataset);
    return r != 0 ? r : ascii_cmp_ci(x->name, y->name);
}

/* Check names, then find files mapping to the same dataset.table. Names are
 * compared case-insensitively: DuckDB identifiers and some file systems are. */
static int check_names(struct walk *w, size_t rel_off)
{
    int rc = SL_OK;
    size_t n_ok = 0;
    for (size_t i = 0; i < w->len && rc == SL_OK; i++) {
        struct def *d = &w->defs[i];
        if ((rc = map_names(d->file + rel_off, &d->dataset, &d->table)) !=
            SL_OK) {
            SL_ERR(w->err, rc, "out of memory while listing definitions");
            return rc;
        }
        if (!sl_dataset_name_ok(d->dataset)) {
            d->skip = true;
            rc = file_problem(
                w, d->file,
                "dataset name \"%.200s\" (from the folder name) is not a safe "
                "identifier: use letters, digits and '_'",
                d->dataset);
        } else if (!sl_table_name_ok(d->table)) {
            d->skip = true;
            rc = file_problem(
                w, d->file,
                "table name \"%.200s\" (from the %s) is not a safe identifier: "
                "use letters, digits, '_' and '-' (not first)",
                d->table,
                has_suffix(d->file, "/schema.json") ? "folder name"
                                                    : "file name");
        } else {
            n_ok++;
        }
    }
    if (rc != SL_OK || n_ok < 2) {
        return rc;
    }
    size_t *idx = sl__malloc(n_ok * sizeof(size_t));
    if (idx == NULL) {
        SL_ERR(w->err, -SL_ENOMEM, "out of memory while listing definitions");
        return -SL_ENOMEM;
    }
    for (size_t i = 0, k = 0; i < w->len; i++) {
        if (!w->defs[i].skip) {
            idx[k++] = i;
        }
    }
    qsort_r(idx, n_ok, sizeof(size_t), cmp_key_idx, w->defs);
    for (size_t i = 0; i < n_ok && rc == SL_OK;) {
        size_t j = i + 1;
        struct def *a = &w->defs[idx[i]];
        while (j < n_ok &&
               ascii_cmp_ci(a->dataset, w->defs[idx[j]].dataset) == 0 &&
               ascii_cmp_ci(a->table, w->defs[idx[j]].table) == 0) {
            j++;
        }
        for (size_t k = i; j - i > 1 && k < j && rc == SL_OK; k++) {
            struct def *d = &w->defs[idx[k]];
            const struct def *other = &w->defs[idx[k == i ? i + 1 : i]];
            char key[2 * SL_SCHEMA_MAX_IDENT + 2];
            snprintf(key, sizeof(key), "%s.%s", d->dataset, d->table);
            d->skip = true;
            rc = file_problem(w, d->file,
                              "duplicate table %s: also defined by %s", key,
                              other->file);
        }
        i = j;
    }
    sl__free(idx);
    return rc;
}

static void note_stat(struct def *d, const struct stat *st)
{
    d->size = (uint64_t)st->st_size;
    d->mtime_ns =
        (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    d->stated = true;
}

static int read_file(struct def *d, const char *path, char **out,
                     size_t *out_len, struct sl_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    *out = NULL;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
        }
        SL_ERR(err, -SL_EIO, "cannot read definition: %s", strerror(e));
        sl__error_path(err, path);
        return -SL_EIO;
    }
    note_stat(d, &st);
    if ((size_t)st.st_size > MAX_DEF_SIZE) {
        close(fd);
        SL_ERR(err, -SL_ESCHEMA, "definition is larger than %zu MiB",
               MAX_DEF_SIZE >> 20);
        sl__error_path(err, path);
        return -SL_ESCHEMA;
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = sl__malloc(cap);
    if (buf == NULL) {
        close(fd);
        SL_ERR(err, -SL_ENOMEM, "out of memory reading a definition");
        return -SL_ENOMEM;
    }
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            int e = errno;
            close(fd);
            sl__free(buf);
            SL_ERR(err, -SL_EIO, "cannot read definition: %s", strerror(e));
            sl__error_path(err, path);
            return -SL_EIO;
        }
        if (r == 0 || len + (size_t)r == cap) {
            len += (size_t)r;
            break; /* a file that grew while read is taken as it was */
        }
        len += (size_t)r;
    }
    close(fd);
    *out = buf;
    *out_len = len;
    return SL_OK;
}

void sl_registry_destroy(struct sl_registry *reg)
{
    if (reg == NULL) {
        return;
    }
    for (size_t i = 0; i < reg->n_tables; i++) {
        sl_table_destroy(reg->tables[i]);
    }
    sl__free(reg->tables);
    sl__free(reg->dir);
    sl__free(reg);
}

static void walk_release(struct walk *w)
{
    for (size_t i = 0; i < w->len; i++) {
        sl__free(w->defs[i].file);
        sl__free(w->defs[i].dataset);
        sl__free(w->defs[i].table);
    }
    sl__free(w->defs);
}

/* The files' fingerprint: each path, size and modification time, in path
 * order (defs are sorted by path); files not stat'ed yet are now. */
static uint64_t files_hash(struct walk *w)
{
    uint64_t h = sl__hash_bytes("", 0);
    for (size_t i = 0; i < w->len; i++) {
        struct def *d = &w->defs[i];
        struct stat st;
        if (!d->stated && stat(d->file, &st) == 0) {
            note_stat(d, &st);
        }
        uint64_t part[3] = {sl__hash_bytes(d->file, strlen(d->file)), d->size,
                            (uint64_t)d->mtime_ns};
        h = (h ^ sl__hash_bytes(part, sizeof(part))) * 1099511628211ULL;
    }
    return h;
}

int sl_registry_changed(const struct sl_registry *reg, bool *out_changed,
                        struct sl_error *err)
{
    struct walk w = {.err = err};
    *out_changed = false;
    int rc = walk_dir(&w, reg->dir, 0);
    if (rc == SL_OK) {
        if (w.len > 0) {
            qsort(w.defs, w.len, sizeof(*w.defs), cmp_file);
        }
        *out_changed = files_hash(&w) != reg->files_hash;
    }
    walk_release(&w);
    return rc;
}

/* One definition's outcome, filled by whichever thread parsed it. */
struct slot {
    struct sl_table *t; /* owned until moved into the registry */
    int rc;
    bool read_failed; /* the file could not be read (rc, ferr) */
    struct sl_error ferr;
    struct sl_buf problems; /* this file's problem lines */
};

struct pjob {
    struct walk *w;
    struct slot *slots;
    _Atomic size_t next; /* the next definition to take */
};

static void parse_one(struct walk *w, size_t i, struct slot *s)
{
    struct def *d = &w->defs[i];
    char *text = NULL;
    size_t len = 0;
    s->rc = read_file(d, d->file, &text, &len, &s->ferr);
    if (s->rc == SL_OK) {
        s->rc = sl_table_parse_ex(
            text, len, d->file, d->dataset, d->table, w->opts,
            w->problems != NULL ? &s->problems : NULL, &s->t, &s->ferr);
    } else {
        s->read_failed = true;
    }
    sl__free(text);
}

static void *parse_worker(void *arg)
{
    struct pjob *j = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->w->len) {
            return NULL;
        }
        if (!j->w->defs[i].skip) {
            parse_one(j->w, i, &j->slots[i]);
        }
    }
}

/* Threads for parsing n definitions: jansson's lexer costs ~40 ns a byte,
 * so the 7 MB real registry takes ~0.3 s on one core; files are parsed
 * independently on up to 4 threads when there are enough of them. */
static unsigned parse_threads(size_t n)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    const char *env = getenv("SLUICE_PARSE_THREADS"); /* for benchmarks */
    if (env != NULL && atoi(env) > 0) {
        cpus = atoi(env);
    }
    unsigned t = cpus < 1 ? 1 : cpus > 4 ? 4 : (unsigned)cpus;
    return n < 64 ? 1 : t;
}

/* Parse every definition not refused yet (on several threads for a large
 * registry), then take the outcomes in path order, as one thread would:
 * problems appended in order; without a problem list the first failing
 * file (in order) is the error. */
static int parse_all(struct walk *w, struct sl_registry *reg)
{
    struct slot *slots = sl__calloc(w->len + 1, sizeof(*slots));
    if (slots == NULL) {
        return SL_ERR(w->err, -SL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < w->len; i++) {
        sl__buf_init(&slots[i].problems);
    }
    struct pjob job = {.w = w, .slots = slots};
    pthread_t tid[4];
    unsigned nt = 0, want = parse_threads(w->len);
    (void)json_object_seed(0); /* jansson's hash seed, before any thread */
    while (nt + 1 < want &&
           pthread_create(&tid[nt], NULL, parse_worker, &job) == 0) {
        nt++;
    }
    parse_worker(&job);
    for (unsigned k = 0; k < nt; k++) {
        pthread_join(tid[k], NULL);
    }
    int rc = SL_OK;
    for (size_t i = 0; i < w->len; i++) {
        struct slot *s = &slots[i];
        if (w->defs[i].skip || rc != SL_OK) {
            sl_table_destroy(s->t);
            continue;
        }
        if (s->problems.len > 0 && sl__buf_append(w->problems, s->problems.data,
                                                  s->problems.len) != SL_OK) {
            s->rc = -SL_ENOMEM;
        }
        rc = s->rc;
        if (rc == SL_OK) {
            reg->tables[reg->n_tables++] = s->t;
            continue;
        }
        sl_table_destroy(s->t);
        if (s->read_failed && w->problems != NULL && rc != -SL_ENOMEM) {
            rc = sl__buf_printf(w->problems, "%s: %s\n", w->defs[i].file,
                                s->ferr.msg);
            rc = rc == SL_OK ? -SL_ESCHEMA : rc;
        }
        w->n_bad++;
        if (w->problems == NULL || rc == -SL_ENOMEM) {
            if (w->err != NULL && w->err->code == 0) {
                *w->err = s->ferr;
            }
            if (rc == -SL_ENOMEM) {
                SL_ERR(w->err, -SL_ENOMEM,
                       "out of memory while loading definitions");
            }
            continue; /* rc stays: the rest is only freed */
        }
        rc = SL_OK; /* reported in problems; go on with the next file */
    }
    for (size_t i = 0; i < w->len; i++) {
        sl__buf_release(&slots[i].problems);
    }
    sl__free(slots);
    return rc;
}

int sl_registry_load_ex(const char *dir, const struct sl_schema_opts *opts,
                        struct sl_buf *problems, struct sl_registry **out,
                        struct sl_error *err)
{
    struct walk w = {.opts = opts, .problems = problems, .err = err};
    struct sl_registry *reg = NULL;
    int rc;
    *out = NULL;
    size_t dn = strlen(dir);
    while (dn > 1 && dir[dn - 1] == '/') {
        dn--; /* "dir/" and "dir" give the same relative paths */
    }
    char *root = sl__strndup(dir, dn);
    if (root == NULL) {
        rc = SL_ERR(err, -SL_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = walk_dir(&w, root, 0)) != SL_OK) {
        goto out;
    }
    if (w.len > 0) {
        qsort(w.defs, w.len, sizeof(*w.defs), cmp_file);
    }
    if ((rc = check_names(&w, dn + 1)) != SL_OK) {
        goto out;
    }
    reg = sl__calloc(1, sizeof(*reg));
    if (reg == NULL ||
        (w.len > 0 &&
         (reg->tables = sl__calloc(w.len, sizeof(*reg->tables))) == NULL)) {
        rc = SL_ERR(err, -SL_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = parse_all(&w, reg)) != SL_OK) {
        goto out;
    }
    if (reg->n_tables > 1) {
        qsort(reg->tables, reg->n_tables, sizeof(*reg->tables), cmp_table);
    }
    reg->files_hash = files_hash(&w);
    reg->dir = root;
    root = NULL;
    *out = reg;
    reg = NULL;
out:
    if (rc == -SL_ENOMEM && err != NULL && err->code == 0) {
        SL_ERR(err, -SL_ENOMEM, "out of memory while loading definitions");
    }
    sl_registry_destroy(reg);
    walk_release(&w);
    sl__free(root);
    return rc;
}

int sl_registry_load(const char *dir, struct sl_buf *problems,
                     struct sl_registry **out, struct sl_error *err)
{
    return sl_registry_load_ex(dir, NULL, problems, out, err);
}

static const struct sl_table *find_exact(const struct sl_registry *reg,
                                         const char *ds, const char *tb)
{
    size_t lo = 0, hi = reg->n_tables;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct sl_table *t = reg->tables[mid];
        int r = ascii_cmp_ci(t->dataset, ds);
        r = r != 0 ? r : ascii_cmp_ci(t->name, tb);
        if (r == 0) {
            return t;
        }
        if (r < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

const struct sl_table *sl_registry_find(const struct sl_registry *reg,
                                        const char *name)
{
    if (reg == NULL || name == NULL) {
        return NULL;
    }
    const char *dot = strchr(name, '.');
    if (dot != NULL) {
        size_t dl = (size_t)(dot - name);
        char ds[SL_SCHEMA_MAX_IDENT + 1];
        if (dl == 0 || dl > SL_SCHEMA_MAX_IDENT ||
            strchr(dot + 1, '.') != NULL) {
            return NULL;
        }
        memcpy(ds, name, dl);
        ds[dl] = '\0';
        return find_exact(reg, ds, dot + 1);
    }
    const struct sl_table *t = find_exact(reg, "main", name);
    if (t != NULL) {
        return t;
    }
    for (size_t i = 0; i < reg->n_tables; i++) {
        if (ascii_cmp_ci(reg->tables[i]->name, name) == 0) {
            if (t != NULL) {
                return NULL; /* ambiguous: name it with its dataset */
            }
            t = reg->tables[i];
        }
    }
    return t;
}
