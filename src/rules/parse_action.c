/* parse_action.c - reading a rule's OnSuccess / OnFailure actions: Action,
 * Request (by BqTail's field names; Google-only ones reported as ignored),
 * When.Exists and the nested OnSuccess / OnFailure; what each action needs
 * is checked once it is read. rules stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "rules/rules_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- actions ----------------------------------------------------------------
 */

static void a_sql(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    (void)sl__rules_str(c, v, p, &((struct sl_rule_action *)t)->sql);
}

/* SQLURL: the file read in now (it joins the files sl_rules_changed
 * watches). A relative path is relative to the rule file's folder. */
static void a_sqlurl(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    struct sl_rule_action *a = t;
    char *url = NULL;
    if (!sl__rules_str(c, v, p, &url)) {
        return;
    }
    if (c->rules_dir == NULL || c->rs->dir == NULL) {
        sl__rules_problem(c, p, "SQLURL needs a gateway folder");
        sl__free(url);
        return;
    }
    bool gs = strncasecmp(url, "gs://", 5) == 0;
    char *rel = sl__rules_gw_path(c, url, p);
    char full[4096];
    if (rel != NULL && gs) {
        sl__rules_pathf(full, sizeof(full), "%s/%s", c->rs->dir, rel);
    } else if (rel != NULL) {
        const char *file = c->file + strlen("rules/");
        const char *slash = strrchr(file, '/');
        sl__rules_pathf(full, sizeof(full), "%s/%.*s%s%s", c->rules_dir,
                        slash != NULL ? (int)(slash - file) : 0, file,
                        slash != NULL ? "/" : "", rel);
    }
    if (rel != NULL) {
        FILE *f = fopen(full, "rb");
        struct sl_buf b;
        sl__buf_init(&b);
        char chunk[4096];
        size_t n;
        while (f != NULL && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
            c->oom |= sl__buf_append(&b, chunk, n) != SL_OK;
        }
        if (f == NULL || b.data == NULL || strlen(b.data) != b.len) {
            sl__rules_problem(c, p, "cannot read %s%s", full,
                              f != NULL ? " (empty, or a NUL inside)" : "");
            sl__buf_release(&b);
        } else {
            sl__free(a->sql);
            a->sql = b.data;
        }
        if (f != NULL) {
            fclose(f);
        }
        c->oom |= sl__rules_seen_add(c->rs, full) != SL_OK;
    }
    sl__free(rel);
    sl__free(url);
}

#define ACTION(t) struct sl_rule_action *a = (t)
#define STR_FIELD(fn, member)                                                  \
    static void fn(struct sl_pc *c, void *t, json_t *v, const char *p)         \
    {                                                                          \
        ACTION(t);                                                             \
        (void)sl__rules_str(c, v, p, &a->member);                              \
    }
STR_FIELD(a_dest, dest)
STR_FIELD(a_source, source)
STR_FIELD(a_table, table)
STR_FIELD(a_url, url)
STR_FIELD(a_method, method)
STR_FIELD(a_body, body)
STR_FIELD(a_title, title)
STR_FIELD(a_message, message)
STR_FIELD(a_from, from)
STR_FIELD(a_topic, topic)

static void a_append(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    ACTION(t);
    (void)sl__rules_bool(c, v, p, &a->append);
}

static void a_absolute(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    ACTION(t);
    (void)sl__rules_bool(c, v, p, &a->dest_absolute);
}

static void a_urls(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    ACTION(t);
    char **u = NULL;
    size_t n = 0;
    if (!sl__rules_strs(c, v, p, &u, &n)) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(u[i], "$LoadURIs") != 0 && strcmp(u[i], "$URLs") != 0) {
            char *g = sl__rules_gw_path(c, u[i], p);
            sl__free(u[i]);
            u[i] = g;
        }
    }
    for (size_t i = 0; i < a->n_urls; i++) {
        sl__free(a->urls[i]);
    }
    sl__free(a->urls);
    a->urls = u;
    a->n_urls = n;
}

static void a_dest_url(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    ACTION(t);
    char *s = NULL;
    if (sl__rules_str(c, v, p, &s)) {
        sl__free(a->dest_url);
        a->dest_url = sl__rules_gw_path(c, s, p);
    }
    sl__free(s);
}

/* A JSON value kept as its text (notify's Channels, push's Attributes and
 * Data). */
static void keep_json(struct sl_pc *c, json_t *v, char **out)
{
    sl__free(*out);
    char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    *out = d != NULL ? sl__strdup(d) : NULL;
    free(d);
    c->oom |= *out == NULL;
}

static void a_channels(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    (void)p;
    keep_json(c, v, &((struct sl_rule_action *)t)->channels);
}

static void a_attributes(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    (void)p;
    keep_json(c, v, &((struct sl_rule_action *)t)->attributes);
}

static void a_data(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    ACTION(t);
    if (json_is_string(v)) {
        (void)sl__rules_str(c, v, p, &a->body);
    } else {
        keep_json(c, v, &a->body);
    }
}

static const struct sl_pfield request_fields[] = {
    {"SQL", a_sql},
    {"SQLURL", a_sqlurl},
    {"Dest", a_dest},
    {"Append", a_append},
    {"Source", a_source},
    {"Table", a_table},
    {"URLs", a_urls},
    {"SourceURL", a_urls},
    {"SourceURLs", a_urls},
    {"DestURL", a_dest_url},
    {"IsDestAbsoluteURL", a_absolute},
    {"URL", a_url},
    {"Method", a_method},
    {"Body", a_body},
    {"Title", a_title},
    {"Message", a_message},
    {"From", a_from},
    {"Channels", a_channels},
    {"Topic", a_topic},
    {"Attributes", a_attributes},
    {"Data", a_data},
};

static const struct sl_pignored request_ignored[] = {
    {"Template", "the registry (or Dest.Schema.Template) defines tables"},
    {"DatasetID", "write the dataset in the SQL"},
    {"UseLegacy", "BigQuery legacy SQL has no local meaning"},
    {"MultiPartition", "copies whole tables"},
    {"PartitionSQL", "copies whole tables"},
    {"Auth", "no Google identity tokens locally"},
    {"Scopes", "no Google identity tokens locally"},
    {"BodyURL", "give Body"},
    {"BodyType", "the webhook gets JSON"},
    {"Token", "notify posts to a webhook URL, not the Slack API"},
    {"Secret", "notify posts to a webhook URL, not the Slack API"},
    {"ProjectID", "no projects locally"},
    {"Format", "export has no local meaning"},
    {"Compression", "export has no local meaning"},
};

static void read_request(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    sl__rules_walk(c, v, p, request_fields, SL_ARRAY_LEN(request_fields),
                   request_ignored, SL_ARRAY_LEN(request_ignored), t);
}

static void a_exists_field(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    ACTION(t);
    (void)sl__rules_str(c, v, p, &a->exists);
}

static void a_when(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    static const struct sl_pfield fs[] = {{"Exists", a_exists_field}};
    sl__rules_walk(c, v, p, fs, SL_ARRAY_LEN(fs), NULL, 0, t);
}

static void a_on_success(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    ACTION(t);
    sl__rules_read_actions(c, v, p, &a->on_success, &a->n_on_success);
}

static void a_on_failure(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    ACTION(t);
    sl__rules_read_actions(c, v, p, &a->on_failure, &a->n_on_failure);
}

static void a_action(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    ACTION(t);
    (void)sl__rules_str(c, v, p, &a->name);
}

static const struct {
    const char *name;
    enum sl_act_kind kind;
} kinds[] = {
    {"delete", SL_ACT_DELETE}, {"move", SL_ACT_MOVE},
    {"query", SL_ACT_QUERY},   {"insert", SL_ACT_QUERY},
    {"copy", SL_ACT_COPY},     {"drop", SL_ACT_DROP},
    {"call", SL_ACT_CALL},     {"notify", SL_ACT_NOTIFY},
    {"push", SL_ACT_PUSH},     {"export", SL_ACT_SKIP},
};

/* What each kind needs, once the action is read. */
static void check_action(struct sl_pc *c, struct sl_rule_action *a,
                         const char *p)
{
    char q[300];
    sl__rules_pathf(q, sizeof(q), "%s.Request", p);
    switch (a->kind) {
    case SL_ACT_QUERY:
        if (a->sql == NULL) {
            sl__rules_problem(c, q, "%s needs SQL or SQLURL", a->name);
        }
        a->append |= strcasecmp(a->name, "insert") == 0;
        break;
    case SL_ACT_COPY:
        if (a->source == NULL || a->dest == NULL) {
            sl__rules_problem(c, q, "copy needs Source and Dest");
        }
        break;
    case SL_ACT_DROP:
        if (a->table == NULL) {
            sl__rules_problem(c, q, "drop needs Table");
        }
        break;
    case SL_ACT_MOVE:
        if (a->dest_url == NULL) {
            sl__rules_problem(c, q, "move needs DestURL (a gateway path)");
        }
        break;
    case SL_ACT_CALL:
        if (a->url == NULL) {
            sl__rules_problem(c, q, "call needs URL");
        }
        break;
    case SL_ACT_SKIP:
        sl__rules_note(c, p, "%s has no local meaning: skipped when it runs",
                       a->name);
        break;
    default:
        break;
    }
}

static void read_action(struct sl_pc *c, json_t *v, const char *p,
                        struct sl_rule_action *a)
{
    static const struct sl_pfield fs[] = {{"Action", a_action},
                                          {"Request", read_request},
                                          {"When", a_when},
                                          {"OnSuccess", a_on_success},
                                          {"OnFailure", a_on_failure}};
    sl__rules_walk(c, v, p, fs, SL_ARRAY_LEN(fs), NULL, 0, a);
    if (!json_is_object(v)) {
        return;
    }
    char q[300];
    sl__rules_pathf(q, sizeof(q), "%s.Action", p);
    size_t i = 0;
    while (a->name != NULL && i < SL_ARRAY_LEN(kinds) &&
           strcasecmp(kinds[i].name, a->name) != 0) {
        i++;
    }
    if (a->name == NULL) {
        sl__rules_problem(c, q,
                          "missing (delete, move, query, copy, drop, "
                          "call, notify, push)");
    } else if (i == SL_ARRAY_LEN(kinds)) {
        sl__rules_problem(c, q,
                          "unknown action \"%.60s\" (delete, move, query, "
                          "copy, drop, call, notify, push)",
                          a->name);
    } else {
        a->kind = kinds[i].kind;
        check_action(c, a, p);
    }
}

void sl__rules_read_actions(struct sl_pc *c, json_t *v, const char *path,
                            struct sl_rule_action **out, size_t *out_n)
{
    if (!json_is_array(v)) {
        sl__rules_problem(c, path, "must be a list of actions, not %s",
                          sl__rules_type_name(v));
        return;
    }
    if (*out != NULL) {
        sl__rules_actions_free(*out, *out_n);
        *out = NULL;
        *out_n = 0;
    }
    size_t n = json_array_size(v);
    struct sl_rule_action *a = sl__calloc(n ? n : 1, sizeof(*a));
    if (a == NULL) {
        c->oom = true;
        return;
    }
    *out = a;
    *out_n = n;
    for (size_t i = 0; i < n; i++) {
        char p[300];
        sl__rules_pathf(p, sizeof(p), "%s[%zu]", path, i);
        read_action(c, json_array_get(v, i), p, &a[i]);
    }
}

void sl__rules_actions_free(struct sl_rule_action *a, size_t n)
{
    for (size_t i = 0; a != NULL && i < n; i++) {
        struct sl_rule_action *x = &a[i];
        char *strs[] = {x->name,     x->sql,      x->dest,       x->source,
                        x->table,    x->dest_url, x->url,        x->method,
                        x->body,     x->title,    x->message,    x->from,
                        x->channels, x->topic,    x->attributes, x->exists};
        for (size_t k = 0; k < SL_ARRAY_LEN(strs); k++) {
            sl__free(strs[k]);
        }
        for (size_t k = 0; k < x->n_urls; k++) {
            sl__free(x->urls[k]);
        }
        sl__free(x->urls);
        sl__rules_actions_free(x->on_success, x->n_on_success);
        sl__rules_actions_free(x->on_failure, x->n_on_failure);
    }
    sl__free(a);
}
