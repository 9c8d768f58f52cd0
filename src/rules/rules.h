/* rules.h - ingestion rules in BqTail's format (docs/RULES.md): which files
 * (When), which table (Dest.Table templates over the path and the file's
 * time), how to batch (Batch), how rows go from a transient table to the
 * destination (Transform, SideInputs, UniqueColumns, Split, Partition with
 * Override: SQL generated here), and what runs afterwards (OnSuccess /
 * OnFailure actions). rules stage.
 *
 * The flow for the service: sl_rules_load a gateway's rules/ against its
 * registry; sl_rules_match each claimed file (none: the folder convention
 * applies); files whose destinations share a batch_key form a batch; for a
 * batch sl_rules_plan gives the tables to ensure, the table the rows load
 * into, the SQL run in the load's transaction (struct sl_batch.post_sql) and
 * the cleanup; after the commit (or the failure) sl_rules_run_actions.
 *
 * Ownership and threads: a set is immutable once loaded and borrows the
 * registry (which must outlive it). sl_rules_match and sl_rules_plan only
 * read the set and may run on any number of threads at once.
 * sl_rules_run_actions uses the warehouse handle it is given (one thread at
 * a time, as every driver call). Nothing here logs or prints. */
#ifndef SL_RULES_RULES_H
#define SL_RULES_RULES_H

#include "core/buf.h"
#include "core/common.h"
#include "core/error.h"
#include "gateway/config.h"
#include "schema/schema.h"
#include "warehouse/driver.h"

struct sl_rules; /* a loaded rule set (rules_int.h) */
struct sl_rule;  /* one rule of a set */

struct sl_rules_opts {
    bool fan_out; /* a file matching several enabled rules feeds each one's
                     table (our addition); false: an error, as BqTail */
    const char *webhook_url; /* where notify and push post when the action
                                gives no Request.URL; NULL = nowhere (copied) */
};

/* ---- loading ------------------------------------------------------------ */

/* Read every DIR/rules/ file named *.json, *.yaml or *.yml (sub-folders
 * too; a file holds one rule or a list; a rule's name is the file's path
 * under rules/ without the extension, "[i]" added for a list's i-th rule).
 * reg is borrowed (tables and templates are looked up in it) and may be
 * NULL (rules check without schemas/: table names are then not checked).
 * Problems are lines "rules/FILE: FIELD.PATH: reason\n" appended to
 * problems; a rule with one is left out of the set and loading goes on.
 * Fields BqTail has but Sluice does not use, and unknown fields, are lines
 * "rules/FILE: FIELD.PATH: ignored: why\n" appended to notes (may be NULL).
 * With problems NULL the first problem fails the call (-SL_ESCHEMA, err
 * names the file and field). A missing rules/ is an empty set. Returns
 * SL_OK, -SL_ESCHEMA, -SL_EIO (unreadable folder or file), -SL_ENOMEM.
 * Caller frees with sl_rules_destroy. */
SL_NODISCARD int sl_rules_load(const char *gateway_dir,
                               const struct sl_registry *reg,
                               const struct sl_rules_opts *o,
                               struct sl_buf *problems, struct sl_buf *notes,
                               struct sl_rules **out, struct sl_error *err);

/* One rule file's text as if it were rules/<name> (its extension picks YAML
 * or JSON), for tests, fuzzing and tools; SQLURL is resolved against
 * gateway_dir's rules/ (NULL: SQLURL is a problem). Otherwise as
 * sl_rules_load. */
SL_NODISCARD int sl_rules_parse(const char *name, const char *text, size_t len,
                                const char *gateway_dir,
                                const struct sl_registry *reg,
                                const struct sl_rules_opts *o,
                                struct sl_buf *problems, struct sl_buf *notes,
                                struct sl_rules **out, struct sl_error *err);

void sl_rules_destroy(struct sl_rules *rs); /* NULL ok */

/* Has any file the set was read from (rule files, SQLURL files) changed,
 * appeared or gone since? (names, sizes and modification times; a few
 * stat calls, no reading) */
bool sl_rules_changed(const struct sl_rules *rs);

size_t sl_rules_count(const struct sl_rules *rs);
const struct sl_rule *sl_rules_at(const struct sl_rules *rs, size_t idx);
const char *sl_rule_name(const struct sl_rule *r); /* "events", "a/b[1]" */
const char *sl_rule_file(const struct sl_rule *r); /* "rules/events.yaml" */
bool sl_rule_disabled(const struct sl_rule *r);
/* The text of the file r was read from, exactly as read (borrowed, valid
 * while the set lives; *out_len its bytes). sl_rules_parse of this text
 * under r's file name (without "rules/") gives r again: the service
 * records it, so that a batch is planned by its rule as it was when its
 * files were routed, whatever the file says by then. */
const char *sl_rule_text(const struct sl_rule *r, size_t *out_len);

/* ---- matching ----------------------------------------------------------- */

/* Where one file goes by one rule. Owned by its struct sl_rules_match. */
struct sl_rules_dest {
    const struct sl_rule *rule;      /* borrowed from the set */
    char *table;                     /* "dataset.table", expanded and checked */
    const struct sl_table *def;      /* its definition: the registry's table of
                                        that name, else Schema.Template's
                                        (borrowed; NULL when reg was NULL) */
    bool from_template;              /* table is not in the registry: made from
                                        Schema.Template on first use */
    const struct sl_table *load_def; /* what the files are validated against
                                    and loaded into: Transient.Template's,
                                    else def (borrowed) */
    unsigned batch_flags;            /* SL_BATCH_TRUNCATE (Override, no
                                        transient), SL_BATCH_EMPTY */
    bool transient;                  /* rows load into a per-batch table, then
                                        sl_rules_plan's SQL moves them */
    bool allow_field_addition;       /* Dest.AllowFieldAddition */
    uint32_t window_ms;              /* clock-aligned window; 0 = none (BqTail
                                        without Batch: a file is its own batch) */
    uint32_t max_files;              /* files per batch, 0 = no limit */
    uint64_t max_bytes;              /* bytes per batch, 0 = no limit */
    uint32_t max_reload;             /* MaxReload: load attempts, 0 = the
                                        gateway's retry bound */
    char *partition;  /* Partition expanded ("20240102"), or NULL */
    char *batch_key;  /* files with equal keys form one batch:
                         rule, table, partition, folder (unless
                         MultiPath), Pattern groups (UsePattern-
                         Hash) */
    char *vars;       /* the file's variables ($1.., Parameters,
                         $Date, $Hour, $Mod...) packed as
                         "name\0value\0"...; the batch's first
                         file's feed Transform, SQL, actions */
    size_t vars_size; /* bytes of vars */
    char *path;       /* the matched path ("/data/a.json") */
};

struct sl_rules_match {
    struct sl_rules_dest *dests; /* owned; in rule order */
    size_t n;                    /* 0: no enabled rule matches */
    size_t n_disabled;           /* disabled rules that match too (ignored) */
};

/* Match a file: raw_name is its path under raw/ ("data/a.json", matched as
 * "/data/a.json"), mtime_us its modification time (UTC microseconds since
 * the epoch: $Date, $Hour). On SL_OK out holds every enabled matching
 * rule's destination (n = 0: none; the caller falls back to raw/<table>/).
 * A file the rules cannot place fails with err saying why and naming the
 * rule and field: several enabled matches without fan_out, a Pattern that
 * does not match, a table name that is not safe after expansion, a table
 * neither in the registry nor made from a template (-SL_ESCHEMA); or
 * -SL_ENOMEM. out is empty after a failure. Thread-safe. Caller releases
 * out with sl_rules_match_release. */
SL_NODISCARD int sl_rules_match(const struct sl_rules *rs, const char *raw_name,
                                int64_t mtime_us, struct sl_rules_match *out,
                                struct sl_error *err);
void sl_rules_match_release(struct sl_rules_match *m);

/* The load options d's files are validated with: base (the gateway's for
 * the table: sluice.json's defaults and its per-table overrides; NULL = bq
 * load's defaults) with the options the rule gives (Dest.SourceFormat,
 * SkipLeadingRows, MaxBadRecords, ...) over it. out is the caller's, to
 * release with sl_gw_load_release. -SL_ENOMEM. Thread-safe. */
SL_NODISCARD int sl_rules_load_options(const struct sl_rules_dest *d,
                                       const struct sl_gw_load *base,
                                       struct sl_gw_load *out);

/* The end of the clock-aligned window of d that t_us falls in, in
 * microseconds: windows are [k*w, (k+1)*w); w = d's window, or
 * default_ms when d has none. */
int64_t sl_rules_window_end(const struct sl_rules_dest *d, uint32_t default_ms,
                            int64_t t_us);

/* $Mod(n)'s hash of a path: FNV-1a 64 of its bytes, then MurmurHash3's
 * fmix64 (docs/RULES.md gives test vectors). */
uint64_t sl_rules_path_hash(const char *path, size_t len);

/* ---- a batch ------------------------------------------------------------ */

/* What the caller knows of a batch. */
struct sl_rules_batch {
    const struct sl_rules_dest *dest; /* its first file's destination */
    const char *id;                   /* $BatchID, [0-9a-f]{16,}; names the
                                         transient table */
    const char *const *uris;          /* $LoadURIs: its files, as paths
                                         relative to the gateway, where the
                                         actions will find them */
    size_t n_uris;
    const char *error; /* $Error for OnFailure, else NULL */
};

/* The tables and SQL of a batch. Owned; release with sl_rules_plan_release
 * (before the registry goes: the tables are views of its tables). */
struct sl_rules_plan {
    struct sl_table *load_into; /* the table the batch's rows are appended
                                   to: the transient table, or the
                                   destination (a view) */
    struct sl_table **ensure;   /* tables to create if missing before the
                                   load (ensure_table), load_into included */
    size_t n_ensure;
    char **steps; /* SQL to run in the load's transaction after
                     the rows (struct sl_batch.post_sql) */
    size_t n_steps;
    char *cleanup;       /* run after the actions (drops the transient
                            table), or NULL */
    char *audit_table;   /* "dataset.table" the batch's records name
                            (struct sl_batch.audit_table) */
    char *dest_sql;      /* $DestTable: the destination in SQL */
    char *temp_sql;      /* $TempTable: the transient table in SQL
                            (the destination when none) */
    struct sl_buf notes; /* warnings, one a line: transient columns
                            the destination lacks (not copied) */
};

/* Plan batch b: the destination's and split targets' definitions, the
 * transient table (Transient.Dataset, or sluice_temp, named <table>_<first 16
 * hex of id>), the SQL (INSERT ... SELECT with Transform, SideInputs,
 * Criteria, dedupe; one per Split mapping; DELETE of the partition or table
 * first with Override), every name written through ops' quoting with wh's
 * catalog (wh may be NULL: SQL for display). Errors (-SL_ESCHEMA, err names
 * the rule and field): a Transform column the destination lacks, a table
 * missing from the registry, Partition on a table not partitioned by a
 * column, a variable whose value is not safe where the SQL uses it.
 * Thread-safe. */
SL_NODISCARD int sl_rules_plan(const struct sl_rules *rs,
                               const struct sl_rules_batch *b,
                               const struct sl_wh_ops *ops,
                               const struct sl_wh *wh,
                               struct sl_rules_plan *out, struct sl_error *err);
void sl_rules_plan_release(struct sl_rules_plan *p);

/* ---- actions ------------------------------------------------------------ */

/* What the actions run against. */
struct sl_rules_actx {
    const struct sl_rules *rules; /* the set the batch's rule is in */
    const struct sl_wh_ops *ops;  /* the warehouse's driver */
    struct sl_wh *wh;             /* open read-write, no load in progress */
    const char *gateway_dir;      /* absolute; delete and move stay inside */
    const struct sl_rules_batch *batch;
    const struct sl_rules_plan *plan;
    uint32_t http_timeout_ms; /* call, notify, push; 0 = 30 s */
    /* Told of each file a delete or move action removed (to NULL) or moved
     * (to its new path), paths relative to the gateway; also of one found
     * already gone or already moved (the actions run again after a crash).
     * May be NULL. Called on the thread running the actions. */
    void (*file_done)(void *ud, const char *from, const char *to);
    void *file_ud;
};

/* One action that ran (or was skipped). */
struct sl_rules_action_result {
    char where[96];  /* "OnSuccess[0].OnSuccess[1]" */
    char action[16]; /* "query", "delete", ... */
    int rc;          /* SL_OK or the failure's code */
    char msg[512];   /* what it did, or why it failed */
};

struct sl_rules_report {
    struct sl_rules_action_result *items; /* owned, in the order run */
    size_t n;
    size_t n_failed;
};

/* Run the rule's OnSuccess (success) or OnFailure actions of the batch in
 * order: an action that succeeds runs its own OnSuccess, one that fails its
 * OnFailure and stops its list. Actions never touch the rows the batch
 * loaded unless their SQL says so. Every action is in out; returns SL_OK
 * when all succeeded, else the first failure's code with err naming the
 * action ("OnSuccess[1] query: ..."); -SL_ENOMEM. Caller releases out with
 * sl_rules_report_release. */
SL_NODISCARD int sl_rules_run_actions(const struct sl_rules_dest *d,
                                      bool success,
                                      const struct sl_rules_actx *cx,
                                      struct sl_rules_report *out,
                                      struct sl_error *err);
void sl_rules_report_release(struct sl_rules_report *r);

/* The rule's actions, one a line ("OnSuccess[0] query -> ds.summary
 * (append)"), appended to out, for `sluice rules check`. -SL_ENOMEM. */
SL_NODISCARD int sl_rules_describe_actions(const struct sl_rule *r,
                                           struct sl_buf *out);

#endif
