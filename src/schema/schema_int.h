/* schema_int.h - schema internals shared by types.c, table.c, rules.c and
 * registry.c; not for use outside src/schema/. schema stage. */
#ifndef SL_SCHEMA_SCHEMA_INT_H
#define SL_SCHEMA_SCHEMA_INT_H

#include "core/buf.h"
#include "core/common.h"
#include "core/error.h"
#include "schema/schema.h"

#include <jansson.h>

#define SL_SCHEMA_MAX_NAME_CHARS  300   /* column name, BIGQUERY.md §1.5 */
#define SL_SCHEMA_MAX_DEPTH       15    /* RECORD nesting levels, §1.6 */
#define SL_SCHEMA_MAX_FIELDS      10000 /* field nodes per table, §1.6 */
#define SL_SCHEMA_MAX_DESC_CHARS  1024  /* column description, §1.6 */
#define SL_SCHEMA_MAX_TDESC_CHARS 16384 /* table description, §1.6 */
#define SL_SCHEMA_MAX_CLUSTER     4     /* clustering columns, §4.9 */
#define SL_SCHEMA_MAX_RANGES      10000 /* integer-range partitions, §4.8 */
#define SL_SCHEMA_MAX_IDENT       1024  /* dataset / table name bytes, §1.5 */
#define SL_SCHEMA_MAX_PROBLEMS    100   /* problem lines kept per file */

/* Parse state of one definition: the first problem goes to err, every problem
 * to problems (when non-NULL); parsing goes on after a problem where it can. */
struct sl_pctx {
    const char *file;                  /* borrowed, for messages */
    const struct sl_schema_opts *opts; /* never NULL */
    struct sl_buf *problems;           /* may be NULL */
    struct sl_error *err;              /* may be NULL */
    size_t n_problems;                 /* problems seen in this file */
    int oom;        /* -SL_ENOMEM once an allocation failed */
    size_t n_nodes; /* field nodes so far */
};

/* Report a problem at dotted path `column` ("" for none). Always returns
 * -SL_ESCHEMA (or -SL_ENOMEM when the problem list cannot grow). */
int sl__schema_fail(struct sl_pctx *c, const char *column, const char *fmt, ...)
    SL_PRINTF(3, 4);
/* Record an allocation failure; returns -SL_ENOMEM. */
int sl__schema_oom(struct sl_pctx *c);

/* If s (case-insensitive) is a SQL-only alias or another name BigQuery refuses
 * in a schema, a hint such as "use INTEGER (or INT64)"; otherwise NULL. */
const char *sl__schema_type_hint(const char *s);

/* Case-insensitive sub-field lookup returning a mutable field (parse time). */
struct sl_field *sl__field_find_mut(struct sl_field *rec, const char *name,
                                    size_t len);

/* Resolve a dotted path from the table root; sets *out_rep_ancestor when some
 * RECORD on the way (not the target itself) is REPEATED. NULL if a segment
 * is missing or goes through a non-RECORD. */
struct sl_field *sl__schema_resolve(struct sl_table *t, const char *path,
                                    bool *out_rep_ancestor);

/* Compile the "rules" array of a definition into field checks. */
int sl__rules_compile(struct sl_pctx *c, struct sl_table *t, json_t *rules);
/* Free one field's checks. */
void sl__rules_free_checks(struct sl_field *f);

/* Number of UTF-8 code points in s (bytes that are not continuation bytes). */
size_t sl__utf8_chars(const char *s, size_t n);

/* Read an int64 given as a JSON integer or a JSON string of decimal digits
 * (Google's JSON mapping of int64). false if neither. */
bool sl__json_int64(const json_t *v, int64_t *out);

/* ---- fields.c ---------------------------------------------------------- */

/* Parse the JSON array arr of field objects into rec's sub-fields; depth is
 * rec's RECORD nesting level. Problems go to c; negative only on ENOMEM. */
SL_NODISCARD int sl__schema_parse_fields(struct sl_pctx *c, struct sl_field *rec,
                                         json_t *arr, int depth);
/* Free what f owns (sub-fields, names, checks); f itself is not freed. */
void sl__schema_field_release(struct sl_field *f);
/* obj[key], or NULL when absent or JSON null. Borrowed. */
json_t *sl__schema_opt(json_t *obj, const char *key);

#endif
