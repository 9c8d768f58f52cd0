/* rules_int.h - the rule model, the set, and the helpers shared inside
 * src/rules/ (reading: yaml.c, parse.c, parse_dest.c, load.c; matching:
 * match.c; variables: template.c; SQL: sqlgen.c; actions: actions.c,
 * http.c). rules stage. */
#ifndef SL_RULES_RULES_INT_H
#define SL_RULES_RULES_INT_H

#include "core/common.h"

#include "core/buf.h"
#include "gateway/config.h"
#include "rules/rules.h"

#include <jansson.h>

struct pcre2_real_code_8;

enum sl_act_kind {
    SL_ACT_DELETE,
    SL_ACT_MOVE,
    SL_ACT_QUERY,
    SL_ACT_COPY,
    SL_ACT_DROP,
    SL_ACT_CALL,
    SL_ACT_NOTIFY,
    SL_ACT_PUSH,
    SL_ACT_SKIP, /* accepted, no local meaning (export, ...): reported */
};

struct sl_rule_action {
    enum sl_act_kind kind;
    char *name;   /* as written: "query", "insert", "export", ... */
    char *sql;    /* query: SQL (SQLURL's text read in) */
    char *dest;   /* query, copy: Dest table reference */
    bool append;  /* query, copy: Append */
    char *source; /* copy: Source table reference */
    char *table;  /* drop: Table */
    char **urls;  /* delete: URLs; move: SourceURLs (NULL: $LoadURIs) */
    size_t n_urls;
    char *dest_url;     /* move: DestURL as a gateway path */
    bool dest_absolute; /* move: IsDestAbsoluteURL */
    char *url;          /* call, notify, push: where to */
    char *method;       /* call: Method (NULL: POST with Body, else GET) */
    char *body;         /* call: Body; notify: Body; push: Data */
    char *title, *message, *from; /* notify */
    char *channels;               /* notify: Channels as JSON text */
    char *topic;                  /* push: Topic */
    char *attributes;             /* push: Attributes as JSON text */
    char *exists; /* When.Exists: run only if this table exists */
    struct sl_rule_action *on_success, *on_failure;
    size_t n_on_success, n_on_failure;
};

struct sl_rule_kv {
    char *key;
    char *value;
};

struct sl_rule_side {
    char *table; /* Table reference, or NULL with from */
    char *from;  /* From: a subquery */
    char *alias;
    char *on;
    bool inner;
};

struct sl_rule {
    char *name;       /* "events", "a/b[1]" */
    char *file;       /* "rules/events.yaml" */
    const char *text; /* the file's text as read (the set's) */
    size_t text_len;
    size_t index;
    bool disabled;
    /* When */
    char *prefix, *suffix, *filter, *exclusion;
    size_t prefix_len, suffix_len;
    struct pcre2_real_code_8 *filter_re;  /* Filter, else Pattern; owned */
    struct pcre2_real_code_8 *excl_re;    /* owned */
    struct pcre2_real_code_8 *pattern_re; /* Dest.Pattern; owned */
    uint32_t n_groups;                    /* Pattern's capture groups */
    uint8_t jit;                          /* bits: filter_re, excl_re and
                                             pattern_re have JIT code */
    /* Dest */
    char *table;      /* the template text */
    bool table_fixed; /* no variable in it */
    char *pattern;
    struct sl_rule_kv *params; /* Parameters: Name -> Expression */
    size_t n_params;
    char *partition;
    bool override;
    bool has_transient;
    char *transient_dataset, *alias, *copy_method, *criteria;
    char *transient_template;
    char *schema_template;
    struct sl_rule_kv *split; /* Split.Mapping: When -> Then */
    size_t n_split;
    char **unique; /* UniqueColumns */
    size_t n_unique;
    bool against_dest;            /* UniqueColumns.Against: destination */
    char *unique_order;           /* UniqueColumns.OrderBy, or NULL */
    struct sl_rule_kv *transform; /* column -> expression, in file order */
    size_t n_transform;
    struct sl_rule_side *sides;
    size_t n_sides;
    bool allow_field_addition;
    struct sl_gw_load load; /* the options given, over bq's defaults (each
                               value checked when read) */
    json_t *load_opts;      /* the same as given: name -> value, or NULL
                               when none (sl_rules_load_options) */
    unsigned batch_flags;   /* WriteDisposition */
    /* Batch */
    bool has_batch;
    uint32_t window_ms, max_files;
    uint64_t max_bytes;
    bool multipath, pattern_hash;
    /* after */
    struct sl_rule_action *on_success, *on_failure;
    size_t n_on_success, n_on_failure;
    uint32_t max_reload;
};

/* A file the set was read from, for sl_rules_changed. */
struct sl_rules_seen {
    char *path; /* absolute */
    int64_t size, mtime_ns;
};

struct sl_rules {
    struct sl_rule **rules; /* owned, by file name then position */
    size_t n, cap;
    const struct sl_registry *reg; /* borrowed */
    bool fan_out;
    char *webhook_url; /* owned */
    char *dir;         /* the gateway, absolute, or NULL (sl_rules_parse) */
    char *rules_dir;   /* dir/rules */
    struct sl_rules_seen *seen;
    size_t n_seen, cap_seen;
    char **texts; /* each rule file's text as read, owned */
    size_t n_texts;
    /* the prefix index (match.c): enabled rules by their Prefix */
    struct sl_pbucket *buckets; /* open addressing over (len, bytes) */
    size_t n_buckets_cap;
    size_t *lens; /* distinct Prefix lengths, ascending */
    size_t n_lens;
    uint32_t *open; /* enabled rules with no Prefix */
    size_t n_open;
    uint32_t *disabled; /* disabled rules (only counted) */
    size_t n_disabled;
    uint32_t max_groups; /* the most capture groups of any regex */
};

struct sl_pbucket {
    const char *prefix; /* borrowed from a rule, NULL = empty slot */
    size_t len;
    uint32_t *rules; /* owned, ascending */
    size_t n;
};

/* ---- parsing (parse.c, parse_dest.c) ------------------------------------ */

/* Where problems and notes go while one file is read. */
struct sl_pc {
    const char *file;      /* "rules/x.yaml" */
    const char *at;        /* the rule in the file: "" or "[1]" */
    const char *rules_dir; /* for SQLURL, or NULL */
    struct sl_rules *rs;   /* for SQLURL files seen */
    size_t text_len;       /* bytes of the file's text */
    struct sl_buf *problems, *notes;
    struct sl_error *err; /* the first problem when problems is NULL */
    int bad;              /* problems in the current rule */
    bool oom;
};

void sl__rules_problem(struct sl_pc *c, const char *path, const char *fmt, ...)
    SL_PRINTF(3, 4);
void sl__rules_note(struct sl_pc *c, const char *path, const char *fmt, ...)
    SL_PRINTF(3, 4);

/* One field of an object: its name (matched ASCII case-insensitively, as
 * BqTail's Go decoding does) and what reads it. */
struct sl_pfield {
    const char *name;
    void (*read)(struct sl_pc *c, void *target, json_t *v, const char *path);
};
/* A BqTail field Sluice accepts and does not use, and why. */
struct sl_pignored {
    const char *name;
    const char *why;
};
/* Read obj's keys at path: known fields through their readers, ignored
 * ones as notes, unknown ones as notes; two keys differing only in case
 * are a problem. */
void sl__rules_walk(struct sl_pc *c, json_t *obj, const char *path,
                    const struct sl_pfield *fs, size_t n_fs,
                    const struct sl_pignored *ig, size_t n_ig, void *target);
/* "a string", "a list", ... for messages. */
const char *sl__rules_type_name(json_t *v);
/* Typed readers: a problem (and false) when v has another type. */
bool sl__rules_str(struct sl_pc *c, json_t *v, const char *path, char **out);
bool sl__rules_bool(struct sl_pc *c, json_t *v, const char *path, bool *out);
bool sl__rules_uint(struct sl_pc *c, json_t *v, const char *path, uint64_t max,
                    uint64_t *out);
bool sl__rules_strs(struct sl_pc *c, json_t *v, const char *path, char ***out,
                    size_t *out_n);
/* A gs:// URL or a path as a gateway-relative path (the bucket dropped);
 * NULL with a problem when it leaves the gateway. Caller frees. */
char *sl__rules_gw_path(struct sl_pc *c, const char *url, const char *path);
/* Compile a regex (PCRE2, JIT); NULL with a problem. */
struct pcre2_real_code_8 *sl__rules_regex(struct sl_pc *c, const char *re,
                                          const char *path);

void sl__rules_read_rule(struct sl_pc *c, json_t *v, struct sl_rule *r);
/* The variable names a file gives ($Date, $Hour) and a batch adds. */
extern const char *const sl__rules_file_vars[];
extern const size_t sl__rules_n_file_vars;
extern const char *const sl__rules_batch_vars[];
extern const size_t sl__rules_n_batch_vars;
void sl__rules_read_dest(struct sl_pc *c, void *rule, json_t *v,
                         const char *path);
/* Remember a file read (for sl_rules_changed). -SL_ENOMEM. */
SL_NODISCARD int sl__rules_seen_add(struct sl_rules *rs, const char *path);
void sl__rules_read_actions(struct sl_pc *c, json_t *v, const char *path,
                            struct sl_rule_action **out, size_t *out_n);
/* Checks that need the whole rule (and the registry). */
void sl__rules_check(struct sl_pc *c, struct sl_rule *r,
                     const struct sl_registry *reg);
/* Parse one file's text into rules appended to rs. */
SL_NODISCARD int sl__rules_add_file(struct sl_rules *rs, const char *file,
                                    const char *text, size_t len,
                                    struct sl_buf *problems,
                                    struct sl_buf *notes, struct sl_error *err);
void sl__rule_free(struct sl_rule *r);
void sl__rules_actions_free(struct sl_rule_action *a, size_t n);

/* YAML text into the same JSON model (yaml.c): mappings, sequences,
 * scalars resolved as YAML 1.1 plain scalars (null, true/false/yes/no/
 * on/off, integers, floats), anchors and aliases. NULL with why (and
 * *out_line) on a syntax error or a document too large. */
json_t *sl__rules_yaml(const char *text, size_t len, char *why, size_t why_size,
                       size_t *out_line);

/* ---- matching (match.c) ------------------------------------------------- */
SL_NODISCARD int sl__rules_index(struct sl_rules *rs);

/* ---- variables (template.c) --------------------------------------------- */

/* Where a template is expanded: into a table name (every variable must be
 * known), into SQL (values outside quotes must be plain tokens, values
 * inside '...' or "..." are escaped for them), or into plain text. */
enum sl_vctx { SL_VX_NAME, SL_VX_SQL, SL_VX_TEXT };

/* The variables a template may use. */
struct sl_vars {
    const char *packed; /* "name\0value\0"... */
    size_t packed_size;
    const char *const *sql_names; /* names whose values are SQL text (table
                                     references): spliced as they are */
    size_t n_sql_names;
    const char *path; /* for $Mod(n) */
    json_t *data;     /* $Data.x from the last call, or NULL */
};

/* Expand tmpl into out. -SL_EINVAL with why on a problem (an unknown
 * variable in a name, an unsafe value in SQL), -SL_ENOMEM. */
int sl__rules_expand(const struct sl_vars *vs, const char *tmpl,
                     enum sl_vctx cx, struct sl_buf *out, char *why,
                     size_t why_size);
/* snprintf for field paths and messages, where cutting is fine. */
void sl__rules_pathf(char *out, size_t size, const char *fmt, ...)
    SL_PRINTF(3, 4);
/* v in decimal, written backwards ending at end (no NUL); returns the
 * first digit. Matching is hot: no printf there. */
char *sl__rules_utoa(uint64_t v, char *end);
/* Append "name\0value\0" to a packed buffer. -SL_ENOMEM. */
SL_NODISCARD int sl__rules_var_put(struct sl_buf *b, const char *name,
                                   const char *value, size_t value_len);
/* A variable's value in a packed buffer, or NULL. */
const char *sl__rules_var_get(const char *packed, size_t size, const char *name,
                              size_t name_len);
/* Does a template use any variable? ($ followed by a name, digit or {) */
bool sl__rules_has_vars(const char *tmpl);

/* A table reference: "[project:]dataset.table", "project.dataset.table" or
 * "table" (dataset main). false with why when malformed or unsafe. */
bool sl__rules_table_ref(const char *ref, char *dataset, size_t ds_size,
                         char *table, size_t t_size, char *why,
                         size_t why_size);

/* ---- HTTP (http.c) ------------------------------------------------------ */

struct sl_rules_http_req {
    const char *method;       /* "GET", "POST", ... */
    const char *url;          /* http:// or https:// only */
    const char *body;         /* NULL = none */
    const char *content_type; /* of body, NULL = none */
    uint32_t timeout_ms;      /* the whole request; 0 = 30 s */
};

struct sl_rules_http_resp {
    long status;        /* HTTP status, 0 when none came */
    struct sl_buf body; /* the answer's body (caller releases) */
};

/* Send q. SL_OK for a 2xx answer; otherwise -SL_EUNAVAIL (no connection,
 * a time-out, 5xx or 429: err->sub the HTTP status or curl's code),
 * -SL_EINVAL (any other status), -SL_EUSAGE (not http/https), -SL_ENOMEM.
 * out->body holds whatever body came, also on failure. Thread-safe. */
SL_NODISCARD int sl__rules_http(const struct sl_rules_http_req *q,
                                struct sl_rules_http_resp *out,
                                struct sl_error *err);

#endif
