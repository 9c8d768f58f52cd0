/* group.c - staged files grouped by batch key: a rule's key (rule, table,
 * partition, folder, pattern groups) with the hash of the rule's text, or
 * the folder convention's table. Each group forms its own batches, one in
 * flight at a time; an idle group is let go. pipeline stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "pipeline/svc_int.h"

#include <stdio.h>
#include <string.h>

static uint64_t key_hash(const char *k)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *k; k++) {
        h = (h ^ (unsigned char)*k) * 1099511628211ULL;
    }
    return h;
}

/* A deleted slot (open addressing with tombstones). */
static struct ggroup tomb;

static struct ggroup *find(const struct svc *s, const char *key)
{
    if (s->gmap_cap == 0) {
        return NULL;
    }
    size_t m = s->gmap_cap - 1;
    for (size_t i = key_hash(key) & m;; i = (i + 1) & m) {
        struct ggroup *g = s->gmap[i];
        if (g == NULL) {
            return NULL;
        }
        if (g != &tomb && strcmp(g->key, key) == 0) {
            return g;
        }
    }
}

static void put(struct ggroup **map, size_t cap, struct ggroup *g)
{
    size_t i = key_hash(g->key) & (cap - 1);
    while (map[i] != NULL && map[i] != &tomb) {
        i = (i + 1) & (cap - 1);
    }
    map[i] = g;
}

/* Room for one more (rehashed without tombstones when needed). */
static int reserve(struct svc *s)
{
    if ((s->gmap_used + 1) * 2 <= s->gmap_cap) {
        return SL_OK;
    }
    size_t cap = 64;
    while (cap < (s->n_groups + 1) * 4) {
        cap *= 2;
    }
    struct ggroup **map = sl__calloc(cap, sizeof(*map));
    if (map == NULL) {
        return -SL_ENOMEM;
    }
    for (size_t i = 0; i < s->n_groups; i++) {
        put(map, cap, s->groups[i]);
    }
    sl__free(s->gmap);
    s->gmap = map;
    s->gmap_cap = cap;
    s->gmap_used = s->n_groups;
    return SL_OK;
}

static void group_free(struct ggroup *g)
{
    if (g != NULL) {
        sl__free(g->key);
        sl__free(g->table);
        sl__free(g->rule);
        sl__free(g->staged);
        sl__free(g);
    }
}

/* The key f batches under. */
static char *key_of(const struct gfile *f)
{
    if (f->rule == NULL || f->key == NULL) {
        return sl__strdup(f->table);
    }
    size_t n = strlen(f->src) + strlen(f->key) + 2;
    char *k = sl__malloc(n);
    if (k != NULL) {
        snprintf(k, n, "%s\x1e%s", f->src, f->key);
    }
    return k;
}

struct ggroup *group_of(struct svc *s, const struct gfile *f)
{
    char *key = key_of(f);
    if (key == NULL) {
        return NULL;
    }
    struct ggroup *g = find(s, key);
    if (g != NULL) {
        sl__free(key);
        return g;
    }
    g = sl__calloc(1, sizeof(*g));
    if (g == NULL || reserve(s) != SL_OK ||
        (g->table = sl__strdup(f->table)) == NULL ||
        (f->rule != NULL && (g->rule = sl__strdup(f->rule)) == NULL)) {
        sl__free(key);
        group_free(g);
        return NULL;
    }
    if (s->n_groups == s->cap_groups) {
        size_t cap = s->cap_groups ? 2 * s->cap_groups : 16;
        struct ggroup **v = sl__realloc(s->groups, cap * sizeof(*v));
        if (v == NULL) {
            sl__free(key);
            group_free(g);
            return NULL;
        }
        s->groups = v;
        s->cap_groups = cap;
    }
    g->key = key;
    g->tix = f->tix;
    g->lim = f->lim;
    snprintf(g->src, sizeof(g->src), "%s", f->src);
    s->groups[s->n_groups++] = g;
    put(s->gmap, s->gmap_cap, g);
    s->gmap_used++;
    return g;
}

int staged_push(struct svc *s, struct gfile *f)
{
    struct ggroup *g = group_of(s, f);
    if (g == NULL) {
        return -SL_ENOMEM;
    }
    if (g->n_staged == g->cap_staged) {
        size_t cap = g->cap_staged ? 2 * g->cap_staged : 64;
        struct gfile **v = sl__realloc(g->staged, cap * sizeof(*v));
        if (v == NULL) {
            return -SL_ENOMEM;
        }
        g->staged = v;
        g->cap_staged = cap;
    }
    g->staged[g->n_staged++] = f;
    g->staged_bytes += (uint64_t)f->size;
    return SL_OK;
}

void groups_sweep(struct svc *s)
{
    for (size_t i = s->n_groups; i-- > 0;) {
        struct ggroup *g = s->groups[i];
        if (g->n_staged > 0 || g->batch != NULL) {
            continue;
        }
        size_t m = s->gmap_cap - 1;
        for (size_t k = key_hash(g->key) & m; s->gmap[k] != NULL;
             k = (k + 1) & m) {
            if (s->gmap[k] == g) {
                s->gmap[k] = &tomb;
                break;
            }
        }
        s->groups[i] = s->groups[--s->n_groups];
        group_free(g);
    }
}

void groups_free(struct svc *s)
{
    for (size_t i = 0; i < s->n_groups; i++) {
        struct gbatch *b = s->groups[i]->batch;
        if (b != NULL) {
            sl__free(b->files);
            sl__free(b->plan);
            sl__free(b);
        }
        group_free(s->groups[i]);
    }
    sl__free(s->groups);
    sl__free(s->gmap);
    s->groups = NULL;
    s->gmap = NULL;
    s->n_groups = s->cap_groups = s->gmap_cap = s->gmap_used = 0;
}
