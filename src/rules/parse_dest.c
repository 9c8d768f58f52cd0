/* parse_dest.c - a rule's Dest (table template, Pattern and Parameters,
 * Partition, Override, Transient, Schema with Template and Split,
 * UniqueColumns, Transform, SideInputs, BigQuery's load options) and the
 * checks that need the whole rule and the registry. rules stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "rules/rules_int.h"
#include "warehouse/driver.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define RULE(t) struct sl_rule *r = (t)
#define STR_FIELD(fn, member)                                                  \
    static void fn(struct sl_pc *c, void *t, json_t *v, const char *p)         \
    {                                                                          \
        RULE(t);                                                               \
        (void)sl__rules_str(c, v, p, &r->member);                              \
    }
STR_FIELD(d_table, table)
STR_FIELD(d_partition, partition)
STR_FIELD(t_dataset, transient_dataset)
STR_FIELD(t_alias, alias)
STR_FIELD(t_copy_method, copy_method)
STR_FIELD(t_criteria, criteria)
STR_FIELD(t_template, transient_template)
STR_FIELD(s_template, schema_template)

static void d_pattern(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    if (!sl__rules_str(c, v, p, &r->pattern) || r->pattern[0] == '\0') {
        return;
    }
    r->pattern_re = sl__rules_regex(c, r->pattern, p);
    if (r->pattern_re != NULL) {
        (void)pcre2_pattern_info((pcre2_code *)r->pattern_re,
                                 PCRE2_INFO_CAPTURECOUNT, &r->n_groups);
    }
}

static void d_override(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    (void)sl__rules_bool(c, v, p, &r->override);
}

static void d_allow_add(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    (void)sl__rules_bool(c, v, p, &r->allow_field_addition);
}

/* A list of {A: ..., B: ...} objects into key/value pairs. */
static void read_pairs(struct sl_pc *c, json_t *v, const char *path,
                       const char *ka, const char *kb, struct sl_rule_kv **out,
                       size_t *out_n)
{
    if (!json_is_array(v)) {
        sl__rules_problem(c, path, "must be a list of {%s, %s}", ka, kb);
        return;
    }
    size_t n = json_array_size(v);
    struct sl_rule_kv *kv = sl__calloc(n ? n : 1, sizeof(*kv));
    if (kv == NULL) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        char p[300];
        sl__rules_pathf(p, sizeof(p), "%s[%zu]", path, i);
        if (!json_is_object(e)) {
            sl__rules_problem(c, p, "must be an object {%s, %s}", ka, kb);
            continue;
        }
        const char *k;
        json_t *x;
        json_object_foreach(e, k, x)
        {
            char q[340];
            sl__rules_pathf(q, sizeof(q), "%s.%s", p, k);
            if (strcasecmp(k, ka) == 0) {
                (void)sl__rules_str(c, x, q, &kv[i].key);
            } else if (strcasecmp(k, kb) == 0) {
                (void)sl__rules_str(c, x, q, &kv[i].value);
            } else {
                sl__rules_note(c, q, "unknown field");
            }
        }
        if (kv[i].key == NULL || kv[i].value == NULL) {
            sl__rules_problem(c, p, "needs %s and %s", ka, kb);
        }
    }
    *out = kv;
    *out_n = n;
}

static void d_parameters(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    read_pairs(c, v, p, "Name", "Expression", &r->params, &r->n_params);
}

static void d_transform(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    if (!json_is_object(v)) {
        sl__rules_problem(c, p, "must be an object: column -> SQL expression");
        return;
    }
    size_t n = json_object_size(v);
    r->transform = sl__calloc(n ? n : 1, sizeof(*r->transform));
    if (r->transform == NULL) {
        c->oom = true;
        return;
    }
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        char q[340];
        sl__rules_pathf(q, sizeof(q), "%s.%s", p, k);
        struct sl_rule_kv *kv = &r->transform[r->n_transform];
        if (sl__rules_str(c, x, q, &kv->value)) {
            kv->key = sl__strdup(k);
            c->oom |= kv->key == NULL;
            r->n_transform++;
        }
    }
}

static void side_field(struct sl_pc *c, struct sl_rule_side *s, const char *k,
                       json_t *x, const char *q)
{
    if (strcasecmp(k, "Table") == 0) {
        (void)sl__rules_str(c, x, q, &s->table);
    } else if (strcasecmp(k, "From") == 0) {
        (void)sl__rules_str(c, x, q, &s->from);
    } else if (strcasecmp(k, "Alias") == 0) {
        (void)sl__rules_str(c, x, q, &s->alias);
    } else if (strcasecmp(k, "On") == 0) {
        (void)sl__rules_str(c, x, q, &s->on);
    } else if (strcasecmp(k, "Inner") == 0) {
        (void)sl__rules_bool(c, x, q, &s->inner);
    } else {
        sl__rules_note(c, q, "unknown field");
    }
}

static void d_side_inputs(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    if (!json_is_array(v)) {
        sl__rules_problem(c, p, "must be a list of {Table|From, Alias, On}");
        return;
    }
    size_t n = json_array_size(v);
    r->sides = sl__calloc(n ? n : 1, sizeof(*r->sides));
    if (r->sides == NULL) {
        c->oom = true;
        return;
    }
    r->n_sides = n;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        char q[300];
        sl__rules_pathf(q, sizeof(q), "%s[%zu]", p, i);
        if (!json_is_object(e)) {
            sl__rules_problem(c, q,
                              "must be an object {Table|From, Alias, "
                              "On}");
            continue;
        }
        const char *k;
        json_t *x;
        json_object_foreach(e, k, x)
        {
            char qk[340];
            sl__rules_pathf(qk, sizeof(qk), "%s.%s", q, k);
            side_field(c, &r->sides[i], k, x, qk);
        }
        struct sl_rule_side *s = &r->sides[i];
        if ((s->table == NULL) == (s->from == NULL) || s->alias == NULL ||
            s->on == NULL) {
            sl__rules_problem(c, q, "needs Table or From (one), Alias and On");
        }
    }
}

/* UniqueColumns: a list (BqTail), or our {Columns, Against, OrderBy}. */
static void d_unique(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    if (!json_is_object(v)) {
        (void)sl__rules_strs(c, v, p, &r->unique, &r->n_unique);
        return;
    }
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        char q[340];
        sl__rules_pathf(q, sizeof(q), "%s.%s", p, k);
        char *s = NULL;
        if (strcasecmp(k, "Columns") == 0) {
            (void)sl__rules_strs(c, x, q, &r->unique, &r->n_unique);
        } else if (strcasecmp(k, "OrderBy") == 0) {
            (void)sl__rules_str(c, x, q, &r->unique_order);
        } else if (strcasecmp(k, "Against") == 0 &&
                   sl__rules_str(c, x, q, &s)) {
            if (strcasecmp(s, "destination") == 0) {
                r->against_dest = true;
            } else if (strcasecmp(s, "batch") != 0) {
                sl__rules_problem(c, q,
                                  "must be \"batch\" or "
                                  "\"destination\"");
            }
        } else if (strcasecmp(k, "Against") != 0) {
            sl__rules_note(c, q, "unknown field");
        }
        sl__free(s);
    }
    if (r->n_unique == 0) {
        sl__rules_problem(c, p, "needs Columns");
    }
}

static void read_transient(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    static const struct sl_pfield fs[] = {{"Dataset", t_dataset},
                                          {"Alias", t_alias},
                                          {"CopyMethod", t_copy_method},
                                          {"Criteria", t_criteria},
                                          {"Template", t_template}};
    static const struct sl_pignored ig[] = {
        {"ProjectID", "no projects locally"},
        {"Region", "no regions locally"},
        {"Balancer", "no projects (or load-job quota) to balance locally"}};
    RULE(t);
    r->has_transient = true;
    sl__rules_walk(c, v, p, fs, SL_ARRAY_LEN(fs), ig, SL_ARRAY_LEN(ig), t);
}

static void d_transient_dataset(struct sl_pc *c, void *t, json_t *v,
                                const char *p)
{
    RULE(t);
    r->has_transient = true; /* BqTail's deprecated spelling */
    (void)sl__rules_str(c, v, p, &r->transient_dataset);
}

static void split_mapping(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    read_pairs(c, v, p, "When", "Then", &r->split, &r->n_split);
}

static void read_split(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    static const struct sl_pfield fs[] = {{"Mapping", split_mapping}};
    static const struct sl_pignored ig[] = {
        {"ClusterColumns", "the transient table is not clustered locally: "
                           "each mapping's WHERE reads it whole"},
        {"TimeColumn", "the transient table is not partitioned locally"}};
    sl__rules_walk(c, v, p, fs, SL_ARRAY_LEN(fs), ig, SL_ARRAY_LEN(ig), t);
}

static void read_schema(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    static const struct sl_pfield fs[] = {{"Template", s_template},
                                          {"Split", read_split}};
    static const struct sl_pignored ig[] = {
        {"Autodetect", "the registry (or Template) defines every table; "
                       "`sluice schema infer` writes a definition"}};
    sl__rules_walk(c, v, p, fs, SL_ARRAY_LEN(fs), ig, SL_ARRAY_LEN(ig), t);
}

static void d_write_disposition(struct sl_pc *c, void *t, json_t *v,
                                const char *p)
{
    RULE(t);
    char *s = NULL;
    if (!sl__rules_str(c, v, p, &s)) {
        return;
    }
    if (strcasecmp(s, "WRITE_TRUNCATE") == 0) {
        r->batch_flags = SL_BATCH_TRUNCATE;
        r->override = true;
    } else if (strcasecmp(s, "WRITE_EMPTY") == 0) {
        r->batch_flags = SL_BATCH_EMPTY;
    } else if (strcasecmp(s, "WRITE_APPEND") != 0) {
        sl__rules_problem(c, p,
                          "must be WRITE_APPEND, WRITE_TRUNCATE or "
                          "WRITE_EMPTY");
    }
    sl__free(s);
}

static void d_update_options(struct sl_pc *c, void *t, json_t *v, const char *p)
{
    RULE(t);
    char **o = NULL;
    size_t n = 0;
    if (!sl__rules_strs(c, v, p, &o, &n)) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(o[i], "ALLOW_FIELD_ADDITION") == 0) {
            r->allow_field_addition = true;
        } else {
            sl__rules_note(c, p,
                           "%.60s: only ALLOW_FIELD_ADDITION is "
                           "supported",
                           o[i]);
        }
        sl__free(o[i]);
    }
    sl__free(o);
}

static const struct sl_pfield dest_fields[] = {
    {"Table", d_table},
    {"Pattern", d_pattern},
    {"Parameters", d_parameters},
    {"Partition", d_partition},
    {"Override", d_override},
    {"Transient", read_transient},
    {"TransientDataset", d_transient_dataset},
    {"Schema", read_schema},
    {"UniqueColumns", d_unique},
    {"Transform", d_transform},
    {"SideInputs", d_side_inputs},
    {"AllowFieldAddition", d_allow_add},
    {"WriteDisposition", d_write_disposition},
    {"SchemaUpdateOptions", d_update_options},
};

#define NO_TABLE_OPT "the registry's definition gives it"
static const struct sl_pignored dest_ignored[] = {
    {"Expiry", "tables do not expire locally"},
    {"CreateDisposition", "tables are created from the registry or "
                          "Schema.Template"},
    {"UseAvroLogicalTypes", "Sluice reads NDJSON and CSV"},
    {"Autodetect", "the registry (or Schema.Template) defines every table"},
    {"Clustering", NO_TABLE_OPT},
    {"TimePartitioning", NO_TABLE_OPT},
    {"RangePartitioning", NO_TABLE_OPT},
    {"DestinationTable", "Dest.Table names the table"},
    {"SourceUris", "the batch's files are the sources"},
    {"ProjectionFields", "Sluice reads NDJSON and CSV"},
    {"HivePartitioningOptions", "no hive partitioning locally"},
    {"DestinationEncryptionConfiguration", "no Cloud KMS locally"},
    {"DecimalTargetTypes", "NUMERIC types come from the definition"},
    {"JsonExtension", "NDJSON is read as it is"},
    {"ParquetOptions", "Sluice reads NDJSON and CSV"},
    {"PreserveAsciiControlCharacters", "CSV control characters are kept"},
    {"ReferenceFileSchemaUri", "the registry defines every table"},
    {"ConnectionProperties", "no BigQuery sessions locally"},
    {"CreateSession", "no BigQuery sessions locally"},
    {"FileSetSpecType", "the batch's files are the sources"},
    {"ColumnNameCharacterMap", "column names come from the definition"},
    {"DestinationTableProperties", NO_TABLE_OPT},
    {"JobTimeoutMs", "no BigQuery jobs locally"},
    {"Labels", "no BigQuery jobs locally"},
};

/* BigQuery's load options by their JSON names (case-insensitive here), as
 * gateway/config.c maps them. */
static const char *const load_names[] = {
    "SourceFormat",    "MaxBadRecords",       "IgnoreUnknownValues",
    "SkipLeadingRows", "FieldDelimiter",      "Quote",
    "AllowJaggedRows", "AllowQuotedNewlines", "NullMarker",
    "Encoding",        "MaxRowSize",          "MaxValueSize"};

void sl__rules_read_dest(struct sl_pc *c, void *t, json_t *v, const char *path)
{
    RULE(t);
    if (!json_is_object(v)) {
        sl__rules_walk(c, v, path, NULL, 0, NULL, 0, t); /* the problem */
        return;
    }
    json_t *rest = json_object();
    if (rest == NULL) {
        c->oom = true;
        return;
    }
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        size_t i = 0;
        while (i < SL_ARRAY_LEN(load_names) && strcasecmp(k, load_names[i])) {
            i++;
        }
        if (i == SL_ARRAY_LEN(load_names)) {
            c->oom |= json_object_set(rest, k, x) != 0;
            continue;
        }
        char p[300];
        sl__rules_pathf(p, sizeof(p), "%s.%s", path, k);
        /* (a bad value, 2, and -SL_ENOMEM are both reported as a value
           it cannot take) */
        int rc =
            sl_gw_load_option(&r->load, load_names[i], x, c->file, p, NULL);
        if (rc != 0) {
            sl__rules_problem(c, p, "bad value for the load option %s%s",
                              load_names[i],
                              i == 0 ? " (NEWLINE_DELIMITED_JSON or CSV)" : "");
        } else if (r->load_opts == NULL &&
                   (r->load_opts = json_object()) == NULL) {
            c->oom = true;
        } else {
            c->oom |= json_object_set(r->load_opts, load_names[i], x) != 0;
        }
    }
    sl__rules_walk(c, rest, path, dest_fields, SL_ARRAY_LEN(dest_fields),
                   dest_ignored, SL_ARRAY_LEN(dest_ignored), t);
    json_decref(rest);
}

int sl_rules_load_options(const struct sl_rules_dest *d,
                          const struct sl_gw_load *base, struct sl_gw_load *out)
{
    struct sl_gw_load dflt;
    sl_gw_load_init(&dflt);
    int rc = sl_gw_load_copy(out, base != NULL ? base : &dflt);
    if (rc != SL_OK) {
        return rc;
    }
    const char *k;
    json_t *v;
    json_object_foreach(d->rule->load_opts, k, v)
    {
        /* checked when the rule was read: only memory can fail here */
        if (sl_gw_load_option(out, k, v, "", "", NULL) != 0) {
            sl_gw_load_release(out);
            return -SL_ENOMEM;
        }
    }
    return SL_OK;
}
