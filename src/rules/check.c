/* check.c - the checks of a rule that need all of it and the registry:
 * every table template expands with known variables to a safe
 * [project:]dataset.table, fixed tables and templates exist, Transform and
 * UniqueColumns name columns that exist, SideInputs join on both aliases,
 * CopyMethod is one BqTail knows. Problems name the field. rules stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "rules/rules_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The variables a file gives and those a batch adds (template.c resolves
 * them; match.c and plan.c fill them). */
const char *const sl__rules_file_vars[] = {"Date", "Hour"};
const size_t sl__rules_n_file_vars = SL_ARRAY_LEN(sl__rules_file_vars);
const char *const sl__rules_batch_vars[] = {
    "BatchID", "EventID",   "JobID",     "LoadURIs", "URLs",    "SourceURI",
    "RuleURL", "DestTable", "TempTable", "Error",    "Response"};
const size_t sl__rules_n_batch_vars = SL_ARRAY_LEN(sl__rules_batch_vars);

/* Every variable r may use, with a value that is safe in a name. */
static int dummy_vars(const struct sl_rule *r, bool batch, struct sl_buf *b)
{
    int rc = SL_OK;
    for (size_t i = 0; rc == SL_OK && i < sl__rules_n_file_vars; i++) {
        rc = sl__rules_var_put(b, sl__rules_file_vars[i], "x1", 2);
    }
    for (size_t i = 0; rc == SL_OK && batch && i < sl__rules_n_batch_vars;
         i++) {
        rc = sl__rules_var_put(b, sl__rules_batch_vars[i], "x1", 2);
    }
    for (size_t i = 0; rc == SL_OK && i < r->n_params; i++) {
        if (r->params[i].key != NULL) {
            rc = sl__rules_var_put(b, r->params[i].key, "x1", 2);
        }
    }
    for (uint32_t g = 1; rc == SL_OK && g <= r->n_groups; g++) {
        char name[12];
        snprintf(name, sizeof(name), "%u", g);
        rc = sl__rules_var_put(b, name, "1", 1);
    }
    return rc;
}

/* A table template: known variables, a safe reference. On success, the
 * definition it names when it has no variable (NULL otherwise, or when
 * reg is NULL or it is not there). */
static bool check_ref(struct sl_pc *c, const struct sl_rule *r,
                      const char *tmpl, const char *path, bool batch,
                      const struct sl_registry *reg,
                      const struct sl_table **out_def)
{
    struct sl_buf vars, out;
    sl__buf_init(&vars);
    sl__buf_init(&out);
    char why[300], ds[1100], tb[1100];
    *out_def = NULL;
    int rc = dummy_vars(r, batch, &vars);
    struct sl_vars vs = {vars.data, vars.len, NULL, 0, "/x", NULL};
    rc = rc ? rc
            : sl__rules_expand(&vs, tmpl, SL_VX_NAME, &out, why, sizeof(why));
    bool ok = rc == SL_OK;
    if (rc == -SL_ENOMEM) {
        c->oom = true;
    } else if (rc != SL_OK) {
        sl__rules_problem(c, path, "%s", why);
    } else if (!sl__rules_table_ref(out.data, ds, sizeof(ds), tb, sizeof(tb),
                                    why, sizeof(why))) {
        sl__rules_problem(c, path, "%s", why);
        ok = false;
    } else if (!sl__rules_has_vars(tmpl) && reg != NULL) {
        char name[2300];
        snprintf(name, sizeof(name), "%s.%s", ds, tb);
        *out_def = sl_registry_find(reg, name);
    }
    sl__buf_release(&vars);
    sl__buf_release(&out);
    return ok;
}

/* A template that is no table name (Partition): its variables known. */
static void check_vars(struct sl_pc *c, const struct sl_rule *r,
                       const char *tmpl, const char *path)
{
    struct sl_buf vars, out;
    sl__buf_init(&vars);
    sl__buf_init(&out);
    char why[300];
    int rc = dummy_vars(r, false, &vars);
    struct sl_vars vs = {vars.data, vars.len, NULL, 0, "/x", NULL};
    rc = rc ? rc
            : sl__rules_expand(&vs, tmpl, SL_VX_NAME, &out, why, sizeof(why));
    if (rc == -SL_ENOMEM) {
        c->oom = true;
    } else if (rc != SL_OK) {
        sl__rules_problem(c, path, "%s", why);
    }
    sl__buf_release(&vars);
    sl__buf_release(&out);
}

/* A template table (Schema.Template, Transient.Template) must exist. */
static const struct sl_table *need_table(struct sl_pc *c,
                                         const struct sl_rule *r,
                                         const char *ref, const char *path,
                                         const struct sl_registry *reg)
{
    const struct sl_table *t = NULL;
    if (!check_ref(c, r, ref, path, false, reg, &t) || reg == NULL) {
        return NULL;
    }
    if (t == NULL) {
        sl__rules_problem(c, path, "%.200s is not in the registry (schemas/)%s",
                          ref,
                          sl__rules_has_vars(ref) ? ": a template has no "
                                                    "variables"
                                                  : "");
    }
    return t;
}

static bool has_column(const struct sl_table *t, const char *name)
{
    return sl_field_find(&t->root, name, strlen(name)) != NULL;
}

static bool ident_ok(const char *s)
{
    if (!isalpha((unsigned char)s[0]) && s[0] != '_') {
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_') {
            return false;
        }
    }
    return strlen(s) <= 128;
}

/* Does SQL text mention alias as "alias." (not inside a longer name)? */
static bool mentions(const char *sql, const char *alias)
{
    size_t n = strlen(alias);
    for (const char *p = sql; (p = strcasestr(p, alias)) != NULL; p++) {
        bool start = p == sql || (!isalnum((unsigned char)p[-1]) &&
                                  p[-1] != '_' && p[-1] != '.');
        if (start && p[n] == '.') {
            return true;
        }
    }
    return false;
}

static void check_sides(struct sl_pc *c, struct sl_rule *r,
                        const struct sl_registry *reg)
{
    for (size_t i = 0; i < r->n_sides; i++) {
        struct sl_rule_side *s = &r->sides[i];
        char p[300];
        sl__rules_pathf(p, sizeof(p), "Dest.SideInputs[%zu]", i);
        if (s->alias == NULL || s->on == NULL) {
            continue; /* already a problem */
        }
        if (!ident_ok(s->alias)) {
            sl__rules_problem(c, p, "Alias \"%.60s\" must be a plain name",
                              s->alias);
        } else if (!mentions(s->on, s->alias) || !mentions(s->on, r->alias)) {
            sl__rules_problem(c, p, "On must reference both %s. and %s.",
                              r->alias, s->alias);
        }
        const struct sl_table *t = NULL;
        if (s->table != NULL && check_ref(c, r, s->table, p, true, reg, &t) &&
            reg != NULL && t == NULL && !sl__rules_has_vars(s->table)) {
            sl__rules_problem(c, p, "Table %.200s is not in the registry",
                              s->table);
        }
    }
}

/* Transform and UniqueColumns against the definitions when they are known. */
static void check_columns(struct sl_pc *c, const struct sl_rule *r,
                          const struct sl_table *dest,
                          const struct sl_table *src)
{
    for (size_t i = 0; dest != NULL && i < r->n_transform; i++) {
        if (!has_column(dest, r->transform[i].key)) {
            char p[300];
            sl__rules_pathf(p, sizeof(p), "Dest.Transform.%s",
                            r->transform[i].key);
            sl__rules_problem(c, p, "%s.%s has no column %.100s", dest->dataset,
                              dest->name, r->transform[i].key);
        }
    }
    for (size_t i = 0; src != NULL && i < r->n_unique; i++) {
        if (!has_column(src, r->unique[i])) {
            sl__rules_problem(c, "Dest.UniqueColumns",
                              "%s.%s (what the files load into) has no "
                              "column %.100s",
                              src->dataset, src->name, r->unique[i]);
        }
    }
}

static void check_actions(struct sl_pc *c, struct sl_rule *r,
                          const struct sl_rule_action *a, size_t n,
                          const char *path)
{
    for (size_t i = 0; i < n; i++) {
        char p[300];
        sl__rules_pathf(p, sizeof(p), "%s[%zu].Request", path, i);
        const struct sl_table *t;
        const char *refs[] = {a[i].dest, a[i].source, a[i].table, a[i].exists};
        for (size_t k = 0; k < SL_ARRAY_LEN(refs); k++) {
            if (refs[k] != NULL) {
                (void)check_ref(c, r, refs[k], p, true, NULL, &t);
            }
        }
        sl__rules_pathf(p, sizeof(p), "%s[%zu].OnSuccess", path, i);
        check_actions(c, r, a[i].on_success, a[i].n_on_success, p);
        sl__rules_pathf(p, sizeof(p), "%s[%zu].OnFailure", path, i);
        check_actions(c, r, a[i].on_failure, a[i].n_on_failure, p);
    }
}

static void check_transient(struct sl_pc *c, struct sl_rule *r)
{
    if (r->alias == NULL) {
        r->alias = sl__strdup("t");
        c->oom |= r->alias == NULL;
    } else if (!ident_ok(r->alias)) {
        sl__rules_problem(c, "Dest.Transient.Alias", "must be a plain name");
    }
    if (r->transient_dataset != NULL &&
        !sl_dataset_name_ok(r->transient_dataset)) {
        sl__rules_problem(c, "Dest.Transient.Dataset",
                          "\"%.100s\" is not a safe dataset name",
                          r->transient_dataset);
    }
    if (r->copy_method != NULL && strcasecmp(r->copy_method, "COPY") != 0 &&
        strcasecmp(r->copy_method, "QUERY") != 0 &&
        strcasecmp(r->copy_method, "DML") != 0) {
        sl__rules_problem(c, "Dest.Transient.CopyMethod",
                          "must be COPY, QUERY or DML");
    }
}

void sl__rules_check(struct sl_pc *c, struct sl_rule *r,
                     const struct sl_registry *reg)
{
    check_transient(c, r);
    const struct sl_table *tmpl = NULL, *dest = NULL, *src = NULL;
    if (r->schema_template != NULL) {
        tmpl =
            need_table(c, r, r->schema_template, "Dest.Schema.Template", reg);
    }
    if (r->transient_template != NULL) {
        src = need_table(c, r, r->transient_template, "Dest.Transient.Template",
                         reg);
    }
    if (r->table != NULL &&
        check_ref(c, r, r->table, "Dest.Table", false, reg, &dest)) {
        r->table_fixed = !sl__rules_has_vars(r->table);
        if (r->table_fixed && reg != NULL && dest == NULL && tmpl == NULL &&
            r->schema_template == NULL) {
            sl__rules_problem(c, "Dest.Table",
                              "%.200s is not in the registry (schemas/) and "
                              "the rule has no Schema.Template",
                              r->table);
        }
    }
    for (size_t i = 0; i < r->n_split; i++) {
        char p[300];
        sl__rules_pathf(p, sizeof(p), "Dest.Schema.Split.Mapping[%zu].Then", i);
        const struct sl_table *t = NULL;
        if (r->split[i].value != NULL) {
            (void)check_ref(c, r, r->split[i].value, p, false, reg, &t);
        }
    }
    if (r->partition != NULL) {
        check_vars(c, r, r->partition, "Dest.Partition");
    }
    dest = dest != NULL ? dest : tmpl;
    check_columns(c, r, r->n_split > 0 ? NULL : dest, src ? src : dest);
    check_sides(c, r, reg);
    check_actions(c, r, r->on_success, r->n_on_success, "OnSuccess");
    check_actions(c, r, r->on_failure, r->n_on_failure, "OnFailure");
}
