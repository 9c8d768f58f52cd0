/* cli.h - shared pieces of the sluice command: option parsing, output helpers.
 * cli. */
#ifndef SL_CLI_CLI_H
#define SL_CLI_CLI_H

#include "core/common.h"
#include "core/error.h"
#include "schema/schema.h"
#include "validate/validator.h"

#include <stdio.h>

#define SL_VERSION           "0.1.0"
#define SL_DEFAULT_WAREHOUSE "duckdb://./warehouse.duckdb"

/* The commands cli_parse knows; an option applies to a set of them. */
enum cli_cmd {
    CLI_VALIDATE = 1u << 0,
    CLI_LOAD = 1u << 1,
    CLI_QUERY = 1u << 2,
    CLI_APPLY = 1u << 3, /* schema apply */
};

/* --schema_update_option values (the load applies them in its transaction) */
enum {
    CLI_ALLOW_FIELD_ADDITION = 1u << 0,
    CLI_ALLOW_FIELD_RELAXATION = 1u << 1,
};

/* Options of every command (one struct: each command reads its own). */
struct cli_opts {
    enum cli_cmd cmd;
    const char *name; /* "validate", "schema apply", ... for messages */
    const char *schemas;
    const char *schema; /* --schema FILE | name:TYPE,... (or positional) */
    const char *table;  /* [DATASET.]TABLE, a PROJECT: part removed */
    char project[128];  /* that PROJECT, "" when none was given */
    bool autodetect;    /* a table with no definition gets the inferred one */
    unsigned schema_update; /* CLI_ALLOW_FIELD_* (--schema_update_option) */
    const char *warehouse;
    const char *rejects;
    const char *format;     /* validate/load input: "ndjson", "csv", NULL = from
                               the file name */
    const char *format_opt; /* the argument that gave the format, or NULL */
    const char *csv_opt;    /* the argument that gave the first CSV-only
                               option, or NULL (both from argv: print them up
                               to any '=') */
    bool force;
    bool quiet;
    bool write;               /* query: open read-write */
    unsigned batch_flags;     /* SL_BATCH_TRUNCATE / SL_BATCH_EMPTY */
    uint32_t lock_timeout_ms; /* wait for a locked warehouse (default 60 s) */
    unsigned threads;
    struct sl_vopts v;
    const char **files; /* owned array; entries borrowed from argv or strs */
    size_t n_files;
    char *strs; /* owned: a comma-separated SOURCE split in place */
    const char *query_format;
    const char *query_file; /* query --file */
};

/* Parse argv (after the subcommand) for cmd into o: options from one table
 * (cli/opts.c) that knows which commands and which input formats each
 * applies to; bq's spellings too (--max_bad_records, --flag=value,
 * --source_format NEWLINE_DELIMITED_JSON, --nofoo / --foo=false). usage is
 * the command's usage lines for --help, whose option list comes from the
 * table. validate and load take the positional form [PROJECT:]DATASET.TABLE
 * SOURCE [SCHEMA] when --table is not given. Returns 0, or an exit code after
 * a message (2 for every usage error); --help prints and exits 0. Release o
 * with cli_opts_release whatever it returns. */
int cli_parse(int argc, char **argv, enum cli_cmd cmd, const char *usage,
              struct cli_opts *o);
void cli_opts_release(struct cli_opts *o);
/* Print "sluice CMD: error: MESSAGE [SL_ENAME, class]" (docs/ERRORS.md) and
 * return code's exit status. */
int cli_fail(const char *cmd, int code, const char *fmt, ...) SL_PRINTF(3, 4);
/* Print err in that format; _then appends text (may be NULL) before the
 * code. */
void cli_print_error(const char *cmd, const struct sl_error *err);
void cli_print_error_then(const char *cmd, const struct sl_error *err,
                          const char *then);
double cli_now(void);

/* Paths an output file must never be: the inputs, and other files (the
 * warehouse and its side files, the table definition) each with what it is. */
struct cli_protect {
    const char *const *inputs; /* "-" entries are skipped */
    size_t n_inputs;
    const char *others[8];
    const char *what[8]; /* "the warehouse", ... */
    size_t n_others;
};

/* An output file written under a temporary name and renamed at the end. */
struct cli_out {
    const char *path; /* borrowed: where it lands */
    char tmp[4096];   /* the temporary file in the same folder */
    FILE *fp;         /* NULL once committed or aborted */
    bool direct;      /* a device or pipe, written in place */
};

/* Refuse (exit code 2, message on stderr) an output path that is a folder, an
 * input or one of p's other files; 0 if it is safe. Opens nothing. */
int cli_out_check(const char *cmd, const char *opt, const char *path,
                  const struct cli_protect *p);
/* Create the temporary file; 0, or an exit code after a message. A signal
 * that ends the run removes it. */
int cli_out_open(struct cli_out *o, const char *cmd, const char *path);
/* Close and rename into place; 0 or exit code 4 after a message. No-op when
 * not open. */
int cli_out_commit(struct cli_out *o, const char *cmd);
/* Close and remove the temporary file; no-op when not open. */
void cli_out_abort(struct cli_out *o);

/* The table a validate or load writes to: from the registry (--schemas),
 * from --schema (a BigQuery schema file or name:TYPE,... inline), or, with
 * --autodetect and no definition, inferred from the inputs (cli/tables.c).
 * 0 with *out_t (borrowed from *out_reg or owned in *out_own: release both
 * with cli_table_release), or an exit code after a message. */
/* The format a file is read in: --format (or --source_format), else its
 * name (.csv/.tsv with .gz/.zst: CSV; anything else NDJSON). */
enum sl_format cli_format_of(const struct cli_opts *o, const char *file);

int cli_table_resolve(struct cli_opts *o, struct sl_registry **out_reg,
                      struct sl_table **out_own, const struct sl_table **out_t);
void cli_table_release(struct sl_registry *reg, struct sl_table *own);
/* --schemas must name a folder: 0, or exit code 2 after a message naming the
 * path (missing, or a file: then --schema is suggested). */
int cli_check_schemas_dir(const char *cmd, const char *dir);

int cmd_schema(int argc, char **argv);
int cmd_schema_infer(int argc, char **argv); /* infer_cmd.c */
int cmd_validate(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_rules(int argc, char **argv); /* rules_cmd.c */
int cmd_status(int argc, char **argv);
int cmd_health(int argc, char **argv);
int cmd_retry(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_verify(int argc, char **argv);

#endif
