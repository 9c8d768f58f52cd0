/* plan.h - schema evolution without a warehouse: a definition written back as
 * canonical JSON (what a warehouse records of an applied definition), and the
 * difference between the definition a table has and the one the registry
 * wants, as a list of typed changes, each safe or unsafe with the reason and
 * what the user can do (docs/EVOLUTION.md). Every warehouse driver shares it.
 * schema stage. */
#ifndef SL_SCHEMA_PLAN_H
#define SL_SCHEMA_PLAN_H

#include "core/buf.h"
#include "core/common.h"
#include "core/error.h"
#include "schema/schema.h"

/* ---- canonical JSON ------------------------------------------------------ */

/* Append t as one line of JSON in Sluice's object form: description, fields
 * (name, type, mode, and each property that is set), partitioning and
 * clustering; rules are left out (they do not shape the warehouse table).
 * Parsing the text again gives an equal table, and writing that one gives the
 * same bytes, so equal texts mean equal tables. -SL_ENOMEM. */
SL_NODISCARD int sl_table_write_json(const struct sl_table *t,
                                     struct sl_buf *out);

/* Append one field object (and its sub-fields) in the same canonical form.
 * -SL_ENOMEM. */
SL_NODISCARD int sl_field_write_json(const struct sl_field *f,
                                     struct sl_buf *out);

/* Give dst the partitioning and clustering of src, their columns found in
 * dst by name (a part whose column dst lacks is left out). For a warehouse
 * that keeps them outside its catalog. -SL_ENOMEM. */
SL_NODISCARD int sl_table_copy_layout(struct sl_table *dst,
                                      const struct sl_table *src);

/* A short fingerprint of a canonical JSON text: 16 hex digits of its FNV-1a
 * hash and a NUL (for change detection, not security). */
void sl_def_hash(const char *json, size_t len, char out[17]);

/* ---- the difference between two definitions ----------------------------- */

enum sl_change_kind {
    SL_CH_CREATE,       /* the table does not exist yet */
    SL_CH_ADD,          /* a new NULLABLE or REPEATED field, at the end */
    SL_CH_RELAX,        /* REQUIRED -> NULLABLE */
    SL_CH_WIDEN,        /* a type change BigQuery makes in place (see .c) */
    SL_CH_RENAME_CASE,  /* only the case of a name changes */
    SL_CH_DESCRIPTION,  /* a table or field description */
    SL_CH_PARTITIONING, /* the partitioning spec */
    SL_CH_CLUSTERING,   /* the clustering columns */
    SL_CH_OPTION,       /* defaultValueExpression, roundingMode */
    /* unsafe from here on */
    SL_CH_DROP,         /* a field no longer defined */
    SL_CH_RENAME,       /* same position and type, another name */
    SL_CH_TYPE,         /* a type change that is not a widening */
    SL_CH_REQUIRE,      /* NULLABLE -> REQUIRED */
    SL_CH_REPEATED,     /* REPEATED added or removed */
    SL_CH_ADD_REQUIRED, /* a new REQUIRED field where rows exist */
    SL_CH_REORDER,      /* a new field not at the end, or fields moved */
    SL_CH_DRIFT,        /* the table was changed outside Sluice */
};

struct sl_change {
    enum sl_change_kind kind;
    bool safe;    /* applied by a plain apply */
    bool blocked; /* unsafe and impossible in place, even with
                     --allow-unsafe */
    char *path;   /* dotted field path; "" for the table; owned */
    const struct sl_field *from; /* the field as it is; borrowed, may be NULL */
    const struct sl_field *to; /* the field as wanted; borrowed, may be NULL */
    char *what;   /* one line, e.g. "add column note STRING"; owned */
    char *reason; /* why it is unsafe; NULL when safe; owned */
    char *advice; /* what the user can do; NULL when safe; owned */
};

/* The changes that take one table from `have` to `want`. */
struct sl_plan {
    const struct sl_table *have; /* borrowed; NULL: the table does not exist */
    const struct sl_table *want; /* borrowed */
    struct sl_change *changes;   /* owned, in the order to apply them */
    size_t n_changes;
    size_t n_unsafe;  /* changes with safe == false */
    size_t n_blocked; /* of which blocked */
};

/* Compute the changes from have (NULL for a new table) to want into *out
 * (zeroed first; release with sl_plan_release, also after a failure). Fields
 * are matched by name, case-insensitively as BigQuery does. Both tables must
 * outlive the plan. -SL_ENOMEM only. Thread-safe. */
SL_NODISCARD int sl_plan_diff(const struct sl_table *have,
                              const struct sl_table *want, struct sl_plan *out,
                              struct sl_error *err);

/* Add a table-level unsafe change of kind SL_CH_DRIFT to p, first in the
 * list: the warehouse found the table changed outside Sluice (detail says
 * how). -SL_ENOMEM. */
SL_NODISCARD int sl_plan_add_drift(struct sl_plan *p, const char *detail);

/* Free what p owns; p may be reused after. NULL is a no-op. */
void sl_plan_release(struct sl_plan *p);

/* "create", "add", "relax", "widen", ... as in docs/EVOLUTION.md's JSON. */
const char *sl_change_kind_name(enum sl_change_kind k);

/* Append a field's type as a person reads it: "INTEGER", "NUMERIC(12,2)",
 * "STRING(64)", "RANGE<DATE>", "RECORD<a INTEGER, b STRING>" (members listed
 * up to a few), "REPEATED ..." and " REQUIRED" as the mode says. */
SL_NODISCARD int sl_field_type_text(const struct sl_field *f,
                                    struct sl_buf *out);

#endif
