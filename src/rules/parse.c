/* parse.c - reading one rule from the JSON model (a .json file as it is, a
 * .yaml file through yaml.c): the typed readers every part uses, the top
 * level, When, Batch and the actions; Dest is in parse_dest.c. Field names
 * match ASCII case-insensitively, as BqTail's Go decoding does. Every
 * problem names the file and the field path; BqTail fields with no local
 * meaning, and unknown ones, are notes. rules stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "rules/rules_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- problems and notes ----------------------------------------------------
 */

/* "[1].Dest.Table" for the second rule of a list. */
static void full_path(const struct sl_pc *c, const char *path, char *out,
                      size_t size)
{
    const char *at = c->at != NULL ? c->at : "";
    snprintf(out, size, "%s%s%s", at, at[0] && path[0] ? "." : "", path);
}

static void vline(struct sl_pc *c, struct sl_buf *b, const char *path,
                  const char *pre, const char *fmt, va_list ap)
{
    char msg[600], full[400];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    full_path(c, path, full, sizeof(full));
    if (b != NULL &&
        sl__buf_printf(b, "%s: %s%s%s%s\n", c->file, full,
                       full[0] != '\0' ? ": " : "", pre, msg) != SL_OK) {
        c->oom = true;
    }
}

void sl__rules_problem(struct sl_pc *c, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (c->problems != NULL) {
        vline(c, c->problems, path, "", fmt, ap);
    } else if (c->err != NULL && c->err->code == 0) {
        char msg[600], full[400];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        full_path(c, path, full, sizeof(full));
        SL_ERR(c->err, -SL_ESCHEMA, "%s: %s%s%s", c->file, full,
               full[0] != '\0' ? ": " : "", msg);
        sl__error_path(c->err, c->file);
        sl__rules_pathf(c->err->column, sizeof(c->err->column), "%s", full);
    }
    va_end(ap);
    c->bad++;
}

void sl__rules_note(struct sl_pc *c, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(c, c->notes, path, "ignored: ", fmt, ap);
    va_end(ap);
}

static void join(char *out, size_t size, const char *path, const char *key)
{
    snprintf(out, size, "%s%s%s", path, path[0] != '\0' ? "." : "", key);
}

/* ---- typed readers
 * -----------------------------------------------------------
 */

const char *sl__rules_type_name(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "true/false";
    default:
        return "null";
    }
}

bool sl__rules_str(struct sl_pc *c, json_t *v, const char *path, char **out)
{
    if (json_is_integer(v)) { /* YAML: Expression: 2024, Partition: 1 */
        char num[32];
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        sl__free(*out);
        *out = sl__strdup(num);
        c->oom |= *out == NULL;
        return *out != NULL;
    }
    if (!json_is_string(v)) {
        sl__rules_problem(c, path, "must be a string, not %s%s",
                          sl__rules_type_name(v),
                          json_is_boolean(v) ? " (quote it in YAML)" : "");
        return false;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        sl__rules_problem(c, path, "holds a NUL character");
        return false;
    }
    sl__free(*out);
    *out = sl__strdup(json_string_value(v));
    c->oom |= *out == NULL;
    return *out != NULL;
}

bool sl__rules_bool(struct sl_pc *c, json_t *v, const char *path, bool *out)
{
    if (json_is_string(v) && (strcasecmp(json_string_value(v), "true") == 0 ||
                              strcasecmp(json_string_value(v), "false") == 0)) {
        *out = strcasecmp(json_string_value(v), "true") == 0;
        return true;
    }
    if (!json_is_boolean(v)) {
        sl__rules_problem(c, path, "must be true or false, not %s",
                          sl__rules_type_name(v));
        return false;
    }
    *out = json_is_true(v);
    return true;
}

bool sl__rules_uint(struct sl_pc *c, json_t *v, const char *path, uint64_t max,
                    uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max) {
        sl__rules_problem(c, path, "must be a whole number from 0 to %llu",
                          (unsigned long long)max);
        return false;
    }
    *out = (uint64_t)json_integer_value(v);
    return true;
}

bool sl__rules_strs(struct sl_pc *c, json_t *v, const char *path, char ***out,
                    size_t *out_n)
{
    if (json_is_string(v)) { /* one value for a list: BqTail's Go too */
        json_t *a = json_array();
        if (a == NULL || json_array_append(a, v) != 0) {
            json_decref(a);
            c->oom = true;
            return false;
        }
        bool ok = sl__rules_strs(c, a, path, out, out_n);
        json_decref(a);
        return ok;
    }
    if (!json_is_array(v)) {
        sl__rules_problem(c, path, "must be a list of strings, not %s",
                          sl__rules_type_name(v));
        return false;
    }
    size_t n = json_array_size(v);
    char **s = sl__calloc(n ? n : 1, sizeof(*s));
    if (s == NULL) {
        c->oom = true;
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        char p[300];
        sl__rules_pathf(p, sizeof(p), "%s[%zu]", path, i);
        ok &= sl__rules_str(c, json_array_get(v, i), p, &s[i]);
    }
    if (!ok) {
        for (size_t i = 0; i < n; i++) {
            sl__free(s[i]);
        }
        sl__free(s);
        return false;
    }
    *out = s;
    *out_n = n;
    return true;
}

char *sl__rules_gw_path(struct sl_pc *c, const char *url, const char *path)
{
    const char *p = url;
    if (strncasecmp(p, "gs://", 5) == 0 || strncasecmp(p, "s3://", 5) == 0) {
        p = strchr(p + 5, '/'); /* the bucket is the gateway */
        p = p != NULL ? p + 1 : "";
    } else if (strncasecmp(p, "file://", 7) == 0 || p[0] == '/') {
        sl__rules_problem(c, path,
                          "\"%.100s\": give a path inside the gateway "
                          "(relative, or gs://bucket/PATH for PATH)",
                          url);
        return NULL;
    }
    while (*p == '/') {
        p++;
    }
    for (const char *s = p; *s != '\0';) {
        size_t n = strcspn(s, "/");
        if ((n == 2 && strncmp(s, "..", 2) == 0)) {
            sl__rules_problem(c, path, "\"%.100s\" leaves the gateway (..)",
                              url);
            return NULL;
        }
        s += n + (s[n] == '/');
    }
    char *out = sl__strdup(p);
    c->oom |= out == NULL;
    return out;
}

struct pcre2_real_code_8 *sl__rules_regex(struct sl_pc *c, const char *re,
                                          const char *path)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
                      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &eo, NULL);
    if (code == NULL) {
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0) {
            strcpy((char *)msg, "invalid pattern");
        }
        if (ec == PCRE2_ERROR_NOMEMORY) {
            c->oom = true;
        } else {
            sl__rules_problem(c, path, "regex error at offset %zu: %s",
                              (size_t)eo, (const char *)msg);
        }
        return NULL;
    }
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* else interpreted */
    return (struct pcre2_real_code_8 *)code;
}

/* ---- walking an object
 * -------------------------------------------------------
 */

void sl__rules_walk(struct sl_pc *c, json_t *obj, const char *path,
                    const struct sl_pfield *fs, size_t n_fs,
                    const struct sl_pignored *ig, size_t n_ig, void *target)
{
    if (!json_is_object(obj)) {
        sl__rules_problem(c, path, "must be an object, not %s",
                          sl__rules_type_name(obj));
        return;
    }
    const char *seen[64] = {0};
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        char p[300];
        join(p, sizeof(p), path, k);
        size_t i = 0;
        while (i < n_fs && strcasecmp(fs[i].name, k) != 0) {
            i++;
        }
        if (i < n_fs && i < SL_ARRAY_LEN(seen) && seen[i] != NULL) {
            sl__rules_problem(c, p, "given twice (as %s and %s)", seen[i], k);
        } else if (i < n_fs) {
            if (i < SL_ARRAY_LEN(seen)) {
                seen[i] = k;
            }
            fs[i].read(c, target, v, p);
        } else {
            size_t g = 0;
            while (g < n_ig && strcasecmp(ig[g].name, k) != 0) {
                g++;
            }
            sl__rules_note(c, p, "%s", g < n_ig ? ig[g].why : "unknown field");
        }
    }
}

/* ---- When -----------------------------------------------------------------
 */

#define RULE(t) struct sl_rule *r = (t)

static void w_prefix(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    if (sl__rules_str(c, v, p, &r->prefix)) {
        r->prefix_len = strlen(r->prefix);
    }
}

static void w_suffix(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    if (sl__rules_str(c, v, p, &r->suffix)) {
        r->suffix_len = strlen(r->suffix);
    }
}

static void w_filter(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    if (sl__rules_str(c, v, p, &r->filter) && r->filter[0] != '\0') {
        r->filter_re = sl__rules_regex(c, r->filter, p);
    }
}

static void w_exclusion(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    if (sl__rules_str(c, v, p, &r->exclusion) && r->exclusion[0] != '\0') {
        r->excl_re = sl__rules_regex(c, r->exclusion, p);
    }
}

static void read_when(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    static const struct sl_pfield fs[] = {{"Prefix", w_prefix},
                                          {"Suffix", w_suffix},
                                          {"Filter", w_filter},
                                          {"Exclusion", w_exclusion}};
    static const struct sl_pignored ig[] = {
        {"Source", "BqTail's dispatcher rules (When on BigQuery jobs) are "
                   "unused in BqTail v2 too"},
        {"Dest", "BqTail's dispatcher rules are unused in BqTail v2 too"},
        {"Type", "BqTail's dispatcher rules are unused in BqTail v2 too"}};
    sl__rules_walk(c, v, p, fs, SL_ARRAY_LEN(fs), ig, SL_ARRAY_LEN(ig), t);
}

/* ---- Batch ----------------------------------------------------------------
 */

/* A Go duration ("90s", "2m", "1h30m") or whole nanoseconds, in ms. */
static bool go_duration(json_t *v, uint64_t *out_ms)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out_ms = (uint64_t)json_integer_value(v) / 1000000u;
        return true;
    }
    if (!json_is_string(v)) {
        return false;
    }
    const char *s = json_string_value(v);
    double ms = 0;
    while (*s != '\0') {
        char *end;
        double n = strtod(s, &end);
        if (end == s || n < 0) {
            return false;
        }
        static const struct {
            const char *u;
            double ms;
        } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
        size_t i = 0;
        while (i < SL_ARRAY_LEN(units) &&
               strncmp(end, units[i].u, strlen(units[i].u)) != 0) {
            i++;
        }
        if (i == SL_ARRAY_LEN(units)) {
            return false;
        }
        ms += n * units[i].ms;
        s = end + strlen(units[i].u);
        if (!(ms <= 86400000.0)) { /* also NaN: no cast out of range */
            return false;
        }
    }
    *out_ms = (uint64_t)ms;
    return true;
}

static void b_seconds(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    uint64_t n;
    if (sl__rules_uint(c, v, p, 86400, &n)) {
        if (n == 0) {
            sl__rules_problem(c, p, "a window is at least 1 second");
        }
        r->window_ms = (uint32_t)(n * 1000);
    }
}

static void b_duration(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    uint64_t ms = 0;
    if (!go_duration(v, &ms) || ms < 1000) {
        sl__rules_problem(c, p,
                          "must be a duration of 1s to 24h (\"90s\", "
                          "\"2m\") or nanoseconds");
        return;
    }
    r->window_ms = (uint32_t)ms;
}

static void read_window(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    static const struct sl_pfield fs[] = {{"DurationInSec", b_seconds},
                                          {"Duration", b_duration}};
    sl__rules_walk(c, v, p, fs, SL_ARRAY_LEN(fs), NULL, 0, t);
}

static void b_multipath(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    (void)sl__rules_bool(c, v, p, &r->multipath);
}

static void b_pattern_hash(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    (void)sl__rules_bool(c, v, p, &r->pattern_hash);
}

static void b_max_files(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    uint64_t n;
    if (sl__rules_uint(c, v, p, 100000000, &n)) {
        r->max_files = (uint32_t)n;
    }
}

static void b_max_bytes(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    (void)sl__rules_uint(c, v, p, UINT64_MAX / 2, &r->max_bytes);
}

static void read_batch(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    static const struct sl_pfield fs[] = {{"Window", read_window},
                                          {"MultiPath", b_multipath},
                                          {"UsePatternHash", b_pattern_hash},
                                          {"MaxFiles", b_max_files},
                                          {"MaxBytes", b_max_bytes}};
    static const struct sl_pignored ig[] = {
        {"RollOver", "a testing aid in BqTail (\"do not use on prod\"): "
                     "windows are aligned to the clock"},
        {"MaxDelayInSec", "spreads BigQuery load jobs; no quota locally"},
        {"Group", "batch groups are not supported ($GroupID is unknown)"}};
    RULE(t);
    r->has_batch = true;
    r->window_ms = 95000; /* BqTail's default with a Batch and no duration */
    sl__rules_walk(c, v, p, fs, SL_ARRAY_LEN(fs), ig, SL_ARRAY_LEN(ig), t);
}

/* ---- the top level ----------------------------------------------------------
 */

static void r_disabled(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    (void)sl__rules_bool(c, v, p, &r->disabled);
}

static void r_on_success(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    sl__rules_read_actions(c, v, p, &r->on_success, &r->n_on_success);
}

static void r_on_failure(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    sl__rules_read_actions(c, v, p, &r->on_failure, &r->n_on_failure);
}

static void r_max_reload(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    uint64_t n;
    if (sl__rules_uint(c, v, p, 1000, &n)) {
        r->max_reload = (uint32_t)n;
    }
}

static void r_async(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    bool b;
    (void)t;
    if (sl__rules_bool(c, v, p, &b)) {
        sl__rules_note(c, p,
                       "the service runs every batch apart from file "
                       "arrival, as BqTail's Async does");
    }
}

static void r_info(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    (void)t;
    if (!json_is_object(v)) {
        sl__rules_problem(c, p, "must be an object, not %s",
                          sl__rules_type_name(v));
    } /* metadata: Workflow, Description, ProjectURL, LeadEngineer, URL */
}

static const struct sl_pfield rule_fields[] = {
    {"When", read_when},
    {"Dest", sl__rules_read_dest},
    {"Batch", read_batch},
    {"OnSuccess", r_on_success},
    {"OnFailure", r_on_failure},
    {"Disabled", r_disabled},
    {"MaxReload", r_max_reload},
    {"Async", r_async},
    {"Info", r_info},
};

static const struct sl_pignored rule_ignored[] = {
    {"OnLoad", "unused by BqTail too"},
    {"CounterURL", "unused by BqTail too"},
    {"CorruptedFileURL",
     "bad records go to quarantine/<table>/ with their reasons"},
    {"InvalidSchemaURL",
     "bad records go to quarantine/<table>/ with their reasons"},
    {"StalledThresholdInSec",
     "sluice.json's status.delay_threshold_seconds applies"},
};

/* One rule object into r (already named; c->at says where it is in its
 * file); problems counted in c->bad. */
void sl__rules_read_rule(struct sl_pc *c, json_t *v, struct sl_rule *r)
{
    sl_gw_load_init(&r->load);
    sl__rules_walk(c, v, "", rule_fields, SL_ARRAY_LEN(rule_fields),
                   rule_ignored, SL_ARRAY_LEN(rule_ignored), r);
    if (json_is_object(v) && r->table == NULL) {
        sl__rules_problem(c, "Dest.Table",
                          "missing: every rule names its table");
    }
}
