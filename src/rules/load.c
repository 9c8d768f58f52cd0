/* load.c - a rule set: reading a gateway's rules/ (every *.json, *.yaml and
 * *.yml file, sub-folders too, in name order), one file's rules, the files
 * watched for changes, and freeing. rules stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "rules/rules_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_RULE_FILE                                                          \
    (16u << 20) /* a rule file larger than this is a mistake */

/* ---- freeing ----------------------------------------------------------------
 */

static void kv_free(struct sl_rule_kv *kv, size_t n)
{
    for (size_t i = 0; kv != NULL && i < n; i++) {
        sl__free(kv[i].key);
        sl__free(kv[i].value);
    }
    sl__free(kv);
}

static void strs_free(char **s, size_t n)
{
    for (size_t i = 0; s != NULL && i < n; i++) {
        sl__free(s[i]);
    }
    sl__free(s);
}

void sl__rule_free(struct sl_rule *r)
{
    if (r == NULL) {
        return;
    }
    char *strs[] = {r->name,
                    r->file,
                    r->prefix,
                    r->suffix,
                    r->filter,
                    r->exclusion,
                    r->table,
                    r->pattern,
                    r->partition,
                    r->transient_dataset,
                    r->alias,
                    r->copy_method,
                    r->criteria,
                    r->transient_template,
                    r->schema_template,
                    r->unique_order};
    for (size_t i = 0; i < SL_ARRAY_LEN(strs); i++) {
        sl__free(strs[i]);
    }
    pcre2_code_free((pcre2_code *)r->filter_re);
    pcre2_code_free((pcre2_code *)r->excl_re);
    pcre2_code_free((pcre2_code *)r->pattern_re);
    kv_free(r->params, r->n_params);
    kv_free(r->split, r->n_split);
    kv_free(r->transform, r->n_transform);
    strs_free(r->unique, r->n_unique);
    for (size_t i = 0; r->sides != NULL && i < r->n_sides; i++) {
        sl__free(r->sides[i].table);
        sl__free(r->sides[i].from);
        sl__free(r->sides[i].alias);
        sl__free(r->sides[i].on);
    }
    sl__free(r->sides);
    sl_gw_load_release(&r->load);
    json_decref(r->load_opts);
    sl__rules_actions_free(r->on_success, r->n_on_success);
    sl__rules_actions_free(r->on_failure, r->n_on_failure);
    sl__free(r);
}

void sl_rules_destroy(struct sl_rules *rs)
{
    if (rs == NULL) {
        return;
    }
    for (size_t i = 0; i < rs->n; i++) {
        sl__rule_free(rs->rules[i]);
    }
    sl__free(rs->rules);
    for (size_t i = 0; i < rs->n_seen; i++) {
        sl__free(rs->seen[i].path);
    }
    sl__free(rs->seen);
    for (size_t i = 0; i < rs->n_texts; i++) {
        sl__free(rs->texts[i]);
    }
    sl__free(rs->texts);
    for (size_t i = 0; rs->buckets != NULL && i < rs->n_buckets_cap; i++) {
        sl__free(rs->buckets[i].rules);
    }
    sl__free(rs->buckets);
    sl__free(rs->lens);
    sl__free(rs->open);
    sl__free(rs->disabled);
    sl__free(rs->webhook_url);
    sl__free(rs->dir);
    sl__free(rs->rules_dir);
    sl__free(rs);
}

/* ---- accessors
 * ---------------------------------------------------------------- */

size_t sl_rules_count(const struct sl_rules *rs)
{
    return rs != NULL ? rs->n : 0;
}

const struct sl_rule *sl_rules_at(const struct sl_rules *rs, size_t idx)
{
    return rs != NULL && idx < rs->n ? rs->rules[idx] : NULL;
}

const char *sl_rule_name(const struct sl_rule *r)
{
    return r->name;
}

const char *sl_rule_file(const struct sl_rule *r)
{
    return r->file;
}

bool sl_rule_disabled(const struct sl_rule *r)
{
    return r->disabled;
}

const char *sl_rule_text(const struct sl_rule *r, size_t *out_len)
{
    *out_len = r->text_len;
    return r->text != NULL ? r->text : "";
}

/* ---- files seen
 * ----------------------------------------------------------------- */

int sl__rules_seen_add(struct sl_rules *rs, const char *path)
{
    if (rs->n_seen == rs->cap_seen) {
        size_t cap = rs->cap_seen ? 2 * rs->cap_seen : 16;
        struct sl_rules_seen *s = sl__realloc(rs->seen, cap * sizeof(*s));
        if (s == NULL) {
            return -SL_ENOMEM;
        }
        rs->seen = s;
        rs->cap_seen = cap;
    }
    struct sl_rules_seen *s = &rs->seen[rs->n_seen];
    memset(s, 0, sizeof(*s));
    struct stat st;
    if (stat(path, &st) == 0) {
        s->size = (int64_t)st.st_size;
        s->mtime_ns =
            (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    } else {
        s->size = -1;
    }
    if ((s->path = sl__strdup(path)) == NULL) {
        return -SL_ENOMEM;
    }
    rs->n_seen++;
    return SL_OK;
}

static bool rule_file_name(const char *name)
{
    static const char *const ext[] = {".json", ".yaml", ".yml"};
    size_t n = strlen(name);
    if (name[0] == '.') {
        return false;
    }
    for (size_t i = 0; i < SL_ARRAY_LEN(ext); i++) {
        size_t e = strlen(ext[i]);
        if (n > e && strcasecmp(name + n - e, ext[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* The rule files under dir/rel, sorted, as paths relative to the rules
 * folder, appended to *list. */
struct flist {
    char **names;
    size_t n, cap;
};

static int by_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_files(const char *root, const char *rel, struct flist *l,
                      int depth)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(path);
    if (d == NULL) {
        return errno == ENOENT && depth == 0 ? SL_OK : -SL_EIO;
    }
    int rc = SL_OK;
    struct dirent *de;
    while (rc == SL_OK && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        char sub[PATH_MAX], full[PATH_MAX];
        struct stat st;
        if (snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
                     de->d_name) >= (int)sizeof(sub) ||
            snprintf(full, sizeof(full), "%s/%s", root, sub) >=
                (int)sizeof(full) ||
            stat(full, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode) && depth < 8) {
            rc = list_files(root, sub, l, depth + 1);
        } else if (S_ISREG(st.st_mode) && rule_file_name(de->d_name)) {
            if (l->n == l->cap) {
                size_t cap = l->cap ? 2 * l->cap : 16;
                char **v = sl__realloc(l->names, cap * sizeof(*v));
                if (v == NULL) {
                    rc = -SL_ENOMEM;
                    break;
                }
                l->names = v;
                l->cap = cap;
            }
            if ((l->names[l->n] = sl__strdup(sub)) == NULL) {
                rc = -SL_ENOMEM;
            } else {
                l->n++;
            }
        }
    }
    closedir(d);
    if (rc == SL_OK && depth == 0 && l->n > 1) {
        qsort(l->names, l->n, sizeof(*l->names), by_str);
    }
    return rc;
}

static void flist_release(struct flist *l)
{
    strs_free(l->names, l->n);
    memset(l, 0, sizeof(*l));
}

bool sl_rules_changed(const struct sl_rules *rs)
{
    if (rs == NULL || rs->rules_dir == NULL) {
        return false;
    }
    struct flist l = {0};
    if (list_files(rs->rules_dir, "", &l, 0) != SL_OK) {
        flist_release(&l);
        return true;
    }
    size_t k = 0; /* rule files among seen (in the order read) */
    bool changed = false;
    for (size_t i = 0; i < rs->n_seen && !changed; i++) {
        const struct sl_rules_seen *s = &rs->seen[i];
        struct stat st;
        bool now = stat(s->path, &st) == 0;
        int64_t mt =
            now ? (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec
                : 0;
        changed =
            now != (s->size >= 0) ||
            (now && ((int64_t)st.st_size != s->size || mt != s->mtime_ns));
        size_t rl = strlen(rs->rules_dir);
        if (!changed && strncmp(s->path, rs->rules_dir, rl) == 0 &&
            rule_file_name(strrchr(s->path, '/') + 1)) {
            changed = k >= l.n || strcmp(l.names[k], s->path + rl + 1) != 0;
            k++;
        }
    }
    changed |= k != l.n;
    flist_release(&l);
    return changed;
}

/* ---- one file
 * ------------------------------------------------------------------- */

/* "rules/a/b.yaml" -> "a/b" (+ "[i]" for a list's i-th). */
static char *rule_name(const char *file, long i)
{
    const char *base = file + strlen("rules/");
    const char *dot = strrchr(base, '.');
    size_t n = dot != NULL ? (size_t)(dot - base) : strlen(base);
    char buf[PATH_MAX];
    if (i >= 0) {
        snprintf(buf, sizeof(buf), "%.*s[%ld]", (int)n, base, i);
    } else {
        snprintf(buf, sizeof(buf), "%.*s", (int)n, base);
    }
    return sl__strdup(buf);
}

static json_t *parse_text(struct sl_pc *c, const char *text, size_t len)
{
    const char *dot = strrchr(c->file, '.');
    bool yaml = dot != NULL &&
                (strcasecmp(dot, ".yaml") == 0 || strcasecmp(dot, ".yml") == 0);
    char why[300];
    if (yaml) {
        size_t line = 0;
        json_t *root = sl__rules_yaml(text, len, why, sizeof(why), &line);
        if (root == NULL) {
            sl__rules_problem(c, "", "line %zu: %s", line, why);
        }
        return root;
    }
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        sl__rules_problem(c, "", "line %d: %s", je.line, je.text);
    }
    return root;
}

static int push_rule(struct sl_rules *rs, struct sl_rule *r)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? 2 * rs->cap : 16;
        struct sl_rule **v = sl__realloc(rs->rules, cap * sizeof(*v));
        if (v == NULL) {
            return -SL_ENOMEM;
        }
        rs->rules = v;
        rs->cap = cap;
    }
    r->index = rs->n;
    rs->rules[rs->n++] = r;
    return SL_OK;
}

/* One rule object: read, checked, kept when it has no problem. */
static int one_rule(struct sl_rules *rs, struct sl_pc *c, json_t *v, long i)
{
    char at[32] = "";
    if (i >= 0) {
        snprintf(at, sizeof(at), "[%ld]", i);
    }
    c->at = at;
    c->bad = 0;
    struct sl_rule *r = sl__calloc(1, sizeof(*r));
    if (r == NULL || (r->name = rule_name(c->file, i)) == NULL ||
        (r->file = sl__strdup(c->file)) == NULL) {
        sl__rule_free(r);
        return -SL_ENOMEM;
    }
    r->text = rs->texts[rs->n_texts - 1];
    r->text_len = c->text_len;
    for (size_t k = 0; k < rs->n; k++) {
        if (strcmp(rs->rules[k]->name, r->name) == 0) {
            sl__rules_problem(c, "", "rule %s is already defined by %s",
                              r->name, rs->rules[k]->file);
        }
    }
    sl__rules_read_rule(c, v, r);
    if (c->bad == 0 && !c->oom) {
        sl__rules_check(c, r, rs->reg);
    }
    c->at = NULL;
    if (c->oom) {
        sl__rule_free(r);
        return -SL_ENOMEM;
    }
    if (c->bad > 0) {
        sl__rule_free(r);
        return SL_OK;
    }
    int rc = push_rule(rs, r);
    if (rc != SL_OK) {
        sl__rule_free(r);
    }
    return rc;
}

/* A copy of a rule file's text, for its rules' sl_rule_text. */
static int keep_text(struct sl_rules *rs, const char *text, size_t len)
{
    char **v = sl__realloc(rs->texts, (rs->n_texts + 1) * sizeof(*v));
    if (v == NULL) {
        return -SL_ENOMEM;
    }
    rs->texts = v;
    char *t = sl__malloc(len + 1);
    if (t == NULL) {
        return -SL_ENOMEM;
    }
    memcpy(t, text, len);
    t[len] = '\0';
    rs->texts[rs->n_texts++] = t;
    return SL_OK;
}

int sl__rules_add_file(struct sl_rules *rs, const char *file, const char *text,
                       size_t len, struct sl_buf *problems,
                       struct sl_buf *notes, struct sl_error *err)
{
    struct sl_pc c = {.file = file,
                      .rules_dir = rs->rules_dir,
                      .rs = rs,
                      .problems = problems,
                      .notes = notes,
                      .err = err,
                      .text_len = len};
    if (keep_text(rs, text, len) != SL_OK) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory reading %s", file);
    }
    json_t *root = parse_text(&c, text, len);
    int rc = SL_OK;
    if (root != NULL && json_is_array(root)) {
        for (size_t i = 0; rc == SL_OK && i < json_array_size(root); i++) {
            rc = one_rule(rs, &c, json_array_get(root, i), (long)i);
            if (rc == SL_OK && problems == NULL && err->code != 0) {
                rc = err->code;
            }
        }
    } else if (root != NULL && json_is_object(root)) {
        rc = one_rule(rs, &c, root, -1);
    } else if (root != NULL) {
        sl__rules_problem(&c, "",
                          "a rule file holds a rule (an object) or "
                          "a list of rules");
    }
    json_decref(root);
    if (rc == -SL_ENOMEM || c.oom) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory reading %s", file);
    }
    if (rc == SL_OK && problems == NULL && err->code != 0) {
        rc = err->code;
    }
    return rc;
}

/* ---- sets
 * ------------------------------------------------------------------------ */

static int set_create(const char *gateway_dir, const struct sl_registry *reg,
                      const struct sl_rules_opts *o, struct sl_rules **out,
                      struct sl_error *err)
{
    *out = NULL;
    struct sl_rules *rs = sl__calloc(1, sizeof(*rs));
    if (rs == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory");
    }
    rs->reg = reg;
    rs->fan_out = o != NULL && o->fan_out;
    int rc = SL_OK;
    if (o != NULL && o->webhook_url != NULL &&
        (rs->webhook_url = sl__strdup(o->webhook_url)) == NULL) {
        rc = -SL_ENOMEM;
    }
    if (rc == SL_OK && gateway_dir != NULL) {
        char abs[PATH_MAX], rd[PATH_MAX + 8];
        if (realpath(gateway_dir, abs) == NULL) {
            sl_rules_destroy(rs);
            rc = SL_ERR(err, -SL_ENOTFOUND, "no gateway at %s", gateway_dir);
            sl__error_path(err, gateway_dir);
            return rc;
        }
        snprintf(rd, sizeof(rd), "%s/rules", abs);
        if ((rs->dir = sl__strdup(abs)) == NULL ||
            (rs->rules_dir = sl__strdup(rd)) == NULL) {
            rc = -SL_ENOMEM;
        }
    }
    if (rc != SL_OK) {
        sl_rules_destroy(rs);
        return SL_ERR(err, -SL_ENOMEM, "out of memory");
    }
    *out = rs;
    return SL_OK;
}

static int read_file(const char *path, char **out, size_t *out_len,
                     struct sl_error *err)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        if (f != NULL) {
            fclose(f);
        }
        int rc =
            SL_ERR(err, -SL_EIO, "cannot read %s: %s", path, strerror(errno));
        sl__error_path(err, path);
        return rc;
    }
    if ((uint64_t)st.st_size > MAX_RULE_FILE) {
        fclose(f);
        return SL_ERR(err, -SL_ELIMIT, "%s: larger than %u MB", path,
                      MAX_RULE_FILE >> 20);
    }
    char *b = sl__malloc((size_t)st.st_size + 1);
    size_t n = b != NULL ? fread(b, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (b == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory reading %s", path);
    }
    b[n] = '\0';
    *out = b;
    *out_len = n;
    return SL_OK;
}

static int load_files(struct sl_rules *rs, struct sl_buf *problems,
                      struct sl_buf *notes, struct sl_error *err)
{
    struct flist l = {0};
    int rc = list_files(rs->rules_dir, "", &l, 0);
    if (rc != SL_OK) {
        flist_release(&l);
        return rc == -SL_ENOMEM
                   ? SL_ERR(err, rc, "out of memory listing rules")
                   : SL_ERR(err, rc, "cannot list %s", rs->rules_dir);
    }
    for (size_t i = 0; rc == SL_OK && i < l.n; i++) {
        char path[PATH_MAX + 16], file[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", rs->rules_dir, l.names[i]);
        snprintf(file, sizeof(file), "rules/%s", l.names[i]);
        char *text = NULL;
        size_t len = 0;
        rc = sl__rules_seen_add(rs, path);
        if (rc != SL_OK) {
            rc = SL_ERR(err, rc, "out of memory");
            break;
        }
        struct sl_error ferr = {0};
        rc = read_file(path, &text, &len, &ferr);
        if (rc == -SL_ELIMIT && problems != NULL) {
            rc = sl__buf_printf(problems, "%s: %s\n", file, ferr.msg);
        } else if (rc != SL_OK) {
            *err = ferr;
        } else {
            rc = sl__rules_add_file(rs, file, text, len, problems, notes, err);
        }
        sl__free(text);
    }
    flist_release(&l);
    return rc;
}

int sl_rules_load(const char *gateway_dir, const struct sl_registry *reg,
                  const struct sl_rules_opts *o, struct sl_buf *problems,
                  struct sl_buf *notes, struct sl_rules **out,
                  struct sl_error *err)
{
    struct sl_rules *rs = NULL;
    int rc = set_create(gateway_dir, reg, o, &rs, err);
    rc = rc ? rc : load_files(rs, problems, notes, err);
    if (rc == SL_OK && (rc = sl__rules_index(rs)) != SL_OK) {
        rc = SL_ERR(err, rc, "out of memory indexing rules");
    }
    if (rc != SL_OK) {
        sl_rules_destroy(rs);
        return rc;
    }
    *out = rs;
    return SL_OK;
}

int sl_rules_parse(const char *name, const char *text, size_t len,
                   const char *gateway_dir, const struct sl_registry *reg,
                   const struct sl_rules_opts *o, struct sl_buf *problems,
                   struct sl_buf *notes, struct sl_rules **out,
                   struct sl_error *err)
{
    *out = NULL;
    struct sl_rules *rs = NULL;
    int rc = set_create(gateway_dir, reg, o, &rs, err);
    char file[PATH_MAX];
    snprintf(file, sizeof(file), "rules/%s", name);
    rc =
        rc ? rc : sl__rules_add_file(rs, file, text, len, problems, notes, err);
    if (rc == SL_OK && (rc = sl__rules_index(rs)) != SL_OK) {
        rc = SL_ERR(err, rc, "out of memory indexing rules");
    }
    if (rc != SL_OK) {
        sl_rules_destroy(rs);
        return rc;
    }
    *out = rs;
    return SL_OK;
}
