/* cli.h - shared pieces of the sluice command: option parsing, output helpers.
 * cli. */
#ifndef SL_CLI_CLI_H
#define SL_CLI_CLI_H

#include "core/common.h"
#include "core/error.h"
#include "validate/validator.h"

#include <stdio.h>

#define SL_VERSION           "0.1.0"
#define SL_DEFAULT_WAREHOUSE "duckdb://./warehouse.duckdb"

/* Options of validate/load (and the shared ones of the other commands). */
struct cli_opts {
    const char *schemas;
    const char *table;
    const char *warehouse;
    const char *rejects;
    const char *format; /* NULL = from the file name */
    bool force;
    bool quiet;
    bool write;               /* query: open read-write */
    unsigned batch_flags;     /* SL_BATCH_TRUNCATE / SL_BATCH_EMPTY */
    uint32_t lock_timeout_ms; /* wait for a locked warehouse (default 60 s) */
    unsigned threads;
    struct sl_vopts v;
    const char **files;
    size_t n_files;
    const char *query_format;
};

/* Parse argv (after the subcommand) into o. Returns 0, or 2 after printing a
 * usage error. help is the command's --help text. */
int cli_parse(int argc, char **argv, struct cli_opts *o, const char *help,
              bool want_files);
void cli_print_error(const char *cmd, const struct sl_error *err);
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

int cmd_schema(int argc, char **argv);
int cmd_schema_infer(int argc, char **argv); /* infer_cmd.c */
int cmd_validate(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_run(int argc, char **argv);

#endif
