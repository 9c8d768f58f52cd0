/* yaml.c - a YAML rule file into the JSON model the rule reader checks
 * (libyaml's event parser; one document). Plain scalars are resolved as
 * BqTail's Go YAML decoder does for the usual spellings (YAML 1.1: null, ~,
 * true/false/yes/no/on/off, integers, floats); quoted ones stay strings.
 * rules stage. */
#include "core/common.h"

#include "rules/rules_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define MAX_DEPTH 64
#define MAX_NODES 1000000 /* aliases counted expanded: no billion laughs */

struct anchor {
    char *name;
    json_t *node;
    size_t size; /* nodes under it, aliases expanded */
};

struct frame {
    json_t *node;
    char *key;    /* a mapping's key waiting for its value, owned */
    char *anchor; /* owned */
    size_t size;
};

struct yctx {
    struct frame stack[MAX_DEPTH];
    size_t depth;
    struct anchor *anchors;
    size_t n_anchors, cap_anchors;
    size_t total;
    json_t *root;
    char *why;
    size_t why_size;
    size_t line;
};

static bool fail(struct yctx *y, size_t line, const char *msg)
{
    if (y->why[0] == '\0') {
        snprintf(y->why, y->why_size, "%s", msg);
        y->line = line;
    }
    return false;
}

static bool match_any(const char *s, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, words[i]) == 0) {
            return true;
        }
    }
    return false;
}

static json_t *number(const char *s)
{
    const char *p = s + (*s == '-' || *s == '+');
    if (*p == '\0') {
        return NULL;
    }
    char *end;
    if (strspn(p, "0123456789") == strlen(p)) {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        return errno == 0 && *end == '\0' ? json_integer(v) : NULL;
    }
    if (strncmp(p, "0x", 2) == 0 || strncmp(p, "0o", 2) == 0) {
        errno = 0;
        long long v = strtoll(p + 2, &end, p[1] == 'x' ? 16 : 8);
        if (errno != 0 || *end != '\0' || p[2] == '\0') {
            return NULL;
        }
        return json_integer(*s == '-' ? -v : v);
    }
    /* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
    size_t i = strspn(p, "0123456789");
    size_t digits = i;
    if (p[i] == '.') {
        size_t f = strspn(p + i + 1, "0123456789");
        digits += f;
        i += 1 + f;
    }
    if (digits == 0) {
        return NULL;
    }
    if (p[i] == 'e' || p[i] == 'E') {
        size_t j = i + 1 + (p[i + 1] == '-' || p[i + 1] == '+');
        size_t e = strspn(p + j, "0123456789");
        if (e == 0) {
            return NULL;
        }
        i = j + e;
    }
    return p[i] == '\0' ? json_real(strtod(s, NULL)) : NULL;
}

/* A plain scalar as YAML 1.1 resolves it. */
static json_t *plain(const char *s)
{
    static const char *const nul[] = {"", "~", "null", "Null", "NULL"};
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No",
                                     "NO",    "off",   "Off",   "OFF"};
    if (match_any(s, nul, SL_ARRAY_LEN(nul))) {
        return json_null();
    }
    if (match_any(s, yes, SL_ARRAY_LEN(yes))) {
        return json_true();
    }
    if (match_any(s, no, SL_ARRAY_LEN(no))) {
        return json_false();
    }
    json_t *n = number(s);
    return n != NULL ? n : json_string(s);
}

static json_t *scalar(const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    if (strlen(s) != ev->data.scalar.length) {
        return NULL; /* a NUL inside: not a rule's text */
    }
    if (tag != NULL && strcmp(tag, YAML_STR_TAG) == 0) {
        return json_string(s);
    }
    if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        return plain(s);
    }
    return json_string(s);
}

static bool remember(struct yctx *y, char *name, json_t *node, size_t size)
{
    for (size_t i = 0; i < y->n_anchors; i++) {
        if (strcmp(y->anchors[i].name, name) == 0) {
            /* YAML allows redefining an anchor: the latest wins */
            json_decref(y->anchors[i].node);
            free(y->anchors[i].name);
            y->anchors[i] = (struct anchor){name, json_incref(node), size};
            return true;
        }
    }
    if (y->n_anchors == y->cap_anchors) {
        size_t cap = y->cap_anchors ? 2 * y->cap_anchors : 8;
        struct anchor *a = realloc(y->anchors, cap * sizeof(*a));
        if (a == NULL) {
            free(name);
            return fail(y, 0, "out of memory");
        }
        y->anchors = a;
        y->cap_anchors = cap;
    }
    y->anchors[y->n_anchors++] = (struct anchor){name, json_incref(node), size};
    return true;
}

/* Attach a finished node (a reference taken) to its parent, or make it the
 * root. */
static bool attach(struct yctx *y, json_t *node, size_t size, char *anchor,
                   size_t line)
{
    y->total += size;
    if (y->total > MAX_NODES) {
        free(anchor);
        json_decref(node);
        return fail(y, line, "document too large (aliases expanded)");
    }
    if (anchor != NULL && !remember(y, anchor, node, size)) {
        json_decref(node);
        return false;
    }
    if (y->depth == 0) {
        if (y->root != NULL) {
            json_decref(node);
            return fail(y, line, "more than one document");
        }
        y->root = node;
        return true;
    }
    struct frame *f = &y->stack[y->depth - 1];
    f->size += size;
    if (json_is_array(f->node)) {
        return json_array_append_new(f->node, node) == 0 ||
               fail(y, line, "out of memory");
    }
    if (f->key == NULL) {
        if (!json_is_string(node)) {
            json_decref(node);
            return fail(y, line, "a mapping key must be a plain text");
        }
        f->key = strdup(json_string_value(node));
        json_decref(node);
        return f->key != NULL || fail(y, line, "out of memory");
    }
    char *key = f->key;
    f->key = NULL;
    if (json_object_get(f->node, key) != NULL) {
        char msg[200];
        snprintf(msg, sizeof(msg), "duplicate key %.120s", key);
        free(key);
        json_decref(node);
        return fail(y, line, msg);
    }
    int rc = json_object_set_new(f->node, key, node);
    free(key);
    return rc == 0 || fail(y, line, "out of memory");
}

static bool open_node(struct yctx *y, json_t *node, const yaml_char_t *anchor,
                      size_t line)
{
    if (node == NULL) {
        return fail(y, line, "out of memory");
    }
    if (y->depth == MAX_DEPTH) {
        json_decref(node);
        return fail(y, line, "nested too deeply");
    }
    char *a = anchor != NULL ? strdup((const char *)anchor) : NULL;
    y->stack[y->depth++] = (struct frame){node, NULL, a, 1};
    return true;
}

static bool close_node(struct yctx *y, size_t line)
{
    struct frame f = y->stack[--y->depth];
    free(f.key);
    return attach(y, f.node, f.size, f.anchor, line);
}

static bool alias(struct yctx *y, const yaml_event_t *ev, size_t line)
{
    const char *name = (const char *)ev->data.alias.anchor;
    for (size_t i = 0; i < y->n_anchors; i++) {
        if (strcmp(y->anchors[i].name, name) == 0) {
            return attach(y, json_incref(y->anchors[i].node),
                          y->anchors[i].size, NULL, line);
        }
    }
    return fail(y, line, "alias to an unknown anchor");
}

static bool event(struct yctx *y, const yaml_event_t *ev)
{
    size_t line = ev->start_mark.line + 1;
    switch (ev->type) {
    case YAML_MAPPING_START_EVENT:
        return open_node(y, json_object(), ev->data.mapping_start.anchor, line);
    case YAML_SEQUENCE_START_EVENT:
        return open_node(y, json_array(), ev->data.sequence_start.anchor, line);
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
        return close_node(y, line);
    case YAML_SCALAR_EVENT: {
        /* a mapping key stays text: `On:` (SideInputs) is no boolean */
        const struct frame *top = y->depth > 0 ? &y->stack[y->depth - 1] : NULL;
        bool key = top != NULL && json_is_object(top->node) && top->key == NULL;
        json_t *v =
            key ? json_string((const char *)ev->data.scalar.value) : scalar(ev);
        if (v == NULL) {
            return fail(y, line, "a scalar that is not UTF-8 text");
        }
        const yaml_char_t *a = ev->data.scalar.anchor;
        char *an = a != NULL ? strdup((const char *)a) : NULL;
        return attach(y, v, 1, an, line);
    }
    case YAML_ALIAS_EVENT:
        return alias(y, ev, line);
    default:
        return true;
    }
}

static void yctx_release(struct yctx *y)
{
    while (y->depth > 0) {
        struct frame *f = &y->stack[--y->depth];
        free(f->key);
        free(f->anchor);
        json_decref(f->node);
    }
    for (size_t i = 0; i < y->n_anchors; i++) {
        free(y->anchors[i].name);
        json_decref(y->anchors[i].node);
    }
    free(y->anchors);
}

json_t *sl__rules_yaml(const char *text, size_t len, char *why, size_t why_size,
                       size_t *out_line)
{
    struct yctx y = {.why = why, .why_size = why_size};
    why[0] = '\0';
    *out_line = 0;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    bool ok = true, done = false;
    while (ok && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            char msg[200];
            snprintf(msg, sizeof(msg), "%s%s%s",
                     p.problem ? p.problem : "syntax error",
                     p.context ? " " : "", p.context ? p.context : "");
            ok = fail(&y, p.problem_mark.line + 1, msg);
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        ok = event(&y, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    json_t *root = y.root;
    y.root = NULL;
    if (ok && root == NULL) {
        root = json_null(); /* an empty file */
    }
    yctx_release(&y);
    if (!ok) {
        json_decref(root);
        *out_line = y.line;
        return NULL;
    }
    return root;
}
