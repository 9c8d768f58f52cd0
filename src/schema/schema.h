/* schema.h - the table model: fields with BigQuery types and modes, validation
 * rules, partitioning and clustering, and the registry of tables loaded from a
 * folder of definitions. schema stage.
 *
 * Ownership: a registry owns its tables, a table owns its fields and rules.
 * Everything is immutable after sl_registry_load and may be shared by threads. */
#ifndef SL_SCHEMA_SCHEMA_H
#define SL_SCHEMA_SCHEMA_H

#include "core/common.h"
#include "core/buf.h"
#include "core/error.h"

enum sl_type {
    SL_T_STRING,
    SL_T_BYTES,
    SL_T_INT64,
    SL_T_FLOAT64,
    SL_T_NUMERIC,
    SL_T_BIGNUMERIC,
    SL_T_BOOL,
    SL_T_DATE,
    SL_T_DATETIME,
    SL_T_TIME,
    SL_T_TIMESTAMP,
    SL_T_GEOGRAPHY,
    SL_T_JSON,
    SL_T_RECORD,
    SL_T_RANGE,
    SL_T_INTERVAL, /* loadable with an explicit schema (ISO 8601 duration text) */
};

enum sl_mode { SL_M_NULLABLE, SL_M_REQUIRED, SL_M_REPEATED };

/* Options for sl_table_parse_ex / sl_registry_load_ex; zero-initialise.
 * Column names follow BigQuery's flexible column names by default
 * (docs/SCHEMAS.md §3.1). */
struct sl_schema_opts {
    bool classic_names;  /* only the classic rule: ASCII letters, digits, '_' */
    bool flexible_names; /* ignored: flexible names are the default now (kept
                            so that older callers build) */
};

/* Canonical upper-case BigQuery name ("INTEGER", "RECORD", ...). */
const char *sl_type_name(enum sl_type t);
const char *sl_mode_name(enum sl_mode m);
/* Parse a type name case-insensitively with aliases (INT64, FLOAT64, BOOL,
 * STRUCT). Returns false if unknown. */
bool sl_type_parse(const char *s, enum sl_type *out);
bool sl_mode_parse(const char *s, enum sl_mode *out);

struct pcre2_real_code_8;
struct pcre2_real_match_data_8;

/* One compiled rule check on a field ("rules" entry in a definition). */
enum sl_check_kind {
    SL_CK_REQUIRED,   /* value present and not null */
    SL_CK_MINIMUM,    /* numeric value >= num (INT64, FLOAT64, NUMERIC, BIGNUMERIC) */
    SL_CK_MAXIMUM,    /* numeric value <= num */
    SL_CK_MIN_LENGTH, /* STRING code points / BYTES bytes >= len */
    SL_CK_MAX_LENGTH, /* STRING code points / BYTES bytes <= len */
    SL_CK_ENUM,       /* textual value is one of enum_vals (exact, case-sensitive) */
    SL_CK_PATTERN,    /* textual value matches the PCRE2 pattern (anywhere, like JSON Schema) */
};

struct sl_rule_when {
    const struct sl_field *field; /* condition field (non-repeated path), borrowed */
    char *path;                   /* its dotted path, owned */
    char *equals;                 /* textual value it must equal; NULL with is_in */
    char **in_vals;               /* or one of these (owned), in_len entries */
    size_t in_len;
};

struct sl_check {
    enum sl_check_kind kind;
    double num;                   /* MINIMUM / MAXIMUM bound */
    uint64_t len;                 /* MIN_LENGTH / MAX_LENGTH */
    char **enum_vals;             /* ENUM values, owned */
    size_t enum_len;
    char *pattern;                /* PATTERN source text, owned */
    struct pcre2_real_code_8 *re; /* compiled, JIT where available; owned */
    struct sl_rule_when *when;    /* NULL = unconditional; owned */
    char *name;                   /* human name for reasons: "pattern ^...$ when primary_id_type = VIN" */
    char *path;                   /* dotted path of the field checked, owned */
};

struct sl_field {
    char *name;                   /* as written in the definition, owned */
    size_t name_len;
    enum sl_type type;
    enum sl_mode mode;
    struct sl_field *fields;      /* RECORD sub-fields (array of n_fields), owned */
    size_t n_fields;
    struct sl_field *parent;      /* enclosing RECORD, NULL at top level */
    uint32_t idx;                 /* position among its siblings */
    int64_t max_length;           /* maxLength, 0 = none */
    int precision, scale;         /* NUMERIC/BIGNUMERIC; 0,0 = type default */
    bool has_precision;           /* precision given in the definition */
    bool round_half_even;         /* roundingMode ROUND_HALF_EVEN */
    enum sl_type range_elem;      /* RANGE element type */
    int ts_precision;             /* TIMESTAMP timestampPrecision: 6 (default) or 12 */
    char *default_expr;           /* defaultValueExpression text, owned, may be NULL */
    char *description;            /* owned, may be NULL */
    char *path;                   /* dotted path from the top level, owned */
    struct sl_check *checks;      /* rules on this field (unconditional and conditional), owned */
    size_t n_checks;
    bool in_condition;            /* some rule's `when` reads this field */
    uint32_t cond_slot;           /* slot index for its value when in_condition */
    /* case-insensitive lookup of sub-fields: open addressing, cap power of 2 */
    uint32_t *lookup;             /* indexes+1 into fields, 0 = empty; owned */
    uint32_t lookup_cap;
};

enum sl_part_kind { SL_PART_NONE, SL_PART_TIME, SL_PART_RANGE };

struct sl_table {
    char *dataset;                /* owned; "main" when the file is directly in DIR */
    char *name;                   /* owned */
    char *file;                   /* definition file path, owned */
    char *description;            /* owned, may be NULL */
    struct sl_field root;         /* a RECORD holding the top-level fields */
    enum sl_part_kind part_kind;
    char *part_type;              /* "DAY" | "HOUR" | "MONTH" | "YEAR" for time partitioning, owned */
    const struct sl_field *part_field; /* borrowed, NULL for ingestion-time */
    int64_t range_start, range_end, range_interval;
    const struct sl_field **cluster; /* up to 4, borrowed pointers; array owned */
    size_t n_cluster;
    size_t n_checks;              /* total rules */
    size_t n_cond_slots;          /* fields read by `when` conditions */
    bool has_required_checks;     /* any REQUIRED-mode field or required rule */
};

struct sl_registry {
    struct sl_table **tables;     /* owned, sorted by dataset then name */
    size_t n_tables;
    char *dir;           /* the folder loaded, owned */
    uint64_t files_hash; /* every definition file's path, size and
                            modification time, as read */
};

/* Load every definition under dir (see docs/SCHEMAS.md for the layout).
 * On a definition error returns -SL_ESCHEMA with err naming the file and the
 * field path; when problems is non-NULL, every problem is appended to it as a
 * line "FILE: PATH: reason\n" (or "FILE: reason") and loading continues past
 * bad files (they are left out of the registry, both files of a duplicate
 * dataset.table too): the call then returns SL_OK with err untouched, and only
 * fails on -SL_ENOMEM, -SL_ENOTFOUND / -SL_EIO (folder unreadable).
 * Not thread-safe against changes to dir; callers may load concurrently.
 * Caller frees with sl_registry_destroy. */
SL_NODISCARD int sl_registry_load(const char *dir, struct sl_buf *problems,
                                  struct sl_registry **out, struct sl_error *err);
/* sl_registry_load with options (NULL = defaults). */
SL_NODISCARD int sl_registry_load_ex(const char *dir, const struct sl_schema_opts *opts,
                                     struct sl_buf *problems, struct sl_registry **out,
                                     struct sl_error *err);
void sl_registry_destroy(struct sl_registry *reg);

/* Have the definition files under reg->dir changed since reg was loaded (a
 * file edited, added, removed or renamed)? Lists the folder and stats each
 * file again (a few ms for a thousand files); *out_changed is set, err
 * describes a folder that cannot be listed (-SL_EIO / -SL_ENOTFOUND) or
 * -SL_ENOMEM. A long-running process or a long apply calls it before
 * committing work based on reg. */
SL_NODISCARD int sl_registry_changed(const struct sl_registry *reg,
                                     bool *out_changed, struct sl_error *err);

/* Whether s is a safe dataset / table name for a registry: ASCII letters,
 * digits and '_' (tables also '-', not first), 1..1024 bytes. These names reach
 * SQL and file paths, so nothing else is allowed. */
bool sl_dataset_name_ok(const char *s);
bool sl_table_name_ok(const char *s);

/* Find "dataset.table" or "table" (dataset main, or the only table of that name),
 * ASCII case-insensitively. Borrowed, valid until sl_registry_destroy; NULL if
 * not found or ambiguous. Thread-safe. */
const struct sl_table *sl_registry_find(const struct sl_registry *reg, const char *name);

/* Parse one definition file's JSON text into a table (dataset and name given).
 * Caller frees with sl_table_destroy. -SL_ESCHEMA with err set on a bad definition
 * (err->path = file, err->column = dotted field path, first problem only);
 * -SL_ENOMEM on allocation failure. Names use the classic rule. */
SL_NODISCARD int sl_table_parse(const char *text, size_t len, const char *file,
                                const char *dataset, const char *name,
                                struct sl_table **out, struct sl_error *err);

/* sl_table_parse with options (NULL = defaults) and a problem list: when
 * problems is non-NULL every problem found in the definition is appended as a
 * line "FILE: PATH: reason\n" (at most 100 per file), not only the first. */
SL_NODISCARD int sl_table_parse_ex(const char *text, size_t len, const char *file,
                                   const char *dataset, const char *name,
                                   const struct sl_schema_opts *opts,
                                   struct sl_buf *problems, struct sl_table **out,
                                   struct sl_error *err);
void sl_table_destroy(struct sl_table *t);

/* A view of t under another dataset and name: the same fields, rules,
 * partitioning and clustering, shared with t (which must outlive the view and
 * is not changed). For tables made from a template (a rule's
 * Schema.Template, a transient table). -SL_ENOMEM. Caller frees with
 * sl_table_view_destroy, never sl_table_destroy. Thread-safe. */
SL_NODISCARD int sl_table_view(const struct sl_table *t, const char *dataset,
                               const char *name, struct sl_table **out);
void sl_table_view_destroy(struct sl_table *v); /* NULL ok */

/* Case-insensitive (ASCII) lookup of a sub-field of a RECORD by name (len
 * bytes, need not be NUL-terminated): one hash and usually one compare.
 * Borrowed or NULL (also for a non-RECORD). Thread-safe. */
const struct sl_field *sl_field_find(const struct sl_field *rec, const char *name, size_t len);

/* Total number of field nodes (RECORD nodes and leaves). */
size_t sl_table_count_fields(const struct sl_table *t);

#endif
