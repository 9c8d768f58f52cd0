/* config.h - a gateway's sluice.json: the warehouse, default load options by
 * bq load's names (per table overrides), batch window and limits, retry
 * bounds, status thresholds, how rules run (fan-out, webhook). Validated like a
 * table definition: an unknown key is refused with its path. gateway stage. */
#ifndef SL_GATEWAY_CONFIG_H
#define SL_GATEWAY_CONFIG_H

#include "core/buf.h"
#include "core/common.h"
#include "core/error.h"
#include "validate/validator.h"

/* Load options as a rule or a config gives them. */
struct sl_gw_load {
    int format;        /* -1 = from the file name, else enum sl_format */
    struct sl_vopts v; /* validator options; v.null_marker is null_marker */
    char *null_marker; /* owned, NULL = BigQuery's default */
    unsigned schema_update; /* schema_update_options: SL_WH_ALLOW_FIELD_*
                               (warehouse/evolve.h), 0 = none */
};

/* Defaults: format from the name, bq load's defaults, max_bad_records 0. */
void sl_gw_load_init(struct sl_gw_load *l);
/* Copy src into dst (dst's own copy of the strings); -SL_ENOMEM. */
SL_NODISCARD int sl_gw_load_copy(struct sl_gw_load *dst,
                                 const struct sl_gw_load *src);
void sl_gw_load_release(struct sl_gw_load *l);

struct sl_gw_table_opts {
    char *table; /* "dataset.table" or "table", owned */
    struct sl_gw_load load;
};

struct sl_gw_config {
    char *dir;              /* the gateway folder, absolute, owned */
    char *warehouse;        /* URI (a DuckDB path made absolute), owned */
    struct sl_gw_load load; /* defaults for every table */
    struct sl_gw_table_opts *tables; /* per-table overrides, owned */
    size_t n_tables;
    uint32_t window_ms;      /* batch window, aligned to the clock */
    uint32_t max_files;      /* files per batch (0 = no limit) */
    uint64_t max_bytes;      /* bytes per batch (0 = no limit) */
    uint32_t retry_attempts; /* tries before a file or batch gives up */
    uint32_t retry_initial_ms;
    uint32_t retry_max_ms;
    uint32_t delay_threshold_s; /* health: a pending file older is late */
    uint32_t failure_window_s;  /* health: failures this recent count */
    uint32_t rescan_ms;         /* periodic rescan of raw/ besides inotify */
    unsigned threads;           /* 0 = the CPU count */
    uint32_t max_in_flight;     /* files claimed and not yet loaded */
    bool fsync;                 /* fsync staged files before recording them */
    bool rules_fan_out;         /* rules.fan_out: a file matching several
                                   enabled rules feeds each (docs/RULES.md) */
    char *webhook_url;          /* rules.webhook_url: where notify and push
                                   post by default, owned, NULL = none */
};

/* The sluice.json written by `sluice init` (warehouse relative to DIR). */
extern const char sl_gw_default_config[];

/* Read and check DIR/sluice.json. Problems (unknown keys with their path, bad
 * values) are collected into problems as "sluice.json: PATH: reason\n" lines
 * and the call returns -SL_ESCHEMA when there is any; -SL_ENOTFOUND when the
 * file is missing. Caller frees with sl_gw_config_destroy. */
SL_NODISCARD int sl_gw_config_load(const char *dir, struct sl_buf *problems,
                                   struct sl_gw_config **out,
                                   struct sl_error *err);
void sl_gw_config_destroy(struct sl_gw_config *c); /* NULL ok */

/* Does every key under "tables" name a table of reg (as
 * sl_gw_config_load_for matches them: "dataset.table", or "table" for
 * main.table)? Each that does not is appended to problems as
 * "sluice.json: tables.KEY: no such table ..." with the nearest name of reg,
 * and the call returns -SL_ESCHEMA (err: the first); a key whose definition
 * was refused (its name in reg_problems, the registry's problem lines) is
 * let pass, as it is reported already. -SL_ENOMEM. */
SL_NODISCARD int sl_gw_config_check_tables(const struct sl_gw_config *c,
                                           const struct sl_registry *reg,
                                           const char *reg_problems,
                                           struct sl_buf *problems,
                                           struct sl_error *err);

/* The load options for a table ("dataset.table"): its override or the
 * defaults. Borrowed. */
const struct sl_gw_load *sl_gw_config_load_for(const struct sl_gw_config *c,
                                               const char *table);

/* Set one load option from a JSON value (a json_t *) by bq load's name
 * (snake_case, as in sluice.json; BqTail's CamelCase, as in rules, too).
 * Returns 1 if key is no load option, 0 when set, 2 after appending a
 * problem line ("FILE: PATH: reason\n") to problems (a bad value; 2, not
 * -1, which is -SL_ENOMEM), -SL_ENOMEM. schema_update_options takes a list
 * of ALLOW_FIELD_ADDITION / ALLOW_FIELD_RELAXATION. */
int sl_gw_load_option(struct sl_gw_load *l, const char *key,
                      const void *json_value, const char *file,
                      const char *path, struct sl_buf *problems);

/* The format a file is read in: the options' own, else from its name
 * (.csv/.tsv with .gz/.zst: CSV; anything else NDJSON). */
enum sl_format sl_gw_format_for(const struct sl_gw_load *l, const char *name);

#endif
